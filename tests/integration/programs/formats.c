/*
 * formats: what format queries tell must hold together with the extensions
 * the device offers. For every core format:
 * - no VkFormatProperties3 feature bit of an extension the device does not
 *   offer (VK_NV_linear_color_attachment's LINEAR_COLOR_ATTACHMENT,
 *   VK_EXT_host_image_copy's HOST_IMAGE_TRANSFER);
 * - without VK_NV_linear_color_attachment, a linear color attachment image is
 *   supported only where the linear features have COLOR_ATTACHMENT (the CTS's
 *   api.info.unsupported_image_usage: NVIDIA's driver accepts such images
 *   through its extension, which Venus does not carry).
 * Prints the number of formats checked and of violations (0), so native and
 * other ICDs compare equal.
 */
#include <stdio.h>

#include "vkt.h"

#ifndef VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT
#define VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT 0x400000000000ULL
#endif

/* the last core format of Vulkan 1.0, the range checked */
#define FORMATS_LAST VK_FORMAT_ASTC_12x12_SRGB_BLOCK

int
main(void)
{
   struct vkt_context ctx;
   vkt_init(&ctx, "formats");
   vkt_device_init(&ctx, &(struct vkt_device_info){ 0 });
   const bool has_linear_color =
      vkt_has_device_extension(&ctx, "VK_NV_linear_color_attachment");
   const bool has_host_copy = vkt_has_device_extension(&ctx, "VK_EXT_host_image_copy");

   VkFormatFeatureFlags2 hidden = 0;
   if (!has_linear_color)
      hidden |= VK_FORMAT_FEATURE_2_LINEAR_COLOR_ATTACHMENT_BIT_NV;
   if (!has_host_copy)
      hidden |= VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT;

   uint32_t checked = 0, bad_bits = 0, bad_linear = 0;
   for (VkFormat f = VK_FORMAT_R4G4_UNORM_PACK8; f <= FORMATS_LAST; f++) {
      VkFormatProperties3 props3 = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3 };
      VkFormatProperties2 props = {
         .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2,
         .pNext = &props3,
      };
      vkGetPhysicalDeviceFormatProperties2(ctx.physical_device, f, &props);
      checked++;
      const VkFormatFeatureFlags2 all = props3.linearTilingFeatures |
                                        props3.optimalTilingFeatures | props3.bufferFeatures;
      if (all & hidden) {
         bad_bits++;
         fprintf(stderr, "formats: format %d has feature bits 0x%llx of an extension not offered\n",
                 (int)f, (unsigned long long)(all & hidden));
      }
      if (has_linear_color || (props3.linearTilingFeatures & VK_FORMAT_FEATURE_2_COLOR_ATTACHMENT_BIT))
         continue;
      VkImageFormatProperties image;
      const VkResult r = vkGetPhysicalDeviceImageFormatProperties(
         ctx.physical_device, f, VK_IMAGE_TYPE_2D, VK_IMAGE_TILING_LINEAR,
         VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT, 0, &image);
      if (r != VK_ERROR_FORMAT_NOT_SUPPORTED) {
         bad_linear++;
         fprintf(stderr, "formats: format %d: a linear color attachment is %s without the feature\n",
                 (int)f, vkt_result_string(r));
      }
   }
   vkt_check(&ctx, bad_bits == 0, "%u formats with feature bits of extensions not offered",
             bad_bits);
   vkt_check(&ctx, bad_linear == 0,
             "%u formats accept linear color attachments without the feature", bad_linear);
   vkt_print_u64("formats_checked", "count", checked);
   vkt_print_u64("formats_hidden_bits", "count", bad_bits);
   vkt_print_u64("formats_linear_color_mismatch", "count", bad_linear);
   return vkt_finish(&ctx);
}
