/*
 * tlsctx.h — the gateway's TLS server context: policy, certificate
 * loading, and reload (SIGHUP, or a change of any of the three files seen
 * by polling stat(2), which follows Kubernetes' secret symlink swaps).
 *
 * A reload builds a complete new SSL_CTX and swaps it in only when every
 * step succeeded; otherwise the old context stays and the reason is
 * logged.  Open connections keep the context they were accepted with
 * (each SSL holds a reference), so a reload never drops one.
 */
#ifndef GW_TLSCTX_H
#define GW_TLSCTX_H

#include <openssl/ssl.h>

struct event_base;
struct tlsctx;

/* The policy, also documented in gateway/README.md. */
#define TLSCTX_CIPHERS_TLS12                                         \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLSCTX_CIPHERS_TLS13                                                   \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_" \
	"SHA256"
#define TLSCTX_GROUPS "X25519:P-256:P-384"
#define TLSCTX_SIGALGS                                                 \
	"ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ed25519:ed448:"        \
	"rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:" \
	"rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512:"    \
	"RSA+SHA256:RSA+SHA384:RSA+SHA512"

/*
 * Loads the files and builds the first context; NULL (logged) on failure.
 * `crl` (NULL: none) holds the CRL(s) of the client CA, PEM: a client
 * certificate it revokes is refused at the handshake.  `poll_seconds` > 0
 * arms a timer on `base` that reloads when any file changes; 0 disables
 * polling.
 */
struct tlsctx *tlsctx_new(struct event_base *base, const char *cert,
    const char *key, const char *ca, const char *crl, int poll_seconds);
void tlsctx_free(struct tlsctx *t);
/* The current context (borrowed; SSL_new takes its own reference). */
SSL_CTX *tlsctx_get(struct tlsctx *t);
/* 0 when the new material is in use, -1 when the old one was kept. */
int tlsctx_reload(struct tlsctx *t);
/* `cb` runs after every reload that put new material in use. */
void tlsctx_on_reload(struct tlsctx *t, void (*cb)(void *arg), void *arg);
/*
 * Whether a client certificate verified by an older context (with the
 * untrusted `chain` it sent) still verifies against the current one: CA,
 * CRL, validity, clientAuth.  `*why` says why not.
 */
int tlsctx_still_trusted(
    struct tlsctx *t, X509 *cert, STACK_OF(X509) * chain, const char **why);

/* Exposed for tests: the depth-0 check that requires EKU clientAuth. */
int tlsctx_cert_is_client(X509 *cert);

#endif /* GW_TLSCTX_H */
