/*
 * Hand-written object handlers that need more than replace-and-forward:
 * pools and their children, array creates (pipelines), sync objects and the
 * sync-resource commands 244-246, and the few checks that keep a hostile
 * guest from making the host driver write outside our buffers (query
 * results; push constants: vkr_layouts.c) (renderer-behavior.md §1,
 * command-types.md §5.1).
 */
#include "vkr_common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* array creates                                                       */

/* Every new id of an array create must be nonzero, unused and unique
 * within the array; copies them to `out_ids`. */
static bool
vkr_check_new_ids(struct vp_dispatch *d,
                  const void *handles,
                  uint32_t count,
                  VkObjectType type,
                  uint64_t **out_ids)
{
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   uint64_t *ids = vu_arena_alloc_array(&dec->arena, count ? count : 1, sizeof(*ids), 8);
   if (!ids) {
      vkr_dispatch_fatal(d, "temporary storage limit exceeded");
      return false;
   }
   memcpy(ids, handles, count * sizeof(*ids));
   for (uint32_t i = 0; i < count; i++) {
      if (!vkr_dispatch_check_new_id(d, ids[i], type))
         return false;
   }
   if (count > 1) {
      struct vu_idmap seen;
      vu_idmap_init(&seen);
      bool dup = false;
      for (uint32_t i = 0; i < count && !dup; i++)
         dup = !vu_idmap_insert(&seen, ids[i], &seen);
      vu_idmap_fini(&seen);
      if (dup) {
         vkr_dispatch_fatal(d, "the same new id twice in one array create");
         return false;
      }
   }
   *out_ids = ids;
   return true;
}

static struct vkr_object *
vkr_new_child(struct vkr_device *dev,
              struct vkr_object *pool,
              VkObjectType type,
              uint64_t id,
              uint64_t handle)
{
   /* command buffers carry their list of kept layouts (vkr_layouts.c) */
   struct vkr_object *obj = vkr_zalloc(type == VK_OBJECT_TYPE_COMMAND_BUFFER
                                          ? sizeof(struct vkr_command_buffer)
                                          : sizeof(*obj));
   if (!obj)
      return NULL;
   obj->base.id = id;
   obj->base.type = type;
   obj->base.handle = handle;
   obj->device = dev;
   obj->instance = dev->obj.instance;
   obj->pool = pool;
   return obj;
}

/* group_counts: per pipeline (ray tracing), or NULL */
static void
vkr_pipelines_finish(struct vp_dispatch *d,
                     struct vkr_device *dev,
                     uint32_t count,
                     VkPipeline *pipelines,
                     const uint64_t *ids,
                     const uint32_t *group_counts)
{
   for (uint32_t i = 0; i < count; i++) {
      const uint64_t handle = (uint64_t)(uintptr_t)pipelines[i];
      pipelines[i] = VK_NULL_HANDLE;
      if (!handle)
         continue;
      if (vp_decoder_is_fatal(d->dec)) {
         dev->table.vkDestroyPipeline(dev->host, (VkPipeline)(uintptr_t)handle, NULL);
         continue;
      }
      struct vkr_pipeline *p = vkr_zalloc(sizeof(*p));
      if (!p) {
         vkr_dispatch_fatal(d, "out of host memory");
         dev->table.vkDestroyPipeline(dev->host, (VkPipeline)(uintptr_t)handle, NULL);
         continue;
      }
      p->obj.base.id = ids[i];
      p->obj.base.type = VK_OBJECT_TYPE_PIPELINE;
      p->obj.base.handle = handle;
      p->obj.device = dev;
      p->obj.instance = dev->obj.instance;
      p->group_count = group_counts ? group_counts[i] : 0;
      if (!vkr_dispatch_add_object(d, &p->obj)) {
         free(p);
         dev->table.vkDestroyPipeline(dev->host, (VkPipeline)(uintptr_t)handle, NULL);
         continue;
      }
      pipelines[i] = (VkPipeline)(uintptr_t)ids[i];
   }
}

/* What the host reads at sizes the guest chose, checked against what was
 * decoded: specialization map entries index pData (dataSize bytes), and an
 * inline shader module's codeSize bytes of code (codeSize / 4 words decoded,
 * as vkCreateShaderModule), and stageCount stages. The spec makes these the
 * application's duty, so host drivers do not check them. */
static bool
vkr_stages_ok(struct vp_dispatch *d, const VkPipelineShaderStageCreateInfo *stages, uint32_t count)
{
   if (count && !stages) {
      vkr_dispatch_fatal(d, "pipeline stages missing");
      return false;
   }
   for (uint32_t s = 0; s < count; s++) {
      const VkSpecializationInfo *spec = stages[s].pSpecializationInfo;
      for (uint32_t i = 0; spec && i < spec->mapEntryCount; i++) {
         const VkSpecializationMapEntry *e = &spec->pMapEntries[i];
         if (e->offset > spec->dataSize || e->size > spec->dataSize - e->offset) {
            vkr_dispatch_fatal(d, "specialization constant outside pData");
            return false;
         }
      }
      for (const VkBaseInStructure *n = stages[s].pNext; n; n = n->pNext) {
         if (n->sType == VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO &&
             ((const VkShaderModuleCreateInfo *)n)->codeSize % 4) {
            vkr_dispatch_fatal(d, "inline shader module with codeSize % 4 != 0");
            return false;
         }
      }
   }
   return true;
}

void
vkr_exec_vkCreateGraphicsPipelines(struct vp_dispatch *d,
                                   struct vp_command_vkCreateGraphicsPipelines *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   uint64_t *ids;
   if (args->createInfoCount && !args->pPipelines) {
      vkr_dispatch_fatal(d, "pipeline create without an output array");
      return;
   }
   for (uint32_t i = 0; i < args->createInfoCount; i++) {
      if (!vkr_stages_ok(d, args->pCreateInfos[i].pStages, args->pCreateInfos[i].stageCount))
         return;
   }
   if (!vkr_check_new_ids(d, args->pPipelines, args->createInfoCount, VK_OBJECT_TYPE_PIPELINE,
                          &ids))
      return;
   vp_replace_vkCreateGraphicsPipelines_args_handles(args);
   args->ret = dev->table.vkCreateGraphicsPipelines(args->device, args->pipelineCache,
                                                    args->createInfoCount, args->pCreateInfos,
                                                    NULL, args->pPipelines);
   vkr_pipelines_finish(d, dev, args->createInfoCount, args->pPipelines, ids, NULL);
}

void
vkr_exec_vkCreateComputePipelines(struct vp_dispatch *d,
                                  struct vp_command_vkCreateComputePipelines *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   uint64_t *ids;
   if (args->createInfoCount && !args->pPipelines) {
      vkr_dispatch_fatal(d, "pipeline create without an output array");
      return;
   }
   for (uint32_t i = 0; i < args->createInfoCount; i++) {
      if (!vkr_stages_ok(d, &args->pCreateInfos[i].stage, 1))
         return;
   }
   if (!vkr_check_new_ids(d, args->pPipelines, args->createInfoCount, VK_OBJECT_TYPE_PIPELINE,
                          &ids))
      return;
   vp_replace_vkCreateComputePipelines_args_handles(args);
   args->ret = dev->table.vkCreateComputePipelines(args->device, args->pipelineCache,
                                                   args->createInfoCount, args->pCreateInfos,
                                                   NULL, args->pPipelines);
   vkr_pipelines_finish(d, dev, args->createInfoCount, args->pPipelines, ids, NULL);
}

/* Ray tracing pipelines. Host drivers index pStages with the groups'
 * shader indices and trust the libraries' group counts, so both are
 * checked; the deferred operation is the driver's (never sent). */
void
vkr_exec_vkCreateRayTracingPipelinesKHR(struct vp_dispatch *d,
                                        struct vp_command_vkCreateRayTracingPipelinesKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   uint64_t *ids;
   if (!dev->table.vkCreateRayTracingPipelinesKHR) {
      vkr_dispatch_fatal(d, "vkCreateRayTracingPipelinesKHR without the extension");
      return;
   }
   if (args->deferredOperation) {
      vkr_dispatch_fatal(d, "vkCreateRayTracingPipelinesKHR with a deferred operation");
      return;
   }
   if (args->createInfoCount && !args->pPipelines) {
      vkr_dispatch_fatal(d, "pipeline create without an output array");
      return;
   }
   uint32_t *groups = vu_arena_alloc_array(&vkr_decoder_from_dispatch(d)->arena,
                                           args->createInfoCount ? args->createInfoCount : 1,
                                           sizeof(*groups), 4);
   if (!groups) {
      vkr_dispatch_fatal(d, "temporary storage limit exceeded");
      return;
   }
   for (uint32_t i = 0; i < args->createInfoCount; i++) {
      const VkRayTracingPipelineCreateInfoKHR *info = &args->pCreateInfos[i];
      if (!vkr_stages_ok(d, info->pStages, info->stageCount))
         return;
      if (info->groupCount && !info->pGroups) {
         vkr_dispatch_fatal(d, "ray tracing pipeline groups missing");
         return;
      }
      uint64_t total = info->groupCount;
      for (uint32_t g = 0; g < info->groupCount; g++) {
         const VkRayTracingShaderGroupCreateInfoKHR *grp = &info->pGroups[g];
         const uint32_t shaders[4] = { grp->generalShader, grp->closestHitShader,
                                       grp->anyHitShader, grp->intersectionShader };
         for (uint32_t k = 0; k < 4; k++) {
            if (shaders[k] != VK_SHADER_UNUSED_KHR && shaders[k] >= info->stageCount) {
               vkr_dispatch_fatal(d, "ray tracing shader group names a stage it lacks");
               return;
            }
         }
      }
      const VkPipelineLibraryCreateInfoKHR *libs = info->pLibraryInfo;
      for (uint32_t l = 0; libs && l < libs->libraryCount; l++) {
         const struct vkr_pipeline *lib =
            (const struct vkr_pipeline *)(uintptr_t)libs->pLibraries[l];
         if (!lib) {
            vkr_dispatch_fatal(d, "ray tracing pipeline library missing");
            return;
         }
         total += lib->group_count;
      }
      groups[i] = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
   }
   if (!vkr_check_new_ids(d, args->pPipelines, args->createInfoCount, VK_OBJECT_TYPE_PIPELINE,
                          &ids))
      return;
   vp_replace_vkCreateRayTracingPipelinesKHR_args_handles(args);
   args->ret = dev->table.vkCreateRayTracingPipelinesKHR(
      args->device, VK_NULL_HANDLE, args->pipelineCache, args->createInfoCount,
      args->pCreateInfos, NULL, args->pPipelines);
   vkr_pipelines_finish(d, dev, args->createInfoCount, args->pPipelines, ids, groups);
}

/* what a group-handle query writes: groupCount handles of handle_size
 * bytes, of groups the pipeline has */
static bool
vkr_group_range_ok(struct vp_dispatch *d,
                   const struct vkr_pipeline *pipeline,
                   uint32_t first,
                   uint32_t count,
                   uint64_t handle_size,
                   size_t data_size,
                   const void *data)
{
   if (!pipeline || first > pipeline->group_count || count > pipeline->group_count - first) {
      vkr_dispatch_fatal(d, "shader group handles past the pipeline's groups");
      return false;
   }
   if (!handle_size || (uint64_t)count * handle_size > data_size || (data_size && !data)) {
      vkr_dispatch_fatal(d, "shader group handles: dataSize too small");
      return false;
   }
   return true;
}

void
vkr_exec_vkGetRayTracingShaderGroupHandlesKHR(
   struct vp_dispatch *d,
   struct vp_command_vkGetRayTracingShaderGroupHandlesKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   if (!dev->table.vkGetRayTracingShaderGroupHandlesKHR ||
       !vkr_group_range_ok(d, (const struct vkr_pipeline *)(uintptr_t)args->pipeline,
                           args->firstGroup, args->groupCount, dev->rt_handle_size,
                           args->dataSize, args->pData)) {
      if (!vp_decoder_is_fatal(d->dec))
         vkr_dispatch_fatal(d, "vkGetRayTracingShaderGroupHandlesKHR without the extension");
      return;
   }
   vp_replace_vkGetRayTracingShaderGroupHandlesKHR_args_handles(args);
   args->ret = dev->table.vkGetRayTracingShaderGroupHandlesKHR(
      args->device, args->pipeline, args->firstGroup, args->groupCount, args->dataSize,
      args->pData);
}

void
vkr_exec_vkGetRayTracingCaptureReplayShaderGroupHandlesKHR(
   struct vp_dispatch *d,
   struct vp_command_vkGetRayTracingCaptureReplayShaderGroupHandlesKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   if (!dev->table.vkGetRayTracingCaptureReplayShaderGroupHandlesKHR ||
       !vkr_group_range_ok(d, (const struct vkr_pipeline *)(uintptr_t)args->pipeline,
                           args->firstGroup, args->groupCount, dev->rt_replay_handle_size,
                           args->dataSize, args->pData)) {
      if (!vp_decoder_is_fatal(d->dec))
         vkr_dispatch_fatal(d, "vkGetRayTracingCaptureReplayShaderGroupHandlesKHR without the "
                               "extension");
      return;
   }
   vp_replace_vkGetRayTracingCaptureReplayShaderGroupHandlesKHR_args_handles(args);
   args->ret = dev->table.vkGetRayTracingCaptureReplayShaderGroupHandlesKHR(
      args->device, args->pipeline, args->firstGroup, args->groupCount, args->dataSize,
      args->pData);
}

void
vkr_exec_vkGetRayTracingShaderGroupStackSizeKHR(
   struct vp_dispatch *d,
   struct vp_command_vkGetRayTracingShaderGroupStackSizeKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const struct vkr_pipeline *pipeline = (const struct vkr_pipeline *)(uintptr_t)args->pipeline;
   if (!dev->table.vkGetRayTracingShaderGroupStackSizeKHR || !pipeline ||
       args->group >= pipeline->group_count) {
      vkr_dispatch_fatal(d, "vkGetRayTracingShaderGroupStackSizeKHR: no such group");
      return;
   }
   vp_replace_vkGetRayTracingShaderGroupStackSizeKHR_args_handles(args);
   args->ret = dev->table.vkGetRayTracingShaderGroupStackSizeKHR(args->device, args->pipeline,
                                                                 args->group,
                                                                 args->groupShader);
}

/* Acceleration structure builds: each info's geometries come either as
 * pGeometries or as ppGeometries (exactly one when geometryCount > 0, no
 * NULL element); host drivers read geometryCount of them from whichever is
 * set. Sizes, addresses and ranges are the host driver's business (device
 * addresses pass through, as for buffers). */
static bool
vkr_as_build_infos_ok(struct vp_dispatch *d,
                      const VkAccelerationStructureBuildGeometryInfoKHR *infos,
                      uint32_t count)
{
   for (uint32_t i = 0; i < count; i++) {
      const VkAccelerationStructureBuildGeometryInfoKHR *info = &infos[i];
      if (!info->geometryCount)
         continue;
      if (!info->pGeometries == !info->ppGeometries) {
         vkr_dispatch_fatal(d, "acceleration structure build: pGeometries and ppGeometries "
                               "both set or both NULL");
         return false;
      }
      for (uint32_t g = 0; info->ppGeometries && g < info->geometryCount; g++) {
         if (!info->ppGeometries[g]) {
            vkr_dispatch_fatal(d, "acceleration structure build: NULL geometry");
            return false;
         }
      }
   }
   return true;
}

void
vkr_exec_vkCmdBuildAccelerationStructuresKHR(
   struct vp_dispatch *d,
   struct vp_command_vkCmdBuildAccelerationStructuresKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!dev->table.vkCmdBuildAccelerationStructuresKHR) {
      vkr_dispatch_fatal(d, "vkCmdBuildAccelerationStructuresKHR without the extension");
      return;
   }
   if (!vkr_as_build_infos_ok(d, args->pInfos, args->infoCount))
      return;
   vp_replace_vkCmdBuildAccelerationStructuresKHR_args_handles(args);
   dev->table.vkCmdBuildAccelerationStructuresKHR(args->commandBuffer, args->infoCount,
                                                  args->pInfos, args->ppBuildRangeInfos);
}

void
vkr_exec_vkCmdBuildAccelerationStructuresIndirectKHR(
   struct vp_dispatch *d,
   struct vp_command_vkCmdBuildAccelerationStructuresIndirectKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!dev->table.vkCmdBuildAccelerationStructuresIndirectKHR) {
      vkr_dispatch_fatal(d, "vkCmdBuildAccelerationStructuresIndirectKHR without the extension");
      return;
   }
   if (!vkr_as_build_infos_ok(d, args->pInfos, args->infoCount))
      return;
   vp_replace_vkCmdBuildAccelerationStructuresIndirectKHR_args_handles(args);
   dev->table.vkCmdBuildAccelerationStructuresIndirectKHR(
      args->commandBuffer, args->infoCount, args->pInfos, args->pIndirectDeviceAddresses,
      args->pIndirectStrides, args->ppMaxPrimitiveCounts);
}

void
vkr_exec_vkGetAccelerationStructureBuildSizesKHR(
   struct vp_dispatch *d,
   struct vp_command_vkGetAccelerationStructureBuildSizesKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   if (!dev->table.vkGetAccelerationStructureBuildSizesKHR) {
      vkr_dispatch_fatal(d, "vkGetAccelerationStructureBuildSizesKHR without the extension");
      return;
   }
   if (!vkr_as_build_infos_ok(d, args->pBuildInfo, 1))
      return;
   if (args->pBuildInfo->geometryCount && !args->pMaxPrimitiveCounts) {
      vkr_dispatch_fatal(d, "vkGetAccelerationStructureBuildSizesKHR without pMaxPrimitiveCounts");
      return;
   }
   vp_replace_vkGetAccelerationStructureBuildSizesKHR_args_handles(args);
   dev->table.vkGetAccelerationStructureBuildSizesKHR(args->device, args->buildType,
                                                      args->pBuildInfo, args->pMaxPrimitiveCounts,
                                                      args->pSizeInfo);
}

/* ------------------------------------------------------------------ */
/* command pools                                                       */

static void
vkr_unregister_children(struct vkr_context *ctx, struct vkr_object *pool)
{
   for (;;) {
      vu_lock_take(&ctx->object_lock);
      struct vkr_list *l = pool->children.next;
      vu_lock_give(&ctx->object_lock);
      if (l == &pool->children)
         return;
      vkr_context_remove_object(ctx, vkr_container_of(l, struct vkr_object, link));
   }
}

void
vkr_exec_vkDestroyCommandPool(struct vp_dispatch *d, struct vp_command_vkDestroyCommandPool *args)
{
   struct vkr_object *pool = (struct vkr_object *)(uintptr_t)args->commandPool;
   if (!pool)
      return;
   struct vkr_device *dev = vkr_device_of(args->device);
   vp_replace_vkDestroyCommandPool_args_handles(args);
   dev->table.vkDestroyCommandPool(args->device, args->commandPool, NULL);
   vkr_unregister_children(vkr_dispatch_context(d), pool);
   vkr_dispatch_remove_object(d, pool);
}

/* Registers one pool child the host just created; NULL (and the caller
 * frees the host object) once the context is fatal or on a failure. */
static struct vkr_object *
vkr_add_child(struct vp_dispatch *d,
              struct vkr_device *dev,
              struct vkr_object *pool,
              VkObjectType type,
              uint64_t id,
              uint64_t host)
{
   if (vp_decoder_is_fatal(d->dec))
      return NULL;
   struct vkr_object *obj = vkr_new_child(dev, pool, type, id, host);
   if (!obj) {
      vkr_dispatch_fatal(d, "out of host memory");
      return NULL;
   }
   if (!vkr_dispatch_add_object(d, obj)) {
      free(obj);
      return NULL;
   }
   return obj;
}

void
vkr_exec_vkAllocateCommandBuffers(struct vp_dispatch *d,
                                  struct vp_command_vkAllocateCommandBuffers *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const VkCommandBufferAllocateInfo *info = args->pAllocateInfo;
   struct vkr_object *pool = (struct vkr_object *)(uintptr_t)info->commandPool;
   const uint32_t count = info->commandBufferCount;
   uint64_t *ids;

   if (!pool) {
      vkr_dispatch_fatal(d, "vkAllocateCommandBuffers without a pool");
      return;
   }
   if (count && !args->pCommandBuffers) {
      vkr_dispatch_fatal(d, "vkAllocateCommandBuffers without an output array");
      return;
   }
   if (!vkr_check_new_ids(d, args->pCommandBuffers, count, VK_OBJECT_TYPE_COMMAND_BUFFER, &ids))
      return;
   vp_replace_vkAllocateCommandBuffers_args_handles(args);
   args->ret = dev->table.vkAllocateCommandBuffers(args->device, info, args->pCommandBuffers);
   if (args->ret != VK_SUCCESS) {
      memset(args->pCommandBuffers, 0, count * sizeof(*args->pCommandBuffers));
      return;
   }
   for (uint32_t i = 0; i < count; i++) {
      VkCommandBuffer host = args->pCommandBuffers[i];
      struct vkr_object *obj =
         vkr_add_child(d, dev, pool, VK_OBJECT_TYPE_COMMAND_BUFFER, ids[i], (uint64_t)(uintptr_t)host);
      if (obj) {
         ((struct vkr_command_buffer *)obj)->state =
            info->level == VK_COMMAND_BUFFER_LEVEL_PRIMARY ? VP_CMD_STATE_PRIMARY : 0;
         args->pCommandBuffers[i] = (VkCommandBuffer)(uintptr_t)ids[i];
      } else {
         args->pCommandBuffers[i] = VK_NULL_HANDLE;
         dev->table.vkFreeCommandBuffers(dev->host, VKR_HOST(VkCommandPool, pool), 1, &host);
      }
   }
}

/* The decoded array holds objects; checks them against the pool and keeps
 * them for unregistering after the host call. */
static struct vkr_object **
vkr_pool_children_arg(struct vp_dispatch *d,
                      struct vkr_object *pool,
                      const void *const *handles,
                      uint32_t count)
{
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   if (!pool) {
      vkr_dispatch_fatal(d, "free of pool children without a pool");
      return NULL;
   }
   if (count && !handles) {
      vkr_dispatch_fatal(d, "free of pool children with a NULL array");
      return NULL;
   }
   struct vkr_object **objs = vu_arena_alloc_array(&dec->arena, count ? count : 1,
                                                   sizeof(*objs), 8);
   if (!objs) {
      vkr_dispatch_fatal(d, "temporary storage limit exceeded");
      return NULL;
   }
   for (uint32_t i = 0; i < count; i++) {
      objs[i] = (struct vkr_object *)(uintptr_t)handles[i];
      if (objs[i] && objs[i]->pool != pool) {
         vkr_dispatch_fatal(d, "free of an object from another pool");
         return NULL;
      }
   }
   return objs;
}

void
vkr_exec_vkFreeCommandBuffers(struct vp_dispatch *d, struct vp_command_vkFreeCommandBuffers *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   struct vkr_object **objs =
      vkr_pool_children_arg(d, (struct vkr_object *)(uintptr_t)args->commandPool,
                            (const void *const *)args->pCommandBuffers, args->commandBufferCount);
   if (!objs)
      return;
   vp_replace_vkFreeCommandBuffers_args_handles(args);
   dev->table.vkFreeCommandBuffers(args->device, args->commandPool, args->commandBufferCount,
                                   args->pCommandBuffers);
   for (uint32_t i = 0; i < args->commandBufferCount; i++) {
      if (objs[i])
         vkr_dispatch_remove_object(d, objs[i]);
   }
}

/* ------------------------------------------------------------------ */
/* descriptor pools                                                    */

void
vkr_exec_vkDestroyDescriptorPool(struct vp_dispatch *d,
                                 struct vp_command_vkDestroyDescriptorPool *args)
{
   struct vkr_object *pool = (struct vkr_object *)(uintptr_t)args->descriptorPool;
   if (!pool)
      return;
   struct vkr_device *dev = vkr_device_of(args->device);
   vp_replace_vkDestroyDescriptorPool_args_handles(args);
   dev->table.vkDestroyDescriptorPool(args->device, args->descriptorPool, NULL);
   vkr_unregister_children(vkr_dispatch_context(d), pool);
   vkr_dispatch_remove_object(d, pool);
}

void
vkr_exec_vkResetDescriptorPool(struct vp_dispatch *d,
                               struct vp_command_vkResetDescriptorPool *args)
{
   struct vkr_object *pool = (struct vkr_object *)(uintptr_t)args->descriptorPool;
   if (!pool) {
      vkr_dispatch_fatal(d, "vkResetDescriptorPool without a pool");
      return;
   }
   struct vkr_device *dev = vkr_device_of(args->device);
   vp_replace_vkResetDescriptorPool_args_handles(args);
   args->ret = dev->table.vkResetDescriptorPool(args->device, args->descriptorPool, args->flags);
   vkr_unregister_children(vkr_dispatch_context(d), pool);
}

void
vkr_exec_vkAllocateDescriptorSets(struct vp_dispatch *d,
                                  struct vp_command_vkAllocateDescriptorSets *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const VkDescriptorSetAllocateInfo *info = args->pAllocateInfo;
   struct vkr_object *pool = (struct vkr_object *)(uintptr_t)info->descriptorPool;
   const uint32_t count = info->descriptorSetCount;
   uint64_t *ids;

   if (!pool) {
      vkr_dispatch_fatal(d, "vkAllocateDescriptorSets without a pool");
      return;
   }
   if (count && !args->pDescriptorSets) {
      vkr_dispatch_fatal(d, "vkAllocateDescriptorSets without an output array");
      return;
   }
   if (!vkr_check_new_ids(d, args->pDescriptorSets, count, VK_OBJECT_TYPE_DESCRIPTOR_SET, &ids))
      return;
   vp_replace_vkAllocateDescriptorSets_args_handles(args);
   args->ret = dev->table.vkAllocateDescriptorSets(args->device, info, args->pDescriptorSets);
   if (args->ret != VK_SUCCESS) {
      memset(args->pDescriptorSets, 0, count * sizeof(*args->pDescriptorSets));
      return;
   }
   for (uint32_t i = 0; i < count; i++) {
      VkDescriptorSet host = args->pDescriptorSets[i];
      if (vkr_add_child(d, dev, pool, VK_OBJECT_TYPE_DESCRIPTOR_SET, ids[i], (uint64_t)(uintptr_t)host)) {
         args->pDescriptorSets[i] = (VkDescriptorSet)(uintptr_t)ids[i];
      } else {
         args->pDescriptorSets[i] = VK_NULL_HANDLE;
         dev->table.vkFreeDescriptorSets(dev->host, VKR_HOST(VkDescriptorPool, pool), 1, &host);
      }
   }
}

void
vkr_exec_vkFreeDescriptorSets(struct vp_dispatch *d, struct vp_command_vkFreeDescriptorSets *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   struct vkr_object **objs =
      vkr_pool_children_arg(d, (struct vkr_object *)(uintptr_t)args->descriptorPool,
                            (const void *const *)args->pDescriptorSets, args->descriptorSetCount);
   if (!objs)
      return;
   vp_replace_vkFreeDescriptorSets_args_handles(args);
   args->ret = dev->table.vkFreeDescriptorSets(args->device, args->descriptorPool,
                                               args->descriptorSetCount, args->pDescriptorSets);
   for (uint32_t i = 0; i < args->descriptorSetCount; i++) {
      if (objs[i])
         vkr_dispatch_remove_object(d, objs[i]);
   }
}

/* ------------------------------------------------------------------ */
/* shader modules, query pools, push constants                         */

void
vkr_exec_vkCreateShaderModule(struct vp_dispatch *d, struct vp_command_vkCreateShaderModule *args)
{
   struct vkr_object *dev = (struct vkr_object *)(uintptr_t)args->device;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pShaderModule;
   if (args->pCreateInfo->codeSize % 4) {
      vkr_dispatch_fatal(d, "vkCreateShaderModule with codeSize % 4 != 0");
      return;
   }
   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_SHADER_MODULE))
      return;
   vp_replace_vkCreateShaderModule_args_handles(args);
   args->ret = dev->device->table.vkCreateShaderModule(args->device, args->pCreateInfo, NULL,
                                                       args->pShaderModule);
   if (args->ret == VK_SUCCESS)
      vkr_dispatch_add_device_object(d, dev, VK_OBJECT_TYPE_SHADER_MODULE, id,
                                     (uint64_t)(uintptr_t)*args->pShaderModule);
   *args->pShaderModule = (VkShaderModule)(uintptr_t)id;
}

void
vkr_exec_vkCreateQueryPool(struct vp_dispatch *d, struct vp_command_vkCreateQueryPool *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const VkQueryPoolCreateInfo *info = args->pCreateInfo;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pQueryPool;
   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_QUERY_POOL))
      return;

   uint32_t values = 1;
   switch (info->queryType) {
   case VK_QUERY_TYPE_PIPELINE_STATISTICS:
      values = (uint32_t)__builtin_popcount(info->pipelineStatistics);
      break;
   case VK_QUERY_TYPE_TRANSFORM_FEEDBACK_STREAM_EXT:
      values = 2;
      break;
   case VK_QUERY_TYPE_PERFORMANCE_QUERY_KHR:
      /* VkPerformanceCounterResultKHR (8 bytes) per counter */
      values = 0;
      for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
         if (s->sType == VK_STRUCTURE_TYPE_QUERY_POOL_PERFORMANCE_CREATE_INFO_KHR)
            values = ((const VkQueryPoolPerformanceCreateInfoKHR *)s)->counterIndexCount * 2;
      }
      break;
   default:
      break;
   }

   vp_replace_vkCreateQueryPool_args_handles(args);
   args->ret = dev->table.vkCreateQueryPool(args->device, info, NULL, args->pQueryPool);
   const uint64_t handle = (uint64_t)(uintptr_t)*args->pQueryPool;
   *args->pQueryPool = (VkQueryPool)(uintptr_t)id;
   if (args->ret != VK_SUCCESS)
      return;
   struct vkr_query_pool *pool = calloc(1, sizeof(*pool));
   if (pool) {
      pool->obj.base.id = id;
      pool->obj.base.type = VK_OBJECT_TYPE_QUERY_POOL;
      pool->obj.base.handle = handle;
      pool->obj.device = dev;
      pool->obj.instance = dev->obj.instance;
      pool->type = info->queryType;
      pool->query_count = info->queryCount;
      pool->values_per_query = values;
      if (vkr_dispatch_add_object(d, &pool->obj))
         return;
      free(pool);
   } else {
      vkr_dispatch_fatal(d, "out of host memory");
   }
   dev->table.vkDestroyQueryPool(dev->host, (VkQueryPool)(uintptr_t)handle, NULL);
}

void
vkr_exec_vkGetQueryPoolResults(struct vp_dispatch *d, struct vp_command_vkGetQueryPoolResults *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const struct vkr_query_pool *pool = (const struct vkr_query_pool *)(uintptr_t)args->queryPool;
   if (!pool) {
      vkr_dispatch_fatal(d, "vkGetQueryPoolResults without a query pool");
      return;
   }
   if (args->firstQuery > pool->query_count ||
       args->queryCount > pool->query_count - args->firstQuery) {
      vkr_dispatch_fatal(d, "vkGetQueryPoolResults past the end of the pool");
      return;
   }
   if (args->queryCount) {
      const uint64_t elem = (args->flags & VK_QUERY_RESULT_64_BIT) ? 8 : 4;
      uint64_t per = (uint64_t)pool->values_per_query * elem;
      if (pool->type == VK_QUERY_TYPE_PERFORMANCE_QUERY_KHR)
         per = (uint64_t)pool->values_per_query * 4; /* 8 bytes per counter */
      if (args->flags & (VK_QUERY_RESULT_WITH_AVAILABILITY_BIT | 0x10 /* WITH_STATUS_KHR */))
         per += elem;
      const uint64_t last = (uint64_t)(args->queryCount - 1) * args->stride;
      if (args->stride > UINT32_MAX || last > UINT64_MAX - per || last + per > args->dataSize) {
         vkr_dispatch_fatal(d, "vkGetQueryPoolResults: dataSize too small for the results");
         return;
      }
   }
   vp_replace_vkGetQueryPoolResults_args_handles(args);
   args->ret = dev->table.vkGetQueryPoolResults(args->device, args->queryPool, args->firstQuery,
                                                args->queryCount, args->dataSize, args->pData,
                                                args->stride, args->flags);
}

/* VK_EXT_multi_draw: the decoder holds drawCount packed elements, whatever
 * stride the guest names (Venus sends the application's stride, which
 * describes its own array, not the wire): the host reads them with the
 * element size, never past the decoded array. */
void
vkr_exec_vkCmdDrawMultiEXT(struct vp_dispatch *d, struct vp_command_vkCmdDrawMultiEXT *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!dev->table.vkCmdDrawMultiEXT || (args->drawCount && !args->pVertexInfo)) {
      vkr_dispatch_fatal(d, "vkCmdDrawMultiEXT without the extension or its draws");
      return;
   }
   vp_replace_vkCmdDrawMultiEXT_args_handles(args);
   dev->table.vkCmdDrawMultiEXT(args->commandBuffer, args->drawCount, args->pVertexInfo,
                                args->instanceCount, args->firstInstance,
                                sizeof(*args->pVertexInfo));
}

void
vkr_exec_vkCmdDrawMultiIndexedEXT(struct vp_dispatch *d,
                                  struct vp_command_vkCmdDrawMultiIndexedEXT *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!dev->table.vkCmdDrawMultiIndexedEXT || (args->drawCount && !args->pIndexInfo)) {
      vkr_dispatch_fatal(d, "vkCmdDrawMultiIndexedEXT without the extension or its draws");
      return;
   }
   vp_replace_vkCmdDrawMultiIndexedEXT_args_handles(args);
   dev->table.vkCmdDrawMultiIndexedEXT(args->commandBuffer, args->drawCount, args->pIndexInfo,
                                       args->instanceCount, args->firstInstance,
                                       sizeof(*args->pIndexInfo), args->pVertexOffset);
}

/* ------------------------------------------------------------------ */
/* fences and semaphores                                               */

void
vkr_exec_vkCreateFence(struct vp_dispatch *d, struct vp_command_vkCreateFence *args)
{
   struct vkr_object *dev = (struct vkr_object *)(uintptr_t)args->device;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pFence;
   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_FENCE))
      return;
   vp_replace_vkCreateFence_args_handles(args);

   /* The guest's export request is about its own sync files; the host
    * fence is made sync-fd exportable where it can be, so that
    * vkResetFenceResourceMESA can consume its payload. */
   VkFenceCreateInfo info = *args->pCreateInfo;
   vkr_chain_unlink(&info.pNext, VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO);
   VkExportFenceCreateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO,
      .pNext = info.pNext,
      .handleTypes = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   if (dev->device->fence_sync_fd)
      info.pNext = &export;
   args->ret = dev->device->table.vkCreateFence(args->device, &info, NULL, args->pFence);
   if (args->ret == VK_SUCCESS)
      vkr_dispatch_add_device_object(d, dev, VK_OBJECT_TYPE_FENCE, id,
                                     (uint64_t)(uintptr_t)*args->pFence);
   *args->pFence = (VkFence)(uintptr_t)id;
}

void
vkr_exec_vkCreateSemaphore(struct vp_dispatch *d, struct vp_command_vkCreateSemaphore *args)
{
   struct vkr_object *dev = (struct vkr_object *)(uintptr_t)args->device;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pSemaphore;
   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_SEMAPHORE))
      return;
   vp_replace_vkCreateSemaphore_args_handles(args);

   /* as for fences: binary semaphores sync-fd exportable where the host
    * can, the guest's own export request dropped */
   VkSemaphoreCreateInfo info = *args->pCreateInfo;
   vkr_chain_unlink(&info.pNext, VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO);
   VkExportSemaphoreCreateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
      .pNext = info.pNext,
      .handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   bool timeline = false;
   for (const VkBaseInStructure *s = info.pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO)
         timeline = ((const VkSemaphoreTypeCreateInfo *)s)->semaphoreType ==
                    VK_SEMAPHORE_TYPE_TIMELINE;
   }
   if (dev->device->semaphore_sync_fd && !timeline)
      info.pNext = &export;
   args->ret = dev->device->table.vkCreateSemaphore(args->device, &info, NULL, args->pSemaphore);
   if (args->ret == VK_SUCCESS)
      vkr_dispatch_add_device_object(d, dev, VK_OBJECT_TYPE_SEMAPHORE, id,
                                     (uint64_t)(uintptr_t)*args->pSemaphore);
   *args->pSemaphore = (VkSemaphore)(uintptr_t)id;
}

/* Signals a host semaphore through the device's first queue. */
static bool
vkr_signal_semaphore(struct vkr_device *dev, VkSemaphore sem)
{
   if (!dev->queue_count)
      return false;
   struct vkr_queue *queue = dev->queues[0];
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &sem,
   };
   vkr_queue_lock(queue);
   const VkResult r = dev->table.vkQueueSubmit(queue->host, 1, &submit, VK_NULL_HANDLE);
   vkr_queue_unlock(queue);
   return r == VK_SUCCESS;
}

static bool
vkr_retired_done(const struct vkr_device *dev, const struct vkr_retired *r)
{
   if (r->fence)
      return dev->table.vkGetFenceStatus(dev->host, r->fence) != VK_NOT_READY;
   for (uint32_t i = 0; i < r->marker_count; i++) {
      if (dev->table.vkGetFenceStatus(dev->host, r->markers[i]) == VK_NOT_READY)
         return false;
   }
   return true;
}

static void
vkr_retired_destroy(const struct vkr_device *dev, struct vkr_retired *r)
{
   if (r->fence)
      dev->table.vkDestroyFence(dev->host, r->fence, NULL);
   if (r->semaphore)
      dev->table.vkDestroySemaphore(dev->host, r->semaphore, NULL);
   for (uint32_t i = 0; i < r->marker_count; i++)
      dev->table.vkDestroyFence(dev->host, r->markers[i], NULL);
   free(r->markers);
}

/* Destroys the retired objects whose signal has landed (all of them, after
 * a device-wide wait, when `all`). */
static void
vkr_device_reap_retired(struct vkr_context *ctx, struct vkr_device *dev, bool all)
{
   vu_lock_take(&ctx->object_lock);
   uint32_t kept = 0;
   for (uint32_t i = 0; i < dev->retired_count; i++) {
      struct vkr_retired *r = &dev->retired[i];
      if (all || vkr_retired_done(dev, r))
         vkr_retired_destroy(dev, r);
      else
         dev->retired[kept++] = *r;
   }
   dev->retired_count = kept;
   if (all) {
      free(dev->retired);
      dev->retired = NULL;
      dev->retired_cap = 0;
   }
   vu_lock_give(&ctx->object_lock);
}

void
vkr_device_destroy_retired(struct vkr_context *ctx, struct vkr_device *dev)
{
   if (!dev->retired)
      return;
   for (uint32_t i = 0; i < dev->queue_count; i++)
      vkr_queue_lock(dev->queues[i]);
   dev->table.vkDeviceWaitIdle(dev->host);
   for (uint32_t i = 0; i < dev->queue_count; i++)
      vkr_queue_unlock(dev->queues[i]);
   vkr_device_reap_retired(ctx, dev, true);
}

/* Without host sync fds, the guest exported the payload of a fence or
 * semaphore whose signal may still be pending, perhaps behind a wait that
 * the guest satisfies later through this very ring; and a host wait on it
 * (lavapipe also blocks in vkQueueSubmit on such a semaphore) would stall
 * the ring for good. Instead the guest's id gets a fresh unsignalled host
 * object, and the old one is retired until its signal has landed. */
static void
vkr_replace_payload(struct vp_dispatch *d, struct vkr_device *dev, struct vkr_object *obj)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   const bool is_fence = obj->base.type == VK_OBJECT_TYPE_FENCE;
   vkr_device_reap_retired(ctx, dev, false);

   struct vkr_retired r = { 0 };
   uint64_t fresh = 0;
   VkResult res;
   if (is_fence) {
      r.fence = (VkFence)(uintptr_t)obj->base.handle;
      res = dev->table.vkGetFenceStatus(dev->host, r.fence);
      if (res == VK_SUCCESS) {
         /* nothing pending: a plain reset */
         if (dev->table.vkResetFences(dev->host, 1, &r.fence) != VK_SUCCESS)
            vkr_dispatch_fatal(d, "vkResetFenceResourceMESA: reset failed");
         return;
      }
      const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
      VkFence f = VK_NULL_HANDLE;
      if (res == VK_NOT_READY)
         res = dev->table.vkCreateFence(dev->host, &info, NULL, &f);
      fresh = (uint64_t)(uintptr_t)f;
   } else {
      r.semaphore = (VkSemaphore)(uintptr_t)obj->base.handle;
      const VkSemaphoreCreateInfo info = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
      VkSemaphore sem = VK_NULL_HANDLE;
      res = dev->table.vkCreateSemaphore(dev->host, &info, NULL, &sem);
      fresh = (uint64_t)(uintptr_t)sem;
      /* the signal was submitted to some queue before now: once every
       * queue has finished what it was given, it has landed */
      r.markers = calloc(dev->queue_count ? dev->queue_count : 1, sizeof(VkFence));
      if (!r.markers)
         res = VK_ERROR_OUT_OF_HOST_MEMORY;
      const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
      for (uint32_t i = 0; res == VK_SUCCESS && i < dev->queue_count; i++) {
         res = dev->table.vkCreateFence(dev->host, &fence_info, NULL, &r.markers[i]);
         if (res != VK_SUCCESS)
            break;
         r.marker_count++;
         vkr_queue_lock(dev->queues[i]);
         res = dev->table.vkQueueSubmit(dev->queues[i]->host, 0, NULL, r.markers[i]);
         vkr_queue_unlock(dev->queues[i]);
      }
   }

   bool kept = false;
   if (res == VK_SUCCESS) {
      vu_lock_take(&ctx->object_lock);
      if (dev->retired_count == dev->retired_cap && dev->retired_cap < 4096) {
         const uint32_t cap = dev->retired_cap ? dev->retired_cap * 2 : 8;
         struct vkr_retired *grown = realloc(dev->retired, sizeof(*grown) * cap);
         if (grown) {
            dev->retired = grown;
            dev->retired_cap = cap;
         }
      }
      if (dev->retired_count < dev->retired_cap) {
         dev->retired[dev->retired_count++] = r;
         obj->base.handle = fresh;
         kept = true;
      }
      vu_lock_give(&ctx->object_lock);
   }
   if (!kept) {
      /* the old object stays; only the new one goes */
      if (is_fence && fresh)
         dev->table.vkDestroyFence(dev->host, (VkFence)(uintptr_t)fresh, NULL);
      if (!is_fence && fresh)
         dev->table.vkDestroySemaphore(dev->host, (VkSemaphore)(uintptr_t)fresh, NULL);
      r.fence = VK_NULL_HANDLE;
      r.semaphore = VK_NULL_HANDLE;
      for (uint32_t i = 0; i < r.marker_count; i++)
         dev->table.vkWaitForFences(dev->host, 1, &r.markers[i], VK_TRUE, UINT64_MAX);
      vkr_retired_destroy(dev, &r);
      vkr_dispatch_fatal(d, is_fence ? "vkResetFenceResourceMESA: cannot replace the fence"
                                     : "vkWaitSemaphoreResourceMESA: cannot replace the "
                                       "semaphore");
   }
}

void
vkr_exec_vkResetFenceResourceMESA(struct vp_dispatch *d,
                                  struct vp_command_vkResetFenceResourceMESA *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   if (!args->fence) {
      vkr_dispatch_fatal(d, "vkResetFenceResourceMESA without a fence");
      return;
   }
   if (!dev->fence_sync_fd || !dev->table.vkGetFenceFdKHR) {
      vkr_replace_payload(d, dev, (struct vkr_object *)(uintptr_t)args->fence);
      return;
   }
   vp_replace_vkResetFenceResourceMESA_args_handles(args);
   const VkFenceGetFdInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_FENCE_GET_FD_INFO_KHR,
      .fence = args->fence,
      .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   int fd = -1;
   if (dev->table.vkGetFenceFdKHR(args->device, &info, &fd) != VK_SUCCESS) {
      vkr_dispatch_fatal(d, "vkResetFenceResourceMESA: sync-fd export failed");
      return;
   }
   if (fd >= 0)
      close(fd);
}

void
vkr_exec_vkWaitSemaphoreResourceMESA(struct vp_dispatch *d,
                                     struct vp_command_vkWaitSemaphoreResourceMESA *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   if (!args->semaphore) {
      vkr_dispatch_fatal(d, "vkWaitSemaphoreResourceMESA without a semaphore");
      return;
   }
   if (!dev->semaphore_sync_fd || !dev->table.vkGetSemaphoreFdKHR) {
      vkr_replace_payload(d, dev, (struct vkr_object *)(uintptr_t)args->semaphore);
      return;
   }
   vp_replace_vkWaitSemaphoreResourceMESA_args_handles(args);
   {
      const VkSemaphoreGetFdInfoKHR info = {
         .sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
         .semaphore = args->semaphore,
         .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
      };
      int fd = -1;
      if (dev->table.vkGetSemaphoreFdKHR(args->device, &info, &fd) != VK_SUCCESS) {
         vkr_dispatch_fatal(d, "vkWaitSemaphoreResourceMESA: sync-fd export failed");
         return;
      }
      if (fd >= 0)
         close(fd);
   }
}

void
vkr_exec_vkImportSemaphoreResourceMESA(struct vp_dispatch *d,
                                       struct vp_command_vkImportSemaphoreResourceMESA *args)
{
   struct vkr_device *dev = vkr_device_of(args->device);
   const VkImportSemaphoreResourceInfoMESA *info = args->pImportSemaphoreResourceInfo;
   if (!info->semaphore || info->resourceId) {
      vkr_dispatch_fatal(d, "vkImportSemaphoreResourceMESA needs a semaphore and resource 0");
      return;
   }
   vp_replace_vkImportSemaphoreResourceMESA_args_handles(args);
   if (dev->semaphore_sync_fd && dev->table.vkImportSemaphoreFdKHR) {
      const VkImportSemaphoreFdInfoKHR import = {
         .sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
         .semaphore = info->semaphore,
         .flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
         .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
         .fd = -1,
      };
      if (dev->table.vkImportSemaphoreFdKHR(args->device, &import) != VK_SUCCESS)
         vkr_dispatch_fatal(d, "vkImportSemaphoreResourceMESA: sync-fd import failed");
      return;
   }
   /* signal it through a queue instead of importing a signalled payload */
   if (!vkr_signal_semaphore(dev, info->semaphore))
      vkr_dispatch_fatal(d, "vkImportSemaphoreResourceMESA: queue signal failed");
}
