/*
 * hostcopy: VK_EXT_host_image_copy (host image copy of Vulkan 1.4), used
 * through its EXT entry points:
 *  - the layouts offered for host copies (VkPhysicalDeviceHostImageCopyPropertiesEXT,
 *    counts printed; the copies use one layout of both lists, GENERAL if
 *    listed), HOST_IMAGE_TRANSFER in VkFormatProperties3, and
 *    VkHostImageCopyDevicePerformanceQueryEXT (printed);
 *  - an R8G8B8A8 image of 61x37, 3 mips and 3 layers, transitioned on the host
 *    from UNDEFINED; mips 0 and 1 written with vkCopyMemoryToImageEXT (row
 *    padding, image-height padding over several layers, offsets) and read back
 *    with vkCopyImageToMemoryEXT (sub-rectangles, several layers; the padding
 *    of host memory must stay untouched) and, for mip 0 layer 1, by the GPU
 *    with vkCmdCopyImageToBuffer;
 *  - vkCopyImageToImageEXT into a second image, with offsets, another layer
 *    and another mip level;
 *  - VK_HOST_IMAGE_COPY_MEMCPY_EXT out of a one-layer image of that shape and
 *    into a fresh one, sized with VkSubresourceHostMemcpySizeEXT (not printed:
 *    the size is the implementation's), the fresh image read back normally;
 *  - regions larger than one Venus command carries (whole layers, whole
 *    rows; padded and tight);
 *  - D32_SFLOAT (depth aspect) and BC1_RGBA_UNORM_BLOCK (odd block counts)
 *    round trips where the format has HOST_IMAGE_TRANSFER (`name bool 0` else).
 * Every texel is checked on the CPU; digests are printed. Exit 77 without the
 * extension or its feature. vkt creates a Vulkan 1.3 instance, so a 1.4 device
 * without the extension cannot be used through the core feature and is skipped
 * too, as is a build with a Vulkan registry older than the extension.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

#if !defined(VK_EXT_host_image_copy)

int
main(void)
{
   fprintf(stderr,
           "hostcopy: built with a Vulkan registry without VK_EXT_host_image_copy: "
           "skipped\n");
   return 77;
}

#else

#define HC_MAX_REGIONS 8
#define HC_PAD 0xa5 /* host memory outside the copied texels */
#define HC_DIV_UP(a, b) (((a) + (b) - 1u) / (b))

struct hc_format {
   const char *name; /* prefix of the printed lines */
   VkFormat format;
   VkImageAspectFlags aspect;
   uint32_t block_width, block_height, block_bytes;
};

static const struct hc_format hc_rgba8 = {
   "hostcopy_rgba8", VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, 1, 1, 4,
};
static const struct hc_format hc_d32 = {
   "hostcopy_d32", VK_FORMAT_D32_SFLOAT, VK_IMAGE_ASPECT_DEPTH_BIT, 1, 1, 4,
};
static const struct hc_format hc_bc1 = {
   "hostcopy_bc1", VK_FORMAT_BC1_RGBA_UNORM_BLOCK, VK_IMAGE_ASPECT_COLOR_BIT, 4, 4, 8,
};

struct hostcopy {
   struct vkt_context ctx;
   VkImageLayout layout; /* in both pCopySrcLayouts and pCopyDstLayouts */
   PFN_vkCopyMemoryToImageEXT copy_memory_to_image;
   PFN_vkCopyImageToMemoryEXT copy_image_to_memory;
   PFN_vkCopyImageToImageEXT copy_image_to_image;
   PFN_vkTransitionImageLayoutEXT transition_image_layout;
   PFN_vkGetImageSubresourceLayout2EXT image_subresource_layout2;
};

struct hc_image {
   const struct hc_format *format;
   VkImage image;
   VkDeviceMemory memory;
   uint32_t width, height, mips, layers;
};

/* One region of a copy between host memory and an image, in texels. */
struct hc_region {
   uint32_t mip, layer, layer_count;
   int32_t x, y;
   uint32_t width, height;
   uint32_t row_length, image_height; /* 0: tightly packed */
};

/* What an image holds: the pattern of salt, except in the destination of
 * copies (blocks of one texel only), which holds the pattern of src_salt at
 * the source position. */
struct hc_content {
   uint32_t salt;
   uint32_t src_salt;
   const VkImageCopy2 *copies;
   uint32_t copy_count;
};

static const VkImageUsageFlags hc_usage = VK_IMAGE_USAGE_HOST_TRANSFER_BIT_EXT |
                                          VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                                          VK_IMAGE_USAGE_TRANSFER_DST_BIT;

/* --- patterns and host memory ------------------------------------------- */

/* size bytes of HC_PAD (malloc'ed) */
static uint8_t *
hc_alloc(size_t size)
{
   uint8_t *mem = malloc(size);
   if (!mem)
      vkt_die("hostcopy: out of host memory (%zu bytes)", size);
   return memset(mem, HC_PAD, size);
}

/* A 32-bit integer hash: every input bit changes every output bit. */
static uint32_t
hc_mix(uint32_t h)
{
   h ^= h >> 16;
   h *= 0x7feb352du;
   h ^= h >> 15;
   h *= 0x846ca68bu;
   h ^= h >> 16;
   return h;
}

/* The texel block at (bx, by) of a subresource: depth values are exact
 * fractions in [0, 1), so no implementation has a reason to change them. */
static void
hc_pattern(const struct hc_format *f,
           uint32_t salt,
           uint32_t mip,
           uint32_t layer,
           uint32_t bx,
           uint32_t by,
           uint8_t *out)
{
   const uint32_t key = (salt << 28) ^ (mip << 24) ^ (layer << 16) ^ (by << 8) ^ bx;
   if (f->aspect == VK_IMAGE_ASPECT_DEPTH_BIT) {
      const float depth = (float)(hc_mix(key) >> 16) / 65536.0f;
      memcpy(out, &depth, sizeof(depth));
      return;
   }
   uint32_t h = 0;
   for (uint32_t i = 0; i < f->block_bytes; i++) {
      if (i % 4 == 0)
         h = hc_mix(key + 0x9e3779b9u * (i / 4 + 1));
      out[i] = (uint8_t)(h >> (8 * (i % 4)));
   }
}

static void
hc_expected(const struct hc_format *f,
            const struct hc_content *c,
            uint32_t mip,
            uint32_t layer,
            uint32_t bx,
            uint32_t by,
            uint8_t *out)
{
   for (uint32_t i = 0; i < c->copy_count; i++) {
      const VkImageCopy2 *r = &c->copies[i];
      const int64_t dx = (int64_t)bx - r->dstOffset.x, dy = (int64_t)by - r->dstOffset.y;
      const int64_t dl = (int64_t)layer - r->dstSubresource.baseArrayLayer;
      if (mip == r->dstSubresource.mipLevel && dl >= 0 &&
          dl < r->dstSubresource.layerCount && dx >= 0 && dx < r->extent.width &&
          dy >= 0 && dy < r->extent.height) {
         hc_pattern(f, c->src_salt, r->srcSubresource.mipLevel,
                    r->srcSubresource.baseArrayLayer + (uint32_t)dl,
                    (uint32_t)(r->srcOffset.x + dx), (uint32_t)(r->srcOffset.y + dy),
                    out);
         return;
      }
   }
   hc_pattern(f, c->salt, mip, layer, bx, by, out);
}

static uint32_t
hc_row_blocks(const struct hc_format *f, const struct hc_region *r)
{
   return HC_DIV_UP(r->row_length ? r->row_length : r->width, f->block_width);
}

static uint32_t
hc_height_blocks(const struct hc_format *f, const struct hc_region *r)
{
   return HC_DIV_UP(r->image_height ? r->image_height : r->height, f->block_height);
}

static size_t
hc_region_size(const struct hc_format *f, const struct hc_region *r)
{
   return (size_t)r->layer_count * hc_height_blocks(f, r) * hc_row_blocks(f, r) *
          f->block_bytes;
}

/* Host memory laid out as r, holding what an image of content c has there and
 * HC_PAD elsewhere (malloc'ed). */
static uint8_t *
hc_region_expected(const struct hc_format *f,
                   const struct hc_content *c,
                   const struct hc_region *r)
{
   const size_t size = hc_region_size(f, r);
   uint8_t *mem = hc_alloc(size);
   const uint32_t row = hc_row_blocks(f, r), rows = hc_height_blocks(f, r);
   const uint32_t bx0 = (uint32_t)r->x / f->block_width;
   const uint32_t by0 = (uint32_t)r->y / f->block_height;
   const uint32_t bw = HC_DIV_UP(r->width, f->block_width);
   const uint32_t bh = HC_DIV_UP(r->height, f->block_height);
   for (uint32_t l = 0; l < r->layer_count; l++) {
      for (uint32_t by = 0; by < bh; by++) {
         for (uint32_t bx = 0; bx < bw; bx++) {
            uint8_t *block = mem + ((size_t)(l * rows + by) * row + bx) * f->block_bytes;
            hc_expected(f, c, r->mip, r->layer + l, bx0 + bx, by0 + by, block);
         }
      }
   }
   return mem;
}

static bool
hc_compare(struct hostcopy *hc,
           const uint8_t *got,
           const uint8_t *want,
           size_t size,
           const char *what)
{
   size_t wrong = 0, first = 0;
   for (size_t i = 0; i < size; i++) {
      if (got[i] != want[i] && !wrong++)
         first = i;
   }
   if (wrong)
      fprintf(stderr, "hostcopy: %s: byte %zu is 0x%02x, expected 0x%02x\n", what, first,
              got[first], want[first]);
   return vkt_check(&hc->ctx, !wrong, "hostcopy: %s: %zu of %zu bytes wrong", what, wrong,
                    size);
}

/* --- images and host copies ---------------------------------------------- */

static void
hc_transition(struct hostcopy *hc, const struct hc_image *img, VkImageLayout old_layout)
{
   const VkHostImageLayoutTransitionInfoEXT transition = {
      .sType = VK_STRUCTURE_TYPE_HOST_IMAGE_LAYOUT_TRANSITION_INFO_EXT,
      .image = img->image,
      .oldLayout = old_layout,
      .newLayout = hc->layout,
      .subresourceRange = { img->format->aspect, 0, img->mips, 0, img->layers },
   };
   VKT_CALL(hc->transition_image_layout(hc->ctx.device, 1, &transition));
}

/* An optimal-tiling image transitioned on the host from UNDEFINED to
 * hc->layout, all of its subresources. */
static void
hc_image_create(struct hostcopy *hc,
                const struct hc_format *f,
                uint32_t width,
                uint32_t height,
                uint32_t mips,
                uint32_t layers,
                struct hc_image *out)
{
   *out =
      (struct hc_image){ f, VK_NULL_HANDLE, VK_NULL_HANDLE, width, height, mips, layers };
   const VkImageCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = f->format,
      .extent = { width, height, 1 },
      .mipLevels = mips,
      .arrayLayers = layers,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = hc_usage,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VKT_CALL(vkCreateImage(hc->ctx.device, &info, NULL, &out->image));
   VkMemoryRequirements reqs;
   vkGetImageMemoryRequirements(hc->ctx.device, out->image, &reqs);
   const uint32_t type = vkt_memory_type(&hc->ctx, reqs.memoryTypeBits, 0,
                                         VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("hostcopy: no memory type for an image (bits 0x%x)", reqs.memoryTypeBits);
   const VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex = type,
   };
   VKT_CALL(vkAllocateMemory(hc->ctx.device, &alloc, NULL, &out->memory));
   VKT_CALL(vkBindImageMemory(hc->ctx.device, out->image, out->memory, 0));
   hc_transition(hc, out, VK_IMAGE_LAYOUT_UNDEFINED);
}

static void
hc_image_destroy(struct hostcopy *hc, struct hc_image *img)
{
   vkDestroyImage(hc->ctx.device, img->image, NULL);
   vkFreeMemory(hc->ctx.device, img->memory, NULL);
   memset(img, 0, sizeof(*img));
}

static VkImageSubresourceLayers
hc_subresource(const struct hc_image *img, const struct hc_region *r)
{
   return (VkImageSubresourceLayers){ img->format->aspect, r->mip, r->layer,
                                      r->layer_count };
}

/* Writes content c into the regions of img with one vkCopyMemoryToImageEXT. */
static void
hc_write(struct hostcopy *hc,
         const struct hc_image *img,
         const struct hc_region *regions,
         uint32_t count,
         const struct hc_content *c)
{
   VkMemoryToImageCopyEXT copies[HC_MAX_REGIONS];
   uint8_t *mem[HC_MAX_REGIONS];
   for (uint32_t i = 0; i < count; i++) {
      const struct hc_region *r = &regions[i];
      mem[i] = hc_region_expected(img->format, c, r);
      copies[i] = (VkMemoryToImageCopyEXT){
         .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_EXT,
         .pHostPointer = mem[i],
         .memoryRowLength = r->row_length,
         .memoryImageHeight = r->image_height,
         .imageSubresource = hc_subresource(img, r),
         .imageOffset = { r->x, r->y, 0 },
         .imageExtent = { r->width, r->height, 1 },
      };
   }
   const VkCopyMemoryToImageInfoEXT info = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_EXT,
      .dstImage = img->image,
      .dstImageLayout = hc->layout,
      .regionCount = count,
      .pRegions = copies,
   };
   VKT_CALL(hc->copy_memory_to_image(hc->ctx.device, &info));
   for (uint32_t i = 0; i < count; i++)
      free(mem[i]);
}

/* Reads the regions of img with one vkCopyImageToMemoryEXT into memory filled
 * with HC_PAD, checks them against content c and returns their digest. */
static uint64_t
hc_read_check(struct hostcopy *hc,
              const struct hc_image *img,
              const struct hc_region *regions,
              uint32_t count,
              const struct hc_content *c,
              const char *what)
{
   VkImageToMemoryCopyEXT copies[HC_MAX_REGIONS];
   uint8_t *mem[HC_MAX_REGIONS];
   for (uint32_t i = 0; i < count; i++) {
      const struct hc_region *r = &regions[i];
      mem[i] = hc_alloc(hc_region_size(img->format, r));
      copies[i] = (VkImageToMemoryCopyEXT){
         .sType = VK_STRUCTURE_TYPE_IMAGE_TO_MEMORY_COPY_EXT,
         .pHostPointer = mem[i],
         .memoryRowLength = r->row_length,
         .memoryImageHeight = r->image_height,
         .imageSubresource = hc_subresource(img, r),
         .imageOffset = { r->x, r->y, 0 },
         .imageExtent = { r->width, r->height, 1 },
      };
   }
   const VkCopyImageToMemoryInfoEXT info = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_EXT,
      .srcImage = img->image,
      .srcImageLayout = hc->layout,
      .regionCount = count,
      .pRegions = copies,
   };
   VKT_CALL(hc->copy_image_to_memory(hc->ctx.device, &info));

   uint64_t digest = VKT_DIGEST_INIT;
   for (uint32_t i = 0; i < count; i++) {
      const size_t size = hc_region_size(img->format, &regions[i]);
      uint8_t *want = hc_region_expected(img->format, c, &regions[i]);
      char name[96];
      snprintf(name, sizeof(name), "%s, region %u", what, i);
      hc_compare(hc, mem[i], want, size, name);
      digest = vkt_digest_update(digest, mem[i], size);
      free(want);
      free(mem[i]);
   }
   return digest;
}

/* --- device capabilities --------------------------------------------------- */

/* Whether f supports host transfers of an optimal image of this shape; prints
 * the device performance query when it does. */
static bool
hc_format_supported(struct hostcopy *hc,
                    const struct hc_format *f,
                    uint32_t width,
                    uint32_t height,
                    uint32_t mips,
                    uint32_t layers)
{
   VkFormatProperties3 props3 = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3 };
   VkFormatProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2,
      .pNext = &props3,
   };
   vkGetPhysicalDeviceFormatProperties2(hc->ctx.physical_device, f->format, &props);
   const VkFormatFeatureFlags2 needed = VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT |
                                        VK_FORMAT_FEATURE_2_TRANSFER_SRC_BIT |
                                        VK_FORMAT_FEATURE_2_TRANSFER_DST_BIT;
   if ((props3.optimalTilingFeatures & needed) != needed) {
      fprintf(stderr, "hostcopy: %s: optimal tiling features 0x%llx lack 0x%llx\n",
              f->name, (unsigned long long)props3.optimalTilingFeatures,
              (unsigned long long)(needed & ~props3.optimalTilingFeatures));
      return false;
   }

   const VkPhysicalDeviceImageFormatInfo2 info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
      .format = f->format,
      .type = VK_IMAGE_TYPE_2D,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = hc_usage,
   };
   VkHostImageCopyDevicePerformanceQueryEXT perf = {
      .sType = VK_STRUCTURE_TYPE_HOST_IMAGE_COPY_DEVICE_PERFORMANCE_QUERY_EXT,
   };
   VkImageFormatProperties2 image = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
      .pNext = &perf,
   };
   const VkResult result =
      vkGetPhysicalDeviceImageFormatProperties2(hc->ctx.physical_device, &info, &image);
   const VkImageFormatProperties *p = &image.imageFormatProperties;
   if (result != VK_SUCCESS || p->maxExtent.width < width ||
       p->maxExtent.height < height || p->maxMipLevels < mips ||
       p->maxArrayLayers < layers) {
      fprintf(stderr, "hostcopy: %s: no %ux%u image with %u mips and %u layers (%s)\n",
              f->name, width, height, mips, layers, vkt_result_string(result));
      return false;
   }
   char name[96];
   snprintf(name, sizeof(name), "%s_optimal_device_access", f->name);
   vkt_print_u64(name, "bool", perf.optimalDeviceAccess);
   snprintf(name, sizeof(name), "%s_identical_memory_layout", f->name);
   vkt_print_u64(name, "bool", perf.identicalMemoryLayout);
   return true;
}

/* The layouts offered for host copies: the one used is in both lists,
 * GENERAL if it is. */
static bool
hc_choose_layout(struct hostcopy *hc)
{
   VkPhysicalDeviceHostImageCopyPropertiesEXT props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_PROPERTIES_EXT,
   };
   VkPhysicalDeviceProperties2 props2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &props,
   };
   vkGetPhysicalDeviceProperties2(hc->ctx.physical_device, &props2);
   VkImageLayout *src = (void *)hc_alloc((props.copySrcLayoutCount + 1) * sizeof(*src));
   VkImageLayout *dst = (void *)hc_alloc((props.copyDstLayoutCount + 1) * sizeof(*dst));
   props.pCopySrcLayouts = src;
   props.pCopyDstLayouts = dst;
   vkGetPhysicalDeviceProperties2(hc->ctx.physical_device, &props2);
   vkt_print_u64("hostcopy_src_layouts", "count", props.copySrcLayoutCount);
   vkt_print_u64("hostcopy_dst_layouts", "count", props.copyDstLayoutCount);
   fprintf(stderr, "hostcopy: identicalMemoryTypeRequirements %u\n",
           props.identicalMemoryTypeRequirements);

   hc->layout = VK_IMAGE_LAYOUT_MAX_ENUM;
   for (uint32_t i = 0; i < props.copySrcLayoutCount; i++) {
      bool in_dst = false;
      for (uint32_t j = 0; j < props.copyDstLayoutCount; j++)
         in_dst = in_dst || dst[j] == src[i];
      fprintf(stderr, "hostcopy: source layout %d%s\n", (int)src[i],
              in_dst ? " (destination too)" : "");
      if (in_dst &&
          (hc->layout == VK_IMAGE_LAYOUT_MAX_ENUM || src[i] == VK_IMAGE_LAYOUT_GENERAL))
         hc->layout = src[i];
   }
   for (uint32_t j = 0; j < props.copyDstLayoutCount; j++)
      fprintf(stderr, "hostcopy: destination layout %d\n", (int)dst[j]);
   free(src);
   free(dst);
   if (hc->layout == VK_IMAGE_LAYOUT_MAX_ENUM)
      return false;
   vkt_print_u64("hostcopy_layout", "enum", (uint64_t)hc->layout);
   return true;
}

/* --- the cases --------------------------------------------------------------- */

/* Reads mip 0 layer 1 of img with vkCmdCopyImageToBuffer and checks it. */
static void
hc_gpu_read_check(struct hostcopy *hc,
                  const struct hc_image *img,
                  const struct hc_content *c)
{
   const struct hc_region r = { 0, 1, 1, 0, 0, img->width, img->height, 0, 0 };
   const size_t size = hc_region_size(img->format, &r);
   struct vkt_buffer buf;
   vkt_buffer_create(&hc->ctx, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &buf);

   VkImageMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_HOST_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
      .oldLayout = hc->layout,
      .newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = img->image,
      .subresourceRange = { img->format->aspect, 0, 1, 1, 1 },
   };
   VkCommandBuffer cmd = vkt_cmd_begin(&hc->ctx);
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_HOST_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                        0, 0, NULL, 0, NULL, 1, &barrier);
   const VkBufferImageCopy copy = {
      .imageSubresource = { img->format->aspect, 0, 1, 1 },
      .imageExtent = { img->width, img->height, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          buf.buffer, 1, &copy);
   /* back to the layout of the host copies, for the host */
   barrier.srcAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
   barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_HOST_WRITE_BIT;
   barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
   barrier.newLayout = hc->layout;
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                        0, 0, NULL, 0, NULL, 1, &barrier);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&hc->ctx, cmd);
   vkt_buffer_invalidate(&hc->ctx, &buf);

   uint8_t *want = hc_region_expected(img->format, c, &r);
   hc_compare(hc, buf.map, want, size, "GPU read of mip 0 layer 1");
   vkt_print_hex("hostcopy_gpu_read_digest", vkt_digest(buf.map, size));
   free(want);
   vkt_buffer_destroy(&hc->ctx, &buf);
}

/* VK_HOST_IMAGE_COPY_MEMCPY_EXT: mip 0 of an R8G8B8A8 image of content c out
 * to host memory and into a fresh image, read back normally. The images have
 * one layer: the validation layer of Vulkan 1.4.309 takes the layer count of
 * an array image for the depth of its subresources and so rejects any MEMCPY
 * region of it (VUID-...-09115, fixed in Vulkan-ValidationLayers by PR 12266). */
static void
hc_memcpy(struct hostcopy *hc, const struct hc_content *c)
{
   struct hc_image src, fresh;
   hc_image_create(hc, &hc_rgba8, 61, 37, 3, 1, &src);
   const struct hc_region whole = { 0, 0, 1, 0, 0, src.width, src.height, 0, 0 };
   hc_write(hc, &src, &whole, 1, c);

   const VkImageSubresource2EXT subresource = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_SUBRESOURCE_2_EXT,
      .imageSubresource = { src.format->aspect, 0, 0 },
   };
   VkSubresourceHostMemcpySizeEXT memcpy_size = {
      .sType = VK_STRUCTURE_TYPE_SUBRESOURCE_HOST_MEMCPY_SIZE_EXT,
   };
   VkSubresourceLayout2EXT layout = {
      .sType = VK_STRUCTURE_TYPE_SUBRESOURCE_LAYOUT_2_EXT,
      .pNext = &memcpy_size,
   };
   hc->image_subresource_layout2(hc->ctx.device, src.image, &subresource, &layout);
   fprintf(stderr, "hostcopy: memcpy size of a %ux%u subresource: %llu bytes\n",
           src.width, src.height, (unsigned long long)memcpy_size.size);
   if (!vkt_check(&hc->ctx, memcpy_size.size > 0, "hostcopy: memcpy size 0")) {
      hc_image_destroy(hc, &src);
      return;
   }
   uint8_t *mem = hc_alloc(memcpy_size.size);

   const VkImageSubresourceLayers layers = { src.format->aspect, 0, 0, 1 };
   const VkImageToMemoryCopyEXT out = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_TO_MEMORY_COPY_EXT,
      .pHostPointer = mem,
      .imageSubresource = layers,
      .imageExtent = { src.width, src.height, 1 },
   };
   const VkCopyImageToMemoryInfoEXT out_info = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_EXT,
      .flags = VK_HOST_IMAGE_COPY_MEMCPY_EXT,
      .srcImage = src.image,
      .srcImageLayout = hc->layout,
      .regionCount = 1,
      .pRegions = &out,
   };
   VKT_CALL(hc->copy_image_to_memory(hc->ctx.device, &out_info));

   hc_image_create(hc, src.format, src.width, src.height, src.mips, src.layers, &fresh);
   const VkMemoryToImageCopyEXT in = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_EXT,
      .pHostPointer = mem,
      .imageSubresource = layers,
      .imageExtent = { src.width, src.height, 1 },
   };
   const VkCopyMemoryToImageInfoEXT in_info = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_EXT,
      .flags = VK_HOST_IMAGE_COPY_MEMCPY_EXT,
      .dstImage = fresh.image,
      .dstImageLayout = hc->layout,
      .regionCount = 1,
      .pRegions = &in,
   };
   VKT_CALL(hc->copy_memory_to_image(hc->ctx.device, &in_info));
   free(mem);

   vkt_print_hex("hostcopy_memcpy_digest",
                 hc_read_check(hc, &fresh, &whole, 1, c, "memcpy round trip"));
   hc_image_destroy(hc, &fresh);
   hc_image_destroy(hc, &src);
}

/* The R8G8B8A8 image: host writes and reads, a GPU read, a host image to
 * image copy and memcpy copies. */
static void
hc_color(struct hostcopy *hc)
{
   struct hc_image a, b;
   hc_image_create(hc, &hc_rgba8, 61, 37, 3, 3, &a);
   const struct hc_content content_a = { .salt = 1 };
   const struct hc_region writes[] = {
      /* mip 0: layers 0 and 1 with padded rows and image height */
      { 0, 0, 2, 0, 0, 61, 37, 64, 40 },
      /* layer 2 in three parts, two of them at an offset */
      { 0, 2, 1, 0, 0, 61, 20, 70, 0 },
      { 0, 2, 1, 0, 20, 13, 17, 0, 0 },
      { 0, 2, 1, 13, 20, 48, 17, 50, 19 },
      /* mip 1 (30x18): all layers */
      { 1, 0, 3, 0, 0, 30, 18, 32, 21 },
   };
   hc_write(hc, &a, writes, 5, &content_a);
   const struct hc_region reads[] = {
      { 0, 0, 3, 0, 0, 61, 37, 0, 0 },   /* mip 0, tightly packed */
      { 0, 1, 1, 5, 7, 31, 19, 40, 0 },  /* a rectangle inside, padded rows */
      { 1, 2, 1, 3, 2, 20, 11, 24, 0 },  /* the same in mip 1 */
      { 1, 0, 3, 0, 0, 30, 18, 31, 20 }, /* mip 1, padded rows and height */
      { 1, 1, 2, 29, 17, 1, 1, 0, 0 },   /* the last texel of two layers */
   };
   vkt_print_hex("hostcopy_rgba8_read_digest",
                 hc_read_check(hc, &a, reads, 5, &content_a, "host read"));
   hc_gpu_read_check(hc, &a, &content_a);

   /* image to image: b's mip 0 first holds another pattern */
   hc_image_create(hc, &hc_rgba8, 61, 37, 3, 3, &b);
   const struct hc_region b_mip0 = { 0, 0, 3, 0, 0, 61, 37, 0, 0 };
   hc_write(hc, &b, &b_mip0, 1, &(struct hc_content){ .salt = 2 });
   const VkImageCopy2 copies[] = {
      {
         .sType = VK_STRUCTURE_TYPE_IMAGE_COPY_2,
         .srcSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 2 },
         .srcOffset = { 4, 3, 0 },
         .dstSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 2 },
         .dstOffset = { 10, 6, 0 },
         .extent = { 40, 25, 1 },
      },
      {
         .sType = VK_STRUCTURE_TYPE_IMAGE_COPY_2,
         .srcSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 1, 2, 1 },
         .srcOffset = { 9, 1, 0 },
         .dstSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
         .dstOffset = { 45, 20, 0 },
         .extent = { 16, 17, 1 },
      },
   };
   const VkCopyImageToImageInfoEXT copy_info = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_IMAGE_INFO_EXT,
      .srcImage = a.image,
      .srcImageLayout = hc->layout,
      .dstImage = b.image,
      .dstImageLayout = hc->layout,
      .regionCount = 2,
      .pRegions = copies,
   };
   VKT_CALL(hc->copy_image_to_image(hc->ctx.device, &copy_info));
   const struct hc_content content_b = {
      .salt = 2,
      .src_salt = 1,
      .copies = copies,
      .copy_count = 2,
   };
   vkt_print_hex("hostcopy_image_copy_digest",
                 hc_read_check(hc, &b, &b_mip0, 1, &content_b, "image to image copy"));
   hc_image_destroy(hc, &b);

   hc_memcpy(hc, &content_a);
   hc_image_destroy(hc, &a);
}

/* A one-mip, one-layer round trip of f: written in two halves (padded rows,
 * an offset), read whole and as a 3x3-block sub-rectangle. */
static void
hc_round_trip(struct hostcopy *hc,
              const struct hc_format *f,
              uint32_t width,
              uint32_t height)
{
   char name[96];
   const bool supported = hc_format_supported(hc, f, width, height, 1, 1);
   vkt_print_u64(f->name, "bool", supported);
   if (!supported)
      return;

   struct hc_image img;
   hc_image_create(hc, f, width, height, 1, 1, &img);
   const uint32_t bw = f->block_width, bh = f->block_height;
   const uint32_t top = height / bh / 2 * bh;
   const struct hc_content content = { .salt = 3 };
   const struct hc_region writes[] = {
      { 0, 0, 1, 0, 0, width, top, width + 2 * bw, 0 },
      { 0, 0, 1, 0, (int32_t)top, width, height - top, 0, height - top + bh },
   };
   hc_write(hc, &img, writes, 2, &content);
   const struct hc_region reads[] = {
      { 0, 0, 1, 0, 0, width, height, 0, 0 },
      { 0, 0, 1, (int32_t)(5 * bw), (int32_t)bh, 3 * bw, 3 * bh, 4 * bw, 0 },
   };
   snprintf(name, sizeof(name), "%s_digest", f->name);
   vkt_print_hex(name, hc_read_check(hc, &img, reads, 2, &content, f->name));
   hc_image_destroy(hc, &img);
}

/* Regions larger than one Venus command carries (16 MiB: the driver splits
 * them into parts of whole layers or of whole rows): six layers of
 * 1024x1024 written tightly and read back with padded rows and slices; one
 * layer of 2304x2048 written with padded rows and read back tightly. */
static void
hc_large(struct hostcopy *hc)
{
   struct hc_image img;
   const struct hc_content content = { .salt = 5 };
   hc_image_create(hc, &hc_rgba8, 1024, 1024, 1, 6, &img);
   const struct hc_region layers_tight = { 0, 0, 6, 0, 0, 1024, 1024, 0, 0 };
   hc_write(hc, &img, &layers_tight, 1, &content);
   const struct hc_region layers_padded = { 0, 0, 6, 0, 0, 1024, 1024, 1040, 1030 };
   vkt_print_hex("hostcopy_large_layers_digest",
                 hc_read_check(hc, &img, &layers_padded, 1, &content, "large, layers"));
   hc_image_destroy(hc, &img);

   hc_image_create(hc, &hc_rgba8, 2304, 2048, 1, 1, &img);
   const struct hc_region rows_padded = { 0, 0, 1, 0, 0, 2304, 2048, 2400, 0 };
   hc_write(hc, &img, &rows_padded, 1, &content);
   const struct hc_region rows_tight = { 0, 0, 1, 0, 0, 2304, 2048, 0, 0 };
   vkt_print_hex("hostcopy_large_rows_digest",
                 hc_read_check(hc, &img, &rows_tight, 1, &content, "large, rows"));
   hc_image_destroy(hc, &img);
}

static int
hc_skip(struct hostcopy *hc, const char *why)
{
   fprintf(stderr, "hostcopy: %s: skipped\n", why);
   vkt_finish(&hc->ctx);
   return 77;
}

static PFN_vkVoidFunction
hc_proc(struct hostcopy *hc, const char *name)
{
   PFN_vkVoidFunction f = vkGetDeviceProcAddr(hc->ctx.device, name);
   if (!f)
      vkt_die("hostcopy: no %s", name);
   return f;
}

int
main(void)
{
   struct hostcopy hc;
   vkt_init(&hc.ctx, "hostcopy");
   if (!vkt_has_device_extension(&hc.ctx, VK_EXT_HOST_IMAGE_COPY_EXTENSION_NAME))
      return hc_skip(&hc, hc.ctx.props.apiVersion >= VK_MAKE_API_VERSION(0, 1, 4, 0)
                             ? "no VK_EXT_host_image_copy (a Vulkan 1.4 device, but vkt "
                               "creates a Vulkan 1.3 instance)"
                             : "no VK_EXT_host_image_copy");
   VkPhysicalDeviceHostImageCopyFeaturesEXT supported = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_FEATURES_EXT,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &supported,
   };
   vkGetPhysicalDeviceFeatures2(hc.ctx.physical_device, &features);
   if (!supported.hostImageCopy)
      return hc_skip(&hc, "no hostImageCopy feature");
   if (!hc_choose_layout(&hc))
      return hc_skip(&hc, "no layout in both pCopySrcLayouts and pCopyDstLayouts");
   if (!hc_format_supported(&hc, &hc_rgba8, 61, 37, 3, 3))
      return hc_skip(&hc, "no host image transfer for R8G8B8A8_UNORM");

   const VkPhysicalDeviceHostImageCopyFeaturesEXT enable = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_FEATURES_EXT,
      .hostImageCopy = VK_TRUE,
   };
   const char *const extension = VK_EXT_HOST_IMAGE_COPY_EXTENSION_NAME;
   const struct vkt_device_info info = {
      .next = &enable,
      .extensions = &extension,
      .extension_count = 1,
   };
   vkt_device_init(&hc.ctx, &info);
   hc.copy_memory_to_image =
      (PFN_vkCopyMemoryToImageEXT)hc_proc(&hc, "vkCopyMemoryToImageEXT");
   hc.copy_image_to_memory =
      (PFN_vkCopyImageToMemoryEXT)hc_proc(&hc, "vkCopyImageToMemoryEXT");
   hc.copy_image_to_image =
      (PFN_vkCopyImageToImageEXT)hc_proc(&hc, "vkCopyImageToImageEXT");
   hc.transition_image_layout =
      (PFN_vkTransitionImageLayoutEXT)hc_proc(&hc, "vkTransitionImageLayoutEXT");
   hc.image_subresource_layout2 = (PFN_vkGetImageSubresourceLayout2EXT)hc_proc(
      &hc, "vkGetImageSubresourceLayout2EXT");

   hc_color(&hc);
   hc_large(&hc);
   hc_round_trip(&hc, &hc_d32, 45, 29);
   hc_round_trip(&hc, &hc_bc1, 64, 32);
   return vkt_finish(&hc.ctx);
}

#endif
