#!/bin/bash
# kube-sim-scale: 10,000 deployments listed (whole and paginated) and
# watched (initial state and replay from history), plus a burst of writes
# seen by a watcher.  Counts are asserted; timings are only printed.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-scale

ks_start --generate 10000 --history 20000 --log-level warn
OUT=$(python3 - "$KS_URL$DEPS" <<'PY'
import http.client, json, socket, sys, threading, time, urllib.parse, urllib.request
url = sys.argv[1]
u = urllib.parse.urlparse(url)

def stream(q, want):
    """Count watch events on a raw socket until want arrived."""
    s = socket.create_connection((u.hostname, u.port))
    s.settimeout(60)
    s.sendall(("GET %s?%s HTTP/1.1\r\nHost: x\r\n\r\n" % (u.path, q)).encode())
    # The marker may be cut between two recv()s: count over the carried
    # tail (shorter than the marker, so nothing is counted twice).
    mark, carry = b'","object":{', b""
    t0, n = time.time(), 0
    while n < want:
        d = s.recv(1 << 20)
        if not d:
            break
        buf = carry + d
        n += buf.count(mark)
        carry = buf[-(len(mark) - 1):]
    s.close()
    return n, time.time() - t0

t0 = time.time()
body = urllib.request.urlopen(url).read()
full = json.loads(body)
print("full-list %d %.3f" % (len(full["items"]), time.time() - t0))
t0, tok, n, rvs = time.time(), "", 0, set()
while True:
    r = json.loads(urllib.request.urlopen(url + "?limit=500" + ("&continue=" + tok if tok else "")).read())
    n += len(r["items"])
    rvs.add(r["metadata"]["resourceVersion"])
    tok = r["metadata"].get("continue", "")
    if not tok:
        break
print("paged-list %d %d %.3f" % (n, len(rvs), time.time() - t0))
n, t = stream("watch=1", 10000)
print("watch-initial %d %.3f" % (n, t))
n, t = stream("watch=1&resourceVersion=1", 9999)
print("watch-replay %d %.3f" % (n, t))
cur = full["metadata"]["resourceVersion"]
got = {}
th = threading.Thread(target=lambda: got.update(zip("nt", stream("watch=1&resourceVersion=" + cur, 2000))))
th.start()
c = http.client.HTTPConnection(u.hostname, u.port)
t0 = time.time()
for i in range(2000):
    c.request("PATCH", "%s/gen-%05d/scale" % (u.path, i % 10000 + 1),
              '{"spec":{"replicas":%d}}' % (50 + i % 7),
              {"Content-Type": "application/merge-patch+json"})
    c.getresponse().read()
tw = time.time() - t0
th.join()
print("writes %d %.3f" % (got["n"], tw))
PY
)
echo "$OUT" | sed 's/^/     figures: /'
expect_match "full list of 10000" "$OUT" '^full-list 10000 '
expect_match "paginated: 10000 items, one list RV" "$OUT" 'paged-list 10000 1 '
expect_match "watch: 10000 initial ADDED" "$OUT" 'watch-initial 10000 '
expect_match "watch: 9999 replayed from history" "$OUT" 'watch-replay 9999 '
expect_match "2000 writes seen by a watcher" "$OUT" 'writes 2[0-9]{3} '
check "clean exit on SIGTERM" ks_stop
lib_finish
