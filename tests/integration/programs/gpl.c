/*
 * gpl: VK_EXT_graphics_pipeline_library. The same draw (four colored
 * triangles, a push-constant tint) is rendered with a monolithic pipeline and
 * with one linked from four libraries (vertex input, pre-rasterization with
 * the vertex shader, fragment shader, fragment output), each library given
 * only its own state; the fragment-shader library gets its shader through a
 * VkShaderModuleCreateInfo chained to the stage (no VkShaderModule). Both
 * images must be identical and hold the expected colors; their digest is
 * printed. The four libraries are made again for dynamic rendering (a
 * VkPipelineRenderingCreateInfo with a color attachment and no depth or
 * stencil one in the fragment ones): the fragment-shader library must keep its depth/
 * stencil state, which it cannot know to be unused (lavapipe reads it; the
 * CTS's multisampled-render-to-single-sampled library cases crashed the
 * host when the driver dropped it), and the image drawn with
 * vkCmdBeginRendering must equal the monolithic one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

#define GPL_SIZE 64u
#define GPL_FORMAT VK_FORMAT_R8G8B8A8_UNORM

struct gpl_state {
   VkPipelineVertexInputStateCreateInfo vertex_input;
   VkPipelineInputAssemblyStateCreateInfo input_assembly;
   VkViewport viewport;
   VkRect2D scissor;
   VkPipelineViewportStateCreateInfo viewport_state;
   VkPipelineRasterizationStateCreateInfo raster;
   VkPipelineMultisampleStateCreateInfo multisample;
   VkPipelineDepthStencilStateCreateInfo depth;
   VkPipelineColorBlendAttachmentState blend_attachment;
   VkPipelineColorBlendStateCreateInfo blend;
};

static void
gpl_state_init(struct gpl_state *s)
{
   memset(s, 0, sizeof(*s));
   s->vertex_input.sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO;
   s->input_assembly.sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO;
   s->input_assembly.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
   s->viewport = (VkViewport){ 0.0f, 0.0f, GPL_SIZE, GPL_SIZE, 0.0f, 1.0f };
   s->scissor = (VkRect2D){ { 0, 0 }, { GPL_SIZE, GPL_SIZE } };
   s->viewport_state.sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO;
   s->viewport_state.viewportCount = 1;
   s->viewport_state.pViewports = &s->viewport;
   s->viewport_state.scissorCount = 1;
   s->viewport_state.pScissors = &s->scissor;
   s->raster.sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO;
   s->raster.polygonMode = VK_POLYGON_MODE_FILL;
   s->raster.cullMode = VK_CULL_MODE_NONE;
   s->raster.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE;
   s->raster.lineWidth = 1.0f;
   s->multisample.sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO;
   s->multisample.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
   s->depth.sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO;
   s->blend_attachment.colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                                        VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT;
   s->blend.sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO;
   s->blend.attachmentCount = 1;
   s->blend.pAttachments = &s->blend_attachment;
}

static VkPipeline
gpl_library(struct vkt_context *ctx,
            VkGraphicsPipelineLibraryFlagsEXT part,
            const VkGraphicsPipelineCreateInfo *state)
{
   const VkGraphicsPipelineLibraryCreateInfoEXT lib = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_LIBRARY_CREATE_INFO_EXT,
      .flags = part,
   };
   VkGraphicsPipelineCreateInfo info = *state;
   info.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO;
   info.pNext = &lib;
   info.flags = VK_PIPELINE_CREATE_LIBRARY_BIT_KHR |
                VK_PIPELINE_CREATE_RETAIN_LINK_TIME_OPTIMIZATION_INFO_BIT_EXT;
   info.basePipelineIndex = -1;
   VkPipeline pipeline;
   VKT_CALL(vkCreateGraphicsPipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, &pipeline));
   return pipeline;
}

static void
gpl_render(struct vkt_context *ctx,
           VkPipeline pipeline,
           VkPipelineLayout layout,
           VkRenderPass render_pass,
           VkFramebuffer framebuffer,
           const struct vkt_image *color,
           const struct vkt_buffer *readback)
{
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   const VkClearValue clear = { .color = { .float32 = { 0.05f, 0.05f, 0.05f, 1.0f } } };
   const VkRenderPassBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
      .renderPass = render_pass,
      .framebuffer = framebuffer,
      .renderArea = { { 0, 0 }, { GPL_SIZE, GPL_SIZE } },
      .clearValueCount = 1,
      .pClearValues = &clear,
   };
   const float tint[4] = { 1.0f, 0.75f, 0.5f, 1.0f };
   vkCmdBeginRenderPass(cmd, &begin, VK_SUBPASS_CONTENTS_INLINE);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(tint), tint);
   vkCmdDraw(cmd, 12, 1, 0, 0);
   vkCmdEndRenderPass(cmd);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { GPL_SIZE, GPL_SIZE, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, color->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          readback->buffer, 1, &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, readback);
}

/* The same draw as gpl_render, in a dynamic render pass. */
static void
gpl_render_dynamic(struct vkt_context *ctx,
                   VkPipeline pipeline,
                   VkPipelineLayout layout,
                   const struct vkt_image *color,
                   const struct vkt_buffer *readback)
{
   VkCommandBuffer cmd = vkt_cmd_begin(ctx);
   vkt_cmd_image_barrier(cmd, color, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, 0,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT);
   const VkRenderingAttachmentInfo attachment = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO,
      .imageView = color->view,
      .imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
      .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
      .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
      .clearValue = { .color = { .float32 = { 0.05f, 0.05f, 0.05f, 1.0f } } },
   };
   const VkRenderingInfo rendering = {
      .sType = VK_STRUCTURE_TYPE_RENDERING_INFO,
      .renderArea = { { 0, 0 }, { GPL_SIZE, GPL_SIZE } },
      .layerCount = 1,
      .colorAttachmentCount = 1,
      .pColorAttachments = &attachment,
   };
   const float tint[4] = { 1.0f, 0.75f, 0.5f, 1.0f };
   vkCmdBeginRendering(cmd, &rendering);
   vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
   vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(tint), tint);
   vkCmdDraw(cmd, 12, 1, 0, 0);
   vkCmdEndRendering(cmd);
   vkt_cmd_image_barrier(cmd, color, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                         VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                         VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { GPL_SIZE, GPL_SIZE, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, color->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          readback->buffer, 1, &region);
   vkt_cmd_memory_barrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
   vkt_cmd_submit_wait(ctx, cmd);
   vkt_buffer_invalidate(ctx, readback);
}

/* pixels not left at the clear color */
static uint32_t
gpl_covered(const uint8_t *pixels)
{
   uint32_t n = 0;
   for (uint32_t i = 0; i < GPL_SIZE * GPL_SIZE; i++)
      n += pixels[i * 4] != 13 || pixels[i * 4 + 1] != 13 || pixels[i * 4 + 2] != 13;
   return n;
}

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "gpl");
   static const char *const exts[] = {
      VK_KHR_PIPELINE_LIBRARY_EXTENSION_NAME,
      VK_EXT_GRAPHICS_PIPELINE_LIBRARY_EXTENSION_NAME,
   };
   for (unsigned i = 0; i < 2; i++) {
      if (!vkt_has_device_extension(&ctx, exts[i]))
         vkt_die("the device lacks %s", exts[i]);
   }
   VkPhysicalDeviceDynamicRenderingFeatures dr_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DYNAMIC_RENDERING_FEATURES,
      .dynamicRendering = VK_TRUE,
   };
   VkPhysicalDeviceGraphicsPipelineLibraryFeaturesEXT gpl_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_GRAPHICS_PIPELINE_LIBRARY_FEATURES_EXT,
      .pNext = &dr_features,
      .graphicsPipelineLibrary = VK_TRUE,
   };
   const struct vkt_device_info info = {
      .next = &gpl_features,
      .extensions = exts,
      .extension_count = 2,
   };
   vkt_device_init(&ctx, &info);
   VkDevice dev = ctx.device;

   struct vkt_image color;
   vkt_image_create(&ctx, GPL_FORMAT, GPL_SIZE, GPL_SIZE,
                    VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &color);
   struct vkt_buffer mono_rb, linked_rb;
   vkt_buffer_create(&ctx, GPL_SIZE * GPL_SIZE * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_READBACK, &mono_rb);
   vkt_buffer_create(&ctx, GPL_SIZE * GPL_SIZE * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                     VKT_MEM_READBACK, &linked_rb);
   VkRenderPass render_pass = vkt_render_pass_create(&ctx, GPL_FORMAT, VK_FORMAT_UNDEFINED);
   VkFramebuffer framebuffer = vkt_framebuffer_create(&ctx, render_pass, &color, NULL);

   const VkPushConstantRange push = { VK_SHADER_STAGE_FRAGMENT_BIT, 0, 16 };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &push,
   };
   VkPipelineLayout layout;
   VKT_CALL(vkCreatePipelineLayout(dev, &layout_info, NULL, &layout));
   VkShaderModule vert = vkt_shader_load(&ctx, "gpl.vert.spv");
   VkShaderModule frag = vkt_shader_load(&ctx, "gpl.frag.spv");

   struct gpl_state s;
   gpl_state_init(&s);
   const VkPipelineShaderStageCreateInfo stages[2] = {
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_VERTEX_BIT, .module = vert, .pName = "main" },
      { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
        .stage = VK_SHADER_STAGE_FRAGMENT_BIT, .module = frag, .pName = "main" },
   };

   /* the monolithic reference */
   const VkGraphicsPipelineCreateInfo mono_info = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
      .stageCount = 2,
      .pStages = stages,
      .pVertexInputState = &s.vertex_input,
      .pInputAssemblyState = &s.input_assembly,
      .pViewportState = &s.viewport_state,
      .pRasterizationState = &s.raster,
      .pMultisampleState = &s.multisample,
      .pDepthStencilState = &s.depth,
      .pColorBlendState = &s.blend,
      .layout = layout,
      .renderPass = render_pass,
      .basePipelineIndex = -1,
   };
   VkPipeline mono;
   VKT_CALL(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &mono_info, NULL, &mono));

   /* four libraries, each with its own state only */
   const VkGraphicsPipelineCreateInfo vi_state = {
      .pVertexInputState = &s.vertex_input,
      .pInputAssemblyState = &s.input_assembly,
   };
   const VkGraphicsPipelineCreateInfo pre_state = {
      .stageCount = 1,
      .pStages = &stages[0],
      .pViewportState = &s.viewport_state,
      .pRasterizationState = &s.raster,
      .layout = layout,
      .renderPass = render_pass,
   };
   /* the fragment shader handed over as SPIR-V, without a module */
   size_t frag_size;
   uint32_t *frag_code = vkt_shader_read(&ctx, "gpl.frag.spv", &frag_size);
   const VkShaderModuleCreateInfo frag_module = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = frag_size,
      .pCode = frag_code,
   };
   const VkPipelineShaderStageCreateInfo frag_inline = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .pNext = &frag_module,
      .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
      .pName = "main",
   };
   const VkGraphicsPipelineCreateInfo fs_state = {
      .stageCount = 1,
      .pStages = &frag_inline,
      .pMultisampleState = &s.multisample,
      .pDepthStencilState = &s.depth,
      .layout = layout,
      .renderPass = render_pass,
   };
   const VkGraphicsPipelineCreateInfo fo_state = {
      .pMultisampleState = &s.multisample,
      .pColorBlendState = &s.blend,
      .renderPass = render_pass,
   };
   VkPipeline libs[4] = {
      gpl_library(&ctx, VK_GRAPHICS_PIPELINE_LIBRARY_VERTEX_INPUT_INTERFACE_BIT_EXT, &vi_state),
      gpl_library(&ctx, VK_GRAPHICS_PIPELINE_LIBRARY_PRE_RASTERIZATION_SHADERS_BIT_EXT,
                  &pre_state),
      gpl_library(&ctx, VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_SHADER_BIT_EXT, &fs_state),
      gpl_library(&ctx, VK_GRAPHICS_PIPELINE_LIBRARY_FRAGMENT_OUTPUT_INTERFACE_BIT_EXT,
                  &fo_state),
   };
   const VkPipelineLibraryCreateInfoKHR link = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LIBRARY_CREATE_INFO_KHR,
      .libraryCount = 4,
      .pLibraries = libs,
   };
   const VkGraphicsPipelineCreateInfo linked_info = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
      .pNext = &link,
      .flags = VK_PIPELINE_CREATE_LINK_TIME_OPTIMIZATION_BIT_EXT,
      .layout = layout,
      .basePipelineIndex = -1,
   };
   VkPipeline linked;
   VKT_CALL(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &linked_info, NULL, &linked));

   /* the libraries for dynamic rendering: no render pass, the attachment
    * formats (depth and stencil undefined) chained to the fragment shader
    * and output ones */
   VkPipelineRenderingCreateInfo dr_formats = { /* pNext below is not const */
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO,
      .colorAttachmentCount = 1,
      .pColorAttachmentFormats = &(VkFormat){ GPL_FORMAT },
   };
   VkGraphicsPipelineCreateInfo dr_states[4] = { vi_state, pre_state, fs_state, fo_state };
   VkPipeline dr_libs[4];
   for (unsigned i = 0; i < 4; i++) {
      dr_states[i].renderPass = VK_NULL_HANDLE;
      const VkGraphicsPipelineLibraryCreateInfoEXT lib = {
         .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_LIBRARY_CREATE_INFO_EXT,
         /* the formats where they matter (the validation layer of Debian 12
          * takes a pre-rasterization library with them for an output one) */
         .pNext = i >= 2 ? &dr_formats : NULL,
         .flags = 1u << i, /* vertex input, pre-rasterization, fragment shader, output */
      };
      VkGraphicsPipelineCreateInfo dr_info = dr_states[i];
      dr_info.sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO;
      dr_info.pNext = &lib;
      dr_info.flags = VK_PIPELINE_CREATE_LIBRARY_BIT_KHR |
                      VK_PIPELINE_CREATE_RETAIN_LINK_TIME_OPTIMIZATION_INFO_BIT_EXT;
      dr_info.basePipelineIndex = -1;
      VKT_CALL(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &dr_info, NULL, &dr_libs[i]));
   }
   const VkPipelineLibraryCreateInfoKHR dr_link = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LIBRARY_CREATE_INFO_KHR,
      .libraryCount = 4,
      .pLibraries = dr_libs,
   };
   VkGraphicsPipelineCreateInfo dr_linked_info = linked_info;
   dr_linked_info.pNext = &dr_link;
   VkPipeline dr_linked;
   VKT_CALL(vkCreateGraphicsPipelines(dev, VK_NULL_HANDLE, 1, &dr_linked_info, NULL, &dr_linked));

   gpl_render(&ctx, mono, layout, render_pass, framebuffer, &color, &mono_rb);
   gpl_render_dynamic(&ctx, dr_linked, layout, &color, &linked_rb);
   vkt_check(&ctx, memcmp(mono_rb.map, linked_rb.map, GPL_SIZE * GPL_SIZE * 4) == 0,
             "the image of the pipeline linked for dynamic rendering differs from the "
             "monolithic one");
   gpl_render(&ctx, linked, layout, render_pass, framebuffer, &color, &linked_rb);
   const uint32_t covered = gpl_covered(mono_rb.map);
   vkt_check(&ctx, covered > GPL_SIZE * GPL_SIZE / 4 && covered < GPL_SIZE * GPL_SIZE,
             "monolithic pipeline covered %u pixels", covered);
   vkt_check(&ctx, memcmp(mono_rb.map, linked_rb.map, GPL_SIZE * GPL_SIZE * 4) == 0,
             "the linked pipeline's image differs from the monolithic one");
   vkt_print_u64("gpl_covered", "pixels", gpl_covered(linked_rb.map));
   vkt_print_hex("gpl_image_digest", vkt_digest(linked_rb.map, GPL_SIZE * GPL_SIZE * 4));

   free(frag_code);
   vkDestroyPipeline(dev, linked, NULL);
   vkDestroyPipeline(dev, dr_linked, NULL);
   for (unsigned i = 0; i < 4; i++)
      vkDestroyPipeline(dev, dr_libs[i], NULL);
   for (unsigned i = 0; i < 4; i++)
      vkDestroyPipeline(dev, libs[i], NULL);
   vkDestroyPipeline(dev, mono, NULL);
   vkDestroyShaderModule(dev, frag, NULL);
   vkDestroyShaderModule(dev, vert, NULL);
   vkDestroyPipelineLayout(dev, layout, NULL);
   vkDestroyFramebuffer(dev, framebuffer, NULL);
   vkDestroyRenderPass(dev, render_pass, NULL);
   vkt_buffer_destroy(&ctx, &linked_rb);
   vkt_buffer_destroy(&ctx, &mono_rb);
   vkt_image_destroy(&ctx, &color);
   return vkt_finish(&ctx);
}
