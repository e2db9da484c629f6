/*
 * extmem: VK_KHR_external_memory_fd with OPAQUE_FD handles, on one device and
 * between two VkDevices of one instance. Two exportable allocations:
 *
 * host-visible (mapped), 4 quarters of EXTMEM_SIZE bytes:
 *   Q0  CPU writes through the exporting memory's mapping;
 *   Q1  vkCmdFillBuffer on the exporting device;
 *   Q2  CPU writes through the mapping of an import on the same device;
 *   Q3  first half: the GPU copies Q2 through the import's buffer;
 *       second half: the second device copies Q0 through its import.
 * Every byte is checked through the exporter's mapping and the import's.
 *
 * device-local (never mapped; the most device-local type that is not
 * host-visible when there is one): a staging upload and a fill, read back
 * through an import on the same device and one on the second device, which
 * then fills a range the first device must see.
 *
 * Buffers move between the devices with queue-family ownership transfers
 * through VK_QUEUE_FAMILY_EXTERNAL. Each import takes an fd of its own from
 * vkGetMemoryFdKHR (an import consumes the fd).
 */
#include <stdio.h>
#include <string.h>

#include "vkt.h"

#define EXTMEM_SIZE 65536u
#define EXTMEM_QUARTER (EXTMEM_SIZE / 4u)
#define EXTMEM_FILL_A 0xa5c3e1f0u
#define EXTMEM_FILL_D 0x5a3c1e0fu
#define EXTMEM_FILL_B 0x33cc55aau
#define EXTMEM_USAGE                                                                        \
   (VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |                  \
    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT)

/* a buffer over exported or imported memory */
struct extmem_buffer {
   VkBuffer buffer;
   VkDeviceMemory memory;
   void *map;
};

static uint32_t
extmem_word(uint32_t seed, uint32_t i)
{
   uint32_t x = (i + 1u) * 0x9e3779b9u ^ seed;
   x ^= x >> 15;
   return x * 0x2c1b3c6du;
}

static void
extmem_pattern(void *dst, uint32_t seed, uint32_t bytes)
{
   uint32_t *w = dst;
   for (uint32_t i = 0; i < bytes / 4u; i++)
      w[i] = extmem_word(seed, i);
}

static void
extmem_fill_words(void *dst, uint32_t value, uint32_t bytes)
{
   uint32_t *w = dst;
   for (uint32_t i = 0; i < bytes / 4u; i++)
      w[i] = value;
}

static VkBuffer
extmem_buffer_handle(struct vkt_context *ctx)
{
   const VkExternalMemoryBufferCreateInfo external = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = &external,
      .size = EXTMEM_SIZE,
      .usage = EXTMEM_USAGE,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(ctx->device, &info, NULL, &buffer));
   return buffer;
}

/* Memory requirements of an external buffer: the allocation size and the
 * memory type every allocation of this program uses. */
static VkDeviceSize
extmem_requirements(struct vkt_context *ctx, bool host_visible, uint32_t *out_type)
{
   VkBuffer buffer = extmem_buffer_handle(ctx);
   VkMemoryDedicatedRequirements dedicated = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS,
   };
   VkMemoryRequirements2 reqs = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2,
      .pNext = &dedicated,
   };
   const VkBufferMemoryRequirementsInfo2 info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
      .buffer = buffer,
   };
   vkGetBufferMemoryRequirements2(ctx->device, &info, &reqs);
   vkDestroyBuffer(ctx->device, buffer, NULL);
   if (dedicated.requiresDedicatedAllocation)
      vkt_die("%s: external buffers require dedicated allocations (not covered)", ctx->name);

   const uint32_t bits = reqs.memoryRequirements.memoryTypeBits;
   uint32_t type = VKT_NO_MEMORY_TYPE;
   if (host_visible) {
      type = vkt_memory_type(ctx, bits,
                             VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                             0);
   } else {
      /* device-local and not host-visible where the device has such a type */
      for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount && type == VKT_NO_MEMORY_TYPE;
           i++) {
         const VkMemoryPropertyFlags f = ctx->mem_props.memoryTypes[i].propertyFlags;
         if ((bits & (1u << i)) && (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
             !(f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
            type = i;
      }
      if (type == VKT_NO_MEMORY_TYPE)
         type = vkt_memory_type(ctx, bits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
   }
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("%s: no memory type for an external %s buffer", ctx->name,
              host_visible ? "host-visible" : "device-local");
   fprintf(stderr, "extmem: %s: memory type %u (flags 0x%x), %llu bytes\n",
           host_visible ? "host-visible" : "device-local", type,
           (unsigned)ctx->mem_props.memoryTypes[type].propertyFlags,
           (unsigned long long)reqs.memoryRequirements.size);
   *out_type = type;
   return reqs.memoryRequirements.size;
}

/* An exportable allocation (fd < 0) or an import of fd, with a buffer bound
 * to it, mapped when asked. */
static void
extmem_buffer_create(struct vkt_context *ctx,
                     VkDeviceSize alloc_size,
                     uint32_t type,
                     int fd,
                     bool map,
                     struct extmem_buffer *out)
{
   memset(out, 0, sizeof(*out));
   out->buffer = extmem_buffer_handle(ctx);
   const VkExportMemoryAllocateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkImportMemoryFdInfoKHR import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      .fd = fd,
   };
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = fd < 0 ? (const void *)&export : (const void *)&import,
      .allocationSize = alloc_size,
      .memoryTypeIndex = type,
   };
   VKT_CALL(vkAllocateMemory(ctx->device, &info, NULL, &out->memory));
   VKT_CALL(vkBindBufferMemory(ctx->device, out->buffer, out->memory, 0));
   if (map)
      VKT_CALL(vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->map));
}

static void
extmem_buffer_destroy(struct vkt_context *ctx, struct extmem_buffer *buf)
{
   if (buf->map)
      vkUnmapMemory(ctx->device, buf->memory);
   vkDestroyBuffer(ctx->device, buf->buffer, NULL);
   vkFreeMemory(ctx->device, buf->memory, NULL);
   memset(buf, 0, sizeof(*buf));
}

static int
extmem_export(struct vkt_context *ctx, const struct extmem_buffer *buf)
{
   const VkMemoryGetFdInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
      .memory = buf->memory,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   /* an extension command: the loader does not export it */
   const PFN_vkGetMemoryFdKHR get_fd =
      (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(ctx->device, "vkGetMemoryFdKHR");
   if (!get_fd)
      vkt_die("%s: no vkGetMemoryFdKHR", ctx->name);
   int fd = -1;
   VKT_CALL(get_fd(ctx->device, &info, &fd));
   if (fd < 0)
      vkt_die("%s: vkGetMemoryFdKHR returned fd %d", ctx->name, fd);
   return fd;
}

/* Ownership of a buffer to (release) or from (acquire) the other device. */
static void
extmem_ownership(VkCommandBuffer cmd, VkBuffer buffer, uint32_t family, bool release)
{
   const VkBufferMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
      .srcAccessMask = release ? VK_ACCESS_TRANSFER_WRITE_BIT : 0,
      .dstAccessMask = release ? 0 : VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
      .srcQueueFamilyIndex = release ? family : VK_QUEUE_FAMILY_EXTERNAL,
      .dstQueueFamilyIndex = release ? VK_QUEUE_FAMILY_EXTERNAL : family,
      .buffer = buffer,
      .offset = 0,
      .size = VK_WHOLE_SIZE,
   };
   vkCmdPipelineBarrier(cmd,
                        release ? VK_PIPELINE_STAGE_TRANSFER_BIT
                                : VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                        release ? VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT
                                : VK_PIPELINE_STAGE_TRANSFER_BIT,
                        0, 0, NULL, 1, &barrier, 0, NULL);
}

static void
extmem_to_host(VkCommandBuffer cmd)
{
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
}

static void
extmem_transfer_barrier(VkCommandBuffer cmd)
{
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
}

/* Compares `size` bytes; counts and reports the first wrong words. */
static bool
extmem_compare(struct vkt_context *ctx, const char *what, const void *got, const void *want,
               uint32_t size)
{
   const uint32_t *g = got, *w = want;
   uint32_t bad = 0;
   for (uint32_t i = 0; i < size / 4u; i++) {
      if (g[i] != w[i] && bad++ < 4)
         fprintf(stderr, "extmem: %s: word %u is 0x%08x, want 0x%08x\n", what, i, g[i], w[i]);
   }
   return vkt_check(ctx, !bad, "%s: %u word(s) wrong", what, bad);
}

static void
extmem_print_properties(struct vkt_context *ctx)
{
   const VkPhysicalDeviceExternalBufferInfo info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .usage = EXTMEM_USAGE,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   VkExternalBufferProperties props = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
   vkGetPhysicalDeviceExternalBufferProperties(ctx->physical_device, &info, &props);
   const VkExternalMemoryProperties *p = &props.externalMemoryProperties;
   const VkExternalMemoryFeatureFlags both =
      VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT | VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
   vkt_check(ctx, (p->externalMemoryFeatures & both) == both,
             "OPAQUE_FD buffers are not exportable and importable (features 0x%x)",
             p->externalMemoryFeatures);
   vkt_check(ctx, p->compatibleHandleTypes & VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
             "OPAQUE_FD not compatible with itself (0x%x)", p->compatibleHandleTypes);
   vkt_print_hex("extmem.opaque_fd.buffer_features", p->externalMemoryFeatures);
   vkt_print_hex("extmem.opaque_fd.compatible", p->compatibleHandleTypes);
   vkt_print_hex("extmem.opaque_fd.export_from_imported", p->exportFromImportedHandleTypes);
}

/* The second device: a vkt_context sharing ctx's instance. */
static void
extmem_second_device(const struct vkt_context *ctx,
                     const struct vkt_device_info *info,
                     struct vkt_context *out)
{
   *out = *ctx;
   out->device = VK_NULL_HANDLE;
   vkt_device_init(out, info);
}

static void
extmem_second_device_fini(struct vkt_context *ctx2)
{
   VKT_CALL(vkDeviceWaitIdle(ctx2->device));
   if (ctx2->cmd_pool2 != ctx2->cmd_pool)
      vkDestroyCommandPool(ctx2->device, ctx2->cmd_pool2, NULL);
   vkDestroyCommandPool(ctx2->device, ctx2->cmd_pool, NULL);
   vkDestroyDevice(ctx2->device, NULL);
}

static void
extmem_host_visible(struct vkt_context *ctx, struct vkt_context *ctx2)
{
   uint32_t type;
   const VkDeviceSize alloc_size = extmem_requirements(ctx, true, &type);
   static uint8_t want[EXTMEM_SIZE];

   struct extmem_buffer a;
   extmem_buffer_create(ctx, alloc_size, type, -1, true, &a);
   /* Q0 by the CPU, Q1 by the GPU */
   extmem_pattern(a.map, 0x1111u, EXTMEM_QUARTER);
   extmem_pattern(want, 0x1111u, EXTMEM_QUARTER);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdFillBuffer(cmd, a.buffer, EXTMEM_QUARTER, EXTMEM_QUARTER, EXTMEM_FILL_A);
   extmem_to_host(cmd);
   vkt_cmd_submit_wait(ctx, cmd);
   extmem_fill_words(want + EXTMEM_QUARTER, EXTMEM_FILL_A, EXTMEM_QUARTER);
   extmem_compare(ctx, "host-visible: Q0+Q1 through the exporter", a.map, want,
                  2 * EXTMEM_QUARTER);

   /* an import on the same device sees the same bytes, and its writes */
   struct extmem_buffer a2;
   extmem_buffer_create(ctx, alloc_size, type, extmem_export(ctx, &a), true, &a2);
   vkt_check(ctx, a2.map != NULL, "imported host-visible memory is not mapped");
   extmem_compare(ctx, "host-visible: Q0+Q1 through the import", a2.map, want,
                  2 * EXTMEM_QUARTER);
   extmem_pattern((uint8_t *)a2.map + 2 * EXTMEM_QUARTER, 0x2222u, EXTMEM_QUARTER);
   extmem_pattern(want + 2 * EXTMEM_QUARTER, 0x2222u, EXTMEM_QUARTER);
   extmem_compare(ctx, "host-visible: Q2 written through the import, read by the exporter",
                  (uint8_t *)a.map + 2 * EXTMEM_QUARTER, want + 2 * EXTMEM_QUARTER,
                  EXTMEM_QUARTER);

   /* the GPU reads the import's buffer and writes the exporter's */
   cmd = vkt_cmd_begin(ctx);
   const VkBufferCopy q2_to_q3 = { 2 * EXTMEM_QUARTER, 3 * EXTMEM_QUARTER, EXTMEM_QUARTER / 2 };
   vkCmdCopyBuffer(cmd, a2.buffer, a.buffer, 1, &q2_to_q3);
   extmem_transfer_barrier(cmd);
   extmem_ownership(cmd, a.buffer, ctx->queue_family, true);
   extmem_to_host(cmd);
   vkt_cmd_submit_wait(ctx, cmd);
   memcpy(want + 3 * EXTMEM_QUARTER, want + 2 * EXTMEM_QUARTER, EXTMEM_QUARTER / 2);

   /* the second device: reads Q0..Q2, copies half of Q0 into Q3 */
   struct extmem_buffer b;
   extmem_buffer_create(ctx2, alloc_size, type, extmem_export(ctx, &a), true, &b);
   struct vkt_buffer rb;
   vkt_buffer_create(ctx2, EXTMEM_SIZE, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &rb);
   cmd = vkt_cmd_begin(ctx2);
   extmem_ownership(cmd, b.buffer, ctx2->queue_family, false);
   const VkBufferCopy q0_to_q3 = { EXTMEM_QUARTER / 2, 3 * EXTMEM_QUARTER + EXTMEM_QUARTER / 2,
                                   EXTMEM_QUARTER / 2 };
   const VkBufferCopy all = { 0, 0, 3 * EXTMEM_QUARTER + EXTMEM_QUARTER / 2 };
   vkCmdCopyBuffer(cmd, b.buffer, rb.buffer, 1, &all);
   vkCmdCopyBuffer(cmd, b.buffer, b.buffer, 1, &q0_to_q3);
   extmem_transfer_barrier(cmd);
   extmem_ownership(cmd, b.buffer, ctx2->queue_family, true);
   extmem_to_host(cmd);
   vkt_cmd_submit_wait(ctx2, cmd);
   vkt_buffer_invalidate(ctx2, &rb);
   extmem_compare(ctx, "host-visible: read by the second device", rb.map, want,
                  3 * EXTMEM_QUARTER + EXTMEM_QUARTER / 2);
   memcpy(want + 3 * EXTMEM_QUARTER + EXTMEM_QUARTER / 2, want + EXTMEM_QUARTER / 2,
          EXTMEM_QUARTER / 2);

   extmem_compare(ctx, "host-visible: all through the exporter", a.map, want, EXTMEM_SIZE);
   extmem_compare(ctx, "host-visible: all through the same-device import", a2.map, want,
                  EXTMEM_SIZE);
   extmem_compare(ctx, "host-visible: all through the second device's import", b.map, want,
                  EXTMEM_SIZE);
   vkt_print_hex("extmem.host_visible.exporter", vkt_digest(a.map, EXTMEM_SIZE));
   vkt_print_hex("extmem.host_visible.import", vkt_digest(a2.map, EXTMEM_SIZE));
   vkt_print_hex("extmem.host_visible.second_device", vkt_digest(b.map, EXTMEM_SIZE));

   /* the import outlives the exporter */
   extmem_buffer_destroy(ctx, &a);
   extmem_compare(ctx, "host-visible: import after the exporter was freed", a2.map, want,
                  EXTMEM_SIZE);
   vkt_buffer_destroy(ctx2, &rb);
   extmem_buffer_destroy(ctx2, &b);
   extmem_buffer_destroy(ctx, &a2);
}

static void
extmem_device_local(struct vkt_context *ctx, struct vkt_context *ctx2)
{
   uint32_t type;
   const VkDeviceSize alloc_size = extmem_requirements(ctx, false, &type);
   static uint8_t want[EXTMEM_SIZE];

   /* upload the first half, fill the second */
   struct extmem_buffer d;
   extmem_buffer_create(ctx, alloc_size, type, -1, false, &d);
   struct vkt_buffer staging, rb;
   vkt_buffer_create(ctx, EXTMEM_SIZE / 2, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_UPLOAD,
                     &staging);
   vkt_buffer_create(ctx, EXTMEM_SIZE, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &rb);
   extmem_pattern(staging.map, 0x3333u, EXTMEM_SIZE / 2);
   vkt_buffer_flush(ctx, &staging);
   extmem_pattern(want, 0x3333u, EXTMEM_SIZE / 2);
   extmem_fill_words(want + EXTMEM_SIZE / 2, EXTMEM_FILL_D, EXTMEM_SIZE / 2);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   const VkBufferCopy upload = { 0, 0, EXTMEM_SIZE / 2 };
   vkCmdCopyBuffer(cmd, staging.buffer, d.buffer, 1, &upload);
   vkCmdFillBuffer(cmd, d.buffer, EXTMEM_SIZE / 2, EXTMEM_SIZE / 2, EXTMEM_FILL_D);
   extmem_transfer_barrier(cmd);
   vkt_cmd_submit_wait(ctx, cmd);

   /* an import on the same device, read back by the GPU */
   struct extmem_buffer d2;
   extmem_buffer_create(ctx, alloc_size, type, extmem_export(ctx, &d), false, &d2);
   cmd = vkt_cmd_begin(ctx);
   const VkBufferCopy all = { 0, 0, EXTMEM_SIZE };
   vkCmdCopyBuffer(cmd, d2.buffer, rb.buffer, 1, &all);
   extmem_ownership(cmd, d.buffer, ctx->queue_family, true);
   extmem_to_host(cmd);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, &rb);
   extmem_compare(ctx, "device-local: read through the same-device import", rb.map, want,
                  EXTMEM_SIZE);
   vkt_print_hex("extmem.device_local.import", vkt_digest(rb.map, EXTMEM_SIZE));

   /* the second device reads everything and fills a range */
   struct extmem_buffer e;
   extmem_buffer_create(ctx2, alloc_size, type, extmem_export(ctx, &d), false, &e);
   struct vkt_buffer rb2;
   vkt_buffer_create(ctx2, EXTMEM_SIZE, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &rb2);
   cmd = vkt_cmd_begin(ctx2);
   extmem_ownership(cmd, e.buffer, ctx2->queue_family, false);
   vkCmdCopyBuffer(cmd, e.buffer, rb2.buffer, 1, &all);
   extmem_transfer_barrier(cmd);
   vkCmdFillBuffer(cmd, e.buffer, EXTMEM_SIZE / 2, EXTMEM_QUARTER, EXTMEM_FILL_B);
   extmem_transfer_barrier(cmd);
   extmem_ownership(cmd, e.buffer, ctx2->queue_family, true);
   extmem_to_host(cmd);
   vkt_cmd_submit_wait(ctx2, cmd);
   vkt_buffer_invalidate(ctx2, &rb2);
   extmem_compare(ctx, "device-local: read by the second device", rb2.map, want, EXTMEM_SIZE);
   vkt_print_hex("extmem.device_local.second_device", vkt_digest(rb2.map, EXTMEM_SIZE));

   /* the exporter sees the second device's fill */
   extmem_fill_words(want + EXTMEM_SIZE / 2, EXTMEM_FILL_B, EXTMEM_QUARTER);
   cmd = vkt_cmd_begin(ctx);
   extmem_ownership(cmd, d.buffer, ctx->queue_family, false);
   vkCmdCopyBuffer(cmd, d.buffer, rb.buffer, 1, &all);
   extmem_to_host(cmd);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, &rb);
   extmem_compare(ctx, "device-local: second device's fill seen by the exporter", rb.map, want,
                  EXTMEM_SIZE);
   vkt_print_hex("extmem.device_local.exporter", vkt_digest(rb.map, EXTMEM_SIZE));

   vkt_buffer_destroy(ctx2, &rb2);
   extmem_buffer_destroy(ctx2, &e);
   extmem_buffer_destroy(ctx, &d2);
   extmem_buffer_destroy(ctx, &d);
   vkt_buffer_destroy(ctx, &rb);
   vkt_buffer_destroy(ctx, &staging);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "extmem");
   if (!vkt_has_device_extension(&ctx, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME))
      vkt_die("extmem: the device lacks %s", VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME);
   const char *const exts[] = { VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME };
   const struct vkt_device_info info = {
      .extensions = exts,
      .extension_count = 1,
   };
   vkt_device_init(&ctx, &info);
   struct vkt_context ctx2;
   extmem_second_device(&ctx, &info, &ctx2);

   extmem_print_properties(&ctx);
   extmem_host_visible(&ctx, &ctx2);
   extmem_device_local(&ctx, &ctx2);

   extmem_second_device_fini(&ctx2);
   ctx.check_failures += ctx2.check_failures;
   return vkt_finish(&ctx);
}
