/*
 * vn_extmem_opaque: OPAQUE_FD export of memory the guest cannot map, and the
 * driver's refusals, through our driver and server. Run with
 * VENUS_PERF=no_host_pointer on lavapipe: its one memory type then cannot be
 * shared by a memfd, so the guest sees it as plain DEVICE_LOCAL and the
 * renderer exports it as lavapipe's own opaque fd behind a blob that is not
 * MAPPABLE. Without host-visible memory the bytes cannot be read back here
 * (extmem.c checks them wherever a mappable type exists); this checks that
 * export, same-device and second-device imports, GPU work on the imports and
 * every free order succeed, and that:
 *   - an fd the driver did not export is refused (VK_ERROR_INVALID_EXTERNAL_HANDLE)
 *     and stays the application's;
 *   - an import with another size is refused by the renderer;
 *   - vkGetMemoryFdPropertiesKHR refuses OPAQUE_FD;
 *   - an fd stays importable while an import lives after its exporter is freed.
 * No native run: the requested memory setup exists only through Venus.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vkt.h"

#define SIZE 65536u

static PFN_vkGetMemoryFdKHR get_fd;
static PFN_vkGetMemoryFdPropertiesKHR get_fd_props;

static VkBuffer
make_buffer(struct vkt_context *ctx)
{
   const VkExternalMemoryBufferCreateInfo external = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = &external,
      .size = SIZE,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(ctx->device, &info, NULL, &buffer));
   return buffer;
}

static VkResult
alloc(struct vkt_context *ctx, VkDeviceSize size, uint32_t type, int fd, VkDeviceMemory *out)
{
   const VkExportMemoryAllocateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   /* imports are exported again (fd2 below): they carry the export info too */
   const VkImportMemoryFdInfoKHR import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      .pNext = &export,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      .fd = fd,
   };
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = fd < 0 ? (const void *)&export : (const void *)&import,
      .allocationSize = size,
      .memoryTypeIndex = type,
   };
   return vkAllocateMemory(ctx->device, &info, NULL, out);
}

static int
export_fd(struct vkt_context *ctx, VkDeviceMemory mem)
{
   const VkMemoryGetFdInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
      .memory = mem,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   int fd = -1;
   VKT_CALL(get_fd(ctx->device, &info, &fd));
   vkt_check(ctx, fd >= 0, "vkGetMemoryFdKHR gave fd %d", fd);
   return fd;
}

/* fill half of `a`, then copy half of `b` onto its other half */
static void
gpu_work(struct vkt_context *ctx, VkBuffer a, VkBuffer b)
{
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdFillBuffer(cmd, a, 0, SIZE / 2, 0x12345678u);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
   const VkBufferCopy copy = { 0, SIZE / 2, SIZE / 2 };
   vkCmdCopyBuffer(cmd, b, b, 1, &copy);
   vkt_cmd_submit_wait(ctx, cmd);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "vn_extmem_opaque");
   const char *const exts[] = { VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME };
   const struct vkt_device_info dinfo = { .extensions = exts, .extension_count = 1 };
   vkt_device_init(&ctx, &dinfo);
   struct vkt_context ctx2 = ctx;
   vkt_device_init(&ctx2, &dinfo);
   get_fd = (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(ctx.device, "vkGetMemoryFdKHR");
   get_fd_props =
      (PFN_vkGetMemoryFdPropertiesKHR)vkGetDeviceProcAddr(ctx.device, "vkGetMemoryFdPropertiesKHR");
   if (!get_fd || !get_fd_props)
      vkt_die("vn_extmem_opaque: no VK_KHR_external_memory_fd entry points");

   VkBuffer buf = make_buffer(&ctx);
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(ctx.device, buf, &reqs);
   uint32_t type = VKT_NO_MEMORY_TYPE;
   for (uint32_t i = 0; i < ctx.mem_props.memoryTypeCount && type == VKT_NO_MEMORY_TYPE; i++) {
      if ((reqs.memoryTypeBits & (1u << i)) &&
          !(ctx.mem_props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
         type = i;
   }
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("vn_extmem_opaque: no memory type without HOST_VISIBLE (run it with "
              "VENUS_PERF=no_host_pointer on lavapipe)");

   VkDeviceMemory mem;
   VKT_CALL(alloc(&ctx, reqs.size, type, -1, &mem));
   VKT_CALL(vkBindBufferMemory(ctx.device, buf, mem, 0));

   /* not ours: a memfd of the application */
   int foreign = memfd_create("not-exported", MFD_CLOEXEC);
   VkDeviceMemory bad = VK_NULL_HANDLE;
   VkResult r = alloc(&ctx, reqs.size, type, foreign, &bad);
   vkt_check(&ctx, r == VK_ERROR_INVALID_EXTERNAL_HANDLE, "foreign fd import gave %s",
             vkt_result_string(r));
   vkt_check(&ctx, fcntl(foreign, F_GETFD) >= 0, "a refused import closed the fd");
   close(foreign);

   /* OPAQUE_FD has no fd properties */
   VkMemoryFdPropertiesKHR fd_props = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
   int fd = export_fd(&ctx, mem);
   /* invalid usage on purpose (VUID-vkGetMemoryFdPropertiesKHR-handleType-00674,
    * reported by newer validation layers): the driver must refuse it */
   ctx.invalid_on_purpose = true;
   r = get_fd_props(ctx.device, VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT, fd, &fd_props);
   ctx.invalid_on_purpose = false;
   vkt_check(&ctx, r == VK_ERROR_INVALID_EXTERNAL_HANDLE, "fd properties of OPAQUE_FD gave %s",
             vkt_result_string(r));

   /* another size: the renderer refuses, the fd stays ours */
   /* invalid usage on purpose (VUID-VkMemoryAllocateInfo-allocationSize-01742) */
   ctx.invalid_on_purpose = true;
   r = alloc(&ctx, reqs.size * 2, type, fd, &bad);
   ctx.invalid_on_purpose = false;
   vkt_check(&ctx, r == VK_ERROR_INVALID_EXTERNAL_HANDLE, "import with another size gave %s",
             vkt_result_string(r));
   vkt_check(&ctx, fcntl(fd, F_GETFD) >= 0, "a refused import closed the fd");

   /* same device, then the second device */
   VkDeviceMemory mem2, mem3;
   VKT_CALL(alloc(&ctx, reqs.size, type, fd, &mem2));
   vkt_check(&ctx, fcntl(fd, F_GETFD) < 0, "a successful import left the fd open");
   VkBuffer buf2 = make_buffer(&ctx);
   VKT_CALL(vkBindBufferMemory(ctx.device, buf2, mem2, 0));
   gpu_work(&ctx, buf, buf2);

   VKT_CALL(alloc(&ctx2, reqs.size, type, export_fd(&ctx, mem), &mem3));
   VkBuffer buf3 = make_buffer(&ctx2);
   VKT_CALL(vkBindBufferMemory(ctx2.device, buf3, mem3, 0));
   gpu_work(&ctx2, buf3, buf3);

   /* the exporter goes first; its payload stays importable through mem2 */
   int fd2 = export_fd(&ctx, mem2);
   vkDestroyBuffer(ctx.device, buf, NULL);
   vkFreeMemory(ctx.device, mem, NULL);
   VkDeviceMemory mem4;
   VKT_CALL(alloc(&ctx, reqs.size, type, fd2, &mem4));
   VkBuffer buf4 = make_buffer(&ctx);
   VKT_CALL(vkBindBufferMemory(ctx.device, buf4, mem4, 0));
   gpu_work(&ctx, buf4, buf2);

   vkDestroyBuffer(ctx.device, buf2, NULL);
   vkFreeMemory(ctx.device, mem2, NULL);
   vkDestroyBuffer(ctx.device, buf4, NULL);
   vkFreeMemory(ctx.device, mem4, NULL);
   vkDestroyBuffer(ctx2.device, buf3, NULL);
   vkFreeMemory(ctx2.device, mem3, NULL);

   VKT_CALL(vkDeviceWaitIdle(ctx2.device));
   if (ctx2.cmd_pool2 != ctx2.cmd_pool)
      vkDestroyCommandPool(ctx2.device, ctx2.cmd_pool2, NULL);
   vkDestroyCommandPool(ctx2.device, ctx2.cmd_pool, NULL);
   vkDestroyDevice(ctx2.device, NULL);
   return vkt_finish(&ctx);
}
