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
#
# KEY_TYPE (environment) picks the key type of all three keys, an
# operator's choice: "ecdsa" (the default, ECDSA on NIST P-256) or
# "ed25519" (EdDSA; TLS 1.3 only, which is all lispmsd speaks, and
# cheaper to sign with: see bench/README.md, h58). Anything else is refused.
set -eu

dir=${1:?usage: make-test-ca.sh DIR [SERVER-NAME]}
name=${2:-localhost}
key_type=${KEY_TYPE:-ecdsa}
case $key_type in
ecdsa) key_args="--key-type=ecdsa --curve=secp256r1" ;;
ed25519) key_args="--key-type=ed25519" ;;
*)
    echo "make-test-ca.sh: KEY_TYPE must be ecdsa or ed25519, not '$key_type'" >&2
    exit 1
    ;;
esac
command -v certtool >/dev/null || {
    echo "make-test-ca.sh: certtool not found (apt-get install gnutls-bin)" >&2
    exit 1
}
mkdir -p "$dir"
cd "$dir"
umask 077

gen_key() {
    # shellcheck disable=SC2086 # $key_args: several options, split on blanks
    certtool --generate-privkey $key_args --outfile "$1" 2>/dev/null
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
echo "test CA, server ($name) and client certificates ($key_type) in $PWD"
