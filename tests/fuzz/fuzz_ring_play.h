/*
 * The input language of fuzz_ring (a hostile peer of a renderer ring,
 * transport.md §C), shared by the fuzz target and by test_ring_seeds, which
 * writes its seed corpus and checks that the seeds do what they say.
 *
 * An input is a layout byte (and, for a hostile layout, every field of
 * VkRingCreateInfoMESA), then operations of one byte each (the value modulo
 * 8, enum fuzz_ring_op) with their operands, played as the driver's side
 * while the renderer's real ring thread consumes what it finds. Any input
 * may make the context fatal; none may crash, hang or leak.
 */
#ifndef FUZZ_RING_PLAY_H
#define FUZZ_RING_PLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/vu_os.h"
#include "protocol/vp_cs.h"
#include "transport/vw_ring_info.h"
#include "renderer/vkr_renderer.h"
#include "vp_protocol.h"

#include "fuzz_input.h"

#define FUZZ_RING_ID 9
#define FUZZ_RES_ID 1
/* the blob: a ring of up to 8 KiB plus its words and extra region; what
 * lies past the ring may serve as a reply stream */
#define FUZZ_BLOB_SIZE (16u << 10)
/* the longest a wake waits for the ring thread */
#define FUZZ_WAIT_NS (2u * 1000 * 1000)

/* the layout byte: bits 0-2 the buffer size (64 B << n), bit 7 hostile */
#define FUZZ_LAYOUT_8K 7u
#define FUZZ_LAYOUT_HOSTILE 0x80u

enum fuzz_ring_op {
   FUZZ_OP_APPEND = 0, /* u8 n, n bytes: written at the tail, tail published */
   FUZZ_OP_TAIL,       /* u32: the tail word */
   FUZZ_OP_HEAD,       /* u32: the head word (the consumer's) */
   FUZZ_OP_STATUS,     /* u32: the status word */
   FUZZ_OP_WORD,       /* u32 offset, u32 value: any word of the blob */
   FUZZ_OP_WAKE,       /* a futex wake on the tail, then up to 2 ms for the head */
   FUZZ_OP_RING_CMD,   /* u8 which, u32 a, u32 b: a context-path ring command */
   FUZZ_OP_STREAM,     /* u8 n, n bytes: a raw context-path stream */
};

/* FUZZ_OP_RING_CMD's `which` (modulo 4; bit 7: the ring id is `a`) */
enum fuzz_ring_cmd {
   FUZZ_CMD_NOTIFY = 0,    /* vkNotifyRingMESA, seqno b */
   FUZZ_CMD_WAIT_SEQNO,    /* vkWaitRingSeqnoMESA for the tail less (b & 0xff) */
   FUZZ_CMD_WRITE_EXTRA,   /* vkWriteRingExtraMESA, offset b, value a */
   FUZZ_CMD_VIRTQUEUE,     /* vkSubmitVirtqueueSeqnoMESA, seqno b */
};

static inline _Atomic uint32_t *
fuzz_word(uint8_t *map, uint32_t offset)
{
   return (_Atomic uint32_t *)(map + (offset & (FUZZ_BLOB_SIZE - 4) & ~3u));
}

/* mostly valid layouts, with every field open to the input */
static inline VkRingCreateInfoMESA
fuzz_layout(struct fuzz_input *in)
{
   const uint8_t shape = fuzz_u8(in);
   const uint32_t buffer_size = 64u << (shape & 7); /* 64 B .. 8 KiB */
   VkRingCreateInfoMESA info = vw_ring_create_info(FUZZ_RES_ID, buffer_size, 1000000);
   if (shape & FUZZ_LAYOUT_HOSTILE) {
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

/* What an input left behind, for fuzz_ring_play's `check`. */
struct fuzz_ring_end {
   struct vkr_context *ctx;
   uint8_t *map;     /* the blob, FUZZ_BLOB_SIZE bytes */
   bool has_ring;    /* vkCreateRingMESA was accepted */
   uint32_t tail;    /* the last tail the peer published */
};

typedef void (*fuzz_ring_check_fn)(const struct fuzz_ring_end *end, void *user);

/* Plays one input against a new context; `check` (if any) sees the result
 * before the context goes. False only if the test's own set-up failed. */
static bool
fuzz_ring_play(const uint8_t *data, size_t size, fuzz_ring_check_fn check, void *user)
{
   struct fuzz_input in = { data, size };
   const struct vkr_context_limits limits = {
      .max_memory_bytes = 1u << 20,
      .max_objects = 256,
      .max_ring_size = 8u << 10,
   };
   struct vkr_context *ctx = vkr_context_create(1, "fuzz-ring", NULL, &limits);
   if (!ctx)
      return false;

   int fd = -1;
   if (!vkr_context_create_resource(ctx, FUZZ_RES_ID, 2 /* HOST3D */, 1 /* MAPPABLE */, 0,
                                    FUZZ_BLOB_SIZE, &fd)) {
      vkr_context_destroy(ctx);
      return false;
   }
   uint8_t *map = mmap(NULL, FUZZ_BLOB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   if (map == MAP_FAILED) {
      vkr_context_destroy(ctx);
      return false;
   }

   const VkRingCreateInfoMESA info = fuzz_layout(&in);
   uint8_t cmd[256];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkCreateRingMESA(&e, 0, FUZZ_RING_ID, &info);
   const bool has_ring = vkr_context_submit_cmd(ctx, cmd, vp_encoder_size(&e));

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
      case FUZZ_OP_APPEND: {
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
      case FUZZ_OP_TAIL:
         tail = fuzz_u32(&in);
         atomic_store(fuzz_word(map, VW_RING_TAIL_OFFSET), tail);
         break;
      case FUZZ_OP_HEAD: /* the consumer's words, scribbled over by the peer */
         atomic_store(fuzz_word(map, VW_RING_HEAD_OFFSET), fuzz_u32(&in));
         break;
      case FUZZ_OP_STATUS:
         atomic_store(fuzz_word(map, VW_RING_STATUS_OFFSET), fuzz_u32(&in));
         break;
      case FUZZ_OP_WORD: { /* any word of the blob (extra region flags, the buffer) */
         const uint32_t offset = fuzz_u32(&in);
         atomic_store(fuzz_word(map, offset), fuzz_u32(&in));
         break;
      }
      case FUZZ_OP_WAKE:
         vu_os_futex_wake((const uint32_t *)fuzz_word(map, VW_RING_TAIL_OFFSET), 1);
         vu_os_futex_wait((const uint32_t *)fuzz_word(map, VW_RING_HEAD_OFFSET),
                          atomic_load(fuzz_word(map, VW_RING_HEAD_OFFSET)), FUZZ_WAIT_NS);
         break;
      case FUZZ_OP_RING_CMD: {
         const uint8_t which = fuzz_u8(&in);
         const uint32_t a = fuzz_u32(&in);
         const uint32_t b = fuzz_u32(&in);
         const uint64_t ring_id = which & 0x80 ? a : FUZZ_RING_ID;
         vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
         switch (which % 4) {
         case FUZZ_CMD_NOTIFY:
            vp_encode_vkNotifyRingMESA(&e, 0, ring_id, b, 0);
            break;
         case FUZZ_CMD_WAIT_SEQNO:
            /* only seqnos already written: a wait for the future is the
             * guest's own deadlock, and the renderer bounds it only by the
             * ring's idle exit */
            vp_encode_vkWaitRingSeqnoMESA(&e, 0, ring_id, tail - (b & 0xff));
            break;
         case FUZZ_CMD_WRITE_EXTRA:
            vp_encode_vkWriteRingExtraMESA(&e, 0, ring_id, b, a);
            break;
         default:
            vp_encode_vkSubmitVirtqueueSeqnoMESA(&e, 0, ring_id, b);
            break;
         }
         vkr_context_submit_cmd(ctx, cmd, vp_encoder_size(&e));
         break;
      }
      default: { /* FUZZ_OP_STREAM */
         uint32_t n = fuzz_u8(&in);
         n = n < in.left ? n : (uint32_t)in.left;
         vkr_context_submit_cmd(ctx, in.p, n);
         in.p += n;
         in.left -= n;
         break;
      }
      }
   }

   if (check) {
      const struct fuzz_ring_end end = { ctx, map, has_ring, tail };
      check(&end, user);
   }
   vkr_context_destroy(ctx);
   munmap(map, FUZZ_BLOB_SIZE);
   return true;
}

#endif
