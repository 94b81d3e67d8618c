#!/usr/bin/env python3
"""python3-kafka (kafka-python 2.0.x, Debian) unmodified against `keel server` (issue 10).

First one combined node (offsets.topic.replication.factor=1, as Kafka needs on one node),
then the same against 3 combined nodes (RF 3, min ISR 2, the coordinator and the leaders
spread over the nodes). Checks, exactly: KafkaProducer (acks='all') sends 200 keyed records with headers to a 3-partition
topic that Metadata auto-creates; every record lands on the murmur2 partition of its key at
the next offset of that partition. A KafkaConsumer with assign + seek_to_beginning reads
them back (keys, values, headers, partitions, offsets, timestamps); beginning_offsets,
end_offsets and offsets_for_times (ListOffsets) answer exactly. Batches compressed with gzip, snappy,
lz4 and zstd (those whose Python module is installed) are read back exactly and are stored
compressed with that codec. Two KafkaConsumers of
one group split the partitions (disjoint, covering all), read every record and commit; 50
more records are produced and a third member of the group resumes at the committed offsets:
it reads exactly the 50 new records, and committed() answers the commits. KafkaAdminClient:
describe_cluster / list_topics (Metadata), list_consumer_groups (ListGroups),
describe_consumer_groups (FindCoordinator + DescribeGroups: Stable, one member with the
topic assigned), list_consumer_group_offsets (OffsetFetch), delete_consumer_groups; an
assigned consumer commits offsets with metadata to the empty group. KafkaAdminClient
create_topics (a new topic, TopicAlreadyExistsError, InvalidReplicationFactorError, an
invalid name, validate_only) and delete_topics (the topic disappears from Metadata and its
partition directories from disk; UnknownTopicOrPartitionError for a second delete); the
topic created again under the same name is empty. create_partitions, describe_configs and
alter_configs.

Usage: kafka_python_test.py KEEL_BINARY. Exit 77 (skipped) if python3-kafka is missing.
"""
import importlib.util
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("server_clients_test", os.path.join(HERE, "server_clients_test.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

TOPIC = "py-orders"
RECORDS = 200
MORE = 50
GROUP = "py-g1"
PARTITIONS = base.PARTITIONS
WAIT_S = base.WAIT_S
EXTRA = """offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
"""


class VersionsUsed(logging.Handler):
    """Collects the request classes kafka-python sends ("MetadataRequest_v1") from its debug log."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.used = set()

    def emit(self, record):
        if record.msg == "%s Request %d: %s":
            m = re.match(r"(\w+)Request_v(\d+)", type(record.args[2]).__name__)
            if m:
                self.used.add(f"{m.group(1)} v{m.group(2)}")


def produce(bootstrap, first, count, topic=TOPIC, **extra):
    """Sends records first..first+count-1; returns {(partition, offset): (key, value, headers, ts)}."""
    from kafka import KafkaProducer
    conf = dict(bootstrap_servers=bootstrap, acks="all", linger_ms=5, retries=5,
                max_in_flight_requests_per_connection=1, request_timeout_ms=60000)
    conf.update(extra)
    producer = KafkaProducer(**conf)
    futures = []
    for i in range(first, first + count):
        key, value = f"k{i}".encode(), f"v{i}".encode()
        headers = [("n", str(i).encode()), ("src", b"kafka-python")]
        futures.append((key, value, headers, producer.send(topic, key=key, value=value, headers=headers)))
    producer.flush(timeout=WAIT_S)
    sent = {}
    for key, value, headers, f in futures:
        md = f.get(timeout=WAIT_S)
        if md.partition != base.partition_of(key):
            base.fail(f"{key} went to partition {md.partition}, murmur2 says {base.partition_of(key)}")
        sent[(md.partition, md.offset)] = (key, value, headers, md.timestamp)
    producer.close()
    return sent


def check_offsets(sent, start_offsets):
    """Each partition's records sit at consecutive offsets from its start, in send order."""
    per_partition = {}
    for p, o in sorted(sent):
        per_partition.setdefault(p, []).append(o)
    for p, offsets in per_partition.items():
        want = list(range(start_offsets.get(p, 0), start_offsets.get(p, 0) + len(offsets)))
        if offsets != want:
            base.fail(f"partition {p}: offsets {offsets[:5]}..., want {want[:5]}...")
    keys = [int(sent[k][0][1:]) for k in sorted(sent)]
    for p in per_partition:
        in_p = [int(sent[(p, o)][0][1:]) for o in per_partition[p]]
        if in_p != sorted(in_p):
            base.fail(f"partition {p}: records out of send order {in_p[:10]}")
    return len(keys)


def record_of(msg):
    return (msg.key, msg.value, [(k, bytes(v)) for k, v in msg.headers], msg.timestamp)


def check_offsets_for_times(c, tps, sent):
    """offsets_for_times (ListOffsets by timestamp): for the timestamp of each partition's
    middle record, the first offset whose timestamp is at least that."""
    query, want = {}, {}
    for tp in tps:
        mine = sorted((o, sent[(q, o)][3]) for q, o in sent if q == tp.partition)
        ts = mine[len(mine) // 2][1]
        query[tp] = ts
        want[tp.partition] = min(o for o, t in mine if t >= ts)
    got = {tp.partition: (r.offset if r else None) for tp, r in c.offsets_for_times(query).items()}
    if got != want:
        base.fail(f"offsets_for_times {query}: {got}, want {want}")
    late = c.offsets_for_times({tp: max(t for *_, t in sent.values()) + 60000 for tp in tps})
    if any(r is not None for r in late.values()):
        base.fail(f"offsets_for_times after the last record: {late}, want None")


def assigned_read(bootstrap, sent, topic=TOPIC):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=1000)
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    c.assign(tps)
    c.seek_to_beginning()
    got = {}
    deadline = time.monotonic() + WAIT_S
    while len(got) < len(sent) and time.monotonic() < deadline:
        for tp, msgs in c.poll(timeout_ms=500).items():
            for m in msgs:
                got[(tp.partition, m.offset)] = record_of(m)
    ends = c.end_offsets(tps)
    starts = c.beginning_offsets(tps)
    check_offsets_for_times(c, tps, sent)
    c.close()
    if any(o != 0 for o in starts.values()):
        base.fail(f"beginning_offsets {starts}")
    if got != sent:
        diff = [k for k in set(got) | set(sent) if got.get(k) != sent.get(k)]
        base.fail(f"assign+seek_to_beginning read {len(got)} records of {len(sent)}; differing "
                  f"{sorted(diff)[:3]}: got {[got.get(k) for k in sorted(diff)[:3]]}, "
                  f"sent {[sent.get(k) for k in sorted(diff)[:3]]}")
    want_ends = {p: 1 + max(o for q, o in sent if q == p) for p, _ in sent}
    if {tp.partition: o for tp, o in ends.items()} != want_ends:
        base.fail(f"end_offsets {ends}, want {want_ends}")
    print(f"ok: {topic}: assign + seek_to_beginning read all {len(sent)} records exactly "
          f"(keys, values, headers, partitions, offsets, timestamps); beginning_offsets, end_offsets "
          f"{want_ends}, offsets_for_times")


def group_consumer(bootstrap, **extra):
    from kafka import KafkaConsumer
    conf = dict(bootstrap_servers=bootstrap, group_id=GROUP, auto_offset_reset="earliest",
                enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=500,
                max_poll_interval_ms=120000, request_timeout_ms=130000)
    conf.update(extra)
    c = KafkaConsumer(**conf)
    c.subscribe([TOPIC])
    return c


class Member(threading.Thread):
    """Polls one group consumer on its own thread (kafka-python consumers are not thread
    safe); on `commit` it commits its positions, then waits for `close`."""

    def __init__(self, bootstrap):
        super().__init__()
        self.consumer = group_consumer(bootstrap)
        self.got = []
        self.assignment = []
        self.commit, self.committed, self.close = threading.Event(), threading.Event(), threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.commit.is_set():
                for tp, msgs in self.consumer.poll(timeout_ms=200).items():
                    self.got += [(tp.partition, m.offset) for m in msgs]
                self.assignment = sorted(tp.partition for tp in self.consumer.assignment())
            self.consumer.commit()
        except Exception as e:  # reported by the main thread
            self.error = e
        self.committed.set()
        self.close.wait()
        self.consumer.close()


def two_members(bootstrap, sent):
    members = [Member(bootstrap), Member(bootstrap)]
    for m in members:
        m.start()
    deadline = time.monotonic() + WAIT_S
    split = None
    while time.monotonic() < deadline:
        split = [m.assignment for m in members]
        seen = set(members[0].got) | set(members[1].got)
        if all(split) and not set(split[0]) & set(split[1]) and len(seen) >= len(sent):
            break
        time.sleep(0.2)
    for m in members:
        m.commit.set()
    for m in members:
        m.committed.wait(WAIT_S)
    for m in members:
        m.close.set()
        m.join(WAIT_S)
    errors = [m.error for m in members if m.error]
    if errors:
        base.fail(f"group members: {errors}")
    if not all(split) or set(split[0]) & set(split[1]) or set(split[0]) | set(split[1]) != set(range(PARTITIONS)):
        base.fail(f"{GROUP}: assignments {split} do not split {PARTITIONS} partitions")
    seen = set(members[0].got) | set(members[1].got)
    if seen != set(sent):
        base.fail(f"{GROUP}: the two members read {len(seen)} distinct records of {len(sent)}")
    print(f"ok: two members of {GROUP} split the partitions {split}, read all {len(sent)} records and committed")


def resume(bootstrap, ends, more):
    """A third member starts at the committed offsets: it reads exactly the newer records."""
    from kafka import TopicPartition
    c = group_consumer(bootstrap)
    committed = {p: c.committed(TopicPartition(TOPIC, p)) for p in range(PARTITIONS)}
    if committed != ends:
        base.fail(f"committed() answers {committed}, the members committed {ends}")
    got = set()
    deadline = time.monotonic() + WAIT_S
    while len(got) < len(more) and time.monotonic() < deadline:
        for tp, msgs in c.poll(timeout_ms=500).items():
            got |= {(tp.partition, m.offset) for m in msgs}
    # Nothing below the commits nor beyond the new records arrives later either.
    for _ in range(4):
        for tp, msgs in c.poll(timeout_ms=250).items():
            got |= {(tp.partition, m.offset) for m in msgs}
    if got != set(more):
        base.fail(f"the third member read {sorted(got)[:5]}... ({len(got)}), want the {len(more)} new records "
                  f"from {ends}")
    c.commit()
    print(f"ok: a third member resumed at the committed offsets {ends} and read exactly the {len(more)} new records")
    return c


def admin(bootstrap, brokers, live_member, ends_after):
    from kafka import KafkaAdminClient
    a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60000)
    cluster = a.describe_cluster()
    if len(cluster.get("brokers", [])) != brokers:
        base.fail(f"describe_cluster: {cluster}")
    if TOPIC not in a.list_topics():
        base.fail(f"list_topics: {a.list_topics()} has no {TOPIC}")
    # Metadata flags Kafka's internal topic (the groups above created it).
    internal = {t["topic"]: t["is_internal"] for t in a.describe_topics([TOPIC, "__consumer_offsets"])}
    if internal != {TOPIC: False, "__consumer_offsets": True}:
        base.fail(f"describe_topics is_internal: {internal}")
    deadline = time.monotonic() + WAIT_S
    while True:
        live_member.poll(timeout_ms=100)  # keep it in the group (heartbeats run in the background)
        groups = a.list_consumer_groups()
        desc = a.describe_consumer_groups([GROUP])
        g = desc[0] if desc else None
        if (GROUP, "consumer") in groups and g and g.state == "Stable" and len(g.members) == 1:
            break
        if time.monotonic() > deadline:
            base.fail(f"list_consumer_groups {groups}; describe_consumer_groups {desc}")
        time.sleep(0.2)
    if g.protocol_type != "consumer" or g.protocol not in ("range", "roundrobin"):
        base.fail(f"describe_consumer_groups: {g}")
    if g.members[0].client_host != "/127.0.0.1":  # Kafka's form: "/" + the client's address
        base.fail(f"describe_consumer_groups: client_host {g.members[0].client_host!r}, want '/127.0.0.1'")
    assignment = g.members[0].member_assignment
    parts = sorted(p for t, ps in assignment.assignment for p in ps if t == TOPIC)
    if parts != list(range(PARTITIONS)):
        base.fail(f"describe_consumer_groups: the member is assigned {assignment.assignment}")
    offsets = {tp.partition: om.offset for tp, om in a.list_consumer_group_offsets(GROUP).items() if tp.topic == TOPIC}
    if offsets != ends_after:
        base.fail(f"list_consumer_group_offsets: {offsets}, want {ends_after}")
    live_member.close()
    manual_commit(bootstrap, a)
    deleted = a.delete_consumer_groups([GROUP])
    if deleted != [(GROUP, base_error_none())]:
        base.fail(f"delete_consumer_groups: {deleted}")
    if (GROUP, "consumer") in a.list_consumer_groups():
        base.fail("the group is still listed after delete_consumer_groups")
    a.close()
    print(f"ok: admin describe_cluster, list_topics, list_consumer_groups, describe_consumer_groups "
          f"(Stable, 1 member with {parts}), list_consumer_group_offsets {offsets}, delete_consumer_groups")


def manual_commit(bootstrap, a):
    """A consumer with manually assigned partitions commits offsets with metadata to the (now
    empty) group, as offset-reset tools do (OffsetCommit with generation -1)."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False)
    tps = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
    c.assign(tps)
    c.commit({tp: OffsetAndMetadata(10 * (tp.partition + 1), f"reset-{tp.partition}") for tp in tps})
    c.close()
    got = {tp.partition: (om.offset, om.metadata) for tp, om in a.list_consumer_group_offsets(GROUP).items()
           if tp.topic == TOPIC}
    want = {p: (10 * (p + 1), f"reset-{p}") for p in range(PARTITIONS)}
    if got != want:
        base.fail(f"offsets committed by an assigned consumer: {got}, want {want}")
    print(f"ok: an assigned consumer committed {want} (offsets and metadata) to the empty group")


def admin_topics(bootstrap, brokers, data_dir=None):
    """CreateTopics and DeleteTopics (API 19, 20) as KafkaAdminClient sends them to the
    controller broker Metadata names; per-topic errors raise."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import (InvalidReplicationFactorError, InvalidTopicError, TopicAlreadyExistsError,
                              UnknownTopicOrPartitionError)
    topic = "py-admin"
    a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60000)

    def expect_error(error, call, what):
        try:
            call()
        except error:
            return
        except Exception as e:  # noqa: BLE001
            base.fail(f"{what}: raised {type(e).__name__} {e}, want {error.__name__}")
        base.fail(f"{what}: no error, want {error.__name__}")

    def await_listed(listed):
        deadline = time.monotonic() + WAIT_S
        while (topic in a.list_topics()) != listed:
            if time.monotonic() > deadline:
                base.fail(f"{topic} listed={not listed} {WAIT_S}s after the admin call")
            time.sleep(0.2)

    a.create_topics([NewTopic(topic, PARTITIONS, brokers)], timeout_ms=30000)
    await_listed(True)
    expect_error(TopicAlreadyExistsError, lambda: a.create_topics([NewTopic(topic, 1, 1)]), "create again")
    expect_error(InvalidReplicationFactorError, lambda: a.create_topics([NewTopic("py-rf", 1, brokers + 1)]),
                 f"replication factor {brokers + 1} on {brokers} broker(s)")
    expect_error(InvalidTopicError, lambda: a.create_topics([NewTopic("py bad name", 1, 1)]), "a bad name")
    a.create_topics([NewTopic("py-dry", 1, 1)], validate_only=True)
    if "py-dry" in a.list_topics():
        base.fail("validate_only created py-dry")
    sent = produce(bootstrap, 0, 30, topic)
    check_offsets(sent, {})
    a.delete_topics([topic], timeout_ms=30000)
    await_listed(False)
    expect_error(UnknownTopicOrPartitionError, lambda: a.delete_topics([topic]), "delete again")
    if data_dir is not None:
        deadline = time.monotonic() + WAIT_S
        while any(n.startswith(f"{topic}-") for n in os.listdir(data_dir)):
            if time.monotonic() > deadline:
                base.fail(f"partition directories of the deleted {topic} remain: {sorted(os.listdir(data_dir))}")
            time.sleep(0.2)
    a.create_topics([NewTopic(topic, PARTITIONS, brokers)], timeout_ms=30000)
    await_listed(True)
    again = produce(bootstrap, 100, 10, topic)
    check_offsets(again, {})  # the new topic starts at offset 0 in every partition
    a.delete_topics([topic], timeout_ms=30000)
    a.close()
    print(f"ok: admin create_topics ({topic}, TopicAlreadyExists, InvalidReplicationFactor, InvalidTopic, "
          f"validate_only), delete_topics (gone from Metadata{' and disk' if data_dir else ''}, "
          f"UnknownTopicOrPartition), re-created empty")


def base_error_none():
    from kafka.errors import NoError
    return NoError


CLUSTER_EXTRA = """offsets.topic.replication.factor=3
offsets.topic.num.partitions=5
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
default.replication.factor=3
min.insync.replicas=2
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=500
replica.lag.time.max.ms=4000
"""


def scenario(bootstrap, brokers):
    sent = produce(bootstrap, 0, RECORDS)
    check_offsets(sent, {})
    print(f"ok: KafkaProducer acks=all sent {RECORDS} records to the murmur2 partitions at consecutive offsets")
    assigned_read(bootstrap, sent)
    two_members(bootstrap, sent)
    ends = {p: 1 + max(o for q, o in sent if q == p) for p, _ in sent}
    more = produce(bootstrap, RECORDS, MORE)
    check_offsets(more, ends)
    member = resume(bootstrap, ends, more)
    admin(bootstrap, brokers, member, {p: 1 + max(o for q, o in {**sent, **more} if q == p) for p in ends})


def stored_batches(data_dir, topic):
    """(codec, record count) of every batch in the topic's first segments (docs/log-format.md §2:
    Kafka's RecordBatch v2, attributes at byte 21, record count at byte 57)."""
    out = []
    for p in range(PARTITIONS):
        with open(os.path.join(data_dir, f"{topic}-{p}", "0" * 20 + ".log"), "rb") as f:
            log = f.read()
        pos = 0
        while pos + 61 <= len(log):
            length = int.from_bytes(log[pos + 8:pos + 12], "big")
            out.append((int.from_bytes(log[pos + 21:pos + 23], "big") & 7,
                        int.from_bytes(log[pos + 57:pos + 61], "big")))
            pos += 12 + length
    return out


def compressed(bootstrap, data_dir):
    """Batches compressed by the producer with each codec kafka-python has here, read back;
    the log keeps them as the producer compressed them."""
    from kafka import codec
    for code, name, available in ((1, "gzip", codec.has_gzip), (2, "snappy", codec.has_snappy),
                                  (3, "lz4", codec.has_lz4), (4, "zstd", codec.has_zstd)):
        if not available():
            print(f"skipped: {name} compression (its Python module is missing)")
            continue
        topic = f"py-{name}"
        sent = produce(bootstrap, 0, 60, topic, compression_type=name, linger_ms=50, batch_size=1 << 20)
        check_offsets(sent, {})
        assigned_read(bootstrap, sent, topic)
        batches = stored_batches(data_dir, topic)
        if any(c != code for c, _ in batches) or sum(n for _, n in batches) != len(sent) or \
                max(n for _, n in batches) < 2:
            base.fail(f"{topic}: stored batches (codec, records) {batches}, want codec {code}")


def admin_configs(bootstrap, brokers):
    """CreatePartitions (API 37), DescribeConfigs (32) and AlterConfigs (33) as
    KafkaAdminClient sends them: a topic grown from 2 to 4 partitions (a decrease raises
    InvalidPartitionsError), its configs described with their sources, one set and read
    back, a bad value answered with INVALID_CONFIG."""
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
    from kafka.errors import InvalidPartitionsError
    topic = "py-configs"
    a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60000)
    a.create_topics([NewTopic(topic, 2, brokers, topic_configs={"retention.ms": "86400000"})], timeout_ms=30000)
    a.create_partitions({topic: NewPartitions(4)}, timeout_ms=30000)
    deadline = time.monotonic() + WAIT_S
    while len(a.describe_topics([topic])[0]["partitions"]) != 4:
        if time.monotonic() > deadline:
            base.fail(f"{topic} does not have 4 partitions {WAIT_S}s after create_partitions")
        time.sleep(0.2)
    try:
        a.create_partitions({topic: NewPartitions(3)}, timeout_ms=30000)
        base.fail("create_partitions to fewer partitions did not raise")
    except InvalidPartitionsError:
        pass

    def described(**kw):
        (resp,) = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], **kw)
        ((code, message, _type, name, entries),) = resp.resources
        if code != 0 or name != topic:
            base.fail(f"describe_configs({topic}): error {code} {message}")
        return {e[0]: e for e in entries}

    configs = described(include_synonyms=True)
    # v1+ entries: (name, value, read_only, config_source, is_sensitive, synonyms)
    ret, seg = configs["retention.ms"], configs["segment.bytes"]
    if ret[1] != "86400000" or ret[3] != 1 or not ret[5] or ret[5][0][:2] != ("retention.ms", "86400000"):
        base.fail(f"retention.ms of {topic}: {ret}")
    if seg[3] not in (4, 5) or not seg[1].isdigit():
        base.fail(f"segment.bytes of {topic}: {seg}")
    resp = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"cleanup.policy": "compact"})])
    if [r[0] for r in resp.resources] != [0]:
        base.fail(f"alter_configs cleanup.policy=compact: {resp.resources}")
    configs = described()
    if configs["cleanup.policy"][1:2] != ("compact",) or configs["retention.ms"][3] == 1:
        base.fail(f"after alter_configs: cleanup.policy {configs['cleanup.policy']}, "
                  f"retention.ms {configs['retention.ms']} (AlterConfigs replaces the whole config)")
    resp = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"cleanup.policy": "shred"})])
    if [r[0] for r in resp.resources] != [40]:  # INVALID_CONFIG
        base.fail(f"alter_configs cleanup.policy=shred: {resp.resources}, want error 40")
    a.delete_topics([topic], timeout_ms=30000)
    a.close()
    print(f"ok: admin create_partitions (2 -> 4, InvalidPartitions), describe_configs (sources, synonyms), "
          f"alter_configs (INVALID_CONFIG)")


def single_node(keel, workdir, servers):
    print("--- one combined node")
    servers.append(base.Server(keel, workdir, extra=EXTRA))
    servers[0].start()
    scenario(servers[0].bootstrap, 1)
    compressed(servers[0].bootstrap, os.path.join(servers[0].workdir, "data"))
    admin_topics(servers[0].bootstrap, 1, os.path.join(servers[0].workdir, "data"))
    admin_configs(servers[0].bootstrap, 1)


def three_nodes(keel, workdir, servers):
    """The same against 3 combined nodes (RF 3 for the topic and __consumer_offsets, min ISR
    2): the group coordinator and the partition leaders are spread over the nodes."""
    print("--- three combined nodes, RF 3, min ISR 2")
    base.start_cluster(keel, workdir, servers, 3, CLUSTER_EXTRA)
    scenario(",".join(s.bootstrap for s in servers), 3)
    leaders = {base.leader_of(servers[0].bootstrap, TOPIC, p) for p in range(PARTITIONS)}  # checks RF 3
    print(f"ok: {TOPIC} has 3 replicas per partition, leaders on nodes {sorted(leaders)}")
    admin_topics(",".join(s.bootstrap for s in servers), 3)
    admin_configs(",".join(s.bootstrap for s in servers), 3)


def run_part(part, keel, root, name):
    workdir = os.path.join(root, name)
    servers = []
    try:
        part(keel, workdir, servers)
        for s in servers:
            if s.terminate() != 0:
                base.fail(f"keel server node {s.node_id} did not exit 0 on SIGTERM")
    finally:
        for s in servers:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import kafka  # noqa: F401
    except ImportError:
        print("SKIP: python3-kafka is not installed")
        return base.SKIP
    if shutil.which("kcat") is None:  # Server.start waits for Metadata with kcat
        print("SKIP: kcat is not installed")
        return base.SKIP
    root = tempfile.mkdtemp(prefix="keel-kafka-python-test-")
    print(f"workdir {root} (kept with the server logs if the test fails); kafka-python {kafka.__version__}")
    keel = os.path.abspath(sys.argv[1])
    versions = VersionsUsed()
    conn_log = logging.getLogger("kafka.conn")
    conn_log.setLevel(logging.DEBUG)
    conn_log.addHandler(versions)
    conn_log.propagate = False
    run_part(single_node, keel, root, "single")
    run_part(three_nodes, keel, root, "cluster")
    print(f"kafka-python used: {', '.join(sorted(versions.used))}")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
