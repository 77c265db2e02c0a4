/* SPDX-License-Identifier: MIT */
/* The DDT node's delegation table and its answers (ddt.h). */
#include "ddt.h"

#include <stdlib.h>
#include <string.h>

#include <lispms/db/trie.h>
#include <lispms/err.h>
#include <lispms/proto.h>
#include <lispms/rcu.h>
#include <lispms/wire.h>

struct ddt_pfx {
	const struct conf_ddt_delegation *deleg; /* NULL in the authoritative set */
	struct trie_leaf leaf;			 /* last: the trie key follows */
};

struct ddt_tree {
	uint32_t iid;
	uint16_t afi;
	struct trie trie;
};

/* One set of prefixes: a trie per (instance, family), sorted. */
struct ddt_set {
	struct ddt_tree *trees;
	size_t ntrees;
};

struct ddt_index {
	const struct conf_ddt *conf;
	struct ddt_set deleg, auth;
	struct referral_key *sign_key; /* ddt.signing-key, NULL: unsigned */
	uint64_t id;		       /* unique per index: a cached signature's key */
};

/* ddt_sigcache: entries, and the longest record kept (longer ones are signed each time) */
#define DDT_SIGCACHE_SLOTS 1024
#define DDT_SIGCACHE_REC   256

struct ddt_sigslot {
	uint64_t index_id; /* 0: empty */
	uint32_t expiration;
	uint16_t rec_len, sig_len;
	uint8_t rec[DDT_SIGCACHE_REC];
	uint8_t hdr[LISP_REF_SIG_MIN_LEN];
	uint8_t sig[LISP_REF_KEY_MAX_BITS / 8];
};

struct ddt_sigcache {
	struct ddt_sigslot slot[DDT_SIGCACHE_SLOTS];
};

static int tree_cmp(const void *a, const void *b)
{
	const struct ddt_tree *x = a, *y = b;
	if (x->iid != y->iid)
		return x->iid < y->iid ? -1 : 1;
	return (int)x->afi - (int)y->afi;
}

static const struct ddt_tree *find_tree(const struct ddt_set *s, const struct eid_prefix *p)
{
	struct ddt_tree key = { .iid = p->iid, .afi = p->afi };
	return bsearch(&key, s->trees, s->ntrees, sizeof(key), tree_cmp);
}

static void free_leaf(struct trie_leaf *leaf, void *arg)
{
	(void)arg;
	free(caa_container_of(leaf, struct ddt_pfx, leaf));
}

static void set_free(struct ddt_set *s)
{
	for (size_t i = 0; i < s->ntrees; i++)
		trie_deinit(&s->trees[i].trie, free_leaf, NULL);
	free(s->trees);
}

/* The n prefixes at(arg, i); delegs[i] is prefix i's delegation, or delegs is NULL. */
static int set_build(struct ddt_set *s, const struct eid_prefix *(*at)(const void *, size_t),
		     const void *arg, size_t n, const struct conf_ddt_delegation *delegs)
{
	s->trees = calloc(n ? n : 1, sizeof(*s->trees));
	if (s->trees == NULL)
		return LISPMS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct eid_prefix *p = at(arg, i);
		struct ddt_tree key = { .iid = p->iid, .afi = p->afi };
		bool seen = false;
		for (size_t t = 0; t < s->ntrees && !seen; t++)
			seen = tree_cmp(&key, &s->trees[t]) == 0;
		if (!seen)
			s->trees[s->ntrees++] = key;
	}
	qsort(s->trees, s->ntrees, sizeof(*s->trees), tree_cmp);
	for (size_t t = 0; t < s->ntrees; t++)
		if (trie_init(&s->trees[t].trie, lisp_afi_bits(s->trees[t].afi)) != LISPMS_EOK)
			return LISPMS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct eid_prefix *p = at(arg, i);
		struct ddt_tree *t = (struct ddt_tree *)find_tree(s, p);
		struct ddt_pfx *v = calloc(1, sizeof(*v) + trie_key_len(&t->trie));
		if (v == NULL)
			return LISPMS_ENOMEM;
		v->deleg = delegs ? &delegs[i] : NULL;
		v->leaf.plen = p->plen;
		memcpy(v->leaf.key, p->bytes, trie_key_len(&t->trie));
		int ret = trie_insert_w(&t->trie, &v->leaf);
		if (ret == LISPMS_EEXIST) { /* an authoritative prefix given twice */
			free(v);
			continue;
		}
		if (ret != LISPMS_EOK) {
			free(v);
			return ret;
		}
	}
	return LISPMS_EOK;
}

static const struct eid_prefix *deleg_at(const void *arg, size_t i)
{
	return &((const struct conf_ddt_delegation *)arg)[i].prefix;
}

static const struct eid_prefix *auth_at(const void *arg, size_t i)
{
	return &((const struct eid_prefix *)arg)[i];
}

struct ddt_index *ddt_index_new(const struct conf *c, int *err)
{
	const struct conf_ddt *d = conf_ddt(c);
	*err = LISPMS_EOK;
	if (!d->enabled)
		return NULL;
	struct ddt_index *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		*err = LISPMS_ENOMEM;
		return NULL;
	}
	x->conf = d;
	static uint64_t next_id; /* a start and a reload may build one each */
	x->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	*err = set_build(&x->deleg, deleg_at, d->delegations, d->ndelegations, d->delegations);
	if (*err == LISPMS_EOK)
		*err = set_build(&x->auth, auth_at, d->authoritative, d->nauthoritative, NULL);
	if (*err == LISPMS_EOK && d->signing_key.pem != NULL) {
		/* the text the configuration checked: parses again unless out of memory */
		size_t n;
		const char *why;
		*err = referral_key_parse(d->signing_key.pem, d->signing_key.pem_len, true,
					  &x->sign_key, 1, &n, &why);
	}
	if (*err != LISPMS_EOK) {
		ddt_index_free(x);
		return NULL;
	}
	return x;
}

void ddt_index_free(struct ddt_index *x)
{
	if (x == NULL)
		return;
	set_free(&x->deleg);
	set_free(&x->auth);
	referral_key_free(x->sign_key);
	free(x);
}

const struct referral_key *ddt_sign_key(const struct ddt_index *x)
{
	return x ? x->sign_key : NULL;
}

void ddt_sig_header(const struct ddt_index *x, uint32_t ttl, uint64_t now_s, struct lisp_ref_sig *s)
{
	static const uint8_t zeros[LISP_REF_KEY_MAX_BITS / 8];
	*s = (struct lisp_ref_sig){
		.orig_ttl = ttl,
		.expiration = (uint32_t)(now_s + (uint64_t)x->conf->signature_validity * 60u),
		.inception = (uint32_t)(now_s > DDT_SIG_SKEW_S ? now_s - DDT_SIG_SKEW_S : 0),
		.key_tag = referral_key_tag(x->sign_key),
		.alg = LISP_REF_SIG_RSA_SHA256,
		.len = (uint16_t)referral_key_sig_len(x->sign_key),
		.data = zeros,
	};
}

void ddt_sigcache_free(struct ddt_sigcache *c)
{
	free(c);
}

static uint32_t rec_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a: our own records, not an attacker's choice */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int ddt_sign(const struct ddt_index *x, struct ddt_sigcache **c, uint8_t *buf, size_t len,
	     uint64_t now_s, bool *made)
{
	*made = false;
	size_t slen = referral_key_sig_len(x->sign_key);
	size_t tail = LISP_REF_SIG_MIN_LEN + slen;
	if (len < 12 + tail)
		return LISPMS_EINVAL;
	const uint8_t *rec = buf + 12;
	size_t rec_len = len - 12 - tail;
	uint8_t *hdr = buf + len - tail;
	if (*c == NULL)
		*c = calloc(1, sizeof(**c));
	struct ddt_sigslot *s = NULL;
	if (*c != NULL && rec_len <= DDT_SIGCACHE_REC) {
		s = &(*c)->slot[rec_hash(rec, rec_len) % DDT_SIGCACHE_SLOTS];
		uint64_t half = (uint64_t)x->conf->signature_validity * 30u;
		if (s->index_id == x->id && s->rec_len == rec_len && s->sig_len == slen &&
		    now_s + half < s->expiration && memcmp(s->rec, rec, rec_len) == 0 &&
		    memcmp(s->hdr, hdr, 4) == 0 /* the same Original Record TTL */) {
			memcpy(hdr, s->hdr, LISP_REF_SIG_MIN_LEN);
			memcpy(hdr + LISP_REF_SIG_MIN_LEN, s->sig, slen);
			return LISPMS_EOK;
		}
	}
	int ret = map_referral_sign_single(x->sign_key, buf, len);
	if (ret != LISPMS_EOK)
		return ret;
	*made = true;
	if (s != NULL) {
		s->index_id = x->id;
		s->expiration = wire_get_u32(hdr + 4);
		s->rec_len = (uint16_t)rec_len;
		s->sig_len = (uint16_t)slen;
		memcpy(s->rec, rec, rec_len);
		memcpy(s->hdr, hdr, LISP_REF_SIG_MIN_LEN);
		memcpy(s->sig, hdr + LISP_REF_SIG_MIN_LEN, slen);
	}
	return LISPMS_EOK;
}

const struct conf_ddt *ddt_index_conf(const struct ddt_index *x)
{
	return x ? x->conf : NULL;
}

static const struct ddt_pfx *lpm(const struct ddt_set *s, const struct eid_prefix *p)
{
	const struct ddt_tree *t = find_tree(s, p);
	if (t == NULL)
		return NULL;
	struct trie_leaf *leaf = trie_lookup_lpm(&t->trie, p->bytes, p->plen);
	return leaf ? caa_container_of(leaf, struct ddt_pfx, leaf) : NULL;
}

static int stop_at_first(struct trie_leaf *leaf, void *arg)
{
	(void)leaf;
	(void)arg;
	return 1;
}

static struct eid_prefix with_len(const struct eid_prefix *eid, unsigned plen)
{
	struct eid_prefix p = *eid;
	p.plen = (uint8_t)plen;
	eid_prefix_normalize(&p);
	return p;
}

/* Some delegation lies inside p (p included). */
static bool deleg_within(const struct ddt_index *x, const struct eid_prefix *p)
{
	const struct ddt_tree *t = find_tree(&x->deleg, p);
	return t != NULL && trie_walk(&t->trie, p->bytes, p->plen, stop_at_first, NULL) != 0;
}

void ddt_decide(const struct ddt_index *x, const struct eid_prefix *eid, struct ddt_answer *out)
{
	memset(out, 0, sizeof(*out));
	const struct ddt_pfx *d = x ? lpm(&x->deleg, eid) : NULL;
	if (d != NULL) {
		out->act = d->deleg->map_servers ? LISP_REF_MS_REFERRAL : LISP_REF_NODE_REFERRAL;
		out->authoritative = true;
		out->prefix = d->deleg->prefix;
		out->ttl = x->conf->referral_ttl;
		out->deleg = d->deleg;
		return;
	}
	const struct ddt_pfx *a = x ? lpm(&x->auth, eid) : NULL;
	if (a == NULL) {
		out->act = LISP_REF_NOT_AUTHORITATIVE;
		out->prefix = *eid;
		out->ttl = 0;
		return;
	}
	/* the shortest length in [auth plen, eid plen] whose prefix holds no delegation */
	unsigned lo = a->leaf.plen, hi = eid->plen;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		struct eid_prefix p = with_len(eid, mid);
		if (deleg_within(x, &p))
			lo = mid + 1;
		else
			hi = mid;
	}
	out->act = LISP_REF_DELEGATION_HOLE;
	out->authoritative = true;
	out->prefix = with_len(eid, lo);
	out->ttl = x->conf->hole_ttl;
}
