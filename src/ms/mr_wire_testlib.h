/* SPDX-License-Identifier: MIT */
/*
 * Private to the Map-Resolver's tests (mr_testlib.h, mr_sig_test.c): the
 * nonce a DDT node answers with, that of the DDT Map-Request in flight
 * (the resolver's own toward the tree, the ITR's toward a Map-Server:
 * docs/protocol.md D25).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <lispms/mr.h>

struct wire_find {
	uint64_t itr, wire;
	bool found;
};

static inline bool wire_one(const struct mr_pending_info *p, void *arg)
{
	struct wire_find *w = arg;
	if (p->nonce != w->itr)
		return true;
	w->wire = p->ddt_nonce;
	w->found = true;
	return false;
}

/* The nonce the DDT Map-Request in flight for the ITR's nonce carries
 * (the pending view's ddt_nonce), or itr itself when none is pending. */
static inline uint64_t wire_nonce(struct mr *m, uint64_t itr)
{
	struct wire_find w = { .itr = itr };
	mr_pending_foreach(m, wire_one, &w);
	return w.found ? w.wire : itr;
}
