/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "it_stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#if IT_HAVE_TLS
#include <gnutls/gnutls.h>
#endif

static const char *const names[IT_TRANSPORT_MAX] = { [IT_TCP] = "tcp", [IT_TLS] = "tls" };

/* TLS: a handle is its socket; its GnuTLS session is kept here by fd. */
#define IT_MAX_FD 16384
#if IT_HAVE_TLS
static gnutls_session_t tls_of[IT_MAX_FD];

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
	/* credentials outlive the session: one leak per connection, in tests only */
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
	return true;
fail:
	if (s)
		gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	return false;
}
#else
static void *sess_of(int h)
{
	(void)h;
	return NULL;
}
#endif

bool it_transport_parse(const char *name, enum it_transport *t)
{
	for (int i = 0; i < IT_TRANSPORT_MAX; i++)
		if (strcmp(name, names[i]) == 0 && (i != IT_TLS || IT_HAVE_TLS)) {
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
	struct pollfd p = { .fd = h, .events = POLLOUT };
	return poll(&p, 1, timeout_ms) == 1;
}

uint16_t it_stream_local_port(int h)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	if (getsockname(h, (struct sockaddr *)&a, &l) != 0)
		return 0;
	return ntohs(a.sin_port);
}

void it_stream_close(int h)
{
#if IT_HAVE_TLS
	gnutls_session_t s = sess_of(h);
	if (s != NULL) {
		(void)gnutls_bye(s, GNUTLS_SHUT_WR); /* close_notify, as a good client */
		gnutls_deinit(s);
		tls_of[h] = NULL;
	}
#endif
	if (h >= 0)
		close(h);
}
