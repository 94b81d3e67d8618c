#include <gtest/gtest.h>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace keel {
namespace {

TEST(ByteCodec, BigEndianAndVarintsRoundTrip) {
    ByteWriter w;
    w.i32(-2);
    w.i64(0x0102030405060708LL);
    w.varint(-1);
    w.varint(300);
    w.uvarint(1ULL << 40);
    w.string("keel");
    Bytes b = w.take();
    EXPECT_EQ(b[0], 0xff);
    EXPECT_EQ(b[4], 0x01);
    ByteReader r(b);
    EXPECT_EQ(r.i32(), -2);
    EXPECT_EQ(r.i64(), 0x0102030405060708LL);
    EXPECT_EQ(r.varint(), -1);
    EXPECT_EQ(r.varint(), 300);
    EXPECT_EQ(r.uvarint(), 1ULL << 40);
    EXPECT_EQ(r.string(), "keel");
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.at_end());
}

TEST(ByteCodec, ZigzagMatchesKafkaEncoding) {
    ByteWriter w;
    w.varint(-1);  // zigzag(-1) = 1
    w.varint(1);   // zigzag(1) = 2
    Bytes b = w.take();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0], 1);
    EXPECT_EQ(b[1], 2);
}

TEST(ByteCodec, ReadingPastTheEndFailsInsteadOfCrashing) {
    Bytes b = {0x00, 0x05, 'a'};
    ByteReader r(b);
    EXPECT_EQ(r.string(), "");
    EXPECT_FALSE(r.ok());
    Bytes endless(12, 0xff);
    ByteReader v(endless);
    v.uvarint();
    EXPECT_FALSE(v.ok());
}

TEST(ResultType, CarriesValueOrNamedError) {
    Result<int> good(3);
    Result<int> bad(Errc::disk_full, "segment 0");
    EXPECT_TRUE(good.ok());
    EXPECT_EQ(*good, 3);
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().to_string(), "disk_full: segment 0");
}

}  // namespace
}  // namespace keel
