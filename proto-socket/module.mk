# proto-socket: the wire protocol library both daemons link.
PS_SRCS := $(wildcard proto-socket/*.c)
PS_LIB  := $(BUILD)/libproto-socket.a
LIBS    += $(PS_LIB)

$(PS_LIB): $(call obj,$(PS_SRCS))
	$(Q)mkdir -p $(@D)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# cmocka unit tests: tests/unit/proto-socket/test_X.c -> $(BUILD)/tests/test_X
PS_TEST_SRCS := $(wildcard tests/unit/proto-socket/test_*.c)
PS_TESTS     := $(patsubst tests/unit/proto-socket/%.c,$(BUILD)/tests/%,$(PS_TEST_SRCS))
UNIT_TESTS   += $(PS_TESTS)

$(call obj,$(PS_TEST_SRCS)): MOD_CFLAGS := $(CFLAGS_TEST)

$(PS_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/proto-socket/%.o $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST)

# libFuzzer drivers: tests/fuzz/fuzz_X.c -> $(BUILD)/fuzz/fuzz_X (FUZZ=1 only)
ifeq ($(FUZZ),1)
PS_FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_ps_*.c)
PS_FUZZERS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(PS_FUZZ_SRCS))
FUZZERS      += $(PS_FUZZERS)

$(PS_FUZZERS): $(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^
endif
