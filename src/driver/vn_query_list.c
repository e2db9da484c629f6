/*
 * Query lists (vn_query_list.h): ends and resets kept apart, in the order
 * that decides what the feedback copies.
 */
#include "vn_query_list.h"

#include <string.h>

#include "vn_common.h"

static void
vn_query_ranges_push(struct vn_query_range **ranges,
                     uint32_t *count,
                     uint32_t *capacity,
                     const VkAllocationCallbacks *alloc,
                     struct vn_query_range range)
{
   if (*count == *capacity) {
      const uint32_t cap = *capacity ? *capacity * 2 : 8;
      struct vn_query_range *r =
         vn_alloc(alloc, sizeof(*r) * cap, VK_SYSTEM_ALLOCATION_SCOPE_OBJECT);
      if (!r)
         return;
      if (*ranges)
         memcpy(r, *ranges, sizeof(*r) * *count);
      vn_free(alloc, *ranges);
      *ranges = r;
      *capacity = cap;
   }
   (*ranges)[(*count)++] = range;
}

/* An end: an earlier reset wholly inside it needs no clearing of the
 * feedback, since the end's copy and availability write rewrite all of each
 * query's feedback. That spares the GPU a write in every submission of the
 * usual reset + timestamps per frame. */
void
vn_query_list_end(struct vn_query_list *list,
                  const VkAllocationCallbacks *alloc,
                  struct vn_query_range range)
{
   if (!range.count)
      return;
   /* extend one of the last few ends when it is of the same pool and
    * adjacent (what the ends hold was not reset since, so any two may
    * merge): queries of pools used in turn stay a few ranges, which resets
    * look through */
   struct vn_query_range *into = NULL;
   for (uint32_t i = list->end_count; i-- > 0 && list->end_count - i <= 8;) {
      struct vn_query_range *r = &list->ends[i];
      if (r->pool == range.pool && range.first >= r->first &&
          range.first <= r->first + r->count) {
         into = r;
         break;
      }
   }
   if (into) {
      into->count = VN_MAX(into->first + into->count, range.first + range.count) - into->first;
      range = *into;
   } else {
      vn_query_ranges_push(&list->ends, &list->end_count, &list->end_capacity, alloc, range);
   }
   /* (a dropped reset leaves the array, whose order does not matter: each
    * reset recorded before its query costs later ends nothing) */
   for (uint32_t i = 0; i < list->reset_count;) {
      const struct vn_query_range *r = &list->resets[i];
      if (r->pool == range.pool && r->first >= range.first &&
          r->first + r->count <= range.first + range.count)
         list->resets[i] = list->resets[--list->reset_count];
      else
         i++;
   }
}

/* A reset: earlier ends of its queries are moot, so the ranges that ended
 * them lose those queries (a range around the reset splits in two; without
 * memory for its tail, those results are not copied rather than waited for
 * wrongly). */
void
vn_query_list_reset(struct vn_query_list *list,
                    const VkAllocationCallbacks *alloc,
                    struct vn_query_range range)
{
   if (!range.count)
      return;
   const uint32_t first = range.first, end = range.first + range.count;
   const uint32_t n = list->end_count;
   for (uint32_t i = 0; i < n; i++) {
      struct vn_query_range *r = &list->ends[i];
      const uint32_t r_end = r->first + r->count;
      if (r->pool != range.pool || r_end <= first || r->first >= end)
         continue;
      if (r->first < first && r_end > end) {
         const struct vn_query_range tail = { r->pool, end, r_end - end };
         r->count = first - r->first;
         vn_query_ranges_push(&list->ends, &list->end_count, &list->end_capacity, alloc, tail);
      } else if (r_end > end) {
         r->first = end;
         r->count = r_end - end;
      } else {
         r->count = r->first < first ? first - r->first : 0;
      }
   }
   /* the emptied ends leave (in order: the last ones may grow) */
   uint32_t kept = 0;
   for (uint32_t i = 0; i < list->end_count; i++) {
      if (list->ends[i].count)
         list->ends[kept++] = list->ends[i];
   }
   list->end_count = kept;
   vn_query_ranges_push(&list->resets, &list->reset_count, &list->reset_capacity, alloc, range);
}

/* `later`'s resets and ends may be added in either order: what it ends and
 * resets both, it ended last (else its own reset would have cut the end),
 * and the end it holds is copied after any fill */
void
vn_query_list_append(struct vn_query_list *list,
                     const VkAllocationCallbacks *alloc,
                     const struct vn_query_list *later)
{
   for (uint32_t i = 0; i < later->reset_count; i++)
      vn_query_list_reset(list, alloc, later->resets[i]);
   for (uint32_t i = 0; i < later->end_count; i++)
      vn_query_list_end(list, alloc, later->ends[i]);
}

void
vn_query_list_clear(struct vn_query_list *list)
{
   list->end_count = 0;
   list->reset_count = 0;
}

void
vn_query_list_fini(struct vn_query_list *list, const VkAllocationCallbacks *alloc)
{
   vn_free(alloc, list->ends);
   vn_free(alloc, list->resets);
   memset(list, 0, sizeof(*list));
}
