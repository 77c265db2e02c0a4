#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end lispmsd over loopback UDP (issue 5): authenticated Map-Registers
# (HMAC-SHA-256) answered with Map-Notifies per second, and ECM Map-Requests
# answered with Map-Replies per second, with EIDS registered EIDs, beside the
# machine's ceiling measured in the same run: the same load engine against
# lispms-bench's UDP echo responder on the same worker code. One server
# worker and one load thread, so each side has a core. Prints JSON lines.
#
#   bench/ms_udp.sh [BUILD_DIR] [EIDS] [DURATION]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta ms_udp.sh "$@"
build=${1:-$root/build}
eids=${2:-100000}
duration=${3:-5}
bench=$build/tools/lispms-bench
daemon=$build/src/daemon/lispmsd
port=$(bench_port)
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
etrs=$(((eids + 999) / 1000))
per=$(((eids + etrs - 1) / etrs))
bench_conf "$dir/lispms.yaml" "$port"
lispms_start "$daemon" "$dir/lispms.yaml" "$dir/lispmsd.log"
pids+=("$LISPMS_PID")
load=(--server "127.0.0.1:$port" --sockets 16 --sources 16 --window 8 --json)
lisp=(--etrs "$etrs" --eids-per-etr "$per")
# registration storm: every EID once (inserts), then steady refreshes
"$bench" register "${lisp[@]}" "${load[@]}" --count "$((etrs * per))" --duration 120 |
    sed 's/"case":"map_register"/"case":"map_register_insert","eids":'"$((etrs * per))"'/'
"$bench" register "${lisp[@]}" "${load[@]}" --duration "$duration" |
    sed 's/"case":"map_register"/"case":"map_register_refresh","eids":'"$((etrs * per))"'/'
"$bench" request "${lisp[@]}" "${load[@]}" --duration "$duration" |
    sed 's/"case":"map_request"/"case":"map_request_proxy","eids":'"$((etrs * per))"'/'
rss=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status")
echo "{\"bench\":\"ms_udp\",\"case\":\"lispmsd_rss\",\"eids\":$((etrs * per)),\"rss_kib\":$rss}"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
pids=()
eport=$(free_port udp)
"$bench" echo-server --port "$eport" --workers "${WORKERS:-1}" 2>/dev/null &
pids+=($!)
sleep 0.3
"$bench" echo --server "127.0.0.1:$eport" --sockets 16 --sources 16 --window 8 --size 120 \
    --duration "$duration" --json | sed 's/"bench":"udp"/"bench":"ms_udp"/;s/"case":"echo"/"case":"echo_ceiling"/'
