#include "core/log/time_index.h"

#include <algorithm>
#include <limits>
#include <string>

namespace keel::log {

Result<TimeIndex> TimeIndex::decode(Offset base_offset, ByteView bytes, Offset end_offset) {
    if (bytes.size() % kEntryBytes != 0) {
        return Error{Errc::corrupt, "time index size " + std::to_string(bytes.size()) +
                                        " is not a multiple of 12"};
    }
    TimeIndex index(base_offset);
    index.entries_.reserve(bytes.size() / kEntryBytes);
    ByteReader r(bytes);
    while (!r.at_end()) {
        int64_t ts = r.i64();
        int32_t relative = r.i32();
        Offset offset = base_offset + relative;
        bool ordered = index.entries_.empty() || (ts > index.entries_.back().timestamp_ms &&
                                                  offset >= index.entries_.back().offset);
        if (relative < 0 || offset >= end_offset || !ordered) {
            return Error{Errc::corrupt, "time index entry " + std::to_string(index.size()) +
                                            " is out of order or range"};
        }
        index.entries_.push_back({ts, offset});
    }
    return index;
}

bool TimeIndex::maybe_append(int64_t timestamp_ms, Offset offset) {
    KEEL_ASSERT(offset >= base_offset_);
    KEEL_ASSERT(offset - base_offset_ <= std::numeric_limits<int32_t>::max());
    if (!entries_.empty()) {
        KEEL_ASSERT(offset >= entries_.back().offset);
        if (timestamp_ms <= entries_.back().timestamp_ms) return false;
    }
    entries_.push_back({timestamp_ms, offset});
    return true;
}

std::optional<TimeIndexEntry> TimeIndex::lookup_before(int64_t target_ms) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), target_ms,
                               [](const TimeIndexEntry& e, int64_t t) { return e.timestamp_ms < t; });
    if (it == entries_.begin()) return std::nullopt;
    return *(it - 1);
}

void TimeIndex::truncate_to_offset(Offset offset) {
    while (!entries_.empty() && entries_.back().offset >= offset) entries_.pop_back();
}

Bytes TimeIndex::encode(size_t from) const {
    ByteWriter w;
    for (size_t i = from; i < entries_.size(); i++) {
        w.i64(entries_[i].timestamp_ms);
        w.i32(static_cast<int32_t>(entries_[i].offset - base_offset_));
    }
    return w.take();
}

}  // namespace keel::log
