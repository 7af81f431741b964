/*
 * ks_admin.c — /_sim/ admin routes, counters, deny rules and faults.
 *
 * The admin endpoint is for tests only: it takes no credentials and is
 * never counted, delayed or faulted.  Its inputs are still bounded (query
 * parameters through ks_query_get, fixed-size tables).  Answers are JSON
 * written with yajl_gen.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "tests/kube-sim/ks_admin.h"
#include "tests/kube-sim/ks_auth.h"
#include "tests/kube-sim/ks_ctrl.h"
#include "tests/kube-sim/ks_http.h"
#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_query.h"
#include "tests/kube-sim/ks_server.h"
#include "tests/kube-sim/ks_status.h"
#include "tests/kube-sim/ks_store.h"
#include "tests/kube-sim/ks_watch.h"
#include "tests/kube-sim/log.h"

/*
 * Where a deny or fault rule applies: `@NS` requests in namespace NS,
 * `@` alone cluster-scoped (all-namespaces) requests, no `@` everywhere.
 */
enum ns_scope { SCOPE_ANY, SCOPE_NS, SCOPE_CLUSTER };

struct ns_match {
	enum ns_scope scope;
	char ns[KS_MAX_NAMESPACE + 1];
};

struct fault_rule {
	char method[16];   /* "*" for any */
	char path[256];    /* fnmatch pattern */
	char verb[24];     /* Kubernetes verb, "*" for any */
	char resource[96]; /* resource[/sub], "*" for any */
	struct ns_match where;
	long remaining;
	struct ks_fault f;
};

struct counter {
	char verb[24];
	char *path;
	unsigned long long n;
};

struct deny_rule {
	char verb[24];
	char resource[80]; /* resource or resource/sub, "*" for any */
	struct ns_match where;
};

struct ks_admin {
	struct fault_rule faults[KS_MAX_FAULTS];
	int nfaults;
	struct counter counters[KS_MAX_COUNTERS];
	int ncounters;
	unsigned long long total;
	unsigned long long dropped; /* counts beyond the table */
	struct deny_rule deny[KS_MAX_DENY];
	int ndeny;
	long latency_ms;
	struct timespec hang_until;
};

struct ks_admin *
ks_admin_new(void)
{
	return calloc(1, sizeof(struct ks_admin));
}

static void
counters_reset(struct ks_admin *a)
{
	int i;

	for (i = 0; i < a->ncounters; i++)
		free(a->counters[i].path);
	a->ncounters = 0;
	a->total = 0;
	a->dropped = 0;
}

void
ks_admin_free(struct ks_admin *a)
{
	if (a == NULL)
		return;
	counters_reset(a);
	free(a);
}

/*
 * Cut `@NS` / `@` off s (in place) into m; 0, or -1 for a namespace that
 * is not a DNS-1123 label.
 */
static int
scope_parse(char *s, struct ns_match *m)
{
	char *at = strrchr(s, '@');

	memset(m, 0, sizeof(*m));
	if (at == NULL)
		return 0;
	*at = '\0';
	if (at[1] == '\0') {
		m->scope = SCOPE_CLUSTER;
		return 0;
	}
	if (strlen(at + 1) >= sizeof(m->ns) || !ks_valid_dns_label(at + 1))
		return -1;
	m->scope = SCOPE_NS;
	snprintf(m->ns, sizeof(m->ns), "%s", at + 1);
	return 0;
}

/* Does a request in namespace ns ("" = cluster scope) fall under m? */
static int
scope_match(const struct ns_match *m, const char *ns)
{
	switch (m->scope) {
	case SCOPE_NS:
		return strcmp(m->ns, ns) == 0;
	case SCOPE_CLUSTER:
		return ns[0] == '\0';
	default:
		return 1;
	}
}

int
ks_admin_add_deny(struct ks_admin *a, const char *spec)
{
	char buf[KS_MAX_QUERY + 1];
	const char *colon;
	struct deny_rule d;

	if (a->ndeny >= KS_MAX_DENY || strlen(spec) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", spec);
	memset(&d, 0, sizeof(d));
	if (scope_parse(buf, &d.where) != 0 ||
	    (colon = strchr(buf, ':')) == NULL ||
	    (size_t)(colon - buf) >= sizeof(d.verb) || colon == buf ||
	    strlen(colon + 1) >= sizeof(d.resource) || colon[1] == '\0')
		return -1;
	memcpy(d.verb, buf, (size_t)(colon - buf));
	d.verb[colon - buf] = '\0';
	snprintf(d.resource, sizeof(d.resource), "%s", colon + 1);
	a->deny[a->ndeny++] = d;
	return 0;
}

int
ks_admin_denied(struct ks_admin *a, const char *verb, const char *resource,
    const char *sub, const char *ns)
{
	char full[96];
	int i;

	snprintf(
	    full, sizeof(full), "%s%s%s", resource, sub[0] ? "/" : "", sub);
	for (i = 0; i < a->ndeny; i++) {
		if ((strcmp(a->deny[i].verb, "*") == 0 ||
		        strcmp(a->deny[i].verb, verb) == 0) &&
		    (strcmp(a->deny[i].resource, "*") == 0 ||
		        strcmp(a->deny[i].resource, full) == 0) &&
		    scope_match(&a->deny[i].where, ns))
			return 1;
	}
	return 0;
}

void
ks_admin_count(struct ks_admin *a, const char *verb, const char *path)
{
	struct counter *c;
	int i;

	a->total++;
	for (i = 0; i < a->ncounters; i++) {
		c = &a->counters[i];
		if (strcmp(c->verb, verb) == 0 && strcmp(c->path, path) == 0) {
			c->n++;
			return;
		}
	}
	if (a->ncounters >= KS_MAX_COUNTERS) {
		a->dropped++;
		return;
	}
	c = &a->counters[a->ncounters];
	if ((c->path = strndup(path, KS_MAX_PATH)) == NULL) {
		a->dropped++;
		return;
	}
	snprintf(c->verb, sizeof(c->verb), "%s", verb);
	c->n = 1;
	a->ncounters++;
}

int
ks_admin_fault(struct ks_admin *a, const char *method, const char *path,
    const char *verb, const char *resource, const char *ns,
    struct ks_fault *out)
{
	struct fault_rule *r;
	int i;

	for (i = 0; i < a->nfaults; i++) {
		r = &a->faults[i];
		if (strcmp(r->method, "*") != 0 &&
		    strcmp(r->method, method) != 0)
			continue;
		if (strcmp(r->verb, "*") != 0 && strcmp(r->verb, verb) != 0)
			continue;
		if (strcmp(r->resource, "*") != 0 &&
		    strcmp(r->resource, resource) != 0)
			continue;
		if (!scope_match(&r->where, ns))
			continue;
		if (fnmatch(r->path, path, 0) != 0)
			continue;
		*out = r->f;
		if (--r->remaining <= 0) {
			memmove(r, r + 1,
			    (size_t)(a->nfaults - i - 1) * sizeof(*r));
			a->nfaults--;
		}
		return 1;
	}
	return 0;
}

static long
ms_until(const struct timespec *t)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(t->tv_sec - now.tv_sec) * 1000 +
	    (t->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

long
ks_admin_delay_ms(struct ks_admin *a)
{
	long hang = ms_until(&a->hang_until);

	return hang > a->latency_ms ? hang : a->latency_ms;
}

void
ks_admin_answer_fault(struct evhttp_request *req, const struct ks_fault *f)
{
	struct ks_status st;
	char ra[16];
	const char *msg = f->message;

	if (f->close) {
		/* No answer at all: the client sees the connection drop. */
		ks_http_log(req, 0);
		evhttp_connection_free(evhttp_request_get_connection(req));
		return;
	}
	if (f->retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", f->retry_after);
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Retry-After", ra);
	}
	switch (f->status) {
	case 429:
		/* APF/max-in-flight rejections are plain text, not Status. */
		if (f->retry_after <= 0)
			evhttp_add_header(
			    evhttp_request_get_output_headers(req),
			    "Retry-After", "1");
		ks_http_reply_text(req, 429,
		    msg[0] ? msg
		           : "Too many requests, please try again later.\n");
		return;
	case 500:
		ks_status_internal(&st, msg[0] ? msg : "injected fault");
		break;
	case 503:
		ks_status_unavailable(&st,
		    msg[0] ? msg
		           : "the server is currently unable to handle "
		             "the request");
		break;
	case 504:
		ks_status_timeout(&st);
		break;
	case 410:
		ks_status_expired(&st,
		    msg[0] ? msg
		           : "The resourceVersion for the provided list is "
		             "too old.");
		break;
	case 401:
		ks_status_unauthorized(&st);
		break;
	default:
		memset(&st, 0, sizeof(st));
		st.code = f->status;
		st.reason = ks_http_reason(f->status);
		snprintf(st.message, sizeof(st.message), "%s",
		    msg[0] ? msg : "injected fault");
		break;
	}
	ks_http_reply_status(req, &st);
}

/* ---- admin routes --------------------------------------------------- */

static long
qlong(const char *query, const char *name, long def)
{
	char v[32], *end;
	long n;

	if (ks_query_get(query, name, v, sizeof(v)) != 1 || v[0] == '\0')
		return def;
	n = strtol(v, &end, 10);
	return *end == '\0' ? n : def;
}

static void
reply_ok(struct evhttp_request *req, const char *key, long long v)
{
	yajl_gen g;

	if ((g = ks_gen_new()) == NULL)
		return;
	yajl_gen_map_open(g);
	ks_gen_kstr(g, "status", "ok");
	if (key != NULL)
		ks_gen_kint(g, key, v);
	yajl_gen_map_close(g);
	ks_http_reply_gen(req, 200, g);
	yajl_gen_free(g);
}

static void
reply_error(struct evhttp_request *req, int code, const char *msg)
{
	yajl_gen g;

	if ((g = ks_gen_new()) == NULL)
		return;
	yajl_gen_map_open(g);
	ks_gen_kstr(g, "status", "error");
	ks_gen_kstr(g, "message", msg);
	yajl_gen_map_close(g);
	ks_http_reply_gen(req, code, g);
	yajl_gen_free(g);
}

static void
reply_counters(struct ks_admin *a, struct evhttp_request *req)
{
	yajl_gen g;
	int i;

	if ((g = ks_gen_new()) == NULL)
		return;
	yajl_gen_map_open(g);
	ks_gen_kint(g, "total", (long long)a->total);
	ks_gen_kint(g, "untracked", (long long)a->dropped);
	ks_gen_str(g, "requests");
	yajl_gen_array_open(g);
	for (i = 0; i < a->ncounters; i++) {
		yajl_gen_map_open(g);
		ks_gen_kstr(g, "verb", a->counters[i].verb);
		ks_gen_kstr(g, "path", a->counters[i].path);
		ks_gen_kint(g, "count", (long long)a->counters[i].n);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	ks_http_reply_gen(req, 200, g);
	yajl_gen_free(g);
}

static void
reply_state(struct ks_server *srv, struct evhttp_request *req)
{
	yajl_gen g;

	if ((g = ks_gen_new()) == NULL)
		return;
	yajl_gen_map_open(g);
	ks_gen_kint(g, "resourceVersion", (long long)ks_store_rv(srv->store));
	ks_gen_kint(
	    g, "oldestResourceVersion", (long long)ks_store_oldest(srv->store));
	ks_gen_kint(g, "history", (long long)ks_store_history_len(srv->store));
	ks_gen_kint(g, "watches", (long long)srv->nwatches);
	ks_gen_kint(g, "heldRequests", (long long)srv->ndeferred);
	ks_gen_kint(g, "deployments",
	    (long long)ks_store_count(srv->store, KS_KIND_DEPLOYMENT));
	ks_gen_kint(g, "configmaps",
	    (long long)ks_store_count(srv->store, KS_KIND_CONFIGMAP));
	ks_gen_kint(
	    g, "leases", (long long)ks_store_count(srv->store, KS_KIND_LEASE));
	ks_gen_kint(g, "controllerPaused", ks_ctrl_paused(srv->ctrl));
	ks_gen_kint(g, "controllerDelayMs", ks_ctrl_delay(srv->ctrl));
	ks_gen_kint(g, "latencyMs", srv->admin->latency_ms);
	yajl_gen_map_close(g);
	ks_http_reply_gen(req, 200, g);
	yajl_gen_free(g);
}

static void
add_fault(struct ks_admin *a, struct evhttp_request *req, const char *query)
{
	struct fault_rule *r;
	char v[256];

	if (a->nfaults >= KS_MAX_FAULTS) {
		reply_error(req, 400, "fault table full");
		return;
	}
	r = &a->faults[a->nfaults];
	memset(r, 0, sizeof(*r));
	if (ks_query_get(query, "method", r->method, sizeof(r->method)) != 1)
		snprintf(r->method, sizeof(r->method), "*");
	if (ks_query_get(query, "path", r->path, sizeof(r->path)) != 1)
		snprintf(r->path, sizeof(r->path), "*");
	/* verb/resource select by what the request does, whatever its URL
	 * (namespace, name): "create" + "events", "update" +
	 * "deployments/scale". */
	if (ks_query_get(query, "verb", r->verb, sizeof(r->verb)) != 1 ||
	    r->verb[0] == '\0')
		snprintf(r->verb, sizeof(r->verb), "*");
	/* resource[/sub][@NS]: @NS only namespace NS, @ alone only
	 * cluster-scoped (all-namespaces) requests. */
	if (ks_query_get(query, "resource", r->resource, sizeof(r->resource)) !=
	    1)
		r->resource[0] = '\0';
	if (scope_parse(r->resource, &r->where) != 0) {
		reply_error(req, 400, "resource: RESOURCE[/SUB][@NAMESPACE]");
		return;
	}
	if (r->resource[0] == '\0')
		snprintf(r->resource, sizeof(r->resource), "*");
	r->remaining = qlong(query, "count", 1);
	r->f.status = (int)qlong(query, "status", 500);
	r->f.retry_after = (int)qlong(query, "retryAfter", 0);
	if (ks_query_get(query, "close", v, sizeof(v)) == 1)
		r->f.close = ks_query_bool(v);
	if (ks_query_get(
	        query, "message", r->f.message, sizeof(r->f.message)) != 1)
		r->f.message[0] = '\0';
	if (r->remaining <= 0 ||
	    (!r->f.close && (r->f.status < 400 || r->f.status > 599))) {
		reply_error(req, 400, "count must be > 0, status 400..599");
		return;
	}
	a->nfaults++;
	reply_ok(req, "faults", a->nfaults);
}

/* The "external actor": sets spec.replicas like a helm upgrade would. */
static void
external_scale(
    struct ks_server *srv, struct evhttp_request *req, const char *query)
{
	char ns[KS_MAX_NAMESPACE + 1], name[KS_MAX_NAME + 1];
	struct ks_obj *cur, *next;
	long replicas = qlong(query, "replicas", -1);
	int r;

	if (ks_query_get(query, "namespace", ns, sizeof(ns)) != 1)
		snprintf(ns, sizeof(ns), "%s", srv->cfg.ns);
	if (ks_query_get(query, "name", name, sizeof(name)) != 1 ||
	    replicas < 0 || replicas > KS_REPLICAS_MAX) {
		reply_error(req, 400, "need name and replicas in 0..100000");
		return;
	}
	if ((cur = ks_store_get(srv->store, KS_KIND_DEPLOYMENT, ns, name)) ==
	    NULL) {
		reply_error(req, 404, "no such deployment");
		return;
	}
	if ((next = ks_obj_clone(cur)) == NULL ||
	    ks_json_set_int(
	        ks_json_get(next->doc, "spec"), "replicas", replicas) != 0 ||
	    ks_obj_bump_generation(cur, next) != 0) {
		ks_obj_unref(next);
		reply_error(req, 500, "out of memory");
		return;
	}
	r = ks_store_update(srv->store, next);
	log_info("admin: external actor set %s/%s replicas=%ld (%s)", ns, name,
	    replicas, r == 0 ? "changed" : "no-op");
	reply_ok(req, "resourceVersion", (long long)ks_store_rv(srv->store));
}

/*
 * Simulated etcd restore: deployments=a=3,ns/b=2 replace the Deployments
 * (`name=N` in namespace= or --namespace, `ns/name=N` in ns); with
 * namespace=NS only NS's Deployments are replaced (entries must be in NS),
 * without it every namespace's.  rv=N becomes the counter (default:
 * unchanged).  Open watches are closed first, cleanly, and the swap makes
 * no events: a client resuming from its old resourceVersion (<= N) sees
 * nothing of it; only a relist shows it.
 */
static void
restore(struct ks_server *srv, struct evhttp_request *req, const char *query)
{
	char ns[KS_MAX_NAMESPACE + 1], list[KS_MAX_QUERY + 1];
	char item[KS_MAX_NAMESPACE + KS_MAX_NAME + 32];
	char ens[KS_MAX_NAMESPACE + 1], name[KS_MAX_NAME + 1];
	char msg[KS_MAX_NAMESPACE + KS_MAX_NAME + 96];
	struct ks_obj **objs = NULL, **nv;
	size_t n = 0, cap = 0, len;
	const char *p = list;
	long replicas, rv;
	time_t now = time(NULL);
	int closed, one_ns;

	rv = qlong(query, "rv", (long)ks_store_rv(srv->store));
	one_ns = ks_query_get(query, "namespace", ns, sizeof(ns)) == 1 &&
	    ns[0] != '\0';
	if (!one_ns)
		snprintf(ns, sizeof(ns), "%s", srv->cfg.ns);
	if (ks_query_get(query, "deployments", list, sizeof(list)) < 0 ||
	    rv < 1 || !ks_valid_dns_label(ns)) {
		reply_error(req, 400,
		    "need deployments=[NS/]NAME=N,..., rv >= 1, a valid "
		    "namespace");
		return;
	}
	if (ks_query_get(query, "deployments", list, sizeof(list)) != 1)
		list[0] = '\0';
	while (*p != '\0') {
		len = strcspn(p, ",");
		if (len >= sizeof(item) || n >= KS_INITIAL_MAX) {
			reply_error(req, 400, "entry too long or too many");
			goto out;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len + (p[len] == ',');
		if (len == 0)
			continue;
		if (ks_deploy_entry(item, ns, ens, name, &replicas) != 0 ||
		    (one_ns && strcmp(ens, ns) != 0)) {
			snprintf(msg, sizeof(msg), "bad entry %.*s%s",
			    KS_MAX_NAMESPACE + KS_MAX_NAME + 1, item,
			    one_ns ? " (namespace= restores that namespace "
			             "only)"
			           : "");
			reply_error(req, 400, msg);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(objs, cap, sizeof(*nv))) ==
			    NULL) {
				reply_error(req, 500, "out of memory");
				goto out;
			}
			objs = nv;
		}
		if ((objs[n] = ks_obj_new_deployment(
		         ens, name, replicas, now)) == NULL) {
			reply_error(req, 500, "out of memory");
			goto out;
		}
		n++;
	}
	closed = ks_watch_close_all(srv, 0);
	len = n;
	n = 0; /* taken by ks_store_restore_ns, also on error */
	if (ks_store_restore_ns(srv->store, KS_KIND_DEPLOYMENT,
	        one_ns ? ns : NULL, objs, len, (uint64_t)rv,
	        (long long)now) != 0) {
		reply_error(req, 400, "restore failed (duplicate names?)");
		goto out;
	}
	log_info("admin: restore: %zu deployments in %s, resourceVersion %ld, "
	         "%d watches closed",
	    len, one_ns ? ns : "all namespaces", rv, closed);
	reply_ok(req, "resourceVersion", (long long)ks_store_rv(srv->store));
out:
	while (n > 0)
		ks_obj_unref(objs[--n]);
	free(objs);
}

void
ks_admin_handle(struct ks_server *srv, struct evhttp_request *req,
    const char *path, const char *query)
{
	struct ks_admin *a = srv->admin;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *p = path + strlen("/_sim");
	char v[KS_MAX_QUERY + 1];
	long n;

	if (strcmp(p, "/state") == 0) {
		reply_state(srv, req);
	} else if (strcmp(p, "/counters") == 0) {
		if (m == EVHTTP_REQ_DELETE)
			counters_reset(a);
		reply_counters(a, req);
	} else if (strcmp(p, "/counters/reset") == 0) {
		counters_reset(a);
		reply_ok(req, NULL, 0);
	} else if (strcmp(p, "/watches/close") == 0) {
		int abrupt = ks_query_get(query, "mode", v, sizeof(v)) == 1 &&
		    strcmp(v, "abrupt") == 0;

		n = ks_watch_close_all(srv, abrupt);
		reply_ok(req, "closed", n);
	} else if (strcmp(p, "/faults") == 0) {
		if (m == EVHTTP_REQ_DELETE) {
			a->nfaults = 0;
			reply_ok(req, "faults", 0);
		} else if (m == EVHTTP_REQ_POST)
			add_fault(a, req, query);
		else
			reply_ok(req, "faults", a->nfaults);
	} else if (strcmp(p, "/latency") == 0) {
		n = qlong(query, "ms", 0);
		a->latency_ms = n < 0     ? 0
		    : n > KS_MAX_DELAY_MS ? KS_MAX_DELAY_MS
		                          : n;
		reply_ok(req, "latencyMs", a->latency_ms);
	} else if (strcmp(p, "/hang") == 0) {
		n = qlong(query, "ms", 0);
		if (n < 0)
			n = 0;
		if (n > KS_MAX_DELAY_MS)
			n = KS_MAX_DELAY_MS;
		clock_gettime(CLOCK_MONOTONIC, &a->hang_until);
		a->hang_until.tv_sec += n / 1000;
		a->hang_until.tv_nsec += n % 1000 * 1000000;
		if (a->hang_until.tv_nsec >= 1000000000) {
			a->hang_until.tv_sec++;
			a->hang_until.tv_nsec -= 1000000000;
		}
		reply_ok(req, "hangMs", n);
	} else if (strcmp(p, "/compact") == 0) {
		n = qlong(query, "rv", 0);
		ks_store_compact(srv->store, n > 0 ? (uint64_t)n : 0);
		reply_ok(req, "oldestResourceVersion",
		    (long long)ks_store_oldest(srv->store));
	} else if (strcmp(p, "/tokens") == 0) {
		if (ks_query_get(query, "set", v, sizeof(v)) != 1 ||
		    ks_auth_set(srv->auth, v) != 0)
			reply_error(req, 400, "need set=tok1,tok2");
		else
			reply_ok(req, NULL, 0);
	} else if (strcmp(p, "/scale") == 0) {
		external_scale(srv, req, query);
	} else if (strcmp(p, "/restore") == 0 && m == EVHTTP_REQ_POST) {
		restore(srv, req, query);
	} else if (strcmp(p, "/controller") == 0) {
		int paused = ks_ctrl_paused(srv->ctrl);

		if (ks_query_get(query, "paused", v, sizeof(v)) == 1)
			paused = ks_query_bool(v);
		ks_ctrl_set(srv->ctrl, paused, qlong(query, "delayMs", -1),
		    qlong(query, "step", -1));
		reply_ok(req, "paused", paused);
	} else if (strcmp(p, "/chunking") == 0) {
		if (ks_query_get(query, "mode", v, sizeof(v)) != 1)
			v[0] = '\0';
		if (strcmp(v, "pack") == 0)
			srv->chunk_mode = KS_CHUNK_PACK;
		else if (strcmp(v, "line") == 0)
			srv->chunk_mode = KS_CHUNK_LINE;
		else if (strcmp(v, "split") == 0)
			srv->chunk_mode = KS_CHUNK_SPLIT;
		else if (strcmp(v, "bytes") == 0) {
			srv->chunk_mode = KS_CHUNK_BYTES;
			n = qlong(query, "size", 7);
			srv->chunk_bytes = n < 1 ? 1 : n > 65536 ? 65536 : n;
		} else {
			reply_error(req, 400, "mode: pack|line|split|bytes");
			return;
		}
		reply_ok(req, "mode", srv->chunk_mode);
	} else if (strcmp(p, "/bookmarks") == 0) {
		n = qlong(query, "intervalMs", -1);
		if (n < 10 || n > 86400000) {
			reply_error(req, 400, "intervalMs: 10..86400000");
			return;
		}
		srv->bookmark_ms = n;
		reply_ok(req, "intervalMs", n);
	} else if (strcmp(p, "/deny") == 0) {
		if (m == EVHTTP_REQ_DELETE) {
			a->ndeny = 0;
			reply_ok(req, "rules", 0);
		} else if (ks_query_get(query, "rule", v, sizeof(v)) != 1 ||
		    ks_admin_add_deny(a, v) != 0)
			reply_error(req, 400,
			    "need rule=VERB:RESOURCE[/SUB][@[NAMESPACE]]");
		else
			reply_ok(req, "rules", a->ndeny);
	} else {
		reply_error(req, 404, "unknown admin route");
	}
}
