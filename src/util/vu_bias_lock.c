/*
 * vu_bias_lock's slow paths (the header says how the lock works).
 */
#include "vu_bias_lock.h"

#include "vu_log.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

static bool vu_membarrier_ok;
static once_flag vu_membarrier_once = ONCE_FLAG_INIT;

static long
vu_membarrier(int cmd)
{
   return syscall(SYS_membarrier, cmd, 0, 0);
}

static void
vu_membarrier_init(void)
{
   /* (a sandbox that kills a process for membarrier: VENUS_PERF=no_bias_lock) */
   if (VU_PERF(NO_BIAS_LOCK))
      return;
   const long cmds = vu_membarrier(MEMBARRIER_CMD_QUERY);
   vu_membarrier_ok = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                      vu_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

/* whether a biased lock can be revoked here (membarrier registered) */
static bool
vu_membarrier_ready(void)
{
   call_once(&vu_membarrier_once, vu_membarrier_init);
   return vu_membarrier_ok;
}

/* until the owner has left (it may hold the lock through a long wait) */
static void
vu_bias_lock_wait_owner(struct vu_bias_lock *l)
{
   for (uint32_t iter = 0; atomic_load_explicit(&l->owner_in, memory_order_acquire);)
      iter = vu_os_relax(iter, 20);
}

void
vu_bias_lock_take_slow(struct vu_bias_lock *l, uintptr_t key)
{
   vu_lock_take(&l->lock);
   const uintptr_t owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
   if (owner && owner != key && owner != VU_BIAS_LOCK_OFF) {
      /* keep the owner out: after the barrier it sees `revoked`, or we see
       * its owner_in (until it drops, the owner's fields are its own) */
      atomic_store_explicit(&l->revoked, 1, memory_order_relaxed);
      vu_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
      vu_bias_lock_wait_owner(l);
      if (++l->foreign >= VU_BIAS_LOCK_FOREIGN) {
         /* for good: `revoked` stays set, so a stale owner backs off */
         atomic_store_explicit(&l->owner, VU_BIAS_LOCK_OFF, memory_order_relaxed);
      } else {
         l->revoking = true;
      }
   } else if (!owner) {
      /* no owner yet, so nobody holds the lock without `lock` */
      if (key != l->run_key) {
         l->run_key = key;
         l->run = 0;
      }
      if (++l->run >= VU_BIAS_LOCK_RUN && vu_membarrier_ready())
         atomic_store_explicit(&l->owner, key, memory_order_relaxed);
   }
   /* (the owner here was revoked, and its revoker has given `lock`) */
   l->held_fast = false;
}

void
vu_bias_lock_give_slow(struct vu_bias_lock *l)
{
   if (l->revoking) {
      l->revoking = false;
      atomic_store_explicit(&l->revoked, 0, memory_order_release);
   }
   vu_lock_give(&l->lock);
}
