/*
 * A Venus ring (transport.md §C): a single-producer / single-consumer byte
 * queue in host shared memory. The driver (any thread, under ring->lock)
 * encodes commands straight into it, or copies whole command streams in, and
 * publishes the tail; the renderer's ring thread executes them and publishes
 * the head. The seqno of a submission is the tail after it; it is done once
 * the head has passed it.
 *
 * Replies (§C.6) go to a reply buffer of the same ring: a synchronous call
 * reserves a window, sends vkSetReplyCommandStreamMESA + the command as one
 * stream, waits for its seqno and decodes the reply in place. The first
 * dword of the window is pre-filled so that a reply the renderer never wrote
 * (wire format 0 skips failed batches silently, W.6) is detected.
 *
 * Streams larger than 1/16 of the ring go through a shared-memory stream pool
 * and vkExecuteCommandStreamsMESA (§C.7).
 *
 * Waiting: spin, then sleep on a futex on the head word with the "waiter
 * present" word (extra offset 0) raised; renderers that know this convention
 * wake us, others are covered by the bounded futex timeout. Every wait checks
 * FATAL, probes the server from time to time and gives up (device lost) when
 * the head stops moving for VENUS_TIMEOUT_MS (default 60 s).
 */
#ifndef VN_RING_H
#define VN_RING_H

#include "vn_common.h"
#include "vn_transport.h"

#include "transport/vw_ring.h"
#include "util/vu_bias_lock.h"
#include "util/vu_os.h"

#define VN_RING_BUFFER_SIZE (128u * 1024u)
#define VN_RING_REPLY_SIZE (1u * 1024u * 1024u)
/* the largest reply buffer a ring keeps for the next large reply */
#define VN_RING_REPLY_BIG_KEEP (32u * 1024u * 1024u)
#define VN_RING_STREAM_CHUNK_SIZE (4u * 1024u * 1024u)
/* ring commands that cannot be encoded in the ring go on the stack up to
 * this size */
#define VN_RING_CMD_STACK_SIZE 256

struct vn_stream_chunk {
   struct vn_shm shm;
   size_t used;
   uint32_t last_seqno; /* the chunk is free once the head passes it */
   bool busy;
};

struct vn_ring {
   struct vn_transport *transport;
   uint64_t id;
   struct vn_shm shm;
   uint32_t *head;
   uint32_t *tail;
   uint32_t *status;
   uint32_t *waiters; /* extra offset 0: "waiter present" count */
   uint32_t *sleeping; /* extra offset 4: the renderer's ring thread sleeps */
   uint32_t *head_wanted; /* extra offset 8: seqno waits in progress */
   uint8_t *buffer;
   uint32_t buffer_size;

   /* taken once per command; biased to the thread that takes it almost
    * always, which then takes and gives it without atomic read-modify-writes
    * (util/vu_bias_lock.h) */
   struct vu_bias_lock lock;
   /* protected by lock */
   uint32_t cur; /* our copy of the tail */
   uint32_t head_seen; /* the head when we last read it (never ahead of it) */
   struct vn_stream_chunk *chunks;
   uint32_t chunk_count;

   struct vn_shm reply; /* set at creation */
   /* taken twice per call (a pthread mutex and a condition broadcast cost
    * about 300 instructions per round trip) */
   struct vu_lock reply_lock;
   /* protected by reply_lock */
   size_t reply_used;
   uint32_t reply_outstanding;
   uint32_t reply_waiters; /* threads waiting for a full window to drain */
   bool head_reply_busy;    /* the slot beside the head (vn_ring_reply_reserve) */
   /* the last reply too large for the window, kept for the next one (host
    * image copies read back in 16 MiB parts): a fresh one costs a resource,
    * two mappings and their page faults on both sides. NULL ptr while a call
    * uses it or before the first. */
   struct vn_shm reply_big;
   /* bumped by each release while someone waits: their futex word */
   _Atomic uint32_t reply_released;

   /* pNext filter for everything encoded into this ring (the capset's
    * extension mask narrowed to what the instance/device enabled) */
   const uint32_t *ext_mask;
   bool monitored; /* ALIVE heartbeat requested */
   atomic_uint_fast64_t roundtrips;
   atomic_uint_fast64_t notifies;
   const char *name;
};

/* One command on its way into a ring (generated vn_async_ / vn_call_).
 *
 * A command that fits in the ring without wrapping is encoded straight into
 * the ring at its tail (is_direct): vn_ring_cmd_begin takes ring->lock and
 * waits for room, the generated encoder writes the ring memory, and the
 * submit publishes the tail and releases the lock; the renderer sees
 * nothing before the tail moves. Other commands are encoded into `storage`
 * (or the heap) and copied in by vn_ring_submit. */
struct vn_ring_cmd {
   struct vp_encoder enc;
   bool is_direct; /* enc writes into the ring; ring->lock held until submit */
   /* or, for a command too large for the ring, 1 + the index of the
    * stream chunk enc writes into, at chunk_offset (ring->lock held too) */
   uint32_t chunk;
   size_t chunk_offset;
   uint8_t storage[VN_RING_CMD_STACK_SIZE];
   /* reply window, for calls */
   size_t reply_size;
   uint8_t *reply_ptr;
   bool reply_in_head; /* in the head's cache line */
   struct vn_shm reply_big; /* a dedicated buffer for huge replies */
   struct vp_decoder dec;
   uint32_t seqno;
};

VkResult
vn_ring_create(struct vn_transport *transport, uint32_t buffer_size, const char *name,
               struct vn_ring **out_ring);
/* Waits for the ring to drain, then destroys it on the context path. */
void
vn_ring_destroy(struct vn_ring *ring);

static inline bool
vn_ring_is_lost(const struct vn_ring *ring)
{
   return vn_transport_is_lost(ring->transport);
}

/* Copies a stream into the ring (or the stream pool); *out_seqno is its
 * seqno. False when the transport is lost. */
bool
vn_ring_submit(struct vn_ring *ring, const void *data, size_t size, uint32_t *out_seqno);

/* Wakes our renderer's ring thread if it sleeps between batches. */
void
vn_ring_kick(struct vn_ring *ring);

/* Waits until the head passes seqno (bounded). False when lost. */
bool
vn_ring_wait_seqno(struct vn_ring *ring, uint32_t seqno);

/* Waits until everything submitted so far is done. */
bool
vn_ring_wait_all(struct vn_ring *ring);

static inline bool
vn_ring_seqno_done(const struct vn_ring *ring, uint32_t seqno)
{
   const uint32_t head = atomic_load_explicit((_Atomic uint32_t *)ring->head,
                                              memory_order_acquire);
   return (uint32_t)(head - seqno) <= INT32_MAX;
}

/* the current tail: a seqno covering everything submitted so far */
uint32_t
vn_ring_current_seqno(struct vn_ring *ring);

/* helpers of the generated code */
bool
vn_ring_cmd_begin(struct vn_ring *ring, struct vn_ring_cmd *cmd, size_t size, size_t reply_size);
void
vn_ring_cmd_submit(struct vn_ring *ring, struct vn_ring_cmd *cmd);

/* vn_ring_publish_locked where the renderer's status says it failed or
 * idles: false when the ring is lost */
bool
vn_ring_publish_status(struct vn_ring *ring, uint32_t status);

/* Makes `size` bytes written at the tail visible to the renderer (ring->lock
 * held); false when the ring is lost. */
static inline bool
vn_ring_publish_locked(struct vn_ring *ring, uint32_t size, uint32_t *out_seqno)
{
   ring->cur += size;
   atomic_store_explicit((_Atomic uint32_t *)ring->tail, ring->cur, memory_order_release);
   const uint32_t status =
      atomic_load_explicit((_Atomic uint32_t *)ring->status, memory_order_seq_cst);
   if (VP_UNLIKELY(status & (VW_RING_STATUS_FATAL | VW_RING_STATUS_IDLE)) &&
       !vn_ring_publish_status(ring, status))
      return false;
   *out_seqno = ring->cur;
   return true;
}

/* Points cmd->enc at the ring's tail (ring->lock held) if `size` bytes fit
 * there without wrapping, into room already known to be free: all of it up
 * to the buffer's end, as the encoder may use more than vp_sizeof_ says (as
 * it could with the command's own storage). */
static inline bool
vn_ring_cmd_try_direct_locked(struct vn_ring *ring, struct vn_ring_cmd *cmd, size_t size)
{
   const uint32_t offset = ring->cur & (ring->buffer_size - 1);
   const uint32_t room =
      VN_MIN(ring->buffer_size - offset, ring->buffer_size - (ring->cur - ring->head_seen));
   if (VP_UNLIKELY(room < size))
      return false;
   vp_encoder_init_fixed(&cmd->enc, ring->buffer + offset, room);
   cmd->enc.ext_mask = ring->ext_mask;
   cmd->is_direct = true;
   return true;
}

/* vn_ring_cmd_begin of an asynchronous command (no reply), inline for the
 * common case: the command fits at the tail without wrapping, into room
 * already known to be free. Only is_direct and enc are set then, which is
 * all that vn_ring_cmd_submit reads of a direct command. */
static inline bool
vn_ring_cmd_begin_async(struct vn_ring *ring, struct vn_ring_cmd *cmd, size_t size)
{
   if (VP_LIKELY(size <= ring->buffer_size / 16 && !vn_ring_is_lost(ring))) {
      vu_bias_lock_take(&ring->lock);
      if (VP_LIKELY(vn_ring_cmd_try_direct_locked(ring, cmd, size)))
         return true;
      vu_bias_lock_give(&ring->lock);
   }
   return vn_ring_cmd_begin(ring, cmd, size, 0);
}

/* Publishes a command encoded straight into the ring (is_direct) and gives
 * the lock its begin took; false when it failed to encode or the ring is
 * lost. */
static inline bool
vn_ring_cmd_flush_direct(struct vn_ring *ring, struct vn_ring_cmd *cmd)
{
   const bool ok = !vp_encoder_is_fatal(&cmd->enc) &&
                   vn_ring_publish_locked(ring, (uint32_t)vp_encoder_size(&cmd->enc),
                                          &cmd->seqno);
   cmd->is_direct = false;
   vu_bias_lock_give(&ring->lock);
   return ok;
}

/* vn_ring_cmd_submit of an asynchronous command, inline where
 * vn_ring_cmd_begin_async encoded it straight into the ring */
static inline void
vn_ring_cmd_submit_async(struct vn_ring *ring, struct vn_ring_cmd *cmd)
{
   if (VP_LIKELY(cmd->is_direct && !vp_encoder_is_fatal(&cmd->enc)))
      vn_ring_cmd_flush_direct(ring, cmd);
   else
      vn_ring_cmd_submit(ring, cmd);
}

bool
vn_ring_cmd_submit_wait(struct vn_ring *ring, struct vn_ring_cmd *cmd, int32_t cmd_type);
bool
vn_ring_cmd_end(struct vn_ring *ring, struct vn_ring_cmd *cmd);

/* Set (on this thread) around a vn_call_* that the renderer answers only
 * when a host wait with time left ends (vn_sync.c): its reply wait then
 * sleeps at once instead of spinning and yielding first, which would only
 * take CPU time from the work it waits for. */
void
vn_ring_set_host_wait(bool host_wait);

/* A bounded polling wait used outside rings (fences, queries): call with
 * iter starting at 0; returns false once the overall deadline passed or the
 * transport is lost. */
struct vn_relax {
   uint32_t iter;
   uint32_t spins;
   uint64_t start_ns;
   uint64_t next_probe_ns;
   uint64_t timeout_ns; /* 0: the default (VENUS_TIMEOUT_MS) */
};
bool
vn_relax(struct vn_relax *relax, struct vn_transport *transport, const char *what);

uint64_t
vn_default_timeout_ns(void);

#endif
