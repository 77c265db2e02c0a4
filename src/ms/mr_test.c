/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's referral cache, pending table and state machine
 * (mr.h), driven by scripted Map-Referrals and an explicit clock.
 */
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

static void setup(void)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
}

static void teardown(void)
{
	lrcu_barrier();
	thread_unregister();
}

TestSuite(mr, .init = setup, .fini = teardown);

static struct lisp_addr A(const char *t) {
	struct lisp_addr a;
	cr_assert_eq(lisp_addr_parse(t, &a), LISPMS_EOK, "%s", t);
	return a;
}

static struct eid_prefix
P(const char *t) {
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse(t, &p), LISPMS_EOK, "%s", t);
	return p;
}

static struct mr_config
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

static struct mr *mk(const struct mr_config *c)
{
	struct mr *m = NULL;
	cr_assert_eq(mr_new(c, &m), LISPMS_EOK);
	return m;
}

static struct mr_cache_entry ent(const char *prefix, uint8_t act, uint32_t ttl, const char *rloc)
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

static void mkref(struct sref *s, uint64_t nonce, const char *prefix, uint8_t act, uint32_t ttl,
		  const char *r1, const char *r2)
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

static void request(struct mr *m, const char *eid, uint64_t nonce, uint64_t now,
		    struct mr_action *act)
{
	struct eid_prefix e = P(eid);
	struct lisp_addr itr = A("192.0.2.9");
	cr_assert_eq(mr_request(m, &e, nonce, &itr, 4342, REQ, sizeof(REQ), now, act), LISPMS_EOK);
}

struct wire_find {
	uint64_t itr, wire;
	bool found;
};

static bool wire_one(const struct mr_pending_info *p, void *arg)
{
	struct wire_find *w = arg;
	if (p->nonce != w->itr)
		return true;
	w->wire = p->ddt_nonce;
	w->found = true;
	return false;
}

/* The nonce the DDT Map-Request in flight for the ITR's nonce carries
 * (the pending view's ddt_nonce), or itr itself when none is pending. */
static uint64_t wire_nonce(struct mr *m, uint64_t itr)
{
	struct wire_find w = { .itr = itr };
	mr_pending_foreach(m, wire_one, &w);
	return w.found ? w.wire : itr;
}

/* A Map-Referral as the node asked sends it: with the nonce of the DDT
 * Map-Request it answers (that of the request with the ITR's nonce). */
static void referral(struct mr *m, uint64_t nonce, const char *from, const char *prefix,
		     uint8_t act, uint32_t ttl, const char *r1, const char *r2, uint64_t now,
		     struct mr_action *out)
{
	struct sref s;
	mkref(&s, wire_nonce(m, nonce), prefix, act, ttl, r1, r2);
	struct lisp_addr f = A(from);
	mr_referral(m, &s.m, &f, now, out);
}

static void assert_send(const struct mr_action *a, const char *to)
{
	cr_assert_eq(a->kind, MR_ACT_SEND, "kind %d", a->kind);
	struct lisp_addr t = A(to);
	char got[64];
	lisp_addr_format(&a->to, got, sizeof(got));
	cr_assert(lisp_addr_equal(&a->to, &t), "sent to %s, want %s", got, to);
	cr_assert_eq(a->request_len, sizeof(REQ));
	cr_assert_eq(memcmp(a->request, REQ, sizeof(REQ)), 0, "the ITR's request, unchanged");
}

/* ------------------------------------------------------------ cache */

Test(mr, cache_longest_prefix_match_per_instance)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[1] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 10, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	e = ent("[1] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 10, "10.9.9.2");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	e = ent("[2] 10.1.2.0/24", LISP_REF_MS_REFERRAL, 10, "10.9.9.3");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_cache_entry out;
	struct eid_prefix q = P("[1] 10.1.2.3/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 16, "the /16, not the other instance's /24");
	cr_assert_eq(out.act, LISP_REF_MS_REFERRAL);
	q = P("[1] 10.2.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 8);
	q = P("[3] 10.1.2.3/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT, "no such instance");
	q = P("[1] 11.0.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT);
	q = P("[1] 2001:db8::1/128");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT, "other family");
	mr_free(m);
}

Test(mr, cache_ttl_expiry)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[1] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 2, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	e = ent("[1] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1, "10.9.9.2");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_cache_entry out;
	struct eid_prefix q = P("[1] 10.1.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 59999, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 16);
	cr_assert_eq(mr_cache_lookup(m, &q, 60000, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 8, "the /16 expired after its minute: the /8 covers");
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_EXPIRED), 1);
	cr_assert_eq(mr_cache_count(m), 1);
	struct mr_action acts[4];
	cr_assert_eq(mr_tick(m, 120000, acts, 4), 0);
	cr_assert_eq(mr_cache_count(m), 0, "the sweep removes the /8 at its TTL");
	cr_assert_eq(mr_cache_lookup(m, &q, 120000, &out), LISPMS_ENOENT);
	mr_free(m);
}

/* The sweep walks the whole cache: it runs on its own clock, not at every
 * tick (every wake-up of the resolver thread calls mr_tick). */
Test(mr, the_cache_is_swept_once_a_second_not_at_every_tick)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[1] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_action acts[4];
	cr_assert_eq(mr_tick(m, 59500, acts, 4), 0); /* sweeps: nothing expired yet */
	cr_assert_eq(mr_tick(m, 60100, acts, 4), 0);
	cr_assert_eq(mr_cache_count(m), 1, "expired at 60000, but the last sweep was 600 ms ago");
	cr_assert_eq(mr_tick(m, 60500, acts, 4), 0);
	cr_assert_eq(mr_cache_count(m), 0,
		     "a second after the last sweep, the next one removes it");
	mr_free(m);
}

Test(mr, cache_bound_evicts_least_recently_used)
{
	struct mr_config c = cfg();
	c.cache_max = 3;
	struct mr *m = mk(&c);
	const char *pfx[] = { "[0] 10.1.0.0/16", "[0] 10.2.0.0/16", "[0] 10.3.0.0/16",
			      "[0] 10.4.0.0/16" };
	for (unsigned i = 0; i < 3; i++) {
		struct mr_cache_entry e = ent(pfx[i], LISP_REF_MS_REFERRAL, 10, "10.9.9.1");
		cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	}
	struct mr_cache_entry out;
	struct eid_prefix q = P("[0] 10.1.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK, "touch the oldest");
	struct mr_cache_entry e = ent(pfx[3], LISP_REF_MS_REFERRAL, 10, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 1), LISPMS_EOK);
	cr_assert_eq(mr_cache_count(m), 3, "bounded");
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_EVICT), 1);
	q = P("[0] 10.2.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT, "the LRU one went");
	q = P("[0] 10.1.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK);
	/* Many more than the bound, across instances: still bounded. */
	for (unsigned i = 0; i < 200; i++) {
		char t[48];
		snprintf(t, sizeof(t), "[%u] 10.%u.0.0/16", i % 7, i % 250);
		e = ent(t, LISP_REF_NODE_REFERRAL, 10, "10.9.9.1");
		cr_assert_eq(mr_cache_put(m, &e, 2), LISPMS_EOK);
		cr_assert_leq(mr_cache_count(m), 3);
	}
	mr_free(m);
}

/* ------------------------------------------------------------ state machine */

Test(mr, resolves_through_node_and_ms_referrals_then_ms_ack)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 77, 0, &a);
	assert_send(&a, "10.0.0.1");
	cr_assert_eq(a.nonce, 77);
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_MISS), 1);
	referral(m, 77, "10.0.0.1", "[5] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 60, "10.0.1.1", NULL,
		 5, &a);
	assert_send(&a, "10.0.1.1");
	cr_assert(!a.to_ms);
	referral(m, 77, "10.0.1.1", "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1",
		 "10.0.2.2", 6, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert(a.to_ms, "the MS-REFERRAL's set are Map-Servers");
	referral(m, 77, "10.0.2.1", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, 7, &a);
	cr_assert_eq(a.kind, MR_ACT_NONE, "the Map-Server answers the ITR");
	cr_assert_eq(mr_pending_count(m), 0);
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 1);
	cr_assert_eq(mr_cache_count(m), 2, "node and MS referrals cached, not the MS-ACK");

	/* Warm: the next request goes straight to the Map-Server. */
	request(m, "[5] 10.1.9.9/32", 78, 10, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert(a.to_ms);
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_HIT), 1);
	mr_free(m);
}

Test(mr, negative_answers_carry_the_referral_ttl_and_are_cached)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.7.0.1/32", 1, 0, &a);
	referral(m, 1, "10.0.0.1", "[5] 10.7.0.0/16", LISP_REF_DELEGATION_HOLE, 15, NULL, NULL, 1,
		 &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE);
	cr_assert_eq(a.neg_ttl_min, 15);
	cr_assert_eq(a.neg_act, LISP_ACT_NATIVE_FORWARD);
	cr_assert_eq(a.neg_prefix.plen, 16);
	struct lisp_addr itr = A("192.0.2.9");
	cr_assert(lisp_addr_equal(&a.itr, &itr));
	cr_assert_eq(a.itr_port, 4342);
	cr_assert_eq(mr_stat(m, MR_ST_DELEGATION_HOLE), 1);

	request(m, "[5] 10.8.0.1/32", 2, 0, &a);
	referral(m, 2, "10.0.0.1", "[5] 10.8.0.1/32", LISP_REF_MS_NOT_REGISTERED, 1, NULL, NULL, 1,
		 &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE);
	cr_assert_eq(a.neg_ttl_min, 1);
	cr_assert_eq(mr_stat(m, MR_ST_MS_NOT_REGISTERED), 1);
	cr_assert_eq(mr_pending_count(m), 0);

	/* Cached: answered without asking anyone, with the TTL left. */
	uint64_t sent = mr_stat(m, MR_ST_SENT);
	request(m, "[5] 10.7.3.3/32", 3, 5 * 60000 + 1, &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE);
	cr_assert_eq(a.neg_ttl_min, 10, "15 minutes less the 5 gone, rounded up");
	cr_assert_eq(mr_stat(m, MR_ST_SENT), sent);
	cr_assert_eq(mr_pending_count(m), 0);
	mr_free(m);
}

/* A node delegated 10.0.0.0/8 cannot answer for more: a hole or "not
 * registered" for a wider prefix (a broken node, or a forger who knows the
 * ITR's nonce) would be cached over the whole instance. */
Test(mr, a_negative_answer_wider_than_the_delegation_is_dropped)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 9, 0, &a);
	referral(m, 9, "10.0.0.1", "[5] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 60, "10.0.1.1", NULL,
		 1, &a);
	assert_send(&a, "10.0.1.1");
	referral(m, 9, "10.0.1.1", "[5] 0.0.0.0/0", LISP_REF_DELEGATION_HOLE, 1440, NULL, NULL, 2,
		 &a);
	cr_assert_eq(a.kind, MR_ACT_NONE, "dropped, the request still waits (kind %d)", a.kind);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_BAD), 1);
	cr_assert_eq(mr_stat(m, MR_ST_DELEGATION_HOLE), 0);
	cr_assert_eq(mr_pending_count(m), 1);
	cr_assert_eq(mr_cache_count(m), 1, "only the /8 referral is cached");
	referral(m, 9, "10.0.1.1", "[5] 10.1.0.0/16", LISP_REF_MS_NOT_REGISTERED, 1, NULL, NULL, 3,
		 &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "an answer inside the delegation is taken");
	cr_assert_eq(a.neg_prefix.plen, 16);
	cr_assert_eq(mr_pending_count(m), 0);
	mr_free(m);
}

Test(mr, dead_rloc_costs_one_timeout)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a, acts[4];
	request(m, "[5] 10.1.2.3/32", 9, 0, &a);
	referral(m, 9, "10.0.0.1", "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1",
		 "10.0.2.2", 0, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert_eq(mr_next_deadline(m), 1000);
	cr_assert_eq(mr_tick(m, 999, acts, 4), 0, "not yet");
	cr_assert_eq(mr_tick(m, 1000, acts, 4), 1);
	assert_send(&acts[0], "10.0.2.2");
	cr_assert(acts[0].to_ms);
	cr_assert_eq(mr_stat(m, MR_ST_TIMEOUTS), 1);
	/* A late answer from the dead one is not taken. */
	referral(m, 9, "10.0.2.1", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, 1001, &a);
	cr_assert_eq(a.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_SOURCE), 1);
	cr_assert_eq(mr_pending_count(m), 1);
	referral(m, 9, "10.0.2.2", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, 1002, &a);
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 1);
	cr_assert_eq(mr_pending_count(m), 0);
	mr_free(m);
}

/* After one timeout, the dead Map-Server is passed over by every request
 * until its hold-down ends; then one request probes it (the rest keep going
 * to the partner); an answer from it ends the hold-down. */
Test(mr, a_dead_map_server_costs_one_timeout_not_one_per_request)
{
	struct mr_config c = cfg();
	c.pending_max = 64;
	struct mr *m = mk(&c);
	struct mr_action a, acts[4];
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	referral(m, 1, "10.0.0.1", "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1",
		 "10.0.2.2", 0, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert_eq(mr_tick(m, 1000, acts, 4), 1);
	assert_send(&acts[0], "10.0.2.2");
	referral(m, 1, "10.0.2.2", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, 1001, &a);
	cr_assert_eq(mr_stat(m, MR_ST_TIMEOUTS), 1);
	/* 40 more requests in the cached set, in flight together: none asks the dead one */
	uint64_t t = 1100;
	for (uint64_t n = 100; n < 140; n++) {
		request(m, "[5] 10.1.2.3/32", n, t, &a);
		assert_send(&a, "10.0.2.2");
	}
	for (uint64_t n = 100; n < 140; n++)
		referral(m, n, "10.0.2.2", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, t,
			 &a);
	cr_assert_eq(mr_tick(m, t + 1000, acts, 4), 0);
	cr_assert_eq(mr_stat(m, MR_ST_TIMEOUTS), 1, "41 requests, one timeout (%llu)",
		     (unsigned long long)mr_stat(m, MR_ST_TIMEOUTS));
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 41);
	/* the hold-down ends: one probe, the next request still goes to the partner */
	t = 1000 + (uint64_t)MR_HOLD_TIMEOUTS * c.timeout_ms;
	request(m, "[5] 10.1.2.3/32", 200, t, &a);
	assert_send(&a, "10.0.2.1");
	request(m, "[5] 10.1.2.3/32", 201, t, &a);
	assert_send(&a, "10.0.2.2");
	referral(m, 201, "10.0.2.2", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, t, &a);
	cr_assert_eq(mr_tick(m, t + 1000, acts, 4), 1, "the probe times out");
	assert_send(&acts[0], "10.0.2.2");
	referral(m, 200, "10.0.2.2", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, t + 1000,
		 &a);
	request(m, "[5] 10.1.2.3/32", 202, t + 1001, &a);
	assert_send(&a, "10.0.2.2"); /* held down again */
	referral(m, 202, "10.0.2.2", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, t + 1001,
		 &a);
	cr_assert_eq(mr_stat(m, MR_ST_TIMEOUTS), 2);
	/* it restarted: the next probe is answered, and it is first again */
	t += 1000 + (uint64_t)MR_HOLD_TIMEOUTS * c.timeout_ms;
	request(m, "[5] 10.1.2.3/32", 300, t, &a);
	assert_send(&a, "10.0.2.1");
	referral(m, 300, "10.0.2.1", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, t, &a);
	request(m, "[5] 10.1.2.3/32", 301, t, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert_eq(mr_stat(m, MR_ST_TIMEOUTS), 2);
	mr_free(m);
}

/* The hold-down table is bounded: more dead RLOCs than it holds cost more
 * timeouts, never more memory. */
Test(mr, the_hold_down_table_is_bounded)
{
	struct mr_config c = cfg();
	c.pending_max = 256;
	c.retries = 0;
	struct mr *m = mk(&c);
	struct mr_action a, acts[4];
	char px[64], r1[32];
	for (unsigned i = 0; i < MR_DOWN_MAX + 8; i++) {
		snprintf(px, sizeof(px), "[5] 10.%u.0.0/16", i + 1);
		snprintf(r1, sizeof(r1), "10.9.%u.1", i);
		struct mr_cache_entry e = ent(px, LISP_REF_MS_REFERRAL, 60, r1);
		e.rlocs[1] = A("10.8.0.1");
		e.nrlocs = 2;
		cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
		snprintf(px, sizeof(px), "[5] 10.%u.0.1/32", i + 1);
		request(m, px, 1000 + i, 0, &a);
		assert_send(&a, r1);
	}
	while (mr_tick(m, 1000, acts, 4) > 0)
		;
	cr_assert_eq(mr_stat(m, MR_ST_TIMEOUTS), MR_DOWN_MAX + 8);
	/* MR_DOWN_MAX of them are held down (8 entries gave way to later ones) */
	struct lisp_addr partner = A("10.8.0.1");
	unsigned held = 0;
	for (unsigned i = 0; i < MR_DOWN_MAX + 8; i++) {
		snprintf(px, sizeof(px), "[5] 10.%u.0.2/32", i + 1);
		request(m, px, 5000 + i, 1001, &a);
		cr_assert_eq(a.kind, MR_ACT_SEND);
		held += lisp_addr_equal(&a.to, &partner);
	}
	cr_assert_eq(held, MR_DOWN_MAX, "%u held down", held);
	mr_free(m);
}

/* D22 at the resolver: negative Map-Replies to one ITR address are held to
 * reply_rate_limit a second (burst of one second), counted when over. */
Test(mr, negative_replies_are_rate_limited_per_itr)
{
	struct mr_config c = cfg();
	c.reply_rate_limit = 10;
	struct mr *m = mk(&c);
	struct mr_action a;
	struct mr_cache_entry hole = ent("[5] 10.128.0.0/9", LISP_REF_DELEGATION_HOLE, 15, NULL);
	cr_assert_eq(mr_cache_put(m, &hole, 0), LISPMS_EOK);
	struct eid_prefix e = P("[5] 10.200.0.1/32");
	struct lisp_addr victim = A("192.0.2.9"), other = A("192.0.2.10");
	unsigned neg = 0;
	for (uint64_t n = 1; n <= 50; n++) {
		cr_assert_eq(mr_request(m, &e, n, &victim, 4342, REQ, sizeof(REQ), 1000, &a),
			     LISPMS_EOK);
		neg += a.kind == MR_ACT_NEGATIVE;
		cr_assert(a.kind == MR_ACT_NEGATIVE || a.kind == MR_ACT_NONE);
	}
	cr_assert_eq(neg, 10, "50 forged requests naming one ITR: %u answers, want 10", neg);
	cr_assert_eq(mr_stat(m, MR_ST_NEG_LIMITED), 40);
	cr_assert_eq(mr_stat(m, MR_ST_NEGATIVE), 10, "only what was sent is counted as sent");
	cr_assert_eq(mr_request(m, &e, 100, &other, 4342, REQ, sizeof(REQ), 1000, &a), LISPMS_EOK);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "another ITR has its own bucket");
	/* a hole from a referral, over the limit: not answered, the request retired */
	struct eid_prefix e2 = P("[5] 10.1.2.3/32");
	cr_assert_eq(mr_request(m, &e2, 200, &victim, 4342, REQ, sizeof(REQ), 1000, &a),
		     LISPMS_EOK);
	assert_send(&a, "10.0.0.1");
	referral(m, 200, "10.0.0.1", "[5] 10.0.0.0/9", LISP_REF_DELEGATION_HOLE, 15, NULL, NULL,
		 1001, &a);
	cr_assert_eq(a.kind, MR_ACT_NONE);
	cr_assert_eq(mr_pending_count(m), 0);
	cr_assert_eq(mr_stat(m, MR_ST_NEG_LIMITED), 41);
	/* a second later the bucket has refilled */
	cr_assert_eq(mr_request(m, &e, 300, &victim, 4342, REQ, sizeof(REQ), 2100, &a), LISPMS_EOK);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE);
	mr_free(m);
}

/* The resolver's limiter (rrl.h, shared with the Map-Server) counts its
 * table's evictions under the resolver's own counter, not the Map-Server's. */
Test(mr, the_resolvers_rate_table_evictions_are_its_own)
{
	struct mr_config c = cfg();
	c.reply_rate_limit = 10;
	struct mr *m = mk(&c);
	struct mr_action a;
	struct mr_cache_entry hole = ent("[5] 10.128.0.0/9", LISP_REF_DELEGATION_HOLE, 15, NULL);
	cr_assert_eq(mr_cache_put(m, &hole, 0), LISPMS_EOK);
	struct eid_prefix e = P("[5] 10.200.0.1/32");
	uint64_t mr0 = counters_sum(LISPMS_M_MR_RRL_EVICTED);
	uint64_t ms0 = counters_sum(LISPMS_M_MS_RRL_EVICTED);
	/* 40,000 ITRs answered in the same millisecond: each entry still
	 * limits, and the table (16,384 entries) is too small for them */
	for (uint32_t i = 0; i < 40000; i++) {
		struct lisp_addr itr = { .afi = LISP_AFI_IPV4 };
		uint32_t v = htonl(0x0a000000u + i);
		memcpy(itr.bytes, &v, 4);
		cr_assert_eq(mr_request(m, &e, i + 1, &itr, 4342, REQ, sizeof(REQ), 1000, &a),
			     LISPMS_EOK);
		cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "one answer each");
	}
	cr_assert_gt(counters_sum(LISPMS_M_MR_RRL_EVICTED), mr0, "the resolver counts its own");
	cr_assert_eq(counters_sum(LISPMS_M_MS_RRL_EVICTED), ms0, "not the Map-Server's");
	mr_free(m);
}

Test(mr, gives_up_after_every_rloc_and_retry)
{
	struct mr_config c = cfg();
	c.roots[1] = A("10.0.0.2");
	c.nroots = 2;
	c.retries = 1;
	struct mr *m = mk(&c);
	struct mr_action a, acts[4];
	request(m, "[5] 10.1.2.3/32", 4, 0, &a);
	assert_send(&a, "10.0.0.1");
	const char *order[] = { "10.0.0.2", "10.0.0.1", "10.0.0.2" };
	uint64_t t = 0;
	for (unsigned i = 0; i < 3; i++) {
		t += 1000;
		cr_assert_eq(mr_tick(m, t, acts, 4), 1);
		assert_send(&acts[0], order[i]);
	}
	t += 1000;
	cr_assert_eq(mr_tick(m, t, acts, 4), 1);
	cr_assert_eq(acts[0].kind, MR_ACT_NEGATIVE, "2 RLOCs x 2 tries, then the ITR is told");
	cr_assert_eq(acts[0].neg_act, LISP_ACT_SEND_MAP_REQUEST);
	cr_assert_eq(acts[0].neg_ttl_min, MR_FAIL_TTL);
	cr_assert_eq(mr_stat(m, MR_ST_GAVE_UP), 1);
	cr_assert_eq(mr_stat(m, MR_ST_SENT), 4);
	cr_assert_eq(mr_pending_count(m), 0);
	cr_assert_eq(mr_next_deadline(m), UINT64_MAX);
	mr_free(m);
}

Test(mr, referral_loop_is_detected)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 5, 0, &a);
	referral(m, 5, "10.0.0.1", "[5] 10.1.0.0/16", LISP_REF_NODE_REFERRAL, 60, "10.0.1.1", NULL,
		 0, &a);
	assert_send(&a, "10.0.1.1");
	/* The child refers back up to a prefix no more specific: a loop. */
	referral(m, 5, "10.0.1.1", "[5] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 60, "10.0.0.1", NULL,
		 1, &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE);
	cr_assert_eq(a.neg_act, LISP_ACT_SEND_MAP_REQUEST);
	cr_assert_eq(mr_stat(m, MR_ST_LOOP), 1);
	cr_assert_eq(mr_pending_count(m), 0);
	/* Same length again is a loop too. */
	request(m, "[5] 10.1.2.3/32", 6, 2, &a);
	assert_send(&a, "10.0.1.1");
	referral(m, 6, "10.0.1.1", "[5] 10.1.0.0/16", LISP_REF_NODE_REFERRAL, 60, "10.0.1.1", NULL,
		 3, &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE);
	cr_assert_eq(mr_stat(m, MR_ST_LOOP), 2);
	mr_free(m);
}

Test(mr, depth_limit)
{
	struct mr_config c = cfg();
	c.max_depth = 3;
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 8, 0, &a);
	const char *from = "10.0.0.1";
	char pfx[48], next[24];
	static char hops[8][24];
	for (unsigned i = 0; i < 3; i++) {
		snprintf(pfx, sizeof(pfx), "[5] 10.0.0.0/%u", 8 + i);
		snprintf(next, sizeof(next), "10.0.3.%u", i + 1);
		strcpy(hops[i], next);
		referral(m, 8, from, pfx, LISP_REF_NODE_REFERRAL, 60, next, NULL, 1, &a);
		assert_send(&a, next);
		from = hops[i];
	}
	referral(m, 8, from, "[5] 10.0.0.0/12", LISP_REF_NODE_REFERRAL, 60, "10.0.3.9", NULL, 1,
		 &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "a 4th referral is beyond max_depth 3");
	cr_assert_eq(mr_stat(m, MR_ST_DEPTH), 1);
	mr_free(m);
}

Test(mr, not_authoritative_drops_the_stale_cache_entry_and_moves_on)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1");
	e.rlocs[1] = A("10.0.2.2");
	e.nrlocs = 2;
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 3, 0, &a);
	assert_send(&a, "10.0.2.1");
	referral(m, 3, "10.0.2.1", "[5] 10.1.2.3/32", LISP_REF_NOT_AUTHORITATIVE, 0, NULL, NULL, 1,
		 &a);
	assert_send(&a, "10.0.2.2");
	cr_assert_eq(mr_stat(m, MR_ST_NOT_AUTHORITATIVE), 1);
	cr_assert_eq(mr_cache_count(m), 0, "the stale referral is gone");
	mr_free(m);
}

/* RFC 8111 §6.4.1: a referral with the I bit SHOULD NOT be cached. Our
 * Map-Servers set it on MS-NOT-REGISTERED (they send no Map-Server set):
 * the ITR gets the negative answer, the next request asks the Map-Server
 * again through the cached MS-REFERRAL. A complete negative answer from a
 * DDT node is cached. */
Test(mr, an_incomplete_negative_answer_is_not_cached)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a;
	struct sref s;
	struct lisp_addr ms = A("10.0.2.1");
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	referral(m, 1, "10.0.0.1", "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1", NULL, 1,
		 &a);
	assert_send(&a, "10.0.2.1");
	mkref(&s, 1, "[5] 10.1.2.0/24", LISP_REF_MS_NOT_REGISTERED, 1, NULL, NULL);
	s.rec.r.reserved = LISP_REF_I;
	mr_referral(m, &s.m, &ms, 2, &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "the ITR is answered (kind %d)", a.kind);
	cr_assert_eq(a.neg_prefix.plen, 24);
	cr_assert_eq(a.neg_ttl_min, 1);
	cr_assert_eq(mr_cache_count(m), 1, "only the MS-REFERRAL, not the incomplete answer");
	request(m, "[5] 10.1.2.4/32", 2, 3, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert(a.to_ms, "asked again, straight to the Map-Server");

	/* complete, from a DDT node (under the resolver's nonce): cached, the
	 * next request costs nothing */
	request(m, "[5] 10.7.0.1/32", 3, 4, &a);
	assert_send(&a, "10.0.0.1");
	mkref(&s, a.ddt_nonce, "[5] 10.7.0.0/16", LISP_REF_DELEGATION_HOLE, 15, NULL, NULL);
	struct lisp_addr root = A("10.0.0.1");
	mr_referral(m, &s.m, &root, 5, &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE);
	cr_assert_eq(mr_cache_count(m), 2);
	uint64_t sent = mr_stat(m, MR_ST_SENT);
	request(m, "[5] 10.7.2.5/32", 4, 6, &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "from the cache (kind %d)", a.kind);
	cr_assert_eq(mr_stat(m, MR_ST_SENT), sent);
	mr_free(m);
}

/* A negative answer for exactly the prefix of the referral that led to it
 * (a Map-Server saying "not registered" for its whole delegation) answers
 * the ITR but does not replace the referral: else one wrong answer would
 * blackhole every EID of the delegation for the negative TTL. */
Test(mr, a_negative_answer_for_the_delegated_prefix_keeps_the_referral)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	referral(m, 1, "10.0.0.1", "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1440, "10.0.2.1", NULL,
		 1, &a);
	assert_send(&a, "10.0.2.1");
	referral(m, 1, "10.0.2.1", "[5] 10.1.0.0/16", LISP_REF_MS_NOT_REGISTERED, 15, NULL, NULL, 2,
		 &a);
	cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "the ITR is answered (kind %d)", a.kind);
	cr_assert_eq(a.neg_prefix.plen, 16);
	cr_assert_eq(a.neg_ttl_min, 15);
	struct mr_cache_entry e;
	struct eid_prefix eid = P("[5] 10.1.9.9/32");
	cr_assert_eq(mr_cache_lookup(m, &eid, 3, &e), LISPMS_EOK);
	cr_assert_eq(e.act, LISP_REF_MS_REFERRAL, "the referral stays (act %u)", e.act);
	cr_assert_eq(e.nrlocs, 1);
	request(m, "[5] 10.1.9.9/32", 2, 4, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert(a.to_ms, "the next request asks the Map-Server");
	mr_free(m);
}

/* NOT-AUTHORITATIVE from a Map-Server the tree just referred us to: the
 * referral is wrong or stale, removed from the cache (the request goes on
 * with the set's next RLOC); the next request starts again from the root. */
Test(mr, not_authoritative_removes_the_referral_that_led_there)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	assert_send(&a, "10.0.0.1");
	referral(m, 1, "10.0.0.1", "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1440, "10.0.2.1",
		 "10.0.2.2", 1, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert_eq(mr_cache_count(m), 1);
	referral(m, 1, "10.0.2.1", "[5] 10.1.2.3/32", LISP_REF_NOT_AUTHORITATIVE, 0, NULL, NULL, 2,
		 &a);
	assert_send(&a, "10.0.2.2");
	cr_assert_eq(mr_stat(m, MR_ST_NOT_AUTHORITATIVE), 1);
	cr_assert_eq(mr_cache_count(m), 0, "the MS-REFERRAL is gone");
	referral(m, 1, "10.0.2.2", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, 3, &a);
	cr_assert_eq(mr_pending_count(m), 0);
	request(m, "[5] 10.1.2.4/32", 2, 4, &a);
	assert_send(&a, "10.0.0.1");
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_MISS), 2, "asked from the root again");
	mr_free(m);
}

Test(mr, pending_table_bounded_and_hostile_referrals_dropped)
{
	struct mr_config c = cfg();
	c.pending_max = 2;
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	struct eid_prefix e = P("[5] 10.1.2.4/32");
	struct lisp_addr itr = A("192.0.2.9");
	cr_assert_eq(mr_request(m, &e, 1, &itr, 1, REQ, sizeof(REQ), 0, &a), LISPMS_EEXIST);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_DUP), 1);
	request(m, "[5] 10.1.2.5/32", 2, 0, &a);
	cr_assert_eq(mr_request(m, &e, 3, &itr, 1, REQ, sizeof(REQ), 0, &a), LISPMS_ENOSPC);
	cr_assert_eq(a.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_FULL), 1);
	static uint8_t big[MR_MAX_REQUEST + 1];
	cr_assert_eq(mr_request(m, &e, 4, &itr, 1, big, sizeof(big), 0, &a), LISPMS_EINVAL);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_BAD), 1, "an oversized request is dropped");

	referral(m, 99, "10.0.0.1", "[5] 10.0.0.0/8", LISP_REF_MS_ACK, 1, NULL, NULL, 1, &a);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_UNKNOWN), 1);
	/* A referral that does not cover the EID asked for. */
	referral(m, 1, "10.0.0.1", "[5] 11.0.0.0/8", LISP_REF_MS_ACK, 1, NULL, NULL, 1, &a);
	cr_assert_eq(a.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_BAD), 2);
	/* Other instance. */
	referral(m, 1, "10.0.0.1", "[6] 10.0.0.0/8", LISP_REF_MS_ACK, 1, NULL, NULL, 1, &a);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_BAD), 3);
	/* An action out of range. */
	referral(m, 1, "10.0.0.1", "[5] 10.0.0.0/8", 7, 1, NULL, NULL, 1, &a);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_BAD), 4);
	/* A node referral with no usable RLOC: this RLOC's answer is useless. */
	referral(m, 1, "10.0.0.1", "[5] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1, NULL, NULL, 1, &a);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_BAD), 5);
	assert_send(&a, "10.0.0.1");
	cr_assert_eq(mr_pending_count(m), 2, "still pending, both");
	/* Everything times out and is retired: nothing held forever. */
	struct mr_action acts[4];
	for (uint64_t t = 1000; t <= 10000; t += 1000)
		mr_tick(m, t, acts, 4);
	cr_assert_eq(mr_pending_count(m), 0);
	mr_free(m);
}

/*
 * The pending table's indexes (hashes by the ITR's nonce and by the one
 * the root was asked with, free stack, deadline list) against a model:
 * requests and MS-ACKs for nonces from a small range (duplicates, unknown
 * nonces, answers with the ITR's nonce, deletions from the middle of hash
 * chains in a table twice the size of pending-max), every answer as the
 * model says.
 */
Test(mr, pending_table_agrees_with_a_model)
{
	struct mr_config c = cfg();
	c.pending_max = 64;
	struct mr *m = mk(&c);
	bool pending[200] = { false };
	unsigned npend = 0;
	uint64_t done = 0, unknown = 0, dup = 0, full = 0, forged = 0;
	uint32_t x = 12345;
	struct eid_prefix e = P("[5] 10.1.2.3/32");
	struct lisp_addr itr = A("192.0.2.9");
	for (unsigned i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		uint64_t nonce = (x >> 8) % 200;
		struct mr_action a;
		if ((x >> 28) & 1) {
			int r = mr_request(m, &e, nonce, &itr, 1, REQ, sizeof(REQ), 0, &a);
			if (pending[nonce]) {
				cr_assert_eq(r, LISPMS_EEXIST, "nonce %llu pending",
					     (unsigned long long)nonce);
				dup++;
			} else if (npend == c.pending_max) {
				cr_assert_eq(r, LISPMS_ENOSPC);
				full++;
			} else {
				cr_assert_eq(r, LISPMS_EOK);
				assert_send(&a, "10.0.0.1");
				pending[nonce] = true;
				npend++;
			}
		} else if ((x >> 29) & 1) {
			/* the ITR's nonce, not the one the root was asked with */
			struct sref s;
			struct lisp_addr root = A("10.0.0.1");
			mkref(&s, nonce, "[5] 10.0.0.0/8", LISP_REF_MS_ACK, 1, NULL, NULL);
			mr_referral(m, &s.m, &root, 0, &a);
			if (pending[nonce])
				forged++;
			else
				unknown++;
		} else {
			referral(m, nonce, "10.0.0.1", "[5] 10.0.0.0/8", LISP_REF_MS_ACK, 1, NULL,
				 NULL, 0, &a);
			if (pending[nonce]) {
				pending[nonce] = false;
				npend--;
				done++;
			} else {
				unknown++;
			}
		}
		cr_assert_eq(mr_pending_count(m), npend);
	}
	cr_assert_eq(mr_stat(m, MR_ST_DONE), done);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_UNKNOWN), unknown);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_DUP), dup);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_FULL), full);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_ITR_NONCE), forged);
	cr_assert(done > 1000 && unknown > 1000 && dup > 100 && forged > 100,
		  "the mix exercised every path");
	mr_free(m);
}

/* Timeouts come in deadline order, a clock that steps back included. */
Test(mr, timeouts_in_deadline_order_with_a_clock_that_steps_back)
{
	struct mr_config c = cfg();
	c.retries = 0;
	struct mr *m = mk(&c);
	struct mr_action a, acts[4];
	request(m, "[5] 10.1.2.3/32", 1, 100, &a);
	request(m, "[5] 10.1.2.3/32", 2, 50, &a); /* earlier than the clock: counts as 100 */
	request(m, "[5] 10.1.2.3/32", 3, 300, &a);
	cr_assert_eq(mr_next_deadline(m), 1100);
	cr_assert_eq(mr_tick(m, 1099, acts, 4), 0);
	cr_assert_eq(mr_tick(m, 1100, acts, 4), 2, "both requests of time 100");
	cr_assert_eq(acts[0].nonce, 1);
	cr_assert_eq(acts[1].nonce, 2);
	cr_assert_eq(acts[0].kind, MR_ACT_NEGATIVE, "one RLOC, no retry: given up");
	cr_assert_eq(mr_next_deadline(m), 1300);
	cr_assert_eq(mr_tick(m, 5000, acts, 4), 1);
	cr_assert_eq(mr_next_deadline(m), UINT64_MAX);
	mr_free(m);
}

/*
 * pending-max allows 65,536: with the table full, a datagram (a referral
 * with an unknown nonce, an MS-ACK, a new request) or a tick with nothing
 * due costs a few steps, not a scan of every slot (65,536 each: 262 million
 * for the 4,000 below). Counted in steps, not timed.
 */
Test(mr, a_full_table_of_65536_costs_each_datagram_its_own_work)
{
	struct mr_config c = cfg();
	c.pending_max = 65536;
	struct mr *m = mk(&c);
	struct mr_action a, acts[8];
	static uint64_t asked[65536]; /* the nonce the root was asked with */
	for (uint64_t i = 0; i < 65536; i++) {
		request(m, "[5] 10.1.2.3/32", i * 0x9e3779b97f4a7c15ull, 0, &a);
		asked[i] = a.ddt_nonce;
	}
	cr_assert_eq(mr_pending_count(m), 65536);
	struct lisp_addr root = A("10.0.0.1");
	struct sref s;
	uint64_t before = mr_test_probes(m);
	for (uint64_t i = 0; i < 1000; i++) {
		mkref(&s, (i + 70000) * 0x9e3779b97f4a7c15ull, "[5] 10.0.0.0/8", LISP_REF_MS_ACK, 1,
		      NULL, NULL);
		mr_referral(m, &s.m, &root, 1, &a);
		mkref(&s, asked[i], "[5] 10.0.0.0/8", LISP_REF_MS_ACK, 1, NULL, NULL);
		mr_referral(m, &s.m, &root, 1, &a);
		request(m, "[5] 10.1.2.3/32", (i + 80000) * 0x9e3779b97f4a7c15ull, 1, &a);
		cr_assert_eq(mr_tick(m, 2, acts, 8), 0);
		cr_assert_eq(mr_next_deadline(m), 1000);
	}
	uint64_t steps = mr_test_probes(m) - before;
	cr_assert_eq(mr_stat(m, MR_ST_DROP_UNKNOWN), 1000);
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 1000);
	cr_assert_eq(mr_pending_count(m), 65536);
	cr_assert_lt(steps, 100000, "%llu steps for 4,000 operations", (unsigned long long)steps);
	mr_free(m);
}

static bool count_to_ten(const struct mr_cache_entry *e, void *arg)
{
	(void)e;
	return ++*(unsigned *)arg < 10;
}

static bool count_to_five(const struct mr_pending_info *p, void *arg)
{
	(void)p;
	return ++*(unsigned *)arg < 5;
}

/* A view stops where its caller says (lispmsctl shows 1,000 rows at most). */
Test(mr, views_stop_at_the_callers_cap)
{
	struct mr_config c = cfg();
	c.cache_max = 5000;
	struct mr *m = mk(&c);
	for (unsigned i = 0; i < 3000; i++) {
		char pfx[48];
		snprintf(pfx, sizeof(pfx), "[5] 10.%u.%u.0/24", i / 256, i % 256);
		struct mr_cache_entry e = ent(pfx, LISP_REF_DELEGATION_HOLE, 10, NULL);
		cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	}
	cr_assert_eq(mr_cache_count(m), 3000);
	unsigned n = 0;
	mr_cache_foreach(m, count_to_ten, &n);
	cr_assert_eq(n, 10, "the walk stopped after 10 of 3000 entries (%u)", n);
	struct mr_action a;
	for (uint64_t i = 0; i < 12; i++)
		request(m, "[6] 10.1.2.3/32", 100 + i, 0, &a);
	n = 0;
	mr_pending_foreach(m, count_to_five, &n);
	cr_assert_eq(n, 5, "the walk stopped after 5 of 12 requests (%u)", n);
	mr_free(m);
}

Test(mr, config_checked)
{
	struct mr_config c = cfg();
	struct mr *m = NULL;
	c.nroots = 0;
	cr_assert_eq(mr_new(&c, &m), LISPMS_EINVAL);
	c = cfg();
	c.pending_max = 0;
	cr_assert_eq(mr_new(&c, &m), LISPMS_EINVAL);
	c = cfg();
	c.cache_max = 0;
	cr_assert_eq(mr_new(&c, &m), LISPMS_EINVAL);
	for (unsigned s = 0; s < MR_ST_MAX; s++)
		cr_assert_neq(mr_stat_name(s), NULL);
}

Test(mr, config_from_the_map_resolver_section)
{
	const char *yaml =
	    "map-resolver: {roots: [10.0.0.1, 10.0.0.2], listen: [127.0.0.1], max-depth: 3}\n";
	struct conf *c = NULL;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_EOK, "%s",
		     err.msg);
	struct mr_config mc;
	cr_assert_eq(mr_config_from_conf(conf_map_resolver(c), &mc), LISPMS_EOK);
	cr_assert_eq(mc.nroots, 2);
	struct lisp_addr r2 = A("10.0.0.2");
	cr_assert(lisp_addr_equal(&mc.roots[1], &r2));
	cr_assert_eq(mc.max_depth, 3);
	cr_assert_eq(mc.pending_max, 1024);
	struct mr *m = mk(&mc);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	assert_send(&a, "10.0.0.1");
	mr_free(m);
	conf_free(c);
}

/* ------------------------------------------------------------ D25 nonces */

/*
 * docs/protocol.md D25: the tree is asked with the resolver's own nonce,
 * new for every DDT Map-Request (a retry included), so the ITR (or whoever
 * sent the Map-Request in its name) cannot answer in a DDT node's place:
 * a referral with the ITR's nonce is dropped and counted. The Map-Server
 * is asked with the ITR's nonce (it answers the ITR with it).
 */
Test(mr, the_tree_is_asked_with_the_resolvers_own_nonce)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_action a, acts[4];
	struct sref s;
	struct lisp_addr root = A("10.0.0.1"), node = A("10.0.1.1");
	request(m, "[5] 10.1.2.3/32", 77, 0, &a);
	assert_send(&a, "10.0.0.1");
	cr_assert_eq(a.nonce, 77, "the ITR's nonce stays with the request");
	cr_assert_neq(a.ddt_nonce, 77, "the root is asked with the resolver's nonce");
	uint64_t n1 = a.ddt_nonce;

	/* the forger sent the Map-Request: it knows 77, and spoofs the root */
	mkref(&s, 77, "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1440, "10.6.6.6", NULL);
	mr_referral(m, &s.m, &root, 1, &a);
	cr_assert_eq(a.kind, MR_ACT_NONE, "not followed (kind %d)", a.kind);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_ITR_NONCE), 1);
	cr_assert_eq(mr_stat(m, MR_ST_MS_REFERRAL), 0);
	cr_assert_eq(mr_cache_count(m), 0, "nothing cached from it");
	cr_assert_eq(mr_pending_count(m), 1, "the request still waits for the root");

	/* a request whose nonce is one in flight to the tree is refused */
	struct eid_prefix e = P("[5] 10.1.2.4/32");
	struct lisp_addr itr = A("192.0.2.9");
	struct mr_action b;
	cr_assert_eq(mr_request(m, &e, n1, &itr, 4342, REQ, sizeof(REQ), 1, &b), LISPMS_EEXIST);

	/* the root's answer carries n1 */
	mkref(&s, n1, "[5] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 60, "10.0.1.1", NULL);
	mr_referral(m, &s.m, &root, 2, &a);
	assert_send(&a, "10.0.1.1");
	uint64_t n2 = a.ddt_nonce;
	cr_assert(n2 != n1 && n2 != 77, "a new nonce for the node");

	/* the node is slow: the retry carries yet another nonce, and the late
	 * answer to the first try is not taken */
	cr_assert_eq(mr_tick(m, 1002, acts, 4), 1);
	assert_send(&acts[0], "10.0.1.1");
	uint64_t n3 = acts[0].ddt_nonce;
	cr_assert(n3 != n2 && n3 != n1 && n3 != 77, "a retry has its own nonce");
	mkref(&s, n2, "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1", NULL);
	mr_referral(m, &s.m, &node, 1003, &a);
	cr_assert_eq(a.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_UNKNOWN), 1);
	mkref(&s, n3, "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1", NULL);
	mr_referral(m, &s.m, &node, 1004, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert(a.to_ms);
	cr_assert_eq(a.ddt_nonce, 77, "the Map-Server is asked with the ITR's nonce");
	referral(m, 77, "10.0.2.1", "[5] 10.1.2.0/24", LISP_REF_MS_ACK, 1, NULL, NULL, 1005, &a);
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 1);
	cr_assert_eq(mr_pending_count(m), 0);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_ITR_NONCE), 1);
	mr_free(m);
}

/*
 * What comes back under the ITR's nonce (the Map-Server hop, D25) may end
 * or steer that one request, but is never cached: whoever sent the
 * Map-Request knows the nonce, and could otherwise plant a referral to its
 * own "Map-Server", or a negative answer, for every other ITR.
 */
Test(mr, what_a_map_server_says_under_the_itrs_nonce_is_not_cached)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 5, 0, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert_eq(a.ddt_nonce, 5);
	/* a referral onward: followed for this request, not cached */
	referral(m, 5, "10.0.2.1", "[5] 10.1.2.0/24", LISP_REF_MS_REFERRAL, 1440, "10.6.6.6", NULL,
		 1, &a);
	assert_send(&a, "10.6.6.6");
	cr_assert_eq(mr_cache_count(m), 1, "only the referral from the tree");
	referral(m, 5, "10.6.6.6", "[5] 10.1.2.0/25", LISP_REF_MS_ACK, 1, NULL, NULL, 2, &a);
	cr_assert_eq(mr_pending_count(m), 0);
	/* complete negative answers: the ITR is answered, nothing cached */
	const uint8_t neg[] = { LISP_REF_MS_NOT_REGISTERED, LISP_REF_DELEGATION_HOLE };
	for (unsigned i = 0; i < 2; i++) {
		request(m, "[5] 10.1.2.3/32", 6 + i, 3, &a);
		assert_send(&a, "10.0.2.1");
		referral(m, 6 + i, "10.0.2.1", "[5] 10.1.2.0/24", neg[i], 1440, NULL, NULL, 4, &a);
		cr_assert_eq(a.kind, MR_ACT_NEGATIVE, "the ITR is answered (kind %d)", a.kind);
		cr_assert_eq(a.neg_prefix.plen, 24);
		cr_assert_eq(mr_cache_count(m), 1, "not cached for the next ITR");
	}
	request(m, "[5] 10.1.2.9/32", 9, 5, &a);
	assert_send(&a, "10.0.2.1");
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_HIT), 4, "each asked the Map-Server again");
	mr_free(m);
}
