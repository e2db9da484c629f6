/*
 * coopmat: a large fp16 matrix multiply on the host's matrix units through
 * VK_KHR_cooperative_matrix: D = A x B + C with A (M x K) and B (K x N) fp16,
 * C and D fp32, M = N = K = 4096 (512 with --short), all in device-local
 * memory. The shader (tests/vkt/vkt_coopmat.c) gives each subgroup 4 x 4
 * result tiles (VKBENCH_COOPMAT_TILES=RMxRN overrides) and loops over K. One
 * submission holds several dispatches (a barrier between them); the metric is
 * 2 M N K flops per dispatch over the submit-to-fence time, median of the
 * repetitions after a warm-up. The inputs are small integers, so D is exact
 * in fp32: 1024 sampled elements are compared with the CPU after the runs.
 * Skipped (no metric) where the extension, an fp16 x fp16 + fp32 subgroup
 * configuration or fp16 storage is missing.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt_coopmat.h"

#ifndef VK_KHR_cooperative_matrix

const void *
bench_coopmat_features(struct bench *b)
{
   b->has_coopmat = false;
   return NULL;
}

void
bench_run_coopmat(struct bench *b)
{
   (void)b;
   fprintf(stderr, "vkbench: coopmat: built with a Vulkan registry without "
                   "VK_KHR_cooperative_matrix: skipped\n");
}

#else

#define COOPMAT_BENCH_MAX_REPS 16u
#define COOPMAT_SAMPLES 1024u

static VkPhysicalDeviceCooperativeMatrixFeaturesKHR coopmat_enable_cm;
static VkPhysicalDeviceVulkan12Features coopmat_enable12;
static VkPhysicalDeviceVulkan11Features coopmat_enable11;

const void *
bench_coopmat_features(struct bench *b)
{
   b->has_coopmat = false;
   if (!vkt_has_device_extension(&b->ctx, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME))
      return NULL;
   VkPhysicalDeviceCooperativeMatrixFeaturesKHR cm = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
   };
   VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &cm,
   };
   VkPhysicalDeviceVulkan11Features f11 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
      .pNext = &f12,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &f11,
   };
   vkGetPhysicalDeviceFeatures2(b->ctx.physical_device, &features);
   if (!cm.cooperativeMatrix || !f12.shaderFloat16 || !f11.storageBuffer16BitAccess)
      return NULL;
   coopmat_enable_cm = (VkPhysicalDeviceCooperativeMatrixFeaturesKHR){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
      .cooperativeMatrix = VK_TRUE,
   };
   coopmat_enable12 = (VkPhysicalDeviceVulkan12Features){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &coopmat_enable_cm,
      .shaderFloat16 = VK_TRUE,
      .timelineSemaphore = b->has_timeline,
   };
   coopmat_enable11 = (VkPhysicalDeviceVulkan11Features){
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
      .pNext = &coopmat_enable12,
      .storageBuffer16BitAccess = VK_TRUE,
   };
   b->has_coopmat = true;
   return &coopmat_enable11;
}

/* An fp16 x fp16 + fp32 subgroup configuration, 16x16x16 preferred. */
static bool
coopmat_pick(struct bench *b, VkCooperativeMatrixPropertiesKHR *out)
{
   PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR get_props =
      (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR)vkGetInstanceProcAddr(
         b->ctx.instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
   if (!get_props)
      return false;
   uint32_t count = 0;
   VKT_CALL(get_props(b->ctx.physical_device, &count, NULL));
   VkCooperativeMatrixPropertiesKHR *list = calloc(count ? count : 1, sizeof(*list));
   if (!list)
      vkt_die("coopmat: out of memory");
   for (uint32_t i = 0; i < count; i++)
      list[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
   VKT_CALL(get_props(b->ctx.physical_device, &count, list));
   bool found = false;
   for (uint32_t i = 0; i < count; i++) {
      const VkCooperativeMatrixPropertiesKHR *p = &list[i];
      if (p->AType != VK_COMPONENT_TYPE_FLOAT16_KHR ||
          p->BType != VK_COMPONENT_TYPE_FLOAT16_KHR ||
          p->CType != VK_COMPONENT_TYPE_FLOAT32_KHR ||
          p->ResultType != VK_COMPONENT_TYPE_FLOAT32_KHR || p->scope != VK_SCOPE_SUBGROUP_KHR ||
          p->saturatingAccumulation || p->MSize > 64 || p->NSize > 64 || p->KSize > 64)
         continue;
      const bool preferred = p->MSize == 16 && p->NSize == 16 && p->KSize == 16;
      if (!found || preferred)
         *out = *p;
      found = true;
      if (preferred)
         break;
   }
   free(list);
   return found;
}

/* a device-local buffer filled from host memory through a staging buffer */
static void
coopmat_upload(struct bench *b, const void *data, VkDeviceSize size, struct vkt_buffer *out)
{
   vkt_buffer_create(&b->ctx, size,
                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                     VKT_MEM_DEVICE, out);
   struct vkt_buffer staging;
   vkt_buffer_create(&b->ctx, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_UPLOAD, &staging);
   memcpy(staging.map, data, (size_t)size);
   vkt_buffer_flush(&b->ctx, &staging);
   VkCommandBuffer cmd = vkt_cmd_begin(&b->ctx);
   const VkBufferCopy region = { 0, 0, size };
   vkCmdCopyBuffer(cmd, staging.buffer, out->buffer, 1, &region);
   vkt_cmd_submit_wait(&b->ctx, cmd);
   vkt_buffer_destroy(&b->ctx, &staging);
}

static int32_t
coopmat_value(uint32_t *state, int32_t range)
{
   *state ^= *state << 13;
   *state ^= *state >> 17;
   *state ^= *state << 5;
   return (int32_t)(*state % (uint32_t)(2 * range + 1)) - range;
}

void
bench_run_coopmat(struct bench *b)
{
   VkCooperativeMatrixPropertiesKHR cfg;
   if (!b->has_coopmat || !coopmat_pick(b, &cfg)) {
      fprintf(stderr, "vkbench: coopmat: no VK_KHR_cooperative_matrix with an fp16 x fp16 + "
                      "fp32 subgroup configuration and fp16 storage: skipped\n");
      return;
   }
   VkDevice dev = b->ctx.device;
   const uint32_t size = bench_count(b, 4096, 512);
   const uint32_t dispatches = bench_count(b, 8, 2);
   const uint32_t reps = bench_count(b, 5, 2);

   VkPhysicalDeviceVulkan11Properties props11 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES,
   };
   VkPhysicalDeviceProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &props11,
   };
   vkGetPhysicalDeviceProperties2(b->ctx.physical_device, &props);

   struct vkt_coopmat_shader desc = {
      .m = size, .n = size, .k = size,
      .tm = cfg.MSize, .tn = cfg.NSize, .tk = cfg.KSize,
      .rm = 4, .rn = 4,
      .subgroup_size = props11.subgroupSize,
      .acc_f32 = true,
   };
   const char *tiles = getenv("VKBENCH_COOPMAT_TILES");
   if (tiles && sscanf(tiles, "%ux%u", &desc.rm, &desc.rn) != 2)
      vkt_die("coopmat: VKBENCH_COOPMAT_TILES=%s is not RMxRN", tiles);
   size_t word_count = 0;
   uint32_t *words = vkt_coopmat_spirv(&desc, &word_count);
   if (!words)
      vkt_die("coopmat: no shader for %ux%ux%u tiles, %ux%u per subgroup, size %u", desc.tm,
              desc.tn, desc.tk, desc.rm, desc.rn, size);
   fprintf(stderr, "vkbench: coopmat: %ux%ux%u fp16 x fp16 + fp32, subgroup %u, %ux%u tiles "
                   "per subgroup, %u^3, %u dispatches per submission\n",
           desc.tm, desc.tn, desc.tk, desc.subgroup_size, desc.rm, desc.rn, size, dispatches);

   /* inputs: A, B in [-2, 2], C in [-8, 8]: |D| <= 4 K + 8, exact in fp32 */
   const size_t elems = (size_t)size * size;
   int8_t *ai = malloc(elems), *bi = malloc(elems), *ci = malloc(elems);
   uint16_t *half = malloc(elems * sizeof(uint16_t));
   float *single = malloc(elems * sizeof(float));
   if (!ai || !bi || !ci || !half || !single)
      vkt_die("coopmat: out of memory");
   uint32_t state = 0x2545f491u;
   struct vkt_buffer a, bb, c, d;
   for (size_t i = 0; i < elems; i++) {
      ai[i] = (int8_t)coopmat_value(&state, 2);
      half[i] = vkt_half_from_float((float)ai[i]);
   }
   coopmat_upload(b, half, elems * sizeof(uint16_t), &a);
   for (size_t i = 0; i < elems; i++) {
      bi[i] = (int8_t)coopmat_value(&state, 2);
      half[i] = vkt_half_from_float((float)bi[i]);
   }
   coopmat_upload(b, half, elems * sizeof(uint16_t), &bb);
   for (size_t i = 0; i < elems; i++) {
      ci[i] = (int8_t)coopmat_value(&state, 8);
      single[i] = (float)ci[i];
   }
   coopmat_upload(b, single, elems * sizeof(float), &c);
   memset(single, 0xff, elems * sizeof(float)); /* NaN: an unwritten element fails */
   coopmat_upload(b, single, elems * sizeof(float), &d);
   free(half);
   free(single);

   VkDescriptorSetLayout set_layout = bench_storage_set_layout(b, 4);
   VkPipelineLayout layout = bench_pipeline_layout(b, set_layout, 0, 0);
   const VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4 };
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
   const VkDescriptorBufferInfo infos[4] = {
      { a.buffer, 0, VK_WHOLE_SIZE },
      { bb.buffer, 0, VK_WHOLE_SIZE },
      { c.buffer, 0, VK_WHOLE_SIZE },
      { d.buffer, 0, VK_WHOLE_SIZE },
   };
   VkWriteDescriptorSet writes[4];
   for (uint32_t i = 0; i < 4; i++) {
      writes[i] = (VkWriteDescriptorSet){
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = set,
         .dstBinding = i,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &infos[i],
      };
   }
   vkUpdateDescriptorSets(dev, 4, writes, 0, NULL);

   const VkShaderModuleCreateInfo module_info = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = word_count * sizeof(uint32_t),
      .pCode = words,
   };
   VkShaderModule module;
   VKT_CALL(vkCreateShaderModule(dev, &module_info, NULL, &module));
   free(words);
   VkPipeline pipeline = vkt_compute_pipeline_create(&b->ctx, module, layout, NULL);

   VkCommandBuffer cmd = bench_cmd_alloc(b);
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
   };
   VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
   /* the uploads (earlier submissions) before the shader reads and writes */
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
   for (uint32_t i = 0; i < dispatches; i++) {
      if (i)
         vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                VK_ACCESS_SHADER_WRITE_BIT);
      vkCmdDispatch(cmd, size / (desc.rn * desc.tn), size / (desc.rm * desc.tm), 1);
   }
   VKT_CALL(vkEndCommandBuffer(cmd));
   VkFence fence = bench_fence_create(b);

   const double flops = 2.0 * size * size * (double)size * dispatches;
   double samples[COOPMAT_BENCH_MAX_REPS];
   /* rep 0 warms up (pipeline compilation may be deferred) and is not counted */
   for (uint32_t rep = 0; rep <= reps; rep++) {
      const uint64_t ns = bench_submit_wait(b, cmd, fence);
      if (rep)
         samples[rep - 1] = flops / (double)ns / 1000.0; /* flops per ns / 1000 = TFLOP/s */
   }

   /* D read back; sampled elements against the CPU */
   struct vkt_buffer readback;
   vkt_buffer_create(&b->ctx, elems * sizeof(float), VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_READBACK, &readback);
   VkCommandBuffer copy = vkt_cmd_begin(&b->ctx);
   vkt_cmd_memory_barrier(copy, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
   const VkBufferCopy region = { 0, 0, elems * sizeof(float) };
   vkCmdCopyBuffer(copy, d.buffer, readback.buffer, 1, &region);
   vkt_cmd_memory_barrier(copy, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&b->ctx, copy);
   vkt_buffer_invalidate(&b->ctx, &readback);
   const float *result = readback.map;
   uint32_t wrong = 0;
   uint32_t pick = 0x1234567u;
   for (uint32_t s = 0; s < COOPMAT_SAMPLES; s++) {
      /* the four corners of the matrix, then positions spread over it */
      uint32_t row, col;
      if (s < 4) {
         row = (s & 1) ? size - 1 : 0;
         col = (s & 2) ? size - 1 : 0;
      } else {
         row = (uint32_t)coopmat_value(&pick, 1 << 20) & (size - 1);
         col = (uint32_t)coopmat_value(&pick, 1 << 20) & (size - 1);
      }
      int32_t want = ci[(size_t)row * size + col];
      for (uint32_t x = 0; x < size; x++)
         want += ai[(size_t)row * size + x] * bi[(size_t)x * size + col];
      const float got = result[(size_t)row * size + col];
      if (got != (float)want) {
         if (wrong < 5)
            fprintf(stderr, "coopmat: D[%u][%u] = %g, expected %d\n", row, col, (double)got,
                    want);
         wrong++;
      }
   }
   vkt_check(&b->ctx, !wrong, "coopmat: %u of %u sampled elements wrong", wrong,
             COOPMAT_SAMPLES);
   bench_report("coopmat_matmul", "TFLOP/s", bench_median(samples, reps));

   vkt_buffer_destroy(&b->ctx, &readback);
   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, module, NULL);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_buffer_destroy(&b->ctx, &a);
   vkt_buffer_destroy(&b->ctx, &bb);
   vkt_buffer_destroy(&b->ctx, &c);
   vkt_buffer_destroy(&b->ctx, &d);
   free(ai);
   free(bi);
   free(ci);
}

#endif
