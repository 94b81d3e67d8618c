// The producer's record-batch builder: what it encodes must read back through the log's
// own decoder (CRC, header fields, records with keys, values, headers, timestamps), with
// and without compression.
#include <gtest/gtest.h>

#include "core/client/producer_batch.h"
#include "core/compression/batch.h"
#include "core/log/record_batch.h"

namespace keel::client {
namespace {

log::RecordBatchBuilder three_records() {
    log::RecordBatchBuilder b;
    Bytes v1 = to_bytes("v1"), hv = to_bytes("trace-9");
    std::vector<log::RecordBatchBuilder::HeaderInput> headers = {{"h1", ByteView(hv)}, {"null-h", std::nullopt}};
    b.add(1000, as_bytes("k1"), ByteView(v1), headers);
    b.add(1005, std::nullopt, as_bytes("v2"));
    b.add(999, as_bytes("k3"), std::nullopt);
    return b;
}

void expect_three_records(const log::DecodedBatch& d) {
    ASSERT_EQ(d.records.size(), 3u);
    EXPECT_EQ(as_chars(*d.records[0].key), "k1");
    EXPECT_EQ(as_chars(*d.records[0].value), "v1");
    ASSERT_EQ(d.records[0].headers.size(), 2u);
    EXPECT_EQ(d.records[0].headers[0].key, "h1");
    EXPECT_EQ(as_chars(*d.records[0].headers[0].value), "trace-9");
    EXPECT_FALSE(d.records[0].headers[1].value.has_value());
    EXPECT_EQ(d.records[0].timestamp, 1000);
    EXPECT_FALSE(d.records[1].key.has_value());
    EXPECT_EQ(d.records[1].timestamp, 1005);
    EXPECT_FALSE(d.records[2].value.has_value());
    EXPECT_EQ(d.records[2].offset, Offset(2));
    EXPECT_EQ(d.header.max_timestamp, 1005);
}

TEST(ProducerBatchEncoding, StampsProducerIdEpochAndSequenceUnderAValidCrc) {
    ProducerIdentity id{4242, 3, 17};
    auto bytes = encode_producer_batch(three_records(), id, log::Compression::none, nullptr);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    auto d = log::decode_batch(*bytes, nullptr);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_EQ(d->header.producer_id, 4242);
    EXPECT_EQ(d->header.producer_epoch, 3);
    EXPECT_EQ(d->header.base_sequence, 17);
    EXPECT_EQ(d->header.records_count, 3);
    EXPECT_TRUE(log::validate_producer_batch(d->header, *bytes).ok());
    expect_three_records(*d);
}

TEST(ProducerBatchEncoding, CompressesThroughTheCodecAndDecodesBack) {
    for (auto c : {log::Compression::gzip, log::Compression::snappy, log::Compression::lz4, log::Compression::zstd}) {
        auto bytes = encode_producer_batch(three_records(), ProducerIdentity{}, c, &compression::batch_codec());
        ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
        auto d = log::decode_batch(*bytes, &compression::batch_codec());
        ASSERT_TRUE(d.ok()) << d.error().to_string();
        EXPECT_EQ(d->header.compression(), c);
        EXPECT_EQ(d->header.producer_id, -1);
        expect_three_records(*d);
    }
}

TEST(ProducerBatchEncoding, RefusesCompressionWithoutCodecAndEmptyBatches) {
    auto no_codec = encode_producer_batch(three_records(), ProducerIdentity{}, log::Compression::zstd, nullptr);
    ASSERT_FALSE(no_codec.ok());
    EXPECT_EQ(no_codec.code(), Errc::invalid_argument);
    auto empty = encode_producer_batch(log::RecordBatchBuilder{}, ProducerIdentity{}, log::Compression::none, nullptr);
    ASSERT_FALSE(empty.ok());
}

TEST(ProducerBatch, ClosesWhenTheNextRecordWouldExceedBatchSize) {
    ProducerBatch batch(TopicPartitionName{"t", PartitionIndex(0)}, Instant{}, 300);
    // Futures need an executor only to park on; these are never waited for here.
    struct NoExecutor final : env::Executor {
        env::FiberId spawn(std::string, std::function<void()>) override { return 0; }
        env::FiberId current() const override { return 0; }
        Instant now() const override { return {}; }
        void yield() override {}
        void sleep_for(Duration) override {}
        env::WakeReason park(Instant) override { return env::WakeReason::deadline; }
        void unpark(env::FiberId) override {}
        env::TimerId call_after(Duration, std::function<void()>) override { return 0; }
        void cancel_timer(env::TimerId) override {}
    } ex;
    ProducerRecord r{"t", std::nullopt, to_bytes("key"), Bytes(60, 'x'), {}, std::nullopt};
    int appended = 0;
    while (batch.try_append(ex, r, 1).has_value()) appended++;
    EXPECT_GE(appended, 2);
    EXPECT_LE(batch.size_bytes(), 300u) << "the batch never grows past batch.size";
    EXPECT_GT(batch.size_bytes() + estimated_record_size(r), 300u) << "it closed only when the next would not fit";
    EXPECT_EQ(batch.record_count(), appended);
    EXPECT_TRUE(batch.full());
    // An empty batch takes one record even if it is larger than the batch size.
    ProducerBatch big(TopicPartitionName{"t", PartitionIndex(0)}, Instant{}, 10);
    EXPECT_TRUE(big.try_append(ex, r, 1).has_value());
    auto bytes = big.encode(ProducerIdentity{7, 0, 0}, log::Compression::none, nullptr);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(log::read_batch(*bytes)->producer_id, 7);
    big.complete(Offset(40), -1);
}

}  // namespace
}  // namespace keel::client
