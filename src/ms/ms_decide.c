/* SPDX-License-Identifier: MIT */
/*
 * What a Map-Request for an EID gets (ms_decide), decided without sending
 * anything: the request path (ms_request.c), the subscriptions
 * (ms_pubsub.c) and the operators' lookup (ms_lookup) ask it. The rules are
 * at the top of ms_request.c.
 */
#include <string.h>

#include "ms_internal.h"

#define NEG_TTL_CONFIGURED 1  /* minutes */
#define NEG_TTL_UNKNOWN	   15 /* minutes */

static struct eid_prefix with_len(const struct eid_prefix *eid, unsigned plen)
{
	struct eid_prefix p = *eid;
	p.plen = (uint8_t)plen;
	eid_prefix_normalize(&p);
	return p;
}

static int stop_walk(const struct eid_prefix *p, const struct db_mapping *m,
		     const struct db_entry *e, void *arg)
{
	(void)p;
	(void)m;
	(void)e;
	(void)arg;
	return 1;
}

/* What a decision reads: one configuration snapshot and the database. */
struct decide_ctx {
	const struct ms_state *st;
	const struct db *db;
};

static bool db_within(const struct decide_ctx *c, const struct eid_prefix *p)
{
	return db_walk(c->db, DB_SCOPE_PREFIX, p, stop_walk, NULL) != 0;
}

static bool sites_any_within(const struct decide_ctx *c, const struct eid_prefix *p)
{
	return site_index_any_within(c->st->sites, p);
}

/*
 * The shortest length L in [lo, eid->plen] such that eid/L holds nothing
 * `within` finds: "holds something" only gets truer as L shrinks, so a
 * binary search finds it in log2(128) walks.
 */
static unsigned hole_len(const struct decide_ctx *c, const struct eid_prefix *eid, unsigned lo,
			 bool (*within)(const struct decide_ctx *, const struct eid_prefix *))
{
	unsigned hi = eid->plen;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		struct eid_prefix p = with_len(eid, mid);
		if (within(c, &p))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The ETR locator a forwarded request goes to: the best priority below 255. */
static const struct db_locator *forward_rloc(const struct db_mapping *m)
{
	const struct db_locator *best = NULL;
	for (unsigned i = 0; m->locs && i < m->locs->count; i++) {
		const struct db_locator *l = &m->locs->loc[i];
		if (l->priority == 255)
			continue;
		if (best == NULL || l->priority < best->priority)
			best = l;
	}
	return best;
}

void ms_decide(const struct ms_state *st, const struct db *db, const struct eid_prefix *eid,
	       struct ms_decision *out)
{
	struct eid_prefix matched;
	const struct db_mapping *m = db_lookup(db, eid, &matched);
	ms_decide_found(st, db, eid, m, &matched, out);
}

void ms_decide_found(const struct ms_state *st, const struct db *db, const struct eid_prefix *eid,
		     const struct db_mapping *m, const struct eid_prefix *matched,
		     struct ms_decision *out)
{
	struct decide_ctx c = { st, db };
	memset(out, 0, sizeof(*out));
	if (m != NULL) {
		out->prefix = *matched;
		const struct ms_site *site = ms_state_site(st, m->site);
		out->map = m;
		out->site = site;
		out->ttl = m->ttl;
		out->proxy_by_site = !(m->flags & DB_F_PROXY) && site && site->conf->proxy_reply;
		if ((m->flags & DB_F_PROXY) || out->proxy_by_site) {
			out->kind = MS_ANSWER_PROXY;
		} else {
			out->kind = MS_ANSWER_FORWARD;
			out->rloc = forward_rloc(m);
		}
		return;
	}
	out->configured = site_index_lookup(st->sites, eid);
	if (out->configured != NULL) {
		unsigned l = hole_len(&c, eid, out->configured->prefix.plen, db_within);
		out->kind = MS_ANSWER_NEG_CONFIGURED;
		out->site = out->configured->site;
		out->prefix = with_len(eid, l);
		out->ttl = NEG_TTL_CONFIGURED;
	} else {
		unsigned l = hole_len(&c, eid, 0, sites_any_within);
		out->kind = MS_ANSWER_NEG_UNKNOWN;
		out->prefix = with_len(eid, l);
		out->ttl = NEG_TTL_UNKNOWN;
	}
}
