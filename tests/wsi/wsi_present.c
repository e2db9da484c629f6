/*
 * wsi_present: presents frames of known content through one surface type
 * (xcb, xlib, wayland or headless) with every present mode the surface
 * offers, and checks them: on X11 each frame is read back from the X server
 * (GetImage of the window) after vkWaitForPresentKHR returned for its present
 * id; present ids must complete in order. Wayland cannot be read back without
 * a screenshooter: there every present must complete, and the connection
 * must be free of protocol errors afterwards (the surface is an xdg_toplevel,
 * so the compositor shows it and sends frame callbacks). Error cases (--case):
 *
 *   resize   the window is resized mid-run: a present or acquire must report
 *            VK_SUBOPTIMAL_KHR or VK_ERROR_OUT_OF_DATE_KHR; a new swapchain
 *            at the new size then presents correct pixels;
 *   destroy  the window is destroyed mid-run: VK_ERROR_SURFACE_LOST_KHR
 *            (or OUT_OF_DATE) within a few frames;
 *   kill-x   the X server ($WSI_XVFB_PID) is killed mid-run: as destroy;
 *   kill-wayland  (--surface wayland) the compositor ($WSI_WESTON_PID) is
 *            killed mid-run: as destroy;
 *   fifo-pace  (X11 with the Present extension) FIFO frames are paced by
 *            the window's MSC: 20 presents, each waited for, span at least
 *            19 MSCs (PresentNotifyMSC before and after); skipped (77)
 *            where the server has no Present;
 *   formats  prints the surface's formats and colour spaces in the order
 *            offered, and nothing else (run_native_vs_icd.sh compares them
 *            with the native driver's: an application that takes the first
 *            format must get the same one through Venus).
 *
 * In every case the device must stay usable afterwards (a cleared image read
 * back through a buffer). Run it through tests/wsi/run_wsi.py.
 *
 * X11 and Wayland are optional (WSI_HAS_X11, WSI_HAS_WAYLAND, from the
 * build's x11 and wayland options): a surface type that this program or the
 * driver lacks makes it exit 77 (skipped).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef WSI_HAS_X11
#define VK_USE_PLATFORM_XCB_KHR
#define VK_USE_PLATFORM_XLIB_KHR
#include <X11/Xlib-xcb.h>
#include <X11/Xlib.h>
#include <xcb/present.h>
#include <xcb/xcb.h>
#endif
#ifdef WSI_HAS_WAYLAND
#define VK_USE_PLATFORM_WAYLAND_KHR
#include <wayland-client.h>
#endif

#include "vkt.h"
#ifdef WSI_HAS_WAYLAND
#include "xdg-shell-client-protocol.h"
#endif

#define W 160
#define H 120
#define FRAMES 6

struct app {
   struct vkt_context ctx;
   const char *surface_type;
   VkSurfaceKHR surface;
#ifdef WSI_HAS_X11
   Display *dpy;
   xcb_connection_t *conn;
   xcb_window_t window;
#endif
#ifdef WSI_HAS_WAYLAND
   struct wl_display *wl;
   struct wl_compositor *compositor;
   struct xdg_wm_base *wm_base;
   struct wl_surface *wl_surface;
   struct xdg_surface *xdg_surface;
   struct xdg_toplevel *toplevel;
   bool configured;
#endif
   bool has_present_id, has_present_wait;
   PFN_vkWaitForPresentKHR wait_for_present;
};

#ifdef WSI_HAS_X11
static void
app_window_create(struct app *a)
{
   if (!strcmp(a->surface_type, "xlib")) {
      a->dpy = XOpenDisplay(NULL);
      if (!a->dpy)
         vkt_die("wsi_present: cannot open the X display");
      a->conn = XGetXCBConnection(a->dpy);
      a->window = (xcb_window_t)XCreateSimpleWindow(a->dpy, DefaultRootWindow(a->dpy), 0, 0, W,
                                                    H, 0, 0, 0);
      XMapWindow(a->dpy, a->window);
      XSync(a->dpy, False);
      return;
   }
   a->conn = xcb_connect(NULL, NULL);
   if (xcb_connection_has_error(a->conn))
      vkt_die("wsi_present: cannot connect to the X server");
   xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(a->conn)).data;
   a->window = xcb_generate_id(a->conn);
   xcb_create_window(a->conn, XCB_COPY_FROM_PARENT, a->window, screen->root, 0, 0, W, H, 0,
                     XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual, 0, NULL);
   xcb_map_window(a->conn, a->window);
   free(xcb_get_input_focus_reply(a->conn, xcb_get_input_focus(a->conn), NULL));
}

/* the window's pixel (x, y) as 0xRRGGBB, or -1 when it cannot be read */
static long
window_pixel(struct app *a, int x, int y)
{
   xcb_get_image_reply_t *img = xcb_get_image_reply(
      a->conn, xcb_get_image(a->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, a->window, (int16_t)x,
                             (int16_t)y, 1, 1, ~0u),
      NULL);
   if (!img)
      return -1;
   const uint8_t *p = xcb_get_image_data(img);
   const long v = ((long)p[2] << 16) | ((long)p[1] << 8) | p[0];
   free(img);
   return v;
}
#endif

#ifdef WSI_HAS_WAYLAND
static void
wl_global(void *data, struct wl_registry *registry, uint32_t name, const char *iface,
          uint32_t version)
{
   struct app *a = data;
   (void)version;
   if (!strcmp(iface, wl_compositor_interface.name))
      a->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 1);
   else if (!strcmp(iface, xdg_wm_base_interface.name))
      a->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
}

static void
wl_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
   (void)data;
   (void)registry;
   (void)name;
}

static const struct wl_registry_listener registry_listener = { wl_global, wl_global_remove };

static void
wm_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
   (void)data;
   xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_listener = { wm_ping };

static void
xdg_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
   struct app *a = data;
   xdg_surface_ack_configure(xdg_surface, serial);
   a->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = { xdg_configure };

static void
toplevel_configure(void *data, struct xdg_toplevel *t, int32_t w, int32_t h, struct wl_array *s)
{
   (void)data;
   (void)t;
   (void)w;
   (void)h;
   (void)s;
}

static void
toplevel_close(void *data, struct xdg_toplevel *t)
{
   (void)data;
   (void)t;
}

static const struct xdg_toplevel_listener toplevel_listener = { toplevel_configure,
                                                                toplevel_close };

/* a mapped xdg_toplevel: the compositor shows it and sends frame callbacks */
static void
app_wayland_create(struct app *a)
{
   a->wl = wl_display_connect(NULL);
   if (!a->wl)
      vkt_die("wsi_present: cannot connect to the Wayland compositor");
   struct wl_registry *registry = wl_display_get_registry(a->wl);
   wl_registry_add_listener(registry, &registry_listener, a);
   wl_display_roundtrip(a->wl);
   wl_registry_destroy(registry);
   if (!a->compositor || !a->wm_base)
      vkt_die("wsi_present: the compositor has no wl_compositor or xdg_wm_base");
   xdg_wm_base_add_listener(a->wm_base, &wm_listener, a);
   a->wl_surface = wl_compositor_create_surface(a->compositor);
   a->xdg_surface = xdg_wm_base_get_xdg_surface(a->wm_base, a->wl_surface);
   xdg_surface_add_listener(a->xdg_surface, &xdg_surface_listener, a);
   a->toplevel = xdg_surface_get_toplevel(a->xdg_surface);
   xdg_toplevel_add_listener(a->toplevel, &toplevel_listener, a);
   xdg_toplevel_set_title(a->toplevel, "wsi_present");
   wl_surface_commit(a->wl_surface);
   while (!a->configured && wl_display_dispatch(a->wl) >= 0) {
   }
   if (!a->configured)
      vkt_die("wsi_present: the xdg_surface was never configured");
}
#endif

static void
app_surface_create(struct app *a)
{
#ifdef WSI_HAS_WAYLAND
   if (!strcmp(a->surface_type, "wayland")) {
      app_wayland_create(a);
      const VkWaylandSurfaceCreateInfoKHR info = {
         .sType = VK_STRUCTURE_TYPE_WAYLAND_SURFACE_CREATE_INFO_KHR,
         .display = a->wl,
         .surface = a->wl_surface,
      };
      VKT_CALL(vkCreateWaylandSurfaceKHR(a->ctx.instance, &info, NULL, &a->surface));
      return;
   }
#endif
   if (!strcmp(a->surface_type, "headless")) {
      const VkHeadlessSurfaceCreateInfoEXT info = {
         .sType = VK_STRUCTURE_TYPE_HEADLESS_SURFACE_CREATE_INFO_EXT,
      };
      PFN_vkCreateHeadlessSurfaceEXT create = (PFN_vkCreateHeadlessSurfaceEXT)
         vkGetInstanceProcAddr(a->ctx.instance, "vkCreateHeadlessSurfaceEXT");
      VKT_CALL(create(a->ctx.instance, &info, NULL, &a->surface));
      return;
   }
#ifdef WSI_HAS_X11
   app_window_create(a);
   if (a->dpy) {
      const VkXlibSurfaceCreateInfoKHR info = {
         .sType = VK_STRUCTURE_TYPE_XLIB_SURFACE_CREATE_INFO_KHR,
         .dpy = a->dpy,
         .window = a->window,
      };
      VKT_CALL(vkCreateXlibSurfaceKHR(a->ctx.instance, &info, NULL, &a->surface));
   } else {
      const VkXcbSurfaceCreateInfoKHR info = {
         .sType = VK_STRUCTURE_TYPE_XCB_SURFACE_CREATE_INFO_KHR,
         .connection = a->conn,
         .window = a->window,
      };
      VKT_CALL(vkCreateXcbSurfaceKHR(a->ctx.instance, &info, NULL, &a->surface));
   }
#endif
}

/* the frame's colour, distinct per (mode, frame) */
static void
frame_color(uint32_t mode, uint32_t frame, uint8_t rgb[3])
{
   rgb[0] = (uint8_t)(40 + frame * 31);
   rgb[1] = (uint8_t)(200 - frame * 17);
   rgb[2] = (uint8_t)(mode * 60 + 10);
}

struct chain {
   VkSwapchainKHR swapchain;
   VkExtent2D extent;
   uint32_t image_count;
   VkImage images[8];
   VkSemaphore acquired[8], rendered[8];
   VkFence done[8];
   VkCommandBuffer cmds[8];
   uint32_t frame;
};

static VkResult
chain_create(struct app *a, struct chain *c, VkPresentModeKHR mode, VkSwapchainKHR old)
{
   VkSurfaceCapabilitiesKHR caps;
   VkResult r = vkGetPhysicalDeviceSurfaceCapabilitiesKHR(a->ctx.physical_device, a->surface, &caps);
   if (r != VK_SUCCESS)
      return r;
   memset(c, 0, sizeof(*c));
   c->extent = caps.currentExtent.width == UINT32_MAX ? (VkExtent2D){ W, H } : caps.currentExtent;
   const VkSwapchainCreateInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
      .surface = a->surface,
      .minImageCount = caps.minImageCount + 1 <= caps.maxImageCount || !caps.maxImageCount
                          ? caps.minImageCount + 1
                          : caps.minImageCount,
      .imageFormat = VK_FORMAT_B8G8R8A8_UNORM,
      .imageColorSpace = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR,
      .imageExtent = c->extent,
      .imageArrayLayers = 1,
      .imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
      .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .preTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
      .compositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR,
      .presentMode = mode,
      .clipped = VK_TRUE,
      .oldSwapchain = old,
   };
   r = vkCreateSwapchainKHR(a->ctx.device, &info, NULL, &c->swapchain);
   if (r != VK_SUCCESS)
      return r;
   c->image_count = 8;
   VKT_CALL(vkGetSwapchainImagesKHR(a->ctx.device, c->swapchain, &c->image_count, c->images));
   const VkSemaphoreCreateInfo sem_info = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
   const VkFenceCreateInfo fence_info = {
      .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
      .flags = VK_FENCE_CREATE_SIGNALED_BIT,
   };
   const VkCommandBufferAllocateInfo cmd_info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = a->ctx.cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = c->image_count,
   };
   VKT_CALL(vkAllocateCommandBuffers(a->ctx.device, &cmd_info, c->cmds));
   for (uint32_t i = 0; i < c->image_count; i++) {
      VKT_CALL(vkCreateSemaphore(a->ctx.device, &sem_info, NULL, &c->acquired[i]));
      VKT_CALL(vkCreateSemaphore(a->ctx.device, &sem_info, NULL, &c->rendered[i]));
      VKT_CALL(vkCreateFence(a->ctx.device, &fence_info, NULL, &c->done[i]));
   }
   return VK_SUCCESS;
}

static void
chain_destroy(struct app *a, struct chain *c)
{
   vkDeviceWaitIdle(a->ctx.device);
   for (uint32_t i = 0; i < c->image_count; i++) {
      vkDestroySemaphore(a->ctx.device, c->acquired[i], NULL);
      vkDestroySemaphore(a->ctx.device, c->rendered[i], NULL);
      vkDestroyFence(a->ctx.device, c->done[i], NULL);
   }
   if (c->image_count)
      vkFreeCommandBuffers(a->ctx.device, a->ctx.cmd_pool, c->image_count, c->cmds);
   vkDestroySwapchainKHR(a->ctx.device, c->swapchain, NULL);
   memset(c, 0, sizeof(*c));
}

/* Acquires, clears to rgb, presents with present id `id`. Returns the
 * worst of the acquire's and the present's results. */
static VkResult
chain_frame(struct app *a, struct chain *c, const uint8_t rgb[3], uint64_t id)
{
   /* the acquire semaphore of slot f is free once frame f's fence is */
   const uint32_t f = c->frame++ % c->image_count;
   VKT_CALL(vkWaitForFences(a->ctx.device, 1, &c->done[f], VK_TRUE, UINT64_MAX));
   uint32_t index;
   VkResult r = vkAcquireNextImageKHR(a->ctx.device, c->swapchain, 5000000000ull,
                                      c->acquired[f], VK_NULL_HANDLE, &index);
   if (r < 0)
      return r;
   const VkResult acquire_result = r;
   VKT_CALL(vkResetFences(a->ctx.device, 1, &c->done[f]));
   VkCommandBuffer cmd = c->cmds[f];
   VKT_CALL(vkResetCommandBuffer(cmd, 0));
   const VkCommandBufferBeginInfo begin = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   VkImageMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = 0,
      .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
      .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = c->images[index],
      .subresourceRange = range,
   };
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                        0, NULL, 0, NULL, 1, &barrier);
   const VkClearColorValue color = { .float32 = { rgb[0] / 255.0f, rgb[1] / 255.0f,
                                                  rgb[2] / 255.0f, 1.0f } };
   vkCmdClearColorImage(cmd, c->images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1,
                        &range);
   barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
   barrier.dstAccessMask = 0;
   barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
   barrier.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
   vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0, NULL, 1, &barrier);
   VKT_CALL(vkEndCommandBuffer(cmd));
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &c->acquired[f],
      .pWaitDstStageMask = &stage,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &c->rendered[index],
   };
   VKT_CALL(vkQueueSubmit(a->ctx.queue, 1, &submit, c->done[f]));
   const VkPresentIdKHR present_id = {
      .sType = VK_STRUCTURE_TYPE_PRESENT_ID_KHR,
      .swapchainCount = 1,
      .pPresentIds = &id,
   };
   const VkPresentInfoKHR present = {
      .sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
      .pNext = a->has_present_id ? &present_id : NULL,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &c->rendered[index],
      .swapchainCount = 1,
      .pSwapchains = &c->swapchain,
      .pImageIndices = &index,
   };
   r = vkQueuePresentKHR(a->ctx.queue, &present);
   return r < 0 ? r : (acquire_result != VK_SUCCESS ? acquire_result : r);
}

static const char *
result_name(VkResult r)
{
   switch (r) {
   case VK_SUCCESS: return "VK_SUCCESS";
   case VK_SUBOPTIMAL_KHR: return "VK_SUBOPTIMAL_KHR";
   case VK_ERROR_OUT_OF_DATE_KHR: return "VK_ERROR_OUT_OF_DATE_KHR";
   case VK_ERROR_SURFACE_LOST_KHR: return "VK_ERROR_SURFACE_LOST_KHR";
   default: return vkt_result_string(r);
   }
}

#ifdef WSI_HAS_X11
static bool
is_x11(const struct app *a)
{
   return strcmp(a->surface_type, "headless") != 0 && strcmp(a->surface_type, "wayland") != 0;
}
#endif

/* Every frame of every mode, read back after its present completed. */
static void
run_modes(struct app *a)
{
   VkPresentModeKHR modes[8];
   uint32_t mode_count = 8;
   VKT_CALL(vkGetPhysicalDeviceSurfacePresentModesKHR(a->ctx.physical_device, a->surface,
                                                      &mode_count, modes));
   uint64_t id = 0;
   for (uint32_t m = 0; m < mode_count; m++) {
      struct chain c;
      VKT_CALL(chain_create(a, &c, modes[m], VK_NULL_HANDLE));
      uint32_t good = 0;
      for (uint32_t f = 0; f < FRAMES; f++) {
         uint8_t rgb[3];
         frame_color(m, f, rgb);
         VKT_CALL(chain_frame(a, &c, rgb, ++id));
         if (a->has_present_wait) {
            VKT_CALL(a->wait_for_present(a->ctx.device, c.swapchain, id, 5000000000ull));
            /* ids complete in order: every earlier one is done too */
            vkt_check(&a->ctx,
                      a->wait_for_present(a->ctx.device, c.swapchain, id - 1, 0) == VK_SUCCESS,
                      "mode %d: present id %llu done before %llu", modes[m],
                      (unsigned long long)id, (unsigned long long)id - 1);
         } else {
            vkDeviceWaitIdle(a->ctx.device);
         }
#ifdef WSI_HAS_X11
         if (is_x11(a)) {
            const long want = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
            const long got = window_pixel(a, W / 2, H / 2);
            const long corner = window_pixel(a, W - 1, H - 1);
            if (vkt_check(&a->ctx, got == want && corner == want,
                          "mode %d frame %u: window shows %06lx/%06lx, want %06lx", modes[m], f,
                          got, corner, want))
               good++;
            continue;
         }
#endif
         good++;
      }
#ifdef WSI_HAS_WAYLAND
      if (a->wl) {
         /* the compositor took every request of the driver's (no protocol
          * error), and our own queue still works */
         const int rt = wl_display_roundtrip(a->wl);
         vkt_check(&a->ctx, rt >= 0 && !wl_display_get_error(a->wl),
                   "mode %d: Wayland connection error %d", modes[m], wl_display_get_error(a->wl));
      }
#endif
      /* a wait for an id never presented times out */
      if (a->has_present_wait) {
         vkt_check(&a->ctx,
                   a->wait_for_present(a->ctx.device, c.swapchain, id + 100, 1000000) ==
                      VK_TIMEOUT,
                   "mode %d: wait for a future present id did not time out", modes[m]);
      }
      chain_destroy(a, &c);
      printf("%s_mode_%d_frames_ok count %u\n", a->surface_type, modes[m], good);
   }
}

/* The device works: clear an image and read it back. */
static void
check_device_usable(struct app *a)
{
   struct vkt_image img;
   struct vkt_buffer buf;
   vkt_image_create(&a->ctx, VK_FORMAT_R8G8B8A8_UNORM, 4, 4,
                    VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, &img);
   vkt_buffer_create(&a->ctx, 64, VK_BUFFER_USAGE_TRANSFER_DST_BIT, VKT_MEM_READBACK, &buf);
   VkCommandBuffer cmd = vkt_cmd_begin(&a->ctx);
   vkt_cmd_image_barrier(cmd, &img, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
   const VkClearColorValue color = { .float32 = { 1.0f, 0.0f, 1.0f, 1.0f } };
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   vkCmdClearColorImage(cmd, img.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1, &range);
   vkt_cmd_image_barrier(cmd, &img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                         VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_ACCESS_TRANSFER_READ_BIT);
   const VkBufferImageCopy region = {
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { 4, 4, 1 },
   };
   vkCmdCopyImageToBuffer(cmd, img.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf.buffer, 1,
                          &region);
   vkt_cmd_submit_wait(&a->ctx, cmd);
   vkt_buffer_invalidate(&a->ctx, &buf);
   const uint8_t *p = buf.map;
   vkt_check(&a->ctx, p[0] == 255 && p[1] == 0 && p[2] == 255 && p[63] == 255,
             "device unusable after the WSI error: %02x %02x %02x", p[0], p[1], p[2]);
   vkt_buffer_destroy(&a->ctx, &buf);
   vkt_image_destroy(&a->ctx, &img);
   printf("device_usable_after_error count 1\n");
}

#ifdef WSI_HAS_X11
/* The window's current MSC, from a PresentNotifyMSC that completes at once;
 * -1 without the Present extension. */
static int64_t
window_msc(struct app *a)
{
   static xcb_special_event_t *special;
   static uint32_t serial = 0x5eed0000u;
   const xcb_query_extension_reply_t *ext = xcb_get_extension_data(a->conn, &xcb_present_id);
   if (!ext || !ext->present)
      return -1;
   if (!special) {
      const xcb_present_event_t eid = xcb_generate_id(a->conn);
      special = xcb_register_for_special_xge(a->conn, &xcb_present_id, eid, NULL);
      xcb_present_select_input(a->conn, eid, a->window, XCB_PRESENT_EVENT_MASK_COMPLETE_NOTIFY);
   }
   xcb_present_notify_msc(a->conn, a->window, ++serial, 0, 0, 0);
   xcb_flush(a->conn);
   for (;;) {
      xcb_generic_event_t *ev = xcb_wait_for_special_event(a->conn, special);
      if (!ev)
         vkt_die("wsi_present: the X connection broke waiting for an MSC");
      const xcb_present_complete_notify_event_t *ce = (void *)ev;
      const bool ours = ce->event_type == XCB_PRESENT_EVENT_COMPLETE_NOTIFY &&
                        ce->kind == XCB_PRESENT_COMPLETE_KIND_NOTIFY_MSC && ce->serial == serial;
      const int64_t msc = (int64_t)ce->msc;
      free(ev);
      if (ours)
         return msc;
   }
}

/* FIFO waits for an MSC per frame; IMMEDIATE (reported only) does not. */
static void
run_fifo_pace(struct app *a)
{
   if (window_msc(a) < 0) {
      printf("SKIP: the X server has no Present extension\n");
      exit(77);
   }
   const VkPresentModeKHR modes[2] = { VK_PRESENT_MODE_FIFO_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR };
   const uint32_t frames = 20;
   uint64_t id = 0;
   for (int m = 0; m < 2; m++) {
      struct chain c;
      VKT_CALL(chain_create(a, &c, modes[m], VK_NULL_HANDLE));
      const uint8_t rgb[3] = { 30, 60, 90 };
      /* the first frame sets the pace up; count from its completion */
      VKT_CALL(chain_frame(a, &c, rgb, ++id));
      vkDeviceWaitIdle(a->ctx.device);
      if (a->has_present_wait)
         VKT_CALL(a->wait_for_present(a->ctx.device, c.swapchain, id, 5000000000ull));
      const int64_t start = window_msc(a);
      for (uint32_t f = 0; f < frames; f++) {
         VKT_CALL(chain_frame(a, &c, rgb, ++id));
         if (a->has_present_wait)
            VKT_CALL(a->wait_for_present(a->ctx.device, c.swapchain, id, 5000000000ull));
      }
      vkDeviceWaitIdle(a->ctx.device);
      const int64_t mscs = window_msc(a) - start;
      printf("%s_mscs_for_%u_frames count %lld\n", m ? "immediate" : "fifo", frames,
             (long long)mscs);
      if (m == 0)
         vkt_check(&a->ctx, mscs >= frames - 1, "FIFO: %u frames within %lld MSCs", frames,
                   (long long)mscs);
      chain_destroy(a, &c);
   }
}
#endif

static void
run_error_case(struct app *a, const char *which)
{
   struct chain c;
   VKT_CALL(chain_create(a, &c, VK_PRESENT_MODE_FIFO_KHR, VK_NULL_HANDLE));
   uint8_t rgb[3] = { 10, 20, 30 };
   uint64_t id = 0;
   for (int i = 0; i < 3; i++)
      VKT_CALL(chain_frame(a, &c, rgb, ++id));

#ifdef WSI_HAS_X11
   if (!strcmp(which, "resize")) {
      const uint32_t size[2] = { W + 40, H + 30 };
      xcb_configure_window(a->conn, a->window,
                           XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT, size);
      xcb_flush(a->conn);
   } else if (!strcmp(which, "destroy")) {
      xcb_destroy_window(a->conn, a->window);
      xcb_flush(a->conn);
   } else
#endif
   if (!strcmp(which, "kill-x")) {
      const char *pid = getenv("WSI_XVFB_PID");
      if (!pid)
         vkt_die("wsi_present: --case kill-x needs WSI_XVFB_PID (run it with run_wsi.py)");
      kill((pid_t)atoi(pid), SIGKILL);
      usleep(200000);
   } else if (!strcmp(which, "kill-wayland")) {
      const char *pid = getenv("WSI_WESTON_PID");
      if (!pid)
         vkt_die("wsi_present: --case kill-wayland needs WSI_WESTON_PID (run it with run_wsi.py)");
      kill((pid_t)atoi(pid), SIGKILL);
      usleep(200000);
   } else {
      vkt_die("wsi_present: unknown case %s", which);
   }

   VkResult seen = VK_SUCCESS;
   for (int i = 0; i < 20 && seen == VK_SUCCESS; i++)
      seen = chain_frame(a, &c, rgb, ++id);
   printf("case_%s_result %s\n", which, result_name(seen));
#ifdef WSI_HAS_X11
   if (!strcmp(which, "resize")) {
      vkt_check(&a->ctx, seen == VK_SUBOPTIMAL_KHR || seen == VK_ERROR_OUT_OF_DATE_KHR,
                "resize: got %s", result_name(seen));
      /* a new swapchain at the new size presents correct pixels */
      struct chain c2;
      VKT_CALL(chain_create(a, &c2, VK_PRESENT_MODE_FIFO_KHR, c.swapchain));
      vkt_check(&a->ctx, c2.extent.width == W + 40 && c2.extent.height == H + 30,
                "resize: new extent %ux%u", c2.extent.width, c2.extent.height);
      chain_destroy(a, &c);
      const uint8_t rgb2[3] = { 200, 100, 50 };
      VKT_CALL(chain_frame(a, &c2, rgb2, 1));
      vkDeviceWaitIdle(a->ctx.device);
      if (a->has_present_wait)
         VKT_CALL(a->wait_for_present(a->ctx.device, c2.swapchain, 1, 5000000000ull));
      const long got = window_pixel(a, W + 39, H + 29);
      vkt_check(&a->ctx, got == 0xc86432, "resize: corner %06lx after the new swapchain", got);
      chain_destroy(a, &c2);
   } else
#endif
   {
      vkt_check(&a->ctx, seen == VK_ERROR_SURFACE_LOST_KHR || seen == VK_ERROR_OUT_OF_DATE_KHR,
                "%s: got %s", which, result_name(seen));
      chain_destroy(a, &c);
   }
   check_device_usable(a);
}

static bool
has_instance_extension(const char *name)
{
   VkExtensionProperties props[64];
   uint32_t count = 64;
   if (vkEnumerateInstanceExtensionProperties(NULL, &count, props) < 0)
      return false;
   for (uint32_t i = 0; i < count; i++) {
      if (!strcmp(props[i].extensionName, name))
         return true;
   }
   return false;
}

/* --case formats: the surface's formats, one line each, in their order */
static void
print_formats(struct app *a)
{
   uint32_t count = 0;
   VKT_CALL(vkGetPhysicalDeviceSurfaceFormatsKHR(a->ctx.physical_device, a->surface, &count,
                                                 NULL));
   vkt_check(&a->ctx, count > 0 && count <= 64, "surface format count %u", count);
   VkSurfaceFormatKHR formats[64];
   VKT_CALL(vkGetPhysicalDeviceSurfaceFormatsKHR(a->ctx.physical_device, a->surface, &count,
                                                 formats));
   for (uint32_t i = 0; i < count; i++)
      printf("surface_format %u format %d color_space %d\n", i, formats[i].format,
             formats[i].colorSpace);
}

int
main(int argc, char **argv)
{
   struct app a = { .surface_type = "xcb" };
   const char *error_case = NULL;
   for (int i = 1; i < argc; i++) {
      if (!strcmp(argv[i], "--surface") && i + 1 < argc)
         a.surface_type = argv[++i];
      else if (!strcmp(argv[i], "--case") && i + 1 < argc)
         error_case = argv[++i];
      else
         vkt_die("usage: wsi_present [--surface xcb|xlib|wayland|headless] "
                 "[--case resize|destroy|kill-x|kill-wayland|fifo-pace|formats]");
   }
   /* a dead X server must give errors, not kill the program */
   signal(SIGPIPE, SIG_IGN);

   const char *platform_ext = !strcmp(a.surface_type, "xlib")       ? "VK_KHR_xlib_surface"
                              : !strcmp(a.surface_type, "headless") ? "VK_EXT_headless_surface"
                              : !strcmp(a.surface_type, "wayland")  ? "VK_KHR_wayland_surface"
                                                                    : "VK_KHR_xcb_surface";
   const bool built = !strcmp(a.surface_type, "headless")
#ifdef WSI_HAS_X11
                      || !strcmp(a.surface_type, "xcb") || !strcmp(a.surface_type, "xlib")
#endif
#ifdef WSI_HAS_WAYLAND
                      || !strcmp(a.surface_type, "wayland")
#endif
      ;
   if (!built || !has_instance_extension(platform_ext)) {
      printf("SKIP: %s surfaces are not built here (%s)\n", a.surface_type,
             built ? "the driver lacks them" : "the x11/wayland build options");
      return 77;
   }
   const char *inst_exts[] = { "VK_KHR_surface", platform_ext };
   vkt_init_with_extensions(&a.ctx, "wsi_present", inst_exts, 2);
   const char *dev_exts[3] = { "VK_KHR_swapchain" };
   uint32_t dev_ext_count = 1;
   VkPhysicalDevicePresentIdFeaturesKHR id_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_ID_FEATURES_KHR,
   };
   VkPhysicalDevicePresentWaitFeaturesKHR wait_features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRESENT_WAIT_FEATURES_KHR,
      .pNext = &id_features,
   };
   VkPhysicalDeviceFeatures2 features = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
      .pNext = &wait_features,
   };
   vkGetPhysicalDeviceFeatures2(a.ctx.physical_device, &features);
   a.has_present_id = id_features.presentId;
   a.has_present_wait = wait_features.presentWait && a.has_present_id;
   if (a.has_present_id)
      dev_exts[dev_ext_count++] = "VK_KHR_present_id";
   if (a.has_present_wait)
      dev_exts[dev_ext_count++] = "VK_KHR_present_wait";
   id_features.presentId = a.has_present_id;
   wait_features.presentWait = a.has_present_wait;
   features.features = (VkPhysicalDeviceFeatures){ 0 };
   const struct vkt_device_info info = {
      .next = &features,
      .extensions = dev_exts,
      .extension_count = dev_ext_count,
   };
   vkt_device_init(&a.ctx, &info);
   if (a.has_present_wait)
      a.wait_for_present =
         (PFN_vkWaitForPresentKHR)vkGetDeviceProcAddr(a.ctx.device, "vkWaitForPresentKHR");
   fprintf(stderr, "wsi_present: surface %s, present id %s, present wait %s\n", a.surface_type,
           a.has_present_id ? "yes" : "no", a.has_present_wait ? "yes" : "no");

   app_surface_create(&a);
   VkBool32 supported = VK_FALSE;
   VKT_CALL(vkGetPhysicalDeviceSurfaceSupportKHR(a.ctx.physical_device, a.ctx.queue_family,
                                                 a.surface, &supported));
   vkt_check(&a.ctx, supported, "the queue family cannot present to the surface");
#ifdef WSI_HAS_WAYLAND
   if (a.wl) {
      vkt_check(&a.ctx,
                vkGetPhysicalDeviceWaylandPresentationSupportKHR(a.ctx.physical_device,
                                                                 a.ctx.queue_family, a.wl),
                "no Wayland presentation support");
   }
#endif
#ifdef WSI_HAS_X11
   if (error_case && !strcmp(error_case, "fifo-pace"))
      run_fifo_pace(&a);
   else
#endif
   if (error_case && !strcmp(error_case, "formats"))
      print_formats(&a);
   else if (error_case)
      run_error_case(&a, error_case);
   else
      run_modes(&a);

   vkDestroySurfaceKHR(a.ctx.instance, a.surface, NULL);
   const int rc = vkt_finish(&a.ctx);
#ifdef WSI_HAS_WAYLAND
   if (a.wl) {
      xdg_toplevel_destroy(a.toplevel);
      xdg_surface_destroy(a.xdg_surface);
      wl_surface_destroy(a.wl_surface);
      xdg_wm_base_destroy(a.wm_base);
      wl_compositor_destroy(a.compositor);
      wl_display_disconnect(a.wl);
   }
#endif
#ifdef WSI_HAS_X11
   if (a.dpy)
      XCloseDisplay(a.dpy);
   else if (a.conn)
      xcb_disconnect(a.conn);
#endif
   return rc;
}
