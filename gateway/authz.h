/*
 * authz.h — who the client is and what it may do.
 *
 * Identity comes only from the client certificate that OpenSSL verified at
 * the handshake (chain to --client-ca, validity, EKU clientAuth): its
 * subject CN (exactly one, or none) and its SANs (DNS, email, URI, IP).
 * Chain verification says "issued by our CA"; these names say "who".
 *
 * Allow-list entries are typed: CN=<cn>, DNS:<name>, URI:<uri>,
 * email:<address>, IP:<address>.  An entry matches only a name of its own
 * type (CN=x never matches a DNS SAN x, nor DNS:x a CN x), exactly and
 * case-sensitively; IP entries are compared in inet_ntop's form.
 *
 * Issue #15: an entry may be scoped to one namespace, written
 * "<namespace>/<typed name>" ("payments/CN=alice"): it grants only in that
 * namespace.  An unscoped entry grants in every namespace.  '/' is the
 * separator because ':' is part of the DNS:, URI:, email:, IP: prefixes
 * ("email" is itself a valid namespace), while a namespace (a DNS-1123
 * label) never holds a '/', '=' or ':' and no type prefix holds a '/';
 * an entry that starts with a type prefix is never scoped
 * (URI:spiffe://... keeps its slashes).
 *
 * Policy (secure by default, issue #12), per namespace:
 *   - no --allow-read and no --allow-write entry at all: every verified
 *     client may read in every namespace, nobody may write;
 *   - any entry: reading in N needs a name in either list, unscoped or
 *     scoped to N;
 *   - writing in N always needs a name in --allow-write, unscoped or
 *     scoped to N.
 */
#ifndef GW_AUTHZ_H
#define GW_AUTHZ_H

#include <stddef.h>

#include <openssl/x509.h>

#include "gateway/gw_limits.h"
#include "proto-socket/ps.h"

enum authz_perm { AUTHZ_READ, AUTHZ_WRITE };

/* The kinds of name a certificate carries, and an entry names. */
enum authz_type { AUTHZ_CN, AUTHZ_DNS, AUTHZ_URI, AUTHZ_EMAIL, AUTHZ_IP };

/* Errors of authz_parse_entry() and authz_add(); authz_strerror(). */
#define AUTHZ_ERR_PREFIX (-1) /* no known type prefix */
#define AUTHZ_ERR_EMPTY  (-2) /* nothing after the prefix */
#define AUTHZ_ERR_LONG   (-3) /* value over GW_MAX_SUBJECT bytes */
#define AUTHZ_ERR_CHAR   (-4) /* a byte this type may not hold */
#define AUTHZ_ERR_IP     (-5) /* IP: not an IPv4 or IPv6 address */
#define AUTHZ_ERR_FULL   (-6) /* GW_MAX_ALLOW entries already */
#define AUTHZ_ERR_NS     (-7) /* the scope before '/' is not a namespace */

/* The accepted entry forms, for messages. */
#define AUTHZ_FORMS                                                  \
	"CN=<common name>, DNS:<name>, URI:<uri>, email:<address>, " \
	"IP:<address>, each optionally scoped as <namespace>/<entry>"

/* One typed name: an allow-list entry or a certificate's name. */
struct authz_name {
	enum authz_type type;
	char value[GW_MAX_SUBJECT + 1];
};

struct authz;

/* Names of one client, from its verified certificate. */
struct authz_id {
	int has_cn;
	char cn[GW_MAX_SUBJECT + 1];
	size_t nsans;
	struct authz_name sans[GW_MAX_SANS]; /* type never AUTHZ_CN */
	/* What goes to the core and the logs: printable ASCII, escaped. */
	char identity[PS_MAX_IDENTITY + 1];
};

struct authz *authz_new(void);
void authz_free(struct authz *a);
/*
 * Parses one entry ("DNS:ops.example.com") into `out`: 0, or an
 * AUTHZ_ERR_*.  The prefixes are exactly "CN=", "DNS:", "URI:", "email:",
 * "IP:" (case matters); the value is 1..GW_MAX_SUBJECT bytes of printable
 * ASCII without spaces, except that a CN may hold spaces inside (not at
 * either end); an IP value must be an address and is kept as inet_ntop
 * writes it ("::1" for "0:0::1").
 */
int authz_parse_entry(const char *entry, struct authz_name *out);
/*
 * Parses an entry that may be scoped: "<namespace>/<typed name>" fills
 * `ns` with the namespace (a DNS-1123 label, else AUTHZ_ERR_NS), a typed
 * name alone leaves `ns` "".  0, or an AUTHZ_ERR_*.
 */
int authz_parse_scoped(
    const char *entry, char ns[PS_MAX_NAMESPACE + 1], struct authz_name *out);
/* Parses and adds a (possibly scoped) entry: 0, or an AUTHZ_ERR_*. */
int authz_add(struct authz *a, enum authz_perm perm, const char *entry);
const char *authz_strerror(int err);
/* Entries in the list of `perm`, scoped ones included. */
size_t authz_count(const struct authz *a, enum authz_perm perm);
/* Whether any entry (of either list) is scoped to a namespace. */
int authz_has_scoped(const struct authz *a);
/*
 * 1 allowed, 0 denied (see "Policy" above): in namespace `ns`, or, with
 * `ns` NULL, in every namespace (unscoped entries only; with no entry at
 * all, reads).
 */
int authz_check(const struct authz *a, const struct authz_id *id,
    enum authz_perm perm, const char *ns);
/* 1 when `id` has `perm` in at least one namespace (any entry). */
int authz_check_any(
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
