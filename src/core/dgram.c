/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <lispms/dgram.h>

/* A slot and len octets of arena memory, the slot's other fields not set. */
static struct dgram_out *slot(struct dgram_outbox *out, size_t len)
{
	if (out->n >= out->cap) {
		out->dropped++;
		return NULL;
	}
	uint8_t *data = arena_alloc(out->arena, len);
	if (data == NULL) {
		out->dropped++;
		return NULL;
	}
	struct dgram_out *tx = &out->msgs[out->n++];
	tx->data = data;
	tx->len = len;
	return tx;
}

struct dgram_out *dgram_outbox_add(struct dgram_outbox *out, size_t len)
{
	struct dgram_out *tx = slot(out, len);
	if (tx != NULL) {
		memset(&tx->dst, 0, sizeof(tx->dst));
		memset(&tx->src, 0, sizeof(tx->src));
	}
	return tx;
}

/*
 * Every field written once: zeroing the 272-octet slot first, then copying
 * the addresses over it, is a `rep stos` (slow to start) and twice the
 * stores, for every reply of a fast-path burst.
 */
struct dgram_out *dgram_outbox_put(struct dgram_outbox *out, size_t len,
				   const struct sockaddr_storage *dst,
				   const struct sockaddr_storage *src)
{
	struct dgram_out *tx = slot(out, len);
	if (tx == NULL)
		return NULL;
	tx->dst = *dst;
	if (src != NULL && src->ss_family == dst->ss_family)
		tx->src = *src;
	else
		memset(&tx->src, 0, sizeof(tx->src));
	return tx;
}
