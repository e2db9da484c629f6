/*
 * vtest transport (see vn_transport.h): session start, capset checks, blob
 * resources and context-path submissions over src/transport's client.
 */
#include "vn_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "transport/vw_vtest.h"
#include "transport/vw_vtest_client.h"

/* wire format versions this driver speaks (command-types.md W.9) */
#define VN_WIRE_FORMAT_MAX 1

static bool
vn_transport_check_capset(const struct vw_capset *c)
{
   if (VU_DEBUG(INIT)) {
      vn_log_debug("capset: wire format %u, vk.xml %u.%u.%u, cmd serialization spec %u, "
                  "venus spec %u, blob_id_0 %u, wait syncs %u, timelines %u, guest vram %u",
                  c->wire_format_version, VK_API_VERSION_MAJOR(c->vk_xml_version),
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
      vn_log_err("renderer requires guest VRAM, which the vtest transport cannot provide");
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
   struct vn_transport *t = calloc(1, sizeof(*t));
   if (!t)
      return VK_ERROR_OUT_OF_HOST_MEMORY;

   t->client = vw_vtest_connect(NULL);
   if (!t->client) {
      vn_log_err("cannot reach a vtest server (set VTEST_SOCKET_NAME, or use "
                 "tools/venus-run)");
      goto fail;
   }
   if (!vw_vtest_start_session(t->client, "venus", &t->capset))
      goto fail_client;
   t->max_timelines = vw_vtest_max_timeline_count(t->client);
   if (t->max_timelines < 2) {
      vn_log_err("vtest server offers %u timelines", t->max_timelines);
      goto fail_client;
   }
   if (t->max_timelines > 64)
      t->max_timelines = 64;
   if (!vn_transport_check_capset(&t->capset))
      goto fail_client;
   if (!vw_vtest_context_init(t->client, VW_CAPSET_ID_VENUS))
      goto fail_client;
   if (!vw_vtest_sync_create(t->client, 0, &t->probe_sync))
      goto fail_client;
   mtx_init(&t->blob_mutex, mtx_plain);

   *out_transport = t;
   return VK_SUCCESS;

fail_client:
   vw_vtest_disconnect(t->client);
fail:
   free(t);
   return VK_ERROR_INITIALIZATION_FAILED;
}

void
vn_transport_destroy(struct vn_transport *t)
{
   if (!t)
      return;
   /* memory the application never freed: its blobs go with the connection */
   while (t->shared_blobs) {
      struct vn_blob *blob = t->shared_blobs;
      t->shared_blobs = blob->next;
      if (blob->ptr)
         munmap(blob->ptr, blob->size);
      close(blob->fd);
      free(blob);
   }
   mtx_destroy(&t->blob_mutex);
   vw_vtest_disconnect(t->client);
   free(t);
}

void
vn_transport_set_lost(struct vn_transport *t, const char *why)
{
   bool expected = false;
   if (atomic_compare_exchange_strong(&t->lost, &expected, true))
      vn_log_err("device lost: %s", why);
}

static bool
vn_transport_map_fd(int fd, size_t size, struct vn_shm *shm)
{
   void *ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   if (ptr == MAP_FAILED) {
      vn_log_err("cannot map a blob of %zu bytes: %s", size, strerror(errno));
      return false;
   }
   shm->ptr = ptr;
   shm->size = size;
   return true;
}

bool
vn_transport_shm_create(struct vn_transport *t, size_t size, struct vn_shm *shm)
{
   int fd;

   memset(shm, 0, sizeof(*shm));
   if (vn_transport_is_lost(t))
      return false;
   size = VN_ALIGN(size, (size_t)4096);
   if (!vw_vtest_resource_create_blob(t->client, VCMD_BLOB_TYPE_HOST3D,
                                      VCMD_BLOB_FLAG_MAPPABLE, size, 0, &shm->res_id, &fd)) {
      vn_transport_set_lost(t, "shared-memory blob creation failed");
      return false;
   }
   if (!vn_transport_map_fd(fd, size, shm)) {
      vw_vtest_resource_unref(t->client, shm->res_id);
      return false;
   }
   return true;
}

void
vn_transport_shm_destroy(struct vn_transport *t, struct vn_shm *shm)
{
   if (shm->ptr)
      munmap(shm->ptr, shm->size);
   if (shm->res_id && !vn_transport_is_lost(t))
      vw_vtest_resource_unref(t->client, shm->res_id);
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

   int fd;
   if (!vw_vtest_resource_create_blob(t->client, VCMD_BLOB_TYPE_HOST3D, flags, size, blob_id,
                                      &blob->res_id, &fd)) {
      /* vtest drops the client on a failed blob: nothing more will work */
      vn_transport_set_lost(t, "device-memory blob creation failed (the renderer could "
                               "not export the memory)");
      free(blob);
      return NULL;
   }
   if (flags & VCMD_BLOB_FLAG_MAPPABLE) {
      blob->ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (blob->ptr == MAP_FAILED) {
         vn_log_err("cannot map a blob of %zu bytes: %s", size, strerror(errno));
         blob->ptr = NULL;
         goto fail;
      }
   }
   if (flags & VCMD_BLOB_FLAG_SHAREABLE) {
      struct stat st;
      if (fstat(fd, &st) != 0) {
         vn_log_err("fstat of an exported blob: %s", strerror(errno));
         goto fail;
      }
      blob->fd = fd;
      blob->st_dev = st.st_dev;
      blob->st_ino = st.st_ino;
      blob->next = t->shared_blobs;
      t->shared_blobs = blob;
   } else {
      close(fd);
   }
   return blob;

fail:
   if (blob->ptr)
      munmap(blob->ptr, size);
   close(fd);
   vw_vtest_resource_unref(t->client, blob->res_id);
   free(blob);
   return NULL;
}

/* Whether two fds share one open file description (the application's fd
 * is a dup of ours); -1 when the kernel cannot tell (no kcmp). */
static int
vn_fd_same_file(int a, int b)
{
   const pid_t pid = getpid();
   const long ret = syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);
   return ret < 0 ? -1 : ret == 0;
}

struct vn_blob *
vn_transport_blob_lookup_fd(struct vn_transport *t, int fd)
{
   struct stat st;
   if (fd < 0 || fstat(fd, &st) != 0)
      return NULL;
   mtx_lock(&t->blob_mutex);
   struct vn_blob *found = NULL;
   unsigned matches = 0;
   for (struct vn_blob *b = t->shared_blobs; b; b = b->next) {
      if (b->st_dev == st.st_dev && b->st_ino == st.st_ino) {
         matches++;
         if (!found)
            found = b;
      }
   }
   /* Host drivers whose exported fds all name one device file would make
    * the inode ambiguous: then the open file description decides. */
   if (matches > 1) {
      found = NULL;
      for (struct vn_blob *b = t->shared_blobs; b && !found; b = b->next) {
         if (b->st_dev == st.st_dev && b->st_ino == st.st_ino && vn_fd_same_file(fd, b->fd) == 1)
            found = b;
      }
   }
   if (found)
      vn_blob_ref(found);
   mtx_unlock(&t->blob_mutex);
   return found;
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
   if (blob->ptr)
      munmap(blob->ptr, blob->size);
   if (blob->fd >= 0)
      close(blob->fd);
   if (!vn_transport_is_lost(t))
      vw_vtest_resource_unref(t->client, blob->res_id);
   free(blob);
   return true;
}

bool
vn_transport_submit(struct vn_transport *t, const void *cmd, size_t size)
{
   if (vn_transport_is_lost(t))
      return false;
   const struct vw_vtest_submit_batch batch = {
      .cmd = cmd,
      .cmd_size = size,
      .has_ring_idx = true,
      .ring_idx = 0,
   };
   if (!vw_vtest_submit_cmd2(t->client, &batch, 1)) {
      vn_transport_set_lost(t, "context submission failed (server gone)");
      return false;
   }
   return true;
}

int
vn_transport_submit_sync_fd(struct vn_transport *t,
                            const void *cmd,
                            size_t size,
                            uint32_t ring_idx,
                            uint32_t sync_id,
                            uint64_t value,
                            uint32_t timeout_ms)
{
   if (vn_transport_is_lost(t))
      return -1;
   const struct vw_vtest_sync_point point = { sync_id, value };
   const struct vw_vtest_submit_batch batch = {
      .cmd = cmd,
      .cmd_size = size,
      .has_ring_idx = true,
      .ring_idx = ring_idx,
      .syncs = &point,
      .sync_count = 1,
   };
   if (!vw_vtest_submit_cmd2(t->client, &batch, 1)) {
      vn_transport_set_lost(t, "context submission failed (server gone)");
      return -1;
   }
   const int fd = vw_vtest_sync_wait(t->client, 0, timeout_ms, &point, 1);
   if (fd < 0)
      vn_transport_set_lost(t, "sync wait failed (server gone)");
   return fd;
}

bool
vn_transport_submit_wait(struct vn_transport *t,
                         const void *cmd,
                         size_t size,
                         uint32_t ring_idx,
                         int timeout_ms)
{
   /* fences of one timeline retire in order; the sync only grows */
   const uint64_t value = atomic_fetch_add(&t->probe_value, 1) + 1;
   const int fd = vn_transport_submit_sync_fd(t, cmd, size, ring_idx, t->probe_sync, value,
                                              (uint32_t)timeout_ms);
   if (fd < 0)
      return false;
   const int ret = vw_vtest_wait_fd(fd, timeout_ms);
   close(fd);
   if (ret != 1) {
      vn_transport_set_lost(t, ret == 0 ? "renderer did not retire a fence in time"
                                        : "sync wait failed");
      return false;
   }
   return true;
}

bool
vn_transport_probe(struct vn_transport *t)
{
   uint64_t value;
   if (vn_transport_is_lost(t))
      return false;
   if (!vw_vtest_sync_read(t->client, t->probe_sync, &value)) {
      vn_transport_set_lost(t, "vtest server closed the connection");
      return false;
   }
   return true;
}
