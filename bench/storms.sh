#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The stream transports side by side (issues 15 and 19): for each transport
# named, a fresh lispmsd (WORKERS workers, default 2, with TCP, QUIC and
# SCTP on) takes a storm of ETRS ETRs with EIDS_PER_ETR EIDs each
# (`lispms-bench fabric --storm`, every record ACKed or the run bounded by
# DURATION s), then the sessions stay open for 5 s (--idle 5); lispmsd's
# VmRSS is sampled every 0.2 s and its CPU time (utime + stime) read at the
# end. Prints the fabric's JSON line per
# transport (case TRANSPORT-ETRS) with rss_start_kib, rss_peak_kib,
# kib_per_session ((peak - start) / ETRS), cpu_s, idle_cpu_per_s (lispmsd's
# CPU seconds per second over the last 4 s of the idle), udp_drops (the
# kernel's drops on QUIC's or SCTP's UDP sockets) and load1 appended.
#
#   bench/storms.sh [BUILD_DIR] [ETRS] [EIDS_PER_ETR] [TRANSPORTS] [DURATION]
#
# TRANSPORTS: comma-separated, default tcp,quic,sctp (the ones the build
# has). QUIC uses a throw-away CA (deploy/tls/make-test-ca.sh; KEY_TYPE=
# ecdsa|ed25519 picks its key type, default ecdsa P-256, appended as
# key_type). With
# PERF=DIR, lispmsd is profiled over each run (perf record -g, cpu-clock)
# into DIR/perf-TRANSPORT.data. LISPMS_WRAP and BENCH_WRAP, command lines
# split on blanks, go before lispmsd and lispms-bench (e.g. "taskset -c 1",
# or a script that raises its autogroup's priority and execs the rest);
# each must exec its command, so that the PID is the process measured.
# Also appended: bench_cpu_s (the bench's utime + stime, last sampled
# before it ended: at most 0.2 s of its idle missed) and load_at_start.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
etrs=${2:-1000}
per=${3:-100}
transports=${4:-tcp,quic,sctp}
duration=${5:-120}
dir=$(mktemp -d)
pid=
fab=
trap '[ -n "$fab" ] && kill $fab 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
bench_meta storms.sh "$@"
"$root/deploy/tls/make-test-ca.sh" "$dir" >/dev/null

# cpu_s PID: utime + stime in seconds (fields 14 and 15 of /proc/PID/stat).
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' \
        "/proc/$1/stat"
}

for t in ${transports//,/ }; do
    port=$(bench_port)
    qport=$(free_port udp)
    sport=$(free_port udp)
    WORKERS=${WORKERS:-2} bench_conf "$dir/lispms.yaml" "$port"
    sed -i "/^  port: /a\\  quic: {port: $qport, certificate: $dir/server.pem, key: $dir/server-key.pem}\\n  sctp: {port: 4342, udp-encapsulation-port: $sport}" \
        "$dir/lispms.yaml"
    pid=$(bench_start_ms "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
    rss0=$(bench_rss "$pid")
    load0=$(bench_load)
    peak=$rss0
    case $t in
    quic) extra=(--transport-port "$qport" --ca "$dir/ca.pem") ;;
    sctp) extra=(--transport-port "$sport") ;;
    *) extra=() ;;
    esac
    # shellcheck disable=SC2086 # BENCH_WRAP is a command line, split on blanks
    ${BENCH_WRAP:-} "$build/tools/lispms-bench" fabric --server "127.0.0.1:$port" --etrs "$etrs" \
        --eids-per-etr "$per" --udp-share 0 --threads "${THREADS:-2}" --storm \
        --duration "$duration" --idle 5 --json --quiet --case "$t-$etrs" --transport "$t" \
        "${extra[@]}" >"$dir/out.json" 2>"$dir/err" &
    fab=$!
    prof=
    if [ -n "${PERF:-}" ]; then
        perf record -q -g -e cpu-clock -o "$PERF/perf-$t.data" -p "$pid" >/dev/null 2>&1 &
        prof=$!
    fi
    : >"$dir/cpu"
    fcpu=0
    while kill -0 "$fab" 2>/dev/null; do
        r=$(bench_rss "$pid")
        [ "$r" -gt "$peak" ] && peak=$r
        echo "$(date +%s.%N) $(cpu_s "$pid")" >>"$dir/cpu"
        c=$(cpu_s "$fab" 2>/dev/null) && fcpu=$c
        sleep 0.2
    done
    wait "$fab" || true
    fab=
    if [ -n "$prof" ]; then
        kill -INT "$prof"
        wait "$prof" || true
    fi
    cpu=$(cpu_s "$pid")
    # the kernel's drops on the transport's UDP sockets (full receive buffers)
    case $t in
    quic) uport=$qport ;;
    sctp) uport=$sport ;;
    *) uport=0 ;;
    esac
    drops=$(awk -v p="$(printf ':%04X' "$uport")" '$2 ~ p"$" {n += $NF} END {print n + 0}' \
        /proc/net/udp)
    # lispmsd's CPU per second over the last 4 s of the 5 s idle
    idle=$(awk '{t[NR] = $1; c[NR] = $2}
        END {i = NR; while (i > 1 && t[NR] - t[i] < 4) i--;
             printf "%.4f", (t[NR] > t[i] ? (c[NR] - c[i]) / (t[NR] - t[i]) : 0)}' "$dir/cpu")
    load=$(bench_load)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    grep "\"case\": *\"$t-$etrs\"" "$dir/out.json" |
        sed "s/}\$/,\"rss_start_kib\":$rss0,\"rss_peak_kib\":$peak,\"kib_per_session\":$(((peak - rss0) / etrs)),\"cpu_s\":$cpu,\"idle_cpu_per_s\":$idle,\"udp_drops\":$drops,\"load1\":$load,\"load_at_start\":$load0,\"bench_cpu_s\":$fcpu,\"key_type\":\"${KEY_TYPE:-ecdsa}\"}/"
done
