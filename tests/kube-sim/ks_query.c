/*
 * ks_query.c — decode and validate list/watch query parameters.
 *
 * Query strings are untrusted: each value is percent-decoded into a
 * bounded buffer; numbers are parsed like Go's strconv (and the error
 * texts match it); the 422 ListOptions rules follow
 * apimachinery/pkg/apis/meta/internalversion/validation.
 * Parameters kube-sim does not use (pretty, fieldManager, ...) are ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_query.h"
#include "tests/kube-sim/ks_status.h"

static int hexval(int);
static int parse_int64(const char *, long long *, char *, size_t);
static int parse_uint64(const char *, uint64_t *, char *, size_t);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ks_query_get(const char *query, const char *name, char *buf, size_t buflen)
{
	const char *p = query, *end, *eq, *v;
	size_t nlen = strlen(name), n;
	int h, l;

	if (query == NULL)
		return 0;
	while (*p != '\0') {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if ((size_t)((eq ? eq : end) - p) == nlen &&
		    memcmp(p, name, nlen) == 0) {
			n = 0;
			for (v = eq ? eq + 1 : end; v < end; v++) {
				if (n + 1 >= buflen)
					return -1;
				if (*v == '+') {
					buf[n++] = ' ';
				} else if (*v == '%') {
					if (end - v < 3 ||
					    (h = hexval(v[1])) < 0 ||
					    (l = hexval(v[2])) < 0)
						return -1;
					buf[n++] = (char)(h * 16 + l);
					v += 2;
				} else
					buf[n++] = *v;
			}
			buf[n] = '\0';
			if (memchr(buf, '\0', n) != NULL)
				return -1;
			return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

int
ks_query_bool(const char *v)
{
	if (v == NULL)
		return 0;
	return !(strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0);
}

/* Go's strconv.ParseInt(s, 10, 64) with its error text. */
static int
parse_int64(const char *s, long long *out, char *err, size_t errlen)
{
	const char *p = s;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p)) {
		snprintf(err, errlen,
		    "strconv.ParseInt: parsing \"%.256s\": invalid syntax", s);
		return -1;
	}
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen,
		    "strconv.ParseInt: parsing \"%.256s\": value out of range",
		    s);
		return -1;
	}
	return 0;
}

/* Go's strconv.ParseUint(s, 10, 64) with its error text. */
static int
parse_uint64(const char *s, uint64_t *out, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s)) {
		snprintf(err, errlen,
		    "strconv.ParseUint: parsing \"%.256s\": invalid syntax", s);
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen,
		    "strconv.ParseUint: parsing \"%.256s\": value out of range",
		    s);
		return -1;
	}
	*out = v;
	return 0;
}

void
ks_query_clear(struct ks_query *q)
{
	free(q->cont_start);
	ks_selector_clear(&q->labels);
	ks_selector_clear(&q->fields);
	memset(q, 0, sizeof(*q));
	q->sie = -1;
}

static void
list_options_invalid(struct ks_status *st)
{
	if (st->code != 422)
		ks_status_invalid(st, "ListOptions", "meta.k8s.io", "");
}

int
ks_query_parse(struct ks_query *q, const char *query, const char *resource,
    const char *group, struct ks_status *st)
{
	char v[KS_MAX_QUERY + 1], rvtext[KS_MAX_QUERY + 1];
	char match[64], err[512];
	int r, have_match, rv_given;

	memset(q, 0, sizeof(*q));
	memset(st, 0, sizeof(*st));
	q->sie = -1;
	if (query != NULL && strlen(query) > KS_MAX_QUERY) {
		ks_status_bad_request(st, "query string too long");
		return -1;
	}

#define GET(name)                                                          \
	do {                                                               \
		if ((r = ks_query_get(query, (name), v, sizeof(v))) < 0) { \
			ks_status_bad_request(                             \
			    st, "invalid query parameter %s", (name));     \
			goto fail;                                         \
		}                                                          \
	} while (0)

	GET("watch");
	q->watch = r == 1 && ks_query_bool(v);
	GET("allowWatchBookmarks");
	q->bookmarks = r == 1 && ks_query_bool(v);
	GET("sendInitialEvents");
	if (r == 1)
		q->sie = ks_query_bool(v);

	GET("limit");
	if (r == 1 && v[0] != '\0') {
		if (parse_int64(v, &q->limit, err, sizeof(err)) != 0) {
			ks_status_bad_request(st, "%s", err);
			goto fail;
		}
		/* limit <= 0 means "no limit", as on the real server. */
		q->has_limit = q->limit > 0;
	}
	GET("timeoutSeconds");
	if (r == 1 && v[0] != '\0') {
		if (parse_int64(v, &q->timeout, err, sizeof(err)) != 0) {
			ks_status_bad_request(st, "%s", err);
			goto fail;
		}
		q->has_timeout = q->timeout > 0;
	}

	GET("resourceVersion");
	rv_given = r == 1 && v[0] != '\0';
	snprintf(rvtext, sizeof(rvtext), "%s", rv_given ? v : "");
	GET("resourceVersionMatch");
	have_match = r == 1 && v[0] != '\0';
	snprintf(match, sizeof(match), "%.60s", have_match ? v : "");

	GET("continue");
	if (r == 1 && v[0] != '\0') {
		q->has_continue = 1;
		if (ks_query_continue_decode(v, &q->cont_rv, &q->cont_start,
		        err, sizeof(err)) != 0) {
			ks_status_bad_request(
			    st, "invalid continue token: %s", err);
			goto fail;
		}
	}

	GET("labelSelector");
	if (r == 1 && v[0] != '\0') {
		if (ks_selector_parse_labels(&q->labels, v, err, sizeof(err)) !=
		    0) {
			ks_status_bad_request(st, "%s", err);
			goto fail;
		}
		q->has_labels = q->labels.nreqs > 0;
	}
	GET("fieldSelector");
	if (r == 1 && v[0] != '\0') {
		if (ks_selector_parse_fields(&q->fields, v, err, sizeof(err)) !=
		    0) {
			ks_status_bad_request(st, "%s", err);
			goto fail;
		}
		q->has_fields = q->fields.nreqs > 0;
	}
#undef GET

	/* ListOptions validation (422), then resourceVersion parsing. */
	if (strcmp(match, "Exact") == 0)
		q->rv_match = KS_RVM_EXACT;
	else if (strcmp(match, "NotOlderThan") == 0)
		q->rv_match = KS_RVM_NOT_OLDER;
	if (q->watch) {
		if (q->sie != -1 && q->rv_match != KS_RVM_NOT_OLDER) {
			list_options_invalid(st);
			ks_status_add_cause(st, KS_CAUSE_FORBIDDEN,
			    "resourceVersionMatch", "",
			    "sendInitialEvents requires setting "
			    "resourceVersionMatch to NotOlderThan");
		}
		if (have_match) {
			if (q->sie == -1) {
				list_options_invalid(st);
				ks_status_add_cause(st, KS_CAUSE_FORBIDDEN,
				    "resourceVersionMatch", "",
				    "resourceVersionMatch is forbidden for "
				    "watch unless sendInitialEvents is "
				    "provided");
			}
			if (q->rv_match != KS_RVM_NOT_OLDER) {
				char quoted[80];

				snprintf(
				    quoted, sizeof(quoted), "\"%s\"", match);
				list_options_invalid(st);
				ks_status_add_cause(st, KS_CAUSE_NOT_SUPPORTED,
				    "resourceVersionMatch", quoted,
				    "\"NotOlderThan\"");
			}
			if (q->has_continue) {
				list_options_invalid(st);
				ks_status_add_cause(st, KS_CAUSE_FORBIDDEN,
				    "resourceVersionMatch", "",
				    "resourceVersionMatch is forbidden when "
				    "continue is provided");
			}
		}
	} else {
		if (have_match) {
			if (!rv_given) {
				list_options_invalid(st);
				ks_status_add_cause(st, KS_CAUSE_FORBIDDEN,
				    "resourceVersionMatch", "",
				    "resourceVersionMatch is forbidden unless "
				    "resourceVersion is provided");
			}
			if (q->has_continue) {
				list_options_invalid(st);
				ks_status_add_cause(st, KS_CAUSE_FORBIDDEN,
				    "resourceVersionMatch", "",
				    "resourceVersionMatch is forbidden when "
				    "continue is provided");
			}
			if (q->rv_match == KS_RVM_NONE) {
				char quoted[80];

				snprintf(
				    quoted, sizeof(quoted), "\"%s\"", match);
				list_options_invalid(st);
				ks_status_add_cause(st, KS_CAUSE_NOT_SUPPORTED,
				    "resourceVersionMatch", quoted,
				    "\"Exact\", \"NotOlderThan\", \"\"");
			}
			if (q->rv_match == KS_RVM_EXACT &&
			    strcmp(rvtext, "0") == 0) {
				list_options_invalid(st);
				ks_status_add_cause(st, KS_CAUSE_FORBIDDEN,
				    "resourceVersionMatch", "",
				    "resourceVersionMatch \"exact\" is "
				    "forbidden for resourceVersion \"0\"");
			}
		}
		if (q->sie != -1) {
			list_options_invalid(st);
			ks_status_add_cause(st, KS_CAUSE_FORBIDDEN,
			    "sendInitialEvents", "",
			    "sendInitialEvents is forbidden for list");
		}
	}
	if (st->code != 0)
		goto fail;
	if (rv_given) {
		if (parse_uint64(rvtext, &q->rv, err, sizeof(err)) != 0) {
			char quoted[KS_MAX_QUERY + 3];

			/* storage.ParseResourceVersion → Invalid. */
			snprintf(quoted, sizeof(quoted), "\"%.512s\"", rvtext);
			ks_status_invalid(st, resource, group, "");
			ks_status_add_cause(st, KS_CAUSE_INVALID,
			    "resourceVersion", quoted, err);
			goto fail;
		}
		q->has_rv = 1;
		if (q->has_continue && q->rv != 0 && !q->watch) {
			ks_status_bad_request(st,
			    "specifying resource version is not allowed when "
			    "using continue");
			goto fail;
		}
	}
	return 0;
fail:
	ks_query_clear(q);
	return -1;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
b64_encode(const unsigned char *in, size_t len)
{
	char *out, *o;
	size_t i;
	unsigned v;

	if ((out = malloc(len / 3 * 4 + 5)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];
		*o++ = b64url[v >> 18 & 63];
		*o++ = b64url[v >> 12 & 63];
		*o++ = b64url[v >> 6 & 63];
		*o++ = b64url[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned)in[i] << 16;
		*o++ = b64url[v >> 18 & 63];
		*o++ = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		*o++ = b64url[v >> 18 & 63];
		*o++ = b64url[v >> 12 & 63];
		*o++ = b64url[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

/* Raw (unpadded) base64url; -1 with the offending offset in *bad. */
static int
b64_decode(
    const char *in, unsigned char *out, size_t outlen, size_t *n, size_t *bad)
{
	size_t i, len = strlen(in), o = 0;
	unsigned v = 0;
	int bits = 0;
	const char *p;

	if (len % 4 == 1) {
		*bad = len - 1;
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (in[i] == '\0' || (p = strchr(b64url, in[i])) == NULL) {
			*bad = i;
			return -1;
		}
		v = v << 6 | (unsigned)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen) {
				*bad = i;
				return -1;
			}
			out[o++] = (unsigned char)(v >> bits & 0xff);
		}
	}
	*n = o;
	return 0;
}

/* Token for a list at rv whose next key is ns/name. */
char *
ks_query_continue_encode(uint64_t rv, const char *ns, const char *name)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t len;
	char *tok = NULL, *start;
	size_t slen;

	slen = strlen(ns) + strlen(name) + 2;
	if ((start = malloc(slen)) == NULL)
		return NULL;
	snprintf(start, slen, "%s/%s", ns, name);
	if ((g = ks_gen_new()) == NULL)
		goto out;
	/* The key after ns/name: etcd3 appends "\x00" the same way. */
	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
	    ks_gen_kstr(g, "v", "meta.k8s.io/v1") != 0 ||
	    ks_gen_kint(g, "rv", (long long)rv) != 0 ||
	    ks_gen_str(g, "start") != 0 ||
	    yajl_gen_string(g, (const unsigned char *)start, slen) !=
	        yajl_gen_status_ok ||
	    yajl_gen_map_close(g) != yajl_gen_status_ok ||
	    yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		goto out;
	tok = b64_encode(buf, len);
out:
	if (g != NULL)
		yajl_gen_free(g);
	free(start);
	return tok;
}

int
ks_query_continue_decode(
    const char *tok, uint64_t *rv, char **start, char *err, size_t errlen)
{
	unsigned char raw[KS_MAX_QUERY];
	size_t n, bad;
	struct ks_json *doc = NULL;
	enum ks_json_err jerr;
	const char *v;
	const struct ks_json *s;
	long long r;

	*start = NULL;
	if (b64_decode(tok, raw, sizeof(raw), &n, &bad) != 0) {
		snprintf(err, errlen,
		    "continue key is not valid: illegal base64 data at input "
		    "byte %zu",
		    bad);
		return -1;
	}
	if ((doc = ks_json_parse(raw, n, &jerr, NULL, 0)) == NULL) {
		snprintf(err, errlen, "continue key is not valid: %s",
		    ks_json_strerror(jerr));
		return -1;
	}
	v = ks_json_str(ks_json_get(doc, "v"));
	if (v == NULL || strcmp(v, "meta.k8s.io/v1") != 0) {
		snprintf(err, errlen,
		    "continue key is not valid: server does not recognize "
		    "this encoding");
		goto fail;
	}
	s = ks_json_get(doc, "start");
	if (ks_json_int(ks_json_get(doc, "rv"), &r) != 0 || r <= 0 ||
	    ks_json_str(s) == NULL || s->len < 2 ||
	    s->val[s->len - 1] != '\0' ||
	    memchr(s->val, '\0', s->len - 1) != NULL ||
	    strchr(s->val, '/') == NULL) {
		snprintf(err, errlen,
		    "continue key is not valid: incorrect encoded start "
		    "resourceVersion (version meta.k8s.io/v1)");
		goto fail;
	}
	if ((*start = strdup(s->val)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*rv = (uint64_t)r;
	ks_json_free(doc);
	return 0;
fail:
	ks_json_free(doc);
	return -1;
}
