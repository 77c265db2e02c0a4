/* SPDX-License-Identifier: MIT */
/*
 * map_referral_decode() on any input, with the round-trip oracle; then
 * every signature section through referral_sig_verify() (docs/protocol.md
 * D24) with a key made at start, once as sent and once with the key's own
 * tag and length, so hostile records and signatures reach RSA. Nothing made
 * up verifies: an input that does is a crash.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz.h"
#include "fuzz_oracle.h"

static struct referral_key *fuzz_key(void)
{
	static struct referral_key *k;
	if (k != NULL)
		return k;
	EVP_PKEY *p = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	if (p == NULL || b == NULL || PEM_write_bio_PUBKEY(b, p) != 1)
		abort();
	char *pem;
	long n = BIO_get_mem_data(b, &pem);
	size_t nk;
	const char *why;
	if (referral_key_parse(pem, (size_t)n, false, &k, 1, &nk, &why) != LISPMS_EOK)
		abort();
	BIO_free(b);
	EVP_PKEY_free(p);
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct lisp_msg m;
	memset(&m, 0, sizeof(m));
	if (map_referral_decode(data, size, a, &m.u.referral) != LISPMS_EOK)
		return 0;
	m.type = (uint8_t)(LISP_MSG_MAP_REFERRAL);
	const struct lisp_map_referral *r = &m.u.referral;
	for (unsigned i = 0; i < r->nrecords; i++) {
		const struct lisp_referral_record *rr = &r->records[i];
		/* the spans lie in the input, the header right after the record's end */
		fuzz_check(rr->wire >= data && rr->wire + rr->wire_len <= data + size);
		for (unsigned j = 0; j < rr->r.rsvd; j++) {
			struct lisp_ref_sig s = rr->sigs[j];
			fuzz_check(s.hdr >= rr->wire + rr->wire_len &&
				   s.hdr + LISP_REF_SIG_MIN_LEN <= data + size);
			struct referral_key *k = fuzz_key();
			fuzz_check(referral_sig_verify(k, rr, &s) != LISPMS_EOK);
			if (s.len == referral_key_sig_len(k)) {
				s.key_tag = referral_key_tag(k);
				s.alg = LISP_REF_SIG_RSA_SHA256;
				fuzz_check(referral_sig_verify(k, rr, &s) != LISPMS_EOK);
			}
		}
	}
	fuzz_udp_roundtrip(&m, data, size, a);
	return 0;
}
