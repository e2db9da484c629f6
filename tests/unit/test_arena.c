/*
 * Unit tests for the bump allocator: zero fill, alignment, the per-period cap,
 * overflow checks, reuse after reset, chunk chaining and trim.
 */
#include "harness.h"

#include <time.h>

#include "util/vu_arena.h"

static int
is_zero(const void *ptr, size_t size)
{
   const uint8_t *p = ptr;
   for (size_t i = 0; i < size; i++) {
      if (p[i])
         return 0;
   }
   return 1;
}

TEST(zero_filled_after_reuse)
{
   struct vu_arena arena;
   vu_arena_init(&arena, 1 << 20);

   uint8_t *a = vu_arena_alloc(&arena, 100, 8);
   CHECK(a != NULL);
   CHECK(is_zero(a, 100));
   memset(a, 0xab, 100);
   uint8_t *b = vu_arena_alloc(&arena, 50, 1);
   memset(b, 0xcd, 50);

   vu_arena_reset(&arena);
   CHECK_EQ(arena.used, 0);
   uint8_t *c = vu_arena_alloc(&arena, 150, 8);
   /* single chunk: reset rewinds to the same storage, which must be zeroed again */
   CHECK(c == a);
   CHECK(is_zero(c, 150));

   vu_arena_fini(&arena);
}

TEST(alignment)
{
   struct vu_arena arena;
   vu_arena_init(&arena, 1 << 20);

   for (size_t align = 1; align <= 64; align *= 2) {
      /* an odd-sized allocation first so that cur is misaligned */
      CHECK(vu_arena_alloc(&arena, 3, 1) != NULL);
      uint8_t *p = vu_arena_alloc(&arena, 24, align);
      CHECK(p != NULL);
      CHECK_EQ((uintptr_t)p % align, 0);
      CHECK(is_zero(p, 24));
   }
   /* align 0 is treated as 1; invalid alignments are refused */
   CHECK(vu_arena_alloc(&arena, 8, 0) != NULL);
   CHECK(vu_arena_alloc(&arena, 8, 3) == NULL);
   CHECK(vu_arena_alloc(&arena, 8, 128) == NULL);

   vu_arena_fini(&arena);
}

TEST(cap_enforced)
{
   struct vu_arena arena;
   vu_arena_init(&arena, 1000);

   CHECK(vu_arena_alloc(&arena, 600, 1) != NULL);
   CHECK(vu_arena_alloc(&arena, 401, 1) == NULL);
   CHECK(vu_arena_alloc(&arena, 400, 1) != NULL);
   CHECK_EQ(arena.used, 1000);
   CHECK(vu_arena_alloc(&arena, 1, 1) == NULL);
   /* size 0 never counts against the cap */
   CHECK(vu_arena_alloc(&arena, 0, 1) != NULL);

   vu_arena_reset(&arena);
   CHECK(vu_arena_alloc(&arena, 1000, 1) != NULL);
   CHECK(vu_arena_alloc(&arena, 1, 1) == NULL);

   /* the cap also holds when the request needs a new chunk */
   vu_arena_reset(&arena);
   CHECK(vu_arena_alloc(&arena, 1001, 1) == NULL);
   CHECK_EQ(arena.used, 0);

   vu_arena_fini(&arena);
}

TEST(cap_counts_padding)
{
   struct vu_arena arena;
   vu_arena_init(&arena, 128);

   CHECK(vu_arena_alloc(&arena, 1, 1) != NULL);
   /* chunks start 64-aligned: the next 64-aligned slot is 63 bytes further */
   uint8_t *p = vu_arena_alloc(&arena, 8, 64);
   CHECK(p != NULL);
   CHECK_EQ(arena.used, 72);
   CHECK(vu_arena_alloc(&arena, 57, 1) == NULL);
   CHECK(vu_arena_alloc(&arena, 56, 1) != NULL);
   CHECK_EQ(arena.used, 128);

   vu_arena_fini(&arena);
}

TEST(overflow_checked)
{
   struct vu_arena arena;
   vu_arena_init(&arena, SIZE_MAX);

   CHECK(vu_arena_alloc(&arena, SIZE_MAX, 1) == NULL);
   CHECK(vu_arena_alloc(&arena, SIZE_MAX - 10, 64) == NULL);
   CHECK(vu_arena_alloc_array(&arena, SIZE_MAX / 2, 4, 4) == NULL);
   CHECK(vu_arena_alloc_array(&arena, (SIZE_MAX >> 32) + 2, (size_t)1 << 32, 8) == NULL);
   /* the failures left the arena usable */
   uint32_t *arr = vu_arena_alloc_array(&arena, 16, sizeof(uint32_t), 4);
   CHECK(arr != NULL);
   CHECK(is_zero(arr, 16 * sizeof(uint32_t)));
   CHECK(vu_arena_alloc_array(&arena, 0, 8, 8) != NULL);

   vu_arena_fini(&arena);
}

TEST(size_zero_not_null)
{
   struct vu_arena arena;
   vu_arena_init(&arena, 0);
   CHECK(vu_arena_alloc(&arena, 0, 1) != NULL);
   CHECK(vu_arena_alloc(&arena, 0, 64) != NULL);
   CHECK_EQ((uintptr_t)vu_arena_alloc(&arena, 0, 64) % 64, 0);
   CHECK(vu_arena_alloc(&arena, 1, 1) == NULL);
   vu_arena_fini(&arena);
}

TEST(many_chunks_do_not_overlap)
{
   enum { COUNT = 200, SIZE = 1000 };
   struct vu_arena arena;
   vu_arena_init(&arena, 1 << 20);
   uint8_t *ptrs[COUNT];

   for (int i = 0; i < COUNT; i++) {
      ptrs[i] = vu_arena_alloc(&arena, SIZE, 16);
      CHECK(ptrs[i] != NULL);
      if (!ptrs[i])
         return;
      CHECK(is_zero(ptrs[i], SIZE));
      memset(ptrs[i], i & 0xff, SIZE);
   }
   CHECK(arena.used >= (size_t)COUNT * SIZE);
   for (int i = 0; i < COUNT; i++) {
      uint8_t expect[SIZE];
      memset(expect, i & 0xff, SIZE);
      CHECK_MEM(ptrs[i], expect, SIZE);
   }

   /* a big allocation past the first chunk size gets its own chunk */
   uint8_t *big = vu_arena_alloc(&arena, 100000, 64);
   CHECK(big != NULL);
   CHECK(is_zero(big, 100000));
   memset(big, 0xee, 100000);

   /* after reset the kept chunk holds the whole working set again */
   vu_arena_reset(&arena);
   CHECK(arena.chunks != NULL);
   for (int i = 0; i < COUNT; i++) {
      uint8_t *p = vu_arena_alloc(&arena, SIZE, 16);
      CHECK(p != NULL && is_zero(p, SIZE));
   }
   vu_arena_fini(&arena);
   CHECK(arena.chunks == NULL);
}

TEST(trim_releases_large_chunk)
{
   struct vu_arena arena;
   vu_arena_init(&arena, 16 << 20);

   CHECK(vu_arena_alloc(&arena, 4 << 20, 8) != NULL);
   vu_arena_trim(&arena);
   CHECK_EQ(arena.used, 0);
   CHECK(arena.chunks == NULL);

   /* a small chunk survives trim and is reused */
   uint8_t *a = vu_arena_alloc(&arena, 64, 8);
   CHECK(a != NULL);
   memset(a, 1, 64);
   vu_arena_trim(&arena);
   CHECK(arena.chunks != NULL);
   uint8_t *b = vu_arena_alloc(&arena, 64, 8);
   CHECK(b == a);
   CHECK(is_zero(b, 64));

   vu_arena_fini(&arena);
}

/* The renderer resets once per decoded command: reset plus a few small
 * allocations must stay cheap (a generous bound, also under sanitizers). */
TEST(reset_is_cheap)
{
   enum { ITERS = 200000 };
   struct vu_arena arena;
   vu_arena_init(&arena, 1 << 20);
   CHECK(vu_arena_alloc(&arena, 100, 8) != NULL);

   struct timespec t0, t1;
   clock_gettime(CLOCK_MONOTONIC, &t0);
   for (int i = 0; i < ITERS; i++) {
      vu_arena_reset(&arena);
      uint64_t *p = vu_arena_alloc(&arena, 32, 8);
      uint32_t *q = vu_arena_alloc(&arena, 12, 4);
      if (!p || !q || p[3] || q[2]) {
         CHECK(0);
         break;
      }
      p[3] = 1;
      q[2] = 1;
   }
   clock_gettime(CLOCK_MONOTONIC, &t1);
   const double ns =
      ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ITERS;
   CHECK(ns < 500.0);

   vu_arena_fini(&arena);
}

/* vu_mem_copy / vu_mem_zero: every size up to 40 at every offset within a
 * word: exactly the n bytes change, the guard bytes around them do not */
TEST(small_copy_and_zero)
{
   uint8_t src[64], dst[64];
   for (uint32_t i = 0; i < sizeof(src); i++)
      src[i] = (uint8_t)(i * 7 + 1);
   for (size_t off = 0; off < 8; off++) {
      for (size_t n = 0; n <= 40; n++) {
         memset(dst, 0xee, sizeof(dst));
         vu_mem_copy(dst + off, src + 3, n);
         for (size_t i = 0; i < sizeof(dst); i++) {
            const uint8_t want = i >= off && i < off + n ? src[3 + i - off] : 0xee;
            CHECK_EQ(dst[i], want);
         }
         memset(dst, 0xee, sizeof(dst));
         vu_mem_zero(dst + off, n);
         for (size_t i = 0; i < sizeof(dst); i++)
            CHECK_EQ(dst[i], i >= off && i < off + n ? 0 : 0xee);
      }
   }
}

RUN_TESTS(small_copy_and_zero, zero_filled_after_reuse, alignment, cap_enforced, cap_counts_padding,
          overflow_checked, size_zero_not_null, many_chunks_do_not_overlap,
          trim_releases_large_chunk, reset_is_cheap)
