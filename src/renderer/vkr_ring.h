/*
 * Rings (transport.md §C): one consumer thread per ring, reading the
 * shared-memory ring the driver fills.
 *
 * Waking conventions (ours, compatible with Mesa, which never uses them):
 *
 * - The ring thread, when idle, sets VK_RING_STATUS_IDLE_BIT_MESA and sleeps
 *   in a shared futex wait on the ring's TAIL word, expecting the tail it
 *   last consumed. A producer that sees IDLE after storing a new tail may
 *   therefore wake it with a plain FUTEX_WAKE on the tail address instead of
 *   sending vkNotifyRingMESA through the socket (Mesa's way, which we also
 *   handle: the notify does the same wake). The short polling sleeps before
 *   IDLE are futex waits on the tail too.
 *
 * - "Waiter present" flag: if the ring has an extra region of at least 4
 *   bytes, the 32-bit word at extra offset 0 is a flag the driver sets
 *   (nonzero) before it futex-waits on the HEAD word. After every head store
 *   the ring thread reads that word and, when it is nonzero, FUTEX_WAKEs the
 *   head address. The driver clears the flag itself (a count of waiters works too).
 *   Inside a run of vkCmd* commands (which never block) the wakes are
 *   limited to one per 20 µs; the last command of a batch and any command
 *   followed by something else always wake. Mesa allocates a 4-byte
 *   extra region and never writes it, so the flag stays 0 and nothing
 *   happens; vkWriteRingExtraMESA writes into the same region and a driver
 *   using the flag must not target offset 0 with it.
 */
#ifndef VKR_RING_H
#define VKR_RING_H

#include "vkr_common.h"

struct vkr_ring {
   struct vkr_list link; /* in ctx->rings, under ring_mutex */
   struct vkr_context *ctx;
   uint64_t id;
   struct vkr_resource *res; /* holds a reference: the memory outlives an unref
                              * of the resource id until the ring is destroyed */

   _Atomic uint32_t *head;
   _Atomic uint32_t *tail;
   _Atomic uint32_t *status;
   uint8_t *buffer;
   uint32_t buffer_size;
   uint8_t *extra;
   size_t extra_size;
   uint64_t idle_timeout_ns;
   uint32_t monitor_period_us; /* 0: not monitored */
   bool spin; /* busy-spin after each batch (vu_os_spin_allowed) */
   bool spin_cpus; /* ... after a reply or a submission that signals nothing (enough CPUs) */
   bool has_priority;
   int priority;

   struct vkr_decoder *dec;
   /* the buffer mapped twice back to back, read-only (2 x buffer_size
    * bytes), where its place in the resource's memfd is page-aligned: a
    * batch that wraps is read in place; or NULL */
   uint8_t *mirror;
   uint8_t *copy;  /* else: reassembly buffer for batches that wrap,
                    * buffer_size bytes charged to the context (copy_charged) */
   bool copy_charged;
   uint32_t cur;   /* bytes consumed (ring thread only) */
   /* the head last published, kept here as well: the shared head word is
    * the guest's to scribble over, so waits on this side read this one */
   atomic_uint published_head;
   uint32_t batch_start;
   uint32_t batch_size;
   uint32_t cmds_since_wake; /* vkCmd* since the last FUTEX_WAKE of head waiters */
   /* our driver's "head wanted" count (VW_RING_FLAG_LAZY_HEAD), or NULL:
    * then the head is stored after every command */
   const _Atomic uint32_t *head_wanted;
   uint32_t lazy_stride; /* with head_wanted: bytes the head may lag at most */
   /* VW_RING_FLAG_EARLY_WAIT_END: host waits end when commands wait behind */
   bool early_wait_end;
   /* ring thread's counts (VENUS_DEBUG=ring): commands, batches they
    * ended, head stores and those of them not at the end of a batch */
   uint64_t commands, batch_ends, head_stores, inner_head_stores;

   thrd_t thread;
   bool started;
   atomic_bool stop;
   atomic_bool exited;
   atomic_bool fatal;

   /* vkSubmitVirtqueueSeqnoMESA / vkWaitVirtqueueSeqnoMESA */
   atomic_uint_fast64_t virtqueue_seqno;
   /* the seqno the ring thread waits for in vkWaitVirtqueueSeqnoMESA, 0
    * when it does not (under ctx->ring_mutex) */
   uint64_t virtqueue_awaited;
   /* vkWaitRingSeqnoMESA: the context thread waits for this seqno */
   atomic_bool has_awaited;
   atomic_uint awaited_seqno;
};

/* Whether commands wait behind the one the ring thread runs (in its batch,
 * or written after it): a hint from guest memory, for ending host waits. */
bool
vkr_ring_has_more(const struct vkr_ring *ring);

/* Validates a VkRingCreateInfoMESA layout against a resource of res_size
 * bytes (transport.md §C.2); NULL if fine, else why not (static string). */
const char *
vkr_ring_validate_layout(const VkRingCreateInfoMESA *info, uint64_t res_size, uint32_t max_size);

#endif
