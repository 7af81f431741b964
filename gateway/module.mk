# replicad-gateway: the unprivileged mTLS REST front.  Never links libcurl.
GW_SRCS     := $(wildcard gateway/*.c)
GW_LIB_SRCS := $(filter-out gateway/main.c,$(GW_SRCS))
GW_LIB      := $(BUILD)/libgateway.a
GW_BIN      := $(BUILD)/replicad-gateway
BINS        += $(GW_BIN)

$(call obj,$(GW_SRCS)): MOD_CFLAGS := $(CFLAGS_EVENT) $(CFLAGS_YAJL)

$(GW_LIB): $(call obj,$(GW_LIB_SRCS))
	$(Q)mkdir -p $(@D)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(GW_BIN): $(call obj,gateway/main.c) $(GW_LIB) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EVENT) $(LIBS_YAJL)

# The fake core: the core's real socket server (core/ipc, with the core's
# log.c) under scripted handlers (fake_core.c) and a wire-fault proxy
# (fake_proxy.c), for the gateway's tests.  No libcurl, no kube code.
# CORE_IPCS_SRCS is core/module.mk's, read before this fragment (sorted).
FAKE_CORE      := $(BUILD)/fake-core
FAKE_CORE_SRCS := tests/fakes/fake_core.c tests/fakes/fake_proxy.c
BINS           += $(FAKE_CORE)

$(call obj,$(FAKE_CORE_SRCS)): MOD_CFLAGS := $(CFLAGS_EVENT)

$(FAKE_CORE): $(call obj,$(FAKE_CORE_SRCS) $(CORE_IPCS_SRCS) core/log.c) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EVENT) $(LIBS_YAJL)

# cmocka unit tests: tests/unit/gateway/test_X.c -> $(BUILD)/tests/gateway/test_X
GW_TEST_SRCS := $(wildcard tests/unit/gateway/test_*.c)
GW_TESTS     := $(patsubst tests/unit/gateway/%.c,$(BUILD)/tests/gateway/%,$(GW_TEST_SRCS))
UNIT_TESTS   += $(GW_TESTS)

$(call obj,$(GW_TEST_SRCS)): MOD_CFLAGS := $(CFLAGS_TEST) $(CFLAGS_EVENT) $(CFLAGS_YAJL)

$(GW_TESTS): $(BUILD)/tests/gateway/%: $(BUILD)/obj/tests/unit/gateway/%.o $(GW_LIB) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST) $(LIBS_EVENT) $(LIBS_YAJL)

# Component tests: real gateway, fake core, curl / openssl / testssl.sh.
COMPONENT_TESTS += $(sort $(wildcard tests/component/gateway_*_test.sh))

# libFuzzer drivers (FUZZ=1 only): the request parser alone, the body
# parser alone, and the whole connection (http_conn + API/probe handlers +
# reply) over a socketpair with a fake core that replaces ipc_client (so
# libgateway.a's ipc_client.o is not linked).
ifeq ($(FUZZ),1)
GW_FUZZERS := $(BUILD)/fuzz/fuzz_http_parse $(BUILD)/fuzz/fuzz_body \
              $(BUILD)/fuzz/fuzz_gateway_conn $(BUILD)/fuzz/fuzz_query
FUZZERS    += $(GW_FUZZERS)

$(call obj,tests/fuzz/fuzz_gateway_conn.c): MOD_CFLAGS := $(CFLAGS_EVENT) $(CFLAGS_YAJL)

# http_parse.o checks If-Match's resourceVersion with proto-socket's rules.
$(BUILD)/fuzz/fuzz_http_parse: $(BUILD)/obj/tests/fuzz/fuzz_http_parse.o $(GW_LIB) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^

# Only body.o comes out of the archive; it needs yajl.
$(BUILD)/fuzz/fuzz_body: $(BUILD)/obj/tests/fuzz/fuzz_body.o $(GW_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_YAJL)

# The write routes' query string parser alone (query.o needs nothing).
$(BUILD)/fuzz/fuzz_query: $(BUILD)/obj/tests/fuzz/fuzz_query.o $(GW_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^

$(BUILD)/fuzz/fuzz_gateway_conn: $(BUILD)/obj/tests/fuzz/fuzz_gateway_conn.o $(GW_LIB) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_EVENT) $(LIBS_YAJL)
endif
