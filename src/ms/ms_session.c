/* SPDX-License-Identifier: MIT */
/*
 * Reliable-transport sessions (docs/protocol.md D1-D8, D10, D14), transport-free:
 * the worker that accepted the TCP connection feeds its bytes in and the
 * session writes framed messages out through the transport's io callbacks.
 *
 *   open: only a peer holding an authenticated r=1 grant (D5); the grant is
 *         claimed by this session; Registration Refresh scope 0 goes out (D6)
 *   17 Registration: one authenticated Map-Register (D2); every record gets
 *         a Registration ACK or a Registration Reject with its reason; the
 *         accepted ones are bound to the session (no expiry while up, D7);
 *         record TTL 0 withdraws (D8)
 *   16 from the ETR: counted; 18-21 from the ETR: Error Notification 4
 *   unknown type: Error Notification 1; malformed: Error Notification 2;
 *   broken framing (bad end marker, bad length): Error Notification 3 / 2
 *         and the session closes
 *   stalled: a message left incomplete longer than server.session-read-timeout
 *         gets Error Notification 6 and the session closes (a session loss);
 *         a session with nothing partial is never closed for being idle
 *   closed: the registrations fall back to the UDP timers from now (D7) and
 *         the grant ends (D5)
 * Mapping Notifications for a session come through its worker's queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lispms/counters.h>
#include <lispms/log.h>
#include <lispms/mtime.h>
#include <lispms/proto_rt.h>

#include "ms_internal.h"

#define SESS_BUCKETS 4096

/* A stream-session counter of session s, labelled with its transport. */
#define SESS_M(s, id) counters_sess_id(LISPMS_M_##id, (s)->conn->transport)

struct ms_session {
	struct ms_session *hnext;
	struct ms_session *onext, *oprev; /* the worker's sessions in id order */
	uint64_t id;
	struct sockaddr_storage peer;
	struct stream_conn *conn; /* its transport's; conn->transport labels it */
	struct rt_stream rx;
	uint8_t *rxbuf;			  /* held only while a message is partial */
	uint64_t partial_since;		  /* when the pending partial message began */
	struct ms_session *snext, *sprev; /* the worker's stall list, oldest first */
	bool stall_listed;
	uint32_t next_id;
	uint64_t opened_ns;
	uint64_t acked, rejected;
	uint64_t nrx, ntx; /* messages */
	bool failed;	   /* a write failed or it was dropped: the transport closes it */
};

/*
 * An operator's question to workers (list or drop), shared by the control
 * thread that waits and the workers that answer: whoever lets go of it
 * last frees it, so a control thread that gave up waiting leaves nothing
 * for a late worker to write into.
 */
enum sess_req_kind { SESS_REQ_LIST, SESS_REQ_DROP };

struct sess_req {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic unsigned refs;
	unsigned pending; /* workers yet to answer (under lock) */
	enum sess_req_kind kind;
	/* list */
	uint64_t after;
	size_t max, n;
	struct ms_session_info *out;
	/* drop */
	struct sockaddr_storage peer;
	bool any_port;
	size_t dropped;
};

/* A Mapping Notification (or any framed bytes) for a session of this worker,
 * or an operator's request (req != NULL). */
struct sess_job {
	struct cds_wfcq_node qnode;
	struct sess_req *req;
	uint64_t session; /* 0: to every session of the worker */
	size_t len;
	uint8_t msg[];
};

/* The sent-messages counter of a reliable-transport type. */
static enum metric_id tx_counter(uint16_t type)
{
	switch (type) {
	case RT_TYPE_REGISTRATION_ACK:
		return LISPMS_M_MS_SESS_TX_ACK;
	case RT_TYPE_REGISTRATION_REJECT:
		return LISPMS_M_MS_SESS_TX_REJECT;
	case RT_TYPE_REGISTRATION_REFRESH:
		return LISPMS_M_MS_SESS_TX_REFRESH;
	case RT_TYPE_MAPPING_NOTIFICATION:
		return LISPMS_M_MS_SESS_TX_NOTIFICATION;
	default:
		return LISPMS_M_MS_SESS_TX_ERROR;
	}
}

/* The type of an encoded message (its first two octets). */
static uint16_t rt_type_of(const uint8_t *msg, size_t len)
{
	return len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
}

static unsigned bucket(uint64_t id)
{
	return (unsigned)((id * 0x9e3779b97f4a7c15ull) >> 52) & (SESS_BUCKETS - 1);
}

static struct ms_session *find(struct ms_thread *t, uint64_t id)
{
	if (t->sessions == NULL)
		return NULL;
	for (struct ms_session *s = t->sessions[bucket(id)]; s != NULL; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

static void log_session(const struct ms_session *s, const char *what, int err)
{
	static struct log_limit lim = LOG_LIMIT_INIT(10);
	char peer[64];
	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	saddr_format(&s->peer, peer, sizeof(peer));
	log_sampled(&lim, LOG_LEVEL_INFO, "session, %s %s (%s)", peer, what, err_str(err));
}

/* Frame and write one message; false when the transport refused it. */
static bool send_msg(struct ms_thread *t, struct ms_session *s, struct rt_msg *m)
{
	if (s->failed)
		return false;
	m->has_id = 1;
	m->id = ++s->next_id;
	size_t len;
	if (rt_encode(m, t->buf, sizeof(t->buf), &len) != LISPMS_EOK) {
		counters_inc(LISPMS_M_INTERNAL_ERRORS);
		return false;
	}
	if (stream_write(s->conn, t->buf, len) != LISPMS_EOK) {
		s->failed = true;
		counters_inc(SESS_M(s, MS_SESS_CLOSED_SLOW));
		stream_close(s->conn);
		return false;
	}
	s->ntx++;
	counters_inc(counters_sess_id(tx_counter(m->type), s->conn->transport));
	return true;
}

static void send_error(struct ms_thread *t, struct ms_session *s, uint8_t code,
		       const struct rt_frame *bad)
{
	struct rt_msg m = { .type = RT_TYPE_ERROR_NOTIFICATION };
	m.u.error.code = code;
	m.u.error.off_type = bad->type;
	m.u.error.off_len = bad->length;
	m.u.error.off_id = bad->has_id ? bad->id : 0;
	counters_inc(SESS_M(s, MS_SESS_ERRORS_SENT));
	send_msg(t, s, &m);
}

static void send_refresh(struct ms_thread *t, struct ms_session *s, uint8_t scope,
			 const struct eid_prefix *where, bool rejected_only)
{
	struct rt_msg m = { .type = RT_TYPE_REGISTRATION_REFRESH };
	m.u.refresh.scope = scope;
	m.u.refresh.flags = rejected_only ? RT_FLAG_REJECTED_ONLY : 0;
	if (scope != RT_SCOPE_ALL && where != NULL) {
		m.u.refresh.has_eid = 1;
		m.u.refresh.eid.plen = where->plen;
		afi_from_eid(where, &m.u.refresh.eid.eid);
	}
	send_msg(t, s, &m);
}

struct sess_reg {
	struct ms_thread *t;
	struct ms_session *s;
};

static void answer_record(void *arg, const struct lisp_record *rec, enum ms_verdict v)
{
	struct sess_reg *c = arg;
	struct rt_msg m;
	memset(&m, 0, sizeof(m));
	struct rt_prefix *p;
	if (v == MS_V_ACCEPT) {
		m.type = RT_TYPE_REGISTRATION_ACK;
		p = &m.u.ack;
		c->s->acked++;
		counters_inc(SESS_M(c->s, MS_SESS_ACK));
	} else {
		m.type = RT_TYPE_REGISTRATION_REJECT;
		m.u.reject.reason = v == MS_V_PREFIX || v == MS_V_NOSITE ? RT_REASON_NOT_SITE_PREFIX
				    : v == MS_V_AUTH			 ? RT_REASON_AUTH_FAILURE
				    : v == MS_V_LOCATOR			 ? RT_REASON_LOCATOR_SET
									 : RT_REASON_UNDEFINED;
		p = &m.u.reject.eid;
		c->s->rejected++;
		counters_inc(SESS_M(c->s, MS_SESS_REJECT));
	}
	/* the prefix exactly as the ETR wrote it, so it can match the answer */
	p->plen = rec->eid_plen;
	p->eid = rec->eid;
	send_msg(c->t, c->s, &m);
}

static void handle_registration(struct ms_thread *t, struct ms_session *s, const uint8_t *msg,
				size_t len, const struct rt_frame *f)
{
	uint64_t start = mtime_now_ns();
	struct sess_reg c = { t, s };
	struct ms_reg_out res = { 0 };
	int ret = ms_register_process(t, msg, len, &s->peer, s->id, answer_record, &c, &res);
	if (ret != LISPMS_EOK && ret != LISPMS_ENOSITE && ret != LISPMS_EAUTH &&
	    ret != LISPMS_ENOKEY)
		send_error(t, s, RT_ERR_MALFORMED, f); /* no records to answer one by one */
	counters_observe_ns(LISPMS_H_MS_REGISTER_SECONDS, mtime_now_ns() - start);
}

/* One complete framed message from the ETR. */
static void handle_message(struct ms_thread *t, struct ms_session *s, const uint8_t *buf,
			   size_t len)
{
	uint16_t type = rt_type_of(buf, len);
	counters_inc(type == RT_TYPE_REGISTRATION	  ? SESS_M(s, MS_SESS_RX_REGISTRATION)
		     : type == RT_TYPE_ERROR_NOTIFICATION ? SESS_M(s, MS_SESS_RX_ERROR)
							  : SESS_M(s, MS_SESS_RX_OTHER));
	s->nrx++;
	struct rt_frame f;
	if (rt_frame_decode(buf, len, &f) != LISPMS_EOK) {
		send_error(t, s, RT_ERR_MALFORMED, &(struct rt_frame){ .type = 0 });
		return;
	}
	struct rt_msg m;
	int ret = rt_decode(buf, len, &m);
	if (ret == LISPMS_ETYPE) {
		send_error(t, s, RT_ERR_UNKNOWN_TYPE, &f);
		return;
	}
	if (ret != LISPMS_EOK) {
		send_error(t, s, RT_ERR_MALFORMED, &f);
		return;
	}
	if (!m.has_id)
		return; /* the 8-octet form: nothing to do */
	arena_reset(&t->scratch);
	switch (m.type) {
	case RT_TYPE_REGISTRATION:
		handle_registration(t, s, m.u.inner.msg, m.u.inner.len, &f);
		break;
	case RT_TYPE_ERROR_NOTIFICATION:
		counters_inc(SESS_M(s, MS_SESS_ERRORS_RECEIVED));
		log_session(s, "sent an error notification", LISPMS_EMALFORMED);
		break;
	default: /* ACK, Reject, Refresh, Mapping Notification: ours to send */
		send_error(t, s, RT_ERR_UNEXPECTED, &f);
		break;
	}
}

/* ---- the stall list: sessions holding a partial message, oldest first ---- */

static void stall_add(struct ms_thread *t, struct ms_session *s)
{
	s->partial_since = t->now;
	s->stall_listed = true;
	s->snext = NULL;
	s->sprev = t->stall_tail;
	if (t->stall_tail != NULL)
		t->stall_tail->snext = s;
	else
		t->stall_head = s;
	t->stall_tail = s;
}

static void stall_del(struct ms_thread *t, struct ms_session *s)
{
	if (s->sprev != NULL)
		s->sprev->snext = s->snext;
	else
		t->stall_head = s->snext;
	if (s->snext != NULL)
		s->snext->sprev = s->sprev;
	else
		t->stall_tail = s->sprev;
	s->snext = s->sprev = NULL;
	s->stall_listed = false;
}

/* What the stalled message's header says so far, for the Error Notification. */
static struct rt_frame partial_frame(const struct ms_session *s)
{
	struct rt_frame f = { 0 };
	const uint8_t *p = s->rx.buf + s->rx.head;
	size_t have = s->rx.tail - s->rx.head;
	if (have >= 4) {
		f.type = (uint16_t)(p[0] << 8 | p[1]);
		f.length = (uint16_t)(p[2] << 8 | p[3]);
	}
	if (have >= LISPMS_RT_HDR_LEN) {
		f.has_id = 1;
		f.id = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	}
	return f;
}

uint64_t ms_session_sweep_stalled(struct ms_thread *t, uint64_t now)
{
	if (t->stall_head == NULL)
		return UINT64_MAX;
	uint64_t limit =
	    (uint64_t)conf_server(t->st->conf)->session_read_timeout * LISPMS_NS_PER_SEC;
	if (limit == 0)
		return UINT64_MAX; /* off; the list is kept so turning it on applies at once */
	while (t->stall_head != NULL && now - t->stall_head->partial_since >= limit) {
		struct ms_session *s = t->stall_head;
		stall_del(t, s);
		if (s->failed)
			continue;
		struct rt_frame f = partial_frame(s);
		send_error(t, s, RT_ERR_RESOURCE, &f);
		counters_inc(SESS_M(s, MS_SESS_CLOSED_STALLED));
		log_session(s, "left a message incomplete past session-read-timeout",
			    LISPMS_ETIMEDOUT);
		s->failed = true;
		stream_close(s->conn); /* a session loss: ms_session_closed follows */
	}
	return t->stall_head != NULL ? t->stall_head->partial_since + limit - now : UINT64_MAX;
}

static void sessions_init(struct ms_thread *t)
{
	if (t->sessions == NULL)
		t->sessions = calloc(SESS_BUCKETS, sizeof(*t->sessions));
}

/* server.reliable-transport in force: off, no new session on any transport
 * (a grant given before a reload turned it off is not honoured); the
 * sessions already open stay until they end. Inside a read-side section. */
static bool transport_on(const struct ms_thread *t)
{
	return conf_server(lrcu_deref(t->ms->state)->conf)->reliable_transport;
}

struct ms_session *ms_session_open(struct ms_thread *t, const struct sockaddr_storage *peer,
				   struct stream_conn *c)
{
	sessions_init(t);
	uint64_t now = mtime_now_ns();
	uint64_t id = (uint64_t)(t->index + 1) << 48 | ++t->session_seq;
	if (t->sessions == NULL || !transport_on(t) || !admit_claim(t->ms->admit, peer, now, id)) {
		counters_inc(counters_sess_id(LISPMS_M_MS_SESS_REFUSED, c->transport));
		return NULL;
	}
	struct ms_session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		admit_revoke(t->ms->admit, peer);
		return NULL;
	}
	s->id = id;
	s->peer = *peer;
	s->conn = c;
	s->opened_ns = now;
	unsigned b = bucket(id);
	s->hnext = t->sessions[b];
	t->sessions[b] = s;
	s->oprev = t->otail; /* ids grow: the tail keeps the order */
	if (t->otail != NULL)
		t->otail->onext = s;
	else
		t->ohead = s;
	t->otail = s;
	t->nsessions++;
	counters_inc(SESS_M(s, MS_SESS_OPENED));
	counters_gauge_add(SESS_M(s, MS_SESS_UP), 1);
	t->st = lrcu_deref(t->ms->state);
	send_refresh(t, s, RT_SCOPE_ALL, NULL, false);
	return s;
}

static uint8_t *rxbuf_get(struct ms_thread *t)
{
	if (t->rxbuf_free != NULL) {
		uint8_t *b = t->rxbuf_free;
		t->rxbuf_free = NULL;
		return b;
	}
	return malloc(LISPMS_RT_MAX_LEN);
}

static void rxbuf_put(struct ms_thread *t, uint8_t *b)
{
	if (t->rxbuf_free == NULL)
		t->rxbuf_free = b;
	else
		free(b);
}

int ms_session_recv(struct ms_thread *t, struct ms_session *s, const uint8_t *buf, size_t len)
{
	t->st = lrcu_deref(t->ms->state);
	t->now = mtime_now_ns();
	bool completed = false; /* a message ended in this read */
	while (len > 0 && !s->failed) {
		if (s->rxbuf == NULL) {
			s->rxbuf = rxbuf_get(t);
			if (s->rxbuf == NULL)
				return LISPMS_ENOMEM;
			rt_stream_init(&s->rx, s->rxbuf, LISPMS_RT_MAX_LEN, LISPMS_RT_MAX_LEN);
		}
		size_t took = rt_stream_feed(&s->rx, buf, len);
		buf += took;
		len -= took;
		const uint8_t *msg;
		size_t mlen;
		int r;
		while ((r = rt_stream_next(&s->rx, &msg, &mlen)) == 1) {
			handle_message(t, s, msg, mlen);
			completed = true;
		}
		if (r < 0) {
			/* out of sync: say why, then close (D10) */
			send_error(t, s, r == LISPMS_EMARKER ? RT_ERR_BAD_MARKER : RT_ERR_MALFORMED,
				   &s->rx.bad);
			counters_inc(SESS_M(s, MS_SESS_CLOSED_ERROR));
			log_session(s, "broke the framing", r);
			return r;
		}
		if (s->rx.head == s->rx.tail) { /* nothing partial: give the buffer back */
			rxbuf_put(t, s->rxbuf);
			s->rxbuf = NULL;
		}
	}
	/*
	 * A message left partial starts the clock; completing it stops it. The
	 * clock times the message now partial, not the session: a peer that
	 * streams without pause ends most reads inside a message, and each read
	 * that completed one starts the next message's clock afresh.
	 */
	if (s->stall_listed && (s->rxbuf == NULL || completed))
		stall_del(t, s);
	if (s->rxbuf != NULL && !s->stall_listed)
		stall_add(t, s);
	return s->failed ? LISPMS_ELIMIT : LISPMS_EOK;
}

void ms_session_closed(struct ms_thread *t, struct ms_session *s, enum stream_close_cause why)
{
	static const enum metric_id cause[] = {
		[STREAM_CLOSE_PEER] = LISPMS_M_MS_SESS_CLOSED_PEER,
		[STREAM_CLOSE_TIMEOUT] = LISPMS_M_MS_SESS_CLOSED_TIMEOUT,
		[STREAM_CLOSE_ERROR] = LISPMS_M_MS_SESS_CLOSED_ERROR,
		[STREAM_CLOSE_SLOW] = LISPMS_M_MS_SESS_CLOSED_SLOW,
		[STREAM_CLOSE_SHUTDOWN] = LISPMS_M_MS_SESS_CLOSED_SHUTDOWN,
		[STREAM_CLOSE_ABORT] = LISPMS_M_MS_SESS_CLOSED_OPERATOR,
	};
	/* errors and slow readers were counted where they were detected */
	if (why != STREAM_CLOSE_ERROR && why != STREAM_CLOSE_SLOW &&
	    why < sizeof(cause) / sizeof(cause[0]))
		counters_inc(counters_sess_id(cause[why], s->conn->transport));
	unsigned b = bucket(s->id);
	for (struct ms_session **pp = &t->sessions[b]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	if (s->oprev != NULL)
		s->oprev->onext = s->onext;
	else
		t->ohead = s->onext;
	if (s->onext != NULL)
		s->onext->oprev = s->oprev;
	else
		t->otail = s->oprev;
	t->nsessions--;
	counters_gauge_add(SESS_M(s, MS_SESS_UP), -1);
	/* nothing is deleted: the registrations fall back to UDP timers (D7) */
	db_session_down(t->ms->db, s->id, mtime_now_ns());
	ms_pubsub_session_down(t->ms, s->id, mtime_now_ns());
	admit_revoke(t->ms->admit, &s->peer);
	if (s->stall_listed)
		stall_del(t, s);
	if (s->rxbuf != NULL)
		rxbuf_put(t, s->rxbuf);
	free(s);
}

uint64_t ms_session_id(const struct ms_session *s)
{
	return s->id;
}

/* ------------------------------------------------------ cross-worker work */

static void enqueue(struct ms *ms, unsigned w, uint64_t session, const uint8_t *msg, size_t len);

void ms_session_deliver(struct ms *ms, uint64_t session, const uint8_t *msg, size_t len)
{
	unsigned w = (unsigned)(session >> 48);
	if (w == 0 || w > LISPMS_MS_MAX_WORKERS || ms->wq[w - 1].wake == NULL) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
		return;
	}
	enqueue(ms, w - 1, session, msg, len);
}

/* Framed bytes for every session of every worker. */
static void broadcast(struct ms *ms, const uint8_t *msg, size_t len)
{
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++)
		if (ms->wq[w].wake != NULL)
			enqueue(ms, w, 0, msg, len);
}

/* Hand a job to worker w's queue (wait-free); the worker drains it in its tick. */
static void job_push(struct ms *ms, unsigned w, struct sess_job *j)
{
	cds_wfcq_node_init(&j->qnode);
	LRCU_TSAN_RELEASE(j);
	struct ms_wq *q = &ms->wq[w];
	counters_gauge_add(LISPMS_M_MS_SESS_QUEUE_DEPTH, 1);
	/* one wake-up per batch: a queue that was not empty has one pending */
	if (!cds_wfcq_enqueue(&q->head, &q->tail, &j->qnode)) /* it was empty */
		q->wake(q->arg);
}

static void enqueue(struct ms *ms, unsigned w, uint64_t session, const uint8_t *msg, size_t len)
{
	if (ms->wq[w].wake == NULL) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
		return;
	}
	struct sess_job *j = malloc(sizeof(*j) + len);
	if (j == NULL) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
		return;
	}
	j->req = NULL;
	j->session = session;
	j->len = len;
	memcpy(j->msg, msg, len);
	job_push(ms, w, j);
}

/* ------------------------------------------------------ reload (D8) */

/* A registration on a session is no longer allowed: remove it, tell the ETR. */
static void reload_disallowed(void *arg, const struct eid_prefix *p, const struct db_owner *owner,
			      enum site_metric_id why)
{
	struct ms *ms = arg;
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
		broadcast(ms, buf, len);
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

static void reload_applied(void *arg, const struct conf *old, const struct conf *new)
{
	struct ms *ms = arg;
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

void ms_session_reload_hooks(struct ms *ms)
{
	struct ms_reload_hooks h = { reload_applied, reload_disallowed, ms };
	ms_reload_hook_add(ms, &h);
}

static void write_to(struct ms_thread *t, uint64_t id, const uint8_t *msg, size_t len)
{
	struct ms_session *s = find(t, id);
	if (s == NULL || s->failed) {
		counters_inc(LISPMS_M_MS_SESS_NOTIFY_DROPPED);
	} else if (stream_write(s->conn, msg, len) != LISPMS_EOK) {
		s->failed = true;
		counters_inc(SESS_M(s, MS_SESS_CLOSED_SLOW));
		stream_close(s->conn);
	} else {
		uint16_t type = rt_type_of(msg, len);
		s->ntx++;
		counters_inc(counters_sess_id(tx_counter(type), s->conn->transport));
		if (type == RT_TYPE_MAPPING_NOTIFICATION)
			counters_inc(SESS_M(s, MS_SESS_NOTIFY_SENT));
	}
}

/* ------------------------------------------------------ operators' requests */

const char *ms_session_state_name(enum ms_session_state st)
{
	switch (st) {
	case MS_SESS_STATE_UP:
		return "up";
	case MS_SESS_STATE_RECEIVING:
		return "receiving";
	case MS_SESS_STATE_CLOSING:
		return "closing";
	}
	return "?";
}

static void req_put(struct sess_req *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r->out);
	free(r);
}

static struct sess_req *req_new(enum sess_req_kind kind, unsigned workers, size_t max)
{
	struct sess_req *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	if (max > 0 && (r->out = calloc(max, sizeof(*r->out))) == NULL) {
		free(r);
		return NULL;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&r->lock, NULL);
	r->kind = kind;
	r->max = max;
	r->pending = workers;
	atomic_init(&r->refs, workers + 1);
	return r;
}

/* A worker answered (or its queue was freed without answering). */
static void req_answered(struct sess_req *r)
{
	pthread_mutex_lock(&r->lock);
	r->pending--;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	req_put(r);
}

static bool req_post(struct ms *ms, unsigned w, struct sess_req *r)
{
	struct sess_job *j = malloc(sizeof(*j));
	if (j == NULL)
		return false;
	j->req = r;
	j->session = 0;
	j->len = 0;
	job_push(ms, w, j);
	return true;
}

/* Wait until every worker answered or the time is up; LISPMS_ETIMEDOUT then. */
static int req_wait(struct sess_req *r, unsigned timeout_ms)
{
	struct timespec until = mtime_deadline(CLOCK_MONOTONIC, timeout_ms);
	int ret = LISPMS_EOK;
	lrcu_offline();
	pthread_mutex_lock(&r->lock);
	while (r->pending > 0)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &until) == ETIMEDOUT) {
			ret = r->pending > 0 ? LISPMS_ETIMEDOUT : LISPMS_EOK;
			break;
		}
	pthread_mutex_unlock(&r->lock);
	lrcu_online();
	return ret;
}

static void fill_info(struct ms_thread *t, const struct ms_session *s, uint64_t now,
		      struct ms_session_info *o)
{
	memset(o, 0, sizeof(*o));
	o->id = s->id;
	o->worker = t->index;
	o->peer = s->peer;
	o->transport = s->conn->transport;
	o->uptime_ns = now > s->opened_ns ? now - s->opened_ns : 0;
	o->eids = db_session_regs(t->ms->db, s->id);
	o->queued = stream_queued(s->conn);
	o->rx = s->nrx;
	o->tx = s->ntx;
	o->acked = s->acked;
	o->rejected = s->rejected;
	o->state = s->failed	      ? MS_SESS_STATE_CLOSING
		   : s->rxbuf != NULL ? MS_SESS_STATE_RECEIVING
				      : MS_SESS_STATE_UP;
}

static void req_list(struct ms_thread *t, struct sess_req *r)
{
	struct ms_session *s = t->ohead;
	if (r->after != 0) {
		const struct ms_session *last = find(t, r->after);
		if (last != NULL)
			s = last->onext;
		else /* it closed since: ids grow along the list */
			while (s != NULL && s->id <= r->after)
				s = s->onext;
	}
	uint64_t now = mtime_now_ns();
	for (; s != NULL && r->n < r->max; s = s->onext)
		fill_info(t, s, now, &r->out[r->n++]);
}

static bool peer_match(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
		       bool any_port)
{
	struct sockaddr_storage x = *b;
	if (any_port)
		saddr_set_port(&x, saddr_port(a));
	return saddr_cmp(a, &x) == 0;
}

/* Close this worker's sessions from peer; how many. */
static size_t drop_matching(struct ms_thread *t, const struct sockaddr_storage *peer, bool any_port)
{
	size_t n = 0;
	for (struct ms_session *s = t->ohead; s != NULL; s = s->onext) {
		if (s->failed || !peer_match(&s->peer, peer, any_port))
			continue;
		char a[64];
		saddr_format(&s->peer, a, sizeof(a));
		log_notice("session, %s dropped by the operator (session %llu, worker %u)", a,
			   (unsigned long long)s->id, t->index);
		/* no more writes; the transport closes it after this tick */
		s->failed = true;
		stream_abort(s->conn);
		n++;
	}
	return n;
}

static void req_run(struct ms_thread *t, struct sess_req *r)
{
	/* the control thread reads the results only after req_answered's unlock */
	if (r->kind == SESS_REQ_LIST) {
		req_list(t, r);
	} else {
		size_t n = drop_matching(t, &r->peer, r->any_port); /* set before posting */
		pthread_mutex_lock(&r->lock);
		r->dropped += n; /* several workers answer the same request */
		pthread_mutex_unlock(&r->lock);
	}
	req_answered(r);
}

int ms_sessions_list(struct ms *ms, unsigned worker, uint64_t after, struct ms_session_info *out,
		     size_t max, size_t *n, unsigned timeout_ms)
{
	if (worker >= LISPMS_MS_MAX_WORKERS || ms->wq[worker].wake == NULL)
		return LISPMS_ENOENT;
	if (max > LISPMS_MS_LIST_MAX)
		max = LISPMS_MS_LIST_MAX;
	struct sess_req *r = req_new(SESS_REQ_LIST, 1, max ? max : 1);
	if (r == NULL)
		return LISPMS_ENOMEM;
	r->max = max;
	r->after = after;
	if (!req_post(ms, worker, r)) {
		req_put(r);
		req_put(r);
		return LISPMS_ENOMEM;
	}
	int ret = req_wait(r, timeout_ms);
	if (ret == LISPMS_EOK) {
		memcpy(out, r->out, r->n * sizeof(*out));
		*n = r->n;
	}
	req_put(r);
	return ret;
}

int ms_sessions_drop(struct ms *ms, const struct sockaddr_storage *peer, bool any_port,
		     size_t *dropped, unsigned timeout_ms)
{
	unsigned workers = 0;
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++)
		if (ms->wq[w].wake != NULL)
			workers++;
	struct sess_req *r = req_new(SESS_REQ_DROP, workers, 0);
	if (r == NULL)
		return LISPMS_ENOMEM;
	r->peer = *peer;
	r->any_port = any_port;
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++)
		if (ms->wq[w].wake != NULL && !req_post(ms, w, r))
			req_answered(r); /* nothing posted: that worker has nothing to say */
	int ret = req_wait(r, timeout_ms);
	pthread_mutex_lock(&r->lock);
	*dropped = r->dropped;
	pthread_mutex_unlock(&r->lock);
	req_put(r);
	return ret;
}

void ms_session_queues_free(struct ms *ms)
{
	for (unsigned w = 0; w < LISPMS_MS_MAX_WORKERS; w++) {
		struct ms_wq *q = &ms->wq[w];
		struct cds_wfcq_node *qn;
		while ((qn = __cds_wfcq_dequeue_nonblocking(&q->head, &q->tail)) != NULL &&
		       qn != CDS_WFCQ_WOULDBLOCK) {
			struct sess_job *j = caa_container_of(qn, struct sess_job, qnode);
			LRCU_TSAN_ACQUIRE(j);
			counters_gauge_add(LISPMS_M_MS_SESS_QUEUE_DEPTH, -1);
			if (j->req != NULL)
				req_answered(j->req);
			free(j);
		}
	}
}

void ms_session_send(struct ms_thread *t, uint64_t session, const uint8_t *msg, size_t len)
{
	if ((session >> 48) == (uint64_t)t->index + 1)
		write_to(t, session, msg, len); /* ours: no hand-over needed */
	else
		ms_session_deliver(t->ms, session, msg, len);
}

void ms_session_drain(struct ms_thread *t)
{
	struct ms_wq *q = &t->ms->wq[t->index];
	struct cds_wfcq_node *qn;
	for (;;) {
		qn = __cds_wfcq_dequeue_nonblocking(&q->head, &q->tail);
		if (qn == NULL)
			break;
		if (qn == CDS_WFCQ_WOULDBLOCK) {
			/* an enqueue is half done and its producer saw a non-empty
			 * queue, so it will not wake us: come back on the next loop */
			q->wake(q->arg);
			break;
		}
		struct sess_job *j = caa_container_of(qn, struct sess_job, qnode);
		LRCU_TSAN_ACQUIRE(j);
		counters_gauge_add(LISPMS_M_MS_SESS_QUEUE_DEPTH, -1);
		if (j->req != NULL)
			req_run(t, j->req);
		else if (j->session != 0)
			write_to(t, j->session, j->msg, j->len);
		else if (t->sessions != NULL) /* to every session of this worker */
			for (unsigned b = 0; b < SESS_BUCKETS; b++)
				for (struct ms_session *s = t->sessions[b]; s != NULL; s = s->hnext)
					if (!s->failed &&
					    stream_write(s->conn, j->msg, j->len) == LISPMS_EOK) {
						s->ntx++;
						counters_inc(
						    tx_counter(rt_type_of(j->msg, j->len)));
					}
		free(j);
	}
}

size_t ms_session_count(const struct ms_thread *t)
{
	return t->nsessions;
}

void ms_sessions_free(struct ms_thread *t)
{
	if (t->sessions != NULL)
		for (unsigned b = 0; b < SESS_BUCKETS; b++)
			while (t->sessions[b] != NULL)
				ms_session_closed(t, t->sessions[b], STREAM_CLOSE_SHUTDOWN);
	free(t->sessions);
	t->sessions = NULL;
	free(t->rxbuf_free);
	t->rxbuf_free = NULL;
}

/* ---- the request core as a stream handler (stream.h) ---- */

static void *handler_open(void *arg, struct stream_conn *c, const struct sockaddr_storage *peer)
{
	return ms_session_open(arg, peer, c);
}

static int handler_recv(void *arg, void *sess, const uint8_t *buf, size_t len)
{
	return ms_session_recv(arg, sess, buf, len);
}

static void handler_closed(void *arg, void *sess, enum stream_close_cause why)
{
	ms_session_closed(arg, sess, why);
}

/* D5 before any state: an authenticated r=1 grant for the address (open()
 * then claims it). */
static bool handler_admit(void *arg, enum stream_transport tr, const struct sockaddr_storage *peer)
{
	struct ms_thread *t = arg;
	(void)tr;
	return transport_on(t) && admit_check(t->ms->admit, peer, mtime_now_ns());
}

const struct stream_handler ms_stream_handler = {
	.admit = handler_admit,
	.open = handler_open,
	.recv = handler_recv,
	.closed = handler_closed,
};
