/*
 * Blocking vtest client (see vw_vtest_client.h). Requests are written with
 * their payload in as few writes as possible; responses are read in full and
 * checked against the expected id and length before anything is used.
 */
#include "vw_vtest_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <threads.h>
#include <unistd.h>

#include "util/vu_log.h"
#include "util/vu_os.h"

#include "vw_vtest.h"

/* the client speaks protocol 4 but needs nothing newer than 3 */
#define VW_VTEST_MIN_PROTOCOL_VERSION 3
/* requests with a small fixed payload are built on the stack */
#define VW_VTEST_SMALL_REQUEST_DWORDS 8

struct vw_vtest_client {
   int sock;
   mtx_t mutex; /* held across each request/response exchange */
   uint32_t protocol_version;
   uint32_t max_timeline_count;
};

static bool
vw_vtest_fail(const char *what)
{
   vu_log(VU_LOG_ERROR, "vtest", "%s failed: %s", what,
          errno ? strerror(errno) : "connection closed or bad reply");
   return false;
}

struct vw_vtest_client *
vw_vtest_connect(const char *path)
{
   struct sockaddr_un addr = { .sun_family = AF_UNIX };

   if (!path)
      path = vu_env_get()->vtest_socket;
   if (!path)
      path = VTEST_DEFAULT_SOCKET_NAME;
   if (strlen(path) >= sizeof(addr.sun_path)) {
      vu_log(VU_LOG_ERROR, "vtest", "socket path too long: %s", path);
      return NULL;
   }
   memcpy(addr.sun_path, path, strlen(path) + 1);

   struct vw_vtest_client *client = calloc(1, sizeof(*client));
   if (!client)
      return NULL;
   if (mtx_init(&client->mutex, mtx_plain) != thrd_success)
      goto fail_alloc;

   client->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (client->sock < 0)
      goto fail_mutex;

   int ret;
   do {
      ret = connect(client->sock, (const struct sockaddr *)&addr, sizeof(addr));
   } while (ret < 0 && errno == EINTR);
   if (ret < 0) {
      vu_log(VU_LOG_ERROR, "vtest", "cannot connect to %s: %s", path, strerror(errno));
      goto fail_socket;
   }
   return client;

fail_socket:
   close(client->sock);
fail_mutex:
   mtx_destroy(&client->mutex);
fail_alloc:
   free(client);
   return NULL;
}

void
vw_vtest_disconnect(struct vw_vtest_client *client)
{
   if (!client)
      return;
   close(client->sock);
   mtx_destroy(&client->mutex);
   free(client);
}

uint32_t
vw_vtest_protocol_version(const struct vw_vtest_client *client)
{
   return client->protocol_version;
}

uint32_t
vw_vtest_max_timeline_count(const struct vw_vtest_client *client)
{
   return client->max_timeline_count;
}

/* Writes [dwords][cmd_id] + payload. */
static bool
vw_vtest_write_request_locked(struct vw_vtest_client *client,
                              uint32_t cmd_id,
                              const uint32_t *payload,
                              uint32_t dwords)
{
   uint32_t msg[VTEST_HDR_SIZE + VW_VTEST_SMALL_REQUEST_DWORDS];

   if (dwords > VW_VTEST_SMALL_REQUEST_DWORDS)
      return false;
   msg[VTEST_CMD_LEN] = dwords;
   msg[VTEST_CMD_ID] = cmd_id;
   if (dwords)
      memcpy(&msg[VTEST_HDR_SIZE], payload, dwords * sizeof(uint32_t));
   return vu_os_write_full(client->sock, msg,
                           (VTEST_HDR_SIZE + dwords) * sizeof(uint32_t));
}

/* Reads a response that must be [dwords][cmd_id] + dwords of data. */
static bool
vw_vtest_read_reply_locked(struct vw_vtest_client *client,
                           uint32_t cmd_id,
                           uint32_t *data,
                           uint32_t dwords)
{
   uint32_t hdr[VTEST_HDR_SIZE];

   if (!vu_os_read_full(client->sock, hdr, sizeof(hdr)))
      return false;
   if (hdr[VTEST_CMD_ID] != cmd_id || hdr[VTEST_CMD_LEN] != dwords) {
      vu_log(VU_LOG_ERROR, "vtest", "reply [%u][%u] to request %u, expected [%u][%u]",
             hdr[VTEST_CMD_LEN], hdr[VTEST_CMD_ID], cmd_id, dwords, cmd_id);
      errno = EPROTO;
      return false;
   }
   return !dwords || vu_os_read_full(client->sock, data, dwords * sizeof(uint32_t));
}

/* One request with a small payload and a fixed-size reply (reply_dwords may be
 * 0 with reply NULL: no reply expected at all when has_reply is false). */
static bool
vw_vtest_exchange(struct vw_vtest_client *client,
                  uint32_t cmd_id,
                  const uint32_t *payload,
                  uint32_t dwords,
                  bool has_reply,
                  uint32_t *reply,
                  uint32_t reply_dwords)
{
   mtx_lock(&client->mutex);
   bool ok = vw_vtest_write_request_locked(client, cmd_id, payload, dwords);
   if (ok && has_reply)
      ok = vw_vtest_read_reply_locked(client, cmd_id, reply, reply_dwords);
   mtx_unlock(&client->mutex);
   return ok;
}

/* A request answered by [reply_dwords][cmd_id] + data and then one fd. */
static int
vw_vtest_exchange_fd(struct vw_vtest_client *client,
                     uint32_t cmd_id,
                     const uint32_t *payload,
                     uint32_t dwords,
                     uint32_t *reply,
                     uint32_t reply_dwords)
{
   int fd = -1;

   mtx_lock(&client->mutex);
   if (vw_vtest_write_request_locked(client, cmd_id, payload, dwords) &&
       vw_vtest_read_reply_locked(client, cmd_id, reply, reply_dwords))
      fd = vu_os_recv_fd(client->sock);
   mtx_unlock(&client->mutex);
   return fd;
}

/* CREATE_RENDERER (length in bytes, no padding), then Mesa's probe: a ping
 * and a busy wait on handle 0; servers without ping answer only the latter. */
static bool
vw_vtest_probe_locked(struct vw_vtest_client *client,
                      const char *name,
                      bool *out_has_ping)
{
   const uint32_t name_size = (uint32_t)strlen(name) + 1;
   const uint32_t hdr[VTEST_HDR_SIZE] = { name_size, VCMD_CREATE_RENDERER };
   const uint32_t busy_wait[2] = { 0, 0 };
   uint32_t reply[VTEST_HDR_SIZE];
   uint32_t busy;

   if (!vu_os_write_full(client->sock, hdr, sizeof(hdr)) ||
       !vu_os_write_full(client->sock, name, name_size) ||
       !vw_vtest_write_request_locked(client, VCMD_PING_PROTOCOL_VERSION, NULL, 0) ||
       !vw_vtest_write_request_locked(client, VCMD_RESOURCE_BUSY_WAIT, busy_wait, 2))
      return false;

   if (!vu_os_read_full(client->sock, reply, sizeof(reply)))
      return false;
   *out_has_ping = reply[VTEST_CMD_ID] == VCMD_PING_PROTOCOL_VERSION;
   if (*out_has_ping) {
      if (reply[VTEST_CMD_LEN] != 0) {
         errno = EPROTO;
         return false;
      }
      return vw_vtest_read_reply_locked(client, VCMD_RESOURCE_BUSY_WAIT, &busy, 1);
   }
   if (reply[VTEST_CMD_ID] != VCMD_RESOURCE_BUSY_WAIT || reply[VTEST_CMD_LEN] != 1) {
      errno = EPROTO;
      return false;
   }
   return vu_os_read_full(client->sock, &busy, sizeof(busy));
}

/* GET_CAPSET reply: [1 + n][16][valid] + n dwords of any size */
static bool
vw_vtest_read_capset_locked(struct vw_vtest_client *client, struct vw_capset *out_capset)
{
   uint32_t hdr[VTEST_HDR_SIZE];
   uint32_t valid;

   if (!vu_os_read_full(client->sock, hdr, sizeof(hdr)))
      return false;
   if (hdr[VTEST_CMD_ID] != VCMD_GET_CAPSET || hdr[VTEST_CMD_LEN] < 1) {
      errno = EPROTO;
      return false;
   }
   if (!vu_os_read_full(client->sock, &valid, sizeof(valid)))
      return false;

   const size_t size = (size_t)(hdr[VTEST_CMD_LEN] - 1) * sizeof(uint32_t);
   const size_t used = size < sizeof(*out_capset) ? size : sizeof(*out_capset);
   memset(out_capset, 0, sizeof(*out_capset));
   if (used && !vu_os_read_full(client->sock, out_capset, used))
      return false;
   /* drop the excess of a longer capset in small steps */
   for (size_t left = size - used; left;) {
      uint8_t sink[256];
      const size_t n = left < sizeof(sink) ? left : sizeof(sink);
      if (!vu_os_read_full(client->sock, sink, n))
         return false;
      left -= n;
   }
   if (!valid) {
      vu_log(VU_LOG_ERROR, "vtest", "server has no Venus capset");
      errno = 0;
      return false;
   }
   return true;
}

bool
vw_vtest_start_session(struct vw_vtest_client *client,
                       const char *name,
                       struct vw_capset *out_capset)
{
   const uint32_t version_req = VTEST_PROTOCOL_VERSION;
   const uint32_t param_req = VCMD_PARAM_MAX_TIMELINE_COUNT;
   const uint32_t capset_req[2] = { VW_CAPSET_ID_VENUS, 0 };
   uint32_t version = 0;
   uint32_t param[2];
   bool has_ping;
   bool ok = false;

   mtx_lock(&client->mutex);
   if (!vw_vtest_probe_locked(client, name ? name : "venus", &has_ping)) {
      vw_vtest_fail("vtest session start");
      goto out_unlock;
   }
   if (has_ping &&
       (!vw_vtest_write_request_locked(client, VCMD_PROTOCOL_VERSION, &version_req, 1) ||
        !vw_vtest_read_reply_locked(client, VCMD_PROTOCOL_VERSION, &version, 1))) {
      vw_vtest_fail("PROTOCOL_VERSION");
      goto out_unlock;
   }
   if (version < VW_VTEST_MIN_PROTOCOL_VERSION || version > VTEST_PROTOCOL_VERSION) {
      vu_log(VU_LOG_ERROR, "vtest", "server speaks vtest protocol %u; %u to %u needed",
             version, VW_VTEST_MIN_PROTOCOL_VERSION, VTEST_PROTOCOL_VERSION);
      goto out_unlock;
   }
   client->protocol_version = version;

   if (!vw_vtest_write_request_locked(client, VCMD_GET_PARAM, &param_req, 1) ||
       !vw_vtest_read_reply_locked(client, VCMD_GET_PARAM, param, 2)) {
      vw_vtest_fail("GET_PARAM");
      goto out_unlock;
   }
   client->max_timeline_count = param[0] ? param[1] : 0;

   if (!vw_vtest_write_request_locked(client, VCMD_GET_CAPSET, capset_req, 2) ||
       !vw_vtest_read_capset_locked(client, out_capset)) {
      vw_vtest_fail("GET_CAPSET");
      goto out_unlock;
   }
   ok = true;

out_unlock:
   mtx_unlock(&client->mutex);
   return ok;
}

bool
vw_vtest_context_init(struct vw_vtest_client *client, uint32_t capset_id)
{
   if (!vw_vtest_exchange(client, VCMD_CONTEXT_INIT, &capset_id, 1, false, NULL, 0))
      return vw_vtest_fail("CONTEXT_INIT");
   return true;
}

bool
vw_vtest_resource_create_blob(struct vw_vtest_client *client,
                              uint32_t blob_type,
                              uint32_t blob_flags,
                              uint64_t size,
                              uint64_t blob_id,
                              uint32_t *out_res_id,
                              int *out_fd)
{
   const uint32_t req[VCMD_RES_CREATE_BLOB_SIZE] = {
      blob_type,         blob_flags,
      (uint32_t)size,    (uint32_t)(size >> 32),
      (uint32_t)blob_id, (uint32_t)(blob_id >> 32),
   };

   const int fd = vw_vtest_exchange_fd(client, VCMD_RESOURCE_CREATE_BLOB, req,
                                       VCMD_RES_CREATE_BLOB_SIZE, out_res_id, 1);
   if (fd < 0)
      return vw_vtest_fail("RESOURCE_CREATE_BLOB");
   *out_fd = fd;
   return true;
}

bool
vw_vtest_resource_unref(struct vw_vtest_client *client, uint32_t res_id)
{
   if (!vw_vtest_exchange(client, VCMD_RESOURCE_UNREF, &res_id, 1, false, NULL, 0))
      return vw_vtest_fail("RESOURCE_UNREF");
   return true;
}

int
vw_vtest_resource_export_fd(struct vw_vtest_client *client, uint32_t res_id)
{
   const int fd =
      vw_vtest_exchange_fd(client, VCMD_RESOURCE_EXPORT_FD, &res_id, 1, NULL, 0);
   if (fd < 0)
      vw_vtest_fail("RESOURCE_EXPORT_FD");
   return fd;
}

bool
vw_vtest_get_param(struct vw_vtest_client *client,
                   uint32_t param,
                   bool *out_valid,
                   uint32_t *out_value)
{
   uint32_t reply[2];
   if (!vw_vtest_exchange(client, VCMD_GET_PARAM, &param, 1, true, reply, 2))
      return vw_vtest_fail("GET_PARAM");
   *out_valid = reply[0] != 0;
   *out_value = reply[0] ? reply[1] : 0;
   return true;
}

bool
vw_vtest_resource_import_fd(struct vw_vtest_client *client,
                            uint32_t kind,
                            uint64_t size,
                            int fd,
                            uint32_t *out_res_id)
{
   const uint32_t req[VCMD_VENUS_RESOURCE_IMPORT_FD_SIZE] = { kind, (uint32_t)size,
                                                              (uint32_t)(size >> 32) };
   mtx_lock(&client->mutex);
   const bool ok =
      vw_vtest_write_request_locked(client, VCMD_VENUS_RESOURCE_IMPORT_FD, req,
                                    VCMD_VENUS_RESOURCE_IMPORT_FD_SIZE) &&
      vu_os_send_fd(client->sock, fd) &&
      vw_vtest_read_reply_locked(client, VCMD_VENUS_RESOURCE_IMPORT_FD, out_res_id, 1);
   mtx_unlock(&client->mutex);
   return ok || vw_vtest_fail("VENUS_RESOURCE_IMPORT_FD");
}

bool
vw_vtest_submit_cmd(struct vw_vtest_client *client, const void *cmd, size_t size)
{
   if (size % sizeof(uint32_t) || size / sizeof(uint32_t) > UINT32_MAX) {
      vu_log(VU_LOG_ERROR, "vtest", "SUBMIT_CMD of %zu bytes", size);
      return false;
   }
   const uint32_t hdr[VTEST_HDR_SIZE] = { (uint32_t)(size / sizeof(uint32_t)),
                                          VCMD_SUBMIT_CMD };

   mtx_lock(&client->mutex);
   const bool ok = vu_os_write_full(client->sock, hdr, sizeof(hdr)) &&
                   (!size || vu_os_write_full(client->sock, cmd, size));
   mtx_unlock(&client->mutex);
   return ok || vw_vtest_fail("SUBMIT_CMD");
}

bool
vw_vtest_submit_cmd2(struct vw_vtest_client *client,
                     const struct vw_vtest_submit_batch *batches,
                     uint32_t batch_count)
{
   /* layout: batch_count, headers, all streams, all sync triples (as Mesa) */
   uint64_t cmd_dwords = 0;
   uint64_t sync_count = 0;
   for (uint32_t i = 0; i < batch_count; i++) {
      if (batches[i].cmd_size % sizeof(uint32_t)) {
         vu_log(VU_LOG_ERROR, "vtest", "SUBMIT_CMD2 stream of %zu bytes",
                batches[i].cmd_size);
         return false;
      }
      cmd_dwords += batches[i].cmd_size / sizeof(uint32_t);
      sync_count += batches[i].sync_count;
   }
   const uint64_t head_dwords = 1 + (uint64_t)VW_VTEST_BATCH_DWORDS * batch_count;
   const uint64_t total_dwords = head_dwords + cmd_dwords + 3 * sync_count;
   if (!batch_count || total_dwords > UINT32_MAX / sizeof(uint32_t)) {
      vu_log(VU_LOG_ERROR, "vtest", "SUBMIT_CMD2 of %u batches, %llu dwords", batch_count,
             (unsigned long long)total_dwords);
      return false;
   }

   /* header, batch headers and sync triples in one block; streams go as-is */
   uint32_t *head =
      malloc((VTEST_HDR_SIZE + head_dwords + 3 * sync_count) * sizeof(uint32_t));
   if (!head)
      return vw_vtest_fail("SUBMIT_CMD2 allocation");
   uint32_t *const syncs = head + VTEST_HDR_SIZE + head_dwords;

   head[VTEST_CMD_LEN] = (uint32_t)total_dwords;
   head[VTEST_CMD_ID] = VCMD_SUBMIT_CMD2;
   head[VTEST_HDR_SIZE] = batch_count;

   uint32_t cmd_offset = (uint32_t)head_dwords;
   uint32_t sync_offset = (uint32_t)(head_dwords + cmd_dwords);
   uint32_t *triple = syncs;
   for (uint32_t i = 0; i < batch_count; i++) {
      const struct vw_vtest_submit_batch *b = &batches[i];
      const uint32_t cmd_size = (uint32_t)(b->cmd_size / sizeof(uint32_t));
      uint32_t *hdr = &head[VTEST_HDR_SIZE + 1 + VW_VTEST_BATCH_DWORDS * (size_t)i];

      hdr[0] = b->has_ring_idx ? VCMD_SUBMIT_CMD2_FLAG_RING_IDX : 0;
      hdr[1] = cmd_offset;
      hdr[2] = cmd_size;
      hdr[3] = sync_offset;
      hdr[4] = b->sync_count;
      hdr[5] = b->ring_idx;
      hdr[6] = 0; /* num_in_syncobj */
      hdr[7] = 0; /* num_out_syncobj */
      cmd_offset += cmd_size;
      sync_offset += 3 * b->sync_count;

      for (uint32_t s = 0; s < b->sync_count; s++) {
         *triple++ = b->syncs[s].sync_id;
         *triple++ = (uint32_t)b->syncs[s].value;
         *triple++ = (uint32_t)(b->syncs[s].value >> 32);
      }
   }

   mtx_lock(&client->mutex);
   bool ok = vu_os_write_full(client->sock, head,
                              (VTEST_HDR_SIZE + head_dwords) * sizeof(uint32_t));
   for (uint32_t i = 0; ok && i < batch_count; i++) {
      if (batches[i].cmd_size)
         ok = vu_os_write_full(client->sock, batches[i].cmd, batches[i].cmd_size);
   }
   if (ok && sync_count)
      ok = vu_os_write_full(client->sock, syncs, 3 * sync_count * sizeof(uint32_t));
   mtx_unlock(&client->mutex);

   free(head);
   return ok || vw_vtest_fail("SUBMIT_CMD2");
}

bool
vw_vtest_sync_create(struct vw_vtest_client *client,
                     uint64_t value,
                     uint32_t *out_sync_id)
{
   const uint32_t req[VCMD_SYNC_CREATE_SIZE] = { (uint32_t)value,
                                                 (uint32_t)(value >> 32) };

   if (!vw_vtest_exchange(client, VCMD_SYNC_CREATE, req, VCMD_SYNC_CREATE_SIZE, true,
                          out_sync_id, 1))
      return vw_vtest_fail("SYNC_CREATE");
   return true;
}

bool
vw_vtest_sync_unref(struct vw_vtest_client *client, uint32_t sync_id)
{
   if (!vw_vtest_exchange(client, VCMD_SYNC_UNREF, &sync_id, VCMD_SYNC_UNREF_SIZE, false,
                          NULL, 0))
      return vw_vtest_fail("SYNC_UNREF");
   return true;
}

bool
vw_vtest_sync_read(struct vw_vtest_client *client, uint32_t sync_id, uint64_t *out_value)
{
   uint32_t reply[2];

   if (!vw_vtest_exchange(client, VCMD_SYNC_READ, &sync_id, VCMD_SYNC_READ_SIZE, true,
                          reply, 2))
      return vw_vtest_fail("SYNC_READ");
   *out_value = (uint64_t)reply[0] | (uint64_t)reply[1] << 32;
   return true;
}

bool
vw_vtest_sync_write(struct vw_vtest_client *client, uint32_t sync_id, uint64_t value)
{
   const uint32_t req[VCMD_SYNC_WRITE_SIZE] = { sync_id, (uint32_t)value,
                                                (uint32_t)(value >> 32) };

   if (!vw_vtest_exchange(client, VCMD_SYNC_WRITE, req, VCMD_SYNC_WRITE_SIZE, false, NULL,
                          0))
      return vw_vtest_fail("SYNC_WRITE");
   return true;
}

int
vw_vtest_sync_wait(struct vw_vtest_client *client,
                   uint32_t flags,
                   uint32_t timeout_ms,
                   const struct vw_vtest_sync_point *syncs,
                   uint32_t sync_count)
{
   const uint64_t dwords = 2 + 3 * (uint64_t)sync_count;
   if (dwords > UINT32_MAX / sizeof(uint32_t)) {
      vu_log(VU_LOG_ERROR, "vtest", "SYNC_WAIT on %u syncs", sync_count);
      return -1;
   }

   uint32_t *req = malloc((VTEST_HDR_SIZE + dwords) * sizeof(uint32_t));
   if (!req) {
      vw_vtest_fail("SYNC_WAIT allocation");
      return -1;
   }
   req[VTEST_CMD_LEN] = (uint32_t)dwords;
   req[VTEST_CMD_ID] = VCMD_SYNC_WAIT;
   req[VTEST_HDR_SIZE] = flags;
   req[VTEST_HDR_SIZE + 1] = timeout_ms;
   for (uint32_t i = 0; i < sync_count; i++) {
      uint32_t *t = &req[VTEST_HDR_SIZE + 2 + 3 * (size_t)i];
      t[0] = syncs[i].sync_id;
      t[1] = (uint32_t)syncs[i].value;
      t[2] = (uint32_t)(syncs[i].value >> 32);
   }

   int fd = -1;
   mtx_lock(&client->mutex);
   if (vu_os_write_full(client->sock, req,
                        (VTEST_HDR_SIZE + dwords) * sizeof(uint32_t)) &&
       vw_vtest_read_reply_locked(client, VCMD_SYNC_WAIT, NULL, 0))
      fd = vu_os_recv_fd(client->sock);
   mtx_unlock(&client->mutex);

   free(req);
   if (fd < 0)
      vw_vtest_fail("SYNC_WAIT");
   return fd;
}

int
vw_vtest_wait_fd(int fd, int timeout_ms)
{
   const uint64_t deadline =
      timeout_ms >= 0 ? vu_os_time_ns() + (uint64_t)timeout_ms * 1000000u : 0;

   for (;;) {
      int left_ms = -1;
      if (timeout_ms >= 0) {
         const uint64_t now = vu_os_time_ns();
         left_ms = now < deadline ? (int)((deadline - now + 999999u) / 1000000u) : 0;
      }

      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      const int ret = poll(&pfd, 1, left_ms);
      if (ret > 0)
         return (pfd.revents & POLLIN) ? 1 : -1;
      if (ret == 0)
         return 0;
      if (errno != EINTR)
         return -1;
   }
}
