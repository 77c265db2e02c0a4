/* SPDX-License-Identifier: MIT */
/*
 * Resumable walks over db_walk(). In walk order (pre-order: a prefix, then
 * its 0 half, then its 1 half) the prefixes after C are C's descendants,
 * then, for each bit i of C from the last to the first that is 0, the
 * subtree C[0..i) followed by a 1 bit. Each of those is one DB_SCOPE_PREFIX
 * walk, so resuming costs a descent per bit instead of re-visiting what the
 * earlier steps saw.
 */
#include <lispms/db.h>
#include <lispms/err.h>

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
