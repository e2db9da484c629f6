/*
 * vkCreateRingMESA's description of a ring in our layout (vw_ring.h), for
 * the driver and the tests that create rings.
 */
#ifndef VW_RING_INFO_H
#define VW_RING_INFO_H

#include "transport/vw_ring.h"
#include "vp_protocol.h"

/* A ring of buffer_size bytes at offset 0 of resource res_id (its size
 * vw_ring_total_size), whose thread sleeps after idle_timeout_ns without
 * commands; pNext empty. */
static inline VkRingCreateInfoMESA
vw_ring_create_info(uint32_t res_id, uint32_t buffer_size, uint64_t idle_timeout_ns)
{
   return (VkRingCreateInfoMESA){
      .sType = VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA,
      .resourceId = res_id,
      .offset = 0,
      .size = vw_ring_total_size(buffer_size),
      .idleTimeout = idle_timeout_ns,
      .headOffset = VW_RING_HEAD_OFFSET,
      .tailOffset = VW_RING_TAIL_OFFSET,
      .statusOffset = VW_RING_STATUS_OFFSET,
      .bufferOffset = VW_RING_BUFFER_OFFSET,
      .bufferSize = buffer_size,
      .extraOffset = VW_RING_BUFFER_OFFSET + buffer_size,
      .extraSize = VW_RING_EXTRA_SIZE,
   };
}

#endif
