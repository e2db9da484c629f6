/*
 * vtest transport (vn_transport.h, transport.md §A): session start, blob
 * resources whose fds the server sends, context-path submissions, and fence
 * fds made of vtest syncs (one per timeline) and SYNC_WAIT eventfds.
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
#include "util/vu_os.h"

#define VN_VTEST_MAX_TIMELINES 64

struct vn_vtest {
   struct vn_transport base;
   struct vw_vtest_client *client;
   /* a vtest sync read to probe the server */
   uint32_t probe_sync;
   /* per timeline: a sync set by each fence fd's fence; its value only
    * grows, since fences of one timeline retire in order and values are
    * handed out and submitted under the mutex */
   mtx_t sync_mutex;
   uint32_t timeline_sync[VN_VTEST_MAX_TIMELINES];
   uint64_t timeline_value[VN_VTEST_MAX_TIMELINES];
};

static inline struct vn_vtest *
vn_vtest(struct vn_transport *t)
{
   return (struct vn_vtest *)t;
}

static void
vn_vtest_destroy(struct vn_transport *t)
{
   struct vn_vtest *v = vn_vtest(t);
   vn_transport_fini_base(t);
   /* the server drops the syncs with the connection; exported eventfds are
    * files of their own and outlive it */
   mtx_destroy(&v->sync_mutex);
   vw_vtest_disconnect(v->client);
   free(v);
}

/* A host driver that pins the memory it imports (NVIDIA) has every page of
 * the file already: the mapping then comes filled in, as the host's own
 * would, instead of faulting each page in on first touch. Memory the host
 * has not touched yet (lavapipe) stays unallocated. */
static bool
vn_vtest_map_fd(int fd, size_t size, void **out_ptr)
{
   bool populated;
   void *ptr = vu_os_map_shared(fd, size, &populated);
   if (!ptr) {
      vn_log_err("cannot map a blob of %zu bytes: %s", size, strerror(errno));
      return false;
   }
   if (populated)
      vn_log_debug("blob of %zu bytes mapped with its pages", size);
   *out_ptr = ptr;
   return true;
}

static bool
vn_vtest_shm_create(struct vn_transport *t, size_t size, struct vn_shm *shm)
{
   struct vn_vtest *v = vn_vtest(t);
   int fd;
   if (!vw_vtest_resource_create_blob(v->client, VCMD_BLOB_TYPE_HOST3D,
                                      VCMD_BLOB_FLAG_MAPPABLE, size, 0, &shm->res_id, &fd)) {
      vn_transport_set_lost(t, "shared-memory blob creation failed");
      return false;
   }
   const bool mapped = vn_vtest_map_fd(fd, size, &shm->ptr);
   close(fd);
   if (!mapped) {
      vw_vtest_resource_unref(v->client, shm->res_id);
      shm->res_id = 0;
      return false;
   }
   shm->size = size;
   return true;
}

static void
vn_vtest_shm_destroy(struct vn_transport *t, struct vn_shm *shm)
{
   if (shm->ptr)
      munmap(shm->ptr, shm->size);
   if (shm->res_id && !vn_transport_is_lost(t))
      vw_vtest_resource_unref(vn_vtest(t)->client, shm->res_id);
}

static bool
vn_vtest_blob_create(struct vn_transport *t, uint64_t blob_id, uint32_t flags, struct vn_blob *blob)
{
   struct vn_vtest *v = vn_vtest(t);
   int fd;
   if (!vw_vtest_resource_create_blob(v->client, VCMD_BLOB_TYPE_HOST3D, flags, blob->size,
                                      blob_id, &blob->res_id, &fd)) {
      /* vtest drops the client on a failed blob: nothing more will work */
      vn_transport_set_lost(t, "device-memory blob creation failed (the renderer could "
                               "not export the memory)");
      return false;
   }
   if ((flags & VCMD_BLOB_FLAG_MAPPABLE) && !vn_vtest_map_fd(fd, blob->size, &blob->ptr))
      goto fail;
   if (flags & VCMD_BLOB_FLAG_SHAREABLE) {
      struct stat st;
      if (fstat(fd, &st) != 0) {
         vn_log_err("fstat of an exported blob: %s", strerror(errno));
         goto fail;
      }
      blob->fd = fd;
      blob->st_dev = st.st_dev;
      blob->st_ino = st.st_ino;
   } else {
      close(fd);
   }
   return true;

fail:
   if (blob->ptr)
      munmap(blob->ptr, blob->size);
   blob->ptr = NULL;
   close(fd);
   vw_vtest_resource_unref(v->client, blob->res_id);
   return false;
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

/* an fd this connection exported (or imported), recognised by its file */
static struct vn_blob *
vn_vtest_blob_import_locked(struct vn_transport *t, int fd)
{
   struct stat st;
   if (fstat(fd, &st) != 0)
      return NULL;
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
   return found;
}

/* Any other fd goes to the server (VCMD_VENUS_RESOURCE_IMPORT_FD), which
 * makes a resource of it; the blob keeps a dup for exports and lookups, and
 * maps it where it can (host-visible memory is the exporter's memfd). */
static struct vn_blob *
vn_vtest_blob_import_foreign_locked(struct vn_transport *t,
                                    int fd,
                                    bool dma_buf,
                                    uint64_t alloc_size)
{
   struct vn_vtest *v = vn_vtest(t);
   struct stat st;
   if (fstat(fd, &st) != 0)
      return NULL;
   /* shared memory has a file size; a dma-buf (an anonymous inode) tells its
    * size by seeking (its offset is only ever 0 or the end); other files
    * (NVIDIA's opaque fds are files of its control node) tell none: the
    * allocation's size, which the host driver's import checks */
   off_t size = (off_t)alloc_size;
   const bool is_shm = S_ISREG(st.st_mode);
   const bool is_anon = (st.st_mode & S_IFMT) == 0;
   if (is_shm) {
      size = st.st_size;
   } else if (is_anon) {
      size = lseek(fd, 0, SEEK_END);
      lseek(fd, 0, SEEK_SET);
   }
   if (size <= 0)
      return NULL;
   struct vn_blob *blob = calloc(1, sizeof(*blob));
   if (!blob)
      return NULL;
   blob->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
   if (blob->fd < 0) {
      free(blob);
      return NULL;
   }
   if (!vw_vtest_resource_import_fd(v->client,
                                    dma_buf ? VCMD_VENUS_IMPORT_KIND_DMA_BUF
                                            : VCMD_VENUS_IMPORT_KIND_OPAQUE_FD,
                                    (uint64_t)size, fd, &blob->res_id)) {
      vn_transport_set_lost(t, "memory fd import failed (server gone)");
      blob->res_id = 0;
   }
   if (!blob->res_id) {
      close(blob->fd);
      free(blob);
      return NULL;
   }
   atomic_init(&blob->refs, 1);
   blob->size = (size_t)size;
   blob->st_dev = st.st_dev;
   blob->st_ino = st.st_ino;
   blob->dma_buf = dma_buf;
   if (is_shm || is_anon) {
      void *ptr = mmap(NULL, blob->size, PROT_READ | PROT_WRITE, MAP_SHARED, blob->fd, 0);
      blob->ptr = ptr == MAP_FAILED ? NULL : ptr;
   }
   return blob;
}

static int
vn_vtest_blob_export(struct vn_transport *t, const struct vn_blob *blob)
{
   (void)t;
   return fcntl(blob->fd, F_DUPFD_CLOEXEC, 0);
}

static void
vn_vtest_blob_destroy(struct vn_transport *t, struct vn_blob *blob)
{
   if (blob->ptr)
      munmap(blob->ptr, blob->size);
   if (blob->fd >= 0)
      close(blob->fd);
   if (!vn_transport_is_lost(t))
      vw_vtest_resource_unref(vn_vtest(t)->client, blob->res_id);
}

static bool
vn_vtest_submit(struct vn_transport *t, const void *cmd, size_t size)
{
   const struct vw_vtest_submit_batch batch = {
      .cmd = cmd,
      .cmd_size = size,
      .has_ring_idx = true,
      .ring_idx = 0,
   };
   if (!vw_vtest_submit_cmd2(vn_vtest(t)->client, &batch, 1)) {
      vn_transport_set_lost(t, "context submission failed (server gone)");
      return false;
   }
   return true;
}

static int
vn_vtest_submit_fence_fd(struct vn_transport *t, const void *cmd, size_t size, uint32_t ring_idx)
{
   struct vn_vtest *v = vn_vtest(t);
   if (ring_idx >= t->max_timelines) {
      vn_log_err("fence on timeline %u of %u", ring_idx, t->max_timelines);
      return -1;
   }
   mtx_lock(&v->sync_mutex);
   if (!v->timeline_sync[ring_idx] &&
       !vw_vtest_sync_create(v->client, 0, &v->timeline_sync[ring_idx])) {
      mtx_unlock(&v->sync_mutex);
      vn_transport_set_lost(t, "vtest sync creation failed");
      return -1;
   }
   const struct vw_vtest_sync_point point = { v->timeline_sync[ring_idx],
                                              ++v->timeline_value[ring_idx] };
   const struct vw_vtest_submit_batch batch = {
      .cmd = cmd,
      .cmd_size = size,
      .has_ring_idx = true,
      .ring_idx = ring_idx,
      .syncs = &point,
      .sync_count = 1,
   };
   const bool submitted = vw_vtest_submit_cmd2(v->client, &batch, 1);
   mtx_unlock(&v->sync_mutex);
   if (!submitted) {
      vn_transport_set_lost(t, "context submission failed (server gone)");
      return -1;
   }
   /* the server keeps the wait until the value is reached */
   const int fd = vw_vtest_sync_wait(v->client, 0, UINT32_MAX, &point, 1);
   if (fd < 0)
      vn_transport_set_lost(t, "sync wait failed (server gone)");
   return fd;
}

static bool
vn_vtest_probe(struct vn_transport *t)
{
   struct vn_vtest *v = vn_vtest(t);
   uint64_t value;
   if (!vw_vtest_sync_read(v->client, v->probe_sync, &value)) {
      vn_transport_set_lost(t, "vtest server closed the connection");
      return false;
   }
   return true;
}

static const struct vn_transport_ops vn_vtest_ops = {
   .name = "vtest",
   .destroy = vn_vtest_destroy,
   .shm_create = vn_vtest_shm_create,
   .shm_destroy = vn_vtest_shm_destroy,
   .blob_create = vn_vtest_blob_create,
   .blob_import_locked = vn_vtest_blob_import_locked,
   .blob_import_foreign_locked = vn_vtest_blob_import_foreign_locked,
   .blob_export = vn_vtest_blob_export,
   .blob_destroy = vn_vtest_blob_destroy,
   .submit = vn_vtest_submit,
   .submit_fence_fd = vn_vtest_submit_fence_fd,
   .probe = vn_vtest_probe,
};

VkResult
vn_transport_vtest_create(struct vn_transport **out_transport)
{
   struct vn_vtest *v = calloc(1, sizeof(*v));
   if (!v)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   struct vn_transport *t = &v->base;

   v->client = vw_vtest_connect(NULL);
   if (!v->client) {
      vn_log_err("cannot reach a vtest server (set VTEST_SOCKET_NAME, or use "
                 "tools/venus-run)");
      goto fail;
   }
   if (!vw_vtest_start_session(v->client, "venus", &t->capset))
      goto fail_client;
   t->max_timelines = vw_vtest_max_timeline_count(v->client);
   if (t->max_timelines < 2) {
      vn_log_err("vtest server offers %u timelines", t->max_timelines);
      goto fail_client;
   }
   if (t->max_timelines > VN_VTEST_MAX_TIMELINES)
      t->max_timelines = VN_VTEST_MAX_TIMELINES;
   if (!vn_transport_check_capset(&t->capset, "vtest"))
      goto fail_client;
   if (!vw_vtest_context_init(v->client, VW_CAPSET_ID_VENUS))
      goto fail_client;
   if (!vw_vtest_sync_create(v->client, 0, &v->probe_sync))
      goto fail_client;
   bool import_fd_valid;
   uint32_t import_fd;
   if (!vw_vtest_get_param(v->client, VCMD_PARAM_VENUS_RESOURCE_IMPORT_FD, &import_fd_valid,
                           &import_fd))
      goto fail_client;
   mtx_init(&v->sync_mutex, mtx_plain);
   vn_transport_init_base(t, &vn_vtest_ops);
   /* renderers behind vtest keep the fd of a SHAREABLE blob */
   t->can_import_memory = true;
   /* and ours takes fds from the client (virglrenderer's vtest does not:
    * there only fds this connection exported can be imported) */
   t->can_import_foreign_memory = import_fd_valid && import_fd;
   if (VU_DEBUG(INIT))
      vn_log_debug("transport: vtest");

   *out_transport = t;
   return VK_SUCCESS;

fail_client:
   vw_vtest_disconnect(v->client);
fail:
   free(v);
   return VK_ERROR_INITIALIZATION_FAILED;
}
