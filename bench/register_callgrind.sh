#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per authenticated one-record refresh in the request core
# (issue 18), counted under callgrind: ms_register_bench with N EIDs hands
# bursts of B Map-Registers to ms_handle_batch() (the only function
# instrumented), verified in place as the fast path and the kernel workers
# do (-w); the count of K2 refreshes minus that of K1, over K2 - K1, so the
# first calls' costs cancel. Independent of machine load. valgrind's CPU has
# neither SHA-NI nor AVX-512: the engine runs ipsec-mb's AVX2 lanes.
#
#   bench/register_callgrind.sh [BUILD_DIR] [N] [B]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta register_callgrind.sh "$@"
b=${1:-$root/build}
n=${2:-20000}
burst=${3:-32}
k1=64
k2=64064
count() {
    valgrind --tool=callgrind --toggle-collect=ms_handle_batch --callgrind-out-file=/dev/null \
        "$b/bench/ms_register_bench" -n "$n" -r 1 -b "$burst" -w -k "$1" 2>&1 >/dev/null |
        awk '/Collected :/ {print $NF}'
}
i1=$(count $k1)
i2=$(count $k2)
[ -n "$i1" ] && [ -n "$i2" ] || { echo "register_callgrind.sh: no count" >&2; exit 1; }
awk -v a="$i1" -v b="$i2" -v k=$((k2 - k1)) -v n="$n" -v burst="$burst" 'BEGIN {
    printf "{\"bench\":\"register_callgrind\",\"case\":\"refresh\",\"eids\":%d,\"burst\":%d,\"refreshes\":%d,\"instructions_per_registration\":%.1f}\n", n, burst, k, (b - a) / k
}'
