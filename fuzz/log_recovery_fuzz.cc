// Log recovery under a hostile disk: arbitrary segment, index, time-index and checkpoint
// files (an archive, see mem_disk.h) in one partition directory, then PartitionLog::open.
// Recovery must refuse (an error) or repair without a crash, and then:
// - never serve a batch that fails its CRC (every batch read() returns is re-checked);
// - serve increasing offsets from the log start to the log end;
// - accept an append at the log end, and reopen to the same log (recovery of its own
//   output succeeds and agrees).
// Flags byte: bit 0 compacted topic, bit 1 index every batch, bits 2-3 segment size.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/log/partition_log.h"
#include "core/log/record_batch.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/mem_disk.h"
#include "fuzz/recovery_options.h"

namespace keel::fuzz {
namespace {

// Reads the whole log; every batch served must pass its checks. Returns what was served
// (base offset and CRC of each batch, up to the first refusal).
std::vector<std::pair<int64_t, uint32_t>> read_all(log::PartitionLog& log) {
    std::vector<std::pair<int64_t, uint32_t>> served;
    Offset from = log.log_start_offset();
    for (int round = 0; round < 100000 && from < log.log_end_offset(); round++) {
        auto r = log.read(from, 64 << 10);
        if (!r.ok()) {
            FUZZ_CHECK(r.code() == Errc::corrupt, r.error().to_string());
            return served;  // refused, as it must be, at the damaged batch
        }
        if (r->batch_count == 0) return served;
        ByteView bytes(r->records);
        Offset last = Offset(-1);
        for (size_t pos = 0, n = 0; n < r->batch_count; n++) {
            auto h = log::read_batch(bytes.subspan(pos));
            FUZZ_CHECK(h.ok(), "read() served a batch that fails its check: " + h.error().to_string());
            FUZZ_CHECK(h->last_offset() >= from && h->base_offset > last, "offsets out of order");
            last = h->last_offset();
            served.emplace_back(h->base_offset.value(), h->crc);
            pos += h->size_bytes();
            FUZZ_CHECK(pos <= bytes.size(), "batch count exceeds the bytes");
        }
        FUZZ_CHECK(r->next_offset > from, "read() made no progress");
        from = r->next_offset;
    }
    return served;
}

std::string describe(const std::vector<std::pair<int64_t, uint32_t>>& served) {
    std::string out = "[";
    for (const auto& [offset, crc] : served) out += std::to_string(offset) + ":" + std::to_string(crc % 1000) + " ";
    return out + "]";
}

void exercise(log::PartitionLog& log, uint8_t flags) {
    (void)log.offset_for_timestamp(0);
    if (flags & 1) {
        for (int i = 0; i < 4; i++) (void)log.clean_step();
    }
    auto latest = log.leader_epochs().latest();
    LeaderEpoch epoch = latest ? latest->epoch : LeaderEpoch(0);
    static const uint8_t kValue[] = {'v'};
    static const uint8_t kKey[] = {'k'};
    log::RecordBatchBuilder b;
    b.add(1'700'000'000'000, ByteView(kKey), ByteView(kValue));
    Offset end = log.log_end_offset();
    auto appended = log.append(b.build(), epoch);
    if (appended.ok()) {
        FUZZ_CHECK(appended->base_offset == end, "append not at the log end");
        auto r = log.read(end, 1 << 20);
        FUZZ_CHECK(r.ok() && r->batch_count == 1, "the appended batch does not read back");
    }
}

void run(ByteView in) {
    if (in.empty()) return;
    uint8_t flags = in[0];
    MemDisk disk;
    (void)disk.make_dirs(kLogDir);
    for (const ArchiveEntry& f : parse_archive(in.subspan(1))) {
        disk.put(env::join_path(kLogDir, f.name), Bytes(f.contents.begin(), f.contents.end()));
    }
    FixedClock clock;
    auto opened = log::PartitionLog::open(log_options(disk, clock, flags));
    if (!opened.ok()) return;  // refused: fine
    auto& log = **opened;
    FUZZ_CHECK(log.log_start_offset() <= log.log_end_offset(), "start above end");
    read_all(log);
    exercise(log, flags);
    if (log.offline()) return;
    Offset start = log.log_start_offset(), end = log.log_end_offset();
    auto served = read_all(log);
    Status closed = log.close();
    FUZZ_CHECK(closed.ok(), closed.error().to_string());
    opened->reset();
    // Recovery of its own output succeeds and serves the same batches. (The log start may
    // move up across a gap: a trusted segment is assumed to end where the next begins.)
    auto again = log::PartitionLog::open(log_options(disk, clock, flags));
    FUZZ_CHECK(again.ok(), "recovery refuses its own output: " + again.error().to_string());
    FUZZ_CHECK((*again)->log_end_offset() == end && (*again)->log_start_offset() >= start,
               "reopen changed the log: [" + std::to_string((*again)->log_start_offset().value()) + ", " +
                   std::to_string((*again)->log_end_offset().value()) + ") after [" +
                   std::to_string(start.value()) + ", " + std::to_string(end.value()) + ")");
    auto served_again = read_all(**again);
    FUZZ_CHECK(served_again == served,
               "reopen serves different batches: " + describe(served_again) + " after " + describe(served));
}

}  // namespace
}  // namespace keel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    keel::fuzz::run(keel::fuzz::input(data, size));
    return 0;
}
