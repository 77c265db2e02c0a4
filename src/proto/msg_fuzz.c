/* SPDX-License-Identifier: MIT */
/* Any UDP control message through the dispatching decoder, with the round-trip oracle;
 * an ECM's inner message is decoded too. */
#include "fuzz.h"
#include "fuzz_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct lisp_msg m;
	if (msg_decode(data, size, a, &m) != LISPMS_EOK)
		return 0;
	fuzz_udp_roundtrip(&m, data, size, a);
	if (m.type == LISP_MSG_ECM) {
		struct lisp_msg inner;
		if (msg_decode(m.u.ecm.inner, m.u.ecm.inner_len, a, &inner) == LISPMS_EOK)
			fuzz_udp_roundtrip(&inner, m.u.ecm.inner, m.u.ecm.inner_len, a);
	}
	return 0;
}
