/*
 * Shared-memory ring layout (transport.md §C). One producer (driver), one
 * consumer (renderer ring thread). head/tail are free-running byte counters.
 */
#ifndef VW_RING_H
#define VW_RING_H

#include <stdint.h>

#define VW_RING_STATUS_IDLE 0x1u  /* VK_RING_STATUS_IDLE_BIT_MESA */
#define VW_RING_STATUS_FATAL 0x2u /* VK_RING_STATUS_FATAL_BIT_MESA */
#define VW_RING_STATUS_ALIVE 0x4u /* VK_RING_STATUS_ALIVE_BIT_MESA */

#define VW_RING_MAX_BUFFER_SIZE (16u << 20)

/* The layout we use: each control word on its own cache line, the buffer on
 * a page of its own (so that the renderer can map it twice, back to back,
 * and read a batch that wraps in place), the extra region after it. Mesa's
 * puts the buffer right after the control lines. */
#define VW_RING_HEAD_OFFSET 0x00u
#define VW_RING_TAIL_OFFSET 0x40u
#define VW_RING_STATUS_OFFSET 0x80u
#define VW_RING_BUFFER_OFFSET 0x1000u
#define VW_RING_MESA_BUFFER_OFFSET 0xc0u
/* the rest of the head's cache line, unused by the ring itself: our driver
 * points the replies of small calls there (vn_ring_reply_reserve), so that
 * the renderer's head store and the reply reach it in one line */
#define VW_RING_HEAD_REPLY_OFFSET 0x08u
#define VW_RING_HEAD_REPLY_SIZE 0x38u
#define VW_RING_EXTRA_SIZE 64u /* extra region after the buffer */

/* Our private, Mesa-compatible conventions in the extra region (Mesa's is 4
 * bytes and never written, so neither word is ever set with Mesa):
 * offset 0: "waiter present", set by the driver before it futex-waits on
 *           the head word; the renderer then wakes the head after storing it.
 * offset 4: "consumer sleeping", set by the renderer's ring thread before a
 *           futex wait on the tail word (needs an extra region of >= 8
 *           bytes); the driver then wakes the tail after storing it.
 * offset 8: "head wanted", the number of driver threads waiting for the
 *           head to reach a seqno (spinning or asleep).
 * offset 12: flags the driver stores before vkCreateRingMESA (the renderer
 *           reads them once). VW_RING_FLAG_LAZY_HEAD: the driver counts
 *           every seqno wait at offset 8, so the renderer may leave the
 *           head behind inside a run of cheap commands while that count is
 *           0 (the driver then waits only for room in the ring).
 *           VW_RING_FLAG_EARLY_WAIT_END: the driver takes VK_TIMEOUT from a
 *           host wait (vkWaitForFences, vkWaitSemaphores) with a reply as
 *           the end of a slice and checks and waits again, so the renderer
 *           may end such a wait early when commands wait behind it in the
 *           ring (another thread's vkSignalSemaphore the awaited work
 *           depends on). A wait without a reply is a barrier: never. */
#define VW_RING_EXTRA_WAITERS 0u
#define VW_RING_EXTRA_SLEEPING 4u
#define VW_RING_EXTRA_HEAD_WANTED 8u
#define VW_RING_EXTRA_FLAGS 12u
#define VW_RING_FLAG_LAZY_HEAD 0x1u
#define VW_RING_FLAG_EARLY_WAIT_END 0x2u

static inline uint32_t
vw_ring_total_size(uint32_t buffer_size)
{
   return VW_RING_BUFFER_OFFSET + buffer_size + VW_RING_EXTRA_SIZE;
}

/* seqno a is at or past b (wrap-aware) */
static inline int
vw_ring_seqno_passed(uint32_t a, uint32_t b)
{
   return (uint32_t)(a - b) <= INT32_MAX;
}

#endif
