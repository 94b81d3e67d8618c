#!/usr/bin/env bash
# The cross-build check must be able to fail: the same binary twice agrees with itself on a
# real scenario (exit 0), and a pair it cannot run (an unknown scenario) is a failure (exit
# 1), never "same" — the script once compared the previous pair's summary file instead.
# Usage: cross_build_self_check.sh PATH_TO_KEEL
set -u
keel=${1:?usage: cross_build_self_check.sh PATH_TO_KEEL}
script="$(dirname "$0")/cross_build.sh"
out=$(bash "$script" "$keel" "$keel" counter-chaos:1 2>&1)
if [ $? -ne 0 ] || ! grep -q "^same      counter-chaos seed 1" <<<"$out"; then
    echo "FAIL: the same binary does not agree with itself:"; echo "$out"; exit 1
fi
out=$(bash "$script" "$keel" "$keel" counter-chaos:1 no-such-scenario:1 2>&1)
if [ $? -ne 1 ] || ! grep -q "^DIFFERENT no-such-scenario seed 1" <<<"$out"; then
    echo "FAIL: an unknown scenario was not reported:"; echo "$out"; exit 1
fi
echo "ok: the cross-build check agrees with itself and reports a pair it cannot run"
