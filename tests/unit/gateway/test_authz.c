/*
 * test_authz.c — allow-list policy, certificate names (CN, SANs), the
 * identity string sent to the core, and the EKU clientAuth requirement.
 * Certificates are built in memory with OpenSSL; nothing is signed,
 * because these functions only ever see certificates TLS verified.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "gateway/authz.h"
#include "gateway/tlsctx.h"

/* A certificate with the given CNs (NULL-terminated) and extensions. */
static X509 *
cert(const char *const *cns, const char *san, const char *eku)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_EXTENSION *e;

	assert_non_null(x);
	assert_non_null(n);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	for (; cns != NULL && *cns != NULL; cns++)
		assert_int_equal(
		    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		        (const unsigned char *)*cns, -1, -1, 0),
		    1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	                     (const unsigned char *)"replicad", -1, -1, 0),
	    1);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	if (san != NULL) {
		e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (eku != NULL) {
		e = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, eku);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	return x;
}

static void
id_of(struct authz_id *id, const char *cn, const char *san)
{
	memset(id, 0, sizeof(*id));
	if (cn != NULL) {
		id->has_cn = 1;
		strcpy(id->cn, cn);
	}
	if (san != NULL)
		strcpy(id->sans[id->nsans++], san);
}

/* No list configured: every verified client reads and writes. */
static void
test_authz_open_policy(void **state)
{
	struct authz *a = authz_new();
	struct authz_id id;

	(void)state;
	id_of(&id, "anyone", NULL);
	assert_true(authz_is_open(a));
	assert_true(authz_check(a, &id, AUTHZ_READ));
	assert_true(authz_check(a, &id, AUTHZ_WRITE));
	authz_free(a);
}

/* allow-read reads only; allow-write also reads; others nothing. */
static void
test_authz_lists(void **state)
{
	struct authz *a = authz_new();
	struct authz_id reader, admin, other, bysan;

	(void)state;
	assert_int_equal(authz_add(a, AUTHZ_READ, "replicad-reader"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "replicad-admin"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "ops.example.com"), 0);
	id_of(&reader, "replicad-reader", NULL);
	id_of(&admin, "replicad-admin", NULL);
	id_of(&other, "replicad-readerx", "replicad-reade");
	id_of(&bysan, "someone", "ops.example.com");
	assert_true(authz_check(a, &reader, AUTHZ_READ));
	assert_false(authz_check(a, &reader, AUTHZ_WRITE));
	assert_true(authz_check(a, &admin, AUTHZ_READ));
	assert_true(authz_check(a, &admin, AUTHZ_WRITE));
	assert_false(authz_check(a, &other, AUTHZ_READ));
	assert_false(authz_check(a, &other, AUTHZ_WRITE));
	assert_true(authz_check(a, &bysan, AUTHZ_WRITE));
	/* Case matters: names are compared byte for byte. */
	id_of(&other, "Replicad-Admin", NULL);
	assert_false(authz_check(a, &other, AUTHZ_READ));
	authz_free(a);
}

/* Entries: empty, too long, control bytes, over the count limit. */
static void
test_authz_add_rejects(void **state)
{
	struct authz *a = authz_new();
	char longs[GW_MAX_SUBJECT + 2];
	int i;

	(void)state;
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(authz_add(a, AUTHZ_READ, ""), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(authz_add(a, AUTHZ_READ, longs), -1);
	assert_int_equal(authz_add(a, AUTHZ_READ, "a\nb"), -1);
	longs[GW_MAX_SUBJECT] = '\0';
	assert_int_equal(authz_add(a, AUTHZ_READ, longs), 0);
	for (i = 1; i < GW_MAX_ALLOW; i++)
		assert_int_equal(authz_add(a, AUTHZ_READ, "x"), 0);
	assert_int_equal(authz_add(a, AUTHZ_READ, "x"), -1);
	assert_int_equal(errno, ENOSPC);
	authz_free(a);
}

/* CN and SANs come out of a certificate; identity is the CN. */
static void
test_authz_names_from_cert(void **state)
{
	static const char *const cn[] = {"replicad-admin", NULL};
	X509 *x = cert(cn,
	    "DNS:ops.example.com,email:ops@example.com,"
	    "URI:spiffe://example/ops,IP:10.1.2.3",
	    "clientAuth");
	struct authz_id id;

	(void)state;
	assert_int_equal(authz_id_from_cert(x, &id), 0);
	assert_true(id.has_cn);
	assert_string_equal(id.cn, "replicad-admin");
	assert_int_equal(id.nsans, 4);
	assert_string_equal(id.sans[0], "ops.example.com");
	assert_string_equal(id.sans[1], "ops@example.com");
	assert_string_equal(id.sans[2], "spiffe://example/ops");
	assert_string_equal(id.sans[3], "10.1.2.3");
	assert_string_equal(id.identity, "replicad-admin");
	X509_free(x);
}

/* Two CNs are ambiguous: neither is used; the SAN names the client. */
static void
test_authz_two_cns_ignored(void **state)
{
	static const char *const cn[] = {"reader", "replicad-admin", NULL};
	X509 *x = cert(cn, "DNS:b.example", NULL);
	struct authz_id id;
	struct authz *a = authz_new();

	(void)state;
	assert_int_equal(authz_id_from_cert(x, &id), 0);
	assert_false(id.has_cn);
	assert_string_equal(id.identity, "b.example");
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "replicad-admin"), 0);
	assert_false(authz_check(a, &id, AUTHZ_WRITE));
	authz_free(a);
	X509_free(x);
}

/* Non-ASCII and backslashes are escaped; nameless -> serial. */
static void
test_authz_identity_escaping(void **state)
{
	static const char *const cn[] = {"caf\xc3\xa9\\x", NULL};
	X509 *x = cert(cn, NULL, NULL);
	X509 *anon = cert(NULL, NULL, NULL);
	struct authz_id id;
	char big[600];

	(void)state;
	assert_int_equal(authz_id_from_cert(x, &id), 0);
	assert_string_equal(id.identity, "caf\\xc3\\xa9\\x5cx");
	assert_int_equal(authz_id_from_cert(anon, &id), 0);
	assert_string_equal(id.identity, "serial:1234");
	/* Long identities are cut at PS_MAX_IDENTITY, never mid-escape. */
	memset(big, 0xff, sizeof(big));
	authz_id_set_identity(&id, big, sizeof(big));
	assert_true(strlen(id.identity) <= PS_MAX_IDENTITY);
	assert_int_equal(strlen(id.identity) % 4, 0);
	X509_free(x);
	X509_free(anon);
}

/* A DNS SAN with an embedded NUL can never match anything. */
static void
test_authz_san_with_nul_ignored(void **state)
{
	static const char *const cn[] = {"c", NULL};
	X509 *x = cert(cn, NULL, NULL);
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	struct authz_id id;

	(void)state;
	ASN1_STRING_set(s, "admin\0.evil", 11);
	GENERAL_NAME_set0_value(g, GEN_DNS, s);
	sk_GENERAL_NAME_push(gens, g);
	X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0);
	GENERAL_NAMES_free(gens);
	assert_int_equal(authz_id_from_cert(x, &id), 0);
	assert_int_equal(id.nsans, 0);
	X509_free(x);
}

/* EKU: clientAuth required; serverAuth-only or no EKU is refused. */
static void
test_tlsctx_eku_client_required(void **state)
{
	static const char *const cn[] = {"c", NULL};
	X509 *client = cert(cn, NULL, "clientAuth");
	X509 *both = cert(cn, NULL, "serverAuth,clientAuth");
	X509 *server = cert(cn, NULL, "serverAuth");
	X509 *none = cert(cn, NULL, NULL);

	(void)state;
	assert_true(tlsctx_cert_is_client(client));
	assert_true(tlsctx_cert_is_client(both));
	assert_false(tlsctx_cert_is_client(server));
	assert_false(tlsctx_cert_is_client(none));
	X509_free(client);
	X509_free(both);
	X509_free(server);
	X509_free(none);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authz_open_policy),
	    cmocka_unit_test(test_authz_lists),
	    cmocka_unit_test(test_authz_add_rejects),
	    cmocka_unit_test(test_authz_names_from_cert),
	    cmocka_unit_test(test_authz_two_cns_ignored),
	    cmocka_unit_test(test_authz_identity_escaping),
	    cmocka_unit_test(test_authz_san_with_nul_ignored),
	    cmocka_unit_test(test_tlsctx_eku_client_required),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
