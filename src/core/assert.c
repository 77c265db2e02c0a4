/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include <lispms/assert.h>
#include <lispms/counters.h>
#include <lispms/log.h>

void assert_abort(const char *expr, const char *file, int line)
{
	log_error("assert, %s failed at %s:%d (aborting)", expr, file, line);
	abort();
}

bool assert_failed(const char *expr, const char *file, int line)
{
#ifdef LISPMS_DEVELOPER
	assert_abort(expr, file, line);
#else
	static struct log_limit lim = LOG_LIMIT_INIT(1);
	counters_inc(LISPMS_M_INTERNAL_ERRORS);
	log_sampled(&lim, LOG_LEVEL_ERROR, "assert, %s failed at %s:%d (recovering)", expr, file,
		    line);
	return true;
#endif
}
