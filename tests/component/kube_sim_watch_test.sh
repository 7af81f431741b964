#!/bin/bash
# kube-sim-watch: every watch semantic of kube-sim, each its own check:
# initial state, ordering, resume from RV, 410 Expired, bookmarks, clean
# end at timeoutSeconds, chunk framing, DELETED RV, selectors, controller.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-watch

KS_AUTH=tok-w
ks_start --deployments frontend=3,orders=2,worker=1 --token tok-w \
    --controller-delay-ms 30 --history 50
curl -s -X POST "$KS_URL/_sim/controller?paused=1" >/dev/null
AUTH="Authorization: Bearer tok-w"
W=$KS_URL$DEPS

# Start a watch in the background: watch NAME QUERY [curl args]
watch_bg() {
	local name=$1 q=$2
	shift 2
	lib_bg "$name" curl -sN --raw -D "$LIB_TMP/$name.hdr" -H "$AUTH" "$@" "$W?watch=1&$q"
	eval "PID_$name=$LIB_LAST_PID"
}
# Decoded event lines of a raw (chunked) capture.
events() {
	python3 - "$LIB_TMP/$1.out" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
out, i = b"", 0
while i < len(raw):
    j = raw.find(b"\r\n", i)
    if j < 0: break
    n = int(raw[i:j], 16)
    if n == 0: break
    if len(raw) < j + 2 + n: break
    out += raw[j + 2:j + 2 + n]
    i = j + 4 + n
sys.stdout.write(out.decode("utf-8", "replace"))
PY
}
nlines() {
	[ "$(events "$1" | grep -c "$2")" -ge "$3" ]
}
finished() {
	local pid
	eval "pid=\$PID_$1"
	lib_wait_pid "$pid" "$2" || return 1
	wait "$pid"
	local rc=$?
	lib_forget "$pid"
	return $rc
}
patch_scale() {
	ksend PATCH "$DEPS/$1/scale" application/merge-patch+json "{\"spec\":{\"replicas\":$2}}" >/dev/null
}

# 1. RV unset: synthetic ADDED for all, then the changes in order.
watch_bg w1 "timeoutSeconds=5"
check "initial ADDED for every object" lib_wait 10 nlines w1 '"type":"ADDED"' 3
expect_match "200 + application/json + chunked" "$(tr -d '\r' <"$LIB_TMP/w1.hdr")" \
    '^HTTP/1.1 200 OK.*'
expect_match "watch content type" "$(tr -d '\r' <"$LIB_TMP/w1.hdr")" 'Content-Type: application/json'
expect_match "watch chunked" "$(tr -d '\r' <"$LIB_TMP/w1.hdr")" 'Transfer-Encoding: chunked'
patch_scale frontend 4
patch_scale orders 5
patch_scale frontend 6
check "three MODIFIED events" lib_wait 10 nlines w1 '"type":"MODIFIED"' 3
ORDER=$(events w1 | python3 -c 'import json,sys
ev=[json.loads(l) for l in sys.stdin]
rvs=[int(e["object"]["metadata"]["resourceVersion"]) for e in ev]
print(" ".join(e["type"][0]+":"+e["object"]["metadata"]["name"] for e in ev), rvs==sorted(rvs) and len(set(rvs))==len(rvs))')
expect_eq "events in RV order" "$ORDER" \
    "A:frontend A:orders A:worker M:frontend M:orders M:frontend True"
expect_eq "event objects carry kind" "$(events w1 | head -1 | jq_py 'j["object"]["kind"]+" "+j["object"]["apiVersion"]')" "Deployment apps/v1"
check "timeout ends the stream cleanly (curl exit 0)" finished w1 10
expect_eq "terminating chunk sent" "$(tail -c 5 "$LIB_TMP/w1.out" | od -An -c | tr -s ' ')" ' 0 \r \n \r \n'

# 2. Resume from RV: only what came after it.
R=$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
patch_scale worker 2
watch_bg w2 "resourceVersion=$R&timeoutSeconds=1"
check "resume from RV ends cleanly" finished w2 10
expect_eq "resume from RV: the one later event" \
    "$(events w2 | jq_py 'j["type"]+" "+j["object"]["metadata"]["name"]+" "+j["object"]["metadata"]["resourceVersion"]')" \
    "MODIFIED worker $((R + 1))"
R0=$((R - 2))
watch_bg w2b "resourceVersion=$R0&timeoutSeconds=1"
check "resume from older RV ends" finished w2b 10
expect_eq "resume replays every later event, in order" \
    "$(events w2b | python3 -c 'import json,sys; print([int(json.loads(l)["object"]["metadata"]["resourceVersion"]) for l in sys.stdin])')" \
    "[$((R0 + 1)), $((R0 + 2)), $((R0 + 3))]"

# 3. 410 Expired after compaction: 200 + one ERROR event + clean end.
curl -s -X POST "$KS_URL/_sim/compact" >/dev/null
NOW=$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
watch_bg w3 "resourceVersion=$R&timeoutSeconds=30"
check "410 stream ends cleanly" finished w3 10
expect_match "410 inside a 200" "$(head -1 "$LIB_TMP/w3.hdr")" '^HTTP/1.1 200'
expect_eq "410 ERROR event exact" "$(events w3)" \
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: $R ($NOW)\",\"reason\":\"Expired\",\"code\":410}}"
expect_eq "list with old RV + limit: 410" "$(kget "$DEPS?resourceVersion=$R&limit=1" | jq_py '(j["code"], j["message"])')" \
    "(410, 'The resourceVersion for the provided list is too old.')"
watch_bg w3b "resourceVersion=$NOW&timeoutSeconds=1"
check "watch from the current RV after compaction works" finished w3b 10

# 4. Bookmarks: only with allowWatchBookmarks, object shaped as the real one.
curl -s -X POST "$KS_URL/_sim/bookmarks?intervalMs=100" >/dev/null
watch_bg w4 "resourceVersion=$NOW&allowWatchBookmarks=true&timeoutSeconds=3"
check "bookmark arrives" lib_wait 10 nlines w4 '"type":"BOOKMARK"' 1
expect_eq "bookmark shape exact" "$(events w4 | head -1)" \
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":\"$NOW\",\"creationTimestamp\":null},\"spec\":{\"selector\":null,\"template\":{\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"containers\":null}},\"strategy\":{}},\"status\":{}}}"
patch_scale orders 1
check "bookmark after a change carries its RV" lib_wait 10 nlines w4 "\"BOOKMARK\".*\"resourceVersion\":\"$((NOW + 1))\"" 1
watch_bg w5 "resourceVersion=$NOW&timeoutSeconds=1"
check "no-bookmark watch ends" finished w5 10
expect_eq "no bookmarks unless allowed" "$(events w5 | grep -c BOOKMARK)" 0
check "bookmark watch ends cleanly" finished w4 10
curl -s -X POST "$KS_URL/_sim/bookmarks?intervalMs=60000" >/dev/null

# 5. Chunk framing: split inside UTF-8 and before "\n"; fixed sizes; packing.
R=$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
ksend PATCH "$DEPS/worker" application/merge-patch+json '{"metadata":{"annotations":{"note":"déploiement ✓"}}}' >/dev/null
ksend PATCH "$DEPS/worker" application/merge-patch+json '{"metadata":{"annotations":{"note":"ünïcödé"}}}' >/dev/null
curl -s -X POST "$KS_URL/_sim/chunking?mode=split" >/dev/null
watch_bg w6 "resourceVersion=$R&timeoutSeconds=1"
check "split watch ends" finished w6 10
check "split: cut inside UTF-8, before newline, events span chunks" \
    python3 "$(dirname "$0")/kube_sim_chunks.py" "$LIB_TMP/w6.out" split
expect_eq "split: payload intact" "$(events w6 | tail -1 | jq_py 'j["object"]["metadata"]["annotations"]["note"]')" "ünïcödé"
curl -s -X POST "$KS_URL/_sim/chunking?mode=bytes&size=7" >/dev/null
watch_bg w7 "resourceVersion=$R&timeoutSeconds=1"
check "bytes watch ends" finished w7 10
check "bytes:7 framing" python3 "$(dirname "$0")/kube_sim_chunks.py" "$LIB_TMP/w7.out" bytes:7
curl -s -X POST "$KS_URL/_sim/chunking?mode=pack" >/dev/null
watch_bg w8 "timeoutSeconds=1"
check "pack watch ends" finished w8 10
check "pack: several events in one chunk" python3 "$(dirname "$0")/kube_sim_chunks.py" "$LIB_TMP/w8.out" pack

# 6. DELETED carries the last state with the delete's (new) RV.
R=$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
LAST=$(kget "$DEPS/worker")
kcurl -X DELETE "$W/worker" >/dev/null
watch_bg w9 "resourceVersion=$R&timeoutSeconds=1"
check "delete watch ends" finished w9 10
expect_eq "DELETED: last state, new RV" \
    "$(events w9 | jq_py '(j["type"], j["object"]["metadata"]["resourceVersion"], j["object"]["spec"]["replicas"])')" \
    "('DELETED', '$((R + 1))', $(echo "$LAST" | jq_py 'j["spec"]["replicas"]'))"

# 7. Selectors on watch (kubectl rollout status uses fieldSelector).
R=$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
patch_scale frontend 2
patch_scale orders 2
watch_bg w10 "resourceVersion=$R&fieldSelector=metadata.name%3Dorders&timeoutSeconds=1"
check "fieldSelector watch ends" finished w10 10
expect_eq "fieldSelector filters events" "$(events w10 | jq_py 'j["object"]["metadata"]["name"]')" orders
ksend PATCH "$DEPS/orders" application/merge-patch+json '{"metadata":{"labels":{"tier":"x"}}}' >/dev/null
ksend PATCH "$DEPS/orders" application/merge-patch+json '{"metadata":{"labels":{"tier":null}}}' >/dev/null
watch_bg w11 "resourceVersion=$((R + 2))&labelSelector=tier%3Dx&timeoutSeconds=1"
check "labelSelector watch ends" finished w11 10
expect_eq "label transitions: ADDED then DELETED" \
    "$(events w11 | python3 -c 'import json,sys; print([json.loads(l)["type"] for l in sys.stdin])')" \
    "['ADDED', 'DELETED']"

# 8. The simulated controller: generation first, then status in steps.
curl -s -X POST "$KS_URL/_sim/controller?paused=0&step=1" >/dev/null
converged() {
	kget "$DEPS/frontend" | jq_py 'j["status"]["observedGeneration"]==j["metadata"]["generation"] and j["status"].get("readyReplicas")==j["spec"]["replicas"]' | grep -q True
}
check "leftover controller work settles" lib_wait 10 converged
R=$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
watch_bg w12 "resourceVersion=$R&fieldSelector=metadata.name%3Dfrontend&timeoutSeconds=20"
patch_scale frontend 4
check "controller reaches 4 ready" lib_wait 15 sh -c "python3 - '$LIB_TMP/w12.out' <<'PY'
import sys
raw=open(sys.argv[1],'rb').read()
sys.exit(0 if b'\"readyReplicas\":4,\"availableReplicas\":4' in raw and b'NewReplicaSetAvailable' in raw.split(b'\"readyReplicas\":4')[-1] else 1)
PY"
curl -s -X POST "$KS_URL/_sim/watches/close?mode=clean" >/dev/null
check "closed watch ends cleanly" finished w12 10
STEPS=$(events w12 | python3 -c 'import json,sys
for l in sys.stdin:
    o=json.loads(l)["object"]; s=o["status"]
    print(s.get("observedGeneration",0)==o["metadata"]["generation"], s.get("replicas",0), s.get("readyReplicas",0), [c["reason"] for c in s["conditions"] if c["type"]=="Progressing"][0])')
expect_eq "controller steps as MODIFIED events" "$STEPS" "$(printf '%s\n' \
    "False 2 2 NewReplicaSetAvailable" \
    "True 4 2 ReplicaSetUpdated" \
    "True 4 3 ReplicaSetUpdated" \
    "True 4 4 NewReplicaSetAvailable")"

check "clean exit on SIGTERM" ks_stop
lib_finish
