/*
 * Physical devices: enumerated once per instance; properties, features,
 * queue families, memory properties and extensions fetched once with
 * complete chains and answered from the cache afterwards; format properties
 * cached per format on first use.
 */
#include "vn_instance.h"

#include <stdio.h>

#include "vn_wsi.h"

/* Device extensions the protocol carries that this driver does not
 * implement: they need guest-side support it lacks, or are implemented but
 * not yet proven on a host that has them (dma-buf: TODO expose once vn_dmabuf passes on such a host; the
 * H100 test host has no VK_EXT_external_memory_dma_buf). */
static const uint32_t vn_hidden_device_exts[] = {
   126, /* VK_EXT_external_memory_dma_buf (unproven, see above) */
   127, /* VK_EXT_queue_family_foreign (goes with dma-buf) */
   499, /* VK_EXT_pipeline_library_group_handles: group handles of ray
         * tracing pipeline libraries, not tried on any host yet */
};

/* vkCopyMemoryToImageMESA and vkCopyImageToMemoryMESA: this driver built
 * with them, and a renderer that knows them */
static bool
vn_physical_device_has_host_copy(const struct vn_physical_device *pdev)
{
#ifdef VK_EXT_host_image_copy
   return pdev->instance->transport->capset.vk_mesa_venus_protocol_spec_version >= 3 &&
          VP_VENUS_PROTOCOL_SPEC_VERSION >= 3;
#else
   (void)pdev;
   return false;
#endif
}

/* implemented in the guest whatever the host offers, some of them where
 * the renderer can drop the payload an exported sync file takes away */
enum vn_driver_ext_need {
   VN_NEEDS_NOTHING,
   VN_NEEDS_FENCE_SYNC_FD,
   VN_NEEDS_SEMAPHORE_SYNC_FD,
   VN_NEEDS_GUEST_MAPPING, /* window systems read the frames the guest maps */
   VN_NEEDS_ACCELERATION_STRUCTURE, /* offered with VK_KHR_acceleration_structure */
};

static const struct {
   const char *name;
   uint32_t number;
   uint32_t spec;
   enum vn_driver_ext_need need;
} vn_driver_device_exts[] = {
   { VK_EXT_TOOLING_INFO_EXTENSION_NAME, 246, 1, VN_NEEDS_NOTHING },
   { VK_EXT_PRIVATE_DATA_EXTENSION_NAME, 296, 1, VN_NEEDS_NOTHING },
   /* every deferrable command completes at once (vn_pipeline.c); offered
    * with VK_KHR_acceleration_structure, which requires it (the renderer
    * lists neither the host's nor its own) */
   { VK_KHR_DEFERRED_HOST_OPERATIONS_EXTENSION_NAME, 269, 4, VN_NEEDS_ACCELERATION_STRUCTURE },
#ifdef VK_KHR_map_memory2
   /* vkMapMemory2KHR is vkMapMemory (vn_memory.c) */
   { VK_KHR_MAP_MEMORY_2_EXTENSION_NAME, 272, 1, VN_NEEDS_NOTHING },
#endif
   { VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME, 80, 1, VN_NEEDS_SEMAPHORE_SYNC_FD },
   { VK_KHR_EXTERNAL_FENCE_FD_EXTENSION_NAME, 116, 1, VN_NEEDS_FENCE_SYNC_FD },
   /* window systems (vn_wsi*.c) */
   { VK_KHR_SWAPCHAIN_EXTENSION_NAME, VN_WSI_EXT_KHR_SWAPCHAIN, VK_KHR_SWAPCHAIN_SPEC_VERSION, VN_NEEDS_GUEST_MAPPING },
   { VK_KHR_INCREMENTAL_PRESENT_EXTENSION_NAME, VN_WSI_EXT_KHR_INCREMENTAL_PRESENT,
     VK_KHR_INCREMENTAL_PRESENT_SPEC_VERSION,
     VN_NEEDS_GUEST_MAPPING },
   { VK_KHR_SWAPCHAIN_MUTABLE_FORMAT_EXTENSION_NAME, VN_WSI_EXT_KHR_SWAPCHAIN_MUTABLE_FORMAT, 1,
     VN_NEEDS_GUEST_MAPPING },
   { VK_KHR_PRESENT_ID_EXTENSION_NAME, VN_WSI_EXT_KHR_PRESENT_ID, 1, VN_NEEDS_GUEST_MAPPING },
   { VK_KHR_PRESENT_WAIT_EXTENSION_NAME, VN_WSI_EXT_KHR_PRESENT_WAIT, 1, VN_NEEDS_GUEST_MAPPING },
   { VK_EXT_SWAPCHAIN_MAINTENANCE_1_EXTENSION_NAME, VN_WSI_EXT_EXT_SWAPCHAIN_MAINTENANCE_1, 1,
     VN_NEEDS_GUEST_MAPPING },
};

/* Guest mapping needs the renderer to export host-visible memory as a
 * dma-buf or shared memory. virglrenderer's vtest passes neither for an
 * opaque-fd-only host (lavapipe) and drops the client instead, so on wire
 * format 0 mapping is attempted only with a dma-buf capable host. */
static bool
vn_physical_device_can_map(const struct vn_physical_device *pdev)
{
   return !vn_transport_is_wire0(pdev->instance->transport) ||
          vn_ext_set_has(&pdev->host_exts, 126);
}

static bool
vn_is_hidden_ext(uint32_t number)
{
   for (unsigned i = 0; i < VN_ARRAY_SIZE(vn_hidden_device_exts); i++) {
      if (vn_hidden_device_exts[i] == number)
         return true;
   }
   return false;
}

static bool
vn_is_driver_ext(uint32_t number)
{
   for (unsigned i = 0; i < VN_ARRAY_SIZE(vn_driver_device_exts); i++) {
      if (vn_driver_device_exts[i].number == number)
         return true;
   }
   return false;
}

static const struct vn_chain_struct *
vn_chain_struct_find(bool features, VkStructureType stype)
{
   const struct vn_chain_struct *table = features ? vn_feature_structs : vn_property_structs;
   const unsigned count = features ? vn_feature_struct_count : vn_property_struct_count;
   for (unsigned i = 0; i < count; i++) {
      if (table[i].stype == stype)
         return &table[i];
   }
   return NULL;
}

const void *
vn_physical_device_cached_struct(const struct vn_physical_device *pdev,
                                 bool features,
                                 VkStructureType stype)
{
   const void *head = features ? pdev->features.pNext : pdev->properties.pNext;
   return vp_chain_find(head, stype);
}

/* Builds a chain of every struct of `table` the device supports. */
static void *
vn_build_chain(struct vn_physical_device *pdev, bool features, void **out_head)
{
   const struct vn_chain_struct *table = features ? vn_feature_structs : vn_property_structs;
   const unsigned count = features ? vn_feature_struct_count : vn_property_struct_count;
   const uint32_t version = pdev->api_version;
   size_t total = 0;
   bool *use = calloc(count, sizeof(bool));
   if (!use)
      return NULL;
   for (unsigned i = 0; i < count; i++) {
      const struct vn_chain_struct *s = &table[i];
      /* core structs of the device's version; extension structs (those
       * promoted to 1.4 are both) where the extension is exposed */
      if (s->version)
         use[i] = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(s->version),
                                      VK_API_VERSION_MINOR(s->version), 0) <= version;
      if (!use[i] && s->ext)
         use[i] = vn_ext_set_has(&pdev->exposed_exts, s->ext) && !vn_is_driver_ext(s->ext);
      if (use[i])
         total += VN_ALIGN((size_t)s->size, (size_t)8);
   }
   uint8_t *block = calloc(1, total ? total : 8);
   if (!block) {
      free(use);
      return NULL;
   }
   VkBaseOutStructure *prev = NULL;
   size_t offset = 0;
   *out_head = NULL;
   for (unsigned i = 0; i < count; i++) {
      if (!use[i])
         continue;
      VkBaseOutStructure *s = (VkBaseOutStructure *)(block + offset);
      s->sType = table[i].stype;
      if (prev)
         prev->pNext = s;
      else
         *out_head = s;
      prev = s;
      offset += VN_ALIGN((size_t)table[i].size, (size_t)8);
   }
   free(use);
   return block;
}

static size_t vn_array_struct_size(VkStructureType stype);

static void
vn_copy_chain(const struct vn_physical_device *pdev, bool features, void *app_chain)
{
   for (VkBaseOutStructure *s = app_chain; s; s = s->pNext) {
      const struct vn_chain_struct *info = vn_chain_struct_find(features, s->sType);
      if (!info || (!features && vn_array_struct_size(s->sType)))
         continue;
      const VkBaseOutStructure *src = vn_physical_device_cached_struct(pdev, features, s->sType);
      if (!src)
         continue;
      memcpy((uint8_t *)s + sizeof(VkBaseOutStructure),
             (const uint8_t *)src + sizeof(VkBaseOutStructure),
             info->size - sizeof(VkBaseOutStructure));
   }
}

/* Sync files are the guest's own (vn_sync.c); the renderer says with the
 * SYNC_FD external properties whether it can drop the payload an export
 * transfers away (our renderer always can, virglrenderer where the host
 * exports sync fds). */
static void
vn_physical_device_probe_sync_fds(struct vn_physical_device *pdev, struct vn_ring *ring)
{
   VkPhysicalDevice handle = vn_physical_device_to_handle(pdev);
   const VkPhysicalDeviceExternalFenceInfo fence_info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_FENCE_INFO,
      .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   VkExternalFenceProperties fence = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_FENCE_PROPERTIES };
   vn_call_vkGetPhysicalDeviceExternalFenceProperties(ring, handle, &fence_info, &fence);
   pdev->fence_sync_fd = fence.externalFenceFeatures & VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT;

   const VkPhysicalDeviceExternalSemaphoreInfo sem_info = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
      .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
   };
   VkExternalSemaphoreProperties sem = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES };
   vn_call_vkGetPhysicalDeviceExternalSemaphoreProperties(ring, handle, &sem_info, &sem);
   const VkExternalSemaphoreFeatureFlags both = VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
                                                VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT;
   pdev->semaphore_sync_fd = (sem.externalSemaphoreFeatures & both) == both;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceExternalFenceProperties(VkPhysicalDevice physicalDevice,
                                            const VkPhysicalDeviceExternalFenceInfo *pInfo,
                                            VkExternalFenceProperties *pProps)
{
   const struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   const bool ok =
      pdev->fence_sync_fd && pInfo->handleType == VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT;
   pProps->exportFromImportedHandleTypes = ok ? VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT : 0;
   pProps->compatibleHandleTypes = ok ? VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT : 0;
   pProps->externalFenceFeatures =
      ok ? VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT | VK_EXTERNAL_FENCE_FEATURE_IMPORTABLE_BIT : 0;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceExternalSemaphoreProperties(
   VkPhysicalDevice physicalDevice,
   const VkPhysicalDeviceExternalSemaphoreInfo *pInfo,
   VkExternalSemaphoreProperties *pProps)
{
   const struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   const VkSemaphoreTypeCreateInfo *type =
      vp_chain_find(pInfo->pNext, VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
   const bool binary = !type || type->semaphoreType == VK_SEMAPHORE_TYPE_BINARY;
   const bool ok = pdev->semaphore_sync_fd && binary &&
                   pInfo->handleType == VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT;
   pProps->exportFromImportedHandleTypes = ok ? VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT : 0;
   pProps->compatibleHandleTypes = ok ? VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT : 0;
   pProps->externalSemaphoreFeatures = ok ? VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
                                               VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT
                                          : 0;
}

static bool
vn_physical_device_host_has(const VkExtensionProperties *host, uint32_t count, const char *name)
{
   for (uint32_t i = 0; i < count; i++) {
      if (!strcmp(host[i].extensionName, name))
         return true;
   }
   return false;
}

static VkResult
vn_physical_device_init_extensions(struct vn_physical_device *pdev, struct vn_ring *ring)
{
   struct vn_instance *instance = pdev->instance;
   VkPhysicalDevice handle = vn_physical_device_to_handle(pdev);
   uint32_t count = 0;
   VkResult result = vn_call_vkEnumerateDeviceExtensionProperties(ring, handle, NULL, &count, NULL);
   if (result != VK_SUCCESS)
      return result;
   VkExtensionProperties *host = calloc(count ? count : 1, sizeof(*host));
   if (!host)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   result = vn_call_vkEnumerateDeviceExtensionProperties(ring, handle, NULL, &count, host);
   if (result < 0) {
      free(host);
      return result;
   }

   const uint32_t max = count + VN_ARRAY_SIZE(vn_driver_device_exts);
   pdev->extensions = vn_zalloc(&instance->alloc, sizeof(VkExtensionProperties) * max,
                                VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
   if (!pdev->extensions) {
      free(host);
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   }
   for (uint32_t i = 0; i < count; i++) {
      host[i].extensionName[VK_MAX_EXTENSION_NAME_SIZE - 1] = '\0';
      const struct vp_extension_info *info = vp_extension_lookup(host[i].extensionName);
      if (!info || info->instance ||
          info->number >= sizeof(pdev->host_extension_spec) / sizeof(pdev->host_extension_spec[0]))
         continue;
      vn_ext_set_add(&pdev->host_exts, info->number);
      pdev->host_extension_spec[info->number] = host[i].specVersion;
      if (vn_is_hidden_ext(info->number) || vn_is_driver_ext(info->number) ||
          !vn_ext_set_has(&instance->protocol_exts, info->number))
         continue;
      /* VK_KHR_external_memory_fd: OPAQUE_FD export hands out the fd of a
       * SHAREABLE blob, which virglrenderer 0.10.4's vtest does not send for
       * lavapipe's memory (it drops the client); wire format 1 renderers
       * export host-visible memory as shared memory and device-local memory
       * as the host's opaque fd, which the host list (this very extension)
       * promises. */
      if (info->number == 75 && vn_transport_is_wire0(instance->transport))
         continue;
      /* ... and an import needs the renderer to keep that fd (not
       * virglrenderer 1.1 in QEMU, vn_transport.h can_import_memory) */
      if ((info->number == 75 || info->number == 126 || info->number == 127) &&
          !instance->transport->can_import_memory)
         continue;
      /* VK_EXT_image_drm_format_modifier: 0.10.4 encodes the modifier lists
       * of format queries without their count (command-types.md W.5), which
       * the generated code does not do. VK_EXT_external_memory_dma_buf
       * (exported as the blob of the host's dma-buf, like OPAQUE_FD) and
       * VK_EXT_queue_family_foreign (passed through, only useful with
       * dma-bufs) need VK_KHR_external_memory_fd on the host as well. */
      if ((info->number == 126 || info->number == 127 || info->number == 159) &&
          vn_transport_is_wire0(instance->transport))
         continue;
      if ((info->number == 126 || info->number == 127) &&
          !vn_physical_device_host_has(host, count, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME))
         continue;
      if (info->number == 127 &&
          !vn_physical_device_host_has(host, count, VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME))
         continue;
      /* VK_EXT_host_image_copy: Venus carries its copies with its own
       * commands (vkCopyMemoryToImageMESA, vkCopyImageToMemoryMESA), which
       * renderers of VK_MESA_venus_protocol spec version 3 know */
      if (info->number == 271 && !vn_physical_device_has_host_copy(pdev))
         continue;
      vn_ext_set_add(&pdev->exposed_exts, info->number);
      VkExtensionProperties *e = &pdev->extensions[pdev->extension_count++];
      strcpy(e->extensionName, host[i].extensionName);
      e->specVersion = VN_MIN(host[i].specVersion, info->spec_version);
   }
   for (unsigned i = 0; i < VN_ARRAY_SIZE(vn_driver_device_exts); i++) {
      const enum vn_driver_ext_need need = vn_driver_device_exts[i].need;
      if ((need == VN_NEEDS_FENCE_SYNC_FD && !pdev->fence_sync_fd) ||
          (need == VN_NEEDS_SEMAPHORE_SYNC_FD && !pdev->semaphore_sync_fd) ||
          (need == VN_NEEDS_GUEST_MAPPING && !vn_physical_device_can_map(pdev)) ||
          (need == VN_NEEDS_ACCELERATION_STRUCTURE && !vn_ext_set_has(&pdev->exposed_exts, 151)))
         continue;
      vn_ext_set_add(&pdev->exposed_exts, vn_driver_device_exts[i].number);
      VkExtensionProperties *e = &pdev->extensions[pdev->extension_count++];
      strcpy(e->extensionName, vn_driver_device_exts[i].name);
      e->specVersion = vn_driver_device_exts[i].spec;
   }
   free(host);
   return VK_SUCCESS;
}

static void
vn_physical_device_fix_properties(struct vn_physical_device *pdev)
{
   VkPhysicalDeviceProperties *props = &pdev->properties.properties;
   char host_name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
   memcpy(host_name, props->deviceName, sizeof(host_name));
   host_name[sizeof(host_name) - 1] = '\0';
   props->apiVersion = pdev->api_version;
   /* a host name too long for both is cut */
   static const char prefix[] = "Virtio-GPU Venus ()";
   snprintf(props->deviceName, sizeof(props->deviceName), "Virtio-GPU Venus (%.*s)",
            (int)(sizeof(props->deviceName) - sizeof(prefix)), host_name);

   VkPhysicalDeviceDriverProperties *driver = (VkPhysicalDeviceDriverProperties *)
      vn_physical_device_cached_struct(pdev, false,
                                       VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES);
   VkPhysicalDeviceVulkan12Properties *v12 = (VkPhysicalDeviceVulkan12Properties *)
      vn_physical_device_cached_struct(pdev, false,
                                       VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES);
   char info[VK_MAX_DRIVER_INFO_SIZE];
   if (driver) {
      snprintf(info, sizeof(info), "venus %s on %.100s (%.100s)", "0.1.0", driver->driverName,
               driver->driverInfo);
   } else {
      snprintf(info, sizeof(info), "venus %s", "0.1.0");
   }
   if (driver) {
      driver->driverID = VK_DRIVER_ID_MESA_VENUS;
      snprintf(driver->driverName, sizeof(driver->driverName), "%s", VN_DRIVER_NAME);
      memcpy(driver->driverInfo, info, sizeof(info));
   }
   if (v12) {
      v12->driverID = VK_DRIVER_ID_MESA_VENUS;
      snprintf(v12->driverName, sizeof(v12->driverName), "%s", VN_DRIVER_NAME);
      memcpy(v12->driverInfo, info, sizeof(info));
   }
}

/* host image copies need the renderer's commands for them */
static void
vn_physical_device_fix_host_copy(struct vn_physical_device *pdev)
{
#ifdef VK_EXT_host_image_copy
   if (vn_physical_device_has_host_copy(pdev))
      return;
#ifdef VK_VERSION_1_4
   VkPhysicalDeviceVulkan14Features *v14 = (VkPhysicalDeviceVulkan14Features *)
      vn_physical_device_cached_struct(pdev, true,
                                       VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_4_FEATURES);
   if (v14)
      v14->hostImageCopy = VK_FALSE;
#endif
   VkPhysicalDeviceHostImageCopyFeaturesEXT *hic = (VkPhysicalDeviceHostImageCopyFeaturesEXT *)
      vn_physical_device_cached_struct(pdev, true,
                                       VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_FEATURES_EXT);
   if (hic)
      hic->hostImageCopy = VK_FALSE;
#else
   (void)pdev;
#endif
}

static void
vn_physical_device_fix_features(struct vn_physical_device *pdev)
{
   vn_physical_device_fix_host_copy(pdev);
   /* host commands on acceleration structures read and write memory
    * through host pointers, which cannot cross to the renderer (and
    * VK_KHR_deferred_host_operations is the driver's own) */
   VkPhysicalDeviceAccelerationStructureFeaturesKHR *as =
      (VkPhysicalDeviceAccelerationStructureFeaturesKHR *)vn_physical_device_cached_struct(
         pdev, true, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR);
   if (as)
      as->accelerationStructureHostCommands = VK_FALSE;
#ifdef VK_EXT_extended_dynamic_state3
   /* the dynamic states of the NV extensions (vkCmdSetViewportSwizzleNV,
    * vkCmdSetCoverageToColorEnableNV, ...) have no Venus command numbers */
   VkPhysicalDeviceExtendedDynamicState3FeaturesEXT *eds3 =
      (VkPhysicalDeviceExtendedDynamicState3FeaturesEXT *)vn_physical_device_cached_struct(
         pdev, true, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTENDED_DYNAMIC_STATE_3_FEATURES_EXT);
   if (eds3) {
      eds3->extendedDynamicState3ViewportWScalingEnable = VK_FALSE;
      eds3->extendedDynamicState3ViewportSwizzle = VK_FALSE;
      eds3->extendedDynamicState3CoverageToColorEnable = VK_FALSE;
      eds3->extendedDynamicState3CoverageToColorLocation = VK_FALSE;
      eds3->extendedDynamicState3CoverageModulationMode = VK_FALSE;
      eds3->extendedDynamicState3CoverageModulationTableEnable = VK_FALSE;
      eds3->extendedDynamicState3CoverageModulationTable = VK_FALSE;
      eds3->extendedDynamicState3CoverageReductionMode = VK_FALSE;
      eds3->extendedDynamicState3RepresentativeFragmentTestEnable = VK_FALSE;
      eds3->extendedDynamicState3ShadingRateImageEnable = VK_FALSE;
   }
#endif
   /* private data is implemented in the guest */
   VkPhysicalDeviceVulkan13Features *v13 = (VkPhysicalDeviceVulkan13Features *)
      vn_physical_device_cached_struct(pdev, true,
                                       VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES);
   if (v13)
      v13->privateData = VK_TRUE;
   VkPhysicalDevicePrivateDataFeatures *pd = (VkPhysicalDevicePrivateDataFeatures *)
      vn_physical_device_cached_struct(pdev, true,
                                       VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PRIVATE_DATA_FEATURES);
   if (pd)
      pd->privateData = VK_TRUE;
}

static void
vn_physical_device_fix_memory(struct vn_physical_device *pdev)
{
   /* guest mappings are coherent; non-coherent host-visible types would need
    * flushes the driver does not send (driver-behavior / transport §D.5) */
   VkPhysicalDeviceMemoryProperties *mem = &pdev->memory_properties.memoryProperties;
   for (uint32_t i = 0; i < mem->memoryTypeCount; i++) {
      VkMemoryPropertyFlags *flags = &mem->memoryTypes[i].propertyFlags;
      if ((*flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
          !(*flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
         *flags &= ~(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
   }
}

/* returns VK_INCOMPLETE for a device to hide */
static VkResult
vn_physical_device_init(struct vn_physical_device *pdev, struct vn_ring *ring)
{
   struct vn_instance *instance = pdev->instance;
   const struct vw_capset *caps = &instance->transport->capset;
   VkPhysicalDevice handle = vn_physical_device_to_handle(pdev);
   VkResult result;

   mtx_init(&pdev->format_mutex, mtx_plain);

   VkPhysicalDeviceProperties host_props;
   vn_call_vkGetPhysicalDeviceProperties(ring, handle, &host_props);
   if (vn_ring_is_lost(ring))
      return VK_ERROR_INITIALIZATION_FAILED;
   if (host_props.apiVersion < VK_API_VERSION_1_1)
      return VK_INCOMPLETE;

   vn_physical_device_probe_sync_fds(pdev, ring);
   result = vn_physical_device_init_extensions(pdev, ring);
   if (result != VK_SUCCESS)
      return result;

   /* min(host, driver, renderer protocol), at major.minor granularity,
    * keeping the host's patch number */
   uint32_t mm = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(host_props.apiVersion),
                                     VK_API_VERSION_MINOR(host_props.apiVersion), 0);
   const uint32_t caps_mm = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(caps->vk_xml_version),
                                                VK_API_VERSION_MINOR(caps->vk_xml_version), 0);
   mm = VN_MIN(mm, VN_MAX_API_VERSION);
   mm = VN_MIN(mm, caps_mm);
   /* Vulkan 1.3 needs synchronization2 through the protocol */
   if (mm >= VK_API_VERSION_1_3 && !vw_capset_has_extension(caps, 315))
      mm = VK_API_VERSION_1_2;
   pdev->api_version = mm | VK_API_VERSION_PATCH(host_props.apiVersion);

   pdev->features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
   pdev->feature_chain = vn_build_chain(pdev, true, &pdev->features.pNext);
   pdev->properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
   pdev->property_chain = vn_build_chain(pdev, false, &pdev->properties.pNext);
   if (!pdev->feature_chain || !pdev->property_chain)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   vn_call_vkGetPhysicalDeviceFeatures2(ring, handle, &pdev->features);
   vn_call_vkGetPhysicalDeviceProperties2(ring, handle, &pdev->properties);

   uint32_t count = 0;
   vn_call_vkGetPhysicalDeviceQueueFamilyProperties2(ring, handle, &count, NULL);
   pdev->queue_families = vn_zalloc(&instance->alloc, sizeof(VkQueueFamilyProperties2) * (count ? count : 1),
                                    VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
   if (!pdev->queue_families)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   for (uint32_t i = 0; i < count; i++)
      pdev->queue_families[i].sType = VK_STRUCTURE_TYPE_QUEUE_FAMILY_PROPERTIES_2;
   vn_call_vkGetPhysicalDeviceQueueFamilyProperties2(ring, handle, &count, pdev->queue_families);
   pdev->queue_family_count = count;

   pdev->memory_properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2;
   vn_call_vkGetPhysicalDeviceMemoryProperties2(ring, handle, &pdev->memory_properties);
   if (vn_ring_is_lost(ring))
      return VK_ERROR_INITIALIZATION_FAILED;

   vn_physical_device_fix_properties(pdev);
   vn_physical_device_fix_features(pdev);
   vn_physical_device_fix_memory(pdev);

   pdev->can_map = vn_physical_device_can_map(pdev);
   if (VU_DEBUG(INIT))
      vn_log_debug("physical device \"%s\": Vulkan %u.%u.%u, %u extensions%s",
                  pdev->properties.properties.deviceName, VK_API_VERSION_MAJOR(pdev->api_version),
                  VK_API_VERSION_MINOR(pdev->api_version), VK_API_VERSION_PATCH(pdev->api_version),
                  pdev->extension_count, pdev->can_map ? "" : ", no guest mapping");
   return VK_SUCCESS;
}

void
vn_physical_device_fini(struct vn_physical_device *pdev)
{
   struct vn_instance *instance = pdev->instance;
   free(pdev->feature_chain);
   free(pdev->property_chain);
   vn_free(&instance->alloc, pdev->extensions);
   vn_free(&instance->alloc, pdev->queue_families);
   free(pdev->formats);
   mtx_destroy(&pdev->format_mutex);
}

VkResult
vn_instance_enumerate_physical_devices(struct vn_instance *instance)
{
   struct vn_ring *ring = instance->ring;
   VkInstance handle = vn_instance_to_handle(instance);
   VkResult result;

   mtx_lock(&instance->mutex);
   if (instance->enumerated) {
      result = instance->enumerate_result;
      goto out;
   }

   uint32_t count = 0;
   result = vn_call_vkEnumeratePhysicalDevices(ring, handle, &count, NULL);
   if (result != VK_SUCCESS)
      goto done;
   struct vn_physical_device *pdevs = NULL;
   if (count) {
      pdevs = vn_zalloc(&instance->alloc, sizeof(*pdevs) * count,
                        VK_SYSTEM_ALLOCATION_SCOPE_INSTANCE);
      VkPhysicalDevice *handles = calloc(count, sizeof(*handles));
      if (!pdevs || !handles) {
         vn_free(&instance->alloc, pdevs);
         free(handles);
         result = VK_ERROR_OUT_OF_HOST_MEMORY;
         goto done;
      }
      for (uint32_t i = 0; i < count; i++) {
         vn_object_init(&pdevs[i].obj, VK_OBJECT_TYPE_PHYSICAL_DEVICE);
         pdevs[i].instance = instance;
         handles[i] = vn_physical_device_to_handle(&pdevs[i]);
      }
      result = vn_call_vkEnumeratePhysicalDevices(ring, handle, &count, handles);
      free(handles);
      if (result < 0) {
         vn_free(&instance->alloc, pdevs);
         goto done;
      }
   }
   uint32_t kept = 0;
   for (uint32_t i = 0; i < count; i++) {
      result = vn_physical_device_init(&pdevs[i], ring);
      if (result == VK_SUCCESS) {
         if (kept != i)
            pdevs[kept] = pdevs[i];
         kept++;
      } else {
         vn_physical_device_fini(&pdevs[i]);
         if (result < 0)
            break;
      }
   }
   if (result < 0) {
      for (uint32_t i = 0; i < kept; i++)
         vn_physical_device_fini(&pdevs[i]);
      vn_free(&instance->alloc, pdevs);
      goto done;
   }
   result = VK_SUCCESS;
   instance->physical_devices = pdevs;
   instance->physical_device_count = kept;

done:
   if (result == VK_ERROR_DEVICE_LOST)
      result = VK_ERROR_INITIALIZATION_FAILED;
   instance->enumerated = true;
   instance->enumerate_result = result;
out:
   mtx_unlock(&instance->mutex);
   return result;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EnumeratePhysicalDevices(VkInstance _instance,
                            uint32_t *pPhysicalDeviceCount,
                            VkPhysicalDevice *pPhysicalDevices)
{
   struct vn_instance *instance = vn_instance_from_handle(_instance);
   VkResult result = vn_instance_enumerate_physical_devices(instance);
   if (result != VK_SUCCESS)
      return vn_error(result);
   if (!pPhysicalDevices) {
      *pPhysicalDeviceCount = instance->physical_device_count;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pPhysicalDeviceCount, instance->physical_device_count);
   for (uint32_t i = 0; i < n; i++)
      pPhysicalDevices[i] = vn_physical_device_to_handle(&instance->physical_devices[i]);
   *pPhysicalDeviceCount = n;
   return n < instance->physical_device_count ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EnumeratePhysicalDeviceGroups(VkInstance _instance,
                                 uint32_t *pPhysicalDeviceGroupCount,
                                 VkPhysicalDeviceGroupProperties *pPhysicalDeviceGroupProperties)
{
   struct vn_instance *instance = vn_instance_from_handle(_instance);
   VkResult result = vn_instance_enumerate_physical_devices(instance);
   if (result != VK_SUCCESS)
      return vn_error(result);
   /* one group per device (what every renderer reports for lavapipe and
    * single-GPU hosts) */
   if (!pPhysicalDeviceGroupProperties) {
      *pPhysicalDeviceGroupCount = instance->physical_device_count;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pPhysicalDeviceGroupCount, instance->physical_device_count);
   for (uint32_t i = 0; i < n; i++) {
      VkPhysicalDeviceGroupProperties *g = &pPhysicalDeviceGroupProperties[i];
      g->physicalDeviceCount = 1;
      memset(g->physicalDevices, 0, sizeof(g->physicalDevices));
      g->physicalDevices[0] = vn_physical_device_to_handle(&instance->physical_devices[i]);
      g->subsetAllocation = VK_FALSE;
   }
   *pPhysicalDeviceGroupCount = n;
   return n < instance->physical_device_count ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceFeatures(VkPhysicalDevice physicalDevice, VkPhysicalDeviceFeatures *pFeatures)
{
   *pFeatures = vn_physical_device_from_handle(physicalDevice)->features.features;
}

/* Property structs that return arrays into the application's storage
 * (count + pointer) are not answered from the cache (vn_copy_chain leaves
 * them alone): each is asked of the renderer alone, with the application's
 * count and array. */
static size_t
vn_array_struct_size(VkStructureType stype)
{
   switch ((int32_t)stype) {
#ifdef VK_VERSION_1_4
   case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_4_PROPERTIES:
      return sizeof(VkPhysicalDeviceVulkan14Properties);
#endif
#ifdef VK_EXT_host_image_copy
   case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_PROPERTIES_EXT:
      return sizeof(VkPhysicalDeviceHostImageCopyPropertiesEXT);
#endif
#ifdef VK_KHR_maintenance7
   case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_LAYERED_API_PROPERTIES_LIST_KHR:
      return sizeof(VkPhysicalDeviceLayeredApiPropertiesListKHR);
#endif
   default:
      return 0;
   }
}

static void
vn_physical_device_query_arrays(struct vn_physical_device *pdev, void *app_chain)
{
   for (VkBaseOutStructure *s = app_chain; s; s = s->pNext) {
      const size_t size = vn_array_struct_size(s->sType);
      /* only structs of the cached chain (exposed version or extension) */
      if (!size || !vn_physical_device_cached_struct(pdev, false, s->sType))
         continue;
      union {
         VkBaseOutStructure base;
         uint8_t bytes[512];
      } one;
      if (size > sizeof(one))
         continue;
      memcpy(&one, s, size);
      one.base.pNext = NULL;
      VkPhysicalDeviceProperties2 props = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
         .pNext = &one,
      };
      vn_call_vkGetPhysicalDeviceProperties2(pdev->instance->ring,
                                             vn_physical_device_to_handle(pdev), &props);
      if (vn_ring_is_lost(pdev->instance->ring))
         return;
      memcpy((uint8_t *)s + sizeof(VkBaseOutStructure), one.bytes + sizeof(VkBaseOutStructure),
             size - sizeof(VkBaseOutStructure));
   }
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceFeatures2(VkPhysicalDevice physicalDevice, VkPhysicalDeviceFeatures2 *pFeatures)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   pFeatures->features = pdev->features.features;
   vn_copy_chain(pdev, true, pFeatures->pNext);
   vn_wsi_fill_features(pdev, pFeatures->pNext);
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceProperties(VkPhysicalDevice physicalDevice,
                               VkPhysicalDeviceProperties *pProperties)
{
   *pProperties = vn_physical_device_from_handle(physicalDevice)->properties.properties;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceProperties2(VkPhysicalDevice physicalDevice,
                                VkPhysicalDeviceProperties2 *pProperties)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   pProperties->properties = pdev->properties.properties;
   vn_copy_chain(pdev, false, pProperties->pNext);
   vn_physical_device_query_arrays(pdev, pProperties->pNext);
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceQueueFamilyProperties(VkPhysicalDevice physicalDevice,
                                          uint32_t *pCount,
                                          VkQueueFamilyProperties *pProps)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   if (!pProps) {
      *pCount = pdev->queue_family_count;
      return;
   }
   const uint32_t n = VN_MIN(*pCount, pdev->queue_family_count);
   for (uint32_t i = 0; i < n; i++)
      pProps[i] = pdev->queue_families[i].queueFamilyProperties;
   *pCount = n;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceQueueFamilyProperties2(VkPhysicalDevice physicalDevice,
                                           uint32_t *pCount,
                                           VkQueueFamilyProperties2 *pProps)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   if (!pProps) {
      *pCount = pdev->queue_family_count;
      return;
   }
   const uint32_t n = VN_MIN(*pCount, pdev->queue_family_count);
   bool chained = false;
   for (uint32_t i = 0; i < n; i++)
      chained |= pProps[i].pNext != NULL;
   if (chained) {
      /* extension structs (global priority, ...) are not cached */
      uint32_t count = n;
      vn_call_vkGetPhysicalDeviceQueueFamilyProperties2(pdev->instance->ring, physicalDevice,
                                                        &count, pProps);
   }
   for (uint32_t i = 0; i < n; i++)
      pProps[i].queueFamilyProperties = pdev->queue_families[i].queueFamilyProperties;
   *pCount = n;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceMemoryProperties(VkPhysicalDevice physicalDevice,
                                     VkPhysicalDeviceMemoryProperties *pProps)
{
   *pProps = vn_physical_device_from_handle(physicalDevice)->memory_properties.memoryProperties;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceMemoryProperties2(VkPhysicalDevice physicalDevice,
                                      VkPhysicalDeviceMemoryProperties2 *pProps)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   if (pProps->pNext) {
      /* the memory budget changes: ask */
      vn_call_vkGetPhysicalDeviceMemoryProperties2(pdev->instance->ring, physicalDevice, pProps);
   }
   pProps->memoryProperties = pdev->memory_properties.memoryProperties;
}

static struct vn_format_cache_entry *
vn_format_cache_get_locked(struct vn_physical_device *pdev, VkFormat format)
{
   for (uint32_t i = 0; i < pdev->format_cache_size; i++) {
      if (pdev->formats[i].format == format)
         return &pdev->formats[i];
   }
   struct vn_format_cache_entry *formats =
      realloc(pdev->formats, sizeof(*formats) * (pdev->format_cache_size + 1));
   if (!formats)
      return NULL;
   pdev->formats = formats;
   struct vn_format_cache_entry *e = &formats[pdev->format_cache_size++];
   memset(e, 0, sizeof(*e));
   e->format = format;
   return e;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceFormatProperties2(VkPhysicalDevice physicalDevice,
                                      VkFormat format,
                                      VkFormatProperties2 *pFormatProperties)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   if (pFormatProperties->pNext) {
      vn_call_vkGetPhysicalDeviceFormatProperties2(pdev->instance->ring, physicalDevice, format,
                                                   pFormatProperties);
#ifdef VK_EXT_host_image_copy
      /* a renderer without the host-copy commands may pass the host's bit
       * through (virglrenderer) */
      VkFormatProperties3 *p3 =
         vp_chain_find_mut(pFormatProperties->pNext, VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3);
      if (p3 && !vn_physical_device_has_host_copy(pdev)) {
         p3->linearTilingFeatures &= ~VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT;
         p3->optimalTilingFeatures &= ~VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT;
         p3->bufferFeatures &= ~VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT;
      }
#endif
      return;
   }
   mtx_lock(&pdev->format_mutex);
   struct vn_format_cache_entry *e = vn_format_cache_get_locked(pdev, format);
   if (e && e->valid) {
      pFormatProperties->formatProperties = e->props;
      mtx_unlock(&pdev->format_mutex);
      return;
   }
   mtx_unlock(&pdev->format_mutex);

   VkFormatProperties2 props = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2 };
   vn_call_vkGetPhysicalDeviceFormatProperties2(pdev->instance->ring, physicalDevice, format,
                                                &props);
   pFormatProperties->formatProperties = props.formatProperties;
   if (vn_ring_is_lost(pdev->instance->ring))
      return;
   mtx_lock(&pdev->format_mutex);
   e = vn_format_cache_get_locked(pdev, format);
   if (e) {
      e->props = props.formatProperties;
      e->valid = true;
   }
   mtx_unlock(&pdev->format_mutex);
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceFormatProperties(VkPhysicalDevice physicalDevice,
                                     VkFormat format,
                                     VkFormatProperties *pFormatProperties)
{
   VkFormatProperties2 props = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2 };
   vn_GetPhysicalDeviceFormatProperties2(physicalDevice, format, &props);
   *pFormatProperties = props.formatProperties;
}

/* External memory: the driver exports and imports OPAQUE_FD and, with
 * VK_EXT_external_memory_dma_buf, DMA_BUF (blob resources, docs/driver.md
 * "External memory"), so other handle types are reported unsupported
 * whatever the host can do. For those two the host's answer holds:
 * host-visible memory is exported as the renderer's shared memory (always
 * possible), other memory as the host's own opaque fd; DMA_BUF memory is
 * the host's dma-buf. */
static VkExternalMemoryHandleTypeFlags
vn_physical_device_fd_handle_types(const struct vn_physical_device *pdev)
{
   VkExternalMemoryHandleTypeFlags types = 0;
   if (vn_ext_set_has(&pdev->exposed_exts, 75))
      types |= VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
   if (vn_ext_set_has(&pdev->exposed_exts, 126))
      types |= VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
   return types;
}

static bool
vn_physical_device_external_memory_ok(const struct vn_physical_device *pdev,
                                      VkExternalMemoryHandleTypeFlagBits type)
{
   return type && (type & vn_physical_device_fd_handle_types(pdev)) == type;
}

static void
vn_external_memory_properties_mask(const struct vn_physical_device *pdev,
                                   VkExternalMemoryProperties *props)
{
   const VkExternalMemoryHandleTypeFlags types = vn_physical_device_fd_handle_types(pdev);
   props->exportFromImportedHandleTypes &= types;
   props->compatibleHandleTypes &= types;
   if (!props->compatibleHandleTypes)
      props->externalMemoryFeatures = 0;
   /* an fd from another instance or process cannot be imported through a
    * vtest server that takes no fds (virglrenderer's): only exports are
    * promised there (an fd of the same instance still imports) */
   if (!pdev->instance->transport->can_import_foreign_memory)
      props->externalMemoryFeatures &= ~VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
}

VKAPI_ATTR void VKAPI_CALL
vn_GetPhysicalDeviceExternalBufferProperties(VkPhysicalDevice physicalDevice,
                                             const VkPhysicalDeviceExternalBufferInfo *pInfo,
                                             VkExternalBufferProperties *pProperties)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   VkExternalMemoryProperties *props = &pProperties->externalMemoryProperties;
   if (!vn_physical_device_external_memory_ok(pdev, pInfo->handleType)) {
      memset(props, 0, sizeof(*props));
      return;
   }
   vn_call_vkGetPhysicalDeviceExternalBufferProperties(
      vn_ring_from_VkPhysicalDevice(physicalDevice), physicalDevice, pInfo, pProperties);
   vn_external_memory_properties_mask(pdev, props);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_GetPhysicalDeviceImageFormatProperties2(VkPhysicalDevice physicalDevice,
                                           const VkPhysicalDeviceImageFormatInfo2 *pInfo,
                                           VkImageFormatProperties2 *pProperties)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   const VkPhysicalDeviceExternalImageFormatInfo *ext =
      vp_chain_find(pInfo->pNext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO);
   /* handleType 0 asks nothing external */
   if (ext && ext->handleType && !vn_physical_device_external_memory_ok(pdev, ext->handleType))
      return vn_error(VK_ERROR_FORMAT_NOT_SUPPORTED);
   VkResult result = vn_call_vkGetPhysicalDeviceImageFormatProperties2(
      vn_ring_from_VkPhysicalDevice(physicalDevice), physicalDevice, pInfo, pProperties);
   VkExternalImageFormatProperties *ext_props =
      vp_chain_find_mut(pProperties->pNext, VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES);
   if (result == VK_SUCCESS && ext_props) {
      if (ext && ext->handleType)
         vn_external_memory_properties_mask(pdev, &ext_props->externalMemoryProperties);
      else
         memset(&ext_props->externalMemoryProperties, 0,
                sizeof(ext_props->externalMemoryProperties));
   }
   return vn_result(result);
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EnumerateDeviceExtensionProperties(VkPhysicalDevice physicalDevice,
                                      const char *pLayerName,
                                      uint32_t *pPropertyCount,
                                      VkExtensionProperties *pProperties)
{
   struct vn_physical_device *pdev = vn_physical_device_from_handle(physicalDevice);
   if (pLayerName)
      return vn_error(VK_ERROR_LAYER_NOT_PRESENT);
   if (!pProperties) {
      *pPropertyCount = pdev->extension_count;
      return VK_SUCCESS;
   }
   const uint32_t n = VN_MIN(*pPropertyCount, pdev->extension_count);
   memcpy(pProperties, pdev->extensions, sizeof(*pProperties) * n);
   *pPropertyCount = n;
   return n < pdev->extension_count ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL
vn_EnumerateDeviceLayerProperties(VkPhysicalDevice physicalDevice,
                                  uint32_t *pPropertyCount,
                                  VkLayerProperties *pProperties)
{
   (void)physicalDevice;
   (void)pProperties;
   *pPropertyCount = 0;
   return VK_SUCCESS;
}
