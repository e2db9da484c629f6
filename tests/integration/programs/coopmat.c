/*
 * coopmat: VK_KHR_cooperative_matrix. Lists the device's cooperative matrix
 * properties (two-call idiom, and a short array answered VK_INCOMPLETE), then
 * for every offered subgroup-scope configuration with fp16 A and B and an fp16
 * or fp32 accumulator runs D = A x B + C with a cooperative-matrix shader
 * (vkt_coopmat.c emits its SPIR-V), one result tile and 2 x 2 result tiles per
 * subgroup, and checks every element of D against the CPU. The inputs are
 * small integers, so every product and sum is exact in fp16 and fp32 and the
 * result does not depend on the order of the additions. Prints the properties
 * and a digest of each D. Exit 77 where the extension (or fp16 storage) is
 * absent, and when built with a Vulkan registry that lacks the extension.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"
#include "vkt_coopmat.h"

#ifndef VK_KHR_cooperative_matrix

int
main(void)
{
   fprintf(stderr, "coopmat: built with a Vulkan registry without VK_KHR_cooperative_matrix: "
                   "skipped\n");
   return 77;
}

#else

#define COOPMAT_MAX_PROPS 256u

static const char *
component_name(VkComponentTypeKHR t)
{
   switch (t) {
   case VK_COMPONENT_TYPE_FLOAT16_KHR: return "f16";
   case VK_COMPONENT_TYPE_FLOAT32_KHR: return "f32";
   case VK_COMPONENT_TYPE_FLOAT64_KHR: return "f64";
   case VK_COMPONENT_TYPE_SINT8_KHR: return "s8";
   case VK_COMPONENT_TYPE_SINT16_KHR: return "s16";
   case VK_COMPONENT_TYPE_SINT32_KHR: return "s32";
   case VK_COMPONENT_TYPE_SINT64_KHR: return "s64";
   case VK_COMPONENT_TYPE_UINT8_KHR: return "u8";
   case VK_COMPONENT_TYPE_UINT16_KHR: return "u16";
   case VK_COMPONENT_TYPE_UINT32_KHR: return "u32";
   case VK_COMPONENT_TYPE_UINT64_KHR: return "u64";
   default: return "other";
   }
}

static const char *
scope_name(VkScopeKHR s)
{
   switch (s) {
   case VK_SCOPE_DEVICE_KHR: return "device";
   case VK_SCOPE_WORKGROUP_KHR: return "workgroup";
   case VK_SCOPE_SUBGROUP_KHR: return "subgroup";
   case VK_SCOPE_QUEUE_FAMILY_KHR: return "queuefamily";
   default: return "other";
   }
}

/* deterministic small integers in [-range, range] */
static int32_t
coopmat_value(uint32_t *state, int32_t range)
{
   *state ^= *state << 13;
   *state ^= *state >> 17;
   *state ^= *state << 5;
   return (int32_t)(*state % (uint32_t)(2 * range + 1)) - range;
}

struct coopmat_pipeline {
   VkDescriptorSetLayout set_layout;
   VkPipelineLayout layout;
   VkDescriptorPool pool;
   VkDescriptorSet set;
};

static void
coopmat_pipeline_init(struct vkt_context *ctx, struct coopmat_pipeline *p)
{
   VkDevice dev = ctx->device;
   VkDescriptorSetLayoutBinding bindings[4];
   for (uint32_t i = 0; i < 4; i++) {
      bindings[i] = (VkDescriptorSetLayoutBinding){
         .binding = i,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .descriptorCount = 1,
         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
      };
   }
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 4,
      .pBindings = bindings,
   };
   VKT_CALL(vkCreateDescriptorSetLayout(dev, &set_layout_info, NULL, &p->set_layout));
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &p->set_layout,
   };
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &p->layout));
   const VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4 };
   const VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &pool_size,
   };
   VKT_CALL(vkCreateDescriptorPool(dev, &pool_info, NULL, &p->pool));
   const VkDescriptorSetAllocateInfo set_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = p->pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &p->set_layout,
   };
   VKT_CALL(vkAllocateDescriptorSets(dev, &set_info, &p->set));
}

static void
coopmat_pipeline_fini(struct vkt_context *ctx, struct coopmat_pipeline *p)
{
   vkDestroyDescriptorPool(ctx->device, p->pool, NULL);
   vkDestroyPipelineLayout(ctx->device, p->layout, NULL);
   vkDestroyDescriptorSetLayout(ctx->device, p->set_layout, NULL);
}

/* One D = A x B + C of the shape in desc; every element checked; prints the
 * digest of D under `label`. */
static void
coopmat_run(struct vkt_context *ctx,
            struct coopmat_pipeline *p,
            const struct vkt_coopmat_shader *desc,
            const char *label)
{
   VkDevice dev = ctx->device;
   const uint32_t m = desc->m, n = desc->n, k = desc->k;
   const size_t acc_size = desc->acc_f32 ? 4 : 2;
   struct vkt_buffer a, b, c, d;
   vkt_buffer_create(ctx, (VkDeviceSize)m * k * 2, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                     VKT_MEM_UPLOAD, &a);
   vkt_buffer_create(ctx, (VkDeviceSize)k * n * 2, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                     VKT_MEM_UPLOAD, &b);
   vkt_buffer_create(ctx, (VkDeviceSize)m * n * acc_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                     VKT_MEM_UPLOAD, &c);
   vkt_buffer_create(ctx, (VkDeviceSize)m * n * acc_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                     VKT_MEM_READBACK, &d);

   int32_t *ai = malloc(sizeof(int32_t) * m * k);
   int32_t *bi = malloc(sizeof(int32_t) * k * n);
   int32_t *ci = malloc(sizeof(int32_t) * m * n);
   if (!ai || !bi || !ci)
      vkt_die("coopmat: out of memory");
   uint32_t state = 0x9e3779b9u ^ (m * 131u + n * 17u + k);
   uint16_t *ah = a.map, *bh = b.map;
   for (uint32_t i = 0; i < m * k; i++) {
      ai[i] = coopmat_value(&state, 3);
      ah[i] = vkt_half_from_float((float)ai[i]);
   }
   for (uint32_t i = 0; i < k * n; i++) {
      bi[i] = coopmat_value(&state, 3);
      bh[i] = vkt_half_from_float((float)bi[i]);
   }
   for (uint32_t i = 0; i < m * n; i++) {
      ci[i] = coopmat_value(&state, 8);
      if (desc->acc_f32)
         ((float *)c.map)[i] = (float)ci[i];
      else
         ((uint16_t *)c.map)[i] = vkt_half_from_float((float)ci[i]);
   }
   memset(d.map, 0xff, d.size); /* NaN in either type: an unwritten element fails */
   vkt_buffer_flush(ctx, &a);
   vkt_buffer_flush(ctx, &b);
   vkt_buffer_flush(ctx, &c);
   vkt_buffer_flush(ctx, &d);

   const VkDescriptorBufferInfo infos[4] = {
      { a.buffer, 0, VK_WHOLE_SIZE },
      { b.buffer, 0, VK_WHOLE_SIZE },
      { c.buffer, 0, VK_WHOLE_SIZE },
      { d.buffer, 0, VK_WHOLE_SIZE },
   };
   VkWriteDescriptorSet writes[4];
   for (uint32_t i = 0; i < 4; i++) {
      writes[i] = (VkWriteDescriptorSet){
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = p->set,
         .dstBinding = i,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &infos[i],
      };
   }
   vkUpdateDescriptorSets(dev, 4, writes, 0, NULL);

   size_t word_count = 0;
   uint32_t *words = vkt_coopmat_spirv(desc, &word_count);
   if (!words)
      vkt_die("coopmat: %s: no SPIR-V for this shape", label);
   const VkShaderModuleCreateInfo module_info = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = word_count * sizeof(uint32_t),
      .pCode = words,
   };
   VkShaderModule module;
   VKT_CALL(vkCreateShaderModule(dev, &module_info, NULL, &module));
   free(words);
   VkPipeline pipeline = vkt_compute_pipeline_create(ctx, module, p->layout, NULL);

   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &p->set, 0,
                           NULL);
   vkCmdDispatch(cmd, n / (desc->rn * desc->tn), m / (desc->rm * desc->tm), 1);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, &d);

   uint32_t wrong = 0;
   for (uint32_t i = 0; i < m; i++) {
      for (uint32_t j = 0; j < n; j++) {
         int32_t want = ci[i * n + j];
         for (uint32_t x = 0; x < k; x++)
            want += ai[i * k + x] * bi[x * n + j];
         const float got = desc->acc_f32 ? ((const float *)d.map)[i * n + j]
                                         : vkt_half_to_float(((const uint16_t *)d.map)[i * n + j]);
         if (got != (float)want) {
            if (wrong < 5)
               fprintf(stderr, "coopmat: %s: D[%u][%u] = %g, expected %d\n", label, i, j,
                       (double)got, want);
            wrong++;
         }
      }
   }
   vkt_check(ctx, !wrong, "coopmat: %s: %u of %u elements wrong", label, wrong, m * n);
   char name[96];
   snprintf(name, sizeof(name), "coopmat_%s_digest", label);
   vkt_print_hex(name, vkt_digest(d.map, (size_t)d.size));

   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, module, NULL);
   free(ai);
   free(bi);
   free(ci);
   vkt_buffer_destroy(ctx, &a);
   vkt_buffer_destroy(ctx, &b);
   vkt_buffer_destroy(ctx, &c);
   vkt_buffer_destroy(ctx, &d);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "coopmat");
   if (!vkt_has_device_extension(&ctx, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME)) {
      fprintf(stderr, "coopmat: the device lacks %s: skipped\n",
              VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
      vkt_finish(&ctx);
      return 77;
   }
   VkPhysicalDeviceCooperativeMatrixFeaturesKHR cm_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
   };
   VkPhysicalDeviceVulkan12Features features12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &cm_features,
   };
   VkPhysicalDeviceVulkan11Features features11 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
      .pNext = &features12,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &features11,
   };
   vkGetPhysicalDeviceFeatures2(ctx.physical_device, &features);
   vkt_print_u64("coopmat_feature_cooperative_matrix", "bool", cm_features.cooperativeMatrix);
   vkt_print_u64("coopmat_feature_robust_buffer_access", "bool",
                 cm_features.cooperativeMatrixRobustBufferAccess);
   if (!cm_features.cooperativeMatrix || !features12.shaderFloat16 ||
       !features11.storageBuffer16BitAccess) {
      fprintf(stderr, "coopmat: cooperativeMatrix %u, shaderFloat16 %u, "
                      "storageBuffer16BitAccess %u: skipped\n",
              cm_features.cooperativeMatrix, features12.shaderFloat16,
              features11.storageBuffer16BitAccess);
      vkt_finish(&ctx);
      return 77;
   }

   VkPhysicalDeviceCooperativeMatrixPropertiesKHR cm_props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_KHR,
   };
   VkPhysicalDeviceVulkan11Properties props11 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES,
      .pNext = &cm_props,
   };
   VkPhysicalDeviceProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &props11,
   };
   vkGetPhysicalDeviceProperties2(ctx.physical_device, &props);
   vkt_print_hex("coopmat_supported_stages", cm_props.cooperativeMatrixSupportedStages);
   vkt_check(&ctx, cm_props.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT,
             "coopmat: compute is not among the supported stages");

   /* the property list: count, then the array; then a short array */
   PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR get_props =
      (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR)vkGetInstanceProcAddr(
         ctx.instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
   if (!get_props)
      vkt_die("coopmat: no vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
   uint32_t count = 0;
   VKT_CALL(get_props(ctx.physical_device, &count, NULL));
   vkt_print_u64("coopmat_property_count", "count", count);
   if (!count || count > COOPMAT_MAX_PROPS)
      vkt_die("coopmat: %u properties", count);
   VkCooperativeMatrixPropertiesKHR list[COOPMAT_MAX_PROPS];
   for (uint32_t i = 0; i < count; i++)
      list[i] = (VkCooperativeMatrixPropertiesKHR){
         .sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR,
      };
   uint32_t got = count;
   VKT_CALL(get_props(ctx.physical_device, &got, list));
   vkt_check(&ctx, got == count, "coopmat: %u properties, then %u", count, got);
   if (count > 1) {
      VkCooperativeMatrixPropertiesKHR part[COOPMAT_MAX_PROPS];
      for (uint32_t i = 0; i < count; i++)
         part[i] = (VkCooperativeMatrixPropertiesKHR){
            .sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR,
         };
      uint32_t short_count = count - 1;
      const VkResult r = get_props(ctx.physical_device, &short_count, part);
      vkt_check(&ctx, r == VK_INCOMPLETE && short_count == count - 1,
                "coopmat: a short array: %s, %u written", vkt_result_string(r), short_count);
      for (uint32_t i = 0; i < count - 1; i++) {
         vkt_check(&ctx, part[i].MSize == list[i].MSize && part[i].NSize == list[i].NSize &&
                            part[i].KSize == list[i].KSize && part[i].AType == list[i].AType &&
                            part[i].CType == list[i].CType &&
                            part[i].ResultType == list[i].ResultType &&
                            part[i].scope == list[i].scope,
                   "coopmat: a short array's element %u differs", i);
      }
   }
   for (uint32_t i = 0; i < count; i++) {
      const VkCooperativeMatrixPropertiesKHR *p = &list[i];
      printf("coopmat_property_%u config %ux%ux%u_A%s_B%s_C%s_R%s_%s_sat%u\n", i, p->MSize,
             p->NSize, p->KSize, component_name(p->AType), component_name(p->BType),
             component_name(p->CType), component_name(p->ResultType), scope_name(p->scope),
             p->saturatingAccumulation);
   }

   VkPhysicalDeviceCooperativeMatrixFeaturesKHR cm_enable = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
      .cooperativeMatrix = VK_TRUE,
   };
   VkPhysicalDeviceVulkan12Features enable12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &cm_enable,
      .shaderFloat16 = VK_TRUE,
   };
   VkPhysicalDeviceVulkan11Features enable11 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
      .pNext = &enable12,
      .storageBuffer16BitAccess = VK_TRUE,
   };
   const char *extension = VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME;
   const struct vkt_device_info info = {
      .next = &enable11,
      .extensions = &extension,
      .extension_count = 1,
   };
   vkt_device_init(&ctx, &info);

   struct coopmat_pipeline pipe;
   coopmat_pipeline_init(&ctx, &pipe);
   uint32_t runs = 0;
   for (uint32_t i = 0; i < count; i++) {
      const VkCooperativeMatrixPropertiesKHR *p = &list[i];
      if (p->AType != VK_COMPONENT_TYPE_FLOAT16_KHR ||
          p->BType != VK_COMPONENT_TYPE_FLOAT16_KHR || p->CType != p->ResultType ||
          (p->CType != VK_COMPONENT_TYPE_FLOAT16_KHR &&
           p->CType != VK_COMPONENT_TYPE_FLOAT32_KHR) ||
          p->scope != VK_SCOPE_SUBGROUP_KHR || p->saturatingAccumulation)
         continue;
      if (p->MSize > 64 || p->NSize > 64 || p->KSize > 64)
         continue;
      for (uint32_t tiles = 1; tiles <= 2; tiles++) {
         const struct vkt_coopmat_shader desc = {
            .m = 4 * p->MSize,
            .n = 6 * p->NSize,
            .k = 5 * p->KSize,
            .tm = p->MSize,
            .tn = p->NSize,
            .tk = p->KSize,
            .rm = tiles,
            .rn = tiles,
            .subgroup_size = props11.subgroupSize,
            .acc_f32 = p->CType == VK_COMPONENT_TYPE_FLOAT32_KHR,
         };
         char label[64];
         snprintf(label, sizeof(label), "%u_%ux%ux%u_%s_%ux%u", i, p->MSize, p->NSize,
                  p->KSize, component_name(p->CType), tiles, tiles);
         coopmat_run(&ctx, &pipe, &desc, label);
         runs++;
      }
   }
   vkt_print_u64("coopmat_runs", "count", runs);
   vkt_check(&ctx, runs > 0, "coopmat: no fp16 subgroup configuration offered");
   coopmat_pipeline_fini(&ctx, &pipe);
   return vkt_finish(&ctx);
}

#endif
