/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/db.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#define S(x) ((uint64_t)(x)*LISPMS_NS_PER_SEC)
#define T0   S(1000)

static struct db *db;
static struct db_event_list evl;
static struct db_sink sink = { db_event_list_add, &evl };

static void setup(void)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	db = db_new(&(struct db_config){ .reg_timeout_s = 180 });
	cr_assert_not_null(db);
	db_event_list_init(&evl);
}

static void teardown(void)
{
	db_event_list_clear(&evl);
	db_free(db);
	thread_unregister();
}

TestSuite(db, .init = setup, .fini = teardown);

static struct eid_prefix pfx(const char *text)
{
	struct eid_prefix p;
	cr_assert_eq(eid_prefix_parse(text, &p), LISPMS_EOK, "%s", text);
	return p;
}

static struct db_locator loc(const char *addr, uint8_t prio)
{
	struct db_locator l = { .priority = prio, .weight = 50, .flags = DB_LOC_R };
	cr_assert_eq(lisp_addr_parse(addr, &l.addr), LISPMS_EOK);
	return l;
}

static struct db_owner xtr(uint8_t id)
{
	struct db_owner o = { .has_xtr_id = true, .port = 4342 };
	o.xtr_id[15] = id;
	lisp_addr_parse("192.0.2.1", &o.rloc);
	o.rloc.bytes[3] = id;
	return o;
}

static struct db_locator locs_a[] = { { .priority = 1, .weight = 100 } };
static struct db_locator locs_b[2];

static void init_locs(void)
{
	locs_a[0] = loc("203.0.113.1", 1);
	locs_b[0] = loc("203.0.113.2", 1);
	locs_b[1] = loc("2001:db8::2", 2);
}

static int reg(const char *p, struct db_owner o, const struct db_locator *l, unsigned n,
	       uint16_t flags, uint64_t now)
{
	struct eid_prefix e = pfx(p);
	struct db_reg_info r = {
		.owner = o, .locs = l, .nlocs = n, .ttl = 1440, .flags = flags, .site = &sink
	};
	return db_register(db, &e, &r, now, &sink);
}

static const struct db_mapping *lpm(const char *eid, struct eid_prefix *matched)
{
	struct eid_prefix e = pfx(eid);
	return db_lookup(db, &e, matched);
}

static struct db_event *ev_at(size_t i)
{
	struct db_event_copy *c = evl.head;
	while (c != NULL && i-- > 0)
		c = c->next;
	cr_assert_not_null(c, "no event %zu", i);
	return &c->ev;
}

Test(db, register_then_lookup_and_added_event)
{
	init_locs();
	cr_assert_eq(reg("[7] 10.1.0.0/16", xtr(1), locs_a, 1, DB_F_PROXY, T0), DB_STORED);
	cr_assert_eq(evl.count, 1);
	struct db_event *ev = ev_at(0);
	cr_assert_eq(ev->type, DB_EV_ADDED);
	cr_assert_null(ev->old_map);
	cr_assert_eq(ev->new_map->locs->count, 1);
	cr_assert_eq(ev->prefix.iid, 7);
	cr_assert_eq(ev->prefix.plen, 16);
	cr_assert_eq(ev->cause.xtr_id[15], 1);

	lrcu_read_lock();
	struct eid_prefix m;
	const struct db_mapping *map = lpm("[7] 10.1.2.3", &m);
	cr_assert_not_null(map);
	cr_assert_eq(map->flags, DB_F_PROXY);
	cr_assert_eq(map->ttl, 1440);
	cr_assert_eq(map->site, &sink);
	cr_assert(lisp_addr_equal(&map->locs->loc[0].addr, &locs_a[0].addr));
	cr_assert_eq(m.plen, 16);
	cr_assert_eq(m.iid, 7);
	cr_assert_null(lpm("[8] 10.1.2.3", NULL), "other instance");
	cr_assert_null(lpm("[7] 10.2.2.3", NULL));
	cr_assert_null(lpm("[7] 2001:db8::1", NULL), "other family");
	struct eid_prefix exact = pfx("[7] 10.1.0.0/16");
	cr_assert_eq(db_lookup_exact(db, &exact), map);
	exact.plen = 17;
	cr_assert_null(db_lookup_exact(db, &exact));
	lrcu_read_unlock();
}

Test(db, identical_refresh_only_moves_expiry)
{
	init_locs();
	cr_assert_eq(reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0), DB_STORED);
	lrcu_read_lock();
	const struct db_mapping *before = lpm("10.1.0.1", NULL);
	lrcu_read_unlock();
	cr_assert_eq(reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0 + S(100)), DB_REFRESHED);
	cr_assert_eq(evl.count, 1, "a refresh reports nothing");
	lrcu_read_lock();
	cr_assert_eq(lpm("10.1.0.1", NULL), before, "mapping object untouched");
	lrcu_read_unlock();

	cr_assert_eq(db_expire_run(db, T0 + S(180), &sink), 0, "refreshed: not due at T0+180");
	cr_assert_eq(db_expire_run(db, T0 + S(279), &sink), 0);
	cr_assert_eq(db_expire_run(db, T0 + S(280), &sink), 1);
	cr_assert_eq(ev_at(1)->type, DB_EV_EXPIRED);
	lrcu_read_lock();
	cr_assert_null(lpm("10.1.0.1", NULL));
	lrcu_read_unlock();
}

Test(db, one_etr_many_eids_shares_one_locator_set)
{
	init_locs();
	char buf[64];
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "[3] 10.%d.%d.7/32", i / 256, i % 256);
		cr_assert_eq(reg(buf, xtr(9), locs_b, 2, 0, T0), DB_STORED);
	}
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.prefixes, 1000);
	cr_assert_eq(st.registrations, 1000);
	cr_assert_eq(st.mappings, 1, "one interned registration content");
	cr_assert_eq(st.locsets, 1, "one interned locator set");
	cr_assert_eq(st.instances, 1);
	cr_assert_lt(st.nodes, 1000);
}

Test(db, locator_change_by_same_owner)
{
	init_locs();
	reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0);
	cr_assert_eq(reg("10.1.0.0/16", xtr(1), locs_b, 2, 0, T0 + S(1)), DB_STORED);
	cr_assert_eq(evl.count, 2);
	struct db_event *ev = ev_at(1);
	cr_assert_eq(ev->type, DB_EV_CHANGED);
	cr_assert_eq(ev->changes & (DB_CH_OWNER | DB_CH_LOCATORS), DB_CH_LOCATORS);
	cr_assert_eq(ev->old_map->locs->count, 1);
	cr_assert_eq(ev->new_map->locs->count, 2);
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.registrations, 1, "replaced, not added");
	cr_assert_eq(st.locsets, 1, "the old set was released");
}

Test(db, newest_registrant_wins_and_older_returns)
{
	init_locs();
	reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0);
	reg("10.1.0.0/16", xtr(2), locs_b, 2, 0, T0 + S(1));
	struct db_event *ev = ev_at(1);
	cr_assert_eq(ev->type, DB_EV_CHANGED);
	cr_assert(ev->changes & DB_CH_OWNER);
	cr_assert_eq(ev->old_map->owner.xtr_id[15], 1, "displaced ETR");
	cr_assert_eq(ev->new_map->owner.xtr_id[15], 2);
	lrcu_read_lock();
	cr_assert_eq(lpm("10.1.9.9", NULL)->owner.xtr_id[15], 2);
	lrcu_read_unlock();

	/* the older one refreshing does not take the mapping back */
	cr_assert_eq(reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0 + S(2)), DB_REFRESHED);
	lrcu_read_lock();
	cr_assert_eq(lpm("10.1.9.9", NULL)->owner.xtr_id[15], 2);
	lrcu_read_unlock();

	struct eid_prefix p = pfx("10.1.0.0/16");
	struct db_owner o2 = xtr(2);
	cr_assert_eq(db_withdraw(db, &p, &o2, &sink), DB_WITHDRAWN);
	ev = ev_at(2);
	cr_assert_eq(ev->type, DB_EV_CHANGED);
	cr_assert_eq(ev->new_map->owner.xtr_id[15], 1);
	cr_assert_eq(ev->cause.xtr_id[15], 2);
	cr_assert_eq(db_withdraw(db, &p, &o2, &sink), LISPMS_ENOENT);

	/* record TTL 0 withdraws too (D8) */
	struct db_reg_info r = { .owner = xtr(1), .ttl = 0 };
	cr_assert_eq(db_register(db, &p, &r, T0 + S(3), &sink), DB_WITHDRAWN);
	cr_assert_eq(ev_at(3)->type, DB_EV_REMOVED);
	cr_assert_null(ev_at(3)->new_map);
	lrcu_read_lock();
	cr_assert_null(lpm("10.1.9.9", NULL));
	lrcu_read_unlock();
}

Test(db, owner_without_xtr_id_is_keyed_by_rloc)
{
	init_locs();
	struct db_owner a = xtr(1), b = xtr(1);
	a.has_xtr_id = b.has_xtr_id = false;
	b.rloc.bytes[3] = 77;
	reg("10.1.0.0/16", a, locs_a, 1, 0, T0);
	reg("10.1.0.0/16", b, locs_a, 1, 0, T0);
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.registrations, 2, "two RLOCs, two registrants");
	b = a;
	b.port = 5555; /* same registrant behind a new port: replaced, same rank */
	cr_assert_eq(reg("10.1.0.0/16", b, locs_a, 1, 0, T0), DB_STORED);
	db_stats_get(db, &st);
	cr_assert_eq(st.registrations, 2);
}

Test(db, merge_unites_locator_sets)
{
	init_locs();
	reg("[1] 10.1.0.0/16", xtr(1), locs_a, 1, DB_F_MERGE, T0);
	reg("[1] 10.1.0.0/16", xtr(2), locs_b, 2, DB_F_MERGE | DB_F_PROXY, T0);
	lrcu_read_lock();
	const struct db_mapping *m = lpm("[1] 10.1.1.1", NULL);
	cr_assert_not_null(m);
	cr_assert_eq(m->locs->count, 3, "union of 1 and 2 locators");
	cr_assert(m->flags & DB_F_MERGED);
	cr_assert(m->flags & DB_F_PROXY);
	lrcu_read_unlock();
	struct db_event *ev = ev_at(1);
	cr_assert_eq(ev->type, DB_EV_CHANGED);
	cr_assert(ev->new_map->flags & DB_F_MERGED);

	/* a registrant without merge: newest wins again */
	reg("[1] 10.1.0.0/16", xtr(3), locs_a, 1, 0, T0);
	lrcu_read_lock();
	m = lpm("[1] 10.1.1.1", NULL);
	cr_assert_eq(m->locs->count, 1);
	cr_assert_eq(m->owner.xtr_id[15], 3);
	lrcu_read_unlock();
}

static int count_reg(const struct db_mapping *m, uint64_t expires, void *arg)
{
	(void)m;
	(void)expires;
	(*(int *)arg)++;
	return 0;
}

static int find_entry_regs(const struct eid_prefix *p, const struct db_mapping *m,
			   const struct db_entry *e, void *arg)
{
	(void)p;
	(void)m;
	return db_entry_regs(e, count_reg, arg);
}

Test(db, merged_entry_lists_every_registration)
{
	init_locs();
	reg("[1] 10.1.0.0/16", xtr(1), locs_a, 1, DB_F_MERGE, T0);
	reg("[1] 10.1.0.0/16", xtr(2), locs_b, 2, DB_F_MERGE, T0);
	int n = 0;
	struct eid_prefix p = pfx("[1] 10.1.0.0/16");
	lrcu_read_lock();
	db_walk(db, DB_SCOPE_EXACT, &p, find_entry_regs, &n);
	lrcu_read_unlock();
	cr_assert_eq(n, 2);
}

Test(db, udp_registration_expires_after_timeout)
{
	init_locs();
	reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0);
	reg("10.2.0.0/16", xtr(1), locs_a, 1, DB_F_TTL, T0); /* T=1: 1440 minutes */
	cr_assert_eq(db_expire_run(db, T0 + S(179), &sink), 0);
	cr_assert_eq(db_expire_run(db, T0 + S(180), &sink), 1);
	struct db_event *ev = ev_at(2);
	cr_assert_eq(ev->type, DB_EV_EXPIRED);
	cr_assert_eq(ev->prefix.bytes[1], 1);
	cr_assert_eq(ev->old_map->owner.xtr_id[15], 1);
	cr_assert_eq(db_expire_run(db, T0 + S(1440 * 60 - 1), &sink), 0);
	cr_assert_eq(db_expire_run(db, T0 + S(1440 * 60), &sink), 1);
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.prefixes, 0);
	cr_assert_eq(st.mappings, 0, "everything released");
	cr_assert_eq(st.locsets, 0);
	cr_assert_eq(st.nodes, 0);
}

Test(db, expiry_of_one_registrant_recomputes_mapping)
{
	init_locs();
	reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0);
	reg("10.1.0.0/16", xtr(2), locs_b, 2, 0, T0 + S(100));
	cr_assert_eq(reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0 + S(150)), DB_REFRESHED);
	cr_assert_eq(db_expire_run(db, T0 + S(279), &sink), 0);
	cr_assert_eq(evl.count, 2);
	cr_assert_eq(db_expire_run(db, T0 + S(280), &sink), 1);
	struct db_event *ev = ev_at(2);
	cr_assert_eq(ev->type, DB_EV_CHANGED, "xtr 2 expired, xtr 1 is the mapping again");
	cr_assert_eq(ev->cause.xtr_id[15], 2);
	cr_assert_eq(ev->new_map->owner.xtr_id[15], 1);
	lrcu_read_lock();
	cr_assert_eq(lpm("10.1.0.1", NULL)->owner.xtr_id[15], 1);
	lrcu_read_unlock();
	cr_assert_eq(db_expire_run(db, T0 + S(330), &sink), 1);
	cr_assert_eq(ev_at(3)->type, DB_EV_EXPIRED);
}

Test(db, expiry_of_a_shadowed_registrant_reports_nothing)
{
	init_locs();
	reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0);
	reg("10.1.0.0/16", xtr(2), locs_b, 2, 0, T0 + S(100));
	cr_assert_eq(db_expire_run(db, T0 + S(180), &sink), 1);
	cr_assert_eq(evl.count, 2, "the mapping (xtr 2) did not change");
	lrcu_read_lock();
	cr_assert_eq(lpm("10.1.0.1", NULL)->owner.xtr_id[15], 2);
	lrcu_read_unlock();
}

Test(db, session_registrations_fall_back_to_timer_when_it_drops)
{
	init_locs();
	struct db_owner s = xtr(1);
	s.session = 42;
	reg("[5] 10.1.0.0/16", s, locs_a, 1, 0, T0);
	reg("[6] 10.2.0.0/16", s, locs_a, 1, 0, T0);
	reg("[6] 10.3.0.0/16", xtr(2), locs_a, 1, 0, T0);
	cr_assert_eq(reg("[5] 10.1.0.0/16", s, locs_a, 1, 0, T0 + S(5)), DB_REFRESHED);
	cr_assert_eq(db_session_regs(db, 42), 2, "a refresh is not a second registration");
	cr_assert_eq(db_session_regs(db, 43), 0);
	cr_assert_eq(db_expire_run(db, T0 + S(10000), &sink), 1, "only the UDP one expires");
	cr_assert_eq(db_session_down(db, 42, T0 + S(10000)), 2);
	cr_assert_eq(db_session_regs(db, 42), 0, "down: nothing bound any more");
	cr_assert_eq(db_session_down(db, 42, T0 + S(10000)), 0);
	cr_assert_eq(db_expire_run(db, T0 + S(10179), &sink), 0);
	cr_assert_eq(db_expire_run(db, T0 + S(10180), &sink), 2);
}

Test(db, session_registration_count_follows_binds_withdrawals_and_changes)
{
	init_locs();
	struct db_owner s = xtr(1);
	s.session = 7;
	reg("10.1.0.0/16", s, locs_a, 1, 0, T0);
	reg("10.2.0.0/16", s, locs_a, 1, 0, T0);
	reg("[9] 10.3.0.0/16", s, locs_a, 1, 0, T0);
	cr_assert_eq(db_session_regs(db, 7), 3);
	/* new contents replace the bound registration: still one */
	cr_assert_eq(reg("10.2.0.0/16", s, locs_b, 2, 0, T0 + S(1)), DB_STORED);
	cr_assert_eq(db_session_regs(db, 7), 3);
	struct eid_prefix p = pfx("10.1.0.0/16");
	cr_assert_eq(db_withdraw(db, &p, &s, &sink), DB_WITHDRAWN);
	cr_assert_eq(db_session_regs(db, 7), 2);
	cr_assert_eq(db_session_down(db, 7, T0 + S(2)), 2);
}

Test(db, udp_refresh_of_session_registration_rebinds_without_event)
{
	init_locs();
	struct db_owner s = xtr(1);
	s.session = 42;
	reg("10.1.0.0/16", s, locs_a, 1, 0, T0);
	cr_assert_eq(reg("10.1.0.0/16", xtr(1), locs_a, 1, 0, T0 + S(1)), DB_STORED);
	cr_assert_eq(evl.count, 2);
	cr_assert_eq(ev_at(1)->changes, DB_CH_OTHER, "only how it was learned changed");
	cr_assert_eq(db_session_regs(db, 42), 0, "the UDP registration replaced the bound one");
	cr_assert_eq(db_expire_run(db, T0 + S(181), &sink), 1, "UDP now: it times out");
	cr_assert_eq(db_session_down(db, 42, T0 + S(200)), 0, "nothing left on the session");
}

struct seen {
	char text[16][LISPMS_EID_STRLEN];
	int n;
};

static int seen_fn(const struct eid_prefix *p, const struct db_mapping *m, const struct db_entry *e,
		   void *arg)
{
	(void)e;
	cr_assert_not_null(m);
	struct seen *s = arg;
	eid_prefix_format(p, s->text[s->n++], LISPMS_EID_STRLEN);
	return 0;
}

Test(db, walks_cover_the_five_refresh_scopes)
{
	init_locs();
	const char *all[] = { "[1] 10.0.0.0/8",	    "[1] 10.1.0.0/16",		"[1] 11.0.0.0/8",
			      "[1] 2001:db8::/32",  "[1] 00:11:22:33:44:55/48", "[2] 10.1.0.0/16",
			      "[2] 2001:db8:1::/48" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		reg(all[i], xtr(1), locs_a, 1, 0, T0);
	struct seen s = { .n = 0 };
	lrcu_read_lock();
	cr_assert_eq(db_walk(db, DB_SCOPE_ALL, NULL, seen_fn, &s), 0);
	cr_assert_eq(s.n, 7);
	s.n = 0;
	struct eid_prefix w = pfx("[1] 0.0.0.0/0");
	db_walk(db, DB_SCOPE_IID, &w, seen_fn, &s);
	cr_assert_eq(s.n, 5);
	cr_assert_str_eq(s.text[0], "[1] 10.0.0.0/8");
	cr_assert_str_eq(s.text[1], "[1] 10.1.0.0/16");
	cr_assert_str_eq(s.text[2], "[1] 11.0.0.0/8");
	cr_assert_str_eq(s.text[3], "[1] 2001:db8::/32");
	s.n = 0;
	w = pfx("[1] ::/0");
	db_walk(db, DB_SCOPE_AF, &w, seen_fn, &s);
	cr_assert_eq(s.n, 1);
	s.n = 0;
	w = pfx("[1] 10.0.0.0/8");
	db_walk(db, DB_SCOPE_PREFIX, &w, seen_fn, &s);
	cr_assert_eq(s.n, 2);
	s.n = 0;
	w = pfx("[2] 10.1.0.0/16");
	db_walk(db, DB_SCOPE_EXACT, &w, seen_fn, &s);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.text[0], "[2] 10.1.0.0/16");
	s.n = 0;
	w = pfx("[3] 10.1.0.0/16");
	cr_assert_eq(db_walk(db, DB_SCOPE_IID, &w, seen_fn, &s), 0);
	cr_assert_eq(s.n, 0, "unknown instance");
	lrcu_read_unlock();
}

Test(db, batch_registration_matches_one_by_one)
{
	init_locs();
	reg("[4] 10.0.0.2/32", xtr(1), locs_a, 1, 0, T0);
	reg("[4] 10.0.0.3/32", xtr(1), locs_a, 1, 0, T0);
	struct eid_prefix p[5] = { pfx("[4] 10.0.0.1/32"), pfx("[4] 10.0.0.2/32"),
				   pfx("[4] 10.0.0.3/32"), pfx("[5] 10.0.0.4/32"),
				   pfx("[4] 10.0.0.9/32") };
	struct db_reg_info same = {
		.owner = xtr(1), .locs = locs_a, .nlocs = 1, .ttl = 1440, .site = &sink
	};
	struct db_reg_info other = same, gone = same, bad = same;
	other.locs = locs_b;
	other.nlocs = 2;
	gone.ttl = 0;
	bad.nlocs = LISPMS_DB_MAX_LOCATORS + 1;
	const struct eid_prefix *ps[6] = { &p[0], &p[1], &p[2], &p[3], &p[4], &p[4] };
	const struct db_reg_info *rs[6] = { &same, &same, &other, &same, &bad, &gone };
	int out[6];
	db_register_batch(db, ps, rs, 6, T0 + S(10), &sink, out);
	cr_assert_eq(out[0], DB_STORED, "new prefix");
	cr_assert_eq(out[1], DB_REFRESHED, "identical");
	cr_assert_eq(out[2], DB_STORED, "changed locators");
	cr_assert_eq(out[3], DB_STORED, "other instance in the same batch");
	cr_assert_eq(out[4], LISPMS_ETOOMANY);
	cr_assert_eq(out[5], LISPMS_ENOENT, "withdrawing what was never stored");
	lrcu_read_lock();
	cr_assert_eq(lpm("[4] 10.0.0.3", NULL)->locs->count, 2);
	cr_assert_not_null(lpm("[5] 10.0.0.4", NULL));
	lrcu_read_unlock();
}

Test(db, rejects_bad_input)
{
	init_locs();
	struct eid_prefix p = pfx("10.0.0.0/8");
	struct db_reg_info r = { .owner = xtr(1), .locs = locs_a, .nlocs = 1, .ttl = 10 };
	struct eid_prefix bad = p;
	bad.afi = LISP_AFI_LCAF;
	cr_assert_eq(db_register(db, &bad, &r, T0, NULL), LISPMS_EAFI);
	bad = p;
	bad.plen = 33;
	cr_assert_eq(db_register(db, &bad, &r, T0, NULL), LISPMS_EINVAL);
	r.nlocs = LISPMS_DB_MAX_LOCATORS + 1;
	cr_assert_eq(db_register(db, &p, &r, T0, NULL), LISPMS_ETOOMANY);
	r.nlocs = 0;
	cr_assert_eq(db_register(db, &p, &r, T0, NULL), DB_STORED, "no locators: negative");
	struct db_owner o = xtr(5);
	cr_assert_eq(db_withdraw(db, &p, &o, NULL), LISPMS_ENOENT);
	struct eid_prefix other = pfx("[99] 10.0.0.0/8");
	cr_assert_eq(db_withdraw(db, &other, &o, NULL), LISPMS_ENOENT);
}

Test(db, instance_lookups_never_see_a_freed_db)
{
	init_locs();
	cr_assert_eq(reg("[7] 10.1.0.0/16", xtr(1), locs_a, 1, 0, T0), DB_STORED);
	cr_assert_eq(reg("[8] 10.1.0.0/16", xtr(1), locs_b, 2, 0, T0), DB_STORED);
	lrcu_read_lock();
	/* alternate instances: each lookup answers from its own */
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(lpm("[7] 10.1.2.3", NULL)->locs->count, 1);
		cr_assert_eq(lpm("[8] 10.1.2.3", NULL)->locs->count, 2);
		cr_assert_null(lpm("[9] 10.1.2.3", NULL));
	}
	cr_assert_not_null(lpm("[7] 10.1.2.3", NULL)); /* this thread now remembers [7] */
	lrcu_read_unlock();
	/* a new db, often at the freed one's address: nothing of the old one shows */
	db_free(db);
	db = db_new(NULL);
	cr_assert_not_null(db);
	lrcu_read_lock();
	cr_assert_null(lpm("[7] 10.1.2.3", NULL));
	lrcu_read_unlock();
	cr_assert_eq(reg("[7] 10.1.0.0/16", xtr(1), locs_b, 2, 0, T0), DB_STORED);
	lrcu_read_lock();
	cr_assert_eq(lpm("[7] 10.1.2.3", NULL)->locs->count, 2);
	lrcu_read_unlock();
}

/* An ETR restarted under a new xTR-ID: same RLOC, same locator set (D13). */
static struct db_owner restarted(uint8_t id, uint8_t new_id)
{
	struct db_owner o = xtr(id);
	o.xtr_id[15] = new_id;
	o.port = 50000; /* a restart usually takes another source port */
	return o;
}

Test(db, a_new_xtr_id_from_the_same_rloc_and_locators_replaces_the_old)
{
	init_locs();
	cr_assert_eq(reg("[1] 10.1.0.0/16", xtr(1), locs_a, 1, 0, T0), DB_STORED);
	db_event_list_clear(&evl);
	cr_assert_eq(reg("[1] 10.1.0.0/16", restarted(1, 0x81), locs_a, 1, 0, T0 + S(5)),
		     DB_STORED);
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.registrations, 1, "the dead instance keeps no registration");
	cr_assert_eq(evl.count, 1);
	struct db_event *ev = ev_at(0);
	cr_assert_eq(ev->type, DB_EV_CHANGED);
	cr_assert_eq(ev->changes & (DB_CH_OWNER | DB_CH_LOCATORS), DB_CH_OWNER,
		     "only the owner changed, not what requests are answered with");
	lrcu_read_lock();
	const struct db_mapping *m = lpm("[1] 10.1.2.3", NULL);
	cr_assert_eq(m->owner.xtr_id[15], 0x81);
	lrcu_read_unlock();
	/* the old instance's timeout no longer matters: one expiry, of the new one */
	cr_assert_eq(db_expire_run(db, T0 + S(182), &sink), 0);
	cr_assert_eq(db_expire_run(db, T0 + S(186), &sink), 1);
}

Test(db, another_rloc_other_locators_or_merge_is_not_a_restart)
{
	init_locs();
	/* another RLOC with the same locators: a second registrant (mobility) */
	cr_assert_eq(reg("[1] 10.1.0.0/16", xtr(1), locs_a, 1, 0, T0), DB_STORED);
	cr_assert_eq(reg("[1] 10.1.0.0/16", xtr(2), locs_a, 1, 0, T0), DB_STORED);
	/* the same RLOC with other locators: a move of its own */
	cr_assert_eq(reg("[1] 10.2.0.0/16", xtr(3), locs_a, 1, 0, T0), DB_STORED);
	cr_assert_eq(reg("[1] 10.2.0.0/16", restarted(3, 0x83), locs_b, 2, 0, T0), DB_STORED);
	/* with merge: one registration per xTR-ID, united */
	cr_assert_eq(reg("[1] 10.3.0.0/16", xtr(4), locs_a, 1, DB_F_MERGE, T0), DB_STORED);
	cr_assert_eq(reg("[1] 10.3.0.0/16", restarted(4, 0x84), locs_a, 1, DB_F_MERGE, T0),
		     DB_STORED);
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.registrations, 6);
}

Test(db, a_registration_keeps_the_key_it_was_accepted_with)
{
	init_locs();
	struct eid_prefix e = pfx("[1] 10.1.0.0/16");
	struct db_reg_info r = { .owner = xtr(1),
				 .locs = locs_a,
				 .nlocs = 1,
				 .ttl = 1440,
				 .key_id = 7,
				 .alg_id = 2,
				 .site = &sink };
	cr_assert_eq(db_register(db, &e, &r, T0, &sink), DB_STORED);
	cr_assert_eq(db_register(db, &e, &r, T0 + S(1), &sink), DB_REFRESHED);
	lrcu_read_lock();
	const struct db_mapping *m = db_lookup_exact(db, &e);
	cr_assert_eq(m->key_id, 7);
	cr_assert_eq(m->alg_id, 2);
	lrcu_read_unlock();
	/* a key roll-over is a change of the registration (its next notify uses the new key) */
	db_event_list_clear(&evl);
	r.key_id = 8;
	r.alg_id = 1;
	cr_assert_eq(db_register(db, &e, &r, T0 + S(2), &sink), DB_STORED);
	cr_assert_eq(evl.count, 1);
	cr_assert_eq(ev_at(0)->changes, DB_CH_OTHER);
	lrcu_read_lock();
	m = db_lookup_exact(db, &e);
	cr_assert_eq(m->key_id, 8);
	cr_assert_eq(m->alg_id, 1);
	lrcu_read_unlock();
	struct db_stats st;
	db_stats_get(db, &st);
	cr_assert_eq(st.registrations, 1);
	cr_assert_eq(st.mappings, 1, "the old contents were released");
}

/* db_warm() only reads: any mix of instances, families and lengths, present or not. */
Test(db, warm_reads_only)
{
	init_locs();
	cr_assert_eq(reg("[7] 10.1.0.0/16", xtr(1), locs_a, 1, 0, T0), DB_STORED);
	cr_assert_eq(reg("[7] 10.1.2.3/32", xtr(1), locs_a, 1, 0, T0), DB_STORED);
	cr_assert_eq(reg("[7] 2001:db8::1/128", xtr(1), locs_a, 1, 0, T0), DB_STORED);
	static const char *const texts[] = {
		"[7] 10.1.2.3/32",  "[7] 10.1.2.4/32", "[7] 10.1.0.0/16", "[7] 2001:db8::1/128",
		"[8] 10.1.2.3/32",  "[7] 10.9.0.0/24", "[9] 10.0.0.0/8",  "[7] 2001:db8::/32",
		"[7] 10.1.2.3/32",  "[7] 0.0.0.0/0",   "[7] 10.1.2.5/32", "[7] 10.1.2.6/32",
		"[7] 10.1.2.7/32",  "[7] 10.1.2.8/32", "[7] 10.1.2.9/32", "[7] 10.1.2.10/32",
		"[7] 10.1.2.11/32", "[8] 10.1.2.3/32", "[7] 10.1.2.3/32",
	};
	enum { N = sizeof(texts) / sizeof(texts[0]) };
	struct eid_prefix e[N];
	const struct eid_prefix *ps[N];
	for (unsigned i = 0; i < N; i++) {
		e[i] = pfx(texts[i]);
		ps[i] = &e[i];
	}
	struct db_stats before, after;
	db_stats_get(db, &before);
	size_t events = evl.count;
	lrcu_read_lock();
	for (unsigned n = 0; n <= N; n++)
		db_warm(db, ps + (N - n), n);
	lrcu_read_unlock();
	db_stats_get(db, &after);
	cr_assert_eq(after.prefixes, before.prefixes);
	cr_assert_eq(evl.count, events);
	lrcu_read_lock();
	cr_assert_not_null(db_lookup_exact(db, &e[0]));
	cr_assert_null(db_lookup_exact(db, &e[1]));
	lrcu_read_unlock();
}
