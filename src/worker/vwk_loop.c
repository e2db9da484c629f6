/*
 * The worker loop shared by venus-server's workers and the VMM library's
 * workers: one socket to the peer, one renderer context's fence eventfd.
 */
#include "vwk_worker.h"

#include <errno.h>
#include <poll.h>

#include "util/vu_log.h"
#include "renderer/vkr_renderer.h"

#include "vwk_sandbox.h"

bool
vwk_worker_lock_down(uint64_t max_file_bytes)
{
   const bool is_enabled = vwk_sandbox_is_enabled();

   /* before the host driver's threads and their arenas */
   vwk_tune_malloc();

   if (is_enabled && !vwk_sandbox_begin(max_file_bytes))
      return false;
   /* the host driver's libraries, device nodes and threads, before the
    * filter and before any guest byte */
   if (!vkr_renderer_preload())
      vu_log(VU_LOG_WARN, "worker", "no host Vulkan driver could be loaded");
   if (!is_enabled) {
      vu_log(VU_LOG_INFO, "worker", "sandbox off (VENUS_SANDBOX=0)");
      return true;
   }
   return vwk_sandbox_finish();
}

int
vwk_loop_run(int sock, const struct vwk_loop_ops *ops, void *data)
{
   int status = 0;

   for (;;) {
      struct vkr_context *ctx = ops->get_context(data);
      const int timeout_ms = ops->get_timeout_ms ? ops->get_timeout_ms(data) : -1;
      struct pollfd pfds[2] = {
         { .fd = sock, .events = POLLIN },
         { .fd = ctx ? vkr_context_get_fence_fd(ctx) : -1, .events = POLLIN },
      };

      if (poll(pfds, 2, timeout_ms) < 0) {
         if (errno == EINTR)
            continue;
         vu_log(VU_LOG_ERROR, "worker", "poll failed: errno %d", errno);
         return 1;
      }

      /* before the next request, so that it sees what these fences did;
       * vkr_context_retire_fences() clears the eventfd itself */
      if (ctx && (pfds[1].revents & POLLIN))
         vkr_context_retire_fences(ctx);
      if (pfds[0].revents && !ops->handle_request(data, &status))
         return status;
      if (ops->handle_timeout && !ops->handle_timeout(data, &status))
         return status;
   }
}

bool
vwk_peer_hung_up(int sock)
{
   struct pollfd pfd = { .fd = sock, .events = POLLRDHUP };
   return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}
