/*
 * libFuzzer target: arbitrary bytes as everything a vtest client sends
 * venus-server, served by the server's own request parser and handlers
 * (vtest_worker_run, in-process as with --no-fork) over a real renderer
 * context on the host's Vulkan driver. A helper thread writes the input into
 * the client's end of a socket pair and drains the replies and the fds they
 * carry, like a client that never waits. Any input may end the session; none
 * may crash, hang or leak.
 *
 * Seeds: recorded connections of the test programs (tests/fuzz/corpus/vtest,
 * docs/TESTING.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <threads.h>
#include <unistd.h>

#include "server/vtest_server.h"

#include "fuzz_host.h"

struct fuzz_peer {
   int sock;
   const uint8_t *data;
   size_t size;
};

static void
fuzz_drain(int sock)
{
   char buf[4096];
   union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(4 * sizeof(int))];
   } control;
   struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
   struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = control.buf,
      .msg_controllen = sizeof(control.buf),
   };
   const ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
   if (n <= 0)
      return;
   for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
         continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
         int fd;
         memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
         close(fd);
      }
   }
}

/* writes the input, then half-closes; drains replies until the server
 * closes its end */
static int
fuzz_peer_main(void *arg)
{
   struct fuzz_peer *peer = arg;
   size_t done = 0;
   bool is_open = true;

   for (;;) {
      if (done == peer->size && is_open) {
         shutdown(peer->sock, SHUT_WR);
         is_open = false;
      }
      struct pollfd pfd = {
         .fd = peer->sock,
         .events = POLLIN | (done < peer->size ? POLLOUT : 0),
      };
      if (poll(&pfd, 1, -1) < 0) {
         if (errno == EINTR)
            continue;
         break;
      }
      if (pfd.revents & POLLOUT) {
         const ssize_t n = send(peer->sock, peer->data + done, peer->size - done,
                                MSG_DONTWAIT | MSG_NOSIGNAL);
         if (n > 0)
            done += (size_t)n;
         else if (n < 0 && errno != EAGAIN && errno != EINTR)
            done = peer->size; /* the server hung up */
      }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
         char probe;
         const ssize_t n = recv(peer->sock, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
         if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
         fuzz_drain(peer->sock);
      }
   }
   return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   static const struct vtest_options opts = {
      .socket_path = "fuzz",
      .inherited_fd = -1,
      .no_fork = true,
      .max_clients = 1,
      .max_request_bytes = 1u << 20,
      .limits = {
         .max_memory_bytes = 64u << 20,
         .max_objects = 4096,
         .max_ring_size = 1u << 20, /* the driver's rings are 128 KiB */
      },
   };
   int sv[2];

   if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      abort();
   struct fuzz_peer peer = { .sock = sv[0], .data = data, .size = size };
   thrd_t thread;
   if (thrd_create(&thread, fuzz_peer_main, &peer) != thrd_success)
      abort();

   vtest_worker_run(sv[1], &opts, 1); /* closes sv[1] */

   thrd_join(thread, NULL);
   close(sv[0]);
   return 0;
}
