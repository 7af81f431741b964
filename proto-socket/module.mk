# proto-socket: the wire protocol library both daemons link.
PS_SRCS := $(wildcard proto-socket/*.c)
PS_LIB  := $(BUILD)/libproto-socket.a
LIBS    += $(PS_LIB)

$(PS_LIB): $(call obj,$(PS_SRCS))
	$(Q)mkdir -p $(@D)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
