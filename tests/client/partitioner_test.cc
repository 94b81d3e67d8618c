// The producer's partitioners: murmur2 against the values Kafka's own tests publish
// (UtilsTest.testMurmur2), the keyed partition formula, and KIP-480 sticky partitioning.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/client/partitioner.h"

namespace keel::client {
namespace {

TEST(Murmur2, MatchesKafkasPublishedHashes) {
    // Values from Kafka's UtilsTest (org.apache.kafka.common.utils.Utils.murmur2).
    const std::map<std::string, int32_t> cases = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (const auto& [input, expected] : cases) EXPECT_EQ(murmur2(as_bytes(input)), expected) << input;
}

TEST(Murmur2, CoversEveryTailLength) {
    // One published value per remainder of the length modulo 4 (24..27 bytes).
    EXPECT_EQ(murmur2(as_bytes("string-f-24-chars-length")), 124730809);
    EXPECT_EQ(murmur2(as_bytes("string-fo-25-chars-length")), 1269511650);
    EXPECT_EQ(murmur2(as_bytes("string-foo-26-chars-length")), 119165628);
    EXPECT_EQ(murmur2(as_bytes("string-last-27-chars-length")), 1089971754);
}

TEST(PartitionForKey, IsThePositiveHashModuloThePartitionCount) {
    // -973932308 & 0x7fffffff = 1173551340; 1173551340 % 7 = 5; % 3 = 0.
    EXPECT_EQ(to_positive(-973932308), 1173551340);
    EXPECT_EQ(partition_for_key(as_bytes("21"), 7), PartitionIndex(1173551340 % 7));
    EXPECT_EQ(partition_for_key(as_bytes("21"), 3), PartitionIndex(1173551340 % 3));
    EXPECT_EQ(partition_for_key(as_bytes("abc"), 10), PartitionIndex(479470107 % 10));
    // INT_MIN-like hashes stay non-negative (toPositive, not abs).
    EXPECT_EQ(to_positive(INT32_MIN), 0);
    for (int i = 0; i < 200; i++) {
        std::string k = "key-" + std::to_string(i);
        PartitionIndex p = partition_for_key(as_bytes(k), 6);
        EXPECT_GE(p.value(), 0);
        EXPECT_LT(p.value(), 6);
    }
}

TEST(StickyPartitioner, KeepsOnePartitionUntilTheBatchIsSentThenMovesElsewhere) {
    env::SeededRandom random(7);
    StickyPartitioner sticky(random);
    PartitionIndex first = sticky.partition("t", 5);
    for (int i = 0; i < 20; i++) EXPECT_EQ(sticky.partition("t", 5), first);
    std::set<int32_t> seen{first.value()};
    PartitionIndex current = first;
    for (int i = 0; i < 60; i++) {
        sticky.on_new_batch("t", current, 5);
        PartitionIndex next = sticky.partition("t", 5);
        EXPECT_NE(next, current) << "a new batch must move to another partition";
        current = next;
        seen.insert(current.value());
    }
    EXPECT_EQ(seen.size(), 5u) << "every partition gets batches over time";
    // A stale notification (for a partition no longer current) changes nothing.
    PartitionIndex before = sticky.partition("t", 5);
    sticky.on_new_batch("t", PartitionIndex((before.value() + 1) % 5), 5);
    EXPECT_EQ(sticky.partition("t", 5), before);
}

TEST(StickyPartitioner, SinglePartitionTopicStaysOnZero) {
    env::SeededRandom random(1);
    StickyPartitioner sticky(random);
    EXPECT_EQ(sticky.partition("one", 1), PartitionIndex(0));
    sticky.on_new_batch("one", PartitionIndex(0), 1);
    EXPECT_EQ(sticky.partition("one", 1), PartitionIndex(0));
}

}  // namespace
}  // namespace keel::client
