/*
 * hostcopy: host image copies (VK_EXT_host_image_copy, Vulkan 1.4's
 * hostImageCopy): an optimal R8G8B8A8 image of 4096x4096 (64 MiB; 1024x1024
 * with --short) written whole with vkCopyMemoryToImage and read back whole
 * with vkCopyImageToMemory, new data every repetition, the last read
 * compared with what was written. Through Venus the pixels travel in the
 * command stream (vkCopyMemoryToImageMESA / vkCopyImageToMemoryMESA), so
 * these figures show what that costs against the host driver's own copy.
 * No metric where the extension, its feature or R8G8B8A8's host transfers
 * are missing (lavapipe 22), or in a build whose registry lacks them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#ifndef VK_EXT_host_image_copy

const void *
bench_hostcopy_features(struct bench *b, const void *next)
{
   b->has_host_copy = false;
   return next;
}

void
bench_run_hostcopy(struct bench *b)
{
   (void)b;
   fprintf(stderr, "vkbench: hostcopy: built with a Vulkan registry without "
                   "VK_EXT_host_image_copy: skipped\n");
}

#else

#define HOSTCOPY_MAX_REPS 8u

static VkPhysicalDeviceHostImageCopyFeaturesEXT hostcopy_enable;

const void *
bench_hostcopy_features(struct bench *b, const void *next)
{
   b->has_host_copy = false;
   if (!vkt_has_device_extension(&b->ctx, VK_EXT_HOST_IMAGE_COPY_EXTENSION_NAME))
      return next;
   VkPhysicalDeviceHostImageCopyFeaturesEXT supported = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_FEATURES_EXT,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &supported,
   };
   vkGetPhysicalDeviceFeatures2(b->ctx.physical_device, &features);
   VkFormatProperties3 props3 = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3 };
   VkFormatProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2,
      .pNext = &props3,
   };
   vkGetPhysicalDeviceFormatProperties2(b->ctx.physical_device, VK_FORMAT_R8G8B8A8_UNORM, &props);
   if (!supported.hostImageCopy ||
       !(props3.optimalTilingFeatures & VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT))
      return next;
   hostcopy_enable = (VkPhysicalDeviceHostImageCopyFeaturesEXT){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_FEATURES_EXT,
      .pNext = (void *)next,
      .hostImageCopy = VK_TRUE,
   };
   b->has_host_copy = true;
   return &hostcopy_enable;
}

/* VK_IMAGE_LAYOUT_GENERAL where both copy lists have it, else the first
 * layout of the destination list the source list has too */
static VkImageLayout
hostcopy_layout(struct bench *b)
{
   VkImageLayout src[64], dst[64];
   VkPhysicalDeviceHostImageCopyPropertiesEXT copy = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_PROPERTIES_EXT,
      .copySrcLayoutCount = 64,
      .pCopySrcLayouts = src,
      .copyDstLayoutCount = 64,
      .pCopyDstLayouts = dst,
   };
   VkPhysicalDeviceProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &copy,
   };
   vkGetPhysicalDeviceProperties2(b->ctx.physical_device, &props);
   VkImageLayout found = VK_IMAGE_LAYOUT_UNDEFINED;
   for (uint32_t d = 0; d < copy.copyDstLayoutCount; d++) {
      for (uint32_t s = 0; s < copy.copySrcLayoutCount; s++) {
         if (dst[d] != src[s])
            continue;
         if (dst[d] == VK_IMAGE_LAYOUT_GENERAL || found == VK_IMAGE_LAYOUT_UNDEFINED)
            found = dst[d];
      }
   }
   return found;
}

static double
hostcopy_gbps(size_t bytes, uint64_t ns)
{
   return ns ? (double)bytes / (double)ns : 0.0;
}

void
bench_run_hostcopy(struct bench *b)
{
   if (!b->has_host_copy) {
      fprintf(stderr, "vkbench: hostcopy: no host image copy for R8G8B8A8_UNORM: skipped\n");
      return;
   }
   VkDevice dev = b->ctx.device;
   const VkImageLayout layout = hostcopy_layout(b);
   if (layout == VK_IMAGE_LAYOUT_UNDEFINED) {
      fprintf(stderr, "vkbench: hostcopy: no layout both copy lists have: skipped\n");
      return;
   }
   PFN_vkCopyMemoryToImageEXT copy_to_image =
      (PFN_vkCopyMemoryToImageEXT)vkGetDeviceProcAddr(dev, "vkCopyMemoryToImageEXT");
   PFN_vkCopyImageToMemoryEXT copy_to_memory =
      (PFN_vkCopyImageToMemoryEXT)vkGetDeviceProcAddr(dev, "vkCopyImageToMemoryEXT");
   PFN_vkTransitionImageLayoutEXT transition =
      (PFN_vkTransitionImageLayoutEXT)vkGetDeviceProcAddr(dev, "vkTransitionImageLayoutEXT");
   if (!copy_to_image || !copy_to_memory || !transition)
      vkt_die("hostcopy: the device lacks the host image copy entry points");

   const uint32_t side = bench_count(b, 4096, 1024);
   const size_t size = (size_t)side * side * 4;
   const uint32_t reps = bench_count(b, 7, 3);
   const VkImageCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .extent = { side, side, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = VK_IMAGE_USAGE_HOST_TRANSFER_BIT_EXT | VK_IMAGE_USAGE_SAMPLED_BIT,
   };
   VkImage image;
   VKT_CALL(vkCreateImage(dev, &info, NULL, &image));
   VkMemoryRequirements reqs;
   vkGetImageMemoryRequirements(dev, image, &reqs);
   const VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex =
         vkt_memory_type(&b->ctx, reqs.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT),
   };
   if (alloc.memoryTypeIndex == VKT_NO_MEMORY_TYPE)
      vkt_die("hostcopy: no memory type for the image (bits 0x%x)", reqs.memoryTypeBits);
   VkDeviceMemory memory;
   VKT_CALL(vkAllocateMemory(dev, &alloc, NULL, &memory));
   VKT_CALL(vkBindImageMemory(dev, image, memory, 0));
   const VkHostImageLayoutTransitionInfoEXT to_layout = {
      .sType = VK_STRUCTURE_TYPE_HOST_IMAGE_LAYOUT_TRANSITION_INFO_EXT,
      .image = image,
      .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
      .newLayout = layout,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   VKT_CALL(transition(dev, 1, &to_layout));

   uint8_t *src = malloc(size), *dst = malloc(size);
   if (!src || !dst)
      vkt_die("hostcopy: out of host memory");
   /* faulted in before the clock runs */
   memset(dst, 0, size);
   const VkMemoryToImageCopyEXT up = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_EXT,
      .pHostPointer = src,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { side, side, 1 },
   };
   const VkCopyMemoryToImageInfoEXT up_info = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_EXT,
      .dstImage = image,
      .dstImageLayout = layout,
      .regionCount = 1,
      .pRegions = &up,
   };
   const VkImageToMemoryCopyEXT down = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_TO_MEMORY_COPY_EXT,
      .pHostPointer = dst,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { side, side, 1 },
   };
   const VkCopyImageToMemoryInfoEXT down_info = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_EXT,
      .srcImage = image,
      .srcImageLayout = layout,
      .regionCount = 1,
      .pRegions = &down,
   };
   double uploads[HOSTCOPY_MAX_REPS], downloads[HOSTCOPY_MAX_REPS];
   /* rep 0 warms up and is not counted */
   for (uint32_t rep = 0; rep <= reps; rep++) {
      for (size_t i = 0; i < size; i++)
         src[i] = (uint8_t)(i * 131 + rep * 29 + (i >> 12));
      uint64_t start = vkt_now_ns();
      VKT_CALL(copy_to_image(dev, &up_info));
      const uint64_t up_ns = vkt_now_ns() - start;
      start = vkt_now_ns();
      VKT_CALL(copy_to_memory(dev, &down_info));
      const uint64_t down_ns = vkt_now_ns() - start;
      if (rep) {
         uploads[rep - 1] = hostcopy_gbps(size, up_ns);
         downloads[rep - 1] = hostcopy_gbps(size, down_ns);
      }
   }
   vkt_check(&b->ctx, !memcmp(dst, src, size),
             "hostcopy: the image read back differs from what was written");
   bench_report("hostcopy_upload", "GB/s", bench_median(uploads, reps));
   bench_report("hostcopy_download", "GB/s", bench_median(downloads, reps));

   free(dst);
   free(src);
   vkDestroyImage(dev, image, NULL);
   vkFreeMemory(dev, memory, NULL);
}

#endif
