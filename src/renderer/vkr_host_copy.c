/*
 * Host image copies (VK_EXT_host_image_copy, Vulkan 1.4's hostImageCopy)
 * as Venus carries them: the pixels travel in the stream, not behind host
 * pointers. vkCopyMemoryToImageMESA (298) hands the host each region's
 * bytes where they lie in the stream (the decoder does not copy them out:
 * venus_private_host_copy.xml's inplace; a guest that rewrites them while
 * the host reads changes only pixels), vkCopyImageToMemoryMESA (297) lets
 * the host write one
 * region into the reply's buffer. The host driver reads or writes exactly
 * as many bytes as the region addresses, so each region is sized here from
 * the image's format (vp_copy.h), or for VK_HOST_IMAGE_COPY_MEMCPY from the
 * host's own VkSubresourceHostMemcpySize, and a guest that names fewer
 * bytes than that makes its context fatal, and so does a region naming a
 * mip level or layers its image lacks (a memcpy size of those would mean
 * nothing). Everything else about the region (inside the subresource, a
 * layout the host allows) is valid usage the host driver checks, as for
 * vkCmdCopyBufferToImage.
 */
#include "vkr_common.h"

#include "protocol/vp_copy.h"

#ifdef VK_EXT_host_image_copy

/* The bytes one region of `image` addresses in memory: false (after a
 * fatal error) where it cannot be sized. */
static bool
vkr_host_copy_bytes(struct vp_dispatch *d,
                    struct vkr_device *dev,
                    const struct vkr_object *image,
                    VkHostImageCopyFlagsEXT flags,
                    uint32_t row_length,
                    uint32_t image_height,
                    const VkImageSubresourceLayers *sub,
                    VkExtent3D extent,
                    uint64_t *bytes)
{
   uint32_t layers = sub->layerCount;
   if (layers == VK_REMAINING_ARRAY_LAYERS)
      layers = sub->baseArrayLayer < image->image_layers
                  ? image->image_layers - sub->baseArrayLayer
                  : 0;
   /* the subresources the image has (the host's memcpy size of another
    * would mean nothing) */
   if (image->device != dev || sub->mipLevel >= image->image_mips ||
       sub->baseArrayLayer > image->image_layers ||
       layers > image->image_layers - sub->baseArrayLayer) {
      vkr_dispatch_fatal(d, "host image copy: subresources the image does not have");
      return false;
   }
   if (!(flags & VK_HOST_IMAGE_COPY_MEMCPY_EXT)) {
      if (!vp_copy_region_bytes(image->image_format, sub->aspectMask, row_length, image_height,
                                extent, layers, bytes)) {
         vkr_dispatch_fatal(d, "host image copy: a region of unknown size (format, aspect "
                               "or extent)");
         return false;
      }
      return true;
   }
   /* MEMCPY: whole subresources in the host's own layout, one after the
    * other, each of the size the host reports */
   if (!dev->table.vkGetImageSubresourceLayout2EXT) {
      vkr_dispatch_fatal(d, "host image copy: no vkGetImageSubresourceLayout2 to size it");
      return false;
   }
   struct vp_copy_memcpy_query q;
   vp_copy_memcpy_query_init(&q, sub);
   dev->table.vkGetImageSubresourceLayout2EXT(dev->host, (VkImage)(uintptr_t)image->base.handle,
                                              &q.subresource, &q.layout);
   if (!vp_copy_memcpy_bytes(&q, layers, bytes)) {
      vkr_dispatch_fatal(d, "host image copy: a region of unknown size (memcpy)");
      return false;
   }
   return true;
}

void
vkr_exec_vkCopyMemoryToImageMESA(struct vp_dispatch *d,
                                 struct vp_command_vkCopyMemoryToImageMESA *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const VkCopyMemoryToImageInfoMESA *info = args->pCopyMemoryToImageInfo;
   const struct vkr_object *image = (const struct vkr_object *)(uintptr_t)info->dstImage;
   if (!dev->table.vkCopyMemoryToImageEXT || !image) {
      vkr_dispatch_fatal(d, "vkCopyMemoryToImageMESA without host image copy or an image");
      return;
   }
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   VkMemoryToImageCopyEXT *regions =
      vu_arena_alloc_array(&dec->arena, info->regionCount ? info->regionCount : 1,
                           sizeof(*regions), 8);
   if (!regions) {
      vkr_dispatch_fatal(d, "vkCopyMemoryToImageMESA: out of memory for its regions");
      return;
   }
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkMemoryToImageCopyMESA *r = &info->pRegions[i];
      uint64_t bytes;
      if (!vkr_host_copy_bytes(d, dev, image, info->flags, r->memoryRowLength,
                               r->memoryImageHeight, &r->imageSubresource, r->imageExtent,
                               &bytes))
         return;
      if (bytes > r->dataSize) {
         vkr_log(VU_LOG_ERROR, "vkCopyMemoryToImageMESA: region %u addresses %llu bytes, "
                               "the stream carries %llu", i, (unsigned long long)bytes,
                 (unsigned long long)r->dataSize);
         vkr_dispatch_fatal(d, "vkCopyMemoryToImageMESA: a region's data is too short");
         return;
      }
      regions[i] = (VkMemoryToImageCopyEXT){
         .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_EXT,
         .pHostPointer = r->pData,
         .memoryRowLength = r->memoryRowLength,
         .memoryImageHeight = r->memoryImageHeight,
         .imageSubresource = r->imageSubresource,
         .imageOffset = r->imageOffset,
         .imageExtent = r->imageExtent,
      };
   }
   const VkCopyMemoryToImageInfoEXT host_info = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_EXT,
      .flags = info->flags,
      .dstImage = (VkImage)(uintptr_t)image->base.handle,
      .dstImageLayout = info->dstImageLayout,
      .regionCount = info->regionCount,
      .pRegions = regions,
   };
   args->ret = dev->table.vkCopyMemoryToImageEXT(dev->host, &host_info);
}

void
vkr_exec_vkCopyImageToMemoryMESA(struct vp_dispatch *d,
                                 struct vp_command_vkCopyImageToMemoryMESA *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const VkCopyImageToMemoryInfoMESA *info = args->pCopyImageToMemoryInfo;
   const struct vkr_object *image = (const struct vkr_object *)(uintptr_t)info->srcImage;
   if (!dev->table.vkCopyImageToMemoryEXT || !image) {
      vkr_dispatch_fatal(d, "vkCopyImageToMemoryMESA without host image copy or an image");
      return;
   }
   uint64_t bytes;
   if (!vkr_host_copy_bytes(d, dev, image, info->flags, info->memoryRowLength,
                            info->memoryImageHeight, &info->imageSubresource, info->imageExtent,
                            &bytes))
      return;
   if (bytes > args->dataSize) {
      vkr_log(VU_LOG_ERROR, "vkCopyImageToMemoryMESA: the region addresses %llu bytes, the "
                            "reply has room for %llu", (unsigned long long)bytes,
              (unsigned long long)args->dataSize);
      vkr_dispatch_fatal(d, "vkCopyImageToMemoryMESA: dataSize too small for the region");
      return;
   }
   /* The decoder took no storage for pData (the XML's inplace): the host
    * writes the pixels where the reply carries them, after what a reply
    * without them holds (command type, result, the blob's size), so that
    * encoding the reply copies nothing. That memory is the guest's: what
    * the host leaves unwritten there (gaps between rows, a failed copy) is
    * what the guest had there before. */
   if (args->dataSize) {
      const size_t at = vp_sizeof_vkCopyImageToMemoryMESA_reply(args->device, info, 0, NULL);
      struct vp_encoder *reply = d->reply;
      const size_t room = reply ? (size_t)(reply->end - reply->cur) : 0;
      if (!(d->cmd_flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT) || room < at ||
          args->dataSize > room - at) {
         vkr_dispatch_fatal(d, "vkCopyImageToMemoryMESA: no reply, or no room in the reply "
                               "stream for its dataSize");
         return;
      }
      args->pData = reply->cur + at;
   }
   const VkImageToMemoryCopyEXT region = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_TO_MEMORY_COPY_EXT,
      .pHostPointer = args->pData,
      .memoryRowLength = info->memoryRowLength,
      .memoryImageHeight = info->memoryImageHeight,
      .imageSubresource = info->imageSubresource,
      .imageOffset = info->imageOffset,
      .imageExtent = info->imageExtent,
   };
   const VkCopyImageToMemoryInfoEXT host_info = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_EXT,
      .flags = info->flags,
      .srcImage = (VkImage)(uintptr_t)image->base.handle,
      .srcImageLayout = info->srcImageLayout,
      .regionCount = 1,
      .pRegions = &region,
   };
   args->ret = dev->table.vkCopyImageToMemoryEXT(dev->host, &host_info);
}

#endif
