# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The LISP-DDT fleet (issue 21): lispmsd hosts in network namespaces on one
# machine, shared by the fleet test (tests/integration/fleet.sh), the person's
# tool (tools/fleet) and the benchmark (bench/fleet.sh). Source it after
# tests/support/lib.sh; it defines functions and variables, nothing runs.
#
# Every host is a namespace PREFIX-NAME with one veth (eth0, 10.99.0.0/16 and
# fd99::/64, the same host number: 10.99.0.21 is fd99::21) whose peer
# (p-NAME) is a port of the bridge br0 in namespace PREFIX-sw; nothing is
# added to the namespace the caller runs in. Every lispmsd listens on both.
#
#   root   10.99.0.1   DDT root: authoritative [1000] 10/8 and [2000] 10/8,
#                      [1000] 10.0/16 -> node1, [2000] 10/8 -> node2, holes 15 min;
#                      authoritative [1000] 2001:db8::/32, 2001:db8::/44 ->
#                      node1 at fd99::11
#   node1  10.99.0.11  DDT node: [1000] 10.0.0/17 -> Map-Servers msa1, msa2,
#                      [1000] 10.0.128/17 -> msb1, msb2 (no hole left);
#                      authoritative [1000] 2001:db8::/44, 2001:db8::/47 ->
#                      msa1, msa2 at fd99::21, fd99::22, holes 10 min
#   node2  10.99.0.12  DDT node: authoritative [2000] 10/8, [2000] 10.0/16 ->
#                      msb1, msb2, holes 5 min (tells which level answered)
#   msa1/2 10.99.0.21/22  pair A: sites [1000] 10.0.0.0/17 and [1000] 2001:db8::/47
#   msb1/2 10.99.0.23/24  pair B: sites [1000] 10.0.128.0/17 and [2000] 10.0.0.0/16
#   mr1/2  10.99.0.31/32  Map-Resolvers, resolver socket :4342 on both
#                      families; mr1's root is 10.99.0.1, mr2's fd99::1 (so
#                      mr2 walks the tree from the root over IPv6)
#   etr    10.99.0.40  simulated ETRs (lispms-bench fabric), one per
#                      address of 10.99.1.x (group a), .2.x (b), .3.x (c), .4.x (d)
#   itr    10.99.0.41  ITRs: lispms-bench request and lig (either family)
#
# ETR groups (FLEET_ETRS ETRs of FLEET_PER EIDs each, half on UDP soft state,
# half on reliable-transport sessions), every ETR registers with BOTH
# Map-Servers of its pair (one lispms-bench fabric per group with
# --server MS1,MS2; its progress lines in WORK/etr/GROUP.err, per server):
#   a  [1000] 10.0.0.0 + k     pair A, locator 127.1.1.(1 + k / FLEET_PER)
#   b  [1000] 10.0.128.0 + k   pair B, locator 127.1.2.(1 + k / FLEET_PER)
#   c  [2000] 10.0.0.0 + k     pair B, locator 127.1.3.(1 + k / FLEET_PER)
#   d  [1000] 2001:db8:: + k   pair A, locator 127.1.4.(1 + k / FLEET_PER)
#      (IPv6 EIDs; the ETRs register over IPv4: lispms-bench fabric's
#      --server takes IPv4 only)
#
#   fleet_init PREFIX WORK LISPMSD LISPMSCTL BENCH   names and paths
#   fleet_net_up            namespaces, veths, the bridge, addresses
#   fleet_net_down          every process left in them killed, all deleted
#   fleet_start NAME        lispmsd on host NAME (configuration written first),
#                           waiting until it takes requests
#   fleet_start_all         the nine lispmsd at once, then waits for each
#   fleet_kill NAME [SIG]   signal NAME's lispmsd (default TERM) and wait
#   fleet_pid NAME          its pid (empty when not running)
#   fleet_ctl NAME ARGS...  lispmsctl against NAME's control socket
#   fleet_stat NAME METRIC  the sum of what `lispmsctl stats METRIC` prints
#   fleet_etrs_start [ARGS] the ETR groups (extra fabric arguments appended)
#   fleet_etrs_stop
#   fleet_etr_acked GROUP N what Map-Server N of the group's pair acked so far:
#                           "SESSION-RECORDS UDP-NOTIFIES" (its last progress line)
#   fleet_exec NAME CMD...  CMD inside host NAME's namespace
#   fleet_addr NAME, fleet_addr6 NAME   its IPv4 and IPv6 address
#   fleet_eid GROUP K       "[IID] a.b.c.d" of EID K of a group
#   fleet_locator GROUP K   the locator it registers with
#   fleet_ms GROUP N        the Map-Server host N (1, 2) of its pair
#   fleet_wait_registered NAME COUNT SECONDS   until NAME holds COUNT EIDs
#
# FLEET_RRL=N sets every lispmsd's reply-rate-limit (0: none; the benchmark's
# single ITR address would otherwise be held at the default per-ITR rate);
# FLEET_MR_TIMEOUT_MS the resolvers' timeout-ms (300).
# FLEET_SIGN=1 signs every Map-Referral (RFC 8111, docs/protocol.md D24):
# each DDT node and Map-Server gets an RSA key (openssl, WORK/keys), the
# resolvers the root's public key as trust anchor and the others as
# delegation-keys (fleet_sign_conf).

FLEET_HOSTS="root node1 node2 msa1 msa2 msb1 msb2 mr1 mr2 etr itr"
FLEET_GROUPS="a b c d"
FLEET_DAEMONS="root node1 node2 msa1 msa2 msb1 msb2 mr1 mr2"
FLEET_ETRS=${FLEET_ETRS:-4}
FLEET_PER=${FLEET_PER:-64} # a power of two <= 32768 (group b starts at EID 32768)
FLEET_PORT=4342

fleet_init() { # fleet_init PREFIX WORK LISPMSD LISPMSCTL BENCH
    FLEET_PREFIX=$1
    FLEET_WORK=$2
    FLEET_LISPMSD=$3
    FLEET_CTL=$4
    FLEET_BENCH=$5
}

fleet_ns() { echo "$FLEET_PREFIX$1"; }

fleet_addr() {
    case $1 in
    root) echo 10.99.0.1 ;;
    node1) echo 10.99.0.11 ;;
    node2) echo 10.99.0.12 ;;
    msa1) echo 10.99.0.21 ;;
    msa2) echo 10.99.0.22 ;;
    msb1) echo 10.99.0.23 ;;
    msb2) echo 10.99.0.24 ;;
    mr1) echo 10.99.0.31 ;;
    mr2) echo 10.99.0.32 ;;
    etr) echo 10.99.0.40 ;;
    itr) echo 10.99.0.41 ;;
    *) return 1 ;;
    esac
}

fleet_addr6() { # the same host number in fd99::/64
    local a
    a=$(fleet_addr "$1") || return 1
    echo "fd99::${a##*.}"
}

fleet_exec() {
    local ns
    ns=$(fleet_ns "$1")
    shift
    ip netns exec "$ns" "$@"
}

fleet_net_up() {
    local sw h ns i g
    sw=$(fleet_ns sw)
    mkdir -p "$FLEET_WORK" || return 1
    ip netns add "$sw" || return 1
    ip -n "$sw" link add br0 type bridge &&
        ip -n "$sw" link set br0 up && ip -n "$sw" link set lo up || return 1
    for h in $FLEET_HOSTS; do
        ns=$(fleet_ns "$h")
        ip netns add "$ns" &&
            ip link add eth0 netns "$ns" type veth peer name "p-$h" netns "$sw" &&
            ip -n "$sw" link set "p-$h" master br0 up &&
            ip -n "$ns" link set lo up &&
            ip -n "$ns" addr add "$(fleet_addr "$h")/16" dev eth0 &&
            ip -n "$ns" addr add "$(fleet_addr6 "$h")/64" dev eth0 nodad &&
            ip -n "$ns" link set eth0 up || return 1
    done
    # one source address per simulated ETR
    for g in 1 2 3 4; do
        for ((i = 1; i <= FLEET_ETRS; i++)); do
            ip -n "$(fleet_ns etr)" addr add "10.99.$g.$i/16" dev eth0 || return 1
        done
    done
}

fleet_net_down() {
    local h ns p
    for h in $FLEET_HOSTS sw; do
        ns=$(fleet_ns "$h")
        ip netns list 2>/dev/null | grep -q "^$ns\b" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
}

# The configuration of host NAME, on stdout.
fleet_conf() {
    local name=$1 addr addr6
    addr=$(fleet_addr "$name")
    addr6=$(fleet_addr6 "$name")
    local srv="127.0.0.1" # a resolver's Map-Server role stays on its loopback (D23)
    case $name in mr*) ;; *) srv="$addr, \"$addr6\"" ;; esac
    cat <<EOF
server:
  listen: [$srv]
  port: $FLEET_PORT
  workers: 1
  reliable-transport: true${FLEET_RRL:+
  reply-rate-limit: $FLEET_RRL}
control:
  socket: $FLEET_WORK/$name/ctl.sock
log:
  level: info
EOF
    case $name in
    root)
        cat <<EOF
ddt:
  authoritative-prefixes: ["[1000] 10.0.0.0/8", "[2000] 10.0.0.0/8", "[1000] 2001:db8::/32"]
  delegations:
    - {prefix: "[1000] 10.0.0.0/16", referrals: [10.99.0.11]}
    - {prefix: "[2000] 10.0.0.0/8", referrals: [10.99.0.12]}
    - {prefix: "[1000] 2001:db8::/44", referrals: ["fd99::11"]}
  hole-ttl: 15
EOF
        ;;
    node1)
        cat <<EOF
ddt:
  authoritative-prefixes: ["[1000] 10.0.0.0/16", "[1000] 2001:db8::/44"]
  delegations:
    - {prefix: "[1000] 10.0.0.0/17", map-servers: true, referrals: [10.99.0.21, 10.99.0.22]}
    - {prefix: "[1000] 10.0.128.0/17", map-servers: true, referrals: [10.99.0.23, 10.99.0.24]}
    - {prefix: "[1000] 2001:db8::/47", map-servers: true, referrals: ["fd99::21", "fd99::22"]}
  hole-ttl: 10
EOF
        ;;
    node2)
        cat <<EOF
ddt:
  authoritative-prefixes: ["[2000] 10.0.0.0/8"]
  delegations:
    - {prefix: "[2000] 10.0.0.0/16", map-servers: true, referrals: [10.99.0.23, 10.99.0.24]}
  hole-ttl: 5
EOF
        ;;
    msa1 | msa2 | msb1 | msb2)
        local prefixes='"[1000] 10.0.0.0/17", "[1000] 2001:db8::/47"'
        case $name in msb*) prefixes='"[1000] 10.0.128.0/17", "[2000] 10.0.0.0/16"' ;; esac
        cat <<EOF
sites:
  - name: fabric
    keys: [{id: 1, algorithm: hmac-sha-256-128, secret: bench}]
    eid-prefixes: [$prefixes]
    accept-more-specifics: true
    proxy-reply: true
EOF
        ;;
    mr1 | mr2)
        local root=10.99.0.1
        [ "$name" = mr2 ] && root='"fd99::1"'
        cat <<EOF
map-resolver:
  roots: [$root]
  listen: [$addr, "$addr6"]
  port: $FLEET_PORT
  ddt-port: $FLEET_PORT
  timeout-ms: ${FLEET_MR_TIMEOUT_MS:-300}
  retries: 1
EOF
        ;;
    esac
    [ -z "${FLEET_SIGN:-}" ] || fleet_sign_conf "$name"
}

# FLEET_SIGN: the lines fleet_conf appends for host NAME (its output ends
# inside ddt: or map-resolver:, or has neither), keys made on first use.
fleet_sign_conf() {
    local name=$1 k=$FLEET_WORK/keys h
    mkdir -p "$k"
    for h in root node1 node2 msa1 msa2 msb1 msb2; do
        [ -f "$k/$h.key" ] && continue
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/$h.key" \
            2>/dev/null && openssl pkey -in "$k/$h.key" -pubout -out "$k/$h.pub" || return 1
    done
    cat "$k/msa1.pub" "$k/msa2.pub" >"$k/msa.pub" # a pair: either may answer
    cat "$k/msb1.pub" "$k/msb2.pub" >"$k/msb.pub"
    case $name in
    root | node1 | node2) echo "  signing-key: $k/$name.key" ;;
    ms*) printf 'ddt:\n  signing-key: %s\n' "$k/$name.key" ;;
    mr*)
        cat <<EOF
  trust-anchors: $k/root.pub
  delegation-keys:
    - {prefix: "[1000] 10.0.0.0/16", key: $k/node1.pub}
    - {prefix: "[2000] 10.0.0.0/8", key: $k/node2.pub}
    - {prefix: "[1000] 10.0.0.0/17", key: $k/msa.pub}
    - {prefix: "[1000] 10.0.128.0/17", key: $k/msb.pub}
    - {prefix: "[2000] 10.0.0.0/16", key: $k/msb.pub}
EOF
        ;;
    esac
}

fleet_pid() {
    local f=$FLEET_WORK/$1/pid p
    [ -f "$f" ] || return 0
    p=$(cat "$f")
    kill -0 "$p" 2>/dev/null && echo "$p"
}

# fleet_launch NAME: lispmsd on host NAME (configuration written first), in
# the background; fleet_ready NAME waits for it (fleet_start does both)
fleet_launch() {
    local name=$1 dir=$FLEET_WORK/$1
    mkdir -p "$dir"
    fleet_conf "$name" >"$dir/lispms.yaml"
    rm -f "$dir/ctl.sock" # left by a lispmsd killed with SIGKILL
    ip netns exec "$(fleet_ns "$name")" "$FLEET_LISPMSD" -c "$dir/lispms.yaml" \
        >>"$dir/lispmsd.log" 2>&1 &
    echo $! >"$dir/pid"
}

fleet_ready() {
    lispms_ready "$FLEET_WORK/$1/ctl.sock" "$(cat "$FLEET_WORK/$1/pid")" \
        "$FLEET_WORK/$1/lispmsd.log"
}

fleet_start() { fleet_launch "$1" && fleet_ready "$1"; }

fleet_start_all() { # all at once, then wait for each
    local h
    for h in $FLEET_DAEMONS; do fleet_launch "$h" || return 1; done
    for h in $FLEET_DAEMONS; do fleet_ready "$h" || return 1; done
}

fleet_kill() { # fleet_kill NAME [SIGNAL]
    local p
    p=$(fleet_pid "$1")
    [ -n "$p" ] || return 0
    kill -"${2:-TERM}" "$p" 2>/dev/null
    # not always our child (tools/fleet stop): wait by polling, 10 s at most
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.05
    done
    wait "$p" 2>/dev/null
    rm -f "$FLEET_WORK/$1/pid"
    ! kill -0 "$p" 2>/dev/null
}

fleet_ctl() { # fleet_ctl NAME ARGS...
    local name=$1
    shift
    "$FLEET_CTL" -s "$FLEET_WORK/$name/ctl.sock" "$@"
}

fleet_stat() { # fleet_stat NAME METRIC [LABEL-FILTER]
    fleet_ctl "$1" stats "$2" 2>/dev/null | awk -v m="$2" -v f="${3:-}" \
        'index($1, m) == 1 && index($0, f) { s += $NF } END { print s + 0 }'
}

# ETR group g: first ETR number, instance, source base, Map-Server pair
fleet_group() {
    case $1 in
    a) echo "0 1000 10.99.1.1 msa" ;;
    b) echo "$((32768 / FLEET_PER)) 1000 10.99.2.1 msb" ;;
    c) echo "0 2000 10.99.3.1 msb" ;;
    d) echo "0 1000 10.99.4.1 msa" ;;
    esac
}

fleet_ms() { # fleet_ms GROUP N
    local first iid src pair
    read -r first iid src pair <<<"$(fleet_group "$1")"
    echo "$pair$2"
}

fleet_eid() { # fleet_eid GROUP K
    local k=$2 base=0 iid=1000
    if [ "$1" = d ]; then # lispms-bench's IPv6 layout: 2001:db8:: + k
        printf '[1000] 2001:db8::%x\n' "$k"
        return
    fi
    case $1 in b) base=$((128 << 8)) ;; c) iid=2000 ;; esac
    k=$((base + k))
    echo "[$iid] 10.0.$((k >> 8 & 255)).$((k & 255))"
}

fleet_locator() { # fleet_locator GROUP K
    local g=1
    case $1 in b) g=2 ;; c) g=3 ;; d) g=4 ;; esac
    echo "127.1.$g.$((1 + $2 / FLEET_PER))"
}

fleet_etrs_start() { # fleet_etrs_start [EXTRA FABRIC ARGUMENTS]
    local g n first iid src pair base family
    mkdir -p "$FLEET_WORK/etr"
    for g in $FLEET_GROUPS; do
        family=ipv4
        [ "$g" = d ] && family=ipv6
        read -r first iid src pair <<<"$(fleet_group "$g")"
        # lispms-bench numbers ETR i's address source + first + i
        IFS=. read -r o1 o2 o3 o4 <<<"$src"
        base=$(((o1 << 24 | o2 << 16 | o3 << 8 | o4) - first))
        base=$((base >> 24 & 255)).$((base >> 16 & 255)).$((base >> 8 & 255)).$((base & 255))
        # one lispms-bench for both Map-Servers of the pair: every ETR has a
        # UDP socket and a session to each (progress lines "ADDR:PORT: ...")
        fleet_exec etr "$FLEET_BENCH" fabric \
            --server "$(fleet_addr "${pair}1"):$FLEET_PORT,$(fleet_addr "${pair}2"):$FLEET_PORT" \
            --etrs "$FLEET_ETRS" --eids-per-etr "$FLEET_PER" --first-etr "$first" \
            --iid "$iid" --family $family --source "$base" --udp-share 0.5 --udp-interval 2 \
            --duration 20 --hold 3600 --json --case "$g" "$@" \
            >"$FLEET_WORK/etr/$g.json" 2>"$FLEET_WORK/etr/$g.err" &
        echo $! >"$FLEET_WORK/etr/$g.pid"
    done
}

fleet_etrs_stop() {
    local f p
    for f in "$FLEET_WORK"/etr/*.pid; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
        rm -f "$f"
    done
}

fleet_etr_acked() { # fleet_etr_acked GROUP N: "SESSION-ACKED UDP-NOTIFIED"
    local first iid src pair
    read -r first iid src pair <<<"$(fleet_group "$1")"
    awk -v s="$(fleet_addr "$pair$2"):$FLEET_PORT:" \
        '$1 == s { for (i = 2; i < NF; i++) {
                       if ($i == "acked") n = $(i + 1)
                       if ($i == "udp-notified") u = $(i + 1) } }
         END { print n + 0, u + 0 }' "$FLEET_WORK/etr/$1.err" 2>/dev/null
}

fleet_wait_registered() { # fleet_wait_registered NAME COUNT SECONDS
    local i got
    for ((i = 0; i < $3 * 10; i++)); do
        got=$(fleet_stat "$1" lispms_db_prefixes)
        [ "$got" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
