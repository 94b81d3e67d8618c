#!/usr/bin/env bash
# Runs every Keel fuzz target for a bounded time and prints execs/s and totals.
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# Corpora persist in BUILD_DIR/corpus/<target> (grown from the generated seeds, the
# committed regressions under fuzz/regressions/<target>/ and, for the protocol targets, the
# real-client captures under tests/protocol/captures/). Crashes land in
# BUILD_DIR/artifacts/<target>/ and fail the run. Every committed regression input is
# also replayed once first. Executions are added up in BUILD_DIR/fuzz-totals.tsv.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="$1"
seconds="$2"
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_request_frame fuzz_messages fuzz_record_batch fuzz_decompress_gzip
                                     fuzz_decompress_snappy fuzz_decompress_lz4 fuzz_decompress_zstd
                                     fuzz_log_recovery fuzz_raft_storage)
seeds="$build/seeds"
rm -rf "$seeds" && "$build/keel_fuzz_seeds" "$seeds" >/dev/null || { echo "fuzz: seed generation failed"; exit 1; }
failed=0
total_execs=0
printf '%-24s %8s %12s %10s %8s %s\n' target seconds execs execs/s corpus result
for t in "${targets[@]}"; do
    bin="$build/$t"
    corpus="$build/corpus/$t"
    artifacts="$build/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    extra=("$seeds/$t")
    regress="$root/fuzz/regressions/$t"
    if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
        extra+=("$regress")
        if ! "$bin" -runs=0 "$regress"/* >"$build/$t.regress.log" 2>&1; then
            echo "fuzz: $t fails on a committed regression input (see $build/$t.regress.log)"
            failed=1
        fi
    fi
    case "$t" in
        fuzz_request_frame) [ -d "$root/tests/protocol/captures" ] && extra+=("$root/tests/protocol/captures") ;;
    esac
    log="$build/$t.log"
    "$bin" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" "${extra[@]}" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    execs=${execs:-0}
    result=ok
    if [ $rc -ne 0 ]; then
        result="CRASH (rc $rc; input in $artifacts, log $log)"
        failed=1
    fi
    total_execs=$((total_execs + execs))
    printf '%-24s %8s %12s %10s %8s %s\n' "$t" "$seconds" "$execs" "${rate:-0}" "$(ls "$corpus" | wc -l)" "$result"
    printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "$execs" >>"$build/fuzz-totals.tsv"
done
all=$(awk -F'\t' '{s += $4} END {print s + 0}' "$build/fuzz-totals.tsv")
echo "fuzz: $total_execs executions in this run; $all in total recorded in $build/fuzz-totals.tsv"
exit $failed
