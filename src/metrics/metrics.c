/* SPDX-License-Identifier: MIT */
/*
 * The registry walk. Rows of metrics.def that share a name are one family
 * and are emitted together, whatever their order in the table; types and
 * help come from the table, never from the name.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lispms/metrics.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

const struct metric_desc metrics_gauge_desc[] = {
#define LISPMS_SCRAPE_GAUGE(id, n, l, h) [LISPMS_G_##id] = { n, l, h, METRIC_GAUGE },
#include <lispms/metrics.def>
	{ 0 }
};

#define LABELS_MAX 4096

/* Label values are escaped here, where the samples are collected; the text
 * format (metrics_text.c) sits on top of this file. */
void metrics_escape_label(struct sbuf *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			sbuf_puts(out, "\\\\");
		else if (*p == '"')
			sbuf_puts(out, "\\\"");
		else if (*p == '\n')
			sbuf_puts(out, "\\n");
		else
			sbuf_append(out, p, 1);
	}
}

static void per_thread(const struct metrics_visitor *v, void *arg)
{
	bool done[LISPMS_M__COUNT > 0 ? LISPMS_M__COUNT : 1] = { false };
	for (int i = 0; i < LISPMS_M__COUNT; i++) {
		if (done[i])
			continue;
		const struct metric_desc *d = &counters_desc[i];
		v->family(arg, d->name, d->type, d->help);
		for (int j = i; j < LISPMS_M__COUNT; j++) {
			if (done[j] || strcmp(counters_desc[j].name, d->name) != 0)
				continue;
			done[j] = true;
			double value = d->type == METRIC_GAUGE ? (double)counters_sum_gauge(j)
							       : (double)counters_sum(j);
			const struct metric_desc *dj = &counters_desc[j];
			if (dj->transport == 0) {
				v->sample(arg, d->name, dj->labels, value);
				continue;
			}
			char labels[256]; /* transport="tcp" first, then the row's own */
			snprintf(labels, sizeof(labels), "transport=\"%s\"%s%s",
				 stream_transport_name((enum stream_transport)(dj->transport - 1)),
				 dj->labels[0] ? "," : "", dj->labels);
			v->sample(arg, d->name, labels, value);
		}
	}
}

static void histograms(const struct metrics_visitor *v, void *arg)
{
	for (int i = 0; i < LISPMS_H__COUNT; i++) {
		const struct metric_desc *d = &counters_hist_desc[i];
		uint64_t bucket[LISPMS_HIST_BUCKETS + 1], count, sum_ns;
		counters_hist_sum(i, bucket, &count, &sum_ns);
		v->family(arg, d->name, METRIC_HISTOGRAM, d->help);
		v->histogram(arg, d->name, d->labels, bucket, count, (double)sum_ns / 1e9);
	}
}

struct site_ref {
	unsigned num;
	struct sbuf label; /* site="NAME" */
};

/* The sites in force, copied out of the snapshot (names escaped once). */
static size_t sites_get(struct ms *ms, struct site_ref **out)
{
	lrcu_read_lock();
	size_t n = conf_site_count(ms_conf(ms));
	struct site_ref *v = calloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; v != NULL && i < n; i++) {
		struct ms_site_info si;
		ms_site_at(ms, i, &si);
		v[i].num = si.num;
		sbuf_init(&v[i].label, LABELS_MAX);
		sbuf_puts(&v[i].label, "site=\"");
		metrics_escape_label(&v[i].label, si.conf->name);
		sbuf_puts(&v[i].label, "\"");
	}
	lrcu_read_unlock();
	*out = v;
	return v != NULL ? n : 0;
}

static void per_site(struct ms *ms, const struct metrics_visitor *v, void *arg)
{
	struct site_ref *sites;
	size_t n = sites_get(ms, &sites);
	bool done[LISPMS_S__COUNT > 0 ? LISPMS_S__COUNT : 1] = { false };
	struct sbuf labels;
	sbuf_init(&labels, 2 * LABELS_MAX);
	for (int i = 0; i < LISPMS_S__COUNT; i++) {
		if (done[i])
			continue;
		const struct metric_desc *d = &counters_site_desc[i];
		v->family(arg, d->name, METRIC_COUNTER, d->help);
		for (int j = i; j < LISPMS_S__COUNT; j++) {
			if (strcmp(counters_site_desc[j].name, d->name) != 0)
				continue;
			done[j] = true;
			for (size_t k = 0; k < n; k++) {
				sbuf_reset(&labels);
				sbuf_append(&labels, sites[k].label.data, sites[k].label.len);
				if (counters_site_desc[j].labels[0]) {
					sbuf_puts(&labels, ",");
					sbuf_puts(&labels, counters_site_desc[j].labels);
				}
				if (sbuf_failed(&labels))
					continue;
				v->sample(arg, d->name, labels.data,
					  (double)counters_site_sum(sites[k].num, j));
			}
		}
	}
	sbuf_free(&labels);
	for (size_t k = 0; k < n; k++)
		sbuf_free(&sites[k].label);
	free(sites);
}

static double realtime_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *family_name(unsigned af)
{
	static const char *const names[LISPMS_DB_FAMILIES] = { "ipv4", "ipv6", "mac" };
	return af < LISPMS_DB_FAMILIES ? names[af] : "other";
}

/* The samples of one scrape-time gauge. */
static void scrape_gauge(const struct metrics_info *info, enum metrics_gauge_id id,
			 const struct metrics_visitor *v, void *arg, struct sbuf *l)
{
	const char *name = metrics_gauge_desc[id].name;
	struct ms_reload_status rs;
	ms_reload_status_get(info->ms, &rs);
	switch (id) {
	case LISPMS_G_BUILD_INFO:
		sbuf_puts(l, "version=\"");
		metrics_escape_label(l, info->version ? info->version : "");
		sbuf_puts(l, "\",rcu=\"" LISPMS_RCU_NAME "\",fastpath=\"");
		metrics_escape_label(l, info->fastpath ? info->fastpath : "");
		sbuf_puts(l, "\"");
		v->sample(arg, name, l->data ? l->data : "", 1);
		break;
	case LISPMS_G_START_TIME:
		v->sample(arg, name, "", (double)(rs.started_ns / LISPMS_NS_PER_SEC));
		break;
	case LISPMS_G_UPTIME:
		v->sample(arg, name, "", realtime_s() - (double)rs.started_ns / 1e9);
		break;
	case LISPMS_G_WORKERS:
		v->sample(arg, name, "", info->workers);
		break;
	case LISPMS_G_CONFIG_GENERATION:
		v->sample(arg, name, "", (double)rs.generation);
		break;
	case LISPMS_G_CONFIG_RELOAD_OK:
		v->sample(arg, name, "", rs.last_ok ? 1 : 0);
		break;
	case LISPMS_G_CONFIG_RELOAD_TIME:
		v->sample(arg, name, "", (double)(rs.last_ns / LISPMS_NS_PER_SEC));
		break;
	case LISPMS_G_CONFIG_SITES: {
		lrcu_read_lock();
		size_t n = conf_site_count(ms_conf(info->ms));
		lrcu_read_unlock();
		v->sample(arg, name, "", (double)n);
		break;
	}
	case LISPMS_G_DB_INSTANCES:
	case LISPMS_G_DB_INSTANCE_PREFIXES:
	case LISPMS_G_DB_INSTANCE_REGISTRATIONS: {
		struct db_iid_stats *st;
		size_t n = db_iid_stats_get(ms_db(info->ms), &st);
		if (id == LISPMS_G_DB_INSTANCES)
			v->sample(arg, name, "", (double)n);
		for (size_t i = 0; id != LISPMS_G_DB_INSTANCES && i < n; i++) {
			for (unsigned af = 0; af < LISPMS_DB_FAMILIES; af++) {
				sbuf_reset(l);
				sbuf_printf(l, "iid=\"%u\"", st[i].iid);
				if (id == LISPMS_G_DB_INSTANCE_REGISTRATIONS) {
					v->sample(arg, name, l->data, (double)st[i].registrations);
					break;
				}
				sbuf_printf(l, ",family=\"%s\"", family_name(af));
				v->sample(arg, name, l->data, (double)st[i].prefixes[af]);
			}
		}
		free(st);
		break;
	}
	case LISPMS_G_NOTIFY_PENDING:
		v->sample(arg, name, "", (double)ms_notify_pending(info->ms));
		break;
	case LISPMS_G_ADMITTED:
		v->sample(arg, name, "", (double)admit_count(ms_admit(info->ms)));
		break;
	case LISPMS_G__COUNT:
		break;
	}
}

void metrics_collect(const struct metrics_info *info, const struct metrics_visitor *v, void *arg)
{
	per_thread(v, arg);
	histograms(v, arg);
	per_site(info->ms, v, arg);
	struct sbuf l;
	sbuf_init(&l, LABELS_MAX);
	for (int i = 0; i < LISPMS_G__COUNT; i++) {
		const struct metric_desc *d = &metrics_gauge_desc[i];
		v->family(arg, d->name, METRIC_GAUGE, d->help);
		sbuf_reset(&l);
		scrape_gauge(info, (enum metrics_gauge_id)i, v, arg, &l);
	}
	sbuf_free(&l);
}
