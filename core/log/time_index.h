// TimeIndex: the sparse index of a segment's .timeindex file. An entry (T, O) says: the
// largest record timestamp among the segment's records at offsets <= O is T. Entries are
// added beside offset-index entries when T grows, plus one when the segment is sealed,
// so the last entry holds the segment's largest timestamp (time retention reads it).
// File format (Kafka's): 12-byte entries, big-endian {int64 timestamp ms, int32 relative
// offset}, strictly increasing timestamps; see docs/log-format.md.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::log {

struct TimeIndexEntry {
    int64_t timestamp_ms;
    Offset offset;  // absolute
    bool operator==(const TimeIndexEntry&) const = default;
};

class TimeIndex {
public:
    static constexpr size_t kEntryBytes = 12;

    explicit TimeIndex(Offset base_offset) : base_offset_(base_offset) {}

    // Decodes a .timeindex file. Errc::corrupt if its size is not a multiple of 12, an
    // offset lies below the base offset or at/after `end_offset` (exclusive upper bound),
    // or entries do not increase (timestamps strictly, offsets non-strictly).
    static Result<TimeIndex> decode(Offset base_offset, ByteView bytes, Offset end_offset);

    // Adds (timestamp, offset) if timestamp is above the last entry's; returns whether it
    // did. Requires offset >= the last entry's offset.
    bool maybe_append(int64_t timestamp_ms, Offset offset);

    // The last entry whose timestamp is strictly below target: every record at an offset
    // <= its offset is older than target, so a search may start after it.
    std::optional<TimeIndexEntry> lookup_before(int64_t target_ms) const;

    std::optional<TimeIndexEntry> last() const {
        if (entries_.empty()) return std::nullopt;
        return entries_.back();
    }
    // Drops entries whose offset is >= offset.
    void truncate_to_offset(Offset offset);

    Bytes encode(size_t from = 0) const;

    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    const std::vector<TimeIndexEntry>& entries() const { return entries_; }

private:
    Offset base_offset_;
    std::vector<TimeIndexEntry> entries_;
};

}  // namespace keel::log
