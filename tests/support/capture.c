/* SPDX-License-Identifier: MIT */
/* Captures on lo and tshark over them, for the integration tests (capture.h). */
#include "capture.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "it.h"

bool it_capture_start(struct it_capture *c, const char *name, const char *bpf, ...)
{
	memset(c, 0, sizeof(*c));
	char filter[256], cmd[1024];
	va_list ap;
	va_start(ap, bpf);
	vsnprintf(filter, sizeof(filter), bpf, ap);
	va_end(ap);
	snprintf(c->path, sizeof(c->path), "%s/%s", it_dir, name);
	snprintf(c->pid, sizeof(c->pid), "%s/%s.dumpcap.pid", it_dir, name);
	snprintf(cmd, sizeof(cmd), "dumpcap -q -i lo -f '%s' -w %s >/dev/null 2>&1 & echo $! > %s",
		 filter, c->path, c->pid);
	if (system(cmd) != 0)
		return false;
	c->live = true;
	for (int i = 0; i < 50; i++) { /* dumpcap creates the file once it captures */
		usleep(100000);
		if (access(c->path, F_OK) == 0) {
			c->captured = true;
			return true;
		}
	}
	return false;
}

void it_capture_file(struct it_capture *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->captured = true;
}

void it_capture_stop(struct it_capture *c)
{
	if (!c->live)
		return;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "sleep 0.5; kill -INT $(cat %s) 2>/dev/null; sleep 0.5", c->pid);
	(void)system(cmd);
	c->live = false;
}

void it_capture_opts(struct it_capture *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->opts, sizeof(c->opts), fmt, ap);
	va_end(ap);
}

const char *it_tshark_missing(const struct it_capture *c)
{
	if (!it_have_tshark())
		return "tshark is not installed";
	if (!c->captured)
		return "dumpcap could not capture on lo";
	return NULL;
}

/* `tshark -r FILE OPTS [-Y 'FILTER'] REST` into cmd. */
static void tshark_cmd(char *cmd, size_t len, const struct it_capture *c, const char *filter,
		       const char *rest)
{
	snprintf(cmd, len, "tshark -r %s %s %s%s%s %s", c->path, c->opts, filter ? "-Y '" : "",
		 filter ? filter : "", filter ? "'" : "", rest);
}

long it_tshark_count(const struct it_capture *c, const char *filter, ...)
{
	char f[1024], cmd[2048];
	va_list ap;
	va_start(ap, filter);
	vsnprintf(f, sizeof(f), filter, ap);
	va_end(ap);
	tshark_cmd(cmd, sizeof(cmd), c, f, "2>/dev/null | wc -l");
	return it_shell_count(cmd);
}

long it_tshark_grep(const struct it_capture *c, const char *filter, const char *fields,
		    const char *pattern)
{
	char rest[512], cmd[2048];
	snprintf(rest, sizeof(rest), "-T fields %s 2>/dev/null | tr -d ':' | grep -o '%s' | wc -l",
		 fields, pattern);
	tshark_cmd(cmd, sizeof(cmd), c, filter, rest);
	return it_shell_count(cmd);
}

long it_tshark_distinct(const struct it_capture *c, const char *filter, const char *fields)
{
	char rest[512], cmd[2048];
	snprintf(rest, sizeof(rest), "-T fields %s 2>/dev/null | sort -u | wc -l", fields);
	tshark_cmd(cmd, sizeof(cmd), c, filter, rest);
	return it_shell_count(cmd);
}

long it_tshark_values(const struct it_capture *c, const char *filter, const char *fields)
{
	char rest[512], cmd[2048];
	snprintf(rest, sizeof(rest),
		 "-T fields %s 2>/dev/null | tr ',\\t' '\\n\\n' | sort -u | grep -c .", fields);
	tshark_cmd(cmd, sizeof(cmd), c, filter, rest);
	return it_shell_count(cmd);
}

long it_tshark_fields(const struct it_capture *c, const char *filter, const char *fields,
		      const char *sep, char *out, size_t len)
{
	char rest[512], cmd[2048], line[1024];
	snprintf(rest, sizeof(rest), "-T fields %s 2>/dev/null", fields);
	tshark_cmd(cmd, sizeof(cmd), c, filter, rest);
	FILE *p = popen(cmd, "r");
	if (p == NULL || len == 0)
		return -1;
	long rows = 0;
	size_t used = 0;
	out[0] = '\0';
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (char *t = line; *t; t++)
			if (*t == '\t')
				*t = ' ';
		int n = snprintf(out + used, len - used, "%s%s", rows ? sep : "", line);
		if (n < 0 || (size_t)n >= len - used) {
			pclose(p);
			return -1;
		}
		used += (size_t)n;
		rows++;
	}
	return pclose(p) == 0 ? rows : -1;
}

void it_tshark_dump(const struct it_capture *c, const char *filter, const char *fields)
{
	char rest[512], cmd[2048];
	snprintf(rest, sizeof(rest), "-T fields %s 2>&1 | sed 's/^/# /'", fields);
	tshark_cmd(cmd, sizeof(cmd), c, filter, rest);
	fflush(stdout);
	(void)system(cmd);
}
