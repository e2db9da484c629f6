/*
 * The Venus capset (capset id 4, version 0): struct virgl_renderer_capset_venus.
 * 160 bytes since virglrenderer 1.1.0; 156 before (no use_guest_vram).
 */
#ifndef VW_CAPSET_H
#define VW_CAPSET_H

#include <stdint.h>

#define VW_CAPSET_ID_VENUS 4

struct vw_capset {
   uint32_t wire_format_version;
   uint32_t vk_xml_version;
   uint32_t vk_ext_command_serialization_spec_version;
   uint32_t vk_mesa_venus_protocol_spec_version;
   uint32_t supports_blob_id_0;
   uint32_t vk_extension_mask1[32];
   uint32_t allow_vk_wait_syncs;
   uint32_t supports_multiple_timelines;
   uint32_t use_guest_vram;
};

_Static_assert(sizeof(struct vw_capset) == 160, "capset layout");

/*
 * Version 1 of the Venus capset is ours: only our VMM library (src/vmm)
 * offers it. It is version 0 followed by a tag and feature flags. A guest
 * kernel refuses a version above the one the host offers, so a driver that
 * asks for version 1 and gets the tag back knows that the renderer is ours;
 * virglrenderer offers version 0 alone, and Mesa asks for version 0.
 */
#define VW_CAPSET_VENUS_EXT_VERSION 1
#define VW_CAPSET_EXT_TAG 0x53554e56u /* "VNUS" */
/* The renderer keeps the fd of every blob of a context, so that
 * VkImportMemoryResourceInfoMESA works on a blob created without
 * CROSS_DEVICE (virglrenderer keeps it only for CROSS_DEVICE blobs). */
#define VW_CAPSET_EXT_BLOB_IMPORT (1u << 0)

struct vw_capset_ext {
   struct vw_capset base;
   uint32_t tag;
   uint32_t flags;
};

_Static_assert(sizeof(struct vw_capset_ext) == 168, "capset version 1 layout");

static inline int
vw_capset_has_extension(const struct vw_capset *c, uint32_t ext_number)
{
   if (!(c->vk_extension_mask1[0] & 1))
      return 1; /* pre-mask renderer: everything */
   return ext_number < 1024 && (c->vk_extension_mask1[ext_number / 32] >> (ext_number % 32)) & 1;
}

#endif
