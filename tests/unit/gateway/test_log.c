/*
 * test_log.c — the gateway log's pieces that the request path relies on:
 * log_itoa (every integer a JSON answer or an access line carries) and
 * the access-line buffer (lines keep their order: any other line writes
 * the buffered access lines first; log_flush empties it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <limits.h>

#include <cmocka.h>

#include "gateway/log.h"

static void
itoa_is(long long v, const char *want)
{
	char buf[LOG_ITOA_SIZE];
	size_t n;
	const char *p = log_itoa(v, buf, &n);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
}

static void
test_log_itoa(void **state)
{
	char want[32];

	(void)state;
	itoa_is(0, "0");
	itoa_is(7, "7");
	itoa_is(-1, "-1");
	itoa_is(2147483647, "2147483647");
	snprintf(want, sizeof(want), "%lld", LLONG_MAX);
	itoa_is(LLONG_MAX, want);
	snprintf(want, sizeof(want), "%lld", LLONG_MIN);
	itoa_is(LLONG_MIN, want);
}

/* What stderr received so far (non-blocking read of the pipe). */
static size_t
drain(int fd, char *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static void
test_log_access_buffer_keeps_order(void **state)
{
	struct log_access a = {
	    "api", "127.0.0.1:1", "-", "GET", "/x", 200, 5, 0, 3, NULL};
	char buf[8192];
	int p[2], saved = dup(STDERR_FILENO);

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(log_init("info", "text"), 0);
	log_buffer_access(1);
	log_access(&a);
	log_access(&a);
	/* Nothing written yet: both wait in the buffer. */
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(drain(p[0], buf, sizeof(buf)), 0);
	/* Any other line writes them first, then itself. */
	log_info("marker");
	drain(p[0], buf, sizeof(buf));
	assert_non_null(strstr(buf, "access"));
	assert_true(strstr(buf, "access") < strstr(buf, "marker"));
	assert_null(strstr(strstr(buf, "marker"), "access"));
	log_access(&a);
	log_flush();
	drain(p[0], buf, sizeof(buf));
	assert_non_null(strstr(buf, "path=\"/x\" status=200"));
	log_buffer_access(0);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_itoa),
	    cmocka_unit_test(test_log_access_buffer_keeps_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
