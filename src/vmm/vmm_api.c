/*
 * Entry points of the VMM library that concern the whole device: init,
 * cleanup, reset, poll, capsets; and the resource table shared by blob and 2D
 * resources (see vmm_lib.h).
 */
#include "vmm_lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transport/vw_capset.h"
#include "util/vu_log.h"

struct vmm_state vmm;

struct vmm_resource *
vmm_resource_lookup(uint32_t res_id, enum vmm_resource_kind kind)
{
   struct vmm_resource *res = vu_idmap_get(&vmm.resources, res_id);
   return res && res->kind == kind ? res : NULL;
}

bool
vmm_resource_insert(struct vmm_resource *res)
{
   return vu_idmap_insert(&vmm.resources, res->id, res);
}

void
vmm_resource_free(struct vmm_resource *res)
{
   if (res->kind == VMM_RESOURCE_BLOB) {
      vmm_blob_forget(res);
   } else {
      vmm.bytes_2d -= (uint64_t)res->stride * res->height;
      free(res->pixels);
   }
   free(res);
}

static void
vmm_resource_free_cb(uint64_t id, void *value, void *data)
{
   vmm_resource_free(value);
}

static void
vmm_context_free_cb(uint64_t id, void *value, void *data)
{
   vmm_context_free(value, false);
}

/* Destroys every context and resource (QEMU resets its own fence queues). */
static void
vmm_destroy_all(void)
{
   vu_idmap_foreach(&vmm.contexts, vmm_context_free_cb, NULL);
   vu_idmap_fini(&vmm.contexts);
   vu_idmap_init(&vmm.contexts);
   vmm.context_count = 0;
   vu_idmap_foreach(&vmm.resources, vmm_resource_free_cb, NULL);
   vu_idmap_fini(&vmm.resources);
   vu_idmap_init(&vmm.resources);
   vmm.bytes_2d = 0;
   vmm.has_ctx0_fence = false;
   vmm.orphan_count = 0;
}

int
virgl_renderer_init(void *cookie, int flags, struct virgl_renderer_callbacks *cb)
{
   if (vmm.is_inited) {
      /* virglrenderer allows one renderer per process */
      vu_log(VU_LOG_ERROR, "vmm", "virgl_renderer_init called twice");
      return -EBUSY;
   }
   if (!cb || cb->version < 1) {
      vu_log(VU_LOG_ERROR, "vmm", "virgl_renderer_init without callbacks");
      return -EINVAL;
   }
   vmm.cookie = cookie;
   vmm.cbs = cb;
   vmm.flags = flags;
   vu_idmap_init(&vmm.contexts);
   vu_idmap_init(&vmm.resources);
   vmm.is_inited = true;
   if (!(flags & VIRGL_RENDERER_VENUS))
      vu_log(VU_LOG_WARN, "vmm",
             "initialised without VIRGL_RENDERER_VENUS: this library serves Venus "
             "contexts only, so the guest gets none");
   else if (VU_DEBUG(INIT))
      vu_log(VU_LOG_INFO, "vmm", "initialised (flags 0x%x, callbacks version %d)", flags,
             cb->version);
   return 0;
}

void
virgl_renderer_cleanup(void *cookie)
{
   if (!vmm.is_inited)
      return;
   vmm_destroy_all();
   vmm_reap_workers(true);
   free(vmm.orphans);
   free(vmm.exiting);
   vmm.orphans = NULL;
   vmm.orphan_cap = 0;
   vmm.exiting = NULL;
   vmm.exiting_count = vmm.exiting_cap = 0;
   vmm.is_inited = false;
}

void
virgl_renderer_reset(void)
{
   if (vmm.is_inited)
      vmm_destroy_all();
}

void
virgl_renderer_poll(void)
{
   if (!vmm.is_inited)
      return;
   vmm_reap_workers(false);
   vmm_contexts_poll();
   if (vmm.has_ctx0_fence) {
      /* nothing runs on context 0 here: its fences are done once seen */
      vmm.has_ctx0_fence = false;
      if (vmm.cbs->write_fence)
         vmm.cbs->write_fence(vmm.cookie, vmm.ctx0_fence);
   }
}

void
virgl_renderer_force_ctx_0(void)
{
   /* no GL contexts here */
}

/* Asks a short-lived worker for the Venus capset, once: QEMU asks at device
 * creation, before virgl_renderer_init, and the host driver is probed in the
 * worker, never in QEMU's process. */
static void
vmm_probe_capset(void)
{
   struct vwk_process proc;

   if (vmm.has_capset)
      return;
   vmm.has_capset = true;
   vmm.capset_size = 0;
   if (!vmm_worker_start(&proc))
      return;

   const struct vmm_req_capset req = {
      .hdr = { .type = VMM_REQ_CAPSET },
      .capset_id = VMM_CAPSET_ID_VENUS,
      .version = 0,
   };
   uint8_t msg[sizeof(struct vmm_reply) + VMM_CAPSET_MAX_BYTES];
   ssize_t n = -1;
   if (vwk_msg_send(proc.sock, &req, sizeof(req), -1))
      n = vwk_msg_recv(proc.sock, msg, sizeof(msg), NULL, VMM_REPLY_TIMEOUT_MS);

   const struct vmm_reply *reply = (const struct vmm_reply *)msg;
   if (n >= (ssize_t)sizeof(*reply) && reply->type == VMM_REQ_CAPSET &&
       reply->size == (size_t)n - sizeof(*reply) && reply->size) {
      vmm.capset_size = reply->size;
      memcpy(vmm.capset, msg + sizeof(*reply), reply->size);
   } else {
      vu_log(VU_LOG_WARN, "vmm",
             "no Venus capset from the worker (%s): Venus is not offered to the guest",
             n < 0 ? strerror(errno) : "host Vulkan driver unusable");
   }
   vmm_worker_forget(&proc);
   vmm_reap_workers(true);
}

/* Version 0 is the worker's capset; version 1 (vw_capset.h) appends our
 * tag and what this library adds to it: every blob of a context keeps its
 * fd in the worker, so the guest can import memory fds. */
void
virgl_renderer_get_cap_set(uint32_t set, uint32_t *max_ver, uint32_t *max_size)
{
   uint32_t ver = 0;
   uint32_t size = 0;

   /* other capsets (virgl, virgl2, drm): nothing a guest could use */
   if (set == VMM_CAPSET_ID_VENUS) {
      vmm_probe_capset();
      if (vmm.capset_size == sizeof(struct vw_capset)) {
         ver = VW_CAPSET_VENUS_EXT_VERSION;
         size = sizeof(struct vw_capset_ext);
      }
   }
   if (max_ver)
      *max_ver = ver;
   if (max_size)
      *max_size = size;
}

void
virgl_renderer_fill_caps(uint32_t set, uint32_t version, void *caps)
{
   /* the caller's buffer holds max_size bytes of get_cap_set */
   if (!caps || set != VMM_CAPSET_ID_VENUS || version > VW_CAPSET_VENUS_EXT_VERSION)
      return;
   vmm_probe_capset();
   if (vmm.capset_size != sizeof(struct vw_capset))
      return;
   struct vw_capset_ext ext = { .tag = 0, .flags = 0 };
   memcpy(&ext.base, vmm.capset, sizeof(ext.base));
   if (version == VW_CAPSET_VENUS_EXT_VERSION) {
      ext.tag = VW_CAPSET_EXT_TAG;
      ext.flags = VW_CAPSET_EXT_BLOB_IMPORT;
   }
   memcpy(caps, &ext, sizeof(ext));
}

void
virgl_renderer_resource_unref(uint32_t res_handle)
{
   struct vmm_resource *res = vu_idmap_remove(&vmm.resources, res_handle);
   if (res)
      vmm_resource_free(res);
}

int
virgl_renderer_resource_get_info(int res_handle, struct virgl_renderer_resource_info *info)
{
   struct vmm_resource *res = vu_idmap_get(&vmm.resources, (uint32_t)res_handle);
   if (!res || !info)
      return -EINVAL;

   memset(info, 0, sizeof(*info));
   info->handle = res->id;
   info->fd = -1; /* no dma-bufs: memfds must not be taken for one */
   if (res->kind == VMM_RESOURCE_2D) {
      info->virgl_format = res->format;
      info->width = res->width;
      info->height = res->height;
      info->depth = 1;
      info->flags = res->flags;
      info->stride = res->stride;
   }
   return 0;
}

int
virgl_renderer_resource_get_info_ext(int res_handle,
                                     struct virgl_renderer_resource_info_ext *info)
{
   if (!info)
      return -EINVAL;
   const int ret = virgl_renderer_resource_get_info(res_handle, &info->base);
   if (ret)
      return ret;
   info->version = VIRGL_RENDERER_RESOURCE_INFO_EXT_VERSION;
   info->has_dmabuf_export = false;
   info->planes = 0;
   info->modifiers = 0;
   info->d3d_tex2d = NULL;
   return 0;
}
