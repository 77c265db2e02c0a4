/* SPDX-License-Identifier: MIT */
/* The reliable-transport decoder, with the round-trip oracle; the Map-Register
 * of a Registration and the Map-Notify of a Mapping Notification are decoded too. */
#include <lispms/proto_rt.h>

#include "fuzz.h"
#include "fuzz_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[FUZZ_BUF];
	struct arena *a = fuzz_arena();
	struct rt_frame f;
	int fr = rt_frame_decode(data, size, &f);
	struct rt_msg m;
	int ret = rt_decode(data, size, &m);
	fuzz_check(fr == LISPMS_EOK || ret == fr);
	if (ret != LISPMS_EOK)
		return 0;
	fuzz_check(f.type == m.type && f.has_id == m.has_id && f.id == m.id && f.length == size);
	size_t n;
	fuzz_check(rt_encode(&m, out, sizeof(out), &n) == LISPMS_EOK);
	fuzz_check(n == size && memcmp(out, data, size) == 0);
	struct lisp_msg inner;
	if (m.has_id && m.type == RT_TYPE_REGISTRATION) {
		inner.type = LISP_MSG_MAP_REGISTER;
		if (map_register_decode(m.u.inner.msg, m.u.inner.len, a, &inner.u.reg) == 0)
			fuzz_udp_roundtrip(&inner, m.u.inner.msg, m.u.inner.len, a);
	}
	if (m.has_id && m.type == RT_TYPE_MAPPING_NOTIFICATION) {
		if (map_notify_decode(m.u.inner.msg, m.u.inner.len, a, &inner.u.notify) == 0) {
			inner.type = inner.u.notify.type;
			fuzz_udp_roundtrip(&inner, m.u.inner.msg, m.u.inner.len, a);
		}
	}
	return 0;
}
