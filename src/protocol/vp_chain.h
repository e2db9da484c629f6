/*
 * pNext chains, for the driver (an application's chains) and the renderer
 * (chains the decoder built from a guest's stream, so finite and acyclic).
 */
#ifndef VP_CHAIN_H
#define VP_CHAIN_H

#include <stddef.h>

#include <vulkan/vulkan_core.h>

/* The first structure of the chain with this sType, or NULL. */
static inline const void *
vp_chain_find(const void *chain, VkStructureType type)
{
   for (const VkBaseInStructure *s = chain; s; s = s->pNext) {
      if (s->sType == type)
         return s;
   }
   return NULL;
}

/* vp_chain_find for a chain the caller may write: an output chain, or a
 * copy it made of an input chain (whose head may be typed const). */
static inline void *
vp_chain_find_mut(const void *chain, VkStructureType type)
{
   return (void *)vp_chain_find(chain, type);
}

#endif
