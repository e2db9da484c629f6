/*
 * compute: a GPU-bound kernel (bench_fma.comp), one dispatch per submission,
 * reported in GFLOP/s from the submit-to-fence time. Each invocation's result
 * is exact in float and checked against the host's closed form.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define BENCH_MAX_REPS 8u
#define FMA_GROUP 64u
#define FMA_ACCUMULATORS 4u
#define FMA_FLOPS_PER_LANE_ITERATION 2u /* one fma */
#define FMA_LANES 4u                    /* vec4 */

struct fma_push {
   float a;
   uint32_t iterations;
};

/* The shader's result with a = 1: accumulator j starts at j and gains
 * iterations * (b + c) in lane c. */
static float
fma_expected(float b, uint32_t iterations)
{
   double sum = 0.0;
   for (uint32_t j = 0; j < FMA_ACCUMULATORS; j++) {
      for (uint32_t c = 0; c < FMA_LANES; c++)
         sum += j + (double)iterations * (b + c);
   }
   return (float)sum;
}

void
bench_run_compute(struct bench *b)
{
   VkDevice dev = b->ctx.device;
   const uint32_t groups = bench_count(b, 2048, 64);
   const uint32_t iterations = bench_count(b, 1024, 256);
   const uint32_t reps = bench_count(b, 5, 2);
   const uint32_t invocations = groups * FMA_GROUP;

   struct vkt_buffer in, out;
   vkt_buffer_create(&b->ctx, invocations * sizeof(float),
                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_UPLOAD, &in);
   vkt_buffer_create(&b->ctx, invocations * sizeof(float),
                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_READBACK, &out);
   float *inputs = in.map;
   for (uint32_t i = 0; i < invocations; i++)
      inputs[i] = (float)(i % 4); /* small integers keep every sum exact */
   vkt_buffer_flush(&b->ctx, &in);

   VkDescriptorSetLayout set_layout = bench_storage_set_layout(b, 2);
   VkPipelineLayout layout = bench_pipeline_layout(
      b, set_layout, VK_SHADER_STAGE_COMPUTE_BIT, sizeof(struct fma_push));
   VkShaderModule module = bench_shader(b, "bench_fma.comp.spv");
   VkPipeline pipeline = vkt_compute_pipeline_create(&b->ctx, module, layout, NULL);
   const VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 };
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
   const VkDescriptorBufferInfo infos[2] = {
      { in.buffer, 0, VK_WHOLE_SIZE },
      { out.buffer, 0, VK_WHOLE_SIZE },
   };
   VkWriteDescriptorSet writes[2];
   for (uint32_t i = 0; i < 2; i++) {
      writes[i] = (VkWriteDescriptorSet){
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = set,
         .dstBinding = i,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &infos[i],
      };
   }
   vkUpdateDescriptorSets(dev, 2, writes, 0, NULL);

   VkCommandBuffer cmd = bench_cmd_alloc(b);
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
   };
   const struct fma_push push = { 1.0f, iterations };
   VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0,
                           NULL);
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
   vkCmdDispatch(cmd, groups, 1, 1);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   VKT_CALL(vkEndCommandBuffer(cmd));
   VkFence fence = bench_fence_create(b);

   const double flops = (double)invocations * iterations * FMA_ACCUMULATORS * FMA_LANES *
                        FMA_FLOPS_PER_LANE_ITERATION;
   double samples[BENCH_MAX_REPS];
   uint32_t bad = 0;
   /* rep 0 warms up (shader compilation may be deferred) and is not counted */
   for (uint32_t rep = 0; rep <= reps; rep++) {
      memset(out.map, 0, out.size);
      vkt_buffer_flush(&b->ctx, &out);
      const uint64_t ns = bench_submit_wait(b, cmd, fence);
      if (rep)
         samples[rep - 1] = flops / (double)ns; /* flops per ns = GFLOP/s */
      vkt_buffer_invalidate(&b->ctx, &out);
      const float *results = out.map;
      for (uint32_t i = 0; i < invocations; i++) {
         const float want = fma_expected(inputs[i], iterations);
         if (results[i] != want && bad++ < 4)
            fprintf(stderr, "vkbench: compute: invocation %u: %f, want %f\n", i,
                    (double)results[i], (double)want);
      }
   }
   vkt_check(&b->ctx, !bad, "compute: %u wrong result(s)", bad);
   bench_report("compute_fma", "GFLOP/s", bench_median(samples, reps));

   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, module, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_buffer_destroy(&b->ctx, &out);
   vkt_buffer_destroy(&b->ctx, &in);
}
