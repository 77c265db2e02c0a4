/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe (RFC 9437, D20): who may subscribe, what the answer and
 * each publication carry, their keys and nonces, covering prefixes, acks,
 * replays, unsubscribing, dropping, expiry and reloads.
 */
#include <inttypes.h>

#include <lispms/counters.h>
#include <lispms/ms_pubsub.h>
#include <lispms/proto_rt.h>
#include <lispms/stream.h>
#include <lispms/wire.h>

#include "ms_internal.h" /* ms_pubsub_events and its test hook */
#include "ms_testlib.h"

static const char *conf_text = "control: {socket: /tmp/x.sock}\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys:\n"
			       "      - {id: 1, algorithm: hmac-sha-1-96, secret: k-one}\n"
			       "      - {id: 2, algorithm: hmac-sha-256-128, secret: k-two}\n"
			       "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "    allow-subscribe: true\n"
			       "  - name: beta\n"
			       "    keys: [{id: 7, algorithm: hmac-sha-256-128, secret: b-key}]\n"
			       "    eid-prefixes: [\"[7] 10.2.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "subscribers:\n"
			       "  - name: border\n"
			       "    xtr-id: 0xbb000000000000000000000000000001\n"
			       "    keys: [{id: 9, algorithm: hmac-sha-256-128, secret: s-key}]\n"
			       "  - name: narrow\n"
			       "    xtr-id: cc000000000000000000000000000001\n"
			       "    keys: [{id: 3, algorithm: hmac-sha-1-96, secret: n-key}]\n"
			       "    eid-prefixes: [\"[7] 10.2.0.0/16\"]\n";

static const char *eid_text(const struct eid_prefix *p, char *buf)
{
	cr_assert_eq(eid_prefix_format(p, buf, LISPMS_EID_STRLEN), LISPMS_EOK);
	return buf;
}

static const char *addr_text(const struct lisp_addr *a, char *buf)
{
	cr_assert_eq(lisp_addr_format(a, buf, LISPMS_EID_STRLEN), LISPMS_EOK);
	return buf;
}

#define MS_TEST_EID(p)	eid_text((p), (char[LISPMS_EID_STRLEN]){ 0 })
#define MS_TEST_ADDR(a) addr_text((a), (char[LISPMS_EID_STRLEN]){ 0 })

static struct tl x;
static struct auth_key k_one, k_two, k_beta, k_border, k_narrow;

static void setup(void)
{
	tl_init(&x, conf_text);
	auth_key_init(&k_one, 1, LISP_ALG_HMAC_SHA1, "k-one", 5);
	auth_key_init(&k_two, 2, LISP_ALG_HMAC_SHA256, "k-two", 5);
	auth_key_init(&k_beta, 7, LISP_ALG_HMAC_SHA256, "b-key", 5);
	auth_key_init(&k_border, 9, LISP_ALG_HMAC_SHA256, "s-key", 5);
	auth_key_init(&k_narrow, 3, LISP_ALG_HMAC_SHA1, "n-key", 5);
}

static void teardown(void)
{
	tl_deinit(&x);
}

TestSuite(pubsub, .init = setup, .fini = teardown);

static const uint8_t XTR_A = 0x01, XTR_B = 0x02; /* registering xTRs: 00..0N */
static const uint8_t BORDER[16] = { 0xbb, [15] = 1 };
static const uint8_t NARROW[16] = { 0xcc, [15] = 1 };

/* Register eid (one locator rloc) signed with key, from xTR-ID 00..0xtr; records acked. */
/* Register eid with nlocs locators: rloc, then (nlocs > 1) 2001:db8::1, ::2, ... */
static int reg_locs(const struct auth_key *key, const char *eid, const char *rloc, unsigned nlocs,
		    uint8_t xtr, uint32_t ttl)
{
	struct eid_prefix p = tl_eid(eid);
	struct lisp_locator loc[40];
	cr_assert(nlocs >= 1 && nlocs <= 40);
	for (unsigned i = 0; i < nlocs; i++) {
		char text[48];
		struct lisp_addr a;
		snprintf(text, sizeof(text), "2001:db8::%x", i);
		cr_assert_eq(lisp_addr_parse(i == 0 ? rloc : text, &a), LISPMS_EOK);
		loc[i] = (struct lisp_locator){ .priority = 1, .weight = 100, .flags = LISP_LOC_R };
		afi_from_addr(&a, &loc[i].addr);
	}
	struct lisp_record rec = {
		.ttl = ttl, .eid_plen = p.plen, .nlocs = (uint8_t)nlocs, .locs = loc
	};
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_register m = {
		.flags = LISP_MREG_M | LISP_MREG_I,
		.nonce = 0x77,
		.auth = { .key_id = key->key_id,
			  .alg_id = key->alg_id,
			  .len = (uint16_t)auth_alg_len(key->alg_id) },
		.nrecords = 1,
		.records = &rec,
	};
	m.xtr_id[15] = xtr;
	uint8_t buf[2048];
	size_t len;
	cr_assert_eq(map_register_encode(&m, buf, sizeof(buf), &len), LISPMS_EOK);
	cr_assert_eq(auth_sign(x.auth, key, buf, len), LISPMS_EOK);
	tl_feed(&x, buf, len, "127.0.0.1");
	for (unsigned i = 0; i < x.out.n; i++) {
		struct lisp_map_notify mn;
		if (map_notify_decode(x.out.msgs[i].data, x.out.msgs[i].len, &x.arena, &mn) ==
			LISPMS_EOK &&
		    mn.nonce == 0x77)
			return mn.nrecords;
	}
	return 0;
}

static int reg(const struct auth_key *key, const char *eid, const char *rloc, uint8_t xtr,
	       uint32_t ttl)
{
	return reg_locs(key, eid, rloc, 1, xtr, ttl);
}

/* A subscription Map-Request (N and I bits) for eid from xtr with nonce; itr NULL: AFI 0. */
static void subscribe(const uint8_t xtr[16], const char *eid, uint64_t nonce, const char *itr)
{
	struct eid_prefix p = tl_eid(eid);
	struct afi_addr itrs[1] = { { .afi = LISP_AFI_NONE } };
	if (itr != NULL) {
		struct lisp_addr a;
		cr_assert_eq(lisp_addr_parse(itr, &a), LISPMS_EOK);
		afi_from_addr(&a, &itrs[0]);
	}
	struct lisp_request_record rr = { .reserved = LISP_MREQ_REC_N, .eid_plen = p.plen };
	afi_from_eid(&p, &rr.eid);
	struct lisp_map_request q = { .flags = LISP_MREQ_I,
				      .nonce = nonce,
				      .nitr = 1,
				      .itr_rlocs = itrs,
				      .nrecords = 1,
				      .records = &rr,
				      .has_site_id = true,
				      .site_id = 42 };
	memcpy(q.xtr_id, xtr, 16);
	uint8_t buf[512];
	size_t len;
	cr_assert_eq(map_request_encode(&q, buf, sizeof(buf), &len), LISPMS_EOK);
	tl_feed(&x, buf, len, "127.0.0.9");
}

static void xtr_of(uint8_t out[16], uint8_t n)
{
	memset(out, 0, 16);
	out[15] = n;
}

/* Run worker 0's notifier at now; what it sends lands in x.out. */
static void tick(uint64_t now)
{
	x.out.n = 0;
	arena_reset(&x.arena);
	lrcu_read_lock();
	ms_tick(x.t, now, &x.out);
	lrcu_read_unlock();
}

/* The Map-Notifies in x.out, verified with key (each must verify), into mn[]. */
static unsigned notifies(const struct auth_key *key, struct lisp_map_notify *mn, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < x.out.n && n < max; i++) {
		const struct dgram_out *o = &x.out.msgs[i];
		if (msg_type(o->data, o->len) != LISP_MSG_MAP_NOTIFY)
			continue;
		cr_assert_eq(map_notify_decode(o->data, o->len, &x.arena, &mn[n]), LISPMS_EOK);
		cr_assert_eq(auth_verify(x.auth, key, 1, o->data, o->len, &mn[n].auth), LISPMS_EOK,
			     "signed with the subscriber's own key");
		n++;
	}
	return n;
}

static bool has_map_reply(void)
{
	for (unsigned i = 0; i < x.out.n; i++)
		if (msg_type(x.out.msgs[i].data, x.out.msgs[i].len) == LISP_MSG_MAP_REPLY)
			return true;
	return false;
}

static struct eid_prefix rec_eid(const struct lisp_record *r)
{
	struct eid_prefix p;
	cr_assert_eq(afi_to_eid(&r->eid, r->eid_plen, &p), LISPMS_EOK);
	return p;
}

/* Ack a Map-Notify with key. */
static void ack(const struct lisp_map_notify *mn, const struct auth_key *key)
{
	struct lisp_map_notify a = *mn;
	a.type = LISP_MSG_MAP_NOTIFY_ACK;
	a.auth = (struct lisp_auth){ .key_id = key->key_id,
				     .alg_id = key->alg_id,
				     .len = (uint16_t)auth_alg_len(key->alg_id) };
	uint8_t buf[4096];
	size_t len;
	cr_assert_eq(map_notify_encode(&a, buf, sizeof(buf), &len), LISPMS_EOK);
	cr_assert_eq(auth_sign(x.auth, key, buf, len), LISPMS_EOK);
	tl_feed(&x, buf, len, "127.0.0.9");
}

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

/* --------------------------------------------- a subscriber on its session */

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

static void fake_wake(void *arg)
{
	(void)arg;
}

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

static void reg_many(unsigned from, unsigned n);

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

/* Register [7] 10.1.hi.lo/32 for every i < n (one locator), from xTR A with key 2. */
static void reg_many(unsigned from, unsigned n)
{
	for (unsigned i = from; i < from + n; i++) {
		char eid[48];
		snprintf(eid, sizeof(eid), "[7] 10.1.%u.%u/32", i / 256, i % 256);
		cr_assert_eq(reg(&k_two, eid, "192.0.2.1", XTR_A, 3), 1);
	}
}

/* What a UDP subscriber received: nonces checked in order, /32s seen. */
struct received {
	uint64_t next_nonce;
	unsigned msgs, records, max_pending;
	uint8_t seen[65536 / 8];
};

/* Tick, take every Map-Notify the subscriber got (each verified with key,
 * nonces one after the other), ack it when ack_them; until nothing comes
 * (at most rounds ticks). Never advances time: nothing is retransmitted. */
static void drain(struct received *r, const struct auth_key *key, bool ack_them, unsigned rounds,
		  uint64_t now)
{
	static uint8_t raw[64][2048];
	static size_t rawlen[64];
	for (unsigned round = 0; round < rounds; round++) {
		tick(now);
		unsigned n = 0;
		for (unsigned i = 0; i < x.out.n; i++) {
			const struct dgram_out *o = &x.out.msgs[i];
			if (msg_type(o->data, o->len) != LISP_MSG_MAP_NOTIFY)
				continue;
			cr_assert_leq(o->len, sizeof(raw[0]));
			memcpy(raw[n], o->data, o->len);
			rawlen[n++] = o->len;
		}
		if (n == 0)
			return;
		for (unsigned i = 0; i < n; i++) {
			struct lisp_map_notify mn;
			arena_reset(&x.arena);
			cr_assert_eq(map_notify_decode(raw[i], rawlen[i], &x.arena, &mn),
				     LISPMS_EOK);
			cr_assert_eq(auth_verify(x.auth, key, 1, raw[i], rawlen[i], &mn.auth),
				     LISPMS_EOK);
			cr_assert_eq(mn.nonce, r->next_nonce,
				     "in nonce order, none missing (got %llu, want %llu, msg %u)",
				     (unsigned long long)mn.nonce,
				     (unsigned long long)r->next_nonce, r->msgs);
			r->next_nonce++;
			r->msgs++;
			r->records += mn.nrecords;
			for (unsigned k = 0; k < mn.nrecords; k++) {
				struct eid_prefix p = rec_eid(&mn.records[k]);
				if (p.plen == 32 && mn.records[k].nlocs == 1) {
					unsigned idx = p.bytes[2] * 256u + p.bytes[3];
					r->seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
				}
			}
		}
		if (ack_them)
			for (unsigned i = 0; i < n; i++) {
				raw[i][0] = (uint8_t)(LISP_MSG_MAP_NOTIFY_ACK << 4);
				memset(raw[i] + LISPMS_AUTH_OFFSET, 0, auth_alg_len(key->alg_id));
				cr_assert_eq(auth_sign(x.auth, key, raw[i], rawlen[i]), LISPMS_EOK);
				tl_feed(&x, raw[i], rawlen[i], "127.0.0.9");
			}
		struct ms_subscription_info info[1];
		if (ms_subscriptions_list(x.ms, info, 1) == 1 && info[0].pending > r->max_pending)
			r->max_pending = (unsigned)info[0].pending;
	}
}

static unsigned seen_count(const struct received *r)
{
	unsigned n = 0;
	for (size_t i = 0; i < sizeof(r->seen); i++)
		n += (unsigned)__builtin_popcount(r->seen[i]);
	return n;
}

Test(pubsub, a_udp_dump_larger_than_the_backlog_bound_is_paced_by_acks, .timeout = 120)
{
	/* 33,000 more-specifics: 1,032 Map-Notifies, past the 1,024 unacknowledged
	 * a subscriber may have; the dump waits for acks instead */
	reg_many(0, 33000);
	uint64_t drop0 = counters_sum(LISPMS_M_MS_PUBSUB_DROP_BACKLOG);
	subscribe(BORDER, "[7] 10.1.0.0/16", 10, "127.0.0.9");
	static struct received r;
	memset(&r, 0, sizeof(r));
	r.next_nonce = 10;
	drain(&r, &k_border, true, 100000, mtime_now_ns());
	cr_assert_eq(ms_subscriptions_count(x.ms), 1, "still subscribed");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_DROP_BACKLOG), drop0);
	cr_assert_eq(r.records, 33001, "the /16's negative answer and every /32, once");
	cr_assert_eq(seen_count(&r), 33000);
	cr_assert_eq(r.msgs, 1032);
	cr_assert_leq(r.max_pending, 256, "never more than the window outstanding");
}

Test(pubsub, a_subscriber_that_falls_behind_is_resynchronised_not_dropped, .timeout = 120)
{
	reg_many(0, 10);
	subscribe(BORDER, "[7] 10.1.0.0/16", 10, "127.0.0.9");
	static struct received r;
	memset(&r, 0, sizeof(r));
	r.next_nonce = 10;
	uint64_t now = mtime_now_ns();
	drain(&r, &k_border, true, 10, now);
	cr_assert_eq(r.records, 11);
	/* 1,100 changes, one publication each, while it acks nothing */
	uint64_t rs0 = counters_sum(LISPMS_M_MS_PUBSUB_RESYNCS);
	reg_many(10, 1100);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_RESYNCS), rs0 + 1, "it fell behind once");
	struct ms_subscription_info info[1];
	cr_assert_eq(ms_subscriptions_list(x.ms, info, 1), 1, "not dropped");
	cr_assert_eq(info[0].pending, 1024, "nothing held past the bound");
	cr_assert_str_eq(info[0].last_error, "fell behind: resynchronising");
	/* it acks its backlog: a fresh dump carries what it missed */
	memset(r.seen, 0, sizeof(r.seen));
	r.records = 0;
	drain(&r, &k_border, true, 100000, now);
	cr_assert_eq(ms_subscriptions_count(x.ms), 1);
	cr_assert_eq(seen_count(&r), 1110, "every /32, the 76 it missed included");
	cr_assert_eq(r.records, 1024 + 1 + 1110, "the backlog, then the resync dump");
	cr_assert_eq(ms_subscriptions_list(x.ms, info, 1), 1);
	cr_assert_eq(info[0].pending, 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_RESYNCS), rs0 + 1);
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
