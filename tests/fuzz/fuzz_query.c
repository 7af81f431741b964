/*
 * fuzz_query.c — libFuzzer driver for the write routes' query string
 * parser (gateway/query.c).
 *
 * Input: the bytes after '?', copied into an exactly-sized heap block.
 * Oracles, beyond ASan/UBSan: an independent recognizer of the accepted
 * language (empty, or exactly one of dryRun=true, dryRun=All,
 * dryRun=false) agrees, with the same dry_run; every result has a
 * message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

/* -1: refused; else the dry_run it must give. */
static int
oracle(const uint8_t *d, size_t n)
{
	static const struct {
		const char *q;
		int dry;
	} ok[] = {{"", 0}, {"dryRun=true", 1}, {"dryRun=All", 1},
	    {"dryRun=false", 0}};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (n == strlen(ok[i].q) && memcmp(d, ok[i].q, n) == 0)
			return ok[i].dry;
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size != 0 ? size : 1);
	struct query_write w = {42};
	enum query_err e;
	int want = oracle(data, size);

	if (in == NULL)
		abort();
	memcpy(in, data, size);
	e = query_parse_write(in, size, &w);
	free(in);
	CHECK(query_message(e) != NULL && query_message(e)[0] != '\0');
	CHECK((e == QUERY_OK) == (want >= 0));
	if (e == QUERY_OK)
		CHECK(w.dry_run == want);
	else
		CHECK(w.dry_run == 42);
	return 0;
}
