/*
 * A lock biased to the one thread that takes it almost always: the driver's
 * ring lock, which an application's recording thread takes and gives once
 * per command. vu_lock costs an atomic read-modify-write for each, and on
 * x86 each of those waits until every earlier store of the thread is
 * visible: there, the command just written into the ring, whose cache lines
 * the renderer's ring thread on another CPU last read. Twice per command
 * that put the renderer's round trip for those lines into the application's
 * time (bench/README.md, issue 13 round 23).
 *
 * Once one thread has taken the lock VU_BIAS_LOCK_RUN times in a row it
 * becomes the owner: it takes and gives the lock with plain stores and one
 * load (owner_in, revoked). Any other thread takes `lock`, sets `revoked`
 * and calls membarrier(2) (MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes
 * every thread of the process pass a full memory barrier: afterwards either
 * the owner sees `revoked` and backs off to `lock`, or its owner_in is
 * visible and the other thread waits for it to drop. After
 * VU_BIAS_LOCK_FOREIGN takes by other threads the bias ends for good (a
 * membarrier each is dear), and the lock is a vu_lock with a load in front.
 * Without membarrier the lock is never biased.
 *
 * Not recursive; zero-initialised means free and unbiased.
 */
#ifndef VU_BIAS_LOCK_H
#define VU_BIAS_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/vu_os.h"

/* takes in a row by one thread before it becomes the owner */
#define VU_BIAS_LOCK_RUN 1024u
/* takes by other threads after which the bias ends */
#define VU_BIAS_LOCK_FOREIGN 256u
/* `owner` once the bias has ended */
#define VU_BIAS_LOCK_OFF UINTPTR_MAX

struct vu_bias_lock {
   struct vu_lock lock;      /* what every thread but an unrevoked owner takes */
   _Atomic uintptr_t owner;  /* the owner's vu_bias_lock_key, 0 none yet, or OFF */
   _Atomic uint32_t owner_in; /* the owner holds the lock without `lock` (owner writes) */
   _Atomic uint32_t revoked;  /* a holder of `lock` keeps the owner out (OFF: for good) */
   /* the holder's */
   bool held_fast;  /* taken without `lock` */
   bool revoking;   /* set `revoked`, to clear at the give */
   uintptr_t run_key; /* the last thread to take `lock`, and its takes in a row */
   uint32_t run;
   uint32_t foreign; /* takes by other threads than the owner */
};

#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
#define VU_BIAS_LOCK_THREAD_POINTER 1
#endif
#endif

/* this thread's key: unique among live threads. The thread pointer (one
 * register read; glibc's pthread_self is the same value behind a call
 * through the PLT, taken four times per create + destroy) where the
 * compiler offers it. */
static inline uintptr_t
vu_bias_lock_key(void)
{
#ifdef VU_BIAS_LOCK_THREAD_POINTER
   return (uintptr_t)__builtin_thread_pointer();
#else
   return (uintptr_t)pthread_self();
#endif
}

void
vu_bias_lock_take_slow(struct vu_bias_lock *l, uintptr_t key);
void
vu_bias_lock_give_slow(struct vu_bias_lock *l);

static inline void
vu_bias_lock_take(struct vu_bias_lock *l)
{
   const uintptr_t key = vu_bias_lock_key();
   if (atomic_load_explicit(&l->owner, memory_order_relaxed) == key) {
      atomic_store_explicit(&l->owner_in, 1, memory_order_relaxed);
      /* a compiler barrier only: the store may become visible after the
       * load below, which the other side's membarrier accounts for */
      atomic_signal_fence(memory_order_seq_cst);
      if (!atomic_load_explicit(&l->revoked, memory_order_acquire)) {
         l->held_fast = true;
         return;
      }
      atomic_store_explicit(&l->owner_in, 0, memory_order_release);
   }
   vu_bias_lock_take_slow(l, key);
}

static inline void
vu_bias_lock_give(struct vu_bias_lock *l)
{
   if (l->held_fast) {
      l->held_fast = false;
      atomic_store_explicit(&l->owner_in, 0, memory_order_release);
      return;
   }
   vu_bias_lock_give_slow(l);
}

/* whether the lock is biased to the calling thread (tests) */
static inline bool
vu_bias_lock_owned(const struct vu_bias_lock *l)
{
   return atomic_load_explicit(&l->owner, memory_order_relaxed) == vu_bias_lock_key();
}

#endif
