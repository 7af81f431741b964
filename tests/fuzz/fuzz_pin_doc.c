/*
 * fuzz_pin_doc.c — libFuzzer driver for the pins document parser, which
 * reads a file people may edit and (later) a ConfigMap other replicas
 * write.
 *
 * The input is copied into an exactly-sized heap block (no NUL after it),
 * so that a read past its end is caught.  Oracles, beyond ASan/UBSan:
 *   - a refusal leaves the outputs untouched and says why;
 *   - an accepted document's entries are valid, sorted and unique, and
 *     generate -> parse gives back exactly the same entries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pins/pin_doc.h"
#include "proto-socket/ps_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pin_entry sentinel, *v = &sentinel, *w = NULL;
	size_t n = 12345, m = 0, len = 0;
	char err[256], *doc = NULL, *in = malloc(size != 0 ? size : 1);

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	if (pin_doc_parse(in, size, &v, &n, err, sizeof(err)) != 0) {
		CHECK(v == &sentinel && n == 12345 && err[0] != '\0');
		free(in);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(ps_valid_name(v[i].name, strlen(v[i].name)) == PS_OK);
		CHECK(ps_valid_namespace(
		          v[i].namespace, strlen(v[i].namespace)) == PS_OK);
		CHECK(v[i].replicas <= PS_MAX_REPLICAS);
		CHECK(i == 0 || pin_entry_cmp(&v[i - 1], &v[i]) < 0);
	}
	CHECK(pin_doc_generate(v, n, &doc, &len) == 0);
	CHECK(pin_doc_parse(doc, len, &w, &m, err, sizeof(err)) == 0);
	CHECK(m == n);
	CHECK(n == 0 || memcmp(v, w, n * sizeof(*v)) == 0);
	free(w);
	free(doc);
	free(v);
	free(in);
	return 0;
}
