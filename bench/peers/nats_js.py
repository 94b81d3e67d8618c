"""A minimal NATS client for JetStream over the NATS text protocol (Python 3 stdlib only),
enough for `make bench-peers`: CONNECT, SUB, PUB with a reply inbox, MSG parsing, PING/PONG;
JetStream requests ($JS.API.STREAM.CREATE, $JS.API.CONSUMER.DURABLE.CREATE) and pull
fetches ($JS.API.CONSUMER.MSG.NEXT). A JetStream publish is acknowledged by a PubAck JSON
({"stream":..,"seq":..}) on the publish's reply subject once the stream's replicas have
committed it (a quorum of its Raft group).

Also starts a local 3-node nats-server cluster with JetStream on loopback (file storage)."""

import json
import os
import subprocess
import time

from benchlib import Conn, free_port, run_closed_loop, produce_figures, consume_figures


class Nats:
    def __init__(self, port):
        self.c = Conn(port)
        self.sid = 0
        self.pending_msgs = []
        line = self._line()  # INFO {...}
        if not line.startswith(b"INFO"):
            raise ConnectionError("not a NATS server: %r" % line[:40])
        self.c.send(b'CONNECT {"verbose":false,"pedantic":false,"headers":false,"name":"keel-bench"}\r\nPING\r\n')
        while self._line() != b"PONG":
            pass

    def _line(self):
        while True:
            idx = self.c.buf.find(b"\r\n", self.c.pos)
            if idx >= 0:
                line = bytes(self.c.buf[self.c.pos : idx])
                self.c.pos = idx + 2
                return line
            self.c.fill(True)

    def subscribe(self, subject):
        self.sid += 1
        self.c.send(b"SUB %s %d\r\n" % (subject.encode(), self.sid))
        return self.sid

    def messages(self, block):
        """Parses what is buffered, reading what the socket has (waiting for a complete
        message when block): a list of (subject, reply, payload)."""
        out = []
        self._parse(out)
        if not out and self.c.fill(block):
            self._parse(out)
        while block and not out:
            self.c.fill(True)
            self._parse(out)
        return out

    def _parse(self, out):
        buf = self.c.buf
        while True:
            idx = buf.find(b"\r\n", self.c.pos)
            if idx < 0:
                return
            line = bytes(buf[self.c.pos : idx])
            if line.startswith(b"MSG "):
                parts = line.split(b" ")
                size = int(parts[-1])
                end = idx + 2 + size
                if len(buf) < end + 2:
                    return
                reply = parts[3] if len(parts) == 5 else None
                out.append((parts[1], reply, bytes(buf[idx + 2 : end])))
                self.c.pos = end + 2
                continue
            self.c.pos = idx + 2
            if line == b"PING":
                self.c.send(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise ConnectionError("NATS: %s" % line.decode(errors="replace"))

    def request(self, subject, payload, timeout=5.0):
        """A request/reply (for the JetStream API); None on timeout."""
        inbox = "_INBOX.req.%d" % (self.sid + 1)
        sid = self.subscribe(inbox)
        data = json.dumps(payload).encode()
        self.c.send(b"PUB %s %s %d\r\n%s\r\n" % (subject.encode(), inbox.encode(), len(data), data))
        deadline = time.monotonic() + timeout
        answer = None
        self.c.timeout = 0.2
        try:
            while answer is None and time.monotonic() < deadline:
                try:
                    for subj, _, body in self.messages(True):
                        if subj.decode() == inbox:
                            answer = json.loads(body)
                except TimeoutError:
                    continue
        finally:
            self.c.timeout = 60.0
        self.c.send(b"UNSUB %d\r\n" % sid)
        return answer


def start_cluster(workdir, nodes=3):
    """Starts `nodes` nats-server processes with JetStream (file storage) in one cluster;
    returns (client ports, processes)."""
    ports = [free_port() for _ in range(nodes)]
    routes = [free_port() for _ in range(nodes)]
    procs = []
    for i in range(nodes):
        d = os.path.join(workdir, "nats-%d" % (i + 1))
        os.makedirs(d, exist_ok=True)
        others = ", ".join("nats-route://127.0.0.1:%d" % routes[j] for j in range(nodes) if j != i)
        conf = os.path.join(d, "nats.conf")
        with open(conf, "w") as f:
            f.write(
                'server_name: n%d\nlisten: 127.0.0.1:%d\n'
                'jetstream { store_dir: "%s", max_memory_store: 256MB, max_file_store: 8GB }\n'
                "cluster { name: bench, listen: 127.0.0.1:%d, routes: [%s] }\n" % (i + 1, ports[i], d, routes[i], others)
            )
        log = open(os.path.join(d, "nats.log"), "w")
        procs.append(subprocess.Popen(["nats-server", "-c", conf], stdout=log, stderr=subprocess.STDOUT))
    return ports, procs


def create_stream(nc, name, subject, replicas, timeout=90.0):
    """Retries until the JetStream meta leader exists and the stream is created."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = nc.request(
            "$JS.API.STREAM.CREATE." + name,
            {"name": name, "subjects": [subject], "storage": "file", "num_replicas": replicas},
            timeout=3.0,
        )
        if last is not None and "error" not in last:
            return last
        time.sleep(0.5)
    raise RuntimeError("NATS: cannot create the stream: %r" % (last,))


def produce(nc, subject, records, record_size, window):
    value = bytes((ord("a") + i % 26) for i in range(record_size))
    nc.subscribe("_INBOX.ack.*")
    head = b"PUB " + subject.encode() + b" _INBOX.ack."
    tail = b" %d\r\n" % record_size + value + b"\r\n"

    def encode(i):
        return head + str(i).encode() + tail

    def poll_acks(block):
        out = []
        for subj, _, body in nc.messages(block):
            if subj.startswith(b"_INBOX.ack."):
                out.append((int(subj[11:]), b'"error"' not in body))
        return out

    result = run_closed_loop(records, window, 100, encode, nc.c.send, poll_acks)
    return produce_figures(records, record_size, result)


def consume(nc, stream, subject_of_records, records, batch=5000):
    """Reads the stream back with a durable pull consumer (no acks), `batch` per fetch,
    two fetches outstanding."""
    config = {"durable_name": "reader", "ack_policy": "none", "deliver_policy": "all"}
    r = nc.request("$JS.API.CONSUMER.DURABLE.CREATE.%s.reader" % stream, {"stream_name": stream, "config": config})
    if r is None or "error" in r:
        raise RuntimeError("NATS: cannot create the consumer: %r" % (r,))
    nc.subscribe("_INBOX.pull")
    subject = ("$JS.API.CONSUMER.MSG.NEXT.%s.reader" % stream).encode()
    requested = consumed = nbytes = 0
    cpu = time.process_time()
    start = time.perf_counter_ns()

    def pull(n):
        body = json.dumps({"batch": n}).encode()
        nc.c.send(b"PUB %s _INBOX.pull %d\r\n%s\r\n" % (subject, len(body), body))
        return n

    while consumed < records:
        while requested < records and requested - consumed < 2 * batch:
            requested += pull(min(batch, records - requested))
        for subj, _, body in nc.messages(True):
            if subj != subject_of_records:  # a delivered message keeps its own subject
                continue
            consumed += 1
            nbytes += len(body)
    return consume_figures(consumed, nbytes, (time.perf_counter_ns() - start) / 1e9, time.process_time() - cpu)


def run(workdir, records, record_size, window):
    ports, procs = start_cluster(workdir)
    try:
        nc = _connect(ports[0])
        create_stream(nc, "BENCH", "bench", 3)
        figures = produce(nc, "bench", records, record_size, window)
        figures.update(consume(nc, "BENCH", b"bench", figures["acknowledged"]))
        nc.c.close()
        return figures
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _connect(port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Nats(port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
