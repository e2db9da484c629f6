/*
 * Window-system integration (docs/driver.md "Window systems"). Presentation
 * happens in the guest: the host renders into the swapchain's images, each
 * present copies the image (one GPU copy on the host, ordered after the
 * present's wait semaphores) into a linear buffer whose memory the guest
 * maps, and a per-swapchain present thread hands that memory to the window
 * system once the copy's fence has signalled.
 *
 * vn_wsi.c holds what every platform shares (entry points, surface queries,
 * swapchains, the present thread); vn_wsi_x11.c, vn_wsi_wayland.c and
 * vn_wsi_headless.c are the platforms, each behind struct vn_wsi_platform.
 * Nothing here knows which transport carries the stream: guest memory comes
 * from vkMapMemory and shareable fds from vkGetMemoryFdKHR.
 */
#ifndef VN_WSI_H
#define VN_WSI_H

#include "vn_common.h"

#include <vulkan/vk_icd.h>

struct vn_swapchain;

/* WSI extensions the protocol does not carry, by registry number */
#define VN_WSI_EXT_KHR_SURFACE 1
#define VN_WSI_EXT_KHR_SWAPCHAIN 2
#define VN_WSI_EXT_KHR_XLIB_SURFACE 5
#define VN_WSI_EXT_KHR_XCB_SURFACE 6
#define VN_WSI_EXT_KHR_WAYLAND_SURFACE 7
#define VN_WSI_EXT_KHR_INCREMENTAL_PRESENT 85
#define VN_WSI_EXT_KHR_GET_SURFACE_CAPABILITIES_2 120
#define VN_WSI_EXT_KHR_SWAPCHAIN_MUTABLE_FORMAT 201
#define VN_WSI_EXT_KHR_PRESENT_WAIT 249
#define VN_WSI_EXT_EXT_HEADLESS_SURFACE 257
#define VN_WSI_EXT_EXT_SURFACE_MAINTENANCE_1 275
#define VN_WSI_EXT_EXT_SWAPCHAIN_MAINTENANCE_1 276
#define VN_WSI_EXT_KHR_PRESENT_ID 295

#define VN_WSI_MAX_IMAGES 8

/* One swapchain image: the optimal-tiling image the application renders to,
 * and the linear copy of its last presented content in mapped memory. */
struct vn_wsi_image {
   VkImage image;
   VkDeviceMemory memory;
   VkBuffer buffer;
   VkDeviceMemory buffer_memory;
   void *map;     /* whole buffer_memory, stride * height bytes */
   int fd;        /* a shareable fd of buffer_memory (offset 0), or -1 */
   VkFence fence; /* the present's copy is done */
   VkCommandBuffer *cmds; /* copy commands, one per queue family, lazily */
   bool acquired;  /* by the application (protected by the chain's mutex) */
   bool busy;      /* queued, copying or read by the window system (mutex) */
   uint64_t present_id;
   void *platform; /* the platform's per-image state */
};

/* What a window system provides. Surface queries run on the application's
 * thread; present and the chain callbacks run on the chain's present thread
 * except chain_init/chain_fini. */
struct vn_wsi_platform {
   VkIcdWsiPlatform platform;
   /* VK_SUCCESS and the window's size (0xFFFFFFFF each when the swapchain
    * decides), or VK_ERROR_SURFACE_LOST_KHR */
   VkResult (*surface_extent)(VkIcdSurfaceBase *surface, VkExtent2D *out_extent);
   const VkPresentModeKHR *modes;
   uint32_t mode_count;
   VkCompositeAlphaFlagsKHR alpha;
   /* the surface formats, in the order offered (colour space sRGB
    * non-linear); NULL: B8G8R8A8 sRGB then UNORM, what X11 TrueColor
    * visuals and wl_shm's XRGB/ARGB8888 hold */
   const VkFormat *formats;
   uint32_t format_count;
   bool needs_copy; /* false: nothing reads the images (headless) */
   /* connection set-up and per-image state (sc->images[] exist) */
   VkResult (*chain_init)(struct vn_swapchain *sc);
   void (*chain_fini)(struct vn_swapchain *sc);
   /* shows image `index` (its copy is done). Returns VK_SUCCESS,
    * VK_SUBOPTIMAL_KHR, VK_ERROR_OUT_OF_DATE_KHR or VK_ERROR_SURFACE_LOST_KHR.
    * Once the window system has stopped reading the image the platform calls
    * vn_wsi_image_idle (at once, or later from poll_events). */
   VkResult (*present)(struct vn_swapchain *sc, uint32_t index);
   /* optional: waits until the window system wants the next frame of a
    * `mode` swapchain (X11: the window's next MSC); the present thread calls
    * it once the oldest queued frame's copy is done and before MAILBOX
    * picks the newest finished frame. Returns VK_SUCCESS or
    * VK_ERROR_SURFACE_LOST_KHR. */
   VkResult (*pace)(struct vn_swapchain *sc, VkPresentModeKHR mode);
   /* optional: an fd to poll for window-system events while the present
    * thread waits, and the handler that reads them */
   int (*event_fd)(struct vn_swapchain *sc);
   /* optional: reads and handles window-system events, waiting up to
    * about 100 ms for them or for sc->wake_fd (a queued present, stop);
    * wait_frame: until the window system says it wants the next frame.
    * The present thread calls it while it has nothing to present. */
   VkResult (*poll_events)(struct vn_swapchain *sc, bool wait_frame);
};

#ifdef VN_WSI_X11
extern const struct vn_wsi_platform vn_wsi_x11_platform;
#endif
extern const struct vn_wsi_platform vn_wsi_headless_platform;
#ifdef VN_WSI_WAYLAND
extern const struct vn_wsi_platform vn_wsi_wayland_platform;
#endif

/* A present waiting for the present thread. */
struct vn_wsi_pending {
   uint32_t index;
   uint64_t present_id;
   VkPresentModeKHR mode;
};

struct vn_swapchain {
   struct vn_object obj;
   struct vn_device *dev;
   VkAllocationCallbacks alloc;
   VkIcdSurfaceBase *surface;
   const struct vn_wsi_platform *platform;
   void *platform_data;

   VkExtent2D extent;
   VkFormat format;
   uint32_t stride; /* bytes per row of the linear copies */
   VkPresentModeKHR mode; /* current mode (protected by mutex) */
   uint32_t image_count;
   struct vn_wsi_image images[VN_WSI_MAX_IMAGES];
   VkCommandPool *pools; /* one per queue family, lazily (present: queue's) */
   uint32_t family_count;

   mtx_t mutex;
   cnd_t cond; /* image became idle, a present was queued or completed */
   /* protected by mutex */
   struct vn_wsi_pending pending[VN_WSI_MAX_IMAGES];
   uint32_t pending_head, pending_count;
   VkResult status;        /* sticky OUT_OF_DATE / SURFACE_LOST, or SUBOPTIMAL */
   uint64_t present_id_done; /* largest present id shown (or skipped) */
   uint64_t present_id_queued;
   bool retired; /* replaced by a newer swapchain (oldSwapchain) */
   bool stop;
   bool has_thread;
   int wake_fd; /* eventfd written on a queued present and on stop, or -1 */
   thrd_t thread;
};
VN_HANDLE_CAST(vn_swapchain, VkSwapchainKHR)

/* swapchain entry points (vn_wsi_swapchain.c) */
VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateSwapchainKHR(VkDevice device,
                      const VkSwapchainCreateInfoKHR *pCreateInfo,
                      const VkAllocationCallbacks *pAllocator,
                      VkSwapchainKHR *pSwapchain);
VKAPI_ATTR void VKAPI_CALL
vn_DestroySwapchainKHR(VkDevice device,
                       VkSwapchainKHR swapchain,
                       const VkAllocationCallbacks *pAllocator);
VKAPI_ATTR VkResult VKAPI_CALL
vn_GetSwapchainImagesKHR(VkDevice device,
                         VkSwapchainKHR swapchain,
                         uint32_t *pCount,
                         VkImage *pImages);
VKAPI_ATTR VkResult VKAPI_CALL
vn_AcquireNextImageKHR(VkDevice device,
                       VkSwapchainKHR swapchain,
                       uint64_t timeout,
                       VkSemaphore semaphore,
                       VkFence fence,
                       uint32_t *pImageIndex);
VKAPI_ATTR VkResult VKAPI_CALL
vn_AcquireNextImage2KHR(VkDevice device,
                        const VkAcquireNextImageInfoKHR *pAcquireInfo,
                        uint32_t *pImageIndex);
VKAPI_ATTR VkResult VKAPI_CALL
vn_ReleaseSwapchainImagesEXT(VkDevice device, const VkReleaseSwapchainImagesInfoEXT *pInfo);
VKAPI_ATTR VkResult VKAPI_CALL
vn_QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR *pPresentInfo);
VKAPI_ATTR VkResult VKAPI_CALL
vn_WaitForPresentKHR(VkDevice device,
                     VkSwapchainKHR swapchain,
                     uint64_t presentId,
                     uint64_t timeout);

/* The platform of a surface, NULL if none. */
const struct vn_wsi_platform *
vn_wsi_platform_for(VkIcdSurfaceBase *surface);

/* The fewest images a swapchain in `mode` needs. */
uint32_t
vn_wsi_min_image_count(VkPresentModeKHR mode);

/* The platform has finished reading image `index`: it can be acquired. */
void
vn_wsi_image_idle(struct vn_swapchain *sc, uint32_t index);

/* Entry points of the WSI extensions, for vkGet*ProcAddr (the generated
 * table knows only what the protocol carries). */
const struct vn_entrypoint *
vn_wsi_entrypoint_lookup(const char *name);

/* Registry number of a WSI device extension name, 0 if not one. */
uint32_t
vn_wsi_device_ext_number(const char *name);

/* Whether the physical device can present (guest mapping works). */
bool
vn_wsi_physical_device_supported(const struct vn_physical_device *pdev);

/* Fills the WSI feature structs (present id/wait, swapchain maintenance1)
 * of a vkGetPhysicalDeviceFeatures2 chain. */
void
vn_wsi_fill_features(const struct vn_physical_device *pdev, void *chain);

#endif
