/* SPDX-License-Identifier: MIT */
/*
 * TLS credentials for the stream transports (TLS over TCP, QUIC; docs/protocol.md
 * D17, D19): a GnuTLS certificate-credentials object built from a PEM
 * certificate chain, its private key and, optionally, a PEM bundle of CAs
 * that client certificates must chain to.
 *
 * Threads: load on the control thread (start-up, reload); a loaded
 * credential is read-only and shared by every worker's sessions (GnuTLS
 * allows concurrent use of one credentials object). It is reference
 * counted so a reload can rotate it: the loader, each transport source that
 * hands it to new handshakes and each session built on it hold a reference
 * (tls_cred_ref), dropped with tls_cred_free from any thread; the last one
 * frees it, so open sessions keep the credentials they were made with.
 * Errors: LISPMS_ECONFIG with a message naming the file and GnuTLS's reason
 * in `err`; LISPMS_ENOMEM.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>

struct tls_cred {
	gnutls_certificate_credentials_t cred;
	bool verify_client;    /* a client-ca was given: client certificates required */
	_Atomic unsigned refs; /* 1 from tls_cred_load */
};

/* Load `cert` (PEM chain, leaf first) and `key` (PEM private key);
 * `client_ca` may be NULL. On failure *out is untouched and `err` says
 * which file failed and why. */
int tls_cred_load(struct tls_cred **out, const char *cert, const char *key, const char *client_ca,
		  char *err, size_t errlen);

/* Ask for and (when a client-ca was given) require a client certificate on
 * a server session using `c`. Returns 0 or a negative LISPMS_E* code. */
int tls_cred_set_session(const struct tls_cred *c, gnutls_session_t s);

/* Check the peer's certificate after the handshake (client-ca only; always
 * true without one). */
bool tls_cred_peer_ok(const struct tls_cred *c, gnutls_session_t s);

/* One more holder of `c` (may be NULL); returns c. */
const struct tls_cred *tls_cred_ref(const struct tls_cred *c);

/* Drop a reference (NULL: nothing); the last one frees. */
void tls_cred_free(const struct tls_cred *c);
