/*
 * Queue submission and the synchronisation objects. With feedback
 * (vn_feedback.h) fence, timeline-semaphore and event status is read from
 * guest-visible memory the GPU writes; without it every status query is a
 * synchronous call and waits are bounded synchronous host waits.
 */
#ifndef VN_QUEUE_H
#define VN_QUEUE_H

#include "vn_common.h"
#include "vn_feedback.h"

/* A temporary payload imported from a sync file (VK_KHR_external_*_fd):
 * the fd, polled in the guest; -1 is "already signalled". */
struct vn_sync_file {
   bool active;
   int fd;
};

struct vn_fence {
   struct vn_object obj;
   struct vn_feedback_slot slot; /* VK_SUCCESS / VK_NOT_READY */
   atomic_bool host_synced;      /* host wait sent since the last reset */
   struct vn_queue *queue;       /* of the last submission (sync-file export) */
   uint64_t serial;              /* the queue's serial at that submission */
   struct vn_sync_file imported;
   /* the last wait that found the fence pending found later work of its
    * queue submitted behind it (frames in flight): its submissions then
    * write no status (vn_fence_skips_feedback) */
   atomic_bool pipelined;
   /* the pending submission writes no status: the host knows it */
   atomic_bool status_on_host;
};
VN_HANDLE_CAST(vn_fence, VkFence)

struct vn_semaphore {
   struct vn_object obj;
   VkSemaphoreType type;
   struct vn_feedback_slot slot; /* timeline: the counter */
   atomic_uint_fast64_t synced_value;
   /* timeline: the highest value a queue submission sent to the host signals
    * (vn_WaitSemaphores blocks in the renderer only for values below it) */
   atomic_uint_fast64_t sent_value;
   /* timeline of frames in flight: the last wait found signals already sent
    * beyond its value, so later signals get no feedback write
    * (vn_queue_feeds_back); the highest value signalled so, and the highest
    * the host reported reached */
   atomic_bool pipelined;
   atomic_uint_fast64_t unwritten_value;
   atomic_uint_fast64_t host_value;
   struct vn_queue *queue; /* binary: of the pending signal (sync-file export) */
   struct vn_sync_file imported;
};
VN_HANDLE_CAST(vn_semaphore, VkSemaphore)

struct vn_event {
   struct vn_object obj;
   struct vn_feedback_slot slot; /* VK_EVENT_SET / VK_EVENT_RESET */
};
VN_HANDLE_CAST(vn_event, VkEvent)

struct vn_query_pool {
   struct vn_object obj;
   VkQueryType type;
   uint32_t count;
   uint32_t result_count; /* 64-bit values per query */
   /* feedback: count x result_count uint64 results, then count uint64
    * availability words (nonzero: available) */
   VkBuffer fb_buffer;
   VkDeviceMemory fb_memory;
   uint64_t *fb_map;
   bool host_results; /* used in multiview: results from the host (vn_cmd_end_query) */
};
VN_HANDLE_CAST(vn_query_pool, VkQueryPool)

/* where query `query`'s availability word lies in the pool's feedback */
static inline VkDeviceSize
vn_query_pool_availability_offset(const struct vn_query_pool *pool, uint32_t query)
{
   return ((VkDeviceSize)pool->count * pool->result_count + query) * sizeof(uint64_t);
}

/* Replaces an imported payload of a semaphore waited on by a submission to
 * `queue`: waits for the sync file in the guest, then has the renderer
 * signal the host semaphore (vkImportSemaphoreResourceMESA) before the
 * submission that follows in the ring. */
VkResult
vn_semaphore_resolve_import(struct vn_device *dev, VkSemaphore semaphore);

#endif
