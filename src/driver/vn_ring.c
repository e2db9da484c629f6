/*
 * Ring producer, reply windows, stream pool and bounded waits (vn_ring.h).
 */
#include "vn_ring.h"

#include <sched.h>

#include "transport/vw_ring_info.h"
#include "util/vu_os.h"

#define VN_RING_IDLE_TIMEOUT_NS (5ull * 1000 * 1000)
#define VN_RING_MONITOR_PERIOD_US (3u * 1000 * 1000)
#define VN_PROBE_PERIOD_NS (1000ull * 1000 * 1000)
/* a reply wait busy-waits this long (a yield every VN_SPIN_YIELD_EVERY
 * checks) before it sleeps on the head: a short host call comes back
 * without a scheduler wake-up on our side */
#define VN_SPIN_NS (50ull * 1000)
#define VN_SPIN_YIELD_EVERY 64u
/* how long a submit watches an IDLE ring before notifying it by socket */
#define VN_NOTIFY_SPIN_NS (20ull * 1000)

static inline uint32_t
vn_load(const uint32_t *p, memory_order order)
{
   return atomic_load_explicit((_Atomic uint32_t *)p, order);
}

uint64_t
vn_default_timeout_ns(void)
{
   static uint64_t timeout_ns;
   if (!timeout_ns) {
      const long long ms = vu_env_int("VENUS_TIMEOUT_MS", 60000);
      timeout_ns = (uint64_t)(ms > 0 ? ms : 60000) * 1000000ull;
   }
   return timeout_ns;
}

VkResult
vn_ring_create(struct vn_transport *transport,
               uint32_t buffer_size,
               const char *name,
               struct vn_ring **out_ring)
{
   struct vn_ring *ring = calloc(1, sizeof(*ring));
   if (!ring)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   ring->transport = transport;
   ring->id = vn_next_id();
   ring->buffer_size = buffer_size;
   ring->name = name;

   const size_t total = vw_ring_total_size(buffer_size);
   if (!vn_transport_shm_create(transport, total, &ring->shm))
      goto fail_alloc;
   uint8_t *base = ring->shm.ptr;
   ring->head = (uint32_t *)(base + VW_RING_HEAD_OFFSET);
   ring->tail = (uint32_t *)(base + VW_RING_TAIL_OFFSET);
   ring->status = (uint32_t *)(base + VW_RING_STATUS_OFFSET);
   ring->buffer = base + VW_RING_BUFFER_OFFSET;
   ring->waiters =
      (uint32_t *)(base + VW_RING_BUFFER_OFFSET + buffer_size + VW_RING_EXTRA_WAITERS);
   ring->sleeping =
      (uint32_t *)(base + VW_RING_BUFFER_OFFSET + buffer_size + VW_RING_EXTRA_SLEEPING);
   ring->head_wanted =
      (uint32_t *)(base + VW_RING_BUFFER_OFFSET + buffer_size + VW_RING_EXTRA_HEAD_WANTED);
   /* every seqno wait is counted at head_wanted (vn_ring_wait_seqno); every
    * host wait is a loop of slices that takes VK_TIMEOUT as a slice's end
    * (vn_sync.c) */
   *(uint32_t *)(base + VW_RING_BUFFER_OFFSET + buffer_size + VW_RING_EXTRA_FLAGS) =
      VW_RING_FLAG_LAZY_HEAD | VW_RING_FLAG_EARLY_WAIT_END;

   if (!vn_transport_shm_create(transport, VN_RING_REPLY_SIZE, &ring->reply))
      goto fail_shm;

   /* the monitor struct is unknown to wire format 0 (W.4) */
   const struct vw_capset *caps = &transport->capset;
   ring->monitored = caps->wire_format_version >= 1 &&
                     caps->vk_mesa_venus_protocol_spec_version >= 1;
   const VkRingMonitorInfoMESA monitor = {
      .sType = VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA,
      .maxReportingPeriodMicroseconds = VN_RING_MONITOR_PERIOD_US,
   };
   VkRingCreateInfoMESA info =
      vw_ring_create_info(ring->shm.res_id, buffer_size, VN_RING_IDLE_TIMEOUT_NS);
   info.pNext = ring->monitored ? &monitor : NULL;
   uint8_t storage[256];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkCreateRingMESA(&enc, 0, ring->id, &info);
   if (vp_encoder_is_fatal(&enc) ||
       !vn_transport_submit(transport, enc.base, vp_encoder_size(&enc)))
      goto fail_reply;
   if (VU_DEBUG(RING))
      vn_log_debug("ring %s created: %u bytes, resource %u%s", name, buffer_size,
                  ring->shm.res_id, ring->monitored ? ", monitored" : "");
   *out_ring = ring;
   return VK_SUCCESS;

fail_reply:
   vn_transport_shm_destroy(transport, &ring->reply);
fail_shm:
   vn_transport_shm_destroy(transport, &ring->shm);
fail_alloc:
   free(ring);
   return VK_ERROR_INITIALIZATION_FAILED;
}

void
vn_ring_destroy(struct vn_ring *ring)
{
   if (!ring)
      return;
   struct vn_transport *t = ring->transport;
   if (vn_ring_wait_all(ring)) {
      uint8_t storage[64];
      struct vp_encoder enc;
      vp_encoder_init_fixed(&enc, storage, sizeof(storage));
      vp_encode_vkDestroyRingMESA(&enc, 0, ring->id);
      /* the ring must be gone before its memory is unreferenced: wait for
       * the context path to have decoded the destroy (timeline 0) */
      vn_transport_submit_wait(t, enc.base, vp_encoder_size(&enc), 0,
                               (int)(vn_default_timeout_ns() / 1000000));
   }
   if (VU_DEBUG(RING))
      vn_log_debug("ring %s destroyed: %llu round trips, %llu notifies", ring->name,
                  (unsigned long long)ring->roundtrips,
                  (unsigned long long)ring->notifies);
   for (uint32_t i = 0; i < ring->chunk_count; i++)
      vn_transport_shm_destroy(t, &ring->chunks[i].shm);
   free(ring->chunks);
   if (ring->reply_big.ptr)
      vn_transport_shm_destroy(t, &ring->reply_big);
   vn_transport_shm_destroy(t, &ring->reply);
   vn_transport_shm_destroy(t, &ring->shm);
   free(ring);
}

/* ------------------------------------------------------------------ */
/* waiting                                                             */

struct vn_ring_watch {
   uint64_t start_ns;
   uint64_t progress_ns; /* last time the head moved or ALIVE was seen */
   uint64_t next_probe_ns;
   uint32_t last_head;
};

static void
vn_ring_watch_init(struct vn_ring *ring, struct vn_ring_watch *w)
{
   w->start_ns = vu_os_time_ns();
   w->progress_ns = w->start_ns;
   w->next_probe_ns = w->start_ns + VN_PROBE_PERIOD_NS;
   w->last_head = vn_load(ring->head, memory_order_acquire);
}

/* false: give up (lost) */
static bool
vn_ring_watch_check(struct vn_ring *ring, struct vn_ring_watch *w, const char *what)
{
   struct vn_transport *t = ring->transport;
   if (vn_transport_is_lost(t))
      return false;
   const uint32_t status = vn_load(ring->status, memory_order_acquire);
   if (!vn_transport_is_wire0(t) && (status & VW_RING_STATUS_FATAL)) {
      vn_transport_set_lost(t, "the renderer reported a fatal error on the ring");
      return false;
   }
   const uint64_t now = vu_os_time_ns();
   const uint32_t head = vn_load(ring->head, memory_order_acquire);
   if (head != w->last_head) {
      w->last_head = head;
      w->progress_ns = now;
   }
   if (ring->monitored && (status & VW_RING_STATUS_ALIVE)) {
      /* the renderer's heartbeat: clear it and look for it again later */
      atomic_fetch_and((_Atomic uint32_t *)ring->status, ~VW_RING_STATUS_ALIVE);
      w->progress_ns = now;
   }
   if (now >= w->next_probe_ns) {
      w->next_probe_ns = now + VN_PROBE_PERIOD_NS;
      if (!vn_transport_probe(t))
         return false;
      if (now - w->start_ns > 4 * VN_PROBE_PERIOD_NS && VU_DEBUG(RING))
         vn_log_warn("ring %s: still waiting for %s", ring->name, what);
   }
   if (now - w->progress_ns > vn_default_timeout_ns()) {
      vn_log_err("ring %s: no progress for %llu ms while waiting for %s", ring->name,
                 (unsigned long long)(vn_default_timeout_ns() / 1000000), what);
      vn_transport_set_lost(t, "renderer hang");
      return false;
   }
   return true;
}

void
vn_ring_kick(struct vn_ring *ring)
{
   /* Our renderer's ring thread, between batches, sleeps on the tail word
    * with growing timeouts and says so in the extra region (vw_ring.h).
    * Latency matters only when someone waits for the ring (a reply, a
    * submission's fence), so only those wake it: a stream of asynchronous
    * commands pays no system call. The exchange makes one waker per sleep;
    * the load before it keeps the word's cache line shared while the ring
    * thread is awake (an exchange per kick would pull the line over from
    * the renderer, which reads the word beside it after every command). */
   _Atomic uint32_t *sleeping = (_Atomic uint32_t *)ring->sleeping;
   /* the tail store before the load (the renderer stores the flag, then
    * the futex checks the tail): a fence, no cache-line transfer */
   atomic_thread_fence(memory_order_seq_cst);
   if (atomic_load_explicit(sleeping, memory_order_relaxed) &&
       atomic_exchange_explicit(sleeping, 0, memory_order_seq_cst))
      vu_os_futex_wake(ring->tail, INT32_MAX);
}

/* Waits until the head reaches `seqno`, which it was found short of. A
 * lazy-head renderer stores the head there only if the command before it
 * wrote a reply or the wait is counted in "head wanted" (vn_ring_wait_seqno). */
static bool
vn_ring_wait_head(struct vn_ring *ring, uint32_t seqno, bool host_waits)
{
   vn_ring_kick(ring);
   if (host_waits) {
      /* the renderer answers when a host wait ends: straight to sleep */
   } else if (vu_os_spin_allowed(VU_PERF_SPIN_WAIT)) {
      uint64_t spin_start = 0;
      for (uint32_t i = 1;; i++) {
         if (vn_ring_seqno_done(ring, seqno))
            return true;
         if (!(i % VN_SPIN_YIELD_EVERY)) {
            const uint64_t now = vu_os_time_ns();
            if (!spin_start)
               spin_start = now;
            else if (now - spin_start >= VN_SPIN_NS)
               break;
            if (vn_ring_is_lost(ring))
               return false;
            sched_yield();
         }
         vu_os_cpu_relax();
      }
   } else {
      /* few CPUs: a short spin, then yields to whoever runs the renderer */
      for (uint32_t i = 0; i < 2 * VN_SPIN_YIELD_EVERY; i++) {
         if (i < VN_SPIN_YIELD_EVERY)
            vu_os_cpu_relax();
         else
            sched_yield();
         if (vn_ring_seqno_done(ring, seqno))
            return true;
      }
   }

   struct vn_ring_watch watch;
   vn_ring_watch_init(ring, &watch);
   int64_t sleep_ns = 50 * 1000;
   bool ok = true;
   atomic_fetch_add_explicit((_Atomic uint32_t *)ring->waiters, 1, memory_order_seq_cst);
   for (;;) {
      const uint32_t head = vn_load(ring->head, memory_order_seq_cst);
      if ((uint32_t)(head - seqno) <= INT32_MAX)
         break;
      if (!vn_ring_watch_check(ring, &watch, "a ring seqno")) {
         ok = false;
         break;
      }
      /* renderers following the waiter convention wake us when the head
       * moves; others are polled at the timeout */
      vu_os_futex_wait(ring->head, head, sleep_ns);
      if (sleep_ns < 2 * 1000 * 1000)
         sleep_ns *= 2;
   }
   atomic_fetch_sub_explicit((_Atomic uint32_t *)ring->waiters, 1, memory_order_seq_cst);
   return ok;
}

bool
vn_ring_wait_seqno(struct vn_ring *ring, uint32_t seqno)
{
   if (vn_ring_seqno_done(ring, seqno))
      return !vn_ring_is_lost(ring);
   /* A renderer that may leave the head behind (VW_RING_FLAG_LAZY_HEAD)
    * stores it after every command while this count is nonzero; it reads
    * the count after each command, so at most the command it was running
    * when we counted ends without a store, and the head comes with the
    * next one or at the end of its batch. */
   _Atomic uint32_t *wanted = (_Atomic uint32_t *)ring->head_wanted;
   atomic_fetch_add_explicit(wanted, 1, memory_order_seq_cst);
   const bool ok = vn_ring_seqno_done(ring, seqno) || vn_ring_wait_head(ring, seqno, false);
   atomic_fetch_sub_explicit(wanted, 1, memory_order_release);
   return ok && !vn_ring_is_lost(ring);
}

uint32_t
vn_ring_current_seqno(struct vn_ring *ring)
{
   vu_bias_lock_take(&ring->lock);
   const uint32_t seqno = ring->cur;
   vu_bias_lock_give(&ring->lock);
   return seqno;
}

bool
vn_ring_wait_all(struct vn_ring *ring)
{
   return vn_ring_wait_seqno(ring, vn_ring_current_seqno(ring));
}

bool
vn_relax(struct vn_relax *relax, struct vn_transport *transport, const char *what)
{
   const uint64_t now = vu_os_time_ns();
   if (relax->iter == 0) {
      relax->start_ns = now;
      relax->next_probe_ns = now + VN_PROBE_PERIOD_NS;
      if (!relax->timeout_ns)
         relax->timeout_ns = vn_default_timeout_ns();
   }
   if (vn_transport_is_lost(transport))
      return false;
   if (now >= relax->next_probe_ns) {
      relax->next_probe_ns = now + VN_PROBE_PERIOD_NS;
      if (!vn_transport_probe(transport))
         return false;
   }
   if (now - relax->start_ns > relax->timeout_ns) {
      vn_log_err("gave up waiting for %s after %llu ms", what,
                 (unsigned long long)(relax->timeout_ns / 1000000));
      vn_transport_set_lost(transport, "renderer hang");
      return false;
   }
   /* a busy spin first (a yield every 8th call): short waits, such as a
    * fence of an empty submission, end without a scheduler round trip */
   if (now - relax->start_ns < VN_SPIN_NS && vu_os_spin_allowed(VU_PERF_SPIN_WAIT)) {
      if (!(++relax->spins % 8)) {
         sched_yield();
      } else {
         for (int i = 0; i < 32; i++)
            vu_os_cpu_relax();
      }
      relax->iter = relax->iter ? relax->iter : 1;
      return true;
   }
   relax->iter = vu_os_relax(relax->iter, 20);
   return true;
}

/* ------------------------------------------------------------------ */
/* producing                                                           */

static void
vn_ring_notify_locked(struct vn_ring *ring, uint32_t seqno)
{
   /* our renderer's idle ring thread sleeps on the tail word */
   vu_os_futex_wake(ring->tail, INT32_MAX);
   const uint64_t start = vu_os_time_ns();
   while (vu_os_time_ns() - start < VN_NOTIFY_SPIN_NS) {
      if (!(vn_load(ring->status, memory_order_seq_cst) & VW_RING_STATUS_IDLE))
         return;
      __builtin_ia32_pause();
   }
   /* a renderer without the futex convention (virglrenderer) */
   uint8_t storage[64];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkNotifyRingMESA(&enc, 0, ring->id, seqno, 0);
   vn_transport_submit(ring->transport, enc.base, vp_encoder_size(&enc));
   ring->notifies++;
   if (VU_DEBUG(RING))
      vn_log_debug("ring %s: notified at seqno %u", ring->name, seqno);
}

/* The slow half of vn_ring_wait_space_locked: the ring looks full. */
static bool __attribute__((noinline))
vn_ring_wait_space_slow_locked(struct vn_ring *ring, uint32_t size)
{
   const uint32_t cur = ring->cur;
   ring->head_seen = vn_load(ring->head, memory_order_acquire);
   if (cur + size - ring->head_seen <= ring->buffer_size)
      return true;
   /* a ring thread asleep between batches would leave it full until
    * its sleep ends */
   vn_ring_kick(ring);
   struct vn_ring_watch watch;
   vn_ring_watch_init(ring, &watch);
   uint32_t iter = 0;
   while (cur + size - vn_load(ring->head, memory_order_acquire) > ring->buffer_size) {
      if (!vn_ring_watch_check(ring, &watch, "ring space"))
         return false;
      iter = vu_os_relax(iter, 20);
   }
   ring->head_seen = vn_load(ring->head, memory_order_acquire);
   return true;
}

/* Waits until `size` more bytes fit at the tail; false when lost. */
static inline bool
vn_ring_wait_space_locked(struct vn_ring *ring, uint32_t size)
{
   /* the head as last read: the renderer stores the head after every
    * command, so reading it for every write would move its cache line
    * between the two sides each time; only a ring that seems full reads it */
   if (VP_LIKELY(ring->cur + size - ring->head_seen <= ring->buffer_size))
      return true;
   return vn_ring_wait_space_slow_locked(ring, size);
}

bool
vn_ring_publish_status(struct vn_ring *ring, uint32_t status)
{
   if (!vn_transport_is_wire0(ring->transport) && (status & VW_RING_STATUS_FATAL)) {
      vn_transport_set_lost(ring->transport, "the renderer reported a fatal error on the ring");
      return false;
   }
   if (status & VW_RING_STATUS_IDLE)
      vn_ring_notify_locked(ring, ring->cur);
   return true;
}

static bool
vn_ring_write_locked(struct vn_ring *ring, const void *data, uint32_t size, uint32_t *out_seqno)
{
   if (!vn_ring_wait_space_locked(ring, size))
      return false;
   const uint32_t mask = ring->buffer_size - 1;
   const uint32_t offset = ring->cur & mask;
   const uint32_t first = VN_MIN(size, ring->buffer_size - offset);
   memcpy(ring->buffer + offset, data, first);
   if (first < size)
      memcpy(ring->buffer, (const uint8_t *)data + first, size - first);
   return vn_ring_publish_locked(ring, size, out_seqno);
}

/* A chunk of the stream pool with `size` free bytes, or NULL. */
static struct vn_stream_chunk *
vn_ring_stream_alloc_locked(struct vn_ring *ring, size_t size, size_t *out_offset)
{
   struct vn_stream_chunk *chunk = NULL;
   for (uint32_t i = 0; i < ring->chunk_count; i++) {
      struct vn_stream_chunk *c = &ring->chunks[i];
      if (c->busy && vn_ring_seqno_done(ring, c->last_seqno)) {
         c->busy = false;
         c->used = 0;
      }
      if (c->shm.size - c->used >= size) {
         chunk = c;
         break;
      }
   }
   if (!chunk) {
      struct vn_stream_chunk *chunks =
         realloc(ring->chunks, sizeof(*chunks) * (ring->chunk_count + 1));
      if (!chunks)
         return NULL;
      ring->chunks = chunks;
      chunk = &chunks[ring->chunk_count];
      memset(chunk, 0, sizeof(*chunk));
      if (!vn_transport_shm_create(ring->transport, VN_MAX(size, VN_RING_STREAM_CHUNK_SIZE),
                                   &chunk->shm))
         return NULL;
      ring->chunk_count++;
   }
   *out_offset = chunk->used;
   chunk->used += VN_ALIGN(size, (size_t)64);
   return chunk;
}

/* Has the ring execute `size` bytes of a chunk at `offset`
 * (vkExecuteCommandStreamsMESA); the chunk is busy until the head passes
 * that command. */
static bool
vn_ring_execute_chunk_locked(struct vn_ring *ring,
                             struct vn_stream_chunk *chunk,
                             size_t offset,
                             size_t size,
                             uint32_t *out_seqno)
{
   const VkCommandStreamDescriptionMESA stream = {
      .resourceId = chunk->shm.res_id,
      .offset = offset,
      .size = size,
   };
   uint8_t storage[128];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkExecuteCommandStreamsMESA(&enc, 0, 1, &stream, NULL, 0, NULL, 0);
   const bool ok = vn_ring_write_locked(ring, enc.base, (uint32_t)vp_encoder_size(&enc), out_seqno);
   chunk->busy = true;
   chunk->last_seqno = *out_seqno;
   return ok;
}

/* vn_ring_submit; `sets_reply` (the bytes set the reply stream somewhere)
 * clears reply_stream_at_head as they are published */
static bool
vn_ring_submit_common(struct vn_ring *ring,
                           const void *data,
                           size_t size,
                           uint32_t *out_seqno,
                           bool sets_reply)
{
   uint32_t seqno = 0;
   bool ok;

   if (vn_ring_is_lost(ring))
      return false;
   vu_bias_lock_take(&ring->lock);
   if (sets_reply)
      atomic_store(&ring->transport->reply_stream_ring, NULL);
   if (size <= ring->buffer_size / 16) {
      ok = vn_ring_write_locked(ring, data, (uint32_t)size, &seqno);
   } else {
      size_t offset;
      struct vn_stream_chunk *chunk = vn_ring_stream_alloc_locked(ring, size, &offset);
      ok = chunk != NULL;
      if (ok) {
         memcpy((uint8_t *)chunk->shm.ptr + offset, data, size);
         ok = vn_ring_execute_chunk_locked(ring, chunk, offset, size, &seqno);
      }
   }
   vu_bias_lock_give(&ring->lock);
   if (out_seqno)
      *out_seqno = seqno;
   return ok;
}

bool
vn_ring_submit(struct vn_ring *ring, const void *data, size_t size, uint32_t *out_seqno)
{
   return vn_ring_submit_common(ring, data, size, out_seqno, false);
}

/* ------------------------------------------------------------------ */
/* generated-code helpers                                              */

#define VN_SET_REPLY_SIZE 36 /* vkSetReplyCommandStreamMESA */
#define VN_REPLY_UNWRITTEN 0xffffffffu

static bool
vn_ring_reply_reserve(struct vn_ring *ring, struct vn_ring_cmd *cmd, size_t size)
{
   size = VN_ALIGN(size, (size_t)8);
   cmd->reply_size = size;
   cmd->reply_in_head = false;
   if (size > VN_RING_REPLY_SIZE / 4) {
      vu_lock_take(&ring->reply_lock);
      if (ring->reply_big.ptr && ring->reply_big.size >= size) {
         cmd->reply_big = ring->reply_big;
         ring->reply_big.ptr = NULL;
      }
      vu_lock_give(&ring->reply_lock);
      if (!cmd->reply_big.ptr &&
          !vn_transport_shm_create(ring->transport, size, &cmd->reply_big))
         return false;
      cmd->reply_ptr = cmd->reply_big.ptr;
      return true;
   }
   vu_lock_take(&ring->reply_lock);
   /* A small reply goes beside the head, which the renderer stores right
    * after writing it: the waiting driver then gets both in one cache-line
    * transfer instead of two (the head's line, the window's). One call at
    * a time uses that slot; the others take the window. */
   if (size <= VW_RING_HEAD_REPLY_SIZE && !ring->head_reply_busy) {
      ring->head_reply_busy = true;
      vu_lock_give(&ring->reply_lock);
      cmd->reply_ptr = (uint8_t *)ring->shm.ptr + VW_RING_HEAD_REPLY_OFFSET;
      cmd->reply_in_head = true;
      return true;
   }
   while (ring->reply_used + size > ring->reply.size) {
      if (!ring->reply_outstanding) {
         ring->reply_used = 0;
         break;
      }
      /* other threads' replies fill the window: wait for a release (or
       * 10 ms, to notice a lost ring) */
      const uint32_t seen = atomic_load(&ring->reply_released);
      ring->reply_waiters++;
      vu_lock_give(&ring->reply_lock);
      vu_os_futex_wait((const uint32_t *)&ring->reply_released, seen, 10 * 1000 * 1000);
      vu_lock_take(&ring->reply_lock);
      ring->reply_waiters--;
      if (vn_ring_is_lost(ring)) {
         vu_lock_give(&ring->reply_lock);
         return false;
      }
   }
   cmd->reply_ptr = (uint8_t *)ring->reply.ptr + ring->reply_used;
   ring->reply_used += size;
   ring->reply_outstanding++;
   vu_lock_give(&ring->reply_lock);
   return true;
}

static void
vn_ring_reply_release(struct vn_ring *ring, struct vn_ring_cmd *cmd)
{
   if (!cmd->reply_size)
      return;
   if (cmd->reply_big.ptr) {
      /* kept for the next large reply if it is the largest yet (at most
       * VN_RING_REPLY_BIG_KEEP) */
      struct vn_shm drop = cmd->reply_big;
      vu_lock_take(&ring->reply_lock);
      if (drop.size <= VN_RING_REPLY_BIG_KEEP &&
          (!ring->reply_big.ptr || ring->reply_big.size < drop.size)) {
         const struct vn_shm kept = ring->reply_big;
         ring->reply_big = drop;
         drop = kept;
      }
      vu_lock_give(&ring->reply_lock);
      if (drop.ptr)
         vn_transport_shm_destroy(ring->transport, &drop);
      cmd->reply_big.ptr = NULL;
   } else if (cmd->reply_in_head) {
      vu_lock_take(&ring->reply_lock);
      ring->head_reply_busy = false;
      vu_lock_give(&ring->reply_lock);
   } else {
      vu_lock_take(&ring->reply_lock);
      ring->reply_outstanding--;
      const bool wake = ring->reply_waiters > 0;
      if (wake)
         atomic_fetch_add(&ring->reply_released, 1);
      vu_lock_give(&ring->reply_lock);
      if (wake)
         vu_os_futex_wake((const uint32_t *)&ring->reply_released, INT32_MAX);
   }
   cmd->reply_size = 0;
}

/* Points cmd->enc at `size` bytes of a stream chunk (a command too large for
 * the ring: encoded there, it is not copied there afterwards, which for the
 * pixels of a host image copy is one pass over them less), with ring->lock
 * held until vn_ring_cmd_flush, so that no other thread reuses the chunk
 * meanwhile; false where no chunk can be had. */
static bool __attribute__((noinline))
vn_ring_cmd_init_chunk(struct vn_ring *ring, struct vn_ring_cmd *cmd, size_t size)
{
   vu_bias_lock_take(&ring->lock);
   size_t offset;
   struct vn_stream_chunk *chunk = vn_ring_stream_alloc_locked(ring, size, &offset);
   if (!chunk) {
      vu_bias_lock_give(&ring->lock);
      return false;
   }
   /* the chunk's free space whole, as the ring's for a direct command;
    * what the encoder used is taken at the flush */
   vp_encoder_init_fixed(&cmd->enc, (uint8_t *)chunk->shm.ptr + offset, chunk->shm.size - offset);
   cmd->enc.ext_mask = ring->ext_mask;
   cmd->chunk = (uint32_t)(chunk - ring->chunks) + 1;
   cmd->chunk_offset = offset;
   return true;
}

/* vn_ring_cmd_flush of a command in a stream chunk */
static bool __attribute__((noinline))
vn_ring_cmd_flush_chunk(struct vn_ring *ring, struct vn_ring_cmd *cmd)
{
   struct vn_stream_chunk *chunk = &ring->chunks[cmd->chunk - 1];
   bool ok = !vp_encoder_is_fatal(&cmd->enc) && !vn_ring_is_lost(ring);
   if (ok) {
      /* nothing else took from the chunk since vn_ring_cmd_init_chunk */
      chunk->used = VN_ALIGN(cmd->chunk_offset + vp_encoder_size(&cmd->enc), (size_t)64);
      if (cmd->reply_size)
         atomic_store(&ring->transport->reply_stream_ring, NULL);
      ok = vn_ring_execute_chunk_locked(ring, chunk, cmd->chunk_offset,
                                        vp_encoder_size(&cmd->enc), &cmd->seqno);
   } else {
      chunk->used = cmd->chunk_offset;
   }
   vu_bias_lock_give(&ring->lock);
   cmd->chunk = 0;
   return ok;
}

/* Points cmd->enc at the ring's tail when `size` bytes fit there without
 * wrapping, or at a stream chunk for a command too large for the ring, with
 * ring->lock held until vn_ring_cmd_flush; otherwise at the command's own
 * storage (or the heap). */
static inline void
vn_ring_cmd_init_encoder(struct vn_ring *ring, struct vn_ring_cmd *cmd, size_t size)
{
   if (VP_UNLIKELY(size > ring->buffer_size / 16)) {
      if (vn_ring_cmd_init_chunk(ring, cmd, size))
         return;
   } else {
      vu_bias_lock_take(&ring->lock);
      if (VP_LIKELY(vn_ring_wait_space_locked(ring, (uint32_t)size) &&
                    vn_ring_cmd_try_direct_locked(ring, cmd, size)))
         return;
      vu_bias_lock_give(&ring->lock);
   }
   if (size <= sizeof(cmd->storage))
      vp_encoder_init_fixed(&cmd->enc, cmd->storage, sizeof(cmd->storage));
   else
      vp_encoder_init_dynamic(&cmd->enc, size);
   cmd->enc.ext_mask = ring->ext_mask;
}

/* Sends what cmd->enc holds; sets cmd->seqno. */
static inline bool
vn_ring_cmd_flush(struct vn_ring *ring, struct vn_ring_cmd *cmd)
{
   bool ok;
   if (VP_LIKELY(cmd->is_direct)) {
      ok = vn_ring_cmd_flush_direct(ring, cmd);
   } else if (cmd->chunk) {
      ok = vn_ring_cmd_flush_chunk(ring, cmd);
   } else {
      ok = !vp_encoder_is_fatal(&cmd->enc) &&
           vn_ring_submit_common(ring, cmd->enc.base, vp_encoder_size(&cmd->enc),
                                      &cmd->seqno, cmd->reply_size != 0);
      vp_encoder_fini(&cmd->enc);
   }
   return ok;
}

/* vn_ring_cmd_begin of a call: a reply window and vkSetReplyCommandStreamMESA
 * ahead of the command. */
static bool __attribute__((noinline))
vn_ring_cmd_begin_reply(struct vn_ring *ring,
                        struct vn_ring_cmd *cmd,
                        size_t size,
                        size_t reply_size)
{
   /* the reply window first: reserving it may wait */
   if (!vn_ring_reply_reserve(ring, cmd, reply_size))
      return false;
   vn_ring_cmd_init_encoder(ring, cmd, size + VN_SET_REPLY_SIZE);
   /* While the renderer's reply stream is still this ring's whole slot
    * beside the head, a reply there needs only vkSeekReplyCommandStreamMESA
    * back to its start (16 bytes to encode and decode, against 36 for
    * vkSetReplyCommandStreamMESA and its resource check). A command encoded
    * straight into the ring is published under the lock held since
    * vn_ring_cmd_init_encoder, so reply_stream_ring follows this ring's
    * order; any other clears it as it is published (vn_ring_cmd_flush). */
   _Atomic(const void *) *current = &ring->transport->reply_stream_ring;
   if (cmd->reply_in_head && cmd->is_direct && atomic_load(current) == ring) {
      vp_encode_vkSeekReplyCommandStreamMESA(&cmd->enc, 0, 0);
   } else {
      const struct vn_shm *shm =
         cmd->reply_big.ptr ? &cmd->reply_big : cmd->reply_in_head ? &ring->shm : &ring->reply;
      const VkCommandStreamDescriptionMESA stream = {
         .resourceId = shm->res_id,
         .offset = (size_t)(cmd->reply_ptr - (uint8_t *)shm->ptr),
         /* the head's slot whole: later replies there only seek */
         .size = cmd->reply_in_head ? VW_RING_HEAD_REPLY_SIZE : cmd->reply_size,
      };
      vp_encode_vkSetReplyCommandStreamMESA(&cmd->enc, 0, &stream);
      if (cmd->is_direct)
         atomic_store(current, cmd->reply_in_head ? (const void *)ring : NULL);
   }
   *(volatile uint32_t *)cmd->reply_ptr = VN_REPLY_UNWRITTEN;
   return true;
}

bool
vn_ring_cmd_begin(struct vn_ring *ring, struct vn_ring_cmd *cmd, size_t size, size_t reply_size)
{
   /* only what the helpers read before writing it (dec: submit_wait) */
   cmd->is_direct = false;
   cmd->chunk = 0;
   cmd->reply_size = 0;
   cmd->reply_ptr = NULL;
   cmd->reply_big.ptr = NULL;
   cmd->seqno = 0;
   if (VP_UNLIKELY(vn_ring_is_lost(ring)))
      return false;
   if (reply_size)
      return vn_ring_cmd_begin_reply(ring, cmd, size, reply_size);
   vn_ring_cmd_init_encoder(ring, cmd, size);
   return true;
}

void
vn_ring_cmd_submit(struct vn_ring *ring, struct vn_ring_cmd *cmd)
{
   if (vp_encoder_is_fatal(&cmd->enc))
      vn_log_err("a command could not be encoded (out of memory)");
   vn_ring_cmd_flush(ring, cmd);
}

/* vn_ring_set_host_wait. With the renderer in another scheduling group
 * than the application (a VMM, a service: Linux's autogroup puts each
 * session in its own), the 64 yields of a frame's fence wait were about
 * 100 us of CPU per frame on lavapipe (bench/README.md, issue 13 round 11).
 * Only the fence waits that feedback showed unsignalled set it: a renderer
 * that does not wake waiters (virglrenderer) leaves a sleeping wait to its
 * futex timeout (50 us first), which a host wait that returns at once (a
 * zero timeout, a fence already signalled) should not pay. */
static _Thread_local bool vn_ring_host_wait;

void
vn_ring_set_host_wait(bool host_wait)
{
   vn_ring_host_wait = host_wait;
}

bool
vn_ring_cmd_submit_wait(struct vn_ring *ring, struct vn_ring_cmd *cmd, int32_t cmd_type)
{
   bool ok = vn_ring_cmd_flush(ring, cmd);
   ring->roundtrips++;
   if (VU_DEBUG(ROUNDTRIP)) {
      const struct vp_command_info *info = vp_command_info(cmd_type);
      vn_log_debug("round trip on ring %s: %s", ring->name, info ? info->name : "?");
   }
   /* the command asked for a reply: any renderer stores the head after
    * it, so the wait need not be counted in "head wanted" (whose cache
    * line the renderer reads after every head store) */
   if (ok && !vn_ring_seqno_done(ring, cmd->seqno))
      ok = vn_ring_wait_head(ring, cmd->seqno, vn_ring_host_wait);
   if (ok)
      ok = !vn_ring_is_lost(ring);
   if (ok) {
      atomic_thread_fence(memory_order_acquire);
      const uint32_t first = *(volatile uint32_t *)cmd->reply_ptr;
      if (first != (uint32_t)cmd_type) {
         const struct vp_command_info *info = vp_command_info(cmd_type);
         vn_log_err("no reply to %s (the renderer rejected the stream)",
                    info ? info->name : "?");
         vn_transport_set_lost(ring->transport, "the renderer failed a command");
         ok = false;
      }
   }
   if (!ok) {
      vn_ring_reply_release(ring, cmd);
      return false;
   }
   vp_decoder_init(&cmd->dec, cmd->reply_ptr, cmd->reply_size, NULL);
   return true;
}

bool
vn_ring_cmd_end(struct vn_ring *ring, struct vn_ring_cmd *cmd)
{
   const bool ok = !vp_decoder_is_fatal(&cmd->dec);
   if (!ok) {
      vn_log_err("malformed reply: %s", cmd->dec.error ? cmd->dec.error : "?");
      vn_transport_set_lost(ring->transport, "malformed reply");
   }
   vn_ring_reply_release(ring, cmd);
   return ok;
}
