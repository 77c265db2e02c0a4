/* SPDX-License-Identifier: MIT */
/*
 * The stream reassembler with random split points: the first 8 octets seed
 * the read sizes and the buffer size, the rest is the byte stream. Whatever
 * the splits, the messages returned and the final error must be those of
 * one pass over the whole stream, each message must frame-decode, and the
 * buffer bound must hold.
 */
#include <lispms/proto_rt.h>

#include "fuzz.h"
#include "fuzz_oracle.h"

#define MAX_MSGS 4096

struct result {
	size_t n;
	size_t off[MAX_MSGS], len[MAX_MSGS];
	int error;
};

static void run(const uint8_t *s, size_t len, size_t cap, size_t max_len, uint64_t seed,
		struct result *r)
{
	static uint8_t buf[LISPMS_RT_MAX_LEN + 1];
	struct rt_stream st;
	fuzz_check(rt_stream_init(&st, buf, cap, max_len) == LISPMS_EOK);
	memset(r, 0, sizeof(*r));
	size_t pos = 0, off = 0;
	for (;;) {
		const uint8_t *msg;
		size_t mlen;
		int ret;
		while ((ret = rt_stream_next(&st, &msg, &mlen)) == 1) {
			fuzz_check(mlen <= max_len && msg >= buf && msg + mlen <= buf + cap);
			fuzz_check(memcmp(msg, s + off, mlen) == 0);
			struct rt_frame f;
			fuzz_check(rt_frame_decode(msg, mlen, &f) == LISPMS_EOK);
			if (r->n < MAX_MSGS) {
				r->off[r->n] = off;
				r->len[r->n] = mlen;
			}
			r->n++;
			off += mlen;
		}
		if (ret < 0) {
			r->error = ret;
			return;
		}
		if (pos == len)
			return;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size_t want = (size_t)(seed >> 33) % (seed >> 62 ? 9 : 300) + 1;
		if (want > len - pos)
			want = len - pos;
		size_t got = rt_stream_feed(&st, s + pos, want);
		fuzz_check(got > 0);
		pos += got;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result one, split;
	if (size < 8)
		return 0;
	uint64_t seed = 0;
	for (int i = 0; i < 8; i++)
		seed = seed << 8 | data[i];
	size_t max_len = 8 + (size_t)(seed % (LISPMS_RT_MAX_LEN - 7));
	if (seed & 1)
		max_len = 8 + (size_t)((seed >> 1) % 300);
	size_t cap = max_len + (size_t)((seed >> 20) % 64);
	if (cap > LISPMS_RT_MAX_LEN + 1)
		cap = LISPMS_RT_MAX_LEN + 1;
	run(data + 8, size - 8, LISPMS_RT_MAX_LEN + 1, max_len, 0, &one);
	run(data + 8, size - 8, cap, max_len, seed, &split);
	fuzz_check(one.n == split.n && one.error == split.error);
	for (size_t i = 0; i < one.n && i < MAX_MSGS; i++)
		fuzz_check(one.off[i] == split.off[i] && one.len[i] == split.len[i]);
	return 0;
}
