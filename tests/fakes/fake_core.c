/*
 * fake_core.c — a proto-socket responder that stands in for replicad-core
 * in the gateway's tests.  It speaks PROTOCOL.md exactly as the real core
 * must (HELLO rules, SO_PEERCRED check, id rules, BUSY over max_inflight,
 * GOAWAY PROTOCOL on any violation, multi-frame LIST/PIN_LIST/METRICS)
 * over an in-memory table of deployments and pins, and can be told to
 * misbehave so that every error path of the gateway can be exercised.
 *
 *   fake-core --socket PATH [--deployments a=3,b=2] [--generate N]
 *             [--pins a=3] [--namespace NS] [--max-inflight N]
 *             [--health BITS] [--unsupported-pins] [--metrics-bytes N]
 *             [--log FILE] [--trace FILE] [--control FILE]
 *
 * --trace appends "TYPE id" for every request received, before answering,
 * so a test can wait until a request has reached the core.
 * --log appends one line per write it performs (SCALE, PIN_PUT,
 * PIN_DELETE) with the identity it received, for tests to assert on.
 *
 * --control FILE is re-read before every request; each line is one
 * directive (TYPE is a message name such as GET or SCALE, or '*'):
 *   error TYPE CODE [RETRY_AFTER]  answer TYPE with that error code
 *   delay MS                       hold every answer for MS milliseconds
 *   noanswer TYPE                  never answer TYPE
 *   close                          close the connection on a request
 *   goaway CODE [RETRY_AFTER]      send GOAWAY, then close
 *   malformed                      answer with a non-zero reserved field
 *   wrongtype                      answer with another message type
 *   strayid                        first answer an id that was never sent
 *   health BITS                    override the HEALTH state bits
 * Writing the file atomically (write a temp file, rename) makes a change
 * take effect from the next request on.
 */
#define _GNU_SOURCE /* struct ucred */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "proto-socket/ps_frame.h"

#define MAX_DEPLOYMENTS (PS_MAX_LIST_TOTAL)

struct dep {
	char name[PS_MAX_NAME + 1];
	uint32_t desired;
	uint64_t generation;
	char rv[PS_MAX_RV + 1];
	int pinned;
	uint32_t pin;
};

struct control {
	int error_type; /* -1 none, 0 any */
	uint16_t error_code;
	uint32_t error_retry;
	int delay_ms;
	int noanswer_type; /* -1 none, 0 any */
	int close;
	int goaway;
	uint16_t goaway_code;
	uint32_t goaway_retry;
	int malformed;
	int wrongtype;
	int strayid;
	int health; /* -1: flag value */
};

struct pending;

struct fconn {
	struct fconn *prev, *next; /* all connections, freed at exit */
	struct bufferevent *bev;
	struct ps_reader *rd;
	int hello_done;
	int closing;
	struct pending *pend; /* outstanding (delayed or unanswered) */
	int npend;
};

struct pending {
	struct pending *next;
	struct fconn *fc;
	uint32_t id;
	struct evbuffer *out; /* NULL: never answered */
	struct event *timer;
};

static struct event_base *base;
static struct dep *deps;
static size_t ndeps;
static const char *ns = "default";
static int max_inflight = 16;
static int health_bits = PS_HEALTH_ALL;
static int unsupported_pins;
static size_t metrics_bytes;
static FILE *wlog;
static FILE *trace;
static const char *control_path;
static uint64_t rv_counter = 1000;
static unsigned long requests;
static struct fconn *conns;

static void
die(const char *msg)
{
	fprintf(stderr, "fake-core: %s: %s\n", msg, strerror(errno));
	exit(1);
}

static int
type_by_name(const char *s)
{
	int t;

	if (strcmp(s, "*") == 0)
		return 0;
	for (t = 1; t <= PS_T_MAX; t++)
		if (strcmp(s, ps_type_name((uint16_t)t)) == 0)
			return t;
	return -1;
}

static void
read_control(struct control *c)
{
	char line[256], a[32], b[32];
	unsigned long x, y;
	FILE *f;
	int n;

	memset(c, 0, sizeof(*c));
	c->error_type = -1;
	c->noanswer_type = -1;
	c->health = -1;
	if (control_path == NULL || (f = fopen(control_path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		x = y = 0;
		n = sscanf(line, "%31s %31s %lu %lu", a, b, &x, &y);
		if (n >= 3 && strcmp(a, "error") == 0) {
			c->error_type = type_by_name(b);
			c->error_code = (uint16_t)x;
			c->error_retry = n >= 4 ? (uint32_t)y : 0;
		} else if (n >= 2 && strcmp(a, "delay") == 0)
			c->delay_ms = atoi(b);
		else if (n >= 2 && strcmp(a, "noanswer") == 0)
			c->noanswer_type = type_by_name(b);
		else if (n >= 1 && strcmp(a, "close") == 0)
			c->close = 1;
		else if (n >= 2 && strcmp(a, "goaway") == 0) {
			c->goaway = 1;
			c->goaway_code = (uint16_t)atoi(b);
			c->goaway_retry = n >= 3 ? (uint32_t)x : 0;
		} else if (n >= 1 && strcmp(a, "malformed") == 0)
			c->malformed = 1;
		else if (n >= 1 && strcmp(a, "wrongtype") == 0)
			c->wrongtype = 1;
		else if (n >= 1 && strcmp(a, "strayid") == 0)
			c->strayid = 1;
		else if (n >= 2 && strcmp(a, "health") == 0)
			c->health = atoi(b);
	}
	fclose(f);
}

static struct dep *
find_dep(const char *name)
{
	size_t i;

	for (i = 0; i < ndeps; i++)
		if (strcmp(deps[i].name, name) == 0)
			return &deps[i];
	return NULL;
}

static int
cmp_dep(const void *a, const void *b)
{
	return strcmp(
	    ((const struct dep *)a)->name, ((const struct dep *)b)->name);
}

static void
add_dep(const char *name, uint32_t desired)
{
	struct dep *d;

	if (ps_valid_name(name, strlen(name)) != PS_OK ||
	    ndeps >= MAX_DEPLOYMENTS || find_dep(name) != NULL) {
		fprintf(stderr, "fake-core: bad deployment \"%s\"\n", name);
		exit(2);
	}
	d = &deps[ndeps++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->desired = desired;
	d->generation = 1;
	snprintf(
	    d->rv, sizeof(d->rv), "%llu", (unsigned long long)++rv_counter);
}

/* "a=3,b=2" -> calls fn(name, n). */
static void
parse_pairs(const char *s, void (*fn)(const char *, uint32_t))
{
	char *copy = strdup(s), *tok, *save = NULL, *eq;

	if (copy == NULL)
		die("strdup");
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(tok, '=')) == NULL) {
			fprintf(
			    stderr, "fake-core: expected NAME=N: %s\n", tok);
			exit(2);
		}
		*eq = '\0';
		fn(tok, (uint32_t)strtoul(eq + 1, NULL, 10));
	}
	free(copy);
}

static void
add_dep_pair(const char *name, uint32_t n)
{
	add_dep(name, n);
}

static void
add_pin(const char *name, uint32_t n)
{
	struct dep *d = find_dep(name);

	if (d == NULL) {
		fprintf(stderr, "fake-core: pin for unknown %s\n", name);
		exit(2);
	}
	d->pinned = 1;
	d->pin = n;
}

static void
conn_free(struct fconn *fc)
{
	struct pending *p;

	while ((p = fc->pend) != NULL) {
		fc->pend = p->next;
		if (p->timer != NULL)
			event_free(p->timer);
		if (p->out != NULL)
			evbuffer_free(p->out);
		free(p);
	}
	if (fc->prev != NULL)
		fc->prev->next = fc->next;
	else
		conns = fc->next;
	if (fc->next != NULL)
		fc->next->prev = fc->prev;
	bufferevent_free(fc->bev);
	ps_reader_free(fc->rd);
	free(fc);
}

static void
close_after_flush_cb(struct bufferevent *bev, void *arg)
{
	struct fconn *fc = arg;

	(void)bev;
	if (evbuffer_get_length(bufferevent_get_output(fc->bev)) == 0)
		conn_free(fc);
}

/*
 * Flush what is queued, then close.  Only marks the connection: read_cb,
 * the only caller's caller, frees it once it stops touching it.
 */
static void
conn_close(struct fconn *fc)
{
	fc->closing = 1;
	bufferevent_disable(fc->bev, EV_READ);
	bufferevent_setcb(fc->bev, NULL, close_after_flush_cb, NULL, fc);
}

static void
send_error(struct evbuffer *out, uint16_t type, uint32_t id, uint16_t code,
    uint32_t retry, const char *msg)
{
	uint8_t frame[PS_MAX_FRAME];
	struct ps_error e;
	size_t len;

	memset(&e, 0, sizeof(e));
	e.code = code;
	e.retry_after = retry;
	snprintf(e.message, sizeof(e.message), "%s", msg);
	if (ps_codec_encode_error(frame, sizeof(frame), type, id, &e, &len) ==
	    PS_OK)
		evbuffer_add(out, frame, len);
}

static void
goaway(struct fconn *fc, uint16_t code, uint32_t retry, const char *why)
{
	fprintf(stderr, "fake-core: GOAWAY %s: %s\n", ps_code_name(code), why);
	send_error(
	    bufferevent_get_output(fc->bev), PS_T_GOAWAY, 0, code, retry, why);
	conn_close(fc);
}

static void
add_frame(struct evbuffer *out, const uint8_t *f, size_t len, int rc)
{
	if (rc == PS_OK)
		evbuffer_add(out, f, len);
	else
		fprintf(stderr, "fake-core: encode: %s\n", ps_strerror(rc));
}

static void
answer_list(struct evbuffer *out, uint16_t type, uint32_t id)
{
	uint8_t frame[PS_MAX_FRAME];
	struct ps_list_enc e;
	struct ps_pin pin;
	size_t i, len;
	int rc;

	ps_codec_list_begin(&e, frame, sizeof(frame), type, id);
	for (i = 0; i < ndeps; i++) {
		if (type == PS_T_PIN_LIST && !deps[i].pinned)
			continue;
		memcpy(pin.name, deps[i].name, sizeof(pin.name));
		pin.replicas = deps[i].pin;
		for (;;) {
			rc = type == PS_T_LIST
			    ? ps_codec_list_add_name(&e, deps[i].name)
			    : ps_codec_list_add_pin(&e, &pin);
			if (rc != PS_ERR_NOSPACE)
				break;
			rc = ps_codec_list_finish(&e, 1, &len);
			add_frame(out, frame, len, rc);
			ps_codec_list_begin(&e, frame, sizeof(frame), type, id);
		}
	}
	rc = ps_codec_list_finish(&e, 0, &len);
	add_frame(out, frame, len, rc);
}

static void
answer_metrics(struct evbuffer *out, uint32_t id)
{
	uint8_t frame[PS_MAX_FRAME];
	char *text;
	size_t tl, cap = metrics_bytes + 256, off = 0, chunk, len;
	int n, i = 0, rc;

	if ((text = malloc(cap)) == NULL)
		die("malloc");
	n = snprintf(text, cap,
	    "# TYPE replicad_core_fake_requests_total counter\n"
	    "replicad_core_fake_requests_total %lu\n",
	    requests);
	tl = (size_t)n;
	while (tl < metrics_bytes) {
		n = snprintf(text + tl, cap - tl,
		    "replicad_core_fake_pad{i=\"%d\"} 0\n", i++);
		if (n < 0 || (size_t)n >= cap - tl)
			break;
		tl += (size_t)n;
	}
	do {
		chunk = tl - off;
		if (chunk > PS_MAX_FRAME - PS_HDR_LEN)
			chunk = PS_MAX_FRAME - PS_HDR_LEN;
		rc = ps_codec_encode_metrics(frame, sizeof(frame), id,
		    off + chunk < tl, text + off, chunk, &len);
		add_frame(out, frame, len, rc);
		off += chunk;
	} while (off < tl);
	free(text);
}

static void
wlog_line(const char *what, const struct ps_write_req *w, uint32_t previous,
    const char *outcome)
{
	if (wlog == NULL)
		return;
	fprintf(wlog, "%s name=%s replicas=%u previous=%u identity=%s %s\n",
	    what, w->name, w->replicas, previous, w->identity, outcome);
	fflush(wlog);
}

static void
bump(struct dep *d)
{
	d->generation++;
	snprintf(
	    d->rv, sizeof(d->rv), "%llu", (unsigned long long)++rv_counter);
}

/* Builds the answer to a valid request into `out`; <0 = protocol error. */
static int
answer(const struct ps_frame *f, const struct control *c, struct evbuffer *out)
{
	uint8_t frame[PS_MAX_FRAME];
	uint16_t type = f->hdr.type;
	uint32_t id = f->hdr.id, prev;
	struct ps_name_req nr;
	struct ps_write_req wr;
	struct ps_deployment dr;
	struct ps_scale_ok so;
	struct ps_health h;
	struct ps_pin pin;
	struct dep *d;
	size_t len;
	int rc, hb;

	switch (type) {
	case PS_T_LIST:
	case PS_T_HEALTH:
	case PS_T_PIN_LIST:
	case PS_T_METRICS:
		rc = ps_codec_decode_empty(f);
		break;
	case PS_T_GET:
	case PS_T_PIN_GET:
		rc = ps_codec_decode_name_req(f, &nr);
		break;
	default:
		rc = ps_codec_decode_write_req(f, &wr);
		break;
	}
	if (rc != PS_OK)
		return rc;
	if (c->error_type == 0 || c->error_type == type) {
		send_error(out, type, id, c->error_code, c->error_retry,
		    "injected error");
		return 0;
	}
	if (unsupported_pins && type >= PS_T_PIN_LIST &&
	    type <= PS_T_PIN_DELETE) {
		send_error(out, type, id, PS_E_UNSUPPORTED, 0,
		    "pins are not supported yet");
		return 0;
	}
	switch (type) {
	case PS_T_LIST:
	case PS_T_PIN_LIST:
		answer_list(out, type, id);
		return 0;
	case PS_T_METRICS:
		answer_metrics(out, id);
		return 0;
	case PS_T_HEALTH:
		hb = c->health >= 0 ? c->health : health_bits;
		memset(&h, 0, sizeof(h));
		h.state = (uint8_t)hb;
		h.cache_size = (uint32_t)ndeps;
		h.last_event_age_ms = hb & PS_HEALTH_WATCH ? 120 : PS_AGE_NEVER;
		h.api_ok_age_ms = hb & PS_HEALTH_API_OK ? 80 : PS_AGE_NEVER;
		if (!(hb & PS_HEALTH_SYNCED))
			snprintf(
			    h.message, sizeof(h.message), "cache not synced");
		rc = ps_codec_encode_health(frame, sizeof(frame), id, &h, &len);
		add_frame(out, frame, len, rc);
		return 0;
	default:
		break;
	}
	d = find_dep(
	    type == PS_T_GET || type == PS_T_PIN_GET ? nr.name : wr.name);
	if (d == NULL) {
		if (type == PS_T_SCALE || type == PS_T_PIN_PUT ||
		    type == PS_T_PIN_DELETE)
			wlog_line(ps_type_name(type), &wr, 0, "not_found");
		send_error(
		    out, type, id, PS_E_NOT_FOUND, 0, "deployment not found");
		return 0;
	}
	switch (type) {
	case PS_T_GET:
		memset(&dr, 0, sizeof(dr));
		memcpy(dr.name, d->name, sizeof(dr.name));
		snprintf(dr.namespace, sizeof(dr.namespace), "%s", ns);
		dr.desired = dr.replicas = dr.ready = dr.available =
		    dr.updated = d->desired;
		dr.generation = dr.observed_generation = d->generation;
		dr.pinned = (uint8_t)d->pinned;
		dr.pin_replicas = d->pinned ? d->pin : 0;
		memcpy(dr.resource_version, d->rv, sizeof(dr.resource_version));
		rc = ps_codec_encode_deployment(
		    frame, sizeof(frame), id, &dr, &len);
		break;
	case PS_T_SCALE:
		prev = d->desired;
		if (prev != wr.replicas) {
			d->desired = wr.replicas;
			bump(d);
		}
		wlog_line("SCALE", &wr, prev, "ok");
		memset(&so, 0, sizeof(so));
		memcpy(so.name, d->name, sizeof(so.name));
		so.replicas = d->desired;
		so.previous = prev;
		so.synced = 1;
		memcpy(so.resource_version, d->rv, sizeof(so.resource_version));
		rc = ps_codec_encode_scale_ok(
		    frame, sizeof(frame), id, &so, &len);
		break;
	case PS_T_PIN_GET:
	case PS_T_PIN_DELETE:
		if (!d->pinned) {
			if (type == PS_T_PIN_DELETE)
				wlog_line("PIN_DELETE", &wr, 0, "not_found");
			send_error(out, type, id, PS_E_NOT_FOUND, 0,
			    "no pin for this deployment");
			return 0;
		}
		memcpy(pin.name, d->name, sizeof(pin.name));
		pin.replicas = d->pin;
		if (type == PS_T_PIN_DELETE) {
			wr.replicas = d->pin;
			wlog_line("PIN_DELETE", &wr, d->pin, "ok");
			d->pinned = 0;
			d->pin = 0;
		}
		rc = ps_codec_encode_pin(
		    frame, sizeof(frame), type, id, &pin, &len);
		break;
	default: /* PIN_PUT: store the pin; the reconciler applies it */
		prev = d->pinned ? d->pin : 0;
		d->pinned = 1;
		d->pin = wr.replicas;
		if (d->desired != wr.replicas) {
			d->desired = wr.replicas;
			bump(d);
		}
		wlog_line("PIN_PUT", &wr, prev, "ok");
		memcpy(pin.name, d->name, sizeof(pin.name));
		pin.replicas = d->pin;
		rc = ps_codec_encode_pin(
		    frame, sizeof(frame), type, id, &pin, &len);
		break;
	}
	add_frame(out, frame, len, rc);
	return 0;
}

static void
pending_remove(struct fconn *fc, struct pending *p)
{
	struct pending **pp;

	for (pp = &fc->pend; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			fc->npend--;
			return;
		}
	}
}

static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct fconn *fc = p->fc;

	(void)fd;
	(void)what;
	pending_remove(fc, p);
	bufferevent_write_buffer(fc->bev, p->out);
	evbuffer_free(p->out);
	event_free(p->timer);
	free(p);
}

static int
outstanding(struct fconn *fc, uint32_t id)
{
	struct pending *p;

	for (p = fc->pend; p != NULL; p = p->next)
		if (p->id == id)
			return 1;
	return 0;
}

static void
handle_hello(struct fconn *fc, const struct ps_frame *f)
{
	uint8_t frame[64];
	struct ps_hello h;
	struct ps_hello_ok ok;
	uint16_t v;
	size_t len;
	int rc;

	if (f->hdr.type != PS_T_HELLO) {
		goaway(fc, PS_E_PROTOCOL, 0, "HELLO expected");
		return;
	}
	if ((rc = ps_codec_decode_hello(f, &h)) != PS_OK) {
		goaway(fc, PS_E_PROTOCOL, 0, ps_strerror(rc));
		return;
	}
	if (ps_codec_pick_version(&h, &v) != PS_OK) {
		send_error(bufferevent_get_output(fc->bev), PS_T_HELLO, 0,
		    PS_E_VERSION, 0, "this core speaks proto-socket version 1");
		conn_close(fc);
		return;
	}
	ok.version = v;
	ok.max_inflight = (uint16_t)max_inflight;
	ok.max_frame = PS_MAX_FRAME;
	if (ps_codec_encode_hello_ok(frame, sizeof(frame), &ok, &len) !=
	    PS_OK) {
		conn_close(fc);
		return;
	}
	bufferevent_write(fc->bev, frame, len);
	fc->hello_done = 1;
}

static void
handle_request(struct fconn *fc, const struct ps_frame *f)
{
	struct control c;
	struct evbuffer *out;
	struct pending *p;
	struct timeval tv;
	uint8_t *raw;
	size_t len;
	int rc;

	if (f->hdr.type == PS_T_HELLO) {
		goaway(fc, PS_E_PROTOCOL, 0, "second HELLO");
		return;
	}
	if (outstanding(fc, f->hdr.id)) {
		goaway(fc, PS_E_PROTOCOL, 0, "id reused while outstanding");
		return;
	}
	requests++;
	if (trace != NULL) {
		fprintf(trace, "%s %u\n", ps_type_name(f->hdr.type), f->hdr.id);
		fflush(trace);
	}
	read_control(&c);
	if (c.close) {
		conn_close(fc);
		return;
	}
	if (c.goaway) {
		goaway(fc, c.goaway_code, c.goaway_retry, "told to go away");
		return;
	}
	if ((out = evbuffer_new()) == NULL)
		die("evbuffer_new");
	if (fc->npend >= max_inflight) {
		send_error(out, f->hdr.type, f->hdr.id, PS_E_BUSY, 1,
		    "too many requests in flight");
	} else if ((rc = answer(f, &c, out)) != PS_OK) {
		evbuffer_free(out);
		goaway(fc, PS_E_PROTOCOL, 0, ps_strerror(rc));
		return;
	}
	len = evbuffer_get_length(out);
	if (len >= PS_HDR_LEN && (c.malformed || c.wrongtype)) {
		raw = evbuffer_pullup(out, PS_HDR_LEN);
		if (c.malformed)
			raw[15] = 1; /* reserved != 0 */
		else
			raw[5] = (uint8_t)(f->hdr.type == PS_T_GET ? PS_T_HEALTH
			                                           : PS_T_GET);
	}
	if (c.strayid) {
		struct evbuffer *stray = evbuffer_new();

		if (stray == NULL)
			die("evbuffer_new");
		send_error(stray, f->hdr.type, f->hdr.id + 100000,
		    PS_E_NOT_FOUND, 0, "stray");
		bufferevent_write_buffer(fc->bev, stray);
		evbuffer_free(stray);
	}
	if (c.noanswer_type == 0 || c.noanswer_type == f->hdr.type ||
	    c.delay_ms > 0) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			die("calloc");
		p->fc = fc;
		p->id = f->hdr.id;
		p->next = fc->pend;
		fc->pend = p;
		fc->npend++;
		if (c.noanswer_type == 0 || c.noanswer_type == f->hdr.type) {
			evbuffer_free(out);
			return;
		}
		p->out = out;
		tv.tv_sec = c.delay_ms / 1000;
		tv.tv_usec = (c.delay_ms % 1000) * 1000;
		if ((p->timer = evtimer_new(base, delayed_cb, p)) == NULL)
			die("evtimer_new");
		evtimer_add(p->timer, &tv);
		return;
	}
	bufferevent_write_buffer(fc->bev, out);
	evbuffer_free(out);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct fconn *fc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v;
	struct ps_frame f;
	size_t used;
	int rc;

	while (!fc->closing && evbuffer_get_length(in) > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		rc = ps_reader_read(fc->rd, v.iov_base, v.iov_len, &used, &f);
		evbuffer_drain(in, used);
		if (rc == PS_AGAIN)
			continue;
		if (rc != PS_OK) {
			goaway(fc, PS_E_PROTOCOL, 0, ps_strerror(rc));
			break;
		}
		if (!fc->hello_done)
			handle_hello(fc, &f);
		else
			handle_request(fc, &f);
	}
	if (fc->closing &&
	    evbuffer_get_length(bufferevent_get_output(fc->bev)) == 0)
		conn_free(fc); /* else close_after_flush_cb frees it */
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct fconn *fc;
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	/* Like the real core: check the peer's uid before reading. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    cred.uid != getuid()) {
		close(fd);
		return;
	}
	if ((fc = calloc(1, sizeof(*fc))) == NULL ||
	    (fc->rd = ps_reader_new(PS_DIR_REQUEST)) == NULL ||
	    (fc->bev = bufferevent_socket_new(
	         base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		die("accept");
	fc->next = conns;
	if (conns != NULL)
		conns->prev = fc;
	conns = fc;
	bufferevent_setcb(fc->bev, read_cb, NULL, event_cb, fc);
	bufferevent_enable(fc->bev, EV_READ | EV_WRITE);
}

static void
term_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	event_base_loopexit(base, NULL);
}

int
main(int argc, char *argv[])
{
	static const struct option lo[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"deployments", required_argument, NULL, 'd'},
	    {"generate", required_argument, NULL, 'g'},
	    {"pins", required_argument, NULL, 'p'},
	    {"namespace", required_argument, NULL, 'n'},
	    {"max-inflight", required_argument, NULL, 'm'},
	    {"health", required_argument, NULL, 'h'},
	    {"unsupported-pins", no_argument, NULL, 'u'},
	    {"metrics-bytes", required_argument, NULL, 'M'},
	    {"log", required_argument, NULL, 'l'},
	    {"control", required_argument, NULL, 'c'},
	    {"trace", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *dlist = NULL, *plist = NULL;
	struct sockaddr_un sun;
	struct evconnlistener *l;
	struct event *ev_term, *ev_int;
	long gen = 0, i;
	char name[32];
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'd':
			dlist = optarg;
			break;
		case 'g':
			gen = strtol(optarg, NULL, 10);
			break;
		case 'p':
			plist = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 'm':
			max_inflight = atoi(optarg);
			break;
		case 'h':
			health_bits = atoi(optarg);
			break;
		case 'u':
			unsupported_pins = 1;
			break;
		case 'M':
			metrics_bytes = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			if ((wlog = fopen(optarg, "a")) == NULL)
				die(optarg);
			break;
		case 'c':
			control_path = optarg;
			break;
		case 't':
			if ((trace = fopen(optarg, "a")) == NULL)
				die(optarg);
			break;
		default:
			fprintf(stderr, "fake-core: see the file header\n");
			return 2;
		}
	}
	if (path == NULL || max_inflight < 1 ||
	    max_inflight > PS_MAX_INFLIGHT || gen < 0 ||
	    gen > MAX_DEPLOYMENTS) {
		fprintf(stderr, "fake-core: --socket PATH is required\n");
		return 2;
	}
	if ((deps = calloc(MAX_DEPLOYMENTS, sizeof(*deps))) == NULL)
		die("calloc");
	if (dlist != NULL)
		parse_pairs(dlist, add_dep_pair);
	for (i = 0; i < gen; i++) {
		snprintf(name, sizeof(name), "gen-%06ld", i);
		add_dep(name, 1);
	}
	qsort(deps, ndeps, sizeof(*deps), cmp_dep);
	if (plist != NULL)
		parse_pairs(plist, add_pin);

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		die("event_base_new");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "fake-core: socket path too long\n");
		return 2;
	}
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	l = evconnlistener_new_bind(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	if (l == NULL)
		die(path);
	ev_term = evsignal_new(base, SIGTERM, term_cb, NULL);
	ev_int = evsignal_new(base, SIGINT, term_cb, NULL);
	if (ev_term == NULL || ev_int == NULL || event_add(ev_term, NULL) ||
	    event_add(ev_int, NULL))
		die("signals");
	fprintf(stderr, "fake-core: listening on %s with %zu deployments\n",
	    path, ndeps);
	event_base_dispatch(base);
	while (conns != NULL)
		conn_free(conns);
	evconnlistener_free(l);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(base);
	unlink(path);
	free(deps);
	if (wlog != NULL)
		fclose(wlog);
	if (trace != NULL)
		fclose(trace);
	return 0;
}
