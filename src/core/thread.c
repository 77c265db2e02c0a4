/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sched.h>

#include <lispms/err.h>
#include <lispms/log.h>
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

struct thread {
	pthread_t tid;
	char name[16];
	int cpu;
	thread_main_fn *fn;
	void *arg;
	int start_error;
	pthread_mutex_t lock;
	pthread_cond_t started;
	bool ready;
};

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

static void pin(struct thread *t)
{
	if (t->cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	int ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (ret != 0)
		log_warning("thread, cannot pin %s to cpu %d (%s)", t->name, t->cpu, err_str(-ret));
}

static void *trampoline(void *arg)
{
	struct thread *t = arg;
	pthread_setname_np(pthread_self(), t->name);
	pin(t);
	int ret = thread_register(t->name);

	pthread_mutex_lock(&t->lock);
	t->start_error = ret;
	t->ready = true;
	pthread_cond_signal(&t->started);
	pthread_mutex_unlock(&t->lock);
	if (ret != LISPMS_EOK)
		return NULL;

	void *result = t->fn(t->arg);
	thread_unregister();
	return result;
}

struct thread *thread_spawn(const char *name, int cpu, thread_main_fn *fn, void *arg)
{
	struct thread *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->cpu = cpu;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->started, NULL);

	int ret = pthread_create(&t->tid, NULL, trampoline, t);
	if (ret != 0) {
		log_error("thread, cannot start %s (%s)", name, err_str(-ret));
		goto out_free;
	}
	pthread_mutex_lock(&t->lock);
	while (!t->ready)
		pthread_cond_wait(&t->started, &t->lock);
	pthread_mutex_unlock(&t->lock);
	if (t->start_error != LISPMS_EOK) {
		log_error("thread, cannot register %s (%s)", name, err_str(t->start_error));
		pthread_join(t->tid, NULL);
		goto out_free;
	}
	return t;

out_free:
	pthread_cond_destroy(&t->started);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return NULL;
}

void *thread_join(struct thread *t)
{
	void *result = NULL;
	if (t == NULL)
		return NULL;
	pthread_join(t->tid, &result);
	pthread_cond_destroy(&t->started);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return result;
}
