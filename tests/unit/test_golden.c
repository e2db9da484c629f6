/*
 * Golden bytes: every worked example of shared docs venus/wire-format.md §12
 * and command-types.md §5.2, encoded with the generated driver encoders and
 * compared byte for byte with the documented dumps; documented reply dumps
 * decoded with the generated reply decoders; and the renderer decoding the
 * same command dumps back into the original values.
 */
#include "harness.h"

#include "vp_protocol.h"

/* a guest object whose wire id is `id` */
#define GUEST(name, id_) struct vp_guest_object name = { .loader_data = 0, .id = (id_) }
#define HANDLE(type, obj) ((type)(uintptr_t)&(obj))

static uint8_t storage[4096];

static void
hex_to_bytes(const char *hex, uint8_t *out, size_t *out_size)
{
   size_t n = 0;
   while (*hex) {
      while (*hex == ' ' || *hex == '\n')
         hex++;
      if (!*hex)
         break;
      unsigned v;
      sscanf(hex, "%2x", &v);
      out[n++] = (uint8_t)v;
      hex += 2;
   }
   *out_size = n;
}

static void
check_bytes(const struct vp_encoder *enc, const char *hex, int line)
{
   uint8_t expect[2048];
   size_t size;
   hex_to_bytes(hex, expect, &size);
   if (vp_encoder_size(enc) != size) {
      fprintf(stderr, "line %d: encoded %zu bytes, expected %zu\n", line,
              vp_encoder_size(enc), size);
      harness_failures++;
      return;
   }
   CHECK(!vp_encoder_is_fatal(enc));
   CHECK_MEM(enc->base, expect, size);
}

#define CHECK_BYTES(enc, hex) check_bytes(enc, hex, __LINE__)

/* renderer-side lookup for decoding: any nonzero id maps to a host object of
 * the expected type */
struct fake_host {
   struct vp_host_object objs[64];
   unsigned count;
};

static void *
fake_lookup(void *data, uint64_t id, VkObjectType type)
{
   struct fake_host *h = data;
   if (h->count == 64)
      return NULL;
   struct vp_host_object *o = &h->objs[h->count++];
   o->id = id;
   o->type = type;
   o->handle = id + 0x1000;
   return o;
}

static uint64_t
host_id(const void *handle)
{
   return ((const struct vp_host_object *)handle)->id;
}

/* decoder over a byte dump, positioned after the 8-byte command header */
struct host_decode {
   struct vu_arena arena;
   struct vp_decoder dec;
   struct fake_host host;
   uint8_t bytes[2048];
   size_t size;
};

static void
host_decode_init(struct host_decode *h, const char *hex, int32_t expect_type)
{
   memset(&h->host, 0, sizeof(h->host));
   hex_to_bytes(hex, h->bytes, &h->size);
   vu_arena_init(&h->arena, 1 << 20);
   vp_decoder_init(&h->dec, h->bytes, h->size, &h->arena);
   h->dec.lookup = fake_lookup;
   h->dec.lookup_data = &h->host;
   CHECK_EQ(vp_decode_u32(&h->dec), (uint32_t)expect_type);
   vp_decode_u32(&h->dec); /* flags */
}

static void
host_decode_fini(struct host_decode *h)
{
   CHECK(!vp_decoder_is_fatal(&h->dec));
   CHECK_EQ(vp_decoder_remaining(&h->dec), 0);
   vu_arena_fini(&h->arena);
}

static const char create_instance_hex[] =
   "00 00 00 00 01 00 00 00 01 00 00 00 00 00 00 00"
   "01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
   "01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
   "00 00 00 00 05 00 00 00 00 00 00 00 64 65 6d 6f"
   "00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00"
   "00 00 00 00 00 10 40 00 00 00 00 00 00 00 00 00"
   "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
   "00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
   "01 00 00 00 00 00 00 00";

TEST(create_instance)
{
   GUEST(instance_obj, 1);
   VkInstance instance = HANDLE(VkInstance, instance_obj);
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "demo",
      .applicationVersion = 1,
      .apiVersion = VK_API_VERSION_1_1,
   };
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkCreateInstance(&enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT, &info, NULL, &instance);
   CHECK_BYTES(&enc, create_instance_hex);
   CHECK_EQ(vp_sizeof_vkCreateInstance(&info, NULL, &instance), 136);
   CHECK_EQ(vp_sizeof_vkCreateInstance_reply(&info, NULL, &instance), 24);

   /* renderer side */
   struct host_decode h;
   host_decode_init(&h, create_instance_hex, VK_COMMAND_TYPE_vkCreateInstance_EXT);
   struct vp_command_vkCreateInstance args;
   vp_decode_vkCreateInstance_args_temp(&h.dec, &args);
   CHECK(args.pCreateInfo && args.pCreateInfo->pApplicationInfo);
   CHECK(!strcmp(args.pCreateInfo->pApplicationInfo->pApplicationName, "demo"));
   CHECK(args.pCreateInfo->pApplicationInfo->pEngineName == NULL);
   CHECK_EQ(args.pCreateInfo->pApplicationInfo->apiVersion, VK_API_VERSION_1_1);
   CHECK_EQ((uintptr_t)*args.pInstance, 1); /* the new id, raw */
   CHECK(args.pAllocator == NULL);

   /* documented reply */
   uint8_t reply[64];
   size_t size;
   hex_to_bytes("00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00",
                reply, &size);
   struct vp_decoder dec;
   vp_decoder_init(&dec, reply, size, NULL);
   CHECK_EQ(vp_decode_vkCreateInstance_reply(&dec, &info, NULL, &instance), VK_SUCCESS);
   CHECK(!vp_decoder_is_fatal(&dec));
   CHECK_EQ(vp_decoder_remaining(&dec), 0);
   CHECK(instance == HANDLE(VkInstance, instance_obj));

   /* and the renderer's reply encoder produces exactly those bytes */
   args.ret = VK_SUCCESS;
   struct vp_encoder renc;
   vp_encoder_init_fixed(&renc, storage, sizeof(storage));
   renc.raw_handles = true;
   vp_encode_vkCreateInstance_reply(&renc, &args);
   CHECK_BYTES(&renc, "00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00");
   host_decode_fini(&h);
}

TEST(enumerate_physical_devices)
{
   GUEST(instance_obj, 1);
   GUEST(pdev_obj, 2);
   VkInstance instance = HANDLE(VkInstance, instance_obj);
   struct vp_encoder enc;

   uint32_t count = 0;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkEnumeratePhysicalDevices(&enc, 1, instance, &count, NULL);
   CHECK_BYTES(&enc, "02 00 00 00 01 00 00 00 01 00 00 00 00 00 00 00"
                     "01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                     "00 00 00 00");
   CHECK_EQ(vp_sizeof_vkEnumeratePhysicalDevices_reply(instance, &count, NULL), 28);

   uint8_t reply[64];
   size_t size;
   struct vp_decoder dec;
   hex_to_bytes("02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
                "01 00 00 00 00 00 00 00 00 00 00 00",
                reply, &size);
   vp_decoder_init(&dec, reply, size, NULL);
   CHECK_EQ(vp_decode_vkEnumeratePhysicalDevices_reply(&dec, instance, &count, NULL), VK_SUCCESS);
   CHECK_EQ(count, 1);
   CHECK(!vp_decoder_is_fatal(&dec));

   VkPhysicalDevice pdev = HANDLE(VkPhysicalDevice, pdev_obj);
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkEnumeratePhysicalDevices(&enc, 1, instance, &count, &pdev);
   static const char second[] = "02 00 00 00 01 00 00 00 01 00 00 00 00 00 00 00"
                                "01 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00"
                                "00 00 00 00 02 00 00 00 00 00 00 00";
   CHECK_BYTES(&enc, second);
   CHECK_EQ(vp_sizeof_vkEnumeratePhysicalDevices_reply(instance, &count, &pdev), 36);

   hex_to_bytes("02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
                "01 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00"
                "00 00 00 00",
                reply, &size);
   vp_decoder_init(&dec, reply, size, NULL);
   CHECK_EQ(vp_decode_vkEnumeratePhysicalDevices_reply(&dec, instance, &count, &pdev), VK_SUCCESS);
   CHECK_EQ(count, 1);
   CHECK(!vp_decoder_is_fatal(&dec));
   CHECK_EQ(vp_decoder_remaining(&dec), 0);

   /* a reply with more devices than the caller's array is refused */
   hex_to_bytes("02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
                "02 00 00 00 02 00 00 00 00 00 00 00 02 00 00 00"
                "00 00 00 00 03 00 00 00 00 00 00 00",
                reply, &size);
   count = 1;
   vp_decoder_init(&dec, reply, size, NULL);
   vp_decode_vkEnumeratePhysicalDevices_reply(&dec, instance, &count, &pdev);
   CHECK(vp_decoder_is_fatal(&dec));

   struct host_decode h;
   host_decode_init(&h, second, VK_COMMAND_TYPE_vkEnumeratePhysicalDevices_EXT);
   struct vp_command_vkEnumeratePhysicalDevices args;
   vp_decode_vkEnumeratePhysicalDevices_args_temp(&h.dec, &args);
   CHECK_EQ(host_id(args.instance), 1);
   CHECK_EQ(*args.pPhysicalDeviceCount, 1);
   CHECK_EQ((uintptr_t)args.pPhysicalDevices[0], 2);
   host_decode_fini(&h);
}

static const char props2_hex[] = "94 00 00 00 01 00 00 00 02 00 00 00 00 00 00 00"
                                 "01 00 00 00 00 00 00 00 79 b0 9b 3b 01 00 00 00"
                                 "00 00 00 00 a0 c7 9d 3b 01 00 00 00 00 00 00 00"
                                 "5c df 9b 3b 00 00 00 00 00 00 00 00";

TEST(physical_device_properties2_chain)
{
   GUEST(pdev_obj, 2);
   VkPhysicalDevice pdev = HANDLE(VkPhysicalDevice, pdev_obj);
   VkPhysicalDeviceIDProperties id = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES };
   VkPhysicalDeviceDriverProperties drv = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
      .pNext = &id,
   };
   VkPhysicalDeviceProperties2 props = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
      .pNext = &drv,
   };
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkGetPhysicalDeviceProperties2(&enc, 1, pdev, &props);
   CHECK_BYTES(&enc, props2_hex);
   CHECK_EQ(vp_sizeof_vkGetPhysicalDeviceProperties2_reply(pdev, &props), 1536);

   /* renderer decodes the partial chain, fills it, encodes the reply */
   struct host_decode h;
   host_decode_init(&h, props2_hex, VK_COMMAND_TYPE_vkGetPhysicalDeviceProperties2_EXT);
   struct vp_command_vkGetPhysicalDeviceProperties2 args;
   vp_decode_vkGetPhysicalDeviceProperties2_args_temp(&h.dec, &args);
   VkPhysicalDeviceProperties2 *hp = args.pProperties;
   CHECK(hp && hp->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
   VkPhysicalDeviceDriverProperties *hdrv = hp->pNext;
   CHECK(hdrv && hdrv->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES);
   VkPhysicalDeviceIDProperties *hid = hdrv->pNext;
   CHECK(hid && hid->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES && !hid->pNext);
   if (!hid) {
      host_decode_fini(&h);
      return;
   }
   hp->properties.apiVersion = VK_API_VERSION_1_3;
   hp->properties.limits.bufferImageGranularity = 0x1122334455667788ull;
   hp->properties.limits.maxComputeWorkGroupCount[2] = 77;
   strcpy(hp->properties.deviceName, "llvmpipe");
   hp->properties.sparseProperties.residencyNonResidentStrict = 1;
   hdrv->driverID = VK_DRIVER_ID_MESA_LLVMPIPE;
   strcpy(hdrv->driverInfo, "Mesa 22.3.6");
   hdrv->conformanceVersion.patch = 9;
   hid->deviceUUID[15] = 0xab;
   hid->deviceLUIDValid = 1;

   uint8_t reply[2048];
   struct vp_encoder renc;
   vp_encoder_init_fixed(&renc, reply, sizeof(reply));
   renc.raw_handles = true;
   vp_encode_vkGetPhysicalDeviceProperties2_reply(&renc, &args);
   CHECK_EQ(vp_encoder_size(&renc), 1536);
   /* documented offsets */
   uint32_t u32;
   uint64_t u64;
   memcpy(&u32, reply + 0, 4);
   CHECK_EQ(u32, 148);
   memcpy(&u32, reply + 36, 4);
   CHECK_EQ(u32, VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES);
   CHECK_EQ(reply[48 + 8 + 15], 0xab);     /* deviceUUID[15] */
   memcpy(&u32, reply + 116, 4);
   CHECK_EQ(u32, 1);                       /* deviceLUIDValid */
   memcpy(&u32, reply + 120, 4);
   CHECK_EQ(u32, VK_DRIVER_ID_MESA_LLVMPIPE);
   CHECK(!memcmp(reply + 388 + 8, "Mesa 22.3.6", 12));
   memcpy(&u32, reply + 664, 4);
   CHECK_EQ(u32, 9);                       /* conformanceVersion.patch */
   memcpy(&u32, reply + 668, 4);
   CHECK_EQ(u32, VK_API_VERSION_1_3);      /* apiVersion */
   CHECK(!memcmp(reply + 668 + 20 + 8, "llvmpipe", 9));
   memcpy(&u64, reply + 668 + 308 + 44, 8);
   CHECK_EQ(u64, 0x1122334455667788ull);   /* bufferImageGranularity */
   memcpy(&u32, reply + 668 + 308 + 216 + 8 + 8, 4);
   CHECK_EQ(u32, 77);                      /* maxComputeWorkGroupCount[2] */
   memcpy(&u32, reply + 668 + 848 + 16, 4);
   CHECK_EQ(u32, 1);                       /* residencyNonResidentStrict */

   /* the driver decodes it into the application's chain */
   struct vp_decoder dec;
   vp_decoder_init(&dec, reply, vp_encoder_size(&renc), NULL);
   vp_decode_vkGetPhysicalDeviceProperties2_reply(&dec, pdev, &props);
   CHECK(!vp_decoder_is_fatal(&dec));
   CHECK_EQ(vp_decoder_remaining(&dec), 0);
   CHECK(props.pNext == &drv && drv.pNext == &id);
   CHECK_EQ(props.properties.apiVersion, VK_API_VERSION_1_3);
   CHECK(!strcmp(props.properties.deviceName, "llvmpipe"));
   CHECK_EQ(props.properties.limits.maxComputeWorkGroupCount[2], 77);
   CHECK_EQ(drv.driverID, VK_DRIVER_ID_MESA_LLVMPIPE);
   CHECK_EQ(drv.conformanceVersion.patch, 9);
   CHECK_EQ(id.deviceUUID[15], 0xab);
   CHECK_EQ(id.deviceLUIDValid, 1);
   host_decode_fini(&h);
}

static const char create_buffer_hex[] = "32 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00"
                                        "01 00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00"
                                        "00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00"
                                        "82 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                                        "00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00"
                                        "00 00 00 00 10 00 00 00 00 00 00 00";

/* the buffer of create_buffer_hex (device id 3, buffer id 0x10) */
static const VkBufferCreateInfo create_buffer_info = {
   .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
   .size = 65536,
   .usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
};

TEST(create_buffer)
{
   GUEST(device_obj, 3);
   GUEST(buffer_obj, 0x10);
   VkDevice device = HANDLE(VkDevice, device_obj);
   VkBuffer buffer = HANDLE(VkBuffer, buffer_obj);
   const VkBufferCreateInfo *info = &create_buffer_info;
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkCreateBuffer(&enc, 0, device, info, NULL, &buffer);
   CHECK_BYTES(&enc, create_buffer_hex);
   CHECK_EQ(vp_sizeof_vkCreateBuffer(device, info, NULL, &buffer), 92);
   CHECK_EQ(vp_sizeof_vkCreateBuffer_reply(device, info, NULL, &buffer), 24);

   struct host_decode h;
   host_decode_init(&h, create_buffer_hex, VK_COMMAND_TYPE_vkCreateBuffer_EXT);
   struct vp_command_vkCreateBuffer args;
   vp_decode_vkCreateBuffer_args_temp(&h.dec, &args);
   CHECK_EQ(host_id(args.device), 3);
   CHECK_EQ(args.pCreateInfo->size, 65536);
   CHECK_EQ(args.pCreateInfo->usage, 0x82);
   CHECK(args.pCreateInfo->pQueueFamilyIndices == NULL);
   CHECK_EQ((uintptr_t)*args.pBuffer, 0x10);
   vp_replace_vkCreateBuffer_args_handles(&args);
   CHECK_EQ((uintptr_t)args.device, 3 + 0x1000);
   host_decode_fini(&h);
}

static const char draw_hex[] = "6a 00 00 00 00 00 00 00 20 00 00 00 00 00 00 00"
                               "03 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00";

TEST(cmd_draw)
{
   GUEST(cmd_obj, 0x20);
   VkCommandBuffer cmd = HANDLE(VkCommandBuffer, cmd_obj);
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkCmdDraw(&enc, 0, cmd, 3, 1, 0, 0);
   CHECK_BYTES(&enc, draw_hex);
   CHECK_EQ(vp_sizeof_vkCmdDraw(cmd, 3, 1, 0, 0), 32);

   struct host_decode h;
   host_decode_init(&h, draw_hex, VK_COMMAND_TYPE_vkCmdDraw_EXT);
   struct vp_command_vkCmdDraw args;
   vp_decode_vkCmdDraw_args_temp(&h.dec, &args);
   CHECK_EQ(host_id(args.commandBuffer), 0x20);
   CHECK_EQ(args.vertexCount, 3);
   CHECK_EQ(args.instanceCount, 1);
   host_decode_fini(&h);
}

static const char submit_hex[] = "12 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00"
                                 "01 00 00 00 01 00 00 00 00 00 00 00 04 00 00 00"
                                 "00 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00"
                                 "00 00 00 00 30 00 00 00 00 00 00 00 01 00 00 00"
                                 "00 00 00 00 00 04 00 00 01 00 00 00 01 00 00 00"
                                 "00 00 00 00 20 00 00 00 00 00 00 00 01 00 00 00"
                                 "01 00 00 00 00 00 00 00 31 00 00 00 00 00 00 00"
                                 "40 00 00 00 00 00 00 00";

TEST(queue_submit)
{
   GUEST(queue_obj, 4);
   GUEST(wait_obj, 0x30);
   GUEST(signal_obj, 0x31);
   GUEST(cmd_obj, 0x20);
   GUEST(fence_obj, 0x40);
   VkSemaphore wait = HANDLE(VkSemaphore, wait_obj);
   VkSemaphore signal = HANDLE(VkSemaphore, signal_obj);
   VkCommandBuffer cmd = HANDLE(VkCommandBuffer, cmd_obj);
   const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .waitSemaphoreCount = 1,
      .pWaitSemaphores = &wait,
      .pWaitDstStageMask = &stage,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
      .signalSemaphoreCount = 1,
      .pSignalSemaphores = &signal,
   };
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkQueueSubmit(&enc, 0, HANDLE(VkQueue, queue_obj), 1, &submit,
                           HANDLE(VkFence, fence_obj));
   CHECK_BYTES(&enc, submit_hex);
   CHECK_EQ(vp_sizeof_vkQueueSubmit_reply(HANDLE(VkQueue, queue_obj), 1, &submit,
                                          HANDLE(VkFence, fence_obj)),
            8);

   struct host_decode h;
   host_decode_init(&h, submit_hex, VK_COMMAND_TYPE_vkQueueSubmit_EXT);
   struct vp_command_vkQueueSubmit args;
   vp_decode_vkQueueSubmit_args_temp(&h.dec, &args);
   CHECK_EQ(args.submitCount, 1);
   CHECK_EQ(host_id(args.pSubmits[0].pWaitSemaphores[0]), 0x30);
   CHECK_EQ(args.pSubmits[0].pWaitDstStageMask[0], 0x400);
   CHECK_EQ(host_id(args.pSubmits[0].pCommandBuffers[0]), 0x20);
   CHECK_EQ(host_id(args.pSubmits[0].pSignalSemaphores[0]), 0x31);
   CHECK_EQ(host_id(args.fence), 0x40);
   vp_replace_vkQueueSubmit_args_handles(&args);
   CHECK_EQ((uintptr_t)args.pSubmits[0].pCommandBuffers[0], 0x20 + 0x1000);
   CHECK_EQ((uintptr_t)args.fence, 0x40 + 0x1000);
   host_decode_fini(&h);

   /* with a timeline chain, placed between sType and waitSemaphoreCount */
   const uint64_t wait_value = 5, signal_value = 6;
   const VkTimelineSemaphoreSubmitInfo timeline = {
      .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
      .waitSemaphoreValueCount = 1,
      .pWaitSemaphoreValues = &wait_value,
      .signalSemaphoreValueCount = 1,
      .pSignalSemaphoreValues = &signal_value,
   };
   VkSubmitInfo chained = submit;
   chained.pNext = &timeline;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkQueueSubmit(&enc, 0, HANDLE(VkQueue, queue_obj), 1, &chained,
                           HANDLE(VkFence, fence_obj));
   uint32_t u32;
   uint64_t u64;
   memcpy(&u64, enc.base + 32, 8);
   CHECK_EQ(u64, 1); /* link marker */
   memcpy(&u32, enc.base + 40, 4);
   CHECK_EQ(u32, VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
   memcpy(&u64, enc.base + 44, 8);
   CHECK_EQ(u64, 0); /* end of chain */
   memcpy(&u32, enc.base + 52, 4);
   CHECK_EQ(u32, 1); /* waitSemaphoreValueCount */
   memcpy(&u64, enc.base + 64, 8);
   CHECK_EQ(u64, 5);
   CHECK_EQ(vp_encoder_size(&enc), 120 + 52); /* marker, sType, end, 40 bytes */
}

static const char clear_hex[] = "77 00 00 00 00 00 00 00 20 00 00 00 00 00 00 00"
                                "50 00 00 00 00 00 00 00 07 00 00 00 01 00 00 00"
                                "00 00 00 00 02 00 00 00 04 00 00 00 00 00 00 00"
                                "00 00 80 3f 00 00 00 3f 00 00 80 3e 00 00 80 3f"
                                "01 00 00 00 01 00 00 00 00 00 00 00 01 00 00 00"
                                "00 00 00 00 01 00 00 00 00 00 00 00 01 00 00 00";

TEST(clear_color_image_union)
{
   GUEST(cmd_obj, 0x20);
   GUEST(image_obj, 0x50);
   const VkClearColorValue color = { .float32 = { 1.0f, 0.5f, 0.25f, 1.0f } };
   const VkImageSubresourceRange range = {
      .aspectMask = VK_IMAGE_ASPECT_COLOR_BIT,
      .levelCount = 1,
      .layerCount = 1,
   };
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkCmdClearColorImage(&enc, 0, HANDLE(VkCommandBuffer, cmd_obj),
                                  HANDLE(VkImage, image_obj),
                                  VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1, &range);
   CHECK_BYTES(&enc, clear_hex);

   struct host_decode h;
   host_decode_init(&h, clear_hex, VK_COMMAND_TYPE_vkCmdClearColorImage_EXT);
   struct vp_command_vkCmdClearColorImage args;
   vp_decode_vkCmdClearColorImage_args_temp(&h.dec, &args);
   CHECK(args.pColor->float32[1] == 0.5f);
   CHECK_EQ(args.pRanges[0].layerCount, 1);
   host_decode_fini(&h);

   /* VkClearValue: tag 0 (color), then the color union's tag 2 and raw bits,
    * also for a depth/stencil value (the bits overlap) */
   const VkClearAttachment att = {
      .aspectMask = VK_IMAGE_ASPECT_DEPTH_BIT,
      .clearValue = { .depthStencil = { .depth = 1.0f, .stencil = 3 } },
   };
   const VkClearRect rect = { .rect = { .extent = { 4, 4 } }, .layerCount = 1 };
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkCmdClearAttachments(&enc, 0, HANDLE(VkCommandBuffer, cmd_obj), 1, &att, 1, &rect);
   CHECK_EQ(vp_encoder_size(&enc), 8 + 8 + 4 + 8 + 40 + 4 + 8 + 24);
   uint32_t words[4];
   memcpy(words, enc.base + 28 + 8, 16); /* after aspect, colorAttachment */
   CHECK_EQ(words[0], 0);                /* VkClearValue tag: color */
   CHECK_EQ(words[1], 2);                /* VkClearColorValue tag: uint32 */
   CHECK_EQ(words[2], 4);                /* fixed array size (low dword) */
   float depth;
   memcpy(&depth, enc.base + 28 + 8 + 16, 4);
   CHECK(depth == 1.0f);
}

TEST(ring_commands)
{
   const VkRingMonitorInfoMESA monitor = {
      .sType = VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA,
      .maxReportingPeriodMicroseconds = 3000000,
   };
   const VkRingCreateInfoMESA info = {
      .sType = VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA,
      .pNext = &monitor,
      .resourceId = 5,
      .offset = 0,
      .size = 0x200c4,
      .idleTimeout = 5000000,
      .headOffset = 0,
      .tailOffset = 64,
      .statusOffset = 128,
      .bufferOffset = 192,
      .bufferSize = 0x20000,
      .extraOffset = 0x200c0,
      .extraSize = 4,
   };
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkCreateRingMESA(&enc, 0, 0x1000, &info);
   CHECK_BYTES(&enc, "bc 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00"
                     "01 00 00 00 00 00 00 00 00 a6 a0 3b 01 00 00 00"
                     "00 00 00 00 06 a6 a0 3b 00 00 00 00 00 00 00 00"
                     "c0 c6 2d 00 00 00 00 00 05 00 00 00 00 00 00 00"
                     "00 00 00 00 c4 00 02 00 00 00 00 00 40 4b 4c 00"
                     "00 00 00 00 00 00 00 00 00 00 00 00 40 00 00 00"
                     "00 00 00 00 80 00 00 00 00 00 00 00 c0 00 00 00"
                     "00 00 00 00 00 00 02 00 00 00 00 00 c0 00 02 00"
                     "00 00 00 00 04 00 00 00 00 00 00 00");

   /* the chain member is skipped when the renderer's mask lacks the extension
    * (wire format 0 renderers: empty chain) */
   uint32_t mask[32] = { 1 };
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   enc.ext_mask = mask;
   vp_encode_vkCreateRingMESA(&enc, 0, 0x1000, &info);
   CHECK_EQ(vp_encoder_size(&enc), 8 + 8 + 8 + 100);

   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkDestroyRingMESA(&enc, 0, 0x1000);
   CHECK_BYTES(&enc, "bd000000 00000000 0010000000000000");
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkNotifyRingMESA(&enc, 0, 0x1000, 0x1234, 0);
   CHECK_BYTES(&enc, "be000000 00000000 0010000000000000 34120000 00000000");
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkWriteRingExtraMESA(&enc, 0, 0x1000, 0, 7);
   CHECK_BYTES(&enc, "bf000000 00000000 0010000000000000 0000000000000000 07000000");
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkSeekReplyCommandStreamMESA(&enc, 0, 0x40);
   CHECK_BYTES(&enc, "b3000000 00000000 4000000000000000");
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkSubmitVirtqueueSeqnoMESA(&enc, 0, 0x1000, 3);
   CHECK_BYTES(&enc, "fb000000 00000000 0010000000000000 0300000000000000");
}

TEST(device_queue2_timeline)
{
   GUEST(device_obj, 3);
   GUEST(queue_obj, 4);
   const VkDeviceQueueTimelineInfoMESA timeline = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA,
      .ringIdx = 1,
   };
   const VkDeviceQueueInfo2 info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
      .pNext = &timeline,
   };
   VkQueue queue = HANDLE(VkQueue, queue_obj);
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkGetDeviceQueue2(&enc, 0, HANDLE(VkDevice, device_obj), &info, &queue);
   static const char hex[] = "9b 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00"
                             "01 00 00 00 00 00 00 00 6b 00 9d 3b 01 00 00 00"
                             "00 00 00 00 05 a6 a0 3b 00 00 00 00 00 00 00 00"
                             "01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                             "01 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00";
   CHECK_BYTES(&enc, hex);

   struct host_decode h;
   host_decode_init(&h, hex, VK_COMMAND_TYPE_vkGetDeviceQueue2_EXT);
   struct vp_command_vkGetDeviceQueue2 args;
   vp_decode_vkGetDeviceQueue2_args_temp(&h.dec, &args);
   const VkDeviceQueueTimelineInfoMESA *t = args.pQueueInfo->pNext;
   CHECK(t && t->sType == VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA && t->ringIdx == 1);
   CHECK_EQ((uintptr_t)*args.pQueue, 4);
   host_decode_fini(&h);
}

TEST(allocate_memory_import_resource)
{
   GUEST(device_obj, 3);
   GUEST(memory_obj, 0x60);
   const VkImportMemoryResourceInfoMESA import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA,
      .resourceId = 9,
   };
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &import,
      .allocationSize = 0x10000,
      .memoryTypeIndex = 2,
   };
   VkDeviceMemory memory = HANDLE(VkDeviceMemory, memory_obj);
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkAllocateMemory(&enc, 0, HANDLE(VkDevice, device_obj), &info, NULL, &memory);
   CHECK_BYTES(&enc, "15 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00"
                     "01 00 00 00 00 00 00 00 05 00 00 00 01 00 00 00"
                     "00 00 00 00 02 a6 a0 3b 00 00 00 00 00 00 00 00"
                     "09 00 00 00 00 00 01 00 00 00 00 00 02 00 00 00"
                     "00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
                     "60 00 00 00 00 00 00 00");
}

TEST(memory_resource_properties)
{
   GUEST(device_obj, 3);
   VkMemoryResourceAllocationSizePropertiesMESA size_props = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA,
   };
   VkMemoryResourcePropertiesMESA props = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_RESOURCE_PROPERTIES_MESA,
      .pNext = &size_props,
   };
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, storage, sizeof(storage));
   vp_encode_vkGetMemoryResourcePropertiesMESA(&enc, 1, HANDLE(VkDevice, device_obj), 9, &props);
   /* header, device, resourceId, marker, sType, link, sType, end */
   CHECK_EQ(vp_encoder_size(&enc), 8 + 8 + 4 + 8 + 4 + 8 + 4 + 8);
   CHECK_EQ(vp_sizeof_vkGetMemoryResourcePropertiesMESA_reply(HANDLE(VkDevice, device_obj), 9,
                                                             &props),
            4 + 4 + 8 + 4 + 8 + 4 + 8 + 8 + 4);
}

TEST(encoder_overflow_is_fatal)
{
   uint8_t small[16];
   struct vp_encoder enc;
   vp_encoder_init_fixed(&enc, small, sizeof(small));
   CHECK(vp_encoder_reserve(&enc, 8));
   CHECK(!vp_encoder_reserve(&enc, 20));
   CHECK(vp_encoder_is_fatal(&enc));

   struct vp_encoder dyn;
   vp_encoder_init_dynamic(&dyn, 0);
   for (int i = 0; i < 10000; i++)
      vp_encode_u32(&dyn, (uint32_t)i);
   CHECK(!vp_encoder_is_fatal(&dyn));
   CHECK_EQ(vp_encoder_size(&dyn), 40000);
   vp_encoder_fini(&dyn);
}

/* The generated encoders reserve each run of fixed-size items at once: in
 * every buffer too small for the command the encoding is fatal, and nothing
 * is stored past the buffer. */
TEST(encoder_runs_stay_in_bounds)
{
   GUEST(device_obj, 3);
   GUEST(buffer_obj, 0x10);
   VkDevice device = HANDLE(VkDevice, device_obj);
   VkBuffer buffer = HANDLE(VkBuffer, buffer_obj);
   /* 92 bytes (create_buffer) */
   const size_t size = vp_sizeof_vkCreateBuffer(device, &create_buffer_info, NULL, &buffer);
   uint8_t buf[92 + 16];
   CHECK_EQ(size, 92);
   for (size_t room = 0; room < size; room++) {
      memset(buf, 0xa5, sizeof(buf));
      struct vp_encoder enc;
      vp_encoder_init_fixed(&enc, buf, room);
      vp_encode_vkCreateBuffer(&enc, 0, device, &create_buffer_info, NULL, &buffer);
      CHECK(vp_encoder_is_fatal(&enc));
      const size_t used = vp_encoder_size(&enc);
      CHECK(used <= room);
      for (size_t i = room; i < sizeof(buf); i++)
         CHECK_EQ(buf[i], 0xa5);
   }
}

RUN_TESTS(create_instance,
          enumerate_physical_devices,
          physical_device_properties2_chain,
          create_buffer,
          cmd_draw,
          queue_submit,
          clear_color_image_union,
          ring_commands,
          device_queue2_timeline,
          allocate_memory_import_resource,
          memory_resource_properties,
          encoder_overflow_is_fatal,
          encoder_runs_stay_in_bounds)
