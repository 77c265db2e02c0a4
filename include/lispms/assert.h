/* SPDX-License-Identifier: MIT */
/*
 * Three tiers of assertions.
 *   REQUIRE(x)       always on, aborts: continuing would corrupt shared state.
 *   fails_assert(x)  internal invariant: logs, aborts in developer builds,
 *                    returns true in production so the caller can recover:
 *                    `if (fails_assert(n < max)) return LISPMS_EINTERNAL;`
 *   assert(x)        cheap debug-only checks (<assert.h>).
 * Never assert on packet contents: hostile input is an error code.
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>

#include <lispms/log.h>

__attribute__((noreturn)) void assert_abort(const char *expr, const char *file, int line);
bool assert_failed(const char *expr, const char *file, int line);

#define REQUIRE(x)	((x) ? (void)0 : assert_abort(#x, __FILE__, __LINE__))
#define fails_assert(x) (__builtin_expect(!(x), 0) ? assert_failed(#x, __FILE__, __LINE__) : false)
