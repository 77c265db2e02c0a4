/* SPDX-License-Identifier: MIT */
/*
 * map_request_decode() on any input, with the round-trip oracle, and
 * map_request_itr_target() (where the Map-Server's and the resolver's
 * answers go) on every request decoded, for both families of the sender.
 */
#include <sys/socket.h>

#include "fuzz.h"
#include "fuzz_oracle.h"

/* The ITR-RLOC a reply may go to: a plain IPv4 or IPv6 address. */
static bool usable(const struct afi_addr *a)
{
	return a->kind == AFI_PLAIN && (a->afi == LISP_AFI_IPV4 || a->afi == LISP_AFI_IPV6);
}

/* The choice is the first usable ITR-RLOC of the sender's family, else the
   first usable one of the other; none when there is none. */
static void check_itr_target(const struct lisp_map_request *req, int family)
{
	uint16_t want = family == AF_INET6 ? LISP_AFI_IPV6 : LISP_AFI_IPV4;
	const struct afi_addr *first = NULL, *first_want = NULL;
	for (unsigned i = 0; i < req->nitr; i++) {
		const struct afi_addr *a = &req->itr_rlocs[i];
		if (!usable(a))
			continue;
		if (first == NULL)
			first = a;
		if (first_want == NULL && a->afi == want)
			first_want = a;
	}
	struct lisp_addr got, exp;
	bool found = map_request_itr_target(req, family, &got);
	fuzz_check(found == (first != NULL));
	if (!found)
		return;
	fuzz_check(afi_to_addr(first_want ? first_want : first, &exp) == LISPMS_EOK);
	fuzz_check(lisp_addr_equal(&got, &exp));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct lisp_msg m;
	memset(&m, 0, sizeof(m));
	if (map_request_decode(data, size, a, &m.u.request) != LISPMS_EOK)
		return 0;
	check_itr_target(&m.u.request, AF_INET);
	check_itr_target(&m.u.request, AF_INET6);
	m.type = (uint8_t)(LISP_MSG_MAP_REQUEST);
	fuzz_udp_roundtrip(&m, data, size, a);
	return 0;
}
