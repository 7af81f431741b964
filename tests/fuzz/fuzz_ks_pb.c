/*
 * fuzz_ks_pb.c — libFuzzer driver for kube-sim's protobuf request bodies
 * (tests/kube-sim/ks_pb.c on protobuf-c).
 *
 * Input: byte 0 picks the kind the endpoint wants (Deployment, Scale,
 * SelfSubjectAccessReview, SelfSubjectReview, ConfigMap; % 5); the rest is
 * the body,
 * given once as is and once behind the "k8s\0" magic (so the fuzzer
 * reaches the envelope and the objects without having to find the magic).
 * Oracles, beyond ASan/UBSan and LeakSanitizer:
 *   - failure leaves a non-empty NUL-terminated message, success none;
 *   - a body without the magic never decodes;
 *   - a decoded object is a JSON object whose kind is the wanted one, and
 *     serialises with yajl's UTF-8 validation on, and parses back within
 *     the ks_json limits to an equal tree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                          \
	do {                              \
		if (!(x))                 \
			__builtin_trap(); \
	} while (0)

static void
check(const struct ks_json *o, const char *kind, const char *err)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t len;
	struct ks_json *back;
	enum ks_json_err e;
	const char *k;

	if (o == NULL) {
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(err[0] == '\0');
	CHECK(o->type == KS_JSON_OBJECT);
	k = ks_json_str(ks_json_get(o, "kind"));
	CHECK(k != NULL && strcmp(k, kind) == 0);
	CHECK((g = ks_gen_new()) != NULL);
	CHECK(ks_json_gen(g, o) == 0);
	CHECK(yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok);
	back = ks_json_parse(buf, len, &e, NULL, 0);
	CHECK(back != NULL || e == KS_JSON_ENOMEM);
	if (back != NULL)
		CHECK(ks_json_equal(o, back));
	ks_json_free(back);
	yajl_gen_free(g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = {"Deployment", "Scale",
	    "SelfSubjectAccessReview", "SelfSubjectReview", "ConfigMap"};
	const char *kind;
	struct ks_json *o;
	uint8_t *body;
	char err[256];

	if (size < 1 || size > 1 << 20)
		return 0;
	kind = kinds[data[0] % 5];
	data++;
	size--;
	o = ks_pb_decode(data, size, kind, err, sizeof(err));
	if (size < 4 || memcmp(data, "k8s", 4) != 0)
		CHECK(o == NULL);
	check(o, kind, err);
	ks_json_free(o);
	CHECK((body = malloc(size + 4)) != NULL);
	memcpy(body, "k8s", 4);
	if (size > 0)
		memcpy(body + 4, data, size);
	o = ks_pb_decode(body, size + 4, kind, err, sizeof(err));
	check(o, kind, err);
	ks_json_free(o);
	free(body);
	return 0;
}
