/*
 * Unit tests for the driver's query lists (src/driver/vn_query_list.c):
 * the two orders the integration program vkt_queries runs, a reset wholly
 * covered by a later end, and a randomised comparison against the last
 * operation on each query, across command buffers appended in order: a
 * query last ended must be copied, one last reset must be cleared and not
 * copied (a copy would wait for results that never come), and an untouched
 * one must appear nowhere. Then the recording patterns that must stay few
 * ranges.
 */
#include <stdbool.h>

#include "harness.h"

#include "driver/vn_query_list.h"

/* only the pools' addresses matter to the lists */
struct vn_query_pool {
   int unused;
};

#define POOL_QUERIES 12u

static struct vn_query_pool pools[2];

static bool
list_holds(const struct vn_query_range *ranges, uint32_t count, const struct vn_query_pool *pool,
           uint32_t query)
{
   for (uint32_t i = 0; i < count; i++) {
      if (ranges[i].pool == pool && query >= ranges[i].first &&
          query < ranges[i].first + ranges[i].count)
         return true;
   }
   return false;
}

static bool
copied(const struct vn_query_list *list, const struct vn_query_pool *pool, uint32_t query)
{
   return list_holds(list->ends, list->end_count, pool, query);
}

static bool
cleared(const struct vn_query_list *list, const struct vn_query_pool *pool, uint32_t query)
{
   return list_holds(list->resets, list->reset_count, pool, query);
}

static void
end(struct vn_query_list *list, int pool, uint32_t first, uint32_t count)
{
   vn_query_list_end(list, NULL, (struct vn_query_range){ &pools[pool], first, count });
}

static void
reset(struct vn_query_list *list, int pool, uint32_t first, uint32_t count)
{
   vn_query_list_reset(list, NULL, (struct vn_query_range){ &pools[pool], first, count });
}

/* timestamps 0-3 written, 2 and 3 reset in a later command buffer */
TEST(reset_in_later_command_buffer)
{
   struct vn_query_list a = { 0 }, b = { 0 }, submission = { 0 };
   reset(&a, 0, 0, 4);
   for (uint32_t q = 0; q < 4; q++)
      end(&a, 0, q, 1);
   reset(&b, 0, 2, 2);
   vn_query_list_append(&submission, NULL, &a);
   vn_query_list_append(&submission, NULL, &b);
   for (uint32_t q = 0; q < 4; q++) {
      CHECK_EQ(copied(&submission, &pools[0], q), q < 2);
      CHECK_EQ(cleared(&submission, &pools[0], q), q >= 2);
   }
   vn_query_list_fini(&a, NULL);
   vn_query_list_fini(&b, NULL);
   vn_query_list_fini(&submission, NULL);
}

/* timestamps 0-3 written, 1 and 2 reset, 2 written again: the end splits */
TEST(reset_inside_written)
{
   struct vn_query_list a = { 0 };
   reset(&a, 0, 0, 4);
   for (uint32_t q = 0; q < 4; q++)
      end(&a, 0, q, 1);
   reset(&a, 0, 1, 2);
   end(&a, 0, 2, 1);
   static const bool want_copied[4] = { true, false, true, true };
   for (uint32_t q = 0; q < 4; q++)
      CHECK_EQ(copied(&a, &pools[0], q), want_copied[q]);
   CHECK(cleared(&a, &pools[0], 1));
   vn_query_list_fini(&a, NULL);
}

/* the usual frame: a reset and the timestamps it covers need no fill */
TEST(covered_reset_is_dropped)
{
   struct vn_query_list a = { 0 };
   reset(&a, 1, 4, 2);
   end(&a, 1, 4, 1);
   CHECK_EQ(a.reset_count, 1);
   end(&a, 1, 5, 1);
   CHECK_EQ(a.reset_count, 0);
   CHECK_EQ(a.end_count, 1);
   CHECK(copied(&a, &pools[1], 4) && copied(&a, &pools[1], 5));
   vn_query_list_fini(&a, NULL);
}

static uint32_t
next_random(uint64_t *state)
{
   /* xorshift64* */
   *state ^= *state >> 12;
   *state ^= *state << 25;
   *state ^= *state >> 27;
   return (uint32_t)((*state * UINT64_C(2685821657736338717)) >> 32);
}

enum last_op { NONE, ENDED, RESET };

TEST(random_ops_match_last_operation)
{
   uint64_t state = 0x9e3779b97f4a7c15;
   for (int round = 0; round < 20000; round++) {
      enum last_op last[2][POOL_QUERIES] = { { NONE } };
      struct vn_query_list submission = { 0 };
      const uint32_t cmd_count = 1 + next_random(&state) % 3;
      for (uint32_t c = 0; c < cmd_count; c++) {
         struct vn_query_list cmd = { 0 };
         const uint32_t ops = next_random(&state) % 10;
         for (uint32_t o = 0; o < ops; o++) {
            const int pool = (int)(next_random(&state) % 2);
            const uint32_t first = next_random(&state) % POOL_QUERIES;
            const bool is_reset = next_random(&state) % 3 == 0;
            uint32_t count = 1 + next_random(&state) % (POOL_QUERIES - first);
            if (!is_reset && next_random(&state) % 2)
               count = 1; /* most ends are of one query */
            if (is_reset)
               reset(&cmd, pool, first, count);
            else
               end(&cmd, pool, first, count);
            for (uint32_t q = first; q < first + count; q++)
               last[pool][q] = is_reset ? RESET : ENDED;
         }
         vn_query_list_append(&submission, NULL, &cmd);
         vn_query_list_fini(&cmd, NULL);
      }
      for (int p = 0; p < 2; p++) {
         for (uint32_t q = 0; q < POOL_QUERIES; q++) {
            const bool c = copied(&submission, &pools[p], q);
            const bool r = cleared(&submission, &pools[p], q);
            const bool ok = last[p][q] == ENDED   ? c
                            : last[p][q] == RESET ? !c && r
                                                  : !c && !r;
            if (!ok) {
               fprintf(stderr, "round %d, pool %d, query %u: last %d, copied %d, cleared %d\n",
                       round, p, q, (int)last[p][q], c, r);
               CHECK(ok);
               vn_query_list_fini(&submission, NULL);
               return;
            }
         }
      }
      /* no range is empty (the feedback encodes each without a check) */
      for (uint32_t i = 0; i < submission.end_count; i++)
         CHECK(submission.ends[i].count > 0);
      for (uint32_t i = 0; i < submission.reset_count; i++)
         CHECK(submission.resets[i].count > 0);
      vn_query_list_fini(&submission, NULL);
   }
}

/* a reset and an end per query, two pools' queries in turn: a few ranges,
 * however many queries (each operation looks through the ranges) */
TEST(recording_patterns_stay_few_ranges)
{
   struct vn_query_list a = { 0 };
   reset(&a, 0, 0, 4000);
   reset(&a, 1, 0, 8000);
   for (uint32_t q = 0; q < 4000; q++) {
      reset(&a, 0, q, 1);
      end(&a, 0, q, 1);
      end(&a, 1, 2 * q, 1);
      end(&a, 1, 2 * q + 1, 1);
   }
   CHECK_EQ(a.end_count, 2);
   CHECK_EQ(a.reset_count, 0); /* every reset covered by the ends after it */
   CHECK(copied(&a, &pools[0], 3999) && copied(&a, &pools[1], 7999));
   vn_query_list_fini(&a, NULL);
}

RUN_TESTS(reset_in_later_command_buffer, reset_inside_written, covered_reset_is_dropped,
          random_ops_match_last_operation, recording_patterns_stay_few_ranges)
