# Container images (issue #6): Dockerfile.core, Dockerfile.gateway.
#
#   make docker-build                 replicad-core:$(IMAGE_TAG), replicad-gateway:$(IMAGE_TAG)
#   make docker-push REGISTRY=reg.example/replicad
#                                     build, tag $(REGISTRY)/replicad-*:$(IMAGE_TAG), push
#   make image-test                   both images run as the chart runs them (CI)
#
# scripts/local-engine.sh uses the container engine that is there, or
# starts one from Debian's packages (and stops it afterwards).  image-test
# is not a COMPONENT_TEST: it is its own CI step, and says SKIP where no
# engine can be had (REQUIRE_ENGINE=1 makes that a failure).
IMAGE_TAG ?= dev
REGISTRY  ?=

.PHONY: docker-build docker-push image-test

docker-build:
	$(Q)IMAGE_TAG=$(IMAGE_TAG) scripts/local-engine.sh run scripts/images.sh build

docker-push:
	$(Q)if [ -z "$(REGISTRY)" ]; then \
	  echo "docker-push: REGISTRY is not set;" \
	       "e.g. make docker-push REGISTRY=reg.example/replicad" >&2; exit 2; fi
	$(Q)IMAGE_TAG=$(IMAGE_TAG) REGISTRY=$(REGISTRY) \
	    scripts/local-engine.sh run scripts/images.sh push

# kube-sim (from the host's build) plays the API server for the pod.
image-test: $(BUILD)/kube-sim
	$(Q)BUILD=$(BUILD) IMAGE_TAG=$(IMAGE_TAG) REQUIRE_ENGINE=$(REQUIRE_ENGINE) \
	    scripts/local-engine.sh run --skip-as image-test tests/image/image_test.sh
