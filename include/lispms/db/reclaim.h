/* SPDX-License-Identifier: MIT */
/*
 * Deferred frees for RCU writers: objects a writer unlinked are collected in
 * a batch and freed by liburcu's call_rcu thread after one grace period, with
 * one lrcu_call() per batch instead of one rcu_head per object (trie nodes,
 * entries and registrations carry no rcu_head: 16 bytes saved per object).
 *
 * A writer reserves room before it changes anything (reclaim_reserve_w), so
 * the pushes of a change cannot fail half way through.
 *
 * Threads: a struct reclaim belongs to whoever holds the writer lock of the
 * structure it serves (the `_w` functions). Freed objects must be
 * unreachable for new readers before they are pushed.
 * Ownership: a pushed object belongs to the reclaim until its free function
 * runs. reclaim_deinit() flushes and waits for nothing: call lrcu_barrier()
 * before unloading the free functions' data.
 * Errors: LISPMS_ENOMEM from reclaim_reserve_w.
 */
#pragma once

#ifndef LISPMS_USES_DB
#error "reclaim.h: this subsystem does not declare db as a dependency"
#endif

#include <stddef.h>

typedef void reclaim_fn(void *obj);

#define LISPMS_RECLAIM_BATCH 250

struct reclaim_batch;

struct reclaim {
	struct reclaim_batch *cur; /* batch being filled, NULL when none */
	size_t pending;		   /* objects pushed but not yet handed to call_rcu */
};

void reclaim_init(struct reclaim *r);

/* Hand what is pending to call_rcu. */
void reclaim_deinit(struct reclaim *r);

/* Make sure the next n (<= LISPMS_RECLAIM_BATCH) pushes cannot fail. */
int reclaim_reserve_w(struct reclaim *r, unsigned n);

/* Free obj with fn after a grace period. Needs a prior reservation. */
void reclaim_push_w(struct reclaim *r, reclaim_fn *fn, void *obj);

/* Queue the current batch now (end of a writer burst, housekeeping). */
void reclaim_flush_w(struct reclaim *r);
