/*
 * venus-server end to end: starts the server (path in $VENUS_SERVER) on a
 * temporary socket, talks to it with the vw vtest client library and with raw
 * hand-made requests, and checks the answers, the hostile cases (every one
 * must drop only the offending client), that a worker still running after its
 * client hung up is killed, and that no worker process or fd leaks in the
 * server after many clients, one of them misbehaving.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

#include "harness.h"
#include "harness_proc.h"
#include "util/vu_log.h"
#include "util/vu_os.h"
#include "transport/vw_vtest.h"
#include "transport/vw_vtest_client.h"

#define SERVER_START_TIMEOUT_MS 10000
/* how long a reply or a drop may take: a new worker loads the host Vulkan
 * driver before it reads its first request (docs/sandbox.md), which takes
 * seconds when 16 start at once on a loaded 2-core machine */
#define DROP_TIMEOUT_MS 30000
#define CLIENT_THREADS 16
/* the server's --worker-grace-ms here */
#define WORKER_GRACE_MS 2000
#define STR_(x) #x
#define STR(x) STR_(x)

static pid_t server_pid = -1;
static char tmp_dir[64];
static char sock_path[96];

/* ---- raw socket helpers (for requests the client library never sends) ---- */

static int
raw_connect(void)
{
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
   const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      return -1;
   if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
      close(fd);
      return -1;
   }
   return fd;
}

static bool
raw_write(int fd, const void *buf, size_t size)
{
   return vu_os_write_full(fd, buf, size);
}

/* [len][id] followed by `count` payload dwords (count may disagree with len) */
static bool
raw_send(int fd, uint32_t len, uint32_t id, const uint32_t *payload, uint32_t count)
{
   const uint32_t hdr[2] = { len, id };
   return raw_write(fd, hdr, sizeof(hdr)) &&
          (!count || raw_write(fd, payload, count * sizeof(uint32_t)));
}

static bool
raw_read(int fd, void *buf, size_t size)
{
   struct pollfd pfd = { .fd = fd, .events = POLLIN };
   if (poll(&pfd, 1, DROP_TIMEOUT_MS) != 1)
      return false;
   return vu_os_read_full(fd, buf, size);
}

/* reads n dwords and compares them with `expected` */
static bool
raw_expect(int fd, const uint32_t *expected, uint32_t n)
{
   uint32_t got[64];
   if (n > 64 || !raw_read(fd, got, n * sizeof(uint32_t)))
      return false;
   for (uint32_t i = 0; i < n; i++) {
      if (got[i] != expected[i]) {
         fprintf(stderr, "  reply dword %u: got %u, expected %u\n", i, got[i],
                 expected[i]);
         return false;
      }
   }
   return true;
}

/* CREATE_RENDERER, PROTOCOL_VERSION(version) and optionally CONTEXT_INIT(4) */
static bool
raw_start(int fd, uint32_t version, bool with_context)
{
   static const char name[] = "raw";
   const uint32_t hdr[2] = { sizeof(name), VCMD_CREATE_RENDERER };
   const uint32_t capset_id = VW_CAPSET_ID_VENUS;
   uint32_t expected_version = version < 4 ? version : 4;
   if (expected_version == 1)
      expected_version = 0;
   const uint32_t reply[3] = { 1, VCMD_PROTOCOL_VERSION, expected_version };

   if (!raw_write(fd, hdr, sizeof(hdr)) || !raw_write(fd, name, sizeof(name)) ||
       !raw_send(fd, 1, VCMD_PROTOCOL_VERSION, &version, 1) || !raw_expect(fd, reply, 3))
      return false;
   return !with_context || raw_send(fd, 1, VCMD_CONTEXT_INIT, &capset_id, 1);
}

/* true if the server closes the connection (any pending replies are skipped) */
static bool
raw_is_dropped(int fd)
{
   const uint64_t deadline = vu_os_time_ns() + DROP_TIMEOUT_MS * 1000000ull;
   for (;;) {
      const uint64_t now = vu_os_time_ns();
      if (now >= deadline)
         return false;
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      if (poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
         continue;
      char buf[256];
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n == 0 || (n < 0 && errno == ECONNRESET))
         return true;
      if (n < 0 && errno != EINTR)
         return false;
   }
}

/* ---- server process state ---- */

static bool
server_is_running(void)
{
   return server_pid > 0 && waitpid(server_pid, NULL, WNOHANG) == 0;
}

static int
server_fd_count(void)
{
   char path[64];
   snprintf(path, sizeof(path), "/proc/%d/fd", (int)server_pid);
   DIR *dir = opendir(path);
   if (!dir)
      return -1;
   int count = 0;
   for (struct dirent *e; (e = readdir(dir));)
      count += e->d_name[0] != '.';
   closedir(dir);
   return count;
}

/* processes whose parent is the server (its workers, reaped or not); the
 * last one found goes to *out_pid */
static int
server_children(pid_t *out_pid)
{
   pid_t pids[256];
   const int count = harness_children(server_pid, true, pids, 256);
   if (out_pid && count > 0 && count <= 256)
      *out_pid = pids[count - 1];
   return count;
}

static int
server_child_count(void)
{
   return server_children(NULL);
}

/* waits until the server has no workers left and holds `fds` fds */
static bool
server_wait_idle(int fds)
{
   for (int i = 0; i < 3000; i++) { /* 30 s: workers unload the host driver */
      if (server_child_count() == 0 && server_fd_count() == fds)
         return true;
      usleep(10000);
   }
   fprintf(stderr, "  server: %d children, %d fds (expected 0, %d)\n",
           server_child_count(), server_fd_count(), fds);
   return false;
}

/* a full session with the client library still works */
static bool
good_client_works(void)
{
   struct vw_vtest_client *c = vw_vtest_connect(sock_path);
   struct vw_capset capset;
   uint32_t sync_id;
   uint64_t value = 0;
   bool ok = c && vw_vtest_start_session(c, "good", &capset) &&
             vw_vtest_context_init(c, VW_CAPSET_ID_VENUS) &&
             vw_vtest_sync_create(c, 7, &sync_id) &&
             vw_vtest_sync_read(c, sync_id, &value) && value == 7;
   vw_vtest_disconnect(c);
   return ok;
}

/* ---- tests ---- */

TEST(start_server)
{
   const char *server = vu_env_string("VENUS_SERVER");
   CHECK(server != NULL);
   if (!server)
      exit(1);

   snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/venus-vtest-XXXXXX");
   CHECK(mkdtemp(tmp_dir) != NULL);
   snprintf(sock_path, sizeof(sock_path), "%s/sock", tmp_dir);
   /* the client library's default path comes from here (read once) */
   setenv("VTEST_SOCKET_NAME", sock_path, 1);

   /* leave a stale socket file behind: the server must replace it */
   const int stale = socket(AF_UNIX, SOCK_STREAM, 0);
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
   CHECK(bind(stale, (const struct sockaddr *)&addr, sizeof(addr)) == 0);
   close(stale);

   char path_arg[160];
   snprintf(path_arg, sizeof(path_arg), "--socket-path=%s", sock_path);
   server_pid = fork();
   if (server_pid == 0) {
      execl(server, server, "--venus", path_arg, "--max-request-mb=4",
            "--worker-grace-ms=" STR(WORKER_GRACE_MS), (char *)NULL);
      _exit(127);
   }
   CHECK(server_pid > 0);

   int fd = -1;
   for (int i = 0; i < SERVER_START_TIMEOUT_MS / 10 && fd < 0 && server_is_running();
        i++) {
      fd = raw_connect();
      if (fd < 0)
         usleep(10000);
   }
   CHECK(fd >= 0);
   if (fd < 0)
      exit(1);
   close(fd);
}

TEST(session_and_capset)
{
   struct vw_vtest_client *c = vw_vtest_connect(NULL); /* via VTEST_SOCKET_NAME */
   struct vw_capset capset;

   CHECK(c != NULL);
   if (!c)
      return;
   CHECK(vw_vtest_start_session(c, "session", &capset));
   CHECK_EQ(vw_vtest_protocol_version(c), 4);
   CHECK_EQ(vw_vtest_max_timeline_count(c), 64);
   CHECK_EQ(capset.wire_format_version, 1);
   CHECK_EQ(capset.supports_blob_id_0, 1);
   CHECK_EQ(capset.vk_extension_mask1[0] & 1, 1);
   CHECK_EQ(capset.supports_multiple_timelines, 1);
   CHECK(vw_vtest_context_init(c, VW_CAPSET_ID_VENUS));
   CHECK(vw_vtest_context_init(c, VW_CAPSET_ID_VENUS)); /* same capset again: fine */
   vw_vtest_disconnect(c);
}

TEST(raw_requests)
{
   /* version negotiation: min(client, 4), 1 becomes 0 */
   static const uint32_t versions[] = { 0, 1, 2, 3, 4, 99 };
   for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
      const int fd = raw_connect();
      CHECK(raw_start(fd, versions[i], false));
      close(fd);
   }

   const int fd = raw_connect();
   CHECK(raw_start(fd, 3, false));

   CHECK(raw_send(fd, 0, VCMD_PING_PROTOCOL_VERSION, NULL, 0));
   CHECK(raw_expect(fd, (const uint32_t[]){ 0, VCMD_PING_PROTOCOL_VERSION }, 2));

   const uint32_t busy[2] = { 0, 1 };
   CHECK(raw_send(fd, 2, VCMD_RESOURCE_BUSY_WAIT, busy, 2));
   CHECK(raw_expect(fd, (const uint32_t[]){ 1, VCMD_RESOURCE_BUSY_WAIT, 0 }, 3));

   const uint32_t params[] = { VCMD_PARAM_MAX_TIMELINE_COUNT,
                               VCMD_PARAM_HAS_TIMELINE_SYNCOBJ, 12345 };
   CHECK(raw_send(fd, 1, VCMD_GET_PARAM, &params[0], 1));
   CHECK(raw_expect(fd, (const uint32_t[]){ 2, VCMD_GET_PARAM, 1, 64 }, 4));
   for (int i = 1; i < 3; i++) {
      CHECK(raw_send(fd, 1, VCMD_GET_PARAM, &params[i], 1));
      CHECK(raw_expect(fd, (const uint32_t[]){ 2, VCMD_GET_PARAM, 0, 0 }, 4));
   }

   const uint32_t bad_capsets[][2] = { { 5, 0 }, { VW_CAPSET_ID_VENUS, 1 }, { 0, 0 } };
   for (int i = 0; i < 3; i++) {
      CHECK(raw_send(fd, 2, VCMD_GET_CAPSET, bad_capsets[i], 2));
      CHECK(raw_expect(fd, (const uint32_t[]){ 1, VCMD_GET_CAPSET, 0 }, 3));
   }
   const uint32_t venus[2] = { VW_CAPSET_ID_VENUS, 0 };
   CHECK(raw_send(fd, 2, VCMD_GET_CAPSET, venus, 2));
   CHECK(raw_expect(fd, (const uint32_t[]){ 41, VCMD_GET_CAPSET, 1 }, 3));
   struct vw_capset capset;
   CHECK(raw_read(fd, &capset, sizeof(capset)));
   CHECK_EQ(capset.wire_format_version, 1);
   close(fd);
}

TEST(blob_shared_memory)
{
   struct vw_vtest_client *c = vw_vtest_connect(sock_path);
   struct vw_capset capset;
   const uint64_t size = 3 * 4096 + 4096;
   uint32_t res_id = 0, res_id2 = 0;
   int fd = -1, fd2 = -1;

   CHECK(vw_vtest_start_session(c, "blob", &capset));
   CHECK(vw_vtest_context_init(c, VW_CAPSET_ID_VENUS));
   CHECK(vw_vtest_resource_create_blob(c, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                       size, 0, &res_id, &fd));
   CHECK_EQ(res_id, 1);

   struct stat st;
   CHECK(fstat(fd, &st) == 0);
   CHECK((uint64_t)st.st_size >= size);
   uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   CHECK(map != MAP_FAILED);
   if (map != MAP_FAILED) {
      memset(map, 0x5a, size);
      map[size - 1] = 0xa5;
   }

   /* an exported fd is the same memory */
   const int export_fd = vw_vtest_resource_export_fd(c, res_id);
   CHECK(export_fd >= 0);
   uint8_t *map2 = mmap(NULL, size, PROT_READ, MAP_SHARED, export_fd, 0);
   CHECK(map2 != MAP_FAILED);
   if (map2 != MAP_FAILED && map != MAP_FAILED) {
      CHECK_EQ(map2[0], 0x5a);
      CHECK_EQ(map2[size - 1], 0xa5);
      munmap(map2, size);
   }

   CHECK(vw_vtest_resource_create_blob(c, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                       4096, 0, &res_id2, &fd2));
   CHECK_EQ(res_id2, 2);
   CHECK(vw_vtest_resource_unref(c, res_id));
   CHECK(vw_vtest_resource_unref(c, res_id2));

   /* the connection is still in order after the unrefs */
   uint32_t sync_id;
   CHECK(vw_vtest_sync_create(c, 0, &sync_id));
   if (map != MAP_FAILED)
      munmap(map, size);
   close(fd);
   close(fd2);
   close(export_fd);
   vw_vtest_disconnect(c);
}

TEST(syncs_and_waits)
{
   struct vw_vtest_client *c = vw_vtest_connect(sock_path);
   struct vw_capset capset;
   uint32_t a = 0, b = 0;
   uint64_t value = 0;

   CHECK(vw_vtest_start_session(c, "syncs", &capset));
   CHECK(vw_vtest_context_init(c, VW_CAPSET_ID_VENUS));
   CHECK(vw_vtest_sync_create(c, 5, &a));
   CHECK(vw_vtest_sync_create(c, 0, &b));
   CHECK(a != b);
   CHECK(vw_vtest_sync_read(c, a, &value));
   CHECK_EQ(value, 5);
   CHECK(vw_vtest_sync_write(c, a, 10));
   CHECK(vw_vtest_sync_read(c, a, &value));
   CHECK_EQ(value, 10);
   CHECK(vw_vtest_sync_write(c, a, 3)); /* smaller: replaces */
   CHECK(vw_vtest_sync_read(c, a, &value));
   CHECK_EQ(value, 3);
   const uint64_t big = 0x123456789abcull;
   CHECK(vw_vtest_sync_write(c, b, big));
   CHECK(vw_vtest_sync_read(c, b, &value));
   CHECK_EQ(value, big);

   /* already reached: readable at once */
   struct vw_vtest_sync_point pt = { a, 2 };
   int fd = vw_vtest_sync_wait(c, 0, 1000, &pt, 1);
   CHECK_EQ(vw_vtest_wait_fd(fd, 1000), 1);
   close(fd);

   /* pending until a write reaches the value */
   pt.value = 12;
   fd = vw_vtest_sync_wait(c, 0, 5000, &pt, 1);
   CHECK_EQ(vw_vtest_wait_fd(fd, 50), 0);
   CHECK(vw_vtest_sync_write(c, a, 11));
   CHECK_EQ(vw_vtest_wait_fd(fd, 50), 0);
   CHECK(vw_vtest_sync_write(c, a, 12));
   CHECK_EQ(vw_vtest_wait_fd(fd, 2000), 1);
   close(fd);

   /* the server forgets a wait after its timeout */
   pt.value = 100;
   fd = vw_vtest_sync_wait(c, 0, 100, &pt, 1);
   CHECK_EQ(vw_vtest_wait_fd(fd, 300), 0);
   CHECK(vw_vtest_sync_write(c, a, 100));
   CHECK_EQ(vw_vtest_wait_fd(fd, 100), 0);
   close(fd);

   /* timeout 0: a pending wait never signals */
   pt.value = 200;
   fd = vw_vtest_sync_wait(c, 0, 0, &pt, 1);
   CHECK(vw_vtest_sync_write(c, a, 200));
   CHECK_EQ(vw_vtest_wait_fd(fd, 100), 0);
   close(fd);

   /* all vs any */
   struct vw_vtest_sync_point two[2] = { { a, 300 }, { b, big + 1 } };
   const int all_fd = vw_vtest_sync_wait(c, 0, UINT32_MAX, two, 2);
   const int any_fd = vw_vtest_sync_wait(c, VCMD_SYNC_WAIT_FLAG_ANY, UINT32_MAX, two, 2);
   CHECK(vw_vtest_sync_write(c, b, big + 1));
   CHECK_EQ(vw_vtest_wait_fd(any_fd, 2000), 1);
   CHECK_EQ(vw_vtest_wait_fd(all_fd, 50), 0);
   CHECK(vw_vtest_sync_write(c, a, 300));
   CHECK_EQ(vw_vtest_wait_fd(all_fd, 2000), 1);
   close(all_fd);
   close(any_fd);

   /* SUBMIT_CMD2: without RING_IDX syncs are set right away; with RING_IDX 0
    * when the fence retires; several batches in one request */
   const struct vw_vtest_sync_point set_a = { a, 400 };
   const struct vw_vtest_sync_point set_b = { b, big + 2 };
   const struct vw_vtest_submit_batch batches[3] = {
      { .sync_count = 1, .syncs = &set_a },
      { .has_ring_idx = true, .ring_idx = 0, .sync_count = 1, .syncs = &set_b },
      { .has_ring_idx = true, .ring_idx = 0 },
   };
   CHECK(vw_vtest_submit_cmd2(c, batches, 3));
   CHECK(vw_vtest_sync_read(c, a, &value));
   CHECK_EQ(value, 400);
   pt = set_b;
   fd = vw_vtest_sync_wait(c, 0, 5000, &pt, 1);
   CHECK_EQ(vw_vtest_wait_fd(fd, 5000), 1);
   close(fd);

   CHECK(vw_vtest_sync_unref(c, a));
   CHECK(vw_vtest_sync_unref(c, b));
   uint32_t d;
   CHECK(vw_vtest_sync_create(c, 0, &d)); /* still in order */
   CHECK(d != a && d != b);
   vw_vtest_disconnect(c);
}

/* Mesa 24.0 negotiates protocol 3 and writes one 6-dword batch header. */
TEST(mesa_submit_layout)
{
   const int fd = raw_connect();
   const uint32_t create[2] = { 0, 0 };

   CHECK(raw_start(fd, 3, true));
   CHECK(raw_send(fd, 2, VCMD_SYNC_CREATE, create, 2));
   uint32_t reply[3];
   CHECK(raw_read(fd, reply, sizeof(reply)));
   CHECK_EQ(reply[1], VCMD_SYNC_CREATE);
   const uint32_t sync_id = reply[2];

   for (uint32_t ring_flag = 0; ring_flag < 2; ring_flag++) {
      /* [count][flags][cmd_off 7][cmd_size 0][sync_off 7][1 sync][ring 0] + triple */
      const uint32_t value = 10 + ring_flag;
      const uint32_t submit[10] = { 1, ring_flag, 7, 0, 7, 1, 0, sync_id, value, 0 };
      CHECK(raw_send(fd, 10, VCMD_SUBMIT_CMD2, submit, 10));
      const uint32_t wait[5] = { 0, 5000, sync_id, value, 0 };
      CHECK(raw_send(fd, 5, VCMD_SYNC_WAIT, wait, 5));
      CHECK(raw_expect(fd, (const uint32_t[]){ 0, VCMD_SYNC_WAIT }, 2));
      const int efd = vu_os_recv_fd(fd);
      CHECK(efd >= 0);
      CHECK_EQ(vw_vtest_wait_fd(efd, 5000), 1);
      close(efd);
   }
   close(fd);
}

/* one VCMD_VENUS_RESOURCE_IMPORT_FD of `fd`: the new res_id, 0 if refused,
 * UINT32_MAX if the exchange failed */
static uint32_t
import_fd(struct vw_vtest_client *c, uint32_t kind, uint64_t size, int fd)
{
   uint32_t res_id = UINT32_MAX;
   if (!vw_vtest_resource_import_fd(c, kind, size, fd, &res_id))
      return UINT32_MAX;
   return res_id;
}

static int
memfd_of(const char *name, off_t size)
{
   const int fd = memfd_create(name, MFD_CLOEXEC);
   if (fd >= 0 && ftruncate(fd, size) != 0) {
      close(fd);
      return -1;
   }
   return fd;
}

/* our extension: a client's fd becomes a resource; the renderer takes only
 * shared memory or dma-bufs of at least the declared size, refuses anything
 * else without ending the session, and the resource is that very file */
TEST(resource_import_fd)
{
   struct vw_vtest_client *c = vw_vtest_connect(sock_path);
   struct vw_capset capset;
   bool valid = false;
   uint32_t value = 0;

   CHECK(vw_vtest_start_session(c, "import", &capset));
   CHECK(vw_vtest_get_param(c, VCMD_PARAM_VENUS_RESOURCE_IMPORT_FD, &valid, &value));
   CHECK(valid && value == 1);
   /* an unknown param stays invalid */
   CHECK(vw_vtest_get_param(c, 0x7fff, &valid, &value));
   CHECK(!valid && value == 0);
   CHECK(vw_vtest_context_init(c, VW_CAPSET_ID_VENUS));

   /* shared memory: accepted, and exporting the resource gives the same file */
   const int mem = memfd_of("import", 8192);
   CHECK(mem >= 0);
   uint8_t *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
   CHECK(map != MAP_FAILED);
   const uint32_t res_id = import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 8192, mem);
   CHECK(res_id != 0 && res_id != UINT32_MAX);
   const int exported = vw_vtest_resource_export_fd(c, res_id);
   CHECK(exported >= 0);
   struct stat st_mem, st_exp;
   CHECK(fstat(mem, &st_mem) == 0 && fstat(exported, &st_exp) == 0);
   CHECK(st_mem.st_ino == st_exp.st_ino && st_mem.st_dev == st_exp.st_dev);
   uint8_t *map2 = mmap(NULL, 8192, PROT_READ, MAP_SHARED, exported, 0);
   CHECK(map2 != MAP_FAILED);
   if (map != MAP_FAILED && map2 != MAP_FAILED) {
      map[8191] = 0x3c;
      CHECK_EQ(map2[8191], 0x3c);
      munmap(map2, 8192);
   }
   if (map != MAP_FAILED)
      munmap(map, 8192);
   close(exported);

   /* a memfd that allows sealing is sealed against shrinking before the
    * worker maps it: the client can no longer truncate it under the mapping */
   const int sealable = memfd_create("import-sealable", MFD_CLOEXEC | MFD_ALLOW_SEALING);
   CHECK(sealable >= 0 && ftruncate(sealable, 8192) == 0);
   const uint32_t res_sealed = import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 8192, sealable);
   CHECK(res_sealed != 0 && res_sealed != UINT32_MAX);
   CHECK(fcntl(sealable, F_GET_SEALS) & F_SEAL_SHRINK);
   CHECK(ftruncate(sealable, 4096) != 0 && errno == EPERM);
   CHECK(vw_vtest_resource_unref(c, res_sealed));
   close(sealable);

   /* refusals: res_id 0, the fd stays the client's, the session goes on */
   char path[160];
   snprintf(path, sizeof(path), "%s/regular", tmp_dir);
   const int file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
   CHECK(file >= 0 && ftruncate(file, 8192) == 0);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 8192, file), 0);
   /* unlinked but on a disk file system: still a regular file */
   unlink(path);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 4096, file), 0);
   close(file);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 8193, mem), 0);    /* too large */
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 0, mem), 0);       /* empty */
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 1ull << 50, mem), 0);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_DMA_BUF, 8192, mem), 0); /* not a dma-buf */
   CHECK_EQ(import_fd(c, 7, 8192, mem), 0);                              /* unknown kind */
   int pipe_fds[2];
   CHECK(pipe2(pipe_fds, O_CLOEXEC) == 0);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 4096, pipe_fds[0]), 0);
   close(pipe_fds[0]);
   close(pipe_fds[1]);
   const int dir = open(tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 4096, dir), 0);
   close(dir);
   const int dev = open("/dev/zero", O_RDWR | O_CLOEXEC);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 4096, dev), 0);
   close(dev);
   /* a character device is taken only when the host driver holds that very
    * node open (NVIDIA's opaque fds); /dev/null, which a server may well
    * hold open, is never one */
   const int null_dev = open("/dev/null", O_RDWR | O_CLOEXEC);
   CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 4096, null_dev), 0);
   close(null_dev);
   const int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
   if (tty >= 0) {
      CHECK_EQ(import_fd(c, VCMD_VENUS_IMPORT_KIND_OPAQUE_FD, 4096, tty), 0);
      close(tty);
   }

   /* still served, and the accepted resource is a normal one */
   uint32_t sync_id;
   uint64_t sync_value = 0;
   CHECK(vw_vtest_sync_create(c, 9, &sync_id) && vw_vtest_sync_read(c, sync_id, &sync_value));
   CHECK_EQ(sync_value, 9);
   CHECK(vw_vtest_resource_unref(c, res_id));
   CHECK(vw_vtest_sync_read(c, sync_id, &sync_value));
   close(mem);
   vw_vtest_disconnect(c);
}

struct hostile_case {
   const char *name;
   int setup;        /* 0: nothing, 1: renderer created, 2: and context */
   uint32_t dwords;  /* how many of msg[] to send */
   uint32_t msg[16]; /* header + payload as sent */
};

#define HDR(len, id) (len), (id)

/* clang-format off */
static const struct hostile_case hostile_cases[] = {
   { "first request not CREATE_RENDERER", 0, 2, { HDR(0, VCMD_PING_PROTOCOL_VERSION) } },
   { "CREATE_RENDERER name of 1 GiB", 0, 2, { HDR(1u << 30, VCMD_CREATE_RENDERER) } },
   { "CREATE_RENDERER twice", 1, 3, { HDR(4, VCMD_CREATE_RENDERER), 0 } },
   { "unknown request id", 1, 2, { HDR(0, 99) } },
   { "virgl GET_CAPS", 1, 2, { HDR(0, VCMD_GET_CAPS) } },
   { "DRM sync request", 1, 3, { HDR(1, 25), 0 } },
   { "PROTOCOL_VERSION of 2 dwords", 1, 4, { HDR(2, VCMD_PROTOCOL_VERSION), 3, 3 } },
   { "GET_CAPSET of 1 dword", 1, 3, { HDR(1, VCMD_GET_CAPSET), 4 } },
   { "SYNC_CREATE of 1 dword", 2, 3, { HDR(1, VCMD_SYNC_CREATE), 0 } },
   { "huge SUBMIT_CMD", 2, 2, { HDR(0x3fffffff, VCMD_SUBMIT_CMD) } },
   { "huge SYNC_WAIT", 2, 2, { HDR(0xfffffffe, VCMD_SYNC_WAIT) } },
   { "SYNC_WAIT of 4 dwords", 2, 6, { HDR(4, VCMD_SYNC_WAIT), 0, 0, 1, 1 } },
   { "sync request before CONTEXT_INIT", 1, 4, { HDR(2, VCMD_SYNC_CREATE), 0, 0 } },
   { "blob before CONTEXT_INIT", 1, 8, { HDR(6, VCMD_RESOURCE_CREATE_BLOB), 2, 1, 64 } },
   { "CONTEXT_INIT(0)", 1, 3, { HDR(1, VCMD_CONTEXT_INIT), 0 } },
   { "CONTEXT_INIT(virgl)", 1, 3, { HDR(1, VCMD_CONTEXT_INIT), 1 } },
   { "CONTEXT_INIT with another capset", 2, 3, { HDR(1, VCMD_CONTEXT_INIT), 2 } },
   { "SYNC_READ of unknown sync", 2, 3, { HDR(1, VCMD_SYNC_READ), 999 } },
   { "SYNC_WRITE of unknown sync", 2, 5, { HDR(3, VCMD_SYNC_WRITE), 999, 1, 0 } },
   { "SYNC_UNREF of unknown sync", 2, 3, { HDR(1, VCMD_SYNC_UNREF), 0 } },
   { "SYNC_WAIT on unknown sync", 2, 7, { HDR(5, VCMD_SYNC_WAIT), 0, 100, 999, 1, 0 } },
   { "RESOURCE_UNREF of unknown resource", 2, 3, { HDR(1, VCMD_RESOURCE_UNREF), 42 } },
   { "RESOURCE_EXPORT_FD of unknown res", 2, 3, { HDR(1, VCMD_RESOURCE_EXPORT_FD), 42 } },
   { "busy wait on unknown resource", 1, 4, { HDR(2, VCMD_RESOURCE_BUSY_WAIT), 42, 0 } },
   { "VENUS_RESOURCE_IMPORT_FD before CONTEXT_INIT", 1, 5,
     { HDR(3, VCMD_VENUS_RESOURCE_IMPORT_FD), 1, 4096, 0 } },
   { "VENUS_RESOURCE_IMPORT_FD of 2 dwords", 2, 4,
     { HDR(2, VCMD_VENUS_RESOURCE_IMPORT_FD), 1, 4096 } },
   /* the byte after the payload carries no fd */
   { "VENUS_RESOURCE_IMPORT_FD without an fd", 2, 6,
     { HDR(3, VCMD_VENUS_RESOURCE_IMPORT_FD), 1, 4096, 0, 0 } },
   { "blob of unknown device memory", 2, 8,
     { HDR(6, VCMD_RESOURCE_CREATE_BLOB), 2, 1, 4096, 0, 12345, 0 } },
   { "SUBMIT_CMD2 without batches", 2, 3, { HDR(1, VCMD_SUBMIT_CMD2), 0 } },
   { "SUBMIT_CMD2 empty", 2, 2, { HDR(0, VCMD_SUBMIT_CMD2) } },
   /* batch headers: [flags][cmd_off][cmd_size][sync_off][sync_count][ring][in][out] */
   { "SUBMIT_CMD2 batch count beyond payload", 2, 11,
     { HDR(9, VCMD_SUBMIT_CMD2), 0x20000000, 0, 9, 0, 9, 0, 0, 0, 0 } },
   { "SUBMIT_CMD2 stream beyond payload", 2, 11,
     { HDR(9, VCMD_SUBMIT_CMD2), 1, 0, 9, 1, 9, 0, 0, 0, 0 } },
   { "SUBMIT_CMD2 stream offset overflow", 2, 11,
     { HDR(9, VCMD_SUBMIT_CMD2), 1, 0, 0xffffffff, 2, 9, 0, 0, 0, 0 } },
   { "SUBMIT_CMD2 sync count overflow", 2, 11,
     { HDR(9, VCMD_SUBMIT_CMD2), 1, 0, 9, 0, 9, 0x80000000, 0, 0, 0 } },
   { "SUBMIT_CMD2 ring_idx 64", 2, 11,
     { HDR(9, VCMD_SUBMIT_CMD2), 1, 0, 9, 0, 9, 0, 64, 0, 0 } },
   { "SUBMIT_CMD2 in-fence flag", 2, 11,
     { HDR(9, VCMD_SUBMIT_CMD2), 1, 2, 9, 0, 9, 0, 0, 0, 0 } },
   { "SUBMIT_CMD2 syncobjs", 2, 11,
     { HDR(9, VCMD_SUBMIT_CMD2), 1, 0, 9, 0, 9, 0, 0, 1, 0 } },
   { "SUBMIT_CMD2 unknown sync", 2, 14,
     { HDR(12, VCMD_SUBMIT_CMD2), 1, 0, 9, 0, 9, 1, 0, 0, 0, 77, 1, 0 } },
   { "SUBMIT_CMD2 fence on unbound timeline", 2, 14,
     { HDR(12, VCMD_SUBMIT_CMD2), 1, 1, 9, 0, 9, 1, 5, 0, 0, 1, 1, 0 } },
   { "command stream that makes the context fatal", 2, 6,
     { HDR(4, VCMD_SUBMIT_CMD), 0xdeadbeef, 0, 0, 0 } },
};
/* clang-format on */

TEST(hostile_requests)
{
   for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++) {
      const struct hostile_case *hc = &hostile_cases[i];
      const int fd = raw_connect();
      CHECK(fd >= 0);

      bool ok = hc->setup == 0 || raw_start(fd, 4, hc->setup == 2);
      /* the sync-id cases need a real sync 1 that they do not name */
      if (ok && hc->setup == 2) {
         const uint32_t zero[2] = { 0, 0 };
         ok = raw_send(fd, 2, VCMD_SYNC_CREATE, zero, 2) &&
              raw_expect(fd, (const uint32_t[]){ 1, VCMD_SYNC_CREATE, 1 }, 3);
      }
      ok = ok && raw_write(fd, hc->msg, hc->dwords * sizeof(uint32_t));
      const bool dropped = ok && raw_is_dropped(fd);
      if (!dropped)
         fprintf(stderr, "  hostile case '%s': client not dropped\n", hc->name);
      CHECK(dropped);
      close(fd);
      CHECK(server_is_running());
   }
   CHECK(good_client_works());
}

TEST(disconnect_mid_request)
{
   /* inside a header */
   int fd = raw_connect();
   CHECK(raw_write(fd, "\x06\x00\x00", 3));
   close(fd);

   /* inside CREATE_RENDERER's name */
   fd = raw_connect();
   CHECK(raw_write(fd, (const uint32_t[]){ 100, VCMD_CREATE_RENDERER, 0 }, 12));
   close(fd);

   /* inside a SUBMIT_CMD payload */
   fd = raw_connect();
   CHECK(raw_start(fd, 4, true));
   const uint32_t partial[12] = { 100, VCMD_SUBMIT_CMD };
   CHECK(raw_write(fd, partial, sizeof(partial)));
   close(fd);

   /* a client process killed inside a request */
   const pid_t client_pid = fork();
   if (client_pid == 0) {
      fd = raw_connect();
      if (fd >= 0 && raw_start(fd, 4, true))
         raw_write(fd, partial, sizeof(partial));
      pause();
      _exit(0);
   }
   CHECK(client_pid > 0);
   usleep(100000);
   kill(client_pid, SIGKILL);
   waitpid(client_pid, NULL, 0);

   /* while a sync wait is pending and a blob is mapped */
   struct vw_vtest_client *c = vw_vtest_connect(sock_path);
   struct vw_capset capset;
   uint32_t sync_id, res_id;
   int blob_fd = -1;
   CHECK(vw_vtest_start_session(c, "vanishing", &capset));
   CHECK(vw_vtest_context_init(c, VW_CAPSET_ID_VENUS));
   CHECK(vw_vtest_sync_create(c, 0, &sync_id));
   const struct vw_vtest_sync_point pt = { sync_id, 1 };
   const int wait_fd = vw_vtest_sync_wait(c, 0, UINT32_MAX, &pt, 1);
   CHECK(wait_fd >= 0);
   CHECK(vw_vtest_resource_create_blob(c, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                       65536, 0, &res_id, &blob_fd));
   vw_vtest_disconnect(c);
   close(wait_fd);
   close(blob_fd);

   CHECK(server_is_running());
   CHECK(good_client_works());
}

/* Once earlier clients' workers are gone: a client with a session, a
 * context and a sync (*sync_id), and in *worker the server's one worker
 * process, which serves it. */
static struct vw_vtest_client *
connect_one_worker(const char *name, uint32_t *sync_id, pid_t *worker)
{
   for (int i = 0; i < 500 && server_child_count() > 0; i++)
      usleep(10000);

   struct vw_vtest_client *c = vw_vtest_connect(sock_path);
   struct vw_capset capset;
   *worker = -1;
   CHECK(vw_vtest_start_session(c, name, &capset));
   CHECK(vw_vtest_context_init(c, VW_CAPSET_ID_VENUS));
   CHECK(vw_vtest_sync_create(c, 0, sync_id));
   CHECK_EQ(server_children(worker), 1);
   CHECK(*worker > 0);
   return c;
}

/* a worker that dies (as if the renderer crashed) takes only its client */
TEST(worker_crash)
{
   uint32_t sync_id;
   uint64_t value;
   pid_t worker;
   struct vw_vtest_client *c = connect_one_worker("doomed", &sync_id, &worker);
   CHECK(worker > 0 && kill(worker, SIGKILL) == 0);
   /* the client library reports the lost server instead of aborting */
   CHECK(!vw_vtest_sync_read(c, sync_id, &value));
   vw_vtest_disconnect(c);

   CHECK(server_is_running());
   CHECK(good_client_works());
}

/* A worker that does not end after its client hung up (stopped here, as if
 * stuck in a host call that never returns) is killed by the server once
 * --worker-grace-ms has passed, and not before. */
TEST(stuck_worker_killed)
{
   uint32_t sync_id;
   pid_t worker;
   struct vw_vtest_client *c = connect_one_worker("stuck", &sync_id, &worker);
   CHECK(worker > 0 && kill(worker, SIGSTOP) == 0);
   vw_vtest_disconnect(c);
   const uint64_t start = vu_os_time_ns();

   usleep(WORKER_GRACE_MS * 1000 / 2);
   CHECK_EQ(server_child_count(), 1);
   while (server_child_count() > 0 && vu_os_time_ns() - start < 20000000000ull)
      usleep(10000);
   const uint64_t ms = (vu_os_time_ns() - start) / 1000000;
   fprintf(stderr, "  stopped worker gone after %llu ms\n", (unsigned long long)ms);
   CHECK_EQ(server_child_count(), 0);
   CHECK(ms >= WORKER_GRACE_MS);
   if (server_child_count() > 0)
      kill(worker, SIGKILL);

   CHECK(server_is_running());
   CHECK(good_client_works());
}

/* one of CLIENT_THREADS concurrent clients: index 0 misbehaves */
static int
client_thread(void *arg)
{
   const int index = (int)(intptr_t)arg;

   if (index == 0) {
      /* starts a session, then stalls inside a request and finally vanishes */
      const int fd = raw_connect();
      if (fd < 0 || !raw_start(fd, 4, true)) {
         if (fd >= 0)
            close(fd);
         return 1;
      }
      const uint32_t partial[6] = { 1000, VCMD_SUBMIT_CMD2, 1, 0, 9 };
      raw_write(fd, partial, sizeof(partial));
      usleep(200000);
      close(fd);
      return 0;
   }

   struct vw_vtest_client *c = vw_vtest_connect(sock_path);
   struct vw_capset capset;
   bool ok = c && vw_vtest_start_session(c, "worker", &capset) &&
             vw_vtest_context_init(c, VW_CAPSET_ID_VENUS);
   for (int i = 0; ok && i < 20; i++) {
      uint32_t res_id, sync_id = 0;
      uint64_t value = 0;
      int fd = -1;
      ok = vw_vtest_resource_create_blob(c, VCMD_BLOB_TYPE_HOST3D,
                                         VCMD_BLOB_FLAG_MAPPABLE, 8192, 0, &res_id, &fd);
      if (!ok)
         break;
      uint32_t *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      close(fd);
      ok = map != MAP_FAILED;
      if (ok) {
         map[0] = (uint32_t)index;
         munmap(map, 8192);
      }
      ok =
         ok && vw_vtest_resource_unref(c, res_id) && vw_vtest_sync_create(c, 0, &sync_id);

      /* a fence on timeline 0 sets the sync; a wait sees it */
      const struct vw_vtest_sync_point set = { sync_id, (uint64_t)i + 1 };
      const struct vw_vtest_submit_batch batch = { .has_ring_idx = true,
                                                   .syncs = &set,
                                                   .sync_count = 1 };
      ok = ok && vw_vtest_submit_cmd2(c, &batch, 1);
      const int wfd = ok ? vw_vtest_sync_wait(c, 0, 5000, &set, 1) : -1;
      ok = wfd >= 0 && vw_vtest_wait_fd(wfd, 5000) == 1 &&
           vw_vtest_sync_read(c, sync_id, &value) && value == set.value &&
           vw_vtest_sync_unref(c, sync_id);
      if (wfd >= 0)
         close(wfd);
   }
   vw_vtest_disconnect(c);
   return ok ? 0 : 1;
}

TEST(many_clients_no_leaks)
{
   /* the server keeps a copy of each client's socket until it reaps the
    * client's worker: the fds to come back to are those without workers */
   for (int i = 0; i < 3000 && server_child_count() > 0; i++)
      usleep(10000);
   usleep(50000);
   const int base_fds = server_fd_count();
   CHECK_EQ(server_child_count(), 0);
   CHECK(base_fds > 0);

   thrd_t threads[CLIENT_THREADS];
   for (int i = 0; i < CLIENT_THREADS; i++)
      CHECK(thrd_create(&threads[i], client_thread, (void *)(intptr_t)i) == thrd_success);
   for (int i = 0; i < CLIENT_THREADS; i++) {
      int result = 1;
      thrd_join(threads[i], &result);
      if (result)
         fprintf(stderr, "  client thread %d failed\n", i);
      CHECK_EQ(result, 0);
   }

   CHECK(server_is_running());
   CHECK(server_wait_idle(base_fds));
   CHECK(good_client_works());
   CHECK(server_wait_idle(base_fds));
}

TEST(stop_server)
{
   int status = -1;
   CHECK(kill(server_pid, SIGTERM) == 0);
   CHECK(waitpid(server_pid, &status, 0) == server_pid);
   CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
   CHECK(access(sock_path, F_OK) != 0); /* the server removed its socket */
   unlink(sock_path);
   rmdir(tmp_dir);
}

RUN_TESTS(start_server,
          session_and_capset,
          raw_requests,
          blob_shared_memory,
          syncs_and_waits,
          mesa_submit_layout,
          resource_import_fd,
          hostile_requests,
          disconnect_mid_request,
          worker_crash,
          stuck_worker_killed,
          many_clients_no_leaks,
          stop_server)
