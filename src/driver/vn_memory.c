/*
 * Memory, buffers and images (vn_memory.h).
 *
 * vkAllocateMemory goes into the ring without a reply. The blob resource of
 * host-visible memory is created at the first vkMapMemory, after the
 * renderer has seen the allocation: wire format 1 orders the context path
 * behind the ring with vkWaitRingSeqnoMESA, wire format 0 has no such
 * command and waits for the ring head on the CPU (command-types.md W.6).
 * Mappings are coherent; flush and invalidate are no-ops and never sent.
 *
 * External memory (OPAQUE_FD and DMA_BUF, docs/driver.md "External memory"): exportable
 * memory is allocated with a reply (the renderer may refuse the export) and
 * its blob is SHAREABLE; vkGetMemoryFdKHR returns a new fd for the blob from
 * the transport (over vtest a dup of the fd the server sent, in a VM a PRIME
 * dma-buf). An import becomes VkImportMemoryResourceInfoMESA naming the
 * blob the fd belongs to: one this instance exported or imported, else over
 * vtest a resource our server makes of the fd (VCMD_VENUS_RESOURCE_IMPORT_FD;
 * virglrenderer's vtest takes no fds), in a VM any dma-buf of the virtio-gpu
 * device. Every memory over one payload holds a reference to the
 * one blob; the resource lives until the last of them is freed. For DMA_BUF
 * the renderer backs the blob with the host's dma-buf, so the application
 * gets a real dma-buf (one inode per buffer).
 */
#include "vn_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "protocol/vp_copy.h"
#include "transport/vw_vtest.h"

#include "vn_device.h"

/* Orders what the ring sends next behind what the context path has sent
 * so far (blob creation, import or release; transport.md §C.10): the
 * context path counts a seqno, the ring waits for it. Wire format 0 has no
 * such commands, and there the blob requests are synchronous. */
static void
vn_device_ring_behind_context(struct vn_device *dev)
{
   struct vn_transport *t = dev->instance->transport;
   if (vn_transport_is_wire0(t))
      return;
   const uint64_t n = atomic_fetch_add(&t->virtqueue_seqno, 1) + 1;
   uint8_t storage[64];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkSubmitVirtqueueSeqnoMESA(&enc, 0, dev->ring->id, n);
   vn_transport_submit(t, enc.base, vp_encoder_size(&enc));
   vp_encoder_reset(&enc);
   vp_encode_vkWaitVirtqueueSeqnoMESA(&enc, 0, n);
   vn_ring_submit(dev->ring, enc.base, vp_encoder_size(&enc), NULL);
}

/* Orders the context path (blob creation) behind the ring's
 * vkAllocateMemory of `mem`. */
static bool
vn_device_memory_wait_alloc(struct vn_device *dev, const struct vn_device_memory *mem)
{
   struct vn_transport *t = dev->instance->transport;
   if (vn_transport_is_wire0(t))
      return vn_ring_wait_seqno(dev->ring, mem->alloc_seqno);
   if (vn_ring_seqno_done(dev->ring, mem->alloc_seqno))
      return true;
   uint8_t storage[64];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkWaitRingSeqnoMESA(&enc, 0, dev->ring->id, mem->alloc_seqno);
   return vn_transport_submit(t, enc.base, vp_encoder_size(&enc));
}

/* Creates the memory's blob on first use: MAPPABLE for host-visible types
 * (when this renderer can map), SHAREABLE for exportable memory. Caller
 * holds transport->blob_mutex. */
static bool
vn_device_memory_init_blob_locked(struct vn_device *dev, struct vn_device_memory *mem)
{
   if (mem->blob)
      return true;
   if (!vn_device_memory_wait_alloc(dev, mem))
      return false;
   uint32_t flags = 0;
   if ((mem->flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && dev->physical_device->can_map)
      flags |= VCMD_BLOB_FLAG_MAPPABLE;
   if (mem->exportable)
      flags |= VCMD_BLOB_FLAG_SHAREABLE;
   mem->blob = vn_transport_blob_create_locked(dev->instance->transport, mem->obj.base.id,
                                               (size_t)mem->size, flags);
   if (!mem->blob)
      return false;
   /* not yet visible to lookups: those take blob_mutex, which we hold */
   mem->blob->dma_buf = mem->fd_types & VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
   return true;
}

/* vkAllocateMemory with VkImportMemoryFdInfoKHR: on the wire the fd
 * becomes the blob resource it came from (exported on this connection) or
 * one the renderer made of it. */
static VkResult
vn_device_memory_import_fd(struct vn_device *dev,
                           struct vn_device_memory *mem,
                           const VkMemoryAllocateInfo *info,
                           const VkImportMemoryFdInfoKHR *import)
{
   struct vn_transport *t = dev->instance->transport;
   if (import->handleType != VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT &&
       import->handleType != VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT) {
      vn_log_err("vkAllocateMemory: fd import of handle type 0x%x is not supported (only "
                 "OPAQUE_FD and DMA_BUF)",
                 (unsigned)import->handleType);
      return VK_ERROR_INVALID_EXTERNAL_HANDLE;
   }
   struct vn_blob *blob = vn_transport_blob_import_fd(
      t, import->fd, import->handleType == VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
      info->allocationSize);
   if (!blob) {
      if (vn_transport_is_lost(t))
         return VK_ERROR_DEVICE_LOST;
      if (t->can_import_foreign_memory)
         vn_log_err("vkAllocateMemory: fd %d cannot be imported (the renderer refused it: "
                    "not memory of this host's device, or too small)",
                    import->fd);
      else
         vn_log_err("vkAllocateMemory: fd %d cannot be imported (this vtest server takes no "
                    "fds: only an fd from vkGetMemoryFdKHR of the same VkInstance, while "
                    "memory over it exists)",
                    import->fd);
      return VK_ERROR_INVALID_EXTERNAL_HANDLE;
   }
   if (import->handleType == VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT && !blob->dma_buf) {
      vn_log_err("vkAllocateMemory: fd %d is memory exported as OPAQUE_FD, not a dma-buf",
                 import->fd);
      mtx_lock(&t->blob_mutex);
      vn_transport_blob_unref_locked(t, blob);
      mtx_unlock(&t->blob_mutex);
      return VK_ERROR_INVALID_EXTERNAL_HANDLE;
   }

   /* in a VM the import may have attached a resource to the context just
    * now, through the virtqueue; the ring must not see its id before */
   vn_device_ring_behind_context(dev);

   /* the imported memory shares the exporter's blob (mapping, exports):
    * an export request adds nothing to it */
   static const VkStructureType drop[] = {
      VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA,
      VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
   };
   const void *chain = NULL;
   void *block = vn_chain_clone(info->pNext, drop, VN_ARRAY_SIZE(drop), &chain);
   VkResult result = VK_ERROR_OUT_OF_HOST_MEMORY;
   if (block) {
      const VkImportMemoryResourceInfoMESA res_info = {
         .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA,
         .pNext = chain,
         .resourceId = blob->res_id,
      };
      VkMemoryAllocateInfo wire = *info;
      wire.pNext = &res_info;
      VkDeviceMemory handle = vn_device_memory_to_handle(mem);
      /* with a reply: a refused import must fail here, while the
       * application still owns its fd */
      result = vn_call_vkAllocateMemory(dev->ring, vn_device_to_handle(dev), &wire, NULL,
                                        &handle);
      free(block);
   }
   if (result != VK_SUCCESS) {
      mtx_lock(&t->blob_mutex);
      vn_transport_blob_unref_locked(t, blob);
      mtx_unlock(&t->blob_mutex);
      return result;
   }
   mem->blob = blob;
   mem->alloc_seqno = vn_ring_current_seqno(dev->ring);
   /* a successful import takes ownership of the fd (VK_KHR_external_memory_fd) */
   close(import->fd);
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_AllocateMemory(VkDevice device,
                  const VkMemoryAllocateInfo *pAllocateInfo,
                  const VkAllocationCallbacks *pAllocator,
                  VkDeviceMemory *pMemory)
{
   struct vn_device *dev = vn_device_from_handle(device);
   const VkPhysicalDeviceMemoryProperties *props =
      &dev->physical_device->memory_properties.memoryProperties;
   if (pAllocateInfo->memoryTypeIndex >= props->memoryTypeCount)
      return vn_error(VK_ERROR_OUT_OF_DEVICE_MEMORY);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);

   struct vn_device_memory *mem =
      vn_object_alloc(dev, sizeof(*mem), VK_OBJECT_TYPE_DEVICE_MEMORY, pAllocator);
   if (!mem)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   mem->size = pAllocateInfo->allocationSize;
   mem->type_index = pAllocateInfo->memoryTypeIndex;
   mem->flags = props->memoryTypes[mem->type_index].propertyFlags;
   const VkExportMemoryAllocateInfo *export =
      vp_chain_find(pAllocateInfo->pNext, VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO);
   mem->fd_types = export ? export->handleTypes & (VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT |
                                                   VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT)
                          : 0;
   mem->exportable = mem->fd_types != 0;
   const VkImportMemoryFdInfoKHR *import_fd =
      vp_chain_find(pAllocateInfo->pNext, VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR);

   VkResult result = VK_SUCCESS;
   *pMemory = vn_device_memory_to_handle(mem);
   if (import_fd) {
      /* exports hand out the imported blob's fd */
      mem->exportable = true;
      mem->fd_types = import_fd->handleType;
      result = vn_device_memory_import_fd(dev, mem, pAllocateInfo, import_fd);
   } else if (mem->exportable) {
      /* the renderer allocates exportable host memory, which can fail */
      result = vn_call_vkAllocateMemory(dev->ring, device, pAllocateInfo, NULL, pMemory);
      mem->alloc_seqno = vn_ring_current_seqno(dev->ring);
   } else {
      vn_async_vkAllocateMemory(dev->ring, device, pAllocateInfo, NULL, pMemory);
      mem->alloc_seqno = vn_ring_current_seqno(dev->ring);
   }
   if (result != VK_SUCCESS) {
      vn_object_free(dev, mem, pAllocator);
      *pMemory = VK_NULL_HANDLE;
      return vn_error(result);
   }
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_FreeMemory(VkDevice device, VkDeviceMemory memory, const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_device_memory *mem = vn_device_memory_from_handle(memory);
   if (!mem)
      return;
   struct vn_transport *t = dev->instance->transport;
   if (mem->blob) {
      mtx_lock(&t->blob_mutex);
      const bool dropped = vn_transport_blob_unref_locked(t, mem->blob);
      mtx_unlock(&t->blob_mutex);
      /* wire format 1: the ring frees the memory only after the context
       * path has dropped the blob (transport.md §D.5) */
      if (dropped)
         vn_device_ring_behind_context(dev);
   }
   vn_async_vkFreeMemory(dev->ring, device, memory, NULL);
   vn_object_free(dev, mem, pAllocator);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_MapMemory(VkDevice device,
             VkDeviceMemory memory,
             VkDeviceSize offset,
             VkDeviceSize size,
             VkMemoryMapFlags flags,
             void **ppData)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_device_memory *mem = vn_device_memory_from_handle(memory);
   struct vn_transport *t = dev->instance->transport;

   if (!(mem->flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
      return vn_error(VK_ERROR_MEMORY_MAP_FAILED);
   if (!dev->physical_device->can_map) {
      static atomic_bool warned;
      if (!atomic_exchange(&warned, true))
         vn_log_err("vkMapMemory: this renderer (Venus wire format 0) cannot export the "
                    "host's memory to the guest (no dma-buf support on the host); "
                    "mapping is unavailable");
      return vn_error(VK_ERROR_MEMORY_MAP_FAILED);
   }
   mtx_lock(&t->blob_mutex);
   void *ptr = vn_device_memory_init_blob_locked(dev, mem) ? mem->blob->ptr : NULL;
   mtx_unlock(&t->blob_mutex);
   if (!ptr)
      return vn_error(vn_transport_is_lost(t) ? VK_ERROR_DEVICE_LOST
                                             : VK_ERROR_MEMORY_MAP_FAILED);
   *ppData = (uint8_t *)ptr + offset;
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetMemoryFdKHR(VkDevice device, const VkMemoryGetFdInfoKHR *pGetFdInfo, int *pFd)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_device_memory *mem = vn_device_memory_from_handle(pGetFdInfo->memory);
   struct vn_transport *t = dev->instance->transport;

   if (!(pGetFdInfo->handleType & mem->fd_types)) {
      vn_log_err("vkGetMemoryFdKHR: handle type 0x%x of memory exportable as 0x%x",
                 (unsigned)pGetFdInfo->handleType, (unsigned)mem->fd_types);
      return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);
   }
   mtx_lock(&t->blob_mutex);
   int fd = -1;
   int err = 0;
   const bool ok = vn_device_memory_init_blob_locked(dev, mem);
   if (ok) {
      fd = vn_transport_blob_export_fd(t, mem->blob);
      err = errno;
   }
   mtx_unlock(&t->blob_mutex);
   if (!ok)
      return vn_error(vn_transport_is_lost(t) ? VK_ERROR_DEVICE_LOST
                                             : VK_ERROR_TOO_MANY_OBJECTS);
   if (fd < 0)
      return vn_error(err == EMFILE || err == ENFILE ? VK_ERROR_TOO_MANY_OBJECTS
                                                     : VK_ERROR_OUT_OF_HOST_MEMORY);
   *pFd = fd;
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetMemoryFdPropertiesKHR(VkDevice device,
                            VkExternalMemoryHandleTypeFlagBits handleType,
                            int fd,
                            VkMemoryFdPropertiesKHR *pMemoryFdProperties)
{
   /* OPAQUE_FD is not valid here (VUID-vkGetMemoryFdPropertiesKHR-handleType-00674);
    * a dma-buf is answered for the blob resource it was exported as, the
    * only dma-bufs this driver can import */
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_transport *t = dev->instance->transport;
   if (handleType != VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT)
      return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);
   struct vn_blob *blob = vn_transport_blob_lookup_fd(t, fd);
   if (!blob)
      return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);
   VkResult result = VK_ERROR_INVALID_EXTERNAL_HANDLE;
   if (blob->dma_buf) {
      VkMemoryResourcePropertiesMESA props = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_RESOURCE_PROPERTIES_MESA,
      };
      result = vn_call_vkGetMemoryResourcePropertiesMESA(dev->ring, device, blob->res_id, &props);
      if (result == VK_SUCCESS)
         pMemoryFdProperties->memoryTypeBits = props.memoryTypeBits;
   }
   mtx_lock(&t->blob_mutex);
   vn_transport_blob_unref_locked(t, blob);
   mtx_unlock(&t->blob_mutex);
   return vn_result(result);
}

VKAPI_ATTR void VKAPI_CALL
vn_UnmapMemory(VkDevice device, VkDeviceMemory memory)
{
   /* the mapping is kept until vkFreeMemory: mapping again is free */
   (void)device;
   (void)memory;
}

#ifdef VK_KHR_map_memory2
/* VK_KHR_map_memory2 (Vulkan 1.4): the same guest-side mapping; placed
 * mappings (VK_EXT_map_memory_placed) are not in the protocol table, so no
 * chain is honoured */
VKAPI_ATTR VkResult VKAPI_CALL
vn_MapMemory2KHR(VkDevice device, const VkMemoryMapInfoKHR *pMemoryMapInfo, void **ppData)
{
   return vn_MapMemory(device, pMemoryMapInfo->memory, pMemoryMapInfo->offset,
                       pMemoryMapInfo->size, pMemoryMapInfo->flags, ppData);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_UnmapMemory2KHR(VkDevice device, const VkMemoryUnmapInfoKHR *pMemoryUnmapInfo)
{
   vn_UnmapMemory(device, pMemoryUnmapInfo->memory);
   return VK_SUCCESS;
}
#endif

#ifdef VK_EXT_host_image_copy
/* Host image copies travel as vkCopyMemoryToImageMESA /
 * vkCopyImageToMemoryMESA (VK_MESA_venus_protocol spec version 3), with the
 * pixels in the stream: each region's bytes as the buffer-image copy rules
 * address them (vp_copy.h), or for VK_HOST_IMAGE_COPY_MEMCPY the host's
 * size of each whole subresource. Both are synchronous, so that the image
 * (memory to image) or the application's memory (image to memory) holds the
 * pixels when the call returns. Offered only where the renderer has them
 * (vn_physical_device.c). */

/* A command moves at most this many pixel bytes (a region is split into
 * parts of whole slices or whole block rows; a single block row may be
 * more): the renderer decodes each command into at most 256 MiB of
 * temporary storage (renderer.md, "Limits"). */
#define VN_HOST_COPY_CHUNK ((uint64_t)16 << 20)

/* the layers a copy region names, VK_REMAINING_ARRAY_LAYERS resolved */
static uint32_t
vn_image_copy_layers(const struct vn_image *img, const VkImageSubresourceLayers *sub)
{
   if (sub->layerCount != VK_REMAINING_ARRAY_LAYERS)
      return sub->layerCount;
   return sub->baseArrayLayer < img->array_layers ? img->array_layers - sub->baseArrayLayer : 0;
}

/* One region of a host copy, or a part of one that moves at most
 * VN_HOST_COPY_CHUNK bytes. */
struct vn_host_copy_part {
   VkImageSubresourceLayers sub;
   VkOffset3D offset;
   VkExtent3D extent;
   uint32_t row_length, image_height;
   size_t at;      /* bytes into the region's host memory */
   uint64_t bytes; /* what the part addresses */
   bool tight;     /* no gap between its rows and slices */
};

/* Walks a region in parts: `next` from 0 on, false after the last part or
 * (with *failed) for a region that has no size. */
struct vn_host_copy_walk {
   struct vn_device *dev;
   VkImage image;
   VkHostImageCopyFlagsEXT flags;
   struct vn_host_copy_part region; /* at = 0, bytes set */
   struct vp_copy_shape shape;      /* not for MEMCPY */
   uint64_t slice, row;             /* where the next part starts */
   bool done, failed;
};

static bool
vn_host_copy_memcpy_bytes(struct vn_device *dev, VkImage image,
                          const VkImageSubresourceLayers *sub, uint32_t layers, uint64_t *bytes)
{
   struct vp_copy_memcpy_query q;
   vp_copy_memcpy_query_init(&q, sub);
   vn_call_vkGetImageSubresourceLayout2EXT(dev->ring, vn_device_to_handle(dev), image,
                                           &q.subresource, &q.layout);
   return vp_copy_memcpy_bytes(&q, layers, bytes) && *bytes <= SIZE_MAX;
}

static void
vn_host_copy_walk_init(struct vn_host_copy_walk *w, struct vn_device *dev, VkImage image,
                       VkHostImageCopyFlagsEXT flags, const VkImageSubresourceLayers *sub,
                       VkOffset3D offset, VkExtent3D extent, uint32_t row_length,
                       uint32_t image_height)
{
   const struct vn_image *img = vn_image_from_handle(image);
   const uint32_t layers = vn_image_copy_layers(img, sub);
   *w = (struct vn_host_copy_walk){
      .dev = dev,
      .image = image,
      .flags = flags,
      .region = {
         .sub = *sub,
         .offset = offset,
         .extent = extent,
         .row_length = row_length,
         .image_height = image_height,
      },
   };
   w->region.sub.layerCount = layers;
   if (flags & VK_HOST_IMAGE_COPY_MEMCPY_EXT) {
      w->failed = !vn_host_copy_memcpy_bytes(dev, image, sub, layers, &w->region.bytes);
      w->region.tight = true;
      return;
   }
   w->failed =
      !vp_copy_region_shape(img->format, sub->aspectMask, row_length, image_height, extent,
                            layers, &w->shape) ||
      !vp_copy_shape_bytes(&w->shape, &w->region.bytes) || w->region.bytes > SIZE_MAX;
   w->region.tight = w->shape.row == w->shape.width &&
                     (w->shape.slices <= 1 || w->shape.rows == w->shape.height);
}

static bool
vn_host_copy_walk_next(struct vn_host_copy_walk *w, struct vn_host_copy_part *part)
{
   if (w->done || w->failed)
      return false;
   const struct vp_copy_shape *s = &w->shape;
   if (w->region.bytes <= VN_HOST_COPY_CHUNK || (w->flags & VK_HOST_IMAGE_COPY_MEMCPY_EXT)) {
      *part = w->region;
      w->done = true;
      return true;
   }
   const uint64_t row_bytes = s->row * s->bytes;
   const uint64_t slice_bytes = s->rows * row_bytes;
   uint64_t slices = 1, rows = s->height;
   if (w->row == 0 && slice_bytes <= VN_HOST_COPY_CHUNK)
      slices = VN_MIN(VN_HOST_COPY_CHUNK / slice_bytes, s->slices - w->slice);
   else
      rows = VN_MIN(VN_MAX(VN_HOST_COPY_CHUNK / row_bytes, 1), s->height - w->row);

   const struct vn_image *img = vn_image_from_handle(w->image);
   *part = w->region;
   /* the region's row length and image height, which the parts keep */
   part->row_length = (uint32_t)(s->row * s->block_width);
   part->image_height = (uint32_t)(s->rows * s->block_height);
   const uint32_t y = (uint32_t)(w->row * s->block_height);
   part->offset.y += (int32_t)y;
   part->extent.height = VN_MIN((uint32_t)(rows * s->block_height), w->region.extent.height - y);
   if (w->region.extent.depth > 1) {
      const uint32_t z = (uint32_t)(w->slice * s->block_depth);
      part->offset.z += (int32_t)z;
      part->extent.depth = VN_MIN((uint32_t)(slices * s->block_depth), w->region.extent.depth - z);
   } else {
      part->sub.baseArrayLayer += (uint32_t)w->slice;
      part->sub.layerCount = (uint32_t)slices;
   }
   part->at = (size_t)((w->slice * s->rows + w->row) * row_bytes);
   vp_copy_region_bytes(img->format, part->sub.aspectMask, part->row_length, part->image_height,
                        part->extent, part->sub.layerCount, &part->bytes);
   part->tight = w->region.tight;
   /* advance */
   if (rows < s->height && w->row + rows < s->height) {
      w->row += rows;
   } else {
      w->row = 0;
      w->slice += slices;
   }
   w->done = w->slice >= s->slices;
   return true;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CopyMemoryToImageEXT(VkDevice device, const VkCopyMemoryToImageInfoEXT *pCopyMemoryToImageInfo)
{
   struct vn_device *dev = vn_device_from_handle(device);
   const VkCopyMemoryToImageInfoEXT *info = pCopyMemoryToImageInfo;
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   uint32_t cap = info->regionCount ? info->regionCount : 1, count = 0;
   VkMemoryToImageCopyMESA *regions = malloc(cap * sizeof(*regions));
   if (!regions)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   VkCopyMemoryToImageInfoMESA mesa = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_MESA,
      .flags = info->flags,
      .dstImage = info->dstImage,
      .dstImageLayout = info->dstImageLayout,
      .pRegions = regions,
   };
   VkResult result = VK_SUCCESS;
   uint64_t pending = 0; /* bytes of the regions gathered so far */
   for (uint32_t i = 0; i < info->regionCount && result == VK_SUCCESS; i++) {
      const VkMemoryToImageCopyEXT *r = &info->pRegions[i];
      struct vn_host_copy_walk walk;
      vn_host_copy_walk_init(&walk, dev, info->dstImage, info->flags, &r->imageSubresource,
                             r->imageOffset, r->imageExtent, r->memoryRowLength,
                             r->memoryImageHeight);
      if (walk.failed) {
         vn_log_err("vkCopyMemoryToImage: region %u has no size (format, aspect or extent)", i);
         result = VK_ERROR_INITIALIZATION_FAILED;
         break;
      }
      struct vn_host_copy_part part;
      while (vn_host_copy_walk_next(&walk, &part)) {
         if (count && pending + part.bytes > VN_HOST_COPY_CHUNK) {
            mesa.regionCount = count;
            result = vn_call_vkCopyMemoryToImageMESA(dev->ring, device, &mesa);
            count = 0;
            pending = 0;
            if (result != VK_SUCCESS)
               break;
         }
         if (count == cap) {
            VkMemoryToImageCopyMESA *more = realloc(regions, 2 * cap * sizeof(*regions));
            if (!more) {
               result = VK_ERROR_OUT_OF_HOST_MEMORY;
               break;
            }
            regions = more;
            mesa.pRegions = regions;
            cap *= 2;
         }
         regions[count++] = (VkMemoryToImageCopyMESA){
            .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_MESA,
            .dataSize = (size_t)part.bytes,
            .pData = part.bytes ? (const uint8_t *)r->pHostPointer + part.at : NULL,
            .memoryRowLength = part.row_length,
            .memoryImageHeight = part.image_height,
            .imageSubresource = part.sub,
            .imageOffset = part.offset,
            .imageExtent = part.extent,
         };
         pending += part.bytes;
      }
   }
   if (result == VK_SUCCESS && count) {
      mesa.regionCount = count;
      result = vn_call_vkCopyMemoryToImageMESA(dev->ring, device, &mesa);
   }
   free(regions);
   return result == VK_SUCCESS ? VK_SUCCESS : vn_error(result);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CopyImageToMemoryEXT(VkDevice device, const VkCopyImageToMemoryInfoEXT *pCopyImageToMemoryInfo)
{
   struct vn_device *dev = vn_device_from_handle(device);
   const VkCopyImageToMemoryInfoEXT *info = pCopyImageToMemoryInfo;
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   const struct vn_image *img = vn_image_from_handle(info->srcImage);
   /* one part per call: the reply carries one region's pixels */
   for (uint32_t i = 0; i < info->regionCount; i++) {
      const VkImageToMemoryCopyEXT *r = &info->pRegions[i];
      struct vn_host_copy_walk walk;
      vn_host_copy_walk_init(&walk, dev, info->srcImage, info->flags, &r->imageSubresource,
                             r->imageOffset, r->imageExtent, r->memoryRowLength,
                             r->memoryImageHeight);
      if (walk.failed) {
         vn_log_err("vkCopyImageToMemory: region %u has no size (format, aspect or extent)", i);
         return vn_error(VK_ERROR_INITIALIZATION_FAILED);
      }
      struct vn_host_copy_part part;
      while (vn_host_copy_walk_next(&walk, &part)) {
         const VkCopyImageToMemoryInfoMESA mesa = {
            .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_MESA,
            .flags = info->flags,
            .srcImage = info->srcImage,
            .srcImageLayout = info->srcImageLayout,
            .memoryRowLength = part.row_length,
            .memoryImageHeight = part.image_height,
            .imageSubresource = part.sub,
            .imageOffset = part.offset,
            .imageExtent = part.extent,
         };
         /* The reply holds the part's whole span, the gaps between rows and
          * slices included, which the copy must leave as the application
          * had them: such a part comes back into a buffer of its own. */
         uint8_t *dst = (uint8_t *)r->pHostPointer + part.at;
         void *data = part.tight || !part.bytes ? dst : malloc((size_t)part.bytes);
         if (!data)
            return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
         const VkResult result = vn_call_vkCopyImageToMemoryMESA(
            dev->ring, device, &mesa, (size_t)part.bytes, part.bytes ? data : NULL);
         if (data != dst) {
            if (result == VK_SUCCESS)
               vp_copy_region_rows(img->format, part.sub.aspectMask, part.row_length,
                                   part.image_height, part.extent, part.sub.layerCount, data,
                                   dst);
            free(data);
         }
         if (result != VK_SUCCESS)
            return vn_error(result);
      }
   }
   return VK_SUCCESS;
}
#endif

VKAPI_ATTR VkResult VKAPI_CALL
vn_FlushMappedMemoryRanges(VkDevice device, uint32_t count, const VkMappedMemoryRange *ranges)
{
   (void)device;
   (void)count;
   (void)ranges;
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_InvalidateMappedMemoryRanges(VkDevice device,
                                uint32_t count,
                                const VkMappedMemoryRange *ranges)
{
   (void)device;
   (void)count;
   (void)ranges;
   return VK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* buffers                                                             */

/* The valid entry for info's key, or NULL; needs no lock. Valid entries
 * fill the slots from the first one on and stay valid. */
static const struct vn_buffer_reqs_entry *
vn_buffer_reqs_lookup(const struct vn_device *dev, const VkBufferCreateInfo *info)
{
   for (unsigned i = 0; i < VN_BUFFER_REQS_CACHE_SIZE; i++) {
      const struct vn_buffer_reqs_entry *e = &dev->buffer_reqs[i];
      /* acquire: pairs with the release that published the entry */
      if (!atomic_load_explicit(&e->valid, memory_order_acquire))
         break;
      if (e->flags == info->flags && e->usage == info->usage && e->sharing == info->sharingMode)
         return e;
   }
   return NULL;
}

/* Adds the requirements of info's key unless another thread did, or the
 * cache is full. */
static void
vn_buffer_reqs_insert(struct vn_device *dev,
                      const VkBufferCreateInfo *info,
                      const struct vn_resource_reqs *reqs)
{
   mtx_lock(&dev->cache_mutex);
   for (unsigned i = 0; i < VN_BUFFER_REQS_CACHE_SIZE; i++) {
      struct vn_buffer_reqs_entry *e = &dev->buffer_reqs[i];
      if (atomic_load_explicit(&e->valid, memory_order_relaxed)) {
         if (e->flags == info->flags && e->usage == info->usage &&
             e->sharing == info->sharingMode)
            break;
         continue;
      }
      e->flags = info->flags;
      e->usage = info->usage;
      e->sharing = info->sharingMode;
      e->reqs = reqs->reqs;
      e->dedicated_prefers = reqs->prefers_dedicated;
      e->dedicated_requires = reqs->requires_dedicated;
      /* release: lookups that see it valid see the fields above */
      atomic_store_explicit(&e->valid, true, memory_order_release);
      break;
   }
   mtx_unlock(&dev->cache_mutex);
}

static bool
vn_buffer_cacheable(const struct vn_device *dev, const VkBufferCreateInfo *info)
{
   return !info->pNext && dev->has_buffer_reqs_cache &&
          !(info->flags & (VK_BUFFER_CREATE_SPARSE_BINDING_BIT |
                           VK_BUFFER_CREATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT)) &&
          info->size <= (1ull << 30);
}

static void
vn_fetch_buffer_reqs(struct vn_device *dev, VkBuffer buffer, struct vn_resource_reqs *out)
{
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
   vn_call_vkGetBufferMemoryRequirements2(dev->ring, vn_device_to_handle(dev), &info, &reqs);
   out->reqs = reqs.memoryRequirements;
   out->prefers_dedicated = dedicated.prefersDedicatedAllocation;
   out->requires_dedicated = dedicated.requiresDedicatedAllocation;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateBuffer(VkDevice device,
                const VkBufferCreateInfo *pCreateInfo,
                const VkAllocationCallbacks *pAllocator,
                VkBuffer *pBuffer)
{
   struct vn_device *dev = vn_device_from_handle(device);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   struct vn_buffer *buf = vn_object_alloc(dev, sizeof(*buf), VK_OBJECT_TYPE_BUFFER, pAllocator);
   if (!buf)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   *pBuffer = vn_buffer_to_handle(buf);
   vn_async_vkCreateBuffer(dev->ring, device, pCreateInfo, NULL, pBuffer);

   const bool cacheable = vn_buffer_cacheable(dev, pCreateInfo);
   if (cacheable) {
      const struct vn_buffer_reqs_entry *e = vn_buffer_reqs_lookup(dev, pCreateInfo);
      if (e) {
         buf->reqs.reqs = e->reqs;
         buf->reqs.reqs.size = VN_ALIGN(pCreateInfo->size, e->reqs.alignment);
         buf->reqs.prefers_dedicated = e->dedicated_prefers;
         buf->reqs.requires_dedicated = e->dedicated_requires;
         return VK_SUCCESS;
      }
   }

   vn_fetch_buffer_reqs(dev, *pBuffer, &buf->reqs);
   if (vn_device_is_lost(dev)) {
      vn_object_free(dev, buf, pAllocator);
      *pBuffer = VK_NULL_HANDLE;
      return vn_error(VK_ERROR_DEVICE_LOST);
   }
   /* only a size that is the aligned request can be derived later */
   if (cacheable &&
       buf->reqs.reqs.size == VN_ALIGN(pCreateInfo->size, buf->reqs.reqs.alignment))
      vn_buffer_reqs_insert(dev, pCreateInfo, &buf->reqs);
   return VK_SUCCESS;
}

static void
vn_fill_reqs(const struct vn_resource_reqs *r, VkMemoryRequirements2 *out)
{
   out->memoryRequirements = r->reqs;
   VkMemoryDedicatedRequirements *d =
      vp_chain_find_mut(out->pNext, VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS);
   if (d) {
      d->prefersDedicatedAllocation = r->prefers_dedicated;
      d->requiresDedicatedAllocation = r->requires_dedicated;
   }
}

VKAPI_ATTR void VKAPI_CALL
vn_GetBufferMemoryRequirements(VkDevice device, VkBuffer buffer, VkMemoryRequirements *pReqs)
{
   (void)device;
   *pReqs = vn_buffer_from_handle(buffer)->reqs.reqs;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetBufferMemoryRequirements2(VkDevice device,
                                const VkBufferMemoryRequirementsInfo2 *pInfo,
                                VkMemoryRequirements2 *pReqs)
{
   (void)device;
   vn_fill_reqs(&vn_buffer_from_handle(pInfo->buffer)->reqs, pReqs);
}

/* ------------------------------------------------------------------ */
/* images                                                              */

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateImage(VkDevice device,
               const VkImageCreateInfo *pCreateInfo,
               const VkAllocationCallbacks *pAllocator,
               VkImage *pImage)
{
   struct vn_device *dev = vn_device_from_handle(device);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   struct vn_image *img = vn_object_alloc(dev, sizeof(*img), VK_OBJECT_TYPE_IMAGE, pAllocator);
   if (!img)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   img->disjoint = pCreateInfo->flags & VK_IMAGE_CREATE_DISJOINT_BIT;
   img->format = pCreateInfo->format;
   img->array_layers = pCreateInfo->arrayLayers;
   *pImage = vn_image_to_handle(img);
   vn_async_vkCreateImage(dev->ring, device, pCreateInfo, NULL, pImage);
   if (img->disjoint)
      return VK_SUCCESS;

   VkMemoryDedicatedRequirements dedicated = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS,
   };
   VkMemoryRequirements2 reqs = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2,
      .pNext = &dedicated,
   };
   const VkImageMemoryRequirementsInfo2 info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
      .image = *pImage,
   };
   vn_call_vkGetImageMemoryRequirements2(dev->ring, device, &info, &reqs);
   if (vn_device_is_lost(dev)) {
      vn_object_free(dev, img, pAllocator);
      *pImage = VK_NULL_HANDLE;
      return vn_error(VK_ERROR_DEVICE_LOST);
   }
   img->reqs.reqs = reqs.memoryRequirements;
   img->reqs.prefers_dedicated = dedicated.prefersDedicatedAllocation;
   img->reqs.requires_dedicated = dedicated.requiresDedicatedAllocation;
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetImageMemoryRequirements(VkDevice device, VkImage image, VkMemoryRequirements *pReqs)
{
   (void)device;
   *pReqs = vn_image_from_handle(image)->reqs.reqs;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetImageMemoryRequirements2(VkDevice device,
                               const VkImageMemoryRequirementsInfo2 *pInfo,
                               VkMemoryRequirements2 *pReqs)
{
   struct vn_image *img = vn_image_from_handle(pInfo->image);
   if (img->disjoint || pInfo->pNext) {
      /* per-plane requirements are not cached */
      vn_call_vkGetImageMemoryRequirements2(vn_device_from_handle(device)->ring, device, pInfo,
                                            pReqs);
      return;
   }
   vn_fill_reqs(&img->reqs, pReqs);
}
