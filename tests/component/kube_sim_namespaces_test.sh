#!/bin/bash
# kube-sim-namespaces (issue #15): several namespaces in one kube-sim —
# --deployments with ns/name entries, lists per namespace and across all
# namespaces (deployments, configmaps, HPAs), a watch across namespaces,
# get/scale in each, 403 rules per namespace and at the cluster scope
# (--deny and /_sim/deny with @NS / @, the real messages, kubectl auth
# can-i), fault rules per namespace, /_sim/restore of one namespace or
# all, and the real kubectl with -A and -n.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-namespaces

command -v openssl >/dev/null 2>&1 || lib_skip "openssl not installed"

# Bad entries and rules are usage errors.
"$KS_BIN" --deployments 'Bad_NS/web=1' >/dev/null 2>"$LIB_TMP/bad.err"
expect_eq "--deployments Bad_NS/web: exit 1" "$?" 1
expect_match "--deployments: the message names the syntax" "$(cat "$LIB_TMP/bad.err")" \
    'bad entry Bad_NS/web=1 \(want \[NAMESPACE/\]NAME\[=REPLICAS\]\)'
"$KS_BIN" --deny 'list:deployments@Bad_NS' >/dev/null 2>"$LIB_TMP/bad.err"
expect_eq "--deny with a bad namespace: exit 1" "$?" 1

ks_pki
KS_AUTH=ns-token
U=system:serviceaccount:default:replicad
ks_start --deployments web=3,orders=1,payments/api=2,payments/web=1 \
    --token ns-token "${KS_TLS[@]}" --controller-delay-ms 20 \
    --deny 'delete:deployments@payments' --user "$U"
ADM=$KS_URL/_sim
admin() { kcurl -X "$1" "$ADM$2"; }
state() { admin GET /state | jq_py "j[\"$1\"]"; }
MP=application/merge-patch+json
PAY=/apis/apps/v1/namespaces/payments/deployments
ALL=/apis/apps/v1/deployments
names() { jq_py '[(i["metadata"]["namespace"], i["metadata"]["name"], i["spec"]["replicas"]) for i in j["items"]]'; }

# --- lists: per namespace and across all ----------------------------------------
expect_eq "list default: its own deployments" "$(kget "$DEPS" | names)" \
    '[["default","orders",1],["default","web",3]]'
expect_eq "list payments: its own deployments" "$(kget "$PAY" | names)" \
    '[["payments","api",2],["payments","web",1]]'
expect_eq "list of a namespace without objects: 200, empty" \
    "$(kget /apis/apps/v1/namespaces/empty/deployments | jq_py '(j["kind"], len(j["items"]))')" \
    "('DeploymentList', 0)"
RV=$(state resourceVersion)
expect_eq "all-namespaces list: every namespace, sorted, metadata.namespace set, one RV" \
    "$(kget "$ALL" | jq_py '(j["kind"], j["metadata"]["resourceVersion"], [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in j["items"]])')" \
    "('DeploymentList', '$RV', [('default', 'orders'), ('default', 'web'), ('payments', 'api'), ('payments', 'web')])"
expect_eq "all-namespaces list with fieldSelector metadata.namespace" \
    "$(kget "$ALL?fieldSelector=metadata.namespace%3Dpayments" | jq_py '[i["metadata"]["name"] for i in j["items"]]')" \
    '["api","web"]'
expect_eq "all-namespaces list paged: limit=3 then continue" \
    "$(T=$(kget "$ALL?limit=3" | jq_py 'j["metadata"]["continue"]'); kget "$ALL?limit=3&continue=$T" | jq_py '[(i["metadata"]["namespace"], i["metadata"]["name"]) for i in j["items"]]')" \
    '[["payments","web"]]'
for ns in default payments; do
	ksend POST "/api/v1/namespaces/$ns/configmaps" application/json \
	    "{\"metadata\":{\"name\":\"cfg\"},\"data\":{\"ns\":\"$ns\"}}" >/dev/null
	ksend POST "/apis/autoscaling/v2/namespaces/$ns/horizontalpodautoscalers" application/json \
	    '{"metadata":{"name":"web"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web","apiVersion":"apps/v1"},"maxReplicas":5}}' >/dev/null
done
expect_eq "all-namespaces configmaps: both, with their namespace" \
    "$(kget /api/v1/configmaps | jq_py '(j["kind"], [(i["metadata"]["namespace"], i["data"]["ns"]) for i in j["items"]])')" \
    "('ConfigMapList', [('default', 'default'), ('payments', 'payments')])"
expect_eq "all-namespaces HPAs: both, with their namespace" \
    "$(kget /apis/autoscaling/v2/horizontalpodautoscalers | jq_py '(j["kind"], [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in j["items"]])')" \
    "('HorizontalPodAutoscalerList', [('default', 'web'), ('payments', 'web')])"
expect_eq "create at the all-namespaces path: 405" \
    "$(ksend POST "$ALL" application/json '{"metadata":{"name":"x"}}' | jq_py 'j["code"]')" 405

# --- get and scale in each namespace ------------------------------------------
expect_eq "same name in two namespaces: two objects" \
    "$(kget "$DEPS/web" | jq_py '(j["metadata"]["namespace"], j["spec"]["replicas"])'),$(kget "$PAY/web" | jq_py '(j["metadata"]["namespace"], j["spec"]["replicas"])')" \
    "('default', 3),('payments', 1)"
expect_eq "a name of another namespace: 404" \
    "$(kget "$DEPS/api" | jq_py '(j["code"], j["message"])')" \
    "(404, 'deployments.apps \"api\" not found')"
expect_eq "get scale in payments" \
    "$(kget "$PAY/api/scale" | jq_py '(j["metadata"]["namespace"], j["spec"]["replicas"])')" \
    "('payments', 2)"
admin POST "/controller?paused=1" >/dev/null
RV=$(state resourceVersion)
lib_bg aw curl -sN --cacert "$KS_CA" -H "Authorization: Bearer ns-token" \
    "$KS_URL$ALL?watch=1&resourceVersion=$RV&timeoutSeconds=300"
AW=$LIB_LAST_PID
check "all-namespaces watch open" lib_wait 10 sh -c "curl -s --cacert '$KS_CA' '$ADM/state' | grep -q '\"watches\":1'"
expect_eq "scale payments/web" \
    "$(ksend PATCH "$PAY/web/scale" $MP '{"spec":{"replicas":4}}' | jq_py '(j["metadata"]["namespace"], j["spec"]["replicas"])')" \
    "('payments', 4)"
expect_eq "scale default/web" \
    "$(ksend PATCH "$DEPS/web/scale" $MP '{"spec":{"replicas":6}}' | jq_py '(j["metadata"]["namespace"], j["spec"]["replicas"])')" \
    "('default', 6)"
expect_eq "each scale touched only its namespace" \
    "$(kget "$ALL" | names)" \
    '[["default","orders",1],["default","web",6],["payments","api",2],["payments","web",4]]'

# --- watch across namespaces -------------------------------------------------
check "all-namespaces watch: events of both namespaces" lib_wait 10 sh -c \
    "[ \$(wc -l <'$LIB_TMP/aw.out') -ge 2 ]"
expect_eq "...in order, with their namespaces and the shared RV counter" \
    "$(head -n 2 "$LIB_TMP/aw.out" | python3 -c 'import json,sys
print([(e["type"], e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"], int(e["object"]["metadata"]["resourceVersion"])) for e in map(json.loads, sys.stdin)])')" \
    "[('MODIFIED', 'payments', 'web', $((RV + 1))), ('MODIFIED', 'default', 'web', $((RV + 2)))]"
kill "$AW" 2>/dev/null
expect_eq "all-namespaces watch from RV unset: ADDED for every namespace" \
    "$(kget "$ALL?watch=1&timeoutSeconds=1" | python3 -c 'import json,sys
print(sorted((e["type"], e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"]) for e in map(json.loads, sys.stdin)))')" \
    "[('ADDED', 'default', 'orders'), ('ADDED', 'default', 'web'), ('ADDED', 'payments', 'api'), ('ADDED', 'payments', 'web')]"
expect_eq "namespaced watch from the same RV: only its namespace" \
    "$(kget "$PAY?watch=1&resourceVersion=$RV&timeoutSeconds=1" | python3 -c 'import json,sys
print([(e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"]) for e in map(json.loads, sys.stdin)])')" \
    "[('payments', 'web')]"
expect_eq "configmaps watch across namespaces" \
    "$(kget "/api/v1/configmaps?watch=1&timeoutSeconds=1" | python3 -c 'import json,sys
print(sorted(e["object"]["metadata"]["namespace"] for e in map(json.loads, sys.stdin)))')" \
    "['default', 'payments']"
admin POST "/controller?paused=0" >/dev/null

# --- 403 per namespace and at the cluster scope ----------------------------------
expect_eq "--deny delete:deployments@payments: delete in payments is 403" \
    "$(kcurl -X DELETE "$KS_URL$PAY/web" | jq_py '(j["code"], j["message"])')" \
    "(403, 'deployments.apps \"web\" is forbidden: User \"$U\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"payments\"')"
admin DELETE /deny >/dev/null
expect_eq "deny rules cleared: payments list 200" "$(kcode "$PAY")" 200
expect_eq "deny rule list:deployments@payments" \
    "$(admin POST "/deny?rule=list:deployments@payments" | jq_py 'j["rules"]')" 1
expect_eq "...payments list: 403 with the namespace message" \
    "$(kget "$PAY" | jq_py '(j["code"], j["reason"], j["message"])')" \
    "(403, 'Forbidden', 'deployments.apps is forbidden: User \"$U\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"payments\"')"
expect_eq "...default list: 200" "$(kcode "$DEPS")" 200
expect_eq "...all-namespaces list: 200 (a Role in payments is not a ClusterRole deny)" "$(kcode "$ALL")" 200
expect_eq "...payments get: 200 (other verbs)" "$(kcode "$PAY/api")" 200
admin DELETE /deny >/dev/null
admin POST "/deny?rule=list:deployments@" >/dev/null
admin POST "/deny?rule=watch:deployments@" >/dev/null
expect_eq "deny list:deployments@ (no ClusterRole): all-namespaces list 403, cluster-scope message" \
    "$(kget "$ALL" | jq_py '(j["code"], j["message"])')" \
    "(403, 'deployments.apps is forbidden: User \"$U\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope')"
expect_eq "...all-namespaces watch 403 at the cluster scope" \
    "$(kget "$ALL?watch=1&timeoutSeconds=1" | jq_py '(j["code"], j["message"])')" \
    "(403, 'deployments.apps is forbidden: User \"$U\" cannot watch resource \"deployments\" in API group \"apps\" at the cluster scope')"
expect_eq "...namespaced lists still 200 (the Roles)" "$(kcode "$DEPS"),$(kcode "$PAY")" 200,200
admin DELETE /deny >/dev/null
admin POST "/deny?rule=patch:deployments/scale@payments" >/dev/null
expect_eq "deny patch:deployments/scale@payments: named 403" \
    "$(ksend PATCH "$PAY/api/scale" $MP '{"spec":{"replicas":3}}' | jq_py '(j["code"], j["message"], j["details"])')" \
    "(403, 'deployments.apps \"api\" is forbidden: User \"$U\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"payments\"', {'name': 'api', 'group': 'apps', 'kind': 'deployments'})"
expect_eq "...the same patch in default: 200" \
    "$(ksend PATCH "$DEPS/orders/scale" $MP '{"spec":{"replicas":2}}' | jq_py 'j["spec"]["replicas"]')" 2
expect_eq "deny rule with a bad namespace: 400" \
    "$(kcurl -o /dev/null -w '%{http_code}' -X POST "$ADM/deny?rule=list:deployments@Bad_NS")" 400
ssar() {
	ksend POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews application/json \
	    "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\",\"spec\":{\"resourceAttributes\":{\"namespace\":\"$1\",\"verb\":\"patch\",\"group\":\"apps\",\"resource\":\"deployments\",\"subresource\":\"scale\"}}}" |
	    jq_py 'j["status"]["allowed"]'
}
expect_eq "SelfSubjectAccessReview follows the namespace: payments no, default yes" \
    "$(ssar payments),$(ssar default)" False,True
admin DELETE /deny >/dev/null

# --- faults per namespace -------------------------------------------------------
admin POST "/faults?verb=list&resource=deployments@payments&status=500&count=2" >/dev/null
expect_eq "fault list@payments: payments list 500" "$(kget "$PAY" | jq_py 'j["code"]')" 500
expect_eq "...default and all-namespaces lists untouched" "$(kcode "$DEPS"),$(kcode "$ALL")" 200,200
expect_eq "...payments list 500 again (count 2)" "$(kget "$PAY" | jq_py 'j["code"]')" 500
expect_eq "...then 200" "$(kcode "$PAY")" 200
admin POST "/faults?verb=watch&resource=deployments@payments&close=1" >/dev/null
kcurl -o /dev/null "$KS_URL$PAY?watch=1&timeoutSeconds=1"
expect_eq "fault watch@payments close=1: connection dropped (curl 52)" "$?" 52
expect_eq "...a default watch works meanwhile" \
    "$(kget "$DEPS?watch=1&timeoutSeconds=1" | wc -l | tr -d ' ')" 2
admin POST "/faults?verb=watch&resource=deployments@payments&close=1" >/dev/null
expect_eq "...and an all-namespaces watch too" \
    "$(kget "$ALL?watch=1&timeoutSeconds=1" | wc -l | tr -d ' ')" 4
expect_eq "...the rule still waits for payments" "$(admin GET /faults | jq_py 'j["faults"]')" 1
admin DELETE /faults >/dev/null
admin POST "/faults?resource=*@&status=503" >/dev/null
expect_eq "fault resource=*@ (cluster scope): namespaced list 200" "$(kcode "$PAY")" 200
expect_eq "...all-namespaces list 503" "$(kget "$ALL" | jq_py 'j["code"]')" 503
admin POST "/faults?resource=@payments&status=504" >/dev/null
expect_eq "fault resource=@payments: any resource of payments" \
    "$(kget /api/v1/namespaces/payments/configmaps/cfg | jq_py 'j["code"]'),$(kcode /api/v1/namespaces/default/configmaps/cfg)" 504,200
expect_eq "fault with a bad namespace: 400" \
    "$(kcurl -o /dev/null -w '%{http_code}' -X POST "$ADM/faults?resource=deployments@Bad_NS&status=500")" 400
expect_eq "faults without @ still match every namespace" \
    "$(admin POST "/faults?verb=get&resource=deployments&status=500&count=2" >/dev/null; kget "$PAY/api" | jq_py 'j["code"]'),$(kget "$DEPS/web" | jq_py 'j["code"]')" 500,500
admin DELETE /faults >/dev/null

# --- /_sim/restore of one namespace or all ----------------------------------------
admin POST "/controller?paused=1" >/dev/null
DUID=$(kget "$DEPS/web" | jq_py 'j["metadata"]["uid"]')
RV=$(state resourceVersion)
expect_eq "restore namespace=payments: ok" \
    "$(admin POST "/restore?namespace=payments&deployments=api=7,billing=1&rv=$((RV + 10))" | jq_py '(j["status"], j["resourceVersion"])')" \
    "('ok', $((RV + 10)))"
expect_eq "...payments replaced, default kept" "$(kget "$ALL" | names)" \
    '[["default","orders",2],["default","web",6],["payments","api",7],["payments","billing",1]]'
expect_eq "...default's objects unchanged (same uid)" "$(kget "$DEPS/web" | jq_py 'j["metadata"]["uid"]')" "$DUID"
expect_eq "restore namespace=payments with an entry elsewhere: 400" \
    "$(kcurl -o /dev/null -w '%{http_code}' -X POST "$ADM/restore?namespace=payments&deployments=default/x=1&rv=$((RV + 20))")" 400
expect_eq "restore of all namespaces with ns/name entries" \
    "$(admin POST "/restore?deployments=web=1,payments/api=2,shop/cart=3&rv=$((RV + 20))" | jq_py 'j["status"]'),$(kget "$ALL" | names)" \
    'ok,[["default","web",1],["payments","api",2],["shop","cart",3]]'
admin POST "/controller?paused=0" >/dev/null

# --- the real kubectl: -A and -n ---------------------------------------------------
if command -v kubectl >/dev/null 2>&1; then
	ks_kubeconfig ns-token
	OUT=$($K get deploy -A 2>&1)
	expect_match "kubectl get deploy -A: NAMESPACE column" "$OUT" '^NAMESPACE +NAME +READY'
	expect_eq "kubectl get deploy -A: every namespace" \
	    "$(printf '%s\n' "$OUT" | awk 'NR > 1 {print $1 "/" $2}' | tr '\n' ' ')" \
	    'default/web payments/api shop/cart '
	OUT=$($K -n payments get deploy 2>&1)
	expect_eq "kubectl -n payments get deploy: only payments" \
	    "$(printf '%s\n' "$OUT" | awk 'NR > 1 {print $1}' | tr '\n' ' ')" 'api '
	expect_match "kubectl -n payments scale" "$($K -n payments scale deploy api --replicas=5 2>&1)" \
	    'deployment.apps/api scaled'
	expect_eq "...scaled in payments" "$($K -n payments get deploy api -o jsonpath='{.spec.replicas}')" 5
	expect_eq "kubectl get deploy -A -o json: items carry their namespace" \
	    "$($K get deploy -A -o json | jq_py '[i["metadata"]["namespace"] for i in j["items"]]')" \
	    '["default","payments","shop"]'
	admin POST "/deny?rule=list:deployments@" >/dev/null
	expect_match "kubectl get deploy -A without a ClusterRole: Forbidden at the cluster scope" \
	    "$($K get deploy -A 2>&1)" \
	    'Error from server \(Forbidden\): deployments.apps is forbidden: User ".*" cannot list resource "deployments" in API group "apps" at the cluster scope'
	expect_match "...kubectl -n payments get deploy still works" "$($K -n payments get deploy 2>&1)" '^api '
	admin DELETE /deny >/dev/null
	admin POST "/deny?rule=patch:deployments/scale@payments" >/dev/null
	expect_eq "kubectl auth can-i per namespace" \
	    "$($K auth can-i patch deployments --subresource=scale -n payments 2>/dev/null),$($K auth can-i patch deployments --subresource=scale -n shop 2>/dev/null)" \
	    no,yes
	admin DELETE /deny >/dev/null
else
	lib_log "kubectl not installed: kubectl checks skipped"
fi

check "clean exit on SIGTERM" ks_stop
lib_finish
