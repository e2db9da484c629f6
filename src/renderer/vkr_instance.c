/*
 * Capset, instance and physical devices (renderer-behavior.md §3-§4): one
 * host instance per context, physical devices registered with the guest's
 * ids, version capping, the device-extension filter and the memory-type
 * filter that keeps only host-visible types we can really share.
 */
#include "vkr_common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/vu_os.h"
#include "transport/vw_capset.h"

#define VKR_HOST_VISIBLE_BITS                                                            \
   (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |         \
    VK_MEMORY_PROPERTY_HOST_CACHED_BIT)

/* ------------------------------------------------------------------ */
/* versions and capset                                                 */

uint32_t
vkr_cap_api_version(uint32_t version)
{
   const uint32_t major = VK_API_VERSION_MAJOR(version);
   const uint32_t minor = VK_API_VERSION_MINOR(version);
   const uint32_t max_minor = VK_API_VERSION_MINOR(VP_VK_XML_VERSION);
   if (major > 1 || minor > max_minor)
      return VK_MAKE_API_VERSION(0, 1, max_minor, VK_API_VERSION_PATCH(version));
   return VK_MAKE_API_VERSION(0, major, minor, VK_API_VERSION_PATCH(version));
}

static uint32_t
vkr_loader_version(void)
{
   uint32_t version = VK_API_VERSION_1_0;
   if (vkEnumerateInstanceVersion(&version) != VK_SUCCESS)
      version = VK_API_VERSION_1_0;
   return version;
}

size_t
vkr_renderer_get_capset(uint32_t capset_id, uint32_t capset_version, void *out, size_t size)
{
   if (capset_id != VW_CAPSET_ID_VENUS || capset_version != 0)
      return 0;

   struct vw_capset c;
   memset(&c, 0, sizeof(c));
   c.wire_format_version = VP_WIRE_FORMAT_VERSION;
   /* the registry we carry, not min(loader, registry): a 1.1+ loader
    * passes every device command it does not know to the driver
    * (vkGetDeviceProcAddr) and Vulkan 1.4 added none above the device
    * level, so Debian 12's 1.3 loader carries a 1.4 device (natively too:
    * NVIDIA reports 1.4 under it). Host instances ask for this version. */
   c.vk_xml_version = VP_VK_XML_VERSION;
   c.vk_ext_command_serialization_spec_version = VP_COMMAND_SERIALIZATION_SPEC_VERSION;
   c.vk_mesa_venus_protocol_spec_version = VP_VENUS_PROTOCOL_SPEC_VERSION;
   c.supports_blob_id_0 = 1;
   c.vk_extension_mask1[0] = 1; /* the mask is valid */
   for (unsigned i = 0; i < vp_extension_count; i++) {
      const uint32_t n = vp_extensions[i].number;
      if (n < 1024)
         c.vk_extension_mask1[n / 32] |= 1u << (n % 32);
   }
   c.allow_vk_wait_syncs = 1;
   c.supports_multiple_timelines = 1;
   c.use_guest_vram = 0;

   if (out)
      memcpy(out, &c, size < sizeof(c) ? size : sizeof(c));
   if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO, "capset: wire %u, vk.xml %u.%u.%u, venus spec %u", c.wire_format_version,
              VK_API_VERSION_MAJOR(c.vk_xml_version), VK_API_VERSION_MINOR(c.vk_xml_version),
              VK_API_VERSION_PATCH(c.vk_xml_version), c.vk_mesa_venus_protocol_spec_version);
   return sizeof(c);
}

/* ------------------------------------------------------------------ */
/* preloading the host driver (worker sandbox)                         */

static VkInstance vkr_preload_instance;

bool
vkr_renderer_preload(void)
{
   if (vkr_preload_instance)
      return true;

   const uint32_t loader = vkr_loader_version();
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "venus-preload",
      /* as vkr_exec_vkCreateInstance: NVIDIA's driver keeps the version of
       * the first instance of the process (this one) for its devices */
      .apiVersion = loader < VK_API_VERSION_1_1
                       ? VK_API_VERSION_1_0
                       : VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(VP_VK_XML_VERSION),
                                             VK_API_VERSION_MINOR(VP_VK_XML_VERSION), 0),
   };
   const VkInstanceCreateInfo ci = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   VkInstance inst = VK_NULL_HANDLE;
   if (vkCreateInstance(&ci, NULL, &inst) != VK_SUCCESS)
      return false;

   /* drivers open their devices and start their threads here */
   VkPhysicalDevice pds[8];
   uint32_t count = sizeof(pds) / sizeof(pds[0]);
   const VkResult r = vkEnumeratePhysicalDevices(inst, &count, pds);
   if (r == VK_SUCCESS || r == VK_INCOMPLETE) {
      for (uint32_t i = 0; i < count; i++) {
         VkPhysicalDeviceProperties props;
         vkGetPhysicalDeviceProperties(pds[i], &props);
         if (VU_DEBUG(INIT))
            vkr_log(VU_LOG_INFO, "preloaded host device %u: %s", i, props.deviceName);
      }
   }
   vkr_preload_instance = inst;
   return true;
}

void
vkr_renderer_unload(void)
{
   if (vkr_preload_instance)
      vkDestroyInstance(vkr_preload_instance, NULL);
   vkr_preload_instance = VK_NULL_HANDLE;
}

/* ------------------------------------------------------------------ */
/* instance                                                            */

static bool
vkr_is_venus_instance_extension(const char *name)
{
   return !strcmp(name, "VK_EXT_command_serialization") ||
          !strcmp(name, "VK_MESA_venus_protocol");
}

void
vkr_exec_vkEnumerateInstanceVersion(struct vp_dispatch *d,
                                    struct vp_command_vkEnumerateInstanceVersion *args)
{
   *args->pApiVersion = vkr_cap_api_version(vkr_loader_version());
   args->ret = VK_SUCCESS;
}

void
vkr_exec_vkEnumerateInstanceExtensionProperties(
   struct vp_dispatch *d,
   struct vp_command_vkEnumerateInstanceExtensionProperties *args)
{
   static const VkExtensionProperties exts[] = {
      { "VK_EXT_command_serialization", VP_COMMAND_SERIALIZATION_SPEC_VERSION },
      { "VK_MESA_venus_protocol", VP_VENUS_PROTOCOL_SPEC_VERSION },
   };
   if (args->pLayerName) {
      args->ret = VK_ERROR_LAYER_NOT_PRESENT;
      return;
   }
   const uint32_t total = sizeof(exts) / sizeof(exts[0]);
   if (!args->pProperties) {
      *args->pPropertyCount = total;
      args->ret = VK_SUCCESS;
      return;
   }
   const uint32_t n = *args->pPropertyCount < total ? *args->pPropertyCount : total;
   memcpy(args->pProperties, exts, n * sizeof(exts[0]));
   *args->pPropertyCount = n;
   args->ret = n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

void
vkr_exec_vkCreateInstance(struct vp_dispatch *d, struct vp_command_vkCreateInstance *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   const VkInstanceCreateInfo *info = args->pCreateInfo;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pInstance;

   vu_lock_take(&ctx->object_lock);
   const bool exists = ctx->instance != NULL;
   vu_lock_give(&ctx->object_lock);
   if (exists) {
      vkr_dispatch_fatal(d, "a second vkCreateInstance");
      return;
   }
   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_INSTANCE))
      return;

   *args->pInstance = (VkInstance)(uintptr_t)id;
   if (info->enabledLayerCount) {
      args->ret = VK_ERROR_LAYER_NOT_PRESENT;
      return;
   }
   for (uint32_t i = 0; i < info->enabledExtensionCount; i++) {
      if (!info->ppEnabledExtensionNames || !info->ppEnabledExtensionNames[i] ||
          !vkr_is_venus_instance_extension(info->ppEnabledExtensionNames[i])) {
         args->ret = VK_ERROR_EXTENSION_NOT_PRESENT;
         return;
      }
   }
   const uint32_t loader = vkr_loader_version();
   if (loader < VK_API_VERSION_1_1) {
      vkr_log(VU_LOG_ERROR, "context %u: the host Vulkan loader is below 1.1", ctx->id);
      args->ret = VK_ERROR_INITIALIZATION_FAILED;
      return;
   }

   /* The host instance gets the highest version we carry, whatever the
    * loader's own version (any apiVersion is valid with a 1.1+ loader, and
    * newer device commands reach the driver through vkGetDeviceProcAddr):
    * NVIDIA reports a device's apiVersion no higher than the instance's, so
    * Debian 12's 1.3 loader would otherwise hide Vulkan 1.4 on a 1.4 host.
    * The driver caps what the application sees. */
   VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "venus-renderer",
   };
   if (info->pApplicationInfo) {
      app = *info->pApplicationInfo;
      app.pNext = NULL;
   }
   app.apiVersion = VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(VP_VK_XML_VERSION),
                                        VK_API_VERSION_MINOR(VP_VK_XML_VERSION), 0);

   static const char *const validation[] = { "VK_LAYER_KHRONOS_validation" };
   VkInstanceCreateInfo ci = *info;
   ci.flags &= ~VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
   ci.pApplicationInfo = &app;
   ci.enabledExtensionCount = 0;
   ci.ppEnabledExtensionNames = NULL;
   ci.enabledLayerCount = 0;
   ci.ppEnabledLayerNames = NULL;
   if (VU_DEBUG(VALIDATE)) {
      ci.enabledLayerCount = 1;
      ci.ppEnabledLayerNames = validation;
   }

   VkInstance host = VK_NULL_HANDLE;
   args->ret = vkCreateInstance(&ci, NULL, &host);
   if (args->ret != VK_SUCCESS && VU_DEBUG(VALIDATE)) {
      vkr_log(VU_LOG_WARN, "context %u: no validation layer, continuing without", ctx->id);
      ci.enabledLayerCount = 0;
      ci.ppEnabledLayerNames = NULL;
      args->ret = vkCreateInstance(&ci, NULL, &host);
   }
   if (args->ret != VK_SUCCESS)
      return;

   struct vkr_instance *inst = calloc(1, sizeof(*inst));
   if (!inst)
      goto fail_host;
   inst->host = host;
   inst->api_version = app.apiVersion;
   vkr_instance_table_init(&inst->table, vkGetInstanceProcAddr, host);
   if (!inst->table.vkEnumeratePhysicalDevices || !inst->table.vkDestroyInstance)
      goto fail_alloc;
   uint32_t count = 0;
   if (inst->table.vkEnumeratePhysicalDevices(host, &count, NULL) < 0)
      goto fail_alloc;
   inst->host_physical_devices = calloc(count ? count : 1, sizeof(VkPhysicalDevice));
   inst->physical_devices = calloc(count ? count : 1, sizeof(*inst->physical_devices));
   if (!inst->host_physical_devices || !inst->physical_devices)
      goto fail_alloc;
   if (inst->table.vkEnumeratePhysicalDevices(host, &count, inst->host_physical_devices) < 0)
      goto fail_alloc;
   inst->physical_device_count = count;

   inst->obj.base.id = id;
   inst->obj.base.type = VK_OBJECT_TYPE_INSTANCE;
   inst->obj.base.handle = (uint64_t)(uintptr_t)host;
   inst->obj.instance = inst;
   if (!vkr_dispatch_add_object(d, &inst->obj))
      goto fail_alloc;
   vu_lock_take(&ctx->object_lock);
   ctx->instance = inst;
   vu_lock_give(&ctx->object_lock);
   if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO, "context %u: instance 0x%llx, api %u.%u, %u physical devices",
              ctx->id, (unsigned long long)id, VK_API_VERSION_MAJOR(app.apiVersion),
              VK_API_VERSION_MINOR(app.apiVersion), count);
   return;

fail_alloc:
   free(inst->host_physical_devices);
   free(inst->physical_devices);
   free(inst);
fail_host:
   vkDestroyInstance(host, NULL);
   if (args->ret == VK_SUCCESS && !vp_decoder_is_fatal(d->dec))
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
}

static void
vkr_physical_device_destroy(struct vkr_context *ctx, struct vkr_physical_device *pd)
{
   vkr_context_unregister_object(ctx, &pd->obj);
   free(pd->queue_families);
   free(pd->exts);
   free(pd);
}

static void
vkr_collect_devices(uint64_t id, void *value, void *data)
{
   struct vkr_object *obj = value;
   struct vkr_object ***list = data;
   if (obj->base.type == VK_OBJECT_TYPE_DEVICE)
      *(*list)++ = obj;
}

void
vkr_instance_destroy(struct vkr_context *ctx, struct vkr_instance *inst)
{
   /* devices the guest left behind */
   vu_lock_take(&ctx->object_lock);
   const size_t n = ctx->objects.count;
   struct vkr_object **devices = calloc(n ? n : 1, sizeof(*devices));
   struct vkr_object **end = devices;
   if (devices)
      vu_idmap_foreach(&ctx->objects, vkr_collect_devices, &end);
   vu_lock_give(&ctx->object_lock);
   for (struct vkr_object **it = devices; it && it < end; it++) {
      vkr_log(VU_LOG_INFO, "context %u: destroying device 0x%llx left alive", ctx->id,
              (unsigned long long)(*it)->base.id);
      vkr_device_destroy(ctx, (struct vkr_device *)*it);
   }
   free(devices);

   for (uint32_t i = 0; i < inst->physical_device_count; i++) {
      if (inst->physical_devices[i])
         vkr_physical_device_destroy(ctx, inst->physical_devices[i]);
   }
   inst->table.vkDestroyInstance(inst->host, NULL);
   vkr_context_unregister_object(ctx, &inst->obj);
   vu_lock_take(&ctx->object_lock);
   if (ctx->instance == inst)
      ctx->instance = NULL;
   vu_lock_give(&ctx->object_lock);
   free(inst->host_physical_devices);
   free(inst->physical_devices);
   free(inst);
}

void
vkr_exec_vkDestroyInstance(struct vp_dispatch *d, struct vp_command_vkDestroyInstance *args)
{
   struct vkr_instance *inst = (struct vkr_instance *)(uintptr_t)args->instance;
   if (inst)
      vkr_instance_destroy(vkr_dispatch_context(d), inst);
}

/* ------------------------------------------------------------------ */
/* physical devices                                                    */

/* Extensions that need one we cannot carry (vk.xml "depends"; the model
 * does not record it). */
static const struct {
   const char *name;
   const char *needs;
} vkr_extension_deps[] = {
   { "VK_KHR_ray_tracing_pipeline", "VK_KHR_acceleration_structure" },
   { "VK_KHR_ray_query", "VK_KHR_acceleration_structure" },
   { "VK_KHR_ray_tracing_maintenance1", "VK_KHR_acceleration_structure" },
   { "VK_KHR_ray_tracing_position_fetch", "VK_KHR_acceleration_structure" },
   { "VK_EXT_opacity_micromap", "VK_KHR_acceleration_structure" },
   { "VK_NV_ray_tracing_motion_blur", "VK_KHR_ray_tracing_pipeline" },
};

bool
vkr_physical_device_has_extension(const struct vkr_physical_device *pd, const char *name)
{
   for (uint32_t i = 0; i < pd->ext_count; i++) {
      if (!strcmp(pd->exts[i].extensionName, name))
         return true;
   }
   return false;
}

static bool
vkr_ext_list_has(const VkExtensionProperties *exts, uint32_t count, const char *name)
{
   for (uint32_t i = 0; i < count; i++) {
      if (!strcmp(exts[i].extensionName, name))
         return true;
   }
   return false;
}

static bool
vkr_physical_device_init_extensions(struct vkr_context *ctx,
                                    struct vkr_instance *inst,
                                    struct vkr_physical_device *pd)
{
   uint32_t count = 0;
   if (inst->table.vkEnumerateDeviceExtensionProperties(pd->host, NULL, &count, NULL) < 0)
      return false;
   VkExtensionProperties *host = calloc(count ? count : 1, sizeof(*host));
   pd->exts = calloc(count ? count : 1, sizeof(*pd->exts));
   if (!host || !pd->exts) {
      free(host);
      return false;
   }
   if (inst->table.vkEnumerateDeviceExtensionProperties(pd->host, NULL, &count, host) < 0) {
      free(host);
      return false;
   }

   pd->has_external_memory_host = vkr_ext_list_has(host, count, "VK_EXT_external_memory_host");
   pd->has_external_memory_fd = vkr_ext_list_has(host, count, "VK_KHR_external_memory_fd");
   pd->has_external_fence_fd = vkr_ext_list_has(host, count, "VK_KHR_external_fence_fd");
   pd->has_external_semaphore_fd =
      vkr_ext_list_has(host, count, "VK_KHR_external_semaphore_fd");
   pd->has_deferred_host_operations =
      vkr_ext_list_has(host, count, "VK_KHR_deferred_host_operations");

   uint32_t n = 0;
   for (uint32_t i = 0; i < count; i++) {
      const char *name = host[i].extensionName;
      const struct vp_extension_info *info = vp_extension_lookup(name);
      if (!info || info->instance || info->driver_side)
         continue;
      const char *why = vkr_extension_unsupported_reason(info->number);
      if (why) {
         if (VU_DEBUG(INIT))
            vkr_log(VU_LOG_INFO, "context %u: device extension %s left out: %s", ctx->id,
                    name, why);
         continue;
      }
      pd->exts[n] = host[i];
      if (pd->exts[n].specVersion > info->spec_version)
         pd->exts[n].specVersion = info->spec_version;
      n++;
   }
   /* drop extensions whose prerequisite was dropped (until stable) */
   bool changed = true;
   while (changed) {
      changed = false;
      for (size_t k = 0; k < sizeof(vkr_extension_deps) / sizeof(vkr_extension_deps[0]); k++) {
         if (!vkr_ext_list_has(pd->exts, n, vkr_extension_deps[k].name) ||
             vkr_ext_list_has(pd->exts, n, vkr_extension_deps[k].needs))
            continue;
         for (uint32_t i = 0; i < n; i++) {
            if (!strcmp(pd->exts[i].extensionName, vkr_extension_deps[k].name)) {
               pd->exts[i] = pd->exts[--n];
               changed = true;
               break;
            }
         }
      }
   }
   pd->ext_count = n;
   if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO, "context %u: %s: %u of %u host device extensions exposed", ctx->id,
              pd->props.deviceName, n, count);
   free(host);
   return true;
}

static struct vkr_physical_device *
vkr_physical_device_create(struct vkr_context *ctx, struct vkr_instance *inst, uint32_t index)
{
   struct vkr_physical_device *pd = calloc(1, sizeof(*pd));
   if (!pd)
      return NULL;
   pd->host = inst->host_physical_devices[index];
   pd->obj.instance = inst;
   pd->obj.base.type = VK_OBJECT_TYPE_PHYSICAL_DEVICE;
   pd->obj.base.handle = (uint64_t)(uintptr_t)pd->host;

   inst->table.vkGetPhysicalDeviceProperties(pd->host, &pd->props);
   pd->props.apiVersion = vkr_cap_api_version(pd->props.apiVersion);
   inst->table.vkGetPhysicalDeviceQueueFamilyProperties(pd->host, &pd->queue_family_count,
                                                        NULL);
   pd->queue_families =
      calloc(pd->queue_family_count ? pd->queue_family_count : 1, sizeof(*pd->queue_families));
   if (!pd->queue_families)
      goto fail;
   inst->table.vkGetPhysicalDeviceQueueFamilyProperties(pd->host, &pd->queue_family_count,
                                                        pd->queue_families);
   if (!vkr_physical_device_init_extensions(ctx, inst, pd))
      goto fail;
   return pd;

fail:
   free(pd->queue_families);
   free(pd->exts);
   free(pd);
   return NULL;
}

void
vkr_exec_vkEnumeratePhysicalDevices(struct vp_dispatch *d,
                                    struct vp_command_vkEnumeratePhysicalDevices *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   struct vkr_instance *inst = (struct vkr_instance *)(uintptr_t)args->instance;
   const uint32_t total = inst->physical_device_count;

   if (!args->pPhysicalDevices) {
      *args->pPhysicalDeviceCount = total;
      args->ret = VK_SUCCESS;
      return;
   }
   const uint32_t n = *args->pPhysicalDeviceCount < total ? *args->pPhysicalDeviceCount : total;
   for (uint32_t i = 0; i < n; i++) {
      const uint64_t id = (uint64_t)(uintptr_t)args->pPhysicalDevices[i];
      struct vkr_physical_device *pd = inst->physical_devices[i];
      if (pd) {
         if (pd->obj.base.id != id) {
            vkr_dispatch_fatal(d, "physical device enumerated with a different id");
            return;
         }
         continue;
      }
      if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_PHYSICAL_DEVICE))
         return;
      pd = vkr_physical_device_create(ctx, inst, i);
      if (!pd) {
         args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
         return;
      }
      pd->obj.base.id = id;
      if (!vkr_dispatch_add_object(d, &pd->obj)) {
         free(pd->queue_families);
         free(pd->exts);
         free(pd);
         return;
      }
      inst->physical_devices[i] = pd;
   }
   *args->pPhysicalDeviceCount = n;
   args->ret = n < total ? VK_INCOMPLETE : VK_SUCCESS;
}

static struct vkr_physical_device *
vkr_instance_find_physical_device(struct vkr_instance *inst, VkPhysicalDevice host)
{
   for (uint32_t i = 0; i < inst->physical_device_count; i++) {
      if (inst->host_physical_devices[i] == host)
         return inst->physical_devices[i];
   }
   return NULL;
}

void
vkr_exec_vkEnumeratePhysicalDeviceGroups(struct vp_dispatch *d,
                                         struct vp_command_vkEnumeratePhysicalDeviceGroups *args)
{
   struct vkr_instance *inst = (struct vkr_instance *)(uintptr_t)args->instance;
   vp_replace_vkEnumeratePhysicalDeviceGroups_args_handles(args);
   args->ret = inst->table.vkEnumeratePhysicalDeviceGroups(
      args->instance, args->pPhysicalDeviceGroupCount, args->pPhysicalDeviceGroupProperties);
   if (args->ret < 0 || !args->pPhysicalDeviceGroupProperties)
      return;
   for (uint32_t i = 0; i < *args->pPhysicalDeviceGroupCount; i++) {
      VkPhysicalDeviceGroupProperties *g = &args->pPhysicalDeviceGroupProperties[i];
      const uint32_t n = g->physicalDeviceCount < VK_MAX_DEVICE_GROUP_SIZE
                            ? g->physicalDeviceCount
                            : VK_MAX_DEVICE_GROUP_SIZE;
      for (uint32_t j = 0; j < n; j++) {
         struct vkr_physical_device *pd =
            vkr_instance_find_physical_device(inst, g->physicalDevices[j]);
         if (!pd) {
            vkr_dispatch_fatal(d, "device groups enumerated before vkEnumeratePhysicalDevices");
            return;
         }
         g->physicalDevices[j] = (VkPhysicalDevice)(uintptr_t)pd->obj.base.id;
      }
      for (uint32_t j = n; j < VK_MAX_DEVICE_GROUP_SIZE; j++)
         g->physicalDevices[j] = VK_NULL_HANDLE;
   }
}

void
vkr_exec_vkGetPhysicalDeviceProperties(struct vp_dispatch *d,
                                       struct vp_command_vkGetPhysicalDeviceProperties *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   *args->pProperties = pd->props;
}

void
vkr_exec_vkGetPhysicalDeviceProperties2(struct vp_dispatch *d,
                                        struct vp_command_vkGetPhysicalDeviceProperties2 *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   vp_replace_vkGetPhysicalDeviceProperties2_args_handles(args);
   vk->vkGetPhysicalDeviceProperties2(args->physicalDevice, args->pProperties);
   args->pProperties->properties.apiVersion =
      vkr_cap_api_version(args->pProperties->properties.apiVersion);
}

void
vkr_exec_vkGetPhysicalDeviceMemoryProperties(
   struct vp_dispatch *d,
   struct vp_command_vkGetPhysicalDeviceMemoryProperties *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   vkr_physical_device_init_memory(pd);
   *args->pMemoryProperties = pd->memory;
}

void
vkr_exec_vkGetPhysicalDeviceMemoryProperties2(
   struct vp_dispatch *d,
   struct vp_command_vkGetPhysicalDeviceMemoryProperties2 *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   vkr_physical_device_init_memory(pd);
   vp_replace_vkGetPhysicalDeviceMemoryProperties2_args_handles(args);
   vk->vkGetPhysicalDeviceMemoryProperties2(args->physicalDevice, args->pMemoryProperties);
   args->pMemoryProperties->memoryProperties = pd->memory;
}

/* Format feature bits that belong to extensions this stack does not offer:
 * VK_NV_linear_color_attachment (not in Venus's extension table) and,
 * in a renderer built without its copy commands (a registry without
 * VK_EXT_host_image_copy: VK_MESA_venus_protocol spec version 1),
 * VK_EXT_host_image_copy. A guest must not see them. */
#ifndef VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT
#define VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT 0x400000000000ULL
#endif
static const VkFormatFeatureFlags2 vkr_hidden_format_features =
   VK_FORMAT_FEATURE_2_LINEAR_COLOR_ATTACHMENT_BIT_NV |
   (VP_VENUS_PROTOCOL_SPEC_VERSION >= 3 ? 0 : VK_FORMAT_FEATURE_2_HOST_IMAGE_TRANSFER_BIT_EXT);

void
vkr_exec_vkGetPhysicalDeviceFormatProperties2(
   struct vp_dispatch *d,
   struct vp_command_vkGetPhysicalDeviceFormatProperties2 *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   vp_replace_vkGetPhysicalDeviceFormatProperties2_args_handles(args);
   vk->vkGetPhysicalDeviceFormatProperties2(args->physicalDevice, args->format,
                                            args->pFormatProperties);
   for (VkBaseOutStructure *s = args->pFormatProperties->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_3) {
         VkFormatProperties3 *p3 = (VkFormatProperties3 *)s;
         p3->linearTilingFeatures &= ~vkr_hidden_format_features;
         p3->optimalTilingFeatures &= ~vkr_hidden_format_features;
         p3->bufferFeatures &= ~vkr_hidden_format_features;
      }
   }
}

/* A host with VK_NV_linear_color_attachment accepts linear color attachments
 * of formats whose linear features lack the core COLOR_ATTACHMENT bit; the
 * guest has no such extension, so for it those images are not supported. */
static bool
vkr_image_format_hidden(const struct vkr_physical_device *pd,
                        VkFormat format,
                        VkImageTiling tiling,
                        VkImageUsageFlags usage)
{
   if (tiling != VK_IMAGE_TILING_LINEAR ||
       !(usage & (VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT)))
      return false;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   VkFormatProperties props;
   vk->vkGetPhysicalDeviceFormatProperties(pd->host, format, &props);
   if (usage & VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT)
      return !(props.linearTilingFeatures & VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT);
   return !(props.linearTilingFeatures & (VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT |
                                          VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT));
}

void
vkr_exec_vkGetPhysicalDeviceImageFormatProperties(
   struct vp_dispatch *d,
   struct vp_command_vkGetPhysicalDeviceImageFormatProperties *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   if (vkr_image_format_hidden(pd, args->format, args->tiling, args->usage)) {
      memset(args->pImageFormatProperties, 0, sizeof(*args->pImageFormatProperties));
      args->ret = VK_ERROR_FORMAT_NOT_SUPPORTED;
      return;
   }
   vp_replace_vkGetPhysicalDeviceImageFormatProperties_args_handles(args);
   args->ret = vk->vkGetPhysicalDeviceImageFormatProperties(
      args->physicalDevice, args->format, args->type, args->tiling, args->usage, args->flags,
      args->pImageFormatProperties);
}

void
vkr_exec_vkGetPhysicalDeviceImageFormatProperties2(
   struct vp_dispatch *d,
   struct vp_command_vkGetPhysicalDeviceImageFormatProperties2 *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   const VkPhysicalDeviceImageFormatInfo2 *info = args->pImageFormatInfo;
   if (vkr_image_format_hidden(pd, info->format, info->tiling, info->usage)) {
      memset(&args->pImageFormatProperties->imageFormatProperties, 0,
             sizeof(args->pImageFormatProperties->imageFormatProperties));
      args->ret = VK_ERROR_FORMAT_NOT_SUPPORTED;
      return;
   }
   vp_replace_vkGetPhysicalDeviceImageFormatProperties2_args_handles(args);
   args->ret = vk->vkGetPhysicalDeviceImageFormatProperties2(
      args->physicalDevice, args->pImageFormatInfo, args->pImageFormatProperties);
}

/* The guest's sync files are its own (vtest syncs, transport.md §A.5): this
 * renderer only has to drop the payload an export transfers away, which it
 * does with a host sync-fd export where the host has one and otherwise by
 * waiting (vkResetFenceResourceMESA, vkWaitSemaphoreResourceMESA). So
 * SYNC_FD is always usable for fences and binary semaphores. */
void
vkr_exec_vkGetPhysicalDeviceExternalFenceProperties(
   struct vp_dispatch *d,
   struct vp_command_vkGetPhysicalDeviceExternalFenceProperties *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   vkr_physical_device_init_memory(pd); /* probes the host's sync fds */
   vp_replace_vkGetPhysicalDeviceExternalFenceProperties_args_handles(args);
   VkExternalFenceProperties *props = args->pExternalFenceProperties;
   vk->vkGetPhysicalDeviceExternalFenceProperties(args->physicalDevice, args->pExternalFenceInfo,
                                                  props);
   if (args->pExternalFenceInfo->handleType == VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT &&
       !pd->fence_sync_fd) {
      props->exportFromImportedHandleTypes = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT;
      props->compatibleHandleTypes = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT;
      props->externalFenceFeatures =
         VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT | VK_EXTERNAL_FENCE_FEATURE_IMPORTABLE_BIT;
   }
}

void
vkr_exec_vkGetPhysicalDeviceExternalSemaphoreProperties(
   struct vp_dispatch *d,
   struct vp_command_vkGetPhysicalDeviceExternalSemaphoreProperties *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   vkr_physical_device_init_memory(pd);
   const VkPhysicalDeviceExternalSemaphoreInfo *info = args->pExternalSemaphoreInfo;
   bool timeline = false;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO)
         timeline = ((const VkSemaphoreTypeCreateInfo *)s)->semaphoreType ==
                    VK_SEMAPHORE_TYPE_TIMELINE;
   }
   vp_replace_vkGetPhysicalDeviceExternalSemaphoreProperties_args_handles(args);
   VkExternalSemaphoreProperties *props = args->pExternalSemaphoreProperties;
   vk->vkGetPhysicalDeviceExternalSemaphoreProperties(args->physicalDevice, info, props);
   if (info->handleType == VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT && !timeline &&
       !pd->semaphore_sync_fd) {
      props->exportFromImportedHandleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT;
      props->compatibleHandleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT;
      props->externalSemaphoreFeatures = VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT |
                                         VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT;
   }
}

void
vkr_exec_vkEnumerateDeviceExtensionProperties(
   struct vp_dispatch *d,
   struct vp_command_vkEnumerateDeviceExtensionProperties *args)
{
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   if (args->pLayerName) {
      vkr_dispatch_fatal(d, "vkEnumerateDeviceExtensionProperties with a layer name");
      return;
   }
   if (!args->pProperties) {
      *args->pPropertyCount = pd->ext_count;
      args->ret = VK_SUCCESS;
      return;
   }
   const uint32_t n = *args->pPropertyCount < pd->ext_count ? *args->pPropertyCount : pd->ext_count;
   memcpy(args->pProperties, pd->exts, n * sizeof(*pd->exts));
   *args->pPropertyCount = n;
   args->ret = n < pd->ext_count ? VK_INCOMPLETE : VK_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* memory sharing probe                                                */

/* A throw-away device to ask the host which memory types can import our
 * memfds (vkGetMemoryHostPointerPropertiesEXT is a device command). */
struct vkr_probe {
   VkDevice dev;
   PFN_vkDestroyDevice DestroyDevice;
   PFN_vkGetMemoryHostPointerPropertiesEXT GetMemoryHostPointerProperties;
   PFN_vkAllocateMemory AllocateMemory;
   PFN_vkFreeMemory FreeMemory;
   PFN_vkGetMemoryFdKHR GetMemoryFd;
   PFN_vkMapMemory MapMemory;
   PFN_vkUnmapMemory UnmapMemory;
   bool sparse_binding; /* created with the sparseBinding feature */
   PFN_vkCreateBuffer CreateBuffer;
   PFN_vkDestroyBuffer DestroyBuffer;
   PFN_vkGetBufferMemoryRequirements GetBufferMemoryRequirements;
   PFN_vkCreateImage CreateImage;
   PFN_vkDestroyImage DestroyImage;
   PFN_vkGetImageMemoryRequirements GetImageMemoryRequirements;
};

static bool
vkr_probe_init(struct vkr_physical_device *pd, const char *ext, struct vkr_probe *p)
{
   const struct vkr_instance_table *vk = &pd->obj.instance->table;
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo queue = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = 0,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   /* sparseBinding where the host has it: the sparse-resource probe */
   VkPhysicalDeviceFeatures host_features = { 0 };
   vk->vkGetPhysicalDeviceFeatures(pd->host, &host_features);
   const VkPhysicalDeviceFeatures features = { .sparseBinding = host_features.sparseBinding };
   const VkDeviceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue,
      .enabledExtensionCount = 1,
      .ppEnabledExtensionNames = &ext,
      .pEnabledFeatures = &features,
   };
   memset(p, 0, sizeof(*p));
   if (vk->vkCreateDevice(pd->host, &info, NULL, &p->dev) != VK_SUCCESS)
      return false;
   p->sparse_binding = features.sparseBinding;
   const PFN_vkGetDeviceProcAddr gdpa = vkGetDeviceProcAddr;
   p->DestroyDevice = (PFN_vkDestroyDevice)gdpa(p->dev, "vkDestroyDevice");
   p->GetMemoryHostPointerProperties = (PFN_vkGetMemoryHostPointerPropertiesEXT)gdpa(
      p->dev, "vkGetMemoryHostPointerPropertiesEXT");
   p->AllocateMemory = (PFN_vkAllocateMemory)gdpa(p->dev, "vkAllocateMemory");
   p->FreeMemory = (PFN_vkFreeMemory)gdpa(p->dev, "vkFreeMemory");
   p->GetMemoryFd = (PFN_vkGetMemoryFdKHR)gdpa(p->dev, "vkGetMemoryFdKHR");
   p->MapMemory = (PFN_vkMapMemory)gdpa(p->dev, "vkMapMemory");
   p->UnmapMemory = (PFN_vkUnmapMemory)gdpa(p->dev, "vkUnmapMemory");
   p->CreateBuffer = (PFN_vkCreateBuffer)gdpa(p->dev, "vkCreateBuffer");
   p->DestroyBuffer = (PFN_vkDestroyBuffer)gdpa(p->dev, "vkDestroyBuffer");
   p->GetBufferMemoryRequirements =
      (PFN_vkGetBufferMemoryRequirements)gdpa(p->dev, "vkGetBufferMemoryRequirements");
   p->CreateImage = (PFN_vkCreateImage)gdpa(p->dev, "vkCreateImage");
   p->DestroyImage = (PFN_vkDestroyImage)gdpa(p->dev, "vkDestroyImage");
   p->GetImageMemoryRequirements =
      (PFN_vkGetImageMemoryRequirements)gdpa(p->dev, "vkGetImageMemoryRequirements");
   if (!p->DestroyDevice || !p->AllocateMemory || !p->FreeMemory) {
      if (p->DestroyDevice)
         p->DestroyDevice(p->dev, NULL);
      return false;
   }
   return true;
}

static uint32_t
vkr_probe_host_pointer(struct vkr_physical_device *pd, struct vkr_probe *p, size_t size)
{
   if (!p->GetMemoryHostPointerProperties)
      return 0;
   const int fd = vu_os_create_shm("venus-probe", size);
   if (fd < 0)
      return 0;
   void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   if (map == MAP_FAILED)
      return 0;

   VkMemoryHostPointerPropertiesEXT props = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
   };
   uint32_t bits = 0;
   if (p->GetMemoryHostPointerProperties(p->dev,
                                         VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
                                         map, &props) == VK_SUCCESS)
      bits = props.memoryTypeBits;
   /* trust but verify: import once per type */
   for (uint32_t i = 0; i < pd->host_memory.memoryTypeCount; i++) {
      if (!(bits & (1u << i)))
         continue;
      const VkImportMemoryHostPointerInfoEXT import = {
         .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
         .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
         .pHostPointer = map,
      };
      const VkMemoryAllocateInfo info = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
         .pNext = &import,
         .allocationSize = size,
         .memoryTypeIndex = i,
      };
      VkDeviceMemory mem;
      if (p->AllocateMemory(p->dev, &info, NULL, &mem) == VK_SUCCESS)
         p->FreeMemory(p->dev, mem, NULL);
      else
         bits &= ~(1u << i);
   }
   munmap(map, size);
   return bits;
}

/* The host memory types a sparse buffer or a sparse 2D image may be bound
 * to (0 without sparseBinding). */
static uint32_t
vkr_probe_sparse_types(struct vkr_probe *p)
{
   if (!p->sparse_binding || !p->CreateBuffer || !p->DestroyBuffer ||
       !p->GetBufferMemoryRequirements || !p->CreateImage || !p->DestroyImage ||
       !p->GetImageMemoryRequirements)
      return 0;
   uint32_t bits = 0;
   const VkBufferCreateInfo buffer_info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .flags = VK_BUFFER_CREATE_SPARSE_BINDING_BIT,
      .size = 65536,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
               VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
   };
   VkBuffer buffer;
   if (p->CreateBuffer(p->dev, &buffer_info, NULL, &buffer) == VK_SUCCESS) {
      VkMemoryRequirements reqs;
      p->GetBufferMemoryRequirements(p->dev, buffer, &reqs);
      bits |= reqs.memoryTypeBits;
      p->DestroyBuffer(p->dev, buffer, NULL);
   }
   const VkImageCreateInfo image_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .flags = VK_IMAGE_CREATE_SPARSE_BINDING_BIT,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .extent = { 64, 64, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
               VK_IMAGE_USAGE_SAMPLED_BIT,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VkImage image;
   if (p->CreateImage(p->dev, &image_info, NULL, &image) == VK_SUCCESS) {
      VkMemoryRequirements reqs;
      p->GetImageMemoryRequirements(p->dev, image, &reqs);
      bits |= reqs.memoryTypeBits;
      p->DestroyImage(p->dev, image, NULL);
   }
   return bits;
}

static uint32_t
vkr_probe_opaque_fd(struct vkr_physical_device *pd, struct vkr_probe *p)
{
   if (!p->GetMemoryFd)
      return 0;
   uint32_t bits = 0;
   const size_t size = 65536;
   for (uint32_t i = 0; i < pd->host_memory.memoryTypeCount; i++) {
      const VkMemoryPropertyFlags want =
         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      if ((pd->host_memory.memoryTypes[i].propertyFlags & want) != want)
         continue;
      const VkExportMemoryAllocateInfo export = {
         .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
         .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      };
      const VkMemoryAllocateInfo info = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
         .pNext = &export,
         .allocationSize = size,
         .memoryTypeIndex = i,
      };
      VkDeviceMemory mem;
      if (p->AllocateMemory(p->dev, &info, NULL, &mem) != VK_SUCCESS)
         continue;
      const VkMemoryGetFdInfoKHR get = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
         .memory = mem,
         .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      };
      int fd = -1;
      void *vk_map = NULL;
      if (p->GetMemoryFd(p->dev, &get, &fd) == VK_SUCCESS && fd >= 0 && p->MapMemory &&
          p->MapMemory(p->dev, mem, 0, VK_WHOLE_SIZE, 0, &vk_map) == VK_SUCCESS) {
         void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
         /* An opaque fd is opaque: only trust it if it aliases the memory
          * at offset 0 both ways (lavapipe's has a header in front). */
         if (map != MAP_FAILED) {
            volatile uint32_t *a = vk_map, *b = map;
            const size_t last = size / 4 - 1;
            a[0] = 0x56454e55u;
            a[last] = 0x53524e44u;
            b[1] = 0x4f504151u;
            if (b[0] == 0x56454e55u && b[last] == 0x53524e44u && a[1] == 0x4f504151u)
               bits |= 1u << i;
            munmap(map, size);
         }
         p->UnmapMemory(p->dev, mem);
      }
      if (fd >= 0)
         close(fd);
      p->FreeMemory(p->dev, mem, NULL);
   }
   return bits;
}

static void
vkr_probe_syncs(struct vkr_physical_device *pd)
{
   const struct vkr_instance_table *vk = &pd->obj.instance->table;
   if (pd->has_external_fence_fd && vk->vkGetPhysicalDeviceExternalFenceProperties) {
      const VkPhysicalDeviceExternalFenceInfo info = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_FENCE_INFO,
         .handleType = VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT,
      };
      VkExternalFenceProperties props = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_FENCE_PROPERTIES };
      vk->vkGetPhysicalDeviceExternalFenceProperties(pd->host, &info, &props);
      pd->fence_sync_fd = (props.externalFenceFeatures & VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT) &&
                          (props.exportFromImportedHandleTypes & VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT ||
                           props.compatibleHandleTypes & VK_EXTERNAL_FENCE_HANDLE_TYPE_SYNC_FD_BIT);
   }
   if (pd->has_external_semaphore_fd && vk->vkGetPhysicalDeviceExternalSemaphoreProperties) {
      const VkPhysicalDeviceExternalSemaphoreInfo info = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
         .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
      };
      VkExternalSemaphoreProperties props = {
         .sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES,
      };
      vk->vkGetPhysicalDeviceExternalSemaphoreProperties(pd->host, &info, &props);
      const VkExternalSemaphoreFeatureFlags want =
         VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT | VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT;
      pd->semaphore_sync_fd = (props.externalSemaphoreFeatures & want) == want;
   }
}

/* Sparse binding over memory imported from a host pointer is not something
 * a host driver has to get right, and Mesa's lavapipe (25.x) does not: it
 * binds a sparse resource by mapping the memory object's file over the
 * resource's range, and an imported host allocation has no such file
 * (docs/renderer.md "Memory types for sparse resources"). So each
 * host-pointer type that sparse resources may use gets a twin without the
 * host-visible bits, allocated natively; sparse resources report the twin in
 * its place. A twin goes before the first type whose flags strictly contain
 * its own (the spec's order of memory types; the host's order is kept). */
static void
vkr_physical_device_init_twins(struct vkr_physical_device *pd, uint32_t twin_host_bits)
{
   const uint32_t n = pd->memory.memoryTypeCount;
   pd->sparse_twin_host_bits = 0;
   pd->twin_guest_bits = 0;
   for (uint32_t i = 0; i < n; i++) {
      pd->guest_to_host[i] = (uint8_t)i;
      pd->host_to_guest[i] = (uint8_t)i;
      pd->host_to_twin[i] = (uint8_t)i;
   }
   twin_host_bits &= (n < 32 ? (1u << n) : 0u) - 1u;
   if (!twin_host_bits || VU_PERF(NO_SPARSE_TWINS))
      return;
   const uint32_t twins = (uint32_t)__builtin_popcount(twin_host_bits);
   if (n + twins > VK_MAX_MEMORY_TYPES) {
      vkr_log(VU_LOG_WARN,
              "%s: no room for %u sparse memory types: sparse resources keep "
              "host-pointer memory",
              pd->props.deviceName, twins);
      return;
   }
   const VkPhysicalDeviceMemoryProperties host_view = pd->memory; /* masked */
   VkPhysicalDeviceMemoryProperties *out = &pd->memory;
   uint32_t g = 0;
   for (uint32_t y = 0; y < n; y++) {
      const VkMemoryPropertyFlags fy = host_view.memoryTypes[y].propertyFlags;
      /* the twins whose place is before y */
      for (uint32_t j = 0; j < n; j++) {
         if (!(twin_host_bits & (1u << j)) || (pd->sparse_twin_host_bits & (1u << j)))
            continue;
         const VkMemoryPropertyFlags ft = host_view.memoryTypes[j].propertyFlags &
                                          ~(VkMemoryPropertyFlags)VKR_HOST_VISIBLE_BITS;
         if (y != j && ((ft & fy) != ft || ft == fy))
            continue;
         out->memoryTypes[g].propertyFlags = ft;
         out->memoryTypes[g].heapIndex = host_view.memoryTypes[j].heapIndex;
         pd->guest_to_host[g] = (uint8_t)j;
         pd->host_to_twin[j] = (uint8_t)g;
         pd->twin_guest_bits |= 1u << g;
         pd->sparse_twin_host_bits |= 1u << j;
         g++;
      }
      out->memoryTypes[g] = host_view.memoryTypes[y];
      pd->guest_to_host[g] = (uint8_t)y;
      pd->host_to_guest[y] = (uint8_t)g;
      g++;
   }
   out->memoryTypeCount = g;
   if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO, "%s: %u native memory types for sparse resources (host types 0x%x)",
              pd->props.deviceName, twins, twin_host_bits);
}

uint32_t
vkr_memory_type_bits_to_guest(const struct vkr_physical_device *pd, uint32_t host_bits, bool sparse)
{
   uint32_t out = 0;
   for (uint32_t j = 0; j < pd->host_memory.memoryTypeCount && j < VK_MAX_MEMORY_TYPES; j++) {
      if (!(host_bits & (1u << j)))
         continue;
      if (sparse && (pd->sparse_twin_host_bits & (1u << j)))
         out |= 1u << pd->host_to_twin[j];
      else
         out |= 1u << pd->host_to_guest[j];
   }
   return out;
}

static mtx_t vkr_memory_probe_mutex;
static once_flag vkr_memory_probe_once = ONCE_FLAG_INIT;

static void
vkr_memory_probe_mutex_init(void)
{
   mtx_init(&vkr_memory_probe_mutex, mtx_plain);
}

void
vkr_physical_device_init_memory(struct vkr_physical_device *pd)
{
   call_once(&vkr_memory_probe_once, vkr_memory_probe_mutex_init);
   mtx_lock(&vkr_memory_probe_mutex);
   if (pd->memory_ready) {
      mtx_unlock(&vkr_memory_probe_mutex);
      return;
   }
   const struct vkr_instance_table *vk = &pd->obj.instance->table;
   vk->vkGetPhysicalDeviceMemoryProperties(pd->host, &pd->host_memory);
   pd->memory = pd->host_memory;
   vkr_probe_syncs(pd);

   struct vkr_probe probe;
   uint32_t sparse_types = 0;
   if (pd->has_external_memory_host && !VU_PERF(NO_HOST_POINTER) &&
       vkr_probe_init(pd, "VK_EXT_external_memory_host", &probe)) {
      VkPhysicalDeviceExternalMemoryHostPropertiesEXT host_props = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
      };
      VkPhysicalDeviceProperties2 props2 = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
         .pNext = &host_props,
      };
      vk->vkGetPhysicalDeviceProperties2(pd->host, &props2);
      VkDeviceSize align = host_props.minImportedHostPointerAlignment;
      const long page = sysconf(_SC_PAGESIZE);
      if (align < (VkDeviceSize)page)
         align = (VkDeviceSize)page;
      if (align && !(align & (align - 1)) && align <= ((VkDeviceSize)1 << 30)) {
         pd->host_pointer_alignment = align;
         pd->host_pointer_type_bits = vkr_probe_host_pointer(pd, &probe, (size_t)align);
      }
      sparse_types = vkr_probe_sparse_types(&probe);
      probe.DestroyDevice(probe.dev, NULL);
   }
   if (!pd->host_pointer_type_bits && pd->has_external_memory_fd &&
       vkr_probe_init(pd, "VK_KHR_external_memory_fd", &probe)) {
      pd->opaque_fd_type_bits = vkr_probe_opaque_fd(pd, &probe);
      probe.DestroyDevice(probe.dev, NULL);
   }

   const uint32_t shareable = pd->host_pointer_type_bits | pd->opaque_fd_type_bits;
   uint32_t visible = 0;
   for (uint32_t i = 0; i < pd->memory.memoryTypeCount; i++) {
      VkMemoryPropertyFlags *flags = &pd->memory.memoryTypes[i].propertyFlags;
      if (!(*flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
         continue;
      if (shareable & (1u << i)) {
         visible |= 1u << i;
         continue;
      }
      vkr_log(VU_LOG_INFO,
              "%s: memory type %u (flags 0x%x) cannot be shared with the guest: "
              "host-visible bits cleared",
              pd->props.deviceName, i, (unsigned)*flags);
      *flags &= ~(VkMemoryPropertyFlags)VKR_HOST_VISIBLE_BITS;
   }
   if (!visible)
      vkr_log(VU_LOG_WARN,
              "%s: no host-visible memory type can be shared (no VK_EXT_external_memory_host "
              "and no mappable opaque fd): the guest gets no mappable memory",
              pd->props.deviceName);
   else if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO, "%s: shareable host-visible types 0x%x via %s (alignment %llu)",
              pd->props.deviceName, visible,
              pd->host_pointer_type_bits ? "host-pointer import of memfds"
                                         : "exported opaque fds",
              (unsigned long long)pd->host_pointer_alignment);
   vkr_physical_device_init_twins(pd, pd->host_pointer_type_bits & sparse_types);
   pd->memory_ready = true;
   mtx_unlock(&vkr_memory_probe_mutex);
}

/* ------------------------------------------------------------------ */
/* buffers and images: sparse resources get the native twins of memory
 * types (vkr_instance.c, docs/renderer.md "Memory types for sparse
 * resources"), every memoryTypeBits goes to the guest's numbering */

static struct vkr_object *
vkr_created_resource(struct vp_dispatch *d,
                     struct vkr_object *dev,
                     VkObjectType type,
                     uint64_t id,
                     uint64_t handle,
                     bool sparse)
{
   struct vkr_object *obj = vkr_dispatch_add_device_object(d, dev, type, id, handle);
   if (obj)
      obj->sparse = sparse;
   return obj;
}

/* ------------------------------------------------------------------ */
/* Resources over imported host memory. A buffer or image bound to memory
 * imported from a host pointer (every guest-mappable allocation of a
 * host-pointer type) must have been created with HOST_ALLOCATION among its
 * external handle types (VUID-vkBindBufferMemory-memory-02727,
 * VUID-vkBindImageMemory-memory-02729). The guest does not know of the
 * import, so the renderer adds VkExternalMemory{Buffer,Image}CreateInfo
 * itself, wherever the host reports the handle type importable for the
 * resource: every buffer that is neither sparse nor protected (on NVIDIA
 * such a buffer no longer accepts the BAR type, which the guest sees as
 * plain device-local memory and so does not miss), every linear image, and
 * every other image whose memory types include a host-pointer type (on
 * NVIDIA none: optimal images there never meet imported memory and stay as
 * they were).
 * Resources whose guest chain already names external handle types are
 * left as the guest made them (an empty list names none, and takes
 * HOST_ALLOCATION). The memory-requirement queries without a resource
 * (vkGetDevice*MemoryRequirements) see the same create info.
 *
 * Buffers get the chain late: on NVIDIA it makes the host's create and
 * destroy markedly slower (bench/README.md, issue 13 round 22), and most
 * short-lived buffers never meet imported memory. A buffer whose chain
 * from the guest is at most a VkBufferUsageFlags2CreateInfoKHR, without
 * capture-replay flags (its address may be queried before a bind) and with
 * at most VKR_BUFFER_SHAPE_FAMILIES queue families, is created without the
 * chain (chain_at_bind); a bind to memory imported from a host pointer
 * creates it again with the chain first, and destroys the first one. No
 * other command may name a buffer before its bind (the spec's "Resource
 * Memory Association": views, descriptor updates and recorded commands
 * need it bound; debug names and private data stay in the guest). The
 * requirements the guest sees for such a buffer hold for both: the memory
 * types both accept, the larger alignment and size (vkr_buffer_reqs_both).
 * VENUS_PERF=eager_host_chain gives every buffer its chain when created. */

#define VKR_HOST_ALLOCATION VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT

static bool
vkr_host_pointer_in_use(const struct vkr_device *dev)
{
   return dev->use_host_pointer && dev->physical_device->host_pointer_type_bits;
}

static bool
vkr_buffer_importable(struct vkr_decoder *dec,
                      const struct vkr_physical_device *pd,
                      const VkBufferCreateInfo *info)
{
   uint64_t usage = info->usage;
#ifdef VK_KHR_maintenance5
   const VkBufferUsageFlags2CreateInfoKHR *usage2 =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_BUFFER_USAGE_FLAGS_2_CREATE_INFO_KHR);
   VkBufferUsageFlags2CreateInfoKHR query_usage2;
   if (usage2) {
      usage = usage2->usage;
      query_usage2 = *usage2;
      query_usage2.pNext = NULL;
   }
#endif
   const size_t slots = sizeof(dec->buffer_import) / sizeof(dec->buffer_import[0]);
   const uint64_t key = usage ^ (usage >> 29) ^ info->flags;
   struct vkr_buffer_import_cache *entry =
      &dec->buffer_import[(key ^ (key >> 3) ^ (key >> 7)) % slots];
   if (entry->pd == pd && entry->usage == usage && entry->flags == info->flags)
      return entry->importable;

   VkPhysicalDeviceExternalBufferInfo query = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .flags = info->flags,
      .usage = info->usage,
      .handleType = VKR_HOST_ALLOCATION,
   };
#ifdef VK_KHR_maintenance5
   if (usage2)
      query.pNext = &query_usage2;
#endif
   VkExternalBufferProperties props = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES,
   };
   pd->obj.instance->table.vkGetPhysicalDeviceExternalBufferProperties(pd->host, &query, &props);
   const VkExternalMemoryProperties *ext = &props.externalMemoryProperties;
   *entry = (struct vkr_buffer_import_cache){
      .pd = pd,
      .usage = usage,
      .flags = info->flags,
      .importable = (ext->externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT) &&
                    (ext->compatibleHandleTypes & VKR_HOST_ALLOCATION),
   };
   return entry->importable;
}

/* whether a buffer may wait for its bind to get the chain (above) */
static bool
vkr_buffer_chain_deferrable(const struct vkr_device *dev, const VkBufferCreateInfo *info)
{
   VkBufferCreateFlags replay = VK_BUFFER_CREATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT;
#ifdef VK_EXT_descriptor_buffer
   replay |= VK_BUFFER_CREATE_DESCRIPTOR_BUFFER_CAPTURE_REPLAY_BIT_EXT;
#endif
   if (!dev->chain_at_bind || (info->flags & replay))
      return false;
   if (info->sharingMode == VK_SHARING_MODE_CONCURRENT &&
       (info->queueFamilyIndexCount > VKR_BUFFER_SHAPE_FAMILIES || !info->pQueueFamilyIndices))
      return false;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
#ifdef VK_KHR_maintenance5
      if (s->sType == VK_STRUCTURE_TYPE_BUFFER_USAGE_FLAGS_2_CREATE_INFO_KHR && !s->pNext)
         continue;
#endif
      return false;
   }
   return true;
}

/* `info`, or `*copy` with `*ext` in front of its chain when the buffer may
 * be bound to imported host memory: *at_bind (then `info` itself) when that
 * chain waits for the bind. Where the guest's chain has a
 * VkExternalMemoryBufferCreateInfo with an empty handle-type list, that
 * structure takes HOST_ALLOCATION instead (a second one in front would be
 * invalid); the chain was decoded into the renderer's own temporary storage,
 * so it may be written. */
static const VkBufferCreateInfo *
vkr_buffer_create_info(struct vp_dispatch *d,
                       const struct vkr_device *dev,
                       const VkBufferCreateInfo *info,
                       VkBufferCreateInfo *copy,
                       VkExternalMemoryBufferCreateInfo *ext,
                       bool *at_bind)
{
   const VkBufferCreateFlags never =
      VK_BUFFER_CREATE_SPARSE_BINDING_BIT | VK_BUFFER_CREATE_PROTECTED_BIT;
   *at_bind = false;
   if (!vkr_host_pointer_in_use(dev) || (info->flags & never))
      return info;
   const VkExternalMemoryBufferCreateInfo *guest =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO);
   if ((guest && guest->handleTypes) ||
       !vkr_buffer_importable(vkr_decoder_from_dispatch(d), dev->physical_device, info))
      return info;
   if (!guest && vkr_buffer_chain_deferrable(dev, info)) {
      *at_bind = true;
      return info;
   }
   if (guest) {
      VkExternalMemoryBufferCreateInfo *own =
         (VkExternalMemoryBufferCreateInfo *)(uintptr_t)guest;
      own->handleTypes = VKR_HOST_ALLOCATION;
      return info;
   }
   *ext = (VkExternalMemoryBufferCreateInfo){
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .pNext = info->pNext,
      .handleTypes = VKR_HOST_ALLOCATION,
   };
   *copy = *info;
   copy->pNext = ext;
   return copy;
}

/* whether an image of `info` may be bound to a host-pointer memory type
 * and the host can import HOST_ALLOCATION memory for it */
static bool
vkr_image_importable(const struct vkr_device *dev, const VkImageCreateInfo *info)
{
   const struct vkr_physical_device *pd = dev->physical_device;
   if (info->tiling == VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT ||
       vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_IMAGE_SWAPCHAIN_CREATE_INFO_KHR))
      return false; /* neither may be part of the queries below */
   if (info->tiling != VK_IMAGE_TILING_LINEAR) {
      /* optimal images: only where their memory types include one */
      const PFN_vkGetDeviceImageMemoryRequirements reqs_fn =
         dev->table.vkGetDeviceImageMemoryRequirements;
      if (!reqs_fn)
         return false;
      const VkDeviceImageMemoryRequirements query = {
         .sType = VK_STRUCTURE_TYPE_DEVICE_IMAGE_MEMORY_REQUIREMENTS,
         .pCreateInfo = info,
         .planeAspect = (info->flags & VK_IMAGE_CREATE_DISJOINT_BIT)
                           ? VK_IMAGE_ASPECT_PLANE_0_BIT
                           : (VkImageAspectFlagBits)0,
      };
      VkMemoryRequirements2 reqs = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2 };
      reqs_fn(dev->host, &query, &reqs);
      if (!(reqs.memoryRequirements.memoryTypeBits & pd->host_pointer_type_bits))
         return false;
   }
   const VkImageFormatListCreateInfo *list =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_IMAGE_FORMAT_LIST_CREATE_INFO);
   const VkImageStencilUsageCreateInfo *stencil =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_IMAGE_STENCIL_USAGE_CREATE_INFO);
   VkImageFormatListCreateInfo list_copy;
   VkImageStencilUsageCreateInfo stencil_copy;
   VkPhysicalDeviceExternalImageFormatInfo ext = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
      .handleType = VKR_HOST_ALLOCATION,
   };
   if (list) {
      list_copy = *list;
      list_copy.pNext = ext.pNext;
      ext.pNext = &list_copy;
   }
   if (stencil) {
      stencil_copy = *stencil;
      stencil_copy.pNext = ext.pNext;
      ext.pNext = &stencil_copy;
   }
   const VkPhysicalDeviceImageFormatInfo2 query = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
      .pNext = &ext,
      .format = info->format,
      .type = info->imageType,
      .tiling = info->tiling,
      .usage = info->usage,
      .flags = info->flags,
   };
   VkExternalImageFormatProperties ext_props = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES,
   };
   VkImageFormatProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
      .pNext = &ext_props,
   };
   if (pd->obj.instance->table.vkGetPhysicalDeviceImageFormatProperties2(pd->host, &query,
                                                                          &props) != VK_SUCCESS)
      return false;
   const VkExternalMemoryProperties *mem = &ext_props.externalMemoryProperties;
   return (mem->externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT) &&
          (mem->compatibleHandleTypes & VKR_HOST_ALLOCATION);
}

/* as vkr_buffer_create_info, for images */
static const VkImageCreateInfo *
vkr_image_create_info(const struct vkr_device *dev,
                      const VkImageCreateInfo *info,
                      VkImageCreateInfo *copy,
                      VkExternalMemoryImageCreateInfo *ext)
{
   const VkImageCreateFlags never =
      VK_IMAGE_CREATE_SPARSE_BINDING_BIT | VK_IMAGE_CREATE_PROTECTED_BIT;
   if (!vkr_host_pointer_in_use(dev) || (info->flags & never))
      return info;
   const VkExternalMemoryImageCreateInfo *guest =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO);
   if ((guest && guest->handleTypes) || !vkr_image_importable(dev, info))
      return info;
   if (guest) {
      VkExternalMemoryImageCreateInfo *own =
         (VkExternalMemoryImageCreateInfo *)(uintptr_t)guest;
      own->handleTypes = VKR_HOST_ALLOCATION;
      return info;
   }
   *ext = (VkExternalMemoryImageCreateInfo){
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
      .pNext = info->pNext,
      .handleTypes = VKR_HOST_ALLOCATION,
   };
   *copy = *info;
   copy->pNext = ext;
   return copy;
}

/* a buffer's create info without its chain (vkr_buffer_chain_deferrable) */
static void
vkr_buffer_shape_init(struct vkr_buffer_shape *shape, const VkBufferCreateInfo *info)
{
   *shape = (struct vkr_buffer_shape){
      .size = info->size,
      .usage = info->usage,
      .flags = info->flags,
      .concurrent = info->sharingMode == VK_SHARING_MODE_CONCURRENT,
   };
#ifdef VK_KHR_maintenance5
   const VkBufferUsageFlags2CreateInfoKHR *usage2 =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_BUFFER_USAGE_FLAGS_2_CREATE_INFO_KHR);
   if (usage2) {
      shape->has_usage2 = true;
      shape->usage2 = usage2->usage;
   }
#endif
   if (shape->concurrent) {
      shape->family_count = (uint8_t)info->queueFamilyIndexCount;
      for (uint32_t i = 0; i < info->queueFamilyIndexCount; i++)
         shape->families[i] = info->pQueueFamilyIndices[i];
   }
}

/* room for a VkBufferUsageFlags2CreateInfoKHR where the headers have one */
#ifdef VK_KHR_maintenance5
typedef VkBufferUsageFlags2CreateInfoKHR vkr_buffer_usage2_storage;
#else
typedef uint64_t vkr_buffer_usage2_storage;
#endif

/* the create info of `shape` with the host-allocation chain, in *info,
 * *usage2 and *ext */
static void
vkr_buffer_shape_chained(const struct vkr_buffer_shape *shape,
                         VkBufferCreateInfo *info,
                         vkr_buffer_usage2_storage *usage2,
                         VkExternalMemoryBufferCreateInfo *ext)
{
   *ext = (VkExternalMemoryBufferCreateInfo){
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VKR_HOST_ALLOCATION,
   };
#ifdef VK_KHR_maintenance5
   if (shape->has_usage2) {
      *usage2 = (VkBufferUsageFlags2CreateInfoKHR){
         .sType = VK_STRUCTURE_TYPE_BUFFER_USAGE_FLAGS_2_CREATE_INFO_KHR,
         .usage = shape->usage2,
      };
      ext->pNext = usage2;
   }
#else
   (void)usage2;
#endif
   *info = (VkBufferCreateInfo){
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = ext,
      .flags = shape->flags,
      .size = shape->size,
      .usage = shape->usage,
      .sharingMode = shape->concurrent ? VK_SHARING_MODE_CONCURRENT : VK_SHARING_MODE_EXCLUSIVE,
      .queueFamilyIndexCount = shape->concurrent ? shape->family_count : 0,
      .pQueueFamilyIndices = shape->concurrent ? shape->families : NULL,
   };
}

/* `*reqs` (and `*dedicated`, or NULL), a buffer's requirements without the
 * chain, made to hold also for the same buffer with it (`chained`, its
 * create info with the chain) */
static void
vkr_buffer_reqs_both(const struct vkr_device *dev,
                     const VkBufferCreateInfo *chained,
                     VkMemoryRequirements *reqs,
                     VkMemoryDedicatedRequirements *dedicated)
{
   VkMemoryDedicatedRequirements other_dedicated = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS,
   };
   VkMemoryRequirements2 other = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2,
      .pNext = dedicated ? &other_dedicated : NULL,
   };
   const VkDeviceBufferMemoryRequirements query = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_BUFFER_MEMORY_REQUIREMENTS,
      .pCreateInfo = chained,
   };
   dev->table.vkGetDeviceBufferMemoryRequirements(dev->host, &query, &other);
   const VkMemoryRequirements *o = &other.memoryRequirements;
   /* both accept at least one type in practice; if not, the chain's */
   if (reqs->memoryTypeBits & o->memoryTypeBits)
      reqs->memoryTypeBits &= o->memoryTypeBits;
   else
      reqs->memoryTypeBits = o->memoryTypeBits;
   if (o->alignment > reqs->alignment)
      reqs->alignment = o->alignment; /* powers of two */
   if (o->size > reqs->size)
      reqs->size = o->size;
   reqs->size = vkr_align_up(reqs->size, reqs->alignment);
   if (dedicated) {
      dedicated->prefersDedicatedAllocation |= other_dedicated.prefersDedicatedAllocation;
      dedicated->requiresDedicatedAllocation |= other_dedicated.requiresDedicatedAllocation;
   }
}

/* as vkr_buffer_reqs_both, for a buffer created without the chain */
static void
vkr_buffer_object_reqs(const struct vkr_object *buf,
                       VkMemoryRequirements *reqs,
                       VkMemoryDedicatedRequirements *dedicated)
{
   VkBufferCreateInfo info;
   vkr_buffer_usage2_storage usage2;
   VkExternalMemoryBufferCreateInfo ext;
   vkr_buffer_shape_chained(&buf->shape, &info, &usage2, &ext);
   vkr_buffer_reqs_both(buf->device, &info, reqs, dedicated);
}

/* Before a bind of `obj` (a buffer) to `memory` at `offset`: a buffer that
 * waits for its chain is created again with it where the memory was
 * imported from a host pointer, replacing the first one. */
static VkResult
vkr_buffer_before_bind(struct vkr_object *obj, const struct vkr_object *memory, VkDeviceSize offset)
{
   if (!obj || !obj->chain_at_bind || !memory ||
       !((const struct vkr_device_memory *)memory)->host_pointer)
      return VK_SUCCESS;
   const struct vkr_device_memory *mem = (const struct vkr_device_memory *)memory;
   struct vkr_device *dev = obj->device;
   VkBufferCreateInfo info;
   vkr_buffer_usage2_storage usage2;
   VkExternalMemoryBufferCreateInfo ext;
   vkr_buffer_shape_chained(&obj->shape, &info, &usage2, &ext);
   VkBuffer host = VK_NULL_HANDLE;
   const VkResult ret = dev->table.vkCreateBuffer(dev->host, &info, NULL, &host);
   if (ret != VK_SUCCESS)
      return ret;
   /* the guest's requirements held for this buffer too (vkr_buffer_reqs_both) */
   VkMemoryRequirements reqs;
   dev->table.vkGetBufferMemoryRequirements(dev->host, host, &reqs);
   const uint32_t host_type = dev->physical_device->guest_to_host[mem->type_index];
   if (!(reqs.memoryTypeBits & (1u << host_type)) || (offset & (reqs.alignment - 1)) ||
       offset > mem->size || reqs.size > mem->size - offset) {
      vkr_log(VU_LOG_ERROR,
              "context %u: buffer 0x%llx with the host-allocation chain does not fit memory "
              "type %u at offset %llu (alignment %llu, size %llu, types 0x%x)",
              dev->ctx->id, (unsigned long long)obj->base.id, host_type,
              (unsigned long long)offset, (unsigned long long)reqs.alignment,
              (unsigned long long)reqs.size, reqs.memoryTypeBits);
      dev->table.vkDestroyBuffer(dev->host, host, NULL);
      return VK_ERROR_OUT_OF_DEVICE_MEMORY;
   }
   /* under the object lock: a second ring binding the same buffer at the
    * same time (invalid, but a guest may) destroys its own new buffer */
   vu_lock_take(&dev->ctx->object_lock);
   const bool first = obj->chain_at_bind;
   const VkBuffer old = first ? (VkBuffer)(uintptr_t)obj->base.handle : host;
   if (first) {
      obj->base.handle = (uint64_t)(uintptr_t)host;
      obj->chain_at_bind = false;
   }
   vu_lock_give(&dev->ctx->object_lock);
   dev->table.vkDestroyBuffer(dev->host, old, NULL);
   if (first)
      atomic_fetch_add_explicit(&dev->rechained, 1, memory_order_relaxed);
   return VK_SUCCESS;
}

void
vkr_exec_vkBindBufferMemory(struct vp_dispatch *d, struct vp_command_vkBindBufferMemory *args)
{
   (void)d;
   const struct vkr_device_table *vk = vkr_object_device_table((const void *)args->device);
   args->ret = vkr_buffer_before_bind((struct vkr_object *)(uintptr_t)args->buffer,
                                      (const struct vkr_object *)(uintptr_t)args->memory,
                                      args->memoryOffset);
   if (args->ret != VK_SUCCESS)
      return;
   vp_replace_vkBindBufferMemory_args_handles(args);
   args->ret = vk->vkBindBufferMemory(args->device, args->buffer, args->memory, args->memoryOffset);
}

void
vkr_exec_vkBindBufferMemory2(struct vp_dispatch *d, struct vp_command_vkBindBufferMemory2 *args)
{
   const struct vkr_device_table *vk = vkr_object_device_table((const void *)args->device);
   if (!vk->vkBindBufferMemory2) {
      vkr_dispatch_fatal(d, "the host lacks vkBindBufferMemory2");
      return;
   }
   for (uint32_t i = 0; i < args->bindInfoCount; i++) {
      const VkBindBufferMemoryInfo *bind = &args->pBindInfos[i];
      args->ret = vkr_buffer_before_bind((struct vkr_object *)(uintptr_t)bind->buffer,
                                         (const struct vkr_object *)(uintptr_t)bind->memory,
                                         bind->memoryOffset);
      if (args->ret != VK_SUCCESS)
         return;
   }
   vp_replace_vkBindBufferMemory2_args_handles(args);
   args->ret = vk->vkBindBufferMemory2(args->device, args->bindInfoCount, args->pBindInfos);
}

void
vkr_exec_vkCreateBuffer(struct vp_dispatch *d, struct vp_command_vkCreateBuffer *args)
{
   struct vkr_object *dev = (struct vkr_object *)(uintptr_t)args->device;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pBuffer;
   const bool sparse = args->pCreateInfo->flags & VK_BUFFER_CREATE_SPARSE_BINDING_BIT;
   VkBufferCreateInfo copy;
   VkExternalMemoryBufferCreateInfo ext;
   bool at_bind;
   const VkBufferCreateInfo *info =
      vkr_buffer_create_info(d, dev->device, args->pCreateInfo, &copy, &ext, &at_bind);
   vp_replace_vkCreateBuffer_args_handles(args);
   args->ret = dev->device->table.vkCreateBuffer(args->device, info, NULL, args->pBuffer);
   if (args->ret == VK_SUCCESS) {
      struct vkr_object *buf = vkr_created_resource(
         d, dev, VK_OBJECT_TYPE_BUFFER, id, (uint64_t)(uintptr_t)*args->pBuffer, sparse);
      if (buf && at_bind) {
         buf->chain_at_bind = true;
         vkr_buffer_shape_init(&buf->shape, info);
      }
   }
   *args->pBuffer = (VkBuffer)(uintptr_t)id;
}

void
vkr_exec_vkCreateImage(struct vp_dispatch *d, struct vp_command_vkCreateImage *args)
{
   struct vkr_object *dev = (struct vkr_object *)(uintptr_t)args->device;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pImage;
   const bool sparse = args->pCreateInfo->flags & VK_IMAGE_CREATE_SPARSE_BINDING_BIT;
   VkImageCreateInfo copy;
   VkExternalMemoryImageCreateInfo ext;
   const VkImageCreateInfo *info = vkr_image_create_info(dev->device, args->pCreateInfo, &copy,
                                                         &ext);
   vp_replace_vkCreateImage_args_handles(args);
   args->ret = dev->device->table.vkCreateImage(args->device, info, NULL, args->pImage);
   if (args->ret == VK_SUCCESS) {
      struct vkr_object *image = vkr_created_resource(
         d, dev, VK_OBJECT_TYPE_IMAGE, id, (uint64_t)(uintptr_t)*args->pImage, sparse);
      if (image) {
         image->image_format = info->format;
         image->image_layers = info->arrayLayers;
         image->image_mips = info->mipLevels;
      }
   }
   *args->pImage = (VkImage)(uintptr_t)id;
}

static void
vkr_reqs_to_guest(const void *device, VkMemoryRequirements *reqs, bool sparse)
{
   const struct vkr_device *dev = ((const struct vkr_object *)device)->device;
   reqs->memoryTypeBits =
      vkr_memory_type_bits_to_guest(dev->physical_device, reqs->memoryTypeBits, sparse);
}

static bool
vkr_resource_is_sparse(const void *obj)
{
   return obj && ((const struct vkr_object *)obj)->sparse;
}

/* the VkMemoryDedicatedRequirements of a query's output chain, or NULL */
static VkMemoryDedicatedRequirements *
vkr_dedicated_reqs(VkMemoryRequirements2 *reqs)
{
   return (VkMemoryDedicatedRequirements *)(uintptr_t)vp_chain_find(
      reqs->pNext, VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS);
}

/* a buffer that waits for its host-allocation chain, or NULL */
static const struct vkr_object *
vkr_buffer_waiting(const void *buffer)
{
   const struct vkr_object *obj = buffer;
   return obj && obj->chain_at_bind ? obj : NULL;
}

void
vkr_exec_vkGetBufferMemoryRequirements(struct vp_dispatch *d,
                                       struct vp_command_vkGetBufferMemoryRequirements *args)
{
   (void)d;
   const void *device = (const void *)args->device;
   const bool sparse = vkr_resource_is_sparse((const void *)args->buffer);
   const struct vkr_object *waiting = vkr_buffer_waiting((const void *)args->buffer);
   vp_replace_vkGetBufferMemoryRequirements_args_handles(args);
   vkr_object_device_table(device)->vkGetBufferMemoryRequirements(args->device, args->buffer,
                                                                   args->pMemoryRequirements);
   if (waiting)
      vkr_buffer_object_reqs(waiting, args->pMemoryRequirements, NULL);
   vkr_reqs_to_guest(device, args->pMemoryRequirements, sparse);
}

void
vkr_exec_vkGetImageMemoryRequirements(struct vp_dispatch *d,
                                      struct vp_command_vkGetImageMemoryRequirements *args)
{
   (void)d;
   const void *device = (const void *)args->device;
   const bool sparse = vkr_resource_is_sparse((const void *)args->image);
   vp_replace_vkGetImageMemoryRequirements_args_handles(args);
   vkr_object_device_table(device)->vkGetImageMemoryRequirements(args->device, args->image,
                                                                  args->pMemoryRequirements);
   vkr_reqs_to_guest(device, args->pMemoryRequirements, sparse);
}

void
vkr_exec_vkGetBufferMemoryRequirements2(struct vp_dispatch *d,
                                        struct vp_command_vkGetBufferMemoryRequirements2 *args)
{
   const void *device = (const void *)args->device;
   const PFN_vkGetBufferMemoryRequirements2 fn =
      vkr_object_device_table(device)->vkGetBufferMemoryRequirements2;
   if (!fn) {
      vkr_dispatch_fatal(d, "the host lacks vkGetBufferMemoryRequirements2");
      return;
   }
   const bool sparse = vkr_resource_is_sparse((const void *)args->pInfo->buffer);
   const struct vkr_object *waiting = vkr_buffer_waiting((const void *)args->pInfo->buffer);
   vp_replace_vkGetBufferMemoryRequirements2_args_handles(args);
   fn(args->device, args->pInfo, args->pMemoryRequirements);
   if (waiting)
      vkr_buffer_object_reqs(waiting, &args->pMemoryRequirements->memoryRequirements,
                             vkr_dedicated_reqs(args->pMemoryRequirements));
   vkr_reqs_to_guest(device, &args->pMemoryRequirements->memoryRequirements, sparse);
}

void
vkr_exec_vkGetImageMemoryRequirements2(struct vp_dispatch *d,
                                       struct vp_command_vkGetImageMemoryRequirements2 *args)
{
   const void *device = (const void *)args->device;
   const PFN_vkGetImageMemoryRequirements2 fn =
      vkr_object_device_table(device)->vkGetImageMemoryRequirements2;
   if (!fn) {
      vkr_dispatch_fatal(d, "the host lacks vkGetImageMemoryRequirements2");
      return;
   }
   const bool sparse = vkr_resource_is_sparse((const void *)args->pInfo->image);
   vp_replace_vkGetImageMemoryRequirements2_args_handles(args);
   fn(args->device, args->pInfo, args->pMemoryRequirements);
   vkr_reqs_to_guest(device, &args->pMemoryRequirements->memoryRequirements, sparse);
}

void
vkr_exec_vkGetDeviceBufferMemoryRequirements(
   struct vp_dispatch *d,
   struct vp_command_vkGetDeviceBufferMemoryRequirements *args)
{
   const void *device = (const void *)args->device;
   const PFN_vkGetDeviceBufferMemoryRequirements fn =
      vkr_object_device_table(device)->vkGetDeviceBufferMemoryRequirements;
   if (!fn || !args->pInfo->pCreateInfo) {
      vkr_dispatch_fatal(d, "vkGetDeviceBufferMemoryRequirements: no host entry point or "
                            "no create info");
      return;
   }
   const bool sparse = args->pInfo->pCreateInfo->flags & VK_BUFFER_CREATE_SPARSE_BINDING_BIT;
   const struct vkr_device *dev = ((const struct vkr_object *)device)->device;
   VkBufferCreateInfo copy;
   VkExternalMemoryBufferCreateInfo ext;
   bool at_bind;
   VkDeviceBufferMemoryRequirements info = *args->pInfo;
   info.pCreateInfo = vkr_buffer_create_info(d, dev, info.pCreateInfo, &copy, &ext, &at_bind);
   vp_replace_vkGetDeviceBufferMemoryRequirements_args_handles(args);
   fn(args->device, &info, args->pMemoryRequirements);
   if (at_bind) {
      /* as for a buffer created of it: valid with the chain too */
      struct vkr_buffer_shape shape;
      VkBufferCreateInfo chained;
      vkr_buffer_usage2_storage usage2;
      vkr_buffer_shape_init(&shape, info.pCreateInfo);
      vkr_buffer_shape_chained(&shape, &chained, &usage2, &ext);
      vkr_buffer_reqs_both(dev, &chained, &args->pMemoryRequirements->memoryRequirements,
                           vkr_dedicated_reqs(args->pMemoryRequirements));
   }
   vkr_reqs_to_guest(device, &args->pMemoryRequirements->memoryRequirements, sparse);
}

void
vkr_exec_vkGetDeviceImageMemoryRequirements(
   struct vp_dispatch *d,
   struct vp_command_vkGetDeviceImageMemoryRequirements *args)
{
   const void *device = (const void *)args->device;
   const PFN_vkGetDeviceImageMemoryRequirements fn =
      vkr_object_device_table(device)->vkGetDeviceImageMemoryRequirements;
   if (!fn || !args->pInfo->pCreateInfo) {
      vkr_dispatch_fatal(d, "vkGetDeviceImageMemoryRequirements: no host entry point or "
                            "no create info");
      return;
   }
   const bool sparse = args->pInfo->pCreateInfo->flags & VK_IMAGE_CREATE_SPARSE_BINDING_BIT;
   VkImageCreateInfo copy;
   VkExternalMemoryImageCreateInfo ext;
   VkDeviceImageMemoryRequirements info = *args->pInfo;
   info.pCreateInfo = vkr_image_create_info(((const struct vkr_object *)device)->device,
                                            info.pCreateInfo, &copy, &ext);
   vp_replace_vkGetDeviceImageMemoryRequirements_args_handles(args);
   fn(args->device, &info, args->pMemoryRequirements);
   vkr_reqs_to_guest(device, &args->pMemoryRequirements->memoryRequirements, sparse);
}
