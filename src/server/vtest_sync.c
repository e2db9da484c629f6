/*
 * vtest syncs, waits and fence queues of one worker (see vtest_sync.h).
 */
#include "vtest_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/vu_log.h"
#include "util/vu_os.h"

#define VTEST_NS_PER_MS 1000000ull

struct vtest_sync {
   uint32_t id;
   uint32_t refcount;
   uint64_t value;
};

struct vtest_sync_point {
   struct vtest_sync *sync; /* holds a reference; NULL once reached (waits) */
   uint64_t value;
};

/* A VCMD_SYNC_WAIT that was not satisfied when it arrived. */
struct vtest_sync_wait {
   struct vtest_sync_wait *next;
   int fd;               /* our copy of the eventfd the client polls */
   bool is_any;          /* VCMD_SYNC_WAIT_FLAG_ANY */
   uint64_t deadline_ns; /* UINT64_MAX: never expires */
   uint32_t count;
   uint32_t reached_count;
   struct vtest_sync_point points[];
};

/* A VCMD_SUBMIT_CMD2 batch with RING_IDX and syncs, waiting for its fence. */
struct vtest_fence_submit {
   struct vtest_fence_submit *next;
   uint64_t fence_id;
   uint32_t count;
   struct vtest_sync_point points[];
};

static struct vtest_sync *
vtest_sync_ref(struct vtest_sync *sync)
{
   sync->refcount++;
   return sync;
}

static void
vtest_sync_unref(struct vtest_syncs *syncs, struct vtest_sync *sync)
{
   if (--sync->refcount)
      return;
   free(sync);
   syncs->live_count--;
}

static void
vtest_triple_decode(const uint32_t *triples,
                    uint32_t index,
                    uint32_t *out_id,
                    uint64_t *out_value)
{
   const uint32_t *t = triples + 3 * (size_t)index;
   *out_id = t[0];
   *out_value = (uint64_t)t[1] | (uint64_t)t[2] << 32;
}

static void
vtest_sync_wait_destroy(struct vtest_syncs *syncs, struct vtest_sync_wait *wait)
{
   for (uint32_t i = 0; i < wait->count; i++) {
      if (wait->points[i].sync)
         vtest_sync_unref(syncs, wait->points[i].sync);
   }
   if (wait->fd >= 0)
      close(wait->fd);
   free(wait);
}

static void
vtest_sync_wait_signal(struct vtest_sync_wait *wait)
{
   const uint64_t one = 1;
   /* an eventfd write of 1 cannot be short; it fails only on counter overflow */
   if (write(wait->fd, &one, sizeof(one)) != sizeof(one))
      vu_log(VU_LOG_WARN, "server", "sync wait eventfd write failed: errno %d", errno);
}

static bool
vtest_sync_wait_is_ready(const struct vtest_sync_wait *wait)
{
   if (wait->reached_count == wait->count)
      return true;
   return wait->is_any && wait->reached_count > 0;
}

/* sync's value grew to `value`: mark the points it reaches and complete the
 * waits that are now satisfied; drop the expired ones on the way. */
static void
vtest_syncs_update_waits(struct vtest_syncs *syncs,
                         const struct vtest_sync *sync,
                         uint64_t value)
{
   const uint64_t now = vu_os_time_ns();
   struct vtest_sync_wait **link = &syncs->waits;

   while (*link) {
      struct vtest_sync_wait *wait = *link;
      bool is_done = wait->deadline_ns < now;

      if (!is_done) {
         for (uint32_t i = 0; i < wait->count; i++) {
            struct vtest_sync_point *pt = &wait->points[i];
            if (pt->sync != sync || pt->value > value)
               continue;
            vtest_sync_unref(syncs, pt->sync);
            pt->sync = NULL;
            wait->reached_count++;
         }
         if (vtest_sync_wait_is_ready(wait)) {
            vtest_sync_wait_signal(wait);
            is_done = true;
         }
      }

      if (is_done) {
         *link = wait->next;
         syncs->wait_count--;
         vtest_sync_wait_destroy(syncs, wait);
      } else {
         link = &wait->next;
      }
   }
}

static void
vtest_sync_set_value(struct vtest_syncs *syncs, struct vtest_sync *sync, uint64_t value)
{
   const bool is_larger = value > sync->value;

   sync->value = value;
   if (is_larger && syncs->waits)
      vtest_syncs_update_waits(syncs, sync, value);
}

void
vtest_syncs_init(struct vtest_syncs *syncs)
{
   *syncs = (struct vtest_syncs){ .next_id = 1, .next_fence_id = 1 };
   vu_idmap_init(&syncs->table);
}

static void
vtest_syncs_unref_entry(uint64_t id, void *value, void *data)
{
   vtest_sync_unref(data, value);
}

void
vtest_syncs_fini(struct vtest_syncs *syncs)
{
   while (syncs->waits) {
      struct vtest_sync_wait *wait = syncs->waits;
      syncs->waits = wait->next;
      vtest_sync_wait_destroy(syncs, wait);
   }
   syncs->wait_count = 0;

   for (uint32_t t = 0; t < VTEST_MAX_TIMELINE_COUNT; t++) {
      struct vtest_fence_submit *submit = syncs->timelines[t].head;
      while (submit) {
         struct vtest_fence_submit *next = submit->next;
         for (uint32_t i = 0; i < submit->count; i++)
            vtest_sync_unref(syncs, submit->points[i].sync);
         free(submit);
         submit = next;
      }
      syncs->timelines[t].head = syncs->timelines[t].tail = NULL;
   }
   syncs->pending_fences = 0;

   vu_idmap_foreach(&syncs->table, vtest_syncs_unref_entry, syncs);
   vu_idmap_fini(&syncs->table);
}

bool
vtest_syncs_create(struct vtest_syncs *syncs, uint64_t value, uint32_t *out_id)
{
   if (syncs->live_count >= VTEST_MAX_SYNCS || syncs->next_id == 0) {
      vu_log(VU_LOG_WARN, "server", "too many syncs (limit %u)", VTEST_MAX_SYNCS);
      return false;
   }

   struct vtest_sync *sync = malloc(sizeof(*sync));
   if (!sync)
      return false;
   *sync = (struct vtest_sync){ .id = syncs->next_id, .refcount = 1, .value = value };

   if (!vu_idmap_insert(&syncs->table, sync->id, sync)) {
      free(sync);
      return false;
   }
   syncs->next_id++;
   syncs->live_count++;
   *out_id = sync->id;
   return true;
}

bool
vtest_syncs_unref(struct vtest_syncs *syncs, uint32_t id)
{
   struct vtest_sync *sync = vu_idmap_remove(&syncs->table, id);
   if (!sync)
      return false;
   vtest_sync_unref(syncs, sync);
   return true;
}

bool
vtest_syncs_read(const struct vtest_syncs *syncs, uint32_t id, uint64_t *out_value)
{
   const struct vtest_sync *sync = vu_idmap_get(&syncs->table, id);
   if (!sync)
      return false;
   *out_value = sync->value;
   return true;
}

bool
vtest_syncs_write(struct vtest_syncs *syncs, uint32_t id, uint64_t value)
{
   struct vtest_sync *sync = vu_idmap_get(&syncs->table, id);
   if (!sync)
      return false;
   vtest_sync_set_value(syncs, sync, value);
   return true;
}

bool
vtest_syncs_check_triples(const struct vtest_syncs *syncs,
                          const uint32_t *triples,
                          uint32_t count)
{
   for (uint32_t i = 0; i < count; i++) {
      uint32_t id;
      uint64_t value;
      vtest_triple_decode(triples, i, &id, &value);
      if (!vu_idmap_get(&syncs->table, id))
         return false;
   }
   return true;
}

void
vtest_syncs_write_triples(struct vtest_syncs *syncs,
                          const uint32_t *triples,
                          uint32_t count)
{
   for (uint32_t i = 0; i < count; i++) {
      uint32_t id;
      uint64_t value;
      vtest_triple_decode(triples, i, &id, &value);
      vtest_syncs_write(syncs, id, value);
   }
}

int
vtest_syncs_wait(struct vtest_syncs *syncs,
                 uint32_t flags,
                 uint32_t timeout_ms,
                 const uint32_t *triples,
                 uint32_t count)
{
   if (!vtest_syncs_check_triples(syncs, triples, count))
      return -1;
   if (syncs->wait_count >= VTEST_MAX_SYNC_WAITS) {
      vu_log(VU_LOG_WARN, "server", "too many pending sync waits (limit %u)",
             VTEST_MAX_SYNC_WAITS);
      return -1;
   }

   /* count is bounded by the request size limit, so this cannot overflow */
   struct vtest_sync_wait *wait =
      malloc(sizeof(*wait) + sizeof(struct vtest_sync_point) * (size_t)count);
   if (!wait)
      return -1;
   *wait = (struct vtest_sync_wait){
      .fd = -1,
      .is_any = (flags & VCMD_SYNC_WAIT_FLAG_ANY) != 0,
      .deadline_ns = timeout_ms > INT32_MAX
                        ? UINT64_MAX
                        : vu_os_time_ns() + timeout_ms * VTEST_NS_PER_MS,
   };

   /* only the points not reached yet are kept, as upstream does */
   for (uint32_t i = 0; i < count; i++) {
      uint32_t id;
      uint64_t value;
      vtest_triple_decode(triples, i, &id, &value);
      struct vtest_sync *sync = vu_idmap_get(&syncs->table, id);
      if (sync->value >= value)
         continue;
      wait->points[wait->count++] = (struct vtest_sync_point){
         .sync = vtest_sync_ref(sync),
         .value = value,
      };
   }
   /* an ANY wait with at least one reached sync is ready; so is an empty one */
   const bool is_ready = wait->count == 0 || (wait->is_any && wait->count < count);

   int client_fd = -1;
   wait->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   if (wait->fd >= 0)
      client_fd = fcntl(wait->fd, F_DUPFD_CLOEXEC, 0);
   if (client_fd < 0) {
      vu_log(VU_LOG_WARN, "server", "cannot create a sync wait eventfd: errno %d", errno);
      vtest_sync_wait_destroy(syncs, wait);
      return -1;
   }

   if (is_ready)
      vtest_sync_wait_signal(wait);

   /* with timeout 0 a pending wait is never signalled */
   if (is_ready || timeout_ms == 0) {
      vtest_sync_wait_destroy(syncs, wait);
      return client_fd;
   }

   wait->next = syncs->waits;
   syncs->waits = wait;
   syncs->wait_count++;
   return client_fd;
}

bool
vtest_syncs_queue_fence(struct vtest_syncs *syncs,
                        uint32_t ring_idx,
                        const uint32_t *triples,
                        uint32_t count,
                        uint64_t *out_fence_id)
{
   if (ring_idx >= VTEST_MAX_TIMELINE_COUNT)
      return false;
   if (syncs->pending_fences >= VTEST_MAX_PENDING_FENCES) {
      vu_log(VU_LOG_WARN, "server", "too many pending fences (limit %u)",
             VTEST_MAX_PENDING_FENCES);
      return false;
   }

   struct vtest_fence_submit *submit =
      malloc(sizeof(*submit) + sizeof(struct vtest_sync_point) * (size_t)count);
   if (!submit)
      return false;
   *submit =
      (struct vtest_fence_submit){ .fence_id = syncs->next_fence_id++, .count = count };

   for (uint32_t i = 0; i < count; i++) {
      uint32_t id;
      uint64_t value;
      vtest_triple_decode(triples, i, &id, &value);
      submit->points[i] = (struct vtest_sync_point){
         .sync = vtest_sync_ref(vu_idmap_get(&syncs->table, id)),
         .value = value,
      };
   }

   struct vtest_fence_queue *queue = &syncs->timelines[ring_idx];
   if (queue->tail)
      queue->tail->next = submit;
   else
      queue->head = submit;
   queue->tail = submit;
   syncs->pending_fences++;

   *out_fence_id = submit->fence_id;
   return true;
}

void
vtest_syncs_retire_fence(struct vtest_syncs *syncs, uint32_t ring_idx, uint64_t fence_id)
{
   if (ring_idx >= VTEST_MAX_TIMELINE_COUNT)
      return;

   /* fences on one timeline retire in order: a later one implies the earlier */
   struct vtest_fence_queue *queue = &syncs->timelines[ring_idx];
   while (queue->head && queue->head->fence_id <= fence_id) {
      struct vtest_fence_submit *submit = queue->head;
      queue->head = submit->next;
      if (!queue->head)
         queue->tail = NULL;
      syncs->pending_fences--;

      for (uint32_t i = 0; i < submit->count; i++) {
         vtest_sync_set_value(syncs, submit->points[i].sync, submit->points[i].value);
         vtest_sync_unref(syncs, submit->points[i].sync);
      }
      free(submit);
   }
}

int
vtest_syncs_expire_waits(struct vtest_syncs *syncs)
{
   const uint64_t now = vu_os_time_ns();
   uint64_t next_deadline = UINT64_MAX;
   struct vtest_sync_wait **link = &syncs->waits;

   while (*link) {
      struct vtest_sync_wait *wait = *link;
      if (wait->deadline_ns <= now) {
         *link = wait->next;
         syncs->wait_count--;
         vtest_sync_wait_destroy(syncs, wait);
         continue;
      }
      if (wait->deadline_ns < next_deadline)
         next_deadline = wait->deadline_ns;
      link = &wait->next;
   }

   if (next_deadline == UINT64_MAX)
      return -1;
   /* round up so that the next poll wakes after the deadline, not before */
   const uint64_t ms = (next_deadline - now + VTEST_NS_PER_MS - 1) / VTEST_NS_PER_MS;
   return ms > INT32_MAX ? INT32_MAX : (int)ms;
}
