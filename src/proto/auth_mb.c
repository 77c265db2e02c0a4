/* SPDX-License-Identifier: MIT */
/*
 * Authentication over a batch: auth_batch_verify() and auth_batch_sign()
 * give, element by element, what auth_verify() and auth_sign() give, but
 * hash the batch's messages in one multi-buffer submission per algorithm
 * (Intel's ipsec-mb, meson feature ipsec_mb): the library runs 8 or 16
 * SHA-256 lanes side by side in AVX2/AVX-512 registers (or SHA-NI), where
 * OpenSSL hashes one message at a time.
 *
 * ipsec-mb's HMAC starts from the digest states after one block of
 * key ^ ipad and key ^ opad, which auth_key_init() computes once per key
 * (auth_mb_key_prep(), the site index does it at every load and reload).
 * Its input is one contiguous buffer with the authentication data zeroed.
 * When the caller owns the message's memory (auth_vjob.in_place: the fast
 * path's mbufs, a worker's receive buffers) those octets are saved, zeroed
 * in place, and restored after the hash, so the message is never copied;
 * otherwise (const memory) it is copied with its authentication data zeroed
 * into a per-context staging slot, and messages longer than a slot (large
 * registers, rare, where the hashing, not the call, dominates) take the
 * one-message path. A message to sign already holds zeros there and is
 * hashed where it is.
 *
 * Without the library, or when the CPU or a test turns it off
 * (auth_ctx_use_mb()), every element goes through auth_verify() /
 * auth_sign(): the same results (auth_mb_test.c and the proto_auth_batch
 * fuzz oracle compare the two).
 */
#include <string.h>

#include <openssl/crypto.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "auth_impl.h"
#include "config.h"

#if LISPMS_HAVE_IPSEC_MB
#include <stdlib.h>

#include <intel-ipsec-mb.h>

#define MB_BURST 32   /* jobs per submission */
#define MB_STAGE 1024 /* octets of a staging slot: longer messages go one by one */
#define MB_WIDE	 16   /* jobs from which the AVX-512 manager is faster than SHA-NI */

struct auth_mb {
	IMB_MGR *mgr;
	IMB_MGR *wide; /* AVX-512 lanes for full bursts beside SHA-NI, else NULL */
	unsigned min;  /* fewer messages of one algorithm go one by one */
	IMB_JOB jobs[MB_BURST];
	uint8_t tag[MB_BURST][LISPMS_AUTH_MAX_LEN];
	uint8_t saved[MB_BURST][LISPMS_AUTH_MAX_LEN]; /* in place: the octets zeroed */
	uint8_t want[MB_BURST][LISPMS_AUTH_MAX_LEN];  /* in place: data overlapping them */
	uint8_t stage[MB_BURST][MB_STAGE];
};

struct auth_mb *auth_mb_new(void)
{
	struct auth_mb *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->mgr = alloc_mb_mgr(0);
	if (m->mgr == NULL) {
		free(m);
		return NULL;
	}
	/*
	 * With SHA-NI the SSE and AVX2 managers hash each job with the SHA
	 * instructions: about 90 ns per 112-octet HMAC-SHA-256 at any burst
	 * size here, 130 ns for a lone job (OpenSSL: 205 ns). The AVX-512
	 * manager that init_mb_mgr_auto() picks runs 16 lanes side by side: 81
	 * ns at 32 jobs but 1300 ns for one, 450 ns per job for 4: with both,
	 * bursts of 16 and more go to the AVX-512 manager; without SHA-NI,
	 * bursts below 8 go the one-message way (bench_codec).
	 */
	uint64_t f = m->mgr->features;
	if (f & IMB_FEATURE_SHANI) {
		if (f & IMB_FEATURE_AVX2)
			init_mb_mgr_avx2(m->mgr);
		else
			init_mb_mgr_sse(m->mgr);
		m->min = 1;
		/* 16 jobs and more fill the AVX-512 lanes: 81 ns a job at 32 */
		if ((f & IMB_FEATURE_AVX512_SKX) == IMB_FEATURE_AVX512_SKX) {
			m->wide = alloc_mb_mgr(0);
			if (m->wide != NULL)
				init_mb_mgr_avx512(m->wide);
			if (m->wide != NULL && imb_get_errno(m->wide) != 0) {
				free_mb_mgr(m->wide);
				m->wide = NULL;
			}
		}
	} else {
		init_mb_mgr_auto(m->mgr, NULL);
		m->min = 8;
	}
	if (imb_get_errno(m->mgr) != 0) {
		auth_mb_free(m);
		return NULL;
	}
	return m;
}

void auth_mb_free(struct auth_mb *m)
{
	if (m == NULL)
		return;
	if (m->mgr != NULL)
		free_mb_mgr(m->mgr);
	if (m->wide != NULL)
		free_mb_mgr(m->wide);
	OPENSSL_cleanse(m->stage, sizeof(m->stage));
	OPENSSL_cleanse(m->tag, sizeof(m->tag));
	OPENSSL_cleanse(m->saved, sizeof(m->saved));
	OPENSSL_cleanse(m->want, sizeof(m->want));
	free(m);
}

void auth_mb_key_prep(struct auth_key *k)
{
	/* the SSE variants need no manager and run on every x86-64 ipsec-mb supports */
	if (k->alg_id == LISP_ALG_HMAC_SHA256) {
		sha256_one_block_sse(k->ipad, k->istate);
		sha256_one_block_sse(k->opad, k->ostate);
	} else if (k->alg_id == LISP_ALG_HMAC_SHA1) {
		sha1_one_block_sse(k->ipad, k->istate);
		sha1_one_block_sse(k->opad, k->ostate);
	}
}

/* One hashing request: HMAC of src[0, len) with key k into the slot's tag. */
struct mb_req {
	const struct auth_key *k;
	const uint8_t *src;
	size_t len;
};

/*
 * HMAC of n <= MB_BURST requests of one algorithm into m->tag[0..n), in one
 * submission. LISPMS_EOK when every job completed.
 */
static int mb_hash(struct auth_mb *m, uint8_t alg, const struct mb_req *r, unsigned n)
{
	IMB_HASH_ALG h = alg == LISP_ALG_HMAC_SHA256 ? IMB_AUTH_HMAC_SHA_256 : IMB_AUTH_HMAC_SHA_1;
	for (unsigned i = 0; i < n; i++) {
		IMB_JOB *j = &m->jobs[i];
		j->src = r[i].src;
		j->hash_start_src_offset_in_bytes = 0;
		j->msg_len_to_hash_in_bytes = r[i].len;
		j->auth_tag_output = m->tag[i];
		j->auth_tag_output_len_in_bytes = auth_alg_len(alg);
		j->u.HMAC._hashed_auth_key_xor_ipad = r[i].k->istate;
		j->u.HMAC._hashed_auth_key_xor_opad = r[i].k->ostate;
		j->hash_alg = h;
		j->cipher_mode = IMB_CIPHER_NULL;
		j->chain_order = IMB_ORDER_HASH_CIPHER;
		j->status = IMB_STATUS_BEING_PROCESSED;
	}
	IMB_MGR *mgr = n >= MB_WIDE && m->wide != NULL ? m->wide : m->mgr;
	uint32_t done = IMB_SUBMIT_HASH_BURST(mgr, m->jobs, n, h);
	if (done != n)
		return LISPMS_EINTERNAL;
	for (unsigned i = 0; i < n; i++)
		if (m->jobs[i].status != IMB_STATUS_COMPLETED)
			return LISPMS_EINTERNAL;
	return LISPMS_EOK;
}

/* Verify up to MB_BURST jobs of one algorithm whose keys are found (v[idx[i]].key). */
static void mb_verify_burst(struct auth_mb *m, uint8_t alg, struct auth_vjob *v,
			    const unsigned *idx, unsigned n)
{
	struct mb_req r[MB_BURST] = { 0 };
	const uint8_t *want[MB_BURST]; /* the authentication data received */
	for (unsigned i = 0; i < n; i++) {
		struct auth_vjob *e = &v[idx[i]];
		want[i] = e->auth->data;
		if (e->in_place) {
			/* the caller's own memory, not const storage (auth_vjob) */
			uint8_t *w = (uint8_t *)(uintptr_t)e->msg + LISPMS_AUTH_OFFSET;
			size_t al = e->auth->len;
			memcpy(m->saved[i], w, al);
			if (want[i] == w) { /* the decoder's pointer: the octets just saved */
				want[i] = m->saved[i];
			} else if ((uintptr_t)want[i] < (uintptr_t)w + al &&
				   (uintptr_t)w < (uintptr_t)want[i] + al) {
				memcpy(m->want[i], want[i], al); /* overlaps what is zeroed */
				want[i] = m->want[i];
			}
			memset(w, 0, al);
			r[i] = (struct mb_req){ .k = e->key, .src = e->msg, .len = e->len };
		} else {
			memcpy(m->stage[i], e->msg, e->len);
			memset(m->stage[i] + LISPMS_AUTH_OFFSET, 0, e->auth->len);
			r[i] = (struct mb_req){ .k = e->key, .src = m->stage[i], .len = e->len };
		}
	}
	unsigned again[MB_BURST], na = 0;
	int ret = mb_hash(m, alg, r, n);
	for (unsigned i = 0; i < n && ret == LISPMS_EOK; i++) {
		struct auth_vjob *e = &v[idx[i]];
		if (auth_ct_equal(m->tag[i], want[i], e->auth->len))
			e->ret = LISPMS_EOK;
		else if (e->auth->rfc_end < e->len)
			again[na++] = i; /* no match over the whole message: the RFC coverage */
		else
			e->ret = LISPMS_EAUTH;
	}
	if (na > 0) {
		for (unsigned i = 0; i < na; i++)
			r[i] = (struct mb_req){ .k = r[again[i]].k,
						.src = r[again[i]].src,
						.len = v[idx[again[i]]].auth->rfc_end };
		int ret2 = mb_hash(m, alg, r, na);
		for (unsigned i = 0; i < na; i++) {
			struct auth_vjob *e = &v[idx[again[i]]];
			if (ret2 != LISPMS_EOK)
				e->ret = ret2;
			else
				e->ret = auth_ct_equal(m->tag[i], want[again[i]], e->auth->len)
					     ? LISPMS_EOK
					     : LISPMS_EAUTH;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct auth_vjob *e = &v[idx[i]];
		if (ret != LISPMS_EOK)
			e->ret = LISPMS_EINTERNAL;
		if (e->in_place) /* the message as it was received */
			memcpy((uint8_t *)(uintptr_t)e->msg + LISPMS_AUTH_OFFSET, m->saved[i],
			       e->auth->len);
	}
}

static void mb_verify(struct auth_ctx *c, struct auth_vjob *v, size_t n)
{
	static const uint8_t algs[] = { LISP_ALG_HMAC_SHA256, LISP_ALG_HMAC_SHA1 };
	for (size_t a = 0; a < sizeof(algs); a++) {
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			count += v[i].ret == LISPMS_EOK && v[i].key->alg_id == algs[a];
		bool one_by_one = count < c->mb->min;
		unsigned idx[MB_BURST], k = 0;
		for (size_t i = 0; i < n; i++) {
			struct auth_vjob *e = &v[i];
			if (e->ret != LISPMS_EOK || e->key->alg_id != algs[a])
				continue; /* refused by the checks, or the other algorithm */
			if ((e->len > MB_STAGE && !e->in_place) || one_by_one) {
				e->ret = auth_verify(c, e->keys, e->nkeys, e->msg, e->len, e->auth);
				continue;
			}
			idx[k++] = (unsigned)i;
			if (k == MB_BURST) {
				mb_verify_burst(c->mb, algs[a], v, idx, k);
				k = 0;
			}
		}
		if (k > 0)
			mb_verify_burst(c->mb, algs[a], v, idx, k);
	}
}

static void mb_sign_burst(struct auth_mb *m, uint8_t alg, struct auth_sjob *s, const unsigned *idx,
			  unsigned n)
{
	struct mb_req r[MB_BURST] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		struct auth_sjob *e = &s[idx[i]];
		/* covered as zeros, as auth_sign() reads them (the encoder wrote zeros) */
		memset(e->msg + LISPMS_AUTH_OFFSET, 0, wire_get_u16(e->msg + 14));
		r[i] = (struct mb_req){ .k = e->key, .src = e->msg, .len = e->len };
	}
	int ret = mb_hash(m, alg, r, n);
	for (unsigned i = 0; i < n; i++) {
		struct auth_sjob *e = &s[idx[i]];
		e->ret = ret;
		if (ret == LISPMS_EOK)
			memcpy(e->msg + LISPMS_AUTH_OFFSET, m->tag[i], wire_get_u16(e->msg + 14));
	}
}

static void mb_sign(struct auth_ctx *c, struct auth_sjob *s, size_t n)
{
	static const uint8_t algs[] = { LISP_ALG_HMAC_SHA256, LISP_ALG_HMAC_SHA1 };
	for (size_t a = 0; a < sizeof(algs); a++) {
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			count += s[i].ret == LISPMS_EOK && s[i].key->alg_id == algs[a];
		bool one_by_one = count < c->mb->min;
		unsigned idx[MB_BURST], k = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i].ret != LISPMS_EOK || s[i].key->alg_id != algs[a])
				continue;
			if (one_by_one) {
				s[i].ret = auth_sign(c, s[i].key, s[i].msg, s[i].len);
				continue;
			}
			idx[k++] = (unsigned)i;
			if (k == MB_BURST) {
				mb_sign_burst(c->mb, algs[a], s, idx, k);
				k = 0;
			}
		}
		if (k > 0)
			mb_sign_burst(c->mb, algs[a], s, idx, k);
	}
}

#else /* !LISPMS_HAVE_IPSEC_MB */

struct auth_mb *auth_mb_new(void)
{
	return NULL;
}

void auth_mb_free(struct auth_mb *m)
{
	(void)m;
}

void auth_mb_key_prep(struct auth_key *k)
{
	(void)k;
}

static void mb_verify(struct auth_ctx *c, struct auth_vjob *v, size_t n)
{
	(void)c, (void)v, (void)n;
}

static void mb_sign(struct auth_ctx *c, struct auth_sjob *s, size_t n)
{
	(void)c, (void)s, (void)n;
}

#endif

bool auth_ctx_use_mb(struct auth_ctx *c, bool on)
{
	c->use_mb = on && c->mb != NULL;
	return c->use_mb;
}

bool auth_ctx_mb(const struct auth_ctx *c)
{
	return c->use_mb;
}

unsigned auth_ctx_batch_min(const struct auth_ctx *c)
{
#if LISPMS_HAVE_IPSEC_MB
	if (c->use_mb)
		return c->mb->min;
#else
	(void)c;
#endif
	return 2;
}

void auth_batch_verify(struct auth_ctx *c, struct auth_vjob *v, size_t n)
{
	if (!c->use_mb) {
		for (size_t i = 0; i < n; i++) {
			struct auth_vjob *e = &v[i];
			e->ret = auth_verify_check(e->keys, e->nkeys, e->len, e->auth, &e->key);
			if (e->ret == LISPMS_EOK)
				e->ret = auth_verify(c, e->keys, e->nkeys, e->msg, e->len, e->auth);
			if (e->ret != LISPMS_EOK)
				e->key = NULL;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct auth_vjob *e = &v[i];
		e->key = NULL;
		e->ret = auth_verify_check(e->keys, e->nkeys, e->len, e->auth, &e->key);
	}
	mb_verify(c, v, n);
	for (size_t i = 0; i < n; i++)
		if (v[i].ret != LISPMS_EOK)
			v[i].key = NULL;
}

void auth_batch_sign(struct auth_ctx *c, struct auth_sjob *s, size_t n)
{
	if (!c->use_mb) {
		for (size_t i = 0; i < n; i++)
			s[i].ret = auth_sign(c, s[i].key, s[i].msg, s[i].len);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t alen;
		s[i].ret = auth_sign_check(s[i].key, s[i].msg, s[i].len, &alen);
	}
	mb_sign(c, s, n);
}
