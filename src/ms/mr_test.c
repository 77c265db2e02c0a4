/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's RFC 8111 §7.3 state machine (mr.c), driven by scripted
 * Map-Referrals and an explicit clock: referrals followed and cached,
 * negative answers, loops and depth, NOT-AUTHORITATIVE, the rate limit on
 * negative answers, and the resolver's own nonce toward the tree (D25).
 */
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "mr_testlib.h"

TestSuite(mr, .init = setup, .fini = teardown);

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

/*
 * A referral onward under the ITR's nonce steers the request wherever its
 * sender says, to a "DDT node" of the forger's choosing: that node is sent
 * the resolver's own nonce, so it can answer it. Nothing the steered walk
 * learns may be cached for the other ITRs (D25), or one forged referral
 * plants an MS-REFERRAL (or a hole) for a whole prefix.
 */
Test(mr, a_walk_steered_under_the_itrs_nonce_caches_nothing)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "10.0.2.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	const uint8_t act[] = { LISP_REF_MS_REFERRAL, LISP_REF_DELEGATION_HOLE };
	for (unsigned i = 0; i < 2; i++) {
		struct mr_action a;
		request(m, "[5] 10.1.2.3/32", 5 + i, 0, &a);
		assert_send(&a, "10.0.2.1");
		cr_assert_eq(a.ddt_nonce, 5 + i, "the Map-Server hop: the ITR's nonce");
		/* forged, with the nonce its sender chose: to the forger's node */
		referral(m, 5 + i, "10.0.2.1", "[5] 10.1.2.0/24", LISP_REF_NODE_REFERRAL, 1440,
			 "10.6.6.6", NULL, 1, &a);
		assert_send(&a, "10.6.6.6");
		cr_assert(!a.to_ms);
		cr_assert_neq(a.ddt_nonce, 5 + i, "a DDT node: the resolver's nonce");
		/* which the forger's node receives, and answers */
		referral(m, 5 + i, "10.6.6.6", "[5] 10.1.2.0/25", act[i], 1440, "10.6.6.7", NULL, 2,
			 &a);
		cr_assert_eq(mr_cache_count(m), 1, "%s cached for every ITR",
			     i == 0 ? "the forger's MS-REFERRAL" : "the forger's hole");
	}
	struct mr_action a;
	request(m, "[5] 10.1.2.9/32", 9, 3, &a);
	assert_send(&a, "10.0.2.1");
	mr_free(m);
}

/*
 * A resolver with sockets of one family (map-resolver.listen) cannot send
 * to an RLOC of the other: such RLOCs of a referral set are passed over,
 * not tried (each try would cost a timeout and hold the RLOC down), and a
 * set with none left is a useless answer (the node's next RLOC is asked).
 */
Test(mr, referral_rlocs_of_a_family_without_a_socket_are_passed_over)
{
	struct mr_config c = cfg();
	c.families = MR_FAM_IPV4;
	struct mr *m = mk(&c);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	assert_send(&a, "10.0.0.1");
	referral(m, 1, "10.0.0.1", "[5] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 60, "fd00::11",
		 "10.0.1.1", 1, &a);
	assert_send(&a, "10.0.1.1");
	struct mr_cache_entry e;
	struct eid_prefix eid = P("[5] 10.9.9.9/32");
	cr_assert_eq(mr_cache_lookup(m, &eid, 2, &e), LISPMS_EOK);
	cr_assert_eq(e.nrlocs, 1, "only the IPv4 RLOC is kept (%u)", e.nrlocs);
	/* a set of IPv6 Map-Servers only: nothing to follow, the node is asked again */
	referral(m, 1, "10.0.1.1", "[5] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 60, "fd00::21",
		 "fd00::22", 3, &a);
	assert_send(&a, "10.0.1.1");
	cr_assert(!a.to_ms);
	cr_assert_eq(mr_stat(m, MR_ST_DROP_BAD), 1);
	cr_assert_eq(mr_cache_count(m), 1, "the unusable set is not cached");
	mr_free(m);

	/* both families: the IPv6 RLOC first, as the node listed it */
	c.families = MR_FAM_IPV4 | MR_FAM_IPV6;
	m = mk(&c);
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	referral(m, 1, "10.0.0.1", "[5] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 60, "fd00::11",
		 "10.0.1.1", 1, &a);
	assert_send(&a, "fd00::11");
	mr_free(m);
}
