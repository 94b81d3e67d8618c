// OffsetIndex: the sparse index of a segment's .index file. Each entry maps the last
// offset of a batch to the byte position where that batch starts in the .log file, one
// entry every index.interval.bytes. File format (Kafka's): 8-byte entries, big-endian
// {int32 relative offset (offset - segment base offset), int32 position}, in increasing
// order of both; see docs/log-format.md.
//
// The index is a hint, never the truth: a reader positions with lookup() and then scans
// whole batches, so a missing entry only costs a longer scan. Recovery rebuilds it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"
#include "core/base/types.h"

namespace keel::log {

struct OffsetIndexEntry {
    Offset offset;      // absolute
    uint32_t position;  // in the .log file
    bool operator==(const OffsetIndexEntry&) const = default;
};

class OffsetIndex {
public:
    static constexpr size_t kEntryBytes = 8;

    explicit OffsetIndex(Offset base_offset) : base_offset_(base_offset) {}

    // Decodes a .index file. Errc::corrupt if its size is not a multiple of 8, an entry
    // lies below the base offset, entries do not strictly increase, or a position is not
    // below `log_size` (the .log file's size).
    static Result<OffsetIndex> decode(Offset base_offset, ByteView bytes, uint64_t log_size);

    // Adds an entry. Requires offset and position above the last entry's, offset within
    // int32 of the base offset.
    void append(Offset offset, uint32_t position);
    // Whether append(offset, position) keeps the index sorted and in range (a cleaner copying
    // a damaged segment may meet batches out of order: their entry is skipped, not asserted).
    bool accepts(Offset offset, uint32_t position) const {
        return offset >= base_offset_ && offset - base_offset_ <= std::numeric_limits<int32_t>::max() &&
               (entries_.empty() || (offset > entries_.back().offset && position > entries_.back().position));
    }

    // The last entry whose offset is <= target; nullopt if none (scan from position 0).
    std::optional<OffsetIndexEntry> lookup(Offset target) const;

    // Drops entries whose position is >= position (the .log file is cut there).
    void truncate_to_position(uint64_t position);

    // File bytes of entries [from, size()).
    Bytes encode(size_t from = 0) const;

    Offset base_offset() const { return base_offset_; }
    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    const std::vector<OffsetIndexEntry>& entries() const { return entries_; }

private:
    Offset base_offset_;
    std::vector<OffsetIndexEntry> entries_;
};

}  // namespace keel::log
