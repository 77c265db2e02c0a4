/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/mtime.h>

struct capture {
	int lines;
	enum log_level last_level;
	char last[1024];
};

static void sink(enum log_level level, const char *line, void *arg)
{
	struct capture *c = arg;
	c->lines++;
	c->last_level = level;
	snprintf(c->last, sizeof(c->last), "%s", line);
}

Test(log, levels_filter_and_parse)
{
	struct capture c = { 0 };
	log_set_sink(sink, &c);
	log_set_level(LOG_LEVEL_NOTICE);
	log_info("x, dropped (%s)", "no");
	cr_assert_eq(c.lines, 0);
	log_warning("udp, cannot bind %s (%s)", "127.0.0.1", "in use");
	cr_assert_eq(c.lines, 1);
	cr_assert_str_eq(c.last, "udp, cannot bind 127.0.0.1 (in use)");
	cr_assert_eq(c.last_level, LOG_LEVEL_WARNING);
	log_debug("never %d", 1);
	cr_assert_eq(c.lines, 1);
	cr_assert_eq(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	cr_assert_eq(log_level_parse("error"), LOG_LEVEL_ERROR);
	cr_assert_eq(log_level_parse("loud"), -1);
	cr_assert_str_eq(log_level_name(LOG_LEVEL_INFO), "info");
	log_set_sink(NULL, NULL);
}

Test(log, sampled_lines_are_rate_limited_and_counted)
{
	struct capture c = { 0 };
	log_set_sink(sink, &c);
	log_set_level(LOG_LEVEL_INFO);
	mtime_fake_set(100 * LISPMS_NS_PER_SEC);
	struct log_limit lim = LOG_LIMIT_INIT(3);
	uint64_t before = counters_sum(LISPMS_M_LOG_SUPPRESSED);
	for (int i = 0; i < 10; i++)
		log_sampled(&lim, LOG_LEVEL_INFO, "register, bad hmac from %d", i);
	cr_assert_eq(c.lines, 3);
	cr_assert_eq(counters_sum(LISPMS_M_LOG_SUPPRESSED) - before, 7);
	mtime_fake_advance(LISPMS_NS_PER_SEC);
	log_sampled(&lim, LOG_LEVEL_INFO, "register, bad hmac from %d", 10);
	cr_assert_eq(c.lines, 4);
	cr_assert_str_eq(c.last, "register, bad hmac from 10 (7 suppressed)");
	mtime_fake_set(0);
	log_set_sink(NULL, NULL);
}

Test(log, stderr_line_has_stamp_and_level)
{
	char buf[512] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	cr_assert_not_null(f);
	FILE *old = stderr;
	stderr = f;
	log_set_level(LOG_LEVEL_INFO);
	log_notice("daemon, started (%s)", "ok");
	fflush(f);
	stderr = old;
	fclose(f);
	/* 2026-11-21T06:47:33.123Z notice: daemon, started (ok) */
	cr_assert(strlen(buf) > 25, "got '%s'", buf);
	cr_assert_eq(buf[4], '-');
	cr_assert_eq(buf[10], 'T');
	cr_assert_eq(buf[23], 'Z');
	cr_assert(strstr(buf, " notice: daemon, started (ok)\n") != NULL, "got '%s'", buf);
}
