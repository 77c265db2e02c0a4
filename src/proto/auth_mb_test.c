/* SPDX-License-Identifier: MIT */
/*
 * Batched verify and sign (auth_mb.c): every reference packet of
 * docs/protocol.md §6.2 through both engines, and the batch against the
 * one-message functions on random messages, keys, lengths and batch sizes
 * (crossing the engine's 32-job bursts and 128-job windows), both
 * algorithms, truncated and full authentication data, the RFC coverage and
 * every refusal.
 */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "config.h"
#include "hex.h"
#include "testvec.h"

static struct auth_ctx *mb, *ossl; /* the engine when the build has it; OpenSSL */
static struct arena arena;

static void setup(void)
{
	mb = auth_ctx_new();
	ossl = auth_ctx_new();
	cr_assert(mb != NULL && ossl != NULL);
	cr_assert_eq(auth_ctx_use_mb(mb, true), LISPMS_HAVE_IPSEC_MB,
		     "the engine is in use exactly when the build has it");
	cr_assert_not(auth_ctx_use_mb(ossl, false));
	cr_assert_eq(arena_init(&arena, 64 * 1024), LISPMS_EOK);
}

static void teardown(void)
{
	auth_ctx_free(mb);
	auth_ctx_free(ossl);
	arena_deinit(&arena);
}

TestSuite(auth_mb, .init = setup, .fini = teardown);

static struct auth_key key(uint8_t id, uint8_t alg)
{
	struct auth_key k;
	cr_assert_eq(auth_key_init(&k, id, alg, TV_KEY, strlen(TV_KEY)), LISPMS_EOK);
	return k;
}

Test(auth_mb, key_digest_states)
{
	struct auth_key k = key(1, LISP_ALG_HMAC_SHA256), z;
	memset(&z, 0, sizeof(z));
	bool set = memcmp(k.istate, z.istate, sizeof(z.istate)) != 0 &&
		   memcmp(k.ostate, z.ostate, sizeof(z.ostate)) != 0;
	cr_assert_eq(set, LISPMS_HAVE_IPSEC_MB, "digest states precomputed with the engine");
}

struct ref {
	const char *hex;
	uint8_t alg;
	bool rfc; /* the RFC-coverage HMAC replaces the whole-message one */
};

static const struct ref refs[] = {
	{ TV_MREG_SHA256, LISP_ALG_HMAC_SHA256, false },
	{ TV_MREG_SHA256, LISP_ALG_HMAC_SHA256, true },
	{ TV_MREG_SHA1, LISP_ALG_HMAC_SHA1, false },
	{ TV_MNOTIFY, LISP_ALG_HMAC_SHA256, false },
	{ TV_MNOTIFY_ACK, LISP_ALG_HMAC_SHA256, false },
};
#define NREFS (sizeof(refs) / sizeof(refs[0]))

/*
 * Every reference packet in one batch (twice, and once tampered), both
 * engines; in_place: the batch may write the packets (the decoder's
 * authentication data points into them), which must end as they were.
 */
static void check_refs(struct auth_ctx *c, bool in_place)
{
	static uint8_t pkt[3 * NREFS][256], signed_[3 * NREFS][256], orig[3 * NREFS][256];
	struct lisp_msg m[3 * NREFS];
	struct auth_vjob v[3 * NREFS];
	struct auth_sjob s[3 * NREFS];
	struct auth_key keys[2][2] = {
		{ key(0, LISP_ALG_HMAC_SHA1), key(1, LISP_ALG_HMAC_SHA1) },
		{ key(0, LISP_ALG_HMAC_SHA256), key(1, LISP_ALG_HMAC_SHA256) },
	};
	size_t len[3 * NREFS];
	arena_reset(&arena);
	for (size_t i = 0; i < 3 * NREFS; i++) {
		const struct ref *r = &refs[i % NREFS];
		int n = hex_decode(r->hex, pkt[i], sizeof(pkt[i]));
		cr_assert(n > 0);
		len[i] = (size_t)n;
		if (r->rfc)
			cr_assert_eq(
			    hex_decode(TV_MREG_SHA256_RFC_HMAC, pkt[i] + LISPMS_AUTH_OFFSET, 32),
			    32);
		if (i >= 2 * NREFS)
			pkt[i][50] ^= 0x40; /* tampered, inside either coverage */
		cr_assert_eq(msg_decode(pkt[i], len[i], &arena, &m[i]), LISPMS_EOK);
		const struct lisp_auth *a =
		    m[i].type == LISP_MSG_MAP_REGISTER ? &m[i].u.reg.auth : &m[i].u.notify.auth;
		v[i] = (struct auth_vjob){ .keys = keys[r->alg - 1],
					   .nkeys = 2,
					   .msg = pkt[i],
					   .len = len[i],
					   .auth = a,
					   .in_place = in_place };
		memcpy(orig[i], pkt[i], len[i]);
		memcpy(signed_[i], pkt[i], len[i]);
		memset(signed_[i] + LISPMS_AUTH_OFFSET, 0, a->len);
		s[i] = (struct auth_sjob){ .key = &keys[r->alg - 1][1],
					   .msg = signed_[i],
					   .len = len[i] };
	}
	auth_batch_verify(c, v, 3 * NREFS);
	auth_batch_sign(c, s, 3 * NREFS);
	for (size_t i = 0; i < 3 * NREFS; i++) {
		const struct ref *r = &refs[i % NREFS];
		bool tampered = i >= 2 * NREFS;
		cr_assert_eq(v[i].ret, tampered ? LISPMS_EAUTH : LISPMS_EOK, "reference %zu", i);
		cr_assert_eq(v[i].key, tampered ? NULL : &keys[r->alg - 1][1]);
		cr_assert_eq(s[i].ret, LISPMS_EOK);
		cr_assert_arr_eq(pkt[i], orig[i], len[i], "reference %zu left as it was", i);
		if (!tampered && !r->rfc)
			cr_assert_arr_eq(signed_[i], pkt[i], len[i],
					 "signing reproduces reference %zu", i);
	}
}

Test(auth_mb, reference_packets_engine)
{
	check_refs(mb, false);
}

Test(auth_mb, reference_packets_openssl)
{
	check_refs(ossl, false);
}

Test(auth_mb, reference_packets_in_place)
{
	check_refs(mb, true);
	check_refs(ossl, true);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define MAXB 200  /* past the engine's window of 128 jobs sorted at a time */
#define MAXL 1300 /* past the engine's staging slot: those go one by one */

/* Random batches: the batch result equals auth_verify()/auth_sign() per element. */
Test(auth_mb, batch_equals_one_by_one)
{
	static uint8_t msg[MAXB][MAXL], a_msg[MAXB][MAXL], b_msg[MAXB][MAXL], c_msg[MAXB][MAXL];
	static uint8_t secret[MAXB][100];
	struct auth_key keys[4][3];
	struct lisp_auth au[MAXB], au_c[MAXB];
	struct auth_vjob v[MAXB], w[MAXB], u[MAXB];
	struct auth_sjob s[MAXB];
	size_t len[MAXB];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned verified = 0, refused = 0, rfc = 0, in_place = 0, overlap = 0;
	for (int round = 0; round < 300; round++) {
		/* four key sets of three keys: ids 0..2, random algorithms and secrets */
		for (int s_ = 0; s_ < 4; s_++)
			for (int k = 0; k < 3; k++) {
				size_t kl = rnd(&x) % 100;
				for (size_t j = 0; j < kl; j++)
					secret[k][j] = (uint8_t)rnd(&x);
				cr_assert_eq(auth_key_init(&keys[s_][k], (uint8_t)k,
							   (uint8_t)(1 + rnd(&x) % 2), secret[k],
							   kl),
					     LISPMS_EOK);
			}
		size_t n = 1 + rnd(&x) % MAXB;
		for (size_t i = 0; i < n; i++) {
			len[i] = 16 + rnd(&x) % (MAXL - 16);
			for (size_t j = 0; j < len[i]; j++)
				msg[i][j] = (uint8_t)rnd(&x);
			const struct auth_key *ks = keys[rnd(&x) % 4];
			const struct auth_key *k = &ks[rnd(&x) % 3];
			uint64_t r = rnd(&x);
			uint8_t alg = (r & 7) == 0 ? (uint8_t)(r >> 3) % 4 : k->alg_id;
			uint16_t alen = (uint16_t)auth_alg_len(alg);
			if (((r >> 8) & 3) == 0)
				alen = alg == LISP_ALG_HMAC_SHA1 ? 12 : 16; /* truncated */
			if (((r >> 10) & 15) == 0)
				alen = (uint16_t)((r >> 14) % 40); /* anything */
			if (16 + (size_t)alen > len[i])
				len[i] = 16 + (size_t)alen;
			msg[i][12] = ((r >> 20) & 7) == 0 ? (uint8_t)(r >> 23) % 4 : k->key_id;
			msg[i][13] = alg;
			msg[i][14] = (uint8_t)(alen >> 8);
			msg[i][15] = (uint8_t)alen;
			size_t end = len[i];
			if (((r >> 30) & 3) == 0) /* a trailer after the records */
				end = 16 + alen + (r >> 32) % (len[i] - 16 - alen + 1);
			/* sign about half of them, over the whole message or the RFC part */
			if ((r >> 40) & 1) {
				memset(msg[i] + 16, 0, alen);
				if (k->alg_id == alg && alen > 0 && msg[i][12] == k->key_id &&
				    auth_len_ok(alg, alen)) {
					uint8_t mac[32];
					bool part = (r >> 41) & 1;
					cr_assert_eq(
					    auth_hmac(ossl, k, msg[i], part ? end : len[i], mac),
					    LISPMS_EOK);
					memcpy(msg[i] + 16, mac, alen);
					rfc += part && end < len[i];
				}
			}
			au[i] = (struct lisp_auth){ .key_id = msg[i][12],
						    .alg_id = alg,
						    .len = alen,
						    .data = ((r >> 42) & 31) == 0   ? NULL
							    : ((r >> 52) & 15) == 0 ? msg[i] + 17
										    : msg[i] + 16,
						    .rfc_end = (uint32_t)end };
			if (((r >> 47) & 31) == 0)
				au[i].rfc_end = (uint32_t)(len[i] + 1); /* does not fit */
			v[i] = (struct auth_vjob){
				.keys = ks, .nkeys = 3, .msg = msg[i], .len = len[i], .auth = &au[i]
			};
			w[i] = v[i];
			/* in place over a copy, the authentication data pointing into it */
			memcpy(c_msg[i], msg[i], len[i]);
			au_c[i] = au[i];
			if (au[i].data != NULL)
				au_c[i].data = c_msg[i] + (au[i].data - msg[i]);
			u[i] = v[i];
			u[i].msg = c_msg[i];
			u[i].auth = &au_c[i];
			u[i].in_place = (r >> 56) & 1;
			memcpy(a_msg[i], msg[i], len[i]);
			memcpy(b_msg[i], msg[i], len[i]);
			s[i] = (struct auth_sjob){ .key = k, .msg = a_msg[i], .len = len[i] };
		}
		auth_batch_verify(mb, v, n);
		auth_batch_verify(ossl, w, n);
		auth_batch_verify(mb, u, n);
		auth_batch_sign(mb, s, n);
		for (size_t i = 0; i < n; i++) {
			int want = auth_verify(ossl, v[i].keys, 3, msg[i], len[i], &au[i]);
			cr_assert_eq(v[i].ret, want, "round %d job %zu: %d, one by one %d", round,
				     i, v[i].ret, want);
			cr_assert_eq(w[i].ret, want);
			cr_assert_eq(v[i].key, w[i].key);
			cr_assert_eq(u[i].ret, want, "round %d job %zu in place %d", round, i,
				     u[i].in_place);
			cr_assert_eq(u[i].key, v[i].key);
			cr_assert_arr_eq(c_msg[i], msg[i], len[i],
					 "round %d job %zu left as it was", round, i);
			in_place += u[i].in_place && want == LISPMS_EOK;
			overlap += u[i].in_place && au[i].data == msg[i] + 17;
			cr_assert_eq(v[i].key != NULL, want == LISPMS_EOK);
			verified += want == LISPMS_EOK;
			refused += want != LISPMS_EOK && want != LISPMS_EAUTH;
			int sw = auth_sign(ossl, s[i].key, b_msg[i], len[i]);
			cr_assert_eq(s[i].ret, sw, "round %d sign %zu", round, i);
			if (sw == LISPMS_EOK)
				cr_assert_arr_eq(a_msg[i], b_msg[i], len[i]);
		}
	}
	/* the generator reaches every outcome */
	cr_assert_gt(verified, 1000);
	cr_assert_gt(refused, 1000);
	cr_assert_gt(rfc, 100);
	cr_assert_gt(in_place, 500);
	cr_assert_gt(overlap, 100);
}

Test(auth_mb, empty_batch)
{
	auth_batch_verify(mb, NULL, 0);
	auth_batch_sign(mb, NULL, 0);
}
