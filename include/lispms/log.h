/* SPDX-License-Identifier: MIT */
/*
 * Logging. Lines have the shape "<area>, <what happened> (<error>)" and go to
 * stderr with a time stamp and level, or to a sink installed by tests.
 * Per-packet events use log_sampled(): a struct log_limit per call site lets
 * a few lines per second through and counts the rest, which the next line
 * that passes reports as "(N suppressed)".
 *
 * Threads: every function is safe from any thread.
 */
#pragma once

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Receives every formatted line (without the trailing newline). */
typedef void log_sink_fn(enum log_level level, const char *line, void *arg);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "error", "warning", "notice", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/* Replace the stderr sink (NULL restores it). */
void log_set_sink(log_sink_fn *fn, void *arg);

static inline bool log_enabled(enum log_level level)
{
	extern _Atomic int log_current_level;
	return (int)level <= atomic_load_explicit(&log_current_level, memory_order_relaxed);
}

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define log_error(...)	 log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)	 log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                         \
	do {                                                   \
		if (log_enabled(LOG_LEVEL_DEBUG))              \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

/* Rate limit for one call site: `per_sec` lines per second pass. */
struct log_limit {
	_Atomic uint64_t window; /* second of the current window */
	_Atomic uint32_t passed; /* lines let through in this window */
	_Atomic uint64_t suppressed;
	uint32_t per_sec;
};

#define LOG_LIMIT_INIT(n)      \
	{                      \
		.per_sec = (n) \
	}

/* True when this call site may log now; counts a suppressed line otherwise. */
bool log_limit_pass(struct log_limit *lim);

/* Log through a limit; the line reports how many were suppressed before it. */
__attribute__((format(printf, 3, 4))) void log_sampled(struct log_limit *lim, enum log_level level,
						       const char *fmt, ...);

/*
 * Log a line the caller already let through log_limit_pass(), so that a
 * call site can skip formatting its arguments when the line would be
 * suppressed anyway (log_sampled() formats them before deciding).
 */
__attribute__((format(printf, 3, 4))) void log_passed(struct log_limit *lim, enum log_level level,
						      const char *fmt, ...);
