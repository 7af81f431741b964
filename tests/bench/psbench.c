/*
 * psbench.c — replicad-core alone: GET requests over its Unix socket in
 * proto-socket, pipelined, with latency percentiles and the core's cost
 * per request (the `core` lines of `make bench`).
 *
 * What it measures: the core's dispatch and cache lookup and the codec,
 * with no TLS and no HTTP in front — the floor under what the gateway can
 * do per request.  Each connection says HELLO, then keeps --depth GETs of
 * one deployment in flight (capped by the core's max_inflight), matching
 * answers by id; latency = request queued .. answer decoded.  Every answer
 * is decoded and validated as the gateway would (ps_codec); an error
 * answer (BUSY, NOT_FOUND...) counts as "non2xx", a broken connection as
 * an error (and the connection is not reopened: the core should not drop
 * its peer).
 *
 * The core checks the peer's uid (SO_PEERCRED): run this as the core's
 * uid, or one in its --allow-uid list.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"
#include "tests/bench/hist.h"
#include "tests/bench/procstat.h"

#define PB_MAX_CONNS 16
#define PB_RING      1024 /* > PS_MAX_INFLIGHT: start times by id */
#define PB_TICK_MS   10

struct pb_conn {
	int fd;
	struct ps_reader *rd;
	struct ps_writer *wr;
	unsigned depth;
	unsigned inflight;
	uint32_t next_id;
	uint64_t start[PB_RING]; /* by id % PB_RING; 0 = not outstanding */
	uint8_t measured[PB_RING];
	int dead;
};

struct pb {
	const char *socket;
	const char *name;
	/* The core's default namespace, from HELLO's answer (version 3):
	 * the GETs ask for pb->name in it. */
	char ns[PS_MAX_NAMESPACE + 1];
	unsigned depth;
	int nconn;
	double duration;
	double warmup;
	uint64_t requests;
	struct procstat_group group[PROCSTAT_MAX_GROUPS];
	int ngroup;

	struct pb_conn conn[PB_MAX_CONNS];
	struct hist hist;
	int measuring;
	int finished;
	uint64_t t0, measure_start, measure_end;
	uint64_t issued, inflight_measured;
	uint64_t ok, non2xx, errors;
	struct procstat_sample before[PROCSTAT_MAX_GROUPS];
	struct procstat_sample after[PROCSTAT_MAX_GROUPS];
	struct rusage ru_before, ru_after;
	char first_error[160];
	unsigned hello_inflight;
};

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
die(const char *msg)
{
	fprintf(stderr, "psbench: %s\n", msg);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: psbench --socket PATH [--name DEPLOYMENT] [--depth N]\n"
	    "  [--connections N] [--duration S | --requests N] [--warmup S]\n"
	    "  [--pids NAME:PID[,PID...]]\n");
	exit(2);
}

static double
parse_num(const char *flag, const char *v, double lo, double hi)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || d < lo || d > hi) {
		fprintf(stderr, "psbench: %s: want %g..%g, got '%s'\n", flag,
		    lo, hi, v);
		exit(2);
	}
	return d;
}

static void
note_error(struct pb *pb, const char *what, int rc)
{
	if (pb->first_error[0] != '\0')
		return;
	snprintf(pb->first_error, sizeof(pb->first_error), "%s:%s", what,
	    rc == PS_ERR_SYS ? strerror(errno) : ps_strerror(rc));
	for (char *p = pb->first_error; *p != '\0'; p++)
		if (*p == ' ')
			*p = '_';
}

/* Blocking connect, then HELLO and its answer, then non-blocking. */
static int
conn_open(struct pb *pb, struct pb_conn *c)
{
	struct ps_hello h = {PS_VERSION, PS_VERSION};
	struct ps_hello_ok ok;
	struct sockaddr_un sun;
	struct ps_frame f;
	uint8_t buf[PS_MAX_FRAME];
	size_t len, used, off = 0, have = 0;
	ssize_t n;
	int rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(pb->socket) >= sizeof(sun.sun_path))
		die("--socket: path too long");
	memcpy(sun.sun_path, pb->socket, strlen(pb->socket) + 1);
	if ((c->rd = ps_reader_new(PS_DIR_ANSWER)) == NULL ||
	    (c->wr = ps_writer_new(PS_MAX_REQUEST_FRAME * PS_MAX_INFLIGHT)) ==
	        NULL)
		die("out of memory");
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		note_error(pb, "connect", PS_ERR_SYS);
		return -1;
	}
	if ((rc = ps_codec_encode_hello(buf, sizeof(buf), &h, &len)) != PS_OK ||
	    write(c->fd, buf, len) != (ssize_t)len) {
		note_error(pb, "hello", rc != PS_OK ? rc : PS_ERR_SYS);
		return -1;
	}
	for (;;) {
		if (have > 0) {
			rc = ps_reader_read(c->rd, buf + off, have, &used, &f);
			off += used;
			have -= used;
			if (rc == PS_OK)
				break;
			if (rc != PS_AGAIN) {
				note_error(pb, "hello answer", rc);
				return -1;
			}
		}
		off = 0;
		n = read(c->fd, buf, sizeof(buf));
		if (n <= 0) {
			note_error(pb, "hello answer",
			    n == 0 ? PS_ERR_CLOSED : PS_ERR_SYS);
			return -1;
		}
		have = (size_t)n;
	}
	if ((f.hdr.flags & PS_F_ERROR) != 0 ||
	    (rc = ps_codec_decode_hello_ok(&f, &ok)) != PS_OK) {
		note_error(pb, "hello refused", PS_ERR_STATE);
		return -1;
	}
	c->depth = pb->depth < ok.max_inflight ? pb->depth : ok.max_inflight;
	memcpy(pb->ns, ok.namespace, sizeof(pb->ns));
	pb->hello_inflight = ok.max_inflight;
	if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0)
		return -1;
	return 0;
}

static void
conn_dead(struct pb *pb, struct pb_conn *c, const char *what, int rc)
{
	unsigned i;

	note_error(pb, what, rc);
	if (pb->measuring)
		pb->errors++;
	/* Whatever was in flight is lost with the connection. */
	for (i = 0; i < PB_RING; i++) {
		if (c->start[i] != 0 && c->measured[i] &&
		    pb->inflight_measured > 0)
			pb->inflight_measured--;
		c->start[i] = 0;
	}
	c->inflight = 0;
	c->dead = 1;
	close(c->fd);
	c->fd = -1;
}

static int
may_issue(const struct pb *pb)
{
	if (pb->finished || stop_signal)
		return 0;
	return !(
	    pb->requests > 0 && pb->measuring && pb->issued >= pb->requests);
}

/* Tops the connection up to `depth` requests in flight. */
static void
conn_fill(struct pb *pb, struct pb_conn *c)
{
	struct ps_name_req req;
	uint8_t buf[PS_MAX_REQUEST_FRAME];
	size_t len;
	uint32_t id;
	int rc;

	memset(&req, 0, sizeof(req));
	memcpy(req.namespace, pb->ns, sizeof(req.namespace));
	snprintf(req.name, sizeof(req.name), "%s", pb->name);
	while (!c->dead && c->inflight < c->depth && may_issue(pb)) {
		if (++c->next_id == 0)
			c->next_id = 1;
		id = c->next_id;
		if (c->start[id % PB_RING] != 0)
			die("id ring overrun (a bug)");
		if ((rc = ps_codec_encode_name_req(buf, sizeof(buf), PS_T_GET,
		         id, &req, &len)) != PS_OK ||
		    (rc = ps_writer_queue(c->wr, buf, len)) != PS_OK) {
			conn_dead(pb, c, "encode", rc);
			return;
		}
		c->start[id % PB_RING] = now_ns();
		c->measured[id % PB_RING] = (uint8_t)pb->measuring;
		if (pb->measuring) {
			pb->issued++;
			pb->inflight_measured++;
		}
		c->inflight++;
	}
	rc = ps_writer_flush(c->wr, c->fd);
	if (rc != PS_OK && rc != PS_AGAIN)
		conn_dead(pb, c, "write", rc);
}

static void
conn_answer(struct pb *pb, struct pb_conn *c, const struct ps_frame *f)
{
	struct ps_deployment d;
	struct ps_error e;
	uint32_t slot = f->hdr.id % PB_RING;
	uint64_t now = now_ns();
	int rc, good;

	if (f->hdr.type == PS_T_GOAWAY) {
		conn_dead(pb, c, "goaway", PS_ERR_CLOSED);
		return;
	}
	if (f->hdr.type != PS_T_GET || c->start[slot] == 0) {
		conn_dead(pb, c, "unexpected answer", PS_ERR_ID);
		return;
	}
	if ((f->hdr.flags & PS_F_ERROR) != 0) {
		rc = ps_codec_decode_error(f, &e);
		good = 0;
	} else {
		rc = ps_codec_decode_deployment(f, &d);
		good = 1;
	}
	if (rc != PS_OK) {
		conn_dead(pb, c, "decode", rc);
		return;
	}
	if (c->measured[slot]) {
		hist_record(&pb->hist, (now - c->start[slot]) / 1000);
		if (good)
			pb->ok++;
		else
			pb->non2xx++;
		if (pb->inflight_measured > 0)
			pb->inflight_measured--;
	}
	c->start[slot] = 0;
	c->inflight--;
}

static void
conn_read(struct pb *pb, struct pb_conn *c)
{
	uint8_t buf[65536];
	struct ps_frame f;
	size_t off, used;
	ssize_t n;
	int rc, rounds;

	/* Bounded, so that the clock is looked at between bursts. */
	for (rounds = 0; rounds < 64; rounds++) {
		n = read(c->fd, buf, sizeof(buf));
		if (n == 0) {
			conn_dead(pb, c, "read", PS_ERR_CLOSED);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_dead(pb, c, "read", PS_ERR_SYS);
			return;
		}
		for (off = 0; off < (size_t)n; off += used) {
			rc = ps_reader_read(
			    c->rd, buf + off, (size_t)n - off, &used, &f);
			if (rc == PS_OK) {
				conn_answer(pb, c, &f);
				if (c->dead)
					return;
			} else if (rc != PS_AGAIN) {
				conn_dead(pb, c, "frame", rc);
				return;
			}
		}
		conn_fill(pb, c);
		if (c->dead)
			return;
	}
}

static void
sample_all(struct pb *pb, struct procstat_sample *s, struct rusage *ru)
{
	for (int i = 0; i < pb->ngroup; i++)
		procstat_sample(&pb->group[i], &s[i]);
	(void)getrusage(RUSAGE_SELF, ru);
}

static double
tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

static void
print_result(struct pb *pb)
{
	double secs = (double)(pb->measure_end - pb->measure_start) / 1e9;
	uint64_t done = pb->ok + pb->non2xx;
	double client_us = tv_us(&pb->ru_after.ru_utime) +
	    tv_us(&pb->ru_after.ru_stime) - tv_us(&pb->ru_before.ru_utime) -
	    tv_us(&pb->ru_before.ru_stime);

	printf("psbench: result mode=pipelined connections=%d depth=%u"
	       " duration_s=%.3f requests=%llu ok=%llu non2xx=%llu"
	       " errors=%llu rps=%.1f",
	    pb->nconn, pb->conn[0].depth, secs, (unsigned long long)done,
	    (unsigned long long)pb->ok, (unsigned long long)pb->non2xx,
	    (unsigned long long)pb->errors, secs > 0 ? (double)done / secs : 0);
	hist_print_kv(stdout, &pb->hist);
	printf(" core_max_inflight=%u client_cpu_us_req=%.2f",
	    pb->hello_inflight, done ? client_us / (double)done : 0);
	for (int i = 0; i < pb->ngroup; i++)
		procstat_print_kv(
		    stdout, &pb->group[i], &pb->before[i], &pb->after[i], done);
	printf(" first_error=%s\n", pb->first_error[0] ? pb->first_error : "-");
	fflush(stdout);
}

static void
run(struct pb *pb)
{
	struct pollfd pfd[PB_MAX_CONNS];
	uint64_t now;
	int i, n, live;

	pb->t0 = now_ns();
	for (i = 0; i < pb->nconn; i++) {
		pb->conn[i].fd = -1;
		if (conn_open(pb, &pb->conn[i]) != 0)
			die(pb->first_error);
	}
	for (;;) {
		now = now_ns();
		if (!pb->measuring && !pb->finished &&
		    now >= pb->t0 + (uint64_t)(pb->warmup * 1e9)) {
			pb->measuring = 1;
			pb->measure_start = now;
			sample_all(pb, pb->before, &pb->ru_before);
		}
		if (pb->measuring &&
		    ((pb->requests == 0 &&
		         now >= pb->measure_start +
		                 (uint64_t)(pb->duration * 1e9)) ||
		        (pb->requests > 0 && pb->issued >= pb->requests &&
		            pb->inflight_measured == 0) ||
		        stop_signal)) {
			sample_all(pb, pb->after, &pb->ru_after);
			pb->measure_end = now;
			pb->measuring = 0;
			pb->finished = 1;
			return;
		}
		live = 0;
		for (i = 0; i < pb->nconn; i++) {
			struct pb_conn *c = &pb->conn[i];

			if (!c->dead)
				conn_fill(pb, c);
			pfd[i].fd = c->dead ? -1 : c->fd;
			pfd[i].events = POLLIN;
			if (!c->dead && ps_writer_pending(c->wr) > 0)
				pfd[i].events |= POLLOUT;
			pfd[i].revents = 0;
			live += !c->dead;
		}
		if (live == 0) {
			if (!pb->measuring)
				sample_all(pb, pb->before, &pb->ru_before);
			sample_all(pb, pb->after, &pb->ru_after);
			pb->measure_end = now_ns();
			if (!pb->measuring)
				pb->measure_start = pb->measure_end;
			pb->finished = 1;
			return;
		}
		n = poll(pfd, (nfds_t)pb->nconn, PB_TICK_MS);
		if (n < 0 && errno != EINTR)
			die("poll failed");
		for (i = 0; n > 0 && i < pb->nconn; i++)
			if (pfd[i].revents != 0 && !pb->conn[i].dead)
				conn_read(pb, &pb->conn[i]);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"name", required_argument, NULL, 'n'},
	    {"depth", required_argument, NULL, 'd'},
	    {"connections", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 't'},
	    {"requests", required_argument, NULL, 'r'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"pids", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}};
	static struct pb pb; /* large (histogram, rings): not on the stack */
	struct sigaction sa;
	char err[128];
	int ch, i;

	pb.name = "frontend";
	pb.depth = 32;
	pb.nconn = 1;
	pb.duration = 5;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			pb.socket = optarg;
			break;
		case 'n':
			if (ps_valid_name(optarg, strlen(optarg)) != PS_OK)
				die("--name: not a DNS-1123 subdomain");
			pb.name = optarg;
			break;
		case 'd':
			pb.depth = (unsigned)parse_num(
			    "--depth", optarg, 1, PS_MAX_INFLIGHT);
			break;
		case 'c':
			pb.nconn = (int)parse_num(
			    "--connections", optarg, 1, PB_MAX_CONNS);
			break;
		case 't':
			pb.duration = parse_num("--duration", optarg, 0, 86400);
			break;
		case 'r':
			pb.requests =
			    (uint64_t)parse_num("--requests", optarg, 1, 1e9);
			break;
		case 'w':
			pb.warmup = parse_num("--warmup", optarg, 0, 86400);
			break;
		case 'p':
			if (pb.ngroup == PROCSTAT_MAX_GROUPS)
				die("--pids: too many groups");
			if (procstat_parse_group(optarg, &pb.group[pb.ngroup],
			        err, sizeof(err)) != 0)
				die(err);
			pb.ngroup++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || pb.socket == NULL)
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	hist_reset(&pb.hist);

	run(&pb);
	print_result(&pb);
	for (i = 0; i < pb.nconn; i++) {
		if (pb.conn[i].fd >= 0)
			close(pb.conn[i].fd);
		ps_reader_free(pb.conn[i].rd);
		ps_writer_free(pb.conn[i].wr);
	}
	return pb.ok > 0 ? 0 : 1;
}
