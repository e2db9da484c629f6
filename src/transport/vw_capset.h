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

static inline int
vw_capset_has_extension(const struct vw_capset *c, uint32_t ext_number)
{
   if (!(c->vk_extension_mask1[0] & 1))
      return 1; /* pre-mask renderer: everything */
   return ext_number < 1024 && (c->vk_extension_mask1[ext_number / 32] >> (ext_number % 32)) & 1;
}

#endif
