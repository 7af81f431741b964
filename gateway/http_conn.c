/*
 * http_conn.c — HTTP/1.1 server connections and their listener (see
 * http_conn.h for the lifetime rules).
 *
 * Who owns what, step by step:
 *  accept      the server makes the transport and the connection; the
 *              connection owns the socket and the transport from then on.
 *  read        bytes go from the transport into one shared scratch buffer
 *              and straight through http_parse; bytes that cannot be
 *              parsed yet (too many requests queued) wait in a small
 *              per-connection stash, and no more are read until it empties.
 *  request     HP_HEAD makes a struct http_req at the tail of the queue;
 *              HP_DONE hands it to the handler (serve), HP_REFUSED hands
 *              it to refuse() and stops parsing for good.  The request
 *              stays in the queue, owned by the connection.
 *  answer      http_respond() serializes the whole answer into the
 *              request; flush moves answers to the output strictly in
 *              queue order and frees their requests, then writes the
 *              output (one transport write for all of it).
 *  close       conn_close() only marks the connection dead, stops its I/O
 *              events and makes its timer fire now; conn_free(), from that
 *              timer, aborts what is unanswered and frees everything.  No
 *              other code frees a connection while the loop runs, so no
 *              callback can find one freed under it.
 * Before closing a connection whose peer has not closed, it says
 * close_notify, shuts down its sending side and reads (and drops) what
 * the peer still sends for a short while, so that the kernel does not
 * answer those bytes with a reset that could destroy the last answer.
 *
 * Event changes are kept off the request path: a connection's read event
 * stays on while it may read, its write event is on only while a write is
 * blocked, and its one timer is re-armed lazily (it fires, finds the real
 * deadline, and sleeps again if it has not passed).
 *
 * Why one file of about 1,300 lines: it is one state machine, and the
 * lifetime rules above (one owner, one place that frees) are what issue
 * #17's double free broke.  Every transition that can end a connection is
 * here, next to the rules, so that a reader checks them in one place; the
 * parser (http_parse.c) and the transports (http_io.c) are already apart.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "gateway/gw_limits.h"
#include "gateway/http_conn.h"
#include "gateway/log.h"
#include "gateway/metrics.h"

/* A growable byte buffer with a read offset. */
struct obuf {
	char *p;
	size_t len, off, cap;
};

struct http_req {
	TAILQ_ENTRY(http_req) link;
	struct http_conn *c;
	struct http_parse_req head;
	unsigned char *body;
	size_t body_len, body_cap;
	int64_t start_us;
	int complete;      /* handed to the handler */
	int answered;      /* http_respond() was called */
	int close_after;   /* the answer ends the connection */
	int closing;       /* the answer said Connection: close */
	int continue_sent; /* 100 Continue written */
	void (*abort_cb)(void *);
	void *abort_arg;
	struct obuf out; /* the answer, until flushed */
};

TAILQ_HEAD(http_req_list, http_req);

enum conn_phase { PH_HANDSHAKE, PH_OPEN, PH_LINGER };

struct http_conn {
	TAILQ_ENTRY(http_conn) link;
	struct http_server *srv;
	int fd;
	const struct http_io_ops *ops;
	void *io;
	struct event *rev, *wev, *timer;
	int rev_on, wev_on, timer_on;
	int64_t timer_at;
	enum conn_phase phase;
	int dead;          /* conn_close() was called; freed by the timer */
	int in_run;        /* inside conn_run(): answers wait for its flush */
	int eof;           /* the peer closed its side */
	int no_more;       /* no further request will be parsed */
	int ending;        /* a closing answer was moved to the output */
	int dropped;       /* bytes after the last request were not read */
	int client_closes; /* its last request asked to close */
	int want_read;     /* the blocked transport call waits to read */
	int want_write;    /* ... or to write */
	int write_blocked; /* the output waits for the socket */
	struct http_parser parser;
	struct http_req *cur; /* being read: head seen, not complete */
	struct http_req_list reqs;
	int nreqs;
	unsigned char *stash; /* read, not yet parsed */
	size_t stash_len;
	struct obuf out;
	int64_t accepted; /* when (ms): the handshake's deadline runs from it */
	int served;       /* a request was complete: never evicted */
	int64_t wait_since; /* waiting for a request since (ms) */
	int64_t last_io;    /* last read or write progress (ms) */
	int64_t linger_until;
	size_t lingered;
	struct http_peer peer;
};

TAILQ_HEAD(http_conn_list, http_conn);

struct http_server {
	struct event_base *base;
	struct http_server_config cfg;
	struct evconnlistener *listener;
	struct http_conn_list conns;
	int count;
	int inflight;
	int paused;
	int draining;
};

/* One read's worth; single-threaded, so one buffer serves everyone. */
static unsigned char scratch[GW_READ_CHUNK];

static void conn_close(struct http_conn *c, const char *why);
static void conn_settle(struct http_conn *c);
static void flush_out(struct http_conn *c);
static void maybe_finish(struct http_conn *c);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
http_req_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- output buffers ------------------------------------------------------ */

static int
ob_reserve(struct obuf *b, size_t more)
{
	size_t need, cap;
	char *p;

	if (more > SIZE_MAX - b->len)
		return -1;
	need = b->len + more;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
ob_add(struct obuf *b, const void *p, size_t n)
{
	/* Callers reserve first; this only copies. */
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
ob_str(struct obuf *b, const char *s)
{
	ob_add(b, s, strlen(s));
}

static void
ob_uint(struct obuf *b, size_t v)
{
	char d[LOG_ITOA_SIZE];
	size_t n;
	const char *p = log_itoa((long long)v, d, &n);

	ob_add(b, p, n);
}

static void
ob_free(struct obuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* --- requests ------------------------------------------------------------ */

static struct http_req *
req_new(struct http_conn *c)
{
	struct http_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->c = c;
	r->head = c->parser.req;
	TAILQ_INSERT_TAIL(&c->reqs, r, link);
	c->nreqs++;
	return r;
}

static void
req_free(struct http_req *r)
{
	struct http_conn *c = r->c;

	TAILQ_REMOVE(&c->reqs, r, link);
	c->nreqs--;
	if (c->cur == r)
		c->cur = NULL;
	free(r->body);
	ob_free(&r->out);
	free(r);
}

static int
req_body_add(struct http_req *r, const unsigned char *p, size_t n)
{
	size_t cap;
	unsigned char *nb;

	if (n > r->body_cap - r->body_len) {
		/* The parser bounds the total by limits.max_body. */
		cap = r->body_len + n;
		if (cap < 256)
			cap = 256;
		if ((nb = realloc(r->body, cap)) == NULL)
			return -1;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	return 0;
}

const char *
http_req_method(const struct http_req *r)
{
	return r->head.method[0] != '\0' ? r->head.method : "-";
}

const char *
http_req_path(const struct http_req *r, size_t *len)
{
	const char *q = memchr(r->head.target, '?', r->head.target_len);

	*len = q != NULL ? (size_t)(q - r->head.target) : r->head.target_len;
	return r->head.target;
}

int
http_req_is_head(const struct http_req *r)
{
	return strcmp(r->head.method, "HEAD") == 0;
}

const struct http_parse_req *
http_req_head(const struct http_req *r)
{
	return &r->head;
}

const unsigned char *
http_req_body(const struct http_req *r, size_t *len)
{
	*len = r->body_len;
	return r->body != NULL ? r->body : (const unsigned char *)"";
}

struct http_peer *
http_req_peer(struct http_req *r)
{
	return &r->c->peer;
}

int64_t
http_req_start_us(const struct http_req *r)
{
	return r->start_us;
}

void
http_req_on_abort(struct http_req *r, void (*cb)(void *), void *arg)
{
	r->abort_cb = cb;
	r->abort_arg = arg;
}

void
http_req_close_after(struct http_req *r)
{
	r->close_after = 1;
}

int
http_req_closing(const struct http_req *r)
{
	const struct http_conn *c = r->c;

	return r->close_after || !r->head.keep_alive ||
	    (c->no_more && TAILQ_NEXT(r, link) == NULL);
}

/* --- answers ------------------------------------------------------------- */

const char *
http_status_phrase(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 422:
		return "Unprocessable Content";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* The Date header's value, formatted once a second. */
static const char *
http_date(void)
{
	static char buf[40];
	static time_t last = -1;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last && gmtime_r(&now, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm) != 0)
		last = now;
	return buf;
}

/* A header line we write must not be able to split the answer. */
static int
header_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

static int
status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

size_t
http_respond(struct http_req *r, int status, const char *ctype,
    const struct http_header *extra, size_t nextra, const struct iovec *body,
    size_t nbody)
{
	struct http_conn *c = r->c;
	struct obuf *b = &r->out;
	const char *always = c->srv->cfg.always_headers;
	int has_body = status_has_body(status);
	int send_body = has_body && !http_req_is_head(r);
	size_t i, need, len = 0;

	if (r->answered)
		return 0; /* a handler bug; never two answers */
	for (i = 0; i < nbody; i++)
		len += body[i].iov_len;
	r->answered = 1;
	r->closing = http_req_closing(r);
	if (r->complete)
		c->srv->inflight--;
	if (!has_body)
		len = 0;
	need = 256 + (always != NULL ? strlen(always) : 0) +
	    (ctype != NULL ? strlen(ctype) : 0) + (send_body ? len : 0);
	for (i = 0; i < nextra; i++)
		if (header_ok(extra[i].name) && header_ok(extra[i].value))
			need +=
			    strlen(extra[i].name) + strlen(extra[i].value) + 4;
	if (ob_reserve(b, need) != 0) {
		/* Nothing can be said; the connection ends here. */
		log_warnx("out of memory answering %s", c->peer.addr);
		r->close_after = 1;
		r->closing = 1;
		return 0;
	}
	ob_str(b, "HTTP/1.1 ");
	ob_uint(b, (unsigned)status);
	ob_str(b, " ");
	ob_str(b, http_status_phrase(status));
	ob_str(b, "\r\nDate: ");
	ob_str(b, http_date());
	ob_str(b, "\r\n");
	if (ctype != NULL && header_ok(ctype)) {
		ob_str(b, "Content-Type: ");
		ob_str(b, ctype);
		ob_str(b, "\r\n");
	}
	if (has_body) {
		ob_str(b, "Content-Length: ");
		ob_uint(b, len);
		ob_str(b, "\r\n");
	}
	if (always != NULL)
		ob_str(b, always);
	for (i = 0; i < nextra; i++) {
		if (!header_ok(extra[i].name) || !header_ok(extra[i].value))
			continue;
		ob_str(b, extra[i].name);
		ob_str(b, ": ");
		ob_str(b, extra[i].value);
		ob_str(b, "\r\n");
	}
	if (r->closing)
		ob_str(b, "Connection: close\r\n");
	else if (!r->head.version_11)
		ob_str(b, "Connection: keep-alive\r\n");
	ob_str(b, "\r\n");
	for (i = 0; send_body && i < nbody; i++)
		ob_add(b, body[i].iov_base, body[i].iov_len);
	/* Inside conn_run the loop flushes; from anywhere else, now. */
	if (!c->in_run && !c->dead) {
		flush_out(c);
		maybe_finish(c);
		conn_settle(c);
	}
	return len;
}

/* --- the connection ------------------------------------------------------ */

/* Whether more bytes may be read and parsed now. */
static int
can_parse(const struct http_conn *c)
{
	return c->phase == PH_OPEN && !c->dead && !c->eof && !c->no_more &&
	    !c->ending && c->nreqs < GW_MAX_PIPELINE;
}

static void
dispatch(struct http_conn *c, struct http_req *r)
{
	const struct http_handler *h = c->srv->cfg.handler;

	r->complete = 1;
	r->start_us = http_req_now_us();
	c->served = 1;
	c->srv->inflight++;
	h->serve(h->arg, r);
}

static void
refused(struct http_conn *c)
{
	const struct http_handler *h = c->srv->cfg.handler;
	struct http_req *r = c->cur;

	c->no_more = 1;
	if (r == NULL && (r = req_new(c)) == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	c->cur = NULL;
	/* The refused request's line as far as it was read, for the log. */
	snprintf(r->head.method, sizeof(r->head.method), "%s",
	    http_parse_method(&c->parser));
	r->head.target_len = (size_t)snprintf(r->head.target,
	    sizeof(r->head.target), "%s", http_parse_target(&c->parser));
	r->close_after = 1;
	r->complete = 1;
	r->start_us = http_req_now_us();
	c->srv->inflight++;
	h->refuse(h->arg, r, &c->parser.err);
}

/*
 * Parses `n` bytes; returns how many were used.  Stops early when no
 * more requests may be queued; after the last request of the connection
 * (refused, or Connection: close) the rest is dropped as used.
 */
static size_t
consume(struct http_conn *c, const unsigned char *data, size_t n)
{
	const unsigned char *body;
	size_t done = 0, used, blen;
	struct http_req *r;

	while (done < n || c->parser.st == HP_S_DONE) {
		/* After the last request of the connection nothing is read. */
		if (c->dead || c->no_more) {
			c->dropped = 1;
			return n;
		}
		/* Between requests: room in the queue for one more? */
		if (c->parser.st == HP_S_METHOD && c->parser.head_bytes == 0 &&
		    c->nreqs >= GW_MAX_PIPELINE)
			return done;
		switch (http_parse(
		    &c->parser, data + done, n - done, &used, &body, &blen)) {
		case HP_MORE:
			return n;
		case HP_HEAD:
			done += used;
			if ((c->cur = req_new(c)) == NULL) {
				conn_close(c, "out of memory");
				return n;
			}
			break;
		case HP_BODY:
			done += used;
			if (c->cur != NULL &&
			    req_body_add(c->cur, body, blen) != 0) {
				conn_close(c, "out of memory");
				return n;
			}
			break;
		case HP_DONE:
			done += used;
			r = c->cur;
			c->cur = NULL;
			c->wait_since = now_ms();
			if (r == NULL)
				break;
			if (!r->head.keep_alive)
				c->no_more = c->client_closes = 1;
			dispatch(c, r);
			break;
		case HP_REFUSED:
			refused(c);
			c->dropped = 1;
			return n;
		}
	}
	return done;
}

/* Keeps unparsed bytes for later; the stash is emptied before any read. */
static int
stash_rest(struct http_conn *c, const unsigned char *p, size_t n)
{
	unsigned char *s;

	if (n == 0) {
		free(c->stash);
		c->stash = NULL;
		c->stash_len = 0;
		return 0;
	}
	if (p == c->stash) {
		memmove(c->stash, p, n);
	} else {
		if ((s = malloc(n)) == NULL)
			return -1;
		memcpy(s, p, n);
		free(c->stash);
		c->stash = s;
	}
	c->stash_len = n;
	return 0;
}

/* Reads and parses once; 1 when something moved. */
static int
read_some(struct http_conn *c)
{
	size_t used;
	long n;

	if (c->stash_len > 0) {
		used = consume(c, c->stash, c->stash_len);
		if (!c->dead &&
		    stash_rest(c, c->stash + used, c->stash_len - used) != 0)
			conn_close(c, "out of memory");
		return used > 0;
	}
	n = c->ops->read(c->io, scratch, sizeof(scratch));
	if (n == HIO_AGAIN_READ || n == HIO_AGAIN_WRITE) {
		c->want_read = n == HIO_AGAIN_READ;
		c->want_write = n == HIO_AGAIN_WRITE;
		return 0;
	}
	c->want_read = c->want_write = 0;
	if (n == 0) {
		/* A request cut off by the close will never be complete. */
		c->eof = 1;
		if (c->cur != NULL)
			req_free(c->cur);
		return 1;
	}
	if (n < 0) {
		conn_close(c, "read error");
		return 0;
	}
	c->last_io = now_ms();
	used = consume(c, scratch, (size_t)n);
	if (!c->dead && used < (size_t)n &&
	    stash_rest(c, scratch + used, (size_t)n - used) != 0)
		conn_close(c, "out of memory");
	/* A short read with nothing buffered inside the transport: the
	 * socket is drained, wait for its event instead of reading again. */
	return (size_t)n == sizeof(scratch) || c->ops->pending(c->io);
}

/* Moves answers to the output in order, then writes it. */
static void
flush_out(struct http_conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_req *r;
	long n;

	while (!c->ending && (r = TAILQ_FIRST(&c->reqs)) != NULL) {
		if (!r->answered) {
			/* RFC 9110 §10.1.1: the client waits for this before
			 * it sends the body; in order, after earlier answers.
			 */
			if (!r->complete && r->head.expect_continue &&
			    !r->continue_sent && r->body_len == 0 &&
			    ob_reserve(&c->out, sizeof(cont) - 1) == 0) {
				ob_add(&c->out, cont, sizeof(cont) - 1);
				r->continue_sent = 1;
			}
			break;
		}
		if (r->out.len > 0) {
			if (ob_reserve(&c->out, r->out.len) != 0) {
				conn_close(c, "out of memory");
				return;
			}
			ob_add(&c->out, r->out.p, r->out.len);
		}
		if (r->closing || r->close_after)
			c->ending = 1;
		req_free(r);
	}
	while (c->out.off < c->out.len) {
		n = c->ops->write(
		    c->io, c->out.p + c->out.off, c->out.len - c->out.off);
		if (n == HIO_AGAIN_READ || n == HIO_AGAIN_WRITE) {
			c->write_blocked = 1;
			c->want_read = n == HIO_AGAIN_READ;
			c->want_write = n == HIO_AGAIN_WRITE;
			return;
		}
		if (n <= 0) {
			conn_close(c, "write error");
			return;
		}
		c->out.off += (size_t)n;
		c->last_io = now_ms();
	}
	c->write_blocked = 0;
	if (c->out.len > 0) {
		c->out.len = c->out.off = 0;
		if (c->nreqs == 0)
			c->wait_since = c->last_io;
		/* Keep a small buffer for the next answer, not a big one. */
		if (c->out.cap > GW_CONN_KEEP_BUF)
			ob_free(&c->out);
	}
}

/* Sends close_notify and FIN, then drops what the peer still sends. */
static void
begin_linger(struct http_conn *c)
{
	c->ops->close_notify(c->io);
	if (shutdown(c->fd, SHUT_WR) != 0) {
		conn_close(c, NULL);
		return;
	}
	c->phase = PH_LINGER;
	c->want_read = c->want_write = 0;
	(void)stash_rest(c, NULL, 0); /* never to be parsed */
	c->linger_until = now_ms() + GW_LINGER_MS;
}

static void
linger_read(struct http_conn *c)
{
	ssize_t n;

	for (;;) {
		n = read(c->fd, scratch, sizeof(scratch));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c, NULL);
			return;
		}
		c->lingered += (size_t)n;
		if (c->lingered > GW_LINGER_MAX_BYTES) {
			conn_close(c, NULL);
			return;
		}
	}
}

/* Everything owed is written: end the connection if it is over. */
static void
maybe_finish(struct http_conn *c)
{
	if (c->dead || c->phase != PH_OPEN || c->out.len > 0)
		return;
	if (c->ending || (c->nreqs == 0 && (c->no_more || c->eof))) {
		/* Linger only where the client may still be sending: bytes
		 * were left unread, or we end a connection it meant to keep
		 * (a refusal, an answer that closes, draining).  A client that
		 * asked to close sends nothing more: close_notify, and done. */
		if (c->eof)
			conn_close(c, NULL);
		else if (c->dropped || c->stash_len > 0 || c->nreqs > 0 ||
		    c->srv->draining || !c->client_closes) {
			begin_linger(c);
		} else {
			c->ops->close_notify(c->io);
			conn_close(c, NULL);
		}
	}
}

static void
handshake(struct http_conn *c)
{
	long n = c->ops->handshake(c->io);

	if (n == HIO_AGAIN_READ || n == HIO_AGAIN_WRITE) {
		c->want_read = n == HIO_AGAIN_READ;
		c->want_write = n == HIO_AGAIN_WRITE;
		return;
	}
	if (n != 0) {
		conn_close(c, NULL); /* the transport logged why */
		return;
	}
	c->want_read = c->want_write = 0;
	c->phase = PH_OPEN;
	c->last_io = now_ms();
	c->ops->peer(c->io, &c->peer);
}

/* Makes every step it can: handshake, write, read and parse, repeat. */
static void
conn_run(struct http_conn *c)
{
	int moved;

	c->in_run = 1;
	if (c->phase == PH_LINGER)
		linger_read(c);
	if (c->phase == PH_HANDSHAKE)
		handshake(c);
	while (!c->dead && c->phase == PH_OPEN) {
		flush_out(c);
		moved = 0;
		if (!c->dead && !c->write_blocked && can_parse(c))
			moved = read_some(c);
		if (!moved)
			break;
	}
	c->in_run = 0;
	if (!c->dead && c->phase == PH_OPEN) {
		flush_out(c);
		maybe_finish(c);
	}
}

/* What a connection's timer waits for. */
enum deadline {
	DL_NONE,      /* a request is with the handler: the core has its own */
	DL_HANDSHAKE, /* the TLS handshake must end */
	DL_REQUEST,   /* a whole request must arrive (slowloris) */
	DL_IDLE,      /* an idle keep-alive connection */
	DL_WRITE,     /* the client must read its answer */
	DL_LINGER     /* the end of lingering */
};

static enum deadline
deadline_of(const struct http_conn *c, int64_t *at)
{
	const struct http_server_config *cfg = &c->srv->cfg;
	int64_t idle = c->last_io + (int64_t)cfg->idle_timeout_s * 1000;
	int64_t whole = c->wait_since + (int64_t)cfg->request_deadline_s * 1000;
	const struct http_req *r;

	if (c->phase == PH_LINGER) {
		*at = c->linger_until;
		return DL_LINGER;
	}
	if (c->out.len > 0) {
		*at = idle;
		return DL_WRITE;
	}
	TAILQ_FOREACH(r, &c->reqs, link)
	{
		if (r->complete)
			return DL_NONE;
	}
	*at = whole < idle ? whole : idle;
	if (c->phase == PH_HANDSHAKE) {
		int64_t hs =
		    c->accepted + (int64_t)cfg->handshake_timeout_s * 1000;

		if (cfg->handshake_timeout_s > 0 && hs < *at) {
			*at = hs;
			return DL_HANDSHAKE;
		}
		return whole < idle ? DL_REQUEST : DL_IDLE;
	}
	if (c->cur != NULL || c->parser.head_bytes > 0 || c->stash_len > 0)
		return whole < idle ? DL_REQUEST : DL_IDLE;
	return DL_IDLE;
}

static void
timer_arm(struct http_conn *c, int64_t at)
{
	int64_t d = at - now_ms();
	struct timeval tv;

	if (d < 0)
		d = 0;
	tv.tv_sec = (time_t)(d / 1000);
	tv.tv_usec = (suseconds_t)(d % 1000) * 1000;
	if (evtimer_add(c->timer, &tv) == 0) {
		c->timer_on = 1;
		c->timer_at = at;
	}
}

/* After every step: the events this connection needs, and its timer. */
static void
conn_settle(struct http_conn *c)
{
	int rd, wr;
	int64_t due = 0;

	if (c->dead)
		return;
	if (c->phase == PH_LINGER) {
		rd = 1;
		wr = 0;
	} else {
		rd = c->want_read ||
		    (!c->write_blocked && !c->want_write && can_parse(c));
		wr = c->want_write;
	}
	if (rd != c->rev_on) {
		if ((rd ? event_add(c->rev, NULL) : event_del(c->rev)) != 0) {
			conn_close(c, "cannot watch the socket");
			return;
		}
		c->rev_on = rd;
	}
	if (wr != c->wev_on) {
		if ((wr ? event_add(c->wev, NULL) : event_del(c->wev)) != 0) {
			conn_close(c, "cannot watch the socket");
			return;
		}
		c->wev_on = wr;
	}
	if (deadline_of(c, &due) != DL_NONE &&
	    (!c->timer_on || c->timer_at > due))
		timer_arm(c, due);
	/* Bytes already inside (stash, or the transport's buffer) are not
	 * announced by the socket: go on from a fresh event. */
	if (rd && !c->want_read && can_parse(c) &&
	    (c->stash_len > 0 || c->ops->pending(c->io)))
		event_active(c->rev, EV_READ, 1);
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->dead)
		return;
	conn_run(c);
	conn_settle(c);
}

static void conn_free(struct http_conn *c);

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	enum deadline d;
	int64_t due = 0;

	(void)fd;
	(void)what;
	c->timer_on = 0;
	if (c->dead) {
		conn_free(c);
		return;
	}
	d = deadline_of(c, &due);
	if (d != DL_NONE && due <= now_ms()) {
		if (d == DL_HANDSHAKE)
			log_debug("closing connection from %s: no TLS "
			          "handshake within %d s",
			    c->peer.addr, c->srv->cfg.handshake_timeout_s);
		else if (d == DL_REQUEST)
			log_info("closing connection from %s: no complete "
			         "request within %d s",
			    c->peer.addr, c->srv->cfg.request_deadline_s);
		else if (d == DL_WRITE)
			log_info("closing connection from %s: the answer was "
			         "not read within %d s",
			    c->peer.addr, c->srv->cfg.idle_timeout_s);
		conn_close(c, NULL);
		return;
	}
	conn_settle(c);
}

/* Marks the connection dead; its timer frees it from a fresh event. */
static void
conn_close(struct http_conn *c, const char *why)
{
	if (c->dead)
		return;
	if (why != NULL)
		log_debug("closing connection from %s: %s", c->peer.addr, why);
	c->dead = 1;
	event_del(c->rev);
	event_del(c->wev);
	evtimer_del(c->timer);
	c->rev_on = c->wev_on = 0;
	c->timer_on = 1;
	event_active(c->timer, EV_TIMEOUT, 1);
}

static void
server_resume(struct http_server *s)
{
	if (s->paused && !s->draining && s->count < s->cfg.max_connections &&
	    s->listener != NULL) {
		evconnlistener_enable(s->listener);
		s->paused = 0;
	}
}

/* The one teardown of a connection (see the top of this file). */
static void
conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct http_req *r;

	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		if (r->complete && !r->answered) {
			s->inflight--;
			if (r->abort_cb != NULL)
				r->abort_cb(r->abort_arg);
		}
		req_free(r);
	}
	TAILQ_REMOVE(&s->conns, c, link);
	s->count--;
	log_debug("connection from %s closed", c->peer.addr);
	if (s->cfg.count_metrics)
		metrics_connections(-1);
	c->ops->free(c->io);
	close(c->fd);
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->timer);
	free(c->stash);
	ob_free(&c->out);
	free(c);
	server_resume(s);
}

/* "ip:port" of `sa` (from accept), else of the socket's peer. */
static void
note_peer(struct http_conn *c, const struct sockaddr *sa, socklen_t sl)
{
	struct sockaddr_storage ss;
	char host[48], port[8];

	snprintf(c->peer.addr, sizeof(c->peer.addr), "-");
	if (sa == NULL) {
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) != 0)
			return;
		sa = (const struct sockaddr *)&ss;
	}
	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, sl, host, sizeof(host), port, sizeof(port),
	        NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	snprintf(c->peer.addr, sizeof(c->peer.addr), "%s:%s", host, port);
}

/* The oldest live connection that never completed a request, but `keep`. */
static struct http_conn *
evictable(struct http_server *s, const struct http_conn *keep)
{
	struct http_conn *c;

	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = TAILQ_NEXT(c, link)) {
		if (c != keep && !c->dead && !c->served)
			return c;
	}
	return NULL;
}

/* Over the limit: close the oldest connection that has served nothing. */
static void
make_room(struct http_server *s, const struct http_conn *keep)
{
	struct http_conn *c = evictable(s, keep);

	if (c == NULL)
		return;
	log_info("closing connection from %s: %d connections, and it has "
	         "sent no complete request",
	    c->peer.addr, s->cfg.max_connections);
	if (s->cfg.count_metrics)
		metrics_connection_refused();
	conn_close(c, NULL);
}

static struct http_conn *
conn_new(struct http_server *s, int fd, const struct http_io_ops *ops, void *io,
    const struct sockaddr *sa, socklen_t sl)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	if (c == NULL ||
	    (c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, io_cb, c)) ==
	        NULL ||
	    (c->wev = event_new(
	         s->base, fd, EV_WRITE | EV_PERSIST, io_cb, c)) == NULL ||
	    (c->timer = evtimer_new(s->base, timer_cb, c)) == NULL) {
		log_warnx("out of memory for a connection");
		if (c != NULL) {
			if (c->rev != NULL)
				event_free(c->rev);
			if (c->wev != NULL)
				event_free(c->wev);
			free(c);
		}
		ops->free(io);
		close(fd);
		return NULL;
	}
	c->srv = s;
	c->fd = fd;
	c->ops = ops;
	c->io = io;
	TAILQ_INIT(&c->reqs);
	http_parse_init(&c->parser, &s->cfg.limits);
	note_peer(c, sa, sl);
	c->accepted = c->wait_since = c->last_io = now_ms();
	TAILQ_INSERT_TAIL(&s->conns, c, link);
	s->count++;
	if (s->cfg.count_metrics)
		metrics_connections(1);
	if (s->count > s->cfg.max_connections)
		make_room(s, c);
	if (s->count >= s->cfg.max_connections && !s->paused &&
	    s->listener != NULL && evictable(s, c) == NULL) {
		evconnlistener_disable(s->listener);
		s->paused = 1;
		if (s->cfg.count_metrics)
			metrics_connection_refused();
		log_info("max connections (%d) reached; pausing accept",
		    s->cfg.max_connections);
	}
	/* The client speaks first. */
	c->want_read = 1;
	conn_settle(c);
	return c;
}

struct http_conn *
http_conn_new(
    struct http_server *s, int fd, const struct http_io_ops *ops, void *io)
{
	return conn_new(s, fd, ops, io, NULL, 0);
}

/* --- the server ---------------------------------------------------------- */

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct http_server *s = arg;
	const struct http_io_ops *ops = NULL;
	void *io;

	(void)l;
	if (s->draining ||
	    (io = s->cfg.io_new(s->cfg.io_arg, (int)fd, &ops)) == NULL) {
		close(fd);
		return;
	}
	(void)conn_new(s, (int)fd, ops, io, sa, (socklen_t)salen);
}

struct http_server *
http_server_new(struct event_base *base, const struct http_server_config *cfg)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->cfg = *cfg;
	TAILQ_INIT(&s->conns);
	return s;
}

int
http_server_listen(struct http_server *s, const char *host, int port)
{
	struct addrinfo hints, *ai = NULL;
	char ps[8];
	int rc, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((rc = getaddrinfo(host, ps, &hints, &ai)) != 0 || ai == NULL) {
		errno = EINVAL;
		return -1;
	}
	s->listener = evconnlistener_new_bind(s->base, accept_cb, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    GW_LISTEN_BACKLOG, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (s->listener == NULL)
		return -1;
	/* Answers leave in one write; Nagle would hold the last segment of a
	 * larger one until the client's delayed ACK (~40 ms).  Set on the
	 * listener, every accepted socket inherits it (Linux). */
	if (setsockopt(evconnlistener_get_fd(s->listener), IPPROTO_TCP,
	        TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("TCP_NODELAY");
	return 0;
}

void
http_server_drain(struct http_server *s)
{
	struct http_conn *c, *next;

	s->draining = 1;
	if (s->listener != NULL)
		evconnlistener_disable(s->listener);
	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->dead)
			continue;
		c->no_more = 1;
		/* A request still arriving never reached the handler. */
		if (c->cur != NULL)
			req_free(c->cur);
		if (c->nreqs == 0 && c->out.len == 0)
			conn_close(c, "draining");
		else
			conn_settle(c);
	}
}

int
http_server_connections(const struct http_server *s)
{
	return s->count;
}

int
http_server_recheck(struct http_server *s,
    int (*trusted)(void *arg, const struct http_peer *p, const char **why),
    void *arg)
{
	struct http_conn *c;
	const char *why;
	int n = 0;

	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = TAILQ_NEXT(c, link)) {
		if (c->dead || c->peer.cert == NULL ||
		    trusted(arg, &c->peer, &why))
			continue;
		log_info("closing connection from %s (%s): its certificate is "
		         "no longer trusted: %s",
		    c->peer.addr, c->peer.identified ? c->peer.identity : "-",
		    why);
		conn_close(c, NULL);
		n++;
	}
	return n;
}

int
http_server_inflight(const struct http_server *s)
{
	return s->inflight;
}

void
http_server_free(struct http_server *s)
{
	struct http_conn *c;

	if (s == NULL)
		return;
	s->draining = 1;
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	s->listener = NULL;
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_free(c);
	free(s);
}
