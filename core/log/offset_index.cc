#include "core/log/offset_index.h"

#include <algorithm>
#include <limits>
#include <string>

namespace keel::log {

Result<OffsetIndex> OffsetIndex::decode(Offset base_offset, ByteView bytes, uint64_t log_size) {
    if (bytes.size() % kEntryBytes != 0) {
        return Error{Errc::corrupt, "offset index size " + std::to_string(bytes.size()) +
                                        " is not a multiple of 8"};
    }
    OffsetIndex index(base_offset);
    index.entries_.reserve(bytes.size() / kEntryBytes);
    ByteReader r(bytes);
    while (!r.at_end()) {
        int32_t relative = r.i32();
        uint32_t position = r.u32();
        Offset offset = base_offset + relative;
        bool ordered = index.entries_.empty() || (offset > index.entries_.back().offset &&
                                                  position > index.entries_.back().position);
        if (relative < 0 || position >= log_size || !ordered) {
            return Error{Errc::corrupt, "offset index entry " + std::to_string(index.size()) +
                                            " (" + std::to_string(relative) + ", " +
                                            std::to_string(position) + ") is out of order or range"};
        }
        index.entries_.push_back({offset, position});
    }
    return index;
}

void OffsetIndex::append(Offset offset, uint32_t position) {
    KEEL_ASSERT(offset >= base_offset_);
    KEEL_ASSERT(offset - base_offset_ <= std::numeric_limits<int32_t>::max());
    KEEL_ASSERT(entries_.empty() ||
                (offset > entries_.back().offset && position > entries_.back().position));
    entries_.push_back({offset, position});
}

std::optional<OffsetIndexEntry> OffsetIndex::lookup(Offset target) const {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                               [](Offset t, const OffsetIndexEntry& e) { return t < e.offset; });
    if (it == entries_.begin()) return std::nullopt;
    return *(it - 1);
}

void OffsetIndex::truncate_to_position(uint64_t position) {
    while (!entries_.empty() && entries_.back().position >= position) entries_.pop_back();
}

Bytes OffsetIndex::encode(size_t from) const {
    ByteWriter w;
    for (size_t i = from; i < entries_.size(); i++) {
        w.i32(static_cast<int32_t>(entries_[i].offset - base_offset_));
        w.u32(entries_[i].position);
    }
    return w.take();
}

}  // namespace keel::log
