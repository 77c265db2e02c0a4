/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's pending table (two nonce hashes, free stack, deadline
 * list; against a model and at 65,536 entries), timeouts and retries over
 * a referral set, and the hold-down of RLOCs that timed out.
 */
#include <stdio.h>
#include <string.h>

#include "mr_testlib.h"

TestSuite(mr_pending, .init = setup, .fini = teardown);

Test(mr_pending, dead_rloc_costs_one_timeout)
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
Test(mr_pending, a_dead_map_server_costs_one_timeout_not_one_per_request)
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
Test(mr_pending, the_hold_down_table_is_bounded)
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

Test(mr_pending, gives_up_after_every_rloc_and_retry)
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

Test(mr_pending, pending_table_bounded_and_hostile_referrals_dropped)
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
Test(mr_pending, pending_table_agrees_with_a_model)
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
Test(mr_pending, timeouts_in_deadline_order_with_a_clock_that_steps_back)
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
Test(mr_pending, a_full_table_of_65536_costs_each_datagram_its_own_work)
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
