/*
 * Logging and debug switches. Environment variables are read once (only this
 * folder calls getenv); VENUS_DEBUG and VENUS_PERF are comma-separated lists.
 */
#ifndef VU_LOG_H
#define VU_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum vu_log_level {
   VU_LOG_ERROR,
   VU_LOG_WARN,
   VU_LOG_INFO,
   VU_LOG_DEBUG,
};

/* VENUS_DEBUG bits */
enum vu_debug_flag {
   VU_DEBUG_INIT = 1u << 0,     /* initialisation steps and capset values */
   VU_DEBUG_RESULT = 1u << 1,   /* every error VkResult returned to the app */
   VU_DEBUG_RING = 1u << 2,     /* ring creation, notify, fatal */
   VU_DEBUG_VALIDATE = 1u << 3, /* renderer: enable the host validation layer */
   VU_DEBUG_VTEST = 1u << 4,    /* vtest requests (server and client) */
   VU_DEBUG_DECODE = 1u << 5,   /* each decoded command type (renderer) */
   VU_DEBUG_ROUNDTRIP = 1u << 6,/* driver: log each synchronous round trip */
   VU_DEBUG_VMM = 1u << 7,      /* VMM library: contexts, blobs, fences it relays */
   VU_DEBUG_RECORDERS = 1u << 8, /* renderer: every segment of parallel recording,
                                    however short, goes to a recorder thread */
};

/* VENUS_PERF bits: each turns one optimisation off */
enum vu_perf_flag {
   VU_PERF_NO_CACHE = 1u << 2,
   VU_PERF_NO_FEEDBACK = 1u << 3,
   VU_PERF_NO_HOST_POINTER = 1u << 5, /* renderer: no VK_EXT_external_memory_host */
   VU_PERF_NO_HOST_WAIT = 1u << 6,    /* driver: long fence waits poll instead of blocking */
   VU_PERF_NO_WSI_SHM = 1u << 7,      /* driver: frames reach X11 by plain XPutImage copies */
   VU_PERF_NO_WSI_ZERO_COPY = 1u << 8, /* driver: frames copied into the WSI's own shm */
   VU_PERF_SPIN_RING = 1u << 9, /* renderer: ring threads busy-spin after a batch (opt-in) */
   VU_PERF_NO_SPARSE_TWINS = 1u << 10, /* renderer: sparse resources keep host-pointer memory */
   VU_PERF_SPIN_WAIT = 1u << 11, /* driver: reply and fence waits busy-spin first (opt-in) */
   VU_PERF_NO_FENCE_ELISION = 1u << 12, /* driver: fence-only submissions keep their host fence */
   VU_PERF_PARALLEL_RECORD = 1u << 13, /* renderer: parallel recording even on few CPUs */
   VU_PERF_NO_PARALLEL_RECORD = 1u << 14, /* renderer: command buffers recorded on the ring thread */
   VU_PERF_PRECISE_HEAD = 1u << 15, /* renderer: ring head stored after every command */
   VU_PERF_FENCE_FEEDBACK = 1u << 16, /* driver: frames-in-flight fences keep their status write */
   VU_PERF_NO_RING_MIRROR = 1u << 17, /* renderer: wrapped ring batches copied, not mapped twice */
   VU_PERF_EAGER_HOST_CHAIN = 1u << 18, /* renderer: buffers get the host-allocation chain
                                           when created, not at a bind to host memory */
   VU_PERF_NO_BIAS_LOCK = 1u << 19, /* driver: ring locks never biased (no membarrier) */
   VU_PERF_NO_OBJECT_POOL = 1u << 20, /* driver: small objects malloc'ed and freed each time */
};

struct vu_env {
   uint32_t debug;          /* enum vu_debug_flag */
   uint32_t perf;           /* enum vu_perf_flag */
   enum vu_log_level level; /* VENUS_LOG_LEVEL=error|warn|info|debug; default warn,
                               debug when VENUS_DEBUG names a flag */
   const char *vtest_socket; /* VTEST_SOCKET_NAME or NULL */
   /* VENUS_RENDERER_PROCESS set: this process is (or was forked from) a
    * renderer (venus-server, venus-vmm-worker), where the driver refuses to
    * load: the renderer's own Vulkan loader would otherwise pick the
    * installed Venus driver, which would connect back to the server */
   bool is_renderer_process;
};

/* The variable the renderer processes set for their children and the loader
 * (vu_env.is_renderer_process) */
#define VU_ENV_RENDERER_PROCESS "VENUS_RENDERER_PROCESS"

/* Parsed once (call_once) on first use. */
const struct vu_env *
vu_env_get(void);

#define VU_DEBUG(flag) ((vu_env_get()->debug & VU_DEBUG_##flag) != 0)
#define VU_PERF(flag) ((vu_env_get()->perf & VU_PERF_##flag) != 0)

/* Formats "[venus tag] message" to stderr (one write, newline added) when
 * `level` is at or below VENUS_LOG_LEVEL. The one log format of every part:
 * the driver, renderer, server, VMM library and workers (docs/logging.md).
 * Diagnostics that a VENUS_DEBUG flag turns on are logged at info or debug
 * level, which VENUS_DEBUG makes the default. */
void
vu_log(enum vu_log_level level, const char *tag, const char *fmt, ...)
   __attribute__((format(printf, 3, 4)));

/* Reads an integer/string from the environment (for the few tunables that
 * are not flags, e.g. VENUS_SERVER_MAX_MEMORY_MB); NULL/def if unset. */
const char *
vu_env_string(const char *name);
long long
vu_env_int(const char *name, long long def);

#endif
