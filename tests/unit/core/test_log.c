/*
 * test_log.c — core/log.c: JSON lines come from yajl_gen and survive
 * hostile strings; text lines cannot be split or forged; levels filter;
 * log_warn adds strerror and keeps errno; secrets are logged as lengths.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl_tree.h>

#include "core/core_limits.h"
#include "core/log.h"

struct cap {
	FILE *fp;
	char *buf;
	size_t len;
};

static int
setup(void **state)
{
	struct cap *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fp = open_memstream(&c->buf, &c->len);
	assert_non_null(c->fp);
	log_init("replicad-core", LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
	log_set_stream(c->fp);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct cap *c = *state;

	log_set_stream(NULL);
	fclose(c->fp);
	free(c->buf);
	free(c);
	return 0;
}

/* The captured output so far, flushed. */
static const char *
captured(struct cap *c)
{
	fflush(c->fp);
	return c->buf;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Parses the single captured line as JSON; caller frees. */
static yajl_val
parse_line(struct cap *c)
{
	char err[256];
	const char *s = captured(c);
	yajl_val v;

	assert_int_equal(count_lines(s), 1);
	assert_int_equal(s[strlen(s) - 1], '\n');
	v = yajl_tree_parse(s, err, sizeof(err));
	if (v == NULL)
		fail_msg("not JSON: %s: %s", err, s);
	assert_true(YAJL_IS_OBJECT(v));
	return v;
}

static const char *
get_str(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_string);

	assert_non_null(x);
	return YAJL_GET_STRING(x);
}

static long long
get_int(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_number);

	assert_non_null(x);
	assert_true(YAJL_IS_INTEGER(x));
	return YAJL_GET_INTEGER(x);
}

/* Quotes, backslashes, newlines and control bytes round-trip as JSON. */
static void
test_log_json_escapes_hostile_strings(void **state)
{
	struct cap *c = *state;
	const char *hostile = "a\"b\\c\nd\re\tf\x01g}{\"level\":\"x\"";
	struct log_kv kv[] = {
	    LOG_S("identity", hostile), LOG_U("id", 7), LOG_I("peer_pid", -1)};
	yajl_val v;

	log_kv(LOG_LEVEL_WARN, 0, kv, 3, "scale by %s", hostile);
	v = parse_line(c);
	assert_string_equal(get_str(v, "level"), "warn");
	assert_string_equal(get_str(v, "proc"), "replicad-core");
	assert_string_equal(get_str(v, "identity"), hostile);
	assert_int_equal(get_int(v, "id"), 7);
	assert_int_equal(get_int(v, "peer_pid"), -1);
	{
		char want[256];

		snprintf(want, sizeof(want), "scale by %s", hostile);
		assert_string_equal(get_str(v, "msg"), want);
	}
	yajl_tree_free(v);
}

/* Invalid UTF-8 cannot make the line invalid JSON: bytes become \xNN. */
static void
test_log_json_invalid_utf8_escaped(void **state)
{
	struct cap *c = *state;
	struct log_kv kv[] = {LOG_S("name", "x\xff\xfey")};
	yajl_val v;

	log_kv(LOG_LEVEL_INFO, 0, kv, 1, "bad \xc3(");
	v = parse_line(c);
	assert_string_equal(get_str(v, "name"), "x\\xff\\xfey");
	assert_string_equal(get_str(v, "msg"), "bad \\xc3(");
	yajl_tree_free(v);
}

/* Valid UTF-8 passes unchanged. */
static void
test_log_json_keeps_valid_utf8(void **state)
{
	struct cap *c = *state;
	yajl_val v;

	log_info("caf\xc3\xa9");
	v = parse_line(c);
	assert_string_equal(get_str(v, "msg"), "caf\xc3\xa9");
	yajl_tree_free(v);
}

/* log_warn appends strerror(errno) and leaves errno as it was. */
static void
test_log_warn_adds_strerror_keeps_errno(void **state)
{
	struct cap *c = *state;
	yajl_val v;

	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	assert_int_equal(errno, ENOENT);
	v = parse_line(c);
	assert_string_equal(get_str(v, "msg"), "open /nonexistent");
	assert_string_equal(get_str(v, "error"), strerror(ENOENT));
	yajl_tree_free(v);
}

/* LOG_BYTES logs a length under "<key>_bytes", never content. */
static void
test_log_bytes_logs_length_only(void **state)
{
	struct cap *c = *state;
	struct log_kv kv[] = {LOG_BYTES("token", 913)};
	yajl_val v;

	log_kv(LOG_LEVEL_INFO, 0, kv, 1, "token reloaded");
	v = parse_line(c);
	assert_int_equal(get_int(v, "token_bytes"), 913);
	yajl_tree_free(v);
}

/* Below the threshold nothing is written; at or above it, one line. */
static void
test_log_level_filters(void **state)
{
	struct cap *c = *state;

	log_set_level(LOG_LEVEL_WARN);
	log_debug("hidden");
	log_info("hidden");
	assert_true(captured(c) == NULL || captured(c)[0] == '\0');
	log_warnx("shown");
	assert_int_equal(count_lines(captured(c)), 1);
	assert_false(log_enabled(LOG_LEVEL_INFO));
	assert_true(log_enabled(LOG_LEVEL_ERROR));
}

/* Text: one line whatever the input; controls shown as \xNN; values with
 * spaces or quotes are quoted. */
static void
test_log_text_cannot_split_lines(void **state)
{
	struct cap *c = *state;
	struct log_kv kv[] = {LOG_S("identity", "evil\n2020 forged: x=\"1\""),
	    LOG_S("plain", "abc"), LOG_U("id", 3)};
	const char *s;

	log_set_format(LOG_FORMAT_TEXT);
	log_kv(LOG_LEVEL_WARN, 0, kv, 3, "line1\nline2");
	s = captured(c);
	assert_int_equal(count_lines(s), 1);
	assert_non_null(strstr(s, " warn: line1\\x0aline2"));
	assert_non_null(
	    strstr(s, "identity=\"evil\\x0a2020 forged: x=\\\"1\\\"\""));
	assert_non_null(strstr(s, " plain=abc"));
	assert_non_null(strstr(s, " id=3\n"));
}

/* A message over the limit is cut and marked, still one valid line. */
static void
test_log_long_message_is_cut(void **state)
{
	struct cap *c = *state;
	char big[3 * CORE_LOG_MAX_MSG];
	yajl_val v;
	const char *msg;

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	v = parse_line(c);
	msg = get_str(v, "msg");
	assert_int_equal(strlen(msg), CORE_LOG_MAX_MSG - 1);
	assert_string_equal(msg + strlen(msg) - 3, "...");
	yajl_tree_free(v);
}

static void
test_log_parse_names(void **state)
{
	enum log_level l;
	enum log_format f;

	(void)state;
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_parse_level("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	assert_int_equal(log_parse_level("verbose", &l), -1);
	assert_int_equal(log_parse_level("", &l), -1);
	assert_int_equal(log_parse_format("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_parse_format("text", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_parse_format("xml", &f), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_log_json_escapes_hostile_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_log_json_invalid_utf8_escaped, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_log_json_keeps_valid_utf8, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_log_warn_adds_strerror_keeps_errno, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_log_bytes_logs_length_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_log_level_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_log_text_cannot_split_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_log_long_message_is_cut, setup, teardown),
	    cmocka_unit_test(test_log_parse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
