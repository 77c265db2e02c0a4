/* SPDX-License-Identifier: MIT */
#include "tls_cred.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include <lispms/err.h>
#include <lispms/net.h>

/* GnuTLS says "Error while reading file." for a missing file: say why. */
static int cred_file_err(char *err, size_t errlen, const char *what, const char *path, int gerr)
{
	if (access(path, R_OK) != 0)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	else
		snprintf(err, errlen, "%s %s: %s", what, path, gnutls_strerror(gerr));
	return LISPMS_ECONFIG;
}

int tls_cred_load(struct tls_cred **out, const char *cert, const char *key, const char *client_ca,
		  char *err, size_t errlen)
{
	if (!cert || !key) {
		snprintf(err, errlen, "TLS needs both a certificate and a key");
		return LISPMS_ECONFIG;
	}
	struct tls_cred *c = calloc(1, sizeof(*c));
	if (!c)
		return LISPMS_ENOMEM;
	if (gnutls_certificate_allocate_credentials(&c->cred) < 0) {
		free(c);
		return LISPMS_ENOMEM;
	}
	int rc = LISPMS_EOK;
	/* Read the certificate alone first so that an error names the right
	 * file (the pair call says only that one of them failed). */
	gnutls_datum_t d;
	int g = gnutls_load_file(cert, &d);
	if (g < 0) {
		rc = cred_file_err(err, errlen, "certificate", cert, g);
		goto fail;
	}
	gnutls_x509_crt_t crt[16];
	unsigned int ncrt = 16;
	g = gnutls_x509_crt_list_import(crt, &ncrt, &d, GNUTLS_X509_FMT_PEM, 0);
	gnutls_free(d.data);
	if (g < 0 || ncrt == 0) {
		snprintf(err, errlen, "certificate %s: %s", cert,
			 g < 0 ? gnutls_strerror(g) : "no PEM certificate in the file");
		rc = LISPMS_ECONFIG;
		goto fail;
	}
	for (unsigned int i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crt[i]);
	g = gnutls_load_file(key, &d);
	if (g < 0) {
		rc = cred_file_err(err, errlen, "key", key, g);
		goto fail;
	}
	gnutls_x509_privkey_t pk;
	gnutls_x509_privkey_init(&pk);
	g = gnutls_x509_privkey_import(pk, &d, GNUTLS_X509_FMT_PEM);
	gnutls_x509_privkey_deinit(pk);
	gnutls_free(d.data);
	if (g < 0) {
		snprintf(err, errlen, "key %s: %s", key, gnutls_strerror(g));
		rc = LISPMS_ECONFIG;
		goto fail;
	}
	g = gnutls_certificate_set_x509_key_file(c->cred, cert, key, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		snprintf(err, errlen, "certificate %s with key %s: %s", cert, key,
			 gnutls_strerror(g));
		rc = LISPMS_ECONFIG;
		goto fail;
	}
	if (client_ca) {
		g = gnutls_certificate_set_x509_trust_file(c->cred, client_ca, GNUTLS_X509_FMT_PEM);
		if (g <= 0) {
			if (g == 0)
				snprintf(err, errlen,
					 "client-ca %s: no PEM certificate in the file", client_ca);
			else
				cred_file_err(err, errlen, "client-ca", client_ca, g);
			rc = LISPMS_ECONFIG;
			goto fail;
		}
		c->verify_client = true;
	}
	atomic_init(&c->refs, 1);
	*out = c;
	return LISPMS_EOK;
fail:
	gnutls_certificate_free_credentials(c->cred);
	free(c);
	return rc;
}

int tls_cred_set_session(const struct tls_cred *c, gnutls_session_t s)
{
	if (gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, c->cred) < 0)
		return LISPMS_EINTERNAL;
	if (c->verify_client) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(s, NULL, 0);
	}
	return LISPMS_EOK;
}

bool tls_cred_peer_ok(const struct tls_cred *c, gnutls_session_t s)
{
	if (!c->verify_client)
		return true;
	unsigned int status = 0;
	if (gnutls_certificate_verify_peers2(s, &status) < 0)
		return false;
	return status == 0;
}

int net_tls_cred_load(struct tls_cred **out, const char *cert, const char *key,
		      const char *client_ca, char *err, size_t errlen)
{
	return tls_cred_load(out, cert, key, client_ca, err, errlen);
}

void net_tls_cred_free(const struct tls_cred *c)
{
	tls_cred_free(c);
}

const struct tls_cred *tls_cred_ref(const struct tls_cred *c)
{
	if (c != NULL)
		atomic_fetch_add_explicit(&((struct tls_cred *)c)->refs, 1, memory_order_relaxed);
	return c;
}

void tls_cred_free(const struct tls_cred *c)
{
	if (!c)
		return;
	struct tls_cred *m = (struct tls_cred *)c;
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	gnutls_certificate_free_credentials(m->cred);
	free(m);
}
