/*
 * authz.c — allow-lists and certificate names.  The lists are small
 * (GW_MAX_ALLOW each) and searched linearly.  This module trusts that the
 * certificate it is given was verified by the TLS layer; it never looks at
 * an unverified one (api.c checks SSL_get_verify_result first).
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "gateway/authz.h"

struct authz {
	size_t nread, nwrite;
	char read[GW_MAX_ALLOW][GW_MAX_SUBJECT + 1];
	char write[GW_MAX_ALLOW][GW_MAX_SUBJECT + 1];
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

int
authz_add(struct authz *a, enum authz_perm perm, const char *subject)
{
	size_t len = strnlen(subject, GW_MAX_SUBJECT + 1), i;
	size_t *n = perm == AUTHZ_WRITE ? &a->nwrite : &a->nread;
	char(*list)[GW_MAX_SUBJECT + 1] =
	    perm == AUTHZ_WRITE ? a->write : a->read;

	if (len == 0 || len > GW_MAX_SUBJECT) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (subject[i] < 0x20 || subject[i] > 0x7e) {
			errno = EINVAL;
			return -1;
		}
	}
	if (*n >= GW_MAX_ALLOW) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(list[*n], subject, len + 1);
	(*n)++;
	return 0;
}

int
authz_is_open(const struct authz *a)
{
	return a->nread == 0 && a->nwrite == 0;
}

static int
in_list(
    const char (*list)[GW_MAX_SUBJECT + 1], size_t n, const struct authz_id *id)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (id->has_cn && strcmp(list[i], id->cn) == 0)
			return 1;
		for (j = 0; j < id->nsans; j++)
			if (strcmp(list[i], id->sans[j]) == 0)
				return 1;
	}
	return 0;
}

int
authz_check(
    const struct authz *a, const struct authz_id *id, enum authz_perm perm)
{
	if (authz_is_open(a))
		return 1;
	if (in_list(a->write, a->nwrite, id))
		return 1;
	return perm == AUTHZ_READ && in_list(a->read, a->nread, id);
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

static void
read_sans(X509 *cert, struct authz_id *id)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	const ASN1_STRING *s;
	const unsigned char *ip;
	char text[INET6_ADDRSTRLEN];
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
			break;
		case GEN_EMAIL:
			s = g->d.rfc822Name;
			break;
		case GEN_URI:
			s = g->d.uniformResourceIdentifier;
			break;
		case GEN_IPADD:
			s = g->d.iPAddress;
			ip = ASN1_STRING_get0_data(s);
			if ((ASN1_STRING_length(s) == 4 &&
			        inet_ntop(AF_INET, ip, text, sizeof(text)) !=
			            NULL) ||
			    (ASN1_STRING_length(s) == 16 &&
			        inet_ntop(AF_INET6, ip, text, sizeof(text)) !=
			            NULL)) {
				if (take_name(id->sans[id->nsans],
				        (const unsigned char *)text,
				        (int)strlen(text)) == 0)
					id->nsans++;
			}
			continue;
		default:
			continue;
		}
		if (take_name(id->sans[id->nsans], ASN1_STRING_get0_data(s),
		        ASN1_STRING_length(s)) == 0)
			id->nsans++;
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
		authz_id_set_identity(id, id->sans[0], strlen(id->sans[0]));
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
