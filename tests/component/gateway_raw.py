#!/usr/bin/env python3
"""gateway_raw.py — send raw bytes to the gateway over mutual TLS and print
each HTTP response that comes back, as one JSON object per line:
{"status": N, "headers": {lowercased name: value}, "body": text}.

Used by gateway_guard_test.sh for requests no well-behaved client sends.

  gateway_raw.py PORT CERTDIR [--expect-continue BODY] [--want LIST] [--head]
      < request-bytes

Reads responses until the server closes the connection (or 10 s pass
with nothing new).  A final line {"closed": true|false} says whether the
server closed the connection.  --expect-continue: the request on stdin
is a header block with Expect: 100-continue; BODY is sent after the
interim 100 response arrives (printed as its own line).  --head: the
requests are HEAD, so the answers carry no body.

--want STATUS[:REASON],... checks the final (non-1xx) responses: their
statuses in order, the JSON error token of each REASON given, and that
every one carries the JSON Content-Type, HSTS and nosniff; a refusal
(4xx/5xx last) must say Connection: close and be followed by the close.
The exit status is 0 when all of that holds, else 1 (the reason printed).
"""
import json
import socket
import ssl
import sys


def parse(buf, no_body=False):
    """Splits complete responses off the front of buf (answers to HEAD,
    when no_body is set, announce a length but carry no body)."""
    out = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        head = buf[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        if status < 200 or no_body:
            n = 0
        if len(buf) < end + 4 + n:
            return out, buf
        body = buf[end + 4:end + 4 + n].decode("utf-8", "replace")
        out.append({"status": status, "headers": headers, "body": body})
        buf = buf[end + 4 + n:]


def check(want, got, closed):
    """Returns a problem string, or None."""
    final = [r for r in got if r["status"] >= 200]
    if [w.split(":")[0] for w in want] != [str(r["status"]) for r in final]:
        return "statuses %s, want %s" % ([r["status"] for r in final], want)
    for w, r in zip(want, final):
        h = r["headers"]
        if not h.get("content-type", "").startswith("application/json"):
            return "%d: Content-Type %r" % (r["status"], h.get("content-type"))
        if not h.get("strict-transport-security", "").startswith("max-age="):
            return "%d: no HSTS" % r["status"]
        if h.get("x-content-type-options") != "nosniff":
            return "%d: no nosniff" % r["status"]
        if ":" in w:
            try:
                body = json.loads(r["body"])
            except ValueError:
                return "%d: body is not JSON: %r" % (r["status"], r["body"])
            if body.get("error") != w.split(":")[1] or not body.get("message"):
                return "%d: body %r" % (r["status"], body)
    if final and final[-1]["status"] >= 400 and want:
        if final[-1]["headers"].get("connection", "").lower() != "close":
            return "refusal without Connection: close"
        if not closed:
            return "connection not closed after the refusal"
    return None


def main():
    port, certs = int(sys.argv[1]), sys.argv[2]
    cont, want, head = None, None, False
    args = sys.argv[3:]
    while args:
        if args[0] == "--expect-continue":
            cont = args[1].encode()
        elif args[0] == "--want":
            want = args[1].split(",")
        elif args[0] == "--head":
            head = True
            args = args[1:]
            continue
        args = args[2:]
    ctx = ssl.create_default_context(cafile=certs + "/ca.crt")
    ctx.load_cert_chain(certs + "/client.crt", certs + "/client.key")
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(sys.stdin.buffer.read())
    buf, closed, got = b"", False, []
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        except (ssl.SSLError, OSError):
            closed = True
            break
        if not data:
            closed = True
            break
        buf += data
        done, buf = parse(buf, head)
        for r in done:
            got.append(r)
            print(json.dumps(r), flush=True)
            if r["status"] == 100 and cont is not None:
                s.sendall(cont)
                cont = None
    print(json.dumps({"closed": closed, "leftover": len(buf)}), flush=True)
    if want is not None:
        problem = check(want, got, closed)
        print("CHECK " + (problem or "OK"))
        sys.exit(1 if problem else 0)


main()
