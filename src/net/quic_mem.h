/* SPDX-License-Identifier: MIT */
/*
 * A worker's cache of the large blocks libngtcp2 allocates per connection
 * (its ngtcp2_conn and the 8 KiB blocks behind its object pools and skip
 * lists: some 95 KB a connection in 0.12.1). A connection that ends gives
 * them back here and the next connection takes them, already mapped and
 * warm, instead of faulting in and zeroing fresh pages. Bounded (cap bytes
 * cached per worker, gauge lispms_net_quic_pool_bytes) and emptied when no
 * block was taken for QUIC_MEM_IDLE_NS. One thread: no locking.
 *
 * Blocks are plain malloc() blocks: free() is always a correct way out,
 * and malloc_usable_size() says which requests a cached block can serve.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_MEM_MIN	 4096		       /* smaller requests go to malloc() as they are */
#define QUIC_MEM_BINS	 4		       /* request sizes learned (0.12.1 has 2 large ones) */
#define QUIC_MEM_CAP	 (16u << 20)	       /* bytes cached per worker: ~170 connections */
#define QUIC_MEM_IDLE_NS (2000000000ull)       /* nothing taken this long: give it all back */

struct quic_mem_bin {
	size_t req;	 /* the request size this bin serves (0: unused) */
	void *head;	 /* cached blocks, linked through their first bytes */
	size_t n;	 /* blocks cached */
};

struct quic_mem_pool {
	struct quic_mem_bin bins[QUIC_MEM_BINS];
	size_t cap;	    /* bytes (0: cache nothing) */
	size_t cached;	    /* bytes cached (usable sizes) */
	uint64_t takes;	    /* blocks taken from the cache, ever */
	uint64_t seen;	    /* takes at the last quic_mem_idle() */
	uint64_t active_at; /* when quic_mem_idle() last saw takes move, ns */
};

/* A block of at least `size` bytes (zeroed when `zero`), from the cache
 * when one fits; NULL when out of memory. */
void *quic_mem_get(struct quic_mem_pool *p, size_t size, bool zero);

/* Take back `ptr` (`usable`: malloc_usable_size(ptr)): cached when a bin
 * can use it and the cap allows, else freed. */
void quic_mem_put(struct quic_mem_pool *p, void *ptr, size_t usable);

/* Called at every flush: empties the cache once nothing was taken for
 * QUIC_MEM_IDLE_NS. Returns when to call it again (ns; UINT64_MAX: the
 * cache is empty). */
uint64_t quic_mem_idle(struct quic_mem_pool *p, uint64_t now);

/* Free every cached block. */
void quic_mem_trim(struct quic_mem_pool *p);
