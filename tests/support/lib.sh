# SPDX-License-Identifier: MIT
# The shell toolkit of lispms's test and bench scripts (bash). Source it:
#
#   . "$(dirname "$(readlink -f "$0")")/../support/lib.sh"
#
# It defines functions and two counters, nothing else runs.
#
# TAP (the format meson's `protocol: 'tap'` reads):
#   ok RC DESCRIPTION      "ok N - ..." when RC is 0, else "not ok N - ..."
#   skip REASON            "ok N - skipped # SKIP REASON"
#   skip_all REASON        "1..0 # SKIP REASON" and exit 0 (the whole test)
#   tap_plan               "1..N", the plan printed last
#   tap_status             0 when no check failed (the script's exit status)
#   n, failed              checks so far, checks failed so far
# lispmsd on loopback:
#   free_port [udp|tcp|both]         a free port on 127.0.0.1 (both: UDP and
#                                    TCP free on the same number; default)
#   lispms_conf FILE [ADDR:]PORT [SERVER-LINE...] <<EOF ... EOF
#                                    a configuration: server (listen ADDR,
#                                    default 127.0.0.1, port, the given lines),
#                                    control socket FILE's folder/ctl.sock, then
#                                    what stdin holds (sites:, log:, ...)
#   lispms_start LISPMSD CONF LOG [ARG...]
#                                    start lispmsd (env passes through; under
#                                    LISPMS_WRAP, e.g. "valgrind ..."), wait
#                                    (at most LISPMS_START_WAIT s, default 10)
#                                    until its control socket (a stale one is
#                                    removed first) exists; sets
#                                    LISPMS_PID; 1 (and LOG's tail on stderr)
#                                    when it died or never got ready
#   lispms_ready SOCKET PID LOG      the wait alone, for daemons started by
#                                    other means (several at once)
#   lispms_stop [SIGNAL]             stop LISPMS_PID (default TERM), wait for
#                                    it; its exit status
#   tap_cleanup WORK [PID...]        at exit: the plan, stop PIDs and
#                                    LISPMS_PID, remove WORK unless a check
#                                    failed (then say where it is kept)

n=0
failed=0

ok() { # ok RC DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}

skip() { # skip REASON
    n=$((n + 1))
    echo "ok $n - skipped # SKIP $1"
}

skip_all() { # skip_all REASON: nothing of this test can run here
    echo "1..0 # SKIP $*"
    exit 0
}

tap_plan() { echo "1..$n"; }

tap_status() { [ "$failed" -eq 0 ]; }

free_port() { # free_port [udp|tcp|both]
    local py=/usr/bin/python3
    [ -x "$py" ] || py=python3
    "$py" - "${1:-both}" <<'PYEOF'
import socket, sys
kind = sys.argv[1]
while True:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if kind != "both":
        break
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", port))
        break
    except OSError:
        pass
print(port)
PYEOF
}

lispms_conf() { # lispms_conf FILE [ADDR:]PORT [SERVER-LINE...] <<EOF ... EOF
    local file=$1 where=$2 addr=127.0.0.1 port line
    shift 2
    port=${where##*:}
    [ "$port" = "$where" ] || addr=${where%:*}
    {
        echo "server:"
        echo "  listen: [$addr]"
        echo "  port: $port"
        for line in "$@"; do echo "  $line"; done
        echo "control:"
        echo "  socket: $(dirname "$file")/ctl.sock"
        cat
    } >"$file"
}

# The site lispms-bench's fabric registers by default ([1000] 10.0.0.0/8,
# key 1 "bench"), at warning level: the body lispms_conf reads on stdin.
bench_site() {
    cat <<'SITE'
log:
  level: warning
sites:
  - name: bench
    keys:
      - {id: 1, algorithm: hmac-sha-256-128, secret: bench}
    eid-prefixes: ["[1000] 10.0.0.0/8"]
    accept-more-specifics: true
SITE
}

LISPMS_PID=
lispms_start() { # lispms_start LISPMSD CONF LOG [ARG...]
    local daemon=$1 conf=$2 log=$3 i
    shift 3
    local sock
    sock=$(dirname "$conf")/ctl.sock
    rm -f "$sock" # left by a daemon killed with SIGKILL: not a sign of readiness
    # shellcheck disable=SC2086 # LISPMS_WRAP is a command line, split on blanks
    ${LISPMS_WRAP:-} "$daemon" -c "$conf" "$@" >>"$log" 2>&1 &
    LISPMS_PID=$!
    lispms_ready "$sock" "$LISPMS_PID" "$log"
}

# lispms_ready SOCKET PID LOG: wait (LISPMS_START_WAIT s) for a lispmsd
# started in the background; 1 (and LOG's tail on stderr) if it never got ready
lispms_ready() {
    local sock=$1 pid=$2 log=$3 i
    # the control socket is made after every listening socket is bound
    # (src/daemon/main.c), so its presence means the daemon takes requests
    for ((i = 0; i < ${LISPMS_START_WAIT:-10} * 20; i++)); do
        [ -S "$sock" ] && kill -0 "$pid" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "lispmsd did not get ready (no $sock):" >&2
    tail -n 5 "$log" >&2
    return 1
}

lispms_stop() { # lispms_stop [SIGNAL]
    [ -n "$LISPMS_PID" ] || return 0
    local rc
    kill -"${1:-TERM}" "$LISPMS_PID" 2>/dev/null
    wait "$LISPMS_PID" 2>/dev/null
    rc=$?
    LISPMS_PID=
    return $rc
}

tap_cleanup() { # tap_cleanup WORK [PID...]
    local work=$1 p
    shift
    tap_plan
    for p in "$@" $LISPMS_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    LISPMS_PID=
    if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "# kept $work"; fi
}

# lispms-bench's --json lines (a line per case, "case": NAME):
#   json_field FILE CASE KEY         the KEY of CASE's line ("missing" if none)
#   expect FILE CASE KEY WANT DESC   ok when it equals WANT
#   atleast FILE CASE KEY MIN DESC   ok when it is a number >= MIN
json_field() {
    "${py:-python3}" -c 'import json,sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("case") == sys.argv[2]:
        v = o.get(sys.argv[3]); print(str(v).lower() if isinstance(v, bool) else v); break
else:
    print("missing")' "$@"
}

expect() {
    local got
    got=$(json_field "$1" "$2" "$3")
    [ "$got" = "$4" ]
    ok $? "$5 ($3 = $got, want $4)"
}

atleast() {
    local got
    got=$(json_field "$1" "$2" "$3")
    [ "$got" -ge "$4" ] 2>/dev/null
    ok $? "$5 ($3 = $got, want >= $4)"
}
