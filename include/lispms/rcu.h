/* SPDX-License-Identifier: MIT */
/*
 * The one place that picks the liburcu flavour (-Drcu_flavor=memb|qsbr, seen
 * here as LISPMS_RCU_QSBR) and wraps it as lrcu_*, with the happens-before
 * annotations ThreadSanitizer needs to understand liburcu 0.13, whose
 * barriers are inline assembly TSan cannot see.
 *
 * Rules (ARCHITECTURE.md, "RCU"): build privately, publish with
 * lrcu_publish(), never write a published object again except through
 * atomics, reclaim with lrcu_call() after a grace period. lrcu_synchronize()
 * only on the control thread. Under qsbr, threads go offline around blocking
 * calls (lrcu_offline/lrcu_online) and report lrcu_quiescent() per batch;
 * under memb these are no-ops.
 *
 * Threads: a thread must be registered (core/thread.c does it) before it
 * takes a read lock.
 */
#pragma once

#ifndef _LGPL_SOURCE
#define _LGPL_SOURCE
#endif

#if defined(LISPMS_RCU_QSBR)
#include <urcu/urcu-qsbr.h>
#define LRCU_(x)	urcu_qsbr_##x
#define LISPMS_RCU_NAME "qsbr"
#else
#include <urcu/urcu-memb.h>
#define LRCU_(x)	urcu_memb_##x
#define LISPMS_RCU_NAME "memb"
#endif
#include <urcu/pointer.h>
#include <urcu/rculfhash.h>

#if defined(__SANITIZE_THREAD__)
#define LISPMS_RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LISPMS_RCU_TSAN 1
#endif
#endif

#ifdef LISPMS_RCU_TSAN
#include <sanitizer/tsan_interface.h>
extern char lrcu_tsan_gp;
#define LRCU_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define LRCU_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define LRCU_TSAN_RELEASE(p) ((void)0)
#define LRCU_TSAN_ACQUIRE(p) ((void)0)
#endif

/* The struct rcu_flavor_struct for rculfhash (cds_lfht_new_flavor). */
#define lrcu_flavor (&LRCU_(flavor))

static inline void lrcu_read_lock(void)
{
	LRCU_(read_lock)();
}

static inline void lrcu_read_unlock(void)
{
#ifdef LISPMS_RCU_TSAN
	LRCU_TSAN_RELEASE(&lrcu_tsan_gp);
#endif
	LRCU_(read_unlock)();
}

/* Wait for a grace period: control thread only (reload, shutdown, tests). */
static inline void lrcu_synchronize(void)
{
	LRCU_(synchronize_rcu)();
#ifdef LISPMS_RCU_TSAN
	LRCU_TSAN_ACQUIRE(&lrcu_tsan_gp);
#endif
}

/* Run fn(head) after a grace period, on liburcu's call_rcu thread. */
static inline void lrcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	LRCU_(call_rcu)(head, fn);
}

/* Wait until every queued lrcu_call() callback has run. */
static inline void lrcu_barrier(void)
{
	LRCU_(barrier)();
}

static inline void lrcu_register(void)
{
	LRCU_(register_thread)();
}

static inline void lrcu_unregister(void)
{
	LRCU_(unregister_thread)();
}

static inline void lrcu_quiescent(void)
{
	LRCU_(quiescent_state)();
}

static inline void lrcu_offline(void)
{
	LRCU_(thread_offline)();
}

static inline void lrcu_online(void)
{
	LRCU_(thread_online)();
}

/*
 * Publish a fully built object: readers see all of it or the old one.
 * Under TSan the store is a C11 release store: liburcu 0.13 stores through
 * a volatile, which TSan counts as a plain write racing with lrcu_deref().
 */
#ifdef LISPMS_RCU_TSAN
#define lrcu_publish(pp, v)                                        \
	do {                                                       \
		__typeof__(*(pp)) lrcu_v_ = (v);                   \
		if (lrcu_v_)                                       \
			LRCU_TSAN_RELEASE(lrcu_v_);                \
		__atomic_store_n((pp), lrcu_v_, __ATOMIC_RELEASE); \
	} while (0)
#else
#define lrcu_publish(pp, v)                     \
	do {                                    \
		rcu_assign_pointer(*(pp), (v)); \
	} while (0)
#endif

/* Swap in a new object and return the old one (reclaim it after a GP). */
#define lrcu_xchg(pp, v)                     \
	__extension__({                      \
		LRCU_TSAN_RELEASE(v);        \
		rcu_xchg_pointer((pp), (v)); \
	})

/* Read an RCU-protected pointer inside a read-side section. */
#define lrcu_deref(p)                                       \
	__extension__({                                     \
		__typeof__(p) lrcu_p_ = rcu_dereference(p); \
		if (lrcu_p_)                                \
			LRCU_TSAN_ACQUIRE(lrcu_p_);         \
		lrcu_p_;                                    \
	})
