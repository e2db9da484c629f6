/*
 * Open-addressing hash map from nonzero 64-bit ids to pointers. Not locked:
 * the owner holds its own mutex. Ids are guest-chosen, so the hash mixes bits
 * (an attacker cannot make all ids collide cheaply into one probe chain only
 * through the low bits).
 */
#ifndef VU_IDMAP_H
#define VU_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vu_idmap_entry {
   uint64_t id; /* 0 = empty slot */
   void *value;
};

struct vu_idmap {
   struct vu_idmap_entry *entries;
   size_t capacity; /* power of two */
   size_t count;
   size_t tombstones; /* always 0: deletion shifts entries back instead */
   uint64_t seed;     /* per-map secret mixed into the hash (set by init) */
};

/* Allocates nothing; the first insert does. Never fails. */
void
vu_idmap_init(struct vu_idmap *map);
void
vu_idmap_fini(struct vu_idmap *map);

/* grow when count would exceed 7/10 of the capacity */
#define VU_IDMAP_LOAD_NUM 7
#define VU_IDMAP_LOAD_DEN 10

/* murmur3's fmix64: every input bit affects every output bit */
static inline uint64_t
vu_idmap_mix(uint64_t x)
{
   x ^= x >> 33;
   x *= UINT64_C(0xff51afd7ed558ccd);
   x ^= x >> 33;
   x *= UINT64_C(0xc4ceb9fe1a85ec53);
   x ^= x >> 33;
   return x;
}

static inline size_t
vu_idmap_slot(const struct vu_idmap *map, uint64_t id)
{
   return (size_t)vu_idmap_mix(id ^ map->seed) & (map->capacity - 1);
}

/* vu_idmap_insert where the table must grow first */
bool
vu_idmap_insert_grow(struct vu_idmap *map, uint64_t id, void *value);

/* false if id is 0, already present, or memory ran out. Inline: the
 * renderer inserts an object per create (bench/README.md, issue 13). */
static inline bool
vu_idmap_insert(struct vu_idmap *map, uint64_t id, void *value)
{
   if (!id)
      return false;
   if ((map->count + 1) * VU_IDMAP_LOAD_DEN > map->capacity * VU_IDMAP_LOAD_NUM)
      return vu_idmap_insert_grow(map, id, value);
   /* probe by id, not by value: a present id with a NULL value is a
    * duplicate; the load limit leaves an empty slot, where the probe ends */
   const size_t mask = map->capacity - 1;
   size_t slot = vu_idmap_slot(map, id);
   for (; map->entries[slot].id; slot = (slot + 1) & mask) {
      if (map->entries[slot].id == id)
         return false;
   }
   map->entries[slot].id = id;
   map->entries[slot].value = value;
   map->count++;
   return true;
}

/* NULL if absent (or id 0) */
void *
vu_idmap_get(const struct vu_idmap *map, uint64_t id);

/* returns the removed value or NULL */
void *
vu_idmap_remove(struct vu_idmap *map, uint64_t id);

/* the slot holding id, or SIZE_MAX (id 0: never present) */
static inline size_t
vu_idmap_find(const struct vu_idmap *map, uint64_t id)
{
   if (!id)
      return SIZE_MAX;
   /* the load limit guarantees an empty slot, so the loop ends */
   const size_t mask = map->capacity - 1;
   size_t slot = vu_idmap_slot(map, id);
   while (map->entries[slot].id != id) {
      if (!map->entries[slot].id)
         return SIZE_MAX;
      slot = (slot + 1) & mask;
   }
   return slot;
}

/* Empties slot `hole` (backward shift: no tombstones). */
void
vu_idmap_remove_slot(struct vu_idmap *map, size_t hole);

/* removes id only if it maps to value: whether it did (one probe, where a
 * get and a remove take two) */
static inline bool
vu_idmap_remove_value(struct vu_idmap *map, uint64_t id, const void *value)
{
   const size_t slot = vu_idmap_find(map, id);
   if (slot == SIZE_MAX || map->entries[slot].value != value)
      return false;
   if (map->entries[(slot + 1) & (map->capacity - 1)].id) {
      vu_idmap_remove_slot(map, slot); /* later entries may move back */
      return true;
   }
   map->entries[slot].id = 0;
   map->entries[slot].value = NULL;
   map->count--;
   return true;
}

/* Calls fn for every entry; fn must not modify the map. */
void
vu_idmap_foreach(const struct vu_idmap *map, void (*fn)(uint64_t id, void *value, void *data),
                 void *data);

#endif
