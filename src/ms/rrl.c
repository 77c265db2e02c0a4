/* SPDX-License-Identifier: MIT */
/*
 * Reply rate limiting (docs/protocol.md D22), after DNS response rate limiting:
 * a Map-Reply goes to the ITR-RLOC its request names, which anyone can
 * forge, so the answers to one destination address are held to `rate` per
 * second with a burst of one second. What is over the limit is counted and
 * not sent: a flood of forged requests naming one victim gets it at most
 * `rate` answers a second however large the mapping.
 *
 * The bucket is kept as a theoretical arrival time (GCRA, the token bucket
 * written as one number): each answer moves it `1 s / rate` later, and an
 * answer is allowed while it stays within one second of now. A destination
 * never seen, or quiet for a second, has a full bucket.
 *
 * The Map-Server's workers use it for every answer (ms_rrl.h), the
 * Map-Resolver for its negative Map-Replies (mr.c).
 * Each worker (and DPDK lcore) has its own table, so the request path takes
 * no lock and shares no cache line: the limit holds per worker, and with N
 * workers a victim can receive up to N times `rate` when the forged requests
 * spread over every worker (SO_REUSEPORT hashes on the source 4-tuple). The
 * table has a fixed size (RRL_SETS sets of 4 entries, one cache line per
 * set, 256 KiB per worker) allocated at the first limited answer; an entry
 * holds a seeded 64-bit hash of the address, not the address. A destination
 * not in its set replaces the entry with the oldest arrival time: an entry
 * that is being limited has the newest, so it is the last to go, and a
 * flood of other addresses cannot wash a victim out of the table cheaply.
 *
 * Threads: the owning thread only (a worker, the resolver's thread).
 */
#include "rrl.h"

#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/random.h>

#include <lispms/counters.h>
#include <lispms/mtime.h>

struct rrl *rrl_new(enum metric_id evicted)
{
	struct rrl *r = aligned_alloc(64, sizeof(*r));
	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->evicted = evicted;
	if (getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed))
		r->seed = mtime_now_ns() * 0x9e3779b97f4a7c15ull;
	return r;
}

void rrl_free(struct rrl *r)
{
	free(r);
}
