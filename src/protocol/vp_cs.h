/*
 * Command-stream primitives: the only functions the generated encoders and
 * decoders call (reserve, write, read, alloc, set_fatal, lookup_id).
 *
 * Encoder (guest side, and the renderer's reply writer): writes 4-byte-granular
 * little-endian items into a fixed buffer or a growable heap buffer. Running
 * out of a fixed buffer sets a sticky fatal flag; nothing aborts.
 *
 * Decoder (host side, and the guest's reply reader): every read is checked
 * against the end of the stream, every allocation goes through a capped arena,
 * and any failure sets a sticky fatal flag after which reads return zeros. No
 * input can make it assert, abort or allocate more than the arena cap.
 */
#ifndef VP_CS_H
#define VP_CS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vulkan/vulkan_core.h>

#include "util/vu_arena.h"

/* The primitives must inline into the (very large) generated files, where
 * the compiler's unit-growth limits would otherwise keep them out of line. */
#define VP_INLINE static inline __attribute__((always_inline))

#define VP_LIKELY(x) __builtin_expect(!!(x), 1)
#define VP_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Largest element count a decoder accepts for any array before allocating;
 * the arena cap bounds the total bytes anyway. */
#define VP_MAX_ARRAY_COUNT (1u << 24)

/*
 * Guest objects: every driver object begins with this header so that the
 * generated encoders can read the wire id straight from a handle. The first
 * word is the loader's dispatch pointer for dispatchable handles (unused by
 * others).
 */
struct vp_guest_object {
   uintptr_t loader_data;
   uint64_t id;
};

VP_INLINE uint64_t
vp_handle_to_id(uint64_t handle)
{
   return handle ? ((const struct vp_guest_object *)(uintptr_t)handle)->id : 0;
}

/*
 * Host objects: the renderer's objects begin with this header. Decoders store
 * a pointer to it in every handle slot; the generated replace-handles step
 * swaps in `handle` (the host driver's handle) right before the host call.
 */
struct vp_host_object {
   uint64_t id;
   VkObjectType type;
   uint64_t handle; /* host VkXxx (pointer or 64-bit handle) */
};

/* ------------------------------------------------------------------ */
/* encoder                                                             */

struct vp_encoder {
   uint8_t *base;
   uint8_t *cur;
   uint8_t *end;
   bool fatal;
   bool growable; /* heap buffer, realloc'ed on demand */
   /* Handle slots hold raw object ids rather than guest objects (the
    * renderer's reply encoders: created objects are echoed by id). */
   bool raw_handles;
   /* Chain filter: when non-NULL, pNext members of an extension whose bit is
    * clear in this 1024-bit mask are skipped (the capset's extension mask). */
   const uint32_t *ext_mask;
};

/* An encoder over `size` bytes of caller storage (inline: the driver starts
 * one per command, straight in its ring) */
static inline void
vp_encoder_init_fixed(struct vp_encoder *enc, void *storage, size_t size)
{
   *enc = (struct vp_encoder){
      .base = storage,
      .cur = storage,
      .end = (uint8_t *)storage + size,
   };
}

void
vp_encoder_init_dynamic(struct vp_encoder *enc, size_t initial_size);

void
vp_encoder_fini(struct vp_encoder *enc);

/* Rewinds to empty (keeps storage) and clears the fatal flag. */
static inline void
vp_encoder_reset(struct vp_encoder *enc)
{
   enc->cur = enc->base;
   enc->fatal = false;
}

static inline size_t
vp_encoder_size(const struct vp_encoder *enc)
{
   return (size_t)(enc->cur - enc->base);
}

static inline bool
vp_encoder_is_fatal(const struct vp_encoder *enc)
{
   return enc->fatal;
}

bool
vp_encoder_grow(struct vp_encoder *enc, size_t size);

/* Makes room for `size` more bytes; false (and fatal) if impossible. */
VP_INLINE bool
vp_encoder_reserve(struct vp_encoder *enc, size_t size)
{
   if (VP_LIKELY((size_t)(enc->end - enc->cur) >= size))
      return true;
   return vp_encoder_grow(enc, size);
}

/* Writes val_size bytes and zero padding up to `size` (a multiple of 4). */
VP_INLINE void
vp_encoder_write(struct vp_encoder *enc, size_t size, const void *val, size_t val_size)
{
   if (VP_UNLIKELY(!vp_encoder_reserve(enc, size)))
      return;
   memcpy(enc->cur, val, val_size);
   if (size > val_size)
      memset(enc->cur + val_size, 0, size - val_size);
   enc->cur += size;
}

VP_INLINE void
vp_encode_u32(struct vp_encoder *enc, uint32_t v)
{
   if (VP_UNLIKELY(!vp_encoder_reserve(enc, 4)))
      return;
   memcpy(enc->cur, &v, 4);
   enc->cur += 4;
}

VP_INLINE void
vp_encode_u64(struct vp_encoder *enc, uint64_t v)
{
   if (VP_UNLIKELY(!vp_encoder_reserve(enc, 8)))
      return;
   memcpy(enc->cur, &v, 8);
   enc->cur += 8;
}

/* Raw bytes padded to a multiple of 4 (byte arrays, strings, blobs). */
VP_INLINE void
vp_encode_bytes(struct vp_encoder *enc, const void *data, size_t size)
{
   /* bytes already where they go (a reply the host wrote in place): only
    * the padding; a growable encoder may move its buffer, so not there */
   if (VP_UNLIKELY(data == enc->cur && !enc->growable)) {
      const size_t padded = (size + 3) & ~(size_t)3;
      if (VP_UNLIKELY(!vp_encoder_reserve(enc, padded)))
         return;
      memset(enc->cur + size, 0, padded - size);
      enc->cur += padded;
      return;
   }
   vp_encoder_write(enc, (size + 3) & ~(size_t)3, data, size);
}

/* The wire word of a handle (vp_encode_handle's value) */
VP_INLINE uint64_t
vp_encoder_handle_word(const struct vp_encoder *enc, uint64_t handle)
{
   return enc->raw_handles ? handle : vp_handle_to_id(handle);
}

VP_INLINE void
vp_encode_handle(struct vp_encoder *enc, uint64_t handle)
{
   vp_encode_u64(enc, vp_encoder_handle_word(enc, handle));
}

/* Reserves the next `size` bytes for the vp_put_* stores of a run of
 * fixed-size items (one room check for the run; the generator emits them):
 * where they start, or NULL (fatal, as a vp_encode_* call past the end). */
VP_INLINE uint8_t *
vp_encoder_span(struct vp_encoder *enc, size_t size)
{
   if (VP_UNLIKELY(!vp_encoder_reserve(enc, size)))
      return NULL;
   uint8_t *p = enc->cur;
   enc->cur += size;
   return p;
}

VP_INLINE void
vp_put_u32(uint8_t *p, uint32_t v)
{
   memcpy(p, &v, 4);
}

VP_INLINE void
vp_put_u64(uint8_t *p, uint64_t v)
{
   memcpy(p, &v, 8);
}

/* vp_encoder_write's store: val_size bytes, zeros up to size */
VP_INLINE void
vp_put_bytes(uint8_t *p, size_t size, const void *val, size_t val_size)
{
   memcpy(p, val, val_size);
   if (size > val_size)
      memset(p + val_size, 0, size - val_size);
}

VP_INLINE bool
vp_encoder_allows_ext(const struct vp_encoder *enc, uint32_t ext_number)
{
   if (!enc->ext_mask || ext_number == 0)
      return true;
   return ext_number < 1024 && ((enc->ext_mask[ext_number / 32] >> (ext_number % 32)) & 1);
}

/* ------------------------------------------------------------------ */
/* decoder                                                             */

struct vp_decoder {
   const uint8_t *cur;
   const uint8_t *end;
   bool fatal;
   const char *error; /* first failure: a static string, or error_text */
   char error_text[96]; /* room for a failure that names its values */
   struct vu_arena *arena;
   /* Resolves an object id; NULL means unknown id or wrong type (fatal).
    * Renderer: returns a struct vp_host_object. Driver reply decoding:
    * returns the guest object for an id, or NULL lookup to keep the
    * caller's handle. */
   void *(*lookup)(void *data, uint64_t id, VkObjectType type);
   void *lookup_data;
};

static inline void
vp_decoder_init(struct vp_decoder *dec, const void *data, size_t size, struct vu_arena *arena)
{
   dec->cur = (const uint8_t *)data;
   dec->end = data ? dec->cur + size : dec->cur; /* NULL + 0 is undefined in C */
   dec->fatal = false;
   dec->error = NULL;
   dec->arena = arena;
   dec->lookup = NULL;
   dec->lookup_data = NULL;
}

void
vp_decoder_set_fatal(struct vp_decoder *dec, const char *why);

/* vp_decoder_set_fatal for an id that names no object of the expected type. */
void
vp_decoder_set_fatal_handle(struct vp_decoder *dec, uint64_t id, VkObjectType type);

static inline bool
vp_decoder_is_fatal(const struct vp_decoder *dec)
{
   return dec->fatal;
}

static inline size_t
vp_decoder_remaining(const struct vp_decoder *dec)
{
   return (size_t)(dec->end - dec->cur);
}

/* Reads val_size bytes out of a `size`-byte slot; zero-fills and sets fatal
 * when the stream is too short. */
VP_INLINE bool
vp_decoder_read(struct vp_decoder *dec, size_t size, void *val, size_t val_size)
{
   if (VP_UNLIKELY((size_t)(dec->end - dec->cur) < size)) {
      vp_decoder_set_fatal(dec, "read past the end of the stream");
      memset(val, 0, val_size);
      return false;
   }
   vu_mem_copy(val, dec->cur, val_size);
   dec->cur += size;
   return true;
}

static inline bool
vp_decoder_peek(const struct vp_decoder *dec, size_t size, void *val, size_t val_size)
{
   if (VP_UNLIKELY((size_t)(dec->end - dec->cur) < size)) {
      memset(val, 0, val_size);
      return false;
   }
   memcpy(val, dec->cur, val_size);
   return true;
}

VP_INLINE uint32_t
vp_decode_u32(struct vp_decoder *dec)
{
   uint32_t v;
   vp_decoder_read(dec, 4, &v, 4);
   return v;
}

VP_INLINE uint64_t
vp_decode_u64(struct vp_decoder *dec)
{
   uint64_t v;
   vp_decoder_read(dec, 8, &v, 8);
   return v;
}

VP_INLINE void
vp_decode_bytes(struct vp_decoder *dec, void *data, size_t size)
{
   vp_decoder_read(dec, (size + 3) & ~(size_t)3, data, size);
}

/* Skips `size` bytes (padded to 4). */
VP_INLINE void
vp_decoder_skip(struct vp_decoder *dec, size_t size)
{
   size = (size + 3) & ~(size_t)3;
   if (VP_UNLIKELY((size_t)(dec->end - dec->cur) < size)) {
      vp_decoder_set_fatal(dec, "skip past the end of the stream");
      return;
   }
   dec->cur += size;
}

/* Zeroed temporary storage; NULL and fatal past the arena cap. */
static inline void *
vp_decoder_alloc(struct vp_decoder *dec, size_t size)
{
   if (dec->fatal)
      return NULL;
   void *p = dec->arena ? vu_arena_alloc(dec->arena, size, 8) : NULL;
   if (!p)
      vp_decoder_set_fatal(dec, "temporary storage limit exceeded");
   return p;
}

/* Storage for the n bytes (n > 0) that vp_decode_bytes reads next: not
 * zero-filled, since that read writes every byte (zeros past a short
 * stream); NULL and fatal for n beyond what is left of the stream (nothing
 * is allocated for it) or past the arena cap. */
static inline void *
vp_decoder_alloc_bytes(struct vp_decoder *dec, uint64_t n)
{
   if (dec->fatal)
      return NULL;
   if (VP_UNLIKELY(n > vp_decoder_remaining(dec))) {
      vp_decoder_set_fatal(dec, "byte array exceeds the stream");
      return NULL;
   }
   void *p = dec->arena ? vu_arena_alloc_raw(dec->arena, (size_t)n, 8) : NULL;
   if (!p)
      vp_decoder_set_fatal(dec, "temporary storage limit exceeded");
   return p;
}

/* The n bytes (n > 0, padded to 4) at the decoder's position, where they
 * lie, and skips them; NULL and fatal for n beyond the stream. Only for
 * bytes whose values decide nothing (pixels): the stream may be memory the
 * guest can still write while the host reads them. Valid until the command
 * ends. */
static inline const void *
vp_decoder_ref_bytes(struct vp_decoder *dec, uint64_t n)
{
   if (dec->fatal)
      return NULL;
   if (VP_UNLIKELY(n > vp_decoder_remaining(dec))) {
      vp_decoder_set_fatal(dec, "byte array exceeds the stream");
      return NULL;
   }
   const void *p = dec->cur;
   vp_decoder_skip(dec, (size_t)n); /* and the padding */
   return dec->fatal ? NULL : p;
}

/* count * elem_size, overflow-checked, count capped at VP_MAX_ARRAY_COUNT.
 * wire_elem_size: the least number of stream bytes each element occupies
 * (0 for output elements that travel empty); a count the rest of the stream
 * cannot hold is rejected before anything is allocated. */
void *
vp_decoder_alloc_array(struct vp_decoder *dec,
                       uint64_t count,
                       size_t elem_size,
                       size_t wire_elem_size);

/* Reads an array size and checks it: must equal `expected`. */
VP_INLINE uint64_t
vp_decode_array_size(struct vp_decoder *dec, uint64_t expected)
{
   const uint64_t size = vp_decode_u64(dec);
   if (VP_UNLIKELY(size != expected)) {
      vp_decoder_set_fatal(dec, "array size does not match its count");
      return 0;
   }
   return size;
}

/* Reads an array size with no expectation (counts cap it before allocating). */
VP_INLINE uint64_t
vp_decode_array_size_unchecked(struct vp_decoder *dec)
{
   const uint64_t size = vp_decode_u64(dec);
   if (VP_UNLIKELY(size > VP_MAX_ARRAY_COUNT)) {
      vp_decoder_set_fatal(dec, "array size too large");
      return 0;
   }
   return size;
}

/* The object of an id read from the stream (0 is VK_NULL_HANDLE). */
VP_INLINE uint64_t
vp_decoder_lookup_handle(struct vp_decoder *dec, uint64_t id, VkObjectType type)
{
   if (!id || !dec->lookup)
      return id;
   void *obj = dec->lookup(dec->lookup_data, id, type);
   if (VP_UNLIKELY(!obj)) {
      vp_decoder_set_fatal_handle(dec, id, type);
      return 0;
   }
   return (uint64_t)(uintptr_t)obj;
}

/* Reads an object id and looks it up. */
VP_INLINE uint64_t
vp_decode_handle(struct vp_decoder *dec, VkObjectType type)
{
   return vp_decoder_lookup_handle(dec, vp_decode_u64(dec), type);
}

/* Most bytes one vp_decoder_span covers (the generator keeps to it). */
#define VP_DECODER_SPAN_MAX 256

extern const uint8_t vp_decoder_zeros[VP_DECODER_SPAN_MAX];

/* The next `size` bytes (at most VP_DECODER_SPAN_MAX) for the reads of a
 * run of fixed-size items (one bounds check for the run; the generator
 * emits them), skipped; past the end of the stream, fatal and zeros, as the
 * reads one by one would give. The bytes may be guest-writable memory: each
 * is read once, into its destination. */
VP_INLINE const uint8_t *
vp_decoder_span(struct vp_decoder *dec, size_t size)
{
   if (VP_UNLIKELY((size_t)(dec->end - dec->cur) < size)) {
      vp_decoder_set_fatal(dec, "read past the end of the stream");
      return vp_decoder_zeros;
   }
   const uint8_t *p = dec->cur;
   dec->cur += size;
   return p;
}

VP_INLINE uint64_t
vp_get_u64(const uint8_t *p)
{
   uint64_t v;
   memcpy(&v, p, 8);
   return v;
}

/* Driver reply decoding of a handle: with a lookup hook the id is turned
 * into the guest object, otherwise the caller's handle is kept. */
VP_INLINE void
vp_decode_reply_handle(struct vp_decoder *dec, uint64_t *slot, VkObjectType type)
{
   const uint64_t id = vp_decode_u64(dec);
   if (id && dec->lookup) {
      void *obj = dec->lookup(dec->lookup_data, id, type);
      if (VP_UNLIKELY(!obj)) {
         vp_decoder_set_fatal(dec, "reply names an unknown object");
         return;
      }
      *slot = (uint64_t)(uintptr_t)obj;
   }
}

/* Renderer: host handle of a decoded object (NULL stays NULL). */
VP_INLINE uint64_t
vp_host_handle(uint64_t obj)
{
   return obj ? ((const struct vp_host_object *)(uintptr_t)obj)->handle : 0;
}

struct vp_dispatch;

/* Writes a reply with `encode` to the dispatch's reply stream, or marks the
 * decoder fatal when there is none or it overflows. */
void
vp_dispatch_reply(struct vp_dispatch *d,
                  void (*encode)(struct vp_encoder *enc, const void *args),
                  const void *args);

#endif
