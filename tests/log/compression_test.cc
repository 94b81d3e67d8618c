// keel_compression: batches captured from librdkafka and the Java client decode (gzip,
// raw and xerial snappy, lz4, zstd); every codec round-trips; bad input and bombs are
// errors, never crashes.
#include <gtest/gtest.h>

#include "core/compression/batch.h"
#include "core/compression/codec.h"
#include "tests/log/log_test_util.h"

namespace keel::compression {
namespace {

using log::Compression;
using log::testing::str;

Bytes hex_bytes(const char* raw, size_t n) { return Bytes(raw, raw + n); }
#define CAPTURE(s) hex_bytes(s, sizeof(s) - 1)

// Batches as librdkafka / the Java client put them on the wire (published in rskafka's
// protocol tests): one record, key 100 x 'x', value "hello kafka", header foo=bar.
const Bytes kGzip = CAPTURE(
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x64\x00\x00\x00\x00"
    "\x02\xba\x41\x46\x65\x00\x01\x00\x00\x00\x00\x00\x00\x01\x7e\x90"
    "\xb3\x34\x67\x00\x00\x01\x7e\x90\xb3\x34\x67\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x1f\x8b\x08"
    "\x00\x00\x00\x00\x00\x00\x03\xfb\xc3\xc8\xc0\xc0\x70\x82\xb1\x82"
    "\x0e\x40\x2c\x23\x35\x27\x27\x5f\x21\x3b\x31\x2d\x3b\x91\x89\x2d"
    "\x2d\x3f\x9f\x2d\x29\xb1\x08\x00\xe4\xcd\xba\x1f\x80\x00\x00\x00");
const Bytes kLz4 = CAPTURE(
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x63\x00\x00\x00\x00"
    "\x02\x1b\xa5\x92\x35\x00\x03\x00\x00\x00\x00\x00\x00\x01\x7e\xb1"
    "\x1f\xc7\x24\x00\x00\x01\x7e\xb1\x1f\xc7\x24\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x04\x22\x4d"
    "\x18\x60\x40\x82\x23\x00\x00\x00\x8f\xfc\x01\x00\x00\x00\xc8\x01"
    "\x78\x01\x00\x50\xf0\x06\x16\x68\x65\x6c\x6c\x6f\x20\x6b\x61\x66"
    "\x6b\x61\x02\x06\x66\x6f\x6f\x06\x62\x61\x72\x00\x00\x00\x00");
const Bytes kSnappyRaw = CAPTURE(
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x58\x00\x00\x00\x00"
    "\x02\xad\x86\xf4\xf4\x00\x02\x00\x00\x00\x00\x00\x00\x01\x7e\xb6"
    "\x45\x0e\x52\x00\x00\x01\x7e\xb6\x45\x0e\x52\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x80\x01\x1c"
    "\xfc\x01\x00\x00\x00\xc8\x01\x78\xfe\x01\x00\x8a\x01\x00\x50\x16"
    "\x68\x65\x6c\x6c\x6f\x20\x6b\x61\x66\x6b\x61\x02\x06\x66\x6f\x6f"
    "\x06\x62\x61\x72");
// From the Java client (xerial framing), two records.
const Bytes kSnappyXerial = CAPTURE(
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x00\x00\x00\x00"
    "\x02\x79\x1e\x2d\xce\x00\x02\x00\x00\x00\x01\x00\x00\x01\x7f\x07"
    "\x25\x7a\xb1\x00\x00\x01\x7f\x07\x25\x7a\xb1\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x02\x82\x53\x4e"
    "\x41\x50\x50\x59\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00"
    "\x47\xff\x01\x1c\xfc\x01\x00\x00\x00\xc8\x01\x78\xfe\x01\x00\x8a"
    "\x01\x00\x64\x16\x68\x65\x6c\x6c\x6f\x20\x6b\x61\x66\x6b\x61\x02"
    "\x06\x66\x6f\x6f\x06\x62\x61\x72\xfa\x01\x00\x00\x02\xfe\x80\x00"
    "\x96\x80\x00\x4c\x14\x73\x6f\x6d\x65\x20\x76\x61\x6c\x75\x65\x02"
    "\x06\x66\x6f\x6f\x06\x62\x61\x72");
const Bytes kZstd = CAPTURE(
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x5d\x00\x00\x00\x00"
    "\x02\xa1\x6e\x4e\x95\x00\x04\x00\x00\x00\x00\x00\x00\x01\x7e\xbf"
    "\x78\xf3\xad\x00\x00\x01\x7e\xbf\x78\xf3\xad\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x28\xb5\x2f"
    "\xfd\x00\x58\x1d\x01\x00\xe8\xfc\x01\x00\x00\x00\xc8\x01\x78\x16"
    "\x68\x65\x6c\x6c\x6f\x20\x6b\x61\x66\x6b\x61\x02\x06\x66\x6f\x6f"
    "\x06\x62\x61\x72\x01\x00\x20\x05\x5c");

void expect_hello_kafka(const Bytes& batch, Compression codec) {
    auto d = decode_batch(batch);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_EQ(d->header.compression(), codec);
    ASSERT_GE(d->records.size(), 1u);
    EXPECT_EQ(str(*d->records[0].key), std::string(100, 'x'));
    EXPECT_EQ(str(*d->records[0].value), "hello kafka");
    ASSERT_EQ(d->records[0].headers.size(), 1u);
    EXPECT_EQ(d->records[0].headers[0].key, "foo");
}

TEST(Compression, DecodesGzipBatchFromLibrdkafka) { expect_hello_kafka(kGzip, Compression::gzip); }
TEST(Compression, DecodesLz4FrameBatchFromLibrdkafka) { expect_hello_kafka(kLz4, Compression::lz4); }
TEST(Compression, DecodesRawSnappyBatchFromLibrdkafka) { expect_hello_kafka(kSnappyRaw, Compression::snappy); }
TEST(Compression, DecodesZstdBatchFromLibrdkafka) { expect_hello_kafka(kZstd, Compression::zstd); }

TEST(Compression, DecodesXerialSnappyBatchFromTheJavaClient) {
    expect_hello_kafka(kSnappyXerial, Compression::snappy);
    auto d = decode_batch(kSnappyXerial);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->records.size(), 2u);
    EXPECT_EQ(str(*d->records[1].value), "some value");
    EXPECT_EQ(d->records[1].offset, Offset(1));
}

class EveryCodec : public ::testing::TestWithParam<Compression> {};

TEST_P(EveryCodec, RoundTripsEmptySmallAndLargeInputs) {
    Bytes large(300'000);
    for (size_t i = 0; i < large.size(); i++) large[i] = static_cast<uint8_t>((i * 31) ^ (i >> 7));
    for (const Bytes& input : {Bytes{}, to_bytes("a"), to_bytes(std::string(1000, 'z')), large}) {
        auto c = compress(GetParam(), input);
        ASSERT_TRUE(c.ok()) << c.error().to_string();
        auto d = decompress(GetParam(), *c);
        ASSERT_TRUE(d.ok()) << d.error().to_string();
        EXPECT_EQ(*d, input);
    }
}

TEST_P(EveryCodec, CompressedBatchesRoundTripThroughTheBuilder) {
    Bytes batch = log::testing::numbered_batch(0, 50, 1000, GetParam());
    auto d = decode_batch(batch);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_EQ(d->header.compression(), GetParam());
    ASSERT_EQ(d->records.size(), 50u);
    EXPECT_EQ(str(*d->records[49].value), "v49");
}

TEST_P(EveryCodec, OutputAboveTheLimitIsMessageTooLargeNotAnAllocation) {
    if (GetParam() == Compression::none) GTEST_SKIP();
    auto c = compress(GetParam(), Bytes(1 << 20, 0));  // compresses to almost nothing
    ASSERT_TRUE(c.ok());
    auto d = decompress(GetParam(), *c, 1000);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.code(), Errc::message_too_large);
}

TEST_P(EveryCodec, GarbageAndCutInputAreInvalidRecord) {
    if (GetParam() == Compression::none) GTEST_SKIP();
    Bytes garbage(64);
    for (size_t i = 0; i < garbage.size(); i++) garbage[i] = static_cast<uint8_t>(i * 97 + 13);
    EXPECT_EQ(decompress(GetParam(), garbage).code(), Errc::invalid_record);
    auto c = compress(GetParam(), to_bytes(std::string(5000, 'q') + "tail"));
    ASSERT_TRUE(c.ok());
    Bytes cut(c->begin(), c->begin() + static_cast<std::ptrdiff_t>(c->size() / 2));
    EXPECT_FALSE(decompress(GetParam(), cut).ok());
}

INSTANTIATE_TEST_SUITE_P(Codecs, EveryCodec,
                         ::testing::Values(Compression::none, Compression::gzip, Compression::snappy,
                                           Compression::lz4, Compression::zstd),
                         [](const auto& p) { return std::string(log::compression_name(p.param)); });

TEST(Compression, SnappyReadsBothFramingsAndWritesXerial) {
    Bytes input = to_bytes(std::string(100'000, 'k') + "end");
    auto raw = snappy_compress_raw(input);
    auto xerial = snappy_compress_xerial(input);
    ASSERT_TRUE(raw.ok() && xerial.ok());
    EXPECT_FALSE(is_xerial_snappy(*raw));
    EXPECT_TRUE(is_xerial_snappy(*xerial));
    EXPECT_TRUE(is_xerial_snappy(*compress(Compression::snappy, input)));
    EXPECT_EQ(*snappy_decompress(*raw, kDefaultMaxBytes), input);
    EXPECT_EQ(*snappy_decompress(*xerial, kDefaultMaxBytes), input);
}

TEST(Compression, GzipAcceptsConcatenatedMembers) {
    auto a = gzip_compress(as_bytes("first "));
    auto b = gzip_compress(as_bytes("second"));
    Bytes both = *a;
    both.insert(both.end(), b->begin(), b->end());
    auto d = gzip_decompress(both, kDefaultMaxBytes);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    EXPECT_EQ(str(*d), "first second");
}

TEST(Compression, Lz4FramesAreWrittenWithKafkasSettings) {
    auto c = lz4_compress(to_bytes(std::string(200'000, 'w')));
    ASSERT_TRUE(c.ok());
    // Magic 0x184D2204; FLG: version 01, block independence set, no checksums, no size.
    ASSERT_GE(c->size(), 6u);
    EXPECT_EQ((*c)[0], 0x04);
    EXPECT_EQ((*c)[3], 0x18);
    EXPECT_EQ((*c)[4], 0x60);
    EXPECT_EQ((*c)[5] & 0x70, 0x40);  // BD: 64 KiB blocks
}

TEST(Compression, CompressionIsDeterministic) {
    Bytes input = to_bytes(std::string(10'000, 'd') + "x");
    for (Compression c : {Compression::gzip, Compression::snappy, Compression::lz4, Compression::zstd}) {
        EXPECT_EQ(*compress(c, input), *compress(c, input));
    }
}

}  // namespace
}  // namespace keel::compression
