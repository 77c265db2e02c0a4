/* SPDX-License-Identifier: MIT */
/* Mapping records and their locators (PROTOCOL.md §2.4). */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

void *codec_array(struct wire *w, struct arena *a, unsigned n, size_t size, size_t min)
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

int codec_finish(struct wire *w, struct arena *a, size_t mark)
{
	if (wire_ok(w) && wire_avail(w) != 0)
		wire_fail(w, LISPMS_EMALFORMED);
	if (!wire_ok(w))
		arena_rewind(a, mark);
	return w->error;
}

static void locator_decode(struct wire *w, struct lisp_locator *out)
{
	struct lisp_locator l;
	memset(&l, 0, sizeof(l));
	l.priority = wire_read_u8(w);
	l.weight = wire_read_u8(w);
	l.mpriority = wire_read_u8(w);
	l.mweight = wire_read_u8(w);
	l.flags = wire_read_u16(w);
	afi_decode(w, &l.addr);
	if (wire_ok(w))
		*out = l;
}

void record_decode(struct wire *w, struct arena *a, struct lisp_record *out)
{
	struct lisp_record r;
	memset(&r, 0, sizeof(r));
	r.ttl = wire_read_u32(w);
	r.nlocs = wire_read_u8(w);
	r.eid_plen = wire_read_u8(w);
	uint16_t x = wire_read_u16(w);
	r.act = (uint8_t)(x >> 13);
	r.a = (x >> 12) & 1;
	r.reserved = x & 0x0fff;
	x = wire_read_u16(w);
	r.rsvd = (uint8_t)(x >> 12);
	r.version = x & 0x0fff;
	afi_decode(w, &r.eid);
	if (wire_ok(w) && r.eid_plen > afi_max_plen(&r.eid))
		wire_fail(w, LISPMS_EMALFORMED);
	r.locs = codec_array(w, a, r.nlocs, sizeof(*r.locs), LOCATOR_MIN_LEN);
	for (unsigned i = 0; i < r.nlocs && wire_ok(w); i++)
		locator_decode(w, &r.locs[i]);
	if (wire_ok(w))
		*out = r;
}

void record_decode_n(struct wire *w, struct arena *a, unsigned n, struct lisp_record **out)
{
	struct lisp_record *recs = codec_array(w, a, n, sizeof(*recs), RECORD_MIN_LEN);
	for (unsigned i = 0; i < n && wire_ok(w); i++)
		record_decode(w, a, &recs[i]);
	if (wire_ok(w))
		*out = recs;
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
