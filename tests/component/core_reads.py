#!/usr/bin/env python3
"""core_reads.py SOCKET N NAME... — N pipelined reads over one connection.

Sends GET for each NAME (of the core's default namespace) in turn (and a LIST every 100th request), keeping up
to the core's advertised max_inflight outstanding, and checks that every
answer is a success for its id.  Prints "reads: N ok".  Used to show that
cached reads make no Kubernetes API call, however many there are.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from core_rawclient import (Conn, F_ERROR, F_MORE, F_REPLY, GET, LIST,  # noqa
                            fail, frame, hello_frame, hello_ok_body)


def string(s):
    b = s.encode("ascii")
    return struct.pack(">H", len(b)) + b


def name_body(ns, name):
    """GET body (proto-socket 3): namespace, then name."""
    return string(ns) + string(name)


def main():
    path, total, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    c = Conn(path)
    c.send(hello_frame())
    f = c.recv()
    if f is None or f[1] != F_REPLY:
        fail("no HELLO answer")
    _, inflight, _, ns = hello_ok_body(f[3])
    sent = done = 0
    pending = {}
    while done < total:
        while sent < total and len(pending) < inflight:
            fid = sent + 1
            if sent % 100 == 99:
                # Every namespace served ("").
                c.send(frame(LIST, fid, string("")))
                pending[fid] = LIST
            else:
                c.send(frame(GET, fid,
                             name_body(ns, names[sent % len(names)])))
                pending[fid] = GET
            sent += 1
        f = c.recv()
        if f is None:
            fail("EOF after %d answers" % done)
        ftype, flags, fid, body = f
        if fid not in pending or ftype != pending[fid]:
            fail("answer for unknown id %d type %d" % (fid, ftype))
        if flags & F_ERROR or not flags & F_REPLY:
            fail("error answer for id %d" % fid)
        if flags & F_MORE:
            continue  # more LIST frames follow for this id
        del pending[fid]
        done += 1
    c.close()
    print("reads: %d ok" % done)


main()
