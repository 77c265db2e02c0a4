/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked wire cursor with a sticky error, for parsing and building
 * packets. Every read or write checks the remaining space; the first failure
 * sets `error` (LISPMS_ETRUNC when reading, LISPMS_ENOSPC when writing) and
 * every later operation is a no-op that reads zeros. Callers check `error`
 * once, at the end.
 *
 * Threads: a cursor belongs to the thread using it; no shared state.
 * Ownership: the cursor borrows the buffer; it never allocates.
 * Errors: LISPMS_ETRUNC, LISPMS_ENOSPC, LISPMS_EINVAL (bad seek).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lispms/err.h>

struct wire {
	uint8_t *start; /* first byte of the buffer */
	uint8_t *pos;	/* next byte to read or write */
	uint8_t *end;	/* one past the last byte */
	int error;	/* sticky: LISPMS_EOK until something fails */
};

/* Cursor over a writable buffer. */
static inline struct wire wire_init(uint8_t *buf, size_t len)
{
	struct wire w = { buf, buf, buf + len, LISPMS_EOK };
	return w;
}

/* Cursor for reading only; never call a wire_write_* on it. */
static inline struct wire wire_init_ro(const uint8_t *buf, size_t len)
{
	return wire_init((uint8_t *)(uintptr_t)buf, len);
}

static inline bool wire_ok(const struct wire *w)
{
	return w->error == LISPMS_EOK;
}

static inline size_t wire_avail(const struct wire *w)
{
	return w->error ? 0 : (size_t)(w->end - w->pos);
}

static inline size_t wire_offset(const struct wire *w)
{
	return (size_t)(w->pos - w->start);
}

static inline void wire_fail(struct wire *w, int error)
{
	if (w->error == LISPMS_EOK)
		w->error = error;
}

/* True when n more bytes can be read; otherwise sets error. */
static inline bool wire_need(struct wire *w, size_t n, int error)
{
	if (w->error)
		return false;
	if ((size_t)(w->end - w->pos) < n) {
		w->error = error;
		return false;
	}
	return true;
}

/* Pointer to the next n bytes and advance past them, or NULL. */
static inline const uint8_t *wire_take(struct wire *w, size_t n)
{
	if (!wire_need(w, n, LISPMS_ETRUNC))
		return NULL;
	const uint8_t *p = w->pos;
	w->pos += n;
	return p;
}

static inline void wire_skip(struct wire *w, size_t n)
{
	(void)wire_take(w, n);
}

/* Move to an absolute offset from start (within the buffer). */
static inline void wire_seek(struct wire *w, size_t off)
{
	if (w->error)
		return;
	if (off > (size_t)(w->end - w->start)) {
		w->error = LISPMS_EINVAL;
		return;
	}
	w->pos = w->start + off;
}

/* Carve the next n bytes into their own cursor and advance past them. */
static inline struct wire wire_sub(struct wire *w, size_t n)
{
	const uint8_t *p = wire_take(w, n);
	if (p == NULL) {
		struct wire bad = { w->pos, w->pos, w->pos, LISPMS_ETRUNC };
		return bad;
	}
	return wire_init_ro(p, n);
}

static inline uint8_t wire_read_u8(struct wire *w)
{
	const uint8_t *p = wire_take(w, 1);
	return p ? p[0] : 0;
}

static inline uint16_t wire_read_u16(struct wire *w)
{
	const uint8_t *p = wire_take(w, 2);
	return p ? (uint16_t)((uint16_t)p[0] << 8 | p[1]) : 0;
}

static inline uint32_t wire_read_u32(struct wire *w)
{
	const uint8_t *p = wire_take(w, 4);
	if (p == NULL)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t wire_read_u64(struct wire *w)
{
	const uint8_t *p = wire_take(w, 8);
	if (p == NULL)
		return 0;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void wire_read_bytes(struct wire *w, void *dst, size_t n)
{
	const uint8_t *p = wire_take(w, n);
	if (p != NULL)
		memcpy(dst, p, n);
	else if (n > 0)
		memset(dst, 0, n);
}

/* Reserve n writable bytes and advance, or NULL (error LISPMS_ENOSPC). */
static inline uint8_t *wire_reserve(struct wire *w, size_t n)
{
	if (!wire_need(w, n, LISPMS_ENOSPC))
		return NULL;
	uint8_t *p = w->pos;
	w->pos += n;
	return p;
}

static inline void wire_write_u8(struct wire *w, uint8_t v)
{
	uint8_t *p = wire_reserve(w, 1);
	if (p)
		p[0] = v;
}

static inline void wire_write_u16(struct wire *w, uint16_t v)
{
	uint8_t *p = wire_reserve(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void wire_write_u32(struct wire *w, uint32_t v)
{
	uint8_t *p = wire_reserve(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void wire_write_u64(struct wire *w, uint64_t v)
{
	uint8_t *p = wire_reserve(w, 8);
	if (p)
		for (int i = 7; i >= 0; i--, v >>= 8)
			p[i] = (uint8_t)v;
}

static inline void wire_write_bytes(struct wire *w, const void *src, size_t n)
{
	uint8_t *p = wire_reserve(w, n);
	if (p && n)
		memcpy(p, src, n);
}

static inline void wire_write_zero(struct wire *w, size_t n)
{
	uint8_t *p = wire_reserve(w, n);
	if (p && n)
		memset(p, 0, n);
}

/* Big-endian helpers for patching already written fields. */
static inline void wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t wire_get_u16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
