/* SPDX-License-Identifier: MIT */
/* lispms-conf-doc: print docs/configuration.md from the schema tables. */
#include <stdio.h>

#include <lispms/conf.h>

int main(void)
{
	conf_schema_dump_markdown(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
