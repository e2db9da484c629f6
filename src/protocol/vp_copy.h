/*
 * How much memory one region of a copy between an image and memory
 * addresses: the buffer-image copy rules, which host image copies follow
 * too. The driver sizes the pixels it sends with it, the renderer checks the
 * pixels it received (and the room it returns them in) against it.
 */
#ifndef VP_COPY_H
#define VP_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include <vulkan/vulkan_core.h>

/* A region in texel blocks as memory holds it. */
struct vp_copy_shape {
   uint64_t row, rows;             /* memory: blocks per row, block rows per slice */
   uint64_t width, height, slices; /* the region: blocks per row, block rows, slices */
   uint32_t bytes;                 /* per block */
   uint32_t block_width, block_height, block_depth; /* texels per block */
};

/* The region's shape; false as vp_copy_region_bytes below. */
bool
vp_copy_region_shape(uint32_t format,
                     VkImageAspectFlags aspect,
                     uint32_t row_length,
                     uint32_t image_height,
                     VkExtent3D extent,
                     uint32_t layers,
                     struct vp_copy_shape *shape);

/* vp_copy_region_bytes of a shape vp_copy_region_shape gave. */
bool
vp_copy_shape_bytes(const struct vp_copy_shape *shape, uint64_t *bytes);

/* Bytes from the region's first texel block to the end of its last one.
 * row_length, image_height: the region's memoryRowLength / bufferRowLength
 * and memoryImageHeight / bufferImageHeight (0: tightly packed); layers: its
 * layer count with VK_REMAINING_ARRAY_LAYERS resolved. false for a format or
 * aspect (exactly one bit) the registry does not describe, a region with
 * both depth and layers above 1, or a size beyond 64 bits. An empty region
 * is 0 bytes. */
bool
vp_copy_region_bytes(uint32_t format,
                     VkImageAspectFlags aspect,
                     uint32_t row_length,
                     uint32_t image_height,
                     VkExtent3D extent,
                     uint32_t layers,
                     uint64_t *bytes);

/* Copies from src to dst, both laid out as the region above, only the bytes
 * of its texel rows: what lies between rows and slices stays as dst had it.
 * The same arguments must have given vp_copy_region_bytes true. */
void
vp_copy_region_rows(uint32_t format,
                    VkImageAspectFlags aspect,
                    uint32_t row_length,
                    uint32_t image_height,
                    VkExtent3D extent,
                    uint32_t layers,
                    const void *src,
                    void *dst);

#ifdef VK_EXT_host_image_copy
/* A VK_HOST_IMAGE_COPY_MEMCPY region is whole subresources in the host's
 * layout, each of the size VkSubresourceHostMemcpySize reports: the query's
 * structures for the first layer of `sub`, chained (the driver and the
 * renderer each make the query on their side). Not to be copied once
 * initialised. */
struct vp_copy_memcpy_query {
   VkImageSubresource2EXT subresource;
   VkSubresourceLayout2EXT layout; /* chains size */
   VkSubresourceHostMemcpySizeEXT size;
};

void
vp_copy_memcpy_query_init(struct vp_copy_memcpy_query *q, const VkImageSubresourceLayers *sub);

/* After the query: the region's bytes for `layers` layers; false past 64
 * bits. */
bool
vp_copy_memcpy_bytes(const struct vp_copy_memcpy_query *q, uint32_t layers, uint64_t *bytes);
#endif

#endif
