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
# Interrupted (SIGTERM; SIGINT, which Ctrl-C sends, is handled alike but ignored by a
# background job of a script): exit 130, and the local cluster it started is
# stopped and its directory removed, so no server process is left behind.
"$keel" bench produce --records 50000000 --nodes 1 >"$work/int.out" 2>"$work/int.err" &
bench_pid=$!
cluster=""
for _ in $(seq 1 600); do
    cluster=$(sed -n 's/^starting a local cluster of 1 node(s) in \(.*\) \.\.\.$/\1/p' "$work/int.err")
    [ -n "$cluster" ] && [ -f "$cluster/cluster.json" ] && break
    sleep 0.1
done
sleep 1  # into the produce phase (an earlier signal is honoured too, once the cluster is up)
kill -TERM "$bench_pid"
wait "$bench_pid"
rc=$?
if [ "$rc" -eq 130 ]; then ok "interrupted bench exits 130"; else bad "interrupted bench exits 130 (got $rc)"; fi
has "it says it was interrupted" "$work/int.err" "interrupted"
if [ -n "$cluster" ] && ! pgrep -f "$cluster" >/dev/null; then ok "no server of the interrupted run is left"
else bad "no server of the interrupted run is left (cluster '$cluster': $(pgrep -af "${cluster:-none}"))"; fi
if [ -n "$cluster" ] && [ ! -e "$cluster" ]; then ok "the interrupted run's cluster directory is removed"
else bad "the interrupted run's cluster directory is removed ($cluster)"; fi

if command -v python3 >/dev/null 2>&1; then
    check "the JSON parses" 0 python3 -c 'import json,sys; [json.load(open(f)) for f in sys.argv[1:]]' \
        "$work/produce.json" "$work/consume.json"
fi
exit "$fail"
