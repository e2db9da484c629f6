/*
 * vp_copy.h: the bytes a copy region between an image and memory addresses
 * (the buffer-image copy rules, from vk.xml's texel blocks), which the
 * renderer holds host image copies to, and the rows it copies back.
 */
#include "harness.h"

#include "protocol/vp_copy.h"

static uint64_t
region_bytes(VkFormat format, VkImageAspectFlags aspect, uint32_t row_length,
             uint32_t image_height, uint32_t w, uint32_t h, uint32_t d, uint32_t layers)
{
   uint64_t bytes = UINT64_MAX;
   const VkExtent3D extent = { w, h, d };
   if (!vp_copy_region_bytes(format, aspect, row_length, image_height, extent, layers, &bytes))
      return UINT64_MAX;
   return bytes;
}

TEST(tight_and_padded)
{
   const VkImageAspectFlags color = VK_IMAGE_ASPECT_COLOR_BIT;
   /* 4 bytes a texel, tightly packed: w * h * layers texels */
   CHECK_EQ(region_bytes(VK_FORMAT_R8G8B8A8_UNORM, color, 0, 0, 61, 37, 1, 1), 61 * 37 * 4);
   CHECK_EQ(region_bytes(VK_FORMAT_R8G8B8A8_UNORM, color, 0, 0, 61, 37, 1, 3), 61 * 37 * 3 * 4);
   /* padded rows: the last row ends after its width, not its row length */
   CHECK_EQ(region_bytes(VK_FORMAT_R8G8B8A8_UNORM, color, 64, 0, 61, 37, 1, 1),
            (36 * 64 + 61) * 4);
   /* padded slices: every layer but the last takes image_height rows */
   CHECK_EQ(region_bytes(VK_FORMAT_R8G8B8A8_UNORM, color, 64, 40, 61, 37, 1, 3),
            (2 * 40 * 64 + 36 * 64 + 61) * 4);
   /* a 3D region: depth slices as layers */
   CHECK_EQ(region_bytes(VK_FORMAT_R32G32B32A32_SFLOAT, color, 0, 0, 5, 4, 3, 1), 5 * 4 * 3 * 16);
   /* one texel */
   CHECK_EQ(region_bytes(VK_FORMAT_R16_UNORM, color, 100, 100, 1, 1, 1, 1), 2);
}

TEST(blocks_and_aspects)
{
   /* BC1: 8 bytes per 4x4 block; 9x6 texels are 3x2 blocks */
   CHECK_EQ(region_bytes(VK_FORMAT_BC1_RGBA_UNORM_BLOCK, VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 9, 6, 1,
                         1),
            3 * 2 * 8);
   /* ... with a row length of 16 texels (4 blocks) */
   CHECK_EQ(region_bytes(VK_FORMAT_BC1_RGBA_UNORM_BLOCK, VK_IMAGE_ASPECT_COLOR_BIT, 16, 0, 9, 6,
                         1, 1),
            (1 * 4 + 3) * 8);
   /* 4:2:2 packed: 2x1 blocks of 4 bytes */
   CHECK_EQ(region_bytes(VK_FORMAT_G8B8G8R8_422_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 5, 2, 1,
                         1),
            3 * 2 * 4);
   /* depth and stencil aspects have their own sizes */
   CHECK_EQ(region_bytes(VK_FORMAT_D24_UNORM_S8_UINT, VK_IMAGE_ASPECT_DEPTH_BIT, 0, 0, 8, 8, 1,
                         1),
            8 * 8 * 4);
   CHECK_EQ(region_bytes(VK_FORMAT_D24_UNORM_S8_UINT, VK_IMAGE_ASPECT_STENCIL_BIT, 0, 0, 8, 8, 1,
                         1),
            8 * 8);
   CHECK_EQ(region_bytes(VK_FORMAT_D16_UNORM, VK_IMAGE_ASPECT_DEPTH_BIT, 0, 0, 8, 8, 1, 1),
            8 * 8 * 2);
   CHECK_EQ(region_bytes(VK_FORMAT_D32_SFLOAT_S8_UINT, VK_IMAGE_ASPECT_DEPTH_BIT, 0, 0, 8, 8, 1,
                         1),
            8 * 8 * 4);
   /* planes: each its own format (R8, then R8G8) */
   CHECK_EQ(region_bytes(VK_FORMAT_G8_B8R8_2PLANE_420_UNORM, VK_IMAGE_ASPECT_PLANE_0_BIT, 0, 0,
                         8, 8, 1, 1),
            64);
   CHECK_EQ(region_bytes(VK_FORMAT_G8_B8R8_2PLANE_420_UNORM, VK_IMAGE_ASPECT_PLANE_1_BIT, 0, 0,
                         4, 4, 1, 1),
            32);
}

TEST(refused)
{
   /* an aspect the format lacks, several aspects, an unknown format */
   CHECK_EQ(region_bytes(VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_ASPECT_DEPTH_BIT, 0, 0, 4, 4, 1, 1),
            UINT64_MAX);
   CHECK_EQ(region_bytes(VK_FORMAT_D24_UNORM_S8_UINT,
                         VK_IMAGE_ASPECT_DEPTH_BIT | VK_IMAGE_ASPECT_STENCIL_BIT, 0, 0, 4, 4, 1,
                         1),
            UINT64_MAX);
   CHECK_EQ(region_bytes(VK_FORMAT_G8_B8R8_2PLANE_420_UNORM, VK_IMAGE_ASPECT_PLANE_2_BIT, 0, 0,
                         4, 4, 1, 1),
            UINT64_MAX);
   CHECK_EQ(region_bytes(VK_FORMAT_UNDEFINED, VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 4, 4, 1, 1),
            UINT64_MAX);
   CHECK_EQ(region_bytes((VkFormat)0x7ffffff0, VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 4, 4, 1, 1),
            UINT64_MAX);
   /* depth and layers together */
   CHECK_EQ(region_bytes(VK_FORMAT_R8_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 4, 4, 2, 2),
            UINT64_MAX);
   /* beyond 64 bits: 2^32 layers of 2^32 x 2^32 texels cannot be named,
    * but a huge row length times image height times layers can */
   CHECK_EQ(region_bytes(VK_FORMAT_R64G64B64A64_SFLOAT, VK_IMAGE_ASPECT_COLOR_BIT, UINT32_MAX,
                         UINT32_MAX, 1, 1, 1, UINT32_MAX),
            UINT64_MAX);
   /* an empty region addresses nothing */
   CHECK_EQ(region_bytes(VK_FORMAT_R8_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 0, 4, 1, 1), 0);
   CHECK_EQ(region_bytes(VK_FORMAT_R8_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 4, 4, 1, 0), 0);
}

TEST(rows)
{
   /* 3x2 texels of 4 bytes in rows of 5 texels, two layers in slices of 3
    * rows: only the texels' bytes move */
   enum { ROW = 5 * 4, SLICE = 3 * ROW, SIZE = SLICE + ROW + 3 * 4 };
   const VkExtent3D extent = { 3, 2, 1 };
   uint64_t bytes;
   CHECK(vp_copy_region_bytes(VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, 5, 3, extent,
                              2, &bytes));
   CHECK_EQ(bytes, SIZE);
   uint8_t src[SIZE], dst[SIZE];
   for (unsigned i = 0; i < SIZE; i++) {
      src[i] = (uint8_t)(i + 1);
      dst[i] = 0xee;
   }
   vp_copy_region_rows(VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_ASPECT_COLOR_BIT, 5, 3, extent, 2, src,
                       dst);
   for (unsigned i = 0; i < SIZE; i++) {
      const unsigned in_slice = i % SLICE, row = in_slice / ROW, col = in_slice % ROW;
      const bool texel = row < 2 && col < 3 * 4;
      CHECK_EQ(dst[i], texel ? src[i] : 0xee);
   }
}

RUN_TESTS(tight_and_padded, blocks_and_aspects, refused, rows)
