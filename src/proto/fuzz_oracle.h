/* SPDX-License-Identifier: MIT */
/*
 * Shared by the proto fuzz targets: one arena per process (reset per input)
 * and the round-trip oracle. Anything that violates a property aborts, so
 * libFuzzer reports it as a crash.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "testgen.h"

#define FUZZ_BUF 70000

static inline void fuzz_check(bool cond)
{
	if (!cond)
		abort();
}

static inline struct arena *fuzz_arena(void)
{
	static struct arena a;
	if (a.base == NULL && arena_init(&a, 1u << 20) != LISPMS_EOK)
		abort();
	arena_reset(&a);
	return &a;
}

/* A decoded UDP message re-encodes to the input (all but ECM), and always
 * to something that decodes to the same message and re-encodes identically. */
static inline void fuzz_udp_roundtrip(const struct lisp_msg *m, const uint8_t *data, size_t size,
				      struct arena *a)
{
	static uint8_t b1[FUZZ_BUF], b2[FUZZ_BUF];
	size_t n1, n2;
	if ((m->type == LISP_MSG_MAP_NOTIFY || m->type == LISP_MSG_MAP_NOTIFY_ACK) &&
	    (m->u.notify.flags & LISP_MNOT_WS_BITS) != 0) {
		/* accepted when received, never sent (docs/protocol.md §2.5) */
		fuzz_check(msg_encode(m, b1, sizeof(b1), &n1) == LISPMS_EINVAL);
		return;
	}
	fuzz_check(msg_encode(m, b1, sizeof(b1), &n1) == LISPMS_EOK);
	if (m->type != LISP_MSG_ECM)
		fuzz_check(n1 == size && memcmp(b1, data, size) == 0);
	struct lisp_msg d;
	fuzz_check(msg_decode(b1, n1, a, &d) == LISPMS_EOK);
	fuzz_check(testgen_msg_equal(m, &d));
	fuzz_check(msg_encode(&d, b2, sizeof(b2), &n2) == LISPMS_EOK);
	fuzz_check(n2 == n1 && memcmp(b1, b2, n1) == 0);
}
