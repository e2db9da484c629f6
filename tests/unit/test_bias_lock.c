/*
 * Unit tests for the biased lock: a thread that takes it often becomes its
 * owner, other threads still exclude the owner (and each other) when they
 * take it, and after enough takes by others the bias ends for good.
 * Mutual exclusion is checked with a counter that is not atomic and a flag
 * that says someone is inside: a lost update or an overlap fails the test.
 */
#include "harness.h"

#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

#include "util/vu_bias_lock.h"

static struct vu_bias_lock lock;
static uint64_t counter; /* only under the lock */
static _Atomic int inside;
static _Atomic int overlaps;

static void
locked_increment(void)
{
   vu_bias_lock_take(&lock);
   if (atomic_fetch_add_explicit(&inside, 1, memory_order_relaxed))
      atomic_fetch_add(&overlaps, 1);
   /* a read-modify-write in pieces, so that two holders lose updates */
   const uint64_t v = counter;
   for (volatile int i = 0; i < 64; i++)
      ;
   counter = v + 1;
   atomic_fetch_sub_explicit(&inside, 1, memory_order_relaxed);
   vu_bias_lock_give(&lock);
}

struct worker {
   uint32_t takes;
   uint32_t every_ns; /* 0: back to back */
};

static _Atomic int workers_done;

static int
worker_main(void *arg)
{
   const struct worker *w = arg;
   for (uint32_t i = 0; i < w->takes; i++) {
      locked_increment();
      if (w->every_ns)
         thrd_sleep(&(struct timespec){ .tv_nsec = w->every_ns }, NULL);
   }
   atomic_fetch_add(&workers_done, 1);
   return 0;
}

/* The calling thread takes the lock back to back until `n` workers are done
 * (at most 10 s: an owner that never yields starves them); its takes. */
static uint64_t
take_until_workers_done(int n)
{
   const uint64_t start = vu_os_time_ns();
   uint64_t takes = 0;
   while (atomic_load(&workers_done) < n && vu_os_time_ns() - start < 10000000000ull) {
      locked_increment();
      takes++;
   }
   return takes;
}

static bool
membarrier_available(void)
{
   const char *perf = getenv("VENUS_PERF");
   if (perf && strstr(perf, "no_bias_lock"))
      return false;
   const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
   return cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

static void
reset(void)
{
   lock = (struct vu_bias_lock){ 0 };
   counter = 0;
   atomic_store(&overlaps, 0);
   atomic_store(&workers_done, 0);
}

TEST(owner_after_a_run)
{
   reset();
   for (uint32_t i = 0; i < VU_BIAS_LOCK_RUN - 1; i++)
      locked_increment();
   CHECK(!vu_bias_lock_owned(&lock));
   locked_increment();
   if (!membarrier_available()) {
      fprintf(stderr, "no membarrier (or VENUS_PERF=no_bias_lock): never biased\n");
      CHECK(!vu_bias_lock_owned(&lock));
      return;
   }
   CHECK(vu_bias_lock_owned(&lock));
   /* the owner's takes leave `lock` alone */
   for (uint32_t i = 0; i < 1000; i++) {
      vu_bias_lock_take(&lock);
      CHECK(lock.held_fast);
      CHECK_EQ(atomic_load(&lock.lock.state), 0);
      vu_bias_lock_give(&lock);
   }
   CHECK_EQ(counter, VU_BIAS_LOCK_RUN);
}

/* From a fresh lock biased to the calling thread (where membarrier
 * allows): `n` threads take it `takes` times each while this thread takes it
 * back to back; checks exclusion and the count. Whether it was biased. */
static bool
contend(int n, uint32_t takes)
{
   reset();
   for (uint32_t i = 0; i < VU_BIAS_LOCK_RUN; i++)
      locked_increment();
   const bool biased = vu_bias_lock_owned(&lock);
   struct worker others = { .takes = takes, .every_ns = 0 };
   thrd_t t[4];
   for (int i = 0; i < n; i++)
      CHECK_EQ(thrd_create(&t[i], worker_main, &others), thrd_success);
   const uint64_t mine = take_until_workers_done(n);
   CHECK_EQ(atomic_load(&workers_done), n);
   for (int i = 0; i < n; i++)
      thrd_join(t[i], NULL);
   CHECK_EQ(atomic_load(&overlaps), 0);
   CHECK_EQ(counter, (uint64_t)VU_BIAS_LOCK_RUN + mine + (uint64_t)n * takes);
   return biased;
}

/* The owner takes the lock back to back while three threads take it too:
 * they get their turns (the owner backs off), every update counts and
 * nobody was ever inside with another; 180 takes by others leave the bias. */
static void
owner_and_others_round(void)
{
   const bool biased = contend(3, 60);
   CHECK_EQ(vu_bias_lock_owned(&lock), biased);
}

/* (several rounds: a lock whose owner ignored the others might get through
 * one by chance) */
TEST(owner_and_others_exclude_each_other)
{
   for (int round = 0; round < 4; round++)
      owner_and_others_round();
}

/* Past VU_BIAS_LOCK_FOREIGN takes by others the bias ends, with the old
 * owner still taking it: exclusion holds across the change and after it. */
TEST(bias_ends_after_many_foreign_takes)
{
   const bool biased = contend(2, VU_BIAS_LOCK_FOREIGN);
   if (biased)
      CHECK(atomic_load(&lock.owner) == VU_BIAS_LOCK_OFF);
   CHECK(!vu_bias_lock_owned(&lock));
   /* and it still excludes */
   for (uint32_t i = 0; i < 1000; i++) {
      vu_bias_lock_take(&lock);
      CHECK(!lock.held_fast);
      vu_bias_lock_give(&lock);
   }
}

/* Threads that take turns never make one of them the owner. */
TEST(no_owner_without_a_run)
{
   reset();
   struct worker w = { .takes = 20000, .every_ns = 0 };
   thrd_t t[4];
   for (int i = 0; i < 4; i++)
      CHECK_EQ(thrd_create(&t[i], worker_main, &w), thrd_success);
   for (int i = 0; i < 4; i++)
      thrd_join(t[i], NULL);
   CHECK_EQ(atomic_load(&overlaps), 0);
   CHECK_EQ(counter, 4 * (uint64_t)w.takes);
}

RUN_TESTS(owner_after_a_run, owner_and_others_exclude_each_other,
          bias_ends_after_many_foreign_takes, no_owner_without_a_run)
