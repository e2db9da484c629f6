/*
 * 2D resources for the guest's framebuffer console: the guest kernel's
 * virtio-gpu driver creates them (RESOURCE_CREATE_2D, a 32-bit format),
 * attaches guest pages as backing and copies into the host with
 * TRANSFER_TO_HOST_2D, then points a scanout at them. We keep a host-side
 * copy, fill it from the backing, and answer info and cursor queries from it.
 * There are no GL textures here (info.tex_id is 0), so QEMU's GL display
 * shows nothing for such a scanout; the console itself works and QEMU logs
 * no errors. Every size and box from the guest is checked.
 */
#include "vmm_lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/vu_log.h"

/* every 2D format virtio-gpu defines has 32-bit pixels */
#define VMM_2D_BYTES_PER_PIXEL 4u

struct vmm_box {
   uint32_t x, y, z, w, h, d;
};

int
virgl_renderer_resource_create(struct virgl_renderer_resource_create_args *args,
                               struct iovec *iov,
                               uint32_t num_iovs)
{
   if (!vmm.is_inited || !args || !args->handle ||
       vu_idmap_get(&vmm.resources, args->handle))
      return -EINVAL;

   const uint64_t stride = (uint64_t)args->width * VMM_2D_BYTES_PER_PIXEL;
   const uint64_t bytes = stride * args->height;
   if (!args->width || !args->height || args->width > VMM_MAX_2D_DIMENSION ||
       args->height > VMM_MAX_2D_DIMENSION || args->depth > 1 || args->array_size > 1 ||
       args->last_level || args->nr_samples > 1 ||
       vmm.bytes_2d + bytes > VMM_MAX_2D_TOTAL_BYTES) {
      vu_log(VU_LOG_WARN, "vmm",
             "resource %u (%ux%ux%u, %u layers, %u levels) refused: only 2D images up to "
             "%ux%u",
             args->handle, args->width, args->height, args->depth, args->array_size,
             args->last_level + 1, VMM_MAX_2D_DIMENSION, VMM_MAX_2D_DIMENSION);
      return -EINVAL;
   }

   struct vmm_resource *res = calloc(1, sizeof(*res));
   if (!res)
      return -ENOMEM;
   res->pixels = calloc(1, bytes);
   if (!res->pixels) {
      free(res);
      return -ENOMEM;
   }
   res->id = args->handle;
   res->kind = VMM_RESOURCE_2D;
   res->fd = -1;
   res->format = args->format;
   res->flags = args->flags;
   res->width = args->width;
   res->height = args->height;
   res->stride = (uint32_t)stride;
   if (num_iovs && iov) {
      res->iov = iov;
      res->iov_count = (int)num_iovs;
   }
   vmm.bytes_2d += bytes;
   if (!vmm_resource_insert(res)) {
      vmm_resource_free(res);
      return -ENOMEM;
   }
   return 0;
}

int
virgl_renderer_resource_attach_iov(int res_handle, struct iovec *iov, int num_iovs)
{
   struct vmm_resource *res = vmm_resource_lookup((uint32_t)res_handle, VMM_RESOURCE_2D);
   if (!res || res->iov || num_iovs < 0 || (num_iovs && !iov))
      return -EINVAL;
   res->iov = iov;
   res->iov_count = num_iovs;
   return 0;
}

void
virgl_renderer_resource_detach_iov(int res_handle, struct iovec **iov, int *num_iovs)
{
   struct vmm_resource *res = vmm_resource_lookup((uint32_t)res_handle, VMM_RESOURCE_2D);
   if (!res)
      return;
   if (iov)
      *iov = res->iov;
   if (num_iovs)
      *num_iovs = res->iov_count;
   res->iov = NULL;
   res->iov_count = 0;
}

/* Copies `size` bytes between the iovecs at byte `offset` and `buf`; false if
 * the iovecs end first. */
static bool
vmm_iov_copy(const struct iovec *iov,
             int count,
             uint64_t offset,
             uint8_t *buf,
             size_t size,
             bool to_iov)
{
   for (int i = 0; i < count && size; i++) {
      if (offset >= iov[i].iov_len) {
         offset -= iov[i].iov_len;
         continue;
      }
      size_t n = iov[i].iov_len - (size_t)offset;
      if (n > size)
         n = size;
      uint8_t *p = (uint8_t *)iov[i].iov_base + offset;
      if (to_iov)
         memcpy(p, buf, n);
      else
         memcpy(buf, p, n);
      buf += n;
      size -= n;
      offset = 0;
   }
   return size == 0;
}

/* One 2D transfer between the guest backing (or the given iovecs) and the
 * host copy: row r of the box is at offset + r * stride in the backing, as
 * in virtio-gpu's TRANSFER_*_2D. */
static int
vmm_2d_transfer(uint32_t handle,
                uint32_t level,
                uint32_t stride,
                const struct virgl_box *vbox,
                uint64_t offset,
                const struct iovec *iov,
                int iov_count,
                bool to_iov)
{
   struct vmm_resource *res = vmm_resource_lookup(handle, VMM_RESOURCE_2D);
   struct vmm_box box;

   if (!res || !vbox || level)
      return -EINVAL;
   memcpy(&box, vbox, sizeof(box));
   if (!iov || iov_count <= 0) {
      iov = res->iov;
      iov_count = res->iov_count;
   }
   if (!iov || iov_count <= 0)
      return -EINVAL;
   if ((uint64_t)box.x + box.w > res->width || (uint64_t)box.y + box.h > res->height ||
       box.z || box.d > 1)
      return -EINVAL;
   if (!stride)
      stride = res->stride;

   const size_t row_bytes = (size_t)box.w * VMM_2D_BYTES_PER_PIXEL;
   for (uint32_t r = 0; r < box.h; r++) {
      uint8_t *host = res->pixels + (size_t)(box.y + r) * res->stride +
                      (size_t)box.x * VMM_2D_BYTES_PER_PIXEL;
      if (!vmm_iov_copy(iov, iov_count, offset + (uint64_t)r * stride, host, row_bytes,
                        to_iov))
         return -EINVAL; /* the backing is too small: stop, no harm done */
   }
   return 0;
}

int
virgl_renderer_transfer_write_iov(uint32_t handle,
                                  uint32_t ctx_id,
                                  int level,
                                  uint32_t stride,
                                  uint32_t layer_stride,
                                  struct virgl_box *box,
                                  uint64_t offset,
                                  struct iovec *iovec,
                                  unsigned int iovec_cnt)
{
   if (level < 0 || iovec_cnt > INT32_MAX)
      return -EINVAL;
   return vmm_2d_transfer(handle, (uint32_t)level, stride, box, offset, iovec,
                          (int)iovec_cnt, false);
}

int
virgl_renderer_transfer_read_iov(uint32_t handle,
                                 uint32_t ctx_id,
                                 uint32_t level,
                                 uint32_t stride,
                                 uint32_t layer_stride,
                                 struct virgl_box *box,
                                 uint64_t offset,
                                 struct iovec *iov,
                                 int iovec_cnt)
{
   return vmm_2d_transfer(handle, level, stride, box, offset, iov, iovec_cnt, true);
}

void *
virgl_renderer_get_cursor_data(uint32_t resource_id, uint32_t *width, uint32_t *height)
{
   struct vmm_resource *res = vmm_resource_lookup(resource_id, VMM_RESOURCE_2D);
   if (!res || !width || !height)
      return NULL;

   /* the caller frees it with free() */
   const size_t bytes = (size_t)res->stride * res->height;
   void *data = malloc(bytes);
   if (!data)
      return NULL;
   memcpy(data, res->pixels, bytes);
   *width = res->width;
   *height = res->height;
   return data;
}
