#!/bin/bash
# gateway_api_test.sh — every route and every status code of the REST API,
# end to end: curl with client certificates -> replicad-gateway -> fake
# core.  Also: strict body validation changes nothing, the identity
# reaches the core, allow-lists, core errors map per PROTOCOL.md §5, core
# down -> 503 + Retry-After -> recovery without a gateway restart.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-api

gw_core --deployments frontend=3,orders=2,worker=1
gw_gateway --core-timeout-ms 500
gw_ready || bad "gateway became ready"

# --- list / get / post round trip ---------------------------------------
body=$(gw_curl client "$URL/api/v1/deployments")
expect_eq "list" "$body" '{"namespace":"default","deployments":["frontend","orders","worker"]}'
body=$(gw_curl client "$URL/api/v1/deployments/frontend/replicas")
expect_match "get replicas" "$body" '"name":"frontend".*"replicas":3'
expect_match "get has status" "$body" '"status":\{"replicas":3,"readyReplicas":3'
expect_eq "post 200" "$(gw_post frontend '{"replicas":5}')" 200
expect_match "core got the identity" "$(cat "$T/writes.log")" \
    'SCALE namespace=default name=frontend replicas=5 previous=3 identity=replicad-admin ok'
body=$(gw_curl client -X POST -H 'Content-Type: application/json' \
    -d '{"replicas":4}' "$URL/api/v1/deployments/frontend/replicas")
expect_match "post body" "$body" \
    '^\{"status":"updated","name":"frontend","namespace":"default","replicas":4,"previous":5,"synced":true'
body=$(gw_curl client "$URL/api/v1/deployments/frontend/replicas")
expect_match "read your write" "$body" '"replicas":4'
expect_eq "charset parameter accepted" "$(gw_code -X POST \
    -H 'Content-Type: application/json; charset=utf-8' -d '{"replicas":4}' \
    "$URL/api/v1/deployments/frontend/replicas")" 200

# --- headers on every response -----------------------------------------
for u in /api/v1/deployments /nope; do
	h=$(gw_curl client -D - -o /dev/null "$URL$u")
	expect_match "HSTS on $u" "$h" 'Strict-Transport-Security: max-age=[0-9]+'
	expect_match "nosniff on $u" "$h" 'X-Content-Type-Options: nosniff'
	expect_match "JSON type on $u" "$h" 'Content-Type: application/json'
done
h=$(gw_curl client -D - -o /dev/null -X DELETE "$URL/api/v1/deployments")
expect_match "405 has HSTS" "$h" 'Strict-Transport-Security'

# --- 4xx from the gateway itself ---------------------------------------
expect_eq "unknown path 404" "$(gw_code "$URL/api/v1/nope")" 404
expect_eq "trailing slash 404" "$(gw_code "$URL/api/v1/deployments/")" 404
expect_eq "unknown deployment 404" \
    "$(gw_code "$URL/api/v1/deployments/nosuch/replicas")" 404
body=$(gw_curl client "$URL/api/v1/deployments/nosuch/replicas")
expect_match "404 error body" "$body" '^\{"error":"not_found","message":"[^"]+"\}$'
expect_eq "DELETE list 405" "$(gw_code -X DELETE "$URL/api/v1/deployments")" 405
h=$(gw_curl client -D - -o /dev/null -X PATCH \
    "$URL/api/v1/deployments/frontend/replicas")
expect_match "PATCH 405 with Allow" "$h" 'Allow: GET, HEAD, POST'
h=$(gw_curl client -D - -o /dev/null -X POST "$URL/api/v1/deployments/a/pin")
expect_match "pin Allow" "$h" 'Allow: GET, HEAD, PUT, DELETE'
expect_eq "bad name 400" \
    "$(gw_code "$URL/api/v1/deployments/Front_End/replicas")" 400
expect_eq "encoded name 400" \
    "$(gw_code "$URL/api/v1/deployments/%66rontend/replicas")" 400
expect_eq "wrong content type 415" "$(gw_code -X POST \
    -H 'Content-Type: text/plain' -d '{"replicas":1}' \
    "$URL/api/v1/deployments/frontend/replicas")" 415
expect_eq "no content type 415" "$(gw_code -X POST -H 'Content-Type:' \
    -d '{"replicas":1}' "$URL/api/v1/deployments/frontend/replicas")" 415
head -c 5000 /dev/zero | tr '\0' ' ' >"$T/big.json"
expect_eq "5000-byte body 413" \
    "$(gw_post frontend @"$T/big.json")" 413
expect_eq "chunked oversized body 413" "$(gw_code -X POST \
    -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T/big.json" "$URL/api/v1/deployments/frontend/replicas")" 413
# 411: no Content-Length and not chunked (curl always sends one).
resp=$(printf 'POST /api/v1/deployments/frontend/replicas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
    -cert "$T/certs/client.crt" -key "$T/certs/client.key" \
    -CAfile "$T/certs/ca.crt" 2>/dev/null)
expect_match "no length 411" "$resp" '^HTTP/1.1 411'

before=$(wc -l <"$T/writes.log")
while IFS='|' read -r doc json want; do
	got=$(gw_post frontend "$json")
	expect_eq "body $doc -> $want" "$got" "$want"
done <<'ROWS'
string replicas|{"replicas":"5"}|400
float|{"replicas":1.5}|400
exponent|{"replicas":1e3}|400
negative|{"replicas":-1}|400
int32 max + 1|{"replicas":2147483648}|400
huge|{"replicas":99999999999999999999999}|400
duplicate key|{"replicas":1,"replicas":2}|400
unknown field|{"replicas":1,"dryRun":true}|400
trailing garbage|{"replicas":1} x|400
array|[1]|400
nested|{"replicas":{"n":1}}|400
not json|replicas=1|400
empty object|{}|400
ROWS
expect_eq "empty body 400" "$(gw_post frontend @/dev/null)" 400
printf '{"r\xff":1}' >"$T/badutf8.json"
expect_eq "bad UTF-8 400" "$(gw_post frontend @"$T/badutf8.json")" 400
body=$(gw_curl client -X POST -H 'Content-Type: application/json' \
    -d '{"replicas":1,"x":1}' "$URL/api/v1/deployments/frontend/replicas")
expect_eq "unknown field body" "$body" \
    '{"error":"unknown_field","message":"allowed fields: \"replicas\", \"expectedReplicas\", \"force\""}'
expect_eq "rejected bodies never reach the core" \
    "$(wc -l <"$T/writes.log")" "$before"
expect_eq "int32 max accepted" "$(gw_post worker '{"replicas":2147483647}')" 200

# --- healthz -------------------------------------------------------------
body=$(gw_curl client "$URL/healthz")
expect_match "healthz 200 body" "$body" '"status":"ok","apiReachable":true,"cacheSynced":true'
gw_control "health 1"
h=$(gw_curl client -D - "$URL/healthz")
expect_match "healthz unsynced 503" "$h" '^HTTP/1.1 503'
expect_match "healthz 503 Retry-After" "$h" 'Retry-After: [0-9]+'
expect_match "healthz says which" "$h" '"cacheSynced":false'
gw_control ""

# --- pins ------------------------------------------------------------------
expect_eq "pin put 200" "$(gw_code -X PUT -H 'Content-Type: application/json' \
    -d '{"replicas":2}' "$URL/api/v1/deployments/orders/pin")" 200
expect_match "pin get" "$(gw_curl client "$URL/api/v1/deployments/orders/pin")" \
    '^\{"name":"orders","namespace":"default","replicas":2,"suspended":false\}$'
expect_match "pins list" "$(gw_curl client "$URL/api/v1/pins")" \
    '^\{"pins":\[\{"name":"orders","namespace":"default","replicas":2,"suspended":false\}\]\}$'
expect_match "get shows pinned" \
    "$(gw_curl client "$URL/api/v1/deployments/orders/replicas")" '"pinned":2'
expect_eq "pin delete 200" \
    "$(gw_code -X DELETE "$URL/api/v1/deployments/orders/pin")" 200
expect_eq "pin get after delete 404" \
    "$(gw_code "$URL/api/v1/deployments/orders/pin")" 404
expect_eq "pin put bad body 400" "$(gw_code -X PUT \
    -H 'Content-Type: application/json' -d '{"replicas":-2}' \
    "$URL/api/v1/deployments/orders/pin")" 400
expect_match "pin writes carry identity" "$(cat "$T/writes.log")" \
    'PIN_PUT namespace=default name=orders replicas=2 previous=0 identity=replicad-admin ok'

# --- every core error code -> HTTP (PROTOCOL.md §5) ------------------------
for row in 1:404 2:400 3:409 4:503 5:502 6:504 7:500 8:500 9:500 10:503 \
    11:502 12:501; do
	code=${row%%:*}
	want=${row#*:}
	gw_control "error GET $code 7"
	h=$(gw_curl client -D - "$URL/api/v1/deployments/frontend/replicas")
	expect_match "core code $code -> $want" "$h" "^HTTP/1.1 $want"
	if [ "$want" = 503 ]; then
		expect_match "core code $code Retry-After from core" "$h" \
		    'Retry-After: 7'
	fi
done
gw_control "error SCALE 3"
expect_eq "scale conflict 409" "$(gw_post frontend '{"replicas":6}')" 409
gw_control "error PIN_LIST 12"
body=$(gw_curl client "$URL/api/v1/pins")
expect_match "pins unsupported 501" "$body" '"error":"not_implemented"'
gw_control ""

# --- the core misbehaves ---------------------------------------------------
gw_control "noanswer GET"
expect_eq "core silent -> 504" \
    "$(gw_code "$URL/api/v1/deployments/frontend/replicas")" 504
# The unanswered request stays outstanding on this link, and the gateway
# drops a link whose request is twice its deadline overdue: a new core
# (and link) keeps the next checks from racing that rule.
gw_control ""
gw_core --deployments frontend=3,orders=2,worker=1
get_ok() {
	[ "$(gw_code "$URL/api/v1/deployments/frontend/replicas")" = 200 ]
}
check "the gateway reads through the new core" lib_wait 10 get_ok
gw_control "delay 100"
expect_eq "slow core within deadline 200" \
    "$(gw_code "$URL/api/v1/deployments/frontend/replicas")" 200
gw_control "strayid"
expect_eq "stray answer ignored" \
    "$(gw_code "$URL/api/v1/deployments/frontend/replicas")" 200
gw_control "malformed"
expect_eq "malformed answer -> 503" \
    "$(gw_code "$URL/api/v1/deployments/frontend/replicas")" 503
gw_control ""
check "link comes back after a protocol error" gw_ready 10
gw_control "wrongtype"
expect_eq "wrong answer type -> 503" \
    "$(gw_code "$URL/api/v1/deployments/frontend/replicas")" 503
gw_control ""
check "link comes back after a wrong type" gw_ready 10
gw_control "goaway 4 3"
h=$(gw_curl client -D - "$URL/api/v1/deployments")
expect_match "GOAWAY -> 503" "$h" '^HTTP/1.1 503'
expect_match "GOAWAY Retry-After" "$h" 'Retry-After: 3'
gw_control ""
check "link comes back after GOAWAY" gw_ready 10
gw_control "close"
expect_eq "core closes -> 503" "$(gw_code "$URL/api/v1/deployments")" 503
gw_control ""
check "link comes back after close" gw_ready 10
grep -q 'protocol error from the core' "$T/gw.err" &&
	ok "protocol error logged" || bad "protocol error logged"

# --- core down, then back -------------------------------------------------
gw_core_stop
h=$(gw_curl client -D - "$URL/api/v1/deployments")
expect_match "core down -> 503" "$h" '^HTTP/1.1 503'
expect_match "core down Retry-After" "$h" 'Retry-After: [0-9]+'
expect_match "core down body" "$h" '"error":"core_unavailable"'
gw_core --deployments frontend=3,orders=2,worker=1
check "recovers without a restart" lib_wait 15 sh -c \
    "test \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert $T/certs/ca.crt \
    --cert $T/certs/client.crt --key $T/certs/client.key \
    $URL/api/v1/deployments)\" = 200"

# --- multi-frame LIST --------------------------------------------------------
gw_core --generate 3000
gw_ready 15 || bad "ready with 3000 deployments"
n=$(gw_curl client "$URL/api/v1/deployments" | python3 -c \
    'import json,sys; print(len(json.load(sys.stdin)["deployments"]))')
expect_eq "list spanning frames" "$n" 3000

# --- allow-lists: reader reads, admin writes, others nothing --------------
gw_core --deployments frontend=3
gw_gateway --allow-read CN=replicad-reader --allow-write CN=replicad-admin
gw_ready || bad "ready with allow-lists"
expect_eq "reader may read" \
    "$(gw_code -u reader "$URL/api/v1/deployments")" 200
expect_eq "reader may not write" "$(gw_code -u reader -X POST \
    -H 'Content-Type: application/json' -d '{"replicas":1}' \
    "$URL/api/v1/deployments/frontend/replicas")" 403
expect_eq "admin may write" "$(gw_post frontend '{"replicas":2}')" 200
gw_gateway --allow-write CN=replicad-admin
gw_ready || bad "ready with write list only"
expect_eq "unlisted reader forbidden" \
    "$(gw_code -u reader "$URL/api/v1/deployments")" 403
body=$(gw_curl reader "$URL/api/v1/deployments")
expect_match "403 body" "$body" '"error":"forbidden"'
expect_match "access log has identity and status" "$(cat "$T/gw.err")" \
    'identity="replicad-reader" method="GET" path="/api/v1/deployments" status=403'

gw_finish
