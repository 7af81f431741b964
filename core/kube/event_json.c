/*
 * event_json.c — the Event and its series patch as JSON (see
 * event_json.h), through yajl_gen with UTF-8 validation on: a string
 * yajl refuses makes the whole body NULL, never a body with it cut; and
 * the checks of its fields that the recorder makes before queueing one.
 */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "core/kube/event_json.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_buf.h"

/* yajl_gen's status folded into one flag: 0 ok, 1 failed. */
static int
str(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) !=
	    yajl_gen_status_ok;
}

static int
kv(yajl_gen g, const char *k, const char *v)
{
	return str(g, k) || str(g, v);
}

/* A key and value left out when the value is "" (optional fields). */
static int
kv_opt(yajl_gen g, const char *k, const char *v)
{
	return v == NULL || v[0] == '\0' ? 0 : kv(g, k, v);
}

static int
series(yajl_gen g, uint32_t count, const char *last_observed)
{
	return str(g, "series") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    str(g, "count") ||
	    yajl_gen_integer(g, (long long)count) != yajl_gen_status_ok ||
	    kv(g, "lastObservedTime", last_observed) ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok;
}

static yajl_gen
gen_new(void)
{
	yajl_gen g;

	if ((g = yajl_gen_alloc(NULL)) != NULL &&
	    yajl_gen_config(g, yajl_gen_validate_utf8, 1) == 0) {
		yajl_gen_free(g);
		return NULL;
	}
	return g;
}

/* Copies the generated text out (NUL-terminated) and frees `g`. */
static char *
gen_take(yajl_gen g, int failed, size_t *len)
{
	const unsigned char *buf;
	char *out = NULL;
	size_t n;

	if (!failed && yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok &&
	    (out = malloc(n + 1)) != NULL) {
		memcpy(out, buf, n);
		out[n] = '\0';
		*len = n;
	}
	yajl_gen_free(g);
	return out;
}

char *
evjson_event(const struct evjson_event *ev, size_t *len)
{
	const struct evjson_ref *r = &ev->regarding;
	yajl_gen g;
	int bad;

	if ((g = gen_new()) == NULL)
		return NULL;
	bad = yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    kv(g, "apiVersion", "events.k8s.io/v1") || kv(g, "kind", "Event") ||
	    str(g, "metadata") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    kv(g, "name", ev->name) || kv(g, "namespace", ev->namespace) ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    kv(g, "eventTime", ev->event_time) ||
	    (ev->series_count >= 2 &&
	        series(g, ev->series_count, ev->last_observed)) ||
	    kv(g, "reportingController", ev->reporting_controller) ||
	    kv(g, "reportingInstance", ev->reporting_instance) ||
	    kv(g, "action", ev->action) || kv(g, "reason", ev->reason) ||
	    str(g, "regarding") || yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    kv(g, "kind", r->kind) || kv(g, "apiVersion", r->api_version) ||
	    kv_opt(g, "namespace", r->namespace) || kv(g, "name", r->name) ||
	    kv_opt(g, "uid", r->uid) ||
	    kv_opt(g, "resourceVersion", r->resource_version) ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    kv_opt(g, "note", ev->note) || kv(g, "type", ev->type) ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok;
	return gen_take(g, bad, len);
}

char *
evjson_series_patch(uint32_t count, const char *last_observed, size_t *len)
{
	yajl_gen g;
	int bad;

	if ((g = gen_new()) == NULL)
		return NULL;
	bad = yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    series(g, count, last_observed) ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok;
	return gen_take(g, bad, len);
}

/* ------------------------------------------------ field validation */

/* Bytes 0x21..0x7e, 1..max of them. */
int
evjson_visible(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, max + 1)) == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
evjson_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* A Kubernetes qualified name: [DNS-1123 subdomain "/"] name, the name
 * 1..63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
int
evjson_qualified(const char *s)
{
	const char *slash = strchr(s, '/'), *n = slash ? slash + 1 : s;
	size_t len = strnlen(n, 64);

	if (slash != NULL && ps_valid_name(s, (size_t)(slash - s)) != PS_OK)
		return 0;
	if (len == 0 || len > 63 || !evjson_alnum(n[0]) ||
	    !evjson_alnum(n[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!evjson_alnum(n[i]) && n[i] != '-' && n[i] != '_' &&
		    n[i] != '.')
			return 0;
	return 1;
}

/*
 * Copies at most `max` bytes of `src` as UTF-8 into `dst` (max + 1
 * bytes), never splitting a character; a byte that does not start a
 * valid sequence becomes '?'.  Returns the length.
 */
size_t
evjson_copy_utf8(char *dst, const char *src, size_t max)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	while (*s != '\0') {
		unsigned char c = s[0], lo = 0x80, hi = 0xbf;
		size_t n = 1;

		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else if (c >= 0x80)
			n = 0; /* not a lead byte */
		for (size_t i = 1; i < n; i++)
			if (s[i] < (i == 1 ? lo : 0x80) ||
			    s[i] > (i == 1 ? hi : 0xbf))
				n = 0; /* also stops at the NUL */
		if (o + (n == 0 ? 1 : n) > max)
			break;
		if (n == 0) {
			dst[o++] = '?';
			s++;
			continue;
		}
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
	return o;
}
