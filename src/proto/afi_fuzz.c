/* SPDX-License-Identifier: MIT */
/* The address and LCAF decoder over a sequence of addresses: each decoded
 * address re-encodes to exactly the octets it was decoded from. */
#include "fuzz.h"
#include "fuzz_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire w = wire_init_ro(data, size);
	while (wire_avail(&w) > 0) {
		const uint8_t *start = w.pos;
		struct afi_addr a;
		afi_decode(&w, &a);
		if (!wire_ok(&w))
			break;
		size_t used = (size_t)(w.pos - start);
		static uint8_t out[70000 + 16];
		struct wire o = wire_init(out, sizeof(out));
		afi_encode(&o, &a);
		fuzz_check(wire_ok(&o) && wire_offset(&o) == used && afi_encoded_len(&a) == used);
		fuzz_check(memcmp(out, start, used) == 0);
		fuzz_check(a.kind != AFI_OPAQUE ||
			   (a.opaque == start + 2 && a.opaque_len + 2 == used));
		struct eid_prefix p;
		for (unsigned plen = 0; plen <= 129; plen += 43) {
			int ret = afi_to_eid(&a, (uint8_t)plen, &p);
			fuzz_check(ret == LISPMS_EOK || ret == LISPMS_EAFI || ret == LISPMS_EINVAL);
			if (ret == LISPMS_EOK) {
				struct afi_addr b;
				afi_from_eid(&p, &b);
				fuzz_check(b.iid == (a.kind == AFI_IID ? a.iid : 0) &&
					   b.afi == a.afi);
			}
		}
	}
	return 0;
}
