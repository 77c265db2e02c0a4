/* SPDX-License-Identifier: MIT */
/* The operators' requests on sessions: list and drop through the workers' queues. */
#include "ms_session_testlib.h"

/* ---- operators' view: list and drop through the worker's queue ---- */

static struct ms_session *open_full(struct ms_thread *on, const char *addr, struct fake_conn *c)
{
	struct sockaddr_storage p = peer(addr);
	admit_grant(ms_admit(ms), &p, mtime_now_ns() + LISPMS_NS_PER_SEC * 60);
	return ms_session_open(on, &p, fc(c));
}

/* A worker that answers at once: its wake-up runs its tick right away. */
static void tick_now(void *arg)
{
	struct dgram_out slots[4];
	struct dgram_outbox out = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(arg, mtime_now_ns(), &out);
}

static void register_on(struct ms_session *s, const char *const *eids, unsigned n)
{
	const char *rlocs[] = { "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1" };
	uint8_t msg[4096];
	size_t len = registration(eids, rlocs, 3, n, &key_a, msg, sizeof(msg));
	cr_assert_eq(ms_session_recv(t, s, msg, len), LISPMS_EOK);
}

Test(session, list_pages_through_the_workers_sessions_in_order_with_their_eids)
{
	ms_set_worker(ms, 0, tick_now, t);
	struct fake_conn c[3] = { 0 };
	struct ms_session *s[3];
	const char *addrs[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
	for (int i = 0; i < 3; i++)
		cr_assert_not_null(s[i] = open_full(t, addrs[i], &c[i]));
	const char *eids[] = { "[1000] 10.1.1.0/24", "[1000] 10.1.2.0/24", "[1000] 10.1.3.0/24" };
	const char *other[] = { "[1000] 10.1.9.0/24" };
	register_on(s[1], eids, 3);
	register_on(s[2], other, 1);

	struct ms_session_info info[4];
	size_t n = 99;
	lrcu_read_unlock();
	cr_assert_eq(ms_sessions_list(ms, 0, 0, info, 2, &n, 5000), LISPMS_EOK);
	cr_assert_eq(n, 2, "the page size bounds the answer");
	cr_assert_eq(info[0].id, ms_session_id(s[0]));
	cr_assert_eq(info[1].id, ms_session_id(s[1]));
	cr_assert_eq(info[0].eids, 0);
	cr_assert_eq(info[1].eids, 3);
	cr_assert_eq(info[1].acked, 3);
	cr_assert_eq(info[1].rx, 1);
	cr_assert_eq(info[1].tx, 4, "the refresh and three acks");
	cr_assert_eq(info[1].queued, c[1].len, "what the transport says is waiting");
	cr_assert_eq(info[1].state, MS_SESS_STATE_UP);
	cr_assert_eq(info[1].worker, 0);
	struct sockaddr_storage p1 = peer("192.0.2.2");
	cr_assert_eq(saddr_cmp(&info[1].peer, &p1), 0);

	cr_assert_eq(ms_sessions_list(ms, 0, info[1].id, info, 4, &n, 5000), LISPMS_EOK);
	cr_assert_eq(n, 1, "resumes after the cursor");
	cr_assert_eq(info[0].id, ms_session_id(s[2]));
	cr_assert_eq(info[0].eids, 1);
	cr_assert_eq(ms_sessions_list(ms, 0, info[0].id, info, 4, &n, 5000), LISPMS_EOK);
	cr_assert_eq(n, 0);

	/* the cursor's session closed meanwhile: the page still starts after it */
	uint64_t cursor = ms_session_id(s[1]);
	lrcu_read_lock();
	ms_session_closed(t, s[1], STREAM_CLOSE_PEER);
	lrcu_read_unlock();
	cr_assert_eq(ms_sessions_list(ms, 0, cursor, info, 4, &n, 5000), LISPMS_EOK);
	cr_assert_eq(n, 1);
	cr_assert_eq(info[0].id, ms_session_id(s[2]));
	cr_assert_eq(ms_sessions_list(ms, 5, 0, info, 4, &n, 5000), LISPMS_ENOENT,
		     "no such worker");
	lrcu_read_lock();
	ms_session_closed(t, s[0], STREAM_CLOSE_PEER);
	ms_session_closed(t, s[2], STREAM_CLOSE_PEER);
	for (int i = 0; i < 3; i++)
		free(c[i].buf);
}

/* Every session counter and listing row carries the transport of its connection. */
Test(session, counters_and_listing_carry_the_sessions_transport)
{
	ms_set_worker(ms, 0, tick_now, t);
	struct fake_conn c = { 0 };
	struct sockaddr_storage p = peer("192.0.2.4");
	admit_grant(ms_admit(ms), &p, mtime_now_ns() + LISPMS_NS_PER_SEC * 60);
	enum metric_id up = LISPMS_M_MS_SESS_UP, opened = LISPMS_M_MS_SESS_OPENED,
		       ack = LISPMS_M_MS_SESS_TX_ACK, closed = LISPMS_M_MS_SESS_CLOSED_PEER;
	uint64_t tcp_opened = counters_sum(opened), tcp_ack = counters_sum(ack);
	uint64_t q_opened = counters_sum(counters_sess_id(opened, STREAM_QUIC)),
		 q_ack = counters_sum(counters_sess_id(ack, STREAM_QUIC)),
		 q_closed = counters_sum(counters_sess_id(closed, STREAM_QUIC));
	int64_t q_up = counters_sum_gauge(counters_sess_id(up, STREAM_QUIC));
	struct ms_session *s = ms_session_open(t, &p, fc_on(&c, STREAM_QUIC));
	cr_assert_not_null(s);
	cr_assert_eq(counters_sum(counters_sess_id(opened, STREAM_QUIC)), q_opened + 1);
	cr_assert_eq(counters_sum(opened), tcp_opened, "not on the tcp row");
	cr_assert_eq(counters_sum_gauge(counters_sess_id(up, STREAM_QUIC)), q_up + 1);
	const char *eids[] = { "[1000] 10.1.1.0/24" };
	register_on(s, eids, 1);
	cr_assert_eq(counters_sum(counters_sess_id(ack, STREAM_QUIC)), q_ack + 1);
	cr_assert_eq(counters_sum(ack), tcp_ack);
	struct ms_session_info info[2];
	size_t n = 0;
	lrcu_read_unlock();
	cr_assert_eq(ms_sessions_list(ms, 0, 0, info, 2, &n, 5000), LISPMS_EOK);
	cr_assert_eq(n, 1);
	cr_assert_eq(info[0].transport, STREAM_QUIC);
	lrcu_read_lock();
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	cr_assert_eq(counters_sum(counters_sess_id(closed, STREAM_QUIC)), q_closed + 1);
	cr_assert_eq(counters_sum_gauge(counters_sess_id(up, STREAM_QUIC)), q_up);
	cr_assert_str_eq(counters_desc[counters_sess_id(ack, STREAM_QUIC)].name,
			 "lispms_messages_sent_total");
	cr_assert_eq(counters_desc[counters_sess_id(ack, STREAM_QUIC)].transport, STREAM_QUIC + 1);
	free(c.buf);
}

Test(session, drop_closes_only_that_peer_as_a_session_loss_counted_as_operator)
{
	ms_set_worker(ms, 0, tick_now, t);
	struct fake_conn c[2] = { 0 };
	struct ms_session *a = open_full(t, "192.0.2.1", &c[0]);
	struct ms_session *b = open_full(t, "192.0.2.2", &c[1]);
	const char *eids[] = { "[1000] 10.1.1.0/24" };
	register_on(a, eids, 1);
	uint64_t before = counters_sum(LISPMS_M_MS_SESS_CLOSED_OPERATOR);

	struct sockaddr_storage pa = peer("192.0.2.1"), other = peer("192.0.2.9");
	size_t dropped = 99;
	lrcu_read_unlock();
	cr_assert_eq(ms_sessions_drop(ms, &other, true, &dropped, 5000), LISPMS_EOK);
	cr_assert_eq(dropped, 0, "an unknown peer drops nothing");
	struct sockaddr_storage wrong_port = pa;
	saddr_set_port(&wrong_port, 1);
	cr_assert_eq(ms_sessions_drop(ms, &wrong_port, false, &dropped, 5000), LISPMS_EOK);
	cr_assert_eq(dropped, 0, "the port counts when it is given");
	cr_assert(!c[0].abort_requested);
	cr_assert_eq(ms_sessions_drop(ms, &pa, true, &dropped, 5000), LISPMS_EOK);
	cr_assert_eq(dropped, 1);
	cr_assert(c[0].abort_requested, "closed at once, not after its output");
	cr_assert(!c[1].abort_requested && !c[1].close_requested, "the other one stays");

	struct ms_session_info info[4];
	size_t n;
	cr_assert_eq(ms_sessions_list(ms, 0, 0, info, 4, &n, 5000), LISPMS_EOK);
	cr_assert_eq(n, 2);
	cr_assert_eq(info[0].state, MS_SESS_STATE_CLOSING, "until its transport closes it");
	size_t len = c[0].len;
	cr_assert_eq(ms_sessions_drop(ms, &pa, true, &dropped, 5000), LISPMS_EOK);
	cr_assert_eq(dropped, 0, "dropped once");

	lrcu_read_lock();
	ms_session_closed(t, a, STREAM_CLOSE_ABORT); /* as net reports an aborted connection */
	cr_assert_eq(c[0].len, len, "nothing more was written to it");
	cr_assert_eq(counters_sum(LISPMS_M_MS_SESS_CLOSED_OPERATOR), before + 1);
	uint64_t exp = expiry_of("[1000] 10.1.1.0/24");
	cr_assert(exp != 0 && exp != UINT64_MAX, "kept, on a UDP timer (D7)");
	cr_assert(!admit_check(ms_admit(ms), &pa, mtime_now_ns()), "its grant ended (D5)");
	cr_assert_eq(ms_session_count(t), 1);
	ms_session_closed(t, b, STREAM_CLOSE_PEER);
	free(c[0].buf);
	free(c[1].buf);
}

Test(session, a_worker_that_does_not_answer_times_out_and_its_late_answer_is_harmless)
{
	/* fake_wake does not run the tick: the worker is "busy" */
	struct fake_conn c = { 0 };
	struct ms_session *s = open_full(t, "192.0.2.1", &c);
	struct ms_session_info info[2];
	size_t n = 0, dropped = 0;
	struct sockaddr_storage p = peer("192.0.2.1");
	int64_t depth = counters_sum_gauge(LISPMS_M_MS_SESS_QUEUE_DEPTH);
	lrcu_read_unlock();
	cr_assert_eq(ms_sessions_list(ms, 0, 0, info, 2, &n, 20), LISPMS_ETIMEDOUT);
	cr_assert_eq(ms_sessions_drop(ms, &p, true, &dropped, 20), LISPMS_ETIMEDOUT);
	lrcu_read_lock();
	cr_assert_eq(counters_sum_gauge(LISPMS_M_MS_SESS_QUEUE_DEPTH), depth + 2,
		     "both wait in the queue");
	/* the worker gets to them: the list is answered into nothing, the drop happens */
	tick_now(t);
	cr_assert_eq(counters_sum_gauge(LISPMS_M_MS_SESS_QUEUE_DEPTH), depth);
	cr_assert(c.abort_requested);
	ms_session_closed(t, s, STREAM_CLOSE_ABORT);
	lrcu_read_unlock();
	/* one more left in the queue: ms_free answers it (ASan would see a leak) */
	cr_assert_eq(ms_sessions_list(ms, 0, 0, info, 2, &n, 1), LISPMS_ETIMEDOUT);
	lrcu_read_lock();
	free(c.buf);
}
