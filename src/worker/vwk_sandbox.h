/*
 * The worker sandbox (vwk_sandbox.c, docs/sandbox.md). A worker calls
 * vwk_sandbox_begin() while it has one thread, loads the host Vulkan driver,
 * then calls vwk_sandbox_finish() before it reads the first guest byte;
 * vwk_worker_lock_down() (vwk_loop.c) does all three. The two halves are
 * separate so that a test can put a process of its own under the same rules.
 */
#ifndef VWK_SANDBOX_H
#define VWK_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

/* false when VENUS_SANDBOX=0 turns the sandbox off (debugging) */
bool
vwk_sandbox_is_enabled(void);

/* No new privileges, not dumpable, RLIMIT_CORE 0 and limits on file size
 * (max_file_bytes, at least 1 GiB: shared memory is memfd files, so the
 * largest one the worker may create; SIGXFSZ ignored, so that a larger
 * write fails with EFBIG instead of killing the worker) and open fds, and
 * (where the kernel has Landlock) a read-only file system except /dev (open
 * for writing), /dev/shm, /proc/<own pid> and the host drivers' cache
 * folders. Call with one thread. false (logged) on failure. */
bool
vwk_sandbox_begin(uint64_t max_file_bytes);

/* Installs the seccomp filter on every thread: a forbidden system call
 * writes one line to stderr and kills the process with SIGSYS. false
 * (logged) on failure. */
bool
vwk_sandbox_finish(void);

/* true once vwk_sandbox_finish() succeeded in this process */
bool
vwk_sandbox_active(void);

#endif
