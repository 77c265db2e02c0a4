/* SPDX-License-Identifier: MIT */
/* The control-socket decoder on arbitrary bytes: frames, requests, END frames. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lispms/ctl.h>
#include <lispms/err.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0;
	while (at < size) {
		struct ctl_frame f;
		size_t used;
		if (ctl_frame_decode(data + at, size - at, &f, &used) != LISPMS_EOK)
			break;
		if (used < LISPMS_CTL_HDR || used > size - at)
			__builtin_trap();
		struct ctl_request r;
		if (ctl_request_decode(&f, &r) == LISPMS_EOK) {
			unsigned words;
			ctl_cmd_match(r.argc, r.argv, &words);
			uint8_t again[LISPMS_CTL_HDR + LISPMS_CTL_REQUEST_MAX];
			size_t len;
			if (ctl_request_encode(r.argv, r.argc, r.json, again, sizeof(again),
					       &len) != LISPMS_EOK ||
			    len != used || memcmp(again + LISPMS_CTL_HDR, f.payload, f.len) != 0)
				__builtin_trap();
		}
		int status;
		const char *msg;
		size_t mlen;
		if (ctl_end_decode(&f, &status, &msg, &mlen) == LISPMS_EOK && mlen + 4 != f.len)
			__builtin_trap();
		at += used;
	}
	return 0;
}
