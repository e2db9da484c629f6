/*
 * vn_extmem_xinst: OPAQUE_FD memory shared between VkInstances and between
 * processes through our driver and server. Over vtest each instance has its
 * own connection and renderer worker, so an import of another instance's fd
 * needs the fd to travel to the server (VCMD_VENUS_RESOURCE_IMPORT_FD).
 *
 * A child process is forked before any Vulkan call; the parent makes two
 * instances A and B. For each memory type the buffer can live in (one
 * host-visible, one not, where the device has them): A allocates exportable
 * memory and fills its first quarter with the GPU; B imports A's fd and, with
 * its GPU, copies the first quarter to the third and fills the second; the
 * child receives another fd of it over a socketpair, imports it in its own
 * instance and, with its GPU, fills the last quarter (after checking the first
 * where it can map). The parent then maps the memory and checks all four
 * quarters. Memory that is not host-visible (lavapipe with
 * VENUS_PERF=no_host_pointer: lavapipe's own opaque fd) cannot be read back
 * here: there the imports and the GPU work on them are checked (said on
 * stdout).
 *
 * Also checked: B reports OPAQUE_FD IMPORTABLE; a named regular file is
 * refused (VK_ERROR_INVALID_EXTERNAL_HANDLE) and stays the application's.
 * No native run: lavapipe 22 has no OPAQUE_FD import between instances.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vkt.h"

#define SIZE 65536u
#define QUARTER (SIZE / 4)
#define PATTERN_A 0xa1a2a3a4u
#define PATTERN_B 0xb1b2b3b4u
#define PATTERN_C 0xc1c2c3c4u

struct side {
   struct vkt_context ctx;
   PFN_vkGetMemoryFdKHR get_fd;
};

static void
side_init(struct side *s, const char *name)
{
   vkt_init(&s->ctx, name);
   const char *const exts[] = { VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME };
   for (uint32_t i = 0; i < 1; i++) {
      if (!vkt_has_device_extension(&s->ctx, exts[i])) {
         printf("%s: no %s: skipped\n", name, exts[i]);
         exit(77);
      }
   }
   const struct vkt_device_info dinfo = { .extensions = exts, .extension_count = 1 };
   vkt_device_init(&s->ctx, &dinfo);
   s->get_fd = (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(s->ctx.device, "vkGetMemoryFdKHR");
   if (!s->get_fd)
      vkt_die("%s: no vkGetMemoryFdKHR", name);
}

static VkBuffer
make_buffer(struct side *s)
{
   const VkExternalMemoryBufferCreateInfo external = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = &external,
      .size = SIZE,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
   };
   VkBuffer buffer;
   VKT_CALL(vkCreateBuffer(s->ctx.device, &info, NULL, &buffer));
   return buffer;
}

/* fd < 0: exportable memory; else an import of fd */
static VkResult
alloc(struct side *s, VkDeviceSize size, uint32_t type, int fd, VkDeviceMemory *out)
{
   const VkExportMemoryAllocateInfo export = {
      .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   const VkImportMemoryFdInfoKHR import = {
      .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
      .fd = fd,
   };
   const VkMemoryAllocateInfo info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
      .pNext = fd < 0 ? (const void *)&export : (const void *)&import,
      .allocationSize = size,
      .memoryTypeIndex = type,
   };
   return vkAllocateMemory(s->ctx.device, &info, NULL, out);
}

static int
export_fd(struct side *s, VkDeviceMemory mem)
{
   const VkMemoryGetFdInfoKHR info = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
      .memory = mem,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   int fd = -1;
   VKT_CALL(s->get_fd(s->ctx.device, &info, &fd));
   vkt_check(&s->ctx, fd >= 0, "vkGetMemoryFdKHR gave fd %d", fd);
   return fd;
}

/* fills [offset, offset + QUARTER) with `pattern`; copies quarter `copy_src`
 * to `copy_dst` first when copy_src != copy_dst */
static void
gpu_work(struct side *s, VkBuffer buf, VkDeviceSize fill_offset, uint32_t pattern,
         VkDeviceSize copy_src, VkDeviceSize copy_dst)
{
   VkCommandBuffer cmd = vkt_cmd_begin(&s->ctx);
   if (copy_src != copy_dst) {
      const VkBufferCopy copy = { copy_src, copy_dst, QUARTER };
      vkCmdCopyBuffer(cmd, buf, buf, 1, &copy);
   }
   vkCmdFillBuffer(cmd, buf, fill_offset, QUARTER, pattern);
   vkt_cmd_submit_wait(&s->ctx, cmd);
}

/* how many dwords of [offset, offset + QUARTER) differ from pattern */
static uint32_t
quarter_mismatches(const uint8_t *base, VkDeviceSize offset, uint32_t pattern)
{
   uint32_t bad = 0;
   for (VkDeviceSize i = 0; i < QUARTER; i += 4) {
      uint32_t v;
      memcpy(&v, base + offset + i, 4);
      bad += v != pattern;
   }
   return bad;
}

/* the memory's bytes, for reading: a mapping of host-visible memory; NULL
 * for other memory (an OPAQUE_FD is opaque: lavapipe's can be mmapped, but
 * its bytes are not the memory's at offset 0) */
static const uint8_t *
map_for_read(struct side *s, VkDeviceMemory mem, bool host_visible)
{
   if (!host_visible)
      return NULL;
   void *ptr = NULL;
   VKT_CALL(vkMapMemory(s->ctx.device, mem, 0, VK_WHOLE_SIZE, 0, &ptr));
   return ptr;
}

/* ---- fd passing over the socketpair ---- */

struct job {
   uint32_t type;      /* memory type index; UINT32_MAX: done */
   uint32_t host_visible;
   uint64_t size;
};

static bool
send_job(int sock, const struct job *job, int fd)
{
   struct iovec iov = { .iov_base = (void *)job, .iov_len = sizeof(*job) };
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
   } control;
   struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
   if (fd >= 0) {
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof(control.buf);
      struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
   }
   return sendmsg(sock, &msg, 0) == (ssize_t)sizeof(*job);
}

static bool
recv_job(int sock, struct job *job, int *out_fd)
{
   struct iovec iov = { .iov_base = job, .iov_len = sizeof(*job) };
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
   } control;
   struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = control.buf,
      .msg_controllen = sizeof(control.buf),
   };
   *out_fd = -1;
   if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(*job))
      return false;
   struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
   if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
      memcpy(out_fd, CMSG_DATA(cmsg), sizeof(int));
   return true;
}

/* the child: its own instance, importing what the parent sends */
static int
child_main(int sock)
{
   struct side c;
   bool started = false;
   for (;;) {
      struct job job;
      int fd;
      if (!recv_job(sock, &job, &fd))
         _exit(3);
      if (job.type == UINT32_MAX)
         break;
      if (!started) {
         side_init(&c, "vn_extmem_xinst(child)");
         started = true;
      }
      VkDeviceMemory mem;
      VkResult r = alloc(&c, job.size, job.type, fd, &mem);
      vkt_check(&c.ctx, r == VK_SUCCESS, "child: import of type %u gave %s", job.type,
                vkt_result_string(r));
      uint8_t status = 0;
      if (r == VK_SUCCESS) {
         VkBuffer buf = make_buffer(&c);
         VKT_CALL(vkBindBufferMemory(c.ctx.device, buf, mem, 0));
         gpu_work(&c, buf, 3 * QUARTER, PATTERN_C, 0, 0);
         /* what the first instance's GPU wrote */
         if (job.host_visible) {
            void *ptr;
            VKT_CALL(vkMapMemory(c.ctx.device, mem, 0, VK_WHOLE_SIZE, 0, &ptr));
            const uint32_t bad = quarter_mismatches(ptr, 0, PATTERN_A);
            vkt_check(&c.ctx, bad == 0, "child: %u dwords of A's quarter differ", bad);
            vkUnmapMemory(c.ctx.device, mem);
         }
         vkDestroyBuffer(c.ctx.device, buf, NULL);
         vkFreeMemory(c.ctx.device, mem, NULL);
      } else if (fd >= 0) {
         close(fd);
      }
      status = c.ctx.check_failures || c.ctx.validation_errors ? 1 : 0;
      if (write(sock, &status, 1) != 1)
         _exit(3);
   }
   if (!started)
      _exit(0);
   _exit(vkt_finish(&c.ctx));
}

static void
run_type(struct side *a, struct side *b, int sock, uint32_t type, bool host_visible)
{
   printf("memory type %u (%s):\n", type, host_visible ? "host-visible" : "device-local");
   VkBuffer buf_a = make_buffer(a);
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(a->ctx.device, buf_a, &reqs);
   VkDeviceMemory mem_a;
   VKT_CALL(alloc(a, reqs.size, type, -1, &mem_a));
   VKT_CALL(vkBindBufferMemory(a->ctx.device, buf_a, mem_a, 0));
   gpu_work(a, buf_a, 0, PATTERN_A, 0, 0);

   /* the second instance of this process */
   const int fd_b = export_fd(a, mem_a);
   VkDeviceMemory mem_b;
   const VkResult r = alloc(b, reqs.size, type, fd_b, &mem_b);
   vkt_check(&a->ctx, r == VK_SUCCESS, "import into the second instance gave %s",
             vkt_result_string(r));
   if (r != VK_SUCCESS) {
      close(fd_b);
   } else {
      vkt_check(&a->ctx, fcntl(fd_b, F_GETFD) < 0, "a successful import left the fd open");
      VkBuffer buf_b = make_buffer(b);
      VKT_CALL(vkBindBufferMemory(b->ctx.device, buf_b, mem_b, 0));
      gpu_work(b, buf_b, QUARTER, PATTERN_B, 0, 2 * QUARTER);
      vkDestroyBuffer(b->ctx.device, buf_b, NULL);
      /* freed before the reads: the bytes live on in A's memory */
      vkFreeMemory(b->ctx.device, mem_b, NULL);
   }

   /* the other process */
   const struct job job = { type, host_visible, reqs.size };
   const int fd_c = export_fd(a, mem_a);
   uint8_t child_status = 2;
   const bool sent = send_job(sock, &job, fd_c);
   close(fd_c);
   vkt_check(&a->ctx, sent && read(sock, &child_status, 1) == 1 && child_status == 0,
             "the child process failed its import (status %u)", child_status);

   const uint8_t *bytes = map_for_read(a, mem_a, host_visible);
   if (bytes) {
      static const char *const names[4] = { "A's fill", "B's fill", "B's copy of A's",
                                            "the child's fill" };
      const uint32_t patterns[4] = { PATTERN_A, PATTERN_B, PATTERN_A, PATTERN_C };
      for (uint32_t q = 0; q < 4; q++) {
         const uint32_t bad = quarter_mismatches(bytes, q * QUARTER, patterns[q]);
         vkt_check(&a->ctx, bad == 0, "quarter %u (%s): %u dwords differ", q, names[q], bad);
         printf("  quarter %u (%s): %s\n", q, names[q], bad ? "WRONG" : "ok");
      }
      vkUnmapMemory(a->ctx.device, mem_a);
   } else {
      printf("  not host-visible: the imports and the GPU work on them checked, not the "
             "bytes\n");
   }
   vkDestroyBuffer(a->ctx.device, buf_a, NULL);
   vkFreeMemory(a->ctx.device, mem_a, NULL);
}

int
main(void)
{
   int sv[2];
   if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
      vkt_die("vn_extmem_xinst: socketpair: %s", strerror(errno));
   fflush(NULL);
   const pid_t pid = fork();
   if (pid < 0)
      vkt_die("vn_extmem_xinst: fork: %s", strerror(errno));
   if (pid == 0) {
      close(sv[0]);
      return child_main(sv[1]);
   }
   close(sv[1]);

   struct side a, b;
   side_init(&a, "vn_extmem_xinst");
   side_init(&b, "vn_extmem_xinst(B)");

   const VkPhysicalDeviceExternalBufferInfo query = {
      .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
      .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
      .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
   };
   VkExternalBufferProperties props = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
   vkGetPhysicalDeviceExternalBufferProperties(b.ctx.physical_device, &query, &props);
   const VkExternalMemoryFeatureFlags features = props.externalMemoryProperties.externalMemoryFeatures;
   vkt_check(&a.ctx,
             (features & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT) &&
                (features & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT),
             "OPAQUE_FD buffer features 0x%x: not importable and exportable", features);

   VkBuffer probe = make_buffer(&a);
   VkMemoryRequirements reqs;
   vkGetBufferMemoryRequirements(a.ctx.device, probe, &reqs);
   vkDestroyBuffer(a.ctx.device, probe, NULL);
   uint32_t visible = VKT_NO_MEMORY_TYPE, local = VKT_NO_MEMORY_TYPE;
   for (uint32_t i = 0; i < a.ctx.mem_props.memoryTypeCount; i++) {
      if (!(reqs.memoryTypeBits & (1u << i)))
         continue;
      const bool hv =
         a.ctx.mem_props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
      if (hv && visible == VKT_NO_MEMORY_TYPE)
         visible = i;
      if (!hv && local == VKT_NO_MEMORY_TYPE)
         local = i;
   }
   if (visible != VKT_NO_MEMORY_TYPE)
      run_type(&a, &b, sv[0], visible, true);
   if (local != VKT_NO_MEMORY_TYPE)
      run_type(&a, &b, sv[0], local, false);

   /* a named file is not device memory: refused, and still the application's */
   char path[] = "/tmp/vn_extmem_xinst-XXXXXX";
   const int file = mkstemp(path);
   if (file < 0 || ftruncate(file, SIZE) != 0)
      vkt_die("vn_extmem_xinst: temporary file: %s", strerror(errno));
   VkDeviceMemory bad;
   const uint32_t any_type = visible != VKT_NO_MEMORY_TYPE ? visible : local;
   const VkResult r = alloc(&b, SIZE, any_type, file, &bad);
   unlink(path);
   vkt_check(&a.ctx, r == VK_ERROR_INVALID_EXTERNAL_HANDLE, "import of a regular file gave %s",
             vkt_result_string(r));
   vkt_check(&a.ctx, fcntl(file, F_GETFD) >= 0, "a refused import closed the fd");
   close(file);

   const struct job done = { UINT32_MAX, 0, 0 };
   send_job(sv[0], &done, -1);
   int status = 0;
   waitpid(pid, &status, 0);
   vkt_check(&a.ctx, WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "the child process ended with status 0x%x", status);

   const int b_status = vkt_finish(&b.ctx);
   vkt_check(&a.ctx, b_status == 0, "the second instance failed");
   return vkt_finish(&a.ctx);
}
