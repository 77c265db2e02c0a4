/* SPDX-License-Identifier: MIT */
/*
 * Map-Request (bare or in an ECM), RFC 9301 §8.3 / docs/protocol.md §2.7:
 *   registered, proxy (P or the site's proxy-reply) -> Map-Reply to the ITR-RLOC
 *   registered, no proxy  -> the ECM forwarded with the E bit to an ETR's RLOC
 *   configured, not registered -> negative Map-Reply, TTL 1 minute, for the
 *       largest prefix around the EID inside the configured one that holds no
 *       registration
 *   unknown -> negative Map-Reply, TTL 15 minutes, for the largest prefix
 *       around the EID that no configured prefix overlaps
 * Only the first record of a request is answered (senders send exactly one).
 * Every answer, and every forward (its ETR answers the ITR-RLOC), is held to
 * server.reply-rate-limit per ITR-RLOC address (D22, rrl.c).
 * A DDT Map-Request (ECM with the D bit, RFC 8111 §7.3: lispms as a DDT
 * Map-Server, a leaf of the tree) also gets a Map-Referral back to the ECM's
 * sender (a Map-Resolver): MS-ACK (TTL 1440, the registered prefix) for a
 * registered EID, then the request is proxy-answered or forwarded as above;
 * MS-NOT-REGISTERED for a configured prefix with no registration (the
 * negative prefix and 1-minute TTL above, and no Map-Reply), both with the
 * I bit (they carry no Map-Server set); NOT-AUTHORITATIVE (TTL 0, I set, the
 * requested EID) outside every configured prefix, unless a `ddt:` delegation
 * table (ddt.c, lispms as a DDT node) answers: NODE-REFERRAL or MS-REFERRAL
 * with the delegation's referral set, DELEGATION-HOLE, or NOT-AUTHORITATIVE.
 * RFC 9437 requests with the I bit (the requester's xTR-ID) and the N bit
 * are subscriptions (ms_pubsub.c, D20): answered with a Map-Notify when the
 * xTR may subscribe, else as a plain request.
 */
#include <string.h>

#include <netinet/in.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/mtime.h>

#include "ms_internal.h"
#include "ms_rrl.h"

#define LISP_CONTROL_PORT 4342

/* Where a Map-Reply goes: the ITR-RLOC of the outer source's family, else the first usable. */
static bool reply_target(const struct dgram *d, const struct lisp_ecm *ecm,
			 const struct lisp_map_request *req, struct sockaddr_storage *dst)
{
	uint16_t port = ecm ? ecm->sport : saddr_port(&d->src);
	struct lisp_addr addr;
	if (!map_request_itr_target(req, d->src.ss_family, &addr)) {
		if (ecm != NULL)
			return false;
		*dst = d->src; /* a bare request with no usable ITR-RLOC: answer its source */
		return true;
	}
	return lisp_addr_to_sockaddr(&addr, port, dst) != 0;
}

static void send_reply(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		       const struct lisp_map_request *req, const struct lisp_record *rec,
		       struct dgram_outbox *out)
{
	struct sockaddr_storage dst;
	if (!reply_target(d, ecm, req, &dst)) {
		counters_inc(LISPMS_M_MS_REQ_NO_ROUTE);
		ms_debug("request, no reply to %s (no usable ITR-RLOC)", MS_SADDR(&d->src));
		return;
	}
	if (!ms_rrl_allow(t, &dst, LISPMS_M_MS_RRL_LIMITED_REPLY))
		return;
	struct lisp_map_reply rep = {
		.nonce = req->nonce,
		.nrecords = 1,
		.records = (struct lisp_record *)rec,
	};
	size_t len;
	if (map_reply_encode(&rep, t->buf, sizeof(t->buf), &len) != LISPMS_EOK) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		return;
	}
	if (ms_emit(out, t->buf, len, &dst, &d->local))
		counters_inc(LISPMS_M_MS_TX_MAP_REPLY);
}

static void negative(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		     const struct lisp_map_request *req, const struct eid_prefix *p, uint32_t ttl,
		     struct dgram_outbox *out)
{
	struct lisp_record rec = {
		.ttl = ttl,
		.act = LISP_ACT_NATIVE_FORWARD,
		.eid_plen = p->plen,
	};
	afi_from_eid(p, &rec.eid);
	send_reply(t, d, ecm, req, &rec, out);
}

static void proxy_reply(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
			const struct lisp_map_request *req, const struct eid_prefix *matched,
			const struct db_mapping *m, struct dgram_outbox *out)
{
	unsigned n = m->locs ? m->locs->count : 0;
	struct lisp_locator *locs = arena_alloc(&t->scratch, sizeof(*locs) * (n ? n : 1));
	if (locs == NULL) {
		counters_inc(LISPMS_M_ARENA_EXHAUSTED);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct db_locator *l = &m->locs->loc[i];
		locs[i] = (struct lisp_locator){
			.priority = l->priority,
			.weight = l->weight,
			.mpriority = l->mpriority,
			.mweight = l->mweight,
			.flags = l->flags & LISP_LOC_R, /* a proxy clears L and p */
		};
		afi_from_addr(&l->addr, &locs[i].addr);
	}
	struct lisp_record rec = {
		.ttl = m->ttl,
		.eid_plen = matched->plen,
		.nlocs = (uint16_t)n,
		.locs = locs,
	};
	afi_from_eid(matched, &rec.eid);
	send_reply(t, d, ecm, req, &rec, out);
}

/* Re-encapsulate the request with the E bit to one registered ETR. */
static void forward(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		    const uint8_t *msg, size_t len, const struct db_locator *best,
		    struct dgram_outbox *out)
{
	struct sockaddr_storage dst;
	if (best == NULL || lisp_addr_to_sockaddr(&best->addr, LISP_CONTROL_PORT, &dst) == 0) {
		counters_inc(LISPMS_M_MS_REQ_NO_ROUTE);
		ms_debug(
		    "request, not forwarded from %s (the ETR has no locator below priority 255)",
		    MS_SADDR(&d->src));
		return;
	}
	struct lisp_ecm f;
	if (ecm != NULL) {
		f = *ecm;
	} else {
		/* a bare request: wrap it as its sender would have */
		memset(&f, 0, sizeof(f));
		f.ip_version = d->src.ss_family == AF_INET6 ? 6 : 4;
		f.ttl = 64;
		lisp_addr_from_sockaddr(&d->src, &f.src);
		lisp_addr_from_sockaddr(&d->local, &f.dst);
		f.sport = saddr_port(&d->src);
		f.dport = LISP_CONTROL_PORT;
	}
	f.flags = (f.flags | LISP_ECM_E) & ~LISP_ECM_D; /* the ETR answers as to any ITR */
	f.inner = msg;
	f.inner_len = len;
	size_t n;
	if (ecm_encode(&f, t->buf, sizeof(t->buf), &n) != LISPMS_EOK) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		return;
	}
	if (ms_emit(out, t->buf, n, &dst, &d->local)) {
		counters_inc(LISPMS_M_MS_TX_ECM);
		counters_inc(LISPMS_M_MS_REQ_FORWARDED);
	}
}

/* Minutes of an MS-ACK (RFC 8111 §6.4.1, the table of actions: 1440 whatever
 * the registration's own TTL, which the Map-Reply carries). */
#define DDT_MS_ACK_TTL 1440u

/* The counter of each referral action sent. */
static const enum metric_id ddt_counter[LISP_REF_ACT_MAX + 1] = {
	[LISP_REF_NODE_REFERRAL] = LISPMS_M_MS_DDT_NODE_REFERRAL,
	[LISP_REF_MS_REFERRAL] = LISPMS_M_MS_DDT_MS_REFERRAL,
	[LISP_REF_MS_ACK] = LISPMS_M_MS_DDT_MS_ACK,
	[LISP_REF_MS_NOT_REGISTERED] = LISPMS_M_MS_DDT_MS_NOT_REGISTERED,
	[LISP_REF_DELEGATION_HOLE] = LISPMS_M_MS_DDT_DELEGATION_HOLE,
	[LISP_REF_NOT_AUTHORITATIVE] = LISPMS_M_MS_DDT_NOT_AUTHORITATIVE,
};

/* A one-record Map-Referral to the DDT Map-Request's sender (a Map-Resolver). */
static void referral(struct ms_thread *t, const struct dgram *d, const struct lisp_map_request *req,
		     const struct ddt_answer *a, enum metric_id counter, struct dgram_outbox *out)
{
	if (!ms_rrl_allow(t, &d->src, LISPMS_M_MS_RRL_LIMITED_REFERRAL))
		return;
	unsigned n = a->deleg ? (unsigned)a->deleg->nreferrals : 0;
	struct lisp_locator *locs = n ? arena_alloc(&t->scratch, n * sizeof(*locs)) : NULL;
	if (n && locs == NULL) {
		counters_inc(LISPMS_M_ARENA_EXHAUSTED);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		locs[i] =
		    (struct lisp_locator){ .priority = 1, .weight = 100, .flags = LISP_LOC_R };
		afi_from_addr(&a->deleg->referrals[i], &locs[i].addr);
	}
	/* RFC 8111 §6.4.1, the I (incomplete) bit: always set on NOT-AUTHORITATIVE;
	 * on a Map-Server's MS-ACK and MS-NOT-REGISTERED it says whether the
	 * referral set lists every Map-Server of the prefix. Ours carry no
	 * referral set (a Map-Server does not know its peers), so I is set:
	 * a Map-Resolver must not cache them as a referral to nobody (the
	 * lispers.net Map-Resolver did, seen in the interop test of issue 21). */
	bool incomplete =
	    a->act == LISP_REF_NOT_AUTHORITATIVE ||
	    ((a->act == LISP_REF_MS_ACK || a->act == LISP_REF_MS_NOT_REGISTERED) && n == 0);
	struct lisp_referral_record rec = {
		.r = { .ttl = a->ttl,
		       .act = a->act,
		       .a = a->authoritative,
		       .reserved = incomplete ? LISP_REF_I : 0,
		       .eid_plen = a->prefix.plen,
		       .nlocs = (uint16_t)n,
		       .locs = locs },
	};
	afi_from_eid(&a->prefix, &rec.r.eid);
	/* ddt.signing-key: one signature section per record (docs/protocol.md D24) */
	const struct referral_key *key = ddt_sign_key(t->st->ddt);
	struct lisp_ref_sig sig;
	uint64_t now_s = ms_realtime_ns() / LISPMS_NS_PER_SEC;
	if (key != NULL) {
		ddt_sig_header(t->st->ddt, a->ttl, now_s, &sig);
		rec.r.rsvd = 1;
		rec.sigs = &sig;
	}
	struct lisp_map_referral m = { .nonce = req->nonce, .nrecords = 1, .records = &rec };
	size_t len;
	bool made = false;
	if (map_referral_encode(&m, t->buf, sizeof(t->buf), &len) != LISPMS_EOK ||
	    (key != NULL &&
	     ddt_sign(t->st->ddt, &t->sigcache, t->buf, len, now_s, &made) != LISPMS_EOK)) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		return;
	}
	if (made)
		counters_inc(LISPMS_M_MS_DDT_SIGNATURES);
	if (ms_emit(out, t->buf, len, &d->src, &d->local)) {
		counters_inc(LISPMS_M_MS_TX_MAP_REFERRAL);
		counters_inc(counter);
		if (key != NULL)
			counters_inc(LISPMS_M_MS_DDT_SIGNED);
	}
}

static const char *answer_text(enum ms_answer a)
{
	switch (a) {
	case MS_ANSWER_PROXY:
		return "proxy reply";
	case MS_ANSWER_FORWARD:
		return "forwarded";
	case MS_ANSWER_NEG_CONFIGURED:
		return "negative (configured, not registered)";
	case MS_ANSWER_NEG_UNKNOWN:
		return "negative (no site)";
	}
	return "?";
}

/*
 * Look the requests' EIDs up one after the other before any is answered:
 * with nothing else between them the lookups are independent and their
 * cache misses (host-index slot, entry, mapping) overlap in the core's
 * out-of-order window, where between the answers of a request storm over a
 * large table they are one chain of misses after the other. The same
 * instructions as looking up at answer time. Only in a batch without
 * Map-Registers, where nothing this worker does before a request's answer
 * changes its lookup.
 */
static void request_lookup(struct ms_thread *t, struct ms_req_pre *pre, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct ms_req_pre *p = &pre[i];
		if (!p->done)
			continue;
		p->looked = true;
		p->map = db_lookup(t->ms->db, &p->eid, &p->matched);
	}
}

/* Decode one Map-Request of the batch into p; false: leave it to ms_request(). */
static bool request_pre(struct ms_thread *t, const struct dgram *d, int type, struct ms_req_pre *p)
{
	const uint8_t *msg = d->data;
	size_t len = d->len;
	p->ecm.inner = NULL;
	p->looked = false;
	if (type == LISP_MSG_ECM) {
		if (ecm_decode(msg, len, &p->ecm) != LISPMS_EOK ||
		    msg_type(p->ecm.inner, p->ecm.inner_len) != LISP_MSG_MAP_REQUEST)
			return false;
		msg = p->ecm.inner;
		len = p->ecm.inner_len;
	}
	struct arena *a = &t->scratch;
	size_t mark = arena_mark(a);
	if (map_request_decode(msg, len, a, &p->req) != LISPMS_EOK ||
	    afi_to_eid(&p->req.records[0].eid, p->req.records[0].eid_plen, &p->eid) != LISPMS_EOK) {
		arena_rewind(a, mark); /* the one-message path reports it */
		return false;
	}
	return true;
}

static bool is_request(int type)
{
	return type == LISP_MSG_MAP_REQUEST || type == LISP_MSG_ECM;
}

struct ms_req_pre *ms_request_stage(struct ms_thread *t, const struct dgram *rx, unsigned n)
{
	/* a batch without requests (a registration storm) costs one type read
	 * per datagram, no arena */
	unsigned first = 0, nreg = 0;
	for (; first < n; first++) {
		int type = msg_type(rx[first].data, rx[first].len);
		if (is_request(type))
			break;
		nreg += type == LISP_MSG_MAP_REGISTER;
	}
	if (first == n)
		return NULL;
	struct arena *a = &t->scratch;
	struct ms_req_pre *pre = arena_alloc(a, sizeof(*pre) * n);
	if (pre == NULL)
		return NULL;
	unsigned nreq = 0;
	for (unsigned i = 0; i < n; i++) {
		pre[i].done = false;
		if (i < first)
			continue;
		int type = msg_type(rx[i].data, rx[i].len);
		nreg += type == LISP_MSG_MAP_REGISTER;
		if (!is_request(type))
			continue;
		nreq++;
		/* the decodes stay in the arena for the batch: at most half of it */
		pre[i].done = a->used <= a->size / 2 && request_pre(t, &rx[i], type, &pre[i]);
	}
	if (nreq > 1 && nreg == 0)
		request_lookup(t, pre, n);
	return pre;
}

static void answer(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		   const uint8_t *msg, size_t len, const struct lisp_map_request *req,
		   const struct eid_prefix *eid, const struct ms_req_pre *pre,
		   struct dgram_outbox *out);

void ms_request(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		const uint8_t *msg, size_t len, const struct ms_req_pre *pre,
		struct dgram_outbox *out)
{
	if (pre != NULL) {
		answer(t, d, ecm, msg, len, &pre->req, &pre->eid, pre, out);
		return;
	}
	struct lisp_map_request req;
	int ret = map_request_decode(msg, len, &t->scratch, &req);
	if (ret != LISPMS_EOK) {
		ms_count_malformed(ret);
		ms_debug("request, dropped from %s (%s)", MS_SADDR(&d->src), err_str(ret));
		return;
	}
	struct eid_prefix eid;
	ret = afi_to_eid(&req.records[0].eid, req.records[0].eid_plen, &eid);
	if (ret != LISPMS_EOK) {
		ms_count_malformed(ret);
		ms_debug("request, dropped from %s (EID: %s)", MS_SADDR(&d->src), err_str(ret));
		return;
	}
	answer(t, d, ecm, msg, len, &req, &eid, NULL, out);
}

static void answer(struct ms_thread *t, const struct dgram *d, const struct lisp_ecm *ecm,
		   const uint8_t *msg, size_t len, const struct lisp_map_request *req,
		   const struct eid_prefix *eid, const struct ms_req_pre *pre,
		   struct dgram_outbox *out)
{
	if (req->flags & LISP_MREQ_I)
		counters_inc(LISPMS_M_MS_REQ_XTR_ID);
	if (req->records[0].reserved & LISP_MREQ_REC_N) {
		counters_inc(LISPMS_M_MS_REQ_SUBSCRIBE);
		/* RFC 9437: with the xTR-ID, a subscription (ms_pubsub.c) */
		struct sockaddr_storage itr;
		bool have_itr = reply_target(d, ecm, req, &itr);
		if ((req->flags & LISP_MREQ_I) &&
		    ms_pubsub_request(t, req, eid, have_itr ? &itr : NULL)) {
			t->batch_reqs++; /* timed per batch: ms_handle_batch() */
			return;
		}
	}
	struct ms_decision dec;
	if (pre != NULL && pre->looked)
		ms_decide_found(t->st, t->ms->db, eid, pre->map, &pre->matched, &dec);
	else
		ms_decide(t->st, t->ms->db, eid, &dec);
	if (ecm != NULL && (ecm->flags & LISP_ECM_D)) {
		counters_inc(LISPMS_M_MS_DDT_REQUEST);
		ms_debug("request, DDT from %s for %s", MS_SADDR(&d->src), MS_EID(eid));
		switch (dec.kind) {
		case MS_ANSWER_PROXY:
		case MS_ANSWER_FORWARD:
			referral(t, d, req,
				 &(struct ddt_answer){ .act = LISP_REF_MS_ACK,
						       .authoritative = true,
						       .prefix = dec.prefix,
						       .ttl = DDT_MS_ACK_TTL },
				 LISPMS_M_MS_DDT_MS_ACK, out);
			break; /* and answered as any request below */
		case MS_ANSWER_NEG_CONFIGURED:
			referral(t, d, req,
				 &(struct ddt_answer){ .act = LISP_REF_MS_NOT_REGISTERED,
						       .authoritative = true,
						       .prefix = dec.prefix,
						       .ttl = dec.ttl },
				 LISPMS_M_MS_DDT_MS_NOT_REGISTERED, out);
			t->batch_reqs++;
			return;
		case MS_ANSWER_NEG_UNKNOWN: {
			/* outside the sites: the DDT node's delegation table, if any */
			struct ddt_answer a;
			ddt_decide(t->st->ddt, eid, &a);
			referral(t, d, req, &a, ddt_counter[a.act], out);
			t->batch_reqs++;
			return;
		}
		}
	}
	ms_debug("request, %s for %s from %s (%s %s)", answer_text(dec.kind), MS_EID(eid),
		 MS_SADDR(&d->src), dec.kind <= MS_ANSWER_FORWARD ? "registered" : "hole",
		 MS_EID(&dec.prefix));
	switch (dec.kind) {
	case MS_ANSWER_PROXY:
		counters_inc(LISPMS_M_MS_REQ_PROXY);
		proxy_reply(t, d, ecm, req, &dec.prefix, dec.map, out);
		break;
	case MS_ANSWER_FORWARD: {
		/* the ETR answers the ITR-RLOC: that answer is ours to limit too */
		struct sockaddr_storage itr;
		if (!reply_target(d, ecm, req, &itr) ||
		    ms_rrl_allow(t, &itr, LISPMS_M_MS_RRL_LIMITED_FORWARD))
			forward(t, d, ecm, msg, len, dec.rloc, out);
		break;
	}
	case MS_ANSWER_NEG_CONFIGURED:
		counters_inc(LISPMS_M_MS_REQ_NEG_CONFIGURED);
		negative(t, d, ecm, req, &dec.prefix, dec.ttl, out);
		break;
	case MS_ANSWER_NEG_UNKNOWN:
		counters_inc(LISPMS_M_MS_REQ_NEG_UNKNOWN);
		negative(t, d, ecm, req, &dec.prefix, dec.ttl, out);
		break;
	}
	t->batch_reqs++; /* timed per batch: ms_handle_batch() */
}
