/*
 * The queries a command buffer ends and resets, and those of a submission's
 * command buffers together: which results the driver's feedback copies and
 * which it clears (docs/driver.md, "Feedback").
 */
#ifndef VN_QUERY_LIST_H
#define VN_QUERY_LIST_H

#include <stdint.h>

#include <vulkan/vulkan_core.h>

struct vn_query_pool;

/* queries ended or reset: copied to (or cleared in) the pool's feedback
 * buffer after each submission containing them */
struct vn_query_range {
   struct vn_query_pool *pool;
   uint32_t first;
   uint32_t count;
};

/* The queries of a command buffer, or of a submission's command buffers in
 * submission order, as vn_query_list_end / _reset / _append leave them: no
 * end range holds a query that a later reset covers (its results must not
 * be waited for), and no reset lies wholly inside a later end (the end's
 * copy and availability write rewrite its feedback). No range is empty. A range is left
 * out if memory runs out. */
struct vn_query_list {
   struct vn_query_range *ends; /* results copied */
   uint32_t end_count;
   uint32_t end_capacity;
   struct vn_query_range *resets; /* feedback cleared */
   uint32_t reset_count;
   uint32_t reset_capacity;
};

void
vn_query_list_end(struct vn_query_list *list,
                  const VkAllocationCallbacks *alloc,
                  struct vn_query_range range);
void
vn_query_list_reset(struct vn_query_list *list,
                    const VkAllocationCallbacks *alloc,
                    struct vn_query_range range);
/* adds the ranges of `later`, whose queries come after those of `list` */
void
vn_query_list_append(struct vn_query_list *list,
                     const VkAllocationCallbacks *alloc,
                     const struct vn_query_list *later);
void
vn_query_list_clear(struct vn_query_list *list);
void
vn_query_list_fini(struct vn_query_list *list, const VkAllocationCallbacks *alloc);

#endif
