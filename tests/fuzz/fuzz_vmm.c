/*
 * libFuzzer target: the VMM library's guest-facing calls (src/vmm,
 * libvirglrenderer.so.1) with arguments a guest controls through QEMU:
 * context creation with any capset and name, submits of any stream, blob
 * creation with any memory type, flags, id and size, map/unmap/unref, fences
 * on any timeline, capset queries, attach/detach. Each Venus context runs in
 * a real venus-vmm-worker (sandboxed, on the host's Vulkan driver), found
 * through $VENUS_VMM_WORKER, so a run is slow: the input is a short program.
 * Any input may fail calls; none may crash the library, hang it, or leave a
 * worker behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "vmm/virglrenderer.h"

#include "fuzz_input.h"

/* at most this many calls, and contexts, per input */
#define FUZZ_MAX_OPS 64
#define FUZZ_MAX_CONTEXTS 2
#define FUZZ_MAX_SUBMIT_DWORDS 1024

static void
fuzz_write_fence(void *cookie, uint32_t fence)
{
}

static void
fuzz_write_context_fence(void *cookie, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
}

static struct virgl_renderer_callbacks fuzz_cbs = {
   .version = 3,
   .write_fence = fuzz_write_fence,
   .write_context_fence = fuzz_write_context_fence,
};

/* small ids mostly, so that calls meet the objects of earlier calls */
static uint32_t
fuzz_id(struct fuzz_input *in)
{
   const uint8_t b = fuzz_u8(in);
   return b & 0x80 ? fuzz_u32(in) : b & 3;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   struct fuzz_input in = { data, size };
   uint32_t stream[FUZZ_MAX_SUBMIT_DWORDS];
   int contexts = 0;

   if (virgl_renderer_init(NULL, VIRGL_RENDERER_VENUS | VIRGL_RENDERER_RENDER_SERVER,
                           &fuzz_cbs))
      abort();

   for (int op = 0; op < FUZZ_MAX_OPS && in.left; op++) {
      switch (fuzz_u8(&in) % 10) {
      case 0: { /* context creation: any capset (flags), any name */
         const uint32_t ctx_id = fuzz_id(&in);
         const uint32_t flags = fuzz_u32(&in);
         uint32_t nlen = fuzz_u8(&in);
         nlen = nlen < in.left ? nlen : (uint32_t)in.left;
         char name[256];
         memcpy(name, in.p, nlen);
         in.p += nlen;
         in.left -= nlen;
         /* a Venus context starts a worker: keep the run short */
         if ((flags & VIRGL_RENDERER_CONTEXT_FLAG_CAPSET_ID_MASK) == 4 &&
             contexts++ >= FUZZ_MAX_CONTEXTS)
            break;
         virgl_renderer_context_create_with_flags(ctx_id, flags, nlen, nlen ? name : NULL);
         break;
      }
      case 1: { /* a stream: raw bytes */
         const uint32_t ctx_id = fuzz_id(&in);
         uint32_t ndw = fuzz_u8(&in) * 4u;
         ndw = ndw <= in.left / 4 ? ndw : (uint32_t)(in.left / 4);
         memcpy(stream, in.p, ndw * 4u);
         in.p += ndw * 4u;
         in.left -= ndw * 4u;
         virgl_renderer_submit_cmd(stream, (int)ctx_id, (int)ndw);
         break;
      }
      case 2: { /* a blob of any kind */
         struct virgl_renderer_resource_create_blob_args args = {
            .res_handle = fuzz_id(&in),
            .ctx_id = fuzz_id(&in),
            .blob_mem = fuzz_u8(&in) % 6,
            .blob_flags = fuzz_u8(&in),
            .blob_id = fuzz_u32(&in) & 0xff,
            .size = (uint64_t)fuzz_u32(&in) << (fuzz_u8(&in) & 15),
         };
         virgl_renderer_resource_create_blob(&args);
         break;
      }
      case 3: { /* map, write, unmap */
         const uint32_t res = fuzz_id(&in);
         void *map = NULL;
         uint64_t map_size = 0;
         uint32_t info = 0;
         virgl_renderer_resource_get_map_info(res, &info);
         if (!virgl_renderer_resource_map(res, &map, &map_size) && map && map_size)
            memset(map, fuzz_u8(&in), map_size < 4096 ? map_size : 4096);
         virgl_renderer_resource_unmap(res);
         break;
      }
      case 4:
         virgl_renderer_resource_unref(fuzz_id(&in));
         break;
      case 5: {
         const uint32_t ctx_id = fuzz_id(&in);
         const uint32_t flags = fuzz_u8(&in);
         const uint32_t ring_idx = fuzz_u8(&in);
         virgl_renderer_context_create_fence(ctx_id, flags, ring_idx, fuzz_u32(&in));
         break;
      }
      case 6:
         virgl_renderer_create_fence((int)fuzz_u32(&in), fuzz_id(&in));
         virgl_renderer_poll();
         break;
      case 7: { /* capsets: any id and version */
         const uint32_t set = fuzz_u32(&in);
         uint32_t max_ver = 0, max_size = 0;
         virgl_renderer_get_cap_set(set, &max_ver, &max_size);
         if (max_size && max_size <= 4096) {
            uint8_t caps[4096];
            virgl_renderer_fill_caps(set, fuzz_u32(&in), caps);
         }
         break;
      }
      case 8: {
         const uint32_t ctx_id = fuzz_id(&in);
         const uint32_t res = fuzz_id(&in);
         if (fuzz_u8(&in) & 1)
            virgl_renderer_ctx_attach_resource((int)ctx_id, (int)res);
         else
            virgl_renderer_ctx_detach_resource((int)ctx_id, (int)res);
         break;
      }
      default:
         virgl_renderer_context_destroy(fuzz_id(&in));
         break;
      }
   }

   virgl_renderer_poll();
   virgl_renderer_cleanup(NULL);
   /* every worker was reaped */
   if (waitpid(-1, NULL, WNOHANG) > 0)
      abort();
   return 0;
}
