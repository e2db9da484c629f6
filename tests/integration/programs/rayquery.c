/*
 * rayquery: VK_KHR_ray_query in a compute shader. A BLAS of three triangles
 * (built on the device, compacted through a compacted-size query and a
 * COMPACT copy) and a TLAS of three translated instances of it; one ray per
 * invocation over a 48 x 48 grid writes the closest hit (instance, triangle,
 * t) or a miss. Every ray that does not graze an edge is checked against the
 * CPU; the digest of the whole buffer is printed. Exits 77 where the device
 * lacks ray queries (e.g. lavapipe before Mesa 23).
 */
#include <stdio.h>
#include <string.h>

#include "rt_util.h"

#define RQ_WIDTH 48u
#define RQ_COUNT (RQ_WIDTH * RQ_WIDTH)

struct rq_push {
   uint32_t width;
   uint32_t count;
};

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "rayquery");
   static const char *const exts[] = {
      VK_KHR_ACCELERATION_STRUCTURE_EXTENSION_NAME,
      VK_KHR_DEFERRED_HOST_OPERATIONS_EXTENSION_NAME,
      VK_KHR_RAY_QUERY_EXTENSION_NAME,
   };
   for (uint32_t i = 0; i < 3; i++) {
      if (!vkt_has_device_extension(&ctx, exts[i])) {
         fprintf(stderr, "rayquery: SKIP: the device lacks %s\n", exts[i]);
         return RT_SKIP;
      }
   }
   VkPhysicalDeviceRayQueryFeaturesKHR rq_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_QUERY_FEATURES_KHR,
   };
   VkPhysicalDeviceAccelerationStructureFeaturesKHR as_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR,
      .pNext = &rq_features,
   };
   VkPhysicalDeviceVulkan12Features v12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &as_features,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &v12,
   };
   vkGetPhysicalDeviceFeatures2(ctx.physical_device, &features);
   if (!rq_features.rayQuery || !as_features.accelerationStructure || !v12.bufferDeviceAddress) {
      fprintf(stderr, "rayquery: SKIP: rayQuery, accelerationStructure or bufferDeviceAddress "
                      "is off\n");
      return RT_SKIP;
   }
   /* enable just what the program uses */
   VkPhysicalDeviceRayQueryFeaturesKHR rq_on = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_QUERY_FEATURES_KHR,
      .rayQuery = VK_TRUE,
   };
   VkPhysicalDeviceAccelerationStructureFeaturesKHR as_on = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR,
      .pNext = &rq_on,
      .accelerationStructure = VK_TRUE,
   };
   VkPhysicalDeviceVulkan12Features v12_on = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &as_on,
      .bufferDeviceAddress = VK_TRUE,
   };
   const struct vkt_device_info info = {
      .next = &v12_on,
      .extensions = exts,
      .extension_count = 3,
   };
   vkt_device_init(&ctx, &info);
   VkDevice dev = ctx.device;

   VkPhysicalDeviceAccelerationStructurePropertiesKHR as_props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_PROPERTIES_KHR,
   };
   VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &as_props };
   vkGetPhysicalDeviceProperties2(ctx.physical_device, &props);
   vkt_check(&ctx, as_props.maxInstanceCount >= RT_INSTANCES, "maxInstanceCount %llu",
             (unsigned long long)as_props.maxInstanceCount);

   struct rt_fns f;
   rt_fns_load(dev, &f);
   struct rt_scene scene;
   rt_scene_build(&ctx, &f, &scene, as_props.minAccelerationStructureScratchOffsetAlignment,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);

   struct rt_buffer out;
   rt_buffer_create(&ctx, RQ_COUNT * 16, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &out);
   memset(out.map, 0xa5, RQ_COUNT * 16);

   const VkDescriptorSetLayoutBinding bindings[2] = {
      { 0, VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
   };
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 2,
      .pBindings = bindings,
   };
   VkDescriptorSetLayout set_layout;
   VKT_CALL(vkCreateDescriptorSetLayout(dev, &set_layout_info, NULL, &set_layout));
   const VkPushConstantRange push_range = { VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                            sizeof(struct rq_push) };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push_range,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));
   const VkDescriptorPoolSize pool_sizes[2] = {
      { VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1 },
      { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 },
   };
   const VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 2,
      .pPoolSizes = pool_sizes,
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
   const VkWriteDescriptorSetAccelerationStructureKHR as_write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_ACCELERATION_STRUCTURE_KHR,
      .accelerationStructureCount = 1,
      .pAccelerationStructures = &scene.tlas.as,
   };
   const VkDescriptorBufferInfo out_info = { out.buffer, 0, VK_WHOLE_SIZE };
   const VkWriteDescriptorSet writes[2] = {
      {
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .pNext = &as_write,
         .dstSet = set,
         .dstBinding = 0,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR,
      },
      {
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = set,
         .dstBinding = 1,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &out_info,
      },
   };
   vkUpdateDescriptorSets(dev, 2, writes, 0, NULL);

   VkShaderModule module = vkt_shader_load(&ctx, "rayquery.comp.spv");
   VkPipeline pipeline = vkt_compute_pipeline_create(&ctx, module, layout, NULL);

   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
   const struct rq_push push = { RQ_WIDTH, RQ_COUNT };
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), &push);
   vkCmdDispatch(cmd, (RQ_COUNT + 63) / 64, 1, 1);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&ctx, cmd);

   const uint32_t *r = out.map;
   uint32_t hits = 0, checked = 0, per_instance[RT_INSTANCES] = { 0 };
   for (uint32_t i = 0; i < RQ_COUNT; i++) {
      const float x = -2.0f + 4.0f * ((float)(i % RQ_WIDTH) + 0.5f) / (float)RQ_WIDTH;
      const float y = -2.0f + 4.0f * ((float)(i / RQ_WIDTH) + 0.5f) / (float)RQ_WIDTH;
      uint32_t inst = 0, prim = 0;
      float t = 0.0f, margin = 0.0f;
      const int hit = rt_cpu_hit(x, y, &inst, &prim, &t, &margin);
      const uint32_t *v = &r[i * 4];
      if (v[3] == 1) {
         hits++;
         if (v[0] < RT_INSTANCES)
            per_instance[v[0]]++;
      }
      if (margin < RT_MARGIN2)
         continue; /* grazes an edge: either answer is right */
      checked++;
      if (!hit) {
         vkt_check(&ctx, v[0] == 0xffffffffu && v[1] == 0xffffffffu && v[2] == 0 && v[3] == 0,
                   "ray %u (%.3f, %.3f): expected a miss, got %u %u %08x %u", i, x, y, v[0],
                   v[1], v[2], v[3]);
         continue;
      }
      float gt;
      memcpy(&gt, &v[2], sizeof(gt));
      const float dt = gt - t;
      vkt_check(&ctx, v[3] == 1 && v[0] == inst && v[1] == prim && dt < 1e-4f && dt > -1e-4f,
                "ray %u (%.3f, %.3f): expected instance %u triangle %u t %.4f, got %u %u %.4f %u",
                i, x, y, inst, prim, t, v[0], v[1], gt, v[3]);
   }
   vkt_check(&ctx, checked > RQ_COUNT / 2, "only %u of %u rays could be checked", checked,
             RQ_COUNT);
   for (uint32_t i = 0; i < RT_INSTANCES; i++)
      vkt_check(&ctx, per_instance[i] > 0, "no ray hit instance %u", i);

   vkt_print_u64("rayquery_hits", "rays", hits);
   for (uint32_t i = 0; i < RT_INSTANCES; i++) {
      char name[32];
      snprintf(name, sizeof(name), "rayquery_instance%u", i);
      vkt_print_u64(name, "rays", per_instance[i]);
   }
   vkt_print_hex("rayquery_digest", vkt_digest(out.map, RQ_COUNT * 16));

   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, module, NULL);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   rt_buffer_destroy(&ctx, &out);
   rt_scene_destroy(&ctx, &f, &scene);
   return vkt_finish(&ctx);
}
