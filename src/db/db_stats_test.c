/* SPDX-License-Identifier: MIT */
/* Per-instance totals and the run-time registration timeout. */
#include <stdlib.h>

#include <criterion/criterion.h>

#include <lispms/db.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#define S(x) ((uint64_t)(x)*LISPMS_NS_PER_SEC)

static struct db *db;

static void setup(void)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	db = db_new(&(struct db_config){ .reg_timeout_s = 60 });
	cr_assert_not_null(db);
}

static void teardown(void)
{
	db_free(db);
	thread_unregister();
}

TestSuite(dbstats, .init = setup, .fini = teardown);

static int reg(const char *text, uint8_t owner, uint64_t now)
{
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse(text, &p), LISPMS_EOK, "%s", text);
	struct db_locator l = { .priority = 1, .weight = 1 };
	lisp_addr_parse("192.0.2.1", &l.addr);
	struct db_reg_info r = { .locs = &l, .nlocs = 1, .ttl = 10 };
	lisp_addr_parse("198.51.100.1", &r.owner.rloc);
	r.owner.rloc.bytes[3] = owner;
	return db_register(db, &p, &r, now, NULL);
}

Test(dbstats, instances_are_counted_per_family_and_sorted)
{
	cr_assert_eq(reg("[20] 10.0.0.1/32", 1, S(1)), DB_STORED);
	cr_assert_eq(reg("[20] 10.0.0.2/32", 1, S(1)), DB_STORED);
	cr_assert_eq(reg("[20] 10.0.0.2/32", 2, S(1)), DB_STORED); /* second registrant */
	cr_assert_eq(reg("[20] 2001:db8::/64", 1, S(1)), DB_STORED);
	cr_assert_eq(reg("[3] 00:11:22:33:44:55/48", 1, S(1)), DB_STORED);
	struct db_iid_stats *st;
	size_t n = db_iid_stats_get(db, &st);
	cr_assert_eq(n, 2);
	cr_assert_eq(st[0].iid, 3);
	cr_assert_eq(st[0].prefixes[2], 1);
	cr_assert_eq(st[0].prefixes[0] + st[0].prefixes[1], 0);
	cr_assert_eq(st[1].iid, 20);
	cr_assert_eq(st[1].prefixes[0], 2);
	cr_assert_eq(st[1].prefixes[1], 1);
	cr_assert_eq(st[1].registrations, 4);
	cr_assert_eq(db_family_afi(0), LISP_AFI_IPV4);
	cr_assert_eq(db_family_afi(2), LISP_AFI_MAC);
	free(st);

	/* expiry takes them out of the counts */
	db_expire_run(db, S(62), NULL);
	n = db_iid_stats_get(db, &st);
	cr_assert_eq(n, 2);
	cr_assert_eq(st[1].prefixes[0] + st[1].prefixes[1] + st[0].prefixes[2], 0);
	cr_assert_eq(st[1].registrations, 0);
	free(st);
}

Test(dbstats, a_new_timeout_applies_to_the_next_registration)
{
	cr_assert_eq(reg("[1] 10.0.0.1/32", 1, S(1)), DB_STORED);
	db_set_timeout(db, 600);
	cr_assert_eq(reg("[1] 10.0.0.2/32", 1, S(1)), DB_STORED);
	cr_assert_eq(db_expire_run(db, S(100), NULL), 1, "the old one keeps its 60 s");
	struct eid_prefix p;
	eid_prefix_parse("[1] 10.0.0.2/32", &p);
	lrcu_read_lock();
	cr_assert_not_null(db_lookup_exact(db, &p), "the new one lives 600 s");
	lrcu_read_unlock();
	cr_assert_eq(db_expire_run(db, S(602), NULL), 1);
}
