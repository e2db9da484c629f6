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

/* false if id is 0, already present, or memory ran out */
bool
vu_idmap_insert(struct vu_idmap *map, uint64_t id, void *value);

/* NULL if absent (or id 0) */
void *
vu_idmap_get(const struct vu_idmap *map, uint64_t id);

/* returns the removed value or NULL */
void *
vu_idmap_remove(struct vu_idmap *map, uint64_t id);

/* removes id only if it maps to value: whether it did (one probe, where a
 * get and a remove take two) */
bool
vu_idmap_remove_value(struct vu_idmap *map, uint64_t id, const void *value);

/* Calls fn for every entry; fn must not modify the map. */
void
vu_idmap_foreach(const struct vu_idmap *map, void (*fn)(uint64_t id, void *value, void *data),
                 void *data);

#endif
