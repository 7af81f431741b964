/*
 * tlsctx.c — TLS policy in one place.  What it enforces and why is in
 * gateway/README.md ("TLS policy"); in short: TLS 1.2+ (1.3 preferred by
 * the protocol itself), ECDHE + AEAD only for 1.2, no compression, no
 * renegotiation, no session resumption (a resumed session would skip the
 * client certificate check after a CA rotation), client certificate
 * required, verified against --client-ca, and valid for clientAuth.
 *
 * It does not decide who may do what: authz.c does, from the verified
 * certificate.
 */
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "gateway/gw_limits.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/tlsctx.h"

#define NFILES 4 /* cert, key, ca, crl (optional: NULL) */

struct stamp {
	int ok; /* stat succeeded */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct tlsctx {
	SSL_CTX *ctx;
	char *paths[NFILES]; /* cert, key, ca, crl (NULL: none) */
	struct stamp stamps[NFILES];
	struct event *poll_ev;
	struct timeval poll_tv;
	void (*reloaded)(void *arg); /* after a new context is in use */
	void *reloaded_arg;
};

int
tlsctx_cert_is_client(X509 *cert)
{
	uint32_t flags = X509_get_extension_flags(cert);

	/* No EKU would mean "any purpose": we require clientAuth named. */
	return (flags & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) != 0;
}

static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	X509 *cert;

	if (!ok)
		return 0;
	if (X509_STORE_CTX_get_error_depth(x) == 0) {
		cert = X509_STORE_CTX_get_current_cert(x);
		if (cert == NULL || !tlsctx_cert_is_client(cert)) {
			X509_STORE_CTX_set_error(x, X509_V_ERR_INVALID_PURPOSE);
			return 0;
		}
	}
	return 1;
}

static enum metrics_tls_reason
verify_reason(long v)
{
	switch (v) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return MT_UNKNOWN_CA;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return MT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return MT_NOT_YET_VALID;
	case X509_V_ERR_INVALID_PURPOSE:
		return MT_BAD_EKU;
	case X509_V_ERR_CERT_REVOKED:
		return MT_REVOKED;
	default:
		return MT_VERIFY_OTHER;
	}
}

static enum metrics_tls_reason
failure_reason(const SSL *ssl)
{
	unsigned long e = ERR_peek_last_error();
	long v = SSL_get_verify_result(ssl);

	if (v != X509_V_OK)
		return verify_reason(v);
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return MT_OTHER;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return MT_NO_CERT;
	case SSL_R_NO_SHARED_CIPHER:
		return MT_NO_SHARED_CIPHER;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_UNSUPPORTED_SSL_VERSION:
		return MT_PROTOCOL_VERSION;
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		return MT_VERIFY_OTHER;
	default:
		return MT_OTHER;
	}
}

static void
peer_of(const SSL *ssl, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = SSL_get_fd(ssl);

	snprintf(buf, len, "-");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (getnameinfo((struct sockaddr *)&ss, sl, buf, len, NULL, 0,
	        NI_NUMERICHOST) != 0)
		snprintf(buf, len, "-");
}

/* A fatal alert we send means the handshake (or the session) failed. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	enum metrics_tls_reason r;
	char peer[64];

	if ((where & SSL_CB_WRITE_ALERT) == 0 || (ret >> 8) != SSL3_AL_FATAL)
		return;
	if (SSL_is_init_finished(ssl) &&
	    SSL_get_verify_result(ssl) == X509_V_OK)
		return; /* an alert after a good handshake is not ours */
	r = failure_reason(ssl);
	metrics_tls_failure(r);
	peer_of(ssl, peer, sizeof(peer));
	log_info("tls handshake failed: peer=%s reason=%s alert=%s", peer,
	    metrics_tls_reason_name(r), SSL_alert_desc_string_long(ret));
}

/* Builds a complete context from the files, or NULL (reason logged). */
static SSL_CTX *
build(const struct tlsctx *t)
{
	static const unsigned char sid_ctx[] = "replicad-gateway";
	STACK_OF(X509_NAME) *names = NULL;
	SSL_CTX *ctx;
	X509 *leaf;
	const char *step;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		step = "SSL_CTX_new";
		goto fail;
	}
	step = "protocol policy";
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLSCTX_CIPHERS_TLS12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLSCTX_CIPHERS_TLS13) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLSCTX_GROUPS) != 1 ||
	    SSL_CTX_set1_sigalgs_list(ctx, TLSCTX_SIGALGS) != 1 ||
	    SSL_CTX_set1_client_sigalgs_list(ctx, TLSCTX_SIGALGS) != 1 ||
	    SSL_CTX_set_num_tickets(ctx, 0) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) !=
	        1 ||
	    SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1)
		goto fail;
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET |
	        SSL_OP_SINGLE_ECDH_USE);
	SSL_CTX_clear_options(ctx,
	    SSL_OP_ALLOW_CLIENT_RENEGOTIATION | SSL_OP_LEGACY_SERVER_CONNECT);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

	step = "server certificate";
	if (SSL_CTX_use_certificate_chain_file(ctx, t->paths[0]) != 1)
		goto fail;
	step = "server key";
	if (SSL_CTX_use_PrivateKey_file(ctx, t->paths[1], SSL_FILETYPE_PEM) !=
	        1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	step = "server certificate validity";
	leaf = SSL_CTX_get0_certificate(ctx);
	if (leaf == NULL ||
	    X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
		log_warnx("tls: %s is expired or not yet valid", t->paths[0]);
		goto fail;
	}
	step = "client CA";
	if (SSL_CTX_load_verify_file(ctx, t->paths[2]) != 1 ||
	    (names = SSL_load_client_CA_file(t->paths[2])) == NULL ||
	    sk_X509_NAME_num(names) == 0)
		goto fail;
	SSL_CTX_set_client_CA_list(ctx, names); /* takes `names` */
	names = NULL;
	/* Revocation: the leaf is checked against the CRL(s) of its issuer;
	 * a CRL that cannot be read fails the whole (re)load, and one past
	 * its nextUpdate fails every handshake (a stale list is not proof
	 * that nothing was revoked since). */
	step = "client CRL";
	if (t->paths[3] != NULL) {
		X509_STORE *st = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP *lu = X509_STORE_add_lookup(st, X509_LOOKUP_file());

		if (lu == NULL ||
		    X509_load_crl_file(lu, t->paths[3], X509_FILETYPE_PEM) <
		        1 ||
		    X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK) != 1)
			goto fail;
	}
	SSL_CTX_set_verify(ctx,
	    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT |
	        SSL_VERIFY_CLIENT_ONCE,
	    verify_cb);
	SSL_CTX_set_verify_depth(ctx, GW_TLS_VERIFY_DEPTH);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
fail:
	log_ssl(step);
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	SSL_CTX_free(ctx);
	return NULL;
}

static void
take_stamps(struct tlsctx *t, struct stamp out[NFILES])
{
	struct stat st;
	int i;

	for (i = 0; i < NFILES; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (t->paths[i] == NULL || stat(t->paths[i], &st) != 0)
			continue;
		out[i].ok = 1;
		out[i].dev = st.st_dev;
		out[i].ino = st.st_ino;
		out[i].size = st.st_size;
		out[i].mtime = st.st_mtim;
		out[i].ctime = st.st_ctim;
	}
}

static int
stamps_differ(const struct stamp *a, const struct stamp *b)
{
	return a->ok != b->ok || a->dev != b->dev || a->ino != b->ino ||
	    a->size != b->size || a->mtime.tv_sec != b->mtime.tv_sec ||
	    a->mtime.tv_nsec != b->mtime.tv_nsec ||
	    a->ctime.tv_sec != b->ctime.tv_sec ||
	    a->ctime.tv_nsec != b->ctime.tv_nsec;
}

int
tlsctx_reload(struct tlsctx *t)
{
	SSL_CTX *ctx;

	/* Stamps first: a failed reload is retried only after a change. */
	take_stamps(t, t->stamps);
	if ((ctx = build(t)) == NULL) {
		metrics_cert_reload(0);
		log_warnx("tls: reload failed; keeping the previous "
		          "certificates");
		return -1;
	}
	SSL_CTX_free(t->ctx); /* open connections hold their own refs */
	t->ctx = ctx;
	metrics_cert_reload(1);
	log_info("tls: certificates loaded from %s, %s, %s%s%s", t->paths[0],
	    t->paths[1], t->paths[2], t->paths[3] != NULL ? ", CRL " : "",
	    t->paths[3] != NULL ? t->paths[3] : "");
	if (t->reloaded != NULL)
		t->reloaded(t->reloaded_arg);
	return 0;
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsctx *t = arg;
	struct stamp now[NFILES];
	int i, changed = 0;

	(void)fd;
	(void)what;
	take_stamps(t, now);
	for (i = 0; i < NFILES; i++)
		if (stamps_differ(&now[i], &t->stamps[i]))
			changed = 1;
	if (changed) {
		log_info("tls: certificate files changed; reloading");
		(void)tlsctx_reload(t);
	}
}

struct tlsctx *
tlsctx_new(struct event_base *base, const char *cert, const char *key,
    const char *ca, const char *crl, int poll_seconds)
{
	struct tlsctx *t;
	const char *in[NFILES] = {cert, key, ca, crl};
	int i;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("tlsctx");
		return NULL;
	}
	if (crl != NULL && (t->paths[3] = strdup(crl)) == NULL)
		goto fail;
	for (i = 0; i < 3; i++) {
		if (in[i] == NULL || (t->paths[i] = strdup(in[i])) == NULL) {
			log_warnx("tls: certificate, key and client CA paths "
			          "are required");
			goto fail;
		}
	}
	if (tlsctx_reload(t) != 0)
		goto fail;
	if (poll_seconds > 0) {
		t->poll_tv.tv_sec = poll_seconds;
		t->poll_ev = event_new(base, -1, EV_PERSIST, poll_cb, t);
		if (t->poll_ev == NULL ||
		    event_add(t->poll_ev, &t->poll_tv) != 0) {
			log_warnx("tls: cannot arm the reload timer");
			goto fail;
		}
	}
	return t;
fail:
	tlsctx_free(t);
	return NULL;
}

void
tlsctx_free(struct tlsctx *t)
{
	int i;

	if (t == NULL)
		return;
	if (t->poll_ev != NULL)
		event_free(t->poll_ev);
	SSL_CTX_free(t->ctx);
	for (i = 0; i < NFILES; i++)
		free(t->paths[i]);
	free(t);
}

SSL_CTX *
tlsctx_get(struct tlsctx *t)
{
	return t->ctx;
}

void
tlsctx_on_reload(struct tlsctx *t, void (*cb)(void *arg), void *arg)
{
	t->reloaded = cb;
	t->reloaded_arg = arg;
}

int
tlsctx_still_trusted(
    struct tlsctx *t, X509 *cert, STACK_OF(X509) * chain, const char **why)
{
	X509_STORE_CTX *x = X509_STORE_CTX_new();
	int ok = 0;

	*why = "out of memory";
	if (x != NULL &&
	    X509_STORE_CTX_init(
	        x, SSL_CTX_get_cert_store(t->ctx), cert, chain) == 1 &&
	    X509_STORE_CTX_set_purpose(x, X509_PURPOSE_SSL_CLIENT) == 1) {
		X509_VERIFY_PARAM_set_depth(
		    X509_STORE_CTX_get0_param(x), GW_TLS_VERIFY_DEPTH);
		ok = X509_verify_cert(x) == 1 && tlsctx_cert_is_client(cert);
		*why = ok ? ""
		          : X509_verify_cert_error_string(
		                X509_STORE_CTX_get_error(x));
	}
	X509_STORE_CTX_free(x);
	ERR_clear_error();
	return ok;
}
