/*
 * venus-server internals shared by the parent (vtest_main.c: socket, accept,
 * one forked worker per client) and the worker (vtest_worker.c: the vtest
 * requests of one client mapped onto one renderer context).
 */
#ifndef VTEST_SERVER_H
#define VTEST_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "renderer/vkr_renderer.h"

#define VTEST_DEFAULT_MAX_CLIENTS 256u
#define VTEST_DEFAULT_MAX_REQUEST_MB 64u
/* a CREATE_RENDERER debug name longer than this is a protocol error */
#define VTEST_MAX_DEBUG_NAME_BYTES 4096u
/* blob resources one client may hold (each keeps an fd in the worker) */
#define VTEST_MAX_RESOURCES (1u << 16)
/* how long a worker may run on after its client hung up before the server
 * kills it (--worker-grace-ms) */
#define VTEST_DEFAULT_WORKER_GRACE_MS 10000u

struct vtest_options {
   const char *socket_path;
   int inherited_fd;           /* listening socket from systemd (sd_listen_fds), or -1 */
   bool no_fork;               /* serve clients one at a time in-process */
   bool no_loop;               /* with no_fork: serve a single client, then exit */
   uint32_t max_clients;       /* concurrent workers; further clients are refused */
   uint64_t max_request_bytes; /* payload cap of one request */
   uint32_t worker_grace_ms;   /* a worker's time to end once its client hung up */
   struct vkr_context_limits limits;
};

/* Serves the client on `sock` until it disconnects or misbehaves; closes
 * `sock` and destroys everything the client created. Returns an exit status
 * (0: the client ended the session or was dropped for a protocol error). */
int vtest_worker_run(int sock, const struct vtest_options *opts, uint32_t client_id);

#endif
