#include "bench/log_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/compression/batch.h"
#include "core/log/partition_log.h"
#include "prod/posix_disk.h"
#include "prod/real_clock.h"
#include "prod/temp_dir.h"

namespace keel::bench {
namespace {

constexpr size_t kBatchBytes = 16 * 1024;  // Kafka's producer batch.size
constexpr size_t kFetchBytes = 1 << 20;    // Kafka's max.partition.fetch.bytes
constexpr int kRounds = 5;                 // medians: the machine is shared

const char* kHelp = R"(usage: keel bench log [--dir DIR] [--keep] [--json FILE] [--mb N] [--flush never|batch]

Partition log throughput on real files, for 100-byte and 1 KiB records in 16 KiB
batches: PartitionLog appends vs plain sequential writes of the same bytes under the
same flush policy, alternating in 4 MB chunks (ratio target >= 0.8), and reads with
1 MiB fetches. Medians of 5 runs.

options:
  --dir DIR     where to write (default: a fresh directory under /tmp, removed after)
  --keep        keep the partition directories in DIR, e.g. for 'keel dump-log DIR/...'
  --json FILE   also write the figures as JSON (append_mb_per_sec, raw_write_mb_per_sec,
                append_ratio, read_mb_per_sec, and per record size under "runs")
  --mb N        megabytes per run (default 128)
  --flush P     never: Kafka's default, rely on replication; batch: sync every batch
)";

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Batches a producer would send: `count` distinct 16 KiB batches of record_bytes values.
std::vector<Bytes> make_batches(size_t record_bytes, size_t count) {
    std::vector<Bytes> out;
    size_t per_batch = std::max<size_t>(1, kBatchBytes / (record_bytes + 20));
    std::string value(record_bytes, 'x');
    for (size_t b = 0; b < count; b++) {
        log::RecordBatchBuilder builder;
        for (size_t r = 0; r < per_batch; r++) {
            std::string key = "key-" + std::to_string(b * per_batch + r);
            value[r % record_bytes] = static_cast<char>('a' + (b + r) % 26);
            builder.add(1'700'000'000'000LL + static_cast<int64_t>(b), as_bytes(key), as_bytes(value));
        }
        out.push_back(builder.build());
    }
    return out;
}

struct Run {
    size_t record_bytes = 0;
    double append_mb_s = 0, raw_mb_s = 0, read_mb_s = 0;
    uint64_t bytes = 0;
    double ratio_median = 0;  // of the per-round append/raw ratios
    double ratio() const { return ratio_median; }
};

struct Setup {
    std::string dir;
    uint64_t bytes_per_run;
    bool flush_every_batch;
    bool keep;
};

Result<std::unique_ptr<log::PartitionLog>> open_log(prod::PosixDisk& disk, prod::RealClock& clock,
                                                    const std::string& topic, bool sync_each) {
    std::string dir = log::partition_dir_name(topic, 0);
    if (std::filesystem::exists(disk.root() + "/" + dir)) prod::remove_tree(disk.root() + "/" + dir);
    log::PartitionLogOptions o;
    o.disk = &disk;
    o.clock = &clock;
    o.codec = &compression::batch_codec();
    o.dir = dir;
    o.topic = topic;
    o.partition = 0;
    if (sync_each) o.config.flush_messages = 1;
    return log::PartitionLog::open(o);
}

// Seconds spent writing `total` bytes of batches both ways: plain sequential appends to one
// file (syncing each batch if asked) and PartitionLog::append under the same policy. The
// two alternate in 4 MB chunks, so a busy machine slows both alike.
struct Timings {
    double raw_s = 0, append_s = 0;
    uint64_t bytes = 0;
};

Result<Timings> write_both(prod::PosixDisk& disk, log::PartitionLog& log, const std::string& raw_name,
                           const std::vector<Bytes>& batches, uint64_t total, bool sync_each) {
    constexpr uint64_t kChunkBytes = 4'000'000;
    KEEL_TRY_ASSIGN(auto raw, disk.open(raw_name, env::OpenMode::create));
    KEEL_TRY(raw->truncate(0));
    Timings t;
    size_t next = 0;
    while (t.bytes < total) {
        size_t first = next;
        uint64_t chunk = 0;
        double t0 = now_s();
        for (; chunk < kChunkBytes && t.bytes + chunk < total; next++) {
            const Bytes& b = batches[next % batches.size()];
            KEEL_TRY(raw->append(b));
            if (sync_each) KEEL_TRY(raw->sync());
            chunk += b.size();
        }
        double t1 = now_s();
        for (size_t i = first; i < next; i++) {
            auto appended = log.append(batches[i % batches.size()], LeaderEpoch(0));
            if (!appended.ok()) return appended.error();
        }
        double t2 = now_s();
        t.raw_s += t1 - t0;
        t.append_s += t2 - t1;
        t.bytes += chunk;
    }
    raw.reset();
    KEEL_TRY(disk.remove(raw_name));
    return t;
}

Result<double> read_all(log::PartitionLog& log) {
    uint64_t bytes = 0;
    double t0 = now_s();
    for (Offset at = log.log_start_offset(); at < log.log_end_offset();) {
        KEEL_TRY_ASSIGN(auto r, log.read(at, kFetchBytes));
        if (r.batch_count == 0) break;
        bytes += r.records.size();
        at = r.next_offset;
    }
    double t1 = now_s();
    return static_cast<double>(bytes) / 1e6 / (t1 - t0);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

Result<Run> measure(prod::PosixDisk& disk, const Setup& s, size_t record_bytes) {
    Run run;
    run.record_bytes = record_bytes;
    run.bytes = s.bytes_per_run;
    auto batches = make_batches(record_bytes, 64);
    prod::RealClock clock;
    std::string topic = "bench-r" + std::to_string(record_bytes);
    std::vector<double> raw, appended, read, ratio;
    for (int round = 0; round < kRounds; round++) {
        KEEL_TRY_ASSIGN(auto log, open_log(disk, clock, topic, s.flush_every_batch));
        KEEL_TRY_ASSIGN(Timings t, write_both(disk, *log, "raw-" + topic + ".bin", batches, s.bytes_per_run,
                                              s.flush_every_batch));
        KEEL_TRY_ASSIGN(double r, read_all(*log));
        double mb = static_cast<double>(t.bytes) / 1e6;
        raw.push_back(mb / t.raw_s);
        appended.push_back(mb / t.append_s);
        ratio.push_back(t.raw_s / t.append_s);
        read.push_back(r);
        bool last = round + 1 == kRounds;
        if (last && s.keep) KEEL_TRY(log->close());
        log.reset();
        if (!(last && s.keep)) prod::remove_tree(disk.root() + "/" + log::partition_dir_name(topic, 0));
    }
    run.raw_mb_s = median(raw);
    run.append_mb_s = median(appended);
    run.read_mb_s = median(read);
    run.ratio_median = median(ratio);
    return run;
}

std::string json_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

std::string to_json(const std::vector<Run>& runs, const Setup& s) {
    double append_s = 0, raw_s = 0, read_s = 0, total_mb = 0, ratio_min = 1e9;
    for (const Run& r : runs) {
        double mb = static_cast<double>(r.bytes) / 1e6;
        total_mb += mb;
        append_s += mb / r.append_mb_s;
        raw_s += mb / r.raw_mb_s;
        read_s += mb / r.read_mb_s;
        ratio_min = std::min(ratio_min, r.ratio());
    }
    std::string j = "{\n  \"benchmark\": \"log\",\n";
    j += "  \"flush_policy\": \"" + std::string(s.flush_every_batch ? "batch" : "never") + "\",\n";
    j += "  \"mb_per_run\": " + json_number(static_cast<double>(s.bytes_per_run) / 1e6) + ",\n";
    j += "  \"append_mb_per_sec\": " + json_number(total_mb / append_s) + ",\n";
    j += "  \"raw_write_mb_per_sec\": " + json_number(total_mb / raw_s) + ",\n";
    j += "  \"append_ratio\": " + json_number(ratio_min) + ",\n";
    j += "  \"read_mb_per_sec\": " + json_number(total_mb / read_s) + ",\n";
    j += "  \"runs\": [\n";
    for (size_t i = 0; i < runs.size(); i++) {
        const Run& r = runs[i];
        j += "    {\"record_bytes\": " + std::to_string(r.record_bytes) +
             ", \"append_mb_per_sec\": " + json_number(r.append_mb_s) +
             ", \"raw_write_mb_per_sec\": " + json_number(r.raw_mb_s) +
             ", \"append_ratio\": " + json_number(r.ratio()) +
             ", \"read_mb_per_sec\": " + json_number(r.read_mb_s) + "}" + (i + 1 < runs.size() ? ",\n" : "\n");
    }
    j += "  ]\n}\n";
    return j;
}

}  // namespace

const char* log_bench_help() { return kHelp; }

int run_log_bench(const LogBenchOptions& options) {
    Setup s;
    s.bytes_per_run = options.mb * 1'000'000;
    if (s.bytes_per_run == 0 || (options.keep && !options.dir)) {
        std::fprintf(stderr, "keel bench log: %s\n", s.bytes_per_run == 0 ? "--mb must be > 0" : "--keep needs --dir");
        return 2;
    }
    s.flush_every_batch = options.flush_every_batch;
    std::string flush = s.flush_every_batch ? "batch" : "never";
    s.keep = options.keep;
    std::unique_ptr<prod::TempDir> temp;
    if (options.dir) {
        s.dir = *options.dir;
    } else {
        temp = std::make_unique<prod::TempDir>("keel-bench-log-");
        s.dir = temp->path();
    }
    auto disk = prod::PosixDisk::open_root(s.dir);
    if (!disk.ok()) {
        std::fprintf(stderr, "keel bench log: %s\n", disk.error().to_string().c_str());
        return 1;
    }
    std::printf("log bench: %s, %.0f MB per run, flush %s, median of %d\n", s.dir.c_str(),
                static_cast<double>(s.bytes_per_run) / 1e6, flush.c_str(), kRounds);
    std::vector<Run> runs;
    for (size_t record_bytes : {size_t{100}, size_t{1024}}) {
        auto r = measure(**disk, s, record_bytes);
        if (!r.ok()) {
            std::fprintf(stderr, "keel bench log: %s\n", r.error().to_string().c_str());
            return 1;
        }
        std::printf("  %4zu-byte records: append %8.1f MB/s   raw write %8.1f MB/s   ratio %.2f   read %8.1f MB/s\n",
                    r->record_bytes, r->append_mb_s, r->raw_mb_s, r->ratio(), r->read_mb_s);
        runs.push_back(*r);
    }
    if (s.keep) std::printf("kept: %s/bench-r100-0 and %s/bench-r1024-0 (try: keel dump-log DIR)\n", s.dir.c_str(), s.dir.c_str());
    if (const auto& path = options.json_path) {
        if (!write_text_file(*path, to_json(runs, s))) return 1;
    }
    return 0;
}

}  // namespace keel::bench
