/* SPDX-License-Identifier: MIT */
/*
 * The resolver's check of signed Map-Referrals (mr.h, mr_sig.c,
 * docs/protocol.md D24): a root -> node -> Map-Server walk whose referrals
 * are signed on the wire with three keys, configured the way an operator
 * does (map-resolver.trust-anchors, delegation-keys); and every referral
 * that must be dropped: a changed octet, the wrong key, expired or not yet
 * valid, a raised Record TTL, unsigned, from a node no key is configured
 * for. Each drop is counted and leaves the request pending, so the genuine
 * answer still completes it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/mr.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "mr_wire_testlib.h"
#include "testkey.h"

#define NOW 1800000000u /* the fixed clock, seconds since the epoch */

static char paths[3][64];
static struct conf *conf;
static struct mr *m;
static struct mr_sig *msig;
static struct arena ar;

static struct lisp_addr A(const char *t) {
	struct lisp_addr a;
	cr_assert_eq(lisp_addr_parse(t, &a), LISPMS_EOK, "%s", t);
	return a;
}

static struct eid_prefix
P(const char *t) {
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse(t, &p), LISPMS_EOK, "%s", t);
	return p;
}

/* Key 0 is the root's (trust anchor), 1 the node's for [1000] 10.0.0.0/8, 2 the
 * Map-Server's for [1000] 10.1.0.0/16. */
static void
start(bool keys)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	cr_assert_eq(arena_init(&ar, 1u << 20), LISPMS_EOK);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/tmp/lispms-mrsig-%d-%u.pem", (int)getpid(),
			 i);
		cr_assert_eq(testkey_write(i, i == 0, paths[i]), 0);
	}
	char text[2048];
	int n = snprintf(text, sizeof(text),
			 "control: {socket: /tmp/x.sock}\n"
			 "map-resolver:\n"
			 "  roots: [10.0.0.1]\n"
			 "  listen: [127.0.0.1]\n");
	if (keys)
		snprintf(text + n, sizeof(text) - (size_t)n,
			 "  trust-anchors: %s\n"
			 "  delegation-keys:\n"
			 "    - {prefix: \"[1000] 10.0.0.0/8\", key: %s}\n"
			 "    - {prefix: \"[1000] 10.1.0.0/16\", key: %s}\n",
			 paths[0], paths[1], paths[2]);
	struct conf_error err;
	cr_assert_eq(conf_load_buf("test.yaml", text, strlen(text), NULL, &conf, &err), LISPMS_EOK,
		     "%s", err.all);
	struct mr_config c;
	cr_assert_eq(mr_config_from_conf(conf_map_resolver(conf), &c), LISPMS_EOK);
	cr_assert_eq(mr_new(&c, &m), LISPMS_EOK);
	struct mr_sig *s;
	cr_assert_eq(mr_sig_from_conf(conf_map_resolver(conf), &s), LISPMS_EOK);
	msig = s;
	cr_assert_eq(s != NULL, keys);
	if (s != NULL) {
		mr_sig_set_now(s, NOW);
		mr_set_sig(m, s);
	}
}

static void setup(void)
{
	start(true);
}

static void setup_off(void)
{
	start(false);
}

static void teardown(void)
{
	mr_free(m);
	conf_free(conf);
	arena_deinit(&ar);
	for (unsigned i = 0; i < 3; i++)
		unlink(paths[i]);
	lrcu_barrier();
	thread_unregister();
}

TestSuite(mr_sig, .init = setup, .fini = teardown);
TestSuite(mr_sig_off, .init = setup_off, .fini = teardown);

static struct referral_key *private_key(unsigned i)
{
	static struct referral_key *k[TESTKEY_MAX];
	if (k[i] == NULL) {
		size_t n;
		const char *why;
		const char *pem = testkey_pem(i, true);
		cr_assert_eq(referral_key_parse(pem, strlen(pem), true, &k[i], 1, &n, &why),
			     LISPMS_EOK);
	}
	return k[i];
}

/* What a referral is signed with, and how it is spoiled after signing. */
struct how {
	int key; /* -1: unsigned */
	uint32_t inception, expiration;
	int flip;	    /* >= 0: that octet of the message changed after signing */
	uint32_t raise_ttl; /* added to the Record TTL after signing */
};

static const struct how GOOD0 = {
	.key = 0, .inception = NOW - 300, .expiration = NOW + 3600, .flip = -1
};

/* A one-record Map-Referral as a DDT node puts it on the wire, decoded as mr gets it:
 * nonce is the ITR's, the referral carries the DDT Map-Request's in flight for it (D25). */
static const struct lisp_map_referral *wire_ref(uint64_t nonce, const char *prefix, uint8_t act,
						uint32_t ttl, const char *rloc, struct how h)
{
	struct eid_prefix p = P(prefix);
	struct lisp_locator loc = { .priority = 1, .weight = 100 };
	struct lisp_referral_record rec = {
		.r = { .ttl = ttl, .act = act, .a = true, .eid_plen = p.plen },
	};
	afi_from_eid(&p, &rec.r.eid);
	if (rloc != NULL) {
		struct lisp_addr a = A(rloc);
		afi_from_addr(&a, &loc.addr);
		rec.r.nlocs = 1;
		rec.r.locs = &loc;
	}
	static const uint8_t zeros[512];
	struct lisp_ref_sig sig;
	if (h.key >= 0) {
		struct referral_key *k = private_key((unsigned)h.key);
		sig = (struct lisp_ref_sig){ .orig_ttl = ttl,
					     .expiration = h.expiration,
					     .inception = h.inception,
					     .key_tag = referral_key_tag(k),
					     .alg = LISP_REF_SIG_RSA_SHA256,
					     .len = (uint16_t)referral_key_sig_len(k),
					     .data = zeros };
		rec.r.rsvd = 1;
		rec.sigs = &sig;
	}
	struct lisp_map_referral out = { .nonce = wire_nonce(m, nonce),
					 .nrecords = 1,
					 .records = &rec };
	uint8_t *buf = arena_alloc(&ar, 2048);
	size_t len;
	cr_assert_eq(map_referral_encode(&out, buf, 2048, &len), LISPMS_EOK);
	if (h.key >= 0)
		cr_assert_eq(map_referral_sign_single(private_key((unsigned)h.key), buf, len),
			     LISPMS_EOK);
	if (h.flip >= 0)
		buf[h.flip] ^= 0x40;
	uint32_t t = (uint32_t)buf[12] << 24 | (uint32_t)buf[13] << 16 | buf[14] << 8 | buf[15];
	t += h.raise_ttl;
	buf[12] = (uint8_t)(t >> 24);
	buf[13] = (uint8_t)(t >> 16);
	buf[14] = (uint8_t)(t >> 8);
	buf[15] = (uint8_t)t;
	struct lisp_map_referral *d = arena_alloc(&ar, sizeof(*d));
	cr_assert_eq(map_referral_decode(buf, len, &ar, d), LISPMS_EOK);
	return d;
}

static void feed(const char *from, const struct lisp_map_referral *r, struct mr_action *act)
{
	struct lisp_addr f = A(from);
	mr_referral(m, r, &f, 1000, act);
}

static void assert_send(const struct mr_action *a, const char *to)
{
	struct lisp_addr t = A(to);
	cr_assert_eq(a->kind, MR_ACT_SEND, "kind %d", a->kind);
	cr_assert(lisp_addr_equal(&a->to, &t), "not sent to %s", to);
}

static const uint8_t REQ[] = { 0x10, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8 };

static void request(const char *eid, uint64_t nonce)
{
	struct eid_prefix e = P(eid);
	struct lisp_addr itr = A("192.0.2.9");
	struct mr_action act;
	cr_assert_eq(mr_request(m, &e, nonce, &itr, 4342, REQ, sizeof(REQ), 1000, &act),
		     LISPMS_EOK);
	assert_send(&act, "10.0.0.1");
}

/* root -> node -> Map-Server, each hop signed with its key: the walk completes. */
static void walk(uint64_t nonce)
{
	struct mr_action act;
	struct how h1 = GOOD0, h2 = GOOD0;
	h1.key = 1;
	h2.key = 2;
	feed("10.0.0.1",
	     wire_ref(nonce, "[1000] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1440, "10.0.0.2", GOOD0),
	     &act);
	assert_send(&act, "10.0.0.2");
	feed("10.0.0.2",
	     wire_ref(nonce, "[1000] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1440, "10.0.0.3", h1),
	     &act);
	assert_send(&act, "10.0.0.3");
	feed("10.0.0.3", wire_ref(nonce, "[1000] 10.1.2.0/24", LISP_REF_MS_ACK, 1440, NULL, h2),
	     &act);
	cr_assert_eq(act.kind, MR_ACT_NONE);
}

Test(mr_sig, a_chain_signed_hop_by_hop_resolves)
{
	request("[1000] 10.1.2.3/32", 1);
	walk(1);
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 1);
	cr_assert_eq(mr_stat(m, MR_ST_SIG_FAILED) + mr_stat(m, MR_ST_SIG_UNSIGNED) +
			 mr_stat(m, MR_ST_SIG_NO_KEY),
		     0);
}

/* A spoiled root referral: dropped and counted, the request still waits for the real one. */
static void dropped_at_root(struct how h, enum mr_stat why)
{
	request("[1000] 10.1.2.3/32", 7);
	struct mr_action act;
	feed("10.0.0.1",
	     wire_ref(7, "[1000] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1440, "10.0.0.66", h), &act);
	cr_assert_eq(act.kind, MR_ACT_NONE, "a spoiled referral is not followed");
	cr_assert_eq(mr_stat(m, why), 1, "counted as %s", mr_stat_name(why));
	cr_assert_eq(mr_pending_count(m), 1, "the request still waits");
	walk(7);
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 1);
}

Test(mr_sig, a_changed_octet_is_dropped)
{
	struct how h = GOOD0;
	h.flip = 12 + 12 + 18 + 11; /* the referral RLOC's last octet: 10.0.0.66 stays a lie */
	dropped_at_root(h, MR_ST_SIG_FAILED);
}

Test(mr_sig, the_wrong_key_is_dropped)
{
	struct how h = GOOD0;
	h.key = 1; /* the node's key signing for the root */
	dropped_at_root(h, MR_ST_SIG_FAILED);
}

Test(mr_sig, expired_and_not_yet_valid_are_dropped)
{
	struct how h = GOOD0;
	h.inception = NOW - 7200;
	h.expiration = NOW - 1;
	dropped_at_root(h, MR_ST_SIG_FAILED);
	h.inception = NOW + 60;
	h.expiration = NOW + 3600;
	request("[3000] 10.1.2.3/32", 8); /* an instance the cache knows nothing of */
	struct mr_action act;
	feed("10.0.0.1",
	     wire_ref(8, "[3000] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1440, "10.0.0.2", h), &act);
	cr_assert_eq(act.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_SIG_FAILED), 2);
}

Test(mr_sig, a_raised_record_ttl_is_dropped)
{
	struct how h = GOOD0;
	h.raise_ttl = 1; /* not covered by the signature: held to the signed Original TTL */
	dropped_at_root(h, MR_ST_SIG_FAILED);
}

Test(mr_sig, unsigned_is_refused_when_keys_are_configured)
{
	struct how h = GOOD0;
	h.key = -1;
	dropped_at_root(h, MR_ST_SIG_UNSIGNED);
}

Test(mr_sig, a_node_signing_for_its_parent_is_dropped)
{
	/* the node's referral must carry the node's key, not the root's */
	request("[1000] 10.1.2.3/32", 9);
	struct mr_action act;
	feed("10.0.0.1",
	     wire_ref(9, "[1000] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1440, "10.0.0.2", GOOD0),
	     &act);
	assert_send(&act, "10.0.0.2");
	feed("10.0.0.2",
	     wire_ref(9, "[1000] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1440, "10.0.0.3", GOOD0),
	     &act);
	cr_assert_eq(act.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_SIG_FAILED), 1);
}

Test(mr_sig, a_node_without_a_configured_key_is_refused)
{
	/* the root delegates [2000] 10.0.0.0/8, for which no key is configured */
	request("[2000] 10.1.2.3/32", 10);
	struct mr_action act;
	feed("10.0.0.1",
	     wire_ref(10, "[2000] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1440, "10.0.0.2", GOOD0),
	     &act);
	assert_send(&act, "10.0.0.2");
	struct how h = GOOD0;
	h.key = 1;
	feed("10.0.0.2",
	     wire_ref(10, "[2000] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1440, "10.0.0.3", h), &act);
	cr_assert_eq(act.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_SIG_NO_KEY), 1);
}

Test(mr_sig_off, without_trust_anchors_unsigned_referrals_are_followed)
{
	request("[1000] 10.1.2.3/32", 11);
	struct mr_action act;
	struct how h = GOOD0;
	h.key = -1;
	feed("10.0.0.1",
	     wire_ref(11, "[1000] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1440, "10.0.0.2", h), &act);
	assert_send(&act, "10.0.0.2");
}

Test(mr_sig, the_same_signed_bytes_verify_once_and_changed_ones_still_fail)
{
	request("[1000] 10.1.2.3/32", 1);
	walk(1);
	uint64_t hits = mr_sig_cache_hits(msig);
	/* the next request starts from the cached MS-REFERRAL: the Map-Server's
	 * MS-ACK, the same record under the same signature, needs no RSA */
	struct mr_action act;
	struct eid_prefix e = P("[1000] 10.1.2.4/32");
	struct lisp_addr itr = A("192.0.2.9");
	cr_assert_eq(mr_request(m, &e, 2, &itr, 4342, REQ, sizeof(REQ), 1000, &act), LISPMS_EOK);
	assert_send(&act, "10.0.0.3");
	struct how h2 = GOOD0;
	h2.key = 2;
	feed("10.0.0.3", wire_ref(2, "[1000] 10.1.2.0/24", LISP_REF_MS_ACK, 1440, NULL, h2), &act);
	cr_assert_eq(mr_stat(m, MR_ST_DONE), 2);
	cr_assert_eq(mr_sig_cache_hits(msig), hits + 1);
	/* a changed octet of the same record is not the same bytes: verified, and fails */
	cr_assert_eq(mr_request(m, &e, 3, &itr, 4342, REQ, sizeof(REQ), 1000, &act), LISPMS_EOK);
	h2.flip = 12 + 12 + 16; /* an octet of the EID prefix */
	feed("10.0.0.3", wire_ref(3, "[1000] 10.1.2.0/24", LISP_REF_MS_ACK, 1440, NULL, h2), &act);
	cr_assert_eq(act.kind, MR_ACT_NONE);
	cr_assert_eq(mr_stat(m, MR_ST_SIG_FAILED), 1);
	cr_assert_eq(mr_sig_cache_hits(msig), hits + 1);
}
