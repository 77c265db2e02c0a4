/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include <lispms/assert.h>
#include <lispms/db/reclaim.h>
#include <lispms/err.h>
#include <lispms/rcu.h>

struct reclaim_item {
	reclaim_fn *fn;
	void *obj;
};

struct reclaim_batch {
	struct rcu_head rcu;
	unsigned n;
	struct reclaim_item item[LISPMS_RECLAIM_BATCH];
};

static void batch_run(struct rcu_head *head)
{
	struct reclaim_batch *b = caa_container_of(head, struct reclaim_batch, rcu);
#ifdef LISPMS_RCU_TSAN
	LRCU_TSAN_ACQUIRE(&lrcu_tsan_gp);
#endif
	for (unsigned i = 0; i < b->n; i++)
		b->item[i].fn(b->item[i].obj);
	free(b);
}

void reclaim_init(struct reclaim *r)
{
	r->cur = NULL;
	r->pending = 0;
}

void reclaim_flush_w(struct reclaim *r)
{
	struct reclaim_batch *b = r->cur;
	if (b == NULL)
		return;
	r->cur = NULL;
	r->pending = 0;
	if (b->n == 0) {
		free(b);
		return;
	}
	lrcu_call(&b->rcu, batch_run);
}

void reclaim_deinit(struct reclaim *r)
{
	reclaim_flush_w(r);
}

int reclaim_reserve_w(struct reclaim *r, unsigned n)
{
	if (r->cur != NULL && r->cur->n + n <= LISPMS_RECLAIM_BATCH)
		return LISPMS_EOK;
	struct reclaim_batch *b = malloc(sizeof(*b));
	if (b == NULL)
		return LISPMS_ENOMEM;
	b->n = 0;
	reclaim_flush_w(r);
	r->cur = b;
	return LISPMS_EOK;
}

void reclaim_push_w(struct reclaim *r, reclaim_fn *fn, void *obj)
{
	struct reclaim_batch *b = r->cur;
	REQUIRE(b != NULL && b->n < LISPMS_RECLAIM_BATCH);
	b->item[b->n].fn = fn;
	b->item[b->n].obj = obj;
	b->n++;
	r->pending++;
}
