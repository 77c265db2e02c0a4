# SPDX-License-Identifier: MIT
# Shared by tools/test, tools/run and .ci/run: where the tree is, how to
# print progress, and how to install missing Debian 12 packages.

LISPMS_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
export LISPMS_ROOT

# Build and unit-test dependencies (../shared/TOOLCHAIN.md §0). libsystemd-dev
# is optional for the build (sd_notify readiness); installed so tests cover it.
# libipsec-mb-dev (x86-64) gives the batched multi-buffer HMAC (meson feature
# ipsec_mb); without it OpenSSL computes every HMAC, with the same results.
# GnuTLS gives TLS 1.3 over TCP (meson feature tls) and, with ngtcp2 0.12 (its
# GnuTLS crypto backend), the QUIC transport (meson feature quic). libusrsctp-dev (0.9.5) is SCTP in
# user space over UDP encapsulation (meson feature sctp; docs/protocol.md D18).
LISPMS_BUILD_PKGS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev \
liburcu-dev libjemalloc-dev libcriterion-dev libssl-dev libyaml-dev libmicrohttpd-dev \
libsystemd-dev libipsec-mb-dev libgnutls28-dev libngtcp2-dev libngtcp2-crypto-gnutls-dev \
libusrsctp-dev"
# What the test suite drives or checks against. prometheus brings promtool
# (checks /metrics) and the server tools/prometheus-smoke scrapes with (332 MB).
# ethtool turns off veth checksum offload in the DPDK fast path's netns test;
# ping crosses its exception path (fastpath_exception.sh). gnuplot-nox draws
# bench/report's plots (integration.report); groff-base, man-db and
# bash-completion check the manual pages and the completion (tests/man.sh).
# gnutls-bin brings certtool (deploy/tls/make-test-ca.sh, TLS and QUIC tests).
LISPMS_TEST_PKGS="tshark iproute2 python3 curl prometheus ethtool iputils-ping gnuplot-nox \
groff-base man-db bash-completion gnutls-bin"
# tests/package.sh (a CI step): build the Debian packages, lint them, install
# them into a fresh Debian 12 root. The build dependencies are LISPMS_BUILD_PKGS.
LISPMS_PACKAGE_PKGS="dpkg-dev debhelper devscripts lintian debootstrap fakeroot groff-base"
# What lispmsd needs at run time (without DPDK): deploy/Dockerfile's image
# installs exactly these; tests/deploy.sh checks both against the shared
# libraries lispmsd is linked with.
LISPMS_RUNTIME_PKGS="liburcu8 libjemalloc2 libssl3 libyaml-0-2 libmicrohttpd12 libsystemd0 libipsec-mb1 libgnutls30 libngtcp2-9 libngtcp2-crypto-gnutls2 libusrsctp2"

say() {
    printf '==> %s\n' "$*"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# ensure_packages PKG...: install what is missing, quietly when nothing is.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get (lispms targets Debian 12)"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "missing packages ${missing[*]}: run as root or install sudo"
        sudo=(sudo)
    fi
    say "installing ${missing[*]}"
    local log
    log=$(mktemp /tmp/lispms-apt.XXXXXX)
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${sudo[@]}" apt-get update -qq &&
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "apt-get could not install ${missing[*]} (log: $log)"
    fi
    rm -f "$log"
}

# meson_configure DIR ARGS...: set up DIR, or reconfigure it with ARGS.
meson_configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@" >/dev/null || return 1
    else
        meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
            cat "$dir.setup.log" >&2
            return 1
        }
    fi
}
