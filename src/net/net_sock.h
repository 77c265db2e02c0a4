/* SPDX-License-Identifier: MIT */
/*
 * Socket set-up every event source of the worker loop shares (udp.c,
 * tcp.c, quic_src.c, sctp_src.c): one way to share a port among the
 * workers, bind, size a receive buffer and say what failed.
 * Each returns -errno (or 0); none closes the socket.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
