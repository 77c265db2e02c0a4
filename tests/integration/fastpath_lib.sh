# SPDX-License-Identifier: MIT
# Shared by the DPDK fast path's namespace tests (fastpath_netns.sh,
# fastpath_exception.sh); source it, it defines functions (TAP and the
# configuration writer from tests/support/lib.sh) and prints the TAP header. Two network namespaces the test creates and deletes, "m" for
# lispmsd and "x" for its peer, joined by a veth pair ($vm in m, $vx in x);
# a capture on the peer's side; lispmsd started in m; TAP lines and the plan
# printed at exit, the work directory kept when a check failed.
#
#   fp_begin NAME [NEED...]   SKIP unless root, ip and a namespace work;
#                             NEED: extra "-c FILE" or "cmd PROGRAM" checks
#   fp_checksums_off          the peer's kernel computes its UDP checksums
#   fp_capture_start          tshark on $vx into $work/x.pcap (when present)
#   fp_start_lispmsd LISPMSD WHAT   run it in m, wait for its lcores to poll
#   fp_stop_lispmsd           SIGTERM and a check of its exit status
#   fp_capture_stop           end the capture; 0 when there is one to read
#   fp_count FILTER           frames of the capture matching a display filter
#   fp_stat FILTER [LABELS]   the sum of what `lispmsctl stats FILTER` prints
#   fp_kill_at_exit PID       one more process to stop at exit

. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../support/lib.sh"
echo "TAP version 13"
pid=
cap=
fp_pids=

fp_cleanup() {
    local p
    for p in $pid $cap $fp_pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    ip netns del "$nsm" 2>/dev/null
    ip netns del "$nsx" 2>/dev/null
    tap_plan
    if [ "$failed" -eq 0 ]; then rm -rf "$work"; else
        echo "# kept $work"
        sed 's/^/#   /' "$work/d.log" 2>/dev/null | tail -n 30
    fi
}

fp_begin() {
    local name=$1
    shift
    [ "$(id -u)" -eq 0 ] || skip_all "network namespaces need root"
    command -v ip >/dev/null 2>&1 || skip_all "iproute2 (ip) is not installed"
    while [ $# -ge 2 ]; do
        case $1 in
        -c) [ -c "$2" ] || skip_all "no $2" ;;
        cmd) command -v "$2" >/dev/null 2>&1 || skip_all "$2 is not installed" ;;
        esac
        shift 2
    done
    local tag=$$
    nsm=${name}m$tag
    nsx=${name}x$tag
    vm=${name}vm$tag
    vx=${name}vx$tag
    work=$(mktemp -d "/tmp/lispms-$name.XXXXXX")
    if ! ip netns add "$nsm" 2>"$work/ns.err"; then
        local why
        why=$(head -c 200 "$work/ns.err" 2>/dev/null)
        rm -rf "$work"
        skip_all "cannot create a network namespace ($why)"
    fi
    trap fp_cleanup EXIT
    ip netns add "$nsx" &&
        ip link add "$vm" type veth peer name "$vx" &&
        ip link set "$vm" netns "$nsm" && ip link set "$vx" netns "$nsx"
}

# The sender's kernel leaves UDP checksums to the (virtual) NIC; DPDK on the
# other end checks them, so the peer computes them in software.
fp_checksums_off() {
    if command -v ethtool >/dev/null 2>&1; then
        ip netns exec "$nsx" ethtool -K "$vx" tx off >/dev/null 2>&1
        ok $? "checksums computed by the peer's kernel (ethtool -K tx off)"
    else
        ok 1 "ethtool is needed to turn off veth checksum offload (tools/test installs it)"
    fi
}

fp_capture_start() {
    if command -v tshark >/dev/null 2>&1; then
        ip netns exec "$nsx" tshark -n -q -i "$vx" -a duration:60 -w "$work/x.pcap" \
            >"$work/cap.log" 2>&1 &
        cap=$!
        # tshark takes a while to start under load: frames sent before it
        # captures would be missed, so wait (<= 15 s) until it says so
        local i
        for ((i = 0; i < 150; i++)); do
            grep -q "Capturing on" "$work/cap.log" 2>/dev/null && break
            kill -0 "$cap" 2>/dev/null || break
            sleep 0.1
        done
    fi
}

fp_start_lispmsd() { # fp_start_lispmsd LISPMSD WHAT
    ip netns exec "$nsm" "$1" -c "$work/lispms.yaml" >"$work/d.log" 2>&1 &
    pid=$!
    local up=1
    for _ in $(seq 1 100); do
        if grep -q "polling with" "$work/d.log"; then up=0; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    ok $up "lispmsd starts $2"
}

fp_stop_lispmsd() {
    kill -TERM "$pid"
    wait "$pid"
    ok $? "lispmsd stops its lcores and exits 0 on SIGTERM"
    pid=
}

fp_capture_stop() {
    if [ -z "$cap" ]; then
        ok 1 "tshark is needed to check the messages (tools/test installs it)"
        return 1
    fi
    sleep 1
    kill "$cap" 2>/dev/null
    wait "$cap" 2>/dev/null
    cap=
}

fp_count() { tshark -n -r "$work/x.pcap" -Y "$1" 2>/dev/null | wc -l; }

fp_stat() { # the sum of the samples lispmsctl prints for FILTER [with LABELS]
    "$ctl" -s "$work/ctl.sock" stats "$1" 2>/dev/null | grep -F "${2:-}" |
        awk '{s += $NF} END {print s + 0}'
}

fp_kill_at_exit() { fp_pids="$fp_pids $1"; }
