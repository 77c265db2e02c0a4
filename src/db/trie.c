/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>

#include <lispms/assert.h>
#include <lispms/db/trie.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

/*
 * Interior node: splits on bit `plen` (0 = most significant bit of key[0]).
 * Every key below shares the node's first plen bits; `leaf` is the value
 * whose prefix is exactly those bits. A published node always has two of
 * {leaf, child[0], child[1]}: a node with one child and no leaf is spliced
 * out, a node with only a leaf becomes that leaf.
 *
 * Child pointers are tagged: bit 0 set means an interior node (nodes come
 * from malloc, so the bit is free), clear means a caller's leaf (which may
 * sit at any address inside the caller's object).
 */
struct trie_node {
	void *child[2];		/* RCU */
	struct trie_leaf *leaf; /* RCU */
	uint8_t plen;
};

static inline bool is_node(const void *p)
{
	return ((uintptr_t)p & 1u) != 0;
}

static inline struct trie_node *to_node(const void *p)
{
	return (struct trie_node *)((uintptr_t)p - 1u);
}

static inline void *tag_node(struct trie_node *n)
{
	return (void *)((uintptr_t)n + 1u);
}

static inline unsigned key_bit(const uint8_t *key, unsigned i)
{
	return (key[i >> 3] >> (7u - (i & 7u))) & 1u;
}

/* First bit below n where a and b differ, or n when they agree on n bits. */
static inline unsigned first_diff(const uint8_t *a, const uint8_t *b, unsigned n)
{
	unsigned nbytes = (n + 7u) >> 3;
	for (unsigned i = 0; i < nbytes; i++) {
		unsigned x = (unsigned)(a[i] ^ b[i]);
		if (x != 0) {
			unsigned d = i * 8u + (unsigned)__builtin_clz(x) - 24u;
			return d < n ? d : n;
		}
	}
	return n;
}

int trie_init(struct trie *t, unsigned key_bits)
{
	if (key_bits == 0 || key_bits > LISPMS_TRIE_MAX_BITS || key_bits % 8 != 0)
		return LISPMS_EINVAL;
	t->root = NULL;
	t->key_bits = (uint16_t)key_bits;
	t->key_len = (uint16_t)(key_bits / 8);
	t->leaves = 0;
	t->nodes = 0;
	return LISPMS_EOK;
}

void trie_deinit(struct trie *t, void (*fn)(struct trie_leaf *leaf, void *arg), void *arg)
{
	void *stack[2 * LISPMS_TRIE_MAX_BITS + 4];
	unsigned sp = 0;
	if (t->root != NULL)
		stack[sp++] = t->root;
	while (sp > 0) {
		void *p = stack[--sp];
		if (!is_node(p)) {
			if (fn != NULL)
				fn(p, arg);
			continue;
		}
		struct trie_node *n = to_node(p);
		for (int i = 0; i < 2; i++)
			if (n->child[i] != NULL)
				stack[sp++] = n->child[i];
		if (n->leaf != NULL && fn != NULL)
			fn(n->leaf, arg);
		free(n);
	}
	t->root = NULL;
	t->leaves = 0;
	t->nodes = 0;
}

struct trie_leaf *trie_lookup_exact(const struct trie *t, const uint8_t *key, unsigned plen)
{
	void *p = lrcu_deref(t->root);
	while (p != NULL && is_node(p)) {
		struct trie_node *n = to_node(p);
		if (n->plen >= plen) {
			if (n->plen != plen)
				return NULL;
			struct trie_leaf *l = lrcu_deref(n->leaf);
			return l != NULL && first_diff(l->key, key, plen) == plen ? l : NULL;
		}
		p = lrcu_deref(n->child[key_bit(key, n->plen)]);
	}
	struct trie_leaf *l = p;
	if (l != NULL && l->plen == plen && first_diff(l->key, key, plen) == plen)
		return l;
	return NULL;
}

static struct trie_leaf *lpm_finish(struct trie_leaf *last, struct trie_leaf **cand, unsigned n,
				    const uint8_t *key, unsigned plen);

struct trie_leaf *trie_lookup_lpm(const struct trie *t, const uint8_t *key, unsigned plen)
{
	/* leaves of the nodes on the path: the only prefixes that can cover key */
	struct trie_leaf *cand[LISPMS_TRIE_MAX_BITS + 1];
	unsigned n = 0;
	struct trie_leaf *last = NULL;
	void *p = lrcu_deref(t->root);
	while (p != NULL) {
		if (!is_node(p)) {
			last = p;
			break;
		}
		struct trie_node *nd = to_node(p);
		if (nd->plen > plen)
			break;
		struct trie_leaf *l = lrcu_deref(nd->leaf);
		if (l != NULL)
			cand[n++] = l;
		if (nd->plen == plen)
			break;
		p = lrcu_deref(nd->child[key_bit(key, nd->plen)]);
	}
	return lpm_finish(last, cand, n, key, plen);
}

/*
 * Resolve a finished walk from the leaf it ended on and the leaves of the
 * nodes above it: every candidate shares its first plen bits with `last`
 * (they are on one path), so the ones no longer than the point where
 * `last` and key part cover key.
 */
static struct trie_leaf *lpm_finish(struct trie_leaf *last, struct trie_leaf **cand, unsigned n,
				    const uint8_t *key, unsigned plen)
{
	if (last != NULL && last->plen <= plen) {
		unsigned d = first_diff(last->key, key, last->plen);
		if (d == last->plen)
			return last;
		while (n > 0 && cand[n - 1]->plen > d)
			n--;
		return n > 0 ? cand[n - 1] : NULL;
	}
	while (n > 0) {
		struct trie_leaf *l = cand[--n];
		if (first_diff(l->key, key, l->plen) == l->plen)
			return l;
	}
	return NULL;
}

void trie_lookup_lpm_batch(const struct trie *t, const uint8_t *const keys[],
			   const unsigned plens[], unsigned n, struct trie_leaf *out[])
{
	struct trie_leaf *cand[LISPMS_TRIE_BATCH][LISPMS_TRIE_MAX_BITS + 1];
	unsigned ncand[LISPMS_TRIE_BATCH];
	void *cur[LISPMS_TRIE_BATCH];
	unsigned live[LISPMS_TRIE_BATCH];
	unsigned nlive = 0;
	if (n > LISPMS_TRIE_BATCH)
		n = LISPMS_TRIE_BATCH;
	void *root = lrcu_deref(t->root);
	for (unsigned i = 0; i < n; i++) {
		cur[i] = root;
		ncand[i] = 0;
		live[nlive++] = i;
	}
	while (nlive > 0) {
		unsigned keep = 0;
		for (unsigned j = 0; j < nlive; j++) {
			unsigned i = live[j];
			void *p = cur[i];
			if (p == NULL || !is_node(p)) {
				out[i] = lpm_finish(p, cand[i], ncand[i], keys[i], plens[i]);
				continue;
			}
			struct trie_node *nd = to_node(p);
			if (nd->plen > plens[i]) {
				out[i] = lpm_finish(NULL, cand[i], ncand[i], keys[i], plens[i]);
				continue;
			}
			struct trie_leaf *l = lrcu_deref(nd->leaf);
			if (l != NULL)
				cand[i][ncand[i]++] = l;
			if (nd->plen == plens[i]) {
				out[i] = lpm_finish(NULL, cand[i], ncand[i], keys[i], plens[i]);
				continue;
			}
			void *next = lrcu_deref(nd->child[key_bit(keys[i], nd->plen)]);
			if (next != NULL)
				__builtin_prefetch(is_node(next) ? (void *)to_node(next) : next);
			cur[i] = next;
			live[keep++] = i;
		}
		nlive = keep;
	}
}

void trie_touch_batch(const struct trie *t, const uint8_t *const keys[], const unsigned plens[],
		      unsigned n)
{
	void *cur[LISPMS_TRIE_BATCH];
	unsigned live[LISPMS_TRIE_BATCH];
	unsigned nlive = 0;
	if (n > LISPMS_TRIE_BATCH)
		n = LISPMS_TRIE_BATCH;
	void *root = lrcu_deref(t->root);
	for (unsigned i = 0; i < n; i++) {
		cur[i] = root;
		live[nlive++] = i;
	}
	while (nlive > 0) {
		unsigned keep = 0;
		for (unsigned j = 0; j < nlive; j++) {
			unsigned i = live[j];
			void *p = cur[i];
			if (p == NULL || !is_node(p))
				continue; /* a leaf's line was prefetched when it was reached */
			struct trie_node *nd = to_node(p);
			if (nd->plen >= plens[i])
				continue;
			void *next = lrcu_deref(nd->child[key_bit(keys[i], nd->plen)]);
			if (next == NULL)
				continue;
			__builtin_prefetch(is_node(next) ? (void *)to_node(next) : next);
			cur[i] = next;
			live[keep++] = i;
		}
		nlive = keep;
	}
}

/* Some leaf under p (writer view, or reader view with deref). */
static struct trie_leaf *any_leaf_rcu(void *p)
{
	while (p != NULL && is_node(p)) {
		struct trie_node *n = to_node(p);
		struct trie_leaf *l = lrcu_deref(n->leaf);
		if (l != NULL)
			return l;
		void *c = lrcu_deref(n->child[0]);
		p = c != NULL ? c : lrcu_deref(n->child[1]);
	}
	return p;
}

static struct trie_leaf *any_leaf_w(void *p)
{
	while (is_node(p)) {
		struct trie_node *n = to_node(p);
		if (n->leaf != NULL)
			return n->leaf;
		p = n->child[0] != NULL ? n->child[0] : n->child[1];
	}
	return p;
}

int trie_walk(const struct trie *t, const uint8_t *key, unsigned plen, trie_walk_fn *fn, void *arg)
{
	void *p = lrcu_deref(t->root);
	while (p != NULL && is_node(p)) {
		struct trie_node *n = to_node(p);
		if (n->plen >= plen)
			break;
		p = lrcu_deref(n->child[key_bit(key, n->plen)]);
	}
	if (p == NULL)
		return 0;
	if (plen > 0) {
		if (!is_node(p) && ((struct trie_leaf *)p)->plen < plen)
			return 0;
		struct trie_leaf *a = any_leaf_rcu(p);
		if (a == NULL || first_diff(a->key, key, plen) < plen)
			return 0;
	}

	void *stack[2 * LISPMS_TRIE_MAX_BITS + 4];
	unsigned sp = 0;
	stack[sp++] = p;
	while (sp > 0) {
		p = stack[--sp];
		if (!is_node(p)) {
			int ret = fn(p, arg);
			if (ret != 0)
				return ret;
			continue;
		}
		struct trie_node *n = to_node(p);
		void *c1 = lrcu_deref(n->child[1]);
		void *c0 = lrcu_deref(n->child[0]);
		struct trie_leaf *l = lrcu_deref(n->leaf);
		if (c1 != NULL)
			stack[sp++] = c1;
		if (c0 != NULL)
			stack[sp++] = c0;
		if (l != NULL) {
			int ret = fn(l, arg);
			if (ret != 0)
				return ret;
		}
	}
	return 0;
}

static struct trie_node *node_new(struct trie *t, unsigned plen)
{
	struct trie_node *n = malloc(sizeof(*n));
	if (n == NULL)
		return NULL;
	n->child[0] = NULL;
	n->child[1] = NULL;
	n->leaf = NULL;
	n->plen = (uint8_t)plen;
	t->nodes++;
	return n;
}

int trie_insert_w(struct trie *t, struct trie_leaf *leaf)
{
	const uint8_t *k = leaf->key;
	unsigned pl = leaf->plen;
	if (pl > t->key_bits || fails_assert(!is_node(leaf)))
		return LISPMS_EINVAL;
	if (t->root == NULL) {
		lrcu_publish(&t->root, (void *)leaf);
		t->leaves++;
		return LISPMS_EOK;
	}

	/* find a leaf near the new key, and the first bit where they part */
	void **path[LISPMS_TRIE_MAX_BITS + 2]; /* the slots walked through */
	unsigned depth = 0;
	void **slot = &t->root;
	void *p = *slot;
	path[depth++] = slot;
	while (is_node(p)) {
		struct trie_node *n = to_node(p);
		if (n->plen >= pl)
			break;
		void **cs = &n->child[key_bit(k, n->plen)];
		path[depth++] = cs;
		if (*cs == NULL)
			break;
		p = *cs;
	}
	struct trie_leaf *a = any_leaf_w(p);
	unsigned d = first_diff(a->key, k, a->plen < pl ? a->plen : pl);

	/*
	 * Going down again from the root to the slot where the tree parts at
	 * bit d would follow the same path (the same key bits) through its
	 * nodes testing bits below d: start at the first slot past them. All
	 * but the last slot of the path hold nodes, plen increasing.
	 */
	unsigned at = depth - 1;
	while (at > 0 && to_node(*path[at - 1])->plen >= d)
		at--;
	slot = path[at];
	struct trie_node *nn;
	for (;;) {
		p = *slot;
		if (p == NULL) {
			lrcu_publish(slot, (void *)leaf);
			goto out;
		}
		unsigned cplen;
		if (is_node(p)) {
			struct trie_node *n = to_node(p);
			if (n->plen < d) {
				slot = &n->child[key_bit(k, n->plen)];
				continue;
			}
			if (n->plen == d) {
				if (d == pl) {
					if (n->leaf != NULL)
						return LISPMS_EEXIST;
					lrcu_publish(&n->leaf, leaf);
					goto out;
				}
				slot = &n->child[key_bit(k, d)];
				if (fails_assert(*slot == NULL))
					return LISPMS_EINTERNAL;
				continue;
			}
			cplen = n->plen;
		} else {
			struct trie_leaf *x = p;
			if (x->plen == d) {
				if (d == pl)
					return LISPMS_EEXIST;
				/* x covers the new prefix: x becomes a node's leaf */
				nn = node_new(t, d);
				if (nn == NULL)
					return LISPMS_ENOMEM;
				nn->leaf = x;
				nn->child[key_bit(k, d)] = leaf;
				lrcu_publish(slot, tag_node(nn));
				goto out;
			}
			cplen = x->plen;
		}
		if (fails_assert(cplen > d))
			return LISPMS_EINTERNAL;
		nn = node_new(t, d);
		if (nn == NULL)
			return LISPMS_ENOMEM;
		if (d == pl) {
			/* the new prefix covers p */
			nn->leaf = leaf;
			nn->child[key_bit(any_leaf_w(p)->key, d)] = p;
		} else {
			unsigned b = key_bit(k, d);
			nn->child[b] = leaf;
			nn->child[!b] = p;
		}
		lrcu_publish(slot, tag_node(nn));
		goto out;
	}
out:
	t->leaves++;
	return LISPMS_EOK;
}

int trie_replace_w(struct trie *t, struct trie_leaf *leaf, struct trie_leaf **old)
{
	const uint8_t *k = leaf->key;
	unsigned pl = leaf->plen;
	void **slot = &t->root;
	for (;;) {
		void *p = *slot;
		if (p == NULL)
			return LISPMS_ENOENT;
		if (!is_node(p)) {
			struct trie_leaf *l = p;
			if (l->plen != pl || first_diff(l->key, k, pl) != pl)
				return LISPMS_ENOENT;
			lrcu_publish(slot, (void *)leaf);
			*old = l;
			return LISPMS_EOK;
		}
		struct trie_node *n = to_node(p);
		if (n->plen > pl)
			return LISPMS_ENOENT;
		if (n->plen == pl) {
			struct trie_leaf *l = n->leaf;
			if (l == NULL || first_diff(l->key, k, pl) != pl)
				return LISPMS_ENOENT;
			lrcu_publish(&n->leaf, leaf);
			*old = l;
			return LISPMS_EOK;
		}
		slot = &n->child[key_bit(k, n->plen)];
	}
}

static void node_drop(struct trie *t, struct trie_node *n, struct reclaim *rc)
{
	t->nodes--;
	reclaim_push_w(rc, free, n);
}

int trie_remove_w(struct trie *t, const uint8_t *key, unsigned plen, struct reclaim *rc,
		  struct trie_leaf **out)
{
	void **pslot = NULL;
	void **slot = &t->root;
	for (;;) {
		void *p = *slot;
		if (p == NULL)
			return LISPMS_ENOENT;
		if (!is_node(p)) {
			struct trie_leaf *l = p;
			if (l->plen != plen || first_diff(l->key, key, plen) != plen)
				return LISPMS_ENOENT;
			if (pslot == NULL) {
				lrcu_publish(slot, NULL);
			} else {
				struct trie_node *par = to_node(*pslot);
				void *other = par->child[slot == &par->child[0] ? 1 : 0];
				if (par->leaf != NULL && other != NULL) {
					lrcu_publish(slot, NULL);
				} else {
					void *keep = par->leaf != NULL ? (void *)par->leaf : other;
					lrcu_publish(pslot, keep);
					node_drop(t, par, rc);
				}
			}
			*out = l;
			t->leaves--;
			return LISPMS_EOK;
		}
		struct trie_node *n = to_node(p);
		if (n->plen > plen)
			return LISPMS_ENOENT;
		if (n->plen == plen) {
			struct trie_leaf *l = n->leaf;
			if (l == NULL || first_diff(l->key, key, plen) != plen)
				return LISPMS_ENOENT;
			if (n->child[0] != NULL && n->child[1] != NULL) {
				lrcu_publish(&n->leaf, NULL);
			} else {
				lrcu_publish(slot, n->child[0] != NULL ? n->child[0] : n->child[1]);
				node_drop(t, n, rc);
			}
			*out = l;
			t->leaves--;
			return LISPMS_EOK;
		}
		pslot = slot;
		slot = &n->child[key_bit(key, n->plen)];
	}
}
