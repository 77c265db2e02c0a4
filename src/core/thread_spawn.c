/* SPDX-License-Identifier: MIT */
/*
 * Starting and joining threads: name, pin, register (thread.c), run.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include <pthread.h>
#include <sched.h>

#include <lispms/err.h>
#include <lispms/log.h>
#include <lispms/thread.h>

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
