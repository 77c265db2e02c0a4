#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reliable-transport scale on loopback (issue 6): ETRS simulated ETRs with
# EIDS_PER_ETR EIDs each authenticate over UDP, open sessions and register
# (time from the first message to every record ACKed); then the sessions
# sit idle (application bytes counted) and EIDs move between ETRs (latency
# to the displaced ETR's Mapping Notification). lispmsd's RSS is sampled
# with everything registered. WORKERS server workers (default 1), THREADS
# simulator threads (default 1). Prints JSON lines.
#
#   bench/sessions.sh [BUILD_DIR] [ETRS] [EIDS_PER_ETR] [MOVE_RATE]
#
# File limit: lispmsd and lispms-bench each raise RLIMIT_NOFILE to the hard
# limit (20000 here); the simulator holds one socket per ETR, so 10,000
# sessions fit one process (beyond ~19,900, split with --first-etr).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
etrs=${2:-10000}
per=${3:-100}
rate=${4:-50000}
dir=$(mktemp -d)
pid=
fab=
trap '[ -n "$fab" ] && kill $fab 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bench_meta sessions.sh "$@"
port=$(bench_port)
bench_conf "$dir/lispms.yaml" "$port"
pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
rss0=$(bench_rss "$pid")
"$build/tools/lispms-bench" sessions --server "127.0.0.1:$port" --etrs "$etrs" \
    --eids-per-etr "$per" --threads "${THREADS:-1}" --idle 10 --moves $((rate * 5)) \
    --move-rate "$rate" --move-seconds 5 --duration 120 --json --progress \
    >"$dir/out.json" 2>"$dir/err" &
fab=$!
bench_wait_line "$dir/err" '^converged' 120 || true
sleep 3 # idle: everything registered
rss=$(bench_rss "$pid")
wait "$fab" || true
fab=
sed "s/}\$/,\"load1\":$(bench_load)}/" "$dir/out.json"
echo "{\"bench\":\"sessions\",\"case\":\"lispmsd_rss\",\"etrs\":$etrs,\"eids\":$((etrs * per)),\"rss_start_kib\":$rss0,\"rss_kib\":$rss}"
