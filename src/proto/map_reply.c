/* SPDX-License-Identifier: MIT */
/* Map-Reply (type 2, PROTOCOL.md §2.2). */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

int map_reply_decode(const uint8_t *buf, size_t len, struct arena *a, struct lisp_map_reply *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);
	struct lisp_map_reply m;
	memset(&m, 0, sizeof(m));

	uint32_t w0 = wire_read_u32(&w);
	if (wire_ok(&w) && w0 >> 28 != LISP_MSG_MAP_REPLY)
		wire_fail(&w, LISPMS_ETYPE);
	m.flags = w0 & LISP_MREP_FLAGS;
	m.nrecords = w0 & 0xff;
	m.nonce = wire_read_u64(&w);
	record_decode_n(&w, a, m.nrecords, &m.records);

	int ret = codec_finish(&w, a, mark);
	if (ret == LISPMS_EOK)
		*out = m;
	return ret;
}

int map_reply_encode(const struct lisp_map_reply *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (m->nrecords > LISPMS_MAX_RECORDS)
		return LISPMS_ETOOMANY;
	if ((m->flags & ~LISP_MREP_FLAGS) != 0)
		return LISPMS_EINVAL;
	struct wire w = wire_init(buf, cap);
	wire_write_u32(&w, (uint32_t)LISP_MSG_MAP_REPLY << 28 | m->flags | m->nrecords);
	wire_write_u64(&w, m->nonce);
	record_encode_n(&w, m->records, m->nrecords);
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}
