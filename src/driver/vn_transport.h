/*
 * The driver's transport: how the Venus stream and shared memory reach the
 * renderer. Two peers sit behind one small ops table, chosen once per
 * instance (vn_transport_create, docs/driver.md "Transports"):
 *
 *   virtio-gpu (vn_transport_virtgpu.c): the guest kernel's render node
 *     inside a VM (transport.md §E): CONTEXT_INIT, blob resources, EXECBUFFER
 *     with fence fds (kernel sync files), PRIME for external memory;
 *   vtest (vn_transport_vtest.c): virglrenderer's socket protocol
 *     (transport.md §A), to venus-server or virgl_test_server.
 *
 * The rest of the driver never asks which one it has. Once any exchange
 * fails, or the renderer reports a fatal context, the transport is lost for
 * good: every later wait returns at once and the API reports
 * VK_ERROR_DEVICE_LOST.
 */
#ifndef VN_TRANSPORT_H
#define VN_TRANSPORT_H

#include "vn_common.h"

#include <sys/types.h>

#include "transport/vw_capset.h"

struct vn_transport;

/* A blob resource mapped into the guest. */
struct vn_shm {
   uint32_t res_id;
   uint32_t handle; /* virtio-gpu GEM handle; 0 over vtest */
   void *ptr;
   size_t size;
};

/* The blob resource of a VkDeviceMemory payload (blob_id = the id of the
 * memory that created it), shared by that memory and every memory that
 * imported it: refcounted, the resource is dropped with the last reference.
 * Blobs that may be exported or were imported sit on the transport's list,
 * where imports find them again. Immutable after creation except refs/next. */
struct vn_blob {
   atomic_int refs;
   uint32_t res_id;
   uint32_t handle; /* virtio-gpu GEM handle; 0 over vtest */
   int fd;          /* vtest: the server's fd of a SHAREABLE blob; else -1 */
   dev_t st_dev;    /* vtest: identity of fd */
   ino_t st_ino;
   void *ptr;       /* mapping of the whole blob; NULL unless mappable */
   bool dma_buf;    /* exported as, or imported from, a dma-buf */
   size_t size;
   struct vn_blob *next; /* in transport->shared_blobs, under blob_mutex */
};

/* One transport's operations. Failures log one line; those that leave the
 * connection unusable also mark the transport lost. */
struct vn_transport_ops {
   const char *name;
   void (*destroy)(struct vn_transport *t);
   /* host shared memory: HOST3D, MAPPABLE, blob_id 0, size page-aligned */
   bool (*shm_create)(struct vn_transport *t, size_t size, struct vn_shm *out_shm);
   void (*shm_destroy)(struct vn_transport *t, struct vn_shm *shm);
   /* fills res_id, handle/fd and ptr (when MAPPABLE) of `blob` */
   bool (*blob_create)(struct vn_transport *t,
                       uint64_t blob_id,
                       uint32_t flags,
                       struct vn_blob *blob);
   /* the blob behind an fd (a listed one with a new reference, or a new
    * listed one); NULL when the fd cannot be imported. Holds blob_mutex. */
   struct vn_blob *(*blob_import_locked)(struct vn_transport *t, int fd);
   /* optional: a new listed blob over an fd blob_import_locked did not know
    * (memory of another instance or process), which the renderer receives:
    * dma_buf as the import's handle type, size the import's allocationSize
    * (used where the fd tells no size); NULL when refused. Holds
    * blob_mutex. */
   struct vn_blob *(*blob_import_foreign_locked)(struct vn_transport *t,
                                                 int fd,
                                                 bool dma_buf,
                                                 uint64_t size);
   /* a new fd for a blob on the list; -1 with errno set on failure */
   int (*blob_export)(struct vn_transport *t, const struct vn_blob *blob);
   /* unmaps and drops the resource (the blob is off the list) */
   void (*blob_destroy)(struct vn_transport *t, struct vn_blob *blob);
   /* a Venus stream on the context path (timeline 0, no fence asked for) */
   bool (*submit)(struct vn_transport *t, const void *cmd, size_t size);
   /* `cmd` (may be empty) with a fence on timeline ring_idx: returns an fd
    * that polls readable once the fence retires (a kernel sync file, or
    * over vtest the eventfd of a sync wait), or -1 (and lost) */
   int (*submit_fence_fd)(struct vn_transport *t,
                          const void *cmd,
                          size_t size,
                          uint32_t ring_idx);
   /* asks the other end something small: false (and lost) if it is gone */
   bool (*probe)(struct vn_transport *t);
};

struct vn_transport {
   const struct vn_transport_ops *ops;
   struct vw_capset capset;
   uint32_t max_timelines;
   /* the renderer can turn a device-memory blob back into a VkDeviceMemory
    * (VkImportMemoryResourceInfoMESA): what memory fd imports need */
   bool can_import_memory;
   /* ... also from an fd that another instance or process exported (a VM's
    * dma-bufs; over vtest VCMD_VENUS_RESOURCE_IMPORT_FD of our server):
    * without it OPAQUE_FD and DMA_BUF are not reported IMPORTABLE */
   bool can_import_foreign_memory;
   atomic_bool lost;
   /* protects shared_blobs, blob refcounts reaching zero, and the lazy
    * creation of a memory's blob (vn_device_memory::blob) */
   mtx_t blob_mutex;
   struct vn_blob *shared_blobs;
   /* vkSubmitVirtqueueSeqnoMESA values of this context, growing */
   atomic_uint_fast64_t virtqueue_seqno;
   /* the ring whose slot beside the head is the renderer's reply stream
    * after what the rings published, or NULL (vn_ring_cmd_begin_reply):
    * per context, since virglrenderer keeps one reply stream per context,
    * where ours keeps one per ring */
   _Atomic(const void *) reply_stream_ring;
};

/* Picks and opens the transport (docs/driver.md "Transports"): vtest when
 * asked for (VENUS_DEBUG=vtest or VTEST_SOCKET_NAME), else a Venus-capable
 * virtio-gpu render node, else a vtest server at the default socket.
 * VK_ERROR_INCOMPATIBLE_DRIVER, with one log line, when there is none. */
VkResult
vn_transport_create(struct vn_transport **out_transport);
void
vn_transport_destroy(struct vn_transport *transport);

/* For the transports: shared set-up and teardown of the base, and the
 * capset checks. */
void
vn_transport_init_base(struct vn_transport *transport, const struct vn_transport_ops *ops);
void
vn_transport_fini_base(struct vn_transport *transport);
bool
vn_transport_check_capset(const struct vw_capset *capset, const char *transport_name);
VkResult
vn_transport_vtest_create(struct vn_transport **out_transport);
/* VK_ERROR_INCOMPATIBLE_DRIVER (nothing logged, *out_why says why) when no
 * render node offers Venus; other errors are logged. */
VkResult
vn_transport_virtgpu_create(struct vn_transport **out_transport, char *out_why, size_t why_size);

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
 * read/write when MAPPABLE; listed for exports and imports when SHAREABLE.
 * Returns one reference; NULL (logged) on failure. The caller holds
 * blob_mutex. */
struct vn_blob *
vn_transport_blob_create_locked(struct vn_transport *transport,
                                uint64_t blob_id,
                                size_t size,
                                uint32_t flags);
/* The blob behind `fd` (an fd exported through this transport, or inside a
 * VM any dma-buf of the virtio-gpu device), with a new reference; NULL when
 * it cannot be imported. */
struct vn_blob *
vn_transport_blob_lookup_fd(struct vn_transport *transport, int fd);
/* The blob behind `fd` for a memory import: as vn_transport_blob_lookup_fd,
 * else (can_import_foreign_memory) a new blob the renderer made of the fd;
 * dma_buf: the import's handle type, size its allocationSize. NULL when it
 * cannot be imported. */
struct vn_blob *
vn_transport_blob_import_fd(struct vn_transport *transport,
                            int fd,
                            bool dma_buf,
                            uint64_t size);
/* A new fd (close-on-exec) for a SHAREABLE blob; -1 with errno set. */
int
vn_transport_blob_export_fd(struct vn_transport *transport, const struct vn_blob *blob);
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
 * ring_idx, and returns an fd that polls readable once the fence retires
 * (the caller closes it), or -1 (and lost). */
int
vn_transport_submit_fence_fd(struct vn_transport *transport,
                             const void *cmd,
                             size_t size,
                             uint32_t ring_idx);

/* Sends `cmd` (may be empty) on the context path with a fence on timeline
 * ring_idx and waits, at most timeout_ms, for it to retire. */
bool
vn_transport_submit_wait(struct vn_transport *transport,
                         const void *cmd,
                         size_t size,
                         uint32_t ring_idx,
                         int timeout_ms);

/* Asks the other end something small: false (and lost) if it is gone. */
bool
vn_transport_probe(struct vn_transport *transport);

/* wire format 0: virglrenderer 0.10.x (command-types.md "Wire format 0") */
static inline bool
vn_transport_is_wire0(const struct vn_transport *transport)
{
   return transport->capset.wire_format_version == 0;
}

#endif
