// The pure parts of log compaction (cleanup.policy=compact): the key -> latest-offset
// map built over the dirty part of the log, and the per-batch filter that the cleaner
// applies to every segment below the map's end. PartitionLog::clean_step drives them
// over segments; LogDriver runs that on a fiber.
//
// Guarantees kept (Kafka's): offsets never change, order never changes, the latest
// record of every key stays, a tombstone (key with null value) stays until its batch's
// delete horizon (KIP-534: set to now + delete.retention.ms the first time the cleaner
// sees the tombstone) has passed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"
#include "core/log/record_batch.h"

namespace keel::log {

// Key -> offset of its latest record in the scanned range. Ordered map: its iteration
// order never depends on hashing.
class OffsetMap {
public:
    void put(ByteView key, Offset offset) { map_[std::string(as_chars(key))] = offset; }
    std::optional<Offset> get(ByteView key) const {
        auto it = map_.find(as_chars(key));
        if (it == map_.end()) return std::nullopt;
        return it->second;
    }
    size_t size() const { return map_.size(); }
    void clear() { map_.clear(); }

private:
    std::map<std::string, Offset, std::less<>> map_;
};

// Adds every keyed record of one batch to the map. A compressed batch without a codec,
// and control batches, add nothing (their records are then never dropped as superseded
// keys' older copies can still be dropped). Errc::corrupt_record/invalid_record if bad.
Status add_batch_to_map(OffsetMap& map, ByteView batch, const BatchCodec* codec);

struct CleanedBatch {
    enum class Action : uint8_t { keep, drop, rewrite };
    Action action = Action::keep;
    Bytes rewritten;                        // for rewrite
    size_t records_removed = 0;
    std::optional<int64_t> delete_horizon_ms;  // of tombstones still kept, if any
};

// Decides what becomes of one batch below the map's end at wall time now_ms.
CleanedBatch clean_batch_records(const DecodedBatch& batch, const OffsetMap& map, int64_t now_ms,
                                 int64_t delete_retention_ms, const BatchCodec* codec);
Result<CleanedBatch> clean_batch(ByteView batch, const OffsetMap& map, int64_t now_ms,
                                 int64_t delete_retention_ms, const BatchCodec* codec);

}  // namespace keel::log
