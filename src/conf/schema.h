/* SPDX-License-Identifier: MIT */
/*
 * The declarative schema: one table of items per section (schema*.c), read by
 * the loader (apply.c), the comparison behind conf_equal()/conf_diff() and
 * the Markdown generator. An item says where its value lives in the
 * snapshot (offsets), its type, bounds, default (YAML text, parsed by the
 * same code as the file) and an optional check; a section can add a check
 * over the whole parsed object.
 *
 * Threads: the tables are constant. Ownership: none.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <lispms/conf.h>
#include <lispms/rcu.h>

#include "doc.h"
#include "pool.h"

/*
 * The site's key with this Key ID, NULL when there is none: the index that
 * check_site() builds to refuse duplicate key IDs (the request core verifies
 * with the site's whole key list, auth_verify()).
 */
static inline const struct conf_key *conf_site_key(const struct conf_site *s, uint8_t key_id)
{
	unsigned slot = s->key_slot[key_id];
	return slot ? &s->keys[slot - 1] : NULL;
}

enum schema_type {
	SCHEMA_BOOL,	   /* bool */
	SCHEMA_UINT,	   /* uint8/16/32/64_t by `width`, min..max */
	SCHEMA_SIZE,	   /* uint64_t bytes; "4MiB" style suffixes allowed */
	SCHEMA_STRING,	   /* const char *; max = longest length (0: any) */
	SCHEMA_ENUM,	   /* int (or uint8_t when width is 1) from `names` */
	SCHEMA_IP,	   /* struct lisp_addr, IPv4 or IPv6 */
	SCHEMA_ADDR_PORT,  /* struct lisp_addr at offset, uint16_t port at aux_offset */
	SCHEMA_EID_PREFIX, /* struct eid_prefix, "[IID] prefix" */
	SCHEMA_IP_PREFIX,  /* struct eid_prefix, IPv4/IPv6 without IID */
	SCHEMA_SECTION,	   /* a mapping read with `section` */
};

enum schema_flag {
	SCHEMA_REQUIRED = 1u << 0,    /* must be present */
	SCHEMA_LIST = 1u << 1,	      /* a list: T * at offset, size_t count at aux_offset */
	SCHEMA_NONEMPTY = 1u << 2,    /* string or list must not be empty */
	SCHEMA_RESTART = 1u << 3,     /* a change needs a restart (not applied by reload) */
	SCHEMA_NO_DIFF = 1u << 4,     /* conf_diff() reports it elsewhere (sites) */
	SCHEMA_ABSENT_ZERO = 1u << 5, /* section: absent leaves it zeroed, no defaults */
};

struct schema_enum {
	const char *name;
	int value;
};

struct apply;
struct schema_item;

/* Extra check on an item or section once parsed; reports with apply_error(). */
typedef int schema_check_fn(struct apply *a, const struct schema_item *item,
			    const struct doc_node *node, void *obj);

/* Default computed from what was parsed before (sections are read in table order). */
typedef void schema_default_fn(struct apply *a, void *field);

struct schema_section {
	const char *name;		 /* for docs */
	size_t size;			 /* of the struct one mapping fills */
	const struct schema_item *items; /* ends with a zeroed item */
	schema_check_fn *check;		 /* on the whole object, may be NULL */
	bool has_present;		 /* set a bool at present_offset when given */
	size_t present_offset;
	bool present_reloads; /* adding or removing the section needs no restart */
	const char *help;
};

struct schema_item {
	const char *key;
	enum schema_type type;
	unsigned flags;
	size_t offset;
	size_t aux_offset;
	unsigned width; /* bytes of an integer field */
	uint64_t min, max;
	const char *def;		 /* default as YAML text (NULL: none / zero) */
	schema_default_fn *def_fn;	 /* or computed; `def` then documents it */
	const struct schema_enum *names; /* SCHEMA_ENUM, ends with a NULL name */
	const struct schema_section *section;
	schema_check_fn *gate;	/* before reading a present key (gets the key node); error: skip */
	schema_check_fn *check; /* after reading it without error (gets the value node) */
	unsigned diff_bit;	/* enum conf_site_part bit for site items */
	const char *help;
};

/* The root: server, metrics, control, log, fastpath, sites. */
extern const struct schema_section schema_root;

/* The sections the root and server: refer to, each in its own file. */
extern const struct schema_section schema_quic_section, schema_sctp_section,
    schema_tls_section; /* schema_transport.c */
extern const struct schema_section schema_site_section,
    schema_subscriber_section; /* schema_sites.c */
extern const struct schema_section schema_ddt_section,
    schema_map_resolver_section; /* schema_ddt.c */

/* How the tables name a field of their object T (schema*.c). */
#define FIELD(T, member) .offset = offsetof(T, member)
#define COUNT(T, member) .aux_offset = offsetof(T, member)
#define UINT(T, member)	 .type = SCHEMA_UINT, FIELD(T, member), .width = sizeof(((T *)0)->member)

/* An item's type for the reference, Markdown style (`names` in backquotes). */
void schema_type_text(FILE *f, const struct schema_item *item);

/* Size of one value of an item (a list element for lists). */
size_t schema_value_size(const struct schema_item *item);

/* Do two objects of a section hold the same values? Per item too. */
bool schema_section_equal(const struct schema_section *s, const void *a, const void *b);
bool schema_item_equal(const struct schema_item *item, const void *a, const void *b);

/* The snapshot. */
struct conf_log {
	int level; /* enum log_level */
};

struct conf {
	struct pool pool;
	struct rcu_head rcu;
	const char *source;
	struct conf_server server;
	struct conf_metrics metrics;
	struct conf_control control;
	struct conf_log log;
	struct conf_fastpath fastpath;
	struct conf_site *sites;
	size_t nsites;
	struct conf_subscriber *subscribers;
	size_t nsubscribers;
	struct conf_ddt ddt;
	struct conf_map_resolver map_resolver;
	const struct conf_site **by_name;
	const char **warnings;
	size_t nwarnings;
};

/* One error found, kept until the load ends and they are sorted by position. */
struct apply_msg {
	unsigned line, column;
	char path[LISPMS_CONF_ERR_PATH];
	char text[LISPMS_CONF_ERR_MSG];
};

/* State of one load, shared by apply.c and the checks in schema*.c. */
struct apply {
	struct conf *conf;
	const struct conf_options *opts;
	const char *name;	/* file name for messages */
	unsigned nerr;		/* errors found */
	struct apply_msg *msgs; /* the first APPLY_MAX_ERRORS of them */
	char path[LISPMS_CONF_ERR_PATH];
	size_t pathlen;
	bool oom;
	size_t warn_cap;
};

#define APPLY_MAX_ERRORS   20
#define APPLY_MAX_WARNINGS 100

/* Read `map` (NULL: absent, defaults only) into obj with the section's table. */
int apply_section(struct apply *a, const struct schema_section *s, const struct doc_node *map,
		  void *obj);

/* Write the errors, in file order, into `err`; frees them. */
void apply_finish(struct apply *a, struct conf_error *err);

/* Report an error at a node (NULL: no position) under the current path. */
__attribute__((format(printf, 3, 4))) void apply_error(struct apply *a, const struct doc_node *node,
						       const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void
apply_warning(struct apply *a, const struct doc_node *node, const char *fmt, ...);

/* Cross-site checks on the root (schema_sites.c): unique names, each prefix in one place. */
int conf_check_sites(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj);

/* Total order of prefixes: instance, family, bits, shorter first (a cover precedes what it covers).
 */
int conf_prefix_cmp(const struct eid_prefix *a, const struct eid_prefix *b);

/* Push ".key" or "[i]" on the path; returns the length to restore with apply_pop(). */
size_t apply_push_key(struct apply *a, const char *key);
size_t apply_push_index(struct apply *a, size_t i);
void apply_pop(struct apply *a, size_t len);
