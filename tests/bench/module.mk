# `make bench` (target in the top-level Makefile): the load client
# (loadgen) and the core's own client (psbench), run by
# tests/bench/bench.sh.  Part of `make build`, so that a change elsewhere
# that breaks them shows at once.
LOADGEN     := $(BUILD)/loadgen
PSBENCH     := $(BUILD)/psbench
BENCH_BINS  := $(LOADGEN) $(PSBENCH)
BINS        += $(BENCH_BINS)
BENCH_COMMON := tests/bench/hist.c tests/bench/procstat.c

$(call obj,tests/bench/loadgen.c): MOD_CFLAGS := $(CFLAGS_SSL)

$(LOADGEN): $(call obj,tests/bench/loadgen.c tests/bench/http_resp.c $(BENCH_COMMON))
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_SSL)

$(PSBENCH): $(call obj,tests/bench/psbench.c $(BENCH_COMMON)) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# cmocka unit tests: tests/unit/bench/test_X.c -> $(BUILD)/tests/bench/test_X,
# each linked with the one module it checks.
BENCH_TEST_SRCS := $(wildcard tests/unit/bench/test_*.c)
BENCH_TESTS     := $(patsubst tests/unit/bench/%.c,$(BUILD)/tests/bench/%,\
                     $(BENCH_TEST_SRCS))
UNIT_TESTS      += $(BENCH_TESTS)

$(call obj,$(BENCH_TEST_SRCS)): MOD_CFLAGS := $(CFLAGS_TEST)

$(BUILD)/tests/bench/test_http_resp: $(call obj,tests/unit/bench/test_http_resp.c tests/bench/http_resp.c)
$(BUILD)/tests/bench/test_hist: $(call obj,tests/unit/bench/test_hist.c tests/bench/hist.c)
$(BENCH_TESTS):
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST)
