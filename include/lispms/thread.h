/* SPDX-License-Identifier: MIT */
/*
 * Thread registry: every long-lived thread (UDP and TCP workers, DPDK lcores,
 * the db writer, the control thread) is started here or registers itself
 * here. Registration gives the thread a dense id (1..LISPMS_MAX_THREADS-1,
 * reused after exit; 0 is "unregistered/other"), a name, an RCU registration,
 * a per-thread arena and, optionally, a CPU pin. The id indexes per-thread
 * rows (counters, queues).
 *
 * Stopping is the owner's: each loop has its own stop call that wakes it and
 * joins its thread (net_worker_stop, fastpath_stop, ...); the registry only
 * hands out ids and joins.
 *
 * Threads: all functions are safe from any thread; thread_arena() returns the
 * calling thread's own arena.
 * Errors: LISPMS_ELIMIT when every id is taken, LISPMS_ENOMEM, -errno from
 * pthread.
 */
#pragma once

#include <stdbool.h>

#include <lispms/arena.h>

#define LISPMS_MAX_THREADS 128

extern _Thread_local unsigned thread_tls_id;

/* Dense id of the calling thread; 0 when it never registered. */
static inline unsigned thread_id(void)
{
	return thread_tls_id;
}

/* Register the calling thread (e.g. main) under name. Idempotent. */
int thread_register(const char *name);

/* Undo thread_register(): leaves RCU, frees the arena, frees the id. */
void thread_unregister(void);

typedef void *thread_main_fn(void *arg);

struct thread;

/*
 * Start a registered thread running fn(arg). cpu >= 0 pins it to that CPU
 * (a failure to pin is logged, not fatal). Returns NULL on failure.
 */
struct thread *thread_spawn(const char *name, int cpu, thread_main_fn *fn, void *arg);

/* Wait for the thread to end, free the handle, return what fn returned. */
void *thread_join(struct thread *t);

/* The calling thread's arena (NULL when it is not registered). */
struct arena *thread_arena(void);

/* Name of thread id, or NULL when the slot is free. */
const char *thread_name(unsigned id);

/* One more than the highest id ever handed out: the rows worth summing. */
unsigned thread_id_limit(void);

/* Number of threads registered right now. */
unsigned thread_count(void);
