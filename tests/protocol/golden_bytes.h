// The golden-bytes tests' check (broker_heartbeat_, broker_registration_ and
// describe_quorum_golden_test.cc): a message encodes at `version` to exactly the recorded
// hex, and those bytes decode back to `seen` (the message as that version can carry it).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "core/protocol/frame.h"

namespace keel::protocol::testing {

inline std::string to_hex(ByteView b) {
    std::string out;
    char buf[3];
    for (uint8_t c : b) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out;
}

template <typename M>
void expect_golden(const M& m, int16_t version, std::string_view expected, const M& seen) {
    SCOPED_TRACE(std::string(M::name) + " v" + std::to_string(version));
    Bytes bytes = encode_body(m, version);
    EXPECT_EQ(to_hex(bytes), expected);
    auto back = decode_body<M>(bytes, version);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, seen);
}

}  // namespace keel::protocol::testing
