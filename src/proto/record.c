/* SPDX-License-Identifier: MIT */
/* Mapping records and their locators (docs/protocol.md §2.4). */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

static void locator_decode_into(struct wire *w, struct lisp_locator *dst)
{
	const uint8_t *p = wire_take(w, 6);
	if (p == NULL)
		return;
	dst->priority = p[0];
	dst->weight = p[1];
	dst->mpriority = p[2];
	dst->mweight = p[3];
	dst->flags = wire_get_u16(p + 4);
	afi_decode_into(w, &dst->addr);
}

void record_decode_into(struct wire *w, struct arena *a, struct lisp_record *dst)
{
	const uint8_t *p = wire_take(w, 10); /* fixed part up to the EID's AFI */
	if (p == NULL)
		return;
	dst->ttl = wire_get_u32(p);
	unsigned nlocs = p[4];
	dst->nlocs = (uint16_t)nlocs;
	dst->eid_plen = p[5];
	uint16_t x = wire_get_u16(p + 6);
	dst->act = (uint8_t)(x >> 13);
	dst->a = (x >> 12) & 1;
	dst->reserved = x & 0x0fff;
	x = wire_get_u16(p + 8);
	dst->rsvd = (uint8_t)(x >> 12);
	dst->version = x & 0x0fff;
	afi_decode_into(w, &dst->eid);
	if (wire_ok(w) && dst->eid_plen > afi_max_plen(&dst->eid))
		wire_fail(w, LISPMS_EMALFORMED);
	struct lisp_locator *locs = codec_array(w, a, nlocs, sizeof(*locs), LOCATOR_MIN_LEN);
	dst->locs = locs;
	for (unsigned i = 0; i < nlocs && wire_ok(w); i++)
		locator_decode_into(w, &locs[i]);
}

void record_decode(struct wire *w, struct arena *a, struct lisp_record *out)
{
	struct lisp_record r;
	record_decode_into(w, a, &r);
	if (wire_ok(w))
		*out = r;
}

struct lisp_record *record_decode_n(struct wire *w, struct arena *a, unsigned n)
{
	struct lisp_record *recs = codec_array(w, a, n, sizeof(*recs), RECORD_MIN_LEN);
	for (unsigned i = 0; i < n && wire_ok(w); i++)
		record_decode_into(w, a, &recs[i]);
	return wire_ok(w) ? recs : NULL;
}

static bool record_valid(const struct lisp_record *r)
{
	return r->act <= 7 && r->a <= 1 && r->reserved <= 0x0fff && r->rsvd <= 0x0f &&
	       r->version <= 0x0fff && r->eid_plen <= afi_max_plen(&r->eid) &&
	       (r->nlocs == 0 || r->locs != NULL);
}

void record_encode(struct wire *w, const struct lisp_record *r)
{
	if (r->nlocs > LISPMS_MAX_LOCATORS) {
		wire_fail(w, LISPMS_ETOOMANY);
		return;
	}
	if (!record_valid(r)) {
		wire_fail(w, LISPMS_EINVAL);
		return;
	}
	wire_write_u32(w, r->ttl);
	wire_write_u8(w, (uint8_t)r->nlocs);
	wire_write_u8(w, r->eid_plen);
	wire_write_u16(w, (uint16_t)(r->act << 13 | r->a << 12 | r->reserved));
	wire_write_u16(w, (uint16_t)(r->rsvd << 12 | r->version));
	afi_encode(w, &r->eid);
	for (unsigned i = 0; i < r->nlocs && wire_ok(w); i++) {
		const struct lisp_locator *l = &r->locs[i];
		wire_write_u8(w, l->priority);
		wire_write_u8(w, l->weight);
		wire_write_u8(w, l->mpriority);
		wire_write_u8(w, l->mweight);
		wire_write_u16(w, l->flags);
		afi_encode(w, &l->addr);
	}
}

void record_encode_n(struct wire *w, const struct lisp_record *recs, unsigned n)
{
	if (n > 0 && recs == NULL) {
		wire_fail(w, LISPMS_EINVAL);
		return;
	}
	for (unsigned i = 0; i < n && wire_ok(w); i++)
		record_encode(w, &recs[i]);
}

int record_eid(const struct lisp_record *r, struct eid_prefix *out)
{
	return afi_to_eid(&r->eid, r->eid_plen, out);
}
