#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Publish/subscribe (issue 17, RFC 9437): lispms-bench's fabric converges,
# its subscribers subscribe and check every publication (HMAC, nonce order,
# completeness against what the fabric registered and moved), then EIDs move
# between ETRs and each move is timed from its Registration to each
# subscriber's publication. The issue's three scenarios:
#
#   state:   SUBS (10) subscribers to [1000] 0.0.0.0/0 of an instance of
#            ETRS x PER (1000 x 100 = 100,000) EIDs, on their sessions: the
#            initial state complete at every one (aim: under 5 s); then
#   moves:   MOVE_RATE (20,000) moves/s for 5 s among the ETRs, published to
#            every subscriber on its session (aim: 200,000 publications/s,
#            p99 under 50 ms, nothing lost: every subscriber's last view of
#            every EID is its final owner);
#   udp:     UDP_SUBS (1,000) UDP subscribers to one /32 each (the fabric's
#            EIDs 0..999), 1,000 moves/s for 5 s (aim: every publication
#            acked, p99 under 10 ms).
#   state_udp: the first scenario's initial state over UDP (paced by acks).
#   state:   the first scenario without the moves (their CPU cost is the
#            difference of server_cpu_s).
#
# WORKERS server workers (default 2), THREADS simulator threads (default 1);
# PERF_DIR: record a profile of lispmsd per scenario there (perf record
# PERF_RECORD, default -g);
# else PERF_STAT=EVENTS: count them in lispmsd (perf stat -e; system calls
# as sys_NAME) and add the counts to the scenario's JSON lines.
# SERVER_CPUS, BENCH_CPUS: pin every thread of lispmsd, and lispms-bench, to
# those CPUs (taskset -c lists, e.g. 0 and 1), so neither takes the other's.
# Prints JSON lines (lispms-bench's, with the load average at the end added).
#
#   bench/pubsub.sh [BUILD_DIR] [ETRS] [PER] [MOVE_RATE] [SUBS] [UDP_SUBS] ["SCENARIOS"]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
etrs=${2:-1000}
per=${3:-100}
rate=${4:-20000}
subs=${5:-10}
usubs=${6:-1000}
scenarios=${7:-state_moves udp state_udp}
export WORKERS=${WORKERS:-2}
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bench_meta pubsub.sh "$@"

# pubsub_conf PORT NSUBS: bench_conf with allow-subscribe on the site and NSUBS
# UDP subscribers (lispms-bench's xTR-IDs, key 1 "bench") in subscribers:.
pubsub_conf() {
    bench_conf "$dir/lispms.yaml" "$1"
    echo "    allow-subscribe: true" >>"$dir/lispms.yaml"
    [ "$2" -gt 0 ] || return 0
    {
        echo "subscribers:"
        for ((i = 0; i < $2; i++)); do
            printf '  - {name: s%d, xtr-id: 5b5b000000000000000000000000%04x, ' "$i" "$i"
            printf 'keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]}\n'
        done
    } >>"$dir/lispms.yaml"
}

# sched_wait PID: nanoseconds its threads have been ready to run and waited
# for a CPU (the second field of each thread's schedstat).
sched_wait() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $2} END {printf "%.0f", s}'
}

# run NAME NSUBS-IN-CONF FABRIC-ARGS...
run() {
    local name=$1 nconf=$2
    shift 2
    local port
    port=$(bench_port)
    pubsub_conf "$port" "$nconf"
    pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
    [ -z "${SERVER_CPUS:-}" ] || taskset -a -p -c "$SERVER_CPUS" "$pid" >/dev/null
    local pin=()
    [ -z "${BENCH_CPUS:-}" ] || pin=(taskset -c "$BENCH_CPUS")
    local load0 cpu0 cpu1 hz
    load0=$(bench_load)
    hz=$(getconf CLK_TCK)
    cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    local perf='' wait0 wait1
    wait0=$(sched_wait "$pid")
    if [ -n "${PERF_DIR:-}" ]; then # a profile of lispmsd per scenario
        local rec
        read -r -a rec <<<"${PERF_RECORD:--g}"
        perf record "${rec[@]}" -o "$PERF_DIR/$name.perf" -p "$pid" 2>/dev/null &
        perf=$!
    elif [ -n "${PERF_STAT:-}" ]; then # its system calls, counted
        perf stat -x, -o "$dir/stat" -e "$PERF_STAT" -p "$pid" 2>/dev/null &
        perf=$!
    fi
    "${pin[@]}" /usr/bin/time -f '%U %S' -o "$dir/time" "$build/tools/lispms-bench" fabric \
        --server "127.0.0.1:$port" --threads "${THREADS:-1}" \
        --duration 120 --json --quiet --case "$name" "$@" >"$dir/out.json" || true
    cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    wait1=$(sched_wait "$pid")
    if [ -n "$perf" ]; then
        kill -INT "$perf"
        wait "$perf" 2>/dev/null || true
    fi
    local load1 scpu bcpu swait stat=''
    load1=$(bench_load)
    swait=$(awk -v a="$wait0" -v b="$wait1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
    if [ -n "${PERF_STAT:-}" ] && [ -z "${PERF_DIR:-}" ]; then
        stat=$(awk -F, '$1 ~ /^[0-9]+$/ {n = $3; sub(/^syscalls:sys_enter_/, "sys_", n)
                                          printf ",\"%s\":%s", n, $1}' "$dir/stat")
    fi
    scpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
    bcpu=$(awk '/^[0-9.]+ [0-9.]+$/ {printf "%.2f", $1 + $2}' "$dir/time")
    # lispmsd's and lispms-bench's CPU seconds (user + system) over the run:
    # with 2 cores shared by other work, CPU per publication is the figure
    # that does not depend on the machine's load. server_wait_s: how long
    # lispmsd's threads were ready to run but waited for a CPU (schedstat).
    sed "s/}\$/,\"load1_before\":$load0,\"load1\":$load1,\"server_cpu_s\":$scpu,\"bench_cpu_s\":${bcpu:-0},\"server_wait_s\":$swait${stat}}/" \
        "$dir/out.json"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    rm -f "$dir/ctl.sock"
}

for s in $scenarios; do
    case $s in
    state)
        # the first scenario without its moves: what the moves cost the
        # server is state_moves' CPU minus this one's
        run pubsub_state 0 --etrs "$etrs" --eids-per-etr "$per" --subscribers "$subs" \
            --subscribe '[1000] 0.0.0.0/0' --subscriber-transport session
        ;;
    state_moves)
        run pubsub_sessions 0 --etrs "$etrs" --eids-per-etr "$per" --subscribers "$subs" \
            --subscribe '[1000] 0.0.0.0/0' --subscriber-transport session \
            --moves $((rate * 5)) --move-rate "$rate" --move-seconds 5
        ;;
    state_udp)
        run pubsub_state_udp "$subs" --etrs "$etrs" --eids-per-etr "$per" \
            --subscribers "$subs" --subscribe '[1000] 0.0.0.0/0' --subscriber-transport udp
        ;;
    udp)
        run pubsub_udp "$usubs" --etrs 100 --eids-per-etr $(((usubs + 99) / 100)) \
            --subscribers "$usubs" --subscribe each --subscriber-transport udp \
            --moves 5000 --move-rate 1000 --move-seconds 5
        ;;
    *)
        echo "pubsub.sh: unknown scenario $s" >&2
        exit 2
        ;;
    esac
done
