/* SPDX-License-Identifier: MIT */
/*
 * What a reload tells the reliable-transport sessions (D8), beside
 * ms_reload.c which calls it: a Registration Reject for each session-bound
 * registration no longer allowed, and Registration Refreshes, scoped as
 * narrowly as the change allows, for what may now be allowed.
 */
#include <stdlib.h>
#include <string.h>

#include "ms_session.h"

/* A registration on a session is no longer allowed: remove it, tell the ETR. */
void ms_reload_reject(struct ms *ms, const struct eid_prefix *p, const struct db_owner *owner,
		      enum site_metric_id why)
{
	ms_pubsub_withdraw(ms, p, owner);
	struct rt_msg m = { .type = RT_TYPE_REGISTRATION_REJECT, .has_id = 1, .id = 1 };
	m.u.reject.reason =
	    why == LISPMS_S_REJ_LOCATOR ? RT_REASON_LOCATOR_SET : RT_REASON_NOT_SITE_PREFIX;
	m.u.reject.eid.plen = p->plen;
	afi_from_eid(p, &m.u.reject.eid.eid);
	uint8_t buf[256];
	size_t len;
	if (rt_encode(&m, buf, sizeof(buf), &len) == LISPMS_EOK)
		ms_session_deliver(ms, owner->session, buf, len);
}

/*
 * What a reload may now allow that was rejected: ask for it again, scoped as
 * narrowly as the change allows (D8). A configured prefix P of a site becomes
 *   scope 4 (exactly P)             when the site takes no more-specifics,
 *   scope 2 (P's family, instance)  when P is a /0,
 *   scope 3 (covered by P)          otherwise;
 * the scope-2 refreshes of one instance that cover IPv4, IPv6 and MAC fold
 * into one scope 1, and a refresh that another one already covers is dropped.
 */
struct refresh_plan {
	struct refresh_want {
		uint8_t scope;
		struct eid_prefix where; /* scope 1: only iid is used */
	} * v;
	size_t n, cap;
	bool oom;
};

/* More changed prefixes than this in one reload: one scope-0 refresh. */
#define REFRESH_PLAN_MAX 512

static const uint16_t eid_families[] = { LISP_AFI_IPV4, LISP_AFI_IPV6, LISP_AFI_MAC };

static void plan_add(struct refresh_plan *pl, uint8_t scope, const struct eid_prefix *where)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 16;
		struct refresh_want *v = realloc(pl->v, cap * sizeof(*v));
		if (v == NULL) {
			pl->oom = true;
			return;
		}
		pl->v = v;
		pl->cap = cap;
	}
	pl->v[pl->n++] = (struct refresh_want){ scope, *where };
}

static void plan_site_prefix(struct refresh_plan *pl, const struct conf_site *site,
			     const struct eid_prefix *p)
{
	uint8_t scope = p->plen == 0		       ? RT_SCOPE_INSTANCE_AF
			: !site->accept_more_specifics ? RT_SCOPE_PREFIX
						       : RT_SCOPE_COVERED;
	plan_add(pl, scope, p);
}

/* Does a (already reduced) want cover everything w asks for? */
static bool want_covers(const struct refresh_want *a, const struct refresh_want *w)
{
	if (a->where.iid != w->where.iid)
		return false;
	if (a->scope == RT_SCOPE_INSTANCE)
		return true;
	if (w->scope == RT_SCOPE_INSTANCE || a->where.afi != w->where.afi)
		return false;
	if (a->scope == RT_SCOPE_INSTANCE_AF)
		return true;
	if (a->scope == RT_SCOPE_PREFIX)
		return w->scope == RT_SCOPE_PREFIX && eid_prefix_equal(&a->where, &w->where);
	return w->scope != RT_SCOPE_INSTANCE_AF && eid_prefix_covers(&a->where, &w->where);
}

static void plan_reduce(struct refresh_plan *pl)
{
	/* Fold the three families of an instance into scope 1. */
	for (size_t i = 0; i < pl->n; i++) {
		if (pl->v[i].scope != RT_SCOPE_INSTANCE_AF)
			continue;
		unsigned seen = 0;
		for (size_t j = 0; j < pl->n; j++)
			if (pl->v[j].scope == RT_SCOPE_INSTANCE_AF &&
			    pl->v[j].where.iid == pl->v[i].where.iid)
				for (unsigned f = 0; f < 3; f++)
					if (pl->v[j].where.afi == eid_families[f])
						seen |= 1u << f;
		if (seen == 7u)
			pl->v[i].scope = RT_SCOPE_INSTANCE;
	}
	/* Drop what an earlier or wider want covers (keep the first of equals). */
	size_t out = 0;
	for (size_t i = 0; i < pl->n; i++) {
		bool covered = false;
		for (size_t j = 0; j < pl->n && !covered; j++) {
			if (j == i || !want_covers(&pl->v[j], &pl->v[i]))
				continue;
			/* mutual cover = equal: the lower index stays */
			covered = !want_covers(&pl->v[i], &pl->v[j]) || j < i;
		}
		if (!covered)
			pl->v[out++] = pl->v[i];
	}
	pl->n = out;
}

/* The EID-prefix element of a Refresh (docs/protocol.md §3.4 scope table). */
static void refresh_element(uint8_t scope, const struct eid_prefix *where, struct rt_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->plen = scope == RT_SCOPE_INSTANCE || scope == RT_SCOPE_INSTANCE_AF ? 0 : where->plen;
	afi_from_eid(where, &out->eid);
	if (scope == RT_SCOPE_INSTANCE || scope == RT_SCOPE_INSTANCE_AF) {
		/* always the Instance-ID LCAF, zero address; scope 1 with inner AFI 0 */
		out->eid.kind = AFI_IID;
		memset(out->eid.bytes, 0, sizeof(out->eid.bytes));
		if (scope == RT_SCOPE_INSTANCE)
			out->eid.afi = LISP_AFI_NONE;
	}
}

static void refresh_broadcast(struct ms *ms, uint8_t scope, const struct eid_prefix *where)
{
	struct rt_msg m = { .type = RT_TYPE_REGISTRATION_REFRESH, .has_id = 1, .id = 1 };
	m.u.refresh.scope = scope;
	m.u.refresh.flags = RT_FLAG_REJECTED_ONLY;
	if (scope != RT_SCOPE_ALL) { /* scope 0 carries no EID-prefix element */
		m.u.refresh.has_eid = 1;
		refresh_element(scope, where, &m.u.refresh.eid);
	}
	uint8_t buf[256];
	size_t len;
	if (rt_encode(&m, buf, sizeof(buf), &len) == LISPMS_EOK) {
		counters_inc(LISPMS_M_MS_SESS_SCOPED_REFRESHES);
		ms_session_broadcast(ms, buf, len);
	}
}

static int reload_change(const struct conf_diff_event *ev, void *arg)
{
	struct refresh_plan *pl = arg;
	const unsigned widening = LISPMS_CONF_SITE_KEYS | LISPMS_CONF_SITE_MORE_SPECIFICS |
				  LISPMS_CONF_SITE_ALLOWED_RLOCS | LISPMS_CONF_SITE_TRANSPORT;
	if (ev->change == LISPMS_CONF_PREFIX_ADDED && ev->prefix != NULL && ev->new_site != NULL)
		plan_site_prefix(pl, ev->new_site, ev->prefix);
	else if (ev->change == LISPMS_CONF_SITE_CHANGED && (ev->what & widening))
		for (size_t i = 0; i < ev->new_site->nprefixes; i++)
			plan_site_prefix(pl, ev->new_site, &ev->new_site->prefixes[i]);
	return 0;
}

void ms_reload_refresh(struct ms *ms, const struct conf *old, const struct conf *new)
{
	struct refresh_plan pl = { 0 };
	conf_diff(old, new, reload_change, &pl);
	if (pl.oom || pl.n > REFRESH_PLAN_MAX) {
		/* out of memory, or so many changes that narrowing them (quadratic)
		 * would stall the control thread: one refresh of all that was
		 * rejected, whatever the ETR registered */
		free(pl.v);
		refresh_broadcast(ms, RT_SCOPE_ALL, NULL);
		return;
	}
	plan_reduce(&pl);
	for (size_t i = 0; i < pl.n; i++)
		refresh_broadcast(ms, pl.v[i].scope, &pl.v[i].where);
	free(pl.v);
}
