/* SPDX-License-Identifier: MIT */
/*
 * Datagrams as the request core sees them, whatever moved them (kernel UDP
 * workers, DPDK lcores, tests): a batch of received datagrams in, an outbox
 * of datagrams to send out. Also the sockaddr helpers every layer uses.
 *
 * Threads: an outbox and its arena belong to the thread handling the batch.
 * Ownership: received data is valid only during the handler call; outbox
 * data lives in the arena until the transport has sent it.
 * Errors: LISPMS_EINVAL (unparsable address), LISPMS_ENOSPC (buffer too small).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <lispms/arena.h>

/* Largest datagram accepted; longer ones are counted and dropped. */
#define LISPMS_DGRAM_MAX 65535

/* One received datagram. */
struct dgram {
	const uint8_t *data;
	size_t len;
	struct sockaddr_storage src;   /* sender */
	struct sockaddr_storage local; /* local address and port it arrived on */
};

/* One datagram to send. */
struct dgram_out {
	const uint8_t *data; /* usually in the handling thread's arena */
	size_t len;
	struct sockaddr_storage dst;
	struct sockaddr_storage src; /* local address to send from; AF_UNSPEC = any */
};

/* What a handler fills; the transport sends it after the handler returns. */
struct dgram_outbox {
	struct dgram_out *msgs;
	unsigned n;
	unsigned cap;
	struct arena *arena; /* reset by the transport after every batch */
	unsigned dropped;    /* messages that did not fit (counted by the transport) */
};

/* Reserve a message slot with len bytes of arena memory; NULL when full. */
struct dgram_out *dgram_outbox_add(struct dgram_outbox *out, size_t len);
/*
 * The same with the addresses: dst, and src when it is of dst's family
 * (else the slot's src is all zero, AF_UNSPEC: any).
 */
struct dgram_out *dgram_outbox_put(struct dgram_outbox *out, size_t len,
				   const struct sockaddr_storage *dst,
				   const struct sockaddr_storage *src);

/* Handles a batch on a transport thread, inside one RCU read-side section. */
typedef void dgram_batch_fn(void *arg, const struct dgram *rx, unsigned n,
			    struct dgram_outbox *out);

/* Parse "127.0.0.1", "::1", "0.0.0.0" into a sockaddr (port 0). */
int saddr_parse(const char *text, struct sockaddr_storage *out);

/* "127.0.0.1:4342" / "[::1]:4342" / "none" */
int saddr_format(const struct sockaddr_storage *a, char *buf, size_t len);

uint16_t saddr_port(const struct sockaddr_storage *a);
void saddr_set_port(struct sockaddr_storage *a, uint16_t port);
socklen_t saddr_len(const struct sockaddr_storage *a);

/* Same family, address and port. */
int saddr_cmp(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
