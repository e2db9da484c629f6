/*
 * vwk_tune_malloc (src/worker/vwk_loop.c): a thread that allocates about
 * 1.5 MiB in 64 KiB blocks and frees them all, frame after frame, as
 * lavapipe's queue thread does with llvmpipe's scenes, faults those pages in
 * anew every frame under glibc's default thresholds (its arena's free top is
 * given back to the kernel) and not at all once a worker has tuned the
 * allocator. Page faults are counted per thread (RUSAGE_THREAD).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <threads.h>

#include "worker/vwk_worker.h"

#define BLOCKS 24
#define BLOCK_SIZE (64 * 1024)
#define WARM_FRAMES 4
#define FRAMES 32

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED
int
main(void)
{
   printf("SKIP: the sanitizer's allocator replaces glibc's\n");
   return 77;
}
#else
static void
frame(void)
{
   unsigned char *blocks[BLOCKS];
   for (int i = 0; i < BLOCKS; i++) {
      blocks[i] = malloc(BLOCK_SIZE);
      if (!blocks[i])
         abort();
      memset(blocks[i], i + 1, BLOCK_SIZE);
   }
   for (int i = BLOCKS - 1; i >= 0; i--)
      free(blocks[i]);
}

static long
minor_faults(void)
{
   struct rusage u;
   return getrusage(RUSAGE_THREAD, &u) == 0 ? u.ru_minflt : -1;
}

/* page faults per frame after a few frames to warm the arena */
static int
frames_thread(void *out)
{
   for (int i = 0; i < WARM_FRAMES; i++)
      frame();
   const long before = minor_faults();
   for (int i = 0; i < FRAMES; i++)
      frame();
   *(double *)out = (double)(minor_faults() - before) / FRAMES;
   return 0;
}

static double
faults_per_frame(void)
{
   double per_frame = -1;
   thrd_t t;
   if (thrd_create(&t, frames_thread, &per_frame) != thrd_success || thrd_join(t, NULL))
      return -1;
   return per_frame;
}

int
main(void)
{
   unsetenv("GLIBC_TUNABLES"); /* read at start-up already; vwk_tune_malloc looks */
   const double untuned = faults_per_frame();
   vwk_tune_malloc();
   const double tuned = faults_per_frame();
   const double pages = (double)BLOCKS * BLOCK_SIZE / 4096;
   printf("page faults per frame of %.0f pages: glibc's defaults %.1f, tuned %.1f\n", pages,
          untuned, tuned);
   if (untuned < pages / 2) {
      /* this glibc keeps the pages by itself: nothing to show */
      printf("SKIP: the default allocator kept the frame's pages (%.1f faults a frame)\n",
             untuned);
      return 77;
   }
   if (tuned < 0 || tuned > 1) {
      printf("FAIL: a worker's allocator still faults %.1f pages a frame in anew\n", tuned);
      return 1;
   }
   printf("PASS\n");
   return 0;
}
#endif
