/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "it_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <config.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#if LISPMS_HAVE_QUIC
#include "quic.h"
#include "quic_client.h"
#endif

static const char *const names[IT_TRANSPORT_MAX] = {
	[IT_TCP] = "tcp", [IT_QUIC] = "quic", [IT_SCTP] = "sctp", [IT_TLS] = "tls"
};

/* The transport of the handles (one transport per test run). */
static enum it_transport cur = IT_TCP;

static uint16_t fd_port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &l) != 0)
		return 0;
	return ntohs(a.sin_port);
}
#if LISPMS_HAVE_QUIC
/* QUIC: a slot per client; handles are slot numbers (one transport per run). */
#define QUIC_SLOTS    4096
#define QUIC_BACKLOG  (256u << 10) /* unacknowledged bytes before send_nowait says 0 */
#define QUIC_READY_MS 1500

static struct quic_client *quic_slots[QUIC_SLOTS];
static bool quic_refused[QUIC_SLOTS]; /* handshake never completed: reads as closed */

static int quic_open(const struct it_stream_opts *o, const char *src)
{
	int h = -1;
	for (int i = 0; i < QUIC_SLOTS && h < 0; i++)
		if (!quic_slots[i] && !quic_refused[i])
			h = i;
	if (h < 0)
		return -1;
	struct sockaddr_storage s = { 0 }, d = { 0 };
	struct sockaddr_in *sa = (struct sockaddr_in *)&s, *da = (struct sockaddr_in *)&d;
	sa->sin_family = da->sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &sa->sin_addr) != 1)
		return -1;
	da->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	da->sin_port = htons(o->port);
	struct quic_client_conf cc = { .ca_file = o->ca,
				       .keylog = o->keylog,
				       .source = &s,
				       .idle_timeout_ms = IT_QUIC_IDLE_S * 1000u };
	struct quic_client *c = NULL;
	if (quic_client_new(&c, &cc, &d) != 0)
		return -1;
	if (quic_client_wait_ready(c, QUIC_READY_MS) != 0 || quic_client_open_stream(c) != 0) {
		quic_client_free(c);
		quic_refused[h] = true;
		return h;
	}
	quic_slots[h] = c;
	return h;
}

static struct quic_client *quic_of(int h)
{
	return h >= 0 && h < QUIC_SLOTS ? quic_slots[h] : NULL;
}

/* Service the client for up to timeout_ms or until done(c) holds. */
static void quic_wait(struct quic_client *c, int timeout_ms, bool (*done)(struct quic_client *))
{
	uint64_t deadline = quic_now() + (uint64_t)timeout_ms * 1000000u;
	while (!done(c) && quic_client_gone(c) == 0) {
		uint64_t now = quic_now();
		if (now >= deadline)
			break;
		uint64_t t = quic_client_expiry(c);
		if (t > deadline)
			t = deadline;
		int ms = t <= now ? 0 : (int)((t - now + 999999) / 1000000);
		struct pollfd p = { .fd = quic_client_fd(c), .events = POLLIN };
		(void)poll(&p, 1, ms);
		(void)quic_client_service(c);
	}
}

static bool quic_drained(struct quic_client *c)
{
	return quic_client_unacked(c) == 0;
}

static bool quic_has_room(struct quic_client *c)
{
	return quic_client_unacked(c) < QUIC_BACKLOG;
}

static ssize_t quic_send(int h, const void *buf, size_t len)
{
	struct quic_client *c = quic_of(h);
	if (!c || quic_client_write(c, buf, len) < 0)
		return -1;
	quic_wait(c, 2000, quic_drained); /* blocking: the server has it */
	return quic_client_gone(c) ? -1 : (ssize_t)len;
}

static ssize_t quic_send_nowait(int h, const void *buf, size_t len)
{
	struct quic_client *c = quic_of(h);
	if (!c) {
		errno = EBADF;
		return -1;
	}
	(void)quic_client_service(c);
	if (quic_client_gone(c)) {
		errno = ECONNRESET;
		return -1;
	}
	if (!quic_has_room(c))
		return 0;
	if (quic_client_write(c, buf, len) < 0) {
		errno = ECONNRESET;
		return -1;
	}
	return (ssize_t)len;
}

static ssize_t quic_recv(int h, void *buf, size_t len, int timeout_ms)
{
	if (h >= 0 && h < QUIC_SLOTS && quic_refused[h])
		return 0;
	struct quic_client *c = quic_of(h);
	if (!c)
		return 0;
	ssize_t n = quic_client_read(c, buf, len, timeout_ms);
	if (n < 0)
		return 0; /* closed by the server, or its idle timeout */
	return n > 0 ? n : -1;
}

static bool quic_writable(int h, int timeout_ms)
{
	struct quic_client *c = quic_of(h);
	if (!c)
		return false;
	quic_wait(c, timeout_ms, quic_has_room);
	/* a connection the server closed is "writable": the send says why */
	return quic_has_room(c) || quic_client_gone(c) != 0;
}

static uint16_t quic_local_port(int h)
{
	struct quic_client *c = quic_of(h);
	return c ? fd_port(quic_client_fd(c)) : 0;
}

static void quic_close(int h)
{
	if (h < 0 || h >= QUIC_SLOTS)
		return;
	quic_refused[h] = false;
	struct quic_client *c = quic_slots[h];
	quic_slots[h] = NULL;
	if (c) {
		quic_client_close(c);
		quic_client_free(c);
	}
}
#endif

#if LISPMS_HAVE_SCTP
#include "sctp.h"
#endif

#if LISPMS_HAVE_SCTP
#define IT_SCTP_MAX	  8192
#define IT_SCTP_LINGER_NS 5000000000ull		 /* a closed association's SHUTDOWN exchange */
static struct sctp_client *sctp_of[IT_SCTP_MAX]; /* by UDP fd */
static bool sctp_gone[IT_SCTP_MAX];		 /* never came up */
/* Closed by the test, ending (SHUTDOWN sent): fed and timed like the open
 * ones until the association is gone or this deadline (ns); 0: open. */
static uint64_t sctp_ending[IT_SCTP_MAX];
static unsigned sctp_nending;

static uint64_t it_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sctp_release(int fd)
{
	sctp_client_free(sctp_of[fd]);
	sctp_of[fd] = NULL;
	if (sctp_ending[fd]) {
		sctp_ending[fd] = 0;
		sctp_nending--;
	}
	close(fd);
}

/* Free the closed associations whose SHUTDOWN exchange is over (or late). */
static void sctp_reap(void)
{
	uint64_t now = it_now_ns();
	for (int fd = 0; fd < IT_SCTP_MAX && sctp_nending > 0; fd++)
		if (sctp_ending[fd] && (sctp_client_ended(sctp_of[fd]) || now >= sctp_ending[fd]))
			sctp_release(fd);
}

/* Feed every association what came for it, run the stack's timers; wait up
 * to ms for a datagram first. */
static void sctp_pump(int ms)
{
	static struct pollfd pf[IT_SCTP_MAX];
	nfds_t n = 0;
	for (int fd = 0; fd < IT_SCTP_MAX; fd++)
		if (sctp_of[fd])
			pf[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(pf, n, ms) > 0)
		for (nfds_t i = 0; i < n; i++)
			if (pf[i].revents)
				sctp_client_input(sctp_of[pf[i].fd]);
	sctp_stack_timers(it_now_ns());
	sctp_reap();
}

static bool is_sctp(int h)
{
	return h >= 0 && h < IT_SCTP_MAX && sctp_of[h] != NULL;
}

static int sctp_open(const struct it_stream_opts *o, const char *src)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &a.sin_addr);
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(o->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (o->rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(o->rcvbuf));
	if (fd >= IT_SCTP_MAX || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		close(fd);
		return -1;
	}
	struct sctp_client *c = sctp_client_new(fd, o->sctp_port ? o->sctp_port : 4342);
	if (c == NULL) {
		close(fd);
		return -1;
	}
	sctp_of[fd] = c;
	sctp_gone[fd] = false;
	uint64_t end = it_now_ns() + 2000000000ull;
	while (!sctp_client_up(c) && it_now_ns() < end)
		sctp_pump(1);
	if (!sctp_client_up(c))
		sctp_gone[fd] = true; /* not admitted: nothing came back */
	return fd;
}

static ssize_t sctp_send(int h, const void *buf, size_t len, bool wait)
{
	size_t done = 0;
	uint64_t end = it_now_ns() + 5000000000ull;
	while (done < len) {
		size_t n = len - done < 16384 ? len - done : 16384;
		ssize_t r = sctp_client_send(sctp_of[h], 0, (const uint8_t *)buf + done, n);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return done ? (ssize_t)done : -1;
		if (!wait || it_now_ns() > end)
			return (ssize_t)done;
		sctp_pump(1);
	}
	sctp_pump(0);
	return (ssize_t)len;
}

static ssize_t sctp_recv(int h, void *buf, size_t len, int timeout_ms)
{
	if (sctp_gone[h])
		return 0;
	uint64_t end = it_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		ssize_t n = sctp_client_recv(sctp_of[h], buf, len);
		if (n >= 0)
			return n;
		if (it_now_ns() >= end)
			return -1;
		sctp_pump(1);
	}
}
#endif

#if IT_HAVE_TLS
#include <gnutls/gnutls.h>
#endif

/* TLS: a handle is its socket; its GnuTLS session is kept here by fd. */
#define IT_MAX_FD 16384
#if IT_HAVE_TLS
static gnutls_session_t tls_of[IT_MAX_FD];
static gnutls_certificate_credentials_t cred_of[IT_MAX_FD]; /* freed with the session */

static gnutls_session_t sess_of(int h)
{
	return h >= 0 && h < IT_MAX_FD ? tls_of[h] : NULL;
}

/* A blocking TLS 1.3 client handshake on fd; false when it failed. A server
 * that closes before its first record (refused at accept, D5) leaves fd open
 * with no session: the caller then sees a plain closed connection, as on TCP. */
static bool tls_client(const struct it_stream_opts *o, int fd)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	if (fd >= IT_MAX_FD || gnutls_certificate_allocate_credentials(&cred) < 0)
		return false;
	/* credentials live as long as the session: freed in it_stream_close() */
	if ((o->ca &&
	     gnutls_certificate_set_x509_trust_file(cred, o->ca, GNUTLS_X509_FMT_PEM) <= 0) ||
	    (o->cert && gnutls_certificate_set_x509_key_file(cred, o->cert, o->key,
							     GNUTLS_X509_FMT_PEM) < 0) ||
	    gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) < 0)
		goto fail;
	if (gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		goto fail;
	gnutls_session_set_verify_cert(s, NULL, 0); /* chain to o->ca; no name check */
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	int g;
	do
		g = gnutls_handshake(s);
	while (g < 0 && !gnutls_error_is_fatal(g));
	if (g < 0) {
		bool refused = g == GNUTLS_E_PREMATURE_TERMINATION || g == GNUTLS_E_PULL_ERROR;
		gnutls_deinit(s);
		gnutls_certificate_free_credentials(cred);
		return refused;
	}
	tls_of[fd] = s;
	cred_of[fd] = cred;
	return true;
fail:
	if (s)
		gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	return false;
}
#endif

bool it_transport_parse(const char *name, enum it_transport *t)
{
	for (int i = 0; i < IT_TRANSPORT_MAX; i++)
		if (strcmp(name, names[i]) == 0) {
			if (i == IT_QUIC && !LISPMS_HAVE_QUIC)
				return false;
			if (i == IT_SCTP && !LISPMS_HAVE_SCTP)
				return false;
			if (i == IT_TLS && !IT_HAVE_TLS)
				return false;
			*t = (enum it_transport)i;
			return true;
		}
	return false;
}

const char *it_transport_name(enum it_transport t)
{
	return (unsigned)t < IT_TRANSPORT_MAX ? names[t] : "?";
}

int it_stream_open(const struct it_stream_opts *o, const char *src)
{
	cur = o->transport;
#if LISPMS_HAVE_QUIC
	if (cur == IT_QUIC)
		return quic_open(o, src);
#endif
#if LISPMS_HAVE_SCTP
	if (o->transport == IT_SCTP)
		return sctp_open(o, src);
#endif
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &a.sin_addr);
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(o->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (o->rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(o->rcvbuf));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		close(fd);
		return -1;
	}
#if IT_HAVE_TLS
	if (o->transport == IT_TLS && !tls_client(o, fd)) {
		close(fd);
		return -1;
	}
#else
	if (o->transport == IT_TLS) {
		close(fd);
		return -1;
	}
#endif
	return fd;
}

#if IT_HAVE_TLS
/* Blocking record send of all of buf; len, or -1 with errno (EPIPE, ECONNRESET). */
static ssize_t tls_send(gnutls_session_t s, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = gnutls_record_send(s, (const uint8_t *)buf + done, len - done);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0) {
			if (n != GNUTLS_E_PUSH_ERROR)
				errno = ECONNRESET;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)len;
}
#endif

ssize_t it_stream_send(int h, const void *buf, size_t len)
{
#if LISPMS_HAVE_QUIC
	if (cur == IT_QUIC)
		return quic_send(h, buf, len);
#endif
#if LISPMS_HAVE_SCTP
	if (is_sctp(h)) {
		ssize_t n = sctp_send(h, buf, len, true);
		return n == (ssize_t)len ? n : -1;
	}
#endif
#if IT_HAVE_TLS
	if (sess_of(h) != NULL)
		return tls_send(sess_of(h), buf, len);
#endif
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(h, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t it_stream_send_nowait(int h, const void *buf, size_t len)
{
#if LISPMS_HAVE_QUIC
	if (cur == IT_QUIC)
		return quic_send_nowait(h, buf, len);
#endif
#if LISPMS_HAVE_SCTP
	if (is_sctp(h))
		return sctp_send(h, buf, len, false);
#endif
#if IT_HAVE_TLS
	/* a record is sent whole: only when the socket is writable at all */
	if (sess_of(h) != NULL)
		return it_stream_writable(h, 0) ? tls_send(sess_of(h), buf, len) : 0;
#endif
	ssize_t n = send(h, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return n;
}

ssize_t it_stream_recv(int h, void *buf, size_t len, int timeout_ms)
{
#if LISPMS_HAVE_QUIC
	if (cur == IT_QUIC)
		return quic_recv(h, buf, len, timeout_ms);
#endif
#if LISPMS_HAVE_SCTP
	if (is_sctp(h))
		return sctp_recv(h, buf, len, timeout_ms);
#endif
#if IT_HAVE_TLS
	gnutls_session_t s = sess_of(h);
	if (s != NULL) {
		struct pollfd p = { .fd = h, .events = POLLIN };
		if (gnutls_record_check_pending(s) == 0 && poll(&p, 1, timeout_ms) != 1)
			return -1;
		ssize_t n;
		do
			n = gnutls_record_recv(s, buf, len);
		while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
		return n < 0 ? 0 : n; /* an alert or a reset is a close too */
	}
#endif
	struct pollfd p = { .fd = h, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	ssize_t n = recv(h, buf, len, 0);
	return n < 0 ? 0 : n; /* a reset is a close too */
}

bool it_stream_writable(int h, int timeout_ms)
{
#if LISPMS_HAVE_QUIC
	if (cur == IT_QUIC)
		return quic_writable(h, timeout_ms);
#endif
#if LISPMS_HAVE_SCTP
	if (is_sctp(h)) { /* usrsctp takes output until its send buffer is full */
		sctp_pump(timeout_ms < 10 ? timeout_ms : 10);
		return !sctp_gone[h];
	}
#endif
	struct pollfd p = { .fd = h, .events = POLLOUT };
	return poll(&p, 1, timeout_ms) == 1;
}

uint16_t it_stream_local_port(int h)
{
#if LISPMS_HAVE_QUIC
	if (cur == IT_QUIC)
		return quic_local_port(h);
#endif
	return fd_port(h);
}

void it_stream_close(int h)
{
#if LISPMS_HAVE_QUIC
	if (cur == IT_QUIC) {
		quic_close(h);
		return;
	}
#endif
#if LISPMS_HAVE_SCTP
	if (is_sctp(h) && !sctp_ending[h]) {
		/* an orderly end, as an ETR would: the SHUTDOWN is sent (again
		 * if lost) while the test goes on; the socket is closed when
		 * the association is gone (it_stream_settle waits for that) */
		sctp_client_shutdown(sctp_of[h]);
		sctp_ending[h] = it_now_ns() + IT_SCTP_LINGER_NS;
		sctp_nending++;
		sctp_reap();
		return;
	}
	if (is_sctp(h))
		return; /* closed already, still ending */
#endif
#if IT_HAVE_TLS
	gnutls_session_t s = sess_of(h);
	if (s != NULL) {
		(void)gnutls_bye(s, GNUTLS_SHUT_WR); /* close_notify, as a good client */
		gnutls_deinit(s);
		tls_of[h] = NULL;
		gnutls_certificate_free_credentials(cred_of[h]);
		cred_of[h] = NULL;
	}
#endif
	if (h >= 0)
		close(h);
}

bool it_stream_settle(int timeout_ms)
{
#if LISPMS_HAVE_SCTP
	uint64_t end = it_now_ns() + (uint64_t)timeout_ms * 1000000u;
	while (sctp_nending > 0 && it_now_ns() < end)
		sctp_pump(1);
	return sctp_nending == 0;
#else
	(void)timeout_ms;
	return true;
#endif
}
