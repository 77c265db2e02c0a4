/* SPDX-License-Identifier: MIT */
/*
 * Replay runner: feeds every file under the given corpus directories to the
 * target once, so each seed and each committed crash reproducer is a
 * regression test in every `meson test`, even without clang or libFuzzer.
 * Prints one TAP line per corpus directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tap.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	struct stat st;
	if (fstat(fileno(f), &st) != 0) {
		fclose(f);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	/* an exact-size heap copy, so ASan sees any read past the input */
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL || fread(buf, 1, len, f) != len) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int replay_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	struct dirent *e;
	char path[4096];
	int ret = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (replay_file(path) != 0) {
			fprintf(stderr, "replay, cannot read %s\n", path);
			ret = -1;
			continue;
		}
		(*count)++;
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	tap_plan(argc - 1);
	for (int i = 1; i < argc; i++) {
		unsigned count = 0;
		int ret = replay_dir(argv[i], &count);
		tap_ok(ret == 0 && count > 0, "replayed %u inputs from %s", count, argv[i]);
	}
	return tap_done();
}
