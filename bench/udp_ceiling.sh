#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The request/response ceiling of this machine on loopback: lispms-bench's
# UDP echo responder (the same worker code as lispmsd, handler = echo) under
# the same load engine the map-server benchmarks use. Prints JSON lines.
#
#   bench/udp_ceiling.sh [BUILD_DIR] [DURATION]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta udp_ceiling.sh "$@"
build=${1:-$root/build}
duration=${2:-5}
bench=$build/tools/lispms-bench
port=$((20000 + RANDOM % 20000))
"$bench" echo-server --port "$port" --workers "${WORKERS:-1}" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
sleep 0.3
for window in 8 32; do
    "$bench" echo --server "127.0.0.1:$port" --duration "$duration" --sources 16 \
        --window "$window" --json | sed "s/\"case\":\"echo\"/\"case\":\"echo_w$window\"/"
done
