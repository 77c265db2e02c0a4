/* SPDX-License-Identifier: MIT */
/* Reliable-transport messages: the §6.2 packets, the number table, errors. */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto_rt.h>

#include "hex.h"
#include "testvec.h"

static uint8_t pkt[1024], out[1024];

static size_t load(const char *hex)
{
	int n = hex_decode(hex, pkt, sizeof(pkt));
	cr_assert(n > 0, "bad test vector");
	return (size_t)n;
}

static void reencode(const struct rt_msg *m, size_t len)
{
	size_t n;
	cr_assert_eq(rt_encode(m, out, sizeof(out), &n), LISPMS_EOK);
	cr_assert_eq(n, len);
	cr_assert_arr_eq(out, pkt, len);
}

static void check_eid_1000(const struct rt_prefix *p)
{
	struct eid_prefix e;
	char text[LISPMS_EID_STRLEN];
	cr_assert_eq(afi_to_eid(&p->eid, p->plen, &e), LISPMS_EOK);
	cr_assert_eq(eid_prefix_format(&e, text, sizeof(text)), LISPMS_EOK);
	cr_assert_str_eq(text, "[1000] 10.1.0.0/16");
}

static struct rt_msg decode(const char *hex, uint16_t type, uint32_t id, size_t *len)
{
	*len = load(hex);
	struct rt_msg m;
	cr_assert_eq(rt_decode(pkt, *len, &m), LISPMS_EOK);
	cr_assert_eq(m.type, type);
	cr_assert_eq(m.has_id, 1);
	cr_assert_eq(m.id, id);
	return m;
}

Test(rt, registration)
{
	size_t len;
	struct rt_msg m = decode(TV_RT_REGISTRATION, RT_TYPE_REGISTRATION, 1, &len);
	cr_assert_eq(len, 0x7c);
	cr_assert_eq(m.u.inner.len, 112);
	cr_assert_eq(m.u.inner.msg, pkt + LISPMS_RT_HDR_LEN);
	struct arena a;
	cr_assert_eq(arena_init(&a, 4096), LISPMS_EOK);
	struct lisp_map_register reg;
	cr_assert_eq(map_register_decode(m.u.inner.msg, m.u.inner.len, &a, &reg), LISPMS_EOK);
	cr_assert_eq(reg.flags, LISP_MREG_I | LISP_MREG_T);
	struct auth_ctx *c = auth_ctx_new();
	struct auth_key k;
	auth_key_init(&k, 1, LISP_ALG_HMAC_SHA256, TV_KEY, strlen(TV_KEY));
	cr_assert_eq(auth_verify(c, &k, 1, m.u.inner.msg, m.u.inner.len, &reg.auth), LISPMS_EOK);
	auth_ctx_free(c);
	arena_deinit(&a);
	reencode(&m, len);
}

Test(rt, registration_in_place)
{
	size_t len = load(TV_RT_REGISTRATION), n;
	memcpy(out + LISPMS_RT_HDR_LEN, pkt + LISPMS_RT_HDR_LEN, 112);
	struct rt_msg m = { .type = RT_TYPE_REGISTRATION, .has_id = 1, .id = 1 };
	m.u.inner.msg = out + LISPMS_RT_HDR_LEN;
	m.u.inner.len = 112;
	cr_assert_eq(rt_encode(&m, out, sizeof(out), &n), LISPMS_EOK);
	cr_assert_eq(n, len);
	cr_assert_arr_eq(out, pkt, len);
}

Test(rt, ack_reject_refresh)
{
	size_t len;
	struct rt_msg m = decode(TV_RT_ACK, RT_TYPE_REGISTRATION_ACK, 2, &len);
	check_eid_1000(&m.u.ack);
	reencode(&m, len);

	m = decode(TV_RT_REJECT, RT_TYPE_REGISTRATION_REJECT, 3, &len);
	cr_assert_eq(m.u.reject.reason, RT_REASON_AUTH_FAILURE);
	check_eid_1000(&m.u.reject.eid);
	reencode(&m, len);

	m = decode(TV_RT_REFRESH_ALL, RT_TYPE_REGISTRATION_REFRESH, 4, &len);
	cr_assert_eq(m.u.refresh.scope, RT_SCOPE_ALL);
	cr_assert_eq(m.u.refresh.flags, 0);
	cr_assert_eq(m.u.refresh.has_eid, 0);
	reencode(&m, len);

	m = decode(TV_RT_REFRESH_REJECTED, RT_TYPE_REGISTRATION_REFRESH, 5, &len);
	cr_assert_eq(m.u.refresh.scope, RT_SCOPE_PREFIX);
	cr_assert_eq(m.u.refresh.flags, RT_FLAG_REJECTED_ONLY);
	cr_assert_eq(m.u.refresh.has_eid, 1);
	check_eid_1000(&m.u.refresh.eid);
	reencode(&m, len);
}

Test(rt, mapping_notification_carries_a_map_notify)
{
	size_t len;
	struct rt_msg m = decode(TV_RT_MAPPING_NOTIFICATION, RT_TYPE_MAPPING_NOTIFICATION, 6, &len);
	struct arena a;
	cr_assert_eq(arena_init(&a, 4096), LISPMS_EOK);
	struct lisp_map_notify mn;
	cr_assert_eq(map_notify_decode(m.u.inner.msg, m.u.inner.len, &a, &mn), LISPMS_EOK);
	cr_assert_eq(mn.nrecords, 1);
	reencode(&m, len);

	/* §6.2's literal type 21 uses the -04 layout: framing fine, no Map-Notify inside */
	m = decode(TV_RT_MAPPING_NOTIFICATION_WS, RT_TYPE_MAPPING_NOTIFICATION, 6, &len);
	cr_assert_eq(len, 0x4c);
	cr_assert_eq(map_notify_decode(m.u.inner.msg, m.u.inner.len, &a, &mn), LISPMS_ETYPE);
	reencode(&m, len);
	arena_deinit(&a);
}

Test(rt, error_notification)
{
	size_t len;
	struct rt_msg m = decode(TV_RT_ERROR, RT_TYPE_ERROR_NOTIFICATION, 7, &len);
	cr_assert_eq(m.u.error.code, RT_ERR_UNKNOWN_TYPE);
	cr_assert_eq(m.u.error.off_type, 99);
	cr_assert_eq(m.u.error.off_len, 12);
	cr_assert_eq(m.u.error.off_id, 42);
	cr_assert_eq(m.u.error.data_len, 4);
	cr_assert_arr_eq(m.u.error.data, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	reencode(&m, len);
}

Test(rt, length_only_message)
{
	size_t len = load(TV_RT_BARE);
	struct rt_msg m;
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_EOK);
	cr_assert_eq(m.type, RT_TYPE_REGISTRATION_REFRESH);
	cr_assert_eq(m.has_id, 0);
	reencode(&m, len);
	struct rt_frame f;
	cr_assert_eq(rt_frame_decode(pkt, len, &f), LISPMS_EOK);
	cr_assert_eq(f.length, 8);
	cr_assert_eq(f.body_len, 0);
}

Test(rt, one_table_of_numbers)
{
	cr_assert_eq(RT_TYPE_ERROR_NOTIFICATION, 16);
	cr_assert_eq(RT_TYPE_MAPPING_NOTIFICATION, 21);
	cr_assert_eq(RT_REASON_UNDEFINED, 4);
	cr_assert_eq(RT_SCOPE_PREFIX, 4);
	cr_assert_eq(RT_ERR_RESOURCE, 6);
	cr_assert_eq(RT_FLAG_REJECTED_ONLY, 0x8000);
	cr_assert_str_eq(rt_name(RT_KIND_TYPE, 19), "registration reject");
	cr_assert_str_eq(rt_name(RT_KIND_ERR, 3), "bad end marker");
	cr_assert_str_eq(rt_name(RT_KIND_SCOPE, 0), "all prefixes");
	cr_assert_null(rt_name(RT_KIND_TYPE, 22));
	cr_assert_null(rt_name(RT_KIND_REASON, 0));
	cr_assert_null(rt_name(RT_KIND_ERR, 7));
	for (unsigned t = 16; t <= 21; t++)
		cr_assert(rt_known(RT_KIND_TYPE, t));
}

Test(rt, framing_errors)
{
	size_t len = load(TV_RT_ACK);
	struct rt_msg m;
	cr_assert_eq(rt_decode(pkt, 3, &m), LISPMS_ETRUNC);
	cr_assert_eq(rt_decode(pkt, len - 1, &m), LISPMS_ETRUNC);
	pkt[len] = 0;
	cr_assert_eq(rt_decode(pkt, len + 1, &m), LISPMS_ELENGTH, "bytes past Length");
	pkt[len - 1] ^= 0xff;
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_EMARKER);
	pkt[len - 1] ^= 0xff;
	for (uint16_t bad = 0; bad < 12; bad++) {
		if (bad == 8)
			continue;
		wire_put_u16(pkt + 2, bad);
		cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_ELENGTH, "Length %u", bad);
	}
	len = load(TV_RT_ACK);
	wire_put_u16(pkt, 22); /* RLOC membership: not ours */
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_ETYPE);
	struct rt_frame f;
	cr_assert_eq(rt_frame_decode(pkt, len, &f), LISPMS_EOK, "framing still readable");
	cr_assert_eq(f.type, 22);
	cr_assert_eq(f.id, 2);
}

Test(rt, body_errors)
{
	struct rt_msg m;
	/* ACK with an empty body; Refresh with one octet too few; Reject with junk after */
	size_t len = (size_t)hex_decode("0012 000c 00000002 9facade9", pkt, sizeof(pkt));
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_EMALFORMED);
	len = (size_t)hex_decode("0014 000e 00000004 00 00 9facade9", pkt, sizeof(pkt));
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_EMALFORMED);
	len = (size_t)hex_decode("0013 0023 00000003 02 0000 10 " TV_EID_LCAF " ff 9facade9", pkt,
				 sizeof(pkt));
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_EMALFORMED);
	/* an EID with an unknown AFI, and with a mask-len longer than the address */
	len = (size_t)hex_decode("0012 0011 00000002 10 0011 0102 9facade9", pkt, sizeof(pkt));
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_EAFI);
	len = (size_t)hex_decode("0012 0013 00000002 21 0001 0a010000 9facade9", pkt, sizeof(pkt));
	cr_assert_eq(rt_decode(pkt, len, &m), LISPMS_EMALFORMED);
}

Test(rt, encode_errors)
{
	size_t n;
	struct rt_msg m = { .type = 99, .has_id = 1 };
	cr_assert_eq(rt_encode(&m, out, sizeof(out), &n), LISPMS_EINVAL);
	m.type = RT_TYPE_REGISTRATION_REFRESH;
	cr_assert_eq(rt_encode(&m, out, 10, &n), LISPMS_ENOSPC);
	static uint8_t big[70000];
	m.type = RT_TYPE_REGISTRATION;
	m.u.inner.msg = big;
	m.u.inner.len = 65535 - 12 + 1;
	cr_assert_eq(rt_encode(&m, big, sizeof(big), &n), LISPMS_ELENGTH);
	m.u.inner.len = 65535 - 12;
	cr_assert_eq(rt_encode(&m, big, sizeof(big), &n), LISPMS_EOK);
	cr_assert_eq(n, 65535);
}
