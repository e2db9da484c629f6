/*
 * Sync files through the Venus driver (VK_KHR_external_fence_fd and
 * VK_KHR_external_semaphore_fd, handle type SYNC_FD). Lavapipe has neither,
 * so this runs only through the driver, where sync files are the guest's own
 * (docs/driver.md). Checks:
 * - the external fence/semaphore properties (SYNC_FD for fences and binary
 *   semaphores only);
 * - a fence exported while its work is held back by an unsignalled timeline
 *   semaphore: the fd is not readable until the host signals, then the GPU's
 *   writes are visible; the export reset the fence (copy transference) and
 *   the fence can be submitted again;
 * - imports into fences: a readable fd, -1, and an eventfd standing in for a
 *   foreign sync file (not readable, then written); vkResetFences drops it;
 * - a binary semaphore exported from one queue and imported into another
 *   semaphore that a submission on the second queue waits on, with the data
 *   the first queue wrote read back on the second; the export unsignalled the
 *   first semaphore, which is then signalled and waited on again.
 * Prints deterministic `name unit value` lines; exit 0 when all pass.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vkt.h"

#define WORDS 1024u
#define BYTES (WORDS * 4u)
#define FILL_A 0xa5a5a5a5u
#define FILL_B 0x3c3c3c3cu
#define FILL_C 0x0f0f0f0fu

struct syncfd_test {
   struct vkt_context *ctx;
   VkDevice dev;
   PFN_vkGetFenceFdKHR GetFenceFd;
   PFN_vkImportFenceFdKHR ImportFenceFd;
   PFN_vkGetSemaphoreFdKHR GetSemaphoreFd;
   PFN_vkImportSemaphoreFdKHR ImportSemaphoreFd;
};

static bool
fd_readable(int fd, int timeout_ms)
{
   struct pollfd pfd = { .fd = fd, .events = POLLIN };
   return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

static VkSemaphore
semaphore_create(struct syncfd_test *t, VkSemaphoreType type, bool exportable)
{
   const VkExportSemaphoreCreateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   const VkSemaphoreTypeCreateInfo type_info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
      .pNext = exportable ? &export : NULL,
      .semaphoreType = type,
   };
   const VkSemaphoreCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
      .pNext = &type_info,
   };
   VkSemaphore sem;
   VKT_CALL(vkCreateSemaphore(t->dev, &info, NULL, &sem));
   return sem;
}

static VkFence
fence_create(struct syncfd_test *t)
{
   const VkExportFenceCreateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   const VkFenceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
      .pNext = &export,
   };
   VkFence fence;
   VKT_CALL(vkCreateFence(t->dev, &info, NULL, &fence));
   return fence;
}

/* fills buf with value, then makes the writes visible to the host */
static VkCommandBuffer
record_fill(struct syncfd_test *t, VkCommandPool pool, const struct vkt_buffer *buf, uint32_t value)
{
   VkCommandBuffer cmd = vkt_cmd_begin_in(t->ctx, pool, 0);
   vkCmdFillBuffer(cmd, buf->buffer, 0, BYTES, value);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
   VKT_CALL(vkEndCommandBuffer(cmd));
   return cmd;
}

static uint32_t
count_words(struct syncfd_test *t, const struct vkt_buffer *buf, uint32_t value)
{
   vkt_buffer_invalidate(t->ctx, buf);
   const uint32_t *words = buf->map;
   uint32_t n = 0;
   for (uint32_t i = 0; i < WORDS; i++)
      n += words[i] == value;
   return n;
}

static void
check_properties(struct syncfd_test *t)
{
   struct vkt_context *ctx = t->ctx;
   const VkPhysicalDeviceExternalFenceInfo fence_info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_FENCE_INFO,
      .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   VkExternalFenceProperties fence = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_FENCE_PROPERTIES };
   vkGetPhysicalDeviceExternalFenceProperties(ctx->physical_device, &fence_info, &fence);
   vkt_check(ctx,
             fence.externalFenceFeatures == (VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT |
                                             VK_EXTERNAL_FENCE_FEATURE_IMPORTABLE_BIT),
             "fence SYNC_FD features 0x%x", fence.externalFenceFeatures);
   vkt_check(ctx, fence.compatibleHandleTypes == VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
             "fence SYNC_FD compatible types 0x%x", fence.compatibleHandleTypes);

   VkPhysicalDeviceExternalFenceInfo opaque_info = fence_info;
   opaque_info.handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_OPAQUE_FD_BIT;
   vkGetPhysicalDeviceExternalFenceProperties(ctx->physical_device, &opaque_info, &fence);
   vkt_check(ctx, fence.externalFenceFeatures == 0, "fence OPAQUE_FD features 0x%x",
             fence.externalFenceFeatures);

   VkSemaphoreTypeCreateInfo type = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
      .semaphoreType = VK_SEMAPHORE_TYPE_BINARY,
   };
   const VkPhysicalDeviceExternalSemaphoreInfo sem_info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
      .pNext = &type,
      .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   VkExternalSemaphoreProperties sem = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES };
   vkGetPhysicalDeviceExternalSemaphoreProperties(ctx->physical_device, &sem_info, &sem);
   vkt_check(ctx,
             sem.externalSemaphoreFeatures == (VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
                                               VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT),
             "binary semaphore SYNC_FD features 0x%x", sem.externalSemaphoreFeatures);
   type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
   vkGetPhysicalDeviceExternalSemaphoreProperties(ctx->physical_device, &sem_info, &sem);
   vkt_check(ctx, sem.externalSemaphoreFeatures == 0,
             "timeline semaphore SYNC_FD features 0x%x", sem.externalSemaphoreFeatures);
   vkt_print_u64("properties", "ok", 1);
}

/* A fence exported while its batch waits on a timeline value the host
 * signals later. Returns a dup of the exported (by then readable) fd. */
static int
check_fence_export(struct syncfd_test *t, const struct vkt_buffer *buf)
{
   struct vkt_context *ctx = t->ctx;
   VkSemaphore gate = semaphore_create(t, VK_SEMAPHORE_TYPE_TIMELINE, false);
   VkFence fence = fence_create(t);
   VkCommandBuffer cmd = record_fill(t, ctx->cmd_pool, buf, FILL_A);

   const uint64_t gate_value = 1;
   const VkTimelineSemaphoreSubmitInfo values = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = 1,
      .pWaitSemaphoreValues = &gate_value,
   };
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .pNext = &values,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &gate,
      .pWaitDstStageMask = &stage,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   VKT_CALL(vkQueueSubmit(ctx->queue, 1, &submit, fence));

   const VkFenceGetFdInfoKHR get = {
      .sType = VK_STRUCTURE_TYPE_FENCE_GET_FD_INFO_KHR,
      .fence = fence,
      .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   int fd = -1;
   VKT_CALL(t->GetFenceFd(t->dev, &get, &fd));
   vkt_check(ctx, fd >= 0, "a pending fence exported as fd %d", fd);
   if (fd < 0)
      vkt_die("no sync file to go on with");
   usleep(20 * 1000);
   const bool early = fd_readable(fd, 0);
   vkt_check(ctx, !early, "the sync file is readable before its work could run");
   vkt_check(ctx, count_words(t, buf, FILL_A) == 0, "the gated fill ran early");

   const VkSemaphoreSignalInfo signal = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
      .semaphore = gate,
      .value = gate_value,
   };
   /* Validation layers 1.4 (Debian 13) take the batch of a fence exported as a
    * sync file for done, its timeline wait included, and report this signal
    * as not increasing the value (VUID-VkSemaphoreSignalInfo-value-03258):
    * the host signal after the export is what this test is about */
   ctx->invalid_on_purpose = true;
   VKT_CALL(vkSignalSemaphore(t->dev, &signal));
   ctx->invalid_on_purpose = false;
   const bool done = fd_readable(fd, 20000);
   vkt_check(ctx, done, "the sync file did not become readable");
   const uint32_t filled = count_words(t, buf, FILL_A);
   vkt_check(ctx, filled == WORDS, "%u of %u words filled when the sync file signalled", filled,
             WORDS);
   vkt_print_u64("fence_export_filled", "words", filled);

   /* copy transference: the export reset the fence */
   const VkResult status = vkGetFenceStatus(t->dev, fence);
   vkt_check(ctx, status == VK_NOT_READY, "exported fence status %s (want NOT_READY)",
             vkt_result_string(status));
   /* and it works again */
   VKT_CALL(vkQueueSubmit(ctx->queue, 0, NULL, fence));
   VKT_CALL(vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX));
   vkt_print_u64("fence_export_reset", "ok", status == VK_NOT_READY);

   const int copy = dup(fd);
   close(fd);
   VKT_CALL(vkQueueWaitIdle(ctx->queue));
   vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &cmd);
   vkDestroyFence(t->dev, fence, NULL);
   vkDestroySemaphore(t->dev, gate, NULL);
   return copy;
}

static void
fence_import(struct syncfd_test *t, VkFence fence, int fd)
{
   const VkImportFenceFdInfoKHR import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_FENCE_FD_INFO_KHR,
      .fence = fence,
      .flags = VK_FENCE_IMPORT_TEMPORARY_BIT,
      .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
      .fd = fd,
   };
   VKT_CALL(t->ImportFenceFd(t->dev, &import));
}

static void
check_fence_import(struct syncfd_test *t, int signalled_fd)
{
   struct vkt_context *ctx = t->ctx;
   VkFence fence = fence_create(t);
   uint32_t ok = 0;

   /* a signalled sync file, then back to the permanent payload */
   fence_import(t, fence, signalled_fd);
   ok += vkt_check(ctx, vkGetFenceStatus(t->dev, fence) == VK_SUCCESS,
                   "fence with a signalled sync file is not signalled");
   VKT_CALL(vkResetFences(t->dev, 1, &fence));
   ok += vkt_check(ctx, vkGetFenceStatus(t->dev, fence) == VK_NOT_READY,
                   "reset did not restore the unsignalled permanent payload");

   /* -1: already signalled */
   fence_import(t, fence, -1);
   ok += vkt_check(ctx, vkWaitForFences(t->dev, 1, &fence, VK_TRUE, 0) == VK_SUCCESS,
                   "fence imported from -1 is not signalled");
   VKT_CALL(vkResetFences(t->dev, 1, &fence));

   /* a sync file from elsewhere: an eventfd, signalled by writing it */
   const int efd = eventfd(0, EFD_CLOEXEC);
   if (efd < 0)
      vkt_die("eventfd failed");
   fence_import(t, fence, dup(efd));
   ok += vkt_check(ctx, vkGetFenceStatus(t->dev, fence) == VK_NOT_READY,
                   "fence with an unsignalled sync file is signalled");
   const VkResult timeout = vkWaitForFences(t->dev, 1, &fence, VK_TRUE, 10 * 1000 * 1000);
   ok += vkt_check(ctx, timeout == VK_TIMEOUT, "wait on an unsignalled sync file gave %s",
                   vkt_result_string(timeout));
   const uint64_t one = 1;
   if (write(efd, &one, sizeof(one)) != sizeof(one))
      vkt_die("eventfd write failed");
   ok += vkt_check(ctx, vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX) == VK_SUCCESS,
                   "wait on a signalled sync file failed");
   VKT_CALL(vkResetFences(t->dev, 1, &fence));
   ok += vkt_check(ctx, vkGetFenceStatus(t->dev, fence) == VK_NOT_READY,
                   "reset did not drop the imported payload");
   close(efd);
   vkt_print_u64("fence_import_checks", "passed", ok);
   vkDestroyFence(t->dev, fence, NULL);
}

static void
check_semaphore(struct syncfd_test *t, const struct vkt_buffer *src, const struct vkt_buffer *dst)
{
   struct vkt_context *ctx = t->ctx;
   VkSemaphore gate = semaphore_create(t, VK_SEMAPHORE_TYPE_TIMELINE, false);
   VkSemaphore exported = semaphore_create(t, VK_SEMAPHORE_TYPE_BINARY, true);
   VkSemaphore imported = semaphore_create(t, VK_SEMAPHORE_TYPE_BINARY, false);
   VkCommandBuffer fill = record_fill(t, ctx->cmd_pool, src, FILL_B);

   /* queue 1: the fill, held back by the gate, signals `exported` */
   const uint64_t gate_value = 1;
   const VkTimelineSemaphoreSubmitInfo values = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = 1,
      .pWaitSemaphoreValues = &gate_value,
   };
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
   const VkSubmitInfo first = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .pNext = &values,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &gate,
      .pWaitDstStageMask = &stage,
      .commandBufferCount = 1,
      .pCommandBuffers = &fill,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &exported,
   };
   VKT_CALL(vkQueueSubmit(ctx->queue, 1, &first, VK_NULL_HANDLE));

   const VkSemaphoreGetFdInfoKHR get = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
      .semaphore = exported,
      .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   int fd = -1;
   /* invalid usage on purpose (VUID-VkSemaphoreGetFdInfoKHR-handleType-03254,
    * reported by validation layers 1.4): the signal depends on a timeline
    * wait that the host resolves only after the export */
   ctx->invalid_on_purpose = true;
   VKT_CALL(t->GetSemaphoreFd(t->dev, &get, &fd));
   ctx->invalid_on_purpose = false;
   vkt_check(ctx, fd >= 0, "a pending semaphore exported as fd %d", fd);
   if (fd < 0)
      vkt_die("no sync file to go on with");
   vkt_check(ctx, !fd_readable(fd, 10), "semaphore sync file readable before its work ran");

   const VkImportSemaphoreFdInfoKHR import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
      .semaphore = imported,
      .flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
      .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
      .fd = fd,
   };
   VKT_CALL(t->ImportSemaphoreFd(t->dev, &import));

   const VkSemaphoreSignalInfo signal = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
      .semaphore = gate,
      .value = gate_value,
   };
   VKT_CALL(vkSignalSemaphore(t->dev, &signal));

   /* queue 2: copies what queue 1 wrote, after waiting on the import */
   VkCommandBuffer copy = vkt_cmd_begin_in(ctx, ctx->cmd_pool2, 0);
   const VkBufferCopy region = { 0, 0, BYTES };
   vkCmdCopyBuffer(copy, src->buffer, dst->buffer, 1, &region);
   vkt_cmd_memory_barrier(copy, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   VKT_CALL(vkEndCommandBuffer(copy));
   const VkSubmitInfo second = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &imported,
      .pWaitDstStageMask = &stage,
      .commandBufferCount = 1,
      .pCommandBuffers = &copy,
   };
   VkFence fence;
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VKT_CALL(vkCreateFence(t->dev, &fence_info, NULL, &fence));
   VKT_CALL(vkQueueSubmit(ctx->queue2, 1, &second, fence));
   VKT_CALL(vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX));
   const uint32_t copied = count_words(t, dst, FILL_B);
   vkt_check(ctx, copied == WORDS, "%u of %u words copied on the second queue", copied, WORDS);
   vkt_print_u64("semaphore_copied", "words", copied);

   /* The export was a wait: `exported` is unsignalled, so it can be
    * signalled and waited on again. */
   VKT_CALL(vkResetFences(t->dev, 1, &fence));
   VkCommandBuffer refill = record_fill(t, ctx->cmd_pool, src, FILL_C);
   const VkSubmitInfo again = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &refill,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &exported,
   };
   VKT_CALL(vkQueueSubmit(ctx->queue, 1, &again, VK_NULL_HANDLE));
   const VkSubmitInfo consume = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &exported,
      .pWaitDstStageMask = &stage,
      .commandBufferCount = 1,
      .pCommandBuffers = &copy,
   };
   VKT_CALL(vkQueueSubmit(ctx->queue2, 1, &consume, fence));
   VKT_CALL(vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX));
   const uint32_t recopied = count_words(t, dst, FILL_C);
   vkt_check(ctx, recopied == WORDS, "%u of %u words copied after re-signalling", recopied,
             WORDS);
   vkt_print_u64("semaphore_resignalled", "words", recopied);

   VKT_CALL(vkDeviceWaitIdle(t->dev));
   vkDestroyFence(t->dev, fence, NULL);
   vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &fill);
   vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &refill);
   vkFreeCommandBuffers(t->dev, ctx->cmd_pool2, 1, &copy);
   vkDestroySemaphore(t->dev, imported, NULL);
   vkDestroySemaphore(t->dev, exported, NULL);
   vkDestroySemaphore(t->dev, gate, NULL);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "syncfd");
   static const char *const exts[] = {
      VK_KHR_EXTERNAL_FENCE_FD_EXTENSION_NAME,
      VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME,
   };
   for (unsigned i = 0; i < 2; i++) {
      if (!vkt_has_device_extension(&ctx, exts[i]))
         vkt_die("the device lacks %s", exts[i]);
   }
   VkPhysicalDeviceVulkan12Features v12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .timelineSemaphore = VK_TRUE,
   };
   const struct vkt_device_info info = {
      .next = &v12,
      .extensions = exts,
      .extension_count = 2,
      .want_second_queue = true,
   };
   vkt_device_init(&ctx, &info);

   struct syncfd_test t = { .ctx = &ctx, .dev = ctx.device };
   t.GetFenceFd = (PFN_vkGetFenceFdKHR)vkGetDeviceProcAddr(t.dev, "vkGetFenceFdKHR");
   t.ImportFenceFd = (PFN_vkImportFenceFdKHR)vkGetDeviceProcAddr(t.dev, "vkImportFenceFdKHR");
   t.GetSemaphoreFd = (PFN_vkGetSemaphoreFdKHR)vkGetDeviceProcAddr(t.dev, "vkGetSemaphoreFdKHR");
   t.ImportSemaphoreFd =
      (PFN_vkImportSemaphoreFdKHR)vkGetDeviceProcAddr(t.dev, "vkImportSemaphoreFdKHR");
   if (!t.GetFenceFd || !t.ImportFenceFd || !t.GetSemaphoreFd || !t.ImportSemaphoreFd)
      vkt_die("sync-file entry points missing");

   struct vkt_buffer a, b;
   const VkBufferUsageFlags usage =
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
   vkt_buffer_create(&ctx, BYTES, usage, VKT_MEM_READBACK, &a);
   vkt_buffer_create(&ctx, BYTES, usage, VKT_MEM_READBACK, &b);
   memset(a.map, 0, BYTES);
   memset(b.map, 0, BYTES);
   vkt_buffer_flush(&ctx, &a);
   vkt_buffer_flush(&ctx, &b);

   check_properties(&t);
   const int signalled_fd = check_fence_export(&t, &a);
   check_fence_import(&t, signalled_fd);
   check_semaphore(&t, &a, &b);

   vkt_buffer_destroy(&ctx, &a);
   vkt_buffer_destroy(&ctx, &b);
   return vkt_finish(&ctx);
}
