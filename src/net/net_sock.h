/* SPDX-License-Identifier: MIT */
/*
 * Socket set-up every event source of the worker loop shares (udp.c,
 * tcp.c, quic_src.c, sctp_src.c): one way to share a port among the
 * workers, bind, size a receive buffer and say what failed; and for UDP
 * sockets bound to a wildcard address, the address each datagram was sent
 * to and the source of the answer (IP_PKTINFO / IPV6_PKTINFO), so the
 * answer leaves from the address the peer asked.
 * Each returns -errno (or 0); none closes the socket.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

/* SO_REUSEPORT when reuseport (the workers share the port), and
 * IPV6_V6ONLY on an IPv6 socket (IPv4 has sockets of its own). */
int net_sock_share(int fd, int family, bool reuseport);

/* bind fd to addr, port. */
int net_sock_bind(int fd, const struct sockaddr_storage *addr, uint16_t port);

/* A shared port (net_sock_share with reuseport), then bound: fd, or
 * -errno after closing fd. */
int net_sock_share_bind(int fd, const struct sockaddr_storage *addr, uint16_t port);

/* A receive buffer of size bytes: past net.core.rmem_max as root
 * (SO_RCVBUFFORCE), else what the sysctl allows. Returns what the kernel
 * granted (0 if it does not say). */
unsigned net_sock_rcvbuf(int fd, unsigned size);

/* "WHAT on ADDR:PORT: REASON" into err (nothing when err is NULL). */
void net_sock_error(char *err, size_t errlen, const char *what, const struct sockaddr_storage *addr,
		    uint16_t port, int ret);

/* Ancillary space for one PKTINFO message, either family (a control
 * buffer for net_sock_local/net_sock_source adds this much; struct
 * in6_pktinfo needs _GNU_SOURCE before the first include). */
#define NET_SOCK_PKTINFO_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

/* addr is 0.0.0.0 or :: */
bool net_sock_wildcard(const struct sockaddr_storage *addr);

/* Ask the kernel for each datagram's destination address (IP_PKTINFO on an
 * IPv4 socket, IPV6_RECVPKTINFO on an IPv6 one). */
int net_sock_pktinfo(int fd, int family);

/* The local address of a datagram received with `mh`: `bound` (the
 * socket's address and port) with its address replaced by the PKTINFO
 * destination when the control data has one of the same family. */
void net_sock_local(const struct msghdr *mh, const struct sockaddr_storage *bound,
		    struct sockaddr_storage *local);

/* Send `mh` from `src` (its address, not its port): one PKTINFO message in
 * `ctl` (NET_SOCK_PKTINFO_SPACE bytes, aligned for struct cmsghdr) when src
 * is a specific address of dst's family; else no control data (the kernel
 * chooses the source). */
void net_sock_source(struct msghdr *mh, void *ctl, const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst);

/* One datagram to dst from src's address (net_sock_source: a wildcard src
 * lets the kernel choose), sendmsg() with `flags`, retried on EINTR: its
 * result. */
ssize_t net_sock_send_from(int fd, const void *buf, size_t len, const struct sockaddr_storage *src,
			   const struct sockaddr_storage *dst, int flags);
