/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>

#include <pthread.h>
#include <sched.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/thread.h>

static void *report_id(void *arg)
{
	unsigned *out = arg;
	*out = thread_id();
	return thread_arena();
}

Test(thread, spawned_threads_get_dense_distinct_ids)
{
	unsigned ids[4];
	struct thread *t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = thread_spawn("worker", -1, report_id, &ids[i]);
		cr_assert_not_null(t[i]);
	}
	for (int i = 0; i < 4; i++)
		cr_assert_not_null(thread_join(t[i]), "thread had no arena");
	for (int i = 0; i < 4; i++) {
		cr_assert(ids[i] >= 1 && ids[i] < LISPMS_MAX_THREADS);
		cr_assert_lt(ids[i], thread_id_limit());
	}
	cr_assert_eq(thread_count(), 0, "every thread unregistered at exit");
}

Test(thread, ids_are_reused_after_exit)
{
	unsigned a, b;
	thread_join(thread_spawn("a", -1, report_id, &a));
	thread_join(thread_spawn("b", -1, report_id, &b));
	cr_assert_eq(a, b, "the lowest free id is handed out again");
}

Test(thread, register_names_and_limit)
{
	cr_assert_eq(thread_id(), 0);
	cr_assert_eq(thread_register("main"), LISPMS_EOK);
	unsigned id = thread_id();
	cr_assert_neq(id, 0);
	cr_assert_str_eq(thread_name(id), "main");
	cr_assert_eq(thread_register("again"), LISPMS_EOK, "idempotent");
	cr_assert_eq(thread_id(), id);
	thread_unregister();
	cr_assert_null(thread_name(id));
	cr_assert_null(thread_name(0));
	cr_assert_null(thread_name(LISPMS_MAX_THREADS));
}

static void *report_cpu(void *arg)
{
	int *cpu = arg;
	*cpu = sched_getcpu();
	return NULL;
}

Test(thread, pinning_puts_the_thread_on_its_cpu)
{
	cpu_set_t allowed;
	cr_assert_eq(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	for (int want = 0; want < CPU_SETSIZE; want++) {
		if (!CPU_ISSET(want, &allowed))
			continue;
		int cpu = -1;
		thread_join(thread_spawn("pinned", want, report_cpu, &cpu));
		cr_assert_eq(cpu, want);
	}
}
