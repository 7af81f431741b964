#!/bin/bash
# kube-sim-api: discovery, auth, CRUD, patch, scale and error Status
# bodies of kube-sim, with curl as the client.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-api

KS_AUTH=tok-api
ks_start --deployments frontend=3,orders=2,worker=1 --token tok-api \
    --controller-delay-ms 20 --deny patch:configmaps

# --- meta and discovery
expect_eq "healthz ok" "$(kget /healthz)" "ok"
expect_match "version json" "$(kget /version)" '"gitVersion":"v1\.32\.0"'
expect_match "apps/v1 lists deployments/scale" "$(kget /apis/apps/v1)" \
    '"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale"'
expect_match "/apis has coordination" "$(kget /apis)" '"name":"coordination.k8s.io"'
expect_match "/api/v1 has configmaps" "$(kget /api/v1)" '"name":"configmaps"'
expect_eq "unknown path 404 Status" "$(kget /nope)" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}'

# --- auth
expect_eq "bad token 401 exact" \
    "$(curl -s -H 'Authorization: Bearer wrong' "$KS_URL/healthz")" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}'
expect_eq "anonymous may read /version" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$KS_URL/version")" 200
expect_match "anonymous list is 403" "$(curl -s "$KS_URL$DEPS")" \
    'deployments.apps is forbidden: User \\"system:anonymous\\" cannot list resource \\"deployments\\" in API group \\"apps\\" in the namespace \\"default\\"'

# --- list / get
L=$(kget "$DEPS")
expect_eq "list kind" "$(echo "$L" | jq_py 'j["kind"]')" DeploymentList
expect_eq "list names sorted" "$(echo "$L" | jq_py '",".join(i["metadata"]["name"] for i in j["items"])')" \
    "frontend,orders,worker"
expect_eq "items carry no kind" "$(echo "$L" | jq_py '"kind" in j["items"][0]')" False
expect_eq "list RV is latest" "$(echo "$L" | jq_py 'j["metadata"]["resourceVersion"]')" 3
expect_eq "unknown namespace: empty list" \
    "$(kget /apis/apps/v1/namespaces/nope/deployments | jq_py 'len(j["items"])')" 0
G=$(kget "$DEPS/frontend")
expect_eq "get has kind" "$(echo "$G" | jq_py 'j["kind"]+"/"+j["apiVersion"]')" "Deployment/apps/v1"
expect_eq "get 404 exact" "$(kget "$DEPS/nope")" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"nope\" not found","reason":"NotFound","details":{"name":"nope","group":"apps","kind":"deployments"},"code":404}'

# --- pagination
P1=$(kget "$DEPS?limit=2")
TOK=$(echo "$P1" | jq_py 'j["metadata"]["continue"]')
expect_eq "page 1 has 2 items, 1 remaining" \
    "$(echo "$P1" | jq_py '(len(j["items"]), j["metadata"]["remainingItemCount"])')" "(2, 1)"
P2=$(kget "$DEPS?limit=2&continue=$TOK")
expect_eq "page 2 has worker, no continue" \
    "$(echo "$P2" | jq_py '([i["metadata"]["name"] for i in j["items"]], "continue" in j["metadata"])')" \
    "(['worker'], False)"
expect_eq "pages share the list RV" "$(echo "$P2" | jq_py 'j["metadata"]["resourceVersion"]')" 3
expect_eq "bad continue 400" "$(kcode "$DEPS?limit=2&continue=%21%21")" 400
expect_eq "continue + RV 400" "$(kcode "$DEPS?limit=2&continue=$TOK&resourceVersion=3")" 400

# --- query validation
expect_eq "limit=abc 400" "$(kget "$DEPS?limit=abc" | jq_py 'j["message"]')" \
    'strconv.ParseInt: parsing "abc": invalid syntax'
expect_eq "limit out of range 400" "$(kcode "$DEPS?limit=99999999999999999999")" 400
expect_eq "resourceVersion=abc 422" "$(kget "$DEPS?resourceVersion=abc" | jq_py 'j["message"]')" \
    'deployments.apps "" is invalid: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'
expect_eq "resourceVersionMatch without RV 422" \
    "$(kget "$DEPS?resourceVersionMatch=NotOlderThan" | jq_py 'j["message"]')" \
    'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'
expect_eq "RV in the future 504" "$(kget "$DEPS?resourceVersion=999" | jq_py '(j["code"], j["reason"], j["details"]["causes"][0]["reason"])')" \
    "(504, 'Timeout', 'ResourceVersionTooLarge')"
expect_match "bad labelSelector 400" "$(kget "$DEPS?labelSelector=a%20b%20c")" 'unable to parse requirement'
expect_eq "fieldSelector unsupported 400" "$(kget "$DEPS?fieldSelector=spec.replicas%3D1" | jq_py 'j["message"]')" \
    'field label not supported: spec.replicas'
expect_eq "labelSelector app=orders" \
    "$(kget "$DEPS?labelSelector=app%3Dorders" | jq_py '[i["metadata"]["name"] for i in j["items"]]')" '["orders"]'
expect_eq "labelSelector app in (orders,worker)" \
    "$(kget "$DEPS?labelSelector=app%20in%20(orders,worker)" | jq_py 'len(j["items"])')" 2
expect_eq "fieldSelector metadata.name=worker" \
    "$(kget "$DEPS?fieldSelector=metadata.name%3Dworker" | jq_py '[i["metadata"]["name"] for i in j["items"]]')" '["worker"]'

# --- scale subresource (controller paused: RVs stay put meanwhile)
curl -s -X POST "$KS_URL/_sim/controller?paused=1" >/dev/null
S=$(kget "$DEPS/frontend/scale")
expect_eq "scale shape" "$S" \
    "$(echo "$G" | jq_py 'json.dumps({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{k:j["metadata"][k] for k in ("name","namespace","uid","resourceVersion","creationTimestamp")},"spec":{"replicas":3},"status":{"replicas":3,"selector":"app=frontend"}},separators=(",",":"))')"
R=$(ksend PATCH "$DEPS/frontend/scale" application/merge-patch+json '{"spec":{"replicas":5}}')
expect_eq "scale patch answers Scale 5" "$(echo "$R" | jq_py '(j["spec"]["replicas"], j["metadata"]["resourceVersion"])')" "(5, '4')"
expect_eq "generation bumped" "$(kget "$DEPS/frontend" | jq_py 'j["metadata"]["generation"]')" 2
R2=$(ksend PATCH "$DEPS/frontend/scale" application/merge-patch+json '{"spec":{"replicas":5}}')
expect_eq "no-op scale keeps RV" "$(echo "$R2" | jq_py 'j["metadata"]["resourceVersion"]')" 4
expect_eq "no-op made no RV" "$(kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')" 4
expect_eq "negative replicas via scale 422 exact" \
    "$(ksend PATCH "$DEPS/frontend/scale" application/merge-patch+json '{"spec":{"replicas":-1}}')" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Scale.autoscaling \"frontend\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0","reason":"Invalid","details":{"name":"frontend","group":"autoscaling","kind":"Scale","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]},"code":422}'
expect_eq "stale RV on scale PUT 409 exact" \
    "$(ksend PUT "$DEPS/frontend/scale" application/json '{"metadata":{"name":"frontend","resourceVersion":"1"},"spec":{"replicas":2}}')" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on deployments.apps \"frontend\": the object has been modified; please apply your changes to the latest version and try again","reason":"Conflict","details":{"name":"frontend","group":"apps","kind":"deployments"},"code":409}'
CUR=$(kget "$DEPS/frontend" | jq_py 'j["metadata"]["resourceVersion"]')
expect_eq "scale PUT with current RV" \
    "$(ksend PUT "$DEPS/frontend/scale" application/json "{\"metadata\":{\"name\":\"frontend\",\"resourceVersion\":\"$CUR\"},\"spec\":{\"replicas\":0}}")" \
    "$(kget "$DEPS/frontend/scale")"
expect_eq "scale to 0 gives spec {}" "$(kget "$DEPS/frontend/scale" | jq_py 'j["spec"]')" '{}'
expect_eq "scale patch 404" "$(ksend PATCH "$DEPS/nope/scale" application/merge-patch+json '{"spec":{"replicas":1}}' | jq_py 'j["message"]')" \
    'deployments.apps "nope" not found'
curl -s -X POST "$KS_URL/_sim/controller?paused=0" >/dev/null
check "controller converges status" lib_wait 10 sh -c \
    "curl -s -H 'Authorization: Bearer tok-api' $KS_URL$DEPS/orders | grep -q '\"availableReplicas\":2'"

# --- deployment patch
R=$(ksend PATCH "$DEPS/orders" application/strategic-merge-patch+json \
    '{"metadata":{"annotations":{"pin":"4"},"labels":{"tier":"back"}},"spec":{"replicas":4}}')
expect_eq "strategic merge patch" "$(echo "$R" | jq_py '(j["spec"]["replicas"], j["metadata"]["annotations"]["pin"], j["metadata"]["labels"]["tier"])')" \
    "(4, '4', 'back')"
R=$(ksend PATCH "$DEPS/orders" application/merge-patch+json '{"metadata":{"annotations":{"pin":null}}}')
expect_eq "merge patch null deletes" "$(echo "$R" | jq_py '"pin" in j["metadata"]["annotations"]')" False
expect_match "negative replicas via deployment 422" \
    "$(ksend PATCH "$DEPS/orders" application/merge-patch+json '{"spec":{"replicas":-3}}')" \
    'Deployment.apps \\"orders\\" is invalid: spec.replicas: Invalid value: -3: must be greater than or equal to 0'
expect_eq "stale RV in merge patch 409" \
    "$(ksend PATCH "$DEPS/orders" application/merge-patch+json '{"metadata":{"resourceVersion":"2"},"spec":{"replicas":1}}' | jq_py 'j["code"]')" 409
expect_eq "wrong patch type 415 exact" \
    "$(ksend PATCH "$DEPS/orders" text/plain '{}' | jq_py 'j["message"]')" \
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml'
expect_eq "malformed JSON 400" \
    "$(ksend PATCH "$DEPS/orders" application/merge-patch+json '{"spec":' | jq_py '(j["code"], j["reason"])')" "(400, 'BadRequest')"
expect_eq "too deep JSON 400" \
    "$(ksend PATCH "$DEPS/orders" application/merge-patch+json "$(python3 -c 'print("["*100+"]"*100)')" | jq_py 'j["code"]')" 400
head -c 3200000 /dev/zero | tr '\0' ' ' >"$LIB_TMP/big.json"
expect_eq "oversized body 413" \
    "$(kcurl -X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary @"$LIB_TMP/big.json" "$KS_URL$DEPS/orders" | jq_py '(j["code"], j["reason"], j["message"])')" \
    "(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728')"

# --- create / delete
NEW='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"api"}},"template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[{"name":"api","image":"nginx"}]}}}}'
expect_eq "create 201" "$(kcurl -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$NEW" "$KS_URL$DEPS")" 201
expect_eq "create again 409 AlreadyExists" \
    "$(ksend POST "$DEPS" application/json "$NEW" | jq_py '(j["reason"], j["message"])')" \
    "('AlreadyExists', 'deployments.apps \"api\" already exists')"
expect_eq "create without name 422" "$(ksend POST "$DEPS" application/json '{"spec":{}}' | jq_py 'j["code"]')" 422
UID1=$(kget "$DEPS/api" | jq_py 'j["metadata"]["uid"]')
expect_eq "delete Success" "$(kcurl -X DELETE "$KS_URL$DEPS/api" | jq_py '(j["status"], j["details"]["uid"])')" "('Success', '$UID1')"
expect_eq "deleted: 404" "$(kcode "$DEPS/api")" 404
kcurl -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "$NEW" "$KS_URL$DEPS"
expect_eq "re-create has a new uid" "$(kget "$DEPS/api" | jq_py 'j["metadata"]["uid"] != "'"$UID1"'"')" True

# --- configmaps and leases
CM=/api/v1/namespaces/default/configmaps
expect_eq "configmap create" "$(ksend POST $CM application/json '{"metadata":{"name":"pins"},"data":{"frontend":"3"}}' | jq_py 'j["kind"]+":"+j["data"]["frontend"]')" "ConfigMap:3"
expect_eq "configmap create twice 409" "$(ksend POST $CM application/json '{"metadata":{"name":"pins"}}' | jq_py 'j["reason"]')" AlreadyExists
CRV=$(kget $CM/pins | jq_py 'j["metadata"]["resourceVersion"]')
expect_eq "configmap PUT with RV" "$(ksend PUT $CM/pins application/json "{\"metadata\":{\"name\":\"pins\",\"resourceVersion\":\"$CRV\"},\"data\":{\"frontend\":\"4\"}}" | jq_py 'j["data"]["frontend"]')" 4
expect_eq "configmap PUT stale RV 409" "$(ksend PUT $CM/pins application/json "{\"metadata\":{\"name\":\"pins\",\"resourceVersion\":\"$CRV\"},\"data\":{}}" | jq_py 'j["message"]')" \
    'Operation cannot be fulfilled on configmaps "pins": the object has been modified; please apply your changes to the latest version and try again'
expect_eq "configmap list" "$(kget $CM | jq_py '(j["kind"], len(j["items"]))')" "('ConfigMapList', 1)"
expect_eq "deny rule 403 exact" "$(ksend PATCH $CM/pins application/merge-patch+json '{}' | jq_py 'j["message"]')" \
    'configmaps "pins" is forbidden: User "system:serviceaccount:default:replicad" cannot patch resource "configmaps" in API group "" in the namespace "default"'
expect_eq "configmap delete" "$(kcurl -X DELETE "$KS_URL$CM/pins" | jq_py 'j["status"]')" Success
LS=/apis/coordination.k8s.io/v1/namespaces/default/leases
LEASE='{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"replicad"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"acquireTime":"2025-03-01T10:00:00.000000Z","renewTime":"2025-03-01T10:00:00.000000Z","leaseTransitions":0}}'
expect_eq "lease create" "$(ksend POST $LS application/json "$LEASE" | jq_py 'j["spec"]["holderIdentity"]')" a
expect_eq "lease create again 409" "$(ksend POST $LS application/json "$LEASE" | jq_py 'j["message"]')" \
    'leases.coordination.k8s.io "replicad" already exists'
LRV=$(kget $LS/replicad | jq_py 'j["metadata"]["resourceVersion"]')
UPD=$(echo "$LEASE" | python3 -c 'import json,sys; j=json.load(sys.stdin); j["metadata"]["resourceVersion"]=sys.argv[1]; j["spec"]["holderIdentity"]="b"; print(json.dumps(j))' "$LRV")
expect_eq "lease PUT takes over" "$(ksend PUT $LS/replicad application/json "$UPD" | jq_py 'j["spec"]["holderIdentity"]')" b
expect_eq "lease PUT stale 409" "$(ksend PUT $LS/replicad application/json "$UPD" | jq_py 'j["message"]')" \
    'Operation cannot be fulfilled on leases.coordination.k8s.io "replicad": the object has been modified; please apply your changes to the latest version and try again'
expect_eq "lease 404" "$(kget $LS/other | jq_py 'j["message"]')" 'leases.coordination.k8s.io "other" not found'

# --- RVs: monotonic across kinds
expect_eq "RV monotonic across kinds" \
    "$(kget "$DEPS" | jq_py 'int(j["metadata"]["resourceVersion"]) >= '"$LRV")" True

check "clean exit on SIGTERM" ks_stop
lib_finish
