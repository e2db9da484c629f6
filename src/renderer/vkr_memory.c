/*
 * Device memory without copies (docs/renderer.md "Memory"):
 *
 * Every allocation of a host-visible memory type that the host can import
 * from a host pointer is backed by a memfd of allocationSize rounded up to
 * minImportedHostPointerAlignment. The renderer maps it and imports the
 * mapping with VkImportMemoryHostPointerInfoEXT; the blob resource for the
 * memory (blob_id = memory id) is a dup of that memfd, which the guest maps:
 * both processes share the pages. The memfd lives until both the
 * VkDeviceMemory is freed and every resource over it is unreferenced.
 *
 * Without VK_EXT_external_memory_host the renderer exports OPAQUE_FD memory
 * if (and only if) the probe showed that such fds are mappable; host-visible
 * types that can be shared neither way are reported without HOST_VISIBLE
 * (vkr_physical_device_init_memory).
 *
 * Guest export (VkExportMemoryAllocateInfo with OPAQUE_FD) of memory that
 * has no such backing (device-local types) allocates the host memory
 * exportable as a host OPAQUE_FD; that fd backs a SHAREABLE blob that is not
 * MAPPABLE. Importing a blob resource (VkImportMemoryResourceInfoMESA) works
 * for resources over device memory only: a memfd is imported as a host
 * pointer, an opaque fd as the same memory type and size it was exported
 * from (as the Vulkan spec requires of OPAQUE_FD imports).
 *
 * DMA_BUF (VK_EXT_external_memory_dma_buf enabled by the guest): memory the
 * guest asks to export as DMA_BUF is allocated exportable as a host dma-buf
 * whatever its type (a host-pointer import could not be exported), and that
 * dma-buf backs its SHAREABLE blob. The guest maps such a blob by mmapping
 * the dma-buf itself, so for types the guest sees as host-visible the
 * dma-buf must be mmappable: if the host's is not, the allocation fails
 * (logged). A dma-buf resource can be imported as any memory type the
 * host's vkGetMemoryFdPropertiesKHR allows, at most its size.
 */
#include "vkr_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Whether a host dma-buf can be mmapped (the guest maps its blob that way);
 * some exporters have no mmap. */
static bool
vkr_dma_buf_is_mappable(int fd, size_t size)
{
   void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   if (p == MAP_FAILED)
      return false;
   munmap(p, size);
   return true;
}

void
vkr_device_memory_free(struct vkr_context *ctx, struct vkr_device_memory *mem)
{
   vkr_context_unregister_object(ctx, &mem->obj);
   vkr_shm_unref(mem->shm);
   if (mem->accounted)
      vkr_context_uncharge_memory(ctx, mem->accounted);
   free(mem);
}

void
vkr_exec_vkFreeMemory(struct vp_dispatch *d, struct vp_command_vkFreeMemory *args)
{
   struct vkr_device_memory *mem = (struct vkr_device_memory *)(uintptr_t)args->memory;
   if (!mem)
      return;
   struct vkr_device *dev = ((struct vkr_object *)(uintptr_t)args->device)->device;
   vp_replace_vkFreeMemory_args_handles(args);
   dev->table.vkFreeMemory(args->device, args->memory, NULL);
   vkr_device_memory_free(vkr_dispatch_context(d), mem);
}

void
vkr_exec_vkAllocateMemory(struct vp_dispatch *d, struct vp_command_vkAllocateMemory *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   struct vkr_device *dev = ((struct vkr_object *)(uintptr_t)args->device)->device;
   struct vkr_physical_device *pd = dev->physical_device;
   /* the decoded struct lives in the arena: we may rewrite it */
   VkMemoryAllocateInfo *info = (VkMemoryAllocateInfo *)args->pAllocateInfo;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pMemory;

   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_DEVICE_MEMORY))
      return;
   *args->pMemory = (VkDeviceMemory)(uintptr_t)id;
   if (info->memoryTypeIndex >= pd->memory.memoryTypeCount) {
      args->ret = VK_ERROR_UNKNOWN;
      return;
   }
   /* the guest's type; the host's (a twin for sparse resources is the
    * host's type allocated natively: docs/renderer.md) */
   const uint32_t guest_type = info->memoryTypeIndex;
   const uint32_t host_type = pd->guest_to_host[guest_type];
   const bool twin = pd->twin_guest_bits & (1u << guest_type);
   /* a host fd number from the guest would name one of our own files */
   if (vkr_chain_unlink(&info->pNext, VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR)) {
      args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
      return;
   }
   const VkImportMemoryResourceInfoMESA *import_res = (const VkImportMemoryResourceInfoMESA *)
      vkr_chain_unlink(&info->pNext, VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA);
   /* the guest can only receive OPAQUE_FD or DMA_BUF (a blob over a host
    * fd): its request is replaced by ours, or dropped for imports and
    * memfd-backed memory (the memfd is what an export hands out) */
   const VkExportMemoryAllocateInfo *guest_export = (const VkExportMemoryAllocateInfo *)
      vkr_chain_unlink(&info->pNext, VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO);
   const VkExternalMemoryHandleTypeFlags export_types =
      guest_export ? guest_export->handleTypes : 0;
   const bool wants_dma_buf = export_types & VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;

   const uint32_t type_bit = 1u << host_type;
   const VkMemoryPropertyFlags flags = pd->host_memory.memoryTypes[host_type].propertyFlags;
   const bool host_visible = !twin && (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
   const bool guest_visible = pd->memory.memoryTypes[guest_type].propertyFlags &
                              VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;

   struct vkr_shm *shm = NULL;
   bool opaque = false;
   bool dma_buf = false;
   bool guest_mappable = false;
   uint64_t charge = 0;
   int import_fd = -1;
   VkImportMemoryHostPointerInfoEXT host_ptr = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
   };
   VkImportMemoryFdInfoKHR fd_import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      .fd = -1,
   };
   VkExportMemoryAllocateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };

   if (import_res) {
      /* VkImportMemoryResourceInfoMESA: import a blob resource */
      struct vkr_resource *res = vkr_context_get_resource(ctx, import_res->resourceId);
      if (!res) {
         vkr_dispatch_fatal(d, "VkImportMemoryResourceInfoMESA names an unknown resource");
         return;
      }
      if (res->kind != VKR_RESOURCE_DEVICE_MEMORY || !res->shm) {
         vkr_log(VU_LOG_ERROR,
                 "context %u: VkImportMemoryResourceInfoMESA: resource %u is not device memory",
                 ctx->id, res->id);
         vkr_resource_unref(res);
         args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
         return;
      }
      const uint64_t size = dev->use_host_pointer
                               ? vkr_align_up(info->allocationSize, pd->host_pointer_alignment)
                               : info->allocationSize;
      if (res->shm && res->shm->map && dev->use_host_pointer && !twin &&
          (pd->host_pointer_type_bits & type_bit) && size <= res->shm->size) {
         shm = res->shm;
         vkr_shm_ref(shm);
         host_ptr.pHostPointer = shm->map;
         host_ptr.pNext = info->pNext;
         info->pNext = &host_ptr;
         info->allocationSize = size;
         vkr_chain_unlink(&info->pNext, VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO);
         guest_mappable = true;
      } else if (res->dma_buf && dev->has_dma_buf) {
         /* any type the host accepts the dma-buf as, at most its size */
         VkMemoryFdPropertiesKHR fd_props = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR,
         };
         const bool ok =
            info->allocationSize && info->allocationSize <= res->shm->size &&
            dev->table.vkGetMemoryFdPropertiesKHR(
               dev->host, VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, res->shm->fd,
               &fd_props) == VK_SUCCESS &&
            (fd_props.memoryTypeBits & type_bit) &&
            (!guest_visible || vkr_dma_buf_is_mappable(res->shm->fd, res->shm->size));
         if (!ok) {
            vkr_log(VU_LOG_ERROR,
                    "context %u: dma-buf resource %u (%zu bytes) cannot be imported as memory "
                    "type %u of %llu bytes",
                    ctx->id, res->id, res->shm->size, info->memoryTypeIndex,
                    (unsigned long long)info->allocationSize);
            vkr_resource_unref(res);
            args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
            return;
         }
         dma_buf = true;
         guest_mappable = guest_visible;
         fd_import.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
      } else if (res->opaque_fd && dev->has_opaque_fd) {
         /* the host would trust the fd's payload: same type and size only */
         /* one from a client's fd (another instance or process): its type
          * is unknown, the host driver's import checks it */
         const bool mismatch = res->foreign ? !info->allocationSize ||
                                                 info->allocationSize > res->shm->size
                                            : info->memoryTypeIndex != res->type_index ||
                                                 info->allocationSize != res->shm->size;
         if (mismatch) {
            vkr_log(VU_LOG_ERROR,
                    "context %u: import of resource %u as type %u, %llu bytes: it was "
                    "exported from type %u, %zu bytes",
                    ctx->id, res->id, info->memoryTypeIndex,
                    (unsigned long long)info->allocationSize, res->type_index, res->shm->size);
            vkr_resource_unref(res);
            args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
            return;
         }
         opaque = true;
         guest_mappable = dev->use_opaque_fd && (pd->opaque_fd_type_bits & type_bit);
      } else {
         vkr_log(VU_LOG_ERROR,
                 "context %u: resource %u cannot be imported as memory type %u of %llu bytes",
                 ctx->id, res->id, info->memoryTypeIndex,
                 (unsigned long long)info->allocationSize);
         vkr_resource_unref(res);
         args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
         return;
      }
      if (opaque || dma_buf) {
         /* the host takes over a duplicate of the resource's fd */
         import_fd = fcntl(res->shm->fd, F_DUPFD_CLOEXEC, 0);
         if (import_fd < 0) {
            vkr_resource_unref(res);
            args->ret = VK_ERROR_TOO_MANY_OBJECTS;
            return;
         }
         shm = res->shm;
         vkr_shm_ref(shm);
         fd_import.fd = import_fd;
         fd_import.pNext = info->pNext;
         info->pNext = &fd_import;
      }
      vkr_resource_unref(res);
   } else if (!wants_dma_buf && host_visible && dev->use_host_pointer &&
              (pd->host_pointer_type_bits & type_bit)) {
      /* host-visible: a memfd both processes map, imported as host memory */
      const uint64_t size = vkr_align_up(info->allocationSize ? info->allocationSize : 1,
                                         pd->host_pointer_alignment);
      if (size > VKR_MAX_SHM_BYTES) {
         args->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
         return;
      }
      shm = vkr_shm_create(ctx, (size_t)size, true, "venus-memory");
      if (!shm) {
         args->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
         return;
      }
      host_ptr.pHostPointer = shm->map;
      host_ptr.pNext = info->pNext;
      info->pNext = &host_ptr;
      info->allocationSize = size;
      /* host-pointer imports cannot be dedicated or exportable: the memfd
       * itself is what a guest export hands out */
      vkr_chain_unlink(&info->pNext, VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO);
      guest_mappable = true;
   } else {
      const bool wants_export = export_types & VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
      const bool mappable_opaque =
         host_visible && dev->use_opaque_fd && (pd->opaque_fd_type_bits & type_bit);
      if (wants_dma_buf && !dev->has_dma_buf) {
         vkr_log(VU_LOG_ERROR,
                 "context %u: DMA_BUF export of memory type %u needs the host's "
                 "VK_EXT_external_memory_dma_buf, enabled on the device",
                 ctx->id, info->memoryTypeIndex);
         args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
         return;
      }
      if (wants_export && !dev->has_opaque_fd) {
         vkr_log(VU_LOG_ERROR,
                 "context %u: OPAQUE_FD export of memory type %u needs the host's "
                 "VK_KHR_external_memory_fd",
                 ctx->id, info->memoryTypeIndex);
         args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
         return;
      }
      if (wants_dma_buf) {
         /* one host fd backs the blob: a dma-buf also serves OPAQUE_FD
          * exports (opaque to the guest; imports know it by its file) */
         export.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
         export.pNext = info->pNext;
         info->pNext = &export;
         dma_buf = true;
      } else if (mappable_opaque || wants_export) {
         /* mappable_opaque: the fallback, an opaque fd the guest can mmap */
         export.pNext = info->pNext;
         info->pNext = &export;
         opaque = true;
         guest_mappable = mappable_opaque;
      }
      charge = info->allocationSize;
      if (!vkr_context_charge_memory(ctx, charge, "device memory")) {
         args->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
         return;
      }
   }

   vp_replace_vkAllocateMemory_args_handles(args);
   info->memoryTypeIndex = host_type;
   VkDeviceMemory host = VK_NULL_HANDLE;
   args->ret = dev->table.vkAllocateMemory(args->device, info, NULL, &host);
   if (args->ret != VK_SUCCESS) {
      if (import_fd >= 0)
         close(import_fd); /* not consumed on failure */
      goto fail;
   }

   if ((opaque || dma_buf) && !shm) {
      /* export once now: the fd backs the blob resource later */
      const VkMemoryGetFdInfoKHR get = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
         .memory = host,
         .handleType = export.handleTypes,
      };
      int fd = -1;
      if (!dev->table.vkGetMemoryFdKHR ||
          dev->table.vkGetMemoryFdKHR(args->device, &get, &fd) != VK_SUCCESS || fd < 0 ||
          !(shm = vkr_shm_wrap_fd(ctx, fd, (size_t)info->allocationSize))) {
         if (fd >= 0)
            close(fd);
         dev->table.vkFreeMemory(args->device, host, NULL);
         args->ret = VK_ERROR_OUT_OF_DEVICE_MEMORY;
         goto fail;
      }
      if (dma_buf) {
         guest_mappable = guest_visible;
         if (guest_visible && !vkr_dma_buf_is_mappable(shm->fd, shm->size)) {
            vkr_log(VU_LOG_ERROR,
                    "context %u: DMA_BUF export of memory type %u refused: the type is "
                    "host-visible for the guest, which would map the host's dma-buf, and "
                    "that dma-buf cannot be mmapped",
                    ctx->id, info->memoryTypeIndex);
            dev->table.vkFreeMemory(args->device, host, NULL);
            args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
            goto fail;
         }
      }
   }

   struct vkr_device_memory *mem = calloc(1, sizeof(*mem));
   if (!mem) {
      dev->table.vkFreeMemory(args->device, host, NULL);
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
      goto fail;
   }
   mem->obj.base.id = id;
   mem->obj.base.type = VK_OBJECT_TYPE_DEVICE_MEMORY;
   mem->obj.base.handle = (uint64_t)(uintptr_t)host;
   mem->obj.device = dev;
   mem->obj.instance = dev->obj.instance;
   mem->shm = shm;
   mem->shm_is_opaque_fd = opaque;
   mem->shm_is_dma_buf = dma_buf;
   mem->host_pointer = host_ptr.pHostPointer != NULL;
   mem->guest_mappable = guest_mappable;
   mem->type_index = guest_type;
   mem->size = info->allocationSize;
   mem->accounted = charge;
   if (!vkr_dispatch_add_object(d, &mem->obj)) {
      dev->table.vkFreeMemory(args->device, host, NULL);
      free(mem);
      goto fail;
   }
   return;

fail:
   vkr_shm_unref(shm);
   if (charge)
      vkr_context_uncharge_memory(ctx, charge);
}

bool
vkr_memory_create_resource(struct vkr_context *ctx,
                           uint32_t res_id,
                           uint32_t blob_flags,
                           uint64_t blob_id,
                           uint64_t size,
                           int *out_fd)
{
   /* look up and take the backing under the table lock, so a concurrent
    * vkFreeMemory on a ring cannot free it in between */
   vu_lock_take(&ctx->object_lock);
   struct vkr_object *obj = vu_idmap_get(&ctx->objects, blob_id);
   struct vkr_device_memory *mem =
      obj && obj->base.type == VK_OBJECT_TYPE_DEVICE_MEMORY ? (struct vkr_device_memory *)obj
                                                            : NULL;
   struct vkr_shm *shm = mem ? mem->shm : NULL;
   if (shm)
      vkr_shm_ref(shm);
   const bool opaque = mem && mem->shm_is_opaque_fd;
   const bool dma_buf = mem && mem->shm_is_dma_buf;
   const bool mappable = mem && mem->guest_mappable;
   const uint32_t type_index = mem ? mem->type_index : 0;
   vu_lock_give(&ctx->object_lock);

   if (!mem) {
      vkr_log(VU_LOG_ERROR, "context %u: blob_id 0x%llx is not a VkDeviceMemory", ctx->id,
              (unsigned long long)blob_id);
      return false;
   }
   if (!shm) {
      vkr_log(VU_LOG_ERROR,
              "context %u: memory 0x%llx has no shareable backing (memory type %u is not "
              "host-visible for the guest, and it was not allocated for OPAQUE_FD export)",
              ctx->id, (unsigned long long)blob_id, type_index);
      return false;
   }
   if ((blob_flags & 1 /* VCMD_BLOB_FLAG_MAPPABLE */) && !mappable) {
      vkr_log(VU_LOG_ERROR,
              "context %u: memory 0x%llx (type %u) is exportable but not host-visible for the "
              "guest: a MAPPABLE blob is refused",
              ctx->id, (unsigned long long)blob_id, type_index);
      vkr_shm_unref(shm);
      return false;
   }
   if (!size || size > shm->size) {
      vkr_log(VU_LOG_ERROR, "context %u: blob of %llu bytes over memory 0x%llx of %zu bytes",
              ctx->id, (unsigned long long)size, (unsigned long long)blob_id, shm->size);
      vkr_shm_unref(shm);
      return false;
   }
   return vkr_context_publish_memory_resource(ctx, res_id, shm, size, opaque, dma_buf, false,
                                              type_index, out_fd);
}

/* Whether another fd of this process is open on the character device
 * `rdev`: the host driver's own device node (NVIDIA's opaque fds are files of
 * its control node, which the driver holds open once an instance exists).
 * The fds are probed directly (no /proc in the sandbox), up to a bound. */
static bool
vkr_device_node_in_use(dev_t rdev, int except_fd)
{
   for (int fd = 0; fd < 4096; fd++) {
      struct stat st;
      if (fd != except_fd && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == rdev)
         return true;
   }
   return false;
}

/* Why a client's fd cannot back an imported resource of `size` bytes, or
 * NULL. Shared memory: a memfd (unlinked, on a tmpfs or hugetlbfs mount), never
 * a file with a name; dma-bufs: anonymous inodes that report their size;
 * OPAQUE_FD of a driver whose exports are files of a character device: that
 * very device node, open already by the host driver in this process (its
 * size is unknown here: the host driver's import checks it). */
static const char *
vkr_import_fd_refusal(int fd, uint32_t kind, uint64_t size, bool *out_is_shm)
{
   struct stat st;
   *out_is_shm = false;
   if (kind != 1 /* OPAQUE_FD */ && kind != 2 /* DMA_BUF */)
      return "unknown import kind";
   if (!size || size > VKR_MAX_SHM_BYTES)
      return "size out of range";
   if (fstat(fd, &st) != 0)
      return "fstat failed";
   uint64_t fd_size;
   if (S_ISREG(st.st_mode)) {
      struct statfs sfs;
      if (st.st_nlink != 0 || fstatfs(fd, &sfs) != 0 ||
          (sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC))
         return "a regular file, not shared memory";
      if (kind != 1)
         return "shared memory is not a dma-buf";
      fd_size = (uint64_t)st.st_size;
      *out_is_shm = true;
   } else if ((st.st_mode & S_IFMT) == 0) {
      const off_t end = lseek(fd, 0, SEEK_END);
      if (end <= 0)
         return "an anonymous inode without a size";
      lseek(fd, 0, SEEK_SET);
      fd_size = (uint64_t)end;
   } else if (S_ISCHR(st.st_mode) && kind == 1) {
      /* major 1: /dev/null, /dev/zero, /dev/mem..., never a driver's */
      if (major(st.st_rdev) == 1 || !vkr_device_node_in_use(st.st_rdev, fd))
         return "a device that the host driver does not use";
      fd_size = size;
   } else {
      return "not memory (a device, pipe, socket, link or directory)";
   }
   if (fd_size < size)
      return "smaller than the import size";
   return NULL;
}

bool
vkr_memory_import_resource(struct vkr_context *ctx,
                           uint32_t res_id,
                           uint32_t kind,
                           uint64_t size,
                           int fd,
                           int *out_fd)
{
   bool is_shm;
   const char *why = vkr_import_fd_refusal(fd, kind, size, &is_shm);
   if (why) {
      vkr_log(VU_LOG_ERROR, "context %u: fd import (kind %u, %llu bytes) refused: %s", ctx->id,
              kind, (unsigned long long)size, why);
      close(fd);
      return false;
   }
   struct vkr_shm *shm = vkr_shm_wrap_fd(ctx, fd, (size_t)size);
   if (!shm) {
      close(fd);
      return false;
   }
   /* shared memory is also importable as a host pointer (the pages both
    * sides map); the fd stays the way the host driver imports OPAQUE_FD.
    * Mapped only once it can no longer shrink (our memfds allow the seal):
    * a client truncating it under the mapping would fault this process.
    * The size is checked again under the seal (it may have shrunk since). */
   if (is_shm) {
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
      const int seals = fcntl(fd, F_GET_SEALS);
      struct stat st;
      is_shm = seals > 0 && (seals & F_SEAL_SHRINK) && fstat(fd, &st) == 0 &&
               (uint64_t)st.st_size >= size;
   }
   if (is_shm) {
      void *map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (map != MAP_FAILED)
         shm->map = map;
   }
   return vkr_context_publish_memory_resource(ctx, res_id, shm, size, kind == 1, kind == 2, true,
                                              0, out_fd);
}

void
vkr_exec_vkGetMemoryResourcePropertiesMESA(
   struct vp_dispatch *d,
   struct vp_command_vkGetMemoryResourcePropertiesMESA *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   struct vkr_device *dev = ((struct vkr_object *)(uintptr_t)args->device)->device;
   struct vkr_physical_device *pd = dev->physical_device;
   struct vkr_resource *res = vkr_context_get_resource(ctx, args->resourceId);
   if (!res) {
      vkr_dispatch_fatal(d, "vkGetMemoryResourcePropertiesMESA of an unknown resource");
      return;
   }
   VkMemoryResourcePropertiesMESA *props = args->pMemoryResourceProperties;
   VkMemoryResourceAllocationSizePropertiesMESA *size_props = NULL;
   for (VkBaseOutStructure *s = (VkBaseOutStructure *)props->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA)
         size_props = (VkMemoryResourceAllocationSizePropertiesMESA *)s;
   }

   args->ret = VK_ERROR_INVALID_EXTERNAL_HANDLE;
   if (res->shm && res->shm->map && dev->use_host_pointer) {
      /* our memfds: what a host-pointer import of the mapping allows */
      VkMemoryHostPointerPropertiesEXT hp = {
         .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
      };
      if (dev->table.vkGetMemoryHostPointerPropertiesEXT(
             dev->host, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, res->shm->map,
             &hp) == VK_SUCCESS) {
         props->memoryTypeBits =
            vkr_memory_type_bits_to_guest(pd, hp.memoryTypeBits & pd->host_pointer_type_bits, false);
         if (size_props)
            size_props->allocationSize =
               res->shm->size & ~(uint64_t)(pd->host_pointer_alignment - 1);
         args->ret = props->memoryTypeBits ? VK_SUCCESS : VK_ERROR_INVALID_EXTERNAL_HANDLE;
      }
   } else if (res->shm && res->dma_buf && dev->has_dma_buf) {
      /* the host's answer; host-visible types (for the guest) only where
       * the guest could map the dma-buf */
      VkMemoryFdPropertiesKHR fd_props = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
      if (dev->table.vkGetMemoryFdPropertiesKHR(dev->host,
                                                VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
                                                res->shm->fd, &fd_props) == VK_SUCCESS) {
         uint32_t bits = vkr_memory_type_bits_to_guest(pd, fd_props.memoryTypeBits, false);
         if (!vkr_dma_buf_is_mappable(res->shm->fd, res->shm->size)) {
            for (uint32_t i = 0; i < pd->memory.memoryTypeCount; i++) {
               if (pd->memory.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
                  bits &= ~(1u << i);
            }
         }
         props->memoryTypeBits = bits;
         if (size_props)
            size_props->allocationSize = res->shm->size;
         args->ret = bits ? VK_SUCCESS : VK_ERROR_INVALID_EXTERNAL_HANDLE;
      }
   } else if (res->shm && res->opaque_fd) {
      props->memoryTypeBits = 1u << res->type_index;
      if (size_props)
         size_props->allocationSize = res->shm->size;
      args->ret = VK_SUCCESS;
   }
   vkr_resource_unref(res);
}
