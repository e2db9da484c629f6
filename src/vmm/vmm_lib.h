/*
 * The VMM library's internals (libvirglrenderer.so.1 in <libdir>/venus).
 * QEMU calls the virglrenderer API (virglrenderer.h) on its main thread, with
 * its big lock held; this library has no threads and no locks. It only
 * relays: each Venus context lives in a worker process (venus-vmm-worker,
 * vmm_worker_main.c) that runs our renderer; QEMU's process holds the
 * resource table, the mappings of host-visible memory (the worker's memfds,
 * so the guest sees the very pages the host driver uses), the fence
 * bookkeeping, and the 2D resources of the guest's framebuffer console.
 *
 *   vmm_api.c      init, cleanup, reset, poll; the resource table; capsets
 *   vmm_context.c  contexts, submissions, fences, blob resources
 *   vmm_2d.c       2D resources (create, backing, transfers, info, cursor)
 */
#ifndef VMM_LIB_H
#define VMM_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "util/vu_idmap.h"
#include "worker/vwk_worker.h"

#include "virglrenderer.h"
#include "vmm_proto.h"

#define VMM_CAPSET_ID_VENUS 4
/* live Venus contexts (each one a process) */
#define VMM_MAX_CONTEXTS 256u
/* how long QEMU waits for a worker's answer before giving the context up */
#define VMM_REPLY_TIMEOUT_MS 60000
/* largest blob the library maps into QEMU */
#define VMM_MAX_BLOB_BYTES (64ull << 30)
/* 2D resources: dimensions and the total of their host-side copies */
#define VMM_MAX_2D_DIMENSION 16384u
#define VMM_MAX_2D_TOTAL_BYTES (1ull << 30)

enum vmm_resource_kind {
   VMM_RESOURCE_BLOB,
   VMM_RESOURCE_2D,
};

struct vmm_resource {
   uint32_t id;
   enum vmm_resource_kind kind;

   /* blobs */
   uint32_t ctx_id; /* the context that created it */
   uint64_t ctx_serial; /* ... and its serial (context ids are reused) */
   int fd;          /* the worker's memfd (or opaque fd) */
   uint64_t size;
   uint32_t map_info;
   void *map; /* QEMU's mapping while the guest has it mapped */

   /* 2D: a host-side copy the guest fills with transfers */
   uint32_t format;
   uint32_t flags;
   uint32_t width;
   uint32_t height;
   uint32_t stride;
   uint8_t *pixels;
   struct iovec *iov; /* the guest backing (QEMU's array, returned on detach) */
   int iov_count;
};

struct vmm_context {
   uint32_t id;
   uint64_t serial; /* unique in this process */
   char name[VMM_DEBUG_NAME_LEN];
   struct vwk_process proc;
   const struct vmm_fence_page *page;
   /* fatal in the renderer or the worker is gone: fences signal at once */
   bool is_lost;
   /* per timeline: last fence id + 1 created / reported to QEMU */
   uint64_t submitted[VMM_MAX_TIMELINES];
   uint64_t delivered[VMM_MAX_TIMELINES];
   uint64_t pending_mask; /* timelines with submitted != delivered */
};

/* A worker whose context is gone: reaped when it ends, killed when it has
 * not ended by kill_at_ns (stuck in a host call that never returns). */
struct vmm_exiting_worker {
   pid_t pid;
   uint64_t kill_at_ns; /* 0 once killed */
};

/* a fence of a destroyed context, signalled at the next poll */
struct vmm_orphan_fence {
   uint32_t ctx_id;
   uint32_t ring_idx;
   uint64_t fence_id;
};

struct vmm_state {
   bool is_inited;
   void *cookie;
   const struct virgl_renderer_callbacks *cbs;
   int flags;

   struct vu_idmap contexts;  /* ctx_id -> struct vmm_context * */
   uint32_t context_count;
   uint64_t next_context_serial;
   struct vu_idmap resources; /* res_id -> struct vmm_resource * */
   uint64_t bytes_2d;

   bool has_ctx0_fence; /* a virgl_renderer_create_fence to report */
   uint32_t ctx0_fence;

   struct vmm_orphan_fence *orphans;
   uint32_t orphan_count;
   uint32_t orphan_cap;

   struct vmm_exiting_worker *exiting; /* workers told to end, not reaped yet */
   uint32_t exiting_count;
   uint32_t exiting_cap;

   bool has_capset; /* probed (successfully or not) */
   uint32_t capset_size;
   uint8_t capset[VMM_CAPSET_MAX_BYTES];
   bool has_refused_virgl; /* logged the first refused non-Venus context */
};

extern struct vmm_state vmm;

struct vmm_resource *
vmm_resource_lookup(uint32_t res_id, enum vmm_resource_kind kind);
bool
vmm_resource_insert(struct vmm_resource *res);
void
vmm_resource_free(struct vmm_resource *res);

/* vmm_context.c */
bool
vmm_worker_start(struct vwk_process *out);
void
vmm_worker_forget(struct vwk_process *proc);
struct vmm_context *
vmm_context_lookup(uint32_t ctx_id);
void
vmm_context_free(struct vmm_context *ctx, bool signal_fences);
void
vmm_contexts_poll(void);
void
vmm_blob_forget(struct vmm_resource *res);
void
vmm_reap_workers(bool block);

#endif
