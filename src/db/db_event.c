/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <lispms/db.h>

void db_event_list_init(struct db_event_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->count = 0;
	l->dropped = 0;
}

static struct db_locset *locset_dup(const struct db_locset *ls)
{
	size_t sz = sizeof(*ls) + ls->count * sizeof(ls->loc[0]);
	struct db_locset *c = malloc(sz);
	if (c != NULL)
		memcpy(c, ls, sz);
	return c;
}

void db_event_list_add(const struct db_event *ev, void *list)
{
	struct db_event_list *l = list;
	struct db_event_copy *c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto out_drop;
	c->ev = *ev;
	if (ev->old_map != NULL) {
		c->old_m = *ev->old_map;
		c->old_locs = locset_dup(ev->old_map->locs);
		if (c->old_locs == NULL)
			goto out_free;
		c->old_m.locs = c->old_locs;
		c->ev.old_map = &c->old_m;
	}
	if (ev->new_map != NULL) {
		c->new_m = *ev->new_map;
		c->new_locs = locset_dup(ev->new_map->locs);
		if (c->new_locs == NULL)
			goto out_free;
		c->new_m.locs = c->new_locs;
		c->ev.new_map = &c->new_m;
	}
	*l->tail = c;
	l->tail = &c->next;
	l->count++;
	return;
out_free:
	free(c->old_locs);
	free(c);
out_drop:
	l->dropped++;
}

void db_event_list_clear(struct db_event_list *l)
{
	struct db_event_copy *c = l->head;
	while (c != NULL) {
		struct db_event_copy *next = c->next;
		free(c->old_locs);
		free(c->new_locs);
		free(c);
		c = next;
	}
	db_event_list_init(l);
}
