/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP output for tests that are plain executables (concurrency tests
 * under TSan, fuzz replay, integration drivers), so meson and tools/test count
 * them the same way as the Criterion suites.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_count;
static int tap_failed;

static inline void tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3))) static inline bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%sok %d - ", cond ? "" : "not ", ++tap_count);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline void tap_skip(const char *why)
{
	printf("ok %d - skipped # SKIP %s\n", ++tap_count, why);
	fflush(stdout);
}

/* Exit status for main(): non-zero when any check failed. */
static inline int tap_done(void)
{
	return tap_failed ? 1 : 0;
}
