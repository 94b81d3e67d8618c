#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/controller/metadata_records.h"
#include "core/env/random.h"
#include "tests/controller/record_gen.h"

namespace keel::controller {
namespace {

using namespace keel::controller::testing;

Bytes hex(std::string_view s) {
    Bytes out;
    for (size_t i = 0; i + 1 < s.size(); i += 2) {
        while (s[i] == ' ') i++;
        out.push_back(static_cast<uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

TEST(MetadataRecords, EveryRecordRoundTripsAtEveryVersionItHas) {
    EXPECT_TRUE(rc::check([] {
        MetadataRecord m = gen_record();
        RecordType t = record_type(m);
        for (int16_t v = 0; v <= max_version(t); v++) {
            Bytes once = encode_record(m, v);
            auto back = decode_record(once);
            RC_ASSERT(back.ok());
            RC_ASSERT(record_type(*back) == t);
            RC_ASSERT(encode_record(*back, v) == once);
        }
        // At the newest version every field exists, so the value itself survives.
        auto back = decode_record(encode_record(m, max_version(t)));
        RC_ASSERT(back.ok());
        RC_ASSERT(*back == m);
    }));
}

TEST(MetadataRecords, FenceBrokerRecordHasKafkasBytes) {
    // frame version 1, type 7, version 0, Id int32, Epoch int64, empty tagged section.
    Bytes b = encode_record(FenceBrokerRecord{NodeId(1), BrokerEpoch(5)});
    EXPECT_EQ(b, hex("01 07 00 00000001 0000000000000005 00"));
}

TEST(MetadataRecords, PartitionChangeRecordWritesOnlyTheFieldsThatChangeAsTags) {
    PartitionChangeRecord m;
    m.partition_id = PartitionIndex(3);
    m.topic_id = Uuid{1, 2};
    m.leader = NodeId(2);
    Bytes b = encode_record(m);
    // header, partition 3, topic id, one tag: tag 1 (Leader), 4 bytes, leader 2.
    EXPECT_EQ(b, hex("01 05 00 00000003 0000000000000001 0000000000000002 01 01 04 00000002"));
    m.isr = std::vector<NodeId>{NodeId(2), NodeId(3)};
    b = encode_record(m);
    // Two tags, ascending: 0 (Isr: compact array of 2 = 0x03, then 2 ints), then 1 (Leader).
    EXPECT_EQ(b, hex("01 05 00 00000003 0000000000000001 0000000000000002 02"
                     " 00 09 03 00000002 00000003 01 04 00000002"));
}

TEST(MetadataRecords, RegisterBrokerRecordIsFencedByDefaultAsInKafka) {
    RegisterBrokerRecord m;
    EXPECT_TRUE(m.fenced);
    EXPECT_EQ(written_version(RecordType::register_broker), 3);
    EXPECT_EQ(written_version(RecordType::partition), 0);
}

TEST(MetadataRecords, DecodingRejectsAnUnknownFrameVersionTypeOrVersion) {
    Bytes good = encode_record(TopicRecord{"orders", Uuid{7, 8}});
    Bytes bad_frame = good;
    bad_frame[0] = 0;
    auto r = decode_record(bad_frame);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::corrupt);
    EXPECT_NE(r.error().message.find("frame version 0"), std::string::npos) << r.error().message;

    Bytes bad_type = good;
    bad_type[1] = 99;
    r = decode_record(bad_type);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("unknown record type 99"), std::string::npos);

    Bytes bad_version = good;
    bad_version[2] = 1;
    r = decode_record(bad_version);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("TopicRecord v1 is not supported"), std::string::npos);
}

TEST(MetadataRecords, DecodingRejectsEveryTruncationAndTrailingBytes) {
    EXPECT_TRUE(rc::check([] {
        MetadataRecord m = gen_record();
        Bytes b = encode_record(m);
        size_t cut = *rc::gen::inRange<size_t>(0, b.size());
        auto r = decode_record(ByteView(b).first(cut));
        // The one prefix accepted on purpose: the NoOpRecord form older Keel wrote, 01 14 00.
        bool legacy_no_op = std::holds_alternative<NoOpRecord>(m) && cut == 3;
        if (!legacy_no_op) {
            RC_ASSERT(!r.ok());
            RC_ASSERT(r.code() == Errc::corrupt);
        }
        Bytes longer = b;
        longer.push_back(0);
        auto t = decode_record(longer);
        RC_ASSERT(!t.ok());
        RC_ASSERT(t.error().message.find("trailing") != std::string::npos);
    }));
}

TEST(MetadataRecords, DecodingRejectsTagsOutOfOrder) {
    // PartitionChange with tag 1 before tag 0.
    Bytes b = hex("01 05 00 00000003 0000000000000001 0000000000000002 02"
                  " 01 04 00000002 00 01 01");
    auto r = decode_record(b);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("out of order"), std::string::npos) << r.error().message;
}

TEST(MetadataRecords, UnknownTagsAreKeptAndWrittenBack) {
    // TopicRecord "a" with an unknown tag 9 carrying two bytes: Kafka keeps such fields
    // (_unknownTaggedFields) and writes them back; so does the generated codec.
    Bytes b = hex("01 02 00 02 61 0000000000000007 0000000000000008 01 09 02 abcd");
    auto r = decode_record(b);
    ASSERT_TRUE(r.ok()) << r.error().message;
    TopicRecord want{"a", Uuid{7, 8}};
    want.unknown_tagged_fields = {{9, Bytes{0xab, 0xcd}}};
    EXPECT_EQ(std::get<TopicRecord>(*r), want);
    EXPECT_EQ(encode_record(*r), b);
}

// NoOpRecord as Kafka writes it: frame version 1, type 20 (0x14), version 0, and the empty
// tagged-field section every flexible struct ends with. Keel's hand-written codec used to
// omit that last byte; records in that form still decode.
TEST(MetadataRecords, NoOpRecordHasKafkasBytes) {
    EXPECT_EQ(encode_record(NoOpRecord{}), hex("01 14 00 00"));
    auto kafka = decode_record(hex("01 14 00 00"));
    ASSERT_TRUE(kafka.ok()) << kafka.error().message;
    EXPECT_TRUE(std::holds_alternative<NoOpRecord>(*kafka));
    auto old_keel = decode_record(hex("01 14 00"));
    ASSERT_TRUE(old_keel.ok()) << old_keel.error().message;
    EXPECT_TRUE(std::holds_alternative<NoOpRecord>(*old_keel));
    EXPECT_FALSE(decode_record(hex("01 14 00 01")).ok());      // a tag promised, none follows
    EXPECT_FALSE(decode_record(hex("01 14 00 00 00")).ok());   // trailing byte
}

// Fuzz: random bytes and single-byte mutations of valid records never crash; whatever
// decodes re-encodes to a record that decodes to the same value.
TEST(MetadataRecords, MalformedBytesNeverCrashTheDecoder) {
    EXPECT_TRUE(rc::check([] {
        Bytes b;
        if (*rc::gen::arbitrary<bool>()) {
            b = *rc::gen::container<Bytes>(*rc::gen::inRange<size_t>(0, 64), rc::gen::arbitrary<uint8_t>());
        } else {
            b = encode_record(gen_record());
            size_t flips = *rc::gen::inRange<size_t>(1, 4);
            for (size_t i = 0; i < flips; i++) {
                size_t at = *rc::gen::inRange<size_t>(0, b.size());
                b[at] = *rc::gen::arbitrary<uint8_t>();
            }
        }
        auto r = decode_record(b);
        if (!r.ok()) {
            RC_ASSERT(r.code() == Errc::corrupt);
            return;
        }
        auto again = decode_record(encode_record(*r, max_version(record_type(*r))));
        RC_ASSERT(again.ok());
    }));
}

TEST(MetadataBatches, ABatchRoundTripsItsRecordsInOrder) {
    EXPECT_TRUE(rc::check([] {
        std::vector<MetadataRecord> v(static_cast<size_t>(*rc::gen::inRange(1, 8)));
        for (auto& m : v) m = gen_record();
        auto back = decode_batch(encode_batch(v));
        RC_ASSERT(back.ok());
        RC_ASSERT(back->size() == v.size());
        for (size_t i = 0; i < v.size(); i++) {
            RC_ASSERT(encode_record((*back)[i]) == encode_record(v[i]));
        }
    }));
}

TEST(MetadataBatches, DecodingRejectsBadCountsLengthsAndTrailingBytes) {
    Bytes good = encode_batch({NoOpRecord{}, FenceBrokerRecord{NodeId(1), BrokerEpoch(2)}});
    ASSERT_TRUE(decode_batch(good).ok());
    EXPECT_FALSE(decode_batch(Bytes{}).ok());
    EXPECT_FALSE(decode_batch(Bytes{0}).ok());      // empty batch
    Bytes huge = good;
    huge[0] = 0x7f;                                   // 127 records in a few bytes
    auto r = decode_batch(huge);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("does not fit"), std::string::npos);
    Bytes longer = good;
    longer.push_back(1);
    r = decode_batch(longer);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("trailing"), std::string::npos);
    Bytes bad_record = good;
    bad_record[2] = 2;  // first record's frame version
    r = decode_batch(bad_record);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("record 0"), std::string::npos) << r.error().message;
}

TEST(MetadataBatches, RandomBytesNeverCrashTheBatchDecoder) {
    EXPECT_TRUE(rc::check([] {
        Bytes b = *rc::gen::container<Bytes>(*rc::gen::inRange<size_t>(0, 80), rc::gen::arbitrary<uint8_t>());
        auto r = decode_batch(b);
        if (!r.ok()) RC_ASSERT(r.code() == Errc::corrupt);
    }));
}

TEST(TopicIds, AreVersion4UuidsDecidedByTheSeed) {
    env::SeededRandom a(42), b(42), c(43);
    Uuid x = random_uuid(a);
    EXPECT_EQ(x, random_uuid(b));
    EXPECT_NE(x, random_uuid(c));
    EXPECT_FALSE(x.is_zero());
    EXPECT_EQ((x.most >> 12) & 0xf, 4u);
    EXPECT_EQ(x.least >> 62, 2u);
    EXPECT_EQ(uuid_to_string(Uuid{1, 255}), "000000000000000100000000000000ff");
}

}  // namespace
}  // namespace keel::controller
