/* SPDX-License-Identifier: MIT */
/* Cutting a reliable-transport byte stream into messages, in a bounded buffer. */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto_rt.h>

int rt_stream_init(struct rt_stream *s, uint8_t *buf, size_t cap, size_t max_len)
{
	if (buf == NULL || max_len < LISPMS_RT_MIN_LEN || max_len > LISPMS_RT_MAX_LEN ||
	    cap < max_len)
		return LISPMS_EINVAL;
	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->cap = cap;
	s->max_len = max_len;
	return LISPMS_EOK;
}

uint8_t *rt_stream_space(struct rt_stream *s, size_t *avail)
{
	if (s->error) {
		*avail = 0;
		return NULL;
	}
	if (s->head > 0) {
		memmove(s->buf, s->buf + s->head, s->tail - s->head);
		s->tail -= s->head;
		s->head = 0;
	}
	*avail = s->cap - s->tail;
	return s->buf + s->tail;
}

void rt_stream_commit(struct rt_stream *s, size_t n)
{
	if (n > s->cap - s->tail)
		n = s->cap - s->tail;
	s->tail += n;
}

size_t rt_stream_feed(struct rt_stream *s, const uint8_t *data, size_t n)
{
	size_t avail;
	uint8_t *p = rt_stream_space(s, &avail);
	if (p == NULL)
		return 0;
	if (n > avail)
		n = avail;
	memcpy(p, data, n);
	rt_stream_commit(s, n);
	return n;
}

static int stream_fail(struct rt_stream *s, int error, const uint8_t *hdr, size_t have)
{
	memset(&s->bad, 0, sizeof(s->bad));
	s->bad.type = wire_get_u16(hdr);
	s->bad.length = wire_get_u16(hdr + 2);
	if (have >= LISPMS_RT_HDR_LEN && s->bad.length > LISPMS_RT_MIN_LEN) {
		s->bad.has_id = 1;
		s->bad.id = wire_get_u32(hdr + 4);
	}
	s->error = error;
	return error;
}

int rt_stream_next(struct rt_stream *s, const uint8_t **msg, size_t *len)
{
	if (s->error)
		return s->error;
	size_t have = s->tail - s->head;
	const uint8_t *p = s->buf + s->head;
	if (have < 4)
		return 0;
	size_t mlen = wire_get_u16(p + 2);
	if (mlen < LISPMS_RT_MIN_LEN ||
	    (mlen > LISPMS_RT_MIN_LEN && mlen < LISPMS_RT_HDR_LEN + 4) || mlen > s->max_len)
		return stream_fail(s, LISPMS_ELENGTH, p, have);
	if (have < mlen)
		return 0;
	if (wire_get_u32(p + mlen - 4) != LISPMS_RT_END_MARKER)
		return stream_fail(s, LISPMS_EMARKER, p, have);
	s->head += mlen;
	*msg = p;
	*len = mlen;
	return 1;
}
