/*
 * The transport interface (vn_transport.h): the choice of transport, the
 * capset checks, the blob bookkeeping both transports share, and waits on
 * fence fds.
 */
#include "vn_transport.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "transport/vw_vtest.h"

/* wire format versions this driver speaks (command-types.md W.9) */
#define VN_WIRE_FORMAT_MAX 1

bool
vn_transport_check_capset(const struct vw_capset *c, const char *transport_name)
{
   if (VU_DEBUG(INIT)) {
      vn_log_debug("%s capset: wire format %u, vk.xml %u.%u.%u, cmd serialization spec %u, "
                  "venus spec %u, blob_id_0 %u, wait syncs %u, timelines %u, guest vram %u",
                  transport_name, c->wire_format_version,
                  VK_API_VERSION_MAJOR(c->vk_xml_version),
                  VK_API_VERSION_MINOR(c->vk_xml_version),
                  VK_API_VERSION_PATCH(c->vk_xml_version),
                  c->vk_ext_command_serialization_spec_version,
                  c->vk_mesa_venus_protocol_spec_version, c->supports_blob_id_0,
                  c->allow_vk_wait_syncs, c->supports_multiple_timelines, c->use_guest_vram);
   }
   if (c->wire_format_version > VN_WIRE_FORMAT_MAX) {
      vn_log_err("renderer speaks Venus wire format %u; this driver knows 0 and 1",
                 c->wire_format_version);
      return false;
   }
   if (c->vk_xml_version < VK_API_VERSION_1_1) {
      vn_log_err("renderer protocol is too old (vk.xml %u.%u)",
                 VK_API_VERSION_MAJOR(c->vk_xml_version),
                 VK_API_VERSION_MINOR(c->vk_xml_version));
      return false;
   }
   if (!c->supports_multiple_timelines) {
      vn_log_err("renderer lacks per-queue timelines");
      return false;
   }
   if (c->use_guest_vram) {
      vn_log_err("renderer requires guest VRAM, which this driver does not implement "
                 "(%s transport)",
                 transport_name);
      return false;
   }
   /* blob_id-0 shared memory works on every renderer in practice, even where
    * 0.10.4 reports 0 (command-types.md W.1) */
   if (!c->supports_blob_id_0 && c->wire_format_version > 0)
      vn_log_warn("renderer does not report blob_id 0 support; trying anyway");
   return true;
}

VkResult
vn_transport_create(struct vn_transport **out_transport)
{
   /* asked for by name, as Mesa's VN_DEBUG=vtest, or by a socket path */
   if (VU_DEBUG(VTEST) || vu_env_get()->vtest_socket)
      return vn_transport_vtest_create(out_transport);

   char why[256] = "";
   const VkResult result = vn_transport_virtgpu_create(out_transport, why, sizeof(why));
   if (result != VK_ERROR_INCOMPATIBLE_DRIVER)
      return result;
   /* a host with a vtest server at the default place (e.g. a socket-
    * activated venus-server) */
   if (access(VTEST_DEFAULT_SOCKET_NAME, F_OK) == 0)
      return vn_transport_vtest_create(out_transport);
   vn_log_err("no Venus device: %s, and no vtest server at %s (set VTEST_SOCKET_NAME or "
              "use venus-run)",
              why, VTEST_DEFAULT_SOCKET_NAME);
   return VK_ERROR_INCOMPATIBLE_DRIVER;
}

void
vn_transport_init_base(struct vn_transport *t, const struct vn_transport_ops *ops)
{
   t->ops = ops;
   atomic_init(&t->lost, false);
   mtx_init(&t->blob_mutex, mtx_plain);
   t->shared_blobs = NULL;
}

void
vn_transport_fini_base(struct vn_transport *t)
{
   /* memory the application never freed: its blobs go with the transport */
   while (t->shared_blobs) {
      struct vn_blob *blob = t->shared_blobs;
      t->shared_blobs = blob->next;
      t->ops->blob_destroy(t, blob);
      free(blob);
   }
   mtx_destroy(&t->blob_mutex);
}

void
vn_transport_destroy(struct vn_transport *t)
{
   if (t)
      t->ops->destroy(t);
}

void
vn_transport_set_lost(struct vn_transport *t, const char *why)
{
   bool expected = false;
   if (atomic_compare_exchange_strong(&t->lost, &expected, true))
      vn_log_err("device lost: %s", why);
}

bool
vn_transport_shm_create(struct vn_transport *t, size_t size, struct vn_shm *shm)
{
   memset(shm, 0, sizeof(*shm));
   if (vn_transport_is_lost(t))
      return false;
   return t->ops->shm_create(t, VN_ALIGN(size, (size_t)4096), shm);
}

void
vn_transport_shm_destroy(struct vn_transport *t, struct vn_shm *shm)
{
   if (shm->ptr || shm->res_id)
      t->ops->shm_destroy(t, shm);
   memset(shm, 0, sizeof(*shm));
}

struct vn_blob *
vn_transport_blob_create_locked(struct vn_transport *t,
                                uint64_t blob_id,
                                size_t size,
                                uint32_t flags)
{
   if (vn_transport_is_lost(t))
      return NULL;
   struct vn_blob *blob = calloc(1, sizeof(*blob));
   if (!blob)
      return NULL;
   atomic_init(&blob->refs, 1);
   blob->fd = -1;
   blob->size = size;
   if (!t->ops->blob_create(t, blob_id, flags, blob)) {
      free(blob);
      return NULL;
   }
   if (flags & VCMD_BLOB_FLAG_SHAREABLE) {
      blob->next = t->shared_blobs;
      t->shared_blobs = blob;
   }
   return blob;
}

struct vn_blob *
vn_transport_blob_lookup_fd(struct vn_transport *t, int fd)
{
   if (fd < 0 || vn_transport_is_lost(t))
      return NULL;
   mtx_lock(&t->blob_mutex);
   struct vn_blob *blob = t->ops->blob_import_locked(t, fd);
   mtx_unlock(&t->blob_mutex);
   return blob;
}

struct vn_blob *
vn_transport_blob_import_fd(struct vn_transport *t, int fd, bool dma_buf, uint64_t size)
{
   if (fd < 0 || vn_transport_is_lost(t))
      return NULL;
   mtx_lock(&t->blob_mutex);
   struct vn_blob *blob = t->ops->blob_import_locked(t, fd);
   if (!blob && t->can_import_foreign_memory && t->ops->blob_import_foreign_locked) {
      blob = t->ops->blob_import_foreign_locked(t, fd, dma_buf, size);
      if (blob) {
         blob->next = t->shared_blobs;
         t->shared_blobs = blob;
      }
   }
   mtx_unlock(&t->blob_mutex);
   return blob;
}

int
vn_transport_blob_export_fd(struct vn_transport *t, const struct vn_blob *blob)
{
   return t->ops->blob_export(t, blob);
}

bool
vn_transport_blob_unref_locked(struct vn_transport *t, struct vn_blob *blob)
{
   if (atomic_fetch_sub_explicit(&blob->refs, 1, memory_order_acq_rel) != 1)
      return false;
   for (struct vn_blob **link = &t->shared_blobs; *link; link = &(*link)->next) {
      if (*link == blob) {
         *link = blob->next;
         break;
      }
   }
   t->ops->blob_destroy(t, blob);
   free(blob);
   return true;
}

bool
vn_transport_submit(struct vn_transport *t, const void *cmd, size_t size)
{
   if (vn_transport_is_lost(t))
      return false;
   return t->ops->submit(t, cmd, size);
}

int
vn_transport_submit_fence_fd(struct vn_transport *t,
                             const void *cmd,
                             size_t size,
                             uint32_t ring_idx)
{
   if (vn_transport_is_lost(t))
      return -1;
   return t->ops->submit_fence_fd(t, cmd, size, ring_idx);
}

bool
vn_transport_submit_wait(struct vn_transport *t,
                         const void *cmd,
                         size_t size,
                         uint32_t ring_idx,
                         int timeout_ms)
{
   const int fd = vn_transport_submit_fence_fd(t, cmd, size, ring_idx);
   if (fd < 0)
      return false;
   struct pollfd pfd = { .fd = fd, .events = POLLIN };
   int ret;
   do {
      ret = poll(&pfd, 1, timeout_ms);
   } while (ret < 0 && errno == EINTR);
   close(fd);
   if (ret != 1 || (pfd.revents & (POLLERR | POLLNVAL))) {
      vn_transport_set_lost(t, ret == 0 ? "renderer did not retire a fence in time"
                                        : "fence wait failed");
      return false;
   }
   return true;
}

bool
vn_transport_probe(struct vn_transport *t)
{
   if (vn_transport_is_lost(t))
      return false;
   return t->ops->probe(t);
}
