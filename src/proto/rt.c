/* SPDX-License-Identifier: MIT */
/* Reliable-transport messages (D1, docs/protocol.md §3.3-3.4). */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto_rt.h>

struct rt_entry {
	uint8_t kind;
	unsigned num;
	const char *text;
};

#define RT_TABLE_ENTRY(kind, name, num, text) { RT_KIND_##kind, num, text },
static const struct rt_entry rt_table[] = { RT_NUMBERS(RT_TABLE_ENTRY) };
#undef RT_TABLE_ENTRY

const char *rt_name(enum rt_kind kind, unsigned num)
{
	for (size_t i = 0; i < sizeof(rt_table) / sizeof(rt_table[0]); i++)
		if (rt_table[i].kind == kind && rt_table[i].num == num)
			return rt_table[i].text;
	return NULL;
}

int rt_frame_decode(const uint8_t *buf, size_t len, struct rt_frame *out)
{
	if (len < 4)
		return LISPMS_ETRUNC;
	struct rt_frame f;
	memset(&f, 0, sizeof(f));
	f.type = wire_get_u16(buf);
	f.length = wire_get_u16(buf + 2);
	if (f.length < LISPMS_RT_MIN_LEN ||
	    (f.length > LISPMS_RT_MIN_LEN && f.length < LISPMS_RT_HDR_LEN + 4))
		return LISPMS_ELENGTH;
	if (len < f.length)
		return LISPMS_ETRUNC;
	if (len > f.length)
		return LISPMS_ELENGTH;
	if (wire_get_u32(buf + len - 4) != LISPMS_RT_END_MARKER)
		return LISPMS_EMARKER;
	if (f.length > LISPMS_RT_MIN_LEN) {
		f.has_id = 1;
		f.id = wire_get_u32(buf + 4);
		f.body = buf + LISPMS_RT_HDR_LEN;
		f.body_len = len - LISPMS_RT_HDR_LEN - 4;
	}
	*out = f;
	return LISPMS_EOK;
}

static void prefix_decode(struct wire *w, struct rt_prefix *out)
{
	struct rt_prefix p;
	memset(&p, 0, sizeof(p));
	p.plen = wire_read_u8(w);
	afi_decode(w, &p.eid);
	if (wire_ok(w) && p.plen > afi_max_plen(&p.eid))
		wire_fail(w, LISPMS_EMALFORMED);
	if (wire_ok(w))
		*out = p;
}

static void prefix_encode(struct wire *w, const struct rt_prefix *p)
{
	if (p->plen > afi_max_plen(&p->eid)) {
		wire_fail(w, LISPMS_EINVAL);
		return;
	}
	wire_write_u8(w, p->plen);
	afi_encode(w, &p->eid);
}

int rt_decode(const uint8_t *buf, size_t len, struct rt_msg *out)
{
	struct rt_frame f;
	int ret = rt_frame_decode(buf, len, &f);
	if (ret != LISPMS_EOK)
		return ret;
	if (!rt_known(RT_KIND_TYPE, f.type))
		return LISPMS_ETYPE;
	struct rt_msg m;
	memset(&m, 0, sizeof(m));
	m.type = f.type;
	m.has_id = f.has_id;
	m.id = f.id;
	if (!f.has_id) {
		*out = m;
		return LISPMS_EOK;
	}

	struct wire w = wire_init_ro(f.body, f.body_len);
	switch (f.type) {
	case RT_TYPE_ERROR_NOTIFICATION: {
		struct rt_error *e = &m.u.error;
		uint32_t x = wire_read_u32(&w);
		e->code = (uint8_t)(x >> 24);
		e->reserved = x & 0xffffff;
		e->off_type = wire_read_u16(&w);
		e->off_len = wire_read_u16(&w);
		e->off_id = wire_read_u32(&w);
		e->data_len = wire_avail(&w);
		e->data = wire_take(&w, e->data_len);
		break;
	}
	case RT_TYPE_REGISTRATION:
	case RT_TYPE_MAPPING_NOTIFICATION:
		m.u.inner.msg = f.body;
		m.u.inner.len = f.body_len;
		wire_skip(&w, f.body_len);
		break;
	case RT_TYPE_REGISTRATION_ACK:
		prefix_decode(&w, &m.u.ack);
		break;
	case RT_TYPE_REGISTRATION_REJECT:
		m.u.reject.reason = wire_read_u8(&w);
		m.u.reject.reserved = wire_read_u16(&w);
		prefix_decode(&w, &m.u.reject.eid);
		break;
	case RT_TYPE_REGISTRATION_REFRESH:
		m.u.refresh.scope = wire_read_u8(&w);
		m.u.refresh.flags = wire_read_u16(&w);
		if (wire_avail(&w) > 0) {
			m.u.refresh.has_eid = 1;
			prefix_decode(&w, &m.u.refresh.eid);
		}
		break;
	}
	if (wire_ok(&w) && wire_avail(&w) != 0)
		wire_fail(&w, LISPMS_EMALFORMED);
	if (!wire_ok(&w))
		return w.error == LISPMS_ETRUNC ? LISPMS_EMALFORMED : w.error;
	*out = m;
	return LISPMS_EOK;
}

int rt_encode(const struct rt_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (!rt_known(RT_KIND_TYPE, m->type))
		return LISPMS_EINVAL;
	struct wire w = wire_init(buf, cap);
	wire_write_u16(&w, m->type);
	uint8_t *length = wire_reserve(&w, 2);
	if (m->has_id) {
		wire_write_u32(&w, m->id);
		switch (m->type) {
		case RT_TYPE_ERROR_NOTIFICATION: {
			const struct rt_error *e = &m->u.error;
			if (e->reserved > 0xffffff || (e->data_len > 0 && e->data == NULL)) {
				wire_fail(&w, LISPMS_EINVAL);
				break;
			}
			wire_write_u32(&w, (uint32_t)e->code << 24 | e->reserved);
			wire_write_u16(&w, e->off_type);
			wire_write_u16(&w, e->off_len);
			wire_write_u32(&w, e->off_id);
			wire_write_bytes(&w, e->data, e->data_len);
			break;
		}
		case RT_TYPE_REGISTRATION:
		case RT_TYPE_MAPPING_NOTIFICATION: {
			if (m->u.inner.len > 0 && m->u.inner.msg == NULL) {
				wire_fail(&w, LISPMS_EINVAL);
				break;
			}
			uint8_t *p = wire_reserve(&w, m->u.inner.len);
			if (p != NULL && m->u.inner.len > 0)
				memmove(p, m->u.inner.msg, m->u.inner.len);
			break;
		}
		case RT_TYPE_REGISTRATION_ACK:
			prefix_encode(&w, &m->u.ack);
			break;
		case RT_TYPE_REGISTRATION_REJECT:
			wire_write_u8(&w, m->u.reject.reason);
			wire_write_u16(&w, m->u.reject.reserved);
			prefix_encode(&w, &m->u.reject.eid);
			break;
		case RT_TYPE_REGISTRATION_REFRESH:
			wire_write_u8(&w, m->u.refresh.scope);
			wire_write_u16(&w, m->u.refresh.flags);
			if (m->u.refresh.has_eid)
				prefix_encode(&w, &m->u.refresh.eid);
			break;
		}
	}
	wire_write_u32(&w, LISPMS_RT_END_MARKER);
	if (!wire_ok(&w))
		return w.error;
	size_t n = wire_offset(&w);
	if (n > LISPMS_RT_MAX_LEN)
		return LISPMS_ELENGTH;
	wire_put_u16(length, (uint16_t)n);
	*len = n;
	return LISPMS_EOK;
}
