#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every scale scenario once, in a row, each into OUT/<scenario>-<date>.jsonl,
# then bench/report renders them into OUT/report-<date>/index.html (needs
# gnuplot-nox)
# (default bench/results; -2, -3 ... when that exists). About 13 minutes on a 2-core machine; run it on
# a quiet machine and note the load average (each file's meta line has it).
#
#   bench/all.sh [BUILD_DIR] [OUT]
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=${1:-$root/build}
out=${2:-$root/bench/results}
day=$(date -u +%Y-%m-%d)
written=() # the files of this run, for the report
mkdir -p "$out"
run() { # run NAME COMMAND...
    local name=$1
    shift
    echo "==> $name: $* (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    local file=$out/$name-$day.jsonl k=2
    while [ -e "$file" ]; do # never overwrite an earlier run
        file=$out/$name-$day-$k.jsonl
        k=$((k + 1))
    done
    written+=("$file")
    "$@" >"$file" || echo "    $name failed (exit $?)" >&2
}
run udp_ceiling "$root/bench/udp_ceiling.sh" "$build" 5
run ms_udp "$root/bench/ms_udp.sh" "$build" 1000000 5
run sessions "$root/bench/sessions.sh" "$build" 10000 100 50000
run steady_state_100k "$root/bench/steady_state.sh" "$build" 100000 1000 40 60
run steady_state_1m "$root/bench/steady_state.sh" "$build" 1000000 10000 40 60
run mobility "$root/bench/mobility.sh" "$build" 10000 100 "10000 50000"
run restart "$root/bench/restart.sh" "$build" 1000000 10000
run memory "$root/bench/memory.sh" "$build" 1000000 10000
run pubsub "$root/bench/pubsub.sh" "$build"

# the HTML report beside the results (this run's files)
report=$out/report-$day
if "$root/bench/report" "${written[@]}" -o "$report" >&2; then
    echo "==> report: $report/index.html" >&2
else
    echo "    no report written (bench/report needs gnuplot-nox)" >&2
fi
