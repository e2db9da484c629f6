/*
 * Device memory (async allocation, guest mapping through a lazily created
 * blob, OPAQUE_FD export/import through blob resources), buffers (memory
 * requirements cached per usage) and images.
 */
#ifndef VN_MEMORY_H
#define VN_MEMORY_H

#include "vn_common.h"
#include "vn_transport.h"

struct vn_device_memory {
   struct vn_object obj;
   VkDeviceSize size;
   uint32_t type_index;
   VkMemoryPropertyFlags flags;
   bool exportable; /* fd_types != 0: the blob is SHAREABLE */
   /* what vkGetMemoryFdKHR hands out: the exported types asked for
    * (OPAQUE_FD, DMA_BUF), or the type an imported fd was given as */
   VkExternalMemoryHandleTypeFlags fd_types;
   uint32_t alloc_seqno; /* ring seqno covering the vkAllocateMemory */
   /* created at the first vkMapMemory or vkGetMemoryFdKHR, or the imported
    * memory's blob; one reference. Set under transport->blob_mutex. */
   struct vn_blob *blob;
};
VN_HANDLE_CAST(vn_device_memory, VkDeviceMemory)

struct vn_resource_reqs {
   VkMemoryRequirements reqs;
   VkBool32 prefers_dedicated;
   VkBool32 requires_dedicated;
};

struct vn_buffer {
   struct vn_object obj;
   struct vn_resource_reqs reqs;
};
/* buffers come and go most often (vn_object_alloc) */
_Static_assert(sizeof(struct vn_buffer) <= VN_OBJECT_POOL_SLOT, "a buffer fits a pool slot");
VN_HANDLE_CAST(vn_buffer, VkBuffer)

struct vn_image {
   struct vn_object obj;
   struct vn_resource_reqs reqs;
   bool disjoint;
   VkFormat format;       /* host image copies size their regions by it */
   uint32_t array_layers; /* ... and resolve VK_REMAINING_ARRAY_LAYERS */
};
VN_HANDLE_CAST(vn_image, VkImage)

#endif
