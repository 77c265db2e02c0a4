/* SPDX-License-Identifier: MIT */
#include "doc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <lispms/err.h>

struct frame {
	struct doc_node *node;
	struct doc_node **kids;
	size_t n, cap;
};

struct builder {
	struct doc *doc;
	struct doc_err *err;
	struct frame stack[DOC_MAX_DEPTH];
	unsigned depth;
	unsigned documents;
};

static int fail(struct builder *b, const yaml_mark_t *m, const char *text)
{
	b->err->line = (unsigned)m->line + 1;
	b->err->column = (unsigned)m->column + 1;
	snprintf(b->err->text, sizeof(b->err->text), "%s", text);
	return LISPMS_ECONFIG;
}

static struct doc_node *node_new(struct builder *b, enum doc_kind kind, const yaml_mark_t *m)
{
	struct doc_node *n = pool_alloc(&b->doc->pool, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->line = (unsigned)m->line + 1;
	n->column = (unsigned)m->column + 1;
	return n;
}

/* Hang a finished node under the open container, or make it the root. */
static int attach(struct builder *b, struct doc_node *n)
{
	if (b->depth == 0) {
		b->doc->root = n;
		return LISPMS_EOK;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct doc_node **k = realloc(f->kids, cap * sizeof(*k));
		if (k == NULL)
			return LISPMS_ENOMEM;
		f->kids = k;
		f->cap = cap;
	}
	f->kids[f->n++] = n;
	return LISPMS_EOK;
}

static int open_container(struct builder *b, enum doc_kind kind, const yaml_mark_t *m)
{
	if (b->depth == DOC_MAX_DEPTH)
		return fail(b, m, "nested too deeply");
	struct doc_node *n = node_new(b, kind, m);
	if (n == NULL)
		return LISPMS_ENOMEM;
	b->stack[b->depth++] = (struct frame){ .node = n };
	return LISPMS_EOK;
}

static int close_container(struct builder *b)
{
	struct frame *f = &b->stack[--b->depth];
	struct doc_node *n = f->node;
	int ret = LISPMS_ENOMEM;
	if (f->n > 0) {
		n->items = pool_calloc(&b->doc->pool, f->n, sizeof(*n->items));
		if (n->items == NULL)
			goto out_free_kids;
		memcpy(n->items, f->kids, f->n * sizeof(*n->items));
	}
	n->n = n->kind == DOC_MAP ? f->n / 2 : f->n;
	ret = attach(b, n);
out_free_kids:
	free(f->kids);
	f->kids = NULL;
	return ret;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct doc_node *n = node_new(b, DOC_SCALAR, &ev->start_mark);
	if (n == NULL)
		return LISPMS_ENOMEM;
	n->len = ev->data.scalar.length;
	n->text = pool_strndup(&b->doc->pool, (const char *)ev->data.scalar.value, n->len);
	if (n->text == NULL)
		return LISPMS_ENOMEM;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	return attach(b, n);
}

/* A map key must be a scalar: checked when it is attached as an even child. */
static bool key_slot_open(const struct builder *b)
{
	if (b->depth == 0)
		return false;
	const struct frame *f = &b->stack[b->depth - 1];
	return f->node->kind == DOC_MAP && f->n % 2 == 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return LISPMS_EOK;
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1)
			return fail(b, &ev->start_mark, "only one YAML document is allowed");
		return LISPMS_EOK;
	case YAML_ALIAS_EVENT:
		return fail(b, &ev->start_mark, "aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		if (key_slot_open(b))
			return fail(b, &ev->start_mark, "a key must be a plain string");
		return open_container(b, DOC_SEQ, &ev->start_mark);
	case YAML_MAPPING_START_EVENT:
		if (key_slot_open(b))
			return fail(b, &ev->start_mark, "a key must be a plain string");
		return open_container(b, DOC_MAP, &ev->start_mark);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth == 0)
			return fail(b, &ev->start_mark, "unbalanced document");
		return close_container(b);
	}
	return LISPMS_EOK;
}

static void syntax_error(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "cannot parse";
	char text[sizeof(b->err->text)];
	if (p->context != NULL)
		snprintf(text, sizeof(text), "syntax error: %s %s (line %u)", problem, p->context,
			 (unsigned)p->context_mark.line + 1);
	else
		snprintf(text, sizeof(text), "syntax error: %s", problem);
	fail(b, &p->problem_mark, text);
}

int doc_load(const char *buf, size_t len, struct doc *d, struct doc_err *err)
{
	struct builder b = { .doc = d, .err = err };
	pool_init(&d->pool);
	d->root = NULL;
	memset(err, 0, sizeof(*err));

	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return LISPMS_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	int ret = LISPMS_EOK;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				ret = LISPMS_ENOMEM;
			} else {
				syntax_error(&b, &parser);
				ret = LISPMS_ECONFIG;
			}
			break;
		}
		bool end = ev.type == YAML_STREAM_END_EVENT;
		ret = on_event(&b, &ev);
		yaml_event_delete(&ev);
		if (ret != LISPMS_EOK || end)
			break;
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0)
		free(b.stack[--b.depth].kids);
	if (ret != LISPMS_EOK)
		doc_free(d);
	return ret;
}

void doc_free(struct doc *d)
{
	pool_deinit(&d->pool);
	d->root = NULL;
}

bool doc_is_null(const struct doc_node *n)
{
	if (n->kind != DOC_SCALAR || n->quoted)
		return false;
	return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
	       strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

const struct doc_node *doc_map_get(const struct doc_node *map, const char *key)
{
	if (map == NULL || map->kind != DOC_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		const struct doc_node *k = map->items[2 * i];
		if (k->kind == DOC_SCALAR && strcmp(k->text, key) == 0)
			return map->items[2 * i + 1];
	}
	return NULL;
}

const char *doc_kind_name(const struct doc_node *n)
{
	switch (n->kind) {
	case DOC_MAP:
		return "a mapping";
	case DOC_SEQ:
		return "a list";
	case DOC_SCALAR:
		break;
	}
	return doc_is_null(n) ? "null" : "a string";
}
