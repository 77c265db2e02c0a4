/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <criterion/criterion.h>

#include <lispms/db/trie.h>
#include <lispms/err.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

struct tleaf {
	int id;
	struct trie_leaf leaf; /* last: key bytes follow */
};

static struct reclaim rc;

static void setup(void)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	reclaim_init(&rc);
	lrcu_read_lock();
}

static void teardown(void)
{
	lrcu_read_unlock();
	reclaim_deinit(&rc);
	lrcu_barrier();
	thread_unregister();
}

TestSuite(trie, .init = setup, .fini = teardown);

static struct tleaf *mk(const struct trie *t, const uint8_t *key, unsigned plen, int id)
{
	struct tleaf *l = calloc(1, sizeof(*l) + trie_key_len(t));
	cr_assert_not_null(l);
	l->id = id;
	l->leaf.plen = (uint8_t)plen;
	for (unsigned i = 0; i < trie_key_len(t); i++) {
		unsigned first = i * 8;
		uint8_t b = key[i];
		if (first >= plen)
			b = 0;
		else if (first + 8 > plen)
			b &= (uint8_t)(0xff00u >> (plen - first));
		l->leaf.key[i] = b;
	}
	return l;
}

static int id_of(struct trie_leaf *l)
{
	return l == NULL ? -1 : caa_container_of(l, struct tleaf, leaf)->id;
}

static void v4(const char *s, uint8_t out[4])
{
	cr_assert_eq(inet_pton(AF_INET, s, out), 1, "%s", s);
}

static struct tleaf *add4(struct trie *t, const char *addr, unsigned plen, int id)
{
	uint8_t k[4];
	v4(addr, k);
	struct tleaf *l = mk(t, k, plen, id);
	cr_assert_eq(trie_insert_w(t, &l->leaf), LISPMS_EOK, "insert %s/%u", addr, plen);
	return l;
}

static int lpm4(struct trie *t, const char *addr, unsigned plen)
{
	uint8_t k[4];
	v4(addr, k);
	return id_of(trie_lookup_lpm(t, k, plen));
}

static int exact4(struct trie *t, const char *addr, unsigned plen)
{
	uint8_t k[4];
	v4(addr, k);
	return id_of(trie_lookup_exact(t, k, plen));
}

static void free_leaf(struct trie_leaf *l, void *arg)
{
	(void)arg;
	free(caa_container_of(l, struct tleaf, leaf));
}

static int rm4(struct trie *t, const char *addr, unsigned plen)
{
	uint8_t k[4];
	v4(addr, k);
	struct trie_leaf *out;
	cr_assert_eq(reclaim_reserve_w(&rc, 1), LISPMS_EOK);
	int ret = trie_remove_w(t, k, plen, &rc, &out);
	if (ret != LISPMS_EOK)
		return ret;
	int id = id_of(out);
	free_leaf(out, NULL);
	return id;
}

Test(trie, rejects_bad_key_sizes)
{
	struct trie t;
	cr_assert_eq(trie_init(&t, 0), LISPMS_EINVAL);
	cr_assert_eq(trie_init(&t, 129), LISPMS_EINVAL);
	cr_assert_eq(trie_init(&t, 33), LISPMS_EINVAL);
	cr_assert_eq(trie_init(&t, 48), LISPMS_EOK);
	cr_assert_eq(trie_key_len(&t), 6);
}

Test(trie, exact_and_longest_prefix_match)
{
	struct trie t;
	trie_init(&t, 32);
	cr_assert_eq(lpm4(&t, "10.1.2.3", 32), -1, "empty trie matches nothing");
	add4(&t, "10.0.0.0", 8, 1);
	add4(&t, "10.1.0.0", 16, 2);
	add4(&t, "10.1.2.3", 32, 3);
	add4(&t, "10.1.2.0", 24, 4);
	add4(&t, "192.168.0.0", 16, 5);
	cr_assert_eq(lpm4(&t, "10.1.2.3", 32), 3);
	cr_assert_eq(lpm4(&t, "10.1.2.4", 32), 4);
	cr_assert_eq(lpm4(&t, "10.1.3.4", 32), 2);
	cr_assert_eq(lpm4(&t, "10.2.3.4", 32), 1);
	cr_assert_eq(lpm4(&t, "11.2.3.4", 32), -1);
	cr_assert_eq(lpm4(&t, "192.168.255.1", 32), 5);
	cr_assert_eq(lpm4(&t, "10.1.2.0", 23), 2, "a shorter query skips the /24");
	cr_assert_eq(exact4(&t, "10.1.0.0", 16), 2);
	cr_assert_eq(exact4(&t, "10.1.0.0", 17), -1);
	cr_assert_eq(exact4(&t, "10.0.0.0", 7), -1);
	cr_assert_eq(t.leaves, 5);
	cr_assert_leq(t.nodes, 4, "at most n-1 interior nodes");
	trie_deinit(&t, free_leaf, NULL);
}

Test(trie, default_route_and_duplicates)
{
	struct trie t;
	trie_init(&t, 32);
	add4(&t, "10.1.2.3", 32, 3);
	add4(&t, "0.0.0.0", 0, 9);
	cr_assert_eq(lpm4(&t, "200.1.1.1", 32), 9);
	cr_assert_eq(lpm4(&t, "10.1.2.3", 32), 3);
	cr_assert_eq(lpm4(&t, "0.0.0.0", 0), 9);
	uint8_t k[4] = { 10, 1, 2, 3 };
	struct tleaf *dup = mk(&t, k, 32, 99);
	cr_assert_eq(trie_insert_w(&t, &dup->leaf), LISPMS_EEXIST);
	uint8_t z[4] = { 0 };
	struct tleaf *dup0 = mk(&t, z, 0, 98);
	cr_assert_eq(trie_insert_w(&t, &dup0->leaf), LISPMS_EEXIST);
	free(dup);
	free(dup0);
	cr_assert_eq(rm4(&t, "0.0.0.0", 0), 9);
	cr_assert_eq(lpm4(&t, "200.1.1.1", 32), -1);
	trie_deinit(&t, free_leaf, NULL);
}

Test(trie, remove_collapses_nodes)
{
	struct trie t;
	trie_init(&t, 32);
	add4(&t, "10.0.0.0", 8, 1);
	add4(&t, "10.1.0.0", 16, 2);
	add4(&t, "10.128.0.0", 16, 3);
	add4(&t, "10.1.0.0", 24, 4);
	cr_assert_eq(rm4(&t, "10.1.0.0", 17), LISPMS_ENOENT);
	cr_assert_eq(rm4(&t, "10.0.0.0", 8), 1);
	cr_assert_eq(lpm4(&t, "10.2.0.0", 32), -1);
	cr_assert_eq(lpm4(&t, "10.1.0.9", 32), 4);
	cr_assert_eq(rm4(&t, "10.1.0.0", 16), 2);
	cr_assert_eq(lpm4(&t, "10.1.1.9", 32), -1);
	cr_assert_eq(rm4(&t, "10.1.0.0", 24), 4);
	cr_assert_eq(t.nodes, 0, "a single leaf needs no node");
	cr_assert_eq(lpm4(&t, "10.128.3.3", 32), 3);
	cr_assert_eq(rm4(&t, "10.128.0.0", 16), 3);
	cr_assert_null(t.root);
	cr_assert_eq(t.leaves, 0);
}

struct collect {
	int ids[64];
	int n;
	int stop_at;
};

static int collect_fn(struct trie_leaf *l, void *arg)
{
	struct collect *c = arg;
	c->ids[c->n++] = id_of(l);
	return c->n == c->stop_at ? 42 : 0;
}

Test(trie, walk_subtree_in_order)
{
	struct trie t;
	trie_init(&t, 32);
	add4(&t, "10.1.2.0", 24, 4);
	add4(&t, "10.0.0.0", 8, 1);
	add4(&t, "10.1.0.0", 16, 2);
	add4(&t, "10.1.2.3", 32, 3);
	add4(&t, "10.200.0.0", 16, 5);
	add4(&t, "11.0.0.0", 8, 6);
	struct collect c = { .n = 0 };
	uint8_t k[4] = { 0 };
	cr_assert_eq(trie_walk(&t, k, 0, collect_fn, &c), 0);
	int all[] = { 1, 2, 4, 3, 5, 6 };
	cr_assert_eq(c.n, 6);
	cr_assert_arr_eq(c.ids, all, sizeof(all));

	c.n = 0;
	v4("10.1.0.0", k);
	trie_walk(&t, k, 16, collect_fn, &c);
	int sub[] = { 2, 4, 3 };
	cr_assert_eq(c.n, 3);
	cr_assert_arr_eq(c.ids, sub, sizeof(sub));

	c.n = 0;
	v4("10.1.2.0", k);
	trie_walk(&t, k, 20, collect_fn, &c);
	cr_assert_eq(c.n, 2, "10.1.0.0/20 covers the /24 and the /32");

	c.n = 0;
	v4("10.2.0.0", k);
	trie_walk(&t, k, 16, collect_fn, &c);
	cr_assert_eq(c.n, 0, "nothing under 10.2/16 although 10/8 covers it");

	c.n = 0;
	c.stop_at = 2;
	cr_assert_eq(trie_walk(&t, (uint8_t[4]){ 0 }, 0, collect_fn, &c), 42, "walk stops");
	cr_assert_eq(c.n, 2);
	trie_deinit(&t, free_leaf, NULL);
}

/* ---- randomized test against a sorted array ---- */

struct mentry {
	uint8_t key[16];
	unsigned plen;
	int id;
	struct tleaf *leaf;
};

struct model {
	struct mentry *v;
	size_t n, cap;
	unsigned bits;
};

static unsigned bitat(const uint8_t *k, unsigned i)
{
	return (k[i / 8] >> (7 - i % 8)) & 1;
}

/* Walk order: compare bit by bit; a prefix sorts before its extensions. */
static int mcmp(const uint8_t *ka, unsigned la, const uint8_t *kb, unsigned lb)
{
	unsigned m = la < lb ? la : lb;
	for (unsigned i = 0; i < m; i++) {
		unsigned a = bitat(ka, i), b = bitat(kb, i);
		if (a != b)
			return a < b ? -1 : 1;
	}
	return la < lb ? -1 : la > lb ? 1 : 0;
}

static bool covers(const uint8_t *pk, unsigned pl, const uint8_t *k, unsigned kl)
{
	if (pl > kl)
		return false;
	for (unsigned i = 0; i < pl; i++)
		if (bitat(pk, i) != bitat(k, i))
			return false;
	return true;
}

static long mfind(struct model *m, const uint8_t *k, unsigned plen)
{
	for (size_t i = 0; i < m->n; i++)
		if (mcmp(m->v[i].key, m->v[i].plen, k, plen) == 0)
			return (long)i;
	return -1;
}

static int mlpm(struct model *m, const uint8_t *k, unsigned plen)
{
	int best = -1;
	int bestlen = -1;
	for (size_t i = 0; i < m->n; i++)
		if (covers(m->v[i].key, m->v[i].plen, k, plen) && (int)m->v[i].plen > bestlen) {
			best = m->v[i].id;
			bestlen = (int)m->v[i].plen;
		}
	return best;
}

static void mnorm(uint8_t *k, unsigned plen, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned first = i * 8;
		if (first >= plen)
			k[i] = 0;
		else if (first + 8 > plen)
			k[i] &= (uint8_t)(0xff00u >> (plen - first));
	}
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* Adversarial keys: a few bases, bits flipped near the end, every length. */
static void gen(struct model *m, uint8_t *k, unsigned *plen, const uint8_t bases[4][16])
{
	unsigned bytes = m->bits / 8;
	memcpy(k, bases[rnd() % 4], 16);
	unsigned r = rnd() % 8;
	if (r == 0)
		*plen = 0;
	else if (r == 1)
		*plen = m->bits;
	else
		*plen = rnd() % (m->bits + 1);
	if (*plen > 0 && rnd() % 2)
		k[(*plen - 1) / 8] ^= (uint8_t)(0x80u >> ((*plen - 1) % 8)); /* adjacent */
	if (rnd() % 4 == 0)
		k[rnd() % bytes] = (uint8_t)rnd();
	mnorm(k, *plen, bytes);
}

struct wcheck {
	struct model *m;
	size_t *idx;
	size_t n, pos;
	bool ok;
};

static int wcheck_fn(struct trie_leaf *l, void *arg)
{
	struct wcheck *w = arg;
	if (w->pos >= w->n || w->m->v[w->idx[w->pos]].id != id_of(l))
		w->ok = false;
	w->pos++;
	return 0;
}

static struct model *sort_model;

static int idx_cmp(const void *a, const void *b)
{
	const struct mentry *x = &sort_model->v[*(const size_t *)a];
	const struct mentry *y = &sort_model->v[*(const size_t *)b];
	return mcmp(x->key, x->plen, y->key, y->plen);
}

static void check_walk(struct trie *t, struct model *m, const uint8_t *k, unsigned plen)
{
	size_t *idx = malloc((m->n + 1) * sizeof(*idx));
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		if (covers(k, plen, m->v[i].key, m->v[i].plen))
			idx[n++] = i;
	sort_model = m;
	qsort(idx, n, sizeof(*idx), idx_cmp);
	struct wcheck w = { .m = m, .idx = idx, .n = n, .pos = 0, .ok = true };
	trie_walk(t, k, plen, wcheck_fn, &w);
	cr_assert(w.ok && w.pos == n, "walk under /%u: %zu visited, %zu expected", plen, w.pos, n);
	free(idx);
}

static void run_random(unsigned bits, unsigned ops, uint64_t seed)
{
	struct trie t;
	cr_assert_eq(trie_init(&t, bits), LISPMS_EOK);
	struct model m = { .bits = bits };
	m.cap = ops;
	m.v = calloc(m.cap, sizeof(*m.v));
	rng_state = seed;
	uint8_t bases[4][16];
	for (int b = 0; b < 4; b++)
		for (int i = 0; i < 16; i++)
			bases[b][i] = (uint8_t)rnd();
	memset(bases[3], 0, sizeof(bases[3])); /* around the default route */
	int next_id = 1;
	for (unsigned op = 0; op < ops; op++) {
		uint8_t k[16];
		unsigned plen;
		gen(&m, k, &plen, (const uint8_t(*)[16])bases);
		long at = mfind(&m, k, plen);
		if (rnd() % 3 != 0) {
			struct tleaf *l = mk(&t, k, plen, next_id);
			int ret = trie_insert_w(&t, &l->leaf);
			if (at >= 0) {
				cr_assert_eq(ret, LISPMS_EEXIST);
				free(l);
			} else {
				cr_assert_eq(ret, LISPMS_EOK);
				m.v[m.n++] =
				    (struct mentry){ .plen = plen, .id = next_id, .leaf = l };
				memcpy(m.v[m.n - 1].key, k, 16);
				next_id++;
			}
		} else {
			struct trie_leaf *out = NULL;
			cr_assert_eq(reclaim_reserve_w(&rc, 1), LISPMS_EOK);
			int ret = trie_remove_w(&t, k, plen, &rc, &out);
			if (at < 0) {
				cr_assert_eq(ret, LISPMS_ENOENT);
			} else {
				cr_assert_eq(ret, LISPMS_EOK);
				cr_assert_eq(id_of(out), m.v[at].id);
				free(m.v[at].leaf);
				m.v[at] = m.v[--m.n];
			}
		}
		cr_assert_eq(t.leaves, m.n);
		cr_assert(m.n == 0 || t.nodes < m.n, "nodes %zu leaves %zu", t.nodes, m.n);
		cr_assert_eq(trie_check_w(&t), LISPMS_EOK, "structure or jump table, op %u", op);

		/* queries: exact and LPM of stored, generated and random keys */
		for (int q = 0; q < 4; q++) {
			uint8_t qk[16];
			unsigned ql;
			if (q == 0 && m.n > 0) {
				struct mentry *e = &m.v[rnd() % m.n];
				memcpy(qk, e->key, 16);
				ql = e->plen;
			} else {
				gen(&m, qk, &ql, (const uint8_t(*)[16])bases);
			}
			long mi = mfind(&m, qk, ql);
			cr_assert_eq(id_of(trie_lookup_exact(&t, qk, ql)),
				     mi < 0 ? -1 : m.v[mi].id);
			cr_assert_eq(id_of(trie_lookup_lpm(&t, qk, ql)), mlpm(&m, qk, ql),
				     "lpm /%u op %u", ql, op);
			/* an address under the prefix: every bit set past plen */
			for (unsigned i = ql; i < bits; i++)
				qk[i / 8] |= (uint8_t)(0x80u >> (i % 8));
			cr_assert_eq(id_of(trie_lookup_lpm(&t, qk, bits)), mlpm(&m, qk, bits));
		}
		/* the batched form agrees with the model on a mixed batch */
		{
			uint8_t bk[LISPMS_TRIE_BATCH][16];
			const uint8_t *keys[LISPMS_TRIE_BATCH];
			unsigned pl[LISPMS_TRIE_BATCH];
			struct trie_leaf *res[LISPMS_TRIE_BATCH];
			unsigned nb = 1 + rnd() % LISPMS_TRIE_BATCH;
			for (unsigned i = 0; i < nb; i++) {
				gen(&m, bk[i], &pl[i], (const uint8_t(*)[16])bases);
				if (rnd() % 2) {
					for (unsigned b = pl[i]; b < bits; b++)
						if (rnd() % 2)
							bk[i][b / 8] |= (uint8_t)(0x80u >> (b % 8));
					pl[i] = bits;
				}
				keys[i] = bk[i];
			}
			trie_lookup_lpm_batch(&t, keys, pl, nb, res);
			for (unsigned i = 0; i < nb; i++)
				cr_assert_eq(id_of(res[i]), mlpm(&m, bk[i], pl[i]), "batch lpm %u",
					     i);
		}
		if (op % 16 == 0) {
			uint8_t wk[16];
			unsigned wl;
			gen(&m, wk, &wl, (const uint8_t(*)[16])bases);
			wl = wl / 2;
			mnorm(wk, wl, bits / 8);
			check_walk(&t, &m, wk, wl);
			check_walk(&t, &m, wk, 0);
		}
	}
	trie_deinit(&t, free_leaf, NULL);
	free(m.v);
}

Test(trie, random_ipv4_against_sorted_array)
{
	run_random(32, 4000, 1);
}

Test(trie, random_ipv6_against_sorted_array)
{
	run_random(128, 4000, 2);
}

Test(trie, random_mac_against_sorted_array)
{
	run_random(48, 4000, 3);
}

/*
 * Inserts in a large trie start at the jump table's node for the key's
 * bucket. Host keys scattered under 10/8, then keys outside it (the table's
 * buckets then collide), removals that drop the hinted nodes, and inserts
 * again: every key stays findable, nothing else appears, and every entry of
 * the table stays a node of the trie in its own bucket.
 */
Test(trie, inserts_from_the_jump_table_stay_exact)
{
	enum { N = 20000 };
	struct trie t;
	cr_assert_eq(trie_init(&t, 32), LISPMS_EOK);
	static struct tleaf *in[N + 64];
	static uint8_t keys[N + 64][4];
	rng_state = 7;
	for (unsigned i = 0; i < N + 64; i++) {
		uint32_t x = i < N ? (10u << 24) | (rnd() & 0xffffffu) : rnd();
		if (i < N && i % 97 == 0 && i > 0) /* a neighbour of an earlier key */
			x = ((uint32_t)keys[i - 1][0] << 24 | (uint32_t)keys[i - 1][1] << 16 |
			     (uint32_t)keys[i - 1][2] << 8 | keys[i - 1][3]) ^
			    1u;
		keys[i][0] = (uint8_t)(x >> 24);
		keys[i][1] = (uint8_t)(x >> 16);
		keys[i][2] = (uint8_t)(x >> 8);
		keys[i][3] = (uint8_t)x;
	}
	unsigned stored = 0;
	for (unsigned i = 0; i < N + 64; i++) {
		struct tleaf *l = mk(&t, keys[i], 32, (int)i);
		int ret = trie_insert_w(&t, &l->leaf);
		if (ret == LISPMS_EEXIST) { /* a random duplicate */
			free(l);
			continue;
		}
		cr_assert_eq(ret, LISPMS_EOK);
		in[i] = l;
		stored++;
		if (i % 1000 == 0)
			cr_assert_eq(trie_check_w(&t), LISPMS_EOK, "after insert %u", i);
	}
	cr_assert_not_null(t.jump, "a trie of %u leaves has a jump table", stored);
	cr_assert_eq(trie_check_w(&t), LISPMS_EOK);
	/* remove every third, in an order unrelated to the keys */
	for (unsigned i = 0; i < N + 64; i += 3) {
		if (in[i] == NULL)
			continue;
		struct trie_leaf *out = NULL;
		cr_assert_eq(reclaim_reserve_w(&rc, 1), LISPMS_EOK);
		cr_assert_eq(trie_remove_w(&t, keys[i], 32, &rc, &out), LISPMS_EOK);
		cr_assert_eq(out, &in[i]->leaf);
		in[i] = NULL;
		if (i % 999 == 0)
			cr_assert_eq(trie_check_w(&t), LISPMS_EOK, "after removal %u", i);
	}
	cr_assert_eq(trie_check_w(&t), LISPMS_EOK);
	/* and back in: these inserts go through hints left by the removals */
	for (unsigned i = 0; i < N + 64; i += 3) {
		if (trie_lookup_exact(&t, keys[i], 32) != NULL)
			continue; /* a duplicate key still stored under another index */
		struct tleaf *l = mk(&t, keys[i], 32, (int)i);
		cr_assert_eq(trie_insert_w(&t, &l->leaf), LISPMS_EOK, "reinsert %u", i);
		in[i] = l;
	}
	cr_assert_eq(trie_check_w(&t), LISPMS_EOK);
	for (unsigned i = 0; i < N + 64; i++) {
		struct trie_leaf *l = trie_lookup_exact(&t, keys[i], 32);
		cr_assert_not_null(l, "key %u lost", i);
		cr_assert(memcmp(l->key, keys[i], 4) == 0);
	}
	trie_deinit(&t, free_leaf, NULL);
}
