/* SPDX-License-Identifier: MIT */
/* map_referral_decode() on any input, with the round-trip oracle. */
#include "fuzz.h"
#include "fuzz_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct lisp_msg m;
	memset(&m, 0, sizeof(m));
	if (map_referral_decode(data, size, a, &m.u.referral) != LISPMS_EOK)
		return 0;
	m.type = (uint8_t)(LISP_MSG_MAP_REFERRAL);
	fuzz_udp_roundtrip(&m, data, size, a);
	return 0;
}
