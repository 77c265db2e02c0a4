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
