#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lispmsd's memory per EID and per session: RSS after everything is
# registered minus RSS right after start. Per EID: EIDS EIDs on 100
# sessions (the per-session part is then negligible). Per session: SESSIONS
# sessions with one EID each. Prints JSON lines.
#
#   bench/memory.sh [BUILD_DIR] [EIDS] [SESSIONS]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
eids=${2:-1000000}
sessions=${3:-10000}
dir=$(mktemp -d)
pid=
fab=
trap '[ -n "$fab" ] && kill $fab 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bench_meta memory.sh "$@"
for what in eid session; do
    if [ $what = eid ]; then etrs=100 per=$((eids / 100)); else etrs=$sessions per=1; fi
    port=$(bench_port)
    bench_conf "$dir/lispms.yaml" "$port"
    pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
    rss0=$(bench_rss "$pid")
    "$build/tools/lispms-bench" fabric --server "127.0.0.1:$port" --etrs "$etrs" \
        --eids-per-etr "$per" --idle 3 --duration 120 --json --progress \
        --case "memory_$what" >"$dir/out.json" 2>"$dir/err" &
    fab=$!
    bench_wait_line "$dir/err" '^converged' 120 || true
    sleep 2 # in the idle phase: every session up, every record ACKed
    rss=$(bench_rss "$pid")
    wait "$fab" || true
    fab=
    acked=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["acked"])' "$dir/out.json")
    if [ $what = eid ]; then n=$acked; else n=$etrs; fi
    printf '{"bench":"memory","case":"per_%s","etrs":%s,"eids":%s,"acked":%s,"rss_start_kib":%s,"rss_kib":%s,"bytes_per_%s":%.0f,"load1":%s}\n' \
        "$what" "$etrs" "$((etrs * per))" "$acked" "$rss0" "$rss" "$what" \
        "$(awk "BEGIN {print ($rss - $rss0) * 1024 / $n}")" "$(bench_load)"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    rm -f "$dir/ctl.sock"
done
