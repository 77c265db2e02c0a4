/* SPDX-License-Identifier: MIT */
/* The ECM unwrapper: outer header, inner IPv4/IPv6 and UDP, then the inner message. */
#include "fuzz.h"
#include "fuzz_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct lisp_msg m = { .type = LISP_MSG_ECM };
	if (ecm_decode(data, size, &m.u.ecm) != LISPMS_EOK)
		return 0;
	fuzz_check(m.u.ecm.inner >= data && m.u.ecm.inner + m.u.ecm.inner_len == data + size);
	fuzz_udp_roundtrip(&m, data, size, a);
	struct lisp_msg inner;
	if (msg_decode(m.u.ecm.inner, m.u.ecm.inner_len, a, &inner) == LISPMS_EOK)
		fuzz_udp_roundtrip(&inner, m.u.ecm.inner, m.u.ecm.inner_len, a);
	return 0;
}
