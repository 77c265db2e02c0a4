#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reliable-transport scale on loopback (issue 6): ETRS simulated ETRs with
# EIDS_PER_ETR EIDs each authenticate over UDP, open sessions and register;
# then the sessions sit idle (application bytes counted) and EIDs move
# between ETRs (latency to the displaced ETR's Mapping Notification).
# lispmsd's RSS is sampled with everything registered. One server worker,
# one simulator thread. Prints JSON lines.
#
#   bench/sessions.sh [BUILD_DIR] [ETRS] [EIDS_PER_ETR] [MOVE_RATE]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=${1:-$root/build}
etrs=${2:-10000}
per=${3:-100}
rate=${4:-50000}
port=$((20000 + RANDOM % 20000))
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
cat >"$dir/lispms.yaml" <<CONF
server:
  listen: [127.0.0.1]
  port: $port
  workers: ${WORKERS:-1}
  registration-timeout: 3600
control:
  socket: $dir/ctl.sock
log:
  level: warning
sites:
  - name: bench
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: "bench"}]
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
    proxy-reply: true
CONF
"$build/src/daemon/lispmsd" -c "$dir/lispms.yaml" 2>"$dir/lispmsd.log" &
pid=$!
sleep 0.5
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
"$build/tools/lispms-bench" sessions --server "127.0.0.1:$port" --etrs "$etrs" \
    --eids-per-etr "$per" --idle 10 --moves $((rate * 5)) --move-rate "$rate" \
    --move-seconds 5 --duration 120 --json >"$dir/out.json" &
bench=$!
# sample the daemon's memory once everything is registered (during the idle phase)
for _ in $(seq 1 240); do
    sleep 0.5
    kill -0 "$bench" 2>/dev/null || break
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
done
wait "$bench" || true
cat "$dir/out.json"
echo "{\"bench\":\"sessions\",\"case\":\"lispmsd_rss\",\"etrs\":$etrs,\"eids\":$((etrs * per)),\"rss_start_kib\":$rss0,\"rss_kib\":${rss:-0}}"
