#!/usr/bin/env python3
"""gateway_conn.py — connection-level checks of the gateway over mutual TLS,
for gateway_conn_test.sh (python3 standard library only).

  gateway_conn.py COMMAND --port P --pport P --pid PID --certs DIR
             [--log FILE] [--from N] [options]

Every command prints one line per check, "ok   - NAME" or
"FAIL - NAME: why", which gateway_conn_test.sh counts; details (the bytes
sent, the answers parsed) go to --log.  GW_CONN_SLOW=1 (under valgrind)
lengthens every deadline.  Nothing here sleeps: every wait is a read with
a deadline.  A section runs in one process (starting python costs most
of a second on a small machine); after each step of `cases` and `fuzz`
the gateway must live: its process (kill -0, no zombie) and a normal curl
request.  When it does not, the command prints "RESTART N" and stops; the
shell starts a new gateway and runs it again with --from N.

  cases FILE  the cases of FILE, one a line: NAME<TAB>OPTIONS<TAB>BYTES
            (BYTES with \\r \\n \\\\ escapes).  Each is three steps:
            1. BYTES in ONE TLS write; read until the server closes (or,
               with --keep, until the wanted answers are in and nothing
               more comes for a short while); the final answers' statuses
               (--want 200,400:bad_request), our JSON headers on each, and
               with --close the last says Connection: close and the server
               closed (--ends: closed, no header required, as for
               HTTP/1.0).  With --keep, answers after the wanted ones may
               only be one refusal (4xx, Connection: close); whether the
               server then keeps the connection open is not checked.
               --who reader: with the read-only certificate.
            2. the same bytes as single-byte TLS writes;
            3. split into two writes at every position (--step N: every
               Nth, plus the last 8), a connection each.
            Steps 2 and 3 check only that every answer parses, and are
            not run (one failure) when step 1 killed the gateway.
  fuzz      --seed S --count N: the seeded mutation loop, in batches of 50
            (each case depends only on S and its index, so any one replays
            alone: --from-case I --count 1).
  framing   HEAD wherever GET is on one kept-alive connection
            (http.client); HEAD with Connection: close (nothing after the
            header block); Expect: 100-continue, head first and the body
            after the 100, then another request; pipelined requests in
            one write, then one more on the same connection.

Every answer read is parsed strictly: status line "HTTP/1.1 NNN reason",
token field names, a body framed by Content-Length or chunked (or by the
close), none on 1xx/204/304 (no Content-Length on 1xx/204 either) and on
an answer to HEAD, nothing between answers.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import random
import re
import shlex
import socket
import ssl
import subprocess
import sys
import time

SLOW = os.environ.get("GW_CONN_SLOW", "") not in ("", "0")
HARD = 60.0 if SLOW else 10.0  # one connection, at most
IDLE = 2.0 if SLOW else 0.4  # nothing new for this long: done
FUZZ_IDLE = 1.5 if SLOW else 0.25
JOBS = 4

LIST = "/api/v1/deployments"
REPL = "/api/v1/deployments/frontend/replicas"
STATUS_RE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3}) ([^\r\n]*)\Z")
TOKEN_RE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
BODILESS = (204, 304)

LOG = None
RESULTS = {"pass": 0, "fail": 0}


def log(*parts):
    if LOG is not None:
        LOG.write("%.3f " % time.time() + " ".join(str(p) for p in parts) +
                  "\n")
        LOG.flush()


def report(name, problem):
    """One check line; problem None means it passed."""
    if problem:
        RESULTS["fail"] += 1
        print("FAIL - %s: %s" % (name, problem), flush=True)
    else:
        RESULTS["pass"] += 1
        print("ok   - %s" % name, flush=True)
    log("CHECK", name, "->", problem or "ok")


# --- TLS ---------------------------------------------------------------------


def context(a, who="client"):
    ctx = ssl.create_default_context(cafile=a.certs + "/ca.crt")
    ctx.load_cert_chain(a.certs + "/%s.crt" % who, a.certs + "/%s.key" % who)
    return ctx


def connect(a, who="client"):
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=HARD)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        return context(a, who).wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise


class Conn:
    """One TLS connection: bytes in, everything read kept in .buf.
    .closed: None while open, "eof" after an orderly end (close_notify or a
    FIN), "reset" after a reset or a broken TLS stream (data in flight may
    then be lost, so a partial answer is not held against the server)."""

    def __init__(self, a, who="client"):
        self.a = a
        self.s = connect(a, who)
        self.buf = bytearray()
        self.closed = None
        self.note = ""

    def _recv(self, timeout):
        """One read; False when nothing came within timeout."""
        self.s.settimeout(timeout)
        try:
            data = self.s.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except ssl.SSLEOFError:
            self.closed, self.note = "eof", "EOF without close_notify"
            return True
        except ssl.SSLZeroReturnError:
            self.closed = "eof"
            return True
        except (ssl.SSLError, OSError) as e:
            self.closed, self.note = "reset", repr(e)
            return True
        if not data:
            self.closed = "eof"
        self.buf += data
        return True

    def drain(self):
        """What is already there, without waiting (between writes: the
        server may have answered and closed, and a later write could turn
        into a reset that loses what was read but not yet taken)."""
        while self.closed is None and self._recv(0.0):
            pass
        return self.closed is None

    def send(self, data):
        if self.closed is not None:
            return False
        self.s.settimeout(HARD)
        try:
            self.s.sendall(data)
        except (ssl.SSLError, OSError) as e:
            self.note = "write failed: %r" % e
            self.drain()
            if self.closed is None:
                self.closed = "reset"
            return False
        return self.drain()

    def read(self, done=None, idle=IDLE, hard=HARD):
        """Reads until the server closes or `hard` passes; once done(self)
        is true (always, without done), also stops after `idle` seconds
        with nothing new."""
        end = time.monotonic() + hard
        while self.closed is None:
            left = end - time.monotonic()
            if left <= 0:
                break
            wait = min(idle, left) if done is None or done(self) else left
            if not self._recv(wait):
                if done is None or done(self):
                    break

    def answers(self, heads=None):
        return parse(bytes(self.buf), self.closed, heads)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# --- parsing -----------------------------------------------------------------


def parse(buf, closed, heads=None):
    """Splits buf into answers.  heads: the indexes (among final answers)
    that answer a HEAD; None when unknown (fuzz): then an answer whose
    Content-Length is not followed by its body, but directly by the next
    status line or by the end of the stream, is taken as one to HEAD (a
    JSON body never begins with "HTTP/").  Returns (answers, problems,
    pending): pending is an incomplete tail left while the connection is
    open (or after a reset, when its end may have been lost)."""
    out, problems, pos, final = [], [], 0, 0
    strict_end = closed == "eof"
    while pos < len(buf):
        start = pos
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            if strict_end:
                problems.append("incomplete answer at the close: %r"
                                % buf[pos:pos + 60])
            return out, problems, buf[start:]
        lines = buf[pos:end].split(b"\r\n")
        m = STATUS_RE.match(lines[0])
        if not m:
            problems.append("bad status line %r" % lines[0][:80])
            return out, problems, b""
        status = int(m.group(3))
        r = {"version": "%s.%s" % (m.group(1).decode(), m.group(2).decode()),
             "status": status, "reason": m.group(4).decode("latin-1"),
             "headers": {}, "body": b"", "head": False}
        if r["version"] != "1.1":
            problems.append("status line %r is not HTTP/1.1" % lines[0][:40])
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not TOKEN_RE.match(name):
                problems.append("%d: bad header line %r" % (status, line[:60]))
                continue
            k = name.decode().lower()
            v = value.strip(b" \t").decode("latin-1")
            if k in r["headers"]:
                if k == "content-length":
                    problems.append("%d: two Content-Length fields" % status)
                r["headers"][k] += ", " + v
            else:
                r["headers"][k] = v
        h = r["headers"]
        pos = end + 4
        cl, te = h.get("content-length"), h.get("transfer-encoding")
        if status < 200 or status in BODILESS:
            if status != 304 and cl is not None:
                problems.append("%d with Content-Length" % status)
            if te is not None:
                problems.append("%d with Transfer-Encoding" % status)
            if pos < len(buf) and not buf.startswith(b"HTTP/", pos):
                problems.append("%d followed by a body %r"
                                % (status, buf[pos:pos + 40]))
                return out + [r], problems, b""
            out.append(r)
            continue
        is_head = heads is not None and final in heads
        final += 1
        if te is not None:
            if cl is not None:
                problems.append("%d: Content-Length and Transfer-Encoding"
                                % status)
            if te.lower() != "chunked":
                problems.append("%d: Transfer-Encoding %r" % (status, te))
                return out + [r], problems, b""
        if is_head:
            r["head"] = True
            if pos < len(buf) and \
                    not buf.startswith(b"HTTP/", pos):
                problems.append("%d to HEAD followed by a body %r"
                                % (status, buf[pos:pos + 40]))
                return out + [r], problems, b""
            out.append(r)
            continue
        if te is not None:
            body, n = chunked(buf, pos)
            if n < 0:
                if n == -2 or strict_end:
                    problems.append("%d: bad or cut chunked body" % status)
                return out, problems, buf[start:]
            r["body"], pos = body, n
            out.append(r)
            continue
        if cl is not None:
            if not cl.isdigit():
                problems.append("%d: Content-Length %r" % (status, cl))
                return out + [r], problems, b""
            n = int(cl)
            if heads is None and n > 0 and (
                    buf.startswith(b"HTTP/", pos) or
                    (pos == len(buf) and closed is not None)):
                r["head"] = True  # by the rule above
                out.append(r)
                continue
            if len(buf) - pos < n:
                if strict_end:
                    problems.append("%d: body cut at %d of %d bytes"
                                    % (status, len(buf) - pos, n))
                return out, problems, buf[start:]
            r["body"] = buf[pos:pos + n]
            pos += n
            out.append(r)
            continue
        # No framing: the body runs to the close (RFC 9112 6.3, rule 8);
        # on a connection left open nothing could ever end it.
        if closed is None:
            problems.append("%d: neither Content-Length nor chunked, and "
                            "the connection stays open" % status)
        r["body"] = buf[pos:]
        out.append(r)
        return out, problems, b""
    return out, problems, b""


def chunked(buf, pos):
    """(body, position after it), or (None, -1) when incomplete, -2 bad."""
    body = b""
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None, -1
        try:
            size = int(buf[pos:eol], 16)
        except ValueError:
            return None, -2
        pos = eol + 2
        if size == 0:
            if buf[pos:pos + 2] == b"\r\n":
                return body, pos + 2
            return None, -1 if len(buf) - pos < 2 else -2
        if len(buf) - pos < size + 2:
            return None, -1
        if buf[pos + size:pos + size + 2] != b"\r\n":
            return None, -2
        body += buf[pos:pos + size]
        pos += size + 2


def finals(answers):
    return [r for r in answers if r["status"] >= 200]


def have(conn, n, heads=None):
    """n final answers are in, or what came cannot be parsed further."""
    answers, problems, _ = conn.answers(heads)
    return len(finals(answers)) >= n or bool(problems)


def show(answers):
    return [r["status"] for r in answers]


def our_headers(r):
    """Our JSON answer: Content-Type, HSTS, nosniff."""
    h = r["headers"]
    if not h.get("content-type", "").startswith("application/json"):
        return "%d: Content-Type %r" % (r["status"], h.get("content-type"))
    if not h.get("strict-transport-security", "").startswith("max-age="):
        return "%d: no HSTS" % r["status"]
    if h.get("x-content-type-options") != "nosniff":
        return "%d: no nosniff" % r["status"]
    return None


def json_body(r):
    try:
        return json.loads(r["body"].decode("utf-8"))
    except ValueError:
        return None


def check_want(w, r):
    """w is STATUS or STATUS:REASON."""
    status, _, reason = w.partition(":")
    if str(r["status"]) != status:
        return "status %d, want %s" % (r["status"], status)
    p = our_headers(r)
    if p:
        return p
    body = json_body(r)
    if body is None:
        return "%d: body is not JSON: %r" % (r["status"], r["body"][:80])
    if reason and (body.get("error") != reason or not body.get("message")):
        return "%d: body %r, want error %r" % (r["status"], body, reason)
    return None


def says_close(r):
    return "close" in [t.strip().lower()
                       for t in r["headers"].get("connection", "").split(",")]


def process_gone(a):
    """kill -0, and not a zombie (a dead child not yet reaped by the test
    shell still answers kill -0)."""
    try:
        os.kill(a.pid, 0)
        with open("/proc/%d/stat" % a.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def lives(a, label):
    """The check after each step: the process is there and a normal curl
    request gets 200.  False: print RESTART for the shell."""
    code = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
         "--max-time", str(int(HARD)), "--cacert", a.certs + "/ca.crt",
         "--cert", a.certs + "/client.crt", "--key", a.certs + "/client.key",
         "https://localhost:%d/api/v1/deployments" % a.port],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        check=False).stdout.decode()
    gone = process_gone(a)
    problem = None
    if code != "200" or gone:
        problem = "the gateway died (process %s, a normal request got %r)" % (
            "gone" if gone else "there", code)
    report("%s: the gateway lives and serves a normal request" % label,
           problem)
    return problem is None


def alive(a):
    """Quick, between batches: the process is there and its event loop
    answers /livez on the probe port."""
    if a.pid and process_gone(a):
        return False
    if a.pport:
        c = http.client.HTTPConnection("127.0.0.1", a.pport, timeout=HARD)
        try:
            c.request("GET", "/livez")
            return c.getresponse().status == 200
        except (http.client.HTTPException, OSError):
            return False
        finally:
            c.close()
    return True


# --- commands ----------------------------------------------------------------


def check_once(a, name, o, data):
    """Step 1 of a case: one write, the owed answers."""
    want = o.want.split(",") if o.want else []
    c = Conn(a, o.who)
    c.send(data)
    if o.keep:
        c.read(done=lambda c: have(c, len(want)))
    else:
        c.read(done=lambda c: False)  # until the close, or HARD
    c.close()
    answers, problems, pending = c.answers()
    got = finals(answers)
    log("once", name, repr(data), "->", show(answers), c.closed, c.note,
        "pending %d" % len(pending))
    for r in answers:
        log("  ", r["version"], r["status"], r["headers"], r["body"][:200])
    problem = "; ".join(problems) or None
    if problem is None and [r["status"] for r in got[:len(want)]] != \
            [int(w.split(":")[0]) for w in want]:
        problem = "answers %s, want %s" % (show(got), want)
    if problem is None:
        for w, r in zip(want, got):
            problem = check_want(w, r)
            if problem:
                break
    extra = got[len(want):]
    if problem is None and extra:
        if not o.keep:
            problem = "answers %s, want only %s" % (show(got), want)
        elif len(extra) > 1 or extra[0]["status"] < 400 or \
                not says_close(extra[0]) or check_want(
                    str(extra[0]["status"]), extra[0]):
            problem = "answers %s after %s: only one refusal may follow" % (
                show(extra), want)
    if problem is None and o.close and (not got or not says_close(got[-1])):
        problem = "the last answer does not say Connection: close"
    if problem is None and (o.close or o.ends) and c.closed is None:
        problem = "the server did not close the connection"
    report(name, problem)


def run_cases(a, cases, label, batch):
    """Runs cases [(description, [writes])] JOBS at a time; checks that
    every answer parses and, after every batch, that the gateway lives
    (stopping at the first batch after which it does not: that batch holds
    the case that killed it; the log has every case's bytes)."""
    bad_parse, bad_version, died, n = [], [], None, 0

    def one(case):
        desc, writes = case
        try:
            c = Conn(a)
        except (OSError, ssl.SSLError) as e:
            return desc, writes, None, ["connect: %r" % e]
        for w in writes:
            if not c.send(w):
                break
        c.read(idle=a.idle)
        c.close()
        answers, problems, _ = c.answers()
        return desc, writes, (answers, c.closed, c.note), problems

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for b0 in range(0, len(cases), batch):
            chunk = cases[b0:b0 + batch]
            for desc, writes, res, problems in ex.map(one, chunk):
                n += 1
                if res is not None:
                    log(label, desc, repr(b"".join(writes)),
                        "writes %d" % len(writes), "->", show(res[0]),
                        res[1], res[2])
                for p in problems:
                    log("   problem:", p)
                    if "not HTTP/1.1" in p:
                        bad_version.append("%s: %s" % (desc, p))
                    else:
                        bad_parse.append("%s: %s" % (desc, p))
            if not alive(a):
                died = "gateway died during %s (%s)" % (
                    label, ", ".join(d for d, _ in chunk[:8]) +
                    (", ..." if len(chunk) > 8 else ""))
                log(died)
                break

    def first(lst):
        return None if not lst else "%d problem(s), first: %s" % (
            len(lst), lst[0])

    report("%s: every answer parses, the gateway lives after each batch "
           "(%d connections)" % (label, n), died or first(bad_parse))
    report("%s: every status line is HTTP/1.1" % label, first(bad_version))


def unescape(text):
    out, i = bytearray(), 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out += {"r": b"\r", "n": b"\n", "t": b"\t",
                    "\\": b"\\"}[text[i + 1]]
            i += 2
        else:
            out += text[i].encode("latin-1")
            i += 1
    return bytes(out)


def case_options(text):
    p = argparse.ArgumentParser(prog="case")
    p.add_argument("--want", default="")
    p.add_argument("--close", action="store_true")
    p.add_argument("--ends", action="store_true")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--who", default="client")
    return p.parse_args(shlex.split(text))


def cmd_cases(a):
    cases = []
    with open(a.file) as f:
        for line in f:
            if line.strip():
                name, opts, data = line.rstrip("\n").split("\t")
                cases.append((name, case_options(opts), unescape(data)))
    for step in range(a.start, 3 * len(cases)):
        name, o, data = cases[step // 3]
        if step % 3 == 0:
            label = name
            check_once(a, name, o, data)
        elif step % 3 == 1:
            label = name + ", one byte per write"
            run_cases(a, [("single bytes", [data[i:i + 1]
                                            for i in range(len(data))])],
                      label, 1)
        else:
            pos = [p for p in range(1, len(data))
                   if p % a.step == 0 or p >= len(data) - 8]
            label = name + ", in two writes split at %d positions" % len(pos)
            run_cases(a, [("split at %d" % p, [data[:p], data[p:]])
                          for p in pos], label, 16)
        if not lives(a, label):
            if step % 3 == 0:  # the splits of what killed it: not run
                report(name + ", one byte per write, and in two writes",
                       "not run: the one-write step killed the gateway")
                step += 2
            print("RESTART %d" % (step + 1), flush=True)
            return


# The mutation loop's valid requests.
H = b"Host: x\r\n"
JS = b"Content-Type: application/json\r\n"
R_LIST = b"GET " + LIST.encode() + b" HTTP/1.1\r\n" + H + b"\r\n"
R_REPL = b"GET " + REPL.encode() + b" HTTP/1.1\r\n" + H + b"\r\n"
R_POST = (b"POST " + REPL.encode() + b" HTTP/1.1\r\n" + H + JS +
          b"Content-Length: 14\r\n\r\n{\"replicas\":4}")
BASES = [
    R_LIST,
    R_REPL,
    R_POST,
    b"POST " + REPL.encode() + b" HTTP/1.1\r\n" + H + JS +
    b"Transfer-Encoding: chunked\r\n\r\nE\r\n{\"replicas\":5}\r\n0\r\n\r\n",
    b"GET " + LIST.encode() + b" HTTP/1.0\r\n\r\n",
    b"GET " + LIST.encode() + b" HTTP/1.1\r\n" + H +
    b"Connection: close\r\n\r\n",
    R_LIST + R_REPL,
    b"POST " + REPL.encode() + b" HTTP/1.1\r\n" + H + JS +
    b"Content-Length: 14\r\nExpect: 100-continue\r\n\r\n{\"replicas\":3}",
    b"HEAD " + LIST.encode() + b" HTTP/1.1\r\n" + H + b"\r\n",
    b"HEAD " + REPL.encode() + b" HTTP/1.1\r\n" + H +
    b"Connection: close\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\n" + H + b"\r\n",
]
STRAYS = [b"\r", b"\n", b"\r\n", b"\r\n\r\n", b"X", b" "]
BYTES = b"\r\n :/\t\x00\x7f\x80A0{}"


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(9)
        n = len(data)
        if op == 0 and n:  # flip a bit
            data[rng.randrange(n)] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # replace a byte
            data[rng.randrange(n)] = rng.choice(BYTES)
        elif op == 2:  # insert CR, LF, CRLF...
            i = rng.randint(0, n)
            data[i:i] = rng.choice(STRAYS[:4])
        elif op == 3:  # truncate
            del data[rng.randint(0, n):]
        elif op == 4 and n:  # duplicate a slice
            i = rng.randrange(n)
            j = rng.randint(i, min(n, i + 40))
            k = rng.randint(0, n)
            data[k:k] = data[i:j]
        elif op == 5:  # concatenate another valid request
            other = rng.choice(BASES)
            data = bytearray(data + other if rng.random() < 0.7
                             else other + data)
        elif op == 6 and n:  # delete a slice
            i = rng.randrange(n)
            del data[i:rng.randint(i, min(n, i + 10))]
        elif op == 7:  # stray bytes after the end
            data += rng.choice(STRAYS)
        else:  # Connection: close into the first header block
            i = data.find(b"\r\n")
            if i >= 0:
                data[i + 2:i + 2] = b"Connection: close\r\n"
    return bytes(data)


def fuzz_case(seed, i):
    rng = random.Random("%s:%d" % (seed, i))
    data = mutate(rng, rng.choice(BASES))
    if len(data) > 1 and rng.random() < 0.25:
        cuts = sorted(rng.sample(range(1, len(data)),
                                 min(len(data) - 1, rng.randint(1, 3))))
        writes, last = [], 0
        for p in cuts + [len(data)]:
            writes.append(data[last:p])
            last = p
    else:
        writes = [data]
    return ("#%d" % i, writes)


def cmd_fuzz(a):
    """Batches of 50 from the --from'th on; --from-case I --count N runs
    cases I..I+N-1 (to replay one)."""
    lo = a.from_case or 0
    hi = lo + a.count
    for b0 in range(lo + 50 * a.start, hi, 50):
        b1 = min(b0 + 50, hi)
        label = "mutations %d..%d (seed %s)" % (b0, b1 - 1, a.seed)
        run_cases(a, [fuzz_case(a.seed, i) for i in range(b0, b1)], label,
                  b1 - b0)
        if not lives(a, label):
            print("RESTART %d" % ((b0 - lo) // 50 + 1), flush=True)
            return


def cmd_framing(a):
    head_session(a)
    raw_head(a)
    expect_continue(a)
    pipeline(a)


def head_session(a):
    """HEAD answered wherever GET is, on ONE kept-alive connection: the
    same status, Content-Type and Content-Length as GET, no body (the
    next request on the connection proves it)."""
    state = {"conn": None}

    def conn():
        if state["conn"] is None:
            c = http.client.HTTPSConnection("localhost", a.port,
                                            context=context(a), timeout=HARD)
            c.connect()
            c.auto_open = 0  # never reconnect behind our back
            state["conn"] = c
        return state["conn"]

    def req(method, path):
        c = conn()
        try:
            c.request(method, path)
            r = c.getresponse()
            body = r.read()
        except (http.client.HTTPException, OSError) as e:
            c.close()
            state["conn"] = None  # the next step starts a new connection
            raise RuntimeError("%s %s on the kept-alive connection: %r"
                               % (method, path, e))
        log("head:", method, path, r.status, r.getheaders(), body[:200])
        if r.will_close:
            c.close()
            state["conn"] = None
            raise RuntimeError("%s %s: %d closed the connection"
                               % (method, path, r.status))
        return r, body

    def step(name, fn):
        try:
            report(name, fn())
        except RuntimeError as e:
            report(name, str(e))

    got = {}

    def get(path, key):
        def fn():
            r, body = req("GET", path)
            got[key] = (r.status, r.getheader("Content-Length"))
            return None
        return fn

    def head_like(path, key, want_status=None):
        def fn():
            if key not in got:
                return "no GET answer to compare with"
            r, body = req("HEAD", path)
            gs, gcl = got[key]
            if want_status is not None and r.status != want_status:
                return "status %d, want %d" % (r.status, want_status)
            if r.status != gs:
                return "status %d, GET gave %d" % (r.status, gs)
            if not (r.getheader("Content-Type") or "").startswith(
                    "application/json"):
                return "Content-Type %r" % r.getheader("Content-Type")
            if want_status == 200 and r.getheader("Content-Length") != gcl:
                return "Content-Length %r, GET gave %r" % (
                    r.getheader("Content-Length"), gcl)
            return None
        return fn

    def get_json(path, must):
        def fn():
            r, body = req("GET", path)
            if r.status != 200:
                return "status %d" % r.status
            try:
                j = json.loads(body)
            except ValueError:
                return "body is not JSON: %r" % body[:80]
            return None if must in j else "body %r has no %r" % (j, must)
        return fn

    step("GET %s first, on the kept-alive connection" % LIST,
         get(LIST, "list"))
    step("HEAD %s -> 200, JSON Content-Type, GET's Content-Length" % LIST,
         head_like(LIST, "list", 200))
    step("GET %s after the HEAD, same connection -> 200 JSON" % LIST,
         get_json(LIST, "deployments"))
    step("GET %s" % REPL, get(REPL, "repl"))
    step("HEAD %s -> 200, GET's Content-Length" % REPL,
         head_like(REPL, "repl", 200))
    step("GET %s after the HEAD -> 200 JSON" % REPL,
         get_json(REPL, "replicas"))
    for path in ("/healthz", "/api/v1/pins",
                 "/api/v1/deployments/frontend/pin"):
        step("GET %s" % path, get(path, path))
        step("HEAD %s -> GET's status" % path, head_like(path, path))
    def head_nope():
        r, _ = req("HEAD", "/nope")
        return None if r.status == 404 else "status %d" % r.status

    step("HEAD /nope -> 404", head_nope)
    step("GET %s after HEAD /nope, same connection -> 200 JSON" % LIST,
         get_json(LIST, "deployments"))
    if state["conn"] is not None:
        state["conn"].close()


def raw_head(a):
    """HEAD with Connection: close: the header block, then nothing."""
    for path, want in ((LIST, 200), (REPL, 200), ("/nope", 404)):
        c = Conn(a)
        c.send(b"HEAD " + path.encode() + b" HTTP/1.1\r\n" + H +
               b"Connection: close\r\n\r\n")
        c.read(done=lambda c: False)  # until the close, or HARD
        c.close()
        buf = bytes(c.buf)
        log("rawhead", path, c.closed, repr(buf[:300]))
        end = buf.find(b"\r\n\r\n")
        m = STATUS_RE.match(buf[:buf.find(b"\r\n")]) if end > 0 else None
        if m is None:
            problem = "no answer: %r" % buf[:80]
        elif int(m.group(3)) != want:
            problem = "status %s, want %d" % (m.group(3).decode(), want)
        elif buf[end + 4:]:
            problem = "%d bytes after the header block: %r" % (
                len(buf) - end - 4, buf[end + 4:end + 60])
        elif c.closed is None:
            problem = "the server did not close"
        else:
            problem = None
        report("HEAD %s with Connection: close -> %d, nothing after the "
               "header block" % (path, want), problem)


def expect_continue(a):
    c = Conn(a)
    c.send(b"POST " + REPL.encode() + b" HTTP/1.1\r\n" + H + JS +
           b"Content-Length: 14\r\nExpect: 100-continue\r\n\r\n")
    c.read(done=lambda c: bool(c.answers()[0] or c.answers()[1]), idle=0)
    answers, problems, _ = c.answers()
    log("continue, head sent:", repr(bytes(c.buf)))
    problem = "; ".join(problems) or None
    if problem is None:
        if not answers or answers[0]["status"] != 100:
            problem = "first answer %s, want an interim 100" % show(answers)
        elif finals(answers):
            problem = "a final answer %s before the body was sent" % show(
                answers)
        elif answers[0]["version"] != "1.1":
            problem = "interim answer HTTP/%s" % answers[0]["version"]
    report("Expect: 100-continue: the head alone gets HTTP/1.1 100, no "
           "Content-Length, no body", problem)
    c.send(b'{"replicas":6}')
    c.read(done=lambda c: have(c, 1), idle=0)
    answers, problems, _ = c.answers()
    got = finals(answers)
    problem = "; ".join(problems) or None
    if problem is None:
        if show(got) != [200]:
            problem = "final answers %s, want [200]" % show(got)
        elif check_want("200", got[0]) or \
                (json_body(got[0]) or {}).get("replicas") != 6:
            problem = check_want("200", got[0]) or "body %r" % got[0]["body"]
        elif says_close(got[0]) or c.closed is not None:
            problem = "the connection was not kept alive"
    report("Expect: 100-continue: the body after the 100 -> 200, "
           "kept alive", problem)
    c.send(R_LIST)
    c.read(done=lambda c: have(c, 2), idle=0)
    c.close()
    answers, problems, _ = c.answers()
    got = finals(answers)
    log("continue, all:", show(answers), repr(bytes(c.buf)[-300:]))
    problem = "; ".join(problems) or None
    if problem is None and (show(got) != [200, 200] or
                            "deployments" not in (json_body(got[1]) or {})):
        problem = "answers %s" % show(got)
    report("Expect: 100-continue: a GET after it on the same connection "
           "-> 200", problem)


def pipeline(a):
    for label, first, heads, musts in (
            ("GET list; GET replicas", R_LIST + R_REPL, None,
             ["deployments", "replicas"]),
            ("HEAD list; GET replicas", b"HEAD " + LIST.encode() +
             b" HTTP/1.1\r\n" + H + b"\r\n" + R_REPL, {0},
             [None, "replicas"])):
        c = Conn(a)
        c.send(first)
        c.read(done=lambda c: have(c, 2, heads), idle=0)
        answers, problems, _ = c.answers(heads)
        got = finals(answers)
        log("pipeline", label, show(answers), repr(bytes(c.buf)[:400]))
        problem = "; ".join(problems) or None
        if problem is None and show(got) != [200, 200]:
            problem = "answers %s, want [200, 200]" % show(got)
        for r, must in zip(got, musts):
            if problem is None and must is not None:
                problem = check_want("200", r) or (
                    None if must in (json_body(r) or {})
                    else "body %r has no %r" % (r["body"][:80], must))
        if problem is None and (any(says_close(r) for r in got) or
                                c.closed is not None):
            problem = "the connection was not kept alive"
        report("pipelined %s in one write -> two answers in order, kept "
               "alive" % label, problem)
        c.send(b"GET /api/v1/deployments/orders/replicas HTTP/1.1\r\n" + H +
               b"\r\n")
        c.read(done=lambda c: have(c, 3, heads), idle=0)
        c.close()
        answers, problems, _ = c.answers(heads)
        got = finals(answers)
        problem = "; ".join(problems) or None
        if problem is None and (show(got) != [200, 200, 200] or
                                (json_body(got[2]) or {}).get("name") !=
                                "orders"):
            problem = "answers %s" % show(got)
        report("pipelined %s: a third request on the connection -> 200"
               % label, problem)


def main():
    global LOG
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["cases", "fuzz", "framing"])
    p.add_argument("file", nargs="?")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pport", type=int, default=0)
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--certs", required=True)
    p.add_argument("--log")
    p.add_argument("--from", dest="start", type=int, default=0)
    p.add_argument("--step", type=int, default=1)
    p.add_argument("--seed", default="17")
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--from-case", type=int)
    p.add_argument("--idle", type=float, default=FUZZ_IDLE)
    p.add_argument("--jobs", type=int, default=JOBS)
    a = p.parse_args()
    if a.log:
        LOG = open(a.log, "a")
    try:
        globals()["cmd_" + a.command](a)
    except Exception as e:  # a check that could not run is a failure
        report("gateway_conn.py %s ran to the end" % a.command, "%s: %r" % (
            type(e).__name__, e))
    sys.exit(1 if RESULTS["fail"] else 0)


main()
