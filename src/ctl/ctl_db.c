/* SPDX-License-Identifier: MIT */
/*
 * The commands that read the database: `registrations` (streamed: a step
 * walks at most a few thousand prefixes, then the walk resumes after the
 * last one, db_walk_step, so a million-EID table costs neither a long
 * read-side section nor a big buffer), `site list`, `site show NAME` and
 * `eid lookup EID`. Each runs on the control thread in short RCU read-side
 * sections and renders with ctl_out_*.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/metrics.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>

#include "ctl_internal.h"

#define REG_DEFAULT_LIMIT 1000
#define REG_MAX_LIMIT	  10000000ull
#define STEP_VISITS	  2048 /* prefixes walked per read-side section */
#define SHOW_REGS	  20   /* registrations `site show` lists */
#define SHOW_VISITS	  20000

/* ------------------------------------------------------------ registrations */

struct reg_stream {
	struct ms *ms;
	struct db_walk_cursor walk;
	const void *site; /* only this site's registrations, or NULL */
	uint64_t limit, rows;
	bool truncated;
	const char *more; /* what to run for more, when truncated */
	struct ctl_reply *r;
	const struct eid_prefix *p; /* the prefix being listed */
};

static const struct ctl_col reg_cols[] = {
	{ "prefix", 28, false },  { "site", 14, false },      { "registrant", 22, false },
	{ "source", 22, false },  { "transport", 10, false }, { "ttl_min", 7, true },
	{ "expires_s", 9, true }, { "flags", 5, false },      { "locators", 0, false },
};

static int reg_row(const struct db_mapping *reg, uint64_t expires_ns, void *arg)
{
	struct reg_stream *s = arg;
	if (s->site != NULL && reg->site != s->site)
		return 0;
	if (s->rows >= s->limit) {
		s->truncated = true;
		return 1;
	}
	s->rows++;
	char prefix[LISPMS_EID_STRLEN], owner[64], src[80], transport[32], ttl[16], exp[24],
	    flags[8], locs[1024];
	eid_prefix_format(s->p, prefix, sizeof(prefix));
	ctl_fmt_owner(&reg->owner, owner, sizeof(owner));
	ctl_fmt_source(&reg->owner, src, sizeof(src));
	if (reg->owner.session)
		snprintf(transport, sizeof(transport), "session %llu",
			 (unsigned long long)reg->owner.session);
	else
		snprintf(transport, sizeof(transport), "udp");
	snprintf(ttl, sizeof(ttl), "%u", reg->ttl);
	uint64_t now = mtime_now_ns();
	if (expires_ns == UINT64_MAX)
		snprintf(exp, sizeof(exp), "-");
	else
		snprintf(exp, sizeof(exp), "%llu",
			 (unsigned long long)(expires_ns > now
						  ? (expires_ns - now) / LISPMS_NS_PER_SEC
						  : 0));
	ctl_fmt_flags(reg->flags, flags, sizeof(flags));
	ctl_fmt_locators(reg->locs, locs, sizeof(locs));
	const char *site = ms_site_name(reg->site);
	const char *row[] = { prefix, site ? site : "-", owner, src, transport, ttl, exp, flags,
			      locs };
	ctl_out_row(s->r, row);
	return 0;
}

static int reg_prefix(const struct eid_prefix *p, const struct db_mapping *m,
		      const struct db_entry *e, void *arg)
{
	(void)m;
	struct reg_stream *s = arg;
	s->p = p;
	if (db_entry_regs(e, reg_row, s) != 0)
		return LISPMS_ELIMIT; /* the row limit: the stream ends */
	return 0;
}

/* One step: up to STEP_VISITS prefixes in one read-side section. */
static int reg_step(struct ctl_reply *r, void *state)
{
	struct reg_stream *s = state;
	s->r = r;
	if (db_walk_step(ms_db(s->ms), &s->walk, STEP_VISITS, reg_prefix, s) == 1)
		return 1;
	ctl_out_table_end(r);
	if (r->json) {
		ctl_out_u64(r, "count", s->rows);
		ctl_out_bool(r, "truncated", s->truncated);
	} else if (s->truncated) {
		sbuf_printf(&r->text, "... first %llu shown (%s for more)\n",
			    (unsigned long long)s->rows, s->more);
	} else {
		sbuf_printf(&r->text, "%llu registrations\n", (unsigned long long)s->rows);
	}
	return 0;
}

static void reg_stream_free(void *state)
{
	struct reg_stream *s = state;
	if (s != NULL)
		db_walk_cursor_free(&s->walk);
	free(s);
}

/* The walk's roots: the site's configured prefixes, or every instance and family. */
static int reg_roots(struct reg_stream *s, const char *site, bool by_iid, uint32_t iid, char *err,
		     size_t errlen)
{
	int ret = LISPMS_EOK;
	if (site != NULL) {
		lrcu_read_lock();
		struct ms_site_info si;
		if (!ms_site_find(s->ms, site, &si)) {
			lrcu_read_unlock();
			snprintf(err, errlen, "no site \"%s\" in the configuration in force", site);
			return LISPMS_ENOENT;
		}
		s->site = si.id;
		for (size_t i = 0; i < si.conf->nprefixes && ret == LISPMS_EOK; i++)
			if (!by_iid || si.conf->prefixes[i].iid == iid)
				ret = db_walk_cursor_add(&s->walk, &si.conf->prefixes[i]);
		lrcu_read_unlock();
		return ret;
	}
	struct db_iid_stats *st;
	size_t n = db_iid_stats_get(ms_db(s->ms), &st);
	for (size_t i = 0; i < n && ret == LISPMS_EOK; i++) {
		if (by_iid && st[i].iid != iid)
			continue;
		for (unsigned af = 0; af < LISPMS_DB_FAMILIES && ret == LISPMS_EOK; af++) {
			if (st[i].prefixes[af] == 0)
				continue;
			struct eid_prefix root = { .iid = st[i].iid,
						   .afi = db_family_afi(af),
						   .plain = st[i].iid == 0 };
			ret = db_walk_cursor_add(&s->walk, &root);
		}
	}
	free(st);
	return ret;
}

/* A stream of at most limit rows, `more` telling how to see the rest; NULL with *ret on error. */
static struct reg_stream *reg_stream_new(const struct ctl_env *env, struct ctl_reply *r,
					 uint64_t limit, const char *more, const char *site,
					 bool by_iid, uint32_t iid, int *ret)
{
	struct reg_stream *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*ret = LISPMS_ENOMEM;
		return NULL;
	}
	s->ms = env->ms;
	s->limit = limit;
	s->more = more;
	*ret = reg_roots(s, site, by_iid, iid, r->msg, sizeof(r->msg));
	if (*ret != LISPMS_EOK) {
		reg_stream_free(s);
		return NULL;
	}
	return s;
}

int ctl_cmd_registrations(const struct ctl_env *env, struct ctl_reply *r, unsigned argc,
			  const char *const *argv)
{
	const char *site = NULL;
	bool by_iid = false;
	uint64_t iid = 0, limit = REG_DEFAULT_LIMIT;
	for (unsigned i = 0; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (val == NULL) {
			ctl_reply_message(r, "%s needs a value", opt);
			return LISPMS_EINVAL;
		}
		if (strcmp(opt, "--site") == 0) {
			site = val;
		} else if (strcmp(opt, "--iid") == 0) {
			if (!ctl_parse_u64(val, UINT32_MAX, &iid)) {
				ctl_reply_message(r, "--iid wants an instance ID, not \"%s\"", val);
				return LISPMS_EINVAL;
			}
			by_iid = true;
		} else if (strcmp(opt, "--limit") == 0) {
			if (!ctl_parse_u64(val, REG_MAX_LIMIT, &limit) || limit == 0) {
				ctl_reply_message(r, "--limit wants 1..%llu, not \"%s\"",
						  REG_MAX_LIMIT, val);
				return LISPMS_EINVAL;
			}
		} else {
			ctl_reply_message(r, "unknown option %s (--site, --iid, --limit)", opt);
			return LISPMS_EINVAL;
		}
	}
	int ret;
	struct reg_stream *s =
	    reg_stream_new(env, r, limit, "--limit N", site, by_iid, (uint32_t)iid, &ret);
	if (s == NULL)
		return ret;
	ctl_reply_stream(r, reg_step, s, reg_stream_free);
	ctl_out_table(r, "registrations", reg_cols, sizeof(reg_cols) / sizeof(reg_cols[0]));
	return 1; /* the server calls reg_step as the client reads */
}

/* ------------------------------------------------------------ sites */

static const struct ctl_col site_cols[] = {
	{ "site", 20, false },		{ "prefixes", 8, true },   { "keys", 8, false },
	{ "accepted", 10, true },	{ "refreshed", 10, true }, { "rejected", 10, true },
	{ "last_rejection", 0, false },
};

int ctl_cmd_site_list(const struct ctl_env *env, struct ctl_reply *r)
{
	ctl_out_table(r, "sites", site_cols, sizeof(site_cols) / sizeof(site_cols[0]));
	lrcu_read_lock();
	size_t n = conf_site_count(ms_conf(env->ms));
	lrcu_read_unlock();
	for (size_t i = 0; i < n; i++) {
		char name[256], np[16], keys[64] = "", acc[24], ref[24], rej[24], last[128];
		struct ms_rejection rj;
		lrcu_read_lock();
		struct ms_site_info si;
		ms_site_at(env->ms, i, &si);
		snprintf(name, sizeof(name), "%s", si.conf->name);
		snprintf(np, sizeof(np), "%zu", si.conf->nprefixes);
		size_t used = 0;
		for (size_t k = 0; k < si.conf->nkeys && used < sizeof(keys); k++) {
			int w = snprintf(keys + used, sizeof(keys) - used, "%s%u", k ? "," : "",
					 si.conf->keys[k].id);
			used += w > 0 ? (size_t)w : 0;
		}
		const void *id = si.id;
		unsigned num = si.num;
		lrcu_read_unlock();
		snprintf(acc, sizeof(acc), "%" PRIu64,
			 counters_site_sum(num, LISPMS_S_REG_ACCEPTED));
		snprintf(ref, sizeof(ref), "%" PRIu64,
			 counters_site_sum(num, LISPMS_S_REG_REFRESHED));
		snprintf(rej, sizeof(rej), "%" PRIu64, ctl_site_rejected(num));
		if (ms_site_rejections(id, &rj, 1) == 1) {
			char t[40];
			ctl_fmt_time(rj.time_ns, t, sizeof(t));
			snprintf(last, sizeof(last), "%s %s", t, ctl_reason_name(rj.reason));
		} else {
			snprintf(last, sizeof(last), "-");
		}
		const char *row[] = { name, np, keys, acc, ref, rej, last };
		ctl_out_row(r, row);
	}
	ctl_out_table_end(r);
	return 0;
}

static const struct ctl_col rej_cols[] = {
	{ "time", 21, false },	 { "reason", 20, false }, { "eid", 28, false },
	{ "source", 24, false }, { "key_id", 6, true },	  { "algorithm", 17, false },
	{ "locator", 0, false },
};

/* An algorithm ID as operators configure it (D9), or its number. */
static const char *alg_name(uint8_t alg, char *buf, size_t len)
{
	const char *name = conf_alg_name(alg);
	if (name != NULL)
		return name;
	snprintf(buf, len, "%u", alg);
	return buf;
}

/* "a, b, c": n prefixes into buf (cut at its end). */
static const char *join_prefixes(char *buf, size_t len, const struct eid_prefix *v, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		char p[LISPMS_EID_STRLEN];
		eid_prefix_format(&v[i], p, sizeof(p));
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", p);
		used += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

static void site_config(struct ctl_reply *r, const struct conf_site *cs)
{
	char buf[1024];
	ctl_out_section(r, "configuration");
	ctl_out_str(r, "name", cs->name);
	ctl_out_str(r, "eid_prefixes",
		    join_prefixes(buf, sizeof(buf), cs->prefixes, cs->nprefixes));
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < cs->nkeys && used < sizeof(buf); i++) {
		const char *alg = conf_alg_name(cs->keys[i].alg);
		int w = snprintf(buf + used, sizeof(buf) - used, "%s%u %s", i ? ", " : "",
				 cs->keys[i].id, alg ? alg : "?");
		used += w > 0 ? (size_t)w : 0;
	}
	ctl_out_str(r, "keys", buf); /* ids and algorithms, never the secrets */
	join_prefixes(buf, sizeof(buf), cs->allowed_rlocs, cs->nallowed_rlocs);
	ctl_out_str(r, "allowed_rlocs", cs->nallowed_rlocs ? buf : "any");
	ctl_out_bool(r, "accept_more_specifics", cs->accept_more_specifics);
	ctl_out_bool(r, "proxy_reply", cs->proxy_reply);
	ctl_out_bool(r, "merge", cs->merge);
	ctl_out_bool(r, "reliable_transport", cs->reliable_transport);
	ctl_out_u64(r, "registration_timeout", cs->registration_timeout);
	ctl_out_section_end(r);
}

int ctl_cmd_site_show(const struct ctl_env *env, struct ctl_reply *r, const char *name)
{
	int ret;
	struct reg_stream *s = reg_stream_new(
	    env, r, SHOW_REGS, "lispmsctl registrations --site NAME", name, false, 0, &ret);
	if (s == NULL)
		return ret;
	lrcu_read_lock();
	struct ms_site_info si;
	bool found = ms_site_find(env->ms, name, &si);
	if (found)
		site_config(r, si.conf);
	lrcu_read_unlock();
	if (!found) { /* a reload between the two look-ups: nothing else runs here */
		reg_stream_free(s);
		return LISPMS_ENOENT;
	}

	ctl_out_section(r, "counters");
	for (int i = 0; i < LISPMS_S__COUNT; i++) {
		const char *l = counters_site_desc[i].labels; /* result="accepted" */
		const char *q = strchr(l, '"');
		char key[64];
		if (q == NULL)
			snprintf(key, sizeof(key), "removed_by_reload");
		else
			snprintf(key, sizeof(key), "%s%.*s",
				 strncmp(l, "reason=", 7) == 0 ? "rejected_" : "",
				 (int)strcspn(q + 1, "\""), q + 1);
		ctl_out_u64(r, key, counters_site_sum(si.num, (enum site_metric_id)i));
	}
	ctl_out_section_end(r);

	ctl_out_table(r, "registrations", reg_cols, sizeof(reg_cols) / sizeof(reg_cols[0]));
	unsigned visited = 0;
	int more = 1;
	while (more == 1 && visited < SHOW_VISITS) {
		more = reg_step(r, s);
		visited += STEP_VISITS;
	}
	if (more == 1) { /* stopped by the visit budget: close the table ourselves */
		ctl_out_table_end(r);
		if (!r->json)
			sbuf_puts(&r->text, "... more may exist: lispmsctl registrations --site\n");
	}
	reg_stream_free(s);

	struct ms_rejection rj[16];
	size_t n = ms_site_rejections(si.id, rj, 16);
	ctl_out_table(r, "recent_rejections", rej_cols, sizeof(rej_cols) / sizeof(rej_cols[0]));
	for (size_t i = 0; i < n; i++) {
		char t[40], eid[LISPMS_EID_STRLEN], src[80], key[8], alg[8], loc[64];
		ctl_fmt_time(rj[i].time_ns, t, sizeof(t));
		if (rj[i].has_eid)
			eid_prefix_format(&rj[i].eid, eid, sizeof(eid));
		else
			snprintf(eid, sizeof(eid), "-");
		saddr_format(&rj[i].src, src, sizeof(src));
		snprintf(key, sizeof(key), "%u", rj[i].key_id);
		if (rj[i].rloc.afi != LISP_AFI_NONE)
			lisp_addr_format(&rj[i].rloc, loc, sizeof(loc));
		else
			snprintf(loc, sizeof(loc), "-");
		const char *row[] = { t,   ctl_reason_name(rj[i].reason),
				      eid, src,
				      key, alg_name(rj[i].alg_id, alg, sizeof(alg)),
				      loc };
		ctl_out_row(r, row);
	}
	ctl_out_table_end(r);
	return 0;
}

/* ------------------------------------------------------------ eid lookup */

static const char *answer_name(enum ms_answer a)
{
	switch (a) {
	case MS_ANSWER_PROXY:
		return "proxy-reply";
	case MS_ANSWER_FORWARD:
		return "forward";
	case MS_ANSWER_NEG_CONFIGURED:
		return "negative-configured";
	case MS_ANSWER_NEG_UNKNOWN:
		return "negative-unknown";
	}
	return "?";
}

static const struct ctl_col loc_cols[] = {
	{ "locator", 40, false },   { "priority", 8, true }, { "weight", 6, true },
	{ "m_priority", 10, true }, { "m_weight", 8, true }, { "flags", 0, false },
};

int ctl_cmd_eid_lookup(const struct ctl_env *env, struct ctl_reply *r, const char *text)
{
	struct eid_prefix eid;
	if (eid_prefix_parse(text, &eid) != LISPMS_EOK) {
		ctl_reply_message(r,
				  "not an EID: \"%s\" (write '[IID] address', e.g. '[1000] "
				  "10.1.2.3')",
				  text);
		return LISPMS_EINVAL;
	}
	char e[LISPMS_EID_STRLEN], p[LISPMS_EID_STRLEN], sp[LISPMS_EID_STRLEN], why[512],
	    owner[64] = "-", target[64] = "-";
	struct ms_lookup l;
	lrcu_read_lock();
	ms_lookup(env->ms, &eid, &l);
	eid_prefix_format(&eid, e, sizeof(e));
	eid_prefix_format(&l.prefix, p, sizeof(p));
	if (l.configured)
		eid_prefix_format(&l.site_prefix, sp, sizeof(sp));
	else
		snprintf(sp, sizeof(sp), "-");
	char site[256];
	snprintf(site, sizeof(site), "%s", l.site ? l.site : "-");
	if (l.map != NULL) {
		if (l.map->flags & DB_F_MERGED)
			snprintf(owner, sizeof(owner), "merged");
		else
			ctl_fmt_owner(&l.map->owner, owner, sizeof(owner));
	}
	if (l.rloc != NULL)
		lisp_addr_format(&l.rloc->addr, target, sizeof(target));
	switch (l.answer) {
	case MS_ANSWER_PROXY:
		snprintf(why, sizeof(why),
			 "%s is registered (%s) and %s: the Map-Server answers with a Map-Reply "
			 "(TTL %u min)",
			 p, owner,
			 l.proxy_by_site ? "its site has proxy-reply"
					 : "the registration asked for proxy replies (P bit)",
			 l.ttl);
		break;
	case MS_ANSWER_FORWARD:
		if (l.rloc != NULL)
			snprintf(why, sizeof(why),
				 "%s is registered (%s) without proxy replies: the Map-Request is "
				 "forwarded to the ETR at %s:4342",
				 p, owner, target);
		else
			snprintf(why, sizeof(why),
				 "%s is registered (%s) but no locator is usable (all priority "
				 "255): the request is dropped (no_usable_rloc)",
				 p, owner);
		break;
	case MS_ANSWER_NEG_CONFIGURED:
		snprintf(why, sizeof(why),
			 "inside %s of site %s but nothing registered there: negative Map-Reply "
			 "for %s, TTL %u min",
			 sp, site, p, l.ttl);
		break;
	case MS_ANSWER_NEG_UNKNOWN:
		snprintf(why, sizeof(why),
			 "no site configures a prefix covering it: negative Map-Reply for %s, "
			 "TTL %u min",
			 p, l.ttl);
		break;
	}
	ctl_out_str(r, "eid", e);
	ctl_out_str(r, "answer", answer_name(l.answer));
	ctl_out_str(r, "why", why);
	ctl_out_str(r, "site", l.site ? site : NULL);
	ctl_out_str(r, "configured_prefix", l.configured ? sp : NULL);
	ctl_out_str(r, "prefix", p);
	ctl_out_u64(r, "ttl_minutes", l.ttl);
	if (l.map != NULL) {
		ctl_out_str(r, "registrant", owner);
		char flags[8];
		ctl_fmt_flags(l.map->flags, flags, sizeof(flags));
		ctl_out_str(r, "flags", flags);
		if (l.answer == MS_ANSWER_FORWARD)
			ctl_out_str(r, "forward_to", l.rloc ? target : NULL);
		ctl_out_table(r, "locators", loc_cols, sizeof(loc_cols) / sizeof(loc_cols[0]));
		for (unsigned i = 0; l.map->locs && i < l.map->locs->count; i++) {
			const struct db_locator *dl = &l.map->locs->loc[i];
			char a[64], pr[8], w[8], mp[8], mw[8], f[8];
			lisp_addr_format(&dl->addr, a, sizeof(a));
			snprintf(pr, sizeof(pr), "%u", dl->priority);
			snprintf(w, sizeof(w), "%u", dl->weight);
			snprintf(mp, sizeof(mp), "%u", dl->mpriority);
			snprintf(mw, sizeof(mw), "%u", dl->mweight);
			snprintf(f, sizeof(f), "%s%s%s", (dl->flags & DB_LOC_L) ? "L" : "",
				 (dl->flags & DB_LOC_P) ? "p" : "",
				 (dl->flags & DB_LOC_R) ? "R" : "");
			const char *row[] = { a, pr, w, mp, mw, f[0] ? f : "-" };
			ctl_out_row(r, row);
		}
		ctl_out_table_end(r);
	}
	lrcu_read_unlock();
	return 0;
}
