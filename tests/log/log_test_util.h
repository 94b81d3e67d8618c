// Shared fixtures for the partition-log tests: a SimDisk mounted outside fibers (no
// latency), a hand-driven clock, and batch builders.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/compression/batch.h"
#include "core/env/clock.h"
#include "core/log/partition_log.h"
#include "core/log/record_batch.h"
#include "runtime/scheduler.h"
#include "sim/sim_disk.h"

namespace keel::log::testing {

class ManualClock final : public env::Clock {
public:
    Instant monotonic_now() const override { return mono_; }
    WallTime wall_now() const override { return wall_; }
    void advance(Duration d) {
        mono_ = mono_ + d;
        wall_ = wall_ + d;
    }
    void set_wall_ms(int64_t ms_since_epoch) { wall_ = WallTime{ms_since_epoch * 1'000'000}; }

private:
    Instant mono_{1'000'000'000};
    WallTime wall_{1'700'000'000'000LL * 1'000'000};  // 2023-11-14
};

// One record per entry: key "k<i>" and value "v<i>" unless given.
struct Rec {
    std::optional<std::string> key;
    std::optional<std::string> value;
    int64_t timestamp = 1'700'000'000'000LL;
};

inline Bytes make_batch(const std::vector<Rec>& records,
                        Compression codec = Compression::none,
                        RecordBatchBuilder::Fields fields = {}) {
    RecordBatchBuilder b(fields);
    for (const Rec& r : records) {
        std::optional<ByteView> k, v;
        if (r.key) k = as_bytes(*r.key);
        if (r.value) v = as_bytes(*r.value);
        b.add(r.timestamp, k, v);
    }
    auto built = compression::build_batch(b, codec);
    KEEL_ASSERT(built.ok());
    return std::move(built).value();
}

// n records "k<first+i>" = "v<first+i>" with timestamps ts, ts+1, ...
inline Bytes numbered_batch(int first, int n, int64_t ts = 1'700'000'000'000LL,
                            Compression codec = Compression::none) {
    std::vector<Rec> recs;
    for (int i = first; i < first + n; i++) {
        recs.push_back({"k" + std::to_string(i), "v" + std::to_string(i), ts + (i - first)});
    }
    return make_batch(recs, codec);
}

inline std::string str(ByteView b) { return std::string(as_chars(b)); }

// Every record of a read result's batches (decoding compressed ones), as (offset, key, value).
struct Seen {
    int64_t offset;
    std::optional<std::string> key;
    std::optional<std::string> value;
    int64_t timestamp;
    bool operator==(const Seen&) const = default;
};

inline std::vector<Seen> records_of(ByteView batches) {
    std::vector<Seen> out;
    size_t pos = 0;
    while (pos < batches.size()) {
        auto d = compression::decode_batch(batches.subspan(pos));
        KEEL_ASSERT_MSG(d.ok(), d.ok() ? "" : d.error().message.c_str());
        for (const Record& r : d->records) {
            Seen s{r.offset.value(), std::nullopt, std::nullopt, r.timestamp};
            if (r.key) s.key = str(*r.key);
            if (r.value) s.value = str(*r.value);
            out.push_back(s);
        }
        pos += d->header.size_bytes();
    }
    return out;
}

struct LogWorld {
    fiber::Scheduler sched{fiber::SchedulerOptions{.virtual_time = true, .seed = 3}};
    fiber::GroupId group = sched.create_group("n1");
    fiber::GroupExecutor ex{sched, group};
    env::SeededRandom rng{7};
    sim::SimDisk disk{"n1"};
    std::unique_ptr<env::Disk> mount = disk.mount(ex, rng);
    ManualClock clock;
    LogConfig config;
    std::string dir = "data/orders-0";

    PartitionLogOptions options() {
        PartitionLogOptions o;
        o.disk = mount.get();
        o.clock = &clock;
        o.codec = &compression::batch_codec();
        o.dir = dir;
        o.topic = "orders";
        o.partition = 0;
        o.config = config;
        return o;
    }
    std::unique_ptr<PartitionLog> open() {
        auto log = PartitionLog::open(options());
        KEEL_ASSERT_MSG(log.ok(), log.ok() ? "" : log.error().to_string().c_str());
        return std::move(log).value();
    }
    // Power loss: the log object must be dropped first; then the disk comes back.
    void crash() {
        disk.crash(rng);
        mount = disk.mount(ex, rng);
    }
    // Every record from `from` to the log end, batch by batch.
    static std::vector<Seen> read_all(PartitionLog& log, Offset from = Offset(-1)) {
        std::vector<Seen> out;
        Offset at = from.value() < 0 ? log.log_start_offset() : from;
        while (at < log.log_end_offset()) {
            auto r = log.read(at, 1 << 20);
            KEEL_ASSERT_MSG(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
            if (r->batch_count == 0) break;
            for (Seen& s : records_of(r->records)) {
                if (s.offset >= at.value()) out.push_back(s);
            }
            at = r->next_offset;
        }
        return out;
    }
    std::vector<std::string> files() {
        auto names = mount->list(dir);
        return names.ok() ? *names : std::vector<std::string>{};
    }
};

}  // namespace keel::log::testing
