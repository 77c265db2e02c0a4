/* SPDX-License-Identifier: MIT */
/*
 * A YAML document as a small tree of scalars, mappings and sequences with
 * their positions, read with libyaml's event API. Aliases are refused (a
 * config needs none, and they are how "billion laughs" inputs grow), nesting
 * is bounded, and one document per stream is allowed.
 *
 * Threads: a doc belongs to its loader. Ownership: doc_free() frees every
 * node. Errors: LISPMS_ECONFIG with line, column and text in struct doc_err;
 * LISPMS_ENOMEM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pool.h"

enum doc_kind {
	DOC_SCALAR,
	DOC_MAP,
	DOC_SEQ,
};

struct doc_node {
	enum doc_kind kind;
	unsigned line, column;	 /* 1-based */
	bool quoted;		 /* scalar written in quotes or as a block */
	const char *text;	 /* scalar, NUL-terminated (may also hold NULs) */
	size_t len;		 /* scalar bytes */
	struct doc_node **items; /* map: key, value, key, value...; seq: items */
	size_t n;		 /* map: pairs; seq: items */
};

struct doc {
	struct pool pool;
	struct doc_node *root; /* NULL for an empty stream */
};

#define DOC_MAX_DEPTH 32

struct doc_err {
	unsigned line, column;
	char text[256];
};

int doc_load(const char *buf, size_t len, struct doc *d, struct doc_err *err);
void doc_free(struct doc *d);

/* A plain scalar that YAML reads as null: empty, "~", "null", "Null", "NULL". */
bool doc_is_null(const struct doc_node *n);

/* Value of a mapping's key (first match), NULL when absent or not a map. */
const struct doc_node *doc_map_get(const struct doc_node *map, const char *key);

/* "a string", "a mapping", "a list", "null": what a node is, for messages. */
const char *doc_kind_name(const struct doc_node *n);
