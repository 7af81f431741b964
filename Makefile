# replicad — top-level build.  Plain GNU make; `make help` lists the targets.
#
# Each module describes itself in a fragment (`*/module.mk`) that appends to
# LIBS, BINS, UNIT_TESTS, COMPONENT_TESTS and FUZZERS; this file holds the
# toolchain, the flags and the targets that run things.  Dependencies are
# found with pkg-config; $(BUILD)/config.mk caches the answers and is made
# by scripts/install-deps.sh checking (and if need be installing) packages.

BUILD    ?= build
SANITIZE ?=
FUZZ     ?=
V        ?=

PKGS_COMMON := openssl
PKGS_EVENT  := libevent libevent_openssl
PKGS_YAJL   := yajl
PKGS_CURL   := libcurl
PKGS_TEST   := cmocka

CC      := gcc
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla \
           -Wimplicit-fallthrough -Wnull-dereference
HARDEN  := -fstack-protector-strong -fPIE -fno-strict-overflow \
           -fno-delete-null-pointer-checks -fstack-clash-protection
LDHARD  := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
OPT     := -O2 -g

ifeq ($(SANITIZE),1)
  # _FORTIFY_SOURCE and ASan both intercept the same functions; use ASan.
  OPT   := -O1 -g -fno-omit-frame-pointer \
           -fsanitize=address,undefined -fno-sanitize-recover=all
  LDSAN := -fsanitize=address,undefined
else
  HARDEN += -D_FORTIFY_SOURCE=2
  LDSAN  :=
endif

ifeq ($(FUZZ),1)
  # Coverage instrumentation for libFuzzer; only the fuzz driver links it.
  OPT += -fsanitize=fuzzer-no-link
endif

CFLAGS  := $(CSTD) $(WARN) $(HARDEN) $(OPT) -I. -MMD -MP
LDFLAGS := $(LDHARD) $(LDSAN)

ifeq ($(V),)
  Q := @
else
  Q :=
endif

# Generated once per build dir: package flags, after the deps are present.
# Goals that compile nothing on the host do not make it, so they never run
# install-deps.sh (which, as root, apt-installs the whole toolchain): the
# KIND workflow builds inside the images (issue #18).
CONFIG_MK := $(BUILD)/config.mk
NO_CONFIG_GOALS := clean help format lint certs docker-build docker-push \
                   kind-up kind-down setup deploy undeploy run-k8s e2e test-k8s
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),build)),)
  -include $(CONFIG_MK)
endif

$(CONFIG_MK): scripts/install-deps.sh Makefile
	$(Q)mkdir -p $(@D)
	$(Q)scripts/install-deps.sh --if-missing >&2
	$(Q){ \
	  echo "CFLAGS_EVENT := $$(pkg-config --cflags $(PKGS_EVENT) $(PKGS_COMMON))"; \
	  echo "LIBS_EVENT := $$(pkg-config --libs $(PKGS_EVENT) $(PKGS_COMMON))"; \
	  echo "CFLAGS_SSL := $$(pkg-config --cflags $(PKGS_COMMON))"; \
	  echo "LIBS_SSL := $$(pkg-config --libs $(PKGS_COMMON))"; \
	  echo "CFLAGS_YAJL := $$(pkg-config --cflags $(PKGS_YAJL))"; \
	  echo "LIBS_YAJL := $$(pkg-config --libs $(PKGS_YAJL))"; \
	  echo "CFLAGS_CURL := $$(pkg-config --cflags $(PKGS_CURL))"; \
	  echo "LIBS_CURL := $$(pkg-config --libs $(PKGS_CURL))"; \
	  echo "CFLAGS_TEST := $$(pkg-config --cflags $(PKGS_TEST))"; \
	  echo "LIBS_TEST := $$(pkg-config --libs $(PKGS_TEST))"; \
	} > $@.tmp && mv $@.tmp $@

# Object path for a source: build/obj/<dir>/<name>.o
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBS            :=
BINS            :=
UNIT_TESTS      :=
COMPONENT_TESTS :=
FUZZERS         :=

# proto-socket first: the other fragments name $(PS_LIB) in their rules.
include proto-socket/module.mk
include $(filter-out proto-socket/module.mk,\
          $(sort $(wildcard */module.mk */*/module.mk)))

ALL_OBJS := $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

.DEFAULT_GOAL := build
.PHONY: build test unit-test integration-test sanitize valgrind fuzz fuzz-run lint \
        format clean run help bench certs

build: $(LIBS) $(BINS)

$(BUILD)/obj/%.o: %.c | $(CONFIG_MK)
	$(Q)mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(MOD_CFLAGS) -c $< -o $@

# `make test` is the project's test command: unit tests, then component
# tests that start the real binaries.  Each runner prints cmocka's summary
# per binary and one closing "N passed, N failed" line.
test: build $(UNIT_TESTS) $(COMPONENT_TESTS)
	$(Q)scripts/run-tests.sh unit $(UNIT_TESTS)
	$(Q)BUILD=$(BUILD) scripts/run-tests.sh component $(COMPONENT_TESTS)

unit-test: $(UNIT_TESTS)
	$(Q)scripts/run-tests.sh unit $(UNIT_TESTS)

integration-test: build $(COMPONENT_TESTS)
	$(Q)BUILD=$(BUILD) scripts/run-tests.sh component $(COMPONENT_TESTS)

# The whole suite again, built with ASan + UBSan in its own build dir.
sanitize:
	$(Q)$(MAKE) --no-print-directory BUILD=build/sanitize SANITIZE=1 test

# Component tests with every replicad-core (core_kube_test and the pins and
# lease tests) and every replicad-gateway (gateway_guard_test, gateway_conn_test) under
# valgrind's memcheck: any error or definite/indirect leak fails them.
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect
valgrind: build
	$(Q)BUILD=$(BUILD) CORE_WRAPPER="$(VALGRIND)" \
	    scripts/run-tests.sh valgrind tests/component/core_kube_test.sh \
	    tests/component/core_pins_test.sh tests/component/core_pins_cm_test.sh \
	    tests/component/core_lease_test.sh
	$(Q)BUILD=$(BUILD) GW_WRAPPER="$(VALGRIND)" GW_START_SECS=60 \
	    scripts/run-tests.sh valgrind tests/component/gateway_guard_test.sh \
	    tests/component/gateway_conn_test.sh

# libFuzzer targets, each for FUZZ_SECONDS, seeded from tests/fuzz/corpus/.
FUZZ_SECONDS ?= 60
fuzz:
	$(Q)$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang \
	    SANITIZE=1 FUZZ=1 fuzz-run

fuzz-run: $(FUZZERS)
	$(Q)set -e; for f in $(FUZZERS); do \
	  n=$$(basename $$f); mkdir -p $(BUILD)/corpus/$$n tests/fuzz/corpus/$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
	      -artifact_prefix=$(BUILD)/ $(BUILD)/corpus/$$n tests/fuzz/corpus/$$n; \
	done

# clang-format (style in .clang-format) and cppcheck over our sources;
# shellcheck of the chart and KIND scripts; yamllint of the GitHub Actions
# workflow (it cannot run here); helm lint with the chart's
# ci/*-values.yaml (issue #18: the defaults fail by design) where helm is.
LINT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null || \
                    find . -name '*.[ch]' -not -path './build/*')
lint:
	$(Q)scripts/install-deps.sh --if-missing >&2
	$(Q)clang-format --dry-run --Werror $(LINT_SRCS)
	$(Q)cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	    --enable=warning,portability,performance \
	    --suppress=missingIncludeSystem -I. $(LINT_SRCS)
	$(Q)if command -v shellcheck >/dev/null 2>&1; then \
	  shellcheck -x -S warning scripts/*.sh tests/k8s/*.sh tests/chart/*.sh; \
	else \
	  echo "lint: SKIP shellcheck (not installed)"; \
	fi
	$(Q)yamllint -d '{extends: default, rules: {line-length: {max: 100}, truthy: {check-keys: false}, document-start: disable}}' \
	    .github/workflows/
	$(Q)if command -v helm >/dev/null 2>&1; then \
	  for f in charts/replicad/ci/*-values.yaml; do \
	    helm lint charts/replicad -f $$f || exit 1; \
	  done; \
	else \
	  echo "lint: SKIP helm lint (no helm; make chart-check validates and renders charts/replicad/ci/*-values.yaml)"; \
	fi
	@echo "lint: clean"

format:
	$(Q)clang-format -i $(LINT_SRCS)

# Development PKI in certs/ (CA, gateway server cert, two client certs).
certs:
	$(Q)scripts/gen-certs.sh certs

# `make bench`: replicad against nginx (Debian's) under the same load, in
# alternating runs, and the core alone; prints a table and keeps raw
# results in $(BUILD)/bench/ (tests/bench/README.md).  BENCH_QUICK=1 is the
# CI smoke run: one short round, no thresholds.
BENCH_QUICK ?=
bench: build $(BENCH_BINS)
	$(Q)scripts/install-deps.sh --if-missing >&2
	$(Q)BUILD=$(BUILD) BENCH_QUICK=$(BENCH_QUICK) tests/bench/bench.sh

# The whole service locally: kube-sim + core + gateway (scripts/run.sh);
# KUBE_API=http://127.0.0.1:8001 uses a cluster through kubectl proxy.
run: build certs
	$(Q)BUILD=$(BUILD) scripts/run.sh

clean:
	rm -rf build

help:
	@echo "targets: build test unit-test integration-test sanitize valgrind fuzz"
	@echo "         lint format certs run bench clean chart-check"
	@echo "images:  docker-build docker-push image-test"
	@echo "KIND:    kind-up kind-down setup deploy undeploy run-k8s e2e test-k8s"
	@echo "vars:    BUILD=dir SANITIZE=1 FUZZ_SECONDS=n V=1 IMAGE_TAG=tag REGISTRY=host/path"
	@echo "         BENCH_QUICK=1 BENCH_ROUNDS=n BENCH_SECONDS=s"

-include $(ALL_OBJS)
