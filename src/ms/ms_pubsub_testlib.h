/* SPDX-License-Identifier: MIT */
/*
 * Publish/subscribe (RFC 9437, D20) without sockets, shared by its tests:
 * ms_pubsub_test.c (who may subscribe, answers, publications, keys, nonces,
 * acks, replays, unsubscribing, dropping, expiry, reloads),
 * ms_pubsub_session_test.c (a subscriber on its reliable-transport
 * session), ms_pubsub_pace_test.c (UDP dumps paced by acks, resynchronising)
 * and ms_pubsub_order_test.c (the order publications leave in). One
 * configuration, the keys of its sites and subscribers, and helpers that
 * register, subscribe, tick worker 0 and read what it sent. One test
 * program includes it once.
 */
#pragma once

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

static inline const char *eid_text(const struct eid_prefix *p, char *buf)
{
	cr_assert_eq(eid_prefix_format(p, buf, LISPMS_EID_STRLEN), LISPMS_EOK);
	return buf;
}

static inline const char *addr_text(const struct lisp_addr *a, char *buf)
{
	cr_assert_eq(lisp_addr_format(a, buf, LISPMS_EID_STRLEN), LISPMS_EOK);
	return buf;
}

#define MS_TEST_EID(p)	eid_text((p), (char[LISPMS_EID_STRLEN]){ 0 })
#define MS_TEST_ADDR(a) addr_text((a), (char[LISPMS_EID_STRLEN]){ 0 })

static struct tl x;
static struct auth_key k_one, k_two, k_beta, k_border, k_narrow;

static inline void setup(void)
{
	tl_init(&x, conf_text);
	auth_key_init(&k_one, 1, LISP_ALG_HMAC_SHA1, "k-one", 5);
	auth_key_init(&k_two, 2, LISP_ALG_HMAC_SHA256, "k-two", 5);
	auth_key_init(&k_beta, 7, LISP_ALG_HMAC_SHA256, "b-key", 5);
	auth_key_init(&k_border, 9, LISP_ALG_HMAC_SHA256, "s-key", 5);
	auth_key_init(&k_narrow, 3, LISP_ALG_HMAC_SHA1, "n-key", 5);
}

static inline void teardown(void)
{
	tl_deinit(&x);
}

TestSuite(pubsub, .init = setup, .fini = teardown);

enum { XTR_A = 0x01, XTR_B = 0x02 }; /* registering xTRs: 00..0N */
/* the two listed subscribers' xTR-IDs */
#define BORDER ((const uint8_t[16]){ 0xbb, [15] = 1 })
#define NARROW ((const uint8_t[16]){ 0xcc, [15] = 1 })

/* Register eid (one locator rloc) signed with key, from xTR-ID 00..0xtr; records acked. */
/* Register eid with nlocs locators: rloc, then (nlocs > 1) 2001:db8::1, ::2, ... */
static inline int reg_locs(const struct auth_key *key, const char *eid, const char *rloc,
			   unsigned nlocs, uint8_t xtr, uint32_t ttl)
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

static inline int reg(const struct auth_key *key, const char *eid, const char *rloc, uint8_t xtr,
		      uint32_t ttl)
{
	return reg_locs(key, eid, rloc, 1, xtr, ttl);
}

/* A subscription Map-Request (N and I bits) for eid from xtr with nonce; itr NULL: AFI 0. */
static inline void subscribe(const uint8_t xtr[16], const char *eid, uint64_t nonce,
			     const char *itr)
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

static inline void xtr_of(uint8_t out[16], uint8_t n)
{
	memset(out, 0, 16);
	out[15] = n;
}

/* Run worker 0's notifier at now; what it sends lands in x.out. */
static inline void tick(uint64_t now)
{
	x.out.n = 0;
	arena_reset(&x.arena);
	lrcu_read_lock();
	ms_tick(x.t, now, &x.out);
	lrcu_read_unlock();
}

/* The Map-Notifies in x.out, verified with key (each must verify), into mn[]. */
static inline unsigned notifies(const struct auth_key *key, struct lisp_map_notify *mn,
				unsigned max)
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

static inline bool has_map_reply(void)
{
	for (unsigned i = 0; i < x.out.n; i++)
		if (msg_type(x.out.msgs[i].data, x.out.msgs[i].len) == LISP_MSG_MAP_REPLY)
			return true;
	return false;
}

static inline struct eid_prefix rec_eid(const struct lisp_record *r)
{
	struct eid_prefix p;
	cr_assert_eq(afi_to_eid(&r->eid, r->eid_plen, &p), LISPMS_EOK);
	return p;
}

/* Ack a Map-Notify with key. */
static inline void ack(const struct lisp_map_notify *mn, const struct auth_key *key)
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

/* Register [7] 10.1.hi.lo/32 for every i < n (one locator), from xTR A with key 2. */
static inline void reg_many(unsigned from, unsigned n)
{
	for (unsigned i = from; i < from + n; i++) {
		char eid[48];
		snprintf(eid, sizeof(eid), "[7] 10.1.%u.%u/32", i / 256, i % 256);
		cr_assert_eq(reg(&k_two, eid, "192.0.2.1", XTR_A, 3), 1);
	}
}

/* A wake function for worker 0 (its ticks are the test's tick()). */
static inline void fake_wake(void *arg)
{
	(void)arg;
}
