/*
 * test_authz.c — allow-list policy (writes refused by default), typed
 * entries and their parser, typed matching, certificate names (CN, SANs),
 * the identity string sent to the core, and the EKU clientAuth
 * requirement.
 * Certificates are built in memory with OpenSSL; nothing is signed,
 * because these functions only ever see certificates TLS verified.
 */
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

/* An identity: a CN (or NULL) and at most one SAN of `type`. */
static void
id_of(
    struct authz_id *id, const char *cn, enum authz_type type, const char *san)
{
	memset(id, 0, sizeof(*id));
	if (cn != NULL) {
		id->has_cn = 1;
		strcpy(id->cn, cn);
	}
	if (san != NULL) {
		id->sans[id->nsans].type = type;
		strcpy(id->sans[id->nsans++].value, san);
	}
}

/* No list configured: every verified client reads; nobody writes. */
static void
test_authz_default_refuses_writes(void **state)
{
	struct authz *a = authz_new();
	struct authz_id id;

	(void)state;
	assert_int_equal(authz_count(a, AUTHZ_READ), 0);
	assert_int_equal(authz_count(a, AUTHZ_WRITE), 0);
	id_of(&id, "anyone", AUTHZ_DNS, "anyone.example");
	assert_true(authz_check(a, &id, AUTHZ_READ, NULL));
	assert_false(authz_check(a, &id, AUTHZ_WRITE, NULL));
	/* The dev PKI's admin is nobody special without a list. */
	id_of(&id, "replicad-admin", AUTHZ_DNS, NULL);
	assert_false(authz_check(a, &id, AUTHZ_WRITE, NULL));
	/* A nameless certificate still reads (it was verified). */
	id_of(&id, NULL, AUTHZ_DNS, NULL);
	assert_true(authz_check(a, &id, AUTHZ_READ, NULL));
	assert_false(authz_check(a, &id, AUTHZ_WRITE, NULL));
	authz_free(a);
}

/* Only --allow-read: its names read, nobody writes, others nothing. */
static void
test_authz_read_list_only(void **state)
{
	struct authz *a = authz_new();
	struct authz_id reader, other;

	(void)state;
	assert_int_equal(authz_add(a, AUTHZ_READ, "CN=replicad-reader"), 0);
	id_of(&reader, "replicad-reader", AUTHZ_DNS, NULL);
	id_of(&other, "replicad-admin", AUTHZ_DNS, NULL);
	assert_true(authz_check(a, &reader, AUTHZ_READ, NULL));
	assert_false(authz_check(a, &reader, AUTHZ_WRITE, NULL));
	assert_false(authz_check(a, &other, AUTHZ_READ, NULL));
	assert_false(authz_check(a, &other, AUTHZ_WRITE, NULL));
	authz_free(a);
}

/* allow-read reads only; allow-write also reads; others nothing. */
static void
test_authz_lists(void **state)
{
	struct authz *a = authz_new();
	struct authz_id reader, admin, other, bysan;

	(void)state;
	assert_int_equal(authz_add(a, AUTHZ_READ, "CN=replicad-reader"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "CN=replicad-admin"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "DNS:ops.example.com"), 0);
	assert_int_equal(authz_count(a, AUTHZ_READ), 1);
	assert_int_equal(authz_count(a, AUTHZ_WRITE), 2);
	id_of(&reader, "replicad-reader", AUTHZ_DNS, NULL);
	id_of(&admin, "replicad-admin", AUTHZ_DNS, NULL);
	id_of(&other, "replicad-readerx", AUTHZ_DNS, "replicad-reade");
	id_of(&bysan, "someone", AUTHZ_DNS, "ops.example.com");
	assert_true(authz_check(a, &reader, AUTHZ_READ, NULL));
	assert_false(authz_check(a, &reader, AUTHZ_WRITE, NULL));
	assert_true(authz_check(a, &admin, AUTHZ_READ, NULL));
	assert_true(authz_check(a, &admin, AUTHZ_WRITE, NULL));
	assert_false(authz_check(a, &other, AUTHZ_READ, NULL));
	assert_false(authz_check(a, &other, AUTHZ_WRITE, NULL));
	assert_true(authz_check(a, &bysan, AUTHZ_WRITE, NULL));
	/* Case matters: names are compared byte for byte. */
	id_of(&other, "Replicad-Admin", AUTHZ_DNS, NULL);
	assert_false(authz_check(a, &other, AUTHZ_READ, NULL));
	id_of(&other, NULL, AUTHZ_DNS, "OPS.example.com");
	assert_false(authz_check(a, &other, AUTHZ_READ, NULL));
	authz_free(a);
}

/* An entry matches only names of its own type, never the same text of
 * another type. */
static void
test_authz_typed_matching(void **state)
{
	struct authz *a = authz_new();
	struct authz_id id;

	(void)state;
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "CN=admin"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "DNS:ops.example.com"), 0);
	assert_int_equal(
	    authz_add(a, AUTHZ_WRITE, "URI:spiffe://cluster.local/ns/x/sa/y"),
	    0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "email:ops@example.com"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "IP:10.1.2.3"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "IP:2001:db8:0:0::1"), 0);

	/* Each entry matches its own type ... */
	id_of(&id, "admin", AUTHZ_DNS, NULL);
	assert_true(authz_check(a, &id, AUTHZ_WRITE, NULL));
	id_of(&id, NULL, AUTHZ_DNS, "ops.example.com");
	assert_true(authz_check(a, &id, AUTHZ_WRITE, NULL));
	id_of(&id, NULL, AUTHZ_URI, "spiffe://cluster.local/ns/x/sa/y");
	assert_true(authz_check(a, &id, AUTHZ_WRITE, NULL));
	id_of(&id, NULL, AUTHZ_EMAIL, "ops@example.com");
	assert_true(authz_check(a, &id, AUTHZ_WRITE, NULL));
	id_of(&id, NULL, AUTHZ_IP, "10.1.2.3");
	assert_true(authz_check(a, &id, AUTHZ_WRITE, NULL));
	/* IP entries are kept as inet_ntop writes a certificate's address. */
	id_of(&id, NULL, AUTHZ_IP, "2001:db8::1");
	assert_true(authz_check(a, &id, AUTHZ_WRITE, NULL));

	/* ... and no other: the same text under another type is nobody. */
	id_of(&id, NULL, AUTHZ_DNS, "admin");
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, "ops.example.com", AUTHZ_DNS, NULL);
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, NULL, AUTHZ_URI, "ops.example.com");
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, NULL, AUTHZ_DNS, "spiffe://cluster.local/ns/x/sa/y");
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, "spiffe://cluster.local/ns/x/sa/y", AUTHZ_DNS, NULL);
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, NULL, AUTHZ_URI, "ops@example.com");
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, NULL, AUTHZ_DNS, "10.1.2.3");
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, "10.1.2.3", AUTHZ_DNS, NULL);
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	/* A URI is matched whole, not as a prefix. */
	id_of(&id, NULL, AUTHZ_URI, "spiffe://cluster.local/ns/x/sa/yy");
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	id_of(&id, NULL, AUTHZ_URI, "spiffe://cluster.local/ns/x/sa");
	assert_false(authz_check(a, &id, AUTHZ_READ, NULL));
	authz_free(a);
}

/* Every prefix parses to its type; the value is what follows it. */
static void
test_authz_parse_entry_prefixes(void **state)
{
	static const struct {
		const char *entry;
		enum authz_type type;
		const char *value;
	} good[] = {
	    {"CN=replicad-admin", AUTHZ_CN, "replicad-admin"},
	    {"CN=replicad dev CA", AUTHZ_CN, "replicad dev CA"},
	    {"CN=a=b:c", AUTHZ_CN, "a=b:c"},
	    {"DNS:ops.example.com", AUTHZ_DNS, "ops.example.com"},
	    {"DNS:*.example.com", AUTHZ_DNS, "*.example.com"},
	    {"URI:spiffe://cluster.local/ns/x/sa/y", AUTHZ_URI,
	        "spiffe://cluster.local/ns/x/sa/y"},
	    {"email:ops@example.com", AUTHZ_EMAIL, "ops@example.com"},
	    {"IP:10.1.2.3", AUTHZ_IP, "10.1.2.3"},
	    {"IP:::1", AUTHZ_IP, "::1"},
	    {"IP:0:0:0:0:0:0:0:1", AUTHZ_IP, "::1"},
	    {"IP:2001:DB8::1", AUTHZ_IP, "2001:db8::1"},
	    /* A prefix is a prefix: the rest is the name, whatever it is. */
	    {"CN=DNS:x", AUTHZ_CN, "DNS:x"},
	    {"DNS:CN=x", AUTHZ_DNS, "CN=x"},
	};
	struct authz_name n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(authz_parse_entry(good[i].entry, &n), 0);
		assert_int_equal(n.type, good[i].type);
		assert_string_equal(n.value, good[i].value);
	}
}

/* Hostile and mistaken entries, each with the error it must get. */
static void
test_authz_parse_entry_rejects(void **state)
{
	static const struct {
		const char *entry;
		int err;
	} bad[] = {
	    /* untyped: the old syntax is refused, not guessed at */
	    {"replicad-admin", AUTHZ_ERR_PREFIX},
	    {"spiffe://cluster.local/ns/x/sa/y", AUTHZ_ERR_PREFIX},
	    {"", AUTHZ_ERR_PREFIX},
	    /* prefixes are exact, case included */
	    {"cn=admin", AUTHZ_ERR_PREFIX},
	    {"CN:admin", AUTHZ_ERR_PREFIX},
	    {"dns:a.example", AUTHZ_ERR_PREFIX},
	    {"DNS=a.example", AUTHZ_ERR_PREFIX},
	    {"uri:spiffe://x", AUTHZ_ERR_PREFIX},
	    {"Email:a@example.com", AUTHZ_ERR_PREFIX},
	    {"EMAIL:a@example.com", AUTHZ_ERR_PREFIX},
	    {"ip:10.0.0.1", AUTHZ_ERR_PREFIX},
	    {"IP Address:10.0.0.1", AUTHZ_ERR_PREFIX},
	    {"SAN:a.example", AUTHZ_ERR_PREFIX},
	    {" CN=admin", AUTHZ_ERR_PREFIX},
	    {"O=replicad", AUTHZ_ERR_PREFIX},
	    /* empty value, for every prefix */
	    {"CN=", AUTHZ_ERR_EMPTY},
	    {"DNS:", AUTHZ_ERR_EMPTY},
	    {"URI:", AUTHZ_ERR_EMPTY},
	    {"email:", AUTHZ_ERR_EMPTY},
	    {"IP:", AUTHZ_ERR_EMPTY},
	    /* bad characters */
	    {"CN=a\nb", AUTHZ_ERR_CHAR},
	    {"CN=a\tb", AUTHZ_ERR_CHAR},
	    {"CN= admin", AUTHZ_ERR_CHAR},
	    {"CN=admin ", AUTHZ_ERR_CHAR},
	    {"CN= ", AUTHZ_ERR_CHAR},
	    {"CN=caf\xc3\xa9", AUTHZ_ERR_CHAR},
	    {"CN=a\x7f", AUTHZ_ERR_CHAR},
	    {"DNS:a b.example", AUTHZ_ERR_CHAR},
	    {"URI:spiffe://x/ y", AUTHZ_ERR_CHAR},
	    {"email:a b@example.com", AUTHZ_ERR_CHAR},
	    {"email:\x1b[31m@example.com", AUTHZ_ERR_CHAR},
	    {"IP:10.0.0.1 ", AUTHZ_ERR_CHAR},
	    /* IP: an address, nothing else */
	    {"IP:10.0.0", AUTHZ_ERR_IP},
	    {"IP:10.0.0.256", AUTHZ_ERR_IP},
	    {"IP:10.0.0.0/8", AUTHZ_ERR_IP},
	    {"IP:localhost", AUTHZ_ERR_IP},
	    {"IP:[::1]", AUTHZ_ERR_IP},
	    {"IP:fe80::1%eth0", AUTHZ_ERR_IP},
	};
	static const char *const prefixes[] = {
	    "CN=", "DNS:", "URI:", "email:", "IP:"};
	char entry[8 + GW_MAX_SUBJECT + 2];
	struct authz_name n;
	size_t i, p;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (authz_parse_entry(bad[i].entry, &n) != bad[i].err)
			fail_msg("entry %zu \"%s\": want %d", i, bad[i].entry,
			    bad[i].err);
		assert_non_null(authz_strerror(bad[i].err));
	}
	/* The value may be GW_MAX_SUBJECT bytes long, not one more. */
	for (p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		if (strcmp(prefixes[p], "IP:") == 0)
			continue; /* no address is that long: AUTHZ_ERR_IP */
		snprintf(entry, sizeof(entry), "%s", prefixes[p]);
		memset(entry + strlen(prefixes[p]), 'a', GW_MAX_SUBJECT + 1);
		entry[strlen(prefixes[p]) + GW_MAX_SUBJECT + 1] = '\0';
		assert_int_equal(authz_parse_entry(entry, &n), AUTHZ_ERR_LONG);
		entry[strlen(prefixes[p]) + GW_MAX_SUBJECT] = '\0';
		assert_int_equal(authz_parse_entry(entry, &n), 0);
		assert_int_equal(strlen(n.value), GW_MAX_SUBJECT);
	}
	snprintf(entry, sizeof(entry), "IP:");
	memset(entry + 3, '1', GW_MAX_SUBJECT + 1);
	entry[3 + GW_MAX_SUBJECT + 1] = '\0';
	assert_int_equal(authz_parse_entry(entry, &n), AUTHZ_ERR_LONG);
	assert_string_equal(
	    authz_strerror(AUTHZ_ERR_PREFIX), "no known type prefix");
}

/* authz_add: a refused entry is not added; the count limit holds. */
static void
test_authz_add_rejects(void **state)
{
	struct authz *a = authz_new();
	struct authz_id id;
	int i;

	(void)state;
	assert_int_equal(
	    authz_add(a, AUTHZ_WRITE, "replicad-admin"), AUTHZ_ERR_PREFIX);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "CN="), AUTHZ_ERR_EMPTY);
	assert_int_equal(authz_count(a, AUTHZ_WRITE), 0);
	id_of(&id, "replicad-admin", AUTHZ_DNS, NULL);
	assert_false(authz_check(a, &id, AUTHZ_WRITE, NULL));
	for (i = 0; i < GW_MAX_ALLOW; i++)
		assert_int_equal(authz_add(a, AUTHZ_READ, "CN=x"), 0);
	assert_int_equal(authz_add(a, AUTHZ_READ, "CN=x"), AUTHZ_ERR_FULL);
	assert_int_equal(authz_count(a, AUTHZ_READ), GW_MAX_ALLOW);
	/* The write list has its own room. */
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "CN=y"), 0);
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
	assert_int_equal(id.sans[0].type, AUTHZ_DNS);
	assert_string_equal(id.sans[0].value, "ops.example.com");
	assert_int_equal(id.sans[1].type, AUTHZ_EMAIL);
	assert_string_equal(id.sans[1].value, "ops@example.com");
	assert_int_equal(id.sans[2].type, AUTHZ_URI);
	assert_string_equal(id.sans[2].value, "spiffe://example/ops");
	assert_int_equal(id.sans[3].type, AUTHZ_IP);
	assert_string_equal(id.sans[3].value, "10.1.2.3");
	assert_string_equal(id.identity, "replicad-admin");
	X509_free(x);
}

/* From real certificates: a CN entry does not match a DNS SAN of the same
 * text and a DNS entry does not match such a CN; a SPIFFE URI SAN (no CN,
 * as meshes issue them) matches its URI: entry; an IPv6 SAN its IP:. */
static void
test_authz_typed_from_cert(void **state)
{
	static const char *const cn[] = {"replicad-admin", NULL};
	static const char *const dnscn[] = {"ops.example.com", NULL};
	X509 *cn_only = cert(cn, NULL, "clientAuth");
	X509 *san_only = cert(NULL, "DNS:replicad-admin", "clientAuth");
	X509 *dns_as_cn = cert(dnscn, NULL, "clientAuth");
	X509 *spiffe = cert(NULL,
	    "URI:spiffe://cluster.local/ns/x/sa/y,IP:2001:db8:0:0:0:0:0:1",
	    "clientAuth");
	struct authz *cn_list = authz_new(), *dns_list = authz_new();
	struct authz *uri_list = authz_new(), *ip_list = authz_new();
	struct authz_id id;

	(void)state;
	assert_int_equal(
	    authz_add(cn_list, AUTHZ_WRITE, "CN=replicad-admin"), 0);
	assert_int_equal(
	    authz_add(dns_list, AUTHZ_WRITE, "DNS:ops.example.com"), 0);
	assert_int_equal(
	    authz_add(dns_list, AUTHZ_WRITE, "DNS:replicad-admin"), 0);
	assert_int_equal(authz_add(uri_list, AUTHZ_WRITE,
	                     "URI:spiffe://cluster.local/ns/x/sa/y"),
	    0);
	assert_int_equal(authz_add(ip_list, AUTHZ_WRITE, "IP:2001:db8::1"), 0);

	assert_int_equal(authz_id_from_cert(cn_only, &id), 0);
	assert_true(authz_check(cn_list, &id, AUTHZ_WRITE, NULL));
	assert_false(authz_check(dns_list, &id, AUTHZ_READ, NULL));

	assert_int_equal(authz_id_from_cert(san_only, &id), 0);
	assert_false(authz_check(cn_list, &id, AUTHZ_READ, NULL));
	assert_true(authz_check(dns_list, &id, AUTHZ_WRITE, NULL));

	assert_int_equal(authz_id_from_cert(dns_as_cn, &id), 0);
	assert_false(authz_check(dns_list, &id, AUTHZ_READ, NULL));

	assert_int_equal(authz_id_from_cert(spiffe, &id), 0);
	assert_string_equal(id.identity, "spiffe://cluster.local/ns/x/sa/y");
	assert_true(authz_check(uri_list, &id, AUTHZ_WRITE, NULL));
	assert_true(authz_check(ip_list, &id, AUTHZ_WRITE, NULL));
	assert_false(authz_check(cn_list, &id, AUTHZ_READ, NULL));
	assert_false(authz_check(dns_list, &id, AUTHZ_READ, NULL));

	authz_free(cn_list);
	authz_free(dns_list);
	authz_free(uri_list);
	authz_free(ip_list);
	X509_free(cn_only);
	X509_free(san_only);
	X509_free(dns_as_cn);
	X509_free(spiffe);
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
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "CN=replicad-admin"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "CN=reader"), 0);
	assert_false(authz_check(a, &id, AUTHZ_WRITE, NULL));
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

/*
 * Issue #15: "<namespace>/<typed name>" grants only in that namespace;
 * an unscoped entry grants in every one; NULL asks "in all of them".
 */
static void
test_authz_scoped_entries(void **state)
{
	struct authz *a = authz_new();
	struct authz_id alice, bob, carol, dave;

	(void)state;
	assert_false(authz_has_scoped(a));
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "payments/CN=alice"), 0);
	assert_int_equal(authz_add(a, AUTHZ_READ, "ops/CN=bob"), 0);
	assert_int_equal(authz_add(a, AUTHZ_WRITE, "CN=carol"), 0);
	assert_int_equal(
	    authz_add(a, AUTHZ_READ, "email/URI:spiffe://c.local/ns/x/sa/d"),
	    0);
	assert_true(authz_has_scoped(a));
	assert_int_equal(authz_count(a, AUTHZ_WRITE), 2);
	id_of(&alice, "alice", AUTHZ_DNS, NULL);
	id_of(&bob, "bob", AUTHZ_DNS, NULL);
	id_of(&carol, "carol", AUTHZ_DNS, NULL);
	id_of(&dave, NULL, AUTHZ_URI, "spiffe://c.local/ns/x/sa/d");
	/* alice writes (so reads) in payments only. */
	assert_true(authz_check(a, &alice, AUTHZ_WRITE, "payments"));
	assert_true(authz_check(a, &alice, AUTHZ_READ, "payments"));
	assert_false(authz_check(a, &alice, AUTHZ_WRITE, "ops"));
	assert_false(authz_check(a, &alice, AUTHZ_READ, "ops"));
	assert_false(authz_check(a, &alice, AUTHZ_WRITE, NULL));
	assert_false(authz_check(a, &alice, AUTHZ_READ, NULL));
	assert_true(authz_check_any(a, &alice, AUTHZ_WRITE));
	/* bob reads in ops only and never writes. */
	assert_true(authz_check(a, &bob, AUTHZ_READ, "ops"));
	assert_false(authz_check(a, &bob, AUTHZ_WRITE, "ops"));
	assert_false(authz_check(a, &bob, AUTHZ_READ, "payments"));
	assert_true(authz_check_any(a, &bob, AUTHZ_READ));
	assert_false(authz_check_any(a, &bob, AUTHZ_WRITE));
	/* carol's unscoped entry holds everywhere. */
	assert_true(authz_check(a, &carol, AUTHZ_WRITE, "payments"));
	assert_true(authz_check(a, &carol, AUTHZ_WRITE, "ops"));
	assert_true(authz_check(a, &carol, AUTHZ_WRITE, NULL));
	/* A namespace called "email" is a scope, not the email: prefix. */
	assert_true(authz_check(a, &dave, AUTHZ_READ, "email"));
	assert_false(authz_check(a, &dave, AUTHZ_READ, "ops"));
	/* A scope is compared whole. */
	assert_false(authz_check(a, &alice, AUTHZ_WRITE, "payment"));
	assert_false(authz_check(a, &alice, AUTHZ_WRITE, "payments2"));
	/* With only scoped entries, reads are no longer open. */
	id_of(&alice, "eve", AUTHZ_DNS, NULL);
	assert_false(authz_check(a, &alice, AUTHZ_READ, "payments"));
	assert_false(authz_check_any(a, &alice, AUTHZ_READ));
	authz_free(a);
}

/* The scope syntax: a DNS-1123 label, '/', a typed name. */
static void
test_authz_parse_scoped(void **state)
{
	struct authz_name n;
	char ns[PS_MAX_NAMESPACE + 1], longns[80];

	(void)state;
	assert_int_equal(authz_parse_scoped("payments/CN=alice", ns, &n), 0);
	assert_string_equal(ns, "payments");
	assert_int_equal(n.type, AUTHZ_CN);
	assert_string_equal(n.value, "alice");
	assert_int_equal(authz_parse_scoped("a-1/IP:0:0::1", ns, &n), 0);
	assert_string_equal(ns, "a-1");
	assert_string_equal(n.value, "::1");
	/* A typed name keeps its slashes and is unscoped. */
	assert_int_equal(
	    authz_parse_scoped("URI:spiffe://c/ns/payments/sa/x", ns, &n), 0);
	assert_string_equal(ns, "");
	assert_int_equal(n.type, AUTHZ_URI);
	assert_int_equal(authz_parse_scoped("CN=a/b", ns, &n), 0);
	assert_string_equal(ns, "");
	assert_string_equal(n.value, "a/b");
	/* Bad scopes. */
	assert_int_equal(
	    authz_parse_scoped("Payments/CN=alice", ns, &n), AUTHZ_ERR_NS);
	assert_int_equal(authz_parse_scoped("/CN=alice", ns, &n), AUTHZ_ERR_NS);
	assert_int_equal(
	    authz_parse_scoped("-a/CN=alice", ns, &n), AUTHZ_ERR_NS);
	assert_int_equal(
	    authz_parse_scoped("a.b/CN=alice", ns, &n), AUTHZ_ERR_NS);
	assert_int_equal(
	    authz_parse_scoped("pay ments/CN=alice", ns, &n), AUTHZ_ERR_NS);
	memset(longns, 'a', 64);
	strcpy(longns + 64, "/CN=x");
	assert_int_equal(authz_parse_scoped(longns, ns, &n), AUTHZ_ERR_NS);
	strcpy(longns + 63, "/CN=x");
	assert_int_equal(authz_parse_scoped(longns, ns, &n), 0);
	/* The ':' of a type is not a scope separator. */
	assert_int_equal(
	    authz_parse_scoped("payments:CN=alice", ns, &n), AUTHZ_ERR_PREFIX);
	/* A good scope with a bad name: the name's error. */
	assert_int_equal(
	    authz_parse_scoped("payments/alice", ns, &n), AUTHZ_ERR_PREFIX);
	assert_int_equal(
	    authz_parse_scoped("payments/CN=", ns, &n), AUTHZ_ERR_EMPTY);
	assert_int_equal(
	    authz_parse_scoped("payments//CN=a", ns, &n), AUTHZ_ERR_PREFIX);
	assert_string_equal(authz_strerror(AUTHZ_ERR_NS),
	    "the namespace before '/' is not a DNS-1123 label (a scoped "
	    "entry is <namespace>/<typed name>)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authz_default_refuses_writes),
	    cmocka_unit_test(test_authz_read_list_only),
	    cmocka_unit_test(test_authz_lists),
	    cmocka_unit_test(test_authz_typed_matching),
	    cmocka_unit_test(test_authz_scoped_entries),
	    cmocka_unit_test(test_authz_parse_scoped),
	    cmocka_unit_test(test_authz_parse_entry_prefixes),
	    cmocka_unit_test(test_authz_parse_entry_rejects),
	    cmocka_unit_test(test_authz_add_rejects),
	    cmocka_unit_test(test_authz_names_from_cert),
	    cmocka_unit_test(test_authz_typed_from_cert),
	    cmocka_unit_test(test_authz_two_cns_ignored),
	    cmocka_unit_test(test_authz_identity_escaping),
	    cmocka_unit_test(test_authz_san_with_nul_ignored),
	    cmocka_unit_test(test_tlsctx_eku_client_required),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
