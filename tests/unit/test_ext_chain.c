/*
 * The command-free extensions carried in addition to Venus's table
 * (protocol/extensions.txt, lines marked '+'): their structs cross in pNext
 * chains both ways. Feature chains are encoded by the driver (vkCreateDevice)
 * and decoded by the renderer, then queried (vkGetPhysicalDeviceFeatures2 /
 * Properties2): the renderer decodes the guest's chain, the "host" fills it,
 * the reply goes back and the guest's structs must hold the host's bytes.
 * Every struct the registry's headers define is included; one the generated
 * codec does not know is dropped by the encoder, and the chain checks fail.
 */
#include <stddef.h>

#include "harness.h"

#include "vp_protocol.h"

#define GUEST(name, id_) struct vp_guest_object name = { .loader_data = 0, .id = (id_) }
#define HANDLE(type, obj) ((type)(uintptr_t)&(obj))

struct chain_entry {
   const char *name;
   VkStructureType stype;
   size_t size;
   size_t end; /* end of the last member: the bytes compared */
};

#define ENTRY(type, stype_, last)                                                        \
   { #type, stype_, sizeof(type), offsetof(type, last) + sizeof(((type *)0)->last) }

static const struct chain_entry feature_entries[] = {
#ifdef VK_NV_corner_sampled_image
   ENTRY(VkPhysicalDeviceCornerSampledImageFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_CORNER_SAMPLED_IMAGE_FEATURES_NV, cornerSampledImage),
#endif
#ifdef VK_NV_shader_sm_builtins
   ENTRY(VkPhysicalDeviceShaderSMBuiltinsFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_FEATURES_NV, shaderSMBuiltins),
#endif
#ifdef VK_NV_representative_fragment_test
   ENTRY(VkPhysicalDeviceRepresentativeFragmentTestFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_REPRESENTATIVE_FRAGMENT_TEST_FEATURES_NV,
         representativeFragmentTest),
#endif
#ifdef VK_NV_inherited_viewport_scissor
   ENTRY(VkPhysicalDeviceInheritedViewportScissorFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_INHERITED_VIEWPORT_SCISSOR_FEATURES_NV,
         inheritedViewportScissor2D),
#endif
#ifdef VK_NV_shader_image_footprint
   ENTRY(VkPhysicalDeviceShaderImageFootprintFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_IMAGE_FOOTPRINT_FEATURES_NV, imageFootprint),
#endif
#ifdef VK_EXT_memory_priority
   ENTRY(VkPhysicalDeviceMemoryPriorityFeaturesEXT,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT, memoryPriority),
#endif
#ifdef VK_NV_extended_sparse_address_space
   ENTRY(VkPhysicalDeviceExtendedSparseAddressSpaceFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTENDED_SPARSE_ADDRESS_SPACE_FEATURES_NV,
         extendedSparseAddressSpace),
#endif
#ifdef VK_NV_descriptor_pool_overallocation
   ENTRY(VkPhysicalDeviceDescriptorPoolOverallocationFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DESCRIPTOR_POOL_OVERALLOCATION_FEATURES_NV,
         descriptorPoolOverallocation),
#endif
#ifdef VK_NV_raw_access_chains
   ENTRY(VkPhysicalDeviceRawAccessChainsFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAW_ACCESS_CHAINS_FEATURES_NV,
         shaderRawAccessChains),
#endif
#ifdef VK_NV_shader_atomic_float16_vector
   ENTRY(VkPhysicalDeviceShaderAtomicFloat16VectorFeaturesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT16_VECTOR_FEATURES_NV,
         shaderFloat16VectorAtomics),
#endif
#ifdef VK_KHR_maintenance8
   ENTRY(VkPhysicalDeviceMaintenance8FeaturesKHR,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_8_FEATURES_KHR, maintenance8),
#endif
#ifdef VK_EXT_vertex_attribute_robustness
   ENTRY(VkPhysicalDeviceVertexAttributeRobustnessFeaturesEXT,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VERTEX_ATTRIBUTE_ROBUSTNESS_FEATURES_EXT,
         vertexAttributeRobustness),
#endif
};

static const struct chain_entry property_entries[] = {
#ifdef VK_NVX_multiview_per_view_attributes
   ENTRY(VkPhysicalDeviceMultiviewPerViewAttributesPropertiesNVX,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MULTIVIEW_PER_VIEW_ATTRIBUTES_PROPERTIES_NVX,
         perViewPositionAllComponents),
#endif
#ifdef VK_NV_shader_sm_builtins
   ENTRY(VkPhysicalDeviceShaderSMBuiltinsPropertiesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV, shaderWarpsPerSM),
#endif
#ifdef VK_NV_extended_sparse_address_space
   ENTRY(VkPhysicalDeviceExtendedSparseAddressSpacePropertiesNV,
         VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTENDED_SPARSE_ADDRESS_SPACE_PROPERTIES_NV,
         extendedSparseBufferUsageFlags),
#endif
};

#define FEATURE_COUNT (sizeof(feature_entries) / sizeof(feature_entries[0]))
#define PROPERTY_COUNT (sizeof(property_entries) / sizeof(property_entries[0]))
#define HEADER sizeof(VkBaseOutStructure)

/* renderer-side lookup: any id is a host object of that id */
struct fake_host {
   struct vp_host_object objs[16];
   unsigned count;
};

static void *
fake_lookup(void *data, uint64_t id, VkObjectType type)
{
   struct fake_host *h = data;
   if (h->count == 16)
      return NULL;
   struct vp_host_object *o = &h->objs[h->count++];
   o->id = id;
   o->type = type;
   o->handle = id + 0x1000;
   return o;
}

static void
host_decoder(struct vp_decoder *dec, struct vu_arena *arena, struct fake_host *host,
             const struct vp_encoder *enc, uint32_t expect_type)
{
   memset(host, 0, sizeof(*host));
   vu_arena_init(arena, 1 << 20);
   vp_decoder_init(dec, enc->base, vp_encoder_size(enc), arena);
   dec->lookup = fake_lookup;
   dec->lookup_data = host;
   CHECK_EQ(vp_decode_u32(dec), expect_type);
   vp_decode_u32(dec); /* flags */
}

/* a chain of zeroed structs of `entries`, linked in order */
static void *
build_chain(const struct chain_entry *entries, unsigned count, void **blocks)
{
   void *head = NULL;
   for (unsigned i = count; i-- > 0;) {
      VkBaseOutStructure *s = calloc(1, entries[i].size);
      if (!s)
         abort();
      s->sType = entries[i].stype;
      s->pNext = head;
      head = s;
      blocks[i] = s;
   }
   return head;
}

/* payload bytes that differ per struct and per byte; VkBool32 members get 0
 * or 1 (the pattern's low bit), the rest the whole byte */
static void
fill_payload(const struct chain_entry *e, void *s, unsigned seed, bool bools)
{
   uint8_t *p = (uint8_t *)s + HEADER;
   const size_t n = e->end - HEADER;
   memset(p, 0, n);
   for (size_t k = 0; k < n; k++) {
      if (bools)
         p[k] = (k % 4 == 0) ? (uint8_t)((seed + k / 4) & 1) : 0;
      else
         p[k] = (uint8_t)(seed * 31 + k * 7 + 1);
   }
}

/* the decoded chain holds exactly `entries`, in order */
static void
check_chain_types(const void *head, const struct chain_entry *entries, unsigned count)
{
   const VkBaseInStructure *s = head;
   for (unsigned i = 0; i < count; i++) {
      CHECK(s != NULL);
      if (!s) {
         fprintf(stderr, "chain ends before %s\n", entries[i].name);
         return;
      }
      if (s->sType != entries[i].stype)
         fprintf(stderr, "expected %s, got sType %d\n", entries[i].name, (int)s->sType);
      CHECK_EQ((int64_t)s->sType, (int64_t)entries[i].stype);
      s = s->pNext;
   }
   CHECK(s == NULL);
}

TEST(feature_chain_in_create_device)
{
   if (!FEATURE_COUNT)
      return;
   GUEST(pdev_obj, 2);
   GUEST(dev_obj, 3);
   VkPhysicalDevice pdev = HANDLE(VkPhysicalDevice, pdev_obj);
   VkDevice dev = HANDLE(VkDevice, dev_obj);
   void *blocks[FEATURE_COUNT + 1];
   void *chain = build_chain(feature_entries, FEATURE_COUNT, blocks);
   for (unsigned i = 0; i < FEATURE_COUNT; i++)
      fill_payload(&feature_entries[i], blocks[i], i, true);
   const float priority = 1.0f;
   const VkDeviceQueueCreateInfo queue = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueCount = 1,
      .pQueuePriorities = &priority,
   };
   const VkDeviceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = chain,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue,
   };
   struct vp_encoder enc;
   vp_encoder_init_dynamic(&enc, 256);
   vp_encode_vkCreateDevice(&enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT, pdev, &info, NULL, &dev);
   CHECK(!vp_encoder_is_fatal(&enc));
   CHECK_EQ(vp_encoder_size(&enc), vp_sizeof_vkCreateDevice(pdev, &info, NULL, &dev));

   struct vu_arena arena;
   struct vp_decoder dec;
   struct fake_host host;
   host_decoder(&dec, &arena, &host, &enc, VK_COMMAND_TYPE_vkCreateDevice_EXT);
   struct vp_command_vkCreateDevice args;
   memset(&args, 0, sizeof(args));
   vp_decode_vkCreateDevice_args_temp(&dec, &args);
   CHECK(!vp_decoder_is_fatal(&dec));
   CHECK_EQ(vp_decoder_remaining(&dec), 0);
   CHECK(args.pCreateInfo != NULL);
   if (args.pCreateInfo) {
      check_chain_types(args.pCreateInfo->pNext, feature_entries, FEATURE_COUNT);
      const VkBaseInStructure *s = args.pCreateInfo->pNext;
      for (unsigned i = 0; i < FEATURE_COUNT && s; i++, s = s->pNext) {
         if (s->sType == feature_entries[i].stype)
            CHECK_MEM((const uint8_t *)s + HEADER, (const uint8_t *)blocks[i] + HEADER,
                      feature_entries[i].end - HEADER);
      }
   }
   vu_arena_fini(&arena);
   vp_encoder_fini(&enc);
   for (unsigned i = 0; i < FEATURE_COUNT; i++)
      free(blocks[i]);
}

/* vkGetPhysicalDeviceFeatures2 / Properties2: guest chain out, host bytes back */
static void
query_chain(bool features, const struct chain_entry *entries, unsigned count)
{
   GUEST(pdev_obj, 2);
   VkPhysicalDevice pdev = HANDLE(VkPhysicalDevice, pdev_obj);
   void *blocks[16];
   if (count > 16)
      abort();
   void *chain = build_chain(entries, count, blocks);
   VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = chain };
   VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = chain };
   struct vp_encoder enc;
   vp_encoder_init_dynamic(&enc, 256);
   if (features)
      vp_encode_vkGetPhysicalDeviceFeatures2(&enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT, pdev, &f2);
   else
      vp_encode_vkGetPhysicalDeviceProperties2(&enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT, pdev, &p2);
   CHECK(!vp_encoder_is_fatal(&enc));

   struct vu_arena arena;
   struct vp_decoder dec;
   struct fake_host host;
   host_decoder(&dec, &arena, &host, &enc,
                features ? VK_COMMAND_TYPE_vkGetPhysicalDeviceFeatures2_EXT
                         : VK_COMMAND_TYPE_vkGetPhysicalDeviceProperties2_EXT);
   struct vp_command_vkGetPhysicalDeviceFeatures2 fargs;
   struct vp_command_vkGetPhysicalDeviceProperties2 pargs;
   memset(&fargs, 0, sizeof(fargs));
   memset(&pargs, 0, sizeof(pargs));
   const void *host_chain = NULL;
   if (features) {
      vp_decode_vkGetPhysicalDeviceFeatures2_args_temp(&dec, &fargs);
      host_chain = fargs.pFeatures ? fargs.pFeatures->pNext : NULL;
   } else {
      vp_decode_vkGetPhysicalDeviceProperties2_args_temp(&dec, &pargs);
      host_chain = pargs.pProperties ? pargs.pProperties->pNext : NULL;
   }
   CHECK(!vp_decoder_is_fatal(&dec));
   CHECK_EQ(vp_decoder_remaining(&dec), 0);
   check_chain_types(host_chain, entries, count);

   /* the host fills its structs */
   unsigned i = 0;
   for (VkBaseOutStructure *s = (VkBaseOutStructure *)host_chain; s && i < count;
        s = s->pNext, i++) {
      if (s->sType == entries[i].stype)
         fill_payload(&entries[i], s, i + 5, features);
   }
   struct vp_encoder renc;
   vp_encoder_init_dynamic(&renc, 256);
   renc.raw_handles = true;
   if (features) {
      vp_encode_vkGetPhysicalDeviceFeatures2_reply(&renc, &fargs);
      CHECK_EQ(vp_encoder_size(&renc), vp_sizeof_vkGetPhysicalDeviceFeatures2_reply(pdev, &f2));
   } else {
      vp_encode_vkGetPhysicalDeviceProperties2_reply(&renc, &pargs);
      CHECK_EQ(vp_encoder_size(&renc), vp_sizeof_vkGetPhysicalDeviceProperties2_reply(pdev, &p2));
   }
   CHECK(!vp_encoder_is_fatal(&renc));
   struct vp_decoder rdec;
   vp_decoder_init(&rdec, renc.base, vp_encoder_size(&renc), NULL);
   if (features)
      vp_decode_vkGetPhysicalDeviceFeatures2_reply(&rdec, pdev, &f2);
   else
      vp_decode_vkGetPhysicalDeviceProperties2_reply(&rdec, pdev, &p2);
   CHECK(!vp_decoder_is_fatal(&rdec));
   CHECK_EQ(vp_decoder_remaining(&rdec), 0);

   /* the guest's structs hold the host's bytes, its chain untouched */
   check_chain_types(chain, entries, count);
   const VkBaseInStructure *h = host_chain;
   for (i = 0; i < count && h; i++, h = h->pNext) {
      uint8_t expect[256];
      memset(expect, 0, sizeof(expect));
      fill_payload(&entries[i], expect, i + 5, features);
      CHECK_MEM((const uint8_t *)blocks[i] + HEADER, expect + HEADER, entries[i].end - HEADER);
   }
   vp_encoder_fini(&renc);
   vu_arena_fini(&arena);
   vp_encoder_fini(&enc);
   for (i = 0; i < count; i++)
      free(blocks[i]);
}

TEST(feature_chain_query)
{
   if (FEATURE_COUNT)
      query_chain(true, feature_entries, FEATURE_COUNT);
}

TEST(property_chain_query)
{
   if (PROPERTY_COUNT)
      query_chain(false, property_entries, PROPERTY_COUNT);
}

/* VK_EXT_memory_priority's allocation struct */
TEST(memory_priority_allocate)
{
#ifdef VK_EXT_memory_priority
   GUEST(dev_obj, 3);
   GUEST(mem_obj, 4);
   VkDevice dev = HANDLE(VkDevice, dev_obj);
   VkDeviceMemory mem = (VkDeviceMemory)(uintptr_t)&mem_obj;
   const VkMemoryPriorityAllocateInfoEXT prio = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT,
      .priority = 0.75f,
   };
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &prio,
      .allocationSize = 65536,
      .memoryTypeIndex = 1,
   };
   struct vp_encoder enc;
   vp_encoder_init_dynamic(&enc, 256);
   vp_encode_vkAllocateMemory(&enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT, dev, &info, NULL, &mem);
   CHECK(!vp_encoder_is_fatal(&enc));
   struct vu_arena arena;
   struct vp_decoder dec;
   struct fake_host host;
   host_decoder(&dec, &arena, &host, &enc, VK_COMMAND_TYPE_vkAllocateMemory_EXT);
   struct vp_command_vkAllocateMemory args;
   memset(&args, 0, sizeof(args));
   vp_decode_vkAllocateMemory_args_temp(&dec, &args);
   CHECK(!vp_decoder_is_fatal(&dec));
   CHECK_EQ(vp_decoder_remaining(&dec), 0);
   const VkMemoryPriorityAllocateInfoEXT *hp =
      args.pAllocateInfo ? args.pAllocateInfo->pNext : NULL;
   CHECK(hp != NULL);
   if (hp) {
      CHECK_EQ(hp->sType, VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT);
      CHECK(hp->priority == 0.75f);
      CHECK(hp->pNext == NULL);
   }
   vu_arena_fini(&arena);
   vp_encoder_fini(&enc);
#endif
}

/* VK_NV_inherited_viewport_scissor: pViewportDepths is an array of
 * viewportDepthCount (protocol/lens.txt; vk.xml says so only in prose) */
TEST(inherited_viewport_depths)
{
#ifdef VK_NV_inherited_viewport_scissor
   GUEST(cmd_obj, 5);
   VkCommandBuffer cmd = HANDLE(VkCommandBuffer, cmd_obj);
   const VkViewport depths[3] = {
      { 1, 2, 3, 4, 0.25f, 0.5f },
      { 5, 6, 7, 8, 0.0f, 1.0f },
      { 9, 10, 11, 12, 0.125f, 0.75f },
   };
   const VkCommandBufferInheritanceViewportScissorInfoNV vs = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_VIEWPORT_SCISSOR_INFO_NV,
      .viewportScissor2D = VK_TRUE,
      .viewportDepthCount = 3,
      .pViewportDepths = depths,
   };
   const VkCommandBufferInheritanceInfo inheritance = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
      .pNext = &vs,
   };
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .pInheritanceInfo = &inheritance,
   };
   struct vp_encoder enc;
   vp_encoder_init_dynamic(&enc, 256);
   vp_encode_vkBeginCommandBuffer(&enc, 0, cmd, &begin);
   CHECK(!vp_encoder_is_fatal(&enc));
   CHECK_EQ(vp_encoder_size(&enc), vp_sizeof_vkBeginCommandBuffer(cmd, &begin));
   struct vu_arena arena;
   struct vp_decoder dec;
   struct fake_host host;
   host_decoder(&dec, &arena, &host, &enc, VK_COMMAND_TYPE_vkBeginCommandBuffer_EXT);
   struct vp_command_vkBeginCommandBuffer args;
   memset(&args, 0, sizeof(args));
   vp_decode_vkBeginCommandBuffer_args_temp(&dec, &args);
   CHECK(!vp_decoder_is_fatal(&dec));
   CHECK_EQ(vp_decoder_remaining(&dec), 0);
   const VkCommandBufferInheritanceInfo *hi =
      args.pBeginInfo ? args.pBeginInfo->pInheritanceInfo : NULL;
   const VkCommandBufferInheritanceViewportScissorInfoNV *hv = hi ? hi->pNext : NULL;
   CHECK(hv != NULL);
   if (hv) {
      CHECK_EQ(hv->sType, VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_VIEWPORT_SCISSOR_INFO_NV);
      CHECK_EQ(hv->viewportScissor2D, VK_TRUE);
      CHECK_EQ(hv->viewportDepthCount, 3);
      CHECK(hv->pViewportDepths != NULL);
      if (hv->pViewportDepths)
         CHECK_MEM(hv->pViewportDepths, depths, sizeof(depths));
   }
   vu_arena_fini(&arena);
   vp_encoder_fini(&enc);
#endif
}

RUN_TESTS(feature_chain_in_create_device,
          feature_chain_query,
          property_chain_query,
          memory_priority_allocate,
          inherited_viewport_depths)
