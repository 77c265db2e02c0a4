/* SPDX-License-Identifier: MIT */
/* docs/configuration.md is the schema's Markdown, committed: it must be current. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/conf.h>

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, k;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	*len = n;
	return buf;
}

Test(doc, committed_reference_is_current)
{
	char *gen = NULL;
	size_t genlen = 0;
	FILE *m = open_memstream(&gen, &genlen);
	cr_assert_not_null(m);
	conf_schema_dump_markdown(m);
	fclose(m);
	cr_assert(strstr(gen, "`registration-timeout`") != NULL);
	cr_assert(strstr(gen, "## `sites[].keys[]`") != NULL);

	size_t len;
	char *doc = read_all(LISPMS_SOURCE_ROOT "/docs/configuration.md", &len);
	cr_assert_not_null(doc, "docs/configuration.md is missing");
	cr_assert(len == genlen && memcmp(doc, gen, len) == 0,
		  "docs/configuration.md is stale: regenerate it with "
		  "build/src/conf/lispms-conf-doc > docs/configuration.md");
	free(doc);
	free(gen);
}
