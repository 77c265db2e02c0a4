/* SPDX-License-Identifier: MIT */
/*
 * The schema of the registering parties: sites: (with their keys, EID
 * prefixes and defaults inherited from server:) and subscribers: (xTRs
 * allowed to subscribe over UDP, RFC 9437).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lispms/err.h>
#include <lispms/hexdigit.h>

#include "config.h"
#include "schema.h"

static int check_name(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		      void *obj)
{
	const char *name = *(const char **)((char *)obj + it->offset);
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') {
			apply_error(a, node,
				    "a site name cannot hold control characters, '\"' or '\\'");
			return LISPMS_ECONFIG;
		}
	}
	return LISPMS_EOK;
}

static int check_key(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj)
{
	(void)a, (void)it, (void)node;
	struct conf_key *k = obj;
	k->secret_len = (uint16_t)strlen((const char *)k->secret);
	return LISPMS_EOK;
}

static int check_site(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		      void *obj)
{
	(void)it;
	struct conf_site *s = obj;
	const struct doc_node *keys = doc_map_get(node, "keys");
	for (size_t i = 0; i < s->nkeys; i++) {
		uint8_t id = s->keys[i].id;
		if (s->key_slot[id] == 0) {
			s->key_slot[id] = (uint8_t)(i + 1);
			continue;
		}
		size_t first = s->key_slot[id] - 1u;
		const struct doc_node *at = keys && keys->kind == DOC_SEQ ? keys->items[i] : node;
		const struct doc_node *first_at =
		    keys && keys->kind == DOC_SEQ ? keys->items[first] : node;
		size_t mark = apply_push_key(a, "keys");
		apply_push_index(a, i);
		apply_push_key(a, "id");
		apply_error(a, doc_map_get(at, "id") ? doc_map_get(at, "id") : at,
			    "duplicate key id %u (also keys[%zu], line %u)", id, first,
			    first_at->line);
		apply_pop(a, mark);
	}
	return LISPMS_EOK;
}

static void default_site_transport(struct apply *a, void *field)
{
	*(bool *)field = a->conf->server.reliable_transport;
}

static void default_site_timeout(struct apply *a, void *field)
{
	*(uint32_t *)field = a->conf->server.registration_timeout;
}

static const struct schema_enum algorithms[] = {
	{ "hmac-sha-1-96", LISPMS_CONF_ALG_HMAC_SHA_1_96 },
	{ "hmac-sha-256-128", LISPMS_CONF_ALG_HMAC_SHA_256_128 },
	{ NULL, 0 },
};

static const struct schema_item key_items[] = {
	{ .key = "id",
	  UINT(struct conf_key, id),
	  .flags = SCHEMA_REQUIRED,
	  .min = 0,
	  .max = 255,
	  .help = "Key ID of Map-Registers signed with this key, unique in the site." },
	{ .key = "algorithm",
	  .type = SCHEMA_ENUM,
	  .flags = SCHEMA_REQUIRED,
	  FIELD(struct conf_key, alg),
	  .width = 1,
	  .names = algorithms,
	  .help = "HMAC algorithm (RFC 9301 Algorithm ID 1 or 2)." },
	{ .key = "secret",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_key, secret),
	  .max = 65535,
	  .help = "Shared secret." },
	{ 0 },
};

static const struct schema_section key_section = {
	.name = "sites[].keys[]",
	.size = sizeof(struct conf_key),
	.items = key_items,
	.check = check_key,
	.help = "One authentication key of a site.",
};

static const struct schema_item site_items[] = {
	{ .key = "name",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_site, name),
	  .max = 128,
	  .check = check_name,
	  .help = "Unique name (used in logs, metrics and `lispmsctl`)." },
	{ .key = "keys",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_site, keys),
	  COUNT(struct conf_site, nkeys),
	  .section = &key_section,
	  .diff_bit = LISPMS_CONF_SITE_KEYS,
	  .help = "Keys the site's ETRs sign Map-Registers with." },
	{ .key = "eid-prefixes",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_site, prefixes),
	  COUNT(struct conf_site, nprefixes),
	  .diff_bit = LISPMS_CONF_SITE_PREFIXES,
	  .help = "EID prefixes the site may register, `[IID] prefix`." },
	{ .key = "accept-more-specifics",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, accept_more_specifics),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_MORE_SPECIFICS,
	  .help = "Also accept registrations of prefixes inside the configured ones." },
	{ .key = "proxy-reply",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, proxy_reply),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_PROXY_REPLY,
	  .help = "Always answer Map-Requests for this site's EIDs (as if P were set)." },
	{ .key = "allowed-rlocs",
	  .type = SCHEMA_IP_PREFIX,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_site, allowed_rlocs),
	  COUNT(struct conf_site, nallowed_rlocs),
	  .def = "[]",
	  .diff_bit = LISPMS_CONF_SITE_ALLOWED_RLOCS,
	  .help = "IPv4/IPv6 prefixes every locator must fall in; empty: any locator." },
	{ .key = "merge",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, merge),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_MERGE,
	  .help = "Merge registrations of several ETRs that set the a bit." },
	{ .key = "allow-subscribe",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, allow_subscribe),
	  .def = "false",
	  .diff_bit = LISPMS_CONF_SITE_SUBSCRIBE,
	  .help = "xTRs registered in this site may subscribe (RFC 9437): to any EID prefix, "
		  "their publications signed with the key of their registration." },
	{ .key = "reliable-transport",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_site, reliable_transport),
	  .def = "server.reliable-transport",
	  .def_fn = default_site_transport,
	  .diff_bit = LISPMS_CONF_SITE_TRANSPORT,
	  .help = "false: no sessions for this site (its Map-Notifies do not set r)." },
	{ .key = "registration-timeout",
	  UINT(struct conf_site, registration_timeout),
	  .min = 10,
	  .max = 86400,
	  .def = "server.registration-timeout",
	  .def_fn = default_site_timeout,
	  .diff_bit = LISPMS_CONF_SITE_TIMEOUT,
	  .help = "Seconds of UDP soft state for this site." },
	{ 0 },
};

const struct schema_section schema_site_section = {
	.name = "sites[]",
	.size = sizeof(struct conf_site),
	.items = site_items,
	.check = check_site,
	.help = "One site: the keys its ETRs use and the EID prefixes they may register.",
};

static int check_subscriber(struct apply *a, const struct schema_item *it,
			    const struct doc_node *node, void *obj)
{
	(void)it;
	struct conf_subscriber *s = obj;
	const char *t = s->xtr_id_text;
	size_t n = strlen(t);
	if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		t += 2;
		n -= 2;
	}
	bool ok = n == 32;
	for (size_t i = 0; ok && i < 16; i++) {
		int hi = hexdigit_value(t[2 * i]), lo = hexdigit_value(t[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		if (ok)
			s->xtr_id[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!ok) {
		const struct doc_node *at = doc_map_get(node, "xtr-id");
		size_t mark = apply_push_key(a, "xtr-id");
		apply_error(a, at ? at : node, "an xTR-ID is 32 hexadecimal digits (128 bits)");
		apply_pop(a, mark);
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static const struct schema_section subscriber_key_section = {
	.name = "subscribers[].keys[]",
	.size = sizeof(struct conf_key),
	.items = key_items,
	.check = check_key,
	.help = "One key of a subscriber (the same fields as a site's keys).",
};

static const struct schema_item subscriber_items[] = {
	{ .key = "name",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_subscriber, name),
	  .max = 128,
	  .check = check_name,
	  .help = "Name shown by `lispmsctl subscriptions` and in logs." },
	{ .key = "xtr-id",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_subscriber, xtr_id_text),
	  .max = 34,
	  .help = "Its 128-bit xTR-ID, 32 hexadecimal digits (optionally after `0x`)." },
	{ .key = "keys",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_subscriber, keys),
	  COUNT(struct conf_subscriber, nkeys),
	  .section = &subscriber_key_section,
	  .help = "Its keys; the first signs its publications and verifies its "
		  "Map-Notify-Acks." },
	{ .key = "eid-prefixes",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_subscriber, prefixes),
	  COUNT(struct conf_subscriber, nprefixes),
	  .def = "[]",
	  .help = "What it may subscribe to, `[IID] prefix` (a subscription must lie inside "
		  "one); empty: anything." },
	{ 0 },
};

const struct schema_section schema_subscriber_section = {
	.name = "subscribers[]",
	.size = sizeof(struct conf_subscriber),
	.items = subscriber_items,
	.check = check_subscriber,
	.help = "One router allowed to subscribe (RFC 9437) that registers no EID here.",
};

/*
 * The cross-site checks on the root (the schema's root check): unique
 * names, each prefix in one place.
 */
int conf_prefix_cmp(const struct eid_prefix *a, const struct eid_prefix *b)
{
	if (a->iid != b->iid)
		return a->iid < b->iid ? -1 : 1;
	if (a->afi != b->afi)
		return a->afi < b->afi ? -1 : 1;
	int c = memcmp(a->bytes, b->bytes, sizeof(a->bytes));
	if (c != 0)
		return c;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return 0;
}

struct placed_prefix {
	const struct eid_prefix *p;
	uint32_t site, index;
};

static int placed_cmp(const void *x, const void *y)
{
	const struct placed_prefix *a = x, *b = y;
	int c = conf_prefix_cmp(a->p, b->p);
	if (c != 0)
		return c;
	if (a->site != b->site)
		return a->site < b->site ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int site_name_cmp(const void *x, const void *y)
{
	const struct conf_site *const *a = x, *const *b = y;
	int c = strcmp((*a)->name, (*b)->name);
	if (c != 0)
		return c;
	return (*a)->index < (*b)->index ? -1 : (*a)->index > (*b)->index;
}

/* The doc node of sites[site].<key>[index] (or the key's node when not a list). */
static const struct doc_node *site_node(const struct doc_node *root, size_t site, const char *key,
					size_t index)
{
	const struct doc_node *sites = doc_map_get(root, "sites");
	if (sites == NULL || sites->kind != DOC_SEQ || site >= sites->n)
		return NULL;
	const struct doc_node *v = doc_map_get(sites->items[site], key);
	if (v != NULL && v->kind == DOC_SEQ && index < v->n)
		return v->items[index];
	return v;
}

static void prefix_text(const struct eid_prefix *p, char *buf, size_t len)
{
	if (eid_prefix_format(p, buf, len) != LISPMS_EOK)
		snprintf(buf, len, "?");
}

static int check_names(struct apply *a, const struct doc_node *root)
{
	struct conf *c = a->conf;
	c->by_name = pool_calloc(&c->pool, c->nsites ? c->nsites : 1, sizeof(*c->by_name));
	if (c->by_name == NULL) {
		a->oom = true;
		return LISPMS_ENOMEM;
	}
	for (size_t i = 0; i < c->nsites; i++) {
		c->sites[i].index = (uint32_t)i;
		c->by_name[i] = &c->sites[i];
	}
	qsort(c->by_name, c->nsites, sizeof(*c->by_name), site_name_cmp);
	int ret = LISPMS_EOK;
	for (size_t i = 1; i < c->nsites; i++) {
		const struct conf_site *prev = c->by_name[i - 1], *s = c->by_name[i];
		if (strcmp(prev->name, s->name) != 0)
			continue;
		const struct doc_node *first = site_node(root, prev->index, "name", 0);
		size_t mark = apply_push_key(a, "sites");
		apply_push_index(a, s->index);
		apply_push_key(a, "name");
		apply_error(a, site_node(root, s->index, "name", 0),
			    "duplicate site name \"%s\" (also sites[%u], line %u)", s->name,
			    prev->index, first ? first->line : 0);
		apply_pop(a, mark);
		ret = LISPMS_ECONFIG;
	}
	return ret;
}

/*
 * The same prefix twice is an error (in one site or two). A prefix inside
 * another site's prefix is allowed, the most specific one wins a lookup, and
 * is reported as a warning, since it is often a mistake.
 */
static int check_prefixes(struct apply *a, const struct doc_node *root)
{
	struct conf *c = a->conf;
	size_t total = 0;
	for (size_t i = 0; i < c->nsites; i++)
		total += c->sites[i].nprefixes;
	if (total == 0)
		return LISPMS_EOK;
	struct placed_prefix *all = calloc(total, sizeof(*all));
	size_t *stack = calloc(total, sizeof(*stack));
	int ret = LISPMS_EOK;
	if (all == NULL || stack == NULL) {
		a->oom = true;
		ret = LISPMS_ENOMEM;
		goto out_free;
	}
	size_t n = 0;
	for (size_t i = 0; i < c->nsites; i++)
		for (size_t j = 0; j < c->sites[i].nprefixes; j++)
			all[n++] = (struct placed_prefix){ &c->sites[i].prefixes[j], (uint32_t)i,
							   (uint32_t)j };
	qsort(all, n, sizeof(*all), placed_cmp);

	size_t depth = 0;
	for (size_t i = 0; i < n; i++) {
		const struct placed_prefix *e = &all[i];
		while (depth > 0 && !eid_prefix_covers(all[stack[depth - 1]].p, e->p))
			depth--;
		const struct placed_prefix *top = depth > 0 ? &all[stack[depth - 1]] : NULL;
		char text[LISPMS_EID_STRLEN];
		size_t mark = apply_push_key(a, "sites");
		apply_push_index(a, e->site);
		apply_push_key(a, "eid-prefixes");
		apply_push_index(a, e->index);
		const struct doc_node *at = site_node(root, e->site, "eid-prefixes", e->index);
		if (top != NULL && eid_prefix_equal(top->p, e->p)) {
			const struct doc_node *first =
			    site_node(root, top->site, "eid-prefixes", top->index);
			prefix_text(e->p, text, sizeof(text));
			if (top->site == e->site)
				apply_error(a, at, "prefix %s listed twice (also eid-prefixes[%u])",
					    text, top->index);
			else
				apply_error(a, at,
					    "prefix %s is in site \"%s\" and in site \"%s\" "
					    "(sites[%u], line %u)",
					    text, c->sites[e->site].name, c->sites[top->site].name,
					    top->site, first ? first->line : 0);
			ret = LISPMS_ECONFIG;
		} else {
			if (top != NULL && top->site != e->site) {
				char outer[LISPMS_EID_STRLEN];
				prefix_text(e->p, text, sizeof(text));
				prefix_text(top->p, outer, sizeof(outer));
				apply_warning(
				    a, at,
				    "prefix %s of site \"%s\" is inside %s of site \"%s\"; "
				    "the most specific prefix wins",
				    text, c->sites[e->site].name, outer, c->sites[top->site].name);
			}
			stack[depth++] = i;
		}
		apply_pop(a, mark);
	}
out_free:
	free(stack);
	free(all);
	return ret;
}

int conf_check_sites(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj)
{
	(void)it, (void)obj;
	int ret = check_names(a, node);
	int ret2 = a->oom ? LISPMS_ENOMEM : check_prefixes(a, node);
	return ret != LISPMS_EOK ? ret : ret2;
}
