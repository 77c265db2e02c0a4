/* SPDX-License-Identifier: MIT */
/*
 * The snapshot ms publishes with RCU (struct ms_state): one configuration,
 * its site index and the sites' identities, which outlive reloads. Built by
 * ms_new and by each reload (ms_reload.c).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "ms_internal.h"

/* ------------------------------------------------------------ site ids */

/* Site numbers index the per-site counters, process-wide like the counters. */
static _Atomic uint32_t site_nums;

static struct ms_site_id *site_id_get(void *arg, const char *name)
{
	struct ms *ms = arg;
	pthread_mutex_lock(&ms->ids_lock);
	struct ms_site_id *id;
	for (id = ms->ids; id != NULL; id = id->next)
		if (strcmp(id->name, name) == 0)
			break;
	if (id == NULL) {
		size_t len = strlen(name);
		id = calloc(1, sizeof(*id) + len + 1);
		if (id != NULL) {
			memcpy(id->name, name, len + 1);
			id->num = atomic_fetch_add(&site_nums, 1);
			id->next = ms->ids;
			ms->ids = id;
		}
	}
	pthread_mutex_unlock(&ms->ids_lock);
	return id;
}

struct ms_state *ms_state_new(struct ms *ms, struct conf *conf)
{
	struct ms_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->conf = conf;
	st->reply_rate_limit = conf_server(conf)->reply_rate_limit;
	st->sites = site_index_new(conf, site_id_get, ms);
	if (st->sites == NULL) {
		free(st);
		return NULL;
	}
	size_t n = site_index_count(st->sites);
	for (size_t i = 0; i < n; i++) {
		uint32_t num = site_index_site(st->sites, i)->id->num;
		if (num >= st->nby_num)
			st->nby_num = num + 1;
	}
	st->by_num = calloc(st->nby_num ? st->nby_num : 1, sizeof(*st->by_num));
	if (st->by_num == NULL) {
		site_index_free(st->sites);
		free(st);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		st->by_num[site_index_site(st->sites, i)->id->num] = (uint32_t)i + 1;
	int err;
	st->ddt = ddt_index_new(conf, &err);
	if (err != LISPMS_EOK) {
		site_index_free(st->sites);
		free(st->by_num);
		free(st);
		return NULL;
	}
	return st;
}

void ms_state_free(struct ms_state *st)
{
	if (st == NULL)
		return;
	site_index_free(st->sites);
	ddt_index_free(st->ddt);
	conf_free(st->conf);
	free(st->by_num);
	free(st);
}
