// CRC-32C: published check values, and the hardware and portable paths agree.
#include <gtest/gtest.h>

#include "core/log/crc32c.h"

namespace keel::log {
namespace {

TEST(Crc32c, MatchesThePublishedCheckValue) {
    EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);
    EXPECT_EQ(crc32c_portable_extend(0, as_bytes("123456789")), 0xE3069283u);
}

// RFC 3720 (iSCSI) B.4 test patterns.
TEST(Crc32c, MatchesTheIscsiTestPatterns) {
    Bytes zeros(32, 0x00), ones(32, 0xff), inc(32), dec(32);
    for (int i = 0; i < 32; i++) {
        inc[i] = static_cast<uint8_t>(i);
        dec[i] = static_cast<uint8_t>(31 - i);
    }
    EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
    EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
    EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
    EXPECT_EQ(crc32c(dec), 0x113FDB5Cu);
}

TEST(Crc32c, OfNothingIsZero) { EXPECT_EQ(crc32c(ByteView()), 0u); }

TEST(Crc32c, HardwareAndPortablePathsAgreeOnEveryLengthAndAlignment) {
    Bytes data(300);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<uint8_t>(i * 7 + 3);
    for (size_t start = 0; start < 9; start++) {
        for (size_t len = 0; start + len <= data.size(); len += 13) {
            ByteView v(data.data() + start, len);
            uint32_t portable = crc32c_portable_extend(0, v);
            EXPECT_EQ(crc32c(v), portable);
            if (crc32c_hardware_available()) {
                EXPECT_EQ(crc32c_hardware_extend(0, v), portable);
            }
        }
    }
}

TEST(Crc32c, TheThreeStreamHardwarePathAgreesOnLargeBuffers) {
    Bytes data(60'000);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    for (size_t len : {767u, 768u, 769u, 12'287u, 12'288u, 12'289u, 16'384u, 40'000u, 60'000u}) {
        for (size_t start : {0u, 3u}) {
            if (start + len > data.size()) continue;
            ByteView v(data.data() + start, len);
            EXPECT_EQ(crc32c(v), crc32c_portable_extend(0, v)) << "len " << len << " start " << start;
        }
    }
}

TEST(Crc32c, ExtendingEqualsComputingOverTheConcatenation) {
    std::string a = "Kafka record batch ", b = "covered from attributes on";
    EXPECT_EQ(crc32c_extend(crc32c(as_bytes(a)), as_bytes(b)), crc32c(as_bytes(a + b)));
}

TEST(Crc32c, DetectsEverySingleBitFlipOfABatchSizedBuffer) {
    Bytes data(128);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<uint8_t>(i);
    uint32_t good = crc32c(data);
    for (size_t bit = 0; bit < data.size() * 8; bit++) {
        data[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
        EXPECT_NE(crc32c(data), good) << "bit " << bit;
        data[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
    }
}

}  // namespace
}  // namespace keel::log
