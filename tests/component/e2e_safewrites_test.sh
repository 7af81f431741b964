#!/usr/bin/env bash
# e2e_safewrites_test.sh — writes an operator can trust (issue #14), end
# to end: kube-sim (HTTPS + token), replicad-core, replicad-gateway (mutual
# TLS) and curl.  Each answer code of a conditional write, a dry run that
# changes nothing in the API server, per-Deployment bounds from
# annotations (client writes, pins and the reconciler), and a pin
# suspended by annotation.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init e2e-safewrites

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
    --deployments web=3,api=2,batch=1,fixed=4 --controller-delay-ms 50 \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"

sim() {
	curl -s --cacert "$KS_CA" -H "Authorization: Bearer $TOKEN" "$@"
}
sim_rv() { sim "$KS_URL$DEPS/$1" | jq_py 'j["metadata"]["resourceVersion"]'; }
sim_spec() { sim "$KS_URL$DEPS/$1" | jq_py 'j["spec"]["replicas"]'; }
annotate() {
	sim -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
	    -d "{\"metadata\":{\"annotations\":$2}}" "$KS_URL$DEPS/$1"
}

lib_bg core "$BUILD/replicad-core" --socket "$SOCK" --namespace "$NS" \
    --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
    --kube-ca-file "$KS_CA" --pin-file "$LIB_TMP/pins.json"
GW_PORT=$(lib_free_port)
PROBE_PORT=$(lib_free_port)
lib_bg gateway "$BUILD/replicad-gateway" --listen "127.0.0.1:$GW_PORT" \
    --probe-listen "127.0.0.1:$PROBE_PORT" --core-socket "$SOCK" \
    --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" \
    --client-ca "$PKI/ca.crt" --allow-write CN=replicad-admin
GW=https://localhost:$GW_PORT
C=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")

api() { curl -s "${C[@]}" "$@"; }
# post PATH BODY [curl args...]: the answer's body, then its status on the
# last line.
post() {
	local path=$1 body=$2
	shift 2
	api -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
	    -d "$body" "$@" "$GW$path"
}
put() {
	local path=$1 body=$2
	shift 2
	api -w '\n%{http_code}' -X PUT -H 'Content-Type: application/json' \
	    -d "$body" "$@" "$GW$path"
}
status_of() { printf '%s\n' "$1" | tail -n 1; }
body_of() { printf '%s\n' "$1" | sed '$d'; }
field() { body_of "$1" | jq_py "$2"; }
ready() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$PROBE_PORT/readyz")" = 200 ]
}
gw_spec_is() {
	[ "$(api "$GW/api/v1/deployments/$1/replicas" | jq_py 'j["replicas"]')" = "$2" ]
}
sim_spec_is() { [ "$(sim_spec "$1")" = "$2" ]; }

check "chain is ready" lib_wait 30 ready

# --- ETag and If-Match -------------------------------------------------------
etag=$(api -D - -o /dev/null "$GW/api/v1/deployments/web/replicas" |
    tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
rv=$(sim_rv web)
expect_eq "GET replicas answers ETag: \"<resourceVersion>\"" "$etag" "\"$rv\""

# Someone else writes web (its resourceVersion moves on): the tag the
# client read is now old.
sim -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{"metadata":{"labels":{"touched":"yes"}}}' "$KS_URL$DEPS/web"
etag_moved() { [ "$(api -D - -o /dev/null "$GW/api/v1/deployments/web/replicas" |
    tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')" != "$etag" ]; }
check "the gateway sees the new version" lib_wait 20 etag_moved
out=$(post /api/v1/deployments/web/replicas '{"replicas":4}' \
    -H "If-Match: $etag")
expect_eq "If-Match with an old resourceVersion: 412" "$(status_of "$out")" 412
expect_eq "...reason precondition_failed" \
    "$(field "$out" 'j["error"]')" precondition_failed
expect_eq "...the API server kept 3" "$(sim_spec web)" 3

etag=\"$(sim_rv web)\"
out=$(post /api/v1/deployments/web/replicas '{"replicas":4}' -H "If-Match: $etag")
expect_eq "If-Match with the current resourceVersion: 200" \
    "$(status_of "$out")" 200
expect_eq "...the API server has 4" "$(sim_spec web)" 4
out=$(post /api/v1/deployments/web/replicas '{"replicas":6}' -H "If-Match: $etag")
expect_eq "the same If-Match again (now stale): 412" "$(status_of "$out")" 412
expect_eq "...naming the version it has now" \
    "$(field "$out" 'j.get("resourceVersion")')" "$(sim_rv web)"
out=$(post /api/v1/deployments/web/replicas '{"replicas":4}' \
    -H 'If-Match: W/"x"')
expect_eq "a weak If-Match never matches: 412" "$(status_of "$out")" 412
out=$(post /api/v1/deployments/web/replicas '{"replicas":4}' -H 'If-Match: *')
expect_eq "If-Match: * is no version condition: 200" "$(status_of "$out")" 200

# --- expectedReplicas --------------------------------------------------------
out=$(post /api/v1/deployments/api/replicas '{"replicas":5,"expectedReplicas":3}')
expect_eq "expectedReplicas 3 when it has 2: 409" "$(status_of "$out")" 409
expect_eq "...reason precondition_failed" \
    "$(field "$out" 'j["error"]')" precondition_failed
expect_eq "...with the current count" \
    "$(field "$out" 'j.get("currentReplicas")')" 2
expect_eq "...the API server kept 2" "$(sim_spec api)" 2
out=$(post /api/v1/deployments/api/replicas '{"replicas":5,"expectedReplicas":2}')
expect_eq "expectedReplicas 2 when it has 2: 200" "$(status_of "$out")" 200
expect_eq "...the API server has 5" "$(sim_spec api)" 5

# --- dry run -----------------------------------------------------------------
rv=$(sim_rv batch)
out=$(post '/api/v1/deployments/batch/replicas?dryRun=true' '{"replicas":9}')
expect_eq "dry-run POST: 200" "$(status_of "$out")" 200
expect_eq "...says it was a dry run" "$(field "$out" 'j.get("dryRun")')" True
expect_eq "...the API server still has 1" "$(sim_spec batch)" 1
expect_eq "...and the same resourceVersion" "$(sim_rv batch)" "$rv"
out=$(post '/api/v1/deployments/batch/replicas?dryRun=true' \
    '{"replicas":9,"expectedReplicas":4}')
expect_eq "a dry run still checks expectedReplicas: 409" "$(status_of "$out")" 409
out=$(post '/api/v1/deployments/nosuch/replicas?dryRun=true' '{"replicas":1}')
expect_eq "a dry run of an unknown deployment: 404 from the API server" \
    "$(status_of "$out")" 404
out=$(put '/api/v1/deployments/batch/pin?dryRun=true' '{"replicas":2}')
expect_eq "dry-run PUT pin: 200" "$(status_of "$out")" 200
expect_eq "...no pin was stored" \
    "$(api -o /dev/null -w '%{http_code}' "$GW/api/v1/deployments/batch/pin")" 404
expect_eq "...and batch is not scaled" "$(sim_spec batch)" 1

# --- bounds from annotations ------------------------------------------------
annotate fixed '{"replicad.io/min-replicas":"2","replicad.io/max-replicas":"6"}'
bounded() {
	[ "$(api "$GW/api/v1/deployments/fixed/replicas" | jq_py 'j.get("maxReplicas")')" = 6 ]
}
check "GET shows the bounds once the watch brings them" lib_wait 20 bounded
out=$(post /api/v1/deployments/fixed/replicas '{"replicas":7}')
expect_eq "above replicad.io/max-replicas: 422" "$(status_of "$out")" 422
expect_eq "...reason out_of_bounds" "$(field "$out" 'j["error"]')" out_of_bounds
expect_match "...naming the bound" "$(field "$out" 'j["message"]')" "maximum 6"
out=$(post /api/v1/deployments/fixed/replicas '{"replicas":1}')
expect_eq "below replicad.io/min-replicas: 422" "$(status_of "$out")" 422
out=$(post /api/v1/deployments/fixed/replicas '{"replicas":6}')
expect_eq "at the maximum: 200" "$(status_of "$out")" 200
out=$(put /api/v1/deployments/fixed/pin '{"replicas":9}')
expect_eq "a pin above the maximum: 422" "$(status_of "$out")" 422
out=$(put /api/v1/deployments/fixed/pin '{"replicas":5}')
expect_eq "a pin inside the bounds: 200" "$(status_of "$out")" 200
check "the pin scales fixed to 5" lib_wait 20 sim_spec_is fixed 5
annotate fixed '{"replicad.io/max-replicas":"3"}'
check "a maximum lowered under the pin: the reconciler stops at 3" \
    lib_wait 20 sim_spec_is fixed 3
expect_eq "unpin fixed" "$(api -o /dev/null -w '%{http_code}' -X DELETE \
    "$GW/api/v1/deployments/fixed/pin")" 200
annotate fixed '{"replicad.io/max-replicas":"many"}'
invalid() {
	[ "$(api "$GW/api/v1/deployments/fixed/replicas" | jq_py 'j.get("boundsInvalid")')" = True ]
}
check "an invalid bound shows in GET" lib_wait 20 invalid
out=$(post /api/v1/deployments/fixed/replicas '{"replicas":3}')
expect_eq "...and every write is refused: 422" "$(status_of "$out")" 422

# --- a pin suspended by annotation ------------------------------------------
out=$(put /api/v1/deployments/batch/pin '{"replicas":2}')
expect_eq "pin batch to 2" "$(status_of "$out")" 200
check "the pin scales batch to 2" lib_wait 20 sim_spec_is batch 2
annotate batch '{"replicad.io/pin-suspended":"true"}'
suspended() {
	[ "$(api "$GW/api/v1/deployments/batch/replicas" | jq_py 'j.get("pinSuspendedBy")')" = annotation ]
}
check "GET shows the pin suspended by the annotation" lib_wait 20 suspended
sim -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{"spec":{"replicas":7}}' "$KS_URL$DEPS/batch/scale"
check "drift to 7 reaches the gateway" lib_wait 20 gw_spec_is batch 7
# A barrier: a write through the same core and API after the drift was
# cached.  A reconcile write would have been due at once, before it.
out=$(post /api/v1/deployments/api/replicas '{"replicas":3}')
expect_eq "a write after the drift was seen" "$(status_of "$out")" 200
expect_eq "...the suspended pin did not scale batch back" "$(sim_spec batch)" 7
annotate batch '{"replicad.io/pin-suspended":null}'
check "suspension lifted: the pin scales batch back to 2" \
    lib_wait 20 sim_spec_is batch 2

# --- a pin stored suspended ------------------------------------------------
out=$(put /api/v1/deployments/web/pin '{"replicas":2,"suspended":true}')
expect_eq "PUT pin suspended: 200" "$(status_of "$out")" 200
expect_eq "...the answer says so" "$(field "$out" 'j.get("suspendedBy")')" pin
expect_eq "GET pin: suspended by the pin" \
    "$(api "$GW/api/v1/deployments/web/pin" | jq_py 'j.get("suspendedBy")')" pin
expect_match "the pins file keeps it" "$(cat "$LIB_TMP/pins.json")" \
    '"suspended": true'
web_now=$(sim_spec web)
expect_eq "web is not at the pin's count (so the next check means something)" \
    "$web_now" 4
out=$(post /api/v1/deployments/api/replicas '{"replicas":3}')
expect_eq "a write after the suspended pin (barrier)" "$(status_of "$out")" 200
expect_eq "...the suspended pin did not scale web to 2" "$(sim_spec web)" "$web_now"
out=$(put /api/v1/deployments/web/pin '{"replicas":2}')
expect_eq "PUT pin without suspended resumes it: 200" "$(status_of "$out")" 200
check "...and web is scaled to its pin" lib_wait 20 sim_spec_is web 2
expect_eq "unpin web" "$(api -o /dev/null -w '%{http_code}' -X DELETE \
    "$GW/api/v1/deployments/web/pin")" 200

# --- an HPA targets api: refused unless force, never fought -----------------
HPAS=/apis/autoscaling/v2/namespaces/$NS/horizontalpodautoscalers
expect_eq "kube-sim creates an HPA for api" "$(sim -o /dev/null -w '%{http_code}' \
    -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"autoscaling/v2",
    "kind":"HorizontalPodAutoscaler","metadata":{"name":"api-hpa"},
    "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment",
    "name":"api"},"minReplicas":1,"maxReplicas":5}}' "$KS_URL$HPAS")" 201
autoscaled() {
	[ "$(api "$GW/api/v1/deployments/api/replicas" | jq_py 'j.get("autoscaledBy")')" = api-hpa ]
}
check "GET shows autoscaledBy" lib_wait 20 autoscaled
out=$(post /api/v1/deployments/api/replicas '{"replicas":4}')
expect_eq "a write to an autoscaled deployment: 409" "$(status_of "$out")" 409
expect_eq "...reason autoscaled" "$(field "$out" 'j["error"]')" autoscaled
expect_eq "...naming the HPA" "$(field "$out" 'j.get("autoscaler")')" api-hpa
expect_eq "...the API server kept 3" "$(sim_spec api)" 3
out=$(post /api/v1/deployments/api/replicas '{"replicas":4,"force":true}')
expect_eq "...with force: 200" "$(status_of "$out")" 200
expect_eq "...the API server has 4" "$(sim_spec api)" 4
out=$(put /api/v1/deployments/api/pin '{"replicas":2}')
expect_eq "a pin on an autoscaled deployment: 409" "$(status_of "$out")" 409
out=$(put /api/v1/deployments/api/pin '{"replicas":2,"force":true}')
expect_eq "...with force: 200, stored" "$(status_of "$out")" 200
expect_eq "...and said to be suspended by the autoscaler" \
    "$(field "$out" 'j.get("suspendedBy")')" autoscaler
expect_eq "GET replicas: pinSuspendedBy autoscaler" \
    "$(api "$GW/api/v1/deployments/api/replicas" | jq_py 'j.get("pinSuspendedBy")')" autoscaler
# The HPA (here: someone in its place) scales api; the pin must not fight.
sim -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{"spec":{"replicas":5}}' "$KS_URL$DEPS/api/scale"
check "the autoscaler's 5 reaches the gateway" lib_wait 20 gw_spec_is api 5
out=$(post /api/v1/deployments/web/replicas '{"replicas":2}')
expect_eq "a write after the autoscaler's was seen (barrier)" \
    "$(status_of "$out")" 200
expect_eq "...the pin did not fight the HPA" "$(sim_spec api)" 5
expect_match "metrics count the pin as suspended by the autoscaler" \
    "$(curl -s "http://127.0.0.1:$PROBE_PORT/metrics")" \
    'replicad_core_pins_suspended\{namespace="default",reason="autoscaler"\} 1'
expect_eq "kube-sim deletes the HPA" "$(sim -o /dev/null -w '%{http_code}' \
    -X DELETE "$KS_URL$HPAS/api-hpa")" 200
check "without the HPA the pin holds api at 2 again" \
    lib_wait 20 sim_spec_is api 2

# --- Kubernetes Events on the Deployments -----------------------------------
EVENTS=/apis/events.k8s.io/v1/namespaces/$NS/events
# event REASON OBJECT: the note of the newest Event of that reason about it.
event_note() {
	sim "$KS_URL$EVENTS" | python3 -c '
import json, sys
items = [e for e in json.load(sys.stdin)["items"]
         if e.get("reason") == sys.argv[1]
         and e.get("regarding", {}).get("name") == sys.argv[2]]
items.sort(key=lambda e: e["metadata"]["resourceVersion"])
print(json.dumps(items[-1], sort_keys=True) if items else "")' "$1" "$2"
}
# note REASON OBJECT: just its note.
note_of() { event_note "$1" "$2" | jq_py 'j["note"]'; }
has_event() { [ -n "$(event_note "$1" "$2")" ]; }
check "a client's write is an Event (Scaled) on the Deployment" \
    lib_wait 20 has_event Scaled web
ev=$(event_note Scaled web)
expect_match "...its note names the counts and the client" \
    "$(note_of Scaled web)" \
    '^scaled [0-9]+ → [0-9]+ by replicad-admin \(replicad\)$'
expect_match "...reportingController replicad.io/core" "$ev" \
    '"reportingController": "replicad.io/core"'
expect_match "...about the Deployment, with its uid" "$ev" \
    '"regarding": \{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "default", "resourceVersion": "[0-9]+", "uid": "[^"]+"'
check "a pin set is an Event (PinSet)" lib_wait 20 has_event PinSet batch
check "a pin removed is an Event (PinRemoved)" lib_wait 20 has_event PinRemoved fixed
check "the reconciler's writes are Events (Reconciled)" \
    lib_wait 20 has_event Reconciled batch
check "a pin held at a bound is a Warning (PinOutOfBounds)" \
    lib_wait 20 has_event PinOutOfBounds fixed
expect_eq "a dry run made no Event" "$(event_note Scaled batch)" ""

# The API refuses Events (a Role without them): writes go on, the loss
# is counted, nothing is retried forever.
failed_events() {
	curl -s "http://127.0.0.1:$PROBE_PORT/metrics" |
	    awk '$1 == "replicad_core_events_dropped_total{reason=\"failed\"}" { print $2 }'
}
failed_before=$(failed_events)
expect_match "kube-sim refuses Event creates (403)" \
    "$(sim -X POST "$KS_URL/_sim/deny?rule=create:events")" ok
out=$(post /api/v1/deployments/web/replicas '{"replicas":3}')
expect_eq "a write while Events are refused: 200" "$(status_of "$out")" 200
events_failed_grew() { [ "$(failed_events)" -gt "$failed_before" ]; }
check "...and the lost Event is counted" lib_wait 20 events_failed_grew
sim -o /dev/null -X DELETE "$KS_URL/_sim/deny"

lib_finish
