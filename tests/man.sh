#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The manual pages and the bash completion stay true to the code (TAP):
#  - lispmsd(8), lispmsctl(8), lispms.yaml(5) and lispms-bench(1) format
#    without a warning (groff -ww, and man --warnings -l when man-db is there);
#  - lispms.yaml(5) has every key and section of src/conf/schema*.c;
#  - lispmsd(8) every long option of src/daemon/main.c;
#  - lispmsctl(8) every option of tools/lispmsctl/lispmsctl.c and every
#    command `lispmsctl --help` lists;
#  - lispms-bench(1) every mode tools/bench/lispms_bench.c dispatches and
#    every long option of tools/bench/*.c; its completion the same lists;
#  - `lispmsd --version` shows every feature of src/daemon/build_features.c;
#  - the lispmsctl completion offers every command (it reads --help).
# The lists come from the sources and binaries, never from this file.
# Usage: man.sh SOURCE_ROOT BUILD_ROOT LISPMSD LISPMSCTL LISPMS-BENCH
set -u
. "$(dirname "$(readlink -f "$0")")/support/lib.sh"
src=$1
build=$2
lispmsd=$3
ctl=$4
bench=$5
echo "TAP version 13"
export LC_ALL=C.UTF-8 MANWIDTH=80
pages=("$build/docs/man/lispmsd.8" "$build/docs/man/lispmsctl.8"
    "$build/src/conf/lispms.yaml.5" "$build/docs/man/lispms-bench.1")

for p in "${pages[@]}"; do
    name=$(basename "$p")
    if [ ! -s "$p" ]; then
        ok 1 "$name was built"
        continue
    fi
    out=$(groff -ww -man -Tutf8 -z "$p" 2>&1)
    [ -z "$out" ] || echo "$out" | sed 's/^/# /' | head -n 20
    rc=0
    [ -z "$out" ] || rc=1
    if command -v man >/dev/null 2>&1; then
        mout=$(man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
        [ -z "$mout" ] || { echo "$mout" | sed 's/^/# /' | head -n 20; rc=1; }
    fi
    ok $rc "$name formats without a warning (groff -ww, man --warnings)"
done

# the text of a page as a reader sees it: one line per paragraph, no hyphenation
render() {
    groff -man -Tutf8 -P-cbou -rLL=1000n -rHY=0 "$1" 2>/dev/null | tr -s ' '
}

missing() { # missing PAGE-TEXT-FILE WORD...: the words the page lacks
    local text=$1 w out=
    shift
    for w in "$@"; do
        grep -qE -- "(^|[^A-Za-z0-9-])$w([^A-Za-z0-9-]|\$)" "$text" || out="$out $w"
    done
    echo "$out"
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for p in "${pages[@]}"; do render "$p" >"$work/$(basename "$p").txt"; done

long_options() { # the long options a C file declares in struct option tables
    grep -ohE '\{ *"[a-z][a-z0-9-]*", *(required|no|optional)_argument' "$@" |
        sed -E 's/\{ *"([a-z0-9-]*)".*/--\1/' | sort -u
}

keys=$(sed -n 's/.*\.key = "\([^"]*\)".*/\1/p' "$src"/src/conf/schema*.c | sort -u)
sections=$(sed -n 's/^\t\.name = "\([^"]\+\)",$/\1/p' "$src"/src/conf/schema*.c | sort -u)
m=
for k in $keys; do # a key, or a top-level key heading its section
    grep -qxF -e ".B ${k//-/\\-}" -e ".SS ${k//-/\\-}" -e ".SS ${k//-/\\-}[]" "${pages[2]}" || m="$m $k"
done
for k in $sections; do grep -qxF ".SS ${k//-/\\-}" "${pages[2]}" || m="$m $k"; done
[ -n "$keys" ] && [ -n "$sections" ] && [ -z "$m" ]
ok $? "lispms.yaml(5) has the $(echo $keys | wc -w) keys and $(echo $sections | wc -w) sections of schema*.c${m:+ (missing:$m)}"

opts=$(long_options "$src/src/daemon/main.c")
m=$(missing "$work/lispmsd.8.txt" $opts)
[ -n "$opts" ] && [ -z "$m" ]
ok $? "lispmsd(8) has its $(echo $opts | wc -w) options${m:+ (missing:$m)}"

opts=$(long_options "$src/tools/lispmsctl/lispmsctl.c")
cmds=$("$ctl" --help | sed -n '/^commands:/,$p' | sed -n 's/^  \([a-z][a-z -]*[a-z]\)\( \{2,\}\|\( [[\x27A-Z]\)\|$\).*/\1/p' | sed 's/ *$//')
m=$(missing "$work/lispmsctl.8.txt" $opts)
while IFS= read -r c; do
    grep -qE "^ *$c( |$)" "$work/lispmsctl.8.txt" || m="$m '$c'"
done <<<"$cmds"
[ -n "$opts" ] && [ "$(echo "$cmds" | wc -l)" -ge 5 ] && [ -z "$m" ]
ok $? "lispmsctl(8) has its $(echo $opts | wc -w) options and $(echo "$cmds" | wc -l) commands${m:+ (missing:$m)}"

modes=$(sed -n 's/.*strcmp(cmd, "\([a-z][a-z-]*\)") == 0.*/\1/p' "$src/tools/bench/lispms_bench.c" | sort -u)
opts=$(long_options "$src"/tools/bench/*.c; grep -ohE '"--[a-z][a-z0-9-]*"' "$src"/tools/bench/*.c | tr -d '"')
opts=$(echo "$opts" | sort -u)
m=
for w in $modes; do grep -qE "^ *$w( |$)" "$work/lispms-bench.1.txt" || m="$m $w"; done
m="$m$(missing "$work/lispms-bench.1.txt" $opts)"
[ -n "$modes" ] && [ -n "$opts" ] && [ -z "${m// /}" ]
ok $? "lispms-bench(1) has its $(echo $modes | wc -w) modes and $(echo $opts | wc -w) options${m:+ (missing:$m)}"

comp=$src/tools/completion/lispms-bench
m=
for w in $modes $opts; do grep -qE -- "(^|[ '])$w([ ')]|$)" "$comp" || m="$m $w"; done
[ -z "${m// /}" ]
ok $? "the lispms-bench completion offers every mode and option${m:+ (missing:$m)}"

features=$(sed -n 's/^\t{ "\([a-z0-9_-]*\)", .*/\1/p' "$src/src/daemon/build_features.c")
version=$("$lispmsd" --version)
echo "$version" | sed 's/^/# /'
m=
for f in $features; do echo "$version" | grep -qE "^  $f +[^ ]" || m="$m $f"; done
[ -n "$features" ] && [ -z "$m" ]
ok $? "lispmsd --version shows the $(echo $features | wc -w) features of build_features.c${m:+ (missing:$m)}"

if [ -f /usr/share/bash-completion/bash_completion ]; then
    out=$(PATH="$(dirname "$ctl"):$PATH" bash -c '
        . /usr/share/bash-completion/bash_completion
        . "$1"
        complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
            COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _lispmsctl; echo "${COMPREPLY[*]}"; }
        complete_words lispmsctl ""
        complete_words lispmsctl site ""
        complete_words lispmsctl -s /tmp/x session ""' _ "$src/tools/completion/lispmsctl" 2>&1)
    echo "$out" | sed 's/^/# /'
    first=$(echo "$cmds" | awk '{print $1}' | sort -u)
    m=
    for w in $first; do echo "$out" | sed -n 1p | grep -qw -- "$w" || m="$m $w"; done
    echo "$out" | sed -n 2p | grep -qw list && echo "$out" | sed -n 2p | grep -qw show &&
        echo "$out" | sed -n 3p | grep -qx drop && [ -z "$m" ]
    ok $? "the lispmsctl completion offers every command from --help${m:+ (missing:$m)}"
else
    skip "bash-completion is not installed"
fi
tap_plan
tap_status
