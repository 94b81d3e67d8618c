#!/usr/bin/env bash
# keel cluster up|status|down and keel nemesis on real processes (issue 10): a 3-node
# cluster of `keel server` processes, its status, a 15 s nemesis run (kill -9, SIGSTOP,
# SIGTERM restarts, a partition and a slow network through the servers' --net-faults
# files) that must report zero anomalies with acknowledged writes and faults that took
# effect, then down; and the commands' argument errors (exit 2).
# Usage: cluster_nemesis_test.sh PATH_TO_KEEL. Nothing here is timed: the commands wait
# with generous bounds of their own.
set -u
keel=${1:?usage: cluster_nemesis_test.sh PATH_TO_KEEL}
work=$(mktemp -d)
dir="$work/cluster"
cleanup() {
    "$keel" cluster down --dir "$dir" --timeout-ms 30000 >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/cli/check_lib.sh
. "$(dirname "$0")/../cli/check_lib.sh"

# Argument errors and help: no cluster is started.
check "cluster --help" 0 "$keel" cluster --help
check "nemesis --help" 0 "$keel" nemesis --help
check "cluster without subcommand" 2 "$keel" cluster
check "cluster unknown subcommand" 2 "$keel" cluster sideways
check "cluster up --nodes abc" 2 "$keel" cluster up --nodes abc --dir "$work/x"
check "cluster up --nodes 0" 2 "$keel" cluster up --nodes 0 --dir "$work/x"
check "cluster up --nodes with --controllers" 2 "$keel" cluster up --nodes 3 --controllers 3 --brokers 3 --dir "$work/x"
check "cluster up --controllers alone" 2 "$keel" cluster up --controllers 3 --dir "$work/x"
check "cluster up --set without =" 2 "$keel" cluster up --set foo --dir "$work/x"
check "cluster status --nodes" 2 "$keel" cluster status --nodes 3 --dir "$work/x"
check "cluster status of no cluster" 1 "$keel" cluster status --dir "$work/none"
check "cluster down of no cluster" 1 "$keel" cluster down --dir "$work/none"
check "nemesis without --cluster" 2 "$keel" nemesis --duration 15s
check "nemesis bad duration" 2 "$keel" nemesis --cluster "$dir" --duration soon
check "nemesis bad faults" 2 "$keel" nemesis --cluster "$dir" --faults kill,flood
check "nemesis empty fault kind" 2 "$keel" nemesis --cluster "$dir" --faults partition,,slow
check "nemesis bad acks" 2 "$keel" nemesis --cluster "$dir" --acks 0
check "nemesis of no cluster" 2 "$keel" nemesis --cluster "$work/none" --duration 15s

# The cluster.
check "cluster up --nodes 3" 0 "$keel" cluster up --nodes 3 --dir "$dir"
cat "$work/out"
has "up prints the bootstrap servers" "$work/out" "bootstrap servers: 127.0.0.1:"
has "cluster.json lists the nodes" "$dir/cluster.json" '"roles":"broker,controller"'
has "node-2 has Kafka's properties" "$dir/node-2/server.properties" "min.insync.replicas=2"
has "node-2 runs with no network fault" "$dir/node-2/net-faults.ack" "^cut 0"
# A malformed control line is logged and ignored; the server stays up (the nemesis below
# clears the file). Polled with a generous bound: the server re-reads it every 100 ms.
printf 'generation 5\ncut nonsense\nslow 127.0.0.1:1 150\n' >"$dir/node-2/net-faults"
for _ in $(seq 1 600); do grep -q "^generation 5" "$dir/node-2/net-faults.ack" 2>/dev/null && break; sleep 0.1; done
has "a malformed net-faults line is counted" "$dir/node-2/net-faults.ack" "^malformed 1"
has "the rest of the file applies" "$dir/node-2/net-faults.ack" "^slow 1"
has "a malformed net-faults line is logged" "$dir/node-2/server.log" "WARN.*net-faults.*ignored line 2 'cut nonsense'"
check "cluster up again is refused" 1 "$keel" cluster up --nodes 3 --dir "$dir"
has "the refusal says why" "$work/err" "a cluster runs in"
check "cluster status" 0 "$keel" cluster status --dir "$dir"
cat "$work/out"
has "status: brokers in metadata" "$work/out" "brokers in metadata: 1,2,3"
has "status: the quorum leader" "$work/out" "quorum leader (active controller): node [123], epoch"
check "cluster status --json" 0 "$keel" cluster status --dir "$dir" --json
has "status --json: every node up" "$work/out" '"state":"up"'

check "nemesis 15s" 0 "$keel" nemesis --cluster "$dir" --duration 15s --seed 144 --json "$work/nemesis.json"
cat "$work/out" "$work/err"
python3 - "$work/nemesis.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
problems = []
if r["check"]["anomalies"]: problems.append(f"anomalies {r['check']['anomalies']}")
if r["sends_ok"] <= 0: problems.append("no acknowledged write")
if r["faults_with_effect"] <= 0: problems.append("no fault took effect")
if not r["final_reads_complete"]: problems.append("the final read did not reach the high watermarks")
if any(not s["effect"] for s in r["steps"]): problems.append("a step had no effect")
# Seed 144's 15 s schedule has one fault of each default kind (prod/nemesis_schedule.h
# is deterministic).
missing = {"kill -9", "pause (SIGSTOP)", "stop (SIGTERM)", "isolate (cut)", "slow (delay)"} - {s["action"] for s in r["steps"]}
if missing: problems.append(f"no step {sorted(missing)}")
for kind in ("kill", "pause", "restart", "partition", "slow"):
    k = r["faults_by_kind"].get(kind, {"begun": 0, "with_effect": 0})
    if k["begun"] < 1 or k["with_effect"] != k["begun"]: problems.append(f"{kind}: {k}")
# A network fault took effect: its heal counted what the servers refused, closed or delayed.
for s in r["steps"]:
    if s["action"] != "heal network": continue
    bite = s["connects_refused"] + s["connections_closed"] if s["fault"] == "partition" else s["sends_delayed"]
    if bite <= 0: problems.append(f"{s['fault']} never bit: {s}")
print(("FAIL nemesis result: " + "; ".join(problems)) if problems else
      f"ok   nemesis result: {r['sends_ok']} acknowledged, {r['faults_with_effect']} faults with effect, 0 anomalies")
sys.exit(1 if problems else 0)
PY

check "cluster down" 0 "$keel" cluster down --dir "$dir"
cat "$work/out"
has "down stops node 1 on SIGTERM" "$work/out" "node 1 (pid [0-9]*): stopped on SIGTERM"
check "status after down: no broker answers" 1 "$keel" cluster status --dir "$dir"
has "status after down: nodes down" "$work/out" "node 3 (broker,controller) pid [0-9]*: down"
exit $fail
