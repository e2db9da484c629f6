/*
 * LD_PRELOAD helper for the WSI tests: when the program destroys an X
 * window (vkcube does so after its last frame and after vkDestroySwapchainKHR,
 * so every present has reached the X server), the window's content is read
 * back with GetImage and written as a binary PPM to $WSI_SHOT_FILE, then the
 * real xcb_destroy_window runs. This captures exactly the last frame of
 * `vkcube --c N`, natively and through our driver alike.
 *
 * Newer vkcube (Debian 13's) dlopens libxcb and looks its functions up with
 * dlsym, which an LD_PRELOAD symbol does not interpose: dlsym is wrapped too,
 * and a lookup of xcb_destroy_window gets the function below.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

typedef xcb_void_cookie_t (*wsi_shot_destroy_fn)(xcb_connection_t *, xcb_window_t);
static wsi_shot_destroy_fn wsi_shot_real_destroy;

static void *
wsi_shot_real_dlsym(void *handle, const char *name)
{
   static void *(*real)(void *, const char *);
   if (!real) {
      /* glibc 2.34 moved dlsym into libc; older ones have only 2.2.5 */
      real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
      if (!real)
         real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
   }
   return real(handle, name);
}

__attribute__((visibility("default"))) xcb_void_cookie_t
xcb_destroy_window(xcb_connection_t *c, xcb_window_t window);

__attribute__((visibility("default"))) void *
dlsym(void *handle, const char *name)
{
   void *sym = wsi_shot_real_dlsym(handle, name);
   if (sym && !strcmp(name, "xcb_destroy_window") && sym != (void *)xcb_destroy_window) {
      wsi_shot_real_destroy = (wsi_shot_destroy_fn)sym;
      return (void *)xcb_destroy_window;
   }
   return sym;
}

__attribute__((visibility("default"))) xcb_void_cookie_t
xcb_destroy_window(xcb_connection_t *c, xcb_window_t window)
{
   if (!wsi_shot_real_destroy)
      wsi_shot_real_destroy = (wsi_shot_destroy_fn)wsi_shot_real_dlsym(RTLD_NEXT,
                                                                       "xcb_destroy_window");
   wsi_shot_destroy_fn real = wsi_shot_real_destroy;
   const char *path = getenv("WSI_SHOT_FILE");
   if (path && *path)
      wsi_shot_write(c, window, path);
   return real(c, window);
}
