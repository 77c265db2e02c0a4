/* SPDX-License-Identifier: MIT */
/*
 * `lispmsctl sessions` and `session drop PEER`, installed on the control
 * socket by a daemon that runs the reliable transport (ctl_sessions_install;
 * without it both commands answer "needs the reliable transport"). Sessions live on the net
 * workers, so the control thread never reads them itself: each step asks one worker, through its
 * queue, for the next page of at most SESS_PAGE sessions after the last id shown and waits up to
 * SESS_WAIT_MS for the snapshot (ms_sessions_list). A step renders one page, so the reply streams
 * as the client reads, like `registrations`, and a worker that hangs costs one bounded wait and a
 * clear error, never a stuck control loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lispms/conf.h>
#include <lispms/ctl.h>
#include <lispms/dgram.h>
#include <lispms/err.h>
#include <lispms/ms.h>
#include <lispms/mtime.h>
#include <lispms/rcu.h>
#include <lispms/stream.h>

#include "ctl_internal.h"

#define SESS_PAGE	   256
#define SESS_WAIT_MS	   2000
#define SESS_DEFAULT_LIMIT 1000
#define SESS_MAX_LIMIT	   10000000ull

struct sess_stream {
	struct ms *ms;
	unsigned worker;
	uint64_t after; /* last id shown on this worker */
	uint64_t limit, rows;
	bool truncated;
	struct ms_session_info page[SESS_PAGE];
};

static const struct ctl_col sess_cols[] = {
	{ "peer", 24, false },	      { "transport", 10, false }, { "worker", 7, true },
	{ "session", 18, true },      { "uptime_s", 10, true },	  { "eids", 9, true },
	{ "queued_bytes", 13, true }, { "msgs_in", 10, true },	  { "msgs_out", 10, true },
	{ "acked", 9, true },	      { "rejected", 9, true },	  { "state", 0, false },
};

static void sess_row(struct ctl_reply *r, const struct ms_session_info *i)
{
	char peer[64], worker[8], id[24], up[24], eids[24], q[24], in[24], out[24], ack[24],
	    rej[24];
	saddr_format(&i->peer, peer, sizeof(peer));
	snprintf(worker, sizeof(worker), "%u", i->worker);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)i->id);
	snprintf(up, sizeof(up), "%llu", (unsigned long long)(i->uptime_ns / LISPMS_NS_PER_SEC));
	snprintf(eids, sizeof(eids), "%zu", i->eids);
	snprintf(q, sizeof(q), "%zu", i->queued);
	snprintf(in, sizeof(in), "%llu", (unsigned long long)i->rx);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)i->tx);
	snprintf(ack, sizeof(ack), "%llu", (unsigned long long)i->acked);
	snprintf(rej, sizeof(rej), "%llu", (unsigned long long)i->rejected);
	const char *row[] = {
		peer, stream_transport_name(i->transport), worker, id, up, eids, q, in, out, ack,
		rej,  ms_session_state_name(i->state)
	};
	ctl_out_row(r, row);
}

static int sess_finish(struct ctl_reply *r, struct sess_stream *s)
{
	ctl_out_table_end(r);
	if (ctl_reply_json(r)) {
		ctl_out_u64(r, "count", s->rows);
		ctl_out_bool(r, "truncated", s->truncated);
	}
	lrcu_read_lock();
	bool on = conf_server(ms_conf(s->ms))->reliable_transport;
	lrcu_read_unlock();
	if (s->truncated)
		ctl_reply_message(r, "... first %llu shown (--limit N for more)",
				  (unsigned long long)s->rows);
	else
		ctl_reply_message(r, "%llu sessions%s", (unsigned long long)s->rows,
				  on ? "" : " (server.reliable-transport is off)");
	return 0;
}

/* One page of one worker per step. */
static int sess_step(struct ctl_reply *r, void *state)
{
	struct sess_stream *s = state;
	/* one more than the limit leaves, to know whether it truncates */
	uint64_t left = s->limit - s->rows + 1;
	size_t want = left < SESS_PAGE ? (size_t)left : SESS_PAGE;
	size_t n = 0;
	int ret = ms_sessions_list(s->ms, s->worker, s->after, s->page, want, &n, SESS_WAIT_MS);
	if (ret == LISPMS_ENOENT) /* past the last worker */
		return sess_finish(r, s);
	if (ret == LISPMS_ETIMEDOUT) {
		ctl_reply_message(r, "worker %u did not answer within %u ms (%llu sessions shown)",
				  s->worker, SESS_WAIT_MS, (unsigned long long)s->rows);
		return ret;
	}
	if (ret != LISPMS_EOK)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (s->rows == s->limit) {
			s->truncated = true;
			return sess_finish(r, s);
		}
		sess_row(r, &s->page[i]);
		s->rows++;
	}
	if (n < want) {
		s->worker++;
		s->after = 0;
	} else {
		s->after = s->page[n - 1].id;
	}
	return 1;
}

static int sessions_handler(struct ctl_reply *r, unsigned argc, const char *const *argv, void *arg)
{
	struct ms *ms = arg;
	uint64_t limit = SESS_DEFAULT_LIMIT;
	for (unsigned i = 0; i < argc; i += 2) {
		if (strcmp(argv[i], "--limit") != 0) {
			ctl_reply_message(r, "unknown option %s (--limit)", argv[i]);
			return LISPMS_EINVAL;
		}
		if (i + 1 >= argc || !ctl_parse_u64(argv[i + 1], SESS_MAX_LIMIT, &limit) ||
		    limit == 0) {
			ctl_reply_message(r, "--limit wants 1..%llu", SESS_MAX_LIMIT);
			return LISPMS_EINVAL;
		}
	}
	struct sess_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LISPMS_ENOMEM;
	s->ms = ms;
	s->limit = limit;
	ctl_reply_stream(r, sess_step, s, free);
	ctl_out_table(r, "sessions", sess_cols, sizeof(sess_cols) / sizeof(sess_cols[0]));
	return 1;
}

/* "192.0.2.1", "192.0.2.1:4000", "2001:db8::1", "[2001:db8::1]:4000"; *any_port without a port. */
static bool parse_peer(const char *text, struct sockaddr_storage *out, bool *any_port)
{
	char host[64];
	const char *port = NULL;
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(host))
		return false;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return false;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		if (close[1] == ':')
			port = close + 2;
	} else {
		memcpy(host, text, len + 1);
		char *colon = strchr(host, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) { /* IPv4:port */
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (saddr_parse(host, out) != LISPMS_EOK)
		return false;
	*any_port = port == NULL;
	if (port != NULL) {
		uint64_t p;
		if (!ctl_parse_u64(port, 65535, &p) || p == 0)
			return false;
		saddr_set_port(out, (uint16_t)p);
	}
	return true;
}

static int drop_handler(struct ctl_reply *r, unsigned argc, const char *const *argv, void *arg)
{
	struct ms *ms = arg;
	(void)argc;
	struct sockaddr_storage peer;
	bool any_port;
	if (!parse_peer(argv[0], &peer, &any_port)) {
		ctl_reply_message(r,
				  "\"%s\" is not a peer: ADDR or ADDR:PORT as `lispmsctl sessions` "
				  "shows it",
				  argv[0]);
		return LISPMS_EINVAL;
	}
	size_t dropped = 0;
	int ret = ms_sessions_drop(ms, &peer, any_port, &dropped, SESS_WAIT_MS);
	if (ctl_reply_json(r))
		ctl_out_u64(r, "dropped", dropped);
	if (ret == LISPMS_ETIMEDOUT) {
		ctl_reply_message(
		    r,
		    "%zu sessions from %s dropped, but a worker did not answer within "
		    "%u ms (it drops its own when it gets to it)",
		    dropped, argv[0], SESS_WAIT_MS);
		return ret;
	}
	if (ret != LISPMS_EOK)
		return ret;
	if (dropped == 0) {
		ctl_reply_message(r, "no session from %s (`lispmsctl sessions` lists them)",
				  argv[0]);
		return LISPMS_ENOENT;
	}
	ctl_reply_message(r,
			  "dropped %zu session%s from %s: its registrations now expire on UDP "
			  "timers unless it comes back",
			  dropped, dropped == 1 ? "" : "s", argv[0]);
	return 0;
}

void ctl_sessions_install(struct ctl *ctl, struct ms *ms)
{
	ctl_set_handler(ctl, CTL_CMD_SESSIONS, sessions_handler, ms);
	ctl_set_handler(ctl, CTL_CMD_SESSION_DROP, drop_handler, ms);
}
