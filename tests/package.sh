#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian packages end to end (prints TAP; needs root and the Debian mirror):
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree builds lispms and
#      lispms-bench; lintian finds no error (its warnings are printed);
#   2. what they hold: binaries, unit, conffile, sysusers, manuals,
#      completion; lispms's Depends are LISPMS_RUNTIME_PKGS (tools/lib/common.sh);
#   3. a fresh Debian 12 root (debootstrap --variant=minbase, cached as a
#      tarball in $LISPMS_CACHE_DIR, default /var/cache/lispms) installs both
#      with apt from the mirror this machine uses: the user lispms exists, the
#      configuration is root:lispms 0640; systemd-analyze verify passes on the
#      installed unit;
#   4. lispmsd --check on /etc/lispms/lispms.yaml; lispmsd started from the
#      unit's own ExecStart= as the unit's User=, in a network namespace of
#      its own (nothing else on the machine sees its ports), answers: lispms-bench
#      registers EIDs and looks one up with lig; lispmsctl status shows the
#      build's features; SIGTERM stops it with status 0;
#   5. apt-get remove keeps the conffile, purge removes it and the package
#      state; lispms-bench removes cleanly.
#
#   tests/package.sh [--dpdk] [--keep]
# --dpdk builds with the profile pkg.lispms.dpdk (installs libdpdk-dev; the
# package then depends on DPDK's libraries) and checks lispmsd --version says
# so. --keep keeps the work directory. LISPMS_DEBIAN_MIRROR overrides the
# mirror debootstrap uses (default: http://deb.debian.org/debian).
set -u
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/tools/lib/common.sh"
dpdk=no
keep=no
while [ $# -gt 0 ]; do
    case $1 in
    --dpdk) dpdk=yes; shift ;;
    --keep) keep=yes; shift ;;
    -h | --help) sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--dpdk] [--keep]" >&2; exit 2 ;;
    esac
done
mirror=${LISPMS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${LISPMS_CACHE_DIR:-/var/cache/lispms}
work=$(mktemp -d /tmp/lispms-package.XXXXXX)
chroot_dir=$work/root
. "$root/tests/support/lib.sh"
bail() {
    ok 1 "$1"
    exit 1
}
cleanup() {
    mountpoint -q "$chroot_dir/proc" && umount "$chroot_dir/proc"
    echo "1..$n"
    if [ "$failed" -eq 0 ] && [ $keep = no ]; then rm -rf "$work"; else echo "# kept $work"; fi
}
trap cleanup EXIT
echo "TAP version 13"
[ "$(id -u)" -eq 0 ] || bail "root is needed (debootstrap, chroot, unshare)"
for t in dpkg-buildpackage lintian debootstrap unshare; do
    command -v $t >/dev/null 2>&1 || bail "$t is missing (tools/lib/common.sh: LISPMS_PACKAGE_PKGS)"
done
[ $dpdk = no ] || ensure_packages libdpdk-dev

# ---- 1. build in a copy of the tree (dpkg-buildpackage writes beside it)
version=$(sed -n '1s/^lispms (\([^)]*\)).*/\1/p' "$root/debian/changelog")
meson_version=$(sed -n "s/^  version: '\([^']*\)',/\1/p" "$root/meson.build")
[ -n "$version" ] && [ "$version" = "$meson_version" ]
ok $? "debian/changelog's version $version is meson's $meson_version"
src=$work/lispms-$version
mkdir -p "$src"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -P -t "$src" 2>/dev/null ||
    tar -C "$root" --exclude='./build*' --exclude=./.git -c . | tar -C "$src" -x)
profiles=()
[ $dpdk = no ] || profiles=(-Ppkg.lispms.dpdk)
start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b "${profiles[@]}") >"$work/build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$work/build.log" | sed 's/^/# /'
ok $rc "dpkg-buildpackage -us -uc -b ${profiles[*]} ($(($(date +%s) - start)) s)"
[ $rc -eq 0 ] || exit 1
arch=$(dpkg --print-architecture)
deb=$work/lispms_${version}_$arch.deb
benchdeb=$work/lispms-bench_${version}_$arch.deb
changes=$work/lispms_${version}_$arch.changes

lintian --fail-on error --tag-display-limit 0 "$changes" >"$work/lintian.log" 2>&1
rc=$?
sed 's/^/# /' "$work/lintian.log"
ok $rc "lintian finds no error ($(grep -c '^W:' "$work/lintian.log") warnings, docs/packaging.md explains them)"

# ---- 2. contents
contents() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|'; }
m=
for f in /usr/sbin/lispmsd /usr/sbin/lispmsctl /lib/systemd/system/lispmsd.service \
    /etc/lispms/lispms.yaml /usr/lib/sysusers.d/lispms.conf /usr/share/man/man8/lispmsd.8.gz \
    /usr/share/man/man8/lispmsctl.8.gz /usr/share/man/man5/lispms.yaml.5.gz \
    /usr/share/bash-completion/completions/lispmsctl /usr/share/doc/lispms/copyright \
    /usr/share/doc/lispms/configuration.md.gz; do
    contents "$deb" | grep -qx "$f" || m="$m $f"
done
for f in /usr/bin/lispms-bench /usr/share/man/man1/lispms-bench.1.gz \
    /usr/share/bash-completion/completions/lispms-bench; do
    contents "$benchdeb" | grep -qx "$f" || m="$m $f"
done
[ -z "$m" ]
ok $? "the packages hold the binaries, unit, sysusers, manuals and completion${m:+ (missing:$m)}"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles 2>/dev/null | grep -qx /etc/lispms/lispms.yaml
ok $? "/etc/lispms/lispms.yaml is a conffile"
grep -q '^ExecStart=/usr/sbin/lispmsd ' <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/lispmsd.service)
ok $? "the packaged unit runs /usr/sbin/lispmsd"

depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | grep . |
    grep -vxE 'libc6|systemd|procps' | sort -u | tr '\n' ' ')
runtime=$(echo $LISPMS_RUNTIME_PKGS | tr ' ' '\n' | sort -u | tr '\n' ' ')
echo "# Depends: $(dpkg-deb -f "$deb" Depends)"
if [ $dpdk = no ]; then
    [ "$depends" = "$runtime" ]
    ok $? "lispms depends on LISPMS_RUNTIME_PKGS exactly ($depends)"
else
    m=
    for p in $runtime; do echo " $depends " | grep -q " $p " || m="$m $p"; done
    echo "$depends" | grep -q librte- && [ -z "$m" ]
    ok $? "lispms (DPDK) depends on LISPMS_RUNTIME_PKGS and DPDK's libraries${m:+ (missing:$m)}"
fi

# ---- 3. a fresh Debian 12 root
tarball=$cache/debootstrap-bookworm-minbase.tar
mkdir -p "$cache" "$chroot_dir"
if [ ! -s "$tarball" ]; then
    start=$(date +%s)
    debootstrap --variant=minbase bookworm "$work/bootstrap" "$mirror" >"$work/debootstrap.log" 2>&1 &&
        tar -C "$work/bootstrap" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rc=$?
    [ $rc -eq 0 ] || tail -n 20 "$work/debootstrap.log" | sed 's/^/# /'
    rm -rf "$work/bootstrap"
    ok $rc "debootstrap --variant=minbase bookworm $mirror ($(($(date +%s) - start)) s, cached in $tarball)"
else
    ok 0 "a cached Debian 12 root ($tarball, $(date -r "$tarball" -u +%F))"
fi
tar -C "$chroot_dir" -xf "$tarball" || bail "cannot unpack $tarball"
# the sources the host uses (bookworm, -updates, -security), when it has them
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    cp /etc/apt/sources.list.d/*.sources "$chroot_dir/etc/apt/sources.list.d/"
    : >"$chroot_dir/etc/apt/sources.list"
fi
[ -s /etc/apt/sources.list ] && cp /etc/apt/sources.list "$chroot_dir/etc/apt/sources.list"
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$chroot_dir/usr/sbin/policy-rc.d" # no daemons started by apt
chmod 0755 "$chroot_dir/usr/sbin/policy-rc.d"
mount -t proc proc "$chroot_dir/proc"
in_root() { chroot "$chroot_dir" "$@"; }
cp "$deb" "$benchdeb" "$chroot_dir/tmp/"
start=$(date +%s)
in_root env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends /tmp/$(basename "$deb") /tmp/$(basename "$benchdeb")" \
    >"$work/install.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$work/install.log" | sed 's/^/# /'
ok $rc "apt-get install of both packages in the fresh root ($(($(date +%s) - start)) s)"
[ $rc -eq 0 ] || exit 1

in_root id lispms >"$work/id.log" 2>&1 &&
    [ "$(in_root stat -c '%U:%G %a' /etc/lispms/lispms.yaml)" = "root:lispms 640" ] &&
    [ "$(in_root stat -c '%U:%G %a' /etc/lispms)" = "root:lispms 750" ]
ok $? "the user lispms exists ($(cat "$work/id.log")); /etc/lispms is root:lispms 0750, the file 0640"

in_root systemd-analyze verify /lib/systemd/system/lispmsd.service >"$work/verify.log" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -v 'Cannot add dependency job' "$work/verify.log" | grep -q . && rc=1
sed 's/^/# /' "$work/verify.log"
ok $rc "systemd-analyze verify lispmsd.service (installed)"

out=$(in_root lispmsd --check -c /etc/lispms/lispms.yaml 2>&1)
ok $? "lispmsd --check -c /etc/lispms/lispms.yaml: $out"

# ---- 4. lispmsd as the unit starts it, in its own network namespace
unit=$chroot_dir/lib/systemd/system/lispmsd.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
group=$(sed -n 's/^Group=//p' "$unit")
runtime_dir=$(sed -n 's/^RuntimeDirectory=//p' "$unit")
runtime_mode=$(sed -n 's/^RuntimeDirectoryMode=//p' "$unit")
echo "# ExecStart=$exec_start User=$user Group=$group RuntimeDirectory=$runtime_dir"
[ -n "$exec_start" ] && [ -n "$user" ] && [ -n "$runtime_dir" ] || bail "the unit lacks ExecStart=, User= or RuntimeDirectory="
install -d -m "${runtime_mode:-0755}" "$chroot_dir/run/$runtime_dir"
in_root chown "$user:$group" "/run/$runtime_dir"
unshare -n env CHROOT="$chroot_dir" EXEC_START="$exec_start" USERSPEC="$user:$group" \
    WORK="$work" bash -s >"$work/run.log" 2>&1 <<'EOF'
set -u
ip link set lo up
result() { echo "RESULT $1 $2"; }
# shellcheck disable=SC2086 # ExecStart's words
chroot --userspec="$USERSPEC" "$CHROOT" $EXEC_START >"$WORK/lispmsd.log" 2>&1 &
pid=$!
up=1
for _ in $(seq 100); do
    grep -q "serving udp" "$WORK/lispmsd.log" && { up=0; break; }
    sleep 0.1
done
result serving $up
chroot "$CHROOT" lispms-bench register --etrs 2 --eids-per-etr 4 --iid 1000 --secret change-me \
    --server 127.0.0.1:4342 --count 8 --duration 10 --json >"$WORK/register.json" 2>&1
result register $?
chroot "$CHROOT" lispms-bench lig '[1000] 10.0.0.5' --server 127.0.0.1 >"$WORK/lig.log" 2>&1
result lig $?
chroot "$CHROOT" lispmsctl status >"$WORK/status.log" 2>&1
result status $?
kill -TERM $pid
wait $pid
result stop $?
EOF
res() { sed -n "s/^RESULT $1 //p" "$work/run.log"; }
sed 's/^/# /' "$work/run.log" | grep -v RESULT
[ "$(res serving)" = 0 ]
ok $? "lispmsd runs from the unit's ExecStart= as $user ($(grep -m1 'serving udp' "$work/lispmsd.log" | sed 's/.*daemon, //'))"
got=$(tail -n 1 "$work/register.json" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
[ "$(res register)" = 0 ] && [ "${got:-0}" -ge 8 ]
ok $? "lispms-bench register: $got Map-Notifies for the example site"
sed 's/^/# /' "$work/lig.log"
[ "$(res lig)" = 0 ] && grep -q '^Map-Reply from' "$work/lig.log" &&
    grep -qE 'EID prefix +.*10\.0\.0\.5' "$work/lig.log" && grep -qE 'locators +[1-9]' "$work/lig.log"
ok $? "lispms-bench lig '[1000] 10.0.0.5' gets the registered mapping"
sed 's/^/# /' "$work/status.log"
[ "$(res status)" = 0 ] && grep -qE '^ *dpdk: *(yes|no)$' "$work/status.log" &&
    grep -qE '^ *jemalloc: *yes$' "$work/status.log"
ok $? "lispmsctl status shows the build's features"
if [ $dpdk = yes ]; then
    in_root lispmsd --version | grep -qE '^  dpdk +yes'
    ok $? "lispmsd --version: dpdk yes"
fi
[ "$(res stop)" = 0 ] && grep -q "daemon, stopped" "$work/lispmsd.log"
ok $? "SIGTERM stops lispmsd with status 0"

# ---- 5. remove keeps the conffile, purge removes it
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq lispms >"$work/remove.log" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -e "$chroot_dir/usr/sbin/lispmsd" ] && [ -f "$chroot_dir/etc/lispms/lispms.yaml" ] &&
    in_root dpkg-query -W -f='${db:Status-Abbrev}' lispms | grep -q '^rc'
ok $? "apt-get remove lispms: binaries gone, /etc/lispms/lispms.yaml kept (state rc)"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq lispms >>"$work/remove.log" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -e "$chroot_dir/etc/lispms/lispms.yaml" ] &&
    ! in_root dpkg-query -W lispms >/dev/null 2>&1
ok $? "apt-get purge lispms removes the conffile and the package state"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq lispms-bench >>"$work/remove.log" 2>&1 &&
    [ ! -e "$chroot_dir/usr/bin/lispms-bench" ]
ok $? "apt-get purge lispms-bench"
[ $failed -eq 0 ] || tail -n 20 "$work/remove.log" | sed 's/^/# /'
[ $failed -eq 0 ]
