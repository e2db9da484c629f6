#!/usr/bin/env python3
"""Records vtest connections as fuzzer seeds (docs/TESTING.md, "Fuzzing").

A proxy between clients and venus-server: it listens on --listen, connects
each client to --server, forwards bytes and passed fds both ways, and writes
what each client sent into OUT_DIR/<prefix>-<n> (the input format of
tests/fuzz/fuzz_vtest). Stops after --count connections.

   record_vtest.py --server SRV_SOCK --listen REC_SOCK --out DIR --prefix compute
   VTEST_SOCKET_NAME=REC_SOCK vkt_compute      # through our driver
"""
import argparse
import array
import os
import selectors
import socket

MAX_FDS = 16


def recv_with_fds(sock):
    fds = array.array("i")
    data, anc, _flags, _addr = sock.recvmsg(
        1 << 16, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


def send_all(sock, data):
    view = memoryview(data)
    sent = 0
    while sent < len(view):
        sent += sock.send(view[sent:])


def send_with_fds(sock, data, fds):
    """fds came with the last byte (a Unix stream read stops after the
    segment that carries them): they go with that byte again"""
    if not fds:
        send_all(sock, data)
        return
    send_all(sock, data[:-1])
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
    sock.sendmsg([data[-1:]], anc)
    for fd in fds:
        os.close(fd)


def relay(client, server_path, out_path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.connect(server_path)
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, server)
    sel.register(server, selectors.EVENT_READ, client)
    with open(out_path, "wb") as out:
        open_ends = 2
        while open_ends:
            for key, _ in sel.select():
                src, dst = key.fileobj, key.data
                try:
                    data, fds = recv_with_fds(src)
                except ConnectionResetError:
                    data, fds = b"", []
                if not data:
                    sel.unregister(src)
                    open_ends -= 1
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                if src is client:
                    out.write(data)
                try:
                    send_with_fds(dst, data, fds)
                except OSError:
                    pass
    client.close()
    server.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--listen", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--prefix", default="conn")
    p.add_argument("--count", type=int, default=1)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(args.listen):
        os.unlink(args.listen)
    lsock.bind(args.listen)
    lsock.listen(8)
    for n in range(args.count):
        client, _ = lsock.accept()
        relay(client, args.server, os.path.join(args.out, f"{args.prefix}-{n}"))
    lsock.close()
    os.unlink(args.listen)


if __name__ == "__main__":
    main()
