// Shared fixtures for the broker building-block tests: producer batches built byte for byte
// as Kafka's producer writes them, in-place header edits that keep (or break) the CRC, and a
// SimDisk mounted outside fibers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/env/random.h"
#include "core/log/record_batch.h"
#include "runtime/scheduler.h"
#include "sim/sim_disk.h"

namespace keel::broker::testing {

inline constexpr int64_t kT0 = 1'700'000'000'000LL;  // 2023-11-14, ms

struct BatchSpec {
    int records = 3;
    int64_t producer_id = log::batch_format::kNoProducerId;
    int16_t producer_epoch = log::batch_format::kNoProducerEpoch;
    int32_t base_sequence = log::batch_format::kNoSequence;
    int64_t first_timestamp = kT0;
    bool transactional = false;
    bool control = false;
    log::TimestampType timestamp_type = log::TimestampType::create_time;
};

// An uncompressed producer batch: records "k<i>" = "v<i>", timestamps first, first+1, ...
inline Bytes producer_batch(const BatchSpec& s) {
    log::RecordBatchBuilder::Fields f;
    f.producer_id = s.producer_id;
    f.producer_epoch = s.producer_epoch;
    f.base_sequence = s.base_sequence;
    f.transactional = s.transactional;
    f.control = s.control;
    f.timestamp_type = s.timestamp_type;
    log::RecordBatchBuilder b(f);
    for (int i = 0; i < s.records; i++) {
        std::string k = "k" + std::to_string(i), v = "v" + std::to_string(i);
        b.add(s.first_timestamp + i, as_bytes(k), as_bytes(v));
    }
    return b.build();
}

inline void put_be(Bytes& b, size_t pos, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        b[pos + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

// Recomputes the CRC of the batch at `pos` so that a deliberate header edit is all that is wrong.
inline void fix_crc(Bytes& b, size_t pos = 0) {
    auto h = log::parse_batch_header(ByteView(b).subspan(pos));
    KEEL_ASSERT(h.ok());
    uint32_t crc = log::compute_batch_crc(ByteView(b).subspan(pos, h->size_bytes()));
    put_be(b, pos + log::batch_format::kCrcPos, crc, 4);
}

inline Bytes concat(const Bytes& a, const Bytes& b) {
    Bytes out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

// A header as the log stores it: what the producer state reads.
inline log::BatchHeader header(int64_t producer_id, int16_t epoch, int32_t base_sequence,
                               int32_t records, int64_t base_offset = 0,
                               int64_t max_timestamp = kT0) {
    log::BatchHeader h;
    h.base_offset = Offset(base_offset);
    h.producer_id = producer_id;
    h.producer_epoch = epoch;
    h.base_sequence = base_sequence;
    h.records_count = records;
    h.last_offset_delta = records - 1;
    h.base_timestamp = max_timestamp;
    h.max_timestamp = max_timestamp;
    return h;
}

struct DiskWorld {
    fiber::Scheduler sched{fiber::SchedulerOptions{.virtual_time = true, .seed = 3}};
    fiber::GroupId group = sched.create_group("n1");
    fiber::GroupExecutor ex{sched, group};
    env::SeededRandom rng{7};
    sim::SimDisk disk{"n1"};
    std::unique_ptr<env::Disk> mount = disk.mount(ex, rng);
    std::string dir = "data/orders-0";

    DiskWorld() {
        KEEL_ASSERT(mount->make_dirs(dir).ok());
        KEEL_ASSERT(mount->sync_dir("data").ok());
        KEEL_ASSERT(mount->sync_dir("").ok());
    }
    void crash() {
        disk.crash(rng);
        mount = disk.mount(ex, rng);
    }
};

}  // namespace keel::broker::testing
