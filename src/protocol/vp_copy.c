#include "vp_copy.h"

#include <string.h>

#include "vp_protocol.h"

static uint64_t
vp_div_round_up(uint64_t v, uint32_t d)
{
   return (v + d - 1) / d;
}

bool
vp_copy_region_shape(uint32_t format,
                     VkImageAspectFlags aspect,
                     uint32_t row_length,
                     uint32_t image_height,
                     VkExtent3D extent,
                     uint32_t layers,
                     struct vp_copy_shape *shape)
{
   struct vp_copy_block block;
   if (!vp_format_copy_block(format, aspect, &block))
      return false;
   if (extent.depth > 1 && layers > 1)
      return false;
   *shape = (struct vp_copy_shape){
      .row = vp_div_round_up(row_length ? row_length : extent.width, block.width),
      .rows = vp_div_round_up(image_height ? image_height : extent.height, block.height),
      .width = vp_div_round_up(extent.width, block.width),
      .height = vp_div_round_up(extent.height, block.height),
      .slices = vp_div_round_up(extent.depth, block.depth) * layers,
      .bytes = block.bytes,
      .block_width = block.width,
      .block_height = block.height,
      .block_depth = block.depth,
   };
   return true;
}

bool
vp_copy_region_bytes(uint32_t format,
                     VkImageAspectFlags aspect,
                     uint32_t row_length,
                     uint32_t image_height,
                     VkExtent3D extent,
                     uint32_t layers,
                     uint64_t *bytes)
{
   struct vp_copy_shape s;
   return vp_copy_region_shape(format, aspect, row_length, image_height, extent, layers, &s) &&
          vp_copy_shape_bytes(&s, bytes);
}

bool
vp_copy_shape_bytes(const struct vp_copy_shape *s, uint64_t *bytes)
{
   if (!s->width || !s->height || !s->slices) {
      *bytes = 0;
      return true;
   }
   /* the last block: (slices - 1) slices, (height - 1) rows and width
    * blocks in; every factor is below 2^32, the products are checked */
   uint64_t slice_blocks, last, total;
   if (__builtin_mul_overflow(s->rows, s->row, &slice_blocks) ||
       __builtin_mul_overflow(s->slices - 1, slice_blocks, &last) ||
       __builtin_add_overflow(last, (s->height - 1) * s->row + s->width, &last) ||
       __builtin_mul_overflow(last, (uint64_t)s->bytes, &total))
      return false;
   *bytes = total;
   return true;
}

void
vp_copy_region_rows(uint32_t format,
                    VkImageAspectFlags aspect,
                    uint32_t row_length,
                    uint32_t image_height,
                    VkExtent3D extent,
                    uint32_t layers,
                    const void *src,
                    void *dst)
{
   struct vp_copy_shape s;
   if (!vp_copy_region_shape(format, aspect, row_length, image_height, extent, layers, &s))
      return;
   const size_t row_bytes = (size_t)(s.width * s.bytes);
   for (uint64_t z = 0; z < s.slices; z++) {
      for (uint64_t y = 0; y < s.height; y++) {
         const size_t at = (size_t)(((z * s.rows) + y) * s.row * s.bytes);
         memcpy((uint8_t *)dst + at, (const uint8_t *)src + at, row_bytes);
      }
   }
}

#ifdef VK_EXT_host_image_copy
void
vp_copy_memcpy_query_init(struct vp_copy_memcpy_query *q, const VkImageSubresourceLayers *sub)
{
   q->size = (VkSubresourceHostMemcpySizeEXT){
      .sType = VK_STRUCTURE_TYPE_SUBRESOURCE_HOST_MEMCPY_SIZE_EXT,
   };
   q->layout = (VkSubresourceLayout2EXT){
      .sType = VK_STRUCTURE_TYPE_SUBRESOURCE_LAYOUT_2_EXT,
      .pNext = &q->size,
   };
   q->subresource = (VkImageSubresource2EXT){
      .sType = VK_STRUCTURE_TYPE_IMAGE_SUBRESOURCE_2_EXT,
      .imageSubresource = {
         .aspectMask = sub->aspectMask,
         .mipLevel = sub->mipLevel,
         .arrayLayer = sub->baseArrayLayer,
      },
   };
}

bool
vp_copy_memcpy_bytes(const struct vp_copy_memcpy_query *q, uint32_t layers, uint64_t *bytes)
{
   return !__builtin_mul_overflow(q->size.size, (uint64_t)layers, bytes);
}
#endif
