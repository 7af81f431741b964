/*
 * authz.h — who the client is and what it may do.
 *
 * Identity comes only from the client certificate that OpenSSL verified at
 * the handshake (chain to --client-ca, validity, EKU clientAuth): its
 * subject CN (exactly one, or none) and its SANs (DNS, email, URI, IP).
 * Chain verification says "issued by our CA"; these names say "who".
 *
 * Policy: with no --allow-read and no --allow-write every verified client
 * may read and write.  Otherwise reading needs a name in either list and
 * writing needs a name in --allow-write.  Matching is exact and
 * case-sensitive on the CN or any SAN.
 */
#ifndef GW_AUTHZ_H
#define GW_AUTHZ_H

#include <stddef.h>

#include <openssl/x509.h>

#include "gateway/gw_limits.h"
#include "proto-socket/ps.h"

enum authz_perm { AUTHZ_READ, AUTHZ_WRITE };

struct authz;

/* Names of one client, from its verified certificate. */
struct authz_id {
	int has_cn;
	char cn[GW_MAX_SUBJECT + 1];
	size_t nsans;
	char sans[GW_MAX_SANS][GW_MAX_SUBJECT + 1];
	/* What goes to the core and the logs: printable ASCII, escaped. */
	char identity[PS_MAX_IDENTITY + 1];
};

struct authz *authz_new(void);
void authz_free(struct authz *a);
/* 0, or -1 with errno EINVAL (empty, too long, not printable) / ENOSPC. */
int authz_add(struct authz *a, enum authz_perm perm, const char *subject);
/* 1 when no list was configured (every verified client may do all). */
int authz_is_open(const struct authz *a);
/* 1 allowed, 0 denied. */
int authz_check(
    const struct authz *a, const struct authz_id *id, enum authz_perm perm);

/*
 * Fills `id` from `cert`.  Names holding a NUL, longer than GW_MAX_SUBJECT
 * or beyond GW_MAX_SANS are ignored (they can never match); a subject with
 * several CNs has no usable CN.  0, or -1 when the certificate is unusable.
 */
int authz_id_from_cert(X509 *cert, struct authz_id *id);
/* Sets id->identity from the CN, else the first SAN, else the serial. */
void authz_id_set_identity(struct authz_id *id, const char *raw, size_t len);

#endif /* GW_AUTHZ_H */
