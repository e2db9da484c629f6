/*
 * vn_dmabuf: VK_EXT_external_memory_dma_buf, VK_EXT_queue_family_foreign and
 * VK_EXT_image_drm_format_modifier, checked on real bytes. Runs natively and
 * through the Venus driver (run_native_vs_icd.sh compares the result lines):
 *   - a DMA_BUF-exportable device buffer is filled on the GPU, released to
 *     VK_QUEUE_FAMILY_FOREIGN_EXT and exported; vkGetMemoryFdPropertiesKHR
 *     must accept the fd; it is imported on the same device and on a second
 *     VkDevice (acquired from FOREIGN there), both imports are read back, and
 *     a write through the second device is seen by the exporter;
 *   - the format's DRM modifier lists (VkDrmFormatModifierPropertiesListEXT
 *     and ...List2EXT) are queried; an image is created with the modifiers
 *     that allow transfers and DMA_BUF export, its chosen modifier and plane
 *     layout are queried, texels are round-tripped buffer -> image -> buffer;
 *     then a second device imports the image's dma-buf as an image with
 *     VkImageDrmFormatModifierExplicitCreateInfoEXT (the queried layout),
 *     writes new texels, and the exporter's image reads them back.
 * Each part runs where its extension exists (without dma-bufs the explicit
 * image is a second image of the same device); exits 77 (skipped) when the
 * device has neither (lavapipe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkt.h"

#define BUF_SIZE 65536u
#define IMG_W 64u
#define IMG_H 64u
#define IMG_BYTES (IMG_W * IMG_H * 4u)
#define MAX_MODIFIERS 64u
#define DMA_BUF VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT

static PFN_vkGetMemoryFdKHR get_fd;
static PFN_vkGetMemoryFdPropertiesKHR get_fd_props;
static PFN_vkGetImageDrmFormatModifierPropertiesEXT get_image_modifier;
static bool has_foreign;
static bool has_dmabuf; /* else images only, without external memory */

/* memory for `reqs`: `fd` < 0 exports DMA_BUF, else imports fd; dedicated to
 * image or buffer where the driver asks for it (images: always) */
static VkDeviceMemory
alloc(struct vkt_context *ctx,
      const VkMemoryRequirements *reqs,
      uint32_t type,
      bool dedicated,
      VkImage image,
      VkBuffer buffer,
      int fd)
{
   const VkMemoryDedicatedAllocateInfo ded = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
      .image = image,
      .buffer = image ? VK_NULL_HANDLE : buffer,
   };
   const VkMemoryAllocateInfo plain = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = dedicated ? &ded : NULL,
      .allocationSize = reqs->size,
      .memoryTypeIndex = type,
   };
   const VkExportMemoryAllocateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .pNext = dedicated ? &ded : NULL,
      .handleTypes = DMA_BUF,
   };
   const VkImportMemoryFdInfoKHR import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      .pNext = dedicated ? &ded : NULL,
      .handleType = DMA_BUF,
      .fd = fd,
   };
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = fd < 0 ? (const void *)&export : (const void *)&import,
      .allocationSize = reqs->size,
      .memoryTypeIndex = type,
   };
   VkDeviceMemory mem;
   VKT_CALL(vkAllocateMemory(ctx->device, has_dmabuf ? &info : &plain, NULL, &mem));
   return mem;
}

static int
export_fd(struct vkt_context *ctx, VkDeviceMemory mem)
{
   const VkMemoryGetFdInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
      .memory = mem,
      .handleType = DMA_BUF,
   };
   int fd = -1;
   VKT_CALL(get_fd(ctx->device, &info, &fd));
   struct stat st;
   if (!vkt_check(ctx, fd >= 0 && fstat(fd, &st) == 0, "vkGetMemoryFdKHR gave fd %d", fd))
      vkt_die("vn_dmabuf: no fd to go on with");
   return fd;
}

/* a type of `bits`, device-local preferred, `prefer` first if it is one */
static uint32_t
pick_type(const struct vkt_context *ctx, uint32_t bits, uint32_t prefer)
{
   if (prefer != VKT_NO_MEMORY_TYPE && (bits & (1u << prefer)))
      return prefer;
   const uint32_t t = vkt_memory_type(ctx, bits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
   if (t == VKT_NO_MEMORY_TYPE)
      vkt_die("vn_dmabuf: no memory type in 0x%x", bits);
   return t;
}

/* the memory types the device accepts fd as (it must accept some) */
static uint32_t
fd_type_bits(struct vkt_context *ctx, int fd)
{
   VkMemoryFdPropertiesKHR props = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
   VKT_CALL(get_fd_props(ctx->device, DMA_BUF, fd, &props));
   vkt_check(ctx, props.memoryTypeBits != 0, "vkGetMemoryFdPropertiesKHR: no memory type");
   return props.memoryTypeBits;
}

static VkBuffer
make_buffer(struct vkt_context *ctx, VkMemoryRequirements *out_reqs, bool *out_dedicated)
{
   const VkExternalMemoryBufferCreateInfo external = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = DMA_BUF,
   };
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = &external,
      .size = BUF_SIZE,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(ctx->device, &info, NULL, &buffer));
   VkMemoryDedicatedRequirements ded = { .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS };
   VkMemoryRequirements2 reqs = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2, .pNext = &ded };
   const VkBufferMemoryRequirementsInfo2 ri = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
      .buffer = buffer,
   };
   vkGetBufferMemoryRequirements2(ctx->device, &ri, &reqs);
   *out_reqs = reqs.memoryRequirements;
   *out_dedicated = ded.prefersDedicatedAllocation || ded.requiresDedicatedAllocation;
   return buffer;
}

/* ownership of buffer to or from VK_QUEUE_FAMILY_FOREIGN_EXT (when exposed),
 * else a plain transfer barrier */
static void
foreign_barrier(struct vkt_context *ctx, VkCommandBuffer cmd, VkBuffer buffer, bool release)
{
   const uint32_t own = ctx->queue_family;
   const uint32_t foreign = has_foreign ? VK_QUEUE_FAMILY_FOREIGN_EXT : VK_QUEUE_FAMILY_IGNORED;
   const VkBufferMemoryBarrier b = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
      .srcAccessMask = release ? VK_ACCESS_TRANSFER_WRITE_BIT : 0,
      .dstAccessMask = release ? 0 : VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
      .srcQueueFamilyIndex = has_foreign ? (release ? own : foreign) : VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = has_foreign ? (release ? foreign : own) : VK_QUEUE_FAMILY_IGNORED,
      .buffer = buffer,
      .offset = 0,
      .size = VK_WHOLE_SIZE,
   };
   vkCmdPipelineBarrier(cmd,
                        release ? VK_PIPELINE_STAGE_TRANSFER_BIT : VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                        release ? VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT
                                : VK_PIPELINE_STAGE_TRANSFER_BIT,
                        0, 0, NULL, 1, &b, 0, NULL);
}

/* copies `src` (size bytes) into a fresh readback buffer and returns it */
static void
read_back(struct vkt_context *ctx, VkBuffer src, VkDeviceSize size, struct vkt_buffer *out)
{
   vkt_buffer_create(ctx, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, out);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   const VkBufferCopy copy = { 0, 0, size };
   vkCmdCopyBuffer(cmd, src, out->buffer, 1, &copy);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, out);
}

static uint32_t
fill_word(uint32_t quarter)
{
   return 0x01020304u * (quarter + 1) ^ 0xa5a55a5au;
}

static void
expect_buffer(struct vkt_context *ctx, const char *what, const uint32_t *words, uint32_t patched)
{
   uint32_t bad = 0;
   for (uint32_t i = 0; i < BUF_SIZE / 4; i++) {
      const uint32_t want = i < patched / 4 ? 0xabcdef01u : fill_word(i / (BUF_SIZE / 64));
      bad += words[i] != want;
   }
   vkt_check(ctx, bad == 0, "%s: %u of %u words differ", what, bad, BUF_SIZE / 4);
}

static void
test_buffer(struct vkt_context *ctx, struct vkt_context *ctx2)
{
   VkExternalBufferProperties ext = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
   const VkPhysicalDeviceExternalBufferInfo ext_info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .handleType = DMA_BUF,
   };
   vkGetPhysicalDeviceExternalBufferProperties(ctx->physical_device, &ext_info, &ext);
   const VkExternalMemoryProperties *p = &ext.externalMemoryProperties;
   vkt_print_u64("buffer_dmabuf_exportable", "bool",
                 !!(p->externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT));
   vkt_print_u64("buffer_dmabuf_importable", "bool",
                 !!(p->externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT));
   vkt_print_u64("buffer_dmabuf_compatible", "bool", !!(p->compatibleHandleTypes & DMA_BUF));

   VkMemoryRequirements reqs;
   bool dedicated;
   VkBuffer buf = make_buffer(ctx, &reqs, &dedicated);
   const uint32_t type = pick_type(ctx, reqs.memoryTypeBits, VKT_NO_MEMORY_TYPE);
   VkDeviceMemory mem = alloc(ctx, &reqs, type, dedicated, VK_NULL_HANDLE, buf, -1);
   VKT_CALL(vkBindBufferMemory(ctx->device, buf, mem, 0));

   /* the GPU writes four quarters of different words */
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   for (uint32_t q = 0; q < 4; q++)
      vkCmdFillBuffer(cmd, buf, q * (BUF_SIZE / 4), BUF_SIZE / 4, fill_word(q * 4));
   for (uint32_t q = 0; q < 16; q++) {
      if (q % 4)
         vkCmdFillBuffer(cmd, buf, q * (BUF_SIZE / 16), BUF_SIZE / 16, fill_word(q));
   }
   foreign_barrier(ctx, cmd, buf, true);
   vkt_cmd_submit_wait(ctx, cmd);

   int fd = export_fd(ctx, mem);
   vkt_check(ctx, fd_type_bits(ctx, fd) & (1u << type),
             "vkGetMemoryFdPropertiesKHR leaves out the exporting memory type %u", type);

   /* same device */
   VkMemoryRequirements reqs1;
   bool ded1;
   VkBuffer buf1 = make_buffer(ctx, &reqs1, &ded1);
   const uint32_t type1 = pick_type(ctx, reqs1.memoryTypeBits & fd_type_bits(ctx, fd), type);
   VkDeviceMemory mem1 = alloc(ctx, &reqs1, type1, ded1, VK_NULL_HANDLE, buf1, dup(fd));
   VKT_CALL(vkBindBufferMemory(ctx->device, buf1, mem1, 0));
   cmd = vkt_cmd_begin(ctx);
   foreign_barrier(ctx, cmd, buf1, false);
   vkt_cmd_submit_wait(ctx, cmd);
   struct vkt_buffer rb;
   read_back(ctx, buf1, BUF_SIZE, &rb);
   expect_buffer(ctx, "same-device import", rb.map, 0);
   vkt_print_hex("buffer_import_digest", vkt_digest(rb.map, BUF_SIZE));
   vkt_buffer_destroy(ctx, &rb);

   /* second device: read, then patch the first 4 KiB */
   VkMemoryRequirements reqs2;
   bool ded2;
   VkBuffer buf2 = make_buffer(ctx2, &reqs2, &ded2);
   const uint32_t type2 = pick_type(ctx2, reqs2.memoryTypeBits & fd_type_bits(ctx2, fd), type);
   VkDeviceMemory mem2 = alloc(ctx2, &reqs2, type2, ded2, VK_NULL_HANDLE, buf2, fd);
   VKT_CALL(vkBindBufferMemory(ctx2->device, buf2, mem2, 0));
   cmd = vkt_cmd_begin(ctx2);
   foreign_barrier(ctx2, cmd, buf2, false);
   vkt_cmd_submit_wait(ctx2, cmd);
   read_back(ctx2, buf2, BUF_SIZE, &rb);
   expect_buffer(ctx2, "second-device import", rb.map, 0);
   vkt_buffer_destroy(ctx2, &rb);
   cmd = vkt_cmd_begin(ctx2);
   vkCmdFillBuffer(cmd, buf2, 0, 4096, 0xabcdef01u);
   foreign_barrier(ctx2, cmd, buf2, true);
   vkt_cmd_submit_wait(ctx2, cmd);

   cmd = vkt_cmd_begin(ctx);
   foreign_barrier(ctx, cmd, buf, false);
   vkt_cmd_submit_wait(ctx, cmd);
   read_back(ctx, buf, BUF_SIZE, &rb);
   expect_buffer(ctx, "exporter after the second device's write", rb.map, 4096);
   vkt_print_hex("buffer_patched_digest", vkt_digest(rb.map, BUF_SIZE));
   vkt_buffer_destroy(ctx, &rb);

   vkDestroyBuffer(ctx2->device, buf2, NULL);
   vkFreeMemory(ctx2->device, mem2, NULL);
   vkDestroyBuffer(ctx->device, buf1, NULL);
   vkFreeMemory(ctx->device, mem1, NULL);
   vkDestroyBuffer(ctx->device, buf, NULL);
   vkFreeMemory(ctx->device, mem, NULL);
}

/* ------------------------------------------------------------------ */
/* images with DRM format modifiers                                    */

static const VkFormat img_format = VK_FORMAT_R8G8B8A8_UNORM;
static const VkImageUsageFlags img_usage =
   VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;

/* whether an image of `modifier` can be created for transfers and DMA_BUF */
static bool
modifier_usable(struct vkt_context *ctx, uint64_t modifier)
{
   const VkPhysicalDeviceImageDrmFormatModifierInfoEXT mod_info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_DRM_FORMAT_MODIFIER_INFO_EXT,
      .drmFormatModifier = modifier,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   const VkPhysicalDeviceExternalImageFormatInfo ext_info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
      .pNext = &mod_info,
      .handleType = DMA_BUF,
   };
   const VkPhysicalDeviceImageFormatInfo2 info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
      .pNext = has_dmabuf ? (const void *)&ext_info : (const void *)&mod_info,
      .format = img_format,
      .type = VK_IMAGE_TYPE_2D,
      .tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
      .usage = img_usage,
   };
   VkExternalImageFormatProperties ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES,
   };
   VkImageFormatProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
      .pNext = &ext,
   };
   if (vkGetPhysicalDeviceImageFormatProperties2(ctx->physical_device, &info, &props) !=
       VK_SUCCESS)
      return false;
   const VkExternalMemoryFeatureFlags both = VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT |
                                             VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
   return (!has_dmabuf || (ext.externalMemoryProperties.externalMemoryFeatures & both) == both) &&
          props.imageFormatProperties.maxExtent.width >= IMG_W &&
          props.imageFormatProperties.maxExtent.height >= IMG_H;
}

/* the modifiers of img_format allowing transfers, one plane, usable */
static uint32_t
usable_modifiers(struct vkt_context *ctx, uint64_t *out)
{
   VkDrmFormatModifierPropertiesListEXT list = {
      .sType = VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT,
   };
   VkFormatProperties2 props = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2, .pNext = &list };
   vkGetPhysicalDeviceFormatProperties2(ctx->physical_device, img_format, &props);
   const uint32_t count = list.drmFormatModifierCount;
   vkt_check(ctx, count > 0, "no DRM format modifier for R8G8B8A8_UNORM");
   VkDrmFormatModifierPropertiesEXT *mods = calloc(count ? count : 1, sizeof(*mods));
   list.pDrmFormatModifierProperties = mods;
   vkGetPhysicalDeviceFormatProperties2(ctx->physical_device, img_format, &props);
   vkt_check(ctx, list.drmFormatModifierCount == count, "modifier count changed: %u, then %u",
             count, list.drmFormatModifierCount);

   /* the same through VkDrmFormatModifierPropertiesList2EXT */
   VkDrmFormatModifierPropertiesList2EXT list2 = {
      .sType = VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_2_EXT,
   };
   VkFormatProperties2 props2 = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2, .pNext = &list2 };
   vkGetPhysicalDeviceFormatProperties2(ctx->physical_device, img_format, &props2);
   VkDrmFormatModifierProperties2EXT *mods2 = calloc(count ? count : 1, sizeof(*mods2));
   vkt_check(ctx, list2.drmFormatModifierCount == count, "List2 has %u modifiers, List %u",
             list2.drmFormatModifierCount, count);
   list2.drmFormatModifierCount = count;
   list2.pDrmFormatModifierProperties = mods2;
   vkGetPhysicalDeviceFormatProperties2(ctx->physical_device, img_format, &props2);
   uint32_t same = 0;
   for (uint32_t i = 0; i < count && i < list2.drmFormatModifierCount; i++)
      same += mods2[i].drmFormatModifier == mods[i].drmFormatModifier &&
              mods2[i].drmFormatModifierPlaneCount == mods[i].drmFormatModifierPlaneCount;
   vkt_check(ctx, same == count, "List2 and List disagree on %u of %u modifiers", count - same,
             count);
   vkt_print_u64("format_modifiers", "count", count);

   const VkFormatFeatureFlags need =
      VK_FORMAT_FEATURE_TRANSFER_SRC_BIT | VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
   uint32_t n = 0;
   uint64_t digest = VKT_DIGEST_INIT;
   for (uint32_t i = 0; i < count && n < MAX_MODIFIERS; i++) {
      digest = vkt_digest_update(digest, &mods[i].drmFormatModifier, 8);
      if (mods[i].drmFormatModifierPlaneCount == 1 &&
          (mods[i].drmFormatModifierTilingFeatures & need) == need &&
          modifier_usable(ctx, mods[i].drmFormatModifier))
         out[n++] = mods[i].drmFormatModifier;
   }
   vkt_print_hex("format_modifiers_digest", digest);
   vkt_print_u64("usable_modifiers", "count", n);
   free(mods);
   free(mods2);
   return n;
}

struct modifier_image {
   VkImage image;
   VkDeviceMemory memory;
   struct vkt_image view; /* for vkt_cmd_image_barrier: image, aspect */
};

/* explicit: NULL creates from the list `mods`, else with that layout */
static void
modifier_image_create(struct vkt_context *ctx,
                      const uint64_t *mods,
                      uint32_t mod_count,
                      const VkSubresourceLayout *explicit_layout,
                      int import_fd,
                      uint32_t prefer_type,
                      struct modifier_image *out)
{
   const VkExternalMemoryImageCreateInfo external = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .handleTypes = DMA_BUF,
   };
   const VkImageDrmFormatModifierListCreateInfoEXT list = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_LIST_CREATE_INFO_EXT,
      .pNext = has_dmabuf ? &external : NULL,
      .drmFormatModifierCount = mod_count,
      .pDrmFormatModifiers = mods,
   };
   const VkImageDrmFormatModifierExplicitCreateInfoEXT explicit = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT,
      .pNext = has_dmabuf ? &external : NULL,
      .drmFormatModifier = mods[0],
      .drmFormatModifierPlaneCount = 1,
      .pPlaneLayouts = explicit_layout,
   };
   const VkImageCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .pNext = explicit_layout ? (const void *)&explicit : (const void *)&list,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = img_format,
      .extent = { IMG_W, IMG_H, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
      .usage = img_usage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VKT_CALL(vkCreateImage(ctx->device, &info, NULL, &out->image));
   VkMemoryRequirements reqs;
   vkGetImageMemoryRequirements(ctx->device, out->image, &reqs);
   uint32_t bits = reqs.memoryTypeBits;
   if (import_fd >= 0)
      bits &= fd_type_bits(ctx, import_fd);
   out->memory = alloc(ctx, &reqs, pick_type(ctx, bits, prefer_type), true, out->image,
                       VK_NULL_HANDLE, import_fd);
   VKT_CALL(vkBindImageMemory(ctx->device, out->image, out->memory, 0));
   memset(&out->view, 0, sizeof(out->view));
   out->view.image = out->image;
   out->view.aspect = VK_IMAGE_ASPECT_COLOR_BIT;
   out->view.format = img_format;
   out->view.width = IMG_W;
   out->view.height = IMG_H;
}

static void
modifier_image_destroy(struct vkt_context *ctx, struct modifier_image *img)
{
   vkDestroyImage(ctx->device, img->image, NULL);
   vkFreeMemory(ctx->device, img->memory, NULL);
}

static void
fill_texels(uint8_t *texels, uint32_t seed)
{
   for (uint32_t i = 0; i < IMG_BYTES; i++)
      texels[i] = (uint8_t)((i * 7u + seed) ^ (i >> 8) * 13u);
}

/* uploads `texels` into img (from UNDEFINED), leaves it TRANSFER_SRC */
static void
upload(struct vkt_context *ctx, const struct modifier_image *img, const uint8_t *texels)
{
   struct vkt_buffer up;
   vkt_buffer_create(ctx, IMG_BYTES, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_UPLOAD, &up);
   memcpy(up.map, texels, IMG_BYTES);
   vkt_buffer_flush(ctx, &up);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkt_cmd_image_barrier(cmd, &img->view, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { IMG_W, IMG_H, 1 },
   };
   vkCmdCopyBufferToImage(cmd, up.buffer, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                          &region);
   vkt_cmd_image_barrier(cmd, &img->view, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_destroy(ctx, &up);
}

/* img (in TRANSFER_SRC) -> buffer, compared with `texels` */
static uint64_t
download_check(struct vkt_context *ctx,
               const struct modifier_image *img,
               const uint8_t *texels,
               const char *what)
{
   struct vkt_buffer rb;
   vkt_buffer_create(ctx, IMG_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &rb);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   /* earlier writes, possibly through another device's image */
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { IMG_W, IMG_H, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, rb.buffer, 1,
                          &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, &rb);
   uint32_t bad = 0;
   for (uint32_t i = 0; i < IMG_BYTES; i++)
      bad += ((const uint8_t *)rb.map)[i] != texels[i];
   vkt_check(ctx, bad == 0, "%s: %u of %u texel bytes differ", what, bad, IMG_BYTES);
   const uint64_t digest = vkt_digest(rb.map, IMG_BYTES);
   vkt_buffer_destroy(ctx, &rb);
   return digest;
}

static void
test_image(struct vkt_context *ctx, struct vkt_context *ctx2)
{
   uint64_t mods[MAX_MODIFIERS];
   const uint32_t n = usable_modifiers(ctx, mods);
   if (!vkt_check(ctx, n > 0, "no modifier of R8G8B8A8_UNORM allows transfers and DMA_BUF"))
      return;

   struct modifier_image a;
   modifier_image_create(ctx, mods, n, NULL, -1, VKT_NO_MEMORY_TYPE, &a);
   VkImageDrmFormatModifierPropertiesEXT chosen = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_PROPERTIES_EXT,
   };
   VKT_CALL(get_image_modifier(ctx->device, a.image, &chosen));
   bool listed = false;
   for (uint32_t i = 0; i < n; i++)
      listed |= mods[i] == chosen.drmFormatModifier;
   vkt_check(ctx, listed, "chosen modifier 0x%llx was not in the list",
             (unsigned long long)chosen.drmFormatModifier);
   vkt_print_hex("image_modifier", chosen.drmFormatModifier);

   const VkImageSubresource sub = { VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT, 0, 0 };
   VkSubresourceLayout layout;
   vkGetImageSubresourceLayout(ctx->device, a.image, &sub, &layout);
   vkt_check(ctx, layout.rowPitch >= IMG_W * 4 && layout.size >= layout.rowPitch * (IMG_H - 1),
             "plane 0: rowPitch %llu, size %llu", (unsigned long long)layout.rowPitch,
             (unsigned long long)layout.size);
   vkt_print_u64("plane0_offset", "bytes", layout.offset);
   vkt_print_u64("plane0_row_pitch", "bytes", layout.rowPitch);
   vkt_print_u64("plane0_size", "bytes", layout.size);

   uint8_t *texels = malloc(IMG_BYTES);
   fill_texels(texels, 1);
   upload(ctx, &a, texels);
   vkt_print_hex("image_roundtrip_digest", download_check(ctx, &a, texels, "round trip"));

   /* with dma-bufs the second device imports the image's dma-buf with the
    * queried layout and writes new texels, which the exporter's image
    * shows; without, an explicit image of its own on the same device */
   const int fd = has_dmabuf ? export_fd(ctx, a.memory) : -1;
   VkSubresourceLayout plane = {
      .offset = layout.offset,
      .rowPitch = layout.rowPitch,
   };
   struct modifier_image b;
   if (!has_dmabuf)
      ctx2 = ctx;
   modifier_image_create(ctx2, &chosen.drmFormatModifier, 1, &plane, fd, VKT_NO_MEMORY_TYPE, &b);
   VkImageDrmFormatModifierPropertiesEXT chosen_b = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_PROPERTIES_EXT,
   };
   VKT_CALL(get_image_modifier(ctx2->device, b.image, &chosen_b));
   vkt_check(ctx, chosen_b.drmFormatModifier == chosen.drmFormatModifier,
             "explicit image: modifier 0x%llx", (unsigned long long)chosen_b.drmFormatModifier);
   VkSubresourceLayout layout_b;
   vkGetImageSubresourceLayout(ctx2->device, b.image, &sub, &layout_b);
   vkt_check(ctx, layout_b.offset == layout.offset && layout_b.rowPitch == layout.rowPitch,
             "explicit image: offset %llu, rowPitch %llu", (unsigned long long)layout_b.offset,
             (unsigned long long)layout_b.rowPitch);
   fill_texels(texels, 77);
   upload(ctx2, &b, texels);
   vkt_print_hex("image_explicit_digest",
                 has_dmabuf ? download_check(ctx, &a, texels, "exporter after the import's write")
                            : download_check(ctx, &b, texels, "explicit image"));

   free(texels);
   modifier_image_destroy(ctx2, &b);
   modifier_image_destroy(ctx, &a);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "vn_dmabuf");
   has_dmabuf = vkt_has_device_extension(&ctx, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME) &&
                vkt_has_device_extension(&ctx, VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME);
   has_foreign =
      has_dmabuf && vkt_has_device_extension(&ctx, VK_EXT_QUEUE_FAMILY_FOREIGN_EXTENSION_NAME);
   const bool has_modifier =
      vkt_has_device_extension(&ctx, VK_EXT_IMAGE_DRM_FORMAT_MODIFIER_EXTENSION_NAME);
   if (!has_dmabuf && !has_modifier) {
      const char *name = ctx.props.deviceName;
      fprintf(stderr, "vn_dmabuf: SKIP: the device (%s) has neither "
              "VK_EXT_external_memory_dma_buf nor VK_EXT_image_drm_format_modifier\n", name);
      vkt_finish(&ctx);
      return 77;
   }
   vkt_print_u64("has_dma_buf", "bool", has_dmabuf);
   vkt_print_u64("has_queue_family_foreign", "bool", has_foreign);
   vkt_print_u64("has_drm_format_modifier", "bool", has_modifier);
   const char *exts[4];
   uint32_t n = 0;
   if (has_dmabuf) {
      exts[n++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
      exts[n++] = VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME;
   }
   if (has_foreign)
      exts[n++] = VK_EXT_QUEUE_FAMILY_FOREIGN_EXTENSION_NAME;
   if (has_modifier)
      exts[n++] = VK_EXT_IMAGE_DRM_FORMAT_MODIFIER_EXTENSION_NAME;
   const struct vkt_device_info dinfo = {
      .extensions = exts,
      .extension_count = n,
   };
   vkt_device_init(&ctx, &dinfo);
   struct vkt_context ctx2 = ctx;
   vkt_device_init(&ctx2, &dinfo);
   get_fd = (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(ctx.device, "vkGetMemoryFdKHR");
   get_fd_props =
      (PFN_vkGetMemoryFdPropertiesKHR)vkGetDeviceProcAddr(ctx.device, "vkGetMemoryFdPropertiesKHR");
   get_image_modifier = (PFN_vkGetImageDrmFormatModifierPropertiesEXT)vkGetDeviceProcAddr(
      ctx.device, "vkGetImageDrmFormatModifierPropertiesEXT");
   if ((has_dmabuf && (!get_fd || !get_fd_props)) || (has_modifier && !get_image_modifier))
      vkt_die("vn_dmabuf: missing entry points of the extensions");

   if (has_dmabuf)
      test_buffer(&ctx, &ctx2);
   if (has_modifier)
      test_image(&ctx, &ctx2);

   VKT_CALL(vkDeviceWaitIdle(ctx2.device));
   if (ctx2.cmd_pool2 != ctx2.cmd_pool)
      vkDestroyCommandPool(ctx2.device, ctx2.cmd_pool2, NULL);
   vkDestroyCommandPool(ctx2.device, ctx2.cmd_pool, NULL);
   vkDestroyDevice(ctx2.device, NULL);
   return vkt_finish(&ctx);
}
