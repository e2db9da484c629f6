/*
 * Id map: open addressing with linear probing and backward-shift deletion (no
 * tombstones, so lookups never walk over dead slots and churn never forces a
 * rehash). Ids come from the guest, so the slot index is a 64-bit finalizer of
 * the id xor a per-map secret seed: the finalizer is invertible, and without
 * the seed a guest could pick ids that all land in one bucket.
 */
#include "vu_idmap.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/random.h>
#include <threads.h>
#include <time.h>

#define VU_IDMAP_MIN_CAPACITY 16

/* An empty map points at this one-slot table (capacity 1, never written), so
 * get() and remove() need no special case for an unallocated map. */
static struct vu_idmap_entry vu_idmap_empty_table[1];

static uint64_t vu_idmap_seed_base;
static once_flag vu_idmap_seed_once = ONCE_FLAG_INIT;
static atomic_uint_fast64_t vu_idmap_seed_counter;

static void
vu_idmap_seed_init(void)
{
   uint64_t seed;
   if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      seed = vu_idmap_mix((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
             (uintptr_t)&ts;
   }
   vu_idmap_seed_base = seed;
}

void
vu_idmap_init(struct vu_idmap *map)
{
   call_once(&vu_idmap_seed_once, vu_idmap_seed_init);
   /* relaxed: the counter only has to make seeds distinct */
   const uint64_t n =
      atomic_fetch_add_explicit(&vu_idmap_seed_counter, 1, memory_order_relaxed);
   map->entries = vu_idmap_empty_table;
   map->capacity = 1;
   map->count = 0;
   map->tombstones = 0;
   map->seed = vu_idmap_mix(vu_idmap_seed_base + n * UINT64_C(0x9e3779b97f4a7c15));
}

void
vu_idmap_fini(struct vu_idmap *map)
{
   if (map->entries != vu_idmap_empty_table)
      free(map->entries);
   map->entries = vu_idmap_empty_table;
   map->capacity = 1;
   map->count = 0;
   map->tombstones = 0;
}

static bool
vu_idmap_grow(struct vu_idmap *map)
{
   size_t new_capacity = VU_IDMAP_MIN_CAPACITY;
   while (new_capacity * VU_IDMAP_LOAD_NUM < (map->count + 1) * VU_IDMAP_LOAD_DEN) {
      if (new_capacity > SIZE_MAX / 2 / sizeof(struct vu_idmap_entry))
         return false;
      new_capacity *= 2;
   }

   struct vu_idmap_entry *entries = calloc(new_capacity, sizeof(*entries));
   if (!entries)
      return false;

   struct vu_idmap_entry *old = map->entries;
   const size_t old_capacity = map->capacity;
   map->entries = entries;
   map->capacity = new_capacity;

   const size_t mask = new_capacity - 1;
   for (size_t i = 0; i < old_capacity; i++) {
      if (!old[i].id)
         continue;
      size_t slot = vu_idmap_slot(map, old[i].id);
      while (entries[slot].id)
         slot = (slot + 1) & mask;
      entries[slot] = old[i];
   }

   if (old != vu_idmap_empty_table)
      free(old);
   return true;
}

bool
vu_idmap_insert_grow(struct vu_idmap *map, uint64_t id, void *value)
{
   if (vu_idmap_find(map, id) != SIZE_MAX || !vu_idmap_grow(map))
      return false;
   const size_t mask = map->capacity - 1;
   size_t slot = vu_idmap_slot(map, id);
   while (map->entries[slot].id)
      slot = (slot + 1) & mask;
   map->entries[slot].id = id;
   map->entries[slot].value = value;
   map->count++;
   return true;
}

void *
vu_idmap_get(const struct vu_idmap *map, uint64_t id)
{
   const size_t slot = vu_idmap_find(map, id);
   return slot == SIZE_MAX ? NULL : map->entries[slot].value;
}

/* Empties `hole`: backward shift, moving later entries of the run into the
 * hole unless their home slot lies cyclically in (hole, next], where they
 * must stay. */
void
vu_idmap_remove_slot(struct vu_idmap *map, size_t hole)
{
   struct vu_idmap_entry *entries = map->entries;
   const size_t mask = map->capacity - 1;
   size_t next = hole;
   for (;;) {
      next = (next + 1) & mask;
      if (!entries[next].id)
         break;
      const size_t home = vu_idmap_slot(map, entries[next].id);
      const bool stays =
         hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (stays)
         continue;
      entries[hole] = entries[next];
      hole = next;
   }
   entries[hole].id = 0;
   entries[hole].value = NULL;
   map->count--;
}

void *
vu_idmap_remove(struct vu_idmap *map, uint64_t id)
{
   const size_t slot = vu_idmap_find(map, id);
   if (slot == SIZE_MAX)
      return NULL;
   void *value = map->entries[slot].value;
   vu_idmap_remove_slot(map, slot);
   return value;
}

void
vu_idmap_foreach(const struct vu_idmap *map,
                 void (*fn)(uint64_t id, void *value, void *data),
                 void *data)
{
   for (size_t i = 0; i < map->capacity; i++) {
      if (map->entries[i].id)
         fn(map->entries[i].id, map->entries[i].value, data);
   }
}
