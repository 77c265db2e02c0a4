/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe (RFC 9437, D20) over UDP: who may subscribe, what the
 * answer and each publication carry, their keys and nonces, covering
 * prefixes, acks, replays, unsubscribing, dropping, expiry and reloads.
 * The harness: ms_pubsub_testlib.h.
 */
#include "ms_pubsub_testlib.h"

Test(pubsub, a_registered_xtr_subscribes_and_gets_the_mapping_then_each_change)
{
	cr_assert_eq(reg(&k_two, "[7] 10.1.5.0/24", "192.0.2.1", XTR_A, 3), 1);
	uint8_t a[16];
	xtr_of(a, XTR_A);
	uint64_t sub0 = counters_sum(LISPMS_M_MS_PUBSUB_SUBSCRIBED);
	subscribe(a, "[7] 10.1.5.0/24", 1000, "127.0.0.9");
	cr_assert(!has_map_reply(), "a subscription is answered with a Map-Notify");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_SUBSCRIBED), sub0 + 1);
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[4];
	cr_assert_eq(notifies(&k_two, mn, 4), 1, "the current state, signed with key 2");
	cr_assert_eq(mn[0].nonce, 1000, "the request's nonce (RFC 9437 §5)");
	cr_assert_eq(mn[0].nrecords, 1);
	cr_assert_eq(mn[0].records[0].nlocs, 1);
	struct eid_prefix p = rec_eid(&mn[0].records[0]);
	cr_assert_str_eq(MS_TEST_EID(&p), "[7] 10.1.5.0/24");
	cr_assert_eq(saddr_port(&x.out.msgs[0].dst), 4342);
	ack(&mn[0], &k_two);

	/* B moves in: published with the next nonce */
	cr_assert_eq(reg(&k_one, "[7] 10.1.5.0/24", "192.0.2.2", XTR_B, 3), 1);
	tick(now + 1);
	cr_assert_eq(notifies(&k_two, mn, 4), 2, "A is told twice: it moved (D13), it subscribed");
	bool seen = false;
	for (unsigned i = 0; i < 2; i++)
		if (mn[i].nonce == 1001) {
			seen = true;
			struct lisp_addr l;
			cr_assert_eq(afi_to_addr(&mn[i].records[0].locs[0].addr, &l), LISPMS_EOK);
			cr_assert_str_eq(MS_TEST_ADDR(&l), "192.0.2.2", "the new locator");
		}
	cr_assert(seen, "a publication with nonce + 1");
	struct ms_subscription_info info[2];
	cr_assert_eq(ms_subscriptions_list(x.ms, info, 2), 1);
	cr_assert_eq(info[0].published, 2);
	cr_assert_eq(info[0].acked, 1);
	cr_assert_eq(info[0].pending, 1);
	cr_assert_str_eq(info[0].origin, "site alpha");
	cr_assert_eq(info[0].site_id, 42);
}

Test(pubsub, an_xtr_nobody_allowed_is_answered_as_a_plain_request)
{
	/* beta does not allow subscriptions; an unknown xTR-ID is in no list */
	cr_assert_eq(reg(&k_beta, "[7] 10.2.1.0/24", "192.0.2.7", 0x07, 3), 1);
	uint8_t b[16];
	xtr_of(b, 0x07);
	uint64_t ref0 = counters_sum(LISPMS_M_MS_PUBSUB_REFUSED);
	subscribe(b, "[7] 10.2.1.0/24", 5, "127.0.0.9");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_REFUSED), ref0 + 1);
	cr_assert_eq(ms_subscriptions_count(x.ms), 0);
	uint8_t z[16] = { 0x99 };
	subscribe(z, "[7] 10.1.0.0/16", 6, "127.0.0.9");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_REFUSED), ref0 + 2);
	/* a listed subscriber outside its eid-prefixes */
	subscribe(NARROW, "[7] 10.1.0.0/16", 7, "127.0.0.9");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_REFUSED), ref0 + 3);
	cr_assert_eq(ms_subscriptions_count(x.ms), 0);
	tick(mtime_now_ns());
	struct lisp_map_notify mn[2];
	cr_assert_eq(notifies(&k_beta, mn, 2), 0, "nothing published");
}

Test(pubsub, a_covering_subscription_gets_every_more_specific_then_each_change)
{
	cr_assert_eq(reg(&k_two, "[7] 10.1.1.0/24", "192.0.2.1", XTR_A, 3), 1);
	cr_assert_eq(reg(&k_beta, "[7] 10.2.2.0/24", "192.0.2.3", 0x07, 3), 1);
	subscribe(BORDER, "[7] 0.0.0.0/0", 50, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[4];
	cr_assert_eq(notifies(&k_border, mn, 4), 1, "one batch, signed with the border's key");
	cr_assert_eq(mn[0].nonce, 50);
	cr_assert_eq(mn[0].nrecords, 3, "the negative /0, then both registrations");
	cr_assert_eq(mn[0].records[0].nlocs, 0);
	cr_assert_str_eq(MS_TEST_EID(&(struct eid_prefix[1]){ rec_eid(&mn[0].records[1]) }[0]),
			 "[7] 10.1.1.0/24");
	cr_assert_str_eq(MS_TEST_EID(&(struct eid_prefix[1]){ rec_eid(&mn[0].records[2]) }[0]),
			 "[7] 10.2.2.0/24");

	/* a new registration, then its withdrawal by expiry */
	cr_assert_eq(reg(&k_two, "[7] 10.1.9.0/24", "192.0.2.1", XTR_A, 3), 1);
	tick(now + 1);
	cr_assert_eq(notifies(&k_border, mn, 4), 1);
	cr_assert_eq(mn[0].nonce, 51);
	cr_assert_str_eq(MS_TEST_EID(&(struct eid_prefix[1]){ rec_eid(&mn[0].records[0]) }[0]),
			 "[7] 10.1.9.0/24");
	cr_assert_eq(mn[0].records[0].nlocs, 1);
	ms_housekeeping(x.ms, mtime_now_ns() + 3600 * LISPMS_NS_PER_SEC);
	tick(now + 2);
	cr_assert_eq(notifies(&k_border, mn, 4), 1, "the three expiries in one batch");
	cr_assert_eq(mn[0].nonce, 52);
	cr_assert_eq(mn[0].nrecords, 3);
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(mn[0].records[i].nlocs, 0, "gone: a record without locators");
}

Test(pubsub, replays_are_dropped_and_unsubscribing_stops_publications)
{
	subscribe(BORDER, "[7] 10.1.0.0/16", 100, "127.0.0.9");
	tick(mtime_now_ns());
	struct lisp_map_notify mn[4];
	cr_assert_eq(notifies(&k_border, mn, 4), 1);
	uint64_t rep0 = counters_sum(LISPMS_M_MS_PUBSUB_REPLAYED);
	subscribe(BORDER, "[7] 10.1.0.0/16", 100, "127.0.0.9");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_REPLAYED), rep0 + 1, "same nonce: replay");
	cr_assert(!has_map_reply());
	tick(mtime_now_ns());
	cr_assert_eq(notifies(&k_border, mn, 4), 0);
	/* AFI 0 ITR-RLOC: unsubscribe, counted once */
	uint64_t uns0 = counters_sum(LISPMS_M_MS_PUBSUB_UNSUBSCRIBED);
	subscribe(BORDER, "[7] 10.1.0.0/16", 101, NULL);
	cr_assert_eq(ms_subscriptions_count(x.ms), 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_UNSUBSCRIBED), uns0 + 1);
	cr_assert_eq(reg(&k_two, "[7] 10.1.3.0/24", "192.0.2.1", XTR_A, 3), 1);
	tick(mtime_now_ns());
	cr_assert_eq(notifies(&k_border, mn, 4), 0, "nothing after unsubscribing");
}

Test(pubsub, a_subscriber_that_never_acks_is_dropped_after_every_retry)
{
	subscribe(NARROW, "[7] 10.2.0.0/16", 7, "127.0.0.9");
	cr_assert_eq(ms_subscriptions_count(x.ms), 1);
	uint64_t now = mtime_now_ns(), drop0 = counters_sum(LISPMS_M_MS_PUBSUB_DROP_NO_ACK);
	struct lisp_map_notify mn[4];
	unsigned sends = 0;
	for (unsigned s = 0; s < 120; s += 1) {
		tick(now + (uint64_t)s * LISPMS_NS_PER_SEC);
		sends += notifies(&k_narrow, mn, 4);
	}
	cr_assert_eq(sends, 6, "D12: 6 sends");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_DROP_NO_ACK), drop0 + 1);
	cr_assert_eq(ms_subscriptions_count(x.ms), 0);
}

Test(pubsub, an_ack_with_another_key_does_not_count)
{
	subscribe(BORDER, "[7] 10.2.0.0/16", 7, "127.0.0.9");
	tick(mtime_now_ns());
	struct lisp_map_notify mn[2];
	cr_assert_eq(notifies(&k_border, mn, 2), 1);
	uint64_t a0 = counters_sum(LISPMS_M_MS_PUBSUB_ACKED);
	ack(&mn[0], &k_narrow);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_ACKED), a0);
	ack(&mn[0], &k_border);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_ACKED), a0 + 1);
}

Test(pubsub, a_reload_that_removes_the_permission_drops_the_subscriber)
{
	subscribe(BORDER, "[7] 10.2.0.0/16", 7, "127.0.0.9");
	cr_assert_eq(reg(&k_two, "[7] 10.1.4.0/24", "192.0.2.1", XTR_A, 3), 1);
	uint8_t a[16];
	xtr_of(a, XTR_A);
	subscribe(a, "[7] 10.1.4.0/24", 9, "127.0.0.9");
	cr_assert_eq(ms_subscriptions_count(x.ms), 2);
	ms_housekeeping(x.ms, mtime_now_ns());
	cr_assert_eq(ms_subscriptions_count(x.ms), 2, "both still allowed");
	/* the border leaves the list; alpha stops allowing subscriptions */
	const char *next = "control: {socket: /tmp/x.sock}\n"
			   "sites:\n"
			   "  - name: alpha\n"
			   "    keys:\n"
			   "      - {id: 1, algorithm: hmac-sha-1-96, secret: k-one}\n"
			   "      - {id: 2, algorithm: hmac-sha-256-128, secret: k-two}\n"
			   "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n"
			   "    accept-more-specifics: true\n";
	char msg[256];
	uint64_t d0 = counters_sum(LISPMS_M_MS_PUBSUB_DROP_UNAUTHORISED);
	cr_assert_eq(ms_reload(x.ms, tl_conf(next), msg, sizeof(msg)), LISPMS_EOK, "%s", msg);
	ms_housekeeping(x.ms, mtime_now_ns());
	cr_assert_eq(ms_subscriptions_count(x.ms), 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_DROP_UNAUTHORISED), d0 + 2);
}

Test(pubsub, a_registration_a_reload_removes_is_published_as_withdrawn)
{
	cr_assert_eq(reg(&k_two, "[7] 10.1.200.0/24", "192.0.2.1", XTR_A, 3), 1);
	subscribe(BORDER, "[7] 10.1.0.0/16", 10, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[4];
	cr_assert_eq(notifies(&k_border, mn, 4), 1);
	cr_assert_eq(mn[0].nrecords, 2);
	ack(&mn[0], &k_border);
	/* alpha keeps only the lower half: 10.1.200.0/24 is removed by the reload */
	const char *next = "control: {socket: /tmp/x.sock}\n"
			   "sites:\n"
			   "  - name: alpha\n"
			   "    keys:\n"
			   "      - {id: 2, algorithm: hmac-sha-256-128, secret: k-two}\n"
			   "    eid-prefixes: [\"[7] 10.1.0.0/17\"]\n"
			   "    accept-more-specifics: true\n"
			   "subscribers:\n"
			   "  - name: border\n"
			   "    xtr-id: 0xbb000000000000000000000000000001\n"
			   "    keys: [{id: 9, algorithm: hmac-sha-256-128, secret: s-key}]\n";
	char msg[256];
	cr_assert_eq(ms_reload(x.ms, tl_conf(next), msg, sizeof(msg)), LISPMS_EOK, "%s", msg);
	cr_assert(!tl_registered(&x, "[7] 10.1.200.0/24"));
	tick(now + 1);
	cr_assert_eq(notifies(&k_border, mn, 4), 1, "the withdrawal is published");
	cr_assert_eq(mn[0].nonce, 11);
	cr_assert_eq(mn[0].nrecords, 1);
	cr_assert_eq(mn[0].records[0].nlocs, 0);
	cr_assert_str_eq(MS_TEST_EID(&(struct eid_prefix[1]){ rec_eid(&mn[0].records[0]) }[0]),
			 "[7] 10.1.200.0/24");
	cr_assert_eq(ms_subscriptions_count(x.ms), 1, "the border is still allowed");
}

Test(pubsub, the_operator_drops_a_subscriber)
{
	subscribe(BORDER, "[7] 10.2.0.0/16", 7, "127.0.0.9");
	cr_assert_eq(ms_subscriptions_count(x.ms), 1);
	cr_assert(!ms_subscription_drop(x.ms, NARROW));
	cr_assert(ms_subscription_drop(x.ms, BORDER));
	cr_assert_eq(ms_subscriptions_count(x.ms), 0);
}
