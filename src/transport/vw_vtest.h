/*
 * The vtest wire protocol (virglrenderer's vtest_protocol.h), defined once for
 * both the server and the driver's client. See shared docs transport.md §A.
 */
#ifndef VW_VTEST_H
#define VW_VTEST_H

#include <stdint.h>

#define VTEST_DEFAULT_SOCKET_NAME "/tmp/.virgl_test"
#define VTEST_PROTOCOL_VERSION 4 /* newest we speak */

#define VTEST_HDR_SIZE 2
#define VTEST_CMD_LEN 0 /* header dword: payload length in dwords */
#define VTEST_CMD_ID 1  /* header dword: command id */

enum vw_vtest_cmd {
   VCMD_GET_CAPS = 1,
   VCMD_RESOURCE_CREATE = 2,
   VCMD_RESOURCE_UNREF = 3,
   VCMD_TRANSFER_GET = 4,
   VCMD_TRANSFER_PUT = 5,
   VCMD_SUBMIT_CMD = 6,
   VCMD_RESOURCE_BUSY_WAIT = 7,
   VCMD_CREATE_RENDERER = 8,
   VCMD_GET_CAPS2 = 9,
   VCMD_PING_PROTOCOL_VERSION = 10,
   VCMD_PROTOCOL_VERSION = 11,
   VCMD_RESOURCE_CREATE2 = 12,
   VCMD_TRANSFER_GET2 = 13,
   VCMD_TRANSFER_PUT2 = 14,
   VCMD_GET_PARAM = 15,
   VCMD_GET_CAPSET = 16,
   VCMD_CONTEXT_INIT = 17,
   VCMD_RESOURCE_CREATE_BLOB = 18,
   VCMD_SYNC_CREATE = 19,
   VCMD_SYNC_UNREF = 20,
   VCMD_SYNC_READ = 21,
   VCMD_SYNC_WRITE = 22,
   VCMD_SYNC_WAIT = 23,
   VCMD_SUBMIT_CMD2 = 24,
   VCMD_RESOURCE_EXPORT_FD = 38,
   /* this project's extension (virglrenderer's ids end at 38): see below */
   VCMD_VENUS_RESOURCE_IMPORT_FD = 64,
};

#define VCMD_BUSY_WAIT_FLAG_WAIT 1

#define VCMD_PARAM_MAX_TIMELINE_COUNT 1
#define VCMD_PARAM_HAS_TIMELINE_SYNCOBJ 2
/* ours: valid = 1, value = 1 when VCMD_VENUS_RESOURCE_IMPORT_FD is served
 * (virglrenderer answers unknown params with valid = 0) */
#define VCMD_PARAM_VENUS_RESOURCE_IMPORT_FD 64

/* VCMD_VENUS_RESOURCE_IMPORT_FD: [kind][size_lo][size_hi], then the client
 * sends one fd (a 1-byte message with SCM_RIGHTS) -> [1][64][res_id]: a new
 * resource of the context over that fd, as device memory the context can
 * import with VkImportMemoryResourceInfoMESA; res_id 0 when the fd was
 * refused (the session goes on). Protocol errors drop the client. */
#define VCMD_VENUS_RESOURCE_IMPORT_FD_SIZE 3
#define VCMD_VENUS_IMPORT_KIND_OPAQUE_FD 1 /* a host OPAQUE_FD or shared memory */
#define VCMD_VENUS_IMPORT_KIND_DMA_BUF 2

#define VCMD_BLOB_TYPE_GUEST 1
#define VCMD_BLOB_TYPE_HOST3D 2
#define VCMD_BLOB_TYPE_HOST3D_GUEST 3

#define VCMD_BLOB_FLAG_MAPPABLE 1
#define VCMD_BLOB_FLAG_SHAREABLE 2
#define VCMD_BLOB_FLAG_CROSS_DEVICE 4

#define VCMD_SYNC_WAIT_FLAG_ANY 1

#define VCMD_SUBMIT_CMD2_FLAG_RING_IDX 0x1
#define VCMD_SUBMIT_CMD2_FLAG_IN_FENCE_FD 0x2
#define VCMD_SUBMIT_CMD2_FLAG_OUT_FENCE_FD 0x4

#define VTEST_MAX_TIMELINE_COUNT 64

/* payload sizes in dwords */
#define VCMD_RES_CREATE_BLOB_SIZE 6
#define VCMD_SYNC_CREATE_SIZE 2
#define VCMD_SYNC_READ_SIZE 1
#define VCMD_SYNC_WRITE_SIZE 3
#define VCMD_SYNC_UNREF_SIZE 1

/* One VCMD_SUBMIT_CMD2 batch header; always 8 dwords on the wire. */
struct vw_vtest_batch {
   uint32_t flags;
   uint32_t cmd_offset;  /* dwords, relative to the payload start */
   uint32_t cmd_size;    /* dwords */
   uint32_t sync_offset; /* dwords */
   uint32_t sync_count;  /* (sync_id, value_lo, value_hi) triples */
   uint32_t ring_idx;
   uint32_t num_in_syncobj;  /* protocol >= 4 */
   uint32_t num_out_syncobj; /* protocol >= 4 */
};
#define VW_VTEST_BATCH_DWORDS 8

#endif
