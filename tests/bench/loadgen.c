/*
 * loadgen.c — the load client of `make bench`: HTTPS with a client
 * certificate, N connections in one process (non-blocking sockets, epoll,
 * OpenSSL), latency percentiles from a histogram, one result line.
 *
 * Why our own: no Debian tool presents a client certificate under load
 * with keep-alive and reports a latency distribution (ab has no client
 * certificate, wrk is not packaged, h2load speaks HTTP/2 first).
 *
 * Modes (--mode):
 *   keepalive       each connection sends one request at a time, for ever
 *                   (no pipelining); latency = request written .. answer read
 *   newconn         a new TCP connection and full TLS handshake per request
 *                   (`Connection: close`); latency = connect() .. answer read
 *   newconn-resume  the same, offering the previous connection's TLS session
 *                   (resumed handshakes are counted: `resumed=`)
 *   handshake       connect, handshake, close_notify, wait for the server's
 *                   close; no HTTP; latency = connect() .. handshake done
 *   hold            open N connections (at most --concurrency handshakes at
 *                   once), one GET on each, then hold them idle; prints
 *                   "loadgen: established ..." when all N are open, holds
 *                   for --duration seconds, then the result line
 *
 * The measured window starts after --warmup seconds and lasts --duration
 * seconds, or until --requests answers were read.  Only requests started
 * inside it count.  At both ends of the window the processes given with
 * --pids NAME:PID,... are sampled (procstat.h), so the server's CPU,
 * read/write system calls and RSS cover exactly the measured requests.
 *
 * HTTP/1.1 answers are framed by Content-Length, chunked encoding or the
 * connection's end; `Connection: close` (or HTTP/1.0) makes the client
 * reconnect.  A 2xx is "ok", any other complete answer "non2xx"; anything
 * else (refused connection, failed handshake, reset, garbage, timeout) is
 * an error, by class.  Errors reconnect after 10 ms.
 *
 * Only loopback addresses are accepted: this is a benchmark of servers on
 * this machine, and nothing else should ever receive its traffic.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tests/bench/hist.h"
#include "tests/bench/http_resp.h"
#include "tests/bench/procstat.h"

#define LG_MAX_CONNS    20000 /* --connections bound */
#define LG_MAX_BODIES   8     /* --body, used round-robin per connection */
#define LG_MAX_BODY     1024  /* bytes of one request body */
#define LG_MAX_PATH     512   /* request target */
#define LG_READ_CHUNK   16384 /* one SSL_read */
#define LG_RETRY_NS     (10 * 1000000ull)     /* pause after an error */
#define LG_TICK_MS      10                    /* timer scan period */
#define LG_HOLD_OPEN_NS (300 * 1000000000ull) /* bound on opening N */

enum lg_mode { M_KEEPALIVE, M_NEWCONN, M_RESUME, M_HANDSHAKE, M_HOLD };

static const char *const mode_names[] = {
    "keepalive", "newconn", "newconn-resume", "handshake", "hold"};

enum err_kind { E_CONNECT, E_TLS, E_IO, E_PARSE, E_TIMEOUT, E_KINDS };

static const char *const err_names[] = {
    "err_connect", "err_tls", "err_io", "err_parse", "err_timeout"};

/* A connection's phase; the phase says which I/O step comes next. */
enum conn_state {
	C_IDLE,       /* no socket; (re)starts at retry_at */
	C_CONNECTING, /* TCP connect in progress */
	C_HANDSHAKE,  /* SSL_connect */
	C_SENDING,    /* SSL_write of the request */
	C_READING,    /* SSL_read of the answer */
	C_CLOSING,    /* handshake mode: close_notify sent, awaiting EOF */
	C_HELD,       /* hold mode: open and idle */
	C_DONE        /* hold mode: closed for good */
};

struct conn {
	int idx;
	int fd;
	SSL *ssl;
	SSL_SESSION *sess; /* resume mode: the last session the server gave */
	enum conn_state st;
	uint32_t events; /* epoll interest now registered */
	uint64_t t_start;
	uint64_t deadline;
	uint64_t retry_at;
	int measuring;   /* this request started inside the window */
	int established; /* hold mode: its GET was answered */
	unsigned body_i; /* next request variant */
	unsigned nreq;   /* request variants */
	char *req[LG_MAX_BODIES];
	size_t req_len[LG_MAX_BODIES];
	unsigned cur; /* variant being sent */
	struct http_resp resp;
};

struct opts {
	enum lg_mode mode;
	struct sockaddr_in addr;
	const char *servername;
	const char *cert;
	const char *key;
	const char *ca;
	const char *method;
	const char *path;
	const char *body[LG_MAX_BODIES];
	int nbody;
	int connections;
	int concurrency;
	double duration;
	double warmup;
	uint64_t requests;
	double timeout;
	struct procstat_group group[PROCSTAT_MAX_GROUPS];
	int ngroup;
};

struct counters {
	uint64_t ok;
	uint64_t non2xx;
	uint64_t err[E_KINDS];
	uint64_t handshakes;
	uint64_t resumed;
	uint64_t reconnects; /* keep-alive connections the server closed */
	uint64_t held_closed;
	uint64_t bytes_in;
	uint64_t issued; /* requests started in the window */
};

struct lg {
	struct opts o;
	SSL_CTX *ctx;
	int ep;
	struct conn *conns;
	struct hist hist;
	struct counters n;
	uint64_t t0;
	uint64_t measure_start;
	uint64_t measure_end; /* 0: not yet known */
	int measuring;        /* the window is open */
	int finished;
	int opening;    /* hold: connections not yet established */
	int next_start; /* hold: next connection to open */
	int established;
	uint64_t inflight; /* measured requests not yet finished */
	struct procstat_sample before[PROCSTAT_MAX_GROUPS];
	struct procstat_sample after[PROCSTAT_MAX_GROUPS];
	struct rusage ru_before;
	struct rusage ru_after;
	uint64_t body_bytes; /* body of the last complete answer */
	char tls_version[32];
	char tls_cipher[64];
	char first_error[256];
};

static volatile sig_atomic_t stop_signal;

static void conn_step(struct lg *lg, struct conn *c);

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen --connect 127.0.0.1:PORT --cert F --key F --ca F\n"
	    "  [--mode keepalive|newconn|newconn-resume|handshake|hold]\n"
	    "  [--connections N] [--duration S | --requests N] [--warmup S]\n"
	    "  [--method GET|POST] [--path P ({c} = connection index)]\n"
	    "  [--body B (repeatable, round-robin)] [--servername NAME]\n"
	    "  [--timeout S] [--concurrency N] [--pids NAME:PID[,PID...]]\n");
	exit(2);
}

static void
die(const char *msg)
{
	fprintf(stderr, "loadgen: %s\n", msg);
	exit(1);
}

/* Keeps the first error's text for the result line (say why, once). */
static void
note_error(struct lg *lg, const char *what, unsigned long ssl_err)
{
	char buf[160];

	if (lg->first_error[0] != '\0')
		return;
	if (ssl_err != 0) {
		ERR_error_string_n(ssl_err, buf, sizeof(buf));
		snprintf(lg->first_error, sizeof(lg->first_error), "%s: %s",
		    what, buf);
	} else {
		snprintf(lg->first_error, sizeof(lg->first_error), "%s%s%s",
		    what, errno ? ": " : "", errno ? strerror(errno) : "");
	}
	/* Spaces would split the key=value line. */
	for (char *p = lg->first_error; *p != '\0'; p++)
		if (*p == ' ')
			*p = '_';
}

static double
parse_secs(const char *flag, const char *v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || d < 0 || d > 86400) {
		fprintf(stderr, "loadgen: %s: bad number of seconds '%s'\n",
		    flag, v);
		exit(2);
	}
	return d;
}

static long
parse_long(const char *flag, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "loadgen: %s: want %ld..%ld, got '%s'\n", flag,
		    lo, hi, v);
		exit(2);
	}
	return n;
}

/* 127.x.y.z:PORT only; anything else is refused (see the file comment). */
static void
parse_connect(const char *v, struct sockaddr_in *sa)
{
	const char *colon = strrchr(v, ':');
	char host[INET_ADDRSTRLEN];
	size_t hlen;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (colon == NULL || (hlen = (size_t)(colon - v)) == 0 ||
	    hlen >= sizeof(host))
		die("--connect: want 127.0.0.1:PORT");
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		die("--connect: want an IPv4 address literal");
	if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		die("--connect: only loopback (127.0.0.0/8) targets are "
		    "allowed");
	sa->sin_port =
	    htons((uint16_t)parse_long("--connect", colon + 1, 1, 65535));
}

enum {
	O_CONNECT = 256,
	O_CERT,
	O_KEY,
	O_CA,
	O_MODE,
	O_CONNS,
	O_DURATION,
	O_REQUESTS,
	O_WARMUP,
	O_METHOD,
	O_PATH,
	O_BODY,
	O_SERVERNAME,
	O_TIMEOUT,
	O_CONCURRENCY,
	O_PIDS
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"connect", required_argument, NULL, O_CONNECT},
	    {"cert", required_argument, NULL, O_CERT},
	    {"key", required_argument, NULL, O_KEY},
	    {"ca", required_argument, NULL, O_CA},
	    {"mode", required_argument, NULL, O_MODE},
	    {"connections", required_argument, NULL, O_CONNS},
	    {"duration", required_argument, NULL, O_DURATION},
	    {"requests", required_argument, NULL, O_REQUESTS},
	    {"warmup", required_argument, NULL, O_WARMUP},
	    {"method", required_argument, NULL, O_METHOD},
	    {"path", required_argument, NULL, O_PATH},
	    {"body", required_argument, NULL, O_BODY},
	    {"servername", required_argument, NULL, O_SERVERNAME},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"concurrency", required_argument, NULL, O_CONCURRENCY},
	    {"pids", required_argument, NULL, O_PIDS}, {NULL, 0, NULL, 0}};
	char err[128];
	int ch, have_addr = 0;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->mode = M_KEEPALIVE;
	o->servername = "localhost";
	o->method = "GET";
	o->path = "/";
	o->connections = 1;
	o->duration = 5;
	o->timeout = 10;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_CONNECT:
			parse_connect(optarg, &o->addr);
			have_addr = 1;
			break;
		case O_CERT:
			o->cert = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case O_CA:
			o->ca = optarg;
			break;
		case O_MODE:
			for (i = 0;
			     i < sizeof(mode_names) / sizeof(*mode_names); i++)
				if (strcmp(optarg, mode_names[i]) == 0)
					break;
			if (i == sizeof(mode_names) / sizeof(*mode_names))
				usage();
			o->mode = (enum lg_mode)i;
			break;
		case O_CONNS:
			o->connections = (int)parse_long(
			    "--connections", optarg, 1, LG_MAX_CONNS);
			break;
		case O_DURATION:
			o->duration = parse_secs("--duration", optarg);
			break;
		case O_REQUESTS:
			o->requests = (uint64_t)parse_long(
			    "--requests", optarg, 1, 1000000000L);
			break;
		case O_WARMUP:
			o->warmup = parse_secs("--warmup", optarg);
			break;
		case O_METHOD:
			if (strcmp(optarg, "GET") != 0 &&
			    strcmp(optarg, "POST") != 0)
				die("--method: GET or POST");
			o->method = optarg;
			break;
		case O_PATH:
			if (optarg[0] != '/' || strlen(optarg) >= LG_MAX_PATH ||
			    strpbrk(optarg, " \r\n") != NULL)
				die("--path: an origin-form target");
			o->path = optarg;
			break;
		case O_BODY:
			if (o->nbody == LG_MAX_BODIES)
				die("--body: too many");
			if (strlen(optarg) > LG_MAX_BODY)
				die("--body: too long");
			o->body[o->nbody++] = optarg;
			break;
		case O_SERVERNAME:
			o->servername = optarg;
			break;
		case O_TIMEOUT:
			o->timeout = parse_secs("--timeout", optarg);
			break;
		case O_CONCURRENCY:
			o->concurrency = (int)parse_long(
			    "--concurrency", optarg, 1, LG_MAX_CONNS);
			break;
		case O_PIDS:
			if (o->ngroup == PROCSTAT_MAX_GROUPS)
				die("--pids: too many groups");
			if (procstat_parse_group(optarg, &o->group[o->ngroup],
			        err, sizeof(err)) != 0)
				die(err);
			o->ngroup++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !have_addr || o->cert == NULL || o->key == NULL ||
	    o->ca == NULL)
		usage();
	if (o->timeout <= 0)
		die("--timeout must be > 0");
	if (strcmp(o->method, "POST") == 0 && o->nbody == 0)
		die("--method POST needs --body");
	if (o->concurrency == 0)
		o->concurrency = o->mode == M_HOLD ? 64 : o->connections;
}

/* Builds the request variants of connection `c` ({c} in the path = idx). */
static int
conn_build_requests(struct conn *c, const struct opts *o)
{
	char path[LG_MAX_PATH + 16], port[8];
	const char *mark = strstr(o->path, "{c}");
	int close_it = o->mode == M_NEWCONN || o->mode == M_RESUME;
	unsigned i, n = o->nbody > 0 ? (unsigned)o->nbody : 1;
	int len;

	if (mark != NULL)
		snprintf(path, sizeof(path), "%.*s%d%s", (int)(mark - o->path),
		    o->path, c->idx, mark + 3);
	else
		snprintf(path, sizeof(path), "%s", o->path);
	snprintf(port, sizeof(port), "%u", ntohs(o->addr.sin_port));
	for (i = 0; i < n; i++) {
		const char *body = o->nbody > 0 ? o->body[i] : NULL;
		size_t cap = strlen(path) + strlen(o->servername) + 256 +
		    (body != NULL ? strlen(body) : 0);

		if ((c->req[i] = malloc(cap)) == NULL)
			return -1;
		if (body != NULL)
			len = snprintf(c->req[i], cap,
			    "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
			    "User-Agent: replicad-loadgen\r\n"
			    "Accept: application/json\r\n%s"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %zu\r\n\r\n%s",
			    o->method, path, o->servername, port,
			    close_it ? "Connection: close\r\n" : "",
			    strlen(body), body);
		else
			len = snprintf(c->req[i], cap,
			    "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
			    "User-Agent: replicad-loadgen\r\n"
			    "Accept: application/json\r\n%s\r\n",
			    o->method, path, o->servername, port,
			    close_it ? "Connection: close\r\n" : "");
		if (len < 0 || (size_t)len >= cap)
			return -1;
		c->req_len[i] = (size_t)len;
	}
	c->nreq = n;
	return 0;
}

/* ---- Connections ---- */

static void
conn_want(struct lg *lg, struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	if (c->events == events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(lg->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		die("epoll_ctl MOD failed");
	c->events = events;
}

static void
conn_close(struct conn *c, int polite)
{
	if (c->ssl != NULL) {
		/* close_notify, once, without waiting for the answer. */
		if (polite)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->events = 0;
}

static void
window_count_done(struct lg *lg, struct conn *c)
{
	if (c->measuring) {
		c->measuring = 0;
		if (lg->inflight > 0)
			lg->inflight--;
	}
}

/* A held connection the server dropped: counted, never reopened. */
static void
held_lost(struct lg *lg, struct conn *c)
{
	c->st = C_DONE;
	c->established = 0;
	lg->established--;
	lg->n.held_closed++;
}

static void
conn_fail(struct lg *lg, struct conn *c, enum err_kind kind, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	uint64_t now = now_ns();

	if (lg->measuring || lg->o.mode == M_HOLD) {
		lg->n.err[kind]++;
		note_error(lg, what, e);
	}
	ERR_clear_error();
	window_count_done(lg, c);
	conn_close(c, 0);
	if (lg->o.mode == M_HOLD && c->established) {
		held_lost(lg, c);
		return;
	}
	c->st = C_IDLE;
	c->retry_at = now + LG_RETRY_NS;
}

/* May a new request (or connection) start now? */
static int
may_start(struct lg *lg)
{
	if (lg->finished || stop_signal)
		return 0;
	if (lg->o.requests > 0 && lg->measuring &&
	    lg->n.issued >= lg->o.requests)
		return 0;
	return 1;
}

static void
mark_start(struct lg *lg, struct conn *c, uint64_t now)
{
	c->t_start = now;
	c->deadline = now + (uint64_t)(lg->o.timeout * 1e9);
	c->measuring = lg->measuring;
	if (c->measuring) {
		lg->n.issued++;
		lg->inflight++;
	}
}

/* Opens a new connection (state C_CONNECTING or further). */
static void
conn_open(struct lg *lg, struct conn *c)
{
	struct epoll_event ev;
	uint64_t now = now_ns();
	int one = 1;

	if (!may_start(lg)) {
		c->st = C_IDLE;
		c->retry_at = UINT64_MAX;
		return;
	}
	if (lg->o.mode != M_KEEPALIVE && lg->o.mode != M_HOLD)
		mark_start(lg, c, now); /* the handshake is part of latency */
	else
		c->deadline = now + (uint64_t)(lg->o.timeout * 1e9);
	c->fd = socket(
	    AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (c->fd < 0) {
		conn_fail(lg, c, E_CONNECT, "socket");
		return;
	}
	/* As curl and browsers do: small requests must not wait for ACKs. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(lg->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		die("epoll_ctl ADD failed");
	c->events = EPOLLOUT;
	if (connect(c->fd, (const struct sockaddr *)&lg->o.addr,
	        sizeof(lg->o.addr)) != 0 &&
	    errno != EINPROGRESS) {
		conn_fail(lg, c, E_CONNECT, "connect");
		return;
	}
	c->st = C_CONNECTING;
}

static void
start_request(struct lg *lg, struct conn *c)
{
	if (!may_start(lg)) {
		/* Keep the connection; nothing more to send. */
		c->st = C_IDLE;
		c->retry_at = UINT64_MAX;
		conn_close(c, 1);
		return;
	}
	if (lg->o.mode == M_KEEPALIVE || lg->o.mode == M_HOLD)
		mark_start(lg, c, now_ns());
	c->cur = c->body_i++ % c->nreq;
	c->st = C_SENDING;
}

/* The answer to the request in flight is complete. */
static void
conn_answered(struct lg *lg, struct conn *c)
{
	uint64_t now = now_ns();
	int close_it = c->resp.conn_close;

	lg->body_bytes = c->resp.body_bytes;
	if (c->measuring) {
		hist_record(&lg->hist, (now - c->t_start) / 1000);
		if (c->resp.status >= 200 && c->resp.status < 300)
			lg->n.ok++;
		else
			lg->n.non2xx++;
	}
	window_count_done(lg, c);
	switch (lg->o.mode) {
	case M_KEEPALIVE:
		if (close_it) {
			if (lg->measuring)
				lg->n.reconnects++;
			conn_close(c, 1);
			conn_open(lg, c);
		} else {
			start_request(lg, c);
		}
		break;
	case M_NEWCONN:
	case M_RESUME:
		conn_close(c, 1);
		conn_open(lg, c);
		break;
	case M_HOLD:
		if (c->resp.status < 200 || c->resp.status >= 300 || close_it) {
			/* E.g. 503 busy: counted, and this one tries again. */
			if (c->resp.status < 200 || c->resp.status >= 300)
				lg->n.non2xx++;
			conn_close(c, 1);
			c->st = C_IDLE;
			c->retry_at = now + LG_RETRY_NS;
			break;
		}
		c->established = 1;
		c->st = C_HELD;
		lg->established++;
		lg->opening--;
		break;
	case M_HANDSHAKE:
		break; /* no HTTP in this mode */
	}
}

/* OpenSSL hands us each new session (resume mode); we keep the last. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = SSL_get_app_data(ssl);

	if (c == NULL)
		return 0;
	SSL_SESSION_free(c->sess);
	c->sess = sess;
	return 1; /* we took the reference */
}

static void
record_handshake(struct lg *lg, struct conn *c)
{
	if (lg->tls_version[0] == '\0') {
		snprintf(lg->tls_version, sizeof(lg->tls_version), "%s",
		    SSL_get_version(c->ssl));
		snprintf(lg->tls_cipher, sizeof(lg->tls_cipher), "%s",
		    SSL_get_cipher_name(c->ssl));
	}
	if (!lg->measuring)
		return;
	lg->n.handshakes++;
	if (SSL_session_reused(c->ssl))
		lg->n.resumed++;
}

static void
step_connecting(struct lg *lg, struct conn *c)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(int), plen = sizeof(peer);
	int soerr = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
	    soerr != 0) {
		errno = soerr;
		conn_fail(lg, c, E_CONNECT, "connect");
		return;
	}
	/* No error yet and no peer: the connect is still in progress. */
	if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) != 0) {
		if (errno == ENOTCONN) {
			conn_want(lg, c, EPOLLOUT);
			return;
		}
		conn_fail(lg, c, E_CONNECT, "connect");
		return;
	}
	if ((c->ssl = SSL_new(lg->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, lg->o.servername) != 1 ||
	    SSL_set1_host(c->ssl, lg->o.servername) != 1)
		die("SSL_new failed");
	SSL_set_app_data(c->ssl, c);
	if (lg->o.mode == M_RESUME && c->sess != NULL)
		(void)SSL_set_session(c->ssl, c->sess);
	c->st = C_HANDSHAKE;
}

/* Maps SSL_get_error to "wait for this" (1) or a failure (0). */
static int
ssl_wait(struct lg *lg, struct conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		conn_want(lg, c, EPOLLIN);
		return 1;
	case SSL_ERROR_WANT_WRITE:
		conn_want(lg, c, EPOLLOUT);
		return 1;
	default:
		return 0;
	}
}

static void
step_handshake(struct lg *lg, struct conn *c)
{
	uint64_t now;
	int rc = SSL_connect(c->ssl);

	if (rc != 1) {
		if (!ssl_wait(lg, c, rc))
			conn_fail(lg, c, E_TLS, "handshake");
		return;
	}
	record_handshake(lg, c);
	if (lg->o.mode != M_HANDSHAKE) {
		start_request(lg, c);
		return;
	}
	now = now_ns();
	if (c->measuring) {
		hist_record(&lg->hist, (now - c->t_start) / 1000);
		lg->n.ok++;
	}
	window_count_done(lg, c);
	/*
	 * Say goodbye and wait for the server's close: closing at once
	 * could reset the connection before the server has read our last
	 * handshake flight, and it would then skip the work we measure.
	 */
	(void)SSL_shutdown(c->ssl);
	(void)shutdown(c->fd, SHUT_WR);
	c->deadline = now + (uint64_t)(lg->o.timeout * 1e9);
	c->st = C_CLOSING;
}

static void
step_sending(struct lg *lg, struct conn *c)
{
	int rc;

	ERR_clear_error();
	rc = SSL_write(c->ssl, c->req[c->cur], (int)c->req_len[c->cur]);
	if (rc <= 0) {
		if (!ssl_wait(lg, c, rc))
			conn_fail(lg, c, E_IO, "write");
		return;
	}
	http_resp_init(&c->resp);
	c->st = C_READING;
}

static void
step_reading(struct lg *lg, struct conn *c)
{
	char buf[LG_READ_CHUNK];
	size_t used;
	int rc, err, pr;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_read(c->ssl, buf, sizeof(buf));
		if (rc <= 0)
			break;
		lg->n.bytes_in += (uint64_t)rc;
		pr = http_resp_feed(&c->resp, buf, (size_t)rc, &used);
		if (pr == HTTP_RESP_ERR) {
			conn_fail(lg, c, E_PARSE, "malformed answer");
			return;
		}
		if (pr == HTTP_RESP_DONE) {
			if (used != (size_t)rc)
				conn_fail(lg, c, E_PARSE, "unasked bytes");
			else
				conn_answered(lg, c);
			return;
		}
	}
	err = SSL_get_error(c->ssl, rc);
	if (err == SSL_ERROR_ZERO_RETURN ||
	    (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) ||
	    (err == SSL_ERROR_SSL &&
	        ERR_GET_REASON(ERR_peek_error()) ==
	            SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		/* The server closed: the end of an unframed body, or a loss. */
		if (http_resp_eof(&c->resp) == HTTP_RESP_DONE) {
			conn_answered(lg, c);
		} else {
			errno = 0;
			conn_fail(lg, c, E_IO, "closed before the answer");
		}
		return;
	}
	if (!ssl_wait(lg, c, rc))
		conn_fail(lg, c, E_IO, "read");
}

/* Waits for the server's close (handshake mode) or watches a held one. */
static void
step_drain(struct lg *lg, struct conn *c)
{
	char buf[1024];
	int rc, err;

	/* Anything that comes (session tickets...) is read and dropped. */
	do {
		ERR_clear_error();
		rc = SSL_read(c->ssl, buf, sizeof(buf));
	} while (rc > 0);
	err = SSL_get_error(c->ssl, rc);
	if (err == SSL_ERROR_WANT_READ) {
		conn_want(lg, c, EPOLLIN);
		return;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		conn_want(lg, c, EPOLLOUT);
		return;
	}
	ERR_clear_error();
	if (c->st == C_HELD) {
		conn_close(c, 0);
		held_lost(lg, c);
		return;
	}
	conn_close(c, 0);
	conn_open(lg, c);
}

/* Runs the connection's state machine until it must wait. */
static void
conn_step(struct lg *lg, struct conn *c)
{
	enum conn_state before;

	do {
		before = c->st;
		switch (c->st) {
		case C_CONNECTING:
			step_connecting(lg, c);
			break;
		case C_HANDSHAKE:
			step_handshake(lg, c);
			break;
		case C_SENDING:
			step_sending(lg, c);
			break;
		case C_READING:
			step_reading(lg, c);
			break;
		case C_CLOSING:
		case C_HELD:
			step_drain(lg, c);
			break;
		case C_IDLE:
		case C_DONE:
			return;
		}
		/* Each step returns when it must wait, or in a new state. */
	} while (c->st != before && c->fd >= 0);
}

/* ---- The run ---- */

static void
sample_all(struct lg *lg, struct procstat_sample *s, struct rusage *ru)
{
	for (int i = 0; i < lg->o.ngroup; i++)
		procstat_sample(&lg->o.group[i], &s[i]);
	(void)getrusage(RUSAGE_SELF, ru);
}

static void
open_window(struct lg *lg, uint64_t now)
{
	lg->measuring = 1;
	lg->measure_start = now;
	if (lg->o.requests == 0)
		lg->measure_end = now + (uint64_t)(lg->o.duration * 1e9);
	sample_all(lg, lg->before, &lg->ru_before);
}

static void
close_window(struct lg *lg, uint64_t now)
{
	sample_all(lg, lg->after, &lg->ru_after);
	lg->measure_end = now;
	lg->measuring = 0;
	lg->finished = 1;
}

/* Timeouts and restarts, every LG_TICK_MS. */
static void
scan_timers(struct lg *lg, uint64_t now)
{
	for (int i = 0; i < lg->o.connections; i++) {
		struct conn *c = &lg->conns[i];

		switch (c->st) {
		case C_IDLE:
			if (c->retry_at <= now &&
			    (lg->o.mode != M_HOLD || i < lg->next_start))
				conn_open(lg, c);
			break;
		case C_CONNECTING:
		case C_HANDSHAKE:
		case C_SENDING:
		case C_READING:
		case C_CLOSING:
			if (now > c->deadline) {
				errno = ETIMEDOUT;
				conn_fail(lg, c, E_TIMEOUT, "timeout");
			}
			break;
		case C_HELD:
		case C_DONE:
			break;
		}
	}
}

/* Hold mode: keep at most --concurrency connections opening at once. */
static void
hold_open_more(struct lg *lg)
{
	while (lg->next_start < lg->o.connections &&
	    lg->opening < lg->o.concurrency) {
		struct conn *c = &lg->conns[lg->next_start++];

		lg->opening++;
		conn_open(lg, c);
		conn_step(lg, c);
	}
}

static double
tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

static void
print_result(struct lg *lg, FILE *out, const char *tag)
{
	double secs = (double)(lg->measure_end - lg->measure_start) / 1e9;
	uint64_t done = lg->n.ok + lg->n.non2xx, errs = 0;
	double client_us;
	int i;

	for (i = 0; i < E_KINDS; i++)
		errs += lg->n.err[i];
	client_us = tv_us(&lg->ru_after.ru_utime) +
	    tv_us(&lg->ru_after.ru_stime) - tv_us(&lg->ru_before.ru_utime) -
	    tv_us(&lg->ru_before.ru_stime);
	fprintf(out,
	    "loadgen: %s mode=%s connections=%d method=%s duration_s=%.3f"
	    " requests=%llu ok=%llu non2xx=%llu errors=%llu",
	    tag, mode_names[lg->o.mode], lg->o.connections, lg->o.method, secs,
	    (unsigned long long)done, (unsigned long long)lg->n.ok,
	    (unsigned long long)lg->n.non2xx, (unsigned long long)errs);
	for (i = 0; i < E_KINDS; i++)
		fprintf(out, " %s=%llu", err_names[i],
		    (unsigned long long)lg->n.err[i]);
	fprintf(out, " rps=%.1f", secs > 0 ? (double)done / secs : 0);
	hist_print_kv(out, &lg->hist);
	fprintf(out,
	    " handshakes=%llu resumed=%llu reconnects=%llu established=%d"
	    " held_closed=%llu body_bytes=%llu bytes_in=%llu tls=%s"
	    " cipher=%s client_cpu_us_req=%.2f",
	    (unsigned long long)lg->n.handshakes,
	    (unsigned long long)lg->n.resumed,
	    (unsigned long long)lg->n.reconnects, lg->established,
	    (unsigned long long)lg->n.held_closed,
	    (unsigned long long)lg->body_bytes,
	    (unsigned long long)lg->n.bytes_in,
	    lg->tls_version[0] ? lg->tls_version : "-",
	    lg->tls_cipher[0] ? lg->tls_cipher : "-",
	    done ? client_us / (double)done : 0);
	for (i = 0; i < lg->o.ngroup; i++)
		procstat_print_kv(
		    out, &lg->o.group[i], &lg->before[i], &lg->after[i], done);
	fprintf(out, " first_error=%s\n",
	    lg->first_error[0] ? lg->first_error : "-");
	fflush(out);
}

static SSL_CTX *
make_ctx(const struct opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_print_errors_fp(stderr);
		die("TLS set-up failed (CA, certificate or key)");
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o->mode == M_RESUME) {
		/* We keep sessions ourselves, one per connection slot. */
		SSL_CTX_set_session_cache_mode(ctx,
		    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	/* 5000 idle connections need not keep 5000 pairs of 16 KiB buffers. */
	if (o->mode == M_HOLD)
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

/* Enough descriptors for every connection, raising the soft limit. */
static void
check_nofile(int conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit failed");
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		fprintf(stderr,
		    "loadgen: %d connections need %llu descriptors; the hard"
		    " limit is %llu (ulimit -n)\n",
		    conns, (unsigned long long)want,
		    (unsigned long long)rl.rlim_max);
		exit(1);
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("setrlimit RLIMIT_NOFILE failed");
}

static void
run(struct lg *lg)
{
	struct epoll_event ev[256];
	uint64_t now, next_tick = 0, hold_deadline = 0;
	int i, n, announced = 0;

	lg->t0 = now_ns();
	if (lg->o.mode == M_HOLD) {
		hold_deadline = lg->t0 + LG_HOLD_OPEN_NS;
		lg->next_start = 0;
		hold_open_more(lg);
	} else {
		if (lg->o.warmup <= 0)
			open_window(lg, lg->t0);
		for (i = 0; i < lg->o.connections; i++) {
			conn_open(lg, &lg->conns[i]);
			conn_step(lg, &lg->conns[i]);
		}
	}
	for (;;) {
		n = epoll_wait(lg->ep, ev, 256, LG_TICK_MS);
		if (n < 0 && errno != EINTR)
			die("epoll_wait failed");
		for (i = 0; i < n; i++)
			conn_step(lg, ev[i].data.ptr);
		now = now_ns();
		if (lg->o.mode == M_HOLD) {
			hold_open_more(lg);
			if (!announced &&
			    lg->established == lg->o.connections) {
				/* All open: measure from here. */
				open_window(lg, now);
				sample_all(lg, lg->after, &lg->ru_after);
				print_result(lg, stdout, "established");
				announced = 1;
			}
			/*
			 * Every connection was opened once and none is still
			 * opening, yet not all are open: the server closed
			 * some.  Waiting longer would not change that.
			 */
			if (!announced &&
			    (now > hold_deadline ||
			        (lg->next_start == lg->o.connections &&
			            lg->opening == 0))) {
				fprintf(stderr,
				    "loadgen: hold: only %d of %d"
				    " connections opened\n",
				    lg->established, lg->o.connections);
				open_window(lg, now);
				close_window(lg, now);
				return;
			}
		} else if (!lg->measuring && !lg->finished &&
		    now >= lg->t0 + (uint64_t)(lg->o.warmup * 1e9)) {
			open_window(lg, now);
		}
		if (lg->measuring && lg->measure_end != 0 &&
		    now >= lg->measure_end && lg->o.requests == 0) {
			close_window(lg, now);
			return;
		}
		if (lg->measuring && lg->o.requests > 0 &&
		    lg->n.issued >= lg->o.requests && lg->inflight == 0) {
			close_window(lg, now);
			return;
		}
		if (stop_signal) {
			if (!lg->measuring)
				open_window(lg, now);
			close_window(lg, now);
			return;
		}
		if (now >= next_tick) {
			scan_timers(lg, now);
			next_tick = now + LG_TICK_MS * 1000000ull;
		}
	}
}

int
main(int argc, char **argv)
{
	static struct lg lg; /* large (histogram): not on the stack */
	struct sigaction sa;
	int i;

	parse_opts(argc, argv, &lg.o);
	check_nofile(lg.o.connections);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	lg.ctx = make_ctx(&lg.o);
	if ((lg.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1 failed");
	if ((lg.conns = calloc((size_t)lg.o.connections, sizeof(*lg.conns))) ==
	    NULL)
		die("out of memory");
	for (i = 0; i < lg.o.connections; i++) {
		lg.conns[i].idx = i;
		lg.conns[i].fd = -1;
		if (conn_build_requests(&lg.conns[i], &lg.o) != 0)
			die("out of memory");
	}
	hist_reset(&lg.hist);
	run(&lg);
	print_result(&lg, stdout, "result");

	for (i = 0; i < lg.o.connections; i++) {
		/* A close_notify where a handshake completed: a clean end. */
		conn_close(&lg.conns[i],
		    lg.conns[i].ssl != NULL &&
		        SSL_is_init_finished(lg.conns[i].ssl));
		SSL_SESSION_free(lg.conns[i].sess);
		for (unsigned j = 0; j < lg.conns[i].nreq; j++)
			free(lg.conns[i].req[j]);
	}
	free(lg.conns);
	close(lg.ep);
	SSL_CTX_free(lg.ctx);
	/* Exit status: did the run produce numbers at all? */
	if (lg.o.mode == M_HOLD)
		return lg.established == lg.o.connections ? 0 : 1;
	return lg.n.ok > 0 ? 0 : 1;
}
