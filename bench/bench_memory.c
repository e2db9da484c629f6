/*
 * Memory bandwidth seen by the application.
 *
 * mapping: memcpy into and out of a mapped host-visible buffer (cached type
 * preferred), with flush/invalidate around it (no-ops on coherent memory). The
 * first write, which may fault pages in, is reported separately from the steady
 * state; mapping_alloc_first_write times a fresh allocation of the same type
 * whole: vkAllocateMemory + vkMapMemory + the first write (where a mapping
 * comes filled in, its cost moves from the write into the map). The data read
 * back must equal what was written.
 *
 * staging: the usual upload path: memcpy into a mapped staging buffer, then a
 * vkCmdCopyBuffer into a device-local buffer, submit and wait. staging_upload
 * covers both steps, staging_copy only the submitted copy. The device buffer is
 * read back at the end and compared with the last upload.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define BENCH_MAX_REPS 8u
#define BENCH_MIB (1024u * 1024u)

static uint8_t *
bench_host_alloc(size_t size)
{
   uint8_t *data = malloc(size);
   if (!data)
      vkt_die("vkbench: cannot allocate %zu bytes", size);
   memset(data, 0, size); /* fault the pages in before timing */
   return data;
}

static void
bench_fill_pattern(uint8_t *data, size_t size, uint32_t seed)
{
   uint32_t *words = (uint32_t *)data;
   for (size_t i = 0; i < size / 4; i++)
      words[i] = (uint32_t)i * 2654435761u + seed;
}

static double
bench_gbps(size_t bytes, uint64_t ns)
{
   return (double)bytes / (double)ns; /* bytes per ns = GB/s */
}

void
bench_run_mapping(struct bench *b)
{
   const size_t size = (size_t)bench_count(b, 256, 16) * BENCH_MIB;
   const uint32_t reps = bench_count(b, 7, 3);
   struct vkt_buffer buf;
   vkt_buffer_create(&b->ctx, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_READBACK,
                     &buf);
   uint8_t *src = bench_host_alloc(size);
   uint8_t *dst = bench_host_alloc(size);
   bench_fill_pattern(src, size, 1);

   uint64_t start = vkt_now_ns();
   memcpy(buf.map, src, size);
   vkt_buffer_flush(&b->ctx, &buf);
   const double first = bench_gbps(size, vkt_now_ns() - start);

   /* a fresh allocation of the same type: allocate, map and write it once */
   start = vkt_now_ns();
   const VkMemoryAllocateInfo alloc_info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = size,
      .memoryTypeIndex = buf.memory_type,
   };
   VkDeviceMemory fresh;
   VKT_CALL(vkAllocateMemory(b->ctx.device, &alloc_info, NULL, &fresh));
   void *fresh_map;
   VKT_CALL(vkMapMemory(b->ctx.device, fresh, 0, VK_WHOLE_SIZE, 0, &fresh_map));
   memcpy(fresh_map, src, size);
   if (!buf.is_coherent) {
      const VkMappedMemoryRange range = {
         .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
         .memory = fresh,
         .size = VK_WHOLE_SIZE,
      };
      VKT_CALL(vkFlushMappedMemoryRanges(b->ctx.device, 1, &range));
   }
   const double alloc_first = bench_gbps(size, vkt_now_ns() - start);
   const bool fresh_ok = !memcmp(fresh_map, src, size);
   vkUnmapMemory(b->ctx.device, fresh);
   vkFreeMemory(b->ctx.device, fresh, NULL);
   vkt_check(&b->ctx, fresh_ok, "mapping: a fresh allocation reads back differently");

   double writes[BENCH_MAX_REPS], reads[BENCH_MAX_REPS];
   uint32_t bad = 0;
   for (uint32_t rep = 0; rep < reps; rep++) {
      start = vkt_now_ns();
      memcpy(buf.map, src, size);
      vkt_buffer_flush(&b->ctx, &buf);
      writes[rep] = bench_gbps(size, vkt_now_ns() - start);

      start = vkt_now_ns();
      vkt_buffer_invalidate(&b->ctx, &buf);
      memcpy(dst, buf.map, size);
      reads[rep] = bench_gbps(size, vkt_now_ns() - start);
      bad += memcmp(dst, src, size) != 0;
   }
   vkt_check(&b->ctx, !bad, "mapping: data read back differs %u time(s)", bad);
   bench_report("mapping_first_write", "GB/s", first);
   bench_report("mapping_alloc_first_write", "GB/s", alloc_first);
   bench_report("mapping_write", "GB/s", bench_median(writes, reps));
   bench_report("mapping_read", "GB/s", bench_median(reads, reps));

   free(dst);
   free(src);
   vkt_buffer_destroy(&b->ctx, &buf);
}

void
bench_run_staging(struct bench *b)
{
   VkDevice dev = b->ctx.device;
   const size_t size = (size_t)bench_count(b, 64, 8) * BENCH_MIB;
   const uint32_t reps = bench_count(b, 7, 3);
   struct vkt_buffer staging, device, readback;
   vkt_buffer_create(&b->ctx, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, VKT_MEM_UPLOAD,
                     &staging);
   vkt_buffer_create(&b->ctx, size,
                     VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_DEVICE, &device);
   vkt_buffer_create(&b->ctx, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                     &readback);
   uint8_t *src = bench_host_alloc(size);

   /* recorded once, submitted once per upload */
   VkCommandBuffer cmd = bench_cmd_alloc(b);
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
   };
   VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
   const VkBufferCopy region = { 0, 0, size };
   vkCmdCopyBuffer(cmd, staging.buffer, device.buffer, 1, &region);
   VKT_CALL(vkEndCommandBuffer(cmd));
   VkFence fence = bench_fence_create(b);

   double uploads[BENCH_MAX_REPS], copies[BENCH_MAX_REPS];
   /* rep 0 warms up and is not counted */
   for (uint32_t rep = 0; rep <= reps; rep++) {
      bench_fill_pattern(src, size, rep + 7); /* new data every time */
      const uint64_t start = vkt_now_ns();
      memcpy(staging.map, src, size);
      vkt_buffer_flush(&b->ctx, &staging);
      const uint64_t copy_ns = bench_submit_wait(b, cmd, fence);
      const uint64_t total_ns = vkt_now_ns() - start;
      if (rep) {
         uploads[rep - 1] = bench_gbps(size, total_ns);
         copies[rep - 1] = bench_gbps(size, copy_ns);
      }
   }

   VkCommandBuffer check = vkt_cmd_begin(&b->ctx);
   vkCmdCopyBuffer(check, device.buffer, readback.buffer, 1, &region);
   vkt_cmd_memory_barrier(check, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&b->ctx, check);
   vkt_buffer_invalidate(&b->ctx, &readback);
   vkt_check(&b->ctx, !memcmp(readback.map, src, size),
             "staging: the device buffer does not hold the last upload");
   bench_report("staging_upload", "GB/s", bench_median(uploads, reps));
   bench_report("staging_copy", "GB/s", bench_median(copies, reps));

   vkDestroyFence(dev, fence, NULL);
   vkFreeCommandBuffers(dev, b->ctx.cmd_pool, 1, &cmd);
   free(src);
   vkt_buffer_destroy(&b->ctx, &readback);
   vkt_buffer_destroy(&b->ctx, &device);
   vkt_buffer_destroy(&b->ctx, &staging);
}
