/*
 * bench_present: frames per second of a present loop into a 1920x1080 xcb
 * window (acquire, clear the image to a colour that changes every frame,
 * present), with a chosen present mode (default IMMEDIATE, so that no vblank
 * paces the loop). Plain Vulkan through tests/vkt, so it runs natively (the
 * host driver's own X11 WSI) and through our driver alike; bench/run_present.py
 * runs both in one X server and prints the ratio.
 *
 * usage: bench_present [--frames N] [--mode immediate|mailbox|fifo]
 *                      [--width W] [--height H]
 * prints: present_<W>x<H>_<mode> fps <value>
 */
#define VK_USE_PLATFORM_XCB_KHR
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xcb/xcb.h>

#include "vkt.h"

static double
now_s(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
   uint32_t frames = 300, width = 1920, height = 1080;
   const char *mode_name = "immediate";
   for (int i = 1; i < argc; i++) {
      if (!strcmp(argv[i], "--frames") && i + 1 < argc)
         frames = (uint32_t)atoi(argv[++i]);
      else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
         mode_name = argv[++i];
      else if (!strcmp(argv[i], "--width") && i + 1 < argc)
         width = (uint32_t)atoi(argv[++i]);
      else if (!strcmp(argv[i], "--height") && i + 1 < argc)
         height = (uint32_t)atoi(argv[++i]);
      else
         vkt_die("usage: bench_present [--frames N] [--mode immediate|mailbox|fifo]");
   }
   const VkPresentModeKHR mode = !strcmp(mode_name, "fifo")      ? VK_PRESENT_MODE_FIFO_KHR
                                 : !strcmp(mode_name, "mailbox") ? VK_PRESENT_MODE_MAILBOX_KHR
                                                                 : VK_PRESENT_MODE_IMMEDIATE_KHR;

   struct vkt_context ctx;
   const char *inst_exts[] = { "VK_KHR_surface", "VK_KHR_xcb_surface" };
   vkt_init_with_extensions(&ctx, "bench_present", inst_exts, 2);
   const char *dev_exts[] = { "VK_KHR_swapchain" };
   const struct vkt_device_info info = { .extensions = dev_exts, .extension_count = 1 };
   vkt_device_init(&ctx, &info);

   xcb_connection_t *conn = xcb_connect(NULL, NULL);
   if (xcb_connection_has_error(conn))
      vkt_die("bench_present: cannot connect to the X server");
   xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(conn)).data;
   xcb_window_t window = xcb_generate_id(conn);
   xcb_create_window(conn, XCB_COPY_FROM_PARENT, window, screen->root, 0, 0, (uint16_t)width,
                     (uint16_t)height, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual, 0,
                     NULL);
   xcb_map_window(conn, window);
   free(xcb_get_input_focus_reply(conn, xcb_get_input_focus(conn), NULL));

   VkSurfaceKHR surface;
   const VkXcbSurfaceCreateInfoKHR surface_info = {
      .sType = VK_STRUCTURE_TYPE_XCB_SURFACE_CREATE_INFO_KHR,
      .connection = conn,
      .window = window,
   };
   VKT_CALL(vkCreateXcbSurfaceKHR(ctx.instance, &surface_info, NULL, &surface));
   VkSurfaceCapabilitiesKHR caps;
   VKT_CALL(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(ctx.physical_device, surface, &caps));
   VkPresentModeKHR modes[8];
   uint32_t mode_count = 8;
   VKT_CALL(vkGetPhysicalDeviceSurfacePresentModesKHR(ctx.physical_device, surface, &mode_count,
                                                      modes));
   bool has_mode = false;
   for (uint32_t i = 0; i < mode_count; i++)
      has_mode |= modes[i] == mode;
   if (!has_mode)
      vkt_die("bench_present: the surface does not offer present mode %s", mode_name);

   VkSwapchainKHR swapchain;
   const VkSwapchainCreateInfoKHR sc_info = {
      .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
      .surface = surface,
      .minImageCount = caps.maxImageCount && caps.minImageCount + 1 > caps.maxImageCount
                          ? caps.minImageCount
                          : caps.minImageCount + 1,
      .imageFormat = VK_FORMAT_B8G8R8A8_UNORM,
      .imageColorSpace = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR,
      .imageExtent = caps.currentExtent,
      .imageArrayLayers = 1,
      .imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT,
      .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
      .preTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR,
      .compositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR,
      .presentMode = mode,
      .clipped = VK_TRUE,
   };
   VKT_CALL(vkCreateSwapchainKHR(ctx.device, &sc_info, NULL, &swapchain));
   VkImage images[8];
   uint32_t image_count = 8;
   VKT_CALL(vkGetSwapchainImagesKHR(ctx.device, swapchain, &image_count, images));

   /* frames in flight: one slot per image */
   VkSemaphore acquired[8], rendered[8];
   VkFence done[8];
   VkCommandBuffer cmds[8];
   const VkCommandBufferAllocateInfo cmd_info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = ctx.cmd_pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = image_count,
   };
   VKT_CALL(vkAllocateCommandBuffers(ctx.device, &cmd_info, cmds));
   const VkSemaphoreCreateInfo sem_info = { .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO };
   const VkFenceCreateInfo fence_info = {
      .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
      .flags = VK_FENCE_CREATE_SIGNALED_BIT,
   };
   for (uint32_t i = 0; i < image_count; i++) {
      VKT_CALL(vkCreateSemaphore(ctx.device, &sem_info, NULL, &acquired[i]));
      VKT_CALL(vkCreateSemaphore(ctx.device, &sem_info, NULL, &rendered[i]));
      VKT_CALL(vkCreateFence(ctx.device, &fence_info, NULL, &done[i]));
   }

   const uint32_t warmup = 20;
   double start = 0;
   for (uint32_t f = 0; f < frames + warmup; f++) {
      if (f == warmup)
         start = now_s();
      const uint32_t slot = f % image_count;
      VKT_CALL(vkWaitForFences(ctx.device, 1, &done[slot], VK_TRUE, UINT64_MAX));
      uint32_t index;
      VKT_CALL(vkAcquireNextImageKHR(ctx.device, swapchain, UINT64_MAX, acquired[slot],
                                     VK_NULL_HANDLE, &index));
      VKT_CALL(vkResetFences(ctx.device, 1, &done[slot]));
      VkCommandBuffer cmd = cmds[slot];
      VKT_CALL(vkResetCommandBuffer(cmd, 0));
      const VkCommandBufferBeginInfo begin = {
         .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
         .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
      };
      VKT_CALL(vkBeginCommandBuffer(cmd, &begin));
      const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
      VkImageMemoryBarrier barrier = {
         .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
         .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
         .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
         .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
         .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
         .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
         .image = images[index],
         .subresourceRange = range,
      };
      vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                           0, 0, NULL, 0, NULL, 1, &barrier);
      const float v = (float)(f % 64) / 63.0f;
      const VkClearColorValue color = { .float32 = { v, 1.0f - v, 0.5f, 1.0f } };
      vkCmdClearColorImage(cmd, images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1,
                           &range);
      barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
      barrier.dstAccessMask = 0;
      barrier.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
      barrier.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
      vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0, NULL, 1, &barrier);
      VKT_CALL(vkEndCommandBuffer(cmd));
      const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
      const VkSubmitInfo submit = {
         .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
         .waitSemaphoreCount = 1,
         .pWaitSemaphores = &acquired[slot],
         .pWaitDstStageMask = &stage,
         .commandBufferCount = 1,
         .pCommandBuffers = &cmd,
         .signalSemaphoreCount = 1,
         .pSignalSemaphores = &rendered[index],
      };
      VKT_CALL(vkQueueSubmit(ctx.queue, 1, &submit, done[slot]));
      const VkPresentInfoKHR present = {
         .sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
         .waitSemaphoreCount = 1,
         .pWaitSemaphores = &rendered[index],
         .swapchainCount = 1,
         .pSwapchains = &swapchain,
         .pImageIndices = &index,
      };
      VKT_CALL(vkQueuePresentKHR(ctx.queue, &present));
   }
   VKT_CALL(vkDeviceWaitIdle(ctx.device));
   const double elapsed = now_s() - start;
   char name[64];
   snprintf(name, sizeof(name), "present_%ux%u_%s", caps.currentExtent.width,
            caps.currentExtent.height, mode_name);
   vkt_print_f64(name, "fps", frames / elapsed);

   for (uint32_t i = 0; i < image_count; i++) {
      vkDestroySemaphore(ctx.device, acquired[i], NULL);
      vkDestroySemaphore(ctx.device, rendered[i], NULL);
      vkDestroyFence(ctx.device, done[i], NULL);
   }
   vkFreeCommandBuffers(ctx.device, ctx.cmd_pool, image_count, cmds);
   vkDestroySwapchainKHR(ctx.device, swapchain, NULL);
   vkDestroySurfaceKHR(ctx.instance, surface, NULL);
   const int rc = vkt_finish(&ctx);
   xcb_destroy_window(conn, window);
   xcb_disconnect(conn);
   return rc;
}
