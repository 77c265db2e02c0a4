/* SPDX-License-Identifier: MIT */
/* Map-Reply (type 2, docs/protocol.md §2.2). */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

int map_reply_decode(const uint8_t *buf, size_t len, struct arena *a, struct lisp_map_reply *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);

	if (len > 0 && buf[0] >> 4 != LISP_MSG_MAP_REPLY)
		return LISPMS_ETYPE;
	uint64_t nonce;
	uint32_t w0 = codec_header(&w, &nonce);
	unsigned nrecords = w0 & 0xff;
	struct lisp_record *records = record_decode_n(&w, a, nrecords);
	int ret = codec_finish(&w, a, mark);
	if (ret != LISPMS_EOK)
		return ret;

	out->flags = w0 & LISP_MREP_FLAGS;
	out->nonce = nonce;
	out->nrecords = (uint16_t)nrecords;
	out->records = records;
	return LISPMS_EOK;
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
