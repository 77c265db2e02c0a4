/* SPDX-License-Identifier: MIT */
/*
 * An independent decoder checks the encoder (docs/protocol.md §6.1, §6.3): every
 * kind of message the server emits is encoded by the codec, written into a
 * pcap (UDP 4342 and TCP 4342) and read back by tshark. A frame fails on any
 * expert info of §6.3, on a trailing Data layer, on a malformed-packet
 * exception, and on any field whose value differs from what was encoded.
 * Mapping Notifications (21) carry a Map-Notify per D3, a layout tshark does
 * not know: tshark checks their framing, our decoder their Map-Notify.
 * tshark 4.0 does not know RFC 9437's I bit in a Map-Request either: the
 * xTR-ID and site-ID a forwarded request carries show as a Data layer,
 * which must then hold exactly those octets and nothing else.
 *
 * Without tshark the test fails, unless LISPMS_ALLOW_NO_TSHARK=1 (TAP skip).
 * The messages and what they must decode to are encode_tshark_frames.c's;
 * here tshark reads them back and every frame is judged.
 */
#include "encode_tshark.h"

static const char *const field_name[NFIELDS] = { FIELDS(FIELD_NAME) };

/* Expert infos and layers that mean the encoder wrote something wrong (§6.3). */
#define EXPERT_FILTER                                                              \
	"lisp.unexpected_field || lisp.invalid_field || lisp.expected_field || "   \
	"lisp.undecoded || lisp-tcp.invalid_length || lisp-tcp.invalid_marker || " \
	"lisp-tcp.unexpected_afi || lisp-tcp.undecoded || data || _ws.malformed"
#define FRAMING_FILTER "lisp-tcp.invalid_length || lisp-tcp.invalid_marker || _ws.malformed"
/* CHECK_TRAILER: everything but the Data layer, whose bytes are compared as a field. */
#define TRAILER_FILTER                                                           \
	"lisp.unexpected_field || lisp.invalid_field || lisp.expected_field || " \
	"lisp.undecoded || _ws.malformed"

/* ------------------------------------------------------------ tshark side */

static char *run(const char *cmd, size_t *out_len)
{
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (size_t r; buf && (r = fread(buf + n, 1, cap - n - 1, p)) > 0;) {
		n += r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	int status = pclose(p);
	if (buf == NULL || status != 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (out_len)
		*out_len = n;
	return buf;
}

static bool have_tshark(void)
{
	return system("tshark -v >/dev/null 2>&1") == 0;
}

/* Next tab- or newline-terminated cell of a line; advances *p. */
static char *cell(char **p)
{
	char *s = *p;
	size_t n = strcspn(s, "\t\n");
	char end = s[n];
	s[n] = '\0';
	*p = end == '\t' ? s + n + 1 : s + n;
	return s;
}

static void check_fields(const char *path)
{
	char cmd[8192];
	int n = snprintf(cmd, sizeof(cmd),
			 "tshark -r '%s' -o tcp.analyze_sequence_numbers:FALSE -T fields "
			 "-E occurrence=a -E aggregator=, -e frame.number",
			 path);
	for (int i = 0; i < NFIELDS; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " -e %s", field_name[i]);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " 2>/dev/null");
	char *out = run(cmd, NULL);
	if (!tap_ok(out != NULL, "tshark reads the capture")) {
		for (unsigned i = 0; i < nframes; i++)
			tap_ok(false, "frame %u: %s (no tshark output)", i + 1, frames[i].desc);
		return;
	}
	char *line = out;
	for (unsigned i = 0; i < nframes; i++) {
		struct frame *f = &frames[i];
		char *p = line;
		char *end = strchr(line, '\n');
		if (end == NULL) {
			tap_ok(false, "frame %u: %s (missing from tshark output)", i + 1, f->desc);
			continue;
		}
		*end = '\0';
		line = end + 1;
		unsigned fno = (unsigned)atoi(cell(&p));
		bool ok = fno == i + 1;
		char why[2048] = "";
		for (int k = 0; k < NFIELDS; k++) {
			char *got = cell(&p);
			if (!f->set[k])
				continue;
			if (strcmp(got, f->val[k]) != 0) {
				ok = false;
				size_t w = strlen(why);
				snprintf(why + w, sizeof(why) - w,
					 "\n#   %s: tshark '%s', encoded '%s'", field_name[k], got,
					 f->val[k]);
			}
		}
		tap_ok(ok, "frame %u: %s: fields as encoded%s", i + 1, f->desc, why);
	}
	free(out);
}

/* Frames matching a display filter, as a list of frame numbers. */
static bool frames_matching(const char *path, const char *filter, bool hit[MAX_FRAMES + 1])
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o tcp.analyze_sequence_numbers:FALSE -Y '%s' -T fields "
		 "-e frame.number 2>/dev/null",
		 path, filter);
	char *out = run(cmd, NULL);
	if (out == NULL)
		return false;
	memset(hit, 0, sizeof(bool) * (MAX_FRAMES + 1));
	for (char *p = out; *p;) {
		unsigned f = (unsigned)strtoul(p, &p, 10);
		if (f <= MAX_FRAMES)
			hit[f] = true;
		while (*p == '\n')
			p++;
	}
	free(out);
	return true;
}

static void check_experts(const char *path)
{
	bool bad[MAX_FRAMES + 1], framing[MAX_FRAMES + 1], trailer[MAX_FRAMES + 1];
	bool ok = frames_matching(path, EXPERT_FILTER, bad) &&
		  frames_matching(path, FRAMING_FILTER, framing) &&
		  frames_matching(path, TRAILER_FILTER, trailer);
	tap_ok(ok, "tshark evaluates the expert filters");
	for (unsigned i = 0; ok && i < nframes; i++) {
		const struct frame *f = &frames[i];
		if (f->check == CHECK_ALL)
			tap_ok(!bad[i + 1], "frame %u: %s: no expert info, no Data layer", i + 1,
			       f->desc);
		else if (f->check == CHECK_FRAMING)
			tap_ok(!framing[i + 1], "frame %u: %s: length and end marker valid", i + 1,
			       f->desc);
		else if (f->check == CHECK_TRAILER)
			tap_ok(!trailer[i + 1], "frame %u: %s: no expert info", i + 1, f->desc);
	}
}

/* What tshark cannot check in type 21 (D3): the Map-Notify, with our decoder. */
static void check_mapping_notification(void)
{
	struct lisp_map_notify mn;
	arena_reset(&arena);
	int ret = map_notify_decode(mn_wire, mn_len, &arena, &mn);
	bool ok = ret == LISPMS_EOK && mn.type == LISP_MSG_MAP_NOTIFY && mn.nrecords == 1 &&
		  auth_verify(actx, &key_sha256, 1, mn_wire, mn_len, &mn.auth) == LISPMS_EOK;
	struct eid_prefix p;
	char text[LISPMS_EID_STRLEN] = "";
	if (ok && record_eid(&mn.records[0], &p) == LISPMS_EOK)
		eid_prefix_format(&p, text, sizeof(text));
	tap_ok(ok && strcmp(text, "[1000] 10.1.0.0/16") == 0,
	       "Mapping Notification: inner Map-Notify decodes, one record, HMAC verifies (%s)",
	       text);
}

int main(void)
{
	if (!have_tshark()) {
		if (getenv("LISPMS_ALLOW_NO_TSHARK") &&
		    strcmp(getenv("LISPMS_ALLOW_NO_TSHARK"), "1") == 0) {
			tap_plan(1);
			tap_skip("tshark not installed (LISPMS_ALLOW_NO_TSHARK=1)");
			return 0;
		}
		tap_plan(1);
		tap_ok(false,
		       "tshark not found: install it (apt-get install tshark, or tools/test) "
		       "or set LISPMS_ALLOW_NO_TSHARK=1 to skip");
		return tap_done();
	}
	actx = auth_ctx_new();
	if (actx == NULL || arena_init(&arena, 1 << 20) != LISPMS_EOK ||
	    auth_key_init(&key_sha256, 1, LISP_ALG_HMAC_SHA256, "secret", 6) != LISPMS_EOK ||
	    auth_key_init(&key_sha1, 2, LISP_ALG_HMAC_SHA1, "secret", 6) != LISPMS_EOK)
		return 1;

	char dir[] = "/tmp/lispms-tshark-XXXXXX";
	char path[sizeof(dir) + 32];
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/codec.pcap", dir);
	if (pcap_open(&pcap, path) != 0)
		return 1;
	udp_frames();
	tcp_frames();
	if (pcap_close(&pcap) != 0)
		return 1;

	unsigned nexp = 0;
	for (unsigned i = 0; i < nframes; i++)
		nexp += frames[i].check != CHECK_TYPE;
	tap_plan((int)(2 + nframes + 1 + nexp + 1));
	tap_ok(pcap.frames == nframes, "%u frames written to %s", pcap.frames, path);
	check_fields(path);
	check_experts(path);
	check_mapping_notification();

	if (tap_done() == 0) {
		unlink(path);
		rmdir(dir);
	} else {
		printf("# capture kept: %s\n", path);
	}
	auth_ctx_free(actx);
	arena_deinit(&arena);
	return tap_done();
}
