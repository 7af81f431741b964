#!/usr/bin/env bash
# e2e_namespaces_test.sh — one replicad for two namespaces (issue #15), end
# to end: kube-sim (HTTPS + token) serving `default` and `payments`,
# replicad-core (--namespaces default,payments), replicad-gateway (mutual
# TLS, an allow-list entry scoped to payments) and curl.  Reads, writes and
# pins in each namespace through both forms of the routes, a namespace not
# served, scoped authorization, and one namespace's API failure (its
# list+watch forbidden) not hiding the other's Deployments nor failing the
# probe, then recovering.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init e2e-namespaces

TOKEN=tok-$RANDOM-$RANDOM
PKI=$LIB_TMP/pki
SOCK=$LIB_TMP/core.sock

scripts/gen-certs.sh "$PKI" >/dev/null
echo "$TOKEN" >"$LIB_TMP/token"
KS_AUTH=$TOKEN
KS_CA=$PKI/ca.crt
ks_start --namespace default --token "$TOKEN" \
    --deployments web=3,api=2,payments/checkout=2,payments/ledger=1,orders/queue=1 \
    --controller-delay-ms 50 \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"

sim() {
	curl -s --cacert "$KS_CA" -H "Authorization: Bearer $TOKEN" "$@"
}
sim_spec() {
	sim "$KS_URL/apis/apps/v1/namespaces/$1/deployments/$2" |
	    jq_py 'j["spec"]["replicas"]'
}
sim_spec_is() { [ "$(sim_spec "$1" "$2")" = "$3" ]; }
admin() { sim -o /dev/null -w '%{http_code}' -X "${2:-POST}" "$KS_URL/_sim/$1"; }

lib_bg core "$BUILD/replicad-core" --socket "$SOCK" --namespace default \
    --namespaces default,payments --kube-api "$KS_URL" \
    --kube-token-file "$LIB_TMP/token" --kube-ca-file "$KS_CA" \
    --pin-file "$LIB_TMP/pins.json"
GW_PORT=$(lib_free_port)
PROBE_PORT=$(lib_free_port)
# replicad-admin writes everywhere; replicad-reader writes only in payments
# (and so may read only there: a name on any list is needed to read).
lib_bg gateway "$BUILD/replicad-gateway" --listen "127.0.0.1:$GW_PORT" \
    --probe-listen "127.0.0.1:$PROBE_PORT" --core-socket "$SOCK" \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" \
    --client-ca "$PKI/ca.crt" --allow-write CN=replicad-admin \
    --allow-write payments/CN=replicad-reader
GW=https://localhost:$GW_PORT
ADMIN=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
PAYER=(--cacert "$PKI/ca.crt" --cert "$PKI/reader.crt" --key "$PKI/reader.key")

# call WHO METHOD PATH [BODY]: the answer's body, then its status on the
# last line.
call() {
	local -n who=$1
	local method=$2 path=$3 body=${4:-}
	if [ -n "$body" ]; then
		curl -s "${who[@]}" -w '\n%{http_code}' -X "$method" \
		    -H 'Content-Type: application/json' -d "$body" "$GW$path"
	else
		curl -s "${who[@]}" -w '\n%{http_code}' -X "$method" "$GW$path"
	fi
}
status_of() { printf '%s\n' "$1" | tail -n 1; }
body_of() { printf '%s\n' "$1" | sed '$d'; }
field() { body_of "$1" | jq_py "$2"; }
healthz() { curl -s "${ADMIN[@]}" -w '\n%{http_code}' "$GW/healthz"; }
ready() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$PROBE_PORT/readyz")" = 200 ]
}
NSP=/api/v1/namespaces

check "chain is ready" lib_wait 30 ready

# --- reads ---------------------------------------------------------------------
out=$(call ADMIN GET /api/v1/deployments)
expect_eq "GET /api/v1/deployments: the default namespace's" \
    "$(field "$out" 'j["namespace"] + ":" + ",".join(j["deployments"])')" \
    "default:api,web"
out=$(call ADMIN GET $NSP/payments/deployments)
expect_eq "GET …/namespaces/payments/deployments: payments'" \
    "$(field "$out" 'j["namespace"] + ":" + ",".join(j["deployments"])')" \
    "payments:checkout,ledger"
out=$(call ADMIN GET $NSP/default/deployments)
expect_eq "…/namespaces/default/deployments is the unqualified list" \
    "$(field "$out" '",".join(j["deployments"])')" "api,web"
out=$(call ADMIN GET $NSP/payments/deployments/checkout/replicas)
expect_eq "GET payments/checkout: 2 replicas, in payments" \
    "$(field "$out" 'j["namespace"] + "/" + j["name"] + "=" + str(j["replicas"])')" \
    "payments/checkout=2"
out=$(call ADMIN GET /api/v1/deployments/checkout/replicas)
expect_eq "checkout is not in the default namespace: 404" "$(status_of "$out")" 404

# --- a namespace not served, a bad one ----------------------------------------
out=$(call ADMIN GET $NSP/orders/deployments)
expect_eq "orders exists in the API but is not served: 404" \
    "$(status_of "$out")" 404
expect_match "...the message names the set" "$(body_of "$out")" \
    'not served by this replicad \(namespaces: default, payments\)'
out=$(call ADMIN POST $NSP/orders/deployments/queue/replicas '{"replicas":5}')
expect_eq "a write to orders: 404" "$(status_of "$out")" 404
expect_eq "...orders/queue unchanged in the API server" \
    "$(sim_spec orders queue)" 1
out=$(call ADMIN GET $NSP/Payments/deployments)
expect_eq "a namespace that is no DNS-1123 label: 400" "$(status_of "$out")" 400
expect_eq "...invalid_namespace" "$(field "$out" 'j["error"]')" invalid_namespace

# --- writes ---------------------------------------------------------------------
out=$(call ADMIN POST $NSP/payments/deployments/checkout/replicas '{"replicas":4}')
expect_eq "admin scales payments/checkout to 4: 200" "$(status_of "$out")" 200
expect_eq "...the answer names payments" "$(field "$out" 'j["namespace"]')" payments
expect_eq "...written in payments" "$(sim_spec payments checkout)" 4
out=$(call ADMIN POST /api/v1/deployments/web/replicas '{"replicas":5}')
expect_eq "admin scales web (unqualified route) to 5: 200" "$(status_of "$out")" 200
expect_eq "...written in default" "$(sim_spec default web)" 5

# --- scoped authorization -------------------------------------------------------
out=$(call PAYER POST $NSP/payments/deployments/ledger/replicas '{"replicas":3}')
expect_eq "payments/CN=replicad-reader writes in payments: 200" \
    "$(status_of "$out")" 200
expect_eq "...written" "$(sim_spec payments ledger)" 3
out=$(call PAYER POST $NSP/default/deployments/api/replicas '{"replicas":7}')
expect_eq "...but not in default: 403" "$(status_of "$out")" 403
expect_match "...the refusal names the namespace" "$(body_of "$out")" \
    'namespace \\?"default\\?"'
expect_eq "...default/api unchanged" "$(sim_spec default api)" 2
out=$(call PAYER POST /api/v1/deployments/api/replicas '{"replicas":7}')
expect_eq "...nor through the unqualified route (the default namespace)" \
    "$(status_of "$out")" 403
out=$(call PAYER GET /api/v1/deployments)
expect_eq "...nor read there (a name on a list is needed to read)" \
    "$(status_of "$out")" 403
out=$(call PAYER GET $NSP/payments/deployments/ledger/replicas)
expect_eq "...it reads in payments" "$(field "$out" 'j["replicas"]')" 3

# --- pins -------------------------------------------------------------------------
out=$(call ADMIN PUT $NSP/payments/deployments/ledger/pin '{"replicas":2}')
expect_eq "pin payments/ledger at 2: 200" "$(status_of "$out")" 200
check "...the reconciler holds payments/ledger at 2" lib_wait 15 \
    sim_spec_is payments ledger 2
out=$(call ADMIN PUT /api/v1/deployments/api/pin '{"replicas":2}')
expect_eq "pin default/api at 2 (unqualified route): 200" "$(status_of "$out")" 200
expect_eq "the pins file keeps each pin's namespace" \
    "$(jq_py '",".join(sorted(p["namespace"] + "/" + p["name"] + "=" + str(p["replicas"]) for p in j))' <"$LIB_TMP/pins.json")" \
    "default/api=2,payments/ledger=2"
out=$(call ADMIN GET /api/v1/pins)
expect_eq "GET /api/v1/pins: both namespaces, by namespace then name" \
    "$(field "$out" '",".join(p["namespace"] + "/" + p["name"] for p in j["pins"])')" \
    "default/api,payments/ledger"
out=$(call ADMIN GET $NSP/payments/pins)
expect_eq "GET …/payments/pins: payments' only" \
    "$(field "$out" '",".join(p["name"] for p in j["pins"])')" ledger
out=$(call PAYER GET /api/v1/pins)
expect_eq "the payments-only client sees only payments' pins" \
    "$(field "$out" '",".join(p["namespace"] + "/" + p["name"] for p in j["pins"])')" \
    "payments/ledger"
# Drift in payments is undone there, and nothing happens in default.
expect_eq "an external actor scales payments/ledger to 6" \
    "$(admin "scale?namespace=payments&name=ledger&replicas=6")" 200
check "...the pin brings it back to 2" lib_wait 15 \
    sim_spec_is payments ledger 2
out=$(call PAYER DELETE $NSP/default/deployments/api/pin)
expect_eq "the payments-only client cannot unpin in default: 403" \
    "$(status_of "$out")" 403
out=$(call ADMIN DELETE $NSP/payments/deployments/ledger/pin)
expect_eq "unpin payments/ledger: 200" "$(status_of "$out")" 200

# --- one namespace's API failure -------------------------------------------------
out=$(healthz)
expect_eq "healthz: 200 while both are healthy" "$(status_of "$out")" 200
expect_eq "...both namespaces listed, the default first" \
    "$(field "$out" '",".join(n["namespace"] + "=" + n["status"] for n in j["namespaces"])')" \
    "default=ok,payments=ok"
# payments' Role is gone: its list and watch are forbidden; ending every
# watch makes the core list again, which fails for payments alone.
expect_eq "kube-sim forbids listing deployments in payments" \
    "$(admin "deny?rule=list:deployments@payments")" 200
expect_eq "...and watching them" \
    "$(admin "deny?rule=watch:deployments@payments")" 200
expect_eq "kube-sim ends every watch" "$(admin watches/close)" 200
# ns_status NS: that namespace's status in /healthz's body.
ns_status() {
	healthz | sed '$d' |
	    jq_py "[n['status'] for n in j['namespaces'] if n['namespace'] == '$1'][0]"
}
payments_down() { [ "$(ns_status payments)" = unavailable ]; }
check "healthz reports payments unavailable" lib_wait 30 payments_down
out=$(healthz)
expect_eq "...and stays 200: the default namespace is healthy" \
    "$(status_of "$out")" 200
expect_eq "...default ok" "$(ns_status default)" ok
check "readyz stays 200" ready
out=$(call ADMIN GET /api/v1/deployments)
expect_eq "default's Deployments are still listed" \
    "$(field "$out" '",".join(j["deployments"])')" "api,web"
out=$(call ADMIN POST /api/v1/deployments/web/replicas '{"replicas":4}')
expect_eq "...and written: 200" "$(status_of "$out")" 200
expect_eq "...4 in the API server" "$(sim_spec default web)" 4
out=$(call ADMIN POST $NSP/payments/deployments/checkout/replicas '{"replicas":1}')
# The cache that was synced stays (as client-go's informers do): a write is
# still made, the API server deciding its preconditions, but its watch
# cannot confirm it in time.
expect_eq "a write in payments still reaches the API server: 200" \
    "$(status_of "$out")" 200
expect_eq "...answered \"synced\": false (its watch is down)" \
    "$(field "$out" 'j["synced"]')" False
expect_eq "...written" "$(sim_spec payments checkout)" 1
expect_eq "kube-sim grants payments again" "$(admin deny DELETE)" 200
payments_up() { [ "$(ns_status payments)" = ok ]; }
check "payments recovers" lib_wait 60 payments_up
out=$(call ADMIN GET $NSP/payments/deployments)
expect_eq "...and is listed again" \
    "$(field "$out" '",".join(j["deployments"])')" "checkout,ledger"

lib_finish
