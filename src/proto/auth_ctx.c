/* SPDX-License-Identifier: MIT */
/*
 * Authentication contexts and keys (D9): the digest implementations an
 * auth_ctx keeps (see auth.c for why), the multi-buffer engine it may own
 * (auth_mb.c), and the keys' pads. On top of auth.c and auth_mb.c.
 */
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "auth_impl.h"

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
