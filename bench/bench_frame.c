/*
 * frame: an offscreen frame loop. Each frame re-records its command buffer (a
 * render pass with a textured, depth-tested scene of FRAME_TRIANGLES triangles
 * and a per-frame push constant) and submits it, with two frames in flight, as
 * an application would without presenting. Reported in frames/s. The last
 * frame is read back: a corner must show the clear color and the center the
 * marker triangle drawn in front of everything.
 *
 * The loop runs three times, paced as applications pace it: by a fence per
 * frame (frame_loop), by a fence per frame with a pair of timestamp queries
 * around each frame read back when its fence has signaled, as a GPU profiler
 * overlay does (frame_loop_timestamps), and by one timeline semaphore that
 * every frame signals instead of a fence (frame_loop_timeline).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define FRAME_TRIANGLES 256u
#define FRAME_TEX 64u
#define FRAME_IN_FLIGHT 2u
#define FRAME_WARMUP 4u
#define FRAME_COLOR VK_FORMAT_R8G8B8A8_UNORM
#define FRAME_DEPTH VK_FORMAT_D32_SFLOAT

struct frame_vertex {
   float pos[3];
   float uv[2];
   float color[4];
};

struct frame_target {
   struct vkt_image color;
   struct vkt_image depth;
   VkFramebuffer framebuffer;
   VkCommandBuffer cmd;
   VkFence fence;
   bool is_pending;
};

enum frame_pacing {
   FRAME_FENCES,
   FRAME_TIMESTAMPS, /* fences, and two timestamps around every frame */
   FRAME_TIMELINE,   /* one timeline semaphore, frame f signals f + 1 */
};

struct frame_state {
   struct bench *b;
   uint32_t size;
   enum frame_pacing pacing;
   VkQueryPool timestamps;   /* 2 per target, FRAME_TIMESTAMPS */
   uint32_t timestamp_reads; /* frames whose timestamps were read and ordered */
   uint64_t timestamp_mask;  /* the queue family's valid bits */
   VkSemaphore timeline;     /* FRAME_TIMELINE */
   VkRenderPass render_pass;
   VkPipelineLayout layout;
   VkPipeline pipeline;
   VkDescriptorSet set;
   struct vkt_buffer vertices;
   struct frame_target targets[FRAME_IN_FLIGHT];
};

static const uint8_t frame_clear[4] = { 26, 26, 51, 255 }; /* 0.1 0.1 0.2 */
static const uint8_t frame_marker[4] = { 255, 255, 0, 255 };

static float
frame_random(uint32_t *state)
{
   *state = *state * 1664525u + 1013904223u;
   return (float)(*state >> 8) / (float)(1u << 24);
}

/* Random triangles within [-0.95, 0.95], then the marker at depth 0.05. */
static void
frame_build_scene(struct frame_vertex *v)
{
   uint32_t seed = 42;
   for (uint32_t t = 0; t < FRAME_TRIANGLES - 1; t++) {
      const float cx = frame_random(&seed) * 1.6f - 0.8f;
      const float cy = frame_random(&seed) * 1.6f - 0.8f;
      const float r = 0.05f + frame_random(&seed) * 0.1f;
      const float z = 0.2f + frame_random(&seed) * 0.75f;
      const float color[4] = { 0.5f + 0.5f * frame_random(&seed),
                               0.5f + 0.5f * frame_random(&seed),
                               0.5f + 0.5f * frame_random(&seed), 1.0f };
      const float corners[3][2] = { { cx - r, cy - r },
                                    { cx + r, cy - r },
                                    { cx, cy + r } };
      for (uint32_t k = 0; k < 3; k++) {
         struct frame_vertex *out = &v[3 * t + k];
         out->pos[0] = corners[k][0];
         out->pos[1] = corners[k][1];
         out->pos[2] = z;
         out->uv[0] = (corners[k][0] + 1.0f) * 2.0f; /* repeats the texture */
         out->uv[1] = (corners[k][1] + 1.0f) * 2.0f;
         memcpy(out->color, color, sizeof(color));
      }
   }
   /* the marker samples the white texel (1, 0) only */
   const float marker[3][2] = { { -0.2f, -0.2f }, { 0.2f, -0.2f }, { 0.0f, 0.2f } };
   for (uint32_t k = 0; k < 3; k++) {
      struct frame_vertex *out = &v[3 * (FRAME_TRIANGLES - 1) + k];
      *out = (struct frame_vertex){
         { marker[k][0], marker[k][1], 0.05f },
         { 1.5f / FRAME_TEX, 0.5f / FRAME_TEX },
         { 1.0f, 1.0f, 0.0f, 1.0f },
      };
   }
}

static void
frame_upload_texture(struct bench *b, const struct vkt_image *tex)
{
   struct vkt_buffer staging;
   vkt_buffer_create(&b->ctx, FRAME_TEX * FRAME_TEX * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                     VKT_MEM_UPLOAD, &staging);
   uint8_t *texels = staging.map;
   for (uint32_t y = 0; y < FRAME_TEX; y++) {
      for (uint32_t x = 0; x < FRAME_TEX; x++) {
         uint8_t *t = texels + 4 * (y * FRAME_TEX + x);
         const bool white = (x + y) & 1;
         t[0] = white ? 255 : (uint8_t)(x * 4);
         t[1] = white ? 255 : (uint8_t)(y * 4);
         t[2] = white ? 255 : 160;
         t[3] = 255;
      }
   }
   vkt_buffer_flush(&b->ctx, &staging);
   VkCommandBuffer cmd = vkt_cmd_begin(&b->ctx);
   vkt_cmd_image_barrier(cmd, tex, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { FRAME_TEX, FRAME_TEX, 1 },
   };
   vkCmdCopyBufferToImage(cmd, staging.buffer, tex->image,
                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
   vkt_cmd_image_barrier(cmd, tex, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                         VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                         VK_ACCESS_SHADER_READ_BIT);
   vkt_cmd_submit_wait(&b->ctx, cmd);
   vkt_buffer_destroy(&b->ctx, &staging);
}

static VkPipeline
frame_pipeline(struct frame_state *s, VkShaderModule vert, VkShaderModule frag)
{
   const VkVertexInputBindingDescription binding = { 0, sizeof(struct frame_vertex),
                                                     VK_VERTEX_INPUT_RATE_VERTEX };
   const VkVertexInputAttributeDescription attributes[3] = {
      { 0, 0, VK_FORMAT_R32G32B32_SFLOAT, offsetof(struct frame_vertex, pos) },
      { 1, 0, VK_FORMAT_R32G32_SFLOAT, offsetof(struct frame_vertex, uv) },
      { 2, 0, VK_FORMAT_R32G32B32A32_SFLOAT, offsetof(struct frame_vertex, color) },
   };
   const VkPipelineVertexInputStateCreateInfo vertex_input = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
      .vertexBindingDescriptionCount = 1,
      .pVertexBindingDescriptions = &binding,
      .vertexAttributeDescriptionCount = 3,
      .pVertexAttributeDescriptions = attributes,
   };
   const struct vkt_graphics_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = s->layout,
      .render_pass = s->render_pass,
      .width = s->size,
      .height = s->size,
      .vertex_input = &vertex_input,
      .depth_test = true,
   };
   return vkt_graphics_pipeline_create(&s->b->ctx, &desc);
}

static void
frame_record(struct frame_state *s, struct frame_target *target, uint32_t frame)
{
   VkCommandBuffer cmd = target->cmd;
   const uint32_t query = 2 * (frame % FRAME_IN_FLIGHT);
   VKT_CALL(vkResetCommandBuffer(cmd, 0));
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
   if (s->pacing == FRAME_TIMESTAMPS) {
      vkCmdResetQueryPool(cmd, s->timestamps, query, 2);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, s->timestamps, query);
   }
   VkClearValue clears[2];
   for (int c = 0; c < 4; c++)
      clears[0].color.float32[c] = frame_clear[c] / 255.0f;
   clears[1].depthStencil = (VkClearDepthStencilValue){ 1.0f, 0 };
   const VkRenderPassBeginInfo rp_begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = s->render_pass,
      .framebuffer = target->framebuffer,
      .renderArea = { { 0, 0 }, { s->size, s->size } },
      .clearValueCount = 2,
      .pClearValues = clears,
   };
   vkCmdBeginRenderPass(cmd, &rp_begin, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, s->pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, s->layout, 0, 1, &s->set,
                           0, NULL);
   const VkDeviceSize offset = 0;
   vkCmdBindVertexBuffers(cmd, 0, 1, &s->vertices.buffer, &offset);
   const float shift[2] = { (float)(frame % 4) * 0.002f, 0.0f };
   vkCmdPushConstants(cmd, s->layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(shift),
                      shift);
   vkCmdDraw(cmd, 3 * FRAME_TRIANGLES, 1, 0, 0);
   vkCmdEndRenderPass(cmd);
   if (s->pacing == FRAME_TIMESTAMPS)
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, s->timestamps,
                          query + 1);
   VKT_CALL(vkEndCommandBuffer(cmd));
}

/* Waits until the frame last submitted on target (frame) has finished, then
 * reads its timestamps when the loop takes them. */
static void
frame_retire(struct frame_state *s, struct frame_target *target, uint32_t frame)
{
   VkDevice dev = s->b->ctx.device;
   if (s->pacing == FRAME_TIMELINE) {
      const uint64_t value = frame + 1;
      const VkSemaphoreWaitInfo wait = {
         .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
         .semaphoreCount = 1,
         .pSemaphores = &s->timeline,
         .pValues = &value,
      };
      VKT_CALL(vkWaitSemaphores(dev, &wait, UINT64_MAX));
   } else {
      VKT_CALL(vkWaitForFences(dev, 1, &target->fence, VK_TRUE, UINT64_MAX));
      VKT_CALL(vkResetFences(dev, 1, &target->fence));
   }
   target->is_pending = false;
   if (s->pacing != FRAME_TIMESTAMPS)
      return;
   uint64_t ts[2];
   const VkResult result =
      vkGetQueryPoolResults(dev, s->timestamps, 2 * (frame % FRAME_IN_FLIGHT), 2,
                            sizeof(ts), ts, sizeof(ts[0]), VK_QUERY_RESULT_64_BIT);
   /* the fence has signaled: both results are available, the end after the
    * beginning (modulo the valid bits) */
   if (result == VK_SUCCESS && ((ts[1] - ts[0]) & s->timestamp_mask) < s->timestamp_mask / 2)
      s->timestamp_reads++;
}

/* Renders frames [first, first + count) with FRAME_IN_FLIGHT frames in flight;
 * returns the index of the target that holds the last frame. */
static uint32_t
frame_loop(struct frame_state *s, uint32_t first, uint32_t count)
{
   uint32_t index = 0;
   for (uint32_t frame = first; frame < first + count; frame++) {
      index = frame % FRAME_IN_FLIGHT;
      struct frame_target *target = &s->targets[index];
      if (target->is_pending)
         frame_retire(s, target, frame - FRAME_IN_FLIGHT);
      frame_record(s, target, frame);
      const uint64_t signal_value = frame + 1;
      const VkTimelineSemaphoreSubmitInfo timeline_info = {
         .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
         .signalSemaphoreValueCount = 1,
         .pSignalSemaphoreValues = &signal_value,
      };
      const bool timeline = s->pacing == FRAME_TIMELINE;
      const VkSubmitInfo submit = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
         .pNext = timeline ? &timeline_info : NULL,
         .commandBufferCount = 1,
         .pCommandBuffers = &target->cmd,
         .signalSemaphoreCount = timeline ? 1 : 0,
         .pSignalSemaphores = &s->timeline,
      };
      VKT_CALL(vkQueueSubmit(s->b->ctx.queue, 1, &submit,
                             timeline ? VK_NULL_HANDLE : target->fence));
      target->is_pending = true;
   }
   /* the older frame first */
   for (uint32_t frame = first + count - FRAME_IN_FLIGHT; frame < first + count; frame++) {
      struct frame_target *target = &s->targets[frame % FRAME_IN_FLIGHT];
      if (target->is_pending)
         frame_retire(s, target, frame);
   }
   return index;
}

static void
frame_check(struct frame_state *s, const struct frame_target *target)
{
   struct vkt_context *ctx = &s->b->ctx;
   struct vkt_buffer readback;
   vkt_buffer_create(ctx, (VkDeviceSize)s->size * s->size * 4,
                     VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &readback);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { s->size, s->size, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, target->color.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          readback.buffer, 1, &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, &readback);

   const uint8_t *pixels = readback.map;
   const uint8_t *corner = pixels + 4 * (1 * s->size + 1);
   const uint8_t *center = pixels + 4 * (s->size / 2 * s->size + s->size / 2);
   bool ok = true;
   for (int c = 0; c < 4; c++) {
      ok &= abs((int)corner[c] - (int)frame_clear[c]) <= 1;
      ok &= abs((int)center[c] - (int)frame_marker[c]) <= 1;
   }
   vkt_check(ctx, ok, "frame: corner %u,%u,%u / center %u,%u,%u are not clear / marker",
             corner[0], corner[1], corner[2], center[0], center[1], center[2]);
   vkt_buffer_destroy(ctx, &readback);
}

/* Runs the loop paced as given and reports it as name. */
static void
frame_measure(struct frame_state *s, enum frame_pacing pacing, const char *name)
{
   const uint32_t frames = bench_count(s->b, 300, 20);
   s->pacing = pacing;
   s->timestamp_reads = 0;
   frame_loop(s, 0, FRAME_WARMUP);
   const uint64_t start = vkt_now_ns();
   const uint32_t last = frame_loop(s, FRAME_WARMUP, frames);
   const double seconds = (double)(vkt_now_ns() - start) / 1e9;
   frame_check(s, &s->targets[last]);
   if (pacing == FRAME_TIMESTAMPS)
      vkt_check(&s->b->ctx, s->timestamp_reads == FRAME_WARMUP + frames,
                "frame: %u of %u frames had their timestamps, in order",
                s->timestamp_reads, FRAME_WARMUP + frames);
   bench_report(name, "frames/s", frames / seconds);
}

void
bench_run_frame(struct bench *b)
{
   VkDevice dev = b->ctx.device;
   struct frame_state s = { .b = b, .size = bench_count(b, 512, 128) };

   struct vkt_image tex;
   vkt_image_create(&b->ctx, VK_FORMAT_R8G8B8A8_UNORM, FRAME_TEX, FRAME_TEX,
                    VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT, &tex);
   frame_upload_texture(b, &tex);
   vkt_buffer_create(&b->ctx, 3 * FRAME_TRIANGLES * sizeof(struct frame_vertex),
                     VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, VKT_MEM_UPLOAD, &s.vertices);
   frame_build_scene(s.vertices.map);
   vkt_buffer_flush(&b->ctx, &s.vertices);

   const VkSamplerCreateInfo sampler_info = {
      .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
      .magFilter = VK_FILTER_NEAREST,
      .minFilter = VK_FILTER_NEAREST,
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
   s.layout =
      bench_pipeline_layout(b, set_layout, VK_SHADER_STAGE_VERTEX_BIT, 2 * sizeof(float));
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
   VKT_CALL(vkAllocateDescriptorSets(dev, &set_info, &s.set));
   const VkDescriptorImageInfo image_info = { sampler, tex.view,
                                              VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL };
   const VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = s.set,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
      .pImageInfo = &image_info,
   };
   vkUpdateDescriptorSets(dev, 1, &write, 0, NULL);

   s.render_pass = vkt_render_pass_create(&b->ctx, FRAME_COLOR, FRAME_DEPTH);
   VkShaderModule vert = bench_shader(b, "bench_frame.vert.spv");
   VkShaderModule frag = bench_shader(b, "bench_frame.frag.spv");
   s.pipeline = frame_pipeline(&s, vert, frag);
   for (uint32_t i = 0; i < FRAME_IN_FLIGHT; i++) {
      struct frame_target *t = &s.targets[i];
      vkt_image_create(&b->ctx, FRAME_COLOR, s.size, s.size,
                       VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                          VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                       &t->color);
      vkt_image_create(&b->ctx, FRAME_DEPTH, s.size, s.size,
                       VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, &t->depth);
      t->framebuffer =
         vkt_framebuffer_create(&b->ctx, s.render_pass, &t->color, &t->depth);
      t->cmd = bench_cmd_alloc(b);
      t->fence = bench_fence_create(b);
   }

   frame_measure(&s, FRAME_FENCES, "frame_loop");
   const uint32_t valid_bits = b->ctx.queue_families[b->ctx.queue_family].timestampValidBits;
   if (valid_bits != 0 && b->ctx.props.limits.timestampComputeAndGraphics) {
      s.timestamp_mask = valid_bits >= 64 ? UINT64_MAX : (1ull << valid_bits) - 1;
      const VkQueryPoolCreateInfo pool_info = {
         .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
         .queryType = VK_QUERY_TYPE_TIMESTAMP,
         .queryCount = 2 * FRAME_IN_FLIGHT,
      };
      VKT_CALL(vkCreateQueryPool(dev, &pool_info, NULL, &s.timestamps));
      frame_measure(&s, FRAME_TIMESTAMPS, "frame_loop_timestamps");
      vkDestroyQueryPool(dev, s.timestamps, NULL);
   } else {
      fprintf(stderr, "vkbench: frame: no timestamps on the queue: frame_loop_timestamps skipped\n");
   }
   if (b->has_timeline) {
      s.timeline = vkt_semaphore_create(&b->ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0);
      frame_measure(&s, FRAME_TIMELINE, "frame_loop_timeline");
      vkDestroySemaphore(dev, s.timeline, NULL);
   } else {
      fprintf(stderr, "vkbench: frame: no timeline semaphores: frame_loop_timeline skipped\n");
   }

   for (uint32_t i = 0; i < FRAME_IN_FLIGHT; i++) {
      struct frame_target *t = &s.targets[i];
      vkDestroyFence(dev, t->fence, NULL);
      vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &t->cmd);
      vkDestroyFramebuffer(dev, t->framebuffer, NULL);
      vkt_image_destroy(&b->ctx, &t->depth);
      vkt_image_destroy(&b->ctx, &t->color);
   }
   vkDestroyPipeline(dev, s.pipeline, NULL);
   vkDestroyShaderModule(dev, frag, NULL);
   vkDestroyShaderModule(dev, vert, NULL);
   vkDestroyRenderPass(dev, s.render_pass, NULL);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipelineLayout(dev, s.layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkDestroySampler(dev, sampler, NULL);
   vkt_buffer_destroy(&b->ctx, &s.vertices);
   vkt_image_destroy(&b->ctx, &tex);
}
