#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two revisions side by side in ONE run (issue 16: "no regression, ratios in
# one run against the previous commit"): each revision is built in release
# mode in its own worktree under /tmp (kept per commit, so a second run
# reuses the build), then the benchmarks run interleaved, A B / B A / A B...,
# so both see the same machine load:
#
#   codec         bench_codec --seconds 0.2 (encode, decode, HMAC per message kind)
#   ms_register   ms_register_bench -n 100000 -s 1 (the request core, no sockets)
#   ms_udp        bench/ms_udp.sh BUILD 20000 2 (lispmsd on loopback UDP + echo ceiling)
#   fabric        lispms-bench fabric: 1,000 ETRs x 10 EIDs on TCP sessions, all at
#                 once, until every record is ACKed (lispmsd, 1 worker)
#
# The scenario scripts are this tree's, the binaries each revision's. Prints
# JSON lines: a meta line, then one line per compared figure, the median of
# each side over the rounds and the ratio B/A, with "better" saying which
# way is good for that figure (as bench/compare judges it) and "verdict"
# better / worse / same (within the noise band, 10 % by default, NOISE=0.1).
# Every command has a time bound; a round that would end the run after
# BUDGET seconds (default 540, builds included) is not started, but two
# rounds (A B, then B A) always run. A build is kept per commit: a second
# comparison with the same revisions only runs the benchmarks (about 1 min
# per round); a cold build of both takes 3-8 min on 2 busy cores.
#
#   bench/compare.sh [REV_A [REV_B [ROUNDS]]]     default HEAD~1 HEAD 4
#   ONLY="codec ms_udp" bench/compare.sh ...       a subset of the benchmarks
#   KEEP=0 ...                                     remove the worktrees after
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/bench/lib.sh"
rev_a=${1:-HEAD~1}
rev_b=${2:-HEAD}
rounds=${3:-4}
only=${ONLY:-codec ms_register ms_udp fabric}
budget=${BUDGET:-540}
cache=${LISPMS_COMPARE_DIR:-/tmp/lispms-compare}
t0=$SECONDS
say() { echo "compare: $*" >&2; }
die() {
    say "$*"
    exit 2
}

sha_a=$(git -C "$root" rev-parse --verify "$rev_a^{commit}" 2>/dev/null) || die "no revision $rev_a"
sha_b=$(git -C "$root" rev-parse --verify "$rev_b^{commit}" 2>/dev/null) || die "no revision $rev_b"
mkdir -p "$cache" || die "cannot create $cache"
work=$(mktemp -d "${TMPDIR:-/tmp}/compare-run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# build SHA: a release build of SHA's tree in $cache/SHA (worktree + build),
# only what the benchmarks run; prints the build directory.
build() {
    local sha=$1 tree=$cache/$1 dir=$cache/$1/build-release
    if [ ! -d "$tree/.git" ] && [ ! -f "$tree/.git" ]; then
        rm -rf "$tree"
        git -C "$root" worktree add --detach "$tree" "$sha" >/dev/null 2>&1 ||
            die "git worktree add $tree $sha failed"
    fi
    # the transports no benchmark here uses are left out (less to build); a
    # build made with other options (an older compare.sh) is made again, so
    # both sides are always built alike
    local opts="--buildtype=release -Dtests=disabled -Ddpdk=disabled -Dquic=disabled"
    opts+=" -Dtls=disabled -Dsctp=disabled"
    if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$dir/compare-options" 2>/dev/null)" != "$opts" ]; then
        rm -rf "$dir"
        # shellcheck disable=SC2086 # opts is a list of options
        timeout 300 meson setup "$dir" "$tree" $opts >"$tree/setup.log" 2>&1 ||
            die "meson setup failed ($tree/setup.log)"
        echo "$opts" >"$dir/compare-options"
    fi
    timeout 600 nice ninja -C "$dir" src/daemon/lispmsd tools/lispms-bench bench/bench_codec \
        bench/ms_register_bench >"$tree/build.log" 2>&1 || die "build of $sha failed ($tree/build.log)"
    echo "$dir"
}

say "building ${sha_a:0:12} ($rev_a) and ${sha_b:0:12} ($rev_b) in $cache"
dir_a=$(build "$sha_a") || exit 2
dir_b=$(build "$sha_b") || exit 2
say "built in $((SECONDS - t0)) s"

# fabric BUILD: lispmsd and 1,000 ETRs x 10 EIDs registering on sessions at once.
fabric() {
    local b=$1 port d
    d=$(mktemp -d "$work/fabric.XXXXXX")
    port=$(bench_port)
    bench_conf "$d/lispms.yaml" "$port"
    lispms_start "$b/src/daemon/lispmsd" "$d/lispms.yaml" "$d/lispmsd.log" || return 1
    timeout 90 "$b/tools/lispms-bench" fabric --server "127.0.0.1:$port" --etrs 1000 \
        --eids-per-etr 10 --storm --duration 60 --json --quiet --case converge_1000x10
    lispms_stop
}

# run SIDE BUILD BENCH: one benchmark's JSON lines, tagged with the side.
run() {
    local side=$1 b=$2 what=$3 out
    out=$work/$side.jsonl
    case $what in
    codec) timeout 120 "$b/bench/bench_codec" --seconds 0.2 ;;
    ms_register) timeout 120 "$b/bench/ms_register_bench" -n 100000 -s 1 ;;
    ms_udp) timeout 180 "$root/bench/ms_udp.sh" "$b" 20000 2 ;;
    fabric) fabric "$b" ;;
    esac 2>>"$work/$side.err" | grep '^{' | grep -v '"bench":"meta"' |
        sed "s/^{/{\"side\":\"$side\",\"round\":$round,/" >>"$out"
}

load0=$(bench_load)
round_s=0
for ((round = 1; round <= rounds; round++)); do
    left=$((budget - (SECONDS - t0)))
    if [ "$round" -gt 2 ] && [ "$round_s" -gt "$left" ]; then
        say "round $round would not fit in the budget ($left s left): stopping"
        rounds=$((round - 1))
        break
    fi
    r0=$SECONDS
    for what in $only; do
        if ((round % 2)); then
            run a "$dir_a" "$what"
            run b "$dir_b" "$what"
        else
            run b "$dir_b" "$what"
            run a "$dir_a" "$what"
        fi
    done
    round_s=$((SECONDS - r0))
    say "round $round: $round_s s"
done

python3 - "$root/bench/compare" "$work/a.jsonl" "$work/b.jsonl" "${NOISE:-0.1}" <<EOF
import importlib.machinery, importlib.util, json, statistics, sys
loader = importlib.machinery.SourceFileLoader("bench_compare", sys.argv[1])
spec = importlib.util.spec_from_loader("bench_compare", loader)
cmp = importlib.util.module_from_spec(spec)
loader.exec_module(cmp)
noise = float(sys.argv[4])
print(json.dumps({"bench": "meta", "case": "compare.sh", "a": "$sha_a", "b": "$sha_b",
                  "rev_a": "$rev_a", "rev_b": "$rev_b", "rounds": $rounds,
                  "load1_start": $load0, "load1_end": float(open("/proc/loadavg").read().split()[0]),
                  "seconds": $SECONDS - $t0, "command": "bench/compare.sh $*"}))
def load(path):
    rows = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return rows
    for line in lines:
        try:
            o = json.loads(line)
        except ValueError:
            continue
        key = (o.get("bench"), o.get("case")) + tuple(f"{k}={o[k]}" for k in cmp.KEYS if k in o)
        for f, v in o.items():
            if f in ("side", "round", "cdf") or f in cmp.KEYS or f in cmp.SETUP:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                rows.setdefault(key, {}).setdefault(f, []).append(v)
    return rows
a, b = load(sys.argv[2]), load(sys.argv[3])
worse = []
for key in sorted(set(a) & set(b), key=str):
    for f in sorted(set(a[key]) & set(b[key])):
        ma, mb = statistics.median(a[key][f]), statistics.median(b[key][f])
        if ma == 0 and mb == 0:
            continue
        ratio = mb / ma if ma else None
        good = cmp.better(f, 2.0)  # which way is good: is doubling "better"?
        way = {"better": "higher", "worse": "lower"}.get(good)
        verdict = "same"
        if ratio is None or abs(ratio - 1) > noise:
            if way is None:
                verdict = "changed"
            elif (ratio is None or ratio > 1) == (way == "higher"):
                verdict = "better"
            else:
                verdict = "worse"
                worse.append(f"{key[0]}/{key[1]}/{f}={ratio:.3f}" if ratio else f"{key[0]}/{key[1]}/{f}")
        o = {"bench": "compare", "of": key[0], "case": key[1], "field": f, "a": ma, "b": mb,
             "ratio": round(ratio, 4) if ratio is not None else None, "better": way,
             "verdict": verdict, "n": min(len(a[key][f]), len(b[key][f]))}
        for k in key[2:]:
            name, _, val = k.partition("=")
            o[name] = val
        print(json.dumps(o))
# the headline: rates, medians and convergence, which tails and counts do not drown
head = [w for w in worse if any(k in w for k in ("per_sec", "ops_per", "p50", "converge_s", "ns_per"))]
print(json.dumps({"bench": "compare", "case": "summary", "noise": noise, "worse": len(worse),
                  "worse_headline": head, "worse_all": worse}))
EOF
rc=$?
[ "${KEEP:-1}" = 0 ] && for s in "$sha_a" "$sha_b"; do
    git -C "$root" worktree remove --force "$cache/$s" >/dev/null 2>&1
done
exit $rc
