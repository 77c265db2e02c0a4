/* SPDX-License-Identifier: MIT */
/*
 * The schema of LISP-DDT (RFC 8111): ddt: (the node's authoritative
 * prefixes and delegations) and map-resolver: (the resolver walking the
 * delegation tree).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <lispms/err.h>
#include <lispms/proto.h>

#include "config.h"
#include "pool.h"
#include "schema.h"

#define CONF_KEY_FILE_MAX 65536

/*
 * A key file (docs/protocol.md D24): read into the configuration's pool and
 * parsed once here, so a bad file is a configuration error at its key's
 * line, and the daemon later parses the text it was shown, not the file
 * again. The item's field is the path member of a struct conf_key_file.
 */
static int read_key_file(struct apply *a, const struct schema_item *it, const struct doc_node *node,
			 void *obj, bool want_private)
{
	struct conf_key_file *kf = (struct conf_key_file *)((char *)obj + it->offset);
	/* non-blocking open, then a regular file only: a FIFO or a device named here
	 * (/dev/stdin, by mistake or in the configuration fuzzer) must not hang the load */
	int fd = open(kf->path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		apply_error(a, node, "cannot read %s (%s)", kf->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return LISPMS_ECONFIG;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		apply_error(a, node, "%s: not a regular file", kf->path);
		return LISPMS_ECONFIG;
	}
	FILE *f = fdopen(fd, "rb");
	if (f == NULL) {
		close(fd);
		apply_error(a, node, "cannot read %s (%s)", kf->path, strerror(errno));
		return LISPMS_ECONFIG;
	}
	/* the pool's copy is the buffer: its tail is wasted only on a bad file */
	char *buf = pool_alloc(&a->conf->pool, CONF_KEY_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		a->oom = true;
		return LISPMS_ENOMEM;
	}
	size_t n = fread(buf, 1, CONF_KEY_FILE_MAX + 1, f);
	bool err = ferror(f) != 0;
	fclose(f);
	if (err || n > CONF_KEY_FILE_MAX) {
		apply_error(a, node, "%s: %s", kf->path,
			    err ? "read error" : "larger than a key file can be (64 KiB)");
		return LISPMS_ECONFIG;
	}
	struct referral_key *keys[LISP_REF_MAX_KEYS];
	size_t nkeys;
	const char *why;
	int ret = referral_key_parse(buf, n, want_private, keys, LISP_REF_MAX_KEYS, &nkeys, &why);
	if (ret == LISPMS_ENOMEM) {
		a->oom = true;
		return ret;
	}
	if (ret != LISPMS_EOK) {
		apply_error(a, node, "%s: %s", kf->path, why);
		return LISPMS_ECONFIG;
	}
	for (size_t i = 0; i < nkeys; i++)
		referral_key_free(keys[i]);
	buf[n] = '\0';
	kf->pem = buf;
	kf->pem_len = n;
	return LISPMS_EOK;
}

static int check_private_key(struct apply *a, const struct schema_item *it,
			     const struct doc_node *node, void *obj)
{
	return read_key_file(a, it, node, obj, true);
}

static int check_public_keys(struct apply *a, const struct schema_item *it,
			     const struct doc_node *node, void *obj)
{
	return read_key_file(a, it, node, obj, false);
}

static const struct schema_item ddt_delegation_items[] = {
	{ .key = "prefix",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_REQUIRED,
	  FIELD(struct conf_ddt_delegation, prefix),
	  .help = "The delegated EID prefix, `[IID] prefix`." },
	{ .key = "map-servers",
	  .type = SCHEMA_BOOL,
	  FIELD(struct conf_ddt_delegation, map_servers),
	  .def = "false",
	  .help = "true: the referrals are the prefix's Map-Servers (answered with MS-REFERRAL); "
		  "false: child DDT nodes (NODE-REFERRAL)." },
	{ .key = "referrals",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY,
	  FIELD(struct conf_ddt_delegation, referrals),
	  COUNT(struct conf_ddt_delegation, nreferrals),
	  .help = "Addresses of the child DDT nodes or Map-Servers (the referral set)." },
	{ 0 },
};

static const struct schema_section ddt_delegation_section = {
	.name = "ddt.delegations[]",
	.size = sizeof(struct conf_ddt_delegation),
	.items = ddt_delegation_items,
	.help = "One delegation: a prefix and where a DDT client goes next for it.",
};

static int check_ddt(struct apply *a, const struct schema_item *it, const struct doc_node *node,
		     void *obj)
{
	(void)it;
	const struct conf_ddt *d = obj;
	for (size_t i = 0; i < d->ndelegations; i++) {
		if (d->delegations[i].nreferrals > LISPMS_MAX_REFERRALS) {
			size_t mark = apply_push_key(a, "delegations");
			apply_error(a, node, "delegations[%zu]: more than %d referrals", i,
				    LISPMS_MAX_REFERRALS);
			apply_pop(a, mark);
			return LISPMS_ECONFIG;
		}
		for (size_t j = 0; j < i; j++)
			if (eid_prefix_equal(&d->delegations[i].prefix,
					     &d->delegations[j].prefix)) {
				size_t mark = apply_push_key(a, "delegations");
				apply_error(a, node,
					    "prefix delegated twice (delegations[%zu] and [%zu])",
					    j, i);
				apply_pop(a, mark);
				return LISPMS_ECONFIG;
			}
	}
	return LISPMS_EOK;
}

static const struct schema_item ddt_items[] = {
	{ .key = "authoritative-prefixes",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_ddt, authoritative),
	  COUNT(struct conf_ddt, nauthoritative),
	  .def = "[]",
	  .help = "Prefixes this DDT node is authoritative for, `[IID] prefix`: a request inside "
		  "one that no delegation covers gets DELEGATION-HOLE, one outside all of them "
		  "NOT-AUTHORITATIVE." },
	{ .key = "delegations",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST,
	  FIELD(struct conf_ddt, delegations),
	  COUNT(struct conf_ddt, ndelegations),
	  .section = &ddt_delegation_section,
	  .def = "[]",
	  .help = "The delegation table; the most specific delegation covering a requested EID "
		  "answers." },
	{ .key = "referral-ttl",
	  UINT(struct conf_ddt, referral_ttl),
	  .min = 1,
	  .max = 525600,
	  .def = "1440",
	  .help = "Minutes a NODE-REFERRAL or MS-REFERRAL may be cached." },
	{ .key = "hole-ttl",
	  UINT(struct conf_ddt, hole_ttl),
	  .min = 1,
	  .max = 525600,
	  .def = "15",
	  .help = "Minutes a DELEGATION-HOLE may be cached." },
	{ .key = "signing-key",
	  .type = SCHEMA_STRING,
	  FIELD(struct conf_ddt, signing_key.path),
	  .check = check_private_key,
	  .help = "PEM file with this node's RSA private key (2048 to 4096 bits, unencrypted): "
		  "every Map-Referral it sends, as a DDT node or as a DDT Map-Server, is then "
		  "signed, Sig-Algorithm RSA-SHA256 (RFC 8111 section 6.4.1, docs/protocol.md "
		  "D24). Without it referrals go unsigned." },
	{ .key = "signature-validity",
	  UINT(struct conf_ddt, signature_validity),
	  .min = 10,
	  .max = 10080,
	  .def = "60",
	  .help = "Minutes a signature stays valid after it is made (its Signature "
		  "Expiration); its Inception is set 5 minutes back for clock skew (D24)." },
	{ 0 },
};

const struct schema_section schema_ddt_section = {
	.name = "ddt",
	.size = sizeof(struct conf_ddt),
	.items = ddt_items,
	.check = check_ddt,
	.has_present = true,
	.present_offset = offsetof(struct conf_ddt, enabled),
	.present_reloads = true,
	.help = "lispms as a LISP-DDT node (RFC 8111): DDT Map-Requests (ECM with the D bit) "
		"for EIDs outside every site are answered from this delegation table. Without "
		"this section they get NOT-AUTHORITATIVE. Reloadable.",
};

/* The resolver keeps at most this many root addresses (MR_MAX_ROOTS in mr.h). */
#define CONF_MR_MAX_ROOTS  8
/* ... and this many sockets of its own (RESOLVER_MAX_LISTEN in the daemon). */
#define CONF_MR_MAX_LISTEN 4

static int check_map_resolver(struct apply *a, const struct schema_item *it,
			      const struct doc_node *node, void *obj)
{
	(void)it;
	const struct conf_map_resolver *r = obj;
	if (r->nlisten > CONF_MR_MAX_LISTEN) {
		size_t mark = apply_push_key(a, "listen");
		apply_error(a, node, "more than %d listen addresses", CONF_MR_MAX_LISTEN);
		apply_pop(a, mark);
		return LISPMS_ECONFIG;
	}
	if (r->nroots > CONF_MR_MAX_ROOTS) {
		size_t mark = apply_push_key(a, "roots");
		apply_error(a, node, "more than %d root addresses", CONF_MR_MAX_ROOTS);
		apply_pop(a, mark);
		return LISPMS_ECONFIG;
	}
	return LISPMS_EOK;
}

static const struct schema_item mr_key_items[] = {
	{ .key = "prefix",
	  .type = SCHEMA_EID_PREFIX,
	  .flags = SCHEMA_REQUIRED,
	  FIELD(struct conf_mr_key, prefix),
	  .help = "The delegated EID prefix, `[IID] prefix`, as the parent's referral names it." },
	{ .key = "key",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_REQUIRED,
	  FIELD(struct conf_mr_key, key.path),
	  .check = check_public_keys,
	  .help = "PEM file with the public key(s) of the DDT nodes or Map-Servers the prefix is "
		  "delegated to (several: a key rollover)." },
	{ 0 },
};

static const struct schema_section mr_key_section = {
	.name = "map-resolver.delegation-keys[]",
	.size = sizeof(struct conf_mr_key),
	.items = mr_key_items,
	.help = "Who may answer for a delegated prefix: their public keys.",
};

static const struct schema_item map_resolver_items[] = {
	{ .key = "roots",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_map_resolver, roots),
	  COUNT(struct conf_map_resolver, nroots),
	  .help = "Addresses of the DDT root (up to 8): where resolution starts when the referral "
		  "cache has nothing for the EID." },
	{ .key = "listen",
	  .type = SCHEMA_IP,
	  .flags = SCHEMA_LIST | SCHEMA_REQUIRED | SCHEMA_NONEMPTY | SCHEMA_RESTART,
	  FIELD(struct conf_map_resolver, listen),
	  COUNT(struct conf_map_resolver, nlisten),
	  .help = "Addresses (up to 4) of the resolver's own UDP sockets, where ITRs send their "
		  "ECM Map-Requests and DDT nodes their Map-Referrals. They must not overlap "
		  "the Map-Server's sockets (server.listen on server.port): an ECM Map-Request "
		  "from an ITR and one a Map-Resolver forwards look the same, so the address "
		  "it arrives on chooses the role (docs/protocol.md D23)." },
	{ .key = "port",
	  UINT(struct conf_map_resolver, port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "4342",
	  .help = "UDP port of the resolver's sockets (RFC 9301: Map-Resolvers listen on 4342)." },
	{ .key = "ddt-port",
	  UINT(struct conf_map_resolver, ddt_port),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65535,
	  .def = "4342",
	  .help = "UDP port DDT Map-Requests are sent to (DDT nodes and Map-Servers)." },
	{ .key = "cache-max",
	  UINT(struct conf_map_resolver, cache_max),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 10000000,
	  .def = "100000",
	  .help = "Referral-cache entries; the least recently used one is evicted for a new one." },
	{ .key = "pending-max",
	  UINT(struct conf_map_resolver, pending_max),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 65536,
	  .def = "1024",
	  .help = "Requests in resolution at once; a request beyond that is dropped and counted." },
	{ .key = "timeout-ms",
	  UINT(struct conf_map_resolver, timeout_ms),
	  .flags = SCHEMA_RESTART,
	  .min = 10,
	  .max = 60000,
	  .def = "1000",
	  .help = "Milliseconds to wait for a Map-Referral before asking the next RLOC of the "
		  "referral set." },
	{ .key = "retries",
	  UINT(struct conf_map_resolver, retries),
	  .flags = SCHEMA_RESTART,
	  .min = 0,
	  .max = 10,
	  .def = "1",
	  .help = "Extra rounds over a referral set before the ITR gets a negative Map-Reply." },
	{ .key = "max-depth",
	  UINT(struct conf_map_resolver, max_depth),
	  .flags = SCHEMA_RESTART,
	  .min = 1,
	  .max = 64,
	  .def = "16",
	  .help = "Referrals followed per resolution (each must be more specific than the one "
		  "before; a referral that is not is a loop)." },
	{ .key = "reply-rate-limit",
	  UINT(struct conf_map_resolver, reply_rate_limit),
	  .flags = SCHEMA_RESTART,
	  .min = 0,
	  .max = 10000000,
	  .def = "1000",
	  .help = "Negative Map-Replies per second the resolver sends to one ITR address, a "
		  "token bucket per address with a burst of one second (docs/protocol.md D22, as "
		  "server.reply-rate-limit); what is over it is counted, not sent. 0: no limit." },
	{ .key = "trust-anchors",
	  .type = SCHEMA_STRING,
	  .flags = SCHEMA_RESTART,
	  FIELD(struct conf_map_resolver, trust_anchors.path),
	  .check = check_public_keys,
	  .help = "PEM file with the DDT root's public key(s). With it every Map-Referral must "
		  "be signed (RFC 8111 section 7, docs/protocol.md D24): the root's with these "
		  "keys, those of a node reached through a referral for prefix P with the keys "
		  "`delegation-keys` gives the longest prefix covering P (none: refused). A "
		  "referral that is unsigned or does not verify is dropped and counted. "
		  "Without it referrals are not checked." },
	{ .key = "delegation-keys",
	  .type = SCHEMA_SECTION,
	  .flags = SCHEMA_LIST | SCHEMA_RESTART,
	  FIELD(struct conf_map_resolver, delegation_keys),
	  COUNT(struct conf_map_resolver, ndelegation_keys),
	  .section = &mr_key_section,
	  .def = "[]",
	  .help = "The public keys of the DDT nodes and Map-Servers below the root, per "
		  "delegated prefix (used only with `trust-anchors`)." },
	{ 0 },
};

const struct schema_section schema_map_resolver_section = {
	.name = "map-resolver",
	.size = sizeof(struct conf_map_resolver),
	.items = map_resolver_items,
	.check = check_map_resolver,
	.has_present = true,
	.present_offset = offsetof(struct conf_map_resolver, enabled),
	.help = "lispms as a LISP-DDT Map-Resolver (RFC 8111 section 7.3): ITRs send ECM "
		"Map-Requests to the resolver's own sockets; it walks the Delegated Database "
		"Tree from the root (DDT Map-Requests, Map-Referrals, a referral cache) to the "
		"authoritative Map-Server, which answers the ITR, or answers the ITR with a "
		"negative Map-Reply. Changing it needs a restart.",
};
