/*
 * queries: occlusion and timestamp queries. Four occlusion queries bracket
 * nothing, a 32x16-pixel quad, a quad hidden by the depth test and a full-screen
 * quad partly hidden; a fifth query is reset but never run. Results are read
 * with vkGetQueryPoolResults with and without WAIT, WITH_AVAILABILITY and
 * 32/64-bit, and with vkCmdCopyQueryPoolResults; all must agree. Timestamps
 * written around a fill and in a later submission must be ordered.
 * Timestamps reset again after they were written, and not written anew, must
 * neither be waited for nor read as available (queries_reset_after_end).
 * With multiview, an occlusion query and a timestamp inside a two-view render
 * pass take two query indices each; both must become available (a wait for
 * the second one hung through the driver's query feedback).
 * Frames of an occlusion query and two timestamps, each read after its
 * fence, must all read back right; then a read with WAIT of a frame that
 * waits for a timeline value another thread signals later must end (a
 * driver that hands that WAIT, or any read, to a host whose
 * vkGetQueryPoolResults waits, as lavapipe's does, holds the signal up
 * behind it for good).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#include "vkt.h"

#define QUERIES_SIZE 64u
#define QUERIES_OCCLUSION 5u /* the last one is never begun */
#define QUERIES_RAN 4u
#define QUERIES_TIMESTAMPS 3u
#define QUERIES_FILL_BYTES (1u << 20)

struct queries_quad {
   float rect[4]; /* clip-space x0, y0, x1, y1 */
   float depth;
};

/* x0,y0 = (8,8) and x1,y1 = (40,24) in pixels: 32 x 16 = 512 samples */
#define QUERIES_NDC(p) ((float)(p) / QUERIES_SIZE * 2.0f - 1.0f)
static const struct queries_quad queries_small = {
   { QUERIES_NDC(8), QUERIES_NDC(8), QUERIES_NDC(40), QUERIES_NDC(24) }, 0.5f
};
static const struct queries_quad queries_hidden = {
   { QUERIES_NDC(8), QUERIES_NDC(8), QUERIES_NDC(40), QUERIES_NDC(24) }, 0.7f
};
static const struct queries_quad queries_full = { { -1.0f, -1.0f, 1.0f, 1.0f }, 0.9f };

/* exact counts when occlusionQueryPrecise is supported */
static const uint64_t queries_expected[QUERIES_RAN] = {
   0, 32 * 16, 0, QUERIES_SIZE * QUERIES_SIZE - 32 * 16
};

struct queries_test {
   struct vkt_context *ctx;
   VkDevice dev;
   VkQueryPool occlusion;
   VkQueryPool timestamps;
   bool precise;
   bool has_timestamps;
};

static VkQueryPool
queries_pool_create(struct queries_test *t, VkQueryType type, uint32_t count)
{
   const VkQueryPoolCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
      .queryType = type,
      .queryCount = count,
   };
   VkQueryPool pool;
   VKT_CALL(vkCreateQueryPool(t->dev, &info, NULL, &pool));
   return pool;
}

static void
queries_draw(VkCommandBuffer cmd,
             VkPipelineLayout layout,
             const struct queries_quad *quad,
             VkQueryPool pool,
             uint32_t query,
             VkQueryControlFlags flags)
{
   vkCmdBeginQuery(cmd, pool, query, flags);
   if (quad) {
      vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(*quad), quad);
      vkCmdDraw(cmd, 6, 1, 0, 0);
   }
   vkCmdEndQuery(cmd, pool, query);
}

/* what the occlusion queries draw with */
struct queries_scene {
   VkRenderPass render_pass;
   VkFramebuffer framebuffer;
   VkPipeline pipeline;
   VkPipelineLayout layout;
};

/* begins the scene's render pass (cleared) and binds its pipeline */
static void
queries_begin_scene(VkCommandBuffer cmd, const struct queries_scene *scene)
{
   const VkClearValue clears[2] = {
      { .color = { .float32 = { 0.0f, 0.0f, 0.0f, 1.0f } } },
      { .depthStencil = { 1.0f, 0 } },
   };
   const VkRenderPassBeginInfo rp_begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = scene->render_pass,
      .framebuffer = scene->framebuffer,
      .renderArea = { { 0, 0 }, { QUERIES_SIZE, QUERIES_SIZE } },
      .clearValueCount = 2,
      .pClearValues = clears,
   };
   vkCmdBeginRenderPass(cmd, &rp_begin, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, scene->pipeline);
}

/* The occlusion queries' render pass: query q around quads[q] (NULL: a
 * query with nothing drawn). */
static void
queries_record_draws(struct queries_test *t,
                     VkCommandBuffer cmd,
                     const struct queries_scene *scene,
                     const struct queries_quad *const quads[QUERIES_RAN])
{
   const VkQueryControlFlags precise = t->precise ? VK_QUERY_CONTROL_PRECISE_BIT : 0;
   queries_begin_scene(cmd, scene);
   for (uint32_t q = 0; q < QUERIES_RAN; q++)
      queries_draw(cmd, scene->layout, quads[q], t->occlusion, q, precise);
   vkCmdEndRenderPass(cmd);
}

/* the submit2 run draws them in another order: full, none, small, hidden */
static const uint64_t queries_expected2[QUERIES_RAN] = {
   QUERIES_SIZE * QUERIES_SIZE, 0, 32 * 16, 0
};

/* Checks one set of results read back in any of the ways against `expected`. */
static void
queries_check_counts(struct queries_test *t,
                     const char *how,
                     const uint64_t *values,
                     const uint64_t *expected)
{
   for (uint32_t q = 0; q < QUERIES_RAN; q++) {
      bool ok;
      if (t->precise || !expected[q])
         ok = values[q] == expected[q];
      else
         ok = values[q] > 0;
      vkt_check(t->ctx, ok, "%s: occlusion query %u = %" PRIu64 ", want %" PRIu64, how, q,
                values[q], expected[q]);
   }
}

static void
queries_check_occlusion(struct queries_test *t, const char *how, const uint64_t *values)
{
   queries_check_counts(t, how, values, queries_expected);
}

static void
queries_read_occlusion(struct queries_test *t, const struct vkt_buffer *copied)
{
   struct vkt_context *ctx = t->ctx;
   uint64_t values[QUERIES_OCCLUSION * 2];

   /* all queries ran: WAIT, 64-bit */
   VKT_CALL(vkGetQueryPoolResults(
      t->dev, t->occlusion, 0, QUERIES_RAN, sizeof(uint64_t) * QUERIES_RAN, values,
      sizeof(uint64_t), VK_QUERY_RESULT_WAIT_BIT | VK_QUERY_RESULT_64_BIT));
   queries_check_occlusion(t, "wait 64-bit", values);
   for (uint32_t q = 0; q < QUERIES_RAN; q++) {
      char name[64];
      snprintf(name, sizeof(name), "queries_occlusion_%u", q);
      if (t->precise)
         vkt_print_u64(name, "samples", values[q]);
      else
         vkt_print_u64(name, "nonzero", values[q] != 0);
   }

   /* 32-bit, no WAIT (the work is done, so it must be available) */
   uint32_t values32[QUERIES_RAN];
   VkResult r = vkGetQueryPoolResults(t->dev, t->occlusion, 0, QUERIES_RAN,
                                      sizeof(values32), values32, sizeof(uint32_t), 0);
   vkt_check(ctx, r == VK_SUCCESS, "32-bit without wait: %s", vkt_result_string(r));
   uint64_t widened[QUERIES_RAN];
   for (uint32_t q = 0; q < QUERIES_RAN; q++)
      widened[q] = values32[q];
   queries_check_occlusion(t, "no wait 32-bit", widened);

   /* WITH_AVAILABILITY over all five: the last one was never begun */
   memset(values, 0xff, sizeof(values));
   r = vkGetQueryPoolResults(t->dev, t->occlusion, 0, QUERIES_OCCLUSION, sizeof(values),
                             values, 2 * sizeof(uint64_t),
                             VK_QUERY_RESULT_WITH_AVAILABILITY_BIT |
                                VK_QUERY_RESULT_64_BIT);
   vkt_check(ctx, r == VK_NOT_READY, "availability incl. an unused query: %s",
             vkt_result_string(r));
   uint64_t avail_values[QUERIES_RAN];
   for (uint32_t q = 0; q < QUERIES_RAN; q++) {
      avail_values[q] = values[2 * q];
      vkt_check(ctx, values[2 * q + 1] == 1, "query %u not available", q);
   }
   queries_check_occlusion(t, "with availability", avail_values);
   vkt_check(ctx, values[2 * QUERIES_RAN + 1] == 0, "the unused query is available");

   /* vkCmdCopyQueryPoolResults, recorded after the render pass */
   vkt_buffer_invalidate(ctx, copied);
   const uint64_t *copy = copied->map;
   uint64_t copy_values[QUERIES_RAN];
   for (uint32_t q = 0; q < QUERIES_RAN; q++) {
      copy_values[q] = copy[2 * q];
      vkt_check(ctx, copy[2 * q + 1] == 1, "copied query %u not available", q);
   }
   queries_check_occlusion(t, "vkCmdCopyQueryPoolResults", copy_values);
   vkt_check(ctx, copy[2 * QUERIES_RAN + 1] == 0, "copied unused query is available");
}

/* The occlusion queries again, drawn in another order (so that results left
 * from the first submission would show), submitted with vkQueueSubmit2 (our
 * driver builds its query feedback for it apart from vkQueueSubmit's) and
 * read with WAIT before anything else waits for it. The reset goes first in
 * a submission of its own, waited for: until a reset has executed, a query
 * stays available with its old results, and WAIT may return those. */
static void
queries_submit2(struct queries_test *t, const struct queries_scene *scene)
{
   struct vkt_context *ctx = t->ctx;
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdResetQueryPool(cmd, t->occlusion, 0, QUERIES_OCCLUSION);
   vkt_cmd_submit_wait(ctx, cmd);
   cmd = vkt_cmd_begin(ctx);
   static const struct queries_quad *const quads[QUERIES_RAN] = {
      &queries_full, NULL, &queries_small, &queries_hidden,
   };
   queries_record_draws(t, cmd, scene, quads);
   VKT_CALL(vkEndCommandBuffer(cmd));
   const VkCommandBufferSubmitInfo cmd_info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO,
      .commandBuffer = cmd,
   };
   const VkSubmitInfo2 submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
      .commandBufferInfoCount = 1,
      .pCommandBufferInfos = &cmd_info,
   };
   VKT_CALL(vkQueueSubmit2(ctx->queue, 1, &submit, VK_NULL_HANDLE));

   uint64_t values[QUERIES_OCCLUSION * 2];
   VKT_CALL(vkGetQueryPoolResults(
      t->dev, t->occlusion, 0, QUERIES_RAN, sizeof(uint64_t) * QUERIES_RAN, values,
      sizeof(uint64_t), VK_QUERY_RESULT_WAIT_BIT | VK_QUERY_RESULT_64_BIT));
   queries_check_counts(t, "submit2, wait 64-bit", values, queries_expected2);
   memset(values, 0xff, sizeof(values));
   const VkResult r = vkGetQueryPoolResults(
      t->dev, t->occlusion, 0, QUERIES_OCCLUSION, sizeof(values), values, 2 * sizeof(uint64_t),
      VK_QUERY_RESULT_WITH_AVAILABILITY_BIT | VK_QUERY_RESULT_64_BIT);
   vkt_check(ctx, r == VK_NOT_READY, "submit2, availability incl. an unused query: %s",
             vkt_result_string(r));
   uint32_t available = 0;
   for (uint32_t q = 0; q < QUERIES_OCCLUSION; q++)
      available += values[2 * q + 1] == 1;
   vkt_check(ctx, available == QUERIES_RAN, "submit2: %u queries available, want %u", available,
             QUERIES_RAN);
   /* not printed: the printed results are compared across stacks, and not
    * every stack offers synchronization2 */
   fprintf(stderr, "queries: %u occlusion queries through vkQueueSubmit2\n", available);
   VKT_CALL(vkQueueWaitIdle(ctx->queue));
   vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &cmd);
}

static void
queries_read_timestamps(struct queries_test *t, const struct vkt_buffer *copied)
{
   struct vkt_context *ctx = t->ctx;
   uint64_t ts[QUERIES_TIMESTAMPS * 2];
   VKT_CALL(vkGetQueryPoolResults(
      t->dev, t->timestamps, 0, QUERIES_TIMESTAMPS, sizeof(uint64_t) * QUERIES_TIMESTAMPS,
      ts, sizeof(uint64_t), VK_QUERY_RESULT_WAIT_BIT | VK_QUERY_RESULT_64_BIT));
   const uint32_t bits = ctx->queue_families[ctx->queue_family].timestampValidBits;
   const uint64_t mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
   bool ordered = true;
   for (uint32_t i = 1; i < QUERIES_TIMESTAMPS; i++)
      ordered &= (ts[i] & mask) >= (ts[i - 1] & mask);
   vkt_check(ctx, ordered, "timestamps out of order: %" PRIu64 " %" PRIu64 " %" PRIu64,
             ts[0], ts[1], ts[2]);

   uint64_t avail[QUERIES_TIMESTAMPS * 2];
   const VkResult r = vkGetQueryPoolResults(t->dev, t->timestamps, 0, QUERIES_TIMESTAMPS,
                                            sizeof(avail), avail, 2 * sizeof(uint64_t),
                                            VK_QUERY_RESULT_WITH_AVAILABILITY_BIT |
                                               VK_QUERY_RESULT_64_BIT);
   vkt_check(ctx, r == VK_SUCCESS, "timestamps with availability: %s",
             vkt_result_string(r));
   vkt_buffer_invalidate(ctx, copied);
   const uint64_t *copy = copied->map;
   for (uint32_t i = 0; i < QUERIES_TIMESTAMPS; i++) {
      vkt_check(ctx, avail[2 * i] == ts[i] && avail[2 * i + 1] == 1,
                "timestamp %u with availability differs", i);
      vkt_check(ctx, copy[i] == ts[i], "copied timestamp %u differs", i);
   }
   vkt_print_u64("queries_timestamps_ordered", "bool", ordered);
}

#define QUERIES_VIEWS 2u

/* The sum over the views of the small quad's samples. */
static void
queries_multiview_check(struct queries_test *t, const uint64_t *values)
{
   struct vkt_context *ctx = t->ctx;
   uint64_t sum = 0;
   for (uint32_t v = 0; v < QUERIES_VIEWS; v++) {
      sum += values[2 * v];
      vkt_check(ctx, values[2 * v + 1] == 1, "multiview occlusion query %u not available", v);
   }
   const uint64_t want = (uint64_t)QUERIES_VIEWS * 32 * 16;
   vkt_check(ctx, t->precise ? sum == want : sum > 0,
             "multiview occlusion: %" PRIu64 " samples over %u views, want %" PRIu64, sum,
             QUERIES_VIEWS, want);
   vkt_print_u64("queries_multiview_occlusion", t->precise ? "samples" : "nonzero",
                 t->precise ? sum : sum != 0);
}

/* An occlusion query around the small quad and a timestamp, both inside a
 * render pass whose subpass renders QUERIES_VIEWS views. */
/* Timestamps 0-3 written, then some of them reset again and not written:
 * a reset in a second command buffer of the same submission (2 and 3), and
 * a reset inside the written range of one command buffer followed by a new
 * timestamp in part of it (1 and 2 reset, 2 written again). The submission
 * must complete (a copy that waited for the reset queries would never end),
 * and exactly the queries written last must be available. Prints the
 * availability of the four queries, query 0 first. */
static void
queries_reset_after_end(struct queries_test *t)
{
   struct vkt_context *ctx = t->ctx;
   VkQueryPool pool = queries_pool_create(t, VK_QUERY_TYPE_TIMESTAMP, 4);
   VkFence fence;
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VKT_CALL(vkCreateFence(t->dev, &fence_info, NULL, &fence));
   static const char *const names[2] = { "queries_reset_in_later_cmd",
                                         "queries_reset_inside_written" };
   for (uint32_t round = 0; round < 2; round++) {
      VkCommandBuffer cmds[2];
      uint32_t cmd_count = 0;
      cmds[cmd_count++] = vkt_cmd_begin(ctx);
      vkCmdResetQueryPool(cmds[0], pool, 0, 4);
      for (uint32_t q = 0; q < 4; q++)
         vkCmdWriteTimestamp(cmds[0], VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, q);
      if (round == 0) {
         VKT_CALL(vkEndCommandBuffer(cmds[0]));
         cmds[cmd_count++] = vkt_cmd_begin(ctx);
         vkCmdResetQueryPool(cmds[1], pool, 2, 2);
      } else {
         vkCmdResetQueryPool(cmds[0], pool, 1, 2);
         vkCmdWriteTimestamp(cmds[0], VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, 2);
      }
      VKT_CALL(vkEndCommandBuffer(cmds[cmd_count - 1]));
      const VkSubmitInfo submit = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
         .commandBufferCount = cmd_count,
         .pCommandBuffers = cmds,
      };
      VKT_CALL(vkQueueSubmit(ctx->queue, 1, &submit, fence));
      const VkResult w = vkWaitForFences(t->dev, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000);
      vkt_check(ctx, w == VK_SUCCESS, "%s: the submission did not complete: %s", names[round],
                vkt_result_string(w));
      if (w != VK_SUCCESS)
         break; /* a hung queue: the checks above have failed the program */
      VKT_CALL(vkResetFences(t->dev, 1, &fence));
      uint64_t values[8];
      const VkResult r =
         vkGetQueryPoolResults(t->dev, pool, 0, 4, sizeof(values), values, 2 * sizeof(uint64_t),
                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
      vkt_check(ctx, r == VK_NOT_READY, "%s: %s, want VK_NOT_READY", names[round],
                vkt_result_string(r));
      uint64_t avail = 0;
      for (uint32_t q = 0; q < 4; q++)
         avail = avail * 10 + (values[2 * q + 1] != 0);
      vkt_print_u64(names[round], "available", avail);
      const uint64_t want = round == 0 ? 1100 : 1011;
      vkt_check(ctx, avail == want, "%s: availability %04" PRIu64 ", want %04" PRIu64,
                names[round], avail, want);
      vkFreeCommandBuffers(t->dev, ctx->cmd_pool, cmd_count, cmds);
   }
   vkDestroyFence(t->dev, fence, NULL);
   vkDestroyQueryPool(t->dev, pool, NULL);
}

static void
queries_multiview(struct queries_test *t, VkPipelineLayout layout, VkShaderModule vert,
                  VkShaderModule frag)
{
   struct vkt_context *ctx = t->ctx;
   const VkImageCreateInfo image_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .extent = { QUERIES_SIZE, QUERIES_SIZE, 1 },
      .mipLevels = 1,
      .arrayLayers = QUERIES_VIEWS,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VkImage image;
   VKT_CALL(vkCreateImage(t->dev, &image_info, NULL, &image));
   VkMemoryRequirements reqs;
   vkGetImageMemoryRequirements(t->dev, image, &reqs);
   const VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex =
         vkt_memory_type(ctx, reqs.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT),
   };
   VkDeviceMemory memory;
   VKT_CALL(vkAllocateMemory(t->dev, &alloc, NULL, &memory));
   VKT_CALL(vkBindImageMemory(t->dev, image, memory, 0));
   const VkImageViewCreateInfo view_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
      .image = image,
      .viewType = VK_IMAGE_VIEW_TYPE_2D_ARRAY,
      .format = image_info.format,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, QUERIES_VIEWS },
   };
   VkImageView view;
   VKT_CALL(vkCreateImageView(t->dev, &view_info, NULL, &view));

   const VkAttachmentDescription attachment = {
      .format = image_info.format,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
      .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
      .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
      .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
      .finalLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
   };
   const VkAttachmentReference color_ref = { 0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   const VkSubpassDescription subpass = {
      .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
      .colorAttachmentCount = 1,
      .pColorAttachments = &color_ref,
   };
   const uint32_t view_mask = (1u << QUERIES_VIEWS) - 1;
   const VkRenderPassMultiviewCreateInfo multiview = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_MULTIVIEW_CREATE_INFO,
      .subpassCount = 1,
      .pViewMasks = &view_mask,
   };
   const VkRenderPassCreateInfo pass_info = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
      .pNext = &multiview,
      .attachmentCount = 1,
      .pAttachments = &attachment,
      .subpassCount = 1,
      .pSubpasses = &subpass,
   };
   VkRenderPass pass;
   VKT_CALL(vkCreateRenderPass(t->dev, &pass_info, NULL, &pass));
   const VkFramebufferCreateInfo fb_info = {
      .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
      .renderPass = pass,
      .attachmentCount = 1,
      .pAttachments = &view,
      .width = QUERIES_SIZE,
      .height = QUERIES_SIZE,
      .layers = 1,
   };
   VkFramebuffer framebuffer;
   VKT_CALL(vkCreateFramebuffer(t->dev, &fb_info, NULL, &framebuffer));
   const struct vkt_graphics_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .render_pass = pass,
      .width = QUERIES_SIZE,
      .height = QUERIES_SIZE,
   };
   VkPipeline pipeline = vkt_graphics_pipeline_create(ctx, &desc);

   VkQueryPool occlusion = queries_pool_create(t, VK_QUERY_TYPE_OCCLUSION, QUERIES_VIEWS);
   VkQueryPool timestamps =
      t->has_timestamps ? queries_pool_create(t, VK_QUERY_TYPE_TIMESTAMP, QUERIES_VIEWS)
                        : VK_NULL_HANDLE;
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdResetQueryPool(cmd, occlusion, 0, QUERIES_VIEWS);
   if (timestamps)
      vkCmdResetQueryPool(cmd, timestamps, 0, QUERIES_VIEWS);
   const VkClearValue clear = { .color = { .float32 = { 0.0f, 0.0f, 0.0f, 1.0f } } };
   const VkRenderPassBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = pass,
      .framebuffer = framebuffer,
      .renderArea = { { 0, 0 }, { QUERIES_SIZE, QUERIES_SIZE } },
      .clearValueCount = 1,
      .pClearValues = &clear,
   };
   vkCmdBeginRenderPass(cmd, &begin, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   queries_draw(cmd, layout, &queries_small, occlusion, 0,
                t->precise ? VK_QUERY_CONTROL_PRECISE_BIT : 0);
   if (timestamps)
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps, 0);
   vkCmdEndRenderPass(cmd);
   vkt_cmd_submit_wait(ctx, cmd);

   /* The views' counts may be spread over the queries in any way; their sum
    * is the total. lavapipe 22.3 leaves the second view's query unavailable
    * and answers VK_NOT_READY even with WAIT (against the spec): that result
    * is printed, so that both stacks must give the same, and a wait that
    * never ends fails the test by its timeout. */
   uint64_t values[QUERIES_VIEWS * 2];
   const VkResult r = vkGetQueryPoolResults(t->dev, occlusion, 0, QUERIES_VIEWS, sizeof(values),
                                            values, 2 * sizeof(uint64_t),
                                            VK_QUERY_RESULT_WAIT_BIT | VK_QUERY_RESULT_64_BIT |
                                               VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
   printf("queries_multiview_wait result %s\n", vkt_result_string(r));
   vkt_check(ctx, r == VK_SUCCESS || r == VK_NOT_READY, "multiview occlusion results: %s",
             vkt_result_string(r));
   if (r == VK_NOT_READY)
      fprintf(stderr, "queries: the host left a multiview query unavailable after WAIT\n");
   else
      queries_multiview_check(t, values);
   if (timestamps) {
      uint64_t ts[QUERIES_VIEWS * 2];
      const VkResult rt = vkGetQueryPoolResults(
         t->dev, timestamps, 0, QUERIES_VIEWS, sizeof(ts), ts, 2 * sizeof(uint64_t),
         VK_QUERY_RESULT_WAIT_BIT | VK_QUERY_RESULT_64_BIT |
            VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
      printf("queries_multiview_timestamps result %s\n", vkt_result_string(rt));
      for (uint32_t v = 0; v < QUERIES_VIEWS && rt == VK_SUCCESS; v++)
         vkt_check(ctx, ts[2 * v + 1] == 1, "multiview timestamp %u not available", v);
   }

   if (timestamps)
      vkDestroyQueryPool(t->dev, timestamps, NULL);
   vkDestroyQueryPool(t->dev, occlusion, NULL);
   vkDestroyPipeline(t->dev, pipeline, NULL);
   vkDestroyFramebuffer(t->dev, framebuffer, NULL);
   vkDestroyRenderPass(t->dev, pass, NULL);
   vkDestroyImageView(t->dev, view, NULL);
   vkDestroyImage(t->dev, image, NULL);
   vkFreeMemory(t->dev, memory, NULL);
}

#define QUERIES_FRAMES 40u

/* One frame: resets, a timestamp, the small quad inside an occlusion query
 * (query 0 of `occlusion`), a timestamp (queries 0 and 1 of `timestamps`). */
static VkCommandBuffer
queries_frame_record(struct queries_test *t,
                     const struct queries_scene *scene,
                     VkQueryPool occlusion,
                     VkQueryPool timestamps)
{
   VkCommandBuffer cmd = vkt_cmd_begin(t->ctx);
   vkCmdResetQueryPool(cmd, occlusion, 0, 1);
   vkCmdResetQueryPool(cmd, timestamps, 0, 2);
   vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, timestamps, 0);
   queries_begin_scene(cmd, scene);
   queries_draw(cmd, scene->layout, &queries_small, occlusion, 0,
                t->precise ? VK_QUERY_CONTROL_PRECISE_BIT : 0);
   vkCmdEndRenderPass(cmd);
   vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps, 1);
   VKT_CALL(vkEndCommandBuffer(cmd));
   return cmd;
}

/* Whether a frame's results read back right: the small quad's samples, the
 * timestamps in order. */
static bool
queries_frame_check(struct queries_test *t,
                    VkQueryPool occlusion,
                    VkQueryPool timestamps,
                    VkQueryResultFlags flags,
                    const char *how)
{
   struct vkt_context *ctx = t->ctx;
   uint64_t samples = UINT64_MAX, ts[2] = { 0, 0 };
   const VkResult ro = vkGetQueryPoolResults(t->dev, occlusion, 0, 1, sizeof(samples), &samples,
                                             sizeof(samples), VK_QUERY_RESULT_64_BIT | flags);
   const VkResult rt = vkGetQueryPoolResults(t->dev, timestamps, 0, 2, sizeof(ts), ts,
                                             sizeof(ts[0]), VK_QUERY_RESULT_64_BIT | flags);
   const uint32_t bits = ctx->queue_families[ctx->queue_family].timestampValidBits;
   const uint64_t mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
   const bool ok = ro == VK_SUCCESS && rt == VK_SUCCESS &&
                   (t->precise ? samples == 32 * 16 : samples != 0) &&
                   ((ts[1] - ts[0]) & mask) < mask / 2;
   vkt_check(ctx, ok, "%s: occlusion %s, %" PRIu64 " samples; timestamps %s, %" PRIu64
             " then %" PRIu64, how, vkt_result_string(ro), samples, vkt_result_string(rt),
             ts[0], ts[1]);
   return ok;
}

struct queries_signal {
   struct vkt_context *ctx;
   VkSemaphore timeline;
};

static int
queries_signal_later(void *data)
{
   const struct queries_signal *s = data;
   thrd_sleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
   const VkSemaphoreSignalInfo signal = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
      .semaphore = s->timeline,
      .value = 1,
   };
   VKT_CALL(vkSignalSemaphore(s->ctx->device, &signal));
   return 0;
}

/* QUERIES_FRAMES frames, each read without WAIT after its fence; then, with
 * timeline semaphores, a frame behind a timeline value another thread
 * signals 50 ms later, read with WAIT at once. */
static void
queries_frames(struct queries_test *t, const struct queries_scene *scene, bool has_timeline)
{
   struct vkt_context *ctx = t->ctx;
   VkQueryPool occlusion = queries_pool_create(t, VK_QUERY_TYPE_OCCLUSION, 1);
   VkQueryPool timestamps = queries_pool_create(t, VK_QUERY_TYPE_TIMESTAMP, 2);
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   VKT_CALL(vkCreateFence(t->dev, &fence_info, NULL, &fence));
   uint32_t right = 0;
   for (uint32_t frame = 0; frame < QUERIES_FRAMES; frame++) {
      VkCommandBuffer cmd = queries_frame_record(t, scene, occlusion, timestamps);
      const VkSubmitInfo submit = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
         .commandBufferCount = 1,
         .pCommandBuffers = &cmd,
      };
      VKT_CALL(vkQueueSubmit(ctx->queue, 1, &submit, fence));
      VKT_CALL(vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX));
      VKT_CALL(vkResetFences(t->dev, 1, &fence));
      right += queries_frame_check(t, occlusion, timestamps, 0, "frame read after its fence");
      vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &cmd);
   }
   vkt_print_u64("queries_frames_read_right", "frames", right);

   if (has_timeline) {
      struct queries_signal signal = {
         .ctx = ctx,
         .timeline = vkt_semaphore_create(ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0),
      };
      VkCommandBuffer cmd = queries_frame_record(t, scene, occlusion, timestamps);
      const uint64_t one = 1;
      const VkTimelineSemaphoreSubmitInfo values = {
         .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
         .waitSemaphoreValueCount = 1,
         .pWaitSemaphoreValues = &one,
      };
      const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
      const VkSubmitInfo submit = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
         .pNext = &values,
         .waitSemaphoreCount = 1,
         .pWaitSemaphores = &signal.timeline,
         .pWaitDstStageMask = &stage,
         .commandBufferCount = 1,
         .pCommandBuffers = &cmd,
      };
      VKT_CALL(vkQueueSubmit(ctx->queue, 1, &submit, fence));
      thrd_t thread;
      if (thrd_create(&thread, queries_signal_later, &signal) != thrd_success)
         vkt_die("queries: thrd_create failed");
      const bool ok = queries_frame_check(t, occlusion, timestamps, VK_QUERY_RESULT_WAIT_BIT,
                                          "WAIT for a frame behind a later host signal");
      thrd_join(thread, NULL);
      vkt_print_u64("queries_wait_before_signal_right", "bool", ok);
      VKT_CALL(vkWaitForFences(t->dev, 1, &fence, VK_TRUE, UINT64_MAX));
      vkFreeCommandBuffers(t->dev, ctx->cmd_pool, 1, &cmd);
      vkDestroySemaphore(t->dev, signal.timeline, NULL);
   } else {
      fprintf(stderr, "queries: no timeline semaphores, no WAIT behind a host signal\n");
   }
   vkDestroyFence(t->dev, fence, NULL);
   vkDestroyQueryPool(t->dev, timestamps, NULL);
   vkDestroyQueryPool(t->dev, occlusion, NULL);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "queries");
   const VkPhysicalDeviceFeatures features = {
      .occlusionQueryPrecise = ctx.features.occlusionQueryPrecise,
   };
   VkPhysicalDeviceMultiviewFeatures multiview = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MULTIVIEW_FEATURES,
   };
   VkPhysicalDeviceFeatures2 features2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &multiview,
   };
   vkGetPhysicalDeviceFeatures2(ctx.physical_device, &features2);
   const bool has_multiview = multiview.multiview &&
                              ctx.props.limits.maxFramebufferLayers >= QUERIES_VIEWS;
   VkPhysicalDeviceSynchronization2Features sync2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SYNCHRONIZATION_2_FEATURES,
   };
   if (ctx.props.apiVersion >= VK_API_VERSION_1_3) {
      VkPhysicalDeviceFeatures2 query = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
         .pNext = &sync2,
      };
      vkGetPhysicalDeviceFeatures2(ctx.physical_device, &query);
   }
   const bool has_submit2 = sync2.synchronization2;
   const VkPhysicalDeviceSynchronization2Features enable_sync2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SYNCHRONIZATION_2_FEATURES,
      .synchronization2 = VK_TRUE,
   };
   const VkPhysicalDeviceMultiviewFeatures enable_multiview = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MULTIVIEW_FEATURES,
      .pNext = has_submit2 ? (void *)&enable_sync2 : NULL,
      .multiview = has_multiview,
   };
   const void *next = has_multiview ? (const void *)&enable_multiview
                                    : has_submit2 ? (const void *)&enable_sync2 : NULL;
   VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
   };
   if (ctx.props.apiVersion >= VK_API_VERSION_1_2) {
      VkPhysicalDeviceFeatures2 query = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
         .pNext = &timeline,
      };
      vkGetPhysicalDeviceFeatures2(ctx.physical_device, &query);
   }
   const bool has_timeline = timeline.timelineSemaphore;
   const VkPhysicalDeviceTimelineSemaphoreFeatures enable_timeline = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
      .pNext = (void *)next,
      .timelineSemaphore = VK_TRUE,
   };
   if (has_timeline)
      next = &enable_timeline;
   const struct vkt_device_info info = {
      .next = next,
      .enabled_features = &features,
   };
   vkt_device_init(&ctx, &info);
   VkDevice dev = ctx.device;

   struct queries_test t = {
      .ctx = &ctx,
      .dev = dev,
      .precise = features.occlusionQueryPrecise,
      .has_timestamps = ctx.queue_families[ctx.queue_family].timestampValidBits > 0,
   };
   fprintf(stderr, "queries: occlusionQueryPrecise %d, timestampValidBits %u\n",
           t.precise, ctx.queue_families[ctx.queue_family].timestampValidBits);
   t.occlusion = queries_pool_create(&t, VK_QUERY_TYPE_OCCLUSION, QUERIES_OCCLUSION);
   t.timestamps = queries_pool_create(&t, VK_QUERY_TYPE_TIMESTAMP, QUERIES_TIMESTAMPS);

   struct vkt_image color, depth;
   vkt_image_create(&ctx, VK_FORMAT_R8G8B8A8_UNORM, QUERIES_SIZE, QUERIES_SIZE,
                    VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                    &color);
   vkt_image_create(&ctx, VK_FORMAT_D32_SFLOAT, QUERIES_SIZE, QUERIES_SIZE,
                    VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, &depth);
   struct vkt_buffer occ_copy, ts_copy, scratch;
   vkt_buffer_create(&ctx, QUERIES_OCCLUSION * 2 * sizeof(uint64_t),
                     VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &occ_copy);
   vkt_buffer_create(&ctx, QUERIES_TIMESTAMPS * sizeof(uint64_t),
                     VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &ts_copy);
   vkt_buffer_create(&ctx, QUERIES_FILL_BYTES, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_DEVICE, &scratch);

   VkRenderPass render_pass =
      vkt_render_pass_create(&ctx, VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_D32_SFLOAT);
   VkFramebuffer framebuffer = vkt_framebuffer_create(&ctx, render_pass, &color, &depth);
   const VkPushConstantRange push = { VK_SHADER_STAGE_VERTEX_BIT, 0,
                                      sizeof(struct queries_quad) };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));
   VkShaderModule vert = vkt_shader_load(&ctx, "queries.vert.spv");
   VkShaderModule frag = vkt_shader_load(&ctx, "queries.frag.spv");
   const struct vkt_graphics_desc desc = {
      .vert = vert,
      .frag = frag,
      .layout = layout,
      .render_pass = render_pass,
      .width = QUERIES_SIZE,
      .height = QUERIES_SIZE,
      .depth_test = true,
   };
   VkPipeline pipeline = vkt_graphics_pipeline_create(&ctx, &desc);

   /* first submission: occlusion queries and two timestamps around a fill */
   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   vkCmdResetQueryPool(cmd, t.occlusion, 0, QUERIES_OCCLUSION);
   if (t.has_timestamps) {
      vkCmdResetQueryPool(cmd, t.timestamps, 0, QUERIES_TIMESTAMPS);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, t.timestamps, 0);
      vkCmdFillBuffer(cmd, scratch.buffer, 0, QUERIES_FILL_BYTES, 0x5a5a5a5a);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, t.timestamps, 1);
   }
   const struct queries_scene scene = { render_pass, framebuffer, pipeline, layout };
   static const struct queries_quad *const quads[QUERIES_RAN] = {
      NULL, &queries_small, &queries_hidden, &queries_full,
   };
   queries_record_draws(&t, cmd, &scene, quads);
   /* The queries that ran are copied with WAIT: without it one the GPU has
    * not finished is copied as unavailable (NVIDIA does), and the checks
    * below require the values. The never-begun one must not be waited for. */
   vkCmdCopyQueryPoolResults(
      cmd, t.occlusion, 0, QUERIES_RAN, occ_copy.buffer, 0, 2 * sizeof(uint64_t),
      VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT | VK_QUERY_RESULT_WAIT_BIT);
   vkCmdCopyQueryPoolResults(
      cmd, t.occlusion, QUERIES_RAN, QUERIES_OCCLUSION - QUERIES_RAN, occ_copy.buffer,
      2 * sizeof(uint64_t) * QUERIES_RAN, 2 * sizeof(uint64_t),
      VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   VKT_CALL(vkEndCommandBuffer(cmd));
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   VKT_CALL(vkQueueSubmit(ctx.queue, 1, &submit, VK_NULL_HANDLE));

   /* without WAIT the results may or may not be ready yet: either is valid */
   uint64_t early[QUERIES_RAN];
   VkResult r = vkGetQueryPoolResults(dev, t.occlusion, 0, QUERIES_RAN, sizeof(early),
                                      early, sizeof(uint64_t), VK_QUERY_RESULT_64_BIT);
   vkt_check(&ctx, r == VK_SUCCESS || r == VK_NOT_READY, "early results: %s",
             vkt_result_string(r));
   if (r == VK_SUCCESS)
      queries_check_occlusion(&t, "early", early);
   VKT_CALL(vkQueueWaitIdle(ctx.queue));
   vkFreeCommandBuffers(dev, ctx.cmd_pool, 1, &cmd);
   queries_read_occlusion(&t, &occ_copy);

   /* second submission: a third timestamp, copied out with WAIT */
   if (t.has_timestamps) {
      cmd = vkt_cmd_begin(&ctx);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, t.timestamps, 2);
      vkCmdCopyQueryPoolResults(cmd, t.timestamps, 0, QUERIES_TIMESTAMPS, ts_copy.buffer,
                                0, sizeof(uint64_t),
                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
      vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                             VK_ACCESS_HOST_READ_BIT);
      vkt_cmd_submit_wait(&ctx, cmd);
      queries_read_timestamps(&t, &ts_copy);
   } else {
      vkt_print_u64("queries_timestamps_ordered", "bool", 0);
   }
   if (t.has_timestamps)
      queries_reset_after_end(&t);
   if (has_submit2)
      queries_submit2(&t, &scene);
   else
      fprintf(stderr, "queries: no synchronization2, vkQueueSubmit2 not run\n");
   if (t.has_timestamps)
      queries_frames(&t, &scene, has_timeline);
   else
      fprintf(stderr, "queries: no timestamps, no frames\n");
   if (has_multiview)
      queries_multiview(&t, layout, vert, frag);
   else
      fprintf(stderr, "queries: no multiview, its queries not run\n");

   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, frag, NULL);
   vkDestroyShaderModule(dev, vert, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyFramebuffer(dev, framebuffer, NULL);
   vkDestroyRenderPass(dev, render_pass, NULL);
   vkt_buffer_destroy(&ctx, &scratch);
   vkt_buffer_destroy(&ctx, &ts_copy);
   vkt_buffer_destroy(&ctx, &occ_copy);
   vkt_image_destroy(&ctx, &depth);
   vkt_image_destroy(&ctx, &color);
   vkDestroyQueryPool(dev, t.timestamps, NULL);
   vkDestroyQueryPool(dev, t.occlusion, NULL);
   return vkt_finish(&ctx);
}
