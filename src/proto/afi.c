/* SPDX-License-Identifier: MIT */
/*
 * Addresses on the wire: AFI 0, IPv4, IPv6, 48-bit MAC, the Instance-ID LCAF
 * decoded into its parts, and every other LCAF carried as opaque octets so a
 * record holding one decodes and re-encodes unchanged (docs/protocol.md §1.2, §2.8).
 */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

#define LCAF_HDR_LEN 6 /* Rsvd1, Flags, Type, Rsvd2, Length */
#define IID_BODY_MIN 6 /* Instance ID + inner AFI */

static bool afi_is_plain(uint16_t afi)
{
	return afi == LISP_AFI_NONE || lisp_afi_len(afi) != 0;
}

static void lcaf_decode(struct wire *w, struct afi_addr *out)
{
	const uint8_t *start = w->pos;
	const uint8_t *hdr = wire_take(w, LCAF_HDR_LEN);
	if (hdr == NULL)
		return;
	uint16_t body_len = wire_get_u16(hdr + 4);
	if (wire_avail(w) < body_len) {
		wire_fail(w, LISPMS_ELCAF);
		return;
	}
	struct wire body = wire_sub(w, body_len);
	uint16_t inner = 0;
	if (hdr[2] == LISP_LCAF_IID && body_len >= IID_BODY_MIN) {
		inner = wire_get_u16(body.pos + 4);
		if (inner == LISP_AFI_LCAF)
			goto opaque; /* IID around another LCAF (e.g. source/dest) */
		if (!afi_is_plain(inner)) {
			wire_fail(w, LISPMS_EAFI);
			return;
		}
		if (body_len != IID_BODY_MIN + lisp_afi_len(inner)) {
			wire_fail(w, LISPMS_ELCAF);
			return;
		}
		out->kind = AFI_IID;
		out->lcaf_rsvd1 = hdr[0];
		out->lcaf_flags = hdr[1];
		out->iid_mlen = hdr[3];
		out->iid = wire_read_u32(&body);
		out->afi = wire_read_u16(&body);
		addr_copy(out->bytes, body.pos, lisp_afi_len(inner)); /* length checked above */
		return;
	}
	if (hdr[2] == LISP_LCAF_IID) {
		wire_fail(w, LISPMS_ELCAF); /* too short for an Instance ID and an AFI */
		return;
	}
opaque:
	out->kind = AFI_OPAQUE;
	out->afi = LISP_AFI_LCAF;
	out->opaque = start;
	out->opaque_len = (uint32_t)(LCAF_HDR_LEN + body_len);
}

void afi_decode_into(struct wire *w, struct afi_addr *dst)
{
	memset(dst, 0, sizeof(*dst));
	uint16_t afi = wire_read_u16(w);
	if (!wire_ok(w))
		return;
	if (afi == LISP_AFI_LCAF) {
		lcaf_decode(w, dst);
	} else if (afi_is_plain(afi)) {
		dst->kind = AFI_PLAIN;
		dst->afi = afi;
		const uint8_t *p = wire_take(w, lisp_afi_len(afi));
		if (p != NULL)
			addr_copy(dst->bytes, p, lisp_afi_len(afi));
	} else {
		wire_fail(w, LISPMS_EAFI);
	}
}

void afi_decode(struct wire *w, struct afi_addr *out)
{
	struct afi_addr a;
	afi_decode_into(w, &a);
	if (wire_ok(w))
		*out = a;
}

size_t afi_encoded_len(const struct afi_addr *a)
{
	switch (a->kind) {
	case AFI_PLAIN:
		return afi_is_plain(a->afi) ? 2 + lisp_afi_len(a->afi) : 0;
	case AFI_IID:
		return afi_is_plain(a->afi) ? 2 + LCAF_HDR_LEN + IID_BODY_MIN + lisp_afi_len(a->afi)
					    : 0;
	case AFI_OPAQUE:
		if (a->opaque == NULL || a->opaque_len < LCAF_HDR_LEN ||
		    wire_get_u16(a->opaque + 4) != a->opaque_len - LCAF_HDR_LEN)
			return 0;
		return 2 + (size_t)a->opaque_len;
	default:
		return 0;
	}
}

void afi_encode(struct wire *w, const struct afi_addr *a)
{
	if (afi_encoded_len(a) == 0) {
		wire_fail(w, a->kind == AFI_OPAQUE ? LISPMS_EINVAL : LISPMS_EAFI);
		return;
	}
	unsigned alen = lisp_afi_len(a->afi);
	switch (a->kind) {
	case AFI_PLAIN:
		wire_write_u16(w, a->afi);
		wire_write_bytes(w, a->bytes, alen);
		break;
	case AFI_IID:
		wire_write_u16(w, LISP_AFI_LCAF);
		wire_write_u8(w, a->lcaf_rsvd1);
		wire_write_u8(w, a->lcaf_flags);
		wire_write_u8(w, LISP_LCAF_IID);
		wire_write_u8(w, a->iid_mlen);
		wire_write_u16(w, (uint16_t)(IID_BODY_MIN + alen));
		wire_write_u32(w, a->iid);
		wire_write_u16(w, a->afi);
		wire_write_bytes(w, a->bytes, alen);
		break;
	case AFI_OPAQUE:
		wire_write_u16(w, LISP_AFI_LCAF);
		wire_write_bytes(w, a->opaque, a->opaque_len);
		break;
	}
}

bool afi_equal(const struct afi_addr *a, const struct afi_addr *b)
{
	if (a->kind != b->kind || a->afi != b->afi)
		return false;
	switch (a->kind) {
	case AFI_PLAIN:
		return memcmp(a->bytes, b->bytes, lisp_afi_len(a->afi)) == 0;
	case AFI_IID:
		return a->iid == b->iid && a->iid_mlen == b->iid_mlen &&
		       a->lcaf_rsvd1 == b->lcaf_rsvd1 && a->lcaf_flags == b->lcaf_flags &&
		       memcmp(a->bytes, b->bytes, lisp_afi_len(a->afi)) == 0;
	case AFI_OPAQUE:
		return a->opaque_len == b->opaque_len &&
		       (a->opaque_len == 0 || memcmp(a->opaque, b->opaque, a->opaque_len) == 0);
	default:
		return false;
	}
}

int afi_to_eid(const struct afi_addr *a, uint8_t plen, struct eid_prefix *out)
{
	if (a->kind == AFI_OPAQUE || lisp_afi_len(a->afi) == 0)
		return LISPMS_EAFI;
	if (plen > lisp_afi_bits(a->afi))
		return LISPMS_EINVAL;
	struct eid_prefix p;
	memset(&p, 0, sizeof(p));
	p.iid = a->kind == AFI_IID ? a->iid : 0;
	p.plain = a->kind == AFI_PLAIN;
	p.afi = a->afi;
	p.plen = plen;
	memcpy(p.bytes, a->bytes, sizeof(p.bytes));
	eid_prefix_normalize(&p);
	*out = p;
	return LISPMS_EOK;
}

void afi_from_eid(const struct eid_prefix *p, struct afi_addr *out)
{
	struct afi_addr a;
	memset(&a, 0, sizeof(a));
	a.kind = p->plain && p->iid == 0 ? AFI_PLAIN : AFI_IID;
	a.afi = p->afi;
	a.iid = p->iid;
	memcpy(a.bytes, p->bytes, lisp_afi_len(p->afi));
	*out = a;
}

void afi_from_addr(const struct lisp_addr *addr, struct afi_addr *out)
{
	struct afi_addr a;
	memset(&a, 0, sizeof(a));
	a.kind = AFI_PLAIN;
	a.afi = addr->afi;
	memcpy(a.bytes, addr->bytes, lisp_afi_len(addr->afi));
	*out = a;
}

int afi_to_addr(const struct afi_addr *a, struct lisp_addr *out)
{
	if (a->kind != AFI_PLAIN || !afi_is_plain(a->afi))
		return LISPMS_EAFI;
	struct lisp_addr r;
	memset(&r, 0, sizeof(r));
	r.afi = a->afi;
	memcpy(r.bytes, a->bytes, lisp_afi_len(a->afi));
	*out = r;
	return LISPMS_EOK;
}
