#!/bin/bash
# gateway_ops_test.sh — the gateway as an operator sees it: the probe port
# (/livez, /readyz, /metrics, no data), slowloris and oversized-header
# clients cut off while a normal client is served, max connections,
# SIGTERM (stop accepting, finish in-flight, exit 0).
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-ops
C=$T/certs

gw_core --deployments frontend=3 --metrics-bytes 40000
gw_gateway --request-timeout 2 --idle-timeout 2 --max-connections 4
gw_ready || bad "gateway ready"
P="http://127.0.0.1:$PPORT"

# --- probe port ---------------------------------------------------------------
expect_eq "livez 200" "$(curl -s -o /dev/null -w '%{http_code}' "$P/livez")" 200
expect_eq "readyz 200" "$(curl -s -o /dev/null -w '%{http_code}' "$P/readyz")" 200
gw_code "$URL/api/v1/deployments" >/dev/null
m=$(curl -s "$P/metrics")
expect_match "metrics: requests by route and code" "$m" \
    'replicad_gateway_requests_total\{route="list",code="200"\} [1-9]'
expect_match "metrics: latency histogram" "$m" \
    'replicad_gateway_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]'
expect_match "metrics: open connections" "$m" 'replicad_gateway_open_connections [0-9]'
expect_match "metrics: core up" "$m" 'replicad_gateway_core_up 1'
expect_match "metrics: core's own (multi-frame)" "$m" 'replicad_core_fake_pad\{i="9"\}'
expect_eq "probe: no data routes" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$P/api/v1/deployments")" 404
expect_eq "probe: GET only" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$P/livez")" 405
h=$(curl -s -D - -o /dev/null "$P/livez")
expect_match "probe: nosniff" "$h" 'X-Content-Type-Options: nosniff'
gw_control "health 1"
expect_eq "readyz 503 when the cache is not synced" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$P/readyz")" 503
gw_control ""
gw_core_stop
check "readyz 503 when the core is down" lib_wait 5 sh -c \
    "test \"\$(curl -s -o /dev/null -w '%{http_code}' $P/readyz)\" = 503"
expect_eq "livez still 200" "$(curl -s -o /dev/null -w '%{http_code}' "$P/livez")" 200
m=$(curl -s "$P/metrics")
expect_match "metrics without the core" "$m" 'replicad_gateway_core_metrics_up 0'
gw_core --deployments frontend=3
gw_ready 15 || bad "ready again"

# --- slowloris: header bytes trickle in, connection cut at the deadline ------
python3 - "$PORT" "$C" >"$T/slow.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
port, c = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=c + "/ca.crt")
ctx.load_cert_chain(c + "/client.crt", c + "/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                    server_hostname="localhost")
s.sendall(b"GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\n")
start = time.time()
try:
    for i in range(40):           # one header every 0.5 s: never idle 2 s
        s.sendall(b"X-Slow-%d: y\r\n" % i)
        time.sleep(0.5)
    print("NOT CUT")
except (OSError, ssl.SSLError):
    print("CUT after %.1f s" % (time.time() - start))
PY
slow=$!
LIB_PIDS="$LIB_PIDS $slow"
expect_eq "normal client served during slowloris" \
    "$(gw_code "$URL/api/v1/deployments")" 200
lib_wait 15 grep -q "CUT\|NOT" "$T/slow.out"
expect_match "slowloris cut off" "$(cat "$T/slow.out")" '^CUT after [0-9]'
grep -q 'no complete request within 2 s' "$T/gw.err" &&
	ok "slowloris logged" || bad "slowloris logged"

# --- idle TLS connection (no request at all) is closed too -------------------
out=$( (sleep 6) | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
    -CAfile "$C/ca.crt" -cert "$C/client.crt" -key "$C/client.key" 2>&1; echo "rc=$?")
expect_match "idle connection closed before 6 s" "$out" 'closed|rc=[01]$'

# --- oversized headers -------------------------------------------------------
big=$(head -c 12000 /dev/zero | tr '\0' a)
code=$(gw_code -H "X-Big: $big" "$URL/api/v1/deployments")
expect_eq "oversized header refused with our 431" "$code" 431
expect_eq "normal client still served" "$(gw_code "$URL/api/v1/deployments")" 200

# --- max connections (4) ------------------------------------------------------
gw_gateway --request-timeout 30 --idle-timeout 30 --max-connections 4
gw_ready || bad "ready (max connections)"
# Connections that never send a request (here: TCP, no TLS) cannot hold
# the listener: the oldest makes room for a new client.
python3 - "$PORT" >"$T/silent.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
print("SILENT", flush=True)
time.sleep(30)
PY
silent=$!
LIB_PIDS="$LIB_PIDS $silent"
lib_wait 10 grep -q SILENT "$T/silent.out" || bad "held 4 silent connections"
expect_eq "4 silent TCP connections do not lock a client out" \
    "$(gw_code --max-time 10 "$URL/api/v1/deployments")" 200
kill "$silent" 2>/dev/null
check "...the gateway logged the eviction" lib_wait 5 grep -q \
    'it has sent no complete request' "$T/gw.err"
check "...the silent ones are gone" lib_wait 10 sh -c \
    "curl -s http://127.0.0.1:$PPORT/metrics | grep -q '^replicad_gateway_open_connections 0'"
# Clients that have been served keep their connections: the fifth waits.
python3 - "$PORT" "$C" "$T/hold.go" >"$T/hold.out" 2>&1 <<'PY' &
import os, socket, ssl, sys, time
port, c, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=c + "/ca.crt")
ctx.load_cert_chain(c + "/client.crt", c + "/client.key")
held = []
for i in range(4):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        server_hostname="localhost")
    s.sendall(b"GET /api/v1/deployments HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got or not got.endswith(b"\n"):
        got += s.recv(4096)
    held.append(s)
print("HELD", flush=True)
end = time.time() + 30
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.05)
held[0].close()
print("RELEASED", flush=True)
time.sleep(30)
PY
hold=$!
LIB_PIDS="$LIB_PIDS $hold"
lib_wait 10 grep -q HELD "$T/hold.out" || bad "held 4 connections"
check "open connections gauge at 4" lib_wait 5 sh -c \
    "curl -s http://127.0.0.1:$PPORT/metrics | grep -q '^replicad_gateway_open_connections 4'"
expect_eq "fifth connection waits (not served in 2 s)" \
    "$(gw_code --max-time 2 "$URL/api/v1/deployments")" 000
# The fifth client waits in the backlog and is served once one closes.
gw_curl client -o /dev/null -w '%{http_code}' --max-time 15 \
    "$URL/api/v1/deployments" >"$T/fifth.out" 2>/dev/null &
fifth=$!
touch "$T/hold.go"
wait "$fifth"
expect_eq "fifth served after one closes" "$(cat "$T/fifth.out")" 200
kill "$hold" 2>/dev/null

# --- SIGTERM: finish in-flight, refuse new, exit 0 ---------------------------
gw_gateway --drain-timeout 10
gw_ready || bad "ready (SIGTERM)"
: >"$T/trace.log"
gw_control "delay 1500"
gw_curl client -o /dev/null -w '%{http_code}' "$URL/api/v1/deployments" \
    >"$T/inflight.out" 2>/dev/null &
inflight=$!
lib_wait 10 grep -q '^LIST ' "$T/trace.log" || bad "request reached the core"
kill -TERM "$GW_PID"
lib_wait 5 grep -q 'no longer accepting' "$T/gw.err" || bad "drain started"
expect_eq "new connection refused while draining" \
    "$(gw_code --max-time 3 "$URL/api/v1/deployments")" 000
wait "$inflight"
expect_eq "in-flight request finished with 200" "$(cat "$T/inflight.out")" 200
wait "$GW_PID"
expect_eq "exit status 0 after SIGTERM" "$?" 0
lib_forget "$GW_PID"
GW_PID=""
grep -q 'drained; exiting' "$T/gw.err" && ok "drain logged" || bad "drain logged"

gw_finish
