/* SPDX-License-Identifier: MIT */
/* Socket set-up shared by the worker loop's event sources (net_sock.h). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <netinet/in.h>

#include <lispms/dgram.h>
#include <lispms/err.h>

#include "net_sock.h"

int net_sock_share(int fd, int family, bool reuseport)
{
	int on = 1;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
		return -errno;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
		return -errno;
	return 0;
}

int net_sock_bind(int fd, const struct sockaddr_storage *addr, uint16_t port)
{
	struct sockaddr_storage a = *addr;
	saddr_set_port(&a, port);
	return bind(fd, (struct sockaddr *)&a, saddr_len(&a)) != 0 ? -errno : 0;
}

int net_sock_share_bind(int fd, const struct sockaddr_storage *addr, uint16_t port)
{
	int ret = net_sock_share(fd, addr->ss_family, true);
	if (ret == 0)
		ret = net_sock_bind(fd, addr, port);
	if (ret == 0)
		return fd;
	close(fd);
	return ret;
}

unsigned net_sock_rcvbuf(int fd, unsigned size)
{
	int want = (int)size, got = 0;
	socklen_t gl = sizeof(got);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) != 0 || got <= 0)
		return 0;
	return (unsigned)got;
}

void net_sock_error(char *err, size_t errlen, const char *what, const struct sockaddr_storage *addr,
		    uint16_t port, int ret)
{
	if (err == NULL)
		return;
	char a[64];
	struct sockaddr_storage at = *addr;
	saddr_set_port(&at, port);
	saddr_format(&at, a, sizeof(a));
	snprintf(err, errlen, "%s on %s: %s", what, a, err_str(ret));
}
