/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <math.h>

#include <criterion/criterion.h>

#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/thread.h>

Test(counters, table_is_complete_and_names_are_prometheus_style)
{
	for (int i = 0; i < LISPMS_M__COUNT; i++) {
		const struct metric_desc *d = &counters_desc[i];
		cr_assert_not_null(d->name, "metric %d has no row", i);
		cr_assert(strncmp(d->name, "lispms_", 7) == 0, "%s", d->name);
		cr_assert(d->help && d->help[0], "%s has no help", d->name);
		size_t n = strlen(d->name);
		if (d->type == METRIC_COUNTER)
			cr_assert(n > 6 && strcmp(d->name + n - 6, "_total") == 0,
				  "counter %s must end in _total", d->name);
	}
	for (int i = 0; i < LISPMS_H__COUNT; i++)
		cr_assert(strstr(counters_hist_desc[i].name, "_seconds") != NULL);
}

static void *bump(void *arg)
{
	for (int i = 0; i < 1000; i++)
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
	return arg;
}

Test(counters, rows_per_thread_sum_on_read)
{
	uint64_t before = counters_sum(LISPMS_M_INTERNAL_ERRORS);
	struct thread *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = thread_spawn("bump", -1, bump, NULL);
	for (int i = 0; i < 3; i++)
		thread_join(t[i]);
	counters_add(LISPMS_M_INTERNAL_ERRORS, 5); /* unregistered: row 0 */
	cr_assert_eq(counters_sum(LISPMS_M_INTERNAL_ERRORS) - before, 3005);
}

Test(counters, gauges_go_up_and_down)
{
	cr_assert_eq(thread_register("g"), LISPMS_EOK);
	int64_t before = counters_sum_gauge(LISPMS_M_LOG_SUPPRESSED);
	counters_gauge_add(LISPMS_M_LOG_SUPPRESSED, 5);
	counters_gauge_add(LISPMS_M_LOG_SUPPRESSED, -7);
	cr_assert_eq(counters_sum_gauge(LISPMS_M_LOG_SUPPRESSED) - before, -2);
	thread_unregister();
}

Test(counters, histogram_buckets_are_log2_microseconds)
{
	cr_assert_eq(counters_hist_bucket(0), 0);
	cr_assert_eq(counters_hist_bucket(1000), 0);
	cr_assert_eq(counters_hist_bucket(1001), 1);
	cr_assert_eq(counters_hist_bucket(2000), 1);
	cr_assert_eq(counters_hist_bucket(3000), 2);
	cr_assert_eq(counters_hist_bucket(UINT64_MAX / 2), LISPMS_HIST_BUCKETS);
	cr_assert_float_eq(counters_hist_le(0), 1e-6, 1e-12);
	cr_assert_float_eq(counters_hist_le(10), 1024e-6, 1e-12);
	cr_assert(isinf(counters_hist_le(LISPMS_HIST_BUCKETS)));
}

static void *bump_site(void *arg)
{
	for (int i = 0; i < 1000; i++) {
		counters_site_inc(5, LISPMS_S_REJ_BAD_HMAC);
		counters_site_inc(700, LISPMS_S_REG_ACCEPTED);
	}
	return arg;
}

Test(counters, per_site_counters_sum_over_threads)
{
	for (int i = 0; i < LISPMS_S__COUNT; i++) {
		const struct metric_desc *d = &counters_site_desc[i];
		cr_assert(strncmp(d->name, "lispms_site_", 12) == 0, "%s", d->name);
		size_t n = strlen(d->name);
		cr_assert(n > 6 && strcmp(d->name + n - 6, "_total") == 0, "%s", d->name);
		cr_assert(strstr(d->labels, "site=") == NULL, "site is added at scrape time");
	}
	uint64_t before = counters_site_sum(5, LISPMS_S_REJ_BAD_HMAC);
	struct thread *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = thread_spawn("site", -1, bump_site, NULL);
	for (int i = 0; i < 3; i++)
		thread_join(t[i]);
	counters_site_add(5, LISPMS_S_REJ_BAD_HMAC, 7); /* unregistered: row 0 */
	cr_assert_eq(counters_site_sum(5, LISPMS_S_REJ_BAD_HMAC) - before, 3007);
	cr_assert_eq(counters_site_sum(700, LISPMS_S_REG_ACCEPTED), 3000);
	cr_assert_eq(counters_site_sum(6, LISPMS_S_REJ_BAD_HMAC), 0, "a neighbour is untouched");
	counters_site_inc(LISPMS_MAX_SITES, LISPMS_S_REG_ACCEPTED); /* ignored, no crash */
	cr_assert_eq(counters_site_sum(LISPMS_MAX_SITES, LISPMS_S_REG_ACCEPTED), 0);
}