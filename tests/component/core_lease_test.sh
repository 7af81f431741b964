#!/usr/bin/env bash
# core_lease_test.sh — leader election between replicad-cores against
# kube-sim's coordination.k8s.io/v1 Leases: RBAC refusal then recovery,
# exactly one leader of two, the Lease names it, SIGTERM releases so the
# other takes over without waiting for expiry, kill -9 (no release) is
# taken over only after expiry, failing renews (503) make the leader stand
# down and later re-acquire, and a foreign holder that keeps renewing is
# never taken over (and is once it stops); with pins, only the leader
# reconciles, and a new leader applies its pins at once.
#
# Every wait is a condition polled against a deadline.  Where the test must
# show that something did NOT happen for a lease duration, it waits for a
# count of the core's own attempts that spans more than that duration.
# CORE_WRAPPER (e.g. valgrind) runs every core under a tool.
. "$(dirname "$0")/core_lib.sh" # metrics_sum; its metric() is replaced below
lib_init core-lease

CORE_BIN=$BUILD/replicad-core
CTL_BIN=$BUILD/replicad-ctl
NS=shop
LEASE=replicad-leader
LEASE_PATH=/apis/coordination.k8s.io/v1/namespaces/$NS/leases/$LEASE
TOKEN=tok-$RANDOM-$RANDOM-lease
echo "$TOKEN" >"$LIB_TMP/token"
KS_AUTH=$TOKEN

admin() {
	curl -s ${KS_CA:+--cacert "$KS_CA"} -X "${2:-POST}" "$KS_URL/_sim/$1"
}

# start_core ID [ARGS...]: a core with --identity core-ID on
# $LIB_TMP/ID.sock; sets PID_<ID> (ids are [a-z] letters).
start_core() {
	local id=$1
	shift
	# shellcheck disable=SC2086 # the wrapper is a command line
	lib_bg "core-$id" ${CORE_WRAPPER:-} "$CORE_BIN" \
	    --socket "$LIB_TMP/$id.sock" --namespace "$NS" \
	    --kube-api "$KS_URL" --kube-token-file "$LIB_TMP/token" \
	    --kube-ca-file "$KS_CA" \
	    --lease-name "$LEASE" --identity "core-$id" --log-level debug "$@"
	eval "PID_$id=$LIB_LAST_PID"
	lib_wait 20 test -S "$LIB_TMP/$id.sock" || {
		echo "core $id did not start"
		cat "$LIB_TMP/core-$id.err"
		exit 1
	}
}

log_of() {
	cat "$LIB_TMP/core-$1.err"
}

# metric ID NAME: a value from that core's METRICS answer.
metric() {
	"$CTL_BIN" --socket "$LIB_TMP/$1.sock" metrics 2>/dev/null |
	    metrics_sum "$2"
}

leader_is() {
	[ "$(metric "$1" replicad_core_leader)" = "$2" ]
}

metric_ge() {
	local v
	v=$(metric "$1" "$2")
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}

# exactly_one_leader ID...: each answers, and the leader gauges sum to 1.
exactly_one_leader() {
	local id v sum=0
	for id in "$@"; do
		v=$(metric "$id" replicad_core_leader)
		[ -n "$v" ] || return 1
		sum=$((sum + v))
	done
	[ "$sum" -eq 1 ]
}

lease_field() {
	kget "$LEASE_PATH" | jq_py "$1"
}

holder_is() {
	[ "$(lease_field 'j["spec"].get("holderIdentity", "")')" = "$1" ]
}

renew_time_differs() {
	[ "$(lease_field 'j["spec"]["renewTime"]')" != "$1" ]
}

# count_lines ID RE: lines of that core's log matching RE.
count_lines() {
	grep -cE -- "$2" "$LIB_TMP/core-$1.err"
}

lines_ge() {
	[ "$(count_lines "$1" "$2")" -ge "$3" ]
}

stop_core() { # SIGTERM and require exit 0
	local pid
	pid=$(eval echo "\$PID_$1")
	kill -TERM "$pid"
	lib_wait_pid "$pid" 30 || return 1
	wait "$pid"
	local rc=$?
	lib_forget "$pid"
	return $rc
}

# Bad flags exit 2 before anything starts.
bad_flag() {
	"$CORE_BIN" --socket "$LIB_TMP/bad.sock" --kube-api http://127.0.0.1:1 \
	    "$@" >/dev/null 2>&1
	[ $? -eq 2 ]
}
check "--lease-name must be a DNS-1123 subdomain" bad_flag --lease-name Bad_Name
export REPLICAD_LEASE_NAME=x..y
check "REPLICAD_LEASE_NAME is checked too" bad_flag
unset REPLICAD_LEASE_NAME
check "--identity: no spaces" bad_flag --lease-name ok --identity 'a b'
check "--identity: at most 128 bytes" bad_flag --lease-name ok \
    --identity "$(printf 'x%.0s' $(seq 129))"

ks_pki
ks_start --namespace "$NS" --token "$TOKEN" "${KS_TLS[@]}" --deployments frontend=1

# --- RBAC missing: a clear warning, retries, then success -------------
admin "deny?rule=get:leases" >/dev/null
start_core a
check "403 on the Lease: a warning names the missing permission" \
    lib_wait 20 grep -q 'Role needs get, create and update on leases' \
    "$LIB_TMP/core-a.err"
expect_eq "not leading while refused" "$(metric a replicad_core_leader)" 0
admin deny DELETE >/dev/null
check "leads once the Role allows it" lib_wait 40 leader_is a 1
expect_eq "the created Lease names it" \
    "$(lease_field 'j["spec"]["holderIdentity"]')" core-a

# --- two cores, one leader ---------------------------------------------
start_core b
check "exactly one of two leads" lib_wait 30 exactly_one_leader a b
LEADER=a
OTHER=b
leader_is b 1 && LEADER=b && OTHER=a
check "the Lease names the leader" holder_is "core-$LEADER"
expect_eq "leaseDurationSeconds is 15" \
    "$(lease_field 'j["spec"]["leaseDurationSeconds"]')" 15
expect_match "renewTime is a MicroTime" \
    "$(lease_field 'j["spec"]["renewTime"]')" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$'
# Renewals go on (PUT 200s) and the other still does not lead.
check "the leader renews" lib_wait 30 metric_ge "$LEADER" \
    'replicad_core_api_requests_total{verb="PUT",code="200"}' 3
check "still exactly one leader after renewals" exactly_one_leader a b
renew1=$(lease_field 'j["spec"]["renewTime"]')
check "renewTime moves" lib_wait 10 renew_time_differs "$renew1"
expect_eq "the follower has started leading 0 times" \
    "$(metric "$OTHER" replicad_core_leader_transitions_total)" 0
check "the leader logged that it started leading, with its identity" \
    grep -qE "started leading.*identity=\"?core-$LEADER" \
    "$LIB_TMP/core-$LEADER.err"

# --- SIGTERM: released, taken over without waiting for expiry -----------
trans=$(lease_field 'j["spec"].get("leaseTransitions", 0)')
check "SIGTERM: the leader exits 0" stop_core "$LEADER"
check "it stopped leading, then released the Lease" sh -c \
    "grep -q 'stopped leading (shutting down)' '$LIB_TMP/core-$LEADER.err' &&
     grep -q 'Lease release: released' '$LIB_TMP/core-$LEADER.err'"
# Taking over an unreleased Lease needs 15 s of silence; this one is free.
check "the other takes over" lib_wait 14 leader_is "$OTHER" 1
check "...because it was released (holder \"\"), not expired" \
    grep -q 'Lease free or expired (holder "")' "$LIB_TMP/core-$OTHER.err"
check "the Lease names the new leader" holder_is "core-$OTHER"
expect_eq "leaseTransitions + 1" \
    "$(lease_field 'j["spec"]["leaseTransitions"]')" $((trans + 1))

# --- kill -9: no release; a new core waits for expiry --------------------
dead=$(eval echo "\$PID_$OTHER")
kill -9 "$dead"
wait "$dead" 2>/dev/null # reaped here: no "Killed" notice from bash
lib_forget "$dead"
start_core c
check "the new core sees the dead leader's Lease and waits" lib_wait 20 \
    grep -q "Lease held by \"core-$OTHER\"; waiting" "$LIB_TMP/core-c.err"
check "it takes over once the Lease expired" lib_wait 60 leader_is c 1
check "...by expiry (holder core-$OTHER)" grep -q \
    "Lease free or expired (holder \"core-$OTHER\")" "$LIB_TMP/core-c.err"
check "waited before taking: several attempts saw it held" \
    lines_ge c "Lease held by \"core-$OTHER\"; waiting" 3
check "the Lease names core-c" holder_is core-c

# --- 503 on the Lease PUT: stand down after renewDeadline, re-acquire ----
admin "faults?method=PUT&path=$LEASE_PATH&status=503&count=100000" >/dev/null
check "renewals fail" lib_wait 20 metric_ge c \
    replicad_core_lease_renew_failures_total 1
check "the leader stands down after the renew deadline" \
    lib_wait 30 leader_is c 0
check "...saying why" grep -q \
    'stopped leading (no successful renew within the deadline)' \
    "$LIB_TMP/core-c.err"
admin faults DELETE >/dev/null
check "it re-acquires when the API recovers" lib_wait 40 leader_is c 1
expect_eq "started leading twice" \
    "$(metric c replicad_core_leader_transitions_total)" 2

# --- a foreign holder that keeps renewing is never taken over -----------
check "SIGTERM core-c: exits 0" stop_core c
expect_eq "released: holderIdentity \"\", leaseDurationSeconds 1" \
    "$(lease_field '[j["spec"].get("holderIdentity", ""), j["spec"]["leaseDurationSeconds"]]')" \
    '["",1]'
cat >"$LIB_TMP/foreign.py" <<'EOF'
# A foreign leader: takes the Lease and renews it every second (GET, PUT
# with the resourceVersion read), until killed.
import datetime, json, os, sys, time, urllib.request, urllib.error

url = os.environ["KS_URL"] + os.environ["LEASE_PATH"]
hdr = {"Authorization": "Bearer " + os.environ["TOKEN"],
       "Content-Type": "application/json"}
me = "foreign-x"
n = 0
while True:
    try:
        req = urllib.request.Request(url, headers=hdr)
        obj = json.load(urllib.request.urlopen(req, timeout=5))
        spec = obj.setdefault("spec", {})
        now = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        if spec.get("holderIdentity") != me:
            spec["holderIdentity"] = me
            spec["acquireTime"] = now
            spec["leaseTransitions"] = spec.get("leaseTransitions", 0) + 1
        spec["leaseDurationSeconds"] = 15
        spec["renewTime"] = now
        req = urllib.request.Request(url, data=json.dumps(obj).encode(),
                                     headers=hdr, method="PUT")
        urllib.request.urlopen(req, timeout=5).read()
        n += 1
        print("renewed", n, flush=True)
    except urllib.error.HTTPError as e:
        print("error", e.code, flush=True)
    time.sleep(1)
EOF
lib_bg foreign env KS_URL="$KS_URL" LEASE_PATH="$LEASE_PATH" TOKEN="$TOKEN" \
    SSL_CERT_FILE="$KS_CA" python3 "$LIB_TMP/foreign.py"
FOREIGN=$LIB_LAST_PID
check "the foreign holder has the Lease" lib_wait 20 holder_is foreign-x
ftrans=$(lease_field 'j["spec"]["leaseTransitions"]')
start_core d
# Nine attempts are at least 8 retry periods (16 s) apart: longer than
# the 15 s lease duration, so an expiry judged wrongly would show.
check "core-d keeps waiting for more than a lease duration" lib_wait 90 \
    lines_ge d 'Lease held by "foreign-x"; waiting' 9
expect_eq "core-d never led" "$(metric d replicad_core_leader)" 0
expect_eq "core-d never wrote the Lease" \
    "$(metric d 'replicad_core_api_requests_total{verb="PUT",code="200"}')" ""
check "the foreign holder still holds it" holder_is foreign-x
check "the foreign holder kept renewing" lib_wait 10 grep -q 'renewed 15' \
    "$LIB_TMP/foreign.out"
kill "$FOREIGN"
lib_wait_pid "$FOREIGN" 10
lib_forget "$FOREIGN"
check "once it stops renewing, core-d takes over after expiry" \
    lib_wait 60 leader_is d 1
check "...by expiry (holder foreign-x)" grep -q \
    'Lease free or expired (holder "foreign-x")' "$LIB_TMP/core-d.err"
expect_eq "leaseTransitions + 1 over the foreign holder's" \
    "$(lease_field 'j["spec"]["leaseTransitions"]')" $((ftrans + 1))
check "SIGTERM core-d: exits 0" stop_core d
check "released on the way out" holder_is ""

# --- only the leader reconciles pins ------------------------------------
# Two cores pin frontend to different counts (each its own pin file): the
# leader's pin holds and the follower never writes; when the leader goes,
# the new leader applies its own pin at once (it re-checks every pin when
# it starts leading).
echo '[{"name":"frontend","namespace":"shop","replicas":2}]' >"$LIB_TMP/pins-e.json"
echo '[{"name":"frontend","namespace":"shop","replicas":3}]' >"$LIB_TMP/pins-f.json"
desired_is() { # ID N: that core's cache has frontend at N
	[ "$("$CTL_BIN" --socket "$LIB_TMP/$1.sock" get frontend 2>/dev/null |
	    jq_py 'j["desired"]')" = "$2" ]
}
start_core e --pin-file "$LIB_TMP/pins-e.json"
check "core-e leads" lib_wait 20 leader_is e 1
check "the leader applies its pin" lib_wait 20 desired_is e 2
start_core f --pin-file "$LIB_TMP/pins-f.json"
check "core-f follows" lib_wait 20 lines_ge f 'Lease held by "core-e"; waiting' 1
admin "scale?name=frontend&replicas=7" >/dev/null
check "drift is undone by the leader" lib_wait 20 metric_ge e \
    'replicad_core_reconcile_writes_total{outcome="ok"}' 2
check "the follower's cache has the leader's count" lib_wait 20 desired_is f 2
# A reconciling follower would have queued (pending) or made a write the
# moment its watch delivered a count other than its pin.
expect_eq "the follower made no reconcile write" \
    "$(metric f 'replicad_core_reconcile_writes_total{outcome="ok"}')" 0
expect_eq "...and has none pending" "$(metric f replicad_core_reconcile_pending)" 0
check "SIGTERM core-e: exits 0" stop_core e
check "core-f leads" lib_wait 14 leader_is f 1
check "...and applies its own pin at once" lib_wait 20 desired_is f 3
check "SIGTERM core-f: exits 0" stop_core f

check "no sanitizer or valgrind report in any core log" sh -c \
    "! grep -l 'Sanitizer\\|runtime error\\|^==[0-9]*== ' '$LIB_TMP'/core-*.err"
check "no token in any log" sh -c "! grep -qF '$TOKEN' '$LIB_TMP'/core-*.err"

lib_finish
