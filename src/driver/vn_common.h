/*
 * Common pieces of the guest driver: the object base every driver object
 * starts with, handle casts, allocation through VkAllocationCallbacks, ids,
 * and error reporting.
 *
 * Every driver object begins with struct vn_object, whose first member is the
 * protocol's struct vp_guest_object { loader_data, id }: the generated
 * encoders read the wire id of any handle at that offset, and the loader
 * keeps its dispatch pointer in loader_data for dispatchable handles.
 */
#ifndef VN_COMMON_H
#define VN_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <vulkan/vk_icd.h>
#include <vulkan/vulkan_core.h>

#include "protocol/vp_chain.h"
#include "util/vu_bias_lock.h"
#include "util/vu_log.h"

#include "vn_entrypoints_gen.h"
#include "vp_protocol.h"

#define VN_EXPORT __attribute__((visibility("default")))

#define VN_DRIVER_NAME "venus"
#define VN_DRIVER_VERSION VK_MAKE_VERSION(0, 1, 0)
/* the newest API version this driver implements: that of the vk.xml the
 * protocol is generated from (1.3 or 1.4) */
#define VN_MAX_API_VERSION VK_MAKE_API_VERSION(0, 1, VK_API_VERSION_MINOR(VP_VK_XML_VERSION), 0)

#define VN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VN_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VN_ALIGN(v, a) (((v) + (a)-1) & ~((__typeof__(v))(a)-1))

struct vn_instance;
struct vn_physical_device;
struct vn_device;
struct vn_queue;
struct vn_command_buffer;
struct vn_ring;

/* Base of every driver object, dispatchable or not. */
struct vn_object {
   struct vp_guest_object base; /* first: loader_data, wire id */
   VkObjectType type;
   bool pooled; /* a slot of the device's object pool (vn_object_alloc) */
};

/* The device's pool of small objects. Objects of at most
 * VN_OBJECT_POOL_SLOT bytes that the default allocator serves (neither the
 * application's device nor its create call brought callbacks) live in
 * slots of that size, and up to VN_OBJECT_POOL_MAX freed slots are kept
 * for the next create: buffers, views and samplers come and go by the
 * thousand, where malloc and free would cost a create and destroy a fifth
 * of the driver's work. */
#define VN_OBJECT_POOL_SLOT 64u
#define VN_OBJECT_POOL_MAX 256u

struct vn_object_pool {
   struct vu_bias_lock lock; /* mostly one thread creates and destroys */
   /* protected by lock */
   void *free; /* freed slots, linked through their first word */
   uint32_t count;
   bool enabled; /* set at device creation */
};

/* enabled where `dev_alloc` is the default allocator (not with
 * VENUS_PERF=no_object_pool, nor in AddressSanitizer builds, which should
 * see a use after vkDestroy*) */
void
vn_object_pool_init(struct vn_object_pool *pool, const VkAllocationCallbacks *dev_alloc);
void
vn_object_pool_fini(struct vn_object_pool *pool);

/* A new nonzero wire id; ids are never reused within a process, so an id
 * cannot be recycled before the renderer has seen its previous owner die. */
uint64_t
vn_next_id(void);

/* Initialises the base (id, type, loader magic for dispatchable objects). */
void
vn_object_init(struct vn_object *obj, VkObjectType type);

/* Allocation with the application's callbacks (or the system allocator). */
void *
vn_alloc(const VkAllocationCallbacks *alloc, size_t size, VkSystemAllocationScope scope);
void *
vn_zalloc(const VkAllocationCallbacks *alloc, size_t size, VkSystemAllocationScope scope);
void
vn_free(const VkAllocationCallbacks *alloc, void *ptr);

const VkAllocationCallbacks *
vn_default_allocator(void);

/* Generic objects without driver state beyond the base (generated creates):
 * allocated with pAllocator, else the device's allocator. */
struct vn_object *
vn_object_create(struct vn_device *dev, VkObjectType type, const VkAllocationCallbacks *alloc);
void
vn_object_destroy(struct vn_device *dev, struct vn_object *obj, const VkAllocationCallbacks *alloc);

/* Allocates a zeroed object of `size` bytes (first member struct vn_object):
 * from the device's object pool where it serves the size and `alloc`. */
void *
vn_object_alloc(struct vn_device *dev,
                size_t size,
                VkObjectType type,
                const VkAllocationCallbacks *alloc);
void
vn_object_free(struct vn_device *dev, void *obj, const VkAllocationCallbacks *alloc);

/* Logs an error result when VENUS_DEBUG=result; returns it unchanged. */
#define vn_error(result) vn_log_result(__func__, __LINE__, (result))
#define vn_result(result) vn_log_result(__func__, __LINE__, (result))
VkResult
vn_log_result(const char *func, int line, VkResult result);

#define vn_log_err(...) vu_log(VU_LOG_ERROR, "driver", __VA_ARGS__)
#define vn_log_warn(...) vu_log(VU_LOG_WARN, "driver", __VA_ARGS__)
/* diagnostics asked for with VENUS_DEBUG (which makes debug the default level) */
#define vn_log_debug(...) vu_log(VU_LOG_DEBUG, "driver", __VA_ARGS__)

/* raises *p to v (counters that only grow: timeline values, serials);
 * returns whether it did */
static inline bool
vn_atomic_raise(atomic_uint_fast64_t *p, uint64_t v)
{
   uint_fast64_t cur = atomic_load_explicit(p, memory_order_relaxed);
   while (cur < v) {
      if (atomic_compare_exchange_weak(p, &cur, v))
         return true;
   }
   return false;
}

/* 1024-bit extension sets indexed by registry number */
struct vn_ext_set {
   uint32_t bits[32];
};

static inline bool
vn_ext_set_has(const struct vn_ext_set *set, uint32_t number)
{
   return number < 1024 && ((set->bits[number / 32] >> (number % 32)) & 1);
}

static inline void
vn_ext_set_add(struct vn_ext_set *set, uint32_t number)
{
   if (number < 1024)
      set->bits[number / 32] |= 1u << (number % 32);
}

/* handle casts: handles are pointers to driver objects */
#define VN_HANDLE_CAST(type, vk_type)                                                    \
   static inline struct type *type##_from_handle(vk_type h)                              \
   {                                                                                     \
      return (struct type *)(uintptr_t)h;                                                \
   }                                                                                     \
   static inline vk_type type##_to_handle(struct type *obj)                              \
   {                                                                                     \
      return (vk_type)(uintptr_t)obj;                                                    \
   }



/* Copies a pNext chain (structs of known size only) into one malloc'ed
 * block, leaving out the sTypes in `drop`; *out_head is the new chain.
 * Returns the block (free() it), or NULL on allocation failure. */
void *
vn_chain_clone(const void *chain,
               const VkStructureType *drop,
               unsigned drop_count,
               const void **out_head);

#endif
