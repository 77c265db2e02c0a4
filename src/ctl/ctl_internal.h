/* SPDX-License-Identifier: MIT */
/* Private to ctl: a reply being rendered, and the command handlers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lispms/counters.h>
#include <lispms/ctl.h>
#include <lispms/sbuf.h>

#define CTL_DEPTH_MAX 8

struct ctl_reply {
	struct sbuf text; /* rendered, not yet framed */
	bool json;
	bool started, finished;
	unsigned depth;
	bool comma[CTL_DEPTH_MAX + 1]; /* JSON: something was written at this depth */
	unsigned indent;	       /* text: spaces before keys */
	const struct ctl_col *cols;    /* the open table */
	unsigned ncols;
	bool header_done;
	char msg[1024];
	ctl_step_fn *step;
	void *step_state;
	void (*step_free)(void *state);
};

void ctl_reply_init(struct ctl_reply *r, bool json);
void ctl_reply_deinit(struct ctl_reply *r);
/* Close what is open (JSON braces); the reply is complete. */
void ctl_reply_finish(struct ctl_reply *r);

/* Append a JSON string literal (quoted, escaped). */
void ctl_json_string(struct sbuf *b, const char *s);

/* The daemon's context for handlers (ctl_server.c). */
struct ctl_env {
	struct ms *ms;
	const struct metrics_info *metrics;
	const struct conf_options *conf_opts;
};

/*
 * ctl_fmt.c: a command's number argument: decimal digits only (no sign, no
 * blanks), at most max. False (and *out untouched) otherwise.
 */
bool ctl_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* ctl_db.c: the commands that read the database. */
int ctl_cmd_registrations(const struct ctl_env *env, struct ctl_reply *r, unsigned argc,
			  const char *const *argv);
int ctl_cmd_site_list(const struct ctl_env *env, struct ctl_reply *r);
int ctl_cmd_site_show(const struct ctl_env *env, struct ctl_reply *r, const char *name);
int ctl_cmd_eid_lookup(const struct ctl_env *env, struct ctl_reply *r, const char *text);

/* ctl_fmt.c: how commands print what they show. */
struct db_owner;
struct db_locset;
void ctl_fmt_time(uint64_t realtime_ns, char *buf, size_t len);	      /* ISO 8601 UTC, or "never" */
void ctl_fmt_duration(uint64_t s, char *buf, size_t len);	      /* [Nd ]HH:MM:SS */
uint64_t ctl_realtime_ns(void);					      /* CLOCK_REALTIME */
void ctl_fmt_owner(const struct db_owner *o, char *buf, size_t len);  /* xTR-ID or RLOC */
void ctl_fmt_source(const struct db_owner *o, char *buf, size_t len); /* ADDR:PORT */
void ctl_fmt_locators(const struct db_locset *ls, char *buf, size_t len); /* a/prio/weight,... */
void ctl_fmt_flags(uint16_t f, char *buf, size_t len);			  /* P, M, T or - */
const char *ctl_reason_name(enum site_metric_id why); /* a rejection counter's reason */
uint64_t ctl_site_rejected(unsigned num);	      /* site num's rejected registrations */

/* ctl_pubsub.c: `subscriptions` and `subscription drop XTR-ID`. */
int ctl_cmd_subscriptions(const struct ctl_env *env, struct ctl_reply *r);
int ctl_cmd_subscription_drop(const struct ctl_env *env, struct ctl_reply *r, const char *text);

/* ctl_cmd.c: run a built-in command (argv: the arguments after its name). */
int ctl_cmd_run(const struct ctl_env *env, enum ctl_cmd_id id, struct ctl_reply *r, unsigned argc,
		const char *const *argv);
