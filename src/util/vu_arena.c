/*
 * Chunked bump allocator. Allocation zero-fills only what it hands out, so a
 * reset is O(1) when the period fit in one chunk (the common case: one reset
 * per decoded command). When a period overflows the current chunk, a bigger one
 * (doubling) is chained in front; reset keeps only the newest, largest chunk,
 * so the arena settles on one chunk that fits the working set, and trim gives
 * memory back when that chunk grew past a small retained size.
 */
#include "vu_arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* First chunk: 16 KiB malloc, enough for nearly every decoded command. */
#define VU_ARENA_FIRST_CHUNK_SIZE (16384 - sizeof(struct vu_arena_chunk))
/* trim keeps the chunk only if it is no bigger than this */
#define VU_ARENA_RETAIN_SIZE ((size_t)64 * 1024)
/* largest supported alignment (see vu_arena_alloc) */
#define VU_ARENA_MAX_ALIGN ((size_t)64)

struct vu_arena_chunk {
   struct vu_arena_chunk *next; /* older chunk */
   size_t size;                 /* bytes in data[] */
   /* aligned to the largest supported alignment, so that the first allocation
    * in a chunk needs no padding and the cap check can be done before malloc */
   alignas(VU_ARENA_MAX_ALIGN) uint8_t data[];
};

/* Storage returned for size-0 requests: valid, aligned, never written. */
static alignas(VU_ARENA_MAX_ALIGN) uint8_t vu_arena_empty[VU_ARENA_MAX_ALIGN];

void
vu_arena_init(struct vu_arena *arena, size_t max_bytes)
{
   arena->cur = NULL;
   arena->end = NULL;
   arena->chunks = NULL;
   arena->used = 0;
   arena->max_bytes = max_bytes;
}

static void
vu_arena_free_chunks(struct vu_arena_chunk *chunk)
{
   while (chunk) {
      struct vu_arena_chunk *next = chunk->next;
      free(chunk);
      chunk = next;
   }
}

void
vu_arena_fini(struct vu_arena *arena)
{
   vu_arena_free_chunks(arena->chunks);
   vu_arena_init(arena, arena->max_bytes);
}

/* The request does not fit the current chunk or the cap: chain a new chunk,
 * where it starts unpadded. size may be anything. */
static void *
vu_arena_new_chunk(struct vu_arena *arena, size_t size, bool zero)
{
   const size_t remaining = arena->max_bytes - arena->used;
   if (size > remaining || size > SIZE_MAX / 2)
      return NULL;

   size_t chunk_size = VU_ARENA_FIRST_CHUNK_SIZE;
   if (arena->chunks && arena->chunks->size <= SIZE_MAX / 4)
      chunk_size = arena->chunks->size * 2;
   /* never allocate more than the cap still allows */
   if (chunk_size > remaining)
      chunk_size = remaining;
   if (chunk_size < size)
      chunk_size = size;

   const size_t alloc_size = sizeof(struct vu_arena_chunk) + chunk_size;
   void *mem;
   if (posix_memalign(&mem, alignof(struct vu_arena_chunk), alloc_size))
      return NULL;
   struct vu_arena_chunk *chunk = mem;
   chunk->size = chunk_size;
   chunk->next = arena->chunks;
   arena->chunks = chunk;

   uint8_t *ptr = chunk->data;
   arena->cur = ptr + size;
   arena->end = ptr + chunk_size;
   arena->used += size;

   if (zero)
      memset(ptr, 0, size);
   return ptr;
}

static void *
vu_arena_alloc_any(struct vu_arena *arena, size_t size, size_t align, bool zero)
{
   if (align == 0)
      align = 1;
   if (align > VU_ARENA_MAX_ALIGN || (align & (align - 1)))
      return NULL;
   if (size == 0)
      return vu_arena_empty;

   /* integer arithmetic: cur and end are NULL before the first chunk */
   const uintptr_t cur = (uintptr_t)arena->cur;
   const size_t pad = -cur & (align - 1);
   const size_t avail = (uintptr_t)arena->end - cur;
   if (pad > avail || size > avail - pad || pad + size > arena->max_bytes - arena->used)
      return vu_arena_new_chunk(arena, size, zero);

   uint8_t *ptr = arena->cur + pad;
   arena->cur = ptr + size;
   arena->used += pad + size;

   if (zero)
      memset(ptr, 0, size);
   return ptr;
}

void *
vu_arena_alloc_slow(struct vu_arena *arena, size_t size, size_t align)
{
   return vu_arena_alloc_any(arena, size, align, true);
}

void *
vu_arena_alloc_raw(struct vu_arena *arena, size_t size, size_t align)
{
   return vu_arena_alloc_any(arena, size, align, false);
}

void *
vu_arena_alloc_array(struct vu_arena *arena, size_t count, size_t elem_size, size_t align)
{
   size_t size;
   if (__builtin_mul_overflow(count, elem_size, &size))
      return NULL;
   return vu_arena_alloc(arena, size, align);
}

/* vu_arena_reset's work when something was allocated */
void
vu_arena_rewind(struct vu_arena *arena)
{
   struct vu_arena_chunk *keep = arena->chunks;
   arena->used = 0;
   if (!keep)
      return;

   /* keep the newest chunk: it is the largest, so the next period of the same
    * size fits in it */
   if (keep->next) {
      vu_arena_free_chunks(keep->next);
      keep->next = NULL;
   }
   arena->cur = keep->data;
   arena->end = keep->data + keep->size;
}

void
vu_arena_trim(struct vu_arena *arena)
{
   vu_arena_reset(arena);
   if (arena->chunks && arena->chunks->size > VU_ARENA_RETAIN_SIZE) {
      free(arena->chunks);
      arena->chunks = NULL;
      arena->cur = NULL;
      arena->end = NULL;
   }
}
