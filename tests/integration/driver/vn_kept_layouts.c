/*
 * vn_kept_layouts: lavapipe reads a pipeline layout when it executes a
 * command buffer that named it, so the renderer keeps a layout the guest
 * destroyed alive on the host while such a command buffer is not reset or
 * freed (docs/renderer.md); those layouts count against the client's object
 * limit. Each of COUNT iterations records vkCmdPushConstants with a new
 * layout into a new command buffer, ends it and destroys the layout (valid:
 * the command buffer is no longer recording).
 *
 *   vn_kept_layouts COUNT keep   the command buffers stay: COUNT of them
 *                                and COUNT kept layouts; through a server
 *                                whose --max-objects lies between COUNT and
 *                                2 * COUNT the device must be lost
 *   vn_kept_layouts COUNT free   each command buffer is freed at once (its
 *                                layout goes with it): the device must live
 *
 * Exit status 0 when that holds, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkt.h"

int
main(int argc, char **argv)
{
   if (argc != 3 || (strcmp(argv[2], "keep") && strcmp(argv[2], "free")))
      vkt_die("usage: vn_kept_layouts COUNT keep|free");
   const uint32_t count = (uint32_t)strtoul(argv[1], NULL, 10);
   const bool keep = !strcmp(argv[2], "keep");
   struct vkt_context ctx;
   vkt_init(&ctx, "vn_kept_layouts");
   vkt_device_init(&ctx, NULL);

   const VkPushConstantRange range = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 16 };
   const VkPipelineLayoutCreateInfo layout_info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &range,
   };
   const VkCommandBufferAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = ctx.cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   const VkCommandBufferBeginInfo begin = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   const uint32_t data[4] = { 1, 2, 3, 4 };
   VkResult result = VK_SUCCESS;
   uint32_t done = 0;
   for (; done < count && result == VK_SUCCESS; done++) {
      VkPipelineLayout layout;
      VkCommandBuffer cmd;
      result = vkCreatePipelineLayout(ctx.device, &layout_info, NULL, &layout);
      if (result != VK_SUCCESS)
         break;
      result = vkAllocateCommandBuffers(ctx.device, &alloc, &cmd);
      if (result == VK_SUCCESS)
         result = vkBeginCommandBuffer(cmd, &begin);
      if (result == VK_SUCCESS) {
         vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(data), data);
         result = vkEndCommandBuffer(cmd);
      }
      vkDestroyPipelineLayout(ctx.device, layout, NULL);
      if (!keep && result == VK_SUCCESS)
         vkFreeCommandBuffers(ctx.device, ctx.cmd_pool, 1, &cmd);
   }
   /* the renderer's verdict comes with the next wait */
   if (result == VK_SUCCESS)
      result = vkDeviceWaitIdle(ctx.device);
   const bool lost = result == VK_ERROR_DEVICE_LOST;
   printf("vn_kept_layouts: %s, %u iterations: %s\n", argv[2], done,
          lost ? "device lost" : result == VK_SUCCESS ? "device alive" : "other error");
   if (keep != lost) {
      fprintf(stderr, "vn_kept_layouts: expected the device %s (result %d)\n",
              keep ? "lost" : "alive", (int)result);
      return 1;
   }
   if (lost)
      return 0; /* nothing more can be asked of a lost device */
   return vkt_finish(&ctx);
}
