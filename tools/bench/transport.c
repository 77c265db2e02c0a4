/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>

#include <lispms/dgram.h>
#include <lispms/err.h>

#include "config.h"

#if LISPMS_HAVE_QUIC
#include "quic_client.h"
#endif

#if LISPMS_HAVE_SCTP
#include "sctp.h"
#endif

#if BENCH_HAVE_TLS
#include <stdio.h>

#include <fcntl.h>
#include <gnutls/gnutls.h>
#endif

/* Close fd keeping errno (the cause) for the caller; returns -1. */
static int close_fail(int fd)
{
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* server with port p (0: as it is). */
static struct sockaddr_storage with_port(const struct sockaddr_storage *server, uint16_t p)
{
	struct sockaddr_storage dst = *server;
	if (p != 0)
		saddr_set_port(&dst, p);
	return dst;
}

/* A TCP socket from src (IPv4, host order) bound and connected to the server
 * on port p (0: the server's); `flags` adds SOCK_NONBLOCK for a connect that
 * completes later. Returns the fd, or -1 with errno set and nothing open. */
static int tcp_connect(uint16_t p, uint32_t src, const struct sockaddr_storage *server, int flags)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(src) };
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	struct sockaddr_storage dst = with_port(server, p);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (connect(fd, (const struct sockaddr *)&dst, saddr_len(&dst)) != 0 &&
	     errno != EINPROGRESS))
		return close_fail(fd);
	return fd;
}

static const struct bench_transport tcp;

static int tcp_open(const struct bench_transport_opts *o, uint32_t src,
		    const struct sockaddr_storage *server, void **state)
{
	*state = NULL;
	return tcp_connect(bench_transport_port(o, &tcp), src, server, SOCK_NONBLOCK);
}

static ssize_t tcp_send(int fd, void *state, const uint8_t *buf, size_t len)
{
	(void)state;
	return send(fd, buf, len, MSG_NOSIGNAL);
}

static ssize_t tcp_recv(int fd, void *state, uint8_t *buf, size_t len)
{
	(void)state;
	return recv(fd, buf, len, 0);
}

static void tcp_close(int fd, void *state)
{
	(void)state;
	close(fd);
}

static const struct bench_transport tcp = {
	.name = "tcp",
	.id = BT_TCP,
	.open = tcp_open,
	.send = tcp_send,
	.recv = tcp_recv,
	.close = tcp_close,
};

#if LISPMS_HAVE_QUIC
/* QUIC (D17) through src/net's quic_client: the connection's own UDP socket
 * is the fd to watch. Every recv services the connection (packets, timers,
 * ACKs) and opens the session stream, with an empty STREAM frame, once the
 * handshake is done; the server then sends its Refresh as on TCP. The
 * client's timers (expiry) make the ETR thread call recv when due, so a lost
 * datagram is sent again on its probe timeout even if the server is quiet. */
#define QUIC_BENCH_BACKLOG (1u << 20) /* unacknowledged bytes before EAGAIN */

/* --ca, --cert, --key loaded once for every ETR of the process: loading
 * them per connection cost more CPU than the handshake in a storm. */
static struct quic_client_cred *quic_cred;

static int quic_init(const struct bench_transport_opts *o, char *err, size_t errlen)
{
	if (o->ca && access(o->ca, R_OK) != 0) {
		snprintf(err, errlen, "cannot read --ca %s (%s)", o->ca, strerror(errno));
		return -1;
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		snprintf(err, errlen, "--cert and --key go together");
		return -1;
	}
	struct quic_client_conf cc = { .ca_file = o->ca, .cert = o->cert, .key = o->key };
	if (quic_cred == NULL && quic_client_cred_new(&quic_cred, &cc) != 0) {
		snprintf(err, errlen, "cannot load --ca, --cert or --key");
		return -1;
	}
	return 0;
}

static const struct bench_transport quic;

static int quic_open(const struct bench_transport_opts *o, uint32_t src,
		     const struct sockaddr_storage *server, void **state)
{
	*state = NULL;
	struct sockaddr_storage s = { 0 }, dst = with_port(server, bench_transport_port(o, &quic));
	struct sockaddr_in *sa = (struct sockaddr_in *)&s;
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(src);
	struct quic_client_conf cc = { .ca_file = o->ca,
				       .cert = o->cert,
				       .key = o->key,
				       .keylog = getenv("SSLKEYLOGFILE"),
				       .source = &s,
				       .drop_every = o->drop_every,
				       .cred = quic_cred };
	struct quic_client *c = NULL;
	int rc = quic_client_new(&c, &cc, &dst);
	if (rc != 0) {
		errno = rc == LISPMS_ECONFIG ? EINVAL : -rc;
		return -1;
	}
	*state = c;
	return quic_client_fd(c);
}

static ssize_t quic_send(int fd, void *state, const uint8_t *buf, size_t len)
{
	(void)fd;
	struct quic_client *c = state;
	(void)quic_client_service(c);
	if (quic_client_gone(c)) {
		errno = ECONNRESET;
		return -1;
	}
	if (!quic_client_ready(c) || quic_client_unacked(c) >= QUIC_BENCH_BACKLOG) {
		errno = EAGAIN;
		return -1;
	}
	if (quic_client_write(c, buf, len) < 0) {
		errno = ECONNRESET;
		return -1;
	}
	return (ssize_t)len;
}

static ssize_t quic_recv(int fd, void *state, uint8_t *buf, size_t len)
{
	(void)fd;
	struct quic_client *c = state;
	ssize_t n = quic_client_read(c, buf, len, 0);
	if (n == LISPMS_ECONNREFUSED) { /* nothing listens there */
		errno = ECONNREFUSED;
		return -1;
	}
	if (n < 0)
		return 0; /* closed by the server, or its idle timeout */
	if (n == 0 && quic_client_ready(c) && quic_client_open_stream(c) < 0)
		return 0;
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	return n;
}

static void quic_close(int fd, void *state)
{
	(void)fd; /* the client's own socket, closed with it */
	struct quic_client *c = state;
	if (c) {
		quic_client_close(c);
		quic_client_free(c);
	}
}

static uint64_t quic_expiry(void *state)
{
	return quic_client_expiry(state); /* CLOCK_MONOTONIC, as mtime_now_ns */
}

static bool quic_ready(void *state)
{
	return quic_client_ready(state);
}

static const struct bench_transport quic = {
	.name = "quic",
	.id = BT_QUIC,
	.default_port = 4343,
	.init = quic_init,
	.open = quic_open,
	.send = quic_send,
	.recv = quic_recv,
	.close = quic_close,
	.expiry = quic_expiry,
	.open_ms = 10000,
	.ready = quic_ready,
};
#endif

#if LISPMS_HAVE_SCTP
/* SCTP over UDP encapsulation (D18): the fd is the ETR's connected UDP
 * socket to the server's encapsulation port (--transport-port, 9899 by
 * default); the SCTP port is 4342. An ICMP port unreachable before the
 * association is up ends it at once (sctp_client_input), so auto moves on
 * without waiting for the INIT's timeouts. One thread runs the process's usrsctp
 * timers every 10 ms (usrsctp's own locks make that safe). */
static void *sctp_timers(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sctp_stack_timers((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
		usleep(10000);
	}
	return NULL;
}

static int sctp_init(const struct bench_transport_opts *o, char *err, size_t errlen)
{
	(void)o;
	pthread_t t;
	if (sctp_stack_init() != 0 || pthread_create(&t, NULL, sctp_timers, NULL) != 0) {
		snprintf(err, errlen, "cannot start the SCTP stack");
		return -1;
	}
	pthread_detach(t);
	return 0;
}

static const struct bench_transport sctp;

static int sctp_open(const struct bench_transport_opts *o, uint32_t src,
		     const struct sockaddr_storage *server, void **state)
{
	*state = NULL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(src) };
	struct sockaddr_storage dst = with_port(server, bench_transport_port(o, &sctp));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    connect(fd, (const struct sockaddr *)&dst, saddr_len(&dst)) != 0)
		return close_fail(fd);
	struct sctp_client *c = sctp_client_new(fd, 4342);
	if (c == NULL)
		return close_fail(fd);
	*state = c;
	return fd;
}

static ssize_t sctp_send(int fd, void *state, const uint8_t *buf, size_t len)
{
	(void)fd;
	if (!sctp_client_up(state)) {
		errno = EAGAIN;
		return -1;
	}
	return sctp_client_send(state, 0, buf, len);
}

static ssize_t sctp_recv(int fd, void *state, uint8_t *buf, size_t len)
{
	(void)fd;
	sctp_client_input(state);
	return sctp_client_recv(state, buf, len);
}

static void sctp_close(int fd, void *state)
{
	sctp_client_free(state);
	close(fd);
}

static bool sctp_ready(void *state)
{
	return sctp_client_up(state);
}

static const struct bench_transport sctp = {
	.name = "sctp",
	.id = BT_SCTP,
	.default_port = 9899,
	.init = sctp_init,
	.open = sctp_open,
	.send = sctp_send,
	.recv = sctp_recv,
	.close = sctp_close,
	/* a storm's handshake may lose a packet to a full socket: the INIT or
	 * COOKIE-ECHO goes out again after RTO 1 s, then 2 s, 4 s */
	.open_ms = 8000,
	.ready = sctp_ready,
};
#endif

#if BENCH_HAVE_TLS
/* TLS 1.3 over TCP (D19): connect and handshake blocking in open (one
 * handshake at a time per ETR thread), then non-blocking records. */
static gnutls_certificate_credentials_t tls_cred;
static const struct bench_transport tls;

static int tls_init(const struct bench_transport_opts *o, char *err, size_t errlen)
{
	if (gnutls_certificate_allocate_credentials(&tls_cred) < 0 ||
	    (o->ca &&
	     gnutls_certificate_set_x509_trust_file(tls_cred, o->ca, GNUTLS_X509_FMT_PEM) <= 0) ||
	    (o->cert && gnutls_certificate_set_x509_key_file(tls_cred, o->cert, o->key,
							     GNUTLS_X509_FMT_PEM) < 0)) {
		snprintf(err, errlen, "tls: cannot load --ca, --cert or --key");
		return -1;
	}
	return 0;
}

static int tls_open(const struct bench_transport_opts *o, uint32_t src,
		    const struct sockaddr_storage *server, void **state)
{
	*state = NULL;
	/* blocking: connect completes here */
	int fd = tcp_connect(bench_transport_port(o, &tls), src, server, 0);
	if (fd < 0)
		return -1;
	gnutls_session_t s = NULL;
	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) < 0) {
		s = NULL;
		goto fail_reset;
	}
	if (gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, tls_cred) < 0)
		goto fail_reset;
	if (o->ca)
		gnutls_session_set_verify_cert(s, NULL, 0);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	int g;
	do
		g = gnutls_handshake(s);
	while (g < 0 && !gnutls_error_is_fatal(g));
	if (g < 0)
		goto fail_reset;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
		goto fail_reset;
	*state = s;
	return fd;

fail_reset:
	if (s)
		gnutls_deinit(s);
	errno = ECONNREFUSED;
	return close_fail(fd);
}

static ssize_t tls_errno(ssize_t n)
{
	if (n >= 0)
		return n;
	errno = n == GNUTLS_E_AGAIN ? EAGAIN : n == GNUTLS_E_INTERRUPTED ? EINTR : ECONNRESET;
	return -1;
}

static ssize_t tls_send(int fd, void *state, const uint8_t *buf, size_t len)
{
	(void)fd;
	return tls_errno(gnutls_record_send(state, buf, len));
}

static ssize_t tls_recv(int fd, void *state, uint8_t *buf, size_t len)
{
	(void)fd;
	ssize_t n = gnutls_record_recv(state, buf, len);
	return n == GNUTLS_E_PREMATURE_TERMINATION ? 0 : tls_errno(n);
}

static void tls_close(int fd, void *state)
{
	if (state) {
		(void)gnutls_bye(state, GNUTLS_SHUT_WR); /* non-blocking: best effort */
		gnutls_deinit(state);
	}
	close(fd);
}

static const struct bench_transport tls = {
	.name = "tls",
	.id = BT_TLS,
	.default_port = 4344,
	.init = tls_init,
	.open = tls_open,
	.send = tls_send,
	.recv = tls_recv,
	.close = tls_close,
};
#endif

/* In the seed's order of preference (002): TCP, then QUIC, then SCTP. */
static const struct bench_transport *const bench_transports[] = {
	&tcp,
#if LISPMS_HAVE_QUIC
	&quic,
#endif
#if LISPMS_HAVE_SCTP
	&sctp,
#endif
};

const struct bench_transport *bench_transport_find(const char *name)
{
	size_t n = sizeof(bench_transports) / sizeof(bench_transports[0]);
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, bench_transports[i]->name) == 0)
			return bench_transports[i];
#if BENCH_HAVE_TLS
	if (strcmp(name, "tls") == 0) /* never in auto's chain: not in the seed's list */
		return &tls;
#endif
	return NULL;
}

int bench_transport_chain(const char *name, struct bench_chain *out)
{
	*out = (struct bench_chain){ .name = name };
	if (strcmp(name, "auto") == 0) {
		size_t n = sizeof(bench_transports) / sizeof(bench_transports[0]);
		for (size_t i = 0; i < n && i < BENCH_CHAIN_MAX; i++)
			out->tr[out->n++] = bench_transports[i];
		return 0;
	}
	out->tr[0] = bench_transport_find(name);
	if (out->tr[0] == NULL)
		return -1;
	out->name = out->tr[0]->name;
	out->n = 1;
	return 0;
}

uint16_t bench_transport_port(const struct bench_transport_opts *o, const struct bench_transport *t)
{
	if (o->ports[t->id] != 0)
		return o->ports[t->id];
	return o->port != 0 ? o->port : t->default_port;
}

const char *bench_transport_names(void)
{
	if (LISPMS_HAVE_QUIC)
		return LISPMS_HAVE_SCTP
			   ? (BENCH_HAVE_TLS ? "tcp|tls|quic|sctp|auto" : "tcp|quic|sctp|auto")
			   : (BENCH_HAVE_TLS ? "tcp|tls|quic|auto" : "tcp|quic|auto");
	return LISPMS_HAVE_SCTP ? "tcp|sctp|auto" : "tcp|auto";
}
