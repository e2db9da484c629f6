/*
 * Swapchains shared by every platform (vn_wsi.h): images and their linear
 * copies, acquire, present, present ids and waits, and the present thread.
 *
 * An image is, in this order: idle (acquirable) -> acquired by the
 * application -> busy (queued by a present: copying on the host, then read
 * by the window system) -> idle once the platform says the window system
 * has finished reading it (vn_wsi_image_idle). Acquire hands out only idle
 * images, so it never returns an image still being read.
 */
#include "vn_wsi.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vn_device.h"
#include "vn_instance.h"
#include "vn_memory.h"

/* the present thread's fence waits are sliced so that it notices stop */
#define VN_WSI_FENCE_SLICE_NS (100ull * 1000 * 1000)

static uint32_t
vn_wsi_memory_type(const struct vn_device *dev,
                   uint32_t type_bits,
                   VkMemoryPropertyFlags required,
                   VkMemoryPropertyFlags preferred)
{
   const VkPhysicalDeviceMemoryProperties *props =
      &dev->physical_device->memory_properties.memoryProperties;
   uint32_t fallback = UINT32_MAX;
   for (uint32_t i = 0; i < props->memoryTypeCount; i++) {
      const VkMemoryPropertyFlags f = props->memoryTypes[i].propertyFlags;
      if (!(type_bits & (1u << i)) || (f & required) != required)
         continue;
      if ((f & preferred) == preferred)
         return i;
      if (fallback == UINT32_MAX)
         fallback = i;
   }
   return fallback;
}

static VkResult
vn_wsi_image_init(struct vn_swapchain *sc,
                  const VkSwapchainCreateInfoKHR *info,
                  struct vn_wsi_image *img)
{
   struct vn_device *dev = sc->dev;
   VkDevice device = vn_device_to_handle(dev);
   VkResult result;
   img->fd = -1;

   /* VK_KHR_swapchain_mutable_format: the view formats come along */
   const VkImageFormatListCreateInfo *list =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_IMAGE_FORMAT_LIST_CREATE_INFO);
   VkImageFormatListCreateInfo list_copy;
   if (list) {
      list_copy = *list;
      list_copy.pNext = NULL;
   }
   VkImageCreateFlags flags = 0;
   if (info->flags & VK_SWAPCHAIN_CREATE_MUTABLE_FORMAT_BIT_KHR)
      flags |= VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT | VK_IMAGE_CREATE_EXTENDED_USAGE_BIT;
   const VkImageCreateInfo image_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .pNext = list ? &list_copy : NULL,
      .flags = flags,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = info->imageFormat,
      .extent = { info->imageExtent.width, info->imageExtent.height, 1 },
      .mipLevels = 1,
      .arrayLayers = info->imageArrayLayers,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = info->imageUsage | (sc->platform->needs_copy ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT : 0),
      .sharingMode = info->imageSharingMode,
      .queueFamilyIndexCount = info->queueFamilyIndexCount,
      .pQueueFamilyIndices = info->pQueueFamilyIndices,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   result = vn_CreateImage(device, &image_info, NULL, &img->image);
   if (result != VK_SUCCESS)
      return result;
   VkMemoryRequirements reqs;
   vn_GetImageMemoryRequirements(device, img->image, &reqs);
   const VkMemoryDedicatedAllocateInfo dedicated = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
      .image = img->image,
   };
   VkMemoryAllocateInfo alloc_info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &dedicated,
      .allocationSize = reqs.size,
      .memoryTypeIndex =
         vn_wsi_memory_type(dev, reqs.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT),
   };
   result = vn_AllocateMemory(device, &alloc_info, NULL, &img->memory);
   if (result != VK_SUCCESS)
      return result;
   result = vn_BindImageMemory(device, img->image, img->memory, 0);
   if (result != VK_SUCCESS)
      return result;

   const VkFenceCreateInfo fence_info = {
      .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
      .flags = VK_FENCE_CREATE_SIGNALED_BIT,
   };
   result = vn_CreateFence(device, &fence_info, NULL, &img->fence);
   if (result != VK_SUCCESS)
      return result;
   img->cmds = vn_zalloc(&sc->alloc, sizeof(VkCommandBuffer) * sc->family_count,
                         VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!img->cmds)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   if (!sc->platform->needs_copy)
      return VK_SUCCESS;

   /* the linear copy: exportable where the device exports memory fds, so
    * that the window system can read it where it lies */
   const bool exportable = vn_ext_set_has(&dev->physical_device->exposed_exts, 75);
   const VkExternalMemoryBufferCreateInfo ext_buffer = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkBufferCreateInfo buffer_info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = exportable ? &ext_buffer : NULL,
      .size = (VkDeviceSize)sc->stride * sc->extent.height,
      .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   result = vn_CreateBuffer(device, &buffer_info, NULL, &img->buffer);
   if (result != VK_SUCCESS)
      return result;
   vn_GetBufferMemoryRequirements(device, img->buffer, &reqs);
   const VkExportMemoryAllocateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkMemoryDedicatedAllocateInfo buffer_dedicated = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
      .pNext = exportable ? &export : NULL,
      .buffer = img->buffer,
   };
   alloc_info = (VkMemoryAllocateInfo){
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &buffer_dedicated,
      .allocationSize = reqs.size,
      .memoryTypeIndex = vn_wsi_memory_type(
         dev, reqs.memoryTypeBits,
         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
         VK_MEMORY_PROPERTY_HOST_CACHED_BIT),
   };
   if (alloc_info.memoryTypeIndex == UINT32_MAX)
      return VK_ERROR_OUT_OF_DEVICE_MEMORY;
   result = vn_AllocateMemory(device, &alloc_info, NULL, &img->buffer_memory);
   if (result != VK_SUCCESS && exportable) {
      /* the renderer could not allocate exportable memory: plain copy */
      VkMemoryDedicatedAllocateInfo plain = buffer_dedicated;
      plain.pNext = NULL;
      alloc_info.pNext = &plain;
      result = vn_AllocateMemory(device, &alloc_info, NULL, &img->buffer_memory);
   } else if (result == VK_SUCCESS && exportable) {
      const VkMemoryGetFdInfoKHR fd_info = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
         .memory = img->buffer_memory,
         .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      };
      if (vn_GetMemoryFdKHR(device, &fd_info, &img->fd) != VK_SUCCESS)
         img->fd = -1;
   }
   if (result != VK_SUCCESS)
      return result;
   result = vn_BindBufferMemory(device, img->buffer, img->buffer_memory, 0);
   if (result != VK_SUCCESS)
      return result;
   return vn_MapMemory(device, img->buffer_memory, 0, VK_WHOLE_SIZE, 0, &img->map);
}

static void
vn_wsi_image_fini(struct vn_swapchain *sc, struct vn_wsi_image *img)
{
   VkDevice device = vn_device_to_handle(sc->dev);
   if (img->cmds) {
      for (uint32_t f = 0; f < sc->family_count; f++) {
         if (img->cmds[f])
            vn_FreeCommandBuffers(device, sc->pools[f], 1, &img->cmds[f]);
      }
      vn_free(&sc->alloc, img->cmds);
   }
   if (img->fd >= 0)
      close(img->fd);
   vn_DestroyFence(device, img->fence, NULL);
   vn_DestroyBuffer(device, img->buffer, NULL);
   vn_FreeMemory(device, img->buffer_memory, NULL);
   vn_DestroyImage(device, img->image, NULL);
   vn_FreeMemory(device, img->memory, NULL);
}

/* The copy of image `index` into its buffer, recorded once per family. */
static VkCommandBuffer
vn_wsi_copy_cmd(struct vn_swapchain *sc, uint32_t index, uint32_t family)
{
   struct vn_wsi_image *img = &sc->images[index];
   VkDevice device = vn_device_to_handle(sc->dev);
   if (img->cmds[family])
      return img->cmds[family];
   if (!sc->pools[family]) {
      const VkCommandPoolCreateInfo pool_info = {
         .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
         .queueFamilyIndex = family,
      };
      if (vn_CreateCommandPool(device, &pool_info, NULL, &sc->pools[family]) != VK_SUCCESS)
         return VK_NULL_HANDLE;
   }
   const VkCommandBufferAllocateInfo alloc_info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = sc->pools[family],
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd;
   if (vn_AllocateCommandBuffers(device, &alloc_info, &cmd) != VK_SUCCESS)
      return VK_NULL_HANDLE;
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
   };
   vn_BeginCommandBuffer(cmd, &begin);
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   VkImageMemoryBarrier to_src = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
      .oldLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
      .newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = img->image,
      .subresourceRange = range,
   };
   vn_CmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 0, NULL, 0, NULL, 1, &to_src);
   const VkBufferImageCopy region = {
      .bufferRowLength = sc->stride / 4,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { sc->extent.width, sc->extent.height, 1 },
   };
   vn_CmdCopyImageToBuffer(cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, img->buffer, 1,
                           &region);
   VkImageMemoryBarrier back = to_src;
   back.srcAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
   back.dstAccessMask = 0;
   back.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
   back.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
   const VkBufferMemoryBarrier to_host = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
      .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .buffer = img->buffer,
      .size = VK_WHOLE_SIZE,
   };
   vn_CmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0,
                         NULL, 1, &to_host, 1, &back);
   if (vn_EndCommandBuffer(cmd) != VK_SUCCESS) {
      vn_FreeCommandBuffers(device, sc->pools[family], 1, &cmd);
      return VK_NULL_HANDLE;
   }
   img->cmds[family] = cmd;
   return cmd;
}

/* ------------------------------------------------------------------ */
/* the present thread                                                  */

void
vn_wsi_image_idle(struct vn_swapchain *sc, uint32_t index)
{
   mtx_lock(&sc->mutex);
   sc->images[index].busy = false;
   cnd_broadcast(&sc->cond);
   mtx_unlock(&sc->mutex);
}

static void
vn_wsi_set_status_locked(struct vn_swapchain *sc, VkResult result)
{
   /* errors are sticky; SUBOPTIMAL only replaces SUCCESS */
   if (sc->status < 0)
      return;
   if (result < 0 || result == VK_SUBOPTIMAL_KHR)
      sc->status = result;
}

/* Waits for the copy fence; false when the swapchain stops or the device
 * is lost. */
static bool
vn_wsi_wait_copy(struct vn_swapchain *sc, uint32_t index)
{
   VkDevice device = vn_device_to_handle(sc->dev);
   for (;;) {
      const VkResult r =
         vn_WaitForFences(device, 1, &sc->images[index].fence, VK_TRUE, VN_WSI_FENCE_SLICE_NS);
      if (r == VK_SUCCESS)
         return true;
      if (r != VK_TIMEOUT)
         return false;
      mtx_lock(&sc->mutex);
      const bool stop = sc->stop;
      mtx_unlock(&sc->mutex);
      if (stop)
         return false;
   }
}

static bool
vn_wsi_fence_done(struct vn_swapchain *sc, uint32_t index)
{
   return vn_GetFenceStatus(vn_device_to_handle(sc->dev), sc->images[index].fence) ==
          VK_SUCCESS;
}

static void
vn_wsi_complete_locked(struct vn_swapchain *sc, const struct vn_wsi_pending *p)
{
   if (p->present_id > sc->present_id_done)
      sc->present_id_done = p->present_id;
   cnd_broadcast(&sc->cond);
}

static int
vn_wsi_thread(void *arg)
{
   struct vn_swapchain *sc = arg;
   /* a window system that went away must show up as an error on its
    * socket, not as SIGPIPE killing the application from this thread */
   sigset_t pipe_set;
   sigemptyset(&pipe_set);
   sigaddset(&pipe_set, SIGPIPE);
   pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
   mtx_lock(&sc->mutex);
   for (;;) {
      while (!sc->pending_count && !sc->stop) {
         if (!sc->platform->poll_events) {
            cnd_wait(&sc->cond, &sc->mutex);
            continue;
         }
         /* the window system's events (buffer releases) make images idle */
         mtx_unlock(&sc->mutex);
         const VkResult r = sc->platform->poll_events(sc, false);
         mtx_lock(&sc->mutex);
         vn_wsi_set_status_locked(sc, r);
         if (r < 0)
            cnd_broadcast(&sc->cond);
      }
      if (!sc->pending_count)
         break;
      struct vn_wsi_pending p = sc->pending[sc->pending_head];
      mtx_unlock(&sc->mutex);

      bool ok = vn_wsi_wait_copy(sc, p.index);
      VkResult pace_result = VK_SUCCESS;
      if (ok && sc->platform->pace)
         pace_result = sc->platform->pace(sc, p.mode);

      mtx_lock(&sc->mutex);
      vn_wsi_set_status_locked(sc, pace_result);
      /* mailbox: a newer frame whose copy is done replaces this one */
      while (ok && p.mode == VK_PRESENT_MODE_MAILBOX_KHR && sc->pending_count > 1) {
         const uint32_t next_slot = (sc->pending_head + 1) % VN_WSI_MAX_IMAGES;
         const struct vn_wsi_pending next = sc->pending[next_slot];
         if (!vn_wsi_fence_done(sc, next.index))
            break;
         sc->images[p.index].busy = false;
         vn_wsi_complete_locked(sc, &p);
         sc->pending_head = next_slot;
         sc->pending_count--;
         p = next;
      }
      const bool skip = !ok || sc->status < 0;
      mtx_unlock(&sc->mutex);

      VkResult result = VK_SUCCESS;
      if (skip) {
         vn_wsi_image_idle(sc, p.index);
      } else {
         result = sc->platform->present(sc, p.index);
         if (result < 0)
            vn_wsi_image_idle(sc, p.index);
      }

      mtx_lock(&sc->mutex);
      if (!ok && vn_device_is_lost(sc->dev))
         vn_wsi_set_status_locked(sc, VK_ERROR_DEVICE_LOST);
      vn_wsi_set_status_locked(sc, result);
      sc->pending_head = (sc->pending_head + 1) % VN_WSI_MAX_IMAGES;
      sc->pending_count--;
      vn_wsi_complete_locked(sc, &p);
   }
   mtx_unlock(&sc->mutex);
   return 0;
}

/* ------------------------------------------------------------------ */
/* entry points                                                        */

static void
vn_wsi_wake(struct vn_swapchain *sc)
{
   const uint64_t one = 1;
   if (sc->wake_fd >= 0 && write(sc->wake_fd, &one, sizeof(one)) < 0) {
      /* the counter is non-zero already: the thread wakes anyway */
   }
}

static void
vn_swapchain_destroy(struct vn_swapchain *sc)
{
   VkDevice device = vn_device_to_handle(sc->dev);
   if (sc->has_thread) {
      mtx_lock(&sc->mutex);
      sc->stop = true;
      cnd_broadcast(&sc->cond);
      mtx_unlock(&sc->mutex);
      vn_wsi_wake(sc);
      thrd_join(sc->thread, NULL);
   }
   /* the images' last copies may still run on the host */
   for (uint32_t i = 0; i < sc->image_count; i++) {
      if (sc->images[i].fence)
         vn_WaitForFences(device, 1, &sc->images[i].fence, VK_TRUE, UINT64_MAX);
   }
   if (sc->platform_data)
      sc->platform->chain_fini(sc);
   for (uint32_t i = 0; i < sc->image_count; i++)
      vn_wsi_image_fini(sc, &sc->images[i]);
   for (uint32_t f = 0; sc->pools && f < sc->family_count; f++)
      vn_DestroyCommandPool(device, sc->pools[f], NULL);
   vn_free(&sc->alloc, sc->pools);
   if (sc->wake_fd >= 0)
      close(sc->wake_fd);
   cnd_destroy(&sc->cond);
   mtx_destroy(&sc->mutex);
   vn_free(&sc->alloc, sc);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateSwapchainKHR(VkDevice device,
                      const VkSwapchainCreateInfoKHR *pCreateInfo,
                      const VkAllocationCallbacks *pAllocator,
                      VkSwapchainKHR *pSwapchain)
{
   struct vn_device *dev = vn_device_from_handle(device);
   VkIcdSurfaceBase *surface = (VkIcdSurfaceBase *)(uintptr_t)pCreateInfo->surface;
   const struct vn_wsi_platform *platform = vn_wsi_platform_for(surface);
   if (!platform || !vn_wsi_physical_device_supported(dev->physical_device))
      return vn_error(VK_ERROR_INITIALIZATION_FAILED);
   if (vn_device_is_lost(dev))
      return vn_error(VK_ERROR_DEVICE_LOST);

   struct vn_swapchain *old = vn_swapchain_from_handle(pCreateInfo->oldSwapchain);
   if (old) {
      /* the old swapchain's images that are not acquired are released */
      mtx_lock(&old->mutex);
      old->retired = true;
      mtx_unlock(&old->mutex);
   }
   VkExtent2D extent;
   VkResult result = platform->surface_extent(surface, &extent);
   if (result != VK_SUCCESS)
      return vn_error(result);

   const VkAllocationCallbacks *alloc = pAllocator ? pAllocator : &dev->alloc;
   struct vn_swapchain *sc =
      vn_zalloc(alloc, sizeof(*sc), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!sc)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   vn_object_init(&sc->obj, VK_OBJECT_TYPE_SWAPCHAIN_KHR);
   sc->dev = dev;
   sc->alloc = *alloc;
   sc->surface = surface;
   sc->platform = platform;
   sc->extent = pCreateInfo->imageExtent;
   sc->format = pCreateInfo->imageFormat;
   sc->stride = pCreateInfo->imageExtent.width * 4;
   sc->mode = pCreateInfo->presentMode;
   mtx_init(&sc->mutex, mtx_plain);
   cnd_init(&sc->cond);
   sc->wake_fd = -1;
   if (platform->poll_events) {
      sc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (sc->wake_fd < 0) {
         vn_swapchain_destroy(sc);
         return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
      }
   }
   sc->family_count = dev->physical_device->queue_family_count;
   sc->pools = vn_zalloc(alloc, sizeof(VkCommandPool) * sc->family_count,
                         VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!sc->pools) {
      vn_swapchain_destroy(sc);
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   }

   uint32_t count = VN_MAX(pCreateInfo->minImageCount, vn_wsi_min_image_count(sc->mode));
   /* VK_EXT_swapchain_maintenance1: room for every mode it may switch to */
   const VkSwapchainPresentModesCreateInfoEXT *modes =
      vp_chain_find(pCreateInfo->pNext, VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_MODES_CREATE_INFO_EXT);
   for (uint32_t i = 0; modes && i < modes->presentModeCount; i++)
      count = VN_MAX(count, vn_wsi_min_image_count(modes->pPresentModes[i]));
   sc->image_count = VN_MIN(count, VN_WSI_MAX_IMAGES);
   for (uint32_t i = 0; i < sc->image_count; i++) {
      result = vn_wsi_image_init(sc, pCreateInfo, &sc->images[i]);
      if (result != VK_SUCCESS) {
         vn_swapchain_destroy(sc);
         return vn_error(result);
      }
   }
   result = platform->chain_init(sc);
   if (result != VK_SUCCESS) {
      vn_swapchain_destroy(sc);
      return vn_error(result);
   }
   if (thrd_create(&sc->thread, vn_wsi_thread, sc) != thrd_success) {
      vn_swapchain_destroy(sc);
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   }
   sc->has_thread = true;
   *pSwapchain = vn_swapchain_to_handle(sc);
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroySwapchainKHR(VkDevice device,
                       VkSwapchainKHR swapchain,
                       const VkAllocationCallbacks *pAllocator)
{
   (void)device;
   (void)pAllocator;
   struct vn_swapchain *sc = vn_swapchain_from_handle(swapchain);
   if (sc)
      vn_swapchain_destroy(sc);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetSwapchainImagesKHR(VkDevice device,
                         VkSwapchainKHR swapchain,
                         uint32_t *pCount,
                         VkImage *pImages)
{
   (void)device;
   struct vn_swapchain *sc = vn_swapchain_from_handle(swapchain);
   if (!pImages) {
      *pCount = sc->image_count;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pCount, sc->image_count);
   for (uint32_t i = 0; i < n; i++)
      pImages[i] = sc->images[i].image;
   *pCount = n;
   return n < sc->image_count ? VK_INCOMPLETE : VK_SUCCESS;
}

static uint64_t
vn_wsi_now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* cnd_timedwait takes a TIME_UTC deadline */
static int
vn_wsi_wait_until(struct vn_swapchain *sc, uint64_t deadline_mono)
{
   if (deadline_mono == UINT64_MAX)
      return cnd_wait(&sc->cond, &sc->mutex);
   const uint64_t now = vn_wsi_now_ns();
   if (now >= deadline_mono)
      return thrd_timedout;
   uint64_t left = deadline_mono - now;
   /* wake at least every 100 ms to look at the status again */
   if (left > 100000000ull)
      left = 100000000ull;
   struct timespec ts;
   timespec_get(&ts, TIME_UTC);
   uint64_t ns = (uint64_t)ts.tv_nsec + left;
   ts.tv_sec += (time_t)(ns / 1000000000ull);
   ts.tv_nsec = (long)(ns % 1000000000ull);
   return cnd_timedwait(&sc->cond, &sc->mutex, &ts);
}

static uint64_t
vn_wsi_deadline(uint64_t timeout)
{
   if (timeout == UINT64_MAX)
      return UINT64_MAX;
   const uint64_t now = vn_wsi_now_ns();
   return timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
}

/* Signals the acquire's semaphore and fence: the image is idle already. */
static VkResult
vn_wsi_signal_acquire(struct vn_swapchain *sc, VkSemaphore semaphore, VkFence fence)
{
   struct vn_device *dev = sc->dev;
   VkDevice device = vn_device_to_handle(dev);
   const struct vn_physical_device *pdev = dev->physical_device;
   bool need_submit = false;
   if (semaphore) {
      const VkImportSemaphoreFdInfoKHR info = {
         .sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
         .semaphore = semaphore,
         .flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
         .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
         .fd = -1,
      };
      if (!pdev->semaphore_sync_fd || vn_ImportSemaphoreFdKHR(device, &info) != VK_SUCCESS)
         need_submit = true;
   }
   if (fence) {
      const VkImportFenceFdInfoKHR info = {
         .sType = VK_STRUCTURE_TYPE_IMPORT_FENCE_FD_INFO_KHR,
         .fence = fence,
         .flags = VK_FENCE_IMPORT_TEMPORARY_BIT,
         .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
         .fd = -1,
      };
      if (vn_ImportFenceFdKHR(device, &info) != VK_SUCCESS)
         need_submit = true;
   }
   if (!need_submit)
      return VK_SUCCESS;
   /* no guest-side signal: an empty submission on the first queue */
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .signalSemaphoreCount = semaphore ? 1 : 0,
      .pSignalSemaphores = &semaphore,
   };
   return vn_QueueSubmit(vn_queue_to_handle(&dev->queues[0]), 1, &submit, fence);
}

static VkResult
vn_wsi_acquire(struct vn_swapchain *sc,
               uint64_t timeout,
               VkSemaphore semaphore,
               VkFence fence,
               uint32_t *out_index)
{
   if (vn_device_is_lost(sc->dev))
      return vn_error(VK_ERROR_DEVICE_LOST);
   const uint64_t deadline = vn_wsi_deadline(timeout);
   mtx_lock(&sc->mutex);
   uint32_t index = UINT32_MAX;
   VkResult result = VK_SUCCESS;
   for (;;) {
      if (sc->retired || sc->status < 0) {
         result = sc->retired ? VK_ERROR_OUT_OF_DATE_KHR : sc->status;
         break;
      }
      for (uint32_t i = 0; i < sc->image_count; i++) {
         if (!sc->images[i].acquired && !sc->images[i].busy) {
            index = i;
            break;
         }
      }
      if (index != UINT32_MAX)
         break;
      if (!timeout) {
         result = VK_NOT_READY;
         break;
      }
      if (vn_wsi_wait_until(sc, deadline) == thrd_timedout && vn_wsi_now_ns() >= deadline) {
         result = VK_TIMEOUT;
         break;
      }
   }
   if (index != UINT32_MAX) {
      sc->images[index].acquired = true;
      result = sc->status;
   }
   mtx_unlock(&sc->mutex);
   if (index == UINT32_MAX)
      return vn_result(result);

   const VkResult signal = vn_wsi_signal_acquire(sc, semaphore, fence);
   if (signal != VK_SUCCESS) {
      mtx_lock(&sc->mutex);
      sc->images[index].acquired = false;
      mtx_unlock(&sc->mutex);
      return vn_error(signal);
   }
   *out_index = index;
   return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_AcquireNextImageKHR(VkDevice device,
                       VkSwapchainKHR swapchain,
                       uint64_t timeout,
                       VkSemaphore semaphore,
                       VkFence fence,
                       uint32_t *pImageIndex)
{
   (void)device;
   return vn_wsi_acquire(vn_swapchain_from_handle(swapchain), timeout, semaphore, fence,
                         pImageIndex);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_AcquireNextImage2KHR(VkDevice device,
                        const VkAcquireNextImageInfoKHR *pAcquireInfo,
                        uint32_t *pImageIndex)
{
   (void)device;
   return vn_wsi_acquire(vn_swapchain_from_handle(pAcquireInfo->swapchain),
                         pAcquireInfo->timeout, pAcquireInfo->semaphore, pAcquireInfo->fence,
                         pImageIndex);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_ReleaseSwapchainImagesEXT(VkDevice device, const VkReleaseSwapchainImagesInfoEXT *pInfo)
{
   (void)device;
   struct vn_swapchain *sc = vn_swapchain_from_handle(pInfo->swapchain);
   mtx_lock(&sc->mutex);
   for (uint32_t i = 0; i < pInfo->imageIndexCount; i++) {
      if (pInfo->pImageIndices[i] < sc->image_count)
         sc->images[pInfo->pImageIndices[i]].acquired = false;
   }
   cnd_broadcast(&sc->cond);
   mtx_unlock(&sc->mutex);
   return VK_SUCCESS;
}

/* Queues one image of one swapchain; the copy waits for `waits`. */
static VkResult
vn_wsi_queue_present(struct vn_queue *queue,
                     struct vn_swapchain *sc,
                     uint32_t index,
                     uint64_t present_id,
                     VkPresentModeKHR mode,
                     uint32_t wait_count,
                     const VkSemaphore *waits,
                     VkFence present_fence)
{
   struct vn_wsi_image *img = &sc->images[index];
   VkDevice device = vn_device_to_handle(sc->dev);
   VkQueue queue_handle = vn_queue_to_handle(queue);
   mtx_lock(&sc->mutex);
   const bool valid = index < sc->image_count && img->acquired;
   mtx_unlock(&sc->mutex);
   if (!valid)
      return vn_error(VK_ERROR_OUT_OF_DATE_KHR);

   VkPipelineStageFlags stages[16];
   VkPipelineStageFlags *stage_array = wait_count <= 16 ? stages : NULL;
   if (!stage_array) {
      stage_array = malloc(sizeof(*stage_array) * wait_count);
      if (!stage_array)
         return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   }
   for (uint32_t i = 0; i < wait_count; i++)
      stage_array[i] = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
   VkCommandBuffer cmd = VK_NULL_HANDLE;
   if (sc->platform->needs_copy) {
      cmd = vn_wsi_copy_cmd(sc, index, queue->family);
      if (!cmd) {
         if (stage_array != stages)
            free(stage_array);
         return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
      }
   }
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .waitSemaphoreCount = wait_count,
      .pWaitSemaphores = waits,
      .pWaitDstStageMask = stage_array,
      .commandBufferCount = cmd ? 1 : 0,
      .pCommandBuffers = &cmd,
   };
   vn_ResetFences(device, 1, &img->fence);
   VkResult result = vn_QueueSubmit(queue_handle, 1, &submit, img->fence);
   if (stage_array != stages)
      free(stage_array);
   if (result == VK_SUCCESS && present_fence) {
      /* VK_EXT_swapchain_maintenance1: signalled once the semaphores were
       * waited for and the copy is done (queue order) */
      result = vn_QueueSubmit(queue_handle, 0, NULL, present_fence);
   }
   if (result != VK_SUCCESS)
      return vn_error(result);

   mtx_lock(&sc->mutex);
   img->acquired = false;
   img->busy = true;
   img->present_id = present_id;
   sc->mode = mode;
   if (present_id > sc->present_id_queued)
      sc->present_id_queued = present_id;
   const uint32_t slot = (sc->pending_head + sc->pending_count) % VN_WSI_MAX_IMAGES;
   sc->pending[slot] = (struct vn_wsi_pending){ index, present_id, mode };
   sc->pending_count++;
   cnd_broadcast(&sc->cond);
   result = sc->retired ? VK_ERROR_OUT_OF_DATE_KHR : sc->status;
   mtx_unlock(&sc->mutex);
   vn_wsi_wake(sc);
   return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_QueuePresentKHR(VkQueue _queue, const VkPresentInfoKHR *pPresentInfo)
{
   struct vn_queue *queue = vn_queue_from_handle(_queue);
   const VkPresentIdKHR *ids = vp_chain_find(pPresentInfo->pNext, VK_STRUCTURE_TYPE_PRESENT_ID_KHR);
   const VkSwapchainPresentFenceInfoEXT *fences =
      vp_chain_find(pPresentInfo->pNext, VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_FENCE_INFO_EXT);
   const VkSwapchainPresentModeInfoEXT *modes =
      vp_chain_find(pPresentInfo->pNext, VK_STRUCTURE_TYPE_SWAPCHAIN_PRESENT_MODE_INFO_EXT);
   /* VkPresentRegionsKHR (incremental present) is a hint: the whole image
    * is copied, one GPU copy either way */
   VkResult final = VK_SUCCESS;
   for (uint32_t i = 0; i < pPresentInfo->swapchainCount; i++) {
      struct vn_swapchain *sc = vn_swapchain_from_handle(pPresentInfo->pSwapchains[i]);
      const uint64_t id = ids && ids->pPresentIds && i < ids->swapchainCount ? ids->pPresentIds[i] : 0;
      mtx_lock(&sc->mutex);
      VkPresentModeKHR mode = sc->mode;
      mtx_unlock(&sc->mutex);
      if (modes && i < modes->swapchainCount)
         mode = modes->pPresentModes[i];
      /* the first swapchain's submission waits for the semaphores; the
       * others follow it in queue order */
      const VkResult r = vn_wsi_queue_present(
         queue, sc, pPresentInfo->pImageIndices[i], id, mode,
         i == 0 ? pPresentInfo->waitSemaphoreCount : 0, pPresentInfo->pWaitSemaphores,
         fences && i < fences->swapchainCount ? fences->pFences[i] : VK_NULL_HANDLE);
      if (pPresentInfo->pResults)
         pPresentInfo->pResults[i] = r;
      /* the worst result wins: errors over SUBOPTIMAL over SUCCESS */
      if (r < 0 && final >= 0)
         final = r;
      else if (r == VK_SUBOPTIMAL_KHR && final == VK_SUCCESS)
         final = r;
   }
   return final;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_WaitForPresentKHR(VkDevice device, VkSwapchainKHR swapchain, uint64_t presentId, uint64_t timeout)
{
   (void)device;
   struct vn_swapchain *sc = vn_swapchain_from_handle(swapchain);
   const uint64_t deadline = vn_wsi_deadline(timeout);
   VkResult result = VK_SUCCESS;
   mtx_lock(&sc->mutex);
   while (sc->present_id_done < presentId) {
      if (sc->status < 0) {
         result = sc->status;
         break;
      }
      if (vn_device_is_lost(sc->dev)) {
         result = VK_ERROR_DEVICE_LOST;
         break;
      }
      if (!timeout || (vn_wsi_wait_until(sc, deadline) == thrd_timedout &&
                       vn_wsi_now_ns() >= deadline)) {
         result = VK_TIMEOUT;
         break;
      }
   }
   if (result == VK_SUCCESS)
      result = sc->status == VK_SUBOPTIMAL_KHR ? VK_SUBOPTIMAL_KHR : VK_SUCCESS;
   mtx_unlock(&sc->mutex);
   return vn_result(result);
}
