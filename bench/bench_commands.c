/*
 * Submission and command overhead.
 *
 * submit: one batch without command buffers, then wait for and reset its fence,
 * in a loop: the round trip through the queue with no GPU work.
 *
 * commands: a command buffer of COMMANDS small commands, recorded and executed
 * (submit + fence wait) separately, reported per command. Compute: pairs of
 * vkCmdPushConstants + vkCmdDispatch(0, 0, 0). Graphics: pairs of
 * vkCmdPushConstants + vkCmdDraw(0 vertices) in one render pass. Zero-sized work
 * keeps the GPU out of the figure. A last real dispatch or draw uses the last
 * push constant, and its result is checked.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define BENCH_MAX_REPS 8u
#define COMMANDS_DRAW_SIZE 16u

void
bench_run_submit(struct bench *b)
{
   VkDevice dev = b->ctx.device;
   const uint32_t per_batch = bench_count(b, 5000, 200);
   const uint32_t batches = bench_count(b, 7, 3);
   VkFence fence = bench_fence_create(b);
   const VkSubmitInfo submit = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO };
   double samples[BENCH_MAX_REPS];

   for (uint32_t batch = 0; batch <= batches; batch++) {
      const uint64_t start = vkt_now_ns();
      for (uint32_t i = 0; i < per_batch; i++) {
         VKT_CALL(vkQueueSubmit(b->ctx.queue, 1, &submit, fence));
         VKT_CALL(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
         VKT_CALL(vkResetFences(dev, 1, &fence));
      }
      if (batch)
         samples[batch - 1] = (double)(vkt_now_ns() - start) / per_batch / 1e3;
   }
   VKT_CALL(vkQueueSubmit(b->ctx.queue, 1, &submit, fence));
   VKT_CALL(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
   const VkResult status = vkGetFenceStatus(dev, fence);
   vkt_check(&b->ctx, status == VK_SUCCESS, "submit: fence status %s after its wait",
             vkt_result_string(status));
   vkDestroyFence(dev, fence, NULL);
   bench_report("submit_empty_wait", "us/iter", bench_median(samples, batches));
}

struct commands_run {
   double record_ns[BENCH_MAX_REPS];
   double execute_ns[BENCH_MAX_REPS];
};

static void
commands_report(const char *kind, struct commands_run *run, uint32_t reps, uint32_t count)
{
   char name[64];
   snprintf(name, sizeof(name), "commands_%s_record", kind);
   bench_report(name, "ns/cmd", bench_median(run->record_ns, reps) / count);
   snprintf(name, sizeof(name), "commands_%s_execute", kind);
   bench_report(name, "ns/cmd", bench_median(run->execute_ns, reps) / count);
}

static void
commands_compute(struct bench *b, uint32_t count, uint32_t reps)
{
   VkDevice dev = b->ctx.device;
   struct vkt_buffer out;
   vkt_buffer_create(&b->ctx, 16, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_READBACK,
                     &out);
   VkDescriptorSetLayout set_layout = bench_storage_set_layout(b, 1);
   VkPipelineLayout layout =
      bench_pipeline_layout(b, set_layout, VK_SHADER_STAGE_COMPUTE_BIT, sizeof(uint32_t));
   VkShaderModule module = bench_shader(b, "bench_dispatch.comp.spv");
   VkPipeline pipeline = vkt_compute_pipeline_create(&b->ctx, module, layout, NULL);
   const VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 };
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
   const VkDescriptorBufferInfo buffer_info = { out.buffer, 0, VK_WHOLE_SIZE };
   const VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = set,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &buffer_info,
   };
   vkUpdateDescriptorSets(dev, 1, &write, 0, NULL);

   VkCommandBuffer cmd = bench_cmd_alloc(b);
   VkFence fence = bench_fence_create(b);
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   struct commands_run run;
   uint32_t bad = 0;

   /* rep 0 warms up and is not counted */
   for (uint32_t rep = 0; rep <= reps; rep++) {
      VKT_CALL(vkResetCommandBuffer(cmd, 0));
      const uint64_t start = vkt_now_ns();
      VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
      vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0,
                              NULL);
      for (uint32_t i = 0; i < count / 2; i++) {
         vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(i), &i);
         vkCmdDispatch(cmd, 0, 0, 0);
      }
      const uint32_t last = count + rep;
      vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(last),
                         &last);
      vkCmdDispatch(cmd, 1, 1, 1);
      vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                             VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                             VK_ACCESS_HOST_READ_BIT);
      VKT_CALL(vkEndCommandBuffer(cmd));
      const uint64_t recorded = vkt_now_ns() - start;
      const uint64_t executed = bench_submit_wait(b, cmd, fence);
      if (rep) {
         run.record_ns[rep - 1] = (double)recorded;
         run.execute_ns[rep - 1] = (double)executed;
      }
      vkt_buffer_invalidate(&b->ctx, &out);
      bad += *(const uint32_t *)out.map != last;
   }
   vkt_check(&b->ctx, !bad, "commands: the last dispatch stored a wrong value %u time(s)",
             bad);
   commands_report("dispatch", &run, reps, count);

   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, module, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_buffer_destroy(&b->ctx, &out);
}

static void
commands_draw(struct bench *b, uint32_t count, uint32_t reps)
{
   VkDevice dev = b->ctx.device;
   const VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;
   struct vkt_image color;
   vkt_image_create(&b->ctx, format, COMMANDS_DRAW_SIZE, COMMANDS_DRAW_SIZE,
                    VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                    &color);
   struct vkt_buffer readback;
   vkt_buffer_create(&b->ctx, COMMANDS_DRAW_SIZE * COMMANDS_DRAW_SIZE * 4,
                     VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &readback);
   VkRenderPass render_pass =
      vkt_render_pass_create(&b->ctx, format, VK_FORMAT_UNDEFINED);
   VkFramebuffer framebuffer = vkt_framebuffer_create(&b->ctx, render_pass, &color, NULL);
   VkPipelineLayout layout =
      bench_pipeline_layout(b, VK_NULL_HANDLE, VK_SHADER_STAGE_FRAGMENT_BIT, 16);
   VkShaderModule vert = bench_shader(b, "bench_draw.vert.spv");
   VkShaderModule frag = bench_shader(b, "bench_draw.frag.spv");
   const struct vkt_graphics_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .render_pass = render_pass,
      .width = COMMANDS_DRAW_SIZE,
      .height = COMMANDS_DRAW_SIZE,
   };
   VkPipeline pipeline = vkt_graphics_pipeline_create(&b->ctx, &desc);

   VkCommandBuffer cmd = bench_cmd_alloc(b);
   VkFence fence = bench_fence_create(b);
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   const VkClearValue clear = { .color = { .float32 = { 0.0f, 0.0f, 0.0f, 1.0f } } };
   const VkRenderPassBeginInfo rp_begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = render_pass,
      .framebuffer = framebuffer,
      .renderArea = { { 0, 0 }, { COMMANDS_DRAW_SIZE, COMMANDS_DRAW_SIZE } },
      .clearValueCount = 1,
      .pClearValues = &clear,
   };
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { COMMANDS_DRAW_SIZE, COMMANDS_DRAW_SIZE, 1 },
   };
   struct commands_run run;
   uint32_t bad = 0;

   for (uint32_t rep = 0; rep <= reps; rep++) {
      VKT_CALL(vkResetCommandBuffer(cmd, 0));
      const uint64_t start = vkt_now_ns();
      VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
      vkCmdBeginRenderPass(cmd, &rp_begin, VK_SUBPASS_CONTENTS_INLINE);
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
      for (uint32_t i = 0; i < count / 2; i++) {
         const float shade[4] = { (float)(i & 255) / 255.0f, 0.0f, 0.0f, 1.0f };
         vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(shade),
                            shade);
         vkCmdDraw(cmd, 0, 1, 0, 0);
      }
      /* the last, real draw: a full-screen triangle in a color that changes per rep */
      const uint8_t want[4] = { (uint8_t)(rep * 40), 255, 51, 255 };
      const float last[4] = { want[0] / 255.0f, 1.0f, 0.2f, 1.0f };
      vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(last),
                         last);
      vkCmdDraw(cmd, 3, 1, 0, 0);
      vkCmdEndRenderPass(cmd);
      vkCmdCopyImageToBuffer(cmd, color.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                             readback.buffer, 1, &region);
      vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                             VK_ACCESS_HOST_READ_BIT);
      VKT_CALL(vkEndCommandBuffer(cmd));
      const uint64_t recorded = vkt_now_ns() - start;
      const uint64_t executed = bench_submit_wait(b, cmd, fence);
      if (rep) {
         run.record_ns[rep - 1] = (double)recorded;
         run.execute_ns[rep - 1] = (double)executed;
      }
      vkt_buffer_invalidate(&b->ctx, &readback);
      const uint8_t *px = (const uint8_t *)readback.map +
                          4 * (COMMANDS_DRAW_SIZE / 2 * COMMANDS_DRAW_SIZE + 3);
      for (int c = 0; c < 4; c++)
         bad += abs((int)px[c] - (int)want[c]) > 1;
   }
   vkt_check(&b->ctx, !bad, "commands: the last draw left wrong pixels (%u)", bad);
   commands_report("draw", &run, reps, count);

   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, frag, NULL);
   vkDestroyShaderModule(dev, vert, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyFramebuffer(dev, framebuffer, NULL);
   vkDestroyRenderPass(dev, render_pass, NULL);
   vkt_buffer_destroy(&b->ctx, &readback);
   vkt_image_destroy(&b->ctx, &color);
}

void
bench_run_commands(struct bench *b)
{
   /* 100k commands in the full run, in push + work pairs */
   const uint32_t count = bench_count(b, 100000, 10000);
   const uint32_t reps = bench_count(b, 5, 2);
   commands_compute(b, count, reps);
   commands_draw(b, count, reps);
}
