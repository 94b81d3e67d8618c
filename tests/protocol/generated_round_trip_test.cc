// Properties every generated message codec must have, at every version Keel serves, over
// generated values (tests/protocol/generated/arbitrary.h) that reach nulls, empty and long
// arrays, long strings and unknown tagged fields:
//   - decode(encode(m)) succeeds, encodes to the same bytes, and encoded_size is exact;
//   - the decoded value is a fixed point (decode(encode(decode(encode(m))))) equals it), so
//     every field that a version carries comes back, unknown tagged fields included;
//   - truncations of an encoding (all of a short one, a sample of a long one) are rejected
//     with a reason (never a crash);
//   - trailing bytes and versions outside the served range are refused.
// The suite is one value-parameterized test over a table with a row per message type (the
// type-dependent work in plain function templates): typed tests instantiated RapidCheck's
// property machinery once per type and test, and took a minute and a half to compile.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/protocol/generated/arbitrary.h"

namespace keel::protocol {
namespace {

using generated_testing::GeneratedMessages;

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

// Property bodies for one message type; they run inside rc::check (RC_ASSERT throws).
template <typename M>
void round_trips(int16_t v) {
    M m = *rc::gen::arbitrary<M>();
    Bytes once = m.encode_to_bytes(v);
    RC_ASSERT(m.encoded_size(v) == once.size());
    auto back = M::decode_from_bytes(once, v);
    RC_ASSERT(back.ok());
    RC_ASSERT(back->encode_to_bytes(v) == once);
    auto again = M::decode_from_bytes(back->encode_to_bytes(v), v);
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == *back);
}

template <typename M>
void rejects_truncations(int16_t v) {
    Bytes full = rc::gen::arbitrary<M>().operator*().encode_to_bytes(v);
    for (size_t n : cut_points(full.size())) {
        auto r = M::decode_from_bytes(ByteView(full.data(), n), v);
        RC_ASSERT(!r.ok());
        RC_ASSERT(!r.error().message.empty());
    }
}

// A default value with one byte more than its encoding; true when refused.
template <typename M>
bool rejects_trailing_byte(int16_t v) {
    Bytes b = M{}.encode_to_bytes(v);
    b.push_back(0);
    return !M::decode_from_bytes(b, v).ok();
}

// The error of decoding at version_max + 1 (none when accepted).
template <typename M>
std::optional<Errc> error_above_max() {
    auto r = M::decode_from_bytes(ByteView(), static_cast<int16_t>(M::version_max + 1));
    return r.ok() ? std::nullopt : std::optional<Errc>(r.error().code);
}

struct Codec {
    std::string name;
    int16_t version_min;
    int16_t version_max;
    void (*round_trips)(int16_t);
    void (*rejects_truncations)(int16_t);
    bool (*rejects_trailing_byte)(int16_t);
    std::optional<Errc> (*error_above_max)();
};

template <typename M>
Codec codec() {
    return {std::string(M::schema_name), M::version_min,          M::version_max,
            &round_trips<M>,             &rejects_truncations<M>, &rejects_trailing_byte<M>,
            &error_above_max<M>};
}

template <typename... Ms>
std::vector<Codec> codecs(::testing::Types<Ms...>*) {
    return {codec<Ms>()...};
}

std::string label(const Codec& c, int16_t v) { return c.name + " v" + std::to_string(v); }

class GeneratedCodec : public ::testing::TestWithParam<Codec> {};

INSTANTIATE_TEST_SUITE_P(Every, GeneratedCodec, ::testing::ValuesIn(codecs(static_cast<GeneratedMessages*>(nullptr))),
                         [](const ::testing::TestParamInfo<Codec>& p) { return p.param.name; });

TEST_P(GeneratedCodec, RoundTripsAtEveryVersion) {
    const Codec& c = GetParam();
    for (int16_t v = c.version_min; v <= c.version_max; v++) {
        EXPECT_TRUE(rc::check(label(c, v), [&c, v] { c.round_trips(v); }));
    }
}

TEST_P(GeneratedCodec, EveryTruncationIsRejected) {
    const Codec& c = GetParam();
    for (int16_t v = c.version_min; v <= c.version_max; v++) {
        EXPECT_TRUE(rc::check(label(c, v), [&c, v] { c.rejects_truncations(v); }));
    }
}

TEST_P(GeneratedCodec, TrailingBytesAreRejected) {
    const Codec& c = GetParam();
    for (int16_t v = c.version_min; v <= c.version_max; v++) EXPECT_TRUE(c.rejects_trailing_byte(v)) << label(c, v);
}

TEST_P(GeneratedCodec, VersionsOutsideTheServedRangeAreRefused) {
    EXPECT_EQ(GetParam().error_above_max(), std::optional<Errc>(Errc::unsupported_version));
}

}  // namespace
}  // namespace keel::protocol
