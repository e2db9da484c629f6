/*
 * Parallel recording (docs/renderer.md, "Parallel recording").
 *
 * The renderer records on the host every command the guest records, and a
 * host driver can take ten times longer to record a command than we take to
 * decode it. A primary command buffer that sees only compute and transfer
 * commands is therefore recorded in segments: the ring thread decodes and
 * checks each command as always, but instead of calling the host it appends
 * the call (its host handles and a copy of its arrays) to the open segment.
 * Full segments go to the device's recorder threads, which record each into
 * a host secondary command buffer of their own pools; before anything else
 * touches the command buffer, the ring thread executes the secondaries in
 * it, in order (vkCmdExecuteCommands).
 *
 * Secondary command buffers inherit no state, so each segment starts with
 * the state its commands may use: the compute pipeline, the descriptor sets
 * bound for compute and the push constants, as the ring thread tracked them
 * from the commands it took. After vkCmdExecuteCommands the primary's state
 * is undefined, so the same state is recorded into it before it records
 * anything directly again.
 *
 * A command buffer takes part only while everything recorded into it since
 * vkBeginCommandBuffer was one of the commands below, with plain arguments
 * (the compute bind point, barriers without pNext chains); the first other
 * vkCmd* ends it for that recording. Any command that is not taken
 * (including creates, destroys, submissions) first executes what is queued,
 * so no host object a segment names can go while a recorder uses it.
 */
#include "vkr_common.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "util/vu_os.h"

/* recorder threads per device, at most; half the CPUs, and never fewer
 * than 2 when it is on */
#define VKR_REC_MAX_RECORDERS 4
/* on by default with at least this many CPUs (VENUS_PERF=parallel_record:
 * always, no_parallel_record: never) */
#define VKR_REC_MIN_CPUS 8
/* queue families a recorder keeps a pool for */
#define VKR_REC_MAX_FAMILIES 16
/* calls per segment (a batch end closes a segment early) */
#define VKR_REC_SEGMENT_CALLS 1024
/* and bytes per segment (a call can carry 64 KiB) */
#define VKR_REC_SEGMENT_BYTES ((size_t)1 << 20)
/* a batch end hands a segment of at least this many calls to a recorder
 * (smaller ones wait for more, or are recorded by the ring thread when a
 * command not taken comes first: a recorder's wake-up costs as much as
 * recording a few hundred calls) */
#define VKR_REC_BATCH_MIN_CALLS 256
/* secondaries one recording of a primary may hold; beyond, it records
 * directly (each host command buffer costs the host memory) */
#define VKR_REC_MAX_SECONDARIES 4096
/* segments of one command buffer queued at once: beyond that the ring
 * thread executes the oldest (which bounds the memory they hold) */
#define VKR_REC_MAX_QUEUED 32
/* descriptor set binds and push-constant ranges tracked per command buffer */
#define VKR_REC_MAX_STATE 8
/* command types below this are classified; the others are not taken */
#define VKR_REC_MAX_TYPE 1024

enum vkr_rec_kind {
   VKR_REC_BIND_PIPELINE = 1,
   VKR_REC_BIND_SETS,
   VKR_REC_PUSH,
   VKR_REC_DISPATCH,
   VKR_REC_DISPATCH_BASE,
   VKR_REC_DISPATCH_INDIRECT,
   VKR_REC_BARRIER,
   VKR_REC_COPY_BUFFER,
   VKR_REC_FILL_BUFFER,
   VKR_REC_UPDATE_BUFFER,
};

/* A captured call in a buffer: this header, then its payload; `size`
 * counts both and keeps the next header 8-byte aligned. */
struct vkr_rec_call {
   uint32_t kind;
   uint32_t size;
};

struct vkr_rec_buf {
   uint8_t *data;
   size_t size, cap;
};

enum vkr_rec_state {
   VKR_REC_QUEUED,
   VKR_REC_RECORDED,
   VKR_REC_FAILED,
};

struct vkr_recorder;

struct vkr_rec_segment {
   struct vkr_rec_segment *next;      /* the command buffer's queue */
   struct vkr_rec_segment *work_next; /* the recorder's work list */
   struct vkr_recorder *recorder;
   struct vkr_rec_buf calls; /* the state prefix, then the captured calls */
   uint32_t count;           /* captured calls */
   uint32_t family;
   VkCommandBufferUsageFlags usage;
   enum vkr_rec_state state; /* under the recorder's mutex */
   VkCommandBuffer secondary;
};

struct vkr_rec_free {
   VkCommandBuffer *cbs;
   uint32_t count, cap;
};

struct vkr_recorder {
   struct vkr_device *dev;
   thrd_t thread;
   mtx_t mutex;
   cnd_t work_cond, done_cond;
   struct vkr_rec_segment *work_head, *work_tail; /* under mutex */
   bool stop;                                     /* under mutex */
   /* its own pools (only its thread touches them) and the secondaries that
    * came back from reset primaries (under mutex) */
   VkCommandPool pools[VKR_REC_MAX_FAMILIES];
   struct vkr_rec_free free[VKR_REC_MAX_FAMILIES];
};

struct vkr_recorders {
   uint32_t count, next;
   struct vkr_recorder r[VKR_REC_MAX_RECORDERS];
   /* for the log line at the end */
   _Atomic uint64_t taken, segments, calls, executed, wait_ns, execute_ns, record_ns;
};

static inline void
vkr_rec_count(_Atomic uint64_t *counter, uint64_t n)
{
   atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

struct vkr_rec_secondary {
   struct vkr_recorder *recorder;
   uint32_t family;
   VkCommandBuffer cb;
};

struct vkr_record {
   struct vkr_command_buffer *cmd;
   struct vkr_decoder *owner; /* the decoder capturing its commands, or NULL */
   uint32_t family;
   VkCommandBufferUsageFlags usage;
   /* the state each segment starts with: calls, in the order to replay */
   struct vkr_rec_buf pipeline;
   struct vkr_rec_buf sets[VKR_REC_MAX_STATE];
   uint32_t set_count;
   struct vkr_rec_buf push[VKR_REC_MAX_STATE];
   uint32_t push_count;
   struct vkr_rec_buf scratch; /* the state, for the primary */
   /* queued segments, oldest first, and the one being filled */
   struct vkr_rec_segment *head, *tail, *open;
   uint32_t queued;
   struct vkr_rec_segment *spare;
   bool executed; /* secondaries executed since the last flush */
   /* flushed once in this recording: it takes no part again before the next
    * begin, since the state it tracked may name objects destroyed since
    * (the command that flushed it may have been such a destroy) */
   bool flushed;
   /* secondaries the primary holds until it is reset */
   struct vkr_rec_secondary *secs;
   uint32_t sec_count, sec_cap;
};

enum vkr_rec_class {
   VKR_REC_OTHER,  /* not a vkCmd* */
   VKR_REC_CMD,    /* a vkCmd* we do not take */
   VKR_REC_TAKEN,  /* a vkCmd* with a handler here */
   /* vkExecuteCommandStreamsMESA: each command of its streams is checked
    * (the driver sends long command buffers in such streams) */
   VKR_REC_STREAMS,
};

static struct vp_handlers vkr_rec_orig;
static uint8_t vkr_rec_class[VKR_REC_MAX_TYPE];
static once_flag vkr_rec_once = ONCE_FLAG_INIT;

/* ------------------------------------------------------------------ */
/* call buffers                                                        */

static void *
vkr_rec_buf_append(struct vkr_rec_buf *buf, size_t size)
{
   if (size > buf->cap - buf->size) {
      size_t cap = buf->cap ? buf->cap : 256;
      while (cap - buf->size < size) {
         if (cap > SIZE_MAX / 2)
            return NULL;
         cap *= 2;
      }
      uint8_t *data = realloc(buf->data, cap);
      if (!data)
         return NULL;
      buf->data = data;
      buf->cap = cap;
   }
   void *p = buf->data + buf->size;
   buf->size += size;
   return p;
}

static void
vkr_rec_buf_fini(struct vkr_rec_buf *buf)
{
   free(buf->data);
   *buf = (struct vkr_rec_buf){ 0 };
}

/* A call of `kind` with `payload` bytes (zeroed) in `buf`: its payload. */
static void *
vkr_rec_emit(struct vkr_rec_buf *buf, uint32_t kind, size_t payload)
{
   if (payload > UINT32_MAX / 2)
      return NULL;
   const size_t size = (sizeof(struct vkr_rec_call) + payload + 7) & ~(size_t)7;
   struct vkr_rec_call *call = vkr_rec_buf_append(buf, size);
   if (!call)
      return NULL;
   memset(call, 0, size);
   call->kind = kind;
   call->size = (uint32_t)size;
   return call + 1;
}

/* payloads; arrays follow them, 8-byte aligned */
struct vkr_rec_pipeline {
   uint64_t pipeline;
   uint32_t bind_point;
};
struct vkr_rec_sets {
   uint64_t layout;
   uint32_t bind_point, first, count, dynamic_count;
   /* VkDescriptorSet sets[count]; uint32_t dynamic[dynamic_count] */
};
struct vkr_rec_push {
   uint64_t layout;
   uint32_t stages, offset, size, pad;
   /* uint8_t values[size] */
};
struct vkr_rec_dispatch {
   uint32_t base[3], count[3];
};
struct vkr_rec_indirect {
   uint64_t buffer, offset;
};
struct vkr_rec_barrier {
   uint32_t src, dst, deps, memory_count, buffer_count, image_count;
   /* VkMemoryBarrier[], VkBufferMemoryBarrier[], VkImageMemoryBarrier[] */
};
struct vkr_rec_copy {
   uint64_t src, dst;
   uint32_t count, pad;
   /* VkBufferCopy regions[count] */
};
struct vkr_rec_fill {
   uint64_t dst, offset, size;
   uint32_t data, pad;
   /* vkCmdUpdateBuffer: uint8_t data[size] */
};

#define VKR_REC_ALIGN(n) (((n) + 7) & ~(size_t)7)

/* Records the calls of `data` into the host command buffer `cb`. */
static void
vkr_rec_replay(const struct vkr_device_table *vk,
               VkCommandBuffer cb,
               const uint8_t *data,
               size_t size)
{
   for (size_t at = 0; at < size;) {
      const struct vkr_rec_call *call = (const struct vkr_rec_call *)(data + at);
      const void *p = call + 1;
      at += call->size;
      switch (call->kind) {
      case VKR_REC_BIND_PIPELINE: {
         const struct vkr_rec_pipeline *a = p;
         vk->vkCmdBindPipeline(cb, a->bind_point, (VkPipeline)(uintptr_t)a->pipeline);
         break;
      }
      case VKR_REC_BIND_SETS: {
         const struct vkr_rec_sets *a = p;
         const VkDescriptorSet *sets = (const VkDescriptorSet *)(a + 1);
         const uint32_t *dynamic = (const uint32_t *)(sets + a->count);
         vk->vkCmdBindDescriptorSets(cb, a->bind_point, (VkPipelineLayout)(uintptr_t)a->layout,
                                     a->first, a->count, sets, a->dynamic_count, dynamic);
         break;
      }
      case VKR_REC_PUSH: {
         const struct vkr_rec_push *a = p;
         vk->vkCmdPushConstants(cb, (VkPipelineLayout)(uintptr_t)a->layout, a->stages, a->offset,
                                a->size, a + 1);
         break;
      }
      case VKR_REC_DISPATCH: {
         const struct vkr_rec_dispatch *a = p;
         vk->vkCmdDispatch(cb, a->count[0], a->count[1], a->count[2]);
         break;
      }
      case VKR_REC_DISPATCH_BASE: {
         const struct vkr_rec_dispatch *a = p;
         vk->vkCmdDispatchBase(cb, a->base[0], a->base[1], a->base[2], a->count[0], a->count[1],
                               a->count[2]);
         break;
      }
      case VKR_REC_DISPATCH_INDIRECT: {
         const struct vkr_rec_indirect *a = p;
         vk->vkCmdDispatchIndirect(cb, (VkBuffer)(uintptr_t)a->buffer, a->offset);
         break;
      }
      case VKR_REC_BARRIER: {
         const struct vkr_rec_barrier *a = p;
         const VkMemoryBarrier *memory = (const VkMemoryBarrier *)(a + 1);
         const VkBufferMemoryBarrier *buffers =
            (const VkBufferMemoryBarrier *)(memory + a->memory_count);
         const VkImageMemoryBarrier *images =
            (const VkImageMemoryBarrier *)(buffers + a->buffer_count);
         vk->vkCmdPipelineBarrier(cb, a->src, a->dst, a->deps, a->memory_count, memory,
                                  a->buffer_count, buffers, a->image_count, images);
         break;
      }
      case VKR_REC_COPY_BUFFER: {
         const struct vkr_rec_copy *a = p;
         vk->vkCmdCopyBuffer(cb, (VkBuffer)(uintptr_t)a->src, (VkBuffer)(uintptr_t)a->dst,
                             a->count, (const VkBufferCopy *)(a + 1));
         break;
      }
      case VKR_REC_FILL_BUFFER: {
         const struct vkr_rec_fill *a = p;
         vk->vkCmdFillBuffer(cb, (VkBuffer)(uintptr_t)a->dst, a->offset, a->size, a->data);
         break;
      }
      case VKR_REC_UPDATE_BUFFER: {
         const struct vkr_rec_fill *a = p;
         vk->vkCmdUpdateBuffer(cb, (VkBuffer)(uintptr_t)a->dst, a->offset, a->size, a + 1);
         break;
      }
      default:
         break;
      }
   }
}

/* The tracked state as calls, appended to `buf`. */
static bool
vkr_rec_emit_state(const struct vkr_record *rec, struct vkr_rec_buf *buf)
{
   const struct vkr_rec_buf *parts[1 + 2 * VKR_REC_MAX_STATE];
   uint32_t n = 0;
   parts[n++] = &rec->pipeline;
   for (uint32_t i = 0; i < rec->set_count; i++)
      parts[n++] = &rec->sets[i];
   for (uint32_t i = 0; i < rec->push_count; i++)
      parts[n++] = &rec->push[i];
   for (uint32_t i = 0; i < n; i++) {
      if (!parts[i]->size)
         continue;
      void *p = vkr_rec_buf_append(buf, parts[i]->size);
      if (!p)
         return false;
      memcpy(p, parts[i]->data, parts[i]->size);
   }
   return true;
}

/* ------------------------------------------------------------------ */
/* recorder threads                                                    */

static bool
vkr_recorder_record(struct vkr_recorder *r, struct vkr_rec_segment *seg)
{
   const struct vkr_device_table *vk = &r->dev->table;
   const uint32_t family = seg->family;
   VkCommandBuffer cb = VK_NULL_HANDLE;

   mtx_lock(&r->mutex);
   struct vkr_rec_free *fl = &r->free[family];
   if (fl->count)
      cb = fl->cbs[--fl->count];
   mtx_unlock(&r->mutex);

   if (!cb) {
      if (!r->pools[family]) {
         const VkCommandPoolCreateInfo info = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
            .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
            .queueFamilyIndex = family,
         };
         if (vk->vkCreateCommandPool(r->dev->host, &info, NULL, &r->pools[family]) != VK_SUCCESS) {
            r->pools[family] = VK_NULL_HANDLE;
            return false;
         }
      }
      const VkCommandBufferAllocateInfo info = {
         .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
         .commandPool = r->pools[family],
         .level = VK_COMMAND_BUFFER_LEVEL_SECONDARY,
         .commandBufferCount = 1,
      };
      if (vk->vkAllocateCommandBuffers(r->dev->host, &info, &cb) != VK_SUCCESS)
         return false;
   }

   const VkCommandBufferInheritanceInfo inheritance = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
   };
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = seg->usage & (VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT |
                             VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT),
      .pInheritanceInfo = &inheritance,
   };
   bool ok = vk->vkBeginCommandBuffer(cb, &begin) == VK_SUCCESS;
   if (ok) {
      vkr_rec_replay(vk, cb, seg->calls.data, seg->calls.size);
      ok = vk->vkEndCommandBuffer(cb) == VK_SUCCESS;
   }
   if (!ok) {
      /* back for another try; at worst the pool holds it until the end */
      mtx_lock(&r->mutex);
      if (fl->count < fl->cap)
         fl->cbs[fl->count++] = cb;
      mtx_unlock(&r->mutex);
      return false;
   }
   seg->secondary = cb;
   return true;
}

static int
vkr_recorder_main(void *data)
{
   struct vkr_recorder *r = data;
   mtx_lock(&r->mutex);
   for (;;) {
      while (!r->work_head && !r->stop)
         cnd_wait(&r->work_cond, &r->mutex);
      struct vkr_rec_segment *seg = r->work_head;
      if (!seg)
         break;
      r->work_head = seg->work_next;
      if (!r->work_head)
         r->work_tail = NULL;
      mtx_unlock(&r->mutex);
      const uint64_t t0 = vu_os_time_ns();
      const bool ok = vkr_recorder_record(r, seg);
      vkr_rec_count(&r->dev->recorders->record_ns, vu_os_time_ns() - t0);
      mtx_lock(&r->mutex);
      seg->state = ok ? VKR_REC_RECORDED : VKR_REC_FAILED;
      cnd_broadcast(&r->done_cond);
   }
   mtx_unlock(&r->mutex);
   return 0;
}

static uint32_t
vkr_rec_cpu_count(void)
{
   cpu_set_t set;
   if (sched_getaffinity(0, sizeof(set), &set) != 0)
      return 1;
   return (uint32_t)CPU_COUNT(&set);
}

/* The device's recorders, started on first use (under layout_mutex). */
static struct vkr_recorders *
vkr_recorders_get(struct vkr_device *dev)
{
   mtx_lock(&dev->layout_mutex);
   struct vkr_recorders *rs = dev->recorders;
   if (rs || dev->recorders_failed)
      goto out;
   rs = calloc(1, sizeof(*rs));
   if (!rs)
      goto fail;
   uint32_t count = vkr_rec_cpu_count() / 2;
   count = count < 2 ? 2 : count > VKR_REC_MAX_RECORDERS ? VKR_REC_MAX_RECORDERS : count;
   for (uint32_t i = 0; i < count; i++) {
      struct vkr_recorder *r = &rs->r[i];
      r->dev = dev;
      mtx_init(&r->mutex, mtx_plain);
      cnd_init(&r->work_cond);
      cnd_init(&r->done_cond);
      if (thrd_create(&r->thread, vkr_recorder_main, r) != thrd_success) {
         mtx_destroy(&r->mutex);
         cnd_destroy(&r->work_cond);
         cnd_destroy(&r->done_cond);
         break;
      }
      rs->count++;
   }
   if (!rs->count) {
      free(rs);
      rs = NULL;
      goto fail;
   }
   dev->recorders = rs;
   goto out;
fail:
   vkr_log(VU_LOG_WARN, "parallel recording is off for a device: no recorder thread");
   dev->recorders_failed = true;
out:
   mtx_unlock(&dev->layout_mutex);
   return rs;
}

void
vkr_record_device_finish(struct vkr_device *dev)
{
   struct vkr_recorders *rs = dev->recorders;
   if (!rs)
      return;
   if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO,
              "device 0x%llx: parallel recording: %llu calls taken, %llu of them in %llu "
              "segments for %u recorders, %llu segments recorded by them (recording %.1f ms, "
              "waits for them %.1f ms, vkCmdExecuteCommands %.1f ms)",
              (unsigned long long)dev->obj.base.id, (unsigned long long)atomic_load(&rs->taken),
              (unsigned long long)atomic_load(&rs->calls),
              (unsigned long long)atomic_load(&rs->segments), rs->count,
              (unsigned long long)atomic_load(&rs->executed),
              (double)atomic_load(&rs->record_ns) / 1e6, (double)atomic_load(&rs->wait_ns) / 1e6,
              (double)atomic_load(&rs->execute_ns) / 1e6);
   for (uint32_t i = 0; i < rs->count; i++) {
      struct vkr_recorder *r = &rs->r[i];
      mtx_lock(&r->mutex);
      r->stop = true;
      cnd_signal(&r->work_cond);
      mtx_unlock(&r->mutex);
      thrd_join(r->thread, NULL);
      for (uint32_t f = 0; f < VKR_REC_MAX_FAMILIES; f++) {
         /* the pool frees its command buffers */
         if (r->pools[f])
            dev->table.vkDestroyCommandPool(dev->host, r->pools[f], NULL);
         free(r->free[f].cbs);
      }
      mtx_destroy(&r->mutex);
      cnd_destroy(&r->work_cond);
      cnd_destroy(&r->done_cond);
   }
   free(rs);
   dev->recorders = NULL;
}

/* ------------------------------------------------------------------ */
/* segments                                                            */

static void
vkr_rec_segment_free(struct vkr_rec_segment *seg)
{
   if (!seg)
      return;
   vkr_rec_buf_fini(&seg->calls);
   free(seg);
}

static void
vkr_rec_recycle(struct vkr_record *rec, struct vkr_rec_segment *seg)
{
   if (rec->spare) {
      vkr_rec_segment_free(seg);
      return;
   }
   seg->calls.size = 0;
   rec->spare = seg;
}

static void
vkr_rec_execute(struct vkr_record *rec, VkCommandBuffer *batch, uint32_t *n)
{
   if (!*n)
      return;
   struct vkr_device *dev = rec->cmd->obj.device;
   const uint64_t t0 = vu_os_time_ns();
   dev->table.vkCmdExecuteCommands(VKR_HOST(VkCommandBuffer, &rec->cmd->obj), *n, batch);
   vkr_rec_count(&dev->recorders->execute_ns, vu_os_time_ns() - t0);
   rec->executed = true;
   *n = 0;
}

/* The primary keeps `cb` until it is reset; false when it cannot, and the
 * caller records the segment itself instead. */
static bool
vkr_rec_keep(struct vkr_record *rec, struct vkr_recorder *r, uint32_t family, VkCommandBuffer cb)
{
   if (rec->sec_count == rec->sec_cap) {
      const uint32_t cap = rec->sec_cap ? rec->sec_cap * 2 : 16;
      struct vkr_rec_secondary *secs = realloc(rec->secs, sizeof(*secs) * cap);
      if (!secs)
         return false;
      rec->secs = secs;
      rec->sec_cap = cap;
   }
   rec->secs[rec->sec_count++] = (struct vkr_rec_secondary){ r, family, cb };
   return true;
}

/* Executes queued segments in the primary, oldest first: all of them, or
 * until at most half the limit are queued. */
static void
vkr_rec_drain(struct vkr_record *rec, bool all)
{
   struct vkr_device *dev = rec->cmd->obj.device;
   VkCommandBuffer batch[64];
   uint32_t n = 0;
   while (rec->head && (all || rec->queued > VKR_REC_MAX_QUEUED / 2)) {
      struct vkr_rec_segment *seg = rec->head;
      struct vkr_recorder *r = seg->recorder;
      const uint64_t t0 = vu_os_time_ns();
      mtx_lock(&r->mutex);
      while (seg->state == VKR_REC_QUEUED)
         cnd_wait(&r->done_cond, &r->mutex);
      mtx_unlock(&r->mutex);
      vkr_rec_count(&dev->recorders->wait_ns, vu_os_time_ns() - t0);
      rec->head = seg->next;
      if (!rec->head)
         rec->tail = NULL;
      rec->queued--;

      if (seg->state == VKR_REC_RECORDED &&
          vkr_rec_keep(rec, r, seg->family, seg->secondary)) {
         vkr_rec_count(&dev->recorders->executed, 1);
         batch[n++] = seg->secondary;
         if (n == sizeof(batch) / sizeof(batch[0]))
            vkr_rec_execute(rec, batch, &n);
      } else {
         /* the recorder could not (or we cannot keep its command buffer,
          * which then stays in its pool): recorded here, in order */
         vkr_rec_execute(rec, batch, &n);
         vkr_rec_replay(&dev->table, VKR_HOST(VkCommandBuffer, &rec->cmd->obj), seg->calls.data,
                        seg->calls.size);
      }
      vkr_rec_recycle(rec, seg);
   }
   vkr_rec_execute(rec, batch, &n);
}

static void
vkr_rec_queue(struct vkr_record *rec, struct vkr_rec_segment *seg)
{
   struct vkr_recorders *rs = rec->cmd->obj.device->recorders;
   struct vkr_recorder *r = &rs->r[rs->next++ % rs->count];
   vkr_rec_count(&rs->segments, 1);
   vkr_rec_count(&rs->calls, seg->count);
   seg->recorder = r;
   seg->state = VKR_REC_QUEUED;
   seg->next = NULL;
   seg->work_next = NULL;
   if (rec->tail)
      rec->tail->next = seg;
   else
      rec->head = seg;
   rec->tail = seg;
   rec->queued++;

   mtx_lock(&r->mutex);
   if (r->work_tail)
      r->work_tail->work_next = seg;
   else
      r->work_head = seg;
   r->work_tail = seg;
   cnd_signal(&r->work_cond);
   mtx_unlock(&r->mutex);

   if (rec->queued > VKR_REC_MAX_QUEUED)
      vkr_rec_drain(rec, false);
}

static void
vkr_rec_close(struct vkr_record *rec)
{
   struct vkr_rec_segment *seg = rec->open;
   if (!seg)
      return;
   rec->open = NULL;
   if (seg->count)
      vkr_rec_queue(rec, seg);
   else
      vkr_rec_recycle(rec, seg);
}

/* Room for a call in the open segment (a new one starts with the state):
 * its payload, or NULL when out of memory. */
static void *
vkr_rec_call(struct vkr_record *rec, uint32_t kind, size_t payload)
{
   if (rec->open && (rec->open->count >= VKR_REC_SEGMENT_CALLS ||
                     rec->open->calls.size >= VKR_REC_SEGMENT_BYTES))
      vkr_rec_close(rec);
   if (!rec->open) {
      struct vkr_rec_segment *seg = rec->spare;
      rec->spare = NULL;
      if (!seg) {
         seg = calloc(1, sizeof(*seg));
         if (!seg)
            return NULL;
      }
      seg->count = 0;
      seg->calls.size = 0;
      seg->family = rec->family;
      seg->usage = rec->usage;
      seg->secondary = VK_NULL_HANDLE;
      if (!vkr_rec_emit_state(rec, &seg->calls)) {
         vkr_rec_segment_free(seg);
         return NULL;
      }
      rec->open = seg;
   }
   void *p = vkr_rec_emit(&rec->open->calls, kind, payload);
   if (p) {
      rec->open->count++;
      vkr_rec_count(&rec->cmd->obj.device->recorders->taken, 1);
   }
   return p;
}

/* ------------------------------------------------------------------ */
/* the decoder's side                                                  */

void
vkr_record_flush(struct vkr_decoder *dec)
{
   struct vkr_record *rec = dec->record;
   if (!rec)
      return;
   if (VU_DEBUG(RECORDERS))
      vkr_rec_close(rec);
   vkr_rec_drain(rec, true);
   struct vkr_rec_segment *open = rec->open;
   if (open) {
      /* what no recorder has yet is recorded here: handing it over would
       * cost a thread wake-up, more than a short segment takes to record.
       * Its state prefix restores the state vkCmdExecuteCommands left
       * undefined. */
      rec->open = NULL;
      struct vkr_device *dev = rec->cmd->obj.device;
      vkr_rec_replay(&dev->table, VKR_HOST(VkCommandBuffer, &rec->cmd->obj), open->calls.data,
                     open->calls.size);
      vkr_rec_recycle(rec, open);
      rec->executed = false;
   }
   if (rec->executed) {
      /* vkCmdExecuteCommands left the primary's state undefined */
      rec->scratch.size = 0;
      if (vkr_rec_emit_state(rec, &rec->scratch)) {
         struct vkr_device *dev = rec->cmd->obj.device;
         vkr_rec_replay(&dev->table, VKR_HOST(VkCommandBuffer, &rec->cmd->obj), rec->scratch.data,
                        rec->scratch.size);
      } else {
         vkr_context_set_fatal(dec->ctx, "out of host memory in parallel recording");
      }
      rec->executed = false;
   }
   rec->flushed = true;
   rec->owner = NULL;
   dec->record = NULL;
}

void
vkr_record_batch_end(struct vkr_decoder *dec)
{
   /* the recorders need not wait for the next batch */
   struct vkr_record *rec = dec->record;
   if (rec && rec->open &&
       (rec->open->count >= VKR_REC_BATCH_MIN_CALLS || VU_DEBUG(RECORDERS)))
      vkr_rec_close(rec);
}

void
vkr_record_before_command(struct vkr_decoder *dec)
{
   const uint8_t *cur = dec->dec.cur;
   const size_t left = (size_t)(dec->dec.end - cur);
   uint32_t type = UINT32_MAX;
   if (left >= sizeof(type))
      memcpy(&type, cur, sizeof(type));
   const enum vkr_rec_class cls =
      type < VKR_REC_MAX_TYPE ? (enum vkr_rec_class)vkr_rec_class[type] : VKR_REC_OTHER;
   if (cls == VKR_REC_TAKEN || cls == VKR_REC_STREAMS)
      return; /* its handler decides, or its commands do */
   vkr_record_flush(dec);
   /* a vkCmd* we do not take: its command buffer records directly from now
    * on (its header is the type, the flags, then the command buffer's id) */
   uint64_t id;
   if (cls == VKR_REC_CMD && left >= 16) {
      memcpy(&id, cur + 8, sizeof(id));
      struct vkr_command_buffer *cmd =
         dec->dec.lookup(dec->dec.lookup_data, id, VK_OBJECT_TYPE_COMMAND_BUFFER);
      if (cmd)
         cmd->parallel = false;
   }
}

static struct vkr_record *
vkr_record_start(struct vkr_decoder *dec, struct vkr_command_buffer *cmd)
{
   vkr_record_flush(dec);
   struct vkr_record *rec = cmd->record;
   /* another decoder has it (two rings recording one command buffer at
    * once): that one goes on, this one records directly; or it was flushed
    * (its state may name objects destroyed since) */
   if (!rec || rec->owner || rec->flushed || !cmd->obj.device->recorders) {
      cmd->parallel = false;
      return NULL;
   }
   rec->owner = dec;
   dec->record = rec;
   return rec;
}

static void
vkr_record_stop(struct vp_dispatch *d, const void *cmd_obj);

/* The record capturing `cmd_obj`'s commands on this decoder, or NULL: then
 * the command goes to the host now. */
static inline struct vkr_record *
vkr_record_for(struct vp_dispatch *d, const void *cmd_obj)
{
   struct vkr_command_buffer *cmd = (struct vkr_command_buffer *)cmd_obj;
   if (!cmd->parallel)
      return NULL;
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   struct vkr_record *rec = dec->record;
   if (rec && rec->cmd == cmd) {
      if (VP_LIKELY(rec->sec_count + rec->queued < VKR_REC_MAX_SECONDARIES))
         return rec;
      vkr_record_stop(d, cmd_obj);
      return NULL;
   }
   return vkr_record_start(dec, cmd);
}

/* A command that the command buffer's state tracking cannot follow: what
 * is queued is executed, and the command buffer records directly. */
static void
vkr_record_stop(struct vp_dispatch *d, const void *cmd_obj)
{
   struct vkr_command_buffer *cmd = (struct vkr_command_buffer *)cmd_obj;
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   if (dec->record && dec->record->cmd == cmd)
      vkr_record_flush(dec);
   cmd->parallel = false;
}

static void
vkr_rec_oom(struct vp_dispatch *d)
{
   vkr_dispatch_fatal(d, "out of host memory in parallel recording");
}

/* Replaces the tracked call at `list[i]` (or appends one) with `call`. */
static bool
vkr_rec_track(struct vkr_rec_buf *list,
              uint32_t *count,
              uint32_t i,
              const void *call,
              size_t size)
{
   if (i == *count) {
      if (*count == VKR_REC_MAX_STATE)
         return false;
      (*count)++;
   } else {
      /* the newest goes last: later calls win where they overlap */
      struct vkr_rec_buf moved = list[i];
      memmove(&list[i], &list[i + 1], sizeof(list[0]) * (*count - i - 1));
      list[*count - 1] = moved;
      i = *count - 1;
   }
   list[i].size = 0;
   void *p = vkr_rec_buf_append(&list[i], size);
   if (!p)
      return false;
   memcpy(p, call, size);
   return true;
}

/* the whole call (header included) whose payload is `payload` */
static inline const void *
vkr_rec_whole(const void *payload, size_t *size)
{
   const struct vkr_rec_call *call = (const struct vkr_rec_call *)payload - 1;
   *size = call->size;
   return call;
}

/* ------------------------------------------------------------------ */
/* handlers                                                            */

static void
vkr_rec_vkCmdBindPipeline(struct vp_dispatch *d, struct vp_command_vkCmdBindPipeline *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (rec && args->pipelineBindPoint != VK_PIPELINE_BIND_POINT_COMPUTE) {
      vkr_record_stop(d, args->commandBuffer);
      rec = NULL;
   }
   if (!rec) {
      vkr_rec_orig.vkCmdBindPipeline(d, args);
      return;
   }
   vp_replace_vkCmdBindPipeline_args_handles(args);
   struct vkr_rec_pipeline *a = vkr_rec_call(rec, VKR_REC_BIND_PIPELINE, sizeof(*a));
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->pipeline = (uint64_t)(uintptr_t)args->pipeline;
   a->bind_point = args->pipelineBindPoint;
   size_t size;
   const void *call = vkr_rec_whole(a, &size);
   rec->pipeline.size = 0;
   void *p = vkr_rec_buf_append(&rec->pipeline, size);
   if (!p) {
      vkr_rec_oom(d);
      return;
   }
   memcpy(p, call, size);
}

static void
vkr_rec_vkCmdBindDescriptorSets(struct vp_dispatch *d,
                                struct vp_command_vkCmdBindDescriptorSets *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (rec && args->pipelineBindPoint != VK_PIPELINE_BIND_POINT_COMPUTE) {
      vkr_record_stop(d, args->commandBuffer);
      rec = NULL;
   }
   if (!rec) {
      vkr_rec_orig.vkCmdBindDescriptorSets(d, args);
      return;
   }
   if (!vkr_layout_use(d, args->commandBuffer, args->layout))
      return;
   vp_replace_vkCmdBindDescriptorSets_args_handles(args);
   const uint32_t count = args->pDescriptorSets ? args->descriptorSetCount : 0;
   const uint32_t dynamic = args->pDynamicOffsets ? args->dynamicOffsetCount : 0;
   struct vkr_rec_sets *a = vkr_rec_call(
      rec, VKR_REC_BIND_SETS,
      sizeof(*a) + sizeof(VkDescriptorSet) * (size_t)count + sizeof(uint32_t) * (size_t)dynamic);
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->layout = (uint64_t)(uintptr_t)args->layout;
   a->bind_point = args->pipelineBindPoint;
   a->first = args->firstSet;
   a->count = count;
   a->dynamic_count = dynamic;
   VkDescriptorSet *sets = (VkDescriptorSet *)(a + 1);
   if (count)
      memcpy(sets, args->pDescriptorSets, sizeof(*sets) * count);
   if (dynamic)
      memcpy(sets + count, args->pDynamicOffsets, sizeof(uint32_t) * dynamic);

   /* a bind replaces the tracked binds of the sets it covers */
   size_t size;
   const void *call = vkr_rec_whole(a, &size);
   for (uint32_t i = 0; i < rec->set_count;) {
      const struct vkr_rec_sets *old =
         (const struct vkr_rec_sets *)((const struct vkr_rec_call *)rec->sets[i].data + 1);
      if (old->first >= a->first && old->first + old->count <= a->first + a->count) {
         struct vkr_rec_buf gone = rec->sets[i];
         memmove(&rec->sets[i], &rec->sets[i + 1], sizeof(rec->sets[0]) * (rec->set_count - i - 1));
         rec->sets[--rec->set_count] = gone;
         continue;
      }
      i++;
   }
   if (!vkr_rec_track(rec->sets, &rec->set_count, rec->set_count, call, size))
      vkr_record_stop(d, args->commandBuffer); /* too many to follow */
}

static void
vkr_rec_vkCmdPushConstants(struct vp_dispatch *d, struct vp_command_vkCmdPushConstants *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (!rec) {
      vkr_rec_orig.vkCmdPushConstants(d, args);
      return;
   }
   struct vkr_device *dev = ((const struct vkr_object *)args->commandBuffer)->device;
   if (!vkr_push_range_ok(d, dev, args->offset, args->size) ||
       !vkr_layout_use(d, args->commandBuffer, args->layout))
      return;
   vp_replace_vkCmdPushConstants_args_handles(args);
   const uint32_t size = args->pValues ? args->size : 0;
   struct vkr_rec_push *a = vkr_rec_call(rec, VKR_REC_PUSH, sizeof(*a) + size);
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->layout = (uint64_t)(uintptr_t)args->layout;
   a->stages = args->stageFlags;
   a->offset = args->offset;
   a->size = size;
   if (size)
      memcpy(a + 1, args->pValues, size);

   size_t call_size;
   const void *call = vkr_rec_whole(a, &call_size);
   uint32_t i = 0;
   for (; i < rec->push_count; i++) {
      const struct vkr_rec_push *old =
         (const struct vkr_rec_push *)((const struct vkr_rec_call *)rec->push[i].data + 1);
      if (old->stages == a->stages && old->offset == a->offset && old->size == a->size)
         break;
   }
   if (!vkr_rec_track(rec->push, &rec->push_count, i, call, call_size))
      vkr_record_stop(d, args->commandBuffer);
}

static void
vkr_rec_vkCmdDispatch(struct vp_dispatch *d, struct vp_command_vkCmdDispatch *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (!rec) {
      vkr_rec_orig.vkCmdDispatch(d, args);
      return;
   }
   struct vkr_rec_dispatch *a = vkr_rec_call(rec, VKR_REC_DISPATCH, sizeof(*a));
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->count[0] = args->groupCountX;
   a->count[1] = args->groupCountY;
   a->count[2] = args->groupCountZ;
}

static void
vkr_rec_vkCmdDispatchBase(struct vp_dispatch *d, struct vp_command_vkCmdDispatchBase *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (rec && !((const struct vkr_object *)args->commandBuffer)->device->table.vkCmdDispatchBase) {
      vkr_record_stop(d, args->commandBuffer);
      rec = NULL;
   }
   if (!rec) {
      vkr_rec_orig.vkCmdDispatchBase(d, args);
      return;
   }
   struct vkr_rec_dispatch *a = vkr_rec_call(rec, VKR_REC_DISPATCH_BASE, sizeof(*a));
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->base[0] = args->baseGroupX;
   a->base[1] = args->baseGroupY;
   a->base[2] = args->baseGroupZ;
   a->count[0] = args->groupCountX;
   a->count[1] = args->groupCountY;
   a->count[2] = args->groupCountZ;
}

static void
vkr_rec_vkCmdDispatchIndirect(struct vp_dispatch *d,
                              struct vp_command_vkCmdDispatchIndirect *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (!rec) {
      vkr_rec_orig.vkCmdDispatchIndirect(d, args);
      return;
   }
   vp_replace_vkCmdDispatchIndirect_args_handles(args);
   struct vkr_rec_indirect *a = vkr_rec_call(rec, VKR_REC_DISPATCH_INDIRECT, sizeof(*a));
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->buffer = (uint64_t)(uintptr_t)args->buffer;
   a->offset = args->offset;
}

static bool
vkr_rec_barriers_plain(const struct vp_command_vkCmdPipelineBarrier *args)
{
   for (uint32_t i = 0; args->pMemoryBarriers && i < args->memoryBarrierCount; i++) {
      if (args->pMemoryBarriers[i].pNext)
         return false;
   }
   for (uint32_t i = 0; args->pBufferMemoryBarriers && i < args->bufferMemoryBarrierCount; i++) {
      if (args->pBufferMemoryBarriers[i].pNext)
         return false;
   }
   for (uint32_t i = 0; args->pImageMemoryBarriers && i < args->imageMemoryBarrierCount; i++) {
      if (args->pImageMemoryBarriers[i].pNext)
         return false;
   }
   return true;
}

static void
vkr_rec_vkCmdPipelineBarrier(struct vp_dispatch *d, struct vp_command_vkCmdPipelineBarrier *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (rec && !vkr_rec_barriers_plain(args)) {
      vkr_record_stop(d, args->commandBuffer);
      rec = NULL;
   }
   if (!rec) {
      vkr_rec_orig.vkCmdPipelineBarrier(d, args);
      return;
   }
   vp_replace_vkCmdPipelineBarrier_args_handles(args);
   const uint32_t memory = args->pMemoryBarriers ? args->memoryBarrierCount : 0;
   const uint32_t buffers = args->pBufferMemoryBarriers ? args->bufferMemoryBarrierCount : 0;
   const uint32_t images = args->pImageMemoryBarriers ? args->imageMemoryBarrierCount : 0;
   const size_t memory_size = sizeof(VkMemoryBarrier) * (size_t)memory;
   const size_t buffer_size = sizeof(VkBufferMemoryBarrier) * (size_t)buffers;
   const size_t image_size = sizeof(VkImageMemoryBarrier) * (size_t)images;
   struct vkr_rec_barrier *a =
      vkr_rec_call(rec, VKR_REC_BARRIER, sizeof(*a) + memory_size + buffer_size + image_size);
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->src = args->srcStageMask;
   a->dst = args->dstStageMask;
   a->deps = args->dependencyFlags;
   a->memory_count = memory;
   a->buffer_count = buffers;
   a->image_count = images;
   uint8_t *p = (uint8_t *)(a + 1);
   if (memory)
      memcpy(p, args->pMemoryBarriers, memory_size);
   if (buffers)
      memcpy(p + memory_size, args->pBufferMemoryBarriers, buffer_size);
   if (images)
      memcpy(p + memory_size + buffer_size, args->pImageMemoryBarriers, image_size);
}

static void
vkr_rec_vkCmdCopyBuffer(struct vp_dispatch *d, struct vp_command_vkCmdCopyBuffer *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (!rec) {
      vkr_rec_orig.vkCmdCopyBuffer(d, args);
      return;
   }
   vp_replace_vkCmdCopyBuffer_args_handles(args);
   const uint32_t count = args->pRegions ? args->regionCount : 0;
   struct vkr_rec_copy *a =
      vkr_rec_call(rec, VKR_REC_COPY_BUFFER, sizeof(*a) + sizeof(VkBufferCopy) * (size_t)count);
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->src = (uint64_t)(uintptr_t)args->srcBuffer;
   a->dst = (uint64_t)(uintptr_t)args->dstBuffer;
   a->count = count;
   if (count)
      memcpy(a + 1, args->pRegions, sizeof(VkBufferCopy) * count);
}

static void
vkr_rec_vkCmdFillBuffer(struct vp_dispatch *d, struct vp_command_vkCmdFillBuffer *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   if (!rec) {
      vkr_rec_orig.vkCmdFillBuffer(d, args);
      return;
   }
   vp_replace_vkCmdFillBuffer_args_handles(args);
   struct vkr_rec_fill *a = vkr_rec_call(rec, VKR_REC_FILL_BUFFER, sizeof(*a));
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->dst = (uint64_t)(uintptr_t)args->dstBuffer;
   a->offset = args->dstOffset;
   a->size = args->size;
   a->data = args->data;
}

static void
vkr_rec_vkCmdUpdateBuffer(struct vp_dispatch *d, struct vp_command_vkCmdUpdateBuffer *args)
{
   struct vkr_record *rec = vkr_record_for(d, args->commandBuffer);
   /* the spec's limit, which the host would otherwise check */
   if (rec && (!args->pData || args->dataSize > 65536)) {
      vkr_record_stop(d, args->commandBuffer);
      rec = NULL;
   }
   if (!rec) {
      vkr_rec_orig.vkCmdUpdateBuffer(d, args);
      return;
   }
   vp_replace_vkCmdUpdateBuffer_args_handles(args);
   struct vkr_rec_fill *a =
      vkr_rec_call(rec, VKR_REC_UPDATE_BUFFER, sizeof(*a) + (size_t)args->dataSize);
   if (!a) {
      vkr_rec_oom(d);
      return;
   }
   a->dst = (uint64_t)(uintptr_t)args->dstBuffer;
   a->offset = args->dstOffset;
   a->size = args->dataSize;
   memcpy(a + 1, args->pData, (size_t)args->dataSize);
}

/* ------------------------------------------------------------------ */
/* command buffers                                                     */

void
vkr_record_begin(struct vkr_context *ctx,
                 struct vkr_command_buffer *cmd,
                 const VkCommandBufferBeginInfo *info)
{
   vkr_record_reset(cmd, false);
   cmd->parallel = false;
   if (!ctx->parallel_record || !(cmd->state & VP_CMD_STATE_PRIMARY) || !info || info->pNext ||
       (info->flags & VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT))
      return;
   const struct vkr_object *pool = cmd->obj.pool;
   if (!pool || pool->pool_protected || pool->pool_family >= VKR_REC_MAX_FAMILIES)
      return;
   struct vkr_device *dev = cmd->obj.device;
   if (!dev->table.vkCmdExecuteCommands || !vkr_recorders_get(dev))
      return;
   struct vkr_record *rec = cmd->record;
   if (!rec) {
      rec = calloc(1, sizeof(*rec));
      if (!rec)
         return;
      rec->cmd = cmd;
      cmd->record = rec;
   }
   /* a record a decoder still holds was flushed before this command */
   if (rec->owner)
      return;
   rec->family = pool->pool_family;
   rec->usage = info->flags;
   cmd->parallel = true;
}

void
vkr_record_reset(struct vkr_command_buffer *cmd, bool free_record)
{
   /* records exist only on devices with recorders */
   const struct vkr_device *dev = cmd->obj.device;
   if (!dev || !dev->recorders || !cmd->record)
      return;
   struct vkr_record *rec = cmd->record;
   for (uint32_t i = 0; i < rec->sec_count; i++) {
      struct vkr_rec_secondary *s = &rec->secs[i];
      struct vkr_rec_free *fl = &s->recorder->free[s->family];
      mtx_lock(&s->recorder->mutex);
      if (fl->count == fl->cap) {
         const uint32_t cap = fl->cap ? fl->cap * 2 : 16;
         VkCommandBuffer *cbs = realloc(fl->cbs, sizeof(*cbs) * cap);
         if (cbs) {
            fl->cbs = cbs;
            fl->cap = cap;
         }
      }
      /* when the list cannot grow, the pool keeps it until the device goes */
      if (fl->count < fl->cap)
         fl->cbs[fl->count++] = s->cb;
      mtx_unlock(&s->recorder->mutex);
   }
   rec->sec_count = 0;
   rec->flushed = false;
   rec->pipeline.size = 0;
   rec->set_count = 0;
   rec->push_count = 0;
   if (!free_record || rec->owner)
      return;
   vkr_rec_segment_free(rec->spare);
   vkr_rec_buf_fini(&rec->pipeline);
   for (uint32_t i = 0; i < VKR_REC_MAX_STATE; i++) {
      vkr_rec_buf_fini(&rec->sets[i]);
      vkr_rec_buf_fini(&rec->push[i]);
   }
   vkr_rec_buf_fini(&rec->scratch);
   free(rec->secs);
   free(rec);
   cmd->record = NULL;
}

/* ------------------------------------------------------------------ */
/* set-up                                                              */

static void
vkr_rec_classify(void)
{
   /* the handlers ours fall back to (the same for every context) */
   vkr_handlers_init(&vkr_rec_orig);
   for (int32_t type = 0; type < VKR_REC_MAX_TYPE; type++) {
      const struct vp_command_info *info = vp_command_info(type);
      if (info && info->name && !strncmp(info->name, "vkCmd", 5))
         vkr_rec_class[type] = VKR_REC_CMD;
   }
   static const char *const taken[] = {
      "vkCmdBindPipeline",  "vkCmdBindDescriptorSets", "vkCmdPushConstants",
      "vkCmdDispatch",      "vkCmdDispatchBase",       "vkCmdDispatchIndirect",
      "vkCmdPipelineBarrier", "vkCmdCopyBuffer",       "vkCmdFillBuffer",
      "vkCmdUpdateBuffer",
   };
   for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
      const int32_t type = vp_command_type_from_name(taken[i]);
      if (type >= 0 && type < VKR_REC_MAX_TYPE)
         vkr_rec_class[type] = VKR_REC_TAKEN;
   }
   const int32_t streams = vp_command_type_from_name("vkExecuteCommandStreamsMESA");
   if (streams >= 0 && streams < VKR_REC_MAX_TYPE)
      vkr_rec_class[streams] = VKR_REC_STREAMS;
}

static bool
vkr_rec_enabled(void)
{
   const uint32_t perf = vu_env_get()->perf;
   if (perf & VU_PERF_NO_PARALLEL_RECORD)
      return false;
   return (perf & VU_PERF_PARALLEL_RECORD) || vkr_rec_cpu_count() >= VKR_REC_MIN_CPUS;
}

bool
vkr_record_install(struct vp_handlers *h)
{
   if (!vkr_rec_enabled())
      return false;
   call_once(&vkr_rec_once, vkr_rec_classify);
   h->vkCmdBindPipeline = vkr_rec_vkCmdBindPipeline;
   h->vkCmdBindDescriptorSets = vkr_rec_vkCmdBindDescriptorSets;
   h->vkCmdPushConstants = vkr_rec_vkCmdPushConstants;
   h->vkCmdDispatch = vkr_rec_vkCmdDispatch;
   h->vkCmdDispatchBase = vkr_rec_vkCmdDispatchBase;
   h->vkCmdDispatchIndirect = vkr_rec_vkCmdDispatchIndirect;
   h->vkCmdPipelineBarrier = vkr_rec_vkCmdPipelineBarrier;
   h->vkCmdCopyBuffer = vkr_rec_vkCmdCopyBuffer;
   h->vkCmdFillBuffer = vkr_rec_vkCmdFillBuffer;
   h->vkCmdUpdateBuffer = vkr_rec_vkCmdUpdateBuffer;
   return true;
}
