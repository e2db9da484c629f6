/*
 * Instance creation (transport, instance ring, renderer instance), the
 * instance-level queries answered in the guest, vkGetInstanceProcAddr and
 * the ICD interface exported to the Vulkan loader.
 */
#include "vn_instance.h"

#include "vn_debug.h"
#include "vn_device.h"
#include "vn_wsi.h"

/* instance extensions: implemented in the guest (the renderer's instance is
 * created without extensions, as Mesa does) */
static const struct {
   const char *name;
   uint32_t spec;
   uint32_t number;
} vn_instance_extensions[] = {
   { VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME,
     VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_SPEC_VERSION, 60 },
   { VK_KHR_DEVICE_GROUP_CREATION_EXTENSION_NAME, VK_KHR_DEVICE_GROUP_CREATION_SPEC_VERSION,
     71 },
   { VK_KHR_EXTERNAL_MEMORY_CAPABILITIES_EXTENSION_NAME,
     VK_KHR_EXTERNAL_MEMORY_CAPABILITIES_SPEC_VERSION, 72 },
   { VK_KHR_EXTERNAL_SEMAPHORE_CAPABILITIES_EXTENSION_NAME,
     VK_KHR_EXTERNAL_SEMAPHORE_CAPABILITIES_SPEC_VERSION, 77 },
   { VK_KHR_EXTERNAL_FENCE_CAPABILITIES_EXTENSION_NAME,
     VK_KHR_EXTERNAL_FENCE_CAPABILITIES_SPEC_VERSION, 113 },
   { VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_DEBUG_UTILS_SPEC_VERSION, 129 },
   /* window systems (vn_wsi*.c) */
   { VK_KHR_SURFACE_EXTENSION_NAME, VK_KHR_SURFACE_SPEC_VERSION, VN_WSI_EXT_KHR_SURFACE },
#ifdef VN_WSI_X11
   { "VK_KHR_xcb_surface", 6 /* vulkan_xcb.h */, VN_WSI_EXT_KHR_XCB_SURFACE },
   { "VK_KHR_xlib_surface", 6, VN_WSI_EXT_KHR_XLIB_SURFACE },
#endif
#ifdef VN_WSI_WAYLAND
   { "VK_KHR_wayland_surface", 6, VN_WSI_EXT_KHR_WAYLAND_SURFACE },
#endif
   { VK_EXT_HEADLESS_SURFACE_EXTENSION_NAME, VK_EXT_HEADLESS_SURFACE_SPEC_VERSION, VN_WSI_EXT_EXT_HEADLESS_SURFACE },
   { VK_KHR_GET_SURFACE_CAPABILITIES_2_EXTENSION_NAME, VK_KHR_GET_SURFACE_CAPABILITIES_2_SPEC_VERSION, VN_WSI_EXT_KHR_GET_SURFACE_CAPABILITIES_2 },
   { VK_EXT_SURFACE_MAINTENANCE_1_EXTENSION_NAME, VK_EXT_SURFACE_MAINTENANCE_1_SPEC_VERSION, VN_WSI_EXT_EXT_SURFACE_MAINTENANCE_1 },
};

static uint32_t
vn_instance_version(void)
{
   return VN_MAX_API_VERSION | VK_HEADER_VERSION;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EnumerateInstanceVersion(uint32_t *pApiVersion)
{
   *pApiVersion = vn_instance_version();
   return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EnumerateInstanceExtensionProperties(const char *pLayerName,
                                        uint32_t *pPropertyCount,
                                        VkExtensionProperties *pProperties)
{
   if (pLayerName)
      return vn_error(VK_ERROR_LAYER_NOT_PRESENT);
   const uint32_t total = VN_ARRAY_SIZE(vn_instance_extensions);
   if (!pProperties) {
      *pPropertyCount = total;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pPropertyCount, total);
   for (uint32_t i = 0; i < n; i++) {
      memset(&pProperties[i], 0, sizeof(pProperties[i]));
      strcpy(pProperties[i].extensionName, vn_instance_extensions[i].name);
      pProperties[i].specVersion = vn_instance_extensions[i].spec;
   }
   *pPropertyCount = n;
   return n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EnumerateInstanceLayerProperties(uint32_t *pPropertyCount, VkLayerProperties *pProperties)
{
   (void)pProperties;
   *pPropertyCount = 0;
   return VK_SUCCESS;
}

static void
vn_instance_init_protocol_exts(struct vn_instance *instance)
{
   const struct vw_capset *caps = &instance->transport->capset;
   for (unsigned i = 0; i < vn_implemented_ext_count; i++) {
      const uint32_t n = vn_implemented_exts[i];
      if (vw_capset_has_extension(caps, n))
         vn_ext_set_add(&instance->protocol_exts, n);
   }
   vn_ext_set_add(&instance->protocol_exts, 384); /* VK_EXT_command_serialization */
   vn_ext_set_add(&instance->protocol_exts, 385); /* VK_MESA_venus_protocol */
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_CreateInstance(const VkInstanceCreateInfo *pCreateInfo,
                  const VkAllocationCallbacks *pAllocator,
                  VkInstance *pInstance)
{
   const VkAllocationCallbacks *alloc = pAllocator ? pAllocator : vn_default_allocator();
   struct vn_ext_set enabled = { 0 };
   VkResult result;

   for (uint32_t i = 0; i < pCreateInfo->enabledExtensionCount; i++) {
      const char *name = pCreateInfo->ppEnabledExtensionNames[i];
      uint32_t j;
      for (j = 0; j < VN_ARRAY_SIZE(vn_instance_extensions); j++) {
         if (!strcmp(name, vn_instance_extensions[j].name))
            break;
      }
      if (j == VN_ARRAY_SIZE(vn_instance_extensions)) {
         vn_log_warn("instance extension %s is not supported", name);
         return vn_error(VK_ERROR_EXTENSION_NOT_PRESENT);
      }
      vn_ext_set_add(&enabled, vn_instance_extensions[j].number);
   }

   struct vn_instance *instance =
      vn_zalloc(alloc, sizeof(*instance), VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
   if (!instance)
      return vn_error(VK_ERROR_OUT_OF_HOST_MEMORY);
   vn_object_init(&instance->obj, VK_OBJECT_TYPE_INSTANCE);
   instance->alloc = *alloc;
   instance->enabled_exts = enabled;
   instance->api_version = pCreateInfo->pApplicationInfo && pCreateInfo->pApplicationInfo->apiVersion
                              ? pCreateInfo->pApplicationInfo->apiVersion
                              : VK_API_VERSION_1_0;
   mtx_init(&instance->mutex, mtx_plain);
   mtx_init(&instance->messenger_mutex, mtx_plain);
   vn_debug_instance_init(instance, pCreateInfo);

   result = vn_transport_create(&instance->transport);
   if (result != VK_SUCCESS)
      goto fail_alloc;
   vn_instance_init_protocol_exts(instance);

   result = vn_ring_create(instance->transport, VN_RING_BUFFER_SIZE, "instance", &instance->ring);
   if (result != VK_SUCCESS)
      goto fail_transport;
   instance->ring->ext_mask = instance->protocol_exts.bits;

   result = vn_call_vkEnumerateInstanceVersion(instance->ring, &instance->renderer_api_version);
   if (result != VK_SUCCESS) {
      vn_log_err("the renderer did not answer vkEnumerateInstanceVersion");
      result = VK_ERROR_INITIALIZATION_FAILED;
      goto fail_ring;
   }
   if (instance->renderer_api_version < VK_API_VERSION_1_1) {
      vn_log_err("the renderer's Vulkan instance is older than 1.1");
      result = VK_ERROR_INCOMPATIBLE_DRIVER;
      goto fail_ring;
   }

   /* the renderer's instance: no layers, no extensions, apiVersion at
    * least 1.1 and at most what both sides know */
   VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
   };
   if (pCreateInfo->pApplicationInfo) {
      app = *pCreateInfo->pApplicationInfo;
      app.pNext = NULL;
   }
   uint32_t version = VN_MAX(instance->api_version, VK_API_VERSION_1_1);
   version = VN_MIN(version, instance->renderer_api_version);
   version = VN_MIN(version, VN_MAX_API_VERSION);
   app.apiVersion = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(version),
                                        VK_API_VERSION_MINOR(version), 0);
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   VkInstance handle = vn_instance_to_handle(instance);
   result = vn_call_vkCreateInstance(instance->ring, &info, NULL, &handle);
   if (result != VK_SUCCESS) {
      vn_log_err("the renderer failed vkCreateInstance (%d)", result);
      result = result == VK_ERROR_DEVICE_LOST ? VK_ERROR_INITIALIZATION_FAILED : result;
      goto fail_ring;
   }
   if (VU_DEBUG(INIT))
      vn_log_debug("instance created (renderer Vulkan %u.%u)",
                  VK_API_VERSION_MAJOR(instance->renderer_api_version),
                  VK_API_VERSION_MINOR(instance->renderer_api_version));
   *pInstance = handle;
   return VK_SUCCESS;

fail_ring:
   vn_ring_destroy(instance->ring);
fail_transport:
   vn_transport_destroy(instance->transport);
fail_alloc:
   vn_debug_instance_fini(instance);
   mtx_destroy(&instance->messenger_mutex);
   mtx_destroy(&instance->mutex);
   vn_free(alloc, instance);
   return vn_error(result);
}

void
vn_physical_device_fini(struct vn_physical_device *pdev);

VKAPI_ATTR void VKAPI_CALL
vn_DestroyInstance(VkInstance _instance, const VkAllocationCallbacks *pAllocator)
{
   struct vn_instance *instance = vn_instance_from_handle(_instance);
   if (!instance)
      return;
   vn_call_vkDestroyInstance(instance->ring, _instance, NULL);
   if (VU_DEBUG(ROUNDTRIP))
      vn_log_debug("instance: %llu synchronous round trips",
                  (unsigned long long)instance->ring->roundtrips);
   vn_ring_destroy(instance->ring);
   vn_transport_destroy(instance->transport);
   for (uint32_t i = 0; i < instance->physical_device_count; i++)
      vn_physical_device_fini(&instance->physical_devices[i]);
   vn_free(&instance->alloc, instance->physical_devices);
   vn_debug_instance_fini(instance);
   mtx_destroy(&instance->messenger_mutex);
   mtx_destroy(&instance->mutex);
   vn_free(&instance->alloc, instance);
}

static bool
vn_instance_ext_enabled(const struct vn_instance *instance, const struct vn_entrypoint *ep)
{
   for (unsigned i = 0; i < VN_ARRAY_SIZE(ep->exts) && ep->exts[i]; i++) {
      if (vn_ext_set_has(&instance->enabled_exts, ep->exts[i]))
         return true;
   }
   return false;
}

static bool
vn_is_instance_extension(uint32_t number)
{
   for (unsigned i = 0; i < VN_ARRAY_SIZE(vn_instance_extensions); i++) {
      if (vn_instance_extensions[i].number == number)
         return true;
   }
   return false;
}

PFN_vkVoidFunction
vn_instance_lookup_entrypoint(struct vn_instance *instance, const char *name, bool physical_only)
{
   const struct vn_entrypoint *ep = vn_entrypoint_lookup(name);
   if (!ep)
      ep = vn_wsi_entrypoint_lookup(name);
   if (!ep)
      return NULL;
   if (physical_only)
      return ep->kind == VN_EP_PHYSICAL_DEVICE ? ep->func : NULL;
   if (ep->kind == VN_EP_GLOBAL)
      return ep->func;
   if (!instance)
      return strcmp(name, "vkGetInstanceProcAddr") ? NULL : ep->func;
   /* commands of instance extensions only when enabled; device-extension
    * commands are returned for the loader's trampolines */
   if (!ep->version && ep->exts[0] && vn_is_instance_extension(ep->exts[0]) &&
       !vn_instance_ext_enabled(instance, ep))
      return NULL;
   return ep->func;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vn_GetInstanceProcAddr(VkInstance instance, const char *pName)
{
   return vn_instance_lookup_entrypoint(vn_instance_from_handle(instance), pName, false);
}

/* ------------------------------------------------------------------ */
/* ICD interface (loader-driver interface version 5)                  */

VN_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vk_icdGetInstanceProcAddr(VkInstance instance, const char *pName);
VN_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vk_icdGetInstanceProcAddr(VkInstance instance, const char *pName)
{
   return vn_GetInstanceProcAddr(instance, pName);
}

VN_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vk_icdGetPhysicalDeviceProcAddr(VkInstance instance, const char *pName);
VN_EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL
vk_icdGetPhysicalDeviceProcAddr(VkInstance instance, const char *pName)
{
   return vn_instance_lookup_entrypoint(vn_instance_from_handle(instance), pName, true);
}

VN_EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vk_icdNegotiateLoaderICDInterfaceVersion(uint32_t *pSupportedVersion);
VN_EXPORT VKAPI_ATTR VkResult VKAPI_CALL
vk_icdNegotiateLoaderICDInterfaceVersion(uint32_t *pSupportedVersion)
{
   /* in venus-server's or the VMM worker's own Vulkan loader, the driver
    * would connect back to the server that loaded it, and so on */
   if (vu_env_get()->is_renderer_process) {
      vn_log_debug("loaded by a renderer process (" VU_ENV_RENDERER_PROCESS "): not offered");
      return VK_ERROR_INCOMPATIBLE_DRIVER;
   }
   if (*pSupportedVersion > 5)
      *pSupportedVersion = 5;
   return VK_SUCCESS;
}
