/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
#include <time.h>

#include <lispms/mtime.h>

static _Atomic uint64_t fake_ns;

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * LISPMS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t mtime_now_ns(void)
{
	uint64_t fake = atomic_load_explicit(&fake_ns, memory_order_relaxed);
	if (fake != 0)
		return fake;
	return read_clock(CLOCK_MONOTONIC);
}

struct timespec mtime_deadline(clockid_t clock, unsigned after_ms)
{
	uint64_t ns = read_clock(clock) + (uint64_t)after_ms * LISPMS_NS_PER_MSEC;
	return (struct timespec){ .tv_sec = (time_t)(ns / LISPMS_NS_PER_SEC),
				  .tv_nsec = (long)(ns % LISPMS_NS_PER_SEC) };
}

uint64_t mtime_wall_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

void mtime_fake_set(uint64_t ns)
{
	atomic_store_explicit(&fake_ns, ns, memory_order_relaxed);
}

void mtime_fake_advance(uint64_t ns)
{
	atomic_fetch_add_explicit(&fake_ns, ns, memory_order_relaxed);
}
