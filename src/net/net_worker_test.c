/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include <lispms/counters.h>
#include <lispms/err.h>
#include <lispms/mtime.h>
#include <lispms/net.h>

/* Echo each datagram back, prefixed with the worker's tag byte. */
static void echo(void *arg, const struct dgram *rx, unsigned n, struct dgram_outbox *out)
{
	const uint8_t *tag = arg;
	for (unsigned i = 0; i < n; i++) {
		struct dgram_out *tx = dgram_outbox_add(out, rx[i].len + 1);
		if (tx == NULL)
			return;
		uint8_t *d = (uint8_t *)tx->data;
		d[0] = *tag;
		memcpy(d + 1, rx[i].data, rx[i].len);
		tx->dst = rx[i].src;
		tx->src = rx[i].local;
	}
}

/* Answer every datagram with 300 replies: more than the outbox holds. */
static void flood(void *arg, const struct dgram *rx, unsigned n, struct dgram_outbox *out)
{
	(void)arg;
	for (unsigned i = 0; i < n; i++)
		for (int k = 0; k < 300; k++) {
			struct dgram_out *tx = dgram_outbox_add(out, 1);
			if (tx == NULL)
				continue; /* every refused message must be counted */
			((uint8_t *)tx->data)[0] = 'f';
			tx->dst = rx[i].src;
		}
}

/* A port free on every address (the wildcard test binds 0.0.0.0: a port free
 * on 127.0.0.1 alone may be another process's on 127.0.0.2). */
static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

static struct net_worker *start(const char **addrs, unsigned n, uint16_t port, dgram_batch_fn *fn,
				void *arg)
{
	struct sockaddr_storage ss[4];
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(saddr_parse(addrs[i], &ss[i]), LISPMS_EOK);
	struct net_worker_conf conf = {
		.addrs = ss, .naddrs = n, .port = port, .cpu = -1, .handler = fn, .arg = arg
	};
	char err[128] = "";
	struct net_worker *w = net_worker_new(&conf, err, sizeof(err));
	cr_assert_not_null(w, "worker: %s", err);
	cr_assert_eq(net_worker_start(w, "udp-test"), LISPMS_EOK);
	return w;
}

/* Send payload to addr:port from a fresh socket; return reply length or -1. */
static ssize_t ask(const char *addr, uint16_t port, const void *payload, size_t len, uint8_t *reply,
		   size_t cap, struct sockaddr_storage *from)
{
	struct sockaddr_storage dst;
	cr_assert_eq(saddr_parse(addr, &dst), LISPMS_EOK);
	saddr_set_port(&dst, port);
	int fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sendto(fd, payload, len, 0, (struct sockaddr *)&dst, saddr_len(&dst)),
		     (ssize_t)len);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r = -1;
	if (poll(&p, 1, 3000) == 1) {
		socklen_t flen = sizeof(*from);
		r = recvfrom(fd, reply, cap, 0, (struct sockaddr *)from, &flen);
	}
	close(fd);
	return r;
}

Test(net_worker, echoes_over_ipv4_and_ipv6_from_the_address_asked)
{
	uint16_t port = free_port();
	uint8_t tag = 'A';
	const char *addrs[] = { "127.0.0.1", "::1" };
	struct net_worker *w = start(addrs, 2, port, echo, &tag);
	uint8_t reply[64];
	struct sockaddr_storage from;
	const char *targets[] = { "127.0.0.1", "::1" };
	for (int i = 0; i < 2; i++) {
		ssize_t r = ask(targets[i], port, "hello", 5, reply, sizeof(reply), &from);
		cr_assert_eq(r, 6, "no echo from %s", targets[i]);
		cr_assert_arr_eq(reply, "Ahello", 6);
		struct sockaddr_storage want;
		saddr_parse(targets[i], &want);
		saddr_set_port(&want, port);
		char a[64], b[64];
		saddr_format(&from, a, sizeof(a));
		saddr_format(&want, b, sizeof(b));
		cr_assert_str_eq(a, b);
	}
	net_worker_free(w);
}

Test(net_worker, wildcard_socket_replies_from_the_arrival_address)
{
	uint16_t port = free_port();
	uint8_t tag = 'W';
	const char *addrs[] = { "0.0.0.0" };
	struct net_worker *w = start(addrs, 1, port, echo, &tag);
	uint8_t reply[16];
	struct sockaddr_storage from;
	cr_assert_eq(ask("127.0.0.2", port, "x", 1, reply, sizeof(reply), &from), 2);
	char a[64];
	saddr_format(&from, a, sizeof(a));
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.2:%u", port);
	cr_assert_str_eq(a, want, "reply came from %s", a);
	net_worker_free(w);
}

Test(net_worker, largest_datagram_round_trips)
{
	uint16_t port = free_port();
	uint8_t tag = 'L';
	const char *addrs[] = { "127.0.0.1" };
	struct net_worker *w = start(addrs, 1, port, echo, &tag);
	static uint8_t big[65506], reply[65535];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	struct sockaddr_storage from;
	cr_assert_eq(ask("127.0.0.1", port, big, sizeof(big), reply, sizeof(reply), &from),
		     (ssize_t)sizeof(big) + 1);
	cr_assert_arr_eq(reply + 1, big, sizeof(big));
	net_worker_free(w);
}

Test(net_worker, port_in_use_is_refused_with_the_address)
{
	uint16_t port = free_port();
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct sockaddr_storage ss;
	saddr_parse("127.0.0.1", &ss);
	cr_assert_eq(net_udp_port_free(&ss, port), LISPMS_EADDRINUSE);
	struct net_worker_conf conf = {
		.addrs = &ss, .naddrs = 1, .port = port, .cpu = -1, .handler = echo
	};
	char err[128] = "";
	cr_assert_null(net_worker_new(&conf, err, sizeof(err)));
	char want[64];
	snprintf(want, sizeof(want), "cannot bind udp 127.0.0.1:%u", port);
	cr_assert(strstr(err, want) != NULL, "message was '%s'", err);
	close(fd);
	cr_assert_eq(net_udp_port_free(&ss, port), LISPMS_EOK);
}

Test(net_worker, workers_share_a_port_through_reuseport)
{
	uint16_t port = free_port();
	uint8_t tags[2] = { '1', '2' };
	const char *addrs[] = { "127.0.0.1" };
	struct net_worker *w1 = start(addrs, 1, port, echo, &tags[0]);
	struct net_worker *w2 = start(addrs, 1, port, echo, &tags[1]);
	int seen[2] = { 0 };
	for (int i = 0; i < 64; i++) {
		uint8_t reply[8];
		struct sockaddr_storage from;
		cr_assert_eq(ask("127.0.0.1", port, "p", 1, reply, sizeof(reply), &from), 2);
		seen[reply[0] - '1']++;
	}
	cr_assert(seen[0] > 0 && seen[1] > 0, "worker 1 got %d, worker 2 got %d", seen[0], seen[1]);
	net_worker_free(w1);
	net_worker_free(w2);
}

Test(net_worker, a_full_outbox_is_counted_not_overrun)
{
	uint16_t port = free_port();
	const char *addrs[] = { "127.0.0.1" };
	uint64_t before = counters_sum(LISPMS_M_NET_UDP_DROP_OUTBOX);
	struct net_worker *w = start(addrs, 1, port, flood, NULL);
	uint8_t reply[8];
	struct sockaddr_storage from;
	cr_assert_eq(ask("127.0.0.1", port, "p", 1, reply, sizeof(reply), &from), 1);
	net_worker_free(w);
	cr_assert_eq(counters_sum(LISPMS_M_NET_UDP_DROP_OUTBOX) - before,
		     300 - 2 * LISPMS_NET_BATCH);
}

struct tick_state {
	struct sockaddr_storage to;
	_Atomic int runs;
};

/* Each run sends one datagram to the test and asks to be run again in 10 s. */
static uint64_t tick(void *arg, uint64_t now, struct dgram_outbox *out)
{
	(void)now;
	struct tick_state *st = arg;
	struct dgram_out *tx = dgram_outbox_add(out, 1);
	if (tx != NULL) {
		((uint8_t *)tx->data)[0] = (uint8_t)('0' + atomic_fetch_add(&st->runs, 1));
		tx->dst = st->to;
	}
	return 10 * LISPMS_NS_PER_SEC;
}

static int wait_byte(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t b;
	if (poll(&p, 1, timeout_ms) != 1 || recv(fd, &b, 1, 0) != 1)
		return -1;
	return b;
}

Test(net_worker, tick_runs_at_start_when_due_and_when_woken)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct tick_state st = { 0 };
	socklen_t len = sizeof(st.to);
	getsockname(fd, (struct sockaddr *)&st.to, &len);

	struct sockaddr_storage ss;
	saddr_parse("127.0.0.1", &ss);
	struct net_worker_conf conf = { .addrs = &ss,
					.naddrs = 1,
					.port = free_port(),
					.cpu = -1,
					.handler = echo,
					.tick = tick,
					.tick_arg = &st };
	struct net_worker *w = net_worker_new(&conf, NULL, 0);
	cr_assert_not_null(w);
	cr_assert_eq(net_worker_start(w, "tick-test"), LISPMS_EOK);
	cr_assert_eq(wait_byte(fd, 2000), '0', "the tick runs once at start");
	cr_assert_eq(wait_byte(fd, 300), -1, "and not again before it is due");
	net_worker_wake(w);
	cr_assert_eq(wait_byte(fd, 2000), '1', "a wake-up runs it at once");
	net_worker_free(w);
	close(fd);
}

/* A TCP connection the test can ask the worker (in its tick) to close. */
struct tcp_state {
	struct stream_conn *conn; /* worker thread only */
	_Atomic int opened;
	_Atomic int action;  /* 1: stream_close, 2: stream_abort, 3: a burst (in the tick) */
	_Atomic int refused; /* writes of the burst refused */
	_Atomic size_t queued;
	_Atomic int closed;			      /* cause + 1 */
	bool quiet;				      /* open writes nothing */
	_Atomic int opens;			      /* connections opened */
	_Atomic unsigned keepidle_s, user_timeout_ms; /* action 4: the socket's options */
};

static void *tcp_open(void *arg, struct stream_conn *c, const struct sockaddr_storage *peer)
{
	(void)peer;
	struct tcp_state *st = arg;
	st->conn = c;
	/* more than the kernel takes from a peer that does not read */
	static uint8_t junk[1 << 20];
	for (int i = 0; i < 8 && !st->quiet; i++)
		stream_write(c, junk, sizeof(junk));
	atomic_store(&st->opened, 1);
	atomic_fetch_add(&st->opens, 1);
	return st;
}

static int tcp_recv(void *arg, void *sess, const uint8_t *buf, size_t len)
{
	(void)arg, (void)sess, (void)buf, (void)len;
	return 0;
}

static void tcp_closed(void *arg, void *sess, enum stream_close_cause why)
{
	(void)sess;
	struct tcp_state *st = arg;
	atomic_store(&st->closed, (int)why + 1);
}

static uint64_t tcp_tick(void *arg, uint64_t now_ns, struct dgram_outbox *out)
{
	(void)now_ns, (void)out;
	struct tcp_state *st = arg;
	int a = atomic_exchange(&st->action, 0);
	if (st->conn != NULL && a == 4) {
		unsigned ka = 0, uto = 0;
		cr_assert_eq(net_conn_sockopts(st->conn, &ka, &uto), LISPMS_EOK);
		atomic_store(&st->user_timeout_ms, uto);
		atomic_store(&st->keepidle_s, ka);
	} else if (st->conn != NULL && a == 5) { /* 1 MiB to a peer that does not read */
		static uint8_t junk[128 << 10];
		int refused = 0;
		for (int i = 0; i < 8; i++)
			refused += stream_write(st->conn, junk, sizeof(junk)) != LISPMS_EOK;
		atomic_store(&st->refused, refused + 1);
	} else if (st->conn != NULL && a == 3) { /* 40 x 2 KiB to a reading peer */
		static uint8_t msg[2048];
		int refused = 0;
		for (int i = 0; i < 40; i++)
			refused += stream_write(st->conn, msg, sizeof(msg)) != LISPMS_EOK;
		atomic_store(&st->refused, refused + 1);
	} else if (st->conn != NULL && a != 0) {
		atomic_store(&st->queued, stream_queued(st->conn));
		if (a == 1)
			stream_close(st->conn);
		else
			stream_abort(st->conn);
	}
	return LISPMS_NS_PER_SEC;
}

static const struct stream_handler test_tcp_ops = { .open = tcp_open,
						    .recv = tcp_recv,
						    .closed = tcp_closed };

/* Wait (bounded) until *v is not 0; its value, or 0 after the bound. */
static int wait_set(_Atomic int *v)
{
	for (int i = 0; i < 1000 && atomic_load(v) == 0; i++)
		usleep(10000);
	return atomic_load(v);
}

static int tcp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* A listening worker on *port, or on another free port when that one was
 * taken meanwhile: the port came from a UDP probe, and the tests running
 * beside this one hand out TCP ephemeral ports from the same range. */
static struct net_worker *tcp_worker_limit(struct tcp_state *st, uint16_t *port, size_t limit)
{
	struct sockaddr_storage ss;
	saddr_parse("127.0.0.1", &ss);
	struct net_worker *w = NULL;
	char err[128] = "";
	for (int attempt = 0; w == NULL && attempt < 10; attempt++) {
		if (attempt > 0)
			*port = free_port();
		struct net_worker_conf conf = { .addrs = &ss,
						.naddrs = 1,
						.port = *port,
						.cpu = -1,
						.handler = echo,
						.tick = tcp_tick,
						.tick_arg = st,
						.stream = &test_tcp_ops,
						.stream_arg = st,
						.tcp_listen = true,
						.output_limit = limit };
		w = net_worker_new(&conf, err, sizeof(err));
	}
	cr_assert_not_null(w, "worker: %s", err);
	cr_assert_eq(net_worker_start(w, "tcp-test"), LISPMS_EOK);
	return w;
}

static struct net_worker *tcp_worker(struct tcp_state *st, uint16_t *port)
{
	return tcp_worker_limit(st, port, 16u << 20);
}

/*
 * The output bound counts what the socket refused, not what the worker held
 * back to send once per batch: a burst larger than the bound to a peer that
 * reads goes through, as the socket's own buffer takes it.
 */
Test(net_worker, a_burst_within_the_socket_buffer_is_not_a_slow_reader)
{
	struct tcp_state st = { .quiet = true };
	uint16_t port = free_port();
	struct net_worker *w = tcp_worker_limit(&st, &port, 64u << 10);
	int fd = tcp_connect(port);
	cr_assert_eq(wait_set(&st.opened), 1);
	atomic_store(&st.action, 3);
	net_worker_wake(w);
	cr_assert_eq(wait_set(&st.refused), 1, "no write of 80 KiB refused under a 64 KiB bound");
	static uint8_t buf[1 << 16];
	size_t total = 0;
	while (total < 40 * 2048) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	cr_assert_eq(total, 40 * 2048, "and all of it arrives");
	cr_assert_eq(atomic_load(&st.closed), 0, "the connection stays up");
	net_worker_free(w);
	close(fd);
}

Test(net_worker, abort_closes_at_once_with_output_queued)
{
	struct tcp_state st = { 0 };
	uint16_t port = free_port();
	struct net_worker *w = tcp_worker(&st, &port);
	int fd = tcp_connect(port);
	cr_assert_eq(wait_set(&st.opened), 1);
	cr_assert_gt(counters_sum_gauge(LISPMS_M_NET_TCP_QUEUED_BYTES), 0, "queued bytes counted");
	atomic_store(&st.action, 2);
	net_worker_wake(w);
	cr_assert_eq(wait_set(&st.closed), STREAM_CLOSE_ABORT + 1, "closed as aborted");
	cr_assert_gt(atomic_load(&st.queued), 0, "output was still queued: nothing waited for it");
	cr_assert_eq(counters_sum_gauge(LISPMS_M_NET_TCP_QUEUED_BYTES), 0,
		     "what was dropped unsent left the gauge");
	cr_assert_eq(net_worker_conns(w), 0);
	net_worker_free(w);
	close(fd);
}

Test(net_worker, close_from_a_tick_waits_for_the_output_then_closes)
{
	struct tcp_state st = { 0 };
	uint16_t port = free_port();
	struct net_worker *w = tcp_worker(&st, &port);
	int fd = tcp_connect(port);
	cr_assert_eq(wait_set(&st.opened), 1);
	atomic_store(&st.action, 1);
	net_worker_wake(w);
	/* read everything: the close comes after the last queued byte */
	static uint8_t buf[1 << 16];
	size_t total = 0;
	for (int i = 0; i < 100000; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	cr_assert_eq(total, 8u << 20, "every queued byte arrived before the close");
	cr_assert_eq(wait_set(&st.closed), STREAM_CLOSE_ERROR + 1, "closed by us, not the peer");
	cr_assert_eq(counters_sum_gauge(LISPMS_M_NET_TCP_QUEUED_BYTES), 0, "all sent");
	net_worker_free(w);
	close(fd);
}

Test(net_worker, close_from_a_tick_of_an_idle_connection_happens_without_another_event)
{
	struct tcp_state st = { .quiet = true };
	uint16_t port = free_port();
	struct net_worker *w = tcp_worker(&st, &port);
	int fd = tcp_connect(port);
	cr_assert_eq(wait_set(&st.opened), 1);
	atomic_store(&st.action, 1);
	net_worker_wake(w);
	/* the peer sends nothing: only the worker can notice */
	cr_assert_eq(wait_set(&st.closed), STREAM_CLOSE_ERROR + 1);
	uint8_t b;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 5000), 1);
	cr_assert_eq(recv(fd, &b, 1, 0), 0, "the peer sees the close");
	net_worker_free(w);
	close(fd);
}

/* ------------------------------------------------------------ reload */

static bool try_connect(uint16_t port, int *fd_out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return false;
	}
	*fd_out = fd;
	return true;
}

static void sockopts_now(struct net_worker *w, struct tcp_state *st)
{
	atomic_store(&st->keepidle_s, 0);
	atomic_store(&st->action, 4);
	net_worker_wake(w);
	for (int i = 0; i < 500 && atomic_load(&st->keepidle_s) == 0; i++)
		usleep(10000);
}

Test(net_worker, reloaded_keepalive_and_user_timeout_reach_open_connections)
{
	struct tcp_state st = { .quiet = true };
	uint16_t port = free_port();
	struct net_worker *w = tcp_worker(&st, &port);
	int fd = tcp_connect(port);
	cr_assert_eq(wait_set(&st.opened), 1);
	sockopts_now(w, &st);
	cr_assert_eq(atomic_load(&st.keepidle_s), 10);
	cr_assert_eq(atomic_load(&st.user_timeout_ms), 30000);
	struct net_worker_limits l = { .keepalive_s = 25, .user_timeout_s = 45 };
	cr_assert(net_worker_wait(w, net_worker_set_limits(w, &l), 5000));
	sockopts_now(w, &st);
	cr_assert_eq(atomic_load(&st.keepidle_s), 25, "the open connection has the new keepalive");
	cr_assert_eq(atomic_load(&st.user_timeout_ms), 45000, "and the new user timeout");
	net_worker_free(w);
	close(fd);
}

Test(net_worker, a_reloaded_output_limit_holds_for_open_connections)
{
	struct tcp_state st = { .quiet = true };
	uint16_t port = free_port();
	struct net_worker *w = tcp_worker(&st, &port); /* 16 MiB */
	int fd = tcp_connect(port);
	cr_assert_eq(wait_set(&st.opened), 1);
	struct net_worker_limits l = { .output_limit = 128u << 10 };
	cr_assert(net_worker_wait(w, net_worker_set_limits(w, &l), 5000));
	atomic_store(&st.action, 5);
	net_worker_wake(w);
	cr_assert_gt(wait_set(&st.refused), 1, "1 MiB to a peer that does not read passes 128 KiB");
	cr_assert_eq(wait_set(&st.closed), STREAM_CLOSE_SLOW + 1, "dropped as a slow reader");
	net_worker_free(w);
	close(fd);
}

Test(net_worker, a_reloaded_max_conns_refuses_new_connections)
{
	struct tcp_state st = { .quiet = true };
	uint16_t port = free_port();
	struct net_worker *w = tcp_worker(&st, &port);
	struct net_worker_limits l = { .max_conns = 1 };
	cr_assert(net_worker_wait(w, net_worker_set_limits(w, &l), 5000));
	uint64_t refused = counters_sum(LISPMS_M_NET_TCP_REFUSED_LIMIT);
	int a = tcp_connect(port), b = tcp_connect(port);
	uint8_t byte;
	struct pollfd p = { .fd = b, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 5000), 1);
	cr_assert_leq(recv(b, &byte, 1, 0), 0, "the second connection is closed at once");
	cr_assert_eq(atomic_load(&st.opens), 1);
	cr_assert_eq(counters_sum(LISPMS_M_NET_TCP_REFUSED_LIMIT) - refused, 1);
	net_worker_free(w);
	close(a);
	close(b);
}

Test(net_worker, listeners_open_and_close_on_a_running_worker)
{
	struct tcp_state st = { .quiet = true };
	uint16_t port = free_port();
	struct sockaddr_storage ss;
	saddr_parse("127.0.0.1", &ss);
	struct net_worker_conf conf = { .addrs = &ss,
					.naddrs = 1,
					.port = port,
					.cpu = -1,
					.handler = echo,
					.tick = tcp_tick,
					.tick_arg = &st,
					.stream = &test_tcp_ops,
					.stream_arg = &st };
	struct net_worker *w = net_worker_new(&conf, NULL, 0);
	cr_assert_not_null(w);
	cr_assert_eq(net_worker_start(w, "tcp-test"), LISPMS_EOK);
	int fd = -1;
	cr_assert_not(try_connect(port, &fd), "no listener before net_worker_listen");
	char err[128];
	cr_assert_eq(net_worker_listen(w, 64, err, sizeof(err)), LISPMS_EOK, "%s", err);
	cr_assert(try_connect(port, &fd), "a connection right after net_worker_listen returns");
	cr_assert_eq(wait_set(&st.opened), 1, "and the worker accepts it");
	cr_assert(net_worker_wait(w, net_worker_unlisten(w), 5000));
	int fd2 = -1;
	cr_assert_not(try_connect(port, &fd2), "closed listeners refuse");
	usleep(50000);
	cr_assert_eq(atomic_load(&st.closed), 0, "the open connection stays");
	cr_assert_eq(net_worker_conns(w), 1);
	cr_assert_eq(net_worker_listen(w, 64, err, sizeof(err)), LISPMS_EOK, "%s", err);
	cr_assert(try_connect(port, &fd2), "and they open again");
	net_worker_free(w);
	close(fd);
	close(fd2);
}
