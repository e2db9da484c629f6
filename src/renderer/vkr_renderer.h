/*
 * The renderer as the server sees it: a handful of functions on plain ids.
 * One process may hold several contexts, but the vtest server uses one
 * worker process per client and thus one context per process.
 *
 * Threading: every function here is called from one thread (the worker's
 * main loop). Fence retirement happens on renderer threads; they only signal
 * the eventfd returned by vkr_context_get_fence_fd(), and the main loop then
 * calls vkr_context_retire_fences(), which invokes the callback on its thread.
 */
#ifndef VKR_RENDERER_H
#define VKR_RENDERER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vkr_context;

struct vkr_context_callbacks {
   void *data;
   /* fence `fence_id` on timeline `ring_idx` retired (in submission order per
    * timeline) */
   void (*retire_fence)(void *data, uint32_t ring_idx, uint64_t fence_id);
   /* optional: whether the guest's side has hung up. Asked (on the main
    * loop's thread) by a context-path wait each time it outlasts a slice:
    * a wait that nothing can end any more, because only the departed guest
    * could have, then ends with the context fatal instead of keeping the
    * worker for good */
   bool (*peer_gone)(void *data);
};

/* Per-context resource limits; 0 = built-in default. */
struct vkr_context_limits {
   uint64_t max_memory_bytes; /* blobs + device memory the guest may create */
   uint32_t max_objects;      /* live Vulkan objects */
   uint32_t max_ring_size;    /* ring buffer size cap (<= 16 MiB) */
};

/* Fills `out` (up to `size` bytes) with the capset; returns its full size, or
 * 0 for an unknown id/version. Probes the host driver once (lazily). */
size_t
vkr_renderer_get_capset(uint32_t capset_id, uint32_t capset_version, void *out, size_t size);

/* Loads the host Vulkan driver now: a host instance of the renderer's own is
 * created, its physical devices enumerated, and kept until
 * vkr_renderer_unload(), so that the driver's libraries, device nodes and
 * threads exist before a worker enters its sandbox. false if no instance
 * could be created. */
bool
vkr_renderer_preload(void);
void
vkr_renderer_unload(void);

/* The most shared memory (blobs and device memory) a context made with
 * these limits may hold, and so the largest memfd it may need: limits'
 * max_memory_bytes, or the default where that is 0 (or limits is NULL). */
uint64_t
vkr_context_limits_memory(const struct vkr_context_limits *limits);

struct vkr_context *
vkr_context_create(uint32_t ctx_id,
                   const char *debug_name,
                   const struct vkr_context_callbacks *cbs,
                   const struct vkr_context_limits *limits);

/* Stops rings and queue threads, destroys every host object. */
void
vkr_context_destroy(struct vkr_context *ctx);

/* Decodes and executes a context-path command stream. false once the context
 * is fatal (the stream was bad now or earlier). */
bool
vkr_context_submit_cmd(struct vkr_context *ctx, const void *buf, size_t size);

/* Queues a fence on timeline ring_idx (0 = retire right away, since the
 * context path is synchronous). false if ring_idx has no bound queue. */
bool
vkr_context_submit_fence(struct vkr_context *ctx, uint32_t ring_idx, uint64_t fence_id);

/* Creates blob resource res_id. blob_id 0 with flags MAPPABLE: shared memory;
 * otherwise blob_id is a VkDeviceMemory object id. On success *out_fd is a new
 * fd the caller sends and closes. */
bool
vkr_context_create_resource(struct vkr_context *ctx,
                            uint32_t res_id,
                            uint32_t blob_type,
                            uint32_t blob_flags,
                            uint64_t blob_id,
                            uint64_t size,
                            int *out_fd);

/* Creates resource res_id over `fd`, memory that another context or process
 * exported (kind VCMD_VENUS_IMPORT_KIND_*: 1 = an OPAQUE_FD or shared memory,
 * 2 = a dma-buf), of `size` bytes, for VkImportMemoryResourceInfoMESA. Takes
 * `fd` (closed on failure). The fd is hostile input: only anonymous shared
 * memory (a memfd) or an anonymous inode (a dma-buf) of at least `size`
 * bytes is taken; the host driver's import checks the rest. On success
 * *out_fd is a new fd of it, the caller's. false (logged) when refused. */
bool
vkr_context_import_resource(struct vkr_context *ctx,
                            uint32_t res_id,
                            uint32_t kind,
                            uint64_t size,
                            int fd,
                            int *out_fd);

/* Forgets resource res_id (false if unknown, or if it backs a live ring, which
 * also makes the context fatal). */
bool
vkr_context_destroy_resource(struct vkr_context *ctx, uint32_t res_id);

/* eventfd that becomes readable when fences may have retired */
int
vkr_context_get_fence_fd(struct vkr_context *ctx);
void
vkr_context_retire_fences(struct vkr_context *ctx);

bool
vkr_context_is_fatal(const struct vkr_context *ctx);

#endif
