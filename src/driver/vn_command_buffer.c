/*
 * Command pools and buffers (vn_command_buffer.h), and the hand-written vkCmd
 * entry points that add feedback (events, queries) or repack their input
 * (multi-draw arrays).
 */
#include "vn_command_buffer.h"

#include "vn_device.h"
#include "vn_queue.h"

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateCommandPool(VkDevice device,
                     const VkCommandPoolCreateInfo *pCreateInfo,
                     const VkAllocationCallbacks *pAllocator,
                     VkCommandPool *pCommandPool)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_command_pool *pool =
      vn_object_alloc(dev, sizeof(*pool), VK_OBJECT_TYPE_COMMAND_POOL, pAllocator);
   if (!pool)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   pool->alloc = pAllocator ? *pAllocator : dev->alloc;
   pool->family = pCreateInfo->queueFamilyIndex;
   pool->flags = pCreateInfo->flags;
   *pCommandPool = vn_command_pool_to_handle(pool);
   vn_async_vkCreateCommandPool(dev->ring, device, pCreateInfo, NULL, pCommandPool);
   return VK_SUCCESS;
}

/* The device's count of recording command buffers (vn_device.h): a layout
 * destroyed while it is nonzero is destroyed on the host when it drops to
 * zero, after the streams of the command buffers that recorded meanwhile
 * were sent (vkEndCommandBuffer) or dropped (reset, free). */
static void
vn_command_buffer_count_recording(struct vn_command_buffer *cmd)
{
   struct vn_device *dev = cmd->device;
   if (cmd->counted)
      return;
   mtx_lock(&dev->record_mutex);
   dev->recording++;
   mtx_unlock(&dev->record_mutex);
   cmd->counted = true;
}

static void
vn_command_buffer_uncount_recording(struct vn_command_buffer *cmd)
{
   struct vn_device *dev = cmd->device;
   if (!cmd->counted)
      return;
   cmd->counted = false;
   mtx_lock(&dev->record_mutex);
   dev->recording--;
   mtx_unlock(&dev->record_mutex);
   vn_device_flush_deferred_destroys(dev, false);
}

void
vn_device_flush_deferred_destroys(struct vn_device *dev, bool all)
{
   mtx_lock(&dev->record_mutex);
   if (!dev->deferred_count || (dev->recording && !all)) {
      mtx_unlock(&dev->record_mutex);
      return;
   }
   uint64_t *ids = dev->deferred_layouts;
   const uint32_t count = dev->deferred_count;
   dev->deferred_layouts = NULL;
   dev->deferred_count = 0;
   dev->deferred_capacity = 0;
   mtx_unlock(&dev->record_mutex);

   /* the encoder reads the wire id of a handle from its object */
   struct vn_object stand_in = { .type = VK_OBJECT_TYPE_PIPELINE_LAYOUT };
   for (uint32_t i = 0; i < count; i++) {
      stand_in.base.id = ids[i];
      vn_async_vkDestroyPipelineLayout(dev->ring, vn_device_to_handle(dev),
                                       (VkPipelineLayout)(uintptr_t)&stand_in, NULL);
   }
   vn_free(&dev->alloc, ids);
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyPipelineLayout(VkDevice device,
                         VkPipelineLayout pipelineLayout,
                         const VkAllocationCallbacks *pAllocator)
{
   if (pipelineLayout == VK_NULL_HANDLE)
      return;
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_object *obj = (struct vn_object *)(uintptr_t)pipelineLayout;
   bool deferred = false;
   mtx_lock(&dev->record_mutex);
   if (dev->recording) {
      if (dev->deferred_count == dev->deferred_capacity) {
         const uint32_t cap = dev->deferred_capacity ? dev->deferred_capacity * 2 : 8;
         uint64_t *ids =
            vn_alloc(&dev->alloc, sizeof(*ids) * cap, VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
         if (ids) {
            if (dev->deferred_count)
               memcpy(ids, dev->deferred_layouts, sizeof(*ids) * dev->deferred_count);
            vn_free(&dev->alloc, dev->deferred_layouts);
            dev->deferred_layouts = ids;
            dev->deferred_capacity = cap;
         }
      }
      /* out of memory: destroyed now, as without recording command buffers */
      if (dev->deferred_count < dev->deferred_capacity) {
         dev->deferred_layouts[dev->deferred_count++] = obj->base.id;
         deferred = true;
      }
   }
   mtx_unlock(&dev->record_mutex);
   if (!deferred)
      vn_async_vkDestroyPipelineLayout(dev->ring, device, pipelineLayout, NULL);
   vn_object_destroy(dev, obj, pAllocator);
}

static void
vn_command_buffer_reset_local(struct vn_command_buffer *cmd)
{
   vn_command_buffer_uncount_recording(cmd);
   vp_encoder_reset(&cmd->enc);
   vn_query_list_clear(&cmd->queries);
   cmd->render_pass = VK_NULL_HANDLE;
   cmd->subpass = 0;
   cmd->view_mask = 0;
   cmd->state = VN_COMMAND_BUFFER_STATE_INITIAL;
}

static void
vn_command_buffer_free_local(struct vn_command_pool *pool, struct vn_command_buffer *cmd)
{
   if (cmd->prev)
      cmd->prev->next = cmd->next;
   else
      pool->buffers = cmd->next;
   if (cmd->next)
      cmd->next->prev = cmd->prev;
   vn_command_buffer_uncount_recording(cmd);
   vp_encoder_fini(&cmd->enc);
   vn_query_list_fini(&cmd->queries, &pool->alloc);
   vn_free(&pool->alloc, cmd);
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyCommandPool(VkDevice device,
                      VkCommandPool commandPool,
                      const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_command_pool *pool = vn_command_pool_from_handle(commandPool);
   if (!pool)
      return;
   vn_async_vkDestroyCommandPool(dev->ring, device, commandPool, NULL);
   while (pool->buffers)
      vn_command_buffer_free_local(pool, pool->buffers);
   vn_object_free(dev, pool, pAllocator);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_ResetCommandPool(VkDevice device, VkCommandPool commandPool, VkCommandPoolResetFlags flags)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_command_pool *pool = vn_command_pool_from_handle(commandPool);
   for (struct vn_command_buffer *cmd = pool->buffers; cmd; cmd = cmd->next)
      vn_command_buffer_reset_local(cmd);
   vn_async_vkResetCommandPool(dev->ring, device, commandPool, flags);
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_AllocateCommandBuffers(VkDevice device,
                          const VkCommandBufferAllocateInfo *pAllocateInfo,
                          VkCommandBuffer *pCommandBuffers)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_command_pool *pool = vn_command_pool_from_handle(pAllocateInfo->commandPool);
   const uint32_t count = pAllocateInfo->commandBufferCount;

   for (uint32_t i = 0; i < count; i++) {
      struct vn_command_buffer *cmd =
         vn_zalloc(&pool->alloc, sizeof(*cmd), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
      if (!cmd) {
         for (uint32_t j = 0; j < i; j++)
            vn_command_buffer_free_local(pool, vn_command_buffer_from_handle(pCommandBuffers[j]));
         memset(pCommandBuffers, 0, sizeof(*pCommandBuffers) * count);
         return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
      }
      vn_object_init(&cmd->obj, VK_OBJECT_TYPE_COMMAND_BUFFER);
      cmd->device = dev;
      cmd->pool = pool;
      cmd->level = pAllocateInfo->level;
      vp_encoder_init_dynamic(&cmd->enc, 0);
      cmd->next = pool->buffers;
      if (pool->buffers)
         pool->buffers->prev = cmd;
      pool->buffers = cmd;
      pCommandBuffers[i] = vn_command_buffer_to_handle(cmd);
   }
   vn_async_vkAllocateCommandBuffers(dev->ring, device, pAllocateInfo, pCommandBuffers);
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_FreeCommandBuffers(VkDevice device,
                      VkCommandPool commandPool,
                      uint32_t commandBufferCount,
                      const VkCommandBuffer *pCommandBuffers)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_command_pool *pool = vn_command_pool_from_handle(commandPool);
   vn_async_vkFreeCommandBuffers(dev->ring, device, commandPool, commandBufferCount,
                                 pCommandBuffers);
   for (uint32_t i = 0; i < commandBufferCount; i++) {
      if (pCommandBuffers[i])
         vn_command_buffer_free_local(pool, vn_command_buffer_from_handle(pCommandBuffers[i]));
   }
}

#ifdef VK_NV_inherited_viewport_scissor
/* C sizes of the inheritance-info links the protocol knows; 0: a link the
 * encoder would skip anyway */
static size_t
vn_inheritance_link_size(VkStructureType stype)
{
   switch ((int32_t)stype) {
   case VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_CONDITIONAL_RENDERING_INFO_EXT:
      return sizeof(VkCommandBufferInheritanceConditionalRenderingInfoEXT);
   case VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_VIEWPORT_SCISSOR_INFO_NV:
      return sizeof(VkCommandBufferInheritanceViewportScissorInfoNV);
   case VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_RENDERING_INFO:
      return sizeof(VkCommandBufferInheritanceRenderingInfo);
   case VK_STRUCTURE_TYPE_ATTACHMENT_SAMPLE_COUNT_INFO_AMD:
      return sizeof(VkAttachmentSampleCountInfoAMD);
   case VK_STRUCTURE_TYPE_MULTIVIEW_PER_VIEW_ATTRIBUTES_INFO_NVX:
      return sizeof(VkMultiviewPerViewAttributesInfoNVX);
#ifdef VK_VERSION_1_4
   case VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_LOCATION_INFO:
      return sizeof(VkRenderingAttachmentLocationInfo);
   case VK_STRUCTURE_TYPE_RENDERING_INPUT_ATTACHMENT_INDEX_INFO:
      return sizeof(VkRenderingInputAttachmentIndexInfo);
#endif
   default:
      return 0;
   }
}

#define VN_INHERITANCE_LINKS 8

struct vn_inheritance_copy {
   uint64_t links[VN_INHERITANCE_LINKS][16];
};

/* VK_NV_inherited_viewport_scissor: pViewportDepths and viewportDepthCount
 * are read only with viewportScissor2D; otherwise the pointer may dangle and
 * the encoder would follow it. Such a chain is copied into `copy` with them
 * cleared. */
static const void *
vn_inheritance_chain_sanitise(const void *chain, struct vn_inheritance_copy *copy)
{
   const VkCommandBufferInheritanceViewportScissorInfoNV *vs =
      vp_chain_find(chain, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_VIEWPORT_SCISSOR_INFO_NV);
   if (!vs || vs->viewportScissor2D || (!vs->pViewportDepths && !vs->viewportDepthCount))
      return chain;
   VkBaseOutStructure *head = NULL, *prev = NULL;
   unsigned n = 0;
   for (const VkBaseInStructure *s = chain; s && n < VN_INHERITANCE_LINKS; s = s->pNext) {
      const size_t size = vn_inheritance_link_size(s->sType);
      if (!size || size > sizeof(copy->links[0]))
         continue;
      VkBaseOutStructure *c = (VkBaseOutStructure *)copy->links[n++];
      memcpy(c, s, size);
      c->pNext = NULL;
      if (c->sType == VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_VIEWPORT_SCISSOR_INFO_NV) {
         VkCommandBufferInheritanceViewportScissorInfoNV *v =
            (VkCommandBufferInheritanceViewportScissorInfoNV *)c;
         v->viewportDepthCount = 0;
         v->pViewportDepths = NULL;
      }
      if (prev)
         prev->pNext = c;
      else
         head = c;
      prev = c;
   }
   return head;
}
#endif

VKAPI_ATTR VkResult VKAPI_CALL
vn_BeginCommandBuffer(VkCommandBuffer commandBuffer, const VkCommandBufferBeginInfo *pBeginInfo)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   vn_command_buffer_reset_local(cmd);

   /* sanitise what the spec says is ignored (driver-behavior.md §8) */
   VkCommandBufferBeginInfo info = *pBeginInfo;
   VkCommandBufferInheritanceInfo inheritance;
#ifdef VK_NV_inherited_viewport_scissor
   struct vn_inheritance_copy copy;
#endif
   if (cmd->level == VK_COMMAND_BUFFER_LEVEL_PRIMARY) {
      info.pInheritanceInfo = NULL;
   } else if (info.pInheritanceInfo) {
      inheritance = *info.pInheritanceInfo;
#ifdef VK_NV_inherited_viewport_scissor
      inheritance.pNext = vn_inheritance_chain_sanitise(inheritance.pNext, &copy);
#endif
      if (!(info.flags & VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT)) {
         inheritance.renderPass = VK_NULL_HANDLE;
         inheritance.subpass = 0;
         inheritance.framebuffer = VK_NULL_HANDLE;
      }
      info.pInheritanceInfo = &inheritance;
      cmd->view_mask = vn_render_pass_inherited_view_mask(&info);
   }
   cmd->state = VN_COMMAND_BUFFER_STATE_RECORDING;
   vn_command_buffer_count_recording(cmd);
   vp_encode_vkBeginCommandBuffer(&cmd->enc, 0, commandBuffer, &info);
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EndCommandBuffer(VkCommandBuffer commandBuffer)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   struct vn_device *dev = cmd->device;
   if (cmd->state != VN_COMMAND_BUFFER_STATE_RECORDING) {
      vn_command_buffer_uncount_recording(cmd);
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   }
   vp_encode_vkEndCommandBuffer(&cmd->enc, 0, commandBuffer);
   if (vp_encoder_is_fatal(&cmd->enc)) {
      cmd->state = VN_COMMAND_BUFFER_STATE_INVALID;
      vn_command_buffer_uncount_recording(cmd);
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   }
   if (!vn_ring_submit(dev->ring, cmd->enc.base, vp_encoder_size(&cmd->enc), NULL)) {
      cmd->state = VN_COMMAND_BUFFER_STATE_INVALID;
      vn_command_buffer_uncount_recording(cmd);
      return vn_error(VK_ERROR_DEVICE_LOST);
   }
   /* the renderer records the host command buffer while we go on */
   vn_ring_kick(dev->ring);
   vp_encoder_reset(&cmd->enc);
   cmd->state = VN_COMMAND_BUFFER_STATE_EXECUTABLE;
   /* the stream is on the ring: deferred layout destroys may follow it */
   vn_command_buffer_uncount_recording(cmd);
   return VK_SUCCESS;
}

bool
vn_command_buffer_flush_partial(struct vn_command_buffer *cmd)
{
   /* the stream holds whole commands only: this runs before the next one
    * is encoded */
   if (vp_encoder_is_fatal(&cmd->enc))
      goto fail;
   if (!vn_ring_submit(cmd->device->ring, cmd->enc.base, vp_encoder_size(&cmd->enc), NULL))
      goto fail;
   /* the renderer starts recording the host command buffer while the
    * application records the rest (a sleeping ring thread is woken) */
   vn_ring_kick(cmd->device->ring);
   vp_encoder_reset(&cmd->enc);
   return true;

fail:
   cmd->state = VN_COMMAND_BUFFER_STATE_INVALID;
   return false;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_ResetCommandBuffer(VkCommandBuffer commandBuffer, VkCommandBufferResetFlags flags)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   vn_command_buffer_reset_local(cmd);
   vn_async_vkResetCommandBuffer(cmd->device->ring, commandBuffer, flags);
   return VK_SUCCESS;
}

void
vn_command_buffer_add_query(struct vn_command_buffer *cmd,
                            struct vn_query_pool *pool,
                            uint32_t first,
                            uint32_t count,
                            bool reset)
{
   const struct vn_query_range range = { pool, first, count };
   if (!pool->fb_map)
      return;
   if (reset)
      vn_query_list_reset(&cmd->queries, &cmd->pool->alloc, range);
   else
      vn_query_list_end(&cmd->queries, &cmd->pool->alloc, range);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdExecuteCommands(VkCommandBuffer commandBuffer,
                      uint32_t commandBufferCount,
                      const VkCommandBuffer *pCommandBuffers)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdExecuteCommands(enc, 0, commandBuffer, commandBufferCount, pCommandBuffers);
   for (uint32_t i = 0; i < commandBufferCount; i++) {
      struct vn_command_buffer *sec = vn_command_buffer_from_handle(pCommandBuffers[i]);
      vn_query_list_append(&cmd->queries, &cmd->pool->alloc, &sec->queries);
   }
}

/* events: the GPU also writes the event's feedback slot */
static void
vn_cmd_event_feedback(VkCommandBuffer commandBuffer, VkEvent _event, uint32_t value)
{
   struct vn_event *event = vn_event_from_handle(_event);
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc || !event->slot.buffer)
      return;
   vn_feedback_encode_begin(enc, commandBuffer);
   vn_feedback_encode_write32(enc, commandBuffer, &event->slot, value);
   vn_feedback_encode_end(enc, commandBuffer);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdSetEvent(VkCommandBuffer commandBuffer, VkEvent event, VkPipelineStageFlags stageMask)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdSetEvent(enc, 0, commandBuffer, event, stageMask);
   vn_cmd_event_feedback(commandBuffer, event, VK_EVENT_SET);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdResetEvent(VkCommandBuffer commandBuffer, VkEvent event, VkPipelineStageFlags stageMask)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdResetEvent(enc, 0, commandBuffer, event, stageMask);
   vn_cmd_event_feedback(commandBuffer, event, VK_EVENT_RESET);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdSetEvent2(VkCommandBuffer commandBuffer, VkEvent event, const VkDependencyInfo *pDependencyInfo)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdSetEvent2(enc, 0, commandBuffer, event, pDependencyInfo);
   vn_cmd_event_feedback(commandBuffer, event, VK_EVENT_SET);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdResetEvent2(VkCommandBuffer commandBuffer, VkEvent event, VkPipelineStageFlags2 stageMask)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdResetEvent2(enc, 0, commandBuffer, event, stageMask);
   vn_cmd_event_feedback(commandBuffer, event, VK_EVENT_RESET);
}

/* A query ended inside a multiview render pass instance takes one index per
 * view. Hosts need not make the extra ones available to
 * vkCmdCopyQueryPoolResults as they do to vkGetQueryPoolResults (lavapipe
 * 22.3 copies them unavailable, and a feedback wait for them never ends), so
 * such a pool's results are asked of the host from then on, and no feedback
 * copy waits for them (the validation layer in the renderer reported the
 * copy's WAIT on a query "reset and not issued"). */
static void
vn_cmd_end_query(struct vn_command_buffer *cmd, struct vn_query_pool *pool, uint32_t query)
{
   const uint32_t span = vn_cmd_query_span(cmd);
   if (span > 1) {
      pool->host_results = true;
      return;
   }
   vn_command_buffer_add_query(cmd, pool, query, 1, false);
}

/* queries: remember which ones to copy to feedback after submission */
VKAPI_ATTR void VKAPI_CALL
vn_CmdEndQuery(VkCommandBuffer commandBuffer, VkQueryPool queryPool, uint32_t query)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdEndQuery(enc, 0, commandBuffer, queryPool, query);
   vn_cmd_end_query(vn_command_buffer_from_handle(commandBuffer),
                    vn_query_pool_from_handle(queryPool), query);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdEndQueryIndexedEXT(VkCommandBuffer commandBuffer,
                         VkQueryPool queryPool,
                         uint32_t query,
                         uint32_t index)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdEndQueryIndexedEXT(enc, 0, commandBuffer, queryPool, query, index);
   vn_cmd_end_query(vn_command_buffer_from_handle(commandBuffer),
                    vn_query_pool_from_handle(queryPool), query);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdWriteTimestamp(VkCommandBuffer commandBuffer,
                     VkPipelineStageFlagBits pipelineStage,
                     VkQueryPool queryPool,
                     uint32_t query)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdWriteTimestamp(enc, 0, commandBuffer, pipelineStage, queryPool, query);
   vn_cmd_end_query(vn_command_buffer_from_handle(commandBuffer),
                    vn_query_pool_from_handle(queryPool), query);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdWriteTimestamp2(VkCommandBuffer commandBuffer,
                      VkPipelineStageFlags2 stage,
                      VkQueryPool queryPool,
                      uint32_t query)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdWriteTimestamp2(enc, 0, commandBuffer, stage, queryPool, query);
   vn_cmd_end_query(vn_command_buffer_from_handle(commandBuffer),
                    vn_query_pool_from_handle(queryPool), query);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdResetQueryPool(VkCommandBuffer commandBuffer,
                     VkQueryPool queryPool,
                     uint32_t firstQuery,
                     uint32_t queryCount)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdResetQueryPool(enc, 0, commandBuffer, queryPool, firstQuery, queryCount);
   vn_command_buffer_add_query(vn_command_buffer_from_handle(commandBuffer),
                               vn_query_pool_from_handle(queryPool), firstQuery, queryCount, true);
}

/* VK_EXT_multi_draw: the application's draw array may have any stride (at
 * least the element size), but the wire carries drawCount packed elements
 * (the stride parameter says nothing about them there). The elements are
 * packed here and sent with the element size as the stride, which is what
 * a renderer that forwards the stride (virglrenderer) needs to read them. */
static const void *
vn_cmd_pack_draws(struct vn_command_buffer *cmd,
                  const void *draws,
                  uint32_t count,
                  uint32_t stride,
                  size_t elem_size,
                  void **out_heap)
{
   *out_heap = NULL;
   if (!draws || !count || stride == elem_size)
      return draws;
   uint8_t *packed = vn_alloc(&cmd->pool->alloc, (size_t)count * elem_size,
                              VK_SYSTEM_ALLOCATION_SCOPE_COMMAND);
   if (!packed)
      return NULL;
   for (uint32_t i = 0; i < count; i++)
      memcpy(packed + (size_t)i * elem_size, (const uint8_t *)draws + (size_t)i * stride, elem_size);
   *out_heap = packed;
   return packed;
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdDrawMultiEXT(VkCommandBuffer commandBuffer,
                   uint32_t drawCount,
                   const VkMultiDrawInfoEXT *pVertexInfo,
                   uint32_t instanceCount,
                   uint32_t firstInstance,
                   uint32_t stride)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   void *heap;
   const VkMultiDrawInfoEXT *packed =
      vn_cmd_pack_draws(cmd, pVertexInfo, drawCount, stride, sizeof(*pVertexInfo), &heap);
   if (pVertexInfo && drawCount && !packed) {
      cmd->state = VN_COMMAND_BUFFER_STATE_INVALID;
      return;
   }
   vp_encode_vkCmdDrawMultiEXT(enc, 0, commandBuffer, drawCount, packed, instanceCount,
                               firstInstance, sizeof(*pVertexInfo));
   vn_free(&cmd->pool->alloc, heap);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdDrawMultiIndexedEXT(VkCommandBuffer commandBuffer,
                          uint32_t drawCount,
                          const VkMultiDrawIndexedInfoEXT *pIndexInfo,
                          uint32_t instanceCount,
                          uint32_t firstInstance,
                          uint32_t stride,
                          const int32_t *pVertexOffset)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   void *heap;
   const VkMultiDrawIndexedInfoEXT *packed =
      vn_cmd_pack_draws(cmd, pIndexInfo, drawCount, stride, sizeof(*pIndexInfo), &heap);
   if (pIndexInfo && drawCount && !packed) {
      cmd->state = VN_COMMAND_BUFFER_STATE_INVALID;
      return;
   }
   vp_encode_vkCmdDrawMultiIndexedEXT(enc, 0, commandBuffer, drawCount, packed, instanceCount,
                                      firstInstance, sizeof(*pIndexInfo), pVertexOffset);
   vn_free(&cmd->pool->alloc, heap);
}

/* internal command buffers for feedback */
VkResult
vn_command_pool_create_internal(struct vn_device *dev, uint32_t family, VkCommandPool *out_pool)
{
   const VkCommandPoolCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT |
               VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
      .queueFamilyIndex = family,
   };
   return vn_CreateCommandPool(vn_device_to_handle(dev), &info, NULL, out_pool);
}

VkCommandBuffer
vn_command_buffer_create_internal(struct vn_device *dev, VkCommandPool pool)
{
   const VkCommandBufferAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd = VK_NULL_HANDLE;
   if (vn_AllocateCommandBuffers(vn_device_to_handle(dev), &info, &cmd) != VK_SUCCESS)
      return VK_NULL_HANDLE;
   return cmd;
}
