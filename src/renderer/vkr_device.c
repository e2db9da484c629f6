/*
 * Devices and queues (renderer-behavior.md §1, §4, §5; transport.md §F):
 * vkCreateDevice with the extensions the renderer needs itself, queues bound
 * to fence timelines by vkGetDeviceQueue2, per-queue fence threads that
 * retire guest fences in order, sliced blocking waits, and device teardown
 * that destroys what the guest left behind.
 */
#include "vkr_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/vu_os.h"
#include "vkr_ring.h"

/* fence threads wait in slices of this length */
#define VKR_FENCE_WAIT_SLICE_NS 3000000000ull

/* ------------------------------------------------------------------ */
/* fence timeline threads                                              */

static int
vkr_queue_thread(void *arg)
{
   struct vkr_queue *queue = arg;
   struct vkr_device *dev = queue->obj.device;
   struct vkr_context *ctx = queue->ctx;
   char name[16];
   snprintf(name, sizeof(name), "vkr-queue-%u", ctx->id);
   pthread_setname_np(pthread_self(), name);

   for (;;) {
      mtx_lock(&queue->fence_mutex);
      while (!queue->pending_count && !queue->thread_stop)
         cnd_wait(&queue->fence_cond, &queue->fence_mutex);
      if (!queue->pending_count) {
         mtx_unlock(&queue->fence_mutex);
         break;
      }
      const struct vkr_fence_entry entry = queue->pending[queue->pending_head];
      mtx_unlock(&queue->fence_mutex);

      VkResult r;
      do {
         r = dev->table.vkWaitForFences(dev->host, 1, &entry.fence, VK_TRUE,
                                        VKR_FENCE_WAIT_SLICE_NS);
      } while (r == VK_TIMEOUT && !(queue->thread_stop && vkr_context_fatal(ctx)));
      if (r != VK_SUCCESS && r != VK_TIMEOUT)
         vkr_context_set_fatal(ctx, "waiting for a timeline fence failed (%d)", (int)r);

      mtx_lock(&queue->fence_mutex);
      queue->pending_head = (queue->pending_head + 1) % queue->pending_cap;
      queue->pending_count--;
      mtx_unlock(&queue->fence_mutex);

      vkr_context_queue_retired(ctx, entry.ring_idx, entry.fence_id);

      if (r == VK_SUCCESS && dev->table.vkResetFences(dev->host, 1, &entry.fence) == VK_SUCCESS) {
         mtx_lock(&queue->fence_mutex);
         if (queue->free_count < queue->free_cap) {
            queue->free_fences[queue->free_count++] = entry.fence;
            mtx_unlock(&queue->fence_mutex);
            continue;
         }
         mtx_unlock(&queue->fence_mutex);
      }
      if (r == VK_SUCCESS)
         dev->table.vkDestroyFence(dev->host, entry.fence, NULL);
      /* a fence still pending after teardown is leaked with the device */
   }
   return 0;
}

static bool
vkr_queue_grow_pending_locked(struct vkr_queue *queue)
{
   const uint32_t cap = queue->pending_cap ? queue->pending_cap * 2 : 16;
   struct vkr_fence_entry *p = malloc(cap * sizeof(*p));
   if (!p)
      return false;
   for (uint32_t i = 0; i < queue->pending_count; i++)
      p[i] = queue->pending[(queue->pending_head + i) % queue->pending_cap];
   free(queue->pending);
   queue->pending = p;
   queue->pending_head = 0;
   queue->pending_cap = cap;

   VkFence *f = realloc(queue->free_fences, cap * sizeof(*f));
   if (!f)
      return false;
   queue->free_fences = f;
   queue->free_cap = cap;
   return true;
}

bool
vkr_queue_submit_fence(struct vkr_context *ctx,
                       struct vkr_queue *queue,
                       uint32_t ring_idx,
                       uint64_t fence_id)
{
   struct vkr_device *dev = queue->obj.device;
   VkFence fence = VK_NULL_HANDLE;

   mtx_lock(&queue->fence_mutex);
   if (!queue->thread_started) {
      queue->thread_stop = false;
      if (thrd_create(&queue->thread, vkr_queue_thread, queue) != thrd_success) {
         mtx_unlock(&queue->fence_mutex);
         vkr_log(VU_LOG_ERROR, "context %u: cannot start a queue thread", ctx->id);
         return false;
      }
      queue->thread_started = true;
   }
   if (queue->free_count)
      fence = queue->free_fences[--queue->free_count];
   mtx_unlock(&queue->fence_mutex);

   if (!fence) {
      const VkFenceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
      if (dev->table.vkCreateFence(dev->host, &info, NULL, &fence) != VK_SUCCESS) {
         vkr_log(VU_LOG_ERROR, "context %u: cannot create a timeline fence", ctx->id);
         return false;
      }
   }

   vkr_queue_lock(queue);
   const VkResult r = dev->table.vkQueueSubmit(queue->host, 0, NULL, fence);
   vkr_queue_unlock(queue);
   if (r != VK_SUCCESS) {
      dev->table.vkDestroyFence(dev->host, fence, NULL);
      vkr_log(VU_LOG_ERROR, "context %u: fence submission on timeline %u failed (%d)", ctx->id,
              ring_idx, (int)r);
      return false;
   }

   mtx_lock(&queue->fence_mutex);
   if (queue->pending_count == queue->pending_cap && !vkr_queue_grow_pending_locked(queue)) {
      mtx_unlock(&queue->fence_mutex);
      vkr_context_set_fatal(ctx, "out of host memory queueing a fence");
      return false;
   }
   queue->pending[(queue->pending_head + queue->pending_count) % queue->pending_cap] =
      (struct vkr_fence_entry){ fence, ring_idx, fence_id };
   queue->pending_count++;
   cnd_signal(&queue->fence_cond);
   mtx_unlock(&queue->fence_mutex);
   return true;
}

void
vkr_queue_stop_thread(struct vkr_queue *queue)
{
   mtx_lock(&queue->fence_mutex);
   const bool started = queue->thread_started;
   queue->thread_stop = true;
   cnd_broadcast(&queue->fence_cond);
   mtx_unlock(&queue->fence_mutex);
   if (started)
      thrd_join(queue->thread, NULL);
   queue->thread_started = false;
}

/* ------------------------------------------------------------------ */
/* sliced waits                                                        */

static uint64_t
vkr_deadline(uint64_t timeout_ns)
{
   const uint64_t now = vu_os_time_ns();
   return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

/* The ring of a host wait that may end early (VW_RING_FLAG_EARLY_WAIT_END:
 * a host wait holds its ring, and another thread's vkSignalSemaphore or
 * vkSetEvent that the awaited work depends on may be behind it), or NULL.
 * Only a wait whose result the driver reads (a reply) may: one without is
 * a barrier, which the commands behind it rely on (our driver's wait for a
 * fence that feedback showed signalled, before a vkResetFences). */
static const struct vkr_ring *
vkr_early_wait_ring(struct vp_dispatch *d)
{
   const struct vkr_ring *ring = vkr_decoder_from_dispatch(d)->ring;
   return ring && ring->early_wait_end && (d->cmd_flags & VK_COMMAND_GENERATE_REPLY_BIT_EXT)
             ? ring
             : NULL;
}

/* The next slice of the host wait of command `d` that ends at `deadline`
 * (the first may be 0: a status check), or 0 when the wait is to end after a
 * slice that timed out: the deadline passed, the context is fatal, commands
 * wait behind it in an early-wait ring, or, on the context path, the guest
 * has hung up (nothing would ever read the answer). */
static uint64_t
vkr_wait_slice(struct vp_dispatch *d, uint64_t deadline, bool first)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   const struct vkr_ring *early = vkr_early_wait_ring(d);
   const bool context_path = !vkr_decoder_from_dispatch(d)->ring;
   const uint64_t now = vu_os_time_ns();
   const uint64_t left = deadline > now ? deadline - now : 0;
   if (!first && (!left || (early && vkr_ring_has_more(early)) ||
                  (context_path ? vkr_context_wait_must_end(ctx) : vkr_context_fatal(ctx))))
      return 0;
   const uint64_t cap = early ? VKR_EARLY_WAIT_SLICE_NS : VKR_WAIT_SLICE_NS;
   return left < cap ? left : cap;
}

void
vkr_exec_vkWaitForFences(struct vp_dispatch *d, struct vp_command_vkWaitForFences *args)
{
   struct vkr_device *dev = ((struct vkr_object *)(uintptr_t)args->device)->device;
   /* a NULL fence is refused by the generated decoder (vk.xml) */
   vp_replace_vkWaitForFences_args_handles(args);
   const uint64_t deadline = vkr_deadline(args->timeout);
   for (bool first = true;; first = false) {
      const uint64_t slice = vkr_wait_slice(d, deadline, first);
      if (!first && !slice)
         return;
      args->ret = dev->table.vkWaitForFences(dev->host, args->fenceCount, args->pFences,
                                             args->waitAll, slice);
      if (args->ret != VK_TIMEOUT)
         return;
   }
}

void
vkr_exec_vkWaitSemaphores(struct vp_dispatch *d, struct vp_command_vkWaitSemaphores *args)
{
   struct vkr_device *dev = ((struct vkr_object *)(uintptr_t)args->device)->device;
   if (!dev->table.vkWaitSemaphores) {
      vkr_dispatch_fatal(d, "the host lacks vkWaitSemaphores");
      return;
   }
   vp_replace_vkWaitSemaphores_args_handles(args);
   const uint64_t deadline = vkr_deadline(args->timeout);
   for (bool first = true;; first = false) {
      const uint64_t slice = vkr_wait_slice(d, deadline, first);
      if (!first && !slice)
         return;
      args->ret = dev->table.vkWaitSemaphores(dev->host, args->pWaitInfo, slice);
      if (args->ret != VK_TIMEOUT)
         return;
   }
}

/* ------------------------------------------------------------------ */
/* device                                                              */

static bool
vkr_names_add(const char **names, uint32_t *count, const char *name)
{
   for (uint32_t i = 0; i < *count; i++) {
      if (!strcmp(names[i], name))
         return false;
   }
   names[(*count)++] = name;
   return true;
}

static void
vkr_device_free(struct vkr_device *dev)
{
   for (uint32_t i = 0; i < dev->queue_count; i++) {
      struct vkr_queue *q = dev->queues[i];
      if (!q)
         continue;
      mtx_destroy(&q->mutex);
      mtx_destroy(&q->fence_mutex);
      cnd_destroy(&q->fence_cond);
      free(q->pending);
      free(q->free_fences);
      free(q);
   }
   free(dev->queues);
   vu_idmap_fini(&dev->kept_layouts);
   mtx_destroy(&dev->layout_mutex);
   free(dev);
}

/* whether a device create info enables the protectedMemory feature */
static bool
vkr_device_info_protected_memory(const VkDeviceCreateInfo *info)
{
   const VkPhysicalDeviceProtectedMemoryFeatures *feature =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROTECTED_MEMORY_FEATURES);
   const VkPhysicalDeviceVulkan11Features *vk11 =
      vp_chain_find(info->pNext, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES);
   return (feature && feature->protectedMemory) || (vk11 && vk11->protectedMemory);
}

void
vkr_exec_vkCreateDevice(struct vp_dispatch *d, struct vp_command_vkCreateDevice *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   struct vkr_physical_device *pd = (struct vkr_physical_device *)(uintptr_t)args->physicalDevice;
   const struct vkr_instance_table *vk = vkr_object_instance_table(pd);
   const VkDeviceCreateInfo *info = args->pCreateInfo;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pDevice;

   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_DEVICE))
      return;
   *args->pDevice = (VkDevice)(uintptr_t)id;
   vkr_physical_device_init_memory(pd);

   /* queue requests against the cached families; flags: at most the
    * protected bit, on a family with protected queues and with the
    * protectedMemory feature enabled (NVIDIA's vkCreateDevice crashed on
    * other flags, found by fuzz_ring) */
   const bool protected_memory = vkr_device_info_protected_memory(info);
   uint32_t queue_total = 0;
   for (uint32_t i = 0; i < info->queueCreateInfoCount; i++) {
      const VkDeviceQueueCreateInfo *q = &info->pQueueCreateInfos[i];
      if (q->queueFamilyIndex >= pd->queue_family_count || !q->queueCount ||
          q->queueCount > pd->queue_families[q->queueFamilyIndex].queueCount) {
         args->ret = VK_ERROR_INITIALIZATION_FAILED;
         return;
      }
      if ((q->flags & ~(VkDeviceQueueCreateFlags)VK_DEVICE_QUEUE_CREATE_PROTECTED_BIT) ||
          ((q->flags & VK_DEVICE_QUEUE_CREATE_PROTECTED_BIT) &&
           (!protected_memory ||
            !(pd->queue_families[q->queueFamilyIndex].queueFlags & VK_QUEUE_PROTECTED_BIT)))) {
         vkr_log(VU_LOG_WARN, "context %u: vkCreateDevice with queue flags 0x%x refused",
                 ctx->id, (unsigned)q->flags);
         args->ret = VK_ERROR_INITIALIZATION_FAILED;
         return;
      }
      for (uint32_t j = 0; j < i; j++) {
         if (info->pQueueCreateInfos[j].queueFamilyIndex == q->queueFamilyIndex &&
             info->pQueueCreateInfos[j].flags == q->flags) {
            args->ret = VK_ERROR_INITIALIZATION_FAILED;
            return;
         }
      }
      queue_total += q->queueCount;
   }

   /* the guest's extensions (driver-side ones dropped), then ours */
   const char **names = vu_arena_alloc_array(&vkr_decoder_from_dispatch(d)->arena,
                                             (size_t)info->enabledExtensionCount + 5,
                                             sizeof(*names), 8);
   if (!names) {
      vkr_dispatch_fatal(d, "temporary storage limit exceeded");
      return;
   }
   uint32_t name_count = 0;
   bool want_deferred = false, want_rt_pipeline = false;
   for (uint32_t i = 0; i < info->enabledExtensionCount; i++) {
      const char *name = info->ppEnabledExtensionNames ? info->ppEnabledExtensionNames[i] : NULL;
      if (!name) {
         args->ret = VK_ERROR_EXTENSION_NOT_PRESENT;
         return;
      }
      const struct vp_extension_info *ext = vp_extension_lookup(name);
      if (ext && ext->driver_side)
         continue;
      if (!vkr_physical_device_has_extension(pd, name)) {
         args->ret = VK_ERROR_EXTENSION_NOT_PRESENT;
         return;
      }
      vkr_names_add(names, &name_count, name);
      want_deferred |= !strcmp(name, "VK_KHR_acceleration_structure");
      want_rt_pipeline |= !strcmp(name, "VK_KHR_ray_tracing_pipeline");
   }
   /* acceleration structures require deferred host operations, which the
    * guest's driver implements itself: the host's is enabled beside, never
    * used (the driver sends no deferred operation) */
   if (want_deferred && pd->has_deferred_host_operations)
      vkr_names_add(names, &name_count, "VK_KHR_deferred_host_operations");
   const bool use_host_pointer = pd->host_pointer_type_bits != 0;
   const bool use_opaque_fd = pd->opaque_fd_type_bits != 0;
   if (use_host_pointer)
      vkr_names_add(names, &name_count, "VK_EXT_external_memory_host");
   if (pd->has_external_memory_fd)
      vkr_names_add(names, &name_count, "VK_KHR_external_memory_fd");
   if (pd->fence_sync_fd)
      vkr_names_add(names, &name_count, "VK_KHR_external_fence_fd");
   if (pd->semaphore_sync_fd)
      vkr_names_add(names, &name_count, "VK_KHR_external_semaphore_fd");

   vp_replace_vkCreateDevice_args_handles(args);
   VkDeviceCreateInfo ci = *info;
   ci.enabledLayerCount = 0;
   ci.ppEnabledLayerNames = NULL;
   ci.enabledExtensionCount = name_count;
   ci.ppEnabledExtensionNames = names;

   VkDevice host = VK_NULL_HANDLE;
   args->ret = vk->vkCreateDevice(args->physicalDevice, &ci, NULL, &host);
   if (args->ret != VK_SUCCESS)
      return;

   struct vkr_device *dev = calloc(1, sizeof(*dev));
   if (!dev)
      goto fail_host;
   dev->host = host;
   dev->physical_device = pd;
   dev->ctx = vkr_dispatch_context(d);
   vkr_device_init_layouts(dev);
   dev->use_host_pointer = use_host_pointer;
   dev->use_opaque_fd = use_opaque_fd && pd->has_external_memory_fd;
   dev->fence_sync_fd = pd->fence_sync_fd;
   dev->semaphore_sync_fd = pd->semaphore_sync_fd;
   vkr_list_init(&dev->objects);
   vkr_device_table_init(&dev->table, vkGetDeviceProcAddr, host);
   if (!dev->table.vkDestroyDevice || !dev->table.vkGetDeviceQueue) {
      vkr_log(VU_LOG_ERROR, "context %u: the host device lacks core entry points", ctx->id);
      goto fail_alloc;
   }
   if (dev->use_host_pointer && !dev->table.vkGetMemoryHostPointerPropertiesEXT)
      dev->use_host_pointer = false;
   /* the requirements of a buffer made without the chain come from
    * vkGetDeviceBufferMemoryRequirements (vkr_instance.c) */
   dev->chain_at_bind = dev->use_host_pointer &&
                        dev->table.vkGetDeviceBufferMemoryRequirements &&
                        !VU_PERF(EAGER_HOST_CHAIN);
   dev->has_opaque_fd = pd->has_external_memory_fd && dev->table.vkGetMemoryFdKHR;
   for (uint32_t i = 0; i < name_count; i++) {
      if (!strcmp(names[i], "VK_EXT_external_memory_dma_buf"))
         dev->has_dma_buf = dev->has_opaque_fd && dev->table.vkGetMemoryFdPropertiesKHR;
   }
   dev->use_opaque_fd = dev->use_opaque_fd && dev->has_opaque_fd;
   if (want_rt_pipeline && vk->vkGetPhysicalDeviceProperties2) {
      VkPhysicalDeviceRayTracingPipelinePropertiesKHR rt = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_PROPERTIES_KHR,
      };
      VkPhysicalDeviceProperties2 props = {
         .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
         .pNext = &rt,
      };
      vk->vkGetPhysicalDeviceProperties2(pd->host, &props);
      dev->rt_handle_size = rt.shaderGroupHandleSize;
      dev->rt_replay_handle_size = rt.shaderGroupHandleCaptureReplaySize;
   }

   dev->queues = calloc(queue_total ? queue_total : 1, sizeof(*dev->queues));
   if (!dev->queues)
      goto fail_alloc;
   for (uint32_t i = 0; i < info->queueCreateInfoCount; i++) {
      const VkDeviceQueueCreateInfo *qi = &info->pQueueCreateInfos[i];
      for (uint32_t j = 0; j < qi->queueCount; j++) {
         struct vkr_queue *q = calloc(1, sizeof(*q));
         if (!q)
            goto fail_alloc;
         q->obj.device = dev;
         q->obj.instance = pd->obj.instance;
         q->obj.base.type = VK_OBJECT_TYPE_QUEUE;
         q->ctx = ctx;
         q->family = qi->queueFamilyIndex;
         q->index = j;
         q->flags = qi->flags;
         mtx_init(&q->mutex, mtx_plain);
         mtx_init(&q->fence_mutex, mtx_plain);
         cnd_init(&q->fence_cond);
         vkr_list_init(&q->obj.link);
         vkr_list_init(&q->obj.children);
         if (dev->table.vkGetDeviceQueue2) {
            const VkDeviceQueueInfo2 qinfo = {
               .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
               .flags = qi->flags,
               .queueFamilyIndex = qi->queueFamilyIndex,
               .queueIndex = j,
            };
            dev->table.vkGetDeviceQueue2(host, &qinfo, &q->host);
         } else {
            dev->table.vkGetDeviceQueue(host, qi->queueFamilyIndex, j, &q->host);
         }
         q->obj.base.handle = (uint64_t)(uintptr_t)q->host;
         dev->queues[dev->queue_count++] = q;
      }
   }

   dev->obj.base.id = id;
   dev->obj.base.type = VK_OBJECT_TYPE_DEVICE;
   dev->obj.base.handle = (uint64_t)(uintptr_t)host;
   dev->obj.device = dev;
   dev->obj.instance = pd->obj.instance;
   if (!vkr_dispatch_add_object(d, &dev->obj))
      goto fail_alloc;
   if (VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO, "context %u: device 0x%llx: %u queues, %u extensions, memory via %s",
              ctx->id, (unsigned long long)id, dev->queue_count, name_count,
              dev->use_host_pointer ? "host pointers"
                                    : (dev->use_opaque_fd ? "opaque fds" : "nothing"));
   return;

fail_alloc:
   vkr_device_free(dev);
fail_host:
   {
      PFN_vkDestroyDevice destroy =
         (PFN_vkDestroyDevice)vkGetDeviceProcAddr(host, "vkDestroyDevice");
      if (destroy)
         destroy(host, NULL);
   }
   if (!vp_decoder_is_fatal(d->dec))
      args->ret = VK_ERROR_OUT_OF_HOST_MEMORY;
}

static void
vkr_pool_free_children(struct vkr_context *ctx, struct vkr_object *pool)
{
   for (;;) {
      vu_lock_take(&ctx->object_lock);
      struct vkr_list *l = pool->children.next;
      vu_lock_give(&ctx->object_lock);
      if (l == &pool->children)
         break;
      vkr_context_remove_object(ctx, vkr_container_of(l, struct vkr_object, link));
   }
}

void
vkr_device_destroy_child(struct vkr_context *ctx, struct vkr_object *obj)
{
   struct vkr_device *dev = obj->device;
   switch (obj->base.type) {
   case VK_OBJECT_TYPE_COMMAND_POOL:
   case VK_OBJECT_TYPE_DESCRIPTOR_POOL:
      /* destroying the pool frees its children on the host */
      vkr_device_destroy_host_object(&dev->table, dev->host, obj->base.type, obj->base.handle);
      vkr_pool_free_children(ctx, obj);
      vkr_context_remove_object(ctx, obj);
      break;
   case VK_OBJECT_TYPE_DEVICE_MEMORY:
      dev->table.vkFreeMemory(dev->host, (VkDeviceMemory)(uintptr_t)obj->base.handle, NULL);
      vkr_device_memory_free(ctx, (struct vkr_device_memory *)obj);
      break;
   default:
      vkr_device_destroy_host_object(&dev->table, dev->host, obj->base.type, obj->base.handle);
      vkr_context_remove_object(ctx, obj);
      break;
   }
}

void
vkr_device_destroy(struct vkr_context *ctx, struct vkr_device *dev)
{
   for (uint32_t i = 0; i < dev->queue_count; i++)
      vkr_queue_stop_thread(dev->queues[i]);
   if (dev->chain_at_bind && VU_DEBUG(INIT))
      vkr_log(VU_LOG_INFO,
              "device 0x%llx: %llu buffers created again with the host-allocation chain at "
              "a bind to host-pointer memory",
              (unsigned long long)dev->obj.base.id,
              (unsigned long long)atomic_load(&dev->rechained));

   /* children the guest left behind, newest first */
   uint32_t leftover = 0;
   for (;;) {
      vu_lock_take(&ctx->object_lock);
      struct vkr_list *l = dev->objects.next;
      vu_lock_give(&ctx->object_lock);
      if (l == &dev->objects)
         break;
      if (!leftover) {
         /* nothing may be in flight while we destroy objects under it */
         for (uint32_t i = 0; i < dev->queue_count; i++)
            vkr_queue_lock(dev->queues[i]);
         dev->table.vkDeviceWaitIdle(dev->host);
         for (uint32_t i = 0; i < dev->queue_count; i++)
            vkr_queue_unlock(dev->queues[i]);
      }
      leftover++;
      vkr_device_destroy_child(ctx, vkr_container_of(l, struct vkr_object, link));
   }
   if (leftover)
      vkr_log(VU_LOG_INFO, "context %u: device 0x%llx destroyed with %u live objects", ctx->id,
              (unsigned long long)dev->obj.base.id, leftover);

   for (uint32_t i = 0; i < dev->queue_count; i++) {
      struct vkr_queue *q = dev->queues[i];
      mtx_lock(&ctx->timeline_mutex);
      if (q->ring_idx && ctx->timelines[q->ring_idx] == q)
         ctx->timelines[q->ring_idx] = NULL;
      mtx_unlock(&ctx->timeline_mutex);
      if (q->fetched)
         vkr_context_unregister_object(ctx, &q->obj);
      for (uint32_t f = 0; f < q->free_count; f++)
         dev->table.vkDestroyFence(dev->host, q->free_fences[f], NULL);
      q->free_count = 0;
   }
   vkr_device_destroy_retired(ctx, dev);
   vkr_record_device_finish(dev);
   vkr_device_finish_layouts(dev);
   dev->table.vkDestroyDevice(dev->host, NULL);
   vkr_context_unregister_object(ctx, &dev->obj);
   vkr_device_free(dev);
}

void
vkr_exec_vkDestroyDevice(struct vp_dispatch *d, struct vp_command_vkDestroyDevice *args)
{
   struct vkr_object *obj = (struct vkr_object *)(uintptr_t)args->device;
   if (obj)
      vkr_device_destroy(vkr_dispatch_context(d), obj->device);
}

void
vkr_exec_vkGetDeviceQueue2(struct vp_dispatch *d, struct vp_command_vkGetDeviceQueue2 *args)
{
   struct vkr_context *ctx = vkr_dispatch_context(d);
   struct vkr_device *dev = ((struct vkr_object *)(uintptr_t)args->device)->device;
   const VkDeviceQueueInfo2 *info = args->pQueueInfo;
   const uint64_t id = (uint64_t)(uintptr_t)*args->pQueue;

   const VkDeviceQueueTimelineInfoMESA *timeline = NULL;
   for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
      if (s->sType == VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA)
         timeline = (const VkDeviceQueueTimelineInfoMESA *)s;
   }
   if (!timeline || !timeline->ringIdx || timeline->ringIdx >= VKR_MAX_TIMELINES) {
      vkr_dispatch_fatal(d, "vkGetDeviceQueue2 without a valid VkDeviceQueueTimelineInfoMESA");
      return;
   }
   struct vkr_queue *queue = NULL;
   for (uint32_t i = 0; i < dev->queue_count; i++) {
      struct vkr_queue *q = dev->queues[i];
      if (q->family == info->queueFamilyIndex && q->index == info->queueIndex &&
          q->flags == info->flags)
         queue = q;
   }
   if (!queue) {
      vkr_dispatch_fatal(d, "vkGetDeviceQueue2 of a queue that was not created");
      return;
   }
   if (queue->fetched) {
      vkr_dispatch_fatal(d, "vkGetDeviceQueue2 of a queue fetched before");
      return;
   }
   if (!vkr_dispatch_check_new_id(d, id, VK_OBJECT_TYPE_QUEUE))
      return;

   mtx_lock(&ctx->timeline_mutex);
   const bool busy = ctx->timelines[timeline->ringIdx] != NULL;
   if (!busy)
      ctx->timelines[timeline->ringIdx] = queue;
   mtx_unlock(&ctx->timeline_mutex);
   if (busy) {
      vkr_dispatch_fatal(d, "vkGetDeviceQueue2 with a ring index another queue uses");
      return;
   }
   queue->obj.base.id = id;
   if (!vkr_dispatch_add_object(d, &queue->obj)) {
      mtx_lock(&ctx->timeline_mutex);
      ctx->timelines[timeline->ringIdx] = NULL;
      mtx_unlock(&ctx->timeline_mutex);
      return;
   }
   queue->fetched = true;
   queue->ring_idx = timeline->ringIdx;
   *args->pQueue = (VkQueue)(uintptr_t)id;
}
