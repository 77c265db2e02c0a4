/* SPDX-License-Identifier: MIT */
#include "quic_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <poll.h>
#include <pthread.h>

#include <lispms/err.h>

#include "quic.h"
#include "quic_outq.h"

#define QC_PKT_MAX     1452
#define QC_REFUSED_MAX 8
#define QC_MEMO_CERTS  8  /* a longer chain is verified in full every time */
#define QC_MEMO_TTL_S  60 /* a remembered chain is verified in full again after this */

static const char qc_priority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
    "+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:%DISABLE_TLS13_COMPAT_MODE";
/* One key share (X25519), which the server takes: a client offering
 * X25519 and P-256 computed both, half of its handshake CPU wasted in a
 * lispms-bench storm of thousands of ETRs. */

/* qc_priority parsed once per process (gnutls_priority_set_direct parsed
 * it for every client: 57,000 instructions each); sessions share the cache
 * (GnuTLS counts its users atomically), it lives as long as the process. */
static gnutls_priority_t qc_prio;
static int qc_prio_rc;
static pthread_once_t qc_prio_once = PTHREAD_ONCE_INIT;

static void qc_prio_init(void)
{
	qc_prio_rc = gnutls_priority_init(&qc_prio, qc_priority, NULL);
}

/* The server certificate chain last verified in full against shared
 * credentials' CA (quic_client_cred), byte for byte: thousands of clients
 * of one lispms-bench meet the same server chain, and its verification (an
 * ECDSA signature and the parsing of every certificate) was a third of a
 * handshake's CPU. A handshake presenting exactly these certificates,
 * within their validity period and QC_MEMO_TTL_S of the full check, is
 * accepted without verifying their signatures again; any other chain, a
 * stapled OCSP response, or a failure goes through the full verification
 * (gnutls_certificate_verify_peers2, what gnutls_session_set_verify_cert
 * runs). Failures are never remembered. The server's CertificateVerify
 * signature, which proves it holds the key, is checked in every handshake
 * by GnuTLS as before. */
struct qc_memo {
	pthread_mutex_t lock;
	unsigned n;		     /* certificates remembered, 0: none */
	unsigned len[QC_MEMO_CERTS]; /* their DER lengths, in chain[] one after the other */
	uint8_t *chain;
	time_t from, until; /* every certificate of it valid between */
	time_t checked;	    /* when it was verified in full */
	uint64_t full;	    /* full verifications, for the tests */
};

struct quic_client_cred {
	gnutls_certificate_credentials_t cred;
	struct qc_memo *memo;
};

struct quic_client {
	int fd;
	struct sockaddr_storage source; /* with port 0 */
	bool has_source;
	struct sockaddr_storage local, peer;
	socklen_t locallen, peerlen;
	ngtcp2_conn *conn;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	bool own_cred;	      /* else shared (quic_client_conf.cred), not freed here */
	struct qc_memo *memo; /* the shared credentials' (NULL: own credentials) */
	ngtcp2_crypto_conn_ref ref;
	char alpn[32];
	FILE *keylog;
	bool ready;
	bool open_pending; /* send an empty STREAM frame to open the stream */
	int gone;	   /* 0 or the negative code service() returns */
	int64_t stream;
	struct quic_outq out; /* as the server: held in place until acknowledged */
	uint8_t *in;
	size_t in_len, in_cap;
	int64_t refused[QC_REFUSED_MAX];
	size_t nrefused;
	int64_t extra; /* an extra stream under test, -1 */
	uint8_t extra_data[256];
	size_t extra_len;
	uint32_t drop_every;
	uint64_t ntx; /* datagrams written, for drop_every */
	uint8_t buf[QC_PKT_MAX];
};

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void qc_rand(uint8_t *dest, size_t n, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	(void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, n);
}

static int qc_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user)
{
	(void)conn;
	(void)user;
	qc_rand(cid->data, cidlen, NULL);
	cid->datalen = cidlen;
	qc_rand(token, NGTCP2_STATELESS_RESET_TOKENLEN, NULL);
	return 0;
}

static int qc_recv_stream(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t offset,
			  const uint8_t *data, size_t len, void *user, void *suser)
{
	(void)flags;
	(void)offset;
	(void)suser;
	struct quic_client *c = user;
	if (id == c->stream && len) {
		if (c->in_len + len > c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 16384;
			while (cap < c->in_len + len)
				cap *= 2;
			uint8_t *n = realloc(c->in, cap);
			if (!n)
				return NGTCP2_ERR_CALLBACK_FAILURE;
			c->in = n;
			c->in_cap = cap;
		}
		memcpy(c->in + c->in_len, data, len);
		c->in_len += len;
		/* credit comes back as the caller reads (quic_client_read), so a
		 * client that stops reading stops the server (a slow reader) */
		return 0;
	}
	ngtcp2_conn_extend_max_stream_offset(conn, id, len);
	ngtcp2_conn_extend_max_offset(conn, len);
	return 0;
}

static int qc_acked(ngtcp2_conn *conn, int64_t id, uint64_t offset, uint64_t len, void *user,
		    void *suser)
{
	(void)conn;
	(void)suser;
	struct quic_client *c = user;
	if (id != c->stream)
		return 0;
	quic_outq_acked(&c->out, offset, len);
	return 0;
}

static void qc_refused(struct quic_client *c, int64_t id)
{
	for (size_t i = 0; i < c->nrefused; i++)
		if (c->refused[i] == id)
			return;
	if (c->nrefused < QC_REFUSED_MAX)
		c->refused[c->nrefused++] = id;
}

static int qc_stream_reset(ngtcp2_conn *conn, int64_t id, uint64_t size, uint64_t err, void *user,
			   void *suser)
{
	(void)conn;
	(void)size;
	(void)err;
	(void)suser;
	qc_refused(user, id);
	return 0;
}

static int qc_stop_sending(ngtcp2_conn *conn, int64_t id, uint64_t err, void *user, void *suser)
{
	(void)conn;
	(void)err;
	(void)suser;
	qc_refused(user, id);
	return 0;
}

static int qc_handshake_done(ngtcp2_conn *conn, void *user)
{
	(void)conn;
	((struct quic_client *)user)->ready = true;
	return 0;
}

static ngtcp2_conn *qc_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct quic_client *)ref->user_data)->conn;
}

static const ngtcp2_callbacks client_cbs = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = qc_handshake_done,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = qc_recv_stream,
	.acked_stream_data_offset = qc_acked,
	.recv_retry = ngtcp2_crypto_recv_retry_cb,
	.rand = qc_rand,
	.get_new_connection_id = qc_new_cid,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = qc_stream_reset,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = qc_stop_sending,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

/* NSS key-log lines: LABEL CLIENT_RANDOM SECRET, in hex. */
static int qc_keylog(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	struct quic_client *c = ref->user_data;
	if (!c->keylog)
		return 0;
	gnutls_datum_t cr, sr;
	gnutls_session_get_random(s, &cr, &sr);
	fprintf(c->keylog, "%s ", label);
	for (unsigned i = 0; i < cr.size; i++)
		fprintf(c->keylog, "%02x", cr.data[i]);
	fputc(' ', c->keylog);
	for (unsigned i = 0; i < secret->size; i++)
		fprintf(c->keylog, "%02x", secret->data[i]);
	fputc('\n', c->keylog);
	fflush(c->keylog);
	return 0;
}

static bool memo_holds(const struct qc_memo *m, const gnutls_datum_t *pc, unsigned n, time_t now)
{
	if (m->n == 0 || m->n != n || now < m->from || now > m->until || now < m->checked ||
	    now - m->checked >= QC_MEMO_TTL_S)
		return false;
	const uint8_t *p = m->chain;
	for (unsigned i = 0; i < n; i++) {
		if (pc[i].size != m->len[i] || memcmp(pc[i].data, p, pc[i].size) != 0)
			return false;
		p += m->len[i];
	}
	return true;
}

/* Remember a chain that verified in full at `now`, with the span in which
 * all of its certificates are valid. */
static void memo_store(struct qc_memo *m, const gnutls_datum_t *pc, unsigned n, time_t now)
{
	if (n > QC_MEMO_CERTS)
		return;
	time_t from = 0, until = (time_t)INT64_MAX; /* a 64-bit time_t (glibc) */
	size_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		gnutls_x509_crt_t crt;
		if (gnutls_x509_crt_init(&crt) < 0)
			return;
		if (gnutls_x509_crt_import(crt, &pc[i], GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt);
			return;
		}
		time_t a = gnutls_x509_crt_get_activation_time(crt);
		time_t e = gnutls_x509_crt_get_expiration_time(crt);
		gnutls_x509_crt_deinit(crt);
		if (a == (time_t)-1 || e == (time_t)-1)
			return;
		if (a > from)
			from = a;
		if (e < until)
			until = e;
		total += pc[i].size;
	}
	uint8_t *chain = malloc(total ? total : 1);
	if (chain == NULL)
		return;
	uint8_t *p = chain;
	for (unsigned i = 0; i < n; i++) {
		memcpy(p, pc[i].data, pc[i].size);
		p += pc[i].size;
	}
	pthread_mutex_lock(&m->lock);
	free(m->chain);
	m->chain = chain;
	m->n = n;
	for (unsigned i = 0; i < n; i++)
		m->len[i] = pc[i].size;
	m->from = from;
	m->until = until;
	m->checked = now;
	pthread_mutex_unlock(&m->lock);
}

/* GnuTLS's certificate check for a client on shared credentials (struct
 * qc_memo): 0 accepts the server's chain, a GnuTLS error ends the handshake. */
static int qc_verify(gnutls_session_t s)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	struct qc_memo *m = ((struct quic_client *)ref->user_data)->memo;
	unsigned n = 0;
	const gnutls_datum_t *pc = gnutls_certificate_get_peers(s, &n);
	gnutls_datum_t ocsp;
	bool stapled = gnutls_ocsp_status_request_get2(s, 0, &ocsp) == 0;
	time_t now = time(NULL);
	if (pc != NULL && n > 0 && !stapled) {
		pthread_mutex_lock(&m->lock);
		bool hit = memo_holds(m, pc, n, now);
		pthread_mutex_unlock(&m->lock);
		if (hit)
			return 0;
	}
	unsigned status = 0;
	int rv = gnutls_certificate_verify_peers2(s, &status);
	pthread_mutex_lock(&m->lock);
	m->full++;
	pthread_mutex_unlock(&m->lock);
	if (rv < 0)
		return GNUTLS_E_CERTIFICATE_ERROR;
	if (status != 0)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	if (!stapled)
		memo_store(m, pc, n, now);
	return 0;
}

static void qc_path(struct quic_client *c, ngtcp2_path *p)
{
	p->local.addr = (ngtcp2_sockaddr *)&c->local;
	p->local.addrlen = c->locallen;
	p->remote.addr = (ngtcp2_sockaddr *)&c->peer;
	p->remote.addrlen = c->peerlen;
	p->user_data = NULL;
}

static int qc_socket(struct quic_client *c)
{
	int fd = socket(c->peer.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (c->has_source && bind(fd, (struct sockaddr *)&c->source, sa_len(&c->source)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (connect(fd, (struct sockaddr *)&c->peer, c->peerlen) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	c->locallen = sizeof(c->local);
	getsockname(fd, (struct sockaddr *)&c->local, &c->locallen);
	return fd;
}

static int qc_send(struct quic_client *c)
{
	uint64_t now = quic_now();
	ngtcp2_path_storage ps;
	memset(&ps, 0, sizeof(ps));
	ps.path.local.addr = (ngtcp2_sockaddr *)&ps.local_addrbuf;
	ps.path.remote.addr = (ngtcp2_sockaddr *)&ps.remote_addrbuf;
	ngtcp2_pkt_info pi;
	for (int i = 0; i < 256; i++) {
		ngtcp2_vec v[8];
		int64_t sid = -1;
		size_t vcnt = 0;
		bool extra = false;
		if (c->extra >= 0 && c->extra_len) {
			v[0].base = c->extra_data;
			v[0].len = c->extra_len;
			sid = c->extra;
			vcnt = 1;
			extra = true;
		} else if (c->stream >= 0 && (vcnt = quic_outq_unsent(&c->out, v, 8)) > 0) {
			sid = c->stream;
		} else if (c->stream >= 0 && c->open_pending) {
			sid = c->stream; /* a 0-length STREAM frame opens it */
		}
		ngtcp2_ssize used = -1;
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(
		    c->conn, &ps.path, &pi, c->buf, sizeof(c->buf), &used,
		    NGTCP2_WRITE_STREAM_FLAG_NONE, sid, vcnt ? v : NULL, vcnt, now);
		if (n < 0) {
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
			    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				if (extra)
					c->extra_len = 0;
				n = ngtcp2_conn_write_pkt(c->conn, &ps.path, &pi, c->buf,
							  sizeof(c->buf), now);
				if (n < 0)
					return LISPMS_ECONNRESET;
			} else {
				return LISPMS_ECONNRESET;
			}
		} else if (sid == c->stream && vcnt == 0 && used >= 0) {
			c->open_pending = false;
		} else if (used > 0) {
			if (extra)
				c->extra_len = 0; /* one chunk, small */
			else
				quic_outq_sent(&c->out, (size_t)used);
		}
		if (n == 0)
			return 0;
		c->ntx++;
		if (c->drop_every && c->ntx % c->drop_every == 0)
			continue; /* simulated loss: ngtcp2 believes it went out */
		if (send(c->fd, c->buf, (size_t)n, MSG_DONTWAIT) < 0 && errno != EAGAIN) {
			/* a pending ICMP port unreachable: fatal before the
			 * handshake (LISPMS_ECONNREFUSED); after it, ignored (it
			 * may be forged) and the loss timers send again */
			if (errno == ECONNREFUSED && c->ready)
				continue;
			return -errno;
		}
	}
	return 0;
}

int quic_client_service(struct quic_client *c)
{
	if (c->gone)
		return c->gone;
	/* per thread: lispms-bench drives clients from several threads */
	static _Thread_local uint8_t rx[65536];
	uint64_t now = quic_now();
	for (;;) {
		ssize_t r = recv(c->fd, rx, sizeof(rx), MSG_DONTWAIT);
		if (r < 0 && errno == ECONNREFUSED) {
			/* ICMP port unreachable before the handshake: nothing listens
			 * there, so say so now rather than after the handshake's
			 * timeouts; afterwards it is ignored (it may be forged) and
			 * the datagrams behind it are read */
			if (!c->ready) {
				c->gone = LISPMS_ECONNREFUSED;
				return c->gone;
			}
			continue;
		}
		if (r < 0)
			break;
		ngtcp2_path path;
		qc_path(c, &path);
		ngtcp2_pkt_info pi = { 0 };
		int rv = ngtcp2_conn_read_pkt(c->conn, &path, &pi, rx, (size_t)r, now);
		if (rv == NGTCP2_ERR_DRAINING || rv == NGTCP2_ERR_CLOSING) {
			c->gone = LISPMS_ECONNRESET;
			return c->gone;
		}
		if (rv != 0 && rv != NGTCP2_ERR_DISCARD_PKT) {
			c->gone = LISPMS_ECONNRESET;
			return c->gone;
		}
	}
	if (ngtcp2_conn_get_expiry(c->conn) <= now) {
		int rv = ngtcp2_conn_handle_expiry(c->conn, now);
		if (rv == NGTCP2_ERR_IDLE_CLOSE) {
			c->gone = LISPMS_ETIMEDOUT;
			return c->gone;
		}
		if (rv != 0) {
			c->gone = LISPMS_ECONNRESET;
			return c->gone;
		}
	}
	int rc = qc_send(c);
	if (rc < 0)
		c->gone = rc;
	return rc;
}

int quic_client_fd(const struct quic_client *c)
{
	return c->fd;
}

uint64_t quic_client_expiry(const struct quic_client *c)
{
	return ngtcp2_conn_get_expiry(c->conn);
}

bool quic_client_ready(const struct quic_client *c)
{
	return c->ready;
}

/* Wait for the socket or the next timer, `deadline` at most; service. */
static int qc_step(struct quic_client *c, uint64_t deadline)
{
	uint64_t now = quic_now();
	uint64_t t = ngtcp2_conn_get_expiry(c->conn);
	if (t > deadline)
		t = deadline;
	int ms = t <= now ? 0 : (int)((t - now + 999999) / 1000000);
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	(void)poll(&p, 1, ms);
	return quic_client_service(c);
}

int quic_client_wait_ready(struct quic_client *c, int timeout_ms)
{
	uint64_t deadline = quic_now() + (uint64_t)timeout_ms * 1000000u;
	while (!c->ready) {
		int rc = qc_step(c, deadline);
		if (rc < 0)
			return rc;
		if (quic_now() >= deadline)
			return c->ready ? 0 : LISPMS_ETIMEDOUT;
	}
	return 0;
}

int quic_client_open_stream(struct quic_client *c)
{
	if (c->gone)
		return c->gone;
	if (c->stream >= 0)
		return 0;
	if (ngtcp2_conn_open_bidi_stream(c->conn, &c->stream, NULL) != 0)
		return LISPMS_EAGAIN;
	c->open_pending = true;
	return qc_send(c);
}

size_t quic_client_unacked(const struct quic_client *c)
{
	return c->out.len;
}

int quic_client_gone(const struct quic_client *c)
{
	return c->gone;
}

int quic_client_write(struct quic_client *c, const uint8_t *buf, size_t len)
{
	if (c->gone)
		return c->gone;
	if (c->stream < 0) {
		int rv = ngtcp2_conn_open_bidi_stream(c->conn, &c->stream, NULL);
		if (rv != 0)
			return LISPMS_EAGAIN;
	}
	if (quic_outq_push(&c->out, buf, len) != LISPMS_EOK)
		return LISPMS_ENOMEM;
	return qc_send(c);
}

ssize_t quic_client_read(struct quic_client *c, uint8_t *buf, size_t cap, int timeout_ms)
{
	uint64_t deadline = quic_now() + (uint64_t)timeout_ms * 1000000u;
	while (c->in_len == 0) {
		/* no wait: service() reads what the socket holds without a poll
		 * (lispms-bench reads every ETR this way, a syscall each) */
		int rc = timeout_ms > 0 ? qc_step(c, deadline) : quic_client_service(c);
		if (rc < 0 && c->in_len == 0)
			return rc;
		if (quic_now() >= deadline)
			break;
	}
	size_t n = c->in_len < cap ? c->in_len : cap;
	if (n > 0) { /* nothing read yet: c->in may be NULL */
		memcpy(buf, c->in, n);
		memmove(c->in, c->in + n, c->in_len - n);
		c->in_len -= n;
	}
	if (n && c->stream >= 0 && !c->gone) {
		ngtcp2_conn_extend_max_stream_offset(c->conn, c->stream, n);
		ngtcp2_conn_extend_max_offset(c->conn, n);
	}
	return (ssize_t)n;
}

int64_t quic_client_extra_stream(struct quic_client *c, const uint8_t *buf, size_t len)
{
	int64_t id;
	if (len > sizeof(c->extra_data))
		return LISPMS_EINVAL;
	int rv = ngtcp2_conn_open_bidi_stream(c->conn, &id, NULL);
	if (rv != 0)
		return LISPMS_EAGAIN;
	c->extra = id;
	memcpy(c->extra_data, buf, len);
	c->extra_len = len;
	int rc = qc_send(c);
	return rc < 0 ? rc : id;
}

bool quic_client_stream_refused(const struct quic_client *c, int64_t id)
{
	for (size_t i = 0; i < c->nrefused; i++)
		if (c->refused[i] == id)
			return true;
	return false;
}

int quic_client_key_update(struct quic_client *c)
{
	if (c->gone)
		return c->gone;
	if (ngtcp2_conn_initiate_key_update(c->conn, quic_now()) != 0)
		return LISPMS_EAGAIN;
	return qc_send(c);
}

int quic_client_post_handshake_crypto(struct quic_client *c, const uint8_t *buf, size_t len)
{
	if (c->gone)
		return c->gone;
	if (ngtcp2_conn_submit_crypto_data(c->conn, NGTCP2_CRYPTO_LEVEL_APPLICATION, buf, len) != 0)
		return LISPMS_EAGAIN;
	return qc_send(c);
}

int quic_client_rebind(struct quic_client *c)
{
	int fd = qc_socket(c);
	if (fd < 0)
		return fd;
	close(c->fd);
	c->fd = fd;
	/* tell ngtcp2 nothing: the new path is what the server must refuse */
	ngtcp2_path path;
	qc_path(c, &path);
	ngtcp2_conn_set_local_addr(c->conn, &path.local);
	return 0;
}

void quic_client_close(struct quic_client *c)
{
	if (c->gone)
		return;
	ngtcp2_connection_close_error ce;
	ngtcp2_connection_close_error_default(&ce);
	ngtcp2_path_storage ps;
	memset(&ps, 0, sizeof(ps));
	ps.path.local.addr = (ngtcp2_sockaddr *)&ps.local_addrbuf;
	ps.path.remote.addr = (ngtcp2_sockaddr *)&ps.remote_addrbuf;
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi, c->buf,
							    sizeof(c->buf), &ce, quic_now());
	if (n > 0)
		(void)send(c->fd, c->buf, (size_t)n, MSG_DONTWAIT);
	c->gone = LISPMS_ECONNRESET;
}

static int cred_load(gnutls_certificate_credentials_t *out, const struct quic_client_conf *conf)
{
	gnutls_certificate_credentials_t cr;
	if (gnutls_certificate_allocate_credentials(&cr) < 0)
		return LISPMS_ENOMEM;
	if ((conf->ca_file &&
	     gnutls_certificate_set_x509_trust_file(cr, conf->ca_file, GNUTLS_X509_FMT_PEM) <= 0) ||
	    (conf->cert && conf->key &&
	     gnutls_certificate_set_x509_key_file(cr, conf->cert, conf->key, GNUTLS_X509_FMT_PEM) <
		 0)) {
		gnutls_certificate_free_credentials(cr);
		return LISPMS_ECONFIG;
	}
	*out = cr;
	return LISPMS_EOK;
}

int quic_client_cred_new(struct quic_client_cred **out, const struct quic_client_conf *conf)
{
	struct quic_client_cred *cr = calloc(1, sizeof(*cr));
	if (!cr)
		return LISPMS_ENOMEM;
	cr->memo = calloc(1, sizeof(*cr->memo));
	if (!cr->memo) {
		free(cr);
		return LISPMS_ENOMEM;
	}
	pthread_mutex_init(&cr->memo->lock, NULL);
	int rc = cred_load(&cr->cred, conf);
	if (rc != LISPMS_EOK) {
		pthread_mutex_destroy(&cr->memo->lock);
		free(cr->memo);
		free(cr);
		return rc;
	}
	*out = cr;
	return LISPMS_EOK;
}

uint64_t quic_client_cred_full_checks(struct quic_client_cred *cr)
{
	pthread_mutex_lock(&cr->memo->lock);
	uint64_t n = cr->memo->full;
	pthread_mutex_unlock(&cr->memo->lock);
	return n;
}

void quic_client_cred_free(struct quic_client_cred *cr)
{
	if (!cr)
		return;
	gnutls_certificate_free_credentials(cr->cred);
	pthread_mutex_destroy(&cr->memo->lock);
	free(cr->memo->chain);
	free(cr->memo);
	free(cr);
}

int quic_client_new(struct quic_client **out, const struct quic_client_conf *conf,
		    const struct sockaddr_storage *server)
{
	struct quic_client *c = calloc(1, sizeof(*c));
	if (!c)
		return LISPMS_ENOMEM;
	c->stream = -1;
	c->extra = -1;
	c->peer = *server;
	c->peerlen = sa_len(server);
	c->ref.get_conn = qc_get_conn;
	c->ref.user_data = c;
	snprintf(c->alpn, sizeof(c->alpn), "%s", conf->alpn ? conf->alpn : "lisp-rt");
	c->drop_every = conf->drop_every;
	if (conf->source) {
		c->source = *conf->source;
		c->has_source = true;
	}
	int rc = LISPMS_ENOMEM;
	c->fd = qc_socket(c);
	if (c->fd < 0) {
		rc = c->fd;
		free(c);
		return rc;
	}
	if (conf->keylog)
		c->keylog = fopen(conf->keylog, "a");

	if (conf->cred) {
		c->cred = conf->cred->cred;
		c->memo = conf->cred->memo;
	} else {
		c->own_cred = true;
		rc = cred_load(&c->cred, conf);
		if (rc != LISPMS_EOK) {
			c->cred = NULL;
			goto fail;
		}
		rc = LISPMS_ENOMEM;
	}
	if (gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA |
				     GNUTLS_NO_END_OF_EARLY_DATA) < 0) {
		c->tls = NULL;
		goto fail;
	}
	gnutls_datum_t alpn = { (unsigned char *)c->alpn, (unsigned int)strlen(c->alpn) };
	(void)pthread_once(&qc_prio_once, qc_prio_init);
	if (qc_prio_rc < 0 || gnutls_priority_set(c->tls, qc_prio) < 0 ||
	    ngtcp2_crypto_gnutls_configure_client_session(c->tls) != 0 ||
	    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred) < 0 ||
	    gnutls_alpn_set_protocols(c->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY) < 0)
		goto fail;
	if (conf->ca_file && c->memo)
		gnutls_session_set_verify_function(c->tls, qc_verify);
	else if (conf->ca_file)
		gnutls_session_set_verify_cert(c->tls, NULL, 0);
	gnutls_session_set_ptr(c->tls, &c->ref);
	gnutls_session_set_keylog_function(c->tls, qc_keylog);

	ngtcp2_cid dcid, scid;
	dcid.datalen = 18;
	qc_rand(dcid.data, dcid.datalen, NULL);
	scid.datalen = 16;
	qc_rand(scid.data, scid.datalen, NULL);
	ngtcp2_settings st;
	ngtcp2_settings_default(&st);
	st.initial_ts = quic_now();
	ngtcp2_transport_params tp;
	ngtcp2_transport_params_default(&tp);
	tp.initial_max_streams_bidi = 0;
	tp.initial_max_streams_uni = 0;
	tp.initial_max_stream_data_bidi_local = 1 << 20;
	tp.initial_max_data = 4 << 20;
	tp.max_idle_timeout =
	    (uint64_t)(conf->idle_timeout_ms ? conf->idle_timeout_ms : 60000) * NGTCP2_MILLISECONDS;
	ngtcp2_path path;
	qc_path(c, &path);
	if (ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &client_cbs,
				   &st, &tp, NULL, c) != 0) {
		c->conn = NULL;
		goto fail;
	}
	ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
	*out = c;
	rc = qc_send(c);
	if (rc < 0) {
		*out = NULL;
		quic_client_free(c);
	}
	return rc;
fail:
	quic_client_free(c);
	return rc;
}

void quic_client_free(struct quic_client *c)
{
	if (!c)
		return;
	if (c->conn)
		ngtcp2_conn_del(c->conn);
	if (c->tls)
		gnutls_deinit(c->tls);
	if (c->cred && c->own_cred)
		gnutls_certificate_free_credentials(c->cred);
	if (c->keylog)
		fclose(c->keylog);
	if (c->fd >= 0)
		close(c->fd);
	quic_outq_free(&c->out);
	free(c->in);
	free(c);
}
