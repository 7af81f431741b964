#!/usr/bin/env bash
# kind.sh — the KIND workflow of the chart (the make targets call it).
#
#   scripts/kind.sh check TOOL...   exit 1 naming every TOOL not installed
#   scripts/kind.sh up              create the KIND cluster (if absent)
#   scripts/kind.sh down            delete it
#   scripts/kind.sh load            load replicad-{core,gateway}:$IMAGE_TAG
#   scripts/kind.sh deploy [ARGS]   helm upgrade --install with certs/ as the
#                                   TLS secret (ARGS go to helm)
#   scripts/kind.sh undeploy        helm uninstall
#   scripts/kind.sh run             deploy, then port-forward 8443 and print
#                                   curl commands (Ctrl-C stops the forward)
#
# Environment: KIND_CLUSTER (replicad), K8S_NAMESPACE (replicad), RELEASE
# (replicad), IMAGE_TAG (dev), CERTS (certs), KIND_NODE_IMAGE (kind's
# default), LOCAL_PORT (8443).
#
# Every kubectl and helm call names the KIND cluster's context explicitly, so
# that nothing here can touch whatever cluster the current context points at.
set -eu

KIND_CLUSTER=${KIND_CLUSTER:-replicad}
K8S_NAMESPACE=${K8S_NAMESPACE:-replicad}
RELEASE=${RELEASE:-replicad}
IMAGE_TAG=${IMAGE_TAG:-dev}
CERTS=${CERTS:-certs}
LOCAL_PORT=${LOCAL_PORT:-8443}
CONTEXT=kind-$KIND_CLUSTER
CHART=charts/replicad
KIND_VALUES=tests/k8s/values-kind.yaml

cd "$(dirname "$0")/.."

die() {
	echo "kind.sh: $*" >&2
	exit 1
}

# check TOOL...: fail fast, naming everything that is missing at once.
check() {
	local t missing=""
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			missing="$missing $t"
		elif [ "$t" = docker ] && ! docker info >/dev/null 2>&1; then
			# The client alone is not enough: kind runs nodes in the engine.
			missing="$missing docker-engine(docker info fails)"
		fi
	done
	if [ -n "$missing" ]; then
		echo "kind.sh: missing:$missing" >&2
		echo "kind.sh: this workflow needs docker (a running engine), kind, kubectl" >&2
		echo "kind.sh: and helm on the PATH; charts/README.md says which versions." >&2
		echo "kind.sh: (The chart checks that need none of them: make chart-check.)" >&2
		exit 1
	fi
}

cluster_exists() {
	kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"
}

need_cluster() {
	cluster_exists || die "no KIND cluster \"$KIND_CLUSTER\": run make setup (or make kind-up)"
}

kc() {
	kubectl --context "$CONTEXT" "$@"
}

up() {
	check docker kind kubectl
	if cluster_exists; then
		echo "kind.sh: cluster $KIND_CLUSTER already exists"
	else
		# kindnet enforces NetworkPolicy from kind v0.24 on; the chart's
		# default preStop (sleep action) needs Kubernetes 1.30 or later.
		kind create cluster --name "$KIND_CLUSTER" --wait 180s \
		    ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}
	fi
	kc cluster-info >/dev/null
}

down() {
	check kind
	if cluster_exists; then
		kind delete cluster --name "$KIND_CLUSTER"
	else
		echo "kind.sh: no cluster $KIND_CLUSTER"
	fi
}

load() {
	check docker kind
	need_cluster
	local img
	for img in "replicad-core:$IMAGE_TAG" "replicad-gateway:$IMAGE_TAG"; do
		docker image inspect "$img" >/dev/null 2>&1 ||
			die "image $img not found: make docker-build IMAGE_TAG=$IMAGE_TAG"
		kind load docker-image "$img" --name "$KIND_CLUSTER"
	done
}

# The API server's real endpoints as "--set" values for the NetworkPolicy:
# policies see the core's traffic after the kubernetes Service's DNAT.
api_server_sets() {
	local ips port cidrs="" ip
	ips=$(kc get endpointslices -n default -l kubernetes.io/service-name=kubernetes \
	    -o jsonpath='{range .items[*].endpoints[*].addresses[*]}{@}{"\n"}{end}')
	port=$(kc get endpointslices -n default -l kubernetes.io/service-name=kubernetes \
	    -o jsonpath='{.items[0].ports[0].port}')
	if [ -z "$ips" ] || [ -z "$port" ]; then
		die "cannot read the API server's endpoints"
	fi
	for ip in $ips; do
		case $ip in
		*:*) cidrs="$cidrs,$ip/128" ;;
		*) cidrs="$cidrs,$ip/32" ;;
		esac
	done
	echo "networkPolicy.apiServer.cidrs={${cidrs#,}}"
	echo "networkPolicy.apiServer.ports={$port}"
}

deploy() {
	check kubectl helm kind
	need_cluster
	local f line
	local -a sets=()
	for f in server.crt server.key ca.crt; do
		[ -f "$CERTS/$f" ] || die "$CERTS/$f missing: make certs"
	done
	# The release namespace enforces the Pod Security Standards'
	# "restricted" profile: a pod that breaks it is refused, not admitted.
	kc create namespace "$K8S_NAMESPACE" --dry-run=client -o yaml | kc apply -f - >/dev/null
	kc label --overwrite namespace "$K8S_NAMESPACE" \
	    pod-security.kubernetes.io/enforce=restricted \
	    pod-security.kubernetes.io/enforce-version=latest >/dev/null
	while read -r line; do
		sets+=(--set "$line")
	done < <(api_server_sets)
	[ ${#sets[@]} -eq 4 ] || die "cannot read the API server's endpoints"
	helm upgrade --install "$RELEASE" "$CHART" \
	    --kube-context "$CONTEXT" --namespace "$K8S_NAMESPACE" \
	    -f "$KIND_VALUES" \
	    --set image.tag="$IMAGE_TAG" \
	    --set-file tls.certificate="$CERTS/server.crt" \
	    --set-file tls.privateKey="$CERTS/server.key" \
	    --set-file tls.clientCA="$CERTS/ca.crt" \
	    "${sets[@]}" \
	    --wait --timeout 300s "$@"
	kc -n "$K8S_NAMESPACE" rollout status "deployment/$(fullname)" --timeout 180s
}

# The chart's fullname for RELEASE (see _helpers.tpl "replicad.fullname").
fullname() {
	case $RELEASE in
	*replicad*) echo "$RELEASE" ;;
	*) echo "$RELEASE-replicad" ;;
	esac
}

undeploy() {
	check helm kind
	need_cluster
	helm uninstall "$RELEASE" --kube-context "$CONTEXT" --namespace "$K8S_NAMESPACE" --wait
}

run() {
	deploy
	cat <<EOF

kind.sh: replicad is deployed; forwarding https://localhost:$LOCAL_PORT to svc/$(fullname).
Try, from another terminal:

  C="--cacert $CERTS/ca.crt --cert $CERTS/client.crt --key $CERTS/client.key"
  kubectl --context $CONTEXT -n $K8S_NAMESPACE create deployment web --image=registry.k8s.io/pause:3.10 --replicas=2
  curl \$C https://localhost:$LOCAL_PORT/api/v1/deployments
  curl \$C https://localhost:$LOCAL_PORT/api/v1/deployments/web/replicas
  curl \$C -X POST -H 'Content-Type: application/json' -d '{"replicas":3}' \\
      https://localhost:$LOCAL_PORT/api/v1/deployments/web/replicas
  curl \$C https://localhost:$LOCAL_PORT/healthz

Ctrl-C stops the port-forward (the deployment stays: make undeploy).
EOF
	exec kubectl --context "$CONTEXT" -n "$K8S_NAMESPACE" port-forward \
	    "svc/$(fullname)" "$LOCAL_PORT:443"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
check) check "$@" ;;
up) up ;;
down) down ;;
load) load ;;
deploy) deploy "$@" ;;
undeploy) undeploy ;;
run) run ;;
*)
	echo "usage: scripts/kind.sh check TOOL...|up|down|load|deploy [HELM ARGS]|undeploy|run" >&2
	exit 2
	;;
esac
