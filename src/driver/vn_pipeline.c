/*
 * Pipelines and framebuffers: created asynchronously after clearing the
 * state the spec says is ignored, because the encoder follows every pointer
 * and the renderer looks up every handle (wire-format.md §5, Mesa's
 * vn_pipeline.c does the same).
 */
#include "vn_device.h"
#include "vn_command_buffer.h"

struct vn_pipeline {
   struct vn_object obj;
};

static bool
vn_has_dynamic(const VkPipelineDynamicStateCreateInfo *dyn, VkDynamicState state)
{
   if (!dyn)
      return false;
   for (uint32_t i = 0; i < dyn->dynamicStateCount; i++) {
      if (dyn->pDynamicStates[i] == state)
         return true;
   }
   return false;
}

/* a multisample state and the links of its chain the protocol knows */
struct vn_multisample_copy {
   VkPipelineMultisampleStateCreateInfo ms;
   VkPipelineCoverageModulationStateCreateInfoNV modulation;
   VkPipelineCoverageToColorStateCreateInfoNV to_color;
   VkPipelineSampleLocationsStateCreateInfoEXT locations;
};

struct vn_graphics_storage {
   VkGraphicsPipelineCreateInfo *infos;
   VkPipelineViewportStateCreateInfo *viewports;
   struct vn_multisample_copy *multisample;
   VkPipelineShaderStageCreateInfo *stages; /* kept stages, per info at stage_base */
};

#define VN_GPL_ALL                                                                      \
   (VK_GRAPHICS_PIPELINE_LIBRARY_VERTEX_INPUT_INTERFACE_BIT_EXT |                        \
    VK_GRAPHICS_PIPELINE_LIBRARY_PRE_RASTERIZATION_SHADERS_BIT_EXT |                     \
    VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_SHADER_BIT_EXT |                               \
    VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_OUTPUT_INTERFACE_BIT_EXT)

/* The state subsets a create defines itself (VK_EXT_graphics_pipeline_library):
 * what its VkGraphicsPipelineLibraryCreateInfoEXT names; none for a library
 * or a link without one; all for a complete pipeline. */
static VkGraphicsPipelineLibraryFlagsEXT
vn_gpl_subsets(const VkGraphicsPipelineCreateInfo *info)
{
   const VkGraphicsPipelineLibraryCreateInfoEXT *gpl =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_LIBRARY_CREATE_INFO_EXT);
   if (gpl)
      return gpl->flags;
   const VkPipelineLibraryCreateInfoKHR *libs =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_PIPELINE_LIBRARY_CREATE_INFO_KHR);
   if ((info->flags & VK_PIPELINE_CREATE_LIBRARY_BIT_KHR) || (libs && libs->libraryCount))
      return 0;
   return VN_GPL_ALL;
}

static bool
vn_stage_in_subsets(VkShaderStageFlagBits stage, VkGraphicsPipelineLibraryFlagsEXT subsets)
{
   if (stage == VK_SHADER_STAGE_FRAGMENT_BIT)
      return subsets & VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_SHADER_BIT_EXT;
   return subsets & VK_GRAPHICS_PIPELINE_LIBRARY_PRE_RASTERIZATION_SHADERS_BIT_EXT;
}

/* Clears what belongs to the subsets the create does not define: the spec
 * says it is ignored, so it may be garbage. */
static void
vn_sanitize_gpl(VkGraphicsPipelineCreateInfo *info,
                VkGraphicsPipelineLibraryFlagsEXT subsets,
                VkPipelineShaderStageCreateInfo *stage_storage)
{
   const bool vi = subsets & VK_GRAPHICS_PIPELINE_LIBRARY_VERTEX_INPUT_INTERFACE_BIT_EXT;
   const bool pre = subsets & VK_GRAPHICS_PIPELINE_LIBRARY_PRE_RASTERIZATION_SHADERS_BIT_EXT;
   const bool fs = subsets & VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_SHADER_BIT_EXT;
   const bool fo = subsets & VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_OUTPUT_INTERFACE_BIT_EXT;
   if (!vi) {
      info->pVertexInputState = NULL;
      info->pInputAssemblyState = NULL;
   }
   if (!pre) {
      info->pViewportState = NULL;
      info->pRasterizationState = NULL;
      info->pTessellationState = NULL;
   }
   if (!fs)
      info->pDepthStencilState = NULL;
   if (!fo)
      info->pColorBlendState = NULL;
   if (!fs && !fo)
      info->pMultisampleState = NULL;
   /* the layout stays even in a vertex-input or fragment-output library:
    * NVIDIA's driver reads it there (clearing it crashed the worker in
    * vkCreateGraphicsPipelines, CTS pipeline_library sampler cases) */
   if (!pre && !fs && !fo) {
      info->renderPass = VK_NULL_HANDLE;
      info->subpass = 0;
   }
   uint32_t kept = 0;
   for (uint32_t s = 0; s < info->stageCount; s++) {
      if (vn_stage_in_subsets(info->pStages[s].stage, subsets))
         stage_storage[kept++] = info->pStages[s];
   }
   info->stageCount = kept;
   info->pStages = kept ? stage_storage : NULL;
}

/* VK_NV_framebuffer_mixed_samples: the coverage modulation table is read
 * only with coverageModulationTableEnable; otherwise its pointer may dangle
 * and the encoder would follow it. Such a state is copied, with its chain
 * (links the encoder would skip are left out), the table cleared. */
static const VkPipelineMultisampleStateCreateInfo *
vn_sanitize_multisample(const VkPipelineMultisampleStateCreateInfo *in,
                        struct vn_multisample_copy *c)
{
   const VkPipelineCoverageModulationStateCreateInfoNV *mod = vp_chain_find(
      in->pNext, VK_STRUCTURE_TYPE_PIPELINE_COVERAGE_MODULATION_STATE_CREATE_INFO_NV);
   if (!mod || mod->coverageModulationTableEnable ||
       (!mod->pCoverageModulationTable && !mod->coverageModulationTableCount))
      return in;
   c->ms = *in;
   c->ms.pNext = NULL;
   VkBaseOutStructure *prev = (VkBaseOutStructure *)&c->ms;
   for (const VkBaseInStructure *s = in->pNext; s; s = s->pNext) {
      VkBaseOutStructure *link;
      switch ((int32_t)s->sType) {
      case VK_STRUCTURE_TYPE_PIPELINE_COVERAGE_MODULATION_STATE_CREATE_INFO_NV:
         c->modulation = *(const VkPipelineCoverageModulationStateCreateInfoNV *)s;
         c->modulation.coverageModulationTableCount = 0;
         c->modulation.pCoverageModulationTable = NULL;
         link = (VkBaseOutStructure *)&c->modulation;
         break;
      case VK_STRUCTURE_TYPE_PIPELINE_COVERAGE_TO_COLOR_STATE_CREATE_INFO_NV:
         c->to_color = *(const VkPipelineCoverageToColorStateCreateInfoNV *)s;
         link = (VkBaseOutStructure *)&c->to_color;
         break;
      case VK_STRUCTURE_TYPE_PIPELINE_SAMPLE_LOCATIONS_STATE_CREATE_INFO_EXT:
         c->locations = *(const VkPipelineSampleLocationsStateCreateInfoEXT *)s;
         link = (VkBaseOutStructure *)&c->locations;
         break;
      default:
         continue;
      }
      link->pNext = NULL;
      prev->pNext = link;
      prev = link;
   }
   return &c->ms;
}

static bool
vn_sanitize_graphics(uint32_t count,
                     const VkGraphicsPipelineCreateInfo *in,
                     struct vn_graphics_storage *st)
{
   uint32_t stage_total = 0;
   for (uint32_t i = 0; i < count; i++)
      stage_total += vn_gpl_subsets(&in[i]) != VN_GPL_ALL ? in[i].stageCount : 0;
   st->infos = malloc(sizeof(*st->infos) * count);
   st->viewports = malloc(sizeof(*st->viewports) * count);
   st->multisample = malloc(sizeof(*st->multisample) * count);
   st->stages = stage_total ? malloc(sizeof(*st->stages) * stage_total) : NULL;
   if (!st->infos || !st->viewports || !st->multisample || (stage_total && !st->stages)) {
      free(st->infos);
      free(st->viewports);
      free(st->multisample);
      free(st->stages);
      return false;
   }
   uint32_t stage_base = 0;
   for (uint32_t i = 0; i < count; i++) {
      VkGraphicsPipelineCreateInfo *info = &st->infos[i];
      *info = in[i];
      const VkGraphicsPipelineLibraryFlagsEXT subsets = vn_gpl_subsets(info);
      if (subsets != VN_GPL_ALL) {
         vn_sanitize_gpl(info, subsets, st->stages + stage_base);
         stage_base += in[i].stageCount;
      }
      const VkPipelineDynamicStateCreateInfo *dyn = info->pDynamicState;

      bool has_tess = false, has_mesh = false;
      for (uint32_t s = 0; s < info->stageCount; s++) {
         const VkShaderStageFlagBits stage = info->pStages[s].stage;
         has_tess |= stage == VK_SHADER_STAGE_TESSELLATION_CONTROL_BIT ||
                     stage == VK_SHADER_STAGE_TESSELLATION_EVALUATION_BIT;
         has_mesh |= stage == VK_SHADER_STAGE_MESH_BIT_EXT;
      }
      if (!has_tess)
         info->pTessellationState = NULL;
      if (has_mesh) {
         info->pVertexInputState = NULL;
         info->pInputAssemblyState = NULL;
      } else if (vn_has_dynamic(dyn, VK_DYNAMIC_STATE_VERTEX_INPUT_EXT)) {
         info->pVertexInputState = NULL;
      }

      const bool discard = info->pRasterizationState &&
                           info->pRasterizationState->rasterizerDiscardEnable &&
                           !vn_has_dynamic(dyn, VK_DYNAMIC_STATE_RASTERIZER_DISCARD_ENABLE);
      if (discard) {
         info->pViewportState = NULL;
         info->pMultisampleState = NULL;
         info->pDepthStencilState = NULL;
         info->pColorBlendState = NULL;
      }
      if (info->pMultisampleState)
         info->pMultisampleState =
            vn_sanitize_multisample(info->pMultisampleState, &st->multisample[i]);
      if (info->pViewportState) {
         st->viewports[i] = *info->pViewportState;
         if (vn_has_dynamic(dyn, VK_DYNAMIC_STATE_VIEWPORT) ||
             vn_has_dynamic(dyn, VK_DYNAMIC_STATE_VIEWPORT_WITH_COUNT))
            st->viewports[i].pViewports = NULL;
         if (vn_has_dynamic(dyn, VK_DYNAMIC_STATE_SCISSOR) ||
             vn_has_dynamic(dyn, VK_DYNAMIC_STATE_SCISSOR_WITH_COUNT))
            st->viewports[i].pScissors = NULL;
         info->pViewportState = &st->viewports[i];
      }
      /* dynamic rendering: attachment-less parts are ignored */
      const VkPipelineRenderingCreateInfo *rendering =
         info->renderPass == VK_NULL_HANDLE
            ? vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO)
            : NULL;
      /* depth/stencil state is ignored for want of attachments only where
       * the create also has the fragment output interface: a fragment
       * shader library must have it whatever its formats (VUID 06590) */
      const bool has_fo = subsets & VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_OUTPUT_INTERFACE_BIT_EXT;
      if (rendering) {
         if (rendering->depthAttachmentFormat == VK_FORMAT_UNDEFINED &&
             rendering->stencilAttachmentFormat == VK_FORMAT_UNDEFINED && has_fo)
            info->pDepthStencilState = NULL;
         if (!rendering->colorAttachmentCount)
            info->pColorBlendState = NULL;
      }
      if (!(info->flags & VK_PIPELINE_CREATE_DERIVATIVE_BIT)) {
         info->basePipelineHandle = VK_NULL_HANDLE;
         info->basePipelineIndex = -1;
      }
   }
   return true;
}

static bool
vn_pipelines_need_result(uint32_t count, const VkPipelineCreateFlags *flags, size_t stride)
{
   for (uint32_t i = 0; i < count; i++) {
      const VkPipelineCreateFlags f = *(const VkPipelineCreateFlags *)((const uint8_t *)flags + i * stride);
      if (f & (VK_PIPELINE_CREATE_FAIL_ON_PIPELINE_COMPILE_REQUIRED_BIT |
               VK_PIPELINE_CREATE_EARLY_RETURN_ON_FAILURE_BIT))
         return true;
   }
   return false;
}

static VkResult
vn_pipelines_alloc(struct vn_device *dev,
                   uint32_t count,
                   const VkAllocationCallbacks *alloc,
                   VkPipeline *out)
{
   for (uint32_t i = 0; i < count; i++) {
      struct vn_pipeline *p = vn_object_alloc(dev, sizeof(*p), VK_OBJECT_TYPE_PIPELINE, alloc);
      if (!p) {
         for (uint32_t j = 0; j < i; j++)
            vn_object_free(dev, (void *)(uintptr_t)out[j], alloc);
         memset(out, 0, sizeof(*out) * count);
         return VK_ERROR_OUT_OF_HOST_MEMORY;
      }
      out[i] = (VkPipeline)(uintptr_t)p;
   }
   return VK_SUCCESS;
}

/* after a synchronous create: free the objects the host did not create */
static void
vn_pipelines_fixup(struct vn_device *dev,
                   uint32_t count,
                   const VkAllocationCallbacks *alloc,
                   VkPipeline *saved,
                   VkPipeline *out)
{
   for (uint32_t i = 0; i < count; i++) {
      if (!out[i] && saved[i])
         vn_object_free(dev, (void *)(uintptr_t)saved[i], alloc);
   }
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateGraphicsPipelines(VkDevice device,
                           VkPipelineCache pipelineCache,
                           uint32_t createInfoCount,
                           const VkGraphicsPipelineCreateInfo *pCreateInfos,
                           const VkAllocationCallbacks *pAllocator,
                           VkPipeline *pPipelines)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_graphics_storage st;
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   VkResult result = vn_pipelines_alloc(dev, createInfoCount, pAllocator, pPipelines);
   if (result != VK_SUCCESS)
      return vn_error(result);
   if (!vn_sanitize_graphics(createInfoCount, pCreateInfos, &st)) {
      for (uint32_t i = 0; i < createInfoCount; i++)
         vn_object_free(dev, (void *)(uintptr_t)pPipelines[i], pAllocator);
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   }
   if (vn_pipelines_need_result(createInfoCount, &pCreateInfos[0].flags, sizeof(*pCreateInfos))) {
      VkPipeline *saved = malloc(sizeof(*saved) * createInfoCount);
      if (saved)
         memcpy(saved, pPipelines, sizeof(*saved) * createInfoCount);
      result = vn_call_vkCreateGraphicsPipelines(dev->ring, device, pipelineCache, createInfoCount,
                                                 st.infos, NULL, pPipelines);
      if (saved)
         vn_pipelines_fixup(dev, createInfoCount, pAllocator, saved, pPipelines);
      free(saved);
   } else {
      vn_async_vkCreateGraphicsPipelines(dev->ring, device, pipelineCache, createInfoCount,
                                         st.infos, NULL, pPipelines);
   }
   free(st.infos);
   free(st.viewports);
   free(st.multisample);
   free(st.stages);
   return vn_result(result);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateComputePipelines(VkDevice device,
                          VkPipelineCache pipelineCache,
                          uint32_t createInfoCount,
                          const VkComputePipelineCreateInfo *pCreateInfos,
                          const VkAllocationCallbacks *pAllocator,
                          VkPipeline *pPipelines)
{
   struct vn_device *dev = vn_device_from_handle(device);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   VkResult result = vn_pipelines_alloc(dev, createInfoCount, pAllocator, pPipelines);
   if (result != VK_SUCCESS)
      return vn_error(result);
   VkComputePipelineCreateInfo *infos = malloc(sizeof(*infos) * (createInfoCount ? createInfoCount : 1));
   if (!infos)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   for (uint32_t i = 0; i < createInfoCount; i++) {
      infos[i] = pCreateInfos[i];
      if (!(infos[i].flags & VK_PIPELINE_CREATE_DERIVATIVE_BIT)) {
         infos[i].basePipelineHandle = VK_NULL_HANDLE;
         infos[i].basePipelineIndex = -1;
      }
   }
   if (vn_pipelines_need_result(createInfoCount, &pCreateInfos[0].flags, sizeof(*pCreateInfos))) {
      VkPipeline *saved = malloc(sizeof(*saved) * createInfoCount);
      if (saved)
         memcpy(saved, pPipelines, sizeof(*saved) * createInfoCount);
      result = vn_call_vkCreateComputePipelines(dev->ring, device, pipelineCache, createInfoCount,
                                                infos, NULL, pPipelines);
      if (saved)
         vn_pipelines_fixup(dev, createInfoCount, pAllocator, saved, pPipelines);
      free(saved);
   } else {
      vn_async_vkCreateComputePipelines(dev->ring, device, pipelineCache, createInfoCount, infos,
                                        NULL, pPipelines);
   }
   free(infos);
   return vn_result(result);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateFramebuffer(VkDevice device,
                     const VkFramebufferCreateInfo *pCreateInfo,
                     const VkAllocationCallbacks *pAllocator,
                     VkFramebuffer *pFramebuffer)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_object *obj = vn_object_create(dev, VK_OBJECT_TYPE_FRAMEBUFFER, pAllocator);
   if (!obj)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   VkFramebufferCreateInfo info = *pCreateInfo;
   if (info.flags & VK_FRAMEBUFFER_CREATE_IMAGELESS_BIT)
      info.pAttachments = NULL;
   *pFramebuffer = (VkFramebuffer)(uintptr_t)obj;
   vn_async_vkCreateFramebuffer(dev->ring, device, &info, NULL, pFramebuffer);
   return VK_SUCCESS;
}

/* Ray tracing pipelines: as compute pipelines, with the deferred operation
 * taken by the driver (below): the renderer always creates them at once. */
VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateRayTracingPipelinesKHR(VkDevice device,
                                VkDeferredOperationKHR deferredOperation,
                                VkPipelineCache pipelineCache,
                                uint32_t createInfoCount,
                                const VkRayTracingPipelineCreateInfoKHR *pCreateInfos,
                                const VkAllocationCallbacks *pAllocator,
                                VkPipeline *pPipelines)
{
   struct vn_device *dev = vn_device_from_handle(device);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   VkResult result = vn_pipelines_alloc(dev, createInfoCount, pAllocator, pPipelines);
   if (result != VK_SUCCESS)
      return vn_error(result);
   /* zeroed: with no create infos the one element is still passed on */
   VkRayTracingPipelineCreateInfoKHR *infos =
      calloc(createInfoCount ? createInfoCount : 1, sizeof(*infos));
   if (!infos) {
      for (uint32_t i = 0; i < createInfoCount; i++)
         vn_object_free(dev, (void *)(uintptr_t)pPipelines[i], pAllocator);
      memset(pPipelines, 0, sizeof(*pPipelines) * createInfoCount);
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   }
   for (uint32_t i = 0; i < createInfoCount; i++) {
      infos[i] = pCreateInfos[i];
      if (!(infos[i].flags & VK_PIPELINE_CREATE_DERIVATIVE_BIT)) {
         infos[i].basePipelineHandle = VK_NULL_HANDLE;
         infos[i].basePipelineIndex = -1;
      }
      /* only read for a library or a pipeline linking libraries */
      const bool libs = infos[i].pLibraryInfo && infos[i].pLibraryInfo->libraryCount;
      if (!libs && !(infos[i].flags & VK_PIPELINE_CREATE_LIBRARY_BIT_KHR))
         infos[i].pLibraryInterface = NULL;
   }
   /* a deferred operation asks for the result: the call is synchronous */
   if (deferredOperation != VK_NULL_HANDLE ||
       vn_pipelines_need_result(createInfoCount, &pCreateInfos[0].flags, sizeof(*pCreateInfos))) {
      VkPipeline *saved = malloc(sizeof(*saved) * (createInfoCount ? createInfoCount : 1));
      if (saved)
         memcpy(saved, pPipelines, sizeof(*saved) * createInfoCount);
      result = vn_call_vkCreateRayTracingPipelinesKHR(dev->ring, device, VK_NULL_HANDLE,
                                                      pipelineCache, createInfoCount, infos,
                                                      NULL, pPipelines);
      if (saved)
         vn_pipelines_fixup(dev, createInfoCount, pAllocator, saved, pPipelines);
      free(saved);
      if (deferredOperation != VK_NULL_HANDLE && result == VK_SUCCESS)
         result = VK_OPERATION_NOT_DEFERRED_KHR;
   } else {
      vn_async_vkCreateRayTracingPipelinesKHR(dev->ring, device, VK_NULL_HANDLE, pipelineCache,
                                              createInfoCount, infos, NULL, pPipelines);
   }
   free(infos);
   return vn_result(result);
}

/* VK_KHR_deferred_host_operations, in the guest: nothing this driver offers
 * is ever deferred (deferrable commands complete before they return and say
 * VK_OPERATION_NOT_DEFERRED_KHR), so an operation has nothing to join and
 * its result is success. */
struct vn_deferred_operation {
   struct vn_object obj;
};

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateDeferredOperationKHR(VkDevice device,
                              const VkAllocationCallbacks *pAllocator,
                              VkDeferredOperationKHR *pDeferredOperation)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_deferred_operation *op =
      vn_object_alloc(dev, sizeof(*op), VK_OBJECT_TYPE_DEFERRED_OPERATION_KHR, pAllocator);
   if (!op)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   *pDeferredOperation = (VkDeferredOperationKHR)(uintptr_t)op;
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyDeferredOperationKHR(VkDevice device,
                               VkDeferredOperationKHR operation,
                               const VkAllocationCallbacks *pAllocator)
{
   if (operation != VK_NULL_HANDLE)
      vn_object_free(vn_device_from_handle(device), (void *)(uintptr_t)operation, pAllocator);
}

VKAPI_ATTR uint32_t VKAPI_CALL
vn_GetDeferredOperationMaxConcurrencyKHR(VkDevice device, VkDeferredOperationKHR operation)
{
   (void)device;
   (void)operation;
   return 1;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetDeferredOperationResultKHR(VkDevice device, VkDeferredOperationKHR operation)
{
   (void)device;
   (void)operation;
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_DeferredOperationJoinKHR(VkDevice device, VkDeferredOperationKHR operation)
{
   (void)device;
   (void)operation;
   return VK_SUCCESS;
}

/* Host commands on acceleration structures read their inputs and write
 * their outputs through host pointers into the guest's memory, which the
 * renderer cannot see: accelerationStructureHostCommands is reported off
 * (vn_physical_device.c), and these exist only because the extension names
 * them; valid applications never call them. */
VKAPI_ATTR VkResult VKAPI_CALL
vn_BuildAccelerationStructuresKHR(VkDevice device,
                                  VkDeferredOperationKHR deferredOperation,
                                  uint32_t infoCount,
                                  const VkAccelerationStructureBuildGeometryInfoKHR *pInfos,
                                  const VkAccelerationStructureBuildRangeInfoKHR *const *ppBuildRangeInfos)
{
   vn_log_err("vkBuildAccelerationStructuresKHR without accelerationStructureHostCommands");
   return VK_ERROR_OUT_OF_HOST_MEMORY;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CopyAccelerationStructureKHR(VkDevice device,
                                VkDeferredOperationKHR deferredOperation,
                                const VkCopyAccelerationStructureInfoKHR *pInfo)
{
   vn_log_err("vkCopyAccelerationStructureKHR without accelerationStructureHostCommands");
   return VK_ERROR_OUT_OF_HOST_MEMORY;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CopyAccelerationStructureToMemoryKHR(VkDevice device,
                                        VkDeferredOperationKHR deferredOperation,
                                        const VkCopyAccelerationStructureToMemoryInfoKHR *pInfo)
{
   vn_log_err("vkCopyAccelerationStructureToMemoryKHR without "
              "accelerationStructureHostCommands");
   return VK_ERROR_OUT_OF_HOST_MEMORY;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CopyMemoryToAccelerationStructureKHR(VkDevice device,
                                        VkDeferredOperationKHR deferredOperation,
                                        const VkCopyMemoryToAccelerationStructureInfoKHR *pInfo)
{
   vn_log_err("vkCopyMemoryToAccelerationStructureKHR without "
              "accelerationStructureHostCommands");
   return VK_ERROR_OUT_OF_HOST_MEMORY;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_WriteAccelerationStructuresPropertiesKHR(VkDevice device,
                                            uint32_t accelerationStructureCount,
                                            const VkAccelerationStructureKHR *pAccelerationStructures,
                                            VkQueryType queryType,
                                            size_t dataSize,
                                            void *pData,
                                            size_t stride)
{
   vn_log_err("vkWriteAccelerationStructuresPropertiesKHR without "
              "accelerationStructureHostCommands");
   return VK_ERROR_OUT_OF_HOST_MEMORY;
}

/* Acceleration-structure builds: the encoder follows every handle, and the
 * spec lets ignored ones hold anything: srcAccelerationStructure outside
 * UPDATE mode, and in a size query both structures (their addresses are
 * plain numbers and travel as they are). NULL when out of memory. */
static VkAccelerationStructureBuildGeometryInfoKHR *
vn_sanitize_as_builds(const VkAccelerationStructureBuildGeometryInfoKHR *in,
                      uint32_t count,
                      bool size_query)
{
   VkAccelerationStructureBuildGeometryInfoKHR *out = malloc(sizeof(*out) * (count ? count : 1));
   if (!out)
      return NULL;
   for (uint32_t i = 0; i < count; i++) {
      out[i] = in[i];
      if (size_query || out[i].mode != VK_BUILD_ACCELERATION_STRUCTURE_MODE_UPDATE_KHR)
         out[i].srcAccelerationStructure = VK_NULL_HANDLE;
      if (size_query)
         out[i].dstAccelerationStructure = VK_NULL_HANDLE;
   }
   return out;
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdBuildAccelerationStructuresKHR(VkCommandBuffer commandBuffer,
                                     uint32_t infoCount,
                                     const VkAccelerationStructureBuildGeometryInfoKHR *pInfos,
                                     const VkAccelerationStructureBuildRangeInfoKHR *const *ppBuildRangeInfos)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   VkAccelerationStructureBuildGeometryInfoKHR *infos =
      vn_sanitize_as_builds(pInfos, infoCount, false);
   if (!infos) {
      vn_command_buffer_from_handle(commandBuffer)->state = VN_COMMAND_BUFFER_STATE_INVALID;
      return;
   }
   vp_encode_vkCmdBuildAccelerationStructuresKHR(enc, 0, commandBuffer, infoCount, infos,
                                                 ppBuildRangeInfos);
   free(infos);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdBuildAccelerationStructuresIndirectKHR(VkCommandBuffer commandBuffer,
                                             uint32_t infoCount,
                                             const VkAccelerationStructureBuildGeometryInfoKHR *pInfos,
                                             const VkDeviceAddress *pIndirectDeviceAddresses,
                                             const uint32_t *pIndirectStrides,
                                             const uint32_t *const *ppMaxPrimitiveCounts)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   VkAccelerationStructureBuildGeometryInfoKHR *infos =
      vn_sanitize_as_builds(pInfos, infoCount, false);
   if (!infos) {
      vn_command_buffer_from_handle(commandBuffer)->state = VN_COMMAND_BUFFER_STATE_INVALID;
      return;
   }
   vp_encode_vkCmdBuildAccelerationStructuresIndirectKHR(enc, 0, commandBuffer, infoCount, infos,
                                                         pIndirectDeviceAddresses,
                                                         pIndirectStrides, ppMaxPrimitiveCounts);
   free(infos);
}

VKAPI_ATTR void VKAPI_CALL
vn_GetAccelerationStructureBuildSizesKHR(VkDevice device,
                                         VkAccelerationStructureBuildTypeKHR buildType,
                                         const VkAccelerationStructureBuildGeometryInfoKHR *pBuildInfo,
                                         const uint32_t *pMaxPrimitiveCounts,
                                         VkAccelerationStructureBuildSizesInfoKHR *pSizeInfo)
{
   struct vn_device *dev = vn_device_from_handle(device);
   VkAccelerationStructureBuildGeometryInfoKHR *info = vn_sanitize_as_builds(pBuildInfo, 1, true);
   if (!info) {
      pSizeInfo->accelerationStructureSize = 0;
      pSizeInfo->updateScratchSize = 0;
      pSizeInfo->buildScratchSize = 0;
      return;
   }
   vn_call_vkGetAccelerationStructureBuildSizesKHR(dev->ring, device, buildType, info,
                                                   pMaxPrimitiveCounts, pSizeInfo);
   free(info);
}
