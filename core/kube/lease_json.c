/*
 * lease_json.c — the Lease as JSON, both ways (see lease_json.h).
 *
 * A map of the two levels a Lease has (its top and its metadata or spec)
 * to the fields kept, lease_field(); every callback asks it where the
 * value lands and checks the type there.  The stack, the bounds and the
 * end of input are the shared walker's (json_walk.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "core/json_walk.h"
#include "core/kube/lease_json.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

enum lkey {
	LK_NONE,
	LK_OTHER,
	LK_KIND,
	LK_METADATA,
	LK_SPEC,
	LK_NAME,
	LK_NAMESPACE,
	LK_RV,
	LK_HOLDER,
	LK_DURATION,
	LK_ACQUIRE,
	LK_RENEW,
	LK_TRANSITIONS
};

static const struct {
	const char *s;
	enum lkey k;
} lease_keys[] = {
    {"kind", LK_KIND},
    {"metadata", LK_METADATA},
    {"spec", LK_SPEC},
    {"name", LK_NAME},
    {"namespace", LK_NAMESPACE},
    {"resourceVersion", LK_RV},
    {"holderIdentity", LK_HOLDER},
    {"leaseDurationSeconds", LK_DURATION},
    {"acquireTime", LK_ACQUIRE},
    {"renewTime", LK_RENEW},
    {"leaseTransitions", LK_TRANSITIONS},
};

/* What the value being parsed is, as far as a Lease is concerned. */
enum lfield {
	LF_SKIP,    /* not kept: any type, checked by yajl only */
	LF_SECTION, /* metadata or spec: an object (or null) */
	LF_KIND,    /* strings from here */
	LF_NAME,
	LF_NAMESPACE,
	LF_RV,
	LF_HOLDER,
	LF_ACQUIRE,
	LF_RENEW,
	LF_DURATION, /* integers from here */
	LF_TRANSITIONS
};

static const char *const lfield_names[] = {
    [LF_SKIP] = "?",
    [LF_SECTION] = "metadata/spec",
    [LF_KIND] = "kind",
    [LF_NAME] = "metadata.name",
    [LF_NAMESPACE] = "metadata.namespace",
    [LF_RV] = "metadata.resourceVersion",
    [LF_HOLDER] = "spec.holderIdentity",
    [LF_ACQUIRE] = "spec.acquireTime",
    [LF_RENEW] = "spec.renewTime",
    [LF_DURATION] = "spec.leaseDurationSeconds",
    [LF_TRANSITIONS] = "spec.leaseTransitions",
};

struct lease_json {
	struct jw w;
	struct lease_rec out;
};

static enum lfield
lease_field(const struct lease_json *p)
{
	const struct jw_level *st = p->w.st;
	int t = p->w.depth - 1;

	if (t < 0 || t > 1 || !st[t].is_map)
		return LF_SKIP;
	if (t == 0) {
		switch (st[0].key) {
		case LK_KIND:
			return LF_KIND;
		case LK_METADATA:
		case LK_SPEC:
			return LF_SECTION;
		default:
			return LF_SKIP;
		}
	}
	/* t == 1: st[1] is the metadata or spec object (an array there was
	 * refused when it opened). */
	if (st[0].key == LK_METADATA)
		switch (st[1].key) {
		case LK_NAME:
			return LF_NAME;
		case LK_NAMESPACE:
			return LF_NAMESPACE;
		case LK_RV:
			return LF_RV;
		default:
			return LF_SKIP;
		}
	if (st[0].key == LK_SPEC)
		switch (st[1].key) {
		case LK_HOLDER:
			return LF_HOLDER;
		case LK_DURATION:
			return LF_DURATION;
		case LK_ACQUIRE:
			return LF_ACQUIRE;
		case LK_RENEW:
			return LF_RENEW;
		case LK_TRANSITIONS:
			return LF_TRANSITIONS;
		default:
			return LF_SKIP;
		}
	return LF_SKIP;
}

/* A scalar or container where the Lease expects another type. */
static int
lease_wrong_type(struct lease_json *p, enum lfield f)
{
	if (f == LF_SKIP)
		return 0;
	if (f == LF_SECTION)
		jw_fail(&p->w, "%s is not an object", lfield_names[f]);
	else if (f >= LF_DURATION)
		jw_fail(&p->w, "%s is not an integer", lfield_names[f]);
	else
		jw_fail(&p->w, "%s is not a string", lfield_names[f]);
	return 1;
}

static int
lease_top_scalar(struct lease_json *p)
{
	if (p->w.depth != 0)
		return 0;
	jw_fail(&p->w, "%s", "answer is not a JSON object");
	return 1;
}

static int
lease_on_null(void *ctx)
{
	struct lease_json *p = ctx;
	struct lease_rec *o = &p->out;

	if (lease_top_scalar(p))
		return 0;
	/* null is Go's "absent" (the pointer fields of LeaseSpec). */
	switch (lease_field(p)) {
	case LF_KIND:
		o->kind[0] = '\0';
		break;
	case LF_NAME:
		o->name[0] = '\0';
		break;
	case LF_NAMESPACE:
		o->namespace[0] = '\0';
		break;
	case LF_RV:
		o->rv[0] = '\0';
		break;
	case LF_HOLDER:
		o->holder[0] = '\0';
		break;
	case LF_ACQUIRE:
		o->acquire_time[0] = '\0';
		break;
	case LF_RENEW:
		o->renew_time[0] = '\0';
		break;
	case LF_DURATION:
		o->duration_s = 0;
		break;
	case LF_TRANSITIONS:
		o->transitions = 0;
		break;
	case LF_SKIP:
	case LF_SECTION:
		break;
	}
	return 1;
}

static int
lease_on_boolean(void *ctx, int b)
{
	struct lease_json *p = ctx;

	(void)b;
	if (lease_top_scalar(p))
		return 0;
	return !lease_wrong_type(p, lease_field(p));
}

static int
lease_on_double(void *ctx, double v)
{
	struct lease_json *p = ctx;

	(void)v;
	if (lease_top_scalar(p))
		return 0;
	return !lease_wrong_type(p, lease_field(p));
}

static int
lease_on_integer(void *ctx, long long v)
{
	struct lease_json *p = ctx;
	enum lfield f;

	if (lease_top_scalar(p))
		return 0;
	f = lease_field(p);
	if (f == LF_DURATION) {
		if (v < LEASE_MIN_DURATION || v > LEASE_MAX_DURATION) {
			jw_fail(&p->w, "%s out of range (1..3600)",
			    lfield_names[f]);
			return 0;
		}
		p->out.duration_s = (int32_t)v;
		return 1;
	}
	if (f == LF_TRANSITIONS) {
		if (v < 0 || v > INT32_MAX) {
			jw_fail(&p->w, "%s out of range", lfield_names[f]);
			return 0;
		}
		p->out.transitions = (int32_t)v;
		return 1;
	}
	return !lease_wrong_type(p, f);
}

/* Bytes in [lo, hi], at most dstsz - 1 of them, copied with a NUL. */
static int
lease_copy(struct lease_json *p, enum lfield f, char *dst, size_t dstsz,
    const unsigned char *s, size_t len, unsigned char lo)
{
	if (len >= dstsz) {
		jw_fail(&p->w, "%s too long", lfield_names[f]);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (s[i] < lo || s[i] > 0x7e) {
			jw_fail(&p->w, "%s has invalid bytes", lfield_names[f]);
			return 0;
		}
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

static int
lease_on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct lease_json *p = ctx;
	struct lease_rec *o = &p->out;
	enum lfield f;

	if (lease_top_scalar(p))
		return 0;
	f = lease_field(p);
	switch (f) {
	case LF_KIND:
		return lease_copy(p, f, o->kind, sizeof(o->kind), s, len, 0x21);
	case LF_NAME:
		if (ps_valid_str(PS_STR_NAME, (const char *)s, len) != PS_OK) {
			jw_fail(&p->w, "%s is not a DNS-1123 subdomain",
			    lfield_names[f]);
			return 0;
		}
		return lease_copy(p, f, o->name, sizeof(o->name), s, len, 0x21);
	case LF_NAMESPACE:
		if (ps_valid_str(PS_STR_NAMESPACE, (const char *)s, len) !=
		    PS_OK) {
			jw_fail(&p->w, "%s is not a DNS-1123 label",
			    lfield_names[f]);
			return 0;
		}
		return lease_copy(
		    p, f, o->namespace, sizeof(o->namespace), s, len, 0x21);
	case LF_RV:
		return lease_copy(p, f, o->rv, sizeof(o->rv), s, len, 0x21);
	case LF_HOLDER:
		/* Printable ASCII (space included); "" is a released lease. */
		return lease_copy(
		    p, f, o->holder, sizeof(o->holder), s, len, 0x20);
	case LF_ACQUIRE:
	case LF_RENEW:
		if (!lease_json_valid_time((const char *)s, len)) {
			jw_fail(&p->w, "%s is not an RFC 3339 time",
			    lfield_names[f]);
			return 0;
		}
		if (f == LF_ACQUIRE)
			return lease_copy(p, f, o->acquire_time,
			    sizeof(o->acquire_time), s, len, 0x21);
		return lease_copy(
		    p, f, o->renew_time, sizeof(o->renew_time), s, len, 0x21);
	case LF_DURATION:
	case LF_TRANSITIONS:
	case LF_SECTION:
		lease_wrong_type(p, f);
		return 0;
	case LF_SKIP:
		break;
	}
	return 1;
}

static int
lease_push(struct lease_json *p, int is_map)
{
	enum lfield f = lease_field(p);

	if (p->w.depth == 0 && !is_map) {
		jw_fail(&p->w, "%s", "answer is not a JSON object");
		return 0;
	}
	if (f == LF_SECTION && !is_map) {
		lease_wrong_type(p, f);
		return 0;
	}
	if (f != LF_SECTION && lease_wrong_type(p, f))
		return 0;
	return jw_push(&p->w, is_map) != NULL;
}

static int
lease_on_start_map(void *ctx)
{
	return lease_push(ctx, 1);
}

static int
lease_on_start_array(void *ctx)
{
	return lease_push(ctx, 0);
}

static int
lease_on_end(void *ctx)
{
	struct lease_json *p = ctx;

	jw_pop(&p->w);
	return 1;
}

static int
lease_on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct lease_json *p = ctx;
	enum lkey k = LK_OTHER;

	for (size_t i = 0; i < sizeof(lease_keys) / sizeof(lease_keys[0]); i++)
		if (strlen(lease_keys[i].s) == len &&
		    memcmp(lease_keys[i].s, s, len) == 0) {
			k = lease_keys[i].k;
			break;
		}
	jw_top(&p->w)->key = (unsigned char)k;
	return 1;
}

static const yajl_callbacks lease_callbacks = {
    .yajl_null = lease_on_null,
    .yajl_boolean = lease_on_boolean,
    .yajl_integer = lease_on_integer,
    .yajl_double = lease_on_double,
    .yajl_string = lease_on_string,
    .yajl_start_map = lease_on_start_map,
    .yajl_map_key = lease_on_map_key,
    .yajl_end_map = lease_on_end,
    .yajl_start_array = lease_on_start_array,
    .yajl_end_array = lease_on_end,
};

static const struct jw_config lease_walk = {
    .callbacks = &lease_callbacks,
    .many = 0,
    .max_bytes = LEASE_JSON_MAX_BYTES,
    .units = 0,
    .too_big = "Lease answer exceeds the size limit",
};

struct lease_json *
lease_json_new(void)
{
	struct lease_json *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (jw_init(&p->w, &lease_walk, p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

void
lease_json_free(struct lease_json *p)
{
	if (p == NULL)
		return;
	jw_fini(&p->w);
	free(p);
}

int
lease_json_feed(struct lease_json *p, const void *buf, size_t len)
{
	return jw_feed(&p->w, buf, len);
}

int
lease_json_finish(struct lease_json *p, struct lease_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (jw_finish(&p->w) != 0)
		return -1;
	if (p->out.kind[0] != '\0' && strcmp(p->out.kind, "Lease") != 0) {
		jw_fail(&p->w, "%s", "answer is not a Lease");
		return -1;
	}
	if (p->out.name[0] == '\0' || p->out.rv[0] == '\0') {
		jw_fail(&p->w, "%s",
		    "Lease without metadata.name or resourceVersion");
		return -1;
	}
	*out = p->out;
	return 0;
}

const char *
lease_json_error(const struct lease_json *p)
{
	return jw_error(&p->w);
}

/* n decimal digits at s as a number in [lo, hi]; 1 or 0. */
static int
time_digits(const char *s, int n, int lo, int hi)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

int
lease_json_valid_time(const char *s, size_t len)
{
	size_t i;

	/* YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM) */
	if (len < 20 || len > LEASE_MAX_MICROTIME)
		return 0;
	if (!time_digits(s, 4, 0, 9999) || s[4] != '-' ||
	    !time_digits(s + 5, 2, 1, 12) || s[7] != '-' ||
	    !time_digits(s + 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') ||
	    !time_digits(s + 11, 2, 0, 23) || s[13] != ':' ||
	    !time_digits(s + 14, 2, 0, 59) || s[16] != ':' ||
	    !time_digits(s + 17, 2, 0, 60))
		return 0;
	i = 19;
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return 0;
	}
	if (len - i == 1)
		return s[i] == 'Z' || s[i] == 'z';
	if (len - i == 6)
		return (s[i] == '+' || s[i] == '-') &&
		    time_digits(s + i + 1, 2, 0, 23) && s[i + 3] == ':' &&
		    time_digits(s + i + 4, 2, 0, 59);
	return 0;
}

/* ------------------------------------------------ the Lease we write */

int
lease_json_format_time(int64_t sec, long nsec, char *buf, size_t bufsz)
{
	struct tm tm;
	time_t tt = (time_t)sec;
	int n;

	if (nsec < 0 || nsec > 999999999L || (int64_t)tt != sec ||
	    gmtime_r(&tt, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	n = snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, nsec / 1000);
	return n > 0 && (size_t)n < bufsz ? 0 : -1;
}

/* A key and its value; 0, or 1 when yajl_gen failed. */
static int
gen_key(yajl_gen g, const char *k)
{
	yajl_gen_status st;

	st = yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	return st != yajl_gen_status_ok;
}

static int
gen_kstr(yajl_gen g, const char *k, const char *v)
{
	yajl_gen_status st;

	if (gen_key(g, k))
		return 1;
	st = yajl_gen_string(g, (const unsigned char *)v, strlen(v));
	return st != yajl_gen_status_ok;
}

static int
gen_kint(yajl_gen g, const char *k, long long v)
{
	if (gen_key(g, k))
		return 1;
	return yajl_gen_integer(g, v) != yajl_gen_status_ok;
}

char *
lease_json_gen_body(const char *namespace, const char *name,
    const struct lease_rec *rec, size_t *len)
{
	yajl_gen g;
	const unsigned char *buf;
	char *out = NULL;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return NULL;
	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    gen_kstr(g, "apiVersion", "coordination.k8s.io/v1") ||
	    gen_kstr(g, "kind", "Lease") || gen_key(g, "metadata") ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    gen_kstr(g, "name", name) || gen_kstr(g, "namespace", namespace) ||
	    (rec->rv[0] != '\0' && gen_kstr(g, "resourceVersion", rec->rv)) ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok || gen_key(g, "spec") ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    gen_kstr(g, "holderIdentity", rec->holder) ||
	    gen_kint(g, "leaseDurationSeconds", rec->duration_s) ||
	    (rec->acquire_time[0] != '\0' &&
	        gen_kstr(g, "acquireTime", rec->acquire_time)) ||
	    (rec->renew_time[0] != '\0' &&
	        gen_kstr(g, "renewTime", rec->renew_time)) ||
	    gen_kint(g, "leaseTransitions", rec->transitions) ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    yajl_gen_get_buf(g, &buf, len) != yajl_gen_status_ok)
		goto out;
	if ((out = malloc(*len + 1)) != NULL) {
		memcpy(out, buf, *len);
		out[*len] = '\0';
	}
out:
	yajl_gen_free(g);
	return out;
}
