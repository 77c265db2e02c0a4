/* SPDX-License-Identifier: MIT */
/*
 * Private to ms: the Map-Server's reply rate limiting (D22) per worker, on
 * the limiter in rrl.h (rrl.c says how it works).
 *
 * Threads: a table belongs to one ms_thread.
 */
#pragma once

#include <stdbool.h>

#include <lispms/counters.h>

#include "ms_internal.h"
#include "rrl.h"

/*
 * May an answer (Map-Reply, or a forwarded request whose ETR will answer)
 * go to dst? Counted under `limited` when not. Free when the limit is off.
 */
static inline bool ms_rrl_allow(struct ms_thread *t, const struct sockaddr_storage *dst,
				enum metric_id limited)
{
	uint32_t rate = t->st->reply_rate_limit;
	if (rate == 0)
		return true;
	if (__builtin_expect(t->rrl == NULL, 0) &&
	    (t->rrl = rrl_new(LISPMS_M_MS_RRL_EVICTED)) == NULL)
		return true; /* no memory for the table: answer rather than go silent */
	if (rrl_check(t->rrl, dst, rate, t->now))
		return true;
	counters_inc(limited);
	return false;
}
