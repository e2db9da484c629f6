/*
 * Unit tests for the OS helpers (memfd, shared futex across fork(), full
 * read/write loops under signals, fd passing, relax backoff, the futex lock)
 * and for the environment parsing and log line format of vu_log.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

#include "util/vu_log.h"
#include "util/vu_os.h"

#define MS_NS ((uint64_t)1000000)

/* Must run first: the environment is parsed once, on first use. */
TEST(env_parsed_once)
{
   setenv("VENUS_DEBUG", "init, ring,bogus,DECODE", 1);
   setenv("VENUS_PERF", "no_feedback,no_host_pointer", 1);
   setenv("VENUS_LOG_LEVEL", "info", 1);
   setenv("VTEST_SOCKET_NAME", "/tmp/test-vtest.sock", 1);

   const struct vu_env *env = vu_env_get();
   CHECK_EQ(env->debug, VU_DEBUG_INIT | VU_DEBUG_RING | VU_DEBUG_DECODE);
   CHECK_EQ(env->perf, VU_PERF_NO_FEEDBACK | VU_PERF_NO_HOST_POINTER);
   CHECK_EQ(env->level, VU_LOG_INFO);
   CHECK(env->vtest_socket && !strcmp(env->vtest_socket, "/tmp/test-vtest.sock"));
   CHECK(VU_DEBUG(RING));
   CHECK(!VU_DEBUG(RESULT));
   CHECK(VU_PERF(NO_FEEDBACK));
   CHECK(!VU_PERF(NO_CACHE));

   /* later changes are not seen */
   setenv("VENUS_DEBUG", "result", 1);
   CHECK(vu_env_get() == env);
   CHECK(!VU_DEBUG(RESULT));

   setenv("VU_TEST_INT", "0x20", 1);
   CHECK_EQ(vu_env_int("VU_TEST_INT", 5), 32);
   setenv("VU_TEST_INT", "12abc", 1);
   CHECK_EQ(vu_env_int("VU_TEST_INT", 5), 5);
   CHECK_EQ(vu_env_int("VU_TEST_UNSET_VARIABLE", -3), -3);
   CHECK(vu_env_string("VU_TEST_UNSET_VARIABLE") == NULL);
   CHECK(!strcmp(vu_env_string("VU_TEST_INT"), "12abc"));
}

TEST(log_writes_one_line)
{
   int fds[2];
   CHECK(pipe(fds) == 0);
   const int saved_stderr = dup(STDERR_FILENO);
   dup2(fds[1], STDERR_FILENO);

   errno = EBADF;
   vu_log(VU_LOG_INFO, "test", "x=%d", 5);
   CHECK_EQ(errno, EBADF);
   vu_log(VU_LOG_DEBUG, "test", "suppressed at level info");
   char long_msg[3000];
   memset(long_msg, 'a', sizeof(long_msg) - 1);
   long_msg[sizeof(long_msg) - 1] = '\0';
   vu_log(VU_LOG_ERROR, "renderer", "%s", long_msg);

   dup2(saved_stderr, STDERR_FILENO);
   close(saved_stderr);
   close(fds[1]);

   char buf[4096];
   size_t len = 0;
   ssize_t n;
   while ((n = read(fds[0], buf + len, sizeof(buf) - len)) > 0)
      len += (size_t)n;
   close(fds[0]);

   static const char first[] = "[venus test] x=5\n";
   CHECK(len > sizeof(first) - 1);
   CHECK_MEM(buf, first, sizeof(first) - 1);
   /* the long message is cut but still one newline-terminated line */
   const char *second = buf + sizeof(first) - 1;
   const size_t second_len = len - (sizeof(first) - 1);
   CHECK(second_len <= 1024 && second_len > 100);
   CHECK(!strncmp(second, "[venus renderer] aaaa", 21));
   CHECK(second[second_len - 1] == '\n');
   CHECK(memchr(second, '\n', second_len - 1) == NULL);
}

TEST(shm_is_sized_sealable_cloexec)
{
   const int fd = vu_os_create_shm("test-shm", 65536);
   CHECK(fd >= 0);
   if (fd < 0)
      return;

   struct stat st;
   CHECK(fstat(fd, &st) == 0);
   CHECK_EQ(st.st_size, 65536);
   CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
   /* sealed against shrinking (a reader of a mapping would get SIGBUS),
    * growing still allowed */
   CHECK(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
   CHECK(ftruncate(fd, 4096) < 0 && errno == EPERM);
   CHECK(ftruncate(fd, 65536) == 0);

   uint8_t *a = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   uint8_t *b = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   CHECK(a != MAP_FAILED && b != MAP_FAILED);
   if (a != MAP_FAILED && b != MAP_FAILED) {
      CHECK_EQ(b[65535], 0);
      a[65535] = 0x5a;
      CHECK_EQ(b[65535], 0x5a);
      munmap(a, 65536);
      munmap(b, 65536);
   }
   close(fd);
}

TEST(futex_wait_times_out)
{
   uint32_t word = 3;
   uint64_t t0 = vu_os_time_ns();
   CHECK(!vu_os_futex_wait(&word, 3, 20 * MS_NS));
   const uint64_t elapsed = vu_os_time_ns() - t0;
   CHECK(elapsed >= 19 * MS_NS);
   CHECK(elapsed < 500 * MS_NS);

   /* zero timeout: immediate */
   CHECK(!vu_os_futex_wait(&word, 3, 0));
   /* value already differs: returns at once, not a timeout */
   t0 = vu_os_time_ns();
   CHECK(vu_os_futex_wait(&word, 4, 1000 * MS_NS));
   CHECK(vu_os_time_ns() - t0 < 100 * MS_NS);
}

static uint32_t *
map_shared_words(int *out_fd)
{
   *out_fd = vu_os_create_shm("test-futex", 4096);
   if (*out_fd < 0)
      return NULL;
   void *ptr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, *out_fd, 0);
   return ptr == MAP_FAILED ? NULL : ptr;
}

static bool
child_exited_with(pid_t pid, int code)
{
   int status;
   if (waitpid(pid, &status, 0) != pid)
      return false;
   return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* The child wakes the parent without changing the word, so only a shared
 * futex wake (not a value change) can end the parent's wait before its
 * timeout: a private futex would not reach the other process. */
TEST(futex_wake_reaches_other_process)
{
   int fd;
   uint32_t *words = map_shared_words(&fd);
   CHECK(words != NULL);
   if (!words)
      return;
   _Atomic uint32_t *done = (_Atomic uint32_t *)&words[1];

   const pid_t pid = fork();
   CHECK(pid >= 0);
   if (pid == 0) {
      for (int i = 0; i < 400; i++) {
         vu_os_futex_wake(&words[0], INT32_MAX);
         if (atomic_load_explicit(done, memory_order_acquire))
            _exit(0);
         usleep(5000);
      }
      _exit(1);
   }

   const uint64_t t0 = vu_os_time_ns();
   const bool woken = vu_os_futex_wait(&words[0], 0, 1500 * MS_NS);
   const uint64_t elapsed = vu_os_time_ns() - t0;
   atomic_store_explicit(done, 1, memory_order_release);

   CHECK(woken);
   CHECK(elapsed < 1000 * MS_NS);
   CHECK(child_exited_with(pid, 0));
   munmap(words, 4096);
   close(fd);
}

/* The parent publishes a value and wakes a child blocked in the wait. */
TEST(futex_value_change_wakes_child)
{
   int fd;
   uint32_t *words = map_shared_words(&fd);
   CHECK(words != NULL);
   if (!words)
      return;
   _Atomic uint32_t *word = (_Atomic uint32_t *)&words[0];

   const pid_t pid = fork();
   CHECK(pid >= 0);
   if (pid == 0) {
      const uint64_t deadline = vu_os_time_ns() + 2000 * MS_NS;
      while (atomic_load_explicit(word, memory_order_acquire) == 0) {
         if (vu_os_time_ns() > deadline)
            _exit(2);
         vu_os_futex_wait(&words[0], 0, 2000 * MS_NS);
      }
      _exit(atomic_load_explicit(word, memory_order_acquire) == 7 ? 0 : 1);
   }

   usleep(20000);
   atomic_store_explicit(word, 7, memory_order_release);
   vu_os_futex_wake(&words[0], 1);
   CHECK(child_exited_with(pid, 0));
   munmap(words, 4096);
   close(fd);
}

TEST(time_is_monotonic)
{
   const uint64_t a = vu_os_time_ns();
   usleep(2000);
   const uint64_t b = vu_os_time_ns();
   CHECK(b > a);
   CHECK(b - a >= 2 * MS_NS);
}

static volatile sig_atomic_t alarm_count;

static void
on_alarm(int sig)
{
   (void)sig;
   alarm_count++;
}

/* A writer that dribbles data in small pieces while a 1 ms interval timer
 * (without SA_RESTART) interrupts the reader: read_full must see short reads
 * and EINTR and still return exactly the bytes written. */
TEST(read_write_full_survive_eintr_and_short_transfers)
{
   enum { SIZE = 256 * 1024, PIECE = 16 * 1024 };
   static uint8_t out[SIZE], in[SIZE];
   for (size_t i = 0; i < SIZE; i++)
      out[i] = (uint8_t)(i * 31 + (i >> 8));

   int sv[2];
   CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

   const pid_t pid = fork();
   CHECK(pid >= 0);
   if (pid == 0) {
      close(sv[0]);
      bool ok = true;
      for (size_t off = 0; off < SIZE; off += PIECE) {
         ok = ok && vu_os_write_full(sv[1], out + off, PIECE);
         usleep(1000);
      }
      _exit(ok ? 0 : 1);
   }
   close(sv[1]);

   struct sigaction sa = { .sa_handler = on_alarm };
   sigemptyset(&sa.sa_mask);
   struct sigaction old_sa;
   sigaction(SIGALRM, &sa, &old_sa);
   struct itimerval timer = { .it_interval = { 0, 1000 }, .it_value = { 0, 1000 } };
   setitimer(ITIMER_REAL, &timer, NULL);

   const bool ok = vu_os_read_full(sv[0], in, SIZE);

   const struct itimerval stop = { { 0, 0 }, { 0, 0 } };
   setitimer(ITIMER_REAL, &stop, NULL);
   sigaction(SIGALRM, &old_sa, NULL);

   CHECK(ok);
   CHECK_MEM(in, out, SIZE);
   CHECK(alarm_count > 0);
   CHECK(child_exited_with(pid, 0));

   /* end of file before the full size: false with errno 0 */
   uint8_t extra;
   errno = EINVAL;
   CHECK(!vu_os_read_full(sv[0], &extra, 1));
   CHECK_EQ(errno, 0);
   close(sv[0]);
}

TEST(write_full_to_closed_socket_fails_without_sigpipe)
{
   int sv[2];
   CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
   close(sv[1]);
   const uint8_t byte = 1;
   CHECK(!vu_os_write_full(sv[0], &byte, 1));
   CHECK_EQ(errno, EPIPE);
   close(sv[0]);

   /* non-socket fds go through write() */
   int fds[2];
   CHECK(pipe(fds) == 0);
   CHECK(vu_os_write_full(fds[1], "abc", 3));
   char buf[3];
   CHECK(vu_os_read_full(fds[0], buf, 3));
   CHECK_MEM(buf, "abc", 3);
   close(fds[0]);
   close(fds[1]);
}

TEST(fd_passing_gives_working_fd)
{
   int sv[2];
   CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
   int pipe_fds[2];
   CHECK(pipe(pipe_fds) == 0);

   CHECK(vu_os_send_fd(sv[0], pipe_fds[1]));
   const int received = vu_os_recv_fd(sv[1]);
   CHECK(received >= 0);
   CHECK(received != pipe_fds[1]);
   CHECK(fcntl(received, F_GETFD) & FD_CLOEXEC);

   /* the received fd is the pipe's write end */
   CHECK(vu_os_write_full(received, "hello", 5));
   char buf[5];
   CHECK(vu_os_read_full(pipe_fds[0], buf, 5));
   CHECK_MEM(buf, "hello", 5);
   close(received);

   /* on the wire: exactly one data byte, of value 0, and nothing more */
   CHECK(vu_os_send_fd(sv[0], pipe_fds[0]));
   uint8_t data[4] = { 0xff, 0xff, 0xff, 0xff };
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
   } control;
   struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
   struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf) };
   const ssize_t n = recvmsg(sv[1], &msg, MSG_DONTWAIT);
   CHECK_EQ(n, 1);
   CHECK_EQ(data[0], 0);
   struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
   CHECK(cmsg && cmsg->cmsg_type == SCM_RIGHTS);
   if (cmsg) {
      int fd;
      memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
      close(fd);
   }
   CHECK(recv(sv[1], data, sizeof(data), MSG_DONTWAIT) < 0 && errno == EAGAIN);

   /* a byte without an fd is rejected; end of file gives errno 0 */
   CHECK(send(sv[0], "x", 1, 0) == 1);
   CHECK_EQ(vu_os_recv_fd(sv[1]), -1);
   CHECK_EQ(errno, EBADMSG);
   close(sv[0]);
   CHECK_EQ(vu_os_recv_fd(sv[1]), -1);
   CHECK_EQ(errno, 0);

   close(sv[1]);
   close(pipe_fds[0]);
   close(pipe_fds[1]);
}

TEST(relax_yields_then_sleeps_bounded)
{
   /* the first 256 iterations only yield */
   uint64_t t0 = vu_os_time_ns();
   uint32_t iter = 0;
   while (iter < 256)
      iter = vu_os_relax(iter, 1000);
   CHECK_EQ(iter, 256);
   CHECK(vu_os_time_ns() - t0 < 100 * MS_NS);

   /* iteration 256 sleeps base_sleep_us */
   t0 = vu_os_time_ns();
   CHECK_EQ(vu_os_relax(256, 2000), 257);
   uint64_t elapsed = vu_os_time_ns() - t0;
   CHECK(elapsed >= 2 * MS_NS);
   CHECK(elapsed < 50 * MS_NS);

   /* iteration 1024 (bit length 11) sleeps base << 2 */
   t0 = vu_os_time_ns();
   vu_os_relax(1024, 1000);
   elapsed = vu_os_time_ns() - t0;
   CHECK(elapsed >= 4 * MS_NS);

   /* huge iterations stay capped at 10 ms */
   t0 = vu_os_time_ns();
   CHECK_EQ(vu_os_relax(UINT32_MAX, 1000000), UINT32_MAX);
   elapsed = vu_os_time_ns() - t0;
   CHECK(elapsed >= 10 * MS_NS);
   CHECK(elapsed < 60 * MS_NS);
}

/* vu_lock: threads that increment a plain counter under the lock, some
 * of them yielding inside it so that others sleep on the futex (state 2),
 * never overlap and lose no increment; the lock ends free. */
enum { LOCK_THREADS = 4, LOCK_ROUNDS = 100000 };
static struct vu_lock test_lock;
static uint64_t lock_counter;
static atomic_int lock_inside, lock_overlaps;

static int
lock_worker(void *arg)
{
   const int index = (int)(intptr_t)arg;
   for (int i = 0; i < LOCK_ROUNDS; i++) {
      vu_lock_take(&test_lock);
      if (atomic_fetch_add(&lock_inside, 1))
         atomic_fetch_add(&lock_overlaps, 1);
      lock_counter++;
      if (!((i + index) % 997))
         thrd_yield(); /* hold it a while: the others go to sleep */
      atomic_fetch_sub(&lock_inside, 1);
      vu_lock_give(&test_lock);
   }
   return 0;
}

TEST(lock_excludes_and_wakes_sleepers)
{
   thrd_t threads[LOCK_THREADS];
   for (int i = 0; i < LOCK_THREADS; i++)
      CHECK(thrd_create(&threads[i], lock_worker, (void *)(intptr_t)i) == thrd_success);
   for (int i = 0; i < LOCK_THREADS; i++)
      CHECK(thrd_join(threads[i], NULL) == thrd_success);
   CHECK_EQ(lock_counter, (uint64_t)LOCK_THREADS * LOCK_ROUNDS);
   CHECK_EQ(atomic_load(&lock_overlaps), 0);
   CHECK_EQ(atomic_load(&test_lock.state), 0u);
}

/* minor page faults this process has taken so far */
static long
minor_faults(void)
{
   struct rusage ru;
   CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
   return ru.ru_minflt;
}

/* writes one byte into every page; returns the minor faults that took
 * (not instrumented: AddressSanitizer's reads of its shadow memory would
 * fault pages of their own) */
__attribute__((no_sanitize("address"))) static long
touch_pages(uint8_t *map, size_t size, uint8_t value)
{
   const long before = minor_faults();
   for (size_t off = 0; off < size; off += 4096)
      map[off] = value;
   return minor_faults() - before;
}

#define POPULATE_PAGES 1024u

TEST(map_shared_fills_page_tables_of_resident_files_only)
{
   const size_t size = (size_t)POPULATE_PAGES * 4096;
   int fd = vu_os_create_shm("test-populate", size);
   CHECK(fd >= 0);
   bool populated = true;

   /* nothing allocated yet: mapped as it is, and still nothing allocated */
   uint8_t *a = vu_os_map_shared(fd, size, &populated);
   CHECK(a != NULL);
   CHECK(!populated);
   struct stat st;
   CHECK(fstat(fd, &st) == 0);
   CHECK_EQ((long long)st.st_blocks, 0);

   /* half the pages written through one mapping: still as it is */
   touch_pages(a, size / 2, 1);
   uint8_t *b = vu_os_map_shared(fd, size, &populated);
   CHECK(b != NULL);
   CHECK(!populated);
   CHECK(fstat(fd, &st) == 0);
   CHECK((size_t)st.st_blocks * 512 <= size / 2);

   /* every page exists (as after a host driver pinned the memory): the
    * plain mapping faults once per page, the filled-in one not at all, and
    * both see the same memory */
   touch_pages(a + size / 2, size / 2, 2);
   CHECK(touch_pages(b, size, 3) >= (long)POPULATE_PAGES / 2);
   uint8_t *c = vu_os_map_shared(fd, size, &populated);
   CHECK(c != NULL);
   CHECK(populated);
   CHECK(touch_pages(c, size, 4) < (long)POPULATE_PAGES / 16);
   CHECK_EQ(a[size - 4096], 4);
   CHECK_EQ(b[0], 4);

   /* no file: no mapping */
   CHECK(vu_os_map_shared(-1, size, &populated) == NULL);
   CHECK(!populated);
   munmap(c, size);
   munmap(b, size);
   munmap(a, size);
   close(fd);
}

RUN_TESTS(env_parsed_once, log_writes_one_line, shm_is_sized_sealable_cloexec,
          futex_wait_times_out, futex_wake_reaches_other_process,
          futex_value_change_wakes_child, time_is_monotonic,
          read_write_full_survive_eintr_and_short_transfers,
          write_full_to_closed_socket_fails_without_sigpipe, fd_passing_gives_working_fd,
          relax_yields_then_sleeps_bounded, lock_excludes_and_wakes_sleepers,
          map_shared_fills_page_tables_of_resident_files_only)
