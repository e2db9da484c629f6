/*
 * Processes for the tests that watch workers: the children of a process, read
 * from /proc (the stat files that name it as their parent).
 */
#ifndef HARNESS_PROC_H
#define HARNESS_PROC_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The children of `parent`, zombies (exited, not yet reaped) only with
 * `with_zombies`: how many, and the first `max` of them into `out` (may be
 * NULL with max 0). */
static inline int
harness_children(pid_t parent, bool with_zombies, pid_t *out, int max)
{
   DIR *dir = opendir("/proc");
   int count = 0;
   for (struct dirent *e; dir && (e = readdir(dir));) {
      if (e->d_name[0] < '1' || e->d_name[0] > '9')
         continue;
      char path[300], buf[512];
      snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
      FILE *f = fopen(path, "r");
      if (!f)
         continue;
      const size_t n = fread(buf, 1, sizeof(buf) - 1, f);
      fclose(f);
      buf[n] = '\0';
      const char *end = strrchr(buf, ')'); /* the command name may hold anything */
      int ppid;
      char state;
      if (!end || sscanf(end + 1, " %c %d", &state, &ppid) != 2 || ppid != parent ||
          (state == 'Z' && !with_zombies))
         continue;
      if (count < max)
         out[count] = (pid_t)atoi(e->d_name);
      count++;
   }
   if (dir)
      closedir(dir);
   return count;
}

/* Whether `pid` is a live (not zombie) child of `parent`. */
static inline bool
harness_is_live_child(pid_t parent, pid_t pid)
{
   pid_t pids[256];
   const int n = harness_children(parent, false, pids, 256);
   for (int i = 0; i < n && i < 256; i++) {
      if (pids[i] == pid)
         return true;
   }
   return false;
}

/* The live child of `parent` that is not among the `n_before` in `before`
 * (the worker of a client or context made since), or 0. */
static inline pid_t
harness_new_child(pid_t parent, const pid_t *before, int n_before)
{
   pid_t after[256];
   const int n = harness_children(parent, false, after, 256);
   for (int i = 0; i < n && i < 256; i++) {
      bool seen = false;
      for (int j = 0; j < n_before; j++)
         seen |= after[i] == before[j];
      if (!seen)
         return after[i];
   }
   return 0;
}

#endif
