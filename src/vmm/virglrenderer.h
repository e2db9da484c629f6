/*
 * The part of virglrenderer 1.1.0's public C API that a VMM (QEMU 10's
 * virtio-gpu-gl device) uses, implemented by our VMM library for Venus
 * contexts (docs/vm.md, "Our renderer inside QEMU"). Written from the
 * documented ABI: every struct layout, constant and function signature below
 * must stay identical to virglrenderer 1.1.0, since VMMs are compiled against
 * that header and load libvirglrenderer.so.1 by name.
 *
 * Installed as <includedir>/venus/virgl/virglrenderer.h with a pkg-config
 * file named virglrenderer (in <libdir>/venus/pkgconfig), so a VMM can build
 * against it unchanged.
 */
#ifndef VIRGLRENDERER_H
#define VIRGLRENDERER_H

#include <stdbool.h>
#include <stdint.h>

/* the release whose ABI this library provides */
#define VIRGL_VERSION_MAJOR 1
#define VIRGL_VERSION_MINOR 1
#define VIRGL_VERSION_MICRO 0
#define VIRGL_CHECK_VERSION(major, minor, micro)                                         \
   (VIRGL_VERSION_MAJOR > (major) ||                                                     \
    (VIRGL_VERSION_MAJOR == (major) && VIRGL_VERSION_MINOR > (minor)) ||                 \
    (VIRGL_VERSION_MAJOR == (major) && VIRGL_VERSION_MINOR == (minor) &&                 \
     VIRGL_VERSION_MICRO >= (micro)))

#define VIRGL_EXPORT __attribute__((visibility("default")))

struct iovec;
struct virgl_box; /* x, y, z (u32), then w, h, d (u32) */

typedef void *virgl_renderer_gl_context;

struct virgl_renderer_gl_ctx_param {
   int version;
   bool shared;
   int major_ver;
   int minor_ver;
   int compat_ctx;
};

/* Callback table. Version 1: write_fence and the three GL-context hooks;
 * 2: get_drm_fd; 3: write_context_fence and get_server_fd; 4:
 * get_egl_display. Fields past `version` are never read. */
#define VIRGL_RENDERER_CALLBACKS_VERSION 4

struct virgl_renderer_callbacks {
   int version;
   void (*write_fence)(void *cookie, uint32_t fence);
   virgl_renderer_gl_context (*create_gl_context)(void *cookie,
                                                  int scanout_idx,
                                                  struct virgl_renderer_gl_ctx_param *param);
   void (*destroy_gl_context)(void *cookie, virgl_renderer_gl_context ctx);
   int (*make_current)(void *cookie, int scanout_idx, virgl_renderer_gl_context ctx);
   int (*get_drm_fd)(void *cookie);
   void (*write_context_fence)(void *cookie,
                               uint32_t ctx_id,
                               uint32_t ring_idx,
                               uint64_t fence_id);
   int (*get_server_fd)(void *cookie, uint32_t version);
   void *(*get_egl_display)(void *cookie);
};

/* virgl_renderer_init flags */
#define VIRGL_RENDERER_USE_EGL (1 << 0)
#define VIRGL_RENDERER_THREAD_SYNC (1 << 1)
#define VIRGL_RENDERER_USE_GLX (1 << 2)
#define VIRGL_RENDERER_USE_SURFACELESS (1 << 3)
#define VIRGL_RENDERER_USE_GLES (1 << 4)
#define VIRGL_RENDERER_USE_EXTERNAL_BLOB (1 << 5)
#define VIRGL_RENDERER_VENUS (1 << 6)
#define VIRGL_RENDERER_NO_VIRGL (1 << 7)
#define VIRGL_RENDERER_ASYNC_FENCE_CB (1 << 8)
#define VIRGL_RENDERER_RENDER_SERVER (1 << 9)
#define VIRGL_RENDERER_DRM (1 << 10)

struct virgl_renderer_resource_create_args {
   uint32_t handle;
   uint32_t target;
   uint32_t format;
   uint32_t bind;
   uint32_t width;
   uint32_t height;
   uint32_t depth;
   uint32_t array_size;
   uint32_t last_level;
   uint32_t nr_samples;
   uint32_t flags;
};

struct virgl_renderer_resource_info {
   uint32_t handle;
   uint32_t virgl_format;
   uint32_t width;
   uint32_t height;
   uint32_t depth;
   uint32_t flags;
   uint32_t tex_id;
   uint32_t stride;
   int drm_fourcc;
   int fd;
};

#define VIRGL_RENDERER_RESOURCE_INFO_EXT_VERSION 0

struct virgl_renderer_resource_info_ext {
   int version;
   struct virgl_renderer_resource_info base;
   bool has_dmabuf_export;
   int planes;
   uint64_t modifiers;
   void *d3d_tex2d;
};

#define VIRGL_RENDERER_CONTEXT_FLAG_CAPSET_ID_MASK 0xff

#define VIRGL_RENDERER_BLOB_MEM_GUEST 0x0001
#define VIRGL_RENDERER_BLOB_MEM_HOST3D 0x0002
#define VIRGL_RENDERER_BLOB_MEM_HOST3D_GUEST 0x0003
#define VIRGL_RENDERER_BLOB_MEM_GUEST_VRAM 0x0004

#define VIRGL_RENDERER_BLOB_FLAG_USE_MAPPABLE 0x0001
#define VIRGL_RENDERER_BLOB_FLAG_USE_SHAREABLE 0x0002
#define VIRGL_RENDERER_BLOB_FLAG_USE_CROSS_DEVICE 0x0004

struct virgl_renderer_resource_create_blob_args {
   uint32_t res_handle;
   uint32_t ctx_id;
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint64_t blob_id;
   uint64_t size;
   const struct iovec *iovecs;
   uint32_t num_iovs;
};

#define VIRGL_RENDERER_MAP_CACHE_MASK 0x0f
#define VIRGL_RENDERER_MAP_CACHE_NONE 0x00
#define VIRGL_RENDERER_MAP_CACHE_CACHED 0x01
#define VIRGL_RENDERER_MAP_CACHE_UNCACHED 0x02
#define VIRGL_RENDERER_MAP_CACHE_WC 0x03

#define VIRGL_RENDERER_FENCE_FLAG_MERGEABLE (1 << 0)

/* set-up */
VIRGL_EXPORT int
virgl_renderer_init(void *cookie, int flags, struct virgl_renderer_callbacks *cb);
VIRGL_EXPORT void
virgl_renderer_cleanup(void *cookie);
VIRGL_EXPORT void
virgl_renderer_reset(void);
VIRGL_EXPORT void
virgl_renderer_poll(void);
VIRGL_EXPORT void
virgl_renderer_force_ctx_0(void);

/* capsets */
VIRGL_EXPORT void
virgl_renderer_get_cap_set(uint32_t set, uint32_t *max_ver, uint32_t *max_size);
VIRGL_EXPORT void
virgl_renderer_fill_caps(uint32_t set, uint32_t version, void *caps);

/* contexts */
VIRGL_EXPORT int
virgl_renderer_context_create(uint32_t handle, uint32_t nlen, const char *name);
VIRGL_EXPORT int
virgl_renderer_context_create_with_flags(uint32_t ctx_id,
                                         uint32_t ctx_flags,
                                         uint32_t nlen,
                                         const char *name);
VIRGL_EXPORT void
virgl_renderer_context_destroy(uint32_t handle);
VIRGL_EXPORT int
virgl_renderer_submit_cmd(void *buffer, int ctx_id, int ndw);
VIRGL_EXPORT void
virgl_renderer_ctx_attach_resource(int ctx_id, int res_handle);
VIRGL_EXPORT void
virgl_renderer_ctx_detach_resource(int ctx_id, int res_handle);

/* fences: create_fence returns a positive errno, the others negative ones */
VIRGL_EXPORT int
virgl_renderer_create_fence(int client_fence_id, uint32_t ctx_id);
VIRGL_EXPORT int
virgl_renderer_context_create_fence(uint32_t ctx_id,
                                    uint32_t flags,
                                    uint32_t ring_idx,
                                    uint64_t fence_id);

/* resources */
VIRGL_EXPORT int
virgl_renderer_resource_create(struct virgl_renderer_resource_create_args *args,
                               struct iovec *iov,
                               uint32_t num_iovs);
VIRGL_EXPORT void
virgl_renderer_resource_unref(uint32_t res_handle);
VIRGL_EXPORT int
virgl_renderer_resource_attach_iov(int res_handle, struct iovec *iov, int num_iovs);
VIRGL_EXPORT void
virgl_renderer_resource_detach_iov(int res_handle, struct iovec **iov, int *num_iovs);
VIRGL_EXPORT int
virgl_renderer_transfer_read_iov(uint32_t handle,
                                 uint32_t ctx_id,
                                 uint32_t level,
                                 uint32_t stride,
                                 uint32_t layer_stride,
                                 struct virgl_box *box,
                                 uint64_t offset,
                                 struct iovec *iov,
                                 int iovec_cnt);
VIRGL_EXPORT int
virgl_renderer_transfer_write_iov(uint32_t handle,
                                  uint32_t ctx_id,
                                  int level,
                                  uint32_t stride,
                                  uint32_t layer_stride,
                                  struct virgl_box *box,
                                  uint64_t offset,
                                  struct iovec *iovec,
                                  unsigned int iovec_cnt);
VIRGL_EXPORT int
virgl_renderer_resource_get_info(int res_handle, struct virgl_renderer_resource_info *info);
VIRGL_EXPORT int
virgl_renderer_resource_get_info_ext(int res_handle,
                                     struct virgl_renderer_resource_info_ext *info);
VIRGL_EXPORT void *
virgl_renderer_get_cursor_data(uint32_t resource_id, uint32_t *width, uint32_t *height);

/* blobs */
VIRGL_EXPORT int
virgl_renderer_resource_create_blob(const struct virgl_renderer_resource_create_blob_args *args);
VIRGL_EXPORT int
virgl_renderer_resource_map(uint32_t res_handle, void **map, uint64_t *out_size);
VIRGL_EXPORT int
virgl_renderer_resource_unmap(uint32_t res_handle);
VIRGL_EXPORT int
virgl_renderer_resource_get_map_info(uint32_t res_handle, uint32_t *map_info);

#endif
