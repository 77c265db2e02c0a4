/* SPDX-License-Identifier: MIT */
/*
 * Signed Map-Referral records (docs/protocol.md D24): keys parsed from PEM,
 * a record signed and verified, and every way a signature must fail: a
 * changed octet anywhere it covers, a changed signature header, another
 * key, another algorithm. The keys are made at run time (testkey.h).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "testkey.h"

static struct arena arena;

static void setup(void)
{
	cr_assert_eq(arena_init(&arena, 1u << 20), LISPMS_EOK);
}

static void teardown(void)
{
	arena_deinit(&arena);
}

TestSuite(referral_sig, .init = setup, .fini = teardown);

static struct referral_key *key(unsigned i, bool priv)
{
	struct referral_key *k[LISP_REF_MAX_KEYS];
	size_t n;
	const char *why;
	const char *pem = testkey_pem(i, priv);
	cr_assert_eq(referral_key_parse(pem, strlen(pem), priv, k, LISP_REF_MAX_KEYS, &n, &why),
		     LISPMS_EOK, "%s", why);
	cr_assert_eq(n, 1);
	return k[0];
}

/*
 * One MS-REFERRAL record, [1000] 10.1.0.0/16 to 192.0.2.1, as a DDT node
 * sends it: one signature section, header filled, Signature to be written.
 */
static size_t build(uint8_t *buf, size_t cap, const struct referral_key *k, uint32_t ttl)
{
	static const uint8_t hdr_rec[] = {
		0x60, 0x00, 0x00, 0x01,				/* type 6, 1 record */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* nonce */
		0x00, 0x00, 0x05, 0xa0,				/* TTL 1440 */
		0x01, 0x10, 0x30, 0x00, /* 1 referral, /16, MS-REFERRAL, A */
		0x10, 0x00,		/* SigCnt 1 */
		0x40, 0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x0a,		      /* LCAF IID, len 10 */
		0x00, 0x00, 0x03, 0xe8, 0x00, 0x01, 10,	  1,	0,   0,	      /* [1000] 10.1.0.0 */
		0x01, 0x64, 0xff, 0x00, 0x00, 0x01, 0x00, 0x01, 192, 0, 2, 1, /* referral */
	};
	size_t slen = referral_key_sig_len(k);
	cr_assert_leq(sizeof(hdr_rec) + LISP_REF_SIG_MIN_LEN + slen, cap);
	memcpy(buf, hdr_rec, sizeof(hdr_rec));
	buf[12] = (uint8_t)(ttl >> 24);
	buf[13] = (uint8_t)(ttl >> 16);
	buf[14] = (uint8_t)(ttl >> 8);
	buf[15] = (uint8_t)ttl;
	uint8_t *h = buf + sizeof(hdr_rec);
	static const uint8_t times[] = {
		0x00, 0x00, 0x05, 0xa0, /* original TTL 1440 */
		0x70, 0x00, 0x00, 0x00, /* expiration */
		0x60, 0x00, 0x00, 0x00, /* inception */
	};
	memcpy(h, times, sizeof(times));
	uint16_t tag = referral_key_tag(k);
	h[12] = (uint8_t)(tag >> 8);
	h[13] = (uint8_t)tag;
	h[14] = (uint8_t)(slen >> 8);
	h[15] = (uint8_t)slen;
	h[16] = LISP_REF_SIG_RSA_SHA256;
	h[17] = h[18] = h[19] = 0;
	memset(h + LISP_REF_SIG_MIN_LEN, 0, slen);
	return sizeof(hdr_rec) + LISP_REF_SIG_MIN_LEN + slen;
}

static int verify(const struct referral_key *k, const uint8_t *buf, size_t len)
{
	struct lisp_map_referral m;
	int ret = map_referral_decode(buf, len, &arena, &m);
	if (ret != LISPMS_EOK)
		return ret;
	cr_assert_eq(m.records[0].r.rsvd, 1);
	return referral_sig_verify(k, &m.records[0], &m.records[0].sigs[0]);
}

Test(referral_sig, a_signed_record_verifies_with_the_public_half)
{
	struct referral_key *priv = key(0, true), *pub = key(0, false);
	cr_assert_eq(referral_key_tag(priv), referral_key_tag(pub));
	cr_assert_eq(referral_key_sig_len(pub), 256);
	uint8_t buf[1024];
	size_t len = build(buf, sizeof(buf), priv, 1440);
	cr_assert_eq(map_referral_sign_single(priv, buf, len), LISPMS_EOK);
	cr_assert_eq(verify(pub, buf, len), LISPMS_EOK);
	/* the private key verifies too (it holds its public half) */
	cr_assert_eq(verify(priv, buf, len), LISPMS_EOK);
	/* a public key cannot sign */
	cr_assert_eq(map_referral_sign_single(pub, buf, len), LISPMS_EINVAL);
	referral_key_free(priv);
	referral_key_free(pub);
}

Test(referral_sig, any_changed_octet_it_covers_fails)
{
	struct referral_key *priv = key(0, true), *pub = key(0, false);
	uint8_t buf[1024], bad[1024];
	size_t len = build(buf, sizeof(buf), priv, 1440);
	cr_assert_eq(map_referral_sign_single(priv, buf, len), LISPMS_EOK);
	size_t slen = referral_key_sig_len(pub);
	for (size_t i = 12; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x01;
		int ret = verify(pub, bad, len);
		if (i >= 12 && i < 16) /* the Record TTL is not covered (D24) */
			cr_assert_eq(ret, LISPMS_EOK, "TTL octet %zu", i);
		else
			cr_assert_neq(ret, LISPMS_EOK, "octet %zu changed, still verifies", i);
	}
	(void)slen;
	referral_key_free(priv);
	referral_key_free(pub);
}

Test(referral_sig, another_key_fails_even_with_its_tag)
{
	struct referral_key *priv = key(0, true), *other = key(1, false);
	cr_assert_neq(referral_key_tag(priv), referral_key_tag(other));
	uint8_t buf[1024];
	size_t len = build(buf, sizeof(buf), priv, 1440);
	cr_assert_eq(map_referral_sign_single(priv, buf, len), LISPMS_EOK);
	cr_assert_eq(verify(other, buf, len), LISPMS_EAUTH);
	/* the tag only chooses a key: claiming the other key's tag does not help */
	struct lisp_map_referral m;
	cr_assert_eq(map_referral_decode(buf, len, &arena, &m), LISPMS_EOK);
	struct lisp_ref_sig s = m.records[0].sigs[0];
	s.key_tag = referral_key_tag(other);
	cr_assert_eq(referral_sig_verify(other, &m.records[0], &s), LISPMS_EAUTH);
	/* nor does another algorithm number */
	s = m.records[0].sigs[0];
	s.alg = 2;
	cr_assert_eq(referral_sig_verify(priv, &m.records[0], &s), LISPMS_EAUTH);
	referral_key_free(priv);
	referral_key_free(other);
}

static int parse(const char *pem, bool priv, size_t *n, const char **why)
{
	struct referral_key *k[LISP_REF_MAX_KEYS];
	int ret = referral_key_parse(pem, strlen(pem), priv, k, LISP_REF_MAX_KEYS, n, why);
	for (size_t i = 0; ret == LISPMS_EOK && i < *n; i++)
		referral_key_free(k[i]);
	return ret;
}

Test(referral_sig, key_files_that_are_refused)
{
	size_t n;
	const char *why;
	cr_assert_eq(parse("hello", false, &n, &why), LISPMS_EINVAL);
	cr_assert_str_eq(why, "no PEM key found");
	/* a public key where a private one is needed */
	cr_assert_eq(parse(testkey_pem(0, false), true, &n, &why), LISPMS_EINVAL);
	cr_assert(strstr(why, "not a PEM private key") != NULL, "%s", why);
	/* a bundle of public keys is read whole; a private key stands for its public half */
	char bundle[8192];
	snprintf(bundle, sizeof(bundle), "%s%s", testkey_pem(0, false), testkey_pem(1, true));
	cr_assert_eq(parse(bundle, false, &n, &why), LISPMS_EOK);
	cr_assert_eq(n, 2);
	/* a damaged block */
	snprintf(bundle, sizeof(bundle), "%s", testkey_pem(0, false));
	bundle[40] = bundle[40] == 'A' ? 'B' : 'A';
	cr_assert_eq(parse(bundle, false, &n, &why), LISPMS_EINVAL);
	/* too small a key, and not RSA */
	EVP_PKEY *small = EVP_RSA_gen(1024);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	cr_assert(small != NULL && ec != NULL);
	BIO *b = BIO_new(BIO_s_mem());
	cr_assert_eq(PEM_write_bio_PUBKEY(b, small), 1);
	cr_assert_eq(BIO_write(b, "", 1), 1);
	char *p;
	BIO_get_mem_data(b, &p);
	cr_assert_eq(parse(p, false, &n, &why), LISPMS_EINVAL);
	cr_assert(strstr(why, "2048") != NULL, "%s", why);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	cr_assert_eq(PEM_write_bio_PUBKEY(b, ec), 1);
	cr_assert_eq(BIO_write(b, "", 1), 1);
	BIO_get_mem_data(b, &p);
	cr_assert_eq(parse(p, false, &n, &why), LISPMS_EINVAL);
	cr_assert(strstr(why, "not an RSA key") != NULL, "%s", why);
	BIO_free(b);
	/* an encrypted private key */
	b = BIO_new(BIO_s_mem());
	cr_assert_eq(PEM_write_bio_PrivateKey(b, small, EVP_aes_128_cbc(), (unsigned char *)"pw", 2,
					      NULL, NULL),
		     1);
	cr_assert_eq(BIO_write(b, "", 1), 1);
	BIO_get_mem_data(b, &p);
	cr_assert_eq(parse(p, true, &n, &why), LISPMS_EINVAL);
	cr_assert(strstr(why, "encrypted") != NULL, "%s", why);
	BIO_free(b);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
}
