/* SPDX-License-Identifier: MIT */
/*
 * Batched authentication, oracle against the one-message functions: the
 * input is cut into up to 160 messages, past the engine's window of 128 (a
 * 2-octet length, then the octets; the Key ID, algorithm and length fields
 * are the message's own octets 12..15, the RFC coverage end the length's
 * top bits), some signed first. Oracle: auth_batch_verify() with the
 * multi-buffer engine (when the build has it), auth_batch_verify() on
 * OpenSSL and auth_verify() one by one agree on every code and key and
 * leave the messages alone, and so does the engine verifying them in place
 * (auth_vjob.in_place: zeroed, hashed and restored, byte for byte);
 * auth_batch_sign() writes what auth_sign() writes; a signed message then
 * verifies.
 */
#include "fuzz.h"
#include "fuzz_oracle.h"

#define NMAX 160
#define LMAX 1400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth_ctx *mb, *ossl;
	static struct auth_key keys[7];
	static uint8_t msg[NMAX][LMAX], copy[NMAX][LMAX], sa[NMAX][LMAX], sb[NMAX][LMAX];
	static uint8_t ip[NMAX][LMAX]; /* verified in place (auth_vjob.in_place) */
	if (mb == NULL) {
		mb = auth_ctx_new();
		ossl = auth_ctx_new();
		fuzz_check(mb != NULL && ossl != NULL);
		auth_ctx_use_mb(ossl, false);
		for (int i = 0; i < 6; i++)
			fuzz_check(auth_key_init(&keys[i], (uint8_t)(i / 2), (uint8_t)(1 + i % 2),
						 "secret", 6) == LISPMS_EOK);
		static const char long_key[] = "a key longer than one block of the hash, so it is "
					       "hashed first by auth_key_init";
		fuzz_check(auth_key_init(&keys[6], 3, LISP_ALG_HMAC_SHA256, long_key,
					 sizeof(long_key) - 1) == LISPMS_EOK);
	}
	struct lisp_auth au[NMAX], au_ip[NMAX];
	struct auth_vjob v[NMAX], w[NMAX], u[NMAX];
	struct auth_sjob s[NMAX];
	size_t len[NMAX], n = 0, off = 0;
	while (n < NMAX && off + 2 <= size) {
		uint16_t hdr = (uint16_t)(data[off] << 8 | data[off + 1]);
		off += 2;
		size_t l = (hdr & 0x7ff) % LMAX;
		if (l < 16 || l > size - off)
			break;
		memcpy(msg[n], data + off, l);
		off += l;
		len[n] = l;
		uint16_t alen = wire_get_u16(msg[n] + 14);
		size_t end = l;
		if (hdr & 0x800) /* a trailer: the RFC coverage ends before it */
			end = (size_t)alen + 16 <= l ? l - (hdr >> 12) % (l - 16 - alen + 1) : l;
		if ((hdr & 0x8000) && msg[n][13] >= 1 && msg[n][13] <= 2) {
			/* signed with the key the fields name, when there is one */
			for (int k = 0; k < 7; k++)
				if (keys[k].key_id == msg[n][12] && keys[k].alg_id == msg[n][13] &&
				    auth_len_ok(msg[n][13], alen) && 16 + (size_t)alen <= l) {
					uint8_t mac[LISPMS_AUTH_MAX_LEN];
					memset(msg[n] + 16, 0, alen);
					fuzz_check(auth_hmac(ossl, &keys[k], msg[n], end, mac) ==
						   LISPMS_EOK);
					memcpy(msg[n] + 16, mac, alen);
				}
		}
		au[n] = (struct lisp_auth){ .key_id = msg[n][12],
					    .alg_id = msg[n][13],
					    .len = alen,
					    .data = msg[n] + 16,
					    .rfc_end = (uint32_t)end };
		memcpy(copy[n], msg[n], l);
		memcpy(sa[n], msg[n], l);
		memcpy(sb[n], msg[n], l);
		v[n] = (struct auth_vjob){
			.keys = keys, .nkeys = 7, .msg = msg[n], .len = l, .auth = &au[n]
		};
		w[n] = v[n];
		memcpy(ip[n], msg[n], l);
		au_ip[n] = au[n];
		au_ip[n].data = ip[n] + 16;
		u[n] = (struct auth_vjob){ .keys = keys,
					   .nkeys = 7,
					   .msg = ip[n],
					   .len = l,
					   .auth = &au_ip[n],
					   .in_place = true };
		const struct auth_key *sk = &keys[(hdr >> 8) % 7];
		s[n] = (struct auth_sjob){ .key = sk, .msg = sa[n], .len = l };
		n++;
	}
	auth_batch_verify(mb, v, n);
	auth_batch_verify(ossl, w, n);
	auth_batch_verify(mb, u, n);
	auth_batch_sign(mb, s, n);
	for (size_t i = 0; i < n; i++) {
		int want = auth_verify(ossl, keys, 7, msg[i], len[i], &au[i]);
		fuzz_check(v[i].ret == want && w[i].ret == want && v[i].key == w[i].key);
		fuzz_check((v[i].key != NULL) == (want == LISPMS_EOK));
		fuzz_check(memcmp(copy[i], msg[i], len[i]) == 0);
		fuzz_check(u[i].ret == want && u[i].key == v[i].key);
		fuzz_check(memcmp(copy[i], ip[i], len[i]) == 0); /* in place: restored */
		int sw = auth_sign(ossl, s[i].key, sb[i], len[i]);
		fuzz_check(s[i].ret == sw);
		if (sw != LISPMS_EOK)
			continue;
		fuzz_check(memcmp(sa[i], sb[i], len[i]) == 0);
		struct lisp_auth a = { .key_id = sa[i][12],
				       .alg_id = sa[i][13],
				       .len = wire_get_u16(sa[i] + 14),
				       .data = sa[i] + 16,
				       .rfc_end = (uint32_t)len[i] };
		struct auth_vjob r = {
			.keys = s[i].key, .nkeys = 1, .msg = sa[i], .len = len[i], .auth = &a
		};
		auth_batch_verify(mb, &r, 1);
		fuzz_check(r.ret == LISPMS_EOK && r.key == s[i].key);
	}
	return 0;
}
