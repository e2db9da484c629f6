/*
 * Fences, semaphores, events and query pools (vn_queue.h). Status comes from
 * feedback slots when the device has feedback, else from synchronous calls.
 *
 * When the guest sees a fence or timeline value signalled in feedback, it
 * also queues an asynchronous host wait on it (the capset's
 * allow_vk_wait_syncs), so that later commands in the ring (resets,
 * destroys) run after the host object really is signalled; feedback can be
 * written a little before the host signal operation completes.
 */
#include "vn_queue.h"

#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "util/vu_os.h"

#include "vn_device.h"

/* sync files (a temporary payload imported from an fd) */
static void
vn_sync_file_drop(struct vn_sync_file *file)
{
   if (file->active && file->fd >= 0)
      close(file->fd);
   file->active = false;
   file->fd = -1;
}

static bool
vn_sync_file_signalled(const struct vn_sync_file *file)
{
   if (file->fd < 0)
      return true;
   struct pollfd pfd = { .fd = file->fd, .events = POLLIN };
   return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLERR | POLLHUP));
}

/* A host wait (vkWaitForFences, vkWaitSemaphores through the ring) holds the
 * ring: every other thread's command waits behind it, among them the
 * vkSignalSemaphore or vkSetEvent that the awaited work may itself wait for
 * (wait-before-signal is legal). So a host wait lasts at most this long and
 * is then sent again. With slices of 20 ms (fences) and 100 ms (fences of
 * frames in flight, no feedback) such a signal from another thread reached
 * the waiter 15.7 and 95 ms late, natively 32 and 56 us (vkbench
 * hostsignal, lavapipe); a slice costs a round trip. */
#define VN_HOST_WAIT_SLICE_NS (2ull * 1000 * 1000)

/* A fence wait first polls the feedback slots; past this it blocks in the
 * renderer (a host vkWaitForFences through the ring while this thread sleeps
 * on the ring's head word), so that a long wait burns no CPU: on a CPU-based
 * host driver (lavapipe) a polling guest steals cycles from the GPU work.
 * With fewer than 4 CPUs a wait for fences that all have later work of
 * their queue submitted behind them (frames in flight) blocks at once: the
 * queue stays busy past them, so the wake-up's latency costs nothing, and
 * the poll would take its time from that work (on lavapipe with the server
 * in a session of its own, as a VMM or a service is: frame loop 0.77x ->
 * 0.84x native, 0.94x with the reply wait of vn_ring_set_host_wait;
 * bench/README.md, issue 13 round 11). */
#define VN_FENCE_POLL_NS (500ull * 1000)
/* and waits in the host in slices of VN_HOST_WAIT_SLICE_NS */

/* With 4 or more CPUs (a GPU host, where polling steals nothing from the
 * work) the poll goes on this long, looking every VN_FENCE_FINE_SLEEP_NS
 * with the thread's timer slack lowered meanwhile: the feedback slot is
 * written when the GPU is done, and NVIDIA signals the host fence behind
 * it some 35-40 us later (bench/README.md, issue 13 round 4), which a host
 * wait would add to every submission of GPU work beyond the poll's 500 us
 * (and a reply on top). */
#define VN_FENCE_FINE_POLL_NS (4ull * 1000 * 1000)
#define VN_FENCE_FINE_SLEEP_NS (10ull * 1000)
/* the yields before the fine poll's first sleep (about as long as the 256
 * yields of vn_relax, which short waits end in: 20 us lost 5-10 us per
 * submission of 10 us of GPU work on the H200) */
#define VN_FENCE_FINE_YIELD_NS (200ull * 1000)

struct vn_fine_poll {
   bool on;
   bool slack_set;
   unsigned long saved_slack;
   uint64_t start_ns;
};

/* One step of the fine poll: false when the transport is lost. */
static bool
vn_fine_poll_step(struct vn_fine_poll *fp, struct vn_transport *transport, uint64_t now)
{
   if (vn_transport_is_lost(transport))
      return false;
   if (now - fp->start_ns < VN_FENCE_FINE_YIELD_NS) {
      sched_yield();
      return true;
   }
   if (!fp->slack_set) {
      const int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
      if (slack > 0 && prctl(PR_SET_TIMERSLACK, 1000ul, 0, 0, 0) == 0) {
         fp->saved_slack = (unsigned long)slack;
         fp->slack_set = true;
      }
   }
   const struct timespec ts = { .tv_nsec = (long)VN_FENCE_FINE_SLEEP_NS };
   clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
   return true;
}

static void
vn_fine_poll_end(struct vn_fine_poll *fp)
{
   if (fp->slack_set)
      prctl(PR_SET_TIMERSLACK, fp->saved_slack, 0, 0, 0);
   fp->slack_set = false;
   fp->on = false;
}

static bool
vn_allow_host_waits(const struct vn_device *dev)
{
   return dev->instance->transport->capset.allow_vk_wait_syncs;
}

/* ------------------------------------------------------------------ */
/* fences                                                              */

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateFence(VkDevice device,
               const VkFenceCreateInfo *pCreateInfo,
               const VkAllocationCallbacks *pAllocator,
               VkFence *pFence)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_fence *fence = vn_object_alloc(dev, sizeof(*fence), VK_OBJECT_TYPE_FENCE, pAllocator);
   if (!fence)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   const bool exported = vp_chain_find(pCreateInfo->pNext, VK_STRUCTURE_TYPE_EXPORT_FENCE_CREATE_INFO);
   if (!exported && vn_feedback_slot_alloc(dev, &fence->slot)) {
      vn_feedback_write32(&fence->slot, (pCreateInfo->flags & VK_FENCE_CREATE_SIGNALED_BIT)
                                           ? VK_SUCCESS
                                           : VK_NOT_READY);
   }
   atomic_store(&fence->host_synced, true);
   *pFence = vn_fence_to_handle(fence);
   vn_async_vkCreateFence(dev->ring, device, pCreateInfo, NULL, pFence);
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyFence(VkDevice device, VkFence _fence, const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_fence *fence = vn_fence_from_handle(_fence);
   if (!fence)
      return;
   vn_async_vkDestroyFence(dev->ring, device, _fence, NULL);
   vn_sync_file_drop(&fence->imported);
   vn_feedback_slot_free(dev, &fence->slot);
   vn_object_free(dev, fence, pAllocator);
}

/* the guest's side of a fence reset (the host's is sent by the caller) */
static void
vn_fence_reset_guest(struct vn_fence *fence)
{
   vn_sync_file_drop(&fence->imported); /* the permanent payload is back */
   if (fence->slot.buffer)
      vn_feedback_write32(&fence->slot, VK_NOT_READY);
   atomic_store(&fence->host_synced, true);
   atomic_store(&fence->status_on_host, false);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_ResetFences(VkDevice device, uint32_t fenceCount, const VkFence *pFences)
{
   struct vn_device *dev = vn_device_from_handle(device);
   for (uint32_t i = 0; i < fenceCount; i++)
      vn_fence_reset_guest(vn_fence_from_handle(pFences[i]));
   vn_async_vkResetFences(dev->ring, device, fenceCount, pFences);
   return vn_device_is_lost(dev) ? vn_error(VK_ERROR_DEVICE_LOST) : VK_SUCCESS;
}

/* feedback says signalled: make the renderer wait for the host fence */
static void
vn_fence_sync_host(struct vn_device *dev, struct vn_fence *fence)
{
   if (atomic_exchange(&fence->host_synced, true) || !vn_allow_host_waits(dev))
      return;
   VkFence handle = vn_fence_to_handle(fence);
   vn_async_vkWaitForFences(dev->ring, vn_device_to_handle(dev), 1, &handle, VK_TRUE, UINT64_MAX);
   if (fence->queue)
      vn_queue_host_wait_sent(fence->queue, fence->serial);
}

/* the host found a fence without a status write signalled: its slot says
 * so from now on, and the renderer has waited for it */
static void
vn_fence_host_signalled(struct vn_fence *fence)
{
   vn_feedback_write32(&fence->slot, VK_SUCCESS);
   atomic_store(&fence->status_on_host, false);
   atomic_store(&fence->host_synced, true);
   if (fence->queue)
      vn_queue_host_wait_sent(fence->queue, fence->serial);
}

static VkResult
vn_fence_status(struct vn_device *dev, struct vn_fence *fence)
{
   if (vn_device_is_lost(dev))
      return VK_ERROR_DEVICE_LOST;
   if (fence->imported.active)
      return vn_sync_file_signalled(&fence->imported) ? VK_SUCCESS : VK_NOT_READY;
   if (!fence->slot.buffer)
      return vn_call_vkGetFenceStatus(dev->ring, vn_device_to_handle(dev), vn_fence_to_handle(fence));
   const VkResult status = (VkResult)vn_feedback_read32(&fence->slot);
   if (status == VK_SUCCESS) {
      vn_fence_sync_host(dev, fence);
      return VK_SUCCESS;
   }
   if (atomic_load(&fence->status_on_host)) {
      const VkResult r =
         vn_call_vkGetFenceStatus(dev->ring, vn_device_to_handle(dev), vn_fence_to_handle(fence));
      if (r == VK_SUCCESS)
         vn_fence_host_signalled(fence);
      return r;
   }
   return VK_NOT_READY;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetFenceStatus(VkDevice device, VkFence _fence)
{
   struct vn_fence *fence = vn_fence_from_handle(_fence);
   const VkResult r = vn_fence_status(vn_device_from_handle(device), fence);
   /* an application that polls the status is better served by feedback
    * (each poll of a fence without it is a round trip) */
   if (r == VK_NOT_READY && atomic_load(&fence->status_on_host))
      atomic_store(&fence->pipelined, false);
   return vn_result(r);
}

static uint64_t
vn_deadline(uint64_t timeout)
{
   const uint64_t now = vu_os_time_ns();
   return timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_WaitForFences(VkDevice device,
                 uint32_t fenceCount,
                 const VkFence *pFences,
                 VkBool32 waitAll,
                 uint64_t timeout)
{
   struct vn_device *dev = vn_device_from_handle(device);
   const uint64_t deadline = vn_deadline(timeout);
   bool all_feedback = true, any_imported = false, any_on_host = false;
   bool pending_submitted = true; /* every pending fence was submitted */
   for (uint32_t i = 0; i < fenceCount; i++) {
      struct vn_fence *fence = vn_fence_from_handle(pFences[i]);
      all_feedback &= fence->slot.buffer != VK_NULL_HANDLE;
      any_imported |= fence->imported.active;
      if (!fence->slot.buffer || fence->imported.active ||
          vn_feedback_read32(&fence->slot) == VK_SUCCESS)
         continue;
      /* frames in flight: later submissions of this fence write no status
       * (vn_queue_feedback_fence); a wait with nothing behind the fence,
       * or a poll (no timeout), wants the early notice of feedback again */
      const bool followed =
         timeout && fence->queue &&
         atomic_load_explicit(&fence->queue->submitted_serial, memory_order_relaxed) >
            fence->serial;
      if (atomic_load_explicit(&fence->pipelined, memory_order_relaxed) != followed)
         atomic_store(&fence->pipelined, followed);
      any_on_host |= atomic_load(&fence->status_on_host);
      pending_submitted &= !atomic_load(&fence->host_synced);
   }

   if (any_imported) {
      /* sync files are polled in the guest, the others asked for */
      struct vn_relax relax = { .timeout_ns = UINT64_MAX };
      for (;;) {
         uint32_t signalled = 0;
         for (uint32_t i = 0; i < fenceCount; i++) {
            const VkResult r = vn_fence_status(dev, vn_fence_from_handle(pFences[i]));
            if (r < 0)
               return vn_error(r);
            signalled += r == VK_SUCCESS;
         }
         if (waitAll ? signalled == fenceCount : signalled > 0)
            return VK_SUCCESS;
         if (vu_os_time_ns() >= deadline)
            return VK_TIMEOUT;
         if (!vn_relax(&relax, dev->instance->transport, "fences"))
            return vn_error(VK_ERROR_DEVICE_LOST);
      }
   }

   if (!all_feedback || (any_on_host && pending_submitted)) {
      /* bounded slices of host waits; a fence without a status write is
       * one of frames in flight, whose wait sleeps at once (with a fence
       * not yet submitted among them, the poll below asks the host for its
       * status instead: a host wait would hold the ring until its slice
       * ends) */
      for (;;) {
         const uint64_t now = vu_os_time_ns();
         const uint64_t left = deadline > now ? deadline - now : 0;
         vn_ring_set_host_wait(any_on_host);
         VkResult result = vn_call_vkWaitForFences(dev->ring, device, fenceCount, pFences, waitAll,
                                                   VN_MIN(left, VN_HOST_WAIT_SLICE_NS));
         vn_ring_set_host_wait(false);
         if (result == VK_SUCCESS && waitAll) {
            for (uint32_t i = 0; i < fenceCount; i++) {
               struct vn_fence *fence = vn_fence_from_handle(pFences[i]);
               if (atomic_load(&fence->status_on_host))
                  vn_fence_host_signalled(fence);
            }
         }
         if (result != VK_TIMEOUT || !left)
            return vn_result(result);
      }
   }

   struct vn_relax relax = { 0 };
   relax.timeout_ns = timeout == UINT64_MAX ? 0 : UINT64_MAX;
   struct vn_fine_poll fine = { .on = vu_os_spin_allowed(0), .start_ns = vu_os_time_ns() };
   const uint64_t block_after =
      fine.start_ns + (fine.on ? VN_FENCE_FINE_POLL_NS : VN_FENCE_POLL_NS);
   VkFence pending_stack[8];
   VkFence *pending = fenceCount <= 8 ? pending_stack : malloc(sizeof(*pending) * fenceCount);
   if (!pending)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   VkResult result;
   for (;;) {
      uint32_t signalled = 0, pending_count = 0;
      bool all_submitted = true, all_followed = true;
      for (uint32_t i = 0; i < fenceCount; i++) {
         struct vn_fence *fence = vn_fence_from_handle(pFences[i]);
         const VkResult r = vn_fence_status(dev, fence);
         if (r == VK_ERROR_DEVICE_LOST) {
            result = vn_error(r);
            goto out;
         }
         if (r == VK_SUCCESS) {
            signalled++;
         } else {
            pending[pending_count++] = pFences[i];
            /* host_synced is cleared by a submission and set by a reset: a
             * pending fence without it was never submitted, and a host wait
             * on it could stall the ring until its slice ends */
            all_submitted &= !atomic_load(&fence->host_synced);
            all_followed &=
               fence->queue && atomic_load_explicit(&fence->queue->submitted_serial,
                                                    memory_order_relaxed) > fence->serial;
         }
      }
      if (waitAll ? signalled == fenceCount : signalled > 0) {
         result = VK_SUCCESS;
         goto out;
      }
      const uint64_t now = vu_os_time_ns();
      if (now >= deadline) {
         result = VK_TIMEOUT;
         goto out;
      }
      if ((now >= block_after || (!fine.on && all_followed)) && all_submitted &&
          vn_allow_host_waits(dev) && !VU_PERF(NO_HOST_WAIT)) {
         vn_fine_poll_end(&fine);
         vn_ring_set_host_wait(true);
         const VkResult r =
            vn_call_vkWaitForFences(dev->ring, device, pending_count, pending, waitAll,
                                    VN_MIN(deadline - now, VN_HOST_WAIT_SLICE_NS));
         vn_ring_set_host_wait(false);
         if (r != VK_SUCCESS && r != VK_TIMEOUT) {
            result = vn_error(r);
            goto out;
         }
         /* on success the feedback writes, which precede the host fence
          * signal in each submission, are visible: the next pass sees them */
         continue;
      }
      if (fine.on && now < block_after) {
         if (!vn_fine_poll_step(&fine, dev->instance->transport, now)) {
            result = vn_error(VK_ERROR_DEVICE_LOST);
            goto out;
         }
         continue;
      }
      if (!vn_relax(&relax, dev->instance->transport, "fences")) {
         result = vn_error(VK_ERROR_DEVICE_LOST);
         goto out;
      }
   }
out:
   vn_fine_poll_end(&fine);
   if (pending != pending_stack)
      free(pending);
   return result;
}

/* ------------------------------------------------------------------ */
/* semaphores                                                          */

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateSemaphore(VkDevice device,
                   const VkSemaphoreCreateInfo *pCreateInfo,
                   const VkAllocationCallbacks *pAllocator,
                   VkSemaphore *pSemaphore)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_semaphore *sem =
      vn_object_alloc(dev, sizeof(*sem), VK_OBJECT_TYPE_SEMAPHORE, pAllocator);
   if (!sem)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   const VkSemaphoreTypeCreateInfo *type =
      vp_chain_find(pCreateInfo->pNext, VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
   sem->type = type ? type->semaphoreType : VK_SEMAPHORE_TYPE_BINARY;
   if (sem->type == VK_SEMAPHORE_TYPE_TIMELINE && vn_feedback_slot_alloc(dev, &sem->slot)) {
      vn_feedback_write64(&sem->slot, type->initialValue);
      atomic_store(&sem->synced_value, type->initialValue);
   }
   *pSemaphore = vn_semaphore_to_handle(sem);
   vn_async_vkCreateSemaphore(dev->ring, device, pCreateInfo, NULL, pSemaphore);
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroySemaphore(VkDevice device, VkSemaphore semaphore, const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_semaphore *sem = vn_semaphore_from_handle(semaphore);
   if (!sem)
      return;
   vn_async_vkDestroySemaphore(dev->ring, device, semaphore, NULL);
   vn_sync_file_drop(&sem->imported);
   vn_feedback_slot_free(dev, &sem->slot);
   vn_object_free(dev, sem, pAllocator);
}

static void
vn_semaphore_sync_host(struct vn_device *dev, struct vn_semaphore *sem, uint64_t value)
{
   if (!vn_atomic_raise(&sem->synced_value, value) || !vn_allow_host_waits(dev))
      return;
   VkSemaphore handle = vn_semaphore_to_handle(sem);
   const VkSemaphoreWaitInfo info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
      .semaphoreCount = 1,
      .pSemaphores = &handle,
      .pValues = &value,
   };
   vn_async_vkWaitSemaphores(dev->ring, vn_device_to_handle(dev), &info, UINT64_MAX);
}

/* the host reported `value` reached (it waited for it, or read it) */
static void
vn_semaphore_host_reached(struct vn_semaphore *sem, uint64_t value)
{
   vn_atomic_raise(&sem->host_value, value);
   vn_atomic_raise(&sem->synced_value, value);
}

/* what the guest knows of a timeline with a slot: the slot, or more */
static uint64_t
vn_semaphore_known_value(struct vn_semaphore *sem)
{
   const uint64_t slot = vn_feedback_read64(&sem->slot);
   const uint64_t host = atomic_load(&sem->host_value);
   return VN_MAX(slot, host);
}

static VkResult
vn_semaphore_value(struct vn_device *dev, struct vn_semaphore *sem, uint64_t *out)
{
   if (vn_device_is_lost(dev))
      return VK_ERROR_DEVICE_LOST;
   if (!sem->slot.buffer)
      return vn_call_vkGetSemaphoreCounterValue(dev->ring, vn_device_to_handle(dev),
                                                vn_semaphore_to_handle(sem), out);
   uint64_t value = vn_semaphore_known_value(sem), host;
   if (value < atomic_load(&sem->unwritten_value)) {
      /* a signal without a feedback write is pending: the host knows */
      const VkResult r = vn_call_vkGetSemaphoreCounterValue(
         dev->ring, vn_device_to_handle(dev), vn_semaphore_to_handle(sem), &host);
      if (r != VK_SUCCESS)
         return r;
      vn_semaphore_host_reached(sem, host);
      if (host > value)
         value = host;
   }
   *out = value;
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetSemaphoreCounterValue(VkDevice device, VkSemaphore semaphore, uint64_t *pValue)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_semaphore *sem = vn_semaphore_from_handle(semaphore);
   VkResult result = vn_semaphore_value(dev, sem, pValue);
   if (result == VK_SUCCESS && sem->slot.buffer) {
      vn_semaphore_sync_host(dev, sem, *pValue);
      /* an application that polls the value is better served by feedback */
      if (*pValue < atomic_load(&sem->unwritten_value))
         atomic_store(&sem->pipelined, false);
   }
   return vn_result(result);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_WaitSemaphores(VkDevice device, const VkSemaphoreWaitInfo *pWaitInfo, uint64_t timeout)
{
   struct vn_device *dev = vn_device_from_handle(device);
   const uint64_t deadline = vn_deadline(timeout);
   const bool any = pWaitInfo->flags & VK_SEMAPHORE_WAIT_ANY_BIT;
   bool all_feedback = true;
   for (uint32_t i = 0; i < pWaitInfo->semaphoreCount; i++)
      all_feedback &= vn_semaphore_from_handle(pWaitInfo->pSemaphores[i])->slot.buffer != VK_NULL_HANDLE;

   if (!all_feedback) {
      for (;;) {
         const uint64_t now = vu_os_time_ns();
         const uint64_t left = deadline > now ? deadline - now : 0;
         VkResult result = vn_call_vkWaitSemaphores(dev->ring, device, pWaitInfo,
                                                    VN_MIN(left, VN_HOST_WAIT_SLICE_NS));
         if (result != VK_TIMEOUT || !left)
            return vn_result(result);
      }
   }

   /* As for fences (vn_WaitForFences), with fewer than 4 CPUs a wait for
    * values that later signals already sent to the host go beyond (frames in
    * flight paced by a timeline) blocks in the renderer at once. Only such
    * values: a host wait for a value no submission signals yet could hold
    * the ring, and with it the signal, until its slice ends. A value that
    * another thread signals from the host, with a later submitted signal
    * waiting on it, can still be held up so: hence slices of 2 ms (a
    * longer wait costs a round trip per slice). */
   const bool may_block = !any && !vu_os_spin_allowed(0) && vn_allow_host_waits(dev) &&
                          !VU_PERF(NO_HOST_WAIT);

   /* Timelines of frames in flight (a wait for a value below one that
    * signals already sent carry, as fences in vn_WaitForFences): their later
    * signals get no feedback write (vn_queue_feeds_back), a wait with
    * nothing sent beyond its value, or a poll, turns that off again. A wait
    * whose every unreached value such a signal reaches goes to the host at
    * once, in the slices above. */
   bool all_unwritten = !any && vn_allow_host_waits(dev), any_unreached = false;
   for (uint32_t i = 0; i < pWaitInfo->semaphoreCount; i++) {
      struct vn_semaphore *sem = vn_semaphore_from_handle(pWaitInfo->pSemaphores[i]);
      const uint64_t wanted = pWaitInfo->pValues[i];
      if (vn_semaphore_known_value(sem) >= wanted)
         continue;
      const bool followed = timeout && !any &&
                            atomic_load_explicit(&sem->sent_value, memory_order_relaxed) > wanted;
      if (atomic_load_explicit(&sem->pipelined, memory_order_relaxed) != followed)
         atomic_store(&sem->pipelined, followed);
      /* sent_value: noted once the submission is in the ring, so that the
       * host wait cannot come before the signal */
      all_unwritten &= atomic_load(&sem->unwritten_value) >= wanted &&
                       atomic_load(&sem->sent_value) >= wanted;
      any_unreached = true;
   }
   while (all_unwritten && any_unreached) {
      const uint64_t now = vu_os_time_ns();
      const uint64_t left = deadline > now ? deadline - now : 0;
      vn_ring_set_host_wait(true);
      const VkResult r = vn_call_vkWaitSemaphores(dev->ring, device, pWaitInfo,
                                                  VN_MIN(left, VN_HOST_WAIT_SLICE_NS));
      vn_ring_set_host_wait(false);
      if (r == VK_SUCCESS) {
         for (uint32_t i = 0; i < pWaitInfo->semaphoreCount; i++)
            vn_semaphore_host_reached(vn_semaphore_from_handle(pWaitInfo->pSemaphores[i]),
                                      pWaitInfo->pValues[i]);
      }
      if (r != VK_TIMEOUT || !left)
         return vn_result(r);
   }
   struct vn_relax relax = { 0 };
   relax.timeout_ns = timeout == UINT64_MAX ? 0 : UINT64_MAX;
   for (;;) {
      uint32_t reached = 0;
      bool all_followed = true;
      for (uint32_t i = 0; i < pWaitInfo->semaphoreCount; i++) {
         struct vn_semaphore *sem = vn_semaphore_from_handle(pWaitInfo->pSemaphores[i]);
         uint64_t value;
         if (vn_semaphore_value(dev, sem, &value) != VK_SUCCESS)
            return vn_error(VK_ERROR_DEVICE_LOST);
         if (value >= pWaitInfo->pValues[i]) {
            vn_semaphore_sync_host(dev, sem, pWaitInfo->pValues[i]);
            reached++;
         } else {
            all_followed &= atomic_load_explicit(&sem->sent_value, memory_order_relaxed) >
                            pWaitInfo->pValues[i];
         }
      }
      if (any ? reached > 0 : reached == pWaitInfo->semaphoreCount)
         return VK_SUCCESS;
      const uint64_t now = vu_os_time_ns();
      if (now >= deadline)
         return VK_TIMEOUT;
      if (may_block && all_followed) {
         vn_ring_set_host_wait(true);
         const VkResult r =
            vn_call_vkWaitSemaphores(dev->ring, device, pWaitInfo,
                                     VN_MIN(deadline - now, VN_HOST_WAIT_SLICE_NS));
         vn_ring_set_host_wait(false);
         if (r != VK_SUCCESS && r != VK_TIMEOUT)
            return vn_error(r);
         /* the feedback writes precede the host signals: the next pass
          * sees them */
         continue;
      }
      if (!vn_relax(&relax, dev->instance->transport, "timeline semaphores"))
         return vn_error(VK_ERROR_DEVICE_LOST);
   }
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_SignalSemaphore(VkDevice device, const VkSemaphoreSignalInfo *pSignalInfo)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_semaphore *sem = vn_semaphore_from_handle(pSignalInfo->semaphore);
   if (sem->slot.buffer) {
      vn_feedback_write64(&sem->slot, pSignalInfo->value);
      vn_atomic_raise(&sem->synced_value, pSignalInfo->value);
   }
   vn_async_vkSignalSemaphore(dev->ring, device, pSignalInfo);
   return vn_device_is_lost(dev) ? vn_error(VK_ERROR_DEVICE_LOST) : VK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* sync files (VK_KHR_external_fence_fd, VK_KHR_external_semaphore_fd)  */
/*                                                                      */
/* vtest has no kernel sync files. An exported SYNC_FD is the eventfd of */
/* a vtest sync wait (vn_queue_export_sync_fd): pollable like a sync     */
/* file, readable once the queue's work up to the export is done. An     */
/* imported one (ours, a kernel sync file, any pollable fd, or -1) is a  */
/* temporary payload polled in the guest.                                */

VKAPI_ATTR VkResult VKAPI_CALL
vn_ImportFenceFdKHR(VkDevice device, const VkImportFenceFdInfoKHR *pInfo)
{
   struct vn_fence *fence = vn_fence_from_handle(pInfo->fence);
   (void)device;
   /* SYNC_FD has copy transference: its imports are temporary only */
   if (pInfo->handleType != VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT ||
       !(pInfo->flags & VK_FENCE_IMPORT_TEMPORARY_BIT))
      return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);
   vn_sync_file_drop(&fence->imported);
   fence->imported = (struct vn_sync_file){ .active = true, .fd = pInfo->fd };
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetFenceFdKHR(VkDevice device, const VkFenceGetFdInfoKHR *pGetFdInfo, int *pFd)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_fence *fence = vn_fence_from_handle(pGetFdInfo->fence);
   if (pGetFdInfo->handleType != VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT)
      return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);

   int fd = -1;
   if (fence->imported.active) {
      /* the temporary payload goes out as it came in */
      fd = fence->imported.fd;
      fence->imported = (struct vn_sync_file){ .fd = -1 };
      /* the export then resets the restored permanent payload, which may
       * never have been submitted: a plain reset, no host wait */
      vn_fence_reset_guest(fence);
      vn_async_vkResetFences(dev->ring, device, 1, &pGetFdInfo->fence);
   } else {
      const VkResult status = vn_fence_status(dev, fence);
      if (status < 0)
         return vn_error(status);
      if (status == VK_NOT_READY) {
         if (!fence->queue) {
            vn_log_err("vkGetFenceFdKHR: the fence has no pending signal operation");
            return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);
         }
         const VkResult result = vn_queue_export_sync_fd(fence->queue, &fd);
         if (result != VK_SUCCESS)
            return vn_error(result);
      }
      /* Exporting with copy transference resets the fence. Its signal may
       * still be pending on the host: the renderer lets it land first. */
      vn_fence_reset_guest(fence);
      vn_async_vkResetFenceResourceMESA(dev->ring, device, pGetFdInfo->fence);
   }
   fence->queue = NULL;
   *pFd = fd;
   return vn_device_is_lost(dev) ? vn_error(VK_ERROR_DEVICE_LOST) : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_ImportSemaphoreFdKHR(VkDevice device, const VkImportSemaphoreFdInfoKHR *pInfo)
{
   struct vn_semaphore *sem = vn_semaphore_from_handle(pInfo->semaphore);
   (void)device;
   if (pInfo->handleType != VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT ||
       !(pInfo->flags & VK_SEMAPHORE_IMPORT_TEMPORARY_BIT) ||
       sem->type != VK_SEMAPHORE_TYPE_BINARY)
      return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);
   vn_sync_file_drop(&sem->imported);
   sem->imported = (struct vn_sync_file){ .active = true, .fd = pInfo->fd };
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetSemaphoreFdKHR(VkDevice device, const VkSemaphoreGetFdInfoKHR *pGetFdInfo, int *pFd)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_semaphore *sem = vn_semaphore_from_handle(pGetFdInfo->semaphore);
   if (pGetFdInfo->handleType != VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT ||
       sem->type != VK_SEMAPHORE_TYPE_BINARY)
      return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);

   int fd = -1;
   if (sem->imported.active) {
      /* exporting acts as a wait: the temporary payload goes out whole */
      fd = sem->imported.fd;
      sem->imported = (struct vn_sync_file){ .fd = -1 };
   } else {
      if (!sem->queue) {
         vn_log_err("vkGetSemaphoreFdKHR: the semaphore has no pending signal operation");
         return vn_error(VK_ERROR_INVALID_EXTERNAL_HANDLE);
      }
      const VkResult result = vn_queue_export_sync_fd(sem->queue, &fd);
      if (result != VK_SUCCESS)
         return vn_error(result);
      /* the export is a wait operation: the host semaphore is unsignalled
       * by the renderer once its signal has landed */
      vn_async_vkWaitSemaphoreResourceMESA(dev->ring, device, pGetFdInfo->semaphore);
      sem->queue = NULL;
   }
   *pFd = fd;
   return vn_device_is_lost(dev) ? vn_error(VK_ERROR_DEVICE_LOST) : VK_SUCCESS;
}

VkResult
vn_semaphore_resolve_import(struct vn_device *dev, VkSemaphore semaphore)
{
   struct vn_semaphore *sem = vn_semaphore_from_handle(semaphore);
   /* the guest waits for the sync file; the wait consumes the temporary
    * payload */
   while (!vn_sync_file_signalled(&sem->imported)) {
      if (vn_device_is_lost(dev))
         return VK_ERROR_DEVICE_LOST;
      struct pollfd pfd = { .fd = sem->imported.fd, .events = POLLIN };
      poll(&pfd, 1, 100);
   }
   vn_sync_file_drop(&sem->imported);
   /* the submission that follows waits on the host semaphore: signal it */
   const VkImportSemaphoreResourceInfoMESA info = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_RESOURCE_INFO_MESA,
      .semaphore = semaphore,
      .resourceId = 0,
   };
   vn_async_vkImportSemaphoreResourceMESA(dev->ring, vn_device_to_handle(dev), &info);
   return vn_device_is_lost(dev) ? VK_ERROR_DEVICE_LOST : VK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* events                                                              */

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateEvent(VkDevice device,
               const VkEventCreateInfo *pCreateInfo,
               const VkAllocationCallbacks *pAllocator,
               VkEvent *pEvent)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_event *event = vn_object_alloc(dev, sizeof(*event), VK_OBJECT_TYPE_EVENT, pAllocator);
   if (!event)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   if (!(pCreateInfo->flags & VK_EVENT_CREATE_DEVICE_ONLY_BIT) &&
       vn_feedback_slot_alloc(dev, &event->slot))
      vn_feedback_write32(&event->slot, VK_EVENT_RESET);
   *pEvent = vn_event_to_handle(event);
   vn_async_vkCreateEvent(dev->ring, device, pCreateInfo, NULL, pEvent);
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyEvent(VkDevice device, VkEvent _event, const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_event *event = vn_event_from_handle(_event);
   if (!event)
      return;
   vn_async_vkDestroyEvent(dev->ring, device, _event, NULL);
   vn_feedback_slot_free(dev, &event->slot);
   vn_object_free(dev, event, pAllocator);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetEventStatus(VkDevice device, VkEvent _event)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_event *event = vn_event_from_handle(_event);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   if (!event->slot.buffer)
      return vn_result(vn_call_vkGetEventStatus(dev->ring, device, _event));
   return (VkResult)vn_feedback_read32(&event->slot) == VK_EVENT_SET ? VK_EVENT_SET
                                                                     : VK_EVENT_RESET;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_SetEvent(VkDevice device, VkEvent _event)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_event *event = vn_event_from_handle(_event);
   if (event->slot.buffer)
      vn_feedback_write32(&event->slot, VK_EVENT_SET);
   vn_async_vkSetEvent(dev->ring, device, _event);
   return vn_device_is_lost(dev) ? vn_error(VK_ERROR_DEVICE_LOST) : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_ResetEvent(VkDevice device, VkEvent _event)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_event *event = vn_event_from_handle(_event);
   if (event->slot.buffer)
      vn_feedback_write32(&event->slot, VK_EVENT_RESET);
   vn_async_vkResetEvent(dev->ring, device, _event);
   return vn_device_is_lost(dev) ? vn_error(VK_ERROR_DEVICE_LOST) : VK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* query pools                                                         */

static uint32_t
vn_query_result_count(const VkQueryPoolCreateInfo *info)
{
   switch (info->queryType) {
   case VK_QUERY_TYPE_OCCLUSION:
   case VK_QUERY_TYPE_TIMESTAMP:
   case VK_QUERY_TYPE_PRIMITIVES_GENERATED_EXT:
      return 1;
   case VK_QUERY_TYPE_TRANSFORM_FEEDBACK_STREAM_EXT:
      return 2;
   case VK_QUERY_TYPE_PIPELINE_STATISTICS:
      return (uint32_t)__builtin_popcount(info->pipelineStatistics);
   default:
      return 0; /* no feedback */
   }
}

static void
vn_query_pool_init_feedback(struct vn_device *dev, struct vn_query_pool *pool)
{
   VkDevice device = vn_device_to_handle(dev);
   const VkDeviceSize size =
      (VkDeviceSize)pool->count * (pool->result_count + 1) * sizeof(uint64_t);
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = size,
      .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   if (vn_CreateBuffer(device, &info, NULL, &pool->fb_buffer) != VK_SUCCESS)
      return;
   VkMemoryRequirements reqs;
   vn_GetBufferMemoryRequirements(device, pool->fb_buffer, &reqs);
   const VkPhysicalDeviceMemoryProperties *mem =
      &dev->physical_device->memory_properties.memoryProperties;
   const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   for (uint32_t i = 0; i < mem->memoryTypeCount; i++) {
      if (!(reqs.memoryTypeBits & (1u << i)) || (mem->memoryTypes[i].propertyFlags & want) != want)
         continue;
      const VkMemoryAllocateInfo alloc = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
         .allocationSize = reqs.size,
         .memoryTypeIndex = i,
      };
      void *map;
      if (vn_AllocateMemory(device, &alloc, NULL, &pool->fb_memory) != VK_SUCCESS)
         break;
      vn_BindBufferMemory(device, pool->fb_buffer, pool->fb_memory, 0);
      if (vn_MapMemory(device, pool->fb_memory, 0, VK_WHOLE_SIZE, 0, &map) != VK_SUCCESS)
         break;
      memset(map, 0, size);
      pool->fb_map = map;
      return;
   }
   if (pool->fb_memory)
      vn_FreeMemory(device, pool->fb_memory, NULL);
   vn_DestroyBuffer(device, pool->fb_buffer, NULL);
   pool->fb_buffer = VK_NULL_HANDLE;
   pool->fb_memory = VK_NULL_HANDLE;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateQueryPool(VkDevice device,
                   const VkQueryPoolCreateInfo *pCreateInfo,
                   const VkAllocationCallbacks *pAllocator,
                   VkQueryPool *pQueryPool)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_query_pool *pool =
      vn_object_alloc(dev, sizeof(*pool), VK_OBJECT_TYPE_QUERY_POOL, pAllocator);
   if (!pool)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   pool->type = pCreateInfo->queryType;
   pool->count = pCreateInfo->queryCount;
   pool->result_count = vn_query_result_count(pCreateInfo);
   *pQueryPool = vn_query_pool_to_handle(pool);
   vn_async_vkCreateQueryPool(dev->ring, device, pCreateInfo, NULL, pQueryPool);
   if (pool->result_count && dev->feedback.enabled)
      vn_query_pool_init_feedback(dev, pool);
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyQueryPool(VkDevice device, VkQueryPool queryPool, const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_query_pool *pool = vn_query_pool_from_handle(queryPool);
   if (!pool)
      return;
   vn_async_vkDestroyQueryPool(dev->ring, device, queryPool, NULL);
   if (pool->fb_buffer) {
      vn_DestroyBuffer(device, pool->fb_buffer, NULL);
      vn_FreeMemory(device, pool->fb_memory, NULL);
   }
   vn_object_free(dev, pool, pAllocator);
}

VKAPI_ATTR void VKAPI_CALL
vn_ResetQueryPool(VkDevice device, VkQueryPool queryPool, uint32_t firstQuery, uint32_t queryCount)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_query_pool *pool = vn_query_pool_from_handle(queryPool);
   if (pool->fb_map)
      memset((uint8_t *)pool->fb_map + vn_query_pool_availability_offset(pool, firstQuery), 0,
             (size_t)queryCount * sizeof(uint64_t));
   vn_async_vkResetQueryPool(dev->ring, device, queryPool, firstQuery, queryCount);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetQueryPoolResults(VkDevice device,
                       VkQueryPool queryPool,
                       uint32_t firstQuery,
                       uint32_t queryCount,
                       size_t dataSize,
                       void *pData,
                       VkDeviceSize stride,
                       VkQueryResultFlags flags)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_query_pool *pool = vn_query_pool_from_handle(queryPool);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   if (!pool->fb_map || pool->host_results)
      return vn_result(vn_call_vkGetQueryPoolResults(dev->ring, device, queryPool, firstQuery,
                                                     queryCount, dataSize, pData, stride, flags));

   const uint32_t n = pool->result_count;
   const bool is64 = flags & VK_QUERY_RESULT_64_BIT;
   VkResult result = VK_SUCCESS;
   _Atomic uint64_t *availability =
      (_Atomic uint64_t *)((uint8_t *)pool->fb_map +
                           vn_query_pool_availability_offset(pool, firstQuery));
   for (uint32_t q = 0; q < queryCount; q++) {
      volatile uint64_t *src = pool->fb_map + (size_t)(firstQuery + q) * n;
      uint64_t avail = atomic_load_explicit(&availability[q], memory_order_acquire);
      if (!avail && (flags & VK_QUERY_RESULT_WAIT_BIT)) {
         struct vn_relax relax = { 0 };
         while (!(avail = atomic_load_explicit(&availability[q], memory_order_acquire))) {
            if (!vn_relax(&relax, dev->instance->transport, "query results"))
               return vn_error(VK_ERROR_DEVICE_LOST);
         }
      }
      uint8_t *dst = (uint8_t *)pData + (size_t)q * stride;
      const bool write = avail || (flags & VK_QUERY_RESULT_PARTIAL_BIT);
      for (uint32_t i = 0; i < n && write; i++) {
         const uint64_t v = avail ? src[i] : 0;
         if (is64)
            memcpy(dst + i * 8, &v, 8);
         else {
            const uint32_t v32 = (uint32_t)v;
            memcpy(dst + i * 4, &v32, 4);
         }
      }
      if (flags & VK_QUERY_RESULT_WITH_AVAILABILITY_BIT) {
         if (is64) {
            const uint64_t a = avail ? 1 : 0;
            memcpy(dst + n * 8, &a, 8);
         } else {
            const uint32_t a = avail ? 1 : 0;
            memcpy(dst + n * 4, &a, 4);
         }
      }
      if (!avail)
         result = VK_NOT_READY;
   }
   return result;
}
