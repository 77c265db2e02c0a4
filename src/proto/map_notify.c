/* SPDX-License-Identifier: MIT */
/* Map-Notify (type 4) and Map-Notify-Ack (type 5), docs/protocol.md §2.5 and D4. */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

int map_notify_decode(const uint8_t *buf, size_t len, struct arena *a, struct lisp_map_notify *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);

	if (len > 0 && buf[0] >> 4 != LISP_MSG_MAP_NOTIFY && buf[0] >> 4 != LISP_MSG_MAP_NOTIFY_ACK)
		return LISPMS_ETYPE;
	uint64_t nonce;
	uint32_t w0 = codec_header(&w, &nonce);
	uint8_t type = (uint8_t)(w0 >> 28);
	struct lisp_auth auth;
	auth_field_read(&w, &auth);
	unsigned nrecords = w0 & 0xff;
	struct lisp_record *records = record_decode_n(&w, a, nrecords);
	uint32_t rfc_end = (uint32_t)wire_offset(&w);
	int ret = codec_finish(&w, a, mark);
	if (ret != LISPMS_EOK)
		return ret;

	out->type = type;
	out->flags = w0 & LISP_MNOT_FLAGS;
	out->nonce = nonce;
	out->auth = auth;
	out->auth.rfc_end = rfc_end;
	out->nrecords = (uint16_t)nrecords;
	out->records = records;
	return LISPMS_EOK;
}

/* The checks of both encoders and everything up to the records. */
static int notify_head(const struct lisp_map_notify *m, struct wire *w)
{
	if (m->nrecords > LISPMS_MAX_RECORDS)
		return LISPMS_ETOOMANY;
	if ((m->type != LISP_MSG_MAP_NOTIFY && m->type != LISP_MSG_MAP_NOTIFY_ACK) ||
	    (m->flags & ~LISP_MNOT_FLAGS) != 0 || (m->flags & LISP_MNOT_WS_BITS) != 0)
		return LISPMS_EINVAL;
	wire_write_u32(w, (uint32_t)m->type << 28 | m->flags | m->nrecords);
	wire_write_u64(w, m->nonce);
	auth_field_encode(w, &m->auth);
	return LISPMS_EOK;
}

int map_notify_encode(const struct lisp_map_notify *m, uint8_t *buf, size_t cap, size_t *len)
{
	struct wire w = wire_init(buf, cap);
	int ret = notify_head(m, &w);
	if (ret != LISPMS_EOK)
		return ret;
	record_encode_n(&w, m->records, m->nrecords);
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}

int map_notify_encode_wire(const struct lisp_map_notify *m, const uint8_t *records,
			   size_t records_len, uint8_t *buf, size_t cap, size_t *len)
{
	struct wire w = wire_init(buf, cap);
	int ret = notify_head(m, &w);
	if (ret != LISPMS_EOK)
		return ret;
	wire_write_bytes(&w, records, records_len);
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}
