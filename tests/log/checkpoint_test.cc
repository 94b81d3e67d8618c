// Checkpoint files: Kafka's offset-checkpoint text, written atomically on the SimDisk.
#include <gtest/gtest.h>

#include "core/log/checkpoint.h"
#include "tests/log/log_test_util.h"

namespace keel::log {
namespace {

TEST(Checkpoint, OffsetCheckpointUsesKafkasTextFormat) {
    std::string text = encode_offset_checkpoint("orders", 3, Offset(1234));
    EXPECT_EQ(text, "0\n1\norders 3 1234\n");
    auto back = decode_offset_checkpoint(text, "orders", 3);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, Offset(1234));
    EXPECT_EQ(decode_offset_checkpoint(text, "orders", 4).code(), Errc::corrupt);
    EXPECT_EQ(decode_offset_checkpoint("0\n1\norders 3 12x4\n", "orders", 3).code(), Errc::corrupt);
    EXPECT_EQ(decode_offset_checkpoint("0\n1\norders 3 1234", "orders", 3).code(), Errc::corrupt);
}

TEST(Checkpoint, AnAtomicWriteSurvivesACrashWholeOrNotAtAll) {
    testing::LogWorld w;
    ASSERT_TRUE(w.mount->make_dirs("d").ok());
    ASSERT_TRUE(w.mount->sync_dir("").ok());
    ASSERT_TRUE(write_file_atomically(*w.mount, "d/cp", as_bytes("old")).ok());
    w.crash();
    ASSERT_TRUE(write_file_atomically(*w.mount, "d/cp", as_bytes("new contents")).ok());
    w.crash();
    auto got = read_whole_file(*w.mount, "d/cp");
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ(testing::str(**got), "new contents");
    auto missing = read_whole_file(*w.mount, "d/none");
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
}

TEST(Checkpoint, ParsesOnlyWholeDecimalInt64s) {
    EXPECT_EQ(parse_int64("0"), 0);
    EXPECT_EQ(parse_int64("-17"), -17);
    EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
    EXPECT_FALSE(parse_int64("9223372036854775808").has_value());
    EXPECT_FALSE(parse_int64("").has_value());
    EXPECT_FALSE(parse_int64("-").has_value());
    EXPECT_FALSE(parse_int64("1 ").has_value());
}

}  // namespace
}  // namespace keel::log
