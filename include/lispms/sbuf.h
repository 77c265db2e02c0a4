/* SPDX-License-Identifier: MIT */
/*
 * A growable text buffer with a hard size limit, for output built on the
 * control thread (Prometheus exposition, control-socket replies). Appends
 * past the limit or after an allocation failure are dropped and make the
 * buffer sticky-failed, like the wire cursor: check sbuf_failed() once.
 *
 * Threads: one owner. Ownership: sbuf_free() frees the text unless
 * sbuf_take() took it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *data; /* NUL-terminated when len > 0 */
	size_t len, cap, max;
	bool failed;
};

/* An empty buffer that will not grow past max bytes. */
void sbuf_init(struct sbuf *b, size_t max);
void sbuf_free(struct sbuf *b);

/* Forget the text, keep the memory. */
void sbuf_reset(struct sbuf *b);

/* Drop the first n bytes (what was sent). */
void sbuf_consume(struct sbuf *b, size_t n);

void sbuf_append(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
__attribute__((format(printf, 2, 3))) void sbuf_printf(struct sbuf *b, const char *fmt, ...);

/* The text as a malloc'ed string the caller frees; the buffer is empty after. */
char *sbuf_take(struct sbuf *b, size_t *len);

static inline bool sbuf_failed(const struct sbuf *b)
{
	return b->failed;
}
