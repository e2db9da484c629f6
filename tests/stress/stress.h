/*
 * The stress test (test_stress.c, docs/TESTING.md "Stress"): what its hostile
 * client (stress_hostile.c) shares with the rest of the test.
 */
#ifndef STRESS_H
#define STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* what one hostile connection does (stress_hostile.c) */
enum stress_mode {
   STRESS_MODE_RAW,      /* random bytes from the first header on (no session) */
   STRESS_MODE_REQUESTS, /* a session, then random vtest requests */
   STRESS_MODE_REPLAY,   /* a recorded connection with its requests mutated */
   STRESS_MODE_RING,     /* a ring of random layout fed random contents */
   STRESS_MODE_CHURN,    /* many blobs, syncs and waits, then gone mid-request */
   STRESS_MODE_COUNT,
};

struct stress_conn {
   enum stress_mode mode;
   bool has_name;    /* CREATE_RENDERER "hostile-<index>" came first */
   bool was_dropped; /* the server closed the connection before we did */
};

struct stress_hostile_report {
   struct stress_conn *conns; /* index = the n of "hostile-<n>" */
   uint32_t count;
   uint32_t capacity;
   uint64_t bytes_sent;
   uint32_t stalls; /* sends that made no progress for STRESS_SEND_TIMEOUT_MS */
   bool failed;      /* the test itself could not run (connect failed) */
};

/* Connects to `sock_path` again and again until `deadline_ns`
 * (CLOCK_MONOTONIC) and misbehaves on each connection. `corpus_dir` holds
 * recorded client connections (tests/fuzz/corpus/vtest). */
void stress_hostile_run(const char *sock_path,
                        const char *corpus_dir,
                        uint64_t seed,
                        uint64_t deadline_ns,
                        struct stress_hostile_report *out);

const char *stress_mode_name(enum stress_mode mode);

#endif
