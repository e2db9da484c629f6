/*
 * Synchronisation through the driver without mapping any memory, so that it
 * also runs on renderers that cannot export memory (virglrenderer 0.10.4 with
 * lavapipe): fences, timeline semaphores, events, queue/device idle and query
 * results (which come back in replies or feedback, not through a mapping).
 *
 * usage: vn_sync_nomap            the checks; exit 0 when all pass
 *        vn_sync_nomap --lost     loops submissions and waits until the
 *                                 device is lost (the test kills the server);
 *                                 exit 0 on VK_ERROR_DEVICE_LOST
 * Prints deterministic result lines on stdout.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

static int failures;

#define CHECK(cond)                                                                      \
   do {                                                                                  \
      if (!(cond)) {                                                                     \
         fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
         failures++;                                                                     \
      }                                                                                  \
   } while (0)

#define VK(call)                                                                         \
   do {                                                                                  \
      VkResult r_ = (call);                                                              \
      if (r_ != VK_SUCCESS) {                                                            \
         fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #call, r_);      \
         exit(1);                                                                        \
      }                                                                                  \
   } while (0)

static VkDevice dev;
static int validation_errors;

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
              VkDebugUtilsMessageTypeFlagsEXT types,
              const VkDebugUtilsMessengerCallbackDataEXT *data,
              void *user)
{
   (void)types;
   (void)user;
   if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
      fprintf(stderr, "validation: %s\n", data->pMessage);
      validation_errors++;
   }
   return VK_FALSE;
}
static VkQueue queue;
static VkCommandPool pool;

static VkCommandBuffer
begin_cmd(void)
{
   const VkCommandBufferAllocateInfo ai = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd;
   VK(vkAllocateCommandBuffers(dev, &ai, &cmd));
   const VkCommandBufferBeginInfo bi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO };
   VK(vkBeginCommandBuffer(cmd, &bi));
   return cmd;
}

static int
lost_loop(VkCommandBuffer cmd, VkFence fence)
{
   for (long i = 0; i < 100000000; i++) {
      const VkSubmitInfo si = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
         .commandBufferCount = 1,
         .pCommandBuffers = &cmd,
      };
      VkResult r = vkQueueSubmit(queue, 1, &si, fence);
      if (r == VK_SUCCESS)
         r = vkWaitForFences(dev, 1, &fence, VK_TRUE, 5ull * 1000 * 1000 * 1000);
      if (r == VK_SUCCESS)
         r = vkResetFences(dev, 1, &fence);
      if (r == VK_ERROR_DEVICE_LOST) {
         printf("lost_after_iterations positive 1\n");
         return 0;
      }
      if (r != VK_SUCCESS) {
         fprintf(stderr, "unexpected result %d\n", r);
         return 1;
      }
   }
   fprintf(stderr, "the device was never lost\n");
   return 1;
}

int
main(int argc, char **argv)
{
   const bool lost_mode = argc > 1 && !strcmp(argv[1], "--lost");
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .apiVersion = VK_API_VERSION_1_3,
   };
   /* VKT_VALIDATION=1: the Khronos validation layer, any error fails */
   const char *env = getenv("VKT_VALIDATION");
   const bool validate = env && *env && strcmp(env, "0");
   const char *layer = "VK_LAYER_KHRONOS_validation";
   const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
   const VkDebugUtilsMessengerCreateInfoEXT dmci = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
      .pfnUserCallback = on_validation,
   };
   const VkInstanceCreateInfo ici = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pNext = validate ? &dmci : NULL,
      .pApplicationInfo = &app,
      .enabledLayerCount = validate ? 1 : 0,
      .ppEnabledLayerNames = &layer,
      .enabledExtensionCount = validate ? 1 : 0,
      .ppEnabledExtensionNames = &ext,
   };
   VkInstance inst;
   VK(vkCreateInstance(&ici, NULL, &inst));
   uint32_t n = 1;
   VkPhysicalDevice pdev;
   VkResult r = vkEnumeratePhysicalDevices(inst, &n, &pdev);
   if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || !n) {
      fprintf(stderr, "no device\n");
      return 1;
   }
   VkPhysicalDeviceVulkan12Features f12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .timelineSemaphore = VK_TRUE,
      .hostQueryReset = VK_TRUE,
   };
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo qci = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo dci = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = &f12,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qci,
   };
   VK(vkCreateDevice(pdev, &dci, NULL, &dev));
   vkGetDeviceQueue(dev, 0, 0, &queue);
   const VkCommandPoolCreateInfo pci = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO };
   VK(vkCreateCommandPool(dev, &pci, NULL, &pool));

   /* a device-local buffer the GPU fills (never mapped) */
   const VkBufferCreateInfo bci = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = 65536,
      .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   VkBuffer buf;
   VK(vkCreateBuffer(dev, &bci, NULL, &buf));
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(dev, buf, &reqs);
   const VkMemoryAllocateInfo mai = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex = (uint32_t)__builtin_ctz(reqs.memoryTypeBits),
   };
   VkDeviceMemory mem;
   VK(vkAllocateMemory(dev, &mai, NULL, &mem));
   VK(vkBindBufferMemory(dev, buf, mem, 0));

   const VkQueryPoolCreateInfo qpci = {
      .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
      .queryType = VK_QUERY_TYPE_TIMESTAMP,
      .queryCount = 2,
   };
   VkQueryPool qp;
   VK(vkCreateQueryPool(dev, &qpci, NULL, &qp));
   vkResetQueryPool(dev, qp, 0, 2);
   const VkEventCreateInfo eci = { .sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO };
   VkEvent event;
   VK(vkCreateEvent(dev, &eci, NULL, &event));

   VkCommandBuffer cmd = begin_cmd();
   vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, qp, 0);
   vkCmdFillBuffer(cmd, buf, 0, VK_WHOLE_SIZE, 0x12345678);
   vkCmdSetEvent(cmd, event, VK_PIPELINE_STAGE_TRANSFER_BIT);
   vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, qp, 1);
   VK(vkEndCommandBuffer(cmd));

   const VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence;
   VK(vkCreateFence(dev, &fci, NULL, &fence));

   if (lost_mode) {
      printf("ready\n");
      fflush(stdout);
      return lost_loop(cmd, fence);
   }

   CHECK(vkGetFenceStatus(dev, fence) == VK_NOT_READY);
   CHECK(vkGetEventStatus(dev, event) == VK_EVENT_RESET);

   /* timeline semaphore: signalled by the submission */
   const VkSemaphoreTypeCreateInfo stci = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
      .initialValue = 1,
   };
   const VkSemaphoreCreateInfo sci = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &stci };
   VkSemaphore timeline;
   VK(vkCreateSemaphore(dev, &sci, NULL, &timeline));
   uint64_t value = 0;
   VK(vkGetSemaphoreCounterValue(dev, timeline, &value));
   CHECK(value == 1);

   const uint64_t signal_value = 7;
   const VkTimelineSemaphoreSubmitInfo tsi = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .signalSemaphoreValueCount = 1,
      .pSignalSemaphoreValues = &signal_value,
   };
   const VkSubmitInfo si = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .pNext = &tsi,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &timeline,
   };
   VK(vkQueueSubmit(queue, 1, &si, fence));
   VK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 10ull * 1000 * 1000 * 1000));
   CHECK(vkGetFenceStatus(dev, fence) == VK_SUCCESS);
   const VkSemaphoreWaitInfo swi = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
      .semaphoreCount = 1,
      .pSemaphores = &timeline,
      .pValues = &signal_value,
   };
   VK(vkWaitSemaphores(dev, &swi, 10ull * 1000 * 1000 * 1000));
   VK(vkGetSemaphoreCounterValue(dev, timeline, &value));
   CHECK(value == 7);
   CHECK(vkGetEventStatus(dev, event) == VK_EVENT_SET);

   uint64_t ts[4] = { 0 };
   VK(vkGetQueryPoolResults(dev, qp, 0, 2, sizeof(ts), ts, 2 * sizeof(uint64_t),
                            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT |
                               VK_QUERY_RESULT_WAIT_BIT));
   CHECK(ts[1] == 1 && ts[3] == 1);
   CHECK(ts[2] >= ts[0]);

   /* host operations */
   VK(vkResetEvent(dev, event));
   CHECK(vkGetEventStatus(dev, event) == VK_EVENT_RESET);
   VK(vkSetEvent(dev, event));
   CHECK(vkGetEventStatus(dev, event) == VK_EVENT_SET);
   const VkSemaphoreSignalInfo ssi = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
      .semaphore = timeline,
      .value = 9,
   };
   VK(vkSignalSemaphore(dev, &ssi));
   VK(vkGetSemaphoreCounterValue(dev, timeline, &value));
   CHECK(value == 9);
   VK(vkResetFences(dev, 1, &fence));
   CHECK(vkGetFenceStatus(dev, fence) == VK_NOT_READY);
   CHECK(vkWaitForFences(dev, 1, &fence, VK_TRUE, 1000) == VK_TIMEOUT);

   /* resubmission of a simultaneous-use command buffer, then idle waits
    * (never sent to the renderer) */
   const VkCommandBufferAllocateInfo ai = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd2;
   VK(vkAllocateCommandBuffers(dev, &ai, &cmd2));
   const VkCommandBufferBeginInfo bi = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT,
   };
   VK(vkBeginCommandBuffer(cmd2, &bi));
   vkCmdFillBuffer(cmd2, buf, 0, 256, 0xabcdef01);
   VK(vkEndCommandBuffer(cmd2));
   for (int i = 0; i < 20; i++)
      VK(vkQueueSubmit(queue, 1, &(VkSubmitInfo){ .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                                                  .commandBufferCount = 1,
                                                  .pCommandBuffers = &cmd2 },
                       VK_NULL_HANDLE));
   VK(vkQueueWaitIdle(queue));
   VK(vkDeviceWaitIdle(dev));

   printf("nomap_timeline value %llu\n", (unsigned long long)value);
   printf("nomap_timestamps available %llu\n", (unsigned long long)(ts[1] + ts[3]));

   vkDestroySemaphore(dev, timeline, NULL);
   vkDestroyFence(dev, fence, NULL);
   vkDestroyEvent(dev, event, NULL);
   vkDestroyQueryPool(dev, qp, NULL);
   vkDestroyBuffer(dev, buf, NULL);
   vkFreeMemory(dev, mem, NULL);
   vkDestroyCommandPool(dev, pool, NULL);
   vkDestroyDevice(dev, NULL);
   vkDestroyInstance(inst, NULL);
   failures += validation_errors;
   fprintf(stderr, "vn_sync_nomap: %s (%d failed check(s))\n", failures ? "FAIL" : "PASS",
           failures);
   return failures ? 1 : 0;
}
