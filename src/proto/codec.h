/* SPDX-License-Identifier: MIT */
/*
 * Private helpers shared by the message codecs of src/proto.
 *
 * The *_into decoders write straight into their destination and may leave it
 * half-written on failure: callers point them at arena memory or at locals
 * that are dropped on failure, and the public decoders copy out only on
 * success. Writing in place (rather than filling a local and copying the
 * struct) also keeps wide loads from hitting narrow stores still in flight,
 * which measured as most of the decode time.
 */
#pragma once

#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

/* Minimum octets of the items a count announces: used to refuse a count the
 * rest of the message cannot hold before any arena space is taken. */
#define RECORD_MIN_LEN	   12 /* TTL, counts, flags, version, EID AFI */
#define LOCATOR_MIN_LEN	   8  /* priorities, weights, flags, AFI */
#define REQ_RECORD_MIN_LEN 4  /* reserved, mask-len, AFI */
#define ITR_RLOC_MIN_LEN   2  /* AFI */

void afi_decode_into(struct wire *w, struct afi_addr *dst);
void record_decode_into(struct wire *w, struct arena *a, struct lisp_record *dst);

/* n records in an arena array; NULL when n is 0 or on error (see the cursor). */
struct lisp_record *record_decode_n(struct wire *w, struct arena *a, unsigned n);
void record_encode_n(struct wire *w, const struct lisp_record *recs, unsigned n);

/* Space for n items of `size` from the arena, after checking that n items of
 * at least `min` octets fit in what the cursor has left (LISPMS_ETOOMANY). */
static inline void *codec_array(struct wire *w, struct arena *a, unsigned n, size_t size,
				size_t min)
{
	if (!wire_ok(w) || n == 0)
		return NULL;
	if ((size_t)n * min > wire_avail(w)) {
		wire_fail(w, LISPMS_ETOOMANY);
		return NULL;
	}
	void *p = arena_alloc(a, (size_t)n * size);
	if (p == NULL)
		wire_fail(w, LISPMS_ENOMEM);
	return p;
}

/* End of a decode: LISPMS_EMALFORMED for trailing bytes, then the cursor's
 * error; on failure the arena goes back to `mark`. */
static inline int codec_finish(struct wire *w, struct arena *a, size_t mark)
{
	if (wire_ok(w) && wire_avail(w) != 0)
		wire_fail(w, LISPMS_EMALFORMED);
	if (!wire_ok(w))
		arena_rewind(a, mark);
	return w->error;
}

/* Copy an address of a plain AFI with constant-size moves (a variable-size
 * memcpy became `rep movsb`, whose start-up cost dominated the decode). */
static inline void addr_copy(uint8_t *dst, const uint8_t *src, unsigned len)
{
	switch (len) {
	case 4:
		memcpy(dst, src, 4);
		break;
	case 6:
		memcpy(dst, src, 6);
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	default:
		if (len > 0)
			memcpy(dst, src, len);
	}
}

/* wire_read_u64() as two 32-bit reads: gcc 12 -O2 keeps wire.h's byte loop
 * a loop, which showed in the decode profile. */
static inline uint64_t codec_read_u64(struct wire *w)
{
	uint64_t hi = wire_read_u32(w);
	return hi << 32 | wire_read_u32(w);
}

static inline bool auth_len_valid(uint8_t alg, uint16_t len)
{
	switch (alg) {
	case LISP_ALG_NONE:
		return len == 0;
	case LISP_ALG_HMAC_SHA1:
		return len == 20 || len == 12;
	case LISP_ALG_HMAC_SHA256:
		return len == 32 || len == 16;
	default:
		return true; /* unknown algorithms are skipped by length */
	}
}

/* Key ID, algorithm, length and the authentication data (inline so the
 * fields stay in registers until the caller stores them). */
static inline void auth_field_read(struct wire *w, struct lisp_auth *a)
{
	const uint8_t *p = wire_take(w, 4);
	a->key_id = p ? p[0] : 0;
	a->alg_id = p ? p[1] : 0;
	a->len = p ? wire_get_u16(p + 2) : 0;
	a->rfc_end = 0;
	if (wire_ok(w) && !auth_len_valid(a->alg_id, a->len))
		wire_fail(w, LISPMS_EAUTHLEN);
	a->data = wire_take(w, a->len);
}

/* The type/flags/count word and the nonce that start most messages. */
static inline uint32_t codec_header(struct wire *w, uint64_t *nonce)
{
	const uint8_t *p = wire_take(w, 12);
	if (p == NULL) {
		*nonce = 0;
		return 0;
	}
	*nonce = (uint64_t)wire_get_u32(p + 4) << 32 | wire_get_u32(p + 8);
	return wire_get_u32(p);
}

void auth_field_encode(struct wire *w, const struct lisp_auth *a);
