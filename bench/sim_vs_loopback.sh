#!/usr/bin/env bash
# The same cluster in the simulator and on loopback (docs/benchmarks.md): the data-chaos
# shape (3 controllers, 4 brokers, RF 3) at 1,000 records/s. On loopback: `keel cluster up`,
# a 4-partition topic, `keel produce` (acks=all) paced at 1,000 lines/s for 30 s and a
# consumer reading them all; prints the wall time and the CPU seconds the 7 server processes
# used (/proc/PID/stat). Then `keel bench cluster-sim --fault-seconds 0`: the simulator's
# wall time per simulated second for the same shape and rate. Figures only; not run by CI.
# Usage: bench/sim_vs_loopback.sh [KEEL_BINARY]   (default build/release/cli/keel)
set -euo pipefail
keel=${1:-build/release/cli/keel}
records=30000
dir=$(mktemp -d /tmp/keel-sim-vs-loopback-XXXXXX)
trap '"$keel" cluster down --dir "$dir/cluster" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

servers_cpu() {  # CPU seconds (user + system) of the cluster's server processes so far
    python3 - "$dir/cluster" <<'EOF'
import os, sys
tick, total = os.sysconf("SC_CLK_TCK"), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if sys.argv[1] not in open(f"/proc/{pid}/cmdline").read():
            continue
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    except OSError:
        pass
print(total / tick)
EOF
}

"$keel" cluster up --controllers 3 --brokers 4 --dir "$dir/cluster" >"$dir/up.log" 2>&1 || { cat "$dir/up.log"; exit 1; }
bootstrap=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['bootstrap'])" "$dir/cluster/cluster.json")
"$keel" topics --create --topic sim-vs-loopback --partitions 4 --replication-factor 3 --bootstrap-server "$bootstrap" >/dev/null
cpu0=$(servers_cpu)
t0=$(date +%s.%N)
python3 -c "
import sys, time
start, n = time.time(), int(sys.argv[1])
for i in range(n):
    sys.stdout.write('k%d:v%d\n' % (i, i))
    if i % 100 == 99:
        sys.stdout.flush()
        time.sleep(max(0.0, start + (i + 1) / 1000 - time.time()))
" "$records" | "$keel" produce --topic sim-vs-loopback --acks all --key-separator : --bootstrap-server "$bootstrap" >"$dir/produce.log" 2>&1 &
producer=$!
"$keel" consume --topic sim-vs-loopback --from-beginning --max-messages "$records" --timeout-ms 60000 \
    --bootstrap-server "$bootstrap" >"$dir/consumed.txt" 2>/dev/null
wait "$producer"
t1=$(date +%s.%N)
cpu1=$(servers_cpu)
echo "loopback: $(tail -1 "$dir/produce.log"); $(wc -l <"$dir/consumed.txt") consumed"
python3 -c "
import sys
wall, cpu = float(sys.argv[2]) - float(sys.argv[1]), float(sys.argv[4]) - float(sys.argv[3])
print('loopback: wall %.1f s; the 7 servers used %.2f CPU-s, %.1f ms of CPU per second' % (wall, cpu, 1000 * cpu / wall))
" "$t0" "$t1" "$cpu0" "$cpu1"
"$keel" bench cluster-sim --fault-seconds 0 | sed -n '1,5p'
