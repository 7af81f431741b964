/*
 * fuzz_cmjson.c — libFuzzer driver for the ConfigMap parsers, which read
 * what the API server (or anything posing as it) sends for the pins
 * ConfigMap.
 *
 * The first byte picks the mode (object, list, watch) and where the input
 * is split into two feeds; the rest is the body, copied into an
 * exactly-sized heap block.  Oracles, beyond ASan/UBSan: every object
 * delivered is valid (DNS-1123 name, visible-ASCII resourceVersion, a
 * value within the ConfigMap limit and NUL-terminated), and a parser that
 * failed stays failed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pins/cmjson.h"
#include "core/core_limits.h"
#include "proto-socket/ps_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

static void
check_cm(const struct cmjson_cm *o, int need_name)
{
	size_t rl = strlen(o->rv);

	if (need_name)
		CHECK(ps_valid_name(o->name, strlen(o->name)) == PS_OK);
	for (size_t i = 0; i < rl; i++)
		CHECK(o->rv[i] > 0x20 && o->rv[i] < 0x7f);
	if (o->has_value) {
		CHECK(o->value != NULL && o->value_len <= CMJSON_MAX_VALUE);
		CHECK(o->value[o->value_len] == '\0');
	}
}

static int
cb(void *arg, enum kjson_event ev, const struct cmjson_cm *o)
{
	(void)arg;
	CHECK(ev != KJSON_EV_NONE);
	if (ev == KJSON_EV_ERROR)
		CHECK(o->code >= 100 && o->code <= 599);
	else
		check_cm(o, ev != KJSON_EV_BOOKMARK);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cmjson_mode modes[] = {
	    CMJSON_OBJECT, CMJSON_LIST, CMJSON_WATCH};
	struct cmjson *c;
	enum cmjson_mode mode;
	size_t cut;
	char *in;
	int rc;

	if (size < 1)
		return 0;
	mode = modes[data[0] % 3];
	data++;
	size--;
	cut = size != 0 ? (size_t)data[0] % (size + 1) : 0;
	if ((in = malloc(size != 0 ? size : 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	if ((c = cmjson_new(mode, "pins.json", cb, NULL)) == NULL) {
		free(in);
		return 0;
	}
	rc = cmjson_feed(c, in, cut);
	if (rc == 0)
		rc = cmjson_feed(c, in + cut, size - cut);
	if (rc == 0)
		rc = cmjson_finish(c);
	else
		CHECK(cmjson_finish(c) == -1); /* dead stays dead */
	if (rc == 0 && mode == CMJSON_OBJECT)
		check_cm(cmjson_top(c), 1);
	cmjson_free(c);
	free(in);
	return 0;
}
