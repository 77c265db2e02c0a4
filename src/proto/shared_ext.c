/* SPDX-License-Identifier: MIT */
/* Shared Extension Message (type 15, RFC 9304): 12-bit sub-type, opaque payload. */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

int shared_ext_decode(const uint8_t *buf, size_t len, struct lisp_shared_ext *out)
{
	if (len < 2)
		return LISPMS_ETRUNC;
	uint16_t x = wire_get_u16(buf);
	if (x >> 12 != LISP_MSG_SHARED_EXT)
		return LISPMS_ETYPE;
	out->subtype = x & 0x0fff;
	out->data = buf + 2;
	out->len = len - 2;
	return LISPMS_EOK;
}

int shared_ext_encode(const struct lisp_shared_ext *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (m->subtype > 0x0fff || (m->len > 0 && m->data == NULL))
		return LISPMS_EINVAL;
	struct wire w = wire_init(buf, cap);
	wire_write_u16(&w, (uint16_t)(LISP_MSG_SHARED_EXT << 12 | m->subtype));
	wire_write_bytes(&w, m->data, m->len);
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}
