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

/* ---- helpers (stress_util.c) ---- */

/* a whole file, NUL-terminated (free it), or NULL */
char *stress_read_file(const char *path, size_t *out_size);
bool stress_files_equal(const char *a, const char *b);
/* the sorted names (at most 64) in a flat folder, NULL-terminated; free with
 * stress_free_names */
char **stress_list_names(const char *path, uint32_t *out_count);
void stress_free_names(char **names);
/* removes the files in a flat folder */
void stress_empty_folder(const char *path);
void stress_remove_tree(const char *path);
bool stress_has_prefix(const char *s, const char *prefix);
/* the number after `field` in a /proc file (kB), or -1 */
long stress_proc_field_kb(const char *path, const char *field);
/* entries of a folder (-1 if unreadable); with out_memfds, links to memfds
 * (in a /proc/PID/fd folder) are counted there */
int stress_count_entries(const char *path, int *out_memfds);

#endif
