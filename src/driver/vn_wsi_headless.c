/*
 * VK_EXT_headless_surface: nothing shows or reads the images. A present
 * still waits for its semaphores (an empty submission with the image's
 * fence) so that present ids, present waits and acquires follow the GPU
 * work; the surface's size is the swapchain's to choose.
 */
#include "vn_wsi.h"

static VkResult
vn_wsi_headless_surface_extent(VkIcdSurfaceBase *surface, VkExtent2D *out_extent)
{
   (void)surface;
   *out_extent = (VkExtent2D){ UINT32_MAX, UINT32_MAX };
   return VK_SUCCESS;
}

static VkResult
vn_wsi_headless_chain_init(struct vn_swapchain *sc)
{
   /* no per-chain state; platform_data marks the chain initialised */
   sc->platform_data = sc;
   return VK_SUCCESS;
}

static void
vn_wsi_headless_chain_fini(struct vn_swapchain *sc)
{
   sc->platform_data = NULL;
}

static VkResult
vn_wsi_headless_present(struct vn_swapchain *sc, uint32_t index)
{
   vn_wsi_image_idle(sc, index);
   return VK_SUCCESS;
}

static const VkPresentModeKHR vn_wsi_headless_modes[] = {
   VK_PRESENT_MODE_FIFO_KHR,
   VK_PRESENT_MODE_MAILBOX_KHR,
   VK_PRESENT_MODE_IMMEDIATE_KHR,
   VK_PRESENT_MODE_FIFO_RELAXED_KHR,
};

/* Nothing shows the images, so no window system dictates a format: the
 * formats of Mesa's own headless surfaces (lavapipe 25), in their order, so
 * that an application taking the first one renders through Venus as it does
 * natively (with X11's list, B8G8R8A8_SRGB first, vkmark rendered to an sRGB
 * target through us and to R8G8B8A8_UNORM natively). */
static const VkFormat vn_wsi_headless_formats[] = {
   VK_FORMAT_R8G8B8A8_UNORM,
   VK_FORMAT_B8G8R8A8_UNORM,
};

const struct vn_wsi_platform vn_wsi_headless_platform = {
   .platform = VK_ICD_WSI_PLATFORM_HEADLESS,
   .surface_extent = vn_wsi_headless_surface_extent,
   .modes = vn_wsi_headless_modes,
   .mode_count = VN_ARRAY_SIZE(vn_wsi_headless_modes),
   .alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR | VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR,
   .formats = vn_wsi_headless_formats,
   .format_count = VN_ARRAY_SIZE(vn_wsi_headless_formats),
   .needs_copy = false,
   .chain_init = vn_wsi_headless_chain_init,
   .chain_fini = vn_wsi_headless_chain_fini,
   .present = vn_wsi_headless_present,
};
