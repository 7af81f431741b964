# replicad-core (the privileged half) and replicad-ctl (its operator client).
# The core links libcurl for the Kubernetes client; the ctl never does.
CORE_KUBE_SRCS := core/clock.c core/json_walk.c core/kube/kjson.c core/kube/annotations.c core/kube/cache.c \
                  core/kube/kclient.c core/kube/listwatch.c core/kube/reflector.c \
                  core/kube/scale.c core/kube/health.c core/pins/pin_doc.c core/pins/pins.c \
                  core/pins/reconcile.c
# Leader election (lease.c).
CORE_KUBE_SRCS += core/kube/lease.c core/kube/lease_json.c
# Kubernetes Events about the writes (event_rec.c, its JSON event_json.c).
CORE_EVREC_SRCS := core/kube/event_rec.c core/kube/event_json.c core/kube/lease_json.c
CORE_KUBE_SRCS += core/kube/event_rec.c core/kube/event_json.c
# Which HorizontalPodAutoscaler targets which Deployment (read-only).
CORE_KUBE_SRCS += core/kube/hpa_json.c core/kube/hpa_watch.c
# Pins in a ConfigMap (--pin-configmap): the set, the JSON, the backend.
CORE_KUBE_SRCS += core/pins/pin_set.c core/pins/cmjson.c core/pins/pins_cm.c \
                  core/pins/pins_cm_write.c
# What the pins store links (file and ConfigMap backends).
CORE_PINS_SRCS := core/pins/pins.c core/pins/pins_cm.c core/pins/pins_cm_write.c \
                  core/pins/pin_set.c core/pins/pin_doc.c core/pins/cmjson.c core/kube/kclient.c \
                  core/kube/kjson.c core/kube/annotations.c core/json_walk.c \
                  core/kube/listwatch.c core/kube/cache.c core/log.c core/clock.c
# The socket server (ipcs_): the server object, the socket file, accepting,
# a connection and dispatch, request handles and answers.
CORE_IPCS_SRCS := core/ipc/ipc_server.c core/ipc/ipc_sock.c core/ipc/ipc_accept.c \
                  core/ipc/ipc_conn.c core/ipc/ipc_answer.c
CORE_SRCS := $(CORE_IPCS_SRCS) core/log.c core/serve.c core/serve_pins.c \
             core/serve_metrics.c core/serve_health.c core/ns_units.c \
             core/core_opts.c \
             $(CORE_KUBE_SRCS) \
             core/main.c
CORE_BIN  := $(BUILD)/replicad-core
CTL_SRCS  := core/ctl.c core/ctl_client.c core/clock.c
CTL_BIN   := $(BUILD)/replicad-ctl
BINS      += $(CORE_BIN) $(CTL_BIN)

$(call obj,$(CORE_SRCS) $(CTL_SRCS)): \
    MOD_CFLAGS := $(CFLAGS_EVENT) $(CFLAGS_YAJL) $(CFLAGS_CURL)

$(CORE_BIN): $(call obj,$(CORE_SRCS)) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EVENT) $(LIBS_YAJL) $(LIBS_CURL)

$(CTL_BIN): $(call obj,$(CTL_SRCS)) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_YAJL)

# cmocka unit tests: tests/unit/core/test_X.c -> $(BUILD)/tests/core/test_X,
# linked with the core modules it exercises (list them in the eval line).
define CORE_UNIT_TEST
ifneq ($(wildcard tests/unit/core/$(1).c),)
UNIT_TESTS += $(BUILD)/tests/core/$(1)
$(call obj,tests/unit/core/$(1).c): \
    MOD_CFLAGS := $(CFLAGS_TEST) $(CFLAGS_EVENT) $(CFLAGS_YAJL) $(CFLAGS_CURL)
$(BUILD)/tests/core/$(1): $(call obj,tests/unit/core/$(1).c $(2)) $(PS_LIB)
	$$(Q)mkdir -p $$(@D)
	@echo "  LD      $$@"
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LIBS_TEST) $$(LIBS_EVENT) \
	    $$(LIBS_YAJL) $$(LIBS_CURL)
endif
endef
$(eval $(call CORE_UNIT_TEST,test_log,core/log.c))
$(eval $(call CORE_UNIT_TEST,test_ipc_server,$(CORE_IPCS_SRCS) core/log.c))
$(eval $(call CORE_UNIT_TEST,test_json_walk,core/json_walk.c))
$(eval $(call CORE_UNIT_TEST,test_kjson,core/kube/kjson.c core/kube/annotations.c core/json_walk.c))
$(eval $(call CORE_UNIT_TEST,test_cache,core/kube/cache.c))
# The namespaces served: the list, the set, lookup.
$(eval $(call CORE_UNIT_TEST,test_ns_units,core/ns_units.c))
$(eval $(call CORE_UNIT_TEST,test_annotations,core/kube/annotations.c))
# The loop's policy, and its resync with the reflector over the fake kclient.
$(eval $(call CORE_UNIT_TEST,test_listwatch,core/kube/listwatch.c \
    core/kube/reflector.c core/kube/cache.c core/kube/kjson.c \
    core/kube/annotations.c core/json_walk.c \
    core/log.c core/clock.c tests/fakes/fake_kclient.c))
# HorizontalPodAutoscalers: the parser (with hostile tables), the map, and
# the watch over the fake kclient (403/404 → unknown).
$(eval $(call CORE_UNIT_TEST,test_hpa_json,core/kube/hpa_json.c core/json_walk.c))
$(eval $(call CORE_UNIT_TEST,test_hpa_watch,core/kube/hpa_watch.c \
    core/kube/hpa_json.c core/kube/listwatch.c core/kube/kjson.c \
    core/kube/annotations.c core/json_walk.c \
    core/log.c core/clock.c tests/fakes/fake_kclient.c))
$(eval $(call CORE_UNIT_TEST,test_scale,core/kube/scale.c $(CORE_EVREC_SRCS) \
    core/kube/reflector.c \
    core/kube/listwatch.c \
    core/kube/kjson.c core/kube/annotations.c core/json_walk.c core/kube/cache.c core/kube/kclient.c core/log.c \
    core/clock.c))
$(eval $(call CORE_UNIT_TEST,test_pin_doc,core/pins/pin_doc.c core/json_walk.c))
$(eval $(call CORE_UNIT_TEST,test_pins,$(CORE_PINS_SRCS)))
$(eval $(call CORE_UNIT_TEST,test_reconcile,core/pins/reconcile.c core/kube/scale.c \
    $(CORE_EVREC_SRCS) core/kube/hpa_watch.c core/kube/hpa_json.c \
    core/kube/reflector.c $(CORE_PINS_SRCS)))
# Pins in a ConfigMap: the set, the ConfigMap parser, the write policy.
$(eval $(call CORE_UNIT_TEST,test_pin_set,core/pins/pin_set.c core/pins/pin_doc.c \
    core/json_walk.c))
$(eval $(call CORE_UNIT_TEST,test_cmjson,core/pins/cmjson.c core/json_walk.c))
# The ConfigMap store against a fake kclient (tests/fakes/fake_kclient.c).
$(call obj,tests/fakes/fake_kclient.c): \
    MOD_CFLAGS := $(CFLAGS_TEST) $(CFLAGS_YAJL)
$(eval $(call CORE_UNIT_TEST,test_pins_cm,core/pins/pins.c core/pins/pins_cm.c core/pins/pins_cm_write.c \
    core/pins/pin_set.c core/pins/pin_doc.c core/pins/cmjson.c core/kube/listwatch.c \
    core/kube/cache.c core/kube/kjson.c core/kube/annotations.c core/json_walk.c core/log.c core/clock.c \
    tests/fakes/fake_kclient.c))

# Leader election: policy and the Lease JSON both ways.
$(eval $(call CORE_UNIT_TEST,test_lease,core/kube/lease.c core/kube/lease_json.c \
    core/json_walk.c \
    core/kube/kjson.c core/kube/annotations.c core/kube/kclient.c core/log.c core/clock.c))

# Component tests: start the real binaries.
COMPONENT_TESTS += $(wildcard tests/component/core_socket_test.sh \
    tests/component/core_kube_test.sh tests/component/core_kube_more_test.sh \
    tests/component/core_pins_test.sh tests/component/core_bounds_test.sh \
    tests/component/core_resync_test.sh)
# Pins in a ConfigMap shared by two cores (kube-sim).
COMPONENT_TESTS += $(wildcard tests/component/core_pins_cm_test.sh)

# Leader election between cores (kube-sim Leases).
COMPONENT_TESTS += $(wildcard tests/component/core_lease_test.sh)

# libFuzzer driver for the pins document (FUZZ=1 only).
ifeq ($(FUZZ),1)
CORE_FUZZERS := $(BUILD)/fuzz/fuzz_pin_doc
FUZZERS      += $(CORE_FUZZERS)

$(call obj,tests/fuzz/fuzz_pin_doc.c): MOD_CFLAGS := $(CFLAGS_YAJL)

$(CORE_FUZZERS): $(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o \
    $(call obj,core/pins/pin_doc.c core/json_walk.c) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_YAJL)

# ...and for the ConfigMap parsers (pins in a ConfigMap).
FUZZERS += $(BUILD)/fuzz/fuzz_cmjson
$(call obj,tests/fuzz/fuzz_cmjson.c): MOD_CFLAGS := $(CFLAGS_YAJL)
$(BUILD)/fuzz/fuzz_cmjson: $(BUILD)/obj/tests/fuzz/fuzz_cmjson.o \
    $(call obj,core/pins/cmjson.c core/json_walk.c) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_YAJL)

# ...and for the API answers kjson.c reads: Deployment object, list page
# and watch stream (fuzz_kjson), and the Lease (fuzz_lease).
KJSON_FUZZERS := $(BUILD)/fuzz/fuzz_kjson $(BUILD)/fuzz/fuzz_lease
FUZZERS       += $(KJSON_FUZZERS)
$(call obj,tests/fuzz/fuzz_kjson.c tests/fuzz/fuzz_lease.c): \
    MOD_CFLAGS := $(CFLAGS_YAJL)
$(KJSON_FUZZERS): $(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o \
    $(call obj,core/kube/kjson.c core/kube/annotations.c core/json_walk.c core/kube/lease_json.c) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_YAJL)

# ...and for the HorizontalPodAutoscaler list pages and watch streams.
FUZZERS += $(BUILD)/fuzz/fuzz_hpa
$(call obj,tests/fuzz/fuzz_hpa.c): MOD_CFLAGS := $(CFLAGS_YAJL)
$(BUILD)/fuzz/fuzz_hpa: $(BUILD)/obj/tests/fuzz/fuzz_hpa.o \
    $(call obj,core/kube/hpa_json.c core/json_walk.c) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_YAJL)
endif

# Kubernetes Events (events.k8s.io/v1): the recorder and its JSON, against
# the fake kclient; malloc/calloc wrapped to fail on demand (the test's
# alloc_fail_*), in this binary only.
$(eval $(call CORE_UNIT_TEST,test_event_rec,core/kube/event_rec.c \
    core/kube/event_json.c core/kube/lease_json.c core/json_walk.c \
    core/kube/kjson.c core/kube/annotations.c core/log.c core/clock.c tests/fakes/fake_kclient.c))
$(BUILD)/tests/core/test_event_rec: \
    LDFLAGS += -Wl,--wrap=malloc -Wl,--wrap=calloc
