#!/usr/bin/env python3
"""report.py OUT — the table of `make bench`, from OUT/runs.txt and
OUT/memory.txt (one key=value line per run, written by bench.sh).

Per test and server, each figure is the median of its rounds, taken figure
by figure (so a row's p99 and its req/s may come from different rounds);
errors are summed.  The last line gives replicad/nginx ratios.  Exit
status 1 when a test has no run with a successful request, or a run or
memory test failed: the smoke run's only check is that numbers came out.
"""
import statistics
import sys

TESTS = [
    ("keepalive-16", "keep-alive, 16 connections"),
    ("keepalive-1", "keep-alive, 1 connection"),
    ("newconn-16", "new connection per request, 16"),
    ("resume-16", "new connection + resumption offered, 16"),
    ("handshake-16", "mTLS handshake only, 16 (req = handshake)"),
    ("write-4", "POST replicas (read-your-writes), 4"),
    ("core-pipelined", "core alone, socket, 32 in flight"),
]
SERVERS = ["replicad", "nginx", "core"]


def parse(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                kv = {}
                for tok in line.split():
                    k, sep, v = tok.partition("=")
                    if sep:
                        kv[k] = v
                if kv:
                    rows.append(kv)
    except FileNotFoundError:
        pass
    return rows


def num(kv, key):
    try:
        return float(kv[key])
    except (KeyError, ValueError):
        return None


def median(runs, key):
    vals = [v for v in (num(r, key) for r in runs) if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits=1):
    if v is None:
        return "-"
    if digits == 0:
        return "%.0f" % v
    return "%.*f" % (digits, v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    if r >= 100:
        return "%.0fx" % r
    if r >= 10:
        return "%.1fx" % r
    if r >= 0.1:
        return "%.2fx" % r
    return "%.2gx" % r


def mib(kib):
    return None if kib is None else kib / 1024.0


def main():
    out = sys.argv[1]
    runs = parse(out + "/runs.txt")
    mem = parse(out + "/memory.txt")
    bad = []

    by = {}
    for r in runs:
        by.setdefault((r.get("test"), r.get("server")), []).append(r)

    head = ("test", "server", "req/s", "p50", "p90", "p99", "p99.9",
            "CPU µs/req", "rw syscalls/req", "RSS MiB", "errors/non2xx")
    widths = (14, 8, 9, 7, 7, 7, 7, 10, 15, 7, 13)
    lines = []

    def row(cells):
        lines.append("  ".join(
            (c.ljust(w) if i < 2 else c.rjust(w))
            for i, (c, w) in enumerate(zip(cells, widths))).rstrip())

    row(head)
    row(("", "", "", "ms", "ms", "ms", "ms", "", "", "", ""))
    med = {}
    notes = []
    for test, _ in TESTS:
        for server in SERVERS:
            rs = by.get((test, server))
            if not rs:
                continue
            good = [r for r in rs if r.get("status") != "failed"]
            if any(r.get("status") == "failed" or r.get("exit") != "0"
                   for r in rs):
                bad.append("%s/%s: a run failed" % (test, server))
            if not any((num(r, "ok") or 0) > 0 for r in good):
                bad.append("%s/%s: no successful request" % (test, server))
            m = {k: median(good, k) for k in (
                "rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms",
                "server_cpu_us_req", "server_rw_per_req", "server_rss_kib",
                "gateway_cpu_us_req", "core_cpu_us_req", "api_cpu_us_req",
                "handshakes", "resumed", "requests", "api_patches",
                "client_cpu_us_req")}
            errs = sum(int(num(r, "errors") or 0) for r in good)
            non2xx = sum(int(num(r, "non2xx") or 0) for r in good)
            med[(test, server)] = m
            row((test, server, fmt(m["rps"]), fmt(m["p50_ms"], 3),
                 fmt(m["p90_ms"], 3), fmt(m["p99_ms"], 3),
                 fmt(m["p999_ms"], 3), fmt(m["server_cpu_us_req"]),
                 fmt(m["server_rw_per_req"], 2),
                 fmt(mib(m["server_rss_kib"])), "%d/%d" % (errs, non2xx)))
            if server == "replicad" and m["gateway_cpu_us_req"] is not None:
                notes.append(
                    "%s: replicad CPU µs/req = gateway %s + core %s%s" % (
                        test, fmt(m["gateway_cpu_us_req"]),
                        fmt(m["core_cpu_us_req"]),
                        "" if m["api_cpu_us_req"] is None else
                        " (kube-sim, not counted: %s)" %
                        fmt(m["api_cpu_us_req"])))
            if test == "resume-16":
                notes.append("%s: %s of %s handshakes resumed (%s)" % (
                    test, fmt(m["resumed"], 0), fmt(m["handshakes"], 0),
                    server))
            if test == "write-4" and m["api_patches"] is not None:
                notes.append(
                    "%s: kube-sim received %s PATCHes for %s answered "
                    "requests (median run, warm-up included)" % (
                        test, fmt(m["api_patches"], 0),
                        fmt(m["requests"], 0)))
    for test, server in by:
        if test not in dict(TESTS):
            bad.append("%s/%s: unknown test" % (test, server))

    print()
    print("bench: medians of each figure over the rounds; CPU and rw "
          "system calls of the server's processes per request; RSS at the "
          "end of the run (replicad = gateway + core)")
    for line in lines:
        print(line)
    print()
    mem_early = parse(out + "/memory.txt")
    for m in mem_early:
        if m.get("test") == "idle-cpu":
            notes.append("idle (no client, %s s): %s uses %s µs of CPU per "
                         "second; it is inside every CPU µs/req figure" % (
                             m.get("seconds"), m.get("server"),
                             m.get("cpu_us_per_s")))
    for n in notes:
        print("  " + n)

    # Memory.
    memby = {m.get("test"): m for m in mem}
    for m in mem:
        if m.get("status") == "failed":
            bad.append("%s: failed" % m.get("test"))
    print()
    print("%-42s %7s  %8s  %s" % ("memory (VmRSS; peak = VmHWM)", "RSS MiB",
                                   "peak MiB", "issue #11 target"))

    def mrow(label, key, rss_key="rss_kib", hwm_key="hwm_kib", target=None,
             full=True):
        m = memby.get(key)
        if m is None:
            return
        if m.get("status") == "failed":
            print("  %-40s %s" % (label, "FAILED"))
            return
        rss = mib(num(m, rss_key))
        hwm = mib(num(m, hwm_key))
        verdict = ""
        if target is not None:
            if not full:
                verdict = "<= %d MiB (not at full size)" % target
            elif rss is not None:
                verdict = "<= %d MiB: %s" % (
                    target, "within" if rss <= target else "OVER")
        print(("  %-40s %7s  %8s  %s" % (label, fmt(rss), fmt(hwm),
                                          verdict)).rstrip())

    big = memby.get("mem-core-cache", {})
    ndep = int(num(big, "deployments") or 0)
    gh = memby.get("mem-replicad-hold", {})
    held = int(num(gh, "held") or 0)
    mrow("core, %d Deployments cached" % ndep, "mem-core-cache",
         target=16, full=ndep >= 10000)
    small = memby.get("mem-core-small", {})
    mrow("core, %d Deployments" % int(num(small, "deployments") or 0),
         "mem-core-small")
    mrow("gateway idle", "mem-gateway-idle", target=8)
    mrow("gateway idle, --max-connections %d" % held,
         "mem-gateway-idle-maxconn")
    mrow("gateway, %d open mTLS connections" % held, "mem-replicad-hold",
         "gateway_rss_kib", "gateway_hwm_kib", target=64, full=held >= 5000)
    mrow("nginx idle (master + worker)", "mem-nginx-idle")
    nh = memby.get("mem-nginx-hold", {})
    mrow("nginx, %d open mTLS connections" % int(num(nh, "held") or 0),
         "mem-nginx-hold", "nginx_rss_kib", "nginx_hwm_kib")
    for key in ("mem-replicad-hold", "mem-nginx-hold"):
        m = memby.get(key, {})
        if (num(m, "non2xx") or 0) > 0 or (num(m, "errors") or 0) > 0:
            print("  (%s: %s answers not 2xx and %s errors while opening "
                  "them, each retried)" % (m.get("server"), m.get("non2xx"),
                                           m.get("errors")))
    if gh.get("gateway_open_connections") not in (None, "-"):
        print("  (the gateway's own gauge while held: "
              "replicad_gateway_open_connections %s)" %
              gh["gateway_open_connections"])
    if "sync_s" in big:
        print("  (the core listed and cached %d Deployments in %s s)" %
              (ndep, big["sync_s"]))

    # The summary line: replicad / nginx.
    def r(test, key):
        a = med.get((test, "replicad"), {}).get(key)
        b = med.get((test, "nginx"), {}).get(key)
        return ratio(a, b)

    parts = [
        "keepalive-16: cpu %s p99 %s req/s %s" % (
            r("keepalive-16", "server_cpu_us_req"),
            r("keepalive-16", "p99_ms"), r("keepalive-16", "rps")),
        "keepalive-1: p50 %s req/s %s" % (
            r("keepalive-1", "p50_ms"), r("keepalive-1", "rps")),
        "newconn-16: cpu %s req/s %s" % (
            r("newconn-16", "server_cpu_us_req"), r("newconn-16", "rps")),
        "handshake: cpu %s" % r("handshake-16", "server_cpu_us_req"),
        "rss %s" % r("keepalive-16", "server_rss_kib"),
    ]
    print()
    print("bench: replicad/nginx " + "; ".join(parts))
    if bad:
        for b in bad:
            print("bench: FAILED: " + b)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
