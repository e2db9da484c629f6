/*
 * A hostile guest process for the VMM-library VM test (test_vm_driver.sh
 * vmm_hostile): it opens the virtio-gpu render node, creates a Venus context
 * and submits a command stream of garbage, then a fenced submission on
 * timeline 0. The host must make only this context fatal (one line in QEMU's
 * log), still signal the fence, and keep QEMU and every other context going.
 *
 * The few virtio-gpu ioctl definitions are spelled out here (Debian 12's
 * libdrm header predates context init and ring indices).
 * Exit status: 0 when both submissions went through and the fence signalled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define GARBAGE_DRM_BASE 'd'
#define GARBAGE_VIRTGPU_EXECBUFFER 0x02
#define GARBAGE_VIRTGPU_CONTEXT_INIT 0x0b
#define GARBAGE_EXECBUF_FENCE_FD_OUT 0x02
#define GARBAGE_EXECBUF_RING_IDX 0x04
#define GARBAGE_PARAM_CAPSET_ID 0x0001
#define GARBAGE_PARAM_NUM_RINGS 0x0002
#define GARBAGE_CAPSET_VENUS 4

struct garbage_execbuffer {
   uint32_t flags;
   uint32_t size;
   uint64_t command;
   uint64_t bo_handles;
   uint32_t num_bo_handles;
   int32_t fence_fd;
   uint32_t ring_idx;
   uint32_t pad;
};

struct garbage_context_param {
   uint64_t param;
   uint64_t value;
};

struct garbage_context_init {
   uint32_t num_params;
   uint32_t pad;
   uint64_t params;
};

#define GARBAGE_IOCTL(nr, type)                                                          \
   _IOWR(GARBAGE_DRM_BASE, 0x40 + (nr), type)

static int
garbage_submit(int fd, const void *cmd, uint32_t size, bool fenced)
{
   struct garbage_execbuffer eb = {
      .flags = fenced ? GARBAGE_EXECBUF_FENCE_FD_OUT | GARBAGE_EXECBUF_RING_IDX : 0,
      .size = size,
      .command = (uintptr_t)cmd,
      .fence_fd = -1,
      .ring_idx = 0,
   };
   if (ioctl(fd, GARBAGE_IOCTL(GARBAGE_VIRTGPU_EXECBUFFER, struct garbage_execbuffer),
             &eb) < 0) {
      fprintf(stderr, "vmm_garbage: execbuffer: %s\n", strerror(errno));
      return -2;
   }
   return fenced ? eb.fence_fd : 0;
}

int
main(int argc, char **argv)
{
   const char *node = argc > 1 ? argv[1] : "/dev/dri/renderD128";
   const int fd = open(node, O_RDWR | O_CLOEXEC);
   if (fd < 0) {
      fprintf(stderr, "vmm_garbage: %s: %s\n", node, strerror(errno));
      return 1;
   }

   struct garbage_context_param params[] = {
      { GARBAGE_PARAM_CAPSET_ID, GARBAGE_CAPSET_VENUS },
      { GARBAGE_PARAM_NUM_RINGS, 64 },
   };
   struct garbage_context_init init = { .num_params = 2, .params = (uintptr_t)params };
   if (ioctl(fd, GARBAGE_IOCTL(GARBAGE_VIRTGPU_CONTEXT_INIT, struct garbage_context_init),
             &init) < 0) {
      fprintf(stderr, "vmm_garbage: context init: %s\n", strerror(errno));
      return 1;
   }

   /* an unknown command type with a nonsense length: the renderer's decoder
    * makes the context fatal at byte 0 */
   uint32_t garbage[64];
   for (unsigned i = 0; i < 64; i++)
      garbage[i] = 0xdeadbeefu ^ (i * 0x9e3779b9u);
   if (garbage_submit(fd, garbage, sizeof(garbage), false) < 0)
      return 1;

   /* after the context is lost: still accepted, and its fence must signal */
   const int fence = garbage_submit(fd, garbage, sizeof(garbage), true);
   if (fence < 0)
      return 1;
   struct pollfd pfd = { .fd = fence, .events = POLLIN };
   const int r = poll(&pfd, 1, 20000);
   if (r != 1) {
      fprintf(stderr, "vmm_garbage: the fence of the lost context did not signal\n");
      return 1;
   }
   close(fence);
   printf("vmm_garbage: garbage submitted, context lost, its fence signalled\n");
   close(fd);
   return 0;
}
