// Kafka's protocol primitives on top of core/base/bytes.h.
//
// Writer and Reader know two encodings of strings, bytes and arrays: the classic one
// (int16/int32 length, -1 = null) used by non-flexible versions, and the compact one
// (unsigned varint length + 1, 0 = null) used by flexible versions. The `str`, `bytes`,
// `array_length` ... family picks the encoding from the `flexible` flag given at
// construction; the explicitly named forms (`classic_string`, `compact_string`, ...) are
// for the few places where Kafka fixes the form (the client id in request header v2 is
// always classic).
//
// Tagged-field sections (flexible versions only): uvarint count, then per field uvarint
// tag, uvarint size, payload; tags strictly ascending. Unknown tags are skipped.
//
// Reader contract: it never reads out of bounds and never allocates more than the bytes
// it was given (lengths and counts are checked against what remains). The first problem
// it meets is kept as a human-readable reason; every later read returns a zero value.
// `finish()` turns that reason, or leftover bytes, into Errc::invalid_request.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/bytes.h"
#include "core/base/result.h"

namespace keel::protocol {

// Kafka's 128-bit UUID (topic ids, directory ids). All-zero is Kafka's ZERO_UUID ("none").
struct Uuid {
    uint64_t most = 0;
    uint64_t least = 0;
    auto operator<=>(const Uuid&) const = default;
    bool is_zero() const { return most == 0 && least == 0; }
};

// Kafka's Uuid.toString(): the 16 bytes (most significant first) in unpadded base64url,
// 22 characters. How topic ids appear in tools and in partition.metadata files.
std::string uuid_string(const Uuid& id);

// The fixed topic id of KRaft's __cluster_metadata topic (Kafka's Uuid.METADATA_TOPIC_ID).
inline constexpr Uuid metadata_topic_id{0, 1};

// Kafka limits a string to int16 length, also in its compact form.
inline constexpr size_t string_length_max = 0x7fff;

class Writer {
public:
    explicit Writer(bool flexible = false) : flexible_(flexible) {}

    bool flexible() const { return flexible_; }

    void i8(int8_t v) { w_.i8(v); }
    void i16(int16_t v) { w_.i16(v); }
    void i32(int32_t v) { w_.i32(v); }
    void i64(int64_t v) { w_.i64(v); }
    void u16(uint16_t v) { w_.u16(v); }
    void u32(uint32_t v) { w_.u32(v); }
    void boolean(bool v) { w_.boolean(v); }
    void uvarint(uint64_t v) { w_.uvarint(v); }
    void varint(int64_t v) { w_.varint(v); }
    void uuid(const Uuid& u) {
        w_.u64(u.most);
        w_.u64(u.least);
    }
    void raw(ByteView b) { w_.raw(b); }

    // Explicit forms.
    void classic_string(std::string_view s);
    void classic_nullable_string(const std::optional<std::string>& s);
    void compact_string(std::string_view s);
    void compact_nullable_string(const std::optional<std::string>& s);
    void classic_bytes(ByteView b);
    void compact_bytes(ByteView b);

    // Version-aware forms: compact iff flexible().
    void str(std::string_view s) { flexible_ ? compact_string(s) : classic_string(s); }
    void nullable_str(const std::optional<std::string>& s) {
        flexible_ ? compact_nullable_string(s) : classic_nullable_string(s);
    }
    void bytes(ByteView b) { flexible_ ? compact_bytes(b) : classic_bytes(b); }
    void null_bytes() { flexible_ ? w_.uvarint(0) : w_.i32(-1); }
    void array_length(size_t n);
    void null_array() { flexible_ ? w_.uvarint(0) : w_.i32(-1); }

    // Writes the length, then `each(element)` for every element.
    template <typename T, typename F>
    void array(const std::vector<T>& v, F&& each) {
        array_length(v.size());
        for (const T& e : v) each(e);
    }

    // A tagged-field section. `fields` must be sorted by strictly ascending tag. Only
    // written in flexible versions (a no-op otherwise, so callers need not branch).
    struct TaggedField {
        uint32_t tag;
        Bytes payload;
    };
    void tagged_fields(const std::vector<TaggedField>& fields);
    void empty_tagged_fields() {
        if (flexible_) w_.uvarint(0);
    }

    size_t size() const { return w_.size(); }
    Bytes take() { return w_.take(); }

private:
    bool flexible_;
    ByteWriter w_;
};

class Reader {
public:
    Reader(ByteView b, bool flexible) : r_(b), flexible_(flexible) {}

    bool flexible() const { return flexible_; }
    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    size_t remaining() const { return ok() ? r_.remaining() : 0; }
    size_t position() const { return r_.position(); }

    int8_t i8() { return fixed(1, [&] { return r_.i8(); }); }
    int16_t i16() { return fixed(2, [&] { return r_.i16(); }); }
    int32_t i32() { return fixed(4, [&] { return r_.i32(); }); }
    int64_t i64() { return fixed(8, [&] { return r_.i64(); }); }
    uint16_t u16() { return fixed(2, [&] { return r_.u16(); }); }
    uint32_t u32() { return fixed(4, [&] { return r_.u32(); }); }
    bool boolean() { return fixed(1, [&] { return r_.boolean(); }); }
    uint64_t uvarint();
    int64_t varint();
    Uuid uuid();
    ByteView raw(size_t n);

    // Explicit forms.
    std::string classic_string();
    std::optional<std::string> classic_nullable_string();
    std::string compact_string();
    std::optional<std::string> compact_nullable_string();

    // Version-aware forms: compact iff flexible().
    std::string str() { return flexible_ ? compact_string() : classic_string(); }
    std::optional<std::string> nullable_str() {
        return flexible_ ? compact_nullable_string() : classic_nullable_string();
    }
    Bytes bytes();                        // null is rejected
    std::optional<Bytes> nullable_bytes();
    // Array element count, or -1 for null. A count larger than the bytes left is rejected
    // (every element takes at least one byte), which bounds allocation.
    int64_t array_length();

    // Reads a non-null array: `each(element&)` fills every element.
    template <typename T, typename F>
    void array(std::vector<T>& out, F&& each) {
        int64_t n = array_length();
        if (n < 0) {
            if (ok()) fail("null array where the schema does not allow null");
            return;
        }
        read_elements(out, n, each);
    }
    // Reads a nullable array.
    template <typename T, typename F>
    void nullable_array(std::optional<std::vector<T>>& out, F&& each) {
        int64_t n = array_length();
        if (n < 0 || !ok()) {
            out.reset();
            return;
        }
        out.emplace();
        read_elements(*out, n, each);
    }

    // Reads a tagged-field section (no-op in non-flexible versions). For each field,
    // `on_tag(tag, sub)` is called with a reader over exactly its payload; it returns false
    // for an unknown tag (skipped). A known field's payload must be consumed completely.
    template <typename F>
    void tagged_fields(F&& on_tag) {
        if (!flexible_) return;
        uint64_t count = uvarint();
        if (ok() && count > r_.remaining()) fail("tagged field count exceeds the bytes left");
        int64_t last_tag = -1;
        for (uint64_t i = 0; ok() && i < count; i++) {
            uint64_t tag = uvarint();
            uint64_t size = uvarint();
            if (!ok()) return;
            if (tag > UINT32_MAX || static_cast<int64_t>(tag) <= last_tag) {
                return fail("tagged fields out of order or duplicated");
            }
            last_tag = static_cast<int64_t>(tag);
            ByteView payload = raw(size);
            if (!ok()) return;
            Reader sub(payload, true);
            if (!on_tag(static_cast<uint32_t>(tag), sub)) continue;
            if (!sub.ok()) return fail("tag " + std::to_string(tag) + ": " + sub.error());
            if (sub.remaining() != 0) return fail("tag " + std::to_string(tag) + " has trailing bytes");
        }
    }
    void skip_tagged_fields() {
        tagged_fields([](uint32_t, Reader&) { return false; });
    }

    // Records the first failure; later reads return zero values.
    void fail(std::string reason) {
        if (ok()) error_ = std::move(reason) + " (at byte " + std::to_string(r_.position()) + ")";
    }
    void expect(bool condition, const char* reason) {
        if (!condition) fail(reason);
    }

    // OK iff every read succeeded and no bytes are left; otherwise Errc::invalid_request
    // naming `what` and the reason.
    Status finish(std::string_view what);

private:
    template <typename F>
    auto fixed(size_t n, F&& read) -> decltype(read()) {
        if (!need(n)) return {};
        return read();
    }
    bool need(size_t n);
    Bytes bytes_of_length(int64_t n);
    template <typename T, typename F>
    void read_elements(std::vector<T>& out, int64_t n, F& each) {
        out.clear();
        out.reserve(static_cast<size_t>(n));
        for (int64_t i = 0; i < n && ok(); i++) {
            out.emplace_back();
            each(out.back());
        }
    }
    std::optional<std::string> string_of_length(int64_t n);

    ByteReader r_;
    bool flexible_;
    std::string error_;
};

// Builds one tagged field's payload: runs `fill(writer)` on a flexible Writer.
template <typename F>
Writer::TaggedField tagged(uint32_t tag, F&& fill) {
    Writer w(true);
    fill(w);
    return {tag, w.take()};
}

}  // namespace keel::protocol
