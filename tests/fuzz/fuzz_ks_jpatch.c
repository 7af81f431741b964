/*
 * fuzz_ks_jpatch.c — libFuzzer driver for kube-sim's RFC 6902 JSON patch
 * (tests/kube-sim/ks_jpatch.c).
 *
 * Input: a document and a patch, separated by the first NUL byte (no NUL:
 * the whole input is the patch, applied to a fixed Deployment-like
 * document).  Both are parsed by the bounded ks_json parser; inputs that
 * do not parse are ignored.  Oracles, beyond ASan/UBSan and LeakSanitizer:
 *   - the outcome is one of the declared errors, with a NUL-terminated
 *     message; EDECODE iff the patch is not an array of objects/nulls;
 *   - applying the same patch to two copies of the document gives the same
 *     outcome and, on success, equal documents (no hidden state);
 *   - a patched document still fits the parser's limits: it serialises
 *     with yajl and parses back (depth <= KS_JSON_MAX_DEPTH, nodes <=
 *     KS_JSON_MAX_NODES) to an equal tree.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/kube-sim/ks_jpatch.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

static const char base_doc[] =
    "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\",\"a/b\":"
    "\"x\",\"m~n\":\"y\"}},\"spec\":{\"replicas\":3,\"template\":{\"spec\":"
    "{\"containers\":[{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"b\"}]}}},"
    "\"list\":[1,2,3,[4,[5]]]}";

static int
decodable(const struct ks_json *p)
{
	const struct ks_json *c;

	if (p->type != KS_JSON_ARRAY)
		return 0;
	for (c = p->child; c != NULL; c = c->next) {
		if (c->type != KS_JSON_OBJECT && c->type != KS_JSON_NULL)
			return 0;
	}
	return 1;
}

static void
check_roundtrip(const struct ks_json *doc)
{
	yajl_gen g = ks_gen_new();
	const unsigned char *buf;
	size_t len;
	struct ks_json *back;
	enum ks_json_err err;

	CHECK(g != NULL);
	CHECK(ks_json_gen(g, doc) == 0);
	CHECK(yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok);
	back = ks_json_parse(buf, len, &err, NULL, 0);
	CHECK(back != NULL || err == KS_JSON_ENOMEM);
	if (back != NULL)
		CHECK(ks_json_equal(doc, back));
	ks_json_free(back);
	yajl_gen_free(g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	struct ks_json *doc, *patch, *a, *b;
	enum ks_json_err err;
	enum ks_jpatch_err ea, eb;
	char ma[256], mb[256];

	if (size > 65536)
		return 0;
	if (nul != NULL) {
		doc = ks_json_parse(data, (size_t)(nul - data), &err, NULL, 0);
		patch = ks_json_parse(
		    nul + 1, size - (size_t)(nul - data) - 1, &err, NULL, 0);
	} else {
		doc = ks_json_parse(
		    base_doc, sizeof(base_doc) - 1, &err, NULL, 0);
		patch = ks_json_parse(data, size, &err, NULL, 0);
	}
	if (doc == NULL || patch == NULL) {
		ks_json_free(doc);
		ks_json_free(patch);
		return 0;
	}
	a = ks_json_clone(doc);
	b = ks_json_clone(doc);
	CHECK(a != NULL && b != NULL);
	memset(ma, 'x', sizeof(ma));
	ea = ks_jpatch_apply(&a, patch, ma, sizeof(ma));
	eb = ks_jpatch_apply(&b, patch, mb, sizeof(mb));
	CHECK(memchr(ma, 0, sizeof(ma)) != NULL);
	CHECK(ea == eb);
	CHECK(ea >= KS_JPATCH_OK && ea <= KS_JPATCH_ENOMEM);
	CHECK((ea == KS_JPATCH_EDECODE) == !decodable(patch));
	if (ea == KS_JPATCH_OK) {
		CHECK(strcmp(ma, mb) == 0);
		CHECK(ks_json_equal(a, b));
		check_roundtrip(a);
	}
	ks_json_free(a);
	ks_json_free(b);
	ks_json_free(doc);
	ks_json_free(patch);
	return 0;
}
