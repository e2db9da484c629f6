/*
 * A hostile guest process for the VMM-library VM test (test_vm_driver.sh
 * vmm_hostile): it opens the virtio-gpu render node, creates a Venus context
 * and sends garbage one of three ways, then a fenced submission on timeline 0:
 *   stream      a command stream of garbage (the default);
 *   ring        a valid vkCreateRingMESA over a blob of its own, then garbage
 *               written into the ring's buffer and published by its tail;
 *   ring-tail   the same ring, with a tail word that runs past the head by
 *               more than the buffer holds.
 * The host must make only this context fatal (one line in QEMU's log), still
 * signal the fence, and keep QEMU and every other context going.
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
#include <sys/mman.h>
#include <unistd.h>

#define GARBAGE_DRM_BASE 'd'
#define GARBAGE_VIRTGPU_MAP 0x01
#define GARBAGE_VIRTGPU_EXECBUFFER 0x02
#define GARBAGE_VIRTGPU_RESOURCE_CREATE_BLOB 0x0a
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

struct garbage_create_blob {
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint32_t bo_handle;
   uint32_t res_handle;
   uint64_t size;
   uint32_t pad;
   uint32_t cmd_size;
   uint64_t cmd;
   uint64_t blob_id;
};

struct garbage_map {
   uint64_t offset;
   uint32_t handle;
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

/* the ring's layout in its blob (offsets from the blob's start) */
#define RING_HEAD 0
#define RING_TAIL 64
#define RING_STATUS 128
#define RING_BUFFER 192
#define RING_BUFFER_SIZE 4096
#define RING_EXTRA (RING_BUFFER + RING_BUFFER_SIZE)
#define RING_SIZE (RING_EXTRA + 4)
#define RING_BLOB_SIZE 8192
#define RING_ID 0x1000u

/* a little-endian command builder */
struct garbage_cmd {
   uint8_t bytes[256];
   uint32_t size;
};

static void
garbage_put(struct garbage_cmd *c, uint64_t value, uint32_t size)
{
   for (uint32_t i = 0; i < size; i++)
      c->bytes[c->size++] = (uint8_t)(value >> (8 * i));
}

/* a mappable blob of the renderer's shared memory (blob id 0) with a
 * vkCreateRingMESA over it; returns its mapping */
static volatile uint32_t *
garbage_create_ring(int fd)
{
   struct garbage_create_blob blob = {
      .blob_mem = 2,   /* HOST3D */
      .blob_flags = 1, /* MAPPABLE */
      .size = RING_BLOB_SIZE,
      .blob_id = 0,
   };
   if (ioctl(fd, GARBAGE_IOCTL(GARBAGE_VIRTGPU_RESOURCE_CREATE_BLOB, struct garbage_create_blob),
             &blob) < 0) {
      fprintf(stderr, "vmm_garbage: blob: %s\n", strerror(errno));
      return NULL;
   }
   struct garbage_map map = { .handle = blob.bo_handle };
   if (ioctl(fd, GARBAGE_IOCTL(GARBAGE_VIRTGPU_MAP, struct garbage_map), &map) < 0) {
      fprintf(stderr, "vmm_garbage: map: %s\n", strerror(errno));
      return NULL;
   }
   void *ptr = mmap(NULL, RING_BLOB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                    (off_t)map.offset);
   if (ptr == MAP_FAILED) {
      fprintf(stderr, "vmm_garbage: mmap: %s\n", strerror(errno));
      return NULL;
   }
   memset(ptr, 0, RING_BLOB_SIZE);

   /* vkCreateRingMESA (188): ring id, pCreateInfo marker, then
    * VkRingCreateInfoMESA with an empty chain */
   struct garbage_cmd c = { .size = 0 };
   garbage_put(&c, 188, 4);
   garbage_put(&c, 0, 4);
   garbage_put(&c, RING_ID, 8);
   garbage_put(&c, 1, 8);
   garbage_put(&c, 1000384000u, 4);
   garbage_put(&c, 0, 8);
   garbage_put(&c, 0, 4); /* flags */
   garbage_put(&c, blob.res_handle, 4);
   garbage_put(&c, 0, 8); /* offset */
   garbage_put(&c, RING_SIZE, 8);
   garbage_put(&c, 5000000, 8); /* idle timeout, ns */
   garbage_put(&c, RING_HEAD, 8);
   garbage_put(&c, RING_TAIL, 8);
   garbage_put(&c, RING_STATUS, 8);
   garbage_put(&c, RING_BUFFER, 8);
   garbage_put(&c, RING_BUFFER_SIZE, 8);
   garbage_put(&c, RING_EXTRA, 8);
   garbage_put(&c, 4, 8);
   if (garbage_submit(fd, c.bytes, c.size, false) < 0)
      return NULL;
   return ptr;
}

/* publishes a tail and wakes the ring's thread (vkNotifyRingMESA, 190) */
static bool
garbage_ring_publish(int fd, volatile uint32_t *ring, uint32_t tail)
{
   __atomic_store_n(&ring[RING_TAIL / 4], tail, __ATOMIC_RELEASE);
   struct garbage_cmd c = { .size = 0 };
   garbage_put(&c, 190, 4);
   garbage_put(&c, 0, 4);
   garbage_put(&c, RING_ID, 8);
   garbage_put(&c, 1, 4);
   garbage_put(&c, 0, 4);
   return garbage_submit(fd, c.bytes, c.size, false) >= 0;
}

int
main(int argc, char **argv)
{
   const char *mode = argc > 1 ? argv[1] : "stream";
   const char *node = argc > 2 ? argv[2] : "/dev/dri/renderD128";
   if (strcmp(mode, "stream") && strcmp(mode, "ring") && strcmp(mode, "ring-tail")) {
      fprintf(stderr, "usage: vmm_garbage [stream|ring|ring-tail [RENDER_NODE]]\n");
      return 2;
   }
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
   if (!strcmp(mode, "stream")) {
      if (garbage_submit(fd, garbage, sizeof(garbage), false) < 0)
         return 1;
   } else {
      volatile uint32_t *ring = garbage_create_ring(fd);
      if (!ring)
         return 1;
      uint32_t tail = sizeof(garbage);
      if (!strcmp(mode, "ring"))
         memcpy((void *)(ring + RING_BUFFER / 4), garbage, sizeof(garbage));
      else
         tail = RING_BUFFER_SIZE * 3 + 8; /* past the head by more than the buffer */
      if (!garbage_ring_publish(fd, ring, tail))
         return 1;
      /* the ring's thread must find it and say so in the status word
       * (VK_RING_STATUS_FATAL_BIT_MESA) */
      int waited = 0;
      while (!(__atomic_load_n(&ring[RING_STATUS / 4], __ATOMIC_ACQUIRE) & 0x2u)) {
         if (++waited > 2000) {
            fprintf(stderr, "vmm_garbage: the ring's status never showed FATAL\n");
            return 1;
         }
         usleep(10000);
      }
   }

   /* after the context is lost: still accepted, and its fence must signal
    * (in the ring modes a valid command, so that only the ring is to blame) */
   struct garbage_cmd notify = { .size = 0 };
   garbage_put(&notify, 190, 4);
   garbage_put(&notify, 0, 4);
   garbage_put(&notify, RING_ID, 8);
   garbage_put(&notify, 2, 4);
   garbage_put(&notify, 0, 4);
   const bool stream = !strcmp(mode, "stream");
   const int fence = garbage_submit(fd, stream ? (const void *)garbage : notify.bytes,
                                    stream ? sizeof(garbage) : notify.size, true);
   if (fence < 0)
      return 1;
   struct pollfd pfd = { .fd = fence, .events = POLLIN };
   const int r = poll(&pfd, 1, 20000);
   if (r != 1) {
      fprintf(stderr, "vmm_garbage: the fence of the lost context did not signal\n");
      return 1;
   }
   close(fence);
   printf("vmm_garbage: %s garbage sent, context lost, its fence signalled\n", mode);
   close(fd);
   return 0;
}
