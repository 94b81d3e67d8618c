#!/bin/sh
# Fault-efficacy gate: a fault kind that takes effect in fewer than MIN of the runs that
# requested it fails the test (docs/simulator.md, "Fault efficacy"). Sized for a busy
# 2-core machine: counter-chaos over 100 seeds and quorum-chaos over 40 seeds with a 10 s
# fault phase (the measured table over 200 full-length seeds is in docs/simulator.md).
# Seeds are fixed, so the verdict is deterministic for a given binary.
set -u
keel="$1"
min="${KEEL_EFFICACY_MIN:-0.2}"
jobs="${KEEL_EFFICACY_JOBS:-2}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
run() {
    name="$1"; shift
    if "$keel" sim sweep "$name" --jobs "$jobs" --min-efficacy "$min" --json "$work/$name.json" "$@"; then
        echo "efficacy gate: $name passes (every kind >= $min)"
    else
        echo "efficacy gate: $name FAILED (see above: EFFICACY BELOW THE GATE, or a failing seed)"
        status=1
    fi
}
run counter-chaos --seeds 1-100 --param fault_seconds=20
run quorum-chaos --seeds 1-40 --param fault_seconds=10
exit $status
