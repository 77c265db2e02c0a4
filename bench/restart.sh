#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Restart convergence (issue 6/8): ETRS reliable ETRs converge EIDS EIDs on
# sessions; lispmsd is killed with SIGKILL and started again at once; every
# ETR notices the lost session, re-authenticates over UDP (r=1), reconnects
# and re-registers. Reported: the simulator's time from the first lost
# session to every record ACKed again (reconverge_s), and the time from the
# kill to that moment (kill_to_converged_s, which includes the old
# process's teardown: its port must be free before the new one binds it). Aim: under 10 s for 1M EIDs on
# 10k sessions. Prints JSON lines.
#
#   bench/restart.sh [BUILD_DIR] [EIDS] [ETRS] [THREADS]
#
# File limit: lispmsd raises RLIMIT_NOFILE to its hard limit (20000 here),
# and so does lispms-bench, which holds one socket per ETR: up to ~19,900
# ETRs fit one process; beyond, run several with --first-etr.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
eids=${2:-1000000}
etrs=${3:-10000}
threads=${4:-1}
per=$((eids / etrs))
dir=$(mktemp -d)
pid=
fab=
trap '[ -n "$fab" ] && kill $fab 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bench_meta restart.sh "$@"
port=$(bench_port)
bench_conf "$dir/lispms.yaml" "$port"
pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
"$build/tools/lispms-bench" fabric --server "127.0.0.1:$port" --etrs "$etrs" \
    --eids-per-etr "$per" --threads "$threads" --hold 120 --until-reconverged \
    --duration 120 --json --progress --case restart >"$dir/out.json" 2>"$dir/err" &
fab=$!
bench_wait_line "$dir/err" '^converged' 120
sleep 2
killed=$(date +%s.%N)
bench_kill9 "$pid"
rm -f "$dir/ctl.sock"
pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
wait "$fab" || true
fab=
grep -v '_lat_' "$dir/out.json" | sed 's/}$//' | tr -d '\n'
at=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["reconverged_unix"])' "$dir/out.json")
printf ',"kill_to_converged_s":%.3f,"lispmsd_rss_kib":%s,"load1":%s}\n' \
    "$(awk "BEGIN {print $at - $killed}")" "$(bench_rss "$pid")" "$(bench_load)"
grep '_lat_' "$dir/out.json" || true
