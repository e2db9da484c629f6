/*
 * Feedback pool (vn_feedback.h): 8-byte slots carved from 4 KiB host-visible
 * coherent buffers, created lazily and mapped through a blob.
 */
#include "vn_feedback.h"

#include "vn_device.h"

void
vn_feedback_init(struct vn_device *dev)
{
   struct vn_feedback_pool *pool = &dev->feedback;
   memset(pool, 0, sizeof(*pool));
   mtx_init(&pool->mutex, mtx_plain);
   pool->enabled = dev->physical_device->can_map && !VU_PERF(NO_FEEDBACK);
}

void
vn_feedback_fini(struct vn_device *dev)
{
   struct vn_feedback_pool *pool = &dev->feedback;
   VkDevice device = vn_device_to_handle(dev);
   for (uint32_t i = 0; i < dev->queue_count; i++)
      vn_queue_retire_elided(&dev->queues[i]);
   for (uint32_t i = 0; i < dev->queue_count; i++) {
      struct vn_queue *queue = &dev->queues[i];
      if (queue->fb_pool)
         vn_DestroyCommandPool(device, queue->fb_pool, NULL);
      if (queue->idle_fence)
         vn_DestroyFence(device, queue->idle_fence, NULL);
      vn_feedback_slot_free(dev, &queue->serial_slot);
      free(queue->fb_cmds);
      free(queue->fence_cmds);
   }
   for (uint32_t i = 0; i < pool->buffer_count; i++) {
      vn_DestroyBuffer(device, pool->buffers[i].buffer, NULL);
      vn_FreeMemory(device, pool->buffers[i].memory, NULL);
   }
   free(pool->buffers);
   free(pool->free_slots);
   mtx_destroy(&pool->mutex);
}

static bool
vn_feedback_add_buffer_locked(struct vn_device *dev)
{
   struct vn_feedback_pool *pool = &dev->feedback;
   struct vn_physical_device *pdev = dev->physical_device;
   VkDevice device = vn_device_to_handle(dev);
   struct vn_feedback_buffer fb = { 0 };

   uint32_t families[64];
   const uint32_t family_count = VN_MIN(pdev->queue_family_count, 64u);
   for (uint32_t i = 0; i < family_count; i++)
      families[i] = i;
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = VN_FEEDBACK_BUFFER_SIZE,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .sharingMode = family_count > 1 ? VK_SHARING_MODE_CONCURRENT : VK_SHARING_MODE_EXCLUSIVE,
      .queueFamilyIndexCount = family_count > 1 ? family_count : 0,
      .pQueueFamilyIndices = family_count > 1 ? families : NULL,
   };
   if (vn_CreateBuffer(device, &info, NULL, &fb.buffer) != VK_SUCCESS)
      return false;
   VkMemoryRequirements reqs;
   vn_GetBufferMemoryRequirements(device, fb.buffer, &reqs);
   const VkPhysicalDeviceMemoryProperties *mem = &pdev->memory_properties.memoryProperties;
   const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   uint32_t type = UINT32_MAX;
   for (uint32_t i = 0; i < mem->memoryTypeCount; i++) {
      if ((reqs.memoryTypeBits & (1u << i)) &&
          (mem->memoryTypes[i].propertyFlags & want) == want) {
         type = i;
         break;
      }
   }
   if (type == UINT32_MAX)
      goto fail_buffer;
   const VkMemoryAllocateInfo alloc_info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex = type,
   };
   if (vn_AllocateMemory(device, &alloc_info, NULL, &fb.memory) != VK_SUCCESS)
      goto fail_buffer;
   if (vn_BindBufferMemory(device, fb.buffer, fb.memory, 0) != VK_SUCCESS)
      goto fail_memory;
   void *map;
   if (vn_MapMemory(device, fb.memory, 0, VK_WHOLE_SIZE, 0, &map) != VK_SUCCESS)
      goto fail_memory;
   fb.map = map;

   struct vn_feedback_buffer *buffers =
      realloc(pool->buffers, sizeof(*buffers) * (pool->buffer_count + 1));
   if (!buffers)
      goto fail_memory;
   pool->buffers = buffers;
   buffers[pool->buffer_count++] = fb;
   pool->next = 0;
   return true;

fail_memory:
   vn_FreeMemory(device, fb.memory, NULL);
fail_buffer:
   vn_DestroyBuffer(device, fb.buffer, NULL);
   return false;
}

bool
vn_feedback_slot_alloc(struct vn_device *dev, struct vn_feedback_slot *out_slot)
{
   struct vn_feedback_pool *pool = &dev->feedback;
   memset(out_slot, 0, sizeof(*out_slot));
   if (!pool->enabled)
      return false;
   mtx_lock(&pool->mutex);
   if (pool->free_count) {
      *out_slot = pool->free_slots[--pool->free_count];
      mtx_unlock(&pool->mutex);
      return true;
   }
   if (!pool->buffer_count || pool->next + VN_FEEDBACK_SLOT_SIZE > VN_FEEDBACK_BUFFER_SIZE) {
      if (!vn_feedback_add_buffer_locked(dev)) {
         vn_log_warn("feedback memory unavailable; status queries will be round trips");
         pool->enabled = false;
         mtx_unlock(&pool->mutex);
         return false;
      }
   }
   struct vn_feedback_buffer *fb = &pool->buffers[pool->buffer_count - 1];
   out_slot->buffer = fb->buffer;
   out_slot->offset = pool->next;
   out_slot->ptr = fb->map + pool->next;
   pool->next += VN_FEEDBACK_SLOT_SIZE;
   mtx_unlock(&pool->mutex);
   return true;
}

void
vn_feedback_slot_free(struct vn_device *dev, struct vn_feedback_slot *slot)
{
   struct vn_feedback_pool *pool = &dev->feedback;
   if (!slot->buffer)
      return;
   mtx_lock(&pool->mutex);
   if (pool->free_count == pool->free_capacity) {
      const uint32_t cap = pool->free_capacity ? pool->free_capacity * 2 : 64;
      struct vn_feedback_slot *slots = realloc(pool->free_slots, sizeof(*slots) * cap);
      if (!slots) {
         mtx_unlock(&pool->mutex);
         return;
      }
      pool->free_slots = slots;
      pool->free_capacity = cap;
   }
   pool->free_slots[pool->free_count++] = *slot;
   mtx_unlock(&pool->mutex);
   memset(slot, 0, sizeof(*slot));
}

/* The feedback writes wait for all earlier work and its writes (which the
 * barrier of vn_feedback_encode_end then makes available to the host). They
 * only write: a transfer read in the second access scope made every fenced
 * submission about 1 us longer on the GPU of an NVIDIA H200 (bench/README.md,
 * issue 13, round 10). */
void
vn_feedback_encode_begin(struct vp_encoder *enc, VkCommandBuffer cmd)
{
   const VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
   };
   vp_encode_vkCmdPipelineBarrier(enc, 0, cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                                  VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &barrier, 0, NULL, 0,
                                  NULL);
}

void
vn_feedback_encode_end(struct vp_encoder *enc, VkCommandBuffer cmd)
{
   const VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
   };
   vp_encode_vkCmdPipelineBarrier(enc, 0, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                  VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
}

/* vkCmdUpdateBuffer rather than vkCmdFillBuffer: on the H200 a fill between
 * the two barriers cost the GPU about 1.3 us more per submission */
void
vn_feedback_encode_write32(struct vp_encoder *enc,
                           VkCommandBuffer cmd,
                           const struct vn_feedback_slot *slot,
                           uint32_t value)
{
   vp_encode_vkCmdUpdateBuffer(enc, 0, cmd, slot->buffer, slot->offset, 4, &value);
}

void
vn_feedback_encode_write64(struct vp_encoder *enc,
                           VkCommandBuffer cmd,
                           const struct vn_feedback_slot *slot,
                           uint64_t value)
{
   vp_encode_vkCmdUpdateBuffer(enc, 0, cmd, slot->buffer, slot->offset, 8, &value);
}
