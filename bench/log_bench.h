// keel bench log: the partition log on real files. For 100-byte and 1 KiB records it
// appends producer-sized batches (16 KiB, Kafka's batch.size) through PartitionLog on a
// PosixDisk and writes the same bytes with plain sequential appends to one file, under
// the same flush policy; then reads the log back with 1 MiB fetches. Figures in MB/s
// (10^6 bytes of batches per second) and the ratio append / raw write (target >= 0.8).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keel::bench {

struct LogBenchOptions {
    std::optional<std::string> dir;        // where partition directories go (default: a temp dir)
    bool keep = false;                     // leave them in `dir` (for `keel dump-log`)
    std::optional<std::string> json_path;  // also write the figures as JSON
    uint64_t mb = 128;                     // megabytes written per run (> 0)
    bool flush_every_batch = false;        // false: Kafka's default (never); true: sync each batch
};

// The help text of `keel bench log`.
const char* log_bench_help();

// Prints the figures; 0 on success, 1 on an I/O error, 2 for bad options.
int run_log_bench(const LogBenchOptions& options);

}  // namespace keel::bench
