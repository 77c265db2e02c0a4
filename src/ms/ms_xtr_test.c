/* SPDX-License-Identifier: MIT */
/*
 * What real xTRs (Open Overlay Router, lispers.net) showed the request core
 * doing wrong (issue 13): RFC 9437 Map-Requests, the key of unsolicited
 * notifies (D21), which site a register belongs to, ETR restarts (D13) and
 * the debug narration.
 */
#include <stdio.h>

#include <lispms/counters.h>
#include <lispms/log.h>

#include "ms_testlib.h"

static const char *conf_text = "control: {socket: /tmp/x.sock}\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys:\n"
			       "      - {id: 1, algorithm: hmac-sha-1-96, secret: k-one}\n"
			       "      - {id: 2, algorithm: hmac-sha-256-128, secret: k-two}\n"
			       "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "  - name: beta\n"
			       "    keys: [{id: 7, algorithm: hmac-sha-256-128, secret: b-key}]\n"
			       "    eid-prefixes: [\"[7] 10.2.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "    proxy-reply: true\n";

static struct tl x;
static struct auth_key k_one, k_two, k_beta;

/* Debug lines captured from the log. */
static char logbuf[1 << 16];
static size_t loglen;

static void capture(enum log_level level, const char *line, void *arg)
{
	(void)level, (void)arg;
	size_t n = strlen(line);
	if (loglen + n + 2 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, line, n);
		loglen += n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
}

static void setup(void)
{
	tl_init(&x, conf_text);
	auth_key_init(&k_one, 1, LISP_ALG_HMAC_SHA1, "k-one", 5);
	auth_key_init(&k_two, 2, LISP_ALG_HMAC_SHA256, "k-two", 5);
	auth_key_init(&k_beta, 7, LISP_ALG_HMAC_SHA256, "b-key", 5);
	loglen = 0;
	logbuf[0] = '\0';
}

static void teardown(void)
{
	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	tl_deinit(&x);
}

TestSuite(xtr, .init = setup, .fini = teardown);

struct regspec {
	const struct auth_key *key;
	const char *eids[4];
	const char *rloc;
	uint8_t xtr;	/* 0: no I bit */
	uint32_t ttl;	/* 0: 3 minutes */
	uint32_t flags; /* beside M */
};

/* Feed a signed Map-Register from src; how many records its Map-Notify acknowledges. */
static int reg(const struct regspec *r, const char *src)
{
	struct lisp_record recs[4];
	struct lisp_locator locs[4];
	unsigned n = 0;
	for (; n < 4 && r->eids[n] != NULL; n++) {
		struct eid_prefix p = tl_eid(r->eids[n]);
		struct lisp_addr a;
		cr_assert_eq(lisp_addr_parse(r->rloc, &a), LISPMS_EOK);
		memset(&recs[n], 0, sizeof(recs[n]));
		locs[n] =
		    (struct lisp_locator){ .priority = 1, .weight = 100, .flags = LISP_LOC_R };
		afi_from_addr(&a, &locs[n].addr);
		recs[n].ttl = r->ttl ? r->ttl : 3;
		recs[n].eid_plen = p.plen;
		afi_from_eid(&p, &recs[n].eid);
		recs[n].nlocs = 1;
		recs[n].locs = &locs[n];
	}
	struct lisp_map_register m = {
		.flags = LISP_MREG_M | r->flags | (r->xtr ? LISP_MREG_I : 0),
		.nonce = 0x77,
		.auth = { .key_id = r->key->key_id,
			  .alg_id = r->key->alg_id,
			  .len = (uint16_t)auth_alg_len(r->key->alg_id) },
		.nrecords = (uint16_t)n,
		.records = recs,
	};
	m.xtr_id[15] = r->xtr;
	uint8_t buf[2048];
	size_t len;
	cr_assert_eq(map_register_encode(&m, buf, sizeof(buf), &len), LISPMS_EOK);
	cr_assert_eq(auth_sign(x.auth, r->key, buf, len), LISPMS_EOK);
	tl_feed(&x, buf, len, src);
	for (unsigned i = 0; i < x.out.n; i++) {
		struct lisp_map_notify mn;
		if (map_notify_decode(x.out.msgs[i].data, x.out.msgs[i].len, &x.arena, &mn) ==
			LISPMS_EOK &&
		    mn.nonce == 0x77)
			return mn.nrecords;
	}
	return 0;
}

/* Run worker 0's notifier at now; the unsolicited Map-Notifies it sends land in x.out. */
static void tick(uint64_t now)
{
	x.out.n = 0;
	arena_reset(&x.arena);
	lrcu_read_lock();
	ms_tick(x.t, now, &x.out);
	lrcu_read_unlock();
}

/* ------------------------------------------------------- 1. RFC 9437 requests */

static size_t request(uint8_t *buf, size_t cap, const char *eid, bool i_bit, bool site_id,
		      bool n_bit)
{
	struct eid_prefix p = tl_eid(eid);
	struct lisp_addr itr;
	cr_assert_eq(lisp_addr_parse("127.0.0.9", &itr), LISPMS_EOK);
	struct afi_addr itrs[1];
	afi_from_addr(&itr, &itrs[0]);
	struct lisp_request_record rr = { .reserved = n_bit ? LISP_MREQ_REC_N : 0,
					  .eid_plen = p.plen };
	afi_from_eid(&p, &rr.eid);
	struct lisp_map_request q = { .flags = i_bit ? LISP_MREQ_I : 0,
				      .nonce = 0xabc,
				      .nitr = 1,
				      .itr_rlocs = itrs,
				      .nrecords = 1,
				      .records = &rr,
				      .has_site_id = site_id,
				      .site_id = site_id ? 9 : 0 };
	memset(q.xtr_id, 0x5a, sizeof(q.xtr_id));
	size_t len;
	cr_assert_eq(map_request_encode(&q, buf, cap, &len), LISPMS_EOK);
	return len;
}

static bool answered(void)
{
	for (unsigned i = 0; i < x.out.n; i++) {
		struct lisp_map_reply r;
		if (map_reply_decode(x.out.msgs[i].data, x.out.msgs[i].len, &x.arena, &r) ==
			LISPMS_EOK &&
		    r.nonce == 0xabc)
			return true;
	}
	return false;
}

Test(xtr, map_requests_with_the_i_bit_are_answered_in_both_forms)
{
	struct regspec r = { &k_beta, { "[7] 10.2.1.0/24" }, "192.0.2.1" };
	cr_assert_eq(reg(&r, "127.0.0.1"), 1);
	uint64_t xtr0 = counters_sum(LISPMS_M_MS_REQ_XTR_ID),
		 sub0 = counters_sum(LISPMS_M_MS_REQ_SUBSCRIBE),
		 bad0 = counters_sum(LISPMS_M_MS_MALFORMED_OTHER);
	uint8_t buf[512];
	/* RFC 9437: xTR-ID and site-ID; lispers.net: the xTR-ID alone; with N: a subscription */
	size_t len = request(buf, sizeof(buf), "[7] 10.2.1.1/32", true, true, false);
	tl_feed(&x, buf, len, "127.0.0.9");
	cr_assert(answered(), "xTR-ID and site-ID: a proxy Map-Reply");
	len = request(buf, sizeof(buf), "[7] 10.2.1.1/32", true, false, false);
	tl_feed(&x, buf, len, "127.0.0.9");
	cr_assert(answered(), "xTR-ID alone: a proxy Map-Reply");
	len = request(buf, sizeof(buf), "[7] 10.9.0.1/32", true, false, true);
	tl_feed(&x, buf, len, "127.0.0.9");
	cr_assert(answered(), "N bit: answered as a plain request (a negative reply)");
	cr_assert_eq(counters_sum(LISPMS_M_MS_REQ_XTR_ID), xtr0 + 3);
	cr_assert_eq(counters_sum(LISPMS_M_MS_REQ_SUBSCRIBE), sub0 + 1);
	cr_assert_eq(counters_sum(LISPMS_M_MS_MALFORMED_OTHER), bad0);
}

/* ------------------------------------------------ 2. keys of unsolicited notifies */

Test(xtr, a_displaced_etr_is_notified_with_its_own_key_and_its_ack_verified_with_it)
{
	/* A registers with key 2 (SHA-256), the site's second key; B moves in with key 1 */
	struct regspec a = { &k_two, { "[7] 10.1.5.0/24" }, "192.0.2.1", .xtr = 1 };
	struct regspec b = { &k_one, { "[7] 10.1.5.0/24" }, "192.0.2.2", .xtr = 2 };
	cr_assert_eq(reg(&a, "127.0.0.1"), 1);
	cr_assert_eq(reg(&b, "127.0.0.2"), 1);
	uint64_t now = mtime_now_ns();
	tick(now);
	cr_assert_eq(x.out.n, 1, "one unsolicited Map-Notify, to A");
	uint8_t mn_buf[1024];
	size_t mn_len = x.out.msgs[0].len;
	memcpy(mn_buf, x.out.msgs[0].data, mn_len);
	cr_assert_eq(saddr_port(&x.out.msgs[0].dst), 4342);
	struct lisp_map_notify mn;
	cr_assert_eq(map_notify_decode(mn_buf, mn_len, &x.arena, &mn), LISPMS_EOK);
	cr_assert_eq(mn.auth.key_id, 2, "signed with A's Key ID");
	cr_assert_eq(mn.auth.alg_id, LISP_ALG_HMAC_SHA256, "and A's algorithm");
	cr_assert_eq(auth_verify(x.auth, &k_two, 1, mn_buf, mn_len, &mn.auth), LISPMS_EOK);

	/* an ack signed with the site's first key is not A's: it does not count */
	uint64_t acked0 = counters_sum(LISPMS_M_MS_NOTIFY_ACKED);
	struct lisp_map_notify ack = mn;
	ack.type = LISP_MSG_MAP_NOTIFY_ACK;
	ack.auth = (struct lisp_auth){ .key_id = 1, .alg_id = LISP_ALG_HMAC_SHA1, .len = 20 };
	uint8_t abuf[1024];
	size_t alen;
	cr_assert_eq(map_notify_encode(&ack, abuf, sizeof(abuf), &alen), LISPMS_EOK);
	cr_assert_eq(auth_sign(x.auth, &k_one, abuf, alen), LISPMS_EOK);
	tl_feed(&x, abuf, alen, "127.0.0.1");
	cr_assert_eq(counters_sum(LISPMS_M_MS_NOTIFY_ACKED), acked0);
	/* signed with A's key it does */
	ack.auth = (struct lisp_auth){ .key_id = 2, .alg_id = LISP_ALG_HMAC_SHA256, .len = 32 };
	cr_assert_eq(map_notify_encode(&ack, abuf, sizeof(abuf), &alen), LISPMS_EOK);
	cr_assert_eq(auth_sign(x.auth, &k_two, abuf, alen), LISPMS_EOK);
	tl_feed(&x, abuf, alen, "127.0.0.1");
	cr_assert_eq(counters_sum(LISPMS_M_MS_NOTIFY_ACKED), acked0 + 1);
	tick(now + 4 * LISPMS_NS_PER_SEC);
	cr_assert_eq(x.out.n, 0, "acknowledged: no retransmission");
}

Test(xtr, a_merged_set_is_told_to_each_contributor_with_its_own_key)
{
	const char *conf_merge = "control: {socket: /tmp/x.sock}\n"
				 "sites:\n"
				 "  - name: alpha\n"
				 "    keys:\n"
				 "      - {id: 1, algorithm: hmac-sha-1-96, secret: k-one}\n"
				 "      - {id: 2, algorithm: hmac-sha-256-128, secret: k-two}\n"
				 "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n"
				 "    accept-more-specifics: true\n"
				 "    merge: true\n";
	tl_deinit(&x);
	tl_init(&x, conf_merge);
	struct regspec a = {
		&k_two, { "[7] 10.1.6.0/24" }, "192.0.2.1", .xtr = 1, .flags = LISP_MREG_a
	};
	struct regspec b = {
		&k_one, { "[7] 10.1.6.0/24" }, "192.0.2.2", .xtr = 2, .flags = LISP_MREG_a
	};
	cr_assert_eq(reg(&a, "127.0.0.1"), 1);
	cr_assert_eq(reg(&b, "127.0.0.2"), 1);
	tick(mtime_now_ns());
	cr_assert_eq(x.out.n, 1, "A learns the merged set");
	struct lisp_map_notify mn;
	cr_assert_eq(map_notify_decode(x.out.msgs[0].data, x.out.msgs[0].len, &x.arena, &mn),
		     LISPMS_EOK);
	cr_assert_eq(mn.records[0].nlocs, 2);
	cr_assert_eq(mn.auth.key_id, 2);
	cr_assert_eq(
	    auth_verify(x.auth, &k_two, 1, x.out.msgs[0].data, x.out.msgs[0].len, &mn.auth),
	    LISPMS_EOK);
}

/* ------------------------------------------------- 3. the site of a register */

static size_t rejections(const char *site, struct ms_rejection *out)
{
	struct ms_site_info si;
	lrcu_read_lock();
	cr_assert(ms_site_find(x.ms, site, &si));
	lrcu_read_unlock();
	return ms_site_rejections(si.id, out, 16);
}

Test(xtr, a_stray_record_is_refused_alone_wherever_it_is)
{
	struct ms_site_info beta;
	lrcu_read_lock();
	cr_assert(ms_site_find(x.ms, "beta", &beta));
	lrcu_read_unlock();
	uint64_t nosite0 = counters_sum(LISPMS_M_MS_REJ_NO_SITE);
	/* signed by beta; the stray record first, then last */
	struct regspec first = { &k_beta, { "[7] 10.9.0.0/16", "[7] 10.2.1.0/24" }, "192.0.2.7" };
	struct regspec last = { &k_beta, { "[7] 10.2.2.0/24", "[7] 10.9.0.0/16" }, "192.0.2.7" };
	cr_assert_eq(reg(&first, "127.0.0.7"), 1, "the stray record first refuses only itself");
	cr_assert_eq(reg(&last, "127.0.0.7"), 1, "and so does the same record last");
	cr_assert(tl_registered(&x, "[7] 10.2.1.0/24"));
	cr_assert(tl_registered(&x, "[7] 10.2.2.0/24"));
	cr_assert_eq(counters_sum(LISPMS_M_MS_REJ_NO_SITE), nosite0 + 2);
	cr_assert_eq(counters_site_sum(beta.num, LISPMS_S_REJ_NO_SITE), 2);
	struct ms_rejection rj[16];
	size_t n = rejections("beta", rj);
	cr_assert_eq(n, 2);
	cr_assert_eq(rj[0].reason, LISPMS_S_REJ_NO_SITE);
	cr_assert(rj[0].has_eid);
	struct eid_prefix stray;
	cr_assert_eq(eid_prefix_parse("[7] 10.9.0.0/16", &stray), LISPMS_EOK);
	cr_assert(eid_prefix_equal(&rj[0].eid, &stray), "the stray record is the one kept");
	cr_assert(eid_prefix_equal(&rj[1].eid, &stray));
	cr_assert_eq(rj[0].key_id, 7);
	cr_assert_eq(rj[0].alg_id, LISP_ALG_HMAC_SHA256);
}

Test(xtr, the_key_picks_the_site_not_the_first_record)
{
	struct ms_site_info alpha;
	lrcu_read_lock();
	cr_assert(ms_site_find(x.ms, "alpha", &alpha));
	lrcu_read_unlock();
	/* an alpha record first, beta's key: beta's records are stored, alpha's refused */
	struct regspec r = { &k_beta, { "[7] 10.1.9.0/24", "[7] 10.2.9.0/24" }, "192.0.2.7" };
	uint64_t hmac0 = counters_sum(LISPMS_M_MS_REJ_BAD_HMAC);
	cr_assert_eq(reg(&r, "127.0.0.7"), 1);
	cr_assert(tl_registered(&x, "[7] 10.2.9.0/24"));
	cr_assert(!tl_registered(&x, "[7] 10.1.9.0/24"));
	cr_assert_eq(counters_sum(LISPMS_M_MS_REJ_BAD_HMAC), hmac0, "no authentication failure");
	struct ms_rejection rj[16];
	size_t n = rejections("beta", rj);
	cr_assert_eq(n, 1);
	cr_assert_eq(rj[0].reason, LISPMS_S_REJ_PREFIX);
	cr_assert_eq(rejections("alpha", rj), 0);
	/* the right Key ID with the wrong secret: bad_hmac, on the site that has that key */
	struct auth_key wrong;
	auth_key_init(&wrong, 7, LISP_ALG_HMAC_SHA256, "nope", 4);
	r.key = &wrong;
	cr_assert_eq(reg(&r, "127.0.0.7"), 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_REJ_BAD_HMAC), hmac0 + 2);
	n = rejections("beta", rj);
	cr_assert_eq(n, 2);
	cr_assert_eq(rj[0].reason, LISPMS_S_REJ_BAD_HMAC);
	/* a Key ID and algorithm no candidate has: unknown_key, on the first candidate */
	uint64_t unk0 = counters_sum(LISPMS_M_MS_REJ_UNKNOWN_KEY);
	auth_key_init(&wrong, 7, LISP_ALG_HMAC_SHA1, "b-key", 5); /* the algorithm differs */
	r.key = &wrong;
	cr_assert_eq(reg(&r, "127.0.0.7"), 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_REJ_UNKNOWN_KEY), unk0 + 2);
	n = rejections("alpha", rj);
	cr_assert_eq(n, 1);
	cr_assert_eq(rj[0].reason, LISPMS_S_REJ_UNKNOWN_KEY, "an algorithm mismatch");
	cr_assert_eq(rj[0].key_id, 7);
	cr_assert_eq(rj[0].alg_id, LISP_ALG_HMAC_SHA1);
}

/* -------------------------------------------------------- 4. ETR restarts */

Test(xtr, an_etr_restart_under_a_new_xtr_id_replaces_it_silently)
{
	uint64_t unsol0 = counters_sum(LISPMS_M_MS_TX_MAP_NOTIFY_UNSOLICITED);
	struct regspec r = { &k_two, { "[7] 10.1.7.0/24" }, "192.0.2.1", .xtr = 1 };
	cr_assert_eq(reg(&r, "127.0.0.1"), 1);
	r.xtr = 0x41; /* the same ETR after a restart */
	cr_assert_eq(reg(&r, "127.0.0.1"), 1);
	struct db_stats st;
	db_stats_get(ms_db(x.ms), &st);
	cr_assert_eq(st.registrations, 1, "one registration, the new instance's");
	tick(mtime_now_ns());
	cr_assert_eq(x.out.n, 0, "the dead instance is not notified");
	cr_assert_eq(ms_notify_pending(x.ms), 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_TX_MAP_NOTIFY_UNSOLICITED), unsol0);
	/* a real move (other locators) still notifies the displaced ETR */
	struct regspec m = { &k_two, { "[7] 10.1.7.0/24" }, "192.0.2.9", .xtr = 9 };
	cr_assert_eq(reg(&m, "127.0.0.9"), 1);
	tick(mtime_now_ns());
	cr_assert_eq(x.out.n, 1, "a move is notified");
}

/* ---------------------------------------------------------- 5. debug lines */

static bool logged(const char *needle)
{
	return strstr(logbuf, needle) != NULL;
}

Test(xtr, debug_narrates_every_decision)
{
	log_set_sink(capture, NULL);
	log_set_level(LOG_LEVEL_DEBUG);
	struct regspec r = { &k_two, { "[7] 10.1.8.0/24" }, "192.0.2.1", .xtr = 1 };
	cr_assert_eq(reg(&r, "127.0.0.1"), 1);
	cr_assert_eq(reg(&r, "127.0.0.1"), 1);
	uint8_t buf[512];
	size_t len = request(buf, sizeof(buf), "[7] 10.1.8.1/32", false, false, false);
	tl_feed(&x, buf, len, "127.0.0.9");
	tl_feed(&x, buf, len - 3, "127.0.0.9");
	struct regspec b = { &k_one, { "[7] 10.1.8.0/24" }, "192.0.2.2", .xtr = 2 };
	cr_assert_eq(reg(&b, "127.0.0.2"), 1);
	uint64_t now = mtime_now_ns();
	for (unsigned s = 0; s <= 60; s++)
		tick(now + s * LISPMS_NS_PER_SEC);
	ms_housekeeping(x.ms, now + 400 * LISPMS_NS_PER_SEC);
	cr_assert(logged("register, accepted [7] 10.1.8.0/24 from 127.0.0.1:4342 (site alpha, key "
			 "2 alg 2"),
		  "%s", logbuf);
	cr_assert(logged("register, refreshed [7] 10.1.8.0/24 from 127.0.0.1:4342"), "%s", logbuf);
	cr_assert(logged("request, forwarded for [7] 10.1.8.1/32 from 127.0.0.9:4342"), "%s",
		  logbuf);
	cr_assert(logged("request, dropped from 127.0.0.9:4342 ("), "%s", logbuf);
	cr_assert(logged("notify, queued for [7] 10.1.8.0/24 to 127.0.0.1:4342 (moved, key 2"),
		  "%s", logbuf);
	cr_assert(logged("notify, retransmitted to 127.0.0.1:4342"), "%s", logbuf);
	cr_assert(logged("notify, gave up on 127.0.0.1:4342"), "%s", logbuf);
	cr_assert(logged("expiry, [7] 10.1.8.0/24 of 127.0.0.2 removed"), "%s", logbuf);
}

Test(xtr, no_debug_line_when_debug_is_off)
{
	log_set_sink(capture, NULL);
	log_set_level(LOG_LEVEL_INFO);
	struct regspec r = { &k_two, { "[7] 10.1.8.0/24" }, "192.0.2.1", .xtr = 1 };
	cr_assert_eq(reg(&r, "127.0.0.1"), 1);
	cr_assert_eq(loglen, 0, "%s", logbuf);
}
