// Kafka's default partitioning (see partitioner.h).
#include "core/client/partitioner.h"

#include "core/base/assert.h"

namespace keel::client {

int32_t murmur2(ByteView data) {
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    const uint32_t length = static_cast<uint32_t>(data.size());
    uint32_t h = 0x9747b28c ^ length;
    const size_t words = data.size() / 4;
    for (size_t i = 0; i < words; i++) {
        const size_t o = i * 4;
        uint32_t k = static_cast<uint32_t>(data[o]) | (static_cast<uint32_t>(data[o + 1]) << 8) |
                     (static_cast<uint32_t>(data[o + 2]) << 16) | (static_cast<uint32_t>(data[o + 3]) << 24);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const size_t tail = words * 4;
    switch (data.size() % 4) {
        case 3:
            h ^= static_cast<uint32_t>(data[tail + 2]) << 16;
            [[fallthrough]];
        case 2:
            h ^= static_cast<uint32_t>(data[tail + 1]) << 8;
            [[fallthrough]];
        case 1:
            h ^= static_cast<uint32_t>(data[tail]);
            h *= m;
            break;
        default:
            break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return static_cast<int32_t>(h);
}

PartitionIndex partition_for_key(ByteView key, int32_t partition_count) {
    KEEL_ASSERT(partition_count > 0);
    return PartitionIndex(to_positive(murmur2(key)) % partition_count);
}

PartitionIndex StickyPartitioner::partition(const std::string& topic, int32_t partition_count) {
    KEEL_ASSERT(partition_count > 0);
    auto it = current_.find(topic);
    if (it != current_.end() && it->second.value() < partition_count) return it->second;
    PartitionIndex p(static_cast<int32_t>(random_.uniform(0, static_cast<uint64_t>(partition_count - 1))));
    current_[topic] = p;
    return p;
}

void StickyPartitioner::on_new_batch(const std::string& topic, PartitionIndex previous,
                                     int32_t partition_count) {
    KEEL_ASSERT(partition_count > 0);
    auto it = current_.find(topic);
    if (it == current_.end() || it->second != previous) return;  // already moved on
    if (partition_count == 1) return;
    // A uniform pick among the other partitions.
    auto pick = static_cast<int32_t>(random_.uniform(0, static_cast<uint64_t>(partition_count - 2)));
    if (pick >= previous.value()) pick++;
    it->second = PartitionIndex(pick);
}

}  // namespace keel::client
