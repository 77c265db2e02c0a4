/* SPDX-License-Identifier: MIT */
/*
 * The schema of the registering parties: sites: (with their keys, EID
 * prefixes and defaults inherited from server:) and subscribers: (xTRs
 * allowed to subscribe over UDP, RFC 9437).
 */
#include <ctype.h>
#include <errno.h>
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
