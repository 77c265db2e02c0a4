/* SPDX-License-Identifier: MIT */
/*
 * The Map-Resolver's check of signed Map-Referrals (RFC 8111 §7,
 * docs/protocol.md D24; the contract is in include/lispms/mr.h): the
 * configured trust anchors and per-prefix delegation keys, and the rule
 * choosing which of them must have signed a referral. Built once from the
 * configuration, then only read by the resolver's thread.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/mr.h>

struct mr_keyset {
	struct eid_prefix prefix; /* the delegated prefix; unused for the anchors */
	struct referral_key *keys[LISP_REF_MAX_KEYS];
	size_t n;
};

/*
 * Signatures that verified, so the same record signed the same way (every
 * MS-ACK of a Map-Server for one prefix, while its signature is reused, D24)
 * costs a comparison instead of an RSA verification (~17 us). Keyed by the
 * key set that verified it; direct-mapped by a hash of the record.
 */
#define MR_SIG_VSLOTS 1024
#define MR_SIG_VREC   256 /* longer records are verified every time */

struct mr_vslot {
	const struct mr_keyset *keys; /* NULL: empty */
	uint16_t rec_len, sig_len;
	uint8_t rec[MR_SIG_VREC]; /* from after the Record TTL (not signed) */
	uint8_t hdr[LISP_REF_SIG_MIN_LEN];
	uint8_t sig[LISP_REF_KEY_MAX_BITS / 8];
};

struct mr_sig {
	struct mr_keyset anchors;
	struct mr_keyset *sets; /* map-resolver.delegation-keys, in file order */
	size_t nsets;
	uint64_t now_s;	     /* 0: the real clock */
	struct mr_vslot *vc; /* MR_SIG_VSLOTS; NULL: no memory, verify every time */
	uint64_t vhits;	     /* tests */
};

static void keyset_free(struct mr_keyset *k)
{
	for (size_t i = 0; i < k->n; i++)
		referral_key_free(k->keys[i]);
	k->n = 0;
}

static int keyset_load(const struct conf_key_file *f, struct mr_keyset *k)
{
	const char *why;
	/* the configuration parsed this text already: only memory can fail */
	return referral_key_parse(f->pem, f->pem_len, false, k->keys, LISP_REF_MAX_KEYS, &k->n,
				  &why);
}

int mr_sig_from_conf(const struct conf_map_resolver *c, struct mr_sig **out)
{
	*out = NULL;
	if (c->trust_anchors.pem == NULL)
		return LISPMS_EOK;
	struct mr_sig *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LISPMS_ENOMEM;
	s->sets = calloc(c->ndelegation_keys ? c->ndelegation_keys : 1, sizeof(*s->sets));
	int ret = s->sets ? keyset_load(&c->trust_anchors, &s->anchors) : LISPMS_ENOMEM;
	for (size_t i = 0; ret == LISPMS_EOK && i < c->ndelegation_keys; i++) {
		s->sets[i].prefix = c->delegation_keys[i].prefix;
		ret = keyset_load(&c->delegation_keys[i].key, &s->sets[i]);
		s->nsets = i + 1;
	}
	if (ret != LISPMS_EOK) {
		mr_sig_free(s);
		return ret;
	}
	s->vc = calloc(MR_SIG_VSLOTS, sizeof(*s->vc)); /* only a cache: NULL is fine */
	*out = s;
	return LISPMS_EOK;
}

void mr_sig_free(struct mr_sig *s)
{
	if (s == NULL)
		return;
	keyset_free(&s->anchors);
	for (size_t i = 0; i < s->nsets; i++)
		keyset_free(&s->sets[i]);
	free(s->sets);
	free(s->vc);
	free(s);
}

uint64_t mr_sig_cache_hits(const struct mr_sig *s)
{
	return s->vhits;
}

void mr_sig_set_now(struct mr_sig *s, uint64_t now_s)
{
	s->now_s = now_s;
}

/*
 * The keys of the node answering through the referral for `via`: the
 * longest configured prefix covering it (several entries of that prefix
 * are searched in turn by the caller: see keys_try). NULL: none.
 */
static const struct mr_keyset *keys_for(const struct mr_sig *s, const struct eid_prefix *via,
					size_t *first)
{
	const struct mr_keyset *best = NULL;
	for (size_t i = 0; i < s->nsets; i++) {
		const struct mr_keyset *k = &s->sets[i];
		if (eid_prefix_covers(&k->prefix, via) &&
		    (best == NULL || k->prefix.plen > best->prefix.plen)) {
			best = k;
			*first = i;
		}
	}
	return best;
}

static struct mr_vslot *vslot(struct mr_sig *s, const struct lisp_referral_record *rr,
			      const struct lisp_ref_sig *sg)
{
	if (s->vc == NULL || rr->wire_len < 4 || rr->wire_len - 4 > MR_SIG_VREC ||
	    sg->len > LISP_REF_KEY_MAX_BITS / 8 || sg->data == NULL)
		return NULL;
	uint32_t h = 2166136261u; /* FNV-1a: a slot choice only, the bytes are compared */
	for (size_t i = 4; i < rr->wire_len; i++)
		h = (h ^ rr->wire[i]) * 16777619u;
	for (size_t i = 0; i < sg->len; i++)
		h = (h ^ sg->data[i]) * 16777619u;
	return &s->vc[h % MR_SIG_VSLOTS];
}

static bool sig_ok(struct mr_sig *s, const struct mr_keyset *k,
		   const struct lisp_referral_record *rr, const struct lisp_ref_sig *sg)
{
	struct mr_vslot *v = vslot(s, rr, sg);
	if (v != NULL && v->keys == k && v->rec_len == rr->wire_len - 4 && v->sig_len == sg->len &&
	    memcmp(v->rec, rr->wire + 4, v->rec_len) == 0 &&
	    memcmp(v->hdr, sg->hdr, LISP_REF_SIG_MIN_LEN) == 0 &&
	    memcmp(v->sig, sg->data, sg->len) == 0) {
		s->vhits++;
		return true; /* these very bytes verified with these keys before */
	}
	for (size_t i = 0; i < k->n; i++)
		if (referral_sig_verify(k->keys[i], rr, sg) == LISPMS_EOK) {
			if (v != NULL) {
				v->keys = k;
				v->rec_len = (uint16_t)(rr->wire_len - 4);
				v->sig_len = sg->len;
				memcpy(v->rec, rr->wire + 4, v->rec_len);
				memcpy(v->hdr, sg->hdr, LISP_REF_SIG_MIN_LEN);
				memcpy(v->sig, sg->data, sg->len);
			}
			return true;
		}
	return false;
}

/* One of the record's signatures verifies with the keys for `via` (every entry of its prefix). */
static bool record_ok(struct mr_sig *s, const struct lisp_referral_record *rr,
		      const struct eid_prefix *via, uint64_t now)
{
	size_t first = 0;
	const struct mr_keyset *best = via ? keys_for(s, via, &first) : &s->anchors;
	for (unsigned j = 0; j < rr->r.rsvd; j++) {
		const struct lisp_ref_sig *sg = &rr->sigs[j];
		/* RFC 8111 §6.4.1: not before Inception, not after Expiration; the
		 * Record TTL is not signed, so it may not exceed the signed one */
		if (now < sg->inception || now > sg->expiration || rr->r.ttl > sg->orig_ttl)
			continue;
		if (via == NULL) {
			if (sig_ok(s, best, rr, sg))
				return true;
			continue;
		}
		for (size_t i = first; i < s->nsets; i++)
			if (eid_prefix_equal(&s->sets[i].prefix, &best->prefix) &&
			    sig_ok(s, &s->sets[i], rr, sg))
				return true;
	}
	return false;
}

enum mr_stat mr_sig_check(struct mr_sig *s, const struct lisp_map_referral *ref,
			  const struct eid_prefix *via)
{
	size_t first = 0;
	if (via != NULL && keys_for(s, via, &first) == NULL)
		return MR_ST_SIG_NO_KEY;
	if (ref->nrecords == 0)
		return MR_ST_SIG_UNSIGNED; /* nothing signed (found by fuzz_ms_mr_sig) */
	uint64_t now = s->now_s ? s->now_s : (uint64_t)time(NULL);
	for (unsigned i = 0; i < ref->nrecords; i++) {
		const struct lisp_referral_record *rr = &ref->records[i];
		if (rr->r.rsvd == 0)
			return MR_ST_SIG_UNSIGNED;
		if (!record_ok(s, rr, via, now))
			return MR_ST_SIG_FAILED;
	}
	return MR_ST_MAX;
}
