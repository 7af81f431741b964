# replicad-gateway: the unprivileged mTLS REST front.  Never links libcurl.
GW_SRCS := $(wildcard gateway/*.c)
GW_BIN  := $(BUILD)/replicad-gateway
BINS    += $(GW_BIN)

$(GW_BIN): $(call obj,$(GW_SRCS)) $(PS_LIB)
	$(Q)mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
