#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end lispmsd over loopback UDP (issue 5): authenticated Map-Registers
# (HMAC-SHA-256) answered with Map-Notifies per second, and ECM Map-Requests
# answered with Map-Replies per second, with EIDS registered EIDs, beside the
# machine's ceiling measured in the same run: the same load engine against
# lispms-bench's UDP echo responder on the same worker code. One server
# worker and one load thread, so each side has a core. Prints JSON lines.
#
# ROUNDS=N (N > 1): for a machine whose load swings between phases (the
# ceiling measured a minute after the server means little then), the echo
# responder runs beside lispmsd from the start, and N rounds each measure
# refresh, request and echo, DURATION s apiece, one after the other; every
# line carries its "round", and a last line ("case":"ratios") gives each
# round's register/echo and request/echo ratios and their medians.
#
# SERVER_CPUS, BENCH_CPUS: pin every thread of lispmsd and of the echo
# responder, and the load generator, to those CPUs (taskset -c lists, e.g. 0
# and 1), so the generator never takes the server's core. The ratios line
# names them and the scheduling group's nice (/proc/self/autogroup: run the
# script under `setsid` with `echo -20 > /proc/self/autogroup` to give the
# run its CPU promptly on a shared machine).
#
#   [ROUNDS=N] bench/ms_udp.sh [BUILD_DIR] [EIDS] [DURATION]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
bench_meta ms_udp.sh "$@"
build=${1:-$root/build}
eids=${2:-100000}
duration=${3:-5}
bench=$build/tools/lispms-bench
responder=$build/tools/lispms-bench
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
spin=() bpin=()
if [ -n "${SERVER_CPUS:-}" ]; then
    taskset -a -p -c "$SERVER_CPUS" "$LISPMS_PID" >/dev/null
    spin=(taskset -c "$SERVER_CPUS")
fi
[ -z "${BENCH_CPUS:-}" ] || bpin=(taskset -c "$BENCH_CPUS")
bench=("${bpin[@]}" "$bench")
load=(--server "127.0.0.1:$port" --sockets 16 --sources 16 --window 8)
lisp=(--etrs "$etrs" --eids-per-etr "$per")
# registration storm: every EID once (inserts), then steady refreshes
"${bench[@]}" register "${lisp[@]}" "${load[@]}" --count "$((etrs * per))" --duration 120 --json |
    sed 's/"case":"map_register"/"case":"map_register_insert","eids":'"$((etrs * per))"'/'
if [ "${ROUNDS:-1}" -gt 1 ]; then
    eport=$(free_port udp)
    "${spin[@]}" "$responder" echo-server --port "$eport" --workers "${WORKERS:-1}" 2>/dev/null &
    pids+=($!)
    sleep 0.3
    hz=$(getconf CLK_TCK)
    # phase CASE SERVING-PID BENCH-ARGS...: one timed phase; its JSON line gets
    # the round, the phase's wall time, and the CPU seconds and share of a core
    # the serving process (lispmsd or the echo responder) and the generator
    # used over it (the ratios line: the server's CPU per reply, with the
    # generator's start and end in it).
    phase() {
        local case=$1 spid=$2 s0 s1 g0 g1 t0 t1
        shift 2
        s0=$(awk '{print $14 + $15}' "/proc/$spid/stat")
        g0=$(awk '{print $16 + $17}' "/proc/$$/stat")
        t0=$(date +%s%N)
        "${bench[@]}" "$@" --duration "$duration" --json >"$dir/phase.json"
        t1=$(date +%s%N)
        g1=$(awk '{print $16 + $17}' "/proc/$$/stat")
        s1=$(awk '{print $14 + $15}' "/proc/$spid/stat")
        sed -E 's/"bench":"udp"/"bench":"ms_udp"/;s/"case":"[a-z_]+"/"case":"'"$case"'","round":'"$r"'/' \
            "$dir/phase.json" |
            awk -v s=$((s1 - s0)) -v g=$((g1 - g0)) -v t=$((t1 - t0)) -v hz="$hz" \
                '{sub(/}$/, sprintf(",\"wall_s\":%.3f,\"server_cpu_s\":%.2f,\"server_cpu\":%.2f,\"bench_cpu_s\":%.2f,\"bench_cpu\":%.2f}",
                    t / 1e9, s / hz, s / hz / (t / 1e9), g / hz, g / hz / (t / 1e9))); print}' |
            tee -a "$dir/rounds.jsonl"
    }
    for ((r = 1; r <= ROUNDS; r++)); do
        phase map_register_refresh "${pids[0]}" register "${lisp[@]}" "${load[@]}"
        phase map_request_proxy "${pids[0]}" request "${lisp[@]}" "${load[@]}"
        phase echo_ceiling "${pids[1]}" echo --server "127.0.0.1:$eport" --sockets 16 --sources 16 \
            --window 8 --size 120
    done
    python3 -c 'import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for o in rows:
    by.setdefault(o["round"], {})[o["case"]] = o["replies_per_sec"]
reg = [by[r]["map_register_refresh"] / by[r]["echo_ceiling"] for r in sorted(by)]
req = [by[r]["map_request_proxy"] / by[r]["echo_ceiling"] for r in sorted(by)]
us = {}  # the serving process CPU per reply, microseconds
for o in rows:
    us.setdefault(o["case"], []).append(o["server_cpu_s"] / o["received"] * 1e6)
print(json.dumps({"bench": "ms_udp", "case": "ratios", "rounds": len(by),
    "register_vs_echo": [round(x, 3) for x in reg], "request_vs_echo": [round(x, 3) for x in req],
    "register_vs_echo_median": round(statistics.median(reg), 3),
    "request_vs_echo_median": round(statistics.median(req), 3),
    "server_us_per_reply_median": {c: round(statistics.median(v), 2) for c, v in us.items()},
    "aim_register": 0.90, "aim_request": 0.95, "server_cpus": sys.argv[2], "bench_cpus": sys.argv[3],
    "autogroup_nice": int(sys.argv[4]), "load": float(sys.argv[5])}, separators=(",", ":")))' \
        "$dir/rounds.jsonl" "${SERVER_CPUS:-}" "${BENCH_CPUS:-}" \
        "$(awk '{print $NF}' /proc/self/autogroup 2>/dev/null || echo 0)" "$(bench_load)"
    exit 0
fi
"${bench[@]}" register "${lisp[@]}" "${load[@]}" --duration "$duration" --json |
    sed 's/"case":"map_register"/"case":"map_register_refresh","eids":'"$((etrs * per))"'/'
"${bench[@]}" request "${lisp[@]}" "${load[@]}" --duration "$duration" --json |
    sed 's/"case":"map_request"/"case":"map_request_proxy","eids":'"$((etrs * per))"'/'
rss=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status")
echo "{\"bench\":\"ms_udp\",\"case\":\"lispmsd_rss\",\"eids\":$((etrs * per)),\"rss_kib\":$rss}"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
pids=()
eport=$(free_port udp)
"${spin[@]}" "$responder" echo-server --port "$eport" --workers "${WORKERS:-1}" 2>/dev/null &
pids+=($!)
sleep 0.3
"${bench[@]}" echo --server "127.0.0.1:$eport" --sockets 16 --sources 16 --window 8 --size 120 \
    --duration "$duration" --json | sed 's/"bench":"udp"/"bench":"ms_udp"/;s/"case":"echo"/"case":"echo_ceiling"/'
