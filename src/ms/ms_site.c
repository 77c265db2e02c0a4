/* SPDX-License-Identifier: MIT */
/*
 * What operators ask about sites: the sites in force, their counters and
 * their recent rejections. A rejection ring is written by any worker with
 * one fetch-and-add and one compare-and-swap, and read by the control
 * thread as a seqlock: a slot being written, or rewritten while it was
 * copied, is skipped rather than waited for. The words are release stores
 * and acquire loads rather than relaxed ones behind fences (TSan does not
 * model fences): a reader that sees any word of a writer also sees that
 * writer's odd sequence number when it checks again.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>

#include <lispms/rcu.h>

#include "ms_internal.h"

/* Word layout of a slot (struct ms_reject_slot.w). */
enum {
	W_TIME,
	W_TICKET,
	W_META,	 /* reason 8 | key id 8 | has eid 8 | eid plain 8 | eid plen 8 | src family 8 |
		    alg id 8 | rloc afi 8 */
	W_META2, /* eid iid 32 | src port 16 | eid afi 16 */
	W_EID,	 /* 2 words */
	W_SRC = W_EID + 2,
	W_RLOC = W_SRC + 2,
	W_COUNT = W_RLOC + 2,
};
_Static_assert(W_COUNT <= sizeof(((struct ms_reject_slot *)0)->w) / sizeof(uint64_t),
	       "rejection slot too small");

static void put16(_Atomic uint64_t *w, const uint8_t bytes[16])
{
	uint64_t a, b;
	memcpy(&a, bytes, 8);
	memcpy(&b, bytes + 8, 8);
	atomic_store_explicit(&w[0], a, memory_order_release);
	atomic_store_explicit(&w[1], b, memory_order_release);
}

static void get16(const uint64_t *w, uint8_t bytes[16])
{
	memcpy(bytes, &w[0], 8);
	memcpy(bytes + 8, &w[1], 8);
}

void ms_reject_note(struct ms_reject_ring *r, const struct ms_rejection *e)
{
	uint64_t ticket = atomic_fetch_add_explicit(&r->head, 1, memory_order_relaxed);
	struct ms_reject_slot *s = &r->slot[ticket % MS_REJECT_RING];
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	/* another writer holds the slot (the ring wrapped meanwhile): drop this one */
	if ((seq & 1) || !atomic_compare_exchange_strong_explicit(
			     &s->seq, &seq, seq + 1, memory_order_relaxed, memory_order_relaxed))
		return;
	uint8_t src[16] = { 0 };
	uint16_t port = 0;
	if (e->src.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&e->src;
		memcpy(src, &v4->sin_addr, 4);
		port = ntohs(v4->sin_port);
	} else if (e->src.ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&e->src;
		memcpy(src, &v6->sin6_addr, 16);
		port = ntohs(v6->sin6_port);
	}
	uint64_t meta = (uint64_t)e->reason << 56 | (uint64_t)e->key_id << 48 |
			(uint64_t)e->has_eid << 40 | (uint64_t)e->eid.plain << 32 |
			(uint64_t)e->eid.plen << 24 | (uint64_t)(uint8_t)e->src.ss_family << 16 |
			(uint64_t)e->alg_id << 8 | (uint8_t)e->rloc.afi; /* IPv4, IPv6 or none */
	uint64_t meta2 = (uint64_t)e->eid.iid << 32 | (uint64_t)port << 16 | e->eid.afi;
	atomic_store_explicit(&s->w[W_TIME], e->time_ns, memory_order_release);
	atomic_store_explicit(&s->w[W_TICKET], ticket, memory_order_release);
	atomic_store_explicit(&s->w[W_META], meta, memory_order_release);
	atomic_store_explicit(&s->w[W_META2], meta2, memory_order_release);
	put16(&s->w[W_EID], e->eid.bytes);
	put16(&s->w[W_SRC], src);
	put16(&s->w[W_RLOC], e->rloc.bytes);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* Copy one slot; false when it is empty or was being written. */
static bool slot_read(const struct ms_reject_slot *s, struct ms_rejection *e, uint64_t *ticket)
{
	struct ms_reject_slot *m = (struct ms_reject_slot *)s;
	uint64_t s1 = atomic_load_explicit(&m->seq, memory_order_acquire);
	if (s1 == 0 || (s1 & 1))
		return false;
	uint64_t w[W_COUNT];
	for (unsigned i = 0; i < W_COUNT; i++)
		w[i] = atomic_load_explicit(&m->w[i], memory_order_acquire);
	if (atomic_load_explicit(&m->seq, memory_order_relaxed) != s1)
		return false;
	memset(e, 0, sizeof(*e));
	e->time_ns = w[W_TIME];
	*ticket = w[W_TICKET];
	e->reason = (enum site_metric_id)(w[W_META] >> 56);
	e->key_id = (uint8_t)(w[W_META] >> 48);
	e->has_eid = (w[W_META] >> 40) & 1;
	e->eid.plain = (uint8_t)(w[W_META] >> 32);
	e->eid.plen = (uint8_t)(w[W_META] >> 24);
	sa_family_t fam = (sa_family_t)(uint8_t)(w[W_META] >> 16);
	e->eid.iid = (uint32_t)(w[W_META2] >> 32);
	uint16_t port = (uint16_t)(w[W_META2] >> 16);
	e->eid.afi = (uint16_t)w[W_META2];
	get16(&w[W_EID], e->eid.bytes);
	uint8_t src[16];
	get16(&w[W_SRC], src);
	if (fam == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&e->src;
		v4->sin_family = AF_INET;
		memcpy(&v4->sin_addr, src, 4);
		v4->sin_port = htons(port);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&e->src;
		v6->sin6_family = AF_INET6;
		memcpy(&v6->sin6_addr, src, 16);
		v6->sin6_port = htons(port);
	}
	get16(&w[W_RLOC], e->rloc.bytes);
	e->rloc.afi = (uint8_t)w[W_META];
	e->alg_id = (uint8_t)(w[W_META] >> 8);
	return true;
}

size_t ms_reject_read(const struct ms_reject_ring *r, struct ms_rejection *out, size_t max)
{
	struct ms_rejection got[MS_REJECT_RING];
	uint64_t tickets[MS_REJECT_RING];
	size_t n = 0;
	for (unsigned i = 0; i < MS_REJECT_RING; i++)
		for (int attempt = 0; attempt < 4; attempt++) /* a burst may be rewriting it */
			if (slot_read(&r->slot[i], &got[n], &tickets[n])) {
				n++;
				break;
			}
	/* newest first: insertion sort of at most 16 by ticket */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && tickets[j] > tickets[j - 1]; j--) {
			uint64_t t = tickets[j];
			tickets[j] = tickets[j - 1];
			tickets[j - 1] = t;
			struct ms_rejection x = got[j];
			got[j] = got[j - 1];
			got[j - 1] = x;
		}
	size_t k = n < max ? n : max;
	memcpy(out, got, k * sizeof(*out));
	return k;
}

size_t ms_site_rejections(const void *site, struct ms_rejection *out, size_t max)
{
	const struct ms_site_id *id = site;
	return id != NULL ? ms_reject_read(&id->rejects, out, max) : 0;
}

static void site_info(const struct ms_site *s, struct ms_site_info *out)
{
	out->conf = s->conf;
	out->num = s->id->num;
	out->id = s->id;
}

void ms_site_at(struct ms *ms, size_t i, struct ms_site_info *out)
{
	const struct ms_state *st = lrcu_deref(ms->state);
	site_info(site_index_site(st->sites, i), out);
}

bool ms_site_find(struct ms *ms, const char *name, struct ms_site_info *out)
{
	const struct ms_state *st = lrcu_deref(ms->state);
	const struct conf_site *cs = conf_site_find(st->conf, name);
	if (cs == NULL)
		return false;
	site_info(site_index_site(st->sites, cs->index), out);
	return true;
}

const char *ms_site_name(const void *site)
{
	const struct ms_site_id *id = site;
	return id != NULL ? id->name : NULL;
}
