/*
 * For the fuzz targets that run a renderer in-process: a Vulkan instance of
 * the target's own keeps the host's drivers loaded for the whole run. The
 * renderer's instances come and go with each input, and the loader unloads
 * a driver with its last instance; the owners of the driver's one-time
 * allocations (Mesa's pthread_once initialisations) go with it, and
 * LeakSanitizer then reports those allocations as leaks of an unknown
 * module. A worker process keeps its drivers loaded the same way
 * (vkr_renderer_preload). Including this header (once, in the target's
 * only source) gives the target that libFuzzer initialisation.
 */
#ifndef FUZZ_HOST_H
#define FUZZ_HOST_H

#include <stdlib.h>

#include <vulkan/vulkan_core.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
   (void)argc;
   (void)argv;
   static VkInstance instance;
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
   };
   if (vkCreateInstance(&info, NULL, &instance) != VK_SUCCESS)
      abort();
   uint32_t count = 0;
   vkEnumeratePhysicalDevices(instance, &count, NULL);
   return 0;
}

#endif
