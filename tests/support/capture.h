/* SPDX-License-Identifier: MIT */
/*
 * What lispmsd sent, read back by tshark: one way for every C integration
 * test (every message the server emits is checked by tshark). A capture is
 * either live on lo (dumpcap, a BPF filter, started before the traffic and
 * stopped after it) or a file the test wrote (tests/support/pcap.h); each
 * carries the tshark options it is read with (decode-as, preferences,
 * keylog files). The questions asked of it: how many packets match a
 * display filter, how often a byte pattern occurs in some fields, what
 * some fields hold, row after row.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "tap.h"

struct it_capture {
	char path[192]; /* the capture file */
	char pid[192];	/* dumpcap's pid file (live captures) */
	char opts[512]; /* tshark's options for it (-d, -o) */
	bool live;	/* dumpcap is running */
	bool captured;	/* the file is there to read */
};

/*
 * Capture on lo what `bpf` (printf-style) selects into it_dir/NAME; true
 * once dumpcap writes (5 s at most), false when it cannot capture.
 */
__attribute__((format(printf, 3, 4))) bool it_capture_start(struct it_capture *c, const char *name,
							    const char *bpf, ...);
/* A capture file the test wrote (written and closed before tshark reads it). */
void it_capture_file(struct it_capture *c, const char *path);
/* Stop a live capture: the last packets get 0.5 s, the file 0.5 s more. */
void it_capture_stop(struct it_capture *c);
/* The tshark options the capture is read with (printf-style, replacing any). */
__attribute__((format(printf, 2, 3))) void it_capture_opts(struct it_capture *c, const char *fmt,
							   ...);

/* NULL when tshark can read the capture, else what is missing. */
const char *it_tshark_missing(const struct it_capture *c);
/* Packets matching the display filter (printf-style); -1 on failure. */
__attribute__((format(printf, 2, 3))) long it_tshark_count(const struct it_capture *c,
							   const char *filter, ...);
/*
 * Occurrences of `pattern` (lower-case hex, e.g. our end marker 9facade9)
 * in the -T fields output of `fields` ("-e a -e b") of the packets matching
 * `filter` (NULL: all), with tshark's ':' byte separators removed; -1 on
 * failure.
 */
long it_tshark_grep(const struct it_capture *c, const char *filter, const char *fields,
		    const char *pattern);
/* Distinct rows of those fields; -1 on failure. */
long it_tshark_distinct(const struct it_capture *c, const char *filter, const char *fields);
/* Distinct values of those fields (a row's ','-separated occurrences apart); -1 on failure. */
long it_tshark_values(const struct it_capture *c, const char *filter, const char *fields);
/*
 * Those fields of every matching packet into out: a row per packet, its
 * fields separated by ' ', the rows by `sep`; -1 on failure, else the rows.
 */
long it_tshark_fields(const struct it_capture *c, const char *filter, const char *fields,
		      const char *sep, char *out, size_t len);
/* Print those fields as TAP comments ("# ..."), to see what a failed check saw. */
void it_tshark_dump(const struct it_capture *c, const char *filter, const char *fields);

/*
 * In the test's own file (tap.h's counters are per file): true when the
 * tshark checks can run; otherwise one check is skipped (under
 * LISPMS_ALLOW_NO_TSHARK) or failed, saying what is missing.
 */
static inline bool it_tshark_or_tap(const struct it_capture *c)
{
	const char *why = it_tshark_missing(c);
	if (why == NULL)
		return true;
	if (getenv("LISPMS_ALLOW_NO_TSHARK"))
		tap_skip(why);
	else
		tap_ok(false, "%s (tools/test installs tshark and dumpcap)", why);
	return false;
}
