// Properties every generated message codec must have, at every version Keel serves, over
// generated values (tests/protocol/generated/arbitrary.h) that reach nulls, empty and long
// arrays, long strings and unknown tagged fields:
//   - decode(encode(m)) succeeds, encodes to the same bytes, and encoded_size is exact;
//   - the decoded value is a fixed point (decode(encode(decode(encode(m))))) equals it), so
//     every field that a version carries comes back, unknown tagged fields included;
//   - truncations of an encoding (all of a short one, a sample of a long one) are rejected
//     with a reason (never a crash).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <string>
#include <vector>

#include "tests/protocol/generated/arbitrary.h"

namespace keel::protocol {
namespace {

using generated_testing::GeneratedMessages;

template <typename M>
class GeneratedCodec : public ::testing::Test {};
TYPED_TEST_SUITE(GeneratedCodec, GeneratedMessages);

template <typename M>
std::string label(int16_t v) {
    return std::string(M::schema_name) + " v" + std::to_string(v);
}

TYPED_TEST(GeneratedCodec, RoundTripsAtEveryVersion) {
    using M = TypeParam;
    for (int16_t v = M::version_min; v <= M::version_max; v++) {
        EXPECT_TRUE(rc::check(label<M>(v), [v] {
            M m = *rc::gen::arbitrary<M>();
            Bytes once = m.encode_to_bytes(v);
            RC_ASSERT(m.encoded_size(v) == once.size());
            auto back = M::decode_from_bytes(once, v);
            RC_ASSERT(back.ok());
            RC_ASSERT(back->encode_to_bytes(v) == once);
            auto again = M::decode_from_bytes(back->encode_to_bytes(v), v);
            RC_ASSERT(again.ok());
            RC_ASSERT(*again == *back);
        }));
    }
}

// The prefix lengths a truncation test tries: every one of a short encoding; of a long
// one, the first 128, 128 spread over the rest and the last 16 (each decode of a prefix
// costs its length, so trying all of a long encoding's prefixes is quadratic; the many
// generated values per version cover the other cut points between them).
std::vector<size_t> cut_points(size_t size) {
    std::vector<size_t> cuts;
    if (size <= 272) {
        for (size_t n = 0; n < size; n++) cuts.push_back(n);
        return cuts;
    }
    for (size_t n = 0; n < 128; n++) cuts.push_back(n);
    size_t step = (size - 144) / 128 + 1;
    for (size_t n = 128; n < size - 16; n += step) cuts.push_back(n);
    for (size_t n = size - 16; n < size; n++) cuts.push_back(n);
    return cuts;
}

TYPED_TEST(GeneratedCodec, EveryTruncationIsRejected) {
    using M = TypeParam;
    for (int16_t v = M::version_min; v <= M::version_max; v++) {
        EXPECT_TRUE(rc::check(label<M>(v), [v] {
            Bytes full = rc::gen::arbitrary<M>().operator*().encode_to_bytes(v);
            for (size_t n : cut_points(full.size())) {
                auto r = M::decode_from_bytes(ByteView(full.data(), n), v);
                RC_ASSERT(!r.ok());
                RC_ASSERT(!r.error().message.empty());
            }
        }));
    }
}

TYPED_TEST(GeneratedCodec, TrailingBytesAreRejected) {
    using M = TypeParam;
    for (int16_t v = M::version_min; v <= M::version_max; v++) {
        Bytes b = M{}.encode_to_bytes(v);
        b.push_back(0);
        EXPECT_FALSE(M::decode_from_bytes(b, v).ok()) << label<M>(v);
    }
}

TYPED_TEST(GeneratedCodec, VersionsOutsideTheServedRangeAreRefused) {
    using M = TypeParam;
    auto r = M::decode_from_bytes(ByteView(), static_cast<int16_t>(M::version_max + 1));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unsupported_version);
}

}  // namespace
}  // namespace keel::protocol
