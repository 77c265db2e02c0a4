/* SPDX-License-Identifier: MIT */
#include "layout.h"

#include <string.h>

#include <lispms/err.h>

/* The first bytes of each family's three ranges; n goes in the last 3 bytes. */
static const uint8_t v4[3][4] = { { 10, 0, 0, 0 }, { 10, 128, 0, 0 }, { 100, 64, 0, 0 } };
static const uint8_t v6[3][16] = { { 0x20, 0x01, 0x0d, 0xb8 },
				   { 0x20, 0x01, 0x0d, 0xb8, 0, 1 },
				   { 0x3f, 0xff } };
static const uint8_t mac[3][6] = { { 2, 0, 0, 0, 0, 0 }, { 2, 0, 0, 0x80, 0, 0 }, { 10 } };

static const uint8_t *base(uint16_t afi, enum layout_kind k, unsigned *len)
{
	*len = lisp_afi_len(afi);
	switch (afi) {
	case LISP_AFI_IPV6:
		return v6[k];
	case LISP_AFI_MAC:
		return mac[k];
	default:
		*len = 4;
		return v4[k];
	}
}

void layout_eid(const struct layout *l, enum layout_kind kind, uint64_t n, struct eid_prefix *out)
{
	unsigned len;
	const uint8_t *b = base(l->afi, kind, &len);
	uint32_t v = (uint32_t)(n % LAYOUT_MAX_EIDS);
	unsigned iids = l->iids ? l->iids : 1, per = l->per ? l->per : 1;
	memset(out, 0, sizeof(*out));
	out->afi = len == 4 ? LISP_AFI_IPV4 : l->afi;
	out->plen = (uint8_t)(len * 8);
	memcpy(out->bytes, b, len);
	/* n fits in 23 bits: add it to the last three bytes (their base is 0 or 0x800000) */
	uint32_t low = (uint32_t)out->bytes[len - 3] << 16 | (uint32_t)out->bytes[len - 2] << 8 |
		       out->bytes[len - 1];
	low += v;
	out->bytes[len - 3] = (uint8_t)(low >> 16);
	out->bytes[len - 2] = (uint8_t)(low >> 8);
	out->bytes[len - 1] = (uint8_t)low;
	out->iid = l->iid + (uint32_t)((kind == LAYOUT_REGISTERED ? v / per : v) % iids);
}

int layout_index(const struct layout *l, const struct eid_prefix *p, uint64_t *n)
{
	unsigned len;
	const uint8_t *b = base(l->afi, LAYOUT_REGISTERED, &len);
	if (p->afi != (len == 4 ? LISP_AFI_IPV4 : l->afi) || p->plen != len * 8 ||
	    memcmp(p->bytes, b, len - 3) != 0)
		return LISPMS_EINVAL;
	uint32_t v = (uint32_t)p->bytes[len - 3] << 16 | (uint32_t)p->bytes[len - 2] << 8 |
		     p->bytes[len - 1];
	unsigned iids = l->iids ? l->iids : 1, per = l->per ? l->per : 1;
	if (v >= LAYOUT_MAX_EIDS || p->iid != l->iid + (v / per) % iids)
		return LISPMS_EINVAL;
	*n = v;
	return LISPMS_EOK;
}
