"""What the peer clients of `make bench-peers` share: free loopback ports, a closed-loop
producer driver (at most `window` records unacknowledged, each record's latency from the
moment its command is written to the moment its acknowledgement is parsed), percentiles,
and the figures of one run. Python 3 standard library only."""

import socket
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile_ms(sorted_ns, q):
    """Nearest-rank percentile of sorted nanosecond latencies, in milliseconds."""
    if not sorted_ns:
        return 0.0
    rank = max(1, -(-int(q * 1000) * len(sorted_ns) // 1000))  # ceil(q * n)
    return sorted_ns[min(rank, len(sorted_ns)) - 1] / 1e6


def produce_figures(records, record_size, loop_result):
    acked, failed, seconds, latencies_ns, cpu = loop_result
    latencies_ns.sort()
    return {
        "client_cpu_s": round(cpu, 3),
        "records": records,
        "record_size": record_size,
        "acknowledged": acked,
        "failed": failed,
        "seconds": round(seconds, 3),
        "records_per_s": round(acked / seconds) if seconds > 0 else 0,
        "mb_per_s": round(acked * record_size / 1e6 / seconds, 2) if seconds > 0 else 0,
        "latency_p50_ms": round(percentile_ms(latencies_ns, 0.5), 3),
        "latency_p99_ms": round(percentile_ms(latencies_ns, 0.99), 3),
        "latency_p999_ms": round(percentile_ms(latencies_ns, 0.999), 3),
        "latency_max_ms": round(latencies_ns[-1] / 1e6, 3) if latencies_ns else 0,
    }


def consume_figures(consumed, nbytes, seconds, cpu):
    return {
        "consume_client_cpu_s": round(cpu, 3),
        "consumed": consumed,
        "consume_seconds": round(seconds, 3),
        "consume_records_per_s": round(consumed / seconds) if seconds > 0 else 0,
        "consume_mb_per_s": round(nbytes / 1e6 / seconds, 2) if seconds > 0 else 0,
    }


class Conn:
    """A TCP connection with a receive buffer; the protocol parsers consume from `buf`."""

    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.timeout = 60.0  # how long a blocking fill waits

    def fill(self, block=True):
        """Reads what is there (waits for something when block). False if nothing came."""
        if self.pos > 0 and self.pos >= len(self.buf) // 2:
            del self.buf[: self.pos]
            self.pos = 0
        try:
            self.sock.settimeout(self.timeout if block else 0.0)
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return False
        finally:
            self.sock.settimeout(None)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buf += data
        return True

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def run_closed_loop(records, window, chunk, encode, send, poll_acks):
    """Drives a pipelined producer: writes commands in chunks while fewer than `window` are
    unacknowledged. encode(i) gives record i's command bytes; send(bytes); poll_acks(block)
    returns a list of (index, ok) acknowledged since the last call. Returns (acked, failed,
    seconds, latencies_ns, client CPU seconds)."""
    sent_at = [0] * records
    sent = done = acked = failed = 0
    latencies = []
    cpu = time.process_time()
    start = time.perf_counter_ns()
    while done < records:
        if sent < records and sent - done < window:
            n = min(chunk, window - (sent - done), records - sent)
            payload = b"".join(encode(i) for i in range(sent, sent + n))
            now = time.perf_counter_ns()
            for i in range(sent, sent + n):
                sent_at[i] = now
            send(payload)
            sent += n
            results = poll_acks(False)
        else:
            results = poll_acks(True)
        now = time.perf_counter_ns()
        for index, ok in results:
            done += 1
            if ok:
                acked += 1
                latencies.append(now - sent_at[index])
            else:
                failed += 1
    seconds = (time.perf_counter_ns() - start) / 1e9
    return acked, failed, seconds, latencies, time.process_time() - cpu
