/* SPDX-License-Identifier: MIT */
/* Map-Request (type 1, PROTOCOL.md §2.1). */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

int map_request_decode(const uint8_t *buf, size_t len, struct arena *a,
		       struct lisp_map_request *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);
	struct lisp_map_request m;
	memset(&m, 0, sizeof(m));

	uint32_t w0 = wire_read_u32(&w);
	if (wire_ok(&w) && w0 >> 28 != LISP_MSG_MAP_REQUEST)
		wire_fail(&w, LISPMS_ETYPE);
	m.flags = w0 & LISP_MREQ_FLAGS;
	m.nitr = (uint16_t)(((w0 >> 8) & 0x1f) + 1);
	m.nrecords = w0 & 0xff;
	if (wire_ok(&w) && m.nrecords == 0)
		wire_fail(&w, LISPMS_EMALFORMED);
	m.nonce = wire_read_u64(&w);
	afi_decode(&w, &m.source_eid);

	m.itr_rlocs = codec_array(&w, a, m.nitr, sizeof(*m.itr_rlocs), ITR_RLOC_MIN_LEN);
	for (unsigned i = 0; i < m.nitr && wire_ok(&w); i++)
		afi_decode(&w, &m.itr_rlocs[i]);

	m.records = codec_array(&w, a, m.nrecords, sizeof(*m.records), REQ_RECORD_MIN_LEN);
	for (unsigned i = 0; i < m.nrecords && wire_ok(&w); i++) {
		struct lisp_request_record *r = &m.records[i];
		r->reserved = wire_read_u8(&w);
		r->eid_plen = wire_read_u8(&w);
		memset(&r->eid, 0, sizeof(r->eid));
		afi_decode(&w, &r->eid);
		if (wire_ok(&w) && r->eid_plen > afi_max_plen(&r->eid))
			wire_fail(&w, LISPMS_EMALFORMED);
	}
	if (m.flags & LISP_MREQ_M)
		record_decode(&w, a, &m.map_reply);

	int ret = codec_finish(&w, a, mark);
	if (ret == LISPMS_EOK)
		*out = m;
	return ret;
}

int map_request_encode(const struct lisp_map_request *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (m->nitr > LISPMS_MAX_ITR_RLOCS || m->nrecords > LISPMS_MAX_RECORDS)
		return LISPMS_ETOOMANY;
	if (m->nitr == 0 || m->nrecords == 0 || m->itr_rlocs == NULL || m->records == NULL ||
	    (m->flags & ~LISP_MREQ_FLAGS) != 0)
		return LISPMS_EINVAL;
	struct wire w = wire_init(buf, cap);
	wire_write_u32(&w, (uint32_t)LISP_MSG_MAP_REQUEST << 28 | m->flags |
			       (uint32_t)(m->nitr - 1) << 8 | m->nrecords);
	wire_write_u64(&w, m->nonce);
	afi_encode(&w, &m->source_eid);
	for (unsigned i = 0; i < m->nitr; i++)
		afi_encode(&w, &m->itr_rlocs[i]);
	for (unsigned i = 0; i < m->nrecords && wire_ok(&w); i++) {
		const struct lisp_request_record *r = &m->records[i];
		if (r->eid_plen > afi_max_plen(&r->eid))
			wire_fail(&w, LISPMS_EINVAL);
		wire_write_u8(&w, r->reserved);
		wire_write_u8(&w, r->eid_plen);
		afi_encode(&w, &r->eid);
	}
	if (m->flags & LISP_MREQ_M)
		record_encode(&w, &m->map_reply);
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}
