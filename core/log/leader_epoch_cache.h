// LeaderEpochCache: epoch -> start offset (KIP-101). Each entry says "leader epoch E
// wrote its first record at offset S"; entries increase in both epoch and start offset.
// Replication asks it for the end offset of an epoch (OffsetsForLeaderEpoch, or the
// diverging epoch of a Fetch) to decide where a follower must truncate.
//
// Persisted as Kafka's `leader-epoch-checkpoint` text file (version 0):
//     0\n<count>\n<epoch> <start offset>\n...
// written atomically by the owning PartitionLog whenever the cache changes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::log {

struct EpochEntry {
    LeaderEpoch epoch;
    Offset start_offset;
    bool operator==(const EpochEntry&) const = default;
};

// Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET.
inline constexpr LeaderEpoch kUndefinedEpoch{-1};
inline constexpr Offset kUndefinedEpochOffset{-1};

class LeaderEpochCache {
public:
    // Records that `epoch` starts at `start_offset`. No-op if epoch is the latest and
    // start_offset is not below its start. Otherwise entries that conflict with the
    // new one (epoch >= it, or start offset >= it) are dropped first, as Kafka does.
    // Returns whether the cache changed. Requires epoch >= 0 and start_offset >= 0.
    bool assign(LeaderEpoch epoch, Offset start_offset);

    std::optional<EpochEntry> latest() const {
        if (entries_.empty()) return std::nullopt;
        return entries_.back();
    }

    // Kafka's endOffsetFor: the requested epoch's end offset is the start offset of the
    // next higher epoch (log_end_offset for the latest epoch). If the requested epoch is
    // unknown but lies between two known ones, answers for the largest epoch below it.
    // (kUndefinedEpoch, kUndefinedEpochOffset) if it is above every known epoch or the
    // cache is empty.
    EpochEntry end_offset_for(LeaderEpoch requested, Offset log_end_offset) const;

    // The epoch that wrote `offset` (the last entry starting at or below it).
    std::optional<LeaderEpoch> epoch_for_offset(Offset offset) const;

    // Drops entries starting at or after end_offset (the log was truncated to it).
    bool truncate_from_end(Offset end_offset);
    // Drops entries wholly below start_offset; the last of them moves up to start there.
    bool truncate_from_start(Offset start_offset);
    void clear() { entries_.clear(); }

    const std::vector<EpochEntry>& entries() const { return entries_; }

    std::string encode() const;
    // Errc::corrupt unless version 0, the count matches, and entries increase.
    static Result<LeaderEpochCache> decode(std::string_view text);

private:
    std::vector<EpochEntry> entries_;
};

}  // namespace keel::log
