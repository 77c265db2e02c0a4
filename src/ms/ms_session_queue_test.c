/* SPDX-License-Identifier: MIT */
/*
 * The workers' queues (ms_session_queue.c, ms_notify_queue): what is queued
 * arrives whole and in order, the job that makes a queue non-empty wakes its
 * worker once for the batch, and a worker publishing in its own tick
 * (ms_session_hold) does not wake itself.
 */
#include "ms_session.h"
#include "ms_session_testlib.h"

static unsigned wakes1;
static void wake1(void *arg)
{
	(void)arg;
	wakes1++;
}

/* An 8-octet message, a Mapping Notification's type and length and then i four times. */
static void msg_of(uint8_t m[8], uint8_t i)
{
	m[0] = RT_TYPE_MAPPING_NOTIFICATION >> 8;
	m[1] = RT_TYPE_MAPPING_NOTIFICATION & 0xff;
	m[2] = 0;
	m[3] = 8;
	memset(m + 4, i, 4);
}

/* Queue messages first..first+n-1 for session id. */
static void deliver_n(uint64_t id, uint8_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t m[8];
		msg_of(m, (uint8_t)(first + i));
		ms_session_deliver(ms, id, m, sizeof(m));
	}
}

/* c holds messages first..first+n-1 in that order and nothing else; emptied. */
static void assert_got(struct fake_conn *c, uint8_t first, unsigned n)
{
	cr_assert_eq(c->len, 8 * (size_t)n, "%zu octets, not %u messages", c->len, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t m[8];
		msg_of(m, (uint8_t)(first + i));
		cr_assert(memcmp(c->buf + 8 * i, m, 8) == 0, "message %u out of place", i);
	}
	c->len = 0;
}

Test(session, a_worker_publishing_in_its_tick_does_not_wake_itself)
{
	static struct fake_conn c;
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	cr_assert_not_null(s);
	c.len = 0;
	wakes = 0;

	ms_session_hold(t);
	deliver_n(s->id, 1, 5);
	cr_assert_eq(wakes, 0, "no wake-up for its own queue while it holds them");
	cr_assert_eq(c.len, 0, "queued, not written");
	ms_session_release(t);
	ms_session_drain(t);
	assert_got(&c, 1, 5);
	cr_assert_eq(wakes, 0);

	/* any other time, the first job of a batch wakes the worker, once */
	deliver_n(s->id, 6, 3);
	cr_assert_eq(wakes, 1);
	ms_session_drain(t);
	assert_got(&c, 6, 3);
}

Test(session, a_held_worker_still_wakes_the_others_once_per_batch_in_order)
{
	static struct fake_conn c1;
	struct ms_thread *t1 = ms_thread_new(ms, 1);
	cr_assert_not_null(t1);
	ms_set_worker(ms, 1, wake1, NULL);
	struct sockaddr_storage p = peer("192.0.2.2");
	admit_grant(ms_admit(ms), &p, mtime_now_ns() + LISPMS_NS_PER_SEC * 60);
	struct ms_session *s1 = ms_session_open(t1, &p, fc(&c1));
	cr_assert_not_null(s1);
	c1.len = 0;
	wakes = wakes1 = 0;

	ms_session_hold(t); /* worker 0 publishes to a session of worker 1 */
	deliver_n(s1->id, 1, 40);
	ms_session_release(t);
	cr_assert_eq(wakes1, 1, "worker 1 woken once for the batch (%u)", wakes1);
	cr_assert_eq(wakes, 0);
	ms_session_drain(t1);
	assert_got(&c1, 1, 40);

	lrcu_read_lock();
	ms_thread_free(t1);
	lrcu_read_unlock();
}

/* Worker t's tick: the UDP notifies it sends now, n of them, are messages first.. in order. */
static void assert_sent(uint8_t first, unsigned n)
{
	struct dgram_out msgs[8];
	uint8_t mem[4096];
	struct arena a = { .base = mem, .size = sizeof(mem) };
	struct dgram_outbox out = { .msgs = msgs, .cap = 8, .arena = &a };
	ms_notify_tick(t, mtime_now_ns(), &out);
	cr_assert_eq(out.n, n, "%u sent, not %u", out.n, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t m[8];
		msg_of(m, (uint8_t)(first + i));
		cr_assert(out.msgs[i].len == 8 && memcmp(out.msgs[i].data, m, 8) == 0,
			  "notify %u out of place", i);
	}
}

Test(session, a_worker_queueing_udp_notifies_in_its_tick_does_not_wake_itself)
{
	struct sockaddr_storage dst = peer("192.0.2.9");
	uint8_t m[8];
	wakes = 0;
	ms_session_hold(t);
	for (uint8_t i = 1; i <= 3; i++) {
		msg_of(m, i);
		cr_assert(ms_notify_queue(ms, m, sizeof(m), 0x10 + i, &dst, &key_a, 0));
	}
	ms_session_release(t);
	cr_assert_eq(wakes, 0, "no wake-up for its own notify queue while it holds them");
	assert_sent(1, 3);

	/* any other time, the first of a batch wakes the worker, once */
	for (uint8_t i = 4; i <= 5; i++) {
		msg_of(m, i);
		cr_assert(ms_notify_queue(ms, m, sizeof(m), 0x10 + i, &dst, &key_a, 0));
	}
	cr_assert_eq(wakes, 1);
	assert_sent(4, 2);
	cr_assert_eq(ms_notify_pending(ms), 5, "all five await their acks");
}
