#!/usr/bin/env python3
"""core_rawclient.py — a raw proto-socket client for core_socket_test.sh.

Speaks the wire format of proto-socket/PROTOCOL.md by hand (struct.pack),
independently of the C library, to send what a well-behaved client never
would.  Each scenario exits 0 when the core behaved as the spec says and 1
with a reason otherwise.  Every read has a deadline.

    core_rawclient.py SOCKET hello|badheader|bytewise|version|oversize|
                             maxclients N|waitgoaway|silent
"""
import socket
import struct
import sys
import time

MAGIC = 0x52504C44
HELLO, LIST, GET, HEALTH, GOAWAY = 1, 2, 3, 5, 11
F_REPLY, F_MORE, F_ERROR = 1, 2, 4
E_UNAVAILABLE, E_PROTOCOL, E_VERSION = 4, 8, 9
DEADLINE = 5.0


def fail(msg):
    print("rawclient: FAIL: " + msg)
    sys.exit(1)


def frame(ftype, fid, body=b"", flags=0, reserved=0, length=None):
    if length is None:
        length = 16 + len(body)
    return struct.pack(">IHHII", length, ftype, flags, fid, reserved) + body


def hello_frame(vmin=3, vmax=3, magic=MAGIC):
    return frame(HELLO, 0, struct.pack(">IHH", magic, vmin, vmax))


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(DEADLINE)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self, n):
        end = time.monotonic() + DEADLINE
        while len(self.buf) < n:
            if time.monotonic() > end:
                fail("timed out waiting for %d bytes" % n)
            try:
                chunk = self.s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return False
            self.buf += chunk
        return True

    def recv(self):
        """Next frame as (type, flags, id, body), or None at EOF."""
        if not self._fill(16):
            if self.buf:
                fail("EOF inside a header")
            return None
        length, ftype, flags, fid, reserved = struct.unpack(
            ">IHHII", self.buf[:16])
        if length < 16 or length > 16384 or reserved != 0:
            fail("bad answer header %r" % (self.buf[:16],))
        if not self._fill(length):
            fail("EOF inside a frame")
        body = self.buf[16:length]
        self.buf = self.buf[length:]
        return ftype, flags, fid, body

    def expect_eof(self):
        f = self.recv()
        if f is not None:
            fail("expected EOF, got frame type %d" % f[0])

    def close(self):
        self.s.close()


def error_body(body):
    """code u16, retry_after u32, message str, current u32, ref str."""
    code, retry, mlen = struct.unpack(">HIH", body[:8])
    msg = body[8:8 + mlen].decode("ascii")
    rest = body[8 + mlen:]
    if len(rest) < 6:
        fail("error body length")
    _current, rlen = struct.unpack(">IH", rest[:6])
    if len(rest) != 6 + rlen:
        fail("error body length")
    return code, retry, msg


def hello_ok_body(body):
    """(version, max_inflight, max_frame, namespace) of a HELLO answer."""
    if len(body) < 10:
        fail("HELLO answer body too short")
    version, inflight, maxframe, nlen = struct.unpack(">HHIH", body[:10])
    if len(body) != 10 + nlen:
        fail("HELLO answer body length")
    return version, inflight, maxframe, body[10:].decode("ascii")


def expect_hello_ok(c):
    f = c.recv()
    if f is None:
        fail("EOF instead of HELLO answer")
    ftype, flags, fid, body = f
    if ftype != HELLO or flags != F_REPLY or fid != 0:
        fail("bad HELLO answer %r" % (f,))
    version, inflight, maxframe, ns = hello_ok_body(body)
    if version != 3 or not 1 <= inflight <= 64 or maxframe > 16384 or \
            not ns:
        fail("HELLO answer values %r" % ((version, inflight, maxframe,
                                          ns),))
    return ns


def expect_goaway(c, code, substr):
    f = c.recv()
    if f is None:
        fail("EOF instead of GOAWAY")
    ftype, flags, fid, body = f
    if ftype != GOAWAY or flags != F_ERROR or fid != 0:
        fail("expected GOAWAY, got %r" % (f[:3],))
    got, _, msg = error_body(body)
    if got != code or substr not in msg:
        fail("GOAWAY code %d msg %r, want %d %r" % (got, msg, code, substr))
    c.expect_eof()
    print("rawclient: GOAWAY code %d: %s" % (got, msg))


def scenario(path, name, args):
    if name == "hello":
        c = Conn(path)
        c.send(hello_frame())
        expect_hello_ok(c)
    elif name == "badheader":
        c = Conn(path)
        c.send(hello_frame())
        expect_hello_ok(c)
        c.send(frame(HEALTH, 1, reserved=7))
        expect_goaway(c, E_PROTOCOL, "reserved")
    elif name == "oversize":
        c = Conn(path)
        c.send(hello_frame())
        expect_hello_ok(c)
        # Only the header: the core must refuse it without the body.
        c.send(frame(GET, 1, length=0x7FFFFFFF))
        expect_goaway(c, E_PROTOCOL, "length")
    elif name == "bytewise":
        c = Conn(path)
        data = hello_frame() + frame(HEALTH, 77)
        for i in range(len(data)):
            c.send(data[i:i + 1])
            time.sleep(0.002)
        expect_hello_ok(c)
        f = c.recv()
        if f is None or f[0] != HEALTH or f[2] != 77 or f[1] != F_REPLY:
            fail("no HEALTH answer to a byte-wise request: %r" % (f,))
        print("rawclient: HEALTH answered after %d single bytes" % len(data))
    elif name == "version":
        c = Conn(path)
        c.send(hello_frame(4, 5))
        f = c.recv()
        if f is None or f[0] != HELLO or f[1] != F_REPLY | F_ERROR:
            fail("expected a HELLO error, got %r" % (f,))
        code, _, msg = error_body(f[3])
        if code != E_VERSION or "3" not in msg:
            fail("VERSION error %d %r" % (code, msg))
        c.expect_eof()
        print("rawclient: VERSION: %s" % msg)
    elif name == "maxclients":
        n = int(args[0])
        conns = []
        for _ in range(n):
            c = Conn(path)
            c.send(hello_frame())
            expect_hello_ok(c)
            conns.append(c)
        extra = Conn(path)
        expect_goaway(extra, E_UNAVAILABLE, "too many clients")
        # The earlier ones still work.
        conns[0].send(frame(HEALTH, 5))
        f = conns[0].recv()
        if f is None or f[0] != HEALTH or f[2] != 5:
            fail("first client stopped working: %r" % (f,))
        for c in conns:
            c.close()
    elif name == "waitgoaway":
        # Stay connected until the core shuts down and says so.
        c = Conn(path)
        c.send(hello_frame())
        expect_hello_ok(c)
        print("rawclient: connected", flush=True)
        c.s.settimeout(30)
        global DEADLINE
        DEADLINE = 30.0
        expect_goaway(c, E_UNAVAILABLE, "shutting down")
    elif name == "silent":
        # Connect as a refused peer: no byte may come back, only EOF.
        c = Conn(path)
        c.expect_eof()
    else:
        fail("unknown scenario " + name)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        fail("usage: core_rawclient.py SOCKET SCENARIO [ARGS]")
    scenario(sys.argv[1], sys.argv[2], sys.argv[3:])
    sys.exit(0)
