/*
 * render: an offscreen render of a small textured, depth-tested scene. Four
 * overlapping triangles at different depths are drawn in an order where the
 * depth test decides what is visible; the texture is uploaded through a staging
 * buffer and vkCmdCopyBufferToImage and sampled with nearest filtering. The
 * color image is read back, written as a PPM (argv[1], else
 * $VKT_OUTPUT_DIR/render.ppm), digested, and a few known pixels are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

#define RENDER_WIDTH 256u
#define RENDER_HEIGHT 256u
#define RENDER_TEX_SIZE 8u
#define RENDER_COLOR_FORMAT VK_FORMAT_R8G8B8A8_UNORM
#define RENDER_DEPTH_FORMAT VK_FORMAT_D32_SFLOAT
#define RENDER_TOLERANCE 1 /* UNORM conversion may round either way */

struct render_vertex {
   float pos[3];
   float uv[2];
   float color[4];
};

/* Texel (1,0) is white, so triangles whose uv all point at it show their vertex
 * color unchanged; see render_fill_texture(). */
#define WHITE_U (1.5f / RENDER_TEX_SIZE)
#define WHITE_V (0.5f / RENDER_TEX_SIZE)

/* In draw order. Vulkan clip space: x right, y down, depth 0 (near) to 1. */
static const struct render_vertex render_vertices[] = {
   /* T0: near red, upper left */
   { { -0.9f, -0.9f, 0.2f }, { WHITE_U, WHITE_V }, { 1.0f, 0.25f, 0.25f, 1.0f } },
   { { 0.3f, -0.9f, 0.2f }, { WHITE_U, WHITE_V }, { 1.0f, 0.25f, 0.25f, 1.0f } },
   { { -0.9f, 0.3f, 0.2f }, { WHITE_U, WHITE_V }, { 1.0f, 0.25f, 0.25f, 1.0f } },
   /* T1: far green, upper right; drawn after T0 but hidden where they overlap */
   { { -0.5f, -0.5f, 0.6f }, { WHITE_U, WHITE_V }, { 0.25f, 1.0f, 0.25f, 1.0f } },
   { { 0.9f, -0.5f, 0.6f }, { WHITE_U, WHITE_V }, { 0.25f, 1.0f, 0.25f, 1.0f } },
   { { 0.9f, 0.9f, 0.6f }, { WHITE_U, WHITE_V }, { 0.25f, 1.0f, 0.25f, 1.0f } },
   /* T2: textured, lower left, behind T0 */
   { { -0.9f, 0.9f, 0.4f }, { 0.0f, 1.0f }, { 1.0f, 1.0f, 1.0f, 1.0f } },
   { { 0.9f, 0.9f, 0.4f }, { 1.0f, 1.0f }, { 1.0f, 1.0f, 1.0f, 1.0f } },
   { { -0.9f, -0.1f, 0.4f }, { 0.0f, 0.0f }, { 1.0f, 1.0f, 1.0f, 1.0f } },
   /* T3: nearest blue, center, in front of everything */
   { { -0.3f, -0.3f, 0.1f }, { WHITE_U, WHITE_V }, { 0.25f, 0.25f, 1.0f, 1.0f } },
   { { 0.3f, -0.3f, 0.1f }, { WHITE_U, WHITE_V }, { 0.25f, 0.25f, 1.0f, 1.0f } },
   { { 0.0f, 0.3f, 0.1f }, { WHITE_U, WHITE_V }, { 0.25f, 0.25f, 1.0f, 1.0f } },
};
#define RENDER_VERTEX_COUNT (sizeof(render_vertices) / sizeof(render_vertices[0]))

/* Known pixels, chosen at least 5 pixels away from every triangle edge. */
struct render_probe {
   const char *what;
   uint32_t x, y;
   uint8_t rgba[4];
};

static const struct render_probe render_probes[] = {
   { "background", 2, 2, { 51, 51, 51, 255 } },
   { "T0 over T1 (depth test)", 102, 70, { 255, 64, 64, 255 } },
   { "T1 alone", 204, 102, { 64, 255, 64, 255 } },
   { "T0 over later T2 (depth test)", 25, 128, { 255, 64, 64, 255 } },
   { "T3 over T1", 128, 115, { 64, 64, 255, 255 } },
};

static void
render_fill_texture(uint8_t *texels)
{
   for (uint32_t y = 0; y < RENDER_TEX_SIZE; y++) {
      for (uint32_t x = 0; x < RENDER_TEX_SIZE; x++) {
         uint8_t *t = texels + 4 * (y * RENDER_TEX_SIZE + x);
         const bool white = (x + y) & 1;
         t[0] = white ? 255 : (uint8_t)(x * 32);
         t[1] = white ? 255 : (uint8_t)(y * 32);
         t[2] = white ? 255 : 128;
         t[3] = 255;
      }
   }
}

static void
render_upload_texture(struct vkt_context *ctx, const struct vkt_image *tex)
{
   struct vkt_buffer staging;
   const VkDeviceSize size = RENDER_TEX_SIZE * RENDER_TEX_SIZE * 4;
   vkt_buffer_create(ctx, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_UPLOAD,
                     &staging);
   render_fill_texture(staging.map);
   vkt_buffer_flush(ctx, &staging);

   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkt_cmd_image_barrier(cmd, tex, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { RENDER_TEX_SIZE, RENDER_TEX_SIZE, 1 },
   };
   vkCmdCopyBufferToImage(cmd, staging.buffer, tex->image,
                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
   vkt_cmd_image_barrier(cmd, tex, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                         VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                         VK_ACCESS_SHADER_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_destroy(ctx, &staging);
}

static void
render_check_pixels(struct vkt_context *ctx, const uint8_t *pixels)
{
   for (size_t i = 0; i < sizeof(render_probes) / sizeof(render_probes[0]); i++) {
      const struct render_probe *p = &render_probes[i];
      const uint8_t *px = pixels + 4 * (p->y * RENDER_WIDTH + p->x);
      bool ok = true;
      for (int c = 0; c < 4; c++)
         ok &= abs((int)px[c] - (int)p->rgba[c]) <= RENDER_TOLERANCE;
      vkt_check(ctx, ok, "pixel (%u,%u) %s: got %u,%u,%u,%u want %u,%u,%u,%u", p->x, p->y,
                p->what, px[0], px[1], px[2], px[3], p->rgba[0], p->rgba[1], p->rgba[2],
                p->rgba[3]);
   }

   /* T2 alone at y = 230: u = (x + 0.9) / 1.8 crosses texels 0, 1, 2 at these
    * pixels, alternating between white and gradient texels */
   const uint8_t *a = pixels + 4 * (230 * RENDER_WIDTH + 27);
   const uint8_t *b = pixels + 4 * (230 * RENDER_WIDTH + 56);
   const uint8_t *c = pixels + 4 * (230 * RENDER_WIDTH + 84);
   vkt_check(ctx, memcmp(a, b, 4) && memcmp(b, c, 4),
             "textured triangle does not alternate texels (%02x%02x%02x %02x%02x%02x)",
             a[0], a[1], a[2], b[0], b[1], b[2]);
}

int
main(int argc, char **argv)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "render");
   vkt_device_init(&ctx, NULL);
   VkDevice dev = ctx.device;

   struct vkt_image color, depth, tex;
   vkt_image_create(&ctx, RENDER_COLOR_FORMAT, RENDER_WIDTH, RENDER_HEIGHT,
                    VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                    &color);
   vkt_image_create(&ctx, RENDER_DEPTH_FORMAT, RENDER_WIDTH, RENDER_HEIGHT,
                    VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, &depth);
   vkt_image_create(&ctx, VK_FORMAT_R8G8B8A8_UNORM, RENDER_TEX_SIZE, RENDER_TEX_SIZE,
                    VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, &tex);
   render_upload_texture(&ctx, &tex);

   struct vkt_buffer vertices, readback;
   vkt_buffer_create(&ctx, sizeof(render_vertices), VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
                     VKT_MEM_UPLOAD, &vertices);
   memcpy(vertices.map, render_vertices, sizeof(render_vertices));
   vkt_buffer_flush(&ctx, &vertices);
   const VkDeviceSize image_size = RENDER_WIDTH * RENDER_HEIGHT * 4;
   vkt_buffer_create(&ctx, image_size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &readback);

   const VkSamplerCreateInfo sampler_info = {
      .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
      .magFilter = VK_FILTER_NEAREST,
      .minFilter = VK_FILTER_NEAREST,
      .mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
      .addressModeU = VK_SAMPLER_ADDRESS_MODE_REPEAT,
      .addressModeV = VK_SAMPLER_ADDRESS_MODE_REPEAT,
      .addressModeW = VK_SAMPLER_ADDRESS_MODE_REPEAT,
   };
   VkSampler sampler;
   VKT_CALL(vkCreateSampler(dev, &sampler_info, NULL, &sampler));

   const VkDescriptorSetLayoutBinding binding = {
      .binding = 0,
      .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT,
   };
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &binding,
   };
   VkDescriptorSetLayout set_layout;
   VKT_CALL(vkCreateDescriptorSetLayout(dev, &set_layout_info, NULL, &set_layout));
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &set_layout,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));

   const VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
                                            1 };
   const VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &pool_size,
   };
   VkDescriptorPool pool;
   VKT_CALL(vkCreateDescriptorPool(dev, &pool_info, NULL, &pool));
   const VkDescriptorSetAllocateInfo set_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &set_layout,
   };
   VkDescriptorSet set;
   VKT_CALL(vkAllocateDescriptorSets(dev, &set_info, &set));
   const VkDescriptorImageInfo image_info = { sampler, tex.view,
                                              VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
   const VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = set,
      .dstBinding = 0,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
      .pImageInfo = &image_info,
   };
   vkUpdateDescriptorSets(dev, 1, &write, 0, NULL);

   VkRenderPass render_pass =
      vkt_render_pass_create(&ctx, RENDER_COLOR_FORMAT, RENDER_DEPTH_FORMAT);
   VkFramebuffer framebuffer = vkt_framebuffer_create(&ctx, render_pass, &color, &depth);

   const VkVertexInputBindingDescription vertex_binding = { 0,
                                                            sizeof(struct render_vertex),
                                                            VK_VERTEX_INPUT_RATE_VERTEX };
   const VkVertexInputAttributeDescription attributes[3] = {
      { 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct render_vertex, pos) },
      { 1, 0, VK_FORMAT_R32G32_SFLOAT, offsetof(struct render_vertex, uv) },
      { 2, 0, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(struct render_vertex, color) },
   };
   const VkPipelineVertexInputStateCreateInfo vertex_input = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
      .vertexBindingDescriptionCount = 1,
      .pVertexBindingDescriptions = &vertex_binding,
      .vertexAttributeDescriptionCount = 3,
      .pVertexAttributeDescriptions = attributes,
   };
   VkShaderModule vert = vkt_shader_load(&ctx, "render.vert.spv");
   VkShaderModule frag = vkt_shader_load(&ctx, "render.frag.spv");
   const struct vkt_graphics_desc pipeline_desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .render_pass = render_pass,
      .width = RENDER_WIDTH,
      .height = RENDER_HEIGHT,
      .vertex_input = &vertex_input,
      .depth_test = true,
   };
   VkPipeline pipeline = vkt_graphics_pipeline_create(&ctx, &pipeline_desc);

   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   const VkClearValue clears[2] = {
      { .color = { .float32 = { 0.2f, 0.2f, 0.2f, 1.0f } } },
      { .depthStencil = { 1.0f, 0 } },
   };
   const VkRenderPassBeginInfo rp_begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = render_pass,
      .framebuffer = framebuffer,
      .renderArea = { { 0, 0 }, { RENDER_WIDTH, RENDER_HEIGHT } },
      .clearValueCount = 2,
      .pClearValues = clears,
   };
   vkCmdBeginRenderPass(cmd, &rp_begin, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, layout, 0, 1, &set, 0,
                           NULL);
   const VkDeviceSize vertex_offset = 0;
   vkCmdBindVertexBuffers(cmd, 0, 1, &vertices.buffer, &vertex_offset);
   /* one draw per triangle, so draw order (not just primitive order) matters */
   for (uint32_t t = 0; t < RENDER_VERTEX_COUNT / 3; t++)
      vkCmdDraw(cmd, 3, 1, 3 * t, 0);
   vkCmdEndRenderPass(cmd);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { RENDER_WIDTH, RENDER_HEIGHT, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, color.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          readback.buffer, 1, &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&ctx, cmd);
   vkt_buffer_invalidate(&ctx, &readback);

   const uint8_t *pixels = readback.map;
   render_check_pixels(&ctx, pixels);
   vkt_print_u64("render_width", "px", RENDER_WIDTH);
   vkt_print_u64("render_height", "px", RENDER_HEIGHT);
   vkt_print_hex("render_image_digest", vkt_digest(pixels, image_size));

   char *path = vkt_output_path(argc > 1 ? argv[1] : NULL, "render.ppm");
   if (path) {
      vkt_check(
         &ctx, vkt_write_ppm(path, RENDER_WIDTH, RENDER_HEIGHT, pixels, RENDER_WIDTH * 4),
         "cannot write %s", path);
      fprintf(stderr, "render: wrote %s\n", path);
      free(path);
   }

   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, frag, NULL);
   vkDestroyShaderModule(dev, vert, NULL);
   vkDestroyFramebuffer(dev, framebuffer, NULL);
   vkDestroyRenderPass(dev, render_pass, NULL);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkDestroySampler(dev, sampler, NULL);
   vkt_buffer_destroy(&ctx, &readback);
   vkt_buffer_destroy(&ctx, &vertices);
   vkt_image_destroy(&ctx, &tex);
   vkt_image_destroy(&ctx, &depth);
   vkt_image_destroy(&ctx, &color);
   return vkt_finish(&ctx);
}
