#!/usr/bin/env bash
# chart_test.sh — checks of the Helm chart charts/replicad that need neither
# helm nor a cluster (`make chart-check`; also part of `make test`).
#
#   1. Static files: yamllint of Chart.yaml, values.yaml and the test values;
#      Chart.yaml; values.schema.json is a closed draft-07 schema that covers
#      values.yaml and stays within the gateway's own flag bounds.
#   2. Schema: values.yaml and every tests/chart/values/good-*.yaml (merged
#      over it, as helm does) are accepted; every bad-*.yaml is rejected at
#      the path its "# expect:" line names.
#   3. Templates, read as a skeleton (control lines dropped, expressions
#      kept as tokens; see chartcheck.py): the security and operations
#      properties — token in the core only, TLS in the gateway only, the
#      restricted securityContext, the socket, scale-only Role, NetworkPolicy,
#      probes, rolling update, preStop — and that every .Values reference
#      exists.
#   4. Rendering (when Debian's golang-go and golang-github-masterminds-
#      sprig-dev are installed, else SKIP): the chart rendered by Go's
#      text/template + sprig, the engines of helm, for each good values file
#      and the KIND values; the same checks on the real manifests; and each
#      fail-*.yaml refused with its "# expect:" message.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/component/lib.sh
. tests/component/lib.sh
lib_init chart_test

CHART=charts/replicad
VALUES=tests/chart/values
SEMANTIC="parse deployment token_core_only tls_gateway_only restricted socket
config_env probes termination rbac rbac_calls networkpolicy service pdb labels images
secret"

# cc CHECK ARGS...: one check of chartcheck.py (exit 0 or the reason).
cc() {
	python3 tests/chart/chartcheck.py "$@"
}

if ! python3 -c 'import yaml, jsonschema' 2>/dev/null || ! command -v yamllint >/dev/null; then
	echo "chart_test: python3-yaml, python3-jsonschema and yamllint are needed:"
	echo "chart_test: run scripts/install-deps.sh"
	echo "chart_test: 0 passed, 1 failed"
	exit 1
fi

# --- 1. static files
check "yamllint: Chart.yaml, values.yaml, test values" \
	yamllint -s -c tests/chart/yamllint.yaml "$CHART/Chart.yaml" \
	"$CHART/values.yaml" "$CHART"/ci/*.yaml tests/k8s/values-kind.yaml "$VALUES"/*.yaml
check "Chart.yaml: v2, name, semver, appVersion = CORE_VERSION" cc chart-yaml
check "schema: valid draft-07, every object closed" cc schema-self
check "schema: describes every key of values.yaml" cc schema-covers-values
check "schema: config bounds within replicad-gateway's flag bounds" cc schema-bounds
check "schema: allow-list entries typed as replicad-gateway takes them" cc schema-subjects
check "templates: every .Values reference exists, every value is used" cc values-refs
check "templates: security settings are literals, no host*/ClusterRole/subPath" \
	cc security-literals
check "NOTES.txt: port-forward and curl with client certificate; writes refused without writers" cc notes

# Issue #18, item 13: the KIND workflow compiles nothing on the host, so
# it must not make build/config.mk, which runs scripts/install-deps.sh.
# make -n prints the recipes (recursive $(MAKE) lines run, also with -n).
kind_goals_need_no_toolchain() {
	local b=$LIB_TMP/no-config r
	r=$(make -n --no-print-directory BUILD="$b" setup deploy undeploy e2e run-k8s 2>&1)
	if grep -q 'install-deps' <<<"$r" || [ -e "$b/config.mk" ]; then
		echo "make setup/deploy/e2e/run-k8s would run install-deps.sh:"
		grep 'install-deps' <<<"$r"
		return 1
	fi
	grep -q 'scripts/kind.sh deploy' <<<"$r" || { echo "$r"; return 1; }
}
check "make setup deploy undeploy e2e run-k8s: no install-deps.sh, no config.mk" \
	kind_goals_need_no_toolchain

# Issue #18, item 12: `--set image.tag=123` makes a number (helm's --set
# types its values): the docs and scripts say --set-string.
set_tag_as_string() {
	local hits
	hits=$(grep -rnE --include='*.md' --include='*.sh' --include='*.txt' \
	    --include='*.yaml' --include='*.mk' -e '--set[= ]image\.tag=' \
	    README.md charts scripts tests/k8s) || [ $? = 1 ] || return 1
	[ -z "$hits" ] || { echo "$hits"; return 1; }
	grep -q -- '--set-string image.tag=' scripts/kind.sh
}
check "docs and scripts: image.tag with --set-string, never --set" set_tag_as_string

# --- 2. schema
check "schema: accepts values.yaml" cc schema-accepts
check "schema: accepts tests/k8s/values-kind.yaml" cc schema-accepts tests/k8s/values-kind.yaml
# helm lint's values (make lint; chart-testing reads ci/*-values.yaml).
for f in "$CHART"/ci/*-values.yaml; do
	check "schema: accepts ci/$(basename "$f") (helm lint's values)" cc schema-accepts "$f"
done
# make -n prints the recipe and runs nothing (lint includes no config.mk).
lint_uses_ci_values() {
	local r
	r=$(make -n --no-print-directory lint 2>&1) || { echo "$r"; return 1; }
	# shellcheck disable=SC2016 # the recipe's own $f, literally
	grep -qF 'for f in charts/replicad/ci/*-values.yaml' <<<"$r" &&
		grep -qF 'helm lint charts/replicad -f $f' <<<"$r"
}
check "make lint: helm lint with every ci/*-values.yaml" lint_uses_ci_values
for f in "$VALUES"/good-*.yaml; do
	check "schema: accepts $(basename "$f")" cc schema-accepts "$f"
done
for f in "$VALUES"/fail-*.yaml; do
	check "schema: accepts $(basename "$f") (the templates refuse it)" cc schema-accepts "$f"
done
for f in "$VALUES"/bad-*.yaml; do
	check "schema: rejects $(basename "$f")" cc schema-rejects "$f"
done

# --- 3. template skeleton
for c in $SEMANTIC; do
	check "templates: $c" cc skeleton "$c"
done

# --- 4. rendering
gopath=/usr/share/gocode
# CHART_TEST_NO_RENDER=1 runs as a machine without Go would (to test that).
if [ -n "${CHART_TEST_NO_RENDER:-}" ] || ! command -v go >/dev/null ||
	[ ! -d "$gopath/src/github.com/Masterminds/sprig" ] ||
	[ ! -d "$gopath/src/sigs.k8s.io/yaml" ]; then
	echo "SKIP render checks: need Debian's golang-go, golang-github-masterminds-sprig-dev"
	echo "     and golang-k8s-sigs-yaml-dev (apt-get install them to run these too)"
	lib_finish
	exit
fi
render=$LIB_TMP/render
# GOPATH mode against Debian's packaged sources: no module download.  The
# build cache stays in the build directory (absolute, as go wants it).
gocache=${BUILD:-build}/chart-test/gocache
case $gocache in /*) ;; *) gocache=$PWD/$gocache ;; esac
build_render() {
	GO111MODULE=off GOPATH=$gopath GOFLAGS='' GOCACHE=$gocache \
	    go build -o "$render" ./tests/chart/render
}
check "render: build tests/chart/render" build_render
if [ ! -x "$render" ]; then
	lib_finish
	exit
fi

not_grep() { # PATTERN FILE: the file does not match
	! grep -q -- "$1" "$2"
}

# render_to OUT NAMESPACE [-notes] [-lookup OBJECTS] VALUES...: the
# manifests (or NOTES.txt) into OUT, for the cluster version $KUBE (the
# renderer's default: 1.31).
KUBE=v1.31.0
render_to() {
	local out=$1 ns=$2 flags=()
	shift 2
	if [ "${1:-}" = -notes ]; then
		flags+=(-notes)
		shift
	fi
	if [ "${1:-}" = -lookup ]; then
		flags+=(-lookup "$2")
		shift 2
	fi
	"$render" -namespace "$ns" -kube-version "$KUBE" "${flags[@]}" "$CHART" "$@" >"$out"
}

# render_case NAME NAMESPACE VALUES...: render, then every semantic check
# on the result, against the values it was rendered with.
render_case() {
	local name=$1 ns=$2 out=$LIB_TMP/$1.yaml c
	shift 2
	check "render: $name" render_to "$out" "$ns" "$@"
	for c in $SEMANTIC; do
		check "render $name: $c" cc rendered "$out" "$ns" "$c" "$@"
	done
}
render_case inline-tls default "$VALUES/good-inline-tls.yaml"
render_case crl-inline default "$VALUES/good-inline-tls.yaml" "$VALUES/good-crl-inline.yaml"
render_case existing-secret replicad "$VALUES/good-existing-secret.yaml"
render_case cert-manager ops "$VALUES/good-cert-manager.yaml"
for f in "$CHART"/ci/*-values.yaml; do
	render_case "ci-$(basename "$f" .yaml)" replicad "$f"
done
# Issue #15: served namespaces.  Two targets (a Role + RoleBinding in each,
# pins in the release namespace); the cluster-wide watch (a ClusterRole of
# list/watch on deployments and HPAs only); a home namespace that is not
# served.
render_case target-namespaces shop "$VALUES/good-inline-tls.yaml" "$VALUES/good-target-namespaces.yaml"
render_case watch-all shop "$VALUES/good-inline-tls.yaml" "$VALUES/good-watch-all.yaml"
render_case home-not-served shop "$VALUES/good-inline-tls.yaml" "$VALUES/good-home-not-served.yaml"
render_case watch-all-no-pins shop "$VALUES/good-inline-tls.yaml" "$VALUES/good-watch-all.yaml" \
	"$VALUES/good-pins-disabled.yaml"
# The exact objects, spelled out (not only as chartcheck derives them).
rbac_objects() {
	local out=$1 want=$2 got
	got=$(python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"):
        print(d["kind"], d["metadata"].get("namespace", "-"), d["metadata"]["name"])
' "$out" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || { echo "got:  $got"; echo "want: $want"; return 1; }
}
check "render target-namespaces: Roles in payments and orders, pins in shop, no ClusterRole" \
	rbac_objects "$LIB_TMP/target-namespaces.yaml" \
	"Role orders replicad Role payments replicad Role shop replicad-home RoleBinding orders replicad RoleBinding payments replicad RoleBinding shop replicad-home "
check "render watch-all: and one ClusterRole + ClusterRoleBinding" \
	rbac_objects "$LIB_TMP/watch-all.yaml" \
	"ClusterRole - shop:replicad:watch-all ClusterRoleBinding - shop:replicad:watch-all Role orders replicad Role payments replicad Role shop replicad-home RoleBinding orders replicad RoleBinding payments replicad RoleBinding shop replicad-home "
check "render home-not-served: pins Role in replicad-home only" \
	rbac_objects "$LIB_TMP/home-not-served.yaml" \
	"Role orders replicad Role payments replicad Role replicad-home replicad-home RoleBinding orders replicad RoleBinding payments replicad RoleBinding replicad-home replicad-home "
check "render inline-tls: one Role + the pins Role in the release namespace" \
	rbac_objects "$LIB_TMP/inline-tls.yaml" \
	"Role default replicad Role default replicad-home RoleBinding default replicad RoleBinding default replicad-home "
core_ns_env() {
	local out=$1 want=$2 got
	got=$(python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Deployment":
        for c in d["spec"]["template"]["spec"]["containers"]:
            if c["name"] == "core":
                for e in c.get("env") or []:
                    if e["name"] in ("REPLICAD_NAMESPACE", "REPLICAD_NAMESPACES", "REPLICAD_WATCH_ALL_NAMESPACES"):
                        print("%s=%s" % (e["name"], e.get("value")))
' "$out" | tr '\n' ' ')
	[ "$got" = "$want" ] || { echo "got:  $got"; echo "want: $want"; return 1; }
}
check "render inline-tls: REPLICAD_NAMESPACES is the release namespace" \
	core_ns_env "$LIB_TMP/inline-tls.yaml" "REPLICAD_NAMESPACES=default "
check "render target-namespaces: REPLICAD_NAMESPACES=payments,orders" \
	core_ns_env "$LIB_TMP/target-namespaces.yaml" "REPLICAD_NAMESPACES=payments,orders "
check "render watch-all: REPLICAD_WATCH_ALL_NAMESPACES=1" \
	core_ns_env "$LIB_TMP/watch-all.yaml" "REPLICAD_NAMESPACES=payments,orders REPLICAD_WATCH_ALL_NAMESPACES=1 "
check "render home-not-served: REPLICAD_NAMESPACE is the home" \
	core_ns_env "$LIB_TMP/home-not-served.yaml" "REPLICAD_NAMESPACE=replicad-home REPLICAD_NAMESPACES=payments,orders "

# The KIND deployment as scripts/kind.sh makes it (TLS and API range added).
render_case kind replicad tests/k8s/values-kind.yaml "$VALUES/good-inline-tls.yaml"

# preStop (issue #18): the kubelet's sleep action exists from Kubernetes
# 1.30 (PodLifecycleSleepAction beta); on 1.29 the API server would reject
# the Deployment, so the default (auto) uses /bin/sleep there.
KUBE=v1.29.4 render_case kube-1.29 replicad tests/k8s/values-kind.yaml "$VALUES/good-inline-tls.yaml"
check "render kube-1.29: preStop auto is exec /bin/sleep" cc prestop "$LIB_TMP/kube-1.29.yaml" exec
KUBE=v1.30.0 check "render: kube 1.30" render_to "$LIB_TMP/kube-1.30.yaml" replicad \
	"$VALUES/good-inline-tls.yaml"
check "render kube-1.30: preStop auto is the sleep action" cc prestop "$LIB_TMP/kube-1.30.yaml" sleep
KUBE=v1.30.2-gke.1 check "render: kube 1.30.2-gke.1 (a pre-release version)" \
	render_to "$LIB_TMP/kube-gke.yaml" replicad "$VALUES/good-inline-tls.yaml"
check "render kube-1.30.2-gke.1: preStop auto is the sleep action" cc prestop "$LIB_TMP/kube-gke.yaml" sleep
check "render kube-1.31: preStop exec when asked" cc prestop "$LIB_TMP/existing-secret.yaml" exec

check "render: NOTES.txt" render_to "$LIB_TMP/notes.txt" default -notes \
	"$VALUES/good-inline-tls.yaml"
check "render NOTES.txt: port-forward and curl; names the writers" \
	cc notes "$LIB_TMP/notes.txt" "$VALUES/good-inline-tls.yaml"
# No config.allowWrite (the default): NOTES say writes are refused, and how
# to grant them.
check "render: NOTES.txt without writers" render_to "$LIB_TMP/notes-ro.txt" \
	replicad -notes "$VALUES/good-existing-secret.yaml"
check "render NOTES.txt without writers: writes refused, how to grant" \
	cc notes "$LIB_TMP/notes-ro.txt" "$VALUES/good-existing-secret.yaml"

check "render: NOTES.txt with a CRL" render_to "$LIB_TMP/notes-crl.txt" default -notes \
	"$VALUES/good-inline-tls.yaml" "$VALUES/good-crl-inline.yaml"
check "render NOTES.txt with a CRL: revoked certificates refused, keep it current" \
	cc notes "$LIB_TMP/notes-crl.txt" "$VALUES/good-inline-tls.yaml" "$VALUES/good-crl-inline.yaml"
# The KIND values: pullPolicy Never, so no registry warning.
check "render: NOTES.txt for KIND" render_to "$LIB_TMP/notes-kind.txt" replicad -notes \
	tests/k8s/values-kind.yaml "$VALUES/good-inline-tls.yaml"
check "render NOTES.txt for KIND: no registry warning" \
	cc notes "$LIB_TMP/notes-kind.txt" tests/k8s/values-kind.yaml "$VALUES/good-inline-tls.yaml"

# Issue #15: NOTES name the served namespaces, and say what watchAllNamespaces grants.
check "render: NOTES.txt with watchAllNamespaces" render_to "$LIB_TMP/notes-wa.txt" shop -notes \
	"$VALUES/good-inline-tls.yaml" "$VALUES/good-watch-all.yaml"
check "render NOTES.txt with watchAllNamespaces: the namespaces and the cluster-wide read grant" \
	grep -qz 'namespace(s) payments, orders (the first is the.*cluster-wide read grant' "$LIB_TMP/notes-wa.txt"
check "render NOTES.txt without watchAllNamespaces: no cluster-wide grant" \
	not_grep 'cluster-wide' "$LIB_TMP/notes.txt"

# render_refuses WANT [-lookup OBJECTS] VALUES...: the render stops, saying WANT.
render_refuses() {
	local want=$1
	shift
	local flags=()
	if [ "${1:-}" = -lookup ]; then
		flags=(-lookup "$2")
		shift 2
	fi
	if "$render" "${flags[@]}" "$CHART" "$@" >/dev/null 2>"$LIB_TMP/refused.err"; then
		echo "rendered, want an error with: $want"
		return 1
	fi
	grep -qF -- "$want" "$LIB_TMP/refused.err" ||
		{ echo "want an error with: $want"; cat "$LIB_TMP/refused.err"; return 1; }
}
check "render: refuses the defaults (no TLS material)" render_refuses "TLS: set"
for f in "$VALUES"/fail-*.yaml; do
	check "render: refuses $(basename "$f")" \
		render_refuses "$(sed -n 's/^# expect: //p' "$f")" "$f"
done
# Values the schema refuses that the templates refuse too (helm applies
# the schema; a renderer that does not still stops): issue #15's
# targetNamespaces.
for f in "$VALUES"/bad-*.yaml; do
	grep -q '^# render-expect: ' "$f" || continue
	check "render: refuses $(basename "$f")" \
		render_refuses "$(sed -n 's/^# render-expect: //p' "$f")" "$VALUES/good-inline-tls.yaml" "$f"
done

# Issue #18, item 16: a TLS secret without ca.crt (an ACME issuer's) or an
# ACME issuer, with no tls.clientCAFrom, stops the render where lookup sees
# the cluster (tests/chart/cluster/); a secret with ca.crt, a CA issuer, or
# a clientCAFrom renders.
CL=tests/chart/cluster
lint_values=$CHART/ci/lint-values.yaml
with_ca_from=$LIB_TMP/ca-from.yaml
printf 'tls:\n  clientCAFrom:\n    secret: client-ca\n' >"$with_ca_from"
check "render: refuses existingSecret without ca.crt (lookup) and no clientCAFrom" \
	render_refuses "has no ca.crt" -lookup "$CL/secret-no-ca.yaml" "$lint_values"
check "render: existingSecret with ca.crt (lookup)" \
	render_to "$LIB_TMP/x.yaml" default -lookup "$CL/secret-with-ca.yaml" "$lint_values"
check "render: existingSecret without ca.crt, client CA from clientCAFrom" \
	render_to "$LIB_TMP/x.yaml" default -lookup "$CL/secret-no-ca.yaml" "$lint_values" "$with_ca_from"
check "schema: accepts lookup-cert-manager-acme.yaml" \
	cc schema-accepts "$VALUES/lookup-cert-manager-acme.yaml"
check "render: refuses an ACME ClusterIssuer (lookup) without clientCAFrom" \
	render_refuses "is an ACME issuer" -lookup "$CL/issuers.yaml" "$VALUES/lookup-cert-manager-acme.yaml"
check "render: ACME ClusterIssuer, client CA from clientCAFrom" \
	render_to "$LIB_TMP/x.yaml" default -lookup "$CL/issuers.yaml" \
	"$VALUES/lookup-cert-manager-acme.yaml" "$with_ca_from"
check "render: a CA ClusterIssuer (lookup) needs no clientCAFrom" \
	render_to "$LIB_TMP/x.yaml" ops -lookup "$CL/issuers.yaml" "$VALUES/good-cert-manager.yaml"

lib_finish
