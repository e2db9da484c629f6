/*
 * The VMM library (src/vmm, libvirglrenderer.so.1) driven the way QEMU
 * drives it, without a VM: capsets, refused non-Venus contexts, a Venus
 * context with a mapped blob and fences delivered by virgl_renderer_poll, a
 * garbage stream that makes only that context fatal (its fences still
 * signal), the context's worker sandboxed, 2D resources with hostile boxes
 * and backings, workers that end (or are killed) after their context is
 * destroyed in the middle of a wait, and no worker left after cleanup. Needs a host Vulkan driver (suite 'renderer').
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "harness_proc.h"
#include "protocol/vp_cs.h"
#include "transport/vw_capset.h"
#include "vp_protocol.h"
#include "vmm/virglrenderer.h"

struct fence_log {
   uint32_t ctx_id, ring_idx;
   uint64_t fence_id;
   uint32_t count;
   uint32_t ctx0_fence;
   uint32_t ctx0_count;
};
static struct fence_log fences;

static void
on_write_fence(void *cookie, uint32_t fence)
{
   fences.ctx0_fence = fence;
   fences.ctx0_count++;
}

static void
on_write_context_fence(void *cookie, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   fences.ctx_id = ctx_id;
   fences.ring_idx = ring_idx;
   fences.fence_id = fence_id;
   fences.count++;
}

static struct virgl_renderer_callbacks cbs = {
   .version = 3,
   .write_fence = on_write_fence,
   .write_context_fence = on_write_context_fence,
};

/* polls like QEMU's 10 ms timer until a context fence (ctx, ring, id) came */
static bool
wait_context_fence(uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   for (int i = 0; i < 1000; i++) {
      virgl_renderer_poll();
      if (fences.count && fences.ctx_id == ctx_id && fences.ring_idx == ring_idx &&
          fences.fence_id == fence_id)
         return true;
      usleep(10000);
   }
   return false;
}

TEST(capsets_before_init)
{
   uint32_t ver = 99, size = 99;
   virgl_renderer_get_cap_set(4, &ver, &size);
   CHECK_EQ(ver, VW_CAPSET_VENUS_EXT_VERSION);
   CHECK_EQ(size, sizeof(struct vw_capset_ext));
   /* version 0 as virglrenderer's (tag and flags zero: Mesa reads 160
    * bytes), version 1 with our tag and blob imports (vw_capset.h) */
   struct vw_capset_ext caps[2];
   memset(caps, 0xee, sizeof(caps));
   virgl_renderer_fill_caps(4, 0, &caps[0]);
   virgl_renderer_fill_caps(4, 1, &caps[1]);
   CHECK_EQ(caps[0].base.wire_format_version, 1);
   CHECK_EQ(caps[0].tag, 0);
   CHECK_EQ(caps[0].flags, 0);
   CHECK(!memcmp(&caps[0].base, &caps[1].base, sizeof(caps[0].base)));
   CHECK_EQ(caps[1].tag, VW_CAPSET_EXT_TAG);
   CHECK_EQ(caps[1].flags, VW_CAPSET_EXT_BLOB_IMPORT);
   /* an unknown version fills nothing */
   struct vw_capset_ext untouched;
   memset(&untouched, 0xee, sizeof(untouched));
   virgl_renderer_fill_caps(4, 2, &untouched);
   CHECK_EQ(untouched.tag, 0xeeeeeeeeu);
   for (uint32_t set = 0; set < 8; set++) {
      if (set == 4)
         continue;
      virgl_renderer_get_cap_set(set, &ver, &size);
      CHECK_EQ(size, 0);
   }
}

TEST(init_and_refused_contexts)
{
   CHECK_EQ(virgl_renderer_init(NULL, VIRGL_RENDERER_VENUS | VIRGL_RENDERER_RENDER_SERVER,
                                &cbs),
            0);
   CHECK(virgl_renderer_init(NULL, VIRGL_RENDERER_VENUS, &cbs) != 0);
   CHECK(virgl_renderer_context_create(1, 3, "gl!") != 0);
   CHECK(virgl_renderer_context_create_with_flags(2, 1, 3, "gl!") != 0);
   CHECK(virgl_renderer_context_create_with_flags(2, 2, 3, "gl!") != 0);
   CHECK(virgl_renderer_context_create_with_flags(0, 4, 3, "bad") != 0);
   uint32_t cmd[4] = { 0 };
   CHECK(virgl_renderer_submit_cmd(cmd, 2, 4) != 0);
   CHECK(virgl_renderer_submit_cmd(cmd, 77, 4) != 0);
   CHECK(virgl_renderer_context_create_fence(2, 0, 0, 1) != 0);
   virgl_renderer_context_destroy(2);
   virgl_renderer_ctx_attach_resource(99, 99);
   virgl_renderer_ctx_detach_resource(99, 99);
   virgl_renderer_resource_unref(12345);
}

/* Counts this process's children (the workers) whose /proc status shows the
 * sandbox (docs/sandbox.md): a seccomp filter and no new privileges. */
static int
count_sandboxed_workers(int *out_total)
{
   char path[64], line[256];
   int sandboxed = 0;
   *out_total = 0;
   snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
   FILE *f = fopen(path, "r");
   if (!f)
      return -1;
   int pid;
   while (fscanf(f, "%d", &pid) == 1) {
      snprintf(path, sizeof(path), "/proc/%d/status", pid);
      FILE *st = fopen(path, "r");
      if (!st)
         continue;
      bool has_filter = false, has_nnp = false;
      while (fgets(line, sizeof(line), st)) {
         has_filter |= !strcmp(line, "Seccomp:\t2\n");
         has_nnp |= !strcmp(line, "NoNewPrivs:\t1\n");
      }
      fclose(st);
      (*out_total)++;
      sandboxed += has_filter && has_nnp;
   }
   fclose(f);
   return sandboxed;
}

TEST(venus_context_blobs_and_fences)
{
   CHECK_EQ(virgl_renderer_context_create_with_flags(5, 4, 8, "vmm-test"), 0);
   /* the context's worker answered: its sandbox is up (unless turned off) */
   const char *sandbox = getenv("VENUS_SANDBOX");
   if (!sandbox || strcmp(sandbox, "0")) {
      int workers = 0;
      const int sandboxed = count_sandboxed_workers(&workers);
      CHECK(workers >= 1);
      CHECK_EQ(sandboxed, workers);
   }
   CHECK(virgl_renderer_context_create_with_flags(5, 4, 8, "vmm-test") != 0);

   struct virgl_renderer_resource_create_blob_args args = {
      .res_handle = 10,
      .ctx_id = 5,
      .blob_mem = VIRGL_RENDERER_BLOB_MEM_HOST3D,
      .blob_flags = VIRGL_RENDERER_BLOB_FLAG_USE_MAPPABLE,
      .size = 8192,
   };
   CHECK_EQ(virgl_renderer_resource_create_blob(&args), 0);
   CHECK(virgl_renderer_resource_create_blob(&args) != 0); /* id in use */

   struct virgl_renderer_resource_create_blob_args bad = args;
   bad.res_handle = 11;
   bad.blob_mem = VIRGL_RENDERER_BLOB_MEM_GUEST;
   CHECK(virgl_renderer_resource_create_blob(&bad) != 0);
   bad.blob_mem = VIRGL_RENDERER_BLOB_MEM_HOST3D;
   bad.size = 0;
   CHECK(virgl_renderer_resource_create_blob(&bad) != 0);
   bad.size = 1ull << 62;
   CHECK(virgl_renderer_resource_create_blob(&bad) != 0);
   bad.size = 4096;
   bad.ctx_id = 6;
   CHECK(virgl_renderer_resource_create_blob(&bad) != 0);
   bad.ctx_id = 5;
   bad.blob_id = 0xdead; /* no such VkDeviceMemory */
   CHECK(virgl_renderer_resource_create_blob(&bad) != 0);
   CHECK(virgl_renderer_resource_create_blob(NULL) != 0);

   struct virgl_renderer_resource_info info;
   CHECK_EQ(virgl_renderer_resource_get_info(10, &info), 0);
   CHECK_EQ(info.fd, -1);
   CHECK(virgl_renderer_resource_get_info(11, &info) != 0);

   void *map = NULL;
   uint64_t size = 0;
   CHECK_EQ(virgl_renderer_resource_map(10, &map, &size), 0);
   CHECK(map != NULL);
   CHECK_EQ(size, 8192);
   memset(map, 0x5a, size); /* writable, whole size */
   uint32_t map_info = 0;
   CHECK_EQ(virgl_renderer_resource_get_map_info(10, &map_info), 0);
   CHECK_EQ(map_info, VIRGL_RENDERER_MAP_CACHE_CACHED);
   CHECK_EQ(virgl_renderer_resource_unmap(10), 0);
   CHECK(virgl_renderer_resource_unmap(10) != 0);
   CHECK(virgl_renderer_resource_map(11, &map, &size) != 0);

   /* timeline 0: retired once the worker has read everything before it */
   CHECK_EQ(virgl_renderer_context_create_fence(5, VIRGL_RENDERER_FENCE_FLAG_MERGEABLE, 0, 7),
            0);
   CHECK(wait_context_fence(5, 0, 7));
   CHECK(virgl_renderer_context_create_fence(5, 0, 64, 8) != 0);
   /* a timeline without a queue: a guest error, signalled at once */
   CHECK_EQ(virgl_renderer_context_create_fence(5, 0, 3, 9), 0);
   CHECK(wait_context_fence(5, 3, 9));
   /* context 0 fences */
   CHECK_EQ(virgl_renderer_create_fence(33, 0), 0);
   virgl_renderer_poll();
   CHECK_EQ(fences.ctx0_fence, 33);

   /* garbage: the context turns fatal, its fences still signal */
   uint32_t garbage[16];
   for (int i = 0; i < 16; i++)
      garbage[i] = 0xdeadbeefu * (uint32_t)(i + 1);
   CHECK_EQ(virgl_renderer_submit_cmd(garbage, 5, 16), 0);
   CHECK_EQ(virgl_renderer_context_create_fence(5, 0, 2, 41), 0);
   CHECK(wait_context_fence(5, 2, 41));
   CHECK(virgl_renderer_submit_cmd(garbage, 5, -1) != 0);

   /* another context is unaffected */
   CHECK_EQ(virgl_renderer_context_create_with_flags(6, 4, 5, "other"), 0);
   args.res_handle = 12;
   args.ctx_id = 6;
   CHECK_EQ(virgl_renderer_resource_create_blob(&args), 0);
   CHECK_EQ(virgl_renderer_context_create_fence(6, 0, 0, 50), 0);
   CHECK(wait_context_fence(6, 0, 50));

   virgl_renderer_context_destroy(5);
   virgl_renderer_resource_unref(10);
   virgl_renderer_context_destroy(6);
   virgl_renderer_resource_unref(12);
}

TEST(two_d_resources)
{
   struct virgl_renderer_resource_create_args args = {
      .handle = 20, .target = 2, .format = 1, .bind = 2, .width = 64, .height = 32,
      .depth = 1, .array_size = 1,
   };
   CHECK_EQ(virgl_renderer_resource_create(&args, NULL, 0), 0);
   CHECK(virgl_renderer_resource_create(&args, NULL, 0) != 0);
   struct virgl_renderer_resource_create_args bad = args;
   bad.handle = 21;
   bad.width = 0;
   CHECK(virgl_renderer_resource_create(&bad, NULL, 0) != 0);
   bad.width = 1u << 20;
   CHECK(virgl_renderer_resource_create(&bad, NULL, 0) != 0);
   bad.width = 64;
   bad.handle = 0;
   CHECK(virgl_renderer_resource_create(&bad, NULL, 0) != 0);

   static uint8_t backing[64 * 32 * 4];
   for (size_t i = 0; i < sizeof(backing); i++)
      backing[i] = (uint8_t)(i * 7);
   struct iovec iov[2] = {
      { backing, 1000 },
      { backing + 1000, sizeof(backing) - 1000 },
   };
   CHECK_EQ(virgl_renderer_resource_attach_iov(20, iov, 2), 0);
   CHECK(virgl_renderer_resource_attach_iov(20, iov, 2) != 0);
   CHECK(virgl_renderer_resource_attach_iov(21, iov, 2) != 0);

   uint32_t box[6] = { 0, 0, 0, 64, 32, 1 };
   CHECK_EQ(virgl_renderer_transfer_write_iov(20, 0, 0, 0, 0, (struct virgl_box *)box, 0,
                                              NULL, 0),
            0);
   uint32_t w = 0, h = 0;
   uint8_t *cursor = virgl_renderer_get_cursor_data(20, &w, &h);
   CHECK(cursor != NULL);
   CHECK_EQ(w, 64);
   CHECK_EQ(h, 32);
   if (cursor)
      CHECK_MEM(cursor, backing, sizeof(backing));
   free(cursor);

   uint32_t outside[6] = { 60, 0, 0, 8, 1, 1 };
   CHECK(virgl_renderer_transfer_write_iov(20, 0, 0, 0, 0, (struct virgl_box *)outside, 0,
                                           NULL, 0) != 0);
   uint32_t huge[6] = { 0xffffffffu, 0, 0, 2, 1, 1 };
   CHECK(virgl_renderer_transfer_write_iov(20, 0, 0, 0, 0, (struct virgl_box *)huge, 0, NULL,
                                           0) != 0);
   CHECK(virgl_renderer_transfer_write_iov(20, 0, 0, 0, 0, (struct virgl_box *)box,
                                           sizeof(backing), NULL, 0) != 0);
   CHECK(virgl_renderer_transfer_write_iov(20, 0, 1, 0, 0, (struct virgl_box *)box, 0, NULL,
                                           0) != 0);
   CHECK(virgl_renderer_transfer_write_iov(99, 0, 0, 0, 0, (struct virgl_box *)box, 0, NULL,
                                           0) != 0);

   struct virgl_renderer_resource_info_ext ext;
   memset(&ext, 0xff, sizeof(ext));
   CHECK_EQ(virgl_renderer_resource_get_info_ext(20, &ext), 0);
   CHECK_EQ(ext.base.width, 64);
   CHECK_EQ(ext.base.height, 32);
   CHECK_EQ(ext.base.fd, -1);
   CHECK(ext.d3d_tex2d == NULL);

   struct iovec *out_iov = NULL;
   int out_count = 0;
   virgl_renderer_resource_detach_iov(20, &out_iov, &out_count);
   CHECK(out_iov == iov);
   CHECK_EQ(out_count, 2);
   CHECK(virgl_renderer_transfer_write_iov(20, 0, 0, 0, 0, (struct virgl_box *)box, 0, NULL,
                                           0) != 0);
   CHECK(virgl_renderer_get_cursor_data(99, &w, &h) == NULL);
   virgl_renderer_resource_unref(20);
}

/* Creates context `ctx_id` and returns the pid of its new worker (0: none). */
static pid_t
create_context_worker(uint32_t ctx_id, const char *name)
{
   pid_t before[64];
   const int n_before = harness_children(getpid(), false, before, 64);
   if (virgl_renderer_context_create_with_flags(ctx_id, 4, (uint32_t)strlen(name), name))
      return 0;
   return harness_new_child(getpid(), before, n_before < 64 ? n_before : 64);
}

static uint64_t
now_ms(void)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Polls like QEMU (with `poll`; else only watches) until worker `pid` has
 * gone or `limit_ms` passed since `start_ms`; returns the ms since start_ms
 * (limit_ms when it did not go). */
static uint64_t
wait_until_gone(pid_t pid, bool poll, uint64_t start_ms, uint64_t limit_ms)
{
   for (;;) {
      if (poll)
         virgl_renderer_poll();
      const uint64_t ms = now_ms() - start_ms;
      if (!harness_is_live_child(getpid(), pid) || ms >= limit_ms)
         return harness_is_live_child(getpid(), pid) ? limit_ms : ms;
      usleep(10000);
   }
}

/* A guest that destroys a context whose context path waits, without a
 * timeout, for a fence nothing will signal: the worker sees its socket
 * closed at the wait's next slice and ends (without that it would live
 * until the VM ends, or until the library kills it, below). */
TEST(destroyed_while_waiting)
{
   const pid_t worker = create_context_worker(8, "waiter");
   CHECK(worker > 0);

   enum { ID_INSTANCE = 0x10, ID_PHYSICAL_DEVICE, ID_DEVICE, ID_FENCE };
   uint32_t stream[512];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, stream, sizeof(stream));
   e.raw_handles = true;
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
   VkInstance inst = (VkInstance)(uintptr_t)ID_INSTANCE;
   vp_encode_vkCreateInstance(&e, 0, &iinfo, NULL, &inst);
   uint32_t count = 1;
   VkPhysicalDevice pd = (VkPhysicalDevice)(uintptr_t)ID_PHYSICAL_DEVICE;
   vp_encode_vkEnumeratePhysicalDevices(&e, 0, inst, &count, &pd);
   const float prio = 1.0f;
   const VkDeviceQueueCreateInfo qinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueCount = 1,
      .pQueuePriorities = &prio,
   };
   const VkDeviceCreateInfo dinfo = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &qinfo,
   };
   VkDevice device = (VkDevice)(uintptr_t)ID_DEVICE;
   vp_encode_vkCreateDevice(&e, 0, pd, &dinfo, NULL, &device);
   const VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
   VkFence fence = (VkFence)(uintptr_t)ID_FENCE;
   vp_encode_vkCreateFence(&e, 0, device, &finfo, NULL, &fence);
   vp_encode_vkWaitForFences(&e, 0, device, 1, &fence, VK_TRUE, UINT64_MAX);
   CHECK(!vp_encoder_is_fatal(&e));
   CHECK_EQ(virgl_renderer_submit_cmd(stream, 8, (int)(vp_encoder_size(&e) / 4)), 0);
   /* a fence behind the wait does not signal while the worker waits */
   CHECK_EQ(virgl_renderer_context_create_fence(8, 0, 0, 77), 0);
   for (int i = 0; i < 50; i++) {
      virgl_renderer_poll();
      usleep(10000);
   }
   CHECK(!(fences.count && fences.ctx_id == 8 && fences.fence_id == 77));
   CHECK(harness_is_live_child(getpid(), worker));

   virgl_renderer_context_destroy(8);
   const uint64_t ms = wait_until_gone(worker, true, now_ms(), 8000);
   fprintf(stderr, "  waiting worker gone %llu ms after the context\n", (unsigned long long)ms);
   CHECK(ms < 8000);
}

/* Workers that do not end after their context was destroyed (stopped here,
 * as if stuck in a host call that never returns) are killed by the library
 * 10 s on (VMM_EXIT_LINGER_MS), and not before: the first found overdue by
 * a context creation without any virgl_renderer_poll, the second, destroyed
 * 5 s later, by virgl_renderer_poll. */
TEST(stuck_worker_killed)
{
   const pid_t first = create_context_worker(9, "stuck");
   const pid_t second = create_context_worker(10, "stuck-too");
   CHECK(first > 0 && second > 0);
   if (first <= 0 || second <= 0)
      return;
   CHECK_EQ(kill(first, SIGSTOP), 0);
   CHECK_EQ(kill(second, SIGSTOP), 0);
   const uint64_t first_end = now_ms();
   virgl_renderer_context_destroy(9);
   sleep(5);
   const uint64_t second_end = now_ms();
   virgl_renderer_context_destroy(10);
   sleep(4);
   CHECK_EQ(virgl_renderer_context_create_with_flags(11, 4, 4, "next"), 0);
   CHECK(harness_is_live_child(getpid(), first)); /* 9 s: not yet */
   sleep(2);
   /* 11 s: killed (a zombie until reaped) */
   CHECK_EQ(virgl_renderer_context_create_with_flags(12, 4, 4, "next"), 0);
   const uint64_t first_ms = wait_until_gone(first, false, first_end, 20000);
   const uint64_t second_ms = wait_until_gone(second, true, second_end, 20000);
   fprintf(stderr, "  stopped workers gone %llu and %llu ms after their contexts\n",
           (unsigned long long)first_ms, (unsigned long long)second_ms);
   CHECK(first_ms >= 10000 && first_ms < 20000);
   CHECK(second_ms >= 10000 && second_ms < 20000);
   if (harness_is_live_child(getpid(), first))
      kill(first, SIGKILL);
   if (harness_is_live_child(getpid(), second))
      kill(second, SIGKILL);
   virgl_renderer_context_destroy(11);
   virgl_renderer_context_destroy(12);
}

TEST(cleanup_leaves_no_worker)
{
   CHECK_EQ(virgl_renderer_context_create_with_flags(7, 4, 4, "last"), 0);
   virgl_renderer_reset();
   CHECK(virgl_renderer_submit_cmd((uint32_t[1]){ 0 }, 7, 1) != 0);
   virgl_renderer_cleanup(NULL);
   errno = 0;
   CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1);
   CHECK_EQ(errno, ECHILD);
}

RUN_TESTS(capsets_before_init,
          init_and_refused_contexts,
          venus_context_blobs_and_fences,
          two_d_resources,
          destroyed_while_waiting,
          stuck_worker_killed,
          cleanup_leaves_no_worker)
