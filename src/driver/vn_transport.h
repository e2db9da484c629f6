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

#include "transport/vw_capset.h"

struct vw_vtest_client;

/* A blob resource mapped into the guest. */
struct vn_shm {
   uint32_t res_id;
   void *ptr;
   size_t size;
};

struct vn_transport {
   struct vw_vtest_client *client;
   struct vw_capset capset;
   uint32_t max_timelines;
   atomic_bool lost;
   /* a vtest sync used to probe the server and to order teardown */
   uint32_t probe_sync;
   atomic_uint_fast64_t probe_value;
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
/* Blob of a VkDeviceMemory (blob_id = its id), mapped read/write. */
bool
vn_transport_blob_map(struct vn_transport *transport,
                      uint64_t blob_id,
                      size_t size,
                      uint32_t flags,
                      struct vn_shm *out_shm);
void
vn_transport_shm_destroy(struct vn_transport *transport, struct vn_shm *shm);

/* Sends a Venus stream on the context path (timeline 0, no syncs). */
bool
vn_transport_submit(struct vn_transport *transport, const void *cmd, size_t size);

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
