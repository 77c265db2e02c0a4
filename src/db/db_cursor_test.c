/* SPDX-License-Identifier: MIT */
/*
 * db_walk_after(): resuming anywhere gives exactly the rest of a full walk.
 * db_walk_step(): bounded steps over a set of roots, resuming after the last
 * prefix seen while the database changes between steps.
 */
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

/* ------------------------------------------------------------ db_walk_step */

/* db_walk() order within one family, bit by bit: the first bit that differs
   decides (0 first); a prefix comes before those it covers. */
static int walk_cmp(const struct eid_prefix *x, const struct eid_prefix *y)
{
	unsigned n = x->plen < y->plen ? x->plen : y->plen;
	for (unsigned i = 0; i < n; i++) {
		bool bx = eid_prefix_bit(x, i), by = eid_prefix_bit(y, i);
		if (bx != by)
			return by ? -1 : 1;
	}
	return (int)x->plen - (int)y->plen;
}

struct stepped {
	struct seq seen;
	unsigned in_step; /* fn calls in the current step */
	int stop_at;	  /* return LISPMS_ELIMIT for this call number (0: never) */
	int pause_at;	  /* return DB_WALK_PAUSE for this call number (0: never) */
	unsigned calls;
};

static int step_fn(const struct eid_prefix *p, const struct db_mapping *m, const struct db_entry *e,
		   void *arg)
{
	struct stepped *s = arg;
	s->in_step++;
	s->calls++;
	if (s->stop_at && s->calls == (unsigned)s->stop_at)
		return LISPMS_ELIMIT;
	collect(p, m, e, &s->seen);
	if (s->pause_at && s->calls == (unsigned)s->pause_at)
		return DB_WALK_PAUSE;
	return 0;
}

/* Step to the end with the given limit; returns the number of steps. */
static unsigned walk_all(struct db_walk_cursor *c, unsigned limit, struct stepped *s)
{
	unsigned steps = 0;
	for (;;) {
		s->in_step = 0;
		int ret = db_walk_step(db, c, limit, step_fn, s);
		cr_assert_leq(s->in_step, limit, "a step visited %u > %u", s->in_step, limit);
		steps++;
		cr_assert_lt(steps, 10000);
		if (ret == 0)
			return steps;
		cr_assert_eq(ret, 1);
	}
}

Test(cursor, steps_give_the_whole_walk_of_every_root_once)
{
	fill(400, 11);
	static struct seq full;
	struct eid_prefix r4 = root_of(LISP_AFI_IPV4), r6 = root_of(LISP_AFI_IPV6);
	lrcu_read_lock();
	cr_assert_eq(db_walk_after(db, &r4, NULL, collect, &full), 0);
	cr_assert_eq(db_walk_after(db, &r6, NULL, collect, &full), 0);
	lrcu_read_unlock();
	unsigned limits[] = { 1, 7, 64, 10000 };
	for (unsigned k = 0; k < 4; k++) {
		struct db_walk_cursor c = { 0 };
		/* added out of order and overlapping: sorted, each prefix once */
		struct eid_prefix inner;
		eid_prefix_parse("[7] 10.128.0.0/9", &inner);
		cr_assert_eq(db_walk_cursor_add(&c, &r6), LISPMS_EOK);
		cr_assert_eq(db_walk_cursor_add(&c, &inner), LISPMS_EOK);
		cr_assert_eq(db_walk_cursor_add(&c, &r4), LISPMS_EOK);
		static struct stepped s;
		memset(&s, 0, sizeof(s));
		unsigned steps = walk_all(&c, limits[k], &s);
		cr_assert_eq(s.seen.n, full.n, "limit %u: %u of %u", limits[k], s.seen.n, full.n);
		for (unsigned j = 0; j < full.n; j++)
			cr_assert(eid_prefix_equal(&s.seen.p[j], &full.p[j]));
		/* the limit cuts: at least n/limit steps, and no step is wasted */
		cr_assert_geq(steps, full.n / limits[k]);
		cr_assert_leq(steps, full.n / limits[k] + 3);
		cr_assert_eq(db_walk_cursor_add(&c, &r4), LISPMS_EINVAL,
			     "roots are fixed once walked");
		db_walk_cursor_free(&c);
		cr_assert_null(c.roots);
	}
}

static bool in_seq(const struct seq *s, const struct eid_prefix *p)
{
	for (unsigned i = 0; i < s->n; i++)
		if (eid_prefix_equal(&s->p[i], p))
			return true;
	return false;
}

/* A random prefix under 10.0.0.0/8 (instance 7), as fill() makes them. */
static struct eid_prefix random_v4(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	struct eid_prefix p = { .iid = 7, .afi = LISP_AFI_IPV4 };
	p.plen = (uint8_t)(8 + (*seed >> 40) % 25);
	p.bytes[0] = 10;
	memcpy(p.bytes + 1, seed, 3);
	eid_prefix_normalize(&p);
	return p;
}

Test(cursor, inserts_and_deletes_between_steps)
{
	fill(300, 5);
	struct eid_prefix root = root_of(LISP_AFI_IPV4);
	static struct seq before, removed, added_ahead;
	lrcu_read_lock();
	cr_assert_eq(db_walk_after(db, &root, NULL, collect, &before), 0);
	lrcu_read_unlock();
	struct db_walk_cursor c = { 0 };
	cr_assert_eq(db_walk_cursor_add(&c, &root), LISPMS_EOK);
	static struct stepped s;
	struct db_owner o = { 0 };
	lisp_addr_parse("198.51.100.1", &o.rloc);
	uint64_t seed = 99;
	unsigned steps = 0, cursor_removed = 0;
	for (;;) {
		s.in_step = 0;
		int ret = db_walk_step(db, &c, 5, step_fn, &s);
		cr_assert_leq(s.in_step, 5);
		if (ret == 0)
			break;
		cr_assert_eq(ret, 1);
		cr_assert_lt(++steps, 1000);
		/* between steps: remove the cursor's own prefix now and then, a
		   random stored one, and add two random ones */
		if (steps % 5 == 0 && s.seen.n > 0) {
			const struct eid_prefix *last = &s.seen.p[s.seen.n - 1];
			if (db_withdraw(db, last, &o, NULL) == DB_WITHDRAWN)
				cursor_removed++;
		}
		struct eid_prefix x = before.p[(seed >> 20) % before.n];
		seed = seed * 6364136223846793005ull + 1;
		if (!in_seq(&s.seen, &x) && db_withdraw(db, &x, &o, NULL) == DB_WITHDRAWN &&
		    !in_seq(&removed, &x))
			removed.p[removed.n++] = x;
		for (int k = 0; k < 2; k++) {
			struct eid_prefix y = random_v4(&seed);
			lrcu_read_lock();
			bool had = db_lookup_exact(db, &y) != NULL;
			lrcu_read_unlock();
			if (had || in_seq(&removed, &y))
				continue;
			reg(&y, 1);
			bool ahead = s.seen.n == 0 || walk_cmp(&y, &s.seen.p[s.seen.n - 1]) > 0;
			if (ahead && !in_seq(&added_ahead, &y))
				added_ahead.p[added_ahead.n++] = y;
		}
	}
	cr_assert_gt(cursor_removed, 3);
	cr_assert_gt(removed.n, 10);
	cr_assert_gt(added_ahead.n, 10);
	/* in walk order, nothing twice */
	for (unsigned j = 1; j < s.seen.n; j++)
		cr_assert_lt(walk_cmp(&s.seen.p[j - 1], &s.seen.p[j]), 0, "visit %u out of order",
			     j);
	/* everything present throughout visited; nothing removed before its visit */
	for (unsigned j = 0; j < before.n; j++)
		cr_assert_eq(in_seq(&s.seen, &before.p[j]), !in_seq(&removed, &before.p[j]));
	/* everything added ahead of the cursor visited (none was removed again) */
	for (unsigned j = 0; j < added_ahead.n; j++)
		cr_assert(in_seq(&s.seen, &added_ahead.p[j]), "added ahead, not visited: %u", j);
	db_walk_cursor_free(&c);
}

Test(cursor, roots_are_walked_per_instance)
{
	struct eid_prefix a7, a8, b8, r7, r8, r9, r8v6;
	eid_prefix_parse("[7] 10.1.0.0/16", &a7);
	eid_prefix_parse("[8] 10.1.0.0/16", &a8);
	eid_prefix_parse("[8] 10.2.0.0/16", &b8);
	reg(&a7, 1);
	reg(&a8, 1);
	reg(&b8, 1);
	eid_prefix_parse("[8] 0.0.0.0/0", &r8);
	eid_prefix_parse("[7] 10.0.0.0/8", &r7);
	eid_prefix_parse("[9] 0.0.0.0/0", &r9); /* an instance never used */
	eid_prefix_parse("[8] ::/0", &r8v6);	/* a family with nothing in it */
	struct db_walk_cursor c = { 0 };
	db_walk_cursor_add(&c, &r9);
	db_walk_cursor_add(&c, &r8);
	db_walk_cursor_add(&c, &r8v6);
	db_walk_cursor_add(&c, &r7);
	static struct stepped s;
	walk_all(&c, 1, &s);
	cr_assert_eq(s.seen.n, 3);
	cr_assert(eid_prefix_equal(&s.seen.p[0], &a7));
	cr_assert(eid_prefix_equal(&s.seen.p[1], &a8));
	cr_assert(eid_prefix_equal(&s.seen.p[2], &b8));
	db_walk_cursor_free(&c);
}

Test(cursor, an_empty_instance_or_no_root_ends_at_once)
{
	struct eid_prefix a, empty;
	eid_prefix_parse("[7] 10.1.0.0/16", &a);
	reg(&a, 1);
	eid_prefix_parse("[1000] 10.0.0.0/8", &empty);
	static struct stepped s;
	struct db_walk_cursor c = { 0 };
	cr_assert_eq(db_walk_step(db, &c, 10, step_fn, &s), 0, "no root");
	db_walk_cursor_free(&c);
	cr_assert_eq(db_walk_cursor_add(&c, &empty), LISPMS_EOK);
	cr_assert_eq(db_walk_step(db, &c, 10, step_fn, &s), 0);
	cr_assert_eq(s.calls, 0);
	db_walk_cursor_free(&c);
}

Test(cursor, a_step_begins_at_most_limit_roots)
{
	struct db_walk_cursor c = { 0 };
	for (uint32_t i = 0; i < 10; i++) {
		struct eid_prefix r = { .iid = 100 + i, .afi = LISP_AFI_IPV4 };
		db_walk_cursor_add(&c, &r);
	}
	static struct stepped s;
	cr_assert_eq(db_walk_step(db, &c, 4, step_fn, &s), 1);
	cr_assert_eq(db_walk_step(db, &c, 4, step_fn, &s), 1);
	cr_assert_eq(db_walk_step(db, &c, 4, step_fn, &s), 0);
	cr_assert_eq(db_walk_step(db, &c, 0, step_fn, &s), LISPMS_EINVAL);
	db_walk_cursor_free(&c);
}

Test(cursor, fn_pauses_a_step_or_stops_before_a_prefix)
{
	fill(60, 3);
	static struct seq full;
	struct eid_prefix root = root_of(LISP_AFI_IPV4);
	lrcu_read_lock();
	cr_assert_eq(db_walk_after(db, &root, NULL, collect, &full), 0);
	lrcu_read_unlock();
	cr_assert_gt(full.n, 10);
	struct db_walk_cursor c = { 0 };
	db_walk_cursor_add(&c, &root);
	static struct stepped s;
	s.pause_at = 3;
	s.stop_at = 6;
	cr_assert_eq(db_walk_step(db, &c, 100, step_fn, &s), 1, "paused after the third");
	cr_assert_eq(s.seen.n, 3);
	cr_assert_eq(db_walk_step(db, &c, 100, step_fn, &s), LISPMS_ELIMIT);
	cr_assert_eq(s.seen.n, 5, "stopped before the sixth");
	/* going on visits the sixth again, then the rest */
	cr_assert_eq(db_walk_step(db, &c, 1000, step_fn, &s), 0);
	cr_assert_eq(s.seen.n, full.n);
	for (unsigned j = 0; j < full.n; j++)
		cr_assert(eid_prefix_equal(&s.seen.p[j], &full.p[j]));
	db_walk_cursor_free(&c);
}
