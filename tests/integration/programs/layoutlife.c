/*
 * layoutlife: pipeline layouts destroyed while command buffers that used them
 * still record, as the Vulkan CTS does (its multisampled-render-to-single-
 * sampled tests drop a layout at the end of a scope, before
 * vkEndCommandBuffer). The spec forbids it (VUID-vkDestroyPipelineLayout-
 * pipelineLayout-02004) but drivers resolve the layout at record time and
 * carry on; the program marks those destroys invalid on purpose for the
 * validation layer.
 *
 * Two command buffers record at once. Each binds a compute pipeline, pushes
 * constants with its own layout and dispatches; the first layout is destroyed
 * before the second command buffer has recorded anything, the second before
 * either command buffer has ended, and the second command buffer ends first.
 * A third command buffer records after both layouts are gone with a fresh
 * one.
 *
 * Before all that, the valid case (runs 3-5): two command buffers' layouts
 * are destroyed after vkEndCommandBuffer and before the command buffers are
 * submitted (allowed: they are executable); one is submitted again, then
 * re-recorded with a third layout, destroyed the same way. Mesa 25's
 * lavapipe reads such a layout when it executes the command buffer, so the
 * renderer keeps it alive on the host until the command buffer is reset;
 * without that, runs wrote nothing through our stack on lavapipe 25. Every
 * element of the output is checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

#define LL_GROUPS 4u
#define LL_PER_RUN (LL_GROUPS * 64u)
#define LL_RUNS 6u

struct ll_push {
   uint32_t base;
   uint32_t mul;
   uint32_t offset;
};

static const struct ll_push ll_pushes[LL_RUNS] = {
   { 1000u, 3u, 0 * LL_PER_RUN },
   { 7u, 11u, 1 * LL_PER_RUN },
   { 0x10000u, 5u, 2 * LL_PER_RUN },
   { 0x30000u, 13u, 3 * LL_PER_RUN },
   { 0x50000u, 17u, 4 * LL_PER_RUN },
   { 0x70000u, 19u, 5 * LL_PER_RUN },
};

static VkPipelineLayout
ll_layout_create(VkDevice dev, VkDescriptorSetLayout set_layout)
{
   const VkPushConstantRange push_range = { VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                            sizeof(struct ll_push) };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push_range,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));
   return layout;
}

static void
ll_record(VkCommandBuffer cmd,
          VkPipeline pipeline,
          VkPipelineLayout layout,
          VkDescriptorSet set,
          const struct ll_push *push)
{
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(*push), push);
   vkCmdDispatch(cmd, LL_GROUPS, 1, 1);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "layoutlife");
   vkt_device_init(&ctx, NULL);
   VkDevice dev = ctx.device;

   struct vkt_buffer dst;
   vkt_buffer_create(&ctx, LL_RUNS * LL_PER_RUN * sizeof(uint32_t),
                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_READBACK, &dst);
   memset(dst.map, 0xff, LL_RUNS * LL_PER_RUN * sizeof(uint32_t));
   vkt_buffer_flush(&ctx, &dst);

   const VkDescriptorSetLayoutBinding binding = {
      .binding = 0,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
   };
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &binding,
   };
   VkDescriptorSetLayout set_layout;
   VKT_CALL(vkCreateDescriptorSetLayout(dev, &set_layout_info, NULL, &set_layout));
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
   const VkDescriptorBufferInfo buffer_info = { dst.buffer, 0, VK_WHOLE_SIZE };
   const VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = set,
      .dstBinding = 0,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &buffer_info,
   };
   vkUpdateDescriptorSets(dev, 1, &write, 0, NULL);

   /* the pipeline is made with a layout of its own, destroyed at once
    * (allowed: a pipeline keeps what it needs of its layout) */
   VkPipelineLayout pipeline_layout = ll_layout_create(dev, set_layout);
   VkShaderModule module = vkt_shader_load(&ctx, "layoutlife.comp.spv");
   VkPipeline pipeline = vkt_compute_pipeline_create(&ctx, module, pipeline_layout, NULL);
   vkDestroyPipelineLayout(dev, pipeline_layout, NULL);

   /* valid, first: layouts destroyed once the command buffers that used
    * them have ended, before they are submitted (the host reuses the freed
    * memory as the submissions come in) */
   VkCommandBuffer fourth = vkt_cmd_begin_in(&ctx, ctx.cmd_pool, 0);
   VkCommandBuffer fifth = vkt_cmd_begin_in(&ctx, ctx.cmd_pool, 0);
   VkPipelineLayout layout_d = ll_layout_create(dev, set_layout);
   VkPipelineLayout layout_e = ll_layout_create(dev, set_layout);
   ll_record(fourth, pipeline, layout_d, set, &ll_pushes[3]);
   ll_record(fifth, pipeline, layout_e, set, &ll_pushes[4]);
   VKT_CALL(vkEndCommandBuffer(fifth));
   VKT_CALL(vkEndCommandBuffer(fourth));
   vkDestroyPipelineLayout(dev, layout_d, NULL);
   vkDestroyPipelineLayout(dev, layout_e, NULL);
   vkt_queue_submit_wait(&ctx, ctx.queue, fourth);
   vkt_queue_submit_wait(&ctx, ctx.queue, fifth);
   /* submitted again: still valid, still needs its layout */
   memset((uint32_t *)dst.map + 3 * LL_PER_RUN, 0xff, LL_PER_RUN * sizeof(uint32_t));
   vkt_buffer_flush(&ctx, &dst);
   vkt_queue_submit_wait(&ctx, ctx.queue, fourth);
   /* a new recording resets it: its old layout goes */
   VkPipelineLayout layout_f = ll_layout_create(dev, set_layout);
   const VkCommandBufferBeginInfo rebegin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
   };
   VKT_CALL(vkBeginCommandBuffer(fourth, &rebegin));
   ll_record(fourth, pipeline, layout_f, set, &ll_pushes[5]);
   VKT_CALL(vkEndCommandBuffer(fourth));
   vkDestroyPipelineLayout(dev, layout_f, NULL);
   vkt_queue_submit_wait(&ctx, ctx.queue, fourth);

   /* invalid on purpose, as the CTS does: destroyed while recording */
   VkCommandBuffer first = vkt_cmd_begin_in(&ctx, ctx.cmd_pool, 0);
   VkCommandBuffer second = vkt_cmd_begin_in(&ctx, ctx.cmd_pool, 0);
   VkPipelineLayout layout_a = ll_layout_create(dev, set_layout);
   VkPipelineLayout layout_b = ll_layout_create(dev, set_layout);
   ll_record(first, pipeline, layout_a, set, &ll_pushes[0]);
   ctx.invalid_on_purpose = true;
   vkDestroyPipelineLayout(dev, layout_a, NULL);
   ctx.invalid_on_purpose = false;
   ll_record(second, pipeline, layout_b, set, &ll_pushes[1]);
   ctx.invalid_on_purpose = true;
   vkDestroyPipelineLayout(dev, layout_b, NULL);
   ctx.invalid_on_purpose = false;
   VKT_CALL(vkEndCommandBuffer(second));
   VKT_CALL(vkEndCommandBuffer(first));
   vkt_queue_submit_wait(&ctx, ctx.queue, first);
   vkt_queue_submit_wait(&ctx, ctx.queue, second);

   VkPipelineLayout layout_c = ll_layout_create(dev, set_layout);
   VkCommandBuffer third = vkt_cmd_begin(&ctx);
   ll_record(third, pipeline, layout_c, set, &ll_pushes[2]);
   vkt_cmd_submit_wait(&ctx, third);
   vkDestroyPipelineLayout(dev, layout_c, NULL);

   vkt_buffer_invalidate(&ctx, &dst);

   const uint32_t *out = dst.map;
   uint32_t good = 0;
   for (uint32_t r = 0; r < LL_RUNS; r++) {
      uint32_t wrong = 0;
      for (uint32_t i = 0; i < LL_PER_RUN; i++)
         wrong += out[r * LL_PER_RUN + i] != ll_pushes[r].base + ll_pushes[r].mul * i;
      good += vkt_check(&ctx, wrong == 0, "run %u: %u of %u elements wrong", r, wrong,
                        LL_PER_RUN);
   }
   vkt_print_u64("layoutlife_runs_ok", "runs", good);
   vkt_print_hex("layoutlife_digest", vkt_digest(out, LL_RUNS * LL_PER_RUN * sizeof(uint32_t)));

   VkCommandBuffer done[4] = { first, second, fourth, fifth };
   vkFreeCommandBuffers(dev, ctx.cmd_pool, 4, done);
   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, module, NULL);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_buffer_destroy(&ctx, &dst);
   return vkt_finish(&ctx);
}
