#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Count test cases from meson's testlog.json files.

Every test prints TAP (Criterion with --tap, our plain executables through
tests/support/tap.h), so a case is an `ok` / `not ok` line. A test that failed
without a `not ok` line (crash, timeout, exit status) counts as one failure;
a test that passed without TAP output counts as one pass.

Usage: count.py [--label NAME] testlog.json... ; prints
    [NAME:] N passed, N failed, N skipped
"""
import json
import re
import sys

OK = re.compile(r'^ok\b')
NOT_OK = re.compile(r'^not ok\b')
SKIP = re.compile(r'#\s*SKIP', re.IGNORECASE)


def count(path):
    passed = failed = skipped = 0
    failures = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            p = fl = s = 0
            for out in (t.get('stdout') or '').splitlines():
                if NOT_OK.match(out):
                    fl += 1
                    failures.append(f"{t['name']}: {out}")
                elif OK.match(out):
                    if SKIP.search(out):
                        s += 1
                    else:
                        p += 1
            good = t['result'] in ('OK', 'EXPECTEDFAIL')
            if t['result'] == 'SKIP':
                s = max(s, 1)
            elif not good and fl == 0:
                fl = 1
                failures.append(f"{t['name']}: {t['result']}")
            elif good and p + fl + s == 0:
                p = 1
            passed += p
            failed += fl
            skipped += s
    return passed, failed, skipped, failures


def main(argv):
    label = None
    if len(argv) > 2 and argv[1] == '--label':
        label = argv[2]
        argv = argv[2:]
    tp = tf = ts = 0
    for path in argv[1:]:
        p, f, s, failures = count(path)
        tp, tf, ts = tp + p, tf + f, ts + s
        for x in failures[:50]:
            print(f"FAILED {x}", file=sys.stderr)
    prefix = f"{label}: " if label else ""
    print(f"{prefix}{tp} passed, {tf} failed, {ts} skipped")
    return 1 if tf else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
