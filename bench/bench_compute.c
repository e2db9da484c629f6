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
 * iterations * (b + c) in lane c. With a = 0 (long runs, whose sums would
 * leave float's exact range) every accumulator ends at b + c. */
static float
fma_expected(float b, uint32_t iterations, float a)
{
   double sum = 0.0;
   for (uint32_t j = 0; j < FMA_ACCUMULATORS; j++) {
      for (uint32_t c = 0; c < FMA_LANES; c++)
         sum += a == 0.0f ? (double)(b + c) : j + (double)iterations * (b + c);
   }
   return (float)sum;
}

/* The FMA kernel's objects: its buffers, pipeline and descriptor set. */
struct fma_kernel {
   struct vkt_buffer in, out;
   uint32_t invocations;
   VkDescriptorSetLayout set_layout;
   VkPipelineLayout layout;
   VkShaderModule module;
   VkPipeline pipeline;
   VkDescriptorPool pool;
   VkDescriptorSet set;
};

/* out_kind: where the results go (VKT_MEM_READBACK or VKT_MEM_UPLOAD) */
static void
fma_kernel_init(struct bench *b, struct fma_kernel *k, uint32_t groups, enum vkt_mem out_kind)
{
   VkDevice dev = b->ctx.device;
   k->invocations = groups * FMA_GROUP;
   vkt_buffer_create(&b->ctx, k->invocations * sizeof(float),
                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_UPLOAD, &k->in);
   vkt_buffer_create(&b->ctx, k->invocations * sizeof(float),
                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, out_kind, &k->out);
   float *inputs = k->in.map;
   for (uint32_t i = 0; i < k->invocations; i++)
      inputs[i] = (float)(i % 4); /* small integers keep every sum exact */
   vkt_buffer_flush(&b->ctx, &k->in);

   k->set_layout = bench_storage_set_layout(b, 2);
   k->layout = bench_pipeline_layout(b, k->set_layout, VK_SHADER_STAGE_COMPUTE_BIT,
                                     sizeof(struct fma_push));
   k->module = bench_shader(b, "bench_fma.comp.spv");
   k->pipeline = vkt_compute_pipeline_create(&b->ctx, k->module, k->layout, NULL);
   const VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 };
   const VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &pool_size,
   };
   VKT_CALL(vkCreateDescriptorPool(dev, &pool_info, NULL, &k->pool));
   const VkDescriptorSetAllocateInfo set_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = k->pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &k->set_layout,
   };
   VKT_CALL(vkAllocateDescriptorSets(dev, &set_info, &k->set));
   const VkDescriptorBufferInfo infos[2] = {
      { k->in.buffer, 0, VK_WHOLE_SIZE },
      { k->out.buffer, 0, VK_WHOLE_SIZE },
   };
   VkWriteDescriptorSet writes[2];
   for (uint32_t i = 0; i < 2; i++) {
      writes[i] = (VkWriteDescriptorSet){
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = k->set,
         .dstBinding = i,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &infos[i],
      };
   }
   vkUpdateDescriptorSets(dev, 2, writes, 0, NULL);
}

static void
fma_kernel_fini(struct bench *b, struct fma_kernel *k)
{
   VkDevice dev = b->ctx.device;
   vkDestroyDescriptorPool(dev, k->pool, NULL);
   vkDestroyPipeline(dev, k->pipeline, NULL);
   vkDestroyShaderModule(dev, k->module, NULL);
   vkDestroyPipelineLayout(dev, k->layout, NULL);
   vkDestroyDescriptorSetLayout(dev, k->set_layout, NULL);
   vkt_buffer_destroy(&b->ctx, &k->out);
   vkt_buffer_destroy(&b->ctx, &k->in);
}

/* Records one dispatch of iterations over every invocation, between two
 * timestamps when a query pool is given; cmd is begun and ended here. */
static void
fma_kernel_record(struct fma_kernel *k, VkCommandBuffer cmd, uint32_t iterations, float a,
                  VkQueryPool timestamps)
{
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
   };
   const struct fma_push push = { a, iterations };
   VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
   if (timestamps) {
      vkCmdResetQueryPool(cmd, timestamps, 0, 2);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, timestamps, 0);
   }
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, 1, &k->set, 0,
                           NULL);
   vkCmdPushConstants(cmd, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
   vkCmdDispatch(cmd, k->invocations / FMA_GROUP, 1, 1);
   if (timestamps)
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps, 1);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   VKT_CALL(vkEndCommandBuffer(cmd));
}

/* Checks every result of the last run of iterations; returns the wrong ones. */
static uint32_t
fma_kernel_check(struct bench *b, struct fma_kernel *k, uint32_t iterations, float a,
                 const char *what)
{
   vkt_buffer_invalidate(&b->ctx, &k->out);
   const float *inputs = k->in.map;
   const float *results = k->out.map;
   uint32_t bad = 0;
   for (uint32_t i = 0; i < k->invocations; i++) {
      const float want = fma_expected(inputs[i], iterations, a);
      if (results[i] != want && bad++ < 4)
         fprintf(stderr, "vkbench: %s: invocation %u: %f, want %f\n", what, i,
                 (double)results[i], (double)want);
   }
   return bad;
}

void
bench_run_compute(struct bench *b)
{
   VkDevice dev = b->ctx.device;
   const uint32_t iterations = bench_count(b, 1024, 256);
   const uint32_t reps = bench_count(b, 5, 2);
   struct fma_kernel k;
   fma_kernel_init(b, &k, bench_count(b, 2048, 64), VKT_MEM_READBACK);

   VkCommandBuffer cmd = bench_cmd_alloc(b);
   fma_kernel_record(&k, cmd, iterations, 1.0f, VK_NULL_HANDLE);
   VkFence fence = bench_fence_create(b);

   const double flops = (double)k.invocations * iterations * FMA_ACCUMULATORS * FMA_LANES *
                        FMA_FLOPS_PER_LANE_ITERATION;
   double samples[BENCH_MAX_REPS];
   uint32_t bad = 0;
   /* rep 0 warms up (shader compilation may be deferred) and is not counted */
   for (uint32_t rep = 0; rep <= reps; rep++) {
      memset(k.out.map, 0, k.out.size);
      vkt_buffer_flush(&b->ctx, &k.out);
      const uint64_t ns = bench_submit_wait(b, cmd, fence);
      if (rep)
         samples[rep - 1] = flops / (double)ns; /* flops per ns = GFLOP/s */
      bad += fma_kernel_check(b, &k, iterations, 1.0f, "compute");
   }
   vkt_check(&b->ctx, !bad, "compute: %u wrong result(s)", bad);
   bench_report("compute_fma", "GFLOP/s", bench_median(samples, reps));

   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   fma_kernel_fini(b, &k);
}

/* GPU time of one run of iterations, from the timestamps, in ns */
static double
latency_gpu_ns(struct bench *b, VkQueryPool timestamps, double period)
{
   uint64_t ts[2];
   VKT_CALL(vkGetQueryPoolResults(b->ctx.device, timestamps, 0, 2, sizeof(ts), ts,
                                  sizeof(uint64_t),
                                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
   return (double)(ts[1] - ts[0]) * period;
}

/*
 * latency: submit + wait of one small dispatch whose GPU time is swept from
 * about 10 us to 10 ms. The iteration count for each target is calibrated
 * on GPU timestamps, which measure the same GPU on every stack, so that the
 * stacks run (nearly) the same work; the wall time of submit to the fence
 * wait's return is reported with the GPU time beside it.
 */
void
bench_run_latency(struct bench *b)
{
   static const uint32_t targets_us[] = { 10, 100, 1000, 10000 };
   VkDevice dev = b->ctx.device;
   const uint32_t reps = bench_count(b, 31, 3);
   struct fma_kernel k;
   fma_kernel_init(b, &k, 1, VKT_MEM_READBACK);

   uint32_t valid_bits = b->ctx.queue_families[b->ctx.queue_family].timestampValidBits;
   const double period = b->ctx.props.limits.timestampPeriod;
   VkQueryPool timestamps = VK_NULL_HANDLE;
   if (valid_bits) {
      const VkQueryPoolCreateInfo info = {
         .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
         .queryType = VK_QUERY_TYPE_TIMESTAMP,
         .queryCount = 2,
      };
      VKT_CALL(vkCreateQueryPool(dev, &info, NULL, &timestamps));
   }
   VkCommandBuffer cmd = bench_cmd_alloc(b);
   VkFence fence = bench_fence_create(b);

   /* calibration: GPU ns per iteration from a run long enough to measure
    * (the wall time stands in where the queue has no timestamps) */
   uint32_t iterations = 1024;
   double ns_per_iteration = 0.0;
   for (;;) {
      fma_kernel_record(&k, cmd, iterations, 0.0f, timestamps);
      bench_submit_wait(b, cmd, fence); /* warm-up */
      double ns = (double)bench_submit_wait(b, cmd, fence);
      if (timestamps)
         ns = latency_gpu_ns(b, timestamps, period);
      VKT_CALL(vkResetCommandBuffer(cmd, 0));
      if (ns >= 2e6 || iterations >= (1u << 30)) {
         ns_per_iteration = ns / iterations;
         break;
      }
      iterations *= 4;
   }

   uint32_t bad = 0;
   for (uint32_t t = 0; t < sizeof(targets_us) / sizeof(targets_us[0]); t++) {
      double n = targets_us[t] * 1000.0 / (ns_per_iteration > 0 ? ns_per_iteration : 1.0);
      iterations = n < 1.0 ? 1u : n > (double)(1u << 30) ? (1u << 30) : (uint32_t)n;
      fma_kernel_record(&k, cmd, iterations, 0.0f, timestamps);
      double wall[64], gpu[64];
      bench_submit_wait(b, cmd, fence); /* warm-up */
      for (uint32_t rep = 0; rep < reps; rep++) {
         wall[rep] = (double)bench_submit_wait(b, cmd, fence) / 1000.0;
         gpu[rep] = timestamps ? latency_gpu_ns(b, timestamps, period) / 1000.0 : 0.0;
      }
      bad += fma_kernel_check(b, &k, iterations, 0.0f, "latency");
      VKT_CALL(vkResetCommandBuffer(cmd, 0));
      char name[64];
      snprintf(name, sizeof(name), "latency_%uus_wait", targets_us[t]);
      bench_report(name, "us", bench_median(wall, reps));
      if (timestamps) {
         snprintf(name, sizeof(name), "latency_%uus_gpu", targets_us[t]);
         bench_report(name, "us", bench_median(gpu, reps));
      }
   }
   vkt_check(&b->ctx, !bad, "latency: %u wrong result(s)", bad);

   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   if (timestamps)
      vkDestroyQueryPool(dev, timestamps, NULL);
   fma_kernel_fini(b, &k);
}

/*
 * hostcompute: the FMA kernel over 16 MiB of host-visible, coherent memory
 * (4M floats in, 4M out; VKT_MEM_UPLOAD on both), 256 iterations: how fast
 * the GPU reaches the memory an application maps. Reports GFLOP/s and, on
 * stderr, the memory types the buffers got.
 */
void
bench_run_hostcompute(struct bench *b)
{
   VkDevice dev = b->ctx.device;
   const uint32_t iterations = 256;
   const uint32_t reps = bench_count(b, 5, 2);
   struct fma_kernel k;
   fma_kernel_init(b, &k, bench_count(b, 65536, 1024), VKT_MEM_UPLOAD);
   for (uint32_t i = 0; i < 2; i++) {
      const struct vkt_buffer *buf = i ? &k.out : &k.in;
      fprintf(stderr, "vkbench: hostcompute: %s buffer in memory type %u (flags 0x%x, heap %u)\n",
              i ? "output" : "input", buf->memory_type,
              (unsigned)b->ctx.mem_props.memoryTypes[buf->memory_type].propertyFlags,
              b->ctx.mem_props.memoryTypes[buf->memory_type].heapIndex);
   }

   VkCommandBuffer cmd = bench_cmd_alloc(b);
   fma_kernel_record(&k, cmd, iterations, 1.0f, VK_NULL_HANDLE);
   VkFence fence = bench_fence_create(b);
   const double flops = (double)k.invocations * iterations * FMA_ACCUMULATORS * FMA_LANES *
                        FMA_FLOPS_PER_LANE_ITERATION;
   double samples[BENCH_MAX_REPS];
   uint32_t bad = 0;
   for (uint32_t rep = 0; rep <= reps; rep++) {
      const uint64_t ns = bench_submit_wait(b, cmd, fence);
      if (rep)
         samples[rep - 1] = flops / (double)ns;
      bad += fma_kernel_check(b, &k, iterations, 1.0f, "hostcompute");
   }
   vkt_check(&b->ctx, !bad, "hostcompute: %u wrong result(s)", bad);
   bench_report("hostcompute_fma", "GFLOP/s", bench_median(samples, reps));

   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   fma_kernel_fini(b, &k);
}
