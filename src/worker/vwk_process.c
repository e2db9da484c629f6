/*
 * Starting, naming and reaping worker processes; fd-carrying messages
 * (see vwk_worker.h).
 */
#include "vwk_worker.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/vu_log.h"
#include "util/vu_os.h"

void
vwk_raise_fd_limit(void)
{
   struct rlimit lim;
   if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = lim.rlim_max;
      setrlimit(RLIMIT_NOFILE, &lim);
   }
}

/* glibc's allocator as the host driver meets it in a worker. glibc starts
 * with a 128 KiB mmap threshold and gives a thread arena's free top back to
 * the kernel (MADV_DONTNEED) beyond a 128 KiB trim threshold; it raises both
 * only once a large mmapped block is freed, which an application process
 * does soon (its own loading) and a worker may never do. lavapipe allocates
 * and frees its per-frame data (llvmpipe's scenes) on its queue thread, so
 * in a worker every frame faulted in fresh pages: vkmark's gouraud scene
 * took 393,532 page faults in 3 s (about 1.6 MiB a frame) against 16,252
 * natively, and ran at 0.8-0.9x native; with these thresholds none, and at
 * native speed (bench/README.md, "A Vulkan application: vkmark"). Larger
 * blocks still come from mmap, and a free top above 8 MiB still goes back.
 * GLIBC_TUNABLES naming a malloc setting is left to rule. */
#define VWK_MALLOC_MMAP_THRESHOLD (4 << 20)
#define VWK_MALLOC_TRIM_THRESHOLD (8 << 20)

void
vwk_tune_malloc(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
   const char *tunables = getenv("GLIBC_TUNABLES");
   if (tunables && strstr(tunables, "glibc.malloc."))
      return;
   if (!mallopt(M_MMAP_THRESHOLD, VWK_MALLOC_MMAP_THRESHOLD) ||
       !mallopt(M_TRIM_THRESHOLD, VWK_MALLOC_TRIM_THRESHOLD))
      vu_log(VU_LOG_WARN, "worker", "mallopt refused the allocator thresholds");
#endif
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VWK_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VWK_SANITIZED 1
#endif

#ifndef VWK_SANITIZED /* the sanitizers' own handlers report better */
/* A crash of a worker (in the host driver or in our code) leaves one line
 * and a backtrace in the log, then the worker dies of the same signal, so the
 * parent still reports it. Frames print as object(+offset): resolve them with
 * addr2line or nm against the same binaries. */
static void
vwk_crash_handler(int sig)
{
   char line[80] = "[venus worker] fatal signal ";
   size_t n = strlen(line);
   char digits[8];
   int d = 0;
   for (int v = sig; v > 0 && d < (int)sizeof(digits); v /= 10)
      digits[d++] = (char)('0' + v % 10);
   while (d > 0)
      line[n++] = digits[--d];
   static const char tail[] = "; backtrace:\n";
   memcpy(line + n, tail, sizeof(tail) - 1);
   n += sizeof(tail) - 1;
   ssize_t w = write(STDERR_FILENO, line, n);
   (void)w;
   void *frames[48];
   const int count = backtrace(frames, 48);
   backtrace_symbols_fd(frames, count, STDERR_FILENO);
   raise(sig); /* SA_RESETHAND: the default action now */
}
#endif

static void
vwk_install_crash_handler(void)
{
#ifndef VWK_SANITIZED /* the sanitizers' own handlers report better */
   static char altstack[64 * 1024];
   const stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
   sigaltstack(&ss, NULL);
   /* backtrace() loads libgcc_s on first use: do it now, not in the handler */
   void *frame;
   backtrace(&frame, 1);
   struct sigaction sa;
   memset(&sa, 0, sizeof(sa));
   sa.sa_handler = vwk_crash_handler;
   sa.sa_flags = SA_RESETHAND | SA_ONSTACK | SA_NODEFER;
   sigemptyset(&sa.sa_mask);
   static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
   for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
      sigaction(sigs[i], &sa, NULL);
#endif
}

void
vwk_child_setup(const char *name, pid_t parent)
{
   if (parent > 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      /* the parent may have died before the prctl: we were re-parented then */
      if (getppid() != parent)
         _exit(1);
   }
   if (name)
      prctl(PR_SET_NAME, name);
   signal(SIGPIPE, SIG_IGN);
   vwk_install_crash_handler();
   vwk_raise_fd_limit();
}

bool
vwk_fork(int sock_type,
         const char *name,
         const int *close_fds,
         int close_count,
         const void *child_mask,
         int (*child_main)(int sock, void *data),
         void *data,
         struct vwk_process *out)
{
   int fds[2] = { -1, -1 };

   if (sock_type) {
      if (socketpair(AF_UNIX, sock_type | SOCK_CLOEXEC, 0, fds) < 0)
         return false;
   } else {
      fds[1] = out->sock;
   }

   const pid_t parent = getpid();
   const pid_t pid = fork();
   if (pid < 0) {
      const int err = errno;
      if (fds[0] >= 0)
         close(fds[0]);
      close(fds[1]);
      errno = err;
      return false;
   }

   if (pid == 0) {
      if (fds[0] >= 0)
         close(fds[0]);
      for (int i = 0; i < close_count; i++) {
         if (close_fds[i] >= 0)
            close(close_fds[i]);
      }
      sigset_t empty;
      sigemptyset(&empty);
      sigprocmask(SIG_SETMASK, child_mask ? (const sigset_t *)child_mask : &empty, NULL);
      vwk_child_setup(name, parent);
      exit(child_main(fds[1], data));
   }

   close(fds[1]);
   out->pid = pid;
   out->sock = fds[0];
   return true;
}

bool
vwk_spawn_exec(const char *path, struct vwk_process *out)
{
   int fds[2];
   char *const argv[] = { (char *)path, NULL };

   if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
      return false;

   const pid_t parent = getpid();
   const pid_t pid = fork();
   if (pid < 0) {
      const int err = errno;
      close(fds[0]);
      close(fds[1]);
      errno = err;
      return false;
   }

   if (pid == 0) {
      /* async-signal-safe calls only: the parent may be multithreaded */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
         _exit(127);
      if (fds[1] == VWK_EXEC_SOCKET_FD) {
         fcntl(VWK_EXEC_SOCKET_FD, F_SETFD, 0);
      } else if (dup2(fds[1], VWK_EXEC_SOCKET_FD) < 0) {
         _exit(127);
      }
      close_range(VWK_EXEC_SOCKET_FD + 1, ~0u, 0);
      execv(path, argv);
      _exit(127);
   }

   close(fds[1]);
   out->pid = pid;
   out->sock = fds[0];
   return true;
}

bool
vwk_reap(pid_t pid, bool block, int *out_status)
{
   int status = 0;
   pid_t r;

   do {
      r = waitpid(pid, &status, block ? 0 : WNOHANG);
   } while (r < 0 && errno == EINTR);
   if (r == pid) {
      if (out_status)
         *out_status = status;
      return true;
   }
   /* ECHILD: someone else reaped it (or it was never ours) */
   return r < 0 && errno == ECHILD;
}

bool
vwk_msg_send(int sock, const void *buf, size_t size, int fd)
{
   return vu_os_send_msg(sock, buf, size, fd);
}

ssize_t
vwk_msg_recv(int sock, void *buf, size_t size, int *out_fd, int timeout_ms)
{
   struct iovec iov = { .iov_base = buf, .iov_len = size };
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(4 * sizeof(int))];
   } control;
   struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = control.buf,
      .msg_controllen = sizeof(control.buf),
   };
   ssize_t n;

   if (out_fd)
      *out_fd = -1;

   if (timeout_ms != 0) {
      struct pollfd pfd = { .fd = sock, .events = POLLIN };
      int r;
      do {
         r = poll(&pfd, 1, timeout_ms);
      } while (r < 0 && errno == EINTR);
      if (r < 0)
         return -1;
      if (r == 0) {
         errno = ETIMEDOUT;
         return -1;
      }
   }

   do {
      n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
   } while (n < 0 && errno == EINTR);
   if (n < 0)
      return -1;

   int fd = -1;
   int extra = 0;
   for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
         continue;
      const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
         int f;
         memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
         if (fd < 0) {
            fd = f;
         } else {
            close(f);
            extra++;
         }
      }
   }

   if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || extra) {
      if (fd >= 0)
         close(fd);
      errno = extra || (msg.msg_flags & MSG_CTRUNC) ? EBADMSG : EMSGSIZE;
      return -1;
   }
   if (out_fd)
      *out_fd = fd;
   else if (fd >= 0)
      close(fd);
   return n;
}
