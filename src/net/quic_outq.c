/* SPDX-License-Identifier: MIT */
#include "quic_outq.h"

#include <stdlib.h>
#include <string.h>

#include <lispms/err.h>

struct quic_outq_blk {
	struct quic_outq_blk *next;
	size_t len;
	uint8_t data[QUIC_OUTQ_BLOCK];
};

int quic_outq_push(struct quic_outq *q, const uint8_t *buf, size_t len)
{
	/* blocks first, so a failure leaves the queue as it was */
	size_t room = q->tail ? QUIC_OUTQ_BLOCK - q->tail->len : 0;
	struct quic_outq_blk *fresh = NULL, **link = &fresh;
	for (size_t need = len > room ? len - room : 0; need > 0;) {
		struct quic_outq_blk *b = malloc(sizeof(*b));
		if (b == NULL) {
			while (fresh) {
				struct quic_outq_blk *n = fresh->next;
				free(fresh);
				fresh = n;
			}
			return LISPMS_ENOMEM;
		}
		b->next = NULL;
		b->len = 0;
		*link = b;
		link = &b->next;
		need = need > QUIC_OUTQ_BLOCK ? need - QUIC_OUTQ_BLOCK : 0;
	}
	if (q->tail)
		q->tail->next = fresh ? fresh : q->tail->next;
	else
		q->head = fresh;
	struct quic_outq_blk *b = q->tail ? q->tail : q->head;
	while (len > 0) {
		if (b->len == QUIC_OUTQ_BLOCK)
			b = b->next;
		size_t n = QUIC_OUTQ_BLOCK - b->len;
		if (n > len)
			n = len;
		memcpy(b->data + b->len, buf, n);
		b->len += n;
		buf += n;
		len -= n;
		q->len += n;
	}
	if (b)
		q->tail = b;
	return LISPMS_EOK;
}

void quic_outq_acked(struct quic_outq *q, uint64_t offset, uint64_t len)
{
	uint64_t end = offset + len;
	if (end <= q->base)
		return;
	size_t drop = (size_t)(end - q->base);
	if (drop > q->len)
		drop = q->len;
	q->len -= drop;
	q->sent = q->sent > drop ? q->sent - drop : 0;
	q->base += drop;
	q->head_off += drop;
	while (q->head && q->head_off >= q->head->len &&
	       (q->head->len == QUIC_OUTQ_BLOCK || q->head == q->tail)) {
		struct quic_outq_blk *b = q->head;
		q->head_off -= b->len;
		q->head = b->next;
		if (q->tail == b)
			q->tail = NULL;
		free(b);
	}
	if (q->head == NULL)
		q->head_off = 0;
}

size_t quic_outq_unsent(const struct quic_outq *q, ngtcp2_vec *v, size_t max)
{
	if (q->sent >= q->len)
		return 0;
	size_t skip = q->head_off + q->sent, n = 0;
	const struct quic_outq_blk *b = q->head;
	while (b && skip >= b->len) {
		skip -= b->len;
		b = b->next;
	}
	for (; b && n < max; b = b->next, skip = 0) {
		if (b->len > skip) {
			v[n].base = (uint8_t *)b->data + skip;
			v[n].len = b->len - skip;
			n++;
		}
	}
	return n;
}

void quic_outq_sent(struct quic_outq *q, size_t n)
{
	q->sent += n;
	if (q->sent > q->len)
		q->sent = q->len;
}

void quic_outq_free(struct quic_outq *q)
{
	while (q->head) {
		struct quic_outq_blk *b = q->head;
		q->head = b->next;
		free(b);
	}
	memset(q, 0, sizeof(*q));
}
