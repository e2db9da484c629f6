/*
 * raytrace: a ray tracing pipeline (VK_KHR_ray_tracing_pipeline). The scene
 * of rayquery.c (a compacted BLAS of three triangles, a TLAS of three
 * instances) is traced into a 64 x 64 RGBA8 storage image by raygen / miss /
 * closest-hit shaders: the closest hit writes its instance and triangle as
 * red and green, a miss a fixed colour. The pipeline is created with a
 * deferred operation (joined if the driver defers it), its shader binding
 * table is built from vkGetRayTracingShaderGroupHandlesKHR, its stack size
 * set dynamically from vkGetRayTracingShaderGroupStackSizeKHR. The image is
 * traced with vkCmdTraceRaysKHR, vkCmdTraceRaysIndirectKHR and, where
 * VK_KHR_ray_tracing_maintenance1 offers it, vkCmdTraceRaysIndirect2KHR: the
 * three images must be identical, and every pixel that does not graze an
 * edge is checked against the CPU. Prints the image digest; writes
 * raytrace.ppm (argv[1] or $VKT_OUTPUT_DIR). Exits 77 where the device
 * lacks ray tracing pipelines (e.g. lavapipe before Mesa 24.1).
 */
#include <stdio.h>
#include <string.h>

#include "rt_util.h"

#define RT_SIZE 64u

struct rt_pipeline_fns {
   PFN_vkCreateRayTracingPipelinesKHR create;
   PFN_vkGetRayTracingShaderGroupHandlesKHR handles;
   PFN_vkGetRayTracingCaptureReplayShaderGroupHandlesKHR replay_handles;
   PFN_vkGetRayTracingShaderGroupStackSizeKHR stack_size;
   PFN_vkCmdSetRayTracingPipelineStackSizeKHR set_stack_size;
   PFN_vkCmdTraceRaysKHR trace;
   PFN_vkCmdTraceRaysIndirectKHR trace_indirect;
   PFN_vkCmdTraceRaysIndirect2KHR trace_indirect2; /* NULL without maintenance1 */
   PFN_vkCreateDeferredOperationKHR create_op;
   PFN_vkDestroyDeferredOperationKHR destroy_op;
   PFN_vkDeferredOperationJoinKHR join_op;
   PFN_vkGetDeferredOperationResultKHR op_result;
   PFN_vkGetDeferredOperationMaxConcurrencyKHR op_concurrency;
};

static const char *
rt_extension(uint32_t i)
{
   static const char *const names[] = {
      VK_KHR_ACCELERATION_STRUCTURE_EXTENSION_NAME,
      VK_KHR_DEFERRED_HOST_OPERATIONS_EXTENSION_NAME,
      VK_KHR_RAY_TRACING_PIPELINE_EXTENSION_NAME,
      VK_KHR_RAY_TRACING_MAINTENANCE_1_EXTENSION_NAME,
   };
   return names[i];
}

/* vkCreateRayTracingPipelinesKHR with a deferred operation: completed at
 * once (VK_OPERATION_NOT_DEFERRED_KHR, or VK_SUCCESS) or joined. */
static VkPipeline
rt_create_pipeline(struct vkt_context *ctx, const struct rt_pipeline_fns *p,
                   const VkRayTracingPipelineCreateInfoKHR *info)
{
   VkDevice dev = ctx->device;
   VkDeferredOperationKHR op;
   VKT_CALL(p->create_op(dev, NULL, &op));
   VkPipeline pipeline = VK_NULL_HANDLE;
   VkResult r = p->create(dev, op, VK_NULL_HANDLE, 1, info, NULL, &pipeline);
   if (r == VK_OPERATION_DEFERRED_KHR) {
      vkt_check(ctx, p->op_concurrency(dev, op) > 0, "deferred operation concurrency 0");
      VkResult j;
      do {
         j = p->join_op(dev, op);
      } while (j == VK_THREAD_IDLE_KHR);
      vkt_check(ctx, j == VK_SUCCESS || j == VK_THREAD_DONE_KHR, "join: %s",
                vkt_result_string(j));
      while ((r = p->op_result(dev, op)) == VK_NOT_READY)
         ;
   }
   vkt_check(ctx, r == VK_SUCCESS || r == VK_OPERATION_NOT_DEFERRED_KHR,
             "vkCreateRayTracingPipelinesKHR with a deferred operation: %s",
             vkt_result_string(r));
   p->destroy_op(dev, op, NULL);
   if (pipeline == VK_NULL_HANDLE)
      vkt_die("no ray tracing pipeline");
   return pipeline;
}

int
main(int argc, char **argv)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "raytrace");
   for (uint32_t i = 0; i < 3; i++) {
      if (!vkt_has_device_extension(&ctx, rt_extension(i))) {
         fprintf(stderr, "raytrace: SKIP: the device lacks %s\n", rt_extension(i));
         return RT_SKIP;
      }
   }
   const bool has_m1 = vkt_has_device_extension(&ctx, rt_extension(3));

   VkPhysicalDeviceRayTracingMaintenance1FeaturesKHR m1_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_MAINTENANCE_1_FEATURES_KHR,
   };
   VkPhysicalDeviceRayTracingPipelineFeaturesKHR rtp_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_FEATURES_KHR,
      .pNext = has_m1 ? &m1_features : NULL,
   };
   VkPhysicalDeviceAccelerationStructureFeaturesKHR as_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR,
      .pNext = &rtp_features,
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
   if (!rtp_features.rayTracingPipeline || !rtp_features.rayTracingPipelineTraceRaysIndirect ||
       !as_features.accelerationStructure || !v12.bufferDeviceAddress) {
      fprintf(stderr, "raytrace: SKIP: a needed ray tracing feature is off\n");
      return RT_SKIP;
   }
   const bool use_indirect2 = has_m1 && m1_features.rayTracingPipelineTraceRaysIndirect2;
   const bool use_replay = rtp_features.rayTracingPipelineShaderGroupHandleCaptureReplay;

   VkPhysicalDeviceRayTracingMaintenance1FeaturesKHR m1_on = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_MAINTENANCE_1_FEATURES_KHR,
      .rayTracingPipelineTraceRaysIndirect2 = use_indirect2,
   };
   VkPhysicalDeviceRayTracingPipelineFeaturesKHR rtp_on = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_FEATURES_KHR,
      .pNext = use_indirect2 ? &m1_on : NULL,
      .rayTracingPipeline = VK_TRUE,
      .rayTracingPipelineTraceRaysIndirect = VK_TRUE,
      .rayTracingPipelineShaderGroupHandleCaptureReplay = use_replay,
   };
   VkPhysicalDeviceAccelerationStructureFeaturesKHR as_on = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR,
      .pNext = &rtp_on,
      .accelerationStructure = VK_TRUE,
   };
   VkPhysicalDeviceVulkan12Features v12_on = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &as_on,
      .bufferDeviceAddress = VK_TRUE,
   };
   const char *exts[4] = { rt_extension(0), rt_extension(1), rt_extension(2), rt_extension(3) };
   const struct vkt_device_info info = {
      .next = &v12_on,
      .extensions = exts,
      .extension_count = use_indirect2 ? 4 : 3,
   };
   vkt_device_init(&ctx, &info);
   VkDevice dev = ctx.device;

   VkPhysicalDeviceRayTracingPipelinePropertiesKHR rt_props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_PROPERTIES_KHR,
   };
   VkPhysicalDeviceAccelerationStructurePropertiesKHR as_props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_PROPERTIES_KHR,
      .pNext = &rt_props,
   };
   VkPhysicalDeviceProperties2 props = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &as_props };
   vkGetPhysicalDeviceProperties2(ctx.physical_device, &props);
   const uint32_t handle_size = rt_props.shaderGroupHandleSize;
   vkt_check(&ctx, handle_size >= 4 && handle_size <= 256 && rt_props.maxRayRecursionDepth >= 1,
             "shaderGroupHandleSize %u, maxRayRecursionDepth %u", handle_size,
             rt_props.maxRayRecursionDepth);

   struct rt_fns f;
   rt_fns_load(dev, &f);
   struct rt_pipeline_fns p = {
      .create = (PFN_vkCreateRayTracingPipelinesKHR)rt_proc(dev, "vkCreateRayTracingPipelinesKHR"),
      .handles = (PFN_vkGetRayTracingShaderGroupHandlesKHR)rt_proc(dev, "vkGetRayTracingShaderGroupHandlesKHR"),
      .replay_handles = (PFN_vkGetRayTracingCaptureReplayShaderGroupHandlesKHR)rt_proc(dev, "vkGetRayTracingCaptureReplayShaderGroupHandlesKHR"),
      .stack_size = (PFN_vkGetRayTracingShaderGroupStackSizeKHR)rt_proc(dev, "vkGetRayTracingShaderGroupStackSizeKHR"),
      .set_stack_size = (PFN_vkCmdSetRayTracingPipelineStackSizeKHR)rt_proc(dev, "vkCmdSetRayTracingPipelineStackSizeKHR"),
      .trace = (PFN_vkCmdTraceRaysKHR)rt_proc(dev, "vkCmdTraceRaysKHR"),
      .trace_indirect = (PFN_vkCmdTraceRaysIndirectKHR)rt_proc(dev, "vkCmdTraceRaysIndirectKHR"),
      .trace_indirect2 = use_indirect2 ? (PFN_vkCmdTraceRaysIndirect2KHR)rt_proc(dev, "vkCmdTraceRaysIndirect2KHR") : NULL,
      .create_op = (PFN_vkCreateDeferredOperationKHR)rt_proc(dev, "vkCreateDeferredOperationKHR"),
      .destroy_op = (PFN_vkDestroyDeferredOperationKHR)rt_proc(dev, "vkDestroyDeferredOperationKHR"),
      .join_op = (PFN_vkDeferredOperationJoinKHR)rt_proc(dev, "vkDeferredOperationJoinKHR"),
      .op_result = (PFN_vkGetDeferredOperationResultKHR)rt_proc(dev, "vkGetDeferredOperationResultKHR"),
      .op_concurrency = (PFN_vkGetDeferredOperationMaxConcurrencyKHR)rt_proc(dev, "vkGetDeferredOperationMaxConcurrencyKHR"),
   };

   struct rt_scene scene;
   rt_scene_build(&ctx, &f, &scene, as_props.minAccelerationStructureScratchOffsetAlignment,
                  VK_PIPELINE_STAGE_RAY_TRACING_SHADER_BIT_KHR);

   struct vkt_image image;
   vkt_image_create(&ctx, VK_FORMAT_R8G8B8A8_UNORM, RT_SIZE, RT_SIZE,
                    VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
                       VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                    &image);

   /* descriptors: the TLAS and the image */
   const VkShaderStageFlags rgen = VK_SHADER_STAGE_RAYGEN_BIT_KHR;
   const VkDescriptorSetLayoutBinding bindings[2] = {
      { 0, VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1, rgen, NULL },
      { 1, VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, 1, rgen, NULL },
   };
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 2,
      .pBindings = bindings,
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
   const VkDescriptorPoolSize pool_sizes[2] = {
      { VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR, 1 },
      { VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, 1 },
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
   const VkDescriptorImageInfo image_info = { VK_NULL_HANDLE, image.view,
                                              VK_IMAGE_LAYOUT_GENERAL };
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
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_IMAGE,
         .pImageInfo = &image_info,
      },
   };
   vkUpdateDescriptorSets(dev, 2, writes, 0, NULL);

   /* the pipeline: raygen, miss, closest hit; three groups */
   VkShaderModule modules[3] = {
      vkt_shader_load(&ctx, "raytrace.rgen.spv"),
      vkt_shader_load(&ctx, "raytrace.rmiss.spv"),
      vkt_shader_load(&ctx, "raytrace.rchit.spv"),
   };
   const VkShaderStageFlagBits stage_bits[3] = { VK_SHADER_STAGE_RAYGEN_BIT_KHR,
                                                 VK_SHADER_STAGE_MISS_BIT_KHR,
                                                 VK_SHADER_STAGE_CLOSEST_HIT_BIT_KHR };
   VkPipelineShaderStageCreateInfo stages[3];
   for (uint32_t i = 0; i < 3; i++) {
      stages[i] = (VkPipelineShaderStageCreateInfo){
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = stage_bits[i],
         .module = modules[i],
         .pName = "main",
      };
   }
   VkRayTracingShaderGroupCreateInfoKHR groups[3];
   for (uint32_t i = 0; i < 3; i++) {
      groups[i] = (VkRayTracingShaderGroupCreateInfoKHR){
         .sType = VK_STRUCTURE_TYPE_RAY_TRACING_SHADER_GROUP_CREATE_INFO_KHR,
         .type = i < 2 ? VK_RAY_TRACING_SHADER_GROUP_TYPE_GENERAL_KHR
                       : VK_RAY_TRACING_SHADER_GROUP_TYPE_TRIANGLES_HIT_GROUP_KHR,
         .generalShader = i < 2 ? i : VK_SHADER_UNUSED_KHR,
         .closestHitShader = i == 2 ? 2 : VK_SHADER_UNUSED_KHR,
         .anyHitShader = VK_SHADER_UNUSED_KHR,
         .intersectionShader = VK_SHADER_UNUSED_KHR,
      };
   }
   const VkDynamicState dyn_state = VK_DYNAMIC_STATE_RAY_TRACING_PIPELINE_STACK_SIZE_KHR;
   const VkPipelineDynamicStateCreateInfo dyn = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
      .dynamicStateCount = 1,
      .pDynamicStates = &dyn_state,
   };
   const VkRayTracingPipelineCreateInfoKHR pipeline_info = {
      .sType = VK_STRUCTURE_TYPE_RAY_TRACING_PIPELINE_CREATE_INFO_KHR,
      .flags = use_replay ? VK_PIPELINE_CREATE_RAY_TRACING_SHADER_GROUP_HANDLE_CAPTURE_REPLAY_BIT_KHR
                          : 0,
      .stageCount = 3,
      .pStages = stages,
      .groupCount = 3,
      .pGroups = groups,
      .maxPipelineRayRecursionDepth = 1,
      .pDynamicState = &dyn,
      .layout = layout,
      .basePipelineIndex = -1,
   };
   VkPipeline pipeline = rt_create_pipeline(&ctx, &p, &pipeline_info);

   /* shader binding table: one record per region, each region at a base
    * alignment */
   uint8_t handles[3 * 256];
   VKT_CALL(p.handles(dev, pipeline, 0, 3, 3 * handle_size, handles));
   uint8_t one[256];
   VKT_CALL(p.handles(dev, pipeline, 1, 1, handle_size, one));
   vkt_check(&ctx, !memcmp(one, handles + handle_size, handle_size),
             "the handle of group 1 alone differs from the one of all groups");
   if (use_replay) {
      uint8_t replay[3 * 256];
      const uint32_t replay_size = rt_props.shaderGroupHandleCaptureReplaySize;
      if (replay_size && replay_size <= 256)
         VKT_CALL(p.replay_handles(dev, pipeline, 0, 3, 3 * replay_size, replay));
   }
   const VkDeviceSize base = rt_props.shaderGroupBaseAlignment;
   const VkDeviceSize record = rt_align(handle_size, rt_props.shaderGroupHandleAlignment);
   const VkDeviceSize region = rt_align(record, base);
   struct rt_buffer sbt;
   rt_buffer_create(&ctx, 3 * region + base, VK_BUFFER_USAGE_SHADER_BINDING_TABLE_BIT_KHR, &sbt);
   const VkDeviceAddress sbt_base = rt_align(sbt.address, base);
   for (uint32_t i = 0; i < 3; i++)
      memcpy((uint8_t *)sbt.map + (sbt_base - sbt.address) + i * region,
             handles + i * handle_size, handle_size);
   const VkStridedDeviceAddressRegionKHR raygen_region = { sbt_base, region, region };
   const VkStridedDeviceAddressRegionKHR miss_region = { sbt_base + region, record, record };
   const VkStridedDeviceAddressRegionKHR hit_region = { sbt_base + 2 * region, record, record };
   const VkStridedDeviceAddressRegionKHR callable_region = { 0, 0, 0 };

   /* stack: raygen + the larger of miss and closest hit (recursion 1) */
   const VkDeviceSize s_rgen =
      p.stack_size(dev, pipeline, 0, VK_SHADER_GROUP_SHADER_GENERAL_KHR);
   const VkDeviceSize s_miss =
      p.stack_size(dev, pipeline, 1, VK_SHADER_GROUP_SHADER_GENERAL_KHR);
   const VkDeviceSize s_chit =
      p.stack_size(dev, pipeline, 2, VK_SHADER_GROUP_SHADER_CLOSEST_HIT_KHR);
   const uint32_t stack = (uint32_t)(s_rgen + (s_miss > s_chit ? s_miss : s_chit));

   /* indirect arguments: the launch size, and the whole trace for
    * vkCmdTraceRaysIndirect2KHR */
   struct rt_buffer indirect;
   rt_buffer_create(&ctx, sizeof(VkTraceRaysIndirectCommand2KHR),
                    VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, &indirect);
   const VkTraceRaysIndirectCommand2KHR cmd2 = {
      .raygenShaderRecordAddress = raygen_region.deviceAddress,
      .raygenShaderRecordSize = raygen_region.size,
      .missShaderBindingTableAddress = miss_region.deviceAddress,
      .missShaderBindingTableSize = miss_region.size,
      .missShaderBindingTableStride = miss_region.stride,
      .hitShaderBindingTableAddress = hit_region.deviceAddress,
      .hitShaderBindingTableSize = hit_region.size,
      .hitShaderBindingTableStride = hit_region.stride,
      .width = RT_SIZE,
      .height = RT_SIZE,
      .depth = 1,
   };
   const VkTraceRaysIndirectCommandKHR cmd1 = { RT_SIZE, RT_SIZE, 1 };
   /* both layouts at once: the first is a VkTraceRaysIndirectCommandKHR at
    * offset 0 of a second buffer region */
   struct rt_buffer indirect1;
   rt_buffer_create(&ctx, sizeof(cmd1), VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, &indirect1);
   memcpy(indirect.map, &cmd2, sizeof(cmd2));
   memcpy(indirect1.map, &cmd1, sizeof(cmd1));

   struct vkt_buffer readback;
   const VkDeviceSize image_bytes = RT_SIZE * RT_SIZE * 4;
   vkt_buffer_create(&ctx, 3 * image_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &readback);
   const uint32_t traces = use_indirect2 ? 3 : 2;
   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   vkt_cmd_image_barrier(cmd, &image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_WRITE_BIT);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR, pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR, layout, 0, 1, &set, 0,
                           NULL);
   p.set_stack_size(cmd, stack);
   for (uint32_t t = 0; t < traces; t++) {
      const VkClearColorValue clear = { .uint32 = { 0, 0, 0, 0 } };
      const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
      vkCmdClearColorImage(cmd, image.image, VK_IMAGE_LAYOUT_GENERAL, &clear, 1, &range);
      vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                             VK_PIPELINE_STAGE_RAY_TRACING_SHADER_BIT_KHR |
                                VK_PIPELINE_STAGE_DRAW_INDIRECT_BIT,
                             VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_INDIRECT_COMMAND_READ_BIT);
      if (t == 0)
         p.trace(cmd, &raygen_region, &miss_region, &hit_region, &callable_region, RT_SIZE,
                 RT_SIZE, 1);
      else if (t == 1)
         p.trace_indirect(cmd, &raygen_region, &miss_region, &hit_region, &callable_region,
                          indirect1.address);
      else
         p.trace_indirect2(cmd, indirect.address);
      vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_RAY_TRACING_SHADER_BIT_KHR,
                             VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
      const VkBufferImageCopy copy = {
         .bufferOffset = t * image_bytes,
         .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
         .imageExtent = { RT_SIZE, RT_SIZE, 1 },
      };
      vkCmdCopyImageToBuffer(cmd, image.image, VK_IMAGE_LAYOUT_GENERAL, readback.buffer, 1,
                             &copy);
      vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                             VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                             VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT);
   }
   vkt_cmd_submit_wait(&ctx, cmd);
   vkt_buffer_invalidate(&ctx, &readback);

   const uint8_t *px = readback.map;
   for (uint32_t t = 1; t < traces; t++)
      vkt_check(&ctx, !memcmp(px, px + t * image_bytes, image_bytes),
                "trace %u (%s) differs from vkCmdTraceRaysKHR's image", t,
                t == 1 ? "indirect" : "indirect2");
   uint32_t hits = 0, checked = 0;
   for (uint32_t y = 0; y < RT_SIZE; y++) {
      for (uint32_t x = 0; x < RT_SIZE; x++) {
         const float fx = -2.0f + 4.0f * ((float)x + 0.5f) / (float)RT_SIZE;
         const float fy = -2.0f + 4.0f * ((float)y + 0.5f) / (float)RT_SIZE;
         const uint8_t *c = px + (y * RT_SIZE + x) * 4;
         const bool is_miss = c[0] == 10 && c[1] == 20 && c[2] == 30 && c[3] == 255;
         hits += !is_miss;
         uint32_t inst = 0, prim = 0;
         float tt, margin;
         const int hit = rt_cpu_hit(fx, fy, &inst, &prim, &tt, &margin);
         if (margin < RT_MARGIN2)
            continue;
         checked++;
         if (!hit)
            vkt_check(&ctx, is_miss, "pixel (%u, %u): expected a miss, got %u %u %u %u", x, y,
                      c[0], c[1], c[2], c[3]);
         else
            vkt_check(&ctx, c[0] == 64 + 60 * inst && c[1] == 64 + 60 * prim && c[3] == 255,
                      "pixel (%u, %u): expected instance %u triangle %u, got %u %u %u %u", x, y,
                      inst, prim, c[0], c[1], c[2], c[3]);
      }
   }
   vkt_check(&ctx, checked > RT_SIZE * RT_SIZE / 2, "only %u pixels could be checked", checked);
   vkt_check(&ctx, hits > 0 && hits < RT_SIZE * RT_SIZE, "%u of %u pixels hit", hits,
             RT_SIZE * RT_SIZE);
   vkt_print_u64("raytrace_hits", "pixels", hits);
   vkt_print_u64("raytrace_traces", "images", traces);
   vkt_print_hex("raytrace_digest", vkt_digest(px, image_bytes));
   char *path = vkt_output_path(argc > 1 ? argv[1] : NULL, "raytrace.ppm");
   if (path) {
      vkt_check(&ctx, vkt_write_ppm(path, RT_SIZE, RT_SIZE, px, RT_SIZE * 4), "writing %s",
                path);
      free(path);
   }

   vkt_buffer_destroy(&ctx, &readback);
   rt_buffer_destroy(&ctx, &indirect1);
   rt_buffer_destroy(&ctx, &indirect);
   rt_buffer_destroy(&ctx, &sbt);
   vkDestroyPipeline(dev, pipeline, NULL);
   for (uint32_t i = 0; i < 3; i++)
      vkDestroyShaderModule(dev, modules[i], NULL);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_image_destroy(&ctx, &image);
   rt_scene_destroy(&ctx, &f, &scene);
   return vkt_finish(&ctx);
}
