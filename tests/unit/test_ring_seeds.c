/*
 * Seeds for fuzz_ring (suite 'renderer'): inputs in its language
 * (tests/fuzz/fuzz_ring_play.h) that play a real driver's side of a ring,
 * so that the fuzzer starts from streams that reach the host driver instead
 * of having to find a valid vkCreateInstance first. Each seed is played
 * here through the same interpreter, on the host's Vulkan driver, and must
 * do what it says:
 *
 *   instance  vkCreateInstance, vkEnumeratePhysicalDevices and the memory
 *             properties, with replies in the blob past the ring
 *   buffer    a device, its queue, a buffer and its memory requirements
 *   fill      host-visible memory bound to the buffer, a command buffer that
 *             fills it, a submission and a fence wait: the memory, mapped
 *             through its blob, holds the pattern
 *
 * and the fill seed with one byte changed (the instance's sType) must make
 * the context fatal. With RING_CORPUS=DIR the instance and buffer seeds are
 * also written there (.ci/run seeds fuzz_ring's corpus this way). The fill
 * seed only with RING_CORPUS_FILL=1 as well, not in CI: from a live
 * command buffer the fuzzer soon makes commands that crash the host driver.
 * The renderer refuses commands out of order (lavapipe 22 dereferenced NULL
 * at a vkCmdEndRenderPass outside a render pass), but other invalid usage is
 * left to the host by design (renderer.md: only that guest's worker ends),
 * and seeded runs in one process have died in a host thread within minutes
 * (not in fork mode: docs/TESTING.md), which would make CI's short run fail
 * at random.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "fuzz_ring_play.h"

/* the reply stream: the blob past the ring (an 8 KiB buffer) */
#define REPLY_OFFSET 0x3400u
#define REPLY_SIZE (FUZZ_BLOB_SIZE - REPLY_OFFSET)
#define SLOT_ENUM 0u
#define SLOT_MEMPROPS 64u
#define SLOT_DEVICE 1024u
#define SLOT_REQS 1088u
#define SLOT_WAIT 1152u

/* the ring of FUZZ_LAYOUT_8K */
#define RING_SIZE (8u << 10)

#define FILL_SIZE 4096u
#define FILL_WORD 0xdeadbeefu
#define MEMORY_RES_ID 2u

/* guest ids of the seeds' objects (the encoder writes handles as they are) */
enum {
   ID_INSTANCE = 0x10,
   ID_PHYSICAL_DEVICE,
   ID_DEVICE,
   ID_QUEUE,
   ID_BUFFER,
   ID_MEMORY,
   ID_POOL,
   ID_CMD,
   ID_FENCE,
};

#define H(T, id) ((T)(uintptr_t)(id))

struct seed {
   uint8_t data[16384];
   size_t size;
   uint32_t tail; /* bytes written into the ring so far */
   bool overflow;
};

static void
seed_byte(struct seed *s, uint8_t b)
{
   if (s->size < sizeof(s->data))
      s->data[s->size++] = b;
   else
      s->overflow = true;
}

static void
seed_u32(struct seed *s, uint32_t v)
{
   for (int i = 0; i < 4; i++)
      seed_byte(s, (uint8_t)(v >> (8 * i)));
}

/* Commands for the ring: APPEND (which publishes the tail) for short ones,
 * word writes and then the tail for the others, so that the renderer never
 * sees part of a command. */
static void
seed_ring(struct seed *s, const struct vp_encoder *e)
{
   const uint8_t *bytes = e->base;
   const uint32_t size = (uint32_t)vp_encoder_size(e);
   CHECK(!vp_encoder_is_fatal(e)); /* all of it fitted the encoder's storage */
   if (size <= 255) {
      seed_byte(s, FUZZ_OP_APPEND);
      seed_byte(s, (uint8_t)size);
      for (uint32_t i = 0; i < size; i++)
         seed_byte(s, bytes[i]);
   } else {
      for (uint32_t i = 0; i < size; i += 4) {
         uint32_t w;
         memcpy(&w, bytes + i, 4);
         seed_byte(s, FUZZ_OP_WORD);
         seed_u32(s, VW_RING_BUFFER_OFFSET + ((s->tail + i) & (RING_SIZE - 1)));
         seed_u32(s, w);
      }
      seed_byte(s, FUZZ_OP_TAIL);
      seed_u32(s, s->tail + size);
   }
   s->tail += size;
}

/* a context-path wait until the ring has run everything written */
static void
seed_wait_ring(struct seed *s)
{
   seed_byte(s, FUZZ_OP_RING_CMD);
   seed_byte(s, FUZZ_CMD_WAIT_SEQNO);
   seed_u32(s, 0);
   seed_u32(s, 0);
}

static void
enc_begin(struct vp_encoder *e, uint8_t *storage, size_t size)
{
   vp_encoder_init_fixed(e, storage, size);
   e->raw_handles = true;
}

static void
seed_reply_slot(struct seed *s, uint32_t slot)
{
   uint8_t buf[64];
   struct vp_encoder e;
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkSeekReplyCommandStreamMESA(&e, 0, slot);
   seed_ring(s, &e);
}

/* the instance, its physical device and the reply stream */
static void
seed_instance(struct seed *s, bool bad_stype)
{
   memset(s, 0, sizeof(*s));
   seed_byte(s, FUZZ_LAYOUT_8K);
   uint8_t buf[1024];
   struct vp_encoder e;

   enc_begin(&e, buf, sizeof(buf));
   const VkCommandStreamDescriptionMESA stream = { FUZZ_RES_ID, REPLY_OFFSET, REPLY_SIZE };
   vp_encode_vkSetReplyCommandStreamMESA(&e, 0, &stream);
   seed_ring(s, &e);

   static const char *const exts[] = { "VK_EXT_command_serialization",
                                       "VK_MESA_venus_protocol" };
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .apiVersion = VK_API_VERSION_1_1,
   };
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
      .enabledExtensionCount = 2,
      .ppEnabledExtensionNames = exts,
   };
   VkInstance inst = H(VkInstance, ID_INSTANCE);
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkCreateInstance(&e, 0, &info, NULL, &inst);
   if (bad_stype) {
      /* the create info's sType, after the command type, the flags and
       * the pointer's marker */
      uint32_t stype;
      memcpy(&stype, buf + 16, 4);
      CHECK_EQ(stype, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
      stype = VK_STRUCTURE_TYPE_APPLICATION_INFO;
      memcpy(buf + 16, &stype, 4);
   }
   seed_ring(s, &e);

   seed_reply_slot(s, SLOT_ENUM);
   uint32_t count = 1;
   VkPhysicalDevice pd = H(VkPhysicalDevice, ID_PHYSICAL_DEVICE);
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkEnumeratePhysicalDevices(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT, inst, &count,
                                        &pd);
   seed_ring(s, &e);
}

static void
seed_memory_properties(struct seed *s)
{
   uint8_t buf[256];
   struct vp_encoder e;
   VkPhysicalDeviceMemoryProperties props;
   seed_reply_slot(s, SLOT_MEMPROPS);
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkGetPhysicalDeviceMemoryProperties(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT,
                                                 H(VkPhysicalDevice, ID_PHYSICAL_DEVICE),
                                                 &props);
   seed_ring(s, &e);
}

static const VkBufferCreateInfo buffer_info = {
   .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
   .size = FILL_SIZE,
   .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
};

/* a device on queue family 0, its queue and a buffer */
static void
seed_device(struct seed *s)
{
   uint8_t buf[512];
   struct vp_encoder e;
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = 0,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo dinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qinfo,
   };
   VkDevice device = H(VkDevice, ID_DEVICE);
   seed_reply_slot(s, SLOT_DEVICE);
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkCreateDevice(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT,
                            H(VkPhysicalDevice, ID_PHYSICAL_DEVICE), &dinfo, NULL, &device);
   seed_ring(s, &e);

   const VkDeviceQueueTimelineInfoMESA timeline = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA,
      .ringIdx = 1,
   };
   const VkDeviceQueueInfo2 q2 = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
      .pNext = &timeline,
      .queueFamilyIndex = 0,
   };
   VkQueue queue = H(VkQueue, ID_QUEUE);
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkGetDeviceQueue2(&e, 0, device, &q2, &queue);
   vp_encode_vkCreateBuffer(&e, 0, device, &buffer_info, NULL,
                            &(VkBuffer){ H(VkBuffer, ID_BUFFER) });
   seed_ring(s, &e);
}

static void
seed_requirements(struct seed *s)
{
   uint8_t buf[128];
   struct vp_encoder e;
   VkMemoryRequirements reqs;
   seed_reply_slot(s, SLOT_REQS);
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkGetBufferMemoryRequirements(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT,
                                           H(VkDevice, ID_DEVICE), H(VkBuffer, ID_BUFFER),
                                           &reqs);
   seed_ring(s, &e);
}

/* host-visible memory for the buffer, a command buffer that fills it, a
 * submission with a fence and a wait for that fence (with a reply) */
static void
seed_fill(struct seed *s, uint32_t memory_type, VkDeviceSize size)
{
   uint8_t buf[1024];
   struct vp_encoder e;
   VkDevice device = H(VkDevice, ID_DEVICE);
   VkCommandBuffer cmd = H(VkCommandBuffer, ID_CMD);
   VkFence fence = H(VkFence, ID_FENCE);

   const VkMemoryAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = size,
      .memoryTypeIndex = memory_type,
   };
   const VkCommandPoolCreateInfo pinfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .queueFamilyIndex = 0,
   };
   const VkCommandBufferAllocateInfo cinfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = H(VkCommandPool, ID_POOL),
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   const VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };

   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkAllocateMemory(&e, 0, device, &ainfo, NULL,
                              &(VkDeviceMemory){ H(VkDeviceMemory, ID_MEMORY) });
   vp_encode_vkBindBufferMemory(&e, 0, device, H(VkBuffer, ID_BUFFER),
                                H(VkDeviceMemory, ID_MEMORY), 0);
   vp_encode_vkCreateCommandPool(&e, 0, device, &pinfo, NULL,
                                 &(VkCommandPool){ H(VkCommandPool, ID_POOL) });
   seed_ring(s, &e);

   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkAllocateCommandBuffers(&e, 0, device, &cinfo, &cmd);
   vp_encode_vkBeginCommandBuffer(&e, 0, cmd, &begin);
   vp_encode_vkCmdFillBuffer(&e, 0, cmd, H(VkBuffer, ID_BUFFER), 0, FILL_SIZE, FILL_WORD);
   vp_encode_vkEndCommandBuffer(&e, 0, cmd);
   seed_ring(s, &e);

   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkCreateFence(&e, 0, device, &finfo, NULL, &fence);
   vp_encode_vkQueueSubmit(&e, 0, H(VkQueue, ID_QUEUE), 1, &submit, fence);
   seed_ring(s, &e);

   seed_reply_slot(s, SLOT_WAIT);
   enc_begin(&e, buf, sizeof(buf));
   vp_encode_vkWaitForFences(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT, device, 1, &fence, VK_TRUE,
                             5000000000ull);
   seed_ring(s, &e);
}

/* the whole fill input; bad_stype: with the instance's sType changed */
static void
seed_fill_all(struct seed *s, bool bad_stype, uint32_t memory_type, VkDeviceSize size)
{
   seed_instance(s, bad_stype);
   seed_device(s);
   seed_requirements(s);
   seed_fill(s, memory_type, size);
   seed_wait_ring(s);
}

static void
write_seed(const char *name, const struct seed *s)
{
   const char *dir = getenv("RING_CORPUS");
   if (!dir)
      return;
   char path[512];
   snprintf(path, sizeof(path), "%s/%s", dir, name);
   FILE *f = fopen(path, "wb");
   CHECK(f != NULL);
   if (!f)
      return;
   CHECK_EQ(fwrite(s->data, 1, s->size, f), s->size);
   fclose(f);
}

/* ------------------------------------------------------------------ */
/* what the seeds left behind                                           */

struct outcome {
   bool played;
   bool fatal;
   bool consumed; /* the ring's head reached the peer's tail */
   VkResult enum_result;
   uint32_t pd_count;
   VkPhysicalDeviceMemoryProperties props;
   VkResult device_result;
   VkMemoryRequirements reqs;
   VkResult wait_result;
   uint32_t filled_words; /* of the memory, read through its blob */
};

static const uint8_t *
reply_at(const struct fuzz_ring_end *end, uint32_t slot)
{
   return end->map + REPLY_OFFSET + slot;
}

static void
check_end(const struct fuzz_ring_end *end, void *user)
{
   struct outcome *o = user;
   o->played = end->has_ring;
   o->fatal = vkr_context_is_fatal(end->ctx);
   o->consumed =
      atomic_load((_Atomic uint32_t *)(end->map + VW_RING_HEAD_OFFSET)) == end->tail;
   if (o->fatal || !o->consumed)
      return;

   struct vp_decoder dec;
   VkPhysicalDevice pd = NULL;
   o->pd_count = 1;
   vp_decoder_init(&dec, reply_at(end, SLOT_ENUM), 64, NULL);
   o->enum_result = vp_decode_vkEnumeratePhysicalDevices_reply(
      &dec, H(VkInstance, ID_INSTANCE), &o->pd_count, &pd);
   CHECK(!vp_decoder_is_fatal(&dec));

   vp_decoder_init(&dec, reply_at(end, SLOT_MEMPROPS), SLOT_DEVICE - SLOT_MEMPROPS, NULL);
   vp_decode_vkGetPhysicalDeviceMemoryProperties_reply(&dec, pd, &o->props);
   if (vp_decoder_is_fatal(&dec))
      o->props.memoryTypeCount = 0; /* not in this seed */

   vp_decoder_init(&dec, reply_at(end, SLOT_DEVICE), 64, NULL);
   VkDevice device = H(VkDevice, ID_DEVICE);
   o->device_result = vp_decode_vkCreateDevice_reply(&dec, pd, NULL, NULL, &device);
   vp_decoder_init(&dec, reply_at(end, SLOT_REQS), 64, NULL);
   vp_decode_vkGetBufferMemoryRequirements_reply(&dec, device, NULL, &o->reqs);
   vp_decoder_init(&dec, reply_at(end, SLOT_WAIT), 64, NULL);
   o->wait_result = vp_decode_vkWaitForFences_reply(&dec, device, 0, NULL, VK_TRUE, 0);
   if (o->wait_result != VK_SUCCESS)
      return;

   /* the filled memory, as a guest maps it: a blob of the memory's id */
   int fd = -1;
   CHECK(vkr_context_create_resource(end->ctx, MEMORY_RES_ID, 2 /* HOST3D */, 1 /* MAPPABLE */,
                                     ID_MEMORY, o->reqs.size, &fd));
   if (fd < 0)
      return;
   uint32_t *words = mmap(NULL, o->reqs.size, PROT_READ, MAP_SHARED, fd, 0);
   close(fd);
   CHECK(words != MAP_FAILED);
   if (words == MAP_FAILED)
      return;
   for (uint32_t i = 0; i < FILL_SIZE / 4; i++)
      o->filled_words += words[i] == FILL_WORD;
   munmap(words, o->reqs.size);
}

static struct outcome
play(const struct seed *s)
{
   struct outcome o;
   memset(&o, 0, sizeof(o));
   o.enum_result = o.device_result = o.wait_result = VK_ERROR_UNKNOWN;
   CHECK(!s->overflow);
   CHECK(s->tail < RING_SIZE); /* the ring never wraps under unread bytes */
   CHECK(fuzz_ring_play(s->data, s->size, check_end, &o));
   return o;
}

static uint32_t
coherent_type(const VkPhysicalDeviceMemoryProperties *props, uint32_t bits)
{
   const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   for (uint32_t i = 0; i < props->memoryTypeCount && i < VK_MAX_MEMORY_TYPES; i++) {
      if ((bits & (1u << i)) && (props->memoryTypes[i].propertyFlags & want) == want)
         return i;
   }
   return UINT32_MAX;
}

TEST(seeds)
{
   /* the host driver stays loaded between the seeds' instances, as in a
    * worker and in the fuzzer (fuzz_host.h): LeakSanitizer would otherwise
    * report its one-time allocations once it is unloaded */
   CHECK(vkr_renderer_preload());
   struct seed *s = calloc(1, sizeof(*s));

   /* instance: the physical device and its memory types come back */
   seed_instance(s, false);
   seed_memory_properties(s);
   seed_wait_ring(s);
   write_seed("instance", s);
   const struct outcome inst = play(s);
   CHECK(inst.played && !inst.fatal && inst.consumed);
   CHECK(inst.enum_result == VK_SUCCESS || inst.enum_result == VK_INCOMPLETE);
   CHECK_EQ(inst.pd_count, 1);
   CHECK(inst.props.memoryTypeCount >= 1);

   /* buffer: a device and a buffer's requirements */
   seed_instance(s, false);
   seed_device(s);
   seed_requirements(s);
   seed_wait_ring(s);
   write_seed("buffer", s);
   const struct outcome buffer = play(s);
   CHECK(buffer.played && !buffer.fatal && buffer.consumed);
   CHECK_EQ(buffer.device_result, VK_SUCCESS);
   CHECK(buffer.reqs.size >= FILL_SIZE);
   const uint32_t type = coherent_type(&inst.props, buffer.reqs.memoryTypeBits);
   CHECK(type != UINT32_MAX);

   /* fill: the GPU's writes are in the memory (written to the corpus only
    * with RING_CORPUS_FILL=1, for fuzzing by hand: docs/TESTING.md) */
   seed_fill_all(s, false, type, buffer.reqs.size);
   const char *with_fill = getenv("RING_CORPUS_FILL");
   if (with_fill && !strcmp(with_fill, "1"))
      write_seed("fill", s);
   const struct outcome fill = play(s);
   CHECK(fill.played && !fill.fatal && fill.consumed);
   CHECK_EQ(fill.wait_result, VK_SUCCESS);
   CHECK_EQ(fill.filled_words, FILL_SIZE / 4);

   /* the same with an instance create info of the wrong sType: fatal (the
    * renderer logs one line for it) */
   seed_fill_all(s, true, type, buffer.reqs.size);
   const struct outcome bad = play(s);
   CHECK(bad.played && bad.fatal);
   CHECK_EQ(bad.filled_words, 0);

   free(s);
}

RUN_TESTS(seeds)
