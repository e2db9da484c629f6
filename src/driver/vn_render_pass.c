/*
 * Render passes, and the render pass instances a command buffer records,
 * as far as the driver needs them: the view mask of each subpass. A query
 * ended (or a timestamp written) inside a multiview render pass instance
 * takes as many consecutive queries as the subpass has views, and the query
 * feedback must cover all of them, or a wait for the last ones never ends.
 */
#include "vn_command_buffer.h"
#include "vn_device.h"

#include <string.h>

struct vn_render_pass {
   struct vn_object obj;
   uint32_t subpass_count;
   uint32_t view_masks[]; /* per subpass; all 0 without multiview */
};
VN_HANDLE_CAST(vn_render_pass, VkRenderPass)

static struct vn_render_pass *
vn_render_pass_alloc(struct vn_device *dev,
                     uint32_t subpass_count,
                     const VkAllocationCallbacks *alloc)
{
   const size_t size =
      sizeof(struct vn_render_pass) + (size_t)subpass_count * sizeof(uint32_t);
   struct vn_render_pass *pass = vn_object_alloc(dev, size, VK_OBJECT_TYPE_RENDER_PASS, alloc);
   if (pass) {
      pass->subpass_count = subpass_count;
      memset(pass->view_masks, 0, (size_t)subpass_count * sizeof(uint32_t));
   }
   return pass;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateRenderPass(VkDevice device,
                    const VkRenderPassCreateInfo *pCreateInfo,
                    const VkAllocationCallbacks *pAllocator,
                    VkRenderPass *pRenderPass)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_render_pass *pass = vn_render_pass_alloc(dev, pCreateInfo->subpassCount, pAllocator);
   if (!pass)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   const VkRenderPassMultiviewCreateInfo *multiview =
      vp_chain_find(pCreateInfo->pNext, VK_STRUCTURE_TYPE_RENDER_PASS_MULTIVIEW_CREATE_INFO);
   if (multiview && multiview->subpassCount == pCreateInfo->subpassCount) {
      for (uint32_t i = 0; i < pass->subpass_count; i++)
         pass->view_masks[i] = multiview->pViewMasks[i];
   }
   *pRenderPass = vn_render_pass_to_handle(pass);
   vn_async_vkCreateRenderPass(dev->ring, device, pCreateInfo, NULL, pRenderPass);
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateRenderPass2(VkDevice device,
                     const VkRenderPassCreateInfo2 *pCreateInfo,
                     const VkAllocationCallbacks *pAllocator,
                     VkRenderPass *pRenderPass)
{
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_render_pass *pass = vn_render_pass_alloc(dev, pCreateInfo->subpassCount, pAllocator);
   if (!pass)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   for (uint32_t i = 0; i < pass->subpass_count; i++)
      pass->view_masks[i] = pCreateInfo->pSubpasses[i].viewMask;
   *pRenderPass = vn_render_pass_to_handle(pass);
   vn_async_vkCreateRenderPass2(dev->ring, device, pCreateInfo, NULL, pRenderPass);
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyRenderPass(VkDevice device,
                     VkRenderPass renderPass,
                     const VkAllocationCallbacks *pAllocator)
{
   struct vn_render_pass *pass = vn_render_pass_from_handle(renderPass);
   if (!pass)
      return;
   struct vn_device *dev = vn_device_from_handle(device);
   vn_async_vkDestroyRenderPass(dev->ring, device, renderPass, NULL);
   vn_object_free(dev, pass, pAllocator);
}

static uint32_t
vn_render_pass_view_mask(VkRenderPass renderPass, uint32_t subpass)
{
   const struct vn_render_pass *pass = vn_render_pass_from_handle(renderPass);
   return pass && subpass < pass->subpass_count ? pass->view_masks[subpass] : 0;
}

uint32_t
vn_render_pass_inherited_view_mask(const VkCommandBufferBeginInfo *info)
{
   const VkCommandBufferInheritanceInfo *inh = info->pInheritanceInfo;
   if (!inh || !(info->flags & VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT))
      return 0;
   if (inh->renderPass)
      return vn_render_pass_view_mask(inh->renderPass, inh->subpass);
   const VkCommandBufferInheritanceRenderingInfo *rendering =
      vp_chain_find(inh->pNext, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_RENDERING_INFO);
   return rendering ? rendering->viewMask : 0;
}

static void
vn_cmd_enter_subpass(VkCommandBuffer commandBuffer, VkRenderPass renderPass, uint32_t subpass)
{
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   cmd->render_pass = renderPass;
   cmd->subpass = subpass;
   cmd->view_mask = vn_render_pass_view_mask(renderPass, subpass);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdBeginRenderPass(VkCommandBuffer commandBuffer,
                      const VkRenderPassBeginInfo *pRenderPassBegin,
                      VkSubpassContents contents)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdBeginRenderPass(enc, 0, commandBuffer, pRenderPassBegin, contents);
   vn_cmd_enter_subpass(commandBuffer, pRenderPassBegin->renderPass, 0);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdBeginRenderPass2(VkCommandBuffer commandBuffer,
                       const VkRenderPassBeginInfo *pRenderPassBegin,
                       const VkSubpassBeginInfo *pSubpassBeginInfo)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdBeginRenderPass2(enc, 0, commandBuffer, pRenderPassBegin, pSubpassBeginInfo);
   vn_cmd_enter_subpass(commandBuffer, pRenderPassBegin->renderPass, 0);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdNextSubpass(VkCommandBuffer commandBuffer, VkSubpassContents contents)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdNextSubpass(enc, 0, commandBuffer, contents);
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   vn_cmd_enter_subpass(commandBuffer, cmd->render_pass, cmd->subpass + 1);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdNextSubpass2(VkCommandBuffer commandBuffer,
                   const VkSubpassBeginInfo *pSubpassBeginInfo,
                   const VkSubpassEndInfo *pSubpassEndInfo)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdNextSubpass2(enc, 0, commandBuffer, pSubpassBeginInfo, pSubpassEndInfo);
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   vn_cmd_enter_subpass(commandBuffer, cmd->render_pass, cmd->subpass + 1);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdEndRenderPass(VkCommandBuffer commandBuffer)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdEndRenderPass(enc, 0, commandBuffer);
   vn_cmd_enter_subpass(commandBuffer, VK_NULL_HANDLE, 0);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdEndRenderPass2(VkCommandBuffer commandBuffer, const VkSubpassEndInfo *pSubpassEndInfo)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdEndRenderPass2(enc, 0, commandBuffer, pSubpassEndInfo);
   vn_cmd_enter_subpass(commandBuffer, VK_NULL_HANDLE, 0);
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdBeginRendering(VkCommandBuffer commandBuffer, const VkRenderingInfo *pRenderingInfo)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdBeginRendering(enc, 0, commandBuffer, pRenderingInfo);
   struct vn_command_buffer *cmd = vn_command_buffer_from_handle(commandBuffer);
   cmd->render_pass = VK_NULL_HANDLE;
   cmd->subpass = 0;
   cmd->view_mask = pRenderingInfo->viewMask;
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdEndRendering(VkCommandBuffer commandBuffer)
{
   struct vp_encoder *enc = vn_cmd_encoder(commandBuffer);
   if (!enc)
      return;
   vp_encode_vkCmdEndRendering(enc, 0, commandBuffer);
   vn_cmd_enter_subpass(commandBuffer, VK_NULL_HANDLE, 0);
}
