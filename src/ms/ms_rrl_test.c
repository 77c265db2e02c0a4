/* SPDX-License-Identifier: MIT */
/* Reply rate limiting (D22): the bucket itself, then through the request core. */
#include <arpa/inet.h>

#include <lispms/counters.h>

#include "ms_rrl.h"
#include "ms_testlib.h"

#define SEC LISPMS_NS_PER_SEC

static struct sockaddr_storage addr(const char *text, uint16_t port)
{
	struct sockaddr_storage ss;
	cr_assert_eq(saddr_parse(text, &ss), LISPMS_EOK, "%s", text);
	saddr_set_port(&ss, port);
	return ss;
}

static unsigned allowed(struct rrl *r, const struct sockaddr_storage *a, uint32_t rate, unsigned n,
			uint64_t now)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += rrl_check(r, a, rate, now);
	return ok;
}

Test(rrl, burst_of_one_second_then_the_rate)
{
	struct rrl *r = rrl_new(LISPMS_M_MS_RRL_EVICTED);
	cr_assert_not_null(r);
	struct sockaddr_storage v = addr("192.0.2.1", 4342);
	uint64_t t0 = 1000 * SEC;
	cr_assert_eq(allowed(r, &v, 100, 5000, t0), 100, "a full bucket: one second's worth");
	cr_assert_eq(allowed(r, &v, 100, 10, t0 + SEC / 100), 1, "then one per 1/rate");
	cr_assert_eq(allowed(r, &v, 100, 10, t0 + SEC / 100 + SEC / 200), 0);
	cr_assert_eq(allowed(r, &v, 100, 500, t0 + 3 * SEC), 100, "quiet for a second: full again");
	rrl_free(r);
}

Test(rrl, keyed_by_address_only)
{
	struct rrl *r = rrl_new(LISPMS_M_MS_RRL_EVICTED);
	struct sockaddr_storage v = addr("192.0.2.1", 4342), vp = addr("192.0.2.1", 9999),
				w = addr("192.0.2.2", 4342), v6 = addr("2001:db8::1", 4342),
				m6 = addr("::ffff:192.0.2.7", 4342);
	uint64_t t0 = 5 * SEC;
	cr_assert_eq(allowed(r, &v, 10, 50, t0), 10);
	cr_assert_eq(allowed(r, &vp, 10, 50, t0), 0, "another port of the same address shares it");
	cr_assert_eq(allowed(r, &w, 10, 50, t0), 10, "another address has its own bucket");
	cr_assert_eq(allowed(r, &v6, 10, 50, t0), 10);
	cr_assert_eq(allowed(r, &m6, 10, 50, t0), 10);
	rrl_free(r);
}

Test(rrl, a_limited_victim_is_not_washed_out_by_a_flood_of_others)
{
	struct rrl *r = rrl_new(LISPMS_M_MS_RRL_EVICTED);
	struct sockaddr_storage v = addr("198.51.100.9", 4342);
	uint64_t t0 = 7 * SEC;
	cr_assert_eq(allowed(r, &v, 100, 1000, t0), 100);
	uint64_t evicted = counters_sum(LISPMS_M_MS_RRL_EVICTED);
	/* 200,000 other destinations, one answer each, in the same second:
	 * far more than the table holds (memory stays fixed) */
	for (uint32_t i = 0; i < 200000; i++) {
		struct sockaddr_storage o = { .ss_family = AF_INET };
		((struct sockaddr_in *)&o)->sin_addr.s_addr = htonl(0x0a000000u + i);
		cr_assert(rrl_check(r, &o, 100, t0 + 1));
	}
	cr_assert_eq(allowed(r, &v, 100, 1000, t0 + 2), 0, "the victim is still limited");
	cr_assert_gt(counters_sum(LISPMS_M_MS_RRL_EVICTED), evicted,
		     "entries with state were replaced and counted");
	rrl_free(r);
}

/* ------------------------------------------------------------ the request core */

static size_t request(const char *eid, const char *itr_rloc, uint64_t nonce, uint8_t *buf,
		      size_t cap)
{
	struct eid_prefix p = tl_eid(eid);
	struct lisp_addr itr;
	cr_assert_eq(lisp_addr_parse(itr_rloc, &itr), LISPMS_EOK);
	struct afi_addr rl;
	afi_from_addr(&itr, &rl);
	struct lisp_request_record rec = { .eid_plen = p.plen };
	afi_from_eid(&p, &rec.eid);
	struct lisp_map_request m = {
		.nonce = nonce,
		.source_eid = { .afi = LISP_AFI_NONE },
		.nitr = 1,
		.itr_rlocs = &rl,
		.nrecords = 1,
		.records = &rec,
	};
	size_t len;
	cr_assert_eq(map_request_encode(&m, buf, cap, &len), LISPMS_EOK);
	return len;
}

static const char *conf_limit = "control: {socket: /tmp/x.sock}\n"
				"server: {reply-rate-limit: 100}\n"
				"sites:\n"
				"  - name: alpha\n"
				"    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: k}]\n"
				"    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n";

/* Feed n requests naming itr_rloc; the Map-Replies that came out. */
static unsigned flood(struct tl *x, const char *itr_rloc, unsigned n)
{
	uint8_t msg[256];
	unsigned replies = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = request(i % 2 ? "[7] 10.1.2.3" : "[7] 10.200.0.1", itr_rloc, i + 1,
				     msg, sizeof(msg));
		tl_feed(x, msg, len, "203.0.113.5");
		for (unsigned k = 0; k < x->out.n; k++)
			replies +=
			    msg_type(x->out.msgs[k].data, x->out.msgs[k].len) == LISP_MSG_MAP_REPLY;
	}
	return replies;
}

Test(rrl, negative_replies_to_one_itr_rloc_are_limited_others_answered)
{
	struct tl x;
	tl_init(&x, conf_limit);
	uint64_t limited = counters_sum(LISPMS_M_MS_RRL_LIMITED_REPLY);
	uint64_t start = mtime_now_ns();
	unsigned replies = flood(&x, "192.0.2.1", 5000);
	uint64_t elapsed_ms = (mtime_now_ns() - start) / LISPMS_NS_PER_MSEC;
	/* the burst, plus one per 10 ms the loop took */
	cr_assert_geq(replies, 100);
	cr_assert_leq(replies, 100 + elapsed_ms / 10 + 1, "%u replies in %llu ms", replies,
		      (unsigned long long)elapsed_ms);
	cr_assert_eq(counters_sum(LISPMS_M_MS_RRL_LIMITED_REPLY) - limited, 5000 - replies,
		     "every request not answered is counted");
	cr_assert_eq(flood(&x, "192.0.2.2", 20), 20, "another ITR-RLOC is still answered");
	tl_deinit(&x);
}

Test(rrl, off_with_zero)
{
	struct tl x;
	tl_init(&x, "control: {socket: /tmp/x.sock}\n"
		    "server: {reply-rate-limit: 0}\n"
		    "sites: []\n");
	cr_assert_eq(flood(&x, "192.0.2.1", 3000), 3000);
	tl_deinit(&x);
}

Test(rrl, forwarded_requests_count_against_the_itr_rloc)
{
	struct tl x;
	tl_init(&x, conf_limit);
	const char *eids[] = { "[7] 10.1.0.0/16", NULL };
	cr_assert_eq(tl_register(&x, eids, "127.0.0.11", 1, "k", "127.0.0.11"), 1);
	uint64_t limited = counters_sum(LISPMS_M_MS_RRL_LIMITED_FORWARD);
	uint8_t msg[256];
	unsigned forwarded = 0;
	for (unsigned i = 0; i < 1000; i++) {
		size_t len = request("[7] 10.1.0.9", "192.0.2.1", i + 1, msg, sizeof(msg));
		tl_feed(&x, msg, len, "203.0.113.5");
		for (unsigned k = 0; k < x.out.n; k++)
			forwarded +=
			    msg_type(x.out.msgs[k].data, x.out.msgs[k].len) == LISP_MSG_ECM;
	}
	cr_assert_geq(forwarded, 100);
	cr_assert_lt(forwarded, 1000);
	cr_assert_eq(counters_sum(LISPMS_M_MS_RRL_LIMITED_FORWARD) - limited, 1000 - forwarded);
	tl_deinit(&x);
}
