#!/usr/bin/env python3
"""kube_sim_chunks.py RAWFILE MODE — check the HTTP chunk framing of a watch body
saved with `curl --raw`.  MODE: split | bytes:N | pack.  Exit 0 when the
framing is as expected and the reassembled body is valid JSON lines."""
import json
import sys


def chunks(raw):
    out, i = [], 0
    while True:
        j = raw.index(b"\r\n", i)
        size = int(raw[i:j].split(b";")[0], 16)
        i = j + 2
        if size == 0:
            return out, raw[i:] == b"\r\n"
        out.append(raw[i:i + size])
        assert raw[i + size:i + size + 2] == b"\r\n", "bad chunk trailer"
        i += size + 2


def main():
    raw = open(sys.argv[1], "rb").read()
    mode = sys.argv[2]
    cs, terminated = chunks(raw)
    body = b"".join(cs)
    assert terminated, "no terminating chunk"
    lines = body.split(b"\n")
    assert lines[-1] == b"", "body does not end with a newline"
    events = [json.loads(l) for l in lines[:-1]]
    assert events, "no events"
    if mode == "split":
        assert any(c == b"\n" for c in cs), "no chunk cut right before \\n"
        def cut_in_utf8(c):
            # ends inside a multi-byte sequence: a lead byte is the last
            return c and c[-1] >= 0xC0
        assert any(cut_in_utf8(c) for c in cs), "no cut inside UTF-8"
        assert any(not c.endswith(b"\n") for c in cs), "no split event"
    elif mode.startswith("bytes:"):
        n = int(mode[6:])
        assert all(len(c) <= n for c in cs), "chunk larger than %d" % n
        assert len(cs) > len(events), "events not split"
    elif mode == "pack":
        assert any(c.count(b"\n") >= 2 for c in cs), "no chunk with 2+ events"
    print("%d chunks, %d events" % (len(cs), len(events)))


main()
