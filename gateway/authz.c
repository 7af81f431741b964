/*
 * authz.c — typed allow-lists and certificate names.  The lists are
 * small (GW_MAX_ALLOW each) and searched linearly; an entry is compared
 * only with the client's names of its own type.  This module trusts that
 * the certificate it is given was verified by the TLS layer; it never
 * looks at an unverified one (api.c checks SSL_get_verify_result first).
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "gateway/authz.h"
#include "proto-socket/ps_buf.h"

/* One allow-list entry: a typed name, in one namespace or ("") all. */
struct authz_entry {
	char ns[PS_MAX_NAMESPACE + 1];
	struct authz_name name;
};

struct authz {
	size_t nread, nwrite, nscoped;
	struct authz_entry read[GW_MAX_ALLOW];
	struct authz_entry write[GW_MAX_ALLOW];
};

#define AUTHZ_STR_(x) #x
#define AUTHZ_STR(x)  AUTHZ_STR_(x)

/* The type prefixes, exactly as an entry spells them. */
static const struct {
	const char *prefix;
	enum authz_type type;
} prefixes[] = {
    {"CN=", AUTHZ_CN},
    {"DNS:", AUTHZ_DNS},
    {"URI:", AUTHZ_URI},
    {"email:", AUTHZ_EMAIL},
    {"IP:", AUTHZ_IP},
};

struct authz *
authz_new(void)
{
	return calloc(1, sizeof(struct authz));
}

void
authz_free(struct authz *a)
{
	free(a);
}

const char *
authz_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case AUTHZ_ERR_PREFIX:
		return "no known type prefix";
	case AUTHZ_ERR_EMPTY:
		return "empty name after the type prefix";
	case AUTHZ_ERR_LONG:
		return "name longer than " AUTHZ_STR(GW_MAX_SUBJECT) " bytes";
	case AUTHZ_ERR_CHAR:
		return "name holds a character other than printable ASCII "
		       "(or a space, allowed only inside a CN)";
	case AUTHZ_ERR_IP:
		return "IP: wants an IPv4 or IPv6 address";
	case AUTHZ_ERR_FULL:
		return "too many entries in one list";
	case AUTHZ_ERR_NS:
		return "the namespace before '/' is not a DNS-1123 label "
		       "(a scoped entry is <namespace>/<typed name>)";
	default:
		return "unknown error";
	}
}

/* Canonical text of an IP address, as read_sans() writes a SAN's. */
static int
canonical_ip(const char *s, char *out, size_t len)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)len) ? 0 : -1;
	if (inet_pton(AF_INET6, s, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, (socklen_t)len) ? 0 : -1;
	return -1;
}

int
authz_parse_entry(const char *entry, struct authz_name *out)
{
	const char *v = NULL;
	char ip[INET6_ADDRSTRLEN];
	size_t i, len, plen;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		plen = strlen(prefixes[i].prefix);
		if (strncmp(entry, prefixes[i].prefix, plen) == 0) {
			out->type = prefixes[i].type;
			v = entry + plen;
			break;
		}
	}
	if (v == NULL)
		return AUTHZ_ERR_PREFIX;
	len = strnlen(v, GW_MAX_SUBJECT + 1);
	if (len == 0)
		return AUTHZ_ERR_EMPTY;
	if (len > GW_MAX_SUBJECT)
		return AUTHZ_ERR_LONG;
	for (i = 0; i < len; i++) {
		if (v[i] > 0x20 && v[i] < 0x7f)
			continue;
		/* "CN=replicad dev CA" is a name; "CN= admin" a typo. */
		if (v[i] == ' ' && out->type == AUTHZ_CN && i > 0 &&
		    i + 1 < len)
			continue;
		return AUTHZ_ERR_CHAR;
	}
	if (out->type == AUTHZ_IP) {
		if (canonical_ip(v, ip, sizeof(ip)) != 0)
			return AUTHZ_ERR_IP;
		v = ip;
		len = strlen(ip);
	}
	memcpy(out->value, v, len);
	out->value[len] = '\0';
	return 0;
}

int
authz_parse_scoped(
    const char *entry, char ns[PS_MAX_NAMESPACE + 1], struct authz_name *out)
{
	const char *slash;
	size_t i, nslen;
	int r;

	ns[0] = '\0';
	/* A typed name is never scoped, whatever '/' it holds later. */
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(entry, prefixes[i].prefix,
		        strlen(prefixes[i].prefix)) == 0)
			return authz_parse_entry(entry, out);
	if ((slash = strchr(entry, '/')) == NULL)
		return authz_parse_entry(entry, out); /* AUTHZ_ERR_PREFIX */
	nslen = (size_t)(slash - entry);
	if (nslen == 0 || nslen > PS_MAX_NAMESPACE ||
	    ps_valid_namespace(entry, nslen) != PS_OK) {
		memset(out, 0, sizeof(*out));
		return AUTHZ_ERR_NS;
	}
	if ((r = authz_parse_entry(slash + 1, out)) != 0)
		return r;
	memcpy(ns, entry, nslen);
	ns[nslen] = '\0';
	return 0;
}

int
authz_add(struct authz *a, enum authz_perm perm, const char *entry)
{
	size_t *n = perm == AUTHZ_WRITE ? &a->nwrite : &a->nread;
	struct authz_entry *list = perm == AUTHZ_WRITE ? a->write : a->read;
	int r;

	if (*n >= GW_MAX_ALLOW)
		return AUTHZ_ERR_FULL;
	if ((r = authz_parse_scoped(entry, list[*n].ns, &list[*n].name)) != 0)
		return r;
	if (list[*n].ns[0] != '\0')
		a->nscoped++;
	(*n)++;
	return 0;
}

size_t
authz_count(const struct authz *a, enum authz_perm perm)
{
	return perm == AUTHZ_WRITE ? a->nwrite : a->nread;
}

int
authz_has_scoped(const struct authz *a)
{
	return a->nscoped > 0;
}

/* Whether one of the client's names of the entry's type is the entry. */
static int
matches(const struct authz_name *e, const struct authz_id *id)
{
	size_t j;

	if (e->type == AUTHZ_CN)
		return id->has_cn && strcmp(e->value, id->cn) == 0;
	for (j = 0; j < id->nsans; j++)
		if (id->sans[j].type == e->type &&
		    strcmp(e->value, id->sans[j].value) == 0)
			return 1;
	return 0;
}

/*
 * Whether an entry of `list` names the client and grants in `ns`: an
 * unscoped entry always; a scoped one when `ns` is its namespace, or,
 * with `any`, whatever `ns` is.
 */
static int
in_list(const struct authz_entry *list, size_t n, const struct authz_id *id,
    const char *ns, int any)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (list[i].ns[0] != '\0' && !any &&
		    (ns == NULL || strcmp(list[i].ns, ns) != 0))
			continue;
		if (matches(&list[i].name, id))
			return 1;
	}
	return 0;
}

static int
check(const struct authz *a, const struct authz_id *id, enum authz_perm perm,
    const char *ns, int any)
{
	if (in_list(a->write, a->nwrite, id, ns, any))
		return 1;
	if (perm == AUTHZ_WRITE)
		return 0;
	/* No entry at all: reads are open to every verified client. */
	if (a->nread == 0 && a->nwrite == 0)
		return 1;
	return in_list(a->read, a->nread, id, ns, any);
}

int
authz_check(const struct authz *a, const struct authz_id *id,
    enum authz_perm perm, const char *ns)
{
	return check(a, id, perm, ns, 0);
}

int
authz_check_any(
    const struct authz *a, const struct authz_id *id, enum authz_perm perm)
{
	return check(a, id, perm, NULL, 1);
}

/* Copies a counted name if usable: no NUL inside, fits. */
static int
take_name(char *dst, const unsigned char *src, int len)
{
	if (len <= 0 || len > GW_MAX_SUBJECT ||
	    memchr(src, '\0', (size_t)len) != NULL)
		return -1;
	memcpy(dst, src, (size_t)len);
	dst[len] = '\0';
	return 0;
}

void
authz_id_set_identity(struct authz_id *id, const char *raw, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)raw[i];
		if (c >= 0x20 && c <= 0x7e && c != '\\') {
			if (o + 1 > PS_MAX_IDENTITY)
				break;
			id->identity[o++] = (char)c;
		} else {
			/* \xHH keeps the identity printable and unambiguous. */
			if (o + 4 > PS_MAX_IDENTITY)
				break;
			id->identity[o++] = '\\';
			id->identity[o++] = 'x';
			id->identity[o++] = hex[c >> 4];
			id->identity[o++] = hex[c & 0xf];
		}
	}
	id->identity[o] = '\0';
}

static void
read_cn(X509 *cert, struct authz_id *id)
{
	X509_NAME *subj = X509_get_subject_name(cert);
	X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	int idx, len;

	if (subj == NULL)
		return;
	idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (idx < 0)
		return;
	/* Two CNs are ambiguous: which one did the CA vouch for? Neither. */
	if (X509_NAME_get_index_by_NID(subj, NID_commonName, idx) >= 0)
		return;
	if ((e = X509_NAME_get_entry(subj, idx)) == NULL)
		return;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (len > 0 && take_name(id->cn, utf8, len) == 0)
		id->has_cn = 1;
	OPENSSL_free(utf8);
}

/* Adds a SAN of `type` if usable (see take_name). */
static void
add_san(struct authz_id *id, enum authz_type type, const unsigned char *src,
    int len)
{
	if (take_name(id->sans[id->nsans].value, src, len) == 0)
		id->sans[id->nsans++].type = type;
}

static void
read_sans(X509 *cert, struct authz_id *id)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	const ASN1_STRING *s;
	const unsigned char *ip;
	char text[INET6_ADDRSTRLEN];
	enum authz_type type;
	int i, n;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	n = sk_GENERAL_NAME_num(gens);
	for (i = 0; i < n && id->nsans < GW_MAX_SANS; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		switch (g->type) {
		case GEN_DNS:
			s = g->d.dNSName;
			type = AUTHZ_DNS;
			break;
		case GEN_EMAIL:
			s = g->d.rfc822Name;
			type = AUTHZ_EMAIL;
			break;
		case GEN_URI:
			s = g->d.uniformResourceIdentifier;
			type = AUTHZ_URI;
			break;
		case GEN_IPADD:
			s = g->d.iPAddress;
			ip = ASN1_STRING_get0_data(s);
			if ((ASN1_STRING_length(s) == 4 &&
			        inet_ntop(AF_INET, ip, text, sizeof(text)) !=
			            NULL) ||
			    (ASN1_STRING_length(s) == 16 &&
			        inet_ntop(AF_INET6, ip, text, sizeof(text)) !=
			            NULL))
				add_san(id, AUTHZ_IP,
				    (const unsigned char *)text,
				    (int)strlen(text));
			continue;
		default:
			continue;
		}
		add_san(
		    id, type, ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(gens);
}

int
authz_id_from_cert(X509 *cert, struct authz_id *id)
{
	const ASN1_INTEGER *serial;
	BIGNUM *bn;
	char *hex, buf[PS_MAX_IDENTITY + 1];

	memset(id, 0, sizeof(*id));
	if (cert == NULL)
		return -1;
	read_cn(cert, id);
	read_sans(cert, id);
	if (id->has_cn) {
		authz_id_set_identity(id, id->cn, strlen(id->cn));
		return 0;
	}
	if (id->nsans > 0) {
		authz_id_set_identity(
		    id, id->sans[0].value, strlen(id->sans[0].value));
		return 0;
	}
	/* Nameless but verified: the serial is at least traceable. */
	serial = X509_get0_serialNumber(cert);
	if (serial == NULL || (bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
		return -1;
	hex = BN_bn2hex(bn);
	BN_free(bn);
	if (hex == NULL)
		return -1;
	snprintf(buf, sizeof(buf), "serial:%s", hex);
	OPENSSL_free(hex);
	authz_id_set_identity(id, buf, strlen(buf));
	return 0;
}
