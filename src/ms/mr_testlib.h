/* SPDX-License-Identifier: MIT */
/*
 * Private to the Map-Resolver's tests (mr_test.c, mr_cache_test.c,
 * mr_pending_test.c, one ms.mr executable): addresses and prefixes from
 * text, a small configuration, cache entries, scripted ITR requests and
 * Map-Referrals (answered with the nonce the DDT Map-Request in flight
 * carries, docs/protocol.md D25), and the check that a send is the ITR's
 * request to the expected RLOC.
 */
#pragma once

#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>
#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/mr.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "mr_wire_testlib.h"

static inline void setup(void)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
}

static inline void teardown(void)
{
	lrcu_barrier();
	thread_unregister();
}

static inline struct lisp_addr A(const char *t) {
	struct lisp_addr a;
	cr_assert_eq(lisp_addr_parse(t, &a), LISPMS_EOK, "%s", t);
	return a;
}

static inline struct eid_prefix
P(const char *t) {
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse(t, &p), LISPMS_EOK, "%s", t);
	return p;
}

static inline struct mr_config
cfg(void)
{
	struct mr_config c = {
		.nroots = 1,
		.cache_max = 100,
		.pending_max = 16,
		.timeout_ms = 1000,
		.retries = 1,
		.max_depth = 8,
	};
	c.roots[0] = A("10.0.0.1");
	return c;
}

static inline struct mr *mk(const struct mr_config *c)
{
	struct mr *m = NULL;
	cr_assert_eq(mr_new(c, &m), LISPMS_EOK);
	return m;
}

static inline struct mr_cache_entry ent(const char *prefix, uint8_t act, uint32_t ttl,
					const char *rloc)
{
	struct mr_cache_entry e = { .prefix = P(prefix), .act = act, .ttl_min = ttl };
	if (rloc != NULL) {
		e.rlocs[0] = A(rloc);
		e.nrlocs = 1;
	}
	return e;
}

/* A scripted Map-Referral: one record, up to 3 RLOCs. */
struct sref {
	struct lisp_map_referral m;
	struct lisp_referral_record rec;
	struct lisp_locator locs[3];
};

static inline void mkref(struct sref *s, uint64_t nonce, const char *prefix, uint8_t act,
			 uint32_t ttl, const char *r1, const char *r2)
{
	memset(s, 0, sizeof(*s));
	struct eid_prefix p = P(prefix);
	afi_from_eid(&p, &s->rec.r.eid);
	s->rec.r.eid_plen = p.plen;
	s->rec.r.act = act;
	s->rec.r.ttl = ttl;
	const char *rl[2] = { r1, r2 };
	for (unsigned i = 0; i < 2; i++) {
		if (rl[i] == NULL)
			continue;
		struct lisp_addr a = A(rl[i]);
		struct lisp_locator *l = &s->locs[s->rec.r.nlocs++];
		l->addr.kind = AFI_PLAIN;
		l->addr.afi = a.afi;
		memcpy(l->addr.bytes, a.bytes, sizeof(a.bytes));
	}
	s->rec.r.locs = s->locs;
	s->m.nonce = nonce;
	s->m.nrecords = 1;
	s->m.records = &s->rec;
}

static const uint8_t REQ[] = { 0x10, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8 };

static inline void request(struct mr *m, const char *eid, uint64_t nonce, uint64_t now,
			   struct mr_action *act)
{
	struct eid_prefix e = P(eid);
	struct lisp_addr itr = A("192.0.2.9");
	cr_assert_eq(mr_request(m, &e, nonce, &itr, 4342, REQ, sizeof(REQ), now, act), LISPMS_EOK);
}

/* A Map-Referral as the node asked sends it: with the nonce of the DDT
 * Map-Request it answers (that of the request with the ITR's nonce). */
static inline void referral(struct mr *m, uint64_t nonce, const char *from, const char *prefix,
			    uint8_t act, uint32_t ttl, const char *r1, const char *r2, uint64_t now,
			    struct mr_action *out)
{
	struct sref s;
	mkref(&s, wire_nonce(m, nonce), prefix, act, ttl, r1, r2);
	struct lisp_addr f = A(from);
	mr_referral(m, &s.m, &f, now, out);
}

static inline void assert_send(const struct mr_action *a, const char *to)
{
	cr_assert_eq(a->kind, MR_ACT_SEND, "kind %d", a->kind);
	struct lisp_addr t = A(to);
	char got[64];
	lisp_addr_format(&a->to, got, sizeof(got));
	cr_assert(lisp_addr_equal(&a->to, &t), "sent to %s, want %s", got, to);
	cr_assert_eq(a->request_len, sizeof(REQ));
	cr_assert_eq(memcmp(a->request, REQ, sizeof(REQ)), 0, "the ITR's request, unchanged");
}
