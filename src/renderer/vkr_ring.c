/*
 * Ring threads and the ring-management commands (transport.md §C.2-§C.10,
 * command-types.md §5.1): vkCreateRingMESA, vkDestroyRingMESA,
 * vkNotifyRingMESA, vkWriteRingExtraMESA, the seqno commands 251-253 and
 * the ALIVE monitor. See vkr_ring.h for the futex conventions.
 */
#include "vkr_ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util/vu_os.h"
#include "transport/vw_ring.h"

/* the polling phase after the last batch: a busy spin on the tail for
 * VKR_RING_SPIN_NS (a yield every VKR_RING_SPIN_YIELD_EVERY checks, so that a
 * loaded machine gets the CPU back), then VKR_RING_BUSY_ITERS yields, then
 * short futex sleeps on the tail */
#define VKR_RING_SPIN_NS 50000u
#define VKR_RING_SPIN_YIELD_EVERY 64u
#define VKR_RING_BUSY_ITERS 16
#define VKR_RING_BASE_SLEEP_US 10
#define VKR_RING_MAX_SLEEP_US 1000
/* an idle ring re-checks its state this often even without a wake */
#define VKR_RING_IDLE_RECHECK_NS 1000000000ll
/* head waiters are woken at least every this many vkCmd* commands of a run
 * (and after anything else, and at the end of a batch) */
#define VKR_RING_WAKE_INTERVAL_CMDS 1024u
/* the context thread's seqno waits re-check this often */
#define VKR_SEQNO_WAIT_SLICE_NS 100000000ll

static bool
vkr_seqno_passed(uint32_t a, uint32_t b)
{
   return (uint32_t)(a - b) <= INT32_MAX;
}

/* ------------------------------------------------------------------ */
/* layout validation (§C.2)                                            */

struct vkr_region {
   uint64_t offset;
   uint64_t size;
};

const char *
vkr_ring_validate_layout(const VkRingCreateInfoMESA *info, uint64_t res_size, uint32_t max_size)
{
   if (info->offset > res_size || info->size > res_size - info->offset)
      return "ring area outside its resource";
   const uint64_t bs = info->bufferSize;
   if (!bs || (bs & (bs - 1)) || bs > VW_RING_MAX_BUFFER_SIZE)
      return "ring bufferSize is not a power of two <= 16 MiB";
   if (bs > max_size)
      return "ring bufferSize above this context's ring size limit";

   const struct vkr_region r[5] = {
      { info->headOffset, 4 },   { info->tailOffset, 4 },        { info->statusOffset, 4 },
      { info->bufferOffset, bs }, { info->extraOffset, info->extraSize },
   };
   for (int i = 0; i < 5; i++) {
      if (r[i].offset > info->size || r[i].size > info->size - r[i].offset)
         return "ring region outside the ring area";
      if ((r[i].offset | r[i].size) & 3)
         return "ring region not 4-byte aligned";
   }
   for (int i = 0; i < 5; i++) {
      for (int j = i + 1; j < 5; j++) {
         if (!r[i].size || !r[j].size)
            continue;
         if (r[i].offset < r[j].offset + r[j].size && r[j].offset < r[i].offset + r[i].size)
            return "ring regions overlap";
      }
   }
   return NULL;
}

/* ------------------------------------------------------------------ */
/* the ring thread                                                     */

void
vkr_ring_set_fatal(struct vkr_ring *ring)
{
   atomic_store(&ring->fatal, true);
   atomic_fetch_or_explicit(ring->status, VW_RING_STATUS_FATAL, memory_order_seq_cst);
   /* a driver sleeping on the head must see it */
   vu_os_futex_wake((const uint32_t *)ring->head, INT32_MAX);
   mtx_lock(&ring->ctx->ring_mutex);
   cnd_broadcast(&ring->ctx->ring_cond);
   mtx_unlock(&ring->ctx->ring_mutex);
}

bool
vkr_ring_is_fatal(const struct vkr_ring *ring)
{
   return atomic_load(&ring->fatal);
}

/* What the ring thread's progress hook needs to know of a command type, in
 * one table: VKR_CMD_RECORDING, vkCmd* commands, which only record and never
 * block the ring thread; VKR_CMD_CHEAP, commands that take it a few
 * microseconds at most, inside a run of which a lazy head may lag
 * (vkr_ring_progress); VKR_CMD_REPLY_STREAM, the commands that set or seek
 * the reply stream. */
enum {
   VKR_CMD_RECORDING = 1 << 0,
   VKR_CMD_CHEAP = 1 << 1,
   VKR_CMD_REPLY_STREAM = 1 << 2,
};
static uint8_t vkr_command_classes[VP_COMMAND_TYPE_COUNT];
static once_flag vkr_command_classes_once = ONCE_FLAG_INIT;

static const char *const vkr_cheap_command_names[] = {
   "vkCreateBuffer",
   "vkDestroyBuffer",
   "vkCreateBufferView",
   "vkDestroyBufferView",
   "vkCreateImage",
   "vkDestroyImage",
   "vkCreateImageView",
   "vkDestroyImageView",
   "vkCreateSampler",
   "vkDestroySampler",
   "vkGetBufferMemoryRequirements",
   "vkGetBufferMemoryRequirements2",
   "vkGetImageMemoryRequirements",
   "vkGetImageMemoryRequirements2",
   "vkBindBufferMemory",
   "vkBindBufferMemory2",
   "vkBindImageMemory",
   "vkBindImageMemory2",
   "vkUpdateDescriptorSets",
   "vkCreateEvent",
   "vkDestroyEvent",
   "vkSetEvent",
   "vkResetEvent",
};

static void
vkr_command_classes_init(void)
{
   for (int32_t t = 0; t < VP_COMMAND_TYPE_COUNT; t++) {
      const struct vp_command_info *info = vp_command_info(t);
      if (!info || !info->name)
         continue;
      uint8_t cls = 0;
      if (!strncmp(info->name, "vkCmd", 5))
         cls |= VKR_CMD_RECORDING | VKR_CMD_CHEAP;
      const size_t n = sizeof(vkr_cheap_command_names) / sizeof(vkr_cheap_command_names[0]);
      for (size_t i = 0; i < n; i++) {
         if (!strcmp(info->name, vkr_cheap_command_names[i]))
            cls |= VKR_CMD_CHEAP;
      }
      vkr_command_classes[t] = cls;
   }
   _Static_assert(VK_COMMAND_TYPE_vkSetReplyCommandStreamMESA_EXT < VP_COMMAND_TYPE_COUNT &&
                     VK_COMMAND_TYPE_vkSeekReplyCommandStreamMESA_EXT < VP_COMMAND_TYPE_COUNT,
                  "reply-stream commands in the table");
   vkr_command_classes[VK_COMMAND_TYPE_vkSetReplyCommandStreamMESA_EXT] |= VKR_CMD_REPLY_STREAM;
   vkr_command_classes[VK_COMMAND_TYPE_vkSeekReplyCommandStreamMESA_EXT] |= VKR_CMD_REPLY_STREAM;
}

/* the VKR_CMD_* bits of `type` (none for a type we do not know) */
static inline uint8_t
vkr_command_class(int32_t type)
{
   return (uint32_t)type < VP_COMMAND_TYPE_COUNT ? vkr_command_classes[type] : 0;
}

/* the VKR_CMD_* bits of the batch's next command (none at its end) */
static inline uint8_t
vkr_ring_next_class(const struct vkr_ring *ring)
{
   const struct vp_decoder *dec = &ring->dec->dec;
   int32_t type;
   if (vp_decoder_remaining(dec) < 4)
      return 0;
   memcpy(&type, dec->cur, 4);
   return vkr_command_class(type);
}

static void
vkr_ring_publish_head(struct vkr_ring *ring, uint32_t head, bool batch_end, uint8_t done_class)
{
   atomic_store_explicit(&ring->published_head, head, memory_order_release);
   atomic_store_explicit(ring->head, head, memory_order_release);
   ring->head_stores++;
   ring->inner_head_stores += !batch_end;
   if (ring->extra_size >= 4 &&
       atomic_load_explicit((_Atomic uint32_t *)ring->extra, memory_order_seq_cst)) {
      /* A FUTEX_WAKE per command would cost more than most commands, and
       * a driver waits for the end of a submission, which a vkCmd* ends
       * only in the middle of recording. Inside a run of vkCmd* commands
       * (which never block) wake every VKR_RING_WAKE_INTERVAL_CMDS
       * commands; always wake after anything else (a reply, a submission),
       * before anything that might take long, and at the end of a batch.
       * (A wake every 20 us of a run, with a clock read per command, cost
       * the renderer about a tenth of its recording time while the driver
       * slept in a fence wait behind a long command buffer.) */
      if (batch_end || !(done_class & VKR_CMD_RECORDING) ||
          ++ring->cmds_since_wake >= VKR_RING_WAKE_INTERVAL_CMDS ||
          !(vkr_ring_next_class(ring) & VKR_CMD_RECORDING)) {
         vu_os_futex_wake((const uint32_t *)ring->head, INT32_MAX);
         ring->cmds_since_wake = 0;
      }
   }
   if (atomic_load_explicit(&ring->has_awaited, memory_order_seq_cst)) {
      mtx_lock(&ring->ctx->ring_mutex);
      cnd_broadcast(&ring->ctx->ring_cond);
      mtx_unlock(&ring->ctx->ring_mutex);
   }
}

/* With our driver's lazy-head convention: whether the head must be stored
 * after a command of `type` in the middle of a batch. Each store takes the
 * head's cache line from the driver, which polls it while it waits for
 * room, and the next locked instruction of the ring thread waits for that
 * transfer: twice per buffer create + destroy, which on the NVIDIA H200
 * machine made churn about a fifth slower (bench/README.md). So inside a
 * run of cheap commands the head is stored only every lazy_stride bytes,
 * unless a driver thread waits for a seqno (it counts itself in
 * head_wanted first, and the count is read after every command), someone
 * waits on the context path, or the command wrote a reply. Before and
 * after anything else, and at the end of a batch, the head is stored as
 * usual. */
static bool
vkr_ring_head_due(const struct vkr_ring *ring, uint32_t head, uint8_t cls)
{
   if (!(cls & VKR_CMD_CHEAP) ||
       (ring->dec->dispatch.cmd_flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT) ||
       atomic_load_explicit(ring->head_wanted, memory_order_seq_cst) ||
       atomic_load_explicit(&ring->has_awaited, memory_order_seq_cst) ||
       head - atomic_load_explicit(&ring->published_head, memory_order_relaxed) >=
          ring->lazy_stride)
      return true;
   return !(vkr_ring_next_class(ring) & VKR_CMD_CHEAP);
}

static void
vkr_ring_progress(void *data, size_t consumed)
{
   struct vkr_ring *ring = data;
   ring->commands++;
   const uint8_t cls = vkr_command_class(ring->dec->dispatch.cmd_type);
   const uint32_t head = ring->batch_start + (uint32_t)consumed;
   if (consumed == ring->batch_size) {
      ring->batch_ends++;
      vkr_ring_publish_head(ring, head, true, cls);
      return;
   }
   /* A reply stream is set (or sought) right before the call it is for, in
    * the same write: the head after it is no driver's seqno. Storing it
    * would also take the head's cache line, where our driver's small
    * replies go, from the driver polling it, just before the reply is
    * written there. */
   if ((cls & VKR_CMD_REPLY_STREAM) || (ring->head_wanted && !vkr_ring_head_due(ring, head, cls)))
      return;
   vkr_ring_publish_head(ring, head, false, cls);
}

bool
vkr_ring_has_more(const struct vkr_ring *ring)
{
   const struct vp_decoder *dec = &ring->dec->dec;
   if (dec->cur < dec->end)
      return true;
   const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_acquire);
   return tail != ring->batch_start + ring->batch_size;
}

static bool
vkr_ring_process(struct vkr_ring *ring, uint32_t n)
{
   const uint32_t mask = ring->buffer_size - 1;
   const uint32_t start = ring->cur & mask;
   const uint8_t *data;
   if (ring->mirror) {
      /* n <= buffer_size: the batch lies in the two mappings (the decoder
       * reads each byte once and copies what it keeps, so later guest
       * writes cannot confuse it) */
      data = ring->mirror + start;
   } else if (start + n <= ring->buffer_size) {
      /* contiguous: decode in place (the decoder reads each byte once and
       * copies what it keeps, so later guest writes cannot confuse it) */
      data = ring->buffer + start;
   } else {
      const uint32_t first = ring->buffer_size - start;
      memcpy(ring->copy, ring->buffer + start, first);
      memcpy(ring->copy + first, ring->buffer, n - first);
      data = ring->copy;
   }
   ring->batch_start = ring->cur;
   ring->batch_size = n;
   const bool ok = vkr_decoder_run(ring->dec, data, n, vkr_ring_progress, ring);
   vu_arena_trim(&ring->dec->arena);
   if (ok)
      ring->cur += n;
   return ok;
}

/* Fatal if the context waits for a seqno this ring will never reach: the
 * ring has run dry and its tail, read after the wait was announced, is
 * short of the seqno. A tail read before would race the driver, which
 * publishes its bytes and at once asks the context path to wait for them:
 * the wait may be announced between that read and this check. */
static bool
vkr_ring_check_awaited(struct vkr_ring *ring)
{
   if (!atomic_load_explicit(&ring->has_awaited, memory_order_seq_cst))
      return true;
   const uint32_t seqno = atomic_load(&ring->awaited_seqno);
   const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_seq_cst);
   if (vkr_seqno_passed(tail, seqno))
      return true;
   vkr_context_set_fatal(ring->ctx,
                         "vkWaitRingSeqnoMESA(0x%llx, %u) waits for bytes never written "
                         "(tail %u)",
                         (unsigned long long)ring->id, seqno, tail);
   return false;
}

static bool
vkr_ring_should_run(struct vkr_ring *ring)
{
   return !atomic_load(&ring->stop) && !vkr_context_fatal(ring->ctx);
}

static bool
vkr_ring_sleep(struct vkr_ring *ring)
{
   atomic_fetch_or_explicit(ring->status, VW_RING_STATUS_IDLE, memory_order_seq_cst);
   bool ok = true;
   while (vkr_ring_should_run(ring)) {
      const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_seq_cst);
      if (tail != ring->cur)
         break;
      if (!vkr_ring_check_awaited(ring)) {
         ok = false;
         break;
      }
      vu_os_futex_wait((const uint32_t *)ring->tail, ring->cur, VKR_RING_IDLE_RECHECK_NS);
   }
   atomic_fetch_and_explicit(ring->status, ~VW_RING_STATUS_IDLE, memory_order_seq_cst);
   return ok;
}

/* Busy-waits for the tail to move, for at most VKR_RING_SPIN_NS since the
 * last batch: a driver that sends the next command within that time (a
 * round trip, the next submission) is served without a scheduler wake-up on
 * either side. True if the tail moved. */
static bool
vkr_ring_spin(struct vkr_ring *ring, uint64_t last_work)
{
   for (uint32_t i = 1;; i++) {
      if (atomic_load_explicit(ring->tail, memory_order_relaxed) != ring->cur)
         return true;
      if (!(i % VKR_RING_SPIN_YIELD_EVERY)) {
         if (!vkr_ring_should_run(ring) ||
             vu_os_time_ns() - last_work >= VKR_RING_SPIN_NS)
            return false;
         thrd_yield();
      }
      vu_os_cpu_relax();
   }
}

static uint32_t
vkr_ring_relax(struct vkr_ring *ring, uint32_t iter)
{
   if (iter < VKR_RING_BUSY_ITERS) {
      thrd_yield();
      return iter + 1;
   }
   uint32_t bits = 0;
   for (uint32_t v = iter; v; v >>= 1)
      bits++;
   uint64_t us = (uint64_t)VKR_RING_BASE_SLEEP_US << (bits - 5);
   if (us > VKR_RING_MAX_SLEEP_US)
      us = VKR_RING_MAX_SLEEP_US;
   /* a futex sleep on the tail: a producer's wake cuts it short. With room
    * in the extra region, say that we sleep, so that our driver wakes us at
    * once instead of after the sleep (seq_cst store, then the futex's own
    * check of the tail: the driver stores the tail, then loads the flag) */
   _Atomic uint32_t *sleeping = NULL;
   if (ring->extra_size >= VW_RING_EXTRA_SLEEPING + 4)
      sleeping = (_Atomic uint32_t *)(ring->extra + VW_RING_EXTRA_SLEEPING);
   if (sleeping)
      atomic_store_explicit(sleeping, 1, memory_order_seq_cst);
   vu_os_futex_wait((const uint32_t *)ring->tail, ring->cur, (int64_t)us * 1000);
   if (sleeping)
      atomic_store_explicit(sleeping, 0, memory_order_relaxed);
   return iter < UINT32_MAX ? iter + 1 : iter;
}

static int
vkr_ring_thread(void *arg)
{
   struct vkr_ring *ring = arg;
   struct vkr_context *ctx = ring->ctx;
   call_once(&vkr_command_classes_once, vkr_command_classes_init);
   char name[16];
   snprintf(name, sizeof(name), "vkr-ring-%u", ctx->id);
   pthread_setname_np(pthread_self(), name);
   if (ring->has_priority)
      setpriority(PRIO_PROCESS, (id_t)gettid(), ring->priority);

   ring->spin = vu_os_spin_allowed(VU_PERF_SPIN_RING);
   ring->spin_cpus = vu_os_spin_allowed(0);
   uint64_t last_work = vu_os_time_ns();
   uint32_t iter = 0;
   bool failed = false;
   while (vkr_ring_should_run(ring)) {
      const uint32_t tail = atomic_load_explicit(ring->tail, memory_order_acquire);
      const uint32_t n = tail - ring->cur;
      if (n > ring->buffer_size) {
         vkr_context_set_fatal(ctx, "ring 0x%llx: tail %u is %u bytes ahead of head %u",
                               (unsigned long long)ring->id, tail, n, ring->cur);
         failed = true;
         break;
      }
      if (n) {
         if (!vkr_ring_process(ring, n)) {
            failed = true;
            break;
         }
         last_work = vu_os_time_ns();
         iter = 0;
         continue;
      }
      if (!vkr_ring_check_awaited(ring)) {
         failed = true;
         break;
      }
      /* a driver that just got a reply usually sends its next command at
       * once (vkr_note_QueueSubmit for the submissions) */
      const bool replied =
         (ring->dec->dispatch.cmd_flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT) != 0;
      if (!iter && (ring->spin || (ring->spin_cpus && (ring->dec->submitted_unsignalled ||
                                                        replied)))) {
         ring->dec->submitted_unsignalled = false;
         ring->dec->dispatch.cmd_flags = 0;
         if (vkr_ring_spin(ring, last_work))
            continue;
      }
      if (vu_os_time_ns() - last_work >= ring->idle_timeout_ns) {
         if (!vkr_ring_sleep(ring)) {
            failed = true;
            break;
         }
         last_work = vu_os_time_ns();
         iter = 0;
         continue;
      }
      iter = vkr_ring_relax(ring, iter);
   }
   /* All decoders share the context's fatal flag. Upstream shows FATAL on
    * an idle ring only once something new was written; we set it at once
    * (vkr_context_set_fatal wakes every ring), which tells the driver the
    * same thing earlier. A ring being destroyed is not failed. */
   if (failed || (vkr_context_fatal(ctx) && !atomic_load(&ring->stop)))
      vkr_ring_set_fatal(ring);
   if (VU_DEBUG(RING))
      vkr_log(VU_LOG_INFO,
              "context %u: ring 0x%llx thread exits%s: %llu commands (%llu inside "
              "batches), %llu head stores (%llu inside batches), lazy head %s",
              ctx->id, (unsigned long long)ring->id, failed ? " (fatal)" : "",
              (unsigned long long)ring->commands,
              (unsigned long long)(ring->commands - ring->batch_ends),
              (unsigned long long)ring->head_stores,
              (unsigned long long)ring->inner_head_stores, ring->head_wanted ? "on" : "off");
   atomic_store(&ring->exited, true);
   mtx_lock(&ctx->ring_mutex);
   cnd_broadcast(&ctx->ring_cond);
   mtx_unlock(&ctx->ring_mutex);
   return 0;
}

/* ------------------------------------------------------------------ */
/* monitor                                                             */

static int
vkr_monitor_thread(void *arg)
{
   struct vkr_context *ctx = arg;
   char name[16];
   snprintf(name, sizeof(name), "vkr-ringmon-%u", ctx->id);
   pthread_setname_np(pthread_self(), name);

   mtx_lock(&ctx->ring_mutex);
   while (!ctx->monitor_stop) {
      for (struct vkr_list *l = ctx->rings.next; l != &ctx->rings; l = l->next) {
         struct vkr_ring *ring = vkr_container_of(l, struct vkr_ring, link);
         if (ring->monitor_period_us && !atomic_load(&ring->exited))
            atomic_fetch_or_explicit(ring->status, VW_RING_STATUS_ALIVE, memory_order_seq_cst);
      }
      /* report twice per period so the driver never sees a stale bit */
      const uint64_t wait_ns = (uint64_t)ctx->monitor_period_us * 500;
      struct timespec ts;
      timespec_get(&ts, TIME_UTC);
      ts.tv_sec += (time_t)(wait_ns / 1000000000u);
      ts.tv_nsec += (long)(wait_ns % 1000000000u);
      if (ts.tv_nsec >= 1000000000) {
         ts.tv_sec++;
         ts.tv_nsec -= 1000000000;
      }
      cnd_timedwait(&ctx->ring_cond, &ctx->ring_mutex, &ts);
   }
   mtx_unlock(&ctx->ring_mutex);
   return 0;
}

/* ------------------------------------------------------------------ */
/* create / destroy                                                    */

static struct vkr_ring *
vkr_context_find_ring_locked(struct vkr_context *ctx, uint64_t id)
{
   for (struct vkr_list *l = ctx->rings.next; l != &ctx->rings; l = l->next) {
      struct vkr_ring *ring = vkr_container_of(l, struct vkr_ring, link);
      if (ring->id == id)
         return ring;
   }
   return NULL;
}

static uint32_t
vkr_context_ring_count(struct vkr_context *ctx)
{
   uint32_t n = 0;
   mtx_lock(&ctx->ring_mutex);
   for (struct vkr_list *l = ctx->rings.next; l != &ctx->rings; l = l->next)
      n++;
   mtx_unlock(&ctx->ring_mutex);
   return n;
}

static struct vkr_ring *
vkr_context_find_ring(struct vkr_context *ctx, uint64_t id)
{
   mtx_lock(&ctx->ring_mutex);
   struct vkr_ring *ring = vkr_context_find_ring_locked(ctx, id);
   mtx_unlock(&ctx->ring_mutex);
   return ring;
}

static void
vkr_ring_stop(struct vkr_ring *ring)
{
   atomic_store(&ring->stop, true);
   if (ring->started) {
      /* the thread may be between its checks and a futex wait: keep waking
       * until it has left */
      while (!atomic_load(&ring->exited)) {
         vu_os_futex_wake((const uint32_t *)ring->tail, INT32_MAX);
         mtx_lock(&ring->ctx->ring_mutex);
         cnd_broadcast(&ring->ctx->ring_cond);
         mtx_unlock(&ring->ctx->ring_mutex);
         const struct timespec ts = { 0, 1000000 };
         nanosleep(&ts, NULL);
      }
      thrd_join(ring->thread, NULL);
      ring->started = false;
   }
}

/* Maps the `size` bytes at `offset` of `fd` twice, back to back and
 * read-only, so that a batch that wraps around the ring's end is one run of
 * bytes; NULL where the place is not page-aligned (Mesa's layout puts the
 * buffer right after the control words) or a mapping fails. */
static uint8_t *
vkr_ring_map_mirror(int fd, uint64_t offset, uint32_t size)
{
   const long page = sysconf(_SC_PAGESIZE);
   if (fd < 0 || page <= 0 || offset % (uint64_t)page || size % (uint64_t)page ||
       offset > (uint64_t)INT64_MAX)
      return NULL;
   const size_t twice = 2 * (size_t)size;
   uint8_t *area = mmap(NULL, twice, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
   if (area == MAP_FAILED)
      return NULL;
   for (size_t i = 0; i < 2; i++) {
      if (mmap(area + i * size, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, (off_t)offset) ==
          MAP_FAILED) {
         munmap(area, twice);
         return NULL;
      }
   }
   return area;
}

static void
vkr_ring_destroy(struct vkr_ring *ring)
{
   vkr_ring_stop(ring);
   vkr_resource_unref(ring->res);
   vkr_decoder_destroy(ring->dec);
   if (ring->mirror)
      munmap(ring->mirror, 2 * (size_t)ring->buffer_size);
   free(ring->copy);
   if (ring->copy_charged)
      vkr_context_uncharge_memory(ring->ctx, ring->buffer_size);
   free(ring);
}

void
vkr_context_destroy_rings(struct vkr_context *ctx)
{
   for (;;) {
      mtx_lock(&ctx->ring_mutex);
      struct vkr_ring *ring = NULL;
      if (!vkr_list_empty(&ctx->rings)) {
         ring = vkr_container_of(ctx->rings.next, struct vkr_ring, link);
         vkr_list_del(&ring->link);
      }
      mtx_unlock(&ctx->ring_mutex);
      if (!ring)
         break;
      vkr_ring_destroy(ring);
   }
   mtx_lock(&ctx->ring_mutex);
   const bool started = ctx->monitor_started;
   ctx->monitor_stop = true;
   cnd_broadcast(&ctx->ring_cond);
   mtx_unlock(&ctx->ring_mutex);
   if (started)
      thrd_join(ctx->monitor_thread, NULL);
   ctx->monitor_started = false;
}

static bool
vkr_dispatch_require_context_path(struct vp_dispatch *d, const char *why)
{
   if (vkr_decoder_from_dispatch(d)->ring) {
      vkr_dispatch_fatal(d, why);
      return false;
   }
   return true;
}

void
vkr_exec_vkCreateRingMESA(struct vp_dispatch *d, struct vp_command_vkCreateRingMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   const VkRingCreateInfoMESA *info = args->pCreateInfo;
   if (!vkr_dispatch_require_context_path(d, "vkCreateRingMESA on a ring"))
      return;
   if (vkr_context_find_ring(ctx, args->ring)) {
      vkr_dispatch_fatal(d, "vkCreateRingMESA with a ring id in use");
      return;
   }
   /* only this thread (the context path) adds rings */
   if (vkr_context_ring_count(ctx) >= VKR_MAX_RINGS) {
      vkr_log(VU_LOG_ERROR, "context %u: ring limit (%u rings) reached", ctx->id, VKR_MAX_RINGS);
      vkr_dispatch_fatal(d, "vkCreateRingMESA: ring limit reached");
      return;
   }

   uint32_t period_us = 0;
   bool has_priority = false;
   int priority = 0;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA) {
         period_us = ((const VkRingMonitorInfoMESA *)s)->maxReportingPeriodMicroseconds;
         if (!period_us) {
            vkr_dispatch_fatal(d, "VkRingMonitorInfoMESA with period 0");
            return;
         }
      } else if (s->sType == VK_STRUCTURE_TYPE_RING_PRIORITY_INFO_MESA) {
         has_priority = true;
         priority = ((const VkRingPriorityInfoMESA *)s)->priority;
      }
   }

   struct vkr_resource *res = vkr_context_get_resource(ctx, info->resourceId);
   if (!res || res->kind != VKR_RESOURCE_SHM || !res->shm || !res->shm->map) {
      vkr_resource_unref(res);
      vkr_dispatch_fatal(d, "vkCreateRingMESA: not a shared-memory resource");
      return;
   }
   const char *why = vkr_ring_validate_layout(info, res->size, ctx->limits.max_ring_size);
   if (why) {
      vkr_log(VU_LOG_ERROR,
              "context %u: ring 0x%llx: %s (resource %u of %llu bytes, area %zu+%zu, "
              "buffer %zu+%zu, limit %u)",
              ctx->id, (unsigned long long)args->ring, why, info->resourceId,
              (unsigned long long)res->size, info->offset, info->size, info->bufferOffset,
              info->bufferSize, ctx->limits.max_ring_size);
      vkr_resource_unref(res);
      vkr_dispatch_fatal(d, why);
      return;
   }
   uint8_t *base = (uint8_t *)res->shm->map + info->offset;
   struct vkr_ring *ring = calloc(1, sizeof(*ring));
   if (!ring) {
      vkr_resource_unref(res);
      vkr_dispatch_fatal(d, "out of host memory");
      return;
   }
   ring->ctx = ctx;
   ring->id = args->ring;
   ring->res = res;
   ring->head = (_Atomic uint32_t *)(base + info->headOffset);
   ring->tail = (_Atomic uint32_t *)(base + info->tailOffset);
   ring->status = (_Atomic uint32_t *)(base + info->statusOffset);
   ring->buffer = base + info->bufferOffset;
   ring->buffer_size = (uint32_t)info->bufferSize;
   ring->extra = base + info->extraOffset;
   ring->extra_size = info->extraSize;
   if (ring->extra_size >= VW_RING_EXTRA_FLAGS + 4 && !VU_PERF(PRECISE_HEAD) &&
       (atomic_load((_Atomic uint32_t *)(ring->extra + VW_RING_EXTRA_FLAGS)) &
        VW_RING_FLAG_LAZY_HEAD)) {
      ring->head_wanted = (const _Atomic uint32_t *)(ring->extra + VW_RING_EXTRA_HEAD_WANTED);
      ring->lazy_stride = (uint32_t)info->bufferSize / 16;
   }
   ring->early_wait_end =
      ring->extra_size >= VW_RING_EXTRA_FLAGS + 4 &&
      (atomic_load((_Atomic uint32_t *)(ring->extra + VW_RING_EXTRA_FLAGS)) &
       VW_RING_FLAG_EARLY_WAIT_END);
   ring->idle_timeout_ns = info->idleTimeout;
   ring->monitor_period_us = period_us;
   ring->has_priority = has_priority;
   ring->priority = priority;
   ring->cur = atomic_load(ring->head);
   atomic_init(&ring->stop, false);
   atomic_init(&ring->exited, false);
   atomic_init(&ring->fatal, false);
   atomic_init(&ring->virtqueue_seqno, 0);
   atomic_init(&ring->has_awaited, false);
   atomic_init(&ring->awaited_seqno, 0);
   atomic_init(&ring->published_head, ring->cur);

   if (atomic_load(ring->head) != 0 || atomic_load(ring->status) != 0) {
      vkr_ring_destroy(ring);
      vkr_dispatch_fatal(d, "vkCreateRingMESA: head or status word is not 0");
      return;
   }
   ring->dec = vkr_decoder_create(ctx, ring);
   /* (the resource's memory starts at offset 0 of its memfd) */
   ring->mirror = VU_PERF(NO_RING_MIRROR)
                     ? NULL
                     : vkr_ring_map_mirror(res->shm->fd, info->offset + info->bufferOffset,
                                           ring->buffer_size);
   if (!ring->mirror) {
      ring->copy_charged =
         vkr_context_charge_memory(ctx, ring->buffer_size, "ring buffer copy");
      ring->copy = ring->copy_charged ? malloc(ring->buffer_size) : NULL;
   }
   if (!ring->dec || (!ring->mirror && !ring->copy)) {
      const char *why = ring->dec && !ring->copy_charged ? "memory limit reached"
                                                         : "out of host memory";
      vkr_ring_destroy(ring);
      vkr_dispatch_fatal(d, why);
      return;
   }

   mtx_lock(&ctx->ring_mutex);
   vkr_list_add(&ctx->rings, &ring->link);
   if (period_us && (!ctx->monitor_period_us || period_us < ctx->monitor_period_us))
      ctx->monitor_period_us = period_us;
   bool monitor_ok = true;
   if (period_us && !ctx->monitor_started) {
      ctx->monitor_stop = false;
      monitor_ok = thrd_create(&ctx->monitor_thread, vkr_monitor_thread, ctx) == thrd_success;
      ctx->monitor_started = monitor_ok;
   }
   cnd_broadcast(&ctx->ring_cond);
   mtx_unlock(&ctx->ring_mutex);

   if (!monitor_ok || thrd_create(&ring->thread, vkr_ring_thread, ring) != thrd_success) {
      vkr_dispatch_fatal(d, "cannot start a ring thread");
      return; /* the ring stays listed and is freed with the context */
   }
   ring->started = true;
   if (VU_DEBUG(RING))
      vkr_log(VU_LOG_INFO,
              "context %u: ring 0x%llx in resource %u: buffer %u bytes (%s), extra %zu, idle "
              "%llu ns%s",
              ctx->id, (unsigned long long)ring->id, info->resourceId, ring->buffer_size,
              ring->mirror ? "mapped twice" : "wrapped batches copied", ring->extra_size,
              (unsigned long long)ring->idle_timeout_ns, period_us ? ", monitored" : "");
}

void
vkr_exec_vkDestroyRingMESA(struct vp_dispatch *d, struct vp_command_vkDestroyRingMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   if (!vkr_dispatch_require_context_path(d, "vkDestroyRingMESA on a ring"))
      return;
   mtx_lock(&ctx->ring_mutex);
   struct vkr_ring *ring = vkr_context_find_ring_locked(ctx, args->ring);
   if (ring)
      vkr_list_del(&ring->link);
   mtx_unlock(&ctx->ring_mutex);
   if (!ring) {
      vkr_dispatch_fatal(d, "vkDestroyRingMESA of an unknown ring");
      return;
   }
   vkr_ring_destroy(ring);
}

void
vkr_exec_vkNotifyRingMESA(struct vp_dispatch *d, struct vp_command_vkNotifyRingMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   if (!vkr_dispatch_require_context_path(d, "vkNotifyRingMESA on a ring"))
      return;
   mtx_lock(&ctx->ring_mutex);
   struct vkr_ring *ring = vkr_context_find_ring_locked(ctx, args->ring);
   if (ring)
      vu_os_futex_wake((const uint32_t *)ring->tail, INT32_MAX);
   mtx_unlock(&ctx->ring_mutex);
   if (!ring)
      vkr_dispatch_fatal(d, "vkNotifyRingMESA of an unknown ring");
}

void
vkr_exec_vkWriteRingExtraMESA(struct vp_dispatch *d, struct vp_command_vkWriteRingExtraMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   if (!vkr_dispatch_require_context_path(d, "vkWriteRingExtraMESA on a ring"))
      return;
   mtx_lock(&ctx->ring_mutex);
   struct vkr_ring *ring = vkr_context_find_ring_locked(ctx, args->ring);
   const bool ok = ring && args->offset <= ring->extra_size &&
                   ring->extra_size - args->offset >= 4 && !(args->offset & 3);
   if (ok)
      atomic_store_explicit((_Atomic uint32_t *)(ring->extra + args->offset), args->value,
                            memory_order_release);
   mtx_unlock(&ctx->ring_mutex);
   if (!ok)
      vkr_dispatch_fatal(d, "vkWriteRingExtraMESA of an unknown ring or outside its extra");
}

void
vkr_exec_vkSubmitVirtqueueSeqnoMESA(struct vp_dispatch *d,
                                    struct vp_command_vkSubmitVirtqueueSeqnoMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   if (!vkr_dispatch_require_context_path(d, "vkSubmitVirtqueueSeqnoMESA on a ring"))
      return;
   mtx_lock(&ctx->ring_mutex);
   struct vkr_ring *ring = vkr_context_find_ring_locked(ctx, args->ring);
   if (ring) {
      atomic_store(&ring->virtqueue_seqno, args->seqno);
      cnd_broadcast(&ctx->ring_cond);
   }
   mtx_unlock(&ctx->ring_mutex);
   if (!ring)
      vkr_dispatch_fatal(d, "vkSubmitVirtqueueSeqnoMESA of an unknown ring");
}

static void
vkr_timedwait_ring_cond(struct vkr_context *ctx, int64_t ns)
{
   struct timespec ts;
   timespec_get(&ts, TIME_UTC);
   ts.tv_nsec += (long)ns;
   while (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
   }
   cnd_timedwait(&ctx->ring_cond, &ctx->ring_mutex, &ts);
}

void
vkr_exec_vkWaitVirtqueueSeqnoMESA(struct vp_dispatch *d,
                                  struct vp_command_vkWaitVirtqueueSeqnoMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   struct vkr_ring *ring = vkr_decoder_from_dispatch(d)->ring;
   if (!ring) {
      vkr_dispatch_fatal(d, "vkWaitVirtqueueSeqnoMESA on the context path");
      return;
   }
   mtx_lock(&ctx->ring_mutex);
   ring->virtqueue_awaited = args->seqno;
   while (atomic_load(&ring->virtqueue_seqno) < args->seqno && !atomic_load(&ring->stop) &&
          !vkr_context_fatal(ctx))
      vkr_timedwait_ring_cond(ctx, VKR_SEQNO_WAIT_SLICE_NS);
   ring->virtqueue_awaited = 0;
   mtx_unlock(&ctx->ring_mutex);
}

/* Whether `ring` waits in vkWaitVirtqueueSeqnoMESA for a seqno the context
 * path has not submitted. Only the context path submits them, so while the
 * context thread itself waits for the ring, that wait never ends. Caller
 * holds ctx->ring_mutex. */
static bool
vkr_ring_waits_for_context_locked(const struct vkr_ring *ring)
{
   return ring->virtqueue_awaited > atomic_load(&ring->virtqueue_seqno);
}

void
vkr_exec_vkWaitRingSeqnoMESA(struct vp_dispatch *d, struct vp_command_vkWaitRingSeqnoMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   if (!vkr_dispatch_require_context_path(d, "vkWaitRingSeqnoMESA on a ring"))
      return;
   const uint32_t seqno = (uint32_t)args->seqno;
   mtx_lock(&ctx->ring_mutex);
   struct vkr_ring *ring = vkr_context_find_ring_locked(ctx, args->ring);
   if (!ring) {
      mtx_unlock(&ctx->ring_mutex);
      vkr_dispatch_fatal(d, "vkWaitRingSeqnoMESA of an unknown ring");
      return;
   }
   /* only the context thread destroys rings, so `ring` stays valid */
   atomic_store(&ring->awaited_seqno, seqno);
   atomic_store_explicit(&ring->has_awaited, true, memory_order_seq_cst);
   vu_os_futex_wake((const uint32_t *)ring->tail, INT32_MAX);
   bool deadlock = false;
   uint64_t next_check = vu_os_time_ns() + VKR_SEQNO_WAIT_SLICE_NS;
   while (!vkr_seqno_passed(atomic_load_explicit(&ring->published_head, memory_order_acquire),
                            seqno) &&
          !vkr_context_fatal(ctx) && !atomic_load(&ring->exited)) {
      /* a driver submits a virtqueue seqno before a ring waits for it, and
       * before it asks to wait for what the ring wrote after that */
      if (vkr_ring_waits_for_context_locked(ring)) {
         deadlock = true;
         break;
      }
      vkr_timedwait_ring_cond(ctx, VKR_SEQNO_WAIT_SLICE_NS);
      if (vu_os_time_ns() >= next_check) {
         /* a slice later: is the guest still there? (not under ring_mutex,
          * which vkr_context_set_fatal takes) */
         mtx_unlock(&ctx->ring_mutex);
         const bool must_end = vkr_context_wait_must_end(ctx);
         mtx_lock(&ctx->ring_mutex);
         if (must_end)
            break;
         next_check = vu_os_time_ns() + VKR_SEQNO_WAIT_SLICE_NS;
      }
   }
   atomic_store(&ring->has_awaited, false);
   mtx_unlock(&ctx->ring_mutex);
   if (deadlock)
      vkr_dispatch_fatal(d, "vkWaitRingSeqnoMESA waits for a ring that waits in "
                            "vkWaitVirtqueueSeqnoMESA for the context path");
}
