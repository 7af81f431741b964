#!/usr/bin/env bash
# e2e_local_test.sh — the three real processes together: kube-sim (HTTPS +
# token), replicad-core, replicad-gateway (mutual TLS), and curl (libcurl)
# as the client.  What only the whole chain can show: a POST lands in the
# API server and is read back from the cache (read-your-writes), drift made
# in the API shows through the gateway, /healthz follows the API's health,
# pins hold a Deployment against drift and refuse conflicting writes, the
# gateway rides out a core restart on its own (the pins survive it), and
# `make run`'s script brings everything up and down, with its allow-lists
# (the dev client writes, the reader only reads).
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init e2e

NS=default
TOKEN=tok-$RANDOM-$RANDOM
PKI=$LIB_TMP/pki
SOCK=$LIB_TMP/core.sock
DEPS=/apis/apps/v1/namespaces/$NS/deployments

scripts/gen-certs.sh "$PKI" >/dev/null
echo "$TOKEN" >"$LIB_TMP/token"
KS_AUTH=$TOKEN
KS_CA=$PKI/ca.crt
ks_start --namespace "$NS" --token "$TOKEN" \
    --deployments frontend=3,orders=2,worker=1 --controller-delay-ms 100 \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"

sim() {
	curl -s --cacert "$KS_CA" -H "Authorization: Bearer $TOKEN" "$@"
}

start_core() {
	lib_bg core "$BUILD/replicad-core" --socket "$SOCK" --namespace "$NS" \
	    --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
	    --kube-ca-file "$KS_CA" --pin-file "$LIB_TMP/pins.json"
	CORE_PID=$LIB_LAST_PID
}
start_core

GW_PORT=$(lib_free_port)
PROBE_PORT=$(lib_free_port)
lib_bg gateway "$BUILD/replicad-gateway" --listen "127.0.0.1:$GW_PORT" \
    --probe-listen "127.0.0.1:$PROBE_PORT" --core-socket "$SOCK" \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" \
    --client-ca "$PKI/ca.crt" \
    --allow-write CN=replicad-admin --allow-read CN=replicad-reader
GW_PID=$LIB_LAST_PID
GW=https://localhost:$GW_PORT
C=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")

api() {
	curl -s "${C[@]}" "$@"
}

# code METHOD PATH [BODY]: HTTP status of an API call.
code() {
	local args=(-o /dev/null -w '%{http_code}' -X "$1" "$GW$2")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
	api "${args[@]}"
}

ready() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$PROBE_PORT/readyz")" = 200 ]
}

check "chain is ready (probe /readyz)" lib_wait 30 ready
expect_eq "list through the chain" "$(api "$GW/api/v1/deployments")" \
    '{"namespace":"'"$NS"'","deployments":["frontend","orders","worker"]}'
expect_eq "get through the chain" \
    "$(api "$GW/api/v1/deployments/orders/replicas" | jq_py 'j["replicas"]')" 2

# POST: answered after the watch brought it back; the API server has it.
out=$(api -X POST -H 'Content-Type: application/json' -d '{"replicas":5}' \
    "$GW/api/v1/deployments/frontend/replicas")
expect_match "POST answers updated and synced" "$out" \
    '"status":"updated".*"synced":true'
expect_eq "read-your-writes: GET right after" \
    "$(api "$GW/api/v1/deployments/frontend/replicas" | jq_py 'j["replicas"]')" 5
expect_eq "kube-sim holds spec.replicas 5" \
    "$(sim "$KS_URL$DEPS/frontend" | jq_py 'j["spec"]["replicas"]')" 5
expect_eq "…through the scale subresource" \
    "$(sim "$KS_URL/_sim/counters" | jq_py \
	'sum(c["count"] for c in j["requests"] if c["verb"] == "patch" and c["path"].endswith("/frontend/scale"))')" 1

# Bad input changes nothing in the API server.
rv=$(sim "$KS_URL$DEPS/orders" | jq_py 'j["metadata"]["resourceVersion"]')
expect_eq "negative replicas: 400" "$(code POST /api/v1/deployments/orders/replicas '{"replicas":-1}')" 400
expect_eq "float replicas: 400" "$(code POST /api/v1/deployments/orders/replicas '{"replicas":1.5}')" 400
expect_eq "unknown field: 400" "$(code POST /api/v1/deployments/orders/replicas '{"replicas":1,"x":1}')" 400
expect_eq "bad name: 400" "$(code POST /api/v1/deployments/Orders/replicas '{"replicas":1}')" 400
expect_eq "unknown deployment: 404" "$(code POST /api/v1/deployments/nosuch/replicas '{"replicas":1}')" 404
expect_eq "…and orders is untouched in kube-sim" \
    "$(sim "$KS_URL$DEPS/orders" | jq_py 'j["metadata"]["resourceVersion"]')" "$rv"

# Drift made in the cluster shows through the gateway.
curl -s --cacert "$KS_CA" -X POST "$KS_URL/_sim/scale?name=worker&replicas=4" >/dev/null
worker_is() {
	[ "$(api "$GW/api/v1/deployments/worker/replicas" | jq_py 'j["replicas"]')" = "$1" ]
}
check "drift seen through the gateway" lib_wait 20 worker_is 4

# Pins: PUT holds worker at 2 against drift; a POST of another count is
# refused while the pin holds; DELETE lets it go.

# sim_spec_is NAME N: kube-sim's own spec.replicas of NAME is N.
sim_spec_is() {
	[ "$(sim "$KS_URL$DEPS/$1" | jq_py 'j["spec"]["replicas"]')" = "$2" ]
}
expect_eq "PUT pin" "$(api -X PUT -H 'Content-Type: application/json' \
    -d '{"replicas":2}' "$GW/api/v1/deployments/worker/pin")" \
    '{"status":"pinned","name":"worker","namespace":"'"$NS"'","replicas":2,"suspended":false}'
check "the pin scales worker to 2" lib_wait 20 worker_is 2
check "…in kube-sim too" sim_spec_is worker 2
expect_eq "GET pin" "$(api "$GW/api/v1/deployments/worker/pin")" \
    '{"name":"worker","namespace":"'"$NS"'","replicas":2,"suspended":false}'
expect_eq "GET pins" "$(api "$GW/api/v1/pins")" \
    '{"pins":[{"name":"worker","namespace":"'"$NS"'","replicas":2,"suspended":false}]}'
expect_eq "GET replicas shows the pin" \
    "$(api "$GW/api/v1/deployments/worker/replicas" | jq_py 'j["pinned"]')" 2
curl -s --cacert "$KS_CA" -X POST "$KS_URL/_sim/scale?name=worker&replicas=7" >/dev/null
check "drift to 7 is scaled back to the pin" lib_wait 20 sim_spec_is worker 2
expect_eq "POST of another count to a pinned deployment: 409" \
    "$(code POST /api/v1/deployments/worker/replicas '{"replicas":5}')" 409
expect_eq "PUT pin of an unknown deployment: 404" \
    "$(code PUT /api/v1/deployments/nosuch/pin '{"replicas":1}')" 404
expect_eq "PUT pin with a bad body: 400" \
    "$(code PUT /api/v1/deployments/worker/pin '{"replicas":"2"}')" 400
expect_eq "…and the pin is unchanged" "$(api "$GW/api/v1/pins")" \
    '{"pins":[{"name":"worker","namespace":"'"$NS"'","replicas":2,"suspended":false}]}'
expect_eq "DELETE pin" "$(api -X DELETE "$GW/api/v1/deployments/worker/pin")" \
    '{"status":"unpinned","name":"worker","namespace":"'"$NS"'","replicas":2,"suspended":false}'
expect_eq "GET pin after DELETE: 404" \
    "$(code GET /api/v1/deployments/worker/pin)" 404
expect_eq "PUT pin orders 2 (kept across the core restart below)" \
    "$(code PUT /api/v1/deployments/orders/pin '{"replicas":2}')" 200

# /healthz follows the API: a hung API makes it 503, then 200 again.
healthz() {
	[ "$(api -o /dev/null -w '%{http_code}' "$GW/healthz")" = "$1" ]
}
check "healthz 200" lib_wait 20 healthz 200
curl -s --cacert "$KS_CA" -X POST "$KS_URL/_sim/hang?ms=30000" >/dev/null
check "hung API: healthz 503" lib_wait 40 healthz 503
expect_match "…with Retry-After" \
    "$(api -D - -o /dev/null "$GW/healthz" | tr -d '\r')" '^Retry-After: [0-9]+'
curl -s --cacert "$KS_CA" -X POST "$KS_URL/_sim/hang?ms=0" >/dev/null
check "API back: healthz 200" lib_wait 60 healthz 200

# The core goes away: 503 + Retry-After; it comes back: 200, same gateway.
kill -TERM "$CORE_PID"
lib_wait_pid "$CORE_PID" 20
lib_forget "$CORE_PID"
list_code() {
	[ "$(code GET /api/v1/deployments)" = "$1" ]
}
check "core down: 503" lib_wait 20 list_code 503
expect_match "…with Retry-After" \
    "$(api -D - -o /dev/null "$GW/api/v1/deployments" | tr -d '\r')" \
    '^Retry-After: [0-9]+'
start_core
check "core back: 200 without restarting the gateway" lib_wait 60 list_code 200
check "gateway is the same process" kill -0 "$GW_PID"
expect_eq "pins survive the core restart" "$(api "$GW/api/v1/pins")" \
    '{"pins":[{"name":"orders","namespace":"'"$NS"'","replicas":2,"suspended":false}]}'

# Logs: no token, no key material, anywhere.
check "no token in any log" sh -c \
    "! grep -rqF '$TOKEN' '$LIB_TMP'/*.err '$LIB_TMP'/*.out"
check "no private key in any log" sh -c \
    "! grep -rq 'PRIVATE KEY' '$LIB_TMP'/*.err '$LIB_TMP'/*.out"

# `make run`'s script: up, answers, down on SIGTERM (Ctrl-C in a terminal).
kill -TERM "$GW_PID" "$CORE_PID"
lib_wait_pid "$GW_PID" 20
lib_wait_pid "$CORE_PID" 20
ks_stop
RP=$(lib_free_port)
RG=$(lib_free_port)
RS=$(lib_free_port)
lib_bg run env BUILD="$BUILD" CERTS="$PKI" GATEWAY_ADDR="127.0.0.1:$RG" \
    PROBE_ADDR="127.0.0.1:$RP" SIM_ADDR="127.0.0.1:$RS" scripts/run.sh
RUN_PID=$LIB_LAST_PID
check "make run: ready" lib_wait_line 60 "$LIB_TMP/run.out" 'replicad is ready'
expect_eq "make run: list" \
    "$(api "https://localhost:$RG/api/v1/deployments")" \
    '{"namespace":"default","deployments":["frontend","orders","worker"]}'
expect_eq "make run: a second namespace, payments" \
    "$(api "https://localhost:$RG/api/v1/namespaces/payments/deployments")" \
    '{"namespace":"payments","deployments":["checkout"]}'
expect_match "make run: printed curl commands" "$(cat "$LIB_TMP/run.out")" \
    "curl .*https://localhost:$RG/api/v1/deployments"
expect_eq "make run: pins are on" \
    "$(api "https://localhost:$RG/api/v1/pins")" '{"pins":[]}'
# make run's allow-lists: the dev client writes, the reader only reads.
R=(--cacert "$PKI/ca.crt" --cert "$PKI/reader.crt" --key "$PKI/reader.key")
run_scale() { # CERT-ARGS...: status of a POST through make run's gateway
	curl -s -o /dev/null -w '%{http_code}' "$@" -X POST \
	    -H 'Content-Type: application/json' -d '{"replicas":4}' \
	    "https://localhost:$RG/api/v1/deployments/worker/replicas"
}
expect_eq "make run: the client certificate may write" "$(run_scale "${C[@]}")" 200
expect_eq "make run: the reader certificate may read" \
    "$(curl -s -o /dev/null -w '%{http_code}' "${R[@]}" \
	"https://localhost:$RG/api/v1/deployments")" 200
expect_eq "make run: the reader certificate may not write" \
    "$(run_scale "${R[@]}")" 403
expect_match "make run: printed the reader's curl" "$(cat "$LIB_TMP/run.out")" \
    'reader\.crt'
kill -TERM "$RUN_PID"
check "make run: stops" lib_wait_pid "$RUN_PID" 30
lib_forget "$RUN_PID"
# ([x] keeps pgrep from matching its own command line.)
no_leftover() {
	! pgrep -f "[r]eplicad-gateway --listen 127.0.0.1:$RG" &&
	    ! pgrep -f "[k]ube-sim --listen 127.0.0.1:$RS"
}
check "make run: nothing left running" no_leftover

# Ctrl-C at a terminal, through make as a user runs it: the terminal sends
# SIGINT to its whole foreground process group (make included).  The run
# ends with "run: stopped" and exit 0, without make's "*** Interrupt".
printf 'run:\n\t@env BUILD=%s CERTS=%s GATEWAY_ADDR=127.0.0.1:%s PROBE_ADDR=127.0.0.1:%s SIM_ADDR=127.0.0.1:%s scripts/run.sh\n' \
    "$BUILD" "$PKI" "$RG" "$RP" "$RS" >"$LIB_TMP/run.mk"
CTRL_C=$(python3 "$(dirname "$0")/pty_ctrl_c.py" 'Ctrl-C stops everything' 60 \
    make --no-print-directory -f "$LIB_TMP/run.mk" run)
expect_eq "make run: Ctrl-C ends it with exit 0" "$(tail -n 1 <<<"$CTRL_C")" "exit 0"
expect_match "make run: Ctrl-C says stopped" "$CTRL_C" '^run: stopped$'
check "make run: Ctrl-C, no make Interrupt" \
    bash -c '! grep -q Interrupt <<<"$1"' _ "$CTRL_C"
check "make run: Ctrl-C leaves nothing running" no_leftover

check "no sanitizer report in any log" sh -c \
    "! grep -l 'Sanitizer\\|runtime error' '$LIB_TMP'/*.err"
lib_finish
