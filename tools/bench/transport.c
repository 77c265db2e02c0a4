/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "transport.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <lispms/dgram.h>

static int tcp_open(const struct bench_transport_opts *o, uint32_t src,
		    const struct sockaddr_storage *server, void **state)
{
	*state = NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(src) };
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	struct sockaddr_storage dst = *server;
	if (o->port != 0)
		saddr_set_port(&dst, o->port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (connect(fd, (const struct sockaddr *)&dst, saddr_len(&dst)) != 0 &&
	     errno != EINPROGRESS)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
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
	.open = tcp_open,
	.send = tcp_send,
	.recv = tcp_recv,
	.close = tcp_close,
};

/* In the seed's order of preference (002): TCP, then QUIC, then SCTP. */
static const struct bench_transport *const bench_transports[] = { &tcp };

const struct bench_transport *bench_transport_find(const char *name)
{
	size_t n = sizeof(bench_transports) / sizeof(bench_transports[0]);
	if (strcmp(name, "auto") == 0)
		return bench_transports[0];
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, bench_transports[i]->name) == 0)
			return bench_transports[i];
	return NULL;
}

const char *bench_transport_names(void)
{
	return "tcp|auto";
}
