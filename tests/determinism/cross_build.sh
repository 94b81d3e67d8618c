#!/usr/bin/env bash
# Determinism beyond one binary: the same scenario seed must give the same trace hash (and
# event count) when run by two differently built keel binaries, e.g. a debug and a release
# build. A difference means something in sim/ or core/ depends on the compiler's choices
# (uninitialised memory, unordered iteration, floating point, pointer values) instead of
# the seed.
#
#   tests/determinism/cross_build.sh KEEL_A KEEL_B [SCENARIO:SEED ...]
#
# With no SCENARIO:SEED pairs it checks a default set. Without a second binary (KEEL_B
# empty, or missing) it exits 77, which ctest reports as skipped. Exit 0: all equal;
# 1: a difference (each printed with both hashes and the replay command); 2: usage.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 KEEL_A KEEL_B [SCENARIO:SEED ...]" >&2
    exit 2
fi
a=$1
b=$2
shift 2
if [ -z "$b" ] || [ ! -x "$b" ]; then
    echo "skipped: no second keel binary (set KEEL_OTHER_KEEL or -DKEEL_OTHER_KEEL=PATH, or run make determinism-builds)"
    exit 77
fi
if [ ! -x "$a" ]; then
    echo "error: $a is not an executable keel binary" >&2
    exit 2
fi
pairs=("$@")
if [ ${#pairs[@]} -eq 0 ]; then
    pairs=(quorum-chaos:1 quorum-chaos:2 counter-chaos:1 counter-chaos:7 controller-brokers:1 raft-bug-figure8:1)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# hash and events of one run: "HASH EVENTS"
# (A run that writes no summary, e.g. an unknown scenario, gives "no-summary EXIT": never
# the previous pair's file, which once made an unknown scenario compare "same".)
summary() {
    local keel=$1 scenario=$2 seed=$3 out=$4 code=0
    rm -f "$out"
    "$keel" sim run "$scenario" --seed "$seed" --summary-json "$out" > /dev/null 2>&1 || code=$?
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["trace_hash"], s["events"])' "$out" 2>/dev/null ||
        echo "no-summary exit-$code"
}

fail=0
for pair in "${pairs[@]}"; do
    scenario=${pair%%:*}
    seed=${pair##*:}
    if [ "$scenario" = "$pair" ] || [ -z "$seed" ]; then
        echo "error: '$pair' is not SCENARIO:SEED" >&2
        exit 2
    fi
    ra=$(summary "$a" "$scenario" "$seed" "$tmp/a.json")
    rb=$(summary "$b" "$scenario" "$seed" "$tmp/b.json")
    if [ "$ra" = "$rb" ] && [ "${ra%% *}" != "no-summary" ]; then
        echo "same      $scenario seed $seed: hash ${ra%% *}, ${ra##* } events"
    else
        echo "DIFFERENT $scenario seed $seed: $a gives [$ra], $b gives [$rb]"
        echo "          replay: keel sim run $scenario --seed $seed --trace t.jsonl (with each binary, then diff the traces)"
        fail=1
    fi
done
exit $fail
