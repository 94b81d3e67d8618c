#include "core/protocol/codec.h"

#include <limits>

namespace keel::protocol {

std::string uuid_string(const Uuid& id) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t bytes[16];
    for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<uint8_t>(id.most >> (56 - 8 * i));
        bytes[8 + i] = static_cast<uint8_t>(id.least >> (56 - 8 * i));
    }
    std::string out;
    for (int i = 0; i < 16; i += 3) {
        uint32_t n = uint32_t{bytes[i]} << 16;
        if (i + 1 < 16) n |= uint32_t{bytes[i + 1]} << 8;
        if (i + 2 < 16) n |= bytes[i + 2];
        int chars = i + 2 < 16 ? 4 : (i + 1 < 16 ? 3 : 2);
        for (int c = 0; c < chars; ++c) out += kAlphabet[(n >> (18 - 6 * c)) & 0x3f];
    }
    return out;
}

// ---------------------------------------------------------------- Writer

void Writer::classic_string(std::string_view s) {
    KEEL_ASSERT_MSG(s.size() <= string_length_max, "string longer than Kafka allows");
    w_.string(s);
}

void Writer::classic_nullable_string(const std::optional<std::string>& s) {
    if (!s) return w_.i16(-1);
    classic_string(*s);
}

void Writer::compact_string(std::string_view s) {
    KEEL_ASSERT_MSG(s.size() <= string_length_max, "string longer than Kafka allows");
    w_.uvarint(s.size() + 1);
    w_.raw(s);
}

void Writer::compact_nullable_string(const std::optional<std::string>& s) {
    if (!s) return w_.uvarint(0);
    compact_string(*s);
}

void Writer::classic_bytes(ByteView b) {
    KEEL_ASSERT(b.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
    w_.bytes(b);
}

void Writer::compact_bytes(ByteView b) {
    w_.uvarint(b.size() + 1);
    w_.raw(b);
}

void Writer::array_length(size_t n) {
    KEEL_ASSERT(n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
    if (flexible_) {
        w_.uvarint(n + 1);
    } else {
        w_.i32(static_cast<int32_t>(n));
    }
}

void Writer::tagged_fields(const std::vector<TaggedField>& fields) {
    if (!flexible_) return;
    w_.uvarint(fields.size());
    int64_t last = -1;
    for (const TaggedField& f : fields) {
        KEEL_ASSERT_MSG(static_cast<int64_t>(f.tag) > last, "tagged fields must ascend");
        last = f.tag;
        w_.uvarint(f.tag);
        w_.uvarint(f.payload.size());
        w_.raw(f.payload);
    }
}

// ---------------------------------------------------------------- Reader

bool Reader::need(size_t n) {
    if (!ok()) return false;
    if (r_.remaining() < n) {
        fail("truncated: " + std::to_string(n) + " bytes needed, " +
             std::to_string(r_.remaining()) + " left");
        return false;
    }
    return true;
}

uint64_t Reader::uvarint() {
    if (!need(1)) return 0;
    uint64_t v = r_.uvarint();
    if (!r_.ok()) {
        fail("truncated or over-long unsigned varint");
        return 0;
    }
    return v;
}

int64_t Reader::varint() {
    uint64_t u = uvarint();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

Uuid Reader::uuid() {
    if (!need(16)) return {};
    Uuid u;
    u.most = r_.u64();
    u.least = r_.u64();
    return u;
}

ByteView Reader::raw(size_t n) {
    if (!need(n)) return {};
    return r_.raw(n);
}

std::optional<std::string> Reader::string_of_length(int64_t n) {
    if (!ok()) return std::nullopt;
    if (n < 0) {
        fail("negative string length " + std::to_string(n));
        return std::nullopt;
    }
    if (static_cast<uint64_t>(n) > string_length_max) {
        fail("string length " + std::to_string(n) + " exceeds 32767");
        return std::nullopt;
    }
    ByteView v = raw(static_cast<size_t>(n));
    if (!ok()) return std::nullopt;
    return std::string(as_chars(v));
}

std::string Reader::classic_string() {
    int16_t n = i16();
    if (ok() && n == -1) fail("null string where the schema does not allow null");
    return string_of_length(n).value_or(std::string());
}

std::optional<std::string> Reader::classic_nullable_string() {
    int16_t n = i16();
    if (!ok() || n == -1) return std::nullopt;
    return string_of_length(n);
}

std::string Reader::compact_string() {
    uint64_t n = uvarint();
    if (ok() && n == 0) fail("null string where the schema does not allow null");
    if (!ok()) return {};
    return string_of_length(static_cast<int64_t>(std::min<uint64_t>(n - 1, INT64_MAX)))
        .value_or(std::string());
}

std::optional<std::string> Reader::compact_nullable_string() {
    uint64_t n = uvarint();
    if (!ok() || n == 0) return std::nullopt;
    return string_of_length(static_cast<int64_t>(std::min<uint64_t>(n - 1, INT64_MAX)));
}

Bytes Reader::bytes_of_length(int64_t n) {
    if (!ok()) return {};
    if (n < 0) {
        fail("negative bytes length " + std::to_string(n));
        return {};
    }
    if (static_cast<uint64_t>(n) > r_.remaining()) {
        fail("bytes length " + std::to_string(n) + " exceeds the " +
             std::to_string(r_.remaining()) + " bytes left");
        return {};
    }
    ByteView v = raw(static_cast<size_t>(n));
    return Bytes(v.begin(), v.end());
}

std::optional<Bytes> Reader::nullable_bytes() {
    int64_t n = 0;
    if (flexible_) {
        uint64_t u = uvarint();
        if (!ok()) return std::nullopt;
        if (u == 0) return std::nullopt;
        n = static_cast<int64_t>(std::min<uint64_t>(u - 1, INT64_MAX));
    } else {
        n = i32();
        if (!ok()) return std::nullopt;
        if (n == -1) return std::nullopt;
    }
    Bytes b = bytes_of_length(n);
    if (!ok()) return std::nullopt;
    return b;
}

Bytes Reader::bytes() {
    size_t before = r_.position();
    std::optional<Bytes> b = nullable_bytes();
    if (ok() && !b) {
        fail("null bytes where the schema does not allow null (field at byte " +
             std::to_string(before) + ")");
    }
    return b.value_or(Bytes());
}

int64_t Reader::array_length() {
    int64_t n = 0;
    if (flexible_) {
        uint64_t u = uvarint();
        if (!ok()) return 0;
        if (u == 0) return -1;
        n = static_cast<int64_t>(std::min<uint64_t>(u - 1, INT64_MAX));
    } else {
        n = i32();
        if (!ok()) return 0;
        if (n == -1) return -1;
        if (n < 0) {
            fail("negative array length " + std::to_string(n));
            return 0;
        }
    }
    if (static_cast<uint64_t>(n) > r_.remaining()) {
        fail("array of " + std::to_string(n) + " elements cannot fit in the " +
             std::to_string(r_.remaining()) + " bytes left");
        return 0;
    }
    return n;
}

Status Reader::finish(std::string_view what) {
    if (!ok()) return Status(Errc::invalid_request, std::string(what) + ": " + error_);
    if (r_.remaining() != 0) {
        return Status(Errc::invalid_request, std::string(what) + ": " +
                                                 std::to_string(r_.remaining()) +
                                                 " trailing bytes");
    }
    return ok_status();
}

}  // namespace keel::protocol
