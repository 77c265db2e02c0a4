/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "hidx.h"

struct hleaf {
	int id;
	struct trie_leaf leaf; /* 16-byte keys follow */
};

static uint64_t rng = 99;

static uint32_t rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33);
}

static void setup(void)
{
	cr_assert_eq(thread_register("test"), LISPMS_EOK);
	lrcu_read_lock();
}

static void teardown(void)
{
	lrcu_read_unlock();
	lrcu_barrier();
	thread_unregister();
}

TestSuite(hidx, .init = setup, .fini = teardown);

static void run(unsigned key_len, unsigned ops)
{
	enum { N = 3000 };
	struct hleaf *leaves[N] = { NULL };
	bool in[N] = { false };
	struct hidx *t = NULL;
	cr_assert_null(hidx_lookup(t, (uint8_t[16]){ 0 }, key_len), "empty index");
	for (int i = 0; i < N; i++) {
		leaves[i] = calloc(1, sizeof(struct hleaf) + 16);
		leaves[i]->id = i;
		leaves[i]->leaf.plen = (uint8_t)(key_len * 8);
		/* small key space: many hash neighbours, clustered slots */
		for (unsigned b = 0; b < key_len; b++)
			leaves[i]->leaf.key[b] = (uint8_t)(b == key_len - 1   ? i
							   : b == key_len - 2 ? i >> 8
									      : 7);
	}
	size_t live = 0;
	for (unsigned op = 0; op < ops; op++) {
		int i = (int)(rnd() % N);
		if (!in[i] && rnd() % 3 != 0) {
			cr_assert_eq(hidx_reserve_w(&t, key_len), LISPMS_EOK);
			hidx_insert_w(&t, &leaves[i]->leaf, key_len);
			in[i] = true;
			live++;
		} else if (in[i]) {
			hidx_remove_w(t, &leaves[i]->leaf, key_len);
			in[i] = false;
			live--;
		}
		cr_assert_eq(t->live, live);
		cr_assert_leq((t->live + t->tombs) * 4, (t->mask + 1) * 3 + 4,
			      "load stays bounded");
		int q = (int)(rnd() % N);
		struct trie_leaf *got = hidx_lookup(t, leaves[q]->leaf.key, key_len);
		cr_assert_eq(got, in[q] ? &leaves[q]->leaf : NULL, "lookup %d op %u", q, op);
		if (op % 64 == 0) {
			const uint8_t *keys[HIDX_BATCH];
			struct trie_leaf *out[HIDX_BATCH];
			int ids[HIDX_BATCH];
			for (int b = 0; b < HIDX_BATCH; b++) {
				ids[b] = (int)(rnd() % N);
				keys[b] = leaves[ids[b]]->leaf.key;
			}
			hidx_lookup_batch(t, keys, HIDX_BATCH, key_len, out);
			for (int b = 0; b < HIDX_BATCH; b++)
				cr_assert_eq(out[b], in[ids[b]] ? &leaves[ids[b]]->leaf : NULL);
		}
	}
	uint8_t absent[16];
	memset(absent, 0xee, sizeof(absent));
	cr_assert_null(hidx_lookup(t, absent, key_len));
	hidx_free(t);
	for (int i = 0; i < N; i++)
		free(leaves[i]);
}

Test(hidx, ipv4_keys_against_a_model)
{
	run(4, 30000);
}

Test(hidx, ipv6_keys_against_a_model)
{
	run(16, 30000);
}

Test(hidx, mac_keys_against_a_model)
{
	run(6, 30000);
}
