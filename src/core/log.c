/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/mtime.h>

_Atomic int log_current_level = LOG_LEVEL_INFO;

static log_sink_fn *_Atomic sink_fn;
static void *_Atomic sink_arg;

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&log_current_level, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_current_level, memory_order_relaxed);
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

void log_set_sink(log_sink_fn *fn, void *arg)
{
	atomic_store(&sink_arg, arg);
	atomic_store(&sink_fn, fn);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;

	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);

	log_sink_fn *fn = atomic_load(&sink_fn);
	if (fn != NULL) {
		fn(level, msg, atomic_load(&sink_arg));
		return;
	}

	uint64_t now = mtime_wall_ns();
	time_t secs = (time_t)(now / LISPMS_NS_PER_SEC);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* one fprintf per line: stdio locks the stream, so lines never interleave */
	fprintf(stderr, "%s.%03uZ %s: %s\n", stamp,
		(unsigned)(now % LISPMS_NS_PER_SEC / LISPMS_NS_PER_MSEC), log_level_name(level),
		msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

bool log_limit_pass(struct log_limit *lim)
{
	uint64_t sec = mtime_now_ns() / LISPMS_NS_PER_SEC;
	uint64_t window = atomic_load_explicit(&lim->window, memory_order_relaxed);
	if (window != sec &&
	    atomic_compare_exchange_strong_explicit(&lim->window, &window, sec,
						    memory_order_relaxed, memory_order_relaxed))
		atomic_store_explicit(&lim->passed, 0, memory_order_relaxed);
	uint32_t per_sec = lim->per_sec ? lim->per_sec : 1;
	if (atomic_fetch_add_explicit(&lim->passed, 1, memory_order_relaxed) < per_sec)
		return true;
	atomic_fetch_add_explicit(&lim->suppressed, 1, memory_order_relaxed);
	counters_inc(LISPMS_M_LOG_SUPPRESSED);
	return false;
}

static void log_passed_v(struct log_limit *lim, enum log_level level, const char *fmt, va_list ap)
{
	char msg[960];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	uint64_t skipped = atomic_exchange_explicit(&lim->suppressed, 0, memory_order_relaxed);
	if (skipped > 0)
		log_msg(level, "%s (%llu suppressed)", msg, (unsigned long long)skipped);
	else
		log_msg(level, "%s", msg);
}

void log_sampled(struct log_limit *lim, enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level) || !log_limit_pass(lim))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_passed_v(lim, level, fmt, ap);
	va_end(ap);
}

void log_passed(struct log_limit *lim, enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_passed_v(lim, level, fmt, ap);
	va_end(ap);
}
