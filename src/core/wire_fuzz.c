/* SPDX-License-Identifier: MIT */
/*
 * Bytecode fuzzer for the wire cursor with a shadow model: the first byte of
 * each step picks an operation, and a plain offset/error model predicts what
 * the cursor must do. Any read outside the buffer is caught by ASan; any
 * disagreement with the model aborts.
 */
#include <stdlib.h>

#include <lispms/wire.h>

#include "fuzz.h"

static void check(bool cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t buflen = data[0];
	uint8_t *buf = malloc(buflen ? buflen : 1);
	if (buf == NULL)
		return 0;
	for (size_t i = 0; i < buflen; i++)
		buf[i] = (uint8_t)i;

	struct wire w = wire_init(buf, buflen);
	size_t off = 0;
	int err = LISPMS_EOK;
	for (size_t i = 1; i < size; i++) {
		unsigned op = data[i] & 0x0f;
		size_t n = data[i] >> 4;
		static const size_t widths[] = { 1, 2, 4, 8 };
		size_t need = op < 4 ? widths[op] : op < 8 ? widths[op - 4] : n;
		bool reading = op < 4 || op == 8 || op == 10;
		if (op == 11) {
			wire_seek(&w, n);
			if (!err && n > buflen)
				err = LISPMS_EINVAL;
			else if (!err)
				off = n;
			check(w.error == err);
			continue;
		}
		if (op > 11)
			continue;
		bool fits = !err && buflen - off >= need;
		switch (op) {
		case 0:
			(void)wire_read_u8(&w);
			break;
		case 1:
			(void)wire_read_u16(&w);
			break;
		case 2:
			(void)wire_read_u32(&w);
			break;
		case 3:
			(void)wire_read_u64(&w);
			break;
		case 4:
			wire_write_u8(&w, 1);
			break;
		case 5:
			wire_write_u16(&w, 1);
			break;
		case 6:
			wire_write_u32(&w, 1);
			break;
		case 7:
			wire_write_u64(&w, 1);
			break;
		case 8:
			wire_skip(&w, n);
			break;
		case 9:
			wire_write_zero(&w, n);
			break;
		case 10: {
			struct wire sub = wire_sub(&w, n);
			while (wire_ok(&sub))
				(void)wire_read_u8(&sub);
			break;
		}
		}
		if (fits)
			off += need;
		else if (!err)
			err = reading ? LISPMS_ETRUNC : LISPMS_ENOSPC;
		check(w.error == err);
		check(wire_offset(&w) == off);
		check(wire_avail(&w) == (err ? 0 : buflen - off));
	}
	free(buf);
	return 0;
}
