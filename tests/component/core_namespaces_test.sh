#!/usr/bin/env bash
# core_namespaces_test.sh — one core serving several namespaces (issue
# #15): --namespaces and its refusals, one list+watch per namespace, list,
# get and scale in each, a namespace outside the set refused with the set
# named, LIST over every namespace sorted by namespace then name, HEALTH
# and metrics per namespace, an Event written in the Deployment's
# namespace, and one namespace whose list the API refuses (kube-sim
# deny rule list:deployments@NS: a 403 on every list of its Deployments)
# hiding neither the other namespace's Deployments nor its writes.  Every
# wait is a condition polled against a deadline.
. "$(dirname "$0")/core_lib.sh"
lib_init core-namespaces

SOCK=$LIB_TMP/core.sock
A=alpha
B=beta

# --- flags ---------------------------------------------------------------
# run_usage LABEL ENV... -- ARGS...: the core must exit 2 saying WHY.
usage_is() {
	local label=$1 why=$2 rc
	shift 2
	"$@" >"$LIB_TMP/u.out" 2>"$LIB_TMP/u.err"
	rc=$?
	expect_eq "$label: exit 2" "$rc" 2
	expect_match "$label: says why" "$(cat "$LIB_TMP/u.err")" "$why"
}
usage_is "--namespaces a,b,a" "namespace \"a\" is given twice" \
    "$CORE_BIN" --socket "$SOCK" --namespaces a,b,a
usage_is "--namespaces with a bad label" "\"Bad_ns\" is not a namespace" \
    "$CORE_BIN" --socket "$SOCK" --namespaces a,Bad_ns
usage_is "--namespaces with an empty item" "an empty namespace" \
    "$CORE_BIN" --socket "$SOCK" --namespaces a,,b
many=$(seq -s, -f 'ns%g' 1 33)
usage_is "33 namespaces" "more than 32 namespaces" \
    "$CORE_BIN" --socket "$SOCK" --namespaces "$many"
usage_is "REPLICAD_NAMESPACES checked too" "REPLICAD_NAMESPACES: namespace \"x\" is given twice" \
    env REPLICAD_NAMESPACES=x,x "$CORE_BIN" --socket "$SOCK"
usage_is "REPLICAD_WATCH_ALL_NAMESPACES is a boolean" \
    "REPLICAD_WATCH_ALL_NAMESPACES: 1" \
    env REPLICAD_WATCH_ALL_NAMESPACES=yes "$CORE_BIN" --socket "$SOCK"
"$CORE_BIN" --help >"$LIB_TMP/help.out" 2>&1
expect_match "--help names --namespaces" "$(cat "$LIB_TMP/help.out")" \
    "--namespaces NS\[,NS\.\.\.\]"

# --- two namespaces in kube-sim ------------------------------------------
ks_start --namespace "$A" --deployments web=3,db=2 --bookmark-interval-ms 500
# The second namespace's Deployments, created through the API.
mkdep() {
	ksend POST "/apis/apps/v1/namespaces/$1/deployments" application/json \
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",
	      \"metadata\":{\"name\":\"$2\",\"namespace\":\"$1\"},
	      \"spec\":{\"replicas\":$3,
	        \"selector\":{\"matchLabels\":{\"app\":\"$2\"}},
	        \"template\":{\"metadata\":{\"labels\":{\"app\":\"$2\"}},
	          \"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}" |
	    jq_py 'j["metadata"]["namespace"] + "/" + j["metadata"]["name"]'
}
expect_eq "kube-sim: $B/api created" "$(mkdep "$B" api 2)" "$B/api"
expect_eq "kube-sim: $B/web created" "$(mkdep "$B" web 1)" "$B/web"
spec() {
	kget "/apis/apps/v1/namespaces/$1/deployments/$2" |
	    jq_py 'j["spec"]["replicas"]'
}

lib_bg core "$CORE_BIN" --socket "$SOCK" --namespace "$A" \
    --namespaces "$A,$B" --kube-api "$KS_URL" --log-format json \
    --pin-file "$LIB_TMP/pins.json"
check "the core listens" lib_wait 20 test -S "$SOCK"
check "both namespaces sync" lib_wait 20 synced
expect_match "ping: the default namespace is the first served" \
    "$(ctl ping)" "\"namespace\":\"$A\""
expect_match "the start line names the namespaces served" \
    "$(cat "$LIB_TMP/core.err")" "\"namespaces\":\"$A, $B\""

# Reads, per namespace and over all.
expect_eq "list: the default namespace" "$(ctl list)" \
    '{"deployments":["db","web"]}'
expect_eq "list -n $B" "$(ctl --namespace "$B" list)" \
    '{"deployments":["api","web"]}'
expect_eq "list --all-namespaces: by namespace, then name" \
    "$(ctl --all-namespaces list)" \
    "{\"deployments\":[{\"namespace\":\"$A\",\"name\":\"db\"},{\"namespace\":\"$A\",\"name\":\"web\"},{\"namespace\":\"$B\",\"name\":\"api\"},{\"namespace\":\"$B\",\"name\":\"web\"}]}"
expect_eq "get web: the default namespace's" \
    "$(ctl get web | jq_py 'j["namespace"] + " " + str(j["replicas"])')" \
    "$A 3"
expect_eq "get -n $B web: the other one" \
    "$(ctl -n "$B" get web 2>&1 | jq_py 'j["namespace"] + " " + str(j["replicas"])')" \
    "$B 1"
expect_eq "get -n $B db: not found there" \
    "$(ctl --namespace "$B" get db 2>&1)" \
    "replicad-ctl: get db: not_found: deployment \"db\" not found in namespace \"$B\""

# A namespace outside the set: refused, the set named.
out=$(ctl --namespace gamma get web 2>&1)
rc=$?
expect_eq "get in a namespace not served: exit 1" "$rc" 1
expect_match "...NOT_FOUND naming the set" "$out" \
    "not_found: namespace \"gamma\" is not served by this replicad \(namespaces: $A, $B\)"
out=$(ctl --namespace gamma list 2>&1)
expect_match "list in a namespace not served: refused" "$out" \
    "namespace \"gamma\" is not served by this replicad"
out=$(ctl --namespace gamma scale web 1 2>&1)
expect_match "scale in a namespace not served: refused" "$out" \
    "namespace \"gamma\" is not served by this replicad"
expect_eq "...and nothing written in kube-sim's gamma" \
    "$(kcode /apis/apps/v1/namespaces/gamma/deployments/web)" 404

# Writes, per namespace.
out=$(ctl --namespace "$B" scale api 4)
expect_match "scale -n $B api 4" "$out" '"replicas":4.*"synced":true'
expect_eq "...written in $B" "$(spec "$B" api)" 4
out=$(ctl scale web 5)
expect_match "scale web 5 (the default namespace)" "$out" '"replicas":5'
expect_eq "...written in $A" "$(spec "$A" web)" 5
expect_eq "...$B/web untouched" "$(spec "$B" web)" 1
expect_eq "get -n $B api after the write" \
    "$(ctl -n "$B" get api | jq_py 'j["desired"]')" 4

# The Event of the write is in the Deployment's namespace.
ev_in() {
	kget "/apis/events.k8s.io/v1/namespaces/$1/events" |
	    jq_py "any(e['regarding']['name'] == '$2' and e['regarding']['namespace'] == '$1' for e in j['items'])"
}
check "the Event of $B/api is written in $B" lib_wait 10 \
    sh -c "[ \"\$(curl -s '$KS_URL/apis/events.k8s.io/v1/namespaces/$B/events' | python3 -c 'import json,sys; print(any(e[\"regarding\"][\"name\"] == \"api\" for e in json.load(sys.stdin)[\"items\"]))')\" = True ]"
expect_eq "...and none about api in $A" "$(ev_in "$A" api)" False

# Health and metrics per namespace.
h=$(ctl health)
expect_eq "health: healthy, both namespaces listed in order" \
    "$(printf '%s' "$h" | jq_py '[j["healthy"], [(n["namespace"], n["healthy"], n["cacheSize"]) for n in j["namespaces"]], j["cacheSize"]]')" \
    "[true,[[\"$A\",true,2],[\"$B\",true,2]],4]"
expect_eq "metrics: $B's cache size" \
    "$(metric_ns "$B" replicad_core_cache_deployments)" 2
expect_eq "metrics: $A synced" "$(metric_ns "$A" replicad_core_cache_synced)" 1
expect_eq "metrics: $B's writes" \
    "$(metric_ns "$B" 'replicad_core_writes_total{outcome="ok_synced"}')" 1
expect_eq "metrics: one list per namespace so far" \
    "$(metric_ns "$A" replicad_core_lists_total) $(metric_ns "$B" replicad_core_lists_total)" \
    "1 1"

# Pins per namespace: a pin in beta is kept there and reconciled there.
out=$(ctl -n "$B" pin web 2)
expect_match "pin -n $B web 2" "$out" '"replicas":2'
expect_eq "...in the pins file, in $B" \
    "$(jq_py '[(e["namespace"], e["name"], e["replicas"]) for e in j]' <"$LIB_TMP/pins.json")" \
    "[[\"$B\",\"web\",2]]"
check "...the reconciler scales $B/web to its pin" lib_wait 10 \
    sh -c "[ \"\$(curl -s '$KS_URL/apis/apps/v1/namespaces/$B/deployments/web' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"spec\"][\"replicas\"])')\" = 2 ]"
expect_eq "...$A/web keeps its count" "$(spec "$A" web)" 5
expect_eq "get -n $B web: pinned" \
    "$(ctl -n "$B" get web | jq_py '[j["pinned"], j["pinReplicas"]]')" \
    "[true,2]"
expect_eq "get web ($A): not pinned" \
    "$(ctl get web | jq_py 'j["pinned"]')" False
expect_eq "pins --all-namespaces" "$(ctl -A pins)" \
    "{\"pins\":[{\"namespace\":\"$B\",\"name\":\"web\",\"replicas\":2}]}"
expect_eq "pins ($A): none" "$(ctl pins)" '{"pins":[]}'
out=$(ctl -n gamma pin web 1 2>&1)
expect_match "pin in a namespace not served: refused" "$out" \
    "namespace \"gamma\" is not served by this replicad"
admin "scale?name=web&namespace=$B&replicas=4" >/dev/null
check "drift in $B undone" lib_wait 15 \
    sh -c "[ \"\$(curl -s '$KS_URL/apis/apps/v1/namespaces/$B/deployments/web' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"spec\"][\"replicas\"])')\" = 2 ]"
expect_match "...counted in $B's reconcile metrics" \
    "$(metric_ns "$B" 'replicad_core_reconcile_writes_total{outcome="ok"}')" \
    '^[1-9]'
out=$(ctl -n "$B" pin web --delete)
expect_match "unpin -n $B web" "$out" '"deleted":true'

kill -TERM "$LIB_LAST_PID"
check "the core exits on SIGTERM" lib_wait_pid "$LIB_LAST_PID" 15
lib_forget "$LIB_LAST_PID"

# --- one namespace's API failure -----------------------------------------
# Listing beta's Deployments (the list, and the probe's LIST limit=1) is
# refused 403, as with a Role missing in that namespace (kube-sim's deny
# rule scoped @beta); alpha's are untouched, and so is a GET of one
# object, which the test reads.
admin "deny?rule=list:deployments@$B" >/dev/null
lib_bg core2 "$CORE_BIN" --socket "$SOCK" --namespace "$A" \
    --namespaces "$A,$B" --kube-api "$KS_URL"
core2=$LIB_LAST_PID
check "core with $B failing listens" lib_wait 20 test -S "$SOCK"
check "...$A syncs" lib_wait 20 sh -c \
    "[ \"\$('$CTL_BIN' --socket '$SOCK' metrics | awk '\$1 == \"replicad_core_cache_synced{namespace=\\\"$A\\\"}\" {print \$2}')\" = 1 ]"
check "...$B's list failed at least once" lib_wait 20 sh -c \
    "[ \"\$('$CTL_BIN' --socket '$SOCK' metrics | awk '\$1 == \"replicad_core_list_failures_total{namespace=\\\"$B\\\"}\" {print \$2}')\" -ge 1 ]"
expect_eq "$B not synced" "$(metric_ns "$B" replicad_core_cache_synced)" 0
expect_eq "list: $A's Deployments are served" "$(ctl list)" \
    '{"deployments":["db","web"]}'
expect_eq "get web in $A" "$(ctl get web | jq_py 'j["replicas"]')" 5
out=$(ctl scale db 3)
expect_match "scale in $A works" "$out" '"replicas":3.*"synced":true'
expect_eq "...written" "$(spec "$A" db)" 3
out=$(ctl -n "$B" list 2>&1)
expect_match "list -n $B: unavailable, naming it" "$out" \
    "unavailable: cache not synced: the first list of namespace \"$B\""
out=$(ctl -n "$B" scale api 1 2>&1)
expect_match "scale in $B: unavailable (no write without its cache)" \
    "$out" "unavailable: cache not synced"
expect_eq "...nothing written" "$(spec "$B" api)" 4
expect_eq "list --all-namespaces: $A's, not hidden by $B" \
    "$(ctl -A list)" \
    "{\"deployments\":[{\"namespace\":\"$A\",\"name\":\"db\"},{\"namespace\":\"$A\",\"name\":\"web\"}]}"
h=$(ctl health)
rc=$?
expect_eq "health: the default namespace is healthy: exit 0" "$rc" 0
expect_eq "...top-level healthy, $B not" \
    "$(printf '%s' "$h" | jq_py '[j["healthy"], [(n["namespace"], n["healthy"]) for n in j["namespaces"]]]')" \
    "[true,[[\"$A\",true],[\"$B\",false]]]"
expect_match "...the message names $B" \
    "$(printf '%s' "$h" | jq_py 'j["message"]')" "^namespace $B: "
kill -TERM "$core2"
check "...exits on SIGTERM" lib_wait_pid "$core2" 15
lib_forget "$core2"

# The failing namespace first: it is the default, the core is unhealthy.
lib_bg core3 "$CORE_BIN" --socket "$SOCK" --namespace "$A" \
    --namespaces "$B,$A" --kube-api "$KS_URL"
core3=$LIB_LAST_PID
check "core with the failing namespace as default listens" \
    lib_wait 20 test -S "$SOCK"
check "...its health fails (exit 4)" lib_wait 20 sh -c \
    "'$CTL_BIN' --socket '$SOCK' health >/dev/null; [ \$? = 4 ]"
check "...while $A syncs" lib_wait 20 sh -c \
    "'$CTL_BIN' --socket '$SOCK' -n '$A' get web >/dev/null"
expect_eq "ping: the default is $B" "$(ctl ping | jq_py 'j["namespace"]')" "$B"
h=$(ctl health)
expect_eq "...the per-namespace states" \
    "$(printf '%s' "$h" | jq_py '[j["healthy"], [(n["namespace"], n["healthy"]) for n in j["namespaces"]]]')" \
    "[false,[[\"$B\",false],[\"$A\",true]]]"
kill -TERM "$core3"
check "...exits on SIGTERM" lib_wait_pid "$core3" 15
lib_forget "$core3"

# --- --watch-all-namespaces ----------------------------------------------
# Namespaced watches of Deployments refused (the faults above cleared):
# only the watch across namespaces can keep this core's caches fed.
admin deny DELETE >/dev/null
admin faults DELETE >/dev/null
admin "faults?method=GET&verb=watch&path=/apis/apps/v1/namespaces/*/deployments&status=403&count=1000000" >/dev/null
expect_eq "kube-sim: gamma/web created (a namespace not served)" \
    "$(mkdep gamma web 7)" gamma/web
lib_bg core4 "$CORE_BIN" --socket "$SOCK" --namespace "$A" \
    --namespaces "$A,$B" --watch-all-namespaces --kube-api "$KS_URL"
core4=$LIB_LAST_PID
check "core watching all namespaces listens" lib_wait 20 test -S "$SOCK"
check "...both namespaces sync from one list" lib_wait 20 synced
expect_match "...it says so" "$(cat "$LIB_TMP/core4.err")" \
    "watching Deployments and HPAs across all namespaces, serving $A, $B"
check "...its watch is connected (across namespaces)" lib_wait 20 sh -c \
    "'$CTL_BIN' --socket '$SOCK' health | grep -q '\"watchConnected\":true'"
expect_eq "list --all-namespaces: gamma's Deployment ignored" \
    "$(ctl -A list)" \
    "{\"deployments\":[{\"namespace\":\"$A\",\"name\":\"db\"},{\"namespace\":\"$A\",\"name\":\"web\"},{\"namespace\":\"$B\",\"name\":\"api\"},{\"namespace\":\"$B\",\"name\":\"web\"}]}"
expect_eq "get -n $B api" "$(ctl -n "$B" get api | jq_py 'j["desired"]')" 4
check "metrics: gamma's Deployment counted as ignored" \
    metric_ge replicad_core_watch_ignored_total 1
expect_eq "kube-sim: $B/new created" "$(mkdep "$B" new 1)" "$B/new"
check "...seen in $B through the watch across namespaces" lib_wait 10 \
    sh -c "'$CTL_BIN' --socket '$SOCK' -n '$B' get new >/dev/null"
expect_eq "...not in $A" "$(ctl get new 2>&1)" \
    "replicad-ctl: get new: not_found: deployment \"new\" not found in namespace \"$A\""
out=$(ctl -n "$B" scale web 2)
expect_match "scale -n $B web 2: written and synced through the shared watch" \
    "$out" '"replicas":2.*"synced":true'
expect_eq "...$A/web untouched" "$(spec "$A" web)" 5
# An HPA in beta, seen by the HPA watch across namespaces.
ksend POST "/apis/autoscaling/v2/namespaces/$B/horizontalpodautoscalers" \
    application/json \
    "{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\",
      \"metadata\":{\"name\":\"api-hpa\",\"namespace\":\"$B\"},
      \"spec\":{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\",
        \"kind\":\"Deployment\",\"name\":\"api\"},
        \"minReplicas\":1,\"maxReplicas\":5}}" >/dev/null
check "the HPA of $B/api is seen" lib_wait 10 sh -c \
    "'$CTL_BIN' --socket '$SOCK' -n '$B' get api | grep -q '\"autoscaler\"\\|api-hpa' ||
     '$CTL_BIN' --socket '$SOCK' -n '$B' scale api 3 2>&1 | grep -q autoscal"
out=$(ctl -n "$B" scale api 3 2>&1)
expect_match "scale -n $B api: refused, the HPA named" "$out" "api-hpa"
out=$(ctl scale web 5 2>&1)
expect_match "...while $A/web (no HPA) scales" "$out" '"replicas":5'
expect_eq "metrics: $B's HPAs" "$(metric_ns "$B" replicad_core_hpas)" 1
expect_eq "metrics: $A's HPAs" "$(metric_ns "$A" replicad_core_hpas)" 0
kill -TERM "$core4"
check "...exits on SIGTERM" lib_wait_pid "$core4" 15
lib_forget "$core4"

lib_finish
