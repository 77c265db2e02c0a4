/* SPDX-License-Identifier: MIT */
/*
 * The order publications leave in: a change superseded by a later one is
 * left out (expiry walks, other workers), a later change built first still
 * leaves after the earlier one, and the changes of one round leave together.
 */
#include "ms_pubsub_testlib.h"

/* A withdrawal of eid, as the database reports it. */
static void publish_withdrawal(const char *eid)
{
	struct db_event_list l;
	db_event_list_init(&l);
	struct db_event ev = { .type = DB_EV_REMOVED, .prefix = tl_eid(eid) };
	db_event_list_add(&ev, &l);
	lrcu_read_lock();
	ms_pubsub_events(x.ms, &l);
	lrcu_read_unlock();
	db_event_list_clear(&l);
}

static unsigned overtakes;

/* Runs in the first publisher after it built and signed, before it hands over:
 * a second publisher (a later change) goes all the way through meanwhile. */
static void overtake(struct ms *ms)
{
	(void)ms;
	ms_pubsub_test_built = NULL;
	overtakes++;
	publish_withdrawal("[7] 10.1.2.0/24");
}

Test(pubsub, an_expiry_event_a_later_change_superseded_is_not_published)
{
	subscribe(BORDER, "[7] 10.1.0.0/16", 50, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[4];
	cr_assert_eq(notifies(&k_border, mn, 4), 1, "the state");
	ack(&mn[0], &k_border);
	cr_assert_eq(reg(&k_two, "[7] 10.1.9.1/32", "192.0.2.1", XTR_A, 3), 1);
	tick(now + 1);
	cr_assert_eq(notifies(&k_border, mn, 4), 1, "the registration");
	ack(&mn[0], &k_border);
	/* an expiry walk removed the /32 and collected the event; a worker
	 * registered it again and published that before the walk publishes */
	uint64_t s0 = counters_sum(LISPMS_M_MS_PUBSUB_SUPERSEDED);
	publish_withdrawal("[7] 10.1.9.1/32");
	tick(now + 2);
	cr_assert_eq(notifies(&k_border, mn, 4), 0, "the stale withdrawal is left out");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_SUPERSEDED), s0 + 1);
}

Test(pubsub, a_later_change_built_first_is_still_delivered_after_the_earlier_one)
{
	subscribe(BORDER, "[7] 10.1.0.0/16", 50, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[4];
	cr_assert_eq(notifies(&k_border, mn, 4), 1, "the state");
	ack(&mn[0], &k_border);
	/* the first change reserves nonce 51; while it is outside the lock the
	 * second reserves 52, builds, signs and reaches the hand-over first */
	overtakes = 0;
	ms_pubsub_test_built = overtake;
	publish_withdrawal("[7] 10.1.1.0/24");
	ms_pubsub_test_built = NULL;
	cr_assert_eq(overtakes, 1);
	tick(now + 1);
	cr_assert_eq(notifies(&k_border, mn, 4), 2, "both published");
	cr_assert_eq(mn[0].nonce, 51,
		     "the earlier change leaves first (got %" PRIu64 ", %" PRIu64 ")", mn[0].nonce,
		     mn[1].nonce);
	cr_assert_str_eq(MS_TEST_EID(&(struct eid_prefix[1]){ rec_eid(&mn[0].records[0]) }[0]),
			 "[7] 10.1.1.0/24");
	cr_assert_eq(mn[1].nonce, 52, "then the later one, whatever finished first");
	cr_assert_str_eq(MS_TEST_EID(&(struct eid_prefix[1]){ rec_eid(&mn[1].records[0]) }[0]),
			 "[7] 10.1.2.0/24");
	struct ms_subscription_info info[1];
	cr_assert_eq(ms_subscriptions_list(x.ms, info, 1), 1);
	cr_assert_eq(info[0].published, 3);
	cr_assert_eq(info[0].pending, 2);
}

/* On a worker (a wake function brings its ticks) the changes of one round
 * wait for its tick and leave together: 40 Registrations are 2 Map-Notifies
 * (32 records per UDP Map-Notify), every record there, in order. */
Test(pubsub, the_changes_of_one_round_are_published_together_in_order)
{
	ms_set_worker(x.ms, 0, fake_wake, NULL);
	subscribe(BORDER, "[7] 10.1.0.0/16", 100, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[64];
	cr_assert_eq(notifies(&k_border, mn, 64), 1, "the state");
	ack(&mn[0], &k_border);
	for (unsigned i = 1; i <= 40; i++) {
		char eid[48];
		snprintf(eid, sizeof(eid), "[7] 10.1.%u.0/24", i);
		cr_assert_eq(reg(&k_two, eid, "192.0.2.1", XTR_A, 3), 1);
	}
	struct ms_subscription_info info[1];
	cr_assert_eq(ms_subscriptions_list(x.ms, info, 1), 1);
	cr_assert_eq(info[0].published, 1, "nothing published before the tick");
	tick(now + 1);
	unsigned n = notifies(&k_border, mn, 64);
	cr_assert_eq(n, 2, "40 changes in 2 Map-Notifies, not 40 (got %u)", n);
	unsigned next = 1;
	for (unsigned b = 0; b < n; b++) {
		cr_assert_eq(mn[b].nonce, 101 + b, "nonces one after the other");
		for (unsigned r = 0; r < mn[b].nrecords; r++, next++) {
			char want[48];
			snprintf(want, sizeof(want), "[7] 10.1.%u.0/24", next);
			struct eid_prefix p = rec_eid(&mn[b].records[r]);
			cr_assert_str_eq(MS_TEST_EID(&p), want, "every change, in order");
		}
	}
	cr_assert_eq(next, 41, "all 40 records");
	cr_assert_eq(mn[0].nrecords, 32);
}

/* A change held for worker 0's tick that another worker superseded meanwhile
 * (and published first) is left out: the subscriber's last word on the
 * prefix is the current state, not the older change. */
Test(pubsub, a_change_another_worker_superseded_is_not_published_after_it)
{
	ms_set_worker(x.ms, 0, fake_wake, NULL);
	subscribe(BORDER, "[7] 10.1.0.0/16", 100, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[8];
	cr_assert_eq(notifies(&k_border, mn, 8), 1, "the state");
	ack(&mn[0], &k_border);
	uint64_t sup0 = counters_sum(LISPMS_M_MS_PUBSUB_SUPERSEDED);
	cr_assert_eq(reg(&k_two, "[7] 10.1.9.0/24", "192.0.2.1", XTR_A, 3), 1); /* held */
	/* worker 1 (nobody brings its ticks: it publishes at once) changes it again */
	struct ms_thread *w0 = x.t, *w1 = ms_thread_new(x.ms, 1);
	cr_assert_not_null(w1);
	x.t = w1;
	cr_assert_eq(reg(&k_two, "[7] 10.1.9.0/24", "192.0.2.2", XTR_A, 3), 1);
	x.t = w0;
	tick(now + 1);
	unsigned n = notifies(&k_border, mn, 8);
	cr_assert_eq(n, 1, "only the current state (got %u)", n);
	cr_assert_eq(mn[0].nonce, 101);
	struct lisp_addr l;
	cr_assert_eq(afi_to_addr(&mn[0].records[0].locs[0].addr, &l), LISPMS_EOK);
	cr_assert_str_eq(MS_TEST_ADDR(&l), "192.0.2.2", "the later change");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_SUPERSEDED), sup0 + 1);
	lrcu_read_lock();
	ms_thread_free(w1);
	lrcu_read_unlock();
}
