/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* struct in6_pktinfo (net_sock.h) */
#include "quic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <malloc.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <sys/socket.h>

#include <lispms/counters.h>
#include <lispms/err.h>

#include "net_sock.h"
#include "quic_int.h"
#include "tls_cred.h"

static const char quic_priority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
    "+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "+GROUP-SECP384R1:%DISABLE_TLS13_COMPAT_MODE";

uint64_t quic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- connection-ID table -------------------------------------------------- */

static size_t cid_hash(const struct quic_server *qs, const uint8_t *d, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a; the CIDs are random */
	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 1099511628211ull;
	return h & (qs->nbuckets - 1);
}

struct quic_conn *quic_cid_find(const struct quic_server *qs, const uint8_t *d, size_t n)
{
	for (struct quic_cid *e = qs->table[cid_hash(qs, d, n)]; e; e = e->next)
		if (e->cid.datalen == n && memcmp(e->cid.data, d, n) == 0)
			return e->conn;
	return NULL;
}

static void cid_add(struct quic_server *qs, struct quic_cid *e)
{
	size_t b = cid_hash(qs, e->cid.data, e->cid.datalen);
	e->next = qs->table[b];
	qs->table[b] = e;
	e->used = true;
}

static void cid_del(struct quic_server *qs, struct quic_cid *e)
{
	if (!e->used)
		return;
	struct quic_cid **pp = &qs->table[cid_hash(qs, e->cid.data, e->cid.datalen)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	e->used = false;
}

/* --- ngtcp2 callbacks ----------------------------------------------------- */

void quic_rand(uint8_t *dest, size_t destlen, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	(void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, destlen);
}

/* A connection ID's stateless reset token (RFC 9000 10.3), random: lispmsd
 * never sends a stateless reset (a datagram for no connection gets nothing,
 * and the token key is new at every start, so a restarted lispmsd could
 * not have derived an old connection's tokens anyway). Deriving them from
 * the key (ngtcp2_crypto_generate_stateless_reset_token, an HKDF) cost
 * ~47,000 instructions each, two per connection: 2 % of a session's CPU in
 * a storm; gnutls_rnd ~800. A peer only has to be unable to guess it. If
 * lispmsd ever sends stateless resets, derive them again. */
static int reset_token(uint8_t *token)
{
	return gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) < 0 ? -1 : 0;
}

static int cb_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user)
{
	(void)conn;
	struct quic_conn *c = user;
	struct quic_cid *e = NULL;
	for (int i = 0; i < QUIC_CIDS_PER_CONN && !e; i++)
		if (!c->cids[i].used)
			e = &c->cids[i];
	if (!e)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	do {
		if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) < 0)
			return NGTCP2_ERR_CALLBACK_FAILURE;
		cid->datalen = cidlen;
	} while (quic_cid_find(c->qs, cid->data, cidlen));
	if (reset_token(token) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	e->cid = *cid;
	e->conn = c;
	cid_add(c->qs, e);
	return 0;
}

static int cb_remove_cid(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *user)
{
	(void)conn;
	struct quic_conn *c = user;
	for (int i = 0; i < QUIC_CIDS_PER_CONN; i++)
		if (c->cids[i].used && ngtcp2_cid_eq(&c->cids[i].cid, cid))
			cid_del(c->qs, &c->cids[i]);
	return 0;
}

/* The connection has something to send or to retire: the next flush sees it. */
void quic_conn_mark(struct quic_conn *c)
{
	if (c->pending)
		return;
	struct quic_server *qs = c->qs;
	c->pending = true;
	c->prev_p = NULL;
	c->next_p = qs->pending;
	if (qs->pending)
		qs->pending->prev_p = c;
	qs->pending = c;
}

static void conn_unmark(struct quic_conn *c)
{
	if (!c->pending)
		return;
	if (c->prev_p)
		c->prev_p->next_p = c->next_p;
	else
		c->qs->pending = c->next_p;
	if (c->next_p)
		c->next_p->prev_p = c->prev_p;
	c->pending = false;
	c->prev_p = c->next_p = NULL;
}

void quic_conn_kill(struct quic_conn *c, enum stream_close_cause why, bool silent)
{
	quic_conn_mark(c);
	if (c->dead)
		return;
	c->dead = true;
	c->why = why;
	c->silent = silent;
}

static int cb_stream_open(ngtcp2_conn *conn, int64_t id, void *user)
{
	struct quic_conn *c = user;
	bool bidi_client = (id & 0x3) == 0;
	if (c->stream >= 0 || !bidi_client || c->dead) {
		counters_inc(LISPMS_M_NET_QUIC_STREAM_REFUSED);
		ngtcp2_conn_shutdown_stream(conn, id, QUIC_APP_ERR_REFUSED);
		return 0;
	}
	c->stream = id;
	c->sess = c->qs->h->open(c->qs->arg, &c->sc, &c->peer);
	if (!c->sess)
		quic_conn_kill(c, STREAM_CLOSE_ERROR, false);
	return 0;
}

static int cb_recv_stream(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t offset,
			  const uint8_t *data, size_t len, void *user, void *suser)
{
	(void)offset;
	(void)suser;
	struct quic_conn *c = user;
	if (id != c->stream) {
		/* a refused stream: its data is discarded, its credit given back */
		ngtcp2_conn_extend_max_offset(conn, len);
		return 0;
	}
	if (len > 0 && c->sess && !c->dead && !c->closing &&
	    c->qs->h->recv(c->qs->arg, c->sess, data, len) < 0)
		c->closing = true; /* after the queued output (D14: an error notification) */
	ngtcp2_conn_extend_max_stream_offset(conn, id, len);
	ngtcp2_conn_extend_max_offset(conn, len);
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN)
		c->closing = true; /* the peer has no more to say */
	return 0;
}

static int cb_acked(ngtcp2_conn *conn, int64_t id, uint64_t offset, uint64_t len, void *user,
		    void *suser)
{
	(void)conn;
	(void)suser;
	struct quic_conn *c = user;
	if (id != c->stream)
		return 0;
	/* acknowledgements arrive in order of the acknowledged prefix */
	quic_outq_acked(&c->out, offset, len);
	return 0;
}

static int cb_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t err, void *user,
			   void *suser)
{
	(void)conn;
	(void)flags;
	(void)err;
	(void)suser;
	struct quic_conn *c = user;
	if (id == c->stream)
		quic_conn_kill(c, STREAM_CLOSE_PEER, false);
	return 0;
}

static int cb_stream_reset(ngtcp2_conn *conn, int64_t id, uint64_t size, uint64_t err, void *user,
			   void *suser)
{
	(void)conn;
	(void)size;
	(void)err;
	(void)suser;
	struct quic_conn *c = user;
	if (id == c->stream)
		quic_conn_kill(c, STREAM_CLOSE_ERROR, false);
	return 0;
}

static int cb_handshake_done(ngtcp2_conn *conn, void *user)
{
	(void)conn;
	struct quic_conn *c = user;
	gnutls_datum_t p;
	if (gnutls_alpn_get_selected_protocol(c->tls, &p) < 0 || p.size != c->qs->alpn_d.size ||
	    memcmp(p.data, c->qs->alpn_d.data, p.size) != 0 || !tls_cred_peer_ok(c->cred, c->tls))
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

/* CRYPTO data for GnuTLS, during the handshake only. QUIC has no
 * post-handshake message a client may send us (no KeyUpdate in TLS, RFC
 * 9001 6; we ask for no post-handshake authentication): 1-RTT CRYPTO data
 * ends the connection. (Given to GnuTLS, a TLS KeyUpdate made it install
 * keys again and libngtcp2 abort on an assertion.) After the handshake the
 * session is released anyway (quic_conn_tls_release). */
static int cb_recv_crypto(ngtcp2_conn *conn, ngtcp2_crypto_level level, uint64_t offset,
			  const uint8_t *data, size_t len, void *user)
{
	struct quic_conn *c = user;
	if (c->tls == NULL || level == NGTCP2_CRYPTO_LEVEL_APPLICATION)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return ngtcp2_crypto_recv_crypto_data_cb(conn, level, offset, data, len, user);
}

/* --- libngtcp2's memory, counted per connection --------------------------- */

static void lib_count(struct quic_conn *c, void *p, bool add)
{
	if (p == NULL)
		return;
	size_t n = malloc_usable_size(p);
	if (add) {
		c->lib_bytes += n;
		c->qs->lib_bytes += n;
		counters_gauge_add(LISPMS_M_NET_QUIC_LIB_BYTES, (int64_t)n);
	} else {
		c->lib_bytes -= n;
		c->qs->lib_bytes -= n;
		counters_gauge_add(LISPMS_M_NET_QUIC_LIB_BYTES, -(int64_t)n);
	}
}

static void *lib_malloc(size_t size, void *user)
{
	void *p = malloc(size);
	lib_count(user, p, true);
	return p;
}

static void lib_free(void *ptr, void *user)
{
	lib_count(user, ptr, false);
	free(ptr);
}

static void *lib_calloc(size_t nmemb, size_t size, void *user)
{
	void *p = calloc(nmemb, size);
	lib_count(user, p, true);
	return p;
}

static void *lib_realloc(void *ptr, size_t size, void *user)
{
	size_t old = ptr ? malloc_usable_size(ptr) : 0;
	void *p = realloc(ptr, size);
	if (p == NULL && size > 0)
		return NULL; /* ptr unchanged */
	struct quic_conn *c = user;
	c->lib_bytes -= old;
	c->qs->lib_bytes -= old;
	counters_gauge_add(LISPMS_M_NET_QUIC_LIB_BYTES, -(int64_t)old);
	lib_count(c, p, true);
	return p;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct quic_conn *)ref->user_data)->conn;
}

static const ngtcp2_callbacks server_cbs = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = cb_recv_crypto,
	.handshake_completed = cb_handshake_done,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = cb_recv_stream,
	.acked_stream_data_offset = cb_acked,
	.stream_open = cb_stream_open,
	.stream_close = cb_stream_close,
	.rand = quic_rand,
	.get_new_connection_id = cb_new_cid,
	.remove_connection_id = cb_remove_cid,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = cb_stream_reset,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

/* --- stream_conn ops ------------------------------------------------------ */

static int op_write(struct stream_conn *sc, const uint8_t *buf, size_t len)
{
	struct quic_conn *c = (struct quic_conn *)sc;
	if (c->dead || c->closing)
		return LISPMS_ESTATE;
	if (c->out.len + len > c->qs->conf.output_limit) {
		quic_conn_kill(c, STREAM_CLOSE_SLOW, false);
		return LISPMS_ELIMIT;
	}
	if (quic_outq_push(&c->out, buf, len) != LISPMS_EOK)
		return LISPMS_ENOMEM;
	quic_conn_mark(c);
	return LISPMS_EOK;
}

static void op_close(struct stream_conn *sc)
{
	struct quic_conn *c = (struct quic_conn *)sc;
	c->closing = true;
	quic_conn_mark(c);
}

static void op_abort(struct stream_conn *sc)
{
	quic_conn_kill((struct quic_conn *)sc, STREAM_CLOSE_ABORT, false);
}

static size_t op_queued(const struct stream_conn *sc)
{
	const struct quic_conn *c = (const struct quic_conn *)sc;
	return c->out.len - c->out.sent;
}

static const struct stream_conn_ops quic_ops = {
	.write = op_write,
	.close = op_close,
	.abort = op_abort,
	.queued = op_queued,
};

/* --- sending -------------------------------------------------------------- */

void quic_send_to(int fd, const struct sockaddr_storage *local, const struct sockaddr_storage *peer,
		  const uint8_t *b, size_t n)
{
	if (n == 0)
		return;
	/* from local, as the peer asked (the kernel's choice when a wildcard) */
	if (net_sock_send_from(fd, b, n, local, peer, MSG_DONTWAIT) < 0)
		counters_inc(LISPMS_M_NET_QUIC_TX_ERRORS);
}

void quic_conn_path(struct quic_conn *c, ngtcp2_path *p)
{
	p->local.addr = (ngtcp2_sockaddr *)&c->local;
	p->local.addrlen = c->locallen;
	p->remote.addr = (ngtcp2_sockaddr *)&c->peer;
	p->remote.addrlen = c->peerlen;
	p->user_data = NULL;
}

void quic_ps_zero(ngtcp2_path_storage *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->path.local.addr = (ngtcp2_sockaddr *)&ps->local_addrbuf;
	ps->path.remote.addr = (ngtcp2_sockaddr *)&ps->remote_addrbuf;
}

/* Write what ngtcp2 has for the connection: stream data first. */
static void conn_send(struct quic_conn *c, uint64_t now)
{
	struct quic_server *qs = c->qs;
	ngtcp2_path_storage ps;
	quic_ps_zero(&ps);
	ngtcp2_pkt_info pi;
	for (int i = 0; i < QUIC_TX_BURST; i++) {
		ngtcp2_vec v[8];
		int64_t sid = -1;
		size_t vcnt = c->stream >= 0 ? quic_outq_unsent(&c->out, v, 8) : 0;
		if (vcnt > 0)
			sid = c->stream;
		ngtcp2_ssize used = -1;
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(
		    c->conn, &ps.path, &pi, qs->buf, sizeof(qs->buf), &used,
		    NGTCP2_WRITE_STREAM_FLAG_NONE, sid, vcnt ? v : NULL, vcnt, now);
		if (n < 0) {
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
			    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				/* nothing more for the stream now: control frames only */
				n = ngtcp2_conn_write_pkt(c->conn, &ps.path, &pi, qs->buf,
							  sizeof(qs->buf), now);
				if (n <= 0) {
					if (n < 0)
						quic_conn_kill(c, STREAM_CLOSE_ERROR, true);
					return;
				}
			} else {
				quic_conn_kill(c, STREAM_CLOSE_ERROR, true);
				return;
			}
		} else if (used > 0) {
			quic_outq_sent(&c->out, (size_t)used);
		}
		if (n == 0)
			return;
		quic_send_to(c->fd, &c->local, &c->peer, qs->buf, (size_t)n);
	}
}

/* --- connections ---------------------------------------------------------- */

/* The handshake is over: the GnuTLS session (some 25 KB with its buffers)
 * has nothing left to do. ngtcp2 holds the 1-RTT keys (and derives the
 * next ones on a key update) and retransmits its own copy of the handshake
 * data; more CRYPTO data is refused (cb_recv_crypto). */
void quic_conn_tls_release(struct quic_conn *c)
{
	if (c->tls == NULL || !ngtcp2_conn_get_handshake_completed(c->conn))
		return;
	ngtcp2_conn_set_tls_native_handle(c->conn, NULL);
	gnutls_deinit(c->tls);
	c->tls = NULL;
	c->qs->ntls--;
}

static void conn_free(struct quic_conn *c)
{
	struct quic_server *qs = c->qs;
	conn_unmark(c);
	timer_heap_del(&qs->timers, &c->timer);
	for (int i = 0; i < QUIC_CIDS_PER_CONN; i++)
		cid_del(qs, &c->cids[i]);
	cid_del(qs, &c->initial);
	if (c->prev_c)
		c->prev_c->next_c = c->next_c;
	else
		qs->conns = c->next_c;
	if (c->next_c)
		c->next_c->prev_c = c->prev_c;
	qs->nconns--;
	if (qs->conf.conn_count)
		(*qs->conf.conn_count)--;
	if (c->conn)
		ngtcp2_conn_del(c->conn);
	if (c->tls) {
		gnutls_deinit(c->tls);
		qs->ntls--;
	}
	tls_cred_free(c->cred);
	quic_outq_free(&c->out);
	free(c);
}

/* Say goodbye (unless silent), tell the handler, free. */
static void conn_retire(struct quic_conn *c, uint64_t now)
{
	struct quic_server *qs = c->qs;
	if (!c->silent && c->conn && !ngtcp2_conn_is_in_closing_period(c->conn) &&
	    !ngtcp2_conn_is_in_draining_period(c->conn)) {
		ngtcp2_connection_close_error ce;
		ngtcp2_connection_close_error_default(&ce);
		if (c->why != STREAM_CLOSE_PEER && c->why != STREAM_CLOSE_SHUTDOWN)
			ngtcp2_connection_close_error_set_application_error(&ce, 2, NULL, 0);
		ngtcp2_path_storage ps;
		quic_ps_zero(&ps);
		ngtcp2_pkt_info pi;
		ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi, qs->buf,
								    sizeof(qs->buf), &ce, now);
		if (n > 0)
			quic_send_to(c->fd, &c->local, &c->peer, qs->buf, (size_t)n);
	}
	if (c->sess)
		qs->h->closed(qs->arg, c->sess, c->why);
	c->sess = NULL;
	conn_free(c);
}

int quic_conn_new(struct quic_server *qs, int fd, const struct sockaddr_storage *local,
		  const struct sockaddr_storage *peer, const ngtcp2_pkt_hd *hd,
		  const ngtcp2_cid *odcid, uint64_t now, struct quic_conn **out)
{
	struct quic_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return LISPMS_ENOMEM;
	c->sc.ops = &quic_ops;
	c->sc.transport = STREAM_QUIC;
	c->qs = qs;
	c->fd = fd;
	c->stream = -1;
	c->local = *local;
	c->locallen = sa_len(local);
	c->peer = *peer;
	c->peerlen = sa_len(peer);
	c->ref.get_conn = get_conn;
	c->ref.user_data = c;
	c->mem = (ngtcp2_mem){ c, lib_malloc, lib_free, lib_calloc, lib_realloc };

	ngtcp2_cid scid;
	scid.datalen = QUIC_SCIDLEN;
	do
		quic_rand(scid.data, scid.datalen, NULL);
	while (quic_cid_find(qs, scid.data, scid.datalen));

	ngtcp2_settings st;
	ngtcp2_settings_default(&st);
	st.initial_ts = now;
	st.max_stream_window = 256 * 1024;
	st.max_window = 512 * 1024;
	st.token = hd->token;
	ngtcp2_transport_params tp;
	ngtcp2_transport_params_default(&tp);
	tp.initial_max_streams_bidi = 2; /* one session stream, one to refuse */
	tp.initial_max_streams_uni = 0;
	tp.initial_max_stream_data_bidi_remote = 64 * 1024;
	tp.initial_max_data = 128 * 1024;
	tp.max_idle_timeout = (uint64_t)qs->conf.idle_timeout_ms * NGTCP2_MILLISECONDS;
	tp.disable_active_migration = 1;
	tp.active_connection_id_limit = 2;
	tp.stateless_reset_token_present = 1;
	tp.original_dcid = *odcid;
	tp.retry_scid = hd->dcid; /* the SCID our Retry chose */
	tp.retry_scid_present = 1;
	if (reset_token(tp.stateless_reset_token) != 0)
		goto fail;

	ngtcp2_path path;
	quic_conn_path(c, &path);
	if (ngtcp2_conn_server_new(&c->conn, &hd->scid, &scid, &path, hd->version, &server_cbs, &st,
				   &tp, &c->mem, c) != 0)
		goto fail;
	if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_ENABLE_EARLY_DATA |
				     GNUTLS_NO_AUTO_SEND_TICKET | GNUTLS_NO_END_OF_EARLY_DATA) <
	    0) {
		c->tls = NULL;
		goto fail;
	}
	if (gnutls_priority_set(c->tls, qs->prio) < 0 ||
	    ngtcp2_crypto_gnutls_configure_server_session(c->tls) != 0 ||
	    tls_cred_set_session((c->cred = tls_cred_ref(qs->conf.cred)), c->tls) != 0 ||
	    gnutls_alpn_set_protocols(c->tls, &qs->alpn_d, 1, GNUTLS_ALPN_MANDATORY) < 0)
		goto fail;
	gnutls_session_set_ptr(c->tls, &c->ref);
	ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
	if (qs->conf.keepalive_ms)
		ngtcp2_conn_set_keep_alive_timeout(c->conn, (ngtcp2_duration)qs->conf.keepalive_ms *
								NGTCP2_MILLISECONDS);
	c->cids[0].cid = scid;
	c->cids[0].conn = c;
	cid_add(qs, &c->cids[0]);
	if (!quic_cid_find(qs, hd->dcid.data, hd->dcid.datalen)) {
		c->initial.cid = hd->dcid;
		c->initial.conn = c;
		cid_add(qs, &c->initial);
	}
	c->next_c = qs->conns;
	if (qs->conns)
		qs->conns->prev_c = c;
	qs->conns = c;
	qs->nconns++;
	qs->ntls++;
	if (qs->conf.conn_count)
		(*qs->conf.conn_count)++;
	*out = c;
	return LISPMS_EOK;
fail:
	if (c->tls)
		gnutls_deinit(c->tls);
	tls_cred_free(c->cred);
	if (c->conn)
		ngtcp2_conn_del(c->conn);
	free(c);
	return LISPMS_ENOMEM;
}

/* The connections touched since the last flush, and only those: a handler
 * call made while retiring one (closed()) may touch others, which join the
 * list and are seen in the same flush. */
void quic_server_flush(struct quic_server *qs, uint64_t now)
{
	struct quic_conn *c;
	while ((c = qs->pending) != NULL) {
		conn_unmark(c);
		if (!c->dead) {
			conn_send(c, now);
			if (!c->dead && c->closing && c->out.len == 0)
				quic_conn_kill(c, STREAM_CLOSE_PEER, false);
		}
		if (c->dead) {
			conn_unmark(c);
			conn_retire(c, now);
		} else if (timer_heap_set(&qs->timers, &c->timer,
					  ngtcp2_conn_get_expiry(c->conn)) != 0) {
			quic_conn_kill(c, STREAM_CLOSE_ERROR, true); /* no timer: no liveness */
		}
	}
}

uint64_t quic_server_expiry(const struct quic_server *qs)
{
	if (qs->pending)
		return 0; /* something to send or retire */
	const struct timer_node *t = timer_heap_top(&qs->timers);
	return t ? t->at : UINT64_MAX;
}

void quic_server_tick(struct quic_server *qs, uint64_t now)
{
	struct timer_node *t;
	while ((t = timer_heap_top(&qs->timers)) != NULL && t->at <= now) {
		struct quic_conn *c =
		    (struct quic_conn *)((char *)t - offsetof(struct quic_conn, timer));
		/* out of the heap until the flush sets its next expiry */
		timer_heap_del(&qs->timers, t);
		quic_conn_mark(c);
		if (c->dead)
			continue;
		int rv = ngtcp2_conn_handle_expiry(c->conn, now);
		if (rv == NGTCP2_ERR_IDLE_CLOSE)
			quic_conn_kill(c, STREAM_CLOSE_TIMEOUT, true);
		else if (rv != 0)
			quic_conn_kill(c, STREAM_CLOSE_ERROR, true);
		else if (ngtcp2_conn_is_in_closing_period(c->conn) ||
			 ngtcp2_conn_is_in_draining_period(c->conn))
			quic_conn_kill(c, STREAM_CLOSE_PEER, true);
	}
	quic_server_flush(qs, now);
}

size_t quic_server_conns(const struct quic_server *qs)
{
	return qs->nconns;
}

size_t quic_server_tls_sessions(const struct quic_server *qs)
{
	return qs->ntls;
}

size_t quic_server_lib_bytes(const struct quic_server *qs)
{
	return qs->lib_bytes;
}

struct quic_server *quic_server_new(const struct quic_conf *conf, const struct stream_handler *h,
				    void *arg)
{
	struct quic_server *qs = calloc(1, sizeof(*qs));
	if (!qs)
		return NULL;
	qs->conf = *conf;
	tls_cred_ref(qs->conf.cred);
	if (!qs->conf.idle_timeout_ms)
		qs->conf.idle_timeout_ms = 60000;
	if (!qs->conf.max_conns)
		qs->conf.max_conns = 1024;
	if (!qs->conf.token_lifetime_ms)
		qs->conf.token_lifetime_ms = 10000;
	if (!qs->conf.initial_max_age_ms)
		qs->conf.initial_max_age_ms = 1000;
	if (!qs->conf.output_limit)
		qs->conf.output_limit = 1 << 20;
	snprintf(qs->alpn, sizeof(qs->alpn), "%s", conf->alpn ? conf->alpn : "lisp-rt");
	qs->alpn_d.data = (unsigned char *)qs->alpn;
	qs->alpn_d.size = (unsigned int)strlen(qs->alpn);
	if (conf->secret && conf->secretlen)
		memcpy(qs->secret, conf->secret,
		       conf->secretlen < sizeof(qs->secret) ? conf->secretlen : sizeof(qs->secret));
	else
		quic_rand(qs->secret, sizeof(qs->secret), NULL);
	qs->conf.secret = NULL;
	qs->h = h;
	qs->arg = arg;
	qs->nbuckets = 64;
	size_t want = qs->conf.max_conns < 65536 ? qs->conf.max_conns : 65536;
	while (qs->nbuckets < 2 * want * QUIC_CIDS_PER_CONN)
		qs->nbuckets *= 2;
	qs->table = calloc(qs->nbuckets, sizeof(*qs->table));
	if (!qs->table) {
		tls_cred_free(qs->conf.cred);
		free(qs);
		return NULL;
	}
	if (gnutls_priority_init(&qs->prio, quic_priority, NULL) < 0) {
		free(qs->table);
		free(qs);
		return NULL;
	}
	return qs;
}

void quic_server_set_limits(struct quic_server *qs, size_t output_limit, uint32_t max_conns,
			    uint32_t keepalive_ms)
{
	if (output_limit)
		qs->conf.output_limit = output_limit;
	if (max_conns)
		qs->conf.max_conns = max_conns;
	if (keepalive_ms != qs->conf.keepalive_ms) {
		qs->conf.keepalive_ms = keepalive_ms;
		for (struct quic_conn *c = qs->conns; c; c = c->next_c) {
			ngtcp2_conn_set_keep_alive_timeout(c->conn, (ngtcp2_duration)keepalive_ms *
									NGTCP2_MILLISECONDS);
			quic_conn_mark(c); /* its expiry moved */
		}
	}
}

void quic_server_set_cred(struct quic_server *qs, const struct tls_cred *cred)
{
	const struct tls_cred *old = qs->conf.cred;
	qs->conf.cred = tls_cred_ref(cred);
	tls_cred_free(old);
}

void quic_server_stop(struct quic_server *qs)
{
	uint64_t now = quic_now();
	while (qs->conns) {
		struct quic_conn *c = qs->conns;
		if (!c->dead)
			quic_conn_kill(c, STREAM_CLOSE_SHUTDOWN, false);
		conn_retire(c, now);
	}
}

void quic_server_free(struct quic_server *qs)
{
	if (!qs)
		return;
	quic_server_stop(qs);
	timer_heap_free(&qs->timers);
	gnutls_priority_deinit(qs->prio);
	free(qs->table);
	tls_cred_free(qs->conf.cred);
	free(qs);
}
