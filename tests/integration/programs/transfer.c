/*
 * transfer: the transfer commands, each result checked on the CPU.
 * Buffers: vkCmdFillBuffer, vkCmdUpdateBuffer and a multi-region vkCmdCopyBuffer.
 * Images (RGBA8): vkCmdCopyBufferToImage with a padded row length,
 * vkCmdClearColorImage (in TRANSFER_DST and in GENERAL layout), vkCmdCopyImage of
 * a sub-rectangle, vkCmdBlitImage (2x nearest upscale and a mirror) and
 * vkCmdCopyImageToBuffer of whole images and of a sub-rectangle.
 */
#include <stdio.h>
#include <string.h>

#include "vkt.h"

#define XFER_BUFFER_SIZE 4096u
#define XFER_FILL_A 0xa5a5a5a5u
#define XFER_FILL_B 0x01020304u
#define XFER_UPDATE_OFFSET 256u
#define XFER_UPDATE_SIZE 256u

#define XFER_IMG 32u        /* source image is XFER_IMG x XFER_IMG */
#define XFER_ROW_LENGTH 40u /* texels per row in the staging buffer */
#define XFER_BIG (2 * XFER_IMG)

/* vkCmdCopyImage X -> Y: 16x8 texels from (4,4) to (10,2) */
#define XFER_COPY_SRC_X 4u
#define XFER_COPY_SRC_Y 4u
#define XFER_COPY_DST_X 10u
#define XFER_COPY_DST_Y 2u
#define XFER_COPY_W 16u
#define XFER_COPY_H 8u

/* vkCmdCopyImageToBuffer of a 5x3 sub-rectangle of X at (7,9) */
#define XFER_SUB_X 7u
#define XFER_SUB_Y 9u
#define XFER_SUB_W 5u
#define XFER_SUB_H 3u

static const uint8_t xfer_clear_y[4] = { 0, 51, 255, 255 }; /* 0.0 0.2 1.0 1.0 */
static const uint8_t xfer_clear_z[4] = { 153, 0, 51, 255 }; /* 0.6 0.0 0.2 1.0 */

/* Readback buffer layout: one region per result. */
enum xfer_region {
   XFER_RB_BUFFER_B,
   XFER_RB_X,
   XFER_RB_Y,
   XFER_RB_Z,
   XFER_RB_BIG,
   XFER_RB_MIRROR,
   XFER_RB_SUB,
   XFER_RB_COUNT,
};

static const VkDeviceSize xfer_rb_offsets[XFER_RB_COUNT + 1] = {
   0,
   XFER_BUFFER_SIZE,
   XFER_BUFFER_SIZE + 1 * XFER_IMG * XFER_IMG * 4,
   XFER_BUFFER_SIZE + 2 * XFER_IMG * XFER_IMG * 4,
   XFER_BUFFER_SIZE + 3 * XFER_IMG * XFER_IMG * 4,
   XFER_BUFFER_SIZE + 3 * XFER_IMG * XFER_IMG * 4 + XFER_BIG * XFER_BIG * 4,
   XFER_BUFFER_SIZE + 4 * XFER_IMG * XFER_IMG * 4 + XFER_BIG * XFER_BIG * 4,
   XFER_BUFFER_SIZE + 4 * XFER_IMG * XFER_IMG * 4 + XFER_BIG * XFER_BIG * 4 +
      XFER_SUB_W * XFER_SUB_H * 4,
};

static void
xfer_texel(uint32_t x, uint32_t y, uint8_t out[4])
{
   out[0] = (uint8_t)(x * 8);
   out[1] = (uint8_t)(y * 8);
   out[2] = (uint8_t)((x ^ y) * 4 + 1);
   out[3] = 255;
}

static uint8_t
xfer_update_byte(uint32_t i)
{
   return (uint8_t)(i * 7 + 3);
}

static uint32_t
xfer_check_image(struct vkt_context *ctx,
                 const char *what,
                 const uint8_t *pixels,
                 uint32_t width,
                 uint32_t height,
                 void (*expect)(uint32_t x, uint32_t y, uint8_t out[4]))
{
   uint32_t bad = 0;
   for (uint32_t y = 0; y < height; y++) {
      for (uint32_t x = 0; x < width; x++) {
         uint8_t want[4];
         expect(x, y, want);
         const uint8_t *got = pixels + 4 * (y * width + x);
         if (memcmp(got, want, 4) && bad++ < 4)
            fprintf(stderr, "transfer: %s (%u,%u): %u,%u,%u,%u want %u,%u,%u,%u\n", what,
                    x, y, got[0], got[1], got[2], got[3], want[0], want[1], want[2],
                    want[3]);
      }
   }
   vkt_check(ctx, !bad, "%s: %u texel(s) wrong", what, bad);
   return bad;
}

static void
xfer_expect_y(uint32_t x, uint32_t y, uint8_t out[4])
{
   if (x >= XFER_COPY_DST_X && x < XFER_COPY_DST_X + XFER_COPY_W &&
       y >= XFER_COPY_DST_Y && y < XFER_COPY_DST_Y + XFER_COPY_H)
      xfer_texel(x - XFER_COPY_DST_X + XFER_COPY_SRC_X,
                 y - XFER_COPY_DST_Y + XFER_COPY_SRC_Y, out);
   else
      memcpy(out, xfer_clear_y, 4);
}

static void
xfer_expect_z(uint32_t x, uint32_t y, uint8_t out[4])
{
   memcpy(out, xfer_clear_z, 4);
}

static void
xfer_expect_big(uint32_t x, uint32_t y, uint8_t out[4])
{
   xfer_texel(x / 2, y / 2, out);
}

static void
xfer_expect_mirror(uint32_t x, uint32_t y, uint8_t out[4])
{
   xfer_texel(XFER_IMG - 1 - x, y, out);
}

static void
xfer_expect_sub(uint32_t x, uint32_t y, uint8_t out[4])
{
   xfer_texel(x + XFER_SUB_X, y + XFER_SUB_Y, out);
}

static void
xfer_check_buffer_b(struct vkt_context *ctx, const uint8_t *b)
{
   /* B was filled with FILL_B, then got A[2048, 2304) at 0 and A[0, 512) at 1024;
    * A was filled with FILL_A and updated at [256, 512). */
   uint32_t bad = 0;
   for (uint32_t i = 0; i < XFER_BUFFER_SIZE; i++) {
      uint32_t word, a_offset = UINT32_MAX;
      if (i < 256)
         a_offset = 2048 + i;
      else if (i >= 1024 && i < 1536)
         a_offset = i - 1024;
      uint8_t want;
      if (a_offset == UINT32_MAX) {
         word = XFER_FILL_B;
         want = (uint8_t)(word >> (8 * (i % 4)));
      } else if (a_offset >= XFER_UPDATE_OFFSET &&
                 a_offset < XFER_UPDATE_OFFSET + XFER_UPDATE_SIZE) {
         want = xfer_update_byte(a_offset - XFER_UPDATE_OFFSET);
      } else {
         word = XFER_FILL_A;
         want = (uint8_t)(word >> (8 * (a_offset % 4)));
      }
      if (b[i] != want && bad++ < 4)
         fprintf(stderr, "transfer: buffer B byte %u: %02x want %02x\n", i, b[i], want);
   }
   vkt_check(ctx, !bad, "buffer copy/fill/update: %u byte(s) wrong", bad);
}

static void
xfer_to_src(VkCommandBuffer cmd, const struct vkt_image *img, VkImageLayout from)
{
   vkt_cmd_image_barrier(cmd, img, from, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
}

static void
xfer_to_dst(VkCommandBuffer cmd, const struct vkt_image *img, VkImageLayout layout)
{
   vkt_cmd_image_barrier(cmd, img, VK_IMAGE_LAYOUT_UNDEFINED, layout,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
}

static void
xfer_read_image(VkCommandBuffer cmd,
                const struct vkt_image *img,
                const struct vkt_buffer *rb,
                enum xfer_region region)
{
   const VkBufferImageCopy copy = {
      .bufferOffset = xfer_rb_offsets[region],
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { img->width, img->height, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          rb->buffer, 1, &copy);
}

static void
xfer_record(VkCommandBuffer cmd,
            const struct vkt_buffer *a,
            const struct vkt_buffer *b,
            const struct vkt_buffer *staging,
            const struct vkt_image *imgs,
            const struct vkt_buffer *rb)
{
   const struct vkt_image *x = &imgs[0], *y = &imgs[1], *z = &imgs[2];
   const struct vkt_image *big = &imgs[3], *mirror = &imgs[4];
   const VkImageSubresourceLayers layers = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 };
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };

   /* buffers */
   uint8_t update[XFER_UPDATE_SIZE];
   for (uint32_t i = 0; i < XFER_UPDATE_SIZE; i++)
      update[i] = xfer_update_byte(i);
   vkCmdFillBuffer(cmd, a->buffer, 0, VK_WHOLE_SIZE, XFER_FILL_A);
   vkCmdFillBuffer(cmd, b->buffer, 0, XFER_BUFFER_SIZE, XFER_FILL_B);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT);
   vkCmdUpdateBuffer(cmd, a->buffer, XFER_UPDATE_OFFSET, XFER_UPDATE_SIZE, update);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT);
   const VkBufferCopy regions[2] = { { 0, 1024, 512 }, { 2048, 0, 256 } };
   vkCmdCopyBuffer(cmd, a->buffer, b->buffer, 2, regions);

   /* images: upload X, clear Y (TRANSFER_DST) and Z (GENERAL) */
   xfer_to_dst(cmd, x, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   xfer_to_dst(cmd, y, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   xfer_to_dst(cmd, z, VK_IMAGE_LAYOUT_GENERAL);
   xfer_to_dst(cmd, big, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   xfer_to_dst(cmd, mirror, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   const VkBufferImageCopy upload = {
      .bufferRowLength = XFER_ROW_LENGTH,
      .imageSubresource = layers,
      .imageExtent = { XFER_IMG, XFER_IMG, 1 },
   };
   vkCmdCopyBufferToImage(cmd, staging->buffer, x->image,
                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &upload);
   VkClearColorValue clear;
   for (int c = 0; c < 4; c++)
      clear.float32[c] = xfer_clear_y[c] / 255.0f;
   vkCmdClearColorImage(cmd, y->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &clear, 1,
                        &range);
   for (int c = 0; c < 4; c++)
      clear.float32[c] = xfer_clear_z[c] / 255.0f;
   vkCmdClearColorImage(cmd, z->image, VK_IMAGE_LAYOUT_GENERAL, &clear, 1, &range);

   /* X is complete; Y's clear must land before the copy on top of it */
   xfer_to_src(cmd, x, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   vkt_cmd_image_barrier(cmd, y, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   const VkImageCopy image_copy = {
      .srcSubresource = layers,
      .srcOffset = { XFER_COPY_SRC_X, XFER_COPY_SRC_Y, 0 },
      .dstSubresource = layers,
      .dstOffset = { XFER_COPY_DST_X, XFER_COPY_DST_Y, 0 },
      .extent = { XFER_COPY_W, XFER_COPY_H, 1 },
   };
   vkCmdCopyImage(cmd, x->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, y->image,
                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &image_copy);
   const VkImageBlit up = {
      .srcSubresource = layers,
      .srcOffsets = { { 0, 0, 0 }, { XFER_IMG, XFER_IMG, 1 } },
      .dstSubresource = layers,
      .dstOffsets = { { 0, 0, 0 }, { XFER_BIG, XFER_BIG, 1 } },
   };
   vkCmdBlitImage(cmd, x->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, big->image,
                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &up, VK_FILTER_NEAREST);
   const VkImageBlit flip = {
      .srcSubresource = layers,
      .srcOffsets = { { 0, 0, 0 }, { XFER_IMG, XFER_IMG, 1 } },
      .dstSubresource = layers,
      .dstOffsets = { { XFER_IMG, 0, 0 }, { 0, XFER_IMG, 1 } },
   };
   vkCmdBlitImage(cmd, x->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, mirror->image,
                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &flip, VK_FILTER_NEAREST);

   /* read everything back; the global barrier covers buffer B */
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT);
   xfer_to_src(cmd, y, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   xfer_to_src(cmd, z, VK_IMAGE_LAYOUT_GENERAL);
   xfer_to_src(cmd, big, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   xfer_to_src(cmd, mirror, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
   const VkBufferCopy b_copy = { 0, xfer_rb_offsets[XFER_RB_BUFFER_B], XFER_BUFFER_SIZE };
   vkCmdCopyBuffer(cmd, b->buffer, rb->buffer, 1, &b_copy);
   xfer_read_image(cmd, x, rb, XFER_RB_X);
   xfer_read_image(cmd, y, rb, XFER_RB_Y);
   xfer_read_image(cmd, z, rb, XFER_RB_Z);
   xfer_read_image(cmd, big, rb, XFER_RB_BIG);
   xfer_read_image(cmd, mirror, rb, XFER_RB_MIRROR);
   const VkBufferImageCopy sub = {
      .bufferOffset = xfer_rb_offsets[XFER_RB_SUB],
      .imageSubresource = layers,
      .imageOffset = { XFER_SUB_X, XFER_SUB_Y, 0 },
      .imageExtent = { XFER_SUB_W, XFER_SUB_H, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, x->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, rb->buffer,
                          1, &sub);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "transfer");
   vkt_device_init(&ctx, NULL);

   const VkBufferUsageFlags xfer_usage =
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
   struct vkt_buffer a, b, staging, rb;
   vkt_buffer_create(&ctx, XFER_BUFFER_SIZE, xfer_usage, VKT_MEM_DEVICE, &a);
   vkt_buffer_create(&ctx, XFER_BUFFER_SIZE, xfer_usage, VKT_MEM_DEVICE, &b);
   vkt_buffer_create(&ctx, XFER_ROW_LENGTH * XFER_IMG * 4,
                     VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_UPLOAD, &staging);
   vkt_buffer_create(&ctx, xfer_rb_offsets[XFER_RB_COUNT],
                     VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &rb);

   /* staging rows are XFER_ROW_LENGTH texels; the padding must not be copied */
   uint8_t *texels = staging.map;
   memset(texels, 0xee, staging.size);
   for (uint32_t y = 0; y < XFER_IMG; y++) {
      for (uint32_t x = 0; x < XFER_IMG; x++)
         xfer_texel(x, y, texels + 4 * (y * XFER_ROW_LENGTH + x));
   }
   vkt_buffer_flush(&ctx, &staging);

   const VkImageUsageFlags img_usage =
      VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
   struct vkt_image imgs[5];
   for (int i = 0; i < 5; i++) {
      const uint32_t size = i == 3 ? XFER_BIG : XFER_IMG;
      vkt_image_create(&ctx, VK_FORMAT_R8G8B8A8_UNORM, size, size, img_usage, &imgs[i]);
   }

   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   xfer_record(cmd, &a, &b, &staging, imgs, &rb);
   vkt_cmd_submit_wait(&ctx, cmd);
   vkt_buffer_invalidate(&ctx, &rb);

   const uint8_t *out = rb.map;
   xfer_check_buffer_b(&ctx, out + xfer_rb_offsets[XFER_RB_BUFFER_B]);
   xfer_check_image(&ctx, "buffer-to-image", out + xfer_rb_offsets[XFER_RB_X], XFER_IMG,
                    XFER_IMG, xfer_texel);
   xfer_check_image(&ctx, "clear+copy image", out + xfer_rb_offsets[XFER_RB_Y], XFER_IMG,
                    XFER_IMG, xfer_expect_y);
   xfer_check_image(&ctx, "clear (general)", out + xfer_rb_offsets[XFER_RB_Z], XFER_IMG,
                    XFER_IMG, xfer_expect_z);
   xfer_check_image(&ctx, "blit 2x", out + xfer_rb_offsets[XFER_RB_BIG], XFER_BIG,
                    XFER_BIG, xfer_expect_big);
   xfer_check_image(&ctx, "blit mirror", out + xfer_rb_offsets[XFER_RB_MIRROR], XFER_IMG,
                    XFER_IMG, xfer_expect_mirror);
   xfer_check_image(&ctx, "image-to-buffer sub-rect", out + xfer_rb_offsets[XFER_RB_SUB],
                    XFER_SUB_W, XFER_SUB_H, xfer_expect_sub);

   static const char *const names[XFER_RB_COUNT] = {
      "transfer_buffer_digest",  "transfer_upload_digest", "transfer_copy_image_digest",
      "transfer_clear_digest",   "transfer_blit_digest",   "transfer_mirror_digest",
      "transfer_subrect_digest",
   };
   for (int r = 0; r < XFER_RB_COUNT; r++) {
      const VkDeviceSize size = xfer_rb_offsets[r + 1] - xfer_rb_offsets[r];
      vkt_print_hex(names[r], vkt_digest(out + xfer_rb_offsets[r], size));
   }

   for (int i = 0; i < 5; i++)
      vkt_image_destroy(&ctx, &imgs[i]);
   vkt_buffer_destroy(&ctx, &rb);
   vkt_buffer_destroy(&ctx, &staging);
   vkt_buffer_destroy(&ctx, &b);
   vkt_buffer_destroy(&ctx, &a);
   return vkt_finish(&ctx);
}
