#!/usr/bin/env bash
# The keel command end to end: help everywhere, clear errors with a non-zero exit, and the
# machine-readable outputs whose keys are a contract.
set -u
keel=${1:?usage: cli_test.sh PATH_TO_KEEL}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/cli/check_lib.sh
. "$(dirname "$0")/check_lib.sh"

check "keel --help" 0 "$keel" --help
check "keel with no command" 2 "$keel"
check "unknown command" 2 "$keel" frobnicate
check "keel version" 0 "$keel" version
for sub in sim viz bench; do check "keel $sub --help" 0 "$keel" $sub --help; done
check "sim run --help" 0 "$keel" sim run --help
check "sim run without --seed" 2 "$keel" sim run counter-calm
check "sim run with a bad seed" 2 "$keel" sim run counter-calm --seed abc
check "sim run unknown option" 2 "$keel" sim run counter-calm --seed 1 --bogus
check "sim run unknown scenario" 2 "$keel" sim run no-such-scenario --seed 1
check "sim run bad --faults" 2 "$keel" sim run counter-calm --seed 1 --faults "1s explode n1"
check "sim sweep without --seeds" 2 "$keel" sim sweep counter-calm
check "sim sweep bad range" 2 "$keel" sim sweep counter-calm --seeds 9-3
check "viz spacetime missing trace" 2 "$keel" viz spacetime "$work/none.jsonl" --out "$work/x.svg"

check "sim list" 0 "$keel" sim list
has "sim list shows the demo" "$work/out" "\[demo\]"
check "sim run writes trace and summary" 0 "$keel" sim run counter-calm --seed 3 --trace "$work/t.jsonl" --summary-json "$work/s.json"
has "run prints its seed" "$work/out" "seed 3"
has "run prints its replay command" "$work/out" "replay: keel sim run counter-calm --seed 3"
for key in seed events sim_time_ns wall_ns trace_hash faults ok; do has "summary has $key" "$work/s.json" "\"$key\":"; done
check "a failing run exits 1" 1 "$keel" sim run counter-bug-ack-before-persist --seed 1
check "sweep" 0 "$keel" sim sweep counter-calm --seeds 1-6 --jobs 2 --json "$work/w.json"
for key in runs failures failed_seeds; do has "sweep json has $key" "$work/w.json" "\"$key\":"; done
has "sweep counted six runs" "$work/w.json" '"runs":6'
check "sweep reports failing seeds" 1 "$keel" sim sweep counter-bug-ack-before-persist --seeds 1-3 --jobs 2 --json "$work/f.json"
has "failing sweep lists replay commands" "$work/out" "replay: keel sim run counter-bug-ack-before-persist --seed"
check "check-determinism" 0 "$keel" sim check-determinism counter-calm --seed 5

has "check-determinism agrees" "$work/out" "deterministic"
# Issue 13: refusals instead of silent defaults, shards and merge, fault efficacy.
check "check-determinism without --seed" 2 "$keel" sim check-determinism counter-calm
check "unwritable --trace" 2 "$keel" sim run counter-calm --seed 1 --trace "$work/no/such/dir/t.jsonl"
has "unwritable --trace says why" "$work/err" "cannot write --trace"
for s in raft-bug-figure8 raft-bug-forget-vote controller-failover quorum-disk-loss; do
    check "--faults refused by $s" 2 "$keel" sim run $s --seed 1 --faults "1s crash c1 for 1s"
    has "$s says it refuses --faults" "$work/err" "refuses --faults"
done
check "--faults naming an unknown node" 2 "$keel" sim run counter-chaos --seed 1 --faults "1s crash n9 for 1s"
has "unknown node is named" "$work/err" "names no node 'n9'"
check "summary has fault_efficacy" 0 "$keel" sim run counter-chaos --seed 2 --param fault_seconds=8 --summary-json "$work/e.json"
has "efficacy has requested" "$work/e.json" '"fault_efficacy":{"crash":{"requested":'
check "sweep shard 1/2" 0 "$keel" sim sweep counter-calm --seeds 1-5 --shard 1/2 --jobs 2 --json "$work/s1.json"
has "shard 1/2 ran seeds 1,3,5" "$work/s1.json" '"runs":3'
check "sweep shard 2/2" 0 "$keel" sim sweep counter-calm --seeds 1-5 --shard 2/2 --jobs 2 --json "$work/s2.json"
check "bad --shard" 2 "$keel" sim sweep counter-calm --seeds 1-5 --shard 3/2
check "merge shards" 0 "$keel" sim merge "$work/s1.json" "$work/s2.json" --json "$work/m.json"
has "merge counted five runs" "$work/m.json" '"runs":5'
has "merge has per-metric percentiles" "$work/m.json" '"acked_ops_p50":'
check "merge refuses overlapping shards" 2 "$keel" sim merge "$work/s1.json" "$work/s1.json"
check "merge refuses a non-sweep file" 2 "$keel" sim merge "$work/e.json"
check "merge keeps failures and replay commands" 1 "$keel" sim merge "$work/f.json"
has "merged failure replays" "$work/out" "replay: keel sim run counter-bug-ack-before-persist --seed"
check "sweep json efficacy" 0 "$keel" sim sweep counter-chaos --seeds 1-2 --jobs 2 --param fault_seconds=8 --json "$work/ce.json"
has "sweep efficacy contract keys" "$work/ce.json" '"fault_efficacy":{"[a-z-]*":{"runs_requested":[0-9]*,"runs_with_effect":'
# The gate fails on a fault kind that never bites: the two counter backups never talk,
# so a partition between them holds nothing.
check "efficacy gate fails on a kind that never bites" 1 "$keel" sim sweep counter-chaos --seeds 1-2 --jobs 2 \
    --faults "1s partition n2|n3 for 2s" --min-efficacy 0.5
has "gate names the kind" "$work/out" "EFFICACY BELOW THE GATE: partition: took effect in 0 of 2 runs"
check "efficacy gate passes when it bites" 0 "$keel" sim sweep counter-chaos --seeds 1-2 --jobs 2 \
    --faults "1s partition n1|n2 for 2s" --min-efficacy 0.5
check "viz spacetime" 0 "$keel" viz spacetime "$work/t.jsonl" --to 1s --out "$work/t.svg"
has "spacetime is an svg" "$work/t.svg" "<svg"
check "viz quorum mid-run" 0 "$keel" viz quorum --scenario quorum-chaos --seed 4 --at 12s --out "$work/q.dot" --json-out "$work/q.json"
has "viz quorum draws the voters" "$work/q.dot" "controllers (voters)"
has "viz quorum status has high watermarks" "$work/q.json" '"high_watermark":'
check "viz quorum from a status file" 0 "$keel" viz quorum --status "$work/q.json" --out "$work/q2.svg"
has "viz quorum svg" "$work/q2.svg" "<svg"
check "viz quorum of a controller scenario" 0 "$keel" viz quorum --scenario controller-brokers --seed 2 --at 25s --out "$work/cq.dot"
check "viz quorum of a non-quorum scenario" 2 "$keel" viz quorum --scenario counter-calm --seed 1 --at 1s --out "$work/x.dot"
check "viz quorum past the run's end" 2 "$keel" viz quorum --scenario controller-failover --seed 1 --at 900s --out "$work/x.dot"
check "viz quorum bad --at" 2 "$keel" viz quorum --scenario quorum-chaos --seed 1 --at soon --out "$work/x.dot"
check "viz quorum without --out" 2 "$keel" viz quorum --scenario quorum-chaos --seed 1 --at 1s
check "same seed, same summary hash" 0 "$keel" sim run counter-calm --seed 3 --summary-json "$work/s2.json"
h1=$(grep -o '"trace_hash":"[0-9a-f]*"' "$work/s.json"); h2=$(grep -o '"trace_hash":"[0-9a-f]*"' "$work/s2.json")
if [ -n "$h1" ] && [ "$h1" = "$h2" ]; then echo "ok   trace hash repeats"; else echo "FAIL trace hash differs: $h1 vs $h2"; fail=1; fi

check "bench log (small)" 0 "$keel" bench log --mb 2 --dir "$work/bl" --keep --json "$work/bl.json"
for key in append_mb_per_sec raw_write_mb_per_sec append_ratio read_mb_per_sec; do has "bench log json has $key" "$work/bl.json" "\"$key\""; done
seg=$(ls "$work"/bl/*/00000000000000000000.log | head -1)
check "dump-log of a kept segment" 0 "$keel" dump-log "$seg"
has "dump-log shows CRC status" "$work/out" "crc"
check "dump-log of a missing file" 1 "$keel" dump-log "$work/none.log"

check "pubsub --help" 0 "$keel" pubsub --help
check "pubsub demo" 0 "$keel" pubsub demo --publishers 3 --subscribers 4 --messages 30 --reset-after 7
has "pubsub demo checks every subscriber" "$work/out" "subscriber 3 (push callback)"
has "pubsub demo shows the replay" "$work/out" "resets to 0): .*offsets 0-[0-9]*, 0-89,"
check "pubsub demo bad count" 2 "$keel" pubsub demo --subscribers 1
check "pubsub unknown subcommand" 2 "$keel" pubsub frob
check "bench pubsub --help" 0 "$keel" bench pubsub --help
check "bench pubsub bad shapes" 2 "$keel" bench pubsub --shapes 2y2
check "bench pubsub (small)" 0 "$keel" bench pubsub --messages 3000 --reps 1 --shapes 1x1,2x2 --topics 2 --json "$work/ps.json"
for key in keel mutex_deque spsc_sub spsc spsc_fixed delivered_per_sec latency_p99_us ratio ratio_vs_spsc all_meet_target; do has "bench pubsub json has $key" "$work/ps.json" "\"$key\""; done

# keel groups: help, argument errors, and a clear error (exit 1) when no broker answers.
check "groups --help" 0 "$keel" groups --help
check "groups without a command" 2 "$keel" groups
check "groups describe without a group" 2 "$keel" groups describe
check "groups bad --bootstrap-server" 2 "$keel" groups list --bootstrap-server nocolon
check "groups against a closed port" 1 "$keel" groups list --bootstrap-server 127.0.0.1:1 --timeout-ms 2000
has "groups names the refused connection" "$work/err" "connection_refused"

# keel server / keel storage: help, config refusals naming the property, formatting.
check "server --help" 0 "$keel" server --help
has "server --help lists the properties" "$work/out" "controller.quorum.voters (1@localhost:9093)"
check "server with an unknown property" 2 "$keel" server --data-dir "$work/sd" --override socket.send.buffer.byts=1
has "the unknown property is named" "$work/err" "socket.send.buffer.byts"
check "server with a bad value" 2 "$keel" server --data-dir "$work/sd" --override num.partitions=-3
has "the bad property is named" "$work/err" "num.partitions"
printf 'node.id=7\ncontroller.quorum.voters=7@localhost:9093\nlog.dirs=%s\n' "$work/sd" >"$work/sd.properties"
check "storage random-uuid" 0 "$keel" storage random-uuid
cid=$(cat "$work/out")
if [ ${#cid} -eq 22 ]; then echo "ok   a cluster id has 22 characters"; else echo "FAIL cluster id '$cid'"; fail=1; fi
check "storage format without --cluster-id" 2 "$keel" storage format --config "$work/sd.properties"
check "storage format" 0 "$keel" storage format --config "$work/sd.properties" --cluster-id "$cid"
has "meta.properties has the cluster id" "$work/sd/meta.properties" "cluster.id=$cid"
has "meta.properties has the node id" "$work/sd/meta.properties" "node.id=7"
check "storage format twice" 1 "$keel" storage format --config "$work/sd.properties" --cluster-id "$cid"
check "storage format twice, --ignore-formatted" 0 "$keel" storage format --config "$work/sd.properties" --cluster-id "$cid" --ignore-formatted
check "storage info" 0 "$keel" storage info --config "$work/sd.properties"
has "storage info shows the cluster" "$work/out" "cluster.id=$cid node.id=7"
check "server refuses another cluster's directory" 1 "$keel" server --config "$work/sd.properties" --override cluster.id=other
has "the refusal names both clusters" "$work/err" "belongs to cluster $cid, not other"
check "server refuses another node's directory" 1 "$keel" server --data-dir "$work/sd"
has "the refusal names the node" "$work/err" "belongs to node 7"

exit $fail
