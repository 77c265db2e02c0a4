/* SPDX-License-Identifier: MIT */
/*
 * lispms-conf-doc: print docs/configuration.md from the schema tables, or
 * with --man VERSION the manual page lispms.yaml(5).
 */
#include <stdio.h>
#include <string.h>

#include <lispms/conf.h>

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--man") == 0)
		conf_schema_dump_man(stdout, argv[2]);
	else if (argc == 1)
		conf_schema_dump_markdown(stdout);
	else {
		fputs("usage: lispms-conf-doc [--man VERSION]\n", stderr);
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
