/*
 * compute: storage buffers, push constants and specialization constants. Two
 * pipelines specialize compute.comp with different workgroup sizes and
 * multipliers; four dispatches with different push constants write disjoint
 * ranges of the output. Every element is checked against the same arithmetic on
 * the CPU, and a digest of all outputs is printed.
 */
#include <stdio.h>
#include <string.h>

#include "vkt.h"

#define COMPUTE_ELEMENTS 4099u /* deliberately not a multiple of any group size */
#define COMPUTE_RUNS 4u

struct compute_push {
   uint32_t count;
   uint32_t base;
   uint32_t add;
   uint32_t xor_mul;
   uint32_t shift;
};

struct compute_spec {
   uint32_t local_size;
   uint32_t mul;
};

struct compute_run {
   uint32_t pipeline; /* index into the specializations */
   struct compute_push push;
};

static const struct compute_spec compute_specs[2] = { { 64, 3 }, { 32, 7 } };

static uint32_t
compute_expected(const struct compute_spec *spec,
                 const struct compute_push *push,
                 uint32_t i,
                 uint32_t v)
{
   return ((v * spec->mul + push->add) ^ (i * push->xor_mul)) + (v >> push->shift);
}

static void
compute_fill_source(uint32_t *data, uint32_t count)
{
   uint32_t state = 0x12345678u; /* xorshift32: deterministic input */
   for (uint32_t i = 0; i < count; i++) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      data[i] = state;
   }
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "compute");
   vkt_device_init(&ctx, NULL);
   VkDevice dev = ctx.device;

   const VkDeviceSize in_size = COMPUTE_ELEMENTS * sizeof(uint32_t);
   const VkDeviceSize out_size = COMPUTE_RUNS * in_size;
   struct vkt_buffer src, dst, ids;
   vkt_buffer_create(&ctx, in_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_UPLOAD,
                     &src);
   vkt_buffer_create(&ctx, out_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_READBACK,
                     &dst);
   vkt_buffer_create(&ctx, out_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_READBACK,
                     &ids);
   compute_fill_source(src.map, COMPUTE_ELEMENTS);
   vkt_buffer_flush(&ctx, &src);

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
   VkDescriptorSetLayout set_layout;
   VKT_CALL(vkCreateDescriptorSetLayout(dev, &set_layout_info, NULL, &set_layout));

   const VkPushConstantRange push_range = { VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                            sizeof(struct compute_push) };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push_range,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));

   const VkDescriptorPoolSize pool_size = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 3 };
   const VkDescriptorPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &pool_size,
   };
   VkDescriptorPool pool;
   VKT_CALL(vkCreateDescriptorPool(dev, &pool_info, NULL, &pool));
   const VkDescriptorSetAllocateInfo set_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = pool,
      .descriptorSetCount = 1,
      .pSetLayouts = &set_layout,
   };
   VkDescriptorSet set;
   VKT_CALL(vkAllocateDescriptorSets(dev, &set_info, &set));
   const VkDescriptorBufferInfo buffer_infos[3] = {
      { src.buffer, 0, VK_WHOLE_SIZE },
      { dst.buffer, 0, VK_WHOLE_SIZE },
      { ids.buffer, 0, VK_WHOLE_SIZE },
   };
   VkWriteDescriptorSet writes[3];
   for (uint32_t i = 0; i < 3; i++) {
      writes[i] = (VkWriteDescriptorSet){
         .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
         .dstSet = set,
         .dstBinding = i,
         .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &buffer_infos[i],
      };
   }
   vkUpdateDescriptorSets(dev, 3, writes, 0, NULL);

   VkShaderModule module = vkt_shader_load(&ctx, "compute.comp.spv");
   const VkSpecializationMapEntry spec_entries[2] = {
      { 0, offsetof(struct compute_spec, local_size), sizeof(uint32_t) },
      { 1, offsetof(struct compute_spec, mul), sizeof(uint32_t) },
   };
   VkPipeline pipelines[2];
   for (uint32_t i = 0; i < 2; i++) {
      const VkSpecializationInfo spec = {
         .mapEntryCount = 2,
         .pMapEntries = spec_entries,
         .dataSize = sizeof(struct compute_spec),
         .pData = &compute_specs[i],
      };
      pipelines[i] = vkt_compute_pipeline_create(&ctx, module, layout, &spec);
   }

   const struct compute_run runs[COMPUTE_RUNS] = {
      { 0, { COMPUTE_ELEMENTS, 0 * COMPUTE_ELEMENTS, 17, 0x9e3779b9u, 3 } },
      { 0, { COMPUTE_ELEMENTS, 1 * COMPUTE_ELEMENTS, 1234567, 0x85ebca6bu, 7 } },
      { 1, { COMPUTE_ELEMENTS, 2 * COMPUTE_ELEMENTS, 0xdeadbeefu, 0xc2b2ae35u, 11 } },
      { 1, { COMPUTE_ELEMENTS, 3 * COMPUTE_ELEMENTS, 5, 1, 31 } },
   };

   VkCommandBuffer cmd = vkt_cmd_begin(&ctx);
   vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0,
                           NULL);
   for (uint32_t r = 0; r < COMPUTE_RUNS; r++) {
      const struct compute_spec *spec = &compute_specs[runs[r].pipeline];
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines[runs[r].pipeline]);
      vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                         sizeof(struct compute_push), &runs[r].push);
      vkCmdDispatch(cmd, (COMPUTE_ELEMENTS + spec->local_size - 1) / spec->local_size, 1,
                    1);
   }
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                          VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                          VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(&ctx, cmd);
   vkt_buffer_invalidate(&ctx, &dst);
   vkt_buffer_invalidate(&ctx, &ids);

   const uint32_t *in = src.map;
   const uint32_t *out = dst.map;
   const uint32_t *out_ids = ids.map;
   uint32_t mismatches = 0;
   for (uint32_t r = 0; r < COMPUTE_RUNS; r++) {
      const struct compute_spec *spec = &compute_specs[runs[r].pipeline];
      const uint32_t base = runs[r].push.base;
      for (uint32_t i = 0; i < COMPUTE_ELEMENTS; i++) {
         const uint32_t want = compute_expected(spec, &runs[r].push, i, in[i]);
         if (out[base + i] != want || out_ids[base + i] != i) {
            if (mismatches++ < 8)
               fprintf(stderr, "compute: run %u element %u: %08x (id %u), want %08x\n", r,
                       i, out[base + i], out_ids[base + i], want);
         }
      }
   }
   vkt_check(&ctx, !mismatches, "%u of %u elements differ from the CPU result",
             mismatches, COMPUTE_RUNS * COMPUTE_ELEMENTS);

   uint64_t digest = vkt_digest(out, out_size);
   digest = vkt_digest_update(digest, out_ids, out_size);
   vkt_print_u64("compute_elements", "count", COMPUTE_RUNS * COMPUTE_ELEMENTS);
   vkt_print_hex("compute_checksum", digest);

   for (uint32_t i = 0; i < 2; i++)
      vkDestroyPipeline(dev, pipelines[i], NULL);
   vkDestroyShaderModule(dev, module, NULL);
   vkDestroyDescriptorPool(dev, pool, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_buffer_destroy(&ctx, &ids);
   vkt_buffer_destroy(&ctx, &dst);
   vkt_buffer_destroy(&ctx, &src);
   return vkt_finish(&ctx);
}
