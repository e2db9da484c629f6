/*
 * vtest syncs: 64-bit timeline counters that stand in for DRM sync objects
 * (transport.md §A.5), the eventfd-based waits on them, and the per-timeline
 * queues of fence submissions whose retirement writes sync values (§A.6, §F).
 *
 * Everything here belongs to one worker and runs on its main thread; there is
 * no locking. Syncs are reference counted: the id table holds one reference,
 * and every pending wait or fence submission that names a sync holds another,
 * so an unref'd sync can still be signalled by a fence queued before the unref
 * and still satisfy a wait created before it (as upstream vtest does).
 */
#ifndef VTEST_SYNC_H
#define VTEST_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/vu_idmap.h"
#include "transport/vw_vtest.h"

/* Caps on what one client can make the worker hold; beyond them the request
 * fails and the client is dropped. */
#define VTEST_MAX_SYNCS (1u << 16)
#define VTEST_MAX_SYNC_WAITS 4096u
#define VTEST_MAX_PENDING_FENCES (1u << 16)

struct vtest_sync_wait;
struct vtest_fence_submit;

struct vtest_fence_queue {
   struct vtest_fence_submit *head; /* oldest first */
   struct vtest_fence_submit *tail;
};

struct vtest_syncs {
   struct vu_idmap table; /* sync id -> struct vtest_sync *, one reference each */
   uint32_t next_id;      /* ids count from 1 and are never reused */
   uint32_t live_count;   /* syncs still allocated (in the table or referenced) */

   struct vtest_sync_wait *waits; /* pending waits, unordered */
   uint32_t wait_count;

   struct vtest_fence_queue timelines[VTEST_MAX_TIMELINE_COUNT];
   uint32_t pending_fences;
   uint64_t next_fence_id;
};

void vtest_syncs_init(struct vtest_syncs *syncs);

/* Frees every sync, wait (closing its eventfd without signalling) and pending
 * fence submission. */
void vtest_syncs_fini(struct vtest_syncs *syncs);

bool vtest_syncs_create(struct vtest_syncs *syncs, uint64_t value, uint32_t *out_id);

bool vtest_syncs_unref(struct vtest_syncs *syncs, uint32_t id);

bool vtest_syncs_read(const struct vtest_syncs *syncs, uint32_t id, uint64_t *out_value);

/* Sets the value; a larger value re-evaluates the pending waits. */
bool vtest_syncs_write(struct vtest_syncs *syncs, uint32_t id, uint64_t value);

/* true if every (sync_id, value_lo, value_hi) triple names a known sync */
bool vtest_syncs_check_triples(const struct vtest_syncs *syncs,
                               const uint32_t *triples,
                               uint32_t count);

/* Writes each triple's value to its sync, in order. The triples must have
 * passed vtest_syncs_check_triples(). */
void vtest_syncs_write_triples(struct vtest_syncs *syncs,
                               const uint32_t *triples,
                               uint32_t count);

/* Creates a wait (flags VCMD_SYNC_WAIT_FLAG_*, timeout_ms as on the wire) and
 * returns a new eventfd for the client, which the caller sends and closes; it
 * is already signalled if the wait is satisfied now. Returns -1 for an unknown
 * sync id, too many pending waits or a system error. */
int vtest_syncs_wait(struct vtest_syncs *syncs,
                     uint32_t flags,
                     uint32_t timeout_ms,
                     const uint32_t *triples,
                     uint32_t count);

/* Queues a fence submission on timeline ring_idx that will write the triples
 * when fence *out_fence_id retires. The triples must have passed
 * vtest_syncs_check_triples(). false when too many are pending or on OOM. */
bool vtest_syncs_queue_fence(struct vtest_syncs *syncs,
                             uint32_t ring_idx,
                             const uint32_t *triples,
                             uint32_t count,
                             uint64_t *out_fence_id);

/* Fence fence_id on timeline ring_idx retired: every submission on that
 * timeline up to and including it writes its syncs, oldest first. */
void vtest_syncs_retire_fence(struct vtest_syncs *syncs,
                              uint32_t ring_idx,
                              uint64_t fence_id);

/* Forgets the waits whose timeout has passed; returns the poll() timeout in
 * milliseconds until the next one expires, or -1 if none will. */
int vtest_syncs_expire_waits(struct vtest_syncs *syncs);

#endif
