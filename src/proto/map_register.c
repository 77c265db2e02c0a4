/* SPDX-License-Identifier: MIT */
/* Map-Register (type 3, PROTOCOL.md §2.3): flags P S I r E T a R M, xTR-ID/site-ID. */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

int map_register_decode(const uint8_t *buf, size_t len, struct arena *a,
			struct lisp_map_register *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);
	struct lisp_map_register m;
	memset(&m, 0, sizeof(m));

	uint32_t w0 = wire_read_u32(&w);
	if (wire_ok(&w) && w0 >> 28 != LISP_MSG_MAP_REGISTER)
		wire_fail(&w, LISPMS_ETYPE);
	m.flags = w0 & LISP_MREG_FLAGS;
	m.nrecords = w0 & 0xff;
	m.nonce = wire_read_u64(&w);
	auth_field_decode(&w, &m.auth);
	record_decode_n(&w, a, m.nrecords, &m.records);
	m.auth.rfc_end = (uint32_t)wire_offset(&w);
	if (m.flags & LISP_MREG_I) {
		wire_read_bytes(&w, m.xtr_id, sizeof(m.xtr_id));
		m.site_id = wire_read_u64(&w);
	}

	int ret = codec_finish(&w, a, mark);
	if (ret == LISPMS_EOK)
		*out = m;
	return ret;
}

int map_register_encode(const struct lisp_map_register *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (m->nrecords > LISPMS_MAX_RECORDS)
		return LISPMS_ETOOMANY;
	if ((m->flags & ~LISP_MREG_FLAGS) != 0)
		return LISPMS_EINVAL;
	struct wire w = wire_init(buf, cap);
	wire_write_u32(&w, (uint32_t)LISP_MSG_MAP_REGISTER << 28 | m->flags | m->nrecords);
	wire_write_u64(&w, m->nonce);
	auth_field_encode(&w, &m->auth);
	record_encode_n(&w, m->records, m->nrecords);
	if (m->flags & LISP_MREG_I) {
		wire_write_bytes(&w, m->xtr_id, sizeof(m->xtr_id));
		wire_write_u64(&w, m->site_id);
	}
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}
