/*
 * Support for the generated round-trip test (vp_roundtrip_gen.c): random
 * values, guest/host fake objects, temporary allocations and checks.
 */
#ifndef ROUNDTRIP_H
#define ROUNDTRIP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vp_protocol.h"

struct rt_block {
   struct rt_block *next;
   max_align_t data[];
};

struct rt {
   uint64_t rng;
   struct rt_block *blocks; /* everything allocated for one call */
   struct vu_arena arena;   /* renderer decode storage */
   const char *cmd;
   unsigned failures;
   unsigned checks;
   const char *corpus_dir; /* RT_CORPUS: write each encoded command there */
   unsigned corpus_count;
};

static inline void
rt_corpus(struct rt *r, const void *data, size_t size)
{
   if (!r->corpus_dir || r->corpus_count >= 8192)
      return;
   char path[512];
   snprintf(path, sizeof(path), "%s/%s-%u", r->corpus_dir, r->cmd, r->corpus_count++);
   FILE *f = fopen(path, "wb");
   if (f) {
      fwrite(data, 1, size, f);
      fclose(f);
   }
}

static inline uint32_t
rt_u32(struct rt *r)
{
   /* xorshift64* */
   r->rng ^= r->rng >> 12;
   r->rng ^= r->rng << 25;
   r->rng ^= r->rng >> 27;
   return (uint32_t)((r->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static inline void *
rt_alloc(struct rt *r, size_t size)
{
   struct rt_block *b = calloc(1, sizeof(*b) + size + 16);
   if (!b) {
      fprintf(stderr, "out of memory\n");
      exit(2);
   }
   b->next = r->blocks;
   r->blocks = b;
   return b->data;
}

static inline void
rt_free_all(struct rt *r)
{
   while (r->blocks) {
      struct rt_block *b = r->blocks;
      r->blocks = b->next;
      free(b);
   }
}

static inline void
rt_bytes(struct rt *r, void *p, size_t size)
{
   uint8_t *b = p;
   for (size_t i = 0; i < size; i++)
      b[i] = (uint8_t)rt_u32(r);
}

static inline uint32_t
rt_count(struct rt *r)
{
   return rt_u32(r) % 4;
}

/* true: leave this optional item NULL (one time in three) */
static inline int
rt_optional(struct rt *r, int optional)
{
   return optional && rt_u32(r) % 3 == 0;
}

static inline uint64_t
rt_id(struct rt *r)
{
   return ((uint64_t)rt_u32(r) << 32 | rt_u32(r)) | 1;
}

static inline uint64_t
rt_guest(struct rt *r)
{
   struct vp_guest_object *o = rt_alloc(r, sizeof(*o));
   o->id = rt_id(r);
   return (uint64_t)(uintptr_t)o;
}

static inline const char *
rt_string(struct rt *r)
{
   const unsigned len = rt_u32(r) % 12;
   char *s = rt_alloc(r, len + 1);
   for (unsigned i = 0; i < len; i++)
      s[i] = (char)('a' + rt_u32(r) % 26);
   return s;
}

static inline void
rt_string_into(struct rt *r, char *buf, size_t size)
{
   memset(buf, 0, size);
   const unsigned len = rt_u32(r) % (unsigned)(size < 16 ? size - 1 : 15);
   for (unsigned i = 0; i < len; i++)
      buf[i] = (char)('a' + rt_u32(r) % 26);
}

static inline int
rt_chain_has(const void *head, VkStructureType stype)
{
   for (const VkBaseInStructure *s = head; s; s = s->pNext) {
      if (s->sType == stype)
         return 1;
   }
   return 0;
}

static inline uint64_t
rt_gid(uint64_t handle)
{
   return vp_handle_to_id(handle);
}

static inline uint64_t
rt_hid(uint64_t obj)
{
   return obj ? ((const struct vp_host_object *)(uintptr_t)obj)->id : 0;
}

/* renderer side: every id resolves to a fresh host object of that id */
static inline void *
rt_host_lookup(void *data, uint64_t id, VkObjectType type)
{
   struct rt *r = data;
   struct vp_host_object *o = rt_alloc(r, sizeof(*o));
   o->id = id;
   o->type = type;
   o->handle = ~id;
   return o;
}

/* driver side, replies: ids resolve to guest objects of that id */
static inline void *
rt_guest_lookup(void *data, uint64_t id, VkObjectType type)
{
   struct rt *r = data;
   struct vp_guest_object *o = rt_alloc(r, sizeof(*o));
   (void)type;
   o->id = id;
   return o;
}

static inline void
rt_host_decoder(struct rt *r, struct vp_decoder *dec, const void *data, size_t size)
{
   vu_arena_reset(&r->arena);
   vp_decoder_init(dec, data, size, &r->arena);
   dec->lookup = rt_host_lookup;
   dec->lookup_data = r;
}

static inline void
rt_guest_decoder(struct rt *r, struct vp_decoder *dec, const void *data, size_t size)
{
   vp_decoder_init(dec, data, size, NULL);
   dec->lookup = rt_guest_lookup;
   dec->lookup_data = r;
}

static inline void
rt_fail(struct rt *r, const char *what, const char *detail)
{
   if (r->failures < 40)
      fprintf(stderr, "%s: %s mismatch%s%s\n", r->cmd, what, detail ? ": " : "",
              detail ? detail : "");
   r->failures++;
}

#define RT_TRUE(r, cond, what)                                                           \
   do {                                                                                  \
      (r)->checks++;                                                                     \
      if (!(cond))                                                                       \
         rt_fail(r, what, #cond);                                                        \
   } while (0)

#define RT_EQ(r, a, b, what)                                                             \
   do {                                                                                  \
      (r)->checks++;                                                                     \
      if ((uint64_t)(a) != (uint64_t)(b))                                                \
         rt_fail(r, what, #a " != " #b);                                                 \
   } while (0)

#define RT_MEM(r, a, b, n, what)                                                         \
   do {                                                                                  \
      (r)->checks++;                                                                     \
      if ((n) && memcmp((a), (b), (n)))                                                  \
         rt_fail(r, what, #a " != " #b);                                                 \
   } while (0)

#define RT_STR(r, a, b, what)                                                            \
   do {                                                                                  \
      (r)->checks++;                                                                     \
      const char *rt_sa = (a), *rt_sb = (b);                                             \
      if ((rt_sa == NULL) != (rt_sb == NULL) || (rt_sa && strcmp(rt_sa, rt_sb)))          \
         rt_fail(r, what, #a " != " #b);                                                 \
   } while (0)

struct rt_command {
   const char *name;
   void (*run)(struct rt *r);
};

extern const struct rt_command rt_commands[];
extern const unsigned rt_command_count;

#endif
