/* SPDX-License-Identifier: MIT */
#include "wheel.h"

#define SPAN(level) (1u << (WHEEL_BITS * (level)))

void wheel_init(struct wheel *w, uint32_t now, wheel_when_fn *when)
{
	w->cur = now;
	w->cascaded = false;
	w->count = 0;
	w->when = when;
	for (unsigned l = 0; l < WHEEL_LEVELS; l++)
		for (unsigned s = 0; s < WHEEL_SLOTS; s++)
			CDS_INIT_LIST_HEAD(&w->slot[l][s]);
}

static void file(struct wheel *w, struct cds_list_head *item, uint32_t when)
{
	if (when < w->cur)
		when = w->cur;
	uint32_t delta = when - w->cur;
	unsigned level = 0;
	while (level < WHEEL_LEVELS - 1 && delta >= SPAN(level + 1))
		level++;
	if (level == WHEEL_LEVELS - 1 && delta >= SPAN(WHEEL_LEVELS))
		when = w->cur + SPAN(WHEEL_LEVELS) - 1; /* parked, re-filed later */
	unsigned s = (when >> (WHEEL_BITS * level)) & (WHEEL_SLOTS - 1);
	cds_list_add_tail(item, &w->slot[level][s]);
}

void wheel_add(struct wheel *w, struct cds_list_head *item, uint32_t when)
{
	file(w, item, when);
	w->count++;
}

void wheel_del(struct wheel *w, struct cds_list_head *item)
{
	cds_list_del(item);
	w->count--;
}

static void cascade(struct wheel *w, unsigned level)
{
	unsigned s = (w->cur >> (WHEEL_BITS * level)) & (WHEEL_SLOTS - 1);
	struct cds_list_head tmp;
	CDS_INIT_LIST_HEAD(&tmp);
	cds_list_splice(&w->slot[level][s], &tmp);
	CDS_INIT_LIST_HEAD(&w->slot[level][s]);
	while (!cds_list_empty(&tmp)) {
		struct cds_list_head *item = tmp.next;
		cds_list_del(item);
		file(w, item, w->when(item));
	}
}

static bool levels_empty(struct wheel *w, unsigned upto)
{
	for (unsigned l = 0; l < upto; l++)
		for (unsigned s = 0; s < WHEEL_SLOTS; s++)
			if (!cds_list_empty(&w->slot[l][s]))
				return false;
	return true;
}

struct cds_list_head *wheel_next(struct wheel *w, uint32_t now)
{
	for (;;) {
		if (w->cur > now)
			return NULL;
		if (w->count == 0) {
			w->cur = now + 1;
			w->cascaded = false;
			return NULL;
		}
		if (!w->cascaded) {
			for (unsigned l = WHEEL_LEVELS - 1; l >= 1; l--)
				if ((w->cur & (SPAN(l) - 1)) == 0)
					cascade(w, l);
			w->cascaded = true;
		}
		struct cds_list_head *head = &w->slot[0][w->cur & (WHEEL_SLOTS - 1)];
		if (!cds_list_empty(head)) {
			struct cds_list_head *item = head->next;
			cds_list_del(item);
			w->count--;
			return item;
		}
		/* nothing due now: skip whole empty spans when aligned */
		uint32_t step = 1;
		for (unsigned l = 1; l < WHEEL_LEVELS; l++) {
			if ((w->cur & (SPAN(l) - 1)) != 0 || !levels_empty(w, l))
				break;
			step = SPAN(l);
		}
		uint32_t next = w->cur + step;
		w->cur = next > now + 1 ? now + 1 : next;
		w->cascaded = false;
	}
}
