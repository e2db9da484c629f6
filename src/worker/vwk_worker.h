/*
 * Worker processes shared by the two host front-ends (ARCHITECTURE.md):
 * venus-server forks one worker per vtest client; the VMM library
 * (src/vmm/) starts one worker per Venus context. Both workers sit in the
 * same loop: poll the peer's socket and the renderer context's fence eventfd,
 * retire fences on their own thread, handle one request per wake-up.
 *
 * Process side (vwk_process.c): socket pairs, fork (server) or fork + exec
 * (VMM library: QEMU is multithreaded, so its child only execs), the child's
 * set-up (dies with its parent, process name, signal mask, fd limit),
 * reaping, and fd-carrying SOCK_SEQPACKET messages.
 * Loop side (vwk_loop.c): the sandbox around loading the host driver
 * (vwk_sandbox.c), and the poll loop.
 */
#ifndef VWK_WORKER_H
#define VWK_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vkr_context;

/* A started worker: its pid and the parent's end of the socket pair. */
struct vwk_process {
   pid_t pid;
   int sock;
};

/* fd number of the socket in a worker started by vwk_spawn_exec() */
#define VWK_EXEC_SOCKET_FD 3

/* Forks a worker connected by an AF_UNIX socket pair of `sock_type`
 * (SOCK_STREAM, SOCK_SEQPACKET), or, with sock_type 0, over `sock` given in
 * out->sock (an accepted client; the parent closes it). The child closes the
 * `close_count` fds in `close_fds` (e.g. a listening socket), restores
 * `child_mask` (a sigset_t; NULL: empty), calls vwk_child_setup(name) and
 * exits with child_main(sock, data). */
bool
vwk_fork(int sock_type,
         const char *name,
         const int *close_fds,
         int close_count,
         const void *child_mask,
         int (*child_main)(int sock, void *data),
         void *data,
         struct vwk_process *out);

/* Starts `path` (argv[0] = path) with its end of a SOCK_SEQPACKET pair at fd
 * VWK_EXEC_SOCKET_FD and every fd above it closed. Between fork and exec the
 * child makes only async-signal-safe calls, so the parent may have threads.
 * The child dies with the parent's thread (PR_SET_PDEATHSIG). */
bool
vwk_spawn_exec(const char *path, struct vwk_process *out);

/* In a new worker: with parent > 0, SIGKILL when the parent dies (and exit
 * at once if it already has; an exec'd worker inherits this from
 * vwk_spawn_exec and passes 0); the process name, SIGPIPE ignored, fd limit
 * raised to the hard limit (each resource keeps an fd). */
void
vwk_child_setup(const char *name, pid_t parent);

/* Raises the soft fd limit to the hard limit. */
void
vwk_raise_fd_limit(void);

/* Waits for (block) or checks on (!block) worker `pid`. Returns true once it
 * has been reaped; *out_status (if not NULL) gets the wait status. */
bool
vwk_reap(pid_t pid, bool block, int *out_status);

/* SOCK_SEQPACKET messages with at most one fd. send: fd < 0 for none; false
 * with errno on failure (EPIPE instead of SIGPIPE). recv: returns the message
 * size, 0 at end of file, -1 with errno (EMSGSIZE when the message did not
 * fit, EBADMSG when it carried more than one fd; any fds are closed then).
 * *out_fd (may be NULL: an fd is then closed) is -1 without an fd.
 * timeout_ms < 0 waits forever, 0 does not wait (EAGAIN). */
bool
vwk_msg_send(int sock, const void *buf, size_t size, int fd);
ssize_t
vwk_msg_recv(int sock, void *buf, size_t size, int *out_fd, int timeout_ms);

/* ---- the worker loop (vwk_loop.c) ---- */

struct vwk_loop_ops {
   /* the context whose fences the loop retires, or NULL (none yet) */
   struct vkr_context *(*get_context)(void *data);
   /* ms until the loop must call handle_timeout, -1 for never */
   int (*get_timeout_ms)(void *data);
   /* the socket is readable or hung up: handle one request; false ends the
    * loop with exit status *out_status */
   bool (*handle_request)(void *data, int *out_status);
   /* called after each wake-up (requests, fences, timeouts); false ends the
    * loop with *out_status */
   bool (*handle_timeout)(void *data, int *out_status);
};

/* Before a worker reads its first guest byte: sets glibc's allocator
 * thresholds for the host driver (vwk_tune_malloc), enters the sandbox
 * (vwk_sandbox.h; unless VENUS_SANDBOX=0) around loading the host Vulkan
 * driver (vkr_renderer_preload). Call with one thread. false (logged) when
 * the sandbox could not be applied: the worker must end. max_file_bytes:
 * the largest memfd the worker's context may create
 * (vkr_context_limits_memory). */
bool
vwk_worker_lock_down(uint64_t max_file_bytes);

/* glibc's mmap and trim thresholds raised to 4 and 8 MiB (vwk_process.c
 * says why), unless GLIBC_TUNABLES names a malloc setting; called by
 * vwk_worker_lock_down. */
void
vwk_tune_malloc(void);

/* Runs until a callback returns false; returns its exit status. Fences are
 * retired (vkr_context_retire_fences) before the next request is read, so
 * the request sees their effects. */
int
vwk_loop_run(int sock, const struct vwk_loop_ops *ops, void *data);

/* Whether the peer at the other end of `sock` has hung up (closed or shut
 * down its writing side), without reading: the renderer asks it through
 * vkr_context_callbacks::peer_gone while a context-path wait blocks the
 * loop. */
bool
vwk_peer_hung_up(int sock);

#endif
