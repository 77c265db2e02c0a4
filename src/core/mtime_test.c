/* SPDX-License-Identifier: MIT */
#include <time.h>

#include <criterion/criterion.h>

#include <lispms/mtime.h>

Test(mtime, monotonic_and_close_to_the_kernel_clock)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t k = (uint64_t)ts.tv_sec * LISPMS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
	uint64_t a = mtime_now_ns();
	uint64_t b = mtime_now_ns();
	cr_assert_geq(a, k);
	cr_assert_geq(b, a);
	cr_assert_eq(mtime_now_s(), mtime_now_ns() / LISPMS_NS_PER_SEC);
}

Test(mtime, fake_clock_freezes_and_advances)
{
	mtime_fake_set(5 * LISPMS_NS_PER_SEC);
	cr_assert_eq(mtime_now_ns(), 5 * LISPMS_NS_PER_SEC);
	cr_assert_eq(mtime_now_s(), 5);
	mtime_fake_advance(LISPMS_NS_PER_SEC / 2);
	cr_assert_eq(mtime_now_ns(), 5 * LISPMS_NS_PER_SEC + LISPMS_NS_PER_SEC / 2);
	mtime_fake_set(0);
	cr_assert_gt(mtime_now_ns(), 0);
	cr_assert_neq(mtime_now_ns(), 5 * LISPMS_NS_PER_SEC + LISPMS_NS_PER_SEC / 2);
}

Test(mtime, deadline_is_the_real_clock_plus_the_delay_with_nanoseconds_normalised)
{
	mtime_fake_set(5); /* a deadline is for the kernel: never the fake clock */
	struct timespec before, after;
	clock_gettime(CLOCK_MONOTONIC, &before);
	struct timespec d = mtime_deadline(CLOCK_MONOTONIC, 1999);
	clock_gettime(CLOCK_MONOTONIC, &after);
	mtime_fake_set(0);
	cr_assert(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	uint64_t dn = (uint64_t)d.tv_sec * LISPMS_NS_PER_SEC + (uint64_t)d.tv_nsec;
	uint64_t lo = (uint64_t)before.tv_sec * LISPMS_NS_PER_SEC + (uint64_t)before.tv_nsec;
	uint64_t hi = (uint64_t)after.tv_sec * LISPMS_NS_PER_SEC + (uint64_t)after.tv_nsec;
	cr_assert(dn >= lo + 1999 * LISPMS_NS_PER_MSEC && dn <= hi + 1999 * LISPMS_NS_PER_MSEC);
}
