/*
 * The hostile client of the stress test: one connection to venus-server after
 * another until a deadline, each misbehaving in one of five ways (stress.h):
 * random bytes from the first header on; a session followed by random vtest
 * requests (layouts from src/transport/vw_vtest.h, fields drawn from edge
 * values); a recorded client connection (tests/fuzz/corpus/vtest) with
 * requests dropped, repeated, swapped, cut or their headers rewritten; a ring
 * (src/transport/vw_ring.h) of valid or random layout fed random bytes, real
 * commands and scribbled head/tail/status words, with the context-path ring
 * commands beside it (as tests/fuzz/fuzz_ring.c does in-process); and a
 * session that piles up blobs, syncs and waits and then vanishes inside a
 * request. Each connection after CREATE_RENDERER is named "hostile-<n>", so
 * that the test can find the line its worker logged when it ended.
 *
 * The mutations never rewrite bytes inside a recorded command stream: a
 * changed vkCmdDispatch size would make lavapipe compute for hours, which is
 * the guest's own work and not what this test is after (fuzz_vtest mutates
 * the streams).
 */
#include "stress.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/vu_os.h"
#include "protocol/vp_cs.h"
#include "transport/vw_capset.h"
#include "transport/vw_ring.h"
#include "transport/vw_vtest.h"
#include "vp_protocol.h"

/* a send that makes no progress for this long gives the connection up */
#define STRESS_SEND_TIMEOUT_MS 10000
/* how long a synchronous reply (blob, sync) may take under full load */
#define STRESS_REPLY_TIMEOUT_MS 20000
/* how long a connection waits, at its end, to see the server drop it */
#define STRESS_DROP_WAIT_MS 3000
#define STRESS_MAX_RECORDINGS 32
#define STRESS_MAX_REQUESTS 1024
#define STRESS_RING_BLOB_SIZE (64u << 10)
#define STRESS_RING_ID 0x7777u
#define STRESS_CHURN_MAX_FDS 96

/* ---- random numbers ---- */

struct stress_rng {
   uint64_t s;
};

static uint32_t
rnd(struct stress_rng *r)
{
   /* xorshift64* */
   r->s ^= r->s >> 12;
   r->s ^= r->s << 25;
   r->s ^= r->s >> 27;
   return (uint32_t)((r->s * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t
rnd_below(struct stress_rng *r, uint32_t n)
{
   return n ? rnd(r) % n : 0;
}

static bool
chance(struct stress_rng *r, uint32_t percent)
{
   return rnd_below(r, 100) < percent;
}

/* a dword a parser is likely to get wrong */
static uint32_t
rnd_value(struct stress_rng *r)
{
   static const uint32_t edges[] = {
      0, 1, 2, 3, 4, 7, 8, 64, 255, 4096, 65535,
      0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
   };
   switch (rnd_below(r, 4)) {
   case 0:
      return edges[rnd_below(r, sizeof(edges) / sizeof(edges[0]))];
   case 1:
      return rnd_below(r, 16);
   case 2:
      return rnd(r);
   default:
      return rnd_below(r, 1024);
   }
}

static void
rnd_fill(struct stress_rng *r, void *buf, size_t size)
{
   uint8_t *p = buf;
   for (size_t i = 0; i < size; i++)
      p[i] = (uint8_t)rnd(r);
}

/* ---- recorded connections ---- */

struct stress_request {
   size_t offset; /* of the header */
   size_t size;   /* header and payload */
   uint32_t id;
};

struct stress_recording {
   uint8_t *data;
   size_t size;
   struct stress_request *reqs; /* after the recorded CREATE_RENDERER */
   uint32_t count;
};

static struct stress_recording stress_recordings[STRESS_MAX_RECORDINGS];
static uint32_t stress_recording_count;

static void
stress_recording_parse(struct stress_recording *rec)
{
   size_t off = 0;
   bool is_first = true;

   rec->reqs = calloc(STRESS_MAX_REQUESTS, sizeof(*rec->reqs));
   while (rec->reqs && off + 8 <= rec->size && rec->count < STRESS_MAX_REQUESTS) {
      uint32_t hdr[2];
      memcpy(hdr, rec->data + off, sizeof(hdr));
      /* CREATE_RENDERER's length counts bytes, every other one dwords */
      const uint64_t payload =
         hdr[VTEST_CMD_ID] == VCMD_CREATE_RENDERER ? hdr[0] : (uint64_t)hdr[0] * 4;
      if (off + 8 + payload > rec->size)
         break;
      if (!is_first) {
         rec->reqs[rec->count++] = (struct stress_request){
            .offset = off,
            .size = 8 + payload,
            .id = hdr[VTEST_CMD_ID],
         };
      }
      is_first = false;
      off += 8 + payload;
   }
}

static void
stress_recordings_load(const char *dir_path)
{
   DIR *dir = dir_path ? opendir(dir_path) : NULL;
   for (struct dirent *e; dir && (e = readdir(dir)) &&
                          stress_recording_count < STRESS_MAX_RECORDINGS;) {
      if (e->d_name[0] == '.')
         continue;
      char path[4096];
      snprintf(path, sizeof(path), "%s/%s", dir_path, e->d_name);
      FILE *f = fopen(path, "rb");
      if (!f)
         continue;
      struct stress_recording *rec = &stress_recordings[stress_recording_count];
      rec->data = malloc(1u << 20);
      rec->size = rec->data ? fread(rec->data, 1, 1u << 20, f) : 0;
      fclose(f);
      stress_recording_parse(rec);
      if (rec->count)
         stress_recording_count++;
      else
         free(rec->data);
   }
   if (dir)
      closedir(dir);
}

/* ---- one connection ---- */

struct stress_peer {
   int fd;
   struct stress_rng *rng;
   struct stress_hostile_report *report;
   uint32_t index;
   bool is_dropped; /* the server closed its end */
   bool is_stalled; /* a send or reply timed out */
};

static int
stress_connect(const char *path)
{
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
   const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      return -1;
   if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
      close(fd);
      return -1;
   }
   return fd;
}

static void
stress_close_fds(struct msghdr *msg, int *out_fd)
{
   for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
         continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
         int fd;
         memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
         if (out_fd && *out_fd < 0)
            *out_fd = fd;
         else
            close(fd);
      }
   }
}

/* One recvmsg of at most `size` bytes; fds go to *out_fd (the first) or are
 * closed. Returns the byte count, 0 at the end, -1 (errno) otherwise. */
static ssize_t
stress_recv(struct stress_peer *p, void *buf, size_t size, int *out_fd)
{
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(8 * sizeof(int))];
   } control;
   struct iovec iov = { .iov_base = buf, .iov_len = size };
   struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = control.buf,
      .msg_controllen = sizeof(control.buf),
   };
   const ssize_t n = recvmsg(p->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
   if (n > 0)
      stress_close_fds(&msg, out_fd);
   if (n == 0 || (n < 0 && errno == ECONNRESET))
      p->is_dropped = true;
   return n;
}

/* Reads and discards replies (closing the fds they carry) for up to
 * timeout_ms, or until the server drops us. */
static void
stress_drain(struct stress_peer *p, int timeout_ms)
{
   const uint64_t deadline = vu_os_time_ns() + (uint64_t)timeout_ms * 1000000u;
   char junk[4096];

   while (!p->is_dropped) {
      struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
      const uint64_t now = vu_os_time_ns();
      const int wait = now >= deadline ? 0 : (int)((deadline - now) / 1000000u);
      if (poll(&pfd, 1, wait) <= 0)
         return;
      const ssize_t n = stress_recv(p, junk, sizeof(junk), NULL);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
         return;
   }
}

/* Sends everything while draining replies; false once dropped or stalled. */
static bool
stress_send(struct stress_peer *p, const void *buf, size_t size)
{
   const uint8_t *src = buf;
   size_t done = 0;
   uint64_t last_progress = vu_os_time_ns();

   while (done < size && !p->is_dropped) {
      struct pollfd pfd = { .fd = p->fd, .events = POLLIN | POLLOUT };
      if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
         return false;
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
         stress_drain(p, 0);
      if (pfd.revents & POLLOUT) {
         const ssize_t n =
            send(p->fd, src + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL);
         if (n > 0) {
            done += (size_t)n;
            p->report->bytes_sent += (uint64_t)n;
            last_progress = vu_os_time_ns();
         } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            p->is_dropped = true;
         }
      }
      if (vu_os_time_ns() - last_progress > STRESS_SEND_TIMEOUT_MS * 1000000ull) {
         p->is_stalled = true;
         p->report->stalls++;
         return false;
      }
   }
   return done == size;
}

static bool
stress_send_request(struct stress_peer *p,
                    uint32_t id,
                    uint32_t length,
                    const uint32_t *payload,
                    uint32_t dwords)
{
   const uint32_t hdr[2] = { length, id };
   return stress_send(p, hdr, sizeof(hdr)) &&
          (!dwords || stress_send(p, payload, dwords * sizeof(uint32_t)));
}

/* Reads exactly `size` bytes of reply; the first fd that comes with them
 * goes to *out_fd (if not NULL). */
static bool
stress_read_reply(struct stress_peer *p, void *buf, size_t size, int *out_fd)
{
   size_t done = 0;
   while (done < size && !p->is_dropped) {
      struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
      const int r = poll(&pfd, 1, STRESS_REPLY_TIMEOUT_MS);
      if (r == 0) {
         p->is_stalled = true;
         return false;
      }
      if (r < 0) {
         if (errno == EINTR)
            continue;
         return false;
      }
      const ssize_t n = stress_recv(p, (uint8_t *)buf + done, size - done, out_fd);
      if (n > 0)
         done += (size_t)n;
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
         return false;
   }
   return done == size;
}

/* a reply of [len][id] + `dwords` data dwords, optionally followed by an fd */
static bool
stress_expect(struct stress_peer *p,
              uint32_t id,
              uint32_t *data,
              uint32_t dwords,
              int *out_fd)
{
   uint32_t msg[2 + 4];
   if (dwords > 4 || !stress_read_reply(p, msg, (2 + dwords) * sizeof(uint32_t), NULL) ||
       msg[0] != dwords || msg[1] != id)
      return false;
   memcpy(data, &msg[2], dwords * sizeof(uint32_t));
   if (!out_fd)
      return true;
   uint8_t dummy;
   *out_fd = -1;
   return stress_read_reply(p, &dummy, 1, out_fd) && *out_fd >= 0;
}

/* CREATE_RENDERER "hostile-<n>", PROTOCOL_VERSION (answer awaited when
 * `is_sync`) and optionally CONTEXT_INIT(Venus) */
static bool
stress_start(struct stress_peer *p, uint32_t version, bool with_context, bool is_sync)
{
   char name[32];
   const int len = snprintf(name, sizeof(name), "hostile-%u", p->index) + 1;
   const uint32_t hdr[2] = { (uint32_t)len, VCMD_CREATE_RENDERER };
   const uint32_t capset = VW_CAPSET_ID_VENUS;
   uint32_t got;

   if (!stress_send(p, hdr, sizeof(hdr)) || !stress_send(p, name, (size_t)len) ||
       !stress_send_request(p, VCMD_PROTOCOL_VERSION, 1, &version, 1))
      return false;
   if (is_sync && !stress_expect(p, VCMD_PROTOCOL_VERSION, &got, 1, NULL))
      return false;
   return !with_context || stress_send_request(p, VCMD_CONTEXT_INIT, 1, &capset, 1);
}

/* ---- mode: random bytes without a session ---- */

static void
stress_mode_raw(struct stress_peer *p)
{
   uint32_t buf[1024];
   const uint32_t dwords = 2 + rnd_below(p->rng, 1022);
   rnd_fill(p->rng, buf, sizeof(buf));
   buf[VTEST_CMD_LEN] = rnd_value(p->rng);
   /* never CREATE_RENDERER: the worker must refuse the first header */
   do
      buf[VTEST_CMD_ID] = chance(p->rng, 70) ? rnd_below(p->rng, 48) : rnd(p->rng);
   while (buf[VTEST_CMD_ID] == VCMD_CREATE_RENDERER);
   if (stress_send(p, buf, dwords * sizeof(uint32_t)))
      stress_drain(p, STRESS_DROP_WAIT_MS);
}

/* ---- mode: random requests in a session ---- */

struct stress_known_request {
   uint32_t id;
   int32_t length; /* -1: variable */
};

static const struct stress_known_request stress_known[] = {
   { VCMD_RESOURCE_UNREF, 1 },
   { VCMD_SUBMIT_CMD, -1 },
   { VCMD_RESOURCE_BUSY_WAIT, 2 },
   { VCMD_PING_PROTOCOL_VERSION, 0 },
   { VCMD_PROTOCOL_VERSION, 1 },
   { VCMD_GET_PARAM, 1 },
   { VCMD_GET_CAPSET, 2 },
   { VCMD_CONTEXT_INIT, 1 },
   { VCMD_RESOURCE_CREATE_BLOB, VCMD_RES_CREATE_BLOB_SIZE },
   { VCMD_SYNC_CREATE, VCMD_SYNC_CREATE_SIZE },
   { VCMD_SYNC_UNREF, VCMD_SYNC_UNREF_SIZE },
   { VCMD_SYNC_READ, VCMD_SYNC_READ_SIZE },
   { VCMD_SYNC_WRITE, VCMD_SYNC_WRITE_SIZE },
   { VCMD_SYNC_WAIT, -1 },
   { VCMD_SUBMIT_CMD2, -1 },
   { VCMD_RESOURCE_EXPORT_FD, 1 },
   { VCMD_CREATE_RENDERER, -1 },
   { VCMD_GET_CAPS, 0 },
};

/* fills payload for request `id`; returns its dword count (<= 512) */
static uint32_t
stress_random_payload(struct stress_rng *r, uint32_t id, uint32_t *payload)
{
   uint32_t n = 0;
   switch (id) {
   case VCMD_SUBMIT_CMD: {
      n = rnd_below(r, 64);
      for (uint32_t i = 0; i < n; i++)
         payload[i] = rnd_value(r);
      if (n && chance(r, 50))
         payload[0] = rnd_below(r, 400); /* a command type that may exist */
      return n;
   }
   case VCMD_SUBMIT_CMD2: {
      const uint32_t batches = 1 + rnd_below(r, 3);
      const uint32_t extra = rnd_below(r, 24);
      n = 1 + batches * VW_VTEST_BATCH_DWORDS + extra;
      payload[0] = chance(r, 80) ? batches : rnd_value(r);
      for (uint32_t b = 0; b < batches; b++) {
         uint32_t *h = &payload[1 + b * VW_VTEST_BATCH_DWORDS];
         h[0] = chance(r, 80) ? rnd_below(r, 2) : rnd_value(r);
         h[1] = chance(r, 80) ? n - extra + rnd_below(r, extra + 1) : rnd_value(r);
         h[2] = chance(r, 80) ? rnd_below(r, 4) : rnd_value(r);
         h[3] = chance(r, 80) ? n - extra + rnd_below(r, extra + 1) : rnd_value(r);
         h[4] = chance(r, 80) ? rnd_below(r, 3) : rnd_value(r);
         h[5] = chance(r, 80) ? rnd_below(r, 4) : rnd_value(r);
         h[6] = chance(r, 90) ? 0 : rnd_value(r);
         h[7] = chance(r, 90) ? 0 : rnd_value(r);
      }
      for (uint32_t i = n - extra; i < n; i++)
         payload[i] = chance(r, 50) ? rnd_below(r, 5) : rnd_value(r);
      return n;
   }
   case VCMD_SYNC_WAIT: {
      const uint32_t count = rnd_below(r, 5);
      payload[0] = rnd_below(r, 3);
      static const uint32_t timeouts[] = { 0, 10, 100, 0xffffffff };
      payload[1] = timeouts[rnd_below(r, 4)];
      for (uint32_t i = 0; i < count; i++) {
         payload[2 + 3 * i] = rnd_below(r, 5);
         payload[3 + 3 * i] = rnd_value(r);
         payload[4 + 3 * i] = chance(r, 90) ? 0 : rnd_value(r);
      }
      return 2 + 3 * count + (chance(r, 10) ? 1 : 0);
   }
   case VCMD_RESOURCE_CREATE_BLOB: {
      static const uint32_t sizes[] = { 0, 3, 4096, 65536, 1u << 20, 0x7ffff000 };
      payload[0] = chance(r, 80) ? 1 + rnd_below(r, 3) : rnd_value(r);
      payload[1] = rnd_below(r, 8);
      payload[2] = chance(r, 80) ? sizes[rnd_below(r, 6)] : rnd_value(r);
      payload[3] = chance(r, 90) ? 0 : rnd_value(r);
      payload[4] = chance(r, 60) ? 0 : rnd_value(r);
      payload[5] = chance(r, 90) ? 0 : rnd_value(r);
      return 6;
   }
   case VCMD_CREATE_RENDERER:
      n = rnd_below(r, 8);
      rnd_fill(r, payload, n * sizeof(uint32_t));
      return n;
   default:
      for (uint32_t i = 0; i < 6; i++)
         payload[i] = chance(r, 60) ? rnd_below(r, 5) : rnd_value(r);
      return 6;
   }
}

static void
stress_mode_requests(struct stress_peer *p)
{
   struct stress_rng *r = p->rng;
   static const uint32_t versions[] = { 0, 1, 2, 3, 4, 4, 4, 5, 0xffffffff };
   if (!stress_start(p, versions[rnd_below(r, 9)], chance(r, 85), false))
      return;

   const uint32_t count = 1 + rnd_below(r, 40);
   uint32_t payload[512];
   for (uint32_t i = 0; i < count && !p->is_dropped && !p->is_stalled; i++) {
      const struct stress_known_request *k =
         &stress_known[rnd_below(r, sizeof(stress_known) / sizeof(stress_known[0]))];
      const uint32_t id = chance(r, 90) ? k->id : rnd_value(r);
      const uint32_t built = stress_random_payload(r, id, payload);
      uint32_t sent = built;
      if (k->length >= 0 && id == k->id && chance(r, 85))
         sent = (uint32_t)k->length;
      uint32_t length = sent;
      if (chance(r, 8))
         length = chance(r, 50) ? rnd_below(r, 16) : rnd_value(r);
      if (sent > built)
         memset(&payload[built], 0, (sent - built) * sizeof(uint32_t));
      if (!stress_send_request(p, id, length, payload, sent))
         break;
      stress_drain(p, 0);
   }
   stress_drain(p, chance(r, 50) ? STRESS_DROP_WAIT_MS : 0);
}

/* ---- mode: a mutated recording ---- */

static void
stress_mode_replay(struct stress_peer *p)
{
   struct stress_rng *r = p->rng;
   if (!stress_recording_count) {
      stress_mode_requests(p);
      return;
   }
   const struct stress_recording *rec =
      &stress_recordings[rnd_below(r, stress_recording_count)];

   /* the order of the recorded requests, then mutations of it */
   uint32_t order[STRESS_MAX_REQUESTS];
   uint32_t count = rec->count;
   for (uint32_t i = 0; i < count; i++)
      order[i] = i;
   /* header rewrites: request index -> new length / id (UINT32_MAX: keep) */
   uint32_t new_len[STRESS_MAX_REQUESTS], new_id[STRESS_MAX_REQUESTS];
   memset(new_len, 0xff, sizeof(new_len));
   memset(new_id, 0xff, sizeof(new_id));
   size_t cut = SIZE_MAX; /* bytes of the whole stream sent */

   const uint32_t mutations = chance(r, 10) ? 0 : 1 + rnd_below(r, 3);
   for (uint32_t m = 0; m < mutations && count; m++) {
      const uint32_t at = rnd_below(r, count);
      switch (rnd_below(r, 5)) {
      case 0: /* drop one */
         memmove(&order[at], &order[at + 1], (count - at - 1) * sizeof(order[0]));
         count--;
         break;
      case 1: /* repeat one */
         if (count < STRESS_MAX_REQUESTS) {
            memmove(&order[at + 1], &order[at], (count - at) * sizeof(order[0]));
            count++;
         }
         break;
      case 2: /* swap neighbours */
         if (at + 1 < count) {
            const uint32_t t = order[at];
            order[at] = order[at + 1];
            order[at + 1] = t;
         }
         break;
      case 3: { /* rewrite a header */
         const uint32_t req = order[at];
         if (chance(r, 50)) {
            const uint32_t old = (uint32_t)(rec->reqs[req].size - 8) / 4;
            new_len[req] = chance(r, 60) ? old + rnd_below(r, 7) - 3 : rnd_value(r);
         } else {
            new_id[req] = chance(r, 80) ? rnd_below(r, 40) : rnd_value(r);
         }
         break;
      }
      default: /* stop somewhere, possibly inside a request */
         cut = rnd_below(r, (uint32_t)rec->size);
         break;
      }
   }

   if (!stress_start(p, 4, false, false))
      return;
   size_t sent = 0;
   for (uint32_t i = 0; i < count && sent < cut && !p->is_dropped && !p->is_stalled;
        i++) {
      const struct stress_request *req = &rec->reqs[order[i]];
      uint8_t hdr[8];
      memcpy(hdr, rec->data + req->offset, 8);
      if (new_len[order[i]] != UINT32_MAX)
         memcpy(hdr, &new_len[order[i]], 4);
      if (new_id[order[i]] != UINT32_MAX)
         memcpy(hdr + 4, &new_id[order[i]], 4);
      size_t n = req->size;
      if (sent + n > cut)
         n = cut - sent;
      const size_t hdr_n = n < 8 ? n : 8;
      if (!stress_send(p, hdr, hdr_n) ||
          (n > 8 && !stress_send(p, rec->data + req->offset + 8, n - 8)))
         break;
      sent += n;
      if (chance(r, 30))
         stress_drain(p, 0);
   }
   stress_drain(p, STRESS_DROP_WAIT_MS);
}

/* ---- mode: a hostile ring ---- */

struct stress_ring {
   uint8_t *map;
   uint32_t buffer_size; /* as far as the peer knows */
   uint32_t tail;
   uint64_t next_object_id;
};

static _Atomic uint32_t *
stress_ring_word(struct stress_ring *ring, uint32_t offset)
{
   return (_Atomic uint32_t *)(ring->map + (offset % STRESS_RING_BLOB_SIZE & ~3u));
}

static void
stress_ring_append(struct stress_ring *ring, const void *data, uint32_t size)
{
   const uint8_t *src = data;
   for (uint32_t i = 0; i < size; i++)
      ring->map[VW_RING_BUFFER_OFFSET + ((ring->tail + i) & (ring->buffer_size - 1))] =
         src[i];
   ring->tail += size;
   atomic_store_explicit(stress_ring_word(ring, VW_RING_TAIL_OFFSET), ring->tail,
                         memory_order_release);
}

/* real commands, as a driver would put them into a ring */
static uint32_t
stress_ring_commands(struct stress_peer *p,
                     struct stress_ring *ring,
                     uint8_t *buf,
                     size_t size)
{
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, buf, size);
   static struct vp_guest_object objects[4];
   struct vp_guest_object *obj = &objects[rnd_below(p->rng, 4)];
   obj->id = ring->next_object_id++;
   VkInstance instance = (VkInstance)(uintptr_t)obj;
   const VkApplicationInfo app = {
      .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
      .pApplicationName = "stress",
      .apiVersion = VK_API_VERSION_1_1,
   };
   const VkInstanceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
      .pApplicationInfo = &app,
   };
   uint32_t version = 0;
   switch (rnd_below(p->rng, 3)) {
   case 0:
      vp_encode_vkEnumerateInstanceVersion(&e, 0, &version);
      break;
   case 1:
      vp_encode_vkCreateInstance(&e, 0, &info, NULL, &instance);
      if (chance(p->rng, 50))
         vp_encode_vkDestroyInstance(&e, 0, instance, NULL);
      break;
   default:
      vp_encode_vkCreateInstance(&e, 0, &info, NULL, &instance);
      vp_encode_vkEnumeratePhysicalDevices(&e, 0, instance, &version, NULL);
      break;
   }
   uint32_t n = vp_encoder_is_fatal(&e) ? 0 : (uint32_t)vp_encoder_size(&e);
   if (n && chance(p->rng, 20))
      n = rnd_below(p->rng, n); /* cut short */
   return n;
}

static bool
stress_submit_cmd(struct stress_peer *p, const void *cmd, size_t size)
{
   return stress_send_request(p, VCMD_SUBMIT_CMD, (uint32_t)(size / 4), cmd,
                              (uint32_t)(size / 4));
}

static void
stress_mode_ring(struct stress_peer *p)
{
   struct stress_rng *r = p->rng;
   uint32_t res_id = 0;
   int fd = -1;
   const uint32_t blob[6] = { VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE,
                              STRESS_RING_BLOB_SIZE, 0, 0, 0 };

   if (!stress_start(p, 4, true, true) ||
       !stress_send_request(p, VCMD_RESOURCE_CREATE_BLOB, 6, blob, 6) ||
       !stress_expect(p, VCMD_RESOURCE_CREATE_BLOB, &res_id, 1, &fd))
      return;
   struct stress_ring ring = {
      .map = mmap(NULL, STRESS_RING_BLOB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
      .buffer_size = 64u << rnd_below(r, 10),
      .next_object_id = 0x100,
   };
   close(fd);
   if (ring.map == MAP_FAILED)
      return;

   static const uint64_t idle_timeouts[] = { 0, 1000, 1000000, 50000000 };
   const VkRingMonitorInfoMESA monitor = {
      .sType = VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA,
      .maxReportingPeriodMicroseconds = rnd_below(r, 3) * 50000,
   };
   VkRingCreateInfoMESA info = {
      .sType = VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA,
      .pNext = chance(r, 30) ? &monitor : NULL,
      .resourceId = res_id,
      .size = vw_ring_total_size(ring.buffer_size),
      .idleTimeout = idle_timeouts[rnd_below(r, 4)],
      .headOffset = VW_RING_HEAD_OFFSET,
      .tailOffset = VW_RING_TAIL_OFFSET,
      .statusOffset = VW_RING_STATUS_OFFSET,
      .bufferOffset = VW_RING_BUFFER_OFFSET,
      .bufferSize = ring.buffer_size,
      .extraOffset = VW_RING_BUFFER_OFFSET + ring.buffer_size,
      .extraSize = VW_RING_EXTRA_SIZE,
   };
   if (chance(r, 25)) {
      /* every field from the random source, edge values first */
      info.resourceId = chance(r, 80) ? res_id : rnd_value(r);
      info.offset = rnd_value(r);
      info.size = rnd_value(r);
      info.headOffset = rnd_value(r);
      info.tailOffset = rnd_value(r);
      info.statusOffset = rnd_value(r);
      info.bufferOffset = rnd_value(r);
      info.bufferSize = rnd_value(r);
      info.extraOffset = rnd_value(r);
      info.extraSize = rnd_value(r);
   }
   uint8_t cmd[1024];
   struct vp_encoder e;
   vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
   vp_encode_vkCreateRingMESA(&e, 0, STRESS_RING_ID, &info);
   bool ok = stress_submit_cmd(p, cmd, vp_encoder_size(&e));

   const uint32_t steps = rnd_below(r, 200);
   for (uint32_t i = 0; ok && i < steps && !p->is_dropped; i++) {
      switch (rnd_below(r, 10)) {
      case 0:
      case 1: { /* random bytes */
         const uint32_t n = rnd_below(r, 256);
         rnd_fill(r, cmd, n);
         stress_ring_append(&ring, cmd, n);
         break;
      }
      case 2:
      case 3: /* real commands (also cut short) */
         stress_ring_append(&ring, cmd, stress_ring_commands(p, &ring, cmd, sizeof(cmd)));
         break;
      case 4: /* any tail */
         ring.tail = chance(r, 50) ? ring.tail + rnd_below(r, 2 * ring.buffer_size)
                                   : rnd_value(r);
         atomic_store(stress_ring_word(&ring, VW_RING_TAIL_OFFSET), ring.tail);
         break;
      case 5: { /* the consumer's words, or any word of the blob */
         static const uint32_t offsets[] = { VW_RING_HEAD_OFFSET, VW_RING_STATUS_OFFSET };
         const uint32_t offset = chance(r, 60) ? offsets[rnd_below(r, 2)] : rnd(r);
         atomic_store(stress_ring_word(&ring, offset), rnd_value(r));
         break;
      }
      case 6: /* wake the ring thread and give it a moment */
         vu_os_futex_wake(
            (const uint32_t *)stress_ring_word(&ring, VW_RING_TAIL_OFFSET), 1);
         usleep(rnd_below(r, 2000));
         break;
      case 7:
      case 8: { /* context-path ring commands */
         const uint64_t ring_id = chance(r, 85) ? STRESS_RING_ID : rnd_value(r);
         vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
         switch (rnd_below(r, 6)) {
         case 0:
            vp_encode_vkNotifyRingMESA(&e, 0, ring_id, ring.tail, 0);
            break;
         case 1:
            /* only seqnos already written: waiting for the future is the
             * guest's own deadlock (the renderer makes it fatal) */
            vp_encode_vkWaitRingSeqnoMESA(&e, 0, ring_id, ring.tail - rnd_below(r, 64));
            break;
         case 2:
            vp_encode_vkWriteRingExtraMESA(&e, 0, ring_id, rnd_value(r), rnd_value(r));
            break;
         case 3:
            vp_encode_vkSubmitVirtqueueSeqnoMESA(&e, 0, ring_id, rnd_value(r));
            break;
         case 4:
            vp_encode_vkDestroyRingMESA(&e, 0, ring_id);
            break;
         default: /* a second ring over the same blob */
            vp_encode_vkCreateRingMESA(&e, 0, ring_id + 1, &info);
            break;
         }
         ok = stress_submit_cmd(p, cmd, vp_encoder_size(&e));
         break;
      }
      default: { /* a random context-path stream */
         const uint32_t n = rnd_below(r, 64) * 4;
         rnd_fill(r, cmd, n);
         ok = stress_submit_cmd(p, cmd, n);
         break;
      }
      }
      stress_drain(p, 0);
      if (chance(r, 10))
         usleep(rnd_below(r, 3000));
   }
   if (chance(r, 50)) {
      vp_encoder_init_fixed(&e, cmd, sizeof(cmd));
      vp_encode_vkDestroyRingMESA(&e, 0, STRESS_RING_ID);
      stress_submit_cmd(p, cmd, vp_encoder_size(&e));
      stress_drain(p, STRESS_DROP_WAIT_MS / 3);
   }
   munmap(ring.map, STRESS_RING_BLOB_SIZE);
}

/* ---- mode: resources piled up, then gone mid-request ---- */

static void
stress_mode_churn(struct stress_peer *p)
{
   struct stress_rng *r = p->rng;
   int fds[STRESS_CHURN_MAX_FDS];
   uint32_t fd_count = 0;

   if (!stress_start(p, 4, true, true))
      return;
   const uint32_t rounds = 1 + rnd_below(r, 30);
   for (uint32_t i = 0; i < rounds && fd_count + 3 <= STRESS_CHURN_MAX_FDS; i++) {
      const uint32_t size = 4096u << rnd_below(r, 9); /* 4 KiB .. 1 MiB */
      const uint32_t blob[6] = { VCMD_BLOB_TYPE_HOST3D, VCMD_BLOB_FLAG_MAPPABLE, size, 0,
                                 0, 0 };
      uint32_t res_id, sync_id;
      int fd = -1;
      if (!stress_send_request(p, VCMD_RESOURCE_CREATE_BLOB, 6, blob, 6) ||
          !stress_expect(p, VCMD_RESOURCE_CREATE_BLOB, &res_id, 1, &fd))
         break;
      uint8_t *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (map != MAP_FAILED) {
         memset(map, (int)i, size);
         munmap(map, size);
      }
      fds[fd_count++] = fd;

      const uint32_t create[2] = { rnd_below(r, 4), 0 };
      if (!stress_send_request(p, VCMD_SYNC_CREATE, 2, create, 2) ||
          !stress_expect(p, VCMD_SYNC_CREATE, &sync_id, 1, NULL))
         break;
      /* a wait that never ends, a fence on a timeline, an export */
      const uint32_t wait[5] = { 0, 0xffffffff, sync_id, 1000, 0 };
      uint32_t none;
      fd = -1;
      if (!stress_send_request(p, VCMD_SYNC_WAIT, 5, wait, 5) ||
          !stress_expect(p, VCMD_SYNC_WAIT, &none, 0, &fd))
         break;
      fds[fd_count++] = fd;
      /* timeline 0 (the context's own; no queue is bound to the others) */
      const uint32_t submit[12] = {
         1, VCMD_SUBMIT_CMD2_FLAG_RING_IDX, 9, 0, 9, 1, 0, 0, 0, sync_id, 5 + i, 0,
      };
      if (!stress_send_request(p, VCMD_SUBMIT_CMD2, 12, submit, 12))
         break;
      if (chance(r, 30)) {
         fd = -1;
         if (!stress_send_request(p, VCMD_RESOURCE_EXPORT_FD, 1, &res_id, 1) ||
             !stress_expect(p, VCMD_RESOURCE_EXPORT_FD, &none, 0, &fd))
            break;
         fds[fd_count++] = fd;
      }
      if (chance(r, 20))
         stress_send_request(p, VCMD_RESOURCE_UNREF, 1, &res_id, 1);
   }
   /* vanish inside a header or a payload */
   const uint32_t partial[4] = { 100, VCMD_SUBMIT_CMD, 1, 2 };
   stress_send(p, partial, chance(r, 50) ? 5 : sizeof(partial));
   for (uint32_t i = 0; i < fd_count; i++)
      close(fds[i]);
}

/* ---- the loop ---- */

const char *
stress_mode_name(enum stress_mode mode)
{
   static const char *const names[STRESS_MODE_COUNT] = { "raw", "requests", "replay",
                                                          "ring", "churn" };
   return mode < STRESS_MODE_COUNT ? names[mode] : "?";
}

void
stress_hostile_run(const char *sock_path,
                   const char *corpus_dir,
                   uint64_t seed,
                   uint64_t deadline_ns,
                   struct stress_hostile_report *out)
{
   struct stress_rng rng = { seed | 1 };
   /* percent of connections per mode */
   static const uint32_t weights[STRESS_MODE_COUNT] = { 15, 30, 20, 25, 10 };

   stress_recordings_load(corpus_dir);
   while (vu_os_time_ns() < deadline_ns) {
      if (out->count == out->capacity) {
         const uint32_t capacity = out->capacity ? out->capacity * 2 : 256;
         struct stress_conn *conns = realloc(out->conns, capacity * sizeof(*conns));
         if (!conns) {
            out->failed = true;
            break;
         }
         out->conns = conns;
         out->capacity = capacity;
      }
      uint32_t pick = rnd_below(&rng, 100);
      enum stress_mode mode = STRESS_MODE_RAW;
      while (pick >= weights[mode]) {
         pick -= weights[mode];
         mode++;
      }

      struct stress_peer peer = {
         .fd = stress_connect(sock_path),
         .rng = &rng,
         .report = out,
         .index = out->count,
      };
      if (peer.fd < 0) {
         out->failed = true;
         break;
      }
      switch (mode) {
      case STRESS_MODE_RAW:
         stress_mode_raw(&peer);
         break;
      case STRESS_MODE_REQUESTS:
         stress_mode_requests(&peer);
         break;
      case STRESS_MODE_REPLAY:
         stress_mode_replay(&peer);
         break;
      case STRESS_MODE_RING:
         stress_mode_ring(&peer);
         break;
      default:
         stress_mode_churn(&peer);
         break;
      }
      close(peer.fd);
      out->conns[out->count++] = (struct stress_conn){
         .mode = mode,
         .has_name = mode != STRESS_MODE_RAW,
         .was_dropped = peer.is_dropped,
      };
   }
   for (uint32_t i = 0; i < stress_recording_count; i++) {
      free(stress_recordings[i].data);
      free(stress_recordings[i].reqs);
   }
   stress_recording_count = 0;
}
