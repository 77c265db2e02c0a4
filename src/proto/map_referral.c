/* SPDX-License-Identifier: MIT */
/*
 * Map-Referral (type 6, RFC 8111 §6.4): the header of a Map-Reply, then
 * records laid out as mapping records (the locators are the referral set)
 * each followed by SigCnt signature sections (§6.4.1).
 */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

static void sig_decode_into(struct wire *w, struct lisp_ref_sig *s)
{
	const uint8_t *p = wire_take(w, LISP_REF_SIG_MIN_LEN);
	if (p == NULL)
		return;
	s->orig_ttl = wire_get_u32(p);
	s->expiration = wire_get_u32(p + 4);
	s->inception = wire_get_u32(p + 8);
	s->key_tag = wire_get_u16(p + 12);
	s->len = wire_get_u16(p + 14);
	s->alg = p[16];
	s->rsvd8 = p[17];
	s->rsvd16 = wire_get_u16(p + 18);
	s->hdr = p;
	s->data = s->len ? wire_take(w, s->len) : NULL;
}

int map_referral_decode(const uint8_t *buf, size_t len, struct arena *a,
			struct lisp_map_referral *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);

	if (len > 0 && buf[0] >> 4 != LISP_MSG_MAP_REFERRAL)
		return LISPMS_ETYPE;
	uint64_t nonce;
	uint32_t w0 = codec_header(&w, &nonce);
	unsigned n = w0 & 0xff;
	struct lisp_referral_record *recs = codec_array(&w, a, n, sizeof(*recs), RECORD_MIN_LEN);
	for (unsigned i = 0; i < n && wire_ok(&w); i++) {
		struct lisp_referral_record *rr = &recs[i];
		size_t start = wire_offset(&w);
		record_decode_into(&w, a, &rr->r);
		rr->wire = buf + start;
		rr->wire_len = wire_offset(&w) - start;
		unsigned nsigs = wire_ok(&w) ? rr->r.rsvd : 0;
		rr->sigs = codec_array(&w, a, nsigs, sizeof(*rr->sigs), LISP_REF_SIG_MIN_LEN);
		for (unsigned j = 0; j < nsigs && wire_ok(&w); j++)
			sig_decode_into(&w, &rr->sigs[j]);
	}
	int ret = codec_finish(&w, a, mark);
	if (ret != LISPMS_EOK)
		return ret;
	out->flags = w0 & LISP_MREF_FLAGS;
	out->nonce = nonce;
	out->nrecords = (uint16_t)n;
	out->records = n ? recs : NULL;
	return LISPMS_EOK;
}

int map_referral_encode(const struct lisp_map_referral *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (m->nrecords > LISPMS_MAX_RECORDS)
		return LISPMS_ETOOMANY;
	if ((m->flags & ~LISP_MREF_FLAGS) != 0 || (m->nrecords > 0 && m->records == NULL))
		return LISPMS_EINVAL;
	for (unsigned i = 0; i < m->nrecords; i++) {
		const struct lisp_referral_record *rr = &m->records[i];
		if (rr->r.rsvd > 0 && rr->sigs == NULL)
			return LISPMS_EINVAL;
		for (unsigned j = 0; j < rr->r.rsvd; j++)
			if (rr->sigs[j].len > 0 && rr->sigs[j].data == NULL)
				return LISPMS_EINVAL;
	}
	struct wire w = wire_init(buf, cap);
	wire_write_u32(&w, (uint32_t)LISP_MSG_MAP_REFERRAL << 28 | m->flags | m->nrecords);
	wire_write_u64(&w, m->nonce);
	for (unsigned i = 0; i < m->nrecords && wire_ok(&w); i++) {
		const struct lisp_referral_record *rr = &m->records[i];
		record_encode(&w, &rr->r);
		for (unsigned j = 0; j < rr->r.rsvd && wire_ok(&w); j++) {
			const struct lisp_ref_sig *s = &rr->sigs[j];
			wire_write_u32(&w, s->orig_ttl);
			wire_write_u32(&w, s->expiration);
			wire_write_u32(&w, s->inception);
			wire_write_u16(&w, s->key_tag);
			wire_write_u16(&w, s->len);
			wire_write_u8(&w, s->alg);
			wire_write_u8(&w, s->rsvd8);
			wire_write_u16(&w, s->rsvd16);
			uint8_t *d = wire_reserve(&w, s->len);
			if (d != NULL && s->len)
				memcpy(d, s->data, s->len);
		}
	}
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}

const char *lisp_ref_act_name(unsigned act)
{
	static const char *const names[] = {
		"node-referral",     "ms-referral",	"ms-ack",
		"ms-not-registered", "delegation-hole", "not-authoritative",
	};
	return act <= LISP_REF_ACT_MAX ? names[act] : "?";
}
