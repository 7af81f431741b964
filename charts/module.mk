# charts/replicad — the Helm chart (issue #6) and its workflow.
#
# `make chart-check` runs the chart's checks, which need no helm and no
# cluster (tests/chart/chart_test.sh: schema, templates, rendering;
# tests/chart/pod_sim_test.sh: the rendered pod's containers run as their
# uids over kube-sim; tests/chart/kind_test.sh: scripts/kind.sh and the
# e2e's helpers against fake docker, kind, kubectl and helm).  `make test` runs both too.  The KIND
# targets need docker, kind, kubectl and helm, which this project's
# machines do not have: each fails at once naming what is missing
# (scripts/kind.sh check).  The images come from `make docker-build`
# (defined with the Dockerfiles), tagged replicad-{core,gateway}:$(IMAGE_TAG).

CHART_TESTS := tests/chart/chart_test.sh tests/chart/pod_sim_test.sh \
               tests/chart/kind_test.sh
COMPONENT_TESTS += $(CHART_TESTS)

KIND_CLUSTER  ?= replicad
K8S_NAMESPACE ?= replicad
RELEASE       ?= replicad
IMAGE_TAG     ?= dev
KIND_ENV = KIND_CLUSTER=$(KIND_CLUSTER) K8S_NAMESPACE=$(K8S_NAMESPACE) \
           RELEASE=$(RELEASE) IMAGE_TAG=$(IMAGE_TAG)

.PHONY: chart-check kind-up kind-down setup deploy undeploy run-k8s e2e \
        test-k8s

# The chart's checks; pod_sim_test runs the daemons, hence `build`.
chart-check: build
	$(Q)scripts/install-deps.sh --if-missing >&2
	$(Q)BUILD=$(BUILD) scripts/run-tests.sh chart $(CHART_TESTS)

kind-up:
	$(Q)$(KIND_ENV) scripts/kind.sh up

kind-down:
	$(Q)$(KIND_ENV) scripts/kind.sh down

# Cluster, certificates (their SANs name the release's namespace), images
# built and loaded into the nodes.  Tools are checked first, so a machine
# without them stops before building anything.
setup:
	$(Q)scripts/kind.sh check docker kind kubectl helm
	$(Q)$(KIND_ENV) scripts/kind.sh up
	$(Q)NAMESPACE=$(K8S_NAMESPACE) scripts/gen-certs.sh certs
	$(Q)$(MAKE) --no-print-directory docker-build IMAGE_TAG=$(IMAGE_TAG)
	$(Q)$(KIND_ENV) scripts/kind.sh load

deploy:
	$(Q)$(KIND_ENV) scripts/kind.sh deploy

undeploy:
	$(Q)$(KIND_ENV) scripts/kind.sh undeploy

# Deploy and port-forward https://localhost:8443 (Ctrl-C to stop).
run-k8s:
	$(Q)scripts/kind.sh check docker kind kubectl helm
	$(Q)$(MAKE) --no-print-directory setup
	$(Q)$(KIND_ENV) scripts/kind.sh run

# The end-to-end test on KIND (tests/k8s/e2e.sh): needs `make setup` first.
# `make test-k8s` is the same suite under the name of the other test
# goals; without docker, kind, kubectl or helm both stop at once, naming
# what is missing (e2e.sh runs scripts/kind.sh check first).
e2e test-k8s:
	$(Q)$(KIND_ENV) tests/k8s/e2e.sh
