# kube-sim: a Kubernetes API server test double (issue #3).
KS_SRCS := $(wildcard tests/kube-sim/*.c)
KS_BIN  := $(BUILD)/kube-sim
BINS    += $(KS_BIN)

# Protobuf request bodies (issue #16): protoc-c turns ks_k8s.proto into
# $(BUILD)/gen/ks_k8s.pb-c.[ch]; libprotobuf-c decodes.  Only kube-sim
# links it (the daemons' image builds never reach these rules).
KS_PB_GEN    := $(BUILD)/gen/kube-sim
KS_PB_C      := $(KS_PB_GEN)/ks_k8s.pb-c.c
KS_PB_H      := $(KS_PB_GEN)/ks_k8s.pb-c.h
KS_PB_OBJ    := $(BUILD)/obj/gen/kube-sim/ks_k8s.pb-c.o
KS_PB_CFLAGS := $(shell pkg-config --cflags libprotobuf-c 2>/dev/null)
KS_PB_LIBS   := $(shell pkg-config --libs libprotobuf-c 2>/dev/null || \
                  echo -lprotobuf-c)

$(KS_PB_C) $(KS_PB_H) &: tests/kube-sim/ks_k8s.proto
	$(Q)mkdir -p $(KS_PB_GEN)
	@echo "  PROTOC  $<"
	$(Q)protoc-c --c_out=$(KS_PB_GEN) --proto_path=tests/kube-sim $<

$(KS_PB_OBJ): $(KS_PB_C) $(KS_PB_H) | $(CONFIG_MK)
	$(Q)mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(KS_PB_CFLAGS) -I$(KS_PB_GEN) -c -o $@ $<

$(call obj,tests/kube-sim/ks_pb.c): $(KS_PB_H)

$(call obj,$(KS_SRCS)): MOD_CFLAGS := $(CFLAGS_EVENT) $(CFLAGS_YAJL) \
                                      $(KS_PB_CFLAGS) -I$(KS_PB_GEN)

$(KS_BIN): $(call obj,$(KS_SRCS)) $(KS_PB_OBJ)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EVENT) $(LIBS_YAJL) $(KS_PB_LIBS)

# The parts without libevent, linked into the unit tests too.
KS_PURE := tests/kube-sim/ks_json.c tests/kube-sim/ks_status.c \
           tests/kube-sim/ks_jpatch.c tests/kube-sim/ks_table.c \
           tests/kube-sim/ks_smp.c tests/kube-sim/ks_schema.c \
           tests/kube-sim/ks_ssa.c \
           tests/kube-sim/ks_select.c tests/kube-sim/ks_query.c \
           tests/kube-sim/ks_obj.c tests/kube-sim/ks_valid.c \
           tests/kube-sim/ks_store.c

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
COMPONENT_TESTS += $(sort $(wildcard tests/component/kube_sim_*_test.sh))

# libFuzzer drivers (FUZZ=1 only): JSON patch and protobuf bodies.
ifeq ($(FUZZ),1)
KS_FUZZERS := $(BUILD)/fuzz/fuzz_ks_jpatch $(BUILD)/fuzz/fuzz_ks_pb
FUZZERS    += $(KS_FUZZERS)

$(call obj,tests/fuzz/fuzz_ks_jpatch.c): MOD_CFLAGS := $(CFLAGS_YAJL)
$(call obj,tests/fuzz/fuzz_ks_pb.c): MOD_CFLAGS := $(CFLAGS_YAJL)

$(BUILD)/fuzz/fuzz_ks_jpatch: $(BUILD)/obj/tests/fuzz/fuzz_ks_jpatch.o \
    $(call obj,tests/kube-sim/ks_jpatch.c tests/kube-sim/ks_json.c \
      tests/kube-sim/ks_smp.c tests/kube-sim/ks_ssa.c \
      tests/kube-sim/ks_obj.c tests/kube-sim/ks_valid.c \
      tests/kube-sim/ks_status.c)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_YAJL)

$(BUILD)/fuzz/fuzz_ks_pb: $(BUILD)/obj/tests/fuzz/fuzz_ks_pb.o \
    $(call obj,tests/kube-sim/ks_pb.c tests/kube-sim/ks_json.c) $(KS_PB_OBJ)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_YAJL) \
	    $(KS_PB_LIBS)
endif
