#!/usr/bin/env bash
# e2e.sh — end-to-end test of the chart on a KIND cluster (`make e2e`,
# after `make setup`).  NOT run by `make test`: it needs docker, kind,
# kubectl and helm, which this project's machines do not have, and it has
# never been run there (charts/README.md, "What was verified").
#
# Steps: deploy (helm upgrade --install, in a namespace that enforces the
# Pod Security Standards' "restricted" profile); the ServiceAccount's
# permissions as the API server sees them; sample deployments; the API
# through a port-forward (list, get, scale with read-your-writes, healthz,
# errors); mTLS refusals (no certificate, another CA, plain HTTP, a reader
# writing); the NetworkPolicy (an unlabelled pod cannot connect); drift (a
# change made with kubectl shows in the API) and pins (a pin lands in its
# ConfigMap, one pod holds the Lease, kubectl's drift is undone); a
# `helm upgrade` that rolls every pod while an in-cluster client sends
# requests through the Service, with zero failed requests, and the pin
# outlives it; recovery after a pod is deleted.  Issue #15: replicad serves
# two namespaces (the release's, first and so the default, and
# E2E_NAMESPACE2, made here with a sample Deployment): `kubectl auth can-i`
# per namespace (the scale-side grants in both, the pins grants only in the
# release namespace, nothing in a namespace it does not serve, no
# cluster-wide list), then, at the end, watchAllNamespaces (cluster-wide
# list/watch of Deployments and HPAs, still no writes outside the two).
#
# It starts clean (scripts/kind.sh undeploy: the release, and the pins
# ConfigMap and Lease the core made), polls every E2E_POLL seconds
# (tests/k8s/e2e_lib.sh), and checks that replicad runs on the KIND
# cluster's worker node.
#
# Environment: KIND_CLUSTER, K8S_NAMESPACE, RELEASE, IMAGE_TAG (as
# scripts/kind.sh), CERTS (certs), SAMPLE_IMAGE (registry.k8s.io/pause:3.10),
# LOAD_IMAGE (curlimages/curl:8.11.1), LOAD_SECONDS (150), E2E_NAMESPACE2
# (K8S_NAMESPACE-e2e-second), E2E_KEEP=1 keeps the sample deployments, the
# second namespace and the release afterwards (else only the release).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/component/lib.sh
. tests/component/lib.sh
# shellcheck source=tests/k8s/e2e_lib.sh
. tests/k8s/e2e_lib.sh
lib_init e2e
LIB_WAIT_POLL=$E2E_POLL

KIND_CLUSTER=${KIND_CLUSTER:-replicad}
NS=${K8S_NAMESPACE:-replicad}
RELEASE=${RELEASE:-replicad}
CERTS=${CERTS:-certs}
SAMPLE_IMAGE=${SAMPLE_IMAGE:-registry.k8s.io/pause:3.10}
LOAD_IMAGE=${LOAD_IMAGE:-curlimages/curl:8.11.1}
LOAD_SECONDS=${LOAD_SECONDS:-150}
CONTEXT=kind-$KIND_CLUSTER
# Issue #15: the second served namespace, and a namespace replicad does not
# serve (always there).  The served list depends on K8S_NAMESPACE, so it is
# given here (helm --set), not in tests/k8s/values-kind.yaml; every deploy
# of this test passes it (a helm upgrade without it would go back to one).
NS2=${E2E_NAMESPACE2:-$NS-e2e-second}
NS_OTHER=default
NS_ARGS=(--set "targetNamespaces={$NS,$NS2}")
export KIND_CLUSTER K8S_NAMESPACE=$NS RELEASE

scripts/kind.sh check docker kind kubectl helm || exit 1
if ! kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
	echo "e2e: no KIND cluster \"$KIND_CLUSTER\": run make setup first" >&2
	exit 1
fi
for f in ca.crt client.crt client.key reader.crt reader.key; do
	[ -f "$CERTS/$f" ] || { echo "e2e: $CERTS/$f missing: make certs" >&2; exit 1; }
done

case $RELEASE in *replicad*) FULL=$RELEASE ;; *) FULL=$RELEASE-replicad ;; esac
SA=system:serviceaccount:$NS:$FULL

kc() {
	kubectl --context "$CONTEXT" -n "$NS" "$@"
}

# --- a clean start: a failed run leaves the release, its samples and what
# the core made (the pins ConfigMap, the Lease; helm does not know them),
# and a pin left at worker=2 would fail the drift checks below.
kc delete deployment -l replicad-e2e=sample --ignore-not-found --wait >/dev/null 2>&1 || true
kc delete pod replicad-e2e-load replicad-e2e-allowed replicad-e2e-denied \
    --ignore-not-found >/dev/null 2>&1 || true
kubectl --context "$CONTEXT" -n "$NS2" delete deployment -l replicad-e2e=sample \
    --ignore-not-found --wait >/dev/null 2>&1 || true
check "start: no release, pins ConfigMap or Lease of an earlier run" \
	scripts/kind.sh undeploy
leftovers() {
	[ -z "$(kc get "configmap/$FULL-pins" "lease.coordination.k8s.io/$FULL-reconciler" \
	    --ignore-not-found -o name)" ]
}
check "start: the pins ConfigMap and the Lease are gone" leftovers

# --- deploy
# The second namespace exists before the release (its Role goes there),
# enforcing the restricted profile like the release's.
ns2_ready() {
	kubectl --context "$CONTEXT" create namespace "$NS2" --dry-run=client -o yaml |
		kubectl --context "$CONTEXT" apply -f - >/dev/null &&
		kubectl --context "$CONTEXT" label --overwrite namespace "$NS2" \
		    pod-security.kubernetes.io/enforce=restricted >/dev/null
}
check "deploy: second namespace $NS2 (restricted)" ns2_ready
check "deploy: helm upgrade --install and rollout (namespaces $NS,$NS2)" \
	scripts/kind.sh deploy "${NS_ARGS[@]}"
core_env() { # NAME: the core container's env value in the Deployment
	kc get deployment "$FULL" -o \
	    jsonpath="{.spec.template.spec.containers[?(@.name==\"core\")].env[?(@.name==\"$1\")].value}"
}
expect_eq "deploy: REPLICAD_NAMESPACES lists both, the release's first" \
	"$(core_env REPLICAD_NAMESPACES)" "$NS,$NS2"

# Every replica Ready (so admitted under the namespace's PSS "restricted").
all_ready() {
	local r
	r=$(kc get deployment "$FULL" -o jsonpath='{.status.readyReplicas}/{.spec.replicas}')
	[ "${r%/*}" = "${r#*/}" ] && [ "${r%/*}" -gt 0 ]
}
check "deploy: every replica Ready (admitted under PSS restricted)" all_ready
# On the worker node, so that the core's traffic to the API server (on the
# control-plane node) passes the NetworkPolicy's egress rule: on its own
# node it would not, and a wrong apiServer.cidrs would go unnoticed.
on_worker() {
	local n nodes
	nodes=$(kc get pods -l "app.kubernetes.io/instance=$RELEASE" \
	    -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u)
	[ -n "$nodes" ] || return 1
	for n in $nodes; do
		if kubectl --context "$CONTEXT" get node "$n" --no-headers --show-labels |
			grep -q 'node-role.kubernetes.io/control-plane'; then
			echo "pod on $n, a control-plane node"
			return 1
		fi
	done
}
check "deploy: every pod on the worker node (egress leaves the node)" on_worker
expect_eq "deploy: namespace enforces restricted" \
	"$(kc get namespace "$NS" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}')" \
	restricted

# The live pod spec after admission: token and TLS where they belong.
pod_json() {
	kc get pods -l "app.kubernetes.io/instance=$RELEASE" -o json
}
mounts_of() { # CONTAINER: the mount paths of the first pod's container
	kc get pods -l "app.kubernetes.io/instance=$RELEASE" -o \
	    jsonpath="{.items[0].spec.containers[?(@.name==\"$1\")].volumeMounts[*].mountPath}"
}
expect_match "pod: core mounts the token" "$(mounts_of core)" \
	'/var/run/secrets/kubernetes.io/serviceaccount'
expect_eq "pod: gateway mounts only the socket and TLS" "$(mounts_of gateway)" \
	"/run/replicad /etc/replicad/tls"
expect_eq "pod: automountServiceAccountToken false" \
	"$(pod_json | python3 -c 'import json,sys; print({p["spec"].get("automountServiceAccountToken") for p in json.load(sys.stdin)["items"]})')" \
	"{False}"

# --- RBAC as the API server sees it
can() { # NAMESPACE VERB RESOURCE [--subresource=X]
	local ns=$1
	shift
	kubectl --context "$CONTEXT" auth can-i --as "$SA" -n "$ns" "$@"
}
cannot() {
	! can "$@"
}
check "rbac: may list deployments" can "$NS" list deployments.apps
check "rbac: may watch deployments" can "$NS" watch deployments.apps
check "rbac: may patch deployments/scale" can "$NS" patch deployments.apps --subresource=scale
check "rbac: may list HPAs" can "$NS" list horizontalpodautoscalers.autoscaling
check "rbac: may watch HPAs" can "$NS" watch horizontalpodautoscalers.autoscaling
check "rbac: may not change HPAs" cannot "$NS" update horizontalpodautoscalers.autoscaling
check "rbac: may create Events" can "$NS" create events.events.k8s.io
check "rbac: may patch Events" can "$NS" patch events.events.k8s.io
check "rbac: may not list Events" cannot "$NS" list events.events.k8s.io
# Least privilege (issue #18): only the verbs the core calls.
check "rbac: may not get one deployment (the cache answers)" cannot "$NS" get deployments.apps
check "rbac: may not get deployments/scale" cannot "$NS" get deployments.apps --subresource=scale
check "rbac: may not update deployments/scale" cannot "$NS" update deployments.apps --subresource=scale
check "rbac: may not patch deployments" cannot "$NS" patch deployments.apps
check "rbac: may not create deployments" cannot "$NS" create deployments.apps
check "rbac: may not delete deployments" cannot "$NS" delete deployments.apps
check "rbac: may not read secrets" cannot "$NS" get secrets
check "rbac: may not list pods" cannot "$NS" list pods
check "rbac: may not exec into pods" cannot "$NS" create pods --subresource=exec
check "rbac: nothing in kube-system" cannot kube-system list deployments.apps
check "rbac: may update the pins ConfigMap" can "$NS" update "configmaps/$FULL-pins"
check "rbac: may not read another ConfigMap" cannot "$NS" get configmaps/kube-root-ca.crt
check "rbac: may not delete the pins ConfigMap" cannot "$NS" delete "configmaps/$FULL-pins"
check "rbac: may renew its Lease" can "$NS" update "leases.coordination.k8s.io/$FULL-reconciler"
check "rbac: may not take over another Lease" cannot "$NS" update leases.coordination.k8s.io/other

# Issue #15: the second served namespace has the same scale-side grants...
check "rbac $NS2: may list deployments" can "$NS2" list deployments.apps
check "rbac $NS2: may watch deployments" can "$NS2" watch deployments.apps
check "rbac $NS2: may patch deployments/scale" can "$NS2" patch deployments.apps --subresource=scale
check "rbac $NS2: may list HPAs" can "$NS2" list horizontalpodautoscalers.autoscaling
check "rbac $NS2: may watch HPAs" can "$NS2" watch horizontalpodautoscalers.autoscaling
check "rbac $NS2: may create Events" can "$NS2" create events.events.k8s.io
check "rbac $NS2: may patch Events" can "$NS2" patch events.events.k8s.io
check "rbac $NS2: may not patch deployments" cannot "$NS2" patch deployments.apps
check "rbac $NS2: may not get deployments" cannot "$NS2" get deployments.apps
check "rbac $NS2: may not list pods" cannot "$NS2" list pods
# ... and none of the home namespace's (pins, Lease).
check "rbac $NS2: may not create configmaps" cannot "$NS2" create configmaps
check "rbac $NS2: may not update a pins ConfigMap there" cannot "$NS2" update "configmaps/$FULL-pins"
check "rbac $NS2: may not create leases" cannot "$NS2" create leases.coordination.k8s.io
# A namespace it does not serve: nothing.
check "rbac $NS_OTHER (not served): may not list deployments" cannot "$NS_OTHER" list deployments.apps
check "rbac $NS_OTHER (not served): may not patch deployments/scale" \
	cannot "$NS_OTHER" patch deployments.apps --subresource=scale
check "rbac $NS_OTHER (not served): may not list HPAs" cannot "$NS_OTHER" list horizontalpodautoscalers.autoscaling
check "rbac $NS_OTHER (not served): may not create Events" cannot "$NS_OTHER" create events.events.k8s.io
# No cluster-wide grant without watchAllNamespaces.
cluster_can() {
	kubectl --context "$CONTEXT" auth can-i --as "$SA" --all-namespaces "$@"
}
cluster_cannot() {
	! cluster_can "$@"
}
check "rbac: may not list deployments cluster-wide" cluster_cannot list deployments.apps
check "rbac: may not watch HPAs cluster-wide" cluster_cannot watch horizontalpodautoscalers.autoscaling
no_cluster_role() { # no ClusterRoleBinding names the ServiceAccount
	kubectl --context "$CONTEXT" get clusterrolebindings -o json | python3 -c '
import json, sys
ns, sa = sys.argv[1:]
hits = [b["metadata"]["name"] for b in json.load(sys.stdin)["items"]
        for s in b.get("subjects") or []
        if s.get("kind") == "ServiceAccount" and s.get("name") == sa and s.get("namespace") == ns]
sys.exit("bound by %s" % hits if hits else 0)' "$NS" "$FULL"
}
check "rbac: no ClusterRoleBinding for the ServiceAccount" no_cluster_role

# --- sample deployments: tests/k8s/sample-web.yaml (pods the restricted
# namespace admits, as `make run-k8s` suggests), renamed and resized.
sample() { # NAME REPLICAS
	sample_in "$NS" "$@"
}
sample_in() { # NAMESPACE NAME REPLICAS
	local ns=$1
	shift
	sed -e "s/\bweb\b/$1/g" -e "s/^  replicas: 2\$/  replicas: $2/" \
	    -e "s#registry.k8s.io/pause:3.10#$SAMPLE_IMAGE#" tests/k8s/sample-web.yaml |
		kubectl --context "$CONTEXT" -n "$ns" apply -f - &&
		kubectl --context "$CONTEXT" -n "$ns" label --overwrite deployment "$1" replicad-e2e=sample
}
check "samples: frontend=3" sample frontend 3
check "samples: orders=2" sample orders 2
check "samples: worker=1" sample worker 1
# One in the second namespace (the core watches it too).
check "samples: $NS2/billing=1" sample_in "$NS2" billing 1

# --- the API through a port-forward
PORT=$(lib_free_port)
URL=https://localhost:$PORT
C=(--cacert "$CERTS/ca.crt" --cert "$CERTS/client.crt" --key "$CERTS/client.key")
R=(--cacert "$CERTS/ca.crt" --cert "$CERTS/reader.crt" --key "$CERTS/reader.key")
PF_PID=

healthy() {
	[ "$(lib_http_code "$URL/healthz" "${C[@]}" --max-time 3)" = 200 ]
}
# A port-forward goes to one pod: restart it whenever pods change.
pf_start() {
	if [ -n "$PF_PID" ]; then
		kill "$PF_PID" 2>/dev/null || true
		lib_forget "$PF_PID"
	fi
	lib_bg "pf.$RANDOM" kubectl --context "$CONTEXT" -n "$NS" port-forward "svc/$FULL" "$PORT:443"
	PF_PID=$LIB_LAST_PID
	lib_wait 60 healthy
}
check "port-forward: /healthz 200 (API reachable through the NetworkPolicy, cache synced)" pf_start

api() { # METHOD PATH [BODY]: prints "CODE BODY"
	local out
	if [ $# -gt 2 ]; then
		out=$(curl -s --max-time 10 -w ' %{http_code}' "${C[@]}" -X "$1" \
		    -H 'Content-Type: application/json' -d "$3" "$URL$2")
	else
		out=$(curl -s --max-time 10 -w ' %{http_code}' "${C[@]}" -X "$1" "$URL$2")
	fi
	echo "${out##* } ${out% *}"
}
listed() { # NAME...: the list holds each (and replicad's own Deployment)
	local r
	r=$(api GET /api/v1/deployments)
	[ "${r%% *}" = 200 ] && list_has_names "${r#* }" "$@"
}
check "api: list shows the samples (cache follows the watch)" \
	lib_wait 30 listed frontend orders worker
check "api: list shows replicad's own Deployment too (same namespace)" listed "$FULL"
expect_match "api: get frontend = 3" "$(api GET /api/v1/deployments/frontend/replicas)" \
	'^200 .*"name":"frontend".*"replicas":3'
expect_match "api: scale orders to 4, synced" \
	"$(api POST /api/v1/deployments/orders/replicas '{"replicas":4}')" \
	'^200 .*"status":"updated".*"replicas":4.*"synced":true'
expect_eq "cluster: orders spec.replicas = 4" \
	"$(kc get deployment orders -o jsonpath='{.spec.replicas}')" 4
expect_match "api: get orders = 4 (read-your-writes)" \
	"$(api GET /api/v1/deployments/orders/replicas)" '^200 .*"replicas":4'
expect_match "api: healthz ok" "$(api GET /healthz)" '^200 .*"apiReachable":true'
# Issue #15: the second served namespace through the namespaced routes.
listed_in() { # NS NAME...: that namespace's list holds each
	local r ns=$1
	shift
	r=$(api GET "/api/v1/namespaces/$ns/deployments")
	[ "${r%% *}" = 200 ] && list_has_names "${r#* }" "$@"
}
check "api: $NS2's list shows billing" lib_wait 30 listed_in "$NS2" billing
expect_match "api: scale $NS2/billing to 2, synced" \
	"$(api POST "/api/v1/namespaces/$NS2/deployments/billing/replicas" '{"replicas":2}')" \
	"^200 .*\"namespace\":\"$NS2\".*\"synced\":true"
expect_eq "cluster: $NS2/billing spec.replicas = 2" \
	"$(kubectl --context "$CONTEXT" -n "$NS2" get deployment billing -o jsonpath='{.spec.replicas}')" 2
expect_match "api: $NS_OTHER is not served: 404 naming the set" \
	"$(api GET "/api/v1/namespaces/$NS_OTHER/deployments")" \
	"^404 .*not served by this replicad \\(namespaces: $NS, $NS2\\)"
expect_match "api: healthz lists both namespaces" "$(api GET /healthz)" \
	"^200 .*\"namespaces\":\\[.*\"namespace\":\"$NS\".*\"namespace\":\"$NS2\""
expect_match "api: unknown deployment 404" "$(api GET /api/v1/deployments/nosuch/replicas)" '^404 '
expect_match "api: negative replicas 400" \
	"$(api POST /api/v1/deployments/orders/replicas '{"replicas":-1}')" '^400 '

# --- mTLS refusals
expect_eq "mtls: reader may read" \
	"$(lib_http_code "$URL/api/v1/deployments" "${R[@]}")" 200
expect_eq "mtls: reader may not write (403)" \
	"$(lib_http_code "$URL/api/v1/deployments/orders/replicas" "${R[@]}" -X POST \
	    -H 'Content-Type: application/json' -d '{"replicas":2}')" 403
# refused CURL-ARGS...: the TLS handshake (hence curl) fails.
refused() {
	! curl -s -o /dev/null --max-time 5 "$@"
}
check "mtls: no client certificate refused" \
	refused --cacert "$CERTS/ca.crt" "$URL/api/v1/deployments"
# A client certificate from a CA the gateway does not trust.
other=$LIB_TMP/other
mkdir -p "$other"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=other CA" -keyout "$other/ca.key" -out "$other/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=replicad-admin" \
    -keyout "$other/c.key" -out "$other/c.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$other/ext"
openssl x509 -req -in "$other/c.csr" -CA "$other/ca.crt" -CAkey "$other/ca.key" \
    -CAcreateserial -days 1 -extfile "$other/ext" -out "$other/c.crt" 2>/dev/null
check "mtls: certificate of another CA (same CN) refused" \
	refused --cacert "$CERTS/ca.crt" --cert "$other/c.crt" --key "$other/c.key" \
	"$URL/api/v1/deployments"
expect_match "mtls: plain HTTP gets no API answer" \
	"$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://localhost:$PORT/api/v1/deployments")" \
	'^(000|400)$'
# A refused handshake ends in a reset, which kills the port-forward on some
# containerd versions ("connection reset by peer", then it exits): start a
# new one before the next checks rather than see them fail for that.
check "port-forward: restarted after the refusals" pf_start

# --- drift: a change made behind replicad's back
kc scale deployment worker --replicas=5 >/dev/null
worker_is() {
	api GET /api/v1/deployments/worker/replicas | grep -q "^200 .*\"replicas\":$1[,}]"
}
check "drift: kubectl scale worker=5 shows in the API" lib_wait 30 worker_is 5
expect_match "pins: pin worker=2" \
	"$(api PUT /api/v1/deployments/worker/pin '{"replicas":2}')" '^200 '
spec_is() { [ "$(kc get deployment worker -o jsonpath='{.spec.replicas}')" = "$1" ]; }
check "pins: the core scales worker to its pin" lib_wait 60 spec_is 2
expect_match "pins: the ConfigMap holds it" \
	"$(kc get configmap "$FULL-pins" -o jsonpath='{.data.pins\.json}')" '"name": "worker"'
holder() { kc get lease "$FULL-reconciler" -o jsonpath='{.spec.holderIdentity}'; }
holder_is_pod() { local h; h=$(holder); [ -n "$h" ] && kc get pod "$h" >/dev/null 2>&1; }
check "pins: a pod of the release holds the Lease" lib_wait 60 holder_is_pod
expect_match "pins: the API lists the pin" \
	"$(api GET /api/v1/pins)" '^200 .*"name":"worker","namespace":"[a-z0-9-]*","replicas":2'
kc scale deployment worker --replicas=7 >/dev/null
check "pins: kubectl's drift is scaled back" lib_wait 60 spec_is 2
lease_holder_before=$(holder)

# --- in-cluster clients: the certificates and tests/k8s/client.sh
kc delete secret replicad-e2e-client --ignore-not-found >/dev/null
kc create secret generic replicad-e2e-client --from-file=ca.crt="$CERTS/ca.crt" \
    --from-file=tls.crt="$CERTS/client.crt" --from-file=tls.key="$CERTS/client.key" >/dev/null
kc delete configmap replicad-e2e-client --ignore-not-found >/dev/null
kc create configmap replicad-e2e-client --from-file=client.sh=tests/k8s/client.sh >/dev/null

client_pod() { # NAME LABEL MODE: a curl pod the restricted namespace admits
	kc delete pod "$1" --ignore-not-found --wait >/dev/null
	kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app.kubernetes.io/name: $2}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 100
    seccompProfile: {type: RuntimeDefault}
  volumes:
    - name: certs
      secret: {secretName: replicad-e2e-client}
    - name: script
      configMap: {name: replicad-e2e-client, defaultMode: 0555}
  containers:
    - name: curl
      image: $LOAD_IMAGE
      command: ["sh", "/script/client.sh"]
      env:
        - {name: MODE, value: "$3"}
        - {name: SVC, value: "$FULL.$NS.svc"}
        - {name: LOAD_SECONDS, value: "$LOAD_SECONDS"}
      volumeMounts:
        - {name: certs, mountPath: /certs, readOnly: true}
        - {name: script, mountPath: /script, readOnly: true}
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
EOF
}
pod_phase_is() { # NAME PHASE...
	local p
	p=$(kc get pod "$1" -o jsonpath='{.status.phase}')
	shift
	case " $* " in *" $p "*) return 0 ;; esac
	return 1
}

# --- the NetworkPolicy: only admitted pods reach the API port
client_pod replicad-e2e-denied not-admitted once
check "networkpolicy: unlabelled client pod ran" \
	lib_wait 120 pod_phase_is replicad-e2e-denied Succeeded Failed
expect_eq "networkpolicy: an unlabelled pod cannot connect" "$(kc logs replicad-e2e-denied)" 000
client_pod replicad-e2e-allowed replicad-e2e-client once
check "networkpolicy: admitted client pod ran" \
	lib_wait 120 pod_phase_is replicad-e2e-allowed Succeeded Failed
expect_eq "networkpolicy: the admitted client gets 200" "$(kc logs replicad-e2e-allowed)" 200

# --- helm upgrade under load: zero failed requests
client_pod replicad-e2e-load replicad-e2e-client load
check "load: client running" lib_wait 120 pod_phase_is replicad-e2e-load Running
old_pods=$(kc get pods -l "app.kubernetes.io/instance=$RELEASE" -o name)
# A changed pod annotation rolls every pod, as an image upgrade would.
check "upgrade: helm upgrade rolling every pod" \
	scripts/kind.sh deploy "${NS_ARGS[@]}" --set-string "podAnnotations.e2e-rollout=$(date +%s)"
old_gone() {
	local p
	for p in $old_pods; do
		kc get "$p" >/dev/null 2>&1 && return 1
	done
	return 0
}
check "upgrade: every old pod gone" lib_wait 120 old_gone
check "load: client finished" \
	lib_wait $((LOAD_SECONDS + 60)) pod_phase_is replicad-e2e-load Succeeded Failed
summary=$(kc logs replicad-e2e-load | tail -n 20)
while IFS= read -r line; do echo "     | $line"; done <<<"$summary"
expect_match "upgrade under load: zero failed requests" "$summary" \
	'load: total=[1-9][0-9]* failed=0$'
check "upgrade: the pin outlives it" pf_start
expect_match "upgrade: pins still listed" "$(api GET /api/v1/pins)" \
	'^200 .*"name":"worker","namespace":"[a-z0-9-]*","replicas":2'
new_holder() { local h; h=$(holder); [ -n "$h" ] && [ "$h" != "$lease_holder_before" ]; }
check "upgrade: a new pod took the Lease over" lib_wait 120 new_holder
kc scale deployment worker --replicas=6 >/dev/null
check "upgrade: the new leader scales drift back" lib_wait 60 spec_is 2
expect_match "pins: unpin worker" "$(api DELETE /api/v1/deployments/worker/pin)" '^200 '

# --- recovery: a deleted pod is replaced and the API carries on
victim=$(kc get pods -l "app.kubernetes.io/instance=$RELEASE" -o name | head -n 1)
kc delete "$victim" --wait=false >/dev/null
replaced() {
	! kc get "$victim" >/dev/null 2>&1 && all_ready
}
check "recovery: the deleted pod is replaced, all Ready" lib_wait 180 replaced
check "recovery: API answers again" pf_start
expect_match "recovery: state intact (orders 4 or 5 from the load)" \
	"$(api GET /api/v1/deployments/orders/replicas)" '^200 .*"replicas":[45][,}]'

# --- issue #15: watchAllNamespaces.  A ClusterRole of list/watch on
# Deployments and HPAs: cluster-wide reads, and still no write outside the
# two served namespaces.
check "watch-all: helm upgrade with watchAllNamespaces=true" \
	scripts/kind.sh deploy "${NS_ARGS[@]}" --set watchAllNamespaces=true
expect_eq "watch-all: REPLICAD_WATCH_ALL_NAMESPACES=1" "$(core_env REPLICAD_WATCH_ALL_NAMESPACES)" 1
check "watch-all: every replica Ready" lib_wait 180 all_ready
check "watch-all: may list deployments cluster-wide" cluster_can list deployments.apps
check "watch-all: may watch deployments cluster-wide" cluster_can watch deployments.apps
check "watch-all: may list HPAs cluster-wide" cluster_can list horizontalpodautoscalers.autoscaling
check "watch-all: may watch HPAs cluster-wide" cluster_can watch horizontalpodautoscalers.autoscaling
check "watch-all: may not get deployments cluster-wide" cluster_cannot get deployments.apps
check "watch-all: may not list pods cluster-wide" cluster_cannot list pods
check "watch-all: $NS_OTHER: may not patch deployments/scale" \
	cannot "$NS_OTHER" patch deployments.apps --subresource=scale
check "watch-all: $NS_OTHER: may not create Events" cannot "$NS_OTHER" create events.events.k8s.io
check "watch-all: $NS2: may still patch deployments/scale" can "$NS2" patch deployments.apps --subresource=scale
check "watch-all: API answers" pf_start
check "watch-all: list shows the samples" listed frontend orders worker

# --- clean up
kc delete pod replicad-e2e-load replicad-e2e-allowed replicad-e2e-denied --ignore-not-found >/dev/null
kc delete secret,configmap replicad-e2e-client --ignore-not-found >/dev/null
if [ -z "${E2E_KEEP:-}" ]; then
	kc delete deployment -l replicad-e2e=sample --ignore-not-found >/dev/null
	scripts/kind.sh undeploy >/dev/null || true
	kubectl --context "$CONTEXT" delete namespace "$NS2" --ignore-not-found --wait=false >/dev/null || true
fi
lib_finish
