/*
 * virtio-gpu transport (vn_transport.h, transport.md §E): the guest kernel's
 * render node inside a VM. The VMM (QEMU) hands each ioctl's work to its
 * renderer: a context bound to the Venus capset with 64 fence timelines,
 * HOST3D blob resources mapped through the device's host-visible region,
 * EXECBUFFER for context-path streams with kernel sync files as fence fds,
 * and PRIME for external memory. CROSS_DEVICE is not needed: QEMU never
 * offers it, and our VMM library keeps every blob's fd without it.
 */
#include "vn_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transport/vw_vtest.h"

#include "vn_virtgpu_uapi.h"

_Static_assert(VCMD_BLOB_FLAG_MAPPABLE == VIRTGPU_BLOB_FLAG_USE_MAPPABLE &&
                  VCMD_BLOB_FLAG_SHAREABLE == VIRTGPU_BLOB_FLAG_USE_SHAREABLE,
               "vtest and virtio-gpu blob flags agree");

#define VN_VIRTGPU_TIMELINES 64 /* the kernel's limit on rings */
#define VN_VIRTGPU_FIRST_NODE 128
#define VN_VIRTGPU_NODE_COUNT 64

struct vn_virtgpu {
   struct vn_transport base;
   int fd;
   char node[32];
   bool cross_device; /* VIRTGPU_PARAM_CROSS_DEVICE: shareable blobs get it */
};

static inline struct vn_virtgpu *
vn_virtgpu(struct vn_transport *t)
{
   return (struct vn_virtgpu *)t;
}

static int
vn_virtgpu_ioctl(int fd, unsigned long request, void *arg)
{
   int ret;
   do {
      ret = ioctl(fd, request, arg);
   } while (ret < 0 && (errno == EINTR || errno == EAGAIN));
   return ret;
}

static int
vn_virtgpu_getparam(int fd, uint64_t param)
{
   int value = 0;
   struct drm_virtgpu_getparam args = { .param = param, .value = (uintptr_t)&value };
   return vn_virtgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_GETPARAM, &args) == 0 ? value : -1;
}

static void
vn_virtgpu_gem_close(struct vn_virtgpu *v, uint32_t handle)
{
   struct drm_gem_close args = { .handle = handle };
   if (handle && vn_virtgpu_ioctl(v->fd, DRM_IOCTL_GEM_CLOSE, &args) != 0)
      vn_log_warn("%s: GEM_CLOSE of handle %u: %s", v->node, handle, strerror(errno));
}

/* creates a HOST3D blob; its GEM handle and resource id */
static bool
vn_virtgpu_create_blob(struct vn_virtgpu *v,
                       uint64_t blob_id,
                       uint32_t flags,
                       size_t size,
                       uint32_t *out_handle,
                       uint32_t *out_res_id)
{
   struct drm_virtgpu_resource_create_blob args = {
      .blob_mem = VIRTGPU_BLOB_MEM_HOST3D,
      .blob_flags = flags | (v->cross_device && (flags & VIRTGPU_BLOB_FLAG_USE_SHAREABLE)
                                ? VIRTGPU_BLOB_FLAG_USE_CROSS_DEVICE
                                : 0),
      .size = size,
      .blob_id = blob_id,
   };
   if (vn_virtgpu_ioctl(v->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, &args) != 0) {
      vn_log_err("%s: blob of %zu bytes (blob_id %llu, flags 0x%x): %s", v->node, size,
                 (unsigned long long)blob_id, flags, strerror(errno));
      return false;
   }
   *out_handle = args.bo_handle;
   *out_res_id = args.res_handle;
   return true;
}

/* maps a mappable blob; the kernel waits for the VMM to map the host's
 * memory into the device's host-visible region, so a refused export
 * fails here */
static void *
vn_virtgpu_map(struct vn_virtgpu *v, uint32_t handle, size_t size, bool quiet)
{
   struct drm_virtgpu_map args = { .handle = handle };
   void *ptr = MAP_FAILED;
   if (vn_virtgpu_ioctl(v->fd, DRM_IOCTL_VIRTGPU_MAP, &args) == 0)
      ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, (off_t)args.offset);
   if (ptr == MAP_FAILED) {
      if (!quiet)
         vn_log_err("%s: cannot map a blob of %zu bytes: %s", v->node, size, strerror(errno));
      return NULL;
   }
   return ptr;
}

static void
vn_virtgpu_destroy(struct vn_transport *t)
{
   struct vn_virtgpu *v = vn_virtgpu(t);
   vn_transport_fini_base(t);
   /* closing the render node destroys the context on the host */
   close(v->fd);
   free(v);
}

static bool
vn_virtgpu_shm_create(struct vn_transport *t, size_t size, struct vn_shm *shm)
{
   struct vn_virtgpu *v = vn_virtgpu(t);
   if (!vn_virtgpu_create_blob(v, 0, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, size, &shm->handle,
                               &shm->res_id))
      return false;
   shm->ptr = vn_virtgpu_map(v, shm->handle, size, false);
   if (!shm->ptr) {
      vn_virtgpu_gem_close(v, shm->handle);
      shm->handle = 0;
      shm->res_id = 0;
      return false;
   }
   shm->size = size;
   return true;
}

static void
vn_virtgpu_shm_destroy(struct vn_transport *t, struct vn_shm *shm)
{
   if (shm->ptr)
      munmap(shm->ptr, shm->size);
   vn_virtgpu_gem_close(vn_virtgpu(t), shm->handle);
}

static bool
vn_virtgpu_blob_create(struct vn_transport *t,
                       uint64_t blob_id,
                       uint32_t flags,
                       struct vn_blob *blob)
{
   struct vn_virtgpu *v = vn_virtgpu(t);
   if (!vn_virtgpu_create_blob(v, blob_id, flags, blob->size, &blob->handle, &blob->res_id))
      return false;
   if (flags & VIRTGPU_BLOB_FLAG_USE_MAPPABLE) {
      blob->ptr = vn_virtgpu_map(v, blob->handle, blob->size, false);
      if (!blob->ptr) {
         vn_virtgpu_gem_close(v, blob->handle);
         return false;
      }
   }
   return true;
}

/* Any dma-buf of this virtio-gpu device can be imported: one this
 * transport exported is found again by its GEM handle, others (another
 * instance's or another process's) become new listed blobs. */
static struct vn_blob *
vn_virtgpu_blob_import_locked(struct vn_transport *t, int fd)
{
   struct vn_virtgpu *v = vn_virtgpu(t);
   struct drm_prime_handle prime = { .fd = fd };
   if (vn_virtgpu_ioctl(v->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) != 0)
      return NULL; /* not a dma-buf of this device */
   for (struct vn_blob *b = t->shared_blobs; b; b = b->next) {
      if (b->handle == prime.handle) {
         vn_blob_ref(b);
         return b;
      }
   }
   struct drm_virtgpu_resource_info info = { .bo_handle = prime.handle };
   const off_t size = lseek(fd, 0, SEEK_END);
   struct vn_blob *blob = calloc(1, sizeof(*blob));
   if (!blob || size <= 0 ||
       vn_virtgpu_ioctl(v->fd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &info) != 0) {
      free(blob);
      vn_virtgpu_gem_close(v, prime.handle);
      return NULL;
   }
   atomic_init(&blob->refs, 1);
   blob->res_id = info.res_handle;
   blob->handle = prime.handle;
   blob->fd = -1;
   blob->size = (size_t)size;
   blob->dma_buf = true;
   /* mappable when the exporter made it so */
   blob->ptr = vn_virtgpu_map(v, blob->handle, blob->size, true);
   blob->next = t->shared_blobs;
   t->shared_blobs = blob;
   return blob;
}

static int
vn_virtgpu_blob_export(struct vn_transport *t, const struct vn_blob *blob)
{
   struct drm_prime_handle args = { .handle = blob->handle, .flags = DRM_CLOEXEC | DRM_RDWR };
   if (vn_virtgpu_ioctl(vn_virtgpu(t)->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &args) != 0)
      return -1;
   return args.fd;
}

static void
vn_virtgpu_blob_destroy(struct vn_transport *t, struct vn_blob *blob)
{
   if (blob->ptr)
      munmap(blob->ptr, blob->size);
   vn_virtgpu_gem_close(vn_virtgpu(t), blob->handle);
}

static bool
vn_virtgpu_execbuffer(struct vn_transport *t,
                      const void *cmd,
                      size_t size,
                      uint32_t ring_idx,
                      int *out_fence_fd)
{
   struct vn_virtgpu *v = vn_virtgpu(t);
   if (size > UINT32_MAX || ring_idx >= t->max_timelines) {
      vn_log_err("%s: submission of %zu bytes on timeline %u", v->node, size, ring_idx);
      return false;
   }
   struct drm_virtgpu_execbuffer args = {
      .flags = VIRTGPU_EXECBUF_RING_IDX | (out_fence_fd ? VIRTGPU_EXECBUF_FENCE_FD_OUT : 0),
      .size = (uint32_t)size,
      .command = (uintptr_t)cmd,
      .fence_fd = -1,
      .ring_idx = ring_idx,
   };
   if (vn_virtgpu_ioctl(v->fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &args) != 0) {
      char why[96];
      snprintf(why, sizeof(why), "EXECBUFFER failed: %s", strerror(errno));
      vn_transport_set_lost(t, why);
      return false;
   }
   if (out_fence_fd)
      *out_fence_fd = args.fence_fd;
   return true;
}

static bool
vn_virtgpu_submit(struct vn_transport *t, const void *cmd, size_t size)
{
   return vn_virtgpu_execbuffer(t, cmd, size, 0, NULL);
}

static int
vn_virtgpu_submit_fence_fd(struct vn_transport *t,
                           const void *cmd,
                           size_t size,
                           uint32_t ring_idx)
{
   int fd = -1;
   if (!vn_virtgpu_execbuffer(t, cmd, size, ring_idx, &fd))
      return -1;
   return fd;
}

static bool
vn_virtgpu_probe(struct vn_transport *t)
{
   /* the renderer lives in the VMM: if it goes, the guest goes with it;
    * a fatal context shows in the ring's status */
   (void)t;
   return true;
}

static const struct vn_transport_ops vn_virtgpu_ops = {
   .name = "virtio-gpu",
   .destroy = vn_virtgpu_destroy,
   .shm_create = vn_virtgpu_shm_create,
   .shm_destroy = vn_virtgpu_shm_destroy,
   .blob_create = vn_virtgpu_blob_create,
   .blob_import_locked = vn_virtgpu_blob_import_locked,
   .blob_export = vn_virtgpu_blob_export,
   .blob_destroy = vn_virtgpu_blob_destroy,
   .submit = vn_virtgpu_submit,
   .submit_fence_fd = vn_virtgpu_submit_fence_fd,
   .probe = vn_virtgpu_probe,
};

/* Whether fd is a virtio-gpu node with what Venus needs; fills the capset.
 * false with `why` filled when it is not one. */
static bool
vn_virtgpu_node_check(int fd, const char *node, struct vw_capset *capset, char *why, size_t n)
{
   char name[32] = "";
   struct drm_version version = { .name = name, .name_len = sizeof(name) - 1 };
   if (vn_virtgpu_ioctl(fd, DRM_IOCTL_VERSION, &version) != 0 || strcmp(name, "virtio_gpu")) {
      snprintf(why, n, "no virtio-gpu render node (%s is %s)", node, name[0] ? name : "unknown");
      return false;
   }
   /* the Venus capset first: its absence is what a user most likely
    * has to fix (QEMU: venus=on, which needs blob=on and hostmem) */
   if (vn_virtgpu_getparam(fd, VIRTGPU_PARAM_3D_FEATURES) <= 0 ||
       vn_virtgpu_getparam(fd, VIRTGPU_PARAM_CAPSET_QUERY_FIX) <= 0) {
      snprintf(why, n, "virtio-gpu %s has no 3D (QEMU: virtio-gpu-gl with venus=on)", node);
      return false;
   }
   const int capsets = vn_virtgpu_getparam(fd, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs);
   memset(capset, 0, sizeof(*capset));
   struct drm_virtgpu_get_caps caps = {
      .cap_set_id = VW_CAPSET_ID_VENUS,
      .cap_set_ver = 0,
      .addr = (uintptr_t)capset,
      .size = sizeof(*capset),
   };
   if ((capsets >= 0 && !(capsets & (1 << VW_CAPSET_ID_VENUS))) ||
       vn_virtgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_GET_CAPS, &caps) != 0) {
      snprintf(why, n, "virtio-gpu %s offers no Venus capset (QEMU: venus=on)", node);
      return false;
   }
   static const struct {
      uint64_t param;
      const char *what;
   } later_needs[] = {
      { VIRTGPU_PARAM_RESOURCE_BLOB, "blob resources (QEMU: blob=on)" },
      { VIRTGPU_PARAM_CONTEXT_INIT, "context init" },
      { VIRTGPU_PARAM_HOST_VISIBLE, "host-visible memory (QEMU: hostmem=SIZE)" },
   };
   for (size_t i = 0; i < VN_ARRAY_SIZE(later_needs); i++) {
      if (vn_virtgpu_getparam(fd, later_needs[i].param) <= 0) {
         snprintf(why, n, "virtio-gpu %s lacks %s", node, later_needs[i].what);
         return false;
      }
   }
   return true;
}

/* whether the host offers version 1 of the Venus capset (vw_capset.h), our
 * VMM library's, with blob imports */
static bool
vn_virtgpu_ours_imports_blobs(int fd)
{
   struct vw_capset_ext ext;
   memset(&ext, 0, sizeof(ext));
   struct drm_virtgpu_get_caps caps = {
      .cap_set_id = VW_CAPSET_ID_VENUS,
      .cap_set_ver = VW_CAPSET_VENUS_EXT_VERSION,
      .addr = (uintptr_t)&ext,
      .size = sizeof(ext),
   };
   /* EINVAL from a host that offers version 0 alone */
   if (vn_virtgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_GET_CAPS, &caps) != 0)
      return false;
   return ext.tag == VW_CAPSET_EXT_TAG && (ext.flags & VW_CAPSET_EXT_BLOB_IMPORT);
}

static bool
vn_virtgpu_context_init(struct vn_virtgpu *v)
{
   struct drm_virtgpu_context_set_param params[] = {
      { VIRTGPU_CONTEXT_PARAM_CAPSET_ID, VW_CAPSET_ID_VENUS },
      { VIRTGPU_CONTEXT_PARAM_NUM_RINGS, VN_VIRTGPU_TIMELINES },
      /* fences are waited on through sync files, never read as events */
      { VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK, 0 },
   };
   struct drm_virtgpu_context_init args = {
      .num_params = VN_ARRAY_SIZE(params),
      .ctx_set_params = (uintptr_t)params,
   };
   if (vn_virtgpu_ioctl(v->fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &args) != 0) {
      vn_log_err("%s: Venus context init failed: %s", v->node, strerror(errno));
      return false;
   }
   return true;
}

VkResult
vn_transport_virtgpu_create(struct vn_transport **out_transport, char *why, size_t why_size)
{
   struct vn_virtgpu *v = calloc(1, sizeof(*v));
   if (!v)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   struct vn_transport *t = &v->base;
   snprintf(why, why_size, "no render node in /dev/dri");

   /* the first render node that offers Venus; a reason from the most
    * promising one that does not */
   v->fd = -1;
   bool saw_virtgpu = false;
   for (int i = 0; i < VN_VIRTGPU_NODE_COUNT && v->fd < 0; i++) {
      char node[32];
      snprintf(node, sizeof(node), "/dev/dri/renderD%d", VN_VIRTGPU_FIRST_NODE + i);
      const int fd = open(node, O_RDWR | O_CLOEXEC);
      if (fd < 0)
         continue;
      char reason[160];
      if (vn_virtgpu_node_check(fd, node, &t->capset, reason, sizeof(reason))) {
         v->fd = fd;
         snprintf(v->node, sizeof(v->node), "%s", node);
         break;
      }
      close(fd);
      const bool is_virtgpu = strncmp(reason, "no virtio-gpu", 13) != 0;
      if (is_virtgpu || !saw_virtgpu)
         snprintf(why, why_size, "%s", reason);
      saw_virtgpu |= is_virtgpu;
   }
   if (v->fd < 0) {
      free(v);
      return VK_ERROR_INCOMPATIBLE_DRIVER;
   }

   t->max_timelines = VN_VIRTGPU_TIMELINES;
   /* An import needs the renderer to keep the fd of the blob. virglrenderer
    * (up to 1.1 at least) keeps it only for CROSS_DEVICE blobs, which the
    * kernel allows only where the VMM offers CROSS_DEVICE (QEMU does not);
    * our VMM library keeps every blob's fd and says so in version 1 of the
    * capset. Without either: no memory fds. */
   v->cross_device = vn_virtgpu_getparam(v->fd, VIRTGPU_PARAM_CROSS_DEVICE) > 0;
   t->can_import_memory = v->cross_device || vn_virtgpu_ours_imports_blobs(v->fd);
   /* PRIME: any dma-buf of the device, from whichever instance or process */
   t->can_import_foreign_memory = t->can_import_memory;
   if (!vn_transport_check_capset(&t->capset, "virtio-gpu") || !vn_virtgpu_context_init(v)) {
      close(v->fd);
      free(v);
      return VK_ERROR_INITIALIZATION_FAILED;
   }
   vn_transport_init_base(t, &vn_virtgpu_ops);
   if (VU_DEBUG(INIT))
      vn_log_debug("transport: virtio-gpu %s%s", v->node,
                   !t->can_import_memory ? " (no CROSS_DEVICE: no memory imports)"
                   : v->cross_device     ? " (CROSS_DEVICE)"
                                         : " (our renderer: memory imports)");
   *out_transport = t;
   return VK_SUCCESS;
}
