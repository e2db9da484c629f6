/*
 * OS helpers: shared memory files, futex-style waits on 32-bit words in
 * shared memory, fd passing, monotonic time.
 */
#ifndef VU_OS_H
#define VU_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING) of `size` bytes; -1 on failure */
int
vu_os_create_shm(const char *name, size_t size);

/* mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), or NULL
 * (errno set). When every page of the file's range already exists (a host
 * driver pinned the memory), the mapping comes with its page tables filled
 * in, so that first touches take no page fault each, and *populated is set;
 * a file with pages still to allocate is mapped as it is, since filling in
 * would allocate memory that may never be used. */
void *
vu_os_map_shared(int fd, size_t size, bool *populated);

/* Wait while *addr == expected, at most timeout_ns (<0: forever). Works across
 * processes (shared futex). Returns false on timeout. A true return may be
 * spurious (or *addr already differed): callers recheck the word. Signals do
 * not end the wait early. */
bool
vu_os_futex_wait(const uint32_t *addr, uint32_t expected, int64_t timeout_ns);
/* Wake up to `count` waiters (INT32_MAX: all). */
void
vu_os_futex_wake(const uint32_t *addr, int count);

uint64_t
vu_os_time_ns(void); /* CLOCK_MONOTONIC */

/* A lock for short critical sections taken once or twice per command (the
 * renderer's object table, the driver's ring): 0 free, 1 held, 2 held with
 * sleepers (the three-state futex mutex of Drepper's "Futexes Are Tricky").
 * Taking and releasing a free lock is one atomic operation each, a fraction
 * of mtx_lock + mtx_unlock. Not recursive; zero-initialised means free. */
struct vu_lock {
   _Atomic uint32_t state;
};

void
vu_lock_wait(struct vu_lock *lock, uint32_t seen);
void
vu_lock_wake(struct vu_lock *lock);

static inline void
vu_lock_take(struct vu_lock *lock)
{
   uint32_t seen = 0;
   if (!atomic_compare_exchange_strong_explicit(&lock->state, &seen, 1, memory_order_acquire,
                                                memory_order_relaxed))
      vu_lock_wait(lock, seen);
}

static inline void
vu_lock_give(struct vu_lock *lock)
{
   if (atomic_fetch_sub_explicit(&lock->state, 1, memory_order_release) != 1)
      vu_lock_wake(lock);
}

/* Full-transfer helpers that retry on EINTR and short transfers. On failure
 * errno is set, or is 0 when read_full hit end of file (peer closed). On a
 * socket, write_full uses MSG_NOSIGNAL (EPIPE instead of SIGPIPE). */
bool
vu_os_read_full(int fd, void *buf, size_t size);
bool
vu_os_write_full(int fd, const void *buf, size_t size);

/* One fd as SCM_RIGHTS with a single dummy byte of value 0 (vtest
 * convention). recv_fd returns a close-on-exec fd, or -1 with errno 0 at end
 * of file, EBADMSG when the byte carried no fd or more than one (any received
 * fds are closed), or the recvmsg error. */
bool
vu_os_send_fd(int sock, int fd);
/* `size` bytes as one message, with `fd` as SCM_RIGHTS unless it is -1;
 * false (errno set; EMSGSIZE for a short send) unless all went. */
bool
vu_os_send_msg(int sock, const void *buf, size_t size, int fd);
int
vu_os_recv_fd(int sock); /* -1 on failure */

/* One step of a busy spin (the CPU's spin-wait hint). */
static inline void
vu_os_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
   __builtin_ia32_pause();
#elif defined(__aarch64__)
   __asm__ volatile("yield");
#endif
}

/* Backoff for polling loops: yields first, then sleeps with growing periods
 * (base_us doubling as in Venus' relax loop). Returns the next iteration.
 * Iterations 0..255 yield; iteration i >= 256 sleeps
 * base_sleep_us << (bit_length(i) - 9), at most 10 ms. Start with iter = 0. */
uint32_t
vu_os_relax(uint32_t iter, uint32_t base_sleep_us);

/* Whether a waiter may busy-spin for a short while before it sleeps: only
 * with at least 4 CPUs to run on (with fewer, a spinning thread takes the
 * time of the thread it waits for) and only when VENUS_PERF names it
 * (`which`: VU_PERF_SPIN_RING or VU_PERF_SPIN_WAIT; VENUS_PERF=spin sets
 * both). Opt-in: on an NVIDIA H200 the spins made submit + wait slower
 * (bench/README.md). `which` 0: only the CPU count matters. */
bool
vu_os_spin_allowed(uint32_t which);

#endif
