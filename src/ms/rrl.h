/* SPDX-License-Identifier: MIT */
/*
 * Private to ms: the reply rate limiter's table and its check (D22), inline
 * because it runs for every answer (rrl.c says how it works). Used by the
 * Map-Server's workers (ms_rrl.h: one table per ms_thread) and by the
 * Map-Resolver (mr.c: its negative Map-Replies, one table per struct mr).
 *
 * Threads: a table belongs to one thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <lispms/counters.h>
#include <lispms/mtime.h>

#define RRL_SETS 4096u /* power of two */
#define RRL_WAYS 4u

struct rrl_entry {
	uint64_t key; /* seeded hash of the address; 0: free */
	uint64_t tat; /* theoretical arrival time of the next answer, ns */
};

struct rrl_set {
	struct rrl_entry e[RRL_WAYS];
} __attribute__((aligned(64)));

struct rrl {
	uint64_t seed;
	enum metric_id evicted; /* counted when an entry still limiting is replaced */
	uint32_t rate;		/* the rate interval was computed for */
	uint64_t interval;	/* ns between answers at `rate` */
	struct rrl_set sets[RRL_SETS];
};

static inline uint64_t rrl_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

/* The address only (not the port). For IPv4 a bijection (a multiply by an
 * odd number, then a xor-shift), so two IPv4 destinations never share an
 * entry; IPv6 folds both halves. 0 marks a free entry. */
static inline uint64_t rrl_key(uint64_t seed, const struct sockaddr_storage *ss)
{
	uint64_t k;
	if (ss->ss_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		uint64_t hi, lo;
		memcpy(&hi, a, 8);
		memcpy(&lo, a + 8, 8);
		k = rrl_mix(rrl_mix(seed, hi), lo);
	} else {
		uint32_t v4;
		memcpy(&v4, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		k = rrl_mix(seed, v4);
	}
	return k ? k : 1;
}

/* One answer to dst now: true when within `rate` per second (burst of one second). */
static inline bool rrl_check(struct rrl *r, const struct sockaddr_storage *dst, uint32_t rate,
			     uint64_t now)
{
	uint64_t key = rrl_key(r->seed, dst);
	struct rrl_set *s = &r->sets[(key >> 40) & (RRL_SETS - 1)];
	struct rrl_entry *e = &s->e[0];
	if (e->key != key) {
		struct rrl_entry *victim = e;
		e = NULL;
		for (unsigned i = 1; i < RRL_WAYS; i++) {
			if (s->e[i].key == key) {
				e = &s->e[i];
				break;
			}
			if (s->e[i].tat < victim->tat)
				victim = &s->e[i];
		}
		if (e == NULL) {
			if (victim->key != 0 && victim->tat > now)
				counters_inc(r->evicted); /* its state is lost */
			e = victim;
			e->key = key;
			e->tat = now;
		}
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

/* A table (about 256 KiB, seeded), or NULL without memory. Its evictions of
 * entries still limiting are counted under `evicted` in the owning thread's
 * counter row: the Map-Server's LISPMS_M_MS_RRL_EVICTED, the Map-Resolver's
 * LISPMS_M_MR_RRL_EVICTED. */
struct rrl *rrl_new(enum metric_id evicted);
void rrl_free(struct rrl *r);
