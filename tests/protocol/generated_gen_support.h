// RapidCheck generators the generated rc::Arbitrary specializations
// (tests/protocol/generated/arbitrary.h) are built from. Sizes are chosen to reach the
// edges the codecs must get right: null and empty values, long strings and arrays (long
// arrays of primitives; arrays of structs stay short so nesting does not explode), and
// unknown tagged fields the decoder must keep.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/protocol/codec.h"
#include "core/protocol/wire.h"

namespace keel::protocol::generated_testing {

template <typename T, typename Raw>
rc::Gen<T> gen_wire() {
    return rc::gen::map(rc::gen::arbitrary<Raw>(), [](Raw raw) { return wire::from_wire<T, Raw>(raw); });
}

inline rc::Gen<std::string> gen_string() {
    return rc::gen::oneOf(
        rc::gen::just(std::string()),
        rc::gen::container<std::string>(rc::gen::inRange('!', '~')),
        rc::gen::map(rc::gen::inRange<size_t>(200, 600), [](size_t n) { return std::string(n, 'k'); }));
}

inline rc::Gen<Bytes> gen_bytes() {
    return rc::gen::oneOf(rc::gen::just(Bytes()), rc::gen::arbitrary<Bytes>(),
                          rc::gen::map(rc::gen::inRange<size_t>(300, 2000),
                                       [](size_t n) { return Bytes(n, 0x5a); }));
}

inline rc::Gen<Uuid> gen_uuid() {
    return rc::gen::map(rc::gen::pair(rc::gen::arbitrary<uint64_t>(), rc::gen::arbitrary<uint64_t>()),
                        [](std::pair<uint64_t, uint64_t> p) { return Uuid{p.first, p.second}; });
}

// Doubles from integers: every value equals itself (no NaN), as operator== needs.
inline rc::Gen<double> gen_f64() {
    return rc::gen::map(rc::gen::arbitrary<int32_t>(), [](int32_t i) { return i / 8.0; });
}

template <typename T>
rc::Gen<std::optional<T>> gen_optional(rc::Gen<T> g) {
    return rc::gen::weightedOneOf<std::optional<T>>(
        {{1, rc::gen::just(std::optional<T>())},
         {3, rc::gen::map(std::move(g), [](T v) { return std::optional<T>(std::move(v)); })}});
}

// Empty, short, or (for primitive elements) long: up to 300 elements.
template <typename T>
rc::Gen<std::vector<T>> gen_vector(rc::Gen<T> g, bool structs) {
    size_t long_max = structs ? 4 : 300;
    return rc::gen::mapcat(
        rc::gen::weightedOneOf<size_t>({{1, rc::gen::just<size_t>(0)},
                                        {3, rc::gen::inRange<size_t>(1, 4)},
                                        {1, rc::gen::inRange<size_t>(0, long_max + 1)}}),
        [g](size_t n) { return rc::gen::container<std::vector<T>>(n, g); });
}

// Unknown tagged fields: ascending tags that none of `known` uses, random payloads.
inline rc::Gen<RawTaggedFields> gen_unknown_tags(std::initializer_list<uint32_t> known) {
    std::vector<uint32_t> taken(known);
    return rc::gen::map(
        rc::gen::weightedOneOf<std::vector<std::pair<uint32_t, Bytes>>>(
            {{3, rc::gen::just(std::vector<std::pair<uint32_t, Bytes>>())},
             {1, rc::gen::container<std::vector<std::pair<uint32_t, Bytes>>>(
                     rc::gen::pair(rc::gen::inRange<uint32_t>(0, 40), rc::gen::arbitrary<Bytes>()))}}),
        [taken](std::vector<std::pair<uint32_t, Bytes>> raw) {
            std::sort(raw.begin(), raw.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
            RawTaggedFields out;
            for (auto& [tag, data] : raw) {
                if (std::find(taken.begin(), taken.end(), tag) != taken.end()) continue;
                if (!out.empty() && out.back().tag == tag) continue;
                out.push_back({tag, std::move(data)});
            }
            return out;
        });
}

}  // namespace keel::protocol::generated_testing
