/* SPDX-License-Identifier: MIT */
/* The socket set-up the event sources share (net_sock.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include <lispms/dgram.h>
#include <lispms/err.h>

#include "net_sock.h"

static struct sockaddr_storage loopback(void)
{
	struct sockaddr_storage a;
	cr_assert_eq(saddr_parse("127.0.0.1", &a), LISPMS_EOK);
	return a;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(((struct sockaddr_in *)&a)->sin_port);
}

Test(sock, workers_share_a_port_others_do_not)
{
	struct sockaddr_storage a = loopback();
	int fd1 = net_sock_share_bind(socket(AF_INET, SOCK_DGRAM, 0), &a, 0);
	cr_assert_geq(fd1, 0, "bound: %s", err_str(fd1));
	uint16_t port = port_of(fd1);
	int fd2 = net_sock_share_bind(socket(AF_INET, SOCK_DGRAM, 0), &a, port);
	cr_assert_geq(fd2, 0, "a second worker's socket on the same port: %s", err_str(fd2));
	/* a socket that does not share the port is refused, and said why */
	int fd3 = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(net_sock_share(fd3, AF_INET, false), 0);
	cr_assert_eq(net_sock_bind(fd3, &a, port), -EADDRINUSE);
	close(fd3);
	close(fd2);
	close(fd1);
}

Test(sock, a_failure_names_the_transport_address_and_reason)
{
	struct sockaddr_storage a = loopback();
	char err[128];
	net_sock_error(err, sizeof(err), "QUIC", &a, 4343, -EADDRINUSE);
	cr_assert_str_eq(err, "QUIC on 127.0.0.1:4343: Address already in use");
	net_sock_error(NULL, 0, "QUIC", &a, 4343, -EADDRINUSE); /* no buffer: nothing */
}

Test(sock, the_receive_buffer_granted_is_reported)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	unsigned got = net_sock_rcvbuf(fd, 256 * 1024);
	cr_assert_gt(got, 0, "the kernel says what it granted");
	close(fd);
}
