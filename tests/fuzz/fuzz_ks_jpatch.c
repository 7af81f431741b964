/*
 * fuzz_ks_jpatch.c — libFuzzer driver for kube-sim's patch engines: RFC
 * 6902 JSON patch (tests/kube-sim/ks_jpatch.c) and, when the patch is an
 * object, strategic merge patch (ks_smp.c) and server-side apply with
 * managedFields bookkeeping (ks_ssa.c).
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
 *     KS_JSON_MAX_NODES) to an equal tree;
 *   - object patches: the strategic merge result, the recorded update
 *     (managedFields) and the applied document (twice: the second apply
 *     by the same manager, forced or not, must not conflict with itself)
 *     round-trip the same way; a conflict is a 409 with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/kube-sim/ks_jpatch.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_smp.h"
#include "tests/kube-sim/ks_ssa.h"
#include "tests/kube-sim/ks_status.h"

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

static void
object_patch(const struct ks_json *doc, const struct ks_json *patch)
{
	struct ks_json *m, *out = NULL, *out2 = NULL;
	struct ks_status st;
	int rc;

	m = ks_json_clone(doc);
	CHECK(m != NULL);
	if (ks_smp_apply(&m, patch) == 0) {
		check_roundtrip(m);
		if (ks_ssa_record_update(doc, m, "fuzz", "", "apps/v1", 1000) ==
		    0)
			check_roundtrip(m);
	}
	rc = ks_ssa_apply(m, patch, "applier", "apps/v1", 0, 2000, &out, &st);
	CHECK(rc == -1 || rc == 0 || rc == 1);
	if (rc == 1)
		CHECK(st.code == 409 && st.message[0] != '\0' && out == NULL);
	if (rc == 0) {
		check_roundtrip(out);
		rc = ks_ssa_apply(
		    out, patch, "applier", "apps/v1", 0, 3000, &out2, &st);
		CHECK(rc != 1);
		if (rc == 0)
			check_roundtrip(out2);
	}
	ks_json_free(out2);
	ks_json_free(out);
	out = NULL;
	if (ks_ssa_apply(m, patch, "forcer", "apps/v1", 1, 4000, &out, &st) ==
	    0)
		check_roundtrip(out);
	CHECK(out == NULL || out->type == KS_JSON_OBJECT);
	ks_json_free(out);
	ks_json_free(m);
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
	if (patch->type == KS_JSON_OBJECT && doc->type == KS_JSON_OBJECT)
		object_patch(doc, patch);
	ks_json_free(a);
	ks_json_free(b);
	ks_json_free(doc);
	ks_json_free(patch);
	return 0;
}
