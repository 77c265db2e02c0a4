/* SPDX-License-Identifier: MIT */
/* The stream reassembler under every split of the bytes across reads. */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/err.h>
#include <lispms/proto_rt.h>

#include "hex.h"
#include "testvec.h"

static uint8_t stream[4096];
static size_t stream_len;
static size_t msg_len[16];
static int nmsgs;

/* Every §6.2 reliable-transport message, back to back. */
static void build(void)
{
	const char *all[] = { TV_RT_REGISTRATION,	  TV_RT_ACK,  TV_RT_REJECT,
			      TV_RT_REFRESH_ALL,	  TV_RT_BARE, TV_RT_REFRESH_REJECTED,
			      TV_RT_MAPPING_NOTIFICATION, TV_RT_ERROR };
	stream_len = 0;
	nmsgs = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		int n = hex_decode(all[i], stream + stream_len, sizeof(stream) - stream_len);
		cr_assert(n > 0);
		msg_len[nmsgs++] = (size_t)n;
		stream_len += (size_t)n;
	}
}

/* Feed the stream in reads of the sizes chosen by `next_size`, check every message. */
static void run(size_t (*next_size)(size_t pos, void *arg), void *arg, size_t cap)
{
	static uint8_t buf[4096];
	cr_assert(cap <= sizeof(buf));
	struct rt_stream s;
	cr_assert_eq(rt_stream_init(&s, buf, cap, cap), LISPMS_EOK);
	size_t pos = 0, off = 0;
	int got = 0;
	while (pos < stream_len || got < nmsgs) {
		size_t want = next_size(pos, arg);
		if (want > stream_len - pos)
			want = stream_len - pos;
		pos += rt_stream_feed(&s, stream + pos, want);
		const uint8_t *msg;
		size_t len;
		int r;
		while ((r = rt_stream_next(&s, &msg, &len)) == 1) {
			cr_assert(got < nmsgs);
			cr_assert_eq(len, msg_len[got], "message %d", got);
			cr_assert_arr_eq(msg, stream + off, len);
			struct rt_msg m;
			cr_assert_eq(rt_decode(msg, len, &m), LISPMS_EOK);
			off += len;
			got++;
		}
		cr_assert_eq(r, 0);
		if (pos == stream_len && got < nmsgs)
			cr_assert(false, "stream ended with %d of %d messages", got, nmsgs);
	}
	cr_assert_eq(got, nmsgs);
}

static size_t one(size_t pos, void *arg)
{
	(void)pos;
	(void)arg;
	return 1;
}

static size_t all_at_once(size_t pos, void *arg)
{
	(void)pos;
	(void)arg;
	return 1 << 20;
}

static size_t split_at(size_t pos, void *arg)
{
	size_t at = *(size_t *)arg;
	return pos < at ? at - pos : 1 << 20;
}

static size_t random_size(size_t pos, void *arg)
{
	(void)pos;
	uint64_t *x = arg;
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (size_t)(*x % 200) + 1;
}

Test(rt_stream, one_byte_reads)
{
	build();
	run(one, NULL, 256);
}

Test(rt_stream, coalesced_messages)
{
	build();
	run(all_at_once, NULL, 4096);
}

Test(rt_stream, every_split_point)
{
	build();
	for (size_t at = 1; at < stream_len; at++)
		run(split_at, &at, 512);
}

Test(rt_stream, random_reads_small_buffer)
{
	build();
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t x = seed * 0x9e3779b97f4a7c15ull;
		run(random_size, &x, 128);
	}
}

static int feed_all(struct rt_stream *s, const char *hex)
{
	uint8_t b[256];
	int n = hex_decode(hex, b, sizeof(b));
	cr_assert(n > 0);
	cr_assert_eq(rt_stream_feed(s, b, (size_t)n), (size_t)n);
	const uint8_t *msg;
	size_t len;
	int r;
	while ((r = rt_stream_next(s, &msg, &len)) == 1)
		;
	return r;
}

Test(rt_stream, bad_lengths_and_markers_are_sticky)
{
	uint8_t buf[128];
	struct rt_stream s;
	const uint8_t *msg;
	size_t len, avail;

	rt_stream_init(&s, buf, sizeof(buf), 100);
	cr_assert_eq(feed_all(&s, "0014 0007 9facade9"), LISPMS_ELENGTH);
	cr_assert_eq(s.bad.type, 20);
	cr_assert_eq(s.bad.length, 7);
	cr_assert_eq(rt_stream_next(&s, &msg, &len), LISPMS_ELENGTH, "sticky");
	cr_assert_null(rt_stream_space(&s, &avail));
	cr_assert_eq(avail, 0);

	rt_stream_init(&s, buf, sizeof(buf), 100);
	cr_assert_eq(feed_all(&s, "0014 000a 0000"), LISPMS_ELENGTH, "9..11 cannot hold an ID");

	rt_stream_init(&s, buf, sizeof(buf), 100);
	cr_assert_eq(feed_all(&s, "0011 0065 0000002a"), LISPMS_ELENGTH, "above the maximum");
	cr_assert_eq(s.bad.length, 101);
	cr_assert_eq(s.bad.has_id, 1);
	cr_assert_eq(s.bad.id, 42);

	rt_stream_init(&s, buf, sizeof(buf), 100);
	cr_assert_eq(feed_all(&s, TV_RT_BARE " 0014 0008 9facadea"), LISPMS_EMARKER);
	cr_assert_eq(s.bad.type, 20);

	rt_stream_init(&s, buf, sizeof(buf), 100);
	cr_assert_eq(feed_all(&s, "0014 0008 9fac"), 0, "incomplete is not an error");
}

Test(rt_stream, init_checks)
{
	uint8_t buf[64];
	struct rt_stream s;
	cr_assert_eq(rt_stream_init(&s, buf, sizeof(buf), 65), LISPMS_EINVAL);
	cr_assert_eq(rt_stream_init(&s, buf, sizeof(buf), 7), LISPMS_EINVAL);
	cr_assert_eq(rt_stream_init(&s, NULL, sizeof(buf), 64), LISPMS_EINVAL);
	cr_assert_eq(rt_stream_init(&s, buf, sizeof(buf), 64), LISPMS_EOK);
}

Test(rt_stream, zero_copy_receive)
{
	build();
	uint8_t buf[512];
	struct rt_stream s;
	rt_stream_init(&s, buf, sizeof(buf), sizeof(buf));
	size_t pos = 0;
	int got = 0;
	while (pos < stream_len) {
		size_t avail;
		uint8_t *p = rt_stream_space(&s, &avail);
		cr_assert(avail > 0);
		size_t n = avail < 37 ? avail : 37;
		if (n > stream_len - pos)
			n = stream_len - pos;
		memcpy(p, stream + pos, n);
		rt_stream_commit(&s, n);
		pos += n;
		const uint8_t *msg;
		size_t len;
		while (rt_stream_next(&s, &msg, &len) == 1)
			cr_assert_eq(len, msg_len[got++]);
	}
	cr_assert_eq(got, nmsgs);
}
