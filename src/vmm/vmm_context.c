/*
 * Venus contexts of the VMM library: one worker process each (started with
 * fork + exec, since QEMU has threads), command streams and fences relayed
 * to it, blob resources it creates mapped into QEMU's process, fences read
 * back from its shared fence page in virgl_renderer_poll (see vmm_proto.h).
 */
#include "vmm_lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/vu_log.h"
#include "util/vu_os.h"

#define VMM_WORKER_NAME "venus-vmm-worker"
/* at cleanup: how long exiting workers get before SIGKILL */
#define VMM_EXIT_GRACE_MS 3000
/* while the VM runs: how long a worker whose context is gone may take to end
 * before SIGKILL (a context-path wait ends within a slice of the hang-up; a
 * host call that never returns does not) */
#define VMM_EXIT_LINGER_MS 10000

/* The worker executable: $VENUS_VMM_WORKER, else next to this library. */
static const char *
vmm_worker_path(void)
{
   static char path[PATH_MAX];
   Dl_info info;

   if (path[0])
      return path;
   const char *env = vu_env_string("VENUS_VMM_WORKER");
   if (env && *env) {
      snprintf(path, sizeof(path), "%s", env);
   } else if (dladdr((void *)virgl_renderer_init, &info) && info.dli_fname) {
      const char *slash = strrchr(info.dli_fname, '/');
      const int dir_len = slash ? (int)(slash - info.dli_fname) : 1;
      snprintf(path, sizeof(path), "%.*s/%s", dir_len, slash ? info.dli_fname : ".",
               VMM_WORKER_NAME);
   }
   return path;
}

bool
vmm_worker_start(struct vwk_process *out)
{
   const char *path = vmm_worker_path();

   if (!path[0] || access(path, X_OK) < 0) {
      vu_log(VU_LOG_ERROR, "vmm", "worker executable %s: %s", path[0] ? path : "(unknown)",
             strerror(errno));
      return false;
   }
   if (!vwk_spawn_exec(path, out)) {
      vu_log(VU_LOG_ERROR, "vmm", "cannot start %s: %s", path, strerror(errno));
      return false;
   }
   /* QEMU must never block forever on a worker: sends poll with a timeout */
   fcntl(out->sock, F_SETFL, fcntl(out->sock, F_GETFL) | O_NONBLOCK);
   return true;
}

void
vmm_worker_forget(struct vwk_process *proc)
{
   /* end of file tells the worker to destroy its context and exit */
   if (proc->sock >= 0)
      close(proc->sock);
   proc->sock = -1;
   if (proc->pid <= 0)
      return;
   if (vmm.exiting_count == vmm.exiting_cap) {
      const uint32_t cap = vmm.exiting_cap ? vmm.exiting_cap * 2 : 16;
      struct vmm_exiting_worker *p = realloc(vmm.exiting, cap * sizeof(*p));
      if (!p) {
         kill(proc->pid, SIGKILL);
         vwk_reap(proc->pid, true, NULL);
         proc->pid = 0;
         return;
      }
      vmm.exiting = p;
      vmm.exiting_cap = cap;
   }
   vmm.exiting[vmm.exiting_count++] = (struct vmm_exiting_worker){
      .pid = proc->pid,
      .kill_at_ns = vu_os_time_ns() + (uint64_t)VMM_EXIT_LINGER_MS * 1000000,
   };
   proc->pid = 0;
}

void
vmm_reap_workers(bool block)
{
   const uint64_t deadline = vu_os_time_ns() + (uint64_t)VMM_EXIT_GRACE_MS * 1000000;
   bool killed = false;

   for (;;) {
      const uint64_t now = vu_os_time_ns();
      for (uint32_t i = 0; i < vmm.exiting_count;) {
         struct vmm_exiting_worker *w = &vmm.exiting[i];
         int status;
         if (vwk_reap(w->pid, false, &status)) {
            if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
               vu_log(VU_LOG_WARN, "vmm", "worker %d ended by signal %d", (int)w->pid,
                      WTERMSIG(status));
            *w = vmm.exiting[--vmm.exiting_count];
            continue;
         }
         if (w->kill_at_ns && now > w->kill_at_ns) {
            vu_log(VU_LOG_WARN, "vmm", "worker %d still runs %d ms after its context "
                   "ended: killing it", (int)w->pid, VMM_EXIT_LINGER_MS);
            kill(w->pid, SIGKILL);
            w->kill_at_ns = 0;
         }
         i++;
      }
      if (!block || !vmm.exiting_count)
         return;
      if (!killed && now > deadline) {
         for (uint32_t i = 0; i < vmm.exiting_count; i++)
            kill(vmm.exiting[i].pid, SIGKILL);
         killed = true;
      }
      poll(NULL, 0, 5);
   }
}

/* ------------------------------------------------------------------ */
/* talking to a context's worker                                       */

static void
vmm_context_lose(struct vmm_context *ctx, const char *why)
{
   if (ctx->is_lost)
      return;
   ctx->is_lost = true;
   vu_log(VU_LOG_WARN, "vmm", "context %u (%s): %s; its fences signal at once, other "
          "contexts carry on", ctx->id, ctx->name, why);
}

static bool
vmm_context_send(struct vmm_context *ctx, const void *msg, size_t size, int fd)
{
   if (ctx->is_lost)
      return false;
   for (;;) {
      if (vwk_msg_send(ctx->proc.sock, msg, size, fd))
         return true;
      if (errno != EAGAIN) {
         vmm_context_lose(ctx, "its worker is gone");
         return false;
      }
      struct pollfd pfd = { .fd = ctx->proc.sock, .events = POLLOUT };
      int r;
      do {
         r = poll(&pfd, 1, VMM_REPLY_TIMEOUT_MS);
      } while (r < 0 && errno == EINTR);
      if (r <= 0) {
         vmm_context_lose(ctx, "its worker stopped reading requests");
         kill(ctx->proc.pid, SIGKILL);
         return false;
      }
   }
}

/* Waits for the reply to request `type`; *out_fd gets its fd (or -1). */
static bool
vmm_context_wait_reply(struct vmm_context *ctx,
                       uint32_t type,
                       struct vmm_reply *out,
                       int *out_fd)
{
   const ssize_t n =
      vwk_msg_recv(ctx->proc.sock, out, sizeof(*out), out_fd, VMM_REPLY_TIMEOUT_MS);
   if (n == (ssize_t)sizeof(*out) && out->type == type)
      return true;
   if (out_fd && *out_fd >= 0)
      close(*out_fd);
   if (n < 0 && errno == ETIMEDOUT) {
      vmm_context_lose(ctx, "its worker did not answer in time");
      kill(ctx->proc.pid, SIGKILL);
   } else {
      vmm_context_lose(ctx, "its worker is gone");
   }
   return false;
}

struct vmm_context *
vmm_context_lookup(uint32_t ctx_id)
{
   return vmm.is_inited ? vu_idmap_get(&vmm.contexts, ctx_id) : NULL;
}

static void
vmm_context_queue_orphan(uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   if (vmm.orphan_count == vmm.orphan_cap) {
      const uint32_t cap = vmm.orphan_cap ? vmm.orphan_cap * 2 : 64;
      struct vmm_orphan_fence *o = realloc(vmm.orphans, cap * sizeof(*o));
      if (!o)
         return;
      vmm.orphans = o;
      vmm.orphan_cap = cap;
   }
   vmm.orphans[vmm.orphan_count++] = (struct vmm_orphan_fence){ ctx_id, ring_idx, fence_id };
}

void
vmm_context_free(struct vmm_context *ctx, bool signal_fences)
{
   if (signal_fences) {
      /* guest fences still waiting on this context: signal them at the next
       * poll rather than keep them pending forever */
      for (uint32_t r = 0; r < VMM_MAX_TIMELINES; r++) {
         if (ctx->pending_mask & (1ull << r))
            vmm_context_queue_orphan(ctx->id, r, ctx->submitted[r] - 1);
      }
   }
   if (ctx->page)
      munmap((void *)ctx->page, sizeof(*ctx->page));
   vmm_worker_forget(&ctx->proc);
   free(ctx);
}

static void
vmm_context_deliver(struct vmm_context *ctx)
{
   const bool is_fatal =
      ctx->is_lost || atomic_load_explicit(&ctx->page->fatal, memory_order_acquire);
   uint64_t mask = ctx->pending_mask;

   while (mask) {
      const uint32_t r = (uint32_t)__builtin_ctzll(mask);
      mask &= mask - 1;
      const uint64_t retired =
         is_fatal ? ctx->submitted[r]
                  : atomic_load_explicit(&ctx->page->retired[r], memory_order_acquire);
      if (retired && retired != ctx->delivered[r]) {
         ctx->delivered[r] = retired;
         if (vmm.cbs->version >= 3 && vmm.cbs->write_context_fence)
            vmm.cbs->write_context_fence(vmm.cookie, ctx->id, r, retired - 1);
      }
      if (ctx->delivered[r] == ctx->submitted[r])
         ctx->pending_mask &= ~(1ull << r);
   }
}

static void
vmm_context_deliver_cb(uint64_t id, void *value, void *data)
{
   struct vmm_context *ctx = value;
   struct pollfd pfd = { .fd = ctx->proc.sock, .events = POLLIN };

   /* a worker never speaks unasked: anything readable is its end */
   if (!ctx->is_lost && poll(&pfd, 1, 0) == 1)
      vmm_context_lose(ctx, "its worker exited");
   if (ctx->pending_mask)
      vmm_context_deliver(ctx);
}

void
vmm_contexts_poll(void)
{
   vu_idmap_foreach(&vmm.contexts, vmm_context_deliver_cb, NULL);

   const uint32_t count = vmm.orphan_count;
   vmm.orphan_count = 0;
   for (uint32_t i = 0; i < count; i++) {
      if (vmm.cbs->version >= 3 && vmm.cbs->write_context_fence)
         vmm.cbs->write_context_fence(vmm.cookie, vmm.orphans[i].ctx_id,
                                      vmm.orphans[i].ring_idx, vmm.orphans[i].fence_id);
   }
}

/* ------------------------------------------------------------------ */
/* contexts                                                             */

static void
vmm_copy_debug_name(char *dst, uint32_t nlen, const char *name)
{
   uint32_t i = 0;
   for (; name && i < nlen && i < VMM_DEBUG_NAME_LEN - 1 && name[i]; i++)
      dst[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
   dst[i] = '\0';
}

int
virgl_renderer_context_create_with_flags(uint32_t ctx_id,
                                         uint32_t ctx_flags,
                                         uint32_t nlen,
                                         const char *name)
{
   const uint32_t capset_id = ctx_flags & VIRGL_RENDERER_CONTEXT_FLAG_CAPSET_ID_MASK;

   if (!vmm.is_inited || !ctx_id)
      return -EINVAL;
   if (capset_id != VMM_CAPSET_ID_VENUS || !(vmm.flags & VIRGL_RENDERER_VENUS)) {
      vu_log(vmm.has_refused_virgl ? VU_LOG_INFO : VU_LOG_WARN, "vmm",
             "context %u with capset %u refused: this library serves Venus (capset 4) "
             "contexts only",
             ctx_id, capset_id);
      vmm.has_refused_virgl = true;
      return -EINVAL;
   }
   if (vu_idmap_get(&vmm.contexts, ctx_id)) {
      vu_log(VU_LOG_WARN, "vmm", "context %u already exists", ctx_id);
      return -EEXIST;
   }
   if (vmm.context_count >= VMM_MAX_CONTEXTS) {
      vu_log(VU_LOG_WARN, "vmm", "context %u refused: %u contexts already", ctx_id,
             vmm.context_count);
      return -EBUSY;
   }
   /* the workers of destroyed contexts, overdue ones killed, also where QEMU
    * has no fence to poll for */
   vmm_reap_workers(false);

   struct vmm_context *ctx = calloc(1, sizeof(*ctx));
   if (!ctx)
      return -ENOMEM;
   ctx->id = ctx_id;
   ctx->serial = ++vmm.next_context_serial;
   ctx->proc.sock = -1;
   vmm_copy_debug_name(ctx->name, nlen, name);
   if (!vmm_worker_start(&ctx->proc)) {
      free(ctx);
      return -ENODEV;
   }

   struct vmm_req_context_init req = {
      .hdr = { .type = VMM_REQ_CONTEXT_INIT },
      .ctx_id = ctx_id,
   };
   memcpy(req.name, ctx->name, sizeof(req.name));
   struct vmm_reply reply;
   int page_fd = -1;
   if (!vmm_context_send(ctx, &req, sizeof(req), -1) ||
       !vmm_context_wait_reply(ctx, VMM_REQ_CONTEXT_INIT, &reply, &page_fd) ||
       reply.result || page_fd < 0)
      goto fail;

   void *page = mmap(NULL, sizeof(*ctx->page), PROT_READ, MAP_SHARED, page_fd, 0);
   close(page_fd);
   if (page == MAP_FAILED)
      goto fail;
   ctx->page = page;

   if (!vu_idmap_insert(&vmm.contexts, ctx_id, ctx))
      goto fail;
   vmm.context_count++;
   if (VU_DEBUG(INIT))
      vu_log(VU_LOG_INFO, "vmm", "context %u (%s): worker %d", ctx_id, ctx->name,
             (int)ctx->proc.pid);
   return 0;

fail:
   if (page_fd >= 0 && !ctx->page)
      close(page_fd);
   vu_log(VU_LOG_WARN, "vmm", "context %u (%s): creation failed", ctx_id, ctx->name);
   vmm_context_free(ctx, false);
   return -EINVAL;
}

int
virgl_renderer_context_create(uint32_t handle, uint32_t nlen, const char *name)
{
   /* a context without a capset is a virgl (GL) one */
   return virgl_renderer_context_create_with_flags(handle, 0, nlen, name);
}

void
virgl_renderer_context_destroy(uint32_t handle)
{
   struct vmm_context *ctx = vmm.is_inited ? vu_idmap_remove(&vmm.contexts, handle) : NULL;
   if (!ctx)
      return;
   if (VU_DEBUG(VMM))
      vu_log(VU_LOG_INFO, "vmm", "context %u (%s) destroyed", ctx->id, ctx->name);
   vmm.context_count--;
   vmm_context_free(ctx, true);
}

int
virgl_renderer_submit_cmd(void *buffer, int ctx_id, int ndw)
{
   struct vmm_context *ctx = vmm_context_lookup((uint32_t)ctx_id);
   if (!ctx || ndw < 0 || (uint64_t)ndw * 4 > VMM_MAX_SUBMIT_BYTES || (ndw && !buffer))
      return -EINVAL;
   if (ctx->is_lost)
      return -EIO;
   if (!ndw)
      return 0;

   const uint32_t size = (uint32_t)ndw * 4;
   if (size <= VMM_INLINE_SUBMIT_BYTES) {
      static uint8_t msg[sizeof(struct vmm_req_header) + VMM_INLINE_SUBMIT_BYTES]
         __attribute__((aligned(8)));
      const struct vmm_req_header hdr = { .type = VMM_REQ_SUBMIT, .size = size };
      memcpy(msg, &hdr, sizeof(hdr));
      memcpy(msg + sizeof(hdr), buffer, size);
      return vmm_context_send(ctx, msg, sizeof(hdr) + size, -1) ? 0 : -EIO;
   }

   /* large streams: one copy into a memfd the worker maps */
   const int fd = vu_os_create_shm("venus-vmm-stream", size);
   if (fd < 0)
      return -ENOMEM;
   bool ok = vu_os_write_full(fd, buffer, size);
   if (ok) {
      const struct vmm_req_header hdr = { .type = VMM_REQ_SUBMIT_FD, .size = size };
      ok = vmm_context_send(ctx, &hdr, sizeof(hdr), fd);
   }
   close(fd);
   return ok ? 0 : -EIO;
}

void
virgl_renderer_ctx_attach_resource(int ctx_id, int res_handle)
{
   /* Blobs belong to the context that created them; sharing one with
    * another context (an import) is not supported. 2D resources need no
    * context. */
   struct vmm_resource *res = vmm_resource_lookup((uint32_t)res_handle, VMM_RESOURCE_BLOB);
   struct vmm_context *ctx = vmm_context_lookup((uint32_t)ctx_id);
   if (res && ctx && ctx->serial != res->ctx_serial)
      vu_log(VU_LOG_INFO, "vmm",
             "resource %d of context %u attached to context %d: not shared (imports "
             "between contexts are not supported)",
             res_handle, res->ctx_id, ctx_id);
}

void
virgl_renderer_ctx_detach_resource(int ctx_id, int res_handle)
{
   /* the worker drops the resource at virgl_renderer_resource_unref */
}

/* ------------------------------------------------------------------ */
/* fences                                                              */

int
virgl_renderer_create_fence(int client_fence_id, uint32_t ctx_id)
{
   if (!vmm.is_inited)
      return EINVAL;
   vmm.has_ctx0_fence = true;
   vmm.ctx0_fence = (uint32_t)client_fence_id;
   return 0;
}

int
virgl_renderer_context_create_fence(uint32_t ctx_id,
                                    uint32_t flags,
                                    uint32_t ring_idx,
                                    uint64_t fence_id)
{
   struct vmm_context *ctx = vmm_context_lookup(ctx_id);
   if (!ctx || ring_idx >= VMM_MAX_TIMELINES)
      return -EINVAL;

   ctx->submitted[ring_idx] = fence_id + 1;
   ctx->pending_mask |= 1ull << ring_idx;
   if (ctx->is_lost)
      return 0; /* signalled at the next poll */

   const struct vmm_req_fence req = {
      .hdr = { .type = VMM_REQ_FENCE },
      .ring_idx = ring_idx,
      .fence_id = fence_id,
   };
   vmm_context_send(ctx, &req, sizeof(req), -1);
   return 0;
}

/* ------------------------------------------------------------------ */
/* blob resources                                                      */

int
virgl_renderer_resource_create_blob(const struct virgl_renderer_resource_create_blob_args *args)
{
   if (!args || !vmm.is_inited)
      return -EINVAL;
   struct vmm_context *ctx = vmm_context_lookup(args->ctx_id);
   if (!ctx || !args->res_handle || vu_idmap_get(&vmm.resources, args->res_handle))
      return -EINVAL;
   if (args->blob_mem != VIRGL_RENDERER_BLOB_MEM_HOST3D || args->num_iovs ||
       !args->size || args->size > VMM_MAX_BLOB_BYTES) {
      vu_log(VU_LOG_WARN, "vmm",
             "context %u: blob %u (mem %u, %llu bytes, %u iovs) refused: only HOST3D "
             "blobs of our Venus contexts",
             ctx->id, args->res_handle, args->blob_mem, (unsigned long long)args->size,
             args->num_iovs);
      return -EINVAL;
   }
   if (ctx->is_lost)
      return -EIO;

   const struct vmm_req_blob_create req = {
      .hdr = { .type = VMM_REQ_BLOB_CREATE },
      .res_id = args->res_handle,
      .blob_mem = args->blob_mem,
      .blob_flags = args->blob_flags,
      .blob_id = args->blob_id,
      .size = args->size,
   };
   struct vmm_reply reply;
   int fd = -1;
   if (!vmm_context_send(ctx, &req, sizeof(req), -1) ||
       !vmm_context_wait_reply(ctx, VMM_REQ_BLOB_CREATE, &reply, &fd))
      return -EIO;
   if (reply.result || fd < 0) {
      if (fd >= 0)
         close(fd);
      return reply.result ? reply.result : -EINVAL;
   }

   struct vmm_resource *res = calloc(1, sizeof(*res));
   if (!res) {
      close(fd);
      return -ENOMEM;
   }
   res->id = args->res_handle;
   res->kind = VMM_RESOURCE_BLOB;
   res->ctx_id = ctx->id;
   res->ctx_serial = ctx->serial;
   res->fd = fd;
   res->size = args->size;
   res->map_info = reply.map_info & VIRGL_RENDERER_MAP_CACHE_MASK;
   if (VU_DEBUG(VMM))
      vu_log(VU_LOG_INFO, "vmm", "context %u: blob %u (flags 0x%x, blob_id %llu, %llu bytes)",
             ctx->id, res->id, args->blob_flags, (unsigned long long)args->blob_id,
             (unsigned long long)args->size);
   if (!vmm_resource_insert(res)) {
      vmm_resource_free(res);
      return -ENOMEM;
   }
   return 0;
}

/* Drops QEMU's side of a blob and tells its worker (if any). */
void
vmm_blob_forget(struct vmm_resource *res)
{
   if (res->map)
      munmap(res->map, res->size);
   if (res->fd >= 0)
      close(res->fd);
   struct vmm_context *ctx = vmm_context_lookup(res->ctx_id);
   if (ctx && ctx->serial != res->ctx_serial)
      ctx = NULL; /* its context is gone and the id was given to a new one */
   if (VU_DEBUG(VMM))
      vu_log(VU_LOG_INFO, "vmm", "context %u: blob %u unreferenced%s", res->ctx_id, res->id,
             ctx ? "" : " (context gone)");
   if (ctx && !ctx->is_lost) {
      const struct vmm_req_resource_unref req = {
         .hdr = { .type = VMM_REQ_RESOURCE_UNREF },
         .res_id = res->id,
      };
      vmm_context_send(ctx, &req, sizeof(req), -1);
   }
}

int
virgl_renderer_resource_map(uint32_t res_handle, void **map, uint64_t *out_size)
{
   struct vmm_resource *res = vmm_resource_lookup(res_handle, VMM_RESOURCE_BLOB);
   struct stat st;

   if (!res || !map || !out_size)
      return -EINVAL;
   if (!res->map) {
      /* the file must cover the mapping (else an access beyond its end would
       * be a SIGBUS in QEMU), and must not shrink afterwards */
      if (fstat(res->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
          (uint64_t)st.st_size < res->size)
         return -EINVAL;
      fcntl(res->fd, F_ADD_SEALS, F_SEAL_SHRINK);
      void *p = mmap(NULL, res->size, PROT_READ | PROT_WRITE, MAP_SHARED, res->fd, 0);
      if (p == MAP_FAILED)
         return -errno;
      res->map = p;
   }
   *map = res->map;
   *out_size = res->size;
   return 0;
}

int
virgl_renderer_resource_unmap(uint32_t res_handle)
{
   struct vmm_resource *res = vmm_resource_lookup(res_handle, VMM_RESOURCE_BLOB);
   if (!res || !res->map)
      return -EINVAL;
   munmap(res->map, res->size);
   res->map = NULL;
   return 0;
}

int
virgl_renderer_resource_get_map_info(uint32_t res_handle, uint32_t *map_info)
{
   struct vmm_resource *res = vmm_resource_lookup(res_handle, VMM_RESOURCE_BLOB);
   if (!res || !map_info)
      return -EINVAL;
   *map_info = res->map_info;
   return 0;
}
