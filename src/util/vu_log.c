/*
 * Logging and environment switches. The environment is parsed once, on the
 * first vu_env_get(), into a global read-only struct; this file (with the two
 * vu_env_* accessors) is the only place in the project that calls getenv.
 */
#include "vu_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <threads.h>
#include <unistd.h>

/* longest line vu_log writes; longer messages are cut */
#define VU_LOG_LINE_MAX 1024

struct vu_env_option {
   const char *name;
   uint32_t flag;
};

static const struct vu_env_option vu_debug_options[] = {
   { "init", VU_DEBUG_INIT },           { "result", VU_DEBUG_RESULT },
   { "ring", VU_DEBUG_RING },           { "validate", VU_DEBUG_VALIDATE },
   { "vtest", VU_DEBUG_VTEST },         { "decode", VU_DEBUG_DECODE },
   { "roundtrip", VU_DEBUG_ROUNDTRIP }, { "vmm", VU_DEBUG_VMM },
   { "recorders", VU_DEBUG_RECORDERS },
};

static const struct vu_env_option vu_perf_options[] = {
   { "no_cache", VU_PERF_NO_CACHE },
   { "no_feedback", VU_PERF_NO_FEEDBACK },
   { "no_host_pointer", VU_PERF_NO_HOST_POINTER },
   { "no_host_wait", VU_PERF_NO_HOST_WAIT },
   { "no_wsi_shm", VU_PERF_NO_WSI_SHM },
   { "no_wsi_zero_copy", VU_PERF_NO_WSI_ZERO_COPY },
   { "spin", VU_PERF_SPIN_RING | VU_PERF_SPIN_WAIT },
   { "spin_ring", VU_PERF_SPIN_RING },
   { "spin_wait", VU_PERF_SPIN_WAIT },
   { "no_sparse_twins", VU_PERF_NO_SPARSE_TWINS },
   { "no_fence_elision", VU_PERF_NO_FENCE_ELISION },
   { "parallel_record", VU_PERF_PARALLEL_RECORD },
   { "no_parallel_record", VU_PERF_NO_PARALLEL_RECORD },
   { "precise_head", VU_PERF_PRECISE_HEAD },
   { "fence_feedback", VU_PERF_FENCE_FEEDBACK },
   { "no_ring_mirror", VU_PERF_NO_RING_MIRROR },
   { "eager_host_chain", VU_PERF_EAGER_HOST_CHAIN },
   { "no_bias_lock", VU_PERF_NO_BIAS_LOCK },
   { "no_object_pool", VU_PERF_NO_OBJECT_POOL },
};

static const char *const vu_log_level_names[] = {
   [VU_LOG_ERROR] = "error",
   [VU_LOG_WARN] = "warn",
   [VU_LOG_INFO] = "info",
   [VU_LOG_DEBUG] = "debug",
};

static struct vu_env vu_env_global;
static once_flag vu_env_once = ONCE_FLAG_INIT;

/* Comma- or space-separated names, case-insensitive; unknown names are
 * ignored (logging about them here would recurse into vu_env_get). */
static uint32_t
vu_env_parse_flags(const char *str, const struct vu_env_option *options, size_t count)
{
   static const char separators[] = ", \t";
   uint32_t flags = 0;
   if (!str)
      return 0;

   while (*str) {
      str += strspn(str, separators);
      const size_t len = strcspn(str, separators);
      for (size_t i = 0; i < count; i++) {
         if (strlen(options[i].name) == len && !strncasecmp(str, options[i].name, len))
            flags |= options[i].flag;
      }
      str += len;
   }
   return flags;
}

/* Unset (or unknown): warn, or debug when VENUS_DEBUG asks for diagnostics,
 * which are logged at debug level. */
static enum vu_log_level
vu_env_parse_level(const char *str, uint32_t debug)
{
   if (!str)
      return debug ? VU_LOG_DEBUG : VU_LOG_WARN;
   for (size_t i = 0; i < sizeof(vu_log_level_names) / sizeof(vu_log_level_names[0]);
        i++) {
      if (!strcasecmp(str, vu_log_level_names[i]))
         return (enum vu_log_level)i;
   }
   return VU_LOG_WARN;
}

static void
vu_env_init(void)
{
   struct vu_env *env = &vu_env_global;
   env->debug =
      vu_env_parse_flags(vu_env_string("VENUS_DEBUG"), vu_debug_options,
                         sizeof(vu_debug_options) / sizeof(vu_debug_options[0]));
   env->perf = vu_env_parse_flags(vu_env_string("VENUS_PERF"), vu_perf_options,
                                  sizeof(vu_perf_options) / sizeof(vu_perf_options[0]));
   env->level = vu_env_parse_level(vu_env_string("VENUS_LOG_LEVEL"), env->debug);
   env->vtest_socket = vu_env_string("VTEST_SOCKET_NAME");
   env->is_renderer_process = vu_env_string(VU_ENV_RENDERER_PROCESS) != NULL;
}

const struct vu_env *
vu_env_get(void)
{
   call_once(&vu_env_once, vu_env_init);
   return &vu_env_global;
}

const char *
vu_env_string(const char *name)
{
   const char *value = getenv(name);
   return value && *value ? value : NULL;
}

long long
vu_env_int(const char *name, long long def)
{
   const char *str = vu_env_string(name);
   if (!str)
      return def;

   char *end;
   errno = 0;
   const long long value = strtoll(str, &end, 0);
   if (errno || end == str || *end)
      return def;
   return value;
}

void
vu_log(enum vu_log_level level, const char *tag, const char *fmt, ...)
{
   if (level > vu_env_get()->level)
      return;

   /* callers log on error paths and may still read errno afterwards */
   const int saved_errno = errno;
   char line[VU_LOG_LINE_MAX];
   /* the last byte is kept for the newline */
   const size_t room = sizeof(line) - 1;

   int n =
      tag ? snprintf(line, room, "[venus %s] ", tag) : snprintf(line, room, "[venus] ");
   size_t len = n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;

   va_list args;
   va_start(args, fmt);
   n = vsnprintf(line + len, room - len, fmt, args);
   va_end(args);
   if (n > 0)
      len += (size_t)n < room - len ? (size_t)n : room - len - 1;
   line[len++] = '\n';

   /* one write so that lines from several processes do not interleave */
   while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
      ;
   errno = saved_errno;
}
