/* SPDX-License-Identifier: MIT */
/*
 * The YAML loader from memory. Whatever the input, a load either fails with
 * LISPMS_ECONFIG and a message, or gives a snapshot that equals a second load
 * of the same bytes, diffs against itself to nothing, and frees cleanly.
 */
#include <stdlib.h>
#include <string.h>

#include <lispms/conf.h>
#include <lispms/err.h>

#include "fuzz.h"
#include "schema.h"

static void check(bool cond)
{
	if (!cond)
		abort();
}

static int count_event(const struct conf_diff_event *ev, void *arg)
{
	(void)ev;
	(*(unsigned *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* odd lengths behave as a DPDK build, so both fastpath paths are reached */
	struct conf_options opts = { .fastpath_available = size & 1 };
	struct conf_error err;
	struct conf *c = NULL;
	int ret = conf_load_buf("fuzz.yaml", (const char *)data, size, &opts, &c, &err);
	if (ret != LISPMS_EOK) {
		check(ret == LISPMS_ECONFIG || ret == LISPMS_ENOMEM);
		check(err.count > 0 && strncmp(err.msg, "fuzz.yaml", 9) == 0);
		check(c == NULL);
		return 0;
	}
	check(err.count == 0);
	struct conf *again = NULL;
	check(conf_load_buf("fuzz.yaml", (const char *)data, size, &opts, &again, NULL) ==
	      LISPMS_EOK);
	check(conf_equal(c, again));
	unsigned events = 0;
	check(conf_diff(c, again, count_event, &events) == 0);
	check(events == 0);
	for (size_t i = 0; i < conf_site_count(c); i++) {
		const struct conf_site *s = conf_site_at(c, i);
		check(conf_site_find(c, s->name) == s);
		for (size_t k = 0; k < s->nkeys; k++)
			check(conf_site_key(s, s->keys[k].id) == &s->keys[k]);
	}
	conf_free(again);
	conf_free(c);
	return 0;
}
