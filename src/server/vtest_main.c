/*
 * venus-server: the vtest server (command-line compatible with
 * `virgl_test_server --venus`). The parent is a single-threaded poll() loop
 * that accepts clients on a Unix socket and forks one worker process per
 * client (upstream's render_server model); it reaps the workers through a
 * signalfd and never touches the renderer, so no client can bring it down.
 * It keeps a copy of each client's socket only to see the client hang up:
 * a worker still running --worker-grace-ms after that (stuck in a host call
 * that never returns, say) is killed, so that a departed client's worker
 * neither lingers nor keeps a client slot.
 */
#include "vtest_server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/vu_log.h"
#include "util/vu_os.h"
#include "util/vu_version.h"
#include "transport/vw_vtest.h"
#include "worker/vwk_worker.h"

#define VTEST_LISTEN_BACKLOG 64
/* how long accept() pauses after running out of fds or memory */
#define VTEST_ACCEPT_BACKOFF_MS 100
/* sd_listen_fds(3): the first inherited fd */
#define VTEST_LISTEN_FDS_START 3

/* A worker of the forking server. */
struct vtest_worker_slot {
   pid_t pid;      /* 0: a free slot */
   uint32_t client_id;
   int sock;       /* our copy of the client's socket, until it hangs up; or -1 */
   uint64_t kill_at_ns; /* after the hang-up: when the worker is killed; or 0 */
};

struct vtest_server {
   const struct vtest_options *opts;
   int listen_fd;
   dev_t socket_dev; /* identity of our socket file, to unlink only that */
   ino_t socket_ino;

   /* forking mode only */
   int signal_fd;
   sigset_t orig_mask;
   struct vtest_worker_slot *workers; /* opts->max_clients slots */
   uint32_t worker_count;
   struct pollfd *pfds; /* signal fd, listening socket, one per slot */
   int *close_fds;      /* what a new worker closes: ours and the slots' sockets */

   uint32_t next_client_id;
};

static const char vtest_usage[] =
   "usage: venus-server [options]\n"
   "  --socket-path[=| ]PATH  listen on PATH (default: $VTEST_SOCKET_NAME "
   "or " VTEST_DEFAULT_SOCKET_NAME ");\n"
   "                          a socket passed by systemd (LISTEN_FDS) takes precedence\n"
   "  --max-clients=N         concurrent clients (default 256)\n"
   "  --max-memory-mb=N       per-client blob and device memory (default: renderer's)\n"
   "  --max-objects=N         per-client live Vulkan objects (default: renderer's)\n"
   "  --max-request-mb=N      largest request payload (default 64)\n"
   "  --worker-grace-ms=N     a worker still running N ms after its client hung up\n"
   "                          is killed (default 10000)\n"
   "  --no-fork               serve clients one at a time in this process (debugging)\n"
   "  --no-loop-or-fork       serve a single client in this process, then exit\n"
   "  --venus, --multi-clients, --no-virgl, --render-server\n"
   "                          accepted for virgl_test_server compatibility (every\n"
   "                          client gets its own worker process)\n"
   "  -h, --help              print this help and exit\n"
   "  -V, --version           print the version and exit\n"
   "Logging: VENUS_LOG_LEVEL=error|warn|info|debug, VENUS_DEBUG=flags (venus-server(1)).\n";

static bool
vtest_parse_u32(const char *opt, const char *str, uint32_t min, uint32_t *out)
{
   char *end;
   errno = 0;
   const unsigned long long v = strtoull(str, &end, 10);
   if (errno || end == str || *end || str[0] == '-' || v < min || v > UINT32_MAX) {
      vu_log(VU_LOG_ERROR, "server", "%s: bad value '%s'", opt, str);
      return false;
   }
   *out = (uint32_t)v;
   return true;
}

/* Matches `--name=VALUE` or `--name VALUE`; *out_value is NULL if arg is
 * another option. false when the value is missing. */
static bool
vtest_match_value_option(const char *name,
                         int argc,
                         char **argv,
                         int *index,
                         const char **out_value)
{
   const char *arg = argv[*index];
   const size_t len = strlen(name);

   *out_value = NULL;
   if (strncmp(arg, name, len))
      return true;
   if (arg[len] == '=') {
      *out_value = arg + len + 1;
      return true;
   }
   if (arg[len] != '\0')
      return true;
   if (*index + 1 >= argc) {
      vu_log(VU_LOG_ERROR, "server", "%s needs a value", name);
      return false;
   }
   *out_value = argv[++*index];
   return true;
}

/* Returns 0 to run, 1 on a usage error, 2 after --help. */
static int
vtest_parse_args(int argc, char **argv, struct vtest_options *opts)
{
   uint32_t max_request_mb = VTEST_DEFAULT_MAX_REQUEST_MB;
   uint32_t max_memory_mb = 0;

   for (int i = 1; i < argc; i++) {
      const char *arg = argv[i];
      const char *value;

      if (!strcmp(arg, "--venus") || !strcmp(arg, "--multi-clients") ||
          !strcmp(arg, "--no-virgl") || !strcmp(arg, "--render-server"))
         continue;
      if (!strcmp(arg, "--no-fork")) {
         opts->no_fork = true;
         continue;
      }
      if (!strcmp(arg, "--no-loop-or-fork")) {
         opts->no_fork = opts->no_loop = true;
         continue;
      }
      if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
         fputs(vtest_usage, stdout);
         return 2;
      }
      if (!strcmp(arg, "--version") || !strcmp(arg, "-V")) {
         fputs("venus-server " VENUS_VERSION "\n", stdout);
         return 2;
      }

      if (!vtest_match_value_option("--socket-path", argc, argv, &i, &value))
         return 1;
      if (value) {
         if (!*value) {
            vu_log(VU_LOG_ERROR, "server", "--socket-path: empty path");
            return 1;
         }
         opts->socket_path = value;
         continue;
      }

      static const struct {
         const char *name;
         uint32_t min;
      } numeric[] = {
         { "--max-clients", 1 },
         { "--max-memory-mb", 0 },
         { "--max-objects", 0 },
         { "--max-request-mb", 1 },
         { "--worker-grace-ms", 1 },
      };
      uint32_t *const targets[] = {
         &opts->max_clients,
         &max_memory_mb,
         &opts->limits.max_objects,
         &max_request_mb,
         &opts->worker_grace_ms,
      };
      bool is_known = false;
      for (size_t n = 0; n < sizeof(numeric) / sizeof(numeric[0]) && !is_known; n++) {
         if (!vtest_match_value_option(numeric[n].name, argc, argv, &i, &value))
            return 1;
         if (!value)
            continue;
         if (!vtest_parse_u32(numeric[n].name, value, numeric[n].min, targets[n]))
            return 1;
         is_known = true;
      }
      if (is_known)
         continue;

      vu_log(VU_LOG_ERROR, "server", "unknown option '%s'", arg);
      fputs(vtest_usage, stderr);
      return 1;
   }

   opts->max_request_bytes = (uint64_t)max_request_mb << 20;
   opts->limits.max_memory_bytes = (uint64_t)max_memory_mb << 20;
   if (!opts->socket_path)
      opts->socket_path = vu_env_get()->vtest_socket;
   if (!opts->socket_path || !*opts->socket_path)
      opts->socket_path = VTEST_DEFAULT_SOCKET_NAME;
   return 0;
}

/* Removes a stale socket file at `path`; refuses to touch anything else, or a
 * socket that another server still listens on. */
static bool
vtest_remove_stale_socket(const char *path, const struct sockaddr_un *addr)
{
   struct stat st;

   if (lstat(path, &st) < 0)
      return errno == ENOENT;
   if (!S_ISSOCK(st.st_mode)) {
      vu_log(VU_LOG_ERROR, "server", "%s exists and is not a socket", path);
      return false;
   }

   const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (probe < 0)
      return false;
   const bool is_live = connect(probe, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
   close(probe);
   if (is_live) {
      vu_log(VU_LOG_ERROR, "server", "another server is listening on %s", path);
      return false;
   }
   if (unlink(path) < 0 && errno != ENOENT) {
      vu_log(VU_LOG_ERROR, "server", "cannot remove stale socket %s: errno %d", path,
             errno);
      return false;
   }
   return true;
}

/* The sd_listen_fds(3) protocol, without libsystemd: LISTEN_PID names this
 * process and LISTEN_FDS counts the fds passed from 3 on. One listening Unix
 * stream socket is accepted; the variables are removed so that no worker
 * takes them for its own. Returns the fd, -1 when none was passed, or -2
 * when what was passed is unusable (logged). */
static int
vtest_inherited_listen_fd(void)
{
   const long long pid = vu_env_int("LISTEN_PID", 0);
   const long long count = vu_env_int("LISTEN_FDS", 0);

   unsetenv("LISTEN_PID");
   unsetenv("LISTEN_FDS");
   unsetenv("LISTEN_FDNAMES");
   if (pid != (long long)getpid() || count <= 0)
      return -1;
   if (count > 1) {
      vu_log(VU_LOG_ERROR, "server", "%lld sockets passed (LISTEN_FDS), expected one",
             count);
      return -2;
   }

   const int fd = VTEST_LISTEN_FDS_START;
   int type = 0, is_listening = 0;
   socklen_t len = sizeof(type);
   struct sockaddr_un addr;
   socklen_t addr_len = sizeof(addr);
   if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
       (len = sizeof(is_listening),
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &is_listening, &len) < 0) ||
       !is_listening || getsockname(fd, (struct sockaddr *)&addr, &addr_len) < 0 ||
       addr.sun_family != AF_UNIX) {
      vu_log(VU_LOG_ERROR, "server",
             "fd %d (LISTEN_FDS) is not a listening Unix stream socket", fd);
      return -2;
   }
   /* the workers must not inherit it across exec, and accept must not block */
   if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
       fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
      vu_log(VU_LOG_ERROR, "server", "fd %d (LISTEN_FDS): %s", fd, strerror(errno));
      return -2;
   }
   return fd;
}

static bool
vtest_server_listen(struct vtest_server *srv)
{
   const char *path = srv->opts->socket_path;
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   struct stat st;

   if (strlen(path) >= sizeof(addr.sun_path)) {
      vu_log(VU_LOG_ERROR, "server", "socket path too long: %s", path);
      return false;
   }
   memcpy(addr.sun_path, path, strlen(path) + 1);

   if (!vtest_remove_stale_socket(path, &addr))
      return false;

   srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
   if (srv->listen_fd < 0)
      goto fail_errno;
   if (bind(srv->listen_fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0)
      goto fail_socket;
   if (stat(path, &st) == 0) {
      srv->socket_dev = st.st_dev;
      srv->socket_ino = st.st_ino;
   }
   if (listen(srv->listen_fd, VTEST_LISTEN_BACKLOG) < 0)
      goto fail_bound;

   vu_log(VU_LOG_INFO, "server", "listening on %s", path);
   return true;

fail_bound:
   unlink(path);
fail_socket:
   close(srv->listen_fd);
   srv->listen_fd = -1;
fail_errno:
   vu_log(VU_LOG_ERROR, "server", "cannot listen on %s: %s", path, strerror(errno));
   return false;
}

static void
vtest_server_unlink_socket(const struct vtest_server *srv)
{
   struct stat st;

   /* an inherited socket belongs to whoever made it (systemd) */
   if (srv->opts->inherited_fd >= 0)
      return;

   /* only if the file is still ours: a newer server may have taken the path */
   if (stat(srv->opts->socket_path, &st) == 0 && st.st_dev == srv->socket_dev &&
       st.st_ino == srv->socket_ino)
      unlink(srv->opts->socket_path);
}

/* Accepts one pending client; -1 if none. *out_backoff on fd/memory pressure. */
static int
vtest_server_accept(struct vtest_server *srv, bool *out_backoff)
{
   *out_backoff = false;
   const int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
   if (fd >= 0)
      return fd;

   switch (errno) {
   case EINTR:
   case EAGAIN:
   case ECONNABORTED:
   case EPROTO:
      break;
   default:
      /* EMFILE, ENFILE, ENOBUFS, ENOMEM: pause rather than spin */
      vu_log(VU_LOG_WARN, "server", "accept failed: %s", strerror(errno));
      *out_backoff = true;
      break;
   }
   return -1;
}

static void
vtest_slot_close_sock(struct vtest_worker_slot *slot)
{
   if (slot->sock >= 0)
      close(slot->sock);
   slot->sock = -1;
}

static void
vtest_server_reap(struct vtest_server *srv)
{
   int status;
   pid_t pid;

   while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (uint32_t i = 0; i < srv->opts->max_clients; i++) {
         struct vtest_worker_slot *slot = &srv->workers[i];
         if (slot->pid == pid) {
            /* now the client sees the end, if the worker did not show it */
            vtest_slot_close_sock(slot);
            *slot = (struct vtest_worker_slot){ .sock = -1 };
            srv->worker_count--;
            break;
         }
      }
      if (WIFSIGNALED(status))
         vu_log(VU_LOG_WARN, "server", "worker %d killed by signal %d", (int)pid,
                WTERMSIG(status));
      else if (VU_DEBUG(VTEST))
         vu_log(VU_LOG_INFO, "server", "worker %d exited with status %d", (int)pid,
                WEXITSTATUS(status));
   }
}

struct vtest_worker_args {
   const struct vtest_options *opts;
   uint32_t client_id;
};

static int
vtest_worker_main(int sock, void *data)
{
   const struct vtest_worker_args *args = data;
   return vtest_worker_run(sock, args->opts, args->client_id);
}

static void
vtest_server_spawn_worker(struct vtest_server *srv, int client_fd)
{
   const uint32_t client_id = srv->next_client_id++;

   if (srv->worker_count >= srv->opts->max_clients) {
      vu_log(VU_LOG_WARN, "server", "refusing client %u: %u clients already", client_id,
             srv->worker_count);
      close(client_fd);
      return;
   }

   struct vtest_worker_slot *slot = NULL;
   for (uint32_t i = 0; i < srv->opts->max_clients && !slot; i++) {
      if (!srv->workers[i].pid)
         slot = &srv->workers[i];
   }
   /* our copy, to see the client hang up; without one (out of fds) the
    * worker is not watched */
   const int watch_fd = fcntl(client_fd, F_DUPFD_CLOEXEC, 0);

   /* a worker holds its own client's socket and nothing of ours or of the
    * other clients */
   int close_count = 0;
   srv->close_fds[close_count++] = srv->listen_fd;
   srv->close_fds[close_count++] = srv->signal_fd;
   srv->close_fds[close_count++] = watch_fd;
   for (uint32_t i = 0; i < srv->opts->max_clients; i++) {
      if (srv->workers[i].sock >= 0)
         srv->close_fds[close_count++] = srv->workers[i].sock;
   }

   struct vtest_worker_args args = { srv->opts, client_id };
   struct vwk_process worker = { .sock = client_fd };
   if (!vwk_fork(0, "venus-worker", srv->close_fds, close_count, &srv->orig_mask,
                 vtest_worker_main, &args, &worker)) {
      vu_log(VU_LOG_ERROR, "server", "fork for client %u failed: %s", client_id,
             strerror(errno));
      if (watch_fd >= 0)
         close(watch_fd);
      return;
   }
   const pid_t pid = worker.pid;
   *slot = (struct vtest_worker_slot){
      .pid = pid,
      .client_id = client_id,
      .sock = watch_fd,
   };
   srv->worker_count++;
   if (VU_DEBUG(VTEST))
      vu_log(VU_LOG_INFO, "server", "client %u served by worker %d", client_id, (int)pid);
}

/* Returns true to keep running, false after SIGTERM/SIGINT/SIGHUP. */
static bool
vtest_server_handle_signals(struct vtest_server *srv)
{
   struct signalfd_siginfo info;
   bool keep_running = true;

   while (read(srv->signal_fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
      if (info.ssi_signo != SIGCHLD) {
         vu_log(VU_LOG_INFO, "server", "signal %u: shutting down", info.ssi_signo);
         keep_running = false;
      }
   }
   /* reap even without SIGCHLD: several exits can merge into one signal */
   vtest_server_reap(srv);
   return keep_running;
}

/* A slot's socket reported a hang-up: the worker's time to end starts. */
static void
vtest_server_client_hung_up(struct vtest_server *srv, struct vtest_worker_slot *slot)
{
   vtest_slot_close_sock(slot);
   slot->kill_at_ns = vu_os_time_ns() + (uint64_t)srv->opts->worker_grace_ms * 1000000u;
}

/* Kills the workers whose time to end has passed; returns the ms until the
 * next such deadline, or -1 for none. */
static int
vtest_server_kill_lingering(struct vtest_server *srv)
{
   const uint64_t now = vu_os_time_ns();
   uint64_t next = UINT64_MAX;

   for (uint32_t i = 0; i < srv->opts->max_clients; i++) {
      struct vtest_worker_slot *slot = &srv->workers[i];
      if (!slot->pid || !slot->kill_at_ns)
         continue;
      if (now >= slot->kill_at_ns) {
         vu_log(VU_LOG_WARN, "server",
                "client %u's connection ended %u ms ago and its worker %d still runs: "
                "killing it",
                slot->client_id, srv->opts->worker_grace_ms, (int)slot->pid);
         kill(slot->pid, SIGKILL);
         slot->kill_at_ns = 0; /* reaped with the next SIGCHLD */
      } else if (slot->kill_at_ns < next) {
         next = slot->kill_at_ns;
      }
   }
   if (next == UINT64_MAX)
      return -1;
   const uint64_t ms = (next - now + 999999) / 1000000;
   return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void
vtest_server_stop_workers(struct vtest_server *srv)
{
   for (uint32_t i = 0; i < srv->opts->max_clients; i++) {
      if (srv->workers[i].pid)
         kill(srv->workers[i].pid, SIGTERM);
   }
   for (uint32_t i = 0; i < srv->opts->max_clients; i++) {
      struct vtest_worker_slot *slot = &srv->workers[i];
      vtest_slot_close_sock(slot);
      if (!slot->pid)
         continue;
      while (waitpid(slot->pid, NULL, 0) < 0 && errno == EINTR)
         ;
      slot->pid = 0;
   }
   srv->worker_count = 0;
}

static int
vtest_server_run_forking(struct vtest_server *srv)
{
   sigset_t mask;
   int ret = 1;

   const uint32_t max = srv->opts->max_clients;
   srv->workers = calloc(max, sizeof(*srv->workers));
   srv->pfds = calloc((size_t)max + 2, sizeof(*srv->pfds));
   srv->close_fds = calloc((size_t)max + 3, sizeof(*srv->close_fds));
   if (!srv->workers || !srv->pfds || !srv->close_fds)
      goto out_workers;
   for (uint32_t i = 0; i < max; i++)
      srv->workers[i].sock = -1;

   sigemptyset(&mask);
   sigaddset(&mask, SIGCHLD);
   sigaddset(&mask, SIGTERM);
   sigaddset(&mask, SIGINT);
   sigaddset(&mask, SIGHUP);
   if (sigprocmask(SIG_BLOCK, &mask, &srv->orig_mask) < 0)
      goto out_workers;
   srv->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
   if (srv->signal_fd < 0) {
      vu_log(VU_LOG_ERROR, "server", "signalfd failed: %s", strerror(errno));
      goto out_mask;
   }

   bool is_backing_off = false;
   for (;;) {
      struct pollfd *pfds = srv->pfds;
      pfds[0] = (struct pollfd){ .fd = srv->signal_fd, .events = POLLIN };
      pfds[1] = (struct pollfd){ .fd = is_backing_off ? -1 : srv->listen_fd, .events = POLLIN };
      /* a client's socket: only its hang-up (POLLHUP and POLLERR come
       * unasked), never its requests, which are the worker's to read */
      for (uint32_t i = 0; i < max; i++)
         pfds[2 + i] = (struct pollfd){ .fd = srv->workers[i].sock, .events = POLLRDHUP };

      int timeout_ms = vtest_server_kill_lingering(srv);
      if (is_backing_off && (timeout_ms < 0 || timeout_ms > VTEST_ACCEPT_BACKOFF_MS))
         timeout_ms = VTEST_ACCEPT_BACKOFF_MS;
      if (poll(pfds, (nfds_t)max + 2, timeout_ms) < 0) {
         if (errno == EINTR)
            continue;
         vu_log(VU_LOG_ERROR, "server", "poll failed: %s", strerror(errno));
         break;
      }
      is_backing_off = false;

      for (uint32_t i = 0; i < max; i++) {
         if (pfds[2 + i].revents && srv->workers[i].sock >= 0)
            vtest_server_client_hung_up(srv, &srv->workers[i]);
      }

      if ((pfds[0].revents & POLLIN) && !vtest_server_handle_signals(srv)) {
         ret = 0;
         break;
      }
      if (pfds[1].revents & POLLIN) {
         const int fd = vtest_server_accept(srv, &is_backing_off);
         if (fd >= 0)
            vtest_server_spawn_worker(srv, fd);
      }
   }

   vtest_server_stop_workers(srv);
   close(srv->signal_fd);
out_mask:
   sigprocmask(SIG_SETMASK, &srv->orig_mask, NULL);
out_workers:
   free(srv->workers);
   free(srv->pfds);
   free(srv->close_fds);
   return ret;
}

/* --no-fork: the worker runs in this process, one client at a time. */
static int
vtest_server_run_in_process(struct vtest_server *srv)
{
   for (;;) {
      struct pollfd pfd = { .fd = srv->listen_fd, .events = POLLIN };
      if (poll(&pfd, 1, -1) < 0) {
         if (errno == EINTR)
            continue;
         vu_log(VU_LOG_ERROR, "server", "poll failed: %s", strerror(errno));
         return 1;
      }

      bool is_backing_off;
      const int fd = vtest_server_accept(srv, &is_backing_off);
      if (fd < 0) {
         if (is_backing_off)
            poll(NULL, 0, VTEST_ACCEPT_BACKOFF_MS);
         continue;
      }
      vtest_worker_run(fd, srv->opts, srv->next_client_id++);
      if (srv->opts->no_loop)
         return 0;
   }
}

int
main(int argc, char **argv)
{
   struct vtest_options opts = {
      .inherited_fd = -1,
      .max_clients = VTEST_DEFAULT_MAX_CLIENTS,
      .worker_grace_ms = VTEST_DEFAULT_WORKER_GRACE_MS,
   };
   struct vtest_server srv = {
      .opts = &opts,
      .listen_fd = -1,
      .signal_fd = -1,
      .next_client_id = 1,
   };

   const int parse = vtest_parse_args(argc, argv, &opts);
   if (parse)
      return parse == 2 ? 0 : 1;

   /* the Venus driver, when installed here, must not load in our workers */
   setenv(VU_ENV_RENDERER_PROCESS, "1", 1);

   /* a client that hangs up makes writes fail with EPIPE instead of killing us */
   signal(SIGPIPE, SIG_IGN);

   const int inherited_fd = vtest_inherited_listen_fd();
   if (inherited_fd == -2)
      return 1;
   if (inherited_fd >= 0) {
      opts.inherited_fd = srv.listen_fd = inherited_fd;
      vu_log(VU_LOG_INFO, "server", "listening on the socket passed by systemd (fd %d)",
             inherited_fd);
   } else if (!vtest_server_listen(&srv)) {
      return 1;
   }

   const int ret =
      opts.no_fork ? vtest_server_run_in_process(&srv) : vtest_server_run_forking(&srv);

   close(srv.listen_fd);
   vtest_server_unlink_socket(&srv);
   return ret;
}
