#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The registration storm per core, in one run (issue 9):
#   1. the DPDK fast path: fastpath_bench replays REGS one-record
#      HMAC-SHA-256 Map-Registers through net_pcap (infinite_rx=1, --no-huge)
#      into one lcore: the insert pass, then refreshes for DURATION seconds
#   2. the kernel path: lispmsd with one UDP worker and lispms-bench register
#      with one thread over loopback, the same storm (insert, then refresh)
#   3. bare HMAC-SHA-256 of the same message (bench_codec hmac_sha256_bare)
# and a summary line with the ratios. Each registration costs two HMACs
# (verify the Map-Register, sign the Map-Notify), so half the bare rate is
# the ceiling. JSON lines on stdout and appended to
# bench/results/fastpath-DATE.jsonl. Needs a build with DPDK.
#
#   bench/fastpath.sh [BUILD_DIR] [REGS] [DURATION]
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
build=${1:-$root/build}
regs=${2:-1000000}
duration=${3:-5}
[ -x "$build/bench/fastpath_bench" ] || {
    echo "no $build/bench/fastpath_bench: configure with -Ddpdk=enabled" >&2
    exit 1
}
out=$root/bench/results/fastpath-$(date -u +%F).jsonl
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
emit() { tee -a "$out" | tee -a "$dir/all.jsonl"; }
load() { awk '{print $1}' /proc/loadavg; }

echo "{\"bench\":\"fastpath\",\"case\":\"run\",\"date\":\"$(date -u +%FT%TZ)\",\"load_avg_1m\":$(load),\"cores\":$(nproc),\"build\":\"$(basename "$build")\",\"commit\":\"$(git -C "$root" rev-parse --short HEAD)\"}" | emit

"$build/bench/fastpath_bench" --registrations "$regs" --seconds "$duration" 2>/dev/null |
    sed "s/}\$/,\"load_avg_1m\":$(load)}/" | emit

port=$(bench_port)
etrs=$(((regs + 999) / 1000))
bench_conf "$dir/lispms.yaml" "$port"
lispms_start "$build/src/daemon/lispmsd" "$dir/lispms.yaml" "$dir/lispmsd.log"
pids+=("$LISPMS_PID")
lisp=(--etrs "$etrs" --eids-per-etr 1000)
loadopt=(--server "127.0.0.1:$port" --sockets 16 --sources 16 --window 8 --json)
"$build/tools/lispms-bench" register "${lisp[@]}" "${loadopt[@]}" --count "$((etrs * 1000))" \
    --duration 120 |
    sed "s/\"bench\":\"ms_udp\",\"case\":\"map_register\"/\"bench\":\"fastpath\",\"case\":\"kernel_register_insert\",\"workers\":1/;s/}\$/,\"load_avg_1m\":$(load)}/" | emit
cpu() { awk '{print $14 + $15}' "/proc/${pids[0]}/stat"; } # lispmsd's CPU ticks
c0=$(cpu)
"$build/tools/lispms-bench" register "${lisp[@]}" "${loadopt[@]}" --duration "$duration" \
    >"$dir/refresh.json"
ticks=$(($(cpu) - c0))
hz=$(getconf CLK_TCK)
python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); t = int(sys.argv[2]) / int(sys.argv[3])
r.update(bench="fastpath", case="kernel_register_refresh", workers=1, cpu_seconds=t,
         per_cpu_second=round(r["received"] / t) if t else None, load_avg_1m=float(sys.argv[4]))
print(json.dumps(r, separators=(",", ":")))' "$dir/refresh.json" "$ticks" "$hz" "$(load)" | emit
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
pids=()

"$build/bench/bench_codec" --case hmac_sha256_bare --seconds 2 |
    sed "s/\"bench\":\"codec\"/\"bench\":\"fastpath\"/;s/}\$/,\"load_avg_1m\":$(load)}/" | emit

python3 - "$dir/all.jsonl" <<'PY' | emit
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["case"]] = r
fp = rows.get("register_refresh", {}).get("per_lcore_per_sec", 0)
fpi = rows.get("register_insert", {}).get("per_sec", 0)
k = rows.get("kernel_register_refresh", {}).get("replies_per_sec", 0)
fpc = rows.get("register_refresh", {}).get("per_cpu_second", 0)
kc = rows.get("kernel_register_refresh", {}).get("per_cpu_second", 0)
ki = rows.get("kernel_register_insert", {}).get("replies_per_sec", 0)
h = rows.get("hmac_sha256_bare", {}).get("ops_per_sec", 0)
print(json.dumps({
    "bench": "fastpath", "case": "summary",
    "fastpath_refresh_per_lcore": round(fp), "kernel_refresh_per_core": round(k),
    "fastpath_vs_kernel": round(fp / k, 2) if k else None,
    "fastpath_per_cpu_second": round(fpc), "kernel_per_cpu_second": round(kc or 0),
    "fastpath_vs_kernel_per_cpu_second": round(fpc / kc, 2) if kc else None,
    "fastpath_insert_per_lcore": round(fpi), "kernel_insert_per_core": round(ki),
    "bare_hmac_sha256_per_sec": round(h),
    "ceiling_two_hmacs_per_registration": round(h / 2),
    "fastpath_vs_ceiling": round(fp / (h / 2), 2) if h else None,
    "fastpath_per_cpu_second_vs_ceiling": round(fpc / (h / 2), 2) if h else None,
    "aim_per_lcore": 2000000, "aim_vs_kernel": 3,
}, separators=(",", ":")))
PY
