/*
 * Instance and physical devices. The instance owns the transport (one vtest
 * connection = one renderer context) and the instance ring used for
 * instance and physical-device commands. Physical devices are enumerated
 * once; everything about them that never changes is fetched once and cached
 * (driver-behavior.md §5).
 */
#ifndef VN_INSTANCE_H
#define VN_INSTANCE_H

#include "vn_common.h"
#include "vn_ring.h"
#include "vn_transport.h"

struct vn_debug_messenger;

struct vn_instance {
   struct vn_object obj; /* dispatchable */
   VkAllocationCallbacks alloc;
   struct vn_transport *transport;
   struct vn_ring *ring;

   uint32_t api_version;          /* what the application asked for (>= 1.0) */
   uint32_t renderer_api_version; /* renderer's vkEnumerateInstanceVersion */
   struct vn_ext_set enabled_exts;
   /* capset mask, narrowed to what the driver implements: filters every
    * pNext chain the driver encodes */
   struct vn_ext_set protocol_exts;

   mtx_t mutex;
   /* protected by mutex */
   bool enumerated;
   VkResult enumerate_result;
   struct vn_physical_device *physical_devices;
   uint32_t physical_device_count;

   mtx_t messenger_mutex;
   struct vn_debug_messenger *messengers; /* protected by messenger_mutex */
};
VN_HANDLE_CAST(vn_instance, VkInstance)

struct vn_format_cache_entry {
   VkFormat format;
   bool valid;
   VkFormatProperties props;
   VkFormatProperties3 props3;
};

struct vn_physical_device {
   struct vn_object obj; /* dispatchable */
   struct vn_instance *instance;

   uint32_t api_version; /* exposed */
   struct vn_ext_set host_exts;
   struct vn_ext_set exposed_exts; /* what the application may enable */
   VkExtensionProperties *extensions; /* exposed list */
   uint32_t extension_count;
   uint32_t host_extension_spec[1024];

   /* cached query results with complete chains of every struct the
    * protocol and the host support */
   VkPhysicalDeviceFeatures2 features;
   VkPhysicalDeviceProperties2 properties;
   void *feature_chain;  /* one block holding the chained structs */
   void *property_chain;
   VkQueueFamilyProperties2 *queue_families;
   uint32_t queue_family_count;
   VkPhysicalDeviceMemoryProperties2 memory_properties;
   bool can_map; /* guest mapping of device memory can work */
   bool fence_sync_fd;     /* sync files of fences (vn_sync.c) */
   bool semaphore_sync_fd; /* sync files of binary semaphores */

   mtx_t format_mutex;
   struct vn_format_cache_entry *formats; /* protected by format_mutex */
   uint32_t format_cache_size;
};
VN_HANDLE_CAST(vn_physical_device, VkPhysicalDevice)

static inline struct vn_ring *
vn_ring_from_VkInstance(VkInstance instance)
{
   return vn_instance_from_handle(instance)->ring;
}

static inline struct vn_ring *
vn_ring_from_VkPhysicalDevice(VkPhysicalDevice physical_device)
{
   return vn_physical_device_from_handle(physical_device)->instance->ring;
}

/* Looks up a struct of `stype` in a cached chain. */
const void *
vn_physical_device_cached_struct(const struct vn_physical_device *pdev,
                                 bool features,
                                 VkStructureType stype);

VkResult
vn_instance_enumerate_physical_devices(struct vn_instance *instance);

/* the entry point for `name`, if visible at this level */
PFN_vkVoidFunction
vn_instance_lookup_entrypoint(struct vn_instance *instance, const char *name, bool physical_only);

#endif
