/*
 * log.c — the gateway's own log: levelled, one line per call, text or
 * JSON.  JSON lines are generated with yajl_gen (no hand-built JSON); text
 * lines are "time level message" with untrusted fields sanitized.  Each
 * line is emitted with a single write(2) so lines from one process never
 * interleave.  This module does not rate-limit.
 *
 * Access lines, one per request, are the volume: with log_buffer_access()
 * on they collect in a buffer written when full, by log_flush() (main.c
 * calls it every second, on SIGHUP and at exit), and before any other
 * line, which is written at once: so lines keep their order and every
 * line but an access line leaves immediately.
 */
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <yajl_gen.h>

#include "gateway/gw_limits.h"
#include "gateway/log.h"

static enum log_level log_level = LOG_LVL_INFO;
static enum log_format log_format = LOG_FMT_TEXT;

static char access_buf[GW_LOG_BUFFER];
static size_t access_len;
static int access_buffered;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int
log_init(const char *level, const char *format)
{
	size_t i;
	int found;

	if (level != NULL) {
		found = 0;
		for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
		     i++) {
			if (strcmp(level, level_names[i]) == 0) {
				log_level = (enum log_level)i;
				found = 1;
			}
		}
		if (!found)
			return -1;
	}
	if (format != NULL) {
		if (strcmp(format, "text") == 0)
			log_format = LOG_FMT_TEXT;
		else if (strcmp(format, "json") == 0)
			log_format = LOG_FMT_JSON;
		else
			return -1;
	}
	return 0;
}

int
log_enabled(enum log_level lvl)
{
	return lvl <= log_level;
}

void
log_sanitize(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t i, n;
	unsigned char c;

	if (dstsz == 0)
		return;
	n = srclen < dstsz - 1 ? srclen : dstsz - 1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)src[i];
		dst[i] = (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\')
		    ? (char)c
		    : '?';
	}
	dst[n] = '\0';
}

/* "2026-01-02T03:04:05.678Z"; the seconds are formatted once a second. */
static void
timestamp(char *buf, size_t len)
{
	static char base[32];
	static time_t base_sec = -1;
	struct timeval tv;
	struct tm tm;
	unsigned ms;
	size_t n;

	if (len > 0)
		buf[0] = '\0';
	gettimeofday(&tv, NULL);
	if (tv.tv_sec != base_sec) {
		gmtime_r(&tv.tv_sec, &tm);
		if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			base[0] = '\0';
		base_sec = tv.tv_sec;
	}
	ms = (unsigned)(tv.tv_usec / 1000) % 1000;
	n = strnlen(base, 20);
	if (len < n + 6)
		return;
	memcpy(buf, base, n);
	buf[n++] = '.';
	buf[n++] = (char)('0' + ms / 100);
	buf[n++] = (char)('0' + ms / 10 % 10);
	buf[n++] = (char)('0' + ms % 10);
	buf[n++] = 'Z';
	buf[n] = '\0';
}

static void
write_all(const char *line, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDERR_FILENO, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

void
log_flush(void)
{
	if (access_len > 0)
		write_all(access_buf, access_len);
	access_len = 0;
}

void
log_buffer_access(int on)
{
	if (!on)
		log_flush();
	access_buffered = on;
}

/* One line out: an access line may wait in the buffer, others do not. */
static void
emit(const char *line, size_t len, int access)
{
	if (access && access_buffered) {
		if (len > sizeof(access_buf) - access_len)
			log_flush();
		if (len <= sizeof(access_buf) - access_len) {
			memcpy(access_buf + access_len, line, len);
			access_len += len;
			return;
		}
	}
	log_flush();
	write_all(line, len);
}

/* Field list for one JSON line; values are printable ASCII or numbers. */
struct log_field {
	const char *key;
	const char *str; /* NULL: use num */
	long long num;
};

static void
gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void
emit_json(enum log_level lvl, const char *msg, const struct log_field *f,
    size_t nf, int access)
{
	yajl_gen g;
	const unsigned char *out;
	size_t outlen, i;
	char ts[40];

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		return;
	timestamp(ts, sizeof(ts));
	yajl_gen_map_open(g);
	gen_str(g, "time");
	gen_str(g, ts);
	gen_str(g, "level");
	gen_str(g, level_names[lvl]);
	gen_str(g, "msg");
	gen_str(g, msg);
	for (i = 0; i < nf; i++) {
		gen_str(g, f[i].key);
		if (f[i].str != NULL)
			gen_str(g, f[i].str);
		else
			yajl_gen_integer(g, f[i].num);
	}
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &out, &outlen) == yajl_gen_status_ok) {
		char line[GW_LOG_LINE * 2];

		if (outlen > sizeof(line) - 1)
			outlen = sizeof(line) - 1;
		memcpy(line, out, outlen);
		line[outlen] = '\n';
		emit(line, outlen + 1, access);
	}
	yajl_gen_free(g);
}

/* Appends to a line with a bound; a full line is cut, never overrun. */
struct line {
	char *p;
	size_t len, cap;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - l->len)
		n = l->cap - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void
put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

const char *
log_itoa(long long v, char buf[LOG_ITOA_SIZE], size_t *len)
{
	size_t i = LOG_ITOA_SIZE;
	unsigned long long u =
	    v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[--i] = '-';
	*len = LOG_ITOA_SIZE - i;
	return buf + i;
}

static void
put_num(struct line *l, long long v)
{
	char d[LOG_ITOA_SIZE];
	size_t n;
	const char *p = log_itoa(v, d, &n);

	put(l, p, n);
}

static void
emit_text(enum log_level lvl, const char *msg, const struct log_field *f,
    size_t nf, int access)
{
	char buf[GW_LOG_LINE * 2], ts[40];
	struct line l = {buf, 0, sizeof(buf) - 1};
	size_t i;

	timestamp(ts, sizeof(ts));
	put_str(&l, ts);
	put(&l, " ", 1);
	put_str(&l, level_names[lvl]);
	put(&l, " ", 1);
	put_str(&l, msg);
	for (i = 0; i < nf; i++) {
		put(&l, " ", 1);
		put_str(&l, f[i].key);
		if (f[i].str != NULL) {
			put(&l, "=\"", 2);
			put_str(&l, f[i].str);
			put(&l, "\"", 1);
		} else {
			put(&l, "=", 1);
			put_num(&l, f[i].num);
		}
	}
	buf[l.len++] = '\n'; /* cap leaves room for it */
	emit(buf, l.len, access);
}

static void
emit_line(enum log_level lvl, const char *msg, const struct log_field *f,
    size_t nf, int access)
{
	char clean[GW_LOG_LINE];

	/* Messages may quote peer data; keep lines single and printable. */
	log_sanitize(clean, sizeof(clean), msg, strlen(msg));
	if (log_format == LOG_FMT_JSON)
		emit_json(lvl, clean, f, nf, access);
	else
		emit_text(lvl, clean, f, nf, access);
}

static void vlog(enum log_level lvl, int with_errno, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
vlog(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	char msg[GW_LOG_LINE];
	int saved = errno;
	size_t len;

	if (!log_enabled(lvl))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	}
	emit_line(lvl, msg, NULL, 0, 0);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARN, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *
log_ssl_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t used = 0;
	const char *reason;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		if (used >= len - 1)
			continue; /* keep draining */
		reason = ERR_reason_error_string(e);
		n = snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? "; " : "", reason != NULL ? reason : "unknown");
		if (n > 0)
			used += (size_t)n;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "no OpenSSL error");
	return buf;
}

void
log_ssl(const char *what)
{
	char errs[512];

	log_warnx("%s: %s", what, log_ssl_errors(errs, sizeof(errs)));
}

void
log_access(const struct log_access *a)
{
	struct log_field f[11];
	size_t n = 0;

	if (!log_enabled(LOG_LVL_INFO))
		return;
	f[n++] = (struct log_field){"listener", a->listener, 0};
	f[n++] = (struct log_field){"peer", a->peer, 0};
	f[n++] = (struct log_field){"identity", a->identity, 0};
	f[n++] = (struct log_field){"method", a->method, 0};
	f[n++] = (struct log_field){"path", a->path, 0};
	f[n++] = (struct log_field){"status", NULL, a->status};
	f[n++] = (struct log_field){"latency_us", NULL, a->latency_us};
	f[n++] = (struct log_field){"bytes_in", NULL, (long long)a->bytes_in};
	f[n++] = (struct log_field){"bytes_out", NULL, (long long)a->bytes_out};
	if (a->reason != NULL)
		f[n++] = (struct log_field){"reason", a->reason, 0};
	emit_line(LOG_LVL_INFO, "access", f, n, 1);
}

void
log_audit(const struct log_audit *a)
{
	struct log_field f[11];
	size_t n = 0;

	if (!log_enabled(LOG_LVL_INFO))
		return;
	f[n++] = (struct log_field){"identity", a->identity, 0};
	f[n++] = (struct log_field){"action", a->action, 0};
	f[n++] = (struct log_field){"namespace", a->ns, 0};
	f[n++] = (struct log_field){"deployment", a->name, 0};
	f[n++] = (struct log_field){"replicas", NULL, a->replicas};
	f[n++] = (struct log_field){"outcome", a->outcome, 0};
	/* The mode and the conditions decide what "ok" meant. */
	f[n++] = (struct log_field){"dry_run", NULL, a->dry_run != 0};
	f[n++] = (struct log_field){"force", NULL, a->force != 0};
	if (a->suspended >= 0)
		f[n++] = (struct log_field){"suspended", NULL, a->suspended};
	if (a->expected >= 0)
		f[n++] = (struct log_field){"expected", NULL, a->expected};
	if (a->if_match != NULL && a->if_match[0] != '\0')
		f[n++] = (struct log_field){"if_match", a->if_match, 0};
	emit_line(LOG_LVL_INFO, "audit", f, n, 0);
}
