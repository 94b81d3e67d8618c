#!/usr/bin/env python3
"""Unmodified Kafka clients against `keel server`: kcat and python3-confluent-kafka.

Starts `keel server` (one combined controller+broker) on free loopback ports in a temp dir
and checks, exactly: kcat metadata (-L), 100 keyed records with headers produced with
acks=all and read back per partition (keys, values, headers, offsets, partitions from the
murmur2 partitioner), offsets for times (-Q); the same with confluent-kafka's Producer and
a manually assigned Consumer (timestamps too); kill -9 of the server and a restart on the
same directory keep every record acknowledged with acks=all; SIGTERM stops it with exit 0.
The idempotent producer (enable.idempotence). Then a 3-node cluster (RF 3, min ISR 2):
kill -9 of a partition leader between two acknowledged batches loses nothing, before and
after the node's restart; with an idempotent producer nothing is duplicated either.
confluent-kafka's AdminClient, on one node and on 3: create_topics (TOPIC_ALREADY_EXISTS,
INVALID_REPLICATION_FACTOR, validate_only) and delete_topics (UNKNOWN_TOPIC_OR_PART for a
second delete); on the single node a kill -9 right after a deletion leaves the topic deleted
and its directories gone after the restart, and the topic created again starts empty;
create_partitions (a topic grown and produced to in a new partition, a decrease refused),
describe_configs (values and sources; the broker's properties) and alter_configs.

Usage: server_clients_test.py KEEL_BINARY. Exit 77 (skipped) if kcat is missing; the
confluent-kafka part is skipped with a message if the module is missing.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
PARTITIONS = 3
WAIT_S = 120  # upper bound for the server to come up (a busy machine); never asserted


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (the Java client's partitioner hash), as published."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    tail = length - rest
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_of(key: bytes) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % PARTITIONS


def free_port(pair=False):
    """A free loopback port (and port + 1 free too when pair)."""
    for _ in range(200):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        if not pair:
            s.close()
            return port
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
        finally:
            s.close()
            t.close()
    raise RuntimeError("no free port pair")


class PortTaken(Exception):
    """Another process (a test running in parallel) took a port between free_port() and the
    server's listen; the caller picks new ports and starts again."""


def single_ports():
    return {1: (free_port(), free_port(pair=True))}


class Server:
    """One `keel server` process. A cluster passes every node's (client, controller) ports;
    a single node picks its own, and picks new ones if it loses a race for them."""

    def __init__(self, keel, workdir, node_id=1, ports=None, extra=""):
        self.keel = keel
        self.node_id = node_id
        self.workdir = os.path.join(workdir, f"node-{node_id}")
        os.makedirs(self.workdir, exist_ok=True)
        self.extra = extra
        self.own_ports = ports is None
        self.config = os.path.join(self.workdir, "server.properties")
        self.configure(ports or single_ports())
        self.proc = None
        self.log = None
        self.starts = 0
        self.answered = False  # once it served Metadata, its ports and data are its own

    def configure(self, ports):
        self.port, self.controller_port = ports[self.node_id]
        self.bootstrap = f"127.0.0.1:{self.port}"
        voters = ",".join(f"{i}@127.0.0.1:{c}" for i, (_, c) in sorted(ports.items()))
        with open(self.config, "w") as f:
            f.write(f"""# written by server_clients_test.py
process.roles=broker,controller
node.id={self.node_id}
controller.quorum.voters={voters}
listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}
controller.listener.names=CONTROLLER
log.dirs={os.path.join(self.workdir, "data")}
num.partitions={PARTITIONS}
auto.create.topics.enable=true
cluster.id=keel-clients-test
{self.extra}""")

    def lost_port_race(self):
        """It exited because a port it was given is taken (see PortTaken)."""
        if self.proc is None or self.proc.poll() is None:
            return False
        with open(self.log) as f:
            return "Address already in use" in f.read()

    def spawn(self):
        self.starts += 1
        self.log = os.path.join(self.workdir, f"server-{self.starts}.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([self.keel, "server", "--config", self.config], stderr=log,
                                         stdout=log, cwd=self.workdir)

    def start(self, wait=True):
        for _ in range(5):
            self.spawn()
            if not wait:
                return
            try:
                self.await_metadata()
                self.answered = True
                return
            except PortTaken:
                if not self.own_ports or self.answered:
                    fail(f"keel server {self.node_id}: a port is taken; see {self.log}")
                print(f"note: a port of node {self.node_id} was taken meanwhile; new ports")
                shutil.rmtree(os.path.join(self.workdir, "data"), ignore_errors=True)
                self.configure(single_ports())
        fail("keel server lost the race for free ports 5 times")

    def await_metadata(self):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if self.lost_port_race():
                    raise PortTaken()
                fail(f"keel server exited with {self.proc.returncode}; see {self.log}")
            md = kcat_metadata(self.bootstrap)
            if md and md.get("brokers"):
                return
            time.sleep(0.2)
        fail("keel server did not answer Metadata")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("keel server did not stop on SIGTERM")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(cmd, stdin=None, timeout=WAIT_S):
    r = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def kcat_metadata(bootstrap, topic=None):
    cmd = ["kcat", "-L", "-J", "-b", bootstrap, "-m", "5"]
    if topic:
        cmd += ["-t", topic]
    try:
        rc, out, _ = run(cmd, timeout=30)
    except subprocess.TimeoutExpired:
        return None
    if rc != 0:
        return None
    try:
        return json.loads(out)
    except ValueError:
        return None


def await_topic(bootstrap, topic):
    """Metadata until the topic has PARTITIONS partitions with leaders (auto-created)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        md = kcat_metadata(bootstrap, topic)
        for t in (md or {}).get("topics", []):
            parts = t.get("partitions", [])
            if t.get("topic") == topic and len(parts) == PARTITIONS and all(p.get("leader", -1) >= 0 for p in parts):
                return t
        time.sleep(0.2)
    fail(f"topic {topic} did not appear with {PARTITIONS} led partitions")


# ------------------------------------------------------------------------------ kcat

KCAT_TOPIC = "kcat-orders"
KCAT_HEADERS = "source=kcat,batch=1"


def kcat_expected():
    """What each partition must hold, as kcat -f '%k %s %h %o %p' prints it."""
    per_partition = {p: [] for p in range(PARTITIONS)}
    for i in range(100):
        key = f"key-{i}"
        p = partition_of(key.encode())
        per_partition[p].append(f"{key} value-{i} {KCAT_HEADERS} {len(per_partition[p])} {p}")
    return per_partition


def kcat_produce(bootstrap):
    lines = "".join(f"key-{i}:value-{i}\n" for i in range(100)).encode()
    rc, out, err = run(["kcat", "-P", "-b", bootstrap, "-t", KCAT_TOPIC, "-K:", "-H", "source=kcat", "-H", "batch=1",
                        "-X", "acks=all", "-X", "partitioner=murmur2_random"], stdin=lines)
    if rc != 0:
        fail(f"kcat -P exited {rc}: {err.decode(errors='replace')}")


def kcat_consume(bootstrap, partition):
    rc, out, err = run(["kcat", "-C", "-b", bootstrap, "-t", KCAT_TOPIC, "-p", str(partition), "-o", "beginning", "-e",
                        "-f", "%k %s %h %o %p\n"])
    if rc != 0:
        fail(f"kcat -C -p {partition} exited {rc}: {err.decode(errors='replace')}")
    return out.decode().splitlines()


def check_kcat_records(bootstrap, what):
    expected = kcat_expected()
    for p in range(PARTITIONS):
        got = kcat_consume(bootstrap, p)
        if got != expected[p]:
            fail(f"{what}: partition {p} holds\n  {got}\nexpected\n  {expected[p]}")
    print(f"ok: {what}: kcat reads back all 100 records exactly (3 partitions)")


def kcat_offsets_for_times(bootstrap):
    """-Q: timestamp 0 finds each partition's first offset; a far-future one finds none (-1)."""
    expected = kcat_expected()
    for ts, want in ((0, lambda p: 0 if expected[p] else -1), (1 << 42, lambda p: -1)):
        args = []
        for p in range(PARTITIONS):
            args += ["-t", f"{KCAT_TOPIC}:{p}:{ts}"]
        rc, out, err = run(["kcat", "-Q", "-b", bootstrap] + args)
        if rc != 0:
            fail(f"kcat -Q exited {rc}: {err.decode(errors='replace')}")
        text = out.decode()
        for p in range(PARTITIONS):
            line = next((l for l in text.splitlines() if f"[{p}]" in l), None)
            if line is None or int(line.split()[-1]) != want(p):
                fail(f"kcat -Q {KCAT_TOPIC}:{p}:{ts}: got {line!r}, expected offset {want(p)}")
    print("ok: kcat -Q offsets for times")


def kcat_acks_0_and_1(bootstrap):
    """acks=0 and acks=1 to a one-partition topic: every record read back, in order."""
    topic = "kcat-acks"
    sent = []
    for acks in ("1", "0", "1"):
        lines = [f"acks{acks}-{len(sent) + i}" for i in range(20)]
        sent += lines
        rc, _, err = run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", "0", "-X", f"acks={acks}"],
                         stdin="".join(l + "\n" for l in lines).encode())
        if rc != 0:
            fail(f"kcat -P acks={acks} exited {rc}: {err.decode(errors='replace')}")
    rc, out, err = run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%s %o\n"])
    got = out.decode().splitlines()
    want = [f"{v} {i}" for i, v in enumerate(sent)]
    if rc != 0 or got != want:
        fail(f"acks 0/1: read back {got[:5]}... (rc {rc}), expected {want[:5]}...")
    print("ok: kcat with acks=1, acks=0, acks=1: all 60 records in order")


def kcat_part(server):
    md = kcat_metadata(server.bootstrap)
    if [b.get("id") for b in md["brokers"]] != [1] or md["brokers"][0].get("name") != server.bootstrap:
        fail(f"kcat -L brokers: {md['brokers']}")
    print("ok: kcat -L lists broker 1 at " + server.bootstrap)
    kcat_produce(server.bootstrap)
    await_topic(server.bootstrap, KCAT_TOPIC)
    check_kcat_records(server.bootstrap, "after produce")
    kcat_offsets_for_times(server.bootstrap)
    kcat_acks_0_and_1(server.bootstrap)


# ----------------------------------------------------------------- confluent-kafka

CK_TOPIC = "ck-payments"
CK_BASE_TS = 1_700_000_000_000


def ck_headers(i):
    return (("i", str(i).encode()), ("src", b"confluent"))


def ck_produce(bootstrap, first, count, reports, topic=CK_TOPIC, idempotent=False):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "partitioner": "murmur2_random",
                         "linger.ms": 5, "enable.idempotence": idempotent})
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        # confluent-kafka 1.7's delivery reports carry no headers: the ones sent are expected.
        i = int(msg.key().decode().split("-")[1])
        reports.append((msg.key(), msg.value(), ck_headers(i), msg.partition(), msg.offset(), msg.timestamp()[1]))

    for i in range(first, first + count):
        producer.produce(topic, key=f"user-{i}".encode(), value=f"payment {i}".encode() * (1 + i % 7),
                         headers=list(ck_headers(i)), timestamp=CK_BASE_TS + i,
                         on_delivery=delivered)
        producer.poll(0)
    left = producer.flush(WAIT_S)
    if left != 0 or errors:
        fail(f"confluent-kafka producer: {left} undelivered, errors {errors[:3]}")


def ck_consume(bootstrap, total, topic=CK_TOPIC):
    from confluent_kafka import Consumer, TopicPartition, KafkaError
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "keel-test-assign-only",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    got, at_end = [], set()
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and (len(at_end) < PARTITIONS or len(got) < total):
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            fail(f"confluent-kafka consumer: {msg.error()}")
        got.append((msg.key(), msg.value(), tuple(msg.headers() or ()), msg.partition(), msg.offset(),
                    msg.timestamp()[1]))
    consumer.close()
    return got


def ck_check(bootstrap, reports, what, topic=CK_TOPIC, allow_duplicates=False):
    got = ck_consume(bootstrap, len(reports), topic)
    key = lambda r: (r[3], r[4])
    if allow_duplicates:
        # Without idempotence a retried produce may be appended twice (Kafka's at-least-once):
        # extra records must be copies of acknowledged ones; each acknowledged record must be
        # exactly at its acknowledged offset.
        acked = {key(r): r for r in reports}
        contents = {r[:3] for r in reports}
        extra = [g for g in got if key(g) not in acked]
        if any(g[:3] not in contents for g in extra):
            fail(f"{what}: consumed records that were never produced: {[g for g in extra if g[:3] not in contents][:2]}")
        got = [g for g in got if key(g) in acked]
        if extra:
            print(f"note: {what}: {len(extra)} duplicates of retried produces (no idempotence)")
    if sorted(got, key=key) != sorted(reports, key=key):
        diff = [(g, r) for g, r in zip(sorted(got, key=key), sorted(reports, key=key)) if g != r]
        fail(f"{what}: consumed {len(got)} records that differ from the {len(reports)} acknowledged; "
             f"first difference (consumed, acknowledged): {diff[:1]}")
    for r in reports:
        if r[3] != partition_of(r[0]):
            fail(f"{what}: key {r[0]} went to partition {r[3]}, murmur2 says {partition_of(r[0])}")
    for p in range(PARTITIONS):
        offsets = sorted(r[4] for r in reports if r[3] == p)
        if not allow_duplicates and offsets != list(range(len(offsets))):
            fail(f"{what}: partition {p} offsets {offsets}")
    print(f"ok: {what}: confluent-kafka reads back all {len(reports)} acknowledged records exactly")


def ck_part(server):
    try:
        import confluent_kafka
    except ImportError:
        print("SKIP: python3-confluent-kafka is not installed (apt-get install python3-confluent-kafka)")
        return
    print(f"confluent-kafka {confluent_kafka.version()[0]}, librdkafka {confluent_kafka.libversion()[0]}")
    reports = []
    ck_produce(server.bootstrap, 0, 100, reports)
    ck_check(server.bootstrap, reports, "confluent-kafka before kill -9")
    server.kill9()
    server.start()
    ck_check(server.bootstrap, reports, "confluent-kafka after kill -9 and restart")
    ck_produce(server.bootstrap, 100, 100, reports)
    ck_check(server.bootstrap, reports, "confluent-kafka after producing to the restarted server")
    idempotent = []
    ck_produce(server.bootstrap, 0, 100, idempotent, "ck-idempotent", idempotent=True)
    ck_check(server.bootstrap, idempotent, "confluent-kafka idempotent producer", "ck-idempotent")
    ck_admin_topics(server.bootstrap, 1, server)
    ck_admin_configs(server.bootstrap, 1, broker_id=1)


def ck_admin_topics(bootstrap, brokers, server=None):
    """CreateTopics / DeleteTopics (API 19, 20) through confluent-kafka's AdminClient. With
    `server` (one node): kill -9 right after the deletion, restart, and check that the topic
    stayed deleted and its partition directories are gone."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = "ck-admin"

    def admin():
        return AdminClient({"bootstrap.servers": bootstrap})

    def outcome(futures, name):
        try:
            futures[name].result(timeout=WAIT_S)
        except KafkaException as e:
            return e.args[0].code()
        return KafkaError.NO_ERROR

    def await_listed(a, listed):
        deadline = time.monotonic() + WAIT_S
        while (topic in a.list_topics(timeout=30).topics) != listed:
            if time.monotonic() > deadline:
                fail(f"{topic} listed={not listed} {WAIT_S}s after the admin call")
            time.sleep(0.2)

    a = admin()
    spec = NewTopic(topic, num_partitions=PARTITIONS, replication_factor=brokers)
    got = outcome(a.create_topics([spec], operation_timeout=30), topic)
    if got != KafkaError.NO_ERROR:
        fail(f"create_topics({topic}): {got}")
    await_listed(a, True)
    got = outcome(a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]), topic)
    if got != KafkaError.TOPIC_ALREADY_EXISTS:
        fail(f"create_topics of an existing topic: {got}")
    got = outcome(a.create_topics([NewTopic("ck-rf", num_partitions=1, replication_factor=brokers + 1)]), "ck-rf")
    if got != KafkaError.INVALID_REPLICATION_FACTOR:
        fail(f"create_topics with replication factor {brokers + 1}: {got}")
    got = outcome(a.create_topics([NewTopic("ck-dry", num_partitions=1, replication_factor=1)],
                                  validate_only=True), "ck-dry")
    if got != KafkaError.NO_ERROR or "ck-dry" in a.list_topics(timeout=30).topics:
        fail(f"validate_only: {got}, listed {sorted(a.list_topics(timeout=30).topics)}")
    reports = []
    ck_produce(bootstrap, 0, 30, reports, topic)
    got = outcome(a.delete_topics([topic], operation_timeout=30), topic)
    if got != KafkaError.NO_ERROR:
        fail(f"delete_topics({topic}): {got}")
    if server is not None:
        server.kill9()
        server.start()
        a = admin()
        data = os.path.join(server.workdir, "data")
        deadline = time.monotonic() + WAIT_S  # the restarted broker sweeps them once caught up
        while [n for n in os.listdir(data) if n.startswith(f"{topic}-")]:
            if time.monotonic() > deadline:
                fail(f"after kill -9 and restart, directories of the deleted {topic} remain: "
                     f"{sorted(os.listdir(data))}")
            time.sleep(0.2)
    await_listed(a, False)
    got = outcome(a.delete_topics([topic]), topic)
    if got != KafkaError.UNKNOWN_TOPIC_OR_PART:
        fail(f"delete_topics of a deleted topic: {got}")
    got = outcome(a.create_topics([spec], operation_timeout=30), topic)
    if got != KafkaError.NO_ERROR:
        fail(f"create_topics({topic}) after its deletion: {got}")
    await_listed(a, True)
    again = []
    ck_produce(bootstrap, 100, 10, again, topic)
    ck_check(bootstrap, again, f"{topic} created again after its deletion", topic)
    outcome(a.delete_topics([topic], operation_timeout=30), topic)
    print(f"ok: AdminClient create_topics (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, validate_only), "
          f"delete_topics{' (kill -9 after it: still deleted, directories gone)' if server else ''}, "
          f"UNKNOWN_TOPIC_OR_PART after it, re-created empty")


def ck_admin_configs(bootstrap, brokers, broker_id=None):
    """CreatePartitions (API 37), DescribeConfigs (32) and AlterConfigs (33) through
    confluent-kafka's AdminClient: a topic grown from 1 to 3 partitions and produced to in
    the new one, a refused decrease; its configs described (defaults and their sources),
    replaced, and a bad value refused; with `broker_id`, the broker's own properties."""
    from confluent_kafka import KafkaError, KafkaException, Producer
    from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewPartitions, NewTopic
    topic = "ck-configs"
    a = AdminClient({"bootstrap.servers": bootstrap})

    def outcome(futures, key):
        try:
            return futures[key].result(timeout=WAIT_S), KafkaError.NO_ERROR
        except KafkaException as e:
            return None, e.args[0].code()

    _, got = outcome(a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=brokers,
                                               config={"segment.bytes": "1048576"})], operation_timeout=30), topic)
    if got != KafkaError.NO_ERROR:
        fail(f"create_topics({topic}): {got}")
    _, got = outcome(a.create_partitions([NewPartitions(topic, 3)], operation_timeout=30), topic)
    if got != KafkaError.NO_ERROR:
        fail(f"create_partitions({topic}, 3): {got}")
    deadline = time.monotonic() + WAIT_S
    while len(a.list_topics(topic, timeout=30).topics[topic].partitions) != 3:
        if time.monotonic() > deadline:
            fail(f"{topic} does not show 3 partitions {WAIT_S}s after create_partitions")
        time.sleep(0.2)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    delivered = []
    producer.produce(topic, value=b"in a new partition", partition=2,
                     on_delivery=lambda err, msg: delivered.append((err, msg.partition(), msg.offset())))
    producer.flush(WAIT_S)
    if delivered != [(None, 2, 0)]:
        fail(f"producing to the new partition 2 of {topic}: {delivered}")
    _, got = outcome(a.create_partitions([NewPartitions(topic, 2)]), topic)
    if got != KafkaError.INVALID_PARTITIONS:
        fail(f"create_partitions({topic}, 2) after 3: {got}, want INVALID_PARTITIONS")

    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs, got = outcome(a.describe_configs([resource]), resource)
    if got != KafkaError.NO_ERROR:
        fail(f"describe_configs({topic}): {got}")
    seg, ret = configs["segment.bytes"], configs["retention.ms"]
    if (seg.value, seg.source) != ("1048576", ConfigSource.DYNAMIC_TOPIC_CONFIG.value):
        fail(f"segment.bytes of {topic}: {seg.value} from source {seg.source}")
    if ret.source not in (ConfigSource.DEFAULT_CONFIG.value, ConfigSource.STATIC_BROKER_CONFIG.value) or \
            not ret.value.isdigit():
        fail(f"retention.ms of {topic}: {ret.value} from source {ret.source}")
    # AlterConfigs replaces the topic's whole config: segment.bytes goes back to its default.
    _, got = outcome(a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic,
                                                     set_config={"retention.ms": "3600000"})]), resource)
    if got != KafkaError.NO_ERROR:
        fail(f"alter_configs({topic}, retention.ms=3600000): {got}")
    configs, _ = outcome(a.describe_configs([resource]), resource)
    got_ret, got_seg = configs["retention.ms"], configs["segment.bytes"]
    if (got_ret.value, got_ret.source) != ("3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value) or \
            got_seg.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value:
        fail(f"after alter_configs: retention.ms {got_ret.value} ({got_ret.source}), "
             f"segment.bytes {got_seg.value} ({got_seg.source})")
    _, got = outcome(a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic,
                                                     set_config={"retention.ms": "soon"})]), resource)
    if got != KafkaError.INVALID_CONFIG:
        fail(f"alter_configs with retention.ms=soon: {got}, want INVALID_CONFIG")
    missing = ConfigResource(ConfigResource.Type.TOPIC, "ck-no-such-topic")
    _, got = outcome(a.describe_configs([missing]), missing)
    if got != KafkaError.UNKNOWN_TOPIC_OR_PART:
        fail(f"describe_configs of an unknown topic: {got}")
    broker_note = ""
    if broker_id is not None:
        b = ConfigResource(ConfigResource.Type.BROKER, str(broker_id))
        props, got = outcome(a.describe_configs([b]), b)
        if got != KafkaError.NO_ERROR or props["num.partitions"].value is None or \
                props["node.id"].value != str(broker_id):
            fail(f"describe_configs(broker {broker_id}): {got}, {sorted(props or {})[:5]}")
        broker_note = f", broker {broker_id}'s {len(props)} properties"
    outcome(a.delete_topics([topic], operation_timeout=30), topic)
    print(f"ok: AdminClient create_partitions (1 -> 3, produced to partition 2, INVALID_PARTITIONS), "
          f"describe_configs (sources{broker_note}), alter_configs (INVALID_CONFIG)")


# ---------------------------------------------------------------- a 3-node cluster

CLUSTER_TOPIC = "ck-replicated"
CLUSTER_EXTRA = """default.replication.factor=3
min.insync.replicas=2
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=500
replica.lag.time.max.ms=4000
"""


def cluster_ports(n):
    """Distinct (client, controller) ports for n nodes (each controller port + 1 free too)."""
    while True:
        ports = {i: (free_port(), free_port(pair=True)) for i in range(1, n + 1)}
        used = [p for c, q in ports.values() for p in (c, q, q + 1)]
        if len(set(used)) == len(used):
            return ports


def await_brokers(bootstrap, count, nodes=()):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if any(n.lost_port_race() for n in nodes):
            raise PortTaken()
        md = kcat_metadata(bootstrap)
        if md and len(md.get("brokers", [])) == count:
            return
        time.sleep(0.2)
    fail(f"the cluster did not show {count} live brokers")


def start_cluster(keel, workdir, servers, count, extra):
    """count combined nodes on free ports, up until Metadata shows them all; appended to
    servers. A node that loses the race for its ports (PortTaken) restarts the whole
    cluster on new ports in a fresh directory."""
    for attempt in range(5):
        base = workdir if attempt == 0 else os.path.join(workdir, f"attempt-{attempt}")
        ports = cluster_ports(count)
        nodes = [Server(keel, base, i, ports, extra) for i in range(1, count + 1)]
        servers.extend(nodes)
        for s in nodes:
            s.start(wait=False)
        try:
            await_brokers(nodes[0].bootstrap, count, nodes)
            return nodes
        except PortTaken:
            print("note: a node's port was taken meanwhile; the cluster starts again on new ports")
            for s in nodes:
                if s.proc.poll() is None:
                    s.proc.kill()
                s.proc.wait()
                servers.remove(s)
    fail("the cluster lost the race for free ports 5 times")


def leader_of(bootstrap, topic, partition):
    t = await_topic(bootstrap, topic)
    for p in t["partitions"]:
        if p["partition"] == partition:
            if len(p.get("replicas", [])) != 3:
                fail(f"{topic}-{partition} has replicas {p.get('replicas')}, expected 3")
            return p["leader"]
    fail(f"no partition {partition} in {t}")


def cluster_part(keel, workdir, servers):
    """3 combined nodes, RF 3, min ISR 2: kill -9 the leader of partition 0 between two
    acknowledged batches; every acknowledged record survives, before and after its restart."""
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        print("SKIP: the 3-node part needs python3-confluent-kafka")
        return
    start_cluster(keel, workdir, servers, 3, CLUSTER_EXTRA)
    bootstrap = ",".join(s.bootstrap for s in servers)
    print("ok: 3 nodes up: " + bootstrap)
    reports = []
    ck_produce(bootstrap, 0, 100, reports, CLUSTER_TOPIC)
    victim = leader_of(servers[0].bootstrap, CLUSTER_TOPIC, 0)
    servers[victim - 1].kill9()
    print(f"killed -9 node {victim}, the leader of {CLUSTER_TOPIC}-0")
    ck_produce(bootstrap, 100, 100, reports, CLUSTER_TOPIC)
    ck_check(bootstrap, reports, "3 nodes, a leader killed", CLUSTER_TOPIC, allow_duplicates=True)
    servers[victim - 1].start()
    ck_check(bootstrap, reports, "3 nodes, the killed leader restarted", CLUSTER_TOPIC, allow_duplicates=True)
    # An idempotent producer across a leader's kill -9: no duplicates, offsets dense.
    idem = []
    ck_produce(bootstrap, 0, 100, idem, "ck-replicated-idempotent", idempotent=True)
    victim = leader_of(servers[0].bootstrap, "ck-replicated-idempotent", 0)
    servers[victim - 1].kill9()
    print(f"killed -9 node {victim}, the leader of ck-replicated-idempotent-0")
    ck_produce(bootstrap, 100, 100, idem, "ck-replicated-idempotent", idempotent=True)
    servers[victim - 1].start()
    ck_check(bootstrap, idem, "3 nodes, idempotent producer, a leader killed", "ck-replicated-idempotent")
    ck_admin_topics(bootstrap, 3)
    ck_admin_configs(bootstrap, 3)
    for s in servers:
        rc = s.terminate()
        if rc != 0:
            fail(f"node {s.node_id} exited {rc} on SIGTERM")
    print("ok: SIGTERM stops each node with exit 0")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("kcat") is None:
        print("SKIP: kcat is not installed (apt-get install kcat)")
        return SKIP
    keel = os.path.abspath(sys.argv[1])
    workdir = tempfile.mkdtemp(prefix="keel-server-test-")
    print(f"workdir {workdir} (kept with the server logs if the test fails)")
    server = Server(keel, workdir)
    cluster = []
    try:
        server.start()
        kcat_part(server)
        server.kill9()
        server.start()
        check_kcat_records(server.bootstrap, "after kill -9 and restart")
        ck_part(server)
        rc = server.terminate()
        if rc != 0:
            fail(f"keel server exited {rc} on SIGTERM")
        print("ok: SIGTERM stops keel server with exit 0 (controlled shutdown)")
        server.start()
        check_kcat_records(server.bootstrap, "after SIGTERM and restart")
        rc = server.terminate()
        if rc != 0:
            fail(f"keel server exited {rc} on the second SIGTERM")
        cluster_part(keel, workdir, cluster)
    finally:
        for s in [server] + cluster:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
