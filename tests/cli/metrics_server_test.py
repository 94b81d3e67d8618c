#!/usr/bin/env python3
"""`keel server` with metrics.port: GET /metrics over real HTTP.

Starts one combined controller+broker on free loopback ports (new ports when one was taken
meanwhile), produces 3 records with `keel produce`, fetches them with `keel consume`, and
consumes 2 of them in group g1 (which commits them), then checks /metrics: 200 with
Prometheus' text content type; every line a comment or `name{labels} value`, one TYPE per
family before its samples; the Produce request counter and messages in moved; no
under-replicated partition; this node is the active controller; g1's lag is 1.
Then a malformed request gets 400, an unknown path 404, an oversized head 431, and the
server still answers /metrics and Kafka clients afterwards; a second server whose
metrics.port is taken exits 1 naming the metrics listener. Also: `--help` lists
metrics.port, an out-of-range metrics.port is refused by name (exit 2). SIGTERM: exit 0.

Usage: metrics_server_test.py KEEL_BINARY
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# free_port: the real-client tests' (tests/clients/server_clients_test.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
from server_clients_test import free_port  # noqa: E402

WAIT_S = 120  # upper bound for the server to come up on a busy machine; never asserted

LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{' + LABEL + r'(?:,' + LABEL + r')*\})? '
                    r'(-?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)$')

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:2000]))
    if not ok:
        failures.append(name)


def http_get(port, path="/metrics"):
    """(status, content type, body) or None if nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()
    except OSError:
        return None


def raw_exchange(port, data):
    """Sends bytes, half-closes, reads the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out.decode(errors="replace")
            out += chunk


class Server:
    def __init__(self, keel, work):
        self.keel, self.work, self.proc = keel, work, None

    def start(self):
        for _ in range(5):
            self.port, cport, self.mport = free_port(), free_port(pair=True), free_port()
            data = os.path.join(self.work, "data")
            shutil.rmtree(data, ignore_errors=True)
            props = os.path.join(self.work, "server.properties")
            with open(props, "w") as f:
                f.write(f"process.roles=broker,controller\nnode.id=1\n"
                        f"controller.quorum.voters=1@127.0.0.1:{cport}\n"
                        f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{cport}\n"
                        f"log.dirs={data}\noffsets.topic.replication.factor=1\n"
                        f"offsets.topic.num.partitions=3\ngroup.initial.rebalance.delay.ms=0\n"
                        f"metrics.port={self.mport}\n")
            self.log = open(os.path.join(self.work, "server.log"), "w+")
            self.proc = subprocess.Popen([self.keel, "server", "--config", props], stdout=self.log,
                                         stderr=subprocess.STDOUT)
            if self.wait_ready():
                return True
            self.stop()
            self.log.seek(0)
            text = self.log.read()
            if "Address already in use" not in text and "address_in_use" not in text:
                print(text[-3000:])
                return False
            print("note: a port was taken meanwhile; new ports")
        return False

    def wait_ready(self):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            r = subprocess.run([self.keel, "topics", "--list", "--bootstrap-server", f"127.0.0.1:{self.port}",
                                "--timeout-ms", "2000"], capture_output=True)
            if r.returncode == 0 and http_get(self.mport) is not None:
                return True
            time.sleep(0.5)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kafka(self, *args, stdin=None):
        return subprocess.run([self.keel, *args, "--bootstrap-server", f"127.0.0.1:{self.port}"],
                              input=stdin, capture_output=True, text=True, timeout=120)


def parse_exposition(text):
    """{series: value}; records a failure for any malformed line or misplaced TYPE."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            if name in typed:
                check(f"one TYPE line for {name}", False, line)
            typed.add(name)
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            check("sample line parses", False, repr(line))
            continue
        family = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
        if m.group(1) not in typed and family not in typed:
            check(f"TYPE before the samples of {m.group(1)}", False, line)
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples


def check_metrics(server):
    r = http_get(server.mport)
    check("GET /metrics answers", r is not None)
    if r is None:
        return
    status, ctype, body = r
    check("GET /metrics is 200", status == 200, status)
    check("content type is Prometheus text 0.0.4", ctype.startswith("text/plain; version=0.0.4"), ctype)
    s = parse_exposition(body)
    check("the exposition has samples", len(s) > 10, body[:500])
    check("Produce requests counted", s.get('keel_broker_requests_total{api="Produce"}', 0) >= 1, body)
    check("messages in counted", s.get("keel_broker_messages_in_total", 0) >= 3, body)
    check("bytes in counted", s.get("keel_broker_bytes_in_total", 0) > 0)
    check("consumer fetch bytes counted", s.get("keel_broker_bytes_out_total", 0) > 0)
    check("Produce latency observed",
          s.get('keel_broker_request_duration_seconds_count{api="Produce"}', 0) >= 1)
    check("no under-replicated partition", s.get("keel_broker_under_replicated_partitions") == 0)
    check("this node leads partitions", s.get("keel_broker_leader_partitions", 0) >= 1)
    check("this node is the active controller", s.get("keel_controller_active") == 1)
    check("no offline partition", s.get("keel_controller_offline_partitions") == 0)
    check("the group is coordinated here", s.get("keel_group_coordinator_groups", 0) >= 1, body)
    check("group lag = high watermark 3 - committed 2", s.get('keel_consumer_group_lag{group="g1"}') == 1, body)


def check_bad_requests(server):
    bad = raw_exchange(server.mport, b"NONSENSE\r\n\r\n")
    check("a malformed request gets 400", bad.startswith("HTTP/1.1 400 "), bad[:200])
    missing = raw_exchange(server.mport, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
    check("an unknown path gets 404", missing.startswith("HTTP/1.1 404 "), missing[:200])
    huge = raw_exchange(server.mport, b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n")
    check("an oversized head gets 431", huge.startswith("HTTP/1.1 431 "), huge[:200])
    again = http_get(server.mport)
    check("the server still answers /metrics", again is not None and again[0] == 200)
    check("the server still answers Kafka clients", server.kafka("topics", "--list").returncode == 0)


def check_config_errors(keel):
    h = subprocess.run([keel, "server", "--help"], capture_output=True, text=True)
    check("--help lists metrics.port", "metrics.port" in h.stdout, h.stdout[-500:])
    r = subprocess.run([keel, "server", "--override", "metrics.port=65536"], capture_output=True, text=True)
    check("metrics.port=65536 is refused (exit 2)", r.returncode == 2, r.returncode)
    check("the refusal names metrics.port", "metrics.port" in r.stderr, r.stderr)


def check_metrics_port_in_use(server):
    """A second server whose metrics.port is taken stops at once naming the metrics listener."""
    port, cport = free_port(), free_port(pair=True)
    data = os.path.join(server.work, "data2")
    r = subprocess.run([server.keel, "server", "--data-dir", data,
                        "--override", f"controller.quorum.voters=1@127.0.0.1:{cport}",
                        "--override", f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
                        "--override", f"metrics.port={server.mport}"], capture_output=True, text=True, timeout=120)
    check("a taken metrics.port stops the server (exit 1)", r.returncode == 1, r.returncode)
    check("the error names the metrics listener", "metrics listener" in r.stderr, r.stderr[-1000:])


def main():
    keel = sys.argv[1]
    check_config_errors(keel)
    work = tempfile.mkdtemp(prefix="keel-metrics-")
    server = Server(keel, work)
    try:
        if not server.start():
            check("keel server starts with metrics.port", False)
            return 1
        check("keel server starts with metrics.port", True)
        c = server.kafka("topics", "--create", "--topic", "m", "--partitions", "1", "--replication-factor", "1")
        check("topic created", c.returncode == 0, c.stderr)
        p = server.kafka("produce", "--topic", "m", stdin="one\ntwo\nthree\n")
        check("3 records produced", p.returncode == 0, p.stderr)
        r = server.kafka("consume", "--topic", "m", "--partition", "0", "--from-beginning", "--max-messages", "3")
        check("3 records consumed", r.returncode == 0 and r.stdout.split() == ["one", "two", "three"],
              r.stdout + r.stderr)
        g = server.kafka("consume", "--topic", "m", "--group", "g1", "--from-beginning", "--max-messages", "2")
        check("group g1 consumed and committed 2 records", g.returncode == 0 and g.stdout.split() == ["one", "two"],
              g.stdout + g.stderr)
        check_metrics(server)
        check_bad_requests(server)
        check_metrics_port_in_use(server)
        code = server.stop()
        check("SIGTERM stops the server with exit 0", code == 0, code)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("FAILED: " + ", ".join(failures) if failures else "all metrics checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
