/*
 * Device creation and destruction, queues, vkGetDeviceProcAddr, and the
 * idle emulation (vkQueueWaitIdle / vkDeviceWaitIdle are never sent).
 */
#include "vn_device.h"

#include "vn_queue.h"
#include "vn_wsi.h"


static bool
vn_device_lookup_ext(const struct vn_physical_device *pdev, const char *name, uint32_t *out)
{
   for (uint32_t i = 0; i < pdev->extension_count; i++) {
      if (!strcmp(pdev->extensions[i].extensionName, name)) {
         const struct vp_extension_info *info = vp_extension_lookup(name);
         *out = info ? info->number : vn_wsi_device_ext_number(name);
         return true;
      }
   }
   return false;
}

/* ring_idx values (1..63) of the instance, shared by all its devices */
static uint64_t vn_ring_idx_used; /* protected by vn_ring_idx_mutex */
static mtx_t vn_ring_idx_mutex;
static once_flag vn_ring_idx_once = ONCE_FLAG_INIT;

static void
vn_ring_idx_init(void)
{
   mtx_init(&vn_ring_idx_mutex, mtx_plain);
}

static uint32_t
vn_ring_idx_alloc(uint32_t max)
{
   call_once(&vn_ring_idx_once, vn_ring_idx_init);
   mtx_lock(&vn_ring_idx_mutex);
   uint32_t idx = 0;
   for (uint32_t i = 1; i < max && i < 64; i++) {
      if (!(vn_ring_idx_used & (1ull << i))) {
         vn_ring_idx_used |= 1ull << i;
         idx = i;
         break;
      }
   }
   mtx_unlock(&vn_ring_idx_mutex);
   return idx;
}

static void
vn_ring_idx_free(uint32_t idx)
{
   if (!idx)
      return;
   mtx_lock(&vn_ring_idx_mutex);
   vn_ring_idx_used &= ~(1ull << idx);
   mtx_unlock(&vn_ring_idx_mutex);
}

static VkResult
vn_device_init_queues(struct vn_device *dev, const VkDeviceCreateInfo *info)
{
   uint32_t count = 0;
   for (uint32_t i = 0; i < info->queueCreateInfoCount; i++)
      count += info->pQueueCreateInfos[i].queueCount;
   dev->queues = vn_zalloc(&dev->alloc, sizeof(*dev->queues) * (count ? count : 1),
                           VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
   if (!dev->queues)
      return VK_ERROR_OUT_OF_HOST_MEMORY;

   const uint32_t max = dev->instance->transport->max_timelines;
   VkDevice handle = vn_device_to_handle(dev);
   for (uint32_t i = 0; i < info->queueCreateInfoCount; i++) {
      const VkDeviceQueueCreateInfo *qi = &info->pQueueCreateInfos[i];
      for (uint32_t j = 0; j < qi->queueCount; j++) {
         struct vn_queue *queue = &dev->queues[dev->queue_count];
         vn_object_init(&queue->obj, VK_OBJECT_TYPE_QUEUE);
         queue->device = dev;
         queue->family = qi->queueFamilyIndex;
         queue->index = j;
         queue->flags = qi->flags;
         queue->ring_idx = vn_ring_idx_alloc(max);
         if (!queue->ring_idx) {
            vn_log_err("out of fence timelines for queues");
            return VK_ERROR_INITIALIZATION_FAILED;
         }
         dev->queue_count++;

         const VkDeviceQueueTimelineInfoMESA timeline = {
            .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA,
            .ringIdx = queue->ring_idx,
         };
         const VkDeviceQueueInfo2 qinfo = {
            .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
            .pNext = &timeline,
            .flags = queue->flags,
            .queueFamilyIndex = queue->family,
            .queueIndex = queue->index,
         };
         VkQueue qh = vn_queue_to_handle(queue);
         vn_async_vkGetDeviceQueue2(dev->ring, handle, &qinfo, &qh);
      }
   }
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateDevice(VkPhysicalDevice physicalDevice,
                const VkDeviceCreateInfo *pCreateInfo,
                const VkAllocationCallbacks *pAllocator,
                VkDevice *pDevice)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   struct vn_instance *instance = pdev->instance;
   const VkAllocationCallbacks *alloc = pAllocator ? pAllocator : &instance->alloc;
   VkResult result;

   if (vn_transport_is_lost(instance->transport))
      return vn_error(VK_ERROR_DEVICE_LOST);

   struct vn_device *dev = vn_zalloc(alloc, sizeof(*dev), VK_SYSTEM_ALLOCATION_SCOPE_DEVICE);
   if (!dev)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   vn_object_init(&dev->obj, VK_OBJECT_TYPE_DEVICE);
   dev->instance = instance;
   dev->physical_device = pdev;
   dev->alloc = *alloc;
   dev->api_version = VN_MIN(VN_MAX(instance->api_version, VK_API_VERSION_1_0), pdev->api_version);
   mtx_init(&dev->cache_mutex, mtx_plain);
   dev->has_buffer_reqs_cache = !VU_PERF(NO_CACHE);
   vn_object_pool_init(&dev->object_pool, &dev->alloc);
   mtx_init(&dev->record_mutex, mtx_plain);

   /* extensions: those the host implements are forwarded, the driver's
    * own are not */
   const char **names = calloc(pCreateInfo->enabledExtensionCount + 1, sizeof(char *));
   if (!names) {
      result = VK_ERROR_OUT_OF_HOST_MEMORY;
      goto fail_alloc;
   }
   uint32_t name_count = 0;
   for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++) {
      const char *name = pCreateInfo->ppEnabledExtensionNames[i];
      uint32_t number;
      if (!vn_device_lookup_ext(pdev, name, &number)) {
         vn_log_warn("device extension %s is not supported", name);
         free(names);
         result = VK_ERROR_EXTENSION_NOT_PRESENT;
         goto fail_alloc;
      }
      if (!number) {
         const struct vp_extension_info *info = vp_extension_lookup(name);
         number = info ? info->number : 0;
      }
      vn_ext_set_add(&dev->enabled_exts, number);
      if (vn_ext_set_has(&pdev->host_exts, number))
         names[name_count++] = name;
   }
   for (unsigned w = 0; w < 32; w++)
      dev->protocol_exts.bits[w] = dev->enabled_exts.bits[w] & instance->protocol_exts.bits[w];
   /* the protocol's own structs (VkDeviceQueueTimelineInfoMESA, ...) */
   vn_ext_set_add(&dev->protocol_exts, 384); /* VK_EXT_command_serialization */
   vn_ext_set_add(&dev->protocol_exts, 385); /* VK_MESA_venus_protocol */

   /* the renderer keeps no private data: drop its create info, and ask the
    * host for the private-data feature only if it has it */
   static const VkStructureType drop[] = {
      VK_STRUCTURE_TYPE_DEVICE_PRIVATE_DATA_CREATE_INFO,
   };
   const void *chain = NULL;
   void *chain_block = vn_chain_clone(pCreateInfo->pNext, drop, VN_ARRAY_SIZE(drop), &chain);
   if (!chain_block) {
      free(names);
      result = VK_ERROR_OUT_OF_HOST_MEMORY;
      goto fail_alloc;
   }
   VkPhysicalDeviceVulkan13Features *v13 =
      vp_chain_find_mut(chain, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES);
   VkPhysicalDevicePrivateDataFeatures *pd =
      vp_chain_find_mut(chain, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRIVATE_DATA_FEATURES);
   if (v13)
      v13->privateData = VK_FALSE;
   if (pd)
      pd->privateData = VK_FALSE;

   VkDeviceCreateInfo info = *pCreateInfo;
   info.pNext = chain;
   info.enabledExtensionCount = name_count;
   info.ppEnabledExtensionNames = name_count ? names : NULL;
   info.enabledLayerCount = 0;
   info.ppEnabledLayerNames = NULL;

   VkDevice handle = vn_device_to_handle(dev);
   result = vn_call_vkCreateDevice(instance->ring, physicalDevice, &info, NULL, &handle);
   free(names);
   free(chain_block);
   if (result != VK_SUCCESS)
      goto fail_alloc;

   result = vn_ring_create(instance->transport, VN_RING_BUFFER_SIZE, "device", &dev->ring);
   if (result != VK_SUCCESS) {
      vn_async_vkDestroyDevice(instance->ring, handle, NULL);
      goto fail_alloc;
   }
   dev->ring->ext_mask = dev->protocol_exts.bits;

   result = vn_device_init_queues(dev, pCreateInfo);
   if (result != VK_SUCCESS)
      goto fail_queues;

   vn_feedback_init(dev);

   if (VU_DEBUG(INIT))
      vn_log_debug("device created: %u queues, feedback %s", dev->queue_count,
                  dev->feedback.enabled ? "on" : "off");
   *pDevice = handle;
   return VK_SUCCESS;

fail_queues:
   for (uint32_t i = 0; i < dev->queue_count; i++)
      vn_ring_idx_free(dev->queues[i].ring_idx);
   vn_free(&dev->alloc, dev->queues);
   vn_async_vkDestroyDevice(dev->ring, handle, NULL);
   vn_ring_destroy(dev->ring);
fail_alloc:
   mtx_destroy(&dev->cache_mutex);
   mtx_destroy(&dev->record_mutex);
   vn_object_pool_fini(&dev->object_pool);
   vn_free(alloc, dev);
   if (result == VK_ERROR_DEVICE_LOST)
      result = VK_ERROR_INITIALIZATION_FAILED;
   return vn_error(result);
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyDevice(VkDevice device, const VkAllocationCallbacks *pAllocator)
{
   struct vn_device *dev = vn_device_from_handle(device);
   if (!dev)
      return;
   vn_feedback_fini(dev);
   vn_device_flush_deferred_destroys(dev, true);
   vn_async_vkDestroyDevice(dev->ring, device, NULL);
   /* vn_ring_destroy drains the ring: the device is gone on the host before
    * its queues' timelines are handed out again */
   if (VU_DEBUG(ROUNDTRIP)) {
      uint64_t elided = 0, unwritten = 0;
      for (uint32_t i = 0; i < dev->queue_count; i++) {
         elided += dev->queues[i].elided_count;
         unwritten += dev->queues[i].unwritten_count;
      }
      vn_log_debug("device: %llu synchronous round trips, %llu submissions without their host "
                   "fence, %llu fence or timeline signals without their feedback write",
                   (unsigned long long)dev->ring->roundtrips, (unsigned long long)elided,
                   (unsigned long long)unwritten);
   }
   vn_ring_destroy(dev->ring);
   for (uint32_t i = 0; i < dev->queue_count; i++)
      vn_ring_idx_free(dev->queues[i].ring_idx);
   vn_free(&dev->alloc, dev->queues);
   mtx_destroy(&dev->cache_mutex);
   mtx_destroy(&dev->record_mutex);
   vn_object_pool_fini(&dev->object_pool);
   vn_free(pAllocator ? pAllocator : &dev->alloc, dev);
}

static bool
vn_device_entrypoint_enabled(const struct vn_device *dev, const struct vn_entrypoint *ep)
{
   if (ep->version && ep->version <= dev->api_version)
      return true;
   for (unsigned i = 0; i < VN_ARRAY_SIZE(ep->exts) && ep->exts[i]; i++) {
      if (vn_ext_set_has(&dev->enabled_exts, ep->exts[i]) ||
          vn_ext_set_has(&dev->instance->enabled_exts, ep->exts[i]))
         return true;
   }
   return false;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vn_GetDeviceProcAddr(VkDevice device, const char *pName)
{
   struct vn_device *dev = vn_device_from_handle(device);
   const struct vn_entrypoint *ep = vn_entrypoint_lookup(pName);
   if (!ep)
      ep = vn_wsi_entrypoint_lookup(pName);
   if (!ep || ep->kind != VN_EP_DEVICE)
      return NULL;
   if (!dev || !vn_device_entrypoint_enabled(dev, ep))
      return NULL;
   return ep->func;
}

static struct vn_queue *
vn_device_find_queue(struct vn_device *dev, uint32_t family, uint32_t index, uint32_t flags)
{
   for (uint32_t i = 0; i < dev->queue_count; i++) {
      struct vn_queue *q = &dev->queues[i];
      if (q->family == family && q->index == index && q->flags == flags)
         return q;
   }
   return NULL;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetDeviceQueue(VkDevice device, uint32_t queueFamilyIndex, uint32_t queueIndex, VkQueue *pQueue)
{
   struct vn_queue *q =
      vn_device_find_queue(vn_device_from_handle(device), queueFamilyIndex, queueIndex, 0);
   *pQueue = q ? vn_queue_to_handle(q) : VK_NULL_HANDLE;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetDeviceQueue2(VkDevice device, const VkDeviceQueueInfo2 *pQueueInfo, VkQueue *pQueue)
{
   struct vn_queue *q =
      vn_device_find_queue(vn_device_from_handle(device), pQueueInfo->queueFamilyIndex,
                           pQueueInfo->queueIndex, pQueueInfo->flags);
   *pQueue = q ? vn_queue_to_handle(q) : VK_NULL_HANDLE;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_QueueWaitIdle(VkQueue _queue)
{
   return vn_result(vn_queue_wait_idle(vn_queue_from_handle(_queue)));
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_DeviceWaitIdle(VkDevice device)
{
   struct vn_device *dev = vn_device_from_handle(device);
   for (uint32_t i = 0; i < dev->queue_count; i++) {
      VkResult result = vn_queue_wait_idle(&dev->queues[i]);
      if (result != VK_SUCCESS)
         return vn_error(result);
   }
   return VK_SUCCESS;
}
