#!/bin/bash
# gateway_conditions_test.sh — issue #14 at the gateway: what it parses,
# validates and refuses on its own, end to end over mTLS against the fake
# core: ETag on GET, If-Match (one strong tag or *, weak -> 412, lists and
# malformed values and other routes -> 400, a second field -> 400), the
# write routes' strict query string (dryRun=true|All|false, anything else
# 400), the write bodies' new keys per route.  Nothing refused here
# reaches the core.  What the core does with the conditions (STALE,
# EXPECTED, AUTOSCALED, OUT_OF_BOUNDS, dry runs) is tested end to end
# against the real core and kube-sim, not here: the fake core ignores
# them.
cd "$(dirname "$0")/../.." || exit 1
. tests/component/gateway_lib.sh
gw_init gateway-conditions

gw_core --deployments frontend=3,orders=2
gw_gateway --core-timeout-ms 500
gw_ready || bad "gateway became ready"

R="$URL/api/v1/deployments/frontend/replicas"
PIN="$URL/api/v1/deployments/orders/pin"
J=(-H 'Content-Type: application/json')

# The status and the error token: "412 precondition_failed".
answer() {
	local out code
	out=$(gw_curl client -w '\n%{http_code}' "$@" 2>/dev/null)
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	printf '%s %s' "$code" "$(printf '%s' "$out" |
	    sed -n 's/^{"error":"\([a-z_]*\)".*/\1/p')"
}

# --- ETag ------------------------------------------------------------------
h=$(gw_curl client -D - -o /dev/null "$R")
expect_match "GET replicas has a strong ETag" "$h" $'ETag: "[!#-~]+"\r'
rv=$(printf '%s' "$h" | sed -n 's/^ETag: "\(.*\)"\r$/\1/p')
body=$(gw_curl client "$R")
expect_match "ETag is the resourceVersion" "$body" "\"resourceVersion\":\"$rv\""
h=$(gw_curl client -I "$R")
expect_match "HEAD has the ETag too" "$h" 'ETag: "'

before=$(wc -l <"$T/writes.log")

# --- If-Match -----------------------------------------------------------------
expect_eq "weak tag -> 412" "$(answer -X POST "${J[@]}" -H "If-Match: W/\"$rv\"" \
    -d '{"replicas":3}' "$R")" "412 precondition_failed"
expect_eq "two tags -> 400" "$(answer -X POST "${J[@]}" \
    -H "If-Match: \"$rv\", \"1\"" -d '{"replicas":3}' "$R")" \
    "400 invalid_if_match"
expect_eq "star and a tag -> 400" "$(answer -X POST "${J[@]}" \
    -H 'If-Match: *, "1"' -d '{"replicas":3}' "$R")" "400 invalid_if_match"
expect_eq "unquoted -> 400" "$(answer -X POST "${J[@]}" -H "If-Match: $rv" \
    -d '{"replicas":3}' "$R")" "400 invalid_if_match"
expect_eq "empty tag -> 400" "$(answer -X POST "${J[@]}" -H 'If-Match: ""' \
    -d '{"replicas":3}' "$R")" "400 invalid_if_match"
expect_eq "space in tag -> 400" "$(answer -X PUT "${J[@]}" -H 'If-Match: "1 2"' \
    -d '{"replicas":3}' "$PIN")" "400 invalid_if_match"
long=$(printf '%065d' 7)
expect_eq "65-byte rv -> 400" "$(answer -X POST "${J[@]}" -H "If-Match: \"$long\"" \
    -d '{"replicas":3}' "$R")" "400 invalid_if_match"
expect_eq "If-Match on DELETE pin -> 400" "$(answer -X DELETE -H 'If-Match: *' \
    "$PIN")" "400 invalid_if_match"
expect_eq "If-Match on GET -> 400" "$(answer -H "If-Match: \"$rv\"" "$R")" \
    "400 invalid_if_match"
expect_eq "two If-Match fields -> 400" "$(answer -X POST "${J[@]}" \
    -H 'If-Match: *' -H 'If-Match: *' -d '{"replicas":3}' "$R")" \
    "400 bad_request"
# The weak tag is judged before the body (RFC 9110 §13.2.1).
expect_eq "weak tag before a bad body -> 412" "$(answer -X POST "${J[@]}" \
    -H 'If-Match: W/"1"' -d '{"nope":1}' "$R")" "412 precondition_failed"

# --- query strings on writes ----------------------------------------------------
expect_eq "unknown parameter -> 400" "$(answer -X POST "${J[@]}" \
    -d '{"replicas":3}' "$R?dryrun=true")" "400 invalid_query"
expect_eq "dryRun twice -> 400" "$(answer -X PUT "${J[@]}" -d '{"replicas":3}' \
    "$PIN?dryRun=true&dryRun=true")" "400 invalid_query"
expect_eq "dryRun=yes -> 400" "$(answer -X DELETE "$PIN?dryRun=yes")" \
    "400 invalid_query"
expect_eq "trailing & -> 400" "$(answer -X POST "${J[@]}" -d '{"replicas":3}' \
    "$R?dryRun=true&")" "400 invalid_query"
expect_eq "dryRun and another -> 400" "$(answer -X POST "${J[@]}" \
    -d '{"replicas":3}' "$R?dryRun=All&fieldManager=x")" "400 invalid_query"

# --- bodies ------------------------------------------------------------------------
expect_eq "suspended on a scale -> 400" "$(answer -X POST "${J[@]}" \
    -d '{"replicas":3,"suspended":true}' "$R")" "400 unknown_field"
expect_eq "force not a boolean -> 400" "$(answer -X POST "${J[@]}" \
    -d '{"replicas":3,"force":1}' "$R")" "400 invalid_force"
expect_eq "expectedReplicas 2^31 -> 400" "$(answer -X PUT "${J[@]}" \
    -d '{"replicas":3,"expectedReplicas":2147483648}' "$PIN")" \
    "400 invalid_expected_replicas"
expect_eq "suspended twice -> 400" "$(answer -X PUT "${J[@]}" \
    -d '{"replicas":3,"suspended":true,"suspended":true}' "$PIN")" \
    "400 duplicate_field"
body=$(gw_curl client -X POST "${J[@]}" -d '{"replicas":3,"suspended":true}' "$R")
expect_eq "the unknown-field message lists the route's keys" "$body" \
    '{"error":"unknown_field","message":"allowed fields: \"replicas\", \"expectedReplicas\", \"force\""}'

expect_eq "nothing refused reached the core" "$(wc -l <"$T/writes.log")" "$before"

# --- accepted forms reach the core -------------------------------------------------
expect_eq "strong tag, conditions, dryRun=false -> 200" "$(gw_code -X POST \
    "${J[@]}" -H "If-Match: \"$rv\"" \
    -d '{"replicas":4,"expectedReplicas":3,"force":true}' "$R?dryRun=false")" 200
expect_eq "If-Match: * and dryRun=All -> 200" "$(gw_code -X POST "${J[@]}" \
    -H 'If-Match: *' -d '{"replicas":4}' "$R?dryRun=All")" 200
expect_eq "pin with every key -> 200" "$(gw_code -X PUT "${J[@]}" \
    -d '{"replicas":2,"expectedReplicas":2,"force":false,"suspended":true}' \
    "$PIN?dryRun=true")" 200
expect_eq "...a dry run stored no pin" "$(gw_code "$PIN")" 404
expect_eq "pin (for real)" "$(gw_code -X PUT "${J[@]}" -d '{"replicas":2}' \
    "$PIN")" 200
expect_eq "unpin dry run -> 200" "$(gw_code -X DELETE "$PIN?dryRun=true")" 200
expect_eq "...the pin is still there" "$(gw_code "$PIN")" 200
expect_eq "reads ignore their query" \
    "$(gw_code "$URL/api/v1/deployments?dryRun=whatever")" 200
expect_eq "the accepted writes (and the real pin) reached the core" \
    "$(( $(wc -l <"$T/writes.log") - before ))" 5
expect_match "the audit line records the conditions" "$(grep audit "$T/gw.err")" \
    "action=\"?scale\"?.*dry_run=1 force=0.*if_match=\"?\\*"
expect_match "the audit line records expected and If-Match" \
    "$(grep audit "$T/gw.err")" "force=1 expected=3 if_match=\"?$rv"

gw_finish
