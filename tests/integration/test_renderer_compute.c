/*
 * The renderer end to end through the real server (suite 'renderer'): a test
 * client built on the generated encoders talks to venus-server ($VENUS_SERVER)
 * over the vtest socket, like a small Venus driver:
 *
 *   capset; instance and physical devices on the context path; a ring (with
 *   the ALIVE monitor, IDLE sleeps woken by a futex wake on the tail and by
 *   vkNotifyRingMESA, our head-waiter flag); device, queue bound to timeline
 *   1, host-visible memory mapped on both sides (the blob of the
 *   VkDeviceMemory), a compute dispatch whose results are checked in the
 *   test's own mapping, fences (host vkWaitForFences and a vtest timeline
 *   fence), replies, vkExecuteCommandStreamsMESA, resource properties.
 *
 * Hostile streams (truncated, unknown command, unknown sType, unknown id,
 * wrong object type, id 0, a rejected command, garbage in a ring, a
 * specialization constant outside its data) must make
 * the context fatal and get only that client dropped, while the first
 * client keeps working. A client that hangs up while its context path waits
 * for ever ends its worker.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_proc.h"
#include "util/vu_log.h"
#include "util/vu_os.h"
#include "protocol/vp_cs.h"
#include "vp_protocol.h"
#include "transport/vw_capset.h"
#include "transport/vw_ring_info.h"
#include "transport/vw_vtest.h"
#include "transport/vw_vtest_client.h"

#include "renderer_compute_spv.h"

#define REPLY_SIZE (1u << 20)
#define RING_BUFFER_SIZE (64u << 10)
#define RING_ID 0x5151ull
#define WAIT_NS (10ull * 1000000000ull)
#define ELEMS 4096u

static pid_t server_pid = -1;
static char tmp_dir[64];
static char sock_path[96];

/* ------------------------------------------------------------------ */
/* guest objects: handles are pointers to {loader_data, id}             */

static uint64_t next_id = 0x1000;

#define NEW_HANDLE(T) ((T)(uintptr_t)new_object())
#define ID_OF(h) (((const struct vp_guest_object *)(uintptr_t)(h))->id)

static struct vp_guest_object *
new_object(void)
{
   static struct vp_guest_object pool[1024];
   static unsigned used;
   struct vp_guest_object *o = &pool[used++ % 1024];
   o->loader_data = 0;
   o->id = next_id++;
   return o;
}

/* ------------------------------------------------------------------ */
/* a test client                                                        */

struct tc {
   struct vw_vtest_client *vt;
   struct vw_capset caps;
   uint32_t sync_id;
   uint32_t reply_res;
   uint8_t *reply_map;
   struct vp_encoder enc;

   /* ring */
   uint32_t ring_res;
   uint8_t *ring_map;
   size_t ring_map_size;
   uint32_t tail;
   bool use_notify; /* Mesa's way instead of our futex wake */
};

#define RING_HEAD(tc) ((_Atomic uint32_t *)((tc)->ring_map + VW_RING_HEAD_OFFSET))
#define RING_TAIL(tc) ((_Atomic uint32_t *)((tc)->ring_map + VW_RING_TAIL_OFFSET))
#define RING_STATUS(tc) ((_Atomic uint32_t *)((tc)->ring_map + VW_RING_STATUS_OFFSET))
#define RING_BUF(tc) ((tc)->ring_map + VW_RING_BUFFER_OFFSET)
#define RING_WAITER(tc)                                                                  \
   ((_Atomic uint32_t *)((tc)->ring_map + VW_RING_BUFFER_OFFSET + RING_BUFFER_SIZE))

static void *
map_fd(int fd, size_t size)
{
   void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   return p == MAP_FAILED ? NULL : p;
}

static bool
tc_connect(struct tc *tc)
{
   memset(tc, 0, sizeof(*tc));
   tc->vt = vw_vtest_connect(sock_path);
   if (!tc->vt || !vw_vtest_start_session(tc->vt, "test_renderer_compute", &tc->caps) ||
       !vw_vtest_context_init(tc->vt, VW_CAPSET_ID_VENUS))
      return false;
   int fd = -1;
   if (!vw_vtest_resource_create_blob(tc->vt, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                      REPLY_SIZE, 0, &tc->reply_res, &fd))
      return false;
   tc->reply_map = map_fd(fd, REPLY_SIZE);
   vp_encoder_init_dynamic(&tc->enc, 4096);
   return tc->reply_map && vw_vtest_sync_create(tc->vt, 0, &tc->sync_id);
}

static void
tc_close(struct tc *tc)
{
   if (tc->reply_map)
      munmap(tc->reply_map, REPLY_SIZE);
   if (tc->ring_map)
      munmap(tc->ring_map, tc->ring_map_size);
   vp_encoder_fini(&tc->enc);
   if (tc->vt)
      vw_vtest_disconnect(tc->vt);
   memset(tc, 0, sizeof(*tc));
}

/* a request with a response: everything sent before is processed */
static bool
tc_roundtrip(struct tc *tc)
{
   uint64_t v;
   return vw_vtest_sync_read(tc->vt, tc->sync_id, &v);
}

static void
tc_begin(struct tc *tc, bool reply)
{
   vp_encoder_reset(&tc->enc);
   if (reply) {
      const VkCommandStreamDescriptionMESA stream = { tc->reply_res, 0, REPLY_SIZE };
      vp_encode_vkSetReplyCommandStreamMESA(&tc->enc, 0, &stream);
   }
}

static bool
tc_submit_ctx(struct tc *tc, const void *cmd, size_t size)
{
   const struct vw_vtest_submit_batch batch = { .cmd = cmd, .cmd_size = size };
   return vw_vtest_submit_cmd2(tc->vt, &batch, 1) && tc_roundtrip(tc);
}

static bool
ring_wait(struct tc *tc)
{
   atomic_store(RING_WAITER(tc), 1);
   const uint64_t deadline = vu_os_time_ns() + WAIT_NS;
   bool ok = false;
   for (;;) {
      const uint32_t head = atomic_load_explicit(RING_HEAD(tc), memory_order_acquire);
      if (vw_ring_seqno_passed(head, tc->tail)) {
         ok = true;
         break;
      }
      if ((atomic_load(RING_STATUS(tc)) & VW_RING_STATUS_FATAL) || vu_os_time_ns() > deadline)
         break;
      vu_os_futex_wait((const uint32_t *)RING_HEAD(tc), head, 100000000);
   }
   atomic_store(RING_WAITER(tc), 0);
   return ok;
}

static bool
ring_submit(struct tc *tc, const void *data, uint32_t size)
{
   if (size > RING_BUFFER_SIZE)
      return false;
   const uint32_t pos = tc->tail & (RING_BUFFER_SIZE - 1);
   const uint32_t first = size < RING_BUFFER_SIZE - pos ? size : RING_BUFFER_SIZE - pos;
   memcpy(RING_BUF(tc) + pos, data, first);
   memcpy(RING_BUF(tc), (const uint8_t *)data + first, size - first);
   tc->tail += size;
   atomic_store_explicit(RING_TAIL(tc), tc->tail, memory_order_release);
   if (atomic_load_explicit(RING_STATUS(tc), memory_order_seq_cst) & VW_RING_STATUS_IDLE) {
      if (tc->use_notify) {
         uint32_t cmd[64];
         struct vp_encoder e;
         vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
         vp_encode_vkNotifyRingMESA(&e, 0, RING_ID, tc->tail, 0);
         if (!tc_submit_ctx(tc, cmd, vp_encoder_size(&e)))
            return false;
      } else {
         vu_os_futex_wake((const uint32_t *)RING_TAIL(tc), 1);
      }
   }
   return ring_wait(tc);
}

static bool
tc_flush(struct tc *tc, bool via_ring)
{
   if (vp_encoder_is_fatal(&tc->enc))
      return false;
   if (via_ring)
      return ring_submit(tc, tc->enc.base, (uint32_t)vp_encoder_size(&tc->enc));
   return tc_submit_ctx(tc, tc->enc.base, vp_encoder_size(&tc->enc));
}

/* synchronous call: SetReply + command with the reply bit, then decode */
#define CALL(tc, ring, ret, name, ...)                                                   \
   do {                                                                                  \
      tc_begin(tc, true);                                                                \
      vp_encode_##name(&(tc)->enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT, __VA_ARGS__);      \
      CHECK(tc_flush(tc, ring));                                                         \
      struct vp_decoder dec_;                                                            \
      vp_decoder_init(&dec_, (tc)->reply_map, REPLY_SIZE, NULL);                         \
      ret = vp_decode_##name##_reply(&dec_, __VA_ARGS__);                                \
      CHECK(!vp_decoder_is_fatal(&dec_));                                                \
   } while (0)

#define CALL_VOID(tc, ring, name, ...)                                                   \
   do {                                                                                  \
      tc_begin(tc, true);                                                                \
      vp_encode_##name(&(tc)->enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT, __VA_ARGS__);      \
      CHECK(tc_flush(tc, ring));                                                         \
      struct vp_decoder dec_;                                                            \
      vp_decoder_init(&dec_, (tc)->reply_map, REPLY_SIZE, NULL);                         \
      vp_decode_##name##_reply(&dec_, __VA_ARGS__);                                      \
      CHECK(!vp_decoder_is_fatal(&dec_));                                                \
   } while (0)

/* asynchronous call: no reply (still waits for the ring head) */
#define ASYNC(tc, ring, name, ...)                                                       \
   do {                                                                                  \
      tc_begin(tc, false);                                                               \
      vp_encode_##name(&(tc)->enc, 0, __VA_ARGS__);                                      \
      CHECK(tc_flush(tc, ring));                                                         \
   } while (0)

static bool
tc_create_ring(struct tc *tc, uint64_t idle_timeout_ns, uint32_t monitor_us)
{
   tc->ring_map_size = vw_ring_total_size(RING_BUFFER_SIZE);
   int fd = -1;
   if (!vw_vtest_resource_create_blob(tc->vt, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                      tc->ring_map_size, 0, &tc->ring_res, &fd))
      return false;
   tc->ring_map = map_fd(fd, tc->ring_map_size);
   if (!tc->ring_map)
      return false;
   /* host waits may end early (TEST(compute) checks it) */
   atomic_store((_Atomic uint32_t *)(tc->ring_map + VW_RING_BUFFER_OFFSET + RING_BUFFER_SIZE +
                                     VW_RING_EXTRA_FLAGS),
                VW_RING_FLAG_EARLY_WAIT_END);
   const VkRingMonitorInfoMESA monitor = {
      .sType = VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA,
      .maxReportingPeriodMicroseconds = monitor_us,
   };
   VkRingCreateInfoMESA info =
      vw_ring_create_info(tc->ring_res, RING_BUFFER_SIZE, idle_timeout_ns);
   info.pNext = monitor_us ? &monitor : NULL;
   tc_begin(tc, false);
   vp_encode_vkCreateRingMESA(&tc->enc, 0, RING_ID, &info);
   return tc_flush(tc, false);
}

/* ------------------------------------------------------------------ */
/* server                                                              */

static bool
server_is_running(void)
{
   return server_pid > 0 && waitpid(server_pid, NULL, WNOHANG) == 0;
}

TEST(start_server)
{
   const char *server = vu_env_string("VENUS_SERVER");
   CHECK(server != NULL);
   if (!server)
      exit(1);
   snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/venus-rdr-XXXXXX");
   CHECK(mkdtemp(tmp_dir) != NULL);
   snprintf(sock_path, sizeof(sock_path), "%s/sock", tmp_dir);
   char path_arg[160];
   snprintf(path_arg, sizeof(path_arg), "--socket-path=%s", sock_path);
   server_pid = fork();
   if (server_pid == 0) {
      execl(server, server, "--venus", path_arg, (char *)NULL);
      _exit(127);
   }
   CHECK(server_pid > 0);
   for (int i = 0; i < 1000 && server_is_running(); i++) {
      const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      struct sockaddr_un addr = { .sun_family = AF_UNIX };
      snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
      const bool ok = connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0;
      close(fd);
      if (ok)
         return;
      usleep(10000);
   }
   CHECK(!"server did not start");
   exit(1);
}

/* ------------------------------------------------------------------ */
/* the main client                                                     */

static struct tc main_tc;
static VkInstance instance;
static VkPhysicalDevice physical_device;
static uint32_t host_visible_type = UINT32_MAX;
static uint32_t compute_family = UINT32_MAX;
/* the family also does graphics (render pass commands) */
static bool compute_family_graphics;
static bool compute_family_protected; /* VK_QUEUE_PROTECTED_BIT */

TEST(capset)
{
   CHECK(tc_connect(&main_tc));
   const struct vw_capset *c = &main_tc.caps;
   CHECK_EQ(c->wire_format_version, 1);
   CHECK(c->vk_xml_version >= VK_API_VERSION_1_1);
   CHECK(c->vk_xml_version <= VP_VK_XML_VERSION);
   CHECK_EQ(c->supports_blob_id_0, 1);
   CHECK_EQ(c->vk_extension_mask1[0] & 1, 1);
   CHECK(vw_capset_has_extension(c, 384)); /* VK_EXT_command_serialization */
   CHECK(vw_capset_has_extension(c, 385)); /* VK_MESA_venus_protocol */
   CHECK_EQ(c->allow_vk_wait_syncs, 1);
   CHECK_EQ(c->supports_multiple_timelines, 1);
}

TEST(instance)
{
   struct tc *tc = &main_tc;
   VkResult r;
   uint32_t version = 0;
   CALL(tc, false, r, vkEnumerateInstanceVersion, &version);
   CHECK_EQ(r, VK_SUCCESS);
   /* at most the minor version of the registry the stack is built from */
   CHECK(version >= VK_API_VERSION_1_1 &&
         VK_API_VERSION_MINOR(version) <= VK_API_VERSION_MINOR(VK_HEADER_VERSION_COMPLETE));

   uint32_t n = 0;
   CALL(tc, false, r, vkEnumerateInstanceExtensionProperties, NULL, &n, NULL);
   CHECK_EQ(n, 2);

   static const char *const exts[] = { "VK_EXT_command_serialization",
                                       "VK_MESA_venus_protocol" };
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "test_renderer_compute",
      .apiVersion = VK_API_VERSION_1_1,
   };
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
      .enabledExtensionCount = 2,
      .ppEnabledExtensionNames = exts,
   };
   instance = NEW_HANDLE(VkInstance);
   VkInstance out = instance;
   CALL(tc, false, r, vkCreateInstance, &info, NULL, &out);
   CHECK_EQ(r, VK_SUCCESS);
   CHECK(out == instance); /* the reply echoes the id; no lookup keeps ours */
   if (r != VK_SUCCESS) {
      instance = VK_NULL_HANDLE;
      return;
   }

   uint32_t count = 0;
   CALL(tc, false, r, vkEnumeratePhysicalDevices, instance, &count, NULL);
   CHECK_EQ(r, VK_SUCCESS);
   CHECK(count >= 1);
   if (r != VK_SUCCESS || !count)
      return;
   VkPhysicalDevice pds[8];
   if (count > 8)
      count = 8;
   for (uint32_t i = 0; i < count; i++)
      pds[i] = NEW_HANDLE(VkPhysicalDevice);
   CALL(tc, false, r, vkEnumeratePhysicalDevices, instance, &count, pds);
   CHECK(r == VK_SUCCESS || r == VK_INCOMPLETE);
   physical_device = pds[0];

   /* enumerating again with the same ids is fine */
   CALL(tc, false, r, vkEnumeratePhysicalDevices, instance, &count, pds);
   CHECK(r == VK_SUCCESS || r == VK_INCOMPLETE);

   VkPhysicalDeviceProperties props;
   CALL_VOID(tc, false, vkGetPhysicalDeviceProperties, physical_device, &props);
   CHECK(VK_API_VERSION_MINOR(props.apiVersion) <=
         VK_API_VERSION_MINOR(VK_HEADER_VERSION_COMPLETE));
   fprintf(stderr, "  device: %s, api %u.%u.%u\n", props.deviceName,
           VK_API_VERSION_MAJOR(props.apiVersion), VK_API_VERSION_MINOR(props.apiVersion),
           VK_API_VERSION_PATCH(props.apiVersion));

   uint32_t ext_count = 0;
   CALL(tc, false, r, vkEnumerateDeviceExtensionProperties, physical_device, NULL, &ext_count,
        NULL);
   CHECK_EQ(r, VK_SUCCESS);
   fprintf(stderr, "  device extensions exposed: %u\n", ext_count);
   CHECK(ext_count > 0);

   uint32_t qf_count = 0;
   CALL_VOID(tc, false, vkGetPhysicalDeviceQueueFamilyProperties, physical_device, &qf_count,
             NULL);
   VkQueueFamilyProperties qf[8];
   if (qf_count > 8)
      qf_count = 8;
   CALL_VOID(tc, false, vkGetPhysicalDeviceQueueFamilyProperties, physical_device, &qf_count,
             qf);
   for (uint32_t i = 0; i < qf_count && compute_family == UINT32_MAX; i++) {
      if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
         compute_family = i;
         compute_family_protected = qf[i].queueFlags & VK_QUEUE_PROTECTED_BIT;
         compute_family_graphics = qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT;
      }
   }
   CHECK(compute_family != UINT32_MAX);

   VkPhysicalDeviceMemoryProperties mem;
   CALL_VOID(tc, false, vkGetPhysicalDeviceMemoryProperties, physical_device, &mem);
   const VkMemoryPropertyFlags want =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
   for (uint32_t i = 0; i < mem.memoryTypeCount && host_visible_type == UINT32_MAX; i++) {
      if ((mem.memoryTypes[i].propertyFlags & want) == want)
         host_visible_type = i;
   }
   CHECK(host_visible_type != UINT32_MAX);
}

TEST(ring_monitor_and_idle)
{
   struct tc *tc = &main_tc;
   if (!instance)
      return;
   /* 1 ms idle timeout, ALIVE at least every 100 ms */
   CHECK(tc_create_ring(tc, 1000000, 100000));
   if (!tc->ring_map)
      return;
   usleep(50000);
   CHECK(atomic_load(RING_STATUS(tc)) & VW_RING_STATUS_IDLE);
   atomic_fetch_and(RING_STATUS(tc), ~VW_RING_STATUS_ALIVE);
   usleep(200000);
   CHECK(atomic_load(RING_STATUS(tc)) & VW_RING_STATUS_ALIVE);

   /* wake by a futex wake on the tail (ours) ... */
   VkResult r;
   uint32_t version = 0;
   CALL(tc, true, r, vkEnumerateInstanceVersion, &version);
   CHECK_EQ(r, VK_SUCCESS);
   /* ... and by vkNotifyRingMESA (Mesa's) */
   usleep(20000);
   CHECK(atomic_load(RING_STATUS(tc)) & VW_RING_STATUS_IDLE);
   tc->use_notify = true;
   version = 0;
   CALL(tc, true, r, vkEnumerateInstanceVersion, &version);
   CHECK_EQ(r, VK_SUCCESS);
   CHECK(version >= VK_API_VERSION_1_1);
   tc->use_notify = false;
   CHECK(!(atomic_load(RING_STATUS(tc)) & VW_RING_STATUS_FATAL));
}

TEST(compute)
{
   struct tc *tc = &main_tc;
   if (!tc->ring_map || !physical_device)
      return;
   VkResult r;

   /* device and queue (through the ring) */
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = compute_family,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo dinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qinfo,
   };
   VkDevice device = NEW_HANDLE(VkDevice);
   CALL(tc, true, r, vkCreateDevice, physical_device, &dinfo, NULL, &device);
   CHECK_EQ(r, VK_SUCCESS);

   const VkDeviceQueueTimelineInfoMESA timeline = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA,
      .ringIdx = 1,
   };
   const VkDeviceQueueInfo2 q2 = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2,
      .pNext = &timeline,
      .queueFamilyIndex = compute_family,
   };
   VkQueue queue = NEW_HANDLE(VkQueue);
   ASYNC(tc, true, vkGetDeviceQueue2, device, &q2, &queue);

   /* buffer + host-visible memory */
   const VkBufferCreateInfo binfo = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = ELEMS * 4,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
   };
   VkBuffer buffer = NEW_HANDLE(VkBuffer);
   CALL(tc, true, r, vkCreateBuffer, device, &binfo, NULL, &buffer);
   CHECK_EQ(r, VK_SUCCESS);
   VkMemoryRequirements reqs;
   CALL_VOID(tc, true, vkGetBufferMemoryRequirements, device, buffer, &reqs);
   CHECK(reqs.size >= ELEMS * 4);
   CHECK(reqs.memoryTypeBits & (1u << host_visible_type));

   const VkMemoryAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex = host_visible_type,
   };
   VkDeviceMemory memory = NEW_HANDLE(VkDeviceMemory);
   ASYNC(tc, true, vkAllocateMemory, device, &ainfo, NULL, &memory);

   /* Mesa's order: the context path waits for the ring, then the blob */
   ASYNC(tc, false, vkWaitRingSeqnoMESA, RING_ID, tc->tail);
   uint32_t mem_res = 0;
   int fd = -1;
   CHECK(vw_vtest_resource_create_blob(tc->vt, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                       reqs.size, ID_OF(memory), &mem_res, &fd));
   uint32_t *data = fd >= 0 ? map_fd(fd, reqs.size) : NULL;
   CHECK(data != NULL);
   if (!data)
      return;
   for (uint32_t i = 0; i < ELEMS; i++)
      data[i] = i + 1;

   CALL(tc, true, r, vkBindBufferMemory, device, buffer, memory, 0);
   CHECK_EQ(r, VK_SUCCESS);

   /* the memfd resource can be imported back: ask what it allows */
   VkMemoryResourceAllocationSizePropertiesMESA size_props = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA,
   };
   VkMemoryResourcePropertiesMESA res_props = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_RESOURCE_PROPERTIES_MESA,
      .pNext = &size_props,
   };
   CALL(tc, true, r, vkGetMemoryResourcePropertiesMESA, device, mem_res, &res_props);
   fprintf(stderr, "  memory resource: result %d, types 0x%x, size %llu\n", r,
           res_props.memoryTypeBits, (unsigned long long)size_props.allocationSize);
   if (r == VK_SUCCESS) {
      CHECK(res_props.memoryTypeBits & (1u << host_visible_type));
      CHECK(size_props.allocationSize >= reqs.size);
   }

   /* a shared-memory blob imported as device memory (host-pointer path) */
   uint32_t shm_res = 0;
   fd = -1;
   CHECK(vw_vtest_resource_create_blob(tc->vt, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                       65536, 0, &shm_res, &fd));
   if (fd >= 0)
      close(fd);
   const VkImportMemoryResourceInfoMESA import_res = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA,
      .resourceId = shm_res,
   };
   const VkMemoryAllocateInfo iinfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &import_res,
      .allocationSize = 65536,
      .memoryTypeIndex = host_visible_type,
   };
   /* a blob_id-0 resource is not device memory: refused, not fatal */
   VkDeviceMemory imported = NEW_HANDLE(VkDeviceMemory);
   CALL(tc, true, r, vkAllocateMemory, device, &iinfo, NULL, &imported);
   CHECK_EQ(r, VK_ERROR_INVALID_EXTERNAL_HANDLE);
   CHECK(vw_vtest_resource_unref(tc->vt, shm_res));

   /* OPAQUE_FD export: a SHAREABLE blob, imported back with the size it was
    * exported with; a larger import is refused */
   const VkExportMemoryAllocateInfo export_info = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkMemoryAllocateInfo einfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &export_info,
      .allocationSize = 65536,
      .memoryTypeIndex = host_visible_type,
   };
   VkDeviceMemory exported = NEW_HANDLE(VkDeviceMemory);
   CALL(tc, true, r, vkAllocateMemory, device, &einfo, NULL, &exported);
   CHECK_EQ(r, VK_SUCCESS);
   uint32_t export_res = 0;
   fd = -1;
   CHECK(vw_vtest_resource_create_blob(tc->vt, VCMD_BLOB_TYPE_HOST3D,
                                       VCMD_BLOB_FLAG_MAPPABLE | VCMD_BLOB_FLAG_SHAREABLE, 65536,
                                       ID_OF(exported), &export_res, &fd));
   uint32_t *exported_map = fd >= 0 ? map_fd(fd, 65536) : NULL;
   CHECK(exported_map != NULL);
   const VkImportMemoryResourceInfoMESA import_export = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA,
      .resourceId = export_res,
   };
   VkMemoryAllocateInfo xinfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &import_export,
      .allocationSize = 4u << 20,
      .memoryTypeIndex = host_visible_type,
   };
   VkDeviceMemory too_big = NEW_HANDLE(VkDeviceMemory);
   CALL(tc, true, r, vkAllocateMemory, device, &xinfo, NULL, &too_big);
   CHECK_EQ(r, VK_ERROR_INVALID_EXTERNAL_HANDLE);
   xinfo.allocationSize = 65536;
   VkDeviceMemory reimported = NEW_HANDLE(VkDeviceMemory);
   CALL(tc, true, r, vkAllocateMemory, device, &xinfo, NULL, &reimported);
   CHECK_EQ(r, VK_SUCCESS);
   /* the import's own blob shows the exporter's bytes */
   if (exported_map)
      exported_map[7] = 0x45585054u;
   uint32_t reimport_res = 0;
   fd = -1;
   CHECK(vw_vtest_resource_create_blob(tc->vt, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                       65536, ID_OF(reimported), &reimport_res, &fd));
   uint32_t *reimported_map = fd >= 0 ? map_fd(fd, 65536) : NULL;
   CHECK(reimported_map && reimported_map[7] == 0x45585054u);
   if (reimported_map)
      munmap(reimported_map, 65536);
   if (exported_map)
      munmap(exported_map, 65536);
   CHECK(vw_vtest_resource_unref(tc->vt, reimport_res));
   CHECK(vw_vtest_resource_unref(tc->vt, export_res));
   ASYNC(tc, true, vkFreeMemory, device, reimported, NULL);
   ASYNC(tc, true, vkFreeMemory, device, exported, NULL);

   /* a guest fd number would name one of the renderer's files: refused */
   const VkImportMemoryFdInfoKHR import_fd = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      .fd = 0,
   };
   const VkMemoryAllocateInfo finfo_fd = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = &import_fd,
      .allocationSize = 4096,
      .memoryTypeIndex = host_visible_type,
   };
   VkDeviceMemory from_fd = NEW_HANDLE(VkDeviceMemory);
   CALL(tc, true, r, vkAllocateMemory, device, &finfo_fd, NULL, &from_fd);
   CHECK_EQ(r, VK_ERROR_INVALID_EXTERNAL_HANDLE);

   /* pipeline */
   const VkShaderModuleCreateInfo sinfo = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = sizeof(renderer_compute_spv),
      .pCode = renderer_compute_spv,
   };
   VkShaderModule shader = NEW_HANDLE(VkShaderModule);
   CALL(tc, true, r, vkCreateShaderModule, device, &sinfo, NULL, &shader);
   CHECK_EQ(r, VK_SUCCESS);

   const VkDescriptorSetLayoutBinding binding = {
      .binding = 0,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
   };
   const VkDescriptorSetLayoutCreateInfo dslinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &binding,
   };
   VkDescriptorSetLayout dsl = NEW_HANDLE(VkDescriptorSetLayout);
   ASYNC(tc, true, vkCreateDescriptorSetLayout, device, &dslinfo, NULL, &dsl);

   const VkPushConstantRange range = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
   const VkPipelineLayoutCreateInfo plinfo = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &dsl,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &range,
   };
   VkPipelineLayout layout = NEW_HANDLE(VkPipelineLayout);
   ASYNC(tc, true, vkCreatePipelineLayout, device, &plinfo, NULL, &layout);

   const VkComputePipelineCreateInfo cpinfo = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_COMPUTE_BIT,
         .module = shader,
         .pName = "main",
      },
      .layout = layout,
   };
   VkPipeline pipeline = NEW_HANDLE(VkPipeline);
   VkPipeline pipeline_out = pipeline;
   CALL(tc, true, r, vkCreateComputePipelines, device, VK_NULL_HANDLE, 1, &cpinfo, NULL,
        &pipeline_out);
   CHECK_EQ(r, VK_SUCCESS);
   CHECK(pipeline_out == pipeline);

   /* descriptors */
   const VkDescriptorPoolSize psize = { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1 };
   const VkDescriptorPoolCreateInfo dpinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
      .flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
      .maxSets = 1,
      .poolSizeCount = 1,
      .pPoolSizes = &psize,
   };
   VkDescriptorPool dpool = NEW_HANDLE(VkDescriptorPool);
   ASYNC(tc, true, vkCreateDescriptorPool, device, &dpinfo, NULL, &dpool);
   const VkDescriptorSetAllocateInfo dsinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
      .descriptorPool = dpool,
      .descriptorSetCount = 1,
      .pSetLayouts = &dsl,
   };
   VkDescriptorSet set = NEW_HANDLE(VkDescriptorSet);
   CALL(tc, true, r, vkAllocateDescriptorSets, device, &dsinfo, &set);
   CHECK_EQ(r, VK_SUCCESS);
   const VkDescriptorBufferInfo dbi = { buffer, 0, VK_WHOLE_SIZE };
   const VkWriteDescriptorSet write = {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = set,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &dbi,
   };
   ASYNC(tc, true, vkUpdateDescriptorSets, device, 1, &write, 0, NULL);

   /* record */
   const VkCommandPoolCreateInfo cpoolinfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .queueFamilyIndex = compute_family,
   };
   VkCommandPool cpool = NEW_HANDLE(VkCommandPool);
   ASYNC(tc, true, vkCreateCommandPool, device, &cpoolinfo, NULL, &cpool);
   const VkCommandBufferAllocateInfo cbinfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = cpool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd = NEW_HANDLE(VkCommandBuffer);
   CALL(tc, true, r, vkAllocateCommandBuffers, device, &cbinfo, &cmd);
   CHECK_EQ(r, VK_SUCCESS);

   /* the whole recording as one batch, like a driver does */
   const VkCommandBufferBeginInfo begin = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
   };
   const uint32_t mul = 3;
   tc_begin(tc, false);
   vp_encode_vkBeginCommandBuffer(&tc->enc, 0, cmd, &begin);
   vp_encode_vkCmdBindPipeline(&tc->enc, 0, cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vp_encode_vkCmdBindDescriptorSets(&tc->enc, 0, cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0,
                                     1, &set, 0, NULL);
   vp_encode_vkCmdPushConstants(&tc->enc, 0, cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4,
                                &mul);
   vp_encode_vkCmdDispatch(&tc->enc, 0, cmd, ELEMS / 64, 1, 1);
   vp_encode_vkEndCommandBuffer(&tc->enc, 0, cmd);
   CHECK(tc_flush(tc, true));

   const VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence = NEW_HANDLE(VkFence);
   ASYNC(tc, true, vkCreateFence, device, &finfo, NULL, &fence);
   const VkSubmitInfo submit = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = 1,
      .pCommandBuffers = &cmd,
   };
   CALL(tc, true, r, vkQueueSubmit, queue, 1, &submit, fence);
   CHECK_EQ(r, VK_SUCCESS);

   /* a vtest timeline fence on the queue's timeline (ring_idx 1), carried
    * by a batch that first waits for the ring (Mesa's pattern) */
   uint32_t fence_sync = 0;
   CHECK(vw_vtest_sync_create(tc->vt, 0, &fence_sync));
   tc_begin(tc, false);
   vp_encode_vkWaitRingSeqnoMESA(&tc->enc, 0, RING_ID, tc->tail);
   const struct vw_vtest_sync_point point = { fence_sync, 1 };
   const struct vw_vtest_submit_batch batch = {
      .cmd = tc->enc.base,
      .cmd_size = vp_encoder_size(&tc->enc),
      .has_ring_idx = true,
      .ring_idx = 1,
      .syncs = &point,
      .sync_count = 1,
   };
   CHECK(vw_vtest_submit_cmd2(tc->vt, &batch, 1));
   const int wait_fd = vw_vtest_sync_wait(tc->vt, 0, 10000, &point, 1);
   CHECK(wait_fd >= 0);
   if (wait_fd >= 0) {
      CHECK_EQ(vw_vtest_wait_fd(wait_fd, 10000), 1);
      close(wait_fd);
   }

   /* and the host fence, waited for in the renderer */
   CALL(tc, true, r, vkWaitForFences, device, 1, &fence, VK_TRUE, 5000000000ull);
   CHECK_EQ(r, VK_SUCCESS);

   /* A host wait in a ring whose driver allows it (VW_RING_FLAG_EARLY_WAIT_END)
    * ends with VK_TIMEOUT once commands wait behind it; with nothing behind
    * it, on the context path, or without a reply (a barrier for what follows)
    * it lasts its timeout. The fence is never submitted. */
   VkFence unsubmitted = NEW_HANDLE(VkFence);
   ASYNC(tc, true, vkCreateFence, device, &finfo, NULL, &unsubmitted);
   for (int path = 0; path < 4; path++) {
      const bool via_ring = path != 2;
      const bool behind = path != 1;
      const bool reply = path != 3;
      const uint64_t timeout = path == 0 ? 10000000000ull : 300000000ull;
      tc_begin(tc, reply);
      vp_encode_vkWaitForFences(&tc->enc, reply ? VK_COMMAND_GENERATE_REPLY_BIT_EXT : 0, device,
                                1, &unsubmitted, VK_TRUE, timeout);
      if (behind)
         vp_encode_vkResetFences(&tc->enc, 0, device, 1, &unsubmitted);
      const uint64_t start = vu_os_time_ns();
      CHECK(tc_flush(tc, via_ring));
      const uint64_t took = vu_os_time_ns() - start;
      if (reply) {
         struct vp_decoder dec;
         vp_decoder_init(&dec, tc->reply_map, REPLY_SIZE, NULL);
         r = vp_decode_vkWaitForFences_reply(&dec, device, 1, &unsubmitted, VK_TRUE, timeout);
         CHECK(!vp_decoder_is_fatal(&dec));
         CHECK_EQ(r, VK_TIMEOUT);
      }
      if (path == 0)
         CHECK(took < timeout / 2);
      else
         CHECK(took >= timeout);
      fprintf(stderr, "  host wait %s%s, %s behind it: over after %.1f ms\n",
              via_ring ? "in the ring" : "on the context path", reply ? "" : " without a reply",
              behind ? "a command" : "nothing", took / 1e6);
   }
   ASYNC(tc, true, vkDestroyFence, device, unsubmitted, NULL);

   /* results, read through our own mapping of the same pages */
   uint32_t bad = 0;
   for (uint32_t i = 0; i < ELEMS; i++) {
      if (data[i] != (i + 1) * mul + i)
         bad++;
   }
   CHECK_EQ(bad, 0);
   fprintf(stderr, "  compute: %u/%u results correct\n", ELEMS - bad, ELEMS);

   /* vkExecuteCommandStreamsMESA: a stream in its own blob, reply inline */
   uint32_t stream_res = 0;
   fd = -1;
   CHECK(vw_vtest_resource_create_blob(tc->vt, VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                                       4096, 0, &stream_res, &fd));
   uint8_t *stream = fd >= 0 ? map_fd(fd, 4096) : NULL;
   CHECK(stream != NULL);
   if (stream) {
      struct vp_encoder se;
      vp_encoder_init_fixed(&se, stream, 4096);
      vp_encode_vkGetFenceStatus(&se, VK_COMMAND_GENERATE_REPLY_BIT_EXT, device, fence);
      const VkCommandStreamDescriptionMESA desc = { stream_res, 0, vp_encoder_size(&se) };
      tc_begin(tc, true);
      vp_encode_vkExecuteCommandStreamsMESA(&tc->enc, 0, 1, &desc, NULL, 0, NULL, 0);
      CHECK(tc_flush(tc, true));
      struct vp_decoder dec;
      vp_decoder_init(&dec, tc->reply_map, REPLY_SIZE, NULL);
      CHECK_EQ(vp_decode_vkGetFenceStatus_reply(&dec, device, fence), VK_SUCCESS);
      munmap(stream, 4096);
      CHECK(vw_vtest_resource_unref(tc->vt, stream_res));
   }

   /* throughput: vkCmdDispatch streams through the ring (lookup cache) */
   ASYNC(tc, true, vkResetCommandPool, device, cpool, 0);
   tc_begin(tc, false);
   vp_encode_vkBeginCommandBuffer(&tc->enc, 0, cmd, &begin);
   /* a reset command buffer has no state: bind again (dispatching without a
    * pipeline is invalid usage that crashes NVIDIA's driver) */
   vp_encode_vkCmdBindPipeline(&tc->enc, 0, cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
   vp_encode_vkCmdBindDescriptorSets(&tc->enc, 0, cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0,
                                     1, &set, 0, NULL);
   vp_encode_vkCmdPushConstants(&tc->enc, 0, cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4,
                                &mul);
   CHECK(tc_flush(tc, true));
   const uint64_t t0 = vu_os_time_ns();
   const uint32_t batches = 50, per_batch = 2000;
   for (uint32_t b = 0; b < batches; b++) {
      tc_begin(tc, false);
      for (uint32_t i = 0; i < per_batch; i++)
         vp_encode_vkCmdDispatch(&tc->enc, 0, cmd, 1, 1, 1);
      CHECK(tc_flush(tc, true));
   }
   const double secs = (double)(vu_os_time_ns() - t0) / 1e9;
   fprintf(stderr, "  ring: %u vkCmdDispatch in %.3f s (%.2f M commands/s, host recording included)\n",
           batches * per_batch, secs, batches * per_batch / secs / 1e6);
   ASYNC(tc, true, vkEndCommandBuffer, cmd);

   /* teardown: pool children go with their pools */
   ASYNC(tc, true, vkDestroyFence, device, fence, NULL);
   ASYNC(tc, true, vkDestroyCommandPool, device, cpool, NULL);
   ASYNC(tc, true, vkDestroyDescriptorPool, device, dpool, NULL);
   ASYNC(tc, true, vkDestroyPipeline, device, pipeline, NULL);
   ASYNC(tc, true, vkDestroyPipelineLayout, device, layout, NULL);
   ASYNC(tc, true, vkDestroyDescriptorSetLayout, device, dsl, NULL);
   ASYNC(tc, true, vkDestroyShaderModule, device, shader, NULL);
   ASYNC(tc, true, vkDestroyBuffer, device, buffer, NULL);
   munmap(data, reqs.size);
   CHECK(vw_vtest_resource_unref(tc->vt, mem_res));
   ASYNC(tc, true, vkFreeMemory, device, memory, NULL);
   /* the command buffer id is free again: the pool took it along */
   VkCommandPool cpool2 = NEW_HANDLE(VkCommandPool);
   ASYNC(tc, true, vkCreateCommandPool, device, &cpoolinfo, NULL, &cpool2);
   const VkCommandBufferAllocateInfo cbinfo2 = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = cpool2,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   CALL(tc, true, r, vkAllocateCommandBuffers, device, &cbinfo2, &cmd);
   CHECK_EQ(r, VK_SUCCESS);
   /* the device goes with what is left (cpool2 and its buffer) */
   CALL_VOID(tc, true, vkDestroyDevice, device, NULL);
   CHECK(!(atomic_load(RING_STATUS(tc)) & VW_RING_STATUS_FATAL));
}

/* ------------------------------------------------------------------ */
/* hostile streams: each must drop only its own client                 */

static bool
hostile_client_dropped(const void *cmd, size_t size, bool create_instance)
{
   struct tc tc;
   if (!tc_connect(&tc)) {
      tc_close(&tc);
      return false;
   }
   if (create_instance) {
      const VkInstanceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO };
      VkInstance inst = NEW_HANDLE(VkInstance);
      VkResult r;
      CALL(&tc, false, r, vkCreateInstance, &info, NULL, &inst);
      CHECK_EQ(r, VK_SUCCESS);
   }
   const struct vw_vtest_submit_batch batch = { .cmd = cmd, .cmd_size = size };
   vw_vtest_submit_cmd2(tc.vt, &batch, 1);
   /* the server drops the client: the next round trip fails */
   const bool dropped = !tc_roundtrip(&tc);
   tc_close(&tc);
   return dropped;
}

/* Queue create flags the host driver would read unchecked (NVIDIA's
 * vkCreateDevice crashed on them): unknown bits, and the protected bit on a
 * family without protected queues or without the protectedMemory feature,
 * are refused with VK_ERROR_INITIALIZATION_FAILED before the host call; the
 * context stays usable. */
TEST(queue_flags)
{
   struct tc *tc = &main_tc;
   if (!tc->ring_map || !physical_device)
      return;
   const float prio = 1.0f;
   const VkPhysicalDeviceProtectedMemoryFeatures protected_feature = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROTECTED_MEMORY_FEATURES,
      .protectedMemory = VK_TRUE,
   };
   const struct {
      VkDeviceQueueCreateFlags flags;
      const void *features;
   } cases[] = {
      { 0x80, NULL },
      { VK_DEVICE_QUEUE_CREATE_PROTECTED_BIT | 0x2, &protected_feature },
      { VK_DEVICE_QUEUE_CREATE_PROTECTED_BIT, NULL },
      /* only where compute_family has no protected queues (lavapipe's) */
      { VK_DEVICE_QUEUE_CREATE_PROTECTED_BIT, &protected_feature },
   };
   const size_t count = sizeof(cases) / sizeof(cases[0]) - (compute_family_protected ? 1 : 0);
   for (size_t i = 0; i < count; i++) {
      const VkDeviceQueueCreateInfo qinfo = {
         .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
         .flags = cases[i].flags,
         .queueFamilyIndex = compute_family,
         .queueCount = 1,
         .pQueuePriorities = &prio,
      };
      const VkDeviceCreateInfo dinfo = {
         .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
         .pNext = cases[i].features,
         .queueCreateInfoCount = 1,
         .pQueueCreateInfos = &qinfo,
      };
      VkDevice device = NEW_HANDLE(VkDevice);
      VkResult r = VK_SUCCESS;
      CALL(tc, true, r, vkCreateDevice, physical_device, &dinfo, NULL, &device);
      CHECK_EQ(r, VK_ERROR_INITIALIZATION_FAILED);
      if (r == VK_SUCCESS)
         ASYNC(tc, true, vkDestroyDevice, device, NULL);
   }
   CHECK(!(atomic_load(RING_STATUS(tc)) & VW_RING_STATUS_FATAL));
}

TEST(hostile_streams)
{
   uint8_t buf[512];
   struct vp_encoder e;

   /* truncated command */
   const VkInstanceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO };
   VkInstance inst = NEW_HANDLE(VkInstance);
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateInstance(&e, 0, &info, NULL, &inst);
   CHECK(hostile_client_dropped(buf, vp_encoder_size(&e) - 8, false));

   /* unknown command type */
   const uint32_t unknown[2] = { 9999, 0 };
   CHECK(hostile_client_dropped(unknown, sizeof(unknown), false));
   const uint32_t negative[2] = { 0x80000000u, 0 };
   CHECK(hostile_client_dropped(negative, sizeof(negative), false));

   /* unknown sType in a pNext chain: vkCreateInstance(pCreateInfo{pNext=?}) */
   const uint32_t bad_stype[] = {
      0, 0,                         /* vkCreateInstance, flags */
      1, 0,                         /* pCreateInfo marker */
      VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      1, 0,                         /* pNext marker */
      0x7ffffff0u,                  /* unknown sType */
      0, 0, 0, 0, 0, 0, 0, 0,
   };
   CHECK(hostile_client_dropped(bad_stype, sizeof(bad_stype), false));

   /* an id nobody created */
   struct vp_guest_object ghost = { 0, 0xdeadbeef };
   const VkBufferCreateInfo binfo = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .size = 64,
      .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
   };
   VkBuffer buffer = NEW_HANDLE(VkBuffer);
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateBuffer(&e, 0, (VkDevice)(uintptr_t)&ghost, &binfo, NULL, &buffer);
   CHECK(hostile_client_dropped(buf, vp_encoder_size(&e), true));

   /* an existing id of the wrong type: the instance as a device. The
    * hostile client's instance gets the next id, which we predict. */
   struct vp_guest_object as_device = { 0, next_id };
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateBuffer(&e, 0, (VkDevice)(uintptr_t)&as_device, &binfo, NULL, &buffer);
   CHECK(hostile_client_dropped(buf, vp_encoder_size(&e), true));

   /* id 0 for a new object */
   struct vp_guest_object zero = { 0, 0 };
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   VkInstance zero_inst = (VkInstance)(uintptr_t)&zero;
   vp_encode_vkCreateInstance(&e, 0, &info, NULL, &zero_inst);
   CHECK(hostile_client_dropped(buf, vp_encoder_size(&e), false));

   /* a second instance */
   VkInstance second = NEW_HANDLE(VkInstance);
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateInstance(&e, 0, &info, NULL, &second);
   CHECK(hostile_client_dropped(buf, vp_encoder_size(&e), true));

   /* a command the renderer rejects (vkDeviceWaitIdle needs a device: any
    * reply-less rejected one will do, e.g. vkEnumerateInstanceLayerProperties) */
   uint32_t count = 0;
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkEnumerateInstanceLayerProperties(&e, 0, &count, NULL);
   CHECK(hostile_client_dropped(buf, vp_encoder_size(&e), false));

   /* the reply bit without a reply stream */
   uint32_t version;
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkEnumerateInstanceVersion(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT, &version);
   CHECK(hostile_client_dropped(buf, vp_encoder_size(&e), false));
}

/* A pipeline whose specialization map entry lies outside pData: the host
 * driver would read past the decoded data, so the context goes fatal (a
 * valid map entry, for a constant the shader does not have, is accepted). */
TEST(hostile_pipeline)
{
   struct tc tc;
   VkResult r;
   CHECK(tc_connect(&tc));
   CHECK(tc_create_ring(&tc, 1000000, 0));
   if (!tc.ring_map || compute_family == UINT32_MAX) {
      tc_close(&tc);
      return;
   }
   static const char *const exts[] = { "VK_EXT_command_serialization",
                                       "VK_MESA_venus_protocol" };
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .apiVersion = VK_API_VERSION_1_1,
   };
   const VkInstanceCreateInfo iinfo = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
      .enabledExtensionCount = 2,
      .ppEnabledExtensionNames = exts,
   };
   VkInstance inst = NEW_HANDLE(VkInstance);
   CALL(&tc, false, r, vkCreateInstance, &iinfo, NULL, &inst);
   CHECK_EQ(r, VK_SUCCESS);
   uint32_t count = 1;
   VkPhysicalDevice pd = NEW_HANDLE(VkPhysicalDevice);
   CALL(&tc, false, r, vkEnumeratePhysicalDevices, inst, &count, &pd);
   CHECK(r == VK_SUCCESS || r == VK_INCOMPLETE);

   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = compute_family,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo dinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qinfo,
   };
   VkDevice device = NEW_HANDLE(VkDevice);
   CALL(&tc, true, r, vkCreateDevice, pd, &dinfo, NULL, &device);
   CHECK_EQ(r, VK_SUCCESS);
   const VkShaderModuleCreateInfo sinfo = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = sizeof(renderer_compute_spv),
      .pCode = renderer_compute_spv,
   };
   VkShaderModule shader = NEW_HANDLE(VkShaderModule);
   CALL(&tc, true, r, vkCreateShaderModule, device, &sinfo, NULL, &shader);
   CHECK_EQ(r, VK_SUCCESS);
   const VkDescriptorSetLayoutBinding binding = {
      .binding = 0,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
   };
   const VkDescriptorSetLayoutCreateInfo dslinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &binding,
   };
   VkDescriptorSetLayout dsl = NEW_HANDLE(VkDescriptorSetLayout);
   ASYNC(&tc, true, vkCreateDescriptorSetLayout, device, &dslinfo, NULL, &dsl);
   const VkPushConstantRange range = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
   const VkPipelineLayoutCreateInfo plinfo = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &dsl,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &range,
   };
   VkPipelineLayout layout = NEW_HANDLE(VkPipelineLayout);
   ASYNC(&tc, true, vkCreatePipelineLayout, device, &plinfo, NULL, &layout);

   const uint32_t value = 3;
   VkSpecializationMapEntry entry = { 7, 0, sizeof(value) };
   const VkSpecializationInfo spec = {
      .mapEntryCount = 1,
      .pMapEntries = &entry,
      .dataSize = sizeof(value),
      .pData = &value,
   };
   const VkComputePipelineCreateInfo cpinfo = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_COMPUTE_BIT,
         .module = shader,
         .pName = "main",
         .pSpecializationInfo = &spec,
      },
      .layout = layout,
   };
   VkPipeline pipeline = NEW_HANDLE(VkPipeline);
   CALL(&tc, true, r, vkCreateComputePipelines, device, VK_NULL_HANDLE, 1, &cpinfo, NULL,
        &pipeline);
   CHECK_EQ(r, VK_SUCCESS);
   CHECK(!(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL));

   /* the same entry 256 MiB past the 4 bytes of pData */
   entry.offset = 256u << 20;
   VkPipeline bad = NEW_HANDLE(VkPipeline);
   tc_begin(&tc, false);
   vp_encode_vkCreateComputePipelines(&tc.enc, 0, device, VK_NULL_HANDLE, 1, &cpinfo, NULL, &bad);
   CHECK(!tc_flush(&tc, true));
   CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   tc_close(&tc);
}

/* A client of its own with a device of `exts`, `features` chained into
 * vkCreateDevice: false where the host does not list one of the first
 * `listed` extensions (the test skips) or the device was not created. */
static bool
ext_device(struct tc *tc,
           uint32_t api_version,
           const char *const *exts,
           uint32_t ext_count,
           uint32_t listed,
           const void *features,
           VkDevice *out)
{
   VkResult r;
   if (!tc_connect(tc))
      return false;
   CHECK(tc_create_ring(tc, 1000000, 0));
   if (!tc->ring_map || compute_family == UINT32_MAX)
      return false;
   static const char *const iexts[] = { "VK_EXT_command_serialization",
                                        "VK_MESA_venus_protocol" };
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .apiVersion = api_version,
   };
   const VkInstanceCreateInfo iinfo = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
      .enabledExtensionCount = 2,
      .ppEnabledExtensionNames = iexts,
   };
   VkInstance inst = NEW_HANDLE(VkInstance);
   CALL(tc, false, r, vkCreateInstance, &iinfo, NULL, &inst);
   CHECK_EQ(r, VK_SUCCESS);
   uint32_t count = 1;
   VkPhysicalDevice pd = NEW_HANDLE(VkPhysicalDevice);
   CALL(tc, false, r, vkEnumeratePhysicalDevices, inst, &count, &pd);
   CHECK(r == VK_SUCCESS || r == VK_INCOMPLETE);
   static VkExtensionProperties props[512];
   count = 512;
   CALL(tc, false, r, vkEnumerateDeviceExtensionProperties, pd, NULL, &count, props);
   for (uint32_t e = 0; e < listed; e++) {
      bool found = false;
      for (uint32_t i = 0; i < count; i++)
         found |= !strcmp(props[i].extensionName, exts[e]);
      if (!found) {
         fprintf(stderr, "  the host has no %s: skipped\n", exts[e]);
         return false;
      }
   }
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = compute_family,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo dinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = features,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qinfo,
      .enabledExtensionCount = ext_count,
      .ppEnabledExtensionNames = exts,
   };
   VkDevice device = NEW_HANDLE(VkDevice);
   CALL(tc, true, r, vkCreateDevice, pd, &dinfo, NULL, &device);
   CHECK_EQ(r, VK_SUCCESS);
   *out = device;
   return r == VK_SUCCESS;
}

/* Ray tracing (renderer.md "Ray tracing"), where the host has it (lavapipe
 * 25; skipped on lavapipe 22): a ray tracing group naming a stage the
 * pipeline lacks, group handles of a pipeline without groups, and a
 * build-size query without pMaxPrimitiveCounts each make the context fatal;
 * the same query with its counts is answered. */
static bool
rt_device(struct tc *tc, VkDevice *out)
{
   /* the renderer does not list VK_KHR_deferred_host_operations (the
    * driver's own), which the host has with the other two */
   static const char *const exts[] = { "VK_KHR_acceleration_structure",
                                       "VK_KHR_ray_tracing_pipeline",
                                       "VK_KHR_deferred_host_operations" };
   static VkPhysicalDeviceRayTracingPipelineFeaturesKHR rtp = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_RAY_TRACING_PIPELINE_FEATURES_KHR,
      .rayTracingPipeline = VK_TRUE,
   };
   static VkPhysicalDeviceAccelerationStructureFeaturesKHR as = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ACCELERATION_STRUCTURE_FEATURES_KHR,
      .pNext = &rtp,
      .accelerationStructure = VK_TRUE,
   };
   static const VkPhysicalDeviceVulkan12Features v12 = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
      .pNext = &as,
      .bufferDeviceAddress = VK_TRUE,
   };
   return ext_device(tc, VK_API_VERSION_1_2, exts, 3, 2, &v12, out);
}

/* one triangle geometry of three vertices at a made-up device address (the
 * size query reads no geometry data) */
static const VkAccelerationStructureGeometryKHR rt_triangle = {
   .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_KHR,
   .geometryType = VK_GEOMETRY_TYPE_TRIANGLES_KHR,
   .geometry.triangles = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_GEOMETRY_TRIANGLES_DATA_KHR,
      .vertexFormat = VK_FORMAT_R32G32B32_SFLOAT,
      .vertexStride = 12,
      .maxVertex = 2,
      .indexType = VK_INDEX_TYPE_NONE_KHR,
   },
};

/* Commands in an order the host driver does not expect (lavapipe
 * dereferences NULL at a vkCmdEndRenderPass outside a render pass) are fatal
 * before the host sees them: vk.xml's render-pass scope and command buffer
 * level, and the command buffer's recording state. A valid order in the
 * same command buffer is accepted. Each case is a client of its own. */
enum order_case {
   ORDER_VALID,
   ORDER_END_PASS_OUTSIDE,
   ORDER_DRAW_OUTSIDE,
   ORDER_NOT_BEGUN,
   ORDER_AFTER_END,
   ORDER_PRIMARY_ONLY_IN_SECONDARY,
   /* a secondary begun with RENDER_PASS_CONTINUE records inside the pass:
    * a draw is accepted, a primary-only vkCmdNextSubpass is not */
   ORDER_CONTINUE_VALID,
   ORDER_CONTINUE_NEXT_SUBPASS,
   ORDER_CASES,
};

static void
command_order_case(enum order_case which)
{
   struct tc tc;
   VkDevice device;
   if (!ext_device(&tc, VK_API_VERSION_1_1, NULL, 0, 0, NULL, &device)) {
      tc_close(&tc);
      return;
   }
   const VkCommandPoolCreateInfo pinfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
      .queueFamilyIndex = compute_family,
   };
   VkCommandPool pool = NEW_HANDLE(VkCommandPool);
   VkResult r;
   CALL(&tc, true, r, vkCreateCommandPool, device, &pinfo, NULL, &pool);
   CHECK_EQ(r, VK_SUCCESS);
   const bool secondary = which == ORDER_PRIMARY_ONLY_IN_SECONDARY ||
                          which == ORDER_CONTINUE_VALID || which == ORDER_CONTINUE_NEXT_SUBPASS;
   const bool in_pass = which == ORDER_CONTINUE_VALID || which == ORDER_CONTINUE_NEXT_SUBPASS;
   if (in_pass && !compute_family_graphics) {
      tc_close(&tc);
      return;
   }
   /* one subpass, no attachments */
   VkRenderPass render_pass = VK_NULL_HANDLE;
   if (in_pass) {
      const VkSubpassDescription subpass = {
         .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
      };
      const VkRenderPassCreateInfo rpinfo = {
         .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
         .subpassCount = 1,
         .pSubpasses = &subpass,
      };
      render_pass = NEW_HANDLE(VkRenderPass);
      ASYNC(&tc, true, vkCreateRenderPass, device, &rpinfo, NULL, &render_pass);
   }
   const VkCommandBufferAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = pool,
      .level = secondary ? VK_COMMAND_BUFFER_LEVEL_SECONDARY : VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
   };
   VkCommandBuffer cmd = NEW_HANDLE(VkCommandBuffer);
   CALL(&tc, true, r, vkAllocateCommandBuffers, device, &ainfo, &cmd);
   CHECK_EQ(r, VK_SUCCESS);
   const VkCommandBufferInheritanceInfo inherit = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_INHERITANCE_INFO,
      .renderPass = render_pass,
   };
   const VkCommandBufferBeginInfo binfo = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
      .flags = in_pass ? VK_COMMAND_BUFFER_USAGE_RENDER_PASS_CONTINUE_BIT : 0,
      .pInheritanceInfo = secondary ? &inherit : NULL,
   };

   tc_begin(&tc, false);
   if (which != ORDER_NOT_BEGUN)
      vp_encode_vkBeginCommandBuffer(&tc.enc, 0, cmd, &binfo);
   switch (which) {
   case ORDER_VALID:
      /* renderpass="both", then the end */
      vp_encode_vkCmdPipelineBarrier(&tc.enc, 0, cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                                     VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0, NULL,
                                     0, NULL);
      vp_encode_vkEndCommandBuffer(&tc.enc, 0, cmd);
      break;
   case ORDER_END_PASS_OUTSIDE:
   case ORDER_PRIMARY_ONLY_IN_SECONDARY:
      vp_encode_vkCmdEndRenderPass(&tc.enc, 0, cmd);
      break;
   case ORDER_DRAW_OUTSIDE:
      vp_encode_vkCmdDraw(&tc.enc, 0, cmd, 3, 1, 0, 0);
      break;
   case ORDER_NOT_BEGUN:
      vp_encode_vkCmdDispatch(&tc.enc, 0, cmd, 1, 1, 1);
      break;
   case ORDER_AFTER_END:
      vp_encode_vkEndCommandBuffer(&tc.enc, 0, cmd);
      vp_encode_vkCmdDispatch(&tc.enc, 0, cmd, 1, 1, 1);
      break;
   case ORDER_CONTINUE_VALID:
      /* renderpass="inside" (recorded, never submitted), then the end,
       * which a secondary may reach inside the pass */
      vp_encode_vkCmdDraw(&tc.enc, 0, cmd, 3, 1, 0, 0);
      vp_encode_vkEndCommandBuffer(&tc.enc, 0, cmd);
      break;
   case ORDER_CONTINUE_NEXT_SUBPASS:
      vp_encode_vkCmdNextSubpass(&tc.enc, 0, cmd, VK_SUBPASS_CONTENTS_INLINE);
      break;
   case ORDER_CASES:
      break;
   }
   if (which == ORDER_VALID || which == ORDER_CONTINUE_VALID) {
      CHECK(tc_flush(&tc, true));
      /* a round trip after it: the ring went on */
      CALL(&tc, true, r, vkResetCommandBuffer, cmd, 0);
      CHECK_EQ(r, VK_SUCCESS);
      CHECK(!(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL));
   } else {
      CHECK(!tc_flush(&tc, true));
      CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   }
   tc_close(&tc);
}

TEST(hostile_command_order)
{
   for (int i = 0; i < ORDER_CASES; i++)
      command_order_case((enum order_case)i);
}

TEST(hostile_ray_tracing)
{
   struct tc tc;
   VkDevice device;
   if (!rt_device(&tc, &device)) {
      tc_close(&tc);
      return;
   }
   /* the size query, answered */
   const VkAccelerationStructureBuildGeometryInfoKHR build = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_GEOMETRY_INFO_KHR,
      .type = VK_ACCELERATION_STRUCTURE_TYPE_BOTTOM_LEVEL_KHR,
      .mode = VK_BUILD_ACCELERATION_STRUCTURE_MODE_BUILD_KHR,
      .geometryCount = 1,
      .pGeometries = &rt_triangle,
   };
   const uint32_t prims = 1;
   VkAccelerationStructureBuildSizesInfoKHR sizes = {
      .sType = VK_STRUCTURE_TYPE_ACCELERATION_STRUCTURE_BUILD_SIZES_INFO_KHR,
   };
   CALL_VOID(&tc, true, vkGetAccelerationStructureBuildSizesKHR, device,
             VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, &build, &prims, &sizes);
   CHECK(sizes.accelerationStructureSize > 0);
   CHECK(!(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL));
   /* ... and without its counts: the host would read pMaxPrimitiveCounts[0] */
   tc_begin(&tc, false);
   vp_encode_vkGetAccelerationStructureBuildSizesKHR(
      &tc.enc, 0, device, VK_ACCELERATION_STRUCTURE_BUILD_TYPE_DEVICE_KHR, &build, NULL, &sizes);
   CHECK(!tc_flush(&tc, true));
   CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   tc_close(&tc);

   /* a general group naming stage 0 of a pipeline without stages */
   if (!rt_device(&tc, &device)) {
      tc_close(&tc);
      return;
   }
   const VkRayTracingShaderGroupCreateInfoKHR group = {
      .sType = VK_STRUCTURE_TYPE_RAY_TRACING_SHADER_GROUP_CREATE_INFO_KHR,
      .type = VK_RAY_TRACING_SHADER_GROUP_TYPE_GENERAL_KHR,
      .generalShader = 0,
      .closestHitShader = VK_SHADER_UNUSED_KHR,
      .anyHitShader = VK_SHADER_UNUSED_KHR,
      .intersectionShader = VK_SHADER_UNUSED_KHR,
   };
   const VkRayTracingPipelineCreateInfoKHR rtinfo = {
      .sType = VK_STRUCTURE_TYPE_RAY_TRACING_PIPELINE_CREATE_INFO_KHR,
      .groupCount = 1,
      .pGroups = &group,
      .maxPipelineRayRecursionDepth = 1,
   };
   VkPipeline pipeline = NEW_HANDLE(VkPipeline);
   tc_begin(&tc, false);
   vp_encode_vkCreateRayTracingPipelinesKHR(&tc.enc, 0, device, VK_NULL_HANDLE, VK_NULL_HANDLE,
                                            1, &rtinfo, NULL, &pipeline);
   CHECK(!tc_flush(&tc, true));
   CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   tc_close(&tc);

   /* group handles of a compute pipeline (no groups) */
   if (!rt_device(&tc, &device)) {
      tc_close(&tc);
      return;
   }
   VkResult r;
   const VkShaderModuleCreateInfo sinfo = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = sizeof(renderer_compute_spv),
      .pCode = renderer_compute_spv,
   };
   VkShaderModule shader = NEW_HANDLE(VkShaderModule);
   CALL(&tc, true, r, vkCreateShaderModule, device, &sinfo, NULL, &shader);
   CHECK_EQ(r, VK_SUCCESS);
   const VkDescriptorSetLayoutBinding binding = {
      .binding = 0,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
   };
   const VkDescriptorSetLayoutCreateInfo dslinfo = {
      .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
      .bindingCount = 1,
      .pBindings = &binding,
   };
   VkDescriptorSetLayout dsl = NEW_HANDLE(VkDescriptorSetLayout);
   ASYNC(&tc, true, vkCreateDescriptorSetLayout, device, &dslinfo, NULL, &dsl);
   const VkPushConstantRange range = { VK_SHADER_STAGE_COMPUTE_BIT, 0, 4 };
   const VkPipelineLayoutCreateInfo plinfo = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
      .setLayoutCount = 1,
      .pSetLayouts = &dsl,
      .pushConstantRangeCount = 1,
      .pPushConstantRanges = &range,
   };
   VkPipelineLayout layout = NEW_HANDLE(VkPipelineLayout);
   ASYNC(&tc, true, vkCreatePipelineLayout, device, &plinfo, NULL, &layout);
   const VkComputePipelineCreateInfo cpinfo = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage = {
         .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
         .stage = VK_SHADER_STAGE_COMPUTE_BIT,
         .module = shader,
         .pName = "main",
      },
      .layout = layout,
   };
   VkPipeline compute = NEW_HANDLE(VkPipeline);
   CALL(&tc, true, r, vkCreateComputePipelines, device, VK_NULL_HANDLE, 1, &cpinfo, NULL,
        &compute);
   CHECK_EQ(r, VK_SUCCESS);
   CHECK(!(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL));
   uint8_t handles[256];
   tc_begin(&tc, true);
   vp_encode_vkGetRayTracingShaderGroupHandlesKHR(&tc.enc, VK_COMMAND_GENERATE_REPLY_BIT_EXT,
                                                  device, compute, 0, 1, sizeof(handles),
                                                  handles);
   CHECK(!tc_flush(&tc, true));
   CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   tc_close(&tc);
}

/* Host image copies (vkCopyMemoryToImageMESA / vkCopyImageToMemoryMESA,
 * renderer.md), where the host has them (lavapipe 25; a renderer built
 * with a registry that has VK_EXT_host_image_copy): pixels up and back
 * through the stream, then a region that addresses more bytes than the
 * command carries, a read into less room than the region needs (the host
 * would read or write past the renderer's buffers), a read without a reply
 * to write into and a write to a mip level the image lacks, each fatal. */
#if VP_VENUS_PROTOCOL_SPEC_VERSION >= 3
enum { HC_W = 16, HC_H = 8, HC_BYTES = HC_W * HC_H * 4 };

static bool
host_copy_device(struct tc *tc, VkDevice *device, VkImage *image)
{
   static const char *const exts[] = { "VK_EXT_host_image_copy" };
   static const VkPhysicalDeviceHostImageCopyFeaturesEXT hic = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_IMAGE_COPY_FEATURES_EXT,
      .hostImageCopy = VK_TRUE,
   };
   if (!ext_device(tc, VK_API_VERSION_1_3, exts, 1, 1, &hic, device))
      return false;
   VkResult r;
   const VkImageCreateInfo iinfo = {
      .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
      .imageType = VK_IMAGE_TYPE_2D,
      .format = VK_FORMAT_R8G8B8A8_UNORM,
      .extent = { HC_W, HC_H, 1 },
      .mipLevels = 1,
      .arrayLayers = 1,
      .samples = VK_SAMPLE_COUNT_1_BIT,
      .tiling = VK_IMAGE_TILING_OPTIMAL,
      .usage = VK_IMAGE_USAGE_HOST_TRANSFER_BIT_EXT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
   };
   *image = NEW_HANDLE(VkImage);
   CALL(tc, true, r, vkCreateImage, *device, &iinfo, NULL, image);
   CHECK_EQ(r, VK_SUCCESS);
   VkMemoryRequirements reqs;
   CALL_VOID(tc, true, vkGetImageMemoryRequirements, *device, *image, &reqs);
   CHECK(reqs.memoryTypeBits != 0);
   const VkMemoryAllocateInfo ainfo = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .allocationSize = reqs.size,
      .memoryTypeIndex = (uint32_t)__builtin_ctz(reqs.memoryTypeBits | 0x80000000u),
   };
   VkDeviceMemory memory = NEW_HANDLE(VkDeviceMemory);
   ASYNC(tc, true, vkAllocateMemory, *device, &ainfo, NULL, &memory);
   CALL(tc, true, r, vkBindImageMemory, *device, *image, memory, 0);
   CHECK_EQ(r, VK_SUCCESS);
   const VkHostImageLayoutTransitionInfoEXT transition = {
      .sType = VK_STRUCTURE_TYPE_HOST_IMAGE_LAYOUT_TRANSITION_INFO_EXT,
      .image = *image,
      .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
      .newLayout = VK_IMAGE_LAYOUT_GENERAL,
      .subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
   };
   CALL(tc, true, r, vkTransitionImageLayoutEXT, *device, 1, &transition);
   CHECK_EQ(r, VK_SUCCESS);
   return r == VK_SUCCESS;
}

static void
host_copy_region(VkImage image, uint8_t *pixels, size_t size, uint32_t row_length,
                 VkMemoryToImageCopyMESA *region, VkCopyMemoryToImageInfoMESA *info)
{
   *region = (VkMemoryToImageCopyMESA){
      .sType = VK_STRUCTURE_TYPE_MEMORY_TO_IMAGE_COPY_MESA,
      .dataSize = size,
      .pData = pixels,
      .memoryRowLength = row_length,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { HC_W, HC_H, 1 },
   };
   *info = (VkCopyMemoryToImageInfoMESA){
      .sType = VK_STRUCTURE_TYPE_COPY_MEMORY_TO_IMAGE_INFO_MESA,
      .dstImage = image,
      .dstImageLayout = VK_IMAGE_LAYOUT_GENERAL,
      .regionCount = 1,
      .pRegions = region,
   };
}
#endif

TEST(host_copy)
{
#if VP_VENUS_PROTOCOL_SPEC_VERSION < 3
   fprintf(stderr, "  built without VK_EXT_host_image_copy: skipped\n");
#else
   struct tc tc;
   VkDevice device;
   VkImage image;
   VkResult r;
   static uint8_t pixels[HC_BYTES], back[HC_BYTES];
   for (uint32_t i = 0; i < HC_BYTES; i++)
      pixels[i] = (uint8_t)(i * 7 + 3);
   if (!host_copy_device(&tc, &device, &image)) {
      tc_close(&tc);
      return;
   }
   VkMemoryToImageCopyMESA region;
   VkCopyMemoryToImageInfoMESA info;
   host_copy_region(image, pixels, sizeof(pixels), 0, &region, &info);
   CALL(&tc, true, r, vkCopyMemoryToImageMESA, device, &info);
   CHECK_EQ(r, VK_SUCCESS);
   VkCopyImageToMemoryInfoMESA rinfo = {
      .sType = VK_STRUCTURE_TYPE_COPY_IMAGE_TO_MEMORY_INFO_MESA,
      .srcImage = image,
      .srcImageLayout = VK_IMAGE_LAYOUT_GENERAL,
      .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
      .imageExtent = { HC_W, HC_H, 1 },
   };
   CALL(&tc, true, r, vkCopyImageToMemoryMESA, device, &rinfo, sizeof(back), back);
   CHECK_EQ(r, VK_SUCCESS);
   CHECK(!memcmp(back, pixels, sizeof(back)));
   CHECK(!(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL));
   /* rows of 17 texels: the region addresses (7 * 17 + 16) * 4 bytes, more
    * than the stream carries */
   host_copy_region(image, pixels, sizeof(pixels), HC_W + 1, &region, &info);
   tc_begin(&tc, false);
   vp_encode_vkCopyMemoryToImageMESA(&tc.enc, 0, device, &info);
   CHECK(!tc_flush(&tc, true));
   CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   tc_close(&tc);

   /* reads after the same read with room and a reply, so that one thing
    * alone makes each fatal: 4 bytes less room than the region (a reply
    * asked for, into a reply stream), and no reply to write into (the host
    * writes the pixels where the reply carries them) */
   for (int no_reply = 0; no_reply < 2; no_reply++) {
      if (!host_copy_device(&tc, &device, &image)) {
         tc_close(&tc);
         return;
      }
      rinfo.srcImage = image;
      CALL(&tc, true, r, vkCopyImageToMemoryMESA, device, &rinfo, sizeof(back), back);
      CHECK_EQ(r, VK_SUCCESS);
      CHECK(!(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL));
      tc_begin(&tc, !no_reply);
      vp_encode_vkCopyImageToMemoryMESA(&tc.enc, no_reply ? 0 : VK_COMMAND_GENERATE_REPLY_BIT_EXT,
                                        device, &rinfo, sizeof(back) - (no_reply ? 0 : 4), back);
      CHECK(!tc_flush(&tc, true));
      CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
      tc_close(&tc);
   }

   /* a write to mip level 1 of a one-level image */
   if (!host_copy_device(&tc, &device, &image)) {
      tc_close(&tc);
      return;
   }
   host_copy_region(image, pixels, sizeof(pixels), 0, &region, &info);
   region.imageSubresource.mipLevel = 1;
   tc_begin(&tc, false);
   vp_encode_vkCopyMemoryToImageMESA(&tc.enc, 0, device, &info);
   CHECK(!tc_flush(&tc, true));
   CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   tc_close(&tc);
#endif
}

TEST(hostile_ring)
{
   struct tc tc;
   CHECK(tc_connect(&tc));
   CHECK(tc_create_ring(&tc, 1000000, 0));
   if (tc.ring_map) {
      const uint32_t garbage[4] = { 9999, 0, 1, 2 };
      CHECK(!ring_submit(&tc, garbage, sizeof(garbage)));
      const uint64_t deadline = vu_os_time_ns() + WAIT_NS;
      while (!(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL) &&
             vu_os_time_ns() < deadline)
         usleep(1000);
      CHECK(atomic_load(RING_STATUS(&tc)) & VW_RING_STATUS_FATAL);
   }
   tc_close(&tc);
}

/* A client that hangs up while its context path waits, without a timeout, for
 * a fence nothing will ever signal (ring: the context path waits for the
 * ring, whose thread waits for the fence): the worker sees the hang-up at the
 * wait's next slice, makes the context fatal and ends, long before the server
 * would kill it (--worker-grace-ms, 10 s by default). */
static void
hangup_in_wait(bool ring)
{
   pid_t before[256];
   const int n_before = harness_children(server_pid, false, before, 256);
   struct tc tc;
   VkDevice device;
   if (!ext_device(&tc, VK_API_VERSION_1_1, NULL, 0, 0, NULL, &device)) {
      tc_close(&tc);
      return;
   }
   const pid_t worker = harness_new_child(server_pid, before, n_before < 256 ? n_before : 256);
   CHECK(worker > 0);

   VkResult r;
   const VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence = NEW_HANDLE(VkFence);
   CALL(&tc, false, r, vkCreateFence, device, &finfo, NULL, &fence);
   CHECK_EQ(r, VK_SUCCESS);
   /* the wait, sent without waiting for it */
   tc_begin(&tc, false);
   vp_encode_vkWaitForFences(&tc.enc, 0, device, 1, &fence, VK_TRUE, UINT64_MAX);
   const uint32_t size = (uint32_t)vp_encoder_size(&tc.enc);
   if (ring) {
      memcpy(RING_BUF(&tc) + (tc.tail & (RING_BUFFER_SIZE - 1)), tc.enc.base, size);
      tc.tail += size;
      atomic_store_explicit(RING_TAIL(&tc), tc.tail, memory_order_release);
      vu_os_futex_wake((const uint32_t *)RING_TAIL(&tc), 1);
      tc_begin(&tc, false);
      vp_encode_vkWaitRingSeqnoMESA(&tc.enc, 0, RING_ID, tc.tail);
   }
   const struct vw_vtest_submit_batch batch = { .cmd = tc.enc.base,
                                                .cmd_size = vp_encoder_size(&tc.enc) };
   CHECK(vw_vtest_submit_cmd2(tc.vt, &batch, 1));
   usleep(500000);
   CHECK(harness_is_live_child(server_pid, worker)); /* waiting, while its client is there */

   tc_close(&tc);
   const uint64_t start = vu_os_time_ns();
   while (worker > 0 && harness_is_live_child(server_pid, worker) && vu_os_time_ns() - start < 8000000000ull)
      usleep(10000);
   fprintf(stderr, "  worker gone %llu ms after the hang-up\n",
           (unsigned long long)((vu_os_time_ns() - start) / 1000000));
   CHECK(worker > 0 && !harness_is_live_child(server_pid, worker));
}

TEST(hangup_in_wait)
{
   hangup_in_wait(false);
   hangup_in_wait(true);
}

TEST(main_client_survived)
{
   struct tc *tc = &main_tc;
   VkResult r;
   uint32_t version = 0;
   if (!tc->ring_map) {
      tc_close(tc);
      return;
   }
   CALL(tc, true, r, vkEnumerateInstanceVersion, &version);
   CHECK_EQ(r, VK_SUCCESS);
   CALL_VOID(tc, false, vkDestroyInstance, instance, NULL);
   ASYNC(tc, false, vkDestroyRingMESA, RING_ID);
   CHECK(vw_vtest_resource_unref(tc->vt, tc->ring_res));
   CHECK(tc_roundtrip(tc));
   tc_close(tc);
}

TEST(stop_server)
{
   if (server_pid > 0) {
      kill(server_pid, SIGTERM);
      int status = 0;
      waitpid(server_pid, &status, 0);
   }
   unlink(sock_path);
   rmdir(tmp_dir);
}

RUN_TESTS(start_server,
          capset,
          instance,
          ring_monitor_and_idle,
          compute,
          queue_flags,
          hostile_streams,
          hostile_pipeline,
          hostile_ray_tracing,
          hostile_command_order,
          host_copy,
          hostile_ring,
          hangup_in_wait,
          main_client_survived,
          stop_server)
