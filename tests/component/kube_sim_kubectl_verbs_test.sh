#!/bin/bash
# kube-sim-kubectl-verbs: kubectl's everyday verbs, unmodified, against
# kube-sim over HTTPS + token (issue #16): auth can-i / whoami, create
# (protobuf body), get with server-side Table (with and without -o wide),
# get --watch with Table events, describe, scale, rollout status, patch
# (json, merge, strategic), delete.
. "$(dirname "$0")/kube_sim_lib.sh"
lib_init kube-sim-kubectl-verbs

command -v kubectl >/dev/null 2>&1 || lib_skip "kubectl not installed"
command -v openssl >/dev/null 2>&1 || lib_skip "openssl not installed"
ks_pki

ks_start --deployments frontend=3,orders=2 --token verbs-token \
    "${KS_TLS[@]}" --controller-delay-ms 50 --deny patch:configmaps \
    --deny 'delete:*' --user system:serviceaccount:apps:deployer

D=$LIB_TMP
ks_kubeconfig verbs-token

# --- auth can-i / whoami ---------------------------------------------------
expect_eq "can-i get deployments" "$($K auth can-i get deployments 2>&1)" yes
expect_eq "can-i patch configmaps (--deny)" "$($K auth can-i patch configmaps 2>&1)" no
expect_eq "can-i delete anything (--deny delete:*)" "$($K auth can-i delete deployments 2>&1)" no
check "can-i exit status 1 on no" sh -c "! $K auth can-i delete leases >/dev/null 2>&1"
expect_eq "can-i non-resource URL" "$($K auth can-i get /healthz 2>&1)" yes
OUT=$($K auth whoami 2>&1)
expect_match "whoami username" "$OUT" 'Username +system:serviceaccount:apps:deployer'
expect_match "whoami groups" "$OUT" 'Groups +\[system:serviceaccounts system:serviceaccounts:apps system:authenticated\]'
expect_eq "whoami -o json" "$($K auth whoami -o json | jq_py 'j["status"]["userInfo"]["username"]')" \
    system:serviceaccount:apps:deployer
expect_match "discovery lists authorization.k8s.io" "$(kget /apis -H "Authorization: Bearer verbs-token")" \
    '"name":"authorization.k8s.io"'
expect_eq "SSAR without attributes is 422" \
    "$(KS_AUTH=verbs-token ksend POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews \
        application/json '{"spec":{}}' | jq_py '(j["code"], j["reason"])')" "(422, 'Invalid')"
expect_match "SSAR anonymous is 403 with the real message" \
    "$(ksend POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews application/json '{}')" \
    'User \\"system:anonymous\\" cannot create resource \\"selfsubjectaccessreviews\\" in API group \\"authorization.k8s.io\\" at the cluster scope'

# --- create: kubectl sends protobuf -----------------------------------------
expect_match "create deployment (protobuf body)" \
    "$($K create deployment web --image=nginx:1.27 --image=busybox --port=8080 --replicas=2 2>&1)" \
    'deployment.apps/web created'
expect_eq "created: spec from protobuf" \
    "$($K get deployment web -o json | jq_py '(j["spec"]["replicas"], j["spec"]["selector"]["matchLabels"], [c["image"] for c in j["spec"]["template"]["spec"]["containers"]], j["spec"]["template"]["spec"]["containers"][0]["ports"])')" \
    "(2, {'app': 'web'}, ['nginx:1.27', 'busybox'], [{'containerPort': 8080}])"
expect_match "create again: AlreadyExists" "$($K create deployment web --image=nginx 2>&1)" \
    'failed to create deployment: deployments.apps "web" already exists'
expect_match "bad protobuf body is 400" \
    "$(KS_AUTH=verbs-token ksend POST $DEPS application/vnd.kubernetes.protobuf 'k8s')" \
    '"code":400'
check "rollout status of the new deployment" sh -c \
    "$K rollout status deployment/web --timeout=20s | grep -q 'successfully rolled out'"

# --- configmaps and leases: protobuf create, Table columns -------------------
expect_match "create configmap (protobuf body)" \
    "$($K create configmap settings --from-literal=a=1 --from-literal=b=2 2>&1)" 'configmap/settings created'
expect_eq "configmap data from protobuf" "$($K get configmap settings -o jsonpath='{.data}')" '{"a":"1","b":"2"}'
expect_match "get configmaps: NAME DATA AGE" "$($K get configmaps 2>&1)" '^settings +2 +[0-9]+s$'
printf 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: lock}\nspec: {holderIdentity: core-a}\n' >"$D/lease.yaml"
$K create -f "$D/lease.yaml" >/dev/null
expect_match "get leases: NAME HOLDER AGE" "$($K get leases 2>&1)" '^lock +core-a +[0-9]+s$'

# --- get: server-side Table ----------------------------------------------
OUT=$($K get deployments 2>&1)
expect_match "get: real columns" "$OUT" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE$'
expect_match "get: frontend row" "$OUT" '^frontend +3/3 +3 +3 +[0-9]+s$'
OUT=$($K get deployments -o wide 2>&1)
expect_match "get -o wide: wide columns" "$OUT" \
    '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE +CONTAINERS +IMAGES +SELECTOR$'
expect_match "get -o wide: web row" "$OUT" \
    '^web +2/2 +2 +2 +[0-9]+s +nginx,busybox +nginx:1.27,busybox +app=web$'
expect_match "get one deployment" "$($K get deployment orders 2>&1)" '^orders +2/2 +2 +2 '
expect_eq "Table answer shape" \
    "$(kget "$DEPS?limit=1" -H "Authorization: Bearer verbs-token" \
        -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json' |
        jq_py '(j["kind"], [c["name"] for c in j["columnDefinitions"]], [c["priority"] for c in j["columnDefinitions"]], j["rows"][0]["object"]["kind"], "continue" in j["metadata"])')" \
    "('Table', ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector'], [0, 0, 0, 0, 0, 1, 1, 1], 'PartialObjectMetadata', True)"
expect_eq "includeObject=None" \
    "$(kget "$DEPS?includeObject=None" -H "Authorization: Bearer verbs-token" \
        -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' | jq_py '"object" in j["rows"][0]')" False
expect_eq "plain JSON without as=Table" \
    "$(kget "$DEPS" -H "Authorization: Bearer verbs-token" | jq_py 'j["kind"]')" DeploymentList

# get --watch: Table events keep the columns.
lib_bg kwatch $K get deployments --watch --request-timeout=30s
check "watch shows the table" lib_wait_line 20 "$LIB_TMP/kwatch.out" '^orders +2/2'
$K scale deployment orders --replicas=4 >/dev/null
check "watch shows the scale as a row" lib_wait_line 20 "$LIB_TMP/kwatch.out" '^orders +4/4 +4 +4'
kill "$LIB_LAST_PID" 2>/dev/null

# --- patch: json (RFC 6902), merge, strategic; scale ---------------------------
expect_match "patch --type=json" \
    "$($K patch deployment web --type=json -p '[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/tier","value":"front"}]' 2>&1)" \
    'deployment.apps/web patched'
expect_eq "json patch applied" \
    "$($K get deployment web -o jsonpath='{.spec.replicas} {.metadata.labels.tier}')" "3 front"
expect_match "json patch: failed test is 422 Invalid" \
    "$($K patch deployment web --type=json -p '[{"op":"test","path":"/spec/replicas","value":7}]' 2>&1)" \
    'The request is invalid: the server rejected our request due to an error in our request'
expect_match "json patch: remove of a missing member is 422" \
    "$($K patch deployment web --type=json -p '[{"op":"remove","path":"/spec/nothing"}]' 2>&1)" \
    'the server rejected our request due to an error in our request'
expect_match "json patch: not an array is 400" \
    "$($K patch deployment web --type=json -p '{"op":"remove"}' 2>&1)" \
    'Error from server \(BadRequest\): json: cannot unmarshal object into Go value of type jsonpatch.Patch'
expect_match "json patch: move/copy/remove" \
    "$($K patch deployment web --type=json -p '[{"op":"add","path":"/metadata/annotations","value":{}},{"op":"copy","from":"/metadata/labels/tier","path":"/metadata/annotations/tier"},{"op":"move","from":"/metadata/annotations/tier","path":"/metadata/annotations/was-tier"},{"op":"remove","path":"/metadata/labels/tier"}]' 2>&1)" \
    'patched'
expect_eq "move/copy/remove applied" \
    "$($K get deployment web -o json | jq_py '(j["metadata"]["labels"], j["metadata"]["annotations"])')" \
    "({'app': 'web'}, {'was-tier': 'front'})"
expect_match "json patch: stale resourceVersion is 409" \
    "$($K patch deployment web --type=json -p '[{"op":"replace","path":"/metadata/resourceVersion","value":"1"}]' 2>&1)" \
    'Error from server \(Conflict\)'
expect_match "json patch on deployments/scale" \
    "$($K patch deployment web --subresource=scale --type=json -p '[{"op":"replace","path":"/spec/replicas","value":2}]' 2>&1)" \
    'scale.autoscaling/web patched'
expect_match "patch --type=merge" "$($K patch deployment web --type=merge -p '{"spec":{"replicas":4}}' 2>&1)" 'patched'
expect_match "patch --type=strategic" \
    "$($K patch deployment web --type=strategic -p '{"metadata":{"labels":{"team":"x"}}}' 2>&1)" 'patched'
expect_eq "merge and strategic applied" \
    "$($K get deployment web -o jsonpath='{.spec.replicas} {.metadata.labels.team}')" "4 x"
expect_match "kubectl scale" "$($K scale deployment web --replicas=2 2>&1)" 'deployment.apps/web scaled'
check "scaled web reaches 2/2 in the table" lib_wait 20 sh -c \
    "$K get deployment web | grep -Eq '^web +2/2 +2 +2 '"

# --- apply (client-side) twice, with a change in between; field validation ---
cat >"$D/app.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app: app}
  annotations: {owner: team-a}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      - name: side
        image: busybox
Y
sed -e 's/nginx:1.27/nginx:1.28/' -e 's/replicas: 2/replicas: 3/' \
    -e 's/{name: A, value: "1"}, //' -e 's/owner: team-a/owner: team-b/' \
    "$D/app.yaml" >"$D/app2.yaml"
sed 's/^  replicas: 3$/  replicas: 3\n  bogus: 1/' "$D/app2.yaml" >"$D/bad.yaml"
expect_match "openapi v3 root lists apps/v1" \
    "$(kget /openapi/v3 -H "Authorization: Bearer verbs-token")" '"apis/apps/v1":\{"serverRelativeURL":"/openapi/v3/apis/apps/v1\?hash='
expect_eq "openapi v3 apps/v1: PATCH deployments has fieldValidation" \
    "$(kget /openapi/v3/apis/apps/v1 -H "Authorization: Bearer verbs-token" |
        jq_py '[p["name"] for p in j["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]["parameters"]].count("fieldValidation")')" 1
expect_match "apply (create)" "$($K apply -f "$D/app.yaml" 2>&1)" 'deployment.apps/app created'
expect_match "apply again unchanged" "$($K apply -f "$D/app.yaml" 2>&1)" 'deployment.apps/app unchanged'
expect_match "apply with a change" "$($K apply -f "$D/app2.yaml" 2>&1)" 'deployment.apps/app configured'
expect_eq "apply merged by key (containers, env, ports kept)" \
    "$($K get deployment app -o json | jq_py '(j["spec"]["replicas"], j["metadata"]["annotations"]["owner"], [(c["name"], c["image"], c.get("ports"), c.get("env")) for c in j["spec"]["template"]["spec"]["containers"]])')" \
    "(3, 'team-b', [('web', 'nginx:1.28', [{'containerPort': 80}], [{'name': 'B', 'value': '2'}]), ('side', 'busybox', None, None)])"
expect_match "apply unknown field: Strict (default) is 400" "$($K apply -f "$D/bad.yaml" 2>&1)" \
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.bogus"'
OUT=$($K apply -f "$D/bad.yaml" --validate=warn 2>&1)
expect_match "apply --validate=warn: warning" "$OUT" 'Warning: unknown field "spec.bogus"'
expect_match "apply --validate=warn: applied" "$OUT" 'deployment.apps/app (configured|unchanged)'
expect_eq "unknown field not stored" "$($K get deployment app -o jsonpath='{.spec.bogus}|{.spec.replicas}')" '|3'
expect_match "create with an unknown field: 400" \
    "$($K create -f "$D/bad.yaml" --dry-run=none 2>&1)" 'strict decoding error: unknown field "spec.bogus"'
DUP='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dup"},"spec":{"replicas":1,"replicas":2,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","imagex":1}]}}}}'
expect_match "fieldValidation=Strict: unknown and duplicate" \
    "$(KS_AUTH=verbs-token ksend POST "$DEPS?fieldValidation=Strict" application/json "$DUP")" \
    'strict decoding error: unknown field \\"spec.template.spec.containers\[0\].imagex\\", duplicate field \\"spec.replicas\\"'
OUT=$(KS_AUTH=verbs-token kcurl -si -X POST -H 'Content-Type: application/json' --data-binary "$DUP" "$KS_URL$DEPS")
expect_match "fieldValidation unset (Warn): 201" "$OUT" '^HTTP/1.1 201'
expect_match "Warn: Warning header per field" "$OUT" 'Warning: 299 - "duplicate field \\"spec.replicas\\""'
expect_match "fieldValidation=bogus: 422" \
    "$(KS_AUTH=verbs-token ksend POST "$DEPS?fieldValidation=bogus" application/json "$DUP")" \
    'CreateOptions.meta.k8s.io \\"\\" is invalid: fieldValidation: Unsupported value: \\"bogus\\"'

# --- server-side apply twice, conflicts, --force-conflicts --------------------
sed 's/name: app$/name: ssa/; s/app: app}/app: ssa}/g' "$D/app.yaml" >"$D/ssa.yaml"
sed 's/name: app$/name: ssa/; s/app: app}/app: ssa}/g' "$D/app2.yaml" >"$D/ssa2.yaml"
expect_match "apply --server-side (creates)" "$($K apply --server-side -f "$D/ssa.yaml" 2>&1)" \
    'deployment.apps/ssa serverside-applied'
expect_match "apply --server-side again" "$($K apply --server-side -f "$D/ssa.yaml" 2>&1)" 'serverside-applied'
expect_match "apply --server-side with a change" "$($K apply --server-side -f "$D/ssa2.yaml" 2>&1)" 'serverside-applied'
expect_eq "server-side apply result" \
    "$($K get deployment ssa -o json | jq_py '(j["spec"]["replicas"], j["metadata"]["annotations"], [(c["name"], c["image"], c.get("env")) for c in j["spec"]["template"]["spec"]["containers"]])')" \
    "(3, {'owner': 'team-b'}, [('web', 'nginx:1.28', [{'name': 'B', 'value': '2'}]), ('side', 'busybox', None)])"
expect_eq "managedFields: kubectl Apply" \
    "$($K get deployment ssa -o json --show-managed-fields | jq_py '[(m["manager"], m["operation"]) for m in j["metadata"]["managedFields"]]')" \
    '[["kubectl","Apply"]]' 
$K scale deployment ssa --replicas=5 >/dev/null
expect_match "conflict on spec.replicas after kubectl scale" \
    "$($K apply --server-side -f "$D/ssa2.yaml" 2>&1)" \
    'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1 at [0-9TZ:-]+: \.spec\.replicas'
expect_eq "conflict Status shape" \
    "$(KS_AUTH=verbs-token kcurl -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
        --data-binary '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"ssa"},"spec":{"replicas":7}}' \
        "$KS_URL$DEPS/ssa?fieldManager=other" |
        jq_py '(j["code"], j["reason"], j["details"]["causes"][0]["reason"], j["details"]["causes"][0]["field"])')" \
    "(409, 'Conflict', 'FieldManagerConflict', '.spec.replicas')"
expect_match "--force-conflicts" "$($K apply --server-side --force-conflicts -f "$D/ssa2.yaml" 2>&1)" 'serverside-applied'
expect_eq "forced: replicas back to 3" "$($K get deployment ssa -o jsonpath='{.spec.replicas}')" 3
$K label deployment ssa app=relabeled --overwrite >/dev/null
$K annotate deployment ssa owner=someone --overwrite >/dev/null
OUT=$($K apply --server-side -f "$D/ssa2.yaml" 2>&1)
expect_match "conflicts on an annotation and a label" "$OUT" \
    '^error: Apply failed with 2 conflicts: conflicts with "kubectl-annotate" using apps/v1 at [0-9TZ:-]+:$'
expect_match "conflict lines (sorted managers)" "$(echo "$OUT" | sed -n 2,4p | tr '\n' '|')" \
    '^- \.metadata\.annotations\.owner\|conflicts with "kubectl-label" using apps/v1 at [0-9TZ:-]+:\|- \.metadata\.labels\.app\|$'
expect_match "apply-patch without fieldManager is 422" \
    "$(KS_AUTH=verbs-token kcurl -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
        --data-binary '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"ssa"}}' "$KS_URL$DEPS/ssa")" \
    'fieldManager: Required value'

# --- describe ----------------------------------------------------------------
OUT=$($K describe deployment web 2>&1)
expect_match "describe: name" "$OUT" '^Name: +web$'
expect_match "describe: replicas" "$OUT" 'Replicas: +2 desired'
expect_match "describe: image" "$OUT" 'Image: +nginx:1.27'

# --- delete (denied, then allowed) ----------------------------------------
expect_match "delete denied by --deny" "$($K delete deployment web 2>&1)" \
    'Error from server \(Forbidden\): deployments.apps "web" is forbidden'
kcurl -X DELETE "$KS_URL/_sim/deny" >/dev/null
expect_match "delete" "$($K delete deployment web 2>&1)" 'deployment.apps "web" deleted'
expect_match "deleted: 404" "$($K get deployment web 2>&1)" 'NotFound'

# --- list at a resourceVersion not reached yet: the watch cache's wait ------
RV=$(KS_AUTH=verbs-token kget "$DEPS" | jq_py 'j["metadata"]["resourceVersion"]')
T0=$(date +%s%N)
OUT=$(KS_AUTH=verbs-token kget "$DEPS?resourceVersion=$((RV + 1000))" | jq_py '(j["code"], j["details"]["causes"][0]["reason"])')
T1=$(date +%s%N)
expect_eq "too-new RV: 504 after the wait" "$OUT" "(504, 'ResourceVersionTooLarge')"
check "too-new RV: answered after ~3 s, not at once" test $(((T1 - T0) / 1000000)) -ge 2900
lib_bg waitlist sh -c "curl -s --cacert '$KS_CA' -H 'Authorization: Bearer verbs-token' '$KS_URL$DEPS?resourceVersion=$((RV + 1))'"
check "held list is waiting" lib_wait 5 sh -c \
    "curl -s --cacert '$KS_CA' '$KS_URL/_sim/state' | grep -q '\"heldRequests\":1'"
$K scale deployment orders --replicas=3 >/dev/null
check "held list answers once the RV exists" lib_wait_line 5 "$LIB_TMP/waitlist.out" '"kind":"DeploymentList"'

check "clean exit on SIGTERM" ks_stop
lib_finish
