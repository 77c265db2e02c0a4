/* SPDX-License-Identifier: MIT */
/*
 * Concurrency test (plain executable, runs under TSan): workers record
 * rejections into one site's ring and count per-site counters while the
 * control thread reads both. Every entry read must be one writer's whole
 * entry (its fields agree with each other), never a mix of two, and the
 * counters must add up once the writers are done.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sched.h>

#include <lispms/counters.h>
#include <lispms/thread.h>

#include "ms_internal.h"
#include "tap.h"

#define WRITERS 3
#define NOTES	100000

static struct ms_reject_ring ring;
static const unsigned site_num = 4242;
static _Atomic int writers_done;
static _Atomic bool reader_running; /* writers start only then, so reads overlap writes */

static void fill(struct ms_rejection *e, uint64_t v)
{
	memset(e, 0, sizeof(*e));
	e->time_ns = v;
	e->reason = (enum site_metric_id)(v % LISPMS_S__COUNT);
	e->key_id = (uint8_t)v;
	e->has_eid = true;
	e->eid.iid = (uint32_t)v;
	e->eid.afi = LISP_AFI_IPV6;
	e->eid.plen = (uint8_t)(v % 129);
	for (int i = 0; i < 16; i++)
		e->eid.bytes[i] = (uint8_t)(v >> (i % 8 * 8));
	struct sockaddr_in *sa = (struct sockaddr_in *)&e->src;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)v);
	sa->sin_addr.s_addr = htonl((uint32_t)(v * 2654435761u));
	e->rloc.afi = LISP_AFI_IPV4;
	memcpy(e->rloc.bytes, &e->eid.iid, 4);
}

static bool whole(const struct ms_rejection *e)
{
	struct ms_rejection want;
	fill(&want, e->time_ns);
	return memcmp(&want.eid, &e->eid, sizeof(e->eid)) == 0 && want.reason == e->reason &&
	       want.key_id == e->key_id && want.rloc.afi == e->rloc.afi &&
	       memcmp(want.rloc.bytes, e->rloc.bytes, 4) == 0 &&
	       memcmp(&want.src, &e->src, sizeof(struct sockaddr_in)) == 0;
}

static void *writer(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg * 1000000000ull;
	while (!atomic_load(&reader_running))
		sched_yield();
	for (uint64_t i = 1; i <= NOTES; i++) {
		struct ms_rejection e;
		fill(&e, base + i);
		ms_reject_note(&ring, &e);
		counters_site_inc(site_num, LISPMS_S_REJ_BAD_HMAC);
	}
	atomic_fetch_add(&writers_done, 1);
	return NULL;
}

int main(void)
{
	tap_plan(3);
	thread_register("control");
	struct thread *t[WRITERS];
	for (uintptr_t i = 0; i < WRITERS; i++)
		t[i] = thread_spawn("worker", -1, writer, (void *)(i + 1));
	uint64_t reads = 0, bad = 0, counted_max = 0, during = 0;
	bool monotonic = true;
	atomic_store(&reader_running, true);
	for (int round = 0; round < 1000 || atomic_load(&writers_done) < WRITERS; round++) {
		if (atomic_load(&writers_done) < WRITERS)
			during++;
		struct ms_rejection r[16];
		size_t n = ms_reject_read(&ring, r, 16);
		for (size_t k = 0; k < n; k++) {
			reads++;
			if (!whole(&r[k]))
				bad++;
		}
		uint64_t c = counters_site_sum(site_num, LISPMS_S_REJ_BAD_HMAC);
		if (c < counted_max)
			monotonic = false;
		counted_max = c;
	}
	for (int i = 0; i < WRITERS; i++)
		thread_join(t[i]);
	/* at rest every slot is whole: the reader must see them (during heavy writing
	 * it may skip every slot, which is allowed: it never returns a torn one) */
	struct ms_rejection last[16];
	size_t nlast = ms_reject_read(&ring, last, 16);
	for (size_t k = 0; k < nlast; k++) {
		reads++;
		if (!whole(&last[k]))
			bad++;
	}
	tap_ok(bad == 0 && nlast > 0 && during > 0,
	       "%llu entries read (%llu passes while written), %llu torn",
	       (unsigned long long)reads, (unsigned long long)during, (unsigned long long)bad);
	tap_ok(monotonic, "per-site counter sums never go backwards while counted");
	tap_ok(counters_site_sum(site_num, LISPMS_S_REJ_BAD_HMAC) == (uint64_t)WRITERS * NOTES,
	       "per-site counters add up to %llu", (unsigned long long)WRITERS * NOTES);
	thread_unregister();
	return tap_done();
}
