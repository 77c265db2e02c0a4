/* SPDX-License-Identifier: MIT */
#include <lispms/stream.h>

const char *stream_transport_name(enum stream_transport t)
{
	static const char *const names[STREAM_TRANSPORT_MAX] = {
		[STREAM_TCP] = "tcp",
		[STREAM_TLS] = "tls",
		[STREAM_QUIC] = "quic",
		[STREAM_SCTP] = "sctp",
	};
	return (unsigned)t < STREAM_TRANSPORT_MAX ? names[t] : "?";
}

const char *stream_close_cause_name(enum stream_close_cause why)
{
	static const char *const names[STREAM_CLOSE_CAUSE_MAX] = {
		[STREAM_CLOSE_PEER] = "peer",	      [STREAM_CLOSE_TIMEOUT] = "timeout",
		[STREAM_CLOSE_ERROR] = "error",	      [STREAM_CLOSE_SLOW] = "slow",
		[STREAM_CLOSE_SHUTDOWN] = "shutdown", [STREAM_CLOSE_ABORT] = "abort",
	};
	return (unsigned)why < STREAM_CLOSE_CAUSE_MAX ? names[why] : "?";
}
