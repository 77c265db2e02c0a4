/* SPDX-License-Identifier: MIT */
/* Dispatch on the LISP packet type. */
#include <string.h>

#include <lispms/err.h>
#include <lispms/proto.h>

int msg_type(const uint8_t *buf, size_t len)
{
	if (len < 1)
		return LISPMS_ETRUNC;
	return buf[0] >> 4;
}

int msg_decode(const uint8_t *buf, size_t len, struct arena *a, struct lisp_msg *out)
{
	int type = msg_type(buf, len);
	if (type < 0)
		return type;
	struct lisp_msg m;
	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	int ret;
	switch (type) {
	case LISP_MSG_MAP_REQUEST:
		ret = map_request_decode(buf, len, a, &m.u.request);
		break;
	case LISP_MSG_MAP_REPLY:
		ret = map_reply_decode(buf, len, a, &m.u.reply);
		break;
	case LISP_MSG_MAP_REGISTER:
		ret = map_register_decode(buf, len, a, &m.u.reg);
		break;
	case LISP_MSG_MAP_NOTIFY:
	case LISP_MSG_MAP_NOTIFY_ACK:
		ret = map_notify_decode(buf, len, a, &m.u.notify);
		break;
	case LISP_MSG_MAP_REFERRAL:
		ret = map_referral_decode(buf, len, a, &m.u.referral);
		break;
	case LISP_MSG_ECM:
		ret = ecm_decode(buf, len, &m.u.ecm);
		break;
	case LISP_MSG_SHARED_EXT:
		ret = shared_ext_decode(buf, len, &m.u.ext);
		break;
	default:
		return LISPMS_ETYPE;
	}
	if (ret == LISPMS_EOK)
		*out = m;
	return ret;
}

int msg_encode(const struct lisp_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	switch (m->type) {
	case LISP_MSG_MAP_REQUEST:
		return map_request_encode(&m->u.request, buf, cap, len);
	case LISP_MSG_MAP_REPLY:
		return map_reply_encode(&m->u.reply, buf, cap, len);
	case LISP_MSG_MAP_REGISTER:
		return map_register_encode(&m->u.reg, buf, cap, len);
	case LISP_MSG_MAP_NOTIFY:
	case LISP_MSG_MAP_NOTIFY_ACK:
		if (m->u.notify.type != m->type)
			return LISPMS_EINVAL;
		return map_notify_encode(&m->u.notify, buf, cap, len);
	case LISP_MSG_MAP_REFERRAL:
		return map_referral_encode(&m->u.referral, buf, cap, len);
	case LISP_MSG_ECM:
		return ecm_encode(&m->u.ecm, buf, cap, len);
	case LISP_MSG_SHARED_EXT:
		return shared_ext_encode(&m->u.ext, buf, cap, len);
	default:
		return LISPMS_EINVAL;
	}
}
