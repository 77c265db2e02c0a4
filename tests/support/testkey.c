/* SPDX-License-Identifier: MIT */
/* RSA test keys made at run time (testkey.h). */
#include "testkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static char *pems[TESTKEY_MAX][2];

static char *bio_text(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (s != NULL) {
		memcpy(s, p, (size_t)n);
		s[n] = '\0';
	}
	return s;
}

static void make(unsigned i)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
	if (k == NULL || priv == NULL || pub == NULL ||
	    PEM_write_bio_PrivateKey(priv, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, k) != 1)
		abort();
	pems[i][1] = bio_text(priv);
	pems[i][0] = bio_text(pub);
	if (pems[i][0] == NULL || pems[i][1] == NULL)
		abort();
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(k);
}

const char *testkey_pem(unsigned i, bool private_key)
{
	if (i >= TESTKEY_MAX)
		abort();
	if (pems[i][0] == NULL)
		make(i);
	return pems[i][private_key];
}

int testkey_write(unsigned i, bool private_key, const char *path)
{
	const char *s = testkey_pem(i, private_key);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	size_t n = strlen(s);
	int ret = fwrite(s, 1, n, f) == n ? 0 : -1;
	return fclose(f) == 0 ? ret : -1;
}
