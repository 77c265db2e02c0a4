/* SPDX-License-Identifier: MIT */
/*
 * Authentication (D9): the Key ID / Algorithm ID / length fields of
 * Map-Register and Map-Notify(-Ack), and HMAC-SHA-1 / HMAC-SHA-256 sign and
 * verify with OpenSSL 3.
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

#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

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

static const char *const md_name[AUTH_ALGS] = { NULL, "SHA1", "SHA2-256" };

/* True when `name` is one of the ':'-separated names in `names`. */
static bool names_have(const char *names, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = names;; p++) {
		if (strncmp(p, name, n) == 0 && (p[n] == ':' || p[n] == '\0'))
			return true;
		p = strchr(p, ':');
		if (p == NULL)
			return false;
	}
}

static int md_bind(struct auth_md *md, const EVP_MD *evp, const char *name)
{
	const OSSL_PROVIDER *prov = EVP_MD_get0_provider(evp);
	int no_cache = 0;
	const OSSL_ALGORITHM *algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_DIGEST, &no_cache);
	OSSL_FUNC_digest_newctx_fn *newctx = NULL;
	for (const OSSL_ALGORITHM *a = algs; a != NULL && a->algorithm_names != NULL; a++) {
		if (!names_have(a->algorithm_names, name))
			continue;
		for (const OSSL_DISPATCH *d = a->implementation; d->function_id != 0; d++) {
			switch (d->function_id) {
			case OSSL_FUNC_DIGEST_NEWCTX:
				newctx = OSSL_FUNC_digest_newctx(d);
				break;
			case OSSL_FUNC_DIGEST_INIT:
				md->init = OSSL_FUNC_digest_init(d);
				break;
			case OSSL_FUNC_DIGEST_UPDATE:
				md->update = OSSL_FUNC_digest_update(d);
				break;
			case OSSL_FUNC_DIGEST_FINAL:
				md->final = OSSL_FUNC_digest_final(d);
				break;
			case OSSL_FUNC_DIGEST_FREECTX:
				md->freectx = OSSL_FUNC_digest_freectx(d);
				break;
			}
		}
		break;
	}
	if (algs != NULL)
		OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_DIGEST, algs);
	if (newctx == NULL || md->init == NULL || md->update == NULL || md->final == NULL ||
	    md->freectx == NULL)
		return LISPMS_ENOTSUP;
	md->work = newctx(OSSL_PROVIDER_get0_provider_ctx(prov));
	md->size = (size_t)EVP_MD_get_size(evp);
	return md->work != NULL ? LISPMS_EOK : LISPMS_ENOMEM;
}

void auth_ctx_free(struct auth_ctx *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < AUTH_ALGS; i++) {
		if (c->md[i].work != NULL)
			c->md[i].freectx(c->md[i].work);
		EVP_MD_free(c->fetched[i]);
	}
	auth_mb_free(c->mb);
	OPENSSL_free(c);
}

struct auth_ctx *auth_ctx_new(void)
{
	struct auth_ctx *c = OPENSSL_zalloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	for (int i = LISP_ALG_HMAC_SHA1; i < AUTH_ALGS; i++) {
		c->fetched[i] = EVP_MD_fetch(NULL, md_name[i], NULL);
		if (c->fetched[i] == NULL || md_bind(&c->md[i], c->fetched[i], md_name[i]) != 0 ||
		    c->md[i].size != auth_alg_len((uint8_t)i)) {
			auth_ctx_free(c);
			return NULL;
		}
	}
	c->mb = auth_mb_new(); /* NULL: batches go one message at a time */
	c->use_mb = c->mb != NULL;
	return c;
}

int auth_key_init(struct auth_key *k, uint8_t key_id, uint8_t alg_id, const void *secret,
		  size_t len)
{
	if (alg_id != LISP_ALG_HMAC_SHA1 && alg_id != LISP_ALG_HMAC_SHA256)
		return LISPMS_EINVAL;
	uint8_t key[LISPMS_AUTH_BLOCK] = { 0 };
	if (len > LISPMS_AUTH_BLOCK) {
		unsigned n = 0;
		EVP_MD *md = EVP_MD_fetch(NULL, md_name[alg_id], NULL);
		int ok = md != NULL && EVP_Digest(secret, len, key, &n, md, NULL) == 1;
		EVP_MD_free(md);
		if (!ok)
			return LISPMS_ENOTSUP;
	} else if (len > 0) {
		memcpy(key, secret, len);
	}
	struct auth_key r;
	r.key_id = key_id;
	r.alg_id = alg_id;
	for (int i = 0; i < LISPMS_AUTH_BLOCK; i++) {
		r.ipad[i] = key[i] ^ 0x36;
		r.opad[i] = key[i] ^ 0x5c;
	}
	OPENSSL_cleanse(key, sizeof(key));
	memset(r.istate, 0, sizeof(r.istate));
	memset(r.ostate, 0, sizeof(r.ostate));
	auth_mb_key_prep(&r);
	*k = r;
	OPENSSL_cleanse(&r, sizeof(r));
	return LISPMS_EOK;
}

void auth_key_clear(struct auth_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

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
