/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
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

/*
 * The jump table: where the writer starts an insert. In a trie of a million
 * random keys an insert walks ~20 levels, and the deep ones are cache (and
 * TLB) misses, ~150 ns each on this hardware. The table maps bits
 * [base, base + bits) of a key, its bucket, to a node whose keys all lie in
 * that bucket, normally the topmost one, so an insert starts a few levels
 * above the leaves. Readers never use it.
 *
 * An entry is a hint. The walk down from the node ends at a leaf, and the
 * key agreeing with that leaf on the node's plen bits proves that the key's
 * path from the root goes through the node (every node above it tests a
 * bit below its plen, where the key agrees with all of its keys); otherwise
 * the insert walks from the root. So bucket collisions (keys outside the
 * common prefix `base` was taken from) cost a walk, never correctness.
 *
 * What keeps hints safe, under the writer lock: an entry is 0 or a node in
 * the trie with plen >= base + bits, whose keys have the entry's bucket;
 * a node leaving the trie is cleared from its bucket (node_drop, from a key
 * below it). An insert that walked from the root notes the topmost such node
 * on the key's path. Tables are sized 2^bits between n/8 and n/4 for n
 * leaves (at most 2 bytes per leaf); a grown table starts empty, fills as
 * inserts walk from the root, and the old one is freed after a grace period
 * (trie_insert_prefetch reads it under RCU).
 */
struct trie_jump {
	struct rcu_head rcu;
	uint8_t base, bits;
	_Atomic uintptr_t slot[]; /* struct trie_node *, relaxed: written under the lock */
};

#define JUMP_MIN_BITS 2u  /* the first table at 4 << 2 leaves: small tries exercise it too */
#define JUMP_MAX_BITS 30u /* 8 GiB of entries: never in practice */

/* The bucket of key: its bits [base, base + bits), base + bits <= key bits. */
static inline size_t jump_index(const struct trie_jump *j, const uint8_t *key)
{
	unsigned b = j->base, first = b >> 3, last = (b + j->bits - 1u) >> 3;
	uint64_t v = 0;
	for (unsigned i = first; i <= last; i++)
		v = (v << 8) | key[i];
	v >>= (last - first + 1u) * 8u - (b & 7u) - j->bits;
	return (size_t)(v & ((UINT64_C(1) << j->bits) - 1u));
}

/* The entry for key, or NULL when there is no table or plen stops above it. */
static inline _Atomic uintptr_t *jump_entry(const struct trie_jump *j, const uint8_t *key,
					    unsigned plen)
{
	if (j == NULL || plen < (unsigned)j->base + j->bits)
		return NULL;
	return (_Atomic uintptr_t *)&j->slot[jump_index(j, key)];
}

static void jump_free_rcu(struct rcu_head *head)
{
#ifdef LISPMS_RCU_TSAN
	LRCU_TSAN_ACQUIRE(&lrcu_tsan_gp);
#endif
	free(caa_container_of(head, struct trie_jump, rcu));
}

int trie_init(struct trie *t, unsigned key_bits)
{
	if (key_bits == 0 || key_bits > LISPMS_TRIE_MAX_BITS || key_bits % 8 != 0)
		return LISPMS_EINVAL;
	t->root = NULL;
	t->jump = NULL;
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
	free(t->jump); /* no reader is left */
	t->jump = NULL;
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

/*
 * The batched walks: every key advances one node per round, round-robin, so
 * the prefetch of one key's next node overlaps the work on the others.
 * step(ctx, i) advances key i and returns false once it is done. Inlined
 * into each caller with its step, so the call is direct.
 */
static inline __attribute__((always_inline)) void
batch_walk(unsigned n, bool (*step)(void *ctx, unsigned i), void *ctx)
{
	unsigned live[LISPMS_TRIE_BATCH];
	unsigned nlive = 0;
	for (unsigned i = 0; i < n; i++) /* the first round lists who goes on */
		if (step(ctx, i))
			live[nlive++] = i;
	while (nlive > 0) {
		unsigned keep = 0;
		for (unsigned j = 0; j < nlive; j++)
			if (step(ctx, live[j]))
				live[keep++] = live[j];
		nlive = keep;
	}
}

/* Prefetch the line a walk reads next: a node's header, or a leaf. */
static inline void prefetch_next(void *next)
{
	__builtin_prefetch(is_node(next) ? (void *)to_node(next) : next);
}

struct lpm_batch {
	const uint8_t *const *keys;
	const unsigned *plens;
	struct trie_leaf **out;
	void *cur[LISPMS_TRIE_BATCH];
	unsigned ncand[LISPMS_TRIE_BATCH];
	struct trie_leaf *cand[LISPMS_TRIE_BATCH][LISPMS_TRIE_MAX_BITS + 1];
};

static inline bool lpm_step(void *ctx, unsigned i)
{
	struct lpm_batch *b = ctx;
	void *p = b->cur[i];
	if (p == NULL || !is_node(p)) {
		b->out[i] = lpm_finish(p, b->cand[i], b->ncand[i], b->keys[i], b->plens[i]);
		return false;
	}
	struct trie_node *nd = to_node(p);
	if (nd->plen > b->plens[i]) {
		b->out[i] = lpm_finish(NULL, b->cand[i], b->ncand[i], b->keys[i], b->plens[i]);
		return false;
	}
	struct trie_leaf *l = lrcu_deref(nd->leaf);
	if (l != NULL)
		b->cand[i][b->ncand[i]++] = l;
	if (nd->plen == b->plens[i]) {
		b->out[i] = lpm_finish(NULL, b->cand[i], b->ncand[i], b->keys[i], b->plens[i]);
		return false;
	}
	void *next = lrcu_deref(nd->child[key_bit(b->keys[i], nd->plen)]);
	if (next != NULL)
		prefetch_next(next);
	b->cur[i] = next;
	return true;
}

void trie_lookup_lpm_batch(const struct trie *t, const uint8_t *const keys[],
			   const unsigned plens[], unsigned n, struct trie_leaf *out[])
{
	struct lpm_batch b;
	b.keys = keys;
	b.plens = plens;
	b.out = out;
	if (n > LISPMS_TRIE_BATCH)
		n = LISPMS_TRIE_BATCH;
	void *root = lrcu_deref(t->root);
	for (unsigned i = 0; i < n; i++) {
		b.cur[i] = root;
		b.ncand[i] = 0;
	}
	batch_walk(n, lpm_step, &b);
}

struct touch_batch {
	const uint8_t *const *keys;
	const unsigned *plens;
	void *cur[LISPMS_TRIE_BATCH];
};

static inline bool touch_step(void *ctx, unsigned i)
{
	struct touch_batch *b = ctx;
	void *p = b->cur[i];
	if (p == NULL || !is_node(p))
		return false; /* a leaf's line was prefetched when it was reached */
	struct trie_node *nd = to_node(p);
	if (nd->plen >= b->plens[i])
		return false;
	void *next = lrcu_deref(nd->child[key_bit(b->keys[i], nd->plen)]);
	if (next == NULL)
		return false;
	prefetch_next(next);
	b->cur[i] = next;
	return true;
}

void trie_touch_batch(const struct trie *t, const uint8_t *const keys[], const unsigned plens[],
		      unsigned n)
{
	struct touch_batch b;
	b.keys = keys;
	b.plens = plens;
	if (n > LISPMS_TRIE_BATCH)
		n = LISPMS_TRIE_BATCH;
	void *root = lrcu_deref(t->root);
	const struct trie_jump *jt = lrcu_deref(t->jump);
	for (unsigned i = 0; i < n; i++) {
		/* where trie_insert_w will start: the bucket's node, else the root */
		_Atomic uintptr_t *e = jump_entry(jt, keys[i], plens[i]);
		uintptr_t h = e != NULL ? atomic_load_explicit(e, memory_order_acquire) : 0;
		b.cur[i] = h != 0 ? tag_node((struct trie_node *)h) : root;
		if (h != 0)
			__builtin_prefetch((const void *)h);
	}
	batch_walk(n, touch_step, &b);
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

/*
 * The key (plen) was just inserted after a walk from the root: its bucket's
 * entry gets the topmost node on its path at or below the bucket depth. The
 * path is in cache from the insert.
 */
static void jump_note(const struct trie *t, _Atomic uintptr_t *entry, const uint8_t *key,
		      unsigned plen)
{
	unsigned lim = (unsigned)t->jump->base + t->jump->bits;
	void *p = t->root;
	while (is_node(p)) {
		struct trie_node *n = to_node(p);
		if (n->plen >= plen)
			return; /* the key is this node's leaf: no node below it */
		if (n->plen >= lim) {
			/* release: trie_touch_batch reads the node it finds here */
			atomic_store_explicit(entry, (uintptr_t)n, memory_order_release);
			return;
		}
		p = n->child[key_bit(key, n->plen)];
	}
}

/*
 * Fill a table one bit finer from the old one, so that a growth does not
 * send the next insert of every bucket back to the root: a node splitting
 * at the new bit gives its two child nodes to the two halves, a deeper one
 * goes to the half of its keys. Groups of nodes are prefetched first; a
 * growth at 2^k entries costs ~2^(k-2) misses, once per doubling.
 */
static void jump_split(struct trie_jump *nj, const struct trie_jump *old)
{
	enum { GROUP = 32 };
	size_t n = (size_t)1 << old->bits;
	unsigned bit = (unsigned)old->base + old->bits;
	for (size_t g = 0; g < n; g += GROUP) {
		size_t end = g + GROUP < n ? g + GROUP : n;
		for (size_t b = g; b < end; b++) {
			uintptr_t v = atomic_load_explicit(&old->slot[b], memory_order_relaxed);
			if (v != 0)
				__builtin_prefetch((const void *)v);
		}
		for (size_t b = g; b < end; b++) {
			struct trie_node *x = (struct trie_node *)atomic_load_explicit(
			    &old->slot[b], memory_order_relaxed);
			if (x == NULL)
				continue;
			if (x->plen == bit) {
				for (unsigned h = 0; h < 2; h++)
					if (is_node(x->child[h]))
						atomic_store_explicit(
						    &nj->slot[2 * b + h],
						    (uintptr_t)to_node(x->child[h]),
						    memory_order_relaxed);
			} else {
				unsigned h = key_bit(any_leaf_w(tag_node(x))->key, bit);
				atomic_store_explicit(&nj->slot[2 * b + h], (uintptr_t)x,
						      memory_order_relaxed);
			}
		}
	}
}

/* A table of about n/4 entries once the trie has 8 leaves per entry (or 16 to start). */
static void jump_grow(struct trie *t)
{
	struct trie_jump *old = t->jump;
	size_t want = old != NULL ? (size_t)8 << old->bits : (size_t)4 << JUMP_MIN_BITS;
	if (t->leaves < want || !is_node(t->root))
		return;
	unsigned base = to_node(t->root)->plen, bits = JUMP_MIN_BITS;
	while (bits < JUMP_MAX_BITS && ((size_t)4 << (bits + 1)) <= t->leaves)
		bits++;
	if (base + bits > t->key_bits)
		bits = t->key_bits - base;
	if (bits < JUMP_MIN_BITS || (old != NULL && bits <= old->bits))
		return;
	struct trie_jump *j = calloc(1, sizeof(*j) + ((size_t)1 << bits) * sizeof(j->slot[0]));
	if (j == NULL)
		return; /* the old table (or none) still gives correct hints */
	j->base = (uint8_t)base;
	j->bits = (uint8_t)bits;
	if (old != NULL && old->base == base && old->bits + 1u == bits)
		jump_split(j, old);
	lrcu_publish(&t->jump, j);
	if (old != NULL)
		lrcu_call(&old->rcu, jump_free_rcu);
}

void trie_insert_prefetch(const struct trie *t, const uint8_t *key, unsigned plen)
{
	const struct trie_jump *j = lrcu_deref(t->jump);
	_Atomic uintptr_t *e = jump_entry(j, key, plen);
	if (e == NULL)
		return;
	uintptr_t n = atomic_load_explicit(e, memory_order_relaxed);
	if (n != 0)
		__builtin_prefetch((const void *)n);
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

	/* the bucket's node, when the key is longer than it */
	_Atomic uintptr_t *entry = jump_entry(t->jump, k, pl);
	struct trie_node *hint =
	    entry != NULL ? (struct trie_node *)atomic_load_explicit(entry, memory_order_relaxed)
			  : NULL;
	if (hint != NULL && hint->plen >= pl)
		hint = NULL;

	/* find a leaf near the new key, and the first bit where they part */
	void **path[LISPMS_TRIE_MAX_BITS + 2]; /* the slots walked through */
	unsigned depth, d;
	void **slot;
	void *p;
walk:
	depth = 0;
	if (hint != NULL) {
		p = tag_node(hint); /* path[] starts below it: the insert cannot go above */
	} else {
		slot = &t->root;
		p = *slot;
		path[depth++] = slot;
	}
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
	d = first_diff(a->key, k, a->plen < pl ? a->plen : pl);
	if (hint != NULL && d < hint->plen) {
		hint = NULL; /* the key is not below the hint: walk from the root */
		goto walk;
	}

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
	if (entry != NULL && hint == NULL)
		jump_note(t, entry, k, pl);
	jump_grow(t);
	return LISPMS_EOK;
}

/* n leaves the trie; key is a key below it. */
static void node_drop(struct trie *t, struct trie_node *n, const uint8_t *key, struct reclaim *rc)
{
	_Atomic uintptr_t *e = jump_entry(t->jump, key, n->plen);
	if (e != NULL && atomic_load_explicit(e, memory_order_relaxed) == (uintptr_t)n)
		atomic_store_explicit(e, 0, memory_order_relaxed);
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
					node_drop(t, par, key, rc);
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
				node_drop(t, n, key, rc);
			}
			*out = l;
			t->leaves--;
			return LISPMS_EOK;
		}
		pslot = slot;
		slot = &n->child[key_bit(key, n->plen)];
	}
}

int trie_check_w(const struct trie *t)
{
	/* structure: plen grows downwards, two of {leaf, child[0], child[1]} */
	struct {
		void *p;
		int above; /* plen of the parent node, -1 at the root */
	} stack[2 * LISPMS_TRIE_MAX_BITS + 4];
	unsigned sp = 0;
	size_t nodes = 0, leaves = 0;
	if (t->root != NULL)
		stack[sp++] = (typeof(stack[0])){ t->root, -1 };
	while (sp > 0) {
		void *p = stack[sp - 1].p;
		int above = stack[--sp].above;
		if (!is_node(p)) {
			if ((int)((struct trie_leaf *)p)->plen <= above)
				return LISPMS_EINTERNAL;
			leaves++;
			continue;
		}
		struct trie_node *n = to_node(p);
		if ((int)n->plen <= above || n->plen >= t->key_bits ||
		    (n->leaf != NULL) + (n->child[0] != NULL) + (n->child[1] != NULL) < 2 ||
		    (n->leaf != NULL && n->leaf->plen != n->plen))
			return LISPMS_EINTERNAL;
		nodes++;
		leaves += n->leaf != NULL;
		for (int i = 0; i < 2; i++)
			if (n->child[i] != NULL)
				stack[sp++] = (typeof(stack[0])){ n->child[i], n->plen };
	}
	if (nodes != t->nodes || leaves != t->leaves)
		return LISPMS_EINTERNAL;

	/* jump entries: nodes of the trie, deep enough, in their own bucket */
	const struct trie_jump *j = t->jump;
	for (size_t i = 0; j != NULL && i < ((size_t)1 << j->bits); i++) {
		struct trie_node *n = (struct trie_node *)atomic_load_explicit(
		    (_Atomic uintptr_t *)&j->slot[i], memory_order_relaxed);
		if (n == NULL)
			continue;
		const struct trie_leaf *a = any_leaf_w(tag_node(n));
		if (n->plen < (unsigned)j->base + j->bits || jump_index(j, a->key) != i)
			return LISPMS_EINTERNAL;
		void *p = t->root;
		while (is_node(p) && to_node(p) != n && to_node(p)->plen < n->plen)
			p = to_node(p)->child[key_bit(a->key, to_node(p)->plen)];
		if (p != tag_node(n))
			return LISPMS_EINTERNAL;
	}
	return LISPMS_EOK;
}
