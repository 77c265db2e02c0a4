/* SPDX-License-Identifier: MIT */
/*
 * Hierarchical timer wheel with one-second ticks: 4 levels of 64 slots
 * (1 s, 64 s, 68 min, 3 days per slot; 194 days in all, later deadlines
 * are parked at the far end and re-filed). Items are intrusive list links;
 * the owner gives a function that reads an item's current deadline, so an
 * item whose deadline moved later (a refresh, an atomic store elsewhere) is
 * simply re-filed when its slot comes up: cost proportional to what is due
 * plus one re-file per refreshed item per period, never to the table size.
 *
 * Threads: the owner's writer mutex.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu/list.h>

#define WHEEL_LEVELS 4
#define WHEEL_BITS   6
#define WHEEL_SLOTS  (1u << WHEEL_BITS)

typedef uint32_t wheel_when_fn(struct cds_list_head *item);

struct wheel {
	uint32_t cur; /* next second to process */
	bool cascaded;
	size_t count;
	wheel_when_fn *when;
	struct cds_list_head slot[WHEEL_LEVELS][WHEEL_SLOTS];
};

void wheel_init(struct wheel *w, uint32_t now, wheel_when_fn *when);

/* File item to fire at second `when` (at the next run if already past). */
void wheel_add(struct wheel *w, struct cds_list_head *item, uint32_t when);

/* Take item out before it fires. */
void wheel_del(struct wheel *w, struct cds_list_head *item);

/* The next item filed for a second <= now, unlinked, or NULL. */
struct cds_list_head *wheel_next(struct wheel *w, uint32_t now);
