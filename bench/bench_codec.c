/*
 * Protocol codec throughput: a recorded command buffer of 1M mixed vkCmd*
 * commands (bind pipeline, push constants, dispatch, draw, barrier, copy,
 * bind descriptor sets, bind vertex buffers) encoded with the driver encoders
 * and then decoded + dispatched to empty handlers by the renderer decoder,
 * with real id lookups (hash map behind a one-entry cache, as the renderer
 * does). Prints `name unit value` lines.
 *
 * usage: bench_codec [--short]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/vu_idmap.h"
#include "vp_protocol.h"

void
vp_stub_handlers_init(struct vp_handlers *h);

#define MIX 8

static double
now_s(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct guest_objects {
   struct vp_guest_object cmd, pipeline, layout, set, buffer, buffer2;
};

static void
encode_mixed(struct vp_encoder *enc, const struct guest_objects *g, unsigned count)
{
   const VkCommandBuffer cmd = (VkCommandBuffer)(uintptr_t)&g->cmd;
   const VkPipeline pipeline = (VkPipeline)(uintptr_t)&g->pipeline;
   const VkPipelineLayout layout = (VkPipelineLayout)(uintptr_t)&g->layout;
   const VkDescriptorSet set = (VkDescriptorSet)(uintptr_t)&g->set;
   const VkBuffer buffer = (VkBuffer)(uintptr_t)&g->buffer;
   const VkBuffer buffer2 = (VkBuffer)(uintptr_t)&g->buffer2;
   const uint32_t push[4] = { 1, 2, 3, 4 };
   const VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_SHADER_READ_BIT,
   };
   const VkBufferCopy region = { 0, 256, 1024 };
   const VkDeviceSize offset = 0;

   for (unsigned i = 0; i < count; i++) {
      switch (i % MIX) {
      case 0:
         vp_encode_vkCmdBindPipeline(enc, 0, cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
         break;
      case 1:
         vp_encode_vkCmdPushConstants(enc, 0, cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                      sizeof(push), push);
         break;
      case 2:
         vp_encode_vkCmdDispatch(enc, 0, cmd, 4, 1, 1);
         break;
      case 3:
         vp_encode_vkCmdDraw(enc, 0, cmd, 3, 1, 0, 0);
         break;
      case 4:
         vp_encode_vkCmdPipelineBarrier(enc, 0, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &barrier,
                                        0, NULL, 0, NULL);
         break;
      case 5:
         vp_encode_vkCmdCopyBuffer(enc, 0, cmd, buffer, buffer2, 1, &region);
         break;
      case 6:
         vp_encode_vkCmdBindDescriptorSets(enc, 0, cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout,
                                           0, 1, &set, 0, NULL);
         break;
      default:
         vp_encode_vkCmdBindVertexBuffers(enc, 0, cmd, 0, 1, &buffer, &offset);
         break;
      }
   }
}

/* the renderer's lookup: a one-entry cache in front of the id map */
struct lookup_state {
   struct vu_idmap map;
   uint64_t last_id;
   struct vp_host_object *last;
};

static void *
lookup(void *data, uint64_t id, VkObjectType type)
{
   struct lookup_state *s = data;
   if (id == s->last_id)
      return s->last->type == type ? s->last : NULL;
   struct vp_host_object *o = vu_idmap_get(&s->map, id);
   if (!o || o->type != type)
      return NULL;
   s->last_id = id;
   s->last = o;
   return o;
}

int
main(int argc, char **argv)
{
   const int quick = argc > 1 && !strcmp(argv[1], "--short");
   const unsigned count = quick ? 100000 : 1000000;
   const int rounds = quick ? 2 : 5;

   const struct guest_objects g = {
      .cmd = { 0, 0x1001 }, .pipeline = { 0, 0x1002 }, .layout = { 0, 0x1003 },
      .set = { 0, 0x1004 }, .buffer = { 0, 0x1005 }, .buffer2 = { 0, 0x1006 },
   };
   struct vp_host_object host[] = {
      { 0x1001, VK_OBJECT_TYPE_COMMAND_BUFFER, 1 }, { 0x1002, VK_OBJECT_TYPE_PIPELINE, 2 },
      { 0x1003, VK_OBJECT_TYPE_PIPELINE_LAYOUT, 3 }, { 0x1004, VK_OBJECT_TYPE_DESCRIPTOR_SET, 4 },
      { 0x1005, VK_OBJECT_TYPE_BUFFER, 5 }, { 0x1006, VK_OBJECT_TYPE_BUFFER, 6 },
   };
   struct lookup_state ls = { 0 };
   vu_idmap_init(&ls.map);
   /* a realistic table: a few thousand other live objects */
   static struct vp_host_object others[4096];
   for (unsigned i = 0; i < 4096; i++) {
      others[i] = (struct vp_host_object){ 0x100000 + i * 7919, VK_OBJECT_TYPE_BUFFER, i };
      vu_idmap_insert(&ls.map, others[i].id, &others[i]);
   }
   for (unsigned i = 0; i < sizeof(host) / sizeof(host[0]); i++)
      vu_idmap_insert(&ls.map, host[i].id, &host[i]);

   /* encode: the encoder's storage is reserved once up front, as a command
    * buffer's stream is reused from one recording to the next */
   struct vp_encoder enc;
   vp_encoder_init_dynamic(&enc, (size_t)count * 64);
   double best_enc = 1e9;
   size_t allocs_before = 0, allocs_after = 0;
   for (int r = 0; r < rounds; r++) {
      vp_encoder_reset(&enc);
      struct mallinfo2 before = mallinfo2();
      const double t0 = now_s();
      encode_mixed(&enc, &g, count);
      const double t = now_s() - t0;
      struct mallinfo2 after = mallinfo2();
      allocs_before = before.uordblks;
      allocs_after = after.uordblks;
      if (t < best_enc)
         best_enc = t;
   }
   if (vp_encoder_is_fatal(&enc)) {
      fprintf(stderr, "encode failed\n");
      return 1;
   }
   const size_t bytes = vp_encoder_size(&enc);

   struct vp_handlers handlers;
   vp_stub_handlers_init(&handlers);
   struct vu_arena arena;
   vu_arena_init(&arena, 1u << 20);
   static uint8_t reply_storage[4096];
   double best_dec = 1e9;
   unsigned decoded = 0;
   for (int r = 0; r < rounds; r++) {
      struct vp_decoder dec;
      vp_decoder_init(&dec, enc.base, bytes, &arena);
      dec.lookup = lookup;
      dec.lookup_data = &ls;
      struct vp_encoder reply;
      vp_encoder_init_fixed(&reply, reply_storage, sizeof(reply_storage));
      struct vp_dispatch d = { .dec = &dec, .reply = &reply, .handlers = &handlers };
      decoded = 0;
      const double t0 = now_s();
      while (vp_decoder_remaining(&dec)) {
         if (!vp_dispatch_command(&d))
            break;
         vu_arena_reset(&arena);
         decoded++;
      }
      const double t = now_s() - t0;
      if (vp_decoder_is_fatal(&dec)) {
         fprintf(stderr, "decode failed: %s\n", dec.error);
         return 1;
      }
      if (t < best_dec)
         best_dec = t;
   }
   if (decoded != count) {
      fprintf(stderr, "decoded %u of %u commands\n", decoded, count);
      return 1;
   }

   printf("codec_commands count %u\n", count);
   printf("codec_stream_bytes bytes %zu\n", bytes);
   printf("codec_encode ns/command %.2f\n", best_enc * 1e9 / count);
   printf("codec_encode MB/s %.0f\n", bytes / best_enc / 1e6);
   printf("codec_encode_heap_growth bytes %zd\n", (ssize_t)(allocs_after - allocs_before));
   printf("codec_decode_dispatch ns/command %.2f\n", best_dec * 1e9 / count);
   printf("codec_decode_dispatch MB/s %.0f\n", bytes / best_dec / 1e6);

   vu_arena_fini(&arena);
   vp_encoder_fini(&enc);
   vu_idmap_fini(&ls.map);
   return allocs_after != allocs_before;
}
