/*
 * Wayland (VK_KHR_wayland_surface). Frames reach the compositor as wl_shm
 * buffers, one per swapchain image, created once:
 *
 *  1. zero copy: the pool is made over the image's exported memory fd
 *     (vkGetMemoryFdKHR; over vtest the renderer's memfd) when that fd is a
 *     plain mappable file: the compositor reads the frame where the host
 *     wrote it. A compositor that cannot map a pool's fd ends the whole
 *     connection (the application's too), so the fd is first checked here;
 *  2. one CPU copy into a memfd of our own otherwise.
 *
 * Everything the driver asks of the compositor goes through its own
 * wl_event_queue (proxy wrappers of the display and of the application's
 * wl_surface), so the application's queues are never dispatched by us and
 * ours only by the swapchain's present thread. A buffer's wl_buffer.release
 * makes its image idle. FIFO and FIFO_RELAXED wait, before each commit, for
 * the frame callback of the previous one (at most a second: a hidden or
 * role-less surface gets none); MAILBOX and IMMEDIATE commit as soon as the
 * copy is done, MAILBOX dropping frames a newer one replaces. A connection
 * with an error is VK_ERROR_SURFACE_LOST_KHR. The compositor decides
 * nothing about the size: the swapchain's extent is the buffer's.
 */
#define VK_USE_PLATFORM_WAYLAND_KHR
#include "vn_wsi.h"

#include <errno.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "util/vu_os.h"

#include "vn_instance.h"

/* a frame callback is waited for at most this long */
#define VN_WSI_WL_FRAME_TIMEOUT_NS (1000ull * 1000 * 1000)
#define VN_WSI_WL_POLL_MS 100

struct vn_wsi_wl_image {
   struct vn_swapchain *sc;
   uint32_t index;
   struct wl_buffer *buffer;
   void *own; /* our own pool's mapping (path 2), else NULL */
   size_t own_size;
};

struct vn_wsi_wl_chain {
   struct wl_display *display;
   struct wl_event_queue *queue;
   struct wl_display *display_wrapper;
   struct wl_surface *surface_wrapper;
   struct wl_shm *shm;
   struct wl_callback *frame; /* the last commit's frame callback, pending */
   struct vn_wsi_wl_image images[VN_WSI_MAX_IMAGES];
};

VkResult
vn_wsi_wayland_create_surface(VkInstance instance,
                              const void *create_info,
                              const VkAllocationCallbacks *pAllocator,
                              VkSurfaceKHR *pSurface);
VkResult
vn_wsi_wayland_create_surface(VkInstance instance,
                              const void *create_info,
                              const VkAllocationCallbacks *pAllocator,
                              VkSurfaceKHR *pSurface)
{
   struct vn_instance *inst = vn_instance_from_handle(instance);
   const VkWaylandSurfaceCreateInfoKHR *info = create_info;
   VkIcdSurfaceWayland *s = vn_alloc(pAllocator ? pAllocator : &inst->alloc, sizeof(*s),
                                     VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!s)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   *s = (VkIcdSurfaceWayland){ { VK_ICD_WSI_PLATFORM_WAYLAND }, info->display, info->surface };
   *pSurface = (VkSurfaceKHR)(uintptr_t)s;
   return VK_SUCCESS;
}

VkBool32
vn_wsi_wayland_presentation_support(void *display);
VkBool32
vn_wsi_wayland_presentation_support(void *display)
{
   /* every compositor has wl_shm and its XRGB8888 */
   return display && !wl_display_get_error(display);
}

static VkResult
vn_wsi_wayland_surface_extent(VkIcdSurfaceBase *surface, VkExtent2D *out_extent)
{
   VkIcdSurfaceWayland *s = (VkIcdSurfaceWayland *)surface;
   if (wl_display_get_error(s->display))
      return VK_ERROR_SURFACE_LOST_KHR;
   /* a Wayland surface takes the size of the buffers attached to it */
   *out_extent = (VkExtent2D){ UINT32_MAX, UINT32_MAX };
   return VK_SUCCESS;
}

static void
vn_wsi_wl_registry_global(void *data,
                          struct wl_registry *registry,
                          uint32_t name,
                          const char *interface,
                          uint32_t version)
{
   struct vn_wsi_wl_chain *w = data;
   (void)version;
   if (!w->shm && !strcmp(interface, wl_shm_interface.name))
      w->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
}

static void
vn_wsi_wl_registry_remove(void *data, struct wl_registry *registry, uint32_t name)
{
   (void)data;
   (void)registry;
   (void)name;
}

static const struct wl_registry_listener vn_wsi_wl_registry_listener = {
   .global = vn_wsi_wl_registry_global,
   .global_remove = vn_wsi_wl_registry_remove,
};

static void
vn_wsi_wl_buffer_release(void *data, struct wl_buffer *buffer)
{
   struct vn_wsi_wl_image *wi = data;
   (void)buffer;
   vn_wsi_image_idle(wi->sc, wi->index);
}

static const struct wl_buffer_listener vn_wsi_wl_buffer_listener = {
   .release = vn_wsi_wl_buffer_release,
};

static void
vn_wsi_wl_frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
   struct vn_wsi_wl_chain *w = data;
   (void)time;
   wl_callback_destroy(callback);
   if (w->frame == callback)
      w->frame = NULL;
}

static const struct wl_callback_listener vn_wsi_wl_frame_listener = {
   .done = vn_wsi_wl_frame_done,
};

/* Whether the compositor can map `fd` as a wl_shm pool of `size` bytes: a
 * plain file (memfd, shm, tmpfs) that is large enough and maps here. */
static bool
vn_wsi_wl_fd_mappable(int fd, size_t size)
{
   struct stat st;
   if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < size)
      return false;
   void *ptr = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
   if (ptr == MAP_FAILED)
      return false;
   munmap(ptr, size);
   return true;
}

static struct wl_buffer *
vn_wsi_wl_buffer(struct vn_swapchain *sc, struct vn_wsi_wl_chain *w, int fd, size_t size)
{
   struct wl_shm_pool *pool = wl_shm_create_pool(w->shm, fd, (int32_t)size);
   if (!pool)
      return NULL;
   struct wl_buffer *buffer =
      wl_shm_pool_create_buffer(pool, 0, (int32_t)sc->extent.width, (int32_t)sc->extent.height,
                                (int32_t)sc->stride, WL_SHM_FORMAT_XRGB8888);
   /* the buffer keeps the pool's memory */
   wl_shm_pool_destroy(pool);
   return buffer;
}

static void
vn_wsi_wayland_chain_fini(struct vn_swapchain *sc)
{
   struct vn_wsi_wl_chain *w = sc->platform_data;
   for (uint32_t i = 0; i < sc->image_count; i++) {
      struct vn_wsi_wl_image *wi = &w->images[i];
      if (wi->buffer)
         wl_buffer_destroy(wi->buffer);
      if (wi->own)
         munmap(wi->own, wi->own_size);
   }
   if (w->frame)
      wl_callback_destroy(w->frame);
   if (w->shm)
      wl_shm_destroy(w->shm);
   if (w->surface_wrapper)
      wl_proxy_wrapper_destroy(w->surface_wrapper);
   if (w->display_wrapper)
      wl_proxy_wrapper_destroy(w->display_wrapper);
   if (w->queue) {
      wl_display_flush(w->display);
      wl_event_queue_destroy(w->queue);
   }
   vn_free(&sc->alloc, w);
   sc->platform_data = NULL;
}

static VkResult
vn_wsi_wayland_chain_init(struct vn_swapchain *sc)
{
   VkIcdSurfaceWayland *s = (VkIcdSurfaceWayland *)sc->surface;
   struct vn_wsi_wl_chain *w =
      vn_zalloc(&sc->alloc, sizeof(*w), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!w)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   sc->platform_data = w;
   w->display = s->display;
   if (wl_display_get_error(w->display))
      return VK_ERROR_SURFACE_LOST_KHR;
   w->queue = wl_display_create_queue(w->display);
   w->display_wrapper = w->queue ? wl_proxy_create_wrapper(w->display) : NULL;
   w->surface_wrapper = w->queue ? wl_proxy_create_wrapper(s->surface) : NULL;
   if (!w->display_wrapper || !w->surface_wrapper)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   wl_proxy_set_queue((struct wl_proxy *)w->display_wrapper, w->queue);
   wl_proxy_set_queue((struct wl_proxy *)w->surface_wrapper, w->queue);

   struct wl_registry *registry = wl_display_get_registry(w->display_wrapper);
   if (!registry)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   wl_registry_add_listener(registry, &vn_wsi_wl_registry_listener, w);
   const int rt = wl_display_roundtrip_queue(w->display, w->queue);
   wl_registry_destroy(registry);
   if (rt < 0)
      return VK_ERROR_SURFACE_LOST_KHR;
   if (!w->shm)
      return VK_ERROR_INITIALIZATION_FAILED;

   const size_t size = (size_t)sc->stride * sc->extent.height;
   unsigned zero_copy = 0;
   for (uint32_t i = 0; i < sc->image_count; i++) {
      struct vn_wsi_wl_image *wi = &w->images[i];
      wi->sc = sc;
      wi->index = i;
      const int fd = sc->images[i].fd;
      if (fd >= 0 && !VU_PERF(NO_WSI_ZERO_COPY) && vn_wsi_wl_fd_mappable(fd, size)) {
         wi->buffer = vn_wsi_wl_buffer(sc, w, fd, size);
         zero_copy += wi->buffer != NULL;
      }
      if (!wi->buffer) {
         const int own_fd = vu_os_create_shm("venus-wsi", size);
         if (own_fd < 0)
            return VK_ERROR_OUT_OF_HOST_MEMORY;
         void *ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, own_fd, 0);
         if (ptr == MAP_FAILED) {
            close(own_fd);
            return VK_ERROR_OUT_OF_HOST_MEMORY;
         }
         wi->own = ptr;
         wi->own_size = size;
         wi->buffer = vn_wsi_wl_buffer(sc, w, own_fd, size);
         close(own_fd);
      }
      if (!wi->buffer)
         return VK_ERROR_OUT_OF_HOST_MEMORY;
      wl_buffer_add_listener(wi->buffer, &vn_wsi_wl_buffer_listener, wi);
   }
   if (wl_display_flush(w->display) < 0 && errno != EAGAIN)
      return VK_ERROR_SURFACE_LOST_KHR;
   if (VU_DEBUG(INIT))
      vn_log_debug("wayland swapchain %ux%u: %u images, %u zero-copy wl_shm, %u copied",
                   sc->extent.width, sc->extent.height, sc->image_count, zero_copy,
                   sc->image_count - zero_copy);
   return VK_SUCCESS;
}

static int
vn_wsi_wayland_event_fd(struct vn_swapchain *sc)
{
   struct vn_wsi_wl_chain *w = sc->platform_data;
   return wl_display_get_fd(w->display);
}

static VkResult
vn_wsi_wayland_poll_events(struct vn_swapchain *sc, bool wait_frame)
{
   struct vn_wsi_wl_chain *w = sc->platform_data;
   /* a queued present or stop wakes the idle thread; a frame wait
    * looks at stop between its slices */
   struct pollfd fds[2] = {
      { .fd = wl_display_get_fd(w->display), .events = POLLIN },
      { .fd = wait_frame ? -1 : sc->wake_fd, .events = POLLIN },
   };
   if (wl_display_get_error(w->display)) {
      fds[0].fd = -1;
      poll(fds, 2, VN_WSI_WL_POLL_MS);
   } else {
      while (wl_display_prepare_read_queue(w->display, w->queue) != 0) {
         if (wl_display_dispatch_queue_pending(w->display, w->queue) < 0)
            return VK_ERROR_SURFACE_LOST_KHR;
      }
      if (wl_display_flush(w->display) < 0 && errno != EAGAIN) {
         wl_display_cancel_read(w->display);
         return VK_ERROR_SURFACE_LOST_KHR;
      }
      const int n = poll(fds, 2, VN_WSI_WL_POLL_MS);
      if (n > 0 && fds[0].revents) {
         if (wl_display_read_events(w->display) < 0)
            return VK_ERROR_SURFACE_LOST_KHR;
      } else {
         wl_display_cancel_read(w->display);
      }
      if (wl_display_dispatch_queue_pending(w->display, w->queue) < 0)
         return VK_ERROR_SURFACE_LOST_KHR;
   }
   if (fds[1].fd >= 0 && fds[1].revents) {
      uint64_t count;
      if (read(sc->wake_fd, &count, sizeof(count)) < 0) {
         /* EAGAIN: drained already */
      }
   }
   return wl_display_get_error(w->display) ? VK_ERROR_SURFACE_LOST_KHR : VK_SUCCESS;
}

static uint64_t
vn_wsi_wl_now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* FIFO: waits until the compositor asks for the next frame. */
static VkResult
vn_wsi_wl_wait_frame(struct vn_swapchain *sc, struct vn_wsi_wl_chain *w)
{
   const uint64_t deadline = vn_wsi_wl_now_ns() + VN_WSI_WL_FRAME_TIMEOUT_NS;
   while (w->frame) {
      const VkResult result = vn_wsi_wayland_poll_events(sc, true);
      if (result != VK_SUCCESS)
         return result;
      mtx_lock(&sc->mutex);
      const bool stop = sc->stop;
      mtx_unlock(&sc->mutex);
      if (stop || vn_wsi_wl_now_ns() >= deadline)
         break;
   }
   if (w->frame) {
      /* its done event, should it still come, is not waited for */
      wl_callback_destroy(w->frame);
      w->frame = NULL;
   }
   return VK_SUCCESS;
}

static VkResult
vn_wsi_wayland_present(struct vn_swapchain *sc, uint32_t index)
{
   struct vn_wsi_wl_chain *w = sc->platform_data;
   struct vn_wsi_wl_image *wi = &w->images[index];
   if (wl_display_get_error(w->display))
      return VK_ERROR_SURFACE_LOST_KHR;
   mtx_lock(&sc->mutex);
   const VkPresentModeKHR mode = sc->mode;
   mtx_unlock(&sc->mutex);
   const bool fifo = mode == VK_PRESENT_MODE_FIFO_KHR || mode == VK_PRESENT_MODE_FIFO_RELAXED_KHR;
   if (fifo) {
      const VkResult result = vn_wsi_wl_wait_frame(sc, w);
      if (result != VK_SUCCESS)
         return result;
   }
   if (wi->own)
      memcpy(wi->own, sc->images[index].map, wi->own_size);
   wl_surface_attach(w->surface_wrapper, wi->buffer, 0, 0);
   wl_surface_damage(w->surface_wrapper, 0, 0, INT32_MAX, INT32_MAX);
   if (fifo) {
      w->frame = wl_surface_frame(w->surface_wrapper);
      if (w->frame)
         wl_callback_add_listener(w->frame, &vn_wsi_wl_frame_listener, w);
   }
   wl_surface_commit(w->surface_wrapper);
   /* the image stays busy until the compositor releases its buffer */
   if (wl_display_flush(w->display) < 0 && errno != EAGAIN)
      return VK_ERROR_SURFACE_LOST_KHR;
   return wl_display_get_error(w->display) ? VK_ERROR_SURFACE_LOST_KHR : VK_SUCCESS;
}

static const VkPresentModeKHR vn_wsi_wayland_modes[] = {
   VK_PRESENT_MODE_FIFO_KHR,
   VK_PRESENT_MODE_MAILBOX_KHR,
   VK_PRESENT_MODE_IMMEDIATE_KHR,
   VK_PRESENT_MODE_FIFO_RELAXED_KHR,
};

const struct vn_wsi_platform vn_wsi_wayland_platform = {
   .platform = VK_ICD_WSI_PLATFORM_WAYLAND,
   .surface_extent = vn_wsi_wayland_surface_extent,
   .modes = vn_wsi_wayland_modes,
   .mode_count = VN_ARRAY_SIZE(vn_wsi_wayland_modes),
   .alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR | VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR,
   .needs_copy = true,
   .chain_init = vn_wsi_wayland_chain_init,
   .chain_fini = vn_wsi_wayland_chain_fini,
   .present = vn_wsi_wayland_present,
   .event_fd = vn_wsi_wayland_event_fd,
   .poll_events = vn_wsi_wayland_poll_events,
};
