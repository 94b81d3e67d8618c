#include "core/raft/entry_codec.h"

#include <algorithm>

#include "core/log/record_batch.h"

namespace keel::raft {

namespace {

// Kafka's control record key: version int16 = 0, type int16 = 2 (LEADER_CHANGE).
constexpr uint8_t kLeaderChangeKey[4] = {0, 0, 0, 2};

}  // namespace

Bytes encode_entry_batch(const LogEntry& e, int64_t timestamp_ms) {
    log::RecordBatchBuilder::Fields f;
    f.base_offset = e.offset;
    f.partition_leader_epoch = LeaderEpoch(e.epoch.value());
    f.control = e.kind == EntryKind::leader_change;
    log::RecordBatchBuilder b(f);
    std::optional<ByteView> key;
    if (f.control) key = ByteView(kLeaderChangeKey, sizeof kLeaderChangeKey);
    b.add(timestamp_ms, key, ByteView(e.payload));
    return b.build();
}

Result<LogEntry> decode_entry_batch(ByteView batch) {
    auto decoded = log::decode_batch(batch, nullptr);
    if (!decoded.ok()) return Error{Errc::invalid_record, "metadata log batch: " + decoded.error().message};
    const log::BatchHeader& h = decoded->header;
    if (h.size_bytes() != batch.size()) {
        return Error{Errc::invalid_record, "metadata log batch at " + std::to_string(h.base_offset.value()) +
                                               " is followed by " + std::to_string(batch.size() - h.size_bytes()) +
                                               " stray bytes"};
    }
    if (decoded->records.size() != 1 || !decoded->records[0].value || h.last_offset_delta != 0) {
        return Error{Errc::invalid_record, "metadata log batch at " + std::to_string(h.base_offset.value()) +
                                               " does not hold exactly one entry"};
    }
    const log::Record& rec = decoded->records[0];
    LogEntry e;
    e.offset = h.base_offset;
    e.epoch = QuorumEpoch(h.partition_leader_epoch.value());
    if (h.is_control()) {
        bool leader_change = rec.key && rec.key->size() == sizeof kLeaderChangeKey &&
                             std::equal(rec.key->begin(), rec.key->end(), kLeaderChangeKey);
        if (!leader_change) {
            return Error{Errc::invalid_record, "metadata log batch at " + std::to_string(h.base_offset.value()) +
                                                   " is a control batch of an unknown kind"};
        }
        e.kind = EntryKind::leader_change;
    }
    e.payload.assign(rec.value->begin(), rec.value->end());
    return e;
}

Bytes encode_entries(std::span<const LogEntry> entries) {
    Bytes out;
    for (const LogEntry& e : entries) {
        Bytes b = encode_entry_batch(e, 0);
        out.insert(out.end(), b.begin(), b.end());
    }
    return out;
}

Result<std::vector<LogEntry>> decode_entries(ByteView bytes) {
    std::vector<LogEntry> out;
    for (size_t pos = 0; pos < bytes.size();) {
        auto h = log::read_batch(bytes.subspan(pos));
        if (!h.ok()) {
            return Error{Errc::invalid_record, "raft entries: batch " + std::to_string(out.size()) + " at byte " +
                                                   std::to_string(pos) + ": " + h.error().message};
        }
        KEEL_TRY_ASSIGN(LogEntry e, decode_entry_batch(bytes.subspan(pos, h->size_bytes())));
        out.push_back(std::move(e));
        pos += h->size_bytes();
    }
    return out;
}

}  // namespace keel::raft
