/* SPDX-License-Identifier: MIT */
/*
 * Private to auth.c and auth_mb.c: the per-thread context and the pieces of
 * the one-message HMAC that the batch engine shares.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#include <lispms/proto.h>

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
/* Constant-time equality of n octets. */
bool auth_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);
/*
 * auth_verify()'s checks before any hashing: LISPMS_EOK and the key in *k,
 * or the error auth_verify() returns.
 */
int auth_verify_check(const struct auth_key *keys, size_t nkeys, size_t len,
		      const struct lisp_auth *a, const struct auth_key **k);
/* auth_sign()'s checks: LISPMS_EOK and the authentication data length, or the error. */
int auth_sign_check(const struct auth_key *k, const uint8_t *msg, size_t len, uint16_t *alen);

/* auth_mb.c: NULL without the engine (build or CPU); keys' digest states. */
struct auth_mb *auth_mb_new(void);
void auth_mb_free(struct auth_mb *m);
void auth_mb_key_prep(struct auth_key *k);
