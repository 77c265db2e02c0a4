/* SPDX-License-Identifier: MIT */
/* db_walk_after(): resuming anywhere gives exactly the rest of a full walk. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/db.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#define MAXP 600

static struct db *db;

static void setup(void)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	db = db_new(NULL);
	cr_assert_not_null(db);
}

static void teardown(void)
{
	db_free(db);
	thread_unregister();
}

TestSuite(cursor, .init = setup, .fini = teardown);

struct seq {
	struct eid_prefix p[MAXP];
	unsigned n;
	unsigned budget; /* stop after this many (0: never) */
};

static int collect(const struct eid_prefix *p, const struct db_mapping *m, const struct db_entry *e,
		   void *arg)
{
	(void)m;
	(void)e;
	struct seq *s = arg;
	cr_assert_lt(s->n, MAXP);
	s->p[s->n++] = *p;
	return s->budget && s->n % s->budget == 0 ? 1 : 0;
}

static void reg(const struct eid_prefix *p, uint8_t owner)
{
	struct db_locator l = { .priority = 1, .weight = 1 };
	lisp_addr_parse("192.0.2.1", &l.addr);
	struct db_reg_info r = { .locs = &l, .nlocs = 1, .ttl = 10 };
	lisp_addr_parse("198.51.100.1", &r.owner.rloc);
	r.owner.rloc.bytes[3] = owner;
	int ret = db_register(db, p, &r, LISPMS_NS_PER_SEC, NULL);
	cr_assert(ret >= 0);
}

/* Random prefixes of every length under 10.0.0.0/8 and 2001:db8::/32, instance 7. */
static unsigned fill(unsigned n, uint64_t seed)
{
	unsigned stored = 0;
	for (unsigned i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		struct eid_prefix p = { .iid = 7 };
		if (i % 3 == 2) {
			p.afi = LISP_AFI_IPV6;
			p.plen = (uint8_t)(32 + (seed >> 33) % 97);
			memcpy(p.bytes, "\x20\x01\x0d\xb8", 4);
			memcpy(p.bytes + 4, &seed, 8);
		} else {
			p.afi = LISP_AFI_IPV4;
			p.plen = (uint8_t)(8 + (seed >> 40) % 25);
			p.bytes[0] = 10;
			memcpy(p.bytes + 1, &seed, 3);
		}
		eid_prefix_normalize(&p);
		reg(&p, 1);
		stored++;
	}
	return stored;
}

static struct eid_prefix root_of(uint16_t afi)
{
	struct eid_prefix r = { .iid = 7, .afi = afi };
	return r;
}

Test(cursor, resuming_after_any_prefix_gives_the_rest_of_the_walk)
{
	fill(400, 42);
	static const uint16_t afis[] = { LISP_AFI_IPV4, LISP_AFI_IPV6 };
	for (unsigned a = 0; a < 2; a++) {
		struct eid_prefix root = root_of(afis[a]);
		static struct seq full, rest;
		full.n = 0;
		full.budget = 0;
		lrcu_read_lock();
		cr_assert_eq(db_walk_after(db, &root, NULL, collect, &full), 0);
		cr_assert_gt(full.n, 50);
		for (unsigned k = 0; k < full.n; k++) {
			rest.n = 0;
			rest.budget = 0;
			cr_assert_eq(db_walk_after(db, &root, &full.p[k], collect, &rest), 0);
			cr_assert_eq(rest.n, full.n - k - 1, "after %u of %u: %u left", k, full.n,
				     rest.n);
			for (unsigned j = 0; j < rest.n; j++)
				cr_assert(eid_prefix_equal(&rest.p[j], &full.p[k + 1 + j]));
		}
		lrcu_read_unlock();
	}
}

Test(cursor, stepped_walk_under_a_root_visits_everything_once)
{
	fill(300, 7);
	struct eid_prefix root;
	cr_assert_eq(eid_prefix_parse("[7] 10.128.0.0/9", &root), LISPMS_EOK);
	static struct seq full, steps;
	lrcu_read_lock();
	cr_assert_eq(db_walk_after(db, &root, NULL, collect, &full), 0);
	lrcu_read_unlock();
	steps.budget = 7;
	const struct eid_prefix *after = NULL;
	struct eid_prefix last;
	for (;;) {
		unsigned before = steps.n;
		lrcu_read_lock(); /* one short read-side section per step */
		int ret = db_walk_after(db, &root, after, collect, &steps);
		lrcu_read_unlock();
		if (steps.n > before) {
			last = steps.p[steps.n - 1];
			after = &last;
		}
		if (ret == 0)
			break;
	}
	cr_assert_eq(steps.n, full.n);
	for (unsigned j = 0; j < full.n; j++)
		cr_assert(eid_prefix_equal(&steps.p[j], &full.p[j]));
}

Test(cursor, a_cursor_outside_the_root_is_refused)
{
	struct eid_prefix root, out;
	eid_prefix_parse("[7] 10.0.0.0/8", &root);
	eid_prefix_parse("[7] 11.0.0.0/8", &out);
	lrcu_read_lock();
	cr_assert_eq(db_walk_after(db, &root, &out, collect, &(struct seq){ 0 }), LISPMS_EINVAL);
	lrcu_read_unlock();
}

Test(cursor, a_removed_cursor_still_resumes_in_order)
{
	struct eid_prefix a, b, c, root = root_of(LISP_AFI_IPV4);
	eid_prefix_parse("[7] 10.1.0.0/16", &a);
	eid_prefix_parse("[7] 10.1.2.0/24", &b);
	eid_prefix_parse("[7] 10.200.0.0/16", &c);
	reg(&a, 1);
	reg(&b, 1);
	reg(&c, 1);
	struct db_owner o = { 0 };
	lisp_addr_parse("198.51.100.1", &o.rloc);
	cr_assert_eq(db_withdraw(db, &a, &o, NULL), DB_WITHDRAWN);
	static struct seq rest;
	lrcu_read_lock();
	cr_assert_eq(db_walk_after(db, &root, &a, collect, &rest), 0);
	lrcu_read_unlock();
	cr_assert_eq(rest.n, 2);
	cr_assert(eid_prefix_equal(&rest.p[0], &b));
	cr_assert(eid_prefix_equal(&rest.p[1], &c));
}
