#!/usr/bin/env python3
"""Bad input against a real `keel server` over its socket (issue 10).

One combined node (message.max.bytes=20000, socket.request.max.bytes=1000000, no automatic
topic creation). Raw frames, each on a connection of its own:
- a frame of garbage, a header cut short, a negative size prefix, a size prefix beyond any
  limit, a request larger than socket.request.max.bytes, an unknown API key, Metadata at an
  unknown version: the connection is closed (or the request answered with an error);
- ApiVersions at an unknown version: UNSUPPORTED_VERSION (35) with the server's ranges, as
  Kafka answers it;
- Produce (v3, batches built here with CRC-32C): a valid batch is appended; a batch whose
  CRC does not match, one above message.max.bytes, one of magic 1, and one whose declared
  length overruns its bytes are refused per partition (CORRUPT_MESSAGE, MESSAGE_TOO_LARGE,
  INVALID_RECORD as Kafka answers Produce v3+) and append nothing;
- a client that sends requests until the server stops reading them and never reads the
  answers: other clients are served meanwhile, and its connection is dropped without harm;
- the protocol corpus (the real clients' captured requests, tests/protocol/captures) sent
  mutated — bits flipped, bytes overwritten, cut, extended, versions changed — a seeded
  1,000 frames (KEEL_FUZZ_FRAMES) within at most 60 s.
Then a second node whose data directory is a 6 MiB tmpfs (root only; skipped with a note
otherwise) is produced to until the disk is full: KAFKA_STORAGE_ERROR, logged once, the
server up, everything acknowledged read back, appends again once the disk grew.
After every step the server is alive (a sanitizer abort would end it), answers ApiVersions
on a new connection, and its log has no sanitizer report; at the end every acknowledged
record reads back exactly (kcat) and the server stops cleanly on SIGTERM.

Usage: server_bad_input_test.py KEEL_BINARY. Exit 77 (skipped) if kcat is missing.
"""
import glob
import importlib.util
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("server_clients_test", os.path.join(HERE, "server_clients_test.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)
fail = base.fail

TOPIC = "bad-input"
MESSAGE_MAX = 20000
REQUEST_MAX = 1000000
EXTRA = f"""offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
message.max.bytes={MESSAGE_MAX}
socket.request.max.bytes={REQUEST_MAX}
"""
CAPTURES = os.path.join(HERE, "..", "protocol", "captures")
# Left out of the fuzz corpus: requests that create or delete topics (a mutated partition
# count could legitimately ask for thousands of partitions), and JoinGroup and SyncGroup,
# whose answers may legitimately wait minutes for a rebalance (each would hold one of the
# listener's connections meanwhile).
LEFT_OUT_KEYS = {11, 14, 19, 20, 33, 37, 44}


class Server(base.Server):
    """base.Server without automatic topic creation (a mutated Metadata names random topics)."""

    def configure(self, ports):
        super().configure(ports)
        with open(self.config) as f:
            text = f.read().replace("auto.create.topics.enable=true", "auto.create.topics.enable=false")
        with open(self.config, "w") as f:
            f.write(text)


# ---------------------------------------------------------------- the wire, by hand

def kstring(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def request(api_key, version, body, correlation=7, client_id="keel-bad-input", flexible=False):
    """A request frame: header v1, or v2 (an empty tagged-field section) for a flexible version."""
    tags = b"\x00" if flexible else b""
    return struct.pack(">hhi", api_key, version, correlation) + kstring(client_id) + tags + body


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.settimeout(10)
    return s


def read_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def exchange(server, payload, timeout=10.0, prefix=None):
    """Sends one frame on a new connection: ("response", body), ("closed", None) or
    ("silent", None) when nothing came back within `timeout`."""
    s = connect(server)
    try:
        try:
            s.sendall((prefix if prefix is not None else struct.pack(">i", len(payload))) + payload)
        except (BrokenPipeError, ConnectionResetError):
            return "closed", None
        s.settimeout(timeout)
        try:
            head = read_exact(s, 4)
            if head is None:
                return "closed", None
            (n,) = struct.unpack(">i", head)
            body = read_exact(s, n)
            return ("closed", None) if body is None else ("response", body)
        except socket.timeout:
            return "silent", None
        except ConnectionResetError:
            return "closed", None
    finally:
        s.close()


def api_versions_ok(server, what):
    """The server is up and answers ApiVersions v0 on a new connection."""
    if server.proc.poll() is not None:
        fail(f"after {what}: keel server exited with {server.proc.returncode}; see {server.log}")
    kind, body = exchange(server, request(18, 0, b""))
    if kind != "response":
        fail(f"after {what}: ApiVersions got {kind}")
    corr, error, count = struct.unpack(">ihi", body[:10])
    if corr != 7 or error != 0 or count < 10:
        fail(f"after {what}: ApiVersions answered correlation {corr}, error {error}, {count} APIs")
    with open(server.log, errors="replace") as f:
        log = f.read()
    for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        if marker in log:
            fail(f"after {what}: the server log has a sanitizer report ({marker}); see {server.log}")


def expect_refused(server, what, payload, prefix=None):
    kind, body = exchange(server, payload, prefix=prefix)
    if kind == "silent":
        fail(f"{what}: no answer and the connection stayed open")
    if kind == "response":
        # An answer must carry an error somewhere: the request was not acceptable.
        print(f"note: {what}: answered ({len(body)} bytes) rather than closed")
    api_versions_ok(server, what)
    return kind


# ------------------------------------------------------------------- record batches

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(n):
    n = (n << 1) ^ (n >> 63)  # zigzag
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def record_batch(values, magic=2, corrupt=False, timestamp=1_700_000_000_000):
    records = b""
    for i, v in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        records += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, timestamp, timestamp, -1, -1, -1, len(values)) + records
    crc = crc32c(after_crc)
    if corrupt:  # one byte of the last value changed after the CRC was taken
        after_crc = after_crc[:-2] + bytes([after_crc[-2] ^ 0x55]) + after_crc[-1:]
    tail = struct.pack(">ibI", -1, magic, crc) + after_crc
    return struct.pack(">qi", 0, len(tail)) + tail


def produce_request(batch, partition=0):
    body = kstring(None) + struct.pack(">hi", -1, 30000)  # transactional id, acks=all, timeout
    body += struct.pack(">i", 1) + kstring(TOPIC) + struct.pack(">i", 1)
    body += struct.pack(">ii", partition, len(batch)) + batch
    return request(0, 3, body)


def produce(server, batch, what):
    """(error code, base offset) of a one-partition Produce v3."""
    kind, body = exchange(server, produce_request(batch))
    if kind != "response":
        fail(f"{what}: Produce got {kind}")
    (corr, topics) = struct.unpack(">ii", body[:8])
    (n,) = struct.unpack(">h", body[8:10])
    name = body[10:10 + n].decode()
    at = 10 + n
    (parts,) = struct.unpack(">i", body[at:at + 4])
    index, error, offset, _ = struct.unpack(">ihqq", body[at + 4:at + 26])
    if corr != 7 or topics != 1 or name != TOPIC or parts != 1 or index != 0:
        fail(f"{what}: a malformed Produce response {body[:40].hex()}")
    return error, offset


# ------------------------------------------------------------------------- the steps

def frames(server):
    header_only = request(18, 0, b"")
    expect_refused(server, "a frame of garbage", b"\x00\x00" + bytes(random.Random(1).randrange(256) for _ in range(40)))
    expect_refused(server, "a header cut short", b"\x00\x03")
    expect_refused(server, "a negative size prefix", b"", prefix=struct.pack(">i", -5))
    expect_refused(server, "a size prefix beyond every limit", b"", prefix=struct.pack(">i", 0x7FFFFFF0))
    big = header_only + b"\x00" * (REQUEST_MAX + 1000)
    expect_refused(server, f"a {len(big)}-byte request (socket.request.max.bytes {REQUEST_MAX})", big)
    expect_refused(server, "an unknown API key", request(9999, 0, b""))
    expect_refused(server, "Metadata v99", request(3, 99, struct.pack(">i", -1)))
    # A client newer than the server sends its own ApiVersions version, with header v2.
    kind, body = exchange(server, request(18, 99, b"\x00", flexible=True))
    if kind != "response" or struct.unpack(">ih", body[:6]) != (7, 35):
        fail(f"ApiVersions v99: {kind} {body[:8].hex() if body else ''}, want error 35 (UNSUPPORTED_VERSION)")
    api_versions_ok(server, "ApiVersions v99")
    print("ok: garbage, a cut header, bad size prefixes, an oversized request, an unknown API key and "
          "version: closed; ApiVersions v99 answered UNSUPPORTED_VERSION; the server stays up")


def batches(server, acknowledged):
    error, offset = produce(server, record_batch([b"first", b"second"]), "a valid batch")
    if (error, offset) != (0, 0):
        fail(f"a valid batch: error {error}, base offset {offset}")
    acknowledged += [b"first", b"second"]
    cases = [
        ("a batch whose CRC does not match", record_batch([b"corrupt"], corrupt=True), 2),
        (f"a batch above message.max.bytes ({MESSAGE_MAX})", record_batch([b"x" * (MESSAGE_MAX + 100)]), 10),
        # Kafka: Produce v3+ carries magic 2 only; an older magic is INVALID_RECORD there.
        ("a magic 1 batch in Produce v3", record_batch([b"old"], magic=1), 87),
    ]
    for what, batch, want in cases:
        error, _ = produce(server, batch, what)
        if error != want:
            fail(f"{what}: error {error}, want {want}")
        api_versions_ok(server, what)
    short = record_batch([b"cut"])
    short = short[:8] + struct.pack(">i", len(short)) + short[12:]  # claims 12 more bytes than it has
    overrun, _ = produce(server, short, "a batch whose length overruns it")
    if overrun == 0:
        fail("a batch whose declared length overruns its bytes was appended")
    error, offset = produce(server, record_batch([b"third"]), "a valid batch after the bad ones")
    if (error, offset) != (0, 2):
        fail(f"a valid batch after the bad ones: error {error}, base offset {offset} (want 2: nothing else appended)")
    acknowledged.append(b"third")
    print("ok: Produce refused per partition: CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD (magic 1), "
          f"an overrunning batch (error {overrun}); valid batches before and after at offsets 0 and 2")


def stalled_reader(server, acknowledged):
    s = connect(server)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    metadata = request(3, 1, struct.pack(">i", -1))  # every topic
    s.setblocking(False)
    sent, blocked = 0, False
    give_up = time.monotonic() + 20
    while sent < 200000 and time.monotonic() < give_up:
        try:
            s.send(struct.pack(">i", len(metadata)) + metadata)
            sent += 1
        except BlockingIOError:  # the server stopped reading: its answers fill the socket
            blocked = True
            break
    api_versions_ok(server, f"a client that sent {sent} requests and reads nothing")
    error, offset = produce(server, record_batch([b"while stalled"]), "a produce beside a stalled client")
    if error != 0:
        fail(f"a produce beside a stalled client: error {error}")
    acknowledged.append(b"while stalled")
    s.close()
    api_versions_ok(server, "the stalled client's close")
    print(f"ok: a client that sent {sent} requests without reading ({'the server stopped reading it' if blocked else 'all taken'}): "
          f"others served meanwhile (offset {offset}), its close harmless")


def corpus():
    out = []
    for path in sorted(glob.glob(os.path.join(CAPTURES, "*", "*.bin"))):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) >= 8 and struct.unpack(">h", data[:2])[0] not in LEFT_OUT_KEYS:
            out.append(data)
    return out


def mutate(rng, frame):
    b = bytearray(frame)
    kind = rng.randrange(7)
    if kind == 0:  # flip bits (never in the API key: see LEFT_OUT_KEYS)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(2, len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # overwrite a run of bytes
        i = rng.randrange(2, len(b))
        for j in range(i, min(len(b), i + rng.randint(1, 8))):
            b[j] = rng.randrange(256)
    elif kind == 2:  # cut
        b = b[:rng.randrange(2, len(b))]
    elif kind == 3:  # extend
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 4:  # another version
        b[2:4] = struct.pack(">h", rng.choice([rng.randrange(0, 20), rng.randrange(-32768, 32768)]))
    elif kind == 5:  # a length or count field made huge or negative
        i = rng.randrange(8, max(9, len(b) - 4))
        b[i:i + 4] = struct.pack(">i", rng.choice([-1, -2, 0x7FFFFFFF, 0x10000, rng.randrange(-2**31, 2**31)]))
    else:  # a run of bytes duplicated
        i = rng.randrange(2, len(b))
        b[i:i] = b[i:i + rng.randint(1, 32)]
    return bytes(b)


def fuzz(server):
    frames_wanted = int(os.environ.get("KEEL_FUZZ_FRAMES", "1000"))
    seed = int(os.environ.get("KEEL_FUZZ_SEED", "20261207"))
    rng = random.Random(seed)
    inputs = corpus()
    if len(inputs) < 50:
        fail(f"the protocol corpus has {len(inputs)} frames under {CAPTURES}")
    counts = {"response": 0, "closed": 0, "silent": 0}
    deadline = time.monotonic() + 60
    done = 0
    while done < frames_wanted and time.monotonic() < deadline:
        payload = mutate(rng, rng.choice(inputs))
        kind, _ = exchange(server, payload, timeout=0.3)
        counts[kind] += 1
        done += 1
        if done % 100 == 0:
            api_versions_ok(server, f"fuzz frame {done} (seed {seed})")
    api_versions_ok(server, f"{done} fuzz frames (seed {seed})")
    if done < min(frames_wanted, 200):
        fail(f"only {done} fuzz frames in 60 s")
    print(f"ok: {done} mutated frames of {len(inputs)} captured requests (KEEL_FUZZ_SEED={seed}): "
          f"{counts['response']} answered, {counts['closed']} closed, {counts['silent']} still waiting "
          "after 0.3 s; the server stays up, no sanitizer report")


def read_back(server, acknowledged):
    code, out, err = base.run(["kcat", "-C", "-b", server.bootstrap, "-t", TOPIC, "-p", "0", "-o", "beginning",
                               "-e", "-f", "%o %s\\n"])
    if code != 0:
        fail(f"kcat read back: exit {code}: {err.decode(errors='replace')}")
    got = [line.split(" ", 1) for line in out.decode().splitlines() if line]
    want = [[str(i), v.decode()] for i, v in enumerate(acknowledged)]
    if got != want:
        fail(f"read back {got}, want {want}")
    print(f"ok: the {len(acknowledged)} acknowledged records read back exactly at offsets 0..{len(acknowledged) - 1}")


def full_disk(keel, root):
    """The data directory on a 6 MiB tmpfs (needs root; skipped with a note otherwise):
    produce until the disk is full. The producer gets KAFKA_STORAGE_ERROR (retriable, as
    from Kafka), the server logs it once and stays up, everything acknowledged reads back;
    once the disk grows, appends succeed again."""
    server = Server(keel, os.path.join(root, "full"), extra=EXTRA)
    data = os.path.join(server.workdir, "data")
    os.makedirs(data, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", data], capture_output=True)
    if mounted.returncode != 0:
        print(f"note: the full-disk step is skipped: mount tmpfs: {mounted.stderr.decode(errors='replace').strip()}")
        return
    try:
        server.start()
        code, _, err = base.run([keel, "topics", "--create", "--topic", TOPIC, "--partitions", "1",
                                 "--bootstrap-server", server.bootstrap])
        if code != 0:
            fail(f"keel topics --create on the small disk: {err.decode(errors='replace')}")
        acknowledged, error = [], 0
        for i in range(1000):  # 16 KiB a batch: far more than 6 MiB
            value = (b"%06d" % i) * 2700
            error, offset = produce(server, record_batch([value]), f"batch {i} on a filling disk")
            if error != 0:
                break
            if offset != len(acknowledged):
                fail(f"batch {i} on a filling disk: base offset {offset}, want {len(acknowledged)}")
            acknowledged.append(value)
        if error != 56:
            fail(f"a full disk: Produce error {error} after {len(acknowledged)} batches, want 56 (KAFKA_STORAGE_ERROR)")
        api_versions_ok(server, "a full disk")
        with open(server.log, errors="replace") as f:
            log = f.read()
        if log.count("appends fail, producers get KAFKA_STORAGE_ERROR") != 1:
            fail(f"a full disk: the server log should say once that appends fail; see {server.log}")
        subprocess.run(["mount", "-o", "remount,size=64m", data], check=True)
        error, offset = produce(server, record_batch([b"after"]), "a produce once the disk grew")
        if (error, offset) != (0, len(acknowledged)):
            fail(f"a produce once the disk grew: error {error}, offset {offset}, want 0 at {len(acknowledged)}")
        acknowledged.append(b"after")
        code, out, err = base.run(["kcat", "-C", "-b", server.bootstrap, "-t", TOPIC, "-p", "0", "-o", "beginning",
                                   "-e", "-f", "%s\n"])
        if code != 0 or out.decode().splitlines() != [v.decode() for v in acknowledged]:
            fail(f"a full disk: read back {len(out.decode().splitlines())} records (exit {code}), "
                 f"want the {len(acknowledged)} acknowledged")
        if server.terminate() != 0:
            fail("keel server did not exit 0 on SIGTERM after a full disk")
        print(f"ok: a full disk: {len(acknowledged) - 1} batches acknowledged, then KAFKA_STORAGE_ERROR (logged once, "
              "the server up); after the disk grew the next append landed; all read back exactly")
    finally:
        if server.proc and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        subprocess.run(["umount", data], capture_output=True)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("kcat") is None:
        print("SKIP: kcat is not installed")
        return base.SKIP
    keel = os.path.abspath(sys.argv[1])
    root = tempfile.mkdtemp(prefix="keel-bad-input-test-")
    print(f"workdir {root} (kept with the server log if the test fails)")
    server = Server(keel, root, extra=EXTRA)
    try:
        server.start()
        code, _, err = base.run([keel, "topics", "--create", "--topic", TOPIC, "--partitions", "1",
                                 "--bootstrap-server", server.bootstrap])
        if code != 0:
            fail(f"keel topics --create: {err.decode(errors='replace')}")
        acknowledged = []
        frames(server)
        batches(server, acknowledged)
        stalled_reader(server, acknowledged)
        fuzz(server)
        read_back(server, acknowledged)
        if server.terminate() != 0:
            fail("keel server did not exit 0 on SIGTERM after the bad input")
    finally:
        if server.proc and server.proc.poll() is None:
            server.proc.kill()
    full_disk(keel, root)
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
