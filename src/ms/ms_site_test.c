/* SPDX-License-Identifier: MIT */
/* Per-site counters, the recent-rejection ring and ms_lookup(). */
#include <netinet/in.h>

#include "ms_testlib.h"

static const char *conf_text = "control: {socket: /tmp/x.sock}\n"
			       "sites:\n"
			       "  - name: alpha\n"
			       "    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: a-key}]\n"
			       "    eid-prefixes: [\"[7] 10.1.0.0/16\"]\n"
			       "    accept-more-specifics: true\n"
			       "    allowed-rlocs: [192.0.2.0/24]\n"
			       "  - name: beta\n"
			       "    keys: [{id: 2, algorithm: hmac-sha-256-128, secret: b-key}]\n"
			       "    eid-prefixes: [\"[7] 10.2.0.0/16\"]\n"
			       "    proxy-reply: true\n";

static struct tl x;

static void setup(void)
{
	tl_init(&x, conf_text);
}

static void teardown(void)
{
	tl_deinit(&x);
}

TestSuite(site, .init = setup, .fini = teardown);

static struct ms_site_info site(const char *name)
{
	struct ms_site_info si;
	lrcu_read_lock();
	cr_assert(ms_site_find(x.ms, name, &si), "%s", name);
	lrcu_read_unlock();
	return si;
}

Test(site, counters_by_result_and_reason)
{
	struct ms_site_info a = site("alpha"), b = site("beta");
	cr_assert_neq(a.num, b.num);
	cr_assert_str_eq(ms_site_name(a.id), "alpha");
	uint64_t acc = counters_site_sum(a.num, LISPMS_S_REG_ACCEPTED);
	uint64_t ref = counters_site_sum(a.num, LISPMS_S_REG_REFRESHED);
	uint64_t hmac = counters_site_sum(a.num, LISPMS_S_REJ_BAD_HMAC);
	uint64_t pfx = counters_site_sum(a.num, LISPMS_S_REJ_PREFIX);
	uint64_t loc = counters_site_sum(a.num, LISPMS_S_REJ_LOCATOR);
	uint64_t bacc = counters_site_sum(b.num, LISPMS_S_REG_ACCEPTED);

	const char *two[] = { "[7] 10.1.1.0/24", "[7] 10.1.2.0/24", NULL };
	cr_assert_eq(tl_register(&x, two, "192.0.2.1", 1, "a-key", "127.0.0.1"), 2);
	cr_assert_eq(tl_register(&x, two, "192.0.2.1", 1, "a-key", "127.0.0.1"), 2);
	cr_assert_eq(tl_register(&x, two, "192.0.2.1", 1, "wrong", "127.0.0.1"), 0);
	const char *mixed[] = { "[7] 10.1.3.0/24", "[7] 10.2.3.0/24", NULL };
	cr_assert_eq(tl_register(&x, mixed, "192.0.2.1", 1, "a-key", "127.0.0.1"), 1);
	const char *one[] = { "[7] 10.1.4.0/24", NULL };
	cr_assert_eq(tl_register(&x, one, "198.51.100.9", 1, "a-key", "127.0.0.1"), 0);

	cr_assert_eq(counters_site_sum(a.num, LISPMS_S_REG_ACCEPTED) - acc, 3);
	cr_assert_eq(counters_site_sum(a.num, LISPMS_S_REG_REFRESHED) - ref, 2);
	cr_assert_eq(counters_site_sum(a.num, LISPMS_S_REJ_BAD_HMAC) - hmac, 2, "per record");
	cr_assert_eq(counters_site_sum(a.num, LISPMS_S_REJ_PREFIX) - pfx, 1,
		     "another site's prefix in alpha's message counts for alpha");
	cr_assert_eq(counters_site_sum(a.num, LISPMS_S_REJ_LOCATOR) - loc, 1);
	cr_assert_eq(counters_site_sum(b.num, LISPMS_S_REG_ACCEPTED) - bacc, 0);
}

Test(site, rejections_are_kept_newest_first_with_their_reason)
{
	struct ms_site_info a = site("alpha");
	struct ms_rejection r[16];
	cr_assert_eq(ms_site_rejections(a.id, r, 16), 0);
	const char *one[] = { "[7] 10.1.4.0/24", NULL };
	cr_assert_eq(tl_register(&x, one, "198.51.100.9", 1, "a-key", "127.0.0.5"), 0);
	const char *other[] = { "[7] 10.1.5.0/24", "[7] 10.2.5.0/24", NULL };
	tl_register(&x, other, "192.0.2.1", 1, "a-key", "127.0.0.6");
	cr_assert_eq(tl_register(&x, one, "192.0.2.1", 1, "nope", "::1"), 0);

	size_t n = ms_site_rejections(a.id, r, 16);
	cr_assert_eq(n, 3);
	cr_assert_eq(r[0].reason, LISPMS_S_REJ_BAD_HMAC);
	cr_assert_eq(r[0].key_id, 1);
	cr_assert_eq(r[0].src.ss_family, AF_INET6);
	cr_assert(r[0].has_eid && eid_prefix_equal(&r[0].eid, &(struct eid_prefix){ 0 }) == false);
	struct eid_prefix want = tl_eid("[7] 10.2.5.0/24");
	cr_assert_eq(r[1].reason, LISPMS_S_REJ_PREFIX);
	cr_assert(eid_prefix_equal(&r[1].eid, &want));
	cr_assert_eq(r[2].reason, LISPMS_S_REJ_LOCATOR);
	char rl[64], src[64];
	lisp_addr_format(&r[2].rloc, rl, sizeof(rl));
	saddr_format(&r[2].src, src, sizeof(src));
	cr_assert_str_eq(rl, "198.51.100.9");
	cr_assert_str_eq(src, "127.0.0.5:4342");
	cr_assert_gt(r[2].time_ns, 1600000000ull * LISPMS_NS_PER_SEC, "wall-clock time");

	/* only the last 16 stay */
	for (int i = 0; i < 40; i++)
		tl_register(&x, one, "192.0.2.1", 1, "nope", "127.0.0.7");
	n = ms_site_rejections(a.id, r, 16);
	cr_assert_eq(n, 16);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(r[i].reason, LISPMS_S_REJ_BAD_HMAC);
	cr_assert_eq(ms_site_rejections(a.id, r, 4), 4, "bounded by the caller too");
}

Test(site, lookup_says_what_a_request_gets_and_why)
{
	const char *a[] = { "[7] 10.1.1.0/24", NULL };
	cr_assert_eq(tl_register(&x, a, "192.0.2.1", 1, "a-key", "127.0.0.1"), 1);
	const char *b[] = { "[7] 10.2.0.0/16", NULL };
	cr_assert_eq(tl_register(&x, b, "127.0.0.1", 2, "b-key", "127.0.0.1"), 1);
	struct ms_lookup l;
	char buf[64];
	lrcu_read_lock();

	struct eid_prefix e = tl_eid("[7] 10.1.1.9");
	ms_lookup(x.ms, &e, &l);
	cr_assert_eq(l.answer, MS_ANSWER_FORWARD);
	cr_assert_str_eq(l.site, "alpha");
	cr_assert_not_null(l.rloc);
	lisp_addr_format(&l.rloc->addr, buf, sizeof(buf));
	cr_assert_str_eq(buf, "192.0.2.1");
	eid_prefix_format(&l.prefix, buf, sizeof(buf));
	cr_assert_str_eq(buf, "[7] 10.1.1.0/24");
	cr_assert(l.configured);

	e = tl_eid("[7] 10.2.9.9");
	ms_lookup(x.ms, &e, &l);
	cr_assert_eq(l.answer, MS_ANSWER_PROXY);
	cr_assert(l.proxy_by_site);

	e = tl_eid("[7] 10.1.200.1");
	ms_lookup(x.ms, &e, &l);
	cr_assert_eq(l.answer, MS_ANSWER_NEG_CONFIGURED);
	cr_assert_eq(l.ttl, 1);
	eid_prefix_format(&l.prefix, buf, sizeof(buf));
	cr_assert_str_eq(buf, "[7] 10.1.128.0/17");
	eid_prefix_format(&l.site_prefix, buf, sizeof(buf));
	cr_assert_str_eq(buf, "[7] 10.1.0.0/16");
	cr_assert_str_eq(l.site, "alpha");

	e = tl_eid("[7] 10.3.0.1");
	ms_lookup(x.ms, &e, &l);
	cr_assert_eq(l.answer, MS_ANSWER_NEG_UNKNOWN);
	cr_assert_eq(l.ttl, 15);
	cr_assert_null(l.site);
	cr_assert(!l.configured);
	lrcu_read_unlock();
}
