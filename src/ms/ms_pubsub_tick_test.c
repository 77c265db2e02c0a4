/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe on a worker whose ticks a wake function brings (D20):
 * a round's changes wake it once, and its tick publishes them, in order,
 * without waking it again (ms_pubsub_flush holds its own wake-ups).
 */
#include <lispms/ms_pubsub.h>

#include "ms_internal.h"
#include "ms_testlib.h"

static const char *conf_text = "control: {socket: /tmp/x.sock}\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: k}]\n"
			       "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "subscribers:\n"
			       "  - name: border\n"
			       "    xtr-id: bb000000000000000000000000000001\n"
			       "    keys: [{id: 9, algorithm: hmac-sha-256-128, secret: s-key}]\n";

static struct tl x;
static unsigned wakes;

static void count_wake(void *arg)
{
	(void)arg;
	wakes++;
}

static void setup(void)
{
	tl_init(&x, conf_text);
	ms_set_worker(x.ms, 0, count_wake, NULL);
}

static void teardown(void)
{
	tl_deinit(&x);
}

TestSuite(pubsub_tick, .init = setup, .fini = teardown);

/* The border subscribes to [7] 10.1.0.0/16 (N and I bits), ITR-RLOC 127.0.0.9. */
static void subscribe(uint64_t nonce)
{
	struct eid_prefix p = tl_eid("[7] 10.1.0.0/16");
	struct lisp_addr a;
	cr_assert_eq(lisp_addr_parse("127.0.0.9", &a), LISPMS_EOK);
	struct afi_addr itr;
	afi_from_addr(&a, &itr);
	struct lisp_request_record rr = { .reserved = LISP_MREQ_REC_N, .eid_plen = p.plen };
	afi_from_eid(&p, &rr.eid);
	struct lisp_map_request q = { .flags = LISP_MREQ_I,
				      .nonce = nonce,
				      .nitr = 1,
				      .itr_rlocs = &itr,
				      .nrecords = 1,
				      .records = &rr,
				      .has_site_id = true,
				      .site_id = 42 };
	q.xtr_id[0] = 0xbb;
	q.xtr_id[15] = 1;
	uint8_t buf[512];
	size_t len;
	cr_assert_eq(map_request_encode(&q, buf, sizeof(buf), &len), LISPMS_EOK);
	tl_feed(&x, buf, len, "127.0.0.9");
}

/* Worker 0's tick; the Map-Notifies it sends, decoded into mn[]. */
static unsigned tick(struct lisp_map_notify *mn, unsigned max)
{
	x.out.n = 0;
	arena_reset(&x.arena);
	lrcu_read_lock();
	ms_tick(x.t, mtime_now_ns(), &x.out);
	lrcu_read_unlock();
	unsigned n = 0;
	for (unsigned i = 0; i < x.out.n && n < max; i++) {
		const struct dgram_out *o = &x.out.msgs[i];
		if (msg_type(o->data, o->len) == LISP_MSG_MAP_NOTIFY)
			cr_assert_eq(map_notify_decode(o->data, o->len, &x.arena, &mn[n++]),
				     LISPMS_EOK);
	}
	return n;
}

Test(pubsub_tick, a_rounds_changes_wake_the_worker_once_and_its_tick_publishes_them)
{
	subscribe(100);
	struct lisp_map_notify mn[4];
	cr_assert_eq(tick(mn, 4), 1, "the state");
	cr_assert_eq(mn[0].nonce, 100);

	wakes = 0;
	const char *eids[] = { "[7] 10.1.1.0/24", "[7] 10.1.2.0/24", "[7] 10.1.3.0/24", NULL };
	cr_assert_eq(tl_register(&x, eids, "192.0.2.1", 1, "k", "127.0.0.1"), 3);
	cr_assert_eq(wakes, 1, "the round's first change wakes the worker, once");
	cr_assert_eq(tick(mn, 4), 1, "published at the tick, in one Map-Notify");
	cr_assert_eq(mn[0].nonce, 101);
	cr_assert_eq(mn[0].nrecords, 3);
	for (unsigned r = 0; r < 3; r++) {
		struct eid_prefix p;
		cr_assert_eq(afi_to_eid(&mn[0].records[r].eid, mn[0].records[r].eid_plen, &p),
			     LISPMS_EOK);
		struct eid_prefix want = tl_eid(eids[r]);
		cr_assert(eid_prefix_equal(&p, &want), "record %u in order", r);
	}
	cr_assert_eq(wakes, 1, "the tick does not wake its own worker again (%u)", wakes);
	cr_assert_eq(tick(mn, 4), 0, "and nothing is left for a later one");
}
