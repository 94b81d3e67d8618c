// __consumer_offsets records: Kafka's bytes, round trips, and no crash on garbage.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/group/offsets_records.h"

namespace keel::group {
namespace {

TEST(OffsetsRecords, JavaStringHashMatchesJava) {
    EXPECT_EQ(java_string_hash(""), 0);
    EXPECT_EQ(java_string_hash("a"), 97);
    EXPECT_EQ(java_string_hash("group"), 98629247);
    EXPECT_EQ(java_string_hash("my-group"), -1906497762);
    EXPECT_EQ(java_string_hash("\xc3\xa9"), 233);                // é: one UTF-16 unit
    EXPECT_EQ(java_string_hash("\xf0\x9f\x98\x80x"), 54959989);  // U+1F600: a surrogate pair
    EXPECT_EQ(partition_for_group("my-group", 50), 12);  // hash -1906497762: Math.abs, not & 0x7fffffff (36)
    EXPECT_EQ(partition_for_group("billing", 50), 9);
    EXPECT_EQ(partition_for_group("group", 50), 47);
    EXPECT_EQ(partition_for_group("", 50), 0);
}

TEST(OffsetsRecords, OffsetCommitKeyBytesAreKafkas) {
    Bytes k = encode_key(OffsetCommitKey{"g", "t", 1});
    EXPECT_EQ(k, (Bytes{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 1}));
    Bytes gk = encode_key(GroupMetadataKey{"g"});
    EXPECT_EQ(gk, (Bytes{0, 2, 0, 1, 'g'}));
}

TEST(OffsetsRecords, OffsetCommitValueV3BytesAreKafkas) {
    Bytes v = encode_value(OffsetCommitValue{5, 2, "m", 1000, -1});
    Bytes want{0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 1, 'm', 0, 0, 0, 0, 0, 0, 0x03, 0xE8};
    EXPECT_EQ(v, want);
    auto d = decode_offset_value(want);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->offset, 5);
    EXPECT_EQ(d->leader_epoch, 2);
    EXPECT_EQ(d->metadata, "m");
    EXPECT_EQ(d->commit_timestamp_ms, 1000);
}

TEST(OffsetsRecords, OffsetValueRoundTripsAtEveryVersion) {
    for (int16_t version = 0; version <= 4; version++) {
        OffsetCommitValue v{42, version >= 3 ? 7 : -1, "meta", 123456, version == 1 ? 999 : -1};
        auto d = decode_offset_value(encode_value(v, version));
        ASSERT_TRUE(d.ok()) << version << ": " << d.error().message;
        EXPECT_EQ(d.value(), v) << version;
    }
}

GroupMetadataValue sample_group() {
    GroupMetadataValue v;
    v.protocol_type = "consumer";
    v.generation = 3;
    v.protocol = "range";
    v.leader = "m1";
    v.current_state_timestamp_ms = 77;
    v.members.push_back({"m1", std::string("i1"), "c1", "/10.0.0.1", 30000, 10000, {1, 2}, {3}});
    v.members.push_back({"m2", std::nullopt, "c2", "/10.0.0.2", 30000, 10000, {}, {4, 5}});
    return v;
}

TEST(OffsetsRecords, GroupValueRoundTripsAtV3AndV4) {
    GroupMetadataValue v = sample_group();
    for (int16_t version : {int16_t{3}, int16_t{4}}) {
        auto d = decode_group_value(encode_value(v, version));
        ASSERT_TRUE(d.ok()) << d.error().message;
        EXPECT_EQ(d.value(), v);
    }
    auto k = decode_key(encode_key(GroupMetadataKey{"grp"}));
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(std::get<GroupMetadataKey>(k.value()).group, "grp");
    auto ok = decode_key(encode_key(OffsetCommitKey{"grp", "topic", 9}));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(std::get<OffsetCommitKey>(ok.value()), (OffsetCommitKey{"grp", "topic", 9}));
}

TEST(OffsetsRecords, BadInputIsCorruptRecord) {
    EXPECT_EQ(decode_key(Bytes{}).code(), Errc::corrupt_record);
    EXPECT_EQ(decode_key(Bytes{0, 9, 0, 0}).code(), Errc::corrupt_record);          // unknown version
    EXPECT_EQ(decode_key(Bytes{0, 2, 0, 5, 'a'}).code(), Errc::corrupt_record);     // short
    EXPECT_EQ(decode_key(Bytes{0, 2, 0, 1, 'a', 0}).code(), Errc::corrupt_record);  // trailing
    EXPECT_EQ(decode_offset_value(Bytes{0, 5}).code(), Errc::corrupt_record);
    EXPECT_EQ(decode_group_value(Bytes{0, 3, 0xff}).code(), Errc::corrupt_record);
}

TEST(OffsetsRecords, GarbageNeverCrashes) {
    bool ok = rc::check("decoders survive any bytes", [](const std::vector<uint8_t>& tail, uint8_t version) {
        Bytes b{0, static_cast<uint8_t>(version % 6)};
        b.insert(b.end(), tail.begin(), tail.end());
        (void)decode_key(b);
        (void)decode_offset_value(b);
        (void)decode_group_value(b);
        (void)decode_key(tail);
        (void)decode_offset_value(tail);
        (void)decode_group_value(tail);
    });
    EXPECT_TRUE(ok);
}

TEST(OffsetsRecords, TruncatedValidRecordsAreRejected) {
    Bytes v = encode_value(sample_group());
    for (size_t n = 0; n < v.size(); n++) {
        EXPECT_FALSE(decode_group_value(ByteView(v.data(), n)).ok()) << n;
    }
}

}  // namespace
}  // namespace keel::group
