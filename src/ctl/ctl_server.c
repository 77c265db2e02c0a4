/* SPDX-License-Identifier: MIT */
/*
 * The control socket on the control thread's poll loop. Every socket is
 * non-blocking; a connection reads one request, runs its command and
 * writes the reply as DATA frames and one END frame. A streamed command
 * (registrations) renders a step at a time, only while less than 64 KiB
 * wait to be sent, so a client that reads slowly costs a bounded buffer,
 * never a blocked thread. A connection that sends no request within 5 s,
 * or lets its reply sit unread for 30 s, is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <lispms/conf.h>
#include <lispms/err.h>
#include <lispms/log.h>
#include <lispms/mtime.h>

#include "ctl_internal.h"

#define CTL_CONNS	   (LISPMS_CTL_POLLFDS - 1)
#define REQUEST_TIMEOUT_NS (5 * LISPMS_NS_PER_SEC)
#define WRITE_TIMEOUT_NS   (30 * LISPMS_NS_PER_SEC)
#define LOW_WATER	   (64u << 10) /* stream more while less than this waits */
#define WIRE_MAX	   (LOW_WATER + (72u << 20))

enum conn_state {
	CONN_FREE,
	CONN_READ,   /* waiting for the request */
	CONN_STREAM, /* a streamed command has more to render */
	CONN_FLUSH,  /* everything rendered: sending what is left */
};

struct conn {
	enum conn_state state;
	int fd;
	uint8_t in[LISPMS_CTL_HDR + LISPMS_CTL_REQUEST_MAX];
	size_t in_len;
	struct sbuf wire; /* framed bytes not yet sent */
	struct ctl_reply reply;
	uint64_t deadline;
	const struct ctl_cmd *cmd;
};

struct ctl {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_env env;
	struct conf_options opts;
	struct conn conns[CTL_CONNS];
	struct conn *polled[LISPMS_CTL_POLLFDS]; /* what p[i] of the last ctl_pollfds is */
	struct {
		ctl_handler_fn *fn;
		void *arg;
	} handlers[CTL_CMD__COUNT];
};

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return LISPMS_ENOSPC;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return LISPMS_EOK;
}

/* A socket file left by a lispmsd that died: nothing accepts on it. */
static bool stale(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool dead =
	    connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 && errno == ECONNREFUSED;
	close(fd);
	return dead;
}

struct ctl *ctl_new(const struct ctl_conf *conf, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	if (unix_addr(conf->path, &sa) != LISPMS_EOK) {
		snprintf(err, errlen, "control, socket path %s is too long", conf->path);
		return NULL;
	}
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "control, cannot start (%s)", err_str(LISPMS_ENOMEM));
		return NULL;
	}
	memcpy(ctl->path, sa.sun_path, sizeof(ctl->path));
	ctl->env = (struct ctl_env){ .ms = conf->ms, .metrics = conf->metrics };
	if (conf->conf_opts) {
		ctl->opts = *conf->conf_opts;
		ctl->env.conf_opts = &ctl->opts;
	}
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0)
		goto out_errno;
	if (bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno != EADDRINUSE)
			goto out_errno;
		if (!stale(&sa)) {
			snprintf(err, errlen,
				 "control, socket %s is in use: is another lispmsd running?",
				 ctl->path);
			goto out_close;
		}
		unlink(ctl->path);
		if (bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			goto out_errno;
	}
	/* the daemon's user and its group (lispmsctl as an admin in that group) */
	if (chmod(ctl->path, 0660) != 0 || listen(ctl->lfd, 16) != 0) {
		int e = errno;
		unlink(ctl->path);
		errno = e;
		goto out_errno;
	}
	return ctl;

out_errno:
	snprintf(err, errlen, "control, cannot create socket %s (%s)", ctl->path, strerror(errno));
out_close:
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	free(ctl);
	return NULL;
}

static void conn_close(struct conn *c)
{
	if (c->state == CONN_FREE)
		return;
	close(c->fd);
	sbuf_free(&c->wire);
	ctl_reply_deinit(&c->reply);
	c->state = CONN_FREE;
}

void ctl_free(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	for (unsigned i = 0; i < CTL_CONNS; i++)
		conn_close(&ctl->conns[i]);
	close(ctl->lfd);
	unlink(ctl->path);
	free(ctl);
}

size_t ctl_buffered(const struct ctl *ctl)
{
	size_t n = 0;
	for (unsigned i = 0; i < CTL_CONNS; i++)
		if (ctl->conns[i].state != CONN_FREE)
			n += ctl->conns[i].wire.len + ctl->conns[i].reply.text.len;
	return n;
}

void ctl_set_handler(struct ctl *ctl, enum ctl_cmd_id id, ctl_handler_fn *fn, void *arg)
{
	if ((unsigned)id < CTL_CMD__COUNT) {
		ctl->handlers[id].fn = fn;
		ctl->handlers[id].arg = arg;
	}
}

/* Move the rendered text into DATA frames. */
static void frame_text(struct conn *c)
{
	struct sbuf *t = &c->reply.text;
	size_t at = 0;
	while (at < t->len) {
		size_t n = t->len - at < LISPMS_CTL_DATA_MAX ? t->len - at : LISPMS_CTL_DATA_MAX;
		uint8_t hdr[LISPMS_CTL_HDR];
		ctl_frame_header(hdr, CTL_FRAME_DATA, 0, (uint32_t)n);
		sbuf_append(&c->wire, (const char *)hdr, sizeof(hdr));
		sbuf_append(&c->wire, t->data + at, n);
		at += n;
	}
	sbuf_reset(t);
}

static void frame_end(struct conn *c, int status)
{
	size_t mlen = strnlen(c->reply.msg, sizeof(c->reply.msg));
	uint8_t hdr[LISPMS_CTL_HDR + 4];
	ctl_frame_header(hdr, CTL_FRAME_END, 0, (uint32_t)(4 + mlen));
	uint32_t s = (uint32_t)(int32_t)status;
	hdr[8] = (uint8_t)(s >> 24);
	hdr[9] = (uint8_t)(s >> 16);
	hdr[10] = (uint8_t)(s >> 8);
	hdr[11] = (uint8_t)s;
	sbuf_append(&c->wire, (const char *)hdr, sizeof(hdr));
	sbuf_append(&c->wire, c->reply.msg, mlen);
	c->state = CONN_FLUSH;
	c->deadline = mtime_now_ns() + WRITE_TIMEOUT_NS;
}

/* The command's result: more to stream, or the reply is complete. */
static void settle(struct conn *c, int ret)
{
	if (ret > 0 && c->reply.step != NULL) {
		frame_text(c);
		c->state = CONN_STREAM;
		return;
	}
	if (ret < 0 && c->reply.msg[0] == '\0')
		ctl_reply_message(&c->reply, "%s", err_str(ret));
	if (ret >= 0 || c->reply.started)
		ctl_reply_finish(&c->reply);
	frame_text(c);
	frame_end(c, ret < 0 ? ret : 0);
}

static void fail(struct conn *c, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct conn *c, int ret, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reply.msg, sizeof(c->reply.msg), fmt, ap);
	va_end(ap);
	settle(c, ret);
}

static void run_request(struct ctl *ctl, struct conn *c, const struct ctl_frame *f)
{
	struct ctl_request req;
	int ret = ctl_request_decode(f, &req);
	ctl_reply_init(&c->reply, req.json);
	if (ret != LISPMS_EOK) {
		fail(c, ret, "bad request (%s)", err_str(ret));
		return;
	}
	unsigned words;
	const struct ctl_cmd *cmd = ctl_cmd_match(req.argc, req.argv, &words);
	if (cmd == NULL) {
		fail(c, LISPMS_EINVAL, "unknown command \"%s\" (lispmsctl --help lists them)",
		     req.argv[0]);
		return;
	}
	c->cmd = cmd;
	unsigned argc = req.argc - words;
	const char *const *argv = req.argv + words;
	if (argc < cmd->min_args || argc > cmd->max_args) {
		fail(c, LISPMS_EINVAL, "usage: %s %s", cmd->name, cmd->usage);
		return;
	}
	if (cmd->flags & CTL_CMDF_MUTATES)
		log_notice("control, %s requested", cmd->name);
	if (ctl->handlers[cmd->id].fn != NULL) {
		ret = ctl->handlers[cmd->id].fn(&c->reply, argc, argv, ctl->handlers[cmd->id].arg);
	} else if (cmd->flags & CTL_CMDF_SESSIONS) {
		fail(c, LISPMS_ENOTSUP,
		     "%s needs the reliable transport (TCP sessions), which this lispmsd does not "
		     "run",
		     cmd->name);
		return;
	} else {
		ret = ctl_cmd_run(&ctl->env, cmd->id, &c->reply, argc, argv);
	}
	settle(c, ret);
}

static void conn_read(struct ctl *ctl, struct conn *c)
{
	for (;;) {
		if (c->in_len == sizeof(c->in)) {
			fail(c, LISPMS_EMALFORMED, "request too long");
			return;
		}
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->in_len += (size_t)n;
		struct ctl_frame f;
		size_t used;
		int ret = ctl_frame_decode(c->in, c->in_len, &f, &used);
		if (ret == LISPMS_EAGAIN)
			continue;
		if (ret == LISPMS_EOK && f.type == CTL_FRAME_REQUEST) {
			run_request(ctl, c, &f);
		} else {
			ctl_reply_init(&c->reply, false);
			fail(c, LISPMS_EMALFORMED, "not a lispmsctl request");
		}
		return;
	}
}

static void conn_write(struct conn *c)
{
	while (c->wire.len > 0) {
		ssize_t n = send(c->fd, c->wire.data, c->wire.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) { /* the client went away: stop whatever it asked for */
			conn_close(c);
			return;
		}
		sbuf_consume(&c->wire, (size_t)n);
		c->deadline = mtime_now_ns() + WRITE_TIMEOUT_NS;
	}
	if (c->state == CONN_FLUSH)
		conn_close(c);
}

static void conn_stream(struct conn *c)
{
	while (c->state == CONN_STREAM && c->wire.len < LOW_WATER) {
		int ret = c->reply.step(&c->reply, c->reply.step_state);
		if (sbuf_failed(&c->reply.text) || sbuf_failed(&c->wire))
			ret = LISPMS_ENOMEM;
		settle(c, ret);
	}
}

static void accept_all(struct ctl *ctl)
{
	for (;;) {
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn *c = NULL;
		for (unsigned i = 0; i < CTL_CONNS && c == NULL; i++)
			if (ctl->conns[i].state == CONN_FREE)
				c = &ctl->conns[i];
		if (c == NULL) {
			static const char busy[] = "too many lispmsctl connections at once";
			uint8_t frame[LISPMS_CTL_HDR + 4 + sizeof(busy)];
			ctl_frame_header(frame, CTL_FRAME_END, 0, 4 + sizeof(busy) - 1);
			uint32_t s = (uint32_t)(int32_t)LISPMS_EBUSY;
			frame[8] = (uint8_t)(s >> 24);
			frame[9] = (uint8_t)(s >> 16);
			frame[10] = (uint8_t)(s >> 8);
			frame[11] = (uint8_t)s;
			memcpy(frame + 12, busy, sizeof(busy) - 1);
			ssize_t sent =
			    send(fd, frame, sizeof(frame) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)sent;
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->state = CONN_READ;
		sbuf_init(&c->wire, WIRE_MAX);
		ctl_reply_init(&c->reply, false);
		c->deadline = mtime_now_ns() + REQUEST_TIMEOUT_NS;
	}
}

unsigned ctl_pollfds(struct ctl *ctl, struct pollfd *p, unsigned max, int *timeout_ms)
{
	unsigned n = 0;
	if (max == 0)
		return 0;
	p[n] = (struct pollfd){ .fd = ctl->lfd, .events = POLLIN };
	ctl->polled[n++] = NULL;
	uint64_t now = mtime_now_ns();
	for (unsigned i = 0; i < CTL_CONNS && n < max && n < LISPMS_CTL_POLLFDS; i++) {
		struct conn *c = &ctl->conns[i];
		if (c->state == CONN_FREE)
			continue;
		short ev = c->state == CONN_READ ? POLLIN : 0;
		if (c->wire.len > 0)
			ev |= POLLOUT;
		if (c->state == CONN_STREAM && c->wire.len < LOW_WATER)
			*timeout_ms = 0; /* more to render at once */
		uint64_t left = c->deadline > now ? c->deadline - now : 0;
		int ms = (int)(left / 1000000u) + 1;
		if (ms < *timeout_ms)
			*timeout_ms = ms;
		p[n] = (struct pollfd){ .fd = c->fd, .events = ev };
		ctl->polled[n++] = c;
	}
	return n;
}

void ctl_dispatch(struct ctl *ctl, const struct pollfd *p, unsigned n)
{
	for (unsigned i = 0; i < n && i < LISPMS_CTL_POLLFDS; i++) {
		struct conn *c = ctl->polled[i];
		if (c == NULL) {
			if (p[i].revents & POLLIN)
				accept_all(ctl);
			continue;
		}
		if (c->state == CONN_READ && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			conn_read(ctl, c);
		if (c->state != CONN_FREE && (p[i].revents & (POLLHUP | POLLERR)) &&
		    c->state != CONN_READ) {
			conn_close(c); /* gone before reading its reply */
			continue;
		}
		if (c->state != CONN_FREE && c->wire.len > 0)
			conn_write(c);
	}
	uint64_t now = mtime_now_ns();
	for (unsigned i = 0; i < CTL_CONNS; i++) {
		struct conn *c = &ctl->conns[i];
		if (c->state == CONN_STREAM) {
			conn_stream(c);
			if (c->state != CONN_FREE && c->wire.len > 0)
				conn_write(c);
		}
		if (c->state != CONN_FREE && now > c->deadline) {
			static struct log_limit lim = LOG_LIMIT_INIT(1);
			log_sampled(&lim, LOG_LEVEL_INFO, "control, closing a connection that %s",
				    c->state == CONN_READ ? "sent no request in time"
							  : "did not read its reply");
			conn_close(c);
		}
	}
}
