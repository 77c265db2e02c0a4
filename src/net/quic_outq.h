/* SPDX-License-Identifier: MIT */
/*
 * A QUIC stream's output held until the peer acknowledges it, in blocks
 * that never move: ngtcp2 does not copy stream data, it keeps pointers to
 * what it sent and retransmits from them until acknowledged
 * (ngtcp2_conn_writev_stream), so a buffer that shifts on an ACK or is
 * reallocated on a write makes a lost packet go out again with other bytes,
 * or from freed memory. Writes append to the last block; an acknowledged
 * prefix frees whole blocks; nothing queued is ever moved.
 *
 * Threads: one queue belongs to one connection's thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ngtcp2/ngtcp2.h>

#define QUIC_OUTQ_BLOCK 8192

struct quic_outq_blk;

struct quic_outq {
	struct quic_outq_blk *head, *tail;
	size_t head_off; /* acknowledged bytes at the front of head */
	size_t len;	 /* queued, not yet acknowledged */
	size_t sent;	 /* of len, handed to ngtcp2 */
	uint64_t base;	 /* stream offset of the first unacknowledged byte */
};

/* Append; LISPMS_ENOMEM (nothing appended) when a block cannot be had. */
int quic_outq_push(struct quic_outq *q, const uint8_t *buf, size_t len);
/* [offset, offset + len) of the stream acknowledged (in stream order). */
void quic_outq_acked(struct quic_outq *q, uint64_t offset, uint64_t len);
/* Up to max vectors of the bytes not yet handed to ngtcp2; their count. */
size_t quic_outq_unsent(const struct quic_outq *q, ngtcp2_vec *v, size_t max);
/* n more bytes handed to ngtcp2. */
void quic_outq_sent(struct quic_outq *q, size_t n);
void quic_outq_free(struct quic_outq *q);
