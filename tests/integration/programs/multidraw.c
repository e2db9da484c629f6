/*
 * multidraw: VK_EXT_multi_draw with draw arrays whose stride is larger than
 * the element (an application's own struct with extra members). The 16 cells
 * of a 4x4 grid are drawn once each: eight by vkCmdDrawMultiEXT (stride 32),
 * four by vkCmdDrawMultiIndexedEXT with per-draw vertex offsets (stride 16) and
 * four with one shared *pVertexOffset (stride 20). Every cell must hold its
 * own color; the image digest is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

#define MD_SIZE 64u
#define MD_CELL (MD_SIZE / 4)
#define MD_FORMAT VK_FORMAT_R8G8B8A8_UNORM
#define MD_PAD 0x7fff0000u /* in the extra members: a misread draw lands far off */

struct md_draw {
   VkMultiDrawInfoEXT info;
   uint32_t pad[6];
};

struct md_indexed_draw {
   VkMultiDrawIndexedInfoEXT info;
   uint32_t pad;
};

struct md_indexed_draw_wide {
   VkMultiDrawIndexedInfoEXT info;
   uint32_t pad[2];
};

static uint8_t
md_unorm(float v)
{
   return (uint8_t)(v * 255.0f + 0.5f);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "multidraw");
   static const char *const exts[] = { VK_EXT_MULTI_DRAW_EXTENSION_NAME };
   if (!vkt_has_device_extension(&ctx, exts[0]))
      vkt_die("the device lacks %s", exts[0]);
   VkPhysicalDeviceMultiDrawFeaturesEXT md_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MULTI_DRAW_FEATURES_EXT,
      .multiDraw = VK_TRUE,
   };
   const struct vkt_device_info info = {
      .next = &md_features,
      .extensions = exts,
      .extension_count = 1,
   };
   vkt_device_init(&ctx, &info);
   VkDevice dev = ctx.device;

   PFN_vkCmdDrawMultiEXT draw_multi =
      (PFN_vkCmdDrawMultiEXT)vkGetDeviceProcAddr(dev, "vkCmdDrawMultiEXT");
   PFN_vkCmdDrawMultiIndexedEXT draw_multi_indexed =
      (PFN_vkCmdDrawMultiIndexedEXT)vkGetDeviceProcAddr(dev, "vkCmdDrawMultiIndexedEXT");
   if (!draw_multi || !draw_multi_indexed)
      vkt_die("no vkCmdDrawMulti*EXT entry points");

   struct vkt_image color;
   vkt_image_create(&ctx, MD_FORMAT, MD_SIZE, MD_SIZE,
                    VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &color);
   struct vkt_buffer readback, indices;
   vkt_buffer_create(&ctx, MD_SIZE * MD_SIZE * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_READBACK, &readback);
   vkt_buffer_create(&ctx, 16 * 6 * sizeof(uint32_t), VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
                     VKT_MEM_UPLOAD, &indices);
   for (uint32_t i = 0; i < 16 * 6; i++)
      ((uint32_t *)indices.map)[i] = i;
   vkt_buffer_flush(&ctx, &indices);

   VkRenderPass render_pass = vkt_render_pass_create(&ctx, MD_FORMAT, VK_FORMAT_UNDEFINED);
   VkFramebuffer framebuffer = vkt_framebuffer_create(&ctx, render_pass, &color, NULL);
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));
   VkShaderModule vert = vkt_shader_load(&ctx, "multidraw.vert.spv");
   VkShaderModule frag = vkt_shader_load(&ctx, "multidraw.frag.spv");
   const struct vkt_graphics_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .render_pass = render_pass,
      .width = MD_SIZE,
      .height = MD_SIZE,
   };
   VkPipeline pipeline = vkt_graphics_pipeline_create(&ctx, &desc);

   /* cells 0 3 5 6 9 10 12 15: non-indexed, 12-byte stride */
   static const uint32_t plain_cells[8] = { 0, 3, 5, 6, 9, 10, 12, 15 };
   struct md_draw plain[8];
   for (uint32_t i = 0; i < 8; i++)
      plain[i] = (struct md_draw){ { plain_cells[i] * 6, 6 }, { MD_PAD, MD_PAD, MD_PAD, MD_PAD, MD_PAD, MD_PAD } };
   /* cells 1 2 4 7: indexed, per-draw vertex offsets, 16-byte stride */
   struct md_indexed_draw own[4] = {
      { { 1 * 6, 6, 0 }, MD_PAD },
      { { 0, 6, 2 * 6 }, MD_PAD },
      { { 4 * 6, 6, 0 }, MD_PAD },
      { { 1 * 6, 6, 6 * 6 }, MD_PAD },
   };
   /* cells 8 11 13 14: indexed, one vertex offset (cell 8) for all, 20-byte stride */
   struct md_indexed_draw_wide shared[4] = {
      { { 0 * 6, 6, (int32_t)MD_PAD }, { MD_PAD, MD_PAD } },
      { { 3 * 6, 6, (int32_t)MD_PAD }, { MD_PAD, MD_PAD } },
      { { 5 * 6, 6, (int32_t)MD_PAD }, { MD_PAD, MD_PAD } },
      { { 6 * 6, 6, (int32_t)MD_PAD }, { MD_PAD, MD_PAD } },
   };
   const int32_t shared_offset = 8 * 6;

   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   const VkClearValue clear = { .color = { .float32 = { 0.0f, 0.0f, 0.0f, 1.0f } } };
   const VkRenderPassBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = render_pass,
      .framebuffer = framebuffer,
      .renderArea = { { 0, 0 }, { MD_SIZE, MD_SIZE } },
      .clearValueCount = 1,
      .pClearValues = &clear,
   };
   vkCmdBeginRenderPass(cmd, &begin, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   vkCmdBindIndexBuffer(cmd, indices.buffer, 0, VK_INDEX_TYPE_UINT32);
   draw_multi(cmd, 8, &plain[0].info, 1, 0, sizeof(plain[0]));
   draw_multi_indexed(cmd, 4, &own[0].info, 1, 0, sizeof(own[0]), NULL);
   draw_multi_indexed(cmd, 4, &shared[0].info, 1, 0, sizeof(shared[0]), &shared_offset);
   vkCmdEndRenderPass(cmd);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { MD_SIZE, MD_SIZE, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, color.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          readback.buffer, 1, &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&ctx, cmd);
   vkt_buffer_invalidate(&ctx, &readback);

   /* every pixel of each cell holds that cell's color (y grows downwards
    * with the viewport, as x does) */
   const uint8_t *pixels = readback.map;
   uint32_t good = 0;
   for (uint32_t cell = 0; cell < 16; cell++) {
      const uint8_t want[4] = { md_unorm((float)(cell + 1) / 16.0f),
                                md_unorm(1.0f - (float)cell / 16.0f), md_unorm(0.5f), 255 };
      uint32_t wrong = 0;
      for (uint32_t y = 0; y < MD_CELL; y++) {
         for (uint32_t x = 0; x < MD_CELL; x++) {
            const uint32_t px = (cell % 4) * MD_CELL + x, py = (cell / 4) * MD_CELL + y;
            const uint8_t *p = pixels + (py * MD_SIZE + px) * 4;
            for (uint32_t c = 0; c < 4; c++)
               wrong += abs((int)p[c] - (int)want[c]) > 1;
         }
      }
      good += vkt_check(&ctx, wrong == 0, "cell %u: %u wrong channels", cell, wrong);
   }
   vkt_print_u64("multidraw_cells_ok", "cells", good);
   vkt_print_hex("multidraw_image_digest", vkt_digest(pixels, MD_SIZE * MD_SIZE * 4));

   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, frag, NULL);
   vkDestroyShaderModule(dev, vert, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyFramebuffer(dev, framebuffer, NULL);
   vkDestroyRenderPass(dev, render_pass, NULL);
   vkt_buffer_destroy(&ctx, &indices);
   vkt_buffer_destroy(&ctx, &readback);
   vkt_image_destroy(&ctx, &color);
   return vkt_finish(&ctx);
}
