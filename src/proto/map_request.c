/* SPDX-License-Identifier: MIT */
/*
 * Map-Request (type 1, docs/protocol.md §2.1), with RFC 9437's I bit: the
 * 128-bit xTR-ID and the 64-bit site-ID follow the records (and the
 * Map-Reply record). lispers.net sends the xTR-ID alone, so both lengths
 * are accepted; anything else after the records is malformed.
 */
#include <string.h>

#include <sys/socket.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "codec.h"

int map_request_decode(const uint8_t *buf, size_t len, struct arena *a,
		       struct lisp_map_request *out)
{
	struct wire w = wire_init_ro(buf, len);
	size_t mark = arena_mark(a);

	if (len > 0 && buf[0] >> 4 != LISP_MSG_MAP_REQUEST)
		return LISPMS_ETYPE;
	uint64_t nonce;
	uint32_t w0 = codec_header(&w, &nonce);
	unsigned nitr = ((w0 >> 8) & 0x1f) + 1;
	unsigned nrecords = w0 & 0xff;
	if (wire_ok(&w) && nrecords == 0)
		wire_fail(&w, LISPMS_EMALFORMED);
	/* the source EID and the Map-Reply record are staged in the arena too */
	struct afi_addr *source = codec_array(&w, a, 1, sizeof(*source), ITR_RLOC_MIN_LEN);
	if (source != NULL)
		afi_decode_into(&w, source);

	struct afi_addr *itrs = codec_array(&w, a, nitr, sizeof(*itrs), ITR_RLOC_MIN_LEN);
	for (unsigned i = 0; i < nitr && wire_ok(&w); i++)
		afi_decode_into(&w, &itrs[i]);

	struct lisp_request_record *recs =
	    codec_array(&w, a, nrecords, sizeof(*recs), REQ_RECORD_MIN_LEN);
	for (unsigned i = 0; i < nrecords && wire_ok(&w); i++) {
		struct lisp_request_record *r = &recs[i];
		r->reserved = wire_read_u8(&w);
		r->eid_plen = wire_read_u8(&w);
		afi_decode_into(&w, &r->eid);
		if (wire_ok(&w) && r->eid_plen > afi_max_plen(&r->eid))
			wire_fail(&w, LISPMS_EMALFORMED);
	}
	struct lisp_record *reply = NULL;
	if (w0 & LISP_MREQ_M) {
		reply = codec_array(&w, a, 1, sizeof(*reply), RECORD_MIN_LEN);
		if (reply != NULL)
			record_decode_into(&w, a, reply);
	}
	const uint8_t *xtr_id = NULL;
	bool has_site_id = false;
	uint64_t site_id = 0;
	if ((w0 & LISP_MREQ_I) && wire_ok(&w)) {
		xtr_id = wire_take(&w, sizeof(out->xtr_id));
		if (wire_ok(&w) && wire_avail(&w) >= sizeof(site_id)) {
			has_site_id = true;
			site_id = codec_read_u64(&w);
		}
	}
	int ret = codec_finish(&w, a, mark);
	if (ret != LISPMS_EOK)
		return ret;

	out->flags = w0 & LISP_MREQ_FLAGS;
	out->nonce = nonce;
	out->source_eid = *source;
	out->nitr = (uint16_t)nitr;
	out->itr_rlocs = itrs;
	out->nrecords = (uint16_t)nrecords;
	out->records = recs;
	if (reply != NULL)
		out->map_reply = *reply;
	else
		memset(&out->map_reply, 0, sizeof(out->map_reply));
	if (xtr_id != NULL)
		memcpy(out->xtr_id, xtr_id, sizeof(out->xtr_id));
	else
		memset(out->xtr_id, 0, sizeof(out->xtr_id));
	out->has_site_id = has_site_id;
	out->site_id = site_id;
	return LISPMS_EOK;
}

int map_request_encode(const struct lisp_map_request *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (m->nitr > LISPMS_MAX_ITR_RLOCS || m->nrecords > LISPMS_MAX_RECORDS)
		return LISPMS_ETOOMANY;
	if (m->nitr == 0 || m->nrecords == 0 || m->itr_rlocs == NULL || m->records == NULL ||
	    (m->flags & ~LISP_MREQ_FLAGS) != 0 || (m->has_site_id && !(m->flags & LISP_MREQ_I)))
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
	if (m->flags & LISP_MREQ_I) {
		wire_write_bytes(&w, m->xtr_id, sizeof(m->xtr_id));
		if (m->has_site_id)
			wire_write_u64(&w, m->site_id);
	}
	if (!wire_ok(&w))
		return w.error;
	*len = wire_offset(&w);
	return LISPMS_EOK;
}

bool map_request_itr_target(const struct lisp_map_request *req, int family, struct lisp_addr *out)
{
	uint16_t want = family == AF_INET6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4;
	const struct afi_addr *pick = NULL;
	for (unsigned i = 0; i < req->nitr; i++) {
		const struct afi_addr *a = &req->itr_rlocs[i];
		if (a->kind != AFI_PLAIN || (a->afi != LISP_AFI_IPV4 && a->afi != LISP_AFI_IPV6))
			continue;
		if (pick == NULL || (a->afi == want && pick->afi != want))
			pick = a;
	}
	return pick != NULL && afi_to_addr(pick, out) == LISPMS_EOK;
}
