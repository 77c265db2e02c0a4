/* SPDX-License-Identifier: MIT */
/*
 * Reply rate limiting (PROTOCOL.md D22), after DNS response rate limiting:
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
 * Each worker (and DPDK lcore) has its own table, so the request path takes
 * no lock and shares no cache line: the limit holds per worker, and with N
 * workers a victim can receive up to N times `rate` when the forged requests
 * spread over every worker (SO_REUSEPORT hashes on the source 4-tuple). The
 * table has a fixed size (MS_RRL_SETS sets of 4 entries, one cache line per
 * set, 256 KiB per worker) allocated at the first limited answer; an entry
 * holds a seeded 64-bit hash of the address, not the address. A destination
 * not in its set replaces the entry with the oldest arrival time: an entry
 * that is being limited has the newest, so it is the last to go, and a
 * flood of other addresses cannot wash a victim out of the table cheaply.
 *
 * Threads: the owning worker only.
 */
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/random.h>

#include <lispms/counters.h>
#include <lispms/mtime.h>

#include "ms_internal.h"

#define MS_RRL_SETS 4096u /* power of two */
#define MS_RRL_WAYS 4u

struct rrl_entry {
	uint64_t key; /* seeded hash of the address; 0: free */
	uint64_t tat; /* theoretical arrival time of the next answer, ns */
};

struct rrl_set {
	struct rrl_entry e[MS_RRL_WAYS];
} __attribute__((aligned(64)));

struct ms_rrl {
	uint64_t seed;
	uint32_t rate;	   /* the rate interval was computed for */
	uint64_t interval; /* ns between answers at `rate` */
	struct rrl_set sets[MS_RRL_SETS];
};

struct ms_rrl *ms_rrl_new(void)
{
	struct ms_rrl *r = aligned_alloc(64, sizeof(*r));
	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	if (getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed))
		r->seed = mtime_now_ns() * 0x9e3779b97f4a7c15ull;
	return r;
}

void ms_rrl_free(struct ms_rrl *r)
{
	free(r);
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

/* The address only (not the port). One round for IPv4, two for IPv6. */
static uint64_t addr_key(uint64_t seed, const struct sockaddr_storage *ss)
{
	uint64_t k;
	if (ss->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		uint64_t hi, lo;
		memcpy(&hi, a, 8);
		memcpy(&lo, a + 8, 8);
		k = mix(mix(seed, hi), lo);
	} else {
		uint32_t v4;
		memcpy(&v4, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		k = mix(seed, 0x400000000ull | v4);
	}
	return k ? k : 1;
}

bool ms_rrl_check(struct ms_rrl *r, const struct sockaddr_storage *dst, uint32_t rate, uint64_t now)
{
	uint64_t key = addr_key(r->seed, dst);
	struct rrl_set *s = &r->sets[(key >> 40) & (MS_RRL_SETS - 1)];
	struct rrl_entry *e = NULL, *victim = &s->e[0];
	for (unsigned i = 0; i < MS_RRL_WAYS; i++) {
		if (s->e[i].key == key) {
			e = &s->e[i];
			break;
		}
		if (s->e[i].tat < victim->tat)
			victim = &s->e[i];
	}
	if (e == NULL) {
		if (victim->key != 0 && victim->tat > now)
			counters_inc(LISPMS_M_MS_RRL_EVICTED); /* its state is lost */
		e = victim;
		e->key = key;
		e->tat = now;
	}
	if (rate != r->rate) { /* a division only when the limit changes */
		r->rate = rate;
		r->interval = LISPMS_NS_PER_SEC / rate;
	}
	uint64_t tat = (e->tat > now ? e->tat : now) + r->interval;
	if (tat - now > LISPMS_NS_PER_SEC)
		return false;
	e->tat = tat;
	return true;
}
