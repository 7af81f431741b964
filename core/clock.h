/*
 * clock.h — the monotonic clock every core timestamp uses.
 *
 * One function, in its own module, so that a module which only needs the
 * time (the Lease, health, the reconciler, the scale path, replicad-ctl)
 * does not link the reflector to get it.  Monotonic on purpose: deadlines
 * and ages must not jump when the wall clock is set; the Lease's wall-clock
 * times are written by lease.c from the real clock, never compared with
 * this one.
 */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t clock_now_ms(void);

#endif /* CORE_CLOCK_H */
