/*
 * The guest kernel's virtio-gpu interface (Linux include/uapi/drm/
 * virtgpu_drm.h, as of Linux 6.1): the ioctls the virtio-gpu transport uses.
 * Debian 12's headers predate blob resources and context init (libdrm-dev
 * 2.4.114 carries an older copy, linux-libc-dev none), so the layouts are
 * written out here, with the kernel's names, and checked by size. DRM core
 * zero-extends an ioctl argument shorter than the kernel's, so the 6.1
 * layouts keep working on later kernels.
 */
#ifndef VN_VIRTGPU_UAPI_H
#define VN_VIRTGPU_UAPI_H

#include <stdint.h>

#include <drm.h> /* libdrm-dev: DRM_IOWR, generic DRM ioctls */

#define VIRTGPU_PARAM_3D_FEATURES 1
#define VIRTGPU_PARAM_CAPSET_QUERY_FIX 2
#define VIRTGPU_PARAM_RESOURCE_BLOB 3
#define VIRTGPU_PARAM_HOST_VISIBLE 4
#define VIRTGPU_PARAM_CROSS_DEVICE 5
#define VIRTGPU_PARAM_CONTEXT_INIT 6
#define VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs 7

#define VIRTGPU_EXECBUF_FENCE_FD_IN 0x01
#define VIRTGPU_EXECBUF_FENCE_FD_OUT 0x02
#define VIRTGPU_EXECBUF_RING_IDX 0x04

#define VIRTGPU_BLOB_MEM_HOST3D 0x0002
#define VIRTGPU_BLOB_FLAG_USE_MAPPABLE 0x0001
#define VIRTGPU_BLOB_FLAG_USE_SHAREABLE 0x0002
#define VIRTGPU_BLOB_FLAG_USE_CROSS_DEVICE 0x0004

#define VIRTGPU_CONTEXT_PARAM_CAPSET_ID 0x0001
#define VIRTGPU_CONTEXT_PARAM_NUM_RINGS 0x0002
#define VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK 0x0003

struct drm_virtgpu_map {
   uint64_t offset; /* out: for mmap of the DRM fd */
   uint32_t handle;
   uint32_t pad;
};

struct drm_virtgpu_execbuffer {
   uint32_t flags;
   uint32_t size;
   uint64_t command; /* pointer */
   uint64_t bo_handles;
   uint32_t num_bo_handles;
   int32_t fence_fd; /* in/out */
   uint32_t ring_idx;
   uint32_t pad;
};

struct drm_virtgpu_getparam {
   uint64_t param;
   uint64_t value; /* pointer to an int */
};

struct drm_virtgpu_resource_info {
   uint32_t bo_handle;
   uint32_t res_handle;
   uint32_t size;
   uint32_t blob_mem;
};

struct drm_virtgpu_get_caps {
   uint32_t cap_set_id;
   uint32_t cap_set_ver;
   uint64_t addr;
   uint32_t size;
   uint32_t pad;
};

struct drm_virtgpu_resource_create_blob {
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint32_t bo_handle;  /* out */
   uint32_t res_handle; /* out */
   uint64_t size;
   uint32_t pad;
   uint32_t cmd_size;
   uint64_t cmd;
   uint64_t blob_id;
};

struct drm_virtgpu_context_set_param {
   uint64_t param;
   uint64_t value;
};

struct drm_virtgpu_context_init {
   uint32_t num_params;
   uint32_t pad;
   uint64_t ctx_set_params; /* pointer to drm_virtgpu_context_set_param[] */
};

_Static_assert(sizeof(struct drm_virtgpu_map) == 16, "virtgpu uapi");
_Static_assert(sizeof(struct drm_virtgpu_execbuffer) == 40, "virtgpu uapi");
_Static_assert(sizeof(struct drm_virtgpu_resource_create_blob) == 48, "virtgpu uapi");
_Static_assert(sizeof(struct drm_virtgpu_context_init) == 16, "virtgpu uapi");

#define DRM_IOCTL_VIRTGPU_MAP DRM_IOWR(DRM_COMMAND_BASE + 0x01, struct drm_virtgpu_map)
#define DRM_IOCTL_VIRTGPU_EXECBUFFER                                                        \
   DRM_IOWR(DRM_COMMAND_BASE + 0x02, struct drm_virtgpu_execbuffer)
#define DRM_IOCTL_VIRTGPU_GETPARAM                                                          \
   DRM_IOWR(DRM_COMMAND_BASE + 0x03, struct drm_virtgpu_getparam)
#define DRM_IOCTL_VIRTGPU_RESOURCE_INFO                                                     \
   DRM_IOWR(DRM_COMMAND_BASE + 0x05, struct drm_virtgpu_resource_info)
#define DRM_IOCTL_VIRTGPU_GET_CAPS                                                          \
   DRM_IOWR(DRM_COMMAND_BASE + 0x09, struct drm_virtgpu_get_caps)
#define DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB                                              \
   DRM_IOWR(DRM_COMMAND_BASE + 0x0a, struct drm_virtgpu_resource_create_blob)
#define DRM_IOCTL_VIRTGPU_CONTEXT_INIT                                                      \
   DRM_IOWR(DRM_COMMAND_BASE + 0x0b, struct drm_virtgpu_context_init)

#endif
