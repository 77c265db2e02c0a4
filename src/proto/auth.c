/* SPDX-License-Identifier: MIT */
/*
 * Authentication (D9): the Key ID / Algorithm ID / length fields of
 * Map-Register and Map-Notify(-Ack), and HMAC-SHA-1 / HMAC-SHA-256 sign and
 * verify with OpenSSL 3. The contexts and keys (which also set up the
 * multi-buffer engine, auth_mb.c, above this file) are auth_ctx.c.
 *
 * Speed and memory: with OpenSSL 3.0 every EVP-level digest (re)initialisation
 * and every EVP_MD_CTX_copy_ex() frees and allocates the provider's context,
 * and EVP_MAC does both twice per message, so none of them gives zero heap
 * allocations per message. Instead auth_ctx_new() looks up the SHA-1 and
 * SHA-256 implementations of the provider that EVP_MD_fetch() picks and keeps
 * their digest dispatch functions (provider-digest(7)) with one working
 * context each; an HMAC is then init + update(key ^ ipad) + message + final,
 * twice, on that context: no allocation, no copy. Re-absorbing the two pad
 * blocks costs two compression rounds per message, which measured cheaper
 * than the allocation a state copy needs (bench/codec_bench.c prints both).
 */
#include <string.h>

#include <openssl/crypto.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "auth_impl.h"
#include "codec.h"

bool auth_len_ok(uint8_t alg, uint16_t len)
{
	return auth_len_valid(alg, len);
}

unsigned auth_alg_len(uint8_t alg)
{
	switch (alg) {
	case LISP_ALG_HMAC_SHA1:
		return 20;
	case LISP_ALG_HMAC_SHA256:
		return 32;
	default:
		return 0;
	}
}

void auth_field_encode(struct wire *w, const struct lisp_auth *a)
{
	if (!auth_len_ok(a->alg_id, a->len)) {
		wire_fail(w, LISPMS_EAUTHLEN);
		return;
	}
	wire_write_u8(w, a->key_id);
	wire_write_u8(w, a->alg_id);
	wire_write_u16(w, a->len);
	if (a->data)
		wire_write_bytes(w, a->data, a->len);
	else
		wire_write_zero(w, a->len);
}

/* ------------------------------------------------------------------ HMAC */

static const uint8_t zeros[LISPMS_AUTH_MAX_LEN];

/* auth_impl.h */
int auth_hmac_run(struct auth_md *md, const struct auth_key *k, const uint8_t *msg, size_t cover,
		  size_t hole, size_t hole_len, uint8_t *out)
{
	uint8_t inner[LISPMS_AUTH_MAX_LEN];
	size_t n = 0;
	int ok = md->init(md->work, NULL) && md->update(md->work, k->ipad, LISPMS_AUTH_BLOCK);
	if (hole_len == 0) {
		ok = ok && md->update(md->work, msg, cover);
	} else {
		ok = ok && md->update(md->work, msg, hole) &&
		     md->update(md->work, zeros, hole_len) &&
		     md->update(md->work, msg + hole + hole_len, cover - hole - hole_len);
	}
	ok = ok && md->final(md->work, inner, &n, sizeof(inner)) && n == md->size &&
	     md->init(md->work, NULL) && md->update(md->work, k->opad, LISPMS_AUTH_BLOCK) &&
	     md->update(md->work, inner, n) && md->final(md->work, out, &n, LISPMS_AUTH_MAX_LEN);
	return ok ? LISPMS_EOK : LISPMS_EINTERNAL;
}

int auth_hmac(struct auth_ctx *c, const struct auth_key *k, const uint8_t *msg, size_t len,
	      uint8_t *out)
{
	if (k->alg_id != LISP_ALG_HMAC_SHA1 && k->alg_id != LISP_ALG_HMAC_SHA256)
		return LISPMS_EINVAL;
	return auth_hmac_run(&c->md[k->alg_id], k, msg, len, 0, 0, out);
}

int auth_verify(struct auth_ctx *c, const struct auth_key *keys, size_t nkeys, const uint8_t *msg,
		size_t len, const struct lisp_auth *a)
{
	const struct auth_key *k;
	int ret = auth_verify_check(keys, nkeys, len, a, &k);
	if (ret != LISPMS_EOK)
		return ret;
	struct auth_md *md = &c->md[k->alg_id];
	uint8_t mac[LISPMS_AUTH_MAX_LEN];
	ret = auth_hmac_run(md, k, msg, len, LISPMS_AUTH_OFFSET, a->len, mac);
	if (ret != LISPMS_EOK)
		return ret;
	if (auth_ct_equal(mac, a->data, a->len))
		return LISPMS_EOK;
	if (a->rfc_end < len) {
		ret = auth_hmac_run(md, k, msg, a->rfc_end, LISPMS_AUTH_OFFSET, a->len, mac);
		if (ret != LISPMS_EOK)
			return ret;
		if (auth_ct_equal(mac, a->data, a->len))
			return LISPMS_EOK;
	}
	return LISPMS_EAUTH;
}

int auth_sign(struct auth_ctx *c, const struct auth_key *k, uint8_t *msg, size_t len)
{
	uint16_t alen;
	int ret = auth_sign_check(k, msg, len, &alen);
	if (ret != LISPMS_EOK)
		return ret;
	uint8_t mac[LISPMS_AUTH_MAX_LEN];
	ret = auth_hmac_run(&c->md[k->alg_id], k, msg, len, LISPMS_AUTH_OFFSET, alen, mac);
	if (ret == LISPMS_EOK)
		memcpy(msg + LISPMS_AUTH_OFFSET, mac, alen);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ret;
}
