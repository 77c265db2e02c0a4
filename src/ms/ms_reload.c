/* SPDX-License-Identifier: MIT */
/*
 * Live reload. The new configuration is built into a snapshot privately,
 * published with one pointer swap, and in force on every worker after one
 * grace period (lrcu_synchronize: the control thread may wait). Only then
 * are registrations re-checked, so nothing a worker accepts under the old
 * rules can slip in behind the check.
 *
 * What is re-checked is what conf_diff() says can have changed: every
 * prefix of a site that was removed or whose prefixes, more-specifics or
 * allowed locators changed (its registrations all lie under its old
 * prefixes), and every added prefix (it may take EIDs from another site).
 * The walk runs in steps of a few thousand prefixes, each in its own
 * read-side section, and resumes after the last prefix it saw
 * (db_walk_step), so a million-EID site costs no long section. Disallowed
 * UDP registrations are withdrawn; session-bound ones are rejected on their
 * session, and the sessions are asked to refresh what may now be allowed
 * (ms_reload_refresh.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/log.h>

#include "ms_internal.h"

#define STEP_VISITS 4096 /* prefixes per read-side section */
#define STEP_FOUND  1024 /* disallowed registrations collected per step */

/* A registration that must go. */
struct victim {
	struct eid_prefix prefix;
	struct db_owner owner;
	const struct ms_site_id *site;
	enum site_metric_id why;
};

struct plan {
	struct db_walk_cursor walk; /* prefixes to re-check, copied out of the snapshots */
	char restart[256];	    /* settings that need a restart */
	unsigned changes;
	bool log_level, timeout;
	int err;
};

static void plan_root(struct plan *pl, const struct eid_prefix *p)
{
	if (pl->err == LISPMS_EOK)
		pl->err = db_walk_cursor_add(&pl->walk, p);
}

static void plan_site(struct plan *pl, const struct conf_site *s)
{
	for (size_t i = 0; i < s->nprefixes; i++)
		plan_root(pl, &s->prefixes[i]);
}

#define RECHECK_PARTS                                                  \
	(LISPMS_CONF_SITE_PREFIXES | LISPMS_CONF_SITE_MORE_SPECIFICS | \
	 LISPMS_CONF_SITE_ALLOWED_RLOCS)

static int plan_event(const struct conf_diff_event *ev, void *arg)
{
	struct plan *pl = arg;
	switch (ev->change) {
	case LISPMS_CONF_SITE_REMOVED:
		pl->changes++;
		plan_site(pl, ev->old_site);
		break;
	case LISPMS_CONF_SITE_CHANGED:
		pl->changes++;
		if (ev->what & RECHECK_PARTS)
			plan_site(pl, ev->old_site);
		break;
	case LISPMS_CONF_SITE_ADDED:
		pl->changes++;
		break;
	case LISPMS_CONF_PREFIX_ADDED:
		plan_root(pl, ev->prefix);
		break;
	case LISPMS_CONF_PREFIX_REMOVED:
		break; /* under a site planned above */
	case LISPMS_CONF_SETTING_CHANGED:
		pl->changes++;
		if (ev->needs_restart) {
			size_t used = strlen(pl->restart);
			snprintf(pl->restart + used, sizeof(pl->restart) - used, "%s%s",
				 used ? ", " : "", ev->key);
		}
		if (strcmp(ev->key, "log.level") == 0)
			pl->log_level = true;
		if (strcmp(ev->key, "server.registration-timeout") == 0)
			pl->timeout = true;
		break;
	}
	return pl->err;
}

/* ------------------------------------------------------------ re-check */

struct step {
	const struct ms_state *st;
	struct victim *v;
	size_t n, cap;
	const struct eid_prefix *p; /* the prefix being checked */
	int err;
};

/* Why a registration of p is no longer allowed, or 0 when it still is. */
static enum site_metric_id disallowed(const struct ms_state *st, const struct eid_prefix *p,
				      const struct db_mapping *reg)
{
	const struct ms_site *site = ms_state_site(st, reg->site);
	if (site == NULL || !ms_prefix_allowed(st, site, p))
		return LISPMS_S_REJ_PREFIX;
	for (unsigned i = 0; reg->locs != NULL && i < reg->locs->count; i++)
		if (!ms_rloc_allowed(site->conf, &reg->locs->loc[i].addr))
			return LISPMS_S_REJ_LOCATOR;
	return 0;
}

static int check_reg(const struct db_mapping *reg, uint64_t expires, void *arg)
{
	(void)expires;
	struct step *s = arg;
	enum site_metric_id why = disallowed(s->st, s->p, reg);
	if (why == 0)
		return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct victim *v = realloc(s->v, ncap * sizeof(*v));
		if (v == NULL) {
			s->err = LISPMS_ENOMEM;
			return 1;
		}
		s->v = v;
		s->cap = ncap;
	}
	s->v[s->n++] =
	    (struct victim){ .prefix = *s->p, .owner = reg->owner, .site = reg->site, .why = why };
	return 0;
}

static int check_prefix(const struct eid_prefix *p, const struct db_mapping *m,
			const struct db_entry *e, void *arg)
{
	(void)m;
	struct step *s = arg;
	s->p = p;
	db_entry_regs(e, check_reg, s);
	if (s->err != 0)
		return s->err;
	return s->n >= STEP_FOUND ? DB_WALK_PAUSE : 0;
}

static size_t remove_victims(struct ms *ms, struct step *s)
{
	size_t removed = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct victim *v = &s->v[i];
		if (v->owner.session != 0) {
			ms_reload_reject(ms, &v->prefix, &v->owner, v->why);
			continue;
		}
		if (ms_pubsub_withdraw(ms, &v->prefix, &v->owner) != DB_WITHDRAWN)
			continue; /* gone meanwhile (expired or withdrawn by its ETR) */
		removed++;
		if (v->site != NULL)
			counters_site_inc(v->site->num, LISPMS_S_RELOAD_WITHDRAWN);
		static struct log_limit lim = LOG_LIMIT_INIT(10); /* the summary says how many */
		if (log_enabled(LOG_LEVEL_INFO) && log_limit_pass(&lim)) {
			char p[LISPMS_EID_STRLEN], o[64];
			eid_prefix_format(&v->prefix, p, sizeof(p));
			lisp_addr_format(&v->owner.rloc, o, sizeof(o));
			log_info("reload, removed %s of site %s from %s (%s no longer allowed)", p,
				 v->site ? v->site->name : "-", o,
				 v->why == LISPMS_S_REJ_LOCATOR ? "locator" : "prefix");
		}
	}
	return removed;
}

/* Re-check every registration under the roots against the snapshot in force. */
static int recheck(struct ms *ms, const struct ms_state *st, struct plan *pl, size_t *removed)
{
	struct step s = { .st = st };
	int ret;
	do {
		s.n = 0;
		ret = db_walk_step(ms->db, &pl->walk, STEP_VISITS, check_prefix, &s);
		*removed += remove_victims(ms, &s);
	} while (ret == 1);
	free(s.v);
	return ret < 0 ? ret : LISPMS_EOK;
}

/* ------------------------------------------------------------ reload */

static void state_free_rcu(struct rcu_head *head)
{
	ms_state_free(caa_container_of(head, struct ms_state, rcu));
}

int ms_reload_set_hooks(struct ms *ms, const struct ms_reload_hooks *hooks)
{
	if (ms->hooks.applied != NULL || ms->hooks.prepare != NULL)
		return LISPMS_ELIMIT;
	ms->hooks = *hooks;
	return LISPMS_EOK;
}

static void status_set(struct ms *ms, bool ok, size_t withdrawn, const char *msg)
{
	ms->reload.last_ok = ok;
	ms->reload.last_ns = ms_realtime_ns();
	ms->reload.last_withdrawn = withdrawn;
	snprintf(ms->reload.last_msg, sizeof(ms->reload.last_msg), "%s", msg);
}

int ms_reload(struct ms *ms, struct conf *new, char *msg, size_t len)
{
	struct ms_state *old = ms->state; /* only this thread writes it */
	struct plan pl = { 0 };
	int ret = conf_diff(old->conf, new, plan_event, &pl);
	struct ms_state *st = ret == LISPMS_EOK ? ms_state_new(ms, new) : NULL;
	if (st == NULL) {
		ret = ret != LISPMS_EOK ? ret : LISPMS_ENOMEM;
		snprintf(msg, len, "reload of %s failed, keeping the running configuration (%s)",
			 conf_source(new), err_str(ret));
		conf_free(new);
		db_walk_cursor_free(&pl.walk);
		status_set(ms, false, 0, msg);
		log_error("%s", msg);
		return ret;
	}
	char why[256] = "";
	if (ms->hooks.prepare != NULL &&
	    (ret = ms->hooks.prepare(ms->hooks.arg, old->conf, new, why, sizeof(why))) !=
		LISPMS_EOK) {
		snprintf(msg, len, "reload of %s refused, keeping the running configuration: %s",
			 conf_source(new), why);
		ms_state_free(st); /* frees new */
		db_walk_cursor_free(&pl.walk);
		status_set(ms, false, 0, msg);
		log_error("%s", msg);
		return ret;
	}
	lrcu_publish(&ms->state, st);
	lrcu_synchronize(); /* from here every worker decides with st */
	if (pl.timeout)
		db_set_timeout(ms->db, conf_server(new)->registration_timeout);
	if (pl.log_level)
		log_set_level(conf_log_level(new));
	ms_reload_refresh(ms, old->conf, new);
	if (ms->hooks.applied)
		ms->hooks.applied(ms->hooks.arg, old->conf, new);

	size_t removed = 0;
	ret = recheck(ms, st, &pl, &removed);
	ms->reload.generation++;
	int w = snprintf(
	    msg, len, "reloaded %s: generation %llu, %u changes, %zu registrations removed",
	    conf_source(new), (unsigned long long)ms->reload.generation, pl.changes, removed);
	if (pl.restart[0] && w >= 0 && (size_t)w < len)
		snprintf(msg + w, len - (size_t)w, "; needs a restart: %s", pl.restart);
	if (ret != LISPMS_EOK) /* the new configuration is in force, the clean-up is not complete */
		log_error("reload, re-checking registrations stopped early (%s)", err_str(ret));
	status_set(ms, true, removed, msg);
	log_notice("%s", msg);
	db_walk_cursor_free(&pl.walk);
	lrcu_call(&old->rcu, state_free_rcu);
	return LISPMS_EOK;
}

int ms_reload_file(struct ms *ms, const char *path, const struct conf_options *opts, char *msg,
		   size_t len)
{
	struct conf *c = NULL;
	struct conf_error ce;
	int ret = conf_load_file(path, opts, &c, &ce);
	if (ret != LISPMS_EOK) {
		snprintf(msg, len, "reload of %s refused, keeping the running configuration: %s",
			 path, ce.count ? ce.msg : err_str(ret));
		status_set(ms, false, 0, msg);
		log_error("%s", msg);
		if (ce.count > 1)
			log_error("reload, all errors:\n%s", ce.all);
		return ret;
	}
	for (size_t i = 0; i < conf_warning_count(c); i++)
		log_warning("reload, %s", conf_warning_at(c, i));
	return ms_reload(ms, c, msg, len);
}

void ms_reload_status_get(struct ms *ms, struct ms_reload_status *out)
{
	*out = ms->reload;
}
