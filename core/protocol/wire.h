// Runtime support for the generated codecs (core/protocol/generated/, made by
// core/protocol/codegen/kafka_codegen.py from core/protocol/schemas/*.json).
//
// The generated code never relies on the Reader's or Writer's own `flexible` flag: every
// call names the encoding (classic or compact) it wants, because Kafka decides that per
// message version and, for a few fields (the client id in request header v2), per field.
//
// Reading follows codec.h's contract: never out of bounds, never an allocation larger than
// the bytes that remain, the first failure is kept with its reason and later reads return
// zero values.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/base/bytes.h"
#include "core/protocol/codec.h"

namespace keel::protocol {

// A tagged field the schema (at the version read) does not know: kept as raw bytes and
// written back unchanged, as Kafka's generated code does (its _unknownTaggedFields).
struct RawTaggedField {
    uint32_t tag = 0;
    Bytes data;
    bool operator==(const RawTaggedField&) const = default;
};
using RawTaggedFields = std::vector<RawTaggedField>;

namespace wire {

// Conversions between a wire integer and the C++ type of a field: a StrongInt (NodeId,
// LeaderEpoch, ...), an enum (ErrorCode) or the integer itself.
template <typename T>
concept HasValue = requires(const T& t) { t.value(); };

template <typename T, typename Raw>
T from_wire(Raw raw) {
    if constexpr (std::is_enum_v<T>) {
        return static_cast<T>(raw);
    } else if constexpr (std::is_same_v<T, Raw>) {
        return raw;
    } else {
        return T(raw);
    }
}

template <typename Raw, typename T>
Raw to_wire(const T& v) {
    if constexpr (std::is_enum_v<T>) {
        return static_cast<Raw>(v);
    } else if constexpr (HasValue<T>) {
        return static_cast<Raw>(v.value());
    } else {
        return static_cast<Raw>(v);
    }
}

inline void write_f64(Writer& w, double d) { w.i64(std::bit_cast<int64_t>(d)); }
inline double read_f64(Reader& r) { return std::bit_cast<double>(r.i64()); }

// Strings. A null written in a version where the field is not nullable is written as "".
void write_string(Writer& w, bool flex, std::string_view s);
// `nullable`: whether null exists at this version; where it does not, a null is written as "".
void write_nullable_string(Writer& w, bool flex, const std::optional<std::string>& s, bool nullable = true);
std::string read_string(Reader& r, bool flex);
// `nullable`: whether null is allowed at this version (otherwise it is rejected).
std::optional<std::string> read_nullable_string(Reader& r, bool flex, bool nullable);

// Bytes and records.
void write_bytes(Writer& w, bool flex, ByteView b);
// A null where the version has no null is written as empty bytes.
void write_nullable_bytes(Writer& w, bool flex, const std::optional<Bytes>& b, bool nullable = true);
Bytes read_bytes(Reader& r, bool flex);
std::optional<Bytes> read_nullable_bytes(Reader& r, bool flex, bool nullable);

// Arrays: the length (-1 for null; a count larger than the bytes left is rejected).
void write_array_length(Writer& w, bool flex, size_t n);
void write_null_array(Writer& w, bool flex);
int64_t read_array_length(Reader& r, bool flex);

template <typename T, typename F>
void write_array(Writer& w, bool flex, const std::vector<T>& v, F&& each) {
    write_array_length(w, flex, v.size());
    for (const T& e : v) each(e);
}

// A null where the version has no null (`nullable` false) is written as an empty array.
template <typename T, typename F>
void write_nullable_array(Writer& w, bool flex, bool nullable, const std::optional<std::vector<T>>& v,
                          F&& each) {
    if (!v) return nullable ? write_null_array(w, flex) : write_array_length(w, flex, 0);
    write_array(w, flex, *v, each);
}

template <typename T, typename F>
void read_elements(Reader& r, int64_t n, std::vector<T>& out, F& each) {
    out.clear();
    out.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n && r.ok(); i++) {
        out.emplace_back();
        each(out.back());
    }
}

template <typename T, typename F>
void read_array(Reader& r, bool flex, std::vector<T>& out, F&& each) {
    int64_t n = read_array_length(r, flex);
    if (!r.ok()) return;
    if (n < 0) return r.fail("null array where the schema does not allow null");
    read_elements(r, n, out, each);
}

template <typename T, typename F>
void read_nullable_array(Reader& r, bool flex, bool nullable, std::optional<std::vector<T>>& out,
                         F&& each) {
    int64_t n = read_array_length(r, flex);
    out.reset();
    if (!r.ok()) return;
    if (n < 0) {
        if (!nullable) r.fail("null array where the schema does not allow null");
        return;
    }
    out.emplace();
    read_elements(r, n, *out, each);
}

// Nullable structs: int8 -1 (null) or 1, then the struct.
inline void write_struct_presence(Writer& w, bool present) { w.i8(present ? 1 : -1); }
// True if a struct follows; rejects a null where not `nullable` and any other marker.
bool read_struct_presence(Reader& r, bool nullable);

// Tagged-field sections. `known` must ascend by tag; `unknown` (ascending, as read) is
// merged in tag order. An unknown field with the tag of a known one being written is
// dropped (the known value wins).
void write_tagged_fields(Writer& w, std::vector<Writer::TaggedField> known,
                         const RawTaggedFields& unknown);

// Builds one tagged field: `fill` writes the payload to a Writer.
template <typename F>
Writer::TaggedField tag(uint32_t number, F&& fill) {
    Writer t(true);
    fill(t);
    return {number, t.take()};
}

// Reads a tagged-field section: `on_tag(tag, sub)` reads a known field from a Reader over
// exactly its payload and returns true; false keeps the field in `unknown`. Tags must
// ascend strictly; a known field must consume its payload exactly.
bool read_tag_header(Reader& r, uint64_t& count);
bool read_one_tag(Reader& r, int64_t& last_tag, uint32_t& tag, ByteView& payload);
void check_tag_consumed(Reader& r, uint32_t tag, const Reader& sub);

template <typename F>
void read_tagged_fields(Reader& r, RawTaggedFields& unknown, F&& on_tag) {
    uint64_t count = 0;
    if (!read_tag_header(r, count)) return;
    int64_t last_tag = -1;
    for (uint64_t i = 0; i < count && r.ok(); i++) {
        uint32_t number = 0;
        ByteView payload;
        if (!read_one_tag(r, last_tag, number, payload)) return;
        Reader sub(payload, true);
        if (on_tag(number, sub)) {
            check_tag_consumed(r, number, sub);
        } else {
            unknown.push_back({number, Bytes(payload.begin(), payload.end())});
        }
    }
}

}  // namespace wire
}  // namespace keel::protocol
