/* SPDX-License-Identifier: MIT */
/*
 * What the commands share, below all of them: how they print times,
 * durations, owners, locator sets, flags and rejection reasons, and how
 * they read a number argument (ctl_internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lispms/counters.h>
#include <lispms/db.h>
#include <lispms/mtime.h>

#include "ctl_internal.h"

void ctl_fmt_time(uint64_t realtime_ns, char *buf, size_t len)
{
	if (realtime_ns == 0) {
		snprintf(buf, len, "never");
		return;
	}
	time_t t = (time_t)(realtime_ns / LISPMS_NS_PER_SEC);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ctl_fmt_duration(uint64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%llud %02llu:%02llu:%02llu", (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

uint64_t ctl_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * LISPMS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void ctl_fmt_owner(const struct db_owner *o, char *buf, size_t len)
{
	if (o->has_xtr_id) {
		char hex[33];
		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", o->xtr_id[i]);
		snprintf(buf, len, "xtr-id %s", hex);
		return;
	}
	lisp_addr_format(&o->rloc, buf, len);
}

void ctl_fmt_source(const struct db_owner *o, char *buf, size_t len)
{
	char a[64];
	lisp_addr_format(&o->rloc, a, sizeof(a));
	if (o->rloc.afi == LISP_AFI_IPV6)
		snprintf(buf, len, "[%s]:%u", a, o->port);
	else
		snprintf(buf, len, "%s:%u", a, o->port);
}

void ctl_fmt_locators(const struct db_locset *ls, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned i = 0; ls != NULL && i < ls->count && used < len; i++) {
		const struct db_locator *l = &ls->loc[i];
		char a[64];
		lisp_addr_format(&l->addr, a, sizeof(a));
		int w = snprintf(buf + used, len - used, "%s%s/%u/%u%s", i ? "," : "", a,
				 l->priority, l->weight, (l->flags & DB_LOC_R) ? "" : "/down");
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (used == 0)
		snprintf(buf, len, "-");
}

void ctl_fmt_flags(uint16_t f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", (f & DB_F_PROXY) ? "P" : "", (f & DB_F_MERGE) ? "M" : "",
		 (f & DB_F_TTL) ? "T" : "", (f & (DB_F_PROXY | DB_F_MERGE | DB_F_TTL)) ? "" : "-");
}

const char *ctl_reason_name(enum site_metric_id why)
{
	const char *labels = counters_site_desc[why].labels; /* reason="bad_hmac" */
	static char name[64];
	const char *q = strchr(labels, '"');
	if (q == NULL)
		return "other";
	snprintf(name, sizeof(name), "%s", q + 1);
	char *end = strchr(name, '"');
	if (end)
		*end = '\0';
	return name;
}

uint64_t ctl_site_rejected(unsigned num)
{
	uint64_t n = 0;
	for (int i = 0; i < LISPMS_S__COUNT; i++)
		if (strncmp(counters_site_desc[i].labels, "reason=", 7) == 0)
			n += counters_site_sum(num, (enum site_metric_id)i);
	return n;
}

bool ctl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}
