/*
 * Hostile input to the renderer's decoder and dispatcher: truncated streams,
 * oversized counts, unknown command types and sTypes, bad ids, bad markers,
 * bad union tags and random bytes. Each must set the fatal flag and return:
 * no crash, no leak (run under ASan in CI), and no allocation beyond the
 * arena cap.
 */
#include "harness.h"

#include "vp_protocol.h"

void
vp_stub_handlers_init(struct vp_handlers *h);

#define ARENA_CAP (4u << 20)

static struct vp_handlers handlers;
static struct vp_host_object objects[16];

/* ids 1..16 exist (with the asked type); everything else is unknown */
static void *
lookup(void *data, uint64_t id, VkObjectType type)
{
   (void)data;
   if (id == 0 || id > 16)
      return NULL;
   objects[id - 1].id = id;
   objects[id - 1].type = type;
   objects[id - 1].handle = id;
   return &objects[id - 1];
}

struct run {
   bool fatal;
   unsigned commands;
   size_t max_arena;
   const char *error;
};

/* decodes and dispatches a whole stream as the renderer does */
static struct run
run_stream(const void *data, size_t size)
{
   static uint8_t reply_storage[1 << 16];
   struct vu_arena arena;
   vu_arena_init(&arena, ARENA_CAP);
   struct vp_decoder dec;
   vp_decoder_init(&dec, data, size, &arena);
   dec.lookup = lookup;
   struct vp_encoder reply;
   vp_encoder_init_fixed(&reply, reply_storage, sizeof(reply_storage));
   reply.raw_handles = true;
   struct vp_dispatch d = { .dec = &dec, .reply = &reply, .handlers = &handlers };

   struct run r = { 0 };
   while (vp_decoder_remaining(&dec) && !vp_decoder_is_fatal(&dec)) {
      vp_dispatch_command(&d);
      r.commands++;
      if (arena.used > r.max_arena)
         r.max_arena = arena.used;
      vu_arena_reset(&arena);
      vp_encoder_reset(&reply);
   }
   r.fatal = vp_decoder_is_fatal(&dec);
   r.error = dec.error;
   vu_arena_fini(&arena);
   return r;
}

static size_t
encode_valid(uint8_t *buf, size_t size, int which)
{
   struct vp_guest_object dev = { 0, 3 }, buf_obj = { 0, 4 }, cb = { 0, 5 };
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, buf, size);
   if (which == 0) {
      const uint32_t families[2] = { 0, 1 };
      const VkBufferCreateInfo info = {
         .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
         .size = 4096,
         .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
         .sharingMode = VK_SHARING_MODE_CONCURRENT,
         .queueFamilyIndexCount = 2,
         .pQueueFamilyIndices = families,
      };
      VkBuffer buffer = (VkBuffer)(uintptr_t)&buf_obj;
      vp_encode_vkCreateBuffer(&enc, 1, (VkDevice)(uintptr_t)&dev, &info, NULL, &buffer);
   } else {
      const uint32_t values[4] = { 1, 2, 3, 4 };
      vp_encode_vkCmdPushConstants(&enc, 0, (VkCommandBuffer)(uintptr_t)&cb,
                                   (VkPipelineLayout)(uintptr_t)&buf_obj,
                                   VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(values), values);
      vp_encode_vkCmdDispatch(&enc, 0, (VkCommandBuffer)(uintptr_t)&cb, 1, 2, 3);
   }
   return vp_encoder_size(&enc);
}

TEST(valid_streams_pass)
{
   uint8_t buf[512];
   for (int which = 0; which < 2; which++) {
      const size_t size = encode_valid(buf, sizeof(buf), which);
      const struct run r = run_stream(buf, size);
      CHECK(!r.fatal);
      CHECK_EQ(r.commands, which == 0 ? 1 : 2);
   }
}

TEST(every_truncation_is_fatal)
{
   uint8_t buf[512];
   for (int which = 0; which < 2; which++) {
      const size_t size = encode_valid(buf, sizeof(buf), which);
      for (size_t cut = 1; cut < size; cut++) {
         /* cutting exactly between the two commands of stream 1 is valid */
         if (which == 1 && cut == size - 28)
            continue;
         const struct run r = run_stream(buf, cut);
         if (!r.fatal)
            fprintf(stderr, "stream %d cut at %zu not fatal\n", which, cut);
         CHECK(r.fatal);
      }
   }
}

TEST(oversized_counts_are_fatal_without_allocating)
{
   uint8_t buf[512];
   const size_t size = encode_valid(buf, sizeof(buf), 0);
   /* queueFamilyIndexCount and the array size claim 2^31 elements */
   /* layout: hdr 8, device 8, marker 8, sType 4, pNext 8, flags 4, size 8,
    * usage 4, sharing 4, count @56, array size @60 */
   vp_put_u32(buf + 56, 0x80000000u);
   vp_put_u64(buf + 60, 0x80000000u);
   struct run r = run_stream(buf, size);
   CHECK(r.fatal);
   CHECK(r.max_arena < ARENA_CAP);

   encode_valid(buf, sizeof(buf), 0);
   vp_put_u64(buf + 60, UINT64_MAX);
   r = run_stream(buf, size);
   CHECK(r.fatal);

   /* a push-constant blob of 4 GiB */
   const size_t size1 = encode_valid(buf, sizeof(buf), 1);
   /* hdr 8, cb 8, layout 8, stages 4, offset 4, size @32, blob size @36 */
   vp_put_u32(buf + 32, 0xfffffff0u);
   vp_put_u64(buf + 36, 0xfffffff0u);
   r = run_stream(buf, size1);
   CHECK(r.fatal);
   CHECK(r.max_arena < ARENA_CAP);
}

/* An input byte array longer than the rest of the stream is refused before
 * storage is taken for it (the storage is not zero-filled first either:
 * vp_decoder_alloc_bytes). */
TEST(blob_past_the_stream_allocates_nothing)
{
   uint8_t buf[512];
   const size_t size = encode_valid(buf, sizeof(buf), 1);
   /* push constants of 2 MiB (below the arena cap) in a stream of ~100 bytes;
    * hdr 8, cb 8, layout 8, stages 4, offset 4, size @32, blob size @36 */
   vp_put_u32(buf + 32, 2u << 20);
   vp_put_u64(buf + 36, 2u << 20);
   const struct run r = run_stream(buf, size);
   CHECK(r.fatal);
   CHECK(r.max_arena < 4096);
}

#ifdef VK_EXT_host_image_copy
static const void *host_copy_data;

static void
record_host_copy(struct vp_dispatch *d, struct vp_command_vkCopyMemoryToImageMESA *args)
{
   (void)d;
   host_copy_data = args->pCopyMemoryToImageInfo->pRegions[0].pData;
}

/* The pixels of vkCopyMemoryToImageMESA reach the handler where they lie in
 * the stream, not copied out (venus_private_host_copy.xml's inplace), and a
 * size the stream does not hold is fatal. */
TEST(host_copy_pixels_are_decoded_in_place)
{
   struct vp_guest_object dev = { 0, 3 }, image = { 0, 4 };
   uint8_t pixels[4 * 4 * 4];
   for (size_t i = 0; i < sizeof(pixels); i++)
      pixels[i] = (uint8_t)(i * 7 + 1);
   const VkMemoryToImageCopyMESA region = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_MESA,
      .dataSize = sizeof(pixels),
      .pData = pixels,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { 4, 4, 1 },
   };
   const VkCopyMemoryToImageInfoMESA info = {
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_MESA,
      .dstImage = (VkImage)(uintptr_t)&image,
      .dstImageLayout = VK_IMAGE_LAYOUT_GENERAL,
      .regionCount = 1,
      .pRegions = &region,
   };
   uint8_t buf[512];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkCopyMemoryToImageMESA(&enc, 0, (VkDevice)(uintptr_t)&dev, &info);
   const size_t size = vp_encoder_size(&enc);
   CHECK(!vp_encoder_is_fatal(&enc));

   handlers.vkCopyMemoryToImageMESA = record_host_copy;
   host_copy_data = NULL;
   struct run r = run_stream(buf, size);
   CHECK(!r.fatal);
   const uint8_t *data = host_copy_data;
   const bool in_place = data >= buf && data + sizeof(pixels) <= buf + size;
   CHECK(in_place);
   CHECK(data && memcmp(data, pixels, sizeof(pixels)) == 0);

   /* every cut inside the pixels is fatal and reaches no handler */
   const size_t at = in_place ? (size_t)(data - buf) : size;
   const size_t end = in_place ? at + sizeof(pixels) : size;
   for (size_t cut = at; cut < end; cut += 5) {
      host_copy_data = NULL;
      r = run_stream(buf, cut);
      CHECK(r.fatal);
      CHECK(host_copy_data == NULL);
   }
   vp_stub_handlers_init(&handlers);
}

static size_t read_size;

static void
record_host_read(struct vp_dispatch *d, struct vp_command_vkCopyImageToMemoryMESA *args)
{
   (void)d;
   host_copy_data = args->pData;
   read_size = args->dataSize;
}

/* The output pixels of vkCopyImageToMemoryMESA take no decoder storage (its
 * handler points them into the reply: the XML's inplace), and a length the
 * guest does not send with them is fatal. */
TEST(host_copy_read_takes_no_storage)
{
   struct vp_guest_object dev = { 0, 3 }, image = { 0, 4 };
   const VkCopyImageToMemoryInfoMESA info = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_MESA,
      .srcImage = (VkImage)(uintptr_t)&image,
      .srcImageLayout = VK_IMAGE_LAYOUT_GENERAL,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { 512, 512, 1 },
   };
   static uint8_t pixels[512 * 512 * 4];
   uint8_t buf[512];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkCopyImageToMemoryMESA(&enc, 0, (VkDevice)(uintptr_t)&dev, &info, sizeof(pixels),
                                     pixels);
   const size_t size = vp_encoder_size(&enc);
   CHECK(!vp_encoder_is_fatal(&enc));

   handlers.vkCopyImageToMemoryMESA = record_host_read;
   host_copy_data = pixels;
   read_size = 0;
   struct run r = run_stream(buf, size);
   CHECK(!r.fatal);
   CHECK(host_copy_data == NULL);
   CHECK_EQ(read_size, sizeof(pixels));
   CHECK(r.max_arena < 4096);

   /* a blob size that is not dataSize (the last 8 bytes: 0 for NULL) */
   vp_put_u64(buf + size - 8, 0);
   r = run_stream(buf, size);
   CHECK(r.fatal);
   vp_put_u64(buf + size - 8, sizeof(pixels) - 4);
   r = run_stream(buf, size);
   CHECK(r.fatal);
   vp_stub_handlers_init(&handlers);
}
#endif

TEST(unknown_command_types_are_fatal)
{
   const int32_t types[] = { -1, VP_COMMAND_TYPE_COUNT, 9999, 0x7fffffff,
                             VK_COMMAND_TYPE_vkGetVenusExperimentalFeatureData100000MESA_EXT,
                             VK_COMMAND_TYPE_vkMapMemory_EXT,
                             VK_COMMAND_TYPE_vkGetInstanceProcAddr_EXT };
   for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
      uint8_t buf[64] = { 0 };
      vp_put_u32(buf, (uint32_t)types[i]);
      const struct run r = run_stream(buf, sizeof(buf));
      CHECK(r.fatal);
   }
}

TEST(missing_handler_is_fatal)
{
   uint8_t buf[512];
   const size_t size = encode_valid(buf, sizeof(buf), 1);
   handlers.vkCmdDispatch = NULL;
   const struct run r = run_stream(buf, size);
   CHECK(r.fatal);
   CHECK_EQ(r.commands, 2);
   vp_stub_handlers_init(&handlers);
}

TEST(unknown_stype_in_chain_is_fatal)
{
   uint8_t buf[512];
   const size_t size = encode_valid(buf, sizeof(buf), 0);
   /* splice a chain link with an unknown sType after the create info's sType */
   uint8_t bad[600];
   memcpy(bad, buf, 28);
   vp_put_u64(bad + 28, 1);
   vp_put_u32(bad + 36, 0x7eadbeef);
   vp_put_u64(bad + 40, 0);
   memcpy(bad + 48, buf + 36, size - 36);
   struct run r = run_stream(bad, size + 12);
   CHECK(r.fatal);

   /* a known sType that may not extend VkBufferCreateInfo */
   vp_put_u32(bad + 36, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES);
   r = run_stream(bad, size + 12);
   CHECK(r.fatal);

   /* and a wrong sType for the struct itself */
   encode_valid(buf, sizeof(buf), 0);
   vp_put_u32(buf + 24, VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO);
   r = run_stream(buf, size);
   CHECK(r.fatal);
}

TEST(bad_ids_and_markers_are_fatal)
{
   uint8_t buf[512];
   size_t size = encode_valid(buf, sizeof(buf), 0);
   vp_put_u64(buf + 8, 999); /* unknown device id */
   struct run r = run_stream(buf, size);
   CHECK(r.fatal);

   encode_valid(buf, sizeof(buf), 0);
   vp_put_u64(buf + 8, 0); /* NULL dispatchable handle */
   r = run_stream(buf, size);
   CHECK(r.fatal);

   encode_valid(buf, sizeof(buf), 0);
   vp_put_u64(buf + 16, 0); /* NULL pCreateInfo */
   r = run_stream(buf, size);
   CHECK(r.fatal);

   encode_valid(buf, sizeof(buf), 0);
   vp_put_u64(buf + size - 24, 1); /* non-NULL pAllocator */
   r = run_stream(buf, size);
   CHECK(r.fatal);

   /* an array size that differs from its count */
   encode_valid(buf, sizeof(buf), 0);
   vp_put_u64(buf + 60, 3);
   r = run_stream(buf, size);
   CHECK(r.fatal);

   /* NULL required blob with a nonzero length (push constants, size 16) */
   size = encode_valid(buf, sizeof(buf), 1);
   vp_put_u64(buf + 36, 0);
   memmove(buf + 44, buf + 60, size - 60);
   r = run_stream(buf, size - 16);
   CHECK(r.fatal);
}

TEST(null_required_output_array_is_fatal)
{
   struct vp_guest_object dev = { 0, 3 }, pool = { 0, 4 }, cb0 = { 0, 5 }, cb1 = { 0, 6 };
   const VkCommandBufferAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = (VkCommandPool)(uintptr_t)&pool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 2,
   };
   VkCommandBuffer cbs[2] = { (VkCommandBuffer)(uintptr_t)&cb0, (VkCommandBuffer)(uintptr_t)&cb1 };
   uint8_t buf[256];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkAllocateCommandBuffers(&enc, 0, (VkDevice)(uintptr_t)&dev, &info, cbs);
   CHECK(!run_stream(buf, vp_encoder_size(&enc)).fatal);
   /* the same call without the output array: the host would write through NULL */
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkAllocateCommandBuffers(&enc, 0, (VkDevice)(uintptr_t)&dev, &info, NULL);
   CHECK(run_stream(buf, vp_encoder_size(&enc)).fatal);
}

/* A handle parameter vk.xml requires, sent as VK_NULL_HANDLE (the host
 * driver would dereference it; fuzz_ring found lavapipe doing so in
 * vkGetBufferMemoryRequirements), is fatal; one it marks optional is not. */
TEST(null_required_handle_is_fatal)
{
   struct vp_guest_object dev = { 0, 3 }, buffer = { 0, 4 };
   VkMemoryRequirements reqs;
   uint8_t buf[256];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkGetBufferMemoryRequirements(&enc, 0, (VkDevice)(uintptr_t)&dev,
                                           (VkBuffer)(uintptr_t)&buffer, &reqs);
   CHECK(!run_stream(buf, vp_encoder_size(&enc)).fatal);
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkGetBufferMemoryRequirements(&enc, 0, (VkDevice)(uintptr_t)&dev, VK_NULL_HANDLE,
                                           &reqs);
   struct run r = run_stream(buf, vp_encoder_size(&enc));
   CHECK(r.fatal);
   CHECK(r.error && strstr(r.error, "VK_NULL_HANDLE"));
   /* vkDestroyBuffer's buffer is optional */
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkDestroyBuffer(&enc, 0, (VkDevice)(uintptr_t)&dev, VK_NULL_HANDLE, NULL);
   CHECK(!run_stream(buf, vp_encoder_size(&enc)).fatal);
}

/* The same inside structures and arrays: a handle member vk.xml requires
 * (VkImageViewCreateInfo::image), or an element of an array of required
 * handles (vkWaitForFences::pFences, VkSubmitInfo::pCommandBuffers), sent as
 * VK_NULL_HANDLE is fatal; an array whose elements vk.xml marks optional
 * (vkCmdBindVertexBuffers::pBuffers, for nullDescriptor) is not. */
TEST(null_required_handle_inside_is_fatal)
{
   struct vp_guest_object dev = { 0, 3 }, image = { 0, 4 }, view = { 0, 5 }, fence = { 0, 6 };
   struct vp_guest_object queue = { 0, 7 }, cb = { 0, 8 };
   VkImageViewCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
      .image = (VkImage)(uintptr_t)&image,
      .viewType = VK_IMAGE_VIEW_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   VkImageView out = (VkImageView)(uintptr_t)&view;
   uint8_t buf[256];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkCreateImageView(&enc, 0, (VkDevice)(uintptr_t)&dev, &info, NULL, &out);
   CHECK(!run_stream(buf, vp_encoder_size(&enc)).fatal);
   info.image = VK_NULL_HANDLE;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkCreateImageView(&enc, 0, (VkDevice)(uintptr_t)&dev, &info, NULL, &out);
   struct run r = run_stream(buf, vp_encoder_size(&enc));
   CHECK(r.fatal);
   CHECK(r.error && strstr(r.error, "VK_NULL_HANDLE where a handle is required"));

   VkFence fences[2] = { (VkFence)(uintptr_t)&fence, (VkFence)(uintptr_t)&fence };
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkWaitForFences(&enc, 0, (VkDevice)(uintptr_t)&dev, 2, fences, VK_TRUE, 0);
   CHECK(!run_stream(buf, vp_encoder_size(&enc)).fatal);
   fences[1] = VK_NULL_HANDLE;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkWaitForFences(&enc, 0, (VkDevice)(uintptr_t)&dev, 2, fences, VK_TRUE, 0);
   r = run_stream(buf, vp_encoder_size(&enc));
   CHECK(r.fatal);
   CHECK(r.error && strstr(r.error, "VK_NULL_HANDLE in an array of required handles"));

   VkCommandBuffer cbs[1] = { (VkCommandBuffer)(uintptr_t)&cb };
   VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = cbs,
   };
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkQueueSubmit(&enc, 0, (VkQueue)(uintptr_t)&queue, 1, &submit, VK_NULL_HANDLE);
   CHECK(!run_stream(buf, vp_encoder_size(&enc)).fatal);
   cbs[0] = VK_NULL_HANDLE;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkQueueSubmit(&enc, 0, (VkQueue)(uintptr_t)&queue, 1, &submit, VK_NULL_HANDLE);
   CHECK(run_stream(buf, vp_encoder_size(&enc)).fatal);

   const VkBuffer vbs[2] = { VK_NULL_HANDLE, VK_NULL_HANDLE };
   const VkDeviceSize offsets[2] = { 0, 0 };
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkCmdBindVertexBuffers(&enc, 0, (VkCommandBuffer)(uintptr_t)&cb, 0, 2, vbs, offsets);
   CHECK(!run_stream(buf, vp_encoder_size(&enc)).fatal);
}

TEST(bad_union_tag_is_fatal)
{
   struct vp_guest_object cb = { 0, 5 }, image = { 0, 6 };
   const VkClearColorValue color = { .uint32 = { 1, 2, 3, 4 } };
   const VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
   uint8_t buf[256];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, buf, sizeof(buf));
   vp_encode_vkCmdClearColorImage(&enc, 0, (VkCommandBuffer)(uintptr_t)&cb,
                                  (VkImage)(uintptr_t)&image, VK_IMAGE_LAYOUT_GENERAL, &color,
                                  1, &range);
   const size_t size = vp_encoder_size(&enc);
   CHECK(!run_stream(buf, size).fatal);
   vp_put_u32(buf + 36, 3);
   CHECK(run_stream(buf, size).fatal);
}

TEST(reply_without_stream_is_fatal)
{
   uint8_t buf[512];
   const size_t size = encode_valid(buf, sizeof(buf), 0); /* has the reply bit */
   struct vu_arena arena;
   vu_arena_init(&arena, ARENA_CAP);
   struct vp_decoder dec;
   vp_decoder_init(&dec, buf, size, &arena);
   dec.lookup = lookup;
   struct vp_dispatch d = { .dec = &dec, .reply = NULL, .handlers = &handlers };
   CHECK(!vp_dispatch_command(&d));
   CHECK(vp_decoder_is_fatal(&dec));

   /* and a reply stream too small for the reply */
   uint8_t tiny[8];
   struct vp_encoder reply;
   vp_encoder_init_fixed(&reply, tiny, sizeof(tiny));
   vp_decoder_init(&dec, buf, size, &arena);
   dec.lookup = lookup;
   d.reply = &reply;
   CHECK(!vp_dispatch_command(&d));
   vu_arena_fini(&arena);
}

static uint64_t rng = 0x1234567;

static uint32_t
rnd(void)
{
   rng ^= rng << 13;
   rng ^= rng >> 7;
   rng ^= rng << 17;
   return (uint32_t)rng;
}

TEST(random_streams_never_crash)
{
   static uint8_t buf[4096];
   unsigned fatal = 0;
   for (int i = 0; i < 20000; i++) {
      const size_t size = (rnd() % (sizeof(buf) / 4)) * 4;
      for (size_t j = 0; j < size; j++)
         buf[j] = (uint8_t)rnd();
      /* half of them start with a plausible command type */
      if (size >= 8 && (i & 1)) {
         vp_put_u32(buf, rnd() % VP_COMMAND_TYPE_COUNT);
         vp_put_u32(buf + 4, rnd() & 1);
      }
      const struct run r = run_stream(buf, size);
      CHECK(r.max_arena <= ARENA_CAP);
      fatal += r.fatal;
   }
   /* random bytes essentially never form a valid stream */
   CHECK(fatal > 19000);
}

TEST(mutated_valid_streams_never_crash)
{
   uint8_t buf[512], mutated[512];
   for (int which = 0; which < 2; which++) {
      const size_t size = encode_valid(buf, sizeof(buf), which);
      for (int i = 0; i < 20000; i++) {
         memcpy(mutated, buf, size);
         const int flips = 1 + rnd() % 4;
         for (int f = 0; f < flips; f++)
            mutated[rnd() % size] ^= (uint8_t)(1u << (rnd() % 8));
         const struct run r = run_stream(mutated, size);
         CHECK(r.max_arena <= ARENA_CAP);
      }
   }
}

int
main(void)
{
   vp_stub_handlers_init(&handlers);
   test_valid_streams_pass();
   test_every_truncation_is_fatal();
   test_oversized_counts_are_fatal_without_allocating();
   test_blob_past_the_stream_allocates_nothing();
#ifdef VK_EXT_host_image_copy
   test_host_copy_pixels_are_decoded_in_place();
   test_host_copy_read_takes_no_storage();
#endif
   test_unknown_command_types_are_fatal();
   test_missing_handler_is_fatal();
   test_unknown_stype_in_chain_is_fatal();
   test_bad_ids_and_markers_are_fatal();
   test_null_required_output_array_is_fatal();
   test_null_required_handle_is_fatal();
   test_null_required_handle_inside_is_fatal();
   test_bad_union_tag_is_fatal();
   test_reply_without_stream_is_fatal();
   test_random_streams_never_crash();
   test_mutated_valid_streams_never_crash();
   fprintf(stderr, "%s: %d failure(s)\n", harness_failures ? "FAIL" : "PASS", harness_failures);
   return harness_failures ? 1 : 0;
}
