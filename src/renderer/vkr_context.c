/*
 * Contexts: the object table (id -> object, create/lookup rules and the
 * sticky fatal flag of renderer-behavior.md §1-§2), decoders with their
 * lookup cache, the context submission path, blob resources and fence
 * retirement towards the server.
 */
#include "vkr_common.h"
#include "vkr_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/vu_os.h"
#include "transport/vw_capset.h"

/* ------------------------------------------------------------------ */
/* fatal                                                               */

void
vkr_context_set_fatal(struct vkr_context *ctx, const char *fmt, ...)
{
   if (atomic_exchange(&ctx->fatal, true))
      return;
   char msg[512];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(msg, sizeof(msg), fmt, ap);
   va_end(ap);
   vkr_log(VU_LOG_ERROR, "context %u (%s): fatal: %s", ctx->id, ctx->debug_name, msg);
   /* wake everything that waits on context progress, and sleeping rings
    * so that they publish FATAL */
   mtx_lock(&ctx->ring_mutex);
   for (struct vkr_list *l = ctx->rings.next; l != &ctx->rings; l = l->next)
      vu_os_futex_wake((const uint32_t *)vkr_container_of(l, struct vkr_ring, link)->tail,
                       INT32_MAX);
   cnd_broadcast(&ctx->ring_cond);
   mtx_unlock(&ctx->ring_mutex);
}

bool
vkr_context_is_fatal(const struct vkr_context *ctx)
{
   return vkr_context_fatal(ctx);
}

bool
vkr_context_wait_must_end(struct vkr_context *ctx)
{
   if (vkr_context_fatal(ctx))
      return true;
   if (!ctx->cbs.peer_gone || !ctx->cbs.peer_gone(ctx->cbs.data))
      return false;
   vkr_context_set_fatal(ctx, "the guest hung up while the context path waited");
   return true;
}

/* ------------------------------------------------------------------ */
/* object table                                                        */

static bool
vkr_type_is_dispatchable(VkObjectType type)
{
   switch (type) {
   case VK_OBJECT_TYPE_INSTANCE:
   case VK_OBJECT_TYPE_PHYSICAL_DEVICE:
   case VK_OBJECT_TYPE_DEVICE:
   case VK_OBJECT_TYPE_QUEUE:
   case VK_OBJECT_TYPE_COMMAND_BUFFER:
      return true;
   default:
      return false;
   }
}

/* the table lookup behind a cache miss, out of line so that a hit (most
 * lookups: the device, the object just created) pays no register saves */
static __attribute__((noinline)) void *
vkr_decoder_lookup_miss(struct vkr_decoder *dec, uint64_t id, VkObjectType type, int kind,
                        uint64_t gen)
{
   struct vkr_context *ctx = dec->ctx;
   vu_lock_take(&ctx->object_lock);
   struct vkr_object *obj = vu_idmap_get(&ctx->objects, id);
   vu_lock_give(&ctx->object_lock);
   if (!obj || obj->base.type != type)
      return NULL;

   struct vkr_lookup_cache *cache = &dec->cache[kind];
   cache->id = id;
   cache->type = type;
   cache->obj = obj;
   cache->generation = gen;
   return obj;
}

static void *
vkr_decoder_lookup(void *data, uint64_t id, VkObjectType type)
{
   struct vkr_decoder *dec = data;
   const int kind = vkr_type_is_dispatchable(type) ? 0 : 1;
   const struct vkr_lookup_cache *cache = &dec->cache[kind];
   const uint64_t gen = atomic_load_explicit(&dec->ctx->generation[kind], memory_order_acquire);

   if (cache->id == id && cache->type == type && cache->generation == gen)
      return cache->obj;
   return vkr_decoder_lookup_miss(dec, id, type, kind, gen);
}

struct vkr_object *
vkr_context_get_object(struct vkr_context *ctx, uint64_t id, VkObjectType type)
{
   vu_lock_take(&ctx->object_lock);
   struct vkr_object *obj = vu_idmap_get(&ctx->objects, id);
   vu_lock_give(&ctx->object_lock);
   return obj && obj->base.type == type ? obj : NULL;
}

bool
vkr_dispatch_check_new_id(struct vp_dispatch *d, uint64_t id, VkObjectType type)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   if (!id) {
      vkr_dispatch_fatal(d, "object id 0 in a create");
      return false;
   }
   vu_lock_take(&ctx->object_lock);
   const bool used = vu_idmap_get(&ctx->objects, id) != NULL;
   vu_lock_give(&ctx->object_lock);
   if (used) {
      vkr_log(VU_LOG_ERROR, "context %u: id 0x%llx (type %d) already in use", ctx->id,
              (unsigned long long)id, (int)type);
      vkr_dispatch_fatal(d, "object id already in use");
      return false;
   }
   return true;
}

static bool
vkr_context_add_object_locked(struct vkr_context *ctx, struct vkr_object *obj, const char **why)
{
   if (ctx->object_count + atomic_load_explicit(&ctx->kept_objects, memory_order_relaxed) >=
       ctx->limits.max_objects) {
      vkr_log(VU_LOG_ERROR, "context %u: object limit (%u live objects) reached", ctx->id,
              ctx->limits.max_objects);
      *why = "object limit reached";
      return false;
   }
   if (!vu_idmap_insert(&ctx->objects, obj->base.id, obj)) {
      *why = obj->base.id ? "object id already in use" : "object id 0 in a create";
      return false;
   }
   ctx->object_count++;
   if (obj->pool)
      vkr_list_add(&obj->pool->children, &obj->link);
   else if (obj->device && &obj->device->obj != obj && obj->base.type != VK_OBJECT_TYPE_QUEUE)
      vkr_list_add(&obj->device->objects, &obj->link);
   return true;
}

bool
vkr_dispatch_add_object(struct vp_dispatch *d, struct vkr_object *obj)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   const char *why = NULL;
   vkr_list_init(&obj->link);
   vkr_list_init(&obj->children);
   const int kind = vkr_type_is_dispatchable(obj->base.type) ? 0 : 1;
   struct vkr_lookup_cache *cache = &vkr_decoder_from_dispatch(d)->cache[kind];
   vu_lock_take(&ctx->object_lock);
   const bool ok = vkr_context_add_object_locked(ctx, obj, &why);
   if (ok) {
      /* the next command often uses the new object (a destroy right after
       * a create, a command buffer's first vkCmd*): a lookup without the
       * lock. A removal bumps the generation under this lock, so the entry
       * is valid exactly until the next removal of its kind. */
      cache->id = obj->base.id;
      cache->type = obj->base.type;
      cache->obj = obj;
      cache->generation = atomic_load_explicit(&ctx->generation[kind], memory_order_relaxed);
   }
   vu_lock_give(&ctx->object_lock);
   if (!ok)
      vkr_dispatch_fatal(d, why);
   return ok;
}

/* at most this many removed plain objects are kept for reuse per context */
#define VKR_MAX_FREE_OBJECTS 256

/* A zeroed plain object, recycled from the context's free list when it has
 * one (the list is linked through `pool`, which a removed object no longer
 * uses). */
static struct vkr_object *
vkr_context_alloc_object(struct vkr_context *ctx)
{
   vu_lock_take(&ctx->object_lock);
   struct vkr_object *obj = ctx->free_objects;
   if (obj) {
      ctx->free_objects = obj->pool;
      ctx->free_object_count--;
   }
   vu_lock_give(&ctx->object_lock);
   if (!obj)
      obj = malloc(sizeof(*obj));
   if (obj) {
      memset(obj, 0, sizeof(*obj));
      obj->recycled = true;
   }
   return obj;
}

/* a plain object from vkr_context_alloc_object, which may be reused */
static inline bool
vkr_object_recyclable(const struct vkr_object *obj)
{
#if defined(__SANITIZE_ADDRESS__)
   /* AddressSanitizer builds free every object, so that a use after its
    * removal is still reported */
   (void)obj;
   return false;
#else
   return obj->recycled;
#endif
}

/* Takes a removed object for vkr_context_alloc_object if it came from there
 * and the list has room (under object_lock): true if it was taken. */
static bool
vkr_context_recycle_object_locked(struct vkr_context *ctx, struct vkr_object *obj)
{
   if (!vkr_object_recyclable(obj) || ctx->free_object_count >= VKR_MAX_FREE_OBJECTS)
      return false;
   obj->pool = ctx->free_objects;
   ctx->free_objects = obj;
   ctx->free_object_count++;
   return true;
}

static void
vkr_context_free_recycled(struct vkr_context *ctx)
{
   while (ctx->free_objects) {
      struct vkr_object *obj = ctx->free_objects;
      ctx->free_objects = obj->pool;
      free(obj);
   }
   ctx->free_object_count = 0;
}

struct vkr_object *
vkr_dispatch_add_device_object(struct vp_dispatch *d,
                               struct vkr_object *dev,
                               VkObjectType type,
                               uint64_t id,
                               uint64_t handle)
{
   /* the object the decoder's last destroy removed, without a lock */
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   struct vkr_object *obj = dec->spare_object;
   if (obj)
      dec->spare_object = NULL;
   else
      obj = vkr_context_alloc_object(dec->ctx);
   if (obj) {
      /* stores the compiler emits inline, where a memset is a call */
      *obj = (struct vkr_object){
         .base = { .id = id, .type = type, .handle = handle },
         .device = dev->device,
         .instance = dev->instance,
         .recycled = true,
      };
      if (vkr_dispatch_add_object(d, obj))
         return obj;
      free(obj);
   } else {
      vkr_dispatch_fatal(d, "out of host memory");
   }
   vkr_device_destroy_host_object(&dev->device->table, dev->device->host, type, handle);
   return NULL;
}

static void
vkr_context_unregister_object_locked(struct vkr_context *ctx, struct vkr_object *obj)
{
   if (vu_idmap_remove_value(&ctx->objects, obj->base.id, obj))
      ctx->object_count--;
   vkr_list_del(&obj->link);
   /* every writer holds object_lock: a store, not a locked add */
   _Atomic uint64_t *gen = &ctx->generation[vkr_type_is_dispatchable(obj->base.type) ? 0 : 1];
   atomic_store_explicit(gen, atomic_load_explicit(gen, memory_order_relaxed) + 1,
                         memory_order_release);
}

void
vkr_context_unregister_object(struct vkr_context *ctx, struct vkr_object *obj)
{
   vu_lock_take(&ctx->object_lock);
   vkr_context_unregister_object_locked(ctx, obj);
   vu_lock_give(&ctx->object_lock);
}

/* keep: a place for the removed object outside the context's list (the
 * decoder's spare, taken without a lock), or NULL */
static void
vkr_context_remove_object_into(struct vkr_context *ctx,
                               struct vkr_object *obj,
                               struct vkr_object **keep)
{
   vu_lock_take(&ctx->object_lock);
   vkr_context_unregister_object_locked(ctx, obj);
   const bool kept = keep && !*keep && vkr_object_recyclable(obj);
   const bool recycled = !kept && vkr_context_recycle_object_locked(ctx, obj);
   vu_lock_give(&ctx->object_lock);
   if (kept) {
      *keep = obj;
      return;
   }
   if (recycled)
      return;
   /* freed on the host already: its kept layouts and secondaries may go */
   if (obj->base.type == VK_OBJECT_TYPE_COMMAND_BUFFER) {
      vkr_command_buffer_release_layouts(obj, true);
      vkr_record_reset((struct vkr_command_buffer *)obj, true);
   }
   free(obj);
}

void
vkr_context_remove_object(struct vkr_context *ctx, struct vkr_object *obj)
{
   vkr_context_remove_object_into(ctx, obj, NULL);
}

void
vkr_dispatch_remove_object(struct vp_dispatch *d, struct vkr_object *obj)
{
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   vkr_context_remove_object_into(dec->ctx, obj, &dec->spare_object);
}

/* ------------------------------------------------------------------ */
/* memory accounting                                                   */

bool
vkr_context_charge_memory(struct vkr_context *ctx, uint64_t bytes, const char *what)
{
   uint64_t cur = atomic_load(&ctx->memory_bytes);
   do {
      if (bytes > ctx->limits.max_memory_bytes || cur > ctx->limits.max_memory_bytes - bytes) {
         vkr_log(VU_LOG_WARN,
                 "context %u: %s of %llu bytes refused: memory limit %llu bytes "
                 "(%llu in use)",
                 ctx->id, what, (unsigned long long)bytes,
                 (unsigned long long)ctx->limits.max_memory_bytes, (unsigned long long)cur);
         return false;
      }
   } while (!atomic_compare_exchange_weak(&ctx->memory_bytes, &cur, cur + bytes));
   return true;
}

void
vkr_context_uncharge_memory(struct vkr_context *ctx, uint64_t bytes)
{
   atomic_fetch_sub(&ctx->memory_bytes, bytes);
}

/* ------------------------------------------------------------------ */
/* shared memory                                                       */

struct vkr_shm *
vkr_shm_create(struct vkr_context *ctx, size_t size, bool map, const char *name)
{
   if (!size || size > VKR_MAX_SHM_BYTES)
      return NULL;
   if (!vkr_context_charge_memory(ctx, size, name))
      return NULL;
   struct vkr_shm *shm = calloc(1, sizeof(*shm));
   if (!shm)
      goto fail_charge;
   shm->fd = vu_os_create_shm(name, size);
   if (shm->fd < 0) {
      vkr_log(VU_LOG_ERROR, "context %u: memfd of %zu bytes: %s", ctx->id, size,
              strerror(errno));
      goto fail_alloc;
   }
   if (map) {
      shm->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, shm->fd, 0);
      if (shm->map == MAP_FAILED) {
         vkr_log(VU_LOG_ERROR, "context %u: mmap of %zu bytes: %s", ctx->id, size,
                 strerror(errno));
         goto fail_fd;
      }
   }
   atomic_init(&shm->refs, 1);
   shm->size = size;
   shm->accounted = size;
   shm->ctx = ctx;
   return shm;

fail_fd:
   close(shm->fd);
fail_alloc:
   free(shm);
fail_charge:
   vkr_context_uncharge_memory(ctx, size);
   return NULL;
}

struct vkr_shm *
vkr_shm_wrap_fd(struct vkr_context *ctx, int fd, size_t size)
{
   struct vkr_shm *shm = calloc(1, sizeof(*shm));
   if (!shm)
      return NULL;
   atomic_init(&shm->refs, 1);
   shm->fd = fd;
   shm->size = size;
   shm->ctx = ctx;
   return shm;
}

void
vkr_shm_ref(struct vkr_shm *shm)
{
   atomic_fetch_add_explicit(&shm->refs, 1, memory_order_relaxed);
}

void
vkr_shm_unref(struct vkr_shm *shm)
{
   if (!shm || atomic_fetch_sub_explicit(&shm->refs, 1, memory_order_acq_rel) != 1)
      return;
   if (shm->map)
      munmap(shm->map, shm->size);
   if (shm->fd >= 0)
      close(shm->fd);
   if (shm->accounted)
      vkr_context_uncharge_memory(shm->ctx, shm->accounted);
   free(shm);
}

/* ------------------------------------------------------------------ */
/* resources                                                           */

struct vkr_resource *
vkr_context_get_resource(struct vkr_context *ctx, uint32_t res_id)
{
   mtx_lock(&ctx->resource_mutex);
   struct vkr_resource *res = res_id ? vu_idmap_get(&ctx->resources, res_id) : NULL;
   if (res)
      atomic_fetch_add_explicit(&res->refs, 1, memory_order_relaxed);
   mtx_unlock(&ctx->resource_mutex);
   return res;
}

void
vkr_resource_unref(struct vkr_resource *res)
{
   if (!res || atomic_fetch_sub_explicit(&res->refs, 1, memory_order_acq_rel) != 1)
      return;
   vkr_shm_unref(res->shm);
   free(res);
}

static bool
vkr_context_add_resource(struct vkr_context *ctx, struct vkr_resource *res)
{
   mtx_lock(&ctx->resource_mutex);
   const bool ok = vu_idmap_insert(&ctx->resources, res->id, res);
   mtx_unlock(&ctx->resource_mutex);
   if (!ok)
      vkr_log(VU_LOG_ERROR, "context %u: resource id %u is 0 or already in use", ctx->id,
              res->id);
   return ok;
}

/* Registers a resource over `shm` (takes over the caller's reference) and
 * returns a new fd for the server. */
static bool
vkr_context_publish_resource(struct vkr_context *ctx,
                             uint32_t res_id,
                             enum vkr_resource_kind kind,
                             struct vkr_shm *shm,
                             uint64_t size,
                             bool opaque_fd,
                             bool dma_buf,
                             bool foreign,
                             uint32_t type_index,
                             int *out_fd)
{
   struct vkr_resource *res = calloc(1, sizeof(*res));
   if (!res) {
      vkr_shm_unref(shm);
      return false;
   }
   res->id = res_id;
   res->kind = kind;
   res->shm = shm;
   res->size = size;
   res->opaque_fd = opaque_fd;
   res->dma_buf = dma_buf;
   res->foreign = foreign;
   res->type_index = type_index;
   atomic_init(&res->refs, 1);

   const int fd = fcntl(shm->fd, F_DUPFD_CLOEXEC, 0);
   if (fd < 0) {
      vkr_log(VU_LOG_ERROR, "context %u: dup of resource %u: %s", ctx->id, res_id,
              strerror(errno));
      vkr_resource_unref(res);
      return false;
   }
   if (!vkr_context_add_resource(ctx, res)) {
      close(fd);
      vkr_resource_unref(res);
      return false;
   }
   *out_fd = fd;
   return true;
}

bool
vkr_context_create_resource(struct vkr_context *ctx,
                            uint32_t res_id,
                            uint32_t blob_type,
                            uint32_t blob_flags,
                            uint64_t blob_id,
                            uint64_t size,
                            int *out_fd)
{
   *out_fd = -1;
   if (vkr_context_fatal(ctx))
      return false;
   if (blob_type != 2 /* VCMD_BLOB_TYPE_HOST3D */) {
      vkr_log(VU_LOG_ERROR, "context %u: blob type %u is not HOST3D", ctx->id, blob_type);
      return false;
   }
   if (blob_id == 0) {
      if (blob_flags != 1 /* VCMD_BLOB_FLAG_MAPPABLE */) {
         vkr_log(VU_LOG_ERROR, "context %u: blob_id 0 needs flags MAPPABLE only (got 0x%x)",
                 ctx->id, blob_flags);
         return false;
      }
      if (!size || size > VKR_MAX_SHM_BYTES) {
         vkr_log(VU_LOG_ERROR, "context %u: shared-memory blob of %llu bytes refused", ctx->id,
                 (unsigned long long)size);
         return false;
      }
      struct vkr_shm *shm = vkr_shm_create(ctx, (size_t)size, true, "venus-blob");
      if (!shm)
         return false;
      return vkr_context_publish_resource(ctx, res_id, VKR_RESOURCE_SHM, shm, size, false, false,
                                          false, 0, out_fd);
   }
   return vkr_memory_create_resource(ctx, res_id, blob_flags, blob_id, size, out_fd);
}

bool
vkr_context_publish_memory_resource(struct vkr_context *ctx,
                                    uint32_t res_id,
                                    struct vkr_shm *shm,
                                    uint64_t size,
                                    bool opaque_fd,
                                    bool dma_buf,
                                    bool foreign,
                                    uint32_t type_index,
                                    int *out_fd)
{
   return vkr_context_publish_resource(ctx, res_id, VKR_RESOURCE_DEVICE_MEMORY, shm, size,
                                       opaque_fd, dma_buf, foreign, type_index, out_fd);
}

bool
vkr_context_import_resource(struct vkr_context *ctx,
                            uint32_t res_id,
                            uint32_t kind,
                            uint64_t size,
                            int fd,
                            int *out_fd)
{
   *out_fd = -1;
   if (vkr_context_fatal(ctx)) {
      close(fd);
      return false;
   }
   return vkr_memory_import_resource(ctx, res_id, kind, size, fd, out_fd);
}

bool
vkr_context_destroy_resource(struct vkr_context *ctx, uint32_t res_id)
{
   mtx_lock(&ctx->resource_mutex);
   /* A ring in the resource keeps its memory (its own reference) until
    * vkDestroyRingMESA: a process that exits without destroying its rings has
    * its resources unreferenced before its context is destroyed. */
   struct vkr_resource *res = res_id ? vu_idmap_get(&ctx->resources, res_id) : NULL;
   if (res) {
      vu_idmap_remove(&ctx->resources, res_id);
      atomic_fetch_add_explicit(&ctx->resource_generation, 1, memory_order_release);
   }
   mtx_unlock(&ctx->resource_mutex);
   if (!res) {
      vkr_log(VU_LOG_WARN, "context %u: unref of unknown resource %u", ctx->id, res_id);
      return false;
   }
   vkr_resource_unref(res);
   return true;
}

/* ------------------------------------------------------------------ */
/* decoders                                                            */

struct vkr_decoder *
vkr_decoder_create(struct vkr_context *ctx, struct vkr_ring *ring)
{
   struct vkr_decoder *dec = calloc(1, sizeof(*dec));
   if (!dec)
      return NULL;
   dec->ctx = ctx;
   dec->ring = ring;
   vu_arena_init(&dec->arena, VKR_ARENA_MAX_BYTES);
   vp_decoder_init(&dec->dec, NULL, 0, &dec->arena);
   dec->dec.lookup = vkr_decoder_lookup;
   dec->dec.lookup_data = dec;
   dec->dispatch.dec = &dec->dec;
   dec->dispatch.reply = NULL;
   dec->dispatch.handlers = &ctx->handlers;
   dec->dispatch.data = dec;
   dec->dispatch.cmd_check = vkr_command_buffer_check;
   dec->dispatch.cmd_state_offset = offsetof(struct vkr_command_buffer, state);
   return dec;
}

void
vkr_decoder_destroy(struct vkr_decoder *dec)
{
   if (!dec)
      return;
   /* its command buffer (and device) are still there */
   vkr_record_flush(dec);
   free(dec->spare_object);
   vkr_resource_unref(dec->reply_res);
   vu_arena_fini(&dec->arena);
   free(dec);
}

static const char *
vkr_command_name(int32_t type)
{
   const struct vp_command_info *info = vp_command_info(type);
   return info && info->name ? info->name : "unknown command";
}

bool
vkr_decoder_run(struct vkr_decoder *dec,
                const void *data,
                size_t size,
                vkr_decoder_progress_fn progress,
                void *progress_data)
{
   struct vkr_context *ctx = dec->ctx;
   const uint8_t *start = data;
   dec->dec.cur = start;
   dec->dec.end = start + size;
   dec->dec.fatal = false;
   dec->dec.error = NULL;
   const bool trace = VU_DEBUG(DECODE);
   const bool parallel = ctx->parallel_record;

   while (dec->dec.cur < dec->dec.end) {
      if (vkr_context_fatal(ctx))
         return false;
      const size_t offset = (size_t)(dec->dec.cur - start);
      dec->dispatch.cmd_type = -1;
      if (VP_UNLIKELY(parallel))
         vkr_record_before_command(dec);
      const bool ok = vp_dispatch_command(&dec->dispatch);
      if (trace)
         vkr_log(VU_LOG_DEBUG, "context %u %s: %s", ctx->id, dec->ring ? "ring" : "context",
                 vkr_command_name(dec->dispatch.cmd_type));
      vu_arena_reset(&dec->arena);
      if (!ok || vp_decoder_is_fatal(&dec->dec)) {
         const char *why = dec->dec.error ? dec->dec.error : "decode error";
         if (dec->dispatch.cmd_type >= 0)
            vkr_context_set_fatal(ctx, "%s at byte %zu of a %zu-byte %s stream (%s)", why,
                                  offset, size, dec->ring ? "ring" : "context-path",
                                  vkr_command_name(dec->dispatch.cmd_type));
         else
            vkr_context_set_fatal(ctx, "%s at byte %zu of a %zu-byte %s stream", why, offset,
                                  size, dec->ring ? "ring" : "context-path");
         return false;
      }
      if (progress)
         progress(progress_data, (size_t)(dec->dec.cur - start));
   }
   /* (a stream of vkExecuteCommandStreamsMESA is part of the batch) */
   if (dec->record && !dec->in_execute)
      vkr_record_batch_end(dec);
   return !vkr_context_fatal(ctx);
}

bool
vkr_context_submit_cmd(struct vkr_context *ctx, const void *buf, size_t size)
{
   if (vkr_context_fatal(ctx))
      return false;
   const bool ok = vkr_decoder_run(ctx->decoder, buf, size, NULL, NULL);
   vu_arena_trim(&ctx->decoder->arena);
   return ok;
}

/* ------------------------------------------------------------------ */
/* fences                                                              */

void
vkr_context_queue_retired(struct vkr_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
   mtx_lock(&ctx->retire_mutex);
   if (ctx->retired_count == ctx->retired_cap) {
      const uint32_t cap = ctx->retired_cap ? ctx->retired_cap * 2 : 64;
      struct vkr_retired_fence *r = realloc(ctx->retired, cap * sizeof(*r));
      if (!r) {
         mtx_unlock(&ctx->retire_mutex);
         vkr_context_set_fatal(ctx, "out of host memory retiring fences");
         return;
      }
      ctx->retired = r;
      ctx->retired_cap = cap;
   }
   ctx->retired[ctx->retired_count++] = (struct vkr_retired_fence){ ring_idx, fence_id };
   mtx_unlock(&ctx->retire_mutex);
   const uint64_t one = 1;
   ssize_t n;
   do {
      n = write(ctx->fence_eventfd, &one, sizeof(one));
   } while (n < 0 && errno == EINTR);
}

bool
vkr_context_submit_fence(struct vkr_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
   if (ring_idx >= VKR_MAX_TIMELINES)
      return false;
   if (ring_idx == 0) {
      /* the context path is synchronous: everything before is decoded */
      vkr_context_queue_retired(ctx, 0, fence_id);
      return true;
   }
   mtx_lock(&ctx->timeline_mutex);
   struct vkr_queue *queue = ctx->timelines[ring_idx];
   mtx_unlock(&ctx->timeline_mutex);
   if (!queue) {
      vkr_log(VU_LOG_ERROR, "context %u: fence on timeline %u, which has no queue", ctx->id,
              ring_idx);
      return false;
   }
   return vkr_queue_submit_fence(ctx, queue, ring_idx, fence_id);
}

int
vkr_context_get_fence_fd(struct vkr_context *ctx)
{
   return ctx->fence_eventfd;
}

void
vkr_context_retire_fences(struct vkr_context *ctx)
{
   uint64_t v;
   while (read(ctx->fence_eventfd, &v, sizeof(v)) < 0 && errno == EINTR)
      ;
   mtx_lock(&ctx->retire_mutex);
   struct vkr_retired_fence *list = ctx->retired;
   const uint32_t count = ctx->retired_count;
   ctx->retired = NULL;
   ctx->retired_count = 0;
   ctx->retired_cap = 0;
   mtx_unlock(&ctx->retire_mutex);
   for (uint32_t i = 0; i < count; i++) {
      if (ctx->cbs.retire_fence)
         ctx->cbs.retire_fence(ctx->cbs.data, list[i].ring_idx, list[i].fence_id);
   }
   free(list);
}

/* ------------------------------------------------------------------ */
/* create / destroy                                                    */

uint64_t
vkr_context_limits_memory(const struct vkr_context_limits *limits)
{
   return limits && limits->max_memory_bytes ? limits->max_memory_bytes
                                             : VKR_DEFAULT_MAX_MEMORY_BYTES;
}

struct vkr_context *
vkr_context_create(uint32_t ctx_id,
                   const char *debug_name,
                   const struct vkr_context_callbacks *cbs,
                   const struct vkr_context_limits *limits)
{
   struct vkr_context *ctx = calloc(1, sizeof(*ctx));
   if (!ctx)
      return NULL;
   ctx->id = ctx_id;
   snprintf(ctx->debug_name, sizeof(ctx->debug_name), "%s", debug_name ? debug_name : "");
   if (cbs)
      ctx->cbs = *cbs;
   if (limits)
      ctx->limits = *limits;
   if (!ctx->limits.max_objects)
      ctx->limits.max_objects = VKR_DEFAULT_MAX_OBJECTS;
   ctx->limits.max_memory_bytes = vkr_context_limits_memory(&ctx->limits);
   if (!ctx->limits.max_ring_size || ctx->limits.max_ring_size > VKR_DEFAULT_MAX_RING_SIZE)
      ctx->limits.max_ring_size = VKR_DEFAULT_MAX_RING_SIZE;
   atomic_init(&ctx->fatal, false);
   atomic_init(&ctx->generation[0], 1);
   atomic_init(&ctx->generation[1], 1);
   atomic_init(&ctx->memory_bytes, 0);
   atomic_init(&ctx->kept_objects, 0);
   atomic_init(&ctx->resource_generation, 0);

   mtx_init(&ctx->resource_mutex, mtx_plain);
   mtx_init(&ctx->ring_mutex, mtx_plain);
   mtx_init(&ctx->timeline_mutex, mtx_plain);
   mtx_init(&ctx->retire_mutex, mtx_plain);
   cnd_init(&ctx->ring_cond);
   vu_idmap_init(&ctx->objects);
   vu_idmap_init(&ctx->resources);
   vkr_list_init(&ctx->rings);
   vkr_handlers_init(&ctx->handlers);
   ctx->parallel_record = vkr_record_install(&ctx->handlers);

   ctx->fence_eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   ctx->decoder = vkr_decoder_create(ctx, NULL);
   if (ctx->fence_eventfd < 0 || !ctx->decoder) {
      vkr_log(VU_LOG_ERROR, "context %u: setup failed: %s", ctx_id, strerror(errno));
      vkr_context_destroy(ctx);
      return NULL;
   }
   if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO,
              "context %u (%s): limits %u objects, %llu bytes of memory, rings <= %u bytes",
              ctx_id, ctx->debug_name, ctx->limits.max_objects,
              (unsigned long long)ctx->limits.max_memory_bytes, ctx->limits.max_ring_size);
   return ctx;
}

static void
vkr_context_free_resource(uint64_t id, void *value, void *data)
{
   vkr_resource_unref(value);
}

static void
vkr_context_count_leftover(uint64_t id, void *value, void *data)
{
   (*(uint32_t *)data)++;
}

void
vkr_context_destroy(struct vkr_context *ctx)
{
   if (!ctx)
      return;
   /* stop every thread at its next check, without a log line */
   atomic_store(&ctx->fatal, true);
   mtx_lock(&ctx->ring_mutex);
   cnd_broadcast(&ctx->ring_cond);
   mtx_unlock(&ctx->ring_mutex);

   vkr_context_destroy_rings(ctx);
   /* before the devices go */
   if (ctx->decoder)
      vkr_record_flush(ctx->decoder);
   if (ctx->instance)
      vkr_instance_destroy(ctx, ctx->instance);

   uint32_t leftover = 0;
   vu_idmap_foreach(&ctx->objects, vkr_context_count_leftover, &leftover);
   if (leftover)
      vkr_log(VU_LOG_WARN, "context %u: %u objects left after teardown", ctx->id, leftover);

   vkr_decoder_destroy(ctx->decoder);
   vu_idmap_foreach(&ctx->resources, vkr_context_free_resource, NULL);
   vu_idmap_fini(&ctx->resources);
   vu_idmap_fini(&ctx->objects);
   vkr_context_free_recycled(ctx);
   free(ctx->retired);
   if (ctx->fence_eventfd >= 0)
      close(ctx->fence_eventfd);
   cnd_destroy(&ctx->ring_cond);
   mtx_destroy(&ctx->resource_mutex);
   mtx_destroy(&ctx->ring_mutex);
   mtx_destroy(&ctx->timeline_mutex);
   mtx_destroy(&ctx->retire_mutex);
   free(ctx);
}
