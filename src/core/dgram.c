/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <lispms/dgram.h>

struct dgram_out *dgram_outbox_add(struct dgram_outbox *out, size_t len)
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
	memset(tx, 0, sizeof(*tx));
	tx->data = data;
	tx->len = len;
	return tx;
}
