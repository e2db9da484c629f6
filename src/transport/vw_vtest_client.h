/*
 * A small blocking vtest client (transport.md §A), used by the driver's vtest
 * transport and by tests. Each call is one request (and its response, if the
 * request has one); a mutex makes every exchange atomic, so threads may share
 * a connection. Failures log one line and return false or -1; a connection on
 * which an exchange failed is unusable (the server drops the client on any
 * error), and only vw_vtest_disconnect() remains to be called.
 */
#ifndef VW_VTEST_CLIENT_H
#define VW_VTEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vw_capset.h"

struct vw_vtest_client;

/* One (sync_id, value) pair of a SUBMIT_CMD2 batch or a SYNC_WAIT. */
struct vw_vtest_sync_point {
   uint32_t sync_id;
   uint64_t value;
};

/* One VCMD_SUBMIT_CMD2 batch. */
struct vw_vtest_submit_batch {
   const void *cmd;   /* Venus command stream */
   size_t cmd_size;   /* bytes, a multiple of 4 */
   bool has_ring_idx; /* VCMD_SUBMIT_CMD2_FLAG_RING_IDX: syncs are set when the
                       * fence on timeline ring_idx retires */
   uint32_t ring_idx;
   const struct vw_vtest_sync_point *syncs;
   uint32_t sync_count;
};

/* Connects to `path`; NULL means $VTEST_SOCKET_NAME or the default path. */
struct vw_vtest_client *vw_vtest_connect(const char *path);

/* Closes the connection (the server then destroys the context) and frees. */
void vw_vtest_disconnect(struct vw_vtest_client *client);

/* Mesa's session start: CREATE_RENDERER(name), the ping + busy-wait probe,
 * PROTOCOL_VERSION, GET_PARAM(MAX_TIMELINE_COUNT) and GET_CAPSET(Venus, 0).
 * Fails on servers below protocol version 3 or without the Venus capset. A
 * shorter capset is zero-filled, the excess of a longer one dropped. */
bool vw_vtest_start_session(struct vw_vtest_client *client,
                            const char *name,
                            struct vw_capset *out_capset);

/* What vw_vtest_start_session() negotiated. */
uint32_t vw_vtest_protocol_version(const struct vw_vtest_client *client);
uint32_t vw_vtest_max_timeline_count(const struct vw_vtest_client *client);

bool vw_vtest_context_init(struct vw_vtest_client *client, uint32_t capset_id);

/* VCMD_RESOURCE_CREATE_BLOB: on success *out_fd is the blob's fd, which the
 * caller maps and closes. */
bool vw_vtest_resource_create_blob(struct vw_vtest_client *client,
                                   uint32_t blob_type,
                                   uint32_t blob_flags,
                                   uint64_t size,
                                   uint64_t blob_id,
                                   uint32_t *out_res_id,
                                   int *out_fd);

bool vw_vtest_resource_unref(struct vw_vtest_client *client, uint32_t res_id);

/* VCMD_RESOURCE_EXPORT_FD (protocol 4): a new fd, or -1. */
int vw_vtest_resource_export_fd(struct vw_vtest_client *client, uint32_t res_id);

/* VCMD_GET_PARAM: *out_valid false (value 0) for a param the server does
 * not know. */
bool vw_vtest_get_param(struct vw_vtest_client *client,
                        uint32_t param,
                        bool *out_valid,
                        uint32_t *out_value);

/* VCMD_VENUS_RESOURCE_IMPORT_FD (ours, vw_vtest.h; ask
 * VCMD_PARAM_VENUS_RESOURCE_IMPORT_FD first): sends a copy of `fd` (which
 * stays the caller's) with the import kind and byte size; *out_res_id is the
 * new resource, or 0 when the server refused the fd. false when the exchange
 * failed (the connection is then unusable). */
bool vw_vtest_resource_import_fd(struct vw_vtest_client *client,
                                 uint32_t kind,
                                 uint64_t size,
                                 int fd,
                                 uint32_t *out_res_id);

/* VCMD_SUBMIT_CMD: size in bytes, a multiple of 4. */
bool vw_vtest_submit_cmd(struct vw_vtest_client *client, const void *cmd, size_t size);

/* VCMD_SUBMIT_CMD2 with 8-dword batch headers (syncobj counts 0). */
bool vw_vtest_submit_cmd2(struct vw_vtest_client *client,
                          const struct vw_vtest_submit_batch *batches,
                          uint32_t batch_count);

bool vw_vtest_sync_create(struct vw_vtest_client *client,
                          uint64_t value,
                          uint32_t *out_sync_id);
bool vw_vtest_sync_unref(struct vw_vtest_client *client, uint32_t sync_id);
bool vw_vtest_sync_read(struct vw_vtest_client *client,
                        uint32_t sync_id,
                        uint64_t *out_value);
bool vw_vtest_sync_write(struct vw_vtest_client *client,
                         uint32_t sync_id,
                         uint64_t value);

/* VCMD_SYNC_WAIT: returns an eventfd that becomes readable once all syncs
 * (any one, with VCMD_SYNC_WAIT_FLAG_ANY) reach their values, or -1. The
 * server forgets the wait after timeout_ms (> INT32_MAX: never). The caller
 * polls it (vw_vtest_wait_fd) and closes it. */
int vw_vtest_sync_wait(struct vw_vtest_client *client,
                       uint32_t flags,
                       uint32_t timeout_ms,
                       const struct vw_vtest_sync_point *syncs,
                       uint32_t sync_count);

/* Polls fd for readability: 1 readable, 0 timed out, -1 error.
 * timeout_ms < 0 waits forever. */
int vw_vtest_wait_fd(int fd, int timeout_ms);

#endif
