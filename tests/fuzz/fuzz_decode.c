/*
 * libFuzzer target: arbitrary bytes as a Venus command stream, decoded and
 * dispatched exactly as the renderer does (arena reset per command, a reply
 * stream, id lookups), with a handler table whose every slot does nothing.
 * Any input may end in a fatal decoder; none may crash, leak or allocate
 * beyond the arena cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vp_protocol.h"

void
vp_stub_handlers_init(struct vp_handlers *h);

#define FUZZ_ARENA_CAP (8u << 20)

static struct vp_host_object objects[32];

/* ids 1..32 exist; the low bits of the id pick the object */
static void *
fuzz_lookup(void *data, uint64_t id, VkObjectType type)
{
   (void)data;
   if (id == 0 || id > 32)
      return NULL;
   struct vp_host_object *o = &objects[id - 1];
   o->id = id;
   o->type = type;
   o->handle = id;
   return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   static struct vp_handlers handlers;
   static bool initialized;
   static uint8_t reply_storage[1 << 16];
   if (!initialized) {
      vp_stub_handlers_init(&handlers);
      initialized = true;
   }

   struct vu_arena arena;
   vu_arena_init(&arena, FUZZ_ARENA_CAP);
   struct vp_decoder dec;
   vp_decoder_init(&dec, data, size, &arena);
   dec.lookup = fuzz_lookup;
   struct vp_encoder reply;
   vp_encoder_init_fixed(&reply, reply_storage, sizeof(reply_storage));
   struct vp_dispatch d = { .dec = &dec, .reply = &reply, .handlers = &handlers };

   while (vp_decoder_remaining(&dec) && vp_dispatch_command(&d)) {
      if (arena.used > FUZZ_ARENA_CAP)
         abort();
      vu_arena_reset(&arena);
      vp_encoder_reset(&reply);
   }
   vu_arena_fini(&arena);
   return 0;
}
