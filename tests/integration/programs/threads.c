/*
 * threads: one device used by several threads at once. Each thread has its
 * own pipeline cache and, many times over, asks for its data (two calls whose
 * answers come from the host, so through Venus each reserves and releases a
 * reply window of the ring the threads share) and creates, queries and
 * destroys a buffer. Every answer must equal the thread's first one, and the
 * buffers' requirements must agree across threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "vkt.h"

#define THREADS_COUNT 8u
#define THREADS_ROUNDS 400u
#define THREADS_MAX_CACHE_BYTES 4096u

struct threads_worker {
   VkDevice dev;
   uint32_t index;
   uint32_t calls;    /* answers received */
   uint32_t mismatch; /* answers that differed from the first */
   bool failed;       /* a call returned an error */
   VkMemoryRequirements reqs;
};

static int
threads_work(void *arg)
{
   struct threads_worker *w = arg;
   const VkPipelineCacheCreateInfo cache_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
   };
   VkPipelineCache cache;
   if (vkCreatePipelineCache(w->dev, &cache_info, NULL, &cache) != VK_SUCCESS) {
      w->failed = true;
      return 0;
   }
   uint8_t first[THREADS_MAX_CACHE_BYTES], data[THREADS_MAX_CACHE_BYTES];
   size_t first_size = 0;
   for (uint32_t round = 0; round < THREADS_ROUNDS && !w->failed; round++) {
      size_t size = 0;
      if (vkGetPipelineCacheData(w->dev, cache, &size, NULL) != VK_SUCCESS ||
          size > sizeof(data)) {
         w->failed = true;
         break;
      }
      memset(data, 0xa5, sizeof(data));
      if (vkGetPipelineCacheData(w->dev, cache, &size, data) != VK_SUCCESS) {
         w->failed = true;
         break;
      }
      w->calls += 2;
      if (!round) {
         first_size = size;
         memcpy(first, data, size);
      } else if (size != first_size || memcmp(data, first, size)) {
         w->mismatch++;
      }

      const VkBufferCreateInfo buffer_info = {
         .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
         .size = 4096 + 256 * (uint64_t)(round % 4),
         .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
      };
      VkBuffer buffer;
      if (vkCreateBuffer(w->dev, &buffer_info, NULL, &buffer) != VK_SUCCESS) {
         w->failed = true;
         break;
      }
      VkMemoryRequirements reqs;
      vkGetBufferMemoryRequirements(w->dev, buffer, &reqs);
      vkDestroyBuffer(w->dev, buffer, NULL);
      if (round % 4 == 0) {
         if (!round)
            w->reqs = reqs;
         else if (memcmp(&reqs, &w->reqs, sizeof(reqs)))
            w->mismatch++;
      }
   }
   vkDestroyPipelineCache(w->dev, cache, NULL);
   return 0;
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "threads");
   vkt_device_init(&ctx, NULL);

   struct threads_worker workers[THREADS_COUNT];
   thrd_t threads[THREADS_COUNT];
   for (uint32_t i = 0; i < THREADS_COUNT; i++) {
      workers[i] = (struct threads_worker){ .dev = ctx.device, .index = i };
      if (thrd_create(&threads[i], threads_work, &workers[i]) != thrd_success)
         vkt_die("threads: thrd_create failed");
   }
   uint32_t calls = 0, mismatch = 0, failed = 0, reqs_differ = 0;
   for (uint32_t i = 0; i < THREADS_COUNT; i++) {
      thrd_join(threads[i], NULL);
      calls += workers[i].calls;
      mismatch += workers[i].mismatch;
      failed += workers[i].failed;
      reqs_differ += memcmp(&workers[i].reqs, &workers[0].reqs, sizeof(workers[0].reqs)) != 0;
   }
   vkt_check(&ctx, !failed, "%u thread(s) saw a call fail", failed);
   vkt_check(&ctx, !mismatch, "%u answer(s) differed from the thread's first", mismatch);
   vkt_check(&ctx, !reqs_differ, "%u thread(s) got other buffer requirements", reqs_differ);
   vkt_check(&ctx, calls == THREADS_COUNT * THREADS_ROUNDS * 2, "%u calls answered", calls);
   vkt_print_u64("threads_calls", "calls", calls);
   vkt_print_u64("threads_buffer_alignment", "bytes", workers[0].reqs.alignment);
   return vkt_finish(&ctx);
}
