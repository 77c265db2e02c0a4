/* SPDX-License-Identifier: MIT */
#include "site_index.h"

#include <stdlib.h>
#include <string.h>

#include <lispms/rcu.h>

struct site_tree {
	uint32_t iid;
	uint16_t afi;
	struct trie trie;
};

struct site_index {
	struct ms_site *sites;
	size_t nsites;
	struct site_tree *trees; /* sorted by (iid, afi) */
	size_t ntrees;
};

static int tree_cmp(const void *a, const void *b)
{
	const struct site_tree *x = a, *y = b;
	if (x->iid != y->iid)
		return x->iid < y->iid ? -1 : 1;
	return (int)x->afi - (int)y->afi;
}

static struct site_tree *find_tree(const struct site_index *x, uint32_t iid, uint16_t afi)
{
	struct site_tree key = { .iid = iid, .afi = afi };
	return bsearch(&key, x->trees, x->ntrees, sizeof(key), tree_cmp);
}

static void free_leaf(struct trie_leaf *leaf, void *arg)
{
	(void)arg;
	free(caa_container_of(leaf, struct site_pfx, leaf));
}

void site_index_free(struct site_index *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->ntrees; i++)
		trie_deinit(&x->trees[i].trie, free_leaf, NULL);
	for (size_t i = 0; i < x->nsites; i++) {
		for (size_t k = 0; k < x->sites[i].nkeys; k++)
			auth_key_clear(&x->sites[i].keys[k]);
		free(x->sites[i].keys);
	}
	free(x->sites);
	free(x->trees);
	free(x);
}

static int add_trees(struct site_index *x, const struct conf *c)
{
	size_t total = 0;
	for (size_t i = 0; i < conf_site_count(c); i++)
		total += conf_site_at(c, i)->nprefixes;
	x->trees = calloc(total ? total : 1, sizeof(*x->trees));
	if (x->trees == NULL)
		return LISPMS_ENOMEM;
	for (size_t i = 0; i < conf_site_count(c); i++) {
		const struct conf_site *s = conf_site_at(c, i);
		for (size_t k = 0; k < s->nprefixes; k++) {
			struct site_tree key = { .iid = s->prefixes[k].iid,
						 .afi = s->prefixes[k].afi };
			bool seen = false;
			for (size_t t = 0; t < x->ntrees && !seen; t++)
				seen = tree_cmp(&key, &x->trees[t]) == 0;
			if (!seen)
				x->trees[x->ntrees++] = key;
		}
	}
	qsort(x->trees, x->ntrees, sizeof(*x->trees), tree_cmp);
	for (size_t t = 0; t < x->ntrees; t++)
		if (trie_init(&x->trees[t].trie, lisp_afi_bits(x->trees[t].afi)) != LISPMS_EOK)
			return LISPMS_EINVAL;
	return LISPMS_EOK;
}

static int add_prefix(struct site_index *x, const struct ms_site *site, const struct eid_prefix *p)
{
	struct site_tree *t = find_tree(x, p->iid, p->afi);
	if (t == NULL)
		return LISPMS_EINTERNAL;
	struct site_pfx *v = calloc(1, sizeof(*v) + trie_key_len(&t->trie));
	if (v == NULL)
		return LISPMS_ENOMEM;
	v->site = site;
	v->prefix = *p;
	v->leaf.plen = p->plen;
	memcpy(v->leaf.key, p->bytes, trie_key_len(&t->trie));
	int ret = trie_insert_w(&t->trie, &v->leaf);
	if (ret != LISPMS_EOK)
		free(v);
	return ret;
}

struct site_index *site_index_new(const struct conf *c, site_id_fn *id_fn, void *arg)
{
	struct site_index *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return NULL;
	x->nsites = conf_site_count(c);
	x->sites = calloc(x->nsites ? x->nsites : 1, sizeof(*x->sites));
	if (x->sites == NULL || add_trees(x, c) != LISPMS_EOK)
		goto out_free;

	int ret = LISPMS_EOK;
	for (size_t i = 0; i < x->nsites && ret == LISPMS_EOK; i++) {
		const struct conf_site *cs = conf_site_at(c, i);
		struct ms_site *s = &x->sites[i];
		s->conf = cs;
		s->id = id_fn(arg, cs->name);
		s->keys = calloc(cs->nkeys ? cs->nkeys : 1, sizeof(*s->keys));
		if (s->id == NULL || s->keys == NULL) {
			ret = LISPMS_ENOMEM;
			break;
		}
		for (size_t k = 0; k < cs->nkeys && ret == LISPMS_EOK; k++) {
			ret = auth_key_init(&s->keys[k], cs->keys[k].id, cs->keys[k].alg,
					    cs->keys[k].secret, cs->keys[k].secret_len);
			s->nkeys++;
		}
		for (size_t k = 0; k < cs->nprefixes && ret == LISPMS_EOK; k++)
			ret = add_prefix(x, s, &cs->prefixes[k]);
	}
	if (ret != LISPMS_EOK)
		goto out_free;
	return x;

out_free:
	site_index_free(x);
	return NULL;
}

size_t site_index_count(const struct site_index *x)
{
	return x->nsites;
}

const struct ms_site *site_index_site(const struct site_index *x, size_t i)
{
	return i < x->nsites ? &x->sites[i] : NULL;
}

const struct site_pfx *site_index_lookup(const struct site_index *x, const struct eid_prefix *p)
{
	struct site_tree *t = find_tree(x, p->iid, p->afi);
	if (t == NULL)
		return NULL;
	struct trie_leaf *leaf = trie_lookup_lpm(&t->trie, p->bytes, p->plen);
	return leaf ? caa_container_of(leaf, struct site_pfx, leaf) : NULL;
}

static int stop_at_first(struct trie_leaf *leaf, void *arg)
{
	(void)leaf;
	(void)arg;
	return 1;
}

bool site_index_any_within(const struct site_index *x, const struct eid_prefix *p)
{
	struct site_tree *t = find_tree(x, p->iid, p->afi);
	if (t == NULL)
		return false;
	return trie_walk(&t->trie, p->bytes, p->plen, stop_at_first, NULL) != 0;
}
