/*
 * Renderer contexts without a guest: the object table (create rejects id 0
 * and duplicates, lookup rejects unknown ids and wrong types, the lookup
 * cache never returns a removed object), the object limit, the sticky fatal
 * flag, shared-memory resources and the memory limit, reply streams,
 * nesting of vkExecuteCommandStreamsMESA, ring-0 fences and the capset.
 */
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vkr_common.h"
#include "transport/vw_capset.h"

static struct vkr_context *
new_context(uint32_t max_objects, uint64_t max_memory)
{
   const struct vkr_context_limits limits = {
      .max_objects = max_objects,
      .max_memory_bytes = max_memory,
   };
   return vkr_context_create(1, "unit", NULL, &limits);
}

static struct vkr_object *
new_object(uint64_t id, VkObjectType type)
{
   struct vkr_object *obj = calloc(1, sizeof(*obj));
   obj->base.id = id;
   obj->base.type = type;
   obj->base.handle = id * 16;
   return obj;
}

TEST(object_table)
{
   struct vkr_context *ctx = new_context(0, 0);
   struct vkr_decoder *dec = vkr_decoder_create(ctx, NULL);
   struct vp_dispatch *d = &dec->dispatch;

   /* id 0 */
   CHECK(!vkr_dispatch_check_new_id(d, 0, VK_OBJECT_TYPE_BUFFER));
   CHECK(vp_decoder_is_fatal(&dec->dec));
   dec->dec.fatal = false;

   struct vkr_object *a = new_object(7, VK_OBJECT_TYPE_BUFFER);
   CHECK(vkr_dispatch_check_new_id(d, 7, VK_OBJECT_TYPE_BUFFER));
   CHECK(vkr_dispatch_add_object(d, a));
   CHECK(!vp_decoder_is_fatal(&dec->dec));

   /* duplicate, whatever the type */
   CHECK(!vkr_dispatch_check_new_id(d, 7, VK_OBJECT_TYPE_IMAGE));
   CHECK(vp_decoder_is_fatal(&dec->dec));
   dec->dec.fatal = false;
   struct vkr_object *dup = new_object(7, VK_OBJECT_TYPE_IMAGE);
   CHECK(!vkr_dispatch_add_object(d, dup));
   CHECK(vp_decoder_is_fatal(&dec->dec));
   dec->dec.fatal = false;
   free(dup);

   /* lookup: right type, wrong type, unknown */
   CHECK(dec->dec.lookup(dec->dec.lookup_data, 7, VK_OBJECT_TYPE_BUFFER) == a);
   CHECK(dec->dec.lookup(dec->dec.lookup_data, 7, VK_OBJECT_TYPE_BUFFER) == a); /* cached */
   CHECK(dec->dec.lookup(dec->dec.lookup_data, 7, VK_OBJECT_TYPE_IMAGE) == NULL);
   CHECK(dec->dec.lookup(dec->dec.lookup_data, 8, VK_OBJECT_TYPE_BUFFER) == NULL);
   CHECK(vkr_context_get_object(ctx, 7, VK_OBJECT_TYPE_BUFFER) == a);

   /* the cache must not outlive a removal */
   vkr_context_remove_object(ctx, a);
   CHECK(dec->dec.lookup(dec->dec.lookup_data, 7, VK_OBJECT_TYPE_BUFFER) == NULL);
   /* and the id is free again */
   CHECK(vkr_dispatch_check_new_id(d, 7, VK_OBJECT_TYPE_BUFFER));

   /* dispatchable and other handles are cached separately */
   struct vkr_object *cb = new_object(100, VK_OBJECT_TYPE_COMMAND_BUFFER);
   struct vkr_object *pl = new_object(101, VK_OBJECT_TYPE_PIPELINE);
   CHECK(vkr_dispatch_add_object(d, cb));
   CHECK(vkr_dispatch_add_object(d, pl));
   for (int i = 0; i < 3; i++) {
      CHECK(dec->dec.lookup(dec->dec.lookup_data, 100, VK_OBJECT_TYPE_COMMAND_BUFFER) == cb);
      CHECK(dec->dec.lookup(dec->dec.lookup_data, 101, VK_OBJECT_TYPE_PIPELINE) == pl);
   }
   CHECK(dec->cache[0].obj == cb);
   CHECK(dec->cache[1].obj == pl);
   vkr_context_remove_object(ctx, cb);
   vkr_context_remove_object(ctx, pl);
   CHECK(!vkr_context_is_fatal(ctx));

   vkr_decoder_destroy(dec);
   vkr_context_destroy(ctx);
}

TEST(object_limit)
{
   struct vkr_context *ctx = new_context(2, 0);
   struct vkr_decoder *dec = vkr_decoder_create(ctx, NULL);
   struct vkr_object *o[3];
   for (int i = 0; i < 3; i++)
      o[i] = new_object(10 + i, VK_OBJECT_TYPE_SAMPLER);
   CHECK(vkr_dispatch_add_object(&dec->dispatch, o[0]));
   CHECK(vkr_dispatch_add_object(&dec->dispatch, o[1]));
   CHECK(!vkr_dispatch_add_object(&dec->dispatch, o[2]));
   CHECK(vp_decoder_is_fatal(&dec->dec));
   free(o[2]);
   vkr_context_remove_object(ctx, o[0]);
   vkr_context_remove_object(ctx, o[1]);
   vkr_decoder_destroy(dec);
   vkr_context_destroy(ctx);
}

/* plain objects of a create are recycled on removal: zeroed again, under
 * their new id only, and the kept list is bounded */
TEST(object_recycling)
{
   struct vkr_context *ctx = new_context(0, 0);
   struct vkr_decoder *dec = vkr_decoder_create(ctx, NULL);
   struct vp_dispatch *d = &dec->dispatch;
   struct vkr_object parent = { 0 };

   struct vkr_object *a = vkr_dispatch_add_device_object(d, &parent, VK_OBJECT_TYPE_BUFFER, 1, 16);
   CHECK(a && a->recycled);
   a->sparse = true;
   vkr_context_remove_object(ctx, a);
   struct vkr_object *b = vkr_dispatch_add_device_object(d, &parent, VK_OBJECT_TYPE_SAMPLER, 2, 32);
   CHECK(b);
#if defined(__SANITIZE_ADDRESS__)
   CHECK_EQ(ctx->free_object_count, 0u); /* AddressSanitizer builds free them */
#else
   CHECK(b == a);
#endif
   CHECK(!b->sparse && !b->pool);
   CHECK_EQ(b->base.id, 2u);
   CHECK_EQ(b->base.handle, 32u);
   CHECK(vkr_context_get_object(ctx, 1, VK_OBJECT_TYPE_BUFFER) == NULL);
   CHECK(vkr_context_get_object(ctx, 2, VK_OBJECT_TYPE_SAMPLER) == b);
   CHECK(dec->dec.lookup(dec->dec.lookup_data, 1, VK_OBJECT_TYPE_BUFFER) == NULL);
   vkr_context_remove_object(ctx, b);

   /* objects not made by a create (new_object's) are freed, not kept */
   struct vkr_object *c = new_object(3, VK_OBJECT_TYPE_IMAGE);
   CHECK(vkr_dispatch_add_object(d, c));
   const uint32_t kept = ctx->free_object_count;
   vkr_context_remove_object(ctx, c);
   CHECK_EQ(ctx->free_object_count, kept);

   struct vkr_object *many[300];
   for (uint32_t i = 0; i < 300; i++) {
      many[i] = vkr_dispatch_add_device_object(d, &parent, VK_OBJECT_TYPE_EVENT, 100 + i, 1);
      CHECK(many[i]);
   }
   for (uint32_t i = 0; i < 300; i++)
      vkr_context_remove_object(ctx, many[i]);
#if defined(__SANITIZE_ADDRESS__)
   CHECK_EQ(ctx->free_object_count, 0u);
#else
   CHECK_EQ(ctx->free_object_count, 256u);
#endif
   CHECK(!vp_decoder_is_fatal(&dec->dec));
   vkr_decoder_destroy(dec);
   vkr_context_destroy(ctx); /* frees the kept ones */
}

TEST(sticky_fatal)
{
   struct vkr_context *ctx = new_context(0, 0);
   uint32_t version_cmd[4];
   struct vp_encoder e;
   uint32_t version;
   vp_encoder_init_fixed(&e, version_cmd, sizeof(version_cmd));
   vp_encode_vkEnumerateInstanceVersion(&e, 0, &version);
   const size_t good_size = vp_encoder_size(&e);

   CHECK(vkr_context_submit_cmd(ctx, version_cmd, good_size));
   CHECK(!vkr_context_is_fatal(ctx));

   /* truncated: 4 bytes of a command header */
   CHECK(!vkr_context_submit_cmd(ctx, version_cmd, 4));
   CHECK(vkr_context_is_fatal(ctx));
   /* everything after fails at once */
   CHECK(!vkr_context_submit_cmd(ctx, version_cmd, good_size));
   vkr_context_destroy(ctx);

   /* command types outside the table, and a stream that is not 4-aligned */
   const uint32_t bad_types[][2] = { { 335, 0 }, { 0xffffffffu, 0 }, { 195, 0 } };
   for (int i = 0; i < 3; i++) {
      ctx = new_context(0, 0);
      CHECK(!vkr_context_submit_cmd(ctx, bad_types[i], sizeof(bad_types[i])));
      CHECK(vkr_context_is_fatal(ctx));
      vkr_context_destroy(ctx);
   }
   ctx = new_context(0, 0);
   CHECK(!vkr_context_submit_cmd(ctx, version_cmd, good_size - 1));
   vkr_context_destroy(ctx);
}

TEST(resources)
{
   struct vkr_context *ctx = new_context(0, 1 << 20);
   int fd = -1;
   /* blob_id 0 needs HOST3D + exactly MAPPABLE */
   CHECK(!vkr_context_create_resource(ctx, 1, 2, 3, 0, 4096, &fd));
   CHECK(!vkr_context_create_resource(ctx, 1, 1, 1, 0, 4096, &fd));
   CHECK(!vkr_context_create_resource(ctx, 1, 2, 1, 0, 0, &fd));
   CHECK(vkr_context_create_resource(ctx, 1, 2, 1, 0, 4096, &fd));
   CHECK(fd >= 0);
   struct stat st;
   CHECK(fstat(fd, &st) == 0 && st.st_size == 4096);
   close(fd);
   /* duplicate resource id, id 0 */
   CHECK(!vkr_context_create_resource(ctx, 1, 2, 1, 0, 4096, &fd));
   CHECK(!vkr_context_create_resource(ctx, 0, 2, 1, 0, 4096, &fd));
   /* memory limit (1 MiB) */
   CHECK(!vkr_context_create_resource(ctx, 2, 2, 1, 0, 2 << 20, &fd));
   CHECK(vkr_context_create_resource(ctx, 2, 2, 1, 0, 512 << 10, &fd));
   close(fd);
   CHECK(!vkr_context_create_resource(ctx, 3, 2, 1, 0, 512 << 10, &fd));
   CHECK(vkr_context_destroy_resource(ctx, 2));
   CHECK(vkr_context_create_resource(ctx, 3, 2, 1, 0, 512 << 10, &fd));
   close(fd);
   /* a device-memory blob naming nothing */
   CHECK(!vkr_context_create_resource(ctx, 4, 2, 1, 0x1234, 4096, &fd));
   CHECK(!vkr_context_destroy_resource(ctx, 99));
   CHECK(!vkr_context_is_fatal(ctx));
   vkr_context_destroy(ctx);
}

/* a context-path stream with a reply stream in resource 1 */
TEST(reply_stream)
{
   struct vkr_context *ctx = new_context(0, 0);
   int fd = -1;
   CHECK(vkr_context_create_resource(ctx, 1, 2, 1, 0, 4096, &fd));
   uint8_t *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);
   CHECK(map != MAP_FAILED);

   uint8_t buf[256];
   struct vp_encoder e;
   uint32_t version;
   const VkCommandStreamDescriptionMESA stream = { 1, 64, 128 };
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkSetReplyCommandStreamMESA(&e, 0, &stream);
   vp_encode_vkEnumerateInstanceVersion(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT, &version);
   vp_encode_vkSeekReplyCommandStreamMESA(&e, 0, 32);
   vp_encode_vkEnumerateInstanceVersion(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT, &version);
   CHECK(vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e)));

   for (int i = 0; i < 2; i++) {
      struct vp_decoder dec;
      vp_decoder_init(&dec, map + 64 + 32 * i, 64, NULL);
      version = 0;
      CHECK_EQ(vp_decode_vkEnumerateInstanceVersion_reply(&dec, &version), VK_SUCCESS);
      /* at most the minor version of the registry the stack is built from */
      CHECK(version >= VK_API_VERSION_1_0 &&
            VK_API_VERSION_MINOR(version) <= VK_API_VERSION_MINOR(VK_HEADER_VERSION_COMPLETE));
   }

   /* seek past the stream's size is fatal */
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkSeekReplyCommandStreamMESA(&e, 0, 129);
   CHECK(!vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e)));
   munmap(map, 4096);
   vkr_context_destroy(ctx);

   /* a reply stream outside its resource */
   ctx = new_context(0, 0);
   CHECK(vkr_context_create_resource(ctx, 1, 2, 1, 0, 4096, &fd));
   close(fd);
   const VkCommandStreamDescriptionMESA outside = { 1, 4000, 128 };
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkSetReplyCommandStreamMESA(&e, 0, &outside);
   CHECK(!vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e)));
   vkr_context_destroy(ctx);
}

TEST(execute_streams)
{
   struct vkr_context *ctx = new_context(0, 0);
   int fd = -1;
   CHECK(vkr_context_create_resource(ctx, 1, 2, 1, 0, 4096, &fd));
   uint8_t *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   close(fd);

   /* resource 1 holds: a reply-stream set and a version query */
   struct vp_encoder e;
   uint32_t version;
   const VkCommandStreamDescriptionMESA reply = { 1, 2048, 1024 };
   vp_encoder_init_fixed(&e, map, 1024);
   vp_encode_vkSetReplyCommandStreamMESA(&e, 0, &reply);
   vp_encode_vkEnumerateInstanceVersion(&e, VK_COMMAND_GENERATE_REPLY_BIT_EXT, &version);
   const VkCommandStreamDescriptionMESA inner = { 1, 0, vp_encoder_size(&e) };

   uint8_t buf[256];
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkExecuteCommandStreamsMESA(&e, 0, 1, &inner, NULL, 0, NULL, 0);
   vp_encode_vkExecuteCommandStreamsMESA(&e, 0, 1, &inner, NULL, 0, NULL, 0);
   CHECK(vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e)));
   struct vp_decoder dec;
   vp_decoder_init(&dec, map + 2048, 64, NULL);
   CHECK_EQ(vp_decode_vkEnumerateInstanceVersion_reply(&dec, &version), VK_SUCCESS);

   /* nesting is fatal: a stream that executes itself */
   vp_encoder_init_fixed(&e, map + 1024, 512);
   const VkCommandStreamDescriptionMESA self = { 1, 1024, 0 };
   vp_encode_vkExecuteCommandStreamsMESA(&e, 0, 1, &self, NULL, 0, NULL, 0);
   const VkCommandStreamDescriptionMESA nested = { 1, 1024, vp_encoder_size(&e) };
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkExecuteCommandStreamsMESA(&e, 0, 1, &nested, NULL, 0, NULL, 0);
   CHECK(!vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e)));
   CHECK(vkr_context_is_fatal(ctx));
   munmap(map, 4096);
   vkr_context_destroy(ctx);

   /* a stream outside its resource, and streamCount 0 */
   ctx = new_context(0, 0);
   CHECK(vkr_context_create_resource(ctx, 1, 2, 1, 0, 4096, &fd));
   close(fd);
   const VkCommandStreamDescriptionMESA outside = { 1, 4096, 4 };
   vp_encoder_init_fixed(&e, buf, sizeof(buf));
   vp_encode_vkExecuteCommandStreamsMESA(&e, 0, 1, &outside, NULL, 0, NULL, 0);
   CHECK(!vkr_context_submit_cmd(ctx, buf, vp_encoder_size(&e)));
   vkr_context_destroy(ctx);
}

static uint32_t retired_ring;
static uint64_t retired_id;
static int retired_count;

static void
on_retire(void *data, uint32_t ring_idx, uint64_t fence_id)
{
   retired_ring = ring_idx;
   retired_id = fence_id;
   retired_count++;
}

TEST(fences)
{
   const struct vkr_context_callbacks cbs = { .retire_fence = on_retire };
   struct vkr_context *ctx = vkr_context_create(2, "fences", &cbs, NULL);
   CHECK(vkr_context_submit_fence(ctx, 0, 42));
   struct pollfd pfd = { .fd = vkr_context_get_fence_fd(ctx), .events = POLLIN };
   CHECK_EQ(poll(&pfd, 1, 1000), 1);
   vkr_context_retire_fences(ctx);
   CHECK_EQ(retired_count, 1);
   CHECK_EQ(retired_ring, 0);
   CHECK_EQ(retired_id, 42);
   /* the eventfd is drained */
   CHECK_EQ(poll(&pfd, 1, 0), 0);
   /* timelines without a queue, and out of range */
   CHECK(!vkr_context_submit_fence(ctx, 5, 43));
   CHECK(!vkr_context_submit_fence(ctx, 64, 44));
   vkr_context_destroy(ctx);
}

TEST(capset)
{
   struct vw_capset c;
   CHECK_EQ(vkr_renderer_get_capset(4, 0, &c, sizeof(c)), 160);
   CHECK_EQ(vkr_renderer_get_capset(4, 1, &c, sizeof(c)), 0);
   CHECK_EQ(vkr_renderer_get_capset(3, 0, &c, sizeof(c)), 0);
   CHECK_EQ(c.wire_format_version, 1);
   CHECK_EQ(c.supports_blob_id_0, 1);
   CHECK_EQ(c.allow_vk_wait_syncs, 1);
   CHECK_EQ(c.supports_multiple_timelines, 1);
   CHECK(vw_capset_has_extension(&c, 385));
   /* the registry carried, whatever the host loader's version (a 1.3
    * loader carries a 1.4 device: renderer.md) */
   CHECK_EQ(c.vk_xml_version, VP_VK_XML_VERSION);
   /* every protocol extension is in the mask */
   for (unsigned i = 0; i < vp_extension_count; i++)
      CHECK(vw_capset_has_extension(&c, vp_extensions[i].number));
   /* a short buffer gets a prefix */
   uint32_t first[2] = { 0, 0 };
   CHECK_EQ(vkr_renderer_get_capset(4, 0, first, 4), 160);
   CHECK_EQ(first[0], 1);
   CHECK_EQ(first[1], 0);
}

RUN_TESTS(object_table, object_limit, object_recycling, sticky_fatal, resources, reply_stream, execute_streams,
          fences, capset)
