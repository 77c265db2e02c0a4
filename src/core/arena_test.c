/* SPDX-License-Identifier: MIT */
#include <stdint.h>

#include <criterion/criterion.h>

#include <lispms/arena.h>
#include <lispms/err.h>
#include <lispms/thread.h>

Test(arena, aligned_pieces_until_full_then_reset)
{
	struct arena a;
	cr_assert_eq(arena_init(&a, 100), LISPMS_EOK);
	cr_assert_eq(a.size, 112, "size rounds up to the alignment");
	void *p1 = arena_alloc(&a, 1);
	void *p2 = arena_alloc(&a, 17);
	cr_assert(p1 && p2);
	cr_assert_eq((uintptr_t)p1 % 16, 0);
	cr_assert_eq((uintptr_t)p2 % 16, 0);
	cr_assert_eq((uint8_t *)p2 - (uint8_t *)p1, 16);
	cr_assert_null(arena_alloc(&a, 80), "only 64 bytes are left");
	cr_assert_not_null(arena_alloc(&a, 64));
	cr_assert_null(arena_alloc(&a, 1));
	cr_assert_null(arena_alloc(&a, SIZE_MAX), "size overflow must fail, not wrap");
	cr_assert_eq(a.high, 112);
	arena_reset(&a);
	cr_assert_eq(arena_alloc(&a, 1), p1, "reset starts from the beginning");
	arena_deinit(&a);
}

Test(arena, mark_and_rewind)
{
	struct arena a;
	cr_assert_eq(arena_init(&a, 256), LISPMS_EOK);
	arena_alloc(&a, 32);
	size_t m = arena_mark(&a);
	void *p = arena_alloc(&a, 64);
	arena_rewind(&a, m);
	cr_assert_eq(arena_alloc(&a, 8), p);
	arena_deinit(&a);
}

Test(arena, registered_threads_have_one)
{
	cr_assert_null(thread_arena(), "unregistered threads have no arena");
	cr_assert_eq(thread_register("t"), LISPMS_EOK);
	struct arena *a = thread_arena();
	cr_assert_not_null(a);
	cr_assert_eq(a->size, LISPMS_ARENA_DEFAULT_SIZE);
	thread_unregister();
	cr_assert_null(thread_arena());
}
