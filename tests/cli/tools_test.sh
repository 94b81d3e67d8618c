#!/usr/bin/env bash
# The client tools end to end against a real `keel server` on loopback: keel topics
# (create, list, describe, alter, delete, delete-records), keel produce and keel consume (100
# keyed lines back exactly: keys, values, partitions, offsets, order per partition; acks,
# idempotence, compression), --group consumption with commits and `keel groups` showing
# lag 0, --reset-offsets (dry run, execute, refused while the group has a member), the
# argument errors (exit 2) and a refused connection (exit 1); and kcat reading what keel
# produced and the reverse, where kcat is installed.
set -u
keel=${1:?usage: tools_test.sh PATH_TO_KEEL}
work=$(mktemp -d)
server_pid=""
bg_pid=""
cleanup() {
    [ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/cli/check_lib.sh
. "$(dirname "$0")/check_lib.sh"
hasnt() {  # hasnt NAME FILE PATTERN
    if grep -q -- "$3" "$2"; then echo "FAIL $1: '$3' in $2"; fail=1; else echo "ok   $1"; fi
}

# --- argument errors and help: no server needed ---
for sub in topics produce consume groups; do check "$sub --help" 0 "$keel" $sub --help; done
check "topics without an action" 2 "$keel" topics
check "topics with two actions" 2 "$keel" topics --list --describe
check "topics --create without --topic" 2 "$keel" topics --create
check "topics --partitions 0" 2 "$keel" topics --create --topic x --partitions 0
check "topics bad --config" 2 "$keel" topics --create --topic x --config novalue
check "topics --alter without --partitions" 2 "$keel" topics --alter --topic x
check "topics --delete-config without --alter" 2 "$keel" topics --create --topic x --delete-config retention.ms
check "topics --alter with --replication-factor" 2 "$keel" topics --alter --topic x --replication-factor 3
check "topics --delete-records without --offset" 2 "$keel" topics --delete-records --topic x --partition 0
check "topics --offset without --delete-records" 2 "$keel" topics --list --offset 3
check "topics bad --bootstrap-server" 2 "$keel" topics --list --bootstrap-server nocolon
check "topics bad entry in a --bootstrap-server list" 2 "$keel" topics --list --bootstrap-server 127.0.0.1:1,nocolon
check "topics unknown option" 2 "$keel" topics --list --bogus
has "the unknown option is named" "$work/err" "bogus"
check "produce without --topic" 2 "$keel" produce
check "produce bad --acks" 2 "$keel" produce --topic x --acks 2
check "produce --idempotence with --acks 1" 2 "$keel" produce --topic x --acks 1 --idempotence
check "produce bad --compression" 2 "$keel" produce --topic x --compression brotli
check "consume without --topic" 2 "$keel" consume
check "consume --offset without --partition" 2 "$keel" consume --topic x --offset 3
check "consume --offset with --from-beginning" 2 "$keel" consume --topic x --partition 0 --offset 3 --from-beginning
check "consume --group with --partition" 2 "$keel" consume --topic x --group g --partition 0
check "consume bad --max-messages" 2 "$keel" consume --topic x --max-messages many
check "reset-offsets without a target" 2 "$keel" groups --reset-offsets --group g --topic x
check "reset-offsets with two targets" 2 "$keel" groups --reset-offsets --group g --topic x --to-earliest --to-latest
check "reset-offsets without --topic" 2 "$keel" groups --reset-offsets --group g --to-earliest
check "--execute without --reset-offsets" 2 "$keel" groups --describe --group g --execute
check "topics against a closed port" 1 "$keel" topics --list --bootstrap-server 127.0.0.1:1 --timeout-ms 2000
has "topics names the refused connection" "$work/err" "connection_refused"
echo hello >"$work/hello"
stdin="$work/hello" check "produce against a closed port" 1 "$keel" produce --topic x --bootstrap-server 127.0.0.1:1 --timeout-ms 2000
has "produce names the refused connection" "$work/err" "connection_refused"
check "consume against a closed port" 1 "$keel" consume --topic x --bootstrap-server 127.0.0.1:1
has "consume names the refused connection" "$work/err" "connection_refused"

# --- a real single-node server on free loopback ports ---
free_pair() {  # a free port P with P+1 free too
    python3 -c '
import socket
for _ in range(100):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    try:
        t = socket.socket(); t.bind(("127.0.0.1", p + 1)); t.close(); s.close(); print(p); break
    except OSError:
        s.close()'
}
start_server() {
    for attempt in 1 2 3 4 5; do
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        cport=$(free_pair)
        rm -rf "$work/data"
        cat >"$work/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
controller.listener.names=CONTROLLER
log.dirs=$work/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
group.initial.rebalance.delay.ms=0
cluster.id=keel-tools-test
EOF
        # warn and up, plus the trace events (checked at the end)
        "$keel" server --config "$work/server.properties" --log-level warn --trace-events >"$work/server.log" 2>&1 &
        server_pid=$!
        B=127.0.0.1:$port
        for _ in $(seq 1 60); do
            if "$keel" topics --list --bootstrap-server "$B" --timeout-ms 2000 >/dev/null 2>&1; then return 0; fi
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.5
        done
        kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""
        grep -q "Address already in use" "$work/server.log" || { sed 's/^/  | /' "$work/server.log" | tail -20; return 1; }
        echo "note: a port was taken meanwhile; new ports"
    done
    return 1
}
if ! start_server; then echo "FAIL keel server did not start"; exit 1; fi
echo "ok   keel server answers on $B"
k() { "$keel" "$@" --bootstrap-server "$B"; }

# --- a --bootstrap-server list, as Kafka's tools take it: a closed port first, then the server ---
check "topics --list with a bootstrap list" 0 "$keel" topics --list --bootstrap-server "127.0.0.1:1,$B"
stdin="$work/hello" check "produce with a bootstrap list" 0 "$keel" produce --topic listed --bootstrap-server "127.0.0.1:1,$B"
check "consume with a bootstrap list" 0 "$keel" consume --topic listed --from-beginning --max-messages 1 --timeout-ms 30000 --bootstrap-server "127.0.0.1:1,$B"
check "groups --list with a bootstrap list" 0 "$keel" groups --list --bootstrap-server "127.0.0.1:1,$B"

# --- topics ---
check "topics --create" 0 k topics --create --topic orders --partitions 3 --replication-factor 1 --config retention.ms=3600000
has "create says so" "$work/out" "Created topic orders"
check "topics --create again" 1 k topics --create --topic orders
has "the error names TOPIC_ALREADY_EXISTS" "$work/err" "TOPIC_ALREADY_EXISTS"
check "topics --create --json" 0 k topics --create --topic doomed --partitions 1 --json
has "create json" "$work/out" '"created":"doomed","topic_id":"'
check "topics --list" 0 k topics --list
has "list shows orders" "$work/out" "^orders$"
has "list shows doomed" "$work/out" "^doomed$"
hasnt "list hides internal topics" "$work/out" "__consumer_offsets"
check "topics --describe --topic" 0 k topics --describe --topic orders
has "describe counts partitions" "$work/out" "PartitionCount: 3"
has "describe shows the replication factor" "$work/out" "ReplicationFactor: 1"
has "describe shows leader, replicas, isr" "$work/out" "Partition: 2	Leader: 1	Replicas: 1	Isr: 1"
check "topics --describe --json" 0 k topics --describe --json
has "describe json" "$work/out" '"partition":0,"leader":1,"leader_epoch":[0-9]*,"replicas":\[1\],"isr":\[1\]'
check "topics --describe of an unknown topic" 1 k topics --describe --topic nosuch
has "unknown topic is named" "$work/err" "'nosuch' does not exist"
check "topics --create grow" 0 k topics --create --topic grow --partitions 1 --replication-factor 1
check "topics --alter" 0 k topics --alter --topic grow --partitions 4
has "alter says so" "$work/out" "grow"
check "topics --describe after alter" 0 k topics --describe --topic grow
has "alter added partitions" "$work/out" "PartitionCount: 4"
has "the new partition has a leader" "$work/out" "Partition: 3	Leader: 1	Replicas: 1	Isr: 1"
check "topics --alter to fewer" 1 k topics --alter --topic grow --partitions 2
has "fewer is refused by name" "$work/err" "INVALID_PARTITIONS"
check "topics --alter of an unknown topic" 1 k topics --alter --topic nosuch --partitions 2
check "topics --alter --config" 0 k topics --alter --topic grow --config retention.ms=1000 --config cleanup.policy=compact
check "topics --describe shows the configs" 0 k topics --describe --topic grow
has "describe lists the topic's configs" "$work/out" "Configs: cleanup.policy=compact,retention.ms=1000"
check "topics --alter --delete-config" 0 k topics --alter --topic grow --delete-config cleanup.policy
check "topics --describe --json after delete-config" 0 k topics --describe --topic grow --json
has "json configs" "$work/out" '"configs":{"retention.ms":"1000"}'
check "topics --alter with a bad config value" 1 k topics --alter --topic grow --config retention.ms=soon
has "a bad value is refused by name" "$work/err" "INVALID_CONFIG"
check "topics --describe of orders shows its creation config" 0 k topics --describe --topic orders
has "creation configs are shown" "$work/out" "Configs: retention.ms=3600000"
check "topics --delete" 0 k topics --delete --topic doomed
check "topics --list after delete" 0 k topics --list
hasnt "deleted topic is gone" "$work/out" "^doomed$"
check "topics --delete of an unknown topic" 1 k topics --delete --topic doomed

# --- produce 100 keyed lines, consume them back exactly ---
for i in $(seq 1 100); do echo "key-$((i % 10))|value-$i"; done >"$work/lines"
stdin="$work/lines" check "produce 100 keyed lines" 0 k produce --topic orders --key-separator "|" --json
cp "$work/out" "$work/produced.json"
has "produce summary" "$work/produced.json" '{"records":100,"acknowledged":100,"failed":0}'
check "consume them back" 0 k consume --topic orders --from-beginning --json --max-messages 100 --timeout-ms 30000
cp "$work/out" "$work/consumed.json"
has "consume counts" "$work/err" "Processed a total of 100 messages"
if python3 - "$work/lines" "$work/produced.json" "$work/consumed.json" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
produced = [json.loads(l) for l in open(sys.argv[2]) if '"line"' in l]
consumed = [json.loads(l) for l in open(sys.argv[3])]
assert len(produced) == 100 and len(consumed) == 100, (len(produced), len(consumed))
got = {(r["partition"], r["offset"]): (r["key"], r["value"]) for r in consumed}
part_of_key = {}
for p in produced:
    key, value = lines[p["line"] - 1].split("|", 1)
    assert got.get((p["partition"], p["offset"])) == (key, value), (p, got.get((p["partition"], p["offset"])))
    assert part_of_key.setdefault(key, p["partition"]) == p["partition"], "one key, two partitions"
for part in {r["partition"] for r in consumed}:  # per partition, the order of production
    want = [lines[p["line"] - 1].split("|", 1)[1] for p in produced if p["partition"] == part]
    have = [r["value"] for r in consumed if r["partition"] == part]
    assert want == have, (part, want[:5], have[:5])
assert len(set(part_of_key.values())) > 1, "all keys on one partition"
EOF
then echo "ok   keys, values, partitions, offsets and order match"; else echo "FAIL consumed records differ"; fail=1; fi
check "consume one partition from an offset" 0 k consume --topic orders --partition 1 --offset 2 --max-messages 3 --print-key
n=$(wc -l <"$work/out")
if [ "$n" -eq 3 ]; then echo "ok   three records from partition 1"; else echo "FAIL $n records, wanted 3"; fail=1; fi
has "--print-key prints key<TAB>value" "$work/out" "^key-[0-9]	value-[0-9]*$"
check "consume an unknown partition" 1 k consume --topic orders --partition 9 --timeout-ms 1000
# --- delete records below an offset (DeleteRecords): the partition then starts there ---
check "topics --create purge" 0 k topics --create --topic purge --partitions 1
printf 'p0\np1\np2\np3\np4\n' >"$work/five"
stdin="$work/five" check "produce five records to purge" 0 k produce --topic purge
check "topics --delete-records" 0 k topics --delete-records --topic purge --partition 0 --offset 2 --json
has "the low watermark is the offset" "$work/out" '"partition":0,"low_watermark":2'
check "consume purge from its start" 0 k consume --topic purge --from-beginning --max-messages 3 --timeout-ms 30000
if [ "$(tr '\n' ' ' <"$work/out")" = "p2 p3 p4 " ]; then echo "ok   the records left start at offset 2"; else echo "FAIL after delete-records: $(cat "$work/out")"; fail=1; fi
check "topics --delete-records past the end" 1 k topics --delete-records --topic purge --partition 0 --offset 100
has "past the end is refused by name" "$work/err" "OFFSET_OUT_OF_RANGE"
check "topics --delete-records of an unknown topic" 1 k topics --delete-records --topic nosuch --partition 0 --offset 1 --timeout-ms 5000
for opts in "--acks 0" "--acks 1" "--idempotence" "--compression gzip" "--compression snappy" "--compression lz4" \
            "--compression zstd"; do
    t="t$(echo "$opts" | tr -dc 'a-z0-9')"
    printf 'a\nb\nc\n' >"$work/abc"
    stdin="$work/abc" check "produce $opts" 0 k produce --topic "$t" $opts
    check "consume what produce $opts sent" 0 k consume --topic "$t" --from-beginning --max-messages 3 --timeout-ms 30000
    if [ "$(sort "$work/out" | tr '\n' ' ')" = "a b c " ]; then echo "ok   $opts round trip"; else echo "FAIL $opts: $(cat "$work/out")"; fail=1; fi
done
printf 'no separator here\n' >"$work/nosep"
stdin="$work/nosep" check "a line without the key separator fails" 1 k produce --topic orders --key-separator "|"
has "the failure is counted" "$work/out" "1 record(s) sent, 0 acknowledged, 1 failed"

# --- a consumer group: consume and commit, lag 0; reset offsets ---
check "consume --group" 0 k consume --topic orders --group billing --from-beginning --max-messages 100 --timeout-ms 30000
has "the group read all" "$work/err" "Processed a total of 100 messages"
check "groups --describe" 0 k groups --describe --group billing
has "group lag is 0" "$work/out" "total lag 0"
check "groups --describe --json" 0 k groups --describe --group billing --json
has "json lag is 0" "$work/out" '"total_lag":0'
check "groups --list --json" 0 k groups --list --json
has "the group is listed" "$work/out" '"group":"billing"'
check "reset-offsets dry run" 0 k groups --reset-offsets --group billing --topic orders --to-earliest
has "dry run prints the plan" "$work/out" "orders-0 .* 0$"
has "dry run commits nothing" "$work/out" "dry run"
check "describe after the dry run" 0 k groups --describe --group billing
has "lag still 0" "$work/out" "total lag 0"
check "reset-offsets --to-offset --execute --json" 0 k groups --reset-offsets --group billing --topic orders --to-offset 2 --execute --json
has "to-offset plan" "$work/out" '"partition":0,"current":[0-9]*,"new":2}'
check "reset-offsets --to-earliest --execute" 0 k groups --reset-offsets --group billing --topic orders --to-earliest --execute
check "describe after the reset" 0 k groups --describe --group billing --json
has "lag is everything" "$work/out" '"total_lag":100'
check "consume --group again" 0 k consume --topic orders --group billing --max-messages 100 --timeout-ms 30000
has "the group read all again" "$work/err" "Processed a total of 100 messages"
# A group with a member is refused.
"$keel" consume --topic orders --group busy --timeout-ms 60000 --bootstrap-server "$B" >/dev/null 2>&1 &
bg_pid=$!
for _ in $(seq 1 60); do
    "$keel" groups --describe --group busy --bootstrap-server "$B" 2>/dev/null | grep -q "state Stable" && break
    sleep 0.5
done
check "reset-offsets of an active group" 1 k groups --reset-offsets --group busy --topic orders --to-earliest --execute
has "the refusal says why" "$work/err" "inactive"
kill "$bg_pid" 2>/dev/null; wait "$bg_pid" 2>/dev/null; bg_pid=""
check "topics --list once groups exist" 0 k topics --list
hasnt "list hides __consumer_offsets" "$work/out" "__consumer_offsets"
check "topics --describe of the internal topic by name" 0 k topics --describe --topic __consumer_offsets

# --- kcat reads what keel wrote, keel reads what kcat wrote ---
if command -v kcat >/dev/null; then
    stdin="$work/lines" check "keel produce for kcat" 0 k produce --topic tokcat --key-separator "|"
    kcat -C -b "$B" -t tokcat -o beginning -e -q -f '%k|%s\n' >"$work/kcat.out" 2>"$work/kcat.err"
    if [ "$(sort "$work/kcat.out")" = "$(sort "$work/lines")" ]; then echo "ok   kcat reads keel's records"; else
        echo "FAIL kcat read $(wc -l <"$work/kcat.out") records"; fail=1; fi
    kcat -P -b "$B" -t fromkcat -K "|" <"$work/lines" 2>"$work/kcat.err"
    check "keel consume of kcat's records" 0 k consume --topic fromkcat --from-beginning --print-key --max-messages 100 --timeout-ms 30000
    if [ "$(tr '\t' '|' <"$work/out" | sort)" = "$(sort "$work/lines")" ]; then echo "ok   keel reads kcat's records"; else
        echo "FAIL keel read $(wc -l <"$work/out") of kcat's records"; fail=1; fi
else
    echo "skip kcat cross-check (kcat not installed)"
fi

# --- the server's log: --log-level warn drops INFO lines, --trace-events adds EVENT lines ---
has "the server log has trace events" "$work/server.log" " EVENT "
hasnt "the server log has no INFO line at --log-level warn" "$work/server.log" " INFO "
check "server --log-level bogus" 2 "$keel" server --log-level loud
has "the error names the levels" "$work/err" "debug, info, warn or error"

exit $fail
