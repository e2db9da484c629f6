/*
 * sparse: sparse binding (vkQueueBindSparse) over memory that two resources
 * share, as the CTS's sparse_resources.image_sparse_memory_aliasing does.
 *
 * Buffers: two sparse buffers of four blocks each are bound to one memory
 * object, the first in order, the second in reverse order (block i of the
 * second at memory block 3 - i); each block of the first is filled with its
 * own value and an update through the second changes memory block 3. Both
 * buffers are copied to a host-visible buffer and every word is checked: a
 * write through one binding must be seen through the other.
 *
 * Images: two sparse 2D images created identically with
 * VK_IMAGE_CREATE_ALIAS_BIT are bound block by block (opaque binds, the
 * memory at an offset) to the same memory; the first is cleared to a color,
 * the second copied out and every pixel checked. Then the second is cleared
 * and the first read back.
 *
 * Timeline signals of a binding: a binding with nothing to bind signals a
 * timeline semaphore, waited for with vkWaitSemaphores; a second one's
 * value is polled with vkGetSemaphoreCounterValue (where timelineSemaphore is
 * supported).
 *
 * Exit 77 where the device lacks sparseBinding or a queue family with both
 * graphics/compute and sparse binding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

#define SP_BLOCKS 4u
#define SP_IMAGE_SIZE 64u

struct sp_buffer {
   VkBuffer buffer;
   VkMemoryRequirements reqs;
};

static void
sp_buffer_create(struct vkt_context *ctx, VkDeviceSize size, struct sp_buffer *out)
{
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .flags = VK_BUFFER_CREATE_SPARSE_BINDING_BIT,
      .size = size,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VKT_CALL(vkCreateBuffer(ctx->device, &info, NULL, &out->buffer));
   vkGetBufferMemoryRequirements(ctx->device, out->buffer, &out->reqs);
}

static void
sp_image_create(struct vkt_context *ctx, VkImage *image, VkMemoryRequirements *reqs)
{
   const VkImageCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .flags = VK_IMAGE_CREATE_SPARSE_BINDING_BIT | VK_IMAGE_CREATE_ALIAS_BIT,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .extent = { SP_IMAGE_SIZE, SP_IMAGE_SIZE, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VKT_CALL(vkCreateImage(ctx->device, &info, NULL, image));
   vkGetImageMemoryRequirements(ctx->device, *image, reqs);
}

static void
sp_bind_wait(struct vkt_context *ctx, const VkBindSparseInfo *info)
{
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   VKT_CALL(vkCreateFence(ctx->device, &fence_info, NULL, &fence));
   VKT_CALL(vkQueueBindSparse(ctx->queue, 1, info, fence));
   VKT_CALL(vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, UINT64_MAX));
   vkDestroyFence(ctx->device, fence, NULL);
}

static VkDeviceMemory
sp_memory_alloc(struct vkt_context *ctx, VkDeviceSize size, uint32_t type_bits)
{
   const uint32_t type = vkt_memory_type(ctx, type_bits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("sparse: no memory type for bits 0x%x", type_bits);
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = size,
      .memoryTypeIndex = type,
   };
   VkDeviceMemory mem;
   VKT_CALL(vkAllocateMemory(ctx->device, &info, NULL, &mem));
   return mem;
}

static uint32_t
sp_block_value(uint32_t block)
{
   return 0x01010101u * (block + 1u) ^ 0xa5000000u;
}

/* Two buffers over one memory, the second in reverse block order. */
static void
sp_test_buffers(struct vkt_context *ctx, uint64_t *digest)
{
   struct sp_buffer probe;
   sp_buffer_create(ctx, 1, &probe);
   const VkDeviceSize block = probe.reqs.alignment;
   vkDestroyBuffer(ctx->device, probe.buffer, NULL);
   const VkDeviceSize size = block * SP_BLOCKS;

   struct sp_buffer a, b;
   sp_buffer_create(ctx, size, &a);
   sp_buffer_create(ctx, size, &b);
   if (a.reqs.size != size || b.reqs.size != size)
      vkt_die("sparse: buffer of %llu bytes needs %llu", (unsigned long long)size,
              (unsigned long long)a.reqs.size);
   VkDeviceMemory mem = sp_memory_alloc(ctx, size, a.reqs.memoryTypeBits & b.reqs.memoryTypeBits);

   VkSparseMemoryBind binds_a[SP_BLOCKS], binds_b[SP_BLOCKS];
   for (uint32_t i = 0; i < SP_BLOCKS; i++) {
      binds_a[i] = (VkSparseMemoryBind){ .resourceOffset = i * block, .size = block,
                                         .memory = mem, .memoryOffset = i * block };
      binds_b[i] = (VkSparseMemoryBind){ .resourceOffset = i * block, .size = block,
                                         .memory = mem,
                                         .memoryOffset = (SP_BLOCKS - 1 - i) * block };
   }
   const VkSparseBufferMemoryBindInfo buffer_binds[2] = {
      { a.buffer, SP_BLOCKS, binds_a },
      { b.buffer, SP_BLOCKS, binds_b },
   };
   sp_bind_wait(ctx, &(VkBindSparseInfo){
                        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
                        .bufferBindCount = 2,
                        .pBufferBinds = buffer_binds,
                     });

   struct vkt_buffer readback;
   vkt_buffer_create(ctx, 2 * size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &readback);
   memset(readback.map, 0xee, (size_t)(2 * size));
   vkt_buffer_flush(ctx, &readback);

   uint32_t update[16];
   for (uint32_t i = 0; i < 16; i++)
      update[i] = 0x5eed0000u + i;

   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   for (uint32_t i = 0; i < SP_BLOCKS; i++)
      vkCmdFillBuffer(cmd, a.buffer, i * block, block, sp_block_value(i));
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
   /* buffer b's block 0 is memory block 3 */
   vkCmdUpdateBuffer(cmd, b.buffer, 0, sizeof(update), update);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
   vkCmdCopyBuffer(cmd, a.buffer, readback.buffer, 1, &(VkBufferCopy){ 0, 0, size });
   vkCmdCopyBuffer(cmd, b.buffer, readback.buffer, 1, &(VkBufferCopy){ 0, size, size });
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, &readback);

   const uint32_t *words = readback.map;
   const size_t block_words = (size_t)(block / 4);
   uint32_t bad = 0;
   for (uint32_t half = 0; half < 2; half++) {
      for (uint32_t i = 0; i < SP_BLOCKS; i++) {
         /* the memory block behind resource block i */
         const uint32_t mem_block = half == 0 ? i : SP_BLOCKS - 1 - i;
         for (size_t w = 0; w < block_words; w++) {
            uint32_t want = sp_block_value(mem_block);
            if (mem_block == SP_BLOCKS - 1 && w < 16)
               want = update[w];
            const uint32_t got = words[(half * SP_BLOCKS + i) * block_words + w];
            if (got != want && bad++ < 8)
               fprintf(stderr,
                       "sparse: buffer %c block %u word %zu: 0x%08x, expected 0x%08x\n",
                       half == 0 ? 'a' : 'b', i, w, got, want);
         }
      }
   }
   vkt_check(ctx, bad == 0, "%u words wrong through the aliased sparse buffers", bad);
   vkt_print_u64("sparse_buffer_blocks", "count", SP_BLOCKS);
   vkt_print_u64("sparse_buffer_bad_words", "count", bad);
   *digest = vkt_digest_update(*digest, readback.map, (size_t)(2 * size));

   vkt_buffer_destroy(ctx, &readback);
   vkDestroyBuffer(ctx->device, a.buffer, NULL);
   vkDestroyBuffer(ctx->device, b.buffer, NULL);
   vkFreeMemory(ctx->device, mem, NULL);
}

static void
sp_image_barrier(VkCommandBuffer cmd,
                 VkImage image,
                 VkImageLayout old_layout,
                 VkImageLayout new_layout,
                 VkAccessFlags src,
                 VkAccessFlags dst)
{
   const VkImageMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = src,
      .dstAccessMask = dst,
      .oldLayout = old_layout,
      .newLayout = new_layout,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = image,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                        0, NULL, 0, NULL, 1, &barrier);
}

/* Clears `dst` to color, copies `src` (aliasing it) into readback. */
static uint32_t
sp_image_round(struct vkt_context *ctx,
               VkImage dst,
               VkImage src,
               const struct vkt_buffer *readback,
               const float color[4],
               uint32_t want,
               char name)
{
   memset(readback->map, 0xee, (size_t)readback->size);
   vkt_buffer_flush(ctx, readback);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   /* the alias's contents are those of the memory: no layout discards them
    * after the first round (both go back to GENERAL) */
   sp_image_barrier(cmd, dst, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL, 0,
                    VK_ACCESS_TRANSFER_WRITE_BIT);
   VkClearColorValue clear;
   memcpy(clear.float32, color, sizeof(clear.float32));
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   vkCmdClearColorImage(cmd, dst, VK_IMAGE_LAYOUT_GENERAL, &clear, 1, &range);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
   const VkBufferImageCopy copy = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { SP_IMAGE_SIZE, SP_IMAGE_SIZE, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, src, VK_IMAGE_LAYOUT_GENERAL, readback->buffer, 1, &copy);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, readback);

   const uint32_t *px = readback->map;
   uint32_t bad = 0;
   for (uint32_t i = 0; i < SP_IMAGE_SIZE * SP_IMAGE_SIZE; i++) {
      if (px[i] != want && bad++ < 8)
         fprintf(stderr, "sparse: image %c pixel %u: 0x%08x, expected 0x%08x\n", name, i,
                 px[i], want);
   }
   return bad;
}

/* Two identical ALIAS images bound block by block to one memory, at an
 * offset of one block into it. */
static void
sp_test_images(struct vkt_context *ctx, uint64_t *digest)
{
   VkImage a, b;
   VkMemoryRequirements reqs_a, reqs_b;
   sp_image_create(ctx, &a, &reqs_a);
   sp_image_create(ctx, &b, &reqs_b);
   const VkDeviceSize block = reqs_a.alignment;
   const VkDeviceSize size = reqs_a.size;
   const uint32_t blocks = (uint32_t)((size + block - 1) / block);
   VkDeviceMemory mem = sp_memory_alloc(ctx, (blocks + 1) * block,
                                        reqs_a.memoryTypeBits & reqs_b.memoryTypeBits);

   VkSparseMemoryBind *binds = calloc(blocks, sizeof(*binds));
   if (!binds)
      vkt_die("sparse: out of memory");
   for (uint32_t i = 0; i < blocks; i++) {
      const VkDeviceSize off = i * block;
      binds[i] = (VkSparseMemoryBind){ .resourceOffset = off,
                                       .size = off + block <= size ? block : size - off,
                                       .memory = mem, .memoryOffset = block + off };
   }
   const VkSparseImageOpaqueMemoryBindInfo opaque[2] = {
      { a, blocks, binds },
      { b, blocks, binds },
   };
   sp_bind_wait(ctx, &(VkBindSparseInfo){
                        .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
                        .imageOpaqueBindCount = 2,
                        .pImageOpaqueBinds = opaque,
                     });
   free(binds);

   struct vkt_buffer readback;
   vkt_buffer_create(ctx, SP_IMAGE_SIZE * SP_IMAGE_SIZE * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_READBACK, &readback);
   const float red[4] = { 1.0f, 0.0f, 0.0f, 1.0f };
   const float green[4] = { 0.0f, 1.0f, 0.0f, 1.0f };
   /* the copy's layout is GENERAL only after the first round's barrier on
    * the other image: make both GENERAL before reading an alias */
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   sp_image_barrier(cmd, b, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL, 0, 0);
   vkt_cmd_submit_wait(ctx, cmd);
   uint32_t bad = sp_image_round(ctx, a, b, &readback, red, 0xff0000ffu, 'b');
   *digest = vkt_digest_update(*digest, readback.map, (size_t)readback.size);
   bad += sp_image_round(ctx, b, a, &readback, green, 0xff00ff00u, 'a');
   *digest = vkt_digest_update(*digest, readback.map, (size_t)readback.size);
   vkt_check(ctx, bad == 0, "%u pixels wrong through the aliased sparse images", bad);
   vkt_print_u64("sparse_image_blocks", "count", blocks);
   vkt_print_u64("sparse_image_bad_pixels", "count", bad);

   vkt_buffer_destroy(ctx, &readback);
   vkDestroyImage(ctx->device, a, NULL);
   vkDestroyImage(ctx->device, b, NULL);
   vkFreeMemory(ctx->device, mem, NULL);
}

/* a binding of nothing that signals `timeline` to `value` */
static void
sp_bind_signal(struct vkt_context *ctx, VkSemaphore timeline, uint64_t value)
{
   const VkTimelineSemaphoreSubmitInfo values = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .signalSemaphoreValueCount = 1,
      .pSignalSemaphoreValues = &value,
   };
   const VkBindSparseInfo info = {
      .sType = VK_STRUCTURE_TYPE_BIND_SPARSE_INFO,
      .pNext = &values,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &timeline,
   };
   VKT_CALL(vkQueueBindSparse(ctx->queue, 1, &info, VK_NULL_HANDLE));
}

#define SP_POLL_LIMIT_NS (10ull * 1000 * 1000 * 1000)

static void
sp_test_timeline(struct vkt_context *ctx)
{
   VkSemaphore timeline = vkt_semaphore_create(ctx, VK_SEMAPHORE_TYPE_TIMELINE, 0);

   sp_bind_signal(ctx, timeline, 7);
   const uint64_t seven = 7;
   const VkSemaphoreWaitInfo wait = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
      .semaphoreCount = 1,
      .pSemaphores = &timeline,
      .pValues = &seven,
   };
   const VkResult r = vkWaitSemaphores(ctx->device, &wait, SP_POLL_LIMIT_NS);
   vkt_check(ctx, r == VK_SUCCESS, "wait for a binding's timeline signal: %s",
             vkt_result_string(r));

   sp_bind_signal(ctx, timeline, 9);
   const uint64_t start = vkt_now_ns();
   uint64_t value = 0;
   do {
      VKT_CALL(vkGetSemaphoreCounterValue(ctx->device, timeline, &value));
   } while (value < 9 && vkt_now_ns() - start < SP_POLL_LIMIT_NS);
   vkt_check(ctx, value == 9, "timeline after a binding signalled 9: %llu",
             (unsigned long long)value);
   vkt_print_u64("sparse_timeline", "value", value);
   vkDestroySemaphore(ctx->device, timeline, NULL);
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "sparse");
   if (!ctx.features.sparseBinding) {
      fprintf(stderr, "sparse: no sparseBinding: skipped\n");
      return 77;
   }
   const VkPhysicalDeviceFeatures features = { .sparseBinding = VK_TRUE };
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
   vkt_device_init(&ctx, &(struct vkt_device_info){
                            .next = has_timeline ? &timeline : NULL,
                            .enabled_features = &features,
                         });
   if (!(ctx.queue_families[ctx.queue_family].queueFlags & VK_QUEUE_SPARSE_BINDING_BIT)) {
      fprintf(stderr, "sparse: the graphics/compute queue has no sparse binding: skipped\n");
      vkt_finish(&ctx);
      return 77;
   }
   uint64_t digest = VKT_DIGEST_INIT;
   sp_test_buffers(&ctx, &digest);
   sp_test_images(&ctx, &digest);
   vkt_print_hex("sparse_digest", digest);
   if (has_timeline)
      sp_test_timeline(&ctx);
   else
      fprintf(stderr, "sparse: no timelineSemaphore: its binding signals not run\n");
   return vkt_finish(&ctx);
}
