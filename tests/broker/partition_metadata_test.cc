// partition.metadata (core/broker/partition_metadata.h): written as Kafka writes it (the
// topic id as Uuid.toString(), unpadded base64url), read in that form and in Keel's older
// 32-hex-digit form; malformed files are errors naming the reason.
#include "core/broker/partition_metadata.h"

#include <gtest/gtest.h>

namespace keel::broker {
namespace {

using protocol::Uuid;

TEST(PartitionMetadata, WritesKafkasForm) {
    // Kafka's Uuid.METADATA_TOPIC_ID is new Uuid(0, 1): "AAAAAAAAAAAAAAAAAAAAAQ".
    EXPECT_EQ(protocol::uuid_string(Uuid{0, 1}), "AAAAAAAAAAAAAAAAAAAAAQ");
    EXPECT_EQ(protocol::uuid_string(Uuid{0, 0}), "AAAAAAAAAAAAAAAAAAAAAA");  // Uuid.ZERO_UUID
    EXPECT_EQ(protocol::uuid_string(Uuid{~0ULL, ~0ULL}), "_____________________w");
    EXPECT_EQ(format_partition_metadata(Uuid{0, 1}), "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n");
    EXPECT_EQ(protocol::uuid_string(Uuid{0x0123456789abcdefULL, 0xfedcba9876543210ULL}).size(), 22u);
}

TEST(PartitionMetadata, ReadsKafkasFormAndKeelsOlderHexForm) {
    for (Uuid id : {Uuid{0, 1}, Uuid{~0ULL, ~0ULL}, Uuid{0x0123456789abcdefULL, 0xfedcba9876543210ULL},
                    Uuid{0xfbfbfbfbfbfbfbfbULL, 0x3e3e3e3e3e3e3e3eULL}}) {
        auto back = parse_partition_metadata(format_partition_metadata(id));
        ASSERT_TRUE(back.ok()) << back.error().to_string();
        EXPECT_EQ(*back, id);
    }
    auto hex = parse_partition_metadata("version: 0\ntopic_id: 0123456789abcdefFEDCBA9876543210\n");
    ASSERT_TRUE(hex.ok()) << hex.error().to_string();
    EXPECT_EQ(*hex, (Uuid{0x0123456789abcdefULL, 0xfedcba9876543210ULL}));
    auto kafka = parse_partition_metadata("version: 0\r\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ");  // no final newline
    ASSERT_TRUE(kafka.ok()) << kafka.error().to_string();
    EXPECT_EQ(*kafka, (Uuid{0, 1}));
}

TEST(PartitionMetadata, MalformedFilesAreErrorsWithTheReason) {
    auto expect_error = [](std::string_view text, std::string_view says) {
        auto r = parse_partition_metadata(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_EQ(r.code(), Errc::invalid_argument);
        EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
    };
    expect_error("version: 1\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n", "version '1'");
    expect_error("topic_id: AAAAAAAAAAAAAAAAAAAAAQ\n", "version missing");
    expect_error("version: 0\n", "no topic_id");
    expect_error("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAA\n", "neither");   // 21 characters
    expect_error("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAA+Q\n", "neither");  // not base64url
    expect_error("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAR\n", "neither");  // trailing bits set
    expect_error("version: 0\ntopic_id: 0123456789abcdefFEDCBA987654321g\n", "neither");
    expect_error("", "version missing");
}

}  // namespace
}  // namespace keel::broker
