# SPDX-License-Identifier: MIT
# Shared by the bench/ scenarios: a lispmsd configuration for lispms-bench's
# EID layout (tools/bench/layout.h), starting and stopping lispmsd, RSS and
# the load average. Source it; it defines functions only. The free port, the
# configuration's frame and starting lispmsd are tests/support/lib.sh's, as
# in every test script.
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../tests/support/lib.sh"

# bench_conf FILE PORT [IIDS] [FIRST_IID]: one site `bench` (key 1 HMAC-SHA-256,
# key 2 HMAC-SHA-1, secret "bench") covering the registered and unregistered
# ranges of every family in IIDS instances from FIRST_IID, proxy-reply on.
# No reply rate limit unless RRL says one (the server's default, 1000/s per
# ITR-RLOC, would hold the request storms of 16 sources at 16,000/s).
bench_conf() {
    local file=$1 port=$2 iids=${3:-1} iid=${4:-1000} prefixes="" i
    for ((i = 0; i < iids; i++)); do
        prefixes+="\"[$((iid + i))] 10.0.0.0/8\", \"[$((iid + i))] 2001:db8::/32\", "
        prefixes+="\"[$((iid + i))] 02:00:00:00:00:00/24\", "
    done
    lispms_conf "$file" "$port" "workers: ${WORKERS:-1}" \
        "registration-timeout: ${REG_TIMEOUT:-3600}" "keepalive: ${KEEPALIVE:-10}" \
        "reply-rate-limit: ${RRL:-0}" <<CONF
log:
  level: warning
sites:
  - name: bench
    keys:
      - {id: 1, algorithm: hmac-sha-256-128, secret: "bench"}
      - {id: 2, algorithm: hmac-sha-1-96, secret: "bench"}
    eid-prefixes: [${prefixes%, }]
    accept-more-specifics: true
    proxy-reply: true
CONF
}

# bench_port: a free UDP+TCP port on 127.0.0.1.
bench_port() { free_port both; }

# bench_start_ms LISPMSD CONF LOG: start lispmsd, wait (<= 10 s) until its
# control socket is there (lispms_start); prints its pid.
bench_start_ms() {
    lispms_start "$1" "$2" "$3" || return 1
    echo "$LISPMS_PID"
}

# bench_kill9 PID: SIGKILL and wait until the process is gone (it may not be
# a child of this shell, so `wait` cannot do it), at most 30 s.
bench_kill9() {
    kill -9 "$1" 2>/dev/null || return 0
    local i
    for ((i = 0; i < 3000; i++)); do
        [ -d "/proc/$1" ] || return 0
        sleep 0.01
    done
}

# bench_rss PID: resident set in KiB.
bench_rss() {
    awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# bench_load: the 1-minute load average.
bench_load() {
    cut -d' ' -f1 /proc/loadavg
}

# bench_meta SCRIPT ARGS...: a JSON line naming the machine, date, commit,
# load average and the exact command (bench/compare skips it).
bench_meta() {
    local script=$1
    shift
    local commit
    commit=$(git -C "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" rev-parse --short HEAD 2>/dev/null || echo unknown)
    printf '{"bench":"meta","case":"%s","date":"%s","commit":"%s","cpus":%s,"cpu":"%s","mem_gib":%s,"load1":%s,"command":"%s"}\n' \
        "$script" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$(nproc)" \
        "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo | tr -d '"')" \
        "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)" "$(bench_load)" \
        "bench/$script $*"
}

# bench_wait_line FILE REGEX SECONDS: wait until a line of FILE matches.
bench_wait_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# bench_capture PORT SECONDS FILE: on-wire frames and bytes on PORT (UDP and
# TCP, both directions, loopback) for SECONDS, as "frames bytes".
bench_capture() {
    if ! command -v dumpcap >/dev/null || ! command -v tshark >/dev/null; then
        echo "0 0"
        return
    fi
    dumpcap -q -i lo -s 64 -f "port $1" -a "duration:$2" -w "$3" >/dev/null 2>&1
    tshark -r "$3" -T fields -e frame.len 2>/dev/null |
        awk '{n++; b += $1} END {printf "%d %d\n", n, b}'
    rm -f "$3"
}
