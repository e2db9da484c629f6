/*
 * LD_PRELOADed into venus-server by test_sandbox_worker.sh, it plays a host
 * Vulkan driver that a guest has subverted: when a sandboxed worker creates
 * the host instance of an application named $VENUS_TEST_FORBIDDEN_APP, the
 * "driver" calls execve. The sandbox must kill that worker alone. Nothing of
 * this is built into the server.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

__attribute__((visibility("default"))) VKAPI_ATTR VkResult VKAPI_CALL
vkCreateInstance(const VkInstanceCreateInfo *info,
                 const VkAllocationCallbacks *alloc,
                 VkInstance *out)
{
   const char *victim = getenv("VENUS_TEST_FORBIDDEN_APP");
   const VkApplicationInfo *app = info->pApplicationInfo;

   if (victim && app && app->pApplicationName && !strcmp(app->pApplicationName, victim) &&
       prctl(PR_GET_SECCOMP) == 2) {
      char *const argv[] = { "true", NULL };
      execve("/bin/true", argv, NULL);
   }
   const PFN_vkCreateInstance next =
      (PFN_vkCreateInstance)dlsym(RTLD_NEXT, "vkCreateInstance");
   return next ? next(info, alloc, out) : VK_ERROR_INITIALIZATION_FAILED;
}
