/*
 * hostmem: host-visible memory shared between the CPU and the GPU, for every
 * host-visible memory type that can back a storage buffer. In one allocation:
 *   [0, R)    filled by vkCmdFillBuffer, read by the CPU;
 *   [R, 2R)   written by a compute shader, read by the CPU;
 *   [2R, 3R)  written by the CPU, read by the shader (into a readback buffer)
 *             and copied by vkCmdCopyBuffer to [3R, 4R).
 * Host writes are flushed and GPU writes invalidated with explicit,
 * nonCoherentAtomSize-aligned ranges on every type (a no-op on coherent types,
 * required on the others). Finally the memory is unmapped and mapped again at an
 * offset, and the CPU data must still be there. Last, a buffer and a linear
 * image whose external-memory create info names no handle type, in host-visible
 * memory, written by the GPU and read through their mappings. And two
 * buffers bound by one vkBindBufferMemory2 to one host-visible memory, the
 * second at an offset, filled by the GPU and read through the mapping.
 */
#include <stdio.h>
#include <string.h>

#include "vkt.h"

#define HOSTMEM_REGION 16384u /* bytes; a multiple of any nonCoherentAtomSize */
#define HOSTMEM_WORDS (HOSTMEM_REGION / 4u)
#define HOSTMEM_GROUP 64u
#define HOSTMEM_FILL 0xc0ffee11u
#define HOSTMEM_MUL 2654435761u
#define HOSTMEM_ADD 12345u
#define HOSTMEM_IMAGE 32u /* width and height of the linear image */

struct hostmem_push {
   uint32_t mul;
   uint32_t add;
};

struct hostmem_gpu {
   VkDescriptorSetLayout set_layout;
   VkPipelineLayout layout;
   VkPipeline pipeline;
   VkDescriptorPool pool;
   VkShaderModule module;
};

static uint32_t
hostmem_cpu_word(uint32_t i)
{
   return i * 0x01000193u ^ 0x5bd1e995u;
}

static void
hostmem_range(struct vkt_context *ctx,
              const struct vkt_buffer *buf,
              VkDeviceSize offset,
              VkDeviceSize size,
              bool flush)
{
   const VkMappedMemoryRange range = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = buf->memory,
      .offset = offset,
      .size = size,
   };
   if (flush)
      VKT_CALL(vkFlushMappedMemoryRanges(ctx->device, 1, &range));
   else
      VKT_CALL(vkInvalidateMappedMemoryRanges(ctx->device, 1, &range));
}

static void
hostmem_gpu_init(struct vkt_context *ctx, struct hostmem_gpu *gpu)
{
   VkDescriptorSetLayoutBinding bindings[3];
   for (uint32_t i = 0; i < 3; i++) {
      bindings[i] = (VkDescriptorSetLayoutBinding){
         .binding = i,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .descriptorCount = 1,
         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
      };
   }
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 3,
      .pBindings = bindings,
   };
   VKT_CALL(
      vkCreateDescriptorSetLayout(ctx->device, &set_layout_info, NULL, &gpu->set_layout));
   const VkPushConstantRange push = { VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                      sizeof(struct hostmem_push) };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &gpu->set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push,
   };
   VKT_CALL(vkCreatePipelineLayout(ctx->device, &layout_info, NULL, &gpu->layout));
   gpu->module = vkt_shader_load(ctx, "hostmem.comp.spv");
   gpu->pipeline = vkt_compute_pipeline_create(ctx, gpu->module, gpu->layout, NULL);

   const VkDescriptorPoolSize size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                       3 * VK_MAX_MEMORY_TYPES };
   const VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = VK_MAX_MEMORY_TYPES,
      .poolSizeCount = 1,
      .pPoolSizes = &size,
   };
   VKT_CALL(vkCreateDescriptorPool(ctx->device, &pool_info, NULL, &gpu->pool));
}

static void
hostmem_gpu_fini(struct vkt_context *ctx, struct hostmem_gpu *gpu)
{
   vkDestroyDescriptorPool(ctx->device, gpu->pool, NULL);
   vkDestroyPipeline(ctx->device, gpu->pipeline, NULL);
   vkDestroyShaderModule(ctx->device, gpu->module, NULL);
   vkDestroyPipelineLayout(ctx->device, gpu->layout, NULL);
   vkDestroyDescriptorSetLayout(ctx->device, gpu->set_layout, NULL);
}

static VkDescriptorSet
hostmem_set(struct vkt_context *ctx,
            struct hostmem_gpu *gpu,
            const struct vkt_buffer *host,
            const struct vkt_buffer *out)
{
   const VkDescriptorSetAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = gpu->pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &gpu->set_layout,
   };
   VkDescriptorSet set;
   VKT_CALL(vkAllocateDescriptorSets(ctx->device, &alloc, &set));
   const VkDescriptorBufferInfo infos[3] = {
      { host->buffer, 1 * HOSTMEM_REGION, HOSTMEM_REGION },
      { host->buffer, 2 * HOSTMEM_REGION, HOSTMEM_REGION },
      { out->buffer, 0, HOSTMEM_REGION },
   };
   VkWriteDescriptorSet writes[3];
   for (uint32_t i = 0; i < 3; i++) {
      writes[i] = (VkWriteDescriptorSet){
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = set,
         .dstBinding = i,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &infos[i],
      };
   }
   vkUpdateDescriptorSets(ctx->device, 3, writes, 0, NULL);
   return set;
}

static uint32_t
hostmem_count_bad(const uint32_t *words, uint32_t (*expect)(uint32_t i))
{
   uint32_t bad = 0;
   for (uint32_t i = 0; i < HOSTMEM_WORDS; i++)
      bad += words[i] != expect(i);
   return bad;
}

static uint32_t
hostmem_expect_fill(uint32_t i)
{
   return HOSTMEM_FILL;
}

static uint32_t
hostmem_expect_gen(uint32_t i)
{
   return i * HOSTMEM_MUL + HOSTMEM_ADD;
}

static uint32_t
hostmem_expect_transformed(uint32_t i)
{
   return ~hostmem_cpu_word(i) + i;
}

/* Runs the whole exchange in one memory type; returns a digest of the results. */
static uint64_t
hostmem_test_type(struct vkt_context *ctx, struct hostmem_gpu *gpu, uint32_t type)
{
   const VkMemoryPropertyFlags flags = ctx->mem_props.memoryTypes[type].propertyFlags;
   fprintf(stderr, "hostmem: memory type %u (flags 0x%x)%s\n", type, flags,
           (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) ? "" : " non-coherent");

   struct vkt_buffer host, out;
   vkt_buffer_create_in_type(ctx, 4 * HOSTMEM_REGION,
                             VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             type, &host);
   vkt_buffer_create(ctx, HOSTMEM_REGION, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                     VKT_MEM_READBACK, &out);
   uint8_t *bytes = host.map;
   uint32_t *cpu_words = (uint32_t *)(bytes + 2 * HOSTMEM_REGION);
   for (uint32_t i = 0; i < HOSTMEM_WORDS; i++)
      cpu_words[i] = hostmem_cpu_word(i);
   hostmem_range(ctx, &host, 2 * HOSTMEM_REGION, HOSTMEM_REGION, true);

   VkDescriptorSet set = hostmem_set(ctx, gpu, &host, &out);
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdFillBuffer(cmd, host.buffer, 0, HOSTMEM_REGION, HOSTMEM_FILL);
   const VkBufferCopy copy = { 2 * HOSTMEM_REGION, 3 * HOSTMEM_REGION, HOSTMEM_REGION };
   vkCmdCopyBuffer(cmd, host.buffer, host.buffer, 1, &copy);
   const struct hostmem_push push = { HOSTMEM_MUL, HOSTMEM_ADD };
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, gpu->pipeline);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, gpu->layout, 0, 1, &set,
                           0, NULL);
   vkCmdPushConstants(cmd, gpu->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push),
                      &push);
   vkCmdDispatch(cmd, HOSTMEM_WORDS / HOSTMEM_GROUP, 1, 1);
   vkt_cmd_memory_barrier(
      cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
      VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT,
      VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);

   hostmem_range(ctx, &host, 0, 2 * HOSTMEM_REGION, false);
   hostmem_range(ctx, &host, 3 * HOSTMEM_REGION, HOSTMEM_REGION, false);
   vkt_buffer_invalidate(ctx, &out);
   const uint32_t *fill = (const uint32_t *)bytes;
   const uint32_t *gen = (const uint32_t *)(bytes + HOSTMEM_REGION);
   const uint32_t *copied = (const uint32_t *)(bytes + 3 * HOSTMEM_REGION);
   uint32_t bad = hostmem_count_bad(fill, hostmem_expect_fill);
   vkt_check(ctx, !bad, "type %u: %u word(s) of vkCmdFillBuffer wrong", type, bad);
   bad = hostmem_count_bad(gen, hostmem_expect_gen);
   vkt_check(ctx, !bad, "type %u: %u word(s) written by the shader wrong", type, bad);
   bad = hostmem_count_bad(out.map, hostmem_expect_transformed);
   vkt_check(ctx, !bad, "type %u: shader read %u CPU word(s) wrong", type, bad);
   bad = hostmem_count_bad(copied, hostmem_cpu_word);
   vkt_check(ctx, !bad, "type %u: %u CPU word(s) copied by the GPU wrong", type, bad);

   uint64_t digest = vkt_digest(bytes, 4 * HOSTMEM_REGION);
   digest = vkt_digest_update(digest, out.map, HOSTMEM_REGION);

   /* unmap, map again at the CPU region's offset: the data stays */
   vkUnmapMemory(ctx->device, host.memory);
   void *remap = NULL;
   VKT_CALL(vkMapMemory(ctx->device, host.memory, 2 * HOSTMEM_REGION, HOSTMEM_REGION, 0,
                        &remap));
   hostmem_range(ctx, &host, 2 * HOSTMEM_REGION, HOSTMEM_REGION, false);
   bad = hostmem_count_bad(remap, hostmem_cpu_word);
   vkt_check(ctx, !bad, "type %u: %u word(s) differ after remapping", type, bad);
   vkUnmapMemory(ctx->device, host.memory);
   host.map = NULL; /* already unmapped */

   vkt_buffer_destroy(ctx, &out);
   vkt_buffer_destroy(ctx, &host);
   return digest;
}

/* Host-visible memory for a resource of `reqs` (a coherent type where there
 * is one), mapped whole. */
static VkDeviceMemory
hostmem_bind_memory(struct vkt_context *ctx, const VkMemoryRequirements *reqs, void **map)
{
   const uint32_t type = vkt_memory_type(ctx, reqs->memoryTypeBits,
                                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                         VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("hostmem: no host-visible memory type for a resource of types 0x%x",
              reqs->memoryTypeBits);
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs->size,
      .memoryTypeIndex = type,
   };
   VkDeviceMemory memory;
   VKT_CALL(vkAllocateMemory(ctx->device, &info, NULL, &memory));
   VKT_CALL(vkMapMemory(ctx->device, memory, 0, VK_WHOLE_SIZE, 0, map));
   return memory;
}

static void
hostmem_invalidate(struct vkt_context *ctx, VkDeviceMemory memory)
{
   const VkMappedMemoryRange range = {
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = memory,
      .size = VK_WHOLE_SIZE,
   };
   VKT_CALL(vkInvalidateMappedMemoryRanges(ctx->device, 1, &range));
}

/* A buffer and a linear image whose VkExternalMemory{Buffer,Image}CreateInfo
 * names no handle type are plain resources: bound to host-visible memory,
 * written by the GPU, read through the mapping. (A renderer that backs such
 * memory with an import must still see that the resources can meet it.) */
static uint64_t
hostmem_empty_external(struct vkt_context *ctx)
{
   const VkExternalMemoryBufferCreateInfo buffer_ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = 0,
   };
   const VkBufferCreateInfo buffer_info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = &buffer_ext,
      .size = HOSTMEM_REGION,
      .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(ctx->device, &buffer_info, NULL, &buffer));
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(ctx->device, buffer, &reqs);
   void *buffer_map;
   VkDeviceMemory buffer_memory = hostmem_bind_memory(ctx, &reqs, &buffer_map);
   VKT_CALL(vkBindBufferMemory(ctx->device, buffer, buffer_memory, 0));

   const VkExternalMemoryImageCreateInfo image_ext = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .handleTypes = 0,
   };
   const VkImageCreateInfo image_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .pNext = &image_ext,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .extent = { HOSTMEM_IMAGE, HOSTMEM_IMAGE, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_LINEAR,
      .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   struct vkt_image image = {
      .format = image_info.format,
      .aspect = VK_IMAGE_ASPECT_COLOR_BIT,
      .width = HOSTMEM_IMAGE,
      .height = HOSTMEM_IMAGE,
   };
   VKT_CALL(vkCreateImage(ctx->device, &image_info, NULL, &image.image));
   vkGetImageMemoryRequirements(ctx->device, image.image, &reqs);
   void *image_map;
   image.memory = hostmem_bind_memory(ctx, &reqs, &image_map);
   VKT_CALL(vkBindImageMemory(ctx->device, image.image, image.memory, 0));

   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdFillBuffer(cmd, buffer, 0, HOSTMEM_REGION, HOSTMEM_FILL);
   vkt_cmd_image_barrier(cmd, &image, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   const VkClearColorValue rgba = { .float32 = { 1.0f, 0.0f, 1.0f, 0.0f } };
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   vkCmdClearColorImage(cmd, image.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &rgba, 1,
                        &range);
   /* host reads of a linear image: GENERAL */
   vkt_cmd_image_barrier(cmd, &image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_GENERAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                         VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   hostmem_invalidate(ctx, buffer_memory);
   hostmem_invalidate(ctx, image.memory);

   const uint32_t bad = hostmem_count_bad(buffer_map, hostmem_expect_fill);
   vkt_check(ctx, !bad, "buffer with an empty external handle list: %u word(s) wrong",
             bad);
   uint64_t digest = vkt_digest(buffer_map, HOSTMEM_REGION);

   const VkImageSubresource sub = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0 };
   VkSubresourceLayout layout;
   vkGetImageSubresourceLayout(ctx->device, image.image, &sub, &layout);
   uint32_t bad_pixels = 0;
   for (uint32_t y = 0; y < HOSTMEM_IMAGE; y++) {
      const uint8_t *row =
         (const uint8_t *)image_map + layout.offset + y * layout.rowPitch;
      for (uint32_t x = 0; x < HOSTMEM_IMAGE; x++)
         bad_pixels += row[4 * x] != 255 || row[4 * x + 1] != 0 ||
                       row[4 * x + 2] != 255 || row[4 * x + 3] != 0;
      digest = vkt_digest_update(digest, row, 4 * HOSTMEM_IMAGE);
   }
   vkt_check(ctx, !bad_pixels,
             "linear image with an empty external handle list: %u pixel(s) wrong",
             bad_pixels);

   vkDestroyImage(ctx->device, image.image, NULL);
   vkFreeMemory(ctx->device, image.memory, NULL);
   vkDestroyBuffer(ctx->device, buffer, NULL);
   vkFreeMemory(ctx->device, buffer_memory, NULL);
   return digest;
}

/* Two plain buffers, their requirements from vkGetBufferMemoryRequirements2
 * (with VkMemoryDedicatedRequirements), bound by one vkBindBufferMemory2 to
 * one host-visible memory, the second at its aligned offset after the
 * first; each filled by the GPU, both read through the mapping. */
static uint64_t
hostmem_bind2(struct vkt_context *ctx)
{
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = HOSTMEM_REGION,
      .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
   };
   VkBuffer buffers[2];
   VkMemoryRequirements reqs[2];
   for (uint32_t i = 0; i < 2; i++) {
      VKT_CALL(vkCreateBuffer(ctx->device, &info, NULL, &buffers[i]));
      VkMemoryDedicatedRequirements dedicated = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS,
      };
      VkMemoryRequirements2 reqs2 = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2,
         .pNext = &dedicated,
      };
      const VkBufferMemoryRequirementsInfo2 query = {
         .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
         .buffer = buffers[i],
      };
      vkGetBufferMemoryRequirements2(ctx->device, &query, &reqs2);
      reqs[i] = reqs2.memoryRequirements;
      vkt_check(ctx, !dedicated.requiresDedicatedAllocation,
                "a plain buffer requires a dedicated allocation");
      vkt_check(ctx, reqs[i].size >= HOSTMEM_REGION && reqs[i].alignment &&
                        !(reqs[i].alignment & (reqs[i].alignment - 1)),
                "buffer requirements: size %llu, alignment %llu",
                (unsigned long long)reqs[i].size, (unsigned long long)reqs[i].alignment);
   }
   if (ctx->props.apiVersion >= VK_API_VERSION_1_3) {
      /* the same as for a buffer made of the create info */
      const VkDeviceBufferMemoryRequirements query = {
         .sType = VK_STRUCTURE_TYPE_DEVICE_BUFFER_MEMORY_REQUIREMENTS,
         .pCreateInfo = &info,
      };
      VkMemoryRequirements2 reqs2 = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2 };
      vkGetDeviceBufferMemoryRequirements(ctx->device, &query, &reqs2);
      const VkMemoryRequirements *r = &reqs2.memoryRequirements;
      vkt_check(ctx, r->size == reqs[0].size && r->alignment == reqs[0].alignment &&
                        r->memoryTypeBits == reqs[0].memoryTypeBits,
                "vkGetDeviceBufferMemoryRequirements: size %llu, alignment %llu, types 0x%x; "
                "the buffer's: %llu, %llu, 0x%x",
                (unsigned long long)r->size, (unsigned long long)r->alignment,
                r->memoryTypeBits, (unsigned long long)reqs[0].size,
                (unsigned long long)reqs[0].alignment, reqs[0].memoryTypeBits);
   }
   const VkDeviceSize second = (reqs[0].size + reqs[1].alignment - 1) & ~(reqs[1].alignment - 1);
   const VkMemoryRequirements both = {
      .size = second + reqs[1].size,
      .alignment = reqs[0].alignment,
      .memoryTypeBits = reqs[0].memoryTypeBits & reqs[1].memoryTypeBits,
   };
   void *map;
   VkDeviceMemory memory = hostmem_bind_memory(ctx, &both, &map);
   const VkBindBufferMemoryInfo binds[2] = {
      { .sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, .buffer = buffers[0],
        .memory = memory, .memoryOffset = 0 },
      { .sType = VK_STRUCTURE_TYPE_BIND_BUFFER_MEMORY_INFO, .buffer = buffers[1],
        .memory = memory, .memoryOffset = second },
   };
   VKT_CALL(vkBindBufferMemory2(ctx->device, 2, binds));

   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdFillBuffer(cmd, buffers[0], 0, HOSTMEM_REGION, HOSTMEM_FILL);
   vkCmdFillBuffer(cmd, buffers[1], 0, HOSTMEM_REGION, ~HOSTMEM_FILL);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   hostmem_invalidate(ctx, memory);

   const uint32_t *words[2] = { map, (const uint32_t *)((const char *)map + second) };
   uint32_t bad = 0;
   for (uint32_t i = 0; i < HOSTMEM_WORDS; i++)
      bad += (words[0][i] != HOSTMEM_FILL) + (words[1][i] != ~HOSTMEM_FILL);
   vkt_check(ctx, !bad, "buffers bound by vkBindBufferMemory2: %u word(s) wrong", bad);
   const uint64_t digest = vkt_digest_update(vkt_digest(words[0], HOSTMEM_REGION), words[1],
                                             HOSTMEM_REGION);
   for (uint32_t i = 0; i < 2; i++)
      vkDestroyBuffer(ctx->device, buffers[i], NULL);
   vkFreeMemory(ctx->device, memory, NULL);
   return digest;
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "hostmem");
   vkt_device_init(&ctx, NULL);
   vkt_check(&ctx, HOSTMEM_REGION % ctx.props.limits.nonCoherentAtomSize == 0,
             "region size is not a multiple of nonCoherentAtomSize %llu",
             (unsigned long long)ctx.props.limits.nonCoherentAtomSize);

   /* which host-visible types can back our buffer */
   VkBuffer probe;
   const VkBufferCreateInfo probe_info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = 4 * HOSTMEM_REGION,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   VKT_CALL(vkCreateBuffer(ctx.device, &probe_info, NULL, &probe));
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(ctx.device, probe, &reqs);
   vkDestroyBuffer(ctx.device, probe, NULL);

   struct hostmem_gpu gpu;
   hostmem_gpu_init(&ctx, &gpu);
   uint32_t tested = 0, non_coherent = 0;
   uint64_t first_digest = 0;
   for (uint32_t type = 0; type < ctx.mem_props.memoryTypeCount; type++) {
      const VkMemoryPropertyFlags flags = ctx.mem_props.memoryTypes[type].propertyFlags;
      if (!(reqs.memoryTypeBits & (1u << type)) ||
          !(flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
         continue;
      const uint64_t digest = hostmem_test_type(&ctx, &gpu, type);
      if (!tested++)
         first_digest = digest;
      vkt_check(&ctx, digest == first_digest, "memory type %u gives different data",
                type);
      non_coherent += !(flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
   }
   fprintf(stderr, "hostmem: %u host-visible type(s), %u non-coherent\n", tested,
           non_coherent);
   vkt_check(&ctx, tested > 0, "no host-visible memory type for storage buffers");
   vkt_print_hex("hostmem_data_digest", first_digest);
   vkt_print_hex("hostmem_empty_external_digest", hostmem_empty_external(&ctx));
   vkt_print_hex("hostmem_bind2_digest", hostmem_bind2(&ctx));

   hostmem_gpu_fini(&ctx, &gpu);
   return vkt_finish(&ctx);
}
