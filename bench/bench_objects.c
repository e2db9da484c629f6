/*
 * Object churn and forced round trips: the per-call cost of driver entry points
 * that do no GPU work.
 *
 * churn: vkCreateBuffer + vkGetBufferMemoryRequirements + vkDestroyBuffer, with
 * sizes cycling through 16 values. A remoting driver can create and destroy
 * asynchronously and derive the requirements locally.
 *
 * roundtrip: calls whose result only the host driver knows, so no driver can
 * answer them from a cache:
 * - vkGetCalibratedTimestampsEXT(VK_TIME_DOMAIN_DEVICE_EXT): the device clock
 *   changes between any two calls (when VK_EXT_calibrated_timestamps is exposed);
 * - vkGetPipelineCacheData(pData = NULL): the size of the host driver's
 *   serialized cache, which changes whenever pipelines are created with it.
 * Query status (vkGetQueryPoolResults, fences, events, semaphores) is not used:
 * drivers with feedback memory answer it without asking the host.
 */
#include <stdio.h>

#include "bench.h"

#define CHURN_BASE_SIZE 4096u
#define CHURN_SIZES 16u
#define BENCH_MAX_BATCHES 8u

void
bench_run_churn(struct bench *b)
{
   VkDevice dev = b->ctx.device;
   const uint32_t per_batch = bench_count(b, 20000, 1000);
   const uint32_t batches = bench_count(b, 7, 3);
   VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   uint32_t bad = 0;
   double samples[BENCH_MAX_BATCHES];

   /* batch 0 warms up (allocator, caches) and is not counted */
   for (uint32_t batch = 0; batch <= batches; batch++) {
      const uint64_t start = vkt_now_ns();
      for (uint32_t i = 0; i < per_batch; i++) {
         info.size = CHURN_BASE_SIZE * (1 + i % CHURN_SIZES);
         VkBuffer buffer;
         VKT_CALL(vkCreateBuffer(dev, &info, NULL, &buffer));
         VkMemoryRequirements reqs;
         vkGetBufferMemoryRequirements(dev, buffer, &reqs);
         bad += reqs.size < info.size || !reqs.memoryTypeBits || !reqs.alignment ||
                (reqs.alignment & (reqs.alignment - 1));
         vkDestroyBuffer(dev, buffer, NULL);
      }
      if (batch)
         samples[batch - 1] = (double)(vkt_now_ns() - start) / per_batch / 1e3;
   }
   vkt_check(&b->ctx, !bad, "churn: %u implausible memory requirements", bad);
   bench_report("churn_create_reqs_destroy", "us/iter", bench_median(samples, batches));
}

static void
bench_roundtrip_calibrated(struct bench *b, uint32_t per_batch, uint32_t batches)
{
   PFN_vkGetCalibratedTimestampsEXT get_timestamps =
      (PFN_vkGetCalibratedTimestampsEXT)vkGetDeviceProcAddr(
         b->ctx.device, "vkGetCalibratedTimestampsEXT");
   if (!get_timestamps) {
      vkt_check(&b->ctx, false, "roundtrip: vkGetCalibratedTimestampsEXT is missing");
      return;
   }
   const VkCalibratedTimestampInfoEXT info = {
      .sType = VK_STRUCTURE_TYPE_CALIBRATED_TIMESTAMP_INFO_EXT,
      .timeDomain = VK_TIME_DOMAIN_DEVICE_EXT,
   };
   const uint32_t bits = b->ctx.queue_families[b->ctx.queue_family].timestampValidBits;
   const uint64_t mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
   uint64_t previous = 0, deviation;
   uint32_t backwards = 0;
   double samples[BENCH_MAX_BATCHES];

   for (uint32_t batch = 0; batch <= batches; batch++) {
      const uint64_t start = vkt_now_ns();
      for (uint32_t i = 0; i < per_batch; i++) {
         uint64_t ts;
         VKT_CALL(get_timestamps(b->ctx.device, 1, &info, &ts, &deviation));
         /* a wrap of a narrow counter is not an error; anything else is */
         backwards += (ts & mask) < previous && previous - (ts & mask) < mask / 2;
         previous = ts & mask;
      }
      if (batch)
         samples[batch - 1] = (double)(vkt_now_ns() - start) / per_batch / 1e3;
   }
   vkt_check(&b->ctx, !backwards, "roundtrip: device timestamp went back %u time(s)",
             backwards);
   bench_report("roundtrip_calibrated_ts", "us/call", bench_median(samples, batches));
}

static void
bench_roundtrip_cache_size(struct bench *b, uint32_t per_batch, uint32_t batches)
{
   VkDevice dev = b->ctx.device;
   const VkPipelineCacheCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
   };
   VkPipelineCache cache;
   VKT_CALL(vkCreatePipelineCache(dev, &info, NULL, &cache));
   size_t first = 0;
   VKT_CALL(vkGetPipelineCacheData(dev, cache, &first, NULL));
   uint32_t bad = first < 16 + VK_UUID_SIZE; /* the header alone is that big */
   double samples[BENCH_MAX_BATCHES];

   for (uint32_t batch = 0; batch <= batches; batch++) {
      const uint64_t start = vkt_now_ns();
      for (uint32_t i = 0; i < per_batch; i++) {
         size_t size = 0;
         VKT_CALL(vkGetPipelineCacheData(dev, cache, &size, NULL));
         bad += size != first;
      }
      if (batch)
         samples[batch - 1] = (double)(vkt_now_ns() - start) / per_batch / 1e3;
   }
   vkDestroyPipelineCache(dev, cache, NULL);
   vkt_check(&b->ctx, !bad, "roundtrip: pipeline cache size %zu or unstable", first);
   bench_report("roundtrip_pipeline_cache_size", "us/call",
                bench_median(samples, batches));
}

void
bench_run_roundtrip(struct bench *b)
{
   const uint32_t per_batch = bench_count(b, 20000, 500);
   const uint32_t batches = bench_count(b, 7, 3);
   if (b->has_calibrated_ts)
      bench_roundtrip_calibrated(b, per_batch, batches);
   else
      fprintf(stderr, "vkbench: roundtrip: no VK_EXT_calibrated_timestamps (device "
                      "domain); only the pipeline-cache figure is measured\n");
   bench_roundtrip_cache_size(b, per_batch, batches);
}
