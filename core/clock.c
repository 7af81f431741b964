/*
 * clock.c — the monotonic clock (see clock.h).
 */
#include <time.h>

#include "core/clock.h"

uint64_t
clock_now_ms(void)
{
	struct timespec ts;

	/* Cannot fail with CLOCK_MONOTONIC and a valid pointer (POSIX). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
