# End-to-end component tests: kube-sim, replicad-core and replicad-gateway
# together (each module registers its own tests in its own fragment).
COMPONENT_TESTS += $(wildcard tests/component/e2e_*_test.sh)
