/* SPDX-License-Identifier: MIT */
/*
 * Signed Map-Referral records (RFC 8111 §6.4.1, §7): RSA-SHA256 keys, what
 * a signature covers, signing and verifying (docs/protocol.md D24). Like
 * auth_ctx.c, the one place in proto that holds OpenSSL objects: a parsed
 * key is allocated once (at configuration) and only read afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <lispms/err.h>
#include <lispms/proto.h>
#include <lispms/wire.h>

struct referral_key {
	EVP_PKEY *pkey;
	bool priv;
	uint16_t tag;
	size_t sig_len;
};

static int key_finish(EVP_PKEY *pkey, bool priv, struct referral_key **out, const char **why)
{
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		*why = "not an RSA key (Sig-Algorithm 1 is RSA-SHA256)";
		return LISPMS_EINVAL;
	}
	int bits = EVP_PKEY_get_bits(pkey);
	if (bits < LISP_REF_KEY_MIN_BITS || bits > LISP_REF_KEY_MAX_BITS) {
		*why = "RSA key size outside 2048 to 4096 bits";
		return LISPMS_EINVAL;
	}
	unsigned char *der = NULL;
	int dlen = i2d_PUBKEY(pkey, &der);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	bool ok = dlen > 0 && EVP_Digest(der, (size_t)dlen, md, &mdlen, EVP_sha256(), NULL) == 1;
	OPENSSL_free(der);
	if (!ok) {
		*why = "cannot encode the public key";
		return LISPMS_EINVAL;
	}
	struct referral_key *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return LISPMS_ENOMEM;
	k->pkey = pkey;
	k->priv = priv;
	k->tag = (uint16_t)(md[0] << 8 | md[1]);
	k->sig_len = (size_t)EVP_PKEY_get_size(pkey);
	*out = k;
	return LISPMS_EOK;
}

int referral_key_parse(const char *pem, size_t len, bool want_private, struct referral_key **keys,
		       size_t max, size_t *n, const char **why)
{
	*n = 0;
	*why = "no PEM key found";
	if (len > INT32_MAX || max == 0)
		return LISPMS_EINVAL;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return LISPMS_ENOMEM;
	int ret = LISPMS_EOK;
	while (*n < (want_private ? 1u : max)) {
		EVP_PKEY *pkey = NULL;
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;
		if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1)
			break; /* no further block */
		const unsigned char *p = data;
		bool is_pub = strcmp(name, "PUBLIC KEY") == 0;
		bool is_priv =
		    strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "RSA PRIVATE KEY") == 0;
		if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 || strstr(header, "ENCRYPTED")) {
			*why =
			    "the private key is encrypted (a key file must be readable unattended)";
			ret = LISPMS_EINVAL;
		} else if (want_private && !is_priv) {
			*why = "not a PEM private key (\"PRIVATE KEY\" or \"RSA PRIVATE KEY\")";
			ret = LISPMS_EINVAL;
		} else if (!want_private && !is_pub && !is_priv) {
			*why = "not a PEM public key (\"PUBLIC KEY\")";
			ret = LISPMS_EINVAL;
		} else if (is_pub) {
			pkey = d2i_PUBKEY(NULL, &p, dlen);
		} else if (strcmp(name, "RSA PRIVATE KEY") == 0) {
			pkey = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, dlen);
		} else {
			pkey = d2i_AutoPrivateKey(NULL, &p, dlen);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (ret != LISPMS_EOK)
			break;
		if (pkey == NULL) {
			*why = "the PEM block does not hold a valid key";
			ret = LISPMS_EINVAL;
			break;
		}
		ret = key_finish(pkey, want_private, &keys[*n], why);
		if (ret != LISPMS_EOK) {
			EVP_PKEY_free(pkey);
			break;
		}
		(*n)++;
	}
	BIO_free(bio);
	ERR_clear_error();
	if (ret == LISPMS_EOK && *n == 0)
		ret = LISPMS_EINVAL;
	if (ret != LISPMS_EOK) {
		for (size_t i = 0; i < *n; i++)
			referral_key_free(keys[i]);
		*n = 0;
	}
	return ret;
}

void referral_key_free(struct referral_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

uint16_t referral_key_tag(const struct referral_key *k)
{
	return k->tag;
}

size_t referral_key_sig_len(const struct referral_key *k)
{
	return k->sig_len;
}

/* What a signature covers (D24): the record with its TTL zeroed, then the section's header. */
static bool digest_feed(EVP_MD_CTX *ctx, bool sign, const uint8_t *rec, size_t rec_len,
			const uint8_t *hdr)
{
	static const uint8_t zero_ttl[4];
	int (*upd)(EVP_MD_CTX *, const void *, size_t) =
	    sign ? EVP_DigestSignUpdate : EVP_DigestVerifyUpdate;
	return rec_len >= 4 && upd(ctx, zero_ttl, 4) == 1 && upd(ctx, rec + 4, rec_len - 4) == 1 &&
	       upd(ctx, hdr, LISP_REF_SIG_MIN_LEN) == 1;
}

int referral_sig_sign(const struct referral_key *k, const uint8_t *rec, size_t rec_len,
		      const uint8_t hdr[LISP_REF_SIG_MIN_LEN], uint8_t *sig, size_t cap)
{
	if (!k->priv || cap < k->sig_len)
		return LISPMS_EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return LISPMS_ENOMEM;
	size_t slen = cap;
	bool ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		  digest_feed(ctx, true, rec, rec_len, hdr) &&
		  EVP_DigestSignFinal(ctx, sig, &slen) == 1 && slen == k->sig_len;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? LISPMS_EOK : LISPMS_EINVAL;
}

int referral_sig_verify(const struct referral_key *k, const struct lisp_referral_record *rr,
			const struct lisp_ref_sig *s)
{
	if (s->alg != LISP_REF_SIG_RSA_SHA256 || s->key_tag != k->tag || s->len != k->sig_len ||
	    s->data == NULL || s->hdr == NULL || rr->wire == NULL)
		return LISPMS_EAUTH;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return LISPMS_ENOMEM;
	bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		  digest_feed(ctx, false, rr->wire, rr->wire_len, s->hdr) &&
		  EVP_DigestVerifyFinal(ctx, s->data, s->len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? LISPMS_EOK : LISPMS_EAUTH;
}

int map_referral_sign_single(const struct referral_key *k, uint8_t *buf, size_t len)
{
	size_t tail = LISP_REF_SIG_MIN_LEN + k->sig_len;
	/* header (12), the record's fixed part (12), the signature section */
	if (len < 12 + 12 + tail || (buf[0] >> 4) != LISP_MSG_MAP_REFERRAL || buf[3] != 1)
		return LISPMS_EINVAL;
	uint8_t *hdr = buf + len - tail;
	if (wire_get_u16(hdr + 14) != k->sig_len || hdr[16] != LISP_REF_SIG_RSA_SHA256 ||
	    (buf[12 + 8] >> 4) != 1)
		return LISPMS_EINVAL;
	return referral_sig_sign(k, buf + 12, (size_t)(hdr - (buf + 12)), hdr,
				 hdr + LISP_REF_SIG_MIN_LEN, k->sig_len);
}
