/* SPDX-License-Identifier: MIT */
/*
 * The built-in commands and their dispatch: status, stats, reload, log
 * level, ddt, stop here; the database's (registrations, sites, eid lookup)
 * in ctl_db.c, publish/subscribe's in ctl_pubsub.c, the sessions' in
 * ctl_sessions.c. Each reads the request core in short RCU read-side
 * sections on the control thread and renders with ctl_out_*.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/log.h>
#include <lispms/metrics.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/thread.h>

#include "ctl_internal.h"

/* ------------------------------------------------------------ status */

static int cmd_status(const struct ctl_env *env, struct ctl_reply *r)
{
	struct ms_reload_status rs;
	ms_reload_status_get(env->ms, &rs);
	char buf[128];
	ctl_out_str(r, "version", env->metrics->version);
	uint64_t now = ctl_realtime_ns();
	uint64_t up = now > rs.started_ns ? (now - rs.started_ns) / LISPMS_NS_PER_SEC : 0;
	if (r->json) {
		ctl_out_u64(r, "uptime_seconds", up);
	} else {
		ctl_fmt_duration(up, buf, sizeof(buf));
		ctl_out_str(r, "uptime", buf);
	}
	ctl_fmt_time(rs.started_ns, buf, sizeof(buf));
	ctl_out_str(r, "started", buf);
	ctl_out_u64(r, "workers", env->metrics->workers);
	ctl_out_u64(r, "threads", thread_count());
	ctl_out_str(r, "rcu", LISPMS_RCU_NAME);
	ctl_out_str(r, "fastpath", env->metrics->fastpath);
	ctl_out_str(r, "log_level", log_level_name(log_get_level()));
	if (env->metrics->features) {
		ctl_out_section(r, "features");
		for (const struct build_feature *b = env->metrics->features; b->name; b++)
			ctl_out_str(r, b->name, b->value);
		ctl_out_section_end(r);
	}

	lrcu_read_lock();
	const struct conf *c = ms_conf(env->ms);
	size_t nsites = conf_site_count(c);
	char path[512];
	snprintf(path, sizeof(path), "%s", conf_source(c));
	lrcu_read_unlock();
	ctl_out_u64(r, "sites", nsites);

	struct db_iid_stats *st;
	size_t n = db_iid_stats_get(ms_db(env->ms), &st);
	uint64_t prefixes = 0, regs = 0;
	for (size_t i = 0; i < n; i++) {
		regs += st[i].registrations;
		for (unsigned af = 0; af < LISPMS_DB_FAMILIES; af++)
			prefixes += st[i].prefixes[af];
	}
	free(st);
	ctl_out_u64(r, "instances", n);
	ctl_out_u64(r, "eid_prefixes", prefixes);
	ctl_out_u64(r, "registrations", regs);
	ctl_out_u64(r, "admitted_sources", admit_count(ms_admit(env->ms)));
	ctl_out_u64(r, "pending_notifies", ms_notify_pending(env->ms));

	ctl_out_section(r, "configuration");
	ctl_out_str(r, "file", path);
	ctl_out_u64(r, "generation", rs.generation);
	ctl_fmt_time(rs.last_ns, buf, sizeof(buf));
	ctl_out_str(r, "last_reload", buf);
	ctl_out_str(r, "last_reload_result",
		    rs.last_ns == 0 ? "none"
		    : rs.last_ok    ? "ok"
				    : "failed");
	if (rs.last_ns != 0)
		ctl_out_str(r, "last_reload_message", rs.last_msg);
	ctl_out_section_end(r);
	return 0;
}

/* ------------------------------------------------------------ stats */

struct stats_ctx {
	struct ctl_reply *r;
	const char *filter;
	const char *family;
	enum metric_type type;
	bool show;
};

static const struct ctl_col stats_cols[] = {
	{ "metric", 64, false },
	{ "value", 0, true },
};

static const struct ctl_col hist_cols[] = {
	{ "metric", 64, false }, { "count", 12, true },	 { "sum", 14, true },
	{ "p50_le", 10, true },	 { "p99_le", 10, true }, { "max_le", 0, true },
};

static void stats_family(void *arg, const char *name, enum metric_type type, const char *help)
{
	(void)help;
	struct stats_ctx *s = arg;
	s->family = name;
	s->type = type;
	s->show = s->filter == NULL || strstr(name, s->filter) != NULL;
}

static void stats_name(struct sbuf *b, const char *name, const char *labels)
{
	sbuf_reset(b);
	sbuf_puts(b, name);
	if (labels[0])
		sbuf_printf(b, "{%s}", labels);
}

static void stats_sample(void *arg, const char *name, const char *labels, double value)
{
	struct stats_ctx *s = arg;
	if (!s->show)
		return;
	struct sbuf n;
	sbuf_init(&n, 4096);
	stats_name(&n, name, labels);
	struct sbuf v;
	sbuf_init(&v, 64);
	metrics_format_value(&v, value);
	const char *row[] = { n.data, v.data };
	ctl_out_row(s->r, row);
	sbuf_free(&n);
	sbuf_free(&v);
}

/* Upper bound of the bucket where the cumulative count reaches q. */
static double quantile_le(const uint64_t *bucket, uint64_t count, double q)
{
	uint64_t want = (uint64_t)((double)count * q + 0.999999), cum = 0;
	for (unsigned i = 0; i <= LISPMS_HIST_BUCKETS; i++) {
		cum += bucket[i];
		if (cum >= want && cum > 0)
			return counters_hist_le(i);
	}
	return 0;
}

/* A bucket bound: "-" (null in JSON) for the open-ended last one. */
static void fmt_le(double le, char *buf, size_t len)
{
	if (le > 1e300)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%g", le);
}

static void stats_histogram(void *arg, const char *name, const char *labels,
			    const uint64_t bucket[LISPMS_HIST_BUCKETS + 1], uint64_t count,
			    double sum_seconds)
{
	struct stats_ctx *s = arg;
	if (!s->show)
		return;
	/* histograms go to their own table after the samples: remember them */
	(void)name;
	(void)labels;
	(void)bucket;
	(void)count;
	(void)sum_seconds;
}

static void hist_row(void *arg, const char *name, const char *labels,
		     const uint64_t bucket[LISPMS_HIST_BUCKETS + 1], uint64_t count,
		     double sum_seconds)
{
	struct stats_ctx *s = arg;
	if (s->filter != NULL && strstr(name, s->filter) == NULL)
		return;
	struct sbuf n;
	sbuf_init(&n, 4096);
	stats_name(&n, name, labels);
	char c[32], sum[32], p50[32], p99[32], max[32];
	snprintf(c, sizeof(c), "%llu", (unsigned long long)count);
	snprintf(sum, sizeof(sum), "%.6f", sum_seconds);
	fmt_le(quantile_le(bucket, count, 0.5), p50, sizeof(p50));
	fmt_le(quantile_le(bucket, count, 0.99), p99, sizeof(p99));
	fmt_le(quantile_le(bucket, count, 1.0), max, sizeof(max));
	const char *row[] = { n.data, c, sum, p50, p99, max };
	ctl_out_row(s->r, row);
	sbuf_free(&n);
}

static void no_family(void *arg, const char *name, enum metric_type type, const char *help)
{
	(void)arg;
	(void)name;
	(void)type;
	(void)help;
}

static void no_sample(void *arg, const char *name, const char *labels, double value)
{
	(void)arg;
	(void)name;
	(void)labels;
	(void)value;
}

static int cmd_stats(const struct ctl_env *env, struct ctl_reply *r, unsigned argc,
		     const char *const *argv)
{
	struct stats_ctx s = { .r = r, .filter = argc ? argv[0] : NULL };
	const struct metrics_visitor samples = { stats_family, stats_sample, stats_histogram };
	ctl_out_table(r, "metrics", stats_cols, 2);
	metrics_collect(env->metrics, &samples, &s);
	ctl_out_table_end(r);
	const struct metrics_visitor hists = { no_family, no_sample, hist_row };
	ctl_out_table(r, "histograms", hist_cols, 6);
	metrics_collect(env->metrics, &hists, &s);
	ctl_out_table_end(r);
	return 0;
}

/* ------------------------------------------------------------ actions */

static int cmd_reload(const struct ctl_env *env, struct ctl_reply *r)
{
	char path[512];
	lrcu_read_lock();
	snprintf(path, sizeof(path), "%s", conf_source(ms_conf(env->ms)));
	lrcu_read_unlock();
	char msg[sizeof(r->msg)];
	int ret = ms_reload_file(env->ms, path, env->conf_opts, msg, sizeof(msg));
	ctl_reply_message(r, "%s", msg);
	return ret;
}

static int cmd_log_level(struct ctl_reply *r, unsigned argc, const char *const *argv)
{
	if (argc == 0) {
		ctl_out_str(r, "log_level", log_level_name(log_get_level()));
		return 0;
	}
	int level = log_level_parse(argv[0]);
	if (level < 0) {
		ctl_reply_message(r, "unknown level \"%s\" (error, warning, notice, info, debug)",
				  argv[0]);
		return LISPMS_EINVAL;
	}
	enum log_level old = log_get_level();
	log_set_level((enum log_level)level);
	log_notice("control, log level %s (was %s)", log_level_name((enum log_level)level),
		   log_level_name(old));
	ctl_reply_message(r, "log level %s (was %s)", log_level_name((enum log_level)level),
			  log_level_name(old));
	return 0;
}

/* ------------------------------------------------------------ ddt */

static const struct ctl_col ddt_cols[] = {
	{ "prefix", 28, false },
	{ "kind", 14, false },
	{ "ttl", 6, true },
	{ "referrals", 0, false },
};

/* The `ddt:` table of the configuration in force: delegations, then authoritative prefixes. */
static int cmd_ddt(const struct ctl_env *env, struct ctl_reply *r)
{
	ctl_out_table(r, "ddt", ddt_cols, sizeof(ddt_cols) / sizeof(ddt_cols[0]));
	lrcu_read_lock();
	const struct conf_ddt *d = conf_ddt(ms_conf(env->ms));
	for (size_t i = 0; d->enabled && i < d->ndelegations + d->nauthoritative; i++) {
		bool deleg = i < d->ndelegations;
		const struct conf_ddt_delegation *g = deleg ? &d->delegations[i] : NULL;
		char pfx[LISPMS_EID_STRLEN], ttl[16], refs[1024] = "-";
		eid_prefix_format(deleg ? &g->prefix : &d->authoritative[i - d->ndelegations], pfx,
				  sizeof(pfx));
		snprintf(ttl, sizeof(ttl), "%" PRIu32, deleg ? d->referral_ttl : d->hole_ttl);
		size_t used = 0;
		for (size_t k = 0; deleg && k < g->nreferrals && used < sizeof(refs); k++) {
			char a[LISPMS_EID_STRLEN];
			lisp_addr_format(&g->referrals[k], a, sizeof(a));
			int w = snprintf(refs + used, sizeof(refs) - used, "%s%s", k ? "," : "", a);
			used += w > 0 ? (size_t)w : 0;
		}
		const char *kind = !deleg	    ? "authoritative"
				   : g->map_servers ? "map-servers"
						    : "ddt-nodes";
		const char *row[] = { pfx, kind, ttl, refs };
		ctl_out_row(r, row);
	}
	lrcu_read_unlock();
	ctl_out_table_end(r);
	return 0;
}

static int cmd_stop(struct ctl_reply *r)
{
	/* the same path as SIGTERM: the control loop reads it from its signalfd */
	if (kill(getpid(), SIGTERM) != 0)
		return LISPMS_EINTERNAL;
	ctl_reply_message(r, "lispmsd is stopping");
	return 0;
}

int ctl_cmd_run(const struct ctl_env *env, enum ctl_cmd_id id, struct ctl_reply *r, unsigned argc,
		const char *const *argv)
{
	switch (id) {
	case CTL_CMD_STATUS:
		return cmd_status(env, r);
	case CTL_CMD_STATS:
		return cmd_stats(env, r, argc, argv);
	case CTL_CMD_SITE_LIST:
		return ctl_cmd_site_list(env, r);
	case CTL_CMD_SITE_SHOW:
		return ctl_cmd_site_show(env, r, argv[0]);
	case CTL_CMD_EID_LOOKUP:
		return ctl_cmd_eid_lookup(env, r, argv[0]);
	case CTL_CMD_REGISTRATIONS:
		return ctl_cmd_registrations(env, r, argc, argv);
	case CTL_CMD_RELOAD:
		return cmd_reload(env, r);
	case CTL_CMD_LOG_LEVEL:
		return cmd_log_level(r, argc, argv);
	case CTL_CMD_STOP:
		return cmd_stop(r);
	case CTL_CMD_SUBSCRIPTIONS:
		return ctl_cmd_subscriptions(env, r);
	case CTL_CMD_DDT:
		return cmd_ddt(env, r);
	case CTL_CMD_SUBSCRIPTION_DROP:
		return ctl_cmd_subscription_drop(env, r, argv[0]);
	case CTL_CMD_RESOLVER_CACHE:
	case CTL_CMD_RESOLVER_PENDING:
		/* the daemon installs these when it runs a Map-Resolver */
		ctl_reply_message(r,
				  "this lispmsd is not a Map-Resolver (no map-resolver: section)");
		return LISPMS_ENOTSUP;
	case CTL_CMD_SESSIONS:
	case CTL_CMD_SESSION_DROP:
	case CTL_CMD__COUNT:
		break;
	}
	return LISPMS_ENOTSUP;
}
