/*
 * largemem: one host-visible allocation of 1.5 GiB, used past its first
 * GiB. Through Venus host-visible memory is shared with the host (a memfd or
 * a blob), so the allocation, its mapping on both sides and the host's access
 * beyond 1 GiB are checked end to end (the renderer's worker once died on any
 * shared allocation above 1 GiB: its file size limit). The GPU fills a region
 * past 1 GiB that the CPU reads; the CPU writes a region at the end that the
 * GPU copies to the start. Only these pages are touched, so the program needs
 * little RAM. Exit 77 where the device cannot make such an allocation (its
 * maximum allocation or buffer size, or no host-visible heap that large).
 */
#include <stdio.h>
#include <string.h>

#include "vkt.h"

#define LARGEMEM_SIZE (1536ull << 20)
#define LARGEMEM_REGION (64u << 10)
#define LARGEMEM_WORDS (LARGEMEM_REGION / 4u)
/* past 1 GiB, not page- or region-aligned to the start of a GiB */
#define LARGEMEM_FILL_AT ((1ull << 30) + (3u << 12))
#define LARGEMEM_WRITE_AT (LARGEMEM_SIZE - LARGEMEM_REGION)
#define LARGEMEM_FILL 0x5a17c0deu

static uint32_t
largemem_word(uint32_t i)
{
   return i * 0x9e3779b9u ^ 0x7f4a7c15u;
}

/* The maximum allocation and buffer sizes of the device (Vulkan 1.1 and
 * maintenance4 / 1.3 properties; UINT64_MAX where the device has no such
 * limit to report). */
static void
largemem_limits(const struct vkt_context *ctx, VkDeviceSize *max_alloc, VkDeviceSize *max_buffer)
{
   VkPhysicalDeviceMaintenance4Properties m4 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES,
      .maxBufferSize = UINT64_MAX,
   };
   VkPhysicalDeviceMaintenance3Properties m3 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
      .pNext = ctx->props.apiVersion >= VK_API_VERSION_1_3 ? &m4 : NULL,
      .maxMemoryAllocationSize = UINT64_MAX,
   };
   VkPhysicalDeviceProperties2 props2 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &m3,
   };
   vkGetPhysicalDeviceProperties2(ctx->physical_device, &props2);
   *max_alloc = m3.maxMemoryAllocationSize;
   *max_buffer = m4.maxBufferSize;
}

/* The first host-visible type the buffer allows whose heap can hold the
 * allocation (lavapipe's one heap is 2 GiB), or VKT_NO_MEMORY_TYPE. */
static uint32_t
largemem_type(const struct vkt_context *ctx, uint32_t type_bits)
{
   const VkPhysicalDeviceMemoryProperties *mem = &ctx->mem_props;
   for (uint32_t i = 0; i < mem->memoryTypeCount; i++) {
      const VkMemoryType *t = &mem->memoryTypes[i];
      if ((type_bits & (1u << i)) && (t->propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
          mem->memoryHeaps[t->heapIndex].size >= LARGEMEM_SIZE)
         return i;
   }
   return VKT_NO_MEMORY_TYPE;
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "largemem");
   vkt_device_init(&ctx, NULL);

   VkDeviceSize max_alloc, max_buffer;
   largemem_limits(&ctx, &max_alloc, &max_buffer);
   if (max_alloc < LARGEMEM_SIZE || max_buffer < LARGEMEM_SIZE) {
      fprintf(stderr, "largemem: the device allows allocations of %llu and buffers of %llu "
                      "bytes, fewer than %llu: skipped\n",
              (unsigned long long)max_alloc, (unsigned long long)max_buffer,
              (unsigned long long)LARGEMEM_SIZE);
      vkt_finish(&ctx);
      return 77;
   }

   const VkBufferCreateInfo buffer_info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = LARGEMEM_SIZE,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(ctx.device, &buffer_info, NULL, &buffer));
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(ctx.device, buffer, &reqs);
   const uint32_t type = largemem_type(&ctx, reqs.memoryTypeBits);
   if (type == VKT_NO_MEMORY_TYPE) {
      fprintf(stderr, "largemem: no host-visible heap of %llu bytes: skipped\n",
              (unsigned long long)LARGEMEM_SIZE);
      vkDestroyBuffer(ctx.device, buffer, NULL);
      vkt_finish(&ctx);
      return 77;
   }
   const bool coherent =
      ctx.mem_props.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;

   const VkMemoryAllocateInfo alloc_info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex = type,
   };
   VkDeviceMemory memory;
   VKT_CALL(vkAllocateMemory(ctx.device, &alloc_info, NULL, &memory));
   VKT_CALL(vkBindBufferMemory(ctx.device, buffer, memory, 0));
   uint8_t *map;
   VKT_CALL(vkMapMemory(ctx.device, memory, 0, VK_WHOLE_SIZE, 0, (void **)&map));

   /* the CPU's region at the end, flushed before the submission */
   uint32_t *src = (uint32_t *)(map + LARGEMEM_WRITE_AT);
   for (uint32_t i = 0; i < LARGEMEM_WORDS; i++)
      src[i] = largemem_word(i);
   const VkMappedMemoryRange written = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = memory,
      .offset = LARGEMEM_WRITE_AT,
      .size = LARGEMEM_REGION,
   };
   if (!coherent)
      VKT_CALL(vkFlushMappedMemoryRanges(ctx.device, 1, &written));

   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   vkCmdFillBuffer(cmd, buffer, LARGEMEM_FILL_AT, LARGEMEM_REGION, LARGEMEM_FILL);
   const VkBufferCopy copy = {
      .srcOffset = LARGEMEM_WRITE_AT,
      .dstOffset = 0,
      .size = LARGEMEM_REGION,
   };
   vkCmdCopyBuffer(cmd, buffer, buffer, 1, &copy);
   const VkMemoryBarrier to_host = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
   };
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
                        &to_host, 0, NULL, 0, NULL);
   vkt_cmd_submit_wait(&ctx, cmd);

   const VkMappedMemoryRange read[2] = {
      {
         .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
         .memory = memory,
         .offset = 0,
         .size = LARGEMEM_REGION,
      },
      {
         .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
         .memory = memory,
         .offset = LARGEMEM_FILL_AT,
         .size = LARGEMEM_REGION,
      },
   };
   if (!coherent)
      VKT_CALL(vkInvalidateMappedMemoryRanges(ctx.device, 2, read));

   const uint32_t *filled = (const uint32_t *)(map + LARGEMEM_FILL_AT);
   const uint32_t *copied = (const uint32_t *)map;
   uint32_t bad_fill = 0, bad_copy = 0;
   for (uint32_t i = 0; i < LARGEMEM_WORDS; i++) {
      bad_fill += filled[i] != LARGEMEM_FILL;
      bad_copy += copied[i] != largemem_word(i);
   }
   vkt_check(&ctx, !bad_fill, "%u of %u words past 1 GiB not filled by the GPU", bad_fill,
             LARGEMEM_WORDS);
   vkt_check(&ctx, !bad_copy, "%u of %u words the GPU copied from the end differ", bad_copy,
             LARGEMEM_WORDS);

   vkt_print_u64("largemem_allocation", "MiB", LARGEMEM_SIZE >> 20);
   vkt_print_hex("largemem_filled_digest", vkt_digest(filled, LARGEMEM_REGION));
   vkt_print_hex("largemem_copied_digest", vkt_digest(copied, LARGEMEM_REGION));

   vkUnmapMemory(ctx.device, memory);
   vkDestroyBuffer(ctx.device, buffer, NULL);
   vkFreeMemory(ctx.device, memory, NULL);
   return vkt_finish(&ctx);
}
