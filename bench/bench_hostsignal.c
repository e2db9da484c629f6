/*
 * hostsignal: how soon a thread waiting for a fence wakes once another thread
 * releases the fenced work from the CPU. A batch without command buffers waits
 * for a timeline semaphore and signals a fence; a second thread blocks in
 * vkWaitForFences; after 5 ms the first thread signals the timeline with
 * vkSignalSemaphore and times how long the waiter takes to return. Such
 * wait-before-signal is legal, and an application that feeds its GPU work
 * from another thread (a streaming or a job system) pays this on every wait.
 *
 * hostsignal_fence: the fence alone. hostsignal_fence_followed: another
 * (empty) submission follows the fenced one before the wait, as frames in
 * flight do. Through a remoting stack the waiter's host wait can hold the
 * stream the signal must travel in; the figure shows for how long.
 */
#include <stdio.h>
#include <threads.h>
#include <time.h>

#include "bench.h"

#define HOSTSIGNAL_LEAD_NS (5ull * 1000 * 1000)
#define HOSTSIGNAL_MAX_REPS 15u

struct hostsignal_waiter {
   VkDevice dev;
   VkFence fence;
   uint64_t done_ns;
   VkResult result;
};

static int
hostsignal_wait(void *arg)
{
   struct hostsignal_waiter *w = arg;
   w->result = vkWaitForFences(w->dev, 1, &w->fence, VK_TRUE, UINT64_MAX);
   w->done_ns = vkt_now_ns();
   return 0;
}

/* one measurement; false when something failed (checked by the caller) */
static bool
hostsignal_once(struct bench *b, VkSemaphore timeline, uint64_t value, VkFence fence,
                bool followed, double *out_us)
{
   VkDevice dev = b->ctx.device;
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
   const VkTimelineSemaphoreSubmitInfo values = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = 1,
      .pWaitSemaphoreValues = &value,
   };
   const VkSubmitInfo gated = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .pNext = &values,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &timeline,
      .pWaitDstStageMask = &stage,
   };
   VKT_CALL(vkQueueSubmit(b->ctx.queue, 1, &gated, fence));
   if (followed) {
      const VkSubmitInfo empty = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO };
      VKT_CALL(vkQueueSubmit(b->ctx.queue, 1, &empty, VK_NULL_HANDLE));
   }
   struct hostsignal_waiter w = { .dev = dev, .fence = fence };
   thrd_t thread;
   if (thrd_create(&thread, hostsignal_wait, &w) != thrd_success)
      return false;
   const struct timespec lead = { 0, (long)HOSTSIGNAL_LEAD_NS };
   nanosleep(&lead, NULL);
   const VkSemaphoreSignalInfo signal = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
      .semaphore = timeline,
      .value = value,
   };
   const uint64_t start = vkt_now_ns();
   const VkResult r = vkSignalSemaphore(dev, &signal);
   thrd_join(thread, NULL);
   VKT_CALL(vkResetFences(dev, 1, &fence));
   *out_us = (double)(w.done_ns - start) / 1e3;
   return r == VK_SUCCESS && w.result == VK_SUCCESS && w.done_ns >= start;
}

void
bench_run_hostsignal(struct bench *b)
{
   if (!b->has_timeline) {
      fprintf(stderr, "vkbench: hostsignal: no timeline semaphores: skipped\n");
      return;
   }
   VkDevice dev = b->ctx.device;
   VkSemaphore timeline = vkt_semaphore_create(&b->ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0);
   VkFence fence = bench_fence_create(b);
   const uint32_t reps = bench_count(b, HOSTSIGNAL_MAX_REPS, 3);
   uint64_t value = 0;
   uint32_t bad = 0;
   for (int followed = 0; followed < 2; followed++) {
      double samples[HOSTSIGNAL_MAX_REPS];
      /* the first measurement warms up (and, followed, marks the fence as
       * one of frames in flight, as its wait finds work behind it) */
      for (uint32_t rep = 0; rep <= reps; rep++) {
         double us = 0.0;
         bad += !hostsignal_once(b, timeline, ++value, fence, followed, &us);
         if (rep)
            samples[rep - 1] = us;
      }
      bench_report(followed ? "hostsignal_fence_followed" : "hostsignal_fence", "us",
                   bench_median(samples, reps));
   }
   VKT_CALL(vkQueueWaitIdle(b->ctx.queue));
   uint64_t counter = 0;
   VKT_CALL(vkGetSemaphoreCounterValue(dev, timeline, &counter));
   vkt_check(&b->ctx, !bad && counter == value,
             "hostsignal: %u failed measurement(s), counter %llu of %llu", bad,
             (unsigned long long)counter, (unsigned long long)value);
   vkDestroyFence(dev, fence, NULL);
   vkDestroySemaphore(dev, timeline, NULL);
}
