/* SPDX-License-Identifier: MIT */
/*
 * Fuzzer for QUIC's packet entry point (quic_server_input): the input is a
 * run of datagrams, each a 2-byte big-endian length (its top bit picks one
 * of two client addresses) and its bytes, handed to a fresh server with
 * admission open; the server's timers run after each. Every path must stay
 * within its buffers and keep no state for what it cannot use.
 */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "quic.h"

static bool f_admit(void *arg, enum stream_transport t, const struct sockaddr_storage *peer)
{
	(void)arg, (void)t, (void)peer;
	return true;
}

static void *f_open(void *arg, struct stream_conn *c, const struct sockaddr_storage *peer)
{
	(void)arg, (void)peer;
	return c;
}

static int f_recv(void *arg, void *sess, const uint8_t *buf, size_t len)
{
	(void)arg;
	return stream_write(sess, buf, len);
}

static void f_closed(void *arg, void *sess, enum stream_close_cause why)
{
	(void)arg, (void)sess, (void)why;
}

static const struct stream_handler fuzz_handler = { f_admit, f_open, f_recv, f_closed };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0) /* answers go nowhere: an unconnected socket to a closed port */
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	/* no credentials: no connection gets as far as TLS without a valid
	 * Retry token, which fuzz input cannot forge */
	static const uint8_t secret[32] = { 1, 2, 3 };
	struct quic_conf qc = { .max_conns = 4, .secret = secret, .secretlen = sizeof(secret) };
	struct quic_server *qs = quic_server_new(&qc, &fuzz_handler, NULL);
	if (qs == NULL)
		return 0;
	struct sockaddr_storage local = { 0 }, peer[2] = { { 0 }, { 0 } };
	struct sockaddr_in *l = (struct sockaddr_in *)&local;
	l->sin_family = AF_INET;
	l->sin_port = htons(4343);
	l->sin_addr.s_addr = htonl(0x7f000001);
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in *p = (struct sockaddr_in *)&peer[i];
		p->sin_family = AF_INET;
		p->sin_port = htons((uint16_t)(9 + i)); /* discard: nothing listens */
		p->sin_addr.s_addr = htonl(0x7f000001);
	}
	uint64_t now = 1000000000ull;
	while (size >= 2) {
		size_t len = ((size_t)(data[0] & 0x7f) << 8) | data[1];
		int who = data[0] >> 7;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		quic_server_input(qs, fd, &local, &peer[who], data, len, now);
		data += len;
		size -= len;
		now += 10000000ull;
		quic_server_tick(qs, now);
	}
	quic_server_free(qs);
	return 0;
}
