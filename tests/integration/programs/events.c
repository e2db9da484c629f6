/*
 * events: VkEvent state changes from the host (vkSetEvent, vkResetEvent,
 * vkGetEventStatus) and from the device (vkCmdSetEvent, vkCmdResetEvent), and
 * vkCmdWaitEvents on an event set earlier in the same command buffer, in an
 * earlier submission, and by the host before submission (the spec requires a
 * host-set event to be set before the waiting command buffer is submitted).
 * Each wait guards a copy whose result is checked.
 */
#include <stdio.h>
#include <string.h>

#include "vkt.h"

#define EVENTS_WORDS 64u
#define EVENTS_BYTES (EVENTS_WORDS * 4u)
#define EVENTS_SLOTS 4u

struct events_test {
   struct vkt_context *ctx;
   VkDevice dev;
   struct vkt_buffer src[EVENTS_SLOTS]; /* one source per readback slot */
   struct vkt_buffer host_src;          /* written by the CPU */
   struct vkt_buffer rb;
   VkCommandBuffer cmds[6];
   uint32_t cmd_count;
};

static const uint32_t events_fills[EVENTS_SLOTS] = {
   0x0e0e0e01u,
   0x0e0e0e02u,
   0x0e0e0e03u,
   0x0e0e0e04u,
};

static VkCommandBuffer
events_cmd_begin(struct events_test *t)
{
   VkCommandBuffer cmd = vkt_cmd_begin_in(t->ctx, t->ctx->cmd_pool, 0);
   t->cmds[t->cmd_count++] = cmd;
   return cmd;
}

static void
events_submit(struct events_test *t, VkCommandBuffer cmd, bool wait)
{
   VKT_CALL(vkEndCommandBuffer(cmd));
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   VKT_CALL(vkQueueSubmit(t->ctx->queue, 1, &submit, VK_NULL_HANDLE));
   if (wait)
      VKT_CALL(vkQueueWaitIdle(t->ctx->queue));
}

static VkEvent
events_create(struct events_test *t)
{
   const VkEventCreateInfo info = { .sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO };
   VkEvent event;
   VKT_CALL(vkCreateEvent(t->dev, &info, NULL, &event));
   return event;
}

static void
events_expect(struct events_test *t, VkEvent event, VkResult want, const char *when)
{
   const VkResult got = vkGetEventStatus(t->dev, event);
   vkt_check(t->ctx, got == want, "%s: event status %s, want %s", when,
             vkt_result_string(got), vkt_result_string(want));
}

static void
events_copy_to_slot(struct events_test *t,
                    VkCommandBuffer cmd,
                    const struct vkt_buffer *src,
                    uint32_t slot)
{
   const VkBufferCopy region = { 0, slot * EVENTS_BYTES, EVENTS_BYTES };
   vkCmdCopyBuffer(cmd, src->buffer, t->rb.buffer, 1, &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
}

static void
events_wait(VkCommandBuffer cmd,
            VkEvent event,
            VkPipelineStageFlags src_stage,
            VkAccessFlags src_access)
{
   const VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = src_access,
      .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
   };
   vkCmdWaitEvents(cmd, 1, &event, src_stage, VK_PIPELINE_STAGE_TRANSFER_BIT, 1, &barrier,
                   0, NULL, 0, NULL);
}

static void
events_test_host(struct events_test *t, VkEvent event)
{
   events_expect(t, event, VK_EVENT_RESET, "new event");
   VKT_CALL(vkSetEvent(t->dev, event));
   events_expect(t, event, VK_EVENT_SET, "after vkSetEvent");
   VKT_CALL(vkSetEvent(t->dev, event));
   events_expect(t, event, VK_EVENT_SET, "after a second vkSetEvent");
   VKT_CALL(vkResetEvent(t->dev, event));
   events_expect(t, event, VK_EVENT_RESET, "after vkResetEvent");
}

/* The device sets the event after a fill; slot 0 reads the fill after the
 * host saw the event set; then the device resets it. */
static void
events_test_device_set_reset(struct events_test *t, VkEvent event)
{
   VkCommandBuffer cmd = events_cmd_begin(t);
   vkCmdFillBuffer(cmd, t->src[0].buffer, 0, EVENTS_BYTES, events_fills[0]);
   vkCmdSetEvent(cmd, event, VK_PIPELINE_STAGE_TRANSFER_BIT);
   events_submit(t, cmd, true);
   events_expect(t, event, VK_EVENT_SET, "after vkCmdSetEvent");

   cmd = events_cmd_begin(t);
   events_wait(cmd, event, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   events_copy_to_slot(t, cmd, &t->src[0], 0);
   /* the wait must be over before the reset (an execution dependency; the
    * synchronization validation wants ALL_COMMANDS as its first scope) */
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, 0);
   vkCmdResetEvent(cmd, event, VK_PIPELINE_STAGE_TRANSFER_BIT);
   events_submit(t, cmd, true);
   events_expect(t, event, VK_EVENT_RESET, "after vkCmdResetEvent");
}

/* Set and wait in one command buffer (slot 1), and across two submissions on
 * the same queue (slot 2). */
static void
events_test_device_wait(struct events_test *t, VkEvent same, VkEvent across)
{
   VkCommandBuffer cmd = events_cmd_begin(t);
   vkCmdFillBuffer(cmd, t->src[1].buffer, 0, EVENTS_BYTES, events_fills[1]);
   vkCmdSetEvent(cmd, same, VK_PIPELINE_STAGE_TRANSFER_BIT);
   events_wait(cmd, same, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   events_copy_to_slot(t, cmd, &t->src[1], 1);
   vkCmdFillBuffer(cmd, t->src[2].buffer, 0, EVENTS_BYTES, events_fills[2]);
   vkCmdSetEvent(cmd, across, VK_PIPELINE_STAGE_TRANSFER_BIT);
   events_submit(t, cmd, false);

   cmd = events_cmd_begin(t);
   events_wait(cmd, across, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   events_copy_to_slot(t, cmd, &t->src[2], 2);
   events_submit(t, cmd, true);
   events_expect(t, same, VK_EVENT_SET, "set in the same command buffer");
   events_expect(t, across, VK_EVENT_SET, "set in an earlier submission");
}

/* The host writes data and sets the event, then submits a wait on it (slot 3);
 * the host resets it afterwards. */
static void
events_test_host_set_device_wait(struct events_test *t, VkEvent event)
{
   uint32_t *words = t->host_src.map;
   for (uint32_t i = 0; i < EVENTS_WORDS; i++)
      words[i] = events_fills[3];
   vkt_buffer_flush(t->ctx, &t->host_src);
   VKT_CALL(vkSetEvent(t->dev, event));

   VkCommandBuffer cmd = events_cmd_begin(t);
   events_wait(cmd, event, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_WRITE_BIT);
   events_copy_to_slot(t, cmd, &t->host_src, 3);
   events_submit(t, cmd, true);
   events_expect(t, event, VK_EVENT_SET, "host-set event after the device waited");
   VKT_CALL(vkResetEvent(t->dev, event));
   events_expect(t, event, VK_EVENT_RESET, "host reset after the device waited");
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "events");
   vkt_device_init(&ctx, NULL);

   struct events_test t = { .ctx = &ctx, .dev = ctx.device };
   for (uint32_t i = 0; i < EVENTS_SLOTS; i++) {
      vkt_buffer_create(&ctx, EVENTS_BYTES,
                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                           VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        VKT_MEM_DEVICE, &t.src[i]);
   }
   vkt_buffer_create(&ctx, EVENTS_BYTES, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_UPLOAD,
                     &t.host_src);
   vkt_buffer_create(&ctx, EVENTS_SLOTS * EVENTS_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_READBACK, &t.rb);
   VkEvent events[4];
   for (int i = 0; i < 4; i++)
      events[i] = events_create(&t);

   events_test_host(&t, events[0]);
   events_test_device_set_reset(&t, events[0]);
   events_test_device_wait(&t, events[1], events[2]);
   events_test_host_set_device_wait(&t, events[3]);

   vkt_buffer_invalidate(&ctx, &t.rb);
   const uint32_t *words = t.rb.map;
   uint32_t bad = 0;
   for (uint32_t slot = 0; slot < EVENTS_SLOTS; slot++) {
      for (uint32_t i = 0; i < EVENTS_WORDS; i++)
         bad += words[slot * EVENTS_WORDS + i] != events_fills[slot];
   }
   vkt_check(&ctx, !bad, "%u word(s) copied after an event wait are wrong", bad);
   vkt_print_hex("events_data_digest", vkt_digest(words, EVENTS_SLOTS * EVENTS_BYTES));

   VKT_CALL(vkQueueWaitIdle(ctx.queue));
   vkFreeCommandBuffers(t.dev, ctx.cmd_pool, t.cmd_count, t.cmds);
   for (int i = 0; i < 4; i++)
      vkDestroyEvent(t.dev, events[i], NULL);
   vkt_buffer_destroy(&ctx, &t.rb);
   vkt_buffer_destroy(&ctx, &t.host_src);
   for (uint32_t i = 0; i < EVENTS_SLOTS; i++)
      vkt_buffer_destroy(&ctx, &t.src[i]);
   return vkt_finish(&ctx);
}
