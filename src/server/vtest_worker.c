/*
 * One vtest client: reads its requests strictly in order (transport.md §A.2)
 * and maps them onto one renderer context. The socket and the context's fence
 * eventfd are polled together, so fences retire and sync waits time out while
 * the client is idle. Any protocol error logs one line and ends the session:
 * the caller (a forked worker, normally) then exits; the server carries on.
 */
#include "vtest_server.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/vu_idmap.h"
#include "util/vu_log.h"
#include "util/vu_os.h"
#include "transport/vw_capset.h"
#include "transport/vw_vtest.h"
#include "worker/vwk_worker.h"

#include "vtest_sync.h"

#define VTEST_LEN_VARIABLE (-1)
/* the largest capset we relay; Venus' is 160 bytes */
#define VTEST_MAX_CAPSET_DWORDS 256u
/* payload buffers above this size are freed after their request */
#define VTEST_KEEP_BUFFER_BYTES (4u << 20)
/* shown in logs and passed to the renderer; longer names are truncated */
#define VTEST_DEBUG_NAME_LEN 64

struct vtest_resource {
   int fd; /* kept for VCMD_RESOURCE_EXPORT_FD; closed at unref */
};

/* Result of one request: go on, or end the session. */
enum vtest_status {
   VTEST_STATUS_OK,
   VTEST_STATUS_CLOSED,  /* the client closed the connection between requests */
   VTEST_STATUS_DROPPED, /* protocol error or failure: the client is dropped */
};

struct vtest_client {
   int sock;
   uint32_t id;
   const struct vtest_options *opts;

   bool has_renderer; /* VCMD_CREATE_RENDERER seen (always the first request) */
   char debug_name[VTEST_DEBUG_NAME_LEN];
   uint32_t protocol_version; /* 0 until VCMD_PROTOCOL_VERSION */

   uint32_t capset_id; /* from VCMD_CONTEXT_INIT; the context exists iff nonzero */
   struct vkr_context *ctx;
   bool is_destroying; /* ignore fence callbacks while the context goes away */

   struct vu_idmap resources; /* res_id -> struct vtest_resource * */
   uint32_t resource_count;
   uint32_t next_res_id; /* server-assigned, from 1 */

   struct vtest_syncs syncs;

   uint32_t *buf; /* payload of the current request */
   size_t buf_size;

   enum vtest_status status; /* of the last request */
};

struct vtest_command {
   const char *name;
   bool (*handle)(struct vtest_client *client, const uint32_t *payload, uint32_t length);
   int32_t length;     /* exact payload length in dwords, or VTEST_LEN_VARIABLE */
   bool needs_context; /* upstream would create a context lazily; we need Venus */
};

static bool vtest_client_error(const struct vtest_client *client, const char *fmt, ...)
   __attribute__((format(printf, 2, 3)));

/* Logs one line about why the client is dropped; returns false. */
static bool
vtest_client_error(const struct vtest_client *client, const char *fmt, ...)
{
   char msg[256];
   va_list args;
   va_start(args, fmt);
   vsnprintf(msg, sizeof(msg), fmt, args);
   va_end(args);
   vu_log(VU_LOG_WARN, "server", "client %u (%s): %s; dropping it", client->id,
          client->debug_name, msg);
   return false;
}

static bool
vtest_client_reply(struct vtest_client *client,
                   uint32_t cmd_id,
                   const uint32_t *data,
                   uint32_t dwords)
{
   uint32_t msg[VTEST_HDR_SIZE + VTEST_MAX_CAPSET_DWORDS + 1];

   if (dwords > VTEST_MAX_CAPSET_DWORDS + 1)
      return vtest_client_error(client, "reply of %u dwords too large", dwords);
   msg[VTEST_CMD_LEN] = dwords;
   msg[VTEST_CMD_ID] = cmd_id;
   if (dwords)
      memcpy(&msg[VTEST_HDR_SIZE], data, dwords * sizeof(uint32_t));
   if (!vu_os_write_full(client->sock, msg, (VTEST_HDR_SIZE + dwords) * sizeof(uint32_t)))
      return vtest_client_error(client, "reply write failed: errno %d", errno);
   return true;
}

/* A reply without data followed by one fd (the fd stays the caller's). */
static bool
vtest_client_reply_fd(struct vtest_client *client,
                      uint32_t cmd_id,
                      const uint32_t *data,
                      uint32_t dwords,
                      int fd)
{
   if (!vtest_client_reply(client, cmd_id, data, dwords))
      return false;
   if (!vu_os_send_fd(client->sock, fd))
      return vtest_client_error(client, "fd send failed: errno %d", errno);
   return true;
}

static void
vtest_client_retire_fence(void *data, uint32_t ring_idx, uint64_t fence_id)
{
   struct vtest_client *client = data;
   if (!client->is_destroying)
      vtest_syncs_retire_fence(&client->syncs, ring_idx, fence_id);
}

static bool
vtest_client_peer_gone(void *data)
{
   const struct vtest_client *client = data;
   return client->sock >= 0 && vwk_peer_hung_up(client->sock);
}

/* Hands a context-path command stream to the renderer; a rejected stream makes
 * the context fatal and, as in virglrenderer, ends the client. */
static bool
vtest_client_submit_stream(struct vtest_client *client,
                           const uint32_t *cmd,
                           uint32_t dwords)
{
   if (!dwords)
      return true;
   if (!vkr_context_submit_cmd(client->ctx, cmd, (size_t)dwords * sizeof(uint32_t)))
      return vtest_client_error(client, "command stream rejected, context is fatal");
   return true;
}

static struct vtest_resource *
vtest_client_lookup_resource(const struct vtest_client *client, uint32_t res_id)
{
   return vu_idmap_get(&client->resources, res_id);
}

/* VCMD_PING_PROTOCOL_VERSION: [] -> [0][10] */
static bool
vtest_handle_ping_protocol_version(struct vtest_client *client,
                                   const uint32_t *payload,
                                   uint32_t length)
{
   return vtest_client_reply(client, VCMD_PING_PROTOCOL_VERSION, NULL, 0);
}

/* VCMD_PROTOCOL_VERSION: [client_version] -> [1][11][min(client, ours); 1 -> 0] */
static bool
vtest_handle_protocol_version(struct vtest_client *client,
                              const uint32_t *payload,
                              uint32_t length)
{
   uint32_t version =
      payload[0] < VTEST_PROTOCOL_VERSION ? payload[0] : VTEST_PROTOCOL_VERSION;
   if (version == 1)
      version = 0; /* version 1 is retired */
   client->protocol_version = version;
   return vtest_client_reply(client, VCMD_PROTOCOL_VERSION, &version, 1);
}

/* VCMD_RESOURCE_BUSY_WAIT: [handle][flags] -> [1][7][0]. Venus resources are
 * never busy; handle 0 is Mesa's probe and valid before the context exists. */
static bool
vtest_handle_resource_busy_wait(struct vtest_client *client,
                                const uint32_t *payload,
                                uint32_t length)
{
   const uint32_t res_id = payload[0];
   const uint32_t busy = 0;

   if (res_id && !vtest_client_lookup_resource(client, res_id))
      return vtest_client_error(client, "RESOURCE_BUSY_WAIT: unknown resource %u",
                                res_id);
   return vtest_client_reply(client, VCMD_RESOURCE_BUSY_WAIT, &busy, 1);
}

/* VCMD_GET_PARAM: [param] -> [2][15][valid][value] */
static bool
vtest_handle_get_param(struct vtest_client *client,
                       const uint32_t *payload,
                       uint32_t length)
{
   uint32_t reply[2] = { 0, 0 };

   if (payload[0] == VCMD_PARAM_MAX_TIMELINE_COUNT) {
      reply[0] = 1;
      reply[1] = VTEST_MAX_TIMELINE_COUNT;
   } else if (payload[0] == VCMD_PARAM_VENUS_RESOURCE_IMPORT_FD) {
      reply[0] = 1;
      reply[1] = 1;
   }
   return vtest_client_reply(client, VCMD_GET_PARAM, reply, 2);
}

/* VCMD_GET_CAPSET: [id][version] -> [1 + n][16][1] + n dwords, or [1][16][0] */
static bool
vtest_handle_get_capset(struct vtest_client *client,
                        const uint32_t *payload,
                        uint32_t length)
{
   uint32_t reply[1 + VTEST_MAX_CAPSET_DWORDS] = { 0 };
   const size_t capacity = VTEST_MAX_CAPSET_DWORDS * sizeof(uint32_t);

   size_t size = vkr_renderer_get_capset(payload[0], payload[1], &reply[1], capacity);
   if (size > capacity) {
      vu_log(VU_LOG_WARN, "server", "capset %u is %zu bytes; sending the first %zu",
             payload[0], size, capacity);
      size = capacity;
   }
   reply[0] = size ? 1 : 0;
   const uint32_t dwords = (uint32_t)((size + sizeof(uint32_t) - 1) / sizeof(uint32_t));
   return vtest_client_reply(client, VCMD_GET_CAPSET, reply, 1 + dwords);
}

/* VCMD_CONTEXT_INIT: [capset_id], no reply. Creates the context now. */
static bool
vtest_handle_context_init(struct vtest_client *client,
                          const uint32_t *payload,
                          uint32_t length)
{
   const uint32_t capset_id = payload[0];

   if (!capset_id)
      return vtest_client_error(client, "CONTEXT_INIT with capset 0");
   if (client->ctx) {
      if (capset_id != client->capset_id)
         return vtest_client_error(client, "CONTEXT_INIT(%u) after CONTEXT_INIT(%u)",
                                   capset_id, client->capset_id);
      return true;
   }
   if (capset_id != VW_CAPSET_ID_VENUS)
      return vtest_client_error(
         client, "CONTEXT_INIT: capset %u unsupported (Venus only)", capset_id);

   const struct vkr_context_callbacks cbs = {
      .data = client,
      .retire_fence = vtest_client_retire_fence,
      .peer_gone = vtest_client_peer_gone,
   };
   client->ctx =
      vkr_context_create(client->id, client->debug_name, &cbs, &client->opts->limits);
   if (!client->ctx)
      return vtest_client_error(client, "renderer context creation failed");
   client->capset_id = capset_id;
   return true;
}

/* VCMD_RESOURCE_CREATE_BLOB: [type][flags][size_lo][size_hi][id_lo][id_hi]
 * -> [1][18][res_id] + fd */
static bool
vtest_handle_resource_create_blob(struct vtest_client *client,
                                  const uint32_t *payload,
                                  uint32_t length)
{
   const uint32_t type = payload[0];
   const uint32_t flags = payload[1];
   const uint64_t size = (uint64_t)payload[2] | (uint64_t)payload[3] << 32;
   const uint64_t blob_id = (uint64_t)payload[4] | (uint64_t)payload[5] << 32;
   const uint32_t res_id = client->next_res_id;

   if (client->resource_count >= VTEST_MAX_RESOURCES || !res_id)
      return vtest_client_error(client, "too many resources (limit %u)",
                                VTEST_MAX_RESOURCES);

   struct vtest_resource *res = calloc(1, sizeof(*res));
   if (!res)
      return vtest_client_error(client, "out of memory");

   res->fd = -1;
   if (!vkr_context_create_resource(client->ctx, res_id, type, flags, blob_id, size,
                                    &res->fd)) {
      free(res);
      return vtest_client_error(client,
                                "RESOURCE_CREATE_BLOB(type %u, flags 0x%x, size %llu, "
                                "blob_id %llu) failed",
                                type, flags, (unsigned long long)size,
                                (unsigned long long)blob_id);
   }
   client->next_res_id++;

   if (!vu_idmap_insert(&client->resources, res_id, res)) {
      vkr_context_destroy_resource(client->ctx, res_id);
      close(res->fd);
      free(res);
      return vtest_client_error(client, "out of memory");
   }
   client->resource_count++;

   return vtest_client_reply_fd(client, VCMD_RESOURCE_CREATE_BLOB, &res_id, 1, res->fd);
}

/* VCMD_RESOURCE_UNREF: [res_id], no reply */
static bool
vtest_handle_resource_unref(struct vtest_client *client,
                            const uint32_t *payload,
                            uint32_t length)
{
   const uint32_t res_id = payload[0];
   struct vtest_resource *res = vu_idmap_remove(&client->resources, res_id);

   if (!res)
      return vtest_client_error(client, "RESOURCE_UNREF: unknown resource %u", res_id);
   client->resource_count--;
   close(res->fd);
   free(res);

   if (!vkr_context_destroy_resource(client->ctx, res_id))
      return vtest_client_error(
         client, "RESOURCE_UNREF(%u) refused by the renderer%s", res_id,
         vkr_context_is_fatal(client->ctx) ? ", context is fatal" : "");
   return true;
}

/* VCMD_RESOURCE_EXPORT_FD: [res_id] -> [0][38] + fd */
static bool
vtest_handle_resource_export_fd(struct vtest_client *client,
                                const uint32_t *payload,
                                uint32_t length)
{
   const struct vtest_resource *res = vtest_client_lookup_resource(client, payload[0]);

   if (!res)
      return vtest_client_error(client, "RESOURCE_EXPORT_FD: unknown resource %u",
                                payload[0]);
   return vtest_client_reply_fd(client, VCMD_RESOURCE_EXPORT_FD, NULL, 0, res->fd);
}

/* VCMD_VENUS_RESOURCE_IMPORT_FD (ours, vw_vtest.h): [kind][size_lo][size_hi],
 * then one fd -> [1][64][res_id], res_id 0 when the renderer refused the fd
 * (the client goes on: the application passed a bad fd). The fd counts as
 * one of the client's resources. */
static bool
vtest_handle_resource_import_fd(struct vtest_client *client,
                                const uint32_t *payload,
                                uint32_t length)
{
   const uint32_t kind = payload[0];
   const uint64_t size = (uint64_t)payload[1] | (uint64_t)payload[2] << 32;

   const int fd = vu_os_recv_fd(client->sock);
   if (fd < 0)
      return vtest_client_error(client, "VENUS_RESOURCE_IMPORT_FD without an fd");
   const uint32_t res_id = client->next_res_id;
   if (client->resource_count >= VTEST_MAX_RESOURCES || !res_id) {
      close(fd);
      return vtest_client_error(client, "too many resources (limit %u)",
                                VTEST_MAX_RESOURCES);
   }
   struct vtest_resource *res = calloc(1, sizeof(*res));
   if (!res) {
      close(fd);
      return vtest_client_error(client, "out of memory");
   }
   res->fd = -1;
   /* takes fd, also on failure */
   if (!vkr_context_import_resource(client->ctx, res_id, kind, size, fd, &res->fd)) {
      free(res);
      if (vkr_context_is_fatal(client->ctx))
         return vtest_client_error(client, "VENUS_RESOURCE_IMPORT_FD: context is fatal");
      const uint32_t refused = 0;
      return vtest_client_reply(client, VCMD_VENUS_RESOURCE_IMPORT_FD, &refused, 1);
   }
   client->next_res_id++;
   if (!vu_idmap_insert(&client->resources, res_id, res)) {
      vkr_context_destroy_resource(client->ctx, res_id);
      close(res->fd);
      free(res);
      return vtest_client_error(client, "out of memory");
   }
   client->resource_count++;
   return vtest_client_reply(client, VCMD_VENUS_RESOURCE_IMPORT_FD, &res_id, 1);
}

/* VCMD_SUBMIT_CMD: a raw command stream, no reply */
static bool
vtest_handle_submit_cmd(struct vtest_client *client,
                        const uint32_t *payload,
                        uint32_t length)
{
   return vtest_client_submit_stream(client, payload, length);
}

/* VCMD_SUBMIT_CMD2 (transport.md §A.6): batch headers at a stride of 8 dwords;
 * Mesa writes one 6-dword header, which reads the same since only fields 0..5
 * are used below protocol version 4. No reply. */
static bool
vtest_handle_submit_cmd2(struct vtest_client *client,
                         const uint32_t *payload,
                         uint32_t length)
{
   if (length < 1)
      return vtest_client_error(client, "SUBMIT_CMD2 without a batch count");

   const uint32_t batch_count = payload[0];
   const bool has_syncobj_fields = client->protocol_version >= 4;
   const uint64_t header_dwords = has_syncobj_fields ? VW_VTEST_BATCH_DWORDS : 6;

   if (!batch_count ||
       1 + (uint64_t)VW_VTEST_BATCH_DWORDS * (batch_count - 1) + header_dwords > length)
      return vtest_client_error(client, "SUBMIT_CMD2: %u batches in a %u-dword payload",
                                batch_count, length);

   for (uint32_t i = 0; i < batch_count; i++) {
      const uint32_t *hdr = &payload[1 + (size_t)VW_VTEST_BATCH_DWORDS * i];
      const struct vw_vtest_batch batch = {
         .flags = hdr[0],
         .cmd_offset = hdr[1],
         .cmd_size = hdr[2],
         .sync_offset = hdr[3],
         .sync_count = hdr[4],
         .ring_idx = hdr[5],
         .num_in_syncobj = has_syncobj_fields ? hdr[6] : 0,
         .num_out_syncobj = has_syncobj_fields ? hdr[7] : 0,
      };

      if (batch.flags & ~(uint32_t)VCMD_SUBMIT_CMD2_FLAG_RING_IDX)
         return vtest_client_error(client, "SUBMIT_CMD2 batch %u: unsupported flags 0x%x",
                                   i, batch.flags);
      if (batch.num_in_syncobj || batch.num_out_syncobj)
         return vtest_client_error(client,
                                   "SUBMIT_CMD2 batch %u: DRM syncobjs unsupported", i);
      if ((uint64_t)batch.cmd_offset + batch.cmd_size > length ||
          (uint64_t)batch.sync_offset + 3 * (uint64_t)batch.sync_count > length)
         return vtest_client_error(client,
                                   "SUBMIT_CMD2 batch %u: stream or syncs outside "
                                   "the %u-dword payload",
                                   i, length);
      if (batch.ring_idx >= VTEST_MAX_TIMELINE_COUNT)
         return vtest_client_error(client, "SUBMIT_CMD2 batch %u: ring_idx %u", i,
                                   batch.ring_idx);

      const uint32_t *syncs = &payload[batch.sync_offset];
      if (!vtest_syncs_check_triples(&client->syncs, syncs, batch.sync_count))
         return vtest_client_error(client, "SUBMIT_CMD2 batch %u: unknown sync id", i);

      if (!vtest_client_submit_stream(client, &payload[batch.cmd_offset], batch.cmd_size))
         return false;

      if (!batch.sync_count)
         continue;
      if (!(batch.flags & VCMD_SUBMIT_CMD2_FLAG_RING_IDX)) {
         vtest_syncs_write_triples(&client->syncs, syncs, batch.sync_count);
         continue;
      }

      /* queued before the fence: the renderer may retire it before returning */
      uint64_t fence_id;
      if (!vtest_syncs_queue_fence(&client->syncs, batch.ring_idx, syncs,
                                   batch.sync_count, &fence_id))
         return vtest_client_error(client, "SUBMIT_CMD2 batch %u: cannot queue a fence",
                                   i);
      if (!vkr_context_submit_fence(client->ctx, batch.ring_idx, fence_id))
         return vtest_client_error(client,
                                   "SUBMIT_CMD2 batch %u: fence on timeline %u "
                                   "failed",
                                   i, batch.ring_idx);
   }
   return true;
}

/* VCMD_SYNC_CREATE: [value_lo][value_hi] -> [1][19][sync_id] */
static bool
vtest_handle_sync_create(struct vtest_client *client,
                         const uint32_t *payload,
                         uint32_t length)
{
   const uint64_t value = (uint64_t)payload[0] | (uint64_t)payload[1] << 32;
   uint32_t sync_id;

   if (!vtest_syncs_create(&client->syncs, value, &sync_id))
      return vtest_client_error(client, "SYNC_CREATE failed");
   return vtest_client_reply(client, VCMD_SYNC_CREATE, &sync_id, 1);
}

/* VCMD_SYNC_UNREF: [sync_id], no reply */
static bool
vtest_handle_sync_unref(struct vtest_client *client,
                        const uint32_t *payload,
                        uint32_t length)
{
   if (!vtest_syncs_unref(&client->syncs, payload[0]))
      return vtest_client_error(client, "SYNC_UNREF: unknown sync %u", payload[0]);
   return true;
}

/* VCMD_SYNC_READ: [sync_id] -> [2][21][value_lo][value_hi] */
static bool
vtest_handle_sync_read(struct vtest_client *client,
                       const uint32_t *payload,
                       uint32_t length)
{
   uint64_t value;

   if (!vtest_syncs_read(&client->syncs, payload[0], &value))
      return vtest_client_error(client, "SYNC_READ: unknown sync %u", payload[0]);
   const uint32_t reply[2] = { (uint32_t)value, (uint32_t)(value >> 32) };
   return vtest_client_reply(client, VCMD_SYNC_READ, reply, 2);
}

/* VCMD_SYNC_WRITE: [sync_id][value_lo][value_hi], no reply */
static bool
vtest_handle_sync_write(struct vtest_client *client,
                        const uint32_t *payload,
                        uint32_t length)
{
   const uint64_t value = (uint64_t)payload[1] | (uint64_t)payload[2] << 32;

   if (!vtest_syncs_write(&client->syncs, payload[0], value))
      return vtest_client_error(client, "SYNC_WRITE: unknown sync %u", payload[0]);
   return true;
}

/* VCMD_SYNC_WAIT: [flags][timeout_ms] + n x [sync_id][lo][hi] -> [0][23] + eventfd */
static bool
vtest_handle_sync_wait(struct vtest_client *client,
                       const uint32_t *payload,
                       uint32_t length)
{
   if (length < 2 || (length - 2) % 3)
      return vtest_client_error(client, "SYNC_WAIT: payload of %u dwords", length);

   const int fd = vtest_syncs_wait(&client->syncs, payload[0], payload[1], &payload[2],
                                   (length - 2) / 3);
   if (fd < 0)
      return vtest_client_error(client, "SYNC_WAIT: unknown sync id or too many waits");

   const bool ok = vtest_client_reply_fd(client, VCMD_SYNC_WAIT, NULL, 0, fd);
   close(fd);
   return ok;
}

static const struct vtest_command vtest_commands[] = {
   [VCMD_RESOURCE_UNREF] = { "RESOURCE_UNREF", vtest_handle_resource_unref, 1, true },
   [VCMD_SUBMIT_CMD] = { "SUBMIT_CMD", vtest_handle_submit_cmd, VTEST_LEN_VARIABLE,
                         true },
   [VCMD_RESOURCE_BUSY_WAIT] = { "RESOURCE_BUSY_WAIT", vtest_handle_resource_busy_wait, 2,
                                 false },
   [VCMD_PING_PROTOCOL_VERSION] = { "PING_PROTOCOL_VERSION",
                                    vtest_handle_ping_protocol_version, 0, false },
   [VCMD_PROTOCOL_VERSION] = { "PROTOCOL_VERSION", vtest_handle_protocol_version, 1,
                               false },
   [VCMD_GET_PARAM] = { "GET_PARAM", vtest_handle_get_param, 1, false },
   [VCMD_GET_CAPSET] = { "GET_CAPSET", vtest_handle_get_capset, 2, false },
   [VCMD_CONTEXT_INIT] = { "CONTEXT_INIT", vtest_handle_context_init, 1, false },
   [VCMD_RESOURCE_CREATE_BLOB] = { "RESOURCE_CREATE_BLOB",
                                   vtest_handle_resource_create_blob,
                                   VCMD_RES_CREATE_BLOB_SIZE, true },
   [VCMD_SYNC_CREATE] = { "SYNC_CREATE", vtest_handle_sync_create, VCMD_SYNC_CREATE_SIZE,
                          true },
   [VCMD_SYNC_UNREF] = { "SYNC_UNREF", vtest_handle_sync_unref, VCMD_SYNC_UNREF_SIZE,
                         true },
   [VCMD_SYNC_READ] = { "SYNC_READ", vtest_handle_sync_read, VCMD_SYNC_READ_SIZE, true },
   [VCMD_SYNC_WRITE] = { "SYNC_WRITE", vtest_handle_sync_write, VCMD_SYNC_WRITE_SIZE,
                         true },
   [VCMD_SYNC_WAIT] = { "SYNC_WAIT", vtest_handle_sync_wait, VTEST_LEN_VARIABLE, true },
   [VCMD_SUBMIT_CMD2] = { "SUBMIT_CMD2", vtest_handle_submit_cmd2, VTEST_LEN_VARIABLE,
                          true },
   [VCMD_RESOURCE_EXPORT_FD] = { "RESOURCE_EXPORT_FD", vtest_handle_resource_export_fd, 1,
                                 true },
   [VCMD_VENUS_RESOURCE_IMPORT_FD] = { "VENUS_RESOURCE_IMPORT_FD",
                                       vtest_handle_resource_import_fd,
                                       VCMD_VENUS_RESOURCE_IMPORT_FD_SIZE, true },
};

/* Reads a request header. *out_is_eof: the client closed the connection
 * cleanly before the first byte. */
static bool
vtest_client_read_header(struct vtest_client *client,
                         uint32_t hdr[VTEST_HDR_SIZE],
                         bool *out_is_eof)
{
   uint8_t *dst = (uint8_t *)hdr;
   size_t done = 0;

   *out_is_eof = false;
   while (done < VTEST_HDR_SIZE * sizeof(uint32_t)) {
      const ssize_t n =
         read(client->sock, dst + done, VTEST_HDR_SIZE * sizeof(uint32_t) - done);
      if (n > 0) {
         done += (size_t)n;
         continue;
      }
      if (n < 0 && errno == EINTR)
         continue;
      if (done == 0 && (n == 0 || errno == ECONNRESET)) {
         *out_is_eof = true;
         return false;
      }
      return vtest_client_error(client, "connection lost inside a request header");
   }
   return true;
}

static uint32_t *
vtest_client_get_buffer(struct vtest_client *client, size_t size)
{
   if (size <= client->buf_size)
      return client->buf;

   uint32_t *buf = realloc(client->buf, size);
   if (!buf)
      return NULL;
   client->buf = buf;
   client->buf_size = size;
   return buf;
}

/* VCMD_CREATE_RENDERER: `length` BYTES of debug name, no reply */
static bool
vtest_client_create_renderer(struct vtest_client *client, uint32_t length)
{
   if (length > VTEST_MAX_DEBUG_NAME_BYTES)
      return vtest_client_error(client, "CREATE_RENDERER name of %u bytes", length);

   char *name = (char *)vtest_client_get_buffer(client, (size_t)length + 1);
   if (!name)
      return vtest_client_error(client, "out of memory");
   if (length && !vu_os_read_full(client->sock, name, length))
      return vtest_client_error(client, "connection lost inside CREATE_RENDERER");
   name[length] = '\0';

   /* keep a printable copy: it goes into log lines */
   size_t i;
   for (i = 0; i < sizeof(client->debug_name) - 1 && name[i]; i++)
      client->debug_name[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
   client->debug_name[i] = '\0';

   client->has_renderer = true;
   return true;
}

static enum vtest_status
vtest_client_handle_request(struct vtest_client *client)
{
   uint32_t hdr[VTEST_HDR_SIZE];
   bool is_eof;

   if (!vtest_client_read_header(client, hdr, &is_eof))
      return is_eof ? VTEST_STATUS_CLOSED : VTEST_STATUS_DROPPED;

   const uint32_t length = hdr[VTEST_CMD_LEN];
   const uint32_t cmd_id = hdr[VTEST_CMD_ID];

   if (VU_DEBUG(VTEST))
      vu_log(VU_LOG_INFO, "server", "client %u: request %u, %u dwords", client->id,
             cmd_id, length);

   if (!client->has_renderer) {
      if (cmd_id != VCMD_CREATE_RENDERER) {
         vtest_client_error(client, "first request is %u, not CREATE_RENDERER", cmd_id);
         return VTEST_STATUS_DROPPED;
      }
      return vtest_client_create_renderer(client, length) ? VTEST_STATUS_OK
                                                          : VTEST_STATUS_DROPPED;
   }

   const struct vtest_command *cmd =
      cmd_id < sizeof(vtest_commands) / sizeof(vtest_commands[0])
         ? &vtest_commands[cmd_id]
         : NULL;
   if (!cmd || !cmd->handle) {
      vtest_client_error(client, "unknown or unsupported request %u", cmd_id);
      return VTEST_STATUS_DROPPED;
   }
   if (cmd->length != VTEST_LEN_VARIABLE && length != (uint32_t)cmd->length) {
      vtest_client_error(client, "%s with %u payload dwords, expected %d", cmd->name,
                         length, cmd->length);
      return VTEST_STATUS_DROPPED;
   }
   const uint64_t size = (uint64_t)length * sizeof(uint32_t);
   if (size > client->opts->max_request_bytes) {
      vtest_client_error(client, "%s of %llu bytes exceeds the %llu-byte limit",
                         cmd->name, (unsigned long long)size,
                         (unsigned long long)client->opts->max_request_bytes);
      return VTEST_STATUS_DROPPED;
   }
   if (cmd->needs_context && !client->ctx) {
      vtest_client_error(client, "%s before CONTEXT_INIT", cmd->name);
      return VTEST_STATUS_DROPPED;
   }

   uint32_t *payload = vtest_client_get_buffer(client, size ? size : sizeof(uint32_t));
   if (!payload) {
      vtest_client_error(client, "out of memory for a %llu-byte %s",
                         (unsigned long long)size, cmd->name);
      return VTEST_STATUS_DROPPED;
   }
   if (size && !vu_os_read_full(client->sock, payload, size)) {
      vtest_client_error(client, "connection lost inside %s", cmd->name);
      return VTEST_STATUS_DROPPED;
   }

   const bool ok = cmd->handle(client, payload, length);

   if (client->buf_size > VTEST_KEEP_BUFFER_BYTES) {
      free(client->buf);
      client->buf = NULL;
      client->buf_size = 0;
   }
   return ok ? VTEST_STATUS_OK : VTEST_STATUS_DROPPED;
}

static void
vtest_client_close_resource(uint64_t id, void *value, void *data)
{
   struct vtest_resource *res = value;
   close(res->fd);
   free(res);
}

static void
vtest_client_fini(struct vtest_client *client)
{
   /* let the client see the end before the (possibly slow) context teardown;
    * shut down, not only closed: the server keeps a copy of the socket
    * (vtest_main.c) */
   if (client->sock >= 0) {
      shutdown(client->sock, SHUT_RDWR);
      close(client->sock);
   }
   client->sock = -1;

   client->is_destroying = true;
   if (client->ctx)
      vkr_context_destroy(client->ctx);
   client->ctx = NULL;

   vu_idmap_foreach(&client->resources, vtest_client_close_resource, NULL);
   vu_idmap_fini(&client->resources);
   vtest_syncs_fini(&client->syncs);
   free(client->buf);
}

static struct vkr_context *
vtest_client_get_context(void *data)
{
   return ((struct vtest_client *)data)->ctx;
}

static int
vtest_client_get_timeout_ms(void *data)
{
   return vtest_syncs_expire_waits(&((struct vtest_client *)data)->syncs);
}

static bool
vtest_client_handle_next(void *data, int *out_status)
{
   struct vtest_client *client = data;
   client->status = vtest_client_handle_request(client);
   *out_status = client->status == VTEST_STATUS_CLOSED ? 0 : 1;
   return client->status == VTEST_STATUS_OK;
}

static const struct vwk_loop_ops vtest_client_loop_ops = {
   .get_context = vtest_client_get_context,
   .get_timeout_ms = vtest_client_get_timeout_ms,
   .handle_request = vtest_client_handle_next,
};

int
vtest_worker_run(int sock, const struct vtest_options *opts, uint32_t client_id)
{
   struct vtest_client client = {
      .sock = sock,
      .id = client_id,
      .opts = opts,
      .debug_name = "?",
      .next_res_id = 1,
      .status = VTEST_STATUS_OK,
   };

   vu_idmap_init(&client.resources);
   vtest_syncs_init(&client.syncs);
   /* each resource and sync wait keeps an fd in the worker */
   vwk_raise_fd_limit();

   /* a forked worker serves one client: the sandbox goes up before its
    * first byte (--no-fork serves clients in the server's own process) */
   int ret = 1;
   if (opts->no_fork || vwk_worker_lock_down(vkr_context_limits_memory(&opts->limits))) {
      ret = vwk_loop_run(sock, &vtest_client_loop_ops, &client);
   } else {
      vu_log(VU_LOG_ERROR, "server", "client %u: no worker sandbox; dropping it",
             client.id);
      client.status = VTEST_STATUS_DROPPED;
   }

   if (client.status == VTEST_STATUS_CLOSED)
      vu_log(VU_LOG_INFO, "server", "client %u (%s) disconnected", client.id,
             client.debug_name);
   vtest_client_fini(&client);
   vkr_renderer_unload();
   return ret;
}
