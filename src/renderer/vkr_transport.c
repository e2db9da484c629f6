/*
 * Per-decoder transport commands (transport.md §C.6-§C.7, command-types.md
 * §5.1): reply streams (vkSetReplyCommandStreamMESA / Seek) and
 * vkExecuteCommandStreamsMESA.
 */
#include "vkr_common.h"

#include <stdlib.h>
#include <string.h>

void
vkr_decoder_set_reply_stream(struct vkr_decoder *dec,
                             struct vkr_resource *res,
                             size_t offset,
                             size_t size)
{
   vkr_resource_unref(dec->reply_res);
   dec->reply_res = res;
   if (!res) {
      dec->dispatch.reply = NULL;
      return;
   }
   dec->reply_offset = offset;
   dec->reply_size = size;
   /* replies may run up to the end of the resource (§5.1) */
   vp_encoder_init_fixed(&dec->reply, (uint8_t *)res->shm->map + offset,
                         (size_t)res->size - offset);
   dec->reply.raw_handles = true;
   dec->dispatch.reply = &dec->reply;
}

/* a mapped shared-memory resource window, or NULL (+1 ref) */
static struct vkr_resource *
vkr_get_shm_window(struct vkr_context *ctx, uint32_t res_id, size_t offset, size_t size)
{
   struct vkr_resource *res = vkr_context_get_resource(ctx, res_id);
   if (!res)
      return NULL;
   if (res->kind != VKR_RESOURCE_SHM || !res->shm || !res->shm->map || offset > res->size ||
       size > res->size - offset) {
      vkr_resource_unref(res);
      return NULL;
   }
   return res;
}

void
vkr_exec_vkSetReplyCommandStreamMESA(struct vp_dispatch *d,
                                     struct vp_command_vkSetReplyCommandStreamMESA *args)
{
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   const VkCommandStreamDescriptionMESA *s = args->pStream;
   /* A driver sets the reply stream before every call that answers, almost
    * always in the resource of the last one: while no resource has left the
    * table since, that one is still the table's entry for its id, and the
    * lock and lookup are skipped (a round trip's largest renderer cost). */
   struct vkr_resource *cur = dec->reply_res;
   const uint64_t gen = atomic_load_explicit(&dec->ctx->resource_generation, memory_order_acquire);
   if (cur && cur->id == s->resourceId && dec->reply_generation == gen &&
       s->offset <= cur->size && s->size <= cur->size - s->offset) {
      atomic_fetch_add_explicit(&cur->refs, 1, memory_order_relaxed);
      vkr_decoder_set_reply_stream(dec, cur, s->offset, s->size);
      return;
   }
   struct vkr_resource *res = vkr_get_shm_window(dec->ctx, s->resourceId, s->offset, s->size);
   if (!res) {
      vkr_dispatch_fatal(d, "reply stream outside a shared-memory resource");
      return;
   }
   vkr_decoder_set_reply_stream(dec, res, s->offset, s->size);
   dec->reply_generation = gen;
}

static bool
vkr_decoder_seek_reply(struct vkr_decoder *dec, size_t position)
{
   if (!dec->reply_res || position > dec->reply_size)
      return false;
   dec->reply.cur = dec->reply.base + position;
   dec->reply.fatal = false;
   return true;
}

void
vkr_exec_vkSeekReplyCommandStreamMESA(struct vp_dispatch *d,
                                      struct vp_command_vkSeekReplyCommandStreamMESA *args)
{
   if (!vkr_decoder_seek_reply(vkr_decoder_from_dispatch(d), args->position))
      vkr_dispatch_fatal(d, "reply stream seek without a stream or past its size");
}

void
vkr_exec_vkExecuteCommandStreamsMESA(struct vp_dispatch *d,
                                     struct vp_command_vkExecuteCommandStreamsMESA *args)
{
   struct vkr_decoder *dec = vkr_decoder_from_dispatch(d);
   struct vkr_context *ctx = dec->ctx;
   const uint32_t count = args->streamCount;

   if (dec->in_execute) {
      vkr_dispatch_fatal(d, "nested vkExecuteCommandStreamsMESA");
      return;
   }
   if (!count || !args->pStreams) {
      vkr_dispatch_fatal(d, "vkExecuteCommandStreamsMESA without streams");
      return;
   }
   /* the arena is reset after each inner command: keep our own copies */
   VkCommandStreamDescriptionMESA *streams = malloc(count * sizeof(*streams));
   size_t *positions = args->pReplyPositions ? malloc(count * sizeof(*positions)) : NULL;
   if (!streams || (args->pReplyPositions && !positions)) {
      free(streams);
      free(positions);
      vkr_dispatch_fatal(d, "out of host memory");
      return;
   }
   memcpy(streams, args->pStreams, count * sizeof(*streams));
   if (positions)
      memcpy(positions, args->pReplyPositions, count * sizeof(*positions));

   const uint8_t *saved_cur = dec->dec.cur;
   const uint8_t *saved_end = dec->dec.end;
   const int32_t saved_type = d->cmd_type;
   const uint32_t saved_flags = d->cmd_flags;
   const char *failure = NULL;

   dec->in_execute = true;
   for (uint32_t i = 0; i < count && !failure; i++) {
      if (positions && !vkr_decoder_seek_reply(dec, positions[i])) {
         failure = "reply position without a stream or past its size";
         break;
      }
      if (!streams[i].size)
         continue;
      struct vkr_resource *res =
         vkr_get_shm_window(ctx, streams[i].resourceId, streams[i].offset, streams[i].size);
      if (!res) {
         failure = "command stream outside a shared-memory resource";
         break;
      }
      /* the resource reference keeps the mapping alive even if the guest
       * unreferences it meanwhile */
      if (!vkr_decoder_run(dec, (const uint8_t *)res->shm->map + streams[i].offset,
                           streams[i].size, NULL, NULL))
         failure = "a command stream failed";
      vkr_resource_unref(res);
   }
   dec->in_execute = false;
   free(streams);
   free(positions);

   dec->dec.cur = saved_cur;
   dec->dec.end = saved_end;
   dec->dec.fatal = false;
   d->cmd_type = saved_type;
   d->cmd_flags = saved_flags;
   if (failure)
      vkr_dispatch_fatal(d, failure);
}
