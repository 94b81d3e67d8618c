// Choosing a partition for a record, exactly as Kafka's Java producer does, so that Keel's
// producer and every Kafka client put the same key in the same partition:
//   keyed record:   toPositive(murmur2(key)) % numPartitions   (Utils.murmur2, seed 0x9747b28c)
//   null key:       the sticky partitioner (KIP-480): one partition until its batch is
//                   sent, then another one picked at random.
// Pure; the sticky partitioner draws from env::Random.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/base/bytes.h"
#include "core/base/types.h"
#include "core/env/random.h"

namespace keel::client {

// Kafka's Utils.murmur2: 32-bit MurmurHash2 with seed 0x9747b28c, little-endian 4-byte
// words, Java's signed int result.
int32_t murmur2(ByteView data);

// Kafka's Utils.toPositive: clears the sign bit (not abs: abs(INT_MIN) is negative).
constexpr int32_t to_positive(int32_t v) { return v & 0x7fffffff; }

// The default partition of a keyed record. Requires partition_count > 0.
PartitionIndex partition_for_key(ByteView key, int32_t partition_count);

// KIP-480 sticky partitioning for records without key: a topic keeps one partition until
// on_new_batch() reports that its batch was closed, then moves to a random other one.
class StickyPartitioner {
public:
    explicit StickyPartitioner(env::Random& random) : random_(random) {}

    // The partition for a null-key record of `topic`. Requires partition_count > 0.
    PartitionIndex partition(const std::string& topic, int32_t partition_count);
    // The batch of `topic` at `previous` filled up or was sent: pick another partition
    // (different from previous when there is more than one).
    void on_new_batch(const std::string& topic, PartitionIndex previous, int32_t partition_count);

private:
    env::Random& random_;
    std::map<std::string, PartitionIndex> current_;
};

}  // namespace keel::client
