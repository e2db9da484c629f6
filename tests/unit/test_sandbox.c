/*
 * The worker sandbox's rules (src/worker/vwk_sandbox.c), checked on child
 * processes of this test that enter the sandbox through the same two calls
 * a worker makes: a forbidden call kills the child with SIGSYS and one line
 * naming the call, while what host drivers need (threads, Unix sockets,
 * clone3's fallback, reading files, writing the cache folder and /dev/null)
 * keeps working. The same rules on a real worker: the driver suite's
 * sandbox_worker test.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

#include "harness.h"
#include "worker/vwk_sandbox.h"

/* sanitizer builds keep clone (new processes) and ptrace for LeakSanitizer
 * (vwk_sandbox.c) */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

static char tmp_dir[64];

/* exit statuses of a child whose check failed before the forbidden call */
enum {
   CHILD_OK = 0,
   CHILD_NO_SANDBOX = 10,
   CHILD_BAD_THREAD,
   CHILD_BAD_UNIX_SOCKET,
   CHILD_BAD_CLONE3,
   CHILD_CALL_RETURNED,
   CHILD_BAD_FILES,
   CHILD_BAD_STATUS,
};

/* the sandbox's file size limit here: a guest memory limit of 2 GiB */
#define SANDBOX_FILE_BYTES ((uint64_t)2 << 30)

static int
thread_main(void *arg)
{
   return 42;
}

static void
enter_sandbox(void)
{
   if (!vwk_sandbox_begin(SANDBOX_FILE_BYTES) || !vwk_sandbox_finish())
      _exit(CHILD_NO_SANDBOX);
}

/* Runs `body` in a sandboxed child; returns its wait status and its stderr
 * in `err`. */
static int
run_child(void (*body)(void), char *err, size_t err_size)
{
   int pipe_fds[2];
   if (pipe(pipe_fds) < 0)
      return -1;
   const pid_t pid = fork();
   if (pid == 0) {
      dup2(pipe_fds[1], STDERR_FILENO);
      close(pipe_fds[0]);
      close(pipe_fds[1]);
      enter_sandbox();
      body();
      _exit(CHILD_OK);
   }
   close(pipe_fds[1]);
   size_t n = 0;
   ssize_t r;
   while (n + 1 < err_size && (r = read(pipe_fds[0], err + n, err_size - 1 - n)) > 0)
      n += (size_t)r;
   err[n] = '\0';
   close(pipe_fds[0]);
   int status = -1;
   while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
   return status;
}

/* A child that makes a forbidden call must die of SIGSYS, saying which.
 * may_be_silent: the call may be made with every signal blocked (glibc 2.41's
 * fork blocks them around its clone: the abort lock), and the kernel then
 * delivers the trap's SIGSYS with its default action, without our handler's
 * message. */
static void
check_killed_as(void (*body)(void), const char *name, bool may_be_silent)
{
   char err[1024];
   const int status = run_child(body, err, sizeof(err));
   CHECK(WIFSIGNALED(status));
   if (WIFSIGNALED(status)) {
      CHECK_EQ(WTERMSIG(status), SIGSYS);
   } else {
      fprintf(stderr, "%s: child exited with %d\n", name, WEXITSTATUS(status));
   }
   if (may_be_silent && err[0] == '\0') {
      printf("%s: killed by SIGSYS without the sandbox's message (signals blocked "
             "by the C library)\n", name);
      return;
   }
   CHECK(strstr(err, "killed by the sandbox: forbidden system call") != NULL);
   CHECK(strstr(err, name) != NULL);
   if (!strstr(err, name))
      fprintf(stderr, "%s: stderr was: %s\n", name, err);
}

static void
check_killed(void (*body)(void), const char *name)
{
   check_killed_as(body, name, false);
}

static void
body_allowed(void)
{
   /* threads (glibc: clone3 gets ENOSYS, then clone with CLONE_THREAD) */
   thrd_t thread;
   int res = 0;
   if (thrd_create(&thread, thread_main, NULL) != thrd_success ||
       thrd_join(thread, &res) != thrd_success || res != 42)
      _exit(CHILD_BAD_THREAD);
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
      _exit(CHILD_BAD_UNIX_SOCKET);
   close(sv[0]);
   close(sv[1]);
   const int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
   if (s < 0)
      _exit(CHILD_BAD_UNIX_SOCKET);
   close(s);
   if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
      _exit(CHILD_BAD_CLONE3);
   /* what /proc shows about us */
   if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || prctl(PR_GET_SECCOMP) != 2 ||
       prctl(PR_GET_DUMPABLE) != 0)
      _exit(CHILD_BAD_STATUS);
   struct rlimit lim;
   if (getrlimit(RLIMIT_CORE, &lim) < 0 || lim.rlim_max != 0)
      _exit(CHILD_BAD_STATUS);
   /* shared memory as large as the guest's memory limit allows (a 1.5 GiB
    * memfd once met a 1 GiB RLIMIT_FSIZE: SIGXFSZ killed the worker), and
    * one beyond it fails instead of killing */
   if (getrlimit(RLIMIT_FSIZE, &lim) < 0 || lim.rlim_cur != SANDBOX_FILE_BYTES)
      _exit(CHILD_BAD_STATUS);
   const int fd = memfd_create("sandbox-test", MFD_CLOEXEC);
   if (fd < 0 || ftruncate(fd, (off_t)3 << 29) < 0)
      _exit(CHILD_BAD_STATUS);
   if (ftruncate(fd, (off_t)SANDBOX_FILE_BYTES + 4096) == 0 || errno != EFBIG)
      _exit(CHILD_BAD_STATUS);
   close(fd);
}

TEST(allowed_calls_work)
{
   char err[1024];
   const int status = run_child(body_allowed, err, sizeof(err));
   CHECK(WIFEXITED(status));
   CHECK_EQ(WEXITSTATUS(status), CHILD_OK);
   if (!WIFEXITED(status) || WEXITSTATUS(status))
      fprintf(stderr, "allowed_calls_work: status 0x%x, stderr: %s\n", status, err);
}

static void
body_execve(void)
{
   char *const argv[] = { "true", NULL };
   execve("/bin/true", argv, NULL);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_fork(void)
{
   /* glibc's fork() is clone without CLONE_THREAD */
   const pid_t pid = fork();
   if (pid == 0)
      _exit(0);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_raw_fork(void)
{
   syscall(SYS_fork);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_inet_socket(void)
{
   socket(AF_INET, SOCK_STREAM, 0);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_packet_socket(void)
{
   socket(AF_PACKET, SOCK_RAW, 0);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_ptrace(void)
{
   ptrace(PTRACE_TRACEME, 0, NULL, NULL);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_unshare(void)
{
   syscall(SYS_unshare, 0);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_mount(void)
{
   mount("none", "/", "tmpfs", 0, NULL);
   _exit(CHILD_CALL_RETURNED);
}

static void
body_bpf(void)
{
   syscall(SYS_bpf, 0, NULL, 0);
   _exit(CHILD_CALL_RETURNED);
}

static int
thread_execve(void *arg)
{
   body_execve();
   return 0;
}

/* a forbidden call on a thread started after the filter kills the process */
static void
body_execve_on_thread(void)
{
   thrd_t thread;
   if (thrd_create(&thread, thread_execve, NULL) != thrd_success)
      _exit(CHILD_BAD_THREAD);
   thrd_join(thread, NULL);
   _exit(CHILD_CALL_RETURNED);
}

TEST(forbidden_calls_kill)
{
   check_killed(body_execve, "execve");
   check_killed(body_execve_on_thread, "execve");
   if (!SANDBOX_SANITIZER)
      check_killed_as(body_fork, "clone (a new process)", true);
   check_killed(body_raw_fork, "(fork)");
   check_killed(body_inet_socket, "socket (not AF_UNIX)");
   check_killed(body_packet_socket, "socket (not AF_UNIX)");
   if (!SANDBOX_SANITIZER)
      check_killed(body_ptrace, "ptrace");
   check_killed(body_unshare, "unshare");
   check_killed(body_mount, "mount");
   check_killed(body_bpf, "bpf");
}

static bool
can_create(const char *dir, const char *name)
{
   char path[256];
   snprintf(path, sizeof(path), "%s/%s", dir, name);
   const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
   if (fd < 0)
      return false;
   const bool ok = write(fd, "x", 1) == 1;
   close(fd);
   return ok;
}

static void
body_files(void)
{
   char dir[128];
   /* the cache folder (XDG_CACHE_HOME, created by the sandbox) is writable */
   snprintf(dir, sizeof(dir), "%s/cache", tmp_dir);
   if (!can_create(dir, "entry"))
      _exit(CHILD_BAD_FILES);
   snprintf(dir, sizeof(dir), "%s/cache/sub", tmp_dir);
   if (mkdir(dir, 0700) < 0 || !can_create(dir, "entry"))
      _exit(CHILD_BAD_FILES);
   /* anything else is not, but stays readable */
   snprintf(dir, sizeof(dir), "%s/other", tmp_dir);
   if (can_create(dir, "entry") || errno != EACCES)
      _exit(CHILD_BAD_FILES + 100);
   if (can_create(tmp_dir, "entry") || errno != EACCES)
      _exit(CHILD_BAD_FILES + 101);
   char path[160];
   snprintf(path, sizeof(path), "%s/other/existing", tmp_dir);
   if (open(path, O_WRONLY | O_CLOEXEC) >= 0 || errno != EACCES)
      _exit(CHILD_BAD_FILES + 102);
   if (unlink(path) == 0 || errno != EACCES)
      _exit(CHILD_BAD_FILES + 103);
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      _exit(CHILD_BAD_FILES + 104);
   close(fd);
   /* device nodes open read-write */
   fd = open("/dev/null", O_RDWR | O_CLOEXEC);
   if (fd < 0)
      _exit(CHILD_BAD_FILES + 105);
   close(fd);
}

TEST(file_system_read_only)
{
   char path[160];
   char err[1024];

   if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1u /* VERSION */) < 1) {
      fprintf(stderr, "file_system_read_only: the kernel has no Landlock, skipped\n");
      return;
   }
   snprintf(path, sizeof(path), "%s/other", tmp_dir);
   CHECK(mkdir(path, 0700) == 0);
   snprintf(path, sizeof(path), "%s/other/existing", tmp_dir);
   const int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
   CHECK(fd >= 0);
   close(fd);
   snprintf(path, sizeof(path), "%s/cache", tmp_dir);
   setenv("XDG_CACHE_HOME", path, 1);

   const int status = run_child(body_files, err, sizeof(err));
   CHECK(WIFEXITED(status));
   CHECK_EQ(WEXITSTATUS(status), CHILD_OK);
   if (!WIFEXITED(status) || WEXITSTATUS(status))
      fprintf(stderr, "file_system_read_only: status 0x%x, stderr: %s\n", status, err);
   unsetenv("XDG_CACHE_HOME");
}

TEST(switch_off)
{
   setenv("VENUS_SANDBOX", "0", 1);
   CHECK(!vwk_sandbox_is_enabled());
   setenv("VENUS_SANDBOX", "1", 1);
   CHECK(vwk_sandbox_is_enabled());
   unsetenv("VENUS_SANDBOX");
   CHECK(vwk_sandbox_is_enabled());
}

static void
remove_tree(void)
{
   char cmd[128];
   /* the parent is not sandboxed; the tree is ours */
   snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
   if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", tmp_dir);
}

TEST(setup)
{
   snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/venus-sandbox.XXXXXX");
   if (!mkdtemp(tmp_dir))
      abort();
   atexit(remove_tree);
}

RUN_TESTS(setup, allowed_calls_work, forbidden_calls_kill, file_system_read_only,
          switch_off)
