/* SPDX-License-Identifier: MIT */
/*
 * Test-only: random valid messages from a seed (every field, every address
 * kind, reserved bits included) and deep equality, for the round-trip
 * property tests and the fuzz oracles. Variable-size parts (arrays, opaque
 * LCAFs, authentication data, inner messages) come from the arena.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <lispms/proto.h>
#include <lispms/proto_rt.h>

struct testgen {
	uint64_t state;
	struct arena *arena;
	unsigned max_records;  /* per message */
	unsigned max_locators; /* per record */
};

void testgen_init(struct testgen *g, uint64_t seed, struct arena *a);
uint64_t testgen_u64(struct testgen *g);
/* Uniform in [0, n). */
unsigned testgen_below(struct testgen *g, unsigned n);

void testgen_addr(struct testgen *g, struct afi_addr *out);
void testgen_record(struct testgen *g, struct lisp_record *out);
void testgen_map_request(struct testgen *g, struct lisp_map_request *out);
void testgen_map_reply(struct testgen *g, struct lisp_map_reply *out);
void testgen_map_register(struct testgen *g, struct lisp_map_register *out);
void testgen_map_notify(struct testgen *g, struct lisp_map_notify *out);
void testgen_map_referral(struct testgen *g, struct lisp_map_referral *out);
void testgen_ecm(struct testgen *g, struct lisp_ecm *out);
void testgen_shared_ext(struct testgen *g, struct lisp_shared_ext *out);
void testgen_msg(struct testgen *g, struct lisp_msg *out); /* any type */
void testgen_rt(struct testgen *g, struct rt_msg *out);

bool testgen_record_equal(const struct lisp_record *a, const struct lisp_record *b);
bool testgen_msg_equal(const struct lisp_msg *a, const struct lisp_msg *b);
bool testgen_rt_equal(const struct rt_msg *a, const struct rt_msg *b);
