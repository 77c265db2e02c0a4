/* SPDX-License-Identifier: MIT */
/* The session protocol: admission, registrations, errors, framing, stalls. */
#include "ms_session_testlib.h"

Test(session, unadmitted_peer_is_refused_with_nothing_sent)
{
	struct fake_conn c = { 0 };
	struct sockaddr_storage p = peer("192.0.2.77");
	cr_assert_null(ms_session_open(t, &p, fc(&c)));
	cr_assert_eq(c.len, 0);
	cr_assert_eq(ms_session_count(t), 0);
}

Test(session, starts_with_a_scope_0_refresh_and_acks_or_rejects_every_record)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	cr_assert_not_null(s);
	cr_assert(!admit_check(ms_admit(ms), &(struct sockaddr_storage){ 0 }, 0));
	struct rt_msg m[8];
	cr_assert_eq(decode_all(&c, m, 8), 1);
	cr_assert_eq(m[0].type, RT_TYPE_REGISTRATION_REFRESH);
	cr_assert_eq(m[0].u.refresh.scope, RT_SCOPE_ALL);
	cr_assert_eq(m[0].u.refresh.flags, 0);
	c.len = 0;

	const char *eids[] = { "[1000] 10.1.1.0/24", "[1000] 10.2.5.0/24", "[1000] 10.1.2.0/24" };
	const char *rlocs[] = { "192.0.2.1", "192.0.2.1", "198.51.100.1" };
	uint8_t msg[4096];
	size_t len = registration(eids, rlocs, 3, 3, &key_a, msg, sizeof(msg));
	uint64_t rx0 = counters_sum(LISPMS_M_MS_SESS_RX_REGISTRATION),
		 ack0 = counters_sum(LISPMS_M_MS_SESS_TX_ACK),
		 rej0 = counters_sum(LISPMS_M_MS_SESS_TX_REJECT);
	cr_assert_eq(ms_session_recv(t, s, msg, len), LISPMS_EOK);
	cr_assert_eq(decode_all(&c, m, 8), 3);
	cr_assert_eq(counters_sum(LISPMS_M_MS_SESS_RX_REGISTRATION), rx0 + 1,
		     "messages counted by transport and type");
	cr_assert_eq(counters_sum(LISPMS_M_MS_SESS_TX_ACK), ack0 + 1);
	cr_assert_eq(counters_sum(LISPMS_M_MS_SESS_TX_REJECT), rej0 + 2);
	cr_assert_eq(m[0].type, RT_TYPE_REGISTRATION_ACK);
	cr_assert(prefix_is(&m[0].u.ack, "[1000] 10.1.1.0/24"));
	cr_assert_eq(m[1].type, RT_TYPE_REGISTRATION_REJECT);
	cr_assert_eq(m[1].u.reject.reason, RT_REASON_NOT_SITE_PREFIX);
	cr_assert(prefix_is(&m[1].u.reject.eid, "[1000] 10.2.5.0/24"));
	cr_assert_eq(m[2].type, RT_TYPE_REGISTRATION_REJECT);
	cr_assert_eq(m[2].u.reject.reason, RT_REASON_LOCATOR_SET);

	c.len = 0;
	len = registration(eids, rlocs, 3, 1, &key_wrong, msg, sizeof(msg));
	cr_assert_eq(ms_session_recv(t, s, msg, len), LISPMS_EOK);
	cr_assert_eq(decode_all(&c, m, 8), 1);
	cr_assert_eq(m[0].type, RT_TYPE_REGISTRATION_REJECT);
	cr_assert_eq(m[0].u.reject.reason, RT_REASON_AUTH_FAILURE);
	free(c.buf);
}

/* True when the db has a mapping for exactly this prefix. */
static bool tl_stored(const char *prefix)
{
	struct eid_prefix p;
	eid_prefix_parse(prefix, &p);
	return db_lookup_exact(ms_db(ms), &p) != NULL;
}

/*
 * The records of a Registration reach the db in groups (db_register_batch):
 * every record still gets its own answer, in order, across group
 * boundaries, and exactly the accepted ones are stored.
 */
Test(session, a_long_registration_is_answered_record_by_record_in_order)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	cr_assert_not_null(s);
	c.len = 0;
	enum { N = 40 };
	char text[N][32];
	const char *eids[N], *rlocs[N];
	for (unsigned i = 0; i < N; i++) {
		bool other_site = i % 5 == 3, bad_rloc = i % 7 == 5;
		if (i == 34) /* again the first record: a refresh, still acknowledged */
			snprintf(text[i], sizeof(text[i]), "[1000] 10.1.0.0/24");
		else
			snprintf(text[i], sizeof(text[i]), "[1000] 10.%u.%u.0/24",
				 other_site ? 2 : 1, i);
		eids[i] = text[i];
		rlocs[i] = bad_rloc ? "198.51.100.1" : "192.0.2.1";
	}
	static uint8_t msg[8192];
	size_t len = registration(eids, rlocs, 3, N, &key_a, msg, sizeof(msg));
	cr_assert_eq(ms_session_recv(t, s, msg, len), LISPMS_EOK);
	struct rt_msg m[N + 1];
	cr_assert_eq(decode_all(&c, m, N + 1), N);
	for (unsigned i = 0; i < N; i++) {
		bool other_site = i % 5 == 3, bad_rloc = i % 7 == 5;
		if (other_site || bad_rloc) {
			cr_assert_eq(m[i].type, RT_TYPE_REGISTRATION_REJECT, "record %u", i);
			cr_assert_eq(m[i].u.reject.reason,
				     other_site ? RT_REASON_NOT_SITE_PREFIX : RT_REASON_LOCATOR_SET,
				     "record %u", i);
			cr_assert(prefix_is(&m[i].u.reject.eid, eids[i]), "record %u", i);
			cr_assert(!tl_stored(eids[i]), "record %u", i);
		} else {
			cr_assert_eq(m[i].type, RT_TYPE_REGISTRATION_ACK, "record %u", i);
			cr_assert(prefix_is(&m[i].u.ack, eids[i]), "record %u", i);
			cr_assert(tl_stored(eids[i]), "record %u", i);
		}
	}
	free(c.buf);
}

Test(session, registrations_live_with_the_session_and_fall_back_when_it_closes)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, s, msg, len);
	cr_assert_eq(expiry_of("[1000] 10.1.1.0/24"), UINT64_MAX, "bound to the session (D7)");
	struct sockaddr_storage p = peer("192.0.2.1");
	cr_assert_eq(admit_session(ms_admit(ms), &p), ms_session_id(s));
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	uint64_t exp = expiry_of("[1000] 10.1.1.0/24");
	cr_assert(exp != 0 && exp != UINT64_MAX, "kept, with a UDP timer from the drop");
	cr_assert(!admit_check(ms_admit(ms), &p, mtime_now_ns()),
		  "a new session needs a new UDP authentication (D5)");
	free(c.buf);
}

Test(session, ttl_0_withdraws)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, s, msg, len);
	struct eid_prefix p;
	eid_prefix_parse("[1000] 10.1.1.0/24", &p);
	cr_assert_not_null(db_lookup_exact(ms_db(ms), &p));
	c.len = 0;
	len = registration(eids, rlocs, 0, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, s, msg, len);
	struct rt_msg m[4];
	cr_assert_eq(decode_all(&c, m, 4), 1);
	cr_assert_eq(m[0].type, RT_TYPE_REGISTRATION_ACK);
	cr_assert_null(db_lookup_exact(ms_db(ms), &p), "withdrawn (D8)");
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
}

Test(session, unknown_and_unexpected_types_get_error_notifications_and_the_session_goes_on)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	c.len = 0;
	const uint8_t unknown[] = { 0x00, 0x63, 0x00, 0x10, 0,	  0,	0,    42,
				    1,	  2,	3,    4,    0x9f, 0xac, 0xad, 0xe9 };
	const uint8_t ack[] = { 0x00, 0x12, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x02, 0x10, 0x40, 0x03,
				0x00, 0x00, 0x02, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x03, 0xe8, 0x00,
				0x01, 0x0a, 0x01, 0x00, 0x00, 0x9f, 0xac, 0xad, 0xe9 };
	cr_assert_eq(ms_session_recv(t, s, unknown, sizeof(unknown)), LISPMS_EOK);
	cr_assert_eq(ms_session_recv(t, s, ack, sizeof(ack)), LISPMS_EOK);
	struct rt_msg m[4];
	cr_assert_eq(decode_all(&c, m, 4), 2);
	cr_assert_eq(m[0].type, RT_TYPE_ERROR_NOTIFICATION);
	cr_assert_eq(m[0].u.error.code, RT_ERR_UNKNOWN_TYPE);
	cr_assert_eq(m[0].u.error.off_type, 0x63);
	cr_assert_eq(m[0].u.error.off_len, 16);
	cr_assert_eq(m[0].u.error.off_id, 42);
	cr_assert_eq(m[1].u.error.code, RT_ERR_UNEXPECTED);
	cr_assert_eq(m[1].u.error.off_type, RT_TYPE_REGISTRATION_ACK);
	c.len = 0;
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	cr_assert_eq(ms_session_recv(t, s, msg, len), LISPMS_EOK);
	cr_assert_eq(decode_all(&c, m, 4), 1);
	cr_assert_eq(m[0].type, RT_TYPE_REGISTRATION_ACK, "the session still works");
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
}

Test(session, a_bad_end_marker_gets_error_3_and_closes)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	c.len = 0;
	const uint8_t bad[] = {
		0x00, 0x14, 0x00, 0x0f, 0, 0, 0, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef
	};
	cr_assert_lt(ms_session_recv(t, s, bad, sizeof(bad)), 0, "the transport must close");
	struct rt_msg m[2];
	cr_assert_eq(decode_all(&c, m, 2), 1);
	cr_assert_eq(m[0].type, RT_TYPE_ERROR_NOTIFICATION);
	cr_assert_eq(m[0].u.error.code, RT_ERR_BAD_MARKER);
	cr_assert_eq(m[0].u.error.off_type, RT_TYPE_REGISTRATION_REFRESH);
	ms_session_closed(t, s, STREAM_CLOSE_ERROR);
	free(c.buf);
}

Test(session, any_split_and_coalescing_of_the_stream_gives_the_same_answers)
{
	const char *e1[] = { "[1000] 10.1.1.0/24" }, *e2[] = { "[1000] 10.1.2.0/24" };
	const char *rlocs[] = { "192.0.2.1" };
	uint8_t two[4096];
	size_t l1 = registration(e1, rlocs, 3, 1, &key_a, two, sizeof(two));
	size_t l2 = registration(e2, rlocs, 3, 1, &key_a, two + l1, sizeof(two) - l1);
	size_t total = l1 + l2;
	for (size_t cut = 0; cut <= total; cut++) {
		struct fake_conn c = { 0 };
		struct ms_session *s = open_admitted("192.0.2.1", &c);
		c.len = 0;
		cr_assert_eq(ms_session_recv(t, s, two, cut), LISPMS_EOK);
		/* the rest a byte at a time */
		for (size_t i = cut; i < total; i++)
			cr_assert_eq(ms_session_recv(t, s, two + i, 1), LISPMS_EOK);
		struct rt_msg m[4];
		cr_assert_eq(decode_all(&c, m, 4), 2, "cut at %zu", cut);
		cr_assert(m[0].type == RT_TYPE_REGISTRATION_ACK &&
			  prefix_is(&m[0].u.ack, "[1000] 10.1.1.0/24"));
		cr_assert(m[1].type == RT_TYPE_REGISTRATION_ACK &&
			  prefix_is(&m[1].u.ack, "[1000] 10.1.2.0/24"));
		ms_session_closed(t, s, STREAM_CLOSE_PEER);
		free(c.buf);
	}
}

Test(session, a_slow_reader_is_closed_when_its_output_bound_is_passed)
{
	struct fake_conn c = { .limit = 200 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	int ret = LISPMS_EOK;
	for (int i = 0; i < 20 && ret == LISPMS_EOK; i++)
		ret = ms_session_recv(t, s, msg, len);
	cr_assert_eq(ret, LISPMS_ELIMIT);
	cr_assert(c.close_requested);
	ms_session_closed(t, s, STREAM_CLOSE_SLOW);
	free(c.buf);
}

static void check_notification(struct fake_conn *ca)
{
	struct rt_msg m[4];
	cr_assert_eq(decode_all(ca, m, 4), 1);
	cr_assert_eq(m[0].type, RT_TYPE_MAPPING_NOTIFICATION);
	struct lisp_map_notify mn;
	arena_reset(&ar);
	cr_assert_eq(map_notify_decode(m[0].u.inner.msg, m[0].u.inner.len, &ar, &mn), LISPMS_EOK);
	cr_assert_eq(auth_verify(actx, &key_a, 1, m[0].u.inner.msg, m[0].u.inner.len, &mn.auth),
		     LISPMS_EOK, "signed with the site key (D3)");
	cr_assert_eq(mn.nrecords, 1);
	struct lisp_addr loc;
	cr_assert_eq(afi_to_addr(&mn.records[0].locs[0].addr, &loc), LISPMS_EOK);
	char text[64];
	lisp_addr_format(&loc, text, sizeof(text));
	cr_assert_str_eq(text, "192.0.2.2", "the new owner's locator");
}

Test(session, a_displaced_etr_on_another_worker_is_told_through_that_workers_queue)
{
	struct ms_thread *t2 = ms_thread_new(ms, 1);
	ms_set_worker(ms, 1, fake_wake, NULL);
	struct fake_conn ca = { 0 }, cb = { 0 };
	struct ms_session *a = open_admitted("192.0.2.1", &ca);
	struct sockaddr_storage pb = peer("192.0.2.2");
	admit_grant(ms_admit(ms), &pb, mtime_now_ns() + LISPMS_NS_PER_SEC * 60);
	struct ms_session *b = ms_session_open(t2, &pb, fc(&cb));
	cr_assert_not_null(b);
	const char *eids[] = { "[1000] 10.1.7.0/24" };
	const char *ra[] = { "192.0.2.1" }, *rb[] = { "192.0.2.2" };
	uint8_t msg[2048];
	size_t len = registration(eids, ra, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, a, msg, len);
	ca.len = 0;
	int before = wakes;
	len = registration(eids, rb, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t2, b, msg, len); /* worker 1 displaces worker 0's ETR */
	cr_assert_eq(wakes, before + 1, "the owning worker was woken");
	cr_assert_eq(ca.len, 0, "nothing written from another worker's thread");
	struct dgram_out slots[4];
	struct dgram_outbox out = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(t, mtime_now_ns(), &out); /* worker 0's tick delivers it */
	check_notification(&ca);

	/* two more moves before worker 0 runs: one wake-up, both delivered */
	const char *more[] = { "[1000] 10.1.8.0/24", "[1000] 10.1.9.0/24" };
	for (unsigned i = 0; i < 2; i++) {
		len = registration(&more[i], ra, 3, 1, &key_a, msg, sizeof(msg));
		ms_session_recv(t, a, msg, len);
	}
	ca.len = 0;
	before = wakes;
	for (unsigned i = 0; i < 2; i++) {
		len = registration(&more[i], rb, 3, 1, &key_a, msg, sizeof(msg));
		ms_session_recv(t2, b, msg, len);
	}
	cr_assert_eq(wakes, before + 1, "a queue that was not empty needs no second wake-up");
	ms_tick(t, mtime_now_ns(), &out);
	struct rt_msg m[4];
	cr_assert_eq(decode_all(&ca, m, 4), 2, "both notifications delivered by one tick");
	cr_assert(m[0].type == RT_TYPE_MAPPING_NOTIFICATION &&
		  m[1].type == RT_TYPE_MAPPING_NOTIFICATION);
	ms_session_closed(t, a, STREAM_CLOSE_PEER);
	ms_session_closed(t2, b, STREAM_CLOSE_PEER);
	ms_thread_free(t2);
	free(ca.buf);
	free(cb.buf);
}

Test(session, a_displaced_etr_on_the_same_worker_is_told_at_once)
{
	struct fake_conn ca = { 0 }, cb = { 0 };
	struct ms_session *a = open_admitted("192.0.2.1", &ca);
	struct ms_session *b = open_admitted("192.0.2.2", &cb);
	const char *eids[] = { "[1000] 10.1.7.0/24" };
	const char *ra[] = { "192.0.2.1" }, *rb[] = { "192.0.2.2" };
	uint8_t msg[2048];
	size_t len = registration(eids, ra, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, a, msg, len);
	ca.len = 0;
	len = registration(eids, rb, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, b, msg, len);
	check_notification(&ca);
	ms_session_closed(t, a, STREAM_CLOSE_PEER);
	ms_session_closed(t, b, STREAM_CLOSE_PEER);
	free(ca.buf);
	free(cb.buf);
}

/* ------------------------------------------------------------ stalled messages */

static void tick_at(uint64_t now)
{
	static struct dgram_out msgs[8];
	static uint8_t mem[1 << 14];
	struct arena a = { .base = mem, .size = sizeof(mem) };
	struct dgram_outbox out = { .msgs = msgs, .cap = 8, .arena = &a };
	ms_tick(t, now, &out);
}

Test(session, a_message_left_partial_past_the_read_timeout_closes_the_session)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	c.len = 0;
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	uint64_t stalled = counters_sum(LISPMS_M_MS_SESS_CLOSED_STALLED);
	uint64_t start = mtime_now_ns();
	cr_assert_eq(ms_session_recv(t, s, msg, len / 2), LISPMS_EOK);
	tick_at(start + 29 * LISPMS_NS_PER_SEC);
	cr_assert_not(c.close_requested, "within the default 30 s nothing happens");
	cr_assert_eq(c.len, 0);
	tick_at(mtime_now_ns() + 31 * LISPMS_NS_PER_SEC);
	cr_assert(c.close_requested, "past it the session is closed");
	struct rt_msg m[2];
	cr_assert_eq(decode_all(&c, m, 2), 1);
	cr_assert_eq(m[0].type, RT_TYPE_ERROR_NOTIFICATION);
	cr_assert_eq(m[0].u.error.code, RT_ERR_RESOURCE);
	cr_assert_eq(m[0].u.error.off_type, RT_TYPE_REGISTRATION, "the stalled message is named");
	cr_assert_eq(m[0].u.error.off_len, len);
	cr_assert_eq(counters_sum(LISPMS_M_MS_SESS_CLOSED_STALLED) - stalled, 1);
	ms_session_closed(t, s, STREAM_CLOSE_ERROR);
	free(c.buf);
}

Test(session, a_peer_streaming_without_pause_is_timed_per_message_not_per_session)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048], three[3 * 2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	for (int i = 0; i < 3; i++)
		memcpy(three + i * len, msg, len);
	/* every read ends inside a message, and each completes the one before */
	uint64_t first = mtime_now_ns();
	cr_assert_eq(ms_session_recv(t, s, three, len + len / 2), LISPMS_EOK);
	uint64_t second = mtime_now_ns();
	while (second == first)
		second = mtime_now_ns();
	cr_assert_eq(ms_session_recv(t, s, three + len + len / 2, len), LISPMS_EOK);
	/* the first partial began at or before `first`; the one partial now
	 * began at or after `second` */
	tick_at(second + 30 * LISPMS_NS_PER_SEC - 1);
	cr_assert_not(c.close_requested, "the message now partial began less than 30 s ago");
	tick_at(mtime_now_ns() + 31 * LISPMS_NS_PER_SEC);
	cr_assert(c.close_requested, "and it is still timed");
	ms_session_closed(t, s, STREAM_CLOSE_ERROR);
	free(c.buf);
}

Test(session, an_idle_session_or_a_completed_message_is_never_timed_out)
{
	struct fake_conn idle = { 0 }, done = { 0 };
	struct ms_session *a = open_admitted("192.0.2.1", &idle);
	struct ms_session *b = open_admitted("192.0.2.2", &done);
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.2" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	cr_assert_eq(ms_session_recv(t, b, msg, 10), LISPMS_EOK);
	cr_assert_eq(ms_session_recv(t, b, msg + 10, len - 10), LISPMS_EOK);
	tick_at(mtime_now_ns() + 3600 * LISPMS_NS_PER_SEC);
	cr_assert_not(idle.close_requested, "idle for an hour: still up");
	cr_assert_not(done.close_requested, "a message completed in time stops the clock");
	ms_session_closed(t, a, STREAM_CLOSE_PEER);
	ms_session_closed(t, b, STREAM_CLOSE_PEER);
	free(idle.buf);
	free(done.buf);
}
