/*
 * Debug utils messengers (called for vkSubmitDebugUtilsMessageEXT), object
 * names and labels (accepted, not sent), private data slots and tool
 * properties, all in the guest (vn_debug.h).
 */
#include "vn_debug.h"

#include "util/vu_idmap.h"

#include "vn_command_buffer.h"
#include "vn_device.h"

struct vn_debug_messenger {
   struct vn_object obj;
   VkAllocationCallbacks alloc;
   VkDebugUtilsMessengerCreateInfoEXT info;
   struct vn_debug_messenger *next;
};

void
vn_debug_instance_init(struct vn_instance *instance, const VkInstanceCreateInfo *info)
{
   (void)info;
   instance->messengers = NULL;
}

void
vn_debug_instance_fini(struct vn_instance *instance)
{
   (void)instance;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateDebugUtilsMessengerEXT(VkInstance _instance,
                                const VkDebugUtilsMessengerCreateInfoEXT *pCreateInfo,
                                const VkAllocationCallbacks *pAllocator,
                                VkDebugUtilsMessengerEXT *pMessenger)
{
   struct vn_instance *instance = vn_instance_from_handle(_instance);
   const VkAllocationCallbacks *alloc = pAllocator ? pAllocator : &instance->alloc;
   struct vn_debug_messenger *m = vn_zalloc(alloc, sizeof(*m), VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
   if (!m)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   vn_object_init(&m->obj, VK_OBJECT_TYPE_DEBUG_UTILS_MESSENGER_EXT);
   m->alloc = *alloc;
   m->info = *pCreateInfo;
   m->info.pNext = NULL;
   mtx_lock(&instance->messenger_mutex);
   m->next = instance->messengers;
   instance->messengers = m;
   mtx_unlock(&instance->messenger_mutex);
   *pMessenger = (VkDebugUtilsMessengerEXT)(uintptr_t)m;
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyDebugUtilsMessengerEXT(VkInstance _instance,
                                 VkDebugUtilsMessengerEXT messenger,
                                 const VkAllocationCallbacks *pAllocator)
{
   struct vn_instance *instance = vn_instance_from_handle(_instance);
   struct vn_debug_messenger *m = (struct vn_debug_messenger *)(uintptr_t)messenger;
   if (!m)
      return;
   mtx_lock(&instance->messenger_mutex);
   for (struct vn_debug_messenger **p = &instance->messengers; *p; p = &(*p)->next) {
      if (*p == m) {
         *p = m->next;
         break;
      }
   }
   mtx_unlock(&instance->messenger_mutex);
   vn_free(pAllocator ? pAllocator : &m->alloc, m);
}

VKAPI_ATTR void VKAPI_CALL
vn_SubmitDebugUtilsMessageEXT(VkInstance _instance,
                              VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                              VkDebugUtilsMessageTypeFlagsEXT types,
                              const VkDebugUtilsMessengerCallbackDataEXT *pCallbackData)
{
   struct vn_instance *instance = vn_instance_from_handle(_instance);
   mtx_lock(&instance->messenger_mutex);
   for (struct vn_debug_messenger *m = instance->messengers; m; m = m->next) {
      if ((m->info.messageSeverity & severity) && (m->info.messageType & types))
         m->info.pfnUserCallback(severity, types, pCallbackData, m->info.pUserData);
   }
   mtx_unlock(&instance->messenger_mutex);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_SetDebugUtilsObjectNameEXT(VkDevice device, const VkDebugUtilsObjectNameInfoEXT *pNameInfo)
{
   (void)device;
   (void)pNameInfo;
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_SetDebugUtilsObjectTagEXT(VkDevice device, const VkDebugUtilsObjectTagInfoEXT *pTagInfo)
{
   (void)device;
   (void)pTagInfo;
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_QueueBeginDebugUtilsLabelEXT(VkQueue queue, const VkDebugUtilsLabelEXT *pLabelInfo)
{
   (void)queue;
   (void)pLabelInfo;
}

VKAPI_ATTR void VKAPI_CALL
vn_QueueEndDebugUtilsLabelEXT(VkQueue queue)
{
   (void)queue;
}

VKAPI_ATTR void VKAPI_CALL
vn_QueueInsertDebugUtilsLabelEXT(VkQueue queue, const VkDebugUtilsLabelEXT *pLabelInfo)
{
   (void)queue;
   (void)pLabelInfo;
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdBeginDebugUtilsLabelEXT(VkCommandBuffer commandBuffer, const VkDebugUtilsLabelEXT *pLabelInfo)
{
   (void)commandBuffer;
   (void)pLabelInfo;
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdEndDebugUtilsLabelEXT(VkCommandBuffer commandBuffer)
{
   (void)commandBuffer;
}

VKAPI_ATTR void VKAPI_CALL
vn_CmdInsertDebugUtilsLabelEXT(VkCommandBuffer commandBuffer, const VkDebugUtilsLabelEXT *pLabelInfo)
{
   (void)commandBuffer;
   (void)pLabelInfo;
}

/* ------------------------------------------------------------------ */
/* private data                                                        */

struct vn_private_data_slot {
   struct vn_object obj;
   mtx_t mutex;
   struct vu_idmap values; /* object handle -> value; protected by mutex */
};

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreatePrivateDataSlot(VkDevice device,
                         const VkPrivateDataSlotCreateInfo *pCreateInfo,
                         const VkAllocationCallbacks *pAllocator,
                         VkPrivateDataSlot *pPrivateDataSlot)
{
   (void)pCreateInfo;
   struct vn_device *dev = vn_device_from_handle(device);
   struct vn_private_data_slot *slot =
      vn_object_alloc(dev, sizeof(*slot), VK_OBJECT_TYPE_PRIVATE_DATA_SLOT, pAllocator);
   if (!slot)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   mtx_init(&slot->mutex, mtx_plain);
   vu_idmap_init(&slot->values);
   *pPrivateDataSlot = (VkPrivateDataSlot)(uintptr_t)slot;
   return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_DestroyPrivateDataSlot(VkDevice device,
                          VkPrivateDataSlot privateDataSlot,
                          const VkAllocationCallbacks *pAllocator)
{
   struct vn_private_data_slot *slot = (struct vn_private_data_slot *)(uintptr_t)privateDataSlot;
   if (!slot)
      return;
   vu_idmap_fini(&slot->values);
   mtx_destroy(&slot->mutex);
   vn_object_free(vn_device_from_handle(device), slot, pAllocator);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_SetPrivateData(VkDevice device,
                  VkObjectType objectType,
                  uint64_t objectHandle,
                  VkPrivateDataSlot privateDataSlot,
                  uint64_t data)
{
   (void)device;
   (void)objectType;
   struct vn_private_data_slot *slot = (struct vn_private_data_slot *)(uintptr_t)privateDataSlot;
   VkResult result = VK_SUCCESS;
   mtx_lock(&slot->mutex);
   vu_idmap_remove(&slot->values, objectHandle);
   if (data && !vu_idmap_insert(&slot->values, objectHandle, (void *)(uintptr_t)data))
      result = VK_ERROR_OUT_OF_HOST_MEMORY;
   mtx_unlock(&slot->mutex);
   return vn_result(result);
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPrivateData(VkDevice device,
                  VkObjectType objectType,
                  uint64_t objectHandle,
                  VkPrivateDataSlot privateDataSlot,
                  uint64_t *pData)
{
   (void)device;
   (void)objectType;
   struct vn_private_data_slot *slot = (struct vn_private_data_slot *)(uintptr_t)privateDataSlot;
   mtx_lock(&slot->mutex);
   *pData = (uint64_t)(uintptr_t)vu_idmap_get(&slot->values, objectHandle);
   mtx_unlock(&slot->mutex);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceToolProperties(VkPhysicalDevice physicalDevice,
                                   uint32_t *pToolCount,
                                   VkPhysicalDeviceToolProperties *pToolProperties)
{
   (void)physicalDevice;
   (void)pToolProperties;
   *pToolCount = 0; /* the driver itself is no tool */
   return VK_SUCCESS;
}
