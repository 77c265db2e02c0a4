/* SPDX-License-Identifier: MIT */
/*
 * Deferred signing, the second half of a batch's authentication (ms_auth.c
 * has the first): the Map-Notifies that acknowledge a batch's registers go
 * into the outbox unsigned and are signed together after the batch, in one
 * auth_batch_sign(); outside a batch each is signed at once.
 */
#include <lispms/counters.h>

#include "ms_internal.h"

bool ms_sign_add(struct ms_thread *t, struct dgram_outbox *out, const struct auth_key *k,
		 uint8_t *msg, size_t len, const struct sockaddr_storage *dst,
		 const struct sockaddr_storage *src)
{
	struct ms_sign_later *s = &t->sign;
	if (!s->on || s->n == MS_SIGN_BATCH) {
		if (auth_sign(t->auth, k, msg, len) != LISPMS_EOK) {
			counters_inc(LISPMS_M_INTERNAL_ERRORS);
			return false;
		}
		return ms_emit(out, msg, len, dst, src);
	}
	if (!ms_emit(out, msg, len, dst, src))
		return false;
	struct dgram_out *tx = &out->msgs[out->n - 1];
	s->job[s->n] = (struct auth_sjob){ .key = k, .msg = (uint8_t *)tx->data, .len = len };
	s->slot[s->n++] = out->n - 1;
	return true;
}

void ms_sign_flush(struct ms_thread *t, struct dgram_outbox *out)
{
	struct ms_sign_later *s = &t->sign;
	if (!s->on)
		return;
	s->on = false;
	if (s->n == 0)
		return;
	auth_batch_sign(t->auth, s->job, s->n);
	counters_add(LISPMS_M_MS_AUTH_BATCH_SIGN, s->n);
	/*
	 * A message that could not be signed (an internal error: the encoder
	 * wrote the key's own fields) leaves the outbox, never sent unsigned.
	 */
	unsigned k = 0, w = 0;
	for (unsigned r = 0; r < out->n; r++) {
		bool bad = false;
		if (k < s->n && s->slot[k] == r)
			bad = s->job[k++].ret != LISPMS_EOK;
		if (bad) {
			counters_inc(LISPMS_M_INTERNAL_ERRORS);
			continue;
		}
		if (w != r)
			out->msgs[w] = out->msgs[r];
		w++;
	}
	out->n = w;
	s->n = 0;
}
