#!/usr/bin/env bash
# keel bench produce | consume end to end against a 1-node local cluster it starts itself:
# the JSON figures have their keys and the counts match (2000 produced, acknowledged and
# read back). No timing is asserted. Also the argument errors (exit 2) and --help.
set -u
keel=${1:?usage: bench_server_test.sh PATH_TO_KEEL}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/cli/check_lib.sh
. "$(dirname "$0")/check_lib.sh"

check "bench produce --help" 0 "$keel" bench produce --help
has "help names --records" "$work/out" "--records"
check "bench consume --help" 0 "$keel" bench consume --help
check "bench produce --records 0" 2 "$keel" bench produce --records 0
has "the error names --records" "$work/err" "records"
check "bench produce bad --acks" 2 "$keel" bench produce --acks 2
check "bench produce --replication above --nodes" 2 "$keel" bench produce --nodes 1 --replication 3
check "bench produce unknown option" 2 "$keel" bench produce --bogus
check "bench produce bad --set" 2 "$keel" bench produce --set novalue

check "bench produce 2000 on 1 node" 0 "$keel" bench produce --records 2000 --nodes 1 --partitions 2 --json "$work/produce.json"
has "human figures" "$work/out" "records/s"
for key in '"bench":"produce"' '"records":2000' '"acknowledged":2000' '"failed":0' '"records_per_s":' \
           '"mb_per_s":' '"latency_p50_ms":' '"latency_p99_ms":' '"latency_p999_ms":'; do
    has "produce json $key" "$work/produce.json" "$key"
done

check "bench consume 2000 on 1 node" 0 "$keel" bench consume --records 2000 --nodes 1 --acks 1 --json "$work/consume.json"
for key in '"bench":"consume"' '"acknowledged":2000' '"consumed":2000' '"consume_records_per_s":' \
           '"consume_mb_per_s":' '"acks":"1"' '"idempotence":false'; do
    has "consume json $key" "$work/consume.json" "$key"
done
if command -v python3 >/dev/null 2>&1; then
    check "the JSON parses" 0 python3 -c 'import json,sys; [json.load(open(f)) for f in sys.argv[1:]]' \
        "$work/produce.json" "$work/consume.json"
fi
exit "$fail"
