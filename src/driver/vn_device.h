/*
 * Devices and queues. Each device has its own ring (so its commands and its
 * round-trip count stay apart from other devices'); each queue is bound to
 * its own fence timeline (ring_idx, transport.md §F) at vkCreateDevice.
 */
#ifndef VN_DEVICE_H
#define VN_DEVICE_H

#include "vn_common.h"
#include "vn_feedback.h"
#include "vn_instance.h"

struct vn_queue {
   struct vn_object obj; /* dispatchable */
   struct vn_device *device;
   uint32_t family;
   uint32_t index;
   VkDeviceQueueCreateFlags flags;
   uint32_t ring_idx;
   /* queue feedback: a serial the GPU writes after each tracked submission
    * (vkQueueWaitIdle, command-buffer recycling); 0 without feedback */
   struct vn_feedback_slot serial_slot;
   uint64_t serial; /* last serial submitted (external sync: the queue) */
   /* `serial` of the last submission sent as made (vn_queue_submitted), for
    * other threads: a fence wait learns whether work is queued behind it */
   atomic_uint_fast64_t submitted_serial;
   /* internal command buffers writing feedback, reusable once the serial
    * slot reached their serial */
   VkCommandPool fb_pool;
   VkFence idle_fence; /* vkQueueWaitIdle with feedback */
   struct vn_queue_fb_cmd *fb_cmds;
   uint32_t fb_cmd_count;
   /* submissions whose only feedback is a fence: recorded once per fence
    * slot (slots live as long as the device), resubmitted as they are */
   struct vn_queue_fence_cmd *fence_cmds;
   uint32_t fence_cmd_count;
   /* fence elision (vn_queue_elide_fence): the serial of the last submission
    * sent as the application made it, and the highest serial whose host
    * fence the renderer was told to wait for (in ring order) */
   uint64_t content_serial;
   atomic_uint_fast64_t retired_serial;
   uint64_t elided_count; /* submissions sent to the host without their fence */
   uint64_t unwritten_count; /* fenced submissions whose feedback writes no status */
};

struct vn_queue_fence_cmd {
   VkBuffer buffer; /* the fence's feedback slot */
   VkDeviceSize offset;
   VkCommandBuffer cmd;
};

struct vn_queue_fb_cmd {
   VkCommandBuffer cmd;
   uint64_t serial;
};
VN_HANDLE_CAST(vn_queue, VkQueue)

/* Memory requirements of buffers without pNext, keyed like Mesa. Entries
 * are filled in slot order under cache_mutex and never change once `valid`
 * is set (release); lookups read them without the mutex (acquire). */
struct vn_buffer_reqs_entry {
   VkBufferCreateFlags flags;
   VkBufferUsageFlags usage;
   VkSharingMode sharing;
   atomic_bool valid;
   VkMemoryRequirements reqs;
   bool dedicated_prefers;
   bool dedicated_requires;
};

#define VN_BUFFER_REQS_CACHE_SIZE 64

struct vn_device {
   struct vn_object obj; /* dispatchable */
   struct vn_instance *instance;
   struct vn_physical_device *physical_device;
   VkAllocationCallbacks alloc;
   struct vn_ring *ring;
   uint32_t api_version;
   struct vn_ext_set enabled_exts;
   struct vn_ext_set protocol_exts; /* encoder chain filter of the device ring */

   struct vn_queue *queues;
   uint32_t queue_count;

   struct vn_object_pool object_pool;

   mtx_t cache_mutex;
   /* filled under cache_mutex, read without it (see the entry) */
   struct vn_buffer_reqs_entry buffer_reqs[VN_BUFFER_REQS_CACHE_SIZE];
   bool has_buffer_reqs_cache; /* !VENUS_PERF=no_cache, read once */
   /* protected by cache_mutex */
   VkDeviceSize max_buffer_size;

   struct vn_feedback_pool feedback; /* usable when feedback.enabled */

   /* A command buffer's stream reaches the renderer at vkEndCommandBuffer
    * (or in 16 KiB parts), after whatever the application sent to the ring
    * meanwhile. Pipeline layouts destroyed while command buffers record
    * (applications do it after their last vkCmd* use, the CTS among them)
    * are destroyed on the host once no command buffer of the device records,
    * so that the recorded commands still find them there. */
   mtx_t record_mutex;
   /* protected by record_mutex */
   uint32_t recording;         /* command buffers in the recording state */
   uint64_t *deferred_layouts; /* wire ids of the layouts to destroy */
   uint32_t deferred_count;
   uint32_t deferred_capacity;
};
VN_HANDLE_CAST(vn_device, VkDevice)

static inline struct vn_ring *
vn_ring_from_VkDevice(VkDevice device)
{
   return vn_device_from_handle(device)->ring;
}

static inline struct vn_ring *
vn_ring_from_VkQueue(VkQueue queue)
{
   return vn_queue_from_handle(queue)->device->ring;
}

static inline bool
vn_device_is_lost(const struct vn_device *dev)
{
   return vn_ring_is_lost(dev->ring);
}

/* Sends the destroys deferred by vn_DestroyPipelineLayout (all of them, or
 * none while a command buffer records unless `all`). */
void
vn_device_flush_deferred_destroys(struct vn_device *dev, bool all);

/* The renderer was told (in the ring, before anything sent after this call)
 * to wait for a host fence of `queue` submitted at `serial` or later. */
void
vn_queue_host_wait_sent(struct vn_queue *queue, uint64_t serial);

/* Before the device's feedback objects go: if submissions of `queue` went to
 * the host without their fences, a host-fenced idle wait retires them. */
void
vn_queue_retire_elided(struct vn_queue *queue);

/* vkQueueWaitIdle without sending it (also used by vkDeviceWaitIdle) */
VkResult
vn_queue_wait_idle(struct vn_queue *queue);

/* A sync file (transport.md §A.5: the eventfd of a vtest sync wait) that
 * becomes readable once everything submitted to `queue` so far is done. */
VkResult
vn_queue_export_sync_fd(struct vn_queue *queue, int *out_fd);

#endif
