/*
 * Messages between the VMM library (in QEMU's process) and one worker
 * process (venus-vmm-worker, one per Venus context), over a SOCK_SEQPACKET
 * socket: one message per packet, at most one fd attached. Both ends are
 * built together, so there is no versioning.
 *
 * Requests are handled strictly in order. Only VMM_REQ_CAPSET,
 * VMM_REQ_CONTEXT_INIT and VMM_REQ_BLOB_CREATE are answered (struct
 * vmm_reply); everything else is one-way, so QEMU never waits for a command
 * stream to be decoded.
 *
 * Fences do not travel over the socket: the worker owns a shared page
 * (struct vmm_fence_page, sent with the CONTEXT_INIT reply) where it stores,
 * per timeline, the last retired fence id + 1; the library's
 * virgl_renderer_poll() reads it (no system call per fence, nothing to
 * drain, no way for a busy guest to fill a socket buffer).
 */
#ifndef VMM_PROTO_H
#define VMM_PROTO_H

#include <stdatomic.h>
#include <stdint.h>

#define VMM_MAX_TIMELINES 64
/* streams up to this size travel inline; larger ones in a sealed memfd */
#define VMM_INLINE_SUBMIT_BYTES (64u << 10)
/* largest context-path stream the library forwards */
#define VMM_MAX_SUBMIT_BYTES (64u << 20)
#define VMM_DEBUG_NAME_LEN 64
#define VMM_CAPSET_MAX_BYTES 1024

enum vmm_req_type {
   VMM_REQ_CAPSET = 1,       /* capset_id, version -> reply + capset bytes */
   VMM_REQ_CONTEXT_INIT,     /* ctx_id, name -> reply + fence page fd */
   VMM_REQ_SUBMIT,           /* inline stream follows the header */
   VMM_REQ_SUBMIT_FD,        /* stream in the attached memfd, `size` bytes */
   VMM_REQ_FENCE,            /* ring_idx, fence_id */
   VMM_REQ_BLOB_CREATE,      /* -> reply + fd */
   VMM_REQ_RESOURCE_UNREF,   /* res_id */
};

struct vmm_req_header {
   uint32_t type;
   uint32_t size; /* SUBMIT(_FD): stream bytes */
};

struct vmm_req_capset {
   struct vmm_req_header hdr;
   uint32_t capset_id;
   uint32_t version;
};

struct vmm_req_context_init {
   struct vmm_req_header hdr;
   uint32_t ctx_id;
   char name[VMM_DEBUG_NAME_LEN]; /* NUL-terminated, printable */
};

struct vmm_req_fence {
   struct vmm_req_header hdr;
   uint32_t ring_idx;
   uint64_t fence_id;
};

struct vmm_req_blob_create {
   struct vmm_req_header hdr;
   uint32_t res_id;
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint64_t blob_id;
   uint64_t size;
};

struct vmm_req_resource_unref {
   struct vmm_req_header hdr;
   uint32_t res_id;
};

struct vmm_reply {
   uint32_t type;   /* the request's */
   int32_t result;  /* 0 or a negative errno */
   uint32_t size;   /* CAPSET: bytes that follow */
   uint32_t map_info; /* BLOB_CREATE: VIRGL_RENDERER_MAP_CACHE_* */
};

/* Written by the worker, read by the library. */
struct vmm_fence_page {
   /* nonzero once the context is fatal: every fence counts as retired */
   _Atomic uint32_t fatal;
   uint32_t reserved;
   /* per timeline: last retired fence id + 1 (0: none yet) */
   _Atomic uint64_t retired[VMM_MAX_TIMELINES];
};

#endif
