/*
 * vkt: instance and device setup with optional validation, result reporting,
 * buffer/image/pipeline helpers and host utilities for the test and benchmark
 * programs. See vkt.h for the conventions the programs follow.
 */
#include "vkt.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define VKT_VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"
#define VKT_MAX_LAYERS 64
#define VKT_MAX_SPIRV_BYTES (16u << 20)

/* Only the first device is used, but the loader wants room for all of them. */
#define VKT_MAX_PHYSICAL_DEVICES 16

/* --- results and errors --------------------------------------------------- */

bool
vkt_check(struct vkt_context *ctx, bool cond, const char *fmt, ...)
{
   if (cond)
      return true;

   va_list args;
   va_start(args, fmt);
   fprintf(stderr, "%s: check failed: ", ctx->name);
   vfprintf(stderr, fmt, args);
   fputc('\n', stderr);
   va_end(args);
   ctx->check_failures++;
   return false;
}

void
vkt_print_u64(const char *name, const char *unit, uint64_t value)
{
   printf("%s %s %" PRIu64 "\n", name, unit, value);
   fflush(stdout);
}

void
vkt_print_hex(const char *name, uint64_t value)
{
   printf("%s hex %016" PRIx64 "\n", name, value);
   fflush(stdout);
}

void
vkt_print_f64(const char *name, const char *unit, double value)
{
   printf("%s %s %.4f\n", name, unit, value);
   fflush(stdout);
}

uint64_t
vkt_digest_update(uint64_t digest, const void *data, size_t size)
{
   const uint8_t *bytes = data;
   for (size_t i = 0; i < size; i++) {
      digest ^= bytes[i];
      digest *= 0x100000001b3ull; /* FNV-1a 64-bit prime */
   }
   return digest;
}

const char *
vkt_result_string(VkResult result)
{
   switch (result) {
#define VKT_RESULT_CASE(r)                                                               \
   case r:                                                                               \
      return #r
      VKT_RESULT_CASE(VK_SUCCESS);
      VKT_RESULT_CASE(VK_NOT_READY);
      VKT_RESULT_CASE(VK_TIMEOUT);
      VKT_RESULT_CASE(VK_EVENT_SET);
      VKT_RESULT_CASE(VK_EVENT_RESET);
      VKT_RESULT_CASE(VK_INCOMPLETE);
      VKT_RESULT_CASE(VK_ERROR_OUT_OF_HOST_MEMORY);
      VKT_RESULT_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY);
      VKT_RESULT_CASE(VK_ERROR_INITIALIZATION_FAILED);
      VKT_RESULT_CASE(VK_ERROR_DEVICE_LOST);
      VKT_RESULT_CASE(VK_ERROR_MEMORY_MAP_FAILED);
      VKT_RESULT_CASE(VK_ERROR_LAYER_NOT_PRESENT);
      VKT_RESULT_CASE(VK_ERROR_EXTENSION_NOT_PRESENT);
      VKT_RESULT_CASE(VK_ERROR_FEATURE_NOT_PRESENT);
      VKT_RESULT_CASE(VK_ERROR_INCOMPATIBLE_DRIVER);
      VKT_RESULT_CASE(VK_ERROR_TOO_MANY_OBJECTS);
      VKT_RESULT_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED);
      VKT_RESULT_CASE(VK_ERROR_FRAGMENTED_POOL);
      VKT_RESULT_CASE(VK_ERROR_UNKNOWN);
      VKT_RESULT_CASE(VK_ERROR_OUT_OF_POOL_MEMORY);
      VKT_RESULT_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE);
      VKT_RESULT_CASE(VK_ERROR_FRAGMENTATION);
      VKT_RESULT_CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS);
#undef VKT_RESULT_CASE
   default:
      return "VkResult(unknown)";
   }
}

void
vkt_call_failed(VkResult result, const char *expr, const char *file, int line)
{
   fprintf(stderr, "%s:%d: %s returned %s (%d)\n", file, line, expr,
           vkt_result_string(result), (int)result);
   exit(1);
}

void
vkt_die(const char *fmt, ...)
{
   va_list args;
   va_start(args, fmt);
   vfprintf(stderr, fmt, args);
   fputc('\n', stderr);
   va_end(args);
   exit(1);
}

static void *
vkt_calloc(size_t count, size_t size)
{
   void *ptr = calloc(count, size);
   if (!ptr)
      vkt_die("out of host memory (%zu x %zu bytes)", count, size);
   return ptr;
}

/* --- instance and device -------------------------------------------------- */

static VKAPI_ATTR VkBool32 VKAPI_CALL
vkt_debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                   VkDebugUtilsMessageTypeFlagsEXT types,
                   const VkDebugUtilsMessengerCallbackDataEXT *data,
                   void *user_data)
{
   struct vkt_context *ctx = user_data;
   const char *kind = "info";

   if ((severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) &&
       ctx->invalid_on_purpose) {
      ctx->validation_expected++;
      kind = "error (expected: invalid on purpose)";
   } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
      ctx->validation_errors++;
      kind = "ERROR";
   } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
      ctx->validation_warnings++;
      kind = "warning";
   }
   fprintf(stderr, "%s: validation %s: %s\n", ctx->name, kind,
           data->pMessage ? data->pMessage : "(no message)");
   return VK_FALSE; /* never abort the call: the error is counted instead */
}

static bool
vkt_has_instance_layer(const char *name)
{
   VkLayerProperties layers[VKT_MAX_LAYERS];
   uint32_t count = VKT_MAX_LAYERS;
   /* VK_INCOMPLETE just means more layers than we look at */
   if (vkEnumerateInstanceLayerProperties(&count, layers) < 0)
      return false;
   for (uint32_t i = 0; i < count; i++) {
      if (!strcmp(layers[i].layerName, name))
         return true;
   }
   return false;
}

void
vkt_init(struct vkt_context *ctx, const char *name)
{
   vkt_init_with_extensions(ctx, name, NULL, 0);
}

void
vkt_init_with_extensions(struct vkt_context *ctx,
                         const char *name,
                         const char *const *extensions,
                         uint32_t extension_count)
{
   memset(ctx, 0, sizeof(*ctx));
   ctx->name = name;

   const char *validation = getenv("VKT_VALIDATION");
   const bool want_validation = validation && *validation && strcmp(validation, "0");
   const bool want_sync = want_validation && !strcmp(validation, "sync");
   if (want_validation && !vkt_has_instance_layer(VKT_VALIDATION_LAYER))
      vkt_die("%s: VKT_VALIDATION is set but %s is not installed", name,
              VKT_VALIDATION_LAYER);
   ctx->has_validation = want_validation;

   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = name,
      .applicationVersion = 1,
      .pEngineName = "vkt",
      .engineVersion = 1,
      .apiVersion = VK_API_VERSION_1_3,
   };
   const VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
      .pfnUserCallback = vkt_debug_callback,
      .pUserData = ctx,
   };
   const VkValidationFeatureEnableEXT sync_feature =
      VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
   const VkValidationFeaturesEXT features = {
      .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
      .pNext = &messenger_info,
      .enabledValidationFeatureCount = 1,
      .pEnabledValidationFeatures = &sync_feature,
   };
   const char *layer = VKT_VALIDATION_LAYER;
   const char *all_extensions[VKT_MAX_INSTANCE_EXTENSIONS + 1];
   uint32_t all_count = 0;
   for (uint32_t i = 0; i < extension_count && i < VKT_MAX_INSTANCE_EXTENSIONS; i++)
      all_extensions[all_count++] = extensions[i];
   VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   if (want_validation) {
      /* chained so that instance creation and destruction are covered too */
      info.pNext = want_sync ? (const void *)&features : (const void *)&messenger_info;
      info.enabledLayerCount = 1;
      info.ppEnabledLayerNames = &layer;
      all_extensions[all_count++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
   }
   info.enabledExtensionCount = all_count;
   info.ppEnabledExtensionNames = all_count ? all_extensions : NULL;
   VKT_CALL(vkCreateInstance(&info, NULL, &ctx->instance));

   if (want_validation) {
      PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
         (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            ctx->instance, "vkCreateDebugUtilsMessengerEXT");
      if (!create_messenger)
         vkt_die("%s: vkCreateDebugUtilsMessengerEXT is missing", name);
      VKT_CALL(create_messenger(ctx->instance, &messenger_info, NULL, &ctx->messenger));
   }

   VkPhysicalDevice devices[VKT_MAX_PHYSICAL_DEVICES];
   uint32_t count = VKT_MAX_PHYSICAL_DEVICES;
   const VkResult result = vkEnumeratePhysicalDevices(ctx->instance, &count, devices);
   if (result < 0 || count == 0)
      vkt_die("%s: no Vulkan physical device (%s)", name, vkt_result_string(result));
   ctx->physical_device = devices[0];

   vkGetPhysicalDeviceProperties(ctx->physical_device, &ctx->props);
   vkGetPhysicalDeviceMemoryProperties(ctx->physical_device, &ctx->mem_props);
   vkGetPhysicalDeviceFeatures(ctx->physical_device, &ctx->features);
   ctx->queue_family_count = VKT_MAX_QUEUE_FAMILIES;
   vkGetPhysicalDeviceQueueFamilyProperties(
      ctx->physical_device, &ctx->queue_family_count, ctx->queue_families);

   const uint32_t api = ctx->props.apiVersion;
   fprintf(stderr, "%s: device \"%s\", Vulkan %u.%u.%u%s\n", name, ctx->props.deviceName,
           VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api),
           VK_API_VERSION_PATCH(api),
           want_validation ? (want_sync ? ", validation+sync" : ", validation") : "");
}

bool
vkt_has_device_extension(const struct vkt_context *ctx, const char *name)
{
   uint32_t count = 0;
   if (vkEnumerateDeviceExtensionProperties(ctx->physical_device, NULL, &count, NULL) !=
       VK_SUCCESS)
      return false;
   VkExtensionProperties *exts = vkt_calloc(count ? count : 1, sizeof(*exts));
   bool found = false;
   if (vkEnumerateDeviceExtensionProperties(ctx->physical_device, NULL, &count, exts) >=
       0) {
      for (uint32_t i = 0; i < count && !found; i++)
         found = !strcmp(exts[i].extensionName, name);
   }
   free(exts);
   return found;
}

static VkCommandPool
vkt_command_pool_create(struct vkt_context *ctx, uint32_t family)
{
   const VkCommandPoolCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
      .queueFamilyIndex = family,
   };
   VkCommandPool pool;
   VKT_CALL(vkCreateCommandPool(ctx->device, &info, NULL, &pool));
   return pool;
}

void
vkt_device_init(struct vkt_context *ctx, const struct vkt_device_info *info)
{
   const struct vkt_device_info no_info = { 0 };
   if (!info)
      info = &no_info;

   const VkQueueFlags main_flags = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT;
   const VkQueueFlags any_flags = main_flags | VK_QUEUE_TRANSFER_BIT;
   ctx->queue_family = UINT32_MAX;
   for (uint32_t i = 0; i < ctx->queue_family_count; i++) {
      if ((ctx->queue_families[i].queueFlags & main_flags) == main_flags) {
         ctx->queue_family = i;
         break;
      }
   }
   if (ctx->queue_family == UINT32_MAX)
      vkt_die("%s: no queue family with graphics and compute", ctx->name);

   /* second queue: same family if it has two, else any other family */
   ctx->queue2_family = ctx->queue_family;
   uint32_t queue2_index = 0;
   if (info->want_second_queue) {
      if (ctx->queue_families[ctx->queue_family].queueCount >= 2) {
         queue2_index = 1;
      } else {
         for (uint32_t i = 0; i < ctx->queue_family_count; i++) {
            if (i != ctx->queue_family && ctx->queue_families[i].queueCount &&
                (ctx->queue_families[i].queueFlags & any_flags)) {
               ctx->queue2_family = i;
               break;
            }
         }
      }
   }
   ctx->has_distinct_queue2 = ctx->queue2_family != ctx->queue_family || queue2_index;

   const float priorities[2] = { 1.0f, 1.0f };
   VkDeviceQueueCreateInfo queues[2] = {
      {
         .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
         .queueFamilyIndex = ctx->queue_family,
         .queueCount = queue2_index + 1,
         .pQueuePriorities = priorities,
      },
      {
         .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
         .queueFamilyIndex = ctx->queue2_family,
         .queueCount = 1,
         .pQueuePriorities = priorities,
      },
   };
   const VkDeviceCreateInfo device_info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = info->next,
      .queueCreateInfoCount = ctx->queue2_family != ctx->queue_family ? 2 : 1,
      .pQueueCreateInfos = queues,
      .enabledExtensionCount = info->extension_count,
      .ppEnabledExtensionNames = info->extensions,
      .pEnabledFeatures = info->enabled_features,
   };
   VKT_CALL(vkCreateDevice(ctx->physical_device, &device_info, NULL, &ctx->device));

   vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
   vkGetDeviceQueue(ctx->device, ctx->queue2_family, queue2_index, &ctx->queue2);
   ctx->cmd_pool = vkt_command_pool_create(ctx, ctx->queue_family);
   ctx->cmd_pool2 = ctx->queue2_family != ctx->queue_family
                       ? vkt_command_pool_create(ctx, ctx->queue2_family)
                       : ctx->cmd_pool;
}

int
vkt_finish(struct vkt_context *ctx)
{
   if (ctx->device) {
      VKT_CALL(vkDeviceWaitIdle(ctx->device));
      if (ctx->cmd_pool2 != ctx->cmd_pool)
         vkDestroyCommandPool(ctx->device, ctx->cmd_pool2, NULL);
      vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
      vkDestroyDevice(ctx->device, NULL);
      ctx->device = VK_NULL_HANDLE;
   }
   if (ctx->messenger) {
      PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger =
         (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
      if (destroy_messenger)
         destroy_messenger(ctx->instance, ctx->messenger, NULL);
      ctx->messenger = VK_NULL_HANDLE;
   }
   vkDestroyInstance(ctx->instance, NULL);
   ctx->instance = VK_NULL_HANDLE;

   const bool ok = !ctx->check_failures && !ctx->validation_errors;
   fprintf(stderr, "%s: %s (%u failed check(s)", ctx->name, ok ? "PASS" : "FAIL",
           ctx->check_failures);
   if (ctx->has_validation)
      fprintf(stderr, ", %u validation error(s), %u warning(s)", ctx->validation_errors,
              ctx->validation_warnings);
   if (ctx->validation_expected)
      fprintf(stderr, ", %u expected", ctx->validation_expected);
   fprintf(stderr, ")\n");
   return ok ? 0 : 1;
}

/* --- memory, buffers, images ---------------------------------------------- */

uint32_t
vkt_memory_type(const struct vkt_context *ctx,
                uint32_t type_bits,
                VkMemoryPropertyFlags required,
                VkMemoryPropertyFlags preferred)
{
   const VkMemoryPropertyFlags both = required | preferred;
   for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount; i++) {
      const VkMemoryPropertyFlags flags = ctx->mem_props.memoryTypes[i].propertyFlags;
      if ((type_bits & (1u << i)) && (flags & both) == both)
         return i;
   }
   for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount; i++) {
      const VkMemoryPropertyFlags flags = ctx->mem_props.memoryTypes[i].propertyFlags;
      if ((type_bits & (1u << i)) && (flags & required) == required)
         return i;
   }
   return VKT_NO_MEMORY_TYPE;
}

static VkDeviceMemory
vkt_memory_allocate(struct vkt_context *ctx, VkDeviceSize size, uint32_t type)
{
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = size,
      .memoryTypeIndex = type,
   };
   VkDeviceMemory memory;
   VKT_CALL(vkAllocateMemory(ctx->device, &info, NULL, &memory));
   return memory;
}

static VkBuffer
vkt_buffer_create_handle(struct vkt_context *ctx,
                         VkDeviceSize size,
                         VkBufferUsageFlags usage)
{
   const uint32_t families[2] = { ctx->queue_family, ctx->queue2_family };
   const bool concurrent = ctx->queue2_family != ctx->queue_family;
   VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = size,
      .usage = usage,
      .sharingMode = concurrent ? VK_SHARING_MODE_CONCURRENT : VK_SHARING_MODE_EXCLUSIVE,
      .queueFamilyIndexCount = concurrent ? 2 : 0,
      .pQueueFamilyIndices = concurrent ? families : NULL,
   };
#ifdef VK_KHR_maintenance5
   const VkBufferUsageFlags2CreateInfoKHR usage2 = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_USAGE_FLAGS_2_CREATE_INFO_KHR,
      .usage = usage,
   };
   if (ctx->buffer_usage2) {
      info.pNext = &usage2;
      info.usage = 0;
   }
#endif
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(ctx->device, &info, NULL, &buffer));
   return buffer;
}

static void
vkt_buffer_bind(struct vkt_context *ctx,
                struct vkt_buffer *buf,
                const VkMemoryRequirements *reqs,
                uint32_t type)
{
   const VkMemoryPropertyFlags flags = ctx->mem_props.memoryTypes[type].propertyFlags;
   buf->memory_type = type;
   buf->memory = vkt_memory_allocate(ctx, reqs->size, type);
   buf->is_coherent = flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   VKT_CALL(vkBindBufferMemory(ctx->device, buf->buffer, buf->memory, 0));
   if (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
      VKT_CALL(vkMapMemory(ctx->device, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->map));
}

void
vkt_buffer_create(struct vkt_context *ctx,
                  VkDeviceSize size,
                  VkBufferUsageFlags usage,
                  enum vkt_mem mem,
                  struct vkt_buffer *out)
{
   memset(out, 0, sizeof(*out));
   out->size = size;
   out->buffer = vkt_buffer_create_handle(ctx, size, usage);

   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(ctx->device, out->buffer, &reqs);
   VkMemoryPropertyFlags required = 0, preferred = 0;
   switch (mem) {
   case VKT_MEM_DEVICE:
      preferred = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      break;
   case VKT_MEM_UPLOAD:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
      preferred = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      break;
   case VKT_MEM_READBACK:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
      preferred = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
      break;
   }
   const uint32_t type = vkt_memory_type(ctx, reqs.memoryTypeBits, required, preferred);
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("%s: no memory type for a buffer (bits 0x%x)", ctx->name,
              reqs.memoryTypeBits);
   vkt_buffer_bind(ctx, out, &reqs, type);
   if (mem == VKT_MEM_DEVICE && out->map) {
      vkUnmapMemory(ctx->device, out->memory);
      out->map = NULL;
   }
}

void
vkt_buffer_create_in_type(struct vkt_context *ctx,
                          VkDeviceSize size,
                          VkBufferUsageFlags usage,
                          uint32_t memory_type,
                          struct vkt_buffer *out)
{
   memset(out, 0, sizeof(*out));
   out->size = size;
   out->buffer = vkt_buffer_create_handle(ctx, size, usage);

   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(ctx->device, out->buffer, &reqs);
   if (!(reqs.memoryTypeBits & (1u << memory_type)))
      vkt_die("%s: memory type %u cannot back this buffer", ctx->name, memory_type);
   vkt_buffer_bind(ctx, out, &reqs, memory_type);
}

void
vkt_buffer_destroy(struct vkt_context *ctx, struct vkt_buffer *buf)
{
   if (buf->map)
      vkUnmapMemory(ctx->device, buf->memory);
   vkDestroyBuffer(ctx->device, buf->buffer, NULL);
   vkFreeMemory(ctx->device, buf->memory, NULL);
   memset(buf, 0, sizeof(*buf));
}

static void
vkt_buffer_mapped_range(const struct vkt_buffer *buf, VkMappedMemoryRange *range)
{
   *range = (VkMappedMemoryRange){
      .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
      .memory = buf->memory,
      .offset = 0,
      .size = VK_WHOLE_SIZE, /* the whole allocation is mapped */
   };
}

void
vkt_buffer_flush(struct vkt_context *ctx, const struct vkt_buffer *buf)
{
   if (buf->is_coherent)
      return;
   VkMappedMemoryRange range;
   vkt_buffer_mapped_range(buf, &range);
   VKT_CALL(vkFlushMappedMemoryRanges(ctx->device, 1, &range));
}

void
vkt_buffer_invalidate(struct vkt_context *ctx, const struct vkt_buffer *buf)
{
   if (buf->is_coherent)
      return;
   VkMappedMemoryRange range;
   vkt_buffer_mapped_range(buf, &range);
   VKT_CALL(vkInvalidateMappedMemoryRanges(ctx->device, 1, &range));
}

static VkImageAspectFlags
vkt_format_aspect(VkFormat format)
{
   switch (format) {
   case VK_FORMAT_D16_UNORM:
   case VK_FORMAT_X8_D24_UNORM_PACK32:
   case VK_FORMAT_D32_SFLOAT:
      return VK_IMAGE_ASPECT_DEPTH_BIT;
   case VK_FORMAT_S8_UINT:
      return VK_IMAGE_ASPECT_STENCIL_BIT;
   case VK_FORMAT_D16_UNORM_S8_UINT:
   case VK_FORMAT_D24_UNORM_S8_UINT:
   case VK_FORMAT_D32_SFLOAT_S8_UINT:
      return VK_IMAGE_ASPECT_DEPTH_BIT | VK_IMAGE_ASPECT_STENCIL_BIT;
   default:
      return VK_IMAGE_ASPECT_COLOR_BIT;
   }
}

void
vkt_image_create(struct vkt_context *ctx,
                 VkFormat format,
                 uint32_t width,
                 uint32_t height,
                 VkImageUsageFlags usage,
                 struct vkt_image *out)
{
   memset(out, 0, sizeof(*out));
   out->format = format;
   out->aspect = vkt_format_aspect(format);
   out->width = width;
   out->height = height;

   const uint32_t families[2] = { ctx->queue_family, ctx->queue2_family };
   const bool concurrent = ctx->queue2_family != ctx->queue_family;
   const VkImageCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = format,
      .extent = { width, height, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = usage,
      .sharingMode = concurrent ? VK_SHARING_MODE_CONCURRENT : VK_SHARING_MODE_EXCLUSIVE,
      .queueFamilyIndexCount = concurrent ? 2 : 0,
      .pQueueFamilyIndices = concurrent ? families : NULL,
      .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
   };
   VKT_CALL(vkCreateImage(ctx->device, &info, NULL, &out->image));

   VkMemoryRequirements reqs;
   vkGetImageMemoryRequirements(ctx->device, out->image, &reqs);
   const uint32_t type =
      vkt_memory_type(ctx, reqs.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
   if (type == VKT_NO_MEMORY_TYPE)
      vkt_die("%s: no memory type for an image (bits 0x%x)", ctx->name,
              reqs.memoryTypeBits);
   out->memory = vkt_memory_allocate(ctx, reqs.size, type);
   VKT_CALL(vkBindImageMemory(ctx->device, out->image, out->memory, 0));

   const VkImageUsageFlags view_usage =
      VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_STORAGE_BIT |
      VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT |
      VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT;
   if (!(usage & view_usage))
      return;
   const VkImageViewCreateInfo view_info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
      .image = out->image,
      .viewType = VK_IMAGE_VIEW_TYPE_2D,
      .format = format,
      .subresourceRange = { out->aspect, 0, 1, 0, 1 },
   };
   VKT_CALL(vkCreateImageView(ctx->device, &view_info, NULL, &out->view));
}

void
vkt_image_destroy(struct vkt_context *ctx, struct vkt_image *img)
{
   if (img->view)
      vkDestroyImageView(ctx->device, img->view, NULL);
   vkDestroyImage(ctx->device, img->image, NULL);
   vkFreeMemory(ctx->device, img->memory, NULL);
   memset(img, 0, sizeof(*img));
}

/* --- commands ------------------------------------------------------------- */

VkCommandBuffer
vkt_cmd_begin_in(struct vkt_context *ctx, VkCommandPool pool, VkCommandBufferUsageFlags flags)
{
   const VkCommandBufferAllocateInfo alloc = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd;
   VKT_CALL(vkAllocateCommandBuffers(ctx->device, &alloc, &cmd));
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = flags,
   };
   VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
   return cmd;
}

VkSemaphore
vkt_semaphore_create(struct vkt_context *ctx, VkSemaphoreType type, uint64_t initial)
{
   const VkSemaphoreTypeCreateInfo type_info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
      .semaphoreType = type,
      .initialValue = initial,
   };
   const VkSemaphoreCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
      .pNext = &type_info,
   };
   VkSemaphore sem;
   VKT_CALL(vkCreateSemaphore(ctx->device, &info, NULL, &sem));
   return sem;
}

VkCommandBuffer
vkt_cmd_begin(struct vkt_context *ctx)
{
   return vkt_cmd_begin_in(ctx, ctx->cmd_pool, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT);
}

void
vkt_queue_submit_wait(struct vkt_context *ctx, VkQueue queue, VkCommandBuffer cmd)
{
   const VkFenceCreateInfo fence_info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   VKT_CALL(vkCreateFence(ctx->device, &fence_info, NULL, &fence));
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   VKT_CALL(vkQueueSubmit(queue, 1, &submit, fence));
   VKT_CALL(vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, UINT64_MAX));
   vkDestroyFence(ctx->device, fence, NULL);
}

void
vkt_cmd_submit_wait(struct vkt_context *ctx, VkCommandBuffer cmd)
{
   VKT_CALL(vkEndCommandBuffer(cmd));
   vkt_queue_submit_wait(ctx, ctx->queue, cmd);
   vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &cmd);
}

void
vkt_cmd_image_barrier(VkCommandBuffer cmd,
                      const struct vkt_image *img,
                      VkImageLayout old_layout,
                      VkImageLayout new_layout,
                      VkPipelineStageFlags src_stage,
                      VkAccessFlags src_access,
                      VkPipelineStageFlags dst_stage,
                      VkAccessFlags dst_access)
{
   const VkImageMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
      .srcAccessMask = src_access,
      .dstAccessMask = dst_access,
      .oldLayout = old_layout,
      .newLayout = new_layout,
      .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
      .image = img->image,
      .subresourceRange = { img->aspect, 0, 1, 0, 1 },
   };
   vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &barrier);
}

void
vkt_cmd_memory_barrier(VkCommandBuffer cmd,
                       VkPipelineStageFlags src_stage,
                       VkAccessFlags src_access,
                       VkPipelineStageFlags dst_stage,
                       VkAccessFlags dst_access)
{
   const VkMemoryBarrier barrier = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
      .srcAccessMask = src_access,
      .dstAccessMask = dst_access,
   };
   vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &barrier, 0, NULL, 0, NULL);
}

/* --- shaders and pipelines ------------------------------------------------ */

static bool
vkt_read_file(const char *path, void **out_data, size_t *out_size)
{
   FILE *file = fopen(path, "rb");
   if (!file)
      return false;
   bool ok = false;
   void *data = NULL;
   long size = -1;
   if (!fseek(file, 0, SEEK_END))
      size = ftell(file);
   if (size > 0 && (unsigned long)size <= VKT_MAX_SPIRV_BYTES &&
       !fseek(file, 0, SEEK_SET)) {
      data = vkt_calloc(1, (size_t)size);
      ok = fread(data, 1, (size_t)size, file) == (size_t)size;
   }
   fclose(file);
   if (!ok) {
      free(data);
      return false;
   }
   *out_data = data;
   *out_size = (size_t)size;
   return true;
}

/* Directory of the running executable, with a trailing '/'. */
static bool
vkt_exe_dir(char *buf, size_t size)
{
   const ssize_t len = readlink("/proc/self/exe", buf, size - 1);
   if (len <= 0)
      return false;
   buf[len] = '\0';
   char *slash = strrchr(buf, '/');
   if (!slash)
      return false;
   slash[1] = '\0';
   return true;
}

uint32_t *
vkt_shader_read(struct vkt_context *ctx, const char *name, size_t *out_size)
{
   char path[PATH_MAX];
   const char *dir = getenv("VKT_SHADER_DIR");
   char exe_dir[PATH_MAX];

   if (strchr(name, '/'))
      snprintf(path, sizeof(path), "%s", name);
   else if (dir && *dir)
      snprintf(path, sizeof(path), "%s/%s", dir, name);
   else if (vkt_exe_dir(exe_dir, sizeof(exe_dir)))
      snprintf(path, sizeof(path), "%s%s", exe_dir, name);
   else
      snprintf(path, sizeof(path), "%s", name);

   void *code;
   size_t size;
   if (!vkt_read_file(path, &code, &size))
      vkt_die("%s: cannot read SPIR-V file %s: %s", ctx->name, path, strerror(errno));
   if (size % 4)
      vkt_die("%s: %s is not SPIR-V (size %zu)", ctx->name, path, size);
   *out_size = size;
   return code;
}

VkShaderModule
vkt_shader_load(struct vkt_context *ctx, const char *name)
{
   size_t size;
   uint32_t *code = vkt_shader_read(ctx, name, &size);
   const VkShaderModuleCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = size,
      .pCode = code,
   };
   VkShaderModule module;
   VKT_CALL(vkCreateShaderModule(ctx->device, &info, NULL, &module));
   free(code);
   return module;
}

VkPipeline
vkt_compute_pipeline_create(struct vkt_context *ctx,
                            VkShaderModule module,
                            VkPipelineLayout layout,
                            const VkSpecializationInfo *spec)
{
   const VkComputePipelineCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_COMPUTE_BIT,
         .module = module,
         .pName = "main",
         .pSpecializationInfo = spec,
      },
      .layout = layout,
   };
   VkPipeline pipeline;
   VKT_CALL(
      vkCreateComputePipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, &pipeline));
   return pipeline;
}

VkRenderPass
vkt_render_pass_create(struct vkt_context *ctx,
                       VkFormat color_format,
                       VkFormat depth_format)
{
   const bool has_depth = depth_format != VK_FORMAT_UNDEFINED;
   const VkAttachmentDescription attachments[2] = {
      {
         .format = color_format,
         .samples = VK_SAMPLE_COUNT_1_BIT,
         .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
         .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
         .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
         .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
         .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
         .finalLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
      },
      {
         .format = depth_format,
         .samples = VK_SAMPLE_COUNT_1_BIT,
         .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
         .storeOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
         .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
         .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
         .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
         .finalLayout = VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL,
      },
   };
   const VkAttachmentReference color_ref = { 0,
                                             VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL };
   const VkAttachmentReference depth_ref = {
      1, VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL
   };
   const VkSubpassDescription subpass = {
      .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
      .colorAttachmentCount = 1,
      .pColorAttachments = &color_ref,
      .pDepthStencilAttachment = has_depth ? &depth_ref : NULL,
   };
   const VkPipelineStageFlags attachment_stages =
      VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT |
      VK_PIPELINE_STAGE_EARLY_FRAGMENT_TESTS_BIT |
      VK_PIPELINE_STAGE_LATE_FRAGMENT_TESTS_BIT;
   const VkSubpassDependency deps[2] = {
      /* earlier uses of the attachments (a previous frame's render pass or its
       * copy out) finish before this one clears them */
      {
         .srcSubpass = VK_SUBPASS_EXTERNAL,
         .dstSubpass = 0,
         .srcStageMask = attachment_stages | VK_PIPELINE_STAGE_TRANSFER_BIT,
         .dstStageMask = attachment_stages,
         .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT |
                          VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT,
         .dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT |
                          VK_ACCESS_COLOR_ATTACHMENT_READ_BIT |
                          VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT |
                          VK_ACCESS_DEPTH_STENCIL_ATTACHMENT_READ_BIT,
      },
      /* the color result is copied out after the render pass */
      {
         .srcSubpass = 0,
         .dstSubpass = VK_SUBPASS_EXTERNAL,
         .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
         .dstStageMask = VK_PIPELINE_STAGE_TRANSFER_BIT,
         .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
         .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT,
      },
   };
   const VkRenderPassCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
      .attachmentCount = has_depth ? 2 : 1,
      .pAttachments = attachments,
      .subpassCount = 1,
      .pSubpasses = &subpass,
      .dependencyCount = 2,
      .pDependencies = deps,
   };
   VkRenderPass render_pass;
   VKT_CALL(vkCreateRenderPass(ctx->device, &info, NULL, &render_pass));
   return render_pass;
}

VkFramebuffer
vkt_framebuffer_create(struct vkt_context *ctx,
                       VkRenderPass render_pass,
                       const struct vkt_image *color,
                       const struct vkt_image *depth)
{
   const VkImageView views[2] = { color->view, depth ? depth->view : VK_NULL_HANDLE };
   const VkFramebufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
      .renderPass = render_pass,
      .attachmentCount = depth ? 2 : 1,
      .pAttachments = views,
      .width = color->width,
      .height = color->height,
      .layers = 1,
   };
   VkFramebuffer framebuffer;
   VKT_CALL(vkCreateFramebuffer(ctx->device, &info, NULL, &framebuffer));
   return framebuffer;
}

VkPipeline
vkt_graphics_pipeline_create(struct vkt_context *ctx,
                             const struct vkt_graphics_desc *desc)
{
   const VkPipelineShaderStageCreateInfo stages[2] = {
      {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_VERTEX_BIT,
         .module = desc->vert,
         .pName = "main",
      },
      {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
         .module = desc->frag,
         .pName = "main",
         .pSpecializationInfo = desc->frag_spec,
      },
   };
   const VkPipelineVertexInputStateCreateInfo no_vertex_input = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO,
   };
   const VkPipelineInputAssemblyStateCreateInfo input_assembly = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
      .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
   };
   const VkViewport viewport = {
      .width = (float)desc->width,
      .height = (float)desc->height,
      .maxDepth = 1.0f,
   };
   const VkRect2D scissor = { { 0, 0 }, { desc->width, desc->height } };
   const VkPipelineViewportStateCreateInfo viewport_state = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
      .viewportCount = 1,
      .pViewports = &viewport,
      .scissorCount = 1,
      .pScissors = &scissor,
   };
   const VkPipelineRasterizationStateCreateInfo raster = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
      .polygonMode = VK_POLYGON_MODE_FILL,
      .cullMode = VK_CULL_MODE_NONE,
      .frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
      .lineWidth = 1.0f,
   };
   const VkPipelineMultisampleStateCreateInfo multisample = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
      .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT,
   };
   const VkPipelineDepthStencilStateCreateInfo depth = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO,
      .depthTestEnable = desc->depth_test,
      .depthWriteEnable = desc->depth_test,
      .depthCompareOp = VK_COMPARE_OP_LESS,
   };
   const VkPipelineColorBlendAttachmentState blend_attachment = {
      .colorWriteMask = VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT |
                        VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT,
   };
   const VkPipelineColorBlendStateCreateInfo blend = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
      .attachmentCount = 1,
      .pAttachments = &blend_attachment,
   };
   const VkGraphicsPipelineCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
      .stageCount = 2,
      .pStages = stages,
      .pVertexInputState = desc->vertex_input ? desc->vertex_input : &no_vertex_input,
      .pInputAssemblyState = &input_assembly,
      .pViewportState = &viewport_state,
      .pRasterizationState = &raster,
      .pMultisampleState = &multisample,
      .pDepthStencilState = &depth,
      .pColorBlendState = &blend,
      .layout = desc->layout,
      .renderPass = desc->render_pass,
      .subpass = 0,
   };
   VkPipeline pipeline;
   VKT_CALL(
      vkCreateGraphicsPipelines(ctx->device, VK_NULL_HANDLE, 1, &info, NULL, &pipeline));
   return pipeline;
}

/* --- host utilities ------------------------------------------------------- */

uint64_t
vkt_now_ns(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long
vkt_peak_rss_kib(void)
{
   struct rusage usage;
   if (getrusage(RUSAGE_SELF, &usage))
      return -1;
   return usage.ru_maxrss; /* KiB on Linux */
}

bool
vkt_write_ppm(const char *path,
              uint32_t width,
              uint32_t height,
              const uint8_t *rgba,
              size_t row_pitch)
{
   FILE *file = fopen(path, "wb");
   if (!file)
      return false;
   bool ok = fprintf(file, "P6\n%u %u\n255\n", width, height) > 0;
   uint8_t *row = vkt_calloc(width ? width : 1, 3);
   for (uint32_t y = 0; ok && y < height; y++) {
      const uint8_t *src = rgba + (size_t)y * row_pitch;
      for (uint32_t x = 0; x < width; x++)
         memcpy(row + 3 * x, src + 4 * x, 3);
      ok = fwrite(row, 3, width, file) == width;
   }
   free(row);
   return !fclose(file) && ok;
}

bool
vkt_write_raw(const char *path, const void *data, size_t size)
{
   FILE *file = fopen(path, "wb");
   if (!file)
      return false;
   const bool ok = fwrite(data, 1, size, file) == size;
   return !fclose(file) && ok;
}

char *
vkt_output_path(const char *argv_path, const char *file_name)
{
   const char *dir = getenv("VKT_OUTPUT_DIR");
   char *path;

   if (argv_path) {
      path = strdup(argv_path);
   } else if (dir && *dir) {
      const size_t len = strlen(dir) + strlen(file_name) + 2;
      path = vkt_calloc(1, len);
      snprintf(path, len, "%s/%s", dir, file_name);
   } else {
      return NULL;
   }
   if (!path)
      vkt_die("out of host memory");
   return path;
}
