/* SPDX-License-Identifier: MIT */
/*
 * The session state machine without sockets: a fake transport records what
 * the session writes, and the bytes are decoded back with the codec.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>
#include <lispms/counters.h>
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
	struct stream_conn sc; /* first */
	uint8_t *buf;
	size_t len, cap;
	size_t limit; /* write fails past this (slow reader); 0 = none */
	bool close_requested;
	bool abort_requested;
};

static int fake_write(struct stream_conn *conn, const uint8_t *buf, size_t len)
{
	struct fake_conn *c = (struct fake_conn *)conn;
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

static void fake_close(struct stream_conn *conn)
{
	((struct fake_conn *)conn)->close_requested = true;
}

static void fake_abort(struct stream_conn *conn)
{
	((struct fake_conn *)conn)->abort_requested = true;
}

static size_t fake_queued(const struct stream_conn *conn)
{
	return ((const struct fake_conn *)conn)->len;
}

static const struct stream_conn_ops fake_ops = { fake_write, fake_close, fake_abort, fake_queued };

/* The fake as a transport's connection. */
static struct stream_conn *fc_on(struct fake_conn *c, enum stream_transport tr)
{
	c->sc = (struct stream_conn){ &fake_ops, tr };
	return &c->sc;
}

static struct stream_conn *fc(struct fake_conn *c)
{
	return fc_on(c, STREAM_TCP);
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
	return ms_session_open(t, &p, fc(c));
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
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
}

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

/* Reload to `text`, run the worker's tick, return the Refreshes it wrote. */
static unsigned refreshes_after_reload(const char *text, struct fake_conn *c, struct rt_msg *out,
				       unsigned max)
{
	struct conf *nc;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t3.yaml", text, strlen(text), NULL, &nc, &err), LISPMS_EOK,
		     "%s", err.all);
	lrcu_read_unlock();
	char why[256];
	cr_assert_eq(ms_reload(ms, nc, why, sizeof(why)), LISPMS_EOK, "%s", why);
	lrcu_read_lock();
	struct dgram_out slots[4];
	struct dgram_outbox ob = { .msgs = slots, .cap = 4, .arena = &ar };
	ms_tick(t, mtime_now_ns(), &ob);
	struct rt_msg all[32];
	unsigned n = decode_all(c, all, 32), k = 0;
	for (unsigned i = 0; i < n && k < max; i++)
		if (all[i].type == RT_TYPE_REGISTRATION_REFRESH) {
			cr_assert(all[i].u.refresh.flags & RT_FLAG_REJECTED_ONLY);
			out[k++] = all[i];
		}
	return k;
}

Test(session, a_reload_refreshes_each_change_with_the_narrowest_scope)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	c.len = 0;
	/*
	 * alpha (more-specifics) gains 10.5.0.0/16 and 10.5.1.0/24 inside it: one scope 3;
	 * beta (exact prefixes only) gains 10.6.0.0/16: scope 4;
	 * gamma is new with IPv4 /0 of instance 2000: scope 2;
	 * delta is new with the /0 of every family of instance 3000: one scope 1.
	 */
	const char *next = "server:\n"
			   "  listen: [127.0.0.1]\n"
			   "  registration-timeout: 60\n"
			   "sites:\n"
			   "  - name: alpha\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"k\"}]\n"
			   "    eid-prefixes: [\"[1000] 10.1.0.0/16\", \"[1000] 10.5.0.0/16\",\n"
			   "                   \"[1000] 10.5.1.0/24\"]\n"
			   "    accept-more-specifics: true\n"
			   "    allowed-rlocs: [\"192.0.2.0/24\"]\n"
			   "  - name: beta\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"b\"}]\n"
			   "    eid-prefixes: [\"[1000] 10.2.0.0/16\", \"[1000] 10.6.0.0/16\"]\n"
			   "  - name: gamma\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"g\"}]\n"
			   "    eid-prefixes: [\"[2000] 0.0.0.0/0\"]\n"
			   "  - name: delta\n"
			   "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"d\"}]\n"
			   "    eid-prefixes: [\"[3000] 0.0.0.0/0\", \"[3000] ::/0\",\n"
			   "                   \"[3000] 00:00:00:00:00:00/0\"]\n";
	struct rt_msg m[16];
	unsigned n = refreshes_after_reload(next, &c, m, 16);
	unsigned scope_n[5] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		struct rt_refresh *r = &m[i].u.refresh;
		cr_assert(r->scope <= 4 && r->has_eid, "scope %u", r->scope);
		scope_n[r->scope]++;
		switch (r->scope) {
		case RT_SCOPE_COVERED:
			cr_assert(prefix_is(&r->eid, "[1000] 10.5.0.0/16"),
				  "scope 3 names alpha's /16");
			break;
		case RT_SCOPE_PREFIX:
			cr_assert(prefix_is(&r->eid, "[1000] 10.6.0.0/16"),
				  "scope 4 names beta's prefix");
			break;
		case RT_SCOPE_INSTANCE_AF:
			cr_assert(r->eid.eid.kind == AFI_IID && r->eid.eid.iid == 2000 &&
				      r->eid.eid.afi == LISP_AFI_IPV4 && r->eid.plen == 0 &&
				      r->eid.eid.bytes[0] == 0,
				  "scope 2: IID LCAF 2000, IPv4, zero address, length 0");
			break;
		case RT_SCOPE_INSTANCE:
			cr_assert(r->eid.eid.kind == AFI_IID && r->eid.eid.iid == 3000 &&
				      r->eid.eid.afi == LISP_AFI_NONE,
				  "scope 1: IID LCAF 3000 around AFI 0");
			break;
		default:
			cr_assert_fail("scope %u is wider than any change", r->scope);
		}
	}
	cr_assert_eq(scope_n[RT_SCOPE_COVERED], 1, "10.5.1.0/24 is inside the /16 refresh");
	cr_assert_eq(scope_n[RT_SCOPE_PREFIX], 1);
	cr_assert_eq(scope_n[RT_SCOPE_INSTANCE_AF], 1, "instance 3000's /0s fold into scope 1");
	cr_assert_eq(scope_n[RT_SCOPE_INSTANCE], 1);
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
}

Test(session, a_reload_with_too_many_changes_refreshes_everything_rejected_once)
{
	struct fake_conn c = { 0 };
	struct ms_session *s = open_admitted("192.0.2.1", &c);
	c.len = 0;
	/* a new site with 600 exact prefixes: more than the planner narrows */
	static char next[64 * 1024];
	size_t off =
	    (size_t)snprintf(next, sizeof(next),
			     "server:\n"
			     "  listen: [127.0.0.1]\n"
			     "sites:\n"
			     "  - name: many\n"
			     "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: \"m\"}]\n"
			     "    eid-prefixes:\n");
	for (unsigned i = 0; i < 600; i++)
		off += (size_t)snprintf(next + off, sizeof(next) - off,
					"      - \"[7000] 10.%u.%u.0/24\"\n", i / 256, i % 256);
	struct rt_msg m[4];
	cr_assert_eq(refreshes_after_reload(next, &c, m, 4), 1, "one refresh, not 600");
	cr_assert_eq(m[0].u.refresh.scope, RT_SCOPE_ALL);
	cr_assert_eq(m[0].u.refresh.has_eid, 0, "scope 0 carries no EID-prefix element");
	ms_session_closed(t, s, STREAM_CLOSE_PEER);
	free(c.buf);
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
