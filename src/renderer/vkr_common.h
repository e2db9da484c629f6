/*
 * Renderer internals shared by the vkr_*.c files and the generated
 * forwarders (vkr_dispatch_gen.c): objects, contexts, decoders, resources.
 *
 * Objects: every Vulkan object the guest names by id is a struct that begins
 * with struct vkr_object, whose first member is the struct vp_host_object the
 * generated decoders hand out for a looked-up id. Special kinds (instance,
 * physical device, device, queue, device memory, query pool) embed it first
 * and add their own state; everything else is a bare struct vkr_object.
 *
 * Threads: the context thread (vkr_context_submit_cmd and every other
 * vkr_renderer.h call), one thread per ring, one per queue with pending
 * fences, and the ring monitor. They share the object table (object_lock),
 * the resource table (resource_mutex) and the sticky fatal flag.
 */
#ifndef VKR_COMMON_H
#define VKR_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <vulkan/vulkan_core.h>

#include "util/vu_arena.h"
#include "util/vu_idmap.h"
#include "util/vu_log.h"
#include "util/vu_os.h"
#include "protocol/vp_chain.h"
#include "protocol/vp_cs.h"
#include "vp_protocol.h"
#include "renderer/vkr_renderer.h"

#include "vkr_dispatch_gen.h"

/* temporary storage one command may decode into */
#define VKR_ARENA_MAX_BYTES ((size_t)256 << 20)
/* fence timelines (ring_idx 0..63) */
#define VKR_MAX_TIMELINES 64
/* defaults for struct vkr_context_limits fields left 0 */
#define VKR_DEFAULT_MAX_OBJECTS (1u << 20)
#define VKR_DEFAULT_MAX_MEMORY_BYTES ((uint64_t)64 << 30)
#define VKR_DEFAULT_MAX_RING_SIZE (16u << 20)
/* rings per context: each is a thread (our driver makes two or three per
 * device, Mesa's one per instance and per submitting thread) */
#define VKR_MAX_RINGS 256u
/* the largest blob/allocation we back with one memfd */
#define VKR_MAX_SHM_BYTES ((uint64_t)1 << 40)
/* blocking host waits are cut into slices so teardown is never stuck */
#define VKR_WAIT_SLICE_NS 100000000ull
/* in a ring whose driver allows it (VW_RING_FLAG_EARLY_WAIT_END): slices
 * this long, and the wait ends after one when commands wait behind it */
#define VKR_EARLY_WAIT_SLICE_NS 100000ull

#define VKR_LOG_TAG "renderer"
#define vkr_log(level, ...) vu_log(level, VKR_LOG_TAG, __VA_ARGS__)

struct vkr_context;
struct vkr_instance;
struct vkr_device;
struct vkr_ring;

/* ------------------------------------------------------------------ */
/* intrusive list                                                      */

struct vkr_list {
   struct vkr_list *prev, *next;
};

static inline void
vkr_list_init(struct vkr_list *l)
{
   l->prev = l->next = l;
}

static inline bool
vkr_list_empty(const struct vkr_list *l)
{
   return l->next == l;
}

static inline void
vkr_list_add(struct vkr_list *head, struct vkr_list *item)
{
   item->next = head->next;
   item->prev = head;
   head->next->prev = item;
   head->next = item;
}

static inline void
vkr_list_del(struct vkr_list *item)
{
   item->prev->next = item->next;
   item->next->prev = item->prev;
   item->prev = item->next = item;
}

#define vkr_container_of(ptr, type, member)                                        \
   ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* A zeroed allocation for objects created and destroyed per command: glibc's
 * calloc bypasses its per-thread cache (and free then finds that cache
 * full), so malloc + memset is several times cheaper on the churn path. */
static inline void *
vkr_zalloc(size_t size)
{
   void *p = malloc(size);
   if (p)
      memset(p, 0, size);
   return p;
}

/* ------------------------------------------------------------------ */
/* objects                                                             */

/* `v` rounded up to `align`, a power of two */
static inline uint64_t
vkr_align_up(uint64_t v, uint64_t align)
{
   return (v + align - 1) & ~(align - 1);
}

/* A buffer's create info without its chain, which is at most a
 * VkBufferUsageFlags2CreateInfoKHR (usage2), and with at most
 * VKR_BUFFER_SHAPE_FAMILIES queue families */
#define VKR_BUFFER_SHAPE_FAMILIES 4
struct vkr_buffer_shape {
   VkDeviceSize size;
   uint64_t usage2; /* VkBufferUsageFlags2CreateInfoKHR::usage, with has_usage2 */
   VkBufferUsageFlags usage;
   VkBufferCreateFlags flags;
   bool has_usage2;
   bool concurrent;
   uint8_t family_count;
   uint32_t families[VKR_BUFFER_SHAPE_FAMILIES];
};

struct vkr_object {
   struct vp_host_object base; /* first: id, type, host handle */
   struct vkr_instance *instance; /* instance-level objects (and devices) */
   struct vkr_device *device;     /* device-level objects (a device: itself) */
   struct vkr_object *pool;       /* command buffers, descriptor sets */
   struct vkr_list link;          /* in device->objects or pool->children */
   struct vkr_list children;      /* command and descriptor pools */
   bool sparse; /* buffers and images: created with SPARSE_BINDING */
   bool recycled; /* a plain object from vkr_context_alloc_object: recycled on removal */
   bool pool_protected;  /* command pools: created with VK_COMMAND_POOL_CREATE_PROTECTED_BIT */
   uint32_t pool_family; /* command pools: their queue family */
   /* buffers: created without the host-allocation chain, which a bind to
    * memory imported from a host pointer adds by creating the buffer again
    * from `shape` (vkr_instance.c, "Resources over imported host memory") */
   bool chain_at_bind;
   union {
      /* images: what host image copies need to size a region's memory
       * (vkr_host_copy.c) */
      struct {
         uint32_t image_format;
         uint32_t image_layers, image_mips;
      };
      struct vkr_buffer_shape shape; /* buffers with chain_at_bind */
   };
};

/* Every command buffer: with keep_layouts, the host pipeline layouts its
 * commands named since it was last reset (vkr_layouts.c) */
struct vkr_command_buffer {
   struct vkr_object obj;
   uint64_t *layouts; /* host handles, each once */
   uint32_t layout_count, layout_cap;
   /* VP_CMD_STATE_*: the guest's view of its state, which the generated
    * dispatch tests inline (vp_dispatch::cmd_state_offset) and
    * vkr_command_buffer_check changes: primary or secondary, between a
    * successful vkBeginCommandBuffer and vkEndCommandBuffer (or a reset),
    * inside a render pass instance (begun here, or continued by a
    * secondary) */
   uint8_t state;
   /* its commands may still be recorded by the device's recorders
    * (vkr_record.c): set by vkBeginCommandBuffer, cleared for good until
    * the next by any command they do not take */
   bool parallel;
   struct vkr_record *record; /* vkr_record.c, created on first use */
};

/* Every pipeline: ray tracing pipelines know their shader groups (their
 * own and their libraries'), which group-handle queries index. */
struct vkr_pipeline {
   struct vkr_object obj;
   uint32_t group_count;
};

struct vkr_physical_device {
   struct vkr_object obj;
   VkPhysicalDevice host;
   VkPhysicalDeviceProperties props; /* apiVersion already capped */
   uint32_t queue_family_count;
   VkQueueFamilyProperties *queue_families;

   /* the device extensions we expose (host ∩ protocol, filtered) */
   uint32_t ext_count;
   VkExtensionProperties *exts;
   bool has_external_memory_host;
   bool has_external_memory_fd;
   bool has_external_fence_fd;
   bool has_external_semaphore_fd;
   /* the host's VK_KHR_deferred_host_operations (the guest's is the
    * driver's own): enabled with VK_KHR_acceleration_structure, which
    * requires it */
   bool has_deferred_host_operations;

   /* memory sharing, probed once (vkr_physical_device_init_memory) */
   bool memory_ready;
   VkPhysicalDeviceMemoryProperties host_memory; /* as the host reports it */
   VkPhysicalDeviceMemoryProperties memory;      /* what the guest sees */
   uint32_t host_pointer_type_bits; /* types importable from our memfds */
   VkDeviceSize host_pointer_alignment;
   uint32_t opaque_fd_type_bits;   /* fallback: exportable + mmap-able */
   /* The guest's memory types (docs/renderer.md "Memory types for sparse
    * resources"): the host's, plus a twin without the host-visible bits
    * before each host-pointer type that sparse resources may use (those in
    * sparse_twin_host_bits). Twins are allocated natively and are the only
    * types of their host type that sparse resources report. */
   uint32_t sparse_twin_host_bits;                  /* host types with a twin */
   uint32_t twin_guest_bits;                        /* guest types that are twins */
   uint8_t guest_to_host[VK_MAX_MEMORY_TYPES];      /* guest type -> host type */
   uint8_t host_to_guest[VK_MAX_MEMORY_TYPES];      /* host type -> its guest type */
   uint8_t host_to_twin[VK_MAX_MEMORY_TYPES];       /* host type -> its twin */
   bool fence_sync_fd;             /* sync-fd export of fences works */
   bool semaphore_sync_fd;         /* sync-fd export/import of semaphores */
};

struct vkr_instance {
   struct vkr_object obj;
   VkInstance host;
   struct vkr_instance_table table;
   uint32_t api_version;
   uint32_t physical_device_count;
   VkPhysicalDevice *host_physical_devices;
   struct vkr_physical_device **physical_devices; /* NULL until enumerated */
};

struct vkr_fence_entry {
   VkFence fence;
   uint32_t ring_idx;
   uint64_t fence_id;
};

struct vkr_queue {
   struct vkr_object obj;
   VkQueue host;
   VkDeviceQueueCreateFlags flags;
   uint32_t family;
   uint32_t index;
   bool fetched;      /* vkGetDeviceQueue2 bound an id */
   uint32_t ring_idx; /* 0: none */
   mtx_t mutex;       /* host VkQueue access */

   /* fence timeline: pending host fences, retired in order by `thread` */
   mtx_t fence_mutex;
   cnd_t fence_cond;
   struct vkr_context *ctx;
   bool thread_started;
   bool thread_stop;
   thrd_t thread;
   struct vkr_fence_entry *pending;
   uint32_t pending_head, pending_count, pending_cap;
   VkFence *free_fences;
   uint32_t free_count, free_cap;
};

struct vkr_device {
   struct vkr_object obj;
   VkDevice host;
   struct vkr_physical_device *physical_device;
   struct vkr_device_table table;
   uint32_t queue_count;
   struct vkr_queue **queues;
   struct vkr_list objects; /* children, newest first (under object_lock) */
   bool use_host_pointer;   /* VK_EXT_external_memory_host enabled */
   /* buffers get the host-allocation chain at a bind to host-pointer
    * memory, not at creation (vkr_instance.c); rechained counts them */
   bool chain_at_bind;
   atomic_uint_fast64_t rechained;
   bool use_opaque_fd;      /* mappable opaque fds back host-visible types */
   /* VK_KHR_external_memory_fd enabled with vkGetMemoryFdKHR: memory the
    * guest asks to export gets a host OPAQUE_FD, and opaque-fd resources
    * can be imported */
   bool has_opaque_fd;
   /* the guest enabled VK_EXT_external_memory_dma_buf (with has_opaque_fd):
    * memory it asks to export as DMA_BUF gets a host dma-buf, and dma-buf
    * resources can be imported */
   bool has_dma_buf;
   bool fence_sync_fd;
   bool semaphore_sync_fd;
   /* VkPhysicalDeviceRayTracingPipelinePropertiesKHR's handle sizes when
    * the guest enabled VK_KHR_ray_tracing_pipeline (0 otherwise): what
    * group-handle queries write per group */
   uint32_t rt_handle_size;
   uint32_t rt_replay_handle_size;
   /* host fences and semaphores replaced under a guest id while a signal
    * was pending (vkResetFenceResourceMESA, vkWaitSemaphoreResourceMESA
    * without host sync fds), destroyed once that signal has landed. Under
    * the context's object_lock. */
   struct vkr_retired *retired;
   uint32_t retired_count, retired_cap;
   /* lavapipe reads a pipeline layout when it executes a command buffer
    * that named it: a layout the guest destroys stays alive on the host
    * while such command buffers are not reset (vkr_layouts.c). The map
    * (host handle -> struct vkr_kept_layout) and the command buffers'
    * lists are under layout_mutex. */
   bool keep_layouts;
   mtx_t layout_mutex;
   struct vu_idmap kept_layouts;
   /* counts kept layouts the guest destroyed (ctx->kept_objects) */
   struct vkr_context *ctx;
   /* recorder threads of parallel recording (vkr_record.c), started on
    * first use; NULL before (or never, when it is off) */
   struct vkr_recorders *recorders;
   bool recorders_failed;
};

struct vkr_retired {
   VkFence fence;         /* a retired fence, or VK_NULL_HANDLE */
   VkSemaphore semaphore; /* a retired semaphore, or VK_NULL_HANDLE */
   /* semaphores: one fence per queue, submitted at retirement */
   VkFence *markers;
   uint32_t marker_count;
};

/* Shared memory backing a blob resource and/or a VkDeviceMemory: a memfd
 * mapped by the renderer (map may be NULL for exported opaque fds).
 * Refcounted: freed when the last of its users lets go. */
struct vkr_shm {
   atomic_int refs;
   int fd;
   void *map;
   size_t size;
   uint64_t accounted; /* bytes charged to the context's memory limit */
   struct vkr_context *ctx;
};

struct vkr_device_memory {
   struct vkr_object obj;
   struct vkr_shm *shm; /* memfd / opaque fd backing, or NULL */
   bool shm_is_opaque_fd;
   bool shm_is_dma_buf; /* shm->fd is the host's DMA_BUF export */
   bool host_pointer;   /* imported from shm->map (HOST_ALLOCATION) */
   bool guest_mappable; /* shm may back a MAPPABLE blob */
   uint32_t type_index;
   VkDeviceSize size;
   uint64_t accounted; /* charged to the context when shm is NULL */
};

struct vkr_query_pool {
   struct vkr_object obj;
   VkQueryType type;
   uint32_t query_count;
   uint32_t values_per_query; /* results per query, without availability */
};

enum vkr_resource_kind {
   VKR_RESOURCE_SHM,           /* blob_id 0: rings, streams, replies */
   VKR_RESOURCE_DEVICE_MEMORY, /* blob_id = VkDeviceMemory id */
};

struct vkr_resource {
   uint32_t id;
   enum vkr_resource_kind kind;
   atomic_int refs; /* the context's table, rings, decoders reading it */
   struct vkr_shm *shm;
   uint64_t size;
   bool opaque_fd;       /* shm->fd is an exported OPAQUE_FD */
   bool dma_buf;         /* shm->fd is a host dma-buf */
   bool foreign;         /* over a client's fd (vkr_context_import_resource):
                          * its memory type is unknown */
   uint32_t type_index;  /* device memory: the memory type */
};

/* ------------------------------------------------------------------ */
/* decoders (the context path and each ring)                           */

struct vkr_lookup_cache {
   uint64_t id;
   VkObjectType type;
   void *obj;
   uint64_t generation;
};

struct vkr_decoder {
   struct vkr_context *ctx;
   struct vkr_ring *ring; /* NULL: the context path */
   struct vu_arena arena;
   struct vp_decoder dec;
   struct vp_dispatch dispatch;
   struct vp_encoder reply;
   struct vkr_resource *reply_res; /* holds a reference */
   uint64_t reply_generation;      /* ctx->resource_generation when it was found */
   size_t reply_offset;
   size_t reply_size;
   bool in_execute; /* inside vkExecuteCommandStreamsMESA */
   /* the command buffer whose commands this decoder now hands to the
    * device's recorders (vkr_record.c), or NULL */
   struct vkr_record *record;
   /* the plain object its last destroy removed, for its next create (no
    * lock on either side; the context's free list holds the others) */
   struct vkr_object *spare_object;
   /* the last submission of the batch signals nothing (vkr_note_QueueSubmit) */
   bool submitted_unsignalled;
   /* [0]: dispatchable handles (command buffers repeat on every vkCmd*),
    * [1]: everything else */
   struct vkr_lookup_cache cache[2];
   /* whether the host can import HOST_ALLOCATION memory for buffers of a
    * given physical device, create flags and usage (vkr_instance.c,
    * "Resources over imported host memory"); direct-mapped */
   struct vkr_buffer_import_cache {
      const struct vkr_physical_device *pd; /* NULL: empty */
      uint64_t usage;
      uint32_t flags;
      bool importable;
   } buffer_import[8];
};

/* ------------------------------------------------------------------ */
/* context                                                             */

struct vkr_retired_fence {
   uint32_t ring_idx;
   uint64_t fence_id;
};

struct vkr_context {
   uint32_t id;
   char debug_name[64];
   struct vkr_context_callbacks cbs;
   struct vkr_context_limits limits;
   atomic_bool fatal;

   struct vp_handlers handlers;
   /* parallel recording is on (vkr_record.c): decoders check each command */
   bool parallel_record;

   struct vu_lock object_lock;
   struct vu_idmap objects;
   uint32_t object_count;
   /* host objects the guest destroyed that still live for the host's sake
    * (lavapipe's kept pipeline layouts, vkr_layouts.c): they count against
    * limits.max_objects as well */
   atomic_uint kept_objects;
   /* removed plain objects kept for the next create (under object_lock):
    * a create + destroy then costs no malloc and no free */
   struct vkr_object *free_objects;
   uint32_t free_object_count;
   /* bumped on every removal of a dispatchable [0] / other [1] object: the
    * decoders' lookup caches of that kind are then stale */
   atomic_uint_fast64_t generation[2];
   struct vkr_instance *instance;   /* under object_lock */

   mtx_t resource_mutex;
   struct vu_idmap resources;
   /* bumped by every removal from `resources` (under resource_mutex): a
    * decoder's reply resource found again by id is still the table's while
    * this has not moved */
   atomic_uint_fast64_t resource_generation;
   atomic_uint_fast64_t memory_bytes;

   struct vkr_decoder *decoder; /* the context path */

   mtx_t ring_mutex;
   struct vkr_list rings;
   cnd_t ring_cond; /* seqno progress, monitor wakeups */
   bool monitor_started;
   bool monitor_stop;
   uint32_t monitor_period_us;
   thrd_t monitor_thread;

   mtx_t timeline_mutex;
   struct vkr_queue *timelines[VKR_MAX_TIMELINES];

   mtx_t retire_mutex;
   struct vkr_retired_fence *retired;
   uint32_t retired_count, retired_cap;
   int fence_eventfd;
};

/* The device of a device-level object as the decoders hand it over (a
 * handle argument before vp_replace_*_args_handles) */
static inline struct vkr_device *
vkr_device_of(const void *obj)
{
   return ((const struct vkr_object *)obj)->device;
}

/* ------------------------------------------------------------------ */
/* vkr_context.c                                                       */

static inline struct vkr_decoder *
vkr_decoder_from_dispatch(struct vp_dispatch *d)
{
   return (struct vkr_decoder *)d->data;
}

static inline struct vkr_context *
vkr_dispatch_context(struct vp_dispatch *d)
{
   return vkr_decoder_from_dispatch(d)->ctx;
}

/* A submission that signals nothing on the host (no fence, no semaphore): on
 * the ring, its guest typically waits for it through feedback (a fence the
 * driver elided, docs/driver.md) and sends the next one soon, so the ring
 * thread polls for that instead of yielding (vkr_ring.c). After a signal
 * operation the same poll made NVIDIA's completion later (bench/README.md),
 * so it is kept for these. */
static inline void
vkr_note_QueueSubmit(struct vp_dispatch *d, const struct vp_command_vkQueueSubmit *args)
{
   bool signals = args->fence != VK_NULL_HANDLE;
   for (uint32_t i = 0; i < args->submitCount && !signals; i++)
      signals = args->pSubmits[i].signalSemaphoreCount != 0;
   vkr_decoder_from_dispatch(d)->submitted_unsignalled = !signals;
}

static inline void
vkr_note_QueueSubmit2(struct vp_dispatch *d, const struct vp_command_vkQueueSubmit2 *args)
{
   bool signals = args->fence != VK_NULL_HANDLE;
   for (uint32_t i = 0; i < args->submitCount && !signals; i++)
      signals = args->pSubmits[i].signalSemaphoreInfoCount != 0;
   vkr_decoder_from_dispatch(d)->submitted_unsignalled = !signals;
}

static inline bool
vkr_context_fatal(const struct vkr_context *ctx)
{
   return atomic_load_explicit(&ctx->fatal, memory_order_acquire);
}

/* For a context-path wait that outlasted a slice (main loop's thread only):
 * true when it must end, because the context is fatal or the guest has hung
 * up (vkr_context_callbacks::peer_gone), which makes it fatal. */
bool
vkr_context_wait_must_end(struct vkr_context *ctx);

/* Marks the context fatal and logs one line (the first time). */
void
vkr_context_set_fatal(struct vkr_context *ctx, const char *fmt, ...)
   __attribute__((format(printf, 2, 3)));

/* Fails the command being decoded: `why` must be a static string. The
 * decode loop logs it and marks the context fatal. */
static inline void
vkr_dispatch_fatal(struct vp_dispatch *d, const char *why)
{
   vp_decoder_set_fatal(d->dec, why);
}

/* nonzero and unused, else fatal */
bool
vkr_dispatch_check_new_id(struct vp_dispatch *d, uint64_t id, VkObjectType type);

/* Registers a fully built object (base.id/type/handle set). Links it into
 * obj->pool's children, or obj->device's objects for other device children.
 * On failure (duplicate id, object limit) it is fatal; the caller still owns
 * the object and its host handle. */
bool
vkr_dispatch_add_object(struct vp_dispatch *d, struct vkr_object *obj);

/* Generic device child: allocates a bare vkr_object, registers it; on
 * failure destroys the host handle and makes the context fatal. */
struct vkr_object *
vkr_dispatch_add_device_object(struct vp_dispatch *d,
                               struct vkr_object *dev,
                               VkObjectType type,
                               uint64_t id,
                               uint64_t handle);

/* Unregisters, unlinks and frees (the host object is already gone). */
void
vkr_dispatch_remove_object(struct vp_dispatch *d, struct vkr_object *obj);
void
vkr_context_remove_object(struct vkr_context *ctx, struct vkr_object *obj);

/* unregister only (no free), e.g. for queues owned by their device */
void
vkr_context_unregister_object(struct vkr_context *ctx, struct vkr_object *obj);

/* id -> object of `type` (NULL: unknown or wrong type), no cache */
struct vkr_object *
vkr_context_get_object(struct vkr_context *ctx, uint64_t id, VkObjectType type);

bool
vkr_context_charge_memory(struct vkr_context *ctx, uint64_t bytes, const char *what);
void
vkr_context_uncharge_memory(struct vkr_context *ctx, uint64_t bytes);

struct vkr_decoder *
vkr_decoder_create(struct vkr_context *ctx, struct vkr_ring *ring);
void
vkr_decoder_destroy(struct vkr_decoder *dec);

/* Per-command hook of vkr_decoder_run: `consumed` bytes of the stream are
 * done (a ring publishes its head). */
typedef void (*vkr_decoder_progress_fn)(void *data, size_t consumed);

/* Decodes and executes every command of the stream; false once fatal. */
bool
vkr_decoder_run(struct vkr_decoder *dec,
                const void *data,
                size_t size,
                vkr_decoder_progress_fn progress,
                void *progress_data);

/* resources */
struct vkr_resource *
vkr_context_get_resource(struct vkr_context *ctx, uint32_t res_id); /* +1 ref */
void
vkr_resource_unref(struct vkr_resource *res);

struct vkr_shm *
vkr_shm_create(struct vkr_context *ctx, size_t size, bool map, const char *name);
struct vkr_shm *
vkr_shm_wrap_fd(struct vkr_context *ctx, int fd, size_t size);
void
vkr_shm_ref(struct vkr_shm *shm);
void
vkr_shm_unref(struct vkr_shm *shm);

/* pipeline layouts kept alive for command buffers (vkr_layouts.c) */
void
vkr_device_init_layouts(struct vkr_device *dev);
void
vkr_device_finish_layouts(struct vkr_device *dev);
void
vkr_command_buffer_release_layouts(struct vkr_object *cmd, bool free_list);
/* vp_dispatch::cmd_check: fatal for a command recorded into a command buffer
 * that is not recording, or against vk.xml's render-pass scope or level */
bool
vkr_command_buffer_check(struct vp_dispatch *d, const void *cmd_obj, uint32_t rules);
bool
vkr_layout_use(struct vp_dispatch *d, const void *cmd_obj, const void *layout);
bool
vkr_push_range_ok(struct vp_dispatch *d, struct vkr_device *dev, uint32_t offset, uint32_t size);

/* Parallel recording (vkr_record.c): long runs of compute and transfer
 * commands recorded into host secondary command buffers by the device's
 * recorder threads while the ring thread decodes on. */
struct vkr_record;
struct vkr_recorders;
/* at context creation: wraps the handlers of the commands it takes and
 * says whether it is on for this context */
bool
vkr_record_install(struct vp_handlers *handlers);
/* before each command of a decoder of a context where it is on */
void
vkr_record_before_command(struct vkr_decoder *dec);
/* at the end of each decoded batch: queued work goes to the recorders */
void
vkr_record_batch_end(struct vkr_decoder *dec);
/* the decoder's command buffer gets everything recorded so far */
void
vkr_record_flush(struct vkr_decoder *dec);
/* vkBeginCommandBuffer succeeded on the host */
void
vkr_record_begin(struct vkr_context *ctx,
                 struct vkr_command_buffer *cmd,
                 const VkCommandBufferBeginInfo *info);
/* the host command buffer was reset or freed: its secondaries go back */
void
vkr_record_reset(struct vkr_command_buffer *cmd, bool free_record);
/* before the host device goes */
void
vkr_record_device_finish(struct vkr_device *dev);

/* fences */
void
vkr_device_destroy_retired(struct vkr_context *ctx, struct vkr_device *dev);
void
vkr_context_queue_retired(struct vkr_context *ctx, uint32_t ring_idx, uint64_t fence_id);

/* Unlinks the first struct of `stype` from a decoded (arena-owned) chain
 * and returns it, or NULL. */
static inline const VkBaseInStructure *
vkr_chain_unlink(const void **head, VkStructureType stype)
{
   const VkBaseInStructure **link = (const VkBaseInStructure **)head;
   while (*link) {
      const VkBaseInStructure *s = *link;
      if (s->sType == stype) {
         *link = s->pNext;
         return s;
      }
      link = (const VkBaseInStructure **)&((VkBaseInStructure *)s)->pNext;
   }
   return NULL;
}

/* ------------------------------------------------------------------ */
/* handles -> tables (used by the generated forwarders)                 */

static inline const struct vkr_device_table *
vkr_object_device_table(const void *obj);

static inline const struct vkr_instance_table *
vkr_object_instance_table(const void *obj)
{
   return &((const struct vkr_object *)obj)->instance->table;
}

static inline const struct vkr_device_table *
vkr_object_device_table(const void *obj)
{
   return &((const struct vkr_object *)obj)->device->table;
}

static inline struct vkr_queue *
vkr_queue_from_object(void *obj)
{
   return (struct vkr_queue *)obj;
}

static inline void
vkr_queue_lock(struct vkr_queue *queue)
{
   mtx_lock(&queue->mutex);
}

static inline void
vkr_queue_unlock(struct vkr_queue *queue)
{
   mtx_unlock(&queue->mutex);
}

#define VKR_HOST(type, obj) ((type)(uintptr_t)((const struct vp_host_object *)(obj))->handle)

/* ------------------------------------------------------------------ */
/* other modules                                                        */

/* vkr_instance.c */
uint32_t
vkr_cap_api_version(uint32_t version);
void
vkr_instance_destroy(struct vkr_context *ctx, struct vkr_instance *instance);
void
vkr_physical_device_init_memory(struct vkr_physical_device *pd);
/* host memoryTypeBits -> the guest's; sparse: those of a sparse resource */
uint32_t
vkr_memory_type_bits_to_guest(const struct vkr_physical_device *pd, uint32_t host_bits, bool sparse);
bool
vkr_physical_device_has_extension(const struct vkr_physical_device *pd, const char *name);

/* vkr_device.c */
void
vkr_device_destroy(struct vkr_context *ctx, struct vkr_device *dev);
/* destroys a device child's host object and frees it (device teardown) */
void
vkr_device_destroy_child(struct vkr_context *ctx, struct vkr_object *obj);
void
vkr_queue_stop_thread(struct vkr_queue *queue);
bool
vkr_queue_submit_fence(struct vkr_context *ctx,
                       struct vkr_queue *queue,
                       uint32_t ring_idx,
                       uint64_t fence_id);

/* vkr_memory.c */
void
vkr_device_memory_free(struct vkr_context *ctx, struct vkr_device_memory *mem);
bool
vkr_context_publish_memory_resource(struct vkr_context *ctx,
                                    uint32_t res_id,
                                    struct vkr_shm *shm,
                                    uint64_t size,
                                    bool opaque_fd,
                                    bool dma_buf,
                                    bool foreign,
                                    uint32_t type_index,
                                    int *out_fd);
bool
vkr_memory_create_resource(struct vkr_context *ctx,
                           uint32_t res_id,
                           uint32_t blob_flags,
                           uint64_t blob_id,
                           uint64_t size,
                           int *out_fd);
bool
vkr_memory_import_resource(struct vkr_context *ctx,
                           uint32_t res_id,
                           uint32_t kind,
                           uint64_t size,
                           int fd,
                           int *out_fd);

/* vkr_ring.c */
void
vkr_context_destroy_rings(struct vkr_context *ctx);
void
vkr_ring_set_fatal(struct vkr_ring *ring);
bool
vkr_ring_is_fatal(const struct vkr_ring *ring);

/* vkr_transport.c */
void
vkr_decoder_set_reply_stream(struct vkr_decoder *dec,
                             struct vkr_resource *res,
                             size_t offset,
                             size_t size);

#endif
