/*
 * The driver's transport: one vtest connection (transport.md §A) per
 * instance, the Venus capset, shared-memory blob resources mapped in the
 * guest, context-path submissions and the "lost" state.
 *
 * Once any exchange with the server fails, or the renderer reports a fatal
 * context, the transport is lost for good: every later wait returns at once
 * and the API reports VK_ERROR_DEVICE_LOST.
 */
#ifndef VN_TRANSPORT_H
#define VN_TRANSPORT_H

#include "vn_common.h"

#include <sys/types.h>

#include "transport/vw_capset.h"

struct vw_vtest_client;

/* A blob resource mapped into the guest. */
struct vn_shm {
   uint32_t res_id;
   void *ptr;
   size_t size;
};

/* The blob resource of a VkDeviceMemory payload (blob_id = the id of the
 * memory that created it), shared by that memory and every memory that
 * imported it: refcounted, the resource is dropped with the last reference.
 * A SHAREABLE blob keeps the fd the server sent, so that exports can hand
 * out dups of it and imports can recognise it (st_dev/st_ino); those blobs
 * sit on the transport's list. Immutable after creation except refs/next. */
struct vn_blob {
   atomic_int refs;
   uint32_t res_id;
   int fd;       /* the server's fd; -1 unless SHAREABLE */
   dev_t st_dev; /* identity of fd */
   ino_t st_ino;
   void *ptr;    /* mapping of the whole blob; NULL unless MAPPABLE */
   bool dma_buf; /* fd is a host dma-buf (memory exported as DMA_BUF) */
   size_t size;
   struct vn_blob *next; /* in transport->shared_blobs, under blob_mutex */
};

struct vn_transport {
   struct vw_vtest_client *client;
   struct vw_capset capset;
   uint32_t max_timelines;
   atomic_bool lost;
   /* a vtest sync used to probe the server and to order teardown */
   uint32_t probe_sync;
   atomic_uint_fast64_t probe_value;
   /* protects shared_blobs, blob refcounts reaching zero, and the lazy
    * creation of a memory's blob (vn_device_memory::blob) */
   mtx_t blob_mutex;
   struct vn_blob *shared_blobs; /* SHAREABLE blobs: what may be imported */
};

VkResult
vn_transport_create(struct vn_transport **out_transport);
void
vn_transport_destroy(struct vn_transport *transport);

/* Marks the transport lost (logs `why` once). */
void
vn_transport_set_lost(struct vn_transport *transport, const char *why);

static inline bool
vn_transport_is_lost(const struct vn_transport *transport)
{
   return atomic_load_explicit(&transport->lost, memory_order_acquire);
}

/* Host shared memory (HOST3D, MAPPABLE, blob_id 0), zero-filled. */
bool
vn_transport_shm_create(struct vn_transport *transport, size_t size, struct vn_shm *out_shm);
void
vn_transport_shm_destroy(struct vn_transport *transport, struct vn_shm *shm);

/* Blob of a VkDeviceMemory (blob_id = its id, flags VCMD_BLOB_FLAG_*): mapped
 * read/write when MAPPABLE; its fd kept and the blob listed for imports when
 * SHAREABLE. Returns one reference; NULL (logged) on failure. The caller
 * holds blob_mutex. */
struct vn_blob *
vn_transport_blob_create_locked(struct vn_transport *transport,
                                uint64_t blob_id,
                                size_t size,
                                uint32_t flags);
/* The SHAREABLE blob whose fd is the same file as `fd`, with a new
 * reference; NULL when `fd` was not exported through this connection. */
struct vn_blob *
vn_transport_blob_lookup_fd(struct vn_transport *transport, int fd);
static inline void
vn_blob_ref(struct vn_blob *blob)
{
   atomic_fetch_add_explicit(&blob->refs, 1, memory_order_relaxed);
}
/* Drops a reference; the last one unmaps, closes and unreferences the
 * resource. Returns true when the resource was dropped. Caller holds
 * blob_mutex. */
bool
vn_transport_blob_unref_locked(struct vn_transport *transport, struct vn_blob *blob);

/* Sends a Venus stream on the context path (timeline 0, no syncs). */
bool
vn_transport_submit(struct vn_transport *transport, const void *cmd, size_t size);

/* Sends `cmd` (may be empty) on the context path with a fence on timeline
 * ring_idx that sets vtest sync `sync_id` to `value` when it retires, and
 * returns the eventfd of a SYNC_WAIT for that value (the server keeps the
 * wait timeout_ms; above INT32_MAX, for ever), or -1 (and lost). */
int
vn_transport_submit_sync_fd(struct vn_transport *transport,
                            const void *cmd,
                            size_t size,
                            uint32_t ring_idx,
                            uint32_t sync_id,
                            uint64_t value,
                            uint32_t timeout_ms);

/* Sends `cmd` (may be empty) on the context path with a fence on timeline
 * ring_idx and waits, at most timeout_ms, for it to retire. */
bool
vn_transport_submit_wait(struct vn_transport *transport,
                         const void *cmd,
                         size_t size,
                         uint32_t ring_idx,
                         int timeout_ms);

/* Asks the server something small: false (and lost) if it is gone. */
bool
vn_transport_probe(struct vn_transport *transport);

/* wire format 0: virglrenderer 0.10.x (command-types.md "Wire format 0") */
static inline bool
vn_transport_is_wire0(const struct vn_transport *transport)
{
   return transport->capset.wire_format_version == 0;
}

#endif
