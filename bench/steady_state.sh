#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Steady-state traffic, UDP soft state versus reliable transport (issue 6/8):
# EIDS EIDs on ETRS ETRs converge, then nothing changes for IDLE seconds.
# Measured twice per mode: by the simulator (application bytes and messages
# of every ETR) and on the wire (dumpcap on lo, port of lispmsd, both
# directions, every frame with its IP/TCP/UDP headers, TCP keepalives
# included) over a window inside the idle phase. UDP ETRs refresh every
# INTERVAL seconds with a random phase; "udp1" sends one EID per
# Map-Register (the 1M EIDs = 17,000 re-registrations/s model), "udp100"
# packs 100. Prints JSON lines.
#
#   bench/steady_state.sh [BUILD_DIR] [EIDS] [ETRS] [IDLE] [INTERVAL]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
eids=${2:-1000000}
etrs=${3:-10000}
idle=${4:-40}
interval=${5:-60}
per=$((eids / etrs))
window=$((idle - 10))
dir=$(mktemp -d)
pid=
fab=
trap '[ -n "$fab" ] && kill $fab 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bench_meta steady_state.sh "$@"
for mode in reliable udp100 udp1; do
    case $mode in
    reliable) opts=(--udp-share 0) ;;
    udp100) opts=(--udp-share 1 --batch 100 --udp-interval "$interval") ;;
    udp1) opts=(--udp-share 1 --batch 1 --udp-interval "$interval") ;;
    esac
    port=$(bench_port)
    bench_conf "$dir/lispms.yaml" "$port"
    pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
    "$build/tools/lispms-bench" fabric --server "127.0.0.1:$port" --etrs "$etrs" \
        --eids-per-etr "$per" "${opts[@]}" --idle "$idle" --duration 300 --json --progress \
        --case "steady_$mode" >"$dir/out.json" 2>"$dir/err" &
    fab=$!
    bench_wait_line "$dir/err" '^converged' 300 || true
    sleep 5
    read -r frames bytes < <(bench_capture "$port" "$window" "$dir/cap.pcapng")
    wait "$fab" || true
    fab=
    grep -v '_lat_' "$dir/out.json" | sed 's/}$//' | tr -d '\n'
    printf ',"wire_seconds":%s,"wire_frames":%s,"wire_bytes":%s,"wire_frames_per_sec":%.1f,"wire_bytes_per_sec":%.1f,"load1":%s}\n' \
        "$window" "$frames" "$bytes" "$(awk "BEGIN {print $frames / $window}")" \
        "$(awk "BEGIN {print $bytes / $window}")" "$(bench_load)"
    grep '_lat_' "$dir/out.json" || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    rm -f "$dir/ctl.sock"
done
