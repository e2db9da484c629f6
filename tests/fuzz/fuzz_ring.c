/*
 * libFuzzer target: a hostile peer of a renderer ring (transport.md §C). The
 * input picks the ring's layout (offsets and sizes inside a shared-memory
 * blob, checked by the renderer) and then plays the driver's side: bytes
 * written into the ring buffer, raw head, tail and status words, wakes, and
 * the context-path ring commands (notify, wait for a seqno, write the extra
 * region), while the renderer's real ring thread consumes what it finds.
 * Any input may make the context fatal; none may crash, hang or leak.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/vu_os.h"
#include "protocol/vp_cs.h"
#include "transport/vw_ring.h"
#include "renderer/vkr_renderer.h"
#include "vp_protocol.h"

#include "fuzz_host.h"

#define FUZZ_RING_ID 9
#define FUZZ_RES_ID 1
/* the blob: a ring of up to 8 KiB plus its words and extra region */
#define FUZZ_BLOB_SIZE (16u << 10)
/* the longest a step waits for the ring thread */
#define FUZZ_WAIT_NS (2u * 1000 * 1000)

struct fuzz_input {
   const uint8_t *p;
   size_t left;
};

static uint32_t
fuzz_u32(struct fuzz_input *in)
{
   uint32_t v = 0;
   const size_t n = in->left < 4 ? in->left : 4;
   memcpy(&v, in->p, n);
   in->p += n;
   in->left -= n;
   return v;
}

static uint8_t
fuzz_u8(struct fuzz_input *in)
{
   if (!in->left)
      return 0;
   in->left--;
   return *in->p++;
}

static _Atomic uint32_t *
fuzz_word(uint8_t *map, uint32_t offset)
{
   return (_Atomic uint32_t *)(map + (offset & (FUZZ_BLOB_SIZE - 4) & ~3u));
}

/* mostly valid layouts, with every field open to the input */
static VkRingCreateInfoMESA
fuzz_layout(struct fuzz_input *in)
{
   const uint8_t shape = fuzz_u8(in);
   const uint32_t buffer_size = 64u << (shape & 7); /* 64 B .. 8 KiB */
   VkRingCreateInfoMESA info = {
      .sType = VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA,
      .resourceId = FUZZ_RES_ID,
      .offset = 0,
      .size = vw_ring_total_size(buffer_size),
      .idleTimeout = 1000000,
      .headOffset = VW_RING_HEAD_OFFSET,
      .tailOffset = VW_RING_TAIL_OFFSET,
      .statusOffset = VW_RING_STATUS_OFFSET,
      .bufferOffset = VW_RING_BUFFER_OFFSET,
      .bufferSize = buffer_size,
      .extraOffset = VW_RING_BUFFER_OFFSET + buffer_size,
      .extraSize = VW_RING_EXTRA_SIZE,
   };
   if (shape & 0x80) {
      /* a hostile layout: every field from the input */
      info.offset = fuzz_u32(in);
      info.size = fuzz_u32(in);
      info.headOffset = fuzz_u32(in);
      info.tailOffset = fuzz_u32(in);
      info.statusOffset = fuzz_u32(in);
      info.bufferOffset = fuzz_u32(in);
      info.bufferSize = fuzz_u32(in);
      info.extraOffset = fuzz_u32(in);
      info.extraSize = fuzz_u32(in);
      info.idleTimeout = fuzz_u32(in);
   }
   return info;
}

static bool
fuzz_submit(struct vkr_context *ctx, const uint8_t *buf, size_t size)
{
   return vkr_context_submit_cmd(ctx, buf, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   struct fuzz_input in = { data, size };
   const struct vkr_context_limits limits = {
      .max_memory_bytes = 1u << 20,
      .max_objects = 256,
      .max_ring_size = 8u << 10,
   };
   struct vkr_context *ctx = vkr_context_create(1, "fuzz-ring", NULL, &limits);
   if (!ctx)
      abort();

   int fd = -1;
   if (!vkr_context_create_resource(ctx, FUZZ_RES_ID, 2 /* HOST3D */, 1 /* MAPPABLE */, 0,
                                    FUZZ_BLOB_SIZE, &fd))
      abort();
   uint8_t *map = mmap(NULL, FUZZ_BLOB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   if (map == MAP_FAILED)
      abort();

   const VkRingCreateInfoMESA info = fuzz_layout(&in);
   uint8_t cmd[256];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkCreateRingMESA(&e, 0, FUZZ_RING_ID, &info);
   const bool has_ring = fuzz_submit(ctx, cmd, vp_encoder_size(&e));

   /* where the peer's words and buffer are, as far as it knows */
   const uint32_t buf_off = VW_RING_BUFFER_OFFSET;
   const uint32_t buf_size = info.bufferSize && info.bufferSize <= (8u << 10) &&
                                   !(info.bufferSize & (info.bufferSize - 1))
                                ? info.bufferSize
                                : 64;
   uint32_t tail = 0;

   while (has_ring && in.left && !vkr_context_is_fatal(ctx)) {
      const uint8_t op = fuzz_u8(&in);
      switch (op % 8) {
      case 0: { /* append bytes and publish the tail */
         uint32_t n = fuzz_u8(&in);
         n = n < in.left ? n : (uint32_t)in.left;
         for (uint32_t i = 0; i < n; i++)
            map[buf_off + ((tail + i) & (buf_size - 1))] = in.p[i];
         in.p += n;
         in.left -= n;
         tail += n;
         atomic_store_explicit(fuzz_word(map, VW_RING_TAIL_OFFSET), tail,
                               memory_order_release);
         break;
      }
      case 1: /* any tail */
         tail = fuzz_u32(&in);
         atomic_store(fuzz_word(map, VW_RING_TAIL_OFFSET), tail);
         break;
      case 2: /* the consumer's words, scribbled over by the peer */
         atomic_store(fuzz_word(map, VW_RING_HEAD_OFFSET), fuzz_u32(&in));
         break;
      case 3:
         atomic_store(fuzz_word(map, VW_RING_STATUS_OFFSET), fuzz_u32(&in));
         break;
      case 4: /* any word of the blob (extra region flags, the buffer) */
         atomic_store(fuzz_word(map, fuzz_u32(&in)), fuzz_u32(&in));
         break;
      case 5: /* wake the ring thread, and give it a moment */
         vu_os_futex_wake((const uint32_t *)fuzz_word(map, VW_RING_TAIL_OFFSET), 1);
         vu_os_futex_wait((const uint32_t *)fuzz_word(map, VW_RING_HEAD_OFFSET),
                          atomic_load(fuzz_word(map, VW_RING_HEAD_OFFSET)), FUZZ_WAIT_NS);
         break;
      case 6: { /* context-path ring commands */
         const uint8_t which = fuzz_u8(&in);
         const uint32_t a = fuzz_u32(&in);
         const uint32_t b = fuzz_u32(&in);
         const uint64_t ring_id = which & 0x80 ? a : FUZZ_RING_ID;
         vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
         switch (which % 4) {
         case 0:
            vp_encode_vkNotifyRingMESA(&e, 0, ring_id, b, 0);
            break;
         case 1:
            /* only seqnos already written: a wait for the future is the
             * guest's own deadlock, and the renderer bounds it only by the
             * ring's idle exit */
            vp_encode_vkWaitRingSeqnoMESA(&e, 0, ring_id, tail - (b & 0xff));
            break;
         case 2:
            vp_encode_vkWriteRingExtraMESA(&e, 0, ring_id, b, a);
            break;
         default:
            vp_encode_vkSubmitVirtqueueSeqnoMESA(&e, 0, ring_id, b);
            break;
         }
         fuzz_submit(ctx, cmd, vp_encoder_size(&e));
         break;
      }
      default: /* a raw context-path stream */
      {
         uint32_t n = fuzz_u8(&in);
         n = n < in.left ? n : (uint32_t)in.left;
         fuzz_submit(ctx, in.p, n);
         in.p += n;
         in.left -= n;
         break;
      }
      }
   }

   vkr_context_destroy(ctx);
   munmap(map, FUZZ_BLOB_SIZE);
   return 0;
}
