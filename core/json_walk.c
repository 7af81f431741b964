/*
 * json_walk.c — the shared yajl walker (see json_walk.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json_walk.h"

/* JSON's whitespace (RFC 8259): not yajl's, which adds \f and \v. */
static int
json_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
jw_init(struct jw *w, const struct jw_config *cfg, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	if ((w->h = yajl_alloc(cfg->callbacks, NULL, ctx)) == NULL)
		return -1;
	/* Otherwise yajl's defaults, on purpose: no comments, UTF-8
	 * validated, no partial values, no trailing garbage. */
	if (cfg->many)
		yajl_config(w->h, yajl_allow_multiple_values, 1);
	return 0;
}

void
jw_fini(struct jw *w)
{
	if (w->h != NULL)
		yajl_free(w->h);
	w->h = NULL;
}

int
jw_fail(struct jw *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(w->err, sizeof(w->err), fmt, ap);
		va_end(ap);
	}
	w->dead = 1;
	return 0;
}

struct jw_level *
jw_push(struct jw *w, int is_map)
{
	struct jw_level *l;

	if (w->depth >= JW_MAX_DEPTH) {
		jw_fail(w, "JSON nested too deeply");
		return NULL;
	}
	l = &w->st[w->depth++];
	l->is_map = (unsigned char)is_map;
	l->role = 0;
	l->key = 0;
	return l;
}

const struct jw_level *
jw_pop(struct jw *w)
{
	/* yajl balances containers: never called at depth 0. */
	const struct jw_level *l = &w->st[--w->depth];

	if (w->depth == 0 && !w->cfg.many) {
		w->closed = 1;
		w->closed_here = 1;
		/* Inside a callback: the offset just after this '}' or ']'
		 * in the buffer of the current yajl_parse call. */
		w->closed_at = yajl_get_bytes_consumed(w->h);
	}
	return l;
}

struct jw_level *
jw_top(struct jw *w)
{
	return w->depth > 0 ? &w->st[w->depth - 1] : NULL;
}

void
jw_unit_done(struct jw *w)
{
	w->bytes = 0;
}

/* yajl's own words without the input (its verbose form quotes it). */
static void
fail_yajl(struct jw *w, yajl_status st)
{
	unsigned char *msg;

	if (st == yajl_status_client_canceled && w->err[0] != '\0') {
		w->dead = 1;
		return;
	}
	msg = yajl_get_error(w->h, 0, NULL, 0);
	jw_fail(w, "invalid JSON: %.*s",
	    msg != NULL ? (int)strcspn((const char *)msg, "\n") : 11,
	    msg != NULL ? (const char *)msg : "parse error");
	if (msg != NULL)
		yajl_free_error(w->h, msg);
}

/* The first \f or \v in buf[0..len), or NULL. */
static const unsigned char *
find_ff_vt(const unsigned char *buf, size_t len)
{
	const unsigned char *f = memchr(buf, '\f', len);
	const unsigned char *v = memchr(buf, '\v', len);

	return f == NULL ? v : v == NULL ? f : f < v ? f : v;
}

/* yajl on buf[0..n); after the value has closed, only whitespace may
 * follow.  0, or -1 dead. */
static int
parse_slice(struct jw *w, const unsigned char *buf, size_t n)
{
	yajl_status st = yajl_status_ok;
	size_t from;

	if (n == 0)
		return 0;
	w->closed_here = 0;
	if (!w->closed)
		st = yajl_parse(w->h, buf, n);
	if (w->closed) {
		/* After the value, only whitespace; whatever yajl made of
		 * other bytes, the answer is this one, so that it is the
		 * same however the input was split.  (A failure of the
		 * closing callback itself stays: the first error wins.) */
		int tail_ok = st == yajl_status_ok;

		from = w->closed_here ? w->closed_at : 0;
		for (size_t i = from; i < n && tail_ok; i++)
			tail_ok = json_space(buf[i]);
		if (tail_ok)
			return 0;
		return jw_fail(w, "invalid JSON: text after the value"), -1;
	}
	if (st != yajl_status_ok) {
		fail_yajl(w, st);
		return -1;
	}
	return 0;
}

int
jw_feed(struct jw *w, const void *buf, size_t len)
{
	const unsigned char *p = buf, *bad;
	size_t n, i, ok;
	size_t slack = w->cfg.units ? KJSON_FEED_SLICE : 0;

	if (w->dead)
		return -1;
	for (i = 0; i < len && !w->nonblank; i++)
		w->nonblank = !json_space(p[i]);
	while (len > 0) {
		n = len < KJSON_FEED_SLICE ? len : KJSON_FEED_SLICE;
		/* "remaining < needed", never "used + needed > max". */
		if (w->cfg.max_bytes + slack - w->bytes < n)
			return jw_fail(w, "%s", w->cfg.too_big), -1;
		w->bytes += n;
		/* Neither \f nor \v may stand raw anywhere in JSON text (in
		 * a string they are escaped), but yajl's lexer skips both as
		 * whitespace.  The bytes before one go to yajl first, so that
		 * the first fault in the input is the one reported. */
		bad = find_ff_vt(p, n);
		ok = bad != NULL ? (size_t)(bad - p) : n;
		if (parse_slice(w, p, ok) != 0)
			return -1;
		if (bad != NULL)
			return jw_fail(w, "invalid JSON: a raw \\f or \\v"), -1;
		p += n;
		len -= n;
	}
	return 0;
}

int
jw_finish(struct jw *w)
{
	yajl_status st;

	if (w->dead)
		return -1;
	/* A stream that ended before its first value (or sent only blank
	 * lines) ended cleanly; yajl would call the empty input an error. */
	if (w->cfg.many && !w->nonblank)
		return 0;
	if ((st = yajl_complete_parse(w->h)) != yajl_status_ok) {
		fail_yajl(w, st);
		return -1;
	}
	if (w->depth != 0)
		return jw_fail(w, "incomplete JSON"), -1;
	return 0;
}

const char *
jw_error(const struct jw *w)
{
	return w->err[0] != '\0' ? w->err : "no error";
}
