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

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
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
