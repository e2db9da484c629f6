/*
 * Window-system integration shared by every platform: the entry points of
 * the surface and swapchain extensions, the surface queries, swapchains and
 * their present thread (docs/driver.md "Window systems").
 *
 * A present submits, on the application's queue, one command buffer that
 * waits for the present's semaphores and copies the image into its linear
 * buffer (host-visible memory the guest maps), with the image's fence. The
 * swapchain's present thread waits for that fence, hands the memory to the
 * platform, and marks the image idle once the window system has read it;
 * vkAcquireNextImageKHR returns only idle images, so its semaphore and fence
 * are signalled at once (a temporary signalled payload where the device
 * has sync files, else an empty submission).
 */
#include "vn_wsi.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "vn_device.h"
#include "vn_instance.h"

/* ------------------------------------------------------------------ */
/* surfaces                                                            */

const struct vn_wsi_platform *
vn_wsi_platform_for(VkIcdSurfaceBase *surface)
{
   switch (surface->platform) {
#ifdef VN_WSI_X11
   case VK_ICD_WSI_PLATFORM_XCB:
   case VK_ICD_WSI_PLATFORM_XLIB:
      return &vn_wsi_x11_platform;
#endif
#ifdef VN_WSI_WAYLAND
   case VK_ICD_WSI_PLATFORM_WAYLAND:
      return &vn_wsi_wayland_platform;
#endif
   case VK_ICD_WSI_PLATFORM_HEADLESS:
      return &vn_wsi_headless_platform;
   default:
      return NULL;
   }
}

static VkIcdSurfaceBase *
vn_surface_from_handle(VkSurfaceKHR surface)
{
   return (VkIcdSurfaceBase *)(uintptr_t)surface;
}

static VkResult
vn_wsi_surface_create(VkInstance instance,
                      const VkAllocationCallbacks *pAllocator,
                      size_t size,
                      const void *init,
                      VkSurfaceKHR *pSurface)
{
   struct vn_instance *inst = vn_instance_from_handle(instance);
   void *surface = vn_alloc(pAllocator ? pAllocator : &inst->alloc, size,
                            VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!surface)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   memcpy(surface, init, size);
   *pSurface = (VkSurfaceKHR)(uintptr_t)surface;
   return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateHeadlessSurfaceEXT(VkInstance instance,
                            const VkHeadlessSurfaceCreateInfoEXT *pCreateInfo,
                            const VkAllocationCallbacks *pAllocator,
                            VkSurfaceKHR *pSurface)
{
   (void)pCreateInfo;
   const VkIcdSurfaceHeadless s = { .base.platform = VK_ICD_WSI_PLATFORM_HEADLESS };
   return vn_wsi_surface_create(instance, pAllocator, sizeof(s), &s, pSurface);
}

#ifdef VN_WSI_X11
VkResult
vn_wsi_x11_create_xcb_surface(VkInstance instance,
                              const void *create_info,
                              bool xlib,
                              const VkAllocationCallbacks *pAllocator,
                              VkSurfaceKHR *pSurface);

static VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateXcbSurfaceKHR(VkInstance instance,
                       const void *pCreateInfo,
                       const VkAllocationCallbacks *pAllocator,
                       VkSurfaceKHR *pSurface)
{
   return vn_wsi_x11_create_xcb_surface(instance, pCreateInfo, false, pAllocator, pSurface);
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateXlibSurfaceKHR(VkInstance instance,
                        const void *pCreateInfo,
                        const VkAllocationCallbacks *pAllocator,
                        VkSurfaceKHR *pSurface)
{
   return vn_wsi_x11_create_xcb_surface(instance, pCreateInfo, true, pAllocator, pSurface);
}
#endif

#ifdef VN_WSI_WAYLAND
VkResult
vn_wsi_wayland_create_surface(VkInstance instance,
                              const void *create_info,
                              const VkAllocationCallbacks *pAllocator,
                              VkSurfaceKHR *pSurface);
VkBool32
vn_wsi_wayland_presentation_support(void *display);

static VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateWaylandSurfaceKHR(VkInstance instance,
                           const void *pCreateInfo,
                           const VkAllocationCallbacks *pAllocator,
                           VkSurfaceKHR *pSurface)
{
   return vn_wsi_wayland_create_surface(instance, pCreateInfo, pAllocator, pSurface);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
vn_GetPhysicalDeviceWaylandPresentationSupportKHR(VkPhysicalDevice physicalDevice,
                                                  uint32_t queueFamilyIndex,
                                                  void *display)
{
   (void)queueFamilyIndex;
   return vn_wsi_physical_device_supported(vn_physical_device_from_handle(physicalDevice)) &&
          vn_wsi_wayland_presentation_support(display);
}
#endif

#ifdef VN_WSI_X11
VkBool32
vn_wsi_x11_presentation_support(void *connection, uint32_t visual_id, bool xlib);

static VKAPI_ATTR VkBool32 VKAPI_CALL
vn_GetPhysicalDeviceXcbPresentationSupportKHR(VkPhysicalDevice physicalDevice,
                                              uint32_t queueFamilyIndex,
                                              void *connection,
                                              uint32_t visual_id)
{
   (void)queueFamilyIndex;
   return vn_wsi_physical_device_supported(vn_physical_device_from_handle(physicalDevice)) &&
          vn_wsi_x11_presentation_support(connection, visual_id, false);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
vn_GetPhysicalDeviceXlibPresentationSupportKHR(VkPhysicalDevice physicalDevice,
                                               uint32_t queueFamilyIndex,
                                               void *dpy,
                                               unsigned long visual_id)
{
   (void)queueFamilyIndex;
   return vn_wsi_physical_device_supported(vn_physical_device_from_handle(physicalDevice)) &&
          vn_wsi_x11_presentation_support(dpy, (uint32_t)visual_id, true);
}
#endif

static VKAPI_ATTR void VKAPI_CALL
vn_DestroySurfaceKHR(VkInstance instance,
                     VkSurfaceKHR surface,
                     const VkAllocationCallbacks *pAllocator)
{
   if (!surface)
      return;
   vn_free(pAllocator ? pAllocator : &vn_instance_from_handle(instance)->alloc,
           vn_surface_from_handle(surface));
}

bool
vn_wsi_physical_device_supported(const struct vn_physical_device *pdev)
{
   return pdev->can_map;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceSurfaceSupportKHR(VkPhysicalDevice physicalDevice,
                                      uint32_t queueFamilyIndex,
                                      VkSurfaceKHR surface,
                                      VkBool32 *pSupported)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   VkIcdSurfaceBase *s = vn_surface_from_handle(surface);
   const struct vn_wsi_platform *platform = vn_wsi_platform_for(s);
   *pSupported = VK_FALSE;
   if (!platform || queueFamilyIndex >= pdev->queue_family_count)
      return VK_SUCCESS;
   /* the copy needs a transfer-capable family (graphics and compute are) */
   const VkQueueFlags flags =
      pdev->queue_families[queueFamilyIndex].queueFamilyProperties.queueFlags;
   if (!(flags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT | VK_QUEUE_TRANSFER_BIT)))
      return VK_SUCCESS;
   VkExtent2D extent;
   const VkResult result = platform->surface_extent(s, &extent);
   if (result != VK_SUCCESS)
      return vn_error(result);
   *pSupported = vn_wsi_physical_device_supported(pdev);
   return VK_SUCCESS;
}

static const VkFormat vn_wsi_formats[] = {
   /* X11 TrueColor visuals and wl_shm's XRGB/ARGB8888 are BGRA in memory */
   VK_FORMAT_B8G8R8A8_SRGB,
   VK_FORMAT_B8G8R8A8_UNORM,
};

/* the formats a surface offers: its platform's, else vn_wsi_formats (also
 * for VK_NULL_HANDLE, which only VK_GOOGLE_surfaceless_query would allow) */
static const VkFormat *
vn_wsi_surface_formats(VkSurfaceKHR surface, uint32_t *count)
{
   const struct vn_wsi_platform *platform =
      surface ? vn_wsi_platform_for(vn_surface_from_handle(surface)) : NULL;
   if (platform && platform->formats) {
      *count = platform->format_count;
      return platform->formats;
   }
   *count = VN_ARRAY_SIZE(vn_wsi_formats);
   return vn_wsi_formats;
}

uint32_t
vn_wsi_min_image_count(VkPresentModeKHR mode)
{
   /* mailbox keeps one image on screen and one queued while the
    * application renders a third */
   return mode == VK_PRESENT_MODE_MAILBOX_KHR ? 3 : 2;
}

static VkResult
vn_wsi_get_caps(VkIcdSurfaceBase *surface,
                const void *info_chain,
                VkSurfaceCapabilitiesKHR *caps,
                void *out_chain)
{
   const struct vn_wsi_platform *platform = vn_wsi_platform_for(surface);
   if (!platform)
      return vn_error(VK_ERROR_SURFACE_LOST_KHR);
   VkExtent2D extent;
   VkResult result = platform->surface_extent(surface, &extent);
   if (result != VK_SUCCESS)
      return vn_error(result);

   const VkSurfacePresentModeEXT *mode_info =
      vp_chain_find(info_chain, VK_STRUCTURE_TYPE_SURFACE_PRESENT_MODE_EXT);
   *caps = (VkSurfaceCapabilitiesKHR){
      .minImageCount = mode_info ? vn_wsi_min_image_count(mode_info->presentMode) : 2,
      .maxImageCount = VN_WSI_MAX_IMAGES,
      .currentExtent = extent,
      .minImageExtent = { 1, 1 },
      .maxImageExtent = { 16384, 16384 },
      .maxImageArrayLayers = 1,
      .supportedTransforms = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
      .currentTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
      .supportedCompositeAlpha = platform->alpha,
      .supportedUsageFlags = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
                             VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                             VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT,
   };
   if (extent.width != UINT32_MAX) {
      caps->minImageExtent = extent;
      caps->maxImageExtent = extent;
   }

   for (VkBaseOutStructure *s = out_chain; s; s = s->pNext) {
      switch (s->sType) {
      case VK_STRUCTURE_TYPE_SURFACE_PRESENT_SCALING_CAPABILITIES_EXT: {
         VkSurfacePresentScalingCapabilitiesEXT *scaling = (void *)s;
         scaling->supportedPresentScaling = 0;
         scaling->supportedPresentGravityX = 0;
         scaling->supportedPresentGravityY = 0;
         scaling->minScaledImageExtent = caps->minImageExtent;
         scaling->maxScaledImageExtent = caps->maxImageExtent;
         break;
      }
      case VK_STRUCTURE_TYPE_SURFACE_PRESENT_MODE_COMPATIBILITY_EXT: {
         /* every mode of the surface works with every swapchain of it */
         VkSurfacePresentModeCompatibilityEXT *compat = (void *)s;
         if (!compat->pPresentModes) {
            compat->presentModeCount = platform->mode_count;
         } else {
            const uint32_t n = VN_MIN(compat->presentModeCount, platform->mode_count);
            memcpy(compat->pPresentModes, platform->modes, n * sizeof(VkPresentModeKHR));
            compat->presentModeCount = n;
         }
         break;
      }
      case VK_STRUCTURE_TYPE_SHARED_PRESENT_SURFACE_CAPABILITIES_KHR:
         ((VkSharedPresentSurfaceCapabilitiesKHR *)s)->sharedPresentSupportedUsageFlags = 0;
         break;
      default:
         break;
      }
   }
   return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceSurfaceCapabilitiesKHR(VkPhysicalDevice physicalDevice,
                                           VkSurfaceKHR surface,
                                           VkSurfaceCapabilitiesKHR *pCaps)
{
   (void)physicalDevice;
   return vn_wsi_get_caps(vn_surface_from_handle(surface), NULL, pCaps, NULL);
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceSurfaceCapabilities2KHR(VkPhysicalDevice physicalDevice,
                                            const VkPhysicalDeviceSurfaceInfo2KHR *pInfo,
                                            VkSurfaceCapabilities2KHR *pCaps)
{
   (void)physicalDevice;
   return vn_wsi_get_caps(vn_surface_from_handle(pInfo->surface), pInfo->pNext,
                          &pCaps->surfaceCapabilities, pCaps->pNext);
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceSurfaceFormatsKHR(VkPhysicalDevice physicalDevice,
                                      VkSurfaceKHR surface,
                                      uint32_t *pCount,
                                      VkSurfaceFormatKHR *pFormats)
{
   (void)physicalDevice;
   uint32_t total;
   const VkFormat *formats = vn_wsi_surface_formats(surface, &total);
   if (!pFormats) {
      *pCount = total;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pCount, total);
   for (uint32_t i = 0; i < n; i++)
      pFormats[i] = (VkSurfaceFormatKHR){ formats[i], VK_COLOR_SPACE_SRGB_NONLINEAR_KHR };
   *pCount = n;
   return n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceSurfaceFormats2KHR(VkPhysicalDevice physicalDevice,
                                       const VkPhysicalDeviceSurfaceInfo2KHR *pInfo,
                                       uint32_t *pCount,
                                       VkSurfaceFormat2KHR *pFormats)
{
   (void)physicalDevice;
   uint32_t total;
   const VkFormat *formats = vn_wsi_surface_formats(pInfo->surface, &total);
   if (!pFormats) {
      *pCount = total;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pCount, total);
   for (uint32_t i = 0; i < n; i++) {
      pFormats[i].surfaceFormat =
         (VkSurfaceFormatKHR){ formats[i], VK_COLOR_SPACE_SRGB_NONLINEAR_KHR };
   }
   *pCount = n;
   return n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceSurfacePresentModesKHR(VkPhysicalDevice physicalDevice,
                                           VkSurfaceKHR surface,
                                           uint32_t *pCount,
                                           VkPresentModeKHR *pModes)
{
   (void)physicalDevice;
   const struct vn_wsi_platform *platform = vn_wsi_platform_for(vn_surface_from_handle(surface));
   if (!platform)
      return vn_error(VK_ERROR_SURFACE_LOST_KHR);
   if (!pModes) {
      *pCount = platform->mode_count;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pCount, platform->mode_count);
   memcpy(pModes, platform->modes, n * sizeof(*pModes));
   *pCount = n;
   return n < platform->mode_count ? VK_INCOMPLETE : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDevicePresentRectanglesKHR(VkPhysicalDevice physicalDevice,
                                         VkSurfaceKHR surface,
                                         uint32_t *pCount,
                                         VkRect2D *pRects)
{
   (void)physicalDevice;
   VkIcdSurfaceBase *s = vn_surface_from_handle(surface);
   const struct vn_wsi_platform *platform = vn_wsi_platform_for(s);
   if (!platform)
      return vn_error(VK_ERROR_SURFACE_LOST_KHR);
   if (!pRects) {
      *pCount = 1;
      return VK_SUCCESS;
   }
   if (!*pCount)
      return VK_INCOMPLETE;
   VkExtent2D extent;
   const VkResult result = platform->surface_extent(s, &extent);
   if (result != VK_SUCCESS)
      return vn_error(result);
   pRects[0] = (VkRect2D){ { 0, 0 }, extent };
   *pCount = 1;
   return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetDeviceGroupPresentCapabilitiesKHR(VkDevice device,
                                        VkDeviceGroupPresentCapabilitiesKHR *pCaps)
{
   (void)device;
   memset(pCaps->presentMask, 0, sizeof(pCaps->presentMask));
   pCaps->presentMask[0] = 1;
   pCaps->modes = VK_DEVICE_GROUP_PRESENT_MODE_LOCAL_BIT_KHR;
   return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL
vn_GetDeviceGroupSurfacePresentModesKHR(VkDevice device,
                                        VkSurfaceKHR surface,
                                        VkDeviceGroupPresentModeFlagsKHR *pModes)
{
   (void)device;
   (void)surface;
   *pModes = VK_DEVICE_GROUP_PRESENT_MODE_LOCAL_BIT_KHR;
   return VK_SUCCESS;
}

void
vn_wsi_fill_features(const struct vn_physical_device *pdev, void *chain)
{
   const VkBool32 on = vn_wsi_physical_device_supported(pdev);
   for (VkBaseOutStructure *s = chain; s; s = s->pNext) {
      switch (s->sType) {
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_ID_FEATURES_KHR:
         ((VkPhysicalDevicePresentIdFeaturesKHR *)s)->presentId = on;
         break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_WAIT_FEATURES_KHR:
         ((VkPhysicalDevicePresentWaitFeaturesKHR *)s)->presentWait = on;
         break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SWAPCHAIN_MAINTENANCE_1_FEATURES_EXT:
         ((VkPhysicalDeviceSwapchainMaintenance1FeaturesEXT *)s)->swapchainMaintenance1 = on;
         break;
      default:
         break;
      }
   }
}

/* ------------------------------------------------------------------ */
/* entry points and extensions                                         */

#define VN_WSI_EP(name, kind, e0, e1)                                                    \
   {                                                                                     \
      "vk" #name, (PFN_vkVoidFunction)vn_##name, kind, 0, { e0, e1, 0 }                  \
   }

static const struct vn_entrypoint vn_wsi_entrypoints[] = {
   VN_WSI_EP(DestroySurfaceKHR, VN_EP_INSTANCE, VN_WSI_EXT_KHR_SURFACE, 0),
   VN_WSI_EP(CreateHeadlessSurfaceEXT, VN_EP_INSTANCE, VN_WSI_EXT_EXT_HEADLESS_SURFACE, 0),
#ifdef VN_WSI_X11
   VN_WSI_EP(CreateXcbSurfaceKHR, VN_EP_INSTANCE, VN_WSI_EXT_KHR_XCB_SURFACE, 0),
   VN_WSI_EP(CreateXlibSurfaceKHR, VN_EP_INSTANCE, VN_WSI_EXT_KHR_XLIB_SURFACE, 0),
   VN_WSI_EP(GetPhysicalDeviceXcbPresentationSupportKHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_XCB_SURFACE, 0),
   VN_WSI_EP(GetPhysicalDeviceXlibPresentationSupportKHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_XLIB_SURFACE, 0),
#endif
#ifdef VN_WSI_WAYLAND
   VN_WSI_EP(CreateWaylandSurfaceKHR, VN_EP_INSTANCE, VN_WSI_EXT_KHR_WAYLAND_SURFACE, 0),
   VN_WSI_EP(GetPhysicalDeviceWaylandPresentationSupportKHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_WAYLAND_SURFACE, 0),
#endif
   VN_WSI_EP(GetPhysicalDeviceSurfaceSupportKHR, VN_EP_PHYSICAL_DEVICE, VN_WSI_EXT_KHR_SURFACE, 0),
   VN_WSI_EP(GetPhysicalDeviceSurfaceCapabilitiesKHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_SURFACE, 0),
   VN_WSI_EP(GetPhysicalDeviceSurfaceFormatsKHR, VN_EP_PHYSICAL_DEVICE, VN_WSI_EXT_KHR_SURFACE, 0),
   VN_WSI_EP(GetPhysicalDeviceSurfacePresentModesKHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_SURFACE, 0),
   VN_WSI_EP(GetPhysicalDeviceSurfaceCapabilities2KHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_GET_SURFACE_CAPABILITIES_2, 0),
   VN_WSI_EP(GetPhysicalDeviceSurfaceFormats2KHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_GET_SURFACE_CAPABILITIES_2, 0),
   /* VK_KHR_swapchain's Vulkan 1.1 / VK_KHR_device_group commands */
   VN_WSI_EP(GetPhysicalDevicePresentRectanglesKHR, VN_EP_PHYSICAL_DEVICE,
             VN_WSI_EXT_KHR_SWAPCHAIN, 61),
   VN_WSI_EP(GetDeviceGroupPresentCapabilitiesKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 61),
   VN_WSI_EP(GetDeviceGroupSurfacePresentModesKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 61),
   VN_WSI_EP(AcquireNextImage2KHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 61),
   VN_WSI_EP(CreateSwapchainKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 0),
   VN_WSI_EP(DestroySwapchainKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 0),
   VN_WSI_EP(GetSwapchainImagesKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 0),
   VN_WSI_EP(AcquireNextImageKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 0),
   VN_WSI_EP(QueuePresentKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_SWAPCHAIN, 0),
   VN_WSI_EP(WaitForPresentKHR, VN_EP_DEVICE, VN_WSI_EXT_KHR_PRESENT_WAIT, 0),
   VN_WSI_EP(ReleaseSwapchainImagesEXT, VN_EP_DEVICE, VN_WSI_EXT_EXT_SWAPCHAIN_MAINTENANCE_1, 0),
};

const struct vn_entrypoint *
vn_wsi_entrypoint_lookup(const char *name)
{
   if (!name)
      return NULL;
   for (unsigned i = 0; i < VN_ARRAY_SIZE(vn_wsi_entrypoints); i++) {
      if (!strcmp(vn_wsi_entrypoints[i].name, name))
         return &vn_wsi_entrypoints[i];
   }
   return NULL;
}

static const struct {
   const char *name;
   uint32_t number;
} vn_wsi_device_exts[] = {
   { VK_KHR_SWAPCHAIN_EXTENSION_NAME, VN_WSI_EXT_KHR_SWAPCHAIN },
   { VK_KHR_INCREMENTAL_PRESENT_EXTENSION_NAME, VN_WSI_EXT_KHR_INCREMENTAL_PRESENT },
   { VK_KHR_SWAPCHAIN_MUTABLE_FORMAT_EXTENSION_NAME, VN_WSI_EXT_KHR_SWAPCHAIN_MUTABLE_FORMAT },
   { VK_KHR_PRESENT_ID_EXTENSION_NAME, VN_WSI_EXT_KHR_PRESENT_ID },
   { VK_KHR_PRESENT_WAIT_EXTENSION_NAME, VN_WSI_EXT_KHR_PRESENT_WAIT },
   { VK_EXT_SWAPCHAIN_MAINTENANCE_1_EXTENSION_NAME, VN_WSI_EXT_EXT_SWAPCHAIN_MAINTENANCE_1 },
};

uint32_t
vn_wsi_device_ext_number(const char *name)
{
   for (unsigned i = 0; i < VN_ARRAY_SIZE(vn_wsi_device_exts); i++) {
      if (!strcmp(vn_wsi_device_exts[i].name, name))
         return vn_wsi_device_exts[i].number;
   }
   return 0;
}
