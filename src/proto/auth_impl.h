/* SPDX-License-Identifier: MIT */
/*
 * Private to auth.c and auth_mb.c: the per-thread context and the pieces of
 * the one-message HMAC that the batch engine shares.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#include <lispms/err.h>
#include <lispms/proto.h>
#include <lispms/wire.h>

#include "codec.h"

#define AUTH_ALGS 3 /* indexed by enum lisp_alg */

struct auth_md {
	OSSL_FUNC_digest_init_fn *init;
	OSSL_FUNC_digest_update_fn *update;
	OSSL_FUNC_digest_final_fn *final;
	OSSL_FUNC_digest_freectx_fn *freectx;
	void *work;  /* the provider's digest context, reused for every message */
	size_t size; /* digest octets */
};

struct auth_mb; /* auth_mb.c: the multi-buffer engine's state */

struct auth_ctx {
	EVP_MD *fetched[AUTH_ALGS]; /* keeps the provider loaded */
	struct auth_md md[AUTH_ALGS];
	struct auth_mb *mb; /* NULL: not in this build, or the CPU lacks it */
	bool use_mb;
};

/*
 * HMAC of msg[0, cover) with msg[hole, hole + hole_len) read as zeros (the
 * authentication data), into out. hole_len <= LISPMS_AUTH_MAX_LEN.
 */
int auth_hmac_run(struct auth_md *md, const struct auth_key *k, const uint8_t *msg, size_t cover,
		  size_t hole, size_t hole_len, uint8_t *out);

/*
 * Constant-time comparison (the loop count depends on n only, and the barrier
 * keeps the compiler from turning the OR chain into an early exit). Used in
 * place of CRYPTO_memcmp(), whose byte loop measured 30 ns for 32 octets,
 * about a sixth of the whole HMAC; 4-octet loads match the 4-octet stores the
 * digest's final step just made, so they are forwarded, not stalled.
 */
static inline bool auth_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint32_t d = 0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		uint32_t x, y;
		memcpy(&x, a + i, 4);
		memcpy(&y, b + i, 4);
		d |= x ^ y;
		__asm__ volatile("" : "+r"(d));
	}
	for (; i < n; i++) {
		d |= (uint32_t)(a[i] ^ b[i]);
		__asm__ volatile("" : "+r"(d));
	}
	return d == 0;
}

/*
 * auth_verify()'s checks before any hashing: LISPMS_EOK and the key in *key,
 * or the error auth_verify() returns.
 */
static inline int auth_verify_check(const struct auth_key *keys, size_t nkeys, size_t len,
				    const struct lisp_auth *a, const struct auth_key **key)
{
	if (a->alg_id == LISP_ALG_NONE)
		return LISPMS_EAUTH;
	if (a->alg_id != LISP_ALG_HMAC_SHA1 && a->alg_id != LISP_ALG_HMAC_SHA256)
		return LISPMS_ENOKEY; /* no key can have it, whatever the caller's array holds */
	if (!auth_len_valid(a->alg_id, a->len))
		return LISPMS_EAUTHLEN;
	const struct auth_key *k = NULL;
	for (size_t i = 0; i < nkeys && k == NULL; i++)
		if (keys[i].key_id == a->key_id && keys[i].alg_id == a->alg_id)
			k = &keys[i];
	if (k == NULL)
		return LISPMS_ENOKEY;
	if (len < LISPMS_AUTH_OFFSET + (size_t)a->len || a->data == NULL || a->rfc_end > len ||
	    a->rfc_end < LISPMS_AUTH_OFFSET + (size_t)a->len)
		return LISPMS_EINVAL;
	*key = k;
	return LISPMS_EOK;
}

/* auth_sign()'s checks: LISPMS_EOK and the authentication data length, or the error. */
static inline int auth_sign_check(const struct auth_key *k, const uint8_t *msg, size_t len,
				  uint16_t *alen)
{
	if (len < LISPMS_AUTH_OFFSET || msg[12] != k->key_id || msg[13] != k->alg_id ||
	    (k->alg_id != LISP_ALG_HMAC_SHA1 && k->alg_id != LISP_ALG_HMAC_SHA256))
		return LISPMS_EINVAL;
	uint16_t n = wire_get_u16(msg + 14);
	if (!auth_len_valid(k->alg_id, n))
		return LISPMS_EAUTHLEN;
	if (len < LISPMS_AUTH_OFFSET + (size_t)n)
		return LISPMS_EINVAL;
	*alen = n;
	return LISPMS_EOK;
}

/* auth_mb.c: NULL without the engine (build or CPU); keys' digest states. */
struct auth_mb *auth_mb_new(void);
void auth_mb_free(struct auth_mb *m);
void auth_mb_key_prep(struct auth_key *k);
