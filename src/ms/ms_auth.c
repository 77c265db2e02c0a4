/* SPDX-License-Identifier: MIT */
/*
 * The authentication stage of a batch (a recvmmsg batch of a kernel worker,
 * a burst of a DPDK lcore): before the request core walks the batch, every
 * Map-Register is decoded, its site found and its HMAC verified, all of
 * them in one auth_batch_verify() (one multi-buffer submission per
 * algorithm with ipsec-mb); while it walks, the Map-Notifies that
 * acknowledge them go into the outbox unsigned and are signed together
 * after it, in one auth_batch_sign() (ms_sign.c). Results are those of the
 * one-message path: ms_register_process_pre() takes the stage's decode,
 * site and verdict where ms_register_process() computes them.
 *
 * A batch with fewer registers than auth_ctx_batch_min() skips the stage:
 * where the engine needs its SIMD lanes filled (no SHA-NI) a lone job costs
 * what a whole burst does, and with OpenSSL alone there is nothing to gain
 * for one message; with SHA-NI the engine beats OpenSSL for one message too,
 * so then every register takes the stage. Sessions keep the one-message
 * path.
 * The decoded registers stay in the scratch arena for the batch; when they
 * would take more than half of it, the rest go the one-message way. The
 * stage also warms the database state the verified records will touch
 * (db_warm()), so the misses of a burst overlap.
 */
#include <lispms/counters.h>

#include "ms_internal.h"

#define MS_WARM_MAX 64 /* records of a batch whose db state is warmed */

/*
 * Before the core walks the batch, start the cache misses of the records
 * of every verified register (host-index slots, entries, trie paths)
 * together: a refresh storm of one-record registers over a large table is
 * otherwise a chain of misses one message after the other.
 */
static void warm(struct ms_thread *t, const struct ms_reg_pre *pre, const unsigned *which,
		 unsigned nv)
{
	struct eid_prefix eid[MS_WARM_MAX];
	const struct eid_prefix *ps[MS_WARM_MAX];
	unsigned n = 0;
	for (unsigned k = 0; k < nv && n < MS_WARM_MAX; k++) {
		const struct ms_reg_pre *p = &pre[which[k]];
		if (p->verified != LISPMS_EOK)
			continue;
		/* the first record's EID is the stage's already (its site lookup) */
		ps[n++] = &p->first;
		for (unsigned i = 1; i < p->reg.nrecords && n < MS_WARM_MAX; i++)
			if (record_eid(&p->reg.records[i], &eid[n]) == LISPMS_EOK) {
				ps[n] = &eid[n];
				n++;
			}
	}
	if (n > 1)
		db_warm(t->ms->db, ps, n);
}

struct ms_reg_pre *ms_auth_stage(struct ms_thread *t, const struct dgram *rx, unsigned n)
{
	unsigned nreg = 0;
	for (unsigned i = 0; i < n; i++)
		nreg += msg_type(rx[i].data, rx[i].len) == LISP_MSG_MAP_REGISTER;
	if (nreg == 0 || nreg < t->auth_min)
		return NULL;
	struct arena *a = &t->scratch;
	struct ms_reg_pre *pre = arena_alloc(a, sizeof(*pre) * n);
	struct auth_vjob *v = arena_alloc(a, sizeof(*v) * nreg);
	unsigned *which = arena_alloc(a, sizeof(*which) * nreg);
	if (pre == NULL || v == NULL || which == NULL)
		return NULL;
	unsigned nv = 0;
	for (unsigned i = 0; i < n; i++) {
		struct ms_reg_pre *p = &pre[i];
		p->done = false;
		if (msg_type(rx[i].data, rx[i].len) != LISP_MSG_MAP_REGISTER ||
		    a->used > a->size / 2)
			continue;
		size_t mark = arena_mark(a);
		p->decoded = map_register_decode(rx[i].data, rx[i].len, a, &p->reg);
		if (p->decoded == LISPMS_ENOMEM) { /* the arena: leave it to the one-message path */
			arena_rewind(a, mark);
			continue;
		}
		p->done = true;
		p->sp = NULL;
		p->verified = LISPMS_EAUTH;
		if (p->decoded != LISPMS_EOK)
			continue;
		p->sp = ms_register_site(t, &p->reg, &p->first);
		if (p->sp == NULL)
			continue;
		v[nv] = (struct auth_vjob){ .keys = p->sp->site->keys,
					    .nkeys = p->sp->site->nkeys,
					    .msg = rx[i].data,
					    .len = rx[i].len,
					    .auth = &p->reg.auth,
					    .in_place = t->rx_writable };
		which[nv++] = i;
	}
	auth_batch_verify(t->auth, v, nv);
	counters_add(LISPMS_M_MS_AUTH_BATCH_VERIFY, nv);
	for (unsigned k = 0; k < nv; k++)
		pre[which[k]].verified = v[k].ret;
	warm(t, pre, which, nv);
	t->sign.on = true;
	t->sign.n = 0;
	return pre;
}
