/*
 * Memory the GPU wrote before the application maps it for the first time:
 * the first mapping shows the data, and reading it takes no page fault per
 * page, as natively. Through our driver over vtest that holds where the
 * mapping comes with its page tables filled in (docs/driver.md, "Memory"):
 * the renderer's file has every page once the GPU wrote them all; without
 * it, each 64 KiB read in faults (the kernel maps 16 pages around a read
 * fault).
 *
 * Prints deterministic result lines on stdout (the fault count, which is
 * not, goes to stderr); exit 0 when every check passed.
 */
#include <stdio.h>
#include <sys/resource.h>

#include "vkt.h"

#define MAP_FILLED_BYTES (4u << 20)
#define MAP_FILLED_PAGE 4096u
#define MAP_FILLED_PAGES (MAP_FILLED_BYTES / MAP_FILLED_PAGE)
#define MAP_FILLED_WORD 0x5eed1e55u

/* minor page faults the calling thread has taken so far */
static long
thread_minor_faults(void)
{
   struct rusage ru;
   if (getrusage(RUSAGE_THREAD, &ru) != 0)
      vkt_die("map_filled: getrusage failed");
   return ru.ru_minflt;
}

/* words of `words` (one per page, first) that are not the fill, and the
 * page faults reading them took (not instrumented: AddressSanitizer's reads
 * of its shadow memory would fault pages of their own) */
__attribute__((no_sanitize("address"))) static uint32_t
read_pages(const volatile uint32_t *words, long *faults)
{
   uint32_t bad = 0;
   const long before = thread_minor_faults();
   for (uint32_t page = 0; page < MAP_FILLED_PAGES; page++)
      bad += words[page * (MAP_FILLED_PAGE / 4)] != MAP_FILLED_WORD;
   *faults = thread_minor_faults() - before;
   return bad;
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "map_filled");
   vkt_device_init(&ctx, NULL);

   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = MAP_FILLED_BYTES,
      .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(ctx.device, &info, NULL, &buffer));
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(ctx.device, buffer, &reqs);
   const uint32_t type = vkt_memory_type(&ctx, reqs.memoryTypeBits,
                                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                         VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("map_filled: no host-visible memory type for a transfer buffer");
   const VkMemoryAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex = type,
   };
   VkDeviceMemory memory;
   VKT_CALL(vkAllocateMemory(ctx.device, &alloc, NULL, &memory));
   VKT_CALL(vkBindBufferMemory(ctx.device, buffer, memory, 0));

   /* the GPU writes every page before anything maps the memory */
   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   vkCmdFillBuffer(cmd, buffer, 0, VK_WHOLE_SIZE, MAP_FILLED_WORD);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&ctx, cmd);

   void *map;
   VKT_CALL(vkMapMemory(ctx.device, memory, 0, VK_WHOLE_SIZE, 0, &map));
   const VkMappedMemoryRange range = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = memory,
      .size = VK_WHOLE_SIZE,
   };
   VKT_CALL(vkInvalidateMappedMemoryRanges(ctx.device, 1, &range));

   /* one word of every page first, counted; then all of them */
   const volatile uint32_t *words = map;
   long faults;
   uint32_t bad = read_pages(words, &faults);
   for (uint32_t i = 0; i < MAP_FILLED_BYTES / 4; i++)
      bad += words[i] != MAP_FILLED_WORD;
   fprintf(stderr, "map_filled: %ld page fault(s) reading %u pages\n", faults,
           MAP_FILLED_PAGES);
   vkt_check(&ctx, !bad, "%u word(s) the GPU filled read back wrong", bad);
   vkt_check(&ctx, faults < (long)MAP_FILLED_PAGES / 64,
             "%ld page faults reading %u pages the GPU had written", faults,
             MAP_FILLED_PAGES);
   vkt_print_u64("map_filled_words_bad", "words", bad);
   vkt_print_u64("map_filled_few_faults", "bool", faults < (long)MAP_FILLED_PAGES / 64);

   vkUnmapMemory(ctx.device, memory);
   vkDestroyBuffer(ctx.device, buffer, NULL);
   vkFreeMemory(ctx.device, memory, NULL);
   return vkt_finish(&ctx);
}
