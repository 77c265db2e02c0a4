/* SPDX-License-Identifier: MIT */
/*
 * Monotonic time. mtime_now_ns() reads CLOCK_MONOTONIC unless a test has
 * installed a fake clock with mtime_fake_set(), so timers and expiry can be
 * tested without sleeping.
 *
 * Threads: any thread. The fake clock is a process-wide atomic.
 */
#pragma once

#include <stdint.h>
#include <time.h>

#define LISPMS_NS_PER_SEC  1000000000ull
#define LISPMS_NS_PER_MSEC 1000000ull

/* Nanoseconds on the monotonic clock (or the fake clock when set). */
uint64_t mtime_now_ns(void);

/* Whole seconds on the same clock. */
static inline uint64_t mtime_now_s(void)
{
	return mtime_now_ns() / LISPMS_NS_PER_SEC;
}

/* Nanoseconds on CLOCK_REALTIME, for log time stamps only. */
uint64_t mtime_wall_ns(void);

/* The time `after_ms` from now on `clock` (the real one, never the fake), as
 * an absolute deadline for pthread_cond_timedwait() and the like. */
struct timespec mtime_deadline(clockid_t clock, unsigned after_ms);

/* Tests: freeze the clock at ns (non-zero); 0 returns to the real clock. */
void mtime_fake_set(uint64_t ns);

/* Tests: move the fake clock forward. */
void mtime_fake_advance(uint64_t ns);
