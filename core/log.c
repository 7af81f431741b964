/*
 * log.c — leveled logging for replicad-core: text or JSON lines on stderr.
 *
 * Text: "<UTC time> <proc>[<pid>] <level>: <message>[: <strerror>]
 * key=value ...", every byte outside printable ASCII written as \xNN so that
 * a hostile string cannot forge a line.  JSON: one object per line built
 * with yajl_gen (UTF-8 validated; invalid bytes are re-sent as \xNN text),
 * never by hand.  One write per line.  Not here: secrets — callers log
 * lengths (LOG_BYTES) and reasons, never token or body bytes.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl_gen.h>

#include "core/core_limits.h"
#include "core/log.h"

/* A text line: message, error text and context, escaped, bounded. */
#define LOG_LINE_MAX (4 * CORE_LOG_MAX_MSG)

struct lbuf {
	char *p;
	size_t cap;
	size_t len;
};

static void vlog(enum log_level, const char *, int, const struct log_kv *,
    size_t, const char *, va_list) __attribute__((format(printf, 6, 0)));

static const char *log_procname = "replicad-core";
static enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static FILE *log_fp;

static const char *const level_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *procname, enum log_level level, enum log_format format)
{
	if (procname != NULL)
		log_procname = procname;
	log_threshold = level;
	log_fmt = format;
}

void
log_set_stream(FILE *fp)
{
	log_fp = fp;
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

void
log_set_format(enum log_format format)
{
	log_fmt = format;
}

int
log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

static void
lb_putc(struct lbuf *b, char c)
{
	if (b->cap - b->len > 1) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	}
}

static void
lb_puts(struct lbuf *b, const char *s)
{
	while (*s != '\0')
		lb_putc(b, *s++);
}

/* Escaped copy: printable ASCII stays, `quote` and '\\' get a backslash,
 * everything else becomes \xNN. */
static void
lb_escape(struct lbuf *b, const char *s, size_t len, char quote)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || (quote != '\0' && c == (unsigned char)quote)) {
			lb_putc(b, '\\');
			lb_putc(b, (char)c);
		} else if (c >= 0x20 && c <= 0x7e) {
			lb_putc(b, (char)c);
		} else {
			lb_putc(b, '\\');
			lb_putc(b, 'x');
			lb_putc(b, hex[c >> 4]);
			lb_putc(b, hex[c & 0xf]);
		}
	}
}

/* A context value: bare when plain, quoted when empty or spaced. */
static void
lb_value(struct lbuf *b, const char *s)
{
	size_t len = strlen(s);
	int plain = len > 0;

	for (size_t i = 0; i < len && plain; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c > 0x7e || c == '"' || c == '=' || c == '\\')
			plain = 0;
	}
	if (plain) {
		lb_puts(b, s);
		return;
	}
	lb_putc(b, '"');
	lb_escape(b, s, len, '"');
	lb_putc(b, '"');
}

static void
timestamp(char *out, size_t cap)
{
	struct timespec now;
	struct tm tm;
	char sec[32];

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    gmtime_r(&now.tv_sec, &tm) == NULL ||
	    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, cap, "-");
		return;
	}
	snprintf(out, cap, "%s.%03ldZ", sec, now.tv_nsec / 1000000);
}

static void
emit(const char *line, size_t len)
{
	FILE *fp = log_fp != NULL ? log_fp : stderr;

	(void)fwrite(line, 1, len, fp);
	(void)fflush(fp);
}

static void
emit_text(const char *ts, const char *level, const char *msg, const char *err,
    const struct log_kv *kv, size_t nkv)
{
	char line[LOG_LINE_MAX];
	char num[32];
	struct lbuf b = {line, sizeof(line) - 1, 0};

	line[0] = '\0';
	lb_puts(&b, ts);
	lb_putc(&b, ' ');
	lb_puts(&b, log_procname);
	snprintf(num, sizeof(num), "[%ld] ", (long)getpid());
	lb_puts(&b, num);
	lb_puts(&b, level);
	lb_puts(&b, ": ");
	lb_escape(&b, msg, strlen(msg), '\0');
	if (err != NULL) {
		lb_puts(&b, ": ");
		lb_puts(&b, err);
	}
	for (size_t i = 0; i < nkv; i++) {
		lb_putc(&b, ' ');
		lb_puts(&b, kv[i].key);
		switch (kv[i].kind) {
		case LOG_KV_STR:
			lb_putc(&b, '=');
			lb_value(&b, kv[i].v.s != NULL ? kv[i].v.s : "(null)");
			break;
		case LOG_KV_INT:
			snprintf(num, sizeof(num), "=%lld", kv[i].v.i);
			lb_puts(&b, num);
			break;
		case LOG_KV_UINT:
			snprintf(num, sizeof(num), "=%llu", kv[i].v.u);
			lb_puts(&b, num);
			break;
		case LOG_KV_BYTES:
			snprintf(num, sizeof(num), "_bytes=%llu", kv[i].v.u);
			lb_puts(&b, num);
			break;
		}
	}
	/* The line always ends in a newline, even when cut. */
	line[b.len++] = '\n';
	emit(line, b.len);
}

/* A string through yajl; invalid UTF-8 is re-sent as escaped ASCII. */
static int
gen_str(yajl_gen g, const char *s, size_t len)
{
	char esc[LOG_LINE_MAX];
	struct lbuf b = {esc, sizeof(esc), 0};
	yajl_gen_status st;

	st = yajl_gen_string(g, (const unsigned char *)s, len);
	if (st != yajl_gen_invalid_string)
		return st == yajl_gen_status_ok ? 0 : -1;
	esc[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80)
			lb_putc(&b, (char)c); /* yajl escapes controls */
		else
			lb_escape(&b, s + i, 1, '\0');
	}
	st = yajl_gen_string(g, (const unsigned char *)esc, b.len);
	return st == yajl_gen_status_ok ? 0 : -1;
}

static int
gen_key(yajl_gen g, const char *key)
{
	return gen_str(g, key, strlen(key));
}

static int
gen_kv(yajl_gen g, const struct log_kv *kv)
{
	char key[128];
	const char *s;

	switch (kv->kind) {
	case LOG_KV_STR:
		s = kv->v.s != NULL ? kv->v.s : "(null)";
		return gen_key(g, kv->key) || gen_str(g, s, strlen(s));
	case LOG_KV_INT:
		return gen_key(g, kv->key) ||
		    yajl_gen_integer(g, kv->v.i) != yajl_gen_status_ok;
	case LOG_KV_UINT:
	case LOG_KV_BYTES:
		if (kv->kind == LOG_KV_BYTES) {
			snprintf(key, sizeof(key), "%s_bytes", kv->key);
			if (gen_key(g, key))
				return -1;
		} else if (gen_key(g, kv->key)) {
			return -1;
		}
		/* JSON integers via yajl are long long; clamp (never hit). */
		return yajl_gen_integer(g,
		           kv->v.u > (unsigned long long)LLONG_MAX
		               ? LLONG_MAX
		               : (long long)kv->v.u) != yajl_gen_status_ok;
	}
	return -1;
}

static void
emit_json(const char *ts, const char *level, const char *msg, const char *err,
    const struct log_kv *kv, size_t nkv)
{
	static const char fallback[] =
	    "{\"level\":\"error\",\"msg\":\"log: cannot generate JSON\"}\n";
	const unsigned char *out;
	size_t outlen;
	yajl_gen g;
	int bad;

	if ((g = yajl_gen_alloc(NULL)) == NULL) {
		emit(fallback, sizeof(fallback) - 1);
		return;
	}
	(void)yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	bad = yajl_gen_map_open(g) != yajl_gen_status_ok || gen_key(g, "ts") ||
	    gen_str(g, ts, strlen(ts)) || gen_key(g, "level") ||
	    gen_str(g, level, strlen(level)) || gen_key(g, "proc") ||
	    gen_str(g, log_procname, strlen(log_procname)) ||
	    gen_key(g, "pid") ||
	    yajl_gen_integer(g, (long long)getpid()) != yajl_gen_status_ok ||
	    gen_key(g, "msg") || gen_str(g, msg, strlen(msg));
	if (!bad && err != NULL)
		bad = gen_key(g, "error") || gen_str(g, err, strlen(err));
	for (size_t i = 0; i < nkv && !bad; i++)
		bad = gen_kv(g, &kv[i]);
	if (!bad)
		bad = yajl_gen_map_close(g) != yajl_gen_status_ok ||
		    yajl_gen_get_buf(g, &out, &outlen) != yajl_gen_status_ok;
	if (bad) {
		emit(fallback, sizeof(fallback) - 1);
	} else {
		char *line;

		/* One write per line: copy and add the newline. */
		if ((line = malloc(outlen + 1)) == NULL) {
			emit(fallback, sizeof(fallback) - 1);
		} else {
			memcpy(line, out, outlen);
			line[outlen] = '\n';
			emit(line, outlen + 1);
			free(line);
		}
	}
	yajl_gen_free(g);
}

static void
vlog(enum log_level level, const char *lname, int errnum,
    const struct log_kv *kv, size_t nkv, const char *fmt, va_list ap)
{
	char msg[CORE_LOG_MAX_MSG];
	char ts[48];
	const char *err = NULL;
	int n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (errnum != 0)
		err = strerror(errnum);
	timestamp(ts, sizeof(ts));
	if (log_fmt == LOG_FORMAT_JSON)
		emit_json(ts, lname, msg, err, kv, nkv);
	else
		emit_text(ts, lname, msg, err, kv, nkv);
}

void
log_kv(enum log_level level, int errnum, const struct log_kv *kv, size_t nkv,
    const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(level, level_names[level], errnum, kv, nkv, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, "warn", saved, NULL, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, "warn", 0, NULL, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, "info", 0, NULL, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, "debug", 0, NULL, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "fatal", saved, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "fatal", 0, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
