/*
 * ctl_client.c — blocking proto-socket requester for replicad-ctl.
 *
 * The socket is non-blocking and every wait goes through poll() with the
 * remaining time, so a stuck core cannot hang an operator's shell.
 * Output goes through ps_writer, input through ps_reader (answer
 * direction): the same framing code the gateway uses.
 */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "core/clock.h"
#include "core/ctl_client.h"

struct ctlc {
	int fd;
	int timeout_ms;
	uint32_t next_id;
	struct ps_reader *rd;
	struct ps_writer *wr;
	uint8_t in[4096]; /* bytes read, not yet fed to the reader */
	size_t in_off;
	size_t in_len;
};

static long long
now_ms(void)
{
	return (long long)clock_now_ms();
}

/* Waits for `events` until `deadline`; PS_OK or PS_ERR_SYS. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return PS_ERR_SYS;
		}
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return PS_OK;
		if (n < 0 && errno != EINTR)
			return PS_ERR_SYS;
	}
}

struct ctlc *
ctlc_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sun;
	struct ctlc *c;
	int err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	if ((c->rd = ps_reader_new(PS_DIR_ANSWER)) == NULL ||
	    (c->wr = ps_writer_new(PS_MAX_REQUEST_FRAME)) == NULL)
		goto fail;
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	/* A Unix connect does not block on the network; then non-blocking. */
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto fail;
	if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0)
		goto fail;
	return c;

fail:
	err = errno;
	ctlc_close(c);
	errno = err;
	return NULL;
}

int
ctlc_server_uid(const struct ctlc *c, uid_t *uid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 ||
	    len != sizeof(uc))
		return -1;
	*uid = uc.uid;
	return 0;
}

void
ctlc_close(struct ctlc *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	ps_reader_free(c->rd);
	ps_writer_free(c->wr);
	free(c);
}

uint32_t
ctlc_next_id(struct ctlc *c)
{
	if (++c->next_id == 0)
		c->next_id = 1;
	return c->next_id;
}

int
ctlc_send(struct ctlc *c, const uint8_t *frame, size_t len)
{
	long long deadline = now_ms() + c->timeout_ms;
	int rc;

	if ((rc = ps_writer_queue(c->wr, frame, len)) != PS_OK)
		return rc;
	while ((rc = ps_writer_flush(c->wr, c->fd)) == PS_AGAIN)
		if ((rc = wait_fd(c->fd, POLLOUT, deadline)) != PS_OK)
			return rc;
	return rc;
}

int
ctlc_recv(struct ctlc *c, struct ps_frame *f)
{
	long long deadline = now_ms() + c->timeout_ms;
	size_t used;
	ssize_t n;
	int rc;

	for (;;) {
		if (c->in_len > 0) {
			rc = ps_reader_read(
			    c->rd, c->in + c->in_off, c->in_len, &used, f);
			c->in_off += used;
			c->in_len -= used;
			if (rc != PS_AGAIN)
				return rc;
		}
		c->in_off = 0;
		n = read(c->fd, c->in, sizeof(c->in));
		if (n > 0) {
			c->in_len = (size_t)n;
			continue;
		}
		if (n == 0)
			return PS_ERR_CLOSED;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return PS_ERR_CLOSED;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return PS_ERR_SYS;
		if ((rc = wait_fd(c->fd, POLLIN, deadline)) != PS_OK)
			return rc;
	}
}

int
ctlc_hello(struct ctlc *c, struct ps_hello_ok *ok, struct ps_error *err,
    uint16_t *type)
{
	struct ps_hello h = {PS_VERSION, PS_VERSION};
	struct ps_frame f;
	uint8_t buf[64];
	size_t len;
	int rc;

	if ((rc = ps_codec_encode_hello(buf, sizeof(buf), &h, &len)) != PS_OK ||
	    (rc = ctlc_send(c, buf, len)) != PS_OK ||
	    (rc = ctlc_recv(c, &f)) != PS_OK)
		return rc;
	*type = f.hdr.type;
	if ((f.hdr.flags & PS_F_ERROR) != 0) {
		if (f.hdr.type != PS_T_HELLO && f.hdr.type != PS_T_GOAWAY)
			return PS_ERR_TYPE;
		if ((rc = ps_codec_decode_error(&f, err)) != PS_OK)
			return rc;
		return CTLC_ERROR_ANSWER;
	}
	return ps_codec_decode_hello_ok(&f, ok);
}
