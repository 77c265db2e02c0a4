#!/bin/sh
# SPDX-License-Identifier: MIT
# make-test-keys.sh DIR [NAME...]: throw-away RSA keys for signed
# Map-Referrals (RFC 8111, docs/protocol.md D24) in tests and lab set-ups:
# for each NAME (default: root node ms) NAME.key, the private key for
# `ddt.signing-key` (2048-bit RSA, unencrypted, mode 600), and NAME.pub, its
# public half for a resolver's `map-resolver.trust-anchors` or
# `delegation-keys`. Never reuse them in production: keep a real node's
# private key on that node only. Needs openssl (or certtool, gnutls-bin).
set -eu

dir=${1:?usage: make-test-keys.sh DIR [NAME...]}
shift
[ $# -gt 0 ] || set -- root node ms
mkdir -p "$dir"
umask 077
for name in "$@"; do
    key=$dir/$name.key
    if command -v openssl >/dev/null; then
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
        openssl pkey -in "$key" -pubout -out "$dir/$name.pub"
    elif command -v certtool >/dev/null; then
        certtool --generate-privkey --key-type=rsa --bits=2048 --no-text --outfile "$key" \
            2>/dev/null
        certtool --load-privkey "$key" --pubkey-info --no-text --outfile "$dir/$name.pub"
    else
        echo "make-test-keys.sh: neither openssl nor certtool found" >&2
        exit 1
    fi
    chmod 644 "$dir/$name.pub"
    echo "$key $dir/$name.pub"
done
