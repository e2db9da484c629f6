/*
 * Feedback memory (driver-behavior.md §6): small host-visible, coherent
 * buffers the GPU writes with transfer commands the driver adds to
 * submissions and command buffers, and the CPU reads directly. Fence,
 * timeline-semaphore, event, queue-serial and query status thus need no
 * round trip.
 *
 * Feedback is enabled per device when its memory can be mapped in the guest
 * (not on virglrenderer 0.10.4 with lavapipe, W.10) and VENUS_PERF lacks
 * no_feedback; otherwise every status query is a synchronous call.
 */
#ifndef VN_FEEDBACK_H
#define VN_FEEDBACK_H

#include "vn_common.h"

#define VN_FEEDBACK_BUFFER_SIZE 4096
#define VN_FEEDBACK_SLOT_SIZE 8

struct vn_feedback_buffer {
   VkBuffer buffer;
   VkDeviceMemory memory;
   uint8_t *map;
};

/* 8 bytes of feedback memory */
struct vn_feedback_slot {
   VkBuffer buffer; /* VK_NULL_HANDLE: no slot */
   uint32_t offset;
   volatile void *ptr;
};

struct vn_feedback_pool {
   bool enabled;
   mtx_t mutex;
   /* protected by mutex */
   struct vn_feedback_buffer *buffers;
   uint32_t buffer_count;
   uint32_t next; /* next unused byte in the last buffer */
   struct vn_feedback_slot *free_slots;
   uint32_t free_count;
   uint32_t free_capacity;
   VkCommandPool *cmd_pools; /* one per queue family, for internal commands */
   uint32_t family_count;
};

struct vn_device;
struct vn_queue;

/* Sets up feedback for a new device (disabled when mapping fails). */
void
vn_feedback_init(struct vn_device *dev);
void
vn_feedback_fini(struct vn_device *dev);

bool
vn_feedback_slot_alloc(struct vn_device *dev, struct vn_feedback_slot *out_slot);
void
vn_feedback_slot_free(struct vn_device *dev, struct vn_feedback_slot *slot);

static inline uint32_t
vn_feedback_read32(const struct vn_feedback_slot *slot)
{
   return atomic_load_explicit((_Atomic uint32_t *)slot->ptr, memory_order_acquire);
}

static inline uint64_t
vn_feedback_read64(const struct vn_feedback_slot *slot)
{
   return atomic_load_explicit((_Atomic uint64_t *)slot->ptr, memory_order_acquire);
}

static inline void
vn_feedback_write32(const struct vn_feedback_slot *slot, uint32_t value)
{
   atomic_store_explicit((_Atomic uint32_t *)slot->ptr, value, memory_order_release);
}

static inline void
vn_feedback_write64(const struct vn_feedback_slot *slot, uint64_t value)
{
   atomic_store_explicit((_Atomic uint64_t *)slot->ptr, value, memory_order_release);
}

/* Encodes into `enc` (a command buffer's stream): a barrier making earlier
 * work visible to transfers, then, after the caller's writes,
 * vn_feedback_encode_end makes them visible to the host. */
void
vn_feedback_encode_begin(struct vp_encoder *enc, VkCommandBuffer cmd);
void
vn_feedback_encode_end(struct vp_encoder *enc, VkCommandBuffer cmd);
void
vn_feedback_encode_write32(struct vp_encoder *enc,
                           VkCommandBuffer cmd,
                           const struct vn_feedback_slot *slot,
                           uint32_t value);
void
vn_feedback_encode_write64(struct vp_encoder *enc,
                           VkCommandBuffer cmd,
                           const struct vn_feedback_slot *slot,
                           uint64_t value);

#endif
