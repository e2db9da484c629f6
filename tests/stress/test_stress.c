/*
 * Stress test of venus-server (suite 'stress', docs/TESTING.md "Stress"):
 * one real server ($VENUS_SERVER) on lavapipe, and
 *
 * 1. for STRESS_SECONDS (60) 16 concurrent clients: 15 run the test programs
 *    (tests/integration/programs, given as NAME=PATH arguments) through our
 *    driver ($VENUS_ICD) again and again, each run's stdout and output files
 *    byte-identical to the same program's native run on lavapipe
 *    ($NATIVE_ICD, run by this test first); one is hostile (stress_hostile.c)
 *    and reconnects after each drop;
 * 2. STRESS_CYCLES (1,000) connect/disconnect cycles, 4 at a time: 40% connect
 *    and close, 5% a half header, 5% a cut CREATE_RENDERER, 30% a vtest
 *    session with a context and a sync round trip, 10% a session left with a
 *    mapped blob, a pending wait and a fence, 5% a session whose ring runs
 *    real commands, 5% a test program through the driver (compared with
 *    native);
 * 3. one long session: 500 rounds of blob, instance, fence and wait (a ring
 *    every 10th), after which its worker's fds and RSS must be where they
 *    were after 50 rounds of warm-up;
 * 4. a fresh client of every program at the end.
 *
 * After each part, once the workers are gone, the server must hold the fds it
 * held before (same count, no memfd), no child process (no zombie), and its
 * RSS, anonymous and private dirty memory may not have grown by more than
 * STRESS_MEMORY_SLACK_KB (PSS is printed: it moves with what other processes
 * share with the server); its log must show one line for the end of every
 * hostile connection (a drop with a reason wherever the server closed the
 * connection), no worker killed by a signal (the sandbox included) and no
 * sanitizer report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "util/vu_os.h"
#include "protocol/vp_cs.h"
#include "transport/vw_capset.h"
#include "transport/vw_ring_info.h"
#include "transport/vw_vtest.h"
#include "transport/vw_vtest_client.h"
#include "vp_protocol.h"

#include "stress.h"

#define STRESS_GOOD_CLIENTS 15
#define STRESS_CYCLE_THREADS 4
#define STRESS_DEFAULT_SECONDS 60
#define STRESS_DEFAULT_CYCLES 1000
#define STRESS_MAX_PROGRAMS 16
/* one program run, however loaded the machine */
#define STRESS_RUN_TIMEOUT_S 180
/* how long the workers may take to go after a part (they unload lavapipe) */
#define STRESS_SETTLE_TIMEOUT_MS 120000
/* cycles wait while the server has this many workers (each loads lavapipe) */
#define STRESS_MAX_WORKERS_IN_FLIGHT 12
/* growth of the server's RSS, anonymous and private dirty memory allowed
 * after a part */
#define STRESS_MEMORY_SLACK_KB 512
/* growth of a worker's RSS over 500 rounds of one session (a leak of one
 * 256 KiB blob per round would be 125 MiB); AddressSanitizer's quarantine
 * keeps freed memory resident (up to 256 MiB), LeakSanitizer checks there */
#if defined(__SANITIZE_ADDRESS__)
#define STRESS_WORKER_SLACK_KB (256u << 10)
#else
#define STRESS_WORKER_SLACK_KB 4096
#endif
#define STRESS_RING_SIZE (16u << 10)
#define STRESS_REPLY_TIMEOUT_MS 30000

struct stress_program {
   const char *name;
   const char *path;
};

static struct {
   const char *server;
   const char *icd;
   const char *native_icd;
   const char *corpus;
   uint32_t seconds;
   uint32_t cycles;
   uint64_t seed;
   char tmp[256];
   char sock[300];
   char log[300];
   pid_t server_pid;
   struct stress_program programs[STRESS_MAX_PROGRAMS];
   uint32_t program_count;
   char **run_env_icd;    /* environment of a run through our driver */
   char **run_env_native; /* ... and of a native run */
} S = { .server_pid = -1 };

static mtx_t stress_print_mutex;
static uint64_t stress_start_ns;

/* seconds since the test started, for the figures it prints */
static double
stamp(void)
{
   return (double)(vu_os_time_ns() - stress_start_ns) / 1e9;
}

/* ------------------------------------------------------------------ */
/* program runs                                                        */

/* the inherited environment with the ICD, socket and sanitizer options
 * replaced; VKT_OUTPUT_DIR is added per run */
static char **
make_run_env(const char *icd)
{
   extern char **environ;
   static const char *const replaced[] = { "VK_DRIVER_FILES=", "VK_ICD_FILENAMES=",
                                           "VKT_OUTPUT_DIR=",  "VTEST_SOCKET_NAME=",
                                           "ASAN_OPTIONS=",    "VKT_VALIDATION=" };
   uint32_t count = 0;
   while (environ[count])
      count++;
   char **env = calloc(count + 8, sizeof(*env));
   uint32_t n = 0;
   const char *asan = getenv("ASAN_OPTIONS");
   for (uint32_t i = 0; env && i < count; i++) {
      bool is_replaced = false;
      for (size_t k = 0; k < sizeof(replaced) / sizeof(replaced[0]); k++)
         is_replaced |= stress_has_prefix(environ[i], replaced[k]);
      if (!is_replaced)
         env[n++] = environ[i];
   }
   if (!env)
      return NULL;
   char buf[1024];
   snprintf(buf, sizeof(buf), "VK_DRIVER_FILES=%s", icd);
   env[n++] = strdup(buf);
   snprintf(buf, sizeof(buf), "VK_ICD_FILENAMES=%s", icd);
   env[n++] = strdup(buf);
   snprintf(buf, sizeof(buf), "VTEST_SOCKET_NAME=%s", S.sock);
   env[n++] = strdup(buf);
   /* the programs load lavapipe in-process natively, which leaks at exit
    * (docs/TESTING.md, "Sanitizers") */
   snprintf(buf, sizeof(buf), "ASAN_OPTIONS=%s%sdetect_leaks=0", asan ? asan : "",
            asan ? ":" : "");
   env[n++] = strdup(buf);
   return env;
}

/* Runs `prog` with `env`; stdout to DIR/out, stderr to DIR/err, output files
 * into DIR/files. Returns its wait status, or -1 (spawn failure, timeout). */
static int
run_program(const struct stress_program *prog, char **env, const char *dir)
{
   char out[512], err[512], files[512], output_dir[600];
   snprintf(out, sizeof(out), "%s/out", dir);
   snprintf(err, sizeof(err), "%s/err", dir);
   snprintf(files, sizeof(files), "%s/files", dir);
   snprintf(output_dir, sizeof(output_dir), "VKT_OUTPUT_DIR=%s", files);
   mkdir(dir, 0755);
   mkdir(files, 0755);
   stress_empty_folder(files);

   uint32_t count = 0;
   while (env[count])
      count++;
   char **full_env = calloc(count + 2, sizeof(*full_env));
   if (!full_env)
      return -1;
   memcpy(full_env, env, count * sizeof(*env));
   full_env[count] = output_dir;

   posix_spawn_file_actions_t actions;
   posix_spawn_file_actions_init(&actions);
   posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
   posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
   char *const argv[] = { (char *)prog->path, NULL };
   pid_t pid;
   const int spawned = posix_spawn(&pid, prog->path, &actions, NULL, argv, full_env);
   posix_spawn_file_actions_destroy(&actions);
   free(full_env);
   if (spawned)
      return -1;

   const uint64_t deadline = vu_os_time_ns() + STRESS_RUN_TIMEOUT_S * 1000000000ull;
   int status = -1;
   for (;;) {
      const pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid)
         return status;
      if (r < 0 && errno != EINTR)
         return -1;
      if (vu_os_time_ns() > deadline) {
         kill(pid, SIGKILL);
         waitpid(pid, NULL, 0);
         return -1;
      }
      usleep(20000);
   }
}

/* exit status 0, stdout and output files identical to the native run */
static bool
run_matches_native(const struct stress_program *prog, int status, const char *dir)
{
   char a[600], b[600];
   if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      mtx_lock(&stress_print_mutex);
      const int code = status < 0             ? 0
                       : WIFSIGNALED(status) ? WTERMSIG(status)
                                             : WEXITSTATUS(status);
      fprintf(stderr, "  %s in %s: %s %d\n", prog->name, dir,
              status < 0            ? "timed out or not started"
              : WIFSIGNALED(status) ? "killed by signal"
                                    : "exit status",
              code);
      snprintf(a, sizeof(a), "%s/err", dir);
      size_t size;
      char *text = stress_read_file(a, &size);
      if (text)
         fprintf(stderr, "  its stderr (last 2000 bytes):\n%s\n",
                 size > 2000 ? text + size - 2000 : text);
      free(text);
      mtx_unlock(&stress_print_mutex);
      return false;
   }
   bool ok = true;
   snprintf(a, sizeof(a), "%s/ref-%s/out", S.tmp, prog->name);
   snprintf(b, sizeof(b), "%s/out", dir);
   if (!stress_files_equal(a, b)) {
      fprintf(stderr, "  %s in %s: stdout differs from the native run\n", prog->name,
              dir);
      ok = false;
   }
   snprintf(a, sizeof(a), "%s/ref-%s/files", S.tmp, prog->name);
   snprintf(b, sizeof(b), "%s/files", dir);
   uint32_t na, nb;
   char **names_a = stress_list_names(a, &na), **names_b = stress_list_names(b, &nb);
   if (na != nb) {
      fprintf(stderr, "  %s in %s: %u output files, native %u\n", prog->name, dir, nb,
              na);
      ok = false;
   }
   for (uint32_t i = 0; ok && i < na; i++) {
      char fa[800], fb[800];
      snprintf(fa, sizeof(fa), "%s/%s", a, names_a[i]);
      snprintf(fb, sizeof(fb), "%s/%s", b, names_b[i]);
      if (strcmp(names_a[i], names_b[i]) || !stress_files_equal(fa, fb)) {
         fprintf(stderr, "  %s in %s: output file %s differs from the native run\n",
                 prog->name, dir, names_a[i]);
         ok = false;
      }
   }
   stress_free_names(names_a);
   stress_free_names(names_b);
   return ok;
}

/* one run through our driver, checked; `dir` is the client's work folder */
static bool
run_through_driver(const struct stress_program *prog, const char *dir)
{
   const int status = run_program(prog, S.run_env_icd, dir);
   return run_matches_native(prog, status, dir);
}

/* ------------------------------------------------------------------ */
/* the server process                                                  */

static bool
server_is_running(void)
{
   return S.server_pid > 0 && waitpid(S.server_pid, NULL, WNOHANG) == 0;
}

struct server_state {
   int fds;
   int memfds;
   int children;
   int zombies;
   long rss_kb;
   long anon_kb;          /* RssAnon: the heap, where a leak would show */
   long private_dirty_kb; /* written pages no other process shares */
   long pss_kb;           /* informative: moves with what other processes map */
   long children_rss_kb;
   int dev_shm; /* entries in /dev/shm, machine-wide (informative) */
   int own_fds; /* this test's own fds */
};

static struct server_state
server_state(void)
{
   struct server_state st = { 0 };
   char path[128];
   snprintf(path, sizeof(path), "/proc/%d/fd", (int)S.server_pid);
   st.fds = stress_count_entries(path, &st.memfds);
   st.own_fds = stress_count_entries("/proc/self/fd", NULL) - 1; /* the opendir's own */
   st.dev_shm = stress_count_entries("/dev/shm", NULL);
   snprintf(path, sizeof(path), "/proc/%d/status", (int)S.server_pid);
   st.rss_kb = stress_proc_field_kb(path, "VmRSS:");
   st.anon_kb = stress_proc_field_kb(path, "RssAnon:");
   snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)S.server_pid);
   st.pss_kb = stress_proc_field_kb(path, "\nPss:");
   st.private_dirty_kb = stress_proc_field_kb(path, "\nPrivate_Dirty:");

   /* the server is single-threaded: its main thread's children are all */
   snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)S.server_pid,
            (int)S.server_pid);
   size_t size;
   char *list = stress_read_file(path, &size);
   /* strtok_r: the cycle threads ask at the same time */
   char *save = NULL;
   for (char *tok = list ? strtok_r(list, " \n", &save) : NULL; tok;
        tok = strtok_r(NULL, " \n", &save)) {
      st.children++;
      snprintf(path, sizeof(path), "/proc/%s/stat", tok);
      char *stat = stress_read_file(path, &size);
      const char *end = stat ? strrchr(stat, ')') : NULL;
      if (end && end[1] == ' ' && end[2] == 'Z')
         st.zombies++;
      free(stat);
      snprintf(path, sizeof(path), "/proc/%s/status", tok);
      const long rss = stress_proc_field_kb(path, "VmRSS:");
      st.children_rss_kb += rss > 0 ? rss : 0;
   }
   free(list);
   return st;
}

static void
print_state(const char *label, const struct server_state *st)
{
   fprintf(stderr,
           "  [%5.1f s] %s: server fds %d (memfds %d), children %d (zombies %d), "
           "RSS %ld KiB (anonymous %ld, private dirty %ld), PSS %ld KiB; "
           "/dev/shm entries %d; test fds %d\n",
           stamp(), label, st->fds, st->memfds, st->children, st->zombies, st->rss_kb,
           st->anon_kb, st->private_dirty_kb, st->pss_kb, st->dev_shm, st->own_fds);
}

/* waits for the workers to go and the fds to come back to `base_fds` (< 0:
 * for the fd count to stay the same for a second) */
static struct server_state
server_settle(int base_fds)
{
   struct server_state st = server_state();
   int last_fds = -1, same = 0;
   for (int i = 0; i < STRESS_SETTLE_TIMEOUT_MS / 50; i++) {
      same = st.fds == last_fds ? same + 1 : 0;
      last_fds = st.fds;
      if (st.children == 0 && (base_fds < 0 ? same >= 20 : st.fds == base_fds))
         break;
      usleep(50000);
      st = server_state();
   }
   return st;
}

static void
dump_fds(pid_t pid)
{
   char path[128];
   snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
   uint32_t count;
   char **names = stress_list_names(path, &count);
   for (uint32_t i = 0; i < count; i++) {
      char link[300], target[256] = "?";
      snprintf(link, sizeof(link), "%s/%s", path, names[i]);
      const ssize_t n = readlink(link, target, sizeof(target) - 1);
      if (n > 0)
         target[n] = '\0';
      fprintf(stderr, "    fd %s -> %s\n", names[i], target);
   }
   stress_free_names(names);
}

static struct server_state stress_base;

/* the server is back where it started: no worker, same fds, no growth */
static void
check_no_leaks(const char *label)
{
   const struct server_state st = server_settle(stress_base.fds);
   print_state(label, &st);
   CHECK(server_is_running());
   CHECK_EQ(st.children, 0);
   CHECK_EQ(st.zombies, 0);
   CHECK_EQ(st.fds, stress_base.fds);
   CHECK_EQ(st.memfds, stress_base.memfds);
   CHECK(st.rss_kb <= stress_base.rss_kb + STRESS_MEMORY_SLACK_KB);
   CHECK(st.anon_kb <= stress_base.anon_kb + STRESS_MEMORY_SLACK_KB);
   CHECK(st.private_dirty_kb <= stress_base.private_dirty_kb + STRESS_MEMORY_SLACK_KB);
   CHECK_EQ(st.own_fds, stress_base.own_fds);
   if (st.fds != stress_base.fds)
      dump_fds(S.server_pid);
}

/* ------------------------------------------------------------------ */
/* the server's log                                                    */

static long
log_offset(void)
{
   struct stat st;
   return stat(S.log, &st) == 0 ? (long)st.st_size : 0;
}

/* what one part of the log says about how connections ended */
struct log_summary {
   uint32_t crashes;      /* workers killed by a signal, sanitizer reports */
   uint32_t driver_leaks; /* LeakSanitizer reports of the unloaded host driver */
   uint32_t raw_refused;  /* "(?): first request is N, not CREATE_RENDERER" */
   uint32_t anon_closed;  /* "(?) disconnected" */
   uint32_t anon_lost_header;
   uint32_t anon_lost_name;
   uint32_t venus_closed; /* our driver's sessions */
   uint32_t venus_dropped;
   uint8_t *hostile_ends; /* per hostile connection: lines that ended it */
   bool *hostile_dropped; /* ... and whether one says "dropping it" */
   uint32_t hostile_count;
   uint8_t *cycle_ends;
   bool *cycle_dropped;
   uint32_t cycle_count;
};

static void
log_scan(long offset, struct log_summary *sum)
{
   size_t size;
   char *text = stress_read_file(S.log, &size);
   if (!text || (size_t)offset > size) {
      sum->crashes++;
      free(text);
      return;
   }
   /* Leaks whose every frame above the allocator lies in an unloaded library
    * are the host driver's (lavapipe leaks at device destruction, and workers
    * unload it before they exit; docs/TESTING.md, "Sanitizers"): counted
    * apart. Reports of several workers may interleave, so frames are judged
    * one by one: a leak frame that names code fails. */
   uint32_t known_frames = 0;
   for (char *line = text + offset, *next; *line; line = next) {
      next = strchr(line, '\n');
      if (next)
         *next++ = '\0';
      else
         next = line + strlen(line);

      unsigned frame;
      if (strstr(line, "ERROR: LeakSanitizer")) {
         sum->driver_leaks++;
         continue;
      }
      if (sscanf(line, " #%u 0x", &frame) == 1) {
         if (frame > 0 && !strstr(line, "(<unknown module>)")) {
            known_frames++;
            fprintf(stderr, "  server log: %s\n", line);
         }
         continue;
      }
      if (stress_has_prefix(line, "SUMMARY: AddressSanitizer:") &&
          strstr(line, " leaked in "))
         continue;
      if (strstr(line, "killed by") || strstr(line, "AddressSanitizer") ||
          strstr(line, "LeakSanitizer") || strstr(line, "runtime error:")) {
         sum->crashes++;
         fprintf(stderr, "  server log: %s\n", line);
         continue;
      }
      unsigned client;
      int name_at = 0;
      if (sscanf(line, "[venus server] client %u (%n", &client, &name_at) != 1 ||
          !name_at)
         continue;
      const char *name = line + name_at;
      const char *close_paren = strchr(name, ')');
      if (!close_paren)
         continue;
      const char *rest = close_paren + 1;
      const bool is_drop = strstr(rest, "; dropping it") != NULL;
      const bool is_close = !strcmp(rest, " disconnected");
      if (!is_drop && !is_close)
         continue;

      unsigned index;
      char tail;
      if (sscanf(name, "hostile-%u%c", &index, &tail) == 2 && tail == ')') {
         if (index < sum->hostile_count) {
            sum->hostile_ends[index]++;
            sum->hostile_dropped[index] |= is_drop;
         }
      } else if (sscanf(name, "cycle-%u%c", &index, &tail) == 2 && tail == ')') {
         if (index < sum->cycle_count) {
            sum->cycle_ends[index]++;
            sum->cycle_dropped[index] |= is_drop;
         }
      } else if (stress_has_prefix(name, "?)")) {
         sum->raw_refused += stress_has_prefix(rest, ": first request is ");
         sum->anon_closed += is_close;
         sum->anon_lost_header +=
            stress_has_prefix(rest, ": connection lost inside a request header");
         sum->anon_lost_name +=
            stress_has_prefix(rest, ": connection lost inside CREATE_RENDERER");
      } else if (stress_has_prefix(name, "venus)")) {
         sum->venus_closed += is_close;
         sum->venus_dropped += is_drop;
         if (is_drop)
            fprintf(stderr, "  server log: %s\n", line);
      }
   }
   if (known_frames) {
      fprintf(stderr, "  server log: %u leak frame(s) in our code\n", known_frames);
      sum->crashes++;
   }
   free(text);
}

/* ------------------------------------------------------------------ */
/* set-up                                                              */

static uint32_t
env_u32(const char *name, uint32_t def)
{
   const char *s = getenv(name);
   return s && *s ? (uint32_t)strtoul(s, NULL, 0) : def;
}

TEST(start_server)
{
   S.server = getenv("VENUS_SERVER");
   S.icd = getenv("VENUS_ICD");
   S.native_icd = getenv("NATIVE_ICD");
   S.corpus = getenv("STRESS_CORPUS");
   S.seconds = env_u32("STRESS_SECONDS", STRESS_DEFAULT_SECONDS);
   S.cycles = env_u32("STRESS_CYCLES", STRESS_DEFAULT_CYCLES);
   const char *seed = getenv("STRESS_SEED");
   S.seed = seed && *seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL);
   CHECK(S.server && S.icd && S.native_icd && S.program_count > 0);
   if (!S.server || !S.icd || !S.native_icd || !S.program_count)
      exit(1);
   fprintf(stderr, "  seed %llu (STRESS_SEED), %u s, %u cycles, %u programs\n",
           (unsigned long long)S.seed, S.seconds, S.cycles, S.program_count);

   const char *tmp = getenv("TMPDIR");
   snprintf(S.tmp, sizeof(S.tmp), "%s/venus-stress-XXXXXX", tmp && *tmp ? tmp : "/tmp");
   CHECK(mkdtemp(S.tmp) != NULL);
   snprintf(S.sock, sizeof(S.sock), "%s/sock", S.tmp);
   CHECK(strlen(S.sock) < sizeof(((struct sockaddr_un *)0)->sun_path));
   snprintf(S.log, sizeof(S.log), "%s/server.log", S.tmp);
   S.run_env_icd = make_run_env(S.icd);
   S.run_env_native = make_run_env(S.native_icd);

   /* info: every worker logs how its client ended */
   setenv("VENUS_LOG_LEVEL", "info", 1);
   char path_arg[320];
   snprintf(path_arg, sizeof(path_arg), "--socket-path=%s", S.sock);
   posix_spawn_file_actions_t actions;
   posix_spawn_file_actions_init(&actions);
   posix_spawn_file_actions_addopen(&actions, 2, S.log, O_WRONLY | O_CREAT | O_APPEND,
                                    0644);
   char *const argv[] = { (char *)S.server, path_arg, NULL };
   extern char **environ;
   CHECK(posix_spawn(&S.server_pid, S.server, &actions, NULL, argv, environ) == 0);
   posix_spawn_file_actions_destroy(&actions);
   unsetenv("VENUS_LOG_LEVEL");

   bool is_up = false;
   for (int i = 0; i < 1000 && !is_up && server_is_running(); i++) {
      struct sockaddr_un addr = { .sun_family = AF_UNIX };
      memcpy(addr.sun_path, S.sock, strlen(S.sock) + 1);
      const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      is_up = fd >= 0 && connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0;
      if (fd >= 0)
         close(fd);
      if (!is_up)
         usleep(10000);
   }
   CHECK(is_up);
   if (!is_up)
      exit(1);
}

TEST(native_reference)
{
   for (uint32_t i = 0; i < S.program_count; i++) {
      char dir[512];
      snprintf(dir, sizeof(dir), "%s/ref-%s", S.tmp, S.programs[i].name);
      /* the reference is a passing native run: under heavy load lavapipe
       * 22.3 has been seen to fail vkt_sync natively (a timeline read with
       * timeout 0 just after the fence of its batch signalled) */
      int status = -1;
      for (int attempt = 0; attempt < 3 && status != 0; attempt++)
         status = run_program(&S.programs[i], S.run_env_native, dir);
      /* exit status 77: the host lacks what the program needs (ray tracing
       * on lavapipe 22.3); it takes no part */
      if (status > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 77) {
         fprintf(stderr, "  %s skips natively (exit status 77): left out\n",
                 S.programs[i].name);
         memmove(&S.programs[i], &S.programs[i + 1],
                 sizeof(S.programs[0]) * (S.program_count - i - 1));
         S.program_count--;
         i--;
         continue;
      }
      CHECK(status == 0);
      if (status != 0)
         fprintf(stderr, "  native %s failed (status %d)\n", S.programs[i].name, status);
      /* and once through the server, to warm it up */
      snprintf(dir, sizeof(dir), "%s/warm", S.tmp);
      CHECK(run_through_driver(&S.programs[i], dir));
   }
   fprintf(stderr, "  [%5.1f s] native reference runs done\n", stamp());
}

TEST(baseline)
{
   stress_base = server_settle(-1);
   print_state("baseline", &stress_base);
   CHECK_EQ(stress_base.children, 0);
   CHECK(stress_base.fds > 0 && stress_base.rss_kb > 0 && stress_base.anon_kb > 0 &&
         stress_base.private_dirty_kb > 0);
}

/* ------------------------------------------------------------------ */
/* part 1: 15 test-program clients and a hostile one                  */

static uint64_t stress_deadline_ns;
static _Atomic uint32_t stress_good_runs;
static _Atomic uint32_t stress_good_failures;
static uint32_t stress_runs_per_client[STRESS_GOOD_CLIENTS];

static int
good_client(void *arg)
{
   const uint32_t slot = (uint32_t)(uintptr_t)arg;
   char dir[512];
   snprintf(dir, sizeof(dir), "%s/good-%u", S.tmp, slot);
   for (uint32_t n = slot; vu_os_time_ns() < stress_deadline_ns; n++) {
      const struct stress_program *prog = &S.programs[n % S.program_count];
      if (!run_through_driver(prog, dir))
         atomic_fetch_add(&stress_good_failures, 1);
      atomic_fetch_add(&stress_good_runs, 1);
      stress_runs_per_client[slot]++;
   }
   return 0;
}

static struct stress_hostile_report stress_hostile;

static int
hostile_client(void *arg)
{
   stress_hostile_run(S.sock, S.corpus, S.seed, stress_deadline_ns, &stress_hostile);
   return 0;
}

TEST(concurrent_clients)
{
   const long offset = log_offset();
   const uint64_t start = vu_os_time_ns();
   stress_deadline_ns = start + (uint64_t)S.seconds * 1000000000ull;

   thrd_t good[STRESS_GOOD_CLIENTS], hostile;
   for (uint32_t i = 0; i < STRESS_GOOD_CLIENTS; i++)
      CHECK(thrd_create(&good[i], good_client, (void *)(uintptr_t)i) == thrd_success);
   CHECK(thrd_create(&hostile, hostile_client, NULL) == thrd_success);

   /* sample the server while the clients run */
   int max_workers = 0;
   long max_workers_rss = 0;
   while (vu_os_time_ns() < stress_deadline_ns) {
      const struct server_state st = server_state();
      max_workers = st.children > max_workers ? st.children : max_workers;
      max_workers_rss =
         st.children_rss_kb > max_workers_rss ? st.children_rss_kb : max_workers_rss;
      usleep(500000);
   }
   for (uint32_t i = 0; i < STRESS_GOOD_CLIENTS; i++)
      thrd_join(good[i], NULL);
   thrd_join(hostile, NULL);
   const double secs = (double)(vu_os_time_ns() - start) / 1e9;

   CHECK(server_is_running());
   const uint32_t runs = atomic_load(&stress_good_runs);
   const uint32_t failures = atomic_load(&stress_good_failures);
   fprintf(stderr,
           "  part 1: %.1f s; %u program runs through the driver by %u clients, "
           "%u failed; at most %d workers at once, %ld MiB RSS in all\n",
           secs, runs, STRESS_GOOD_CLIENTS, failures, max_workers, max_workers_rss >> 10);
   CHECK_EQ(failures, 0);
   for (uint32_t i = 0; i < STRESS_GOOD_CLIENTS; i++)
      CHECK(stress_runs_per_client[i] >= 1);

   const struct stress_hostile_report *h = &stress_hostile;
   uint32_t per_mode[STRESS_MODE_COUNT] = { 0 }, dropped[STRESS_MODE_COUNT] = { 0 };
   for (uint32_t i = 0; i < h->count; i++) {
      per_mode[h->conns[i].mode]++;
      dropped[h->conns[i].mode] += h->conns[i].was_dropped;
   }
   fprintf(stderr,
           "  hostile client: %u connections, %llu bytes sent, %u stalled sends\n",
           h->count, (unsigned long long)h->bytes_sent, h->stalls);
   for (int m = 0; m < STRESS_MODE_COUNT; m++)
      fprintf(stderr, "    %-8s %4u connections, %4u dropped by the server\n",
              stress_mode_name(m), per_mode[m], dropped[m]);
   CHECK(!h->failed);
   CHECK(h->count >= S.seconds / 10 + 1);

   /* the workers log how each connection ended */
   check_no_leaks("after part 1");
   struct log_summary sum = {
      .hostile_ends = calloc(h->count + 1, 1),
      .hostile_dropped = calloc(h->count + 1, sizeof(bool)),
      .hostile_count = h->count,
   };
   log_scan(offset, &sum);
   uint32_t missing = 0, unexplained = 0, doubled = 0;
   for (uint32_t i = 0; i < h->count; i++) {
      if (!h->conns[i].has_name)
         continue;
      missing += sum.hostile_ends[i] == 0;
      doubled += sum.hostile_ends[i] > 1;
      if (h->conns[i].was_dropped && !sum.hostile_dropped[i]) {
         unexplained++;
         fprintf(stderr, "  hostile-%u (%s): dropped without a reason in the log\n", i,
                 stress_mode_name(h->conns[i].mode));
      }
   }
   fprintf(stderr,
           "  server log: %u crashes, %u host-driver leak reports; hostile ends "
           "missing %u, doubled %u, unexplained "
           "drops %u; raw connections refused %u of %u; driver sessions %u closed, %u "
           "dropped\n",
           sum.crashes, sum.driver_leaks, missing, doubled, unexplained, sum.raw_refused,
           per_mode[STRESS_MODE_RAW], sum.venus_closed, sum.venus_dropped);
   CHECK_EQ(sum.crashes, 0);
   CHECK_EQ(missing, 0);
   CHECK_EQ(doubled, 0);
   CHECK_EQ(unexplained, 0);
   CHECK_EQ(sum.raw_refused, per_mode[STRESS_MODE_RAW]);
   CHECK_EQ(sum.venus_dropped, 0);
   CHECK(sum.venus_closed >= runs);
   free(sum.hostile_ends);
   free(sum.hostile_dropped);
}

/* ------------------------------------------------------------------ */
/* part 2: connect/disconnect cycles                                   */

enum cycle_kind {
   CYCLE_CLOSE,       /* connect, close */
   CYCLE_HALF_HEADER, /* 3 bytes of a header */
   CYCLE_CUT_NAME,    /* CREATE_RENDERER cut inside its name */
   CYCLE_SESSION,     /* session, context, sync round trip */
   CYCLE_RESOURCES,   /* ... and a mapped blob, a pending wait, a fence, left live */
   CYCLE_RING,        /* ... a ring running real commands, left live */
   CYCLE_PROGRAM,     /* a test program through the driver */
   CYCLE_KIND_COUNT,
};

static enum cycle_kind
cycle_kind(uint32_t i)
{
   /* per 20 cycles: 8 close, 1 + 1 partial, 6 sessions, 2 with resources,
    * 1 ring, 1 program */
   static const uint8_t kinds[20] = {
      CYCLE_PROGRAM, CYCLE_CLOSE,   CYCLE_CLOSE,     CYCLE_CLOSE,     CYCLE_CLOSE,
      CYCLE_CLOSE,   CYCLE_CLOSE,   CYCLE_CLOSE,     CYCLE_CLOSE,     CYCLE_HALF_HEADER,
      CYCLE_CUT_NAME, CYCLE_SESSION, CYCLE_SESSION,  CYCLE_SESSION,   CYCLE_SESSION,
      CYCLE_SESSION, CYCLE_SESSION, CYCLE_RESOURCES, CYCLE_RESOURCES, CYCLE_RING,
   };
   return (enum cycle_kind)kinds[i % 20];
}

static const char *const cycle_kind_names[CYCLE_KIND_COUNT] = {
   "close", "half header", "cut name", "session", "resources", "ring", "program",
};

static _Atomic uint32_t stress_next_cycle;
static _Atomic uint32_t stress_cycle_failures[CYCLE_KIND_COUNT];

static bool
cycle_ring(struct vw_vtest_client *c)
{
   const size_t size = vw_ring_total_size(STRESS_RING_SIZE);
   uint32_t res_id;
   int fd = -1;
   if (!vw_vtest_resource_create_blob(c, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                      size, 0, &res_id, &fd))
      return false;
   uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   if (map == MAP_FAILED)
      return false;
   const VkRingCreateInfoMESA info = vw_ring_create_info(res_id, STRESS_RING_SIZE, 1000000);
   uint8_t cmd[1024];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkCreateRingMESA(&e, 0, 1, &info);
   bool ok = vw_vtest_submit_cmd(c, cmd, vp_encoder_size(&e));

   /* an instance created and destroyed through the ring */
   struct vp_guest_object obj = { .id = 0x100 };
   VkInstance instance = (VkInstance)(uintptr_t)&obj;
   const VkInstanceCreateInfo create = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
   };
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkCreateInstance(&e, 0, &create, NULL, &instance);
   vp_encode_vkDestroyInstance(&e, 0, instance, NULL);
   const uint32_t n = (uint32_t)vp_encoder_size(&e);
   ok = ok && !vp_encoder_is_fatal(&e);
   memcpy(map + VW_RING_BUFFER_OFFSET, cmd, n);
   _Atomic uint32_t *head = (_Atomic uint32_t *)(map + VW_RING_HEAD_OFFSET);
   _Atomic uint32_t *tail = (_Atomic uint32_t *)(map + VW_RING_TAIL_OFFSET);
   _Atomic uint32_t *status = (_Atomic uint32_t *)(map + VW_RING_STATUS_OFFSET);
   atomic_store_explicit(tail, n, memory_order_release);
   vu_os_futex_wake((const uint32_t *)tail, 1);
   const uint64_t deadline = vu_os_time_ns() + STRESS_REPLY_TIMEOUT_MS * 1000000ull;
   while (ok && atomic_load(head) != n && !(atomic_load(status) & VW_RING_STATUS_FATAL) &&
          vu_os_time_ns() < deadline)
      usleep(1000);
   ok = ok && atomic_load(head) == n && !(atomic_load(status) & VW_RING_STATUS_FATAL);
   munmap(map, size);
   return ok;
}

static bool
cycle_resources(struct vw_vtest_client *c)
{
   uint32_t res_id, sync_id;
   int fd = -1;
   if (!vw_vtest_resource_create_blob(c, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                      65536, 0, &res_id, &fd))
      return false;
   uint8_t *map = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   if (map == MAP_FAILED)
      return false;
   memset(map, 0x5a, 65536);
   munmap(map, 65536);
   if (!vw_vtest_sync_create(c, 0, &sync_id))
      return false;
   const struct vw_vtest_sync_point pending = { sync_id, 100 };
   const int wait_fd = vw_vtest_sync_wait(c, 0, UINT32_MAX, &pending, 1);
   const struct vw_vtest_sync_point set = { sync_id, 1 };
   const struct vw_vtest_submit_batch batch = { .has_ring_idx = true,
                                                .syncs = &set,
                                                .sync_count = 1 };
   const bool ok = wait_fd >= 0 && vw_vtest_submit_cmd2(c, &batch, 1);
   if (wait_fd >= 0)
      close(wait_fd);
   return ok;
}

/* cycle `i` of kind `kind`, run by cycle thread `slot` */
static bool
cycle_run(uint32_t i, enum cycle_kind kind, uint32_t slot)
{
   if (kind == CYCLE_PROGRAM) {
      char dir[512];
      snprintf(dir, sizeof(dir), "%s/cycle-%u", S.tmp, slot);
      return run_through_driver(&S.programs[(i / 20) % S.program_count], dir);
   }
   if (kind <= CYCLE_CUT_NAME) {
      struct sockaddr_un addr = { .sun_family = AF_UNIX };
      memcpy(addr.sun_path, S.sock, strlen(S.sock) + 1); /* length checked at start */
      const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0)
         return false;
      bool ok = connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0;
      if (ok && kind == CYCLE_HALF_HEADER) {
         ok = vu_os_write_full(fd, "\x06\x00\x00", 3);
      } else if (ok && kind == CYCLE_CUT_NAME) {
         /* 100 bytes of name announced, 4 sent */
         const uint32_t hdr[3] = { 100, VCMD_CREATE_RENDERER, 0x74756300 };
         ok = vu_os_write_full(fd, hdr, sizeof(hdr));
      }
      close(fd);
      return ok;
   }

   char name[32];
   snprintf(name, sizeof(name), "cycle-%u", i);
   struct vw_vtest_client *c = vw_vtest_connect(S.sock);
   struct vw_capset capset;
   uint32_t sync_id;
   uint64_t value = 0;
   bool ok = c && vw_vtest_start_session(c, name, &capset) &&
             vw_vtest_context_init(c, VW_CAPSET_ID_VENUS) &&
             vw_vtest_sync_create(c, i, &sync_id) &&
             vw_vtest_sync_read(c, sync_id, &value) && value == i;
   if (ok && kind == CYCLE_RESOURCES)
      ok = cycle_resources(c);
   if (ok && kind == CYCLE_RING)
      ok = cycle_ring(c);
   vw_vtest_disconnect(c);
   return ok;
}

static int
cycle_thread(void *arg)
{
   const uint32_t slot = (uint32_t)(uintptr_t)arg;
   for (;;) {
      const uint32_t i = atomic_fetch_add(&stress_next_cycle, 1);
      if (i >= S.cycles)
         return 0;
      /* each worker loads lavapipe: keep their number bounded */
      while (server_state().children >= STRESS_MAX_WORKERS_IN_FLIGHT)
         usleep(5000);
      const enum cycle_kind kind = cycle_kind(i);
      if (!cycle_run(i, kind, slot)) {
         atomic_fetch_add(&stress_cycle_failures[kind], 1);
         fprintf(stderr, "  cycle %u (%s) failed\n", i, cycle_kind_names[kind]);
      }
   }
}

TEST(connect_cycles)
{
   const long offset = log_offset();
   const uint64_t start = vu_os_time_ns();
   thrd_t threads[STRESS_CYCLE_THREADS];
   for (uint32_t i = 0; i < STRESS_CYCLE_THREADS; i++)
      CHECK(thrd_create(&threads[i], cycle_thread, (void *)(uintptr_t)i) == thrd_success);
   for (uint32_t i = 0; i < STRESS_CYCLE_THREADS; i++)
      thrd_join(threads[i], NULL);
   const double secs = (double)(vu_os_time_ns() - start) / 1e9;

   uint32_t per_kind[CYCLE_KIND_COUNT] = { 0 };
   for (uint32_t i = 0; i < S.cycles; i++)
      per_kind[cycle_kind(i)]++;
   fprintf(stderr, "  part 2: %u cycles in %.1f s (%.1f/s):", S.cycles, secs,
           secs > 0 ? S.cycles / secs : 0);
   for (int k = 0; k < CYCLE_KIND_COUNT; k++)
      fprintf(stderr, " %u %s%s", per_kind[k], cycle_kind_names[k],
              k + 1 < CYCLE_KIND_COUNT ? "," : "\n");
   for (int k = 0; k < CYCLE_KIND_COUNT; k++)
      CHECK_EQ(atomic_load(&stress_cycle_failures[k]), 0);

   check_no_leaks("after part 2");
   struct log_summary sum = {
      .cycle_ends = calloc(S.cycles + 1, 1),
      .cycle_dropped = calloc(S.cycles + 1, sizeof(bool)),
      .cycle_count = S.cycles,
   };
   log_scan(offset, &sum);
   uint32_t missing = 0, doubled = 0, dropped = 0;
   for (uint32_t i = 0; i < S.cycles; i++) {
      const enum cycle_kind kind = cycle_kind(i);
      if (kind < CYCLE_SESSION || kind == CYCLE_PROGRAM)
         continue;
      missing += sum.cycle_ends[i] == 0;
      doubled += sum.cycle_ends[i] > 1;
      dropped += sum.cycle_dropped[i];
   }
   fprintf(stderr,
           "  server log: %u crashes, %u host-driver leak reports; sessions: ends "
           "missing %u, doubled %u, dropped %u; "
           "anonymous: %u closed, %u cut in a header, %u cut in a name; driver sessions "
           "%u closed, %u dropped\n",
           sum.crashes, sum.driver_leaks, missing, doubled, dropped, sum.anon_closed,
           sum.anon_lost_header,
           sum.anon_lost_name, sum.venus_closed, sum.venus_dropped);
   CHECK_EQ(sum.crashes, 0);
   CHECK_EQ(missing, 0);
   CHECK_EQ(doubled, 0);
   CHECK_EQ(dropped, 0);
   CHECK_EQ(sum.anon_closed, per_kind[CYCLE_CLOSE]);
   CHECK_EQ(sum.anon_lost_header, per_kind[CYCLE_HALF_HEADER]);
   CHECK_EQ(sum.anon_lost_name, per_kind[CYCLE_CUT_NAME]);
   CHECK_EQ(sum.venus_dropped, 0);
   CHECK(sum.venus_closed >= per_kind[CYCLE_PROGRAM]);
   free(sum.cycle_ends);
   free(sum.cycle_dropped);
}

/* ------------------------------------------------------------------ */
/* part 3: one long session                                            */

/* one round of what a driver does all the time: a mapped blob, a fence that
 * sets a sync, a wait for it, an instance; every 10th round a ring */
static bool
long_session_round(struct vw_vtest_client *c, uint32_t round)
{
   const uint64_t blob_size = 256u << 10;
   uint32_t res_id, sync_id;
   int fd = -1;
   if (!vw_vtest_resource_create_blob(c, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                      blob_size, 0, &res_id, &fd))
      return false;
   uint8_t *map = mmap(NULL, blob_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   if (map == MAP_FAILED)
      return false;
   memset(map, (int)round, blob_size);

   uint8_t cmd[1024];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   struct vp_guest_object obj = { .id = 0x1000 + round };
   VkInstance instance = (VkInstance)(uintptr_t)&obj;
   const VkInstanceCreateInfo create = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
   };
   vp_encode_vkCreateInstance(&e, 0, &create, NULL, &instance);
   vp_encode_vkDestroyInstance(&e, 0, instance, NULL);
   if (round % 10 == 0) {
      const VkRingCreateInfoMESA info = {
         .sType = VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA,
         .resourceId = res_id,
         .size = vw_ring_total_size(STRESS_RING_SIZE),
         .idleTimeout = 1000000,
         .headOffset = VW_RING_HEAD_OFFSET,
         .tailOffset = VW_RING_TAIL_OFFSET,
         .statusOffset = VW_RING_STATUS_OFFSET,
         .bufferOffset = VW_RING_BUFFER_OFFSET,
         .bufferSize = STRESS_RING_SIZE,
         .extraOffset = VW_RING_BUFFER_OFFSET + STRESS_RING_SIZE,
         .extraSize = VW_RING_EXTRA_SIZE,
      };
      memset(map, 0, blob_size);
      vp_encode_vkCreateRingMESA(&e, 0, 7, &info);
      vp_encode_vkDestroyRingMESA(&e, 0, 7);
   }
   munmap(map, blob_size);
   bool ok = !vp_encoder_is_fatal(&e) &&
             vw_vtest_submit_cmd(c, cmd, vp_encoder_size(&e)) &&
             vw_vtest_resource_unref(c, res_id) && vw_vtest_sync_create(c, 0, &sync_id);
   if (!ok)
      return false;

   const struct vw_vtest_sync_point set = { sync_id, 1 };
   const struct vw_vtest_submit_batch batch = { .has_ring_idx = true,
                                                .syncs = &set,
                                                .sync_count = 1 };
   const int wait_fd =
      vw_vtest_submit_cmd2(c, &batch, 1) ? vw_vtest_sync_wait(c, 0, 10000, &set, 1) : -1;
   ok = wait_fd >= 0 && vw_vtest_wait_fd(wait_fd, STRESS_REPLY_TIMEOUT_MS) == 1;
   if (wait_fd >= 0)
      close(wait_fd);
   return ok && vw_vtest_sync_unref(c, sync_id);
}

/* fds of process `pid` (-1 where /proc does not show them: a worker is not
 * dumpable, so only a privileged test can look) and its RSS */
static void
process_usage(pid_t pid, int *out_fds, long *out_rss_kb)
{
   char path[128];
   snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
   *out_fds = stress_count_entries(path, NULL);
   snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
   *out_rss_kb = stress_proc_field_kb(path, "VmRSS:");
}

/* a worker's own resources do not grow over many rounds of one session */
TEST(long_session)
{
   server_settle(stress_base.fds);
   struct vw_vtest_client *c = vw_vtest_connect(S.sock);
   struct vw_capset capset;
   uint32_t long_session_sync;
   bool ok = c && vw_vtest_start_session(c, "long-session", &capset) &&
             vw_vtest_context_init(c, VW_CAPSET_ID_VENUS) &&
             vw_vtest_sync_create(c, 0, &long_session_sync);
   CHECK(ok);
   const struct server_state st = server_state();
   CHECK_EQ(st.children, 1);

   char path[128];
   snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)S.server_pid,
            (int)S.server_pid);
   size_t size;
   char *list = stress_read_file(path, &size);
   const pid_t worker = list ? (pid_t)atoi(list) : -1;
   free(list);
   CHECK(worker > 0);

   /* warm up (lavapipe's first instance, the allocator's arenas), then 500 */
   const uint32_t warm = 50, rounds = 500;
   uint32_t round = 0;
   for (; ok && round < warm; round++)
      ok = long_session_round(c, round);
   int fds0, fds1;
   long rss0, rss1;
   /* a request with a reply: the worker has finished the rounds (a wait's
    * eventfd is closed just after it is signalled) */
   uint64_t value;
   ok = ok && vw_vtest_sync_read(c, long_session_sync, &value);
   process_usage(worker, &fds0, &rss0);
   const uint64_t start = vu_os_time_ns();
   for (; ok && round < warm + rounds; round++)
      ok = long_session_round(c, round);
   ok = ok && vw_vtest_sync_read(c, long_session_sync, &value);
   process_usage(worker, &fds1, &rss1);
   CHECK(ok);
   fprintf(stderr,
           "  [%5.1f s] long session: %u rounds in %.1f s; worker fds %d -> %d, "
           "RSS %ld -> %ld KiB\n",
           stamp(), rounds, (double)(vu_os_time_ns() - start) / 1e9, fds0, fds1, rss0,
           rss1);
   CHECK_EQ(fds1, fds0);
   if (fds1 != fds0)
      dump_fds(worker);
   CHECK(rss0 > 0 && rss1 <= rss0 + STRESS_WORKER_SLACK_KB);
   vw_vtest_disconnect(c);
   check_no_leaks("after the long session");
}

/* ------------------------------------------------------------------ */
/* the end                                                             */

TEST(fresh_clients)
{
   char dir[512];
   snprintf(dir, sizeof(dir), "%s/fresh", S.tmp);
   for (uint32_t i = 0; i < S.program_count; i++)
      CHECK(run_through_driver(&S.programs[i], dir));
   check_no_leaks("after fresh clients");
}

TEST(stop_server)
{
   int status = -1;
   CHECK(kill(S.server_pid, SIGTERM) == 0);
   CHECK(waitpid(S.server_pid, &status, 0) == S.server_pid);
   CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
   CHECK(access(S.sock, F_OK) != 0);
   if (harness_failures)
      fprintf(stderr, "  kept %s (server.log, program outputs)\n", S.tmp);
   else
      stress_remove_tree(S.tmp);
}

/* arguments: NAME=PATH of each test program */
static void
parse_args(int argc, char **argv)
{
   for (int i = 1; i < argc && S.program_count < STRESS_MAX_PROGRAMS; i++) {
      char *eq = strchr(argv[i], '=');
      if (!eq)
         continue;
      *eq = '\0';
      S.programs[S.program_count++] = (struct stress_program){ argv[i], eq + 1 };
   }
}

#define main stress_main
RUN_TESTS(start_server,
          native_reference,
          baseline,
          concurrent_clients,
          connect_cycles,
          long_session,
          fresh_clients,
          stop_server)
#undef main

int
main(int argc, char **argv)
{
   signal(SIGPIPE, SIG_IGN);
   stress_start_ns = vu_os_time_ns();
   mtx_init(&stress_print_mutex, mtx_plain);
   parse_args(argc, argv);
   return stress_main();
}
