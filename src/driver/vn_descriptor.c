/*
 * Descriptors. Sets are allocated asynchronously: pools track their free
 * sets and descriptors per type so that VK_ERROR_OUT_OF_POOL_MEMORY is
 * reported in the guest (pools that can fragment, FREE_DESCRIPTOR_SET_BIT,
 * allocate synchronously, as Mesa does, and so do pools created with
 * VK_NV_descriptor_pool_overallocation's flags). Writes are sanitised (pointers the
 * spec says are ignored are cleared) before encoding. Update templates live
 * in the guest and are expanded into vkUpdateDescriptorSets /
 * vkCmdPushDescriptorSetKHR / vkCmdPushDescriptorSet2KHR; the template
 * commands are never sent.
 */
#include "vn_command_buffer.h"
#include "vn_device.h"

#define VN_DESC_TYPE_COUNT 14

static uint32_t
vn_desc_type_index(VkDescriptorType type)
{
   if ((uint32_t)type <= VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT)
      return (uint32_t)type;
   switch (type) {
   case VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK:
      return 11;
   case VK_DESCRIPTOR_TYPE_ACCELERATION_STRUCTURE_KHR:
      return 12;
   default:
      return 13; /* mutable and others: tracked together */
   }
}

struct vn_descriptor_set_layout {
   struct vn_object obj;
   uint32_t counts[VN_DESC_TYPE_COUNT];
   /* the binding with a variable descriptor count, if any */
   bool has_variable;
   uint32_t variable_type;
   uint32_t variable_max;
};
VN_HANDLE_CAST(vn_descriptor_set_layout, VkDescriptorSetLayout)

struct vn_descriptor_pool {
   struct vn_object obj;
   bool sync_alloc; /* can fragment: ask the host */
   uint32_t max_sets;
   uint32_t used_sets;
   uint32_t max[VN_DESC_TYPE_COUNT];
   uint32_t used[VN_DESC_TYPE_COUNT];
   struct vn_descriptor_set *sets;
};
VN_HANDLE_CAST(vn_descriptor_pool, VkDescriptorPool)

struct vn_descriptor_set {
   struct vn_object obj;
   struct vn_descriptor_pool *pool;
   struct vn_descriptor_set *next;
   struct vn_descriptor_set *prev;
   uint32_t counts[VN_DESC_TYPE_COUNT];
};
VN_HANDLE_CAST(vn_descriptor_set, VkDescriptorSet)

struct vn_update_template {
   struct vn_object obj;
   VkDescriptorUpdateTemplateType type;
   VkPipelineBindPoint bind_point;
   uint32_t entry_count;
   VkDescriptorUpdateTemplateEntry entries[];
};
VN_HANDLE_CAST(vn_update_template, VkDescriptorUpdateTemplate)

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateDescriptorSetLayout(VkDevice device,
                             const VkDescriptorSetLayoutCreateInfo *pCreateInfo,
                             const VkAllocationCallbacks *pAllocator,
                             VkDescriptorSetLayout *pSetLayout)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_descriptor_set_layout *layout =
      vn_object_alloc(dev, sizeof(*layout), VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT, pAllocator);
   if (!layout)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   const VkDescriptorSetLayoutBindingFlagsCreateInfo *flags = vp_chain_find(
      pCreateInfo->pNext, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_BINDING_FLAGS_CREATE_INFO);
   for (uint32_t i = 0; i < pCreateInfo->bindingCount; i++) {
      const VkDescriptorSetLayoutBinding *b = &pCreateInfo->pBindings[i];
      const uint32_t t = vn_desc_type_index(b->descriptorType);
      if (flags && i < flags->bindingCount &&
          (flags->pBindingFlags[i] & VK_DESCRIPTOR_BINDING_VARIABLE_DESCRIPTOR_COUNT_BIT)) {
         layout->has_variable = true;
         layout->variable_type = t;
         layout->variable_max = b->descriptorCount;
         continue;
      }
      layout->counts[t] += b->descriptorCount;
   }
   *pSetLayout = vn_descriptor_set_layout_to_handle(layout);
   vn_async_vkCreateDescriptorSetLayout(dev->ring, device, pCreateInfo, NULL, pSetLayout);
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateDescriptorPool(VkDevice device,
                        const VkDescriptorPoolCreateInfo *pCreateInfo,
                        const VkAllocationCallbacks *pAllocator,
                        VkDescriptorPool *pDescriptorPool)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_descriptor_pool *pool =
      vn_object_alloc(dev, sizeof(*pool), VK_OBJECT_TYPE_DESCRIPTOR_POOL, pAllocator);
   if (!pool)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   pool->sync_alloc = pCreateInfo->flags & VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
#ifdef VK_NV_descriptor_pool_overallocation
   /* pools that may hold more than they declare: the host decides */
   if (pCreateInfo->flags & (VK_DESCRIPTOR_POOL_CREATE_ALLOW_OVERALLOCATION_SETS_BIT_NV |
                             VK_DESCRIPTOR_POOL_CREATE_ALLOW_OVERALLOCATION_POOLS_BIT_NV))
      pool->sync_alloc = true;
#endif
   pool->max_sets = pCreateInfo->maxSets;
   for (uint32_t i = 0; i < pCreateInfo->poolSizeCount; i++) {
      const VkDescriptorPoolSize *s = &pCreateInfo->pPoolSizes[i];
      pool->max[vn_desc_type_index(s->type)] += s->descriptorCount;
   }
   *pDescriptorPool = vn_descriptor_pool_to_handle(pool);
   vn_async_vkCreateDescriptorPool(dev->ring, device, pCreateInfo, NULL, pDescriptorPool);
   return VK_SUCCESS;
}

static void
vn_descriptor_set_free_local(struct vn_device *dev, struct vn_descriptor_set *set)
{
   struct vn_descriptor_pool *pool = set->pool;
   if (set->prev)
      set->prev->next = set->next;
   else
      pool->sets = set->next;
   if (set->next)
      set->next->prev = set->prev;
   pool->used_sets--;
   for (unsigned t = 0; t < VN_DESC_TYPE_COUNT; t++)
      pool->used[t] -= set->counts[t];
   vn_object_free(dev, set, NULL);
}

static void
vn_descriptor_pool_reset_local(struct vn_device *dev, struct vn_descriptor_pool *pool)
{
   while (pool->sets)
      vn_descriptor_set_free_local(dev, pool->sets);
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyDescriptorPool(VkDevice device,
                         VkDescriptorPool descriptorPool,
                         const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_descriptor_pool *pool = vn_descriptor_pool_from_handle(descriptorPool);
   if (!pool)
      return;
   vn_async_vkDestroyDescriptorPool(dev->ring, device, descriptorPool, NULL);
   vn_descriptor_pool_reset_local(dev, pool);
   vn_object_free(dev, pool, pAllocator);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_ResetDescriptorPool(VkDevice device,
                       VkDescriptorPool descriptorPool,
                       VkDescriptorPoolResetFlags flags)
{
   struct vn_device *dev = vn_device_from_handle(device);
   vn_descriptor_pool_reset_local(dev, vn_descriptor_pool_from_handle(descriptorPool));
   vn_async_vkResetDescriptorPool(dev->ring, device, descriptorPool, flags);
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_AllocateDescriptorSets(VkDevice device,
                          const VkDescriptorSetAllocateInfo *pAllocateInfo,
                          VkDescriptorSet *pDescriptorSets)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_descriptor_pool *pool = vn_descriptor_pool_from_handle(pAllocateInfo->descriptorPool);
   const uint32_t count = pAllocateInfo->descriptorSetCount;
   const VkDescriptorSetVariableDescriptorCountAllocateInfo *variable = vp_chain_find(
      pAllocateInfo->pNext, VK_STRUCTURE_TYPE_DESCRIPTOR_SET_VARIABLE_DESCRIPTOR_COUNT_ALLOCATE_INFO);
   VkResult result = VK_SUCCESS;

   memset(pDescriptorSets, 0, sizeof(*pDescriptorSets) * count);
   for (uint32_t i = 0; i < count; i++) {
      const struct vn_descriptor_set_layout *layout =
         vn_descriptor_set_layout_from_handle(pAllocateInfo->pSetLayouts[i]);
      uint32_t counts[VN_DESC_TYPE_COUNT];
      memcpy(counts, layout->counts, sizeof(counts));
      if (layout->has_variable) {
         counts[layout->variable_type] += variable && i < variable->descriptorSetCount
                                             ? variable->pDescriptorCounts[i]
                                             : 0;
      }
      if (!pool->sync_alloc) {
         bool fits = pool->used_sets < pool->max_sets;
         for (unsigned t = 0; t < VN_DESC_TYPE_COUNT && fits; t++)
            fits = pool->used[t] + counts[t] <= pool->max[t];
         if (!fits) {
            result = VK_ERROR_OUT_OF_POOL_MEMORY;
            break;
         }
      }
      struct vn_descriptor_set *set =
         vn_object_alloc(dev, sizeof(*set), VK_OBJECT_TYPE_DESCRIPTOR_SET, NULL);
      if (!set) {
         result = VK_ERROR_OUT_OF_HOST_MEMORY;
         break;
      }
      set->pool = pool;
      memcpy(set->counts, counts, sizeof(counts));
      set->next = pool->sets;
      if (pool->sets)
         pool->sets->prev = set;
      pool->sets = set;
      pool->used_sets++;
      for (unsigned t = 0; t < VN_DESC_TYPE_COUNT; t++)
         pool->used[t] += counts[t];
      pDescriptorSets[i] = vn_descriptor_set_to_handle(set);
   }
   if (result == VK_SUCCESS) {
      if (pool->sync_alloc) {
         result = vn_call_vkAllocateDescriptorSets(dev->ring, device, pAllocateInfo, pDescriptorSets);
         if (result == VK_SUCCESS)
            return VK_SUCCESS;
         /* the reply zeroed the handles: rebuild them to free locally */
         struct vn_descriptor_set *set = pool->sets;
         for (uint32_t i = count; i-- > 0 && set; set = set->next)
            pDescriptorSets[i] = vn_descriptor_set_to_handle(set);
      } else {
         vn_async_vkAllocateDescriptorSets(dev->ring, device, pAllocateInfo, pDescriptorSets);
         return VK_SUCCESS;
      }
   }
   for (uint32_t i = 0; i < count; i++) {
      if (pDescriptorSets[i])
         vn_descriptor_set_free_local(dev, vn_descriptor_set_from_handle(pDescriptorSets[i]));
      pDescriptorSets[i] = VK_NULL_HANDLE;
   }
   return vn_error(result);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_FreeDescriptorSets(VkDevice device,
                      VkDescriptorPool descriptorPool,
                      uint32_t descriptorSetCount,
                      const VkDescriptorSet *pDescriptorSets)
{
   struct vn_device *dev = vn_device_from_handle(device);
   vn_async_vkFreeDescriptorSets(dev->ring, device, descriptorPool, descriptorSetCount,
                                 pDescriptorSets);
   for (uint32_t i = 0; i < descriptorSetCount; i++) {
      if (pDescriptorSets[i])
         vn_descriptor_set_free_local(dev, vn_descriptor_set_from_handle(pDescriptorSets[i]));
   }
   return VK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* writes                                                              */

struct vn_write_storage {
   VkWriteDescriptorSet *writes;
   VkDescriptorImageInfo *images;
};

/* Copies `writes` with ignored members cleared (wire-format.md §5). */
static bool
vn_sanitize_writes(uint32_t count, const VkWriteDescriptorSet *writes, struct vn_write_storage *st)
{
   uint32_t image_count = 0;
   for (uint32_t i = 0; i < count; i++) {
      if (writes[i].pImageInfo)
         image_count += writes[i].descriptorCount;
   }
   st->writes = malloc(sizeof(*st->writes) * (count ? count : 1));
   st->images = malloc(sizeof(*st->images) * (image_count ? image_count : 1));
   if (!st->writes || !st->images) {
      free(st->writes);
      free(st->images);
      return false;
   }
   VkDescriptorImageInfo *img = st->images;
   for (uint32_t i = 0; i < count; i++) {
      VkWriteDescriptorSet *w = &st->writes[i];
      *w = writes[i];
      switch (w->descriptorType) {
      case VK_DESCRIPTOR_TYPE_SAMPLER:
      case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
      case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
      case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT:
         w->pBufferInfo = NULL;
         w->pTexelBufferView = NULL;
         if (w->pImageInfo) {
            for (uint32_t j = 0; j < w->descriptorCount; j++) {
               img[j] = w->pImageInfo[j];
               if (w->descriptorType == VK_DESCRIPTOR_TYPE_SAMPLER) {
                  img[j].imageView = VK_NULL_HANDLE;
                  img[j].imageLayout = VK_IMAGE_LAYOUT_UNDEFINED;
               } else if (w->descriptorType != VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER) {
                  img[j].sampler = VK_NULL_HANDLE;
               }
            }
            w->pImageInfo = img;
            img += w->descriptorCount;
         }
         break;
      case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
      case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER:
         w->pImageInfo = NULL;
         w->pBufferInfo = NULL;
         break;
      case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
      case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
      case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
      case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC:
         w->pImageInfo = NULL;
         w->pTexelBufferView = NULL;
         break;
      default:
         /* inline uniform blocks, acceleration structures: data in pNext */
         w->pImageInfo = NULL;
         w->pBufferInfo = NULL;
         w->pTexelBufferView = NULL;
         break;
      }
   }
   return true;
}

VKAPI_ATTR void VKAPI_CALL
vn_UpdateDescriptorSets(VkDevice device,
                        uint32_t writeCount,
                        const VkWriteDescriptorSet *pWrites,
                        uint32_t copyCount,
                        const VkCopyDescriptorSet *pCopies)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_write_storage st;
   if (!vn_sanitize_writes(writeCount, pWrites, &st))
      return;
   vn_async_vkUpdateDescriptorSets(dev->ring, device, writeCount, st.writes, copyCount, pCopies);
   free(st.writes);
   free(st.images);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdPushDescriptorSetKHR(VkCommandBuffer commandBuffer,
                           VkPipelineBindPoint pipelineBindPoint,
                           VkPipelineLayout layout,
                           uint32_t set,
                           uint32_t writeCount,
                           const VkWriteDescriptorSet *pWrites)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   struct vn_write_storage st;
   if (!enc || !vn_sanitize_writes(writeCount, pWrites, &st))
      return;
   vp_encode_vkCmdPushDescriptorSetKHR(enc, 0, commandBuffer, pipelineBindPoint, layout, set,
                                       writeCount, st.writes);
   free(st.writes);
   free(st.images);
}

#ifdef VK_KHR_maintenance6
/* VK_KHR_maintenance6 with push descriptors (Vulkan 1.4) */
VKAPI_ATTR void VKAPI_CALL
vn_CmdPushDescriptorSet2KHR(VkCommandBuffer commandBuffer,
                            const VkPushDescriptorSetInfoKHR *pPushDescriptorSetInfo)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   struct vn_write_storage st;
   if (!enc || !vn_sanitize_writes(pPushDescriptorSetInfo->descriptorWriteCount,
                                   pPushDescriptorSetInfo->pDescriptorWrites, &st))
      return;
   VkPushDescriptorSetInfoKHR info = *pPushDescriptorSetInfo;
   info.pDescriptorWrites = st.writes;
   vp_encode_vkCmdPushDescriptorSet2KHR(enc, 0, commandBuffer, &info);
   free(st.writes);
   free(st.images);
}
#endif

/* ------------------------------------------------------------------ */
/* templates                                                           */

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateDescriptorUpdateTemplate(VkDevice device,
                                  const VkDescriptorUpdateTemplateCreateInfo *pCreateInfo,
                                  const VkAllocationCallbacks *pAllocator,
                                  VkDescriptorUpdateTemplate *pTemplate)
{
   struct vn_device *dev = vn_device_from_handle(device);
   const size_t size = sizeof(struct vn_update_template) +
                       sizeof(VkDescriptorUpdateTemplateEntry) *
                          pCreateInfo->descriptorUpdateEntryCount;
   struct vn_update_template *tmpl =
      vn_object_alloc(dev, size, VK_OBJECT_TYPE_DESCRIPTOR_UPDATE_TEMPLATE, pAllocator);
   if (!tmpl)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   tmpl->type = pCreateInfo->templateType;
   tmpl->bind_point = pCreateInfo->pipelineBindPoint;
   tmpl->entry_count = pCreateInfo->descriptorUpdateEntryCount;
   memcpy(tmpl->entries, pCreateInfo->pDescriptorUpdateEntries,
          sizeof(VkDescriptorUpdateTemplateEntry) * tmpl->entry_count);
   *pTemplate = vn_update_template_to_handle(tmpl);
   /* the renderer never needs the template: nothing is sent */
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyDescriptorUpdateTemplate(VkDevice device,
                                   VkDescriptorUpdateTemplate descriptorUpdateTemplate,
                                   const VkAllocationCallbacks *pAllocator)
{
   struct vn_update_template *tmpl = vn_update_template_from_handle(descriptorUpdateTemplate);
   if (tmpl)
      vn_object_free(vn_device_from_handle(device), tmpl, pAllocator);
}

struct vn_template_writes {
   VkWriteDescriptorSet *writes;
   VkWriteDescriptorSetInlineUniformBlock *inline_blocks;
   void *data; /* image/buffer infos and views */
};

static bool
vn_template_expand(const struct vn_update_template *tmpl,
                   VkDescriptorSet set,
                   const void *pData,
                   struct vn_template_writes *out)
{
   size_t data_size = 0;
   for (uint32_t i = 0; i < tmpl->entry_count; i++)
      data_size += sizeof(VkDescriptorImageInfo) * tmpl->entries[i].descriptorCount;
   out->writes = calloc(tmpl->entry_count ? tmpl->entry_count : 1, sizeof(*out->writes));
   out->inline_blocks =
      calloc(tmpl->entry_count ? tmpl->entry_count : 1, sizeof(*out->inline_blocks));
   out->data = malloc(data_size ? data_size : 1);
   if (!out->writes || !out->inline_blocks || !out->data) {
      free(out->writes);
      free(out->inline_blocks);
      free(out->data);
      return false;
   }
   uint8_t *storage = out->data;
   for (uint32_t i = 0; i < tmpl->entry_count; i++) {
      const VkDescriptorUpdateTemplateEntry *e = &tmpl->entries[i];
      VkWriteDescriptorSet *w = &out->writes[i];
      const uint8_t *src = (const uint8_t *)pData + e->offset;
      *w = (VkWriteDescriptorSet){
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = set,
         .dstBinding = e->dstBinding,
         .dstArrayElement = e->dstArrayElement,
         .descriptorCount = e->descriptorCount,
         .descriptorType = e->descriptorType,
      };
      switch (e->descriptorType) {
      case VK_DESCRIPTOR_TYPE_SAMPLER:
      case VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER:
      case VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE:
      case VK_DESCRIPTOR_TYPE_STORAGE_IMAGE:
      case VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT: {
         VkDescriptorImageInfo *infos = (VkDescriptorImageInfo *)storage;
         for (uint32_t j = 0; j < e->descriptorCount; j++)
            memcpy(&infos[j], src + j * e->stride, sizeof(infos[j]));
         w->pImageInfo = infos;
         storage += sizeof(*infos) * e->descriptorCount;
         break;
      }
      case VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER:
      case VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER: {
         VkBufferView *views = (VkBufferView *)storage;
         for (uint32_t j = 0; j < e->descriptorCount; j++)
            memcpy(&views[j], src + j * e->stride, sizeof(views[j]));
         w->pTexelBufferView = views;
         storage += sizeof(VkDescriptorImageInfo) * e->descriptorCount;
         break;
      }
      case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER:
      case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER:
      case VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC:
      case VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC: {
         VkDescriptorBufferInfo *infos = (VkDescriptorBufferInfo *)storage;
         for (uint32_t j = 0; j < e->descriptorCount; j++)
            memcpy(&infos[j], src + j * e->stride, sizeof(infos[j]));
         w->pBufferInfo = infos;
         storage += sizeof(VkDescriptorImageInfo) * e->descriptorCount;
         break;
      }
      case VK_DESCRIPTOR_TYPE_INLINE_UNIFORM_BLOCK:
         out->inline_blocks[i] = (VkWriteDescriptorSetInlineUniformBlock){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET_INLINE_UNIFORM_BLOCK,
            .dataSize = e->descriptorCount,
            .pData = src,
         };
         w->pNext = &out->inline_blocks[i];
         break;
      default:
         break;
      }
   }
   return true;
}

static void
vn_template_writes_free(struct vn_template_writes *w)
{
   free(w->writes);
   free(w->inline_blocks);
   free(w->data);
}

VKAPI_ATTR void VKAPI_CALL
vn_UpdateDescriptorSetWithTemplate(VkDevice device,
                                   VkDescriptorSet descriptorSet,
                                   VkDescriptorUpdateTemplate descriptorUpdateTemplate,
                                   const void *pData)
{
   const struct vn_update_template *tmpl = vn_update_template_from_handle(descriptorUpdateTemplate);
   struct vn_template_writes w;
   if (!vn_template_expand(tmpl, descriptorSet, pData, &w))
      return;
   vn_UpdateDescriptorSets(device, tmpl->entry_count, w.writes, 0, NULL);
   vn_template_writes_free(&w);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdPushDescriptorSetWithTemplateKHR(VkCommandBuffer commandBuffer,
                                       VkDescriptorUpdateTemplate descriptorUpdateTemplate,
                                       VkPipelineLayout layout,
                                       uint32_t set,
                                       const void *pData)
{
   const struct vn_update_template *tmpl = vn_update_template_from_handle(descriptorUpdateTemplate);
   struct vn_template_writes w;
   if (!vn_template_expand(tmpl, VK_NULL_HANDLE, pData, &w))
      return;
   vn_CmdPushDescriptorSetKHR(commandBuffer, tmpl->bind_point, layout, set, tmpl->entry_count,
                              w.writes);
   vn_template_writes_free(&w);
}

#ifdef VK_KHR_maintenance6
/* expanded to vkCmdPushDescriptorSet2KHR (its chain, e.g. a
 * VkPipelineLayoutCreateInfo in place of the layout, kept), for the stages
 * of the template's bind point */
VKAPI_ATTR void VKAPI_CALL
vn_CmdPushDescriptorSetWithTemplate2KHR(
   VkCommandBuffer commandBuffer,
   const VkPushDescriptorSetWithTemplateInfoKHR *pPushDescriptorSetWithTemplateInfo)
{
   const VkPushDescriptorSetWithTemplateInfoKHR *in = pPushDescriptorSetWithTemplateInfo;
   const struct vn_update_template *tmpl = vn_update_template_from_handle(in->descriptorUpdateTemplate);
   struct vn_template_writes w;
   if (!vn_template_expand(tmpl, VK_NULL_HANDLE, in->pData, &w))
      return;
   VkShaderStageFlags stages = VK_SHADER_STAGE_ALL_GRAPHICS;
   if (tmpl->bind_point == VK_PIPELINE_BIND_POINT_COMPUTE)
      stages = VK_SHADER_STAGE_COMPUTE_BIT;
   else if (tmpl->bind_point == VK_PIPELINE_BIND_POINT_RAY_TRACING_KHR)
      stages = VK_SHADER_STAGE_RAYGEN_BIT_KHR | VK_SHADER_STAGE_ANY_HIT_BIT_KHR |
               VK_SHADER_STAGE_CLOSEST_HIT_BIT_KHR | VK_SHADER_STAGE_MISS_BIT_KHR |
               VK_SHADER_STAGE_INTERSECTION_BIT_KHR | VK_SHADER_STAGE_CALLABLE_BIT_KHR;
   const VkPushDescriptorSetInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_PUSH_DESCRIPTOR_SET_INFO_KHR,
      .pNext = in->pNext,
      .stageFlags = stages,
      .layout = in->layout,
      .set = in->set,
      .descriptorWriteCount = tmpl->entry_count,
      .pDescriptorWrites = w.writes,
   };
   vn_CmdPushDescriptorSet2KHR(commandBuffer, &info);
   vn_template_writes_free(&w);
}
#endif
