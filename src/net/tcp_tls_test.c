/* SPDX-License-Identifier: MIT */
/* TLS over TCP (tcp_tls.c): how a session's writes become records. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/net.h>
#include <lispms/stream.h>

#include "test_ca.h"
#include "tls_cred.h"

static struct tls_cred *cred;

static void setup(void)
{
	test_ca_make("tls");
	char err[256];
	cr_assert_eq(tls_cred_load(&cred, test_ca("server.pem"), test_ca("server-key.pem"), NULL,
				   err, sizeof(err)),
		     0, "%s", err);
}

static void teardown(void)
{
	tls_cred_free(cred);
	test_ca_remove();
}

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 60);

#define MSGS 50
#define MSG  40

/* Every chunk received is answered with MSGS messages of MSG bytes (one
 * stream_write each, as the request core writes its ACKs); "close" also
 * closes the session after them. */
static struct stream_conn *sconn;

static void *b_open(void *arg, struct stream_conn *c, const struct sockaddr_storage *peer)
{
	(void)arg, (void)peer;
	sconn = c;
	return &sconn; /* any non-NULL session */
}

static int b_recv(void *arg, void *sess, const uint8_t *buf, size_t len)
{
	(void)arg, (void)sess;
	uint8_t msg[MSG];
	for (int i = 0; i < MSGS; i++) {
		memset(msg, 'a' + i % 26, sizeof(msg));
		cr_assert_eq(stream_write(sconn, msg, sizeof(msg)), LISPMS_EOK);
	}
	if (len >= 5 && memcmp(buf, "close", 5) == 0)
		stream_close(sconn);
	return 0;
}

static void b_closed(void *arg, void *sess, enum stream_close_cause why)
{
	(void)arg, (void)sess, (void)why;
}

static const struct stream_handler burst_ops = { .open = b_open,
						 .recv = b_recv,
						 .closed = b_closed };

static void no_dgram(void *arg, const struct dgram *rx, unsigned n, struct dgram_outbox *out)
{
	(void)arg, (void)rx, (void)n, (void)out;
}

static uint16_t free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

static struct net_worker *tls_worker(uint16_t *tport)
{
	struct sockaddr_storage ss;
	cr_assert_eq(saddr_parse("127.0.0.1", &ss), LISPMS_EOK);
	struct net_worker *w = NULL;
	char err[128] = "";
	for (int attempt = 0; w == NULL && attempt < 10; attempt++) {
		*tport = free_port(SOCK_STREAM);
		struct net_worker_conf conf = { .addrs = &ss,
						.naddrs = 1,
						.port = free_port(SOCK_DGRAM),
						.cpu = -1,
						.handler = no_dgram,
						.stream = &burst_ops,
						.tls_port = *tport,
						.tls_cred = cred };
		w = net_worker_new(&conf, err, sizeof(err));
	}
	cr_assert_not_null(w, "worker: %s", err);
	cr_assert_eq(net_worker_start(w, "tls-test"), LISPMS_EOK);
	return w;
}

/* The client's view of the wire: the records it was sent, counted from
 * their 5-byte headers as they pass through its pull function. */
struct wire {
	int fd;
	long records;
	uint8_t hdr[5];
	size_t hdr_have;
	size_t body_left;
};

static ssize_t wire_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct wire *wr = ptr;
	ssize_t n = recv(wr->fd, buf, len, 0);
	for (ssize_t i = 0; i < n; i++) {
		if (wr->body_left > 0) {
			size_t take =
			    wr->body_left < (size_t)(n - i) ? wr->body_left : (size_t)(n - i);
			wr->body_left -= take;
			i += (ssize_t)take - 1;
			continue;
		}
		wr->hdr[wr->hdr_have++] = ((const uint8_t *)buf)[i];
		if (wr->hdr_have == 5) {
			wr->records++;
			wr->body_left = (size_t)wr->hdr[3] << 8 | wr->hdr[4];
			wr->hdr_have = 0;
		}
	}
	return n;
}

static int wire_wait(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct pollfd pf = { .fd = ((struct wire *)ptr)->fd, .events = POLLIN };
	return poll(&pf, 1, (int)ms);
}

static ssize_t wire_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	return send(((struct wire *)ptr)->fd, buf, len, MSG_NOSIGNAL);
}

static gnutls_session_t client(uint16_t port, struct wire *wr, gnutls_certificate_credentials_t *cc)
{
	wr->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 5 }; /* every read bounded */
	setsockopt(wr->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	cr_assert_eq(connect(wr->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	gnutls_session_t s;
	cr_assert_geq(gnutls_certificate_allocate_credentials(cc), 0);
	cr_assert_gt(
	    gnutls_certificate_set_x509_trust_file(*cc, test_ca("ca.pem"), GNUTLS_X509_FMT_PEM), 0);
	cr_assert_geq(gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL), 0);
	cr_assert_geq(gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL), 0);
	cr_assert_geq(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, *cc), 0);
	gnutls_session_set_verify_cert(s, NULL, 0);
	gnutls_transport_set_ptr(s, wr);
	gnutls_transport_set_pull_function(s, wire_pull);
	gnutls_transport_set_push_function(s, wire_push);
	gnutls_transport_set_pull_timeout_function(s, wire_wait);
	gnutls_handshake_set_timeout(s, 5000);
	int g;
	do
		g = gnutls_handshake(s);
	while (g < 0 && !gnutls_error_is_fatal(g));
	cr_assert_geq(g, 0, "handshake: %s", gnutls_strerror(g));
	return s;
}

/* Read exactly `want` bytes of plaintext (bounded by the socket timeout);
 * checks the burst's content. */
static void read_burst(gnutls_session_t s)
{
	uint8_t got[MSGS * MSG];
	size_t have = 0;
	while (have < sizeof(got)) {
		ssize_t n = gnutls_record_recv(s, got + have, sizeof(got) - have);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		cr_assert_gt(n, 0, "after %zu bytes: %s", have, gnutls_strerror((int)n));
		have += (size_t)n;
	}
	for (int i = 0; i < MSGS; i++)
		cr_assert_eq(got[i * MSG], 'a' + i % 26, "message %d out of order", i);
}

/*
 * The messages a session writes in one round of the worker leave as one
 * record, not one record each (issue 15): before, 50 answers to one chunk
 * were 50 records (50 x 22 bytes of header and tag, 50 AEAD passes).
 */
Test(tls, a_burst_of_messages_leaves_as_few_records)
{
	uint16_t port;
	struct net_worker *w = tls_worker(&port);
	struct wire wr = { 0 };
	gnutls_certificate_credentials_t cc;
	gnutls_session_t s = client(port, &wr, &cc);
	cr_assert_eq(gnutls_record_send(s, "go", 2), 2);
	long before = wr.records; /* the handshake's, and session tickets */
	read_burst(s);
	long burst = wr.records - before;
	cr_assert_leq(burst, 3, "%d messages of %d bytes came in %ld records", MSGS, MSG, burst);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cc);
	close(wr.fd);
	net_worker_free(w);
}

/* A session closed after a burst: the held records go out before its
 * close_notify, and the client sees every message then a clean end. */
Test(tls, held_records_go_before_close_notify)
{
	uint16_t port;
	struct net_worker *w = tls_worker(&port);
	struct wire wr = { 0 };
	gnutls_certificate_credentials_t cc;
	gnutls_session_t s = client(port, &wr, &cc);
	cr_assert_eq(gnutls_record_send(s, "close", 5), 5);
	read_burst(s);
	uint8_t more[64];
	ssize_t n;
	do
		n = gnutls_record_recv(s, more, sizeof(more));
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	cr_assert_eq(n, 0, "no close_notify after the messages: %zd (%s)", n,
		     n < 0 ? gnutls_strerror((int)n) : "data");
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cc);
	close(wr.fd);
	net_worker_free(w);
}
