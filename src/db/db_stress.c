/* SPDX-License-Identifier: MIT */
/*
 * Concurrency test (plain TAP executable; runs under TSan and ASan).
 *
 * Writers register, re-register (refresh fast path), change, merge,
 * withdraw and bind to sessions that go down, on nested IPv4 prefixes of
 * one instance, while a housekeeping thread advances a clock and expires,
 * and readers look up and walk without locks. Every locator a writer
 * registers encodes (prefix, owner, generation, index) plus a checksum, so
 * a reader can tell whether what it sees is one consistent mapping: each
 * locator must belong to the matched prefix, and a non-merged mapping's
 * locators must all come from one registration of its owner.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/db.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "tap.h"

#define WRITERS	   2
#define READERS	   2
#define NPARENT	   32
#define NCHILD	   8
#define NPREFIX	   (NPARENT * (1 + NCHILD))
#define WRITER_OPS 40000
#define TIMEOUT_S  5

static struct db *db;
static _Atomic uint64_t clock_s = 1000;
static _Atomic int writers_left = WRITERS;
static _Atomic uint64_t reads, checked, bad, events;
static struct eid_prefix prefixes[NPREFIX];

static uint64_t xrnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t sum40(const uint8_t *b, unsigned n)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h & 0xffffffffffull;
}

static void encode(struct db_locator *l, const struct eid_prefix *p, unsigned owner, uint32_t gen,
		   unsigned idx)
{
	memset(l, 0, sizeof(*l));
	l->priority = (uint8_t)idx;
	l->weight = 10;
	l->flags = DB_LOC_R;
	l->addr.afi = LISP_AFI_IPV6;
	uint8_t *b = l->addr.bytes;
	memcpy(b, p->bytes, 4);
	b[4] = p->plen;
	b[5] = (uint8_t)owner;
	memcpy(b + 6, &gen, 4);
	b[10] = (uint8_t)idx;
	uint64_t s = sum40(b, 11);
	for (int i = 0; i < 5; i++)
		b[11 + i] = (uint8_t)(s >> (8 * i));
}

/* A locator's (owner, gen) if it is intact and belongs to prefix m. */
static bool decode(const struct db_locator *l, const struct eid_prefix *m, unsigned *owner,
		   uint32_t *gen)
{
	const uint8_t *b = l->addr.bytes;
	uint64_t s = 0;
	for (int i = 0; i < 5; i++)
		s |= (uint64_t)b[11 + i] << (8 * i);
	if (l->addr.afi != LISP_AFI_IPV6 || s != sum40(b, 11))
		return false;
	if (memcmp(b, m->bytes, 4) != 0 || b[4] != m->plen)
		return false;
	*owner = b[5];
	memcpy(gen, b + 6, 4);
	return true;
}

static bool mapping_ok(const struct eid_prefix *matched, const struct db_mapping *m)
{
	if (m->locs->count == 0)
		return false;
	unsigned o0 = 0;
	uint32_t g0 = 0;
	for (unsigned i = 0; i < m->locs->count; i++) {
		unsigned o;
		uint32_t g;
		if (!decode(&m->locs->loc[i], matched, &o, &g))
			return false;
		if (m->flags & DB_F_MERGED)
			continue;
		if (i == 0) {
			o0 = o;
			g0 = g;
			if (m->owner.xtr_id[0] != o || m->locs->loc[0].priority != 0)
				return false;
		} else if (o != o0 || g != g0 || m->locs->loc[i].priority != i) {
			return false;
		}
	}
	return true;
}

static void on_event(const struct db_event *ev, void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&events, 1, memory_order_relaxed);
	if (ev->new_map != NULL && !mapping_ok(&ev->prefix, ev->new_map))
		atomic_fetch_add(&bad, 1);
}

static struct db_sink sink = { on_event, NULL };

static void *writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t rs = 0x9e3779b97f4a7c15ull * (id + 1);
	uint32_t gen = 0;
	uint64_t session = 0;
	uint64_t start = mtime_now_ns();
	for (int op = 0; op < WRITER_OPS; op++) {
		if (op % 256 == 0 && mtime_now_ns() - start > 3 * LISPMS_NS_PER_SEC)
			break; /* bounded under slow sanitizers */
		const struct eid_prefix *p = &prefixes[xrnd(&rs) % NPREFIX];
		unsigned owner = 1 + id * 2 + (unsigned)(xrnd(&rs) % 2);
		uint64_t now = atomic_load(&clock_s) * LISPMS_NS_PER_SEC;
		unsigned what = (unsigned)(xrnd(&rs) % 16);
		struct db_owner o = { .has_xtr_id = true, .port = 4342 };
		o.xtr_id[0] = (uint8_t)owner;
		lisp_addr_parse("192.0.2.1", &o.rloc);
		if (what == 0) {
			db_withdraw(db, p, &o, &sink);
			continue;
		}
		if (what == 1 && session != 0) {
			db_session_down(db, session, now);
			session = 0;
			continue;
		}
		if (what == 2)
			session = ((uint64_t)id << 32) | (uint64_t)(op + 1);
		if (what >= 3 && what < 6 && session != 0)
			o.session = session;
		if (what >= 10)
			gen++; /* otherwise mostly identical: the refresh fast path */
		struct db_locator locs[4];
		unsigned n = 1 + gen % 4;
		for (unsigned i = 0; i < n; i++)
			encode(&locs[i], p, owner, gen, i);
		struct db_reg_info r = { .owner = o,
					 .locs = locs,
					 .nlocs = n,
					 .ttl = 1,
					 .flags = what == 7 || what == 8 ? DB_F_MERGE : 0 };
		if (what == 9) {
			/* a batch: this record and its parent's, same owner and generation */
			const struct eid_prefix *parent = &prefixes[(p - prefixes) % NPARENT];
			struct db_locator plocs[4];
			for (unsigned i = 0; i < n; i++)
				encode(&plocs[i], parent, owner, gen, i);
			struct db_reg_info pr = r;
			pr.locs = plocs;
			const struct eid_prefix *ps[2] = { p, parent };
			const struct db_reg_info *ris[2] = { &r, &pr };
			int out[2];
			db_register_batch(db, ps, ris, 2, now, &sink, out);
			if (out[0] < 0 || out[1] < 0)
				atomic_fetch_add(&bad, 1);
			continue;
		}
		if (db_register(db, p, &r, now, &sink) < 0)
			atomic_fetch_add(&bad, 1);
	}
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

static int walk_fn(const struct eid_prefix *p, const struct db_mapping *m, const struct db_entry *e,
		   void *arg)
{
	(void)e;
	(void)arg;
	if (!mapping_ok(p, m))
		atomic_fetch_add(&bad, 1);
	return 0;
}

static void *reader(void *arg)
{
	uint64_t rs = 0xdeadbeef + (uintptr_t)arg;
	uint64_t n = 0, ok = 0;
	while (atomic_load_explicit(&writers_left, memory_order_relaxed) > 0) {
		lrcu_read_lock();
		for (int i = 0; i < 64; i++) {
			struct eid_prefix q = prefixes[xrnd(&rs) % NPREFIX];
			q.plen = 32;
			q.bytes[3] |= (uint8_t)(xrnd(&rs) % 2);
			struct eid_prefix matched;
			const struct db_mapping *m = db_lookup(db, &q, &matched);
			n++;
			if (m == NULL)
				continue;
			if (!mapping_ok(&matched, m))
				atomic_fetch_add(&bad, 1);
			ok++;
		}
		/* the batched form, checked the same way */
		struct eid_prefix qs[16];
		const struct eid_prefix *qp[16];
		const struct db_mapping *ms[16];
		for (int i = 0; i < 16; i++) {
			qs[i] = prefixes[xrnd(&rs) % NPREFIX];
			qs[i].plen = xrnd(&rs) % 2 ? 32 : qs[i].plen;
			qp[i] = &qs[i];
		}
		db_iid_lookup_batch(db_instance(db, 77), qp, 16, ms);
		for (int i = 0; i < 16; i++) {
			if (ms[i] == NULL)
				continue;
			/* the locators name their prefix: it must cover the query */
			struct eid_prefix owner_p = qs[i];
			const uint8_t *b =
			    ms[i]->locs->count ? ms[i]->locs->loc[0].addr.bytes : NULL;
			if (b == NULL) {
				atomic_fetch_add(&bad, 1);
				continue;
			}
			memcpy(owner_p.bytes, b, 4);
			owner_p.plen = b[4];
			if (!eid_prefix_covers(&owner_p, &qs[i]) || !mapping_ok(&owner_p, ms[i]))
				atomic_fetch_add(&bad, 1);
			n++;
			ok++;
		}
		struct eid_prefix w = prefixes[xrnd(&rs) % NPARENT];
		db_walk(db, DB_SCOPE_PREFIX, &w, walk_fn, NULL);
		lrcu_read_unlock();
	}
	atomic_fetch_add(&reads, n);
	atomic_fetch_add(&checked, ok);
	return NULL;
}

static void *housekeeper(void *arg)
{
	(void)arg;
	while (atomic_load_explicit(&writers_left, memory_order_relaxed) > 0) {
		uint64_t now = atomic_fetch_add(&clock_s, 1) + 1;
		db_expire_run(db, now * LISPMS_NS_PER_SEC, &sink);
		for (volatile int spin = 0; spin < 20000; spin++)
			;
	}
	return NULL;
}

int main(void)
{
	tap_plan(5);
	thread_register("main");
	db = db_new(&(struct db_config){ .reg_timeout_s = TIMEOUT_S });
	for (int i = 0; i < NPARENT; i++) {
		struct eid_prefix *p = &prefixes[i];
		memset(p, 0, sizeof(*p));
		p->afi = LISP_AFI_IPV4;
		p->iid = 77;
		p->plen = 24;
		p->bytes[0] = 10;
		p->bytes[1] = (uint8_t)(i / 8);
		p->bytes[2] = (uint8_t)(i % 8);
		for (int c = 0; c < NCHILD; c++) {
			struct eid_prefix *k = &prefixes[NPARENT + i * NCHILD + c];
			*k = *p;
			k->plen = (uint8_t)(c < 4 ? 32 : 25 + c);
			k->bytes[3] = (uint8_t)(c < 4 ? c * 2 : 0x80);
			eid_prefix_normalize(k);
		}
	}
	struct thread *w[WRITERS], *r[READERS], *h;
	for (int i = 0; i < READERS; i++)
		r[i] = thread_spawn("reader", -1, reader, (void *)(uintptr_t)i);
	h = thread_spawn("housekeeper", -1, housekeeper, NULL);
	for (int i = 0; i < WRITERS; i++)
		w[i] = thread_spawn("writer", -1, writer, (void *)(uintptr_t)i);
	for (int i = 0; i < WRITERS; i++)
		thread_join(w[i]);
	for (int i = 0; i < READERS; i++)
		thread_join(r[i]);
	thread_join(h);

	tap_ok(atomic_load(&bad) == 0, "every mapping read was consistent (%llu bad)",
	       (unsigned long long)atomic_load(&bad));
	tap_ok(atomic_load(&checked) > 0, "readers validated %llu of %llu lookups",
	       (unsigned long long)atomic_load(&checked), (unsigned long long)atomic_load(&reads));
	tap_ok(atomic_load(&events) > 0, "writers produced %llu events",
	       (unsigned long long)atomic_load(&events));

	/* everything expires once the clock passes every deadline */
	struct db_stats st;
	db_stats_get(db, &st);
	uint64_t now = atomic_load(&clock_s) + 10 * 60 + 2 * TIMEOUT_S;
	for (int i = 0; i < WRITERS; i++)
		for (int op = 0; op <= WRITER_OPS; op++)
			db_session_down(db, ((uint64_t)i << 32) | (uint64_t)(op + 1),
					now * LISPMS_NS_PER_SEC);
	size_t gone = db_expire_run(db, (now + 2 * 60 * 60) * LISPMS_NS_PER_SEC, &sink);
	struct db_stats after;
	db_stats_get(db, &after);
	tap_ok(gone == st.registrations && after.registrations == 0,
	       "all %zu registrations expired after the sessions dropped (%zu)", st.registrations,
	       gone);
	tap_ok(after.mappings + after.locsets + after.nodes + after.prefixes == 0,
	       "nothing interned or allocated is left");
	db_free(db);
	thread_unregister();
	return tap_done();
}
