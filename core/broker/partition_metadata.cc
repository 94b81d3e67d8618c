#include "core/broker/partition_metadata.h"

#include <cctype>
#include <optional>

namespace keel::broker {
namespace {

int base64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

std::optional<protocol::Uuid> from_bytes(const uint8_t (&b)[16]) {
    protocol::Uuid u;
    for (int i = 0; i < 8; ++i) {
        u.most = (u.most << 8) | b[i];
        u.least = (u.least << 8) | b[8 + i];
    }
    return u;
}

// 22 characters carry 132 bits; the last character's low 4 bits must be zero, as Java's
// decoder (and a canonical encoding) has them.
std::optional<protocol::Uuid> decode_base64url(std::string_view s) {
    if (s.size() != 22) return std::nullopt;
    uint8_t bytes[16] = {};
    uint32_t acc = 0;
    int bits = 0, out = 0;
    for (char c : s) {
        int v = base64url_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out < 16) bytes[out++] = static_cast<uint8_t>(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (out != 16 || acc != 0) return std::nullopt;
    return from_bytes(bytes);
}

std::optional<protocol::Uuid> decode_hex(std::string_view s) {
    if (s.size() != 32) return std::nullopt;
    uint8_t bytes[16] = {};
    for (size_t i = 0; i < 32; i++) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
        int v = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
        if (v < 0) return std::nullopt;
        bytes[i / 2] = static_cast<uint8_t>(bytes[i / 2] | (i % 2 == 0 ? v << 4 : v));
    }
    return from_bytes(bytes);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

}  // namespace

Result<protocol::Uuid> parse_topic_id(std::string_view text) {
    text = trim(text);
    std::optional<protocol::Uuid> id = text.size() == 32 ? decode_hex(text) : decode_base64url(text);
    if (!id) {
        return Error{Errc::invalid_argument, "topic id '" + std::string(text) +
                                                 "' is neither 22 base64url characters nor 32 hex digits"};
    }
    return *id;
}

std::string format_partition_metadata(const protocol::Uuid& topic_id) {
    return "version: 0\ntopic_id: " + protocol::uuid_string(topic_id) + "\n";
}

Result<protocol::Uuid> parse_partition_metadata(std::string_view text) {
    std::optional<std::string_view> version, topic_id;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view key = trim(line.substr(0, colon));
        if (key == "version") version = trim(line.substr(colon + 1));
        if (key == "topic_id") topic_id = trim(line.substr(colon + 1));
    }
    if (!version || *version != "0") {
        return Error{Errc::invalid_argument, "partition.metadata: version " +
                                                 (version ? "'" + std::string(*version) + "'" : "missing") +
                                                 " (only 0 is known)"};
    }
    if (!topic_id) return Error{Errc::invalid_argument, "partition.metadata: no topic_id"};
    auto id = parse_topic_id(*topic_id);
    if (!id.ok()) return Error{Errc::invalid_argument, "partition.metadata: " + id.error().message};
    return id;
}

}  // namespace keel::broker
