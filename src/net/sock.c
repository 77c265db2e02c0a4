/* SPDX-License-Identifier: MIT */
/* Socket set-up shared by the worker loop's event sources (net_sock.h). */
#define _GNU_SOURCE /* struct in6_pktinfo (net_sock.h) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
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

bool net_sock_wildcard(const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET)
		return ((const struct sockaddr_in *)addr)->sin_addr.s_addr == htonl(INADDR_ANY);
	return addr->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)addr)->sin6_addr);
}

int net_sock_pktinfo(int fd, int family)
{
	int on = 1;
	int ret = family == AF_INET6
		      ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on))
		      : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	return ret != 0 ? -errno : 0;
}

void net_sock_local(const struct msghdr *mh, const struct sockaddr_storage *bound,
		    struct sockaddr_storage *local)
{
	*local = *bound;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL;
	     c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo)) &&
		    local->ss_family == AF_INET) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo)) &&
			   local->ss_family == AF_INET6) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr = pi.ipi6_addr;
		}
	}
}

ssize_t net_sock_send_from(int fd, const void *buf, size_t len, const struct sockaddr_storage *src,
			   const struct sockaddr_storage *dst, int flags)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = (void *)dst,
			     .msg_namelen = saddr_len(dst),
			     .msg_iov = &iov,
			     .msg_iovlen = 1 };
	union {
		char buf[NET_SOCK_PKTINFO_SPACE];
		struct cmsghdr align;
	} ctl;
	net_sock_source(&mh, ctl.buf, src, dst);
	ssize_t r;
	do
		r = sendmsg(fd, &mh, flags);
	while (r < 0 && errno == EINTR);
	return r;
}

void net_sock_source(struct msghdr *mh, void *ctl, const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst)
{
	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	if (src->ss_family != dst->ss_family)
		return;
	if (net_sock_wildcard(src))
		return;
	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)src;
		mh->msg_control = ctl;
		mh->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
		struct cmsghdr *c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = { 0 };
		pi.ipi_spec_dst = a->sin_addr;
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else if (src->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)src;
		mh->msg_control = ctl;
		mh->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
		struct cmsghdr *c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
		struct in6_pktinfo pi = { 0 };
		pi.ipi6_addr = a->sin6_addr;
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}
