/*
 * venus-vmm-worker: the process that holds one Venus context for the VMM
 * library (vmm_context.c starts it with fork + exec, its socket at fd 3).
 * It runs the shared worker loop (src/worker/) over the requests of
 * vmm_proto.h and publishes retired fences in the shared fence page. Fences
 * retire on a thread of their own (as in virglrenderer's render workers): a
 * context-path command may block the main thread in a host wait that only a
 * guest fence signalled later can end, and that fence must not wait for the
 * main thread. A
 * context that turns fatal stays here, inert, until the guest destroys it;
 * the library then signals its fences at once. End of file on the socket
 * (context destroyed, or QEMU gone) ends the process.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <threads.h>
#include <unistd.h>

#include "util/vu_log.h"
#include "util/vu_os.h"
#include "util/vu_version.h"
#include "renderer/vkr_renderer.h"
#include "worker/vwk_worker.h"

#include "virglrenderer.h"
#include "vmm_proto.h"

/* how often an idle worker checks whether a ring thread made the context
 * fatal */
#define VMM_WORKER_FATAL_CHECK_MS 50
/* how often the fence thread looks at its stop flag */
#define VMM_WORKER_FENCE_POLL_MS 100

struct vmm_worker {
   int sock;
   uint32_t ctx_id;
   char name[VMM_DEBUG_NAME_LEN];
   struct vkr_context *ctx;
   struct vmm_fence_page *page;
   int page_fd;
   thrd_t fence_thread;
   bool has_fence_thread;
   atomic_bool stop_fences;
   /* one request; inline streams up to VMM_INLINE_SUBMIT_BYTES */
   alignas(8) uint8_t buf[sizeof(struct vmm_req_header) + VMM_INLINE_SUBMIT_BYTES];
};

static void
vmm_worker_retire_fence(void *data, uint32_t ring_idx, uint64_t fence_id)
{
   struct vmm_worker *w = data;
   if (ring_idx < VMM_MAX_TIMELINES)
      atomic_store_explicit(&w->page->retired[ring_idx], fence_id + 1,
                            memory_order_release);
}

/* the VMM closes the socket when the guest destroys the context */
static bool
vmm_worker_peer_gone(void *data)
{
   return vwk_peer_hung_up(((const struct vmm_worker *)data)->sock);
}

/* Publishes the fatal state once (the renderer has logged why). */
static void
vmm_worker_check_fatal(struct vmm_worker *w)
{
   if (w->ctx && !atomic_load_explicit(&w->page->fatal, memory_order_relaxed) &&
       vkr_context_is_fatal(w->ctx))
      atomic_store_explicit(&w->page->fatal, 1, memory_order_release);
}

/* Retires fences as their eventfd fires; vkr_context_retire_fences and
 * vmm_worker_retire_fence only take the renderer's retire lock and store
 * atomics, so they may run beside the main thread. */
static int
vmm_worker_fence_main(void *data)
{
   struct vmm_worker *w = data;
   struct pollfd pfd = { .fd = vkr_context_get_fence_fd(w->ctx), .events = POLLIN };

   while (!atomic_load(&w->stop_fences)) {
      if (poll(&pfd, 1, VMM_WORKER_FENCE_POLL_MS) == 1 && (pfd.revents & POLLIN))
         vkr_context_retire_fences(w->ctx);
   }
   return 0;
}

static bool
vmm_worker_reply(struct vmm_worker *w, uint32_t type, int32_t result, int fd)
{
   const struct vmm_reply reply = {
      .type = type,
      .result = result,
      .map_info = VIRGL_RENDERER_MAP_CACHE_CACHED,
   };
   if (!vwk_msg_send(w->sock, &reply, sizeof(reply), fd)) {
      vu_log(VU_LOG_ERROR, "vmm", "context %u: reply failed: %s", w->ctx_id,
             strerror(errno));
      return false;
   }
   return true;
}

static bool
vmm_worker_capset(struct vmm_worker *w, const struct vmm_req_capset *req)
{
   alignas(8) uint8_t msg[sizeof(struct vmm_reply) + VMM_CAPSET_MAX_BYTES];
   struct vmm_reply *reply = (struct vmm_reply *)msg;

   size_t size = vkr_renderer_get_capset(req->capset_id, req->version,
                                         msg + sizeof(*reply), VMM_CAPSET_MAX_BYTES);
   if (size > VMM_CAPSET_MAX_BYTES)
      size = 0;
   *reply = (struct vmm_reply){ .type = VMM_REQ_CAPSET, .size = (uint32_t)size };
   return vwk_msg_send(w->sock, msg, sizeof(*reply) + size, -1);
}

static bool
vmm_worker_context_init(struct vmm_worker *w, const struct vmm_req_context_init *req)
{
   if (w->ctx) {
      vu_log(VU_LOG_ERROR, "vmm", "context %u: second CONTEXT_INIT", w->ctx_id);
      return false;
   }
   w->ctx_id = req->ctx_id;
   memcpy(w->name, req->name, sizeof(w->name));
   w->name[sizeof(w->name) - 1] = '\0';

   w->page_fd = vu_os_create_shm("venus-vmm-fences", sizeof(struct vmm_fence_page));
   if (w->page_fd >= 0) {
      w->page = mmap(NULL, sizeof(struct vmm_fence_page), PROT_READ | PROT_WRITE,
                     MAP_SHARED, w->page_fd, 0);
      if (w->page == MAP_FAILED)
         w->page = NULL;
   }
   if (!w->page)
      return vmm_worker_reply(w, VMM_REQ_CONTEXT_INIT, -ENOMEM, -1) && false;

   const struct vkr_context_callbacks cbs = {
      .data = w,
      .retire_fence = vmm_worker_retire_fence,
      .peer_gone = vmm_worker_peer_gone,
   };
   const struct vkr_context_limits limits = { 0 };
   w->ctx = vkr_context_create(w->ctx_id, w->name, &cbs, &limits);
   if (!w->ctx)
      return vmm_worker_reply(w, VMM_REQ_CONTEXT_INIT, -EINVAL, -1) && false;
   if (thrd_create(&w->fence_thread, vmm_worker_fence_main, w) != thrd_success)
      return vmm_worker_reply(w, VMM_REQ_CONTEXT_INIT, -ENOMEM, -1) && false;
   w->has_fence_thread = true;
   return vmm_worker_reply(w, VMM_REQ_CONTEXT_INIT, 0, w->page_fd);
}

static void
vmm_worker_submit(struct vmm_worker *w, const void *stream, size_t size)
{
   /* false once the context is fatal; the renderer has said why */
   if (size && !vkr_context_submit_cmd(w->ctx, stream, size))
      vmm_worker_check_fatal(w);
}

static bool
vmm_worker_submit_fd(struct vmm_worker *w, uint32_t size, int fd)
{
   struct stat st;
   if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size < size || !size) {
      vu_log(VU_LOG_ERROR, "vmm", "context %u: bad stream memfd", w->ctx_id);
      return false;
   }
   void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
   if (map == MAP_FAILED) {
      vu_log(VU_LOG_ERROR, "vmm", "context %u: cannot map a %u-byte stream: %s",
             w->ctx_id, size, strerror(errno));
      return false;
   }
   vmm_worker_submit(w, map, size);
   munmap(map, size);
   return true;
}

static void
vmm_worker_fence(struct vmm_worker *w, const struct vmm_req_fence *req)
{
   if (atomic_load_explicit(&w->page->fatal, memory_order_relaxed))
      return; /* the library signals everything of a fatal context */
   if (req->ring_idx >= VMM_MAX_TIMELINES ||
       !vkr_context_submit_fence(w->ctx, req->ring_idx, req->fence_id)) {
      /* no queue on that timeline: a guest error; signal it rather than
       * leave the guest waiting forever */
      vu_log(VU_LOG_WARN, "vmm",
             "context %u (%s): fence %llu on timeline %u, which has no queue; "
             "signalled at once",
             w->ctx_id, w->name, (unsigned long long)req->fence_id, req->ring_idx);
      if (req->ring_idx < VMM_MAX_TIMELINES)
         vmm_worker_retire_fence(w, req->ring_idx, req->fence_id);
   }
}

static bool
vmm_worker_blob_create(struct vmm_worker *w, const struct vmm_req_blob_create *req)
{
   int fd = -1;
   if (req->blob_mem != VIRGL_RENDERER_BLOB_MEM_HOST3D ||
       !vkr_context_create_resource(w->ctx, req->res_id, req->blob_mem, req->blob_flags,
                                    req->blob_id, req->size, &fd)) {
      vmm_worker_check_fatal(w);
      return vmm_worker_reply(w, VMM_REQ_BLOB_CREATE, -EINVAL, -1);
   }
   const bool ok = vmm_worker_reply(w, VMM_REQ_BLOB_CREATE, 0, fd);
   close(fd);
   return ok;
}

static struct vkr_context *
vmm_worker_get_context(void *data)
{
   return NULL; /* the fence thread retires them */
}

static int
vmm_worker_get_timeout_ms(void *data)
{
   const struct vmm_worker *w = data;
   if (!w->ctx || atomic_load_explicit(&w->page->fatal, memory_order_relaxed))
      return -1;
   return VMM_WORKER_FATAL_CHECK_MS;
}

static bool
vmm_worker_handle_timeout(void *data, int *out_status)
{
   vmm_worker_check_fatal(data);
   return true;
}

/* Returns false to end the worker (end of file: status 0; errors: 1). */
static bool
vmm_worker_handle_request(void *data, int *out_status)
{
   struct vmm_worker *w = data;
   int fd = -1;
   const ssize_t n = vwk_msg_recv(w->sock, w->buf, sizeof(w->buf), &fd, 0);

   *out_status = 1;
   if (n == 0) {
      *out_status = 0;
      return false;
   }
   if (n < 0) {
      if (errno == EAGAIN)
         return true;
      vu_log(VU_LOG_ERROR, "vmm", "context %u: bad request: %s", w->ctx_id,
             strerror(errno));
      return false;
   }

   const struct vmm_req_header *hdr = (const struct vmm_req_header *)w->buf;
   bool ok = false;
   if ((size_t)n < sizeof(*hdr))
      goto out;
   if (hdr->type != VMM_REQ_CAPSET && hdr->type != VMM_REQ_CONTEXT_INIT && !w->ctx)
      goto out;

#define VMM_REQ_IS(type) ((size_t)n == sizeof(type))
   switch (hdr->type) {
   case VMM_REQ_CAPSET:
      ok = VMM_REQ_IS(struct vmm_req_capset) &&
           vmm_worker_capset(w, (const struct vmm_req_capset *)hdr);
      break;
   case VMM_REQ_CONTEXT_INIT:
      ok = VMM_REQ_IS(struct vmm_req_context_init) &&
           vmm_worker_context_init(w, (const struct vmm_req_context_init *)hdr);
      break;
   case VMM_REQ_SUBMIT:
      ok = (size_t)n == sizeof(*hdr) + hdr->size;
      if (ok)
         vmm_worker_submit(w, hdr + 1, hdr->size);
      break;
   case VMM_REQ_SUBMIT_FD:
      ok = VMM_REQ_IS(struct vmm_req_header) && vmm_worker_submit_fd(w, hdr->size, fd);
      break;
   case VMM_REQ_FENCE:
      ok = VMM_REQ_IS(struct vmm_req_fence);
      if (ok)
         vmm_worker_fence(w, (const struct vmm_req_fence *)hdr);
      break;
   case VMM_REQ_BLOB_CREATE:
      ok = VMM_REQ_IS(struct vmm_req_blob_create) &&
           vmm_worker_blob_create(w, (const struct vmm_req_blob_create *)hdr);
      break;
   case VMM_REQ_RESOURCE_UNREF:
      ok = VMM_REQ_IS(struct vmm_req_resource_unref);
      if (ok)
         vkr_context_destroy_resource(w->ctx,
                                      ((const struct vmm_req_resource_unref *)hdr)->res_id);
      break;
   default:
      break;
   }
#undef VMM_REQ_IS

out:
   if (fd >= 0)
      close(fd);
   if (!ok)
      vu_log(VU_LOG_ERROR, "vmm", "context %u: request %u of %zd bytes failed; worker ends",
             w->ctx_id, n >= 4 ? hdr->type : 0, n);
   return ok;
}

static const struct vwk_loop_ops vmm_worker_loop_ops = {
   .get_context = vmm_worker_get_context,
   .get_timeout_ms = vmm_worker_get_timeout_ms,
   .handle_request = vmm_worker_handle_request,
   .handle_timeout = vmm_worker_handle_timeout,
};

int
main(int argc, char **argv)
{
   static struct vmm_worker worker = {
      .sock = VWK_EXEC_SOCKET_FD,
      .page_fd = -1,
   };
   sigset_t empty;

   /* the VMM's thread may have blocked signals; exec keeps the mask */
   sigemptyset(&empty);
   sigprocmask(SIG_SETMASK, &empty, NULL);
   /* the library set PR_SET_PDEATHSIG before exec */
   vwk_child_setup("venus-vmm-wk", 0);

   if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
      fputs("venus-vmm-worker " VENUS_VERSION "\n", stdout);
      return 0;
   }
   /* the Venus driver, when installed here, must not load in this worker */
   setenv(VU_ENV_RENDERER_PROCESS, "1", 1);
   if (argc != 1) {
      fprintf(stderr, "venus-vmm-worker is started by the VMM library "
                      "(libvirglrenderer.so.1 in <libdir>/venus), not by hand;\n"
                      "options: -V, --version  print the version and exit\n");
      return 2;
   }

   /* the sandbox goes up before the first request (docs/sandbox.md) */
   /* its context has the renderer's default limits (vmm_worker_context_init) */
   if (!vwk_worker_lock_down(vkr_context_limits_memory(NULL))) {
      vu_log(VU_LOG_ERROR, "vmm", "no worker sandbox; the worker ends");
      return 1;
   }

   const int status = vwk_loop_run(worker.sock, &vmm_worker_loop_ops, &worker);
   if (worker.has_fence_thread) {
      atomic_store(&worker.stop_fences, true);
      thrd_join(worker.fence_thread, NULL);
   }
   if (worker.ctx)
      vkr_context_destroy(worker.ctx);
   vkr_renderer_unload();
   return status;
}
