#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Mobility churn (issue 6/8): ETRS ETRs with PER EIDs each converge, then
# EIDs move between ETRs at each of RATES moves/s for 5 s (latency from the move's
# registration to the displaced ETR's notification: a Mapping Notification
# on its session, or a UDP Map-Notify), then withdraw / re-register churn at
# the same rate for 5 s (latency to the ACK). With every ETR on a session at
# each rate, then with half of them on UDP soft state at the first rate.
# Aim (reliable): >= 50,000 moves/s, p99 < 5 ms. Prints JSON lines.
#
#   bench/mobility.sh [BUILD_DIR] [ETRS] [PER] ["RATES"] [THREADS]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
etrs=${2:-10000}
per=${3:-100}
rates=${4:-10000 50000}
threads=${5:-1}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bench_meta mobility.sh "$@"
runs=()
for r in $rates; do runs+=("0 $r"); done
runs+=("0.5 ${rates%% *}")
for run in "${runs[@]}"; do
    read -r share rate <<<"$run"
    port=$(bench_port)
    bench_conf "$dir/lispms.yaml" "$port"
    pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
    name=mobility_reliable_$rate
    [ "$share" = 0 ] || name=mobility_half_udp_$rate
    "$build/tools/lispms-bench" fabric --server "127.0.0.1:$port" --etrs "$etrs" \
        --eids-per-etr "$per" --udp-share "$share" --threads "$threads" \
        --moves $((rate * 5)) --move-rate "$rate" --move-seconds 5 \
        --churn $((rate * 5 / 2)) --churn-rate "$rate" --churn-seconds 5 \
        --duration 120 --json --quiet --case "$name" | sed "s/}\$/,\"load1\":$(bench_load)}/" || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    rm -f "$dir/ctl.sock"
done
