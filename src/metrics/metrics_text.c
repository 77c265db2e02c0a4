/* SPDX-License-Identifier: MIT */
/*
 * Prometheus text format 0.0.4: a HELP and a TYPE line once per family,
 * then its samples; a histogram's buckets are cumulative and end with
 * le="+Inf", equal to _count.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <math.h>

#include <lispms/metrics.h>

/* HELP text: backslash and newline escaped (quotes stay). */
static void escape_help(struct sbuf *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			sbuf_puts(out, "\\\\");
		else if (*p == '\n')
			sbuf_puts(out, "\\n");
		else
			sbuf_append(out, p, 1);
	}
}

void metrics_format_value(struct sbuf *out, double v)
{
	if (isnan(v))
		sbuf_puts(out, "NaN");
	else if (isinf(v))
		sbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9e15)
		sbuf_printf(out, "%.0f", v);
	else
		sbuf_printf(out, "%.17g", v);
}

static void text_family(void *arg, const char *name, enum metric_type type, const char *help)
{
	static const char *const types[] = {
		[METRIC_COUNTER] = "counter",
		[METRIC_GAUGE] = "gauge",
		[METRIC_HISTOGRAM] = "histogram",
	};
	struct sbuf *out = arg;
	sbuf_printf(out, "# HELP %s ", name);
	escape_help(out, help);
	sbuf_printf(out, "\n# TYPE %s %s\n", name, types[type]);
}

static void text_line(struct sbuf *out, const char *name, const char *suffix, const char *labels,
		      const char *extra, double value)
{
	sbuf_puts(out, name);
	sbuf_puts(out, suffix);
	bool any = labels[0] || extra[0];
	if (any) {
		sbuf_puts(out, "{");
		sbuf_puts(out, labels);
		if (labels[0] && extra[0])
			sbuf_puts(out, ",");
		sbuf_puts(out, extra);
		sbuf_puts(out, "}");
	}
	sbuf_puts(out, " ");
	metrics_format_value(out, value);
	sbuf_puts(out, "\n");
}

static void text_sample(void *arg, const char *name, const char *labels, double value)
{
	text_line(arg, name, "", labels, "", value);
}

static void text_histogram(void *arg, const char *name, const char *labels,
			   const uint64_t bucket[LISPMS_HIST_BUCKETS + 1], uint64_t count,
			   double sum_seconds)
{
	struct sbuf *out = arg;
	uint64_t cum = 0;
	for (unsigned i = 0; i <= LISPMS_HIST_BUCKETS; i++) {
		cum += bucket[i];
		char le[48];
		double bound = counters_hist_le(i);
		if (isinf(bound))
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		else
			snprintf(le, sizeof(le), "le=\"%g\"", bound);
		text_line(out, name, "_bucket", labels, le, (double)cum);
	}
	text_line(out, name, "_sum", labels, "", sum_seconds);
	text_line(out, name, "_count", labels, "", (double)count);
}

void metrics_prometheus(const struct metrics_info *info, struct sbuf *out)
{
	static const struct metrics_visitor text = {
		.family = text_family,
		.sample = text_sample,
		.histogram = text_histogram,
	};
	metrics_collect(info, &text, out);
}
