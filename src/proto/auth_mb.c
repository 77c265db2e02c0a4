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

#include <emmintrin.h>
#include <intel-ipsec-mb.h>

#include <lispms/mtime.h>

#define MB_BURST 32   /* jobs per submission */
#define MB_STAGE 1024 /* octets of a staging slot: longer messages go one by one */
#define MB_WIDE	 16   /* jobs from which a burst may go to the AVX-512 manager */

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

static bool mb_wide_faster(struct auth_mb *m);

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
	 * instructions: 76-90 ns per 112-octet HMAC-SHA-256 at any burst size,
	 * 130-143 ns for a lone job (OpenSSL: 190-205 ns). The AVX-512 manager
	 * that init_mb_mgr_auto() picks runs 16 lanes side by side: 950-1300 ns
	 * for one job, 320-450 ns per job for 4, and at 32 jobs 81 ns on a Xeon
	 * but 102 ns on an AMD EPYC (Zen 4, whose AVX-512 units are 256 bits
	 * wide). So with both, full bursts go to whichever mb_wide_faster()
	 * times faster on this CPU, smaller ones to SHA-NI; without SHA-NI,
	 * bursts below 8 go the one-message way (bench_codec, and a sweep of
	 * burst sizes over both managers on each machine, issue 18).
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
			if (m->wide != NULL &&
			    (imb_get_errno(m->wide) != 0 || !mb_wide_faster(m))) {
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

/*
 * The per-message work around the hash is kept to what the hash cannot do
 * without (bench/codec_callgrind.sh counts it against a bare burst): one
 * pass over a window checks every job and sorts it by algorithm into a list
 * of pointers, and each burst then fills its IMB_JOBs, zeroes (or stages)
 * the authentication data, hashes, compares and restores, each in one loop.
 * The authentication data is 12, 16, 20 or 32 octets (auth_len_valid()):
 * mb_octets_copy() and mb_octets_zero() give the compiler those sizes
 * as constants, so they are a few moves rather than calls to memcpy/memset.
 */
#define MB_WINDOW (4 * MB_BURST) /* jobs sorted by algorithm at a time */

static inline void mb_octets_copy(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n == 32) { /* HMAC-SHA-256, what nearly every message carries */
		memcpy(d, s, 32);
		return;
	}
	switch (n) {
	case 20:
		memcpy(d, s, 20);
		break;
	case 16:
		memcpy(d, s, 16);
		break;
	case 12:
		memcpy(d, s, 12);
		break;
	default:
		memcpy(d, s, n);
	}
}

static inline void mb_octets_zero(uint8_t *d, size_t n)
{
	if (n == 32) {
		memset(d, 0, 32);
		return;
	}
	switch (n) {
	case 20:
		memset(d, 0, 20);
		break;
	case 16:
		memset(d, 0, 16);
		break;
	case 12:
		memset(d, 0, 12);
		break;
	default:
		memset(d, 0, n);
	}
}

/*
 * Constant-time comparison of n octets in 16-octet SSE2 registers, the
 * rest by auth_ct_equal() (the engine's tags were written a whole burst
 * earlier, so wide loads are not held by store forwarding, unlike
 * auth_ct_equal()'s case); branches depend on n only. mb_equal() gives
 * the compiler the usual sizes as constants.
 */
static inline __attribute__((always_inline)) bool mb_equal_n(const uint8_t *a, const uint8_t *b,
							     size_t n)
{
	__m128i d = _mm_setzero_si128();
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		d = _mm_or_si128(d, _mm_xor_si128(_mm_loadu_si128((const __m128i *)(a + i)),
						  _mm_loadu_si128((const __m128i *)(b + i))));
	bool wide = _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
	return wide & auth_ct_equal(a + i, b + i, n - i); /* &: no early exit */
}

static inline bool mb_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n == 32)
		return mb_equal_n(a, b, 32);
	switch (n) {
	case 20:
		return mb_equal_n(a, b, 20);
	case 16:
		return mb_equal_n(a, b, 16);
	case 12:
		return mb_equal_n(a, b, 12);
	default:
		return mb_equal_n(a, b, n);
	}
}

/* The fields of one HMAC job, as a bare submission sets them. */
static inline void mb_job(IMB_JOB *j, IMB_HASH_ALG h, unsigned tag_len, const struct auth_key *k,
			  const uint8_t *src, size_t len, uint8_t *tag)
{
	j->src = src;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = len;
	j->auth_tag_output = tag;
	j->auth_tag_output_len_in_bytes = tag_len;
	j->u.HMAC._hashed_auth_key_xor_ipad = k->istate;
	j->u.HMAC._hashed_auth_key_xor_opad = k->ostate;
	j->hash_alg = h;
	j->cipher_mode = IMB_CIPHER_NULL;
	j->chain_order = IMB_ORDER_HASH_CIPHER;
	j->status = IMB_STATUS_BEING_PROCESSED;
}

/*
 * Whether m->wide hashes a full burst faster than m->mgr on this CPU: the
 * fastest of 16 tries of each, alternated, so that other load on the
 * machine does not decide (about 0.1 ms, once per context).
 */
static bool mb_wide_faster(struct auth_mb *m)
{
	struct auth_key k = { .alg_id = LISP_ALG_HMAC_SHA256 }; /* any state will do */
	uint64_t best[2] = { UINT64_MAX, UINT64_MAX };
	for (int t = 0; t < 16; t++) {
		for (int w = 0; w < 2; w++) {
			for (unsigned i = 0; i < MB_BURST; i++)
				mb_job(&m->jobs[i], IMB_AUTH_HMAC_SHA_256, 32, &k, m->stage[i], 112,
				       m->tag[i]);
			uint64_t t0 = mtime_now_ns();
			IMB_SUBMIT_HASH_BURST(w ? m->wide : m->mgr, m->jobs, MB_BURST,
					      IMB_AUTH_HMAC_SHA_256);
			uint64_t d = mtime_now_ns() - t0;
			best[w] = d < best[w] ? d : best[w];
		}
	}
	return best[1] < best[0];
}

/* Hash m->jobs[0, n) in one submission: true when every job completed. */
static bool mb_submit(struct auth_mb *m, IMB_HASH_ALG h, unsigned n)
{
	IMB_MGR *mgr = n >= MB_WIDE && m->wide != NULL ? m->wide : m->mgr;
	if (IMB_SUBMIT_HASH_BURST(mgr, m->jobs, n, h) != n)
		return false;
	unsigned bad = 0;
	for (unsigned i = 0; i < n; i++)
		bad |= m->jobs[i].status != IMB_STATUS_COMPLETED;
	return bad == 0;
}

static inline IMB_HASH_ALG mb_alg(uint8_t alg)
{
	return alg == LISP_ALG_HMAC_SHA256 ? IMB_AUTH_HMAC_SHA_256 : IMB_AUTH_HMAC_SHA_1;
}

/* The end of a verified job: its verdict, and the message as it was received. */
static inline void mb_verified(struct auth_mb *m, struct auth_vjob *e, unsigned slot, int ret)
{
	e->ret = ret;
	if (ret != LISPMS_EOK)
		e->key = NULL;
	if (e->in_place)
		mb_octets_copy((uint8_t *)(uintptr_t)e->msg + LISPMS_AUTH_OFFSET, m->saved[slot],
			       e->auth->len);
}

/* Verify n <= MB_BURST jobs of one algorithm whose keys are found (e->key). */
static void mb_verify_burst(struct auth_mb *m, uint8_t alg, struct auth_vjob *const *list,
			    unsigned n)
{
	IMB_HASH_ALG h = mb_alg(alg);
	unsigned tag_len = auth_alg_len(alg);
	const uint8_t *want[MB_BURST]; /* the authentication data received */
	for (unsigned i = 0; i < n; i++) {
		struct auth_vjob *e = list[i];
		size_t al = e->auth->len;
		const uint8_t *src = e->msg;
		want[i] = e->auth->data;
		if (e->in_place) {
			/* the caller's own memory, not const storage (auth_vjob) */
			uint8_t *w = (uint8_t *)(uintptr_t)e->msg + LISPMS_AUTH_OFFSET;
			mb_octets_copy(m->saved[i], w, al);
			if (want[i] == w) { /* the decoder's pointer: the octets just saved */
				want[i] = m->saved[i];
			} else if ((uintptr_t)want[i] < (uintptr_t)w + al &&
				   (uintptr_t)w < (uintptr_t)want[i] + al) {
				mb_octets_copy(m->want[i], want[i],
					       al); /* overlaps what is zeroed */
				want[i] = m->want[i];
			}
			mb_octets_zero(w, al);
		} else {
			memcpy(m->stage[i], e->msg, e->len);
			mb_octets_zero(m->stage[i] + LISPMS_AUTH_OFFSET, al);
			src = m->stage[i];
		}
		mb_job(&m->jobs[i], h, tag_len, e->key, src, e->len, m->tag[i]);
	}
	bool ok = mb_submit(m, h, n);
	unsigned again[MB_BURST], na = 0;
	for (unsigned i = 0; i < n; i++) {
		struct auth_vjob *e = list[i];
		int ret = LISPMS_EINTERNAL;
		if (ok && mb_equal(m->tag[i], want[i], e->auth->len))
			ret = LISPMS_EOK;
		else if (ok && e->auth->rfc_end < e->len)
			again[na++] = i; /* no match over the whole message: the RFC coverage */
		else if (ok)
			ret = LISPMS_EAUTH;
		if (na == 0 || again[na - 1] != i)
			mb_verified(m, e, i, ret);
	}
	if (na == 0)
		return;
	/* again[k] >= k: job again[k] is read before slot k is reused */
	for (unsigned k = 0; k < na; k++) {
		const IMB_JOB *j = &m->jobs[again[k]];
		struct auth_vjob *e = list[again[k]];
		mb_job(&m->jobs[k], h, tag_len, e->key, j->src, e->auth->rfc_end, m->tag[k]);
	}
	ok = mb_submit(m, h, na);
	for (unsigned k = 0; k < na; k++) {
		unsigned i = again[k];
		struct auth_vjob *e = list[i];
		int ret = !ok					       ? LISPMS_EINTERNAL
			  : mb_equal(m->tag[k], want[i], e->auth->len) ? LISPMS_EOK
								       : LISPMS_EAUTH;
		mb_verified(m, e, i, ret);
	}
}

/* Verify a list of jobs of one algorithm: in bursts, or one by one when too few. */
static void mb_verify_list(struct auth_ctx *c, uint8_t alg, struct auth_vjob *const *list,
			   unsigned n)
{
	if (n < c->mb->min) {
		for (unsigned i = 0; i < n; i++) {
			struct auth_vjob *e = list[i];
			e->ret = auth_verify(c, e->keys, e->nkeys, e->msg, e->len, e->auth);
			if (e->ret != LISPMS_EOK)
				e->key = NULL;
		}
		return;
	}
	for (unsigned i = 0; i < n; i += MB_BURST)
		mb_verify_burst(c->mb, alg, list + i, n - i < MB_BURST ? n - i : MB_BURST);
}

static void mb_verify(struct auth_ctx *c, struct auth_vjob *v, size_t n)
{
	for (size_t base = 0; base < n; base += MB_WINDOW) {
		size_t end = n - base < MB_WINDOW ? n : base + MB_WINDOW;
		struct auth_vjob *sha256[MB_WINDOW], *sha1[MB_WINDOW];
		unsigned n256 = 0, n1 = 0;
		for (size_t i = base; i < end; i++) {
			struct auth_vjob *e = &v[i];
			e->key = NULL;
			e->ret = auth_verify_check(e->keys, e->nkeys, e->len, e->auth, &e->key);
			if (e->ret != LISPMS_EOK)
				continue; /* refused by the checks (e->key stays NULL) */
			if (e->len > MB_STAGE && !e->in_place) { /* too long to stage */
				e->ret = auth_verify(c, e->keys, e->nkeys, e->msg, e->len, e->auth);
				if (e->ret != LISPMS_EOK)
					e->key = NULL;
			} else if (e->key->alg_id == LISP_ALG_HMAC_SHA256) {
				sha256[n256++] = e;
			} else {
				sha1[n1++] = e;
			}
		}
		mb_verify_list(c, LISP_ALG_HMAC_SHA256, sha256, n256);
		mb_verify_list(c, LISP_ALG_HMAC_SHA1, sha1, n1);
	}
}

/* Sign n <= MB_BURST jobs of one algorithm whose checks passed. */
static void mb_sign_burst(struct auth_mb *m, uint8_t alg, struct auth_sjob *const *list, unsigned n)
{
	IMB_HASH_ALG h = mb_alg(alg);
	unsigned tag_len = auth_alg_len(alg);
	for (unsigned i = 0; i < n; i++) {
		struct auth_sjob *e = list[i];
		/* covered as zeros, as auth_sign() reads them (the encoder wrote zeros) */
		mb_octets_zero(e->msg + LISPMS_AUTH_OFFSET, wire_get_u16(e->msg + 14));
		mb_job(&m->jobs[i], h, tag_len, e->key, e->msg, e->len, m->tag[i]);
	}
	bool ok = mb_submit(m, h, n);
	for (unsigned i = 0; i < n; i++) {
		struct auth_sjob *e = list[i];
		e->ret = ok ? LISPMS_EOK : LISPMS_EINTERNAL;
		if (ok)
			mb_octets_copy(e->msg + LISPMS_AUTH_OFFSET, m->tag[i],
				       wire_get_u16(e->msg + 14));
	}
}

static void mb_sign_list(struct auth_ctx *c, uint8_t alg, struct auth_sjob *const *list, unsigned n)
{
	if (n < c->mb->min) {
		for (unsigned i = 0; i < n; i++)
			list[i]->ret = auth_sign(c, list[i]->key, list[i]->msg, list[i]->len);
		return;
	}
	for (unsigned i = 0; i < n; i += MB_BURST)
		mb_sign_burst(c->mb, alg, list + i, n - i < MB_BURST ? n - i : MB_BURST);
}

static void mb_sign(struct auth_ctx *c, struct auth_sjob *s, size_t n)
{
	for (size_t base = 0; base < n; base += MB_WINDOW) {
		size_t end = n - base < MB_WINDOW ? n : base + MB_WINDOW;
		struct auth_sjob *sha256[MB_WINDOW], *sha1[MB_WINDOW];
		unsigned n256 = 0, n1 = 0;
		for (size_t i = base; i < end; i++) {
			uint16_t alen;
			struct auth_sjob *e = &s[i];
			e->ret = auth_sign_check(e->key, e->msg, e->len, &alen);
			if (e->ret != LISPMS_EOK)
				continue;
			if (e->key->alg_id == LISP_ALG_HMAC_SHA256)
				sha256[n256++] = e;
			else
				sha1[n1++] = e;
		}
		mb_sign_list(c, LISP_ALG_HMAC_SHA256, sha256, n256);
		mb_sign_list(c, LISP_ALG_HMAC_SHA1, sha1, n1);
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
	mb_verify(c, v, n);
}

void auth_batch_sign(struct auth_ctx *c, struct auth_sjob *s, size_t n)
{
	if (!c->use_mb) {
		for (size_t i = 0; i < n; i++)
			s[i].ret = auth_sign(c, s[i].key, s[i].msg, s[i].len);
		return;
	}
	mb_sign(c, s, n);
}
