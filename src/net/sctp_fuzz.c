/* SPDX-License-Identifier: MIT */
/*
 * Fuzzer for SCTP's encapsulated packet entry point (sctp_server_input):
 * the input is a run of datagrams, each a 2-byte big-endian length (its top
 * bit picks one of two client addresses; the second sent to 127.0.0.1, so
 * the answers go out with PKTINFO) and its bytes, handed to a fresh
 * server with admission open; its timers and deliveries run after each.
 * The CRC32c of each packet is set right unless the length's second-highest
 * bit says otherwise, so the input reaches usrsctp's chunk handling. Every
 * path must stay within its buffers and keep no state for what it cannot
 * use (a cookie cannot be forged: usrsctp signs it with a random key).
 * After each input the stack's timers run for a second of a clock of our
 * own: retransmissions and heartbeats of what the input left fire, and
 * usrsctp frees the closed endpoints (it does so from a timer; without it
 * every input's listening socket stayed, 1.5 GB after 1.2M inputs).
 */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include "fuzz.h"
#include "sctp.h"
#include "sctp_stack.h"

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
	struct sctp_conf sc = { .port = 4342, .max_conns = 4 };
	struct sctp_server *s = sctp_server_new(&sc, &fuzz_handler, NULL, NULL, 0);
	if (s == NULL)
		return 0;
	struct sockaddr_storage peer[2] = { { 0 }, { 0 } };
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in *p = (struct sockaddr_in *)&peer[i];
		p->sin_family = AF_INET;
		p->sin_port = htons((uint16_t)(9 + i)); /* discard: nothing listens */
		p->sin_addr.s_addr = htonl(0x7f000001);
	}
	static uint8_t pkt[16384];
	while (size >= 2) {
		size_t len = ((size_t)(data[0] & 0x3f) << 8) | data[1];
		int who = data[0] >> 7;
		bool keep_crc = data[0] & 0x40;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		memcpy(pkt, data, len);
		if (len >= 12 && !keep_crc) {
			memset(pkt + 8, 0, 4);
			uint32_t crc = usrsctp_crc32c(pkt, len);
			memcpy(pkt + 8, &crc, 4);
		}
		if (who == 0) /* the kernel picks the answers' source */
			sctp_server_input(s, fd, &peer[who], pkt, len);
		else /* sent to a specific address: answered from it (PKTINFO) */
			sctp_server_input_to(s, fd, &peer[who], &peer[0], pkt, len);
		sctp_server_process(s);
		data += len;
		size -= len;
	}
	sctp_server_free(s);
	static uint64_t clock_ns;
	if (clock_ns == 0)
		clock_ns = sctp_stack_now();
	clock_ns += 1000000000u;
	sctp_stack_timers(clock_ns);
	return 0;
}
