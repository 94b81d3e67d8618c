// The sparse .index and .timeindex files: Kafka's byte format, lookups, and damage checks.
#include <gtest/gtest.h>

#include "core/log/offset_index.h"
#include "core/log/time_index.h"

namespace keel::log {
namespace {

TEST(OffsetIndex, FindsTheLastEntryAtOrBeforeAnOffset) {
    OffsetIndex idx(Offset(100));
    idx.append(Offset(110), 4096);
    idx.append(Offset(130), 8200);
    idx.append(Offset(150), 12300);
    EXPECT_FALSE(idx.lookup(Offset(105)).has_value());
    EXPECT_EQ(idx.lookup(Offset(110))->position, 4096u);
    EXPECT_EQ(idx.lookup(Offset(129))->position, 4096u);
    EXPECT_EQ(idx.lookup(Offset(130))->position, 8200u);
    EXPECT_EQ(idx.lookup(Offset(999))->offset, Offset(150));
}

TEST(OffsetIndex, EncodesKafkasEightByteBigEndianEntries) {
    OffsetIndex idx(Offset(1000));
    idx.append(Offset(1003), 0x01020304);
    Bytes b = idx.encode();
    EXPECT_EQ(b, (Bytes{0, 0, 0, 3, 1, 2, 3, 4}));
    auto back = OffsetIndex::decode(Offset(1000), b, 0x02000000);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->entries(), idx.entries());
}

TEST(OffsetIndex, RejectsDamagedFiles) {
    OffsetIndex idx(Offset(0));
    idx.append(Offset(5), 100);
    idx.append(Offset(9), 200);
    Bytes b = idx.encode();
    EXPECT_EQ(OffsetIndex::decode(Offset(0), ByteView(b).first(7), 1000).code(), Errc::corrupt);
    EXPECT_EQ(OffsetIndex::decode(Offset(0), b, 150).code(), Errc::corrupt);  // past the log
    Bytes swapped(b.begin() + 8, b.end());
    swapped.insert(swapped.end(), b.begin(), b.begin() + 8);
    EXPECT_EQ(OffsetIndex::decode(Offset(0), swapped, 1000).code(), Errc::corrupt);
}

TEST(OffsetIndex, TruncationDropsEntriesAtOrPastThePosition) {
    OffsetIndex idx(Offset(0));
    idx.append(Offset(5), 100);
    idx.append(Offset(9), 200);
    idx.truncate_to_position(200);
    ASSERT_EQ(idx.size(), 1u);
    EXPECT_EQ(idx.entries()[0].offset, Offset(5));
}

TEST(TimeIndex, LookupFindsTheLastEntryStrictlyOlderThanTheTarget) {
    TimeIndex idx(Offset(0));
    EXPECT_TRUE(idx.maybe_append(1000, Offset(9)));
    EXPECT_FALSE(idx.maybe_append(1000, Offset(19)));  // not newer: skipped
    EXPECT_TRUE(idx.maybe_append(2000, Offset(29)));
    EXPECT_FALSE(idx.lookup_before(1000).has_value());
    EXPECT_EQ(idx.lookup_before(1001)->offset, Offset(9));
    EXPECT_EQ(idx.lookup_before(2000)->offset, Offset(9));
    EXPECT_EQ(idx.lookup_before(5000)->offset, Offset(29));
    EXPECT_EQ(idx.last()->timestamp_ms, 2000);
}

TEST(TimeIndex, EncodesKafkasTwelveByteBigEndianEntries) {
    TimeIndex idx(Offset(50));
    idx.maybe_append(0x0102030405060708, Offset(52));
    EXPECT_EQ(idx.encode(), (Bytes{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2}));
    auto back = TimeIndex::decode(Offset(50), idx.encode(), Offset(60));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->entries(), idx.entries());
    EXPECT_EQ(TimeIndex::decode(Offset(50), idx.encode(), Offset(52)).code(), Errc::corrupt);
    EXPECT_EQ(TimeIndex::decode(Offset(50), ByteView(idx.encode()).first(11), Offset(60)).code(),
              Errc::corrupt);
}

}  // namespace
}  // namespace keel::log
