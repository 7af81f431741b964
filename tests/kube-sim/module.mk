# kube-sim: a Kubernetes API server test double (issue #3).
KS_SRCS := $(wildcard tests/kube-sim/*.c)
KS_BIN  := $(BUILD)/kube-sim
BINS    += $(KS_BIN)

# The parts without libevent, linked into the unit tests too.
KS_PURE := tests/kube-sim/ks_json.c tests/kube-sim/ks_status.c \
           tests/kube-sim/ks_select.c tests/kube-sim/ks_query.c \
           tests/kube-sim/ks_obj.c tests/kube-sim/ks_store.c

$(call obj,$(KS_SRCS)): MOD_CFLAGS := $(CFLAGS_EVENT) $(CFLAGS_YAJL)

$(KS_BIN): $(call obj,$(KS_SRCS))
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EVENT) $(LIBS_YAJL)

# cmocka unit tests: one binary per tests/unit/kube-sim/test_*.c.
KS_UNIT_SRCS := $(wildcard tests/unit/kube-sim/test_*.c)
KS_UNIT_BINS := $(patsubst tests/unit/kube-sim/%.c,$(BUILD)/tests/%,\
                  $(KS_UNIT_SRCS))
UNIT_TESTS   += $(KS_UNIT_BINS)

$(call obj,$(KS_UNIT_SRCS)): MOD_CFLAGS := $(CFLAGS_EVENT) $(CFLAGS_YAJL) \
                                           $(CFLAGS_TEST)

$(BUILD)/tests/test_ks_%: $(BUILD)/obj/tests/unit/kube-sim/test_ks_%.o \
                          $(call obj,$(KS_PURE))
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST) $(LIBS_YAJL) $(LIBS_SSL)

# Component tests: scripts that start $(BUILD)/kube-sim.
COMPONENT_TESTS += $(sort $(wildcard tests/component/kube-sim-*.sh))
