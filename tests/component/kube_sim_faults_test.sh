#!/bin/bash
# kube-sim-faults: the /_sim/ admin endpoint — injected errors (429 plain
# text, 5xx Status, dropped connections), latency and hangs, closing
# watches, counters, token rotation, the "external actor".
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-faults

KS_AUTH=tok-f
ks_start --deployments frontend=3,orders=2 --token tok-f --controller-delay-ms 20
ADM=$KS_URL/_sim
admin() {
	curl -s -X "$1" "$ADM$2"
}

# Next-N faults by verb and path pattern.
admin POST "/faults?method=GET&path=/apis/apps/v1/*&status=429&count=1" >/dev/null
HDR=$(kcurl -D - -o "$LIB_TMP/429.body" "$KS_URL$DEPS" | tr -d '\r')
expect_match "429 status line" "$HDR" '^HTTP/1.1 429'
expect_match "429 Retry-After: 1" "$HDR" 'Retry-After: 1'
expect_match "429 text/plain" "$HDR" 'Content-Type: text/plain; charset=utf-8'
expect_eq "429 plain-text body" "$(od -An -c "$LIB_TMP/429.body" | tr -d ' \n')" \
    'Toomanyrequests,pleasetryagainlater.\n'
expect_eq "fault used up: next is 200" "$(kcode "$DEPS")" 200
admin POST "/faults?method=GET&path=*/orders&status=503&count=2&retryAfter=2" >/dev/null
expect_eq "503 #1" "$(kget "$DEPS/orders" | jq_py '(j["code"], j["reason"])')" "(503, 'ServiceUnavailable')"
expect_match "503 #2 with Retry-After" "$(kcurl -D - -o /dev/null "$KS_URL$DEPS/orders" | tr -d '\r')" 'Retry-After: 2'
expect_eq "after 2: 200" "$(kcode "$DEPS/orders")" 200
expect_eq "other paths untouched" "$(kcode "$DEPS/frontend")" 200
admin POST "/faults?method=PATCH&path=*&status=500" >/dev/null
expect_eq "500 InternalError Status" \
    "$(ksend PATCH "$DEPS/frontend/scale" application/merge-patch+json '{"spec":{"replicas":1}}' | jq_py '(j["code"], j["message"])')" \
    "(500, 'Internal error occurred: injected fault')"
admin POST "/faults?path=*&status=410&count=1" >/dev/null
expect_eq "410 Expired Status" "$(kget "$DEPS" | jq_py '(j["code"], j["reason"])')" "(410, 'Expired')"
admin POST "/faults?path=*&close=1" >/dev/null
kcurl -o /dev/null "$KS_URL$DEPS"
expect_eq "close: no answer (curl 52)" "$?" 52
expect_eq "faults cleared" "$(admin DELETE /faults | jq_py 'j["faults"]')" 0

# Latency and hang hold requests; they complete afterwards.
admin POST "/latency?ms=300" >/dev/null
lib_bg slow curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer tok-f" "$KS_URL$DEPS"
check "latency: request is held" lib_wait 10 sh -c "curl -s '$ADM/state' | grep -q '\"heldRequests\":1'"
check "latency: then answered 200" lib_wait 10 grep -q 200 "$LIB_TMP/slow.out"
admin POST "/latency?ms=0" >/dev/null
admin POST "/hang?ms=500" >/dev/null
lib_bg hung curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer tok-f" "$KS_URL/version"
check "hang: request is held" lib_wait 10 sh -c "curl -s '$ADM/state' | grep -q '\"heldRequests\":1'"
check "hang: answered after it" lib_wait 10 grep -q 200 "$LIB_TMP/hung.out"

# Closing watches: clean (terminating chunk) and abrupt (cut mid-stream).
lib_bg wc curl -sN -H "Authorization: Bearer tok-f" "$KS_URL$DEPS?watch=1&timeoutSeconds=60"
WC=$LIB_LAST_PID
check "watch open" lib_wait 10 sh -c "curl -s '$ADM/state' | grep -q '\"watches\":1'"
expect_eq "close all watches (clean)" "$(admin POST /watches/close | jq_py 'j["closed"]')" 1
wait "$WC"
expect_eq "clean close: curl exit 0" "$?" 0
lib_forget "$WC"
lib_bg wa curl -sN -H "Authorization: Bearer tok-f" "$KS_URL$DEPS?watch=1&timeoutSeconds=60"
WA=$LIB_LAST_PID
check "watch open again" lib_wait 10 sh -c "curl -s '$ADM/state' | grep -q '\"watches\":1'"
check "initial events read" lib_wait 10 grep -q orders "$LIB_TMP/wa.out"
expect_eq "close all watches (abrupt)" "$(admin POST '/watches/close?mode=abrupt' | jq_py 'j["closed"]')" 1
wait "$WA"
expect_eq "abrupt close: curl sees a broken stream (18)" "$?" 18
lib_forget "$WA"

# Counters: "cached reads made zero API calls" style assertions.
admin DELETE /counters >/dev/null
kget "$DEPS" >/dev/null
kget "$DEPS" >/dev/null
kget "$DEPS/orders" >/dev/null
C=$(admin GET /counters)
expect_eq "counters by verb and path" \
    "$(echo "$C" | jq_py 'str(sorted((r["verb"], r["path"], r["count"]) for r in j["requests"]))')" \
    "[('get', '$DEPS/orders', 1), ('list', '$DEPS', 2)]"
expect_eq "counters total" "$(echo "$C" | jq_py 'j["total"]')" 3
expect_eq "counters reset" "$(admin DELETE /counters | jq_py 'j["total"]')" 0

# Token rotation through the admin endpoint.
admin POST "/tokens?set=new-tok" >/dev/null
expect_eq "old token rejected" "$(kcode "$DEPS")" 401
expect_eq "new token accepted" "$(KS_AUTH=new-tok kcode "$DEPS")" 200
KS_AUTH=new-tok

# External actor (helm upgrade drift) bumps generation and emits MODIFIED.
RV=$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
GEN=$(kget "$DEPS/orders" | jq_py 'j["metadata"]["generation"]')
admin POST "/scale?name=orders&replicas=7" >/dev/null
expect_eq "actor set spec.replicas" "$(kget "$DEPS/orders" | jq_py '(j["spec"]["replicas"], j["metadata"]["generation"])')" "(7, $((GEN + 1)))"
expect_match "actor change is a watch event" \
    "$(kcurl -N "$KS_URL$DEPS?watch=1&resourceVersion=$RV&timeoutSeconds=1" | head -1)" '"type":"MODIFIED".*"replicas":7'
expect_eq "unknown admin route 404" "$(curl -s -o /dev/null -w '%{http_code}' "$ADM/nope")" 404

check "clean exit on SIGTERM" ks_stop
lib_finish
