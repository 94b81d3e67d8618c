// Produce validation: every refusal with crafted bytes, each answered with Kafka's code.
#include "core/broker/batch_validation.h"

#include <gtest/gtest.h>

#include "tests/broker/broker_test_util.h"

namespace keel::broker {
namespace {

using protocol::ErrorCode;
using testing::BatchSpec;
using testing::fix_crc;
using testing::kT0;
using testing::producer_batch;
using testing::put_be;
namespace bf = log::batch_format;

ValidationConfig config_at(int64_t now_ms = kT0) {
    ValidationConfig c;
    c.now_ms = now_ms;
    return c;
}

ErrorCode code_of(const Bytes& records, const ValidationConfig& c = config_at()) {
    return validate_produce_records(records, c).code();
}

TEST(BatchValidation, AcceptsAnIdempotentBatchAndKeepsTheProducersBytes) {
    Bytes b =
        producer_batch({.records = 3, .producer_id = 7, .producer_epoch = 2, .base_sequence = 10});
    Bytes before = b;
    auto v = validate_produce_records(b, config_at());
    ASSERT_TRUE(v.ok()) << v.error().reason;
    EXPECT_EQ(b, before);
    EXPECT_EQ(v->records.data(), b.data());
    EXPECT_EQ(v->records.size(), b.size());
    ASSERT_EQ(v->batches.size(), 1u);
    const ValidatedBatch& vb = v->batches[0];
    EXPECT_EQ(vb.position, 0u);
    EXPECT_EQ(vb.size_bytes(), b.size());
    EXPECT_EQ(vb.header.producer_id, 7);
    EXPECT_EQ(vb.header.producer_epoch, 2);
    EXPECT_EQ(vb.header.base_sequence, 10);
    EXPECT_EQ(vb.record_count(), 3);
    EXPECT_EQ(vb.last_sequence(), 12);
    EXPECT_EQ(vb.header.max_timestamp, kT0 + 2);
    EXPECT_EQ(v->record_count, 3);
    EXPECT_EQ(v->max_timestamp, kT0 + 2);
    EXPECT_EQ(v->producer_id(), 7);
    EXPECT_EQ(v->base_sequence(), 10);
}

TEST(BatchValidation, AFlippedCrcByteOrPayloadByteIsCorruptMessage) {
    Bytes b = producer_batch({});
    ASSERT_EQ(code_of(b), ErrorCode::none);
    Bytes crc_flipped = b;
    crc_flipped[bf::kCrcPos + 2] ^= 0x01;
    EXPECT_EQ(code_of(crc_flipped), ErrorCode::corrupt_message);
    Bytes payload_flipped = b;
    payload_flipped[b.size() - 1] ^= 0x80;
    EXPECT_EQ(code_of(payload_flipped), ErrorCode::corrupt_message);
}

TEST(BatchValidation, OldMagicIsInvalidRecordOnProduceV3AndUnsupportedFormatBefore) {
    for (int magic : {0, 1}) {
        Bytes b = producer_batch({});
        b[bf::kMagicPos] = static_cast<uint8_t>(magic);
        EXPECT_EQ(code_of(b), ErrorCode::invalid_record) << magic;
        ValidationConfig old = config_at();
        old.produce_version = 2;
        EXPECT_EQ(code_of(b, old), ErrorCode::unsupported_for_message_format) << magic;
    }
}

TEST(BatchValidation, ABatchCutShortOrAnEmptyFieldIsInvalidRecord) {
    Bytes b = producer_batch({});
    EXPECT_EQ(code_of(Bytes(b.begin(), b.end() - 1)), ErrorCode::invalid_record);
    EXPECT_EQ(code_of(Bytes(b.begin(), b.begin() + 16)), ErrorCode::invalid_record);
    EXPECT_EQ(code_of(Bytes{}), ErrorCode::invalid_record);
    // Trailing bytes after a whole batch are a second batch cut short.
    Bytes trailing = b;
    trailing.resize(b.size() + 5, 0);
    EXPECT_EQ(code_of(trailing), ErrorCode::invalid_record);
}

TEST(BatchValidation, ALengthTooSmallForAnyHeaderIsCorruptMessage) {
    Bytes b = producer_batch({});
    Bytes tiny = b;
    put_be(tiny, bf::kBatchLengthPos, 10, 4);
    EXPECT_EQ(code_of(tiny), ErrorCode::corrupt_message);
    Bytes short_v2 = Bytes(b.begin(), b.begin() + 60);  // 48 + 12: one byte short of a v2 header
    put_be(short_v2, bf::kBatchLengthPos, 48, 4);
    EXPECT_EQ(code_of(short_v2), ErrorCode::corrupt_message);
}

TEST(BatchValidation, RecordCountsThatDisagreeAreInvalidRecord) {
    Bytes b = producer_batch({.records = 3});
    Bytes more = b;
    put_be(more, bf::kRecordsCountPos, 4, 4);
    fix_crc(more);
    EXPECT_EQ(code_of(more), ErrorCode::invalid_record);
    Bytes zero = b;
    put_be(zero, bf::kRecordsCountPos, 0, 4);
    put_be(zero, bf::kLastOffsetDeltaPos, static_cast<uint32_t>(-1), 4);
    fix_crc(zero);
    EXPECT_EQ(code_of(zero), ErrorCode::invalid_record);
    Bytes delta = b;
    put_be(delta, bf::kLastOffsetDeltaPos, 5, 4);
    fix_crc(delta);
    EXPECT_EQ(code_of(delta), ErrorCode::invalid_record);
}

TEST(BatchValidation, ABatchOverMaxMessageBytesIsMessageTooLarge) {
    Bytes b = producer_batch({.records = 5});
    ValidationConfig c = config_at();
    c.max_message_bytes = static_cast<int32_t>(b.size());
    EXPECT_EQ(code_of(b, c), ErrorCode::none);
    c.max_message_bytes = static_cast<int32_t>(b.size()) - 1;
    EXPECT_EQ(code_of(b, c), ErrorCode::message_too_large);
}

TEST(BatchValidation, ARecordsFieldLargerThanASegmentIsRecordListTooLarge) {
    Bytes b = producer_batch({.records = 5});
    ValidationConfig c = config_at();
    c.segment_bytes = static_cast<int64_t>(b.size()) - 1;
    EXPECT_EQ(code_of(b, c), ErrorCode::record_list_too_large);
}

TEST(BatchValidation, MoreThanOneBatchIsInvalidRecordAsInKafka) {
    Bytes two = testing::concat(
        producer_batch({.records = 2, .producer_id = 1, .producer_epoch = 0, .base_sequence = 0}),
        producer_batch({.records = 2, .producer_id = 1, .producer_epoch = 0, .base_sequence = 2}));
    EXPECT_EQ(code_of(two), ErrorCode::invalid_record);
}

TEST(BatchValidation, WithMultipleBatchesOnTheProducerFieldsMustContinueBatchToBatch) {
    ValidationConfig c = config_at();
    c.allow_multiple_batches = true;
    Bytes first =
        producer_batch({.records = 2, .producer_id = 1, .producer_epoch = 0, .base_sequence = 0});
    Bytes next =
        producer_batch({.records = 2, .producer_id = 1, .producer_epoch = 0, .base_sequence = 2});
    auto v = validate_produce_records(testing::concat(first, next), c);
    ASSERT_TRUE(v.ok()) << v.error().reason;
    ASSERT_EQ(v->batches.size(), 2u);
    EXPECT_EQ(v->batches[1].position, first.size());
    EXPECT_EQ(v->record_count, 4);
    Bytes gap =
        producer_batch({.records = 2, .producer_id = 1, .producer_epoch = 0, .base_sequence = 3});
    EXPECT_EQ(code_of(testing::concat(first, gap), c), ErrorCode::invalid_record);
    Bytes other_epoch =
        producer_batch({.records = 2, .producer_id = 1, .producer_epoch = 1, .base_sequence = 2});
    EXPECT_EQ(code_of(testing::concat(first, other_epoch), c), ErrorCode::invalid_record);
    Bytes other_producer =
        producer_batch({.records = 2, .producer_id = 2, .producer_epoch = 0, .base_sequence = 2});
    EXPECT_EQ(code_of(testing::concat(first, other_producer), c), ErrorCode::invalid_record);
}

TEST(BatchValidation, ControlBatchesAreInvalidRecordAndTransactionalOnesInvalidTxnState) {
    EXPECT_EQ(code_of(producer_batch(
                  {.producer_id = 1, .producer_epoch = 0, .base_sequence = 0, .control = true})),
              ErrorCode::invalid_record);
    EXPECT_EQ(
        code_of(producer_batch(
            {.producer_id = 1, .producer_epoch = 0, .base_sequence = 0, .transactional = true})),
        ErrorCode::invalid_txn_state);
}

TEST(BatchValidation, AProducerIdWithoutASequenceIsInvalidRecord) {
    EXPECT_EQ(code_of(producer_batch({.producer_id = 1, .producer_epoch = 0, .base_sequence = -1})),
              ErrorCode::invalid_record);
}

TEST(BatchValidation, ZstdBeforeProduceV7IsUnsupportedCompressionType) {
    log::RecordBatchBuilder b;
    b.add(kT0, std::nullopt, as_bytes("v"));
    Bytes zstd = b.build_with_section(as_bytes("not really zstd"), log::Compression::zstd);
    ValidationConfig c = config_at();
    c.produce_version = 6;
    EXPECT_EQ(code_of(zstd, c), ErrorCode::unsupported_compression_type);
    c.produce_version = 7;
    EXPECT_EQ(code_of(zstd, c), ErrorCode::none);  // records stay compressed here
}

TEST(BatchValidation, CreateTimeOutsideTheWindowIsInvalidTimestamp) {
    ValidationConfig c = config_at(kT0 + 10'000);
    c.timestamp_before_max_ms = 1'000;
    c.timestamp_after_max_ms = 500;
    // Records at first, first+1, first+2.
    EXPECT_EQ(code_of(producer_batch({.first_timestamp = kT0 + 9'000}), c), ErrorCode::none);
    EXPECT_EQ(code_of(producer_batch({.first_timestamp = kT0 + 8'999}), c),
              ErrorCode::invalid_timestamp);
    EXPECT_EQ(code_of(producer_batch({.first_timestamp = kT0 + 10'498}), c), ErrorCode::none);
    EXPECT_EQ(code_of(producer_batch({.first_timestamp = kT0 + 10'499}), c),
              ErrorCode::invalid_timestamp);
    auto v = validate_produce_records(producer_batch({.first_timestamp = 0}), c);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().reason.find("out of range"), std::string::npos) << v.error().reason;
    // Unbounded by default, even at the extremes of int64.
    EXPECT_EQ(code_of(producer_batch({.first_timestamp = 0}),
                      config_at(std::numeric_limits<int64_t>::max())),
              ErrorCode::none);
}

TEST(BatchValidation, AProducerSetLogAppendTimeIsRefusedWhereKafkaRefusesIt) {
    Bytes lat = producer_batch({.timestamp_type = log::TimestampType::log_append_time});
    ValidationConfig c = config_at();
    EXPECT_EQ(code_of(lat, c),
              ErrorCode::none);  // CreateTime topic, timestamps in range: Kafka lets it pass
    c.timestamp_type = log::TimestampType::log_append_time;
    EXPECT_EQ(code_of(lat, c), ErrorCode::invalid_timestamp);
    EXPECT_EQ(code_of(producer_batch({}), c), ErrorCode::none);
}

// "Compresses" by copying: enough to check what validation does with decompressed records.
class IdentityCodec final : public log::BatchCodec {
public:
    Result<Bytes> decompress(log::Compression, ByteView data, size_t max_bytes) const override {
        if (data.size() > max_bytes) return Error{Errc::message_too_large, "too large"};
        if (!data.empty() && data[0] == 0xEE) return Error{Errc::invalid_record, "bad stream"};
        return Bytes(data.begin(), data.end());
    }
    Result<Bytes> compress(log::Compression, ByteView data) const override {
        return Bytes(data.begin(), data.end());
    }
};

// A gzip-flagged batch whose records are at the given timestamps and keys.
Bytes gzip_batch(const std::vector<std::pair<int64_t, std::optional<std::string>>>& recs) {
    log::RecordBatchBuilder b;
    for (const auto& [ts, key] : recs) {
        std::optional<ByteView> k;
        if (key) k = as_bytes(*key);
        b.add(ts, k, as_bytes("v"));
    }
    return b.build_with_section(b.records(), log::Compression::gzip);
}

TEST(BatchValidation, CompressedRecordsAreCheckedOneByOneWhenACodecIsGiven) {
    IdentityCodec codec;
    ValidationConfig c = config_at(kT0 + 10'000);
    c.timestamp_before_max_ms = 1'000;
    // The middle record is older than the window; the header's first and max are inside it.
    Bytes b = gzip_batch({{kT0 + 9'500, "a"}, {kT0, "b"}, {kT0 + 9'600, "c"}});
    EXPECT_EQ(code_of(b, c), ErrorCode::none);  // header only
    c.codec = &codec;
    EXPECT_EQ(code_of(b, c), ErrorCode::invalid_timestamp);
    Bytes fine = gzip_batch({{kT0 + 9'500, "a"}, {kT0 + 9'700, "b"}});
    EXPECT_EQ(code_of(fine, c), ErrorCode::none);
    // Fewer records inside than recordsCount declares.
    Bytes more = fine;
    put_be(more, bf::kRecordsCountPos, 3, 4);
    put_be(more, bf::kLastOffsetDeltaPos, 2, 4);
    fix_crc(more);
    EXPECT_EQ(code_of(more, c), ErrorCode::invalid_record);
    // A stream the codec cannot read.
    Bytes broken = fine;
    broken[bf::kRecordsPos] = 0xEE;
    fix_crc(broken);
    EXPECT_EQ(code_of(broken, c), ErrorCode::invalid_record);
}

TEST(BatchValidation, CompressedInnerOffsetsMustRunFromZero) {
    IdentityCodec codec;
    ValidationConfig c = config_at();
    c.codec = &codec;
    log::RecordBatchBuilder b;
    b.add_at(Offset(0), kT0, as_bytes("k"), as_bytes("v"));
    b.add_at(Offset(2), kT0, as_bytes("k"), as_bytes("v"));  // a hole, as the cleaner leaves
    Bytes holes = b.build_with_section(b.records(), log::Compression::gzip);
    auto h = log::parse_batch_header(holes);
    ASSERT_TRUE(h.ok());
    // Make the header claim two records (deltas 0..1) while the records say 0 and 2.
    put_be(holes, bf::kLastOffsetDeltaPos, 1, 4);
    fix_crc(holes);
    EXPECT_EQ(code_of(holes, c), ErrorCode::invalid_record);
}

TEST(BatchValidation, ACompactedTopicRefusesRecordsWithoutKeys) {
    IdentityCodec codec;
    ValidationConfig c = config_at();
    c.compacted = true;
    log::RecordBatchBuilder plain;
    plain.add(kT0, as_bytes("k"), as_bytes("v"));
    plain.add(kT0, std::nullopt, as_bytes("v"));
    EXPECT_EQ(code_of(plain.build(), c), ErrorCode::invalid_record);
    EXPECT_EQ(code_of(producer_batch({}), c), ErrorCode::none);
    c.codec = &codec;
    EXPECT_EQ(code_of(gzip_batch({{kT0, "k"}, {kT0, std::nullopt}}), c), ErrorCode::invalid_record);
    EXPECT_EQ(code_of(gzip_batch({{kT0, "k"}, {kT0, "j"}}), c), ErrorCode::none);
}

TEST(BatchValidation, LogAppendTimeSetsTheTypeAndMaxTimestampAndKeepsTheRest) {
    Bytes b =
        producer_batch({.records = 3, .producer_id = 4, .producer_epoch = 1, .base_sequence = 0});
    Bytes before = b;
    ASSERT_TRUE(apply_log_append_time(b, kT0 + 777).ok());
    auto h = log::read_batch(b);  // CRC checked
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(h->timestamp_type(), log::TimestampType::log_append_time);
    EXPECT_EQ(h->max_timestamp, kT0 + 777);
    EXPECT_EQ(h->base_timestamp, kT0);  // Kafka's in-place path leaves firstTimestamp alone
    EXPECT_EQ(h->producer_id, 4);
    // Only attributes, maxTimestamp and the CRC changed.
    for (size_t i = 0; i < b.size(); i++) {
        bool may_change = (i >= bf::kCrcPos && i < bf::kCrcPos + 4) ||
                          (i >= bf::kAttributesPos && i < bf::kAttributesPos + 2) ||
                          (i >= bf::kMaxTimestampPos && i < bf::kMaxTimestampPos + 8);
        if (!may_change) {
            EXPECT_EQ(b[i], before[i]) << "byte " << i;
        }
    }
}

TEST(BatchValidation, LogAppendTimeRefusesWhatIsNotOneWholeBatch) {
    Bytes b = producer_batch({});
    Bytes cut(b.begin(), b.end() - 1);
    EXPECT_EQ(apply_log_append_time(cut, kT0).code(), Errc::invalid_record);
    Bytes tiny(b.begin(), b.begin() + 20);
    EXPECT_EQ(apply_log_append_time(tiny, kT0).code(), Errc::invalid_record);
}

TEST(BatchValidation, SequencesWrapAtInt32MaxAsKafkas) {
    EXPECT_EQ(increment_sequence(std::numeric_limits<int32_t>::max(), 1), 0);
    EXPECT_EQ(increment_sequence(std::numeric_limits<int32_t>::max() - 1, 3), 1);
    EXPECT_EQ(increment_sequence(5, 3), 8);
    EXPECT_EQ(decrement_sequence(1, 3), std::numeric_limits<int32_t>::max() - 1);
    EXPECT_EQ(decrement_sequence(8, 3), 5);
    Bytes b = producer_batch({.records = 3,
                              .producer_id = 1,
                              .producer_epoch = 0,
                              .base_sequence = std::numeric_limits<int32_t>::max() - 1});
    auto v = validate_produce_records(b, config_at());
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->batches[0].last_sequence(), 0);  // INT32_MAX-1, INT32_MAX, 0
}

}  // namespace
}  // namespace keel::broker
