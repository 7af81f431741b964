#!/bin/bash
# kube-sim-safewrites (issue #14 item 8): dryRun=All on every write of
# deployments and deployments/scale (nothing stored, no RV, no watch
# event), resourceVersion preconditions in PUT and patch bodies (409),
# autoscaling/v2 HorizontalPodAutoscalers and events.k8s.io/v1 Events
# (validation texts, patch of an Event's series, bookmarks), per-resource
# 403 rules, fault rules by verb+resource, and the /_sim/restore "etcd
# restore".  curl for the wire, the real kubectl where it has a verb.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-safewrites

command -v openssl >/dev/null 2>&1 || lib_skip "openssl not installed"
ks_pki
KS_AUTH=sw-token
ks_start --deployments frontend=3,orders=2 --token sw-token "${KS_TLS[@]}" \
    --controller-delay-ms 20 --user system:serviceaccount:default:replicad
ADM=$KS_URL/_sim
admin() { kcurl -X "$1" "$ADM$2"; }
state() { admin GET /state | jq_py "j[\"$1\"]"; }
MP=application/merge-patch+json
SMP=application/strategic-merge-patch+json
JP=application/json-patch+json
EVS=/apis/events.k8s.io/v1/namespaces/default/events
HPAS=/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers
# The controller would add MODIFIED events of its own; the dry-run checks
# want a quiet store (it is resumed for the kubectl part).
admin POST "/controller?paused=1" >/dev/null

# --- dryRun=All ---------------------------------------------------------------
RV0=$(state resourceVersion)
FRV=$(kget "$DEPS/frontend" | jq_py 'j["metadata"]["resourceVersion"]')
# A long timeout: the dry-run checks below take a while on a loaded or
# sanitizer build; the watch is killed after its check.
lib_bg dw curl -sN --cacert "$KS_CA" -H "Authorization: Bearer sw-token" \
    "$KS_URL$DEPS?watch=1&resourceVersion=$RV0&timeoutSeconds=300"
DW=$LIB_LAST_PID
check "watch open" lib_wait 10 sh -c "curl -s --cacert '$KS_CA' '$ADM/state' | grep -q '\"watches\":1'"
expect_eq "dry merge patch on scale: the would-be Scale, RV unchanged" \
    "$(ksend PATCH "$DEPS/frontend/scale?dryRun=All" $MP '{"spec":{"replicas":7}}' | jq_py '(j["kind"], j["spec"]["replicas"], j["metadata"]["resourceVersion"])')" \
    "('Scale', 7, '$FRV')"
expect_eq "dry strategic patch on scale" \
    "$(ksend PATCH "$DEPS/frontend/scale?dryRun=All" $SMP '{"spec":{"replicas":8}}' | jq_py 'j["spec"]["replicas"]')" 8
expect_eq "dry json patch on scale" \
    "$(ksend PATCH "$DEPS/frontend/scale?dryRun=All" $JP '[{"op":"replace","path":"/spec/replicas","value":9}]' | jq_py 'j["spec"]["replicas"]')" 9
expect_eq "dry PUT scale" \
    "$(ksend PUT "$DEPS/frontend/scale?dryRun=All" application/json '{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"frontend"},"spec":{"replicas":4}}' | jq_py 'j["spec"]["replicas"]')" 4
CUR=$(kget "$DEPS/frontend")
GEN=$(printf '%s' "$CUR" | jq_py 'j["metadata"]["generation"]')
expect_eq "dry merge patch on the deployment: generation + 1, RV unchanged" \
    "$(ksend PATCH "$DEPS/frontend?dryRun=All" $MP '{"spec":{"replicas":6}}' | jq_py '(j["spec"]["replicas"], j["metadata"]["generation"], j["metadata"]["resourceVersion"])')" \
    "(6, $((GEN + 1)), '$FRV')"
expect_eq "dry strategic patch on the deployment" \
    "$(ksend PATCH "$DEPS/frontend?dryRun=All" $SMP '{"metadata":{"labels":{"tier":"web"}}}' | jq_py 'j["metadata"]["labels"]["tier"]')" web
expect_eq "dry json patch on the deployment" \
    "$(ksend PATCH "$DEPS/frontend?dryRun=All" $JP '[{"op":"replace","path":"/spec/replicas","value":5}]' | jq_py 'j["spec"]["replicas"]')" 5
expect_eq "dry server-side apply" \
    "$(ksend PATCH "$DEPS/frontend?dryRun=All&fieldManager=t&force=true" application/apply-patch+yaml '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"frontend"},"spec":{"replicas":2}}' | jq_py 'j["spec"]["replicas"]')" 2
PUTBODY=$(printf '%s' "$CUR" | python3 -c 'import json,sys; j=json.load(sys.stdin); j["spec"]["replicas"]=11; print(json.dumps(j))')
expect_eq "dry PUT deployment" \
    "$(ksend PUT "$DEPS/frontend?dryRun=All" application/json "$PUTBODY" | jq_py 'j["spec"]["replicas"]')" 11
NEWDEP='{"metadata":{"name":"drydep"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}'
expect_eq "dry create: 201 with uid, no resourceVersion" \
    "$(kcurl -w ' %{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$NEWDEP" "$KS_URL$DEPS?dryRun=All" | sed 's/ \([0-9]*\)$/\n\1/' | python3 -c 'import json,sys; b,c=sys.stdin.read().rsplit("\n",1); j=json.loads(b); print(c, len(j["metadata"]["uid"]) > 0, "resourceVersion" in j["metadata"])')" \
    "201 True False"
expect_eq "dry create stored nothing" "$(kcode "$DEPS/drydep")" 404
expect_eq "dry create of an existing name: 409 AlreadyExists" \
    "$(ksend POST "$DEPS?dryRun=All" application/json '{"metadata":{"name":"orders"},"spec":{"selector":{"matchLabels":{"a":"b"}}}}' | jq_py '(j["code"], j["reason"])')" \
    "(409, 'AlreadyExists')"
expect_eq "dry delete: Status Success" \
    "$(kcurl -X DELETE "$KS_URL$DEPS/orders?dryRun=All" | jq_py '(j["status"], j["details"]["name"])')" \
    "('Success', 'orders')"
expect_eq "dry delete deleted nothing" "$(kcode "$DEPS/orders")" 200
expect_eq "dry run still validates: negative replicas → 422" \
    "$(ksend PATCH "$DEPS/frontend/scale?dryRun=All" $MP '{"spec":{"replicas":-1}}' | jq_py '(j["code"], j["message"])')" \
    "(422, 'Scale.autoscaling \"frontend\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')"
expect_eq "dry run still checks the precondition: 409" \
    "$(ksend PATCH "$DEPS/frontend/scale?dryRun=All" $MP '{"metadata":{"resourceVersion":"12345"},"spec":{"replicas":7}}' | jq_py 'j["code"]')" 409
expect_eq "dryRun=foo on a patch: 422 PatchOptions" \
    "$(ksend PATCH "$DEPS/frontend/scale?dryRun=foo" $MP '{"spec":{"replicas":7}}' | jq_py '(j["code"], j["reason"], j["message"])')" \
    "(422, 'Invalid', 'PatchOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"foo\"}: supported values: \"All\"')"
expect_eq "dryRun=foo on create: CreateOptions" \
    "$(ksend POST "$DEPS?dryRun=foo" application/json "$NEWDEP" | jq_py 'j["details"]["kind"]')" CreateOptions
expect_eq "dryRun=foo on delete: DeleteOptions" \
    "$(kcurl -X DELETE "$KS_URL$DEPS/orders?dryRun=foo" | jq_py 'j["details"]["kind"]')" DeleteOptions
expect_eq "dry runs made no resourceVersion" "$(state resourceVersion)" "$RV0"
expect_eq "dry runs changed nothing" "$(kget "$DEPS/frontend" | jq_py 'j["spec"]["replicas"]')" 3
# A real write now: it must be the watch's first event (none came before).
ksend PATCH "$DEPS/frontend/scale" $MP '{"spec":{"replicas":4}}' >/dev/null
check "watch got the real write" lib_wait 10 grep -q '"type"' "$LIB_TMP/dw.out"
expect_eq "watch: first event is the real write at RV0+1" \
    "$(head -n 1 "$LIB_TMP/dw.out" | jq_py '(j["type"], j["object"]["metadata"]["resourceVersion"], j["object"]["spec"]["replicas"])')" \
    "('MODIFIED', '$((RV0 + 1))', 4)"
kill "$DW" 2>/dev/null
wait "$DW" 2>/dev/null
lib_forget "$DW"

# --- resourceVersion preconditions ----------------------------------------------
RV=$(kget "$DEPS/frontend" | jq_py 'j["metadata"]["resourceVersion"]')
CONFLICT="(409, 'Conflict', 'Operation cannot be fulfilled on deployments.apps \"frontend\": the object has been modified; please apply your changes to the latest version and try again', {'name': 'frontend', 'group': 'apps', 'kind': 'deployments'})"
CF='(j["code"], j["reason"], j["message"], j["details"])'
expect_eq "scale merge patch with a stale RV: 409" \
    "$(ksend PATCH "$DEPS/frontend/scale" $MP '{"metadata":{"resourceVersion":"1"},"spec":{"replicas":6}}' | jq_py "$CF")" "$CONFLICT"
expect_eq "scale strategic patch with a stale RV: 409" \
    "$(ksend PATCH "$DEPS/frontend/scale" $SMP '{"metadata":{"resourceVersion":"1"},"spec":{"replicas":6}}' | jq_py 'j["code"]')" 409
expect_eq "scale json patch setting a stale RV: 409" \
    "$(ksend PATCH "$DEPS/frontend/scale" $JP '[{"op":"replace","path":"/metadata/resourceVersion","value":"1"},{"op":"replace","path":"/spec/replicas","value":6}]' | jq_py 'j["code"]')" 409
expect_eq "scale PUT with a stale RV: 409" \
    "$(ksend PUT "$DEPS/frontend/scale" application/json '{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"frontend","resourceVersion":"1"},"spec":{"replicas":6}}' | jq_py "$CF")" "$CONFLICT"
expect_eq "deployment merge patch with a stale RV: 409" \
    "$(ksend PATCH "$DEPS/frontend" $MP '{"metadata":{"resourceVersion":"1"},"spec":{"replicas":6}}' | jq_py "$CF")" "$CONFLICT"
PUTBODY=$(kget "$DEPS/frontend" | python3 -c 'import json,sys; j=json.load(sys.stdin); j["metadata"]["resourceVersion"]="1"; j["spec"]["replicas"]=6; print(json.dumps(j))')
expect_eq "deployment PUT with a stale RV: 409" \
    "$(ksend PUT "$DEPS/frontend" application/json "$PUTBODY" | jq_py 'j["code"]')" 409
expect_eq "stale RVs changed nothing" "$(kget "$DEPS/frontend" | jq_py '(j["metadata"]["resourceVersion"], j["spec"]["replicas"])')" "('$RV', 4)"
expect_eq "scale merge patch with the current RV applies" \
    "$(ksend PATCH "$DEPS/frontend/scale" $MP "{\"metadata\":{\"resourceVersion\":\"$RV\"},\"spec\":{\"replicas\":6}}" | jq_py '(j["spec"]["replicas"], j["metadata"]["resourceVersion"])')" \
    "(6, '$((RV + 1))')"

# --- HorizontalPodAutoscalers (autoscaling/v2) --------------------------------
expect_match "/apis lists autoscaling/v2 and events.k8s.io/v1" \
    "$(kget /apis | jq_py '[v["groupVersion"] for g in j["groups"] for v in g["versions"]]')" \
    '"autoscaling/v2".*"coordination|"events.k8s.io/v1"'
expect_eq "/apis/autoscaling/v2: horizontalpodautoscalers, short name hpa" \
    "$(kget /apis/autoscaling/v2 | jq_py '[(r["name"], r["kind"], r["shortNames"]) for r in j["resources"]]')" \
    '[["horizontalpodautoscalers","HorizontalPodAutoscaler",["hpa"]]]'
expect_eq "/apis/events.k8s.io/v1: events" \
    "$(kget /apis/events.k8s.io/v1 | jq_py '[(r["name"], r["kind"], r["namespaced"]) for r in j["resources"]]')" \
    '[["events","Event",true]]'
expect_eq "OpenAPI v3 lists both group-versions" \
    "$(kget /openapi/v3 | jq_py 'sorted(k for k in j["paths"] if "autoscaling" in k or "events" in k)')" \
    '["apis/autoscaling/v2","apis/events.k8s.io/v1"]'
HPA='{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"frontend"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"frontend"},"maxReplicas":5}}'
expect_eq "create HPA: 201, minReplicas defaulted to 1, generation 1" \
    "$(ksend POST "$HPAS" application/json "$HPA" | jq_py '(j["kind"], j["spec"]["minReplicas"], j["metadata"]["generation"], j["spec"]["metrics"][0]["resource"]["name"], j["status"])')" \
    "('HorizontalPodAutoscaler', 1, 1, 'cpu', {'currentMetrics': None, 'desiredReplicas': 0})"
BADHPA='(j["code"], j["message"])'
# minReplicas is defaulted (1) before validation: 0 < 1 twice, as real.
expect_eq "HPA maxReplicas 0: 422" \
    "$(ksend POST "$HPAS" application/json '{"metadata":{"name":"h0"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"x"},"maxReplicas":0}}' | jq_py "$BADHPA")" \
    "(422, 'HorizontalPodAutoscaler.autoscaling \"h0\" is invalid: [spec.maxReplicas: Invalid value: 0: must be greater than 0, spec.maxReplicas: Invalid value: 0: must be greater than or equal to \`minReplicas\`]')"
expect_eq "HPA minReplicas > maxReplicas: 422" \
    "$(ksend POST "$HPAS" application/json '{"metadata":{"name":"h1"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"x"},"minReplicas":4,"maxReplicas":2}}' | jq_py "$BADHPA")" \
    "(422, 'HorizontalPodAutoscaler.autoscaling \"h1\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to \`minReplicas\`')"
expect_eq "HPA minReplicas 0: 422" \
    "$(ksend POST "$HPAS" application/json '{"metadata":{"name":"h2"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"x"},"minReplicas":0,"maxReplicas":2}}' | jq_py "$BADHPA")" \
    "(422, 'HorizontalPodAutoscaler.autoscaling \"h2\" is invalid: spec.minReplicas: Invalid value: 0: must be greater than or equal to 1')"
expect_eq "HPA without scaleTargetRef: kind and name required" \
    "$(ksend POST "$HPAS" application/json '{"metadata":{"name":"h3"},"spec":{"maxReplicas":2}}' | jq_py "$BADHPA")" \
    "(422, 'HorizontalPodAutoscaler.autoscaling \"h3\" is invalid: [spec.scaleTargetRef.kind: Required value, spec.scaleTargetRef.name: Required value]')"
expect_eq "HPA merge patch maxReplicas: generation 2" \
    "$(ksend PATCH "$HPAS/frontend" $MP '{"spec":{"maxReplicas":8}}' | jq_py '(j["spec"]["maxReplicas"], j["metadata"]["generation"])')" "(8, 2)"
expect_eq "HPA patch to an invalid spec: 422" \
    "$(ksend PATCH "$HPAS/frontend" $MP '{"spec":{"minReplicas":9}}' | jq_py 'j["code"]')" 422
expect_eq "HPA dryRun delete keeps it" \
    "$(kcurl -X DELETE "$KS_URL$HPAS/frontend?dryRun=All" | jq_py 'j["status"]'),$(kcode "$HPAS/frontend")" "Success,200"
admin POST "/bookmarks?intervalMs=50" >/dev/null
expect_match "HPA watch with bookmarks: a BOOKMARK of the kind" \
    "$(kget "$HPAS?watch=1&allowWatchBookmarks=true&timeoutSeconds=1")" \
    '"type":"BOOKMARK","object":\{"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":\{"resourceVersion":"[0-9]+"'
expect_match "HPA watch from 0: ADDED" "$(kget "$HPAS?watch=1&timeoutSeconds=1")" '"type":"ADDED".*"name":"frontend"'

# --- Events (events.k8s.io/v1) ----------------------------------------------------
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
EV="{\"metadata\":{\"name\":\"frontend.1\"},\"eventTime\":\"$NOW\",\"reportingController\":\"replicad.io/core\",\"reportingInstance\":\"core-0\",\"action\":\"Scale\",\"reason\":\"PinRestored\",\"type\":\"Normal\",\"note\":\"set replicas to 4\",\"regarding\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"frontend\",\"namespace\":\"default\"}}"
expect_eq "create Event: 201" \
    "$(ksend POST "$EVS" application/json "$EV" | jq_py '(j["kind"], j["apiVersion"], j["reason"], j["regarding"]["name"])')" \
    "('Event', 'events.k8s.io/v1', 'PinRestored', 'frontend')"
expect_eq "merge patch of the series: count and lastObservedTime" \
    "$(ksend PATCH "$EVS/frontend.1" $MP "{\"series\":{\"count\":2,\"lastObservedTime\":\"$NOW\"}}" | jq_py 'j["series"]')" \
    "{\"count\":2,\"lastObservedTime\":\"$NOW\"}"
expect_eq "strategic merge patch of the series" \
    "$(ksend PATCH "$EVS/frontend.1" $SMP "{\"series\":{\"count\":3,\"lastObservedTime\":\"$NOW\"}}" | jq_py 'j["series"]["count"]')" 3
expect_eq "series count 1: 422" \
    "$(ksend PATCH "$EVS/frontend.1" $MP '{"series":{"count":1,"lastObservedTime":null}}' | jq_py '(j["code"], j["message"])')" \
    "(422, 'Event.events.k8s.io \"frontend.1\" is invalid: [series.count: Invalid value: \"\": should be at least 2, series.lastObservedTime: Required value]')"
expect_eq "note is immutable: 422 (internal field name)" \
    "$(ksend PATCH "$EVS/frontend.1" $MP '{"note":"other"}' | jq_py 'j["message"]')" \
    'Event.events.k8s.io "frontend.1" is invalid: message: Invalid value: "other": field is immutable'
expect_eq "empty Event: the required fields" \
    "$(ksend POST "$EVS" application/json "{\"metadata\":{\"name\":\"e2\"},\"eventTime\":\"$NOW\",\"regarding\":{\"namespace\":\"default\"}}" | jq_py '[c["field"] for c in j["details"]["causes"]]')" \
    '["reportingController","reportingController","reportingController","reportingInstance","action","reason","type"]'
expect_eq "Event type Other: 422" \
    "$(ksend POST "$EVS" application/json "$(printf '%s' "$EV" | sed 's/frontend.1/e3/; s/"Normal"/"Other"/')" | jq_py 'j["message"]')" \
    'Event.events.k8s.io "e3" is invalid: type: Invalid value: "": has invalid value: Other'
LONG=$(head -c 1025 /dev/zero | tr '\0' x)
expect_eq "note over 1 kB: 422" \
    "$(ksend POST "$EVS" application/json "$(printf '%s' "$EV" | sed "s/frontend.1/e4/; s/set replicas to 4/$LONG/")" | jq_py 'j["message"]')" \
    'Event.events.k8s.io "e4" is invalid: message: Invalid value: "": can have at most 1024 characters'
expect_eq "eventTime without microseconds: 400" \
    "$(ksend POST "$EVS" application/json "$(printf '%s' "$EV" | sed 's/frontend.1/e5/; s/\.000000Z/Z/')" | jq_py '(j["code"], j["reason"])')" \
    "(400, 'BadRequest')"
expect_eq "Event without eventTime: required" \
    "$(ksend POST "$EVS" application/json '{"metadata":{"name":"e6"},"type":"Normal","regarding":{"namespace":"default"}}' | jq_py '[c["field"] for c in j["details"]["causes"]]')" \
    '["eventTime"]'
expect_match "Events watch: ADDED" "$(kget "$EVS?watch=1&timeoutSeconds=1")" '"type":"ADDED","object":\{"kind":"Event"'
expect_eq "delete Event" "$(kcurl -X DELETE "$KS_URL$EVS/frontend.1" | jq_py 'j["status"]')" Success

# --- 403 rules for the new resources; faults by verb + resource ------------------
admin POST "/deny?rule=create:events" >/dev/null
admin POST "/deny?rule=update:horizontalpodautoscalers" >/dev/null
expect_eq "deny create:events → 403 with the real text" \
    "$(ksend POST "$EVS" application/json "$EV" | jq_py '(j["code"], j["message"])')" \
    "(403, 'events.events.k8s.io is forbidden: User \"system:serviceaccount:default:replicad\" cannot create resource \"events\" in API group \"events.k8s.io\" in the namespace \"default\"')"
expect_eq "deny update:horizontalpodautoscalers → 403" \
    "$(kget "$HPAS/frontend" | ksend PUT "$HPAS/frontend" application/json "$(cat)" | jq_py 'j["code"]')" 403
expect_eq "patch of an HPA is still allowed" \
    "$(ksend PATCH "$HPAS/frontend" $MP '{"spec":{"maxReplicas":7}}' | jq_py 'j["spec"]["maxReplicas"]')" 7
admin DELETE /deny >/dev/null
admin POST "/faults?verb=create&resource=events&status=500&count=2" >/dev/null
expect_eq "fault verb=create resource=events: 500 #1" \
    "$(ksend POST "$EVS" application/json "$EV" | jq_py '(j["code"], j["reason"])')" "(500, 'InternalError')"
expect_eq "a read of events is not faulted" "$(kcode "$EVS")" 200
expect_eq "fault: 500 #2" "$(ksend POST "$EVS" application/json "$EV" | jq_py 'j["code"]')" 500
expect_eq "fault used up: 201" "$(ksend POST "$EVS" application/json "$EV" | jq_py 'j["kind"]')" Event
admin POST "/faults?verb=update&resource=deployments/scale&status=503" >/dev/null
expect_eq "fault by subresource: PUT scale 503" \
    "$(ksend PUT "$DEPS/orders/scale" application/json '{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"orders"},"spec":{"replicas":2}}' | jq_py 'j["code"]')" 503

# --- /_sim/restore ------------------------------------------------------------
OLD=$(state resourceVersion)
NEW=$((OLD + 100))
lib_bg rw curl -sN --cacert "$KS_CA" -H "Authorization: Bearer sw-token" \
    "$KS_URL$DEPS?watch=1&resourceVersion=$OLD&timeoutSeconds=30"
RW=$LIB_LAST_PID
check "watch before the restore" lib_wait 10 sh -c "curl -s --cacert '$KS_CA' '$ADM/state' | grep -q '\"watches\":1'"
expect_eq "restore: ok, resourceVersion N" \
    "$(admin POST "/restore?deployments=frontend=1,billing=2&rv=$NEW" | jq_py '(j["status"], j["resourceVersion"])')" "('ok', $NEW)"
check "restore closed the watch cleanly" lib_wait_pid "$RW" 10
wait "$RW"
expect_eq "closed watch: curl exit 0, no event" "$?,$(wc -c <"$LIB_TMP/rw.out")" "0,0"
lib_forget "$RW"
expect_eq "list after the restore: the restored set at RV N" \
    "$(kget "$DEPS" | jq_py '(j["metadata"]["resourceVersion"], [(i["metadata"]["name"], i["spec"]["replicas"]) for i in j["items"]])')" \
    "('$NEW', [('billing', 2), ('frontend', 1)])"
expect_eq "watch resumed from the old RV: no events, clean end" \
    "$(kget "$DEPS?watch=1&resourceVersion=$OLD&timeoutSeconds=1" | wc -c)" 0
ksend PATCH "$DEPS/billing/scale" $MP '{"spec":{"replicas":3}}' >/dev/null
expect_eq "...then only the writes after it" \
    "$(kget "$DEPS?watch=1&resourceVersion=$OLD&timeoutSeconds=1" | head -n 1 | jq_py '(j["type"], j["object"]["metadata"]["name"], j["object"]["metadata"]["resourceVersion"])')" \
    "('MODIFIED', 'billing', '$((NEW + 1))')"
expect_eq "restore: bad entry → 400" "$(kcurl -o /dev/null -w '%{http_code}' -X POST "$ADM/restore?deployments=Bad_Name=1")" 400

# --- the real kubectl ------------------------------------------------------------
if command -v kubectl >/dev/null 2>&1; then
	admin POST "/controller?paused=0" >/dev/null
	ks_kubeconfig sw-token
	expect_match "kubectl scale --dry-run=server" \
	    "$($K scale deployment billing --replicas=9 --dry-run=server 2>&1)" 'scaled \(server dry run\)'
	expect_eq "...stored nothing" "$(kget "$DEPS/billing" | jq_py 'j["spec"]["replicas"]')" 3
	# kubectl checks the precondition itself on the object it read first.
	expect_match "kubectl scale --resource-version stale: refused" \
	    "$($K scale deployment billing --replicas=4 --resource-version=1 2>&1)" \
	    'Expected resource version to be 1|the object has been modified'
	cat >"$LIB_TMP/hpa.yaml" <<'Y'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: billing}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: billing}
  minReplicas: 2
  maxReplicas: 6
Y
	expect_match "kubectl create -f hpa.yaml --dry-run=server" \
	    "$($K create -f "$LIB_TMP/hpa.yaml" --dry-run=server 2>&1)" 'created \(server dry run\)'
	expect_match "kubectl create -f hpa.yaml" "$($K create -f "$LIB_TMP/hpa.yaml" 2>&1)" \
	    'horizontalpodautoscaler.autoscaling/billing created'
	OUT=$($K get hpa 2>&1)
	expect_match "kubectl get hpa: the printer's columns" "$OUT" \
	    '^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE'
	expect_match "kubectl get hpa: a row" "$OUT" \
	    '^billing +Deployment/billing +cpu: <unknown>/80% +2 +6 +0 +[0-9]+s'
	expect_eq "kubectl get hpa -o jsonpath" \
	    "$($K get hpa billing -o jsonpath='{.spec.minReplicas}/{.spec.maxReplicas}' 2>&1)" 2/6
	expect_match "kubectl get events (events.k8s.io)" \
	    "$($K get events.events.k8s.io 2>&1)" 'frontend.1'
	expect_match "kubectl delete hpa" "$($K delete hpa billing 2>&1)" \
	    'horizontalpodautoscaler.autoscaling "billing" deleted'
else
	lib_log "kubectl not installed: its checks skipped"
fi

check "clean exit on SIGTERM" ks_stop
lib_finish
