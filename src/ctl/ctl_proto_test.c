/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <criterion/criterion.h>

#include <lispms/ctl.h>
#include <lispms/err.h>

Test(ctl_proto, request_round_trip)
{
	const char *argv[] = { "eid", "lookup", "[1000] 10.1.2.3" };
	uint8_t buf[256];
	size_t len, used;
	cr_assert_eq(ctl_request_encode(argv, 3, true, buf, sizeof(buf), &len), LISPMS_EOK);
	struct ctl_frame f;
	for (size_t cut = 0; cut < len; cut++)
		cr_assert_eq(ctl_frame_decode(buf, cut, &f, &used),
			     cut >= 1 && buf[0] != 'L' ? LISPMS_EMALFORMED : LISPMS_EAGAIN);
	cr_assert_eq(ctl_frame_decode(buf, len, &f, &used), LISPMS_EOK);
	cr_assert_eq(used, len);
	struct ctl_request r;
	cr_assert_eq(ctl_request_decode(&f, &r), LISPMS_EOK);
	cr_assert(r.json);
	cr_assert_eq(r.argc, 3);
	cr_assert_str_eq(r.argv[2], "[1000] 10.1.2.3");
}

Test(ctl_proto, bad_frames_are_refused)
{
	uint8_t buf[LISPMS_CTL_HDR + 8];
	struct ctl_frame f;
	size_t used;
	ctl_frame_header(buf, CTL_FRAME_REQUEST, 0, LISPMS_CTL_REQUEST_MAX + 1);
	cr_assert_eq(ctl_frame_decode(buf, sizeof(buf), &f, &used), LISPMS_EMALFORMED);
	ctl_frame_header(buf, 9, 0, 0);
	cr_assert_eq(ctl_frame_decode(buf, sizeof(buf), &f, &used), LISPMS_EMALFORMED);
	memcpy(buf, "GET / HT", 8);
	cr_assert_eq(ctl_frame_decode(buf, sizeof(buf), &f, &used), LISPMS_EMALFORMED);
	ctl_frame_header(buf, CTL_FRAME_REQUEST, 0, 3);
	memcpy(buf + LISPMS_CTL_HDR, "abc", 3); /* no final NUL */
	cr_assert_eq(ctl_frame_decode(buf, LISPMS_CTL_HDR + 3, &f, &used), LISPMS_EOK);
	struct ctl_request r;
	cr_assert_eq(ctl_request_decode(&f, &r), LISPMS_EMALFORMED);
	uint8_t many[LISPMS_CTL_HDR + 2 * (LISPMS_CTL_ARGS_MAX + 1)];
	ctl_frame_header(many, CTL_FRAME_REQUEST, 0, 2 * (LISPMS_CTL_ARGS_MAX + 1));
	for (unsigned i = 0; i <= LISPMS_CTL_ARGS_MAX; i++) {
		many[LISPMS_CTL_HDR + 2 * i] = 'x';
		many[LISPMS_CTL_HDR + 2 * i + 1] = '\0';
	}
	cr_assert_eq(ctl_frame_decode(many, sizeof(many), &f, &used), LISPMS_EOK);
	cr_assert_eq(ctl_request_decode(&f, &r), LISPMS_ETOOMANY);
	const char *none[] = { "x" };
	cr_assert_eq(ctl_request_encode(none, 0, false, buf, sizeof(buf), &used), LISPMS_EINVAL);
}

Test(ctl_proto, end_frames_carry_a_signed_status)
{
	uint8_t buf[LISPMS_CTL_HDR + 4 + 5];
	ctl_frame_header(buf, CTL_FRAME_END, 0, 9);
	int32_t st = LISPMS_ECONFIG;
	uint32_t u = (uint32_t)st;
	buf[8] = (uint8_t)(u >> 24);
	buf[9] = (uint8_t)(u >> 16);
	buf[10] = (uint8_t)(u >> 8);
	buf[11] = (uint8_t)u;
	memcpy(buf + 12, "hello", 5);
	struct ctl_frame f;
	size_t used, mlen;
	cr_assert_eq(ctl_frame_decode(buf, sizeof(buf), &f, &used), LISPMS_EOK);
	int status;
	const char *msg;
	cr_assert_eq(ctl_end_decode(&f, &status, &msg, &mlen), LISPMS_EOK);
	cr_assert_eq(status, LISPMS_ECONFIG);
	cr_assert_eq(mlen, 5);
	cr_assert(memcmp(msg, "hello", 5) == 0);
}

Test(ctl_proto, the_table_matches_one_and_two_word_commands)
{
	unsigned words;
	const char *a[] = { "site", "show", "alpha" };
	const struct ctl_cmd *c = ctl_cmd_match(3, a, &words);
	cr_assert_not_null(c);
	cr_assert_eq(c->id, CTL_CMD_SITE_SHOW);
	cr_assert_eq(words, 2);
	const char *b[] = { "status" };
	c = ctl_cmd_match(1, b, &words);
	cr_assert_eq(c->id, CTL_CMD_STATUS);
	cr_assert_eq(words, 1);
	const char *d[] = { "site" };
	cr_assert_null(ctl_cmd_match(1, d, &words));
	const char *e[] = { "sitex", "show" };
	cr_assert_null(ctl_cmd_match(2, e, &words));
	for (unsigned i = 0; i < CTL_CMD__COUNT; i++) {
		cr_assert_eq(ctl_commands[i].id, i);
		cr_assert_not_null(ctl_commands[i].name);
		cr_assert(ctl_commands[i].min_args <= ctl_commands[i].max_args);
		cr_assert(ctl_commands[i].help[0]);
	}
}
