/*
 * Unit tests for the driver's pool of small objects (vn_object_alloc and
 * vn_object_free, src/driver/vn_common.c): a freed slot serves the next
 * create, zeroed again; at most VN_OBJECT_POOL_MAX slots are kept; larger
 * objects, an application's allocator and a device created with one go
 * past the pool to the callbacks; threads creating and destroying at once
 * never get one slot twice. Without the pool (VENUS_PERF=no_object_pool,
 * or an AddressSanitizer build) every object is the callbacks' own.
 */
#include <pthread.h>
#include <stdbool.h>

#include "harness.h"

#include "driver/vn_device.h"
#include "driver/vn_memory.h"

static bool
pool_expected(void)
{
#if defined(__SANITIZE_ADDRESS__)
   return false;
#else
   const char *perf = getenv("VENUS_PERF");
   return !(perf && strstr(perf, "no_object_pool"));
#endif
}

/* an application's allocator that counts its calls */
static unsigned app_allocs, app_frees;

static void *VKAPI_PTR
app_alloc(void *user, size_t size, size_t align, VkSystemAllocationScope scope)
{
   (void)user;
   (void)align;
   (void)scope;
   app_allocs++;
   return malloc(size);
}

static void *VKAPI_PTR
app_realloc(void *user, void *orig, size_t size, size_t align, VkSystemAllocationScope scope)
{
   (void)user;
   (void)align;
   (void)scope;
   return realloc(orig, size);
}

static void VKAPI_PTR
app_free(void *user, void *ptr)
{
   (void)user;
   if (ptr)
      app_frees++;
   free(ptr);
}

static const VkAllocationCallbacks app_callbacks = {
   .pfnAllocation = app_alloc,
   .pfnReallocation = app_realloc,
   .pfnFree = app_free,
};

static struct vn_device *
device_new(const VkAllocationCallbacks *alloc)
{
   struct vn_device *dev = calloc(1, sizeof(*dev));
   dev->alloc = alloc ? *alloc : *vn_default_allocator();
   vn_object_pool_init(&dev->object_pool, &dev->alloc);
   return dev;
}

static void
device_free(struct vn_device *dev)
{
   vn_object_pool_fini(&dev->object_pool);
   CHECK(!dev->object_pool.free);
   free(dev);
}

static bool
zero_after_base(const struct vn_object *obj, size_t size)
{
   const unsigned char *p = (const unsigned char *)obj;
   for (size_t i = sizeof(struct vn_object); i < size; i++) {
      if (p[i])
         return false;
   }
   return true;
}

TEST(freed_slot_serves_the_next_create)
{
   struct vn_device *dev = device_new(NULL);
   CHECK_EQ(dev->object_pool.enabled, pool_expected());
   struct vn_buffer *a = vn_object_alloc(dev, sizeof(*a), VK_OBJECT_TYPE_BUFFER, NULL);
   CHECK(a);
   CHECK_EQ(a->obj.type, VK_OBJECT_TYPE_BUFFER);
   CHECK(a->obj.base.id != 0);
   CHECK_EQ(a->obj.pooled, pool_expected());
   CHECK(zero_after_base(&a->obj, sizeof(*a)));
   const uint64_t first_id = a->obj.base.id;
   memset(&a->reqs, 0xa5, sizeof(a->reqs));
   vn_object_free(dev, a, NULL);
   CHECK_EQ(dev->object_pool.count, pool_expected() ? 1 : 0);

   /* the same slot, zeroed, with a new id and type */
   struct vn_object *b = vn_object_alloc(dev, sizeof(*b), VK_OBJECT_TYPE_SAMPLER, NULL);
   CHECK(b);
   if (pool_expected())
      CHECK((void *)b == (void *)a);
   CHECK_EQ(b->type, VK_OBJECT_TYPE_SAMPLER);
   CHECK(b->base.id > first_id);
   /* the whole slot, where the buffer's bytes were */
   CHECK(zero_after_base(b, pool_expected() ? VN_OBJECT_POOL_SLOT : sizeof(*b)));
   CHECK_EQ(dev->object_pool.count, 0);
   vn_object_free(dev, b, NULL);
   device_free(dev);
}

TEST(at_most_max_slots_kept)
{
   struct vn_device *dev = device_new(NULL);
   const unsigned n = VN_OBJECT_POOL_MAX + 40;
   struct vn_object **objs = calloc(n, sizeof(*objs));
   for (unsigned i = 0; i < n; i++)
      objs[i] = vn_object_create(dev, VK_OBJECT_TYPE_IMAGE_VIEW, NULL);
   for (unsigned i = 0; i < n; i++)
      vn_object_destroy(dev, objs[i], NULL);
   CHECK_EQ(dev->object_pool.count, pool_expected() ? VN_OBJECT_POOL_MAX : 0);
   /* the kept slots are handed out again, each once */
   for (unsigned i = 0; i < n; i++) {
      objs[i] = vn_object_create(dev, VK_OBJECT_TYPE_IMAGE_VIEW, NULL);
      for (unsigned j = 0; j < i; j++)
         CHECK(objs[j] != objs[i]);
   }
   CHECK_EQ(dev->object_pool.count, 0);
   for (unsigned i = 0; i < n; i++)
      vn_object_destroy(dev, objs[i], NULL);
   free(objs);
   device_free(dev);
}

TEST(large_objects_and_allocators_bypass_the_pool)
{
   struct vn_device *dev = device_new(NULL);
   /* larger than a slot */
   void *big = vn_object_alloc(dev, VN_OBJECT_POOL_SLOT + 8, VK_OBJECT_TYPE_RENDER_PASS, NULL);
   CHECK(big && !((struct vn_object *)big)->pooled);
   vn_object_free(dev, big, NULL);
   CHECK_EQ(dev->object_pool.count, 0);

   /* the create's own allocator */
   app_allocs = app_frees = 0;
   struct vn_object *obj = vn_object_create(dev, VK_OBJECT_TYPE_BUFFER_VIEW, &app_callbacks);
   CHECK(obj && !obj->pooled);
   vn_object_destroy(dev, obj, &app_callbacks);
   CHECK_EQ(app_allocs, 1);
   CHECK_EQ(app_frees, 1);
   CHECK_EQ(dev->object_pool.count, 0);
   device_free(dev);

   /* a device created with an allocator: every object from it */
   dev = device_new(&app_callbacks);
   CHECK(!dev->object_pool.enabled);
   app_allocs = app_frees = 0;
   for (int i = 0; i < 3; i++) {
      obj = vn_object_create(dev, VK_OBJECT_TYPE_SAMPLER, NULL);
      CHECK(obj && !obj->pooled);
      vn_object_destroy(dev, obj, NULL);
   }
   CHECK_EQ(app_allocs, 3);
   CHECK_EQ(app_frees, 3);
   device_free(dev);
}

#define THREADS 4
#define ROUNDS 4000000

static pthread_barrier_t start;

struct worker {
   struct vn_device *dev;
   unsigned index;
   unsigned clobbered;
};

/* each thread keeps a few objects alive, stamped with its index, and checks
 * the stamps before it frees them: a slot handed to two threads at once
 * shows as another thread's stamp */
static void *
worker_run(void *arg)
{
   struct worker *w = arg;
   struct vn_buffer *held[8] = { 0 };
   pthread_barrier_wait(&start);
   for (unsigned r = 0; r < ROUNDS; r++) {
      const unsigned k = r % 8;
      if (held[k]) {
         if (held[k]->reqs.reqs.size != w->index || held[k]->reqs.reqs.alignment != r - 8)
            w->clobbered++;
         vn_object_free(w->dev, held[k], NULL);
      }
      held[k] = vn_object_alloc(w->dev, sizeof(*held[k]), VK_OBJECT_TYPE_BUFFER, NULL);
      if (!held[k] || held[k]->reqs.reqs.size) {
         w->clobbered++;
         continue;
      }
      held[k]->reqs.reqs.size = w->index;
      held[k]->reqs.reqs.alignment = r;
   }
   for (unsigned k = 0; k < 8; k++)
      vn_object_free(w->dev, held[k], NULL);
   return NULL;
}

TEST(threads_never_share_a_slot)
{
   struct vn_device *dev = device_new(NULL);
   pthread_t threads[THREADS];
   struct worker workers[THREADS];
   pthread_barrier_init(&start, NULL, THREADS);
   for (unsigned i = 0; i < THREADS; i++) {
      workers[i] = (struct worker){ .dev = dev, .index = i + 1 };
      pthread_create(&threads[i], NULL, worker_run, &workers[i]);
   }
   for (unsigned i = 0; i < THREADS; i++) {
      pthread_join(threads[i], NULL);
      CHECK_EQ(workers[i].clobbered, 0);
   }
   pthread_barrier_destroy(&start);
   CHECK(dev->object_pool.count <= VN_OBJECT_POOL_MAX);
   device_free(dev);
}

RUN_TESTS(freed_slot_serves_the_next_create, at_most_max_slots_kept,
          large_objects_and_allocators_bypass_the_pool, threads_never_share_a_slot)
