/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's referral cache (mr_cache.c: longest match per
 * instance, TTLs, the sweep, the LRU bound), its views and configuration.
 */
#include <stdio.h>
#include <string.h>

#include "mr_testlib.h"

TestSuite(mr_cache, .init = setup, .fini = teardown);

Test(mr_cache, cache_longest_prefix_match_per_instance)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[1] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 10, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	e = ent("[1] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 10, "10.9.9.2");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	e = ent("[2] 10.1.2.0/24", LISP_REF_MS_REFERRAL, 10, "10.9.9.3");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_cache_entry out;
	struct eid_prefix q = P("[1] 10.1.2.3/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 16, "the /16, not the other instance's /24");
	cr_assert_eq(out.act, LISP_REF_MS_REFERRAL);
	q = P("[1] 10.2.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 8);
	q = P("[3] 10.1.2.3/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT, "no such instance");
	q = P("[1] 11.0.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT);
	q = P("[1] 2001:db8::1/128");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT, "other family");
	mr_free(m);
}

Test(mr_cache, cache_ttl_expiry)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[1] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 2, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	e = ent("[1] 10.1.0.0/16", LISP_REF_MS_REFERRAL, 1, "10.9.9.2");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_cache_entry out;
	struct eid_prefix q = P("[1] 10.1.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 59999, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 16);
	cr_assert_eq(mr_cache_lookup(m, &q, 60000, &out), LISPMS_EOK);
	cr_assert_eq(out.prefix.plen, 8, "the /16 expired after its minute: the /8 covers");
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_EXPIRED), 1);
	cr_assert_eq(mr_cache_count(m), 1);
	struct mr_action acts[4];
	cr_assert_eq(mr_tick(m, 120000, acts, 4), 0);
	cr_assert_eq(mr_cache_count(m), 0, "the sweep removes the /8 at its TTL");
	cr_assert_eq(mr_cache_lookup(m, &q, 120000, &out), LISPMS_ENOENT);
	mr_free(m);
}

/* The sweep walks the whole cache: it runs on its own clock, not at every
 * tick (every wake-up of the resolver thread calls mr_tick). */
Test(mr_cache, the_cache_is_swept_once_a_second_not_at_every_tick)
{
	struct mr_config c = cfg();
	struct mr *m = mk(&c);
	struct mr_cache_entry e = ent("[1] 10.0.0.0/8", LISP_REF_NODE_REFERRAL, 1, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	struct mr_action acts[4];
	cr_assert_eq(mr_tick(m, 59500, acts, 4), 0); /* sweeps: nothing expired yet */
	cr_assert_eq(mr_tick(m, 60100, acts, 4), 0);
	cr_assert_eq(mr_cache_count(m), 1, "expired at 60000, but the last sweep was 600 ms ago");
	cr_assert_eq(mr_tick(m, 60500, acts, 4), 0);
	cr_assert_eq(mr_cache_count(m), 0,
		     "a second after the last sweep, the next one removes it");
	mr_free(m);
}

Test(mr_cache, cache_bound_evicts_least_recently_used)
{
	struct mr_config c = cfg();
	c.cache_max = 3;
	struct mr *m = mk(&c);
	const char *pfx[] = { "[0] 10.1.0.0/16", "[0] 10.2.0.0/16", "[0] 10.3.0.0/16",
			      "[0] 10.4.0.0/16" };
	for (unsigned i = 0; i < 3; i++) {
		struct mr_cache_entry e = ent(pfx[i], LISP_REF_MS_REFERRAL, 10, "10.9.9.1");
		cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	}
	struct mr_cache_entry out;
	struct eid_prefix q = P("[0] 10.1.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK, "touch the oldest");
	struct mr_cache_entry e = ent(pfx[3], LISP_REF_MS_REFERRAL, 10, "10.9.9.1");
	cr_assert_eq(mr_cache_put(m, &e, 1), LISPMS_EOK);
	cr_assert_eq(mr_cache_count(m), 3, "bounded");
	cr_assert_eq(mr_stat(m, MR_ST_CACHE_EVICT), 1);
	q = P("[0] 10.2.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_ENOENT, "the LRU one went");
	q = P("[0] 10.1.0.1/32");
	cr_assert_eq(mr_cache_lookup(m, &q, 1, &out), LISPMS_EOK);
	/* Many more than the bound, across instances: still bounded. */
	for (unsigned i = 0; i < 200; i++) {
		char t[48];
		snprintf(t, sizeof(t), "[%u] 10.%u.0.0/16", i % 7, i % 250);
		e = ent(t, LISP_REF_NODE_REFERRAL, 10, "10.9.9.1");
		cr_assert_eq(mr_cache_put(m, &e, 2), LISPMS_EOK);
		cr_assert_leq(mr_cache_count(m), 3);
	}
	mr_free(m);
}

static bool count_to_ten(const struct mr_cache_entry *e, void *arg)
{
	(void)e;
	return ++*(unsigned *)arg < 10;
}

static bool count_to_five(const struct mr_pending_info *p, void *arg)
{
	(void)p;
	return ++*(unsigned *)arg < 5;
}

/* A view stops where its caller says (lispmsctl shows 1,000 rows at most). */
Test(mr_cache, views_stop_at_the_callers_cap)
{
	struct mr_config c = cfg();
	c.cache_max = 5000;
	struct mr *m = mk(&c);
	for (unsigned i = 0; i < 3000; i++) {
		char pfx[48];
		snprintf(pfx, sizeof(pfx), "[5] 10.%u.%u.0/24", i / 256, i % 256);
		struct mr_cache_entry e = ent(pfx, LISP_REF_DELEGATION_HOLE, 10, NULL);
		cr_assert_eq(mr_cache_put(m, &e, 0), LISPMS_EOK);
	}
	cr_assert_eq(mr_cache_count(m), 3000);
	unsigned n = 0;
	mr_cache_foreach(m, count_to_ten, &n);
	cr_assert_eq(n, 10, "the walk stopped after 10 of 3000 entries (%u)", n);
	struct mr_action a;
	for (uint64_t i = 0; i < 12; i++)
		request(m, "[6] 10.1.2.3/32", 100 + i, 0, &a);
	n = 0;
	mr_pending_foreach(m, count_to_five, &n);
	cr_assert_eq(n, 5, "the walk stopped after 5 of 12 requests (%u)", n);
	mr_free(m);
}

Test(mr_cache, config_checked)
{
	struct mr_config c = cfg();
	struct mr *m = NULL;
	c.nroots = 0;
	cr_assert_eq(mr_new(&c, &m), LISPMS_EINVAL);
	c = cfg();
	c.pending_max = 0;
	cr_assert_eq(mr_new(&c, &m), LISPMS_EINVAL);
	c = cfg();
	c.cache_max = 0;
	cr_assert_eq(mr_new(&c, &m), LISPMS_EINVAL);
	for (unsigned s = 0; s < MR_ST_MAX; s++)
		cr_assert_neq(mr_stat_name(s), NULL);
}

Test(mr_cache, config_from_the_map_resolver_section)
{
	const char *yaml =
	    "map-resolver: {roots: [10.0.0.1, 10.0.0.2], listen: [127.0.0.1], max-depth: 3}\n";
	struct conf *c = NULL;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_EOK, "%s",
		     err.msg);
	struct mr_config mc;
	cr_assert_eq(mr_config_from_conf(conf_map_resolver(c), &mc), LISPMS_EOK);
	cr_assert_eq(mc.nroots, 2);
	struct lisp_addr r2 = A("10.0.0.2");
	cr_assert(lisp_addr_equal(&mc.roots[1], &r2));
	cr_assert_eq(mc.max_depth, 3);
	cr_assert_eq(mc.pending_max, 1024);
	struct mr *m = mk(&mc);
	struct mr_action a;
	request(m, "[5] 10.1.2.3/32", 1, 0, &a);
	assert_send(&a, "10.0.0.1");
	mr_free(m);
	conf_free(c);
}

/* The roots of a family the resolver has no socket for are left out
 * (map-resolver.listen decides the families); none left is an error. */
Test(mr_cache, config_keeps_the_roots_of_the_families_it_listens_on)
{
	const char *yaml = "map-resolver: {roots: [\"fd00::1\", 10.0.0.2], listen: [127.0.0.1]}\n";
	struct conf *c = NULL;
	struct conf_error err;
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_EOK, "%s",
		     err.msg);
	struct mr_config mc;
	cr_assert_eq(mr_config_from_conf(conf_map_resolver(c), &mc), LISPMS_EOK);
	cr_assert_eq(mc.families, MR_FAM_IPV4);
	cr_assert_eq(mc.nroots, 1, "the IPv6 root is left out (%u)", mc.nroots);
	struct lisp_addr r = A("10.0.0.2");
	cr_assert(lisp_addr_equal(&mc.roots[0], &r));
	conf_free(c);

	yaml = "map-resolver: {roots: [\"fd00::1\"], listen: [127.0.0.1]}\n";
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_EOK, "%s",
		     err.msg);
	cr_assert_eq(mr_config_from_conf(conf_map_resolver(c), &mc), LISPMS_EAFI,
		     "no root it can reach");
	conf_free(c);

	yaml = "map-resolver: {roots: [\"fd00::1\", 10.0.0.2], listen: [127.0.0.1, \"::1\"]}\n";
	cr_assert_eq(conf_load_buf("t.yaml", yaml, strlen(yaml), NULL, &c, &err), LISPMS_EOK, "%s",
		     err.msg);
	cr_assert_eq(mr_config_from_conf(conf_map_resolver(c), &mc), LISPMS_EOK);
	cr_assert_eq(mc.families, MR_FAM_IPV4 | MR_FAM_IPV6);
	cr_assert_eq(mc.nroots, 2);
	conf_free(c);
}
