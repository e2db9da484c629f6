/*
 * Unit tests for the id map: basic operations, rejected ids, many ids that
 * share their low bits, growth and load factor, and a randomised comparison
 * against a plain array to exercise backward-shift deletion.
 */
#include "harness.h"

#include "util/vu_idmap.h"

/* value stored for an id in these tests: any distinct non-NULL pointer */
static void *
value_of(uint64_t id)
{
   return (void *)(uintptr_t)(id * 2 + 1);
}

static uint64_t
next_random(uint64_t *state)
{
   /* xorshift64* */
   *state ^= *state >> 12;
   *state ^= *state << 25;
   *state ^= *state >> 27;
   return *state * UINT64_C(2685821657736338717);
}

TEST(empty_map)
{
   struct vu_idmap map;
   vu_idmap_init(&map);
   CHECK_EQ(map.count, 0);
   CHECK(vu_idmap_get(&map, 1) == NULL);
   CHECK(vu_idmap_get(&map, 0) == NULL);
   CHECK(vu_idmap_remove(&map, 1) == NULL);
   CHECK(vu_idmap_remove(&map, 0) == NULL);
   vu_idmap_fini(&map);
   vu_idmap_fini(&map); /* harmless twice */
}

TEST(insert_get_remove)
{
   struct vu_idmap map;
   vu_idmap_init(&map);

   int a, b;
   CHECK(vu_idmap_insert(&map, 42, &a));
   CHECK(vu_idmap_insert(&map, UINT64_MAX, &b));
   CHECK_EQ(map.count, 2);
   CHECK(vu_idmap_get(&map, 42) == &a);
   CHECK(vu_idmap_get(&map, UINT64_MAX) == &b);
   CHECK(vu_idmap_get(&map, 43) == NULL);

   CHECK(vu_idmap_remove(&map, 42) == &a);
   CHECK(vu_idmap_get(&map, 42) == NULL);
   CHECK(vu_idmap_remove(&map, 42) == NULL);
   CHECK_EQ(map.count, 1);
   CHECK(vu_idmap_insert(&map, 42, &b));
   CHECK(vu_idmap_get(&map, 42) == &b);

   vu_idmap_fini(&map);
}

TEST(zero_and_duplicate_rejected)
{
   struct vu_idmap map;
   vu_idmap_init(&map);

   int a, b;
   CHECK(!vu_idmap_insert(&map, 0, &a));
   CHECK_EQ(map.count, 0);
   CHECK(vu_idmap_insert(&map, 7, &a));
   CHECK(!vu_idmap_insert(&map, 7, &b));
   CHECK(vu_idmap_get(&map, 7) == &a);
   /* an id mapped to NULL is still present */
   CHECK(vu_idmap_insert(&map, 8, NULL));
   CHECK(!vu_idmap_insert(&map, 8, &b));
   CHECK(vu_idmap_get(&map, 8) == NULL);
   CHECK_EQ(map.count, 2);

   vu_idmap_fini(&map);
}

/* A duplicate that arrives when the table is full enough to grow is refused
 * without growing (the insert's growth path probes on its own), ids mapped
 * to NULL included. */
TEST(duplicate_at_growth_refused)
{
   struct vu_idmap map;
   vu_idmap_init(&map);
   int a;
   /* the first insert grows the empty map to 16 slots; the 12th would need
    * 32 (load limit 7/10) */
   CHECK(vu_idmap_insert(&map, 100, NULL));
   for (uint64_t i = 1; i < 11; i++)
      CHECK(vu_idmap_insert(&map, i, value_of(i)));
   CHECK_EQ(map.count, 11);
   CHECK_EQ(map.capacity, 16);
   CHECK(!vu_idmap_insert(&map, 5, &a));
   CHECK(!vu_idmap_insert(&map, 100, &a));
   CHECK_EQ(map.capacity, 16);
   CHECK_EQ(map.count, 11);
   CHECK(vu_idmap_get(&map, 5) == value_of(5));
   /* a new id grows the table and every entry is still found */
   CHECK(vu_idmap_insert(&map, 11, value_of(11)));
   CHECK_EQ(map.capacity, 32);
   for (uint64_t i = 1; i < 12; i++)
      CHECK(vu_idmap_get(&map, i) == value_of(i));
   CHECK(vu_idmap_remove_value(&map, 100, NULL));
   CHECK_EQ(map.count, 11);
   vu_idmap_fini(&map);
}

/* Ids that differ only in high bits (guest addresses, shifted counters) must
 * all be found; with an identity hash they would share one probe chain. */
TEST(many_ids_with_colliding_low_bits)
{
   enum { COUNT = 20000 };
   struct vu_idmap map;
   vu_idmap_init(&map);

   for (uint64_t i = 1; i <= COUNT; i++) {
      CHECK(vu_idmap_insert(&map, i << 40, value_of(i << 40)));
      CHECK(vu_idmap_insert(&map, i << 20, value_of(i << 20)));
      CHECK(vu_idmap_insert(&map, i, value_of(i)));
   }
   CHECK_EQ(map.count, 3 * COUNT);
   CHECK_EQ(map.capacity & (map.capacity - 1), 0);
   CHECK(map.count * 10 <= map.capacity * 7);

   for (uint64_t i = 1; i <= COUNT; i++) {
      CHECK(vu_idmap_get(&map, i << 40) == value_of(i << 40));
      CHECK(vu_idmap_get(&map, i << 20) == value_of(i << 20));
      CHECK(vu_idmap_get(&map, i) == value_of(i));
      CHECK(vu_idmap_get(&map, (i << 40) | 1) == NULL);
   }

   /* remove every other id, then check both halves */
   for (uint64_t i = 1; i <= COUNT; i += 2) {
      CHECK(vu_idmap_remove(&map, i << 40) == value_of(i << 40));
      CHECK(vu_idmap_remove(&map, i) == value_of(i));
   }
   for (uint64_t i = 1; i <= COUNT; i++) {
      const bool removed = i & 1;
      CHECK(vu_idmap_get(&map, i << 40) == (removed ? NULL : value_of(i << 40)));
      CHECK(vu_idmap_get(&map, i) == (removed ? NULL : value_of(i)));
      CHECK(vu_idmap_get(&map, i << 20) == value_of(i << 20));
   }
   CHECK_EQ(map.count, 2 * COUNT);

   vu_idmap_fini(&map);
}

struct foreach_state {
   uint64_t id_sum;
   size_t visits;
   bool values_match;
};

static void
foreach_cb(uint64_t id, void *value, void *data)
{
   struct foreach_state *state = data;
   state->id_sum += id;
   state->visits++;
   if (value != value_of(id))
      state->values_match = false;
}

TEST(foreach_visits_each_once)
{
   struct vu_idmap map;
   vu_idmap_init(&map);

   struct foreach_state state = { 0, 0, true };
   vu_idmap_foreach(&map, foreach_cb, &state);
   CHECK_EQ(state.visits, 0);

   uint64_t sum = 0;
   for (uint64_t i = 1; i <= 1000; i++) {
      CHECK(vu_idmap_insert(&map, i * 977, value_of(i * 977)));
      sum += i * 977;
   }
   vu_idmap_foreach(&map, foreach_cb, &state);
   CHECK_EQ(state.visits, 1000);
   CHECK(state.id_sum == sum);
   CHECK(state.values_match);

   vu_idmap_fini(&map);
}

/* Random inserts and removes over a small id range (long probe runs, many
 * deletions inside runs), checked against a plain array after every step. */
TEST(random_ops_match_reference)
{
   enum { RANGE = 512, OPS = 100000 };
   static bool present[RANGE];
   struct vu_idmap map;
   vu_idmap_init(&map);
   uint64_t rng = 0x123456789abcdefull;
   size_t count = 0;

   for (int op = 0; op < OPS; op++) {
      const uint64_t r = next_random(&rng);
      const uint64_t idx = r % RANGE;
      /* same low 16 bits for every id: only the high bits differ */
      const uint64_t id = ((idx + 1) << 40) | 0xbeef;
      if ((r >> 32) & 1) {
         CHECK(vu_idmap_insert(&map, id, value_of(id)) == !present[idx]);
         count += !present[idx];
         present[idx] = true;
      } else {
         CHECK(vu_idmap_remove(&map, id) == (present[idx] ? value_of(id) : NULL));
         count -= present[idx];
         present[idx] = false;
      }
      CHECK_EQ(map.count, count);
      if (op % 1000 == 0) {
         for (uint64_t i = 0; i < RANGE; i++) {
            const uint64_t check_id = ((i + 1) << 40) | 0xbeef;
            CHECK(vu_idmap_get(&map, check_id) ==
                  (present[i] ? value_of(check_id) : NULL));
         }
      }
   }
   for (uint64_t i = 0; i < RANGE; i++) {
      const uint64_t check_id = ((i + 1) << 40) | 0xbeef;
      CHECK(vu_idmap_get(&map, check_id) == (present[i] ? value_of(check_id) : NULL));
   }
   /* churn never grows the table beyond what the live count needs */
   CHECK(map.capacity <= 2048);
   CHECK_EQ(map.tombstones, 0);

   vu_idmap_fini(&map);
}

/* remove_value removes an id only while it maps to that value, and keeps
 * the other entries of its probe run reachable (backward shift). */
TEST(remove_value)
{
   enum { COUNT = 3000 };
   struct vu_idmap map;
   vu_idmap_init(&map);

   int a, b;
   CHECK(vu_idmap_insert(&map, 7, &a));
   CHECK(!vu_idmap_remove_value(&map, 7, &b));
   CHECK(vu_idmap_get(&map, 7) == &a);
   CHECK(!vu_idmap_remove_value(&map, 8, &a));
   CHECK(!vu_idmap_remove_value(&map, 0, NULL));
   CHECK_EQ(map.count, 1);
   CHECK(vu_idmap_remove_value(&map, 7, &a));
   CHECK(vu_idmap_get(&map, 7) == NULL);
   CHECK_EQ(map.count, 0);
   CHECK(!vu_idmap_remove_value(&map, 7, &a));

   /* many ids: removing every third by value leaves the rest findable */
   for (uint64_t i = 1; i <= COUNT; i++)
      CHECK(vu_idmap_insert(&map, i << 32, value_of(i << 32)));
   for (uint64_t i = 1; i <= COUNT; i += 3) {
      CHECK(!vu_idmap_remove_value(&map, i << 32, value_of(i)));
      CHECK(vu_idmap_remove_value(&map, i << 32, value_of(i << 32)));
   }
   for (uint64_t i = 1; i <= COUNT; i++)
      CHECK(vu_idmap_get(&map, i << 32) == ((i - 1) % 3 ? value_of(i << 32) : NULL));

   vu_idmap_fini(&map);
}

/* Two maps get different seeds, so one id layout is not worst-case for both. */
TEST(maps_are_seeded_differently)
{
   struct vu_idmap a, b;
   vu_idmap_init(&a);
   vu_idmap_init(&b);
   CHECK(a.seed != b.seed);
   vu_idmap_fini(&a);
   vu_idmap_fini(&b);
}

RUN_TESTS(empty_map, insert_get_remove, zero_and_duplicate_rejected, duplicate_at_growth_refused,
          many_ids_with_colliding_low_bits, foreach_visits_each_once,
          random_ops_match_reference, remove_value, maps_are_seeded_differently)
