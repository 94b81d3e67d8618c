// keel bench produce | consume: a real Keel cluster on this machine, measured the way
// Kafka's kafka-producer-perf-test / kafka-consumer-perf-test measure one.
//
// Unless given --bootstrap, the benchmark starts its own local cluster (`keel cluster up
// --nodes N` in a temporary directory, the same separate server processes on loopback as
// prod/local_cluster.h describes) and stops it at the end (`keel cluster down`). It
// creates a fresh topic (TopicAdmin), then:
//   produce  sends `records` records of `record_size` bytes with Keel's own producer
//            (core/client/producer.h; acks, idempotence as asked), round-robin over the
//            partitions, with at most `window` records unacknowledged at a time (a closed
//            loop, as every peer in bench/peers/ runs too), after one warm-up record per
//            partition (not counted: metadata, producer id and leaders are ready, as the
//            peers' connections and streams are). Each record's acknowledgement
//            latency is the time from send() to its future completing (one waiter fiber
//            per partition takes them in order). Figures: records/s, MB/s (payload bytes,
//            10^6 per second), latency p50 / p99 / p99.9 / max.
//   consume  the same produce phase, then reads every record back from the beginning with
//            the consumer (manual assignment of all partitions): records/s and MB/s.
//
//   ServerBenchOptions o;  o.keel_binary = "/proc/self/exe";  o.consume = true;
//   int rc = run_server_bench(o);   // prints the figures; o.json_path: also as JSON
//
// JSON (stable keys): {"bench":"produce","records":N,"record_size":S,"acks":"all",
//   "idempotence":true,"partitions":P,"replication":R,"nodes":K,"window":W,
//   "acknowledged":A,"failed":F,"seconds":T,"records_per_s":..,"mb_per_s":..,
//   "latency_p50_ms":..,"latency_p99_ms":..,"latency_p999_ms":..,"latency_max_ms":..}
// consume adds "consumed", "consume_seconds", "consume_records_per_s", "consume_mb_per_s"
// (bench "consume"; the produce keys stay as they are).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keel::bench {

struct ServerBenchOptions {
    bool consume = false;                  // keel bench consume (produce, then read back)
    std::string keel_binary;               // runs `keel cluster up|down` for a local cluster
    std::optional<std::string> bootstrap;  // a running cluster instead: HOST:PORT[,HOST:PORT...]
    std::optional<std::string> json_path;  // also write the figures as JSON
    uint64_t records = 200'000;
    uint32_t record_size = 100;  // value bytes (records have no key)
    int16_t acks = -1;           // 0, 1 or -1 (all)
    bool idempotence = true;     // needs acks -1
    int32_t partitions = 3;
    int16_t replication = 3;
    int32_t nodes = 3;                           // of the local cluster
    uint32_t window = 10'000;                    // records unacknowledged at most
    std::vector<std::string> server_properties;  // NAME=VALUE for every local node (--set)
};

// The help text of `keel bench produce` and `keel bench consume`.
const char* server_bench_help();

// Runs the benchmark and prints the figures. 0 on success; 1 if the cluster could not be
// started or reached, a record failed, or fewer records came back than were produced.
int run_server_bench(const ServerBenchOptions& options);

}  // namespace keel::bench
