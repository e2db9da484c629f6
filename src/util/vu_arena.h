/*
 * Bump allocator for per-command temporary storage. The renderer decodes each
 * command into an arena that is reset after the command and trimmed after a
 * batch; a hard cap (max_bytes) bounds what one hostile command can allocate.
 */
#ifndef VU_ARENA_H
#define VU_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct vu_arena_chunk;

struct vu_arena {
   uint8_t *cur;                 /* next free byte in the current chunk */
   uint8_t *end;                 /* end of the current chunk */
   struct vu_arena_chunk *chunks; /* newest first */
   size_t used;                  /* bytes handed out since the last reset */
   size_t max_bytes;             /* cap on `used`; allocation beyond fails */
};

/* memcpy and memset for blocks whose size is known only at run time and is
 * usually small (a decoded blob, a command's arguments): up to 16 bytes with
 * two overlapping loads and stores instead of a library call. With a constant
 * size they fold to what memcpy / memset would give. */
static inline void
vu_mem_copy(void *dst, const void *src, size_t n)
{
   uint8_t *d = dst;
   const uint8_t *s = src;
   if (n >= 8 && n <= 16) {
      uint64_t a, b;
      memcpy(&a, s, 8);
      memcpy(&b, s + n - 8, 8);
      memcpy(d, &a, 8);
      memcpy(d + n - 8, &b, 8);
   } else if (n >= 4 && n < 8) {
      uint32_t a, b;
      memcpy(&a, s, 4);
      memcpy(&b, s + n - 4, 4);
      memcpy(d, &a, 4);
      memcpy(d + n - 4, &b, 4);
   } else if (n < 4) {
      for (size_t i = 0; i < n; i++)
         d[i] = s[i];
   } else {
      memcpy(d, s, n);
   }
}

static inline void
vu_mem_zero(void *dst, size_t n)
{
   uint8_t *d = dst;
   const uint64_t z8 = 0;
   const uint32_t z4 = 0;
   if (n >= 8 && n <= 16) {
      memcpy(d, &z8, 8);
      memcpy(d + n - 8, &z8, 8);
   } else if (n >= 4 && n < 8) {
      memcpy(d, &z4, 4);
      memcpy(d + n - 4, &z4, 4);
   } else if (n < 4) {
      for (size_t i = 0; i < n; i++)
         d[i] = 0;
   } else {
      memset(d, 0, n);
   }
}

/* max_bytes: the most one reset period may allocate (e.g. VKR_ARENA_MAX_BYTES). */
void
vu_arena_init(struct vu_arena *arena, size_t max_bytes);

void
vu_arena_fini(struct vu_arena *arena);

/* vu_arena_alloc in full; called when the inline fast path does not apply */
void *
vu_arena_alloc_slow(struct vu_arena *arena, size_t size, size_t align);

/* Returns zero-filled storage aligned to `align` (a power of two <= 64). Size 0
 * gives a valid non-NULL pointer. NULL only when the cap would be exceeded, on
 * overflow, or when malloc fails. `used` counts size plus alignment padding.
 * align 0 means 1; any other align that is not a power of two <= 64 gives NULL.
 * Inline for the common case, a small block with room in the current chunk
 * (the decoder allocates per struct it decodes): with a constant size and
 * alignment it compiles to a few instructions. */
static inline void *
vu_arena_alloc(struct vu_arena *arena, size_t size, size_t align)
{
   if (size && size <= 4096 && align && align <= 64 && !(align & (align - 1))) {
      /* integer arithmetic: cur and end are NULL before the first chunk */
      const uintptr_t cur = (uintptr_t)arena->cur;
      const size_t pad = -cur & (align - 1);
      const size_t avail = (uintptr_t)arena->end - cur;
      if (pad <= avail && size <= avail - pad &&
          pad + size <= arena->max_bytes - arena->used) {
         uint8_t *ptr = arena->cur + pad;
         arena->cur = ptr + size;
         arena->used += pad + size;
         vu_mem_zero(ptr, size);
         return ptr;
      }
   }
   return vu_arena_alloc_slow(arena, size, align);
}

/* vu_arena_alloc without the zero fill, for storage the caller writes whole
 * before anything reads it (a large blob copied in from a stream: the fill
 * would be a second pass over it). */
void *
vu_arena_alloc_raw(struct vu_arena *arena, size_t size, size_t align);

/* Overflow-checked count * elem_size allocation. */
void *
vu_arena_alloc_array(struct vu_arena *arena, size_t count, size_t elem_size, size_t align);

void
vu_arena_rewind(struct vu_arena *arena);

/* Forget everything allocated; keeps the first chunk (the newest, largest) for
 * reuse and frees any others. O(1) when the period used only one chunk, a
 * load and a branch when it allocated nothing (the decoders reset after
 * every command, and most commands allocate nothing). */
static inline void
vu_arena_reset(struct vu_arena *arena)
{
   /* every allocation of at least a byte adds to `used`; with none since
    * the last reset the arena is as a reset leaves it */
   if (arena->used)
      vu_arena_rewind(arena);
}

/* Reset and also free all chunks beyond a small retained one (after a batch):
 * the kept chunk is freed too when it grew past 64 KiB. */
void
vu_arena_trim(struct vu_arena *arena);

#endif
