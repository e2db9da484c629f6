/*
 * LD_PRELOAD helper for the WSI tests: when the program destroys an X
 * window (vkcube does so after its last frame and after vkDestroySwapchainKHR,
 * so every present has reached the X server), the window's content is read
 * back with GetImage and written as a binary PPM to $WSI_SHOT_FILE, then the
 * real xcb_destroy_window runs. This captures exactly the last frame of
 * `vkcube --c N`, natively and through our driver alike.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <xcb/xcb.h>

static void
wsi_shot_write(xcb_connection_t *c, xcb_window_t window, const char *path)
{
   xcb_get_geometry_reply_t *geo = xcb_get_geometry_reply(c, xcb_get_geometry(c, window), NULL);
   if (!geo)
      return;
   xcb_get_image_reply_t *img = xcb_get_image_reply(
      c, xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, window, 0, 0, geo->width, geo->height, ~0u),
      NULL);
   if (img && xcb_get_image_data_length(img) >= geo->width * geo->height * 4) {
      FILE *f = fopen(path, "wb");
      if (f) {
         const uint8_t *p = xcb_get_image_data(img);
         fprintf(f, "P6\n%u %u\n255\n", geo->width, geo->height);
         for (uint32_t i = 0; i < (uint32_t)geo->width * geo->height; i++) {
            /* 24/32-bit TrueColor: B, G, R, X in memory */
            const uint8_t rgb[3] = { p[i * 4 + 2], p[i * 4 + 1], p[i * 4 + 0] };
            fwrite(rgb, 1, 3, f);
         }
         fclose(f);
      }
   }
   free(img);
   free(geo);
}

__attribute__((visibility("default"))) xcb_void_cookie_t
xcb_destroy_window(xcb_connection_t *c, xcb_window_t window)
{
   static xcb_void_cookie_t (*real)(xcb_connection_t *, xcb_window_t);
   if (!real)
      real = (xcb_void_cookie_t(*)(xcb_connection_t *, xcb_window_t))dlsym(RTLD_NEXT,
                                                                            "xcb_destroy_window");
   const char *path = getenv("WSI_SHOT_FILE");
   if (path && *path)
      wsi_shot_write(c, window, path);
   return real(c, window);
}
