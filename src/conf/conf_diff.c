/* SPDX-License-Identifier: MIT */
/*
 * What a reload changes: sites matched by name, prefixes compared as sets,
 * every other setting compared item by item through the schema tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/conf.h>
#include <lispms/err.h>

#include "schema.h"

static int emit(conf_diff_fn *fn, void *arg, struct conf_diff_event ev)
{
	return fn(&ev, arg);
}

static int ptr_prefix_cmp(const void *x, const void *y)
{
	const struct eid_prefix *const *a = x, *const *b = y;
	return conf_prefix_cmp(*a, *b);
}

static const struct eid_prefix **sorted_prefixes(const struct conf_site *s)
{
	const struct eid_prefix **v = calloc(s->nprefixes ? s->nprefixes : 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < s->nprefixes; i++)
		v[i] = &s->prefixes[i];
	qsort(v, s->nprefixes, sizeof(*v), ptr_prefix_cmp);
	return v;
}

/*
 * Walk both sorted sets; with `fn` NULL only say whether they differ (1),
 * otherwise emit REMOVED then ADDED events.
 */
static int prefix_delta(const struct conf_site *os, const struct conf_site *ns,
			const struct eid_prefix **ov, const struct eid_prefix **nv,
			conf_diff_fn *fn, void *arg, enum conf_change want)
{
	size_t i = 0, j = 0;
	while (i < os->nprefixes || j < ns->nprefixes) {
		int c = i == os->nprefixes   ? 1
			: j == ns->nprefixes ? -1
					     : conf_prefix_cmp(ov[i], nv[j]);
		const struct eid_prefix *p = NULL;
		enum conf_change kind = LISPMS_CONF_PREFIX_ADDED;
		if (c == 0) {
			i++, j++;
			continue;
		}
		if (c < 0) {
			p = ov[i++];
			kind = LISPMS_CONF_PREFIX_REMOVED;
		} else {
			p = nv[j++];
		}
		if (fn == NULL)
			return 1;
		if (kind != want)
			continue;
		int ret = emit(fn, arg,
			       (struct conf_diff_event){
				   .change = kind, .old_site = os, .new_site = ns, .prefix = p });
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* Phase 1: CHANGED and PREFIX_REMOVED; phase 2: PREFIX_ADDED. */
static int diff_site(const struct conf_site *os, const struct conf_site *ns, int phase,
		     conf_diff_fn *fn, void *arg)
{
	const struct eid_prefix **ov = sorted_prefixes(os), **nv = sorted_prefixes(ns);
	int ret = LISPMS_ENOMEM;
	if (ov == NULL || nv == NULL)
		goto out_free;
	ret = 0;
	if (phase == 2) {
		ret = prefix_delta(os, ns, ov, nv, fn, arg, LISPMS_CONF_PREFIX_ADDED);
		goto out_free;
	}
	unsigned what = 0;
	for (const struct schema_item *it = schema_root.items; it->key; it++) {
		if (strcmp(it->key, "sites") != 0)
			continue;
		for (const struct schema_item *si = it->section->items; si->key; si++)
			if (si->diff_bit != LISPMS_CONF_SITE_PREFIXES &&
			    !schema_item_equal(si, os, ns))
				what |= si->diff_bit;
	}
	if (prefix_delta(os, ns, ov, nv, NULL, NULL, 0))
		what |= LISPMS_CONF_SITE_PREFIXES;
	if (what != 0)
		ret = emit(fn, arg,
			   (struct conf_diff_event){ .change = LISPMS_CONF_SITE_CHANGED,
						     .old_site = os,
						     .new_site = ns,
						     .what = what });
	if (ret == 0 && (what & LISPMS_CONF_SITE_PREFIXES))
		ret = prefix_delta(os, ns, ov, nv, fn, arg, LISPMS_CONF_PREFIX_REMOVED);
out_free:
	free(nv);
	free(ov);
	return ret;
}

static int whole_site(const struct conf_site *s, bool added, conf_diff_fn *fn, void *arg)
{
	int ret = emit(fn, arg,
		       (struct conf_diff_event){ .change = added ? LISPMS_CONF_SITE_ADDED
								 : LISPMS_CONF_SITE_REMOVED,
						 .old_site = added ? NULL : s,
						 .new_site = added ? s : NULL });
	for (size_t i = 0; ret == 0 && i < s->nprefixes; i++)
		ret = emit(fn, arg,
			   (struct conf_diff_event){ .change = added ? LISPMS_CONF_PREFIX_ADDED
								     : LISPMS_CONF_PREFIX_REMOVED,
						     .old_site = added ? NULL : s,
						     .new_site = added ? s : NULL,
						     .prefix = &s->prefixes[i] });
	return ret;
}

static int diff_settings(const struct conf *old, const struct conf *new, conf_diff_fn *fn,
			 void *arg)
{
	for (const struct schema_item *it = schema_root.items; it->key; it++) {
		if ((it->flags & SCHEMA_NO_DIFF) || it->type != SCHEMA_SECTION)
			continue;
		if (it->flags & SCHEMA_LIST) {
			/* a list of mappings (subscribers): one change for the whole list */
			if (schema_item_equal(it, old, new))
				continue;
			int ret = emit(fn, arg,
				       (struct conf_diff_event){
					   .change = LISPMS_CONF_SETTING_CHANGED,
					   .key = it->key,
					   .needs_restart = (it->flags & SCHEMA_RESTART) != 0 });
			if (ret != 0)
				return ret;
			continue;
		}
		const struct schema_section *s = it->section;
		const char *os = (const char *)old + it->offset,
			   *ns = (const char *)new + it->offset;
		if (s->has_present && *(const bool *)(os + s->present_offset) !=
					  *(const bool *)(ns + s->present_offset)) {
			int ret =
			    emit(fn, arg,
				 (struct conf_diff_event){ .change = LISPMS_CONF_SETTING_CHANGED,
							   .key = it->key,
							   .needs_restart = !s->present_reloads });
			if (ret != 0)
				return ret;
			continue;
		}
		for (const struct schema_item *si = s->items; si->key; si++) {
			if (schema_item_equal(si, os, ns))
				continue;
			char key[96];
			snprintf(key, sizeof(key), "%s.%s", it->key, si->key);
			int ret = emit(fn, arg,
				       (struct conf_diff_event){
					   .change = LISPMS_CONF_SETTING_CHANGED,
					   .key = key,
					   .needs_restart = (si->flags & SCHEMA_RESTART) != 0 });
			if (ret != 0)
				return ret;
		}
	}
	return 0;
}

int conf_diff(const struct conf *old, const struct conf *new, conf_diff_fn *fn, void *arg)
{
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < old->nsites; i++) {
		const struct conf_site *os = &old->sites[i];
		const struct conf_site *ns = conf_site_find(new, os->name);
		ret = ns ? diff_site(os, ns, 1, fn, arg) : whole_site(os, false, fn, arg);
	}
	for (size_t i = 0; ret == 0 && i < new->nsites; i++) {
		const struct conf_site *ns = &new->sites[i];
		const struct conf_site *os = conf_site_find(old, ns->name);
		ret = os ? diff_site(os, ns, 2, fn, arg) : whole_site(ns, true, fn, arg);
	}
	if (ret == 0)
		ret = diff_settings(old, new, fn, arg);
	return ret;
}
