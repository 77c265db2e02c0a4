#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The DPDK fast path's exception path to the kernel (issue 9) between two
# network namespaces this test creates and deletes, joined by a veth pair;
# nothing leaves them.
#
#   ns "m": lispmsd, its fast path on the veth (net_af_packet) answering for
#           10.77.0.10, fastpath.exception-iface creating a TAP there that
#           the test gives 10.77.0.10/24: the kernel's side of that address.
#           The veth itself has no IPv4 address, and rp_filter plus
#           arp_ignore keep the kernel from answering on it directly (an
#           AF_PACKET port leaves every frame to the kernel too), so all
#           the kernel says goes TAP -> DPDK -> veth.
#   ns "x": the peer at 10.77.0.2
#
# From x: ping 10.77.0.10 and a TCP exchange with a listener on 10.77.0.10
# in m work (DPDK -> TAP -> kernel -> TAP -> DPDK -> veth); LISP
# Map-Registers to 10.77.0.10:4342 are still the fast path's; the exception
# counters moved and nothing well formed was dropped; tshark checks what
# crossed the veth. Needs root and /dev/net/tun; prints a SKIP line
# otherwise.
#
# Usage: fastpath_exception.sh LISPMSD LISPMS-BENCH LISPMSCTL
set -u
lispmsd=$1
bench=$2
ctl=$3
. "$(dirname "$0")/fastpath_lib.sh"

fp_begin lfe -c /dev/net/tun
tap=lfet$$
sx() { ip netns exec "$nsm" sysctl -qw "$@"; }
sx net.ipv6.conf.all.disable_ipv6=1 && sx net.ipv6.conf.default.disable_ipv6=1 &&
    sx net.ipv4.conf.all.rp_filter=1 && sx net.ipv4.conf.default.rp_filter=1 &&
    sx "net.ipv4.conf.$vm.rp_filter=1" && sx "net.ipv4.conf.$vm.arp_ignore=8" &&
    sx net.ipv4.ip_forward=0 &&
    ip -n "$nsx" addr add 10.77.0.2/24 dev "$vx" &&
    ip -n "$nsm" link set lo up && ip -n "$nsm" link set "$vm" up &&
    ip -n "$nsx" link set lo up && ip -n "$nsx" link set "$vx" up
ok $? "two namespaces joined by a veth pair, no kernel address on the fast path's side"
fp_checksums_off
port_mac=$(ip netns exec "$nsm" cat "/sys/class/net/$vm/address")

lispms_conf "$work/lispms.yaml" 4342 "workers: 1" <<EOF
log:
  level: info
fastpath:
  eal-args: [--no-huge, --no-pci, -m, "512", --no-shconf, -l, "0", --no-telemetry,
             "--log-level=lib.eal:error"]
  port: "net_af_packet0,iface=$vm"
  addresses: [10.77.0.10]
  exception-iface: $tap
sites:
  - name: fabric
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
EOF
fp_capture_start
fp_start_lispmsd "$lispmsd" "its fast path with an exception interface"
tap_mac=$(ip netns exec "$nsm" cat "/sys/class/net/$tap/address" 2>/dev/null)
[ -n "$tap_mac" ] && [ "$tap_mac" = "$port_mac" ]
ok $? "the TAP $tap exists in lispmsd's namespace with the port's MAC ($tap_mac = $port_mac)"
ip -n "$nsm" addr add 10.77.0.10/24 dev "$tap" && ip -n "$nsm" link set "$tap" up
ok $? "the operator's part: the kernel's address on the TAP, link up"

# a TCP listener on the TAP's address: answers one line, bounded in time
ip netns exec "$nsm" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.10", 8077))
s.listen(4)
s.settimeout(30)
c, _ = s.accept()
c.settimeout(10)
line = c.recv(100)
c.sendall(b"pong " + line)
c.close()
' >"$work/lis.log" 2>&1 &
lis=$!
fp_kill_at_exit $lis
sleep 1 # tshark is capturing, the listener listening

ip netns exec "$nsx" ping -n -c 3 -i 0.3 -W 2 10.77.0.10 >"$work/ping.log" 2>&1 &&
    ! grep -q 'DUP!' "$work/ping.log" # the kernel answered beside the TAP
ok $? "ping 10.77.0.10 through DPDK, the TAP and the kernel: $(grep -E 'transmitted' "$work/ping.log")"

reply=$(ip netns exec "$nsx" python3 -c '
import socket
c = socket.create_connection(("10.77.0.10", 8077), timeout=5)
c.settimeout(5)
c.sendall(b"hello\n")
print(c.recv(100).decode().strip())
' 2>&1)
[ "$reply" = "pong hello" ]
ok $? "a TCP exchange with the kernel's listener on 10.77.0.10:8077 ($reply)"
wait "$lis" 2>/dev/null

ip netns exec "$nsx" "$bench" register --etrs 4 --eids-per-etr 10 --server 10.77.0.10:4342 \
    --count 200 --duration 10 --window 8 --json >"$work/r.out" 2>&1
python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))
sys.exit(0 if r["received"] >= 200 and r["lost"] == 0 else 1)' "$work/r.out"
ok $? "Map-Registers to 10.77.0.10:4342 are answered: $(head -c 160 "$work/r.out")"

dg=$(fp_stat fastpath_received_datagrams)
[ "$dg" -ge 200 ]
ok $? "LISP to the fast path address stays on the fast path ($dg datagrams)"
tk=$(fp_stat fastpath_exception_frames 'dir="to_kernel"')
fk=$(fp_stat fastpath_exception_frames 'dir="from_kernel"')
[ "$tk" -ge 6 ] && [ "$fk" -ge 6 ]
ok $? "exception frames counted both ways ($tk to the kernel, $fk from it)"
ed=$(fp_stat fastpath_exception_dropped)
[ "$ed" -eq 0 ]
ok $? "no exception frame dropped ($ed)"
dn=$(fp_stat fastpath_dropped 'reason="not_for_us"')
de=$(fp_stat fastpath_dropped 'reason="exception"')
[ "$dn" -eq 0 ] && [ "$de" -eq 0 ]
ok $? "nothing well formed dropped: it went to the kernel (not_for_us $dn, exception $de)"
arp=$(fp_stat fastpath_arp_replies)
[ "$arp" -ge 1 ]
ok $? "ARP for 10.77.0.10 still answered by the fast path ($arp)"

fp_stop_lispmsd
! ip -n "$nsm" link show "$tap" >/dev/null 2>&1
ok $? "the TAP is gone with lispmsd"

if fp_capture_stop; then
    c=$(fp_count "ip.src == 10.77.0.10 && icmp.type == 0 && eth.src == $port_mac")
    [ "$c" -ge 3 ]
    ok $? "tshark: $c ICMP echo replies from 10.77.0.10 with the port's MAC"
    c=$(fp_count 'ip.src == 10.77.0.10 && tcp.srcport == 8077 && tcp.flags.syn == 1 && tcp.flags.ack == 1')
    [ "$c" -ge 1 ]
    ok $? "tshark: $c SYN-ACKs from the kernel's listener"
    c=$(fp_count 'ip.src == 10.77.0.10 && lisp.type == 4')
    [ "$c" -ge 200 ]
    ok $? "tshark: $c Map-Notifies from the fast path address"
    c=$(fp_count 'ip.src == 10.77.0.10 && (_ws.malformed || _ws.expert.severity >= 8388608)')
    [ "$c" -eq 0 ]
    ok $? "tshark: nothing malformed from 10.77.0.10 ($c)"
fi
exit $((failed > 0))
