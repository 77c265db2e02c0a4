/* SPDX-License-Identifier: MIT */
/*
 * Rendering a reply as aligned text or as one JSON object. Text tables have
 * fixed column widths from the handler, so rows can be streamed without
 * knowing what comes later.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lispms/metrics.h>

#include "ctl_internal.h"

#define REPLY_MAX (64u << 20) /* a stream is framed and sent long before this */
#define KEY_WIDTH 24

void ctl_reply_init(struct ctl_reply *r, bool json)
{
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->text, REPLY_MAX);
	r->json = json;
}

void ctl_reply_deinit(struct ctl_reply *r)
{
	if (r->step_free)
		r->step_free(r->step_state);
	sbuf_free(&r->text);
}

bool ctl_reply_json(const struct ctl_reply *r)
{
	return r->json;
}

void ctl_reply_stream(struct ctl_reply *r, ctl_step_fn *step, void *state,
		      void (*free_fn)(void *state))
{
	r->step = step;
	r->step_state = state;
	r->step_free = free_fn;
}

void ctl_json_string(struct sbuf *b, const char *s)
{
	sbuf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			sbuf_puts(b, "\\n");
		else if (*p == '\t')
			sbuf_puts(b, "\\t");
		else if (*p < 0x20)
			sbuf_printf(b, "\\u%04x", *p);
		else
			sbuf_append(b, (const char *)p, 1);
	}
	sbuf_puts(b, "\"");
}

static void json_start(struct ctl_reply *r)
{
	if (!r->started) {
		r->started = true;
		if (r->json)
			sbuf_puts(&r->text, "{");
	}
}

/* JSON: the separator and key of the next member at this depth. */
static void json_key(struct ctl_reply *r, const char *key)
{
	json_start(r);
	if (r->comma[r->depth])
		sbuf_puts(&r->text, ",");
	r->comma[r->depth] = true;
	if (key != NULL) {
		ctl_json_string(&r->text, key);
		sbuf_puts(&r->text, ":");
	}
}

/* JSON: open an object or array ("{" or "[") as the member `key`, one level deeper. */
static void json_open(struct ctl_reply *r, const char *key, const char *bracket)
{
	json_key(r, key);
	sbuf_puts(&r->text, bracket);
	if (r->depth < CTL_DEPTH_MAX)
		r->depth++;
	r->comma[r->depth] = false;
}

/* Text: a blank line before a section or table that follows other output. */
static void text_block(struct ctl_reply *r)
{
	if (r->started)
		sbuf_puts(&r->text, "\n");
	r->started = true;
}

static void text_key(struct ctl_reply *r, const char *key)
{
	r->started = true;
	char k[96];
	snprintf(k, sizeof(k), "%s:", key);
	for (char *p = k; *p; p++)
		if (*p == '_')
			*p = ' ';
	sbuf_printf(&r->text, "%*s%-*s ", (int)r->indent, "", KEY_WIDTH - (int)r->indent, k);
}

void ctl_out_str(struct ctl_reply *r, const char *key, const char *value)
{
	if (r->json) {
		json_key(r, key);
		if (value == NULL)
			sbuf_puts(&r->text, "null");
		else
			ctl_json_string(&r->text, value);
		return;
	}
	text_key(r, key);
	sbuf_printf(&r->text, "%s\n", value ? value : "-");
}

void ctl_out_u64(struct ctl_reply *r, const char *key, uint64_t value)
{
	if (r->json) {
		json_key(r, key);
		sbuf_printf(&r->text, "%llu", (unsigned long long)value);
		return;
	}
	text_key(r, key);
	sbuf_printf(&r->text, "%llu\n", (unsigned long long)value);
}

void ctl_out_bool(struct ctl_reply *r, const char *key, bool value)
{
	if (r->json) {
		json_key(r, key);
		sbuf_puts(&r->text, value ? "true" : "false");
		return;
	}
	text_key(r, key);
	sbuf_puts(&r->text, value ? "yes\n" : "no\n");
}

void ctl_out_section(struct ctl_reply *r, const char *key)
{
	if (r->json) {
		json_open(r, key, "{");
		return;
	}
	text_block(r);
	sbuf_printf(&r->text, "%*s%s:\n", (int)r->indent, "", key);
	r->indent += 2;
}

void ctl_out_section_end(struct ctl_reply *r)
{
	if (r->json) {
		sbuf_puts(&r->text, "}");
		if (r->depth > 0)
			r->depth--;
		return;
	}
	if (r->indent >= 2)
		r->indent -= 2;
}

void ctl_out_table(struct ctl_reply *r, const char *key, const struct ctl_col *cols, unsigned ncols)
{
	r->cols = cols;
	r->ncols = ncols;
	r->header_done = false;
	if (r->json) {
		json_open(r, key, "[");
		return;
	}
	text_block(r);
	for (unsigned i = 0; i < ncols; i++) {
		char h[64];
		snprintf(h, sizeof(h), "%s", cols[i].name);
		for (char *p = h; *p; p++)
			*p = *p == '_' ? ' ' : (char)toupper((unsigned char)*p);
		if (i + 1 < ncols)
			sbuf_printf(&r->text, "%*s%-*s ", i == 0 ? (int)r->indent : 0, "",
				    (int)cols[i].width, h);
		else
			sbuf_printf(&r->text, "%*s%s\n", i == 0 ? (int)r->indent : 0, "", h);
	}
}

void ctl_out_row(struct ctl_reply *r, const char *const *values)
{
	if (r->json) {
		json_key(r, NULL);
		sbuf_puts(&r->text, "{");
		for (unsigned i = 0; i < r->ncols; i++) {
			if (i > 0)
				sbuf_puts(&r->text, ",");
			ctl_json_string(&r->text, r->cols[i].name);
			sbuf_puts(&r->text, ":");
			const char *v = values[i];
			if (v == NULL || (r->cols[i].number && strcmp(v, "-") == 0))
				sbuf_puts(&r->text, "null");
			else if (r->cols[i].number)
				sbuf_puts(&r->text, v);
			else
				ctl_json_string(&r->text, v);
		}
		sbuf_puts(&r->text, "}");
		return;
	}
	for (unsigned i = 0; i < r->ncols; i++) {
		const char *v = values[i] ? values[i] : "-";
		if (i + 1 < r->ncols)
			sbuf_printf(&r->text, "%*s%-*s ", i == 0 ? (int)r->indent : 0, "",
				    (int)r->cols[i].width, v);
		else
			sbuf_printf(&r->text, "%*s%s\n", i == 0 ? (int)r->indent : 0, "", v);
	}
}

void ctl_out_table_end(struct ctl_reply *r)
{
	r->cols = NULL;
	r->ncols = 0;
	if (r->json) {
		sbuf_puts(&r->text, "]");
		if (r->depth > 0)
			r->depth--;
	}
}

void ctl_reply_finish(struct ctl_reply *r)
{
	if (r->finished)
		return;
	r->finished = true;
	if (r->json) {
		json_start(r);
		while (r->depth > 0) {
			sbuf_puts(&r->text, "}");
			r->depth--;
		}
		sbuf_puts(&r->text, "}\n");
	}
}

void ctl_reply_message(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}
