#!/usr/bin/env bash
# core_pins_cm_test.sh — pins kept in a ConfigMap (--pin-configmap) and
# shared by two replicad-cores (A and B: two sockets, one ConfigMap)
# against kube-sim, driven with replicad-ctl and curl:
#
#   flags; no ConfigMap → no pins, the first pin creates it (labelled);
#   a pin through A is in the ConfigMap and reaches B; the pinned
#   Deployment is scaled and held by the one core that holds the Lease
#   (both run leader election, as the chart runs them); a change
#   made in the ConfigMap by hand reaches both; many pins through A and B
#   at once, none lost (409 → re-read → retry); an invalid document: the
#   last good pins are kept, a warning logged, changes refused until it is
#   fixed; DELETE of the ConfigMap → no pins; a 503 on the write → the
#   client gets unavailable and nothing changed anywhere; a 409 on it →
#   re-read and retried; a restarted core loads the pins; a core whose
#   Role lacks configmaps permissions answers "pins not loaded yet" until
#   it has them.
#
# CORE_WRAPPER runs every core under a tool.  Every wait is a condition
# polled against a deadline.
. "$(dirname "$0")/core_lib.sh"
lib_init core-pins-cm

NS=shop
CM=replicad-pins
CMS=/api/v1/namespaces/$NS/configmaps
CMPATH=$CMS/$CM
DEPS=/apis/apps/v1/namespaces/$NS/deployments
SOCK_A=$LIB_TMP/a.sock
SOCK_B=$LIB_TMP/b.sock

# core_lib.sh's helpers work on $SOCK: one core at a time.
ctl_a() { SOCK=$SOCK_A ctl "$@"; }
ctl_b() { SOCK=$SOCK_B ctl "$@"; }
metric_at() { SOCK=$1 metric "$2"; } # SOCK NAME
synced_at() { SOCK=$1 synced; }      # SOCK

spec_is() {
	[ "$(kget "$DEPS/$1" | jq_py 'j["spec"]["replicas"]')" = "$2" ]
}

# The ConfigMap's pins as "name=N ..." sorted (namespace shop only), or
# "absent".
cm_pins() {
	kget "$CMPATH" | python3 -c '
import json, sys
j = json.load(sys.stdin)
if j.get("kind") != "ConfigMap":
    print("absent"); sys.exit(0)
d = json.loads(j["data"]["pins.json"])
print(" ".join(sorted("%s=%d" % (e["name"], e["replicas"]) for e in d
                      if e["namespace"] == "shop")))'
}

# A core's pins in the same form.
core_pins() { # SOCK
	"$CTL_BIN" --socket "$1" pins | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(" ".join(sorted("%s=%d" % (p["name"], p["replicas"]) for p in j["pins"])))'
}

pins_are() { # SOCK "name=N ..."
	[ "$(core_pins "$1")" = "$2" ]
}

cm_is() {
	[ "$(cm_pins)" = "$1" ]
}

# Replaces data["pins.json"] as a person with kubectl would (GET, edit,
# PUT with the resourceVersion just read); prints the HTTP status.
cm_edit() { # DOC
	kget "$CMPATH" | python3 -c '
import json, sys, urllib.request
j = json.load(sys.stdin)
j.setdefault("data", {})["pins.json"] = sys.argv[2]
r = urllib.request.Request(sys.argv[1], data=json.dumps(j).encode(),
    method="PUT", headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(r).status)
except urllib.error.HTTPError as e:
    print(e.code)' "$KS_URL$CMPATH" "$1"
}

RUN=0
start_core() { # A|B ARGS...
	local which=$1 sock
	shift
	RUN=$((RUN + 1))
	if [ "$which" = A ]; then sock=$SOCK_A; else sock=$SOCK_B; fi
	# shellcheck disable=SC2086 # the wrapper is a command line
	lib_bg "core$RUN" ${CORE_WRAPPER:-} "$CORE_BIN" --socket "$sock" \
	    --namespace "$NS" --kube-api "$KS_URL" --pin-configmap "$CM" \
	    --lease-name replicad-reconciler --identity "core-$which" "$@"
	eval "PID_$which=$LIB_LAST_PID LOG_$which=$LIB_TMP/core$RUN.err"
}

stop_core() { # A|B
	local pid
	eval "pid=\$PID_$1"
	kill -TERM "$pid"
	check "core $1 exits" lib_wait_pid "$pid" 30
	lib_forget "$pid"
}

# ---------------------------------------------------------------- flags
out=$("$CORE_BIN" --socket "$LIB_TMP/x.sock" --kube-api http://127.0.0.1:1 \
    --pin-file "$LIB_TMP/p.json" --pin-configmap "$CM" 2>&1)
expect_eq "--pin-file with --pin-configmap: usage error (2)" "$?" 2
expect_match "…saying they are exclusive" "$out" \
    'pin-file and --pin-configmap are exclusive'
out=$(REPLICAD_PIN_CONFIGMAP=Bad_Name "$CORE_BIN" --socket "$LIB_TMP/x.sock" \
    --kube-api http://127.0.0.1:1 2>&1)
expect_eq "REPLICAD_PIN_CONFIGMAP not a DNS-1123 subdomain: 2" "$?" 2
expect_match "…saying so" "$out" 'pin-configmap: not a DNS-1123 subdomain'

ks_start --namespace "$NS" --deployments frontend=3,orders=2,worker=1 \
    --generate 24 --controller-delay-ms 50

# ------------------------------------- no ConfigMap: no pins, both cores
start_core A
start_core B
check "core A syncs" lib_wait 20 synced_at "$SOCK_A"
check "core B syncs" lib_wait 20 synced_at "$SOCK_B"
check "A: pins loaded (no ConfigMap: none)" lib_wait 20 pins_are "$SOCK_A" ""
check "B: pins loaded (none)" lib_wait 20 pins_are "$SOCK_B" ""
expect_eq "no ConfigMap in kube-sim" "$(kcode "$CMPATH")" 404
expect_eq "pins_loaded gauge" "$(metric_at "$SOCK_A" replicad_core_pins_loaded)" 1
expect_match "A logged where its pins are" "$(cat "$LOG_A")" \
    'pins: loaded 0 from ConfigMap shop/replicad-pins \(no ConfigMap yet'

# --------------------------------------- pin through A: created, seen by B
expect_eq "pin frontend 5 through A" \
    "$(ctl_a --identity alice pin frontend 5)" \
    '{"name":"frontend","replicas":5}'
expect_eq "the ConfigMap holds it" "$(cm_pins)" "frontend=5"
expect_eq "…created with the managed-by label" \
    "$(kget "$CMPATH" | jq_py 'j["metadata"]["labels"]')" \
    '{"app.kubernetes.io/managed-by":"replicad"}'
expect_eq "…as RFD 180722's document" \
    "$(kget "$CMPATH" | jq_py 'json.loads(j["data"]["pins.json"])')" \
    '[{"name":"frontend","namespace":"shop","replicas":5}]'
expect_eq "A answers from memory at once" "$(core_pins "$SOCK_A")" "frontend=5"
check "B lists it (from its watch)" lib_wait 10 pins_are "$SOCK_B" "frontend=5"
expect_match "B's get shows the pin" "$(ctl_b get frontend)" \
    '"pinned":true,"pinReplicas":5'
expect_match "the change is audited on A" "$(cat "$LOG_A")" \
    'audit=pin identity=alice peer_uid=[0-9]+ deployment=frontend old=none new=5 outcome=ok'
expect_match "B's SCALE of it to another count: conflict" \
    "$(ctl_b scale frontend 7 2>&1)" 'conflict: .*pinned to 5 replicas'

# ------------------------------------------------------------ reconcile
# Both cores elect a leader on one Lease, as the chart runs them: only the
# holder scales Deployments back to their pins.
leads() { [ "$(metric_at "$1" replicad_core_leader)" = 1 ]; }
one_leader() {
	if leads "$SOCK_A"; then ! leads "$SOCK_B"; else leads "$SOCK_B"; fi
}
check "exactly one of A and B leads" lib_wait 30 one_leader
if leads "$SOCK_A"; then
	LEAD_LOG=$LOG_A OTHER_LOG=$LOG_B
else
	LEAD_LOG=$LOG_B OTHER_LOG=$LOG_A
fi
check "frontend is scaled to its pin" lib_wait 20 spec_is frontend 5
admin "scale?name=frontend&replicas=9" >/dev/null
check "drift to 9 is scaled back to 5" lib_wait 20 spec_is frontend 5
check "…by the leader (audited)" lib_wait 10 grep -q \
    'identity=replicad:reconciler peer_uid=self deployment=frontend old=9 new=5 outcome=ok' \
    "$LEAD_LOG"
check "…and never by the other core" sh -c \
    "! grep -q 'identity=replicad:reconciler' '$OTHER_LOG'"

# ------------------------------------------- a change made by hand (kubectl)
expect_eq "edit the ConfigMap by hand (PUT with its RV)" "$(cm_edit \
    '[{"name":"orders","namespace":"shop","replicas":4},
      {"name":"frontend","namespace":"shop","replicas":5},
      {"name":"web","namespace":"elsewhere","replicas":2}]')" 200
check "A sees it" lib_wait 10 pins_are "$SOCK_A" "frontend=5 orders=4"
check "B sees it" lib_wait 10 pins_are "$SOCK_B" "frontend=5 orders=4"
check "orders is scaled to its new pin" lib_wait 20 spec_is orders 4

# -------------------------------- many pins through A and B at once: none lost
# Every API request is held 20 ms, so that the two cores' read-modify-
# writes overlap and conflict.
admin "latency?ms=20" >/dev/null
pids=""
for i in $(seq 1 12); do
	n=$(printf 'gen-%05d' "$i")
	m=$(printf 'gen-%05d' $((i + 12)))
	(ctl_a --identity a pin "$n" 2 >"$LIB_TMP/pa.$i" 2>&1; echo $? >>"$LIB_TMP/pa.$i") &
	pids="$pids $!"
	(ctl_b --identity b pin "$m" 3 >"$LIB_TMP/pb.$i" 2>&1; echo $? >>"$LIB_TMP/pb.$i") &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
admin "latency?ms=0" >/dev/null
check "all 24 concurrent pins answered ok" sh -c \
    "[ \"\$(cat '$LIB_TMP'/pa.* '$LIB_TMP'/pb.* | grep -c '^0$')\" = 24 ]"
want="frontend=5 orders=4"
for i in $(seq 1 12); do want="$want $(printf 'gen-%05d=2' "$i")"; done
for i in $(seq 13 24); do want="$want $(printf 'gen-%05d=3' "$i")"; done
want=$(echo "$want" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "the ConfigMap holds every one of them" "$(cm_pins)" "$want"
check "A lists all of them" lib_wait 10 pins_are "$SOCK_A" "$want"
check "B lists all of them" lib_wait 10 pins_are "$SOCK_B" "$want"
expect_eq "the other namespace's entry was kept" \
    "$(kget "$CMPATH" | jq_py \
    '[e for e in json.loads(j["data"]["pins.json"]) if e["namespace"] != "shop"]')" \
    '[{"name":"web","namespace":"elsewhere","replicas":2}]'
conflicts=$(( $(metric_at "$SOCK_A" replicad_core_pin_store_conflicts_total) + \
    $(metric_at "$SOCK_B" replicad_core_pin_store_conflicts_total) ))
lib_log "conflicting writes re-read and retried: $conflicts"
if [ "$conflicts" -gt 0 ]; then
	check "conflicts were logged as re-reads" sh -c "grep -q \
	    'changed since it was read; reading it again' '$LOG_A' '$LOG_B'"
fi

# ---------------------------- an invalid document: last good pins are kept
expect_eq "write an invalid document by hand" \
    "$(cm_edit '[{"name":"orders","namespace":"shop","replicas":-1}]')" 200
check "A logs a warning" lib_wait 10 grep -q \
    'pins: ConfigMap shop/replicad-pins (changed) holds an invalid document: entry 1: replicas' \
    "$LOG_A"
check "B logs a warning" lib_wait 10 grep -q 'holds an invalid document' "$LOG_B"
expect_eq "A keeps the last good pins" "$(core_pins "$SOCK_A")" "$want"
expect_eq "B keeps the last good pins" "$(core_pins "$SOCK_B")" "$want"
expect_eq "the invalid gauge says so" \
    "$(metric_at "$SOCK_B" replicad_core_pin_store_invalid)" 1
expect_match "a change is refused until it is fixed" \
    "$(ctl_a pin worker 2 2>&1)" \
    'conflict: pin not stored: ConfigMap shop/replicad-pins holds an invalid pins document'
expect_eq "…and did not overwrite it" \
    "$(kget "$CMPATH" | jq_py 'j["data"]["pins.json"]')" \
    '[{"name":"orders","namespace":"shop","replicas":-1}]'
admin "scale?name=frontend&replicas=8" >/dev/null
check "the kept pins are still reconciled" lib_wait 20 spec_is frontend 5
expect_eq "fix it by hand" \
    "$(cm_edit '[{"name":"orders","namespace":"shop","replicas":4}]')" 200
check "A applies the fixed document" lib_wait 10 pins_are "$SOCK_A" "orders=4"
check "B applies the fixed document" lib_wait 10 pins_are "$SOCK_B" "orders=4"
expect_eq "the invalid gauge is back to 0" \
    "$(metric_at "$SOCK_A" replicad_core_pin_store_invalid)" 0

# ------------------------------------------------- DELETE: no pins
kcurl -X DELETE "$KS_URL$CMPATH" >/dev/null
check "A: no pins after the delete" lib_wait 10 pins_are "$SOCK_A" ""
check "B: no pins after the delete" lib_wait 10 pins_are "$SOCK_B" ""
expect_eq "pin worker 2 through B re-creates it" "$(ctl_b pin worker 2)" \
    '{"name":"worker","replicas":2}'
expect_eq "…labelled again" \
    "$(kget "$CMPATH" | jq_py 'j["metadata"]["labels"]["app.kubernetes.io/managed-by"]')" \
    replicad
check "A sees it" lib_wait 10 pins_are "$SOCK_A" "worker=2"

# ----------------------- a failed write: unavailable, nothing changed anywhere
before=$(kget "$CMPATH" | jq_py 'j["metadata"]["resourceVersion"]')
admin "faults?method=PUT&path=$CMPATH&status=503&count=1&retryAfter=3" >/dev/null
out=$(ctl_a pin orders 6 2>&1)
expect_eq "the client's pin fails (exit 1)" "$?" 1
expect_match "…with unavailable and the API's reason" "$out" \
    'unavailable: pin not stored: Kubernetes API, writing ConfigMap shop/replicad-pins: .*\(retry after 3 s\)'
expect_eq "A's pins unchanged" "$(core_pins "$SOCK_A")" "worker=2"
expect_eq "B's pins unchanged" "$(core_pins "$SOCK_B")" "worker=2"
expect_eq "the ConfigMap unchanged" \
    "$(kget "$CMPATH" | jq_py 'j["metadata"]["resourceVersion"]')" "$before"
expect_match "the failure is audited" "$(cat "$LOG_A")" \
    'audit=pin identity="ctl:uid=[0-9]+" peer_uid=[0-9]+ deployment=orders old=none new=6 outcome=failed'
expect_eq "a retry succeeds" "$(ctl_a pin orders 6)" \
    '{"name":"orders","replicas":6}'
# A 409 on the write (another writer came first): re-read, retried, stored.
c0=$(metric_at "$SOCK_A" replicad_core_pin_store_conflicts_total)
admin "faults?method=PUT&path=$CMPATH&status=409&count=2" >/dev/null
expect_eq "two conflicts on the write: the pin is still stored" \
    "$(ctl_a pin frontend 4)" '{"name":"frontend","replicas":4}'
expect_eq "…after two re-reads" \
    "$(metric_at "$SOCK_A" replicad_core_pin_store_conflicts_total)" $((c0 + 2))
expect_eq "…into the ConfigMap" "$(cm_pins)" "frontend=4 orders=6 worker=2"
expect_eq "unpin frontend" "$(ctl_a pin frontend --delete)" \
    '{"name":"frontend","replicas":4,"deleted":true}'
check "B sees it" lib_wait 10 pins_are "$SOCK_B" "orders=6 worker=2"
expect_eq "unpin through B" "$(ctl_b pin worker --delete)" \
    '{"name":"worker","replicas":2,"deleted":true}'
check "A sees the unpin" lib_wait 10 pins_are "$SOCK_A" "orders=6"

# ------------------------------------------- restart: loaded from the ConfigMap
stop_core B
rm -f "$SOCK_B"
start_core B
check "restarted B syncs" lib_wait 20 synced_at "$SOCK_B"
check "restarted B loads the pins from the ConfigMap" lib_wait 10 \
    pins_are "$SOCK_B" "orders=6"
expect_match "…and says where from" "$(cat "$LOG_B")" \
    'pins: loaded 1 from ConfigMap shop/replicad-pins'

# ---------------- a Role without configmaps permissions: not loaded, then ok
stop_core B
rm -f "$SOCK_B"
admin "deny?rule=list:configmaps" >/dev/null
start_core B
check "B syncs its cache" lib_wait 20 synced_at "$SOCK_B"
check "B's pins: unavailable, not loaded yet, saying why" lib_wait 10 sh -c \
    "'$CTL_BIN' --socket '$SOCK_B' pins 2>&1 | grep -q \
    'unavailable: pins not loaded yet: cannot read the pins from ConfigMap shop/replicad-pins: .*forbidden.*Role needs get, list, watch, create and update on configmaps'"
expect_match "…a pin too" "$(ctl_b pin orders 1 2>&1)" \
    'unavailable: pins not loaded yet'
expect_eq "…and its get shows no pin yet" \
    "$(ctl_b get orders | jq_py 'j["pinned"]')" False
admin deny DELETE >/dev/null
check "once allowed, B loads the pins (after its backoff)" lib_wait 40 \
    pins_are "$SOCK_B" "orders=6"

stop_core A
stop_core B
check "no sanitizer or valgrind report in any core log" sh -c \
    "! grep -l 'Sanitizer\\|runtime error\\|^==[0-9]*== ' '$LIB_TMP'/core*.err"
check "no core logged a token or crashed" sh -c \
    "! grep -l 'fatal' '$LIB_TMP'/core*.err"
check "kube-sim exits cleanly" ks_stop

lib_finish
