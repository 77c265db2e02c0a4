/* SPDX-License-Identifier: MIT */
/* SCTP over UDP encapsulation: the client side of one association (sctp.h),
 * for the tests and lispms-bench, on sctp_stack.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include <usrsctp.h>

#include <lispms/err.h>

#include "sctp.h"
#include "sctp_stack.h"

struct sctp_client {
	struct sctp_lower low;
	struct socket *so;
	bool up, eof;
	bool refused; /* an ICMP port unreachable before the association was up */
	uint8_t buf[65536];
};

struct sctp_client *sctp_client_new(int fd, uint16_t port)
{
	sctp_stack_init();
	struct sctp_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->low = (struct sctp_lower){ .kind = SCTP_LOWER_CLIENT, .fd = fd };
	if (sctp_stack_register(&c->low, 0) != LISPMS_EOK) {
		free(c);
		return NULL;
	}
	c->so = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	struct sockaddr_conn sc = { .sconn_family = AF_CONN,
				    .sconn_addr = sctp_stack_addr(&c->low) };
	struct sockaddr_conn dst = sc;
	dst.sconn_port = htons(port);
	if (c->so == NULL || sctp_stack_sock_setup(c->so, 0, 0) != 0 ||
	    usrsctp_bind(c->so, (struct sockaddr *)&sc, sizeof(sc)) != 0 ||
	    (usrsctp_connect(c->so, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
	     errno != EINPROGRESS)) {
		int e = errno;
		if (c->so)
			usrsctp_close(c->so);
		sctp_stack_deregister(&c->low);
		free(c);
		errno = e;
		return NULL;
	}
	return c;
}

int sctp_client_input(struct sctp_client *c)
{
	int n = 0;
	for (; n < 256; n++) {
		ssize_t r = recv(c->low.fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (r < 0 && errno == ECONNREFUSED && !sctp_client_up(c)) {
			/* ICMP port unreachable before the association is up:
			 * nothing listens there; end it now, not after INIT's
			 * timeouts (afterwards one is ignored: it may be forged) */
			c->eof = c->refused = true;
			break;
		}
		if (r < 0)
			break;
		sctp_stack_input(&c->low, c->buf, (size_t)r);
	}
	return n;
}

bool sctp_client_up(struct sctp_client *c)
{
	if (!c->up) { /* the association's state, without reading its data */
		struct sctp_status st;
		socklen_t l = sizeof(st);
		if (usrsctp_getsockopt(c->so, IPPROTO_SCTP, SCTP_STATUS, &st, &l) == 0 &&
		    st.sstat_state == SCTP_ESTABLISHED)
			c->up = true;
	}
	return c->up;
}

ssize_t sctp_client_send(struct sctp_client *c, uint16_t sid, const void *buf, size_t len)
{
	struct sctp_sndinfo si = { .snd_sid = sid };
	ssize_t n = usrsctp_sendv(c->so, buf, len, NULL, 0, &si, sizeof(si), SCTP_SENDV_SNDINFO, 0);
	if (n <= 0 && c->up) { /* the server's ABORT or SHUTDOWN: say so */
		struct sctp_status st;
		socklen_t l = sizeof(st);
		if (usrsctp_getsockopt(c->so, IPPROTO_SCTP, SCTP_STATUS, &st, &l) != 0 ||
		    st.sstat_state != SCTP_ESTABLISHED) {
			errno = ECONNRESET;
			return -1;
		}
		if (n == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
	return n;
}

ssize_t sctp_client_recv(struct sctp_client *c, void *buf, size_t len)
{
	for (;;) {
		if (c->refused) {
			errno = ECONNREFUSED;
			return -1;
		}
		if (c->eof)
			return 0;
		struct sctp_rcvinfo ri;
		socklen_t il = sizeof(ri), fl = 0;
		unsigned it = 0;
		int flags = 0;
		ssize_t n = usrsctp_recvv(c->so, buf, len, NULL, &fl, &ri, &il, &it, &flags);
		if (n < 0) {
			if (errno == EWOULDBLOCK || errno == EAGAIN)
				return -1;
			c->eof = true;
			return 0;
		}
		if (n == 0) {
			c->eof = true;
			return 0;
		}
		if (flags & MSG_NOTIFICATION) {
			const union sctp_notification *sn = buf;
			if ((size_t)n >= sizeof(sn->sn_assoc_change) &&
			    sn->sn_header.sn_type == SCTP_ASSOC_CHANGE) {
				uint16_t st = sn->sn_assoc_change.sac_state;
				if (st == SCTP_COMM_UP)
					c->up = true;
				else if (st == SCTP_COMM_LOST || st == SCTP_SHUTDOWN_COMP ||
					 st == SCTP_CANT_STR_ASSOC)
					c->eof = true;
			}
			continue;
		}
		return n;
	}
}

void sctp_client_shutdown(struct sctp_client *c)
{
	if (sctp_client_up(c))
		usrsctp_shutdown(c->so, SHUT_WR);
	else
		c->eof = true; /* never up: nothing to end */
}

bool sctp_client_ended(struct sctp_client *c)
{
	uint8_t b[256];
	while (!c->eof && sctp_client_recv(c, b, sizeof(b)) >= 0)
		; /* what comes after the SHUTDOWN is discarded */
	return c->eof;
}

void sctp_client_free(struct sctp_client *c)
{
	if (c == NULL)
		return;
	usrsctp_shutdown(c->so, SHUT_WR); /* the SHUTDOWN goes out now */
	usrsctp_close(c->so);
	sctp_stack_deregister(&c->low);
	free(c);
}
