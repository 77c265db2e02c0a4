/* SPDX-License-Identifier: MIT */
/* HMAC sign and verify (D9), checked against OpenSSL's own HMAC. */
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "hex.h"
#include "testvec.h"

static struct auth_ctx *ctx;
static struct arena arena;
static uint8_t pkt[2048];

static void setup(void)
{
	ctx = auth_ctx_new();
	cr_assert_not_null(ctx);
	cr_assert_eq(arena_init(&arena, 16384), LISPMS_EOK);
}

static void teardown(void)
{
	auth_ctx_free(ctx);
	arena_deinit(&arena);
}

TestSuite(auth, .init = setup, .fini = teardown);

static void evp_hmac(uint8_t alg, const uint8_t *key, size_t klen, const uint8_t *msg, size_t len,
		     uint8_t *out)
{
	size_t n = 0;
	cr_assert_not_null(EVP_Q_mac(NULL, "HMAC", NULL, alg == 1 ? "SHA1" : "SHA256", NULL, key,
				     klen, msg, len, out, LISPMS_AUTH_MAX_LEN, &n));
	cr_assert_eq(n, alg == 1 ? 20 : 32);
}

Test(auth, matches_openssl_hmac)
{
	static uint8_t key[200], msg[600];
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 600; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint8_t alg = (uint8_t)(1 + (i & 1));
		size_t klen = (size_t)(x % sizeof(key)), mlen = (size_t)((x >> 20) % sizeof(msg));
		for (size_t j = 0; j < klen; j++)
			key[j] = (uint8_t)(x >> (j % 56));
		for (size_t j = 0; j < mlen; j++)
			msg[j] = (uint8_t)(x >> ((j * 7) % 56)) ^ (uint8_t)j;
		struct auth_key k;
		cr_assert_eq(auth_key_init(&k, 3, alg, key, klen), LISPMS_EOK);
		uint8_t ours[32], theirs[32];
		cr_assert_eq(auth_hmac(ctx, &k, msg, mlen, ours), LISPMS_EOK);
		evp_hmac(alg, key, klen, msg, mlen, theirs);
		cr_assert_arr_eq(ours, theirs, auth_alg_len(alg), "alg %u key %zu msg %zu", alg,
				 klen, mlen);
	}
}

Test(auth, rfc4231_and_rfc2202_vectors)
{
	const char *msg = "what do ya want for nothing?";
	uint8_t mac[32], want[32];
	struct auth_key k;
	auth_key_init(&k, 0, LISP_ALG_HMAC_SHA256, "Jefe", 4);
	auth_hmac(ctx, &k, (const uint8_t *)msg, strlen(msg), mac);
	hex_decode("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32);
	cr_assert_arr_eq(mac, want, 32);
	auth_key_init(&k, 0, LISP_ALG_HMAC_SHA1, "Jefe", 4);
	auth_hmac(ctx, &k, (const uint8_t *)msg, strlen(msg), mac);
	hex_decode("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", want, 20);
	cr_assert_arr_eq(mac, want, 20);
}

static size_t load_reg(const char *hex, struct lisp_map_register *m)
{
	int n = hex_decode(hex, pkt, sizeof(pkt));
	cr_assert(n > 0);
	arena_reset(&arena);
	cr_assert_eq(map_register_decode(pkt, (size_t)n, &arena, m), LISPMS_EOK);
	return (size_t)n;
}

Test(auth, key_selection_by_key_id)
{
	struct lisp_map_register m;
	size_t len = load_reg(TV_MREG_SHA256, &m);
	struct auth_key keys[4];
	auth_key_init(&keys[0], 1, LISP_ALG_HMAC_SHA1, TV_KEY, 6);   /* right id, wrong alg */
	auth_key_init(&keys[1], 0, LISP_ALG_HMAC_SHA256, "old", 3);  /* other id */
	auth_key_init(&keys[2], 1, LISP_ALG_HMAC_SHA256, TV_KEY, 6); /* the one */
	auth_key_init(&keys[3], 2, LISP_ALG_HMAC_SHA256, "next", 4); /* roll-over */
	cr_assert_eq(auth_verify(ctx, keys, 4, pkt, len, &m.auth), LISPMS_EOK);
	cr_assert_eq(auth_verify(ctx, keys, 2, pkt, len, &m.auth), LISPMS_ENOKEY);
	cr_assert_eq(auth_verify(ctx, keys, 0, pkt, len, &m.auth), LISPMS_ENOKEY);
	auth_key_init(&keys[2], 1, LISP_ALG_HMAC_SHA256, "secreT", 6);
	cr_assert_eq(auth_verify(ctx, keys, 4, pkt, len, &m.auth), LISPMS_EAUTH);
}

Test(auth, every_flipped_bit_fails_and_message_is_untouched)
{
	struct lisp_map_register m;
	size_t len = load_reg(TV_MREG_SHA1, &m);
	struct auth_key k;
	auth_key_init(&k, 1, LISP_ALG_HMAC_SHA1, TV_KEY, 6);
	uint8_t copy[128];
	memcpy(copy, pkt, len);
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, len, &m.auth), LISPMS_EOK);
	cr_assert_arr_eq(pkt, copy, len, "verify must not write the message");
	for (size_t i = 0; i < len * 8; i++) {
		if (i / 8 >= 12 && i / 8 < 16)
			continue; /* key/alg/length fields: covered by their own checks */
		pkt[i / 8] ^= (uint8_t)(1u << (i % 8));
		cr_assert_eq(auth_verify(ctx, &k, 1, pkt, len, &m.auth), LISPMS_EAUTH, "bit %zu",
			     i);
		pkt[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
}

Test(auth, truncated_lengths_are_accepted)
{
	/* re-sign the SHA-256 reference with 16 octets and the SHA-1 one with 12 */
	struct lisp_map_register m;
	size_t len = load_reg(TV_MREG_SHA256, &m), n;
	struct auth_key k;
	auth_key_init(&k, 1, LISP_ALG_HMAC_SHA256, TV_KEY, 6);
	uint8_t full[32];
	memcpy(full, m.auth.data, 32);
	m.auth.len = 16;
	m.auth.data = NULL;
	cr_assert_eq(map_register_encode(&m, pkt, sizeof(pkt), &n), LISPMS_EOK);
	cr_assert_eq(n, len - 16);
	cr_assert_eq(auth_sign(ctx, &k, pkt, n), LISPMS_EOK);
	struct lisp_map_register t;
	cr_assert_eq(map_register_decode(pkt, n, &arena, &t), LISPMS_EOK);
	cr_assert_eq(t.auth.len, 16);
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, n, &t.auth), LISPMS_EOK);
	pkt[LISPMS_AUTH_OFFSET + 15] ^= 1;
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, n, &t.auth), LISPMS_EAUTH);

	len = load_reg(TV_MREG_SHA1, &m);
	auth_key_init(&k, 1, LISP_ALG_HMAC_SHA1, TV_KEY, 6);
	m.auth.len = 12;
	m.auth.data = NULL;
	cr_assert_eq(map_register_encode(&m, pkt, sizeof(pkt), &n), LISPMS_EOK);
	cr_assert_eq(auth_sign(ctx, &k, pkt, n), LISPMS_EOK);
	cr_assert_eq(map_register_decode(pkt, n, &arena, &t), LISPMS_EOK);
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, n, &t.auth), LISPMS_EOK);
}

Test(auth, rules_of_d9)
{
	struct lisp_map_register m;
	size_t len = load_reg(TV_MREG_SHA256, &m);
	struct auth_key k;
	auth_key_init(&k, 1, LISP_ALG_HMAC_SHA256, TV_KEY, 6);
	struct lisp_auth a = m.auth;
	a.alg_id = LISP_ALG_NONE;
	a.len = 0;
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, len, &a), LISPMS_EAUTH, "algorithm 0 never");
	a = m.auth;
	a.len = 20;
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, len, &a), LISPMS_EAUTHLEN);
	a = m.auth;
	a.rfc_end = (uint32_t)len + 1;
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, len, &a), LISPMS_EINVAL);
	a = m.auth;
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, 40, &a), LISPMS_EINVAL);

	/* the RFC reading is tried only when a trailer follows the records */
	uint8_t rfc[32];
	hex_decode(TV_MREG_SHA256_RFC_HMAC, rfc, 32);
	memcpy(pkt + LISPMS_AUTH_OFFSET, rfc, 32);
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, len, &m.auth), LISPMS_EOK);
	a = m.auth;
	a.rfc_end = (uint32_t)len;
	cr_assert_eq(auth_verify(ctx, &k, 1, pkt, len, &a), LISPMS_EAUTH);

	/* a hand-made key with an unknown algorithm never matches */
	struct auth_key odd = k;
	odd.alg_id = 9;
	a = m.auth;
	a.alg_id = 9;
	cr_assert_eq(auth_verify(ctx, &odd, 1, pkt, len, &a), LISPMS_ENOKEY);

	cr_assert_eq(auth_key_init(&k, 1, LISP_ALG_NONE, "x", 1), LISPMS_EINVAL);
	cr_assert_eq(auth_key_init(&k, 1, 3, "x", 1), LISPMS_EINVAL);
	cr_assert(auth_len_ok(LISP_ALG_HMAC_SHA1, 12) && auth_len_ok(LISP_ALG_HMAC_SHA1, 20));
	cr_assert(!auth_len_ok(LISP_ALG_HMAC_SHA1, 16) && !auth_len_ok(LISP_ALG_HMAC_SHA1, 32));
	cr_assert(auth_len_ok(LISP_ALG_HMAC_SHA256, 16) && auth_len_ok(LISP_ALG_HMAC_SHA256, 32));
	cr_assert(!auth_len_ok(LISP_ALG_HMAC_SHA256, 20) && !auth_len_ok(LISP_ALG_NONE, 4));
}

Test(auth, sign_checks_the_header)
{
	struct lisp_map_register m;
	size_t len = load_reg(TV_MREG_SHA256, &m);
	struct auth_key k;
	auth_key_init(&k, 2, LISP_ALG_HMAC_SHA256, TV_KEY, 6);
	cr_assert_eq(auth_sign(ctx, &k, pkt, len), LISPMS_EINVAL, "Key ID 1 in the message");
	auth_key_init(&k, 1, LISP_ALG_HMAC_SHA1, TV_KEY, 6);
	cr_assert_eq(auth_sign(ctx, &k, pkt, len), LISPMS_EINVAL, "algorithm 2 in the message");
	auth_key_init(&k, 1, LISP_ALG_HMAC_SHA256, TV_KEY, 6);
	cr_assert_eq(auth_sign(ctx, &k, pkt, 40), LISPMS_EINVAL, "shorter than the auth data");
	wire_put_u16(pkt + 14, 20);
	cr_assert_eq(auth_sign(ctx, &k, pkt, len), LISPMS_EAUTHLEN);
	auth_key_clear(&k);
	cr_assert_eq(k.ipad[0], 0);
}
