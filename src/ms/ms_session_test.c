/* SPDX-License-Identifier: MIT */
/*
 * The session state machine without sockets: a fake transport records what
 * the session writes, and the bytes are decoded back with the codec.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/proto.h>
#include <lispms/proto_rt.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

static const char *conf_text = "server:\n"
			       "  listen: [127.0.0.1]\n"
			       "  registration-timeout: 60\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			       "    eid-prefixes: [\"[1000] 10.1.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "    allowed-rlocs: [\"192.0.2.0/24\"]\n"
			       "  - name: beta\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"b\"}]\n"
			       "    eid-prefixes: [\"[1000] 10.2.0.0/16\"]\n";

struct fake_conn {
	uint8_t *buf;
	size_t len, cap;
	size_t limit; /* write fails past this (slow reader); 0 = none */
	bool close_requested;
};

static int fake_write(void *conn, const uint8_t *buf, size_t len)
{
	struct fake_conn *c = conn;
	if (c->limit && c->len + len > c->limit)
		return LISPMS_ELIMIT;
	if (c->len + len > c->cap) {
		c->cap = (c->len + len) * 2;
		c->buf = realloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return LISPMS_EOK;
}

static void fake_close(void *conn)
{
	((struct fake_conn *)conn)->close_requested = true;
}

static int wakes;
static void fake_wake(void *arg)
{
	(void)arg;
	wakes++;
}

static struct ms *ms;
static struct ms_thread *t;
static struct auth_ctx *actx;
static struct auth_key key_a, key_wrong;
static uint8_t arena_mem[1 << 16];
static struct arena ar;

static void setup(void)
{
	thread_register("test");
	struct conf *c;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", conf_text, strlen(conf_text), NULL, &c, &err),
		     LISPMS_EOK, "%s", err.all);
	ms = ms_new(c);
	cr_assert_not_null(ms);
	t = ms_thread_new(ms, 0);
	cr_assert_not_null(t);
	ms_set_worker(ms, 0, fake_wake, NULL);
	actx = auth_ctx_new();
	auth_key_init(&key_a, 1, LISP_ALG_HMAC_SHA256, "k", 1);
	auth_key_init(&key_wrong, 1, LISP_ALG_HMAC_SHA256, "nope", 4);
	ar = (struct arena){ .base = arena_mem, .size = sizeof(arena_mem) };
	lrcu_read_lock();
}

static void teardown(void)
{
	lrcu_read_unlock();
	ms_thread_free(t);
	ms_free(ms);
	auth_ctx_free(actx);
	lrcu_barrier();
	thread_unregister();
}

TestSuite(session, .init = setup, .fini = teardown);

static struct sockaddr_storage peer(const char *a)
{
	struct sockaddr_storage ss;
	saddr_parse(a, &ss);
	saddr_set_port(&ss, 40000);
	return ss;
}

static struct ms_session *open_admitted(const char *addr, struct fake_conn *c)
{
	struct sockaddr_storage p = peer(addr);
	admit_grant(ms_admit(ms), &p, mtime_now_ns() + LISPMS_NS_PER_SEC * 60);
	struct ms_sess_io io = { fake_write, fake_close, c };
	return ms_session_open(t, &p, &io);
}

/* A Registration (type 17) carrying a signed Map-Register of `n` records. */
static size_t registration(const char *const *eids, const char *const *rlocs, uint32_t ttl,
			   unsigned n, const struct auth_key *k, uint8_t *out, size_t cap)
{
	struct lisp_record recs[64];
	struct lisp_locator locs[64];
	cr_assert(n <= 64);
	for (unsigned i = 0; i < n; i++) {
		struct eid_prefix p;
		struct lisp_addr a;
		cr_assert_eq(eid_prefix_parse(eids[i], &p), LISPMS_EOK);
		cr_assert_eq(lisp_addr_parse(rlocs[i], &a), LISPMS_EOK);
		locs[i] = (struct lisp_locator){ .priority = 1, .weight = 1, .flags = LISP_LOC_R };
		afi_from_addr(&a, &locs[i].addr);
		recs[i] = (struct lisp_record){
			.ttl = ttl, .eid_plen = p.plen, .nlocs = 1, .locs = &locs[i]
		};
		afi_from_eid(&p, &recs[i].eid);
	}
	struct lisp_map_register m = {
		.nonce = 42,
		.auth = { .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 },
		.nrecords = (uint16_t)n,
		.records = recs,
	};
	uint8_t inner[4096];
	size_t ilen, len;
	cr_assert_eq(map_register_encode(&m, inner, sizeof(inner), &ilen), LISPMS_EOK);
	cr_assert_eq(auth_sign(actx, k, inner, ilen), LISPMS_EOK);
	struct rt_msg r = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 9 };
	r.u.inner.msg = inner;
	r.u.inner.len = ilen;
	cr_assert_eq(rt_encode(&r, out, cap, &len), LISPMS_EOK);
	return len;
}

/* Decode every message the session wrote into out[]; returns how many. */
static unsigned decode_all(const struct fake_conn *c, struct rt_msg *out, unsigned max)
{
	unsigned n = 0;
	size_t off = 0;
	while (off + 4 <= c->len && n < max) {
		size_t len = wire_get_u16(c->buf + off + 2);
		cr_assert(len >= 8 && off + len <= c->len, "bad framing at %zu", off);
		cr_assert_eq(rt_decode(c->buf + off, len, &out[n]), LISPMS_EOK);
		n++;
		off += len;
	}
	cr_assert_eq(off, c->len, "trailing bytes");
	return n;
}

static bool prefix_is(const struct rt_prefix *p, const char *text)
{
	struct eid_prefix want, got;
	eid_prefix_parse(text, &want);
	return afi_to_eid(&p->eid, p->plen, &got) == LISPMS_EOK && eid_prefix_equal(&want, &got);
}

Test(session, unadmitted_peer_is_refused_with_nothing_sent)
{
	struct fake_conn c = { 0 };
	struct sockaddr_storage p = peer("192.0.2.77");
	struct ms_sess_io io = { fake_write, fake_close, &c };
	cr_assert_null(ms_session_open(t, &p, &io));
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
	cr_assert_eq(ms_session_recv(t, s, msg, len), LISPMS_EOK);
	cr_assert_eq(decode_all(&c, m, 8), 3);
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

static int regs_expiry(const struct db_mapping *reg, uint64_t expires, void *arg)
{
	(void)reg;
	*(uint64_t *)arg = expires;
	return 0;
}

static int entry_expiry(const struct eid_prefix *p, const struct db_mapping *m,
			const struct db_entry *e, void *arg)
{
	(void)p;
	(void)m;
	return db_entry_regs(e, regs_expiry, arg);
}

static uint64_t expiry_of(const char *prefix)
{
	struct eid_prefix p;
	eid_prefix_parse(prefix, &p);
	uint64_t exp = 0;
	db_walk(ms_db(ms), DB_SCOPE_EXACT, &p, entry_expiry, &exp);
	return exp;
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
	ms_session_closed(t, s, MS_CLOSE_PEER);
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
	ms_session_closed(t, s, MS_CLOSE_PEER);
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
	ms_session_closed(t, s, MS_CLOSE_PEER);
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
	ms_session_closed(t, s, MS_CLOSE_ERROR);
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
		ms_session_closed(t, s, MS_CLOSE_PEER);
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
	ms_session_closed(t, s, MS_CLOSE_SLOW);
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
	struct ms_sess_io io = { fake_write, fake_close, &cb };
	struct ms_session *b = ms_session_open(t2, &pb, &io);
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
	cr_assert_gt(wakes, before, "the owning worker was woken");
	cr_assert_eq(ca.len, 0, "nothing written from another worker's thread");
	struct dgram_out slots[4];
	struct dgram_outbox out = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(t, mtime_now_ns(), &out); /* worker 0's tick delivers it */
	check_notification(&ca);
	ms_session_closed(t, a, MS_CLOSE_PEER);
	ms_session_closed(t2, b, MS_CLOSE_PEER);
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
	ms_session_closed(t, a, MS_CLOSE_PEER);
	ms_session_closed(t, b, MS_CLOSE_PEER);
	free(ca.buf);
	free(cb.buf);
}

Test(session, a_reload_withdraws_with_reject_and_refreshes_what_it_may_now_allow)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	const char *eids[] = { "[1000] 10.1.1.0/24" }, *rlocs[] = { "192.0.2.1" };
	uint8_t msg[2048];
	size_t len = registration(eids, rlocs, 3, 1, &key_a, msg, sizeof(msg));
	ms_session_recv(t, s, msg, len);
	c.len = 0;
	/* alpha now owns 10.9.0.0/16 instead of 10.1.0.0/16 */
	const char *next = "server:\n"
			   "  listen: [127.0.0.1]\n"
			   "  registration-timeout: 60\n"
			   "sites:\n"
			   "  - name: alpha\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			   "    eid-prefixes: [\"[1000] 10.9.0.0/16\"]\n"
			   "    accept-more-specifics: true\n"
			   "    allowed-rlocs: [\"192.0.2.0/24\"]\n";
	struct conf *nc;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t2.yaml", next, strlen(next), NULL, &nc, &err), LISPMS_EOK,
		     "%s", err.all);
	lrcu_read_unlock(); /* a reload waits for a grace period */
	char why[256];
	cr_assert_eq(ms_reload(ms, nc, why, sizeof(why)), LISPMS_EOK, "%s", why);
	lrcu_read_lock();
	struct dgram_out slots[4];
	struct dgram_outbox out = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(t, mtime_now_ns(), &out);
	struct rt_msg m[8];
	unsigned n = decode_all(&c, m, 8);
	bool reject = false, refresh = false;
	for (unsigned i = 0; i < n; i++) {
		if (m[i].type == RT_TYPE_REGISTRATION_REJECT &&
		    m[i].u.reject.reason == RT_REASON_NOT_SITE_PREFIX &&
		    prefix_is(&m[i].u.reject.eid, "[1000] 10.1.1.0/24"))
			reject = true;
		if (m[i].type == RT_TYPE_REGISTRATION_REFRESH &&
		    m[i].u.refresh.scope == RT_SCOPE_COVERED &&
		    (m[i].u.refresh.flags & RT_FLAG_REJECTED_ONLY) &&
		    prefix_is(&m[i].u.refresh.eid, "[1000] 10.9.0.0/16"))
			refresh = true;
	}
	cr_assert(reject, "the prefix no longer allowed is withdrawn with a Reject (D8)");
	cr_assert(refresh, "the new prefix is refreshed, scope 3, rejected only (D8)");
	struct eid_prefix p;
	eid_prefix_parse("[1000] 10.1.1.0/24", &p);
	cr_assert_null(db_lookup_exact(ms_db(ms), &p), "and no longer served");
	ms_session_closed(t, s, MS_CLOSE_PEER);
	free(c.buf);
}
