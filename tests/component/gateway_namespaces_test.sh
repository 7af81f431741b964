#!/bin/bash
# gateway_namespaces_test.sh — issue #15 at the gateway, with real client
# certificates through curl -> replicad-gateway -> fake core serving two
# namespaces ("default", the default, and "payments"; "frontend" exists in
# both with different counts, so a request answered from the wrong one
# shows):
#   - every route under /api/v1/namespaces/{ns}/... in both namespaces,
#     and each answer names its namespace;
#   - the routes without a namespace mean the core's default namespace
#     (from its HELLO), /api/v1/pins every namespace;
#   - an invalid {ns} is 400 before anything reaches the core; a namespace
#     the core does not serve is 404 with the core's message naming the set;
#   - scoped allow-list entries (payments/CN=alice): allowed in payments,
#     refused elsewhere with the namespace named, the old routes checked
#     against the default namespace; unscoped entries hold in both; also
#     from REPLICAD_ALLOW_WRITE; a malformed scope stops the gateway (exit 2);
#   - /api/v1/pins shows only the namespaces the client may read;
#   - /healthz reports each namespace and is 503 only when the default one
#     is unhealthy;
#   - audit lines carry the namespace; no core link: 503 on every route.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-namespaces
: >>"$T/gw.err"
: >>"$T/trace.log"
C=$T/certs

# mkcert NAME SUBJECT: a client certificate of the dev CA in $C.
mkcert() {
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=clientAuth" >"$T/$1.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$C/$1.key" 2>/dev/null &&
	openssl req -new -key "$C/$1.key" -subj "$2" -out "$T/$1.csr" &&
	openssl x509 -req -in "$T/$1.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" \
	    -CAcreateserial -CAserial "$T/ca.srl" -days 30 -sha256 \
	    -extfile "$T/$1.ext" -out "$C/$1.crt" 2>/dev/null
}
mkcert alice "/CN=alice" || bad "make alice cert"
mkcert bob "/CN=bob" || bad "make bob cert"
mkcert nobody "/CN=nobody" || bad "make nobody cert"

NS=/api/v1/namespaces
# get WHO PATH: the body; code WHO METHOD PATH: the status (writes send
# {"replicas":2}).
get() { gw_curl "$1" "$URL$2"; }
code() {
	local who=$1 m=$2 p=$3
	case $m in
	POST | PUT)
		gw_code -u "$who" -X "$m" -H 'Content-Type: application/json' \
		    -d '{"replicas":2}' "$URL$p"
		;;
	*) gw_code -u "$who" -X "$m" "$URL$p" ;;
	esac
}
# write WHO METHOD PATH BODY: the body of a write's answer.
write() {
	gw_curl "$1" -X "$2" -H 'Content-Type: application/json' -d "$4" "$URL$3"
}
traced() { wc -l <"$T/trace.log"; }
writes() { wc -l <"$T/writes.log"; }

gw_core --namespaces default,payments \
    --deployments frontend=3,orders=2,payments/frontend=7,payments/web=4,payments/api=1 \
    --pins orders=2,payments/web=4
gw_gateway --allow-write CN=replicad-admin --allow-read CN=replicad-reader \
    --allow-write payments/CN=alice --allow-read default/CN=bob
gw_ready || bad "gateway became ready"

# --- every route, in both namespaces (the admin: unscoped writer) ---------
expect_eq "list in default" "$(get client "$NS/default/deployments")" \
    '{"namespace":"default","deployments":["frontend","orders"]}'
expect_eq "list in payments" "$(get client "$NS/payments/deployments")" \
    '{"namespace":"payments","deployments":["api","frontend","web"]}'
expect_match "get in default: its own frontend" \
    "$(get client "$NS/default/deployments/frontend/replicas")" \
    '^\{"name":"frontend","namespace":"default","replicas":3,'
expect_match "get in payments: the other frontend" \
    "$(get client "$NS/payments/deployments/frontend/replicas")" \
    '^\{"name":"frontend","namespace":"payments","replicas":7,'
expect_match "a namespaced GET has its ETag" \
    "$(gw_curl client -D - -o /dev/null "$URL$NS/payments/deployments/web/replicas")" \
    'ETag: "[0-9]+"'
body=$(write client POST "$NS/payments/deployments/frontend/replicas" '{"replicas":8}')
expect_match "scale in payments answers with its namespace" "$body" \
    '^\{"status":"updated","name":"frontend","namespace":"payments","replicas":8,"previous":7,'
expect_match "…and the core got the namespace" "$(tail -n 1 "$T/writes.log")" \
    '^SCALE namespace=payments name=frontend replicas=8 previous=7 identity=replicad-admin ok$'
expect_match "default's frontend is untouched" \
    "$(get client "$NS/default/deployments/frontend/replicas")" '"replicas":3,'
body=$(write client POST "$NS/default/deployments/frontend/replicas?dryRun=true" '{"replicas":5}')
expect_match "a dry run in default" "$body" \
    '^\{"status":"dry_run","name":"frontend","namespace":"default","replicas":5,.*"dryRun":true\}$'
expect_match "…reached the core as default's" "$(tail -n 1 "$T/writes.log")" \
    '^SCALE namespace=default name=frontend replicas=5 previous=3 .*dry_run$'
for ns in default payments; do
	expect_eq "pin put in $ns" "$(code client PUT "$NS/$ns/deployments/frontend/pin")" 200
	expect_match "pin get in $ns" "$(get client "$NS/$ns/deployments/frontend/pin")" \
	    "^\\{\"name\":\"frontend\",\"namespace\":\"$ns\",\"replicas\":2,\"suspended\":false\\}$"
done
expect_match "the namespace's pins (payments)" "$(get client "$NS/payments/pins")" \
    '^\{"namespace":"payments","pins":\[\{"name":"frontend","namespace":"payments","replicas":2,"suspended":false\},\{"name":"web","namespace":"payments","replicas":4,"suspended":false\}\]\}$'
expect_match "the namespace's pins (default)" "$(get client "$NS/default/pins")" \
    '^\{"namespace":"default","pins":\[\{"name":"frontend","namespace":"default",[^]]*\{"name":"orders","namespace":"default",[^]]*\]\}$'
expect_match "/api/v1/pins: every namespace, in order" "$(get client /api/v1/pins)" \
    '^\{"pins":\[\{"name":"frontend","namespace":"default".*"name":"orders","namespace":"default".*"name":"frontend","namespace":"payments".*"name":"web","namespace":"payments"[^]]*\]\}$'
body=$(gw_curl client -X DELETE "$URL$NS/payments/deployments/frontend/pin")
expect_match "pin delete in payments" "$body" \
    '^\{"status":"unpinned","name":"frontend","namespace":"payments","replicas":2,'
expect_eq "…gone in payments" "$(code client GET "$NS/payments/deployments/frontend/pin")" 404
expect_eq "…still there in default" "$(code client GET "$NS/default/deployments/frontend/pin")" 200
expect_eq "pin delete in default" "$(code client DELETE "$NS/default/deployments/frontend/pin")" 200
expect_match "the audit line names the namespace" "$(grep audit "$T/gw.err" | grep unpin | head -n 1)" \
    'action="?unpin"? namespace="?payments"? deployment="?frontend"?'
expect_eq "methods: 405 under the prefix too" \
    "$(code client DELETE "$NS/payments/deployments/web/replicas")" 405

# --- the routes without a namespace: the default namespace ----------------
expect_eq "old list = default's" "$(get client /api/v1/deployments)" \
    '{"namespace":"default","deployments":["frontend","orders"]}'
# (The pin above set default's frontend to 2; payments' is at 8.)
expect_match "old get = default's frontend" \
    "$(get client /api/v1/deployments/frontend/replicas)" \
    '^\{"name":"frontend","namespace":"default","replicas":2,'
expect_eq "…the same answer as under /namespaces/default" \
    "$(get client /api/v1/deployments/frontend/replicas)" \
    "$(get client "$NS/default/deployments/frontend/replicas")"
body=$(write client POST /api/v1/deployments/frontend/replicas '{"replicas":4}')
expect_match "old scale = default's" "$body" '"name":"frontend","namespace":"default","replicas":4,"previous":2,'
expect_match "…and the core was asked for default" "$(tail -n 1 "$T/writes.log")" \
    '^SCALE namespace=default name=frontend replicas=4 '
expect_match "old pin get = default's" "$(get client /api/v1/deployments/orders/pin)" \
    '^\{"name":"orders","namespace":"default","replicas":2,'
expect_eq "old pin of a payments-only name: 404" \
    "$(code client GET /api/v1/deployments/web/pin)" 404

# --- an invalid namespace: 400, and nothing reaches the core -------------
before=$(traced)
for p in "$NS/Payments/deployments" "$NS/a_b/pins" "$NS/-x/deployments/web/replicas" \
    "$NS/$(printf 'a%.0s' $(seq 64))/deployments" "$NS/pay.ments/deployments/web/pin"; do
	expect_eq "400 for $p" "$(code client GET "$p")" 400
done
expect_eq "400 for a write in an invalid namespace" \
    "$(code client POST "$NS/Bad/deployments/web/replicas")" 400
expect_match "the 400 says what a namespace is" "$(get client "$NS/Payments/deployments")" \
    '^\{"error":"invalid_namespace","message":"the namespace must be a DNS-1123 label'
expect_eq "none of them reached the core" "$(traced)" "$before"
expect_eq "an empty namespace segment is no route" "$(code client GET "$NS//deployments")" 404

# --- a namespace the core does not serve: 404 naming the set -------------
MSG='namespace \\"staging\\" is not served by this replicad \(namespaces: default, payments\)'
expect_eq "unknown namespace: list 404" "$(code client GET "$NS/staging/deployments")" 404
expect_match "…with the core's message naming the set" \
    "$(get client "$NS/staging/deployments")" \
    "^\\{\"error\":\"not_found\",\"message\":\"$MSG\"\\}$"
expect_eq "unknown namespace: get 404" \
    "$(code client GET "$NS/staging/deployments/web/replicas")" 404
expect_match "…with the set" "$(get client "$NS/staging/deployments/web/replicas")" \
    "\"message\":\"$MSG\""
expect_eq "unknown namespace: scale 404" \
    "$(code client POST "$NS/staging/deployments/web/replicas")" 404
expect_eq "unknown namespace: pins 404" "$(code client GET "$NS/staging/pins")" 404

# --- scoped allow-lists -----------------------------------------------------
before=$(writes)
expect_eq "alice (payments/CN=alice) scales in payments" \
    "$(code alice POST "$NS/payments/deployments/api/replicas")" 200
expect_eq "…pins in payments" "$(code alice PUT "$NS/payments/deployments/api/pin")" 200
expect_eq "…unpins in payments" "$(code alice DELETE "$NS/payments/deployments/api/pin")" 200
expect_eq "…reads in payments" "$(code alice GET "$NS/payments/deployments")" 200
expect_eq "…all of it reached the core" "$(writes)" "$((before + 3))"
before=$(writes)
expect_eq "alice may not scale in default" \
    "$(code alice POST "$NS/default/deployments/frontend/replicas")" 403
expect_match "…and is told which namespace" \
    "$(write alice POST "$NS/default/deployments/frontend/replicas" '{"replicas":2}')" \
    '^\{"error":"forbidden","message":"client \\"alice\\" may not write in namespace \\"default\\": this client certificate is not on --allow-write, for this namespace or for all"\}$'
expect_eq "alice may not scale through the old route (the default namespace)" \
    "$(code alice POST /api/v1/deployments/frontend/replicas)" 403
expect_eq "alice may not pin in default" "$(code alice PUT /api/v1/deployments/orders/pin)" 403
expect_eq "alice may not read in default" "$(code alice GET "$NS/default/deployments")" 403
expect_match "…told so" "$(get alice /api/v1/deployments)" \
    'client \\"alice\\" may not read in namespace \\"default\\"'
expect_eq "none of alice's refused writes reached the core" "$(writes)" "$before"
expect_match "the refusal is logged with the namespace" "$(grep 'authz: alice' "$T/gw.err" | tail -n 1)" \
    'alice may not .* in namespace default'
expect_eq "bob (default/CN=bob, read) reads in default" "$(code bob GET "$NS/default/deployments")" 200
expect_eq "…and through the old route" "$(code bob GET /api/v1/deployments/frontend/replicas)" 200
expect_eq "…not in payments" "$(code bob GET "$NS/payments/deployments")" 403
expect_eq "…and writes nowhere" "$(code bob POST "$NS/default/deployments/frontend/replicas")" 403
expect_eq "the unscoped reader reads in payments" "$(code reader GET "$NS/payments/deployments")" 200
expect_eq "…and in default" "$(code reader GET "$NS/default/deployments")" 200
expect_eq "…and writes in neither" "$(code reader POST "$NS/payments/deployments/web/replicas")" 403
expect_eq "the unscoped admin writes in payments" "$(code client POST "$NS/payments/deployments/web/replicas")" 200
expect_eq "…and in default" "$(code client POST "$NS/default/deployments/orders/replicas")" 200
expect_eq "nobody (no entry) reads nowhere" "$(code nobody GET "$NS/payments/deployments")" 403
expect_eq "…not even /api/v1/pins" "$(code nobody GET /api/v1/pins)" 403

# --- /api/v1/pins: filtered by what the client may read -------------------
expect_match "alice sees payments' pins only" "$(get alice /api/v1/pins)" \
    '^\{"pins":\[\{"name":"web","namespace":"payments",[^]]*\]\}$'
expect_match "bob sees default's pins only" "$(get bob /api/v1/pins)" \
    '^\{"pins":\[\{"name":"orders","namespace":"default",[^]]*\]\}$'
expect_match "the unscoped reader sees both" "$(get reader /api/v1/pins)" \
    '"namespace":"default".*"namespace":"payments"'
expect_eq "alice may not list default's pins by name" "$(code alice GET "$NS/default/pins")" 403

# --- /healthz: every namespace; 503 only for the default -----------------
body=$(get client /healthz)
expect_match "healthz names the default namespace and lists both" "$body" \
    '"namespace":"default","namespaces":\[\{"namespace":"default","status":"ok",.*\},\{"namespace":"payments","status":"ok","apiReachable":true,"cacheSynced":true,"watchConnected":true,"cacheSize":3,'
expect_eq "a scoped reader may read healthz" "$(code alice GET /healthz)" 200
gw_control "nshealth payments 0"
expect_eq "payments unhealthy: still 200" "$(code client GET /healthz)" 200
expect_match "…the body says payments is not" "$(get client /healthz)" \
    '^\{"status":"ok",.*\{"namespace":"payments","status":"unavailable","apiReachable":false,"cacheSynced":false,"watchConnected":false,"cacheSize":3,"lastEventAgeMs":null,"apiOkAgeMs":null\}\]\}$'
gw_control "health 0"
expect_eq "default unhealthy: 503" "$(code client GET /healthz)" 503
expect_match "…with Retry-After" "$(gw_curl client -D - -o /dev/null "$URL/healthz")" \
    'Retry-After: [0-9]+'
expect_match "…and the body says it is default, payments being fine" \
    "$(get client /healthz)" \
    '^\{"status":"unavailable",.*"namespace":"default","namespaces":\[\{"namespace":"default","status":"unavailable".*\{"namespace":"payments","status":"ok"'
gw_control ""
expect_eq "healthy again: 200" "$(code client GET /healthz)" 200

# --- scoped entries from the environment; a bad scope stops it ------------
REPLICAD_ALLOW_WRITE="payments/CN=alice,CN=replicad-admin" \
    REPLICAD_ALLOW_READ="default/CN=bob" GW_ALLOW= gw_gateway
gw_ready || bad "ready with lists from the environment"
expect_eq "env: alice writes in payments" "$(code alice POST "$NS/payments/deployments/api/replicas")" 200
expect_eq "env: alice may not in default" "$(code alice POST "$NS/default/deployments/orders/replicas")" 403
expect_eq "env: bob reads default" "$(code bob GET /api/v1/deployments)" 200
expect_eq "env: bob not payments" "$(code bob GET "$NS/payments/deployments")" 403
for entry in "Payments/CN=x" "/CN=x" "payments/x" "payments:CN=x"; do
	out=$("$BUILD/replicad-gateway" --listen 127.0.0.1:0 --tls-cert "$C/server.crt" \
	    --tls-key "$C/server.key" --client-ca "$C/ca.crt" \
	    --core-socket "$T/core.sock" --allow-write "$entry" 2>&1)
	rc=$?
	expect_eq "--allow-write $entry: exit 2" "$rc" 2
	expect_match "…naming the forms" "$out" "scoped as <namespace>/<entry>"
done
out=$("$BUILD/replicad-gateway" --listen 127.0.0.1:0 --tls-cert "$C/server.crt" \
    --tls-key "$C/server.key" --client-ca "$C/ca.crt" \
    --core-socket "$T/core.sock" --allow-write "Payments/CN=x" 2>&1)
expect_match "a bad scope says what a scope is" "$out" \
    "the namespace before '/' is not a DNS-1123 label"

# --- no core link: the default namespace is unknown, every route 503 ------
gw_core_stop
lib_wait 10 sh -c "! curl -s --max-time 2 http://127.0.0.1:$PPORT/readyz | grep -q '\"ready\"'" ||
    bad "the gateway saw the core go"
expect_eq "old route without a link: 503" "$(code client GET /api/v1/deployments)" 503
expect_match "…with Retry-After" \
    "$(gw_curl client -D - -o /dev/null "$URL/api/v1/deployments")" \
    'Retry-After: [0-9]+'
expect_eq "namespaced route without a link: 503" "$(code client GET "$NS/payments/deployments")" 503
gw_core --namespaces payments,default --deployments payments/web=4,default/orders=1
gw_ready || bad "ready again"
expect_eq "a core with another default: the old routes follow it" \
    "$(get client /api/v1/deployments)" '{"namespace":"payments","deployments":["web"]}'

gw_finish
