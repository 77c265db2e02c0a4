/* SPDX-License-Identifier: MIT */
/*
 * The read side of the metrics: one registry, built from metrics.def, that
 * both the Prometheus exposition (/metrics) and `lispmsctl stats` walk, so
 * they can never disagree. Per-thread counters, gauges and histograms are
 * summed over the thread rows (never locking a worker); per-site counters
 * get a site label; the LISPMS_SCRAPE_GAUGE rows are computed at scrape
 * time from the request core and the database (build, uptime, reloads,
 * EIDs per instance and family, pending notifies, admissions).
 *
 * The /metrics listener is libmicrohttpd in external-poll mode: the
 * control thread polls its epoll fd beside the signalfd and the control
 * socket and runs it, so a scrape reads RCU-protected state from a thread
 * that is already registered, and a slow scraper never blocks anything
 * (connections are non-blocking, limited in number and time).
 *
 * Threads: everything on the control thread (metrics_collect takes the RCU
 * read lock itself, in short sections).
 * Ownership: metrics_info and what it points to outlive the listener.
 * Errors: metrics_http_new() returns NULL and says why in err.
 */
#pragma once

#ifndef LISPMS_USES_METRICS
#error "metrics.h: this subsystem does not declare metrics as a dependency"
#endif

#include <stdint.h>

#include <sys/socket.h>

#include <lispms/counters.h>
#include <lispms/sbuf.h>

struct ms;

/* One optional part of the build, as `lispmsd --version` and `lispmsctl status` show it. */
struct build_feature {
	const char *name;  /* "dpdk", "jemalloc", "rcu", ... */
	const char *value; /* "yes", "no", or a flavour: "memb" */
	const char *help;  /* what it is, for --version */
};

/* What the registry reads besides the per-thread rows. */
struct metrics_info {
	struct ms *ms;
	unsigned workers;
	const char *version;  /* lispmsd's version */
	const char *fastpath; /* fastpath_version(): "disabled", "DPDK 22.11", ... */
	const struct build_feature *features; /* ends with a NULL name; may be NULL */
};

enum metrics_gauge_id {
#define LISPMS_SCRAPE_GAUGE(id, name, labels, help) LISPMS_G_##id,
#include <lispms/metrics.def>
	LISPMS_G__COUNT
};

/* The LISPMS_SCRAPE_GAUGE rows (labels: the label keys, comma-separated). */
extern const struct metric_desc metrics_gauge_desc[];

/*
 * A pass over the registry. Families come one at a time, every sample of a
 * name together: per-thread counters and gauges, histograms, per-site
 * counters, scrape-time gauges, each in metrics.def order.
 */
struct metrics_visitor {
	void (*family)(void *arg, const char *name, enum metric_type type, const char *help);
	/* counters and gauges; labels without braces, "" for none */
	void (*sample)(void *arg, const char *name, const char *labels, double value);
	/* bucket[i]: observations in bucket i alone (upper bound counters_hist_le(i)) */
	void (*histogram)(void *arg, const char *name, const char *labels,
			  const uint64_t bucket[LISPMS_HIST_BUCKETS + 1], uint64_t count,
			  double sum_seconds);
};

void metrics_collect(const struct metrics_info *info, const struct metrics_visitor *v, void *arg);

/* Everything in the Prometheus text format 0.0.4, appended to out. */
void metrics_prometheus(const struct metrics_info *info, struct sbuf *out);

/* Append a label value escaped for the text format (\\, \" and \n). */
void metrics_escape_label(struct sbuf *out, const char *value);

/* Append a sample value as the text format writes it (integers without a fraction). */
void metrics_format_value(struct sbuf *out, double v);

/* ---- the /metrics listener ---- */

struct metrics_http;

/* Listen on sa (IPv4 or IPv6, port 0: any) for GET /metrics. NULL and err on failure. */
struct metrics_http *metrics_http_new(const struct sockaddr_storage *sa,
				      const struct metrics_info *info, char *err, size_t errlen);
void metrics_http_free(struct metrics_http *h);

/* The port it listens on (useful when sa asked for port 0). */
uint16_t metrics_http_port(const struct metrics_http *h);

/* The fd to poll for POLLIN; lowers *timeout_ms when the listener needs to run sooner. */
int metrics_http_pollfd(struct metrics_http *h, int *timeout_ms);

/* Serve what is ready (call after every poll wake-up, whatever woke it). */
void metrics_http_run(struct metrics_http *h);
