#!/usr/bin/env python3
"""Consumer groups of unmodified Kafka clients against `keel server` (issue 9).

One combined node with offsets.topic.replication.factor=1 (a single node cannot hold 3
replicas of __consumer_offsets, as in Kafka). With python3-confluent-kafka (librdkafka):
300 records produced; a consumer of group g1 reads half, commits synchronously and closes;
a second member of g1 resumes exactly at the committed offsets (no record lost, none read
twice) and its committed() answers them; two concurrent members of g2 split the partitions
(disjoint, covering every partition) and together read every record; AdminClient's
list_groups (ListGroups + DescribeGroups) shows g2 Stable with two members; `keel groups
describe g1` shows g1's committed offsets and its lag; kcat's balanced
consumer (-G) reads every record and its offsets are committed on exit; a static member
(group.instance.id) that restarts gets its partitions back.

Usage: server_groups_test.py KEEL_BINARY. Exit 77 (skipped) if confluent-kafka or kcat is
missing.
"""
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("server_clients_test", os.path.join(HERE, "server_clients_test.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

TOPIC = "group-orders"
RECORDS = 300
PARTITIONS = base.PARTITIONS
WAIT_S = base.WAIT_S
EXTRA = """offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
"""


def produce(bootstrap):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    errors = []
    for i in range(RECORDS):
        producer.produce(TOPIC, key=f"k{i}".encode(), value=f"v{i}".encode(),
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
        producer.poll(0)
    if producer.flush(WAIT_S) != 0 or errors:
        base.fail(f"produce: errors {errors[:3]}")


def consumer(bootstrap, group, **extra):
    from confluent_kafka import Consumer
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
    conf.update(extra)
    c = Consumer(conf)
    c.subscribe([TOPIC])
    return c


def read(c, want, deadline_s=WAIT_S):
    got = []
    deadline = time.monotonic() + deadline_s
    while len(got) < want and time.monotonic() < deadline:
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            base.fail(f"consumer: {msg.error()}")
        got.append((msg.partition(), msg.offset(), msg.value()))
    return got


def commit_and_resume(bootstrap):
    from confluent_kafka import TopicPartition
    a = consumer(bootstrap, "g1")
    first = read(a, RECORDS // 2)
    if len(first) < RECORDS // 2:
        base.fail(f"g1 first member read {len(first)} of {RECORDS // 2}")
    committed = a.commit(asynchronous=False)
    a.close()
    positions = {tp.partition: tp.offset for tp in committed}
    b = consumer(bootstrap, "g1")
    rest = read(b, RECORDS - len(first))
    seen = [(p, o) for p, o, _ in first + rest]
    if len(set(seen)) != RECORDS or len(seen) != RECORDS:
        base.fail(f"g1: {len(seen)} records, {len(set(seen))} distinct, want {RECORDS} exactly once")
    for p, o, _ in rest:
        if o < positions.get(p, 0):
            base.fail(f"g1 second member read partition {p} offset {o} below the commit {positions[p]}")
    got = b.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=30)
    for tp in got:
        if tp.offset != positions.get(tp.partition, -1001):
            base.fail(f"committed() for partition {tp.partition}: {tp.offset}, committed {positions}")
    b.close()
    print(f"ok: g1 committed {positions} after {len(first)} records; a new member resumed there and "
          f"read the other {len(rest)} exactly once")
    ends = {}
    for p, o, _ in first + rest:
        ends[p] = max(ends.get(p, 0), o + 1)
    return positions, ends


def keel_groups_cli(keel, bootstrap, positions):
    """`keel groups list` and `describe g1`: the lag is what g1 left uncommitted."""
    rc, out, err = base.run([keel, "groups", "--bootstrap-server", bootstrap, "list"])
    if rc != 0 or "g1" not in out.decode():
        base.fail(f"keel groups list: exit {rc}: {out.decode()} {err.decode()}")
    rc, out, err = base.run([keel, "groups", "--bootstrap-server", bootstrap, "describe", "g1"])
    text = out.decode()
    positions, ends = positions
    positions = {p: o for p, o in positions.items() if o >= 0}  # librdkafka: -1001 = nothing to commit
    want = sum(ends[p] - o for p, o in positions.items())
    if rc != 0 or f"total lag {want}" not in text:
        base.fail(f"keel groups describe g1: exit {rc}, want total lag {want}:\n{text}{err.decode()}")
    for p, o in positions.items():
        if f"{TOPIC}-{p}" not in text or f" {o} " not in text:
            base.fail(f"keel groups describe g1: no committed offset {o} for partition {p}:\n{text}")
    print(f"ok: keel groups describe g1 shows the committed offsets {positions} and total lag {want}:\n{text}")


def two_members(bootstrap):
    members = [consumer(bootstrap, "g2"), consumer(bootstrap, "g2")]
    got = [[], []]
    stop = threading.Event()

    def loop(i):
        while not stop.is_set():
            msg = members[i].poll(0.2)
            if msg is not None and not msg.error():
                got[i].append((msg.partition(), msg.offset()))

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + WAIT_S
    split = None
    while time.monotonic() < deadline:
        seen = set(got[0]) | set(got[1])
        if len(seen) >= RECORDS:
            split = [sorted(tp.partition for tp in m.assignment()) for m in members]
            if all(split) and not set(split[0]) & set(split[1]):
                break
        time.sleep(0.2)
    groups = admin_groups(bootstrap)
    stop.set()
    for t in threads:
        t.join()
    for m in members:
        m.close()
    if not split or not all(split) or set(split[0]) & set(split[1]) or \
            set(split[0]) | set(split[1]) != set(range(PARTITIONS)):
        base.fail(f"g2 assignments {split} do not split {PARTITIONS} partitions")
    if len(set(got[0]) | set(got[1])) != RECORDS:
        base.fail(f"g2 read {len(set(got[0]) | set(got[1]))} distinct records of {RECORDS}")
    g2 = groups.get("g2")
    if g2 is None or g2[0] != "Stable" or g2[1] != 2:
        base.fail(f"list_groups: g2 is {g2}, want Stable with 2 members (all: {groups})")
    print(f"ok: g2's two members split the partitions {split} and read all {RECORDS} records; "
          f"list_groups says {g2}")


def admin_groups(bootstrap):
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return {g.id: (g.state, len(g.members)) for g in admin.list_groups(timeout=30)}


def kcat_group(bootstrap):
    from confluent_kafka import Consumer, TopicPartition
    rc, out, err = base.run(["kcat", "-b", bootstrap, "-G", "g3", "-o", "beginning", "-c", str(RECORDS),
                             "-f", "%p %o\n", "-X", "session.timeout.ms=6000", TOPIC], timeout=WAIT_S)
    lines = [l for l in out.decode().splitlines() if l.strip()]
    if rc != 0 or len(set(lines)) != RECORDS:
        base.fail(f"kcat -G: exit {rc}, {len(set(lines))} distinct records of {RECORDS}: {err.decode()[-500:]}")
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g3"})
    got = c.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=30)
    c.close()
    ends = {}
    for line in lines:
        p, o = map(int, line.split())
        ends[p] = max(ends.get(p, -1), o + 1)
    for tp in got:
        if tp.offset != ends.get(tp.partition):
            base.fail(f"kcat -G committed {tp.partition}:{tp.offset}, read up to {ends}")
    print(f"ok: kcat -G read all {RECORDS} records and committed {ends} on exit")


def static_member(bootstrap):
    first = consumer(bootstrap, "g4", **{"group.instance.id": "worker-1"})
    read(first, 1)
    before = sorted(tp.partition for tp in first.assignment())
    first.close()  # a static member leaves no LeaveGroup: the group keeps its assignment
    again = consumer(bootstrap, "g4", **{"group.instance.id": "worker-1"})
    deadline = time.monotonic() + WAIT_S
    while not again.assignment() and time.monotonic() < deadline:
        again.poll(0.2)
    after = sorted(tp.partition for tp in again.assignment())
    again.close()
    if before != list(range(PARTITIONS)) or after != before:
        base.fail(f"static member: assignment {before} before its restart, {after} after")
    print(f"ok: static member worker-1 got {after} back after a restart")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        print("SKIP: python3-confluent-kafka is not installed")
        return base.SKIP
    if shutil.which("kcat") is None:
        print("SKIP: kcat is not installed")
        return base.SKIP
    workdir = tempfile.mkdtemp(prefix="keel-groups-test-")
    print(f"workdir {workdir} (kept with the server log if the test fails)")
    server = base.Server(os.path.abspath(sys.argv[1]), workdir, extra=EXTRA)
    try:
        server.start()
        produce(server.bootstrap)
        positions = commit_and_resume(server.bootstrap)
        keel_groups_cli(server.keel, server.bootstrap, positions)
        two_members(server.bootstrap)
        kcat_group(server.bootstrap)
        static_member(server.bootstrap)
        if server.terminate() != 0:
            base.fail("keel server did not exit 0 on SIGTERM")
    finally:
        if server.proc and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
