/*
 * OS helpers for Linux: memfd shared memory, process-shared futex waits (the
 * ring's words live in memory mapped by the guest driver and the renderer
 * worker, two processes, so the private futex variants would never wake the
 * peer), full-transfer read/write loops, SCM_RIGHTS fd passing and the
 * backoff used by polling loops.
 */
#include "vu_os.h"

#include "vu_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

/* vu_os_relax: yield for the first 2^8 iterations, then sleep */
#define VU_OS_RELAX_BUSY_ORDER 8
/* vu_os_relax: longest single sleep, so a waiter notices progress soon */
#define VU_OS_RELAX_MAX_SLEEP_US 10000u

int
vu_os_create_shm(const char *name, size_t size)
{
   if (size > (size_t)INT64_MAX) {
      errno = EINVAL;
      return -1;
   }

   const int fd =
      memfd_create(name ? name : "venus-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
   if (fd < 0)
      return -1;
   /* sealed against shrinking: whoever the fd reaches (a vtest client, a
    * compositor) cannot turn the renderer's reads of its mapping into
    * SIGBUS */
   if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
      const int err = errno;
      close(fd);
      errno = err;
      return -1;
   }
   return fd;
}

/* pages whose residency one mincore() call asks for (16 MiB of 4 KiB pages) */
#define VU_OS_RESIDENCY_CHUNK 4096u

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* whether every page of a mapping exists in the file it maps */
static bool
vu_os_resident(void *ptr, size_t size, size_t page)
{
   const size_t pages = size / page + (size % page != 0);
   unsigned char vec[VU_OS_RESIDENCY_CHUNK];
   for (size_t first = 0; first < pages; first += VU_OS_RESIDENCY_CHUNK) {
      const size_t n = pages - first < VU_OS_RESIDENCY_CHUNK ? pages - first
                                                              : VU_OS_RESIDENCY_CHUNK;
      if (mincore((uint8_t *)ptr + first * page, n * page, vec) < 0)
         return false;
      for (size_t i = 0; i < n; i++) {
         if (!(vec[i] & 1))
            return false;
      }
   }
   return true;
}

void *
vu_os_map_shared(int fd, size_t size, bool *populated)
{
   *populated = false;
   void *ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   if (ptr == MAP_FAILED)
      return NULL;
   const long page = sysconf(_SC_PAGESIZE);
   if (page <= 0 || !vu_os_resident(ptr, size, (size_t)page))
      return ptr;
   /* every page exists: this only fills the page tables */
   if (madvise(ptr, size, MADV_POPULATE_WRITE) == 0) {
      *populated = true;
      return ptr;
   }
   /* kernels before 5.14 (and gVisor) lack it: a second mapping, filled in
    * as it is made, replaces the first */
   void *filled = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
   if (filled == MAP_FAILED)
      return ptr;
   munmap(ptr, size);
   *populated = true;
   return filled;
}

void
vu_lock_wait(struct vu_lock *lock, uint32_t seen)
{
   /* say that someone sleeps (2) before sleeping; whoever finds it free
    * while doing so owns it, still marked 2, which costs at most one
    * needless wake */
   if (seen != 2)
      seen = atomic_exchange_explicit(&lock->state, 2, memory_order_acquire);
   while (seen) {
      vu_os_futex_wait((const uint32_t *)&lock->state, 2, -1);
      seen = atomic_exchange_explicit(&lock->state, 2, memory_order_acquire);
   }
}

void
vu_lock_wake(struct vu_lock *lock)
{
   atomic_store_explicit(&lock->state, 0, memory_order_release);
   vu_os_futex_wake((const uint32_t *)&lock->state, 1);
}

bool
vu_os_futex_wait(const uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
   /* FUTEX_WAIT takes a relative CLOCK_MONOTONIC timeout; keep an absolute
    * deadline so that a signal does not restart the full period */
   const uint64_t deadline = timeout_ns >= 0 ? vu_os_time_ns() + (uint64_t)timeout_ns : 0;

   for (;;) {
      struct timespec ts;
      struct timespec *tsp = NULL;
      if (timeout_ns >= 0) {
         const uint64_t now = vu_os_time_ns();
         const uint64_t left = now < deadline ? deadline - now : 0;
         ts.tv_sec = (time_t)(left / 1000000000u);
         ts.tv_nsec = (long)(left % 1000000000u);
         tsp = &ts;
      }

      /* the kernel only reads *addr for FUTEX_WAIT */
      const long ret =
         syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, expected, tsp, NULL, 0);
      if (ret == 0)
         return true; /* woken (possibly spuriously: callers recheck the word) */
      if (errno == EINTR)
         continue;
      /* EAGAIN: *addr != expected already */
      return errno != ETIMEDOUT;
   }
}

void
vu_os_futex_wake(const uint32_t *addr, int count)
{
   if (count <= 0)
      return;
   syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, count, NULL, NULL, 0);
}

uint64_t
vu_os_time_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool
vu_os_read_full(int fd, void *buf, size_t size)
{
   uint8_t *ptr = buf;
   while (size) {
      const ssize_t n = read(fd, ptr, size);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         return false;
      }
      if (n == 0) {
         errno = 0; /* end of file: see vu_os.h */
         return false;
      }
      ptr += n;
      size -= (size_t)n;
   }
   return true;
}

bool
vu_os_write_full(int fd, const void *buf, size_t size)
{
   const uint8_t *ptr = buf;
   /* send() with MSG_NOSIGNAL on sockets: a vanished peer gives EPIPE rather
    * than a SIGPIPE that would kill the server worker */
   bool is_socket = true;
   while (size) {
      const ssize_t n =
         is_socket ? send(fd, ptr, size, MSG_NOSIGNAL) : write(fd, ptr, size);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         if (errno == ENOTSOCK && is_socket) {
            is_socket = false;
            continue;
         }
         return false;
      }
      ptr += n;
      size -= (size_t)n;
   }
   return true;
}

bool
vu_os_send_msg(int sock, const void *buf, size_t size, int fd)
{
   struct iovec iov = { .iov_base = (void *)buf, .iov_len = size };
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
   } control;
   struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

   if (fd >= 0) {
      memset(&control, 0, sizeof(control));
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof(control.buf);
      struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
   }

   for (;;) {
      const ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
      if (n == (ssize_t)size)
         return true;
      if (n < 0 && errno == EINTR)
         continue;
      if (n >= 0)
         errno = EMSGSIZE; /* a short send: the message did not go whole */
      return false;
   }
}

bool
vu_os_send_fd(int sock, int fd)
{
   const uint8_t dummy = 0;
   return vu_os_send_msg(sock, &dummy, 1, fd);
}

/* Closes every fd carried by a message we are rejecting. */
static void
vu_os_close_received_fds(struct msghdr *msg)
{
   for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
         continue;
      const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
         int fd;
         memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
         close(fd);
      }
   }
}

int
vu_os_recv_fd(int sock)
{
   uint8_t dummy;
   struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
   } control;
   struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = control.buf,
      .msg_controllen = sizeof(control.buf),
   };

   ssize_t n;
   do {
      n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
   } while (n < 0 && errno == EINTR);
   if (n <= 0) {
      if (n == 0)
         errno = 0; /* end of file */
      return -1;
   }

   struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
   if ((msg.msg_flags & MSG_CTRUNC) || !cmsg || cmsg->cmsg_level != SOL_SOCKET ||
       cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
      vu_os_close_received_fds(&msg);
      errno = EBADMSG;
      return -1;
   }

   int fd;
   memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
   return fd;
}

/* number of bits needed to represent v (0 for 0) */
static inline uint32_t
vu_os_bit_length(uint32_t v)
{
   return v ? 32u - (uint32_t)__builtin_clz(v) : 0;
}

uint32_t
vu_os_relax(uint32_t iter, uint32_t base_sleep_us)
{
   if (iter < (1u << VU_OS_RELAX_BUSY_ORDER)) {
      thrd_yield();
      return iter + 1;
   }

   /* iterations [2^k, 2^(k+1)) sleep base << (k - 8): 256..511 sleep base */
   const uint32_t shift = vu_os_bit_length(iter) - (VU_OS_RELAX_BUSY_ORDER + 1);
   uint64_t sleep_us = (uint64_t)base_sleep_us << shift;
   if (sleep_us > VU_OS_RELAX_MAX_SLEEP_US)
      sleep_us = VU_OS_RELAX_MAX_SLEEP_US;

   const struct timespec ts = {
      .tv_sec = (time_t)(sleep_us / 1000000u),
      .tv_nsec = (long)(sleep_us % 1000000u) * 1000,
   };
   /* a signal only shortens one backoff step */
   clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);

   return iter < UINT32_MAX ? iter + 1 : iter;
}

/* busy spins need this many CPUs to run on */
#define VU_OS_SPIN_MIN_CPUS 4

bool
vu_os_spin_allowed(uint32_t which)
{
   /* 0: not known yet, 1: too few CPUs, 2: enough (racing first calls agree) */
   static atomic_int cpus;
   int v = atomic_load_explicit(&cpus, memory_order_relaxed);
   if (!v) {
      cpu_set_t set;
      const bool enough =
         sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= VU_OS_SPIN_MIN_CPUS;
      v = enough ? 2 : 1;
      atomic_store_explicit(&cpus, v, memory_order_relaxed);
   }
   return v == 2 && (!which || (vu_env_get()->perf & which));
}
