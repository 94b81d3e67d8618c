#!/usr/bin/env bash
# kcat (librdkafka): metadata, produce, consume (Fetch, ListOffsets), query by time, a
# balanced group consumer (FindCoordinator/JoinGroup/SyncGroup/Heartbeat/OffsetCommit/
# LeaveGroup), and an idempotent producer (InitProducerId).
set -u
B="$1"
kcat -b "$B" -L -t captures >/dev/null
printf 'one\ntwo\nthree\n' | kcat -b "$B" -P -t captures -k key -p 0
printf 'idem\n' | kcat -b "$B" -P -t captures -X enable.idempotence=true -p 0
kcat -b "$B" -C -t captures -p 0 -o beginning -e -q >/dev/null
kcat -b "$B" -Q -t captures:0:1700000000000 >/dev/null
timeout 20 kcat -b "$B" -G capgroup-kcat -o beginning -c 3 -q -X enable.auto.commit=true \
    -X auto.commit.interval.ms=500 captures >/dev/null
true
