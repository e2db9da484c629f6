/*
 * sync: fences, binary and timeline semaphores, across two queues when the
 * device has a second one (vkt picks it), else as two submissions on one queue.
 * Covers fence status/reset/wait with timeout, wait-before-signal released by a
 * host vkSignalSemaphore, vkWaitSemaphores (all/any, zero and finite timeouts),
 * vkGetSemaphoreCounterValue, the memory dependency a semaphore carries
 * between the two queues (data written on one queue, read on the other), and
 * frames in flight paced by fences or by a timeline (also through
 * vkQueueSubmit2 where synchronization2 is supported).
 */
#include <stdio.h>
#include <string.h>

#include "vkt.h"

#define SYNC_WORDS 256u
#define SYNC_BYTES (SYNC_WORDS * 4u)
#define SYNC_FILL_X 0x11111111u
#define SYNC_FILL_Y 0x22222222u
#define SYNC_FILL_Z 0x33333333u
#define SYNC_SHORT_TIMEOUT_NS 1000000ull /* 1 ms */

struct sync_test {
   struct vkt_context *ctx;
   VkDevice dev;
   struct vkt_buffer x, y, z, rb;
   VkCommandBuffer cmds[5];
   VkFence fence;
   /* the frames and many_signals tests submit with vkQueueSubmit2 */
   bool submit2;
};

static void
sync_record_fill(VkCommandBuffer cmd, const struct vkt_buffer *buf, uint32_t value)
{
   vkCmdFillBuffer(cmd, buf->buffer, 0, SYNC_BYTES, value);
   VKT_CALL(vkEndCommandBuffer(cmd));
}

static void
sync_record_readback(VkCommandBuffer cmd,
                     const struct vkt_buffer *src,
                     const struct vkt_buffer *rb,
                     uint32_t slot)
{
   const VkBufferCopy region = { 0, slot * SYNC_BYTES, SYNC_BYTES };
   vkCmdCopyBuffer(cmd, src->buffer, rb->buffer, 1, &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   VKT_CALL(vkEndCommandBuffer(cmd));
}

/* One batch: optional command buffer, optional wait, optional binary or
 * timeline signal. */
static void
sync_submit(VkQueue queue,
            VkCommandBuffer cmd,
            VkSemaphore wait_sem,
            uint64_t wait_value,
            VkSemaphore signal_sem,
            uint64_t signal_value,
            VkFence fence)
{
   const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
   const VkTimelineSemaphoreSubmitInfo timeline = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = wait_sem ? 1 : 0,
      .pWaitSemaphoreValues = &wait_value,
      .signalSemaphoreValueCount = signal_sem ? 1 : 0,
      .pSignalSemaphoreValues = &signal_value,
   };
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .pNext = &timeline,
      .waitSemaphoreCount = wait_sem ? 1 : 0,
      .pWaitSemaphores = &wait_sem,
      .pWaitDstStageMask = &wait_stage,
      .commandBufferCount = cmd ? 1 : 0,
      .pCommandBuffers = &cmd,
      .signalSemaphoreCount = signal_sem ? 1 : 0,
      .pSignalSemaphores = &signal_sem,
   };
   VKT_CALL(vkQueueSubmit(queue, 1, &submit, fence));
}

/* sync_submit's batch through vkQueueSubmit2 */
static void
sync_submit2(VkQueue queue,
             VkCommandBuffer cmd,
             VkSemaphore wait_sem,
             uint64_t wait_value,
             VkSemaphore signal_sem,
             uint64_t signal_value,
             VkFence fence)
{
   const VkSemaphoreSubmitInfo wait = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
      .semaphore = wait_sem,
      .value = wait_value,
      .stageMask = VK_PIPELINE_STAGE_2_TRANSFER_BIT,
   };
   const VkSemaphoreSubmitInfo signal = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
      .semaphore = signal_sem,
      .value = signal_value,
      .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
   };
   const VkCommandBufferSubmitInfo cmd_info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO,
      .commandBuffer = cmd,
   };
   const VkSubmitInfo2 submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
      .waitSemaphoreInfoCount = wait_sem ? 1 : 0,
      .pWaitSemaphoreInfos = &wait,
      .commandBufferInfoCount = cmd ? 1 : 0,
      .pCommandBufferInfos = &cmd_info,
      .signalSemaphoreInfoCount = signal_sem ? 1 : 0,
      .pSignalSemaphoreInfos = &signal,
   };
   VKT_CALL(vkQueueSubmit2(queue, 1, &submit, fence));
}

static uint64_t
sync_counter(struct sync_test *t, VkSemaphore sem)
{
   uint64_t value = UINT64_MAX;
   VKT_CALL(vkGetSemaphoreCounterValue(t->dev, sem, &value));
   return value;
}

static VkResult
sync_wait(struct sync_test *t,
          uint32_t count,
          const VkSemaphore *sems,
          const uint64_t *values,
          bool any,
          uint64_t timeout)
{
   const VkSemaphoreWaitInfo info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
      .flags = any ? VK_SEMAPHORE_WAIT_ANY_BIT : 0,
      .semaphoreCount = count,
      .pSemaphores = sems,
      .pValues = values,
   };
   return vkWaitSemaphores(t->dev, &info, timeout);
}

static void
sync_host_signal(struct sync_test *t, VkSemaphore sem, uint64_t value)
{
   const VkSemaphoreSignalInfo info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
      .semaphore = sem,
      .value = value,
   };
   VKT_CALL(vkSignalSemaphore(t->dev, &info));
}

static void
sync_test_fences(struct sync_test *t)
{
   struct vkt_context *ctx = t->ctx;
   const VkFenceCreateInfo signaled = {
      .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
      .flags = VK_FENCE_CREATE_SIGNALED_BIT,
   };
   VkFence fence;
   VKT_CALL(vkCreateFence(t->dev, &signaled, NULL, &fence));
   VkResult r = vkGetFenceStatus(t->dev, fence);
   vkt_check(ctx, r == VK_SUCCESS, "signaled fence: status %s", vkt_result_string(r));
   VKT_CALL(vkResetFences(t->dev, 1, &fence));
   r = vkGetFenceStatus(t->dev, fence);
   vkt_check(ctx, r == VK_NOT_READY, "reset fence: status %s", vkt_result_string(r));
   r = vkWaitForFences(t->dev, 1, &fence, VK_TRUE, 0);
   vkt_check(ctx, r == VK_TIMEOUT, "reset fence: zero wait %s", vkt_result_string(r));
   r = vkWaitForFences(t->dev, 1, &fence, VK_TRUE, SYNC_SHORT_TIMEOUT_NS);
   vkt_check(ctx, r == VK_TIMEOUT, "reset fence: 1 ms wait %s", vkt_result_string(r));

   /* a submission with no batches still signals its fence */
   VKT_CALL(vkQueueSubmit(ctx->queue, 0, NULL, fence));
   VKT_CALL(vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX));
   r = vkGetFenceStatus(t->dev, fence);
   vkt_check(ctx, r == VK_SUCCESS, "empty submit: fence status %s", vkt_result_string(r));
   VKT_CALL(vkResetFences(t->dev, 1, &fence));
   r = vkGetFenceStatus(t->dev, fence);
   vkt_check(ctx, r == VK_NOT_READY, "fence reset after use: %s", vkt_result_string(r));
   vkDestroyFence(t->dev, fence, NULL);
}

/* Frames in flight paced by a timeline: batches signalling 1..4 sent, then
 * waits for 1 and for 4 (through our driver on fewer than 4 CPUs the first
 * blocks in the renderer at once, since a later signal is already sent). */
static void
sync_test_timeline_in_flight(struct sync_test *t)
{
   struct vkt_context *ctx = t->ctx;
   VkSemaphore timeline = vkt_semaphore_create(t->ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0);
   for (uint64_t value = 1; value <= 4; value++)
      sync_submit(ctx->queue, VK_NULL_HANDLE, VK_NULL_HANDLE, 0, timeline, value, VK_NULL_HANDLE);
   const uint64_t one = 1, four = 4;
   VKT_CALL(sync_wait(t, 1, &timeline, &one, false, UINT64_MAX));
   vkt_check(ctx, sync_counter(t, timeline) >= 1, "timeline in flight: %llu after waiting for 1",
             (unsigned long long)sync_counter(t, timeline));
   VKT_CALL(sync_wait(t, 1, &timeline, &four, false, UINT64_MAX));
   vkt_print_u64("sync_in_flight", "value", sync_counter(t, timeline));
   vkDestroySemaphore(t->dev, timeline, NULL);
}

/* Fill X on queue2 behind a host-signaled timeline value. */
static void
sync_test_host_signal(struct sync_test *t, VkSemaphore timeline)
{
   struct vkt_context *ctx = t->ctx;
   vkt_check(ctx, sync_counter(t, timeline) == 0, "timeline starts at %llu",
             (unsigned long long)sync_counter(t, timeline));

   t->cmds[0] = vkt_cmd_begin_in(t->ctx, ctx->cmd_pool2, 0);
   sync_record_fill(t->cmds[0], &t->x, SYNC_FILL_X);
   sync_submit(ctx->queue2, t->cmds[0], timeline, 1, timeline, 2, VK_NULL_HANDLE);

   /* nothing can run before the host signals 1 */
   const uint64_t two = 2;
   VkResult r = sync_wait(t, 1, &timeline, &two, false, 0);
   vkt_check(ctx, r == VK_TIMEOUT, "wait-before-signal: zero wait %s",
             vkt_result_string(r));
   r = sync_wait(t, 1, &timeline, &two, false, SYNC_SHORT_TIMEOUT_NS);
   vkt_check(ctx, r == VK_TIMEOUT, "wait-before-signal: 1 ms wait %s",
             vkt_result_string(r));
   vkt_check(ctx, sync_counter(t, timeline) == 0, "timeline moved without the host");

   sync_host_signal(t, timeline, 1);
   VKT_CALL(sync_wait(t, 1, &timeline, &two, false, UINT64_MAX));
   const uint64_t value = sync_counter(t, timeline);
   vkt_check(ctx, value == 2, "timeline after host signal + batch: %llu",
             (unsigned long long)value);
}

/* Y is filled on queue2 and read, with X, on queue; the reader is submitted
 * first when the queues differ (wait-before-signal across queues). Then Z goes
 * through a binary semaphore. */
static void
sync_test_cross_queue(struct sync_test *t, VkSemaphore timeline)
{
   struct vkt_context *ctx = t->ctx;
   VkSemaphore binary = vkt_semaphore_create(t->ctx, VK_SEMAPHORE_TYPE_BINARY, 0);

   t->cmds[1] = vkt_cmd_begin_in(t->ctx, ctx->cmd_pool2, 0);
   sync_record_fill(t->cmds[1], &t->y, SYNC_FILL_Y);
   t->cmds[2] = vkt_cmd_begin_in(t->ctx, ctx->cmd_pool, 0);
   sync_record_readback(t->cmds[2], &t->x, &t->rb, 0);
   t->cmds[3] = vkt_cmd_begin_in(t->ctx, ctx->cmd_pool2, 0);
   sync_record_fill(t->cmds[3], &t->z, SYNC_FILL_Z);
   t->cmds[4] = vkt_cmd_begin_in(t->ctx, ctx->cmd_pool, 0);
   {
      /* Y and Z readback in one command buffer */
      const VkBufferCopy y_region = { 0, 1 * SYNC_BYTES, SYNC_BYTES };
      vkCmdCopyBuffer(t->cmds[4], t->y.buffer, t->rb.buffer, 1, &y_region);
      sync_record_readback(t->cmds[4], &t->z, &t->rb, 2);
   }

   /* batches: fill Y (wait T>=3, signal 4); read X (wait T>=4, signal 5) */
   if (ctx->has_distinct_queue2) {
      sync_submit(ctx->queue, t->cmds[2], timeline, 4, timeline, 5, t->fence);
      sync_submit(ctx->queue2, t->cmds[1], timeline, 3, timeline, 4, VK_NULL_HANDLE);
   } else {
      sync_submit(ctx->queue2, t->cmds[1], timeline, 3, timeline, 4, VK_NULL_HANDLE);
      sync_submit(ctx->queue, t->cmds[2], timeline, 4, timeline, 5, t->fence);
   }
   VkResult r = vkGetFenceStatus(t->dev, t->fence);
   vkt_check(ctx, r == VK_NOT_READY, "fence of a blocked batch: %s",
             vkt_result_string(r));
   sync_host_signal(t, timeline, 3);
   VKT_CALL(vkWaitForFences(t->dev, 1, &t->fence, VK_TRUE, UINT64_MAX));
   r = vkGetFenceStatus(t->dev, t->fence);
   vkt_check(ctx, r == VK_SUCCESS, "fence after wait: %s", vkt_result_string(r));
   /* a bounded wait, not a zero timeout: lavapipe 22 under load now and then
    * signals the fence of a batch a moment before that batch's timeline
    * value (the stress test saw the native run fail so) */
   const uint64_t five = 5;
   VKT_CALL(sync_wait(t, 1, &timeline, &five, false, 1000000000ull));
   const uint64_t value = sync_counter(t, timeline);
   vkt_check(ctx, value == 5, "timeline after the chain: %llu",
             (unsigned long long)value);

   /* fill Z (signal binary); read Y and Z (wait binary). Submitted only now: a
    * binary wait behind a still-blocked timeline wait may block vkQueueSubmit
    * itself (Mesa's common queue waits for the signal to become pending). */
   VKT_CALL(vkResetFences(t->dev, 1, &t->fence));
   sync_submit(ctx->queue2, t->cmds[3], VK_NULL_HANDLE, 0, binary, 0, VK_NULL_HANDLE);
   sync_submit(ctx->queue, t->cmds[4], binary, 0, VK_NULL_HANDLE, 0, t->fence);
   VKT_CALL(vkWaitForFences(t->dev, 1, &t->fence, VK_TRUE, UINT64_MAX));
   vkDestroySemaphore(t->dev, binary, NULL);
}

static void
sync_test_wait_any(struct sync_test *t)
{
   struct vkt_context *ctx = t->ctx;
   const VkSemaphore sems[2] = {
      vkt_semaphore_create(t->ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0),
      vkt_semaphore_create(t->ctx, VK_SEMAPHORE_TYPE_TIMELINE, 5),
   };
   const uint64_t values[2] = { 1, 7 };

   VkResult r = sync_wait(t, 2, sems, values, true, 0);
   vkt_check(ctx, r == VK_TIMEOUT, "wait any, none reached: %s", vkt_result_string(r));
   sync_host_signal(t, sems[1], 7);
   r = sync_wait(t, 2, sems, values, true, 0);
   vkt_check(ctx, r == VK_SUCCESS, "wait any, one reached: %s", vkt_result_string(r));
   r = sync_wait(t, 2, sems, values, false, SYNC_SHORT_TIMEOUT_NS);
   vkt_check(ctx, r == VK_TIMEOUT, "wait all, one reached: %s", vkt_result_string(r));
   sync_host_signal(t, sems[0], 1);
   r = sync_wait(t, 2, sems, values, false, 0);
   vkt_check(ctx, r == VK_SUCCESS, "wait all, both reached: %s", vkt_result_string(r));
   vkt_check(ctx, sync_counter(t, sems[1]) == 7, "host-signaled counter is not 7");

   vkDestroySemaphore(t->dev, sems[0], NULL);
   vkDestroySemaphore(t->dev, sems[1], NULL);
}

/* Submissions of nothing but a fence (the driver may send them to the host
 * without it), alone and behind work that a fence-less submission left
 * for the fence to cover: its command buffer is freed once the fence has
 * signalled. */
#define SYNC_FENCE_ONLY_LOOPS 16u
#define SYNC_FILL_W 0x44444444u

static void
sync_test_fence_only(struct sync_test *t, bool has_submit2)
{
   struct vkt_context *ctx = t->ctx;
   uint32_t bad = 0;
   VKT_CALL(vkResetFences(t->dev, 1, &t->fence));
   for (uint32_t i = 0; i < SYNC_FENCE_ONLY_LOOPS; i++) {
      if (has_submit2 && (i & 1)) {
         const VkSubmitInfo2 empty = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2 };
         VKT_CALL(vkQueueSubmit2(ctx->queue, 1, &empty, t->fence));
      } else {
         VKT_CALL(vkQueueSubmit(ctx->queue, 0, NULL, t->fence));
      }
      bad += vkWaitForFences(t->dev, 1, &t->fence, VK_TRUE, UINT64_MAX) != VK_SUCCESS;
      bad += vkGetFenceStatus(t->dev, t->fence) != VK_SUCCESS;
      VKT_CALL(vkResetFences(t->dev, 1, &t->fence));
      bad += vkGetFenceStatus(t->dev, t->fence) != VK_NOT_READY;
   }
   vkt_check(ctx, !bad, "%u fence-only submission check(s) failed", bad);

   struct vkt_buffer w;
   vkt_buffer_create(ctx, SYNC_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &w);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdFillBuffer(cmd, w.buffer, 0, SYNC_BYTES, SYNC_FILL_W);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   VKT_CALL(vkEndCommandBuffer(cmd));
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   VKT_CALL(vkQueueSubmit(ctx->queue, 1, &submit, VK_NULL_HANDLE));
   VKT_CALL(vkQueueSubmit(ctx->queue, 0, NULL, t->fence));
   VKT_CALL(vkWaitForFences(t->dev, 1, &t->fence, VK_TRUE, UINT64_MAX));
   vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &cmd);
   VKT_CALL(vkResetFences(t->dev, 1, &t->fence));
   vkt_buffer_invalidate(ctx, &w);
   const uint32_t *words = w.map;
   bad = 0;
   for (uint32_t i = 0; i < SYNC_WORDS; i++)
      bad += words[i] != SYNC_FILL_W;
   vkt_check(ctx, !bad, "%u word(s) written before a fence-only submission are wrong", bad);
   vkt_print_u64("sync_fence_only_submits", "count", SYNC_FENCE_ONLY_LOOPS + 1);
   vkt_buffer_destroy(ctx, &w);
}

static void
sync_check_data(struct sync_test *t)
{
   static const uint32_t fills[3] = { SYNC_FILL_X, SYNC_FILL_Y, SYNC_FILL_Z };
   vkt_buffer_invalidate(t->ctx, &t->rb);
   const uint32_t *words = t->rb.map;
   uint32_t bad = 0;
   for (uint32_t slot = 0; slot < 3; slot++) {
      for (uint32_t i = 0; i < SYNC_WORDS; i++)
         bad += words[slot * SYNC_WORDS + i] != fills[slot];
   }
   vkt_check(t->ctx, !bad, "%u word(s) read back on the other queue are wrong", bad);
   vkt_print_hex("sync_data_digest", vkt_digest(words, 3 * SYNC_BYTES));
}

/* One batch signalling more timelines than our driver's feedback writes in
 * a batch (64): every value must still be seen, by a wait on all of them
 * and by their counters. */
#define SYNC_MANY_TIMELINES 70u

static void
sync_test_many_signals(struct sync_test *t)
{
   struct vkt_context *ctx = t->ctx;
   VkSemaphore sems[SYNC_MANY_TIMELINES];
   uint64_t values[SYNC_MANY_TIMELINES];
   for (uint32_t i = 0; i < SYNC_MANY_TIMELINES; i++) {
      sems[i] = vkt_semaphore_create(t->ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0);
      values[i] = i + 1;
   }
   if (t->submit2) {
      VkSemaphoreSubmitInfo signals[SYNC_MANY_TIMELINES];
      for (uint32_t i = 0; i < SYNC_MANY_TIMELINES; i++)
         signals[i] = (VkSemaphoreSubmitInfo){
            .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO,
            .semaphore = sems[i],
            .value = values[i],
            .stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
         };
      const VkSubmitInfo2 submit = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
         .signalSemaphoreInfoCount = SYNC_MANY_TIMELINES,
         .pSignalSemaphoreInfos = signals,
      };
      VKT_CALL(vkQueueSubmit2(ctx->queue, 1, &submit, VK_NULL_HANDLE));
   } else {
      const VkTimelineSemaphoreSubmitInfo timeline = {
         .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
         .signalSemaphoreValueCount = SYNC_MANY_TIMELINES,
         .pSignalSemaphoreValues = values,
      };
      const VkSubmitInfo submit = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
         .pNext = &timeline,
         .signalSemaphoreCount = SYNC_MANY_TIMELINES,
         .pSignalSemaphores = sems,
      };
      VKT_CALL(vkQueueSubmit(ctx->queue, 1, &submit, VK_NULL_HANDLE));
   }
   const VkResult r = sync_wait(t, SYNC_MANY_TIMELINES, sems, values, false,
                                10ull * 1000 * 1000 * 1000);
   vkt_check(ctx, r == VK_SUCCESS, "%u timelines of one batch: wait %s", SYNC_MANY_TIMELINES,
             vkt_result_string(r));
   uint32_t bad = 0;
   for (uint32_t i = 0; i < SYNC_MANY_TIMELINES; i++) {
      bad += sync_counter(t, sems[i]) != values[i];
      vkDestroySemaphore(t->dev, sems[i], NULL);
   }
   vkt_check(ctx, !bad, "%u of %u timeline counters wrong after one batch", bad,
             SYNC_MANY_TIMELINES);
   /* printed once: the vkQueueSubmit2 runs depend on synchronization2, which
    * not every stack offers (Mesa's Venus on Vulkan 1.2), and the printed
    * results are compared across stacks */
   if (t->submit2)
      fprintf(stderr, "sync: %u timelines of one batch through vkQueueSubmit2\n",
              SYNC_MANY_TIMELINES);
   else
      vkt_print_u64("sync_many_signals", "count", SYNC_MANY_TIMELINES);
}

/* Frames in flight paced by fences or by a timeline: each of SYNC_FRAMES
 * frames fills a large device-local buffer (GPU work that outlasts the
 * submission of the next frame) and then its readback slot with its number;
 * a frame waits for the one two before it (its fence, or the timeline value
 * it signals: frame f signals f + 1), checks that frame's words and the
 * fence's status or the timeline's value, and resets the fence; the last two
 * frames are polled with vkGetFenceStatus / vkGetSemaphoreCounterValue.
 * Through our driver the waits find later work behind them, so later
 * signals get no feedback write (docs/driver.md, "Feedback"), and these
 * waits and reads go to the host. */
#define SYNC_FRAMES 12u
#define SYNC_FRAME_LOAD_BYTES (32u << 20)
#define SYNC_FRAME_FILL 0x50000000u
#define SYNC_POLL_LIMIT_NS (30ull * 1000 * 1000 * 1000)

static uint32_t
sync_frame_bad_words(struct sync_test *t, const struct vkt_buffer *rb, uint32_t frame)
{
   vkt_buffer_invalidate(t->ctx, rb);
   const uint32_t *words = (const uint32_t *)rb->map + (frame % 2) * SYNC_WORDS;
   uint32_t bad = 0;
   for (uint32_t i = 0; i < SYNC_WORDS; i++)
      bad += words[i] != SYNC_FRAME_FILL + frame;
   return bad;
}

/* whether frame `frame` is done, waiting for it when `wait` */
static bool
sync_frame_done(struct sync_test *t, VkFence fence, VkSemaphore timeline, uint32_t frame,
                bool wait)
{
   if (timeline) {
      const uint64_t value = frame + 1;
      if (wait)
         return sync_wait(t, 1, &timeline, &value, false, UINT64_MAX) == VK_SUCCESS &&
                sync_counter(t, timeline) >= value;
      return sync_counter(t, timeline) >= value;
   }
   if (wait && vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX) != VK_SUCCESS)
      return false;
   return vkGetFenceStatus(t->dev, fence) == VK_SUCCESS;
}

static void
sync_test_frames(struct sync_test *t, bool use_timeline)
{
   struct vkt_context *ctx = t->ctx;
   const char *what = use_timeline ? (t->submit2 ? "timeline frames (submit2)" : "timeline frames")
                                   : (t->submit2 ? "fence frames (submit2)" : "fence frames");
   struct vkt_buffer load, rb;
   vkt_buffer_create(ctx, SYNC_FRAME_LOAD_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_DEVICE, &load);
   vkt_buffer_create(ctx, 2 * SYNC_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &rb);
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fences[2] = { VK_NULL_HANDLE, VK_NULL_HANDLE };
   VkSemaphore timeline = VK_NULL_HANDLE;
   if (use_timeline)
      timeline = vkt_semaphore_create(t->ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0);
   else
      for (uint32_t i = 0; i < 2; i++)
         VKT_CALL(vkCreateFence(t->dev, &fence_info, NULL, &fences[i]));
   VkCommandBuffer cmds[2];
   uint32_t bad_words = 0, bad_status = 0;
   for (uint32_t frame = 0; frame < SYNC_FRAMES; frame++) {
      const uint32_t i = frame % 2;
      if (frame >= 2) {
         bad_status += !sync_frame_done(t, fences[i], timeline, frame - 2, true);
         bad_words += sync_frame_bad_words(t, &rb, frame - 2);
         vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &cmds[i]);
         if (!use_timeline) {
            VKT_CALL(vkResetFences(t->dev, 1, &fences[i]));
            bad_status += vkGetFenceStatus(t->dev, fences[i]) != VK_NOT_READY;
         }
      }
      cmds[i] = vkt_cmd_begin(ctx);
      vkCmdFillBuffer(cmds[i], load.buffer, 0, SYNC_FRAME_LOAD_BYTES, frame);
      vkCmdFillBuffer(cmds[i], rb.buffer, i * SYNC_BYTES, SYNC_BYTES, SYNC_FRAME_FILL + frame);
      vkt_cmd_memory_barrier(cmds[i], VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                             VK_ACCESS_HOST_READ_BIT);
      VKT_CALL(vkEndCommandBuffer(cmds[i]));
      (t->submit2 ? sync_submit2 : sync_submit)(ctx->queue, cmds[i], VK_NULL_HANDLE, 0, timeline,
                                                frame + 1, fences[i]);
   }
   for (uint32_t frame = SYNC_FRAMES - 2; frame < SYNC_FRAMES; frame++) {
      const uint32_t i = frame % 2;
      const uint64_t start = vkt_now_ns();
      bool done;
      while (!(done = sync_frame_done(t, fences[i], timeline, frame, false)) &&
             vkt_now_ns() - start < SYNC_POLL_LIMIT_NS)
         ;
      bad_status += !done;
      bad_words += sync_frame_bad_words(t, &rb, frame);
      vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &cmds[i]);
   }
   vkt_check(ctx, !bad_status, "%s: %u wait or status check(s) failed", what, bad_status);
   vkt_check(ctx, !bad_words, "%s: %u word(s) read back are wrong", what, bad_words);
   if (t->submit2)
      fprintf(stderr, "sync: %u %s\n", SYNC_FRAMES, what);
   else
      vkt_print_u64(use_timeline ? "sync_timeline_frames" : "sync_fence_frames", "count",
                    SYNC_FRAMES);
   if (use_timeline)
      vkDestroySemaphore(t->dev, timeline, NULL);
   for (uint32_t i = 0; i < 2 && !use_timeline; i++)
      vkDestroyFence(t->dev, fences[i], NULL);
   vkt_buffer_destroy(ctx, &rb);
   vkt_buffer_destroy(ctx, &load);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "sync");
   if (ctx.props.apiVersion < VK_API_VERSION_1_2)
      vkt_die("sync: needs Vulkan 1.2 (timeline semaphores)");
   VkPhysicalDeviceTimelineSemaphoreFeatures timeline_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
   };
   VkPhysicalDeviceSynchronization2Features sync2_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SYNCHRONIZATION_2_FEATURES,
   };
   if (ctx.props.apiVersion >= VK_API_VERSION_1_3)
      timeline_features.pNext = &sync2_features;
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &timeline_features,
   };
   vkGetPhysicalDeviceFeatures2(ctx.physical_device, &features);
   if (!timeline_features.timelineSemaphore)
      vkt_die("sync: timelineSemaphore is not supported");
   /* only what the test uses stays enabled */
   timeline_features.pNext = sync2_features.synchronization2 ? &sync2_features : NULL;
   const struct vkt_device_info info = {
      .next = &features,
      .want_second_queue = true,
   };
   memset(&features.features, 0, sizeof(features.features));
   vkt_device_init(&ctx, &info);
   fprintf(stderr, "sync: %s\n",
           ctx.has_distinct_queue2 ? "two queues" : "one queue (two submissions)");

   struct sync_test t = { .ctx = &ctx, .dev = ctx.device };
   const VkBufferUsageFlags usage =
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
   vkt_buffer_create(&ctx, SYNC_BYTES, usage, VKT_MEM_DEVICE, &t.x);
   vkt_buffer_create(&ctx, SYNC_BYTES, usage, VKT_MEM_DEVICE, &t.y);
   vkt_buffer_create(&ctx, SYNC_BYTES, usage, VKT_MEM_DEVICE, &t.z);
   vkt_buffer_create(&ctx, 3 * SYNC_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_READBACK, &t.rb);
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VKT_CALL(vkCreateFence(t.dev, &fence_info, NULL, &t.fence));
   VkSemaphore timeline = vkt_semaphore_create(&ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0);

   sync_test_fences(&t);
   sync_test_host_signal(&t, timeline);
   sync_test_cross_queue(&t, timeline);
   sync_test_wait_any(&t);
   sync_test_fence_only(&t, sync2_features.synchronization2);
   sync_test_timeline_in_flight(&t);
   sync_test_frames(&t, false);
   sync_test_frames(&t, true);
   sync_test_many_signals(&t);
   /* the same through vkQueueSubmit2, whose feedback our driver builds apart */
   if (sync2_features.synchronization2) {
      t.submit2 = true;
      sync_test_frames(&t, false);
      sync_test_frames(&t, true);
      sync_test_many_signals(&t);
   }
   VKT_CALL(vkQueueWaitIdle(ctx.queue));
   VKT_CALL(vkQueueWaitIdle(ctx.queue2));
   VKT_CALL(vkDeviceWaitIdle(t.dev));
   sync_check_data(&t);
   vkt_print_u64("sync_timeline_final", "value", sync_counter(&t, timeline));

   vkFreeCommandBuffers(t.dev, ctx.cmd_pool2, 1, &t.cmds[0]);
   vkFreeCommandBuffers(t.dev, ctx.cmd_pool2, 1, &t.cmds[1]);
   vkFreeCommandBuffers(t.dev, ctx.cmd_pool, 1, &t.cmds[2]);
   vkFreeCommandBuffers(t.dev, ctx.cmd_pool2, 1, &t.cmds[3]);
   vkFreeCommandBuffers(t.dev, ctx.cmd_pool, 1, &t.cmds[4]);
   vkDestroySemaphore(t.dev, timeline, NULL);
   vkDestroyFence(t.dev, t.fence, NULL);
   vkt_buffer_destroy(&ctx, &t.rb);
   vkt_buffer_destroy(&ctx, &t.z);
   vkt_buffer_destroy(&ctx, &t.y);
   vkt_buffer_destroy(&ctx, &t.x);
   return vkt_finish(&ctx);
}
