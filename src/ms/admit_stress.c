/* SPDX-License-Identifier: MIT */
/*
 * Concurrency test (plain executable, runs under TSan): for each of many
 * rounds, one grant is raced for by several threads calling admit_claim();
 * exactly one must win (one session per authenticated register, D5), while
 * a housekeeping thread expires and a granter re-grants other addresses.
 */
#include <stdatomic.h>
#include <stdio.h>

#include <sched.h>

#include <lispms/admit.h>
#include <lispms/dgram.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "tap.h"

#define CLAIMERS 3
#define ROUNDS	 2000

static struct admit *table;
static _Atomic int round_no = -1;
static _Atomic int wins[ROUNDS];
static _Atomic int arrived;
static _Atomic bool done;

static struct sockaddr_storage round_addr(int r)
{
	struct sockaddr_storage ss;
	char text[32];
	snprintf(text, sizeof(text), "10.%d.%d.1", (r >> 8) & 0xff, r & 0xff);
	saddr_parse(text, &ss);
	return ss;
}

static void *claimer(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		while (atomic_load(&round_no) < r)
			sched_yield();
		struct sockaddr_storage a = round_addr(r);
		if (admit_claim(table, &a, 1, (uint64_t)r + 1))
			atomic_fetch_add(&wins[r], 1);
		atomic_fetch_add(&arrived, 1);
	}
	return NULL;
}

static void *housekeeper(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		admit_expire(table, 1); /* only stale, unclaimed grants (until <= 1) */
		lrcu_quiescent();
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	tap_plan(2);
	thread_register("main");
	table = admit_new();
	struct thread *c[CLAIMERS];
	for (int i = 0; i < CLAIMERS; i++)
		c[i] = thread_spawn("claimer", -1, claimer, NULL);
	struct thread *h = thread_spawn("housekeeper", -1, housekeeper, NULL);
	for (int r = 0; r < ROUNDS; r++) {
		struct sockaddr_storage a = round_addr(r);
		admit_grant(table, &a, 1000);
		struct sockaddr_storage stale = round_addr(ROUNDS + r);
		admit_grant(table, &stale, 1); /* the housekeeper removes these */
		atomic_store(&round_no, r);
		while (atomic_load(&arrived) < (r + 1) * CLAIMERS)
			sched_yield();
	}
	atomic_store(&done, true);
	for (int i = 0; i < CLAIMERS; i++)
		thread_join(c[i]);
	thread_join(h);
	int bad = 0;
	for (int r = 0; r < ROUNDS; r++)
		if (atomic_load(&wins[r]) != 1)
			bad++;
	tap_ok(bad == 0, "every grant claimed exactly once over %d races (%d wrong)", ROUNDS, bad);
	admit_expire(table, 1);
	tap_ok(admit_count(table) == ROUNDS, "claimed grants kept, stale ones expired (%zu left)",
	       admit_count(table));
	admit_free(table);
	lrcu_barrier();
	thread_unregister();
	return tap_done();
}
