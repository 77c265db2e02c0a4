/* SPDX-License-Identifier: MIT */
/* Map-Register (type 3, docs/protocol.md §2.3): flags P S I r E T a R M, xTR-ID/site-ID. */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

int map_register_decode(const uint8_t *buf, size_t len, struct arena *a,
			struct lisp_map_register *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);

	if (len > 0 && buf[0] >> 4 != LISP_MSG_MAP_REGISTER)
		return LISPMS_ETYPE;
	uint64_t nonce;
	uint32_t w0 = codec_header(&w, &nonce);
	struct lisp_auth auth;
	auth_field_read(&w, &auth);
	unsigned nrecords = w0 & 0xff;
	struct lisp_record *records = record_decode_n(&w, a, nrecords);
	uint32_t rfc_end = (uint32_t)wire_offset(&w);
	const uint8_t *xtr_id = NULL;
	uint64_t site_id = 0;
	if (w0 & LISP_MREG_I) {
		xtr_id = wire_take(&w, sizeof(out->xtr_id));
		site_id = codec_read_u64(&w);
	}
	int ret = codec_finish(&w, a, mark);
	if (ret != LISPMS_EOK)
		return ret;

	out->flags = w0 & LISP_MREG_FLAGS;
	out->nonce = nonce;
	out->auth = auth;
	out->auth.rfc_end = rfc_end;
	out->nrecords = (uint16_t)nrecords;
	out->records = records;
	if (xtr_id != NULL)
		memcpy(out->xtr_id, xtr_id, sizeof(out->xtr_id));
	else
		memset(out->xtr_id, 0, sizeof(out->xtr_id));
	out->site_id = site_id;
	return LISPMS_EOK;
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
