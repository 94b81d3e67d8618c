// Byte buffers and the two integer encodings Kafka uses: fixed-width big-endian (protocol
// fields, batch headers) and zigzag/unsigned LEB128 varints (records, flexible versions).
// ByteReader never reads past its end: every get reports failure instead (bad input from
// a peer or a disk is expected, not a bug).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

class ByteWriter {
public:
    ByteWriter() = default;
    explicit ByteWriter(Bytes initial) : buf_(std::move(initial)) {}

    void u8(uint8_t v) { buf_.push_back(v); }
    void i8(int8_t v) { u8(static_cast<uint8_t>(v)); }
    void u16(uint16_t v) { be(v, 2); }
    void i16(int16_t v) { be(static_cast<uint16_t>(v), 2); }
    void u32(uint32_t v) { be(v, 4); }
    void i32(int32_t v) { be(static_cast<uint32_t>(v), 4); }
    void u64(uint64_t v) { be(v, 8); }
    void i64(int64_t v) { be(static_cast<uint64_t>(v), 8); }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void uvarint(uint64_t v) {
        while (v >= 0x80) {
            buf_.push_back(static_cast<uint8_t>(v | 0x80));
            v >>= 7;
        }
        buf_.push_back(static_cast<uint8_t>(v));
    }
    void varint(int64_t v) { uvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
    void raw(ByteView b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
    void raw(std::string_view s) { raw(as_bytes(s)); }
    // Kafka classic string: int16 length + bytes.
    void string(std::string_view s) {
        i16(static_cast<int16_t>(s.size()));
        raw(s);
    }
    void nullable_string(const std::optional<std::string>& s) {
        if (!s) return i16(-1);
        string(*s);
    }
    // Kafka classic bytes: int32 length + bytes.
    void bytes(ByteView b) {
        i32(static_cast<int32_t>(b.size()));
        raw(b);
    }

    size_t size() const { return buf_.size(); }
    uint8_t* data() { return buf_.data(); }
    // Overwrite a big-endian value at a position already written (length prefixes).
    void patch_u32(size_t pos, uint32_t v) {
        for (int i = 0; i < 4; i++) buf_[pos + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    }
    Bytes& buffer() { return buf_; }
    Bytes take() { return std::move(buf_); }

private:
    void be(uint64_t v, int n) {
        for (int i = n - 1; i >= 0; i--) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    Bytes buf_;
};

class ByteReader {
public:
    explicit ByteReader(ByteView b) : b_(b) {}

    bool ok() const { return ok_; }       // false once any read ran past the end
    size_t remaining() const { return ok_ ? b_.size() - pos_ : 0; }
    size_t position() const { return pos_; }
    bool at_end() const { return pos_ == b_.size(); }

    uint8_t u8() { return static_cast<uint8_t>(be(1)); }
    int8_t i8() { return static_cast<int8_t>(u8()); }
    uint16_t u16() { return static_cast<uint16_t>(be(2)); }
    int16_t i16() { return static_cast<int16_t>(be(2)); }
    uint32_t u32() { return static_cast<uint32_t>(be(4)); }
    int32_t i32() { return static_cast<int32_t>(be(4)); }
    uint64_t u64() { return be(8); }
    int64_t i64() { return static_cast<int64_t>(be(8)); }
    bool boolean() { return u8() != 0; }
    uint64_t uvarint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!need(1)) return 0;
            uint8_t byte = b_[pos_++];
            v |= static_cast<uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return v;
        }
        ok_ = false;  // more than 10 bytes: malformed
        return 0;
    }
    int64_t varint() {
        uint64_t u = uvarint();
        return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    }
    ByteView raw(size_t n) {
        if (!need(n)) return {};
        ByteView v = b_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    std::string string() {
        int16_t n = i16();
        if (n < 0) {
            ok_ = false;
            return {};
        }
        return std::string(as_chars(raw(static_cast<size_t>(n))));
    }
    std::optional<std::string> nullable_string() {
        int16_t n = i16();
        if (n == -1) return std::nullopt;
        if (n < 0) {
            ok_ = false;
            return std::nullopt;
        }
        return std::string(as_chars(raw(static_cast<size_t>(n))));
    }
    Bytes bytes() {
        int32_t n = i32();
        if (n < 0) {
            ok_ = false;
            return {};
        }
        ByteView v = raw(static_cast<size_t>(n));
        return Bytes(v.begin(), v.end());
    }
    void fail() { ok_ = false; }

private:
    bool need(size_t n) {
        if (!ok_ || b_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        return true;
    }
    uint64_t be(int n) {
        if (!need(static_cast<size_t>(n))) return 0;
        uint64_t v = 0;
        for (int i = 0; i < n; i++) v = (v << 8) | b_[pos_++];
        return v;
    }
    ByteView b_;
    size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace keel
