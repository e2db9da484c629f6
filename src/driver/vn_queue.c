/*
 * Queue submission (always asynchronous) and idle emulation.
 *
 * With feedback, a submission that signals a fence or timeline semaphores,
 * or runs command buffers that end queries, gets internal command buffers
 * appended to its batches: each batch that signals timeline semaphores
 * writes their values; the last batch also writes the fence status, the
 * queue serial and copies the touched queries to their pools' feedback
 * buffers. Putting the writes inside the signalling batch keeps them behind
 * that batch's semaphore waits.
 */
#include "vn_queue.h"


#include "vn_command_buffer.h"
#include "vn_device.h"

#define VN_MAX_FB_WRITES 64

struct vn_fb_write {
   const struct vn_feedback_slot *slot;
   uint64_t value;
   bool is64;
};

/* the queue's pool of internal command buffers, and its serial slot */
static bool
vn_queue_fb_init(struct vn_queue *queue)
{
   struct vn_device *dev = queue->device;
   if (queue->fb_pool)
      return true;
   if (!queue->serial_slot.buffer && !vn_feedback_slot_alloc(dev, &queue->serial_slot))
      return false;
   vn_feedback_write64(&queue->serial_slot, 0);
   return vn_command_pool_create_internal(dev, queue->family, &queue->fb_pool) == VK_SUCCESS;
}

/* an internal command buffer of the queue that is free to record */
static VkCommandBuffer
vn_queue_fb_cmd_get(struct vn_queue *queue, uint64_t serial)
{
   struct vn_device *dev = queue->device;
   if (!vn_queue_fb_init(queue))
      return VK_NULL_HANDLE;
   const uint64_t done = vn_feedback_read64(&queue->serial_slot);
   for (uint32_t i = 0; i < queue->fb_cmd_count; i++) {
      struct vn_queue_fb_cmd *c = &queue->fb_cmds[i];
      if (c->serial <= done) {
         c->serial = serial;
         return c->cmd;
      }
   }
   struct vn_queue_fb_cmd *cmds =
      realloc(queue->fb_cmds, sizeof(*cmds) * (queue->fb_cmd_count + 1));
   if (!cmds)
      return VK_NULL_HANDLE;
   queue->fb_cmds = cmds;
   VkCommandBuffer cmd = vn_command_buffer_create_internal(dev, queue->fb_pool);
   if (!cmd)
      return VK_NULL_HANDLE;
   cmds[queue->fb_cmd_count++] = (struct vn_queue_fb_cmd){ cmd, serial };
   return cmd;
}

/* Writes `value` into the availability words of queries [first, first +
 * count) of `pool`: updates for the usual few queries (a fill between the
 * feedback barriers costs the H200 more, vn_feedback.c), a fill beyond. */
static void
vn_encode_query_availability(struct vp_encoder *enc,
                             VkCommandBuffer cmd,
                             const struct vn_query_range *r,
                             uint32_t value)
{
   static const uint64_t ones[64] = {
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
   };
   static const uint64_t zeros[64];
   const VkDeviceSize offset = vn_query_pool_availability_offset(r->pool, r->first);
   const VkDeviceSize size = (VkDeviceSize)r->count * sizeof(uint64_t);
   if (r->count <= 64)
      vp_encode_vkCmdUpdateBuffer(enc, 0, cmd, r->pool->fb_buffer, offset, size,
                                  value ? ones : zeros);
   else
      vp_encode_vkCmdFillBuffer(enc, 0, cmd, r->pool->fb_buffer, offset, size, value);
}

/* The query part of a feedback command buffer, between the feedback
 * barriers. The feedback keeps each query's results and, apart, its
 * availability word, which the guest reads as "the results are there": a
 * host copy need not write a query's results before its availability
 * (lavapipe's PRIMITIVES_GENERATED results read 0 now and then, seen in the
 * CTS), so the results are copied without availability (waiting for those
 * the submission itself produces), and after a barrier updates write the
 * availability, next to the fence and serial writes that follow. Resets
 * clear the availability before: no end range holds a query that a later
 * reset covers (vn_query_list.h), and the clears touch no result word the
 * copies write. */
static void
vn_encode_query_copies(struct vp_encoder *enc,
                       VkCommandBuffer cmd,
                       const struct vn_query_list *queries)
{
   for (uint32_t i = 0; i < queries->reset_count; i++)
      vn_encode_query_availability(enc, cmd, &queries->resets[i], 0);
   if (!queries->end_count)
      return;
   for (uint32_t i = 0; i < queries->end_count; i++) {
      const struct vn_query_range *r = &queries->ends[i];
      const VkDeviceSize stride = r->pool->result_count * sizeof(uint64_t);
      vp_encode_vkCmdCopyQueryPoolResults(enc, 0, cmd, vn_query_pool_to_handle(r->pool),
                                          r->first, r->count, r->pool->fb_buffer,
                                          r->first * stride, stride,
                                          VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
   }
   const VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
   };
   vp_encode_vkCmdPipelineBarrier(enc, 0, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                  VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &barrier, 0, NULL, 0,
                                  NULL);
   for (uint32_t i = 0; i < queries->end_count; i++)
      vn_encode_query_availability(enc, cmd, &queries->ends[i], 1);
}

/* Records a feedback command buffer: the writes, and when `last` the queue
 * serial, the fence and the query copies. */
static VkCommandBuffer
vn_queue_record_fb(struct vn_queue *queue,
                   uint64_t serial,
                   const struct vn_fb_write *writes,
                   uint32_t write_count,
                   bool last,
                   struct vn_fence *fence,
                   const struct vn_query_list *queries)
{
   VkCommandBuffer cmd = vn_queue_fb_cmd_get(queue, serial);
   if (!cmd)
      return VK_NULL_HANDLE;
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   vn_BeginCommandBuffer(cmd, &begin);
   struct vp_encoder *enc = vn_cmd_encoder(cmd);
   vn_feedback_encode_begin(enc, cmd);
   if (last)
      vn_encode_query_copies(enc, cmd, queries);
   for (uint32_t i = 0; i < write_count; i++) {
      if (writes[i].is64)
         vn_feedback_encode_write64(enc, cmd, writes[i].slot, writes[i].value);
      else
         vn_feedback_encode_write32(enc, cmd, writes[i].slot, (uint32_t)writes[i].value);
   }
   if (last) {
      if (fence && fence->slot.buffer)
         vn_feedback_encode_write32(enc, cmd, &fence->slot, VK_SUCCESS);
      vn_feedback_encode_write64(enc, cmd, &queue->serial_slot, serial);
   }
   vn_feedback_encode_end(enc, cmd);
   if (vn_EndCommandBuffer(cmd) != VK_SUCCESS)
      return VK_NULL_HANDLE;
   return cmd;
}

/* fence-only feedback kept per fence slot: at most this many per queue */
#define VN_MAX_FENCE_CMDS 64

/* The command buffer that writes a fence's status, for a submission with no
 * other feedback: recorded once (simultaneous use: a fence waited for through
 * its slot may be resubmitted before the host has retired the last
 * submission) instead of a fresh one per submission, which cost the renderer
 * a begin, four commands and an end on the host before every such submit.
 * It writes no queue serial: nothing waits for one (vkQueueWaitIdle uses a
 * fence), and a later serial covers the recycling of earlier command
 * buffers. VK_NULL_HANDLE: record one per submission as before. */
static VkCommandBuffer
vn_queue_fence_cmd(struct vn_queue *queue, const struct vn_fence *fence)
{
   for (uint32_t i = 0; i < queue->fence_cmd_count; i++) {
      const struct vn_queue_fence_cmd *c = &queue->fence_cmds[i];
      if (c->buffer == fence->slot.buffer && c->offset == fence->slot.offset)
         return c->cmd;
   }
   if (queue->fence_cmd_count >= VN_MAX_FENCE_CMDS || !vn_queue_fb_init(queue))
      return VK_NULL_HANDLE;
   struct vn_queue_fence_cmd *cmds =
      realloc(queue->fence_cmds, sizeof(*cmds) * (queue->fence_cmd_count + 1));
   if (!cmds)
      return VK_NULL_HANDLE;
   queue->fence_cmds = cmds;
   VkCommandBuffer cmd = vn_command_buffer_create_internal(queue->device, queue->fb_pool);
   if (!cmd)
      return VK_NULL_HANDLE;
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT,
   };
   vn_BeginCommandBuffer(cmd, &begin);
   struct vp_encoder *enc = vn_cmd_encoder(cmd);
   vn_feedback_encode_begin(enc, cmd);
   vn_feedback_encode_write32(enc, cmd, &fence->slot, VK_SUCCESS);
   vn_feedback_encode_end(enc, cmd);
   if (vn_EndCommandBuffer(cmd) != VK_SUCCESS)
      return VK_NULL_HANDLE;
   cmds[queue->fence_cmd_count++] =
      (struct vn_queue_fence_cmd){ fence->slot.buffer, fence->slot.offset, cmd };
   return cmd;
}

/* the feedback command buffer of a batch (see the file comment) */
static VkCommandBuffer
vn_queue_batch_fb(struct vn_queue *queue,
                  uint64_t serial,
                  const struct vn_fb_write *writes,
                  uint32_t write_count,
                  bool last,
                  struct vn_fence *fence,
                  const struct vn_query_list *queries)
{
   if (last && !write_count && !queries->end_count && !queries->reset_count && fence &&
       fence->slot.buffer) {
      VkCommandBuffer cmd = vn_queue_fence_cmd(queue, fence);
      if (cmd)
         return cmd;
   }
   return vn_queue_record_fb(queue, serial, writes, write_count, last, fence, queries);
}

/* A submission sent as the application made it: until the renderer was told
 * to wait for a host fence behind it, fence-only submissions of the queue
 * keep their host fence (vn_queue_elide_fence). Returns its serial. */
static uint64_t
vn_queue_submitted(struct vn_queue *queue, struct vn_fence *fence)
{
   queue->content_serial = ++queue->serial;
   atomic_store_explicit(&queue->submitted_serial, queue->serial, memory_order_relaxed);
   if (fence) {
      fence->queue = queue;
      fence->serial = queue->content_serial;
      atomic_store(&fence->host_synced, false);
   }
   return queue->content_serial;
}

/* The fence whose status a submission's feedback writes: none for a fence
 * of frames in flight (pipelined: waits found later work of its queue
 * submitted behind it). Waiting for such a fence needs no early notice, the
 * queue stays busy past it, and on the GPU of an NVIDIA H200 the write
 * (between the feedback barriers) cost each frame about 2.7 us: its status
 * comes from the host instead (status_on_host, vn_sync.c). */
static bool
vn_queue_may_skip_feedback(const struct vn_queue *queue)
{
   const struct vn_device *dev = queue->device;
   return dev->feedback.enabled && dev->instance->transport->capset.allow_vk_wait_syncs &&
          !VU_PERF(FENCE_FEEDBACK);
}

static struct vn_fence *
vn_queue_feedback_fence(struct vn_queue *queue, struct vn_fence *fence)
{
   if (!fence)
      return NULL;
   const bool skip = fence->slot.buffer && atomic_load(&fence->pipelined) &&
                     vn_queue_may_skip_feedback(queue);
   atomic_store(&fence->status_on_host, skip);
   queue->unwritten_count += skip;
   return skip ? NULL : fence;
}

/* Whether a submission's feedback writes the value a timeline signal
 * carries: not for a timeline of frames in flight, for the reasons of
 * vn_queue_feedback_fence (its values then come from the host, vn_sync.c). */
static bool
vn_queue_feeds_back(const struct vn_queue *queue, struct vn_semaphore *sem)
{
   return sem->type == VK_SEMAPHORE_TYPE_TIMELINE && sem->slot.buffer &&
          !(atomic_load(&sem->pipelined) && vn_queue_may_skip_feedback(queue));
}

/* a timeline signal sent without its feedback write: the host has its
 * value (vn_sync.c reads it there while the slot is below it) */
static void
vn_queue_note_unwritten(struct vn_queue *queue, struct vn_semaphore *sem, uint64_t value)
{
   vn_atomic_raise(&sem->unwritten_value, value);
   queue->unwritten_count++;
}

void
vn_queue_host_wait_sent(struct vn_queue *queue, uint64_t serial)
{
   vn_atomic_raise(&queue->retired_serial, serial);
}

/* The batches of a vkQueueSubmit or a vkQueueSubmit2, read alike: what the
 * feedback needs of them (semaphores, signal values, command buffers) is
 * the same in both. */
struct vn_submits {
   uint32_t count;
   bool is2;               /* which of the two (either may be NULL) */
   const VkSubmitInfo *v1;
   const VkSubmitInfo2 *v2;
};

static bool
vn_submits_empty(const struct vn_submits *s)
{
   for (uint32_t i = 0; i < s->count; i++) {
      if (s->is2 ? s->v2[i].pNext || s->v2[i].flags || s->v2[i].waitSemaphoreInfoCount ||
                      s->v2[i].commandBufferInfoCount || s->v2[i].signalSemaphoreInfoCount
                 : s->v1[i].pNext || s->v1[i].waitSemaphoreCount ||
                      s->v1[i].commandBufferCount || s->v1[i].signalSemaphoreCount)
         return false;
   }
   return true;
}

static uint32_t
vn_submits_signal_count(const struct vn_submits *s, uint32_t i)
{
   return s->is2 ? s->v2[i].signalSemaphoreInfoCount : s->v1[i].signalSemaphoreCount;
}

/* The j-th signal of batch i; *value is its timeline value, false where a
 * vkQueueSubmit batch gives none (a binary semaphore, or a short array). */
static bool
vn_submits_signal(const struct vn_submits *s,
                  uint32_t i,
                  uint32_t j,
                  struct vn_semaphore **sem,
                  uint64_t *value)
{
   if (s->is2) {
      *sem = vn_semaphore_from_handle(s->v2[i].pSignalSemaphoreInfos[j].semaphore);
      *value = s->v2[i].pSignalSemaphoreInfos[j].value;
      return true;
   }
   *sem = vn_semaphore_from_handle(s->v1[i].pSignalSemaphores[j]);
   const VkTimelineSemaphoreSubmitInfo *tl =
      vp_chain_find(s->v1[i].pNext, VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
   if (!tl || j >= tl->signalSemaphoreValueCount)
      return false;
   *value = tl->pSignalSemaphoreValues[j];
   return true;
}

/* the queries of the command buffers, added to `list` in submission order
 * (the driver's own allocator: the list lasts as long as the call) */
static void
vn_submits_collect_queries(const struct vn_submits *s, struct vn_query_list *list)
{
   for (uint32_t i = 0; i < s->count; i++) {
      const uint32_t n = s->is2 ? s->v2[i].commandBufferInfoCount : s->v1[i].commandBufferCount;
      for (uint32_t j = 0; j < n; j++) {
         VkCommandBuffer cmd =
            s->is2 ? s->v2[i].pCommandBufferInfos[j].commandBuffer : s->v1[i].pCommandBuffers[j];
         vn_query_list_append(list, NULL, &vn_command_buffer_from_handle(cmd)->queries);
      }
   }
}

/* after a submission went into the ring: the timeline values it signals */
static void
vn_submits_note_sent(const struct vn_submits *s)
{
   for (uint32_t i = 0; i < s->count; i++) {
      for (uint32_t j = 0; j < vn_submits_signal_count(s, i); j++) {
         struct vn_semaphore *sem;
         uint64_t value;
         if (vn_submits_signal(s, i, j, &sem, &value) && sem->type == VK_SEMAPHORE_TYPE_TIMELINE)
            vn_atomic_raise(&sem->sent_value, value);
      }
   }
}

/* Whether the submission needs feedback (a fence status, timeline values
 * written, queries ended or reset); `queries` gets its queries. Without it,
 * the timeline signals it carries to semaphores with feedback slots go
 * unwritten. */
static bool
vn_queue_needs_feedback(struct vn_queue *queue,
                        const struct vn_submits *s,
                        const struct vn_fence *fb_fence,
                        struct vn_query_list *queries)
{
   if (queue->device->feedback.enabled) {
      bool need = fb_fence && fb_fence->slot.buffer;
      vn_submits_collect_queries(s, queries);
      need |= queries->end_count || queries->reset_count;
      for (uint32_t i = 0; i < s->count && !need; i++) {
         for (uint32_t j = 0; j < vn_submits_signal_count(s, i) && !need; j++) {
            struct vn_semaphore *sem;
            uint64_t value;
            vn_submits_signal(s, i, j, &sem, &value);
            need = vn_queue_feeds_back(queue, sem);
         }
      }
      if (need)
         return true;
   }
   for (uint32_t i = 0; i < s->count; i++) {
      for (uint32_t j = 0; j < vn_submits_signal_count(s, i); j++) {
         struct vn_semaphore *sem;
         uint64_t value;
         if (vn_submits_signal(s, i, j, &sem, &value) &&
             sem->type == VK_SEMAPHORE_TYPE_TIMELINE && sem->slot.buffer)
            vn_queue_note_unwritten(queue, sem, value);
      }
   }
   return false;
}

/* The feedback writes of batch i's timeline signals, at most
 * VN_MAX_FB_WRITES: beyond them, and for timelines of frames in flight, the
 * host has the value. */
static uint32_t
vn_queue_batch_writes(struct vn_queue *queue,
                      const struct vn_submits *s,
                      uint32_t i,
                      struct vn_fb_write *writes)
{
   uint32_t count = 0;
   for (uint32_t j = 0; i < s->count && j < vn_submits_signal_count(s, i); j++) {
      struct vn_semaphore *sem;
      uint64_t value;
      if (!vn_submits_signal(s, i, j, &sem, &value) ||
          sem->type != VK_SEMAPHORE_TYPE_TIMELINE || !sem->slot.buffer)
         continue;
      if (!vn_queue_feeds_back(queue, sem) || count == VN_MAX_FB_WRITES) {
         vn_queue_note_unwritten(queue, sem, value);
         continue;
      }
      writes[count++] = (struct vn_fb_write){ &sem->slot, value, true };
   }
   return count;
}

/* Fence elision, for a submission with nothing in its batches but a fence.
 *
 * On NVIDIA a signal operation on a submission makes the GPU's completion
 * visible to the CPU about 10 us later (bench/README.md, issue 13 round 4).
 * Such a submission needs none on the host: the guest learns of its fence
 * from the feedback slot, which the slot's command buffer writes behind a
 * barrier on all earlier work of the queue, and the host has nothing of it to
 * retire but that command buffer (recorded once, simultaneous use, destroyed
 * with the device after vn_queue_retire_elided). It goes to the host without
 * the fence when the host queue holds nothing else to retire: every earlier
 * submission of the queue is elided or was followed, in the ring, by a host
 * wait for a fence behind it (retired_serial). Otherwise the fence goes to the
 * host as before: an application may free what earlier fence-less
 * submissions used once this fence has signalled, and the renderer's host
 * calls must come after the host retired those. The host fence stays
 * unsignalled, so nothing waits for it on the host (host_synced). */
static bool
vn_queue_elide_fence(struct vn_queue *queue, struct vn_fence *fence)
{
   struct vn_device *dev = queue->device;
   if (!fence || !fence->slot.buffer || fence->imported.active || !dev->feedback.enabled ||
       !dev->instance->transport->capset.allow_vk_wait_syncs ||
       queue->content_serial > atomic_load(&queue->retired_serial) ||
       VU_PERF(NO_FENCE_ELISION))
      return false;
   VkCommandBuffer cmd = vn_queue_fence_cmd(queue, fence);
   if (!cmd)
      return false;
   fence->queue = queue;
   atomic_store(&fence->host_synced, true);
   atomic_store(&fence->status_on_host, false);
   queue->elided_count++;
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   vn_async_vkQueueSubmit(dev->ring, vn_queue_to_handle(queue), 1, &submit, VK_NULL_HANDLE);
   vn_ring_kick(dev->ring); /* GPU work waits for the ring thread */
   return true;
}

void
vn_queue_retire_elided(struct vn_queue *queue)
{
   if (!queue->elided_count || vn_device_is_lost(queue->device))
      return;
   /* as if the queue held unretired work: the idle fence goes to the host,
    * and waiting for it makes the renderer wait for it there */
   queue->content_serial = ++queue->serial;
   vn_queue_wait_idle(queue);
}

/* Before a submission: imported payloads of the semaphores it waits on are
 * resolved, and the binary semaphores it signals remember the queue. */
static VkResult
vn_queue_prepare_semaphores(struct vn_queue *queue,
                            uint32_t wait_count,
                            const VkSemaphore *waits,
                            const VkSemaphoreSubmitInfo *wait_infos,
                            uint32_t signal_count,
                            const VkSemaphore *signals,
                            const VkSemaphoreSubmitInfo *signal_infos)
{
   for (uint32_t i = 0; i < wait_count; i++) {
      const VkSemaphore handle = waits ? waits[i] : wait_infos[i].semaphore;
      if (vn_semaphore_from_handle(handle)->imported.active) {
         const VkResult result = vn_semaphore_resolve_import(queue->device, handle);
         if (result != VK_SUCCESS)
            return result;
      }
   }
   for (uint32_t i = 0; i < signal_count; i++) {
      struct vn_semaphore *sem =
         vn_semaphore_from_handle(signals ? signals[i] : signal_infos[i].semaphore);
      if (sem->type == VK_SEMAPHORE_TYPE_BINARY)
         sem->queue = queue;
   }
   return VK_SUCCESS;
}

/* `batches` into the ring, as vkQueueSubmit or vkQueueSubmit2 (whichever
 * they are); then the timeline values the application's submission `s`
 * signals count as sent */
static VkResult
vn_queue_send(struct vn_queue *queue,
              const struct vn_submits *s,
              const struct vn_submits *batches,
              VkFence fence)
{
   struct vn_device *dev = queue->device;
   if (batches->is2)
      vn_async_vkQueueSubmit2(dev->ring, vn_queue_to_handle(queue), batches->count, batches->v2,
                              fence);
   else
      vn_async_vkQueueSubmit(dev->ring, vn_queue_to_handle(queue), batches->count, batches->v1,
                             fence);
   vn_submits_note_sent(s);
   vn_ring_kick(dev->ring); /* GPU work waits for the ring thread */
   return vn_device_is_lost(dev) ? VK_ERROR_DEVICE_LOST : VK_SUCCESS;
}

/* What vkQueueSubmit and vkQueueSubmit2 share before their batches are
 * built: semaphore preparation, fence elision, the serial, and a submission
 * that needs no feedback sent as it is. Returns false when the submission
 * is done (*result says how); else *serial, *fb_fence and `queries` are set
 * for the batches' feedback. */
static bool
vn_queue_submit_begin(struct vn_queue *queue,
                      const struct vn_submits *s,
                      struct vn_fence *fence,
                      uint64_t *serial,
                      struct vn_fence **fb_fence,
                      struct vn_query_list *queries,
                      VkResult *result)
{
   struct vn_device *dev = queue->device;
   *result = VK_SUCCESS;
   if (vn_device_is_lost(dev)) {
      *result = VK_ERROR_DEVICE_LOST;
      return false;
   }
   for (uint32_t i = 0; i < s->count; i++) {
      *result = s->is2 ? vn_queue_prepare_semaphores(
                            queue, s->v2[i].waitSemaphoreInfoCount, NULL,
                            s->v2[i].pWaitSemaphoreInfos, s->v2[i].signalSemaphoreInfoCount,
                            NULL, s->v2[i].pSignalSemaphoreInfos)
                       : vn_queue_prepare_semaphores(
                            queue, s->v1[i].waitSemaphoreCount, s->v1[i].pWaitSemaphores, NULL,
                            s->v1[i].signalSemaphoreCount, s->v1[i].pSignalSemaphores, NULL);
      if (*result != VK_SUCCESS)
         return false;
   }
   if (vn_submits_empty(s) && vn_queue_elide_fence(queue, fence)) {
      *result = vn_device_is_lost(dev) ? VK_ERROR_DEVICE_LOST : VK_SUCCESS;
      return false;
   }
   *serial = vn_queue_submitted(queue, fence);
   *fb_fence = vn_queue_feedback_fence(queue, fence);
   if (vn_queue_needs_feedback(queue, s, *fb_fence, queries))
      return true;
   vn_query_list_fini(queries, NULL);
   *result = vn_queue_send(queue, s, s, vn_fence_to_handle(fence));
   return false;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_QueueSubmit(VkQueue _queue, uint32_t submitCount, const VkSubmitInfo *pSubmits, VkFence _fence)
{
   struct vn_queue *queue = vn_queue_from_handle(_queue);
   const struct vn_submits submits = { submitCount, false, pSubmits, NULL };
   uint64_t serial;
   struct vn_fence *fb_fence;
   struct vn_query_list queries = { 0 };
   VkResult result;
   if (!vn_queue_submit_begin(queue, &submits, vn_fence_from_handle(_fence), &serial, &fb_fence,
                              &queries, &result))
      return vn_result(result);

   const uint32_t count = submitCount ? submitCount : 1;
   VkSubmitInfo *subs = calloc(count, sizeof(*subs));
   VkCommandBuffer **cmd_arrays = calloc(count, sizeof(*cmd_arrays));
   void **chains = calloc(count, sizeof(*chains));
   uint32_t **mask_arrays = calloc(count, sizeof(*mask_arrays));
   if (!subs || !cmd_arrays || !chains || !mask_arrays) {
      result = VK_ERROR_OUT_OF_HOST_MEMORY;
      goto out;
   }
   if (!submitCount)
      subs[0] = (VkSubmitInfo){ .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO };
   else
      memcpy(subs, pSubmits, sizeof(*subs) * submitCount);

   for (uint32_t i = 0; i < count; i++) {
      VkSubmitInfo *s = &subs[i];
      struct vn_fb_write writes[VN_MAX_FB_WRITES];
      const uint32_t write_count = vn_queue_batch_writes(queue, &submits, i, writes);
      const bool last = i == count - 1;
      if (!write_count && !last)
         continue;
      VkCommandBuffer fb = vn_queue_batch_fb(queue, serial, writes, write_count, last, fb_fence,
                                             &queries);
      if (!fb) {
         result = vn_device_is_lost(queue->device) ? VK_ERROR_DEVICE_LOST
                                                   : VK_ERROR_OUT_OF_HOST_MEMORY;
         goto out;
      }
      cmd_arrays[i] = malloc(sizeof(VkCommandBuffer) * (s->commandBufferCount + 1));
      if (!cmd_arrays[i]) {
         result = VK_ERROR_OUT_OF_HOST_MEMORY;
         goto out;
      }
      if (s->commandBufferCount)
         memcpy(cmd_arrays[i], s->pCommandBuffers, sizeof(VkCommandBuffer) * s->commandBufferCount);
      cmd_arrays[i][s->commandBufferCount] = fb;
      /* a device-group mask per command buffer */
      const VkDeviceGroupSubmitInfo *group =
         vp_chain_find(s->pNext, VK_STRUCTURE_TYPE_DEVICE_GROUP_SUBMIT_INFO);
      if (group) {
         const void *head;
         chains[i] = vn_chain_clone(s->pNext, NULL, 0, &head);
         mask_arrays[i] = malloc(sizeof(uint32_t) * (s->commandBufferCount + 1));
         if (!chains[i] || !mask_arrays[i]) {
            result = VK_ERROR_OUT_OF_HOST_MEMORY;
            goto out;
         }
         VkDeviceGroupSubmitInfo *g =
            vp_chain_find_mut(head, VK_STRUCTURE_TYPE_DEVICE_GROUP_SUBMIT_INFO);
         memcpy(mask_arrays[i], group->pCommandBufferDeviceMasks,
                sizeof(uint32_t) * group->commandBufferCount);
         mask_arrays[i][group->commandBufferCount] = 1;
         g->commandBufferCount++;
         g->pCommandBufferDeviceMasks = mask_arrays[i];
         s->pNext = head;
      }
      s->pCommandBuffers = cmd_arrays[i];
      s->commandBufferCount++;
   }
   const struct vn_submits batches = { count, false, subs, NULL };
   result = vn_queue_send(queue, &submits, &batches, _fence);

out:
   for (uint32_t i = 0; subs && i < count; i++) {
      if (cmd_arrays)
         free(cmd_arrays[i]);
      if (chains)
         free(chains[i]);
      if (mask_arrays)
         free(mask_arrays[i]);
   }
   free(subs);
   free(cmd_arrays);
   free(chains);
   free(mask_arrays);
   vn_query_list_fini(&queries, NULL);
   return vn_result(result);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_QueueSubmit2(VkQueue _queue, uint32_t submitCount, const VkSubmitInfo2 *pSubmits, VkFence _fence)
{
   struct vn_queue *queue = vn_queue_from_handle(_queue);
   const struct vn_submits submits = { submitCount, true, NULL, pSubmits };
   uint64_t serial;
   struct vn_fence *fb_fence;
   struct vn_query_list queries = { 0 };
   VkResult result;
   if (!vn_queue_submit_begin(queue, &submits, vn_fence_from_handle(_fence), &serial, &fb_fence,
                              &queries, &result))
      return vn_result(result);

   const uint32_t count = submitCount ? submitCount : 1;
   VkSubmitInfo2 *subs = calloc(count, sizeof(*subs));
   VkCommandBufferSubmitInfo **cmd_arrays = calloc(count, sizeof(*cmd_arrays));
   if (!subs || !cmd_arrays) {
      result = VK_ERROR_OUT_OF_HOST_MEMORY;
      goto out;
   }
   if (!submitCount)
      subs[0] = (VkSubmitInfo2){ .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2 };
   else
      memcpy(subs, pSubmits, sizeof(*subs) * submitCount);

   for (uint32_t i = 0; i < count; i++) {
      VkSubmitInfo2 *s = &subs[i];
      struct vn_fb_write writes[VN_MAX_FB_WRITES];
      const uint32_t write_count = vn_queue_batch_writes(queue, &submits, i, writes);
      const bool last = i == count - 1;
      if (!write_count && !last)
         continue;
      VkCommandBuffer fb = vn_queue_batch_fb(queue, serial, writes, write_count, last, fb_fence,
                                             &queries);
      if (!fb) {
         result = vn_device_is_lost(queue->device) ? VK_ERROR_DEVICE_LOST
                                                   : VK_ERROR_OUT_OF_HOST_MEMORY;
         goto out;
      }
      cmd_arrays[i] = malloc(sizeof(VkCommandBufferSubmitInfo) * (s->commandBufferInfoCount + 1));
      if (!cmd_arrays[i]) {
         result = VK_ERROR_OUT_OF_HOST_MEMORY;
         goto out;
      }
      if (s->commandBufferInfoCount)
         memcpy(cmd_arrays[i], s->pCommandBufferInfos,
                sizeof(VkCommandBufferSubmitInfo) * s->commandBufferInfoCount);
      cmd_arrays[i][s->commandBufferInfoCount] = (VkCommandBufferSubmitInfo){
         .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO,
         .commandBuffer = fb,
      };
      s->pCommandBufferInfos = cmd_arrays[i];
      s->commandBufferInfoCount++;
   }
   const struct vn_submits batches = { count, true, NULL, subs };
   result = vn_queue_send(queue, &submits, &batches, _fence);

out:
   for (uint32_t i = 0; cmd_arrays && i < count; i++)
      free(cmd_arrays[i]);
   free(subs);
   free(cmd_arrays);
   vn_query_list_fini(&queries, NULL);
   return vn_result(result);
}

/* The timeline signals of sparse bindings: before they go into the ring,
 * unwritten (`sent` false); after, sent. */
static void
vn_queue_note_sparse_signals(struct vn_queue *queue,
                             uint32_t count,
                             const VkBindSparseInfo *infos,
                             bool sent)
{
   for (uint32_t i = 0; i < count; i++) {
      const VkTimelineSemaphoreSubmitInfo *tl =
         vp_chain_find(infos[i].pNext, VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
      for (uint32_t j = 0; tl && j < infos[i].signalSemaphoreCount &&
                           j < tl->signalSemaphoreValueCount; j++) {
         struct vn_semaphore *sem = vn_semaphore_from_handle(infos[i].pSignalSemaphores[j]);
         if (sem->type != VK_SEMAPHORE_TYPE_TIMELINE)
            continue;
         if (sent)
            vn_atomic_raise(&sem->sent_value, tl->pSignalSemaphoreValues[j]);
         else if (sem->slot.buffer)
            vn_queue_note_unwritten(queue, sem, tl->pSignalSemaphoreValues[j]);
      }
   }
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_QueueBindSparse(VkQueue _queue,
                   uint32_t bindInfoCount,
                   const VkBindSparseInfo *pBindInfo,
                   VkFence _fence)
{
   struct vn_queue *queue = vn_queue_from_handle(_queue);
   struct vn_device *dev = queue->device;
   struct vn_fence *fence = vn_fence_from_handle(_fence);
   for (uint32_t i = 0; i < bindInfoCount; i++) {
      const VkResult result = vn_queue_prepare_semaphores(
         queue, pBindInfo[i].waitSemaphoreCount, pBindInfo[i].pWaitSemaphores, NULL,
         pBindInfo[i].signalSemaphoreCount, pBindInfo[i].pSignalSemaphores, NULL);
      if (result != VK_SUCCESS)
         return vn_error(result);
   }
   /* no feedback writes the timeline values a binding signals: the host has
    * them (as for a submission without feedback) */
   vn_queue_note_sparse_signals(queue, bindInfoCount, pBindInfo, false);
   if (fence && fence->slot.buffer) {
      /* the fence's feedback comes from an empty submission behind it (with
       * its host fence: the binding is work to retire) */
      vn_queue_submitted(queue, NULL);
      vn_async_vkQueueBindSparse(dev->ring, _queue, bindInfoCount, pBindInfo, VK_NULL_HANDLE);
      vn_queue_note_sparse_signals(queue, bindInfoCount, pBindInfo, true);
      return vn_QueueSubmit(_queue, 0, NULL, _fence);
   }
   vn_queue_submitted(queue, fence);
   vn_async_vkQueueBindSparse(dev->ring, _queue, bindInfoCount, pBindInfo, _fence);
   vn_queue_note_sparse_signals(queue, bindInfoCount, pBindInfo, true);
   vn_ring_kick(dev->ring); /* GPU work waits for the ring thread */
   return vn_device_is_lost(dev) ? vn_error(VK_ERROR_DEVICE_LOST) : VK_SUCCESS;
}

/* Prepares the body of a context-path batch for a queue's timeline. A fence
 * on that timeline retires once the host queue is idle (transport.md §F),
 * but the ring's earlier vkQueueSubmit must have reached the host queue
 * first: wire format 1 says so in the batch (vkWaitRingSeqnoMESA), wire
 * format 0 waits for the ring on the CPU and leaves the batch empty. */
static bool
vn_queue_behind_ring(struct vn_device *dev, struct vp_encoder *enc, uint8_t *storage, size_t size)
{
   const uint32_t seqno = vn_ring_current_seqno(dev->ring);
   vp_encoder_init_fixed(enc, storage, size);
   if (vn_transport_is_wire0(dev->instance->transport))
      return vn_ring_wait_seqno(dev->ring, seqno);
   vp_encode_vkWaitRingSeqnoMESA(enc, 0, dev->ring->id, seqno);
   return true;
}

VkResult
vn_queue_wait_idle(struct vn_queue *queue)
{
   struct vn_device *dev = queue->device;
   struct vn_transport *t = dev->instance->transport;
   if (vn_device_is_lost(dev))
      return VK_ERROR_DEVICE_LOST;

   if (dev->feedback.enabled) {
      /* an empty submission with an internal fence; waiting for the fence
       * also makes the renderer wait for the host fence, so later commands
       * run after the queue really is idle */
      VkDevice device = vn_device_to_handle(dev);
      if (!queue->idle_fence) {
         const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
         if (vn_CreateFence(device, &info, NULL, &queue->idle_fence) != VK_SUCCESS)
            return VK_ERROR_OUT_OF_HOST_MEMORY;
      }
      if (vn_fence_from_handle(queue->idle_fence)->slot.buffer) {
         VkResult result = vn_QueueSubmit(vn_queue_to_handle(queue), 0, NULL, queue->idle_fence);
         if (result == VK_SUCCESS)
            result = vn_WaitForFences(device, 1, &queue->idle_fence, VK_TRUE, UINT64_MAX);
         if (result == VK_SUCCESS)
            result = vn_ResetFences(device, 1, &queue->idle_fence);
         return result;
      }
   }

   uint8_t storage[64];
   struct vp_encoder enc;
   if (!vn_queue_behind_ring(dev, &enc, storage, sizeof(storage)))
      return VK_ERROR_DEVICE_LOST;
   if (!vn_transport_submit_wait(t, enc.base, vp_encoder_size(&enc), queue->ring_idx,
                                 (int)(vn_default_timeout_ns() / 1000000)))
      return VK_ERROR_DEVICE_LOST;
   return VK_SUCCESS;
}

VkResult
vn_queue_export_sync_fd(struct vn_queue *queue, int *out_fd)
{
   struct vn_device *dev = queue->device;
   if (vn_device_is_lost(dev))
      return VK_ERROR_DEVICE_LOST;

   uint8_t storage[64];
   struct vp_encoder enc;
   if (!vn_queue_behind_ring(dev, &enc, storage, sizeof(storage)))
      return VK_ERROR_DEVICE_LOST;
   const int fd = vn_transport_submit_fence_fd(dev->instance->transport, enc.base,
                                               vp_encoder_size(&enc), queue->ring_idx);
   if (fd < 0)
      return VK_ERROR_DEVICE_LOST;
   *out_fd = fd;
   return VK_SUCCESS;
}
