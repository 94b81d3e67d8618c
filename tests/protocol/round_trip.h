// Round-trip properties every message codec test checks (RapidCheck inside a gtest).
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>

#include "core/protocol/frame.h"

namespace keel::protocol::testing {

// For every supported version: decoding what was encoded and encoding it again gives the
// same bytes (every field written is read back, none is invented).
template <typename M, typename Gen>
void check_bytes_round_trip(Gen gen) {
    EXPECT_TRUE(rc::check([&] {
        M m = gen();
        for (int16_t v = M::version_min; v <= M::version_max; v++) {
            Bytes once = encode_body(m, v);
            auto back = decode_body<M>(once, v);
            RC_ASSERT(back.ok());
            RC_ASSERT(encode_body(*back, v) == once);
        }
    }));
}

// At `version` (after `project` removed the fields it lacks) the value itself round-trips.
template <typename M, typename Gen, typename Project>
void check_value_round_trip(int16_t version, Gen gen, Project project) {
    EXPECT_TRUE(rc::check([&] {
        M m = gen();
        project(m);
        auto back = decode_body<M>(encode_body(m, version), version);
        RC_ASSERT(back.ok());
        RC_ASSERT(*back == m);
    }));
}

inline constexpr auto no_projection = [](auto&) {};

}  // namespace keel::protocol::testing
