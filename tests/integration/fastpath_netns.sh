#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The DPDK fast path end to end (issue 9) between two network namespaces
# this test creates and deletes, joined by a veth pair; nothing leaves them.
#
#   ns "m": lispmsd; the kernel has 10.77.0.1 (TCP sessions, kernel UDP),
#           the fast path (net_af_packet on the veth) answers for 10.77.0.10
#           (not a kernel address there), ARP included
#   ns "x": simulated ETRs from lispms-bench at 10.77.0.2..5
#
# The ETRs authenticate with r=1 Map-Registers through DPDK, get their
# Map-Notifies from it, open their TCP sessions to the kernel path (the
# admission is shared), register their EIDs there; then Map-Requests (ECM)
# to the fast path address are answered. tshark checks what crossed the
# veth. Needs root (namespaces); prints a SKIP line otherwise.
#
# Usage: fastpath_netns.sh LISPMSD LISPMS-BENCH LISPMSCTL
set -u
lispmsd=$1
bench=$2
ctl=$3
. "$(dirname "$0")/fastpath_lib.sh"

fp_begin lfp &&
    ip -n "$nsm" addr add 10.77.0.1/24 dev "$vm" &&
    for i in 2 3 4 5; do ip -n "$nsx" addr add 10.77.0.$i/24 dev "$vx" || exit 1; done &&
    ip -n "$nsm" link set lo up && ip -n "$nsm" link set "$vm" up &&
    ip -n "$nsx" link set lo up && ip -n "$nsx" link set "$vx" up &&
    ip netns exec "$nsm" sysctl -qw net.ipv4.ip_forward=0 # 10.77.0.10 is DPDK's alone
ok $? "two namespaces joined by a veth pair"
fp_checksums_off

lispms_conf "$work/lispms.yaml" 10.77.0.1:4342 "workers: 1" "reliable-transport: true" <<EOF
log:
  level: info
fastpath:
  eal-args: [--no-huge, --no-pci, -m, "512", --no-shconf, -l, "0", --no-telemetry,
             "--log-level=lib.eal:error"]
  port: "net_af_packet0,iface=$vm"
  addresses: [10.77.0.10]
sites:
  - name: fabric
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
EOF
fp_capture_start
fp_start_lispmsd "$lispmsd" "its fast path lcore on net_af_packet"
sleep 1 # tshark is capturing

ip netns exec "$nsx" "$bench" fabric --server 10.77.0.1:4342 --udp-server 10.77.0.10:4342 \
    --source 10.77.0.2 --etrs 4 --eids-per-etr 10 --duration 20 --json >"$work/s.out" 2>"$work/s.err"
rc=$?
python3 -c 'import json,sys; r = json.loads(open(sys.argv[1]).readline())
sys.exit(0 if r["up"] == 4 and r["reliable"] == 4 and r["acked"] == 40 and r["rejected"] == 0 else 1)' "$work/s.out"
ok $((rc + $?)) "r=1 registers through DPDK admit 4 ETRs to TCP sessions on the kernel path: $(head -c 160 "$work/s.out")"

ip netns exec "$nsx" "$bench" request --etrs 4 --eids-per-etr 10 --server 10.77.0.10:4342 \
    --count 200 --duration 10 --window 8 --json >"$work/r.out" 2>&1
python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))
sys.exit(0 if r["received"] >= 200 and r["lost"] == 0 and r["unmatched"] == 0 else 1)' "$work/r.out"
ok $? "Map-Requests (ECM) to the fast path address all get positive Map-Replies: $(head -c 160 "$work/r.out")"

arp=$(fp_stat fastpath_arp_replies)
[ "$arp" -ge 1 ]
ok $? "the fast path answered ARP for 10.77.0.10 ($arp)"
dg=$(fp_stat fastpath_received_datagrams)
[ "$dg" -ge 204 ]
ok $? "the lcore handed $dg datagrams to the request core"
adm=$(fp_stat session_admissions)
[ "$adm" -ge 4 ]
ok $? "the admissions are the shared request core's ($adm)"
for _ in $(seq 1 50); do # lcore 0 adds the port's statistics once a second
    port=$(fp_stat fastpath_port_packets_total 'dir="rx"')
    [ "$port" -ge "$dg" ] && break
    sleep 0.1
done
[ "$port" -ge "$dg" ]
ok $? "port statistics reach the metrics ($port packets received)"

fp_stop_lispmsd

if fp_capture_stop; then
    c=$(fp_count 'ip.src == 10.77.0.10 && lisp.type == 4')
    [ "$c" -ge 4 ]
    ok $? "tshark: $c Map-Notifies from the fast path address"
    c=$(fp_count 'ip.src == 10.77.0.10 && lisp.type == 2')
    [ "$c" -ge 200 ]
    ok $? "tshark: $c Map-Replies from the fast path address"
    c=$(fp_count 'ip.src == 10.77.0.1 && lisp-tcp')
    [ "$c" -ge 4 ]
    ok $? "tshark: $c reliable-transport segments from the kernel path"
    c=$(fp_count 'arp.opcode == 2 && arp.src.proto_ipv4 == 10.77.0.10')
    [ "$c" -ge 1 ]
    ok $? "tshark: $c ARP replies for 10.77.0.10"
    c=$(fp_count 'ip.src == 10.77.0.10 && (_ws.malformed || _ws.expert.severity >= 8388608)')
    [ "$c" -eq 0 ]
    ok $? "tshark: nothing malformed from the fast path ($c)"
fi
exit $((failed > 0))
