/* SPDX-License-Identifier: MIT */
/*
 * The SCTP transport end to end on loopback, server and client in one
 * thread over RFC 6951 UDP encapsulation: admission at the COOKIE-ECHO and
 * no state before it, the one session stream, the peer's close.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <criterion/criterion.h>

#include <lispms/err.h>

#include "net_sock.h"
#include "sctp.h"
#include "sctp_stack.h"

struct echo {
	bool admit;
	int admitted, opened, closed;
	enum stream_close_cause why;
	struct stream_conn *conn;
	size_t received;
};

static bool e_admit(void *arg, enum stream_transport t, const struct sockaddr_storage *peer)
{
	struct echo *e = arg;
	cr_assert_eq(t, STREAM_SCTP);
	cr_assert_eq(peer->ss_family, AF_INET);
	e->admitted++;
	return e->admit;
}

static void *e_open(void *arg, struct stream_conn *c, const struct sockaddr_storage *peer)
{
	(void)peer;
	struct echo *e = arg;
	cr_assert_eq(c->transport, STREAM_SCTP);
	e->opened++;
	e->conn = c;
	return e;
}

static int e_recv(void *arg, void *sess, const uint8_t *buf, size_t len)
{
	struct echo *e = arg;
	cr_assert_eq(sess, e);
	e->received += len;
	return stream_write(e->conn, buf, len);
}

static void e_closed(void *arg, void *sess, enum stream_close_cause why)
{
	struct echo *e = arg;
	cr_assert_eq(sess, e);
	e->closed++;
	e->why = why;
}

static const struct stream_handler echo_handler = { e_admit, e_open, e_recv, e_closed };

static uint64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int udp_sock(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return fd;
}

static int client_sock(uint16_t server_port)
{
	uint16_t p;
	int fd = udp_sock(&p);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(server_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static struct sctp_server *srv;
static struct echo echo;
static int sfd;
static uint16_t sport;

static void setup(void)
{
	memset(&echo, 0, sizeof(echo));
	echo.admit = true;
	sfd = udp_sock(&sport);
	struct sctp_conf conf = { .port = 4342, .keepalive_ms = 1000, .user_timeout_ms = 3000 };
	char err[128];
	srv = sctp_server_new(&conf, &echo_handler, &echo, err, sizeof(err));
	cr_assert_not_null(srv, "%s", err);
}

static void teardown(void)
{
	sctp_server_free(srv);
	close(sfd);
}

/* Run both sides for up to ms, or until done() says so. */
static void pump(struct sctp_client **cs, size_t n, int ms, bool (*done)(void *), void *arg)
{
	uint64_t end = now() + (uint64_t)ms * 1000000u;
	while (now() < end) {
		sctp_server_read(srv, sfd, NULL);
		for (size_t i = 0; i < n; i++)
			if (cs[i])
				sctp_client_input(cs[i]);
		sctp_stack_timers(now());
		sctp_server_process(srv);
		if (done && done(arg))
			return;
		poll(NULL, 0, 1);
	}
}

static bool opened(void *arg)
{
	return echo.opened >= *(int *)arg;
}

static ssize_t client_recv(struct sctp_client **c, void *buf, size_t len, int ms)
{
	uint64_t end = now() + (uint64_t)ms * 1000000u;
	while (now() < end) {
		pump(c, 1, 1, NULL, NULL);
		ssize_t n = sctp_client_recv(*c, buf, len);
		if (n >= 0)
			return n;
	}
	return -1;
}

/* A client on a new socket (*cfd) whose association the server opened. */
static struct sctp_client *session_up(int *cfd)
{
	*cfd = client_sock(sport);
	struct sctp_client *c = sctp_client_new(*cfd, 4342);
	cr_assert_not_null(c, "%s", strerror(errno));
	int one = 1;
	pump(&c, 1, 3000, opened, &one);
	cr_assert_eq(echo.opened, 1);
	return c;
}

TestSuite(sctp, .init = setup, .fini = teardown, .timeout = 30);

Test(sctp, admitted_at_the_cookie_echo_then_stream_0_echoes_then_peer_close)
{
	int cfd;
	struct sctp_client *c = session_up(&cfd);
	cr_assert_eq(echo.admitted, 1, "admit() once, at the COOKIE-ECHO");
	cr_assert_eq(sctp_server_peers(srv), 1);
	cr_assert(sctp_client_up(c));
	cr_assert_eq(sctp_client_send(c, 0, "hello", 5), 5);
	char buf[64];
	ssize_t n = client_recv(&c, buf, sizeof(buf), 3000);
	cr_assert_eq(n, 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	cr_assert_eq(stream_queued(echo.conn), 0);
	cr_assert_eq(sctp_server_stats(srv)->accepted, 1);
	sctp_client_free(c);
	pump(NULL, 0, 500, NULL, NULL);
	cr_assert_eq(echo.closed, 1);
	cr_assert_eq(echo.why, STREAM_CLOSE_PEER);
	close(cfd);
}

Test(sctp, an_unauthorised_init_flood_keeps_no_state)
{
	echo.admit = false;
	enum { N = 50 };
	struct sctp_client *cs[N];
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = client_sock(sport);
		cs[i] = sctp_client_new(fds[i], 4342);
		cr_assert_not_null(cs[i]);
	}
	pump(cs, N, 1500, NULL, NULL);
	const struct sctp_stats *st = sctp_server_stats(srv);
	cr_assert_geq(st->inits_stateless, N, "every INIT answered statelessly");
	cr_assert_geq(echo.admitted, N, "every COOKIE-ECHO put to admission");
	cr_assert_geq(st->drop_unauthorised, N);
	cr_assert_eq(echo.opened, 0);
	cr_assert_eq(sctp_server_peers(srv), 0, "no peer state for an unauthorised INIT");
	cr_assert_eq(st->accepted, 0);
	for (int i = 0; i < N; i++) {
		cr_assert(!sctp_client_up(cs[i]));
		sctp_client_free(cs[i]);
		close(fds[i]);
	}
}

Test(sctp, a_second_stream_is_refused_and_the_session_goes_on)
{
	int cfd;
	struct sctp_client *c = session_up(&cfd);
	cr_assert_eq(sctp_client_send(c, 1, "other", 5), 5);
	pump(&c, 1, 300, NULL, NULL);
	cr_assert_eq(sctp_server_stats(srv)->streams_refused, 1);
	cr_assert_eq(echo.received, 0, "nothing from stream 1 reached the session");
	cr_assert_eq(sctp_client_send(c, 0, "abc", 3), 3);
	char buf[16];
	cr_assert_eq(client_recv(&c, buf, sizeof(buf), 3000), 3);
	cr_assert_eq(echo.closed, 0);
	sctp_client_free(c);
	close(cfd);
}

Test(sctp, an_operators_abort_ends_the_session_and_the_client_sees_it)
{
	int cfd;
	struct sctp_client *c = session_up(&cfd);
	stream_abort(echo.conn);
	sctp_server_process(srv);
	cr_assert_eq(echo.closed, 1);
	cr_assert_eq(echo.why, STREAM_CLOSE_ABORT);
	cr_assert_eq(sctp_server_peers(srv), 0);
	char buf[16];
	cr_assert_eq(client_recv(&c, buf, sizeof(buf), 3000), 0, "the client saw the ABORT");
	sctp_client_free(c);
	close(cfd);
}

Test(sctp, short_datagrams_are_dropped)
{
	struct sockaddr_storage peer = { .ss_family = AF_INET };
	uint8_t pkt[8] = { 0 };
	sctp_server_input(srv, sfd, &peer, pkt, 0);
	sctp_server_input(srv, sfd, &peer, pkt, sizeof(pkt));
	cr_assert_eq(sctp_server_stats(srv)->drop_malformed, 2);
	cr_assert_eq(sctp_server_peers(srv), 0);
}

static bool ended(void *arg)
{
	return sctp_client_ended(arg) && echo.closed >= 1;
}

Test(sctp, a_lost_shutdown_is_sent_again_and_both_ends_finish)
{
	int cfd;
	struct sctp_client *c = session_up(&cfd);
	sctp_client_shutdown(c);
	uint8_t lost[2048];
	cr_assert_gt(recv(sfd, lost, sizeof(lost), 0), 0, "the SHUTDOWN, dropped here");
	cr_assert_eq(echo.closed, 0);
	pump(&c, 1, 10000, ended, c); /* RTO 1 s: sent again */
	cr_assert_eq(echo.closed, 1, "the server saw the SHUTDOWN sent again");
	cr_assert_eq(echo.why, STREAM_CLOSE_PEER);
	cr_assert(sctp_client_ended(c), "the client saw SHUTDOWN-COMPLETE");
	sctp_client_free(c);
	close(cfd);
}

Test(sctp, receive_buffer_drops_are_counted)
{
	int small = 4096, on = 1;
	cr_assert_eq(setsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	cr_assert_eq(setsockopt(sfd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)), 0);
	int cfd = client_sock(sport);
	uint8_t junk[8] = { 0 }; /* too short: dropped as malformed when read */
	for (int i = 0; i < 200; i++)
		send(cfd, junk, sizeof(junk), 0);
	uint32_t seen = 0;
	int got = 0, r;
	while ((r = sctp_server_read(srv, sfd, &seen)) > 0)
		got += r;
	cr_assert_lt(got, 200, "the small buffer overflowed");
	/* the kernel's count comes with the next datagram queued after a drop */
	send(cfd, junk, sizeof(junk), 0);
	cr_assert_eq(sctp_server_read(srv, sfd, &seen), 1);
	const struct sctp_stats *st = sctp_server_stats(srv);
	cr_assert_eq(st->rx_packets, (uint64_t)got + 1);
	cr_assert_eq(st->drop_malformed, (uint64_t)got + 1);
	cr_assert_eq(st->drop_rcvbuf, (uint64_t)(200 - got),
		     "every datagram the kernel dropped is counted (%llu of %d)",
		     (unsigned long long)st->drop_rcvbuf, 200 - got);
	close(cfd);
}

/* Whether the stack's timers ran at time t (sctp_stack_timers(t)). */
static bool ticks_at(uint64_t t)
{
	uint64_t n = sctp_stack_ticks();
	sctp_stack_timers(t);
	return sctp_stack_ticks() == n + 1;
}

Test(sctp, the_stack_timers_tick_every_10_ms_while_packets_flow_else_every_100)
{
	/* each tick walks all of usrsctp's timers: not more often than that,
	 * however often the loop asks */
	uint64_t t = now() + 200000000u, ms = 1000000u;
	cr_assert(ticks_at(t), "due");
	cr_assert(!ticks_at(t + 10 * ms), "quiet: not at 10 ms");
	cr_assert(!ticks_at(t + 99 * ms), "nor at 99 ms");
	cr_assert(ticks_at(t + 100 * ms), "at 100 ms");
	int cfd = client_sock(sport);
	struct sctp_client *c = sctp_client_new(cfd, 4342); /* its INIT goes out */
	cr_assert(!ticks_at(t + 105 * ms), "packets: not after 5 ms");
	cr_assert(ticks_at(t + 110 * ms), "but after 10 ms");
	cr_assert(!ticks_at(t + 111 * ms), "and not again 1 ms later");
	cr_assert(!ticks_at(t + 120 * ms), "quiet again: not after 10 ms");
	sctp_client_free(c);
	close(cfd);
}

Test(sctp, an_icmp_port_unreachable_before_the_association_is_up_refuses_it)
{
	uint16_t p;
	int fd = udp_sock(&p);
	close(fd); /* nothing listens on p now */
	int cfd = client_sock(p);
	struct sctp_client *c = sctp_client_new(cfd, 4342); /* its INIT draws the ICMP */
	cr_assert_not_null(c);
	uint8_t buf[64];
	ssize_t n = -1;
	uint64_t end = now() + 5000ull * 1000000u;
	while (now() < end) {
		struct pollfd pf = { .fd = cfd, .events = POLLIN };
		(void)poll(&pf, 1, 5);
		sctp_client_input(c);
		n = sctp_client_recv(c, buf, sizeof(buf));
		if (!(n < 0 && errno == EAGAIN))
			break;
	}
	cr_assert(n == -1 && errno == ECONNREFUSED,
		  "refused at once, not after INIT's timeouts (n %zd, %s)", n, strerror(errno));
	cr_assert(!sctp_client_up(c));
	sctp_client_free(c);
	close(cfd);
}

Test(sctp, an_icmp_port_unreachable_once_the_association_is_up_is_ignored)
{
	int cfd;
	struct sctp_client *c = session_up(&cfd);
	cr_assert(sctp_client_up(c));
	/* the server's socket goes: the client's DATA draws an ICMP port
	 * unreachable, which anyone could forge */
	close(sfd);
	sfd = -1;
	cr_assert_eq(sctp_client_send(c, 0, "hello", 5), 5);
	struct pollfd pf = { .fd = cfd, .events = 0 };
	uint64_t end = now() + 2000ull * 1000000u;
	while (!(pf.revents & POLLERR) && now() < end) {
		sctp_stack_timers(now()); /* the DATA goes out again on its RTO */
		(void)poll(&pf, 1, 10);
	}
	cr_assert(pf.revents & POLLERR, "the DATA drew an ICMP port unreachable");
	sctp_client_input(c); /* reads the ICMP error */
	uint8_t buf[64];
	ssize_t n = sctp_client_recv(c, buf, sizeof(buf));
	cr_assert(n == -1 && errno == EAGAIN, "the association goes on (n %zd, %s)", n,
		  strerror(errno));
	cr_assert(sctp_client_up(c));
	sctp_client_free(c);
	close(cfd);
}

Test(sctp, a_wildcard_socket_answers_from_the_address_asked)
{
	/* the server's socket on 0.0.0.0 (the default listen address) with
	 * PKTINFO, as sctp_src.c opens it; the client sends to 127.0.0.2, so
	 * an answer from the kernel's choice (127.0.0.1) is dropped by its
	 * connected socket and the association never comes up */
	close(sfd);
	sfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(net_sock_pktinfo(sfd, AF_INET), 0);
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	cr_assert_eq(bind(sfd, (struct sockaddr *)&any, sizeof(any)), 0);
	socklen_t l = sizeof(any);
	getsockname(sfd, (struct sockaddr *)&any, &l);
	int cfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = any.sin_port,
				  .sin_addr.s_addr = htonl(0x7f000002) };
	cr_assert_eq(connect(cfd, (struct sockaddr *)&to, sizeof(to)), 0);
	struct sctp_client *c = sctp_client_new(cfd, 4342);
	cr_assert_not_null(c);
	int one = 1;
	pump(&c, 1, 5000, opened, &one);
	cr_assert_eq(echo.opened, 1, "the INIT-ACK and COOKIE-ACK came from 127.0.0.2");
	cr_assert(sctp_client_up(c));
	const uint8_t msg[] = "wildcard";
	cr_assert_eq(sctp_client_send(c, 0, msg, sizeof(msg)), (ssize_t)sizeof(msg));
	uint8_t buf[64];
	cr_assert_eq(client_recv(&c, buf, sizeof(buf), 3000), (ssize_t)sizeof(msg),
		     "the echo, from the address asked");
	cr_assert_eq(memcmp(buf, msg, sizeof(msg)), 0);
	sctp_client_free(c);
	close(cfd);
}
