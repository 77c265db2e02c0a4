/* SPDX-License-Identifier: MIT */
/*
 * mr_sig_check() (docs/protocol.md D24) on any decodable Map-Referral: the
 * first input octet chooses the hop (the root, or a referral for the first
 * record's own prefix, or for a prefix no key covers), the rest is the
 * message. Keys are made at start, so nothing in an input can carry a
 * signature that verifies: mr_sig_check() must refuse every input, and
 * never read outside it (ASan).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/mr.h>

#include "fuzz.h"

static char *pem_of_new_key(void)
{
	EVP_PKEY *p = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	if (p == NULL || b == NULL || PEM_write_bio_PUBKEY(b, p) != 1)
		abort();
	char *d;
	long n = BIO_get_mem_data(b, &d);
	char *s = malloc((size_t)n + 1);
	if (s == NULL)
		abort();
	memcpy(s, d, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	EVP_PKEY_free(p);
	return s;
}

static struct mr_sig *fuzz_sig(void)
{
	static struct mr_sig *s;
	static struct conf_mr_key dk[2];
	if (s != NULL)
		return s;
	struct conf_map_resolver c = { 0 };
	c.trust_anchors.pem = pem_of_new_key();
	c.trust_anchors.pem_len = strlen(c.trust_anchors.pem);
	for (unsigned i = 0; i < 2; i++) {
		if (eid_prefix_parse(i ? "[1000] 10.0.0.0/8" : "0.0.0.0/0", &dk[i].prefix) !=
		    LISPMS_EOK)
			abort();
		dk[i].key.pem = pem_of_new_key();
		dk[i].key.pem_len = strlen(dk[i].key.pem);
	}
	c.delegation_keys = dk;
	c.ndelegation_keys = 2;
	if (mr_sig_from_conf(&c, &s) != LISPMS_EOK || s == NULL)
		abort();
	free((char *)c.trust_anchors.pem); /* parsed: the texts are not kept */
	for (unsigned i = 0; i < 2; i++)
		free((char *)dk[i].key.pem);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena a;
	if (a.base == NULL && arena_init(&a, 1u << 20) != LISPMS_EOK)
		abort();
	arena_reset(&a);
	if (size < 1)
		return 0;
	struct lisp_map_referral ref;
	if (map_referral_decode(data + 1, size - 1, &a, &ref) != LISPMS_EOK)
		return 0;
	struct mr_sig *s = fuzz_sig();
	struct eid_prefix via;
	const struct eid_prefix *v = NULL;
	if ((data[0] & 3) == 1 && ref.nrecords > 0 && record_eid(&ref.records[0].r, &via) == 0)
		v = &via;
	else if ((data[0] & 3) == 2 && eid_prefix_parse("[77] 2001:db8::/32", &via) == 0)
		v = &via;
	mr_sig_set_now(s, 0x60000000u + (uint32_t)(data[0] >> 2) * 0x01000000u);
	if (mr_sig_check(s, &ref, v) == MR_ST_MAX)
		abort(); /* a made-up signature verified */
	return 0;
}
