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

echo "TAP version 13"
n=0
failed=0
ok() { # ok COND-RC DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "iproute2 (ip) is not installed"
tag=$$
nsm=lfpm$tag
nsx=lfpx$tag
vm=lfm$tag
vx=lfx$tag
work=$(mktemp -d /tmp/lispms-fastpath.XXXXXX)
pid=
cap=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "$cap" ] && kill "$cap" 2>/dev/null && wait "$cap" 2>/dev/null
    ip netns del "$nsm" 2>/dev/null
    ip netns del "$nsx" 2>/dev/null
    echo "1..$n"
    if [ "$failed" -eq 0 ]; then rm -rf "$work"; else
        echo "# kept $work"
        sed 's/^/#   /' "$work/d.log" 2>/dev/null | tail -n 30
    fi
}
if ! ip netns add "$nsm" 2>"$work/ns.err"; then
    rm -rf "$work"
    skip_all "cannot create a network namespace ($(head -c 200 "$work/ns.err" 2>/dev/null))"
fi
trap cleanup EXIT
ip netns add "$nsx" &&
    ip link add "$vm" type veth peer name "$vx" &&
    ip link set "$vm" netns "$nsm" && ip link set "$vx" netns "$nsx" &&
    ip -n "$nsm" addr add 10.77.0.1/24 dev "$vm" &&
    for i in 2 3 4 5; do ip -n "$nsx" addr add 10.77.0.$i/24 dev "$vx" || exit 1; done &&
    ip -n "$nsm" link set lo up && ip -n "$nsm" link set "$vm" up &&
    ip -n "$nsx" link set lo up && ip -n "$nsx" link set "$vx" up &&
    ip netns exec "$nsm" sysctl -qw net.ipv4.ip_forward=0 # 10.77.0.10 is DPDK's alone
ok $? "two namespaces joined by a veth pair"
# the sender's kernel leaves UDP checksums to the (virtual) NIC; DPDK on the
# other end checks them, so the ETR side computes them in software
if command -v ethtool >/dev/null 2>&1; then
    ip netns exec "$nsx" ethtool -K "$vx" tx off >/dev/null 2>&1
    ok $? "checksums computed by the ETRs' kernel (ethtool -K tx off)"
else
    ok 1 "ethtool is needed to turn off veth checksum offload (tools/test installs it)"
fi

cat >"$work/lispms.yaml" <<EOF
server:
  listen: [10.77.0.1]
  port: 4342
  workers: 1
  reliable-transport: true
control:
  socket: $work/ctl.sock
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
if command -v tshark >/dev/null 2>&1; then
    ip netns exec "$nsx" tshark -n -q -i "$vx" -a duration:60 -w "$work/x.pcap" \
        >"$work/cap.log" 2>&1 &
    cap=$!
fi
ip netns exec "$nsm" "$lispmsd" -c "$work/lispms.yaml" >"$work/d.log" 2>&1 &
pid=$!
up=1
for _ in $(seq 1 100); do
    if grep -q "polling with" "$work/d.log"; then up=0; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
ok $up "lispmsd starts its fast path lcore on net_af_packet"
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

stat() { # stat FILTER [LABELS]: the sum of the samples lispmsctl prints for FILTER
    "$ctl" -s "$work/ctl.sock" stats "$1" 2>/dev/null | grep -F "${2:-}" |
        awk '{s += $NF} END {print s + 0}'
}
arp=$(stat fastpath_arp_replies)
[ "$arp" -ge 1 ]
ok $? "the fast path answered ARP for 10.77.0.10 ($arp)"
dg=$(stat fastpath_received_datagrams)
[ "$dg" -ge 204 ]
ok $? "the lcore handed $dg datagrams to the request core"
adm=$(stat session_admissions)
[ "$adm" -ge 4 ]
ok $? "the admissions are the shared request core's ($adm)"
for _ in $(seq 1 50); do # lcore 0 adds the port's statistics once a second
    port=$(stat fastpath_port_packets_total 'dir="rx"')
    [ "$port" -ge "$dg" ] && break
    sleep 0.1
done
[ "$port" -ge "$dg" ]
ok $? "port statistics reach the metrics ($port packets received)"

kill -TERM "$pid"
wait "$pid"
ok $? "lispmsd stops its lcores and exits 0 on SIGTERM"
pid=

if [ -n "$cap" ]; then
    sleep 1
    kill "$cap" 2>/dev/null
    wait "$cap" 2>/dev/null
    cap=
    count() { tshark -n -r "$work/x.pcap" -Y "$1" 2>/dev/null | wc -l; }
    c=$(count 'ip.src == 10.77.0.10 && lisp.type == 4')
    [ "$c" -ge 4 ]
    ok $? "tshark: $c Map-Notifies from the fast path address"
    c=$(count 'ip.src == 10.77.0.10 && lisp.type == 2')
    [ "$c" -ge 200 ]
    ok $? "tshark: $c Map-Replies from the fast path address"
    c=$(count 'ip.src == 10.77.0.1 && lisp-tcp')
    [ "$c" -ge 4 ]
    ok $? "tshark: $c reliable-transport segments from the kernel path"
    c=$(count 'arp.opcode == 2 && arp.src.proto_ipv4 == 10.77.0.10')
    [ "$c" -ge 1 ]
    ok $? "tshark: $c ARP replies for 10.77.0.10"
    c=$(count 'ip.src == 10.77.0.10 && (_ws.malformed || _ws.expert.severity >= 8388608)')
    [ "$c" -eq 0 ]
    ok $? "tshark: nothing malformed from the fast path ($c)"
else
    ok 1 "tshark is needed to check the messages (tools/test installs it)"
fi
exit $((failed > 0))
