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
#include "ms_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lispms/log.h>
#include <lispms/mtime.h>

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
	counters_inc(counters_sess_id(sess_tx_counter(m->type), s->conn->transport));
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
	uint16_t type = sess_rt_type(buf, len);
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
	unsigned b = sess_bucket(id);
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
	unsigned b = sess_bucket(s->id);
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
