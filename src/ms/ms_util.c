/* SPDX-License-Identifier: MIT */
/*
 * The request core's shared helpers, below every other file of ms: putting
 * an answer in the outbox, counting malformed input, the debug narration's
 * formatting, the per-worker random numbers and the wall clock. They call
 * nothing else in ms.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lispms/counters.h>
#include <lispms/mtime.h>

#include "ms_internal.h"

uint64_t ms_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * LISPMS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t ms_random(struct ms_thread *t)
{
	/* xorshift64*: nonces need to be unpredictable enough to not collide */
	uint64_t x = t->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

const char *ms_fmt_eid(const struct eid_prefix *p, char buf[LISPMS_EID_STRLEN])
{
	if (p == NULL || eid_prefix_format(p, buf, LISPMS_EID_STRLEN) < 0)
		snprintf(buf, LISPMS_EID_STRLEN, "-");
	return buf;
}

const char *ms_fmt_saddr(const struct sockaddr_storage *s, char buf[MS_TEXT_LEN])
{
	if (s == NULL || saddr_format(s, buf, MS_TEXT_LEN) < 0)
		snprintf(buf, MS_TEXT_LEN, "-");
	return buf;
}

const char *ms_fmt_addr(const struct lisp_addr *a, char buf[MS_TEXT_LEN])
{
	if (a == NULL || lisp_addr_format(a, buf, MS_TEXT_LEN) < 0)
		snprintf(buf, MS_TEXT_LEN, "-");
	return buf;
}

void ms_count_malformed(int err)
{
	switch (err) {
	case LISPMS_ETRUNC:
		counters_inc(LISPMS_M_MS_MALFORMED_TRUNC);
		break;
	case LISPMS_EAFI:
		counters_inc(LISPMS_M_MS_MALFORMED_AFI);
		break;
	case LISPMS_ELCAF:
		counters_inc(LISPMS_M_MS_MALFORMED_LCAF);
		break;
	case LISPMS_ETOOMANY:
		counters_inc(LISPMS_M_MS_MALFORMED_COUNT);
		break;
	case LISPMS_EAUTHLEN:
		counters_inc(LISPMS_M_MS_MALFORMED_AUTHLEN);
		break;
	case LISPMS_ETYPE:
		counters_inc(LISPMS_M_MS_MALFORMED_TYPE);
		break;
	default:
		counters_inc(LISPMS_M_MS_MALFORMED_OTHER);
		break;
	}
}

bool ms_emit(struct dgram_outbox *out, const uint8_t *msg, size_t len,
	     const struct sockaddr_storage *dst, const struct sockaddr_storage *src)
{
	struct dgram_out *tx = dgram_outbox_put(out, len, dst, src);
	if (tx == NULL)
		return false;
	memcpy((uint8_t *)tx->data, msg, len);
	return true;
}
