/*
 * Renderer rings without a guest process: layout validation (transport.md
 * §C.2), a ring thread consuming commands with the head published after each
 * one, IDLE sleep and futex wake on the tail, the waiter flag, FATAL on a bad
 * stream, the seqno commands, unref of a ring's resource (the ring goes on),
 * batches and commands that wrap around the buffer's end in our layout (the
 * buffer mapped twice) and in Mesa's (copied), and the limits.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "vkr_common.h"
#include "vkr_ring.h"
#include "util/vu_os.h"
#include "transport/vw_ring_info.h"

#define BUF_SIZE 4096u
#define RING_ID 77

/* our layout (VW_RING_BUFFER_OFFSET: the buffer on a page of its own, which
 * the renderer maps twice) or Mesa's (VW_RING_MESA_BUFFER_OFFSET: wrapped
 * batches copied); the area is our layout's size either way */
static VkRingCreateInfoMESA
ring_layout(uint32_t res_id, size_t buffer_size, uint32_t buffer_offset)
{
   VkRingCreateInfoMESA info = vw_ring_create_info(res_id, (uint32_t)buffer_size, 1000000);
   info.bufferOffset = buffer_offset;
   info.extraOffset = buffer_offset + buffer_size;
   return info;
}

static VkRingCreateInfoMESA
mesa_layout(uint32_t res_id, size_t buffer_size)
{
   return ring_layout(res_id, buffer_size, VW_RING_MESA_BUFFER_OFFSET);
}

static VkRingCreateInfoMESA
our_layout(uint32_t res_id, size_t buffer_size)
{
   return ring_layout(res_id, buffer_size, VW_RING_BUFFER_OFFSET);
}

TEST(layout_validation)
{
   const uint64_t res = vw_ring_total_size(BUF_SIZE);
   const uint32_t max = 16u << 20;
   VkRingCreateInfoMESA good = mesa_layout(1, BUF_SIZE);
   CHECK(vkr_ring_validate_layout(&good, res, max) == NULL);

   VkRingCreateInfoMESA i = good;
   i.size = res + 4; /* area past the resource */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.offset = 8; /* area shifted past the end */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.offset = UINT64_MAX; /* overflow */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.bufferSize = 3000; /* not a power of two */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.bufferSize = 0;
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.bufferSize = 32u << 20; /* above 16 MiB */
   CHECK(vkr_ring_validate_layout(&i, UINT64_MAX / 2, max) != NULL);
   i = good;
   CHECK(vkr_ring_validate_layout(&i, res, 2048) != NULL); /* context limit */
   i = good;
   i.tailOffset = 2; /* misaligned */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.tailOffset = VW_RING_HEAD_OFFSET; /* overlaps head */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.statusOffset = VW_RING_MESA_BUFFER_OFFSET + 8; /* inside the buffer */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.extraSize = 6; /* not a multiple of 4 */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.extraOffset = VW_RING_MESA_BUFFER_OFFSET; /* extra overlaps the buffer */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
   i = good;
   i.extraSize = 0; /* empty extra may sit anywhere */
   i.extraOffset = VW_RING_MESA_BUFFER_OFFSET;
   CHECK(vkr_ring_validate_layout(&i, res, max) == NULL);
   i = good;
   i.extraOffset = UINT64_MAX - 2; /* offset overflow */
   CHECK(vkr_ring_validate_layout(&i, res, max) != NULL);
}

struct ring_env {
   struct vkr_context *ctx;
   uint8_t *map;
   size_t size;
   uint32_t buffer_offset;
   uint32_t tail;
};

static _Atomic uint32_t *
word(struct ring_env *env, uint32_t offset)
{
   return (_Atomic uint32_t *)(env->map + offset);
}

static bool
env_create(struct ring_env *env, const VkRingCreateInfoMESA *info)
{
   memset(env, 0, sizeof(*env));
   env->buffer_offset = (uint32_t)info->bufferOffset;
   env->ctx = vkr_context_create(3, "ring", NULL, NULL);
   env->size = vw_ring_total_size(BUF_SIZE);
   int fd = -1;
   if (!vkr_context_create_resource(env->ctx, 1, 2, 1, 0, env->size, &fd))
      return false;
   env->map = mmap(NULL, env->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   uint8_t buf[256];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateRingMESA(&e, 0, RING_ID, info);
   return vkr_context_submit_cmd(env->ctx, buf, vp_encoder_size(&e));
}

static void
env_destroy(struct ring_env *env)
{
   munmap(env->map, env->size);
   vkr_context_destroy(env->ctx);
}

static void
env_write(struct ring_env *env, const void *data, uint32_t size)
{
   uint8_t *buf = env->map + env->buffer_offset;
   for (uint32_t i = 0; i < size; i++)
      buf[(env->tail + i) & (BUF_SIZE - 1)] = ((const uint8_t *)data)[i];
   env->tail += size;
   atomic_store_explicit(word(env, VW_RING_TAIL_OFFSET), env->tail, memory_order_release);
   if (atomic_load(word(env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_IDLE)
      vu_os_futex_wake((const uint32_t *)word(env, VW_RING_TAIL_OFFSET), 1);
}

static bool
env_wait(struct ring_env *env)
{
   /* the waiter flag: the ring thread futex-wakes the head for us */
   atomic_store(word(env, env->buffer_offset + BUF_SIZE), 1);
   const uint64_t deadline = vu_os_time_ns() + 5000000000ull;
   for (;;) {
      const uint32_t head = atomic_load(word(env, VW_RING_HEAD_OFFSET));
      if (head == env->tail)
         return true;
      if ((atomic_load(word(env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL) ||
          vu_os_time_ns() > deadline)
         return false;
      vu_os_futex_wait((const uint32_t *)word(env, VW_RING_HEAD_OFFSET), head, 100000000);
   }
}

/* Batches of 0 to 6 vkEnumerateInstanceVersion, a seek of the reply stream
 * (resource 2) to the batch's slot and one with a reply, written back to
 * back over several laps, so that batches and single commands straddle the
 * buffer's end at many offsets, in both layouts: every third batch is
 * waited for, and its reply must be in its slot. */
static void
ring_wraps(const VkRingCreateInfoMESA *info)
{
   struct ring_env env;
   CHECK(env_create(&env, info));
   if (!env.map)
      return;
   int fd = -1;
   CHECK(vkr_context_create_resource(env.ctx, 2, 2, 1, 0, 4096, &fd));
   uint8_t *replies = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   CHECK(replies != MAP_FAILED);
   if (replies == MAP_FAILED) {
      env_destroy(&env);
      return;
   }
   uint8_t cmds[512];
   struct vp_encoder e;
   uint32_t version;
   const VkCommandStreamDescriptionMESA stream = { 2, 0, 4096 };
   for (uint32_t round = 1; round <= 300; round++) {
      const uint32_t slot = (round % 128) * 32;
      memset(replies + slot, 0, 32);
      vp_encoder_init_fixed(&e, cmds, sizeof(cmds));
      if (round == 1)
         vp_encode_vkSetReplyCommandStreamMESA(&e, 0, &stream);
      for (uint32_t i = 0; i < round % 7; i++)
         vp_encode_vkEnumerateInstanceVersion(&e, 0, &version);
      vp_encode_vkSeekReplyCommandStreamMESA(&e, 0, slot);
      vp_encode_vkEnumerateInstanceVersion(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT, &version);
      env_write(&env, cmds, (uint32_t)vp_encoder_size(&e));
      if (round % 3)
         continue;
      CHECK(env_wait(&env));
      struct vp_decoder dec;
      vp_decoder_init(&dec, replies + slot, 32, NULL);
      version = 0;
      CHECK_EQ(vp_decode_vkEnumerateInstanceVersion_reply(&dec, &version), VK_SUCCESS);
      CHECK(version >= VK_API_VERSION_1_0);
   }
   CHECK(env.tail > 3 * BUF_SIZE);
   CHECK(!(atomic_load(word(&env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL));
   munmap(replies, 4096);
   env_destroy(&env);
}

/* Whether the ring thread says it idles within 5 s (its idle timeout is a
 * few ms; on a loaded machine the thread may not run for a while). */
static bool
env_wait_idle(struct ring_env *env)
{
   const uint64_t deadline = vu_os_time_ns() + 5000000000ull;
   while (!(atomic_load(word(env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_IDLE)) {
      if (vu_os_time_ns() > deadline)
         return false;
      usleep(1000);
   }
   return true;
}

TEST(ring_wrap_both_layouts)
{
   const VkRingCreateInfoMESA ours = our_layout(1, BUF_SIZE);
   const VkRingCreateInfoMESA mesa = mesa_layout(1, BUF_SIZE);
   ring_wraps(&ours);
   ring_wraps(&mesa);
}

TEST(ring_thread)
{
   VkRingCreateInfoMESA info = mesa_layout(1, BUF_SIZE);
   struct ring_env env;
   CHECK(env_create(&env, &info));
   if (!env.map)
      return;

   /* goes idle */
   CHECK(env_wait_idle(&env));

   /* many small commands, wrapping the buffer several times */
   uint8_t cmds[64];
   struct vp_encoder e;
   uint32_t version;
   vp_encoder_init_fixed(&e, cmds, sizeof(cmds));
   vp_encode_vkEnumerateInstanceVersion(&e, 0, &version);
   const uint32_t n = (uint32_t)vp_encoder_size(&e);
   for (int round = 0; round < 20; round++) {
      for (int i = 0; i < 100; i++)
         env_write(&env, cmds, n);
      CHECK(env_wait(&env));
   }
   CHECK(!(atomic_load(word(&env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL));

   /* vkSubmitVirtqueueSeqnoMESA(3) on the context path lets the ring's
    * vkWaitVirtqueueSeqnoMESA(3) go on */
   uint8_t wait_cmd[64];
   vp_encoder_init_fixed(&e, wait_cmd, sizeof(wait_cmd));
   vp_encode_vkWaitVirtqueueSeqnoMESA(&e, 0, 3);
   env_write(&env, wait_cmd, (uint32_t)vp_encoder_size(&e));
   usleep(20000);
   CHECK(atomic_load(word(&env, VW_RING_HEAD_OFFSET)) != env.tail);
   uint8_t ctx_cmd[64];
   vp_encoder_init_fixed(&e, ctx_cmd, sizeof(ctx_cmd));
   vp_encode_vkSubmitVirtqueueSeqnoMESA(&e, 0, RING_ID, 3);
   CHECK(vkr_context_submit_cmd(env.ctx, ctx_cmd, vp_encoder_size(&e)));
   CHECK(env_wait(&env));

   /* vkWaitRingSeqnoMESA for what was written returns */
   vp_encoder_init_fixed(&e, ctx_cmd, sizeof(ctx_cmd));
   vp_encode_vkWaitRingSeqnoMESA(&e, 0, RING_ID, env.tail);
   CHECK(vkr_context_submit_cmd(env.ctx, ctx_cmd, vp_encoder_size(&e)));

   /* vkWriteRingExtraMESA: inside the extra region only */
   vp_encoder_init_fixed(&e, ctx_cmd, sizeof(ctx_cmd));
   vp_encode_vkWriteRingExtraMESA(&e, 0, RING_ID, 8, 0xabcd);
   CHECK(vkr_context_submit_cmd(env.ctx, ctx_cmd, vp_encoder_size(&e)));
   CHECK_EQ(atomic_load(word(&env, env.buffer_offset + BUF_SIZE + 8)), 0xabcd);

   /* unreferencing the ring's resource drops its id only: the ring keeps
    * the memory and goes on (a guest process exiting without destroying its
    * rings; the VM's kernel releases resources before the context) */
   CHECK(vkr_context_destroy_resource(env.ctx, 1));
   CHECK(!vkr_context_is_fatal(env.ctx));
   CHECK(vkr_context_get_resource(env.ctx, 1) == NULL);
   for (int i = 0; i < 100; i++)
      env_write(&env, cmds, n);
   CHECK(env_wait(&env));
   CHECK(!(atomic_load(word(&env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL));
   vp_encoder_init_fixed(&e, ctx_cmd, sizeof(ctx_cmd));
   vp_encode_vkDestroyRingMESA(&e, 0, RING_ID);
   CHECK(vkr_context_submit_cmd(env.ctx, ctx_cmd, vp_encoder_size(&e)));
   CHECK(!vkr_context_is_fatal(env.ctx));
   env_destroy(&env);
}

/* The driver publishes a command and at once asks the context path to wait
 * for it (vkWaitRingSeqnoMESA ahead of a blob of memory the ring just
 * allocated), over and over while the ring thread polls: the wait must
 * never be taken for one on bytes never written. The ring thread once
 * compared the awaited seqno with a tail it had read before the wait was
 * announced, and made the context fatal (seen in test_stress and
 * test_install as a dropped client). */
TEST(ring_wait_right_after_write)
{
   VkRingCreateInfoMESA info = mesa_layout(1, BUF_SIZE);
   struct ring_env env;
   CHECK(env_create(&env, &info));
   if (!env.map)
      return;
   uint8_t cmds[64], ctx_cmd[64];
   struct vp_encoder e;
   uint32_t version;
   vp_encoder_init_fixed(&e, cmds, sizeof(cmds));
   vp_encode_vkEnumerateInstanceVersion(&e, 0, &version);
   const uint32_t n = (uint32_t)vp_encoder_size(&e);
   uint32_t rounds = 0;
   const uint64_t end = vu_os_time_ns() + 3000000000ull;
   while (vu_os_time_ns() < end && !vkr_context_is_fatal(env.ctx)) {
      env_write(&env, cmds, n);
      vp_encoder_init_fixed(&e, ctx_cmd, sizeof(ctx_cmd));
      vp_encode_vkWaitRingSeqnoMESA(&e, 0, RING_ID, env.tail);
      if (!vkr_context_submit_cmd(env.ctx, ctx_cmd, vp_encoder_size(&e)))
         break;
      rounds++;
   }
   CHECK(!vkr_context_is_fatal(env.ctx));
   CHECK(rounds > 1000);
   fprintf(stderr, "ring_wait_right_after_write: %u rounds\n", rounds);
   env_destroy(&env);
}

TEST(ring_fatal)
{
   VkRingCreateInfoMESA info = mesa_layout(1, BUF_SIZE);
   struct ring_env env;
   CHECK(env_create(&env, &info));
   const uint32_t garbage[2] = { 4000, 0 };
   env_write(&env, garbage, sizeof(garbage));
   CHECK(!env_wait(&env));
   CHECK(atomic_load(word(&env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL);
   CHECK(vkr_context_is_fatal(env.ctx));
   env_destroy(&env);

   /* a tail further ahead than the buffer */
   CHECK(env_create(&env, &info));
   atomic_store(word(&env, VW_RING_TAIL_OFFSET), BUF_SIZE + 4);
   vu_os_futex_wake((const uint32_t *)word(&env, VW_RING_TAIL_OFFSET), 1);
   const uint64_t deadline = vu_os_time_ns() + 5000000000ull;
   while (!(atomic_load(word(&env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL) &&
          vu_os_time_ns() < deadline)
      usleep(1000);
   CHECK(atomic_load(word(&env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL);
   env_destroy(&env);

   /* vkWaitRingSeqnoMESA for bytes never written */
   CHECK(env_create(&env, &info));
   uint8_t cmd[64];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkWaitRingSeqnoMESA(&e, 0, RING_ID, 64);
   CHECK(!vkr_context_submit_cmd(env.ctx, cmd, vp_encoder_size(&e)));
   CHECK(vkr_context_is_fatal(env.ctx));
   env_destroy(&env);

   /* the ring waits for a virtqueue seqno the context path never
    * submitted, and the context path waits for the ring behind that wait:
    * each would wait for the other forever (found by fuzz_ring) */
   CHECK(env_create(&env, &info));
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkWaitVirtqueueSeqnoMESA(&e, 0, 5);
   env_write(&env, cmd, (uint32_t)vp_encoder_size(&e));
   usleep(20000);
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkWaitRingSeqnoMESA(&e, 0, RING_ID, env.tail);
   const uint64_t start = vu_os_time_ns();
   CHECK(!vkr_context_submit_cmd(env.ctx, cmd, vp_encoder_size(&e)));
   CHECK(vu_os_time_ns() - start < 2000000000ull);
   CHECK(vkr_context_is_fatal(env.ctx));
   env_destroy(&env);
   /* a wait that the context path releases first is no deadlock */
   CHECK(env_create(&env, &info));
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkSubmitVirtqueueSeqnoMESA(&e, 0, RING_ID, 5);
   CHECK(vkr_context_submit_cmd(env.ctx, cmd, vp_encoder_size(&e)));
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkWaitVirtqueueSeqnoMESA(&e, 0, 5);
   env_write(&env, cmd, (uint32_t)vp_encoder_size(&e));
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkWaitRingSeqnoMESA(&e, 0, RING_ID, env.tail);
   CHECK(vkr_context_submit_cmd(env.ctx, cmd, vp_encoder_size(&e)));
   CHECK(!vkr_context_is_fatal(env.ctx));
   env_destroy(&env);

   /* ring-only and context-only commands on the wrong path */
   CHECK(env_create(&env, &info));
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkWaitVirtqueueSeqnoMESA(&e, 0, 1);
   CHECK(!vkr_context_submit_cmd(env.ctx, cmd, vp_encoder_size(&e)));
   env_destroy(&env);
   CHECK(env_create(&env, &info));
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkNotifyRingMESA(&e, 0, RING_ID, 0, 0);
   env_write(&env, cmd, (uint32_t)vp_encoder_size(&e));
   CHECK(!env_wait(&env));
   CHECK(atomic_load(word(&env, VW_RING_STATUS_OFFSET)) & VW_RING_STATUS_FATAL);
   env_destroy(&env);
}

TEST(ring_create_rules)
{
   struct ring_env env;
   VkRingCreateInfoMESA info = mesa_layout(1, BUF_SIZE);

   /* a nonzero head at creation */
   struct vkr_context *ctx = vkr_context_create(4, "ring", NULL, NULL);
   int fd = -1;
   const size_t size = vw_ring_total_size(BUF_SIZE);
   CHECK(vkr_context_create_resource(ctx, 1, 2, 1, 0, size, &fd));
   uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   *(uint32_t *)map = 4;
   uint8_t buf[256];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateRingMESA(&e, 0, RING_ID, &info);
   CHECK(!vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e)));
   munmap(map, size);
   vkr_context_destroy(ctx);

   /* unknown resource, duplicate ring id, monitor period 0 */
   info.resourceId = 9;
   CHECK(!env_create(&env, &info));
   env_destroy(&env);
   info.resourceId = 1;
   CHECK(env_create(&env, &info));
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateRingMESA(&e, 0, RING_ID, &info);
   CHECK(!vkr_context_submit_cmd(env.ctx, buf, vp_encoder_size(&e)));
   env_destroy(&env);
   const VkRingMonitorInfoMESA monitor = { .sType = VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA };
   info.pNext = &monitor;
   CHECK(!env_create(&env, &info));
   env_destroy(&env);

   /* destroy, then the id is free again */
   info.pNext = NULL;
   CHECK(env_create(&env, &info));
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkDestroyRingMESA(&e, 0, RING_ID);
   vp_encode_vkDestroyRingMESA(&e, 0, RING_ID);
   CHECK(!vkr_context_submit_cmd(env.ctx, buf, vp_encoder_size(&e))); /* 2nd: unknown */
   env_destroy(&env);
}

/* a ring on resource `res_id` of `ctx` (made here); submit's result */
static bool
ring_on_new_resource(struct vkr_context *ctx,
                     uint32_t res_id,
                     uint64_t ring_id,
                     uint32_t buffer_offset)
{
   int fd = -1;
   if (!vkr_context_create_resource(ctx, res_id, 2, 1, 0, vw_ring_total_size(BUF_SIZE), &fd))
      return false;
   close(fd);
   VkRingCreateInfoMESA info = ring_layout(res_id, BUF_SIZE, buffer_offset);
   uint8_t buf[256];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkCreateRingMESA(&e, 0, ring_id, &info);
   return vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e));
}

TEST(ring_limits)
{
   /* at most VKR_MAX_RINGS rings (threads) per context */
   struct vkr_context *ctx = vkr_context_create(5, "ring", NULL, NULL);
   for (uint32_t i = 1; i <= VKR_MAX_RINGS; i++) {
      if (!ring_on_new_resource(ctx, i, 1000 + i, VW_RING_MESA_BUFFER_OFFSET)) {
         CHECK(!"a ring under the limit was refused");
         break;
      }
   }
   CHECK(!vkr_context_is_fatal(ctx));
   CHECK(!ring_on_new_resource(ctx, VKR_MAX_RINGS + 1, 1000 + VKR_MAX_RINGS + 1,
                               VW_RING_MESA_BUFFER_OFFSET));
   CHECK(vkr_context_is_fatal(ctx));
   vkr_context_destroy(ctx);

   /* a ring that needs a private copy of its buffer (Mesa's layout) counts
    * it against the context's memory: room for the resource but not for the
    * copy; our layout's ring maps its buffer twice and needs none */
   const struct vkr_context_limits limits = {
      .max_memory_bytes = vw_ring_total_size(BUF_SIZE) + BUF_SIZE / 2,
   };
   ctx = vkr_context_create(6, "ring", NULL, &limits);
   CHECK(!ring_on_new_resource(ctx, 1, 1, VW_RING_MESA_BUFFER_OFFSET));
   CHECK(vkr_context_is_fatal(ctx));
   vkr_context_destroy(ctx);
   ctx = vkr_context_create(6, "ring", NULL, &limits);
   CHECK(ring_on_new_resource(ctx, 1, 1, VW_RING_BUFFER_OFFSET));
   CHECK(!vkr_context_is_fatal(ctx));
   vkr_context_destroy(ctx);
   const struct vkr_context_limits enough = {
      .max_memory_bytes = vw_ring_total_size(BUF_SIZE) + BUF_SIZE,
   };
   ctx = vkr_context_create(7, "ring", NULL, &enough);
   CHECK(ring_on_new_resource(ctx, 1, 1, VW_RING_MESA_BUFFER_OFFSET));
   CHECK(!vkr_context_is_fatal(ctx));
   vkr_context_destroy(ctx);
}

RUN_TESTS(layout_validation, ring_thread, ring_wrap_both_layouts, ring_wait_right_after_write,
          ring_fatal, ring_create_rules,
          ring_limits)
