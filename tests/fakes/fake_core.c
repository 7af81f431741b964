/*
 * fake_core.c — stands in for replicad-core in the gateway's tests.  The
 * protocol is the real core's own: connections, HELLO, the peer check, id
 * rules, BUSY over max_inflight, GOAWAY PROTOCOL on violations and the
 * multi-frame answers are core/ipc's socket server, linked in.  This file
 * is only what a real core adds: one scripted handler per request type
 * over an in-memory table of deployments and pins, and a control file to
 * make answers misbehave.  Faults no real server would produce on the
 * wire are fake_proxy.c's, which sits between the gateway and the server.
 *
 *   fake-core --socket PATH [--deployments a=3,b=2] [--generate N]
 *             [--pins a=3] [--namespace NS] [--namespaces A,B]
 *             [--max-inflight N]
 *             [--health BITS] [--unsupported-pins] [--metrics-bytes N]
 *             [--log FILE] [--trace FILE] [--control FILE]
 *
 * Namespaces (proto-socket version 3): --namespaces A,B lists the ones
 * served, the first being the default (sent in HELLO's answer); without
 * it the one --namespace (default "default").  A deployment or pin is
 * "ns/name=N" in --deployments and --pins, or "name=N" in the default
 * namespace.  A request for a namespace outside the set is NOT_FOUND with
 * the real core's message naming the set; LIST and PIN_LIST with "" walk
 * every namespace, sorted by namespace then name.
 *
 * --trace appends "TYPE id" for every request received, before answering,
 * so a test can wait until a request has reached the core.
 * --log appends one line per write it performs (SCALE, PIN_PUT,
 * PIN_DELETE) with the identity it received, for tests to assert on.
 * --unsupported-pins registers no PIN_* handler: the server answers them
 * UNSUPPORTED, as a core without a pin store does.
 *
 * --control FILE is re-read for every request; each line is one
 * directive (TYPE is a message name such as GET or SCALE, or '*').
 * About answers (this file's handlers):
 *   error TYPE CODE [RETRY_AFTER]  answer TYPE with that error code
 *   delay MS                       hold every answer for MS milliseconds
 *   noanswer TYPE                  never answer TYPE (held until the
 *                                  connection goes)
 *   health BITS                    override the HEALTH state bits (of
 *                                  the default namespace, so the top level)
 *   nshealth NS BITS               override one namespace's state bits
 * Wire faults (fake_proxy.c):
 *   close                          close the connection on a request
 *   goaway CODE [RETRY_AFTER]      send GOAWAY, then close
 *   malformed                      answer with a non-zero reserved field
 *   wrongtype                      answer with another message type
 *   strayid                        first answer an id that was never sent
 * Writing the file atomically (write a temp file, rename) makes a change
 * take effect from the next request on.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"
#include "proto-socket/ps_codec.h"
#include "core/ipc/ipc_server.h"
#include "core/log.h"
#include "tests/fakes/fake_proxy.h"

#define MAX_DEPLOYMENTS (PS_MAX_LIST_TOTAL)

struct dep {
	char ns[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	uint32_t desired;
	uint64_t generation;
	char rv[PS_MAX_RV + 1];
	int pinned;
	uint32_t pin;
	uint8_t pin_state; /* PS_PIN_SUSPENDED when stored so */
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
	int health;                      /* -1: flag value */
	int nshealth[PS_MAX_NAMESPACES]; /* -1: as the default's flag value */
};

/* One row per request type: its answer, given the control directives. */
struct row {
	uint16_t type;
	void (*answer)(struct ipcs_req *, const struct control *);
	int pins; /* a PIN_* type (--unsupported-pins) */
};

/* A request whose answer is held (delay, noanswer). */
struct hold {
	struct ipcs_req *req;
	const struct row *row;
	struct control c;    /* as read when the request came */
	struct event *timer; /* NULL: held until the connection goes */
};

static struct event_base *base;
static struct ipcs *srv;
static struct dep *deps; /* sorted by name */
static size_t ndeps;
static char nss[PS_MAX_NAMESPACES][PS_MAX_NAMESPACE + 1]; /* [0]: default */
static size_t nns;
static char ns_set_text[PS_MAX_MESSAGE + 1]; /* "a, b" */
static int health_bits = PS_HEALTH_ALL;
static size_t metrics_bytes;
static FILE *wlog;
static FILE *trace;
static const char *control_path;
static uint64_t rv_counter = 1000;
static unsigned long requests;

static void
die(const char *msg)
{
	fprintf(stderr, "fake-core: %s: %s\n", msg, strerror(errno));
	exit(1);
}

/* ------------------------------------------------------------------ */
/* The control file                                                    */

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

static int
type_matches(int want, uint16_t type)
{
	return want == 0 || want == (int)type;
}

static void
read_control(struct control *c)
{
	char line[256], a[32], b[PS_MAX_NAMESPACE + 1];
	unsigned long x, y;
	FILE *f;
	size_t i;
	int n;

	memset(c, 0, sizeof(*c));
	c->error_type = -1;
	c->noanswer_type = -1;
	c->health = -1;
	for (i = 0; i < PS_MAX_NAMESPACES; i++)
		c->nshealth[i] = -1;
	if (control_path == NULL || (f = fopen(control_path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		x = y = 0;
		n = sscanf(line, "%31s %63s %lu %lu", a, b, &x, &y);
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
		else if (n >= 3 && strcmp(a, "nshealth") == 0) {
			for (i = 0; i < nns; i++)
				if (strcmp(nss[i], b) == 0)
					c->nshealth[i] = (int)x;
		}
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

static int
served(const char *ns)
{
	size_t i;

	for (i = 0; i < nns; i++)
		if (strcmp(nss[i], ns) == 0)
			return 1;
	return 0;
}

/* The real core's refusal of a namespace it does not serve.  0 when
 * `ns` is served, else -1 after answering. */
static int
check_ns(struct ipcs_req *req, const char *ns)
{
	if (served(ns))
		return 0;
	(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
	    "namespace \"%s\" is not served by this replicad (namespaces: %s)",
	    ns, ns_set_text);
	return -1;
}

static struct dep *
find_dep(const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ndeps; i++)
		if (strcmp(deps[i].ns, ns) == 0 &&
		    strcmp(deps[i].name, name) == 0)
			return &deps[i];
	return NULL;
}

static int
cmp_dep(const void *a, const void *b)
{
	const struct dep *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c != 0 ? c : strcmp(x->name, y->name);
}

/* "ns/name" -> ns, name; "name" -> the default namespace. */
static void
split_ns(const char *s, char ns[PS_MAX_NAMESPACE + 1], const char **name)
{
	const char *slash = strchr(s, '/');

	if (slash == NULL) {
		memcpy(ns, nss[0], PS_MAX_NAMESPACE + 1);
		*name = s;
		return;
	}
	if ((size_t)(slash - s) > PS_MAX_NAMESPACE ||
	    ps_valid_namespace(s, (size_t)(slash - s)) != PS_OK) {
		fprintf(stderr, "fake-core: bad namespace in \"%s\"\n", s);
		exit(2);
	}
	memcpy(ns, s, (size_t)(slash - s));
	ns[slash - s] = '\0';
	*name = slash + 1;
}

static void
add_dep(const char *qname, uint32_t desired)
{
	char ns[PS_MAX_NAMESPACE + 1];
	const char *name;
	struct dep *d;

	split_ns(qname, ns, &name);
	if (ps_valid_name(name, strlen(name)) != PS_OK ||
	    ndeps >= MAX_DEPLOYMENTS || find_dep(ns, name) != NULL) {
		fprintf(stderr, "fake-core: bad deployment \"%s\"\n", qname);
		exit(2);
	}
	d = &deps[ndeps++];
	memset(d, 0, sizeof(*d));
	snprintf(d->ns, sizeof(d->ns), "%s", ns);
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
add_pin(const char *qname, uint32_t n)
{
	char ns[PS_MAX_NAMESPACE + 1];
	const char *name;
	struct dep *d;

	split_ns(qname, ns, &name);
	if ((d = find_dep(ns, name)) == NULL) {
		fprintf(stderr, "fake-core: pin for unknown %s\n", qname);
		exit(2);
	}
	d->pinned = 1;
	d->pin = n;
}

static void
bump(struct dep *d)
{
	d->generation++;
	snprintf(
	    d->rv, sizeof(d->rv), "%llu", (unsigned long long)++rv_counter);
}

static void
wlog_line(const char *what, const struct ps_write_req *w, uint32_t replicas,
    uint32_t previous, const char *outcome)
{
	if (wlog == NULL)
		return;
	fprintf(wlog,
	    "%s namespace=%s name=%s replicas=%u previous=%u identity=%s "
	    "%s\n",
	    what, w->namespace, w->name, replicas, previous, w->identity,
	    outcome);
	fflush(wlog);
}

/* ------------------------------------------------------------------ */
/* Answers, one per request type                                       */

/* Multi-frame answers walk the table; the server pulls items. */
struct walk {
	size_t i;
	char ns[PS_MAX_NAMESPACE + 1]; /* "": every namespace */
};

/* NULL after answering (out of memory, a namespace not served). */
static struct walk *
walk_new(struct ipcs_req *req)
{
	const struct ps_ns_req *nr = ipcs_req_ns(req);
	struct walk *w;

	if (nr != NULL && nr->namespace[0] != '\0' &&
	    check_ns(req, nr->namespace) != 0)
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 0, "out of memory");
		return NULL;
	}
	if (nr != NULL)
		memcpy(w->ns, nr->namespace, sizeof(w->ns));
	return w;
}

/* The next deployment of the walk's namespace(s), or NULL. */
static const struct dep *
walk_next(struct walk *w)
{
	const struct dep *d;

	while (w->i < ndeps) {
		d = &deps[w->i++];
		if (w->ns[0] == '\0' || strcmp(d->ns, w->ns) == 0)
			return d;
	}
	return NULL;
}

static int
next_name_cb(
    void *arg, char namespace[PS_MAX_NAMESPACE + 1], char name[PS_MAX_NAME + 1])
{
	const struct dep *d = walk_next(arg);

	if (d == NULL)
		return 0;
	memcpy(namespace, d->ns, PS_MAX_NAMESPACE + 1);
	memcpy(name, d->name, PS_MAX_NAME + 1);
	return 1;
}

static int
next_pin_cb(void *arg, struct ps_pin *pin)
{
	const struct dep *d;

	while ((d = walk_next(arg)) != NULL) {
		if (!d->pinned)
			continue;
		memset(pin, 0, sizeof(*pin));
		memcpy(pin->namespace, d->ns, sizeof(pin->namespace));
		memcpy(pin->name, d->name, sizeof(pin->name));
		pin->replicas = d->pin;
		pin->state = d->pin_state;
		return 1;
	}
	return 0;
}

static void
answer_list(struct ipcs_req *req, const struct control *c)
{
	struct walk *w;

	(void)c;
	if ((w = walk_new(req)) != NULL)
		(void)ipcs_answer_names(req, next_name_cb, free, w);
}

static void
answer_pin_list(struct ipcs_req *req, const struct control *c)
{
	struct walk *w;

	(void)c;
	if ((w = walk_new(req)) != NULL)
		(void)ipcs_answer_pins(req, next_pin_cb, free, w);
}

static int
next_text_cb(void *arg, char *buf, size_t cap)
{
	return evbuffer_remove(arg, buf, cap);
}

static void
free_text_cb(void *arg)
{
	evbuffer_free(arg);
}

/*
 * The fake's request counter, --metrics-bytes of padding (to make the
 * answer span frames), then the real server's own counters.
 */
static void
answer_metrics(struct ipcs_req *req, const struct control *c)
{
	struct evbuffer *text;
	int bad, i = 0;

	(void)c;
	if ((text = evbuffer_new()) == NULL) {
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 0, "out of memory");
		return;
	}
	bad = evbuffer_add_printf(text,
	          "# TYPE replicad_core_fake_requests_total counter\n"
	          "replicad_core_fake_requests_total %lu\n",
	          requests) < 0;
	while (!bad && evbuffer_get_length(text) < metrics_bytes)
		bad = evbuffer_add_printf(text,
		          "replicad_core_fake_pad{i=\"%d\"} 0\n", i++) < 0;
	if (bad || ipcs_stats_prometheus(srv, text) != 0) {
		evbuffer_free(text);
		(void)ipcs_answer_error(req, PS_E_INTERNAL, 0, "out of memory");
		return;
	}
	(void)ipcs_answer_text(req, next_text_cb, free_text_cb, text);
}

/*
 * The top level is the default namespace's state (the real core's rule),
 * the cache size the sum; each namespace has its own state: the flag's,
 * the control file's "health" for the default, "nshealth NS" for any.
 */
static void
answer_health(struct ipcs_req *req, const struct control *c)
{
	int hb = c->health >= 0 ? c->health : health_bits, b;
	struct ps_health h;
	struct ps_ns_health *n;
	size_t i, j;

	memset(&h, 0, sizeof(h));
	h.ns_count = (uint8_t)nns;
	for (i = 0; i < nns; i++) {
		n = &h.ns[i];
		b = c->nshealth[i] >= 0 ? c->nshealth[i]
		    : i == 0            ? hb
		                        : health_bits;
		memcpy(n->namespace, nss[i], sizeof(n->namespace));
		n->state = (uint8_t)b;
		for (j = 0; j < ndeps; j++)
			if (strcmp(deps[j].ns, nss[i]) == 0)
				n->cache_size++;
		n->last_event_age_ms = b & PS_HEALTH_WATCH ? 120 : PS_AGE_NEVER;
		n->api_ok_age_ms = b & PS_HEALTH_API_OK ? 80 : PS_AGE_NEVER;
	}
	hb = h.ns[0].state;
	h.state = (uint8_t)hb;
	h.cache_size = (uint32_t)ndeps;
	h.last_event_age_ms = h.ns[0].last_event_age_ms;
	h.api_ok_age_ms = h.ns[0].api_ok_age_ms;
	if (!(hb & PS_HEALTH_SYNCED))
		snprintf(h.message, sizeof(h.message), "cache not synced");
	(void)ipcs_answer_health(req, &h);
}

static void
answer_get(struct ipcs_req *req, const struct control *c)
{
	const struct ps_name_req *nr = ipcs_req_name(req);
	const struct dep *d;
	struct ps_deployment dr;

	(void)c;
	if (check_ns(req, nr->namespace) != 0)
		return;
	if ((d = find_dep(nr->namespace, nr->name)) == NULL) {
		(void)ipcs_answer_error(
		    req, PS_E_NOT_FOUND, 0, "deployment not found");
		return;
	}
	memset(&dr, 0, sizeof(dr));
	memcpy(dr.name, d->name, sizeof(dr.name));
	memcpy(dr.namespace, d->ns, sizeof(dr.namespace));
	dr.desired = dr.replicas = dr.ready = dr.available = dr.updated =
	    d->desired;
	dr.generation = dr.observed_generation = d->generation;
	dr.pinned = (uint8_t)d->pinned;
	dr.pin_replicas = d->pinned ? d->pin : 0;
	dr.pin_state = d->pinned ? d->pin_state : PS_PIN_ACTIVE;
	memcpy(dr.resource_version, d->rv, sizeof(dr.resource_version));
	(void)ipcs_answer_deployment(req, &dr);
}

static void
answer_scale(struct ipcs_req *req, const struct control *c)
{
	const struct ps_write_req *w = ipcs_req_write(req);
	struct dep *d;
	struct ps_scale_ok so;
	uint32_t prev;

	(void)c;
	if (check_ns(req, w->namespace) != 0)
		return;
	if ((d = find_dep(w->namespace, w->name)) == NULL) {
		wlog_line("SCALE", w, w->replicas, 0, "not_found");
		(void)ipcs_answer_error(
		    req, PS_E_NOT_FOUND, 0, "deployment not found");
		return;
	}
	prev = d->desired;
	memset(&so, 0, sizeof(so));
	/* A dry run changes nothing and is not waited for (as the core). */
	so.dry_run = (w->flags & PS_W_DRY_RUN) != 0;
	if (prev != w->replicas && !so.dry_run) {
		d->desired = w->replicas;
		bump(d);
	}
	wlog_line("SCALE", w, w->replicas, prev, so.dry_run ? "dry_run" : "ok");
	memcpy(so.namespace, d->ns, sizeof(so.namespace));
	memcpy(so.name, d->name, sizeof(so.name));
	so.replicas = w->replicas;
	so.previous = prev;
	so.synced = !so.dry_run;
	memcpy(so.resource_version, d->rv, sizeof(so.resource_version));
	(void)ipcs_answer_scale(req, &so);
}

/* PIN_GET and PIN_DELETE: the pin there is (and, for DELETE, remove it). */
static void
answer_pin_get(struct ipcs_req *req, const struct control *c)
{
	uint16_t type = ipcs_req_type(req);
	const struct ps_write_req *w = ipcs_req_write(req);
	const struct ps_name_req *nr = ipcs_req_name(req);
	const char *ns = w != NULL ? w->namespace : nr->namespace;
	struct dep *d;
	struct ps_pin pin;

	(void)c;
	if (check_ns(req, ns) != 0)
		return;
	d = find_dep(ns, w != NULL ? w->name : nr->name);
	if (d == NULL || !d->pinned) {
		if (type == PS_T_PIN_DELETE)
			wlog_line("PIN_DELETE", w, 0, 0, "not_found");
		(void)ipcs_answer_error(req, PS_E_NOT_FOUND, 0,
		    d == NULL ? "deployment not found"
		              : "no pin for this deployment");
		return;
	}
	memset(&pin, 0, sizeof(pin));
	memcpy(pin.namespace, d->ns, sizeof(pin.namespace));
	memcpy(pin.name, d->name, sizeof(pin.name));
	pin.replicas = d->pin;
	pin.state = d->pin_state;
	if (type == PS_T_PIN_DELETE && (w->flags & PS_W_DRY_RUN)) {
		wlog_line("PIN_DELETE", w, d->pin, d->pin, "dry_run");
		pin.dry_run = 1;
	} else if (type == PS_T_PIN_DELETE) {
		wlog_line("PIN_DELETE", w, d->pin, d->pin, "ok");
		d->pinned = 0;
		d->pin = 0;
		d->pin_state = PS_PIN_ACTIVE;
	}
	(void)ipcs_answer_pin(req, &pin);
}

/* PIN_PUT: store the pin; the reconciler would apply it, so does this. */
static void
answer_pin_put(struct ipcs_req *req, const struct control *c)
{
	const struct ps_write_req *w = ipcs_req_write(req);
	struct dep *d;
	struct ps_pin pin;
	uint32_t prev;

	(void)c;
	if (check_ns(req, w->namespace) != 0)
		return;
	if ((d = find_dep(w->namespace, w->name)) == NULL) {
		wlog_line("PIN_PUT", w, w->replicas, 0, "not_found");
		(void)ipcs_answer_error(
		    req, PS_E_NOT_FOUND, 0, "deployment not found");
		return;
	}
	prev = d->pinned ? d->pin : 0;
	memset(&pin, 0, sizeof(pin));
	memcpy(pin.namespace, d->ns, sizeof(pin.namespace));
	memcpy(pin.name, d->name, sizeof(pin.name));
	pin.replicas = w->replicas;
	pin.state =
	    (w->flags & PS_W_SUSPEND) ? PS_PIN_SUSPENDED : PS_PIN_ACTIVE;
	if (w->flags & PS_W_DRY_RUN) {
		wlog_line("PIN_PUT", w, w->replicas, prev, "dry_run");
		pin.dry_run = 1;
		(void)ipcs_answer_pin(req, &pin);
		return;
	}
	d->pinned = 1;
	d->pin = w->replicas;
	d->pin_state = pin.state;
	/* What the reconciler would do, at once (not while suspended). */
	if (d->desired != w->replicas && d->pin_state == PS_PIN_ACTIVE) {
		d->desired = w->replicas;
		bump(d);
	}
	wlog_line("PIN_PUT", w, w->replicas, prev, "ok");
	(void)ipcs_answer_pin(req, &pin);
}

static struct row rows[] = {
    {PS_T_LIST, answer_list, 0},
    {PS_T_GET, answer_get, 0},
    {PS_T_SCALE, answer_scale, 0},
    {PS_T_HEALTH, answer_health, 0},
    {PS_T_PIN_LIST, answer_pin_list, 1},
    {PS_T_PIN_GET, answer_pin_get, 1},
    {PS_T_PIN_PUT, answer_pin_put, 1},
    {PS_T_PIN_DELETE, answer_pin_get, 1},
    {PS_T_METRICS, answer_metrics, 0},
};

/* ------------------------------------------------------------------ */
/* Handlers: the control file's answer directives, then the row        */

static void
reply(struct ipcs_req *req, const struct row *row, const struct control *c)
{
	if (type_matches(c->error_type, row->type)) {
		(void)ipcs_answer_error(
		    req, c->error_code, c->error_retry, "injected error");
		return;
	}
	row->answer(req, c);
}

/* The client went: the held request is released unanswered. */
static void
hold_cancel_cb(struct ipcs_req *req, void *arg)
{
	struct hold *h = arg;

	if (h->timer != NULL)
		event_free(h->timer);
	free(h);
	ipcs_req_drop(req);
}

/* A delayed answer is due (the client is still there: else cancelled). */
static void
hold_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hold *h = arg;
	struct ipcs_req *req = h->req;
	const struct row *row = h->row;
	struct control c = h->c;

	(void)fd;
	(void)what;
	ipcs_req_set_cancel(req, NULL, NULL);
	event_free(h->timer);
	free(h);
	reply(req, row, &c);
}

/* Keeps `req` for later: for delay_ms (>= 0), or until the client goes. */
static void
hold(struct ipcs_req *req, const struct row *row, const struct control *c,
    int delay_ms)
{
	struct timeval tv;
	struct hold *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto fail;
	h->req = req;
	h->row = row;
	h->c = *c;
	if (delay_ms >= 0) {
		tv.tv_sec = delay_ms / 1000;
		tv.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000;
		if ((h->timer = evtimer_new(base, hold_timer_cb, h)) == NULL ||
		    evtimer_add(h->timer, &tv) != 0)
			goto fail;
	}
	ipcs_req_set_cancel(req, hold_cancel_cb, h);
	return;

fail:
	if (h != NULL && h->timer != NULL)
		event_free(h->timer);
	free(h);
	(void)ipcs_answer_error(req, PS_E_INTERNAL, 0, "out of memory");
}

static void
handle_cb(struct ipcs_req *req, void *arg)
{
	const struct row *row = arg;
	struct control c;

	read_control(&c);
	if (type_matches(c.noanswer_type, row->type))
		hold(req, row, &c, -1);
	else if (c.delay_ms > 0)
		hold(req, row, &c, c.delay_ms);
	else
		reply(req, row, &c);
}

/* ------------------------------------------------------------------ */
/* The proxy's question: wire faults for this request                  */

static void
request_cb(const struct ps_hdr *h, struct fake_faults *f, void *arg)
{
	struct control c;

	(void)arg;
	requests++;
	if (trace != NULL) {
		fprintf(trace, "%s %u\n", ps_type_name(h->type), h->id);
		fflush(trace);
	}
	read_control(&c);
	f->close = c.close;
	f->goaway = c.goaway;
	f->goaway_code = c.goaway_code;
	f->goaway_retry = c.goaway_retry;
	f->malformed = c.malformed;
	f->wrongtype = c.wrongtype;
	f->strayid = c.strayid;
}

/* "a,b": the namespaces served, the first the default. */
static void
set_namespaces(const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	size_t off = 0;

	if (copy == NULL)
		die("strdup");
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (nns >= PS_MAX_NAMESPACES ||
		    strlen(tok) > PS_MAX_NAMESPACE ||
		    ps_valid_namespace(tok, strlen(tok)) != PS_OK ||
		    served(tok)) {
			fprintf(
			    stderr, "fake-core: bad namespace \"%s\"\n", tok);
			exit(2);
		}
		snprintf(nss[nns++], sizeof(nss[0]), "%s", tok);
		off += (size_t)snprintf(ns_set_text + off,
		    sizeof(ns_set_text) - off, "%s%s", off ? ", " : "", tok);
	}
	free(copy);
	if (nns == 0) {
		fprintf(stderr, "fake-core: no namespace\n");
		exit(2);
	}
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
	    {"namespaces", required_argument, NULL, 'N'},
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
	const char *ns = "default", *nslist = NULL;
	struct ipcs_config cfg;
	struct fake_proxy *px;
	struct event *ev_term, *ev_int;
	int max_inflight = 16, unsupported_pins = 0, ch;
	uid_t self = geteuid();
	long gen = 0, i;
	size_t r;
	char name[32];

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
		case 'N':
			nslist = optarg;
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
	set_namespaces(nslist != NULL ? nslist : ns);
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

	/* The server's lines (connections, protocol errors) go to stderr. */
	log_init("fake-core", LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		die("event_base_new");
	/*
	 * No listener of its own (path NULL): the proxy adopts each
	 * connection over a socketpair, whose peer is this process — so the
	 * one allowed uid is our own.
	 */
	ipcs_config_init(&cfg);
	cfg.uids = &self;
	cfg.nuids = 1;
	cfg.max_inflight = (unsigned)max_inflight;
	cfg.namespace = nss[0];
	if ((srv = ipcs_new(base, &cfg)) == NULL)
		die("ipcs_new");
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (rows[r].pins && unsupported_pins)
			continue;
		if (ipcs_set_handler(srv, rows[r].type, handle_cb, &rows[r]) !=
		    0)
			die("ipcs_set_handler");
	}
	if ((px = fake_proxy_new(base, path, srv, request_cb, NULL)) == NULL)
		die(path);
	ev_term = evsignal_new(base, SIGTERM, term_cb, NULL);
	ev_int = evsignal_new(base, SIGINT, term_cb, NULL);
	if (ev_term == NULL || ev_int == NULL || event_add(ev_term, NULL) ||
	    event_add(ev_int, NULL))
		die("signals");
	fprintf(stderr,
	    "fake-core: listening on %s with %zu deployments in %s\n", path,
	    ndeps, ns_set_text);
	event_base_dispatch(base);
	/* The proxy first: its links' ends close; then the server detaches
	 * what is held (hold_cancel_cb frees it). */
	fake_proxy_free(px);
	ipcs_free(srv);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(base);
	free(deps);
	if (wlog != NULL)
		fclose(wlog);
	if (trace != NULL)
		fclose(trace);
	return 0;
}
