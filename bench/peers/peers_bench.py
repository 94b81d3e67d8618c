#!/usr/bin/env python3
"""make bench-peers: Keel against NATS JetStream and Redis on this machine, on loopback,
the same records (count, size) appended with acknowledgements through a closed loop of at
most --window unacknowledged records, then read back. One run each; a table with the
ratios Keel / peer, and --json FILE with every figure (docs/benchmarks.md).

  keel       `keel bench consume`: a local 3-node cluster (separate server processes),
             RF 3, min.insync.replicas 2, acks=all, idempotent producer (C++, Keel's client)
  keel-fsync the same with log.flush.interval.messages=1 (an fsync per append) (--keel-fsync)
  nats-js    a 3-node nats-server cluster, a JetStream stream with 3 replicas on file
             storage; PUB with a reply inbox, acknowledged by the PubAck (nats_js.py)
  redis      one redis-server, appendonly yes, appendfsync always (no replica); pipelined
             XADD, read back with XRANGE pages (resp_redis.py)

The peers' clients are small Python clients (stdlib only); their CPU time is reported
(client_cpu_s) so a client-bound figure shows as such."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nats_js  # noqa: E402
import resp_redis  # noqa: E402


def run_keel(keel, args, workdir, extra_set=()):
    out = os.path.join(workdir, "keel-%d.json" % len(os.listdir(workdir)))
    cmd = [keel, "bench", "consume", "--records", str(args.records), "--record-size", str(args.record_size),
           "--acks", "all", "--nodes", "3", "--replication", "3", "--partitions", str(args.partitions),
           "--window", str(args.window), "--json", out]
    for kv in extra_set:
        cmd += ["--set", kv]
    print("+ " + " ".join(cmd), flush=True)
    rc = subprocess.call(cmd)
    if rc != 0 or not os.path.exists(out):
        raise RuntimeError("keel bench consume failed (exit %d)" % rc)
    with open(out) as f:
        return json.load(f)


def ratio(a, b):
    return round(a / b, 2) if b else None


def print_table(results):
    keel = results.get("keel")
    head = "%-11s %11s %8s %9s %9s %10s %9s %9s %11s" % (
        "system", "records/s", "MB/s", "p50 ms", "p99 ms", "read rec/s", "keel/x r/s", "x/keel p99", "keel/x read")
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        cols = (name, r["records_per_s"], r["mb_per_s"], r["latency_p50_ms"], r["latency_p99_ms"],
                r.get("consume_records_per_s", 0))
        line = "%-11s %11d %8.2f %9.2f %9.2f %10d" % cols
        if keel and name != "keel":
            line += " %9s %9s %11s" % (ratio(keel["records_per_s"], r["records_per_s"]),
                                        ratio(r["latency_p99_ms"], keel["latency_p99_ms"]),
                                        ratio(keel.get("consume_records_per_s", 0), r.get("consume_records_per_s", 0)))
        print(line)
    print("(keel/x r/s: Keel's produce rate over the system's; x/keel p99: the system's p99 over Keel's;"
          " keel/x read: Keel's read-back rate over the system's; > 1 favours Keel)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keel", required=True, help="the keel binary (a release build)")
    p.add_argument("--records", type=int, default=1000000)
    p.add_argument("--record-size", type=int, default=100)
    p.add_argument("--window", type=int, default=10000, help="records unacknowledged at most (every system)")
    p.add_argument("--partitions", type=int, default=1, help="Keel's partitions (default 1: one ordered log, "
                   "like one stream)")
    p.add_argument("--systems", default="keel,nats-js,redis", help="which to run, comma-separated "
                   "(keel, keel-fsync, nats-js, redis)")
    p.add_argument("--keel-fsync", action="store_true", help="also Keel with an fsync per append")
    p.add_argument("--json", help="write every figure here")
    args = p.parse_args()
    if args.records < 1 or args.record_size < 1 or args.window < 1 or args.partitions < 1:
        p.error("--records, --record-size, --window and --partitions must be positive")
    systems = [s for s in args.systems.split(",") if s]
    if args.keel_fsync and "keel-fsync" not in systems:
        systems.insert(1, "keel-fsync")
    for s in systems:
        if s not in ("keel", "keel-fsync", "nats-js", "redis"):
            p.error("unknown system %r" % s)
    for tool in (["nats-server"] if "nats-js" in systems else []) + (["redis-server"] if "redis" in systems else []):
        if shutil.which(tool) is None:
            sys.exit("bench-peers: %s is not installed (bench/peers/install_peers.sh)" % tool)
    load_before = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="keel-bench-peers-")
    results = {}
    try:
        for s in systems:
            print("== %s: %d records x %d B" % (s, args.records, args.record_size), flush=True)
            if s == "keel":
                results[s] = run_keel(args.keel, args, workdir)
            elif s == "keel-fsync":
                results[s] = run_keel(args.keel, args, workdir, ["log.flush.interval.messages=1"])
            elif s == "nats-js":
                results[s] = nats_js.run(workdir, args.records, args.record_size, args.window)
            else:
                results[s] = resp_redis.run(workdir, args.records, args.record_size, args.window)
            print(json.dumps(results[s]), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("machine: %d CPUs; 1-minute load average %.2f before, %.2f after (other work shares the machine)"
          % (os.cpu_count(), load_before, os.getloadavg()[0]))
    print_table(results)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        doc = {"records": args.records, "record_size": args.record_size, "window": args.window,
               "keel_partitions": args.partitions, "cpus": os.cpu_count(),
               "loadavg_1m_before": round(load_before, 2), "loadavg_1m_after": round(os.getloadavg()[0], 2),
               "systems": results}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
        print("figures: " + args.json)
    incomplete = [s for s, r in results.items() if r["acknowledged"] != args.records or r.get("consumed") != args.records]
    if incomplete:
        print("incomplete runs: " + ", ".join(incomplete))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
