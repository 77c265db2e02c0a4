#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sessions over TCP, TLS and QUIC side by side (issue 15): one lispmsd per
# run with server.tls and server.quic (the deploy/tls test CA, ECDSA P-256),
# `lispms-bench fabric --storm` with ETRS x EIDS over TRANSPORT, then IDLE
# seconds with every session open. One JSON line per run: the bench's own
# line (converged_s, sessions lost...) plus lispmsd's CPU (utime+stime, s;
# "bench_cpu_s": the bench's, sampled every 0.5 s),
# minor page faults, peak RSS over the run minus RSS before (KiB, sampled
# every 0.5 s), and over the idle window the loopback's packets and bytes
# per second (both sides on this host: /proc/net/dev "lo", each packet
# counted once) and lispmsd's CPU.
#
#   bench/transports.sh LISPMSD LISPMS-BENCH TRANSPORT ETRS EIDS [IDLE] [CASE]
#
# Run it in a network namespace of its own, so that lo's counters are the
# run's alone: `ip netns add b; ip netns exec b ip link set lo up;
# ip netns exec b bench/transports.sh ...`.
#
# LISPMSD may differ between runs (before/after builds); the bench binary
# should not. WORKERS (2), THREADS (2), DURATION (60), KEEPALIVE (10, the
# server default: how often idle sessions are probed). "all_acked_s" is the
# first sample of the bench's series with every record ACKed (the storm may
# not "converge" in DURATION when lost sessions are still reconnecting).
# With LISPMSCTL (the lispmsctl binary), "idle_quic_library_bytes" is
# lispms_net_quic_library_bytes at the start of the idle window. KEEP=FILE
# keeps the bench's whole output (its series line included). With
# LISPMSCTL, also "quic_accepted" (connections lispmsd made) and
# "quic_dropped" (every reason of lispms_net_quic_dropped_total).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
lispmsd=$1 benchbin=$2 transport=$3 etrs=$4 per=$5 idle=${6:-5} case=${7:-$3}
dir=$(mktemp -d)
pid=
fab=
trap '[ -n "$fab" ] && kill $fab 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
sh "$root/deploy/tls/make-test-ca.sh" "$dir/ca" >/dev/null 2>&1
port=$(bench_port)
qport=$(bench_port)
tport=$(bench_port)
WORKERS=${WORKERS:-2} REG_TIMEOUT=600 KEEPALIVE=${KEEPALIVE:-10} bench_conf "$dir/lispms.yaml" "$port"
# bench_conf wrote `server:` first: the transports' sections go in it
python3 - "$dir/lispms.yaml" "$qport" "$tport" "$dir/ca" <<'PY'
import sys
f, q, t, ca = sys.argv[1:]
s = open(f).read()
add = (f"  quic:\n    port: {q}\n    certificate: {ca}/server.pem\n    key: {ca}/server-key.pem\n"
       f"  tls:\n    port: {t}\n    certificate: {ca}/server.pem\n    key: {ca}/server-key.pem\n")
s = s.replace("control:\n", add + "control:\n", 1)
open(f, "w").write(s)
PY
pid=$(bench_start_ms "$lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log")
case $transport in
quic) tp=(--transport quic --transport-port "$qport" --ca "$dir/ca/ca.pem") ;;
tls) tp=(--transport tls --transport-port "$tport" --ca "$dir/ca/ca.pem") ;;
*) tp=(--transport tcp) ;;
esac
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
minflt() { awk '{print $10}' "/proc/$1/stat"; }
lo() { awk '/^ *lo:/ {sub(/^ *lo:/, ""); print $1, $2}' /proc/net/dev; }
hz=$(getconf CLK_TCK)
rss0=$(bench_rss "$pid")
cpu0=$(cpu "$pid")
flt0=$(minflt "$pid")
"$benchbin" fabric --server "127.0.0.1:$port" "${tp[@]}" --etrs "$etrs" --eids-per-etr "$per" \
    --threads "${THREADS:-2}" --storm --duration "${DURATION:-60}" --idle "$idle" --json \
    --progress --case "$case" >"$dir/out.json" 2>"$dir/err" &
fab=$!
peak=$rss0
idle_at=
bcpu=0
while kill -0 "$fab" 2>/dev/null; do
    b=$(cpu "$fab" 2>/dev/null) && bcpu=$b # the bench's CPU, last seen alive
    r=$(bench_rss "$pid")
    [ "$r" -gt "$peak" ] && peak=$r
    if [ -z "$idle_at" ] && grep -q '^converged' "$dir/err" 2>/dev/null; then
        sleep 2 # the last ACKs and keepalive timers settle
        idle_at=$(date +%s.%N)
        read -r lob0 lop0 < <(lo)
        icpu0=$(cpu "$pid")
        if [ -n "${LISPMSCTL:-}" ]; then
            libb=$("$LISPMSCTL" -s "$dir/ctl.sock" stats lispms_net_quic_library_bytes 2>/dev/null |
                awk '{s += $NF} END {print s + 0}')
        fi
    fi
    sleep 0.5
done
wait "$fab" || true
fab=
idle_end=$(date +%s.%N)
read -r lob1 lop1 < <(lo)
cpu1=$(cpu "$pid")
flt1=$(minflt "$pid")
line=$(grep "\"case\":\"$case\"" "$dir/out.json" | tail -1)
[ -n "${KEEP:-}" ] && cp "$dir/out.json" "$KEEP"
stat() { # the sum of a lispmsd counter's values (0 without LISPMSCTL)
    [ -n "${LISPMSCTL:-}" ] || { echo 0; return; }
    "$LISPMSCTL" -s "$dir/ctl.sock" stats "$1" 2>/dev/null | awk '{s += $NF} END {print s + 0}'
}
accepted=$(stat lispms_net_quic_accepted_total)
stale=$(stat lispms_net_quic_dropped_total)
all=$(python3 -c '
import json, sys
want = int(sys.argv[2]) * int(sys.argv[3])
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("case") == sys.argv[4] + "_series":
        print(next((t for t, a in zip(d["t_s"], d["acked"]) if a >= want), -1))
        break
else:
    print(-1)' "$dir/out.json" "$etrs" "$per" "$case")
if [ -n "$idle_at" ]; then
    extra=$(awk -v t0="$idle_at" -v t1="$idle_end" -v b0="$lob0" -v b1="$lob1" -v p0="$lop0" \
        -v p1="$lop1" -v c0="$icpu0" -v c1="$cpu1" -v hz="$hz" 'BEGIN {
        d = t1 - t0; printf "\"idle_window_s\":%.1f,\"idle_lo_bytes_per_s\":%.0f,\"idle_lo_packets_per_s\":%.1f,\"idle_server_cpu_s\":%.2f", d, (b1 - b0) / d, (p1 - p0) / d, (c1 - c0) / hz }')
else
    extra='"idle_window_s":0'
fi
extra="$extra,\"bench_cpu_s\":$(awk -v c="$bcpu" -v hz="$hz" 'BEGIN {printf "%.2f", c / hz}'),\"all_acked_s\":$all,\"idle_quic_library_bytes\":${libb:-0},\"quic_accepted\":$accepted,\"quic_dropped\":$stale"
srv=$(awk -v c0="$cpu0" -v c1="$cpu1" -v f0="$flt0" -v f1="$flt1" -v r0="$rss0" -v pk="$peak" \
    -v n="$etrs" -v hz="$hz" -v bin="$lispmsd" -v load="$(bench_load)" 'BEGIN {
    printf "\"server\":\"%s\",\"server_cpu_s\":%.2f,\"server_minflt\":%d,\"rss_before_kib\":%d,\"rss_peak_kib\":%d,\"rss_per_session_kib\":%.1f,\"load1_end\":%s",
        bin, (c1 - c0) / hz, f1 - f0, r0, pk, (pk - r0) / n, load }')
echo "${line%\}},$srv,$extra}"
