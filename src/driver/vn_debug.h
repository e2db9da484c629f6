/*
 * Guest-side VK_EXT_debug_utils, private data and tooling info: none of
 * these reach the renderer.
 */
#ifndef VN_DEBUG_H
#define VN_DEBUG_H

#include "vn_common.h"

struct vn_instance;

void
vn_debug_instance_init(struct vn_instance *instance, const VkInstanceCreateInfo *info);
void
vn_debug_instance_fini(struct vn_instance *instance);

#endif
