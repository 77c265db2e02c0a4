/* SPDX-License-Identifier: MIT */
/*
 * `lispmsctl subscriptions` and `subscription drop XTR-ID`: the
 * publish/subscribe table (RFC 9437, D20) as ms_subscriptions_list() copies
 * it, one row per subscriber.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/err.h>
#include <lispms/hexdigit.h>
#include <lispms/ms.h>
#include <lispms/ms_pubsub.h>

#include "ctl_internal.h"

#define SUBS_MAX 4096 /* the table's own bound (ms_pubsub.c) */

static const struct ctl_col sub_cols[] = {
	{ "subscriber", 22, false }, { "xtr_id", 33, false },	{ "site_id", 8, true },
	{ "transport", 24, false },  { "prefixes", 28, false }, { "pending", 8, true },
	{ "published", 10, true },   { "acked", 8, true },	{ "last_error", 0, false },
};

static void hex_id(const uint8_t id[16], char out[33])
{
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

int ctl_cmd_subscriptions(const struct ctl_env *env, struct ctl_reply *r)
{
	struct ms_subscription_info *info = calloc(SUBS_MAX, sizeof(*info));
	if (info == NULL)
		return LISPMS_ENOMEM;
	size_t n = ms_subscriptions_list(env->ms, info, SUBS_MAX);
	ctl_out_table(r, "subscriptions", sub_cols, sizeof(sub_cols) / sizeof(sub_cols[0]));
	for (size_t i = 0; i < n; i++) {
		const struct ms_subscription_info *s = &info[i];
		char xtr[33], site[24] = "-", transport[80], pfx[512], pend[24], pub[24], ack[24];
		hex_id(s->xtr_id, xtr);
		if (s->has_site_id)
			snprintf(site, sizeof(site), "%" PRIu64, s->site_id);
		if (s->session != 0) {
			snprintf(transport, sizeof(transport), "session %" PRIu64, s->session);
		} else {
			char a[64];
			saddr_format(&s->itr, a, sizeof(a));
			snprintf(transport, sizeof(transport), "udp %s", a);
		}
		size_t used = 0;
		pfx[0] = '\0';
		for (size_t k = 0; k < s->nprefixes && k < LISPMS_PUBSUB_INFO_PREFIXES; k++) {
			char e[LISPMS_EID_STRLEN];
			eid_prefix_format(&s->prefixes[k], e, sizeof(e));
			int w = snprintf(pfx + used, sizeof(pfx) - used, "%s%s", k ? "," : "", e);
			used += w > 0 && (size_t)w < sizeof(pfx) - used ? (size_t)w : 0;
		}
		if (s->nprefixes > LISPMS_PUBSUB_INFO_PREFIXES && used + 8 < sizeof(pfx))
			snprintf(pfx + used, sizeof(pfx) - used, ",+%zu",
				 s->nprefixes - LISPMS_PUBSUB_INFO_PREFIXES);
		snprintf(pend, sizeof(pend), "%" PRIu64, s->pending);
		snprintf(pub, sizeof(pub), "%" PRIu64, s->published);
		snprintf(ack, sizeof(ack), "%" PRIu64, s->acked);
		const char *row[] = { s->origin,
				      xtr,
				      pfx[0] ? pfx : "-",
				      pend,
				      pub,
				      ack,
				      s->last_error[0] ? s->last_error : "-" };
		const char *full[] = { row[0], row[1], site,   transport, row[2],
				       row[3], row[4], row[5], row[6] };
		ctl_out_row(r, full);
	}
	ctl_out_table_end(r);
	free(info);
	if (ctl_reply_json(r))
		ctl_out_u64(r, "count", n);
	ctl_reply_message(r, "%zu subscriber%s", n, n == 1 ? "" : "s");
	return 0;
}

int ctl_cmd_subscription_drop(const struct ctl_env *env, struct ctl_reply *r, const char *text)
{
	const char *t = text;
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
		t += 2;
	uint8_t id[16];
	bool ok = strlen(t) == 32;
	for (unsigned i = 0; ok && i < 16; i++) {
		int hi = hexdigit_value(t[2 * i]), lo = hexdigit_value(t[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		id[i] = (uint8_t)(ok ? hi << 4 | lo : 0);
	}
	if (!ok) {
		ctl_reply_message(r, "\"%s\" is not an xTR-ID: 32 hexadecimal digits", text);
		return LISPMS_EINVAL;
	}
	if (!ms_subscription_drop(env->ms, id)) {
		ctl_reply_message(r, "no subscriber %s (`lispmsctl subscriptions` lists them)",
				  text);
		return LISPMS_ENOENT;
	}
	ctl_reply_message(r, "dropped subscriber %s: it gets nothing until it subscribes again",
			  text);
	return 0;
}
