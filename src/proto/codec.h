/* SPDX-License-Identifier: MIT */
/* Private helpers shared by the message codecs of src/proto. */
#pragma once

#include <lispms/proto.h>

/* Minimum octets of the items a count announces: used to refuse a count the
 * rest of the message cannot hold before any arena space is taken. */
#define RECORD_MIN_LEN	   12 /* TTL, counts, flags, version, EID AFI */
#define LOCATOR_MIN_LEN	   8  /* priorities, weights, flags, AFI */
#define REQ_RECORD_MIN_LEN 4  /* reserved, mask-len, AFI */
#define ITR_RLOC_MIN_LEN   2  /* AFI */
#define MSG_HDR_LEN	   4  /* type/flags/count word */
#define AUTH_FIELDS_LEN	   4  /* Key ID, Algorithm ID, length */

/* Decode n records into an arena array (NULL when n is 0). */
void record_decode_n(struct wire *w, struct arena *a, unsigned n, struct lisp_record **out);
void record_encode_n(struct wire *w, const struct lisp_record *recs, unsigned n);

/* Key ID, algorithm, length and the authentication data. */
void auth_field_decode(struct wire *w, struct lisp_auth *out);
void auth_field_encode(struct wire *w, const struct lisp_auth *a);

/* Space for n items of `size` from the arena, after checking that n items of
 * at least `min` octets fit in what the cursor has left (LISPMS_ETOOMANY). */
void *codec_array(struct wire *w, struct arena *a, unsigned n, size_t size, size_t min);

/* End of a decode: LISPMS_EMALFORMED for trailing bytes, then the cursor's
 * error; on failure the arena goes back to `mark`. */
int codec_finish(struct wire *w, struct arena *a, size_t mark);
