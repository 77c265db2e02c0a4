#!/bin/sh
# SPDX-License-Identifier: MIT
# make-test-ca.sh DIR [SERVER-NAME]: a throw-away test CA with a server and a
# client certificate, for TLS over TCP and QUIC (server.tls, server.quic) in
# tests and lab set-ups. Never use these in production: the keys are
# unprotected and the CA signs whatever this script asks.
#
# Writes into DIR: ca.pem ca-key.pem (the CA), server.pem server-key.pem
# (server certificate for SERVER-NAME, default "localhost", with the
# addresses 127.0.0.1 and ::1), client.pem client-key.pem (a client
# certificate, for client-ca). Needs certtool (Debian package gnutls-bin).
set -eu

dir=${1:?usage: make-test-ca.sh DIR [SERVER-NAME]}
name=${2:-localhost}
command -v certtool >/dev/null || {
    echo "make-test-ca.sh: certtool not found (apt-get install gnutls-bin)" >&2
    exit 1
}
mkdir -p "$dir"
cd "$dir"
umask 077

gen_key() {
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$1" 2>/dev/null
}

cat >ca.tmpl <<T
cn = "lispms test CA"
ca
cert_signing_key
expiration_days = 30
T
gen_key ca-key.pem
certtool --generate-self-signed --load-privkey ca-key.pem --template ca.tmpl \
    --outfile ca.pem 2>/dev/null

cat >server.tmpl <<T
cn = "$name"
dns_name = "$name"
ip_address = "127.0.0.1"
ip_address = "::1"
tls_www_server
signing_key
expiration_days = 30
T
gen_key server-key.pem
certtool --generate-certificate --load-privkey server-key.pem --load-ca-certificate ca.pem \
    --load-ca-privkey ca-key.pem --template server.tmpl --outfile server.pem 2>/dev/null

cat >client.tmpl <<T
cn = "lispms test client"
tls_www_client
signing_key
expiration_days = 30
T
gen_key client-key.pem
certtool --generate-certificate --load-privkey client-key.pem --load-ca-certificate ca.pem \
    --load-ca-privkey ca-key.pem --template client.tmpl --outfile client.pem 2>/dev/null

rm -f ca.tmpl server.tmpl client.tmpl
chmod 644 ca.pem server.pem client.pem
echo "test CA, server ($name) and client certificates in $PWD"
