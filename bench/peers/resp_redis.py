"""A minimal Redis client over RESP2 (Python 3 stdlib only), enough for `make bench-peers`:
pipelined XADD (each reply is the new entry's id) and paged XRANGE reads. Also starts a
local redis-server with the AOF on and fsync before every reply (appendonly yes,
appendfsync always): a single node, no replica."""

import os
import subprocess
import time

from benchlib import Conn, free_port, run_closed_loop, produce_figures, consume_figures


class Incomplete(Exception):
    pass


def parse(buf, pos):
    """One RESP2 value at pos: (value, next pos); raises Incomplete. Errors come back as
    Exception values, bulk strings as bytes, arrays as lists."""
    idx = buf.find(b"\r\n", pos)
    if idx < 0:
        raise Incomplete()
    kind, line = buf[pos], bytes(buf[pos + 1 : idx])
    pos = idx + 2
    if kind == ord("+"):
        return line, pos
    if kind == ord("-"):
        return Exception(line.decode(errors="replace")), pos
    if kind == ord(":"):
        return int(line), pos
    if kind == ord("$"):
        n = int(line)
        if n < 0:
            return None, pos
        if len(buf) < pos + n + 2:
            raise Incomplete()
        return bytes(buf[pos : pos + n]), pos + n + 2
    if kind == ord("*"):
        n = int(line)
        items = []
        for _ in range(max(n, 0)):
            v, pos = parse(buf, pos)
            items.append(v)
        return items, pos
    raise ConnectionError("RESP: unexpected byte %r" % chr(kind))


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Redis:
    def __init__(self, port):
        self.c = Conn(port)

    def replies(self, block):
        out = []
        while True:
            try:
                v, self.c.pos = parse(self.c.buf, self.c.pos)
                out.append(v)
                continue
            except Incomplete:
                pass
            if out and not block:
                return out
            if out:
                return out
            if not self.c.fill(block):
                return out

    def call(self, *args):
        self.c.send(command(*args))
        return self.replies(True)[0]


def start_server(workdir):
    port = free_port()
    d = os.path.join(workdir, "redis")
    os.makedirs(d, exist_ok=True)
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--appendonly", "yes",
            "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "no"]
    log = open(os.path.join(d, "redis.log"), "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    return port, proc


def produce(r, key, records, record_size, window):
    value = bytes((ord("a") + i % 26) for i in range(record_size))
    cmd = command(b"XADD", key.encode(), b"*", b"d", value)
    next_reply = [0]  # replies come in order

    def poll_acks(block):
        out = []
        for v in r.replies(block):
            out.append((next_reply[0], not isinstance(v, Exception)))
            next_reply[0] += 1
        return out

    result = run_closed_loop(records, window, 100, lambda i: cmd, r.c.send, poll_acks)
    return produce_figures(records, record_size, result)


def consume(r, key, records, page=1000):
    """XRANGE pages of `page` entries, each starting after the last id read."""
    consumed = nbytes = 0
    start_id = b"-"
    cpu = time.process_time()
    start = time.perf_counter_ns()
    while consumed < records:
        entries = r.call(b"XRANGE", key.encode(), start_id, b"+", b"COUNT", page)
        if isinstance(entries, Exception) or not entries:
            break
        for entry_id, fields in entries:
            consumed += 1
            nbytes += len(fields[1])
        start_id = b"(" + entries[-1][0]
    return consume_figures(consumed, nbytes, (time.perf_counter_ns() - start) / 1e9, time.process_time() - cpu)


def run(workdir, records, record_size, window):
    port, proc = start_server(workdir)
    try:
        r = _connect(port)
        if r.call(b"CONFIG", b"GET", b"appendfsync")[1] != b"always":
            raise RuntimeError("redis: appendfsync is not always")
        figures = produce(r, "bench", records, record_size, window)
        figures.update(consume(r, "bench", figures["acknowledged"]))
        r.c.close()
        return figures
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _connect(port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = Redis(port)
            if r.call(b"PING") == b"PONG":
                return r
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
