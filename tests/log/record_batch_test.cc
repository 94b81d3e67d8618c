// RecordBatch v2: exact bytes against a batch captured from librdkafka, parsing, the
// checks on producer input, and the header rewrites the broker does.
#include <gtest/gtest.h>

#include <cstdint>

#include "core/log/record_batch.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

using testing::str;

// One record (key "", value "hello kafka", header foo=bar) as librdkafka produced it;
// the capture is published in rskafka's protocol tests.
const Bytes kRdkafkaBatch = [] {
    const char raw[] =
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x4b\x00\x00\x00\x00"
        "\x02\x27\x24\xfe\xcd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x61"
        "\xd5\x9b\x77\x00\x00\x00\x00\x61\xd5\x9b\x77\xff\xff\xff\xff\xff"
        "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x32\x00\x00"
        "\x00\x00\x16\x68\x65\x6c\x6c\x6f\x20\x6b\x61\x66\x6b\x61\x02\x06"
        "\x66\x6f\x6f\x06\x62\x61\x72";
    return Bytes(raw, raw + sizeof(raw) - 1);
}();

TEST(RecordBatch, ParsesABatchCapturedFromLibrdkafka) {
    auto h = read_batch(kRdkafkaBatch);
    ASSERT_TRUE(h.ok()) << h.error().to_string();
    EXPECT_EQ(h->size_bytes(), kRdkafkaBatch.size());
    EXPECT_EQ(h->batch_length, 75);
    EXPECT_EQ(h->crc, 0x2724fecdu);
    EXPECT_EQ(h->compression(), Compression::none);
    EXPECT_EQ(h->records_count, 1);
    EXPECT_EQ(h->base_timestamp, 0x61d59b77);
    EXPECT_EQ(h->producer_id, -1);
    auto recs = parse_records(*h, records_section(kRdkafkaBatch));
    ASSERT_TRUE(recs.ok()) << recs.error().to_string();
    ASSERT_EQ(recs->size(), 1u);
    const Record& r = (*recs)[0];
    ASSERT_TRUE(r.key.has_value());
    EXPECT_TRUE(r.key->empty());
    EXPECT_EQ(str(*r.value), "hello kafka");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].key, "foo");
    EXPECT_EQ(str(*r.headers[0].value), "bar");
}

TEST(RecordBatch, BuilderReproducesTheLibrdkafkaBatchByteForByte) {
    RecordBatchBuilder::Fields f;
    f.partition_leader_epoch = LeaderEpoch(0);
    RecordBatchBuilder b(f);
    RecordBatchBuilder::HeaderInput hdr{"foo", as_bytes("bar")};
    b.add(0x61d59b77, ByteView(), as_bytes("hello kafka"), std::span(&hdr, 1));
    EXPECT_EQ(b.build(), kRdkafkaBatch);
}

TEST(RecordBatch, RoundTripsNullKeysTombstonesHeadersAndTimestampDeltas) {
    RecordBatchBuilder::Fields f;
    f.base_offset = Offset(1000);
    f.producer_id = 42;
    f.producer_epoch = 3;
    f.base_sequence = 7;
    RecordBatchBuilder b(f);
    RecordBatchBuilder::HeaderInput hdrs[] = {{"h1", std::nullopt}, {"h2", as_bytes("x")}};
    b.add(5000, std::nullopt, as_bytes("no key"));
    b.add(4990, as_bytes("k"), std::nullopt, hdrs);  // a tombstone, earlier timestamp
    b.add(5100, as_bytes("k2"), as_bytes(""));
    Bytes batch = b.build();
    auto d = decode_batch(batch, nullptr);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_EQ(d->header.base_offset, Offset(1000));
    EXPECT_EQ(d->header.last_offset(), Offset(1002));
    EXPECT_EQ(d->header.base_timestamp, 5000);
    EXPECT_EQ(d->header.max_timestamp, 5100);
    EXPECT_EQ(d->header.producer_id, 42);
    ASSERT_EQ(d->records.size(), 3u);
    EXPECT_FALSE(d->records[0].key.has_value());
    EXPECT_EQ(d->records[1].timestamp, 4990);
    EXPECT_FALSE(d->records[1].value.has_value());
    ASSERT_EQ(d->records[1].headers.size(), 2u);
    EXPECT_FALSE(d->records[1].headers[0].value.has_value());
    EXPECT_EQ(d->records[2].offset, Offset(1002));
    EXPECT_TRUE(d->records[2].value->empty());
    EXPECT_TRUE(validate_producer_batch(d->header, batch).ok());
}

TEST(RecordBatch, BaseOffsetAndEpochRewritesLeaveTheCrcValid) {
    Bytes batch = testing::numbered_batch(0, 3);
    uint32_t crc_before = read_batch(batch)->crc;
    set_base_offset(batch, Offset(123456789));
    set_partition_leader_epoch(batch, LeaderEpoch(9));
    auto h = read_batch(batch);
    ASSERT_TRUE(h.ok()) << h.error().to_string();
    EXPECT_EQ(h->crc, crc_before);
    EXPECT_EQ(h->base_offset, Offset(123456789));
    EXPECT_EQ(h->partition_leader_epoch, LeaderEpoch(9));
}

// A hostile base offset (outside the CRC) near the int64 limit: a record's offset
// (base + delta) would overflow. Decoding refuses the batch instead of wrapping
// (fuzz/regressions/fuzz_record_batch/record-offset-past-int64).
TEST(RecordBatch, ARecordOffsetPastTheLargestOffsetIsMalformedNotWrapped) {
    Bytes batch = testing::numbered_batch(0, 3);
    set_base_offset(batch, Offset(INT64_MAX - 1));
    auto d = decode_batch(batch, nullptr);
    EXPECT_FALSE(d.ok());
}

TEST(RecordBatch, LogAppendTimeSetsTheAttributeAndMaxTimestampAndANewCrc) {
    Bytes batch = testing::numbered_batch(0, 2);
    set_log_append_time(batch, 1234);
    auto h = read_batch(batch);
    ASSERT_TRUE(h.ok()) << h.error().to_string();
    EXPECT_EQ(h->timestamp_type(), TimestampType::log_append_time);
    EXPECT_EQ(h->max_timestamp, 1234);
}

TEST(RecordBatch, AnyFlippedBitCoveredByTheCrcIsCorruptRecord) {
    Bytes batch = testing::numbered_batch(0, 2);
    for (size_t byte = batch_format::kAttributesPos; byte < batch.size(); byte++) {
        Bytes bad = batch;
        bad[byte] ^= 0x10;
        auto h = read_batch(bad);
        ASSERT_FALSE(h.ok()) << "byte " << byte;
        EXPECT_EQ(h.code(), Errc::corrupt_record) << "byte " << byte;
    }
}

TEST(RecordBatch, StructuralDamageIsInvalidRecordNeverACrash) {
    Bytes batch = testing::numbered_batch(0, 2);
    EXPECT_EQ(read_batch(ByteView(batch).first(60)).code(), Errc::invalid_record);  // short header
    EXPECT_EQ(read_batch(ByteView(batch).first(batch.size() - 1)).code(), Errc::invalid_record);
    Bytes magic1 = batch;
    magic1[batch_format::kMagicPos] = 1;
    EXPECT_EQ(read_batch(magic1).code(), Errc::invalid_record);
    Bytes tiny_length = batch;
    tiny_length[11] = 10;  // batchLength 10 < 49
    tiny_length[10] = tiny_length[9] = tiny_length[8] = 0;
    EXPECT_EQ(read_batch(tiny_length).code(), Errc::invalid_record);
}

// Rewrites a field and the CRC, so only the structural check can catch it.
Bytes with_field(Bytes batch, size_t pos, int32_t v) {
    for (int i = 0; i < 4; i++) batch[pos + i] = static_cast<uint8_t>(static_cast<uint32_t>(v) >> (24 - 8 * i));
    uint32_t crc = compute_batch_crc(batch);
    for (int i = 0; i < 4; i++) batch[batch_format::kCrcPos + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    return batch;
}

TEST(RecordBatch, ProducerBatchChecksCatchCountsThatDisagree) {
    Bytes batch = testing::numbered_batch(0, 3);
    Bytes wrong_count = with_field(batch, batch_format::kRecordsCountPos, 4);
    auto h = read_batch(wrong_count);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(validate_producer_batch(*h, wrong_count).code(), Errc::invalid_record);
    Bytes wrong_delta = with_field(batch, batch_format::kLastOffsetDeltaPos, 5);
    h = read_batch(wrong_delta);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(validate_producer_batch(*h, wrong_delta).code(), Errc::invalid_record);
    Bytes empty = with_field(with_field(batch, batch_format::kRecordsCountPos, 0), batch_format::kLastOffsetDeltaPos, -1);
    h = read_batch(empty);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(validate_producer_batch(*h, empty).code(), Errc::invalid_record);
}

TEST(RecordBatch, RecordOffsetDeltasOutOfSequenceAreInvalidRecord) {
    Bytes batch = testing::numbered_batch(0, 2);
    // The second record's offset delta (zigzag 2 = 1) becomes 0: a duplicate delta.
    auto h = read_batch(batch);
    size_t first_len = static_cast<size_t>(batch[batch_format::kRecordsPos] >> 1) + 1;
    size_t second = batch_format::kRecordsPos + first_len;
    ASSERT_EQ(batch[second + 3], 2);  // length, attributes, timestamp delta, offset delta
    batch[second + 3] = 0;
    uint32_t crc = compute_batch_crc(batch);
    for (int i = 0; i < 4; i++) batch[batch_format::kCrcPos + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    h = read_batch(batch);
    ASSERT_TRUE(h.ok());
    auto st = validate_producer_batch(*h, batch);
    EXPECT_EQ(st.code(), Errc::invalid_record);
}

TEST(RecordBatch, RecordsThatDoNotParseAreInvalidRecord) {
    Bytes batch = testing::numbered_batch(0, 2);
    // Claim a huge record length in the first record; fix the CRC.
    batch[batch_format::kRecordsPos] = 0x7e;
    uint32_t crc = compute_batch_crc(batch);
    for (int i = 0; i < 4; i++) batch[batch_format::kCrcPos + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    auto h = read_batch(batch);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(validate_producer_batch(*h, batch).code(), Errc::invalid_record);
    EXPECT_EQ(parse_records(*h, records_section(batch)).code(), Errc::invalid_record);
}

TEST(RecordBatch, ACompressedBatchWithoutACodecIsReportedNotMisread) {
    Bytes batch = testing::numbered_batch(0, 2, 1000, Compression::zstd);
    auto d = decode_batch(batch, nullptr);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.code(), Errc::unsupported_version);
}

}  // namespace
}  // namespace keel::log
