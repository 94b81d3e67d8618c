#!/usr/bin/env python3
"""A recording Kafka proxy for the capture rig (docs/protocol-captures.md).

Listens on one loopback port per upstream broker and forwards bytes both ways. Every
request frame a client sends is saved (at most --per-version frames per API key and
version) as OUT/<client>/<seq>-<api>-v<version>.bin -- the frame after Kafka's 4-byte size
prefix -- and listed in OUT/manifest.tsv with the client, its version, the API key, name and
version, the correlation id and the client id, parsed here independently of Keel.

Responses are changed in two ways only, so that clients keep talking through the proxy
and reach the APIs the mock cluster does not implement:
  * broker ports in responses (host "127.0.0.1" followed by the int32 port: Metadata,
    FindCoordinator, ...) are replaced by the proxy's ports;
  * a Metadata response whose controller id is no broker (the mock says 0; its brokers
    are 1..N) names the first broker, so admin clients find a controller to send to;
  * ApiVersions responses gain CreateTopics, DeleteTopics and DescribeConfigs (Kafka 3.x
    ranges) if absent, so admin clients send them (the mock then fails them; the request
    bytes are what we keep).
With --advertise keel (in front of a real `keel server`) only the ports are changed.
Usage: record_proxy.py --upstream 127.0.0.1:M[,127.0.0.1:M2] --listen P[,P2] --client NAME
                       --client-version V --out DIR
"""
import argparse
import asyncio
import os
import struct
import sys

API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit",
             9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
             13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups",
             18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics", 22: "InitProducerId",
             23: "OffsetForLeaderEpoch", 32: "DescribeConfigs", 36: "SaslAuthenticate",
             17: "SaslHandshake", 42: "DeleteGroups", 60: "DescribeCluster",
             21: "DeleteRecords", 33: "AlterConfigs", 37: "CreatePartitions",
             44: "IncrementalAlterConfigs", 68: "ConsumerGroupHeartbeat", 69: "ConsumerGroupDescribe"}
EXTRA_APIS = [(19, 0, 7), (20, 0, 6), (32, 0, 4)]
# --advertise keel: nothing added. (The +keel captures of DeleteRecords were taken when
# `keel server` did not serve it yet and this list added it, v0-2.)
KEEL_EXTRA_APIS = []
# --advertise kafka3: every client API at Kafka 3.7's newest version, so clients send
# their newest requests (the mock rejects what it does not implement; we keep the bytes).
KAFKA3_MAX = {0: 10, 1: 16, 2: 8, 3: 12, 8: 9, 9: 9, 10: 4, 11: 9, 12: 4, 13: 5, 14: 5, 15: 5,
              16: 4, 18: 3, 19: 7, 20: 6, 22: 4, 32: 4, 42: 2, 60: 1}
HOST = b"127.0.0.1"


def uvarint(b, pos):
    shift = value = 0
    while True:
        byte = b[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def put_uvarint(v):
    out = bytearray()
    while True:
        if v < 0x80:
            out.append(v)
            return bytes(out)
        out.append((v & 0x7F) | 0x80)
        v >>= 7


def parse_request_header(frame):
    key, version, corr = struct.unpack_from(">hhi", frame, 0)
    (n,) = struct.unpack_from(">h", frame, 8)
    client_id = None if n < 0 else frame[10:10 + n].decode("utf-8", "replace")
    return key, version, corr, client_id


def add_admin_apis(body, version, kafka3=False, extra=EXTRA_APIS):
    """body = ApiVersions response after the correlation id; returns it with extra
    (EXTRA_APIS) and with kafka3, every KAFKA3_MAX key at its newest version."""
    error, = struct.unpack_from(">h", body, 0)
    if error != 0:
        return body  # e.g. 35 UNSUPPORTED_VERSION, answered in v0 form: the client retries
    pos = 2
    if version >= 3:
        count, pos = uvarint(body, pos)
        count -= 1
    else:
        (count,) = struct.unpack_from(">i", body, pos)
        pos += 4
    entries = []
    for _ in range(count):
        entry_start = pos
        key, = struct.unpack_from(">h", body, pos)
        pos += 6
        if version >= 3:
            tags, pos = uvarint(body, pos)
            for _ in range(tags):
                _, pos = uvarint(body, pos)
                size, pos = uvarint(body, pos)
                pos += size
        entries.append((key, body[entry_start:pos]))
    rest = body[pos:]
    if kafka3:
        entries = [(k, e) for k, e in entries if k not in KAFKA3_MAX]
        entries += [(k, struct.pack(">hhh", k, 0, hi) + (b"\x00" if version >= 3 else b""))
                    for k, hi in KAFKA3_MAX.items()]
    have = {k for k, _ in entries}
    for key, lo, hi in extra:
        if key not in have:
            entries.append((key, struct.pack(">hhh", key, lo, hi) + (b"\x00" if version >= 3 else b"")))
    entries.sort()
    head = struct.pack(">h", error)
    head += put_uvarint(len(entries) + 1) if version >= 3 else struct.pack(">i", len(entries))
    return head + b"".join(e for _, e in entries) + rest


def set_controller(body, version):
    """body = Metadata response after the header; a controller id that is no broker's
    becomes the first broker's id."""
    flexible = version >= 9
    pos = 4 if version >= 3 else 0  # throttle_time_ms

    def string(pos):
        if flexible:
            n, pos = uvarint(body, pos)
            return pos + max(n - 1, 0)
        (n,) = struct.unpack_from(">h", body, pos)
        return pos + 2 + max(n, 0)

    def skip_tags(pos):
        if not flexible:
            return pos
        count, pos = uvarint(body, pos)
        for _ in range(count):
            _, pos = uvarint(body, pos)
            size, pos = uvarint(body, pos)
            pos += size
        return pos

    if flexible:
        count, pos = uvarint(body, pos)
        count -= 1
    else:
        (count,) = struct.unpack_from(">i", body, pos)
        pos += 4
    nodes = []
    for _ in range(count):
        (node,) = struct.unpack_from(">i", body, pos)
        nodes.append(node)
        pos = string(pos + 4) + 4  # host, port
        pos = skip_tags(string(pos))  # rack
    if version >= 2:
        pos = string(pos)  # cluster_id
    (controller,) = struct.unpack_from(">i", body, pos)
    if not nodes or controller in nodes:
        return body
    return body[:pos] + struct.pack(">i", nodes[0]) + body[pos + 4:]


class Recorder:
    def __init__(self, args):
        self.client, self.version, self.per_version = args.client, args.client_version, args.per_version
        self.out = os.path.join(args.out, args.client)
        os.makedirs(self.out, exist_ok=True)
        self.manifest = os.path.join(args.out, "manifest.tsv")
        self.seq = 0
        self.counts = {}

    def save(self, frame):
        key, version, corr, client_id = parse_request_header(frame)
        n = self.counts.get((key, version), 0)
        if n >= self.per_version:
            return
        self.counts[(key, version)] = n + 1
        self.seq += 1
        name = "%03d-%s-v%d.bin" % (self.seq, API_NAMES.get(key, "Api%d" % key), version)
        with open(os.path.join(self.out, name), "wb") as f:
            f.write(frame)
        with open(self.manifest, "a") as f:
            f.write("\t".join([self.client + "/" + name, self.client, self.version, str(key),
                               API_NAMES.get(key, "Api%d" % key), str(version), str(corr),
                               "-" if client_id is None else client_id]) + "\n")


async def read_frame(reader):
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    return await reader.readexactly(size)


async def pump_requests(reader, writer, recorder, pending):
    while True:
        frame = await read_frame(reader)
        key, version, corr, _ = parse_request_header(frame)
        pending[corr] = (key, version)
        recorder.save(frame)
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()


async def pump_responses(reader, writer, pending, port_map, advertise):
    while True:
        frame = await read_frame(reader)
        corr, = struct.unpack_from(">i", frame, 0)
        key, version = pending.pop(corr, (None, None))
        try:
            if key == 18 and advertise == "keel":
                frame = frame[:4] + add_admin_apis(frame[4:], version, extra=KEEL_EXTRA_APIS)
            elif advertise == "keel":
                pass
            elif key == 18:
                frame = frame[:4] + add_admin_apis(frame[4:], version, advertise == "kafka3")
            elif key == 3 and 1 <= version:
                header = 5 if version >= 9 else 4  # correlation id (+ tagged fields)
                frame = frame[:header] + set_controller(frame[header:], version)
        except (struct.error, IndexError):
            pass
        for upstream, local in port_map.items():
            frame = frame.replace(HOST + struct.pack(">i", upstream), HOST + struct.pack(">i", local))
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()


def handler(upstream_port, recorder, port_map, advertise):
    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        pending = {}
        tasks = [asyncio.ensure_future(pump_requests(client_reader, up_writer, recorder, pending)),
                 asyncio.ensure_future(pump_responses(up_reader, client_writer, pending, port_map, advertise))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            t.cancel()
        for w in (client_writer, up_writer):
            w.close()
    return handle


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--listen", required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--client-version", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--per-version", type=int, default=2)
    # keel: in front of a real keel server, responses unchanged but for the ports
    p.add_argument("--advertise", choices=["mock", "kafka3", "keel"], default="mock")
    args = p.parse_args()
    ups = [int(u.rsplit(":", 1)[1]) for u in args.upstream.split(",")]
    listens = [int(x) for x in args.listen.split(",")]
    port_map = dict(zip(ups, listens))
    recorder = Recorder(args)
    servers = [await asyncio.start_server(handler(u, recorder, port_map, args.advertise), "127.0.0.1", l)
               for u, l in port_map.items()]
    print("proxy ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
