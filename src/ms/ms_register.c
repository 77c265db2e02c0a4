/* SPDX-License-Identifier: MIT */
/*
 * Map-Register. Which site a register belongs to is decided from its key
 * and its records together, never from one record's position:
 *
 *   1. The candidate sites are the sites whose configured prefixes cover
 *      the records (the most specific configured prefix of each record's
 *      EID), in record order, at most MS_REG_MAX_SITES of them.
 *   2. The register belongs to the first candidate with a key of the
 *      register's Key ID and algorithm whose HMAC verifies. Only sites
 *      that share that very secret can both verify; they are told apart by
 *      the first record inside one of them.
 *   3. No candidate at all: every record is refused as no_site. Candidates
 *      but none verifies: the whole register is refused and gets no reply:
 *      bad_hmac, counted on the first candidate with that Key ID and
 *      algorithm, or unknown_key, counted on the first candidate, when none
 *      has them (an algorithm mismatch is an unknown key).
 *   4. Each record is then checked against that site alone and refused by
 *      itself when it does not belong: no_site (no site configures it),
 *      prefix_not_allowed (another site's, or a more-specific the site does
 *      not accept), locator_not_allowed (outside allowed-rlocs), malformed.
 *      The other records are stored.
 *
 * A Map-Notify acknowledges the accepted records when M or r is set (D4),
 * signed with the key that verified the register, and an r=1 register
 * admits its source address for a reliable session (D5). Each stored
 * registration remembers that Key ID and algorithm: unsolicited messages
 * to its ETR are signed with them (D21, ms_notify.c).
 */
#include <string.h>

#include <netinet/in.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/mtime.h>

#include "ms_internal.h"

static void log_reject(const struct sockaddr_storage *from, const char *what,
		       const struct eid_prefix *p)
{
	static struct log_limit lim = LOG_LIMIT_INIT(5);
	char src[64], eid[LISPMS_EID_STRLEN] = "-";
	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	saddr_format(from, src, sizeof(src));
	if (p != NULL)
		eid_prefix_format(p, eid, sizeof(eid));
	log_sampled(&lim, LOG_LEVEL_INFO, "register, rejected %s from %s (%s)", eid, src, what);
}

/* Check one record and fill the registration; MS_V_ACCEPT when it may be stored. */
static enum ms_verdict check_record(struct ms_thread *t, const struct ms_site *site,
				    const struct lisp_record *rec, const struct eid_prefix *known,
				    struct eid_prefix *eid, struct db_locator *locs)
{
	if (known != NULL) /* the site choice read it already */
		*eid = *known;
	else if (record_eid(rec, eid) != LISPMS_EOK)
		return MS_V_MALFORMED;
	if (!ms_prefix_allowed(t->st, site, eid))
		return site_index_lookup(t->st->sites, eid) == NULL ? MS_V_NOSITE : MS_V_PREFIX;
	if (rec->nlocs > LISPMS_DB_MAX_LOCATORS)
		return MS_V_MALFORMED;
	for (unsigned i = 0; i < rec->nlocs; i++) {
		const struct lisp_locator *l = &rec->locs[i];
		struct db_locator *dl = &locs[i];
		if (afi_to_addr(&l->addr, &dl->addr) != LISPMS_EOK ||
		    (dl->addr.afi != LISP_AFI_IPV4 && dl->addr.afi != LISP_AFI_IPV6))
			return MS_V_LOCATOR; /* only IPv4/IPv6 locators are stored */
		if (!ms_rloc_allowed(site->conf, &dl->addr))
			return MS_V_LOCATOR;
		dl->priority = l->priority;
		dl->weight = l->weight;
		dl->mpriority = l->mpriority;
		dl->mweight = l->mweight;
		dl->flags = l->flags & (DB_LOC_L | DB_LOC_P | DB_LOC_R);
	}
	return MS_V_ACCEPT;
}

static void count_reject(enum ms_verdict r)
{
	static const enum metric_id ids[] = {
		[MS_V_PREFIX] = LISPMS_M_MS_REJ_PREFIX,
		[MS_V_LOCATOR] = LISPMS_M_MS_REJ_LOCATOR,
		[MS_V_MALFORMED] = LISPMS_M_MS_REJ_MALFORMED,
		[MS_V_INTERNAL] = LISPMS_M_MS_REJ_INTERNAL,
		[MS_V_NOSITE] = LISPMS_M_MS_REJ_NO_SITE,
	};
	counters_inc(ids[r]);
}

/* Acknowledge the accepted records with an authenticated Map-Notify (D4, D12). */
static void send_ack(struct ms_thread *t, const struct dgram *d,
		     const struct lisp_map_register *reg, const struct lisp_record *recs,
		     unsigned nrecs, const struct auth_key *key, bool offer_session,
		     struct dgram_outbox *out)
{
	struct lisp_map_notify n = {
		.type = LISP_MSG_MAP_NOTIFY,
		.flags = offer_session ? LISP_MNOT_r : 0,
		.nonce = reg->nonce,
		.auth = { .key_id = key->key_id,
			  .alg_id = key->alg_id,
			  .len = (uint16_t)auth_alg_len(key->alg_id) },
		.nrecords = (uint16_t)nrecs,
		.records = (struct lisp_record *)recs,
	};
	size_t len;
	int ret;
	if (nrecs == reg->nrecords) { /* every record accepted: copied as they came */
		size_t at = LISPMS_AUTH_OFFSET + reg->auth.len;
		ret = map_notify_encode_wire(&n, d->data + at, reg->auth.rfc_end - at, t->buf,
					     sizeof(t->buf), &len);
	} else {
		ret = map_notify_encode(&n, t->buf, sizeof(t->buf), &len);
	}
	if (ret != LISPMS_EOK) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		return;
	}
	/* signed now, or with the batch's other Map-Notifies (ms_auth.c) */
	if (ms_sign_add(t, out, key, t->buf, len, &d->src, &d->local))
		counters_inc(LISPMS_M_MS_TX_MAP_NOTIFY);
}

/* ---- operations: per-site counters and recent rejections (lispmsctl site show) ---- */

static const enum site_metric_id site_reject_id[] = {
	[MS_V_PREFIX] = LISPMS_S_REJ_PREFIX,	   [MS_V_LOCATOR] = LISPMS_S_REJ_LOCATOR,
	[MS_V_MALFORMED] = LISPMS_S_REJ_MALFORMED, [MS_V_INTERNAL] = LISPMS_S_REJ_INTERNAL,
	[MS_V_NOSITE] = LISPMS_S_REJ_NO_SITE,
};

/* Count n refused records of site and keep the last one in its ring. */
static void site_reject(const struct ms_site *site, enum site_metric_id why, unsigned n,
			const struct sockaddr_storage *src, const struct eid_prefix *eid,
			const struct lisp_record *rec, const struct lisp_auth *auth)
{
	counters_site_add(site->id->num, why, n);
	struct ms_rejection e = { .time_ns = ms_realtime_ns(),
				  .reason = why,
				  .key_id = auth->key_id,
				  .alg_id = auth->alg_id,
				  .src = *src };
	if (eid != NULL) {
		e.has_eid = true;
		e.eid = *eid;
	}
	for (unsigned i = 0; why == LISPMS_S_REJ_LOCATOR && rec != NULL && i < rec->nlocs; i++) {
		struct lisp_addr a;
		if (afi_to_addr(&rec->locs[i].addr, &a) != LISPMS_EOK ||
		    (a.afi != LISP_AFI_IPV4 && a.afi != LISP_AFI_IPV6) ||
		    !ms_rloc_allowed(site->conf, &a)) {
			e.rloc = a.afi == LISP_AFI_IPV4 || a.afi == LISP_AFI_IPV6
				     ? a
				     : (struct lisp_addr){ .afi = LISP_AFI_NONE };
			break;
		}
	}
	ms_reject_note(&site->id->rejects, &e);
}

/*
 * Records handed to db_register_batch() at once: the db brings their index
 * slots and trie paths into cache together, so the misses of a message's
 * new EIDs overlap instead of queueing (src/db/README.md).
 */
#define MS_REG_CHUNK LISPMS_TRIE_BATCH

/*
 * Candidate sites tried per register (each costs at most one HMAC); the
 * records of further sites are checked against the chosen one like any
 * other site's (prefix_not_allowed). An ETR registering for several sites
 * at once is rare, and a forged register must not buy many HMACs.
 */
#define MS_REG_MAX_SITES 4

/* What every record of one authenticated register is checked, stored and reported with. */
struct reg_ctx {
	struct ms_thread *t;
	const struct ms_site *site;
	struct db_owner owner;
	uint16_t flags; /* DB_F_* */
	struct db_sink sink;
	const struct sockaddr_storage *src;
	const struct lisp_auth *auth;
	ms_record_fn *fn; /* told each record's verdict, in order */
	void *arg;
	struct ms_reg_out *res;
	const struct lisp_record *rec0; /* the first record, whose EID is eid0 */
	const struct eid_prefix *eid0;	/* NULL: not known */
};

/* Up to MS_REG_CHUNK records on their way to db_register_batch() and back. */
struct reg_chunk {
	struct eid_prefix eid[MS_REG_CHUNK];
	enum ms_verdict why[MS_REG_CHUNK];
	unsigned slot[MS_REG_CHUNK]; /* an accepted record's place in the batch */
	struct db_reg_info info[MS_REG_CHUNK];
	const struct eid_prefix *ps[MS_REG_CHUNK];
	const struct db_reg_info *rs[MS_REG_CHUNK];
	int out[MS_REG_CHUNK];
	unsigned nb; /* records in the batch */
};

/* Check record i and, when it may be stored, add it to the chunk's batch. */
static void chunk_add(const struct reg_ctx *c, struct reg_chunk *ch, unsigned i,
		      const struct lisp_record *rec)
{
	struct ms_thread *t = c->t;
	/* room for the locators check_record() may write (none past the limit) */
	unsigned room = rec->nlocs <= LISPMS_DB_MAX_LOCATORS ? rec->nlocs : 0;
	struct db_locator *locs = arena_alloc(&t->scratch, sizeof(*locs) * (room > 0 ? room : 1));
	if (locs == NULL) {
		counters_inc(LISPMS_M_ARENA_EXHAUSTED);
		ch->why[i] =
		    record_eid(rec, &ch->eid[i]) == LISPMS_EOK ? MS_V_INTERNAL : MS_V_MALFORMED;
		return;
	}
	ch->why[i] =
	    check_record(t, c->site, rec, rec == c->rec0 ? c->eid0 : NULL, &ch->eid[i], locs);
	if (ch->why[i] != MS_V_ACCEPT)
		return;
	ch->info[ch->nb] = (struct db_reg_info){
		.owner = c->owner,
		.locs = locs,
		.nlocs = rec->nlocs,
		.ttl = rec->ttl,
		.flags = c->flags,
		.key_id = c->auth->key_id,
		.alg_id = c->auth->alg_id,
		.site = c->site->id,
	};
	ch->ps[ch->nb] = &ch->eid[i];
	ch->rs[ch->nb] = &ch->info[ch->nb];
	ch->slot[i] = ch->nb++;
}

/* Count what the db did with an accepted record; MS_V_INTERNAL when it failed. */
static enum ms_verdict record_stored(const struct reg_ctx *c, const struct eid_prefix *eid,
				     const struct lisp_record *rec, int ret)
{
	const struct ms_site *site = c->site;
	if (ret == DB_REFRESHED) {
		counters_inc(LISPMS_M_MS_REG_REFRESHED);
		counters_site_inc(site->id->num, LISPMS_S_REG_REFRESHED);
		ms_debug("register, refreshed %s from %s (site %s, identical)", MS_EID(eid),
			 MS_SADDR(c->src), site->conf->name);
	} else if (ret == DB_STORED) {
		counters_inc(LISPMS_M_MS_REG_ACCEPTED);
		counters_site_inc(site->id->num, LISPMS_S_REG_ACCEPTED);
		ms_debug("register, accepted %s from %s (site %s, key %u alg %u, "
			 "%u locators, ttl %u)",
			 MS_EID(eid), MS_SADDR(c->src), site->conf->name, c->auth->key_id,
			 c->auth->alg_id, rec->nlocs, rec->ttl);
	} else if (ret == DB_WITHDRAWN || ret == LISPMS_ENOENT) {
		counters_inc(LISPMS_M_MS_REG_WITHDRAWN);
		counters_site_inc(site->id->num, LISPMS_S_REG_WITHDRAWN);
		ms_debug("register, withdrew %s from %s (record ttl 0%s)", MS_EID(eid),
			 MS_SADDR(c->src), ret == LISPMS_ENOENT ? ", nothing registered" : "");
	} else {
		return MS_V_INTERNAL;
	}
	return MS_V_ACCEPT;
}

/* Count, log and keep (site show) a refused record. */
static void record_refused(const struct reg_ctx *c, enum ms_verdict why,
			   const struct eid_prefix *eid, const struct lisp_record *rec)
{
	count_reject(why);
	log_reject(c->src,
		   why == MS_V_LOCATOR	? "locator not allowed"
		   : why == MS_V_PREFIX ? "prefix not allowed"
		   : why == MS_V_NOSITE ? "no site has this prefix"
					: "bad record",
		   why == MS_V_MALFORMED ? NULL : eid);
	site_reject(c->site, site_reject_id[why], 1, c->src, why == MS_V_MALFORMED ? NULL : eid,
		    rec, c->auth);
}

/* Check, store and report k records of one authenticated register, in order. */
static void register_chunk(const struct reg_ctx *c, const struct lisp_record *recs, unsigned k)
{
	struct ms_thread *t = c->t;
	struct reg_chunk ch;
	ch.nb = 0;
	size_t mark = arena_mark(&t->scratch);
	for (unsigned i = 0; i < k; i++)
		chunk_add(c, &ch, i, &recs[i]);
	if (ch.nb > 0)
		db_register_batch(t->ms->db, ch.ps, ch.rs, ch.nb, t->now, &c->sink, ch.out);
	for (unsigned i = 0; i < k; i++) {
		const struct lisp_record *rec = &recs[i];
		if (ch.why[i] == MS_V_ACCEPT)
			ch.why[i] = record_stored(c, &ch.eid[i], rec, ch.out[ch.slot[i]]);
		if (ch.why[i] != MS_V_ACCEPT)
			record_refused(c, ch.why[i], &ch.eid[i], rec);
		else
			c->res->naccepted++;
		c->fn(c->arg, rec, ch.why[i]);
	}
	arena_rewind(&t->scratch, mark);
}

const struct site_pfx *ms_register_site(const struct ms_thread *t,
					const struct lisp_map_register *reg,
					struct eid_prefix *first)
{
	if (reg->nrecords > 0 && record_eid(&reg->records[0], first) == LISPMS_EOK)
		return site_index_lookup(t->st->sites, first);
	return NULL;
}

/*
 * The site a register belongs to (the rule at the top of this file): its
 * site and LISPMS_EOK; LISPMS_ENOSITE when no record lies in a site;
 * LISPMS_ENOKEY (*site the first candidate) or LISPMS_EAUTH (*site the
 * first candidate with the key) when none verifies. *first gets the first
 * record's EID inside the returned site (or the first record's, for
 * LISPMS_ENOSITE). The first record's site is tried first, with the batch
 * stage's verdict when there is one (pre): the common register costs one
 * site lookup and one HMAC; the other records' sites are looked up only
 * when that one does not verify.
 */
static int pick_site(struct ms_thread *t, const uint8_t *msg, size_t len,
		     const struct lisp_map_register *reg, const struct ms_reg_pre *pre,
		     const struct ms_site **site, struct eid_prefix *first, bool *first_rec0)
{
	*first_rec0 = false;
	struct eid_prefix p0;
	const struct site_pfx *sp0 = pre != NULL ? pre->sp : ms_register_site(t, reg, &p0);
	int v0 = LISPMS_ENOKEY;
	if (pre != NULL)
		p0 = pre->first;
	if (sp0 != NULL) {
		v0 = pre != NULL ? pre->verified
				 : auth_verify(t->auth, sp0->site->keys, sp0->site->nkeys, msg, len,
					       &reg->auth);
		if (v0 == LISPMS_EOK) {
			*site = sp0->site;
			*first = p0;
			*first_rec0 = true; /* sp0 is the first record's site */
			return LISPMS_EOK;
		}
	}
	const struct ms_site *cand[MS_REG_MAX_SITES];
	struct eid_prefix cand_eid[MS_REG_MAX_SITES];
	unsigned n = 0;
	bool any_eid = false;
	for (unsigned i = 0; i < reg->nrecords && n < MS_REG_MAX_SITES; i++) {
		struct eid_prefix p;
		if (record_eid(&reg->records[i], &p) != LISPMS_EOK)
			continue;
		if (!any_eid) {
			*first = p;
			any_eid = true;
		}
		const struct site_pfx *sp = i == 0 ? sp0 : site_index_lookup(t->st->sites, &p);
		if (sp == NULL)
			continue;
		bool seen = false;
		for (unsigned k = 0; k < n && !seen; k++)
			seen = cand[k] == sp->site;
		if (!seen) {
			cand_eid[n] = p;
			cand[n++] = sp->site;
		}
	}
	if (n == 0)
		return LISPMS_ENOSITE;
	int ret = LISPMS_ENOKEY;
	unsigned blamed = 0; /* the first candidate with the key, else the first one */
	for (unsigned k = 0; k < n; k++) {
		const struct ms_site *s = cand[k];
		if (ms_site_key(s, reg->auth.key_id, reg->auth.alg_id) == NULL)
			continue;
		/* the first record's site was tried above */
		int v = sp0 != NULL && s == sp0->site
			    ? v0
			    : auth_verify(t->auth, s->keys, s->nkeys, msg, len, &reg->auth);
		if (v == LISPMS_EOK) {
			*site = s;
			*first = cand_eid[k];
			ms_debug("register, site %s chosen by its key %u (first record's "
				 "site %s did not verify)",
				 s->conf->name, reg->auth.key_id, cand[0]->conf->name);
			return LISPMS_EOK;
		}
		if (ret != LISPMS_EAUTH)
			blamed = k;
		ret = LISPMS_EAUTH;
	}
	*site = cand[blamed];
	*first = cand_eid[blamed];
	return ret;
}

int ms_register_process(struct ms_thread *t, const uint8_t *msg, size_t len,
			const struct sockaddr_storage *src, uint64_t session, ms_record_fn *fn,
			void *arg, struct ms_reg_out *res)
{
	return ms_register_process_pre(t, msg, len, src, session, fn, arg, res, NULL);
}

int ms_register_process_pre(struct ms_thread *t, const uint8_t *msg, size_t len,
			    const struct sockaddr_storage *src, uint64_t session, ms_record_fn *fn,
			    void *arg, struct ms_reg_out *res, const struct ms_reg_pre *pre)
{
	struct lisp_map_register *reg = &res->reg;
	int ret;
	if (pre != NULL) { /* decoded and verified by the batch stage */
		ret = pre->decoded;
		*reg = pre->reg;
	} else {
		ret = map_register_decode(msg, len, &t->scratch, reg);
	}
	if (ret != LISPMS_EOK) {
		ms_count_malformed(ret);
		counters_inc(LISPMS_M_MS_REJ_MALFORMED);
		log_reject(src, err_str(ret), NULL);
		return ret;
	}
	struct eid_prefix first = { .afi = LISP_AFI_NONE }; /* when no record decodes */
	const struct ms_site *site = NULL;
	bool first_rec0;
	int why = pick_site(t, msg, len, reg, pre, &site, &first, &first_rec0);
	if (why == LISPMS_ENOSITE) {
		counters_add(LISPMS_M_MS_REJ_NO_SITE, reg->nrecords ? reg->nrecords : 1);
		log_reject(src, "no site has this prefix", reg->nrecords ? &first : NULL);
		for (unsigned i = 0; i < reg->nrecords; i++)
			fn(arg, &reg->records[i], MS_V_NOSITE);
		return LISPMS_ENOSITE;
	}
	if (why != LISPMS_EOK) {
		/* site: the first candidate, first: its first record */
		counters_add(why == LISPMS_ENOKEY ? LISPMS_M_MS_REJ_UNKNOWN_KEY
						  : LISPMS_M_MS_REJ_BAD_HMAC,
			     reg->nrecords);
		log_reject(src, why == LISPMS_ENOKEY ? "unknown key id" : "bad authentication",
			   &first);
		site_reject(site,
			    why == LISPMS_ENOKEY ? LISPMS_S_REJ_UNKNOWN_KEY : LISPMS_S_REJ_BAD_HMAC,
			    reg->nrecords, src, &first, NULL, &reg->auth);
		for (unsigned i = 0; i < reg->nrecords; i++)
			fn(arg, &reg->records[i], MS_V_AUTH);
		return why == LISPMS_ENOKEY ? why : LISPMS_EAUTH;
	}
	res->site = site;
	res->key = ms_site_key(site, reg->auth.key_id, reg->auth.alg_id);
	if (reg->flags & LISP_MREG_E)
		counters_inc(LISPMS_M_MS_REG_EID_NOTIFY);

	/*
	 * Field by field: a designated initializer zeroes the whole struct
	 * first (a rep stos, slow to start), once per register.
	 */
	struct reg_ctx c;
	c.t = t;
	c.site = site;
	memset(&c.owner, 0, sizeof(c.owner));
	c.owner.port = saddr_port(src);
	c.owner.session = session;
	c.flags = 0;
	c.sink = (struct db_sink){ db_event_list_add, &t->events };
	c.src = src;
	c.auth = &reg->auth;
	c.fn = fn;
	c.arg = arg;
	c.res = res;
	c.rec0 = reg->records;
	c.eid0 = first_rec0 ? &first : NULL;
	lisp_addr_from_sockaddr(src, &c.owner.rloc);
	if (reg->flags & LISP_MREG_I) {
		memcpy(c.owner.xtr_id, reg->xtr_id, sizeof(c.owner.xtr_id));
		c.owner.has_xtr_id = true;
	}
	if (reg->flags & LISP_MREG_P)
		c.flags |= DB_F_PROXY;
	if (reg->flags & LISP_MREG_T)
		c.flags |= DB_F_TTL;
	if ((reg->flags & LISP_MREG_a) && (reg->flags & LISP_MREG_I) && site->conf->merge)
		c.flags |= DB_F_MERGE;

	for (unsigned base = 0; base < reg->nrecords; base += MS_REG_CHUNK) {
		unsigned k =
		    reg->nrecords - base < MS_REG_CHUNK ? reg->nrecords - base : MS_REG_CHUNK;
		register_chunk(&c, &reg->records[base], k);
	}
	if (t->events.count > 0) {
		ms_notify_events(t); /* mobility and merge Map-Notifies */
		ms_pubsub_defer(t);  /* published at the tick, with the round's others */
		db_event_list_clear(&t->events);
	}
	return LISPMS_EOK;
}

struct udp_acks {
	struct lisp_record *recs;
	unsigned n;
};

static void collect_accepted(void *arg, const struct lisp_record *rec, enum ms_verdict v)
{
	struct udp_acks *a = arg;
	if (v == MS_V_ACCEPT && a->recs != NULL)
		a->recs[a->n++] = *rec;
}

void ms_register(struct ms_thread *t, const struct dgram *d, const struct ms_reg_pre *pre,
		 struct dgram_outbox *out)
{
	t->batch_regs++; /* timed per batch: ms_handle_batch() */
	struct udp_acks acks = { 0 };
	/* room for every record of the largest register before decoding it */
	acks.recs = arena_alloc(&t->scratch, sizeof(*acks.recs) * LISPMS_MAX_RECORDS);
	/* res.reg is written by ms_register_process_pre() (it is read only after it) */
	struct ms_reg_out res;
	res.site = NULL;
	res.key = NULL;
	res.naccepted = 0;
	/* an ETR on a session keeps its registrations bound to it (no duplicate state) */
	uint64_t session = admit_session(t->ms->admit, &d->src);
	int ret = ms_register_process_pre(t, d->data, d->len, &d->src, session, collect_accepted,
					  &acks, &res, pre);
	if (ret != LISPMS_EOK || acks.n == 0 || res.key == NULL)
		goto out;
	const struct conf_server *srv = conf_server(t->st->conf);
	bool offer_session = false;
	if ((res.reg.flags & LISP_MREG_r) && srv->reliable_transport &&
	    res.site->conf->reliable_transport) {
		uint64_t until =
		    t->now + (uint64_t)res.site->conf->registration_timeout * LISPMS_NS_PER_SEC;
		if (admit_grant(t->ms->admit, &d->src, until) == LISPMS_EOK) {
			counters_inc(LISPMS_M_MS_ADMIT_GRANTED);
			offer_session = true;
			ms_debug("register, %s may open a session (authenticated r=1, site %s)",
				 MS_SADDR(&d->src), res.site->conf->name);
		}
	}
	if (res.reg.flags & (LISP_MREG_M | LISP_MREG_r))
		send_ack(t, d, &res.reg, acks.recs, acks.n, res.key, offer_session, out);
out:;
}
