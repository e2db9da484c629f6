/*
 * Out-of-line parts of the command-stream primitives: buffer growth, fatal
 * marking, arena-backed allocation and reply writing.
 */
#include "protocol/vp_cs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "vp_protocol.h"

/* Largest growable encoder buffer: one command stream never needs more. */
#define VP_ENCODER_MAX_BYTES ((size_t)1 << 31)

void
vp_encoder_init_dynamic(struct vp_encoder *enc, size_t initial_size)
{
   memset(enc, 0, sizeof(*enc));
   enc->growable = true;
   if (initial_size) {
      enc->base = malloc(initial_size);
      if (!enc->base) {
         enc->fatal = true;
         return;
      }
      enc->cur = enc->base;
      enc->end = enc->base + initial_size;
   }
}

void
vp_encoder_fini(struct vp_encoder *enc)
{
   if (enc->growable)
      free(enc->base);
   memset(enc, 0, sizeof(*enc));
}

bool
vp_encoder_grow(struct vp_encoder *enc, size_t size)
{
   if (!enc->growable || enc->fatal) {
      enc->fatal = true;
      return false;
   }
   const size_t used = (size_t)(enc->cur - enc->base);
   const size_t old_cap = (size_t)(enc->end - enc->base);
   if (size > VP_ENCODER_MAX_BYTES - used) {
      enc->fatal = true;
      return false;
   }
   size_t cap = old_cap ? old_cap : 256;
   while (cap - used < size)
      cap *= 2;
   uint8_t *base = realloc(enc->base, cap);
   if (!base) {
      enc->fatal = true;
      return false;
   }
   enc->base = base;
   enc->cur = base + used;
   enc->end = base + cap;
   return true;
}

const uint8_t vp_decoder_zeros[VP_DECODER_SPAN_MAX];

void
vp_decoder_set_fatal(struct vp_decoder *dec, const char *why)
{
   if (!dec->fatal)
      dec->error = why;
   dec->fatal = true;
   /* stop all further reads */
   dec->cur = dec->end;
}

void
vp_decoder_set_fatal_handle(struct vp_decoder *dec, uint64_t id, VkObjectType type)
{
   if (dec->fatal)
      return;
   snprintf(dec->error_text, sizeof(dec->error_text),
            "unknown object id %" PRIu64 " or wrong object type (expected VkObjectType %d)",
            id, (int)type);
   vp_decoder_set_fatal(dec, dec->error_text);
}

void *
vp_decoder_alloc_array(struct vp_decoder *dec,
                       uint64_t count,
                       size_t elem_size,
                       size_t wire_elem_size)
{
   if (count > VP_MAX_ARRAY_COUNT) {
      vp_decoder_set_fatal(dec, "array count too large");
      return NULL;
   }
   if (wire_elem_size && count > vp_decoder_remaining(dec) / wire_elem_size) {
      vp_decoder_set_fatal(dec, "array count exceeds the stream");
      return NULL;
   }
   return vp_decoder_alloc(dec, (size_t)count * elem_size);
}

void
vp_dispatch_reply(struct vp_dispatch *d,
                  void (*encode)(struct vp_encoder *enc, const void *args),
                  const void *args)
{
   if (!d->reply) {
      vp_decoder_set_fatal(d->dec, "reply requested without a reply stream");
      return;
   }
   /* replies echo ids: handle slots never hold guest objects on this side */
   d->reply->raw_handles = true;
   encode(d->reply, args);
   if (vp_encoder_is_fatal(d->reply))
      vp_decoder_set_fatal(d->dec, "reply stream overflow");
}
