/*
 * http_io.c — TLS and plain transports for http_conn (see http_io.h).
 *
 * The TLS side reads ahead (one read(2) takes what the socket has, not a
 * record header and then its body), lets a write go out in parts, and
 * treats a peer that closes without close_notify as an ordinary end of
 * stream: an HTTP/1.1 request is framed by its own length, so a missing
 * close_notify cannot truncate one unnoticed.  OpenSSL's error queue is
 * emptied after every failed call, so that one connection's errors never
 * show up in another's.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gateway/http_io.h"
#include "gateway/log.h"
#include "gateway/tlsctx.h"

static int
clamp(size_t n)
{
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* --- TLS ----------------------------------------------------------------- */

/* An SSL call's failure as a transport result. */
static long
tls_result(SSL *ssl, int rc, int reading)
{
	int e = SSL_get_error(ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return HIO_AGAIN_READ;
	case SSL_ERROR_WANT_WRITE:
		return HIO_AGAIN_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return reading ? 0 : HIO_ERR;
	default:
		/* A reset, a bad record, a failed handshake: logged by
		 * tlsctx's info callback when we sent an alert. */
		ERR_clear_error();
		return HIO_ERR;
	}
}

static long
tls_handshake(void *ctx)
{
	SSL *ssl = ctx;
	int rc = SSL_do_handshake(ssl);

	return rc == 1 ? 0 : tls_result(ssl, rc, 0);
}

static long
tls_read(void *ctx, void *buf, size_t n)
{
	SSL *ssl = ctx;
	int rc = SSL_read(ssl, buf, clamp(n));

	return rc > 0 ? rc : tls_result(ssl, rc, 1);
}

static long
tls_write(void *ctx, const void *buf, size_t n)
{
	SSL *ssl = ctx;
	int rc = SSL_write(ssl, buf, clamp(n));

	return rc > 0 ? rc : tls_result(ssl, rc, 0);
}

static int
tls_pending(void *ctx)
{
	return SSL_has_pending(ctx);
}

static void
tls_close_notify(void *ctx)
{
	SSL *ssl = ctx;

	if (SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}

static void
tls_peer(void *ctx, struct http_peer *p)
{
	SSL *ssl = ctx;

	/* The handshake requires a verified certificate; check again. */
	p->cert = SSL_get_verify_result(ssl) == X509_V_OK
	    ? SSL_get0_peer_certificate(ssl)
	    : NULL;
	p->chain = p->cert != NULL ? SSL_get_peer_cert_chain(ssl) : NULL;
}

static void
tls_free(void *ctx)
{
	SSL_free(ctx);
}

static const struct http_io_ops tls_ops = {
    .handshake = tls_handshake,
    .read = tls_read,
    .write = tls_write,
    .pending = tls_pending,
    .close_notify = tls_close_notify,
    .peer = tls_peer,
    .free = tls_free,
};

void *
http_io_tls_new(void *arg, int fd, const struct http_io_ops **ops)
{
	struct tlsctx *t = arg;
	SSL *ssl = SSL_new(tlsctx_get(t));

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		log_ssl("cannot set up a TLS connection");
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	SSL_set_read_ahead(ssl, 1);
	SSL_set_mode(ssl,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	*ops = &tls_ops;
	return ssl;
}

/* --- plain --------------------------------------------------------------- */

struct plain_io {
	int fd;
};

static long
plain_again(int writing)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return writing ? HIO_AGAIN_WRITE : HIO_AGAIN_READ;
	return HIO_ERR;
}

static long
plain_handshake(void *ctx)
{
	(void)ctx;
	return 0;
}

static long
plain_read(void *ctx, void *buf, size_t n)
{
	struct plain_io *p = ctx;
	ssize_t rc = recv(p->fd, buf, n, 0);

	return rc >= 0 ? (long)rc : plain_again(0);
}

static long
plain_write(void *ctx, const void *buf, size_t n)
{
	struct plain_io *p = ctx;
	ssize_t rc = send(p->fd, buf, n, MSG_NOSIGNAL);

	return rc >= 0 ? (long)rc : plain_again(1);
}

static int
plain_pending(void *ctx)
{
	(void)ctx;
	return 0;
}

static void
plain_close_notify(void *ctx)
{
	(void)ctx;
}

static void
plain_peer(void *ctx, struct http_peer *p)
{
	(void)ctx;
	p->cert = NULL;
}

static void
plain_free(void *ctx)
{
	free(ctx);
}

const struct http_io_ops http_io_plain_ops = {
    .handshake = plain_handshake,
    .read = plain_read,
    .write = plain_write,
    .pending = plain_pending,
    .close_notify = plain_close_notify,
    .peer = plain_peer,
    .free = plain_free,
};

void *
http_io_plain_new(void *arg, int fd, const struct http_io_ops **ops)
{
	struct plain_io *p = malloc(sizeof(*p));

	(void)arg;
	if (p == NULL)
		return NULL;
	p->fd = fd;
	*ops = &http_io_plain_ops;
	return p;
}
