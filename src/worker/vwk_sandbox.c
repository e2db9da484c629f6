/*
 * The worker sandbox (docs/sandbox.md): what a worker may do once it serves
 * a guest. Two steps, because Landlock binds only the calling thread and its
 * future threads while seccomp can be synchronised over all threads:
 *
 *   vwk_sandbox_begin(), while the worker is still single-threaded: no new
 *   privileges, not dumpable, resource limits, and a Landlock rule set that
 *   leaves the file system read-only except device nodes, the worker's own
 *   /proc entries, /dev/shm and the host drivers' cache folders;
 *   then the caller loads the host Vulkan driver (it may start threads);
 *   vwk_sandbox_finish(): a seccomp filter on every thread (TSYNC) that
 *   refuses what no Vulkan host driver needs.
 *
 * A refused system call raises SIGSYS (SECCOMP_RET_TRAP); the handler writes
 * one line naming the call with async-signal-safe write() and then dies of
 * SIGSYS, so the parent sees the signal too. clone3 gets ENOSYS instead, so
 * that glibc falls back to clone, whose flags the filter can read.
 */
#include "vwk_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/vu_log.h"

/* the least limit on the size of a file the worker writes (shader cache
 * entries; memfds are as large as the guest's memory limit allows) */
#define VWK_SANDBOX_MIN_FILE_BYTES (1ull << 30)
/* open fds: each vtest resource and sync wait keeps one (VTEST_MAX_RESOURCES
 * is 64 Ki), drivers keep a few hundred */
#define VWK_SANDBOX_MAX_FDS (1u << 17)
/* cache folders and VENUS_SANDBOX_WRITABLE entries */
#define VWK_SANDBOX_MAX_WRITABLE 16

/* LeakSanitizer stops the world from a tracer made with clone() (no
 * CLONE_THREAD) that ptraces the threads: sanitizer builds keep those two. */
#if defined(__SANITIZE_ADDRESS__)
#define VWK_SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VWK_SANDBOX_SANITIZER 1
#endif
#endif
#ifndef VWK_SANDBOX_SANITIZER
#define VWK_SANDBOX_SANITIZER 0
#endif

struct vwk_forbidden {
   long nr;
   const char *name;
};

/* Refused outright: process creation and exec, tracing and other processes'
 * memory, mounts and namespaces, kernel modules, bpf, perf, keyrings, reboot
 * and kexec, and a few calls only exploits use (userfaultfd, handles to
 * arbitrary inodes, raw I/O ports). */
static const struct vwk_forbidden vwk_forbidden_calls[] = {
   { SYS_execve, "execve" },
   { SYS_execveat, "execveat" },
   { SYS_fork, "fork" },
   { SYS_vfork, "vfork" },
   { SYS_ptrace, "ptrace" },
   { SYS_process_vm_readv, "process_vm_readv" },
   { SYS_process_vm_writev, "process_vm_writev" },
   { SYS_mount, "mount" },
   { SYS_umount2, "umount2" },
   { SYS_pivot_root, "pivot_root" },
   { SYS_chroot, "chroot" },
   { SYS_unshare, "unshare" },
   { SYS_setns, "setns" },
   { SYS_init_module, "init_module" },
   { SYS_finit_module, "finit_module" },
   { SYS_delete_module, "delete_module" },
   { SYS_bpf, "bpf" },
   { SYS_perf_event_open, "perf_event_open" },
   { SYS_add_key, "add_key" },
   { SYS_request_key, "request_key" },
   { SYS_keyctl, "keyctl" },
   { SYS_reboot, "reboot" },
   { SYS_kexec_load, "kexec_load" },
#ifdef SYS_kexec_file_load
   { SYS_kexec_file_load, "kexec_file_load" },
#endif
#ifdef SYS_userfaultfd
   { SYS_userfaultfd, "userfaultfd" },
#endif
   { SYS_open_by_handle_at, "open_by_handle_at" },
#ifdef SYS_iopl
   { SYS_iopl, "iopl" },
#endif
#ifdef SYS_ioperm
   { SYS_ioperm, "ioperm" },
#endif
#ifdef SYS_fsopen
   { SYS_fsopen, "fsopen" },
   { SYS_fsmount, "fsmount" },
   { SYS_move_mount, "move_mount" },
   { SYS_open_tree, "open_tree" },
#endif
   /* with conditions, see vwk_sandbox_add_seccomp_rules() */
   { SYS_clone, "clone (a new process)" },
   { SYS_socket, "socket (not AF_UNIX)" },
   { SYS_socketpair, "socketpair (not AF_UNIX)" },
};

static bool vwk_sandbox_is_active;

/* ---- the SIGSYS handler: async-signal-safe calls only ---- */

static size_t
vwk_sandbox_append(char *buf, size_t at, size_t cap, const char *s)
{
   while (*s && at < cap)
      buf[at++] = *s++;
   return at;
}

static size_t
vwk_sandbox_append_uint(char *buf, size_t at, size_t cap, unsigned long v)
{
   char digits[24];
   size_t n = 0;
   do {
      digits[n++] = (char)('0' + v % 10);
      v /= 10;
   } while (v && n < sizeof(digits));
   while (n && at < cap)
      buf[at++] = digits[--n];
   return at;
}

static void
vwk_sandbox_sigsys(int sig, siginfo_t *info, void *ucontext)
{
   char line[192];
   const size_t cap = sizeof(line) - 1;
   const long nr = info->si_syscall;
   const char *name = "?";

   for (size_t i = 0; i < sizeof(vwk_forbidden_calls) / sizeof(vwk_forbidden_calls[0]);
        i++) {
      if (vwk_forbidden_calls[i].nr == nr)
         name = vwk_forbidden_calls[i].name;
   }

   size_t n = vwk_sandbox_append(line, 0, cap, "[venus sandbox] worker ");
   n = vwk_sandbox_append_uint(line, n, cap, (unsigned long)getpid());
   n = vwk_sandbox_append(line, n, cap, " killed by the sandbox: forbidden system call ");
   n = vwk_sandbox_append_uint(line, n, cap, (unsigned long)nr);
   n = vwk_sandbox_append(line, n, cap, " (");
   n = vwk_sandbox_append(line, n, cap, name);
   n = vwk_sandbox_append(line, n, cap, ")");
   line[n++] = '\n';
   ssize_t ignored = write(STDERR_FILENO, line, n);
   (void)ignored;

   /* die of SIGSYS (no core: RLIMIT_CORE is 0), so the parent sees why */
   struct sigaction dfl = { .sa_handler = SIG_DFL };
   sigaction(SIGSYS, &dfl, NULL);
   sigset_t set;
   sigemptyset(&set);
   sigaddset(&set, SIGSYS);
   sigprocmask(SIG_UNBLOCK, &set, NULL);
   raise(SIGSYS);
   _exit(128 + SIGSYS);
}

/* ---- step 1: privileges, limits, Landlock ---- */

bool
vwk_sandbox_is_enabled(void)
{
   return vu_env_int("VENUS_SANDBOX", 1) != 0;
}

static void
vwk_sandbox_set_limit(int resource, const char *name, rlim_t max)
{
   struct rlimit lim;
   if (getrlimit(resource, &lim) < 0)
      return;
   if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max > max)
      lim.rlim_max = max;
   if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > lim.rlim_max)
      lim.rlim_cur = lim.rlim_max;
   if (setrlimit(resource, &lim) < 0)
      vu_log(VU_LOG_WARN, "sandbox", "cannot limit %s: %s", name, strerror(errno));
}

struct vwk_landlock {
   int abi;
   int ruleset;
   uint64_t handled; /* the write rights the rule set refuses by default */
};

/* Allows `access` (a subset of ll->handled) beneath the folder `path`, if it
 * exists. */
static void
vwk_landlock_allow(struct vwk_landlock *ll, const char *path, uint64_t access)
{
   if (!path || path[0] != '/')
      return;
   const int fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);
   if (fd < 0)
      return;
   const struct landlock_path_beneath_attr rule = {
      .allowed_access = access & ll->handled,
      .parent_fd = fd,
   };
   if (syscall(SYS_landlock_add_rule, ll->ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) <
       0)
      vu_log(VU_LOG_WARN, "sandbox", "landlock rule for %s: %s", path, strerror(errno));
   else if (VU_DEBUG(INIT))
      vu_log(VU_LOG_INFO, "sandbox", "writable: %s", path);
   close(fd);
}

/* The cache folders host drivers write: Mesa's ($MESA_SHADER_CACHE_DIR, else
 * $XDG_CACHE_HOME or ~/.cache), NVIDIA's ($__GL_SHADER_DISK_CACHE_PATH, else
 * $XDG_CACHE_HOME/nvidia or ~/.nv), and VENUS_SANDBOX_WRITABLE (colon-
 * separated absolute folders). The XDG cache folder is created if its parent
 * exists, so that a first run can fill it. */
static void
vwk_landlock_allow_caches(struct vwk_landlock *ll, uint64_t all)
{
   char path[PATH_MAX];
   const char *home = vu_env_string("HOME");
   const char *xdg = vu_env_string("XDG_CACHE_HOME");

   if (xdg && xdg[0] == '/') {
      snprintf(path, sizeof(path), "%s", xdg);
   } else if (home && home[0] == '/') {
      snprintf(path, sizeof(path), "%s/.cache", home);
   } else {
      path[0] = '\0';
   }
   if (path[0]) {
      mkdir(path, 0700);
      vwk_landlock_allow(ll, path, all);
   }
   if (home && home[0] == '/') {
      snprintf(path, sizeof(path), "%s/.nv", home);
      vwk_landlock_allow(ll, path, all);
   }
   vwk_landlock_allow(ll, vu_env_string("MESA_SHADER_CACHE_DIR"), all);
   vwk_landlock_allow(ll, vu_env_string("__GL_SHADER_DISK_CACHE_PATH"), all);

   const char *extra = vu_env_string("VENUS_SANDBOX_WRITABLE");
   for (int count = 0; extra && *extra && count < VWK_SANDBOX_MAX_WRITABLE; count++) {
      const char *end = strchr(extra, ':');
      const size_t len = end ? (size_t)(end - extra) : strlen(extra);
      if (len && len < sizeof(path)) {
         memcpy(path, extra, len);
         path[len] = '\0';
         vwk_landlock_allow(ll, path, all);
      }
      extra = end ? end + 1 : NULL;
   }
}

/* false only when the kernel has Landlock and applying it failed */
static bool
vwk_sandbox_landlock(void)
{
   struct vwk_landlock ll = { .ruleset = -1 };

   ll.abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
                         LANDLOCK_CREATE_RULESET_VERSION);
   if (ll.abi < 1) {
      vu_log(VU_LOG_INFO, "sandbox",
             "the kernel has no Landlock (%s): the file system stays writable",
             strerror(errno));
      return true;
   }

   /* every right that writes; reading and executing stay allowed */
   ll.handled = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
   if (ll.abi >= 2)
      ll.handled |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
   if (ll.abi >= 3)
      ll.handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
   const uint64_t open_for_write = LANDLOCK_ACCESS_FS_WRITE_FILE
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
                                   | LANDLOCK_ACCESS_FS_TRUNCATE
#endif
      ;

   const struct landlock_ruleset_attr attr = { .handled_access_fs = ll.handled };
   ll.ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
   if (ll.ruleset < 0) {
      vu_log(VU_LOG_ERROR, "sandbox", "landlock_create_ruleset: %s", strerror(errno));
      return false;
   }

   /* device nodes are opened read-write (/dev/dri, /dev/nvidia*, /dev/null),
    * but nothing is created there except in /dev/shm */
   vwk_landlock_allow(&ll, "/dev", open_for_write);
   vwk_landlock_allow(&ll, "/dev/shm", ll.handled);
   /* own thread names and the like (/proc/self/task/N/comm) */
   char self[32];
   snprintf(self, sizeof(self), "/proc/%d", (int)getpid());
   vwk_landlock_allow(&ll, self, open_for_write);
   vwk_landlock_allow_caches(&ll, ll.handled);

   const bool ok = syscall(SYS_landlock_restrict_self, ll.ruleset, 0) == 0;
   if (!ok)
      vu_log(VU_LOG_ERROR, "sandbox", "landlock_restrict_self: %s", strerror(errno));
   close(ll.ruleset);
   return ok;
}

bool
vwk_sandbox_begin(uint64_t max_file_bytes)
{
   if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
      vu_log(VU_LOG_ERROR, "sandbox", "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
      return false;
   }
   /* no ptrace by same-user processes, no core dumps, /proc entries root's */
   prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
   vwk_sandbox_set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0);
   /* a memfd is a file: one of device memory or a blob is as large as the
    * guest's allocation (a limit below that killed the worker with SIGXFSZ
    * on a 1.5 GiB host-visible allocation) */
   signal(SIGXFSZ, SIG_IGN);
   vwk_sandbox_set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE",
                         max_file_bytes > VWK_SANDBOX_MIN_FILE_BYTES ? max_file_bytes
                                                                    : VWK_SANDBOX_MIN_FILE_BYTES);
   vwk_sandbox_set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", VWK_SANDBOX_MAX_FDS);
   /* RLIMIT_NPROC counts threads, and host drivers start many: left alone */
   return vwk_sandbox_landlock();
}

/* ---- step 2: seccomp ---- */

static bool
vwk_sandbox_add_seccomp_rules(scmp_filter_ctx ctx)
{
   int r = 0;

   for (size_t i = 0; i < sizeof(vwk_forbidden_calls) / sizeof(vwk_forbidden_calls[0]);
        i++) {
      const long nr = vwk_forbidden_calls[i].nr;
      if (nr == SYS_clone || nr == SYS_socket || nr == SYS_socketpair)
         continue;
      if (VWK_SANDBOX_SANITIZER && nr == SYS_ptrace)
         continue;
      r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, (int)nr, 0);
      if (r < 0) {
         vu_log(VU_LOG_ERROR, "sandbox", "seccomp rule for %s: %s",
                vwk_forbidden_calls[i].name, strerror(-r));
         return false;
      }
   }

   /* threads (CLONE_THREAD) only; x86-64's clone takes the flags first */
   if (!VWK_SANDBOX_SANITIZER)
      r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(clone), 1,
                           SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
   /* clone3 passes its flags in memory, which a filter cannot read */
   if (!r)
      r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
   /* Unix sockets only (drivers may talk to their own daemons); the peer's
    * socket is already open */
   if (!r)
      r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(socket), 1,
                           SCMP_A0(SCMP_CMP_NE, AF_UNIX));
   if (!r)
      r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(socketpair), 1,
                           SCMP_A0(SCMP_CMP_NE, AF_UNIX));
   if (r < 0) {
      vu_log(VU_LOG_ERROR, "sandbox", "seccomp rules: %s", strerror(-r));
      return false;
   }
   return true;
}

bool
vwk_sandbox_finish(void)
{
   struct sigaction sa = {
      .sa_sigaction = vwk_sandbox_sigsys,
      .sa_flags = SA_SIGINFO,
   };
   sigemptyset(&sa.sa_mask);
   if (sigaction(SIGSYS, &sa, NULL) < 0)
      return false;

   scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
   if (!ctx) {
      vu_log(VU_LOG_ERROR, "sandbox", "seccomp_init failed");
      return false;
   }
   /* every thread the host driver has started, not only this one */
   int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
   bool ok = r == 0 && vwk_sandbox_add_seccomp_rules(ctx);
   if (ok) {
      r = seccomp_load(ctx);
      ok = r == 0;
   }
   if (r < 0)
      vu_log(VU_LOG_ERROR, "sandbox", "seccomp filter: %s", strerror(-r));
   seccomp_release(ctx);
   vwk_sandbox_is_active = ok;
   return ok;
}

bool
vwk_sandbox_active(void)
{
   return vwk_sandbox_is_active;
}
