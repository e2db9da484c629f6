/*
 * X11 (xcb and Xlib surfaces; an Xlib Display is used through its xcb
 * connection). A frame reaches the X server, cheapest first:
 *
 *  1. zero copy: the image's linear copy lives in memory the driver can
 *     export as an fd (vkGetMemoryFdKHR; over vtest the renderer's memfd),
 *     attached once as an MIT-SHM segment (xcb_shm_attach_fd) and drawn
 *     with ShmPutImage: the X server reads the frame where the host wrote it;
 *  2. one CPU copy into a segment of our own (memfd), when the memory
 *     cannot be exported or the X server refuses its fd;
 *  3. PutImage (the frame travels through the X socket) when the server
 *     has no MIT-SHM or is remote.
 *
 * Each present ends with a GetGeometry round trip: its reply says the
 * server has executed the draw (so the segment is no longer read and the
 * image is idle again) and gives the window's size (resize: SUBOPTIMAL);
 * an error reply means the window is gone, a broken connection that the
 * X server is (both VK_ERROR_SURFACE_LOST_KHR).
 *
 * Pacing (the platform's pace hook, before the present thread picks a
 * frame): where the X server has the Present extension (and the driver is
 * built with xcb-present, VN_WSI_X11_PRESENT), a FIFO frame is drawn only
 * once the server's PresentCompleteNotify for a PresentNotifyMSC says the
 * window's CRTC reached its next MSC (vblank): at most one frame per
 * refresh. FIFO_RELAXED targets the MSC after the previous frame's, so a
 * late frame is drawn at once. The wait is bounded (VN_WSI_X11_MSC_TIMEOUT_NS:
 * a window on no CRTC, a server that never answers), and an error on the
 * request (window gone) is SURFACE_LOST. Without Present, FIFO and
 * FIFO_RELAXED show every frame in order unpaced. IMMEDIATE draws each frame
 * as soon as its copy is done; MAILBOX does too, after dropping queued
 * frames a newer finished one replaces: pacing it by the MSC would hold the
 * application back whenever all its images wait for the next MSC, since a
 * frame is dropped only once the present thread looks at it again.
 */
#define VK_USE_PLATFORM_XCB_KHR
#define VK_USE_PLATFORM_XLIB_KHR
#include "vn_wsi.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <X11/Xlib-xcb.h>
#ifdef VN_WSI_X11_PRESENT
#include <xcb/present.h>
#endif
#include <xcb/shm.h>
#include <xcb/xcb.h>

#include "util/vu_os.h"

#include "vn_instance.h"

struct vn_wsi_x11_image {
   xcb_shm_seg_t seg; /* 0: PutImage */
   void *own;         /* our own segment (path 2), else NULL */
   size_t own_size;
};

struct vn_wsi_x11_chain {
   xcb_connection_t *conn;
   xcb_window_t window;
   xcb_gcontext_t gc;
   uint8_t depth;
   struct vn_wsi_x11_image images[VN_WSI_MAX_IMAGES];
#ifdef VN_WSI_X11_PRESENT
   /* Present pacing (NULL: the server has no Present) */
   xcb_special_event_t *special;
   xcb_present_event_t eid;
   uint32_t serial;
   uint64_t msc; /* MSC of the last paced frame, 0: none yet */
#endif
};

#define VN_WSI_X11_MSC_TIMEOUT_NS 1000000000ull

static void
vn_wsi_x11_surface(VkIcdSurfaceBase *surface, xcb_connection_t **conn, xcb_window_t *window)
{
   if (surface->platform == VK_ICD_WSI_PLATFORM_XLIB) {
      VkIcdSurfaceXlib *s = (VkIcdSurfaceXlib *)surface;
      *conn = XGetXCBConnection(s->dpy);
      *window = (xcb_window_t)s->window;
   } else {
      VkIcdSurfaceXcb *s = (VkIcdSurfaceXcb *)surface;
      *conn = s->connection;
      *window = s->window;
   }
}

VkResult
vn_wsi_x11_create_xcb_surface(VkInstance instance,
                              const void *create_info,
                              bool xlib,
                              const VkAllocationCallbacks *pAllocator,
                              VkSurfaceKHR *pSurface);
VkResult
vn_wsi_x11_create_xcb_surface(VkInstance instance,
                              const void *create_info,
                              bool xlib,
                              const VkAllocationCallbacks *pAllocator,
                              VkSurfaceKHR *pSurface)
{
   struct vn_instance *inst = vn_instance_from_handle(instance);
   const VkAllocationCallbacks *alloc = pAllocator ? pAllocator : &inst->alloc;
   if (xlib) {
      const VkXlibSurfaceCreateInfoKHR *info = create_info;
      VkIcdSurfaceXlib *s = vn_alloc(alloc, sizeof(*s), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
      if (!s)
         return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
      *s = (VkIcdSurfaceXlib){ { VK_ICD_WSI_PLATFORM_XLIB }, info->dpy, info->window };
      *pSurface = (VkSurfaceKHR)(uintptr_t)s;
   } else {
      const VkXcbSurfaceCreateInfoKHR *info = create_info;
      VkIcdSurfaceXcb *s = vn_alloc(alloc, sizeof(*s), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
      if (!s)
         return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
      *s = (VkIcdSurfaceXcb){ { VK_ICD_WSI_PLATFORM_XCB }, info->connection, info->window };
      *pSurface = (VkSurfaceKHR)(uintptr_t)s;
   }
   return VK_SUCCESS;
}

VkBool32
vn_wsi_x11_presentation_support(void *connection, uint32_t visual_id, bool xlib);
VkBool32
vn_wsi_x11_presentation_support(void *connection, uint32_t visual_id, bool xlib)
{
   xcb_connection_t *conn = xlib ? XGetXCBConnection(connection) : connection;
   if (xcb_connection_has_error(conn))
      return VK_FALSE;
   /* our formats are BGRA in memory: 24- and 32-bit TrueColor visuals */
   const xcb_setup_t *setup = xcb_get_setup(conn);
   for (xcb_screen_iterator_t s = xcb_setup_roots_iterator(setup); s.rem; xcb_screen_next(&s)) {
      for (xcb_depth_iterator_t d = xcb_screen_allowed_depths_iterator(s.data); d.rem;
           xcb_depth_next(&d)) {
         const xcb_visualtype_t *v = xcb_depth_visuals(d.data);
         for (int i = 0; i < xcb_depth_visuals_length(d.data); i++) {
            if (v[i].visual_id == visual_id)
               return (d.data->depth == 24 || d.data->depth == 32) &&
                      v[i]._class == XCB_VISUAL_CLASS_TRUE_COLOR;
         }
      }
   }
   return VK_FALSE;
}

static VkResult
vn_wsi_x11_geometry(xcb_connection_t *conn, xcb_window_t window, VkExtent2D *out, uint8_t *depth)
{
   if (xcb_connection_has_error(conn))
      return VK_ERROR_SURFACE_LOST_KHR;
   xcb_generic_error_t *err = NULL;
   xcb_get_geometry_reply_t *geo =
      xcb_get_geometry_reply(conn, xcb_get_geometry(conn, window), &err);
   free(err);
   if (!geo)
      return VK_ERROR_SURFACE_LOST_KHR;
   *out = (VkExtent2D){ geo->width, geo->height };
   if (depth)
      *depth = geo->depth;
   free(geo);
   return VK_SUCCESS;
}

static VkResult
vn_wsi_x11_surface_extent(VkIcdSurfaceBase *surface, VkExtent2D *out_extent)
{
   xcb_connection_t *conn;
   xcb_window_t window;
   vn_wsi_x11_surface(surface, &conn, &window);
   return vn_wsi_x11_geometry(conn, window, out_extent, NULL);
}

static bool
vn_wsi_x11_has_shm_fd(xcb_connection_t *conn)
{
   const xcb_query_extension_reply_t *ext = xcb_get_extension_data(conn, &xcb_shm_id);
   if (!ext || !ext->present)
      return false;
   xcb_shm_query_version_reply_t *ver =
      xcb_shm_query_version_reply(conn, xcb_shm_query_version(conn), NULL);
   /* AttachFd came with MIT-SHM 1.2 */
   const bool ok =
      ver && (ver->major_version > 1 || (ver->major_version == 1 && ver->minor_version >= 2));
   free(ver);
   return ok;
}

/* Attaches `fd` (a dup is consumed by xcb) read-only; 0 on failure. */
static xcb_shm_seg_t
vn_wsi_x11_attach(xcb_connection_t *conn, int fd)
{
   const int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
   if (dup_fd < 0)
      return 0;
   const xcb_shm_seg_t seg = xcb_generate_id(conn);
   xcb_generic_error_t *err = xcb_request_check(conn, xcb_shm_attach_fd_checked(conn, seg, dup_fd, 1));
   if (err) {
      free(err);
      return 0;
   }
   return seg;
}

#ifdef VN_WSI_X11_PRESENT
/* Present 1.0 or later: complete-notify events of the window on a queue of
 * our own (the application's event queue never sees them) */
static bool
vn_wsi_x11_present_init(struct vn_wsi_x11_chain *x)
{
   const xcb_query_extension_reply_t *ext = xcb_get_extension_data(x->conn, &xcb_present_id);
   if (!ext || !ext->present)
      return false;
   xcb_present_query_version_reply_t *ver = xcb_present_query_version_reply(
      x->conn, xcb_present_query_version(x->conn, 1, 0), NULL);
   if (!ver)
      return false;
   free(ver);
   x->eid = xcb_generate_id(x->conn);
   /* every Present client of the window sees our notifies: serials that
    * start at our event id, unique on this connection */
   x->serial = x->eid;
   x->special =
      xcb_register_for_special_xge(x->conn, &xcb_present_id, x->eid, NULL);
   if (!x->special)
      return false;
   xcb_generic_error_t *err = xcb_request_check(
      x->conn, xcb_present_select_input_checked(x->conn, x->eid, x->window,
                                                XCB_PRESENT_EVENT_MASK_COMPLETE_NOTIFY));
   if (err) {
      free(err);
      xcb_unregister_for_special_event(x->conn, x->special);
      x->special = NULL;
      return false;
   }
   return true;
}

static uint64_t
vn_wsi_x11_now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* FIFO: waits for the window's next MSC; FIFO_RELAXED: for the MSC after
 * the previous frame's (at once when that has passed). */
static VkResult
vn_wsi_x11_wait_msc(struct vn_wsi_x11_chain *x, bool relaxed)
{
   const uint32_t serial = ++x->serial;
   const bool next = !relaxed || !x->msc;
   xcb_generic_error_t *err = xcb_request_check(
      x->conn, xcb_present_notify_msc_checked(x->conn, x->window, serial, next ? 0 : x->msc + 1,
                                              next ? 1 : 0, 0));
   if (err) {
      free(err);
      return VK_ERROR_SURFACE_LOST_KHR;
   }
   /* The connection is shared with the application, whose thread may read
    * the socket: poll for the queued event with a short timeout rather
    * than block in xcb_wait_for_special_event. */
   const uint64_t deadline = vn_wsi_x11_now_ns() + VN_WSI_X11_MSC_TIMEOUT_NS;
   for (;;) {
      xcb_generic_event_t *ev;
      while ((ev = xcb_poll_for_special_event(x->conn, x->special))) {
         const xcb_present_generic_event_t *pe = (const xcb_present_generic_event_t *)ev;
         if (pe->evtype == XCB_PRESENT_EVENT_COMPLETE_NOTIFY) {
            const xcb_present_complete_notify_event_t *ce =
               (const xcb_present_complete_notify_event_t *)ev;
            if (ce->kind == XCB_PRESENT_COMPLETE_KIND_NOTIFY_MSC && ce->serial == serial) {
               x->msc = ce->msc;
               free(ev);
               return VK_SUCCESS;
            }
         }
         free(ev);
      }
      if (xcb_connection_has_error(x->conn))
         return VK_ERROR_SURFACE_LOST_KHR;
      if (vn_wsi_x11_now_ns() >= deadline)
         return VK_SUCCESS; /* no MSC came (window on no CRTC): draw anyway */
      struct pollfd pfd = { .fd = xcb_get_file_descriptor(x->conn), .events = POLLIN };
      poll(&pfd, 1, 2);
   }
}

static VkResult
vn_wsi_x11_pace(struct vn_swapchain *sc, VkPresentModeKHR mode)
{
   struct vn_wsi_x11_chain *x = sc->platform_data;
   if (!x->special ||
       (mode != VK_PRESENT_MODE_FIFO_KHR && mode != VK_PRESENT_MODE_FIFO_RELAXED_KHR))
      return VK_SUCCESS;
   if (xcb_connection_has_error(x->conn))
      return VK_ERROR_SURFACE_LOST_KHR;
   return vn_wsi_x11_wait_msc(x, mode == VK_PRESENT_MODE_FIFO_RELAXED_KHR);
}
#else
static bool
vn_wsi_x11_present_init(struct vn_wsi_x11_chain *x)
{
   (void)x;
   return false;
}
#endif

static void
vn_wsi_x11_chain_fini(struct vn_swapchain *sc)
{
   struct vn_wsi_x11_chain *x = sc->platform_data;
   const bool alive = !xcb_connection_has_error(x->conn);
   for (uint32_t i = 0; i < sc->image_count; i++) {
      struct vn_wsi_x11_image *xi = &x->images[i];
      if (xi->seg && alive)
         xcb_shm_detach(x->conn, xi->seg);
      if (xi->own)
         munmap(xi->own, xi->own_size);
   }
#ifdef VN_WSI_X11_PRESENT
   if (x->special) {
      if (alive)
         xcb_present_select_input(x->conn, x->eid, x->window, 0);
      xcb_unregister_for_special_event(x->conn, x->special);
   }
#endif
   if (alive) {
      xcb_free_gc(x->conn, x->gc);
      xcb_flush(x->conn);
   }
   vn_free(&sc->alloc, x);
   sc->platform_data = NULL;
}

static VkResult
vn_wsi_x11_chain_init(struct vn_swapchain *sc)
{
   struct vn_wsi_x11_chain *x =
      vn_zalloc(&sc->alloc, sizeof(*x), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!x)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   sc->platform_data = x;
   vn_wsi_x11_surface(sc->surface, &x->conn, &x->window);
   VkExtent2D extent;
   VkResult result = vn_wsi_x11_geometry(x->conn, x->window, &extent, &x->depth);
   if (result != VK_SUCCESS)
      return result;
   x->gc = xcb_generate_id(x->conn);
   xcb_create_gc(x->conn, x->gc, x->window, 0, NULL);

   const bool shm = !VU_PERF(NO_WSI_SHM) && vn_wsi_x11_has_shm_fd(x->conn);
   const size_t size = (size_t)sc->stride * sc->extent.height;
   unsigned zero_copy = 0, own = 0;
   for (uint32_t i = 0; shm && i < sc->image_count; i++) {
      struct vn_wsi_x11_image *xi = &x->images[i];
      if (sc->images[i].fd >= 0 && !VU_PERF(NO_WSI_ZERO_COPY))
         xi->seg = vn_wsi_x11_attach(x->conn, sc->images[i].fd);
      if (xi->seg) {
         zero_copy++;
         continue;
      }
      const int fd = vu_os_create_shm("venus-wsi", size);
      if (fd < 0)
         continue;
      void *ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (ptr != MAP_FAILED) {
         xi->seg = vn_wsi_x11_attach(x->conn, fd);
         if (xi->seg) {
            xi->own = ptr;
            xi->own_size = size;
            own++;
         } else {
            munmap(ptr, size);
         }
      }
      close(fd);
   }
   const bool paced = vn_wsi_x11_present_init(x);
   if (VU_DEBUG(INIT))
      vn_log_debug("x11 swapchain %ux%u: %u images, %u zero-copy MIT-SHM, %u copied MIT-SHM, "
                   "%u PutImage; FIFO %s",
                   sc->extent.width, sc->extent.height, sc->image_count, zero_copy, own,
                   sc->image_count - zero_copy - own,
                   paced ? "paced by Present (MSC)" : "unpaced (no Present)");
   return VK_SUCCESS;
}

static void
vn_wsi_x11_put_image(struct vn_swapchain *sc, struct vn_wsi_x11_chain *x, const uint8_t *src)
{
   /* PutImage requests are bounded by the server's maximum request size */
   const uint32_t max_bytes = xcb_get_maximum_request_length(x->conn) * 4u - 64u;
   uint32_t rows = VN_MAX(max_bytes / sc->stride, 1u);
   for (uint32_t y = 0; y < sc->extent.height; y += rows) {
      const uint32_t n = VN_MIN(rows, sc->extent.height - y);
      xcb_put_image(x->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, x->window, x->gc, sc->extent.width, n,
                    0, (int16_t)y, 0, x->depth, n * sc->stride, src + (size_t)y * sc->stride);
   }
}

static VkResult
vn_wsi_x11_present(struct vn_swapchain *sc, uint32_t index)
{
   struct vn_wsi_x11_chain *x = sc->platform_data;
   struct vn_wsi_x11_image *xi = &x->images[index];
   const struct vn_wsi_image *img = &sc->images[index];
   if (xcb_connection_has_error(x->conn))
      return VK_ERROR_SURFACE_LOST_KHR;
   if (xi->seg) {
      if (xi->own)
         memcpy(xi->own, img->map, xi->own_size);
      xcb_shm_put_image(x->conn, x->window, x->gc, sc->extent.width, sc->extent.height, 0, 0,
                        sc->extent.width, sc->extent.height, 0, 0, x->depth,
                        XCB_IMAGE_FORMAT_Z_PIXMAP, 0, xi->seg, 0);
   } else {
      vn_wsi_x11_put_image(sc, x, img->map);
   }
   /* the reply comes after the draw has been executed */
   VkExtent2D extent;
   const VkResult result = vn_wsi_x11_geometry(x->conn, x->window, &extent, NULL);
   vn_wsi_image_idle(sc, index);
   if (result != VK_SUCCESS)
      return result;
   if (extent.width != sc->extent.width || extent.height != sc->extent.height)
      return VK_SUBOPTIMAL_KHR;
   return VK_SUCCESS;
}

static const VkPresentModeKHR vn_wsi_x11_modes[] = {
   VK_PRESENT_MODE_FIFO_KHR,
   VK_PRESENT_MODE_MAILBOX_KHR,
   VK_PRESENT_MODE_IMMEDIATE_KHR,
   VK_PRESENT_MODE_FIFO_RELAXED_KHR,
};

const struct vn_wsi_platform vn_wsi_x11_platform = {
   .platform = VK_ICD_WSI_PLATFORM_XCB,
   .surface_extent = vn_wsi_x11_surface_extent,
   .modes = vn_wsi_x11_modes,
   .mode_count = VN_ARRAY_SIZE(vn_wsi_x11_modes),
   .alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR,
   .needs_copy = true,
   .chain_init = vn_wsi_x11_chain_init,
   .chain_fini = vn_wsi_x11_chain_fini,
   .present = vn_wsi_x11_present,
#ifdef VN_WSI_X11_PRESENT
   .pace = vn_wsi_x11_pace,
#endif
};
