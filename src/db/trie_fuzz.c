/* SPDX-License-Identifier: MIT */
/*
 * Bytecode fuzzer for the trie with a shadow model (in the manner of BIND's
 * fuzz/dns_qp.c). Byte 0 picks the key width (32, 48 or 128 bits); then
 * each instruction is an opcode byte, a prefix length byte and a key index
 * byte into a small table of keys (so prefixes nest and collide often):
 * insert, remove, exact match, longest-prefix match, a batched LPM and a
 * subtree walk. Every answer is checked against a plain array; a mismatch
 * aborts, and ASan catches any bad memory access.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/db/trie.h>
#include <lispms/err.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "fuzz.h"

#define MAXE 64

struct fleaf {
	int id;
	struct trie_leaf leaf; /* key bytes follow */
};

struct shadow {
	uint8_t key[16];
	unsigned plen;
	struct fleaf *l;
};

static void check(bool cond)
{
	if (!cond)
		abort();
}

static unsigned bit(const uint8_t *k, unsigned i)
{
	return (k[i / 8] >> (7 - i % 8)) & 1;
}

static bool covers(const uint8_t *pk, unsigned pl, const uint8_t *k, unsigned kl)
{
	if (pl > kl)
		return false;
	for (unsigned i = 0; i < pl; i++)
		if (bit(pk, i) != bit(k, i))
			return false;
	return true;
}

static void norm(uint8_t *k, unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned first = i * 8;
		if (first >= plen)
			k[i] = 0;
		else if (first + 8 > plen)
			k[i] &= (uint8_t)(0xff00u >> (plen - first));
	}
}

static int id_of(struct trie_leaf *l)
{
	return l == NULL ? -1 : caa_container_of(l, struct fleaf, leaf)->id;
}

static struct shadow *model;
static unsigned nmodel;

static int lpm_model(const uint8_t *k, unsigned plen)
{
	int best = -1, bestlen = -1;
	for (unsigned i = 0; i < nmodel; i++)
		if (covers(model[i].key, model[i].plen, k, plen) && (int)model[i].plen > bestlen) {
			best = model[i].l->id;
			bestlen = (int)model[i].plen;
		}
	return best;
}

struct wstate {
	const uint8_t *key;
	unsigned plen;
	unsigned seen;
	bool ok;
};

static int walk_fn(struct trie_leaf *l, void *arg)
{
	struct wstate *w = arg;
	w->seen++;
	if (!covers(w->key, w->plen, l->key, l->plen))
		w->ok = false;
	return 0;
}

static void free_leaf(struct trie_leaf *l, void *arg)
{
	(void)arg;
	free(caa_container_of(l, struct fleaf, leaf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	if (!registered) {
		thread_register("fuzz");
		registered = true;
	}
	if (size < 1)
		return 0;
	static const unsigned widths[3] = { 32, 48, 128 };
	unsigned bits = widths[data[0] % 3];
	struct trie t;
	trie_init(&t, bits);
	struct reclaim rc;
	reclaim_init(&rc);
	struct shadow shadow[MAXE];
	model = shadow;
	nmodel = 0;
	uint8_t keys[8][16];
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 16; j++)
			keys[i][j] = (uint8_t)(i < 2 ? 0 : i * 37 + j * (i & 1 ? 0 : 11));
	int next_id = 0;

	lrcu_read_lock();
	for (size_t pc = 1; pc + 3 <= size; pc += 3) {
		unsigned op = data[pc] % 6;
		unsigned plen = data[pc + 1] % (bits + 1);
		uint8_t k[16];
		memcpy(k, keys[data[pc + 2] % 8], 16);
		if (data[pc + 2] & 0x80 && plen > 0)
			k[(plen - 1) / 8] ^= (uint8_t)(0x80u >> ((plen - 1) % 8));
		norm(k, plen);
		int at = -1;
		for (unsigned i = 0; i < nmodel; i++)
			if (model[i].plen == plen && memcmp(model[i].key, k, 16) == 0)
				at = (int)i;
		switch (op) {
		case 0: { /* insert */
			if (nmodel == MAXE)
				break;
			struct fleaf *l = calloc(1, sizeof(*l) + 16);
			if (l == NULL)
				break;
			l->id = next_id++;
			l->leaf.plen = (uint8_t)plen;
			memcpy(l->leaf.key, k, trie_key_len(&t));
			int ret = trie_insert_w(&t, &l->leaf);
			if (at >= 0) {
				check(ret == LISPMS_EEXIST);
				free(l);
			} else {
				check(ret == LISPMS_EOK);
				memcpy(model[nmodel].key, k, 16);
				model[nmodel].plen = plen;
				model[nmodel++].l = l;
			}
			break;
		}
		case 1: { /* remove */
			struct trie_leaf *out = NULL;
			check(reclaim_reserve_w(&rc, 1) == LISPMS_EOK);
			int ret = trie_remove_w(&t, k, plen, &rc, &out);
			if (at < 0) {
				check(ret == LISPMS_ENOENT);
			} else {
				check(ret == LISPMS_EOK && out == &model[at].l->leaf);
				free(model[at].l);
				model[at] = model[--nmodel];
			}
			break;
		}
		case 2:
			check(id_of(trie_lookup_exact(&t, k, plen)) ==
			      (at < 0 ? -1 : model[at].l->id));
			break;
		case 3:
			check(id_of(trie_lookup_lpm(&t, k, plen)) == lpm_model(k, plen));
			break;
		case 4: { /* batch: this key as a prefix and as an address below it */
			uint8_t a[16];
			memcpy(a, k, 16);
			for (unsigned i = plen; i < bits; i++)
				a[i / 8] |= (uint8_t)(0x80u >> (i % 8));
			const uint8_t *ks[2] = { k, a };
			unsigned pl[2] = { plen, bits };
			struct trie_leaf *res[2];
			trie_lookup_lpm_batch(&t, ks, pl, 2, res);
			check(id_of(res[0]) == lpm_model(k, plen));
			check(id_of(res[1]) == lpm_model(a, bits));
			break;
		}
		default: {
			struct wstate w = { .key = k, .plen = plen, .seen = 0, .ok = true };
			trie_walk(&t, k, plen, walk_fn, &w);
			unsigned want = 0;
			for (unsigned i = 0; i < nmodel; i++)
				want += covers(k, plen, model[i].key, model[i].plen);
			check(w.ok && w.seen == want);
			break;
		}
		}
		check(t.leaves == nmodel);
		check(trie_check_w(&t) == LISPMS_EOK);
	}
	lrcu_read_unlock();
	trie_deinit(&t, free_leaf, NULL);
	reclaim_deinit(&rc);
	static unsigned runs;
	if (++runs % 256 == 0)
		lrcu_barrier(); /* let the deferred frees catch up now and then */
	return 0;
}
