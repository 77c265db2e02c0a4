/* SPDX-License-Identifier: MIT */
/*
 * Concurrency test (plain executable, runs under TSan): writer threads bump
 * their own counter rows and histogram rows while a reader sums them. The
 * sums a reader sees must never go backwards, and the final sums are exact.
 */
#include <stdatomic.h>
#include <stdio.h>

#include <lispms/counters.h>
#include <lispms/thread.h>

#include "tap.h"

#define WRITERS 3
#define ITERS	200000

static _Atomic int done;

static void *writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		counters_add(LISPMS_M_ARENA_EXHAUSTED, 2);
	}
	atomic_fetch_add(&done, 1);
	return NULL;
}

static void *reader(void *arg)
{
	bool *monotonic = arg;
	uint64_t last = 0;
	while (atomic_load(&done) < WRITERS) {
		uint64_t now = counters_sum(LISPMS_M_INTERNAL_ERRORS);
		if (now < last)
			*monotonic = false;
		last = now;
	}
	return NULL;
}

int main(void)
{
	tap_plan(3);
	bool monotonic = true;
	struct thread *r = thread_spawn("reader", -1, reader, &monotonic);
	struct thread *w[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		w[i] = thread_spawn("writer", -1, writer, NULL);
	for (int i = 0; i < WRITERS; i++)
		thread_join(w[i]);
	thread_join(r);
	tap_ok(monotonic, "sums seen by a concurrent reader never go backwards");
	tap_ok(counters_sum(LISPMS_M_INTERNAL_ERRORS) == (uint64_t)WRITERS * ITERS,
	       "counter sum is exact: %llu",
	       (unsigned long long)counters_sum(LISPMS_M_INTERNAL_ERRORS));
	tap_ok(counters_sum(LISPMS_M_ARENA_EXHAUSTED) == (uint64_t)WRITERS * ITERS * 2,
	       "add sum is exact");
	return tap_done();
}
