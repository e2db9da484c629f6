/*
 * maint5: VK_KHR_maintenance5, VK_KHR_push_descriptor and
 * VK_KHR_dynamic_rendering_local_read (all three promoted to Vulkan 1.4).
 *  - maintenance5: vkGetRenderingAreaGranularityKHR,
 *    vkGetDeviceImageSubresourceLayoutKHR compared with
 *    vkGetImageSubresourceLayout2KHR of the same linear image, a compute
 *    pipeline created with VkPipelineCreateFlags2CreateInfoKHR, and draws
 *    through vkCmdBindIndexBuffer2KHR with an offset and an exact size.
 *  - push descriptors: the compute pipeline's buffers bound with
 *    vkCmdPushDescriptorSetKHR and with vkCmdPushDescriptorSetWithTemplateKHR;
 *    the input attachment of the graphics pipeline is pushed too.
 *  - local read: one vkCmdBeginRendering with two color attachments in
 *    VK_IMAGE_LAYOUT_RENDERING_LOCAL_READ_KHR; the first draw writes
 *    attachment 0; after a by-region barrier inside the rendering, the second
 *    draw reads it as input attachment 0 and writes attachment 1, remapped
 *    with vkCmdSetRenderingAttachmentLocationsKHR (attachment 1 is output
 *    location 0) and vkCmdSetRenderingInputAttachmentIndicesKHR.
 * Every buffer is created with its usage in VkBufferUsageFlags2CreateInfoKHR
 * (and none in VkBufferCreateInfo::usage).
 * Every buffer element and pixel is checked against the CPU; layouts,
 * granularity and digests are printed. Exit 77 where one of the extensions
 * or features is absent (lavapipe 22.3.6), or when built with a Vulkan
 * registry that lacks them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

#if !defined(VK_KHR_maintenance5) || !defined(VK_KHR_dynamic_rendering_local_read)

int
main(void)
{
   fprintf(stderr, "maint5: built with a Vulkan registry without VK_KHR_maintenance5 / "
                   "VK_KHR_dynamic_rendering_local_read: skipped\n");
   return 77;
}

#else

#define MAINT5_COUNT 1000u
#define MAINT5_SIZE 32u

static const char *const maint5_extensions[] = {
   VK_KHR_MAINTENANCE_5_EXTENSION_NAME,
   VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME,
   VK_KHR_DYNAMIC_RENDERING_LOCAL_READ_EXTENSION_NAME,
};

struct maint5_procs {
   PFN_vkCmdBindIndexBuffer2KHR bind_index_buffer2;
   PFN_vkGetRenderingAreaGranularityKHR rendering_area_granularity;
   PFN_vkGetDeviceImageSubresourceLayoutKHR device_image_subresource_layout;
   PFN_vkGetImageSubresourceLayout2KHR image_subresource_layout2;
   PFN_vkCmdPushDescriptorSetKHR push_descriptor_set;
   PFN_vkCmdPushDescriptorSetWithTemplateKHR push_descriptor_set_with_template;
   PFN_vkCmdSetRenderingAttachmentLocationsKHR set_attachment_locations;
   PFN_vkCmdSetRenderingInputAttachmentIndicesKHR set_input_attachment_indices;
};

static PFN_vkVoidFunction
maint5_proc(struct vkt_context *ctx, const char *name)
{
   PFN_vkVoidFunction f = vkGetDeviceProcAddr(ctx->device, name);
   if (!f)
      vkt_die("maint5: no %s", name);
   return f;
}

static void
maint5_procs_init(struct vkt_context *ctx, struct maint5_procs *p)
{
   p->bind_index_buffer2 =
      (PFN_vkCmdBindIndexBuffer2KHR)maint5_proc(ctx, "vkCmdBindIndexBuffer2KHR");
   p->rendering_area_granularity = (PFN_vkGetRenderingAreaGranularityKHR)maint5_proc(
      ctx, "vkGetRenderingAreaGranularityKHR");
   p->device_image_subresource_layout = (PFN_vkGetDeviceImageSubresourceLayoutKHR)maint5_proc(
      ctx, "vkGetDeviceImageSubresourceLayoutKHR");
   p->image_subresource_layout2 = (PFN_vkGetImageSubresourceLayout2KHR)maint5_proc(
      ctx, "vkGetImageSubresourceLayout2KHR");
   p->push_descriptor_set =
      (PFN_vkCmdPushDescriptorSetKHR)maint5_proc(ctx, "vkCmdPushDescriptorSetKHR");
   p->push_descriptor_set_with_template = (PFN_vkCmdPushDescriptorSetWithTemplateKHR)maint5_proc(
      ctx, "vkCmdPushDescriptorSetWithTemplateKHR");
   p->set_attachment_locations = (PFN_vkCmdSetRenderingAttachmentLocationsKHR)maint5_proc(
      ctx, "vkCmdSetRenderingAttachmentLocationsKHR");
   p->set_input_attachment_indices = (PFN_vkCmdSetRenderingInputAttachmentIndicesKHR)maint5_proc(
      ctx, "vkCmdSetRenderingInputAttachmentIndicesKHR");
}

/* maintenance5's queries */
static void
maint5_queries(struct vkt_context *ctx, const struct maint5_procs *p)
{
   const VkFormat formats[2] = { VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM };
   const VkRenderingAreaInfoKHR area = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_AREA_INFO_KHR,
      .colorAttachmentCount = 2,
      .pColorAttachmentFormats = formats,
   };
   VkExtent2D granularity = { 0, 0 };
   p->rendering_area_granularity(ctx->device, &area, &granularity);
   vkt_check(ctx, granularity.width && granularity.height, "maint5: granularity %ux%u",
             granularity.width, granularity.height);
   vkt_print_u64("maint5_granularity_width", "px", granularity.width);
   vkt_print_u64("maint5_granularity_height", "px", granularity.height);

   const VkImageCreateInfo image_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .extent = { 67, 13, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_LINEAR,
      .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   const VkImageSubresource2KHR subresource = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_SUBRESOURCE_2_KHR,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0 },
   };
   const VkDeviceImageSubresourceInfoKHR device_info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_IMAGE_SUBRESOURCE_INFO_KHR,
      .pCreateInfo = &image_info,
      .pSubresource = &subresource,
   };
   VkSubresourceLayout2KHR from_info = { .sType = VK_STRUCTURE_TYPE_SUBRESOURCE_LAYOUT_2_KHR };
   p->device_image_subresource_layout(ctx->device, &device_info, &from_info);

   VkImage image;
   VKT_CALL(vkCreateImage(ctx->device, &image_info, NULL, &image));
   VkSubresourceLayout2KHR from_image = { .sType = VK_STRUCTURE_TYPE_SUBRESOURCE_LAYOUT_2_KHR };
   p->image_subresource_layout2(ctx->device, image, &subresource, &from_image);
   vkDestroyImage(ctx->device, image, NULL);

   const VkSubresourceLayout *a = &from_info.subresourceLayout, *b = &from_image.subresourceLayout;
   vkt_check(ctx, a->offset == b->offset && a->size == b->size && a->rowPitch == b->rowPitch,
             "maint5: layout from the create info (offset %llu size %llu pitch %llu) differs "
             "from the image's (%llu %llu %llu)",
             (unsigned long long)a->offset, (unsigned long long)a->size,
             (unsigned long long)a->rowPitch, (unsigned long long)b->offset,
             (unsigned long long)b->size, (unsigned long long)b->rowPitch);
   vkt_check(ctx, a->rowPitch >= 67 * 4 && a->size >= a->rowPitch * 12 + 67 * 4,
             "maint5: implausible linear layout (pitch %llu size %llu)",
             (unsigned long long)a->rowPitch, (unsigned long long)a->size);
   vkt_print_u64("maint5_linear_offset", "bytes", a->offset);
   vkt_print_u64("maint5_linear_row_pitch", "bytes", a->rowPitch);
   vkt_print_u64("maint5_linear_size", "bytes", a->size);
}

/* push descriptors (plain and with a template) and pipeline create flags 2 */
static void
maint5_compute(struct vkt_context *ctx, const struct maint5_procs *p)
{
   VkDevice dev = ctx->device;
   struct vkt_buffer src, dst[2];
   const VkDeviceSize size = MAINT5_COUNT * sizeof(uint32_t);
   vkt_buffer_create(ctx, size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_UPLOAD, &src);
   for (uint32_t i = 0; i < 2; i++) {
      vkt_buffer_create(ctx, size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, VKT_MEM_READBACK,
                        &dst[i]);
      memset(dst[i].map, 0, size);
      vkt_buffer_flush(ctx, &dst[i]);
   }
   uint32_t *in = src.map;
   for (uint32_t i = 0; i < MAINT5_COUNT; i++)
      in[i] = i * 2654435761u;
   vkt_buffer_flush(ctx, &src);

   VkDescriptorSetLayoutBinding bindings[2];
   for (uint32_t i = 0; i < 2; i++)
      bindings[i] = (VkDescriptorSetLayoutBinding){
         .binding = i,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .descriptorCount = 1,
         .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
      };
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
      .bindingCount = 2,
      .pBindings = bindings,
   };
   VkDescriptorSetLayout set_layout;
   VKT_CALL(vkCreateDescriptorSetLayout(dev, &set_layout_info, NULL, &set_layout));
   const VkPushConstantRange push_range = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 8 };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &set_layout,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push_range,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));

   VkShaderModule module = vkt_shader_load(ctx, "maint5.comp.spv");
   const VkPipelineCreateFlags2CreateInfoKHR flags2 = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_CREATE_FLAGS_2_CREATE_INFO_KHR,
      .flags = VK_PIPELINE_CREATE_2_DISABLE_OPTIMIZATION_BIT_KHR,
   };
   const VkComputePipelineCreateInfo pipeline_info = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .pNext = &flags2,
      .stage = {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_COMPUTE_BIT,
         .module = module,
         .pName = "main",
      },
      .layout = layout,
   };
   VkPipeline pipeline;
   VKT_CALL(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &pipeline_info, NULL, &pipeline));

   /* the template reads two VkDescriptorBufferInfo from a struct */
   struct maint5_template_data {
      VkDescriptorBufferInfo src, dst;
   };
   const VkDescriptorUpdateTemplateEntry entries[2] = {
      { 0, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        offsetof(struct maint5_template_data, src), 0 },
      { 1, 0, 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        offsetof(struct maint5_template_data, dst), 0 },
   };
   const VkDescriptorUpdateTemplateCreateInfo template_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_UPDATE_TEMPLATE_CREATE_INFO,
      .descriptorUpdateEntryCount = 2,
      .pDescriptorUpdateEntries = entries,
      .templateType = VK_DESCRIPTOR_UPDATE_TEMPLATE_TYPE_PUSH_DESCRIPTORS_KHR,
      .descriptorSetLayout = set_layout,
      .pipelineBindPoint = VK_PIPELINE_BIND_POINT_COMPUTE,
      .pipelineLayout = layout,
      .set = 0,
   };
   VkDescriptorUpdateTemplate update_template;
   VKT_CALL(vkCreateDescriptorUpdateTemplate(dev, &template_info, NULL, &update_template));

   const uint32_t muls[2] = { 3, 5 };
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   const VkDescriptorBufferInfo src_info = { src.buffer, 0, VK_WHOLE_SIZE };
   const VkDescriptorBufferInfo dst0_info = { dst[0].buffer, 0, VK_WHOLE_SIZE };
   const VkWriteDescriptorSet writes[2] = {
      { .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstBinding = 0,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &src_info },
      { .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstBinding = 1,
        .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &dst0_info },
   };
   p->push_descriptor_set(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 2, writes);
   uint32_t push[2] = { muls[0], MAINT5_COUNT };
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), push);
   vkCmdDispatch(cmd, (MAINT5_COUNT + 63) / 64, 1, 1);
   const struct maint5_template_data data = {
      { src.buffer, 0, VK_WHOLE_SIZE },
      { dst[1].buffer, 0, VK_WHOLE_SIZE },
   };
   p->push_descriptor_set_with_template(cmd, update_template, layout, 0, &data);
   push[0] = muls[1];
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), push);
   vkCmdDispatch(cmd, (MAINT5_COUNT + 63) / 64, 1, 1);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);

   for (uint32_t d = 0; d < 2; d++) {
      vkt_buffer_invalidate(ctx, &dst[d]);
      const uint32_t *out = dst[d].map;
      uint32_t wrong = 0;
      for (uint32_t i = 0; i < MAINT5_COUNT; i++)
         wrong += out[i] != in[i] * muls[d] + i;
      vkt_check(ctx, !wrong, "maint5: push descriptors%s: %u of %u elements wrong",
                d ? " with a template" : "", wrong, MAINT5_COUNT);
      vkt_print_hex(d ? "maint5_push_template_digest" : "maint5_push_digest",
                    vkt_digest(out, (size_t)size));
   }

   vkDestroyDescriptorUpdateTemplate(dev, update_template, NULL);
   vkDestroyPipeline(dev, pipeline, NULL);
   vkDestroyShaderModule(dev, module, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_buffer_destroy(ctx, &src);
   vkt_buffer_destroy(ctx, &dst[0]);
   vkt_buffer_destroy(ctx, &dst[1]);
}

/* a graphics pipeline for dynamic rendering with two RGBA8 color attachments
 * (the same blend state for both: independentBlend is optional); next: the
 * attachment locations and input attachment indices */
static VkPipeline
maint5_graphics_pipeline(struct vkt_context *ctx,
                         VkPipelineLayout layout,
                         VkShaderModule vert,
                         VkShaderModule frag,
                         const void *next)
{
   const VkFormat formats[2] = { VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM };
   const VkPipelineRenderingCreateInfo rendering = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
      .pNext = next,
      .colorAttachmentCount = 2,
      .pColorAttachmentFormats = formats,
   };
   const VkPipelineShaderStageCreateInfo stages[2] = {
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_VERTEX_BIT, .module = vert, .pName = "main" },
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_FRAGMENT_BIT, .module = frag, .pName = "main" },
   };
   const VkPipelineVertexInputStateCreateInfo vertex_input = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
   };
   const VkPipelineInputAssemblyStateCreateInfo input_assembly = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
   };
   const VkViewport viewport = { 0, 0, MAINT5_SIZE, MAINT5_SIZE, 0, 1 };
   const VkRect2D scissor = { { 0, 0 }, { MAINT5_SIZE, MAINT5_SIZE } };
   const VkPipelineViewportStateCreateInfo viewport_state = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
      .viewportCount = 1,
      .pViewports = &viewport,
      .scissorCount = 1,
      .pScissors = &scissor,
   };
   const VkPipelineRasterizationStateCreateInfo raster = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL,
      .cullMode = VK_CULL_MODE_NONE,
      .frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
      .lineWidth = 1.0f,
   };
   const VkPipelineMultisampleStateCreateInfo multisample = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT,
   };
   VkPipelineColorBlendAttachmentState blend_attachments[2];
   for (uint32_t i = 0; i < 2; i++)
      blend_attachments[i] = (VkPipelineColorBlendAttachmentState){
         .colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                           VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT,
      };
   const VkPipelineColorBlendStateCreateInfo blend = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
      .attachmentCount = 2,
      .pAttachments = blend_attachments,
   };
   const VkGraphicsPipelineCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
      .pNext = &rendering,
      .stageCount = 2,
      .pStages = stages,
      .pVertexInputState = &vertex_input,
      .pInputAssemblyState = &input_assembly,
      .pViewportState = &viewport_state,
      .pRasterizationState = &raster,
      .pMultisampleState = &multisample,
      .pColorBlendState = &blend,
      .layout = layout,
   };
   VkPipeline pipeline;
   VKT_CALL(vkCreateGraphicsPipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, &pipeline));
   return pipeline;
}

static void
maint5_expected(uint32_t x, uint32_t y, uint8_t px[4])
{
   px[0] = (uint8_t)((x * 7u) & 255u);
   px[1] = (uint8_t)((y * 11u) & 255u);
   px[2] = (uint8_t)(((x ^ y) * 5u) & 255u);
   px[3] = 255;
}

/* dynamic rendering local read, index buffer 2, a pushed input attachment */
static void
maint5_local_read(struct vkt_context *ctx, const struct maint5_procs *p)
{
   VkDevice dev = ctx->device;
   struct vkt_image color[2];
   for (uint32_t i = 0; i < 2; i++)
      vkt_image_create(ctx, VK_FORMAT_R8G8B8A8_UNORM, MAINT5_SIZE, MAINT5_SIZE,
                       VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT |
                          VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                       &color[i]);
   const VkDeviceSize pixels_size = MAINT5_SIZE * MAINT5_SIZE * 4;
   struct vkt_buffer readback[2], indices;
   for (uint32_t i = 0; i < 2; i++)
      vkt_buffer_create(ctx, pixels_size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK,
                        &readback[i]);
   /* indices 0, 1, 2 at byte 12, after three out-of-range ones; bound with
    * offset 12 and size 12, which ends exactly at the last index used */
   vkt_buffer_create(ctx, 32, VK_BUFFER_USAGE_INDEX_BUFFER_BIT, VKT_MEM_UPLOAD, &indices);
   const uint32_t index_data[8] = { 1000, 1000, 1000, 0, 1, 2, 1000, 1000 };
   memcpy(indices.map, index_data, sizeof(index_data));
   vkt_buffer_flush(ctx, &indices);

   const VkDescriptorSetLayoutBinding binding = {
      .binding = 0,
      .descriptorType = VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_FRAGMENT_BIT,
   };
   const VkDescriptorSetLayoutCreateInfo set_layout_info = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
      .bindingCount = 1,
      .pBindings = &binding,
   };
   VkDescriptorSetLayout set_layout;
   VKT_CALL(vkCreateDescriptorSetLayout(dev, &set_layout_info, NULL, &set_layout));
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &set_layout,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));

   VkShaderModule vert = vkt_shader_load(ctx, "maint5.vert.spv");
   VkShaderModule frag_write = vkt_shader_load(ctx, "maint5_write.frag.spv");
   VkShaderModule frag_read = vkt_shader_load(ctx, "maint5_read.frag.spv");

   /* the first draw: attachment 0 at location 0, attachment 1 not written (no
    * location). The second: attachment 0 not written, attachment 1 at
    * location 0; attachment 0 is input attachment 0, attachment 1 none */
   const uint32_t write_locations[2] = { 0, VK_ATTACHMENT_UNUSED };
   const VkRenderingAttachmentLocationInfoKHR write_location_info = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_LOCATION_INFO_KHR,
      .colorAttachmentCount = 2,
      .pColorAttachmentLocations = write_locations,
   };
   const uint32_t read_locations[2] = { VK_ATTACHMENT_UNUSED, 0 };
   const uint32_t read_inputs[2] = { 0, VK_ATTACHMENT_UNUSED };
   const VkRenderingInputAttachmentIndexInfoKHR read_input_info = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_INPUT_ATTACHMENT_INDEX_INFO_KHR,
      .colorAttachmentCount = 2,
      .pColorAttachmentInputIndices = read_inputs,
   };
   const VkRenderingAttachmentLocationInfoKHR read_location_info = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_LOCATION_INFO_KHR,
      .pNext = &read_input_info,
      .colorAttachmentCount = 2,
      .pColorAttachmentLocations = read_locations,
   };
   VkPipeline write_pipeline =
      maint5_graphics_pipeline(ctx, layout, vert, frag_write, &write_location_info);
   VkPipeline read_pipeline =
      maint5_graphics_pipeline(ctx, layout, vert, frag_read, &read_location_info);

   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   for (uint32_t i = 0; i < 2; i++)
      vkt_cmd_image_barrier(cmd, &color[i], VK_IMAGE_LAYOUT_UNDEFINED,
                            VK_IMAGE_LAYOUT_RENDERING_LOCAL_READ_KHR,
                            VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                            VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                            VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
   VkRenderingAttachmentInfo attachments[2];
   for (uint32_t i = 0; i < 2; i++)
      attachments[i] = (VkRenderingAttachmentInfo){
         .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
         .imageView = color[i].view,
         .imageLayout = VK_IMAGE_LAYOUT_RENDERING_LOCAL_READ_KHR,
         .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
         .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
         .clearValue = { .color = { .float32 = { 0.0f, 0.0f, 0.0f, 0.0f } } },
      };
   const VkRenderingInfo rendering = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
      .renderArea = { { 0, 0 }, { MAINT5_SIZE, MAINT5_SIZE } },
      .layerCount = 1,
      .colorAttachmentCount = 2,
      .pColorAttachments = attachments,
   };
   vkCmdBeginRendering(cmd, &rendering);
   p->bind_index_buffer2(cmd, indices.buffer, 12, 12, VK_INDEX_TYPE_UINT32);

   /* draw 1: the pattern into attachment 0 only */
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, write_pipeline);
   p->set_attachment_locations(cmd, &write_location_info);
   vkCmdDrawIndexed(cmd, 3, 1, 0, 0, 0);

   /* attachment 0's writes made visible to input attachment reads */
   const VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_INPUT_ATTACHMENT_READ_BIT,
   };
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                        VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_DEPENDENCY_BY_REGION_BIT, 1,
                        &barrier, 0, NULL, 0, NULL);

   /* draw 2: reads attachment 0, writes attachment 1 */
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, read_pipeline);
   p->set_attachment_locations(cmd, &read_location_info);
   p->set_input_attachment_indices(cmd, &read_input_info);
   const VkDescriptorImageInfo input_info = {
      .imageView = color[0].view,
      .imageLayout = VK_IMAGE_LAYOUT_RENDERING_LOCAL_READ_KHR,
   };
   const VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstBinding = 0,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_INPUT_ATTACHMENT,
      .pImageInfo = &input_info,
   };
   p->push_descriptor_set(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, layout, 0, 1, &write);
   vkCmdDrawIndexed(cmd, 3, 1, 0, 0, 0);
   vkCmdEndRendering(cmd);

   for (uint32_t i = 0; i < 2; i++) {
      vkt_cmd_image_barrier(cmd, &color[i], VK_IMAGE_LAYOUT_RENDERING_LOCAL_READ_KHR,
                            VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                            VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                            VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                            VK_ACCESS_TRANSFER_READ_BIT);
      const VkBufferImageCopy region = {
         .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
         .imageExtent = { MAINT5_SIZE, MAINT5_SIZE, 1 },
      };
      vkCmdCopyImageToBuffer(cmd, color[i].image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                             readback[i].buffer, 1, &region);
   }
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);

   uint32_t wrong[2] = { 0, 0 };
   for (uint32_t i = 0; i < 2; i++)
      vkt_buffer_invalidate(ctx, &readback[i]);
   const uint8_t *px0 = readback[0].map, *px1 = readback[1].map;
   for (uint32_t y = 0; y < MAINT5_SIZE; y++) {
      for (uint32_t x = 0; x < MAINT5_SIZE; x++) {
         uint8_t want[4];
         maint5_expected(x, y, want);
         const uint8_t *a = px0 + (y * MAINT5_SIZE + x) * 4, *b = px1 + (y * MAINT5_SIZE + x) * 4;
         const uint8_t want1[4] = { want[2], want[1], want[0], want[3] }; /* .bgra */
         if (memcmp(a, want, 4)) {
            if (!wrong[0])
               fprintf(stderr, "maint5: attachment 0 (%u,%u) = %u %u %u %u, expected %u %u %u "
                               "%u\n", x, y, a[0], a[1], a[2], a[3], want[0], want[1],
                       want[2], want[3]);
            wrong[0]++;
         }
         if (memcmp(b, want1, 4)) {
            if (!wrong[1])
               fprintf(stderr, "maint5: attachment 1 (%u,%u) = %u %u %u %u, expected %u %u %u "
                               "%u\n", x, y, b[0], b[1], b[2], b[3], want1[0], want1[1],
                       want1[2], want1[3]);
            wrong[1]++;
         }
      }
   }
   vkt_check(ctx, !wrong[0], "maint5: the first draw: %u pixels wrong", wrong[0]);
   vkt_check(ctx, !wrong[1], "maint5: the local read: %u pixels wrong", wrong[1]);
   vkt_print_hex("maint5_attachment0_digest", vkt_digest(px0, (size_t)pixels_size));
   vkt_print_hex("maint5_attachment1_digest", vkt_digest(px1, (size_t)pixels_size));

   vkDestroyPipeline(dev, write_pipeline, NULL);
   vkDestroyPipeline(dev, read_pipeline, NULL);
   vkDestroyShaderModule(dev, vert, NULL);
   vkDestroyShaderModule(dev, frag_write, NULL);
   vkDestroyShaderModule(dev, frag_read, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
   vkt_buffer_destroy(ctx, &indices);
   for (uint32_t i = 0; i < 2; i++) {
      vkt_buffer_destroy(ctx, &readback[i]);
      vkt_image_destroy(ctx, &color[i]);
   }
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "maint5");
   for (uint32_t i = 0; i < 3; i++) {
      if (!vkt_has_device_extension(&ctx, maint5_extensions[i])) {
         fprintf(stderr, "maint5: the device lacks %s: skipped\n", maint5_extensions[i]);
         vkt_finish(&ctx);
         return 77;
      }
   }
   VkPhysicalDeviceDynamicRenderingLocalReadFeaturesKHR local_read = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DYNAMIC_RENDERING_LOCAL_READ_FEATURES_KHR,
   };
   VkPhysicalDeviceMaintenance5FeaturesKHR maintenance5 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_5_FEATURES_KHR,
      .pNext = &local_read,
   };
   VkPhysicalDeviceVulkan13Features features13 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
      .pNext = &maintenance5,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &features13,
   };
   vkGetPhysicalDeviceFeatures2(ctx.physical_device, &features);
   if (!local_read.dynamicRenderingLocalRead || !maintenance5.maintenance5 ||
       !features13.dynamicRendering) {
      fprintf(stderr, "maint5: dynamicRenderingLocalRead %u, maintenance5 %u, "
                      "dynamicRendering %u: skipped\n",
              local_read.dynamicRenderingLocalRead, maintenance5.maintenance5,
              features13.dynamicRendering);
      vkt_finish(&ctx);
      return 77;
   }
   VkPhysicalDeviceDynamicRenderingLocalReadFeaturesKHR enable_local_read = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DYNAMIC_RENDERING_LOCAL_READ_FEATURES_KHR,
      .dynamicRenderingLocalRead = VK_TRUE,
   };
   VkPhysicalDeviceMaintenance5FeaturesKHR enable_maintenance5 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_5_FEATURES_KHR,
      .pNext = &enable_local_read,
      .maintenance5 = VK_TRUE,
   };
   VkPhysicalDeviceVulkan13Features enable13 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
      .pNext = &enable_maintenance5,
      .dynamicRendering = VK_TRUE,
   };
   const struct vkt_device_info info = {
      .next = &enable13,
      .extensions = maint5_extensions,
      .extension_count = 3,
   };
   vkt_device_init(&ctx, &info);
   ctx.buffer_usage2 = true;
   struct maint5_procs procs;
   maint5_procs_init(&ctx, &procs);

   maint5_queries(&ctx, &procs);
   maint5_compute(&ctx, &procs);
   maint5_local_read(&ctx, &procs);
   return vkt_finish(&ctx);
}

#endif
