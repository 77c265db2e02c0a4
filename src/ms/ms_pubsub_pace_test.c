/* SPDX-License-Identifier: MIT */
/*
 * UDP subscribers are paced by their acks (D20): a state dump larger than
 * the backlog bound waits for acks instead of dropping the subscriber, and
 * one that falls behind is resynchronised with a fresh dump.
 */
#include "ms_pubsub_testlib.h"

/* What a UDP subscriber received: nonces checked in order, /32s seen. */
struct received {
	uint64_t next_nonce;
	unsigned msgs, records, max_pending;
	uint8_t seen[65536 / 8];
};

/* Tick, take every Map-Notify the subscriber got (each verified with key,
 * nonces one after the other), ack it when ack_them; until nothing comes
 * (at most rounds ticks). Never advances time: nothing is retransmitted. */
static void drain(struct received *r, const struct auth_key *key, bool ack_them, unsigned rounds,
		  uint64_t now)
{
	static uint8_t raw[64][2048];
	static size_t rawlen[64];
	for (unsigned round = 0; round < rounds; round++) {
		tick(now);
		unsigned n = 0;
		for (unsigned i = 0; i < x.out.n; i++) {
			const struct dgram_out *o = &x.out.msgs[i];
			if (msg_type(o->data, o->len) != LISP_MSG_MAP_NOTIFY)
				continue;
			cr_assert_leq(o->len, sizeof(raw[0]));
			memcpy(raw[n], o->data, o->len);
			rawlen[n++] = o->len;
		}
		if (n == 0)
			return;
		for (unsigned i = 0; i < n; i++) {
			struct lisp_map_notify mn;
			arena_reset(&x.arena);
			cr_assert_eq(map_notify_decode(raw[i], rawlen[i], &x.arena, &mn),
				     LISPMS_EOK);
			cr_assert_eq(auth_verify(x.auth, key, 1, raw[i], rawlen[i], &mn.auth),
				     LISPMS_EOK);
			cr_assert_eq(mn.nonce, r->next_nonce,
				     "in nonce order, none missing (got %llu, want %llu, msg %u)",
				     (unsigned long long)mn.nonce,
				     (unsigned long long)r->next_nonce, r->msgs);
			r->next_nonce++;
			r->msgs++;
			r->records += mn.nrecords;
			for (unsigned k = 0; k < mn.nrecords; k++) {
				struct eid_prefix p = rec_eid(&mn.records[k]);
				if (p.plen == 32 && mn.records[k].nlocs == 1) {
					unsigned idx = p.bytes[2] * 256u + p.bytes[3];
					r->seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
				}
			}
		}
		if (ack_them)
			for (unsigned i = 0; i < n; i++) {
				raw[i][0] = (uint8_t)(LISP_MSG_MAP_NOTIFY_ACK << 4);
				memset(raw[i] + LISPMS_AUTH_OFFSET, 0, auth_alg_len(key->alg_id));
				cr_assert_eq(auth_sign(x.auth, key, raw[i], rawlen[i]), LISPMS_EOK);
				tl_feed(&x, raw[i], rawlen[i], "127.0.0.9");
			}
		struct ms_subscription_info info[1];
		if (ms_subscriptions_list(x.ms, info, 1) == 1 && info[0].pending > r->max_pending)
			r->max_pending = (unsigned)info[0].pending;
	}
}

static unsigned seen_count(const struct received *r)
{
	unsigned n = 0;
	for (size_t i = 0; i < sizeof(r->seen); i++)
		n += (unsigned)__builtin_popcount(r->seen[i]);
	return n;
}

Test(pubsub, a_udp_dump_larger_than_the_backlog_bound_is_paced_by_acks, .timeout = 120)
{
	/* 33,000 more-specifics: 1,032 Map-Notifies, past the 1,024 unacknowledged
	 * a subscriber may have; the dump waits for acks instead */
	reg_many(0, 33000);
	uint64_t drop0 = counters_sum(LISPMS_M_MS_PUBSUB_DROP_BACKLOG);
	subscribe(BORDER, "[7] 10.1.0.0/16", 10, "127.0.0.9");
	static struct received r;
	memset(&r, 0, sizeof(r));
	r.next_nonce = 10;
	drain(&r, &k_border, true, 100000, mtime_now_ns());
	cr_assert_eq(ms_subscriptions_count(x.ms), 1, "still subscribed");
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_DROP_BACKLOG), drop0);
	cr_assert_eq(r.records, 33001, "the /16's negative answer and every /32, once");
	cr_assert_eq(seen_count(&r), 33000);
	cr_assert_eq(r.msgs, 1032);
	cr_assert_leq(r.max_pending, 256, "never more than the window outstanding");
}

Test(pubsub, a_subscriber_that_falls_behind_is_resynchronised_not_dropped, .timeout = 120)
{
	reg_many(0, 10);
	subscribe(BORDER, "[7] 10.1.0.0/16", 10, "127.0.0.9");
	static struct received r;
	memset(&r, 0, sizeof(r));
	r.next_nonce = 10;
	uint64_t now = mtime_now_ns();
	drain(&r, &k_border, true, 10, now);
	cr_assert_eq(r.records, 11);
	/* 1,100 changes, one publication each, while it acks nothing */
	uint64_t rs0 = counters_sum(LISPMS_M_MS_PUBSUB_RESYNCS);
	reg_many(10, 1100);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_RESYNCS), rs0 + 1, "it fell behind once");
	struct ms_subscription_info info[1];
	cr_assert_eq(ms_subscriptions_list(x.ms, info, 1), 1, "not dropped");
	cr_assert_eq(info[0].pending, 1024, "nothing held past the bound");
	cr_assert_str_eq(info[0].last_error, "fell behind: resynchronising");
	/* it acks its backlog: a fresh dump carries what it missed */
	memset(r.seen, 0, sizeof(r.seen));
	r.records = 0;
	drain(&r, &k_border, true, 100000, now);
	cr_assert_eq(ms_subscriptions_count(x.ms), 1);
	cr_assert_eq(seen_count(&r), 1110, "every /32, the 76 it missed included");
	cr_assert_eq(r.records, 1024 + 1 + 1110, "the backlog, then the resync dump");
	cr_assert_eq(ms_subscriptions_list(x.ms, info, 1), 1);
	cr_assert_eq(info[0].pending, 0);
	cr_assert_eq(counters_sum(LISPMS_M_MS_PUBSUB_RESYNCS), rs0 + 1);
}
