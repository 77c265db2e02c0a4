/* SPDX-License-Identifier: MIT */
/*
 * Authentication verify on any Map-Register / Map-Notify / Map-Notify-Ack
 * that decodes, with keys "secret" under Key IDs 0..2 and both algorithms.
 * Oracle: verify returns a defined code and never writes the message, and a
 * message that verifies with whole-message coverage is reproduced by
 * encoding it with zeroed authentication data and signing it.
 */
#include "fuzz.h"
#include "fuzz_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth_ctx *ctx;
	static struct auth_key keys[6];
	static uint8_t copy[FUZZ_BUF], out[FUZZ_BUF];
	if (ctx == NULL) {
		ctx = auth_ctx_new();
		fuzz_check(ctx != NULL);
		for (int i = 0; i < 6; i++)
			fuzz_check(auth_key_init(&keys[i], (uint8_t)(i / 2), (uint8_t)(1 + i % 2),
						 "secret", 6) == LISPMS_EOK);
	}
	if (size > sizeof(copy))
		return 0;
	struct arena *a = fuzz_arena();
	struct lisp_msg m;
	if (msg_decode(data, size, a, &m) != LISPMS_EOK)
		return 0;
	const struct lisp_auth *au;
	if (m.type == LISP_MSG_MAP_REGISTER)
		au = &m.u.reg.auth;
	else if (m.type == LISP_MSG_MAP_NOTIFY || m.type == LISP_MSG_MAP_NOTIFY_ACK)
		au = &m.u.notify.auth;
	else
		return 0;
	memcpy(copy, data, size);
	int ret = auth_verify(ctx, keys, 6, data, size, au);
	fuzz_check(memcmp(copy, data, size) == 0);
	fuzz_check(ret == LISPMS_EOK || ret == LISPMS_EAUTH || ret == LISPMS_ENOKEY);
	if (ret != LISPMS_EOK ||
	    (m.type != LISP_MSG_MAP_REGISTER && (m.u.notify.flags & LISP_MNOT_WS_BITS) != 0))
		return 0;
	struct lisp_msg z = m;
	if (m.type == LISP_MSG_MAP_REGISTER)
		z.u.reg.auth.data = NULL;
	else
		z.u.notify.auth.data = NULL;
	size_t n;
	fuzz_check(msg_encode(&z, out, sizeof(out), &n) == LISPMS_EOK && n == size);
	const struct auth_key *k = NULL;
	for (int i = 0; i < 6; i++)
		if (keys[i].key_id == au->key_id && keys[i].alg_id == au->alg_id)
			k = &keys[i];
	fuzz_check(k != NULL && auth_sign(ctx, k, out, n) == LISPMS_EOK);
	if (au->rfc_end == size)
		fuzz_check(memcmp(out, data, size) == 0);
	return 0;
}
