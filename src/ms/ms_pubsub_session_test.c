/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe on a reliable-transport session (D20): Mapping
 * Notifications on the session, UDP once it is lost, state dumps and
 * changes cut into notifications that fit. The session writes into a fake
 * connection whose bytes are decoded back.
 */
#include "ms_pubsub_testlib.h"

struct fake_conn {
	struct stream_conn sc; /* first */
	uint8_t buf[1 << 18];  /* several full Mapping Notifications */
	size_t len;
};

static int fake_write(struct stream_conn *conn, const uint8_t *buf, size_t len)
{
	struct fake_conn *c = (struct fake_conn *)conn;
	cr_assert(c->len + len <= sizeof(c->buf));
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return LISPMS_EOK;
}

static void fake_close(struct stream_conn *conn)
{
	(void)conn;
}

static void fake_abort(struct stream_conn *conn)
{
	(void)conn;
}

static size_t fake_queued(const struct stream_conn *conn)
{
	return ((const struct fake_conn *)conn)->len;
}

static const struct stream_conn_ops fake_ops = { fake_write, fake_close, fake_abort, fake_queued };

/* The Map-Notifies inside the Mapping Notifications the session wrote, verified with key. */
static unsigned session_notifies(struct fake_conn *c, const struct auth_key *key,
				 struct lisp_map_notify *mn, unsigned max)
{
	unsigned n = 0;
	size_t off = 0;
	while (off + 4 <= c->len && n < max) {
		size_t len = wire_get_u16(c->buf + off + 2);
		struct rt_msg m;
		cr_assert_eq(rt_decode(c->buf + off, len, &m), LISPMS_EOK);
		off += len;
		if (m.type != RT_TYPE_MAPPING_NOTIFICATION)
			continue;
		cr_assert_eq(map_notify_decode(m.u.inner.msg, m.u.inner.len, &x.arena, &mn[n]),
			     LISPMS_EOK);
		cr_assert_eq(auth_verify(x.auth, key, 1, m.u.inner.msg, m.u.inner.len, &mn[n].auth),
			     LISPMS_EOK);
		n++;
	}
	c->len = 0;
	return n;
}

/* A session on fake connection c, with a Registration of [7] 10.1.6.0/24 from
 * xTR-ID ...44 on it (so that xTR subscribes on its session). */
static struct ms_session *session_subscriber(struct fake_conn *c)
{
	ms_set_worker(x.ms, 0, fake_wake, NULL);
	c->len = 0;
	struct sockaddr_storage p;
	saddr_parse("127.0.0.1", &p);
	saddr_set_port(&p, 40000);
	admit_grant(ms_admit(x.ms), &p, mtime_now_ns() + 60 * LISPMS_NS_PER_SEC);
	c->sc = (struct stream_conn){ &fake_ops, STREAM_TCP };
	lrcu_read_lock();
	struct ms_session *s = ms_session_open(x.t, &p, &c->sc);
	lrcu_read_unlock();
	cr_assert_not_null(s);
	/* a Registration on the session, with the xTR-ID */
	struct eid_prefix e = tl_eid("[7] 10.1.6.0/24");
	struct lisp_addr a;
	lisp_addr_parse("192.0.2.1", &a);
	struct lisp_locator loc = { .priority = 1, .weight = 100, .flags = LISP_LOC_R };
	afi_from_addr(&a, &loc.addr);
	struct lisp_record rec = { .ttl = 3, .eid_plen = e.plen, .nlocs = 1, .locs = &loc };
	afi_from_eid(&e, &rec.eid);
	struct lisp_map_register m = {
		.flags = LISP_MREG_I,
		.nonce = 5,
		.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA1, .len = 20 },
		.nrecords = 1,
		.records = &rec,
	};
	m.xtr_id[15] = 0x44;
	uint8_t inner[1024], framed[1200];
	size_t ilen, flen;
	cr_assert_eq(map_register_encode(&m, inner, sizeof(inner), &ilen), LISPMS_EOK);
	cr_assert_eq(auth_sign(x.auth, &k_one, inner, ilen), LISPMS_EOK);
	struct rt_msg r = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 9 };
	r.u.inner.msg = inner;
	r.u.inner.len = ilen;
	cr_assert_eq(rt_encode(&r, framed, sizeof(framed), &flen), LISPMS_EOK);
	lrcu_read_lock();
	cr_assert_eq(ms_session_recv(x.t, s, framed, flen), LISPMS_EOK);
	lrcu_read_unlock();
	cr_assert(tl_registered(&x, "[7] 10.1.6.0/24"));
	c->len = 0;
	return s;
}

Test(pubsub, a_subscriber_on_a_session_gets_mapping_notifications_then_udp_when_it_is_lost)
{
	static struct fake_conn c;
	struct ms_session *s = session_subscriber(&c);

	uint8_t xtr[16];
	xtr_of(xtr, 0x44);
	subscribe(xtr, "[7] 10.1.0.0/16", 300, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	struct lisp_map_notify mn[4];
	cr_assert_eq(notifies(&k_one, mn, 4), 0, "nothing over UDP");
	cr_assert_eq(session_notifies(&c, &k_one, mn, 4), 1, "a Mapping Notification");
	cr_assert_eq(mn[0].nonce, 300);
	cr_assert_eq(mn[0].nrecords, 2, "the negative /16 and the registration inside it");

	cr_assert_eq(reg(&k_two, "[7] 10.1.7.0/24", "192.0.2.9", XTR_A, 3), 1);
	tick(now + 1);
	cr_assert_eq(session_notifies(&c, &k_one, mn, 4), 1, "each change on the session");
	cr_assert_eq(mn[0].nonce, 301);

	/* the session goes: publications fall back to UDP, the subscription expires (D7) */
	lrcu_read_lock();
	ms_session_closed(x.t, s, STREAM_CLOSE_PEER);
	lrcu_read_unlock();
	cr_assert_eq(reg(&k_two, "[7] 10.1.8.0/24", "192.0.2.9", XTR_A, 3), 1);
	tick(now + 2);
	cr_assert_eq(notifies(&k_one, mn, 4), 1, "now over UDP to the ITR-RLOC");
	cr_assert_eq(mn[0].nonce, 302);
	ms_housekeeping(x.ms, mtime_now_ns() + 10 * LISPMS_NS_PER_SEC);
	cr_assert_eq(ms_subscriptions_count(x.ms), 1, "kept for the registration timeout");
	uint64_t e0 = counters_sum(LISPMS_M_MS_PUBSUB_DROP_EXPIRED);
	ms_housekeeping(x.ms, mtime_now_ns() + 400 * LISPMS_NS_PER_SEC);
	cr_assert_eq(ms_subscriptions_count(x.ms), 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_DROP_EXPIRED), e0 + 1);
}

Test(pubsub, a_session_state_dump_larger_than_one_notification_arrives_whole)
{
	static struct fake_conn c;
	session_subscriber(&c);
	reg_many(0, 600);
	uint64_t errors0 = counters_sum(LISPMS_M_INTERNAL_ERRORS);
	uint8_t xtr[16];
	xtr_of(xtr, 0x44);
	subscribe(xtr, "[7] 10.1.0.0/16", 300, "127.0.0.9");
	tick(mtime_now_ns());
	/* the negative /16, the session's /24 and 600 /32s: 602 records, at most
	 * 255 per Map-Notify (its record count has 8 bits) */
	static struct lisp_map_notify mn[8];
	unsigned n = session_notifies(&c, &k_one, mn, 8), records = 0;
	cr_assert_eq(n, 3, "three Mapping Notifications, none lost (got %u)", n);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(mn[i].nonce, 300 + i, "in nonce order");
		cr_assert_leq(mn[i].nrecords, LISPMS_MAX_RECORDS);
		records += mn[i].nrecords;
	}
	cr_assert_eq(records, 602);
	cr_assert_eq(counters_sum(LISPMS_M_INTERNAL_ERRORS), errors0);
}

Test(pubsub, changes_with_many_locators_are_cut_into_notifications_that_fit)
{
	static struct fake_conn c;
	session_subscriber(&c);
	uint8_t xtr[16];
	xtr_of(xtr, 0x44);
	subscribe(xtr, "[7] 10.1.0.0/16", 300, "127.0.0.9");
	uint64_t now = mtime_now_ns();
	tick(now);
	static struct lisp_map_notify mn[8];
	cr_assert_eq(session_notifies(&c, &k_one, mn, 8), 1, "the state");
	uint64_t errors0 = counters_sum(LISPMS_M_INTERNAL_ERRORS);
	/* 100 changes held for one tick, 30 IPv6 locators each: about 74 KB of
	 * records, more than one Map-Notify can carry (65,535 bytes) */
	for (unsigned i = 0; i < 100; i++) {
		char eid[48];
		snprintf(eid, sizeof(eid), "[7] 10.1.9.%u/32", i);
		cr_assert_eq(reg_locs(&k_two, eid, "192.0.2.1", 30, XTR_A, 3), 1);
	}
	tick(now + 1);
	unsigned n = session_notifies(&c, &k_one, mn, 8), records = 0;
	cr_assert_geq(n, 2, "cut by size (got %u)", n);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(mn[i].nonce, 301 + i, "in nonce order");
		for (unsigned r = 0; r < mn[i].nrecords; r++)
			cr_assert_eq(mn[i].records[r].nlocs, 30);
		records += mn[i].nrecords;
	}
	cr_assert_eq(records, 100, "every change published (got %u)", records);
	cr_assert_eq(counters_sum(LISPMS_M_INTERNAL_ERRORS), errors0);
}
