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
 * offset, and the CPU data must still be there.
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

   hostmem_gpu_fini(&ctx, &gpu);
   return vkt_finish(&ctx);
}
