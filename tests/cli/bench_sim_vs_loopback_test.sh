#!/usr/bin/env bash
# keel bench sim-vs-loopback end to end, tiny (2 s at 200 records/s on the 7-node loopback
# cluster it starts, then data-chaos without faults in the simulator): exit 0, the JSON
# figures have their keys and every record produced was read back. No timing is asserted.
# Also the argument errors (exit 2), --help, and an interrupted run (exit 130, no server
# left, its directory removed).
set -u
keel=${1:?usage: bench_sim_vs_loopback_test.sh PATH_TO_KEEL}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/cli/check_lib.sh
. "$(dirname "$0")/check_lib.sh"

check "bench sim-vs-loopback --help" 0 "$keel" bench sim-vs-loopback --help
has "help names --rate" "$work/out" "--rate"
check "bench --help lists it" 0 "$keel" bench --help
has "bench help names sim-vs-loopback" "$work/out" "sim-vs-loopback"
check "--rate 0" 2 "$keel" bench sim-vs-loopback --rate 0
has "the error names --rate" "$work/err" "rate"
check "--seconds 0" 2 "$keel" bench sim-vs-loopback --seconds 0
has "the error names --seconds" "$work/err" "seconds"
check "--seconds not a number" 2 "$keel" bench sim-vs-loopback --seconds two
check "unknown option" 2 "$keel" bench sim-vs-loopback --bogus
check "a stray argument" 2 "$keel" bench sim-vs-loopback extra

check "sim-vs-loopback 2 s at 200/s" 0 "$keel" bench sim-vs-loopback --seconds 2 --rate 200 --json "$work/f.json"
dir=$(sed -n 's/^starting 3 controllers and 4 brokers in \(.*\) \.\.\.$/\1/p' "$work/err")
if [ -n "$dir" ] && [ ! -e "$dir" ]; then ok "the cluster's directory is removed"
else bad "the cluster's directory is removed ('$dir')"; fi
has "loopback figures" "$work/out" "ms of server CPU per second"
has "simulator figures" "$work/out" "ms of wall per simulated second"
for key in '"records_per_s":200' '"seconds":2' '"loopback":{' '"wall_s":' '"server_cpu_s":' \
           '"server_cpu_ms_per_s":' '"records":400' '"produced":400' '"consumed":400' '"failed":0' \
           '"duplicates":0' \
           '"latency_p50_ms":' '"latency_p99_ms":' '"sim":{' '"wall_ms_per_sim_s":' '"x_real_time":' \
           '"events_per_s":' '"ok":true' '"sim_ms_per_loopback_cpu_ms":'; do
    has "json $key" "$work/f.json" "$key"
done
if command -v python3 >/dev/null 2>&1; then
    check "the JSON parses" 0 python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/f.json"
fi

# Interrupted (SIGTERM, as Ctrl-C's SIGINT is handled alike): exit 130, the cluster stopped
# and its directory removed.
"$keel" bench sim-vs-loopback --seconds 600 --rate 100 >"$work/int.out" 2>"$work/int.err" &
bench_pid=$!
dir=""
for _ in $(seq 1 600); do
    dir=$(sed -n 's/^starting 3 controllers and 4 brokers in \(.*\) \.\.\.$/\1/p' "$work/int.err")
    [ -n "$dir" ] && [ -f "$dir/cluster.json" ] && break
    sleep 0.1
done
sleep 1
kill -TERM "$bench_pid"
wait "$bench_pid"
rc=$?
if [ "$rc" -eq 130 ]; then ok "interrupted bench exits 130"; else bad "interrupted bench exits 130 (got $rc)"; fi
has "it says it was interrupted" "$work/int.err" "interrupted"
if [ -n "$dir" ] && ! pgrep -f "$dir" >/dev/null; then ok "no server of the interrupted run is left"
else bad "no server of the interrupted run is left (dir '$dir': $(pgrep -af "${dir:-none}"))"; fi
if [ -n "$dir" ] && [ ! -e "$dir" ]; then ok "the interrupted run's directory is removed"
else bad "the interrupted run's directory is removed ($dir)"; fi
exit "$fail"
