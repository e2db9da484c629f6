/*
 * Pipeline layouts kept alive for the command buffers that named them.
 *
 * An application may destroy a pipeline layout as soon as no command buffer
 * that used it is recording: executable and pending command buffers stay
 * valid (VUID-vkDestroyPipelineLayout-pipelineLayout-02004 names recording
 * ones only). Mesa's lavapipe (25.0.7 at least) still reads the layout when
 * its queue thread executes such a command buffer. Natively the freed block
 * usually still holds the layout by then; in the renderer other host
 * allocations (the guest's next commands) reuse it first, and the command
 * buffer runs with garbage: a compute dispatch whose layout was destroyed
 * after vkEndCommandBuffer wrote nothing (valgrind: a read of the block
 * vkDestroyPipelineLayout freed, in lavapipe's queue thread, natively too).
 *
 * So on lavapipe (dev->keep_layouts) every command that names a layout
 * records it in its command buffer's list, and the layout's host object
 * counts those lists. A layout the guest destroys while counted leaves the
 * object table at once (its id is gone for the guest) but is destroyed on
 * the host only when the last command buffer that named it is reset (begin,
 * reset, pool reset), freed, or its device is destroyed; until then it
 * counts against the context's object limit (ctx->kept_objects), so that a
 * guest cannot keep any number of layouts alive through one command buffer.
 * Other drivers resolve the layout at record time and pay nothing here.
 *
 * Everything is under dev->layout_mutex (command buffers of one device may
 * be recorded from several rings). Lock order: object_lock, layout_mutex.
 */
#include "vkr_common.h"

#include <stdlib.h>
#include <string.h>

struct vkr_kept_layout {
   uint32_t refs;  /* command buffer lists holding the layout */
   bool destroyed; /* by the guest: destroyed on the host at refs == 0 */
};

void
vkr_device_init_layouts(struct vkr_device *dev)
{
   const VkPhysicalDeviceProperties *props = &dev->physical_device->props;
   /* VK_VENDOR_ID_MESA: lavapipe's device is named after llvmpipe */
   dev->keep_layouts =
      props->vendorID == VK_VENDOR_ID_MESA && !strncmp(props->deviceName, "llvmpipe", 8);
   mtx_init(&dev->layout_mutex, mtx_plain);
   vu_idmap_init(&dev->kept_layouts);
}

/* a layout the guest destroyed, no longer kept: gone on the host, and no
 * longer counted against the object limit */
static void
vkr_destroy_kept_layout(struct vkr_device *dev, uint64_t handle)
{
   dev->table.vkDestroyPipelineLayout(dev->host, (VkPipelineLayout)(uintptr_t)handle, NULL);
   atomic_fetch_sub_explicit(&dev->ctx->kept_objects, 1, memory_order_relaxed);
}

static void
vkr_destroy_kept(uint64_t handle, void *value, void *data)
{
   struct vkr_device *dev = data;
   struct vkr_kept_layout *kept = value;
   if (kept->destroyed)
      vkr_destroy_kept_layout(dev, handle);
   free(kept);
}

/* Before the host device goes: layouts still kept are destroyed (the map
 * itself goes with the device, vkr_device_free). */
void
vkr_device_finish_layouts(struct vkr_device *dev)
{
   vu_idmap_foreach(&dev->kept_layouts, vkr_destroy_kept, dev);
   vu_idmap_fini(&dev->kept_layouts);
   vu_idmap_init(&dev->kept_layouts);
}

/* `layout` (a decoded object, or NULL) is named by a command recorded into
 * `cmd_obj`. False (and the context fatal) when out of memory. */
bool
vkr_layout_use(struct vp_dispatch *d, const void *cmd_obj, const void *layout)
{
   struct vkr_device *dev = vkr_device_of(cmd_obj);
   if (!dev->keep_layouts || !layout)
      return true;
   struct vkr_command_buffer *cmd = (struct vkr_command_buffer *)cmd_obj;
   const uint64_t handle = ((const struct vkr_object *)layout)->base.handle;
   bool ok = true;
   mtx_lock(&dev->layout_mutex);
   /* the newest first: a command buffer names one layout many times */
   for (uint32_t i = cmd->layout_count; i-- > 0;) {
      if (cmd->layouts[i] == handle)
         goto out;
   }
   if (cmd->layout_count == cmd->layout_cap) {
      const uint32_t cap = cmd->layout_cap ? cmd->layout_cap * 2 : 4;
      uint64_t *list = realloc(cmd->layouts, sizeof(*list) * cap);
      if (!list) {
         ok = false;
         goto out;
      }
      cmd->layouts = list;
      cmd->layout_cap = cap;
   }
   struct vkr_kept_layout *kept = vu_idmap_get(&dev->kept_layouts, handle);
   if (!kept) {
      kept = calloc(1, sizeof(*kept));
      if (!kept || !vu_idmap_insert(&dev->kept_layouts, handle, kept)) {
         free(kept);
         ok = false;
         goto out;
      }
   }
   kept->refs++;
   cmd->layouts[cmd->layout_count++] = handle;
out:
   mtx_unlock(&dev->layout_mutex);
   if (!ok)
      vkr_dispatch_fatal(d, "out of host memory");
   return ok;
}

/* The command buffer was reset or freed on the host: its layouts lose a
 * reference, and those the guest destroyed meanwhile go with the last. */
void
vkr_command_buffer_release_layouts(struct vkr_object *obj, bool free_list)
{
   struct vkr_device *dev = obj->device;
   struct vkr_command_buffer *cmd = (struct vkr_command_buffer *)obj;
   if (!dev || !dev->keep_layouts)
      return;
   mtx_lock(&dev->layout_mutex);
   for (uint32_t i = 0; i < cmd->layout_count; i++) {
      struct vkr_kept_layout *kept = vu_idmap_get(&dev->kept_layouts, cmd->layouts[i]);
      if (!kept || --kept->refs)
         continue;
      vu_idmap_remove(&dev->kept_layouts, cmd->layouts[i]);
      if (kept->destroyed)
         vkr_destroy_kept_layout(dev, cmd->layouts[i]);
      free(kept);
   }
   cmd->layout_count = 0;
   if (free_list) {
      free(cmd->layouts);
      cmd->layouts = NULL;
      cmd->layout_cap = 0;
   }
   mtx_unlock(&dev->layout_mutex);
}

void
vkr_exec_vkDestroyPipelineLayout(struct vp_dispatch *d,
                                 struct vp_command_vkDestroyPipelineLayout *args)
{
   struct vkr_object *obj = (struct vkr_object *)(uintptr_t)args->pipelineLayout;
   if (!obj)
      return;
   struct vkr_device *dev = vkr_device_of(args->device);
   bool kept = false;
   if (dev->keep_layouts) {
      mtx_lock(&dev->layout_mutex);
      struct vkr_kept_layout *k = vu_idmap_get(&dev->kept_layouts, obj->base.handle);
      if (k) {
         k->destroyed = true;
         kept = true;
         atomic_fetch_add_explicit(&dev->ctx->kept_objects, 1, memory_order_relaxed);
      }
      mtx_unlock(&dev->layout_mutex);
   }
   if (!kept)
      dev->table.vkDestroyPipelineLayout(dev->host, (VkPipelineLayout)(uintptr_t)obj->base.handle,
                                         NULL);
   vkr_dispatch_remove_object(d, obj);
}

/* ------------------------------------------------------------------ */
/* command buffer state                                                */

/* Host drivers trust the order of the commands they record: lavapipe
 * dereferences NULL at a vkCmdEndRenderPass outside a render pass (found by
 * fuzz_ring). So every vkCmd* is checked against what vk.xml says of it
 * (inside or outside a render pass instance, primary command buffers only),
 * and against the command buffer's recording state, before the host sees
 * it. Only the render pass scope is followed, not subpasses or queries. */
bool
vkr_command_buffer_check(struct vp_dispatch *d, const void *cmd_obj, uint32_t rules)
{
   struct vkr_command_buffer *cmd = (struct vkr_command_buffer *)cmd_obj;
   const bool primary = cmd->state & VP_CMD_STATE_PRIMARY;
   const bool in_pass = cmd->state & VP_CMD_STATE_IN_PASS;
   const char *why = NULL;
   if (!(cmd->state & VP_CMD_STATE_RECORDING))
      why = "a command for a command buffer that is not recording";
   else if ((rules & VP_CMD_PRIMARY_ONLY) && !primary)
      why = "a primary-only command in a secondary command buffer";
   else if ((rules & VP_CMD_INSIDE_PASS) && !in_pass)
      why = "a command that needs a render pass instance outside one";
   else if ((rules & VP_CMD_OUTSIDE_PASS) && in_pass)
      why = "a command that needs to be outside a render pass instance inside one";
   else if ((rules & VP_CMD_ENDS_BUFFER) && in_pass && primary)
      why = "vkEndCommandBuffer inside a render pass instance";
   if (why) {
      vkr_dispatch_fatal(d, why);
      return false;
   }
   if (rules & VP_CMD_BEGINS_PASS)
      cmd->state |= VP_CMD_STATE_IN_PASS;
   else if (rules & VP_CMD_ENDS_PASS)
      cmd->state &= (uint8_t)~VP_CMD_STATE_IN_PASS;
   else if (rules & VP_CMD_ENDS_BUFFER)
      cmd->state &= (uint8_t)~VP_CMD_STATE_RECORDING;
   return true;
}

static void
vkr_command_buffer_set_initial(struct vkr_command_buffer *cmd)
{
   cmd->state &= VP_CMD_STATE_PRIMARY;
}

void
vkr_exec_vkBeginCommandBuffer(struct vp_dispatch *d, struct vp_command_vkBeginCommandBuffer *args)
{
   struct vkr_object *cmd = (struct vkr_object *)(uintptr_t)args->commandBuffer;
   struct vkr_command_buffer *cb = (struct vkr_command_buffer *)cmd;
   struct vkr_device *dev = vkr_device_of(cmd);
   vp_replace_vkBeginCommandBuffer_args_handles(args);
   args->ret = dev->table.vkBeginCommandBuffer(args->commandBuffer, args->pBeginInfo);
   /* an implicit reset: the host forgot what the commands named */
   if (args->ret == VK_SUCCESS) {
      vkr_command_buffer_release_layouts(cmd, false);
      vkr_record_begin(vkr_dispatch_context(d), cb, args->pBeginInfo);
      /* a secondary that continues a render pass records inside it */
      const bool primary = cb->state & VP_CMD_STATE_PRIMARY;
      const bool in_pass =
         !primary && (args->pBeginInfo->flags & VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT);
      cb->state = (uint8_t)(VP_CMD_STATE_RECORDING | (primary ? VP_CMD_STATE_PRIMARY : 0) |
                            (in_pass ? VP_CMD_STATE_IN_PASS : 0));
   } else {
      /* not recording: nothing may be taken for it */
      cb->parallel = false;
      vkr_command_buffer_set_initial(cb);
   }
}

void
vkr_exec_vkResetCommandBuffer(struct vp_dispatch *d, struct vp_command_vkResetCommandBuffer *args)
{
   struct vkr_object *cmd = (struct vkr_object *)(uintptr_t)args->commandBuffer;
   struct vkr_device *dev = vkr_device_of(cmd);
   vp_replace_vkResetCommandBuffer_args_handles(args);
   args->ret = dev->table.vkResetCommandBuffer(args->commandBuffer, args->flags);
   if (args->ret == VK_SUCCESS) {
      vkr_command_buffer_release_layouts(cmd, false);
      vkr_record_reset((struct vkr_command_buffer *)cmd, false);
      vkr_command_buffer_set_initial((struct vkr_command_buffer *)cmd);
   }
}

void
vkr_exec_vkResetCommandPool(struct vp_dispatch *d, struct vp_command_vkResetCommandPool *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   struct vkr_object *pool = (struct vkr_object *)(uintptr_t)args->commandPool;
   struct vkr_device *dev = vkr_device_of(args->device);
   if (!pool) {
      vkr_dispatch_fatal(d, "vkResetCommandPool without a pool");
      return;
   }
   vp_replace_vkResetCommandPool_args_handles(args);
   args->ret = dev->table.vkResetCommandPool(args->device, args->commandPool, args->flags);
   if (args->ret != VK_SUCCESS)
      return;
   vu_lock_take(&ctx->object_lock);
   for (struct vkr_list *l = pool->children.next; l != &pool->children; l = l->next) {
      struct vkr_object *cmd = vkr_container_of(l, struct vkr_object, link);
      vkr_command_buffer_release_layouts(cmd, false);
      vkr_record_reset((struct vkr_command_buffer *)cmd, false);
      vkr_command_buffer_set_initial((struct vkr_command_buffer *)cmd);
   }
   vu_lock_give(&ctx->object_lock);
}

void
vkr_exec_vkCmdBindDescriptorSets(struct vp_dispatch *d,
                                 struct vp_command_vkCmdBindDescriptorSets *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!vkr_layout_use(d, args->commandBuffer, args->layout))
      return;
   vp_replace_vkCmdBindDescriptorSets_args_handles(args);
   dev->table.vkCmdBindDescriptorSets(args->commandBuffer, args->pipelineBindPoint, args->layout,
                                      args->firstSet, args->descriptorSetCount,
                                      args->pDescriptorSets, args->dynamicOffsetCount,
                                      args->pDynamicOffsets);
}

bool
vkr_push_range_ok(struct vp_dispatch *d, struct vkr_device *dev, uint32_t offset, uint32_t size)
{
   const uint32_t max = dev->physical_device->props.limits.maxPushConstantsSize;
   if (offset > max || size > max - offset) {
      vkr_dispatch_fatal(d, "push constants past maxPushConstantsSize");
      return false;
   }
   return true;
}

void
vkr_exec_vkCmdPushConstants(struct vp_dispatch *d, struct vp_command_vkCmdPushConstants *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!vkr_push_range_ok(d, dev, args->offset, args->size) ||
       !vkr_layout_use(d, args->commandBuffer, args->layout))
      return;
   vp_replace_vkCmdPushConstants_args_handles(args);
   dev->table.vkCmdPushConstants(args->commandBuffer, args->layout, args->stageFlags,
                                 args->offset, args->size, args->pValues);
}

void
vkr_exec_vkCmdPushDescriptorSetKHR(struct vp_dispatch *d,
                                   struct vp_command_vkCmdPushDescriptorSetKHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!dev->table.vkCmdPushDescriptorSetKHR) {
      vkr_dispatch_fatal(d, "the host lacks vkCmdPushDescriptorSetKHR");
      return;
   }
   if (!vkr_layout_use(d, args->commandBuffer, args->layout))
      return;
   vp_replace_vkCmdPushDescriptorSetKHR_args_handles(args);
   dev->table.vkCmdPushDescriptorSetKHR(args->commandBuffer, args->pipelineBindPoint,
                                        args->layout, args->set, args->descriptorWriteCount,
                                        args->pDescriptorWrites);
}

#ifdef VK_KHR_maintenance6
/* VK_KHR_maintenance6: the layout is in the info (VK_NULL_HANDLE with
 * dynamicPipelineLayout, the layout's create info chained instead) */
void
vkr_exec_vkCmdBindDescriptorSets2KHR(struct vp_dispatch *d,
                                     struct vp_command_vkCmdBindDescriptorSets2KHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!dev->table.vkCmdBindDescriptorSets2KHR || !args->pBindDescriptorSetsInfo) {
      vkr_dispatch_fatal(d, "vkCmdBindDescriptorSets2KHR without the extension or its info");
      return;
   }
   if (!vkr_layout_use(d, args->commandBuffer,
                       (const void *)(uintptr_t)args->pBindDescriptorSetsInfo->layout))
      return;
   vp_replace_vkCmdBindDescriptorSets2KHR_args_handles(args);
   dev->table.vkCmdBindDescriptorSets2KHR(args->commandBuffer, args->pBindDescriptorSetsInfo);
}

void
vkr_exec_vkCmdPushConstants2KHR(struct vp_dispatch *d,
                                struct vp_command_vkCmdPushConstants2KHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   const VkPushConstantsInfoKHR *info = args->pPushConstantsInfo;
   if (!dev->table.vkCmdPushConstants2KHR || !info) {
      vkr_dispatch_fatal(d, "vkCmdPushConstants2KHR without the extension or its info");
      return;
   }
   if (!vkr_push_range_ok(d, dev, info->offset, info->size) ||
       !vkr_layout_use(d, args->commandBuffer, (const void *)(uintptr_t)info->layout))
      return;
   vp_replace_vkCmdPushConstants2KHR_args_handles(args);
   dev->table.vkCmdPushConstants2KHR(args->commandBuffer, args->pPushConstantsInfo);
}

void
vkr_exec_vkCmdPushDescriptorSet2KHR(struct vp_dispatch *d,
                                    struct vp_command_vkCmdPushDescriptorSet2KHR *args)
{
   struct vkr_device *dev = vkr_device_of(args->commandBuffer);
   if (!dev->table.vkCmdPushDescriptorSet2KHR || !args->pPushDescriptorSetInfo) {
      vkr_dispatch_fatal(d, "vkCmdPushDescriptorSet2KHR without the extension or its info");
      return;
   }
   if (!vkr_layout_use(d, args->commandBuffer,
                       (const void *)(uintptr_t)args->pPushDescriptorSetInfo->layout))
      return;
   vp_replace_vkCmdPushDescriptorSet2KHR_args_handles(args);
   dev->table.vkCmdPushDescriptorSet2KHR(args->commandBuffer, args->pPushDescriptorSetInfo);
}
#endif
