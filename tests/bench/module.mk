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

$(LOADGEN): $(call obj,tests/bench/loadgen.c $(BENCH_COMMON))
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_SSL)

$(PSBENCH): $(call obj,tests/bench/psbench.c $(BENCH_COMMON)) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
