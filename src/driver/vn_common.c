/*
 * Object ids, allocation and error logging shared by the whole driver.
 */
#include "vn_common.h"

#include "vn_device.h"

static atomic_uint_fast64_t vn_id_counter;

uint64_t
vn_next_id(void)
{
   return atomic_fetch_add_explicit(&vn_id_counter, 1, memory_order_relaxed) + 1;
}

void
vn_object_init(struct vn_object *obj, VkObjectType type)
{
   obj->base.loader_data = ICD_LOADER_MAGIC;
   obj->base.id = vn_next_id();
   obj->type = type;
}

static void *VKAPI_PTR
vn_default_alloc(void *user, size_t size, size_t align, VkSystemAllocationScope scope)
{
   (void)user;
   (void)scope;
   /* malloc's blocks suit any fundamental alignment (C11 7.22.3), which is
    * all the driver asks for (vn_alloc: 16); posix_memalign costs about
    * twice as much */
   if (align <= _Alignof(max_align_t))
      return malloc(size);
   void *ptr = NULL;
   if (align < sizeof(void *))
      align = sizeof(void *);
   if (posix_memalign(&ptr, align, size))
      return NULL;
   return ptr;
}

static void *VKAPI_PTR
vn_default_realloc(void *user, void *orig, size_t size, size_t align, VkSystemAllocationScope scope)
{
   (void)user;
   (void)scope;
   (void)align;
   return realloc(orig, size);
}

static void VKAPI_PTR
vn_default_free(void *user, void *ptr)
{
   (void)user;
   free(ptr);
}

static const VkAllocationCallbacks vn_default_callbacks = {
   .pfnAllocation = vn_default_alloc,
   .pfnReallocation = vn_default_realloc,
   .pfnFree = vn_default_free,
};

const VkAllocationCallbacks *
vn_default_allocator(void)
{
   return &vn_default_callbacks;
}

void *
vn_alloc(const VkAllocationCallbacks *alloc, size_t size, VkSystemAllocationScope scope)
{
   if (!alloc)
      alloc = &vn_default_callbacks;
   return alloc->pfnAllocation(alloc->pUserData, size, 16, scope);
}

void *
vn_zalloc(const VkAllocationCallbacks *alloc, size_t size, VkSystemAllocationScope scope)
{
   void *ptr = vn_alloc(alloc, size, scope);
   if (ptr)
      memset(ptr, 0, size);
   return ptr;
}

void
vn_free(const VkAllocationCallbacks *alloc, void *ptr)
{
   if (!ptr)
      return;
   if (!alloc)
      alloc = &vn_default_callbacks;
   alloc->pfnFree(alloc->pUserData, ptr);
}

void
vn_object_pool_init(struct vn_object_pool *pool, const VkAllocationCallbacks *dev_alloc)
{
#if defined(__SANITIZE_ADDRESS__)
   (void)dev_alloc;
   pool->enabled = false;
#else
   pool->enabled = dev_alloc->pfnAllocation == vn_default_callbacks.pfnAllocation &&
                   !VU_PERF(NO_OBJECT_POOL);
#endif
}

void
vn_object_pool_fini(struct vn_object_pool *pool)
{
   while (pool->free) {
      void *slot = pool->free;
      pool->free = *(void **)slot;
      free(slot);
   }
   pool->count = 0;
}

void *
vn_object_alloc(struct vn_device *dev,
                size_t size,
                VkObjectType type,
                const VkAllocationCallbacks *alloc)
{
   struct vn_object *obj;
   struct vn_object_pool *pool = &dev->object_pool;
   if (!alloc && size <= VN_OBJECT_POOL_SLOT && pool->enabled) {
      vu_bias_lock_take(&pool->lock);
      void *slot = pool->free;
      if (slot) {
         pool->free = *(void **)slot;
         pool->count--;
      }
      vu_bias_lock_give(&pool->lock);
      obj = slot ? slot : malloc(VN_OBJECT_POOL_SLOT);
      if (!obj)
         return NULL;
      memset(obj, 0, VN_OBJECT_POOL_SLOT);
      obj->pooled = true;
   } else {
      obj = vn_zalloc(alloc ? alloc : &dev->alloc, size, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
      if (!obj)
         return NULL;
   }
   vn_object_init(obj, type);
   return obj;
}

void
vn_object_free(struct vn_device *dev, void *obj, const VkAllocationCallbacks *alloc)
{
   if (!obj || !((struct vn_object *)obj)->pooled) {
      vn_free(alloc ? alloc : &dev->alloc, obj);
      return;
   }
   struct vn_object_pool *pool = &dev->object_pool;
   vu_bias_lock_take(&pool->lock);
   if (pool->count < VN_OBJECT_POOL_MAX) {
      *(void **)obj = pool->free;
      pool->free = obj;
      pool->count++;
      obj = NULL;
   }
   vu_bias_lock_give(&pool->lock);
   free(obj);
}

struct vn_object *
vn_object_create(struct vn_device *dev, VkObjectType type, const VkAllocationCallbacks *alloc)
{
   return vn_object_alloc(dev, sizeof(struct vn_object), type, alloc);
}

void
vn_object_destroy(struct vn_device *dev, struct vn_object *obj, const VkAllocationCallbacks *alloc)
{
   vn_object_free(dev, obj, alloc);
}

VkResult
vn_log_result(const char *func, int line, VkResult result)
{
   if (result < 0 && VU_DEBUG(RESULT))
      vu_log(VU_LOG_WARN, "driver", "%s:%d returns %d", func, line, result);
   return result;
}

void *
vn_chain_clone(const void *chain,
               const VkStructureType *drop,
               unsigned drop_count,
               const void **out_head)
{
   size_t total = 8;
   for (const VkBaseInStructure *s = chain; s; s = s->pNext)
      total += VN_ALIGN(vn_struct_size(s->sType), (size_t)8);
   uint8_t *block = calloc(1, total);
   if (!block)
      return NULL;
   VkBaseOutStructure *prev = NULL;
   size_t offset = 0;
   *out_head = NULL;
   for (const VkBaseInStructure *s = chain; s; s = s->pNext) {
      const size_t size = vn_struct_size(s->sType);
      bool skip = !size;
      for (unsigned i = 0; i < drop_count && !skip; i++)
         skip = drop[i] == s->sType;
      if (skip)
         continue;
      VkBaseOutStructure *copy = (VkBaseOutStructure *)(block + offset);
      memcpy(copy, s, size);
      copy->pNext = NULL;
      if (prev)
         prev->pNext = copy;
      else
         *out_head = copy;
      prev = copy;
      offset += VN_ALIGN(size, (size_t)8);
   }
   return block;
}
