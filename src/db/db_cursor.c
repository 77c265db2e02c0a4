/* SPDX-License-Identifier: MIT */
/*
 * Resumable walks over db_walk(). In walk order (pre-order: a prefix, then
 * its 0 half, then its 1 half) the prefixes after C are C's descendants,
 * then, for each bit i of C from the last to the first that is 0, the
 * subtree C[0..i) followed by a 1 bit. Each of those is one DB_SCOPE_PREFIX
 * walk, so resuming costs a descent per bit instead of re-visiting what the
 * earlier steps saw.
 *
 * db_walk_step() walks a set of roots that way in bounded steps, each in
 * its own read-side section (the control socket's `registrations`, the
 * reload's re-check).
 */
#include <stdlib.h>
#include <string.h>

#include <lispms/db.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

struct skip_ctx {
	const struct eid_prefix *skip;
	db_walk_fn *fn;
	void *arg;
};

static int skip_one(const struct eid_prefix *p, const struct db_mapping *m,
		    const struct db_entry *e, void *arg)
{
	struct skip_ctx *c = arg;
	if (eid_prefix_equal(p, c->skip))
		return 0;
	return c->fn(p, m, e, c->arg);
}

int db_walk_after(const struct db *db, const struct eid_prefix *root,
		  const struct eid_prefix *after, db_walk_fn *fn, void *arg)
{
	if (after == NULL)
		return db_walk(db, DB_SCOPE_PREFIX, root, fn, arg);
	if (!eid_prefix_covers(root, after))
		return LISPMS_EINVAL;
	struct eid_prefix cur = *after;
	cur.plain = root->plain;
	struct skip_ctx c = { .skip = &cur, .fn = fn, .arg = arg };
	int ret = db_walk(db, DB_SCOPE_PREFIX, &cur, skip_one, &c);
	for (unsigned i = after->plen; ret == 0 && i-- > root->plen;) {
		if (eid_prefix_bit(after, i))
			continue;
		struct eid_prefix sib = *after;
		sib.plain = root->plain;
		sib.plen = (uint8_t)(i + 1);
		eid_prefix_normalize(&sib);
		sib.bytes[i >> 3] |= (uint8_t)(0x80u >> (i & 7));
		ret = db_walk(db, DB_SCOPE_PREFIX, &sib, fn, arg);
	}
	return ret;
}

/* ------------------------------------------------------------ stepped walks */

int db_walk_cursor_add(struct db_walk_cursor *c, const struct eid_prefix *root)
{
	if (c->started)
		return LISPMS_EINVAL;
	if (c->nroots == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct eid_prefix *v = realloc(c->roots, ncap * sizeof(*v));
		if (v == NULL)
			return LISPMS_ENOMEM;
		c->roots = v;
		c->cap = ncap;
	}
	c->roots[c->nroots++] = *root;
	return LISPMS_EOK;
}

void db_walk_cursor_free(struct db_walk_cursor *c)
{
	free(c->roots);
	memset(c, 0, sizeof(*c));
}

/* Instance, family, bits, then length: a prefix sorts before those it covers. */
static int root_cmp(const void *a, const void *b)
{
	const struct eid_prefix *x = a, *y = b;
	if (x->iid != y->iid)
		return x->iid < y->iid ? -1 : 1;
	if (x->afi != y->afi)
		return x->afi < y->afi ? -1 : 1;
	int c = memcmp(x->bytes, y->bytes, sizeof(x->bytes));
	return c != 0 ? c : (int)x->plen - (int)y->plen;
}

/*
 * Sort the roots and drop those inside another, so each prefix is walked
 * once. In this order whatever lies between a root and one it covers is
 * covered by it too, so comparing with the last root kept is enough.
 */
static void roots_reduce(struct db_walk_cursor *c)
{
	c->started = true;
	if (c->nroots == 0)
		return;
	qsort(c->roots, c->nroots, sizeof(*c->roots), root_cmp);
	size_t kept = 0;
	for (size_t i = 0; i < c->nroots; i++)
		if (kept == 0 || !eid_prefix_covers(&c->roots[kept - 1], &c->roots[i]))
			c->roots[kept++] = c->roots[i];
	c->nroots = kept;
}

struct step_ctx {
	struct db_walk_cursor *c;
	unsigned left; /* prefixes this step may still visit */
	db_walk_fn *fn;
	void *arg;
};

/* What db_walk_after returns when the step ends after a finished prefix. */
#define STEP_END 1

static int step_one(const struct eid_prefix *p, const struct db_mapping *m,
		    const struct db_entry *e, void *arg)
{
	struct step_ctx *s = arg;
	int r = s->fn(p, m, e, s->arg);
	if (r < 0)
		return r; /* stopped before p */
	s->c->last = *p;
	s->c->have_last = true;
	return r > 0 || --s->left == 0 ? STEP_END : 0;
}

int db_walk_step(const struct db *db, struct db_walk_cursor *c, unsigned limit, db_walk_fn *fn,
		 void *arg)
{
	if (limit == 0)
		return LISPMS_EINVAL;
	if (!c->started)
		roots_reduce(c);
	struct step_ctx s = { .c = c, .left = limit, .fn = fn, .arg = arg };
	int ret = 0;
	lrcu_read_lock();
	for (unsigned begun = 0; c->root < c->nroots && begun < limit; begun++) {
		struct eid_prefix after = c->last;
		ret = db_walk_after(db, &c->roots[c->root], c->have_last ? &after : NULL, step_one,
				    &s);
		if (ret != 0)
			break;
		c->root++; /* this root is done */
		c->have_last = false;
	}
	lrcu_read_unlock();
	if (ret < 0)
		return ret;
	return c->root < c->nroots ? 1 : 0;
}
