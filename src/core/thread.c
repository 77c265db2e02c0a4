/* SPDX-License-Identifier: MIT */
/*
 * The thread registry: ids, names and per-thread arenas. Starting and
 * joining threads (which logs) is thread_spawn.c, on top of this file and
 * of log.c, which reads the ids.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/err.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

_Thread_local unsigned thread_tls_id;
static _Thread_local struct arena tls_arena;

struct slot {
	char name[16];
	_Atomic bool used;
};

static struct slot slots[LISPMS_MAX_THREADS];
static _Atomic unsigned id_limit = 1;
static _Atomic unsigned live_count;

static int take_id(const char *name)
{
	for (unsigned i = 1; i < LISPMS_MAX_THREADS; i++) {
		bool expected = false;
		if (atomic_compare_exchange_strong(&slots[i].used, &expected, true)) {
			snprintf(slots[i].name, sizeof(slots[i].name), "%s", name);
			unsigned lim = atomic_load(&id_limit);
			while (lim < i + 1 && !atomic_compare_exchange_weak(&id_limit, &lim, i + 1))
				;
			return (int)i;
		}
	}
	return LISPMS_ELIMIT;
}

int thread_register(const char *name)
{
	if (thread_tls_id != 0)
		return LISPMS_EOK;
	int id = take_id(name);
	if (id < 0)
		return id;
	int ret = arena_init(&tls_arena, LISPMS_ARENA_DEFAULT_SIZE);
	if (ret != LISPMS_EOK) {
		atomic_store(&slots[id].used, false);
		return ret;
	}
	thread_tls_id = (unsigned)id;
	lrcu_register();
	atomic_fetch_add(&live_count, 1);
	return LISPMS_EOK;
}

void thread_unregister(void)
{
	unsigned id = thread_tls_id;
	if (id == 0)
		return;
	lrcu_unregister();
	arena_deinit(&tls_arena);
	thread_tls_id = 0;
	atomic_fetch_sub(&live_count, 1);
	atomic_store(&slots[id].used, false);
}

struct arena *thread_arena(void)
{
	return thread_tls_id ? &tls_arena : NULL;
}

const char *thread_name(unsigned id)
{
	if (id == 0 || id >= LISPMS_MAX_THREADS || !atomic_load(&slots[id].used))
		return NULL;
	return slots[id].name;
}

unsigned thread_id_limit(void)
{
	return atomic_load(&id_limit);
}

unsigned thread_count(void)
{
	return atomic_load(&live_count);
}
