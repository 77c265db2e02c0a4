/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/stat.h>

#include <lispms/conf.h>
#include <lispms/err.h>

#include "schema.h"

/* A config file is small; anything bigger is a mistake (or an attack on --check). */
#define CONF_MAX_FILE (16u * 1024u * 1024u)

const char *conf_alg_name(unsigned alg)
{
	switch (alg) {
	case LISPMS_CONF_ALG_HMAC_SHA_1_96:
		return "hmac-sha-1-96";
	case LISPMS_CONF_ALG_HMAC_SHA_256_128:
		return "hmac-sha-256-128";
	default:
		return NULL;
	}
}

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

static void set_error(struct conf_error *err, const char *name, unsigned line, unsigned column,
		      const char *text)
{
	memset(err, 0, sizeof(*err));
	err->count = 1;
	err->line = line;
	err->column = column;
	if (line)
		snprintf(err->msg, sizeof(err->msg), "%s:%u:%u: %s", name, line, column, text);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %s", name, text);
	snprintf(err->all, sizeof(err->all), "%s", err->msg);
}

int conf_load_buf(const char *name, const char *buf, size_t len, const struct conf_options *opts,
		  struct conf **out, struct conf_error *err)
{
	static const struct conf_options no_opts = { 0 };
	struct conf_error local;
	if (err == NULL)
		err = &local;
	memset(err, 0, sizeof(*err));
	if (opts == NULL)
		opts = &no_opts;
	if (name == NULL)
		name = "<config>";

	if (buf == NULL) {
		buf = "";
		len = 0;
	}

	struct doc d;
	struct doc_err derr;
	int ret = doc_load(buf, len, &d, &derr);
	if (ret == LISPMS_ENOMEM) {
		set_error(err, name, 0, 0, "out of memory");
		return ret;
	}
	if (ret != LISPMS_EOK) {
		set_error(err, name, derr.line, derr.column, derr.text);
		return LISPMS_ECONFIG;
	}
	if (d.root == NULL || doc_is_null(d.root)) {
		set_error(err, name, 0, 0, "empty configuration (expected a mapping of sections)");
		doc_free(&d);
		return LISPMS_ECONFIG;
	}
	if (d.root->kind != DOC_MAP) {
		char text[128];
		snprintf(text, sizeof(text), "expected a mapping of sections, got %s",
			 doc_kind_name(d.root));
		set_error(err, name, d.root->line, d.root->column, text);
		doc_free(&d);
		return LISPMS_ECONFIG;
	}

	struct conf *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		doc_free(&d);
		set_error(err, name, 0, 0, "out of memory");
		return LISPMS_ENOMEM;
	}
	pool_init(&c->pool);
	struct apply a = { .conf = c, .opts = opts, .name = name };
	ret = apply_section(&a, &schema_root, d.root, c);
	apply_finish(&a, err);
	if (ret == LISPMS_EOK) {
		c->source = pool_strndup(&c->pool, name, strlen(name));
		if (c->source == NULL)
			a.oom = true;
	}
	doc_free(&d);
	if (a.oom) {
		set_error(err, name, 0, 0, "out of memory");
		conf_free(c);
		return LISPMS_ENOMEM;
	}
	if (ret != LISPMS_EOK || a.nerr > 0) {
		conf_free(c);
		return LISPMS_ECONFIG;
	}
	*out = c;
	return LISPMS_EOK;
}

int conf_load_file(const char *path, const struct conf_options *opts, struct conf **out,
		   struct conf_error *err)
{
	struct conf_error local;
	if (err == NULL)
		err = &local;
	FILE *f = fopen(path, "rb");
	char text[256];
	if (f == NULL) {
		snprintf(text, sizeof(text), "cannot open (%s)", strerror(errno));
		set_error(err, path, 0, 0, text);
		return LISPMS_ECONFIG;
	}
	struct stat st;
	char *buf = NULL;
	int ret = LISPMS_ECONFIG;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		set_error(err, path, 0, 0, "not a regular file");
		goto out_close;
	}
	if ((uint64_t)st.st_size > CONF_MAX_FILE) {
		set_error(err, path, 0, 0, "larger than 16 MiB");
		goto out_close;
	}
	size_t len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (buf == NULL) {
		set_error(err, path, 0, 0, "out of memory");
		ret = LISPMS_ENOMEM;
		goto out_close;
	}
	if (fread(buf, 1, len, f) != len) {
		snprintf(text, sizeof(text), "cannot read (%s)", strerror(errno));
		set_error(err, path, 0, 0, text);
		goto out_close;
	}
	ret = conf_load_buf(path, buf, len, opts, out, err);
out_close:
	free(buf);
	fclose(f);
	return ret;
}

void conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	pool_deinit(&c->pool);
	free(c);
}

static void conf_free_rcu(struct rcu_head *head)
{
	conf_free(caa_container_of(head, struct conf, rcu));
}

void conf_retire(struct conf *c)
{
	if (c != NULL)
		lrcu_call(&c->rcu, conf_free_rcu);
}

const char *conf_source(const struct conf *c)
{
	return c->source;
}

const struct conf_server *conf_server(const struct conf *c)
{
	return &c->server;
}

const struct conf_metrics *conf_metrics(const struct conf *c)
{
	return &c->metrics;
}

const struct conf_control *conf_control(const struct conf *c)
{
	return &c->control;
}

const struct conf_fastpath *conf_fastpath(const struct conf *c)
{
	return &c->fastpath;
}

enum log_level conf_log_level(const struct conf *c)
{
	return (enum log_level)c->log.level;
}

size_t conf_site_count(const struct conf *c)
{
	return c->nsites;
}

const struct conf_ddt *conf_ddt(const struct conf *c)
{
	return &c->ddt;
}

const struct conf_map_resolver *conf_map_resolver(const struct conf *c)
{
	return &c->map_resolver;
}

size_t conf_subscriber_count(const struct conf *c)
{
	return c->nsubscribers;
}

const struct conf_subscriber *conf_subscriber_at(const struct conf *c, size_t i)
{
	return i < c->nsubscribers ? &c->subscribers[i] : NULL;
}

const struct conf_site *conf_site_at(const struct conf *c, size_t i)
{
	return i < c->nsites ? &c->sites[i] : NULL;
}

const struct conf_site *conf_site_find(const struct conf *c, const char *name)
{
	size_t lo = 0, hi = c->nsites;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, c->by_name[mid]->name);
		if (cmp == 0)
			return c->by_name[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

unsigned conf_workers(const struct conf *c, unsigned nproc)
{
	if (c->server.workers > 0)
		return c->server.workers;
	return nproc > 0 ? nproc : 1;
}

socklen_t conf_listen_sockaddr(const struct conf *c, size_t i, struct sockaddr_storage *ss)
{
	if (i >= c->server.nlisten) {
		memset(ss, 0, sizeof(*ss));
		return 0;
	}
	return lisp_addr_to_sockaddr(&c->server.listen[i], c->server.port, ss);
}

size_t conf_warning_count(const struct conf *c)
{
	return c->nwarnings;
}

const char *conf_warning_at(const struct conf *c, size_t i)
{
	return i < c->nwarnings ? c->warnings[i] : NULL;
}

bool conf_equal(const struct conf *a, const struct conf *b)
{
	return schema_section_equal(&schema_root, a, b);
}
