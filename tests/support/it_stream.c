/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "it_stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

static const char *const names[IT_TRANSPORT_MAX] = { [IT_TCP] = "tcp" };

bool it_transport_parse(const char *name, enum it_transport *t)
{
	for (int i = 0; i < IT_TRANSPORT_MAX; i++)
		if (strcmp(name, names[i]) == 0) {
			*t = (enum it_transport)i;
			return true;
		}
	return false;
}

const char *it_transport_name(enum it_transport t)
{
	return (unsigned)t < IT_TRANSPORT_MAX ? names[t] : "?";
}

int it_stream_open(const struct it_stream_opts *o, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &a.sin_addr);
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(o->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (o->rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(o->rcvbuf));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t it_stream_send(int h, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(h, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t it_stream_send_nowait(int h, const void *buf, size_t len)
{
	ssize_t n = send(h, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return n;
}

ssize_t it_stream_recv(int h, void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = h, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	ssize_t n = recv(h, buf, len, 0);
	return n < 0 ? 0 : n; /* a reset is a close too */
}

bool it_stream_writable(int h, int timeout_ms)
{
	struct pollfd p = { .fd = h, .events = POLLOUT };
	return poll(&p, 1, timeout_ms) == 1;
}

uint16_t it_stream_local_port(int h)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	if (getsockname(h, (struct sockaddr *)&a, &l) != 0)
		return 0;
	return ntohs(a.sin_port);
}

void it_stream_close(int h)
{
	if (h >= 0)
		close(h);
}
